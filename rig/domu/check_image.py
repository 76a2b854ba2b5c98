#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Host-side acceptance check of the shim's ELF notes with libxenguest's own
image parser (rig/domu/parse_image.c, no hypervisor).

    rig/domu/check_image.py [--selftest] [IMAGE:MAPPED_RAMDISK:INIT_P2M ...]

With no IMAGE, checks the four builds build/shim{,-mapped}{,-initp2m}/shim
(make them first: make; make MAPPED_RAMDISK=1; make INIT_P2M=1;
make MAPPED_RAMDISK=1 INIT_P2M=1). For each image it asserts what the
toolstack derives: guest type xen-3.0-x86_64 through the ELF-generic loader,
virt_base = virt_kstart = 0xffffffff80000000, paddr offset 0, entry = the
ELF entry point, no hypercall page, features !writable_page_tables,
MOD_START_PFN (unmapped_initrd) set unless MAPPED_RAMDISK=1, INIT_P2M at
0x8000000000 if INIT_P2M=1 and absent otherwise.

--selftest also breaks copies of the first image (VIRT_BASE moved, the
MOD_START_PFN value flipped) and requires the check to fail on each.

parse_image is compiled into build/domu/ from libxen-dev's headers and
libraries (rig/fetch-xen.sh --deps installs it). Exit 0 when all holds.
"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SRC = os.path.join(HERE, "parse_image.c")
EXE = os.path.join(REPO, "build", "domu", "parse_image")
VIRT_BASE = 0xffffffff80000000
INIT_P2M_VA = 0x8000000000
NOTE_VIRT_BASE, NOTE_MOD_START_PFN = 3, 16      # xen/elfnote.h


def compile_tool():
    if os.path.exists(EXE) and os.path.getmtime(EXE) >= os.path.getmtime(SRC):
        return
    if not os.path.exists("/usr/include/xenguest.h"):
        subprocess.run([os.path.join(REPO, "rig", "fetch-xen.sh"), "--deps"], stdout=sys.stderr)
    os.makedirs(os.path.dirname(EXE), exist_ok=True)
    subprocess.run(["gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", EXE, SRC,
                    "-lxenguest", "-lxenctrl", "-lxentoollog"], check=True)


def elf_entry(path):
    with open(path, "rb") as f:
        hdr = f.read(64)
    if hdr[:4] != b"\x7fELF" or hdr[4] != 2:
        raise SystemExit(f"check_image: {path} is not a 64-bit ELF")
    return struct.unpack_from("<Q", hdr, 24)[0]


def xen_notes(data):
    """[(type, desc offset, desc size)] of the Xen notes in PT_NOTE segments."""
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    out = []
    for i in range(phnum):
        p_type, _fl, p_off, _va, _pa, p_filesz = struct.unpack_from("<IIQQQQ", data, phoff + i * phentsize)
        if p_type != 4:
            continue
        off, end = p_off, p_off + p_filesz
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, off)
            name = data[off + 12:off + 12 + namesz]
            desc = off + 12 + ((namesz + 3) & ~3)
            if name == b"Xen\0":
                out.append((ntype, desc, descsz))
            off = desc + ((descsz + 3) & ~3)
    return out


def expectations(image, mapped, init_p2m):
    return [
        "guest_type=xen-3.0-x86_64", "loader=ELF-generic",
        f"virt_base={VIRT_BASE:#x}", f"virt_kstart={VIRT_BASE:#x}", "elf_paddr_offset=0",
        f"virt_entry={elf_entry(image):#x}", "hypercall_page=none",
        "features=!writable_page_tables",
        f"mod_start_pfn={0 if mapped else 1}",
        f"init_p2m={1 if init_p2m else 0}",
        f"p2m_base={INIT_P2M_VA:#x}" if init_p2m else "p2m_base=none",
    ]


def check(image, mapped, init_p2m, quiet=False):
    """(ok, output) of parse_image on `image` with the expectations."""
    p = subprocess.run([EXE, image] + expectations(image, mapped, init_p2m),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    bad = [ln for ln in p.stdout.splitlines() if ln.startswith("FAIL") or "refused" in ln]
    if not quiet:
        for ln in bad:
            print(f"  {ln}")
    return p.returncode == 0, p.stdout


def selftest(image, mapped, init_p2m):
    """Break a copy of the image's notes; the check must notice each time."""
    with open(image, "rb") as f:
        data = bytearray(f.read())
    notes = {t: (o, s) for t, o, s in xen_notes(data)}
    breaks = []
    if NOTE_VIRT_BASE in notes:
        o, _s = notes[NOTE_VIRT_BASE]
        d = bytearray(data)
        struct.pack_into("<Q", d, o, VIRT_BASE - (1 << 30))
        breaks.append(("VIRT_BASE moved 1 GiB down", d))
    if NOTE_MOD_START_PFN in notes:
        o, s = notes[NOTE_MOD_START_PFN]
        d = bytearray(data)
        d[o:o + s] = bytes(s)
        breaks.append(("MOD_START_PFN set to 0", d))
    if not breaks:
        print("check_image: selftest: no VIRT_BASE or MOD_START_PFN note to break")
        return False
    ok = True
    with tempfile.TemporaryDirectory() as td:
        for what, d in breaks:
            path = os.path.join(td, "broken")
            with open(path, "wb") as f:
                f.write(d)
            passed, out = check(path, mapped, init_p2m, quiet=True)
            fails = [ln for ln in out.splitlines() if ln.startswith("FAIL") or "refused" in ln]
            print(f"selftest: {what}: {'caught: ' + fails[0] if not passed and fails else 'NOT CAUGHT'}")
            ok &= not passed
    return ok


def main(argv):
    selftest_wanted = "--selftest" in argv
    args = [a for a in argv if a != "--selftest"]
    if any(a.startswith("-") for a in args):
        print(__doc__)
        return 2
    if not args:
        args = [f"build/shim{'-mapped' if m else ''}{'-initp2m' if p else ''}/shim:{m}:{p}"
                for m in (0, 1) for p in (0, 1)]
    compile_tool()
    ok = True
    passed = failed = 0
    for spec in args:
        try:
            image, mapped, init_p2m = spec.rsplit(":", 2)
            mapped, init_p2m = int(mapped), int(init_p2m)
        except ValueError:
            print(f"check_image: bad spec {spec!r}: want IMAGE:MAPPED_RAMDISK:INIT_P2M")
            return 2
        if not os.path.isabs(image) and not os.path.exists(image):
            image = os.path.join(REPO, image)
        if not os.path.exists(image):
            print(f"FAIL {spec}: {image} missing (build it first)")
            ok = False
            failed += 1
            continue
        good, _ = check(image, mapped, init_p2m)
        print(f"{'ok  ' if good else 'FAIL'} {os.path.relpath(image, REPO)} "
              f"(MAPPED_RAMDISK={mapped} INIT_P2M={init_p2m})")
        ok &= good
        passed += good
        failed += not good
        if selftest_wanted and spec == args[0]:
            st = selftest(image, mapped, init_p2m)
            ok &= st
            passed += st
            failed += not st
    print(f"{passed} passed, {failed} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
