#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Run the unit test binaries and add up their "<name>: N passed, M failed" lines.

A binary that dies on a signal, times out, exits non-zero without reporting
a failure, or prints no summary counts as one failed case.  The last line
printed is "N passed, M failed"; the exit status is 1 if anything failed.
"""
import os
import re
import subprocess
import sys
import time

SUMMARY = re.compile(r"^(\S+): (\d+) passed, (\d+) failed$")
TIMEOUT = 300


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
        out += "\ntimed out after %ds\n" % TIMEOUT
    except OSError as e:
        out, rc = "cannot run %s: %s\n" % (path, e), None
    elapsed = time.monotonic() - start
    sys.stdout.write(out)
    if out and not out.endswith("\n"):
        sys.stdout.write("\n")

    passed = failed = 0
    summary = None
    for line in out.splitlines():
        m = SUMMARY.match(line)
        if m and m.group(1) == name:
            summary = m
    if summary:
        passed, failed = int(summary.group(2)), int(summary.group(3))
    else:
        # Died before its summary: keep the failures it did print.
        failed = sum(1 for line in out.splitlines() if line.startswith("FAIL "))
    if rc is None:
        print("CRASH %s: timed out or could not run" % name)
        failed += 1
    elif rc < 0:
        print("CRASH %s: killed by signal %d" % (name, -rc))
        failed += 1
    elif not summary:
        print("CRASH %s: exit status %d without a summary line" % (name, rc))
        failed += 1
    elif rc != 0 and failed == 0:
        print("CRASH %s: exit status %d although no case failed" % (name, rc))
        failed += 1
    elif rc == 0 and failed:
        print("ERROR %s: %d failed cases but exit status 0" % (name, failed))
    print("  (%s: %.2fs)" % (name, elapsed))
    return passed, failed


def main(paths):
    total_passed = total_failed = 0
    for path in paths:
        p, f = run(path)
        total_passed += p
        total_failed += f
    sys.stdout.flush()
    print("%d passed, %d failed" % (total_passed, total_failed))
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
