#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of boot.py's log judge, on serial output seen from Xen 4.17 and 4.20.
Run: python3 rig/test_judge.py (no QEMU needed)."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from boot import Judge  # noqa: E402

BUILD_FAIL = """\
(XEN) *** Building a PV Dom0 ***
(XEN) ELF: not an ELF binary
(XEN) 
(XEN) ****************************************
(XEN) Panic on CPU 0:
(XEN) Could not construct domain 0
(XEN) ****************************************
(XEN) 
(XEN) Reboot in five seconds..."""

HANDOVER = """\
(XEN) *** Serial input to DOM0 (type 'CTRL-a' three times to switch input)
(XEN) Freed 656kB init memory
tk: hello from a tiny PV kernel"""

GUEST_FAULT = HANDOVER + """
(XEN) d0v0 Unhandled: vec 6, #UD[ffffffff]
(XEN) domain_crash_sync called from entry.S: fault at ffff82d040204b78 x86_64/entry.S#create_bounce_frame+0x14f/0x177
(XEN) Domain 0 (vcpu#0) crashed on cpu#0:
(XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds."""


def judge(text):
    j = Judge()
    for i, line in enumerate(text.splitlines()):
        j.feed(line, float(i))
    return j


class JudgeTest(unittest.TestCase):
    def test_dom0_build_failure(self):
        j = judge(BUILD_FAIL)
        self.assertEqual(j.verdict(), ("CRASH", "Panic on CPU 0: Could not construct domain 0"
                                                " [ELF: not an ELF binary]"))
        self.assertTrue(j.final)
        self.assertIsNone(j.t_handover)

    def test_success_then_halt(self):
        j = judge(HANDOVER + "\nTest result: SUCCESS\n(XEN) Hardware Dom0 halted: halting machine")
        self.assertEqual(j.verdict(), ("SUCCESS", ""))
        self.assertEqual((j.t_handover, j.t_result), (1.0, 3.0))
        self.assertEqual(j.guest_lines, ["tk: hello from a tiny PV kernel", "Test result: SUCCESS"])
        self.assertTrue(j.final)

    def test_prefixed_guest_lines(self):
        for prefix in ("(d0) ", "(XEN) (d0) ", "(XEN) "):
            j = judge(HANDOVER + f"\n{prefix}Test result: FAILURE 2 + 2 != 5")
            self.assertEqual(j.verdict(), ("FAILURE", "2 + 2 != 5"), prefix)

    def test_failure_then_crash_shutdown_stays_failure(self):
        j = judge(HANDOVER + "\nTest result: ERROR no memory\n"
                  "(XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds.")
        self.assertEqual(j.verdict(), ("ERROR", "no memory"))

    def test_success_then_crash_is_crash(self):
        j = judge(HANDOVER + "\nTest result: SUCCESS\n"
                  "(XEN) Hardware Dom0 crashed: rebooting machine in 5 seconds.")
        self.assertEqual(j.verdict()[0], "CRASH")

    def test_guest_fault(self):
        j = judge(GUEST_FAULT)
        self.assertEqual(j.verdict(), ("CRASH", "d0v0 Unhandled: vec 6, #UD[ffffffff]"))

    def test_nothing_decisive(self):
        self.assertIsNone(judge(HANDOVER).verdict())
        self.assertIsNone(judge(HANDOVER).settle_time())


if __name__ == "__main__":
    unittest.main()
