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
import struct
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# A 5 GiB run is the longest: about 10 s of TCG here.  Hangs are cut at this.
TIMEOUT = 120
EXIT_SUCCESS, EXIT_FAILURE = 33, 35
XEN_PVH_DOM0 = "dom0=pvh dom0-iommu=none"

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
    """One boot. la57: the guest's CPU has LA57 (never under Xen, which hides it from
    every HVM and PVH guest). xen: boot it as Xen's PVH dom0 instead (rig/boot.py)."""
    def __init__(self, name, kernel, la57=True, mem=512, args="", bug=None, want_fail=None,
                 census_pair=None, xen=None):
        self.name, self.kernel, self.la57, self.mem, self.args = name, kernel, la57, mem, args
        self.bug, self.want_fail, self.census_pair, self.xen = bug, want_fail, census_pair, xen
        if xen:
            self.la57 = False

    def levels(self):
        return 5 if self.la57 and "no5lvl" not in self.args.split() else 4

    def ram_split(self):
        """MiB below and above 4 GiB: QEMU's pc machine, or Xen's dom0_mem (all low here)."""
        return (self.mem, 0) if self.xen else qemu_ram_split(self.mem)

    def command(self):
        cmd = ["qemu-system-x86_64", "-accel", "tcg", "-machine", "pc",
               "-cpu", "max" if self.la57 else "max,-la57", "-m", str(self.mem),
               "-nodefaults", "-display", "none", "-no-reboot", "-debugcon", "stdio",
               "-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-kernel", self.kernel]
        if self.args:
            cmd += ["-append", self.args]
        return cmd


def boot_xen_dom0(run, log_path, timeout):
    """The same image as Xen's PVH dom0 (Xen's options dom0=pvh dom0-iommu=none; QEMU
    emulates SVM and NPT, so Xen runs it with HAP): (status as the native exit, text, s)."""
    import boot as B        # rig/boot.py: this file's folder is on sys.path when run
    t0 = time.monotonic()
    r = B.boot(run.kernel, xen=run.xen, mem=run.mem, args=run.args, xen_args=XEN_PVH_DOM0,
               timeout=timeout, log=log_path)
    status = {"SUCCESS": EXIT_SUCCESS, "TIMEOUT": None}.get(r.verdict, EXIT_FAILURE)
    text = "\n".join(r.guest_lines) + "\n"
    if r.verdict not in ("SUCCESS", "FAILURE", "ERROR"):
        text += f"rig: {r.summary()}\n"
    return status, text, time.monotonic() - t0


def boot(run, log_path=None, timeout=TIMEOUT):
    """(exit status or None on timeout, output text, seconds)."""
    if run.xen:
        return boot_xen_dom0(run, log_path, timeout)
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


def image_regions(kernel):
    """How many 2 MiB regions of the kernel map the image's PT_LOAD segments span."""
    with open(kernel, "rb") as f:
        elf = f.read()
    phoff, = struct.unpack_from("<Q", elf, 32)
    phentsize, phnum = struct.unpack_from("<HH", elf, 54)
    spans = []
    for i in range(phnum):
        p_type, _flags, _off, vaddr, _paddr, _filesz, memsz, _align = struct.unpack_from(
            "<IIQQQQQQ", elf, phoff + i * phentsize)
        if p_type == 1 and memsz:
            spans.append((vaddr, vaddr + memsz))
    lo, hi = min(a for a, _ in spans), max(b for _, b in spans)
    return ((hi - 1) >> 21) - (lo >> 21) + 1


def expected_census(run):
    """The tables of the native shim's tree, from its layout (docs/levels.md) and QEMU's
    RAM: per top slot used (0, 273, 511) one pud; one pmd for slot 0, one per GiB of RAM,
    two in the kernel map (image and module space, fixmap); one pte per 2 MiB of RAM, and
    for the identity map, the user page, module space, the fixmap and the image."""
    below, above = run.ram_split()
    pmd = 1 + -(-below // 1024) + -(-above // 1024) + 2
    pte = -(-below // 2) + -(-above // 2) + 4 + image_regions(run.kernel)
    levels = run.levels()
    pml5, p4d = (1, 3) if levels == 5 else (0, 1)
    return (levels, pml5, p4d, 3, pmd, pte, 3 + pmd + pte, pml5 + p4d + 3 + pmd + pte)


def judge(run, status, text, secs, timeout=TIMEOUT):
    """None if the run shows what it must, else the first thing it does not."""
    if status is None:
        return f"no exit within {timeout:.0f}s (last line: {text.strip().splitlines()[-1:] or 'none'})"
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
    below, above = run.ram_split()
    # Below 4 GiB the firmware (or Xen) keeps < 1 MiB: the VGA hole, its tables.
    if not m or not (below - 1 <= int(m.group(1)) <= below) or int(m.group(2)) != above:
        return f"RAM: guest says {m.group(0) if m else 'nothing'}, {run.mem} MiB give {below}/{above} MiB"
    where = "a PVH guest of Xen" if run.xen else "bare metal (no hypervisor leaves)"
    if f"shim (pvh): {where}," not in text:
        return f"the shim does not say it runs as {where!r}"
    n_addr = 10 if above else 9
    if f"walker: agrees with the CPU at {n_addr} addresses" not in text:
        return f"walker check: want {n_addr} addresses agreeing with the CPU"
    if above and "walker: direct map above 4 GiB" not in text:
        return "no direct-map check above 4 GiB"
    # Lines whose addresses follow from the layout and the geometry alone.
    want_lines = [f"walker: {'identity':22} {0x100000:#018x} -> {0x100000:#014x} ok (compared)",
                  f"walker: {'direct map start':22} {base:#018x} -> {0:#014x} ok (compared)",
                  f"walker: user page {0x400000:#x} has U at all {levels} levels"]
    if above:
        want_lines.append(f"walker: {'direct map above 4 GiB':22} {base + (1 << 32):#018x} -> "
                          f"{1 << 32:#014x} ok (")
    if levels == 5:
        want_lines += [f"walker: {'LA57: 2^48':22} {1 << 48:#018x} -> ",
                       f"walker: {'LA57: below 2^56':22} {(1 << 56) - 4096:#018x} -> ",
                       "la57: 2^48 and 2^56 - 4 KiB mapped, written, read back: 8 new tables"]
    else:
        want_lines += [f"la57: {va:#018x}: not canonical with 4 levels: map refused, read raised vector 13"
                       for va in (1 << 48, (1 << 56) - 4096)]
        want_lines.append("la57: 2^48 and 2^56 - 4 KiB refused as non-canonical; reads raise #GP")
    for line in want_lines:
        if line not in text:
            return f"missing: {line!r}"
    if not run.xen:
        c, want = census(text), expected_census(run)
        if c != want:
            return f"census {c}, want {want} (levels, pml5, p4d, pud, pmd, pte, below the p4d, total)"
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
        # The word, not the letters: separated by blanks or tabs, not inside another word.
        Run("native-no5lvl-tab", kernel, True, 512, "console=x\tno5lvl"),
        Run("native-no5lvl-inside-word", kernel, True, 512, "xno5lvl no5lvlx"),
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
        Run("pvh-dom0-4.17", kernel, mem=256, xen="4.17"),
        Run("pvh-dom0-4.20", kernel, mem=1024, xen="4.20"),
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
    why = judge(run, status, text, secs, opts.timeout)
    print(f"native: {'PASS' if why is None else 'FAIL: ' + why} ({secs:.1f}s, {run.levels()} levels expected)")
    return 0 if why is None else 1


if __name__ == "__main__":
    sys.exit(main())
