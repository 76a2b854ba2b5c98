#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of the e2e matrix and its judge (no QEMU): python3 tests/e2e/test_runner.py"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as C    # noqa: E402
import runner as R   # noqa: E402

RD = ("/x/rd-100.bin", 100 << 20, "287874e2895edeba")


def res(verdict, reason="", lines=()):
    return {"verdict": verdict, "reason": reason, "guest_lines": list(lines), "t": 1.0, "log": "l"}


OK_NORD = ["shim: Xen 4.17, dom0", "ramdisk: none", "mmu: ok", "Test result: SUCCESS"]
OK_RD = ["start_info: ramdisk pfn 0x400 mod_len=104857600",
         f"ramdisk: bytes={RD[1]} xxh64={RD[2]}", "mmu: ok", "Test result: SUCCESS"]


class Matrix(unittest.TestCase):
    def test_variant_names_follow_the_makefile(self):
        self.assertEqual(C.variant({}), "shim")
        self.assertEqual(C.variant({"MAPPED_RAMDISK": "1"}), "shim-mapped")
        self.assertEqual(C.variant({"KERNEL_IMAGE_SIZE": "1G"}), "shim-1g")
        self.assertEqual(C.variant({"MAPPED_RAMDISK": "1", "KERNEL_IMAGE_SIZE": "1G",
                                    "BUG": "pgtbuf-rw"}), "shim-mapped-1g-bug-pgtbuf-rw")

    def test_every_xen_has_the_whole_matrix(self):
        for x in C.XENS:
            names = {c.name[:-len(x) - 1] for c in C.CASES if c.xen == x}
            self.assertEqual(len(names), 15)
        self.assertEqual(len(C.CASES), 15 * len(C.XENS))

    def test_regression_cases_reference_a_passing_config(self):
        bugs = [c for c in C.CASES if c.control]
        self.assertEqual(len(bugs), 3 * len(C.XENS))
        for c in bugs:
            ctl = C.BY_NAME[c.control]
            self.assertTrue(ctl.expects_success)
            self.assertEqual(ctl.xen, c.xen)
            self.assertEqual((ctl.mem, ctl.ramdisk, ctl.args), (c.mem, c.ramdisk, c.args))
            mv = dict(c.make_vars)
            self.assertIn(mv.pop("BUG"), C.BUGS)
            self.assertEqual(mv, dict(ctl.make_vars))
            self.assertEqual(c.expect, {"FAILURE", "ERROR", "CRASH"})
        fixmap = [c for c in bugs if "fixmap" in c.name]
        self.assertTrue(all(dict(c.make_vars)["KERNEL_IMAGE_SIZE"] == "1G" for c in fixmap))

    def test_make_args_name_every_switch(self):
        self.assertEqual(R.make_args(C.MAPPED),
                         ["MAPPED_RAMDISK=1", "KERNEL_IMAGE_SIZE=512M", "BUG="])


class Judge(unittest.TestCase):
    def case(self, name):
        return C.BY_NAME[name]

    def test_success(self):
        self.assertEqual(R.judge(self.case("default-nord-m256-4.17"), res("SUCCESS", "", OK_NORD)),
                         (True, ""))
        self.assertTrue(R.judge(self.case("default-rd100-m512-4.17"), res("SUCCESS", "", OK_RD), RD)[0])

    def test_success_needs_the_required_lines(self):
        ok, msg = R.judge(self.case("default-nord-m256-4.17"),
                          res("SUCCESS", "", [l for l in OK_NORD if l != "mmu: ok"]))
        self.assertFalse(ok)
        self.assertIn("/^mmu: ok$/", msg)
        C.REQUIRED_SUCCESS_LINES.append(r"^usermode: isolation ok$")
        try:
            self.assertFalse(R.judge(self.case("default-nord-m256-4.17"), res("SUCCESS", "", OK_NORD))[0])
        finally:
            C.REQUIRED_SUCCESS_LINES.pop()

    def test_ramdisk_line_must_match_the_host(self):
        c = self.case("default-rd100-m512-4.17")
        bad = [l.replace(RD[2], "0" * 16) for l in OK_RD]
        ok, msg = R.judge(c, res("SUCCESS", "", bad), RD)
        self.assertFalse(ok)
        self.assertIn("xxh64=" + RD[2], msg)
        self.assertFalse(R.judge(self.case("default-nord-m256-4.17"), res("SUCCESS", "", OK_RD))[0])
        self.assertFalse(R.judge(c, res("SUCCESS", "", OK_NORD), RD)[0])
        # the mapped variant must get a va, the default one a pfn
        self.assertFalse(R.judge(self.case("mapped-rd100-m512-4.17"), res("SUCCESS", "", OK_RD), RD)[0])

    def test_wrong_verdict(self):
        ok, msg = R.judge(self.case("default-nord-m256-4.20"),
                          res("CRASH", "d0v0 Unhandled: vec 14", ["mmu: build"]))
        self.assertFalse(ok)
        self.assertIn("expected SUCCESS, got CRASH d0v0 Unhandled", msg)
        self.assertIn("mmu: build", msg)

    def test_bad_input(self):
        c = self.case("bad-mapped-rd1200-m2048-4.17")
        self.assertTrue(R.judge(c, res("ERROR", "Xen's initial mapping crosses 1 GiB (boot L3[511])"))[0])
        self.assertFalse(R.judge(c, res("ERROR", "something else"))[0])
        self.assertFalse(R.judge(c, res("FAILURE", "crosses 1 GiB"))[0])
        self.assertFalse(R.judge(c, res("SUCCESS", "", OK_RD))[0])

    def test_regression(self):
        c = self.case("bug-no-user-l4-4.17")
        for v in ("FAILURE", "ERROR", "CRASH"):
            ok, msg = R.judge(c, res(v, "why"))
            self.assertTrue(ok)
            self.assertEqual(msg, f"caught: {v} why")
        self.assertFalse(R.judge(c, res("SUCCESS", "", OK_NORD))[0])
        self.assertFalse(R.judge(c, res("TIMEOUT", "no result within 180s"))[0])

    def test_rig_error_fails(self):
        ok, msg = R.judge(self.case("default-nord-m256-4.17"), {"rig_error": "no qemu", "t": 0, "log": "l"})
        self.assertFalse(ok)
        self.assertIn("no qemu", msg)


if __name__ == "__main__":
    unittest.main()
