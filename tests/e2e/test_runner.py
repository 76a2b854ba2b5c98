#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of the e2e matrix and its judge (no QEMU): python3 tests/e2e/test_runner.py"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases as C    # noqa: E402
import runner as R   # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "..", "rig"))
import boot as B     # noqa: E402

# Real serial logs of two Xen 4.17 boots (fixtures/): the judge reads Xen's
# own lines from the log and the guest's lines as boot.py's Judge extracts them.
FIXTURES = os.path.join(HERE, "fixtures")
NORD_LOG = os.path.join(FIXTURES, "default-nord-m256-4.17.log")
RD_LOG = os.path.join(FIXTURES, "default-rd100-m512-4.17.log")
RD = ("/x/rd-100.bin", 100 << 20, "f4f662aaa53aa407")     # the ramdisk of RD_LOG


def guest_lines(log):
    j = B.Judge()
    with open(log, errors="replace") as f:
        for line in f:
            j.feed(line.rstrip("\n"), 0.0)
    return j.guest_lines


def res(verdict, reason="", lines=(), log="l"):
    return {"verdict": verdict, "reason": reason, "guest_lines": list(lines), "t": 1.0, "log": log}


OK_NORD = guest_lines(NORD_LOG)
OK_RD = guest_lines(RD_LOG)


def ok_nord():
    return res("SUCCESS", "", OK_NORD, NORD_LOG)


def ok_rd(lines=None):
    return res("SUCCESS", "", OK_RD if lines is None else lines, RD_LOG)


class Matrix(unittest.TestCase):
    def test_variant_names_follow_the_makefile(self):
        self.assertEqual(C.variant({}), "shim")
        self.assertEqual(C.variant({"MAPPED_RAMDISK": "1"}), "shim-mapped")
        self.assertEqual(C.variant({"KERNEL_IMAGE_SIZE": "1G"}), "shim-1g")
        self.assertEqual(C.variant({"MAPPED_RAMDISK": "1", "KERNEL_IMAGE_SIZE": "1G",
                                    "BUG": "pgtbuf-rw"}), "shim-mapped-1g-bug-pgtbuf-rw")

    def test_every_xen_has_the_whole_matrix(self):
        per_xen = [{c.name[:-len(x) - 1] for c in C.CASES if c.xen == x} for x in C.XENS]
        self.assertTrue(all(names == per_xen[0] for names in per_xen))
        self.assertEqual(len(C.CASES), len(per_xen[0]) * len(C.XENS))
        self.assertGreaterEqual(len(per_xen[0]), 25)

    def test_regression_cases_reference_a_passing_config(self):
        bugs = [c for c in C.CASES if c.control]
        self.assertEqual({dict(c.make_vars)["BUG"] for c in bugs}, set(C.BUGS))
        for c in bugs:
            ctl = C.BY_NAME[c.control]
            self.assertTrue(ctl.expects_success)
            self.assertEqual(ctl.xen, c.xen)
            self.assertEqual((ctl.mem, ctl.ramdisk, ctl.args, ctl.no_nx),
                             (c.mem, c.ramdisk, c.args, c.no_nx))
            mv = dict(c.make_vars)
            self.assertIn(mv.pop("BUG"), C.BUGS)
            self.assertEqual(mv, dict(ctl.make_vars))
            self.assertEqual(c.expect, {"FAILURE", "ERROR", "CRASH"})
        fixmap = [c for c in bugs if "fixmap" in c.name]
        self.assertTrue(all(dict(c.make_vars)["KERNEL_IMAGE_SIZE"] == "1G" for c in fixmap))

    def test_make_args_name_every_switch(self):
        self.assertEqual(R.make_args(C.MAPPED),
                         ["MAPPED_RAMDISK=1", "KERNEL_IMAGE_SIZE=512M", "INIT_P2M=0", "BUG="])


class Judge(unittest.TestCase):
    def case(self, name):
        return C.BY_NAME[name]

    def test_success(self):
        self.assertEqual(R.judge(self.case("default-nord-m256-4.17"), ok_nord()), (True, ""))
        self.assertEqual(R.judge(self.case("default-rd100-m512-4.17"), ok_rd(), RD), (True, ""))

    def test_success_needs_the_required_lines(self):
        ok, msg = R.judge(self.case("default-nord-m256-4.17"),
                          res("SUCCESS", "", [l for l in OK_NORD if l != "mmu: ok"], NORD_LOG))
        self.assertFalse(ok)
        self.assertIn("/^mmu: ok$/", msg)
        C.REQUIRED_SUCCESS_LINES.append(r"^usermode: isolation perfect$")
        try:
            self.assertFalse(R.judge(self.case("default-nord-m256-4.17"), ok_nord())[0])
        finally:
            C.REQUIRED_SUCCESS_LINES.pop()

    def test_counts_are_computed_by_the_host(self):
        c = self.case("default-nord-m256-4.17")
        bad = [l.replace("pt_pages=", "pt_pages=1") if l.startswith("mmu: build ") else l for l in OK_NORD]
        ok, msg = R.judge(c, res("SUCCESS", "", bad, NORD_LOG))
        self.assertFalse(ok)
        self.assertIn("the host computed", msg)
        self.assertFalse(R.judge(self.case("default-nord-m4096-4.17"), ok_nord())[0])

    def test_ramdisk_line_must_match_the_host(self):
        c = self.case("default-rd100-m512-4.17")
        ok, msg = R.judge(c, ok_rd([l.replace(RD[2], "0" * 16) for l in OK_RD]), RD)
        self.assertFalse(ok)
        self.assertIn("xxh64=" + RD[2], msg)
        self.assertFalse(R.judge(self.case("default-nord-m256-4.17"), res("SUCCESS", "", OK_RD, NORD_LOG))[0])
        self.assertFalse(R.judge(c, res("SUCCESS", "", OK_NORD, RD_LOG), RD)[0])
        # the mapped variant must get a va, the default one a pfn
        self.assertFalse(R.judge(self.case("mapped-rd100-m512-4.17"), ok_rd(), RD)[0])

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
        self.assertFalse(R.judge(c, ok_rd(), RD)[0])

    def test_regression(self):
        c = self.case("bug-no-user-l4-4.17")
        why = "usermode: ring 3 read kernel address 0x1 without a fault: the kernel is visible to user mode"
        for v in ("FAILURE", "ERROR", "CRASH"):
            ok, msg = R.judge(c, res(v, why))
            self.assertTrue(ok)
            self.assertEqual(msg, f"caught: {v} {why}")
            # caught, but for another reason than this bug's: not a catch
            self.assertFalse(R.judge(c, res(v, "something else broke"))[0])
        self.assertFalse(R.judge(c, ok_nord())[0])
        self.assertFalse(R.judge(c, res("TIMEOUT", "no result within 180s"))[0])
        # a catch counts only with the control passing: run_all.py holds it until then
        self.assertEqual(c.control, "nostrict-default-nord-m256-4.17")

    def test_rig_error_fails(self):
        ok, msg = R.judge(self.case("default-nord-m256-4.17"), {"rig_error": "no qemu", "t": 0, "log": "l"})
        self.assertFalse(ok)
        self.assertIn("no qemu", msg)


if __name__ == "__main__":
    unittest.main()
