# SPDX-License-Identifier: MIT
"""Fetch what the benchmark compares the shim with, from Debian's packages only.

Everything lands in cache/bench/ (git-ignored), keyed by package version, so a
second run touches neither the network nor the disk beyond a stat:

    linux()       Debian's Linux PV kernel (linux-image-amd64's dependency, 6.1 on
                  bookworm): /boot/vmlinuz-* of the package
    initramfs()   a minimal initramfs: busybox-static as /bin/busybox and an /init
                  script that says one line and powers off (cpio newc, gzip or not)
    grub_xen()    GRUB's 64-bit PV image, /usr/lib/grub-xen/grub-x86_64-xen.bin
                  (Debian ships it in grub-xen-host, built from grub-xen-bin's
                  modules; the package depends on grub-xen-bin)
    grub_linux()  a GRUB PV image made the same way (grub-common's grub-mkimage,
                  grub-xen-bin's modules) that boots a given kernel and initrd
                  from its memdisk: GRUB's own loader, no disk needed

Packages come with `apt-get download` and are unpacked with dpkg (`dpkg -x`, or
`dpkg-deb --fsys-tarfile | tar` for the one file wanted from the 70 MB kernel
package, whose modules the benchmark does not need). Nothing is installed: a
host tool that lacks a shared library runs with the library's package unpacked
here (LD_LIBRARY_PATH).
"""
import gzip
import hashlib
import io
import os
import re
import shutil
import stat
import tarfile
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
CACHE = os.path.join(REPO, "cache", "bench")


class FetchError(Exception):
    pass


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode:
        raise FetchError(f"{' '.join(cmd)} failed (exit {p.returncode}): {p.stderr.strip()[-400:]}")
    return p.stdout


def candidate(pkg):
    """The version apt would install (running `apt-get update` once if apt knows none)."""
    for attempt in (0, 1):
        out = subprocess.run(["apt-cache", "policy", pkg], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout
        m = re.search(r"Candidate:\s*(\S+)", out)
        if m and m.group(1) != "(none)":
            return m.group(1)
        if attempt == 0:
            log("apt knows no candidate for %s: apt-get update" % pkg)
            subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL)
    raise FetchError(f"no installable version of {pkg} in apt's lists")


def depends_of(pkg):
    """The real package a metapackage (linux-image-amd64) points at."""
    out = _run(["apt-cache", "depends", pkg])
    for line in out.splitlines():
        m = re.match(r"\s*Depends:\s*(\S+)", line)
        if m:
            return m.group(1)
    raise FetchError(f"{pkg} has no Depends line")


def download(pkg):
    """(path of the .deb, version), downloaded once into cache/bench/debs/."""
    ver = candidate(pkg)
    debs = os.path.join(CACHE, "debs")
    os.makedirs(debs, exist_ok=True)
    for name in os.listdir(debs):
        if name.startswith(pkg + "_") and name.endswith(".deb"):
            v = name[len(pkg) + 1:].rsplit("_", 1)[0].replace("%3a", ":")
            if v == ver:
                return os.path.join(debs, name), ver
    log(f"apt-get download {pkg}={ver}")
    with tempfile.TemporaryDirectory(dir=debs) as tmp:
        # Root downloads straight into our directory (no _apt sandbox to grant access).
        _run(["apt-get", "-q", "-o", "APT::Sandbox::User=root", "download", f"{pkg}={ver}"], cwd=tmp)
        got = [n for n in os.listdir(tmp) if n.endswith(".deb")]
        if len(got) != 1:
            raise FetchError(f"apt-get download {pkg} left {got}")
        os.replace(os.path.join(tmp, got[0]), os.path.join(debs, got[0]))
        return os.path.join(debs, got[0]), ver


def unpacked(pkg, members=None):
    """(root directory of the unpacked package, version). `members`: only these
    paths (shell patterns, as in the package: './boot/vmlinuz-*')."""
    deb, ver = download(pkg)
    root = os.path.join(CACHE, "root", f"{pkg}_{ver.replace(':', '%3a')}")
    done = root + ".done"
    if os.path.exists(done):
        return root, ver
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    if members:
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
        p = subprocess.run(["tar", "-x", "-C", root, "--wildcards", *members], stdin=tar.stdout,
                           stderr=subprocess.PIPE, text=True)
        tar.stdout.close()
        if tar.wait() or p.returncode:
            raise FetchError(f"extracting {members} from {deb} failed: {p.stderr.strip()}")
    else:
        _run(["dpkg", "-x", deb, root])
    open(done, "w").close()
    return root, ver


# ------------------------------------------------------------------ what the bench uses

def linux():
    """(vmlinuz path, 'package=version')."""
    pkg = depends_of("linux-image-amd64")
    root, ver = unpacked(pkg, ["./boot/vmlinuz-*"])
    boot = os.path.join(root, "boot")
    found = sorted(n for n in os.listdir(boot) if n.startswith("vmlinuz-"))
    if not found:
        raise FetchError(f"no /boot/vmlinuz-* in {pkg}")
    return os.path.join(boot, found[0]), f"{pkg}={ver}"


def grub_xen():
    """(grub-x86_64-xen.bin path, 'package=version')."""
    root, ver = unpacked("grub-xen-host")
    path = os.path.join(root, "usr", "lib", "grub-xen", "grub-x86_64-xen.bin")
    if not os.path.isfile(path):
        raise FetchError("grub-xen-host has no /usr/lib/grub-xen/grub-x86_64-xen.bin")
    return path, f"grub-xen-host={ver} (grub-xen-bin={candidate('grub-xen-bin')})"


# The shared libraries grub-mkimage links, and the Debian packages that hold them.
LIB_PACKAGES = {"libdevmapper.so.1.02.1": "libdevmapper1.02.1", "libudev.so.1": "libudev1",
                "libselinux.so.1": "libselinux1", "libpcre2-8.so.0": "libpcre2-8-0",
                "liblzma.so.5": "liblzma5"}


def tool_env(binary):
    """An environment in which an unpacked host binary finds its shared libraries: those the
    host lacks come from their packages, unpacked (never installed)."""
    env, paths = dict(os.environ), []
    for _ in range(4):                  # an unpacked library may need another
        out = subprocess.run(["ldd", binary], env=env, stdout=subprocess.PIPE, text=True).stdout
        missing = re.findall(r"^\s*(\S+) => not found", out, re.M)
        if not missing:
            return env
        for so in missing:
            if so not in LIB_PACKAGES:
                raise FetchError(f"{os.path.basename(binary)} needs {so}, which the bench cannot fetch")
            root, _ = unpacked(LIB_PACKAGES[so])
            paths += [os.path.join(root, d, "x86_64-linux-gnu") for d in ("lib", "usr/lib")]
        env["LD_LIBRARY_PATH"] = ":".join(paths)
    raise FetchError(f"{os.path.basename(binary)}: shared libraries still missing: {', '.join(missing)}")


GRUB_CFG = """set root=(memdisk)
echo "grub: booting /vmlinuz from the memdisk"
linux /vmlinuz {args}
initrd /initrd
boot
"""


def grub_linux(kernel, initrd, args):
    """(image path, 'packages'): a GRUB PV image, made as grub-xen-host's is (grub-mkimage -O
    x86_64-xen with grub-xen-bin's modules), whose memdisk holds the kernel and the initrd and
    whose embedded config boots them with GRUB's Xen loader (it decompresses the bzImage's XZ
    payload itself). Built once per input."""
    if re.search(r"[\"'\\\n;$]", args):
        raise FetchError(f"grub_linux: the command line {args!r} needs quoting GRUB's config would get wrong")
    common, ver = unpacked("grub-common")
    mods, mver = unpacked("grub-xen-bin")
    mkimage = os.path.join(common, "usr", "bin", "grub-mkimage")
    moddir = os.path.join(mods, "usr", "lib", "grub", "x86_64-xen")
    with open(kernel, "rb") as f:
        kdata = f.read()
    with open(initrd, "rb") as f:
        idata = f.read()
    h = hashlib.sha256(kdata + b"\0" + idata + b"\0" + f"{args}\0{ver}\0{mver}".encode()).hexdigest()[:16]
    out = os.path.join(CACHE, f"grub-linux-{h}.bin")
    pkgs = f"grub-common={ver}, grub-xen-bin={mver}"
    if os.path.exists(out):
        return out, pkgs
    with tempfile.TemporaryDirectory() as tmp:
        memdisk = os.path.join(tmp, "memdisk.tar")
        with tarfile.open(memdisk, "w", format=tarfile.USTAR_FORMAT) as t:
            for name, data in (("vmlinuz", kdata), ("initrd", idata)):
                ti = tarfile.TarInfo(name)
                ti.size, ti.mode, ti.mtime = len(data), 0o644, 0
                t.addfile(ti, io.BytesIO(data))
        cfg = os.path.join(tmp, "grub.cfg")
        with open(cfg, "w") as f:
            f.write(GRUB_CFG.format(args=args))
        log(f"grub-mkimage: a PV image with {os.path.basename(kernel)} and {os.path.basename(initrd)}")
        _run([mkimage, "-O", "x86_64-xen", "-d", moddir, "-o", out + ".tmp", "-c", cfg, "-m", memdisk,
              "-p", "/boot/grub", "memdisk", "tar", "linux", "xzio", "gzio", "echo"], env=tool_env(mkimage))
    os.replace(out + ".tmp", out)
    return out, pkgs


INIT = b"""#!/bin/busybox sh
# The benchmark's /init: one line, then power off (the bench stops timing at
# the kernel's "Run /init as init process", before this runs).
/bin/busybox echo "bench: /init ran"
/bin/busybox poweroff -f
"""


def _cpio(entries):
    """newc archive of (name, mode, data, rdev) entries, TRAILER!!! last."""
    out = io.BytesIO()
    for ino, (name, mode, data, rdev) in enumerate(entries + [("TRAILER!!!", 0, b"", (0, 0))], 1):
        nameb = name.encode() + b"\0"
        fields = (ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(nameb), 0)
        out.write(b"070701" + "".join(f"{x:08x}" for x in fields).encode() + nameb)
        out.write(b"\0" * (-(110 + len(nameb)) % 4))
        out.write(data)
        out.write(b"\0" * (-len(data) % 4))
    out.write(b"\0" * (-out.tell() % 512))
    return out.getvalue()


def initramfs(gzipped=True):
    """(initramfs path, 'busybox-static=version'): built once per busybox version, gzipped or not."""
    root, ver = unpacked("busybox-static")
    bb = os.path.join(root, "bin", "busybox")
    out = os.path.join(CACHE, f"initramfs-busybox_{ver.replace(':', '%3a')}.cpio" + (".gz" if gzipped else ""))
    if not os.path.exists(out):
        with open(bb, "rb") as f:
            busybox = f.read()
        d = stat.S_IFDIR | 0o755
        entries = [("bin", d, b"", (0, 0)), ("dev", d, b"", (0, 0)), ("proc", d, b"", (0, 0)),
                   ("sys", d, b"", (0, 0)),
                   ("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)),
                   ("bin/busybox", stat.S_IFREG | 0o755, busybox, (0, 0)),
                   ("bin/sh", stat.S_IFLNK | 0o777, b"busybox", (0, 0)),
                   ("init", stat.S_IFREG | 0o755, INIT, (0, 0))]
        with open(out + ".tmp", "wb") as f:
            f.write(gzip.compress(_cpio(entries), compresslevel=9, mtime=0) if gzipped else _cpio(entries))
        os.replace(out + ".tmp", out)
    return out, f"busybox-static={ver}"


if __name__ == "__main__":
    try:
        for what in (linux, initramfs, grub_xen):
            path, pkg = what()
            print(f"{what.__name__}: {os.path.relpath(path, REPO)} ({pkg}, {os.path.getsize(path)} bytes)")
    except FetchError as e:
        log(f"error: {e}")
        sys.exit(1)
