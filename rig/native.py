#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot the PVH/native shim (make PLATFORM=pvh) on bare QEMU, with 4 or 5 paging levels.

    python3 rig/native.py --kernel build/pvh/shim [--la57 1|0] [--mem MiB] [--args "no5lvl"]
    python3 rig/native.py --matrix [-k SUBSTR] [--json-out FILE]

QEMU boots the ELF straight from -kernel (its PVH loader reads the
XEN_ELFNOTE_PHYS32_ENTRY note); the shim prints on port 0xE9 (-debugcon) and
leaves through isa-debug-exit (status 33 for SUCCESS, 35 otherwise).

What a run must show is computed here, from how QEMU is started, not taken
from the guest: the level count (5 with LA57 and no "no5lvl"), the geometry
Linux uses for it, the RAM QEMU's pc machine puts below and above 4 GiB,
which LA57 checks apply, and the result line and exit status.  --matrix also
compares the page-table census of the same memory size at 5 and 4 levels,
and runs the PVH build's BUG= switches, each of which must be caught by the
check named for it.

Exit status: 0 if every run passed, 1 if one failed, 2 on bad arguments.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A 5 GiB run is the longest: about 10 s of TCG here.  Hangs are cut at this.
TIMEOUT = 120
EXIT_SUCCESS, EXIT_FAILURE = 33, 35

GEOMETRY = {    # levels: (top shift, ptrs_per_p4d, page_offset, user limit), as Linux
    4: (39, 1, 0xffff888000000000, 1 << 47),
    5: (48, 512, 0xff11000000000000, 1 << 56),
}


def qemu_ram_split(mem_mib):
    """MiB below and above 4 GiB on QEMU's pc machine: past 3.5 GiB it keeps
    3 GiB low (the PCI hole) and puts the rest at 4 GiB."""
    if mem_mib >= 3584:
        return 3072, mem_mib - 3072
    return mem_mib, 0


class Run:
    def __init__(self, name, kernel, la57=True, mem=512, args="", bug=None, want_fail=None,
                 census_pair=None):
        self.name, self.kernel, self.la57, self.mem, self.args = name, kernel, la57, mem, args
        self.bug, self.want_fail, self.census_pair = bug, want_fail, census_pair

    def levels(self):
        return 5 if self.la57 and "no5lvl" not in self.args.split() else 4

    def command(self):
        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "pc",
               "-cpu", "max" if self.la57 else "max,-la57", "-m", str(self.mem),
               "-nodefaults", "-display", "none", "-no-reboot", "-debugcon", "stdio",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", self.kernel]
        if self.args:
            cmd += ["-append", self.args]
        return cmd


def boot(run, log_path=None, timeout=TIMEOUT):
    """(exit status or None on timeout, output text, seconds)."""
    t0 = time.monotonic()
    try:
        p = subprocess.run(run.command(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        status, text = p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        status, text = None, (e.stdout or b"").decode(errors="replace")
    if log_path:
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        with open(log_path, "w") as f:
            f.write(" ".join(run.command()) + "\n" + text)
    return status, text, time.monotonic() - t0


def judge(run, status, text, secs):
    """None if the run shows what it must, else the first thing it does not."""
    if status is None:
        return f"no exit within {TIMEOUT}s (last line: {text.strip().splitlines()[-1:] or 'none'})"
    result = re.findall(r"^Test result: (.*)$", text, re.M)
    if run.want_fail:
        if status != EXIT_FAILURE or not result or not result[-1].startswith("FAILURE"):
            return f"BUG={run.bug} not caught: exit {status}, result {result[-1:] or 'none'}"
        if run.want_fail not in result[-1]:
            return f"BUG={run.bug} caught, but not by its check: {result[-1]!r}, want {run.want_fail!r}"
        return None
    if result != ["SUCCESS"] or status != EXIT_SUCCESS:
        return f"exit {status}, result {result or 'none'}"
    levels = run.levels()
    shift, p4d, base, limit = GEOMETRY[levels]
    want = (f"mm: geometry {levels} levels: top shift {shift}, ptrs_per_p4d {p4d}, "
            f"page_offset {base:#x}, user limit {limit:#x}")
    if want not in text:
        return f"geometry line missing: want {want!r}"
    m = re.search(r"^memmap: RAM (\d+) MiB below 4 GiB, (\d+) MiB above$", text, re.M)
    below, above = qemu_ram_split(run.mem)
    # Below 4 GiB the firmware keeps < 1 MiB (the VGA hole, its tables).
    if not m or not (below - 1 <= int(m.group(1)) <= below) or int(m.group(2)) != above:
        return f"RAM: guest says {m.group(0) if m else 'nothing'}, QEMU -m {run.mem} gives {below}/{above} MiB"
    n_addr = 10 if above else 9
    if f"walker: agrees with the CPU at {n_addr} addresses" not in text:
        return f"walker check: want {n_addr} addresses agreeing with the CPU"
    if above and "walker: direct map above 4 GiB" not in text:
        return "no direct-map check above 4 GiB"
    la57 = ("la57: 2^48 and 2^56 - 4 KiB mapped, written, read back: 8 new tables" if levels == 5
            else "la57: 2^48 and 2^56 - 4 KiB refused as non-canonical; reads raise #GP")
    if la57 not in text:
        return f"LA57 check: want {la57!r}"
    cr4 = ("cr4: toggling LA57 in long mode raises #GP" if run.la57
           else "cr4: no LA57 on this CPU")
    if cr4 not in text:
        return f"CR4 check: want {cr4!r}"
    return None


CENSUS_RE = re.compile(r"^ptdump: (\d) levels: pml5 (\d+) p4d (\d+) pud (\d+) pmd (\d+) pte (\d+); "
                       r"below the p4d (\d+), total (\d+)$", re.M)


def census(text):
    m = CENSUS_RE.search(text)
    return tuple(int(x) for x in m.groups()) if m else None


def compare_census(c5, c4):
    """None if the 5-level tree is the 4-level one plus 1 PML5 and its p4d pages
    (the PML4 root of the 4-level tree being the one p4d page there)."""
    if not c5 or not c4:
        return "a ptdump line is missing"
    _, pml5, p4d5, *_rest5, below5, total5 = c5
    _, _, p4d4, *_rest4, below4, total4 = c4
    if c5[3:6] != c4[3:6] or below5 != below4:
        return f"pud/pmd/pte differ: 5 levels {c5[3:6]}, 4 levels {c4[3:6]}"
    if pml5 != 1 or p4d4 != 1 or total5 != total4 - 1 + pml5 + p4d5:
        return (f"tables: 5 levels {total5} != 4 levels {total4} - 1 PML4 + {pml5} PML5 + "
                f"{p4d5} p4d pages")
    return None


def matrix_runs(kernel):
    bugs = os.path.join(REPO, "build")
    return [
        Run("native-5lvl-512m", kernel, True, 512),
        Run("native-4lvl-512m", kernel, False, 512),
        Run("native-no5lvl-512m", kernel, True, 512, "no5lvl"),
        Run("native-5lvl-2g", kernel, True, 2048, census_pair="2g"),
        Run("native-4lvl-2g", kernel, False, 2048, census_pair="2g"),
        Run("native-5lvl-5g", kernel, True, 5120, census_pair="5g"),
        Run("native-4lvl-5g", kernel, False, 5120, census_pair="5g"),
        Run("native-bug-p4d-unfolded-4lvl", f"{bugs}/pvh-bug-p4d-unfolded/shim", False, 512,
            bug="p4d-unfolded", want_fail="the CPU would not run on this tree"),
        Run("native-bug-p4d-unfolded-5lvl", f"{bugs}/pvh-bug-p4d-unfolded/shim", True, 512),
        Run("native-bug-fixed-4-level-5lvl", f"{bugs}/pvh-bug-fixed-4-level/shim", True, 512,
            bug="fixed-4-level", want_fail="the tables have 4 levels, but CR4.LA57 makes the CPU walk 5"),
        Run("native-bug-fixed-4-level-4lvl", f"{bugs}/pvh-bug-fixed-4-level/shim", False, 512),
    ]


def build(bug=None):
    cmd = ["make", "--no-print-directory", "PLATFORM=pvh"] + ([f"BUG={bug}"] if bug else [])
    p = subprocess.run(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return None if p.returncode == 0 else p.stdout.decode(errors="replace")[-2000:]


def matrix(opts):
    for bug in (None, "p4d-unfolded", "fixed-4-level"):
        err = build(bug)
        if err:
            print(f"FAIL build PLATFORM=pvh{' BUG=' + bug if bug else ''}:\n{err}")
            print("0 passed, 1 failed")
            return 1
    runs = [r for r in matrix_runs(os.path.join(REPO, "build/pvh/shim"))
            if not opts.k or any(k in r.name for k in opts.k)]
    passed = failed = 0
    texts, results = {}, {}
    for r in runs:
        log = os.path.join(REPO, "build/native/logs", r.name + ".log")
        status, text, secs = boot(r, log)
        why = judge(r, status, text, secs)
        texts[r.name] = text
        results[r.name] = {"ok": why is None, "reason": why, "seconds": round(secs, 1)}
        if why:
            failed += 1
            print(f"FAIL {r.name}: {why} (log: {os.path.relpath(log, REPO)})", flush=True)
        else:
            passed += 1
            print(f"PASS {r.name} ({secs:.1f}s)", flush=True)
    for pair in sorted({r.census_pair for r in runs if r.census_pair}):
        names = [r.name for r in runs if r.census_pair == pair]
        five = [n for n in names if "5lvl" in n]
        four = [n for n in names if "4lvl" in n]
        if not five or not four:
            continue
        why = compare_census(census(texts[five[0]]), census(texts[four[0]]))
        name = f"native-census-{pair}"
        results[name] = {"ok": why is None, "reason": why}
        if why:
            failed += 1
            print(f"FAIL {name}: {why}")
        else:
            passed += 1
            print(f"PASS {name}: 5 levels = 4 levels - PML4 + PML5 + p4d pages")
    if opts.json_out:
        os.makedirs(os.path.dirname(os.path.abspath(opts.json_out)), exist_ok=True)
        with open(opts.json_out, "w") as f:
            json.dump(results, f, indent=1)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kernel", help="the PVH shim ELF (make PLATFORM=pvh: build/pvh/shim)")
    ap.add_argument("--la57", type=int, choices=(0, 1), default=1,
                    help="1: QEMU's CPU has LA57 (-cpu max), 0: it does not (-cpu max,-la57)")
    ap.add_argument("--mem", type=int, default=512, help="guest RAM in MiB (default 512)")
    ap.add_argument("--args", default="", help='the guest command line, e.g. "no5lvl"')
    ap.add_argument("--timeout", type=float, default=TIMEOUT, help=f"seconds (default {TIMEOUT})")
    ap.add_argument("--matrix", action="store_true", help="build and run the native cases of make test")
    ap.add_argument("-k", action="append", metavar="SUBSTR", help="--matrix: only cases named so")
    ap.add_argument("--json-out", metavar="FILE", help="--matrix: results as JSON")
    opts = ap.parse_args()
    if opts.matrix:
        return matrix(opts)
    if not opts.kernel:
        ap.error("--kernel is required (or --matrix)")
    if not os.path.exists(opts.kernel):
        ap.error(f"{opts.kernel}: no such file (build it with make PLATFORM=pvh)")
    if opts.mem < 64:
        ap.error("--mem must be at least 64 MiB")
    run = Run("run", opts.kernel, bool(opts.la57), opts.mem, opts.args)
    status, text, secs = boot(run, timeout=opts.timeout)
    sys.stdout.write(text)
    why = judge(run, status, text, secs)
    print(f"native: {'PASS' if why is None else 'FAIL: ' + why} ({secs:.1f}s, {run.levels()} levels expected)")
    return 0 if why is None else 1


if __name__ == "__main__":
    sys.exit(main())
