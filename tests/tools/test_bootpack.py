#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tools/bootpack.py on synthetic bzImages (the shim's own ELF
as the payload, in every supported compression) and bad input; the real
Debian kernels are checked by rig/domu/check_guest_parse.py --debian.

    python3 tests/tools/test_bootpack.py
"""
import bz2
import gzip
import lzma
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))

import bootpack as B  # noqa: E402

SHIM = os.path.join(REPO, "build", "shim", "shim")


def shim_elf():
    if not os.path.exists(SHIM):
        subprocess.run(["make", "-C", REPO, "--no-print-directory", "shim"], check=True,
                       stdout=subprocess.DEVNULL)
    with open(SHIM, "rb") as f:
        return f.read()


def bzimage(payload, setup_sects=3, version=0x20f):
    """A bzImage: setup sectors with the header, then a 32-bit stub, then the payload."""
    setup = bytearray((setup_sects + 1) * 512)
    setup[0x1f1] = setup_sects
    setup[0x1fe:0x200] = b"\x55\xaa"
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, version)
    stub = b"\x90" * 0x100
    struct.pack_into("<II", setup, 0x248, len(stub), len(payload))
    return bytes(setup) + stub + payload


def trailer(data):
    return struct.pack("<I", len(data) & 0xffffffff)


def parse_cpio(data):
    """{name: bytes} of a newc archive (an independent reader)."""
    out, off = {}, 0
    while True:
        assert data[off:off + 6] == b"070701", off
        f = [int(data[off + 6 + 8 * i:off + 14 + 8 * i], 16) for i in range(13)]
        size, namesize = f[6], f[11]
        name = data[off + 110:off + 110 + namesize - 1].decode()
        off = (off + 110 + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out[name] = data[off:off + size]
        off = (off + size + 3) & ~3


class Payloads(unittest.TestCase):
    def setUp(self):
        self.elf = shim_elf()

    def roundtrip(self, payload, method):
        elf, how = B.kernel_elf(bzimage(payload))
        self.assertEqual(elf, self.elf)
        self.assertEqual(how, f"bzImage, {method} payload")

    def test_plain_elf(self):
        self.assertEqual(B.kernel_elf(self.elf), (self.elf, "ELF"))

    def test_xz(self):
        self.roundtrip(lzma.compress(self.elf, format=lzma.FORMAT_XZ) + trailer(self.elf), "XZ")

    def test_zstd(self):            # the zstd tool: rig/fetch-xen.sh --deps installs it
        self.assertTrue(shutil.which("zstd"), "no zstd tool (rig/fetch-xen.sh --deps installs it)")
        z = subprocess.run(["zstd", "-q", "-c"], input=self.elf, capture_output=True, check=True).stdout
        self.roundtrip(z + trailer(self.elf), "zstd")

    def test_gzip(self):
        self.roundtrip(gzip.compress(self.elf), "gzip")

    def test_bzip2(self):
        self.roundtrip(bz2.compress(self.elf) + trailer(self.elf), "bzip2")

    def test_lzma(self):
        self.roundtrip(lzma.compress(self.elf, format=lzma.FORMAT_ALONE) + trailer(self.elf), "LZMA")

    def test_bad_size_trailer(self):
        with self.assertRaisesRegex(B.BootpackError, "size trailer"):
            B.kernel_elf(bzimage(lzma.compress(self.elf, format=lzma.FORMAT_XZ) + struct.pack("<I", 5)))

    def test_corrupt_xz(self):
        x = bytearray(lzma.compress(self.elf, format=lzma.FORMAT_XZ))
        x[len(x) // 2] ^= 0xff
        with self.assertRaisesRegex(B.BootpackError, "XZ payload"):
            B.kernel_elf(bzimage(bytes(x) + trailer(self.elf)))

    def test_corrupt_gzip(self):
        g = bytearray(gzip.compress(self.elf))
        g[len(g) // 2] ^= 0xff
        with self.assertRaisesRegex(B.BootpackError, "gzip payload"):
            B.kernel_elf(bzimage(bytes(g)))

    def test_truncated_xz(self):
        x = lzma.compress(self.elf, format=lzma.FORMAT_XZ)
        with self.assertRaisesRegex(B.BootpackError, "truncated"):
            B.kernel_elf(bzimage(x[:len(x) // 2]))

    def test_payload_outside_file(self):
        img = bytearray(bzimage(gzip.compress(self.elf)))
        struct.pack_into("<I", img, 0x24c, len(img))
        with self.assertRaisesRegex(B.BootpackError, "outside the file"):
            B.kernel_elf(bytes(img))

    def test_old_boot_protocol(self):
        with self.assertRaisesRegex(B.BootpackError, "2.08 or later"):
            B.kernel_elf(bzimage(gzip.compress(self.elf), version=0x206))

    def test_lz4_refused(self):
        with self.assertRaisesRegex(B.BootpackError, "unsupported method"):
            B.kernel_elf(bzimage(b"\x02\x21\x4c\x18" + b"\0" * 64))

    def test_payload_not_elf(self):
        with self.assertRaisesRegex(B.BootpackError, "not an ELF"):
            B.kernel_elf(bzimage(gzip.compress(b"hello")))

    def test_neither(self):
        with self.assertRaisesRegex(B.BootpackError, "neither an ELF nor a bzImage"):
            B.kernel_elf(b"\0" * 4096)

    def test_elf_without_xen_notes(self):
        with open(sys.executable, "rb") as f:
            exe = f.read()
        with self.assertRaisesRegex(B.BootpackError, "without Xen notes"):
            B.kernel_elf(exe)

    def test_32bit_elf(self):
        e = bytearray(self.elf)
        e[4] = 1
        with self.assertRaisesRegex(B.BootpackError, "64-bit"):
            B.kernel_elf(bytes(e))


class Archive(unittest.TestCase):
    def test_contents_and_determinism(self):
        elf = shim_elf()
        a, desc = B.build(elf, b"INITRD", "console=hvc0 x=1")
        self.assertEqual(parse_cpio(a), {"bootpack": B.MARKER, "kernel": elf, "initrd": b"INITRD",
                                         "cmdline": b"console=hvc0 x=1"})
        self.assertEqual(a[110:119], b"bootpack\0")          # the marker is the first entry
        self.assertEqual(len(a) % 512, 0)
        self.assertEqual(B.build(elf, b"INITRD", "console=hvc0 x=1")[0], a)
        self.assertIn("initrd 6 bytes", desc)

    def test_kernel_only(self):
        elf = shim_elf()
        self.assertEqual(parse_cpio(B.build(elf)[0]), {"bootpack": B.MARKER, "kernel": elf})

    def test_cmdline_limits(self):
        elf = shim_elf()
        B.build(elf, cmdline="x" * 1023)
        with self.assertRaisesRegex(B.BootpackError, "at most 1023"):
            B.build(elf, cmdline="x" * 1024)
        with self.assertRaisesRegex(B.BootpackError, "NUL"):
            B.build(elf, cmdline="a\0b")

    def test_command_line_tool(self):
        with tempfile.TemporaryDirectory() as td:
            out = os.path.join(td, "bp.cpio")
            p = subprocess.run([sys.executable, os.path.join(REPO, "tools", "bootpack.py"), "-o", out,
                                "--kernel", SHIM, "--cmdline", "hello"], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("kernel", p.stdout)
            with open(out, "rb") as f:
                self.assertEqual(parse_cpio(f.read())["cmdline"], b"hello")
            p = subprocess.run([sys.executable, os.path.join(REPO, "tools", "bootpack.py"), "-o", out,
                                "--kernel", sys.executable], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertIn("without Xen notes", p.stderr)


if __name__ == "__main__":
    unittest.main()
