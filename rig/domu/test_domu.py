#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of the domU rig's host side (no QEMU, no Xen): the serial-log
protocol and verdicts (run.Session), the ramdisk expectations, gzip padding,
the cpio writer and the ELF reader of build_dom0.

    python3 rig/domu/test_domu.py
"""
import gzip
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import unittest
import unittest.mock

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import build_dom0  # noqa: E402
import run as R  # noqa: E402

R.XXH_CACHE = None          # no writes into build/ from the tests


def feed(sess, text):
    for i, line in enumerate(text.strip("\n").splitlines()):
        sess.feed(line, float(i))


def session(cases, xen="4.17", given=None):
    results = [R.CaseResult(c.name, None, None, "") for c in cases]
    ids = [f"{i + 1:02d}" for i in range(len(cases))]
    return R.Session(xen, cases, results, ids, None, given or {}), results


class SessionTest(unittest.TestCase):
    def test_success_with_timestamps_and_shutdown(self):
        s, rs = session([R.Case("a", "k")])
        feed(s, """
(XEN) Freed 656kB init memory
@@RIG dom0-ready up=5.2 disks=
@@RIG case-begin 01 name=a up=5.3
@@XL 01| Parsing config from /cases/01/cfg
@@RIG xl-create 01 rc=0 domid=1 up=6.0
@@RIG result 01 up=6.5
@@GUEST 01| [2026-11-22 00:03:56] Logfile Opened
@@GUEST 01| [2026-11-22 00:03:56] shim: hello\r
@@GUEST 01| [2026-11-22 00:03:57] Test result: SUCCESS
@@RIG case-end 01 status=result shutdown=0 up-create=5.3 up-created=6.0 up-result=6.5
@@RIG all-done up=7
""")
        r = rs[0]
        self.assertEqual((r.verdict, r.exit_code, r.shutdown), ("SUCCESS", 0, "poweroff"))
        self.assertEqual(r.guest_lines, ["shim: hello", "Test result: SUCCESS"])
        self.assertEqual(r.t_create_to_result, 3.0)     # line 2 -> line 5
        self.assertEqual(r.t_ready_to_result, 4.0)
        self.assertTrue(s.done)

    def test_logfile_opened_without_stamp(self):
        s, rs = session([R.Case("a", "k")])
        feed(s, """
@@RIG case-begin 01 name=a up=1
@@GUEST 01| Logfile Opened
@@GUEST 01| [2026-11-22 00:03:56] Test result: SUCCESS
@@RIG case-end 01 status=result shutdown=0 up-create=1 up-created=2 up-result=2
""")
        self.assertEqual(rs[0].guest_lines, ["Test result: SUCCESS"])

    def test_crash_after_success(self):
        s, rs = session([R.Case("a", "k")])
        feed(s, """
@@RIG dom0-ready up=1
@@RIG case-begin 01 name=a up=1
@@RIG xl-create 01 rc=0 domid=1 up=2
@@GUEST 01| Test result: SUCCESS
@@RIG case-end 01 status=result shutdown=3 up-create=1 up-created=2 up-result=2
""")
        self.assertEqual(rs[0].verdict, "CRASH")
        self.assertIn("after 'Test result: SUCCESS'", rs[0].reason)

    def test_failure_then_crash_is_failure(self):
        s, rs = session([R.Case("a", "k")])
        feed(s, """
@@RIG case-begin 01 name=a up=1
@@GUEST 01| Test result: FAILURE bad thing
@@RIG case-end 01 status=result shutdown=3 up-create=1 up-created=2 up-result=2
""")
        self.assertEqual((rs[0].verdict, rs[0].exit_code, rs[0].reason), ("FAILURE", 5, "bad thing"))

    def test_xl_refusal_is_error_with_xls_words(self):
        s, rs = session([R.Case("a", "k", expect=["ERROR"], reason_re="too large")])
        feed(s, """
@@RIG case-begin 01 name=a up=1
@@XL 01| libxl: debug: whatever
@@XL 01| xc: error: panic: xg_dom_core.c:536: xc_dom_chk_alloc_pages: segment module0 too large (0x6400 > 0x4000 - 0x400 pages): Out of memory
@@XL 01| libxl: error: libxl_domain.c:1183:libxl__destroy_domid: Domain 4:Non-existant domain
@@RIG xl-create 01 rc=3 domid=4 up=2
@@RIG case-end 01 status=xl-failed shutdown=- up-create=1 up-created=2 up-result=-
""")
        r = rs[0]
        self.assertEqual((r.verdict, r.exit_code, r.passed), ("ERROR", 4, True))
        self.assertIn("segment module0 too large", r.reason)
        self.assertNotIn("Non-existant", r.reason)

    def test_silent_and_dead_domains_are_crash(self):
        s, rs = session([R.Case("a", "k"), R.Case("b", "k")])
        feed(s, """
@@RIG case-begin 01 name=a up=1
@@GUEST 01| booting
@@RIG case-end 01 status=timeout shutdown=- up-create=1 up-created=2 up-result=-
@@RIG case-begin 02 name=b up=1
@@RIG case-end 02 status=gone shutdown=3 up-create=1 up-created=2 up-result=-
""")
        self.assertEqual([r.verdict for r in rs], ["CRASH", "CRASH"])
        self.assertIn("bounded wait", rs[0].reason)
        self.assertIn("(crash)", rs[1].reason)

    def test_rig_line_glued_to_unterminated_guest_output(self):
        s, rs = session([R.Case("a", "k")])
        feed(s, """
@@RIG case-begin 01 name=a up=1
~ # @@RIG case-end 01 status=timeout shutdown=- up-create=1 up-created=2 up-result=-
""")
        self.assertEqual(rs[0].verdict, "CRASH")

    def test_guest_cannot_forge_rig_lines(self):
        s, rs = session([R.Case("a", "k")])
        feed(s, """
@@RIG case-begin 01 name=a up=1
@@GUEST 01| @@RIG all-done up=1
@@GUEST 01| Test result: SUCCESS
@@RIG case-end 01 status=result shutdown=0 up-create=1 up-created=2 up-result=2
""")
        self.assertFalse(s.done)
        self.assertEqual(rs[0].verdict, "SUCCESS")

    def test_require(self):
        s, rs = session([R.Case("a", "k", require=[r'^start_info: cmdline="x"$'])])
        feed(s, """
@@RIG case-begin 01 name=a up=1
@@GUEST 01| start_info: cmdline=""
@@GUEST 01| Test result: SUCCESS
@@RIG case-end 01 status=result shutdown=0 up-create=1 up-created=2 up-result=2
""")
        self.assertEqual(rs[0].verdict, "FAILURE")

    def test_order_same_groups_and_memtotal(self):
        # The hand-off's cases: lines in order, two lines that must agree, MemTotal in range.
        order = [r"^hand-off: record (\d+)$", r"^switch$", r"^second record (\d+)$", r"^Test result: SUCCESS"]
        mk = lambda n: R.Case(n, "k", order=order, same_groups=(order[0], order[2]),
                              memtotal_kb=(100, 200))

        def run(lines):
            s, rs = session([mk("a")])
            feed(s, "@@RIG case-begin 01 name=a up=1\n" +
                 "".join(f"@@GUEST 01| {ln}\n" for ln in lines) +
                 "@@RIG case-end 01 status=result shutdown=0 up-create=1 up-created=2 up-result=2\n")
            return rs[0]
        good = ["hand-off: record 7", "switch", "second record 7", "handoff-init: MemTotal 150 kB",
                "Test result: SUCCESS"]
        self.assertEqual(run(good).verdict, "SUCCESS")
        r = run(["switch", "hand-off: record 7", "second record 7", "handoff-init: MemTotal 150 kB",
                 "Test result: SUCCESS"])
        self.assertEqual(r.verdict, "FAILURE")
        self.assertIn("after the ones before it", r.reason)
        r = run([ln.replace("second record 7", "second record 8") for ln in good])
        self.assertEqual(r.verdict, "FAILURE")
        self.assertIn("differ", r.reason)
        r = run([ln.replace("MemTotal 150", "MemTotal 250") for ln in good])
        self.assertEqual(r.verdict, "FAILURE")
        self.assertIn("MemTotal [250]", r.reason)

    def test_xl_failed_after_unpausing_the_domain(self):
        # Xen 4.20's xl once segfaulted at exit after unpausing the domain, and once its
        # monitoring daemon aborted: the guest is judged, and the case says what xl did.
        # A crash after the result still counts; without a domain it stays an xl failure.
        s, rs = session([R.Case("a", "k"), R.Case("b", "k"), R.Case("c", "k"), R.Case("d", "k")])
        feed(s, """
@@RIG case-begin 01 name=a up=1
@@XL 01| Segmentation fault
@@RIG xl-create 01 rc=139 domid=4 up=2
@@RIG xl-late 01 rc=139 domid=4
@@GUEST 01| Test result: SUCCESS
@@RIG case-end 01 status=result shutdown=0 up-create=1 up-created=2 up-result=3
@@RIG case-begin 02 name=b up=4
@@XL 02| Segmentation fault
@@RIG xl-create 02 rc=139 domid=- up=5
@@RIG case-end 02 status=xl-failed shutdown=- up-create=4 up-created=5 up-result=-
@@RIG case-begin 03 name=c up=6
@@XL 03| libxl: error: libxl_exec.c:127:libxl_report_child_exitstatus: domain monitoring daemonizing child [203] died due to fatal signal Aborted
@@RIG xl-create 03 rc=1 domid=5 up=7
@@RIG xl-late 03 rc=1 domid=5
@@GUEST 03| Test result: SUCCESS
@@RIG case-end 03 status=result shutdown=- up-create=6 up-created=7 up-result=8
@@RIG case-begin 04 name=d up=9
@@XL 04| libxl: error: libxl_exec.c:127:libxl_report_child_exitstatus: domain monitoring daemonizing child [204] died due to fatal signal Aborted
@@RIG xl-create 04 rc=1 domid=6 up=10
@@RIG xl-late 04 rc=1 domid=6
@@GUEST 04| Test result: SUCCESS
@@RIG case-end 04 status=result shutdown=3 up-create=9 up-created=10 up-result=11
""")
        self.assertEqual(rs[0].verdict, "SUCCESS")
        self.assertIn("xl create failed after unpausing the domain (exit 139, signal 11: "
                      "Segmentation fault)", rs[0].reason)
        self.assertEqual(rs[1].verdict, "ERROR")
        self.assertIn("xl create failed: Segmentation fault", rs[1].reason)
        self.assertEqual(rs[2].verdict, "SUCCESS")
        self.assertIn("(exit 1: libxl: error: libxl_exec.c:127:libxl_report_child_exitstatus: "
                      "domain monitoring daemonizing child [203] died", rs[2].reason)
        self.assertEqual(rs[3].verdict, "CRASH")
        self.assertIn("domain shut down (crash) after 'Test result: SUCCESS'", rs[3].reason)

    def test_xl_run_runner(self):
        s, rs = session([R.Case("a", "k", runner="xl-run"), R.Case("b", "k", runner="xl-run")])
        feed(s, """
@@RIG case-begin 01 name=a up=1
@@XLRUN 01| shim: hello
@@XLRUN 01| Test result: SUCCESS
@@XLRUN 01| xl-run: SUCCESS (create 3.3s, create->result 5.4s)
@@RIG case-end 01 status=xl-run rc=0 up-create=1 up-created=- up-result=6
@@RIG case-begin 02 name=b up=1
@@XLRUN 02| xl-run: CRASH no result line within 15s; destroyed (create 9.8s)
@@RIG case-end 02 status=xl-run rc=6 up-create=1 up-created=- up-result=6
""")
        self.assertEqual((rs[0].verdict, rs[0].reason, rs[0].guest_lines),
                         ("SUCCESS", "", ["shim: hello", "Test result: SUCCESS"]))
        self.assertEqual((rs[1].verdict, rs[1].reason),
                         ("CRASH", "no result line within 15s; destroyed"))

    def test_xen_fatal(self):
        s, _ = session([R.Case("a", "k")])
        feed(s, "(XEN) Panic on CPU 0:\n")
        self.assertTrue(s.fatal.startswith("Panic on CPU"))

    def test_exit_code_worst_wins_and_expect(self):
        rr = R.RunResult("4.17", [R.CaseResult("a", "SUCCESS", 0, ""), R.CaseResult("b", "SKIP", 3, ""),
                                  R.CaseResult("c", "ERROR", 4, "", passed=True)])
        self.assertEqual(rr.exit_code, 3)
        rr.cases.append(R.CaseResult("d", "CRASH", 6, ""))
        self.assertEqual(rr.exit_code, 6)


class LifecycleTest(unittest.TestCase):
    """Lifecycle cases (ops): dom0's operations and the guest's rounds must agree."""

    LOG = """
@@RIG case-begin 01 name=a up=1
@@RIG xl-create 01 rc=0 domid=1 up=2
@@RIG op-wait 01 round=0 ok up=3
@@RIG op-begin 01 save-restore round=1 up=3
@@XL 01| $ save rig-01 /tmp/save-01.img
@@XL 01| (exit {rc1})
@@XL 01| $ restore /tmp/save-01.img
@@XL 01| {msg}
@@XL 01| (exit {rc2})
{late}@@RIG op-end 01 save-restore rc={rc2} up=9
@@RIG op-begin 01 save-c round=2 up=10
@@XL 01| (exit 0)
@@RIG op-end 01 save-c rc=0 up=11
@@INSPECT 01| inspect: round 0 p2m via list: 100 pfns xxh64=00000000000000f0; typed L1 1 L2 1 L3 1 L4 2: 5 frames xxh64=00000000000000e0; 9 entries, all the domain's own (and 1 shared_info)
@@INSPECT 01| inspect: round 1 p2m via list: 100 pfns xxh64=00000000000000f0; typed L1 1 L2 1 L3 1 L4 2: {f1} frames xxh64=00000000000000e0; 9 entries, all the domain's own (and 1 shared_info)
@@INSPECT 01| inspect: round 2 p2m via list: 100 pfns xxh64=00000000000000f0; typed L1 1 L2 1 L3 1 L4 2: 5 frames xxh64=00000000000000e0; 9 entries, all the domain's own (and 1 shared_info)
@@GUEST 01| lifecycle: round 0 report: p2m 100 pfns xxh64=00000000000000f0; tables 5 frames xxh64=00000000000000e0
@@GUEST 01| lifecycle: waiting for control/shutdown (round 0 done, up to 600 s)
@@GUEST 01| lifecycle: round 1 report: p2m 100 pfns xxh64=00000000000000f0; tables 5 frames xxh64=00000000000000e0
@@GUEST 01| lifecycle: round 2 report: p2m 100 pfns xxh64=00000000000000f0; tables 5 frames xxh64=00000000000000e0
@@GUEST 01| resume: cost rc={c1} hypercalls=4 us=900, then ports and xenstore hypercalls=12 us=20000
@@GUEST 01| suspend: round 1 rc={g1} tables=00000000000000aa (100 entries) pages=64 moved=66 ramdisk=none ok
@@GUEST 01| resume: cost rc=1 hypercalls=2 us=300, then ports and xenstore hypercalls=0 us=0
@@GUEST 01| suspend: round 2 rc=1 tables={h2} (100 entries) pages=64 moved=0 ramdisk=none ok
@@GUEST 01| lifecycle: poweroff after 2 suspend round(s)
@@GUEST 01| Test result: SUCCESS
@@RIG case-end 01 status=result shutdown=0 up-create=1 up-created=2 up-result=20
"""

    def judge(self, **kw):
        args = dict(rc1=0, rc2=0, msg="Loading new save file", g1=0, c1=0, h2="00000000000000aa", f1=5,
                    late="")
        args.update(kw)
        s, rs = session([R.Case("a", "k", args="lifecycle", ops=["save-restore", "save-c"])])
        feed(s, self.LOG.format(**args))
        return rs[0]

    def test_both_sides_agree(self):
        r = self.judge()
        self.assertEqual((r.verdict, r.reason), ("SUCCESS", ""))
        self.assertEqual(r.ops, [["save-restore", 0], ["save-c", 0]])

    def test_xl_failure_is_the_error_with_its_words(self):
        r = self.judge(rc2=1, msg="xc: error: XenStore pfn 0x1234 out of range")
        self.assertEqual(r.verdict, "ERROR")
        self.assertIn("save-restore (operation 1) failed in dom0 (xl exit 1)", r.reason)
        self.assertIn("XenStore pfn 0x1234 out of range", r.reason)

    def test_restore_that_did_not_exit_is_a_note(self):
        r = self.judge(late="@@RIG op-late 01 restore rc=137 domid=3 state=-b----\n")
        self.assertEqual(r.verdict, "SUCCESS")
        self.assertIn("note: xl restore rc=137 did not exit cleanly", r.reason)

    def test_each_disagreement_is_a_failure_of_its_own(self):
        for kw, why in ((dict(g1=1, c1=1), "want rc=0"),
                        (dict(c1=1), "resume cost lines for rc ['1', '1']"),
                        (dict(h2="00000000000000bb"), "table hash differs"),
                        (dict(f1=6), "inspector: round 1: Xen types 6 frames")):
            with self.subTest(**kw):
                r = self.judge(**kw)
                self.assertEqual(r.verdict, "FAILURE")
                self.assertIn(why, r.reason)

    def test_env_names_the_operations(self):
        with tempfile.TemporaryDirectory() as d:
            k = os.path.join(d, "k")
            open(k, "wb").close()
            plan = R.Plan([R.Case("a", k, ops=["migrate", "save-c"])], d)
            self.assertIn(b'OPS="migrate save-c"\nOP_TIMEOUT=', plan.cpio.out.getvalue())

    def test_unknown_operation_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            k = os.path.join(d, "k")
            open(k, "wb").close()
            with self.assertRaises(R.RigError):
                R.Plan([R.Case("a", k, ops=["teleport"])], d)


@unittest.skipUnless(shutil.which("xxhsum"), "xxhsum missing")
class RetryTest(unittest.TestCase):
    """matrix.py: a failed case marked retry runs once more in a fresh boot; both are printed."""

    def run_matrix(self, outcomes):
        import contextlib
        import io
        import matrix as M
        calls = []

        def fake_run_cases(xen, group, **kw):
            ok = outcomes[len(calls)]
            calls.append([c.name for c in group])
            rr = unittest.mock.Mock(t_dom0_ready=[1.0], boots=1, t_total=2.0, log_paths=[])
            rr.cases = [R.CaseResult(c.name, "SUCCESS" if ok else "FAILURE", 0 if ok else 5,
                                     "" if ok else "boom") for c in group]
            for r in rr.cases:
                r.passed = ok
            return rr
        out = io.StringIO()
        with unittest.mock.patch.object(M.R, "run_cases", fake_run_cases), \
                unittest.mock.patch.object(M.R.build_dom0, "build", lambda x: ("k", "i")), \
                unittest.mock.patch.object(M, "build", lambda names: None), \
                unittest.mock.patch.object(sys, "argv", ["matrix.py", "--only", "^handoff-linux$",
                                                         "--xen", "4.17"]), \
                contextlib.redirect_stdout(out):
            rc = M.main()
        return rc, calls, out.getvalue()

    def test_second_attempt_passes(self):
        rc, calls, out = self.run_matrix([False, True])
        self.assertEqual((rc, calls), (0, [["handoff-linux"], ["handoff-linux"]]))
        self.assertIn("(first attempt) xen 4.17 handoff-linux: FAILURE (exit 5): boom", out)
        self.assertIn("PASS xen 4.17 handoff-linux: SUCCESS (exit 0) (second attempt)", out)

    def test_two_failures_fail(self):
        rc, calls, out = self.run_matrix([False, False])
        self.assertEqual((rc, len(calls)), (1, 2))
        self.assertIn("FAIL xen 4.17 handoff-linux", out)

    def test_a_pass_is_not_run_again(self):
        rc, calls, out = self.run_matrix([True])
        self.assertEqual((rc, calls), (0, [["handoff-linux"]]))


class RamdiskTest(unittest.TestCase):
    def setUp(self):
        self.d = tempfile.mkdtemp()
        self.raw = os.path.join(self.d, "rd.bin")
        with open(self.raw, "wb") as f:
            f.write(os.urandom(10000))          # not a page multiple
        self.gz = os.path.join(self.d, "rd.bin.gz")
        with open(self.raw, "rb") as f, open(self.gz, "wb") as g:
            g.write(gzip.compress(f.read(), mtime=0))

    def tearDown(self):
        shutil.rmtree(self.d)

    def xxh(self, data):
        p = subprocess.run(["xxhsum", "-H1", "-"], input=data, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
        return p.stdout.split()[0].decode()

    def test_exact_and_page_rounded(self):
        with open(self.raw, "rb") as f:
            data = f.read()
        self.assertTrue(R.ramdisk_matches("4.20", self.raw, 10000, self.xxh(data))[0])
        padded = data + bytes(12288 - 10000)
        self.assertTrue(R.ramdisk_matches("4.20", self.raw, 12288, self.xxh(padded))[0])
        self.assertFalse(R.ramdisk_matches("4.20", self.raw, 16384, self.xxh(padded))[0])
        self.assertFalse(R.ramdisk_matches("4.20", self.raw, 10000, "0" * 16)[0])

    def test_gz_gunzipped_before_4_20_only(self):
        with open(self.raw, "rb") as f:
            data = f.read()
        with open(self.gz, "rb") as f:
            gzdata = f.read()
        seg = 12288      # max(10000 + 16, gz size) page-rounded
        self.assertTrue(R.ramdisk_matches("4.17", self.gz, seg, self.xxh(data + bytes(seg - 10000)))[0])
        self.assertFalse(R.ramdisk_matches("4.20", self.gz, seg, self.xxh(data + bytes(seg - 10000)))[0])
        gseg = (len(gzdata) + 4095) & ~4095
        self.assertTrue(R.ramdisk_matches("4.20", self.gz, gseg,
                                          self.xxh(gzdata + bytes(gseg - len(gzdata))))[0])

    def test_gzip_padded(self):
        out = R.gzip_padded(self.gz, out_dir=self.d)
        self.assertEqual(os.path.getsize(out) % 512, 0)
        with open(out, "rb") as f, open(self.raw, "rb") as r:
            self.assertEqual(gzip.decompress(f.read()), r.read())
        # zlib (what libxenguest uses) reads it too, and the trailer is at the end.
        with open(out, "rb") as f:
            blob = f.read()
        self.assertEqual(struct.unpack("<I", blob[-4:])[0], 10000)


class BuildTest(unittest.TestCase):
    def test_cpio_newc(self):
        c = build_dom0.Cpio()
        c.file("a/b/file", b"hello", 0o755)
        c.symlink("a/link", "b/file")
        c.chardev("dev/console", 5, 1)
        data = c.finish()
        self.assertEqual(len(data) % 512, 0)
        names, off = [], 0
        while True:
            self.assertEqual(data[off:off + 6], b"070701")
            f = [int(data[off + 6 + 8 * i:off + 14 + 8 * i], 16) for i in range(13)]
            namesize, filesize = f[11], f[6]
            name = data[off + 110:off + 110 + namesize - 1].decode()
            off += 110 + namesize
            off += -off % 4
            body = data[off:off + filesize]
            off += filesize
            off += -off % 4
            if name == "TRAILER!!!":
                break
            names.append(name)
            if name == "a/b/file":
                self.assertEqual(body, b"hello")
            if name == "dev/console":
                self.assertEqual((f[9], f[10]), (5, 1))
        self.assertEqual(names[:3], ["a", "a/b", "a/b/file"])
        self.assertIn("a/link", names)

    def test_elf_info_of_a_dynamic_binary(self):
        info = build_dom0.elf_info(sys.executable if os.path.exists(sys.executable) else "/bin/ls")
        self.assertIsNotNone(info)
        interp, needed, _ = build_dom0.elf_info("/bin/ls")
        self.assertIn("ld-linux", interp)
        self.assertIn("libc.so.6", needed)

    def test_load_cases_rejects_unknown_keys(self):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write('[{"name": "a", "kernel": "k", "memory": 5}]')
        try:
            with self.assertRaises(R.RigError):
                R.load_cases(f.name)
        finally:
            os.unlink(f.name)


# A stand-in for xl, for xl-run.sh: state lives in $FAKE_XL_DIR.  `console`
# fails like xenconsole while xenconsoled has not yet published the pty
# (the first FAKE_XL_TTY_LATE calls), then holds a pty open and prints the
# guest's result line once the domain is unpaused.
FAKE_XL = r"""#!/bin/sh
d=$FAKE_XL_DIR
case $1 in
create) echo created > "$d/domain"; exit 0 ;;
unpause) [ -f "$d/domain" ] && touch "$d/unpaused"; exit 0 ;;
domid) [ -f "$d/domain" ] || exit 1; [ -f "$d/unpaused" ] && [ -f "$d/done" ] && exit 1; echo 1 ;;
destroy) rm -f "$d/domain"; exit 0 ;;
console)
    n=$(cat "$d/consoles" 2>/dev/null || echo 0); echo $((n + 1)) > "$d/consoles"
    if [ "$n" -lt "${FAKE_XL_TTY_LATE:-0}" ]; then
        echo "xenconsole: Could not read tty from store: No such file or directory"; exit 1
    fi
    exec 4<> /dev/ptmx
    while [ ! -f "$d/unpaused" ]; do sleep 0.1; done
    [ -f "$d/paused-output" ] && cat "$d/paused-output"
    echo "Test result: SUCCESS"; touch "$d/done"
    while :; do sleep 1; done ;;
esac
exit 0
"""


class XlRunTest(unittest.TestCase):
    """rig/domu/xl-run.sh against a stand-in xl (the real one runs in the domU matrix)."""

    def run_xl_run(self, tty_late):
        with tempfile.TemporaryDirectory() as d:
            xl = os.path.join(d, "xl")
            with open(xl, "w") as f:
                f.write(FAKE_XL)
            os.chmod(xl, 0o755)
            env = dict(os.environ, XL=xl, FAKE_XL_DIR=d, FAKE_XL_TTY_LATE=str(tty_late), TMPDIR=d)
            p = subprocess.run(["sh", os.path.join(HERE, "xl-run.sh"), "-t", "20", "cfg"],
                               env=env, capture_output=True, text=True, timeout=60)
            with open(os.path.join(d, "consoles")) as f:
                consoles = int(f.read())
            return p, consoles

    def test_console_attaches_at_once(self):
        p, consoles = self.run_xl_run(0)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("xl-run: SUCCESS", p.stdout)
        self.assertEqual(consoles, 1)

    def test_console_retried_while_xenconsoled_is_late(self):
        # xenconsole gives up after 5 s without the pty; the domain stays
        # paused and xl-run.sh tries again (seen once in make test on 4.20).
        p, consoles = self.run_xl_run(3)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("xl-run: SUCCESS", p.stdout)
        self.assertNotIn("Could not read tty", p.stdout)
        self.assertEqual(consoles, 4)


if __name__ == "__main__":
    unittest.main()
