#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make bench: the shim's bring-up cost against its computed minimum, and its
boot time against Debian's Linux PV kernel and GRUB's PV image, side by side.

    python3 bench/run.py            the full run: writes bench/results.md and
                                    bench/bringup.svg, prints the tables
    python3 bench/run.py --quick    a smoke run (256 MiB, one run each, model to
                                    16 GiB): results go to cache/bench/quick/

Parts (each reported even if another fails; --skip drops some):
  dom0     bring-up per phase at dom0_mem 256 MiB, 1, 4, 16 GiB (QEMU TCG, Xen
           4.17): hypercalls, entries, page-table pages, guest time, beside
           the computed minimum (bench/minimum.py)
  linux    wall time from Xen's hand-over to the shim's result line and to
           Debian Linux's "Run /init as init process", alternating, same
           QEMU/Xen/memory/ramdisk (bench/watch.py)
  domu     `xl create` to GRUB's first output vs to the shim's result, as domUs
           in the rig's Debian dom0 (rig/domu, bench/domu.py)
  handoff  `xl create` to Debian Linux's "Run /init" four ways: the vmlinuz and
           its ELF given to xl, through the shim's hand-off, and through GRUB's
           PV image; the hand-off's own hypercalls (bench/fetch.py, domu.py)
  lifecycle  xl migrate, save and restore of the shim and of Debian's Linux at
           256 MiB and 1 GiB: times, the pages the image holds, the shim's own
           resume cost (bench/domu.py, save_image.py)
  model    the real bring-up code on the host model, 1 GiB to 1 TiB
           (tests/model, bench/model.py)
  size     the image's text/data/bss beside XTF's and Mini-OS's

Exit status: 0 when every part that ran measured what it should, 1 otherwise.
"""
import argparse
import datetime
import hashlib
import json
import math
import os
import pickle
import platform
import re
import shutil
import statistics
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import domu  # noqa: E402
import fetch  # noqa: E402
import minimum  # noqa: E402
import model  # noqa: E402
import svg  # noqa: E402
import watch  # noqa: E402

XEN = "4.17"
BUILT_SHIM = os.path.join(REPO, "build", "shim", "shim")
SHIM = BUILT_SHIM           # build_shim() points this at a private copy
CACHE = os.path.join(REPO, "cache", "bench")
LOGS = os.path.join(CACHE, "logs")
PARTS = ("dom0", "linux", "domu", "handoff", "lifecycle", "model", "size")

# Part 4's references, measured once by hand (see REFERENCE_HOW); never rebuilt here.
REFERENCE_SIZES = [
    # name, what, text, data, bss
    ("XTF", "tests/example/test-pv64-example (the smallest PV64 test; 39 PV64 tests: "
     "69 144 to 201 960 bytes text+data+bss, median 69 512)", 24088, 8192, 36864),
    ("Mini-OS", "mini-os, default config (console, xenbus, blk/net/fb/kbd front ends; no lwIP)",
     124544, 1338, 317896),
]
REFERENCE_HOW = """\
How the reference figures were taken (once, by hand, on this machine; nothing of
theirs is in this repository): XTF at commit 453490d (2025-08-29) and Mini-OS at
the newest snapshot available here, commit 229260e (2016-09-05), each fetched as
a public repository snapshot, built in /tmp with its own `make` (`make -j2` for
XTF, plain `make` for Mini-OS) with Debian 12's gcc 12.2.0, and measured with
`size`. GRUB's PV image and Linux's bzImage are Debian's binaries as fetched by
the bench (GRUB's image has no section headers: its size is from its program
headers)."""


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, nd=0):
    if v is None:
        return "—"
    if isinstance(v, float) and nd:
        return f"{v:,.{nd}f}".replace(",", " ")
    return f"{int(round(v)):,}".replace(",", " ")


def mib_label(mib):
    return f"{mib // 1024} GiB" if mib >= 1024 else f"{mib} MiB"


def table(header, rows, align=None):
    align = align or ["l"] + ["r"] * (len(header) - 1)
    sep = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(sep) + " |"]
    for r in rows:
        lines.append("| " + " | ".join(str(c) for c in r) + " |")
    return "\n".join(lines)


# ------------------------------------------------------------------ machine

def machine_info():
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
    info["nproc"] = os.cpu_count()
    try:
        with open("/proc/meminfo") as f:
            kb = int(re.search(r"MemTotal:\s+(\d+)", f.read()).group(1))
        info["mem"] = f"{kb / 2**20:.1f} GiB"
    except (OSError, AttributeError):
        info["mem"] = "?"
    try:
        with open("/proc/cpuinfo") as f:
            info["cpu"] = re.search(r"model name\s*:\s*(.*)", f.read()).group(1).strip()
    except (OSError, AttributeError):
        info["cpu"] = "?"
    info["kvm"] = "no (TCG)"
    try:
        info["load"] = " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        info["load"] = "?"
    q = subprocess.run(["qemu-system-x86_64", "--version"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    info["qemu"] = q.stdout.splitlines()[0].replace("QEMU emulator version ", "") if q.stdout else "?"
    g = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    info["commit"] = g.stdout.strip() or "?"
    info["kernel"] = platform.release()
    info["gcc"] = subprocess.run(["gcc", "-dumpfullversion"], stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, text=True).stdout.strip()
    return info


def build_shim():
    """`make shim`, then a private copy: others may rebuild build/shim/shim while the
    bench runs, and every boot of one run must be of the same image."""
    global SHIM
    p = subprocess.run(["make", "--no-print-directory", "-C", REPO, "shim"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode or not os.path.exists(BUILT_SHIM):
        raise RuntimeError(f"make shim failed:\n{p.stdout[-2000:]}")
    os.makedirs(CACHE, exist_ok=True)
    SHIM = os.path.join(CACHE, "shim")
    shutil.copyfile(BUILT_SHIM, SHIM + ".tmp")
    os.replace(SHIM + ".tmp", SHIM)
    with open(SHIM, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()[:12]


# ------------------------------------------------------------------ guest output

PHASE_RE = re.compile(r"^mmu: (\w+) hypercalls=(\d+) entries=(\d+) pt_pages=(\d+)")
TIME_RE = re.compile(r"^mmu: time (\w+) us=(\d+)")
NR_RE = re.compile(r"^start_info: magic=\S+ nr_pages=(\d+)")
MAPPED_RE = re.compile(r"^mmu: boot tables .*initial mapping (\d+) pages")
IMAGE_RE = re.compile(r"^shim: .*image (0x[0-9a-f]+)-(0x[0-9a-f]+)")


def parse_shim(lines):
    g = {"phases": {}, "order": [], "times": {}, "total_us": None}
    for ln in lines:
        m = PHASE_RE.match(ln)
        if m:
            g["phases"][m.group(1)] = tuple(int(x) for x in m.group(2, 3, 4))
            g["order"].append(m.group(1))
            continue
        m = TIME_RE.match(ln)
        if m:
            if m.group(1) == "total":
                g["total_us"] = int(m.group(2))
            else:
                g["times"][m.group(1)] = int(m.group(2))
            continue
        for key, rx, conv in (("n", NR_RE, int), ("m", MAPPED_RE, int)):
            m = rx.match(ln)
            if m:
                g[key] = conv(m.group(1))
        m = IMAGE_RE.match(ln)
        if m:
            g["image_start"], g["image_end"] = int(m.group(1), 16), int(m.group(2), 16)
    return g


def bringup_phases(order):
    """The bring-up proper: every phase reported before the p2m move."""
    return order[:order.index("p2m")] if "p2m" in order else list(order)


# ------------------------------------------------------------------ part 1

def part_dom0(sizes, runs, report):
    res = {}
    for r in range(runs):
        for mib in sizes:
            path = os.path.join(LOGS, f"dom0-{mib}-{r + 1}.log")
            log(f"dom0 {mib_label(mib)} run {r + 1}/{runs}")
            w = watch.watch(SHIM, r"Test result: SUCCESS", xen=XEN, mem=mib, log=path,
                            timeout=300 + mib / 64)
            if not w.ok:
                raise RuntimeError(f"shim at {mib_label(mib)}: {w.why}; see {w.log_path}")
            g = parse_shim(w.guest_lines)
            g["wall"] = w.handover_to_end
            g["xen_version"] = w.xen_version
            res.setdefault(mib, []).append(g)
            report["xen_version"] = w.xen_version
    out = {}
    for mib, gs in res.items():
        g0 = gs[0]
        order = g0["order"]
        same = all(g["phases"] == g0["phases"] for g in gs)
        facts = {"n": g0["n"], "m": g0["m"], "image_end": g0["image_end"], "W": minimum.window_pages()}
        out[mib] = {
            "facts": facts, "order": order, "counts": g0["phases"], "counts_stable": same,
            "min": minimum.minima(facts),
            "time_us": {p: median(g["times"].get(p) for g in gs) for p in order},
            "time_range": {p: (min(g["times"].get(p, 0) for g in gs), max(g["times"].get(p, 0) for g in gs))
                           for p in order},
            "total_us": median(g["total_us"] for g in gs),
            "wall_s": median(g["wall"] for g in gs),
            "runs": len(gs),
        }
    report["dom0"] = out


# ------------------------------------------------------------------ part 2

def part_linux(runs, mem, report):
    kernel, kpkg = fetch.linux()
    initrd, bpkg = fetch.initramfs()
    res = {"shim": [], "linux": []}
    for r in range(runs):
        order = ("shim", "linux") if r % 2 == 0 else ("linux", "shim")
        for who in order:
            path = os.path.join(LOGS, f"cmp-{who}-{r + 1}.log")
            log(f"hand-over comparison run {r + 1}/{runs}: {who}")
            if who == "shim":
                w = watch.watch(SHIM, r"Test result: SUCCESS", xen=XEN, mem=mem, ramdisk=initrd, log=path)
            else:
                w = watch.watch(kernel, r"Run /init as init process", xen=XEN, mem=mem, ramdisk=initrd,
                                args="console=hvc0 earlyprintk=xen", log=path, timeout=300)
            if not w.ok:
                raise RuntimeError(f"{who}: {w.why}; see {w.log_path}")
            res[who].append(w)
    s = {k: {"handover_to_end": median(w.handover_to_end for w in v),
             "all": [w.handover_to_end for w in v],
             "start_to_handover": median(w.t_handover for w in v),
             "first_guest": median(w.t_first_guest - w.t_handover for w in v)} for k, v in res.items()}
    report["linux"] = {"runs": runs, "mem": mem, "kernel_pkg": kpkg, "busybox_pkg": bpkg,
                       "initrd_bytes": os.path.getsize(initrd), "kernel_bytes": os.path.getsize(kernel),
                       "stats": s,
                       "ratio": s["shim"]["handover_to_end"] / s["linux"]["handover_to_end"]}


def part_domu(runs, mem, report):
    why = domu.rig_available()
    if why:
        report["domu"] = {"pending": why}
        return
    grub, gpkg = fetch.grub_xen()
    cases = [domu.Case("warm-up", SHIM, end="result", mem=mem)]
    for r in range(runs):
        pair = [domu.Case("shim", SHIM, end="result", mem=mem),
                domu.Case("grub", grub, end="first", mem=mem, limit=30, linger=1)]
        cases += pair if r % 2 == 0 else pair[::-1]
    log(f"domU comparison: one dom0 boot, {len(cases)} xl create runs")
    results, dom0_kernel, t_ready = domu.run_cases(XEN, cases, os.path.join(LOGS, "domu.log"))
    bad = [r for r in results if r.status not in ("result", "first")]
    if bad:
        raise RuntimeError("domU: " + "; ".join(f"{r.name}: {r.status} (xl rc {r.rc})" for r in bad))
    res = {"shim": [r for r in results if r.name == "shim"], "grub": [r for r in results if r.name == "grub"]}
    s = {k: {"first": median(r.t_first for r in v), "result": median(r.t_result for r in v),
             "created": median(r.t_created for r in v),
             "all_first": [r.t_first for r in v], "all_result": [r.t_result for r in v]}
         for k, v in res.items()}
    grub_first = next((ln for ln in res["grub"][0].guest_lines if ln.strip()), "") if res["grub"] else ""
    report["domu"] = {"runs": runs, "mem": mem, "grub_pkg": gpkg, "dom0_kernel": dom0_kernel,
                      "grub_bytes": os.path.getsize(grub), "stats": s,
                      "grub_first_line": re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", grub_first).strip(),
                      "ratio_result": s["shim"]["result"] / s["grub"]["first"],
                      "ratio_first": s["shim"]["first"] / s["grub"]["first"]}


# ----------------------------------------------------------------- part 2d

# The Linux domU of the lifecycle part: Debian's kernel and a busybox /init that says it
# is up and then sleeps, so that the toolstack can save and restore it (Linux handles
# control/shutdown = "suspend" in the kernel; its userspace plays no part).
LINUX_LIFECYCLE_INIT = b"""#!/bin/sh
/bin/busybox mount -t proc proc /proc
echo "linux lifecycle: ready, $(/bin/busybox awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"
while :; do /bin/busybox sleep 3600; done
"""
SHIM_WAITING = "lifecycle: waiting for control/shutdown (round {} done"
RESUME_COST_RE = re.compile(r"^resume: cost rc=0 hypercalls=(\d+) us=(\d+), then ports and xenstore "
                            r"hypercalls=(\d+) us=(\d+)$")
TABLES_REPORT_RE = re.compile(r"^lifecycle: round 0 report: p2m (\d+) pfns xxh64=\S+; tables (\d+) frames")


def part_lifecycle(mems, report):
    """xl save, restore and migrate of the shim and of Debian's Linux, at each size in
    mems, in one dom0 boot: dom0's time for each xl command, what the save image holds
    (bench/save_image.py), and the shim's own cost of coming back."""
    why = domu.rig_available()
    if why:
        report["lifecycle"] = {"pending": why}
        return
    rig = domu._rig()
    kernel, _ = rig.build_dom0.build(XEN)
    initrd = os.path.join(CACHE, "linux-lifecycle.cpio.gz")
    rig.build_dom0.busybox_initrd(os.path.dirname(kernel), initrd, LINUX_LIFECYCLE_INIT)
    ops = ("migrate", "save", "restore")
    cases = []
    for mem in mems:
        cases += [domu.Case(f"shim-{mem}", SHIM, mem=mem, args="lifecycle", marker=SHIM_WAITING.format(0),
                            ops=ops, back=SHIM_WAITING.format(1), limit=180),
                  domu.Case(f"linux-{mem}", kernel, mem=mem, ramdisk=initrd, args="console=hvc0 quiet",
                            marker="linux lifecycle: ready", ops=ops, limit=180)]
    log(f"lifecycle: one dom0 boot, {len(cases)} guests, each migrated, saved and restored")
    results, dom0_kernel, _ = domu.run_cases(XEN, cases, os.path.join(LOGS, "lifecycle.log"))
    rows = {}
    for c, r in zip(cases, results):
        bad = [op for op in ("save", "restore") if r.ops.get(op, (None,))[0] != 0]
        if r.status != "result" or bad or r.image is None:
            raise RuntimeError(f"lifecycle: {c.name}: case {r.status} (xl create rc {r.rc}), "
                               f"failed or missing: {bad or 'the image'}; see {LOGS}/lifecycle.log")
        mig_rc, mig_s = r.ops.get("migrate", (None, None))
        mig_why = next((ln for ln in r.xl_lines if "logdirty" in ln), "") if mig_rc else ""
        row = {"mem": c.mem, "kind": c.name.split("-")[0], "save_s": r.ops["save"][1],
               "restore_s": r.ops["restore"][1], "back_s": r.t_back, "image": r.image,
               "migrate_rc": mig_rc, "migrate_s": mig_s, "migrate_why": mig_why.strip()}
        if row["kind"] == "shim":
            cost = [m for m in (RESUME_COST_RE.match(ln) for ln in r.guest_lines) if m]
            rep0 = next((m for m in (TABLES_REPORT_RE.match(ln) for ln in r.guest_lines) if m), None)
            if len(cost) != 1 or rep0 is None or r.t_back is None:
                raise RuntimeError(f"lifecycle: {c.name}: no resume cost line, table report or round 1 "
                                   f"after the restore; see {LOGS}/lifecycle.log")
            row["cost"] = tuple(int(x) for x in cost[0].groups())
            row["tables"] = int(rep0.group(2))
            # The save sends every table Xen typed: exactly the shim's own tables.
            sent = sum(r.image["tables"].values())
            if sent != row["tables"]:
                raise RuntimeError(f"lifecycle: {c.name}: the image holds {sent} page-table pages, the "
                                   f"shim reports {row['tables']} tables")
        rows[c.name] = row
    report["lifecycle"] = {"rows": rows, "mems": mems, "dom0_kernel": dom0_kernel}


def md_lifecycle(rep):
    L = rep["lifecycle"]
    rows = []
    for name, r in L["rows"].items():
        im = r["image"]
        t = im["tables"]
        rows.append([f"{'shim' if r['kind'] == 'shim' else 'Debian Linux'} {mib_label(r['mem'])}",
                     fmt(r["save_s"], 2), fmt(r["restore_s"], 2), fmt(r["back_s"], 2),
                     fmt(im["pages"]), fmt(im["pfns"]), f"{t[1]} / {t[2]} / {t[3]} / {t[4]}",
                     fmt(im["bytes"] / 2**20, 1),
                     "refused" if r["migrate_rc"] else ("ok" if r["migrate_rc"] == 0 else "—")])
    out = table(["domU", "xl save, s", "xl restore, s", "xl restore start → shim waiting again, s",
                 "pages sent (with data)", "pfns in the stream", "tables sent L1 / L2 / L3 / L4",
                 "image MiB", "xl migrate"], rows)
    costs = [(r["mem"], r["cost"]) for r in L["rows"].values() if r["kind"] == "shim"]
    out += "\n\nThe shim's own resume (`resume: cost` line: from the suspend hypercall's return to back in " \
           "service, the proof aside; then the ports and xenstore, which waits on xenstored in dom0):\n\n"
    out += table(["shim", "hypercalls", "µs", "ports and xenstore: hypercalls", "µs"],
                 [[mib_label(m), c[0], fmt(c[1]), c[2], fmt(c[3])] for m, c in costs])
    refused = [n for n, r in L["rows"].items() if r["migrate_rc"]]
    why = next((r["migrate_why"] for r in L["rows"].values() if r["migrate_why"]), "")
    if refused:
        out += (f"\n\n`xl migrate -s ''` failed for {', '.join(refused)}"
                + (f", before any page was sent: `{why}` (log-dirty mode for a PV guest is shadow "
                   "paging, which Debian's Xen is built without)" if why else "") + ".")
    return out


# ----------------------------------------------------------------- part 2c

HANDOFF_PHASES = ("handoff-plan", "handoff-load", "handoff-pin", "handoff-switch")


def part_handoff(runs, mem, report):
    """xl create to Linux's `Run /init` with the kernel given to xl directly, through the
    shim's hand-off (a bootpack of the same kernel and initrd), and through GRUB's PV image
    (its memdisk holding the same vmlinuz and initrd), in turn in one dom0 boot; and the
    hand-off's own hypercalls and guest time from the shim's lines."""
    why = domu.rig_available()
    if why:
        report["handoff"] = {"pending": why}
        return
    sys.path.insert(0, os.path.join(REPO, "tools"))
    import bootpack as BP
    kernel, kpkg = fetch.linux()
    # Every way gets the same initramfs, uncompressed: Xen 4.17's libxenguest gunzips a PV
    # guest's initrd itself (4.18 stopped: "tools/libxg: Don't gunzip the guests initrd"), so
    # with the gzip Linux would unpack it only when it comes through the shim or GRUB, and the
    # comparison would time Linux's gunzip, not the hand-off.
    initrd, bpkg = fetch.initramfs(gzipped=False)
    args = "console=hvc0"
    with open(kernel, "rb") as f:
        elf, _how = BP.kernel_elf(f.read())
    with open(initrd, "rb") as f:
        data, _desc = BP.build(elf, f.read(), args)
    pack = os.path.join(CACHE, "handoff-bootpack.cpio")
    with open(pack, "wb") as f:
        f.write(data)
    # The ELF the bootpack carries, given to xl as it is: xl then decompresses nothing.
    vmlinux = os.path.join(CACHE, "handoff-vmlinux.elf")
    with open(vmlinux, "wb") as f:
        f.write(elf)
    grub, gpkg = fetch.grub_linux(kernel, initrd, args)
    cases = [domu.Case("warm-up", SHIM, end="init", mem=mem, limit=120, ramdisk=pack)]
    for r in range(runs):
        ways = [domu.Case("direct", kernel, end="init", mem=mem, limit=120, ramdisk=initrd, args=args),
                domu.Case("direct-elf", vmlinux, end="init", mem=mem, limit=120, ramdisk=initrd, args=args),
                domu.Case("shim", SHIM, end="init", mem=mem, limit=120, ramdisk=pack),
                domu.Case("grub", grub, end="init", mem=mem, limit=180)]
        cases += ways[r % len(ways):] + ways[:r % len(ways)]
    log(f"hand-off comparison: one dom0 boot, {len(cases)} xl create runs")
    # dom0's initramfs carries the vmlinuz, the ELF and the bootpack (about 140 MB): 1 GiB of dom0.
    results, dom0_kernel, _ = domu.run_cases(XEN, cases, os.path.join(LOGS, "handoff.log"), dom0_mib=1024)
    bad = [r for r in results if r.status != "result"]
    if bad:
        raise RuntimeError("hand-off: " + "; ".join(f"{r.name}: {r.status} (xl rc {r.rc})" for r in bad))
    res = {k: [r for r in results if r.name == k] for k in ("direct", "direct-elf", "shim", "grub")}
    s = {k: {"init": median(r.t_result for r in v), "all": [r.t_result for r in v]} for k, v in res.items()}
    phases = {}
    for r in res["shim"]:
        for ln in r.guest_lines:
            m = re.match(r"^mmu: (handoff-\w+) hypercalls=(\d+) entries=(\d+) pt_pages=(\d+)$", ln)
            if m:
                phases.setdefault(m.group(1), []).append((int(m.group(2)), int(m.group(3))))
            m = re.match(r"^hand-off: (\d+) frames renumbered", ln)
            if m:
                phases.setdefault("moves", []).append((int(m.group(1)), 0))
            m = re.match(r"^hand-off: (\d+) us in the guest from the plan to the switch$", ln)
            if m:
                phases.setdefault("guest_us", []).append((int(m.group(1)), 0))
            m = re.match(r"^hand-off: (\d+) page tables read-only", ln)
            if m:
                phases.setdefault("tables", []).append((int(m.group(1)), 0))
    report["handoff"] = {"runs": runs, "mem": mem, "kernel_pkg": kpkg, "busybox_pkg": bpkg, "grub_pkg": gpkg,
                         "grub_bytes": os.path.getsize(grub),
                         "dom0_kernel": dom0_kernel, "stats": s,
                         "phases": {k: v[0] for k, v in phases.items()},
                         "ratio": s["shim"]["init"] / s["direct-elf"]["init"],
                         "ratio_bz": s["shim"]["init"] / s["direct"]["init"],
                         "ratio_grub": s["shim"]["init"] / s["grub"]["init"]}


# ------------------------------------------------------------------ part 3

def part_model(sizes, default_sizes, report):
    why = model.available()
    if why:
        report["model"] = {"pending": why}
        return
    exe = model.build()
    out = {"init_p2m": {}, "default": {}, "refused": {}}
    for label, szs, p2m in (("init_p2m", sizes, True), ("default", default_sizes, False)):
        for gib in szs:
            runs = 5 if gib <= 64 else 3 if gib <= 256 else 2
            rs = []
            for _ in range(runs):
                log(f"model {gib} GiB{' INIT_P2M' if p2m else ''}")
                r = model.run(gib, init_p2m=p2m, exe=exe)
                if r.get("refused") and not p2m:
                    break               # the builder's answer is the result (1 TiB without INIT_P2M)
                if r["error"]:
                    raise RuntimeError(f"model {gib} GiB: {r['error']}")
                rs.append(r)
            if not rs:
                out["refused"][gib] = r["refused"]
                continue
            r0 = rs[0]
            order = [p["name"] for p in r0["phases"]]
            bring = bringup_phases(order)
            ph = {p["name"]: p for p in r0["phases"]}
            # Best of the runs: host contention (2 shared cores) only ever adds time.
            ns = {name: min(next(p["ns"] for p in r["phases"] if p["name"] == name) for r in rs)
                  for name in order}
            n, m = r0["boot"]["nr_pages"], r0["boot"]["initial_mapping"]
            out[label][gib] = {
                "n": n, "m": m, "order": order, "bringup": bring, "phases": ph, "ns": ns,
                "bringup_ns": sum(ns[p] for p in bring),
                "hypercalls": sum(ph[p]["hypercalls"] for p in bring),
                "pt_pages": sum(ph[p]["pt_pages"] for p in bring),
                "min_pt": minimum.table_pages(n, m),
                "min_hyp": sum(minimum.minima({"n": n, "m": m, "image_end": minimum.KERNEL_MAP_BASE,
                                               "W": minimum.window_pages()}).get(p, (0,))[0] for p in bring),
                "writes": sum(ph[p]["writes"] for p in bring),
                "zeroed": sum(ph[p]["zeroed"] for p in bring),
                "model_ns_per_write": min(r["baseline"]["model_ns_per_write"] for r in rs),
                "native_ns_per_write": median(r["baseline"]["native_ns_per_write"] for r in rs),
                "maxrss_kib": max(r["maxrss_kib"] or 0 for r in rs),
                "runs": runs,
            }
    report["model"] = out


# ------------------------------------------------------------------ part 4

def elf_loads(path):
    """(file bytes, memory bytes) of an ELF64's PT_LOAD segments."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return None
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    fsz = msz = 0
    for i in range(phnum):
        p_type, _, _, _, _, p_filesz, p_memsz, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1:
            fsz += p_filesz
            msz += p_memsz
    return fsz, msz


def part_size(report):
    p = subprocess.run(["size", SHIM], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        raise RuntimeError(f"size {SHIM}: {p.stderr.strip()}")
    text, data, bss = (int(x) for x in p.stdout.splitlines()[1].split()[:3])
    out = {"shim": (text, data, bss), "shim_loads": elf_loads(SHIM), "shim_file": os.path.getsize(SHIM)}
    try:
        g, _ = fetch.grub_xen()
        out["grub"] = (os.path.getsize(g), elf_loads(g))
        k, _ = fetch.linux()
        out["linux"] = os.path.getsize(k)
    except fetch.FetchError as e:
        out["fetch_error"] = str(e)
    report["size"] = out


# ------------------------------------------------------------------ report

def md_dom0(rep):
    d = rep["dom0"]
    parts = []
    summary = []
    for mib in sorted(d):
        e = d[mib]
        f = e["facts"]
        rows = []
        bring = bringup_phases(e["order"])
        for p in e["order"]:
            h, en, pt = e["counts"][p]
            mn = e["min"].get(p)
            lo, hi = e["time_range"][p]
            rows.append([p + (" *" if p not in bring else ""), fmt(h), fmt(mn[0]) if mn else "—",
                         fmt(en), fmt(mn[1]) if mn else "—", fmt(pt), fmt(mn[2]) if mn else "—",
                         fmt(e["time_us"][p]), f"{fmt(lo)}–{fmt(hi)}"])
        tb = {k: sum(e["counts"][p][i] for p in bring) for i, k in enumerate(("h", "e", "pt"))}
        tm = {k: sum(e["min"][p][i] for p in bring if p in e["min"]) for i, k in enumerate(("h", "e", "pt"))}
        t_bring = sum(e["time_us"][p] for p in bring)
        rows.append(["**bring-up**", f"**{fmt(tb['h'])}**", fmt(tm["h"]), f"**{fmt(tb['e'])}**",
                     fmt(tm["e"]), f"**{fmt(tb['pt'])}**", fmt(tm["pt"]), f"**{fmt(t_bring)}**", ""])
        head = (f"#### dom0_mem = {mib_label(mib)}: n = {fmt(f['n'])} pages, Xen's initial mapping "
                f"m = {fmt(f['m'])} pages ({e['runs']} run{'s' if e['runs'] != 1 else ''}"
                f"{'' if e['counts_stable'] else '; counts varied between runs: first run shown'})")
        parts.append(head + "\n\n" + table(
            ["phase", "hypercalls", "min", "entries", "min", "pt pages", "min", "guest µs (median)", "range"],
            rows))
        dom_phase = max(bring, key=lambda p: e["time_us"][p]) if bring else "-"
        summary.append([mib_label(mib), fmt(f["n"]), f"{fmt(tb['pt'])} / {fmt(tm['pt'])}",
                        f"{fmt(tb['h'])} / {fmt(tm['h'])}", f"{fmt(tb['e'])} / {fmt(tm['e'])}",
                        fmt(t_bring / 1000, 1), f"{dom_phase} {100 * e['time_us'][dom_phase] / max(t_bring, 1):.0f} %",
                        fmt(e["total_us"] / 1000, 1), fmt(e["wall_s"], 3)])
    s = table(["dom0", "pages", "pt pages / min", "hypercalls / min", "entries / min",
               "bring-up guest ms", "largest phase", "all phases guest ms", "hand-over → result s"],
              summary)
    return s, "\n\n".join(parts)


def md_linux(rep):
    L = rep["linux"]
    s = L["stats"]
    rows = [["shim (result line)", fmt(s["shim"]["handover_to_end"], 3),
             " ".join(f"{x:.3f}" for x in s["shim"]["all"]), fmt(s["shim"]["start_to_handover"], 2),
             fmt(s["shim"]["first_guest"], 3)],
            ["Linux (`Run /init as init process`)", fmt(s["linux"]["handover_to_end"], 3),
             " ".join(f"{x:.3f}" for x in s["linux"]["all"]), fmt(s["linux"]["start_to_handover"], 2),
             fmt(s["linux"]["first_guest"], 3)]]
    t = table(["dom0 kernel", "hand-over → end, s (median)", "each run", "QEMU start → hand-over, s",
               "hand-over → first line, s"], rows)
    return t + f"\n\n**shim / Linux = {L['ratio']:.4f}** (Linux takes {1 / L['ratio']:.0f}× as long)."


def md_domu(rep):
    D = rep["domu"]
    s = D["stats"]
    rows = [["shim", fmt(s["shim"]["first"], 2), fmt(s["shim"]["result"], 2), fmt(s["shim"]["created"], 2),
             " ".join(f"{x:.2f}" for x in s["shim"]["all_result"])],
            ["GRUB (grub-x86_64-xen.bin)", fmt(s["grub"]["first"], 2), "—", fmt(s["grub"]["created"], 2),
             " ".join(f"{x:.2f}" for x in s["grub"]["all_first"])]]
    t = table(["domU", "xl create → first output, s", "→ result, s", "xl create returned, s",
               "each run, s (shim: result; GRUB: first output)"], rows)
    return t + (f"\n\n**shim result / GRUB first output = {D['ratio_result']:.2f}**; "
                f"first output vs first output: {D['ratio_first']:.2f}. GRUB's first line: "
                f"`{D['grub_first_line']}`.")


def md_handoff(rep):
    H = rep["handoff"]
    s, ph = H["stats"], H["phases"]
    rows = [["direct: `kernel=` the vmlinuz (xl decompresses its XZ payload in dom0)", fmt(s["direct"]["init"], 2),
             " ".join(f"{x:.2f}" for x in s["direct"]["all"])],
            ["direct: `kernel=` the ELF inside it (what the bootpack carries)", fmt(s["direct-elf"]["init"], 2),
             " ".join(f"{x:.2f}" for x in s["direct-elf"]["all"])],
            ["through the shim: `kernel=` the shim, `ramdisk=` a bootpack of that ELF and the initramfs",
             fmt(s["shim"]["init"], 2), " ".join(f"{x:.2f}" for x in s["shim"]["all"])]]
    if "grub" in s:
        rows.append([f"through GRUB: `kernel=` a GRUB PV image ({fmt(H['grub_bytes'])} bytes, {H['grub_pkg']}) "
                     "whose memdisk holds the vmlinuz and the initramfs; GRUB decompresses the XZ payload",
                     fmt(s["grub"]["init"], 2), " ".join(f"{x:.2f}" for x in s["grub"]["all"])])
    out = table(["", "xl create to `Run /init`, s (median)", "every run"], rows, ["l", "r", "l"])
    out += (f"\n\nAgainst the same ELF given to xl directly, the shim costs {100 * (H['ratio'] - 1):+.1f} % "
            f"(goal: 10 % or less; single rounds under TCG vary by seconds, so the medians decide); "
            f"against the vmlinuz, {100 * (H['ratio_bz'] - 1):+.0f} %, since the "
            "bootpack's kernel was decompressed on the host and xl decompresses the vmlinuz in dom0")
    out += (f"; against GRUB, {100 * (H['ratio_grub'] - 1):+.0f} %." if "ratio_grub" in H else ".")
    moves = ph.get("moves", (0, 0))[0]
    per = [[k, fmt(ph[k][0]), fmt(ph[k][1])] for k in HANDOFF_PHASES if k in ph]
    # Beside the phases' batches: the trampoline's mmuext_op, vm_assist (m2p_strict is on by
    # default), stack_switch and set_trap_table.
    total = sum(ph[k][0] for k in HANDOFF_PHASES if k in ph) + 4
    m2p = -(-moves // 1024) if moves else 0
    ro = ph.get("handoff-pin", (1, 0))[0]
    fixed = total - m2p - ro
    out += "\n\nThe hand-off's own hypercalls (the shim's `mmu: handoff-* hypercalls=` lines, one run):\n\n"
    out += table(["phase", "hypercalls", "entries"], per, ["l", "r", "r"])
    out += (f"\n\n{total} hypercalls in all for {moves} moves and {ph.get('tables', (0, 0))[0]} new page "
            f"tables: the phases above, then vm_assist, stack_switch, set_trap_table and the trampoline's "
            f"mmuext_op. That is {fixed} fixed, {m2p} M2P batches (1 024 updates each) and {ro} read-only "
            f"batch with the pin: the goal (16 or fewer fixed, plus one per M2P batch, plus one read-only "
            f"batch) is {'met' if fixed <= 16 and ro == 1 else 'not met'}. The model's run of the same code "
            "(tests/model/test_handoff.c) meets the computed minimum exactly, 64 MiB to 1 TiB. "
            f"Guest time from the plan to the switch: {fmt(ph.get('guest_us', (0, 0))[0] / 1000, 1)} ms "
            "(one run; TCG).")
    return out


def md_model(rep):
    M = rep["model"]
    rows = []
    for gib in sorted(M["init_p2m"]):
        e = M["init_p2m"][gib]
        ph = e["phases"]
        entries_once = e["pt_pages"] * 512
        t_once = entries_once * e["model_ns_per_write"]
        p2m_ns = e["ns"].get("p2m")
        dflt = M["default"].get(gib)
        rows.append([f"{gib:,} GiB".replace(",", " "), fmt(e["n"]),
                     f"{fmt(e['pt_pages'])} / {fmt(e['min_pt'])}",
                     f"{fmt(e['hypercalls'])} / {fmt(e['min_hyp'])}",
                     fmt(e["bringup_ns"] / 1e6, 1), fmt(e["bringup_ns"] / gib / 1e6, 2),
                     fmt(e["ns"].get("build", 0) / e["n"], 1),
                     f"{e['writes'] / entries_once:.3f}",
                     f"{e['bringup_ns'] / t_once:.1f}",
                     fmt(p2m_ns / 1e6, 1) if p2m_ns is not None else "—",
                     fmt(dflt["bringup_ns"] / 1e6, 1) if dflt else "—",
                     fmt(e["maxrss_kib"] / 1024)])
        if not dflt and gib in M.get("refused", {}):
            rows[-1][-2] = "refused †"
    t = table(["guest", "pages", "pt pages / min", "hypercalls / min", "bring-up ms", "ms per GiB",
               "build ns per page", "writes per table entry", "× write-once time",
               "p2m ms", "bring-up ms, default image", "model RSS MiB"], rows)
    for gib, why in sorted(M.get("refused", {}).items()):
        t += f"\n\n† {fmt(gib)} GiB, default image: the model's dom0 builder (after Xen's dom0_build.c) refuses: `{why}`."
    return t


def md_size(rep):
    S = rep["size"]
    text, data, bss = S["shim"]
    rows = [["**the shim** (build/shim/shim, default build)", fmt(text), fmt(data), fmt(bss), fmt(text + data + bss), "this run"]]
    for name, what, t, d, b in REFERENCE_SIZES:
        rows.append([f"{name}: {what}", fmt(t), fmt(d), fmt(b), fmt(t + d + b), "measured once (below)"])
    if "grub" in S:
        fsz, (lf, lm) = S["grub"][0], S["grub"][1]
        rows.append(["GRUB's PV image (grub-x86_64-xen.bin, with its memdisk of modules)", "—", "—", "—",
                     f"{fmt(lm)} loaded ({fmt(fsz)} file)", "this run"])
    if "linux" in S:
        rows.append(["Debian Linux 6.1 bzImage (compressed; modules not counted)", "—", "—", "—",
                     f"{fmt(S['linux'])} file", "this run"])
    t = table(["image", "text", "data", "bss", "total", "source"], rows)
    import math
    x, m = REFERENCE_SIZES[0][2], REFERENCE_SIZES[1][2]
    return t + (f"\n\nOrders of magnitude, text: the shim 10^{math.log10(text):.1f} bytes, XTF's "
                f"smallest test 10^{math.log10(x):.1f}, Mini-OS 10^{math.log10(m):.1f}. The shim's "
                f"bss ({fmt(bss)} bytes) is mostly its {minimum.window_pages()}-page fill window "
                f"({fmt(minimum.window_pages() * 4096)} bytes) and its stacks.")


def loglog_slope(points):
    """Least-squares slope of log(y) against log(x): 1.0 is linear scaling."""
    pts = [(math.log(x), math.log(y)) for x, y in points if x > 0 and y and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else None


def bringup_us(e):
    return sum(e["time_us"][p] for p in bringup_phases(e["order"]))


def observations(rep):
    obs = []
    d = rep.get("dom0")
    if d:
        big = max(d)
        e = d[big]
        bring = bringup_phases(e["order"])
        tot = sum(e["time_us"][p] for p in bring)
        for p in sorted(bring, key=lambda p: -e["time_us"][p])[:2]:
            obs.append(f"At {mib_label(big)}, `{p}` takes {100 * e['time_us'][p] / tot:.0f} % of the "
                       f"bring-up's guest time ({e['time_us'][p] / 1000:.0f} ms of {tot / 1000:.0f} ms).")
        if "switch" in e["time_us"] and "build" in e["time_us"]:
            new_entries = e["facts"]["n"] - minimum.graft_pages(e["facts"]["n"], e["facts"]["m"])
            obs.append(f"`switch` is one hypercall of 5 entries, yet it is the slow phase: pinning the new "
                       f"L4s makes Xen validate the whole new tree once, every new direct-map L1 entry "
                       f"included ({e['time_us']['switch'] * 1000 / max(new_entries, 1):.0f} ns per entry "
                       f"at {mib_label(big)} under TCG), against "
                       f"{e['time_us']['build'] * 1000 / max(new_entries, 1):.0f} ns per entry for the "
                       f"guest to write them (`build`). Xen validates every new entry once, which no PV kernel "
                       f"can skip; the guest's own share is the smaller part.")
        sl = loglog_slope([(mib, bringup_us(e)) for mib, e in d.items()])
        if sl is not None and len(d) > 1:
            per = ", ".join(f"{bringup_us(d[mib]) / 1000 / (mib / 1024):.0f}" for mib in sorted(d))
            obs.append(f"Bring-up guest time against memory: log-log slope {sl:.2f} from "
                       f"{mib_label(min(d))} to {mib_label(max(d))} (1.00 = linear); ms per GiB: {per} "
                       f"(a fixed cost shows at the small sizes).")
        over = [(mib, p) for mib in sorted(d) for p in d[mib]["order"]
                if p in d[mib]["min"] and d[mib]["counts"][p][0] > d[mib]["min"][p][0]]
        if over:
            obs.append("Above the hypercall minimum: " + ", ".join(
                f"{p} at {mib_label(mib)} ({d[mib]['counts'][p][0]} vs {d[mib]['min'][p][0]})"
                for mib, p in over) + " (the queue's 1024-request / 64-call limits split the batch).")
        mism = [(mib, p, k) for mib in sorted(d) for p in d[mib]["order"] if p in d[mib]["min"]
                for i, k in ((1, "entries"), (2, "pt pages"))
                if d[mib]["counts"][p][i] != d[mib]["min"][p][i]]
        if mism:
            obs.append("Counts that differ from the computed minimum: " + ", ".join(
                f"{p} {k} at {mib_label(mib)}" for mib, p, k in mism) + ".")
        else:
            obs.append("Entries and page-table pages equal the computed minimum in every phase at every size.")
        small, e0 = min(d), d[min(d)]
        other = [p for p in e0["order"] if p not in bringup_phases(e0["order"])]
        if other:
            t_other = sum(e0["time_us"][p] for p in other)
            obs.append(f"At {mib_label(small)} the exercises after the bring-up ({', '.join(other)}) take "
                       f"{t_other / 1000:.0f} ms of the {e0['total_us'] / 1000:.0f} ms guest total; the "
                       f"wall time from hand-over to the result line ({e0['wall_s']:.2f} s) also holds the "
                       f"self-checks (not timed as phases) and the console output.")
    m = rep.get("model")
    if m and "init_p2m" in m and m["init_p2m"]:
        mm = m["init_p2m"]
        a, b = min(mm), max(mm)
        ra = mm[a]["bringup_ns"] / a
        rb = mm[b]["bringup_ns"] / b
        sl = loglog_slope([(g, e["bringup_ns"]) for g, e in mm.items()])
        wr = mm[b]["writes"] / (mm[b]["pt_pages"] * 512)
        at_min = all(e["pt_pages"] == e["min_pt"] and e["hypercalls"] == e["min_hyp"] for e in mm.values())
        obs.append(f"On the model, bring-up time per GiB is {ra / 1e6:.1f} ms at {a} GiB and "
                   f"{rb / 1e6:.1f} ms at {fmt(b)} GiB (log-log slope {sl:.2f}): linear in memory; "
                   f"the page-table pages and hypercalls "
                   f"{'equal the computed minimum at every size' if at_min else 'differ from the computed minimum at some sizes (table)'}. The "
                   f"bring-up writes {wr:.3f} 8-byte entries per entry of the tables it builds (each "
                   f"entry once, after one clear of the page) and takes "
                   f"{mm[b]['bringup_ns'] / (mm[b]['pt_pages'] * 512 * mm[b]['model_ns_per_write']):.1f}× "
                   f"the model's time for writing that many entries once: the rest is reading the p2m "
                   f"for every entry, the page clears, and the model's validation of every entry at the "
                   f"pin.")
        if "p2m" in mm[b]["ns"]:
            obs.append(f"The p2m move (after the bring-up) is the largest single step on the model at "
                       f"{fmt(b)} GiB: {mm[b]['ns']['p2m'] / 1e9:.1f} s against {mm[b]['bringup_ns'] / 1e9:.1f} s "
                       f"for the whole bring-up: per pfn it reads the builder's list and the M2P (each mfn is "
                       f"checked) and writes the new list; with INIT_P2M it also hands the builder's "
                       f"{fmt(mm[b]['n'] * 8 / 4096)} list frames back one direct-map entry each.")
    L = rep.get("linux")
    if L and "stats" in L:
        s = L["stats"]
        obs.append(f"As dom0, Linux needs {s['linux']['handover_to_end'] / s['shim']['handover_to_end']:.0f}× "
                   f"the shim's time from hand-over to its first process; Xen's own dom0 build also takes "
                   f"longer for it ({s['linux']['start_to_handover']:.1f} s vs "
                   f"{s['shim']['start_to_handover']:.1f} s from QEMU start to hand-over: an 8 MB "
                   f"bzImage to unpack against a {rep.get('size', {}).get('shim_file', 0) // 1024} KiB ELF).")
    D = rep.get("domu")
    if D and "stats" in D:
        s = D["stats"]
        obs.append(f"As domUs, `xl create` itself dominates: it returns after {s['grub']['created']:.2f} s "
                   f"(GRUB) and {s['shim']['created']:.2f} s (shim) in this TCG dom0, and both guests print "
                   f"before it returns. The shim's first line comes {s['shim']['first']:.2f} s after the "
                   f"create starts, GRUB's {s['grub']['first']:.2f} s; the shim's whole run to its result "
                   f"line takes {s['shim']['result'] - s['shim']['first']:.2f} s more.")
    Lc = rep.get("lifecycle")
    if Lc and "rows" in Lc:
        for mem in Lc["mems"]:
            sh, lx = Lc["rows"].get(f"shim-{mem}"), Lc["rows"].get(f"linux-{mem}")
            if not sh or not lx:
                continue
            obs.append(f"Saved at {mib_label(mem)}, the shim's image and Linux's hold the same pages of data "
                       f"({fmt(sh['image']['pages'])} and {fmt(lx['image']['pages'])}); the shim's stream "
                       f"describes {fmt(sh['image']['pfns'])} pfns against Linux's {fmt(lx['image']['pfns'])} "
                       f"(its p2m reaches the balloon test's far pfn), and sends {sh['tables']} tables, exactly "
                       f"those it reports. xl save took {sh['save_s']:.1f} s and {lx['save_s']:.1f} s, xl "
                       f"restore {sh['restore_s']:.1f} s and {lx['restore_s']:.1f} s; back, the shim spends "
                       f"{sh['cost'][0]} hypercall(s) and {sh['cost'][1] / 1000:.1f} ms before it rebinds its "
                       f"ports and xenstore ({sh['cost'][3] / 1000:.1f} ms, mostly waiting on xenstored).")
    return obs


def write_svg(rep, path):
    d = rep.get("dom0", {})
    m = rep.get("model", {}).get("init_p2m", {}) if isinstance(rep.get("model"), dict) else {}
    qemu_t = [(mib, sum(e["time_us"][p] for p in bringup_phases(e["order"])) / 1000) for mib, e in d.items()]
    qemu_h = [(mib, sum(e["counts"][p][0] for p in bringup_phases(e["order"]))) for mib, e in d.items()]
    min_h = [(mib, sum(e["min"][p][0] for p in bringup_phases(e["order"]) if p in e["min"]))
             for mib, e in d.items()]
    top = max(d) if d else 0
    mod_t = [(g * 1024, e["bringup_ns"] / 1e6) for g, e in m.items()]
    mod_h = [(g * 1024, e["hypercalls"]) for g, e in m.items()]
    mod_min = [(g * 1024, e["min_hyp"]) for g, e in m.items() if g * 1024 > top]
    ref = []                            # slope 1 through the largest point: linear scaling
    anchor = max(mod_t or qemu_t, default=None)
    if anchor:
        xs = [x for x, _ in qemu_t + mod_t]
        ref = [(x, anchor[1] * x / anchor[0]) for x in (min(xs), max(xs))]
    panels = [
        {"title": "bring-up time", "ylabel": "ms", "series": [
            {"name": "linear in memory (slope 1)", "points": ref, "color": "#999", "style": "dotted"},
            {"name": "Xen 4.17 in QEMU TCG (guest TSC, median)", "points": qemu_t, "color": "#1f5fbf",
             "marker": "circle"},
            {"name": "host model (tests/model)", "points": mod_t, "color": "#d0602a", "marker": "square",
             "style": "dashed"}]},
        {"title": "bring-up hypercalls", "ylabel": "hypercalls", "series": [
            {"name": "Xen 4.17 in QEMU TCG", "points": qemu_h, "color": "#1f5fbf", "marker": "circle"},
            {"name": "host model", "points": mod_h, "color": "#d0602a", "marker": "square", "style": "dashed"},
            {"name": "computed minimum", "points": min_h + mod_min, "color": "#555", "style": "dotted"}]},
    ]
    svg.plot(path, "the shim's bring-up against guest memory", panels,
             note=f"bench/run.py, {rep['info']['date']}, commit {rep['info']['commit']}; "
                  f"bring-up = phases before p2m; log-log axes")


def render(rep, quick):
    info = rep["info"]
    out = ["<!-- SPDX-License-Identifier: MIT -->",
           "# Benchmarks: the shim's bring-up against its minimum, and boot time against Linux and GRUB",
           "",
           f"Written by `python3 bench/run.py{' --quick' if quick else ''}` (`make bench`); "
           f"every figure below is from that run.",
           "",
           table(["", ""], [
               ["date", info["date"]],
               ["commit", f"`{info['commit']}` (shim image sha256 `{rep.get('shim_sha', '?')}`)"],
               ["Xen", rep.get("xen_version") or XEN],
               ["QEMU", f"{info['qemu']}, TCG (no KVM), `-cpu max,-smap -smp 1`"],
               ["machine", f"{info['nproc']} CPUs ({info['cpu']}), {info['mem']} RAM, "
                           f"load average {info['load']} at the start, {rep.get('load_end', '?')} at "
                           f"the end (a shared machine)"],
               ["timing", "guest times are TSC deltas, and TCG's TSC follows the host clock: host "
                          "contention inflates every time (wall and guest alike); the counts are exact"],
               ["host", f"Linux {info['kernel']}, gcc {info['gcc']}"],
               ["runtime", f"{rep['runtime_s'] / 60:.1f} min"],
           ], ["l", "l"]),
           ""]
    obs = observations(rep)
    if obs:
        out += ["## What stands out", ""] + [f"- {o}" for o in obs] + [""]
    errs = rep.get("errors", {})

    def section(key, title, body_fn, intro):
        nonlocal out
        out.append(f"## {title}")
        out.append("")
        if intro:
            out += [intro, ""]
        if key in errs:
            out += [f"**Not measured: {errs[key]}**", ""]
        elif key not in rep:
            out += ["Not run (skipped).", ""]
        elif isinstance(rep[key], dict) and rep[key].get("pending"):
            out += [f"**Pending: {rep[key]['pending']}.**", ""]
        else:
            out += [body_fn(rep), ""]

    def dom0_body(r):
        s, per = md_dom0(r)
        return (s + "\n\nEach phase per size (`*`: after the bring-up proper: p2m moves the p2m list into "
                "its own linear area, the others exercise the finished tables; guest time is the TSC delta per phase, converted with Xen's vcpu_time_info "
                "scale):\n\n" + per + "\n\n" + minimum.EXPLAIN.format(W=minimum.window_pages()))

    section("dom0", "1. Bring-up cost per phase (dom0 under Xen 4.17 in QEMU)", dom0_body,
            "The shim as dom0 with `dom0_mem` = 256 MiB, 1, 4 and 16 GiB, each size booted "
            f"{rep.get('dom0_runs', '?')} times (sizes interleaved); counts are the guest's own "
            "(`mmu: PHASE hypercalls= entries= pt_pages=`), times its `mmu: time PHASE us=` lines, "
            "medians over the runs. The minimum columns are computed from the layout alone "
            "(bench/minimum.py; table at the end of this section).")
    L = rep.get("linux", {})
    section("linux", "2a. Hand-over to result: the shim vs Debian's Linux as dom0", md_linux,
            f"Alternating runs ({L.get('runs', '?')} each, order swapped every round), the same QEMU "
            f"and Xen {XEN} command line (rig/boot.py's), dom0_mem = {L.get('mem', '?')} MiB, and the same "
            f"ramdisk: a {fmt(L.get('initrd_bytes'))}-byte initramfs with busybox-static as /bin/busybox "
            "and a two-line /init. Linux runs with `console=hvc0 earlyprintk=xen`. Wall time on the host "
            "from Xen's `Freed NNNkB init memory` line to the shim's `Test result: SUCCESS` and to Linux's "
            f"`Run /init as init process`. Kernel: {L.get('kernel_pkg', 'linux-image-amd64')}; "
            f"{L.get('busybox_pkg', 'busybox-static')}.")
    D = rep.get("domu", {})
    section("domu", "2b. xl create to first output: the shim vs GRUB's PV image as domU", md_domu,
            f"Both as PV domUs with memory = {D.get('mem', 256)} MiB under Xen {XEN}, created with `xl create` "
            "in the rig's Debian dom0 (rig/domu: Debian's Linux "
            f"{D.get('dom0_kernel', '')}, xen-utils-{XEN}, 512 MiB) inside the same QEMU, alternating in one "
            f"dom0 boot ({D.get('runs', '?')} each after one discarded warm-up). Times are dom0 uptime "
            "from just before `xl create` to the guest's first console output and to its result line, "
            "polled every 10 ms in dom0 (bench/domu-init.sh). GRUB has no result line: its first output "
            f"is what is timed. Image: {D.get('grub_pkg', 'grub-xen-host')}.")
    Hh = rep.get("handoff", {})
    section("handoff", "2c. The hand-off: xl create to Linux's /init, directly, through the shim and through GRUB",
            md_handoff,
            f"Debian's Linux ({Hh.get('kernel_pkg', 'linux-image-amd64')}) with the busybox initramfs of "
            f"2a, uncompressed (Xen 4.17's xl would gunzip it for the direct ways only), "
            f"as a PV domU with memory = {Hh.get('mem', '?')} MiB under Xen {XEN}, in the rig's dom0 "
            f"like 2b, in rotation ({Hh.get('runs', '?')} each after a discarded warm-up through the "
            "shim). Times are dom0 uptime from just before `xl create` to Linux's `Run /init as init "
            "process` (bench/domu-init.sh, END=init). The shim runs its full checks before it hands "
            "over, so its time includes them. GRUB's image is built like Debian's grub-xen-host one "
            "(grub-mkimage -O x86_64-xen, grub-xen-bin's modules), with the vmlinuz and the initramfs in "
            "its memdisk and a config that boots them with GRUB's PV loader (bench/fetch.py grub_linux).")
    section("lifecycle", "2d. Save, restore and migrate: the shim vs Debian's Linux as domU", md_lifecycle,
            f"Each guest as a PV domU under Xen {XEN} in the rig's dom0 (like 2b), all in one dom0 boot: "
            "once it is up (the shim with `lifecycle`, waiting for control/shutdown; Linux with a busybox "
            "/init that sleeps), dom0 runs `xl migrate -s '' DOM 'xl migrate-receive'`, then `xl save` to "
            "a virtio scratch disk of its own, then `xl restore` (bench/domu-init.sh, OPS). Times are dom0 "
            "uptime around each xl command. The image columns are read from the saved stream on the host "
            "(bench/save_image.py: the PAGE_DATA records' pfns, their types and their data): the save sends "
            "every pfn up to the guest's max_pfn, data only for pages it has. Linux prints nothing once "
            "restored, so only the shim has a 'waiting again' time. One run each: a shared machine makes "
            "any single time noisy; the page counts are exact.")
    section("model", "3. The bring-up on the host model, 1 GiB to 1 TiB", md_model,
            "The real shim/pv/mmu_pv.c, batch.c, p2m.c, ... compiled for the host and run on tests/model's "
            "model of Xen's PV MMU and dom0 builder (bench/model_bench.c, -O2, one process per size; "
            "the model validates every entry as Xen does). The image declares XEN_ELFNOTE_INIT_P2M "
            "(as Linux; the builder must place a 1 TiB guest's 2 GiB p2m list outside the initial "
            "mapping); the column 'bring-up ms, default image' repeats the bring-up with the default "
            "image (no INIT_P2M) where the builder accepts it. "
            "Self-checks, module-space and balloon exercises are off; bring-up = the phases before p2m, "
            "timed with the host's clock on the shim's own phase marks. 'writes per table entry' = the "
            "8-byte writes the bring-up made / (its table pages × 512); '× write-once time' = bring-up "
            "time / (table pages × 512 × the model's cost of one 8-byte write, measured on 4 M writes "
            "through the same direct map after the run). Times are the best of 5 runs up to 64 GiB "
            "(host contention only adds time), of 3 at 256 GiB and of 2 at 1 TiB.")
    section("size", "4. Image size", md_size, "`size` of the ELF images (bytes).")
    out += [REFERENCE_HOW, ""]
    out += ["## Reproducing", "",
            "    python3 bench/run.py            # or: make bench",
            "    python3 bench/run.py --quick    # smoke run, results in cache/bench/quick/", "",
            "Everything it needs comes from Debian packages (`apt-get download`, unpacked into "
            "cache/bench/): linux-image-amd64's kernel, busybox-static, grub-xen-host (which ships "
            "grub-x86_64-xen.bin, built from grub-xen-bin). Serial logs of every boot: cache/bench/logs/.", ""]
    return "\n".join(out)


def print_tables(rep):
    for key, fn in (("dom0", lambda r: md_dom0(r)[0]), ("linux", md_linux), ("domu", md_domu),
                    ("handoff", md_handoff), ("lifecycle", md_lifecycle),
                    ("model", md_model), ("size", md_size)):
        print(f"\n== {key} ==")
        if key in rep.get("errors", {}):
            print(f"not measured: {rep['errors'][key]}")
        elif key not in rep:
            print("skipped")
        elif isinstance(rep[key], dict) and rep[key].get("pending"):
            print(f"pending: {rep[key]['pending']}")
        else:
            print(fn(rep))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 256 MiB, one run each, small model")
    ap.add_argument("--runs", type=int, help="boots per dom0 size (default 5)")
    ap.add_argument("--cmp-runs", type=int, help="runs per kernel in the comparisons (default 5)")
    ap.add_argument("--skip", default="", help=f"comma-separated parts to leave out: {','.join(PARTS)}")
    ap.add_argument("--rerender", action="store_true", help=argparse.SUPPRESS)  # from the last run's data
    ap.add_argument("--out", help="directory for results.md and bringup.svg "
                                  "(default bench/, with --quick cache/bench/quick/)")
    o = ap.parse_args()
    skip = {s for s in o.skip.split(",") if s}
    if skip - set(PARTS):
        ap.error(f"unknown part(s) {sorted(skip - set(PARTS))}")
    runs = o.runs or (1 if o.quick else 5)
    cmp_runs = o.cmp_runs or (1 if o.quick else 5)
    sizes = [256] if o.quick else [256, 1024, 4096, 16384]
    model_sizes = [1, 4, 16] if o.quick else [1, 4, 16, 64, 256, 1024]
    model_default = [1, 4] if o.quick else [1, 4, 16, 64, 256, 1024]
    out_dir = o.out or (os.path.join(CACHE, "quick") if o.quick else HERE)
    os.makedirs(out_dir, exist_ok=True)
    os.makedirs(LOGS, exist_ok=True)

    t0 = time.monotonic()
    rep = {"info": machine_info(), "errors": {}, "dom0_runs": runs}
    if o.rerender:
        with open(os.path.join(CACHE, "last-run.pickle"), "rb") as f:
            rep = pickle.load(f)
        skip = set(PARTS)
    else:
        rep["shim_sha"] = build_shim()
    for part, fn in (("dom0", lambda: part_dom0(sizes, runs, rep)),
                     ("linux", lambda: part_linux(cmp_runs, 256, rep)),
                     ("domu", lambda: part_domu(cmp_runs, 256, rep)),
                     ("handoff", lambda: part_handoff(cmp_runs, 512, rep)),
                     ("lifecycle", lambda: part_lifecycle([256] if o.quick else [256, 1024], rep)),
                     ("model", lambda: part_model(model_sizes, model_default, rep)),
                     ("size", lambda: part_size(rep))):
        if part in skip:
            continue
        t = time.monotonic()
        try:
            fn()
        except Exception as e:          # one part failing must not lose the others
            rep["errors"][part] = f"{type(e).__name__}: {e}"
            log(f"{part}: FAILED: {e}")
        log(f"{part}: {time.monotonic() - t:.0f} s")
    if not o.rerender:
        rep["runtime_s"] = time.monotonic() - t0
        try:
            rep["load_end"] = " ".join(open("/proc/loadavg").read().split()[:3])
        except OSError:
            pass
        with open(os.path.join(CACHE, "last-run.pickle"), "wb") as f:
            pickle.dump(rep, f)

    md = render(rep, o.quick)
    with open(os.path.join(out_dir, "results.md"), "w") as f:
        f.write(md)
    if "dom0" in rep or "model" in rep:
        write_svg(rep, os.path.join(out_dir, "bringup.svg"))
    with open(os.path.join(CACHE, "last-run.json"), "w") as f:
        json.dump(rep, f, indent=1, default=str)
    print_tables(rep)
    print(f"\nbench: {rep['runtime_s'] / 60:.1f} min; wrote {os.path.relpath(out_dir, REPO)}/results.md "
          f"and bringup.svg")
    if rep["errors"]:
        print("bench: FAILED parts: " + ", ".join(rep["errors"]))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
