#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Sum up a `make fuzz` run of several libFuzzer workers (-jobs/-workers):
each worker writes its own log (fuzz-N.log); this prints one line with the
total executions, the rate, the coverage and the corpus, then every input a
worker found a bug with (crash-*, timeout-*, oom-*, leak-* newer than the
run), with the log lines that say what it was.  Exit 1 if there was one.

    fuzz_summary.py FUZZ_DIR CORPUS_DIR START_EPOCH
"""
import glob
import os
import re
import sys


def main():
    out, corpus, start = sys.argv[1], sys.argv[2], float(sys.argv[3])
    execs = secs = 0
    cov = ft = 0
    workers = 0
    for log in sorted(glob.glob(os.path.join(out, "fuzz-*.log"))):
        text = open(log, errors="replace").read()
        workers += 1
        n = re.findall(r"stat::number_of_executed_units: (\d+)", text)
        rate = re.findall(r"stat::average_exec_per_sec:\s+(\d+)", text)
        if n and rate and int(rate[-1]):
            execs += int(n[-1])
            secs = max(secs, int(n[-1]) / int(rate[-1]))
        for c, f in re.findall(r"cov: (\d+) ft: (\d+)", text):
            cov, ft = max(cov, int(c)), max(ft, int(f))
    files = [f for f in glob.glob(os.path.join(corpus, "*")) if os.path.isfile(f)]
    size = sum(os.path.getsize(f) for f in files)
    rate = execs / secs if secs else 0
    print(f"fuzz: {workers} workers, {execs} executions in {secs:.0f} s, {rate:.0f} exec/s in all; "
          f"coverage {cov} edges, {ft} features; corpus {len(files)} inputs ({size} bytes)")
    found = [a for pat in ("crash-*", "timeout-*", "oom-*", "leak-*")
             for a in glob.glob(os.path.join(out, pat)) if os.path.getmtime(a) >= start]
    for a in sorted(found):
        print(f"fuzz: FOUND {a}")
    if found:
        for log in sorted(glob.glob(os.path.join(out, "fuzz-*.log"))):
            for line in open(log, errors="replace"):
                if line.startswith(("fuzz:", "==", "SUMMARY", "artifact_prefix")):
                    print(f"  {os.path.basename(log)}: {line.rstrip()}")
        print("fuzz: replay one with  build/model/fuzz/model_fuzz FILE")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
