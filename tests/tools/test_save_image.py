#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench/save_image.py against images built here from the stream specs' layouts:
the pages with data, the pfns, the table types (pinned ones too) and every way a
broken image must be refused."""
import os
import struct
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import save_image  # noqa: E402

T = save_image.pfinfo_types()


def record(rtype, body):
    return struct.pack("<II", rtype, len(body)) + body + b"\0" * (-len(body) % 8)


def page_data(entries):
    """entries: (pfn, type name or (name, 'pinned')); data for each that has it."""
    pfns, data = [], b""
    for pfn, kind in entries:
        pinned = isinstance(kind, tuple)
        t = T[kind[0] if pinned else kind] | (T["LPINTAB"] if pinned else 0)
        pfns.append(pfn | (t << 60))
        if t not in (T["XTAB"], T["XALLOC"], T["BROKEN"]):
            data += bytes([pfn & 0xff]) * 4096
    return record(1, struct.pack("<II", len(pfns), 0) + struct.pack(f"<{len(pfns)}Q", *pfns) + data)


def image(records, config=b'{"c_info": {}}\0', xl_magic=save_image.XL_MAGIC, libxc_version=3):
    opt = struct.pack("<I", len(config)) + config
    out = xl_magic + struct.pack("<IIII", 0x01020304, 3, 0, len(opt)) + opt
    out += struct.pack(">8sII", b"LibxlFmt", 2, 0) + record(1, b"")
    out += struct.pack(">QIIH6x", (1 << 64) - 1, 0x58454E46, libxc_version, 0)
    out += struct.pack("<IH2xII", 1, 12, 4, 20)
    return out + b"".join(records)


GOOD = [record(2, b"\0" * 8),
        page_data([(0, "NOTAB"), (1, ("L4TAB", "pinned")), (2, "L1TAB"), (3, "XTAB"), (4, "L2TAB")]),
        page_data([(5, "L3TAB"), (6, "XALLOC"), (7, "BROKEN"), (8, ("L4TAB", "pinned"))]),
        record(0, b"")]


class SaveImage(unittest.TestCase):
    def read(self, data):
        with tempfile.NamedTemporaryFile(suffix=".img") as f:
            f.write(data + b"\xaa" * 4096)          # a scratch disk goes on past the END
            f.flush()
            return save_image.read(f.name)

    def test_counts(self):
        r = self.read(image(GOOD))
        self.assertEqual(r["xen"], "4.20")
        self.assertEqual(r["pfns"], 9)
        self.assertEqual(r["pages"], 6)
        self.assertEqual(r["tables"], {1: 1, 2: 1, 3: 1, 4: 2})
        self.assertEqual(r["pinned"], 2)
        self.assertEqual(r["page_records"], 2)
        self.assertEqual(r["bytes"], len(image(GOOD)))

    def test_version_2_stream(self):
        self.assertEqual(self.read(image(GOOD, libxc_version=2))["pages"], 6)

    def refused(self, data, why):
        with self.assertRaisesRegex(save_image.ImageError, why):
            self.read(data)

    def test_not_xl(self):
        self.refused(image(GOOD, xl_magic=b"X" * 32), "no xl magic")

    def test_no_end(self):
        with tempfile.NamedTemporaryFile(suffix=".img") as f:
            f.write(image(GOOD[:-1]))
            f.flush()
            with self.assertRaisesRegex(save_image.ImageError, "ends inside"):
                save_image.read(f.name)

    def test_page_data_length(self):
        bad = bytearray(page_data([(0, "NOTAB"), (1, "NOTAB")]))
        bad[4:8] = struct.pack("<I", 8 + 16 + 4096)  # one page short, still 8-aligned
        self.refused(image([bytes(bad[:8 + 8 + 16 + 4096]), record(0, b"")]), "PAGE_DATA record of 2 pfns")

    def test_hvm_image(self):
        data = bytearray(image(GOOD))
        at = data.index(struct.pack(">I", 0x58454E46)) + 20
        data[at:at + 4] = struct.pack("<I", 2)
        self.refused(bytes(data), "not an x86 PV image")


if __name__ == "__main__":
    unittest.main()
