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
RD = ("/x/rd-100.bin", 100 << 20, "ae374e84a5cb5902")     # the ramdisk of RD_LOG
SMP2_LOG = os.path.join(FIXTURES, "smp2-4.17.log")          # dom0_max_vcpus=2, smp-rounds=300


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
OK_SMP2 = guest_lines(SMP2_LOG)


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


CHAIN_SHIM_LOG = os.path.join(FIXTURES, "handoff-shim-4.17.log")
CHAIN_LINUX_LOG = os.path.join(FIXTURES, "handoff-linux-4.17.log")
LINUX_SHA256 = "5734b0a713591c9ae7bb58e77dfc63def05182b083dead05a2e3126e6ff04292"


def chain_rd(lines, stage2):
    """The bootpack tuple runner.bootpack() would give for a fixture: the pack's size and hash
    and the two bootpack lines as the log has them (the judge's own checks are what is tested)."""
    import re
    rd = next(l for l in lines if l.startswith("ramdisk: "))
    size, h = re.match(r"ramdisk: bytes=(\d+) xxh64=([0-9a-f]+)", rd).groups()
    bp = [re.escape(l) for l in lines if l.startswith("bootpack: ")][:2]
    return ("/x/pack.cpio", int(size), h, bp, stage2)


class Chain(unittest.TestCase):
    """The hand-off's judge: the first shim's checks and its switch, then the next kernel's."""
    shim = guest_lines(CHAIN_SHIM_LOG)
    linux = guest_lines(CHAIN_LINUX_LOG)

    def shim_rd(self, lines=None):
        lines = self.shim if lines is None else lines
        second = [l for l in lines if l.startswith("ramdisk: ")][1]
        return chain_rd(lines, {"ramdisk": second})

    def judge_shim(self, lines):
        return R.judge(C.BY_NAME["handoff-shim-4.17"], res("SUCCESS", "", lines, CHAIN_SHIM_LOG),
                       self.shim_rd())

    def judge_linux(self, lines, sha=LINUX_SHA256):
        return R.judge(C.BY_NAME["handoff-linux-4.17"], res("SUCCESS", "", lines, CHAIN_LINUX_LOG),
                       chain_rd(self.linux, {"sha256": sha}))

    def test_real_chains_pass(self):
        self.assertEqual(self.judge_shim(self.shim), (True, ""))
        self.assertEqual(self.judge_linux(self.linux), (True, ""))

    def test_no_switch_line(self):
        ok, msg = self.judge_shim([l for l in self.shim if "switching to L4" not in l])
        self.assertFalse(ok)
        self.assertIn("never said it switched", msg)

    def test_second_shim_must_report_the_same_record(self):
        bad = [l.replace("L1 133)", "L1 132)") if l.startswith("handoff-record: ") else l for l in self.shim]
        ok, msg = self.judge_shim(bad)
        self.assertFalse(ok)
        self.assertIn("^handoff-record: 144", msg)
        bad = [l for l in self.shim if not l.startswith("hand-off: record at")]
        self.assertFalse(self.judge_shim(bad)[0])

    def test_second_shim_needs_its_checks_after_the_switch(self):
        at = next(i for i, l in enumerate(self.shim) if "switching to L4" in l)
        second_checks = [i for i, l in enumerate(self.shim) if i > at and l.startswith("mmu: check after exercises")]
        bad = [l for i, l in enumerate(self.shim) if i not in second_checks]
        ok, msg = self.judge_shim(bad)
        self.assertFalse(ok)
        self.assertIn("second shim", msg)

    def test_first_shim_result_line_fails(self):
        at = next(i for i, l in enumerate(self.shim) if "switching to L4" in l)
        bad = self.shim[:at] + ["Test result: SUCCESS"] + self.shim[at:]
        self.assertFalse(self.judge_shim(bad)[0])

    def test_linux_order_and_values(self):
        self.assertFalse(self.judge_linux(self.linux, sha="0" * 64)[0])
        # /init's lines before Linux's banner: out of order.
        init = [l for l in self.linux if l.startswith("handoff-init: ")]
        rest = [l for l in self.linux if not l.startswith("handoff-init: ")]
        at = next(i for i, l in enumerate(rest) if "switching to L4" in l)
        self.assertFalse(self.judge_linux(rest[:at + 1] + init + rest[at + 1:])[0])
        bad = [l.replace("MemTotal ", "MemTotal 9") if "MemTotal" in l else l for l in self.linux]
        ok, msg = self.judge_linux(bad)
        self.assertFalse(ok)
        self.assertIn("MemTotal", msg)


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

    def test_smp_lines_are_computed_by_the_host(self):
        c = self.case("smp2-4.17")
        self.assertEqual(R.judge(c, res("SUCCESS", "", OK_SMP2, SMP2_LOG)), (True, ""))

        def without(pred):
            return R.judge(c, res("SUCCESS", "", [l for l in OK_SMP2 if not pred(l)], SMP2_LOG))
        # each vCPU's lines: its way up and down, its ring-3 test, its part of the stress
        for gone in ("vcpu 1: down", "vcpu 1: usermode: isolation ok", "vcpu 1: up: ",
                     "vcpu 0: stress: module space", "vcpu 1: stress: process mm",
                     "vcpu 0: stress: free while loaded", "smp: 2 vCPUs: each up"):
            ok, msg = without(lambda l, g=gone: l.startswith(g))
            self.assertFalse(ok, gone)
            self.assertIn("no guest line matches", msg)

        def edited(old, new):
            return R.judge(c, res("SUCCESS", "", [l.replace(old, new) for l in OK_SMP2], SMP2_LOG))
        self.assertFalse(edited("flush on vcpus 0x3", "flush on vcpus 0x1")[0])    # a local flush
        self.assertFalse(edited("300 rounds", "299 rounds")[0])
        self.assertFalse(edited("300 faults once unmapped", "299 faults once unmapped")[0])
        self.assertFalse(edited("mm_free waited ", "mm_free waited 0 yields; ")[0])
        # the same log is not a 4-vCPU run, and a 1-vCPU run must say why nothing ran
        self.assertFalse(R.judge(self.case("smp4-4.17"), res("SUCCESS", "", OK_SMP2, SMP2_LOG))[0])
        ok, msg = R.judge(self.case("default-nord-m256-4.17"),
                          res("SUCCESS", "", [l for l in OK_NORD if not l.startswith("smp: ")], NORD_LOG))
        self.assertFalse(ok)
        self.assertIn("smp: 1 vCPU", msg)

    def test_smp_cases_name_their_rounds(self):
        # the judge computes each vCPU's counts from smp-rounds= on the case's command line
        for c in C.CASES:
            if c.vcpus > 1 and c.expects_success and not c.chain:
                self.assertIsNotNone(C.smp_rounds(c.args), c.name)
                self.assertEqual(len(C.smp_lines(c.vcpus, C.smp_rounds(c.args))), 3 + 3 * (c.vcpus - 1) + 2 * c.vcpus)

    def test_smp_regressions(self):
        c = self.case("bug-no-tlb-shootdown-4.17")
        stale = ("vcpu 0: stress: module space 0xffffffffa0000000: round 1: read 0x535452450cacfffe after "
                 "vcpu 1 unmapped it: a stale TLB entry (that is the freed frame's new contents)")
        self.assertTrue(R.judge(c, res("FAILURE", stale))[0])
        self.assertFalse(R.judge(c, res("FAILURE", "vcpu 1: usermode: something else"))[0])
        self.assertEqual(c.control, "smp2-4.17")
        self.assertEqual(c.vcpus, 2)
        c = self.case("bug-free-loaded-mm-4.17")
        refused = ("vcpu 0: smp: mm_free: the L4s writable again: mmu_update request 1 of 2 (NORMAL_PT_UPDATE "
                   "ptr 0x20009c98: mfn 0x20009 slot 403, val 0x800000002ed0b063) failed: -16")
        self.assertTrue(R.judge(c, res("ERROR", refused))[0])
        self.assertFalse(R.judge(c, res("ERROR", refused.replace("-16", "-22")))[0])
        # -16 from another update of the smp phase is not this bug
        self.assertFalse(R.judge(c, res("ERROR", refused.replace("mm_free: the L4s writable again: ", "")))[0])
        self.assertFalse(R.judge(c, res("FAILURE", stale))[0])

    def test_rig_error_fails(self):
        ok, msg = R.judge(self.case("default-nord-m256-4.17"), {"rig_error": "no qemu", "t": 0, "log": "l"})
        self.assertFalse(ok)
        self.assertIn("no qemu", msg)


if __name__ == "__main__":
    unittest.main()
