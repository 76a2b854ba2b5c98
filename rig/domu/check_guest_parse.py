#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The shim's own image parser (shim/handoff/xen_elf.c, built for the host
as build/unit/xen_elf_dump) against libxenguest's (rig/domu/parse_image.c,
the code `xl create` runs): on each image both must derive the same
addresses and notes.  Each image is also packed into a bootpack
(tools/bootpack.py) and read back through the shim's cpio reader, which
must find the same kernel.

    rig/domu/check_guest_parse.py [--debian] [--selftest] [IMAGE ...]

With no IMAGE: the four shim builds (as rig/domu/check_image.py).
--debian adds the dom0 kernels the rig boots, as Debian ships them
(bookworm's bzImage with an XZ payload for Xen 4.17, trixie's with zstd
for 4.20; downloaded and cached by rig/domu/build_dom0.py).
--selftest also feeds the shim's parser a copy with VIRT_BASE moved and
requires the comparison to fail.
Last line: "N passed, M failed".
"""
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tools"))

import bootpack  # noqa: E402
import check_image  # noqa: E402

DUMP = os.path.join(REPO, "build", "unit", "xen_elf_dump")
KEYS = ("virt_base", "elf_paddr_offset", "virt_kstart", "virt_kend", "virt_entry", "p2m_base",
        "mod_start_pfn", "hypercall_page", "features")


def values(text):
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition("=")
        if sep and k in KEYS:
            try:
                out[k] = int(v, 16) if v.startswith("0x") or v.isdigit() else v
            except ValueError:
                out[k] = v
    return out


def run(cmd):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def compare(elf_path, pack_path, label):
    """[failure messages] for one image."""
    rc, xl = run([check_image.EXE, elf_path])
    if rc:
        return [f"{label}: libxenguest refused it: {xl.strip().splitlines()[-1:]}"]
    want = values(xl)
    bad = []
    for path, how in ((elf_path, "ELF"), (pack_path, "bootpack")):
        rc, out = run([DUMP, path])
        if rc:
            bad.append(f"{label} ({how}): the shim's parser refused it: {out.strip()}")
            continue
        got = values(out)
        for k in KEYS:
            if got.get(k) != want.get(k):
                bad.append(f"{label} ({how}): {k}: shim {got.get(k)!r}, libxenguest {want.get(k)!r}")
    return bad


def debian_kernels():
    import build_dom0
    out = []
    for ver, dist in (("4.17", "bookworm, XZ"), ("4.20", "trixie, zstd")):
        kernel, _ = build_dom0.build(ver)
        out.append((kernel, f"Debian's vmlinuz for Xen {ver} ({dist})"))
    return out


def main(argv):
    debian = "--debian" in argv
    selftest = "--selftest" in argv
    args = [a for a in argv if a not in ("--debian", "--selftest")]
    if any(a.startswith("-") for a in args):
        print(__doc__)
        return 2
    images = [(a, a) for a in args] or [
        (os.path.join(REPO, f"build/shim{'-mapped' if m else ''}{'-initp2m' if p else ''}/shim"),
         f"build/shim{'-mapped' if m else ''}{'-initp2m' if p else ''}/shim") for m in (0, 1) for p in (0, 1)]
    if debian:
        images += debian_kernels()
    check_image.compile_tool()
    if not os.path.exists(DUMP):
        subprocess.run(["make", "--no-print-directory", "-C", os.path.join(REPO, "tests/unit"), "all"],
                       check=True)
    passed = failed = 0
    with tempfile.TemporaryDirectory() as td:
        for n, (image, label) in enumerate(images):
            try:
                with open(image, "rb") as f:
                    elf, how = bootpack.kernel_elf(f.read())
                pack, _ = bootpack.build(elf, b"initrd", "console=hvc0")
            except (OSError, bootpack.BootpackError) as e:
                print(f"FAIL {label}: {e}")
                failed += 1
                continue
            elf_path, pack_path = os.path.join(td, f"k{n}.elf"), os.path.join(td, f"k{n}.cpio")
            with open(elf_path, "wb") as f:
                f.write(elf)
            with open(pack_path, "wb") as f:
                f.write(pack)
            bad = compare(elf_path, pack_path, label)
            for b in bad:
                print(f"  {b}")
            print(f"{'FAIL' if bad else 'ok  '} {label} ({how}): {len(KEYS)} values agree"
                  if not bad else f"FAIL {label} ({how})")
            passed += not bad
            failed += bool(bad)
            if selftest and n == 0:
                broken = bytearray(elf)
                notes = {t: (o, s) for t, o, s in check_image.xen_notes(broken)}
                o, _s = notes[check_image.NOTE_VIRT_BASE]
                struct.pack_into("<Q", broken, o, check_image.VIRT_BASE - (1 << 30))
                bpath = os.path.join(td, "broken.elf")
                with open(bpath, "wb") as f:
                    f.write(broken)
                rc, out = run([DUMP, bpath])
                rc2, xl = run([check_image.EXE, elf_path])
                caught = rc != 0 or values(out) != values(xl)
                print(f"{'ok  ' if caught else 'FAIL'} selftest: VIRT_BASE moved 1 GiB down in the shim's "
                      f"copy only: {'caught' if caught else 'NOT CAUGHT'}")
                passed += caught
                failed += not caught
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
