#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run test binaries (tests/unit, tests/model; in parallel) and add up their summaries.

Each binary prints "<name>: N passed, M failed" (tests/unit/check.h). A
binary that dies on a signal, times out, exits non-zero without reporting a
failure, or prints no summary counts as one failed case. Output is printed
per binary, in the order given; the last line is "N passed, M failed" and
the exit status is 1 if anything failed.
"""
import argparse
import concurrent.futures
import os
import re
import subprocess
import sys
import time

SUMMARY = re.compile(r"^(\S+): (\d+) passed, (\d+) failed$")
# A guard against hangs only, far above the slowest binary's time (the 1 TiB
# model runs: about 65 s on 2 busy cores); speed is measured by make bench.
TIMEOUT = 900


def run(path):
    name = os.path.basename(path)
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    start = time.monotonic()
    try:
        proc = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=env, timeout=TIMEOUT)
        out, rc = proc.stdout.decode(errors="replace"), proc.returncode
    except subprocess.TimeoutExpired as e:
        out, rc = (e.stdout or b"").decode(errors="replace"), None
        out += "\ntimed out: killed after %ds (its hang limit)\n" % TIMEOUT
    except OSError as e:
        out, rc = "cannot run %s: %s\n" % (path, e), None
    elapsed = time.monotonic() - start

    passed = failed = 0
    summary = None
    for line in out.splitlines():
        m = SUMMARY.match(line)
        if m and m.group(1) == name:
            summary = m
    if summary:
        passed, failed = int(summary.group(2)), int(summary.group(3))
    else:
        failed = sum(1 for line in out.splitlines() if line.startswith("FAIL "))
    notes = []
    if rc is None:
        notes.append("CRASH %s: %s after %.0fs (limit %ds)" % (
            name, "timed out" if elapsed >= TIMEOUT else "could not run", elapsed, TIMEOUT))
        failed += 1
    elif rc < 0:
        notes.append("CRASH %s: killed by signal %d" % (name, -rc))
        failed += 1
    elif not summary:
        notes.append("CRASH %s: exit status %d without a summary line" % (name, rc))
        failed += 1
    elif rc != 0 and failed == 0:
        notes.append("CRASH %s: exit status %d although no case failed" % (name, rc))
        failed += 1
    return out, notes, passed, failed, elapsed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("bins", nargs="+")
    args = ap.parse_args()
    total_passed = total_failed = 0
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run, args.bins))
    for path, (out, notes, passed, failed, elapsed) in zip(args.bins, results):
        sys.stdout.write(out)
        if out and not out.endswith("\n"):
            sys.stdout.write("\n")
        for n in notes:
            print(n)
        print("  (%s: %.2fs)" % (os.path.basename(path), elapsed))
        total_passed += passed
        total_failed += failed
    print("  (model suite: %.1fs wall)" % (time.monotonic() - start))
    sys.stdout.flush()
    print("%d passed, %d failed" % (total_passed, total_failed))
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
