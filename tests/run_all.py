#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""`make test`: the host suites (`make check`), the model at 1 TiB (`make -C tests/model
big`), the PVH/native shim on bare QEMU at 4 and 5 paging levels (rig/native.py
--matrix), then the end-to-end matrix as dom0 (tests/e2e/cases.py), then the domU
matrix through `xl create` (rig/domu/matrix.py).

Prints one line per case, `PASS name (12.3s)` or `FAIL name: reason (log: path)`,
and as its last line `N passed, M failed` over all three together.
Exits 1 if anything failed (or nothing ran), 2 on bad arguments.

    python3 tests/run_all.py                 # everything
    python3 tests/run_all.py --no-unit -k rd600 --xen 4.20 -j 2
    python3 tests/run_all.py --list

`make check` and the domU matrix each end in an `N passed, M failed` line that is
added in; a missing target or a build failure counts as one failed case. The
domU matrix is skipped with -k (it is not a selection of dom0 cases) or --no-domu.
A boot that cannot run (no QEMU, no Xen image, no build, no ramdisk) is a
failed case with the reason. Serial logs: build/e2e/logs/<case>.log; a
summary of the last run: build/e2e/results.json.
"""
import argparse
import concurrent.futures as cf
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "e2e"))

import cases as C    # noqa: E402
import runner as R   # noqa: E402

UNIT_TIMEOUT = 1800              # make check (the host suites)
DOMU_TIMEOUT = 2400              # rig/domu/matrix.py, both Xen versions
NATIVE_TIMEOUT = 600             # rig/native.py --matrix: about 3 s of boots, plus the builds
SUMMARY_RE = re.compile(r"^(\d+) passed, (\d+) failed$")


def out(line=""):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- unit tests

def interrupt_code(e):
    return e.code if isinstance(e, SystemExit) and isinstance(e.code, int) else 130


class Totals:
    """passed/failed over all stages."""
    def __init__(self):
        self.passed = self.failed = 0

    def stage(self, name, cmd, timeout, during):
        """run_stage() added in: (passed, failed) of the stage, or the exit code (an int
        in a 1-tuple) when it was interrupted, after the lines that say so."""
        try:
            p, f = run_stage(name, cmd, timeout)
        except (KeyboardInterrupt, SystemExit) as e:
            code = interrupt_code(e)
            out(f"interrupted (exit {code}) during {during}")
            out(f"{self.passed} passed, {self.failed + 1} failed")
            return (code,)
        self.passed, self.failed = self.passed + p, self.failed + f
        return p, f

def run_stage(name, cmd, timeout):
    """(passed, failed) of a command that ends with an `N passed, M failed` line;
    its output is shown indented."""
    out(f"== {name}: {' '.join(cmd)}")
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=REPO, env=R.make_env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=timeout)
        text, rc = p.stdout.decode(errors="replace"), p.returncode
    except subprocess.TimeoutExpired as e:
        text, rc = (e.stdout or b"").decode(errors="replace"), None
    except OSError as e:
        text, rc = f"cannot run make: {e}\n", None
    dt = time.monotonic() - t0
    lines = text.rstrip("\n").splitlines()
    for line in lines:
        out(f"  {line}")
    summary = None
    for line in lines:
        m = SUMMARY_RE.match(line.strip())
        if m:
            summary = (int(m.group(1)), int(m.group(2)))
    if rc is None:
        why = f"did not finish within {timeout}s" if "cannot run" not in text else text.strip()
        out(f"FAIL {name}: {' '.join(cmd)} {why}")
        return (summary[0] if summary else 0), (summary[1] if summary else 0) + 1
    if summary is None:
        last = next((l.strip() for l in reversed(lines) if l.strip()), "no output")
        out(f"FAIL {name}: {' '.join(cmd)} exited {rc} without an 'N passed, M failed' line "
            f"(missing target or build failure?): {last}")
        return 0, 1
    passed, failed = summary
    if rc != 0 and failed == 0:
        out(f"FAIL {name}: {' '.join(cmd)} exited {rc} although it reported 0 failures")
        failed = 1
    out(f"{name}: {passed} passed, {failed} failed ({dt:.1f}s)")
    return passed, failed


# ----------------------------------------------------------------- selection

def select(args):
    chosen = [c for c in C.CASES
              if (not args.xen or c.xen in args.xen)
              and (not args.k or any(k in c.name for k in args.k))]
    names = {c.name for c in chosen}
    extra = []
    for c in chosen:
        if c.control and c.control not in names:
            names.add(c.control)
            extra.append(C.BY_NAME[c.control])
    order = {c.name: i for i, c in enumerate(C.CASES)}
    return sorted(chosen + extra, key=lambda c: order[c.name]), extra


# ------------------------------------------------------------------- the e2e

class E2E:
    def __init__(self, cases, jobs, keep_going):
        self.cases = cases
        self.jobs = jobs
        self.keep_going = keep_going
        self.passed = self.failed = 0
        self.results = {}           # name -> dict for results.json
        self.done = {}              # name -> ok (bool)
        self.held = {}              # regression cases waiting for their control
        self.stop = False

    # -- reporting

    def report(self, case, ok, msg, t=None, log=None, res=None):
        if ok:
            detail = f": {msg}" if msg else ""
            out(f"PASS {case.name}{detail} ({t:.1f}s)" if t is not None
                else f"PASS {case.name}{detail}")
            self.passed += 1
        else:
            out(f"FAIL {case.name}: {msg}" + (f" (log: {R.rel(log)})" if log else ""))
            self.failed += 1
            if not self.keep_going:
                self.stop = True
        self.done[case.name] = ok
        self.results[case.name] = {"ok": ok, "message": msg, "seconds": t,
                                   "log": R.rel(log) if log else None,
                                   "xen": case.xen, "make": dict(case.make_vars),
                                   "mem": case.mem, "ramdisk_mib": case.ramdisk}
        for k in ("verdict", "reason", "t_first_xen", "t_handover", "t_result"):
            if res and res.get(k) is not None:
                self.results[case.name][k] = (round(res[k], 2) if isinstance(res[k], float)
                                              else res[k])
        # Regression cases held back until their control's verdict is known.
        for name, (hc, hok, hmsg, ht, hlog, hres) in list(self.held.items()):
            if hc.control == case.name:
                del self.held[name]
                self.finish(hc, hok, hmsg, ht, hlog, hres)

    def finish(self, case, ok, msg, t=None, log=None, res=None):
        """Report a case; a regression case only once its control is judged."""
        if case.control and ok:
            if case.control not in self.done:
                self.held[case.name] = (case, ok, msg, t, log, res)
                return
            if not self.done[case.control]:
                ok, msg = False, f"{msg}, but its control {case.control} failed too: the catch proves nothing"
        self.report(case, ok, msg, t, log, res)

    # -- setup, in the main process, serially

    def setup(self):
        """{name: (kernel, ramdisk tuple or None)} for the cases that can run;
        the others are reported as failed here."""
        ready = {}
        xens = sorted({c.xen for c in self.cases})
        out(f"== e2e: {len(self.cases)} cases, xen {' '.join(xens)}, {self.jobs} parallel boots")
        rig = R.rig_setup(xens, log=out)

        ramdisks = {}
        for mib in sorted({c.ramdisk for c in self.cases if c.ramdisk}):
            try:
                ramdisks[mib] = R.ramdisk(mib, log=out)
            except R.SetupError as e:
                ramdisks[mib] = e
                out(f"ramdisk: {mib} MiB: ERROR: {e}")

        kernels = {}
        for mv in dict.fromkeys(c.make_vars for c in self.cases):
            try:
                kernels[mv] = R.build(mv, log=out)
            except R.SetupError as e:
                kernels[mv] = e

        for c in self.cases:
            k = kernels[c.make_vars]
            rd = ramdisks.get(c.ramdisk) if c.ramdisk else None
            if c.bootpack and not isinstance(k, Exception):
                try:
                    rd = R.bootpack(c, k, log=out)     # "shim": the case's own build
                except R.SetupError as e:
                    rd = e
            if rig[c.xen]:
                self.finish(c, False, rig[c.xen])
            elif isinstance(k, Exception):
                self.finish(c, False, str(k))
            elif isinstance(rd, Exception):
                self.finish(c, False, f"ramdisk: {rd}")
            else:
                ready[c.name] = (k, rd)
        return ready

    # -- the boots

    def run(self):
        t0 = time.monotonic()
        ready = self.setup()
        todo = sorted((c for c in self.cases if c.name in ready), key=R.cost, reverse=True)
        budget = mem_budget_mib()
        if todo:
            out(f"== booting {len(todo)} case{'s' if len(todo) != 1 else ''}")
        ctx = multiprocessing.get_context("spawn")
        running = {}                # future -> case
        with cf.ProcessPoolExecutor(max_workers=self.jobs, mp_context=ctx,
                                    initializer=R.worker_init) as pool:
            try:
                while (todo and not self.stop) or running:
                    while todo and not self.stop and len(running) < self.jobs:
                        c = pick(todo, running.values(), budget)
                        if c is None:
                            break
                        todo.remove(c)
                        kernel, rd = ready[c.name]
                        fut = pool.submit(R.boot_case, c.name, kernel, rd[0] if rd else None,
                                          R.default_timeout(c))
                        running[fut] = c
                    finished, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
                    for fut in finished:
                        c = running.pop(fut)
                        try:
                            res = fut.result()
                        except Exception as e:          # a worker died
                            self.finish(c, False, f"runner error: {type(e).__name__}: {e}",
                                        log=R.log_path(c))
                            continue
                        ok, msg = R.judge(c, res, ready[c.name][1])
                        self.finish(c, ok, msg, res.get("t"), res.get("log"), res)
            except BaseException:
                kill_workers(pool)
                raise
        for name, (hc, hok, hmsg, ht, hlog, hres) in list(self.held.items()):
            del self.held[name]
            self.report(hc, False, hmsg + f", but its control {hc.control} was not judged",
                        ht, hlog, hres)
        not_run = [c.name for c in todo]
        if not_run:
            out(f"stopped after the first failure (--no-keep-going): {len(not_run)} cases not run: "
                + " ".join(not_run))
        wall = time.monotonic() - t0
        write_results(self.results, wall)
        return wall, bool(not_run)


def mem_budget_mib():
    """RAM the boots may use at once: 85% of what is available now."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) // 1024 * 85 // 100
    except OSError:
        pass
    return 1 << 30


def pick(todo, running, budget):
    """The costliest case whose QEMU fits next to the running ones; anything
    when nothing runs (it gets the machine to itself)."""
    used = sum(R.qemu_mib(c) for c in running)
    for c in todo:
        if not running or used + R.qemu_mib(c) <= budget:
            return c
    return None


def kill_workers(pool):
    """Our own worker processes, by pid (QEMU follows by PR_SET_PDEATHSIG)."""
    for p in list(getattr(pool, "_processes", {}).values()):
        try:
            p.kill()
        except Exception:
            pass
    pool.shutdown(wait=False, cancel_futures=True)


def write_results(results, wall):
    path = os.path.join(R.E2E_BUILD, "results.json")
    try:
        os.makedirs(R.E2E_BUILD, exist_ok=True)
        with open(path + ".tmp", "w") as f:
            json.dump({"wall_seconds": round(wall, 1), "cases": results}, f, indent=1)
        os.replace(path + ".tmp", path)
    except OSError as e:
        out(f"warning: cannot write {path}: {e}")


# ---------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", action="append", metavar="SUBSTR",
                    help="only e2e cases whose name contains SUBSTR (repeatable: any of them)")
    ap.add_argument("--xen", action="append", choices=C.XENS, help="only this Xen (repeatable)")
    ap.add_argument("--list", action="store_true", help="list the selected e2e cases and exit")
    ap.add_argument("--no-unit", action="store_true", help="skip the host suites (make check)")
    ap.add_argument("--no-domu", action="store_true", help="skip the domU matrix (xl create)")
    ap.add_argument("--no-native", action="store_true",
                    help="skip the PVH/native runs on bare QEMU (rig/native.py --matrix)")
    ap.add_argument("-j", "--jobs", type=int, default=2, metavar="N",
                    help="parallel boots (default 2; each QEMU takes one core)")
    kg = ap.add_mutually_exclusive_group()
    kg.add_argument("--keep-going", dest="keep_going", action="store_true", default=True,
                    help="run every case even after a failure (the default)")
    kg.add_argument("-x", "--no-keep-going", dest="keep_going", action="store_false",
                    help="stop starting boots after the first failure")
    args = ap.parse_args()
    if args.jobs < 1:
        ap.error("-j must be at least 1")

    selected, extra = select(args)
    if args.list:
        for c in selected:
            want = "|".join(sorted(c.expect))
            note = f"  [control: {c.control}]" if c.control else ""
            note += "  [added: control of a selected case]" if c in extra else ""
            out(f"{c.name:34} {want:22} {c.describe()}{note}")
        out(f"{len(selected)} cases")
        return 0

    def on_term(signum, _frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    t0 = time.monotonic()
    tot = Totals()
    if not args.no_unit:
        r = tot.stage("host", ["make", "--no-print-directory", "check"], UNIT_TIMEOUT, "the unit tests")
        if len(r) == 1:
            return r[0]
        if r[1] and not args.keep_going:
            out(f"{tot.passed} passed, {tot.failed} failed")
            return 1
        # The model at 1 TiB (bring-up, hand-off and p2m): a minute or more and up to
        # 8.6 GB a process, so not in make check; it runs only what make check did not.
        if not args.k:
            r = tot.stage("model-big", ["make", "--no-print-directory", "-C", "tests/model", "big"],
                          UNIT_TIMEOUT, "the 1 TiB model runs")
            if len(r) == 1:
                return r[0]

    # The PVH/native shim at 4 and 5 levels, and as Xen's PVH dom0: seconds of TCG.
    if not args.no_native and not args.k:
        r = tot.stage("native", [sys.executable, "rig/native.py", "--matrix", "--json-out",
                                 "build/native/results.json"], NATIVE_TIMEOUT, "the native runs")
        if len(r) == 1:
            return r[0]

    wall = None
    incomplete = False
    if not selected:
        out("== e2e: no case matches the selection")
        incomplete = True
    else:
        for c in extra:
            out(f"note: also running {c.name}, the control of a selected regression case")
        e2e = E2E(selected, args.jobs, args.keep_going)
        try:
            wall, incomplete = e2e.run()
        except (KeyboardInterrupt, SystemExit) as e:
            code = interrupt_code(e)
            out(f"interrupted (exit {code}): boots stopped, unfinished cases count as one failure")
            out(f"{tot.passed + e2e.passed} passed, {tot.failed + e2e.failed + 1} failed")
            return code
        tot.passed, tot.failed = tot.passed + e2e.passed, tot.failed + e2e.failed
        slow = sorted(((r["seconds"], n) for n, r in e2e.results.items() if r["seconds"]),
                      reverse=True)[:5]
        if slow:
            out("slowest: " + ", ".join(f"{n} {t:.1f}s" for t, n in slow))
        out(f"e2e: {e2e.passed} passed, {e2e.failed} failed in {wall:.0f}s wall; "
            f"total {time.monotonic() - t0:.0f}s; details in build/e2e/results.json")

    # The domU path: the shim through xl create, one dom0 boot per Xen version.
    if not args.no_domu and not args.k:
        xens = args.xen or list(C.XENS)
        cmd = [sys.executable, "rig/domu/matrix.py", "--xen",
               xens[0] if len(xens) == 1 else "both", "--json-out", "build/domu/matrix.json"]
        r = tot.stage("domU", cmd, DOMU_TIMEOUT, "the domU matrix")
        if len(r) == 1:
            return r[0]
    out(f"total {time.monotonic() - t0:.0f}s")
    out(f"{tot.passed} passed, {tot.failed} failed")
    return 1 if tot.failed or incomplete or tot.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
