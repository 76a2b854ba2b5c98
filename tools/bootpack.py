#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Build a bootpack: the one ramdisk that tells the shim which kernel to boot
next.  A bootpack is a newc cpio archive (the format of Linux's initramfs)
holding

    bootpack  first, the marker: "shim bootpack 1\n" (an initramfs is not a bootpack)
    kernel    the next kernel: a 64-bit PV ELF with Xen notes
    initrd    its ramdisk (optional)
    cmdline   its command line (optional, at most 1023 bytes)

    tools/bootpack.py -o OUT --kernel KERNEL [--initrd INITRD] [--cmdline TEXT]
    make bootpack KERNEL=... [INITRD=...] [CMDLINE=...] [OUT=build/bootpack.cpio]

KERNEL may be an ELF or a bzImage as distributions ship it (Debian's
/boot/vmlinuz-*): the ELF is taken out of the bzImage's payload (setup
header: payload_offset and payload_length) and decompressed here, so the
guest needs no decompressor.  Payloads: XZ (bookworm), zstd (trixie; with
Debian's `zstd` tool), gzip, bzip2, LZMA.  The kernel must be a 64-bit
x86 ELF with a PT_NOTE segment holding Xen notes; anything else is refused
with the reason.  The archive is deterministic: no dates, no owners.
"""
import argparse
import bz2
import gzip
import lzma
import os
import shutil
import struct
import subprocess
import sys
import zlib

MAX_CMDLINE = 1023              # start_info.cmd_line: 1024 bytes with the NUL
MARKER = b"shim bootpack 1\n"   # the first entry, "bootpack" (shim/handoff/bootpack.h)
XEN_NOTE_NAME = b"Xen\0"


class BootpackError(Exception):
    pass


# ------------------------------------------------------------------ kernel

def is_elf(data):
    return data[:4] == b"\x7fELF"


def bzimage_payload(data):
    """The compressed payload of a bzImage, or None if data is not one."""
    if len(data) < 0x250 or data[0x202:0x206] != b"HdrS":
        return None
    version, = struct.unpack_from("<H", data, 0x206)
    if version < 0x208:
        raise BootpackError(f"bzImage boot protocol {version >> 8}.{version & 0xff}: "
                            "the payload fields need 2.08 or later")
    setup_sects = data[0x1f1] or 4
    payload_offset, payload_length = struct.unpack_from("<II", data, 0x248)
    start = (setup_sects + 1) * 512 + payload_offset
    if not payload_length or start + payload_length > len(data):
        raise BootpackError(f"bzImage payload [{start:#x}, +{payload_length:#x}) lies outside "
                            f"the file ({len(data):#x} bytes)")
    return data[start:start + payload_length]


def size_trailer(payload, out):
    """Linux appends the decompressed size (4 bytes, little-endian) after XZ,
    zstd, bzip2 and LZMA payloads; check it when it is there."""
    if len(payload) >= 4 and struct.unpack_from("<I", payload, len(payload) - 4)[0] != len(out) & 0xffffffff:
        raise BootpackError(f"payload decompressed to {len(out)} bytes, but its size trailer "
                            f"says {struct.unpack_from('<I', payload, len(payload) - 4)[0]}")


def decompress(payload):
    if payload[:6] == b"\xfd7zXZ\0":
        d = lzma.LZMADecompressor(format=lzma.FORMAT_XZ)
        try:
            out = d.decompress(payload)
        except lzma.LZMAError as e:
            raise BootpackError(f"XZ payload: {e}") from None
        if not d.eof:
            raise BootpackError("XZ payload is truncated")
        if len(d.unused_data) != 4:
            raise BootpackError(f"XZ payload: {len(d.unused_data)} bytes after the stream, "
                                "expected the 4-byte size trailer")
        size_trailer(payload, out)
        return out, "XZ"
    if payload[:4] == b"\x28\xb5\x2f\xfd":
        zstd = shutil.which("zstd")
        if not zstd:
            raise BootpackError("zstd payload, and no zstd tool (apt-get install zstd)")
        p = subprocess.run([zstd, "-d", "-c", "-q"], input=payload[:-4], capture_output=True)
        if p.returncode:
            raise BootpackError(f"zstd payload: zstd -d failed: {p.stderr.decode(errors='replace').strip()}")
        size_trailer(payload, p.stdout)
        return p.stdout, "zstd"
    if payload[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(payload), "gzip"
        except (OSError, EOFError, zlib.error) as e:
            raise BootpackError(f"gzip payload: {e}") from None
    if payload[:3] == b"BZh":
        try:
            out = bz2.decompress(payload[:-4])
        except (OSError, ValueError) as e:
            raise BootpackError(f"bzip2 payload: {e}") from None
        size_trailer(payload, out)
        return out, "bzip2"
    if payload[:3] == b"\x5d\x00\x00":
        d = lzma.LZMADecompressor(format=lzma.FORMAT_ALONE)
        try:
            out = d.decompress(payload[:-4])
        except lzma.LZMAError as e:
            raise BootpackError(f"LZMA payload: {e}") from None
        if not d.eof:
            raise BootpackError("LZMA payload is truncated")
        size_trailer(payload, out)
        return out, "LZMA"
    raise BootpackError(f"bzImage payload compressed with an unsupported method "
                        f"(magic {payload[:4].hex()}; LZ4 and LZO are not supported)")


def xen_notes(elf):
    """{type: desc} of the Xen notes in the ELF's PT_NOTE segments."""
    if len(elf) < 64:
        raise BootpackError("kernel: truncated ELF header")
    if elf[4] != 2 or elf[5] != 1:
        raise BootpackError("kernel: not a 64-bit little-endian ELF (a 32-bit PV kernel cannot "
                            "follow a 64-bit one)")
    machine, = struct.unpack_from("<H", elf, 18)
    if machine != 62:
        raise BootpackError(f"kernel: ELF machine {machine}, not x86-64 (62)")
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    if phentsize < 56 or phoff + phnum * phentsize > len(elf):
        raise BootpackError("kernel: program headers lie outside the file")
    notes = {}
    for i in range(phnum):
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, phoff + i * phentsize)
        if p_type != 4:                         # PT_NOTE
            continue
        if p_offset + p_filesz > len(elf):
            raise BootpackError("kernel: a PT_NOTE segment lies outside the file")
        off, end = p_offset, p_offset + p_filesz
        while off + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", elf, off)
            name_at = off + 12
            desc_at = name_at + ((namesz + 3) & ~3)
            nxt = desc_at + ((descsz + 3) & ~3)
            if nxt > end:
                break
            if elf[name_at:name_at + namesz] == XEN_NOTE_NAME:
                notes[ntype] = elf[desc_at:desc_at + descsz]
            off = nxt
    if not notes:
        raise BootpackError("kernel: an ELF without Xen notes (is it built with CONFIG_XEN_PV?)")
    return notes


def kernel_elf(data):
    """(ELF bytes, how it was found) from an ELF or a bzImage."""
    if is_elf(data):
        how = "ELF"
    else:
        payload = bzimage_payload(data)
        if payload is None:
            raise BootpackError("kernel: neither an ELF nor a bzImage (no \"HdrS\" setup header)")
        data, method = decompress(payload)
        if not is_elf(data):
            raise BootpackError(f"kernel: the bzImage's {method} payload is not an ELF")
        how = f"bzImage, {method} payload"
    xen_notes(data)
    return data, how


# ------------------------------------------------------------------ cpio

def cpio_newc(files):
    """A newc archive of [(name, bytes)]: regular files 0644, owner 0, time 0."""
    out = bytearray()

    def entry(name, data, mode, ino):
        n = name.encode() + b"\0"
        hdr = b"070701" + b"".join(b"%08X" % v for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(n), 0))
        out.extend(hdr + n)
        out.extend(b"\0" * (-len(out) % 4))
        out.extend(data)
        out.extend(b"\0" * (-len(out) % 4))

    for i, (name, data) in enumerate(files):
        entry(name, data, 0o100644, i + 1)
    entry("TRAILER!!!", b"", 0, 0)
    out.extend(b"\0" * (-len(out) % 512))
    return bytes(out)


def build(kernel, initrd=None, cmdline=None):
    """(archive bytes, a one-line description)."""
    elf, how = kernel_elf(kernel)
    files = [("bootpack", MARKER), ("kernel", elf)]
    if initrd is not None:
        files.append(("initrd", initrd))
    if cmdline is not None:
        raw = cmdline.encode()
        if b"\0" in raw:
            raise BootpackError("cmdline: contains a NUL byte")
        if len(raw) > MAX_CMDLINE:
            raise BootpackError(f"cmdline: {len(raw)} bytes, at most {MAX_CMDLINE} fit start_info")
        files.append(("cmdline", raw))
    desc = f"kernel {len(elf)} bytes ({how})"
    if initrd is not None:
        desc += f", initrd {len(initrd)} bytes"
    if cmdline is not None:
        desc += f", cmdline {cmdline!r}"
    return cpio_newc(files), desc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("-o", "--output", required=True, help="the bootpack to write")
    ap.add_argument("--kernel", required=True, help="ELF or bzImage")
    ap.add_argument("--initrd", help="the next kernel's ramdisk")
    ap.add_argument("--cmdline", help="the next kernel's command line")
    args = ap.parse_args(argv)
    try:
        with open(args.kernel, "rb") as f:
            kernel = f.read()
        initrd = None
        if args.initrd:
            with open(args.initrd, "rb") as f:
                initrd = f.read()
        data, desc = build(kernel, initrd, args.cmdline)
    except OSError as e:
        print(f"bootpack: error: {e}", file=sys.stderr)
        return 2
    except BootpackError as e:
        msg = str(e)
        if msg.startswith("kernel: "):
            msg = f"kernel {args.kernel}: {msg[len('kernel: '):]}"
        print(f"bootpack: error: {msg}", file=sys.stderr)
        return 1
    tmp = args.output + ".tmp"
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, args.output)
    print(f"bootpack: {args.output}: {len(data)} bytes: {desc}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
