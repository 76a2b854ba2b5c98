#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Assemble (and cache) a Debian dom0 for the domU rig: a kernel and an initramfs.

    rig/domu/build_dom0.py 4.17|4.20 [--force] [--linux-domu]
                                                  (rig/domu/build-dom0.sh is the same)

prints two lines on stdout, the dom0 kernel and the initramfs (cpio.gz)
(with --linux-domu: those of the rig's self-test Linux domU instead):

    kernel cache/dom0-4.17/vmlinuz
    initrd cache/dom0-4.17/dom0.cpio.gz

Everything comes from Debian packages, fetched with `apt-get download` and
unpacked with `dpkg -x` into cache/dom0-VER/:

    4.17  bookworm (the host's apt): linux-image-amd64's kernel (6.1, regular
          flavour, dom0 capable), xen-utils-4.17, busybox-static, and the
          libraries they need (libc6, libgcc-s1, libxen*, libyajl2, ...)
    4.20  trixie (the private apt setup that rig/fetch-xen.sh keeps in
          cache/apt-trixie/): linux-image-amd64's kernel (6.12), xen-utils-4.20,
          busybox-static, and trixie's libraries (its glibc among them)

The library set is every `lib*` (and `zlib*`) package reachable through Depends from
xen-utils-VER (plus libgcc-s1, which glibc dlopen()s for pthread_cancel); the
initramfs then takes only the shared objects that the binaries' DT_NEEDED
closure names, and fails the build if one is missing. Kernel modules (xenfs,
the Xen device drivers, virtio-blk) are ordered by their own .modinfo
`depends=` (Debian ships no modules.dep), built-ins (modules.builtin) left
out, and uncompressed if they ship as .ko.xz/.ko.zst.

The initramfs's /init is rig/domu/init.sh: see there for how it brings up the
toolstack and runs the domU cases that rig/domu/run.py appends as a second,
uncompressed cpio archive. A cached build is reused as long as the package
versions and the rig/domu sources it was made from are unchanged; nothing then
touches the network.
"""
import argparse
import fcntl
import gzip
import hashlib
import io
import lzma
import os
import re
import shutil
import stat
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
CACHE = os.path.join(REPO, "cache")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"
TRIXIE_APT = os.path.join(CACHE, "apt-trixie")
BUILD_FORMAT = 4            # bump when the layout of the initramfs changes

# Binaries the dom0 runs, relative to /usr/lib/xen-VER/bin in xen-utils-VER
# (xl save, restore and migrate run libxl-save-helper for the stream).
XEN_BINS = ("xl", "xenstored", "xenconsoled", "xenconsole", "xen-init-dom0", "readnotes",
            "libxl-save-helper")
# xenstore-utils: one binary that acts on its argv[0].
XENSTORE_CMDS = ("xenstore-read", "xenstore-write", "xenstore-ls", "xenstore-list",
                 "xenstore-rm", "xenstore-exists", "xenstore-watch")
# Modules to load, in this order (dependencies first come from modules.dep);
# built-in ones are skipped.  virtio: rig-notes #9.
MODULES = ("xen-evtchn", "xen-gntdev", "xen-gntalloc", "xen-privcmd", "xenfs",
           "virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev",
           "virtio_pci", "virtio_blk")
# Tried as fallbacks when a name is neither a module nor built in (renames).
OPTIONAL_MODULES = ("virtio_pci_legacy_dev", "virtio_pci_modern_dev")


class BuildError(Exception):
    pass


def log(msg):
    print(f"build-dom0: {msg}", file=sys.stderr, flush=True)


def run(cmd, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if p.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed (exit {p.returncode}): {p.stderr.strip()[-2000:]}")
    return p.stdout


# ---------------------------------------------------------------- apt

class Apt:
    """apt-cache / apt-get download for one suite: the host's apt (bookworm) or
    the private trixie setup in cache/apt-trixie (the host's config untouched)."""

    def __init__(self, suite):
        self.suite = suite
        self.opts = []
        if suite == "trixie":
            self.opts = ["-o", f"Dir::Etc::SourceList={TRIXIE_APT}/sources.list",
                         "-o", f"Dir::Etc::SourceParts={TRIXIE_APT}/sources.list.d",
                         "-o", f"Dir::State::Lists={TRIXIE_APT}/lists",
                         "-o", f"Dir::Cache={TRIXIE_APT}/cache",
                         "-o", "Acquire::AllowInsecureRepositories=false",
                         "-o", "Acquire::AllowDowngradeToInsecureRepositories=false"]
        self.updated = False

    def update(self):
        if self.updated:
            return
        self.updated = True
        if self.suite == "trixie":
            if not os.path.exists(KEYRING):
                raise BuildError(f"{KEYRING} missing (install debian-archive-keyring)")
            for d in ("sources.list.d", "lists/partial", "cache/archives/partial"):
                os.makedirs(os.path.join(TRIXIE_APT, d), exist_ok=True)
            with open(os.path.join(TRIXIE_APT, "sources.list"), "w") as f:
                f.write(f"deb [signed-by={KEYRING}] http://deb.debian.org/debian trixie main\n")
        log(f"apt-get update ({self.suite})")
        run(["apt-get", "-q"] + self.opts + ["update"])

    def have_lists(self):
        if self.suite == "trixie":
            lists = os.path.join(TRIXIE_APT, "lists")
            return os.path.isdir(lists) and any(n.endswith("_dists_trixie_InRelease")
                                                for n in os.listdir(lists))
        return True

    def cache(self, *args):
        if not self.have_lists():
            self.update()
        return run(["apt-cache"] + self.opts + list(args))

    def versions(self, pkgs):
        """{pkg: candidate version}, one apt-cache call."""
        out = self.cache("policy", *pkgs)
        found = dict(re.findall(r"^(\S+):\n\s+Installed: .*\n\s+Candidate: (\S+)", out, re.M))
        missing = [p for p in pkgs if found.get(p, "(none)") == "(none)"]
        if missing:
            if not self.updated:
                self.update()
                return self.versions(pkgs)
            raise BuildError(f"no candidate for {' '.join(missing)} in {self.suite}")
        return found

    def depends(self, pkgs):
        """{pkg: [first alternative of each Depends/PreDepends]} for real packages."""
        out = self.cache("depends", "--no-recommends", "--no-suggests", "--no-conflicts",
                         "--no-breaks", "--no-replaces", "--no-enhances", *pkgs)
        deps, cur, alt = {}, None, False
        for line in out.splitlines():
            if not line.startswith(" "):
                cur = line.strip()
                deps.setdefault(cur, [])
                alt = False
                continue
            m = re.match(r"\s*(\|)?(Depends|PreDepends): (\S+)", line)
            if m:
                name = m.group(3)
                if not alt and not name.startswith("<"):
                    deps[cur].append(name.split(":")[0])
                alt = bool(m.group(1))      # "|Depends: a" means the next line is an alternative
        return deps

    def download(self, pkgs, dest):
        os.makedirs(dest, exist_ok=True)
        if os.getuid() == 0:
            try:
                import pwd
                shutil.chown(dest, pwd.getpwnam("_apt").pw_uid)
            except (KeyError, PermissionError):
                pass
        cmd = ["apt-get", "-q"] + self.opts + ["download"] + list(pkgs)
        p = subprocess.run(cmd, cwd=dest, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            raise BuildError(f"apt-get download ({self.suite}) failed: {p.stderr.strip()[-2000:]}")


# ---------------------------------------------------------------- package set

def package_set(apt, ver):
    """[(package, version)]: the kernel, xen-utils, busybox-static and the lib* closure."""
    kdeps = apt.depends(["linux-image-amd64"]).get("linux-image-amd64", [])
    kernels = [d for d in kdeps if d.startswith("linux-image-")]
    if not kernels:
        raise BuildError("linux-image-amd64 depends on no linux-image-* package")
    # libxen-dev: the version's own headers and link libraries for shim-inspect.
    want = [kernels[0], f"xen-utils-{ver}", "xenstore-utils", "busybox-static", "libgcc-s1", "libxen-dev"]
    seen, frontier = set(want), [f"xen-utils-{ver}", "xenstore-utils", "libgcc-s1"]
    while frontier:
        deps = apt.depends(frontier)
        frontier = []
        for ds in deps.values():
            for d in ds:
                if (d.startswith("lib") or d.startswith("zlib")) and d not in seen:
                    seen.add(d)
                    frontier.append(d)
                    want.append(d)
    vers = apt.versions(want)
    return [(p, vers[p]) for p in want]


def deb_name(pkg, version):
    return f"{pkg}_{version.replace(':', '%3a')}_"


def fetch_debs(apt, pkgs, debdir):
    missing = [p for p, v in pkgs
               if not any(n.startswith(deb_name(p, v)) and n.endswith(".deb")
                          for n in os.listdir(debdir))] if os.path.isdir(debdir) else [p for p, _ in pkgs]
    if missing:
        log(f"apt-get download ({apt.suite}): {' '.join(missing)}")
        apt.download([f"{p}={v}" for p, v in pkgs if p in missing], debdir)
    debs = []
    for p, v in pkgs:
        found = [n for n in os.listdir(debdir) if n.startswith(deb_name(p, v)) and n.endswith(".deb")]
        if not found:
            raise BuildError(f"{p} {v}: no .deb in {debdir} after download")
        debs.append(os.path.join(debdir, found[0]))
    return debs


# ---------------------------------------------------------------- ELF

def elf_info(path):
    """(interp or None, [DT_NEEDED], [DT_RUNPATH/RPATH dirs]) of a 64-bit ELF, or None."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    interp, dyn, loads = None, None, []
    for i in range(phnum):
        p_type, _flags, p_off, p_vaddr, _pa, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type == 3:
            interp = data[p_off:p_off + p_filesz].rstrip(b"\0").decode()
        elif p_type == 2:
            dyn = (p_off, p_filesz)
        elif p_type == 1:
            loads.append((p_vaddr, p_off, p_filesz))
    needed, paths = [], []
    if dyn:
        strtab, ents = None, []
        for off in range(dyn[0], dyn[0] + dyn[1], 16):
            tag, val = struct.unpack_from("<qQ", data, off)
            if tag == 0:
                break
            if tag == 5:
                strtab = val
            ents.append((tag, val))

        def vaddr_to_off(va):
            for v, o, sz in loads:
                if v <= va < v + sz:
                    return o + va - v
            raise BuildError(f"{path}: bad DT_STRTAB")

        def string(off):
            base = vaddr_to_off(strtab) + off
            return data[base:data.index(b"\0", base)].decode()

        for tag, val in ents:
            if tag == 1:
                needed.append(string(val))
            elif tag in (15, 29):
                paths += string(val).split(":")
    return interp, needed, paths


# ---------------------------------------------------------------- cpio (newc)

class Cpio:
    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1
        self.names = set()

    def _entry(self, name, mode, data=b"", rdev=(0, 0), mtime=0):
        name = name.lstrip("/")
        if name in self.names:
            return
        self.names.add(name)
        nameb = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{x:08x}" for x in (
            self.ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, mtime, len(data),
            0, 0, rdev[0], rdev[1], len(nameb), 0))
        self.ino += 1
        self.out.write(hdr.encode() + nameb)
        self.out.write(b"\0" * (-(110 + len(nameb)) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))

    def dir(self, name, mode=0o755):
        parts = name.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            self._entry("/".join(parts[:i]), stat.S_IFDIR | mode)

    def file(self, name, data, mode=0o644):
        self.dir(os.path.dirname(name.strip("/"))) if "/" in name.strip("/") else None
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self.dir(os.path.dirname(name.strip("/"))) if "/" in name.strip("/") else None
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def chardev(self, name, major, minor, mode=0o600):
        self._entry(name, stat.S_IFCHR | mode, rdev=(major, minor))

    def finish(self):
        self._entry("TRAILER!!!", 0)
        self.out.write(b"\0" * (-self.out.tell() % 512))
        return self.out.getvalue()


# ---------------------------------------------------------------- assembly

def read_module(path):
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        return lzma.decompress(data)
    if path.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", path], stdout=subprocess.PIPE, check=True).stdout
    if path.endswith(".gz"):
        return gzip.decompress(data)
    return data


def modinfo_depends(data):
    """The `depends=` list from a module's .modinfo section."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    stroff = secs[shstrndx][4]
    for name, _t, _f, _a, off, size in secs:
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] == b".modinfo":
            for kv in data[off:off + size].split(b"\0"):
                if kv.startswith(b"depends="):
                    return [d for d in kv[8:].decode().split(",") if d]
            return []
    raise BuildError("module without .modinfo")


def module_order(root, kver):
    """[(name, data)] to insmod in order, dependencies first, built-ins left out.
    Debian ships no modules.dep (depmod runs at install time): dependencies
    come from each module's own .modinfo."""
    mdir = os.path.join(root, "lib/modules", kver)
    if not os.path.isdir(mdir):
        mdir = os.path.join(root, "usr/lib/modules", kver)
    with open(os.path.join(mdir, "modules.builtin")) as f:
        builtin = {os.path.basename(l.strip()).split(".ko")[0].replace("-", "_") for l in f}
    by_name = {}
    for dirpath, _dirs, files in os.walk(os.path.join(mdir, "kernel")):
        for n in files:
            if ".ko" in n:
                by_name[n.split(".ko")[0].replace("-", "_")] = os.path.join(dirpath, n)
    order, done = [], set()

    def add(key):
        if key in done or key in builtin:
            return
        done.add(key)
        if key not in by_name:
            raise BuildError(f"module {key} is neither shipped nor built into {kver}")
        data = read_module(by_name[key])
        for d in modinfo_depends(data):
            add(d.replace("-", "_"))
        order.append((os.path.basename(by_name[key]).split(".ko")[0], data))

    for name in MODULES:
        key = name.replace("-", "_")
        if key not in builtin and key not in by_name and name in OPTIONAL_MODULES:
            continue
        add(key)
    return order


INSPECT_SOURCES = (os.path.join(HERE, "inspect.c"), os.path.join(REPO, "shim", "lib", "xxhash.c"))


def build_inspector(ver, root):
    """rig/domu/inspect.c against this Xen version's own headers and libxenctrl (from the
    unpacked libxen-dev), with the shim's own XXH64.  Linked on this host against the
    dom0's libraries (-rpath-link), so that a symbol they lack fails the build here."""
    out = os.path.join(root, "..", "shim-inspect")
    libs = [os.path.join(root, d) for d in ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu")]
    cmd = ["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-I", os.path.join(root, "usr", "include"),
           "-I", os.path.join(REPO, "shim"), "-o", out, *INSPECT_SOURCES,
           "-L", libs[0], "-lxenctrl", "-Wl,-rpath-link=" + ":".join(libs)]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        raise BuildError(f"shim-inspect for Xen {ver} did not build:\n{p.stdout[-3000:]}")
    return out


def assemble(ver, root, out_cpio):
    xbin = f"usr/lib/xen-{ver}/bin"
    boots = sorted(n for n in os.listdir(os.path.join(root, "boot")) if n.startswith("vmlinuz-"))
    if not boots:
        raise BuildError("no /boot/vmlinuz-* in the kernel package")
    kver = boots[0][len("vmlinuz-"):]
    c = Cpio()
    for d in ("bin", "sbin", "dev", "proc", "sys", "tmp", "run", "etc/xen", "var/log/xen/console",
              "var/lib/xen", "var/lib/xenstored", "var/lock", "lib/x86_64-linux-gnu",
              "lib64", "usr/bin", "usr/sbin", "cases", "mnt"):
        c.dir(d)
    c.symlink("var/run", "../run")
    c.chardev("dev/console", 5, 1)
    c.chardev("dev/null", 1, 3, 0o666)
    c.symlink("usr/lib/x86_64-linux-gnu", "../../lib/x86_64-linux-gnu")

    def rd(rel):
        with open(os.path.join(root, rel), "rb") as f:
            return f.read()

    # busybox: the shell and every applet through --install -s at boot.
    bb = "bin/busybox" if os.path.exists(os.path.join(root, "bin/busybox")) else "usr/bin/busybox"
    c.file("bin/busybox", rd(bb), 0o755)
    c.symlink("bin/sh", "busybox")
    with open(os.path.join(HERE, "init.sh"), "rb") as f:
        c.file("init", f.read(), 0o755)
    with open(os.path.join(HERE, "xl-run.sh"), "rb") as f:
        c.file("usr/bin/xl-run", f.read(), 0o755)
    c.file("etc/xen/xl.conf", b'# rig dom0: no ballooning of dom0 (rig-notes #9)\nautoballoon="off"\n')
    c.file("etc/passwd", b"root:x:0:0:root:/:/bin/sh\n")
    c.file("etc/group", b"root:x:0:\n")

    # Xen binaries and their shared-object closure.
    elfs, wanted = [], []
    for b in XEN_BINS:
        p = os.path.join(root, xbin, b)
        if os.path.exists(p):
            c.file(f"{xbin}/{b}", rd(f"{xbin}/{b}"), 0o755)
            elfs.append(p)
            c.symlink(f"usr/sbin/{b}", f"../lib/xen-{ver}/bin/{b}")
        elif b in ("xl", "xenstored", "xenconsoled", "xen-init-dom0", "libxl-save-helper"):
            raise BuildError(f"{xbin}/{b} missing from xen-utils-{ver}")
    xs = "usr/bin/xenstore"
    if not os.path.exists(os.path.join(root, xs)):
        raise BuildError("usr/bin/xenstore missing from xenstore-utils")
    c.file(xs, rd(xs), 0o755)
    elfs.append(os.path.join(root, xs))
    for n in XENSTORE_CMDS:
        c.symlink(f"usr/bin/{n}", "xenstore")
    inspector = build_inspector(ver, root)
    with open(inspector, "rb") as f:
        c.file("usr/bin/shim-inspect", f.read(), 0o755)
    elfs.append(inspector)
    libdirs = ["lib/x86_64-linux-gnu", "usr/lib/x86_64-linux-gnu", f"usr/lib/xen-{ver}/lib",
               "lib", "usr/lib"]
    libdirs = [d for d in libdirs if os.path.isdir(os.path.join(root, d))]
    # glibc dlopen()s libgcc_s (pthread_cancel) and NSS modules: take them explicitly.
    extra = ["libgcc_s.so.1"]
    done, interp_paths = {}, set()
    queue = [(e, []) for e in elfs] + [(None, [n]) for n in extra]
    while queue:
        path, names = queue.pop()
        if path:
            info = elf_info(path)
            if info is None:
                continue
            interp, needed, rpaths = info
            if interp:
                interp_paths.add(interp)
            names = needed
            extra_dirs = [r.replace("$ORIGIN", os.path.dirname(path)[len(root):]).lstrip("/")
                          for r in rpaths]
        else:
            extra_dirs = []
        for n in names:
            if n in done:
                continue
            for d in extra_dirs + libdirs:
                cand = os.path.join(root, d, n)
                if os.path.exists(cand):
                    real = os.path.realpath(cand)
                    if not real.startswith(os.path.realpath(root)):
                        real = os.path.join(root, os.path.relpath(real, "/"))
                    done[n] = real
                    queue.append((real, []))
                    break
            else:
                raise BuildError(f"shared object {n} (needed by {path or 'glibc'}) is in none of "
                                 f"the unpacked packages; add its package")
    for n, real in sorted(done.items()):
        with open(real, "rb") as f:
            c.file(f"lib/x86_64-linux-gnu/{n}", f.read(), 0o755)
    for interp in sorted(interp_paths):
        base = os.path.basename(interp)
        src = None
        for d in libdirs + ["lib64", "usr/lib64"]:
            if os.path.exists(os.path.join(root, d, base)):
                src = os.path.realpath(os.path.join(root, d, base))
                if not src.startswith(os.path.realpath(root)):
                    src = os.path.join(root, os.path.relpath(src, "/"))
                break
        if not src:
            raise BuildError(f"ELF interpreter {interp} not found")
        with open(src, "rb") as f:
            c.file(f"lib/x86_64-linux-gnu/{base}", f.read(), 0o755)
        c.symlink(interp.lstrip("/"), f"/lib/x86_64-linux-gnu/{base}")

    # Kernel modules, uncompressed, and their load order for /init.
    order = module_order(root, kver)
    lines = []
    for name, data in order:
        c.file(f"lib/modules/{name}.ko", data)
        lines.append(name)
    c.file("etc/modules.order", ("\n".join(lines) + "\n").encode())
    c.file("etc/rig-dom0", f"xen={ver}\nkernel={kver}\n".encode())
    data = gzip.compress(c.finish(), compresslevel=6, mtime=0)
    with open(out_cpio + ".tmp", "wb") as f:
        f.write(data)
    os.replace(out_cpio + ".tmp", out_cpio)
    return kver, [n for n, _ in order], sorted(done)


def source_digest():
    h = hashlib.sha256(str(BUILD_FORMAT).encode())
    for path in [os.path.join(HERE, n) for n in ("build_dom0.py", "init.sh", "xl-run.sh")] + \
            list(INSPECT_SOURCES) + [os.path.join(REPO, "shim", "lib", "xxhash.h")]:
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()[:16]


def build(ver, force=False):
    """(kernel path, initrd path) for Xen `ver`, built and cached on demand;
    concurrent callers wait for each other (a lock file in the cache)."""
    if ver not in ("4.17", "4.20"):
        raise BuildError(f"unknown Xen version {ver}")
    d = os.path.join(CACHE, f"dom0-{ver}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build(ver, d, force)


def _build(ver, d, force):
    kernel, initrd, stamp = (os.path.join(d, n) for n in ("vmlinuz", "dom0.cpio.gz", "stamp"))
    apt = Apt("bookworm" if ver == "4.17" else "trixie")
    # A cached build is trusted without apt when its stamp matches our sources.
    digest = source_digest()
    if not force and os.path.exists(stamp) and os.path.exists(kernel) and os.path.exists(initrd):
        with open(stamp) as f:
            lines = f.read().splitlines()
        if lines and lines[0] == f"sources {digest}":
            return kernel, initrd
    pkgs = package_set(apt, ver)
    try:
        debs = fetch_debs(apt, pkgs, os.path.join(d, "debs"))
    except BuildError:
        if apt.updated:
            raise
        log("download failed: apt-get update, then resolve the packages again")
        apt.update()
        pkgs = package_set(apt, ver)
        debs = fetch_debs(apt, pkgs, os.path.join(d, "debs"))
    root = os.path.join(d, "root")
    pkgline = " ".join(f"{p}={v}" for p, v in pkgs)
    unpacked = os.path.join(d, "root.pkgs")
    if force or not os.path.exists(unpacked) or open(unpacked).read() != pkgline:
        shutil.rmtree(root, ignore_errors=True)
        for deb in debs:
            log(f"dpkg -x {os.path.basename(deb)}")
            run(["dpkg", "-x", deb, root])
        with open(unpacked, "w") as f:
            f.write(pkgline)
    kver, mods, libs = assemble(ver, root, initrd)
    shutil.copyfile(os.path.join(root, "boot", f"vmlinuz-{kver}"), kernel + ".tmp")
    os.replace(kernel + ".tmp", kernel)
    with open(stamp, "w") as f:
        f.write(f"sources {digest}\nkernel {kver}\nmodules {' '.join(mods)}\n"
                f"libs {' '.join(libs)}\npackages {pkgline}\n")
    log(f"dom0 for Xen {ver}: kernel {kver}, {len(mods)} modules, {len(libs)} libraries, "
        f"initramfs {os.path.getsize(initrd) / 2**20:.1f} MiB")
    return kernel, initrd


LINUX_DOMU_INIT = b"""#!/bin/sh
# The rig's self-test domU: Debian's Linux as a PV domU says SUCCESS.
/bin/busybox mount -t proc proc /proc
echo "linux domU: $(/bin/busybox uname -r), $(/bin/busybox grep -c ^processor /proc/cpuinfo) vcpu(s), $(/bin/busybox awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
echo "linux domU: cmdline $(/bin/busybox cat /proc/cmdline)"
echo "Test result: SUCCESS"
/bin/busybox poweroff -f
"""


def linux_domu(ver):
    """(kernel, initrd) of the rig's self-test domU: the dom0's own Debian kernel
    (the regular flavour runs as a PV domU too) and a busybox initramfs whose
    /init prints `Test result: SUCCESS` and powers off. Proves the domU path
    with a kernel that is not ours."""
    kernel, _ = build(ver)
    d = os.path.dirname(kernel)
    with open(os.path.join(d, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _linux_domu(kernel, d)


def _linux_domu(kernel, d):
    out = os.path.join(d, "linux-domu.cpio.gz")
    if os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(os.path.join(d, "stamp")):
        return kernel, out
    busybox_initrd(d, out, LINUX_DOMU_INIT)
    return kernel, out


def busybox_initrd(d, out, init, files=()):
    """A gzip initramfs at `out`: the busybox of the dom0 unpacked in d/root, /dev/console,
    `init` as /init, and (name, bytes) files."""
    root = os.path.join(d, "root")
    bb = "bin/busybox" if os.path.exists(os.path.join(root, "bin/busybox")) else "usr/bin/busybox"
    c = Cpio()
    for dd in ("bin", "dev", "proc", "sys"):
        c.dir(dd)
    c.chardev("dev/console", 5, 1)
    with open(os.path.join(root, bb), "rb") as f:
        c.file("bin/busybox", f.read(), 0o755)
    c.symlink("bin/sh", "busybox")
    c.file("init", init, 0o755)
    for name, data in files:
        c.file(name, data)
    with open(out + ".tmp", "wb") as f:
        f.write(gzip.compress(c.finish(), compresslevel=6, mtime=0))
    os.replace(out + ".tmp", out)


# The hand-off's proof (docs/handoff.md): Debian's Linux, booted by the shim, runs this /init.
# It checks what the host can check too: the initrd's data file arrived whole (its SHA-256,
# which the host computed when it made the file and also wrote to /expected), and says how
# much memory Linux found. The judge requires these lines with the host's own values.
LINUX_HANDOFF_INIT = b"""#!/bin/sh
# Debian's Linux after the shim's hand-off: prove the initrd and the memory arrived.
# Under TCG a process of a PV domU now and then dies (rig/domu/README.md), so this runs one
# process besides the shell, sha256sum, and reads the rest with shell builtins. If it prints
# nothing it runs again, up to three times, and says so; a wrong answer is never retried.
bb=/bin/busybox
$bb mount -t proc proc /proc
for try in 1 2 3; do
    out=$($bb sha256sum /data)
    [ -n "$out" ] && break
    echo "handoff-init: sha256sum printed nothing (try $try)"
done
got=${out%% *}
read -r want < /expected
read -r release < /proc/sys/kernel/osrelease
while read -r key kb rest; do
    [ "$key" = MemTotal: ] && break
done < /proc/meminfo
read -r cmdline < /proc/cmdline
echo "handoff-init: $release, data sha256 $got"
echo "handoff-init: MemTotal $kb kB"
echo "handoff-init: cmdline $cmdline"
if [ "$got" = "$want" ]; then
    echo "Test result: SUCCESS"
else
    echo "Test result: FAILURE the initrd's data file has sha256 $got, the host wrote $want"
fi
$bb poweroff -f
"""

HANDOFF_DATA_BYTES = 1 << 20


def linux_handoff(ver):
    """(kernel, initrd, data sha256) for the hand-off's Linux proof: the dom0's own Debian
    kernel and a busybox initramfs (gzip) with LINUX_HANDOFF_INIT, a 1 MiB data file of
    deterministic pseudo-random bytes and its SHA-256 in /expected."""
    kernel, _ = build(ver)
    d = os.path.dirname(kernel)
    with open(os.path.join(d, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Named by the /init it holds, so that a change to it makes a new one.
        out = os.path.join(d, f"linux-handoff-{hashlib.sha256(LINUX_HANDOFF_INIT).hexdigest()[:12]}.cpio.gz")
        data = b"".join(hashlib.sha256(f"handoff data {i}".encode()).digest()
                        for i in range(HANDOFF_DATA_BYTES // 32))
        digest = hashlib.sha256(data).hexdigest()
        stamp = os.path.join(d, "stamp")
        if not (os.path.exists(out) and os.path.getmtime(out) >= os.path.getmtime(stamp)):
            busybox_initrd(d, out, LINUX_HANDOFF_INIT,
                           [("data", data), ("expected", digest.encode() + b"\n")])
        return kernel, out, digest


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("xen", choices=("4.17", "4.20"))
    ap.add_argument("--force", action="store_true", help="rebuild (and re-resolve packages)")
    ap.add_argument("--linux-domu", action="store_true",
                    help="print the self-test Linux domU's kernel and initrd instead")
    o = ap.parse_args()
    try:
        kernel, initrd = build(o.xen, o.force)
        if o.linux_domu:
            kernel, initrd = linux_domu(o.xen)
    except BuildError as e:
        log(f"error: {e}")
        return 1
    print(f"kernel {os.path.relpath(kernel, REPO)}")
    print(f"initrd {os.path.relpath(initrd, REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
