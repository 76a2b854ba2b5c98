#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The domU matrix: the shim through `xl create`, one dom0 boot per Xen version.

    rig/domu/matrix.py [--xen 4.17|4.20|both] [--only REGEX] [--list] [--json-out F] [-j N]

Builds the shim variants it needs (make MAPPED_RAMDISK=.. INIT_P2M=..), makes
the ramdisks (random bytes in cache/ramdisks/rd-<MiB>.bin, the same files the
dom0 matrix uses, and a gzip copy in cache/domu-disks/), runs every case with
rig/domu/run.py and prints one line per case, then `N passed, N failed`.
Exit 0 when every case got the verdict it expects.

What the cases pin down about the real toolstack (4.17 and 4.20 alike unless
said): a domU ramdisk must fit in memory= (ERROR from xl otherwise); xl maps
no ramdisk file larger than 1 GiB (libxenguest's max_module_size, which libxl
never raises: "tried to map file which is too large"), so 1200 MiB is an ERROR
and 1000 MiB is the largest unmapped case; with MOD_START_PFN the domU's
mod_len is a whole number of pages; Xen 4.17's libxenguest gunzips a .gz
ramdisk, 4.20's hands it over as it is (run.py's host-side check knows both).
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import run as R  # noqa: E402
sys.path.insert(0, os.path.dirname(HERE))
from expect_smp import smp_lines  # noqa: E402

RAMDISKS = os.path.join(REPO, "cache", "ramdisks")
DISKS = os.path.join(REPO, "cache", "domu-disks")
BUILDS = {  # name -> make variables (the Makefile's variant directory follows from them)
    "shim": {},
    "mapped": {"MAPPED_RAMDISK": "1"},
    "initp2m": {"INIT_P2M": "1"},
    "mapped-initp2m": {"MAPPED_RAMDISK": "1", "INIT_P2M": "1"},
    "bug-nx-always": {"BUG": "nx-always"},
    "bug-no-pfn-swap": {"BUG": "no-pfn-swap"},
    "bug-stale-p2m-cr3": {"BUG": "stale-p2m-cr3"},
    "bug-shinfo-mapped": {"BUG": "shinfo-mapped"},
    "pvh": {"PLATFORM": "pvh"},
}


def variant_dir(mv):
    if mv.get("PLATFORM") == "pvh":
        return "pvh" + (f"-bug-{mv['BUG']}" if mv.get("BUG") else "")
    return ("shim" + ("-mapped" if mv.get("MAPPED_RAMDISK") == "1" else "")
            + ("-initp2m" if mv.get("INIT_P2M") == "1" else "")
            + (f"-bug-{mv['BUG']}" if mv.get("BUG") else ""))


def kernel(build):
    return os.path.join(REPO, "build", variant_dir(BUILDS[build]), "shim")


def cases():
    """[(name, Case kwargs)] of the matrix; ramdisks named rd<MiB>[.gz]."""
    ok = ["SUCCESS"]
    return [
        # A domU is told the M2P spans 2^35 frames; Xen maps it only as far as the
        # host's memory: the shim's probe of the last entry faults and is caught.
        ("mem128", dict(kernel="shim", mem=128, expect=ok,
                        require=[r"^m2p: .* the last entry faults \(caught\)"])),
        ("mem2048", dict(kernel="shim", mem=2048, expect=ok)),
        ("rd100", dict(kernel="shim", mem=256, ramdisk="rd100", expect=ok)),
        ("rd600", dict(kernel="shim", mem=1024, ramdisk="rd600", expect=ok)),
        ("rd600-gz", dict(kernel="shim", mem=1024, ramdisk="rd600.gz", expect=ok)),
        ("rd1000", dict(kernel="shim", mem=1280, ramdisk="rd1000", expect=ok)),
        ("rd1200-refused", dict(kernel="shim", mem=2048, ramdisk="rd1200", expect=["ERROR"],
                                reason_re="too large")),
        ("maxmem1024", dict(kernel="shim", mem=256, maxmem=1024, expect=ok)),
        # Several vCPUs (xl's vcpus=; QEMU has 2 CPUs): each vCPU's own checks, the
        # shootdown stress, an mm freed while another vCPU has it loaded; and a save and
        # restore of a domain whose secondaries are down again.
        ("vcpus2", dict(kernel="shim", mem=256, vcpus=2, args="smp-rounds=300", expect=ok,
                        require=smp_lines(2, 300))),
        ("vcpus4", dict(kernel="shim", mem=256, vcpus=4, args="smp-rounds=300", expect=ok,
                        require=smp_lines(4, 300))),
        ("save-restore-vcpus2", dict(kernel="shim", mem=128, vcpus=2, args="lifecycle smp-rounds=100",
                                     expect=ok, ops=["save-restore"], require=smp_lines(2, 100))),
        ("args", dict(kernel="shim", mem=128, args="rig=domu a b", expect=ok,
                      require=[r'^start_info: cmdline="rig=domu a b"$'])),
        ("mapped-rd100", dict(kernel="mapped", mem=256, ramdisk="rd100", expect=ok)),
        ("mapped-rd600", dict(kernel="mapped", mem=1024, ramdisk="rd600", expect=ok)),
        ("initp2m-rd100", dict(kernel="initp2m", mem=256, ramdisk="rd100", expect=ok)),
        ("mapped-initp2m-rd100", dict(kernel="mapped-initp2m", mem=256, ramdisk="rd100",
                                      expect=ok)),
        ("too-small", dict(kernel="shim", mem=64, ramdisk="rd100", expect=["ERROR"],
                           reason_re="too large|Out of memory")),
        ("missing-kernel", dict(kernel="missing", mem=128, expect=["ERROR"],
                                reason_re="No such file")),
        ("linux-selftest", dict(kernel=R.LINUX, mem=256, expect=ok)),
        # The hand-off (docs/handoff.md): the shim boots Debian's Linux to its /init, and
        # a second shim, from a bootpack given as the domU's ramdisk.
        # Linux's userspace in a PV domU under TCG is flaky by itself (rig/domu/README.md): a
        # failed attempt gets one more, in a fresh dom0 boot, and both are printed.
        ("handoff-linux", dict(kernel="shim", mem=512, ramdisk=R.PACK_LINUX, expect=ok, retry=True)),
        ("handoff-shim", dict(kernel="shim", mem=256, ramdisk=R.PACK_SHIM, expect=ok)),
        ("handoff-shim-initp2m", dict(kernel="shim", mem=256, ramdisk=R.PACK_SHIM + "-initp2m",
                                      expect=ok, builds=("initp2m",))),
        ("handoff-shim-mapped", dict(kernel="shim", mem=256, ramdisk=R.PACK_SHIM + "-mapped",
                                     expect=ok, builds=("mapped",))),
        # The real-host runner (xl-run.sh: create -p, console, unpause) on the same xl.
        ("xl-run-rd100", dict(kernel="shim", mem=256, ramdisk="rd100", expect=ok, runner="xl-run")),
        ("xl-run-too-small", dict(kernel="shim", mem=64, ramdisk="rd100", expect=["ERROR"],
                                  reason_re="too large", runner="xl-run")),
        # A CPU without NX (a second dom0 boot, QEMU -cpu max,-smap,-nx): Xen makes
        # NX a reserved bit for its guests; the shim leaves it out, and the
        # build that keeps it (BUG=nx-always) meets Xen's -EINVAL.
        ("nonx", dict(kernel="shim", mem=256, expect=ok, no_nx=True,
                      require=[r"^mmu: image: text read-only; no NX on this CPU"])),
        ("nonx-mapped-rd100", dict(kernel="mapped", mem=256, ramdisk="rd100", expect=ok, no_nx=True,
                                   require=[r"^mmu: image: text read-only; no NX on this CPU"])),
        ("nonx-bug-nx-always", dict(kernel="bug-nx-always", mem=256, expect=["ERROR"], no_nx=True,
                                    reason_re=r"failed: -22$")),
        # The PVH shim (docs/levels.md) as an xl type="pvh" domU: Xen hides LA57 from
        # every HVM/PVH guest, so it runs 4 levels; RAM from start_info's E820.
        ("pvh-mem256", dict(kernel="pvh", type="pvh", mem=256, expect=ok, require=pvh_require(256))),
        ("pvh-mem2048", dict(kernel="pvh", type="pvh", mem=2048, expect=ok, require=pvh_require(2048))),
        # The toolstack's whole life of a domU (docs/lifecycle.md): the shim stays up
        # (`lifecycle`) and proves itself after every suspend; dom0 runs the operations.
        # The first case saves 256 MiB; the others 128 MiB, since under TCG a save and
        # restore costs about 2 s plus 1.2 s per 64 MiB of RAM, and none of them is
        # about size (their p2m still reaches 2 GiB: the balloon test's far pfn).
        ("save-restore", dict(kernel="shim", mem=256, args="lifecycle", expect=ok,
                              ops=["save-restore", "save-restore"])),
        ("save-c", dict(kernel="shim", mem=128, args="lifecycle", expect=ok, ops=["save-c", "save-c"])),
        # A live migration needs log-dirty mode, which for a PV guest is shadow paging,
        # and Debian builds Xen 4.17 and 4.20 without it (CONFIG_SHADOW_PAGING is not set
        # in /boot/xen-*.config): the sender's libxenguest fails before it suspends the
        # guest, which must then go on as if nothing happened.
        ("migrate", dict(kernel="shim", mem=128, args="lifecycle", ops=["migrate"], expect=["ERROR"],
                         reason_re=r"Failed to enable logdirty: 95,.*the guest then: SUCCESS after 0 round")),
        ("migrate-debug", dict(kernel="shim", mem=128, args="lifecycle", ops=["migrate-debug"],
                               expect=["ERROR"],
                               reason_re=r"Failed to enable logdirty: 95,.*the guest then: SUCCESS after 0 round")),
        # The variants: a 600 MiB ramdisk (its hash must survive), maxmem above memory,
        # the INIT_P2M and mapped-ramdisk builds, and the tree path: with `p2m-tree` the
        # shim leaves p2m_cr3 at 0, so the tools walk the 3-level frame list.
        ("save-restore-rd600", dict(kernel="shim", mem=1024, ramdisk="rd600", args="lifecycle",
                                    expect=ok, ops=["save-restore"])),
        ("save-restore-maxmem", dict(kernel="shim", mem=128, maxmem=1024, args="lifecycle", expect=ok,
                                     ops=["save-restore"])),
        ("save-restore-initp2m", dict(kernel="initp2m", mem=128, args="lifecycle", expect=ok,
                                      ops=["save-restore", "save-restore"])),
        ("save-restore-mapped-rd100", dict(kernel="mapped", mem=256, ramdisk="rd100", args="lifecycle",
                                           expect=ok, ops=["save-restore"])),
        ("save-restore-p2m-tree", dict(kernel="shim", mem=128, args="lifecycle p2m-tree", expect=ok,
                                       ops=["save-restore", "save-restore"],
                                       require=[r"^p2m: tools see the 3-level frame list only"])),
        # Each mistake, caught for its own reason.  An mfn left where the restore reads a
        # pfn: in this small host every mfn is below the shim's max_pfn (the balloon test
        # grew its p2m), so it depends on the mfn: the restore refuses a "pfn" without a
        # frame ("XenStore pfn has bad mfn"), or one past max_pfn ("out of range"), and
        # points the store at another page for a "pfn" that has one, which the guest's
        # check of start_info after the resume reports.  A stale p2m_cr3: the second save cannot walk the p2m.  shared_info left
        # mapped costs level1_fixmap, which only the guest's own table hash notices.
        ("save-restore-bug-no-pfn-swap", dict(kernel="bug-no-pfn-swap", mem=128, args="lifecycle",
                                              ops=["save-restore"], expect=["ERROR"],
                                              reason_re=r"XenStore pfn (.* out of range|has bad mfn)|"
                                                        r"start_info\.store_mfn 0x[0-9a-f]+ is not pfn")),
        ("save-restore-bug-stale-p2m-cr3", dict(kernel="bug-stale-p2m-cr3", mem=128, args="lifecycle",
                                                ops=["save-restore", "save-restore"], expect=["ERROR"],
                                                reason_re=r"operation 2\).*p2m list")),
        ("save-restore-bug-shinfo-mapped", dict(kernel="bug-shinfo-mapped", mem=128, args="lifecycle",
                                                ops=["save-restore"], expect=["FAILURE"],
                                                reason_re=r"the tables changed")),
        # A save that fails after the suspend (its image does not fit a 16 MiB disk): xl
        # resumes the guest with rc 1, and its checks pass; then a real save and restore.
        ("save-enospc", dict(kernel="shim", mem=128, args="lifecycle", expect=ok,
                             ops=["save-enospc", "save-restore"])),
        # `xl suspend` and `xl resume` are new in 4.20.
        ("suspend-resume", dict(kernel="shim", mem=128, args="lifecycle", expect=ok,
                                ops=["suspend-resume", "suspend-resume"], xens=("4.20",))),
    ]


def pvh_require(mem):
    """What a PVH domU of `mem` MiB must print besides SUCCESS (worked out here, not read
    from the guest): the 4-level geometry, its RAM all below 4 GiB, the walker agreeing
    with the CPU at its 9 addresses, the LA57-only addresses refused with #GP."""
    return [r"^shim \(pvh\): a PVH guest of Xen,",
            r"^mm: geometry 4 levels: top shift 39, ptrs_per_p4d 1, page_offset 0xffff888000000000, "
            r"user limit 0x800000000000$",
            rf"^memmap: RAM ({mem - 1}|{mem}) MiB below 4 GiB, 0 MiB above$",
            r"^walker: agrees with the CPU at 9 addresses$",
            r"^la57: 2\^48 and 2\^56 - 4 KiB refused as non-canonical; reads raise #GP$",
            r"^cr4: no LA57 on this CPU"]


def make_ramdisk(mib):
    """cache/ramdisks/rd-<MiB>.bin of random bytes (made once)."""
    os.makedirs(RAMDISKS, exist_ok=True)
    path = os.path.join(RAMDISKS, f"rd-{mib}.bin")
    if os.path.exists(path) and os.path.getsize(path) == mib << 20:
        return path
    tmp = f"{path}.tmp{os.getpid()}"
    with open("/dev/urandom", "rb") as src, open(tmp, "wb") as dst:
        for _ in range(mib):
            dst.write(src.read(1 << 20))
    os.replace(tmp, path)
    return path


def make_gz(mib):
    raw = make_ramdisk(mib)
    os.makedirs(DISKS, exist_ok=True)
    path = os.path.join(DISKS, f"rd-{mib}.bin.gz")
    if os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(raw):
        return path
    with open(path + ".tmp", "wb") as out:
        subprocess.run(["gzip", "-1", "-n", "-c", raw], stdout=out, check=True)
    os.replace(path + ".tmp", path)
    return path


def ramdisk_path(spec):
    m = re.fullmatch(r"rd(\d+)(\.gz)?", spec)
    return make_gz(int(m.group(1))) if m.group(2) else make_ramdisk(int(m.group(1)))


def build(names):
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES", "MAKELEVEL", "GNUMAKEFLAGS")}
    for n in sorted(names):
        mv = {"MAPPED_RAMDISK": "0", "INIT_P2M": "0", "KERNEL_IMAGE_SIZE": "512M", "BUG": "",
              **BUILDS[n]}
        cmd = ["make", "-s", "-C", REPO, "shim"] + [f"{k}={v}" for k, v in sorted(mv.items())]
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if p.returncode != 0 or not os.path.exists(kernel(n)):
            raise R.RigError(f"{' '.join(cmd[3:])} failed:\n{p.stdout[-3000:]}")


RETRY = set()       # names of the cases that get a second attempt when they fail


def to_cases(selected):
    """[(Case, no_nx)]"""
    out = []
    for name, kw in selected:
        kw = dict(kw)
        no_nx = kw.pop("no_nx", False)
        kw.pop("builds", None)
        kw.pop("xens", None)
        if kw.pop("retry", False):
            RETRY.add(name)
        k = kw.pop("kernel")
        if k == "missing":
            kw["kernel"] = os.path.join(REPO, "build", "no-such-dir", "shim")
        elif k == R.LINUX:
            kw["kernel"] = k
        else:
            kw["kernel"] = kernel(k)
        if kw.get("ramdisk") and not kw["ramdisk"].startswith("@"):
            kw["ramdisk"] = ramdisk_path(kw["ramdisk"])
        out.append((R.Case(name=name, **kw), no_nx))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--xen", choices=("4.17", "4.20", "both"), default="both")
    ap.add_argument("--only", help="run only the cases whose name matches this regex")
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--json-out", help="write every result here")
    ap.add_argument("--verbose", action="store_true", help="echo the serial log")
    ap.add_argument("-j", "--jobs", type=int, default=2,
                    help="QEMU sessions at once (default 2; each takes one core)")
    o = ap.parse_args()
    selected = [c for c in cases() if not o.only or re.search(o.only, c[0])]
    if o.list:
        for name, kw in selected:
            print(name, " ".join(f"{k}={v}" for k, v in kw.items()))
        return 0
    if not selected:
        print("matrix: no case matches", file=sys.stderr)
        return 2
    xens = ("4.17", "4.20") if o.xen == "both" else (o.xen,)
    t0 = time.monotonic()
    try:
        build({kw["kernel"] for _, kw in selected if kw["kernel"] in BUILDS} |
              {b for _, kw in selected for b in kw.get("builds", ())})
        cs = to_cases(selected)
    except (R.RigError, OSError, subprocess.CalledProcessError) as e:
        print(f"matrix: setup failed: {e}", file=sys.stderr)
        return 2
    print(f"matrix: {len(cs)} cases x {len(xens)} Xen version(s), set up in "
          f"{time.monotonic() - t0:.1f}s", flush=True)
    passed = failed = 0
    dump = []
    echo = (lambda line: print(line, flush=True)) if o.verbose else None
    # The cases of several vCPUs get a dom0 boot of their own, whose QEMU has 2 CPUs
    # (run.py), so that the others keep running on one.
    machines = [(False, [c for c, nonx in cs if not nonx and c.vcpus == 1]),
                (False, [c for c, nonx in cs if not nonx and c.vcpus > 1]),
                (True, [c for c, nonx in cs if nonx])]
    # One QEMU per (Xen, CPU): the long sessions first, `--jobs` at a time (each QEMU
    # takes one core; the 2-CPU session's second CPU is busy only while a domU of
    # several vCPUs runs).  What they share is built here first: the dom0s and the
    # self-test Linux domU are cached by build_dom0, which is not safe to run twice at once.
    only = {name: kw.get("xens") for name, kw in selected}
    sessions = [(x, no_nx, g) for no_nx, group in machines for x in xens
                for g in [[c for c in group if not only[c.name] or x in only[c.name]]] if g]
    try:
        for x in xens:
            R.build_dom0.build(x)
            if any(c.kernel == R.LINUX for c, _ in cs):
                R.build_dom0.linux_domu(x)
    except (R.RigError, R.build_dom0.BuildError) as e:
        print(f"matrix: setup failed: {e}", file=sys.stderr)
        return 2

    def run(session, suffix=""):
        xen, no_nx, group = session
        smp = "-smp" if any(c.vcpus > 1 for c in group) else ""
        try:
            return R.run_cases(xen, group, echo=echo, no_nx=no_nx,
                               log=os.path.join(REPO, "build", "domu",
                                                f"matrix-xen{xen}{'-nonx' if no_nx else ''}{smp}{suffix}.log"))
        except (R.RigError, R.build_dom0.BuildError, R.boot.RigError) as e:
            return e

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, o.jobs)) as pool:
        outcomes = list(pool.map(run, sessions))
    # A failed case of RETRY runs once more, in a fresh dom0 boot; its first attempt is kept.
    first_tries = {}
    for i, ((xen, no_nx, group), rr) in enumerate(zip(sessions, outcomes)):
        if isinstance(rr, Exception):
            continue
        again = [c for c, r in zip(group, rr.cases) if not r.passed and c.name in RETRY]
        if not again:
            continue
        print(f"matrix: xen {xen}: {', '.join(c.name for c in again)} failed; one more attempt in a "
              f"fresh dom0 boot", flush=True)
        rr2 = run((xen, no_nx, again), "-again")
        if isinstance(rr2, Exception):
            print(f"matrix: xen {xen}: the second attempt's rig error: {rr2}", flush=True)
            continue
        for c, r2 in zip(again, rr2.cases):
            k = next(j for j, r in enumerate(rr.cases) if r.name == c.name)
            first_tries[(i, c.name)] = rr.cases[k]
            rr.cases[k] = r2
    for i, ((xen, no_nx, group), rr) in enumerate(zip(sessions, outcomes)):
        what = (f"xen {xen}" + (", CPU without NX" if no_nx else "")
                + (", 2 CPUs" if any(c.vcpus > 1 for c in group) else ""))
        if isinstance(rr, Exception):
            print(f"matrix: {what}: rig error: {rr}", flush=True)
            failed += len(group)
            continue
        ready = ", ".join(f"{t:.1f}s" for t in rr.t_dom0_ready)
        print(f"matrix: {what}: dom0 ready at {ready} after QEMU start, {rr.boots} boot(s), "
              f"{rr.t_total:.0f}s", flush=True)
        for r in rr.cases:
            ok = bool(r.passed)
            passed += ok
            failed += not ok
            first = first_tries.get((i, r.name))
            if first:
                print(f"  (first attempt) xen {xen} {first.summary()}", flush=True)
                for ln in first.guest_lines[-8:]:
                    print(f"      guest| {ln}")
            print(f"  {'PASS' if ok else 'FAIL'} xen {xen} {r.summary()}"
                  + (" (second attempt)" if first else ""), flush=True)
            if not ok:
                for ln in r.guest_lines[-8:]:
                    print(f"      guest| {ln}")
        dump.append({"xen": xen, "no_nx": no_nx, "boots": rr.boots, "t_dom0_ready": rr.t_dom0_ready,
                     "t_total": rr.t_total, "logs": rr.log_paths,
                     "cases": [dict(name=r.name, verdict=r.verdict, passed=r.passed,
                                    reason=r.reason, status=r.status, shutdown=r.shutdown,
                                    ramdisk_host=r.ramdisk_host,
                                    t_create_to_result=r.t_create_to_result,
                                    t_ready_to_result=r.t_ready_to_result,
                                    xl_create_s=(r.t_created - r.t_create)
                                    if r.t_created is not None and r.t_create is not None else None,
                                    guest_lines=r.guest_lines)
                               for r in rr.cases]})
    if o.json_out:
        with open(o.json_out, "w") as f:
            json.dump(dump, f, indent=1)
    print(f"matrix: {time.monotonic() - t0:.0f}s in all")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
