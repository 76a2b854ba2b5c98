# SPDX-License-Identifier: MIT
"""Machinery for the end-to-end matrix (cases.py): ramdisks, builds, one boot, the verdict.

Everything here but boot_case() runs in the main process of tests/run_all.py.
boot_case() runs in a worker process (multiprocessing "spawn": a fresh,
single-threaded interpreter, so boot.py's preexec_fn is safe) and returns a
plain dict.
"""
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
RIG = os.path.join(REPO, "rig")
RAMDISK_DIR = os.path.join(REPO, "cache", "ramdisks")
E2E_BUILD = os.path.join(REPO, "build", "e2e")
LOG_DIR = os.path.join(E2E_BUILD, "logs")
KERNEL_DIR = os.path.join(E2E_BUILD, "kernels")

sys.path.insert(0, HERE)
if RIG not in sys.path:
    sys.path.insert(0, RIG)

import cases as C  # noqa: E402

# The Makefile's switches with their defaults: every build names all of them,
# so neither the environment nor an outer `make test VAR=...` can leak in.
MAKE_DEFAULTS = (("MAPPED_RAMDISK", "0"), ("KERNEL_IMAGE_SIZE", "512M"), ("INIT_P2M", "0"),
                 ("BUG", ""))
HEADROOM_MIB = 512              # boot.py's QEMU RAM on top of dom0_mem + ramdisk


class SetupError(Exception):
    """A case cannot run: its build, its ramdisk or the rig is missing."""


def rel(path):
    try:
        r = os.path.relpath(path, REPO)
    except ValueError:
        return path
    return path if r.startswith("..") else r


def make_env():
    """The environment for sub-makes, without an outer make's flags and overrides."""
    env = dict(os.environ)
    for k in ("MAKEFLAGS", "MFLAGS", "MAKEOVERRIDES", "MAKELEVEL", "GNUMAKEFLAGS"):
        env.pop(k, None)
    return env


# ------------------------------------------------------------------ ramdisks

def _xxh64(path):
    exe = shutil.which("xxhsum")
    if not exe:
        # As boot.py does for QEMU: one try at the rig's deps, then give up loudly.
        print("ramdisk: xxhsum missing, running rig/fetch-xen.sh --deps", flush=True)
        subprocess.run([os.path.join(RIG, "fetch-xen.sh"), "--deps"], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        exe = shutil.which("xxhsum")
    if not exe:
        raise SetupError("xxhsum not found and rig/fetch-xen.sh --deps did not install it: "
                         "install the Debian package xxhash")
    p = subprocess.run([exe, "-H1", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    m = re.match(r"^([0-9a-f]{16})\s", p.stdout)
    if p.returncode != 0 or not m:
        raise SetupError(f"xxhsum -H1 {rel(path)} failed (exit {p.returncode}): "
                         f"{(p.stderr or p.stdout).strip()[:200]}")
    return m.group(1)


def ramdisk(mib, log=print):
    """(path, size, xxh64) of cache/ramdisks/rd-<MiB>.bin: random bytes from
    /dev/urandom, made once; the hash comes from `xxhsum -H1`, cached in
    rd-<MiB>.xxh64 together with the size and mtime it belongs to."""
    os.makedirs(RAMDISK_DIR, exist_ok=True)
    path = os.path.join(RAMDISK_DIR, f"rd-{mib}.bin")
    hpath = os.path.join(RAMDISK_DIR, f"rd-{mib}.xxh64")
    size = mib << 20
    st = os.stat(path) if os.path.exists(path) else None
    if st is None or st.st_size != size:
        t0 = time.monotonic()
        tmp = f"{path}.tmp{os.getpid()}"
        try:
            with open("/dev/urandom", "rb") as src, open(tmp, "wb") as dst:
                left = size
                while left:
                    chunk = src.read(min(left, 4 << 20))
                    if not chunk:
                        raise SetupError("/dev/urandom returned nothing")
                    dst.write(chunk)
                    left -= len(chunk)
            os.replace(tmp, path)
        except OSError as e:
            raise SetupError(f"cannot write {rel(path)}: {e}") from e
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        log(f"ramdisk: generated {rel(path)} ({mib} MiB from /dev/urandom, "
            f"{time.monotonic() - t0:.1f}s)")
        st = os.stat(path)
    stamp = f"{st.st_size} {st.st_mtime_ns}"
    try:
        with open(hpath) as f:
            h, cached_stamp = f.read().strip().split(" ", 1)
        if cached_stamp == stamp and re.fullmatch(r"[0-9a-f]{16}", h):
            return path, st.st_size, h
    except (OSError, ValueError):
        pass
    h = _xxh64(path)
    with open(hpath + ".tmp", "w") as f:
        f.write(f"{h} {stamp}\n")
    os.replace(hpath + ".tmp", hpath)
    log(f"ramdisk: {rel(path)} xxh64={h} (xxhsum -H1)")
    return path, st.st_size, h


def bootpack(case, kernel_path, log=print):
    """(path, size, xxh64, required lines) of the case's bootpack, built into
    build/e2e/bootpacks/.  The lines the guest must print about it are computed
    here from libxenguest's parse of the same kernel (rig/domu/parse_image.c)
    and Python's count of its PT_LOAD segments, never from the guest's parser."""
    sys.path.insert(0, os.path.join(REPO, "tools"))
    sys.path.insert(0, os.path.join(RIG, "domu"))
    import bootpack as BP
    import check_image
    import struct
    which, cmdline, damage = case.bootpack
    initrd = f"initrd of {case.name}\n".encode() * 100
    stage2 = {}
    if which == "debian":
        import build_dom0
        try:
            if case.chain == "linux":
                kernel_path, initrd_path, stage2["sha256"] = build_dom0.linux_handoff(case.xen)
                with open(initrd_path, "rb") as f:
                    initrd = f.read()
            else:
                kernel_path, _ = build_dom0.build(case.xen)
        except Exception as e:          # noqa: BLE001 - any failure to fetch is a setup error
            raise SetupError(f"Debian's kernel for Xen {case.xen}: {e}") from e
    elif which in C.SHIM_BUILDS:
        kernel_path = build(C.SHIM_BUILDS[which], log=log)
    out_dir = os.path.join(E2E_BUILD, "bootpacks")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, f"{case.name}.cpio")
    if case.chain == "shim":
        # What the second shim must say about its ramdisk (the pack's initrd), from xxhsum.
        with open(path + ".initrd", "wb") as f:
            f.write(initrd)
        stage2["ramdisk"] = f"ramdisk: bytes={len(initrd)} xxh64={_xxh64(path + '.initrd')}"
    try:
        with open(kernel_path, "rb") as f:
            elf, how = BP.kernel_elf(f.read())
        data, _desc = BP.build(elf, initrd, cmdline)
    except (OSError, BP.BootpackError) as e:
        raise SetupError(f"bootpack of {rel(kernel_path)}: {e}") from e
    if damage == "truncate":
        data = data[:len(data) // 2]
    elf_path = path + ".kernel.elf"
    with open(path, "wb") as f:
        f.write(data)
    with open(elf_path, "wb") as f:
        f.write(elf)
    check_image.compile_tool()
    p = subprocess.run([check_image.EXE, elf_path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    os.unlink(elf_path)
    if p.returncode:
        raise SetupError(f"libxenguest refused the bootpack's kernel: {p.stdout.strip()[-300:]}")
    v = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    loads = sum(1 for i in range(phnum)
                if struct.unpack_from("<I", elf, phoff + i * phentsize)[0] == 1 and
                struct.unpack_from("<Q", elf, phoff + i * phentsize + 40)[0])
    hexv = lambda k: f"{int(v[k], 16):#x}"
    opt = lambda k: "none" if v[k] == "none" else hexv(k)
    required = [
        re.escape(f"bootpack: kernel {len(elf)} bytes, entry {hexv('virt_entry')}, kernel "
                  f"[{hexv('virt_kstart')}, {hexv('virt_kend')}), virt_base {hexv('virt_base')}, "
                  f"init_p2m {opt('p2m_base')}, hypercall_page {opt('hypercall_page')}, "
                  f"mod_start_pfn {v['mod_start_pfn']}, {loads} segments"),
        re.escape(f"bootpack: initrd {len(initrd)} bytes, cmdline \"{cmdline}\""),
    ]
    log(f"bootpack: {rel(path)}: {len(data)} bytes, kernel {rel(kernel_path)} ({how})"
        + (f", {damage}d" if damage else ""))
    return path, len(data), _xxh64(path), required, stage2


# -------------------------------------------------------------------- builds

def make_args(make_vars):
    d = dict(MAKE_DEFAULTS)
    d.update(dict(make_vars))
    return [f"{k}={v}" for k, v in d.items()]


def build(make_vars, log=print):
    """`make -s VARS` in the repo root, then a private copy of the kernel under
    build/e2e/kernels/<variant>/ so that a rebuild by someone else during the
    run cannot change the binary under test. Returns the copy's path."""
    v = C.variant(dict(make_vars))
    cmd = ["make", "-s", "--no-print-directory", *make_args(make_vars)]
    shown = " ".join(["make", "-s", *(f"{k}={val}" for k, val in make_vars)])
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, cwd=REPO, env=make_env(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except OSError as e:
        raise SetupError(f"build failed: {shown}: {e}") from e
    dt = time.monotonic() - t0
    built = os.path.join(REPO, "build", v, "shim")
    if p.returncode != 0:
        tail = [l for l in p.stdout.strip().splitlines() if l.strip()][-15:]
        log(f"build: {shown} FAILED (exit {p.returncode}, {dt:.1f}s):")
        for line in tail:
            log(f"    {line}")
        last = tail[-1].strip() if tail else "no output"
        raise SetupError(f"build failed: {shown} (exit {p.returncode}): {last[:200]}")
    if not os.path.isfile(built):
        raise SetupError(f"build: {shown} succeeded but {rel(built)} does not exist")
    dst_dir = os.path.join(KERNEL_DIR, v)
    os.makedirs(dst_dir, exist_ok=True)
    dst = os.path.join(dst_dir, "shim")
    shutil.copyfile(built, dst + ".tmp")
    os.replace(dst + ".tmp", dst)
    log(f"build: {shown or 'make -s'} -> {rel(built)} ({dt:.1f}s)")
    return dst


# ------------------------------------------------------------------- the rig

def rig_setup(xens, log=print):
    """QEMU and the Xen images, once, before any parallel boot (fetch-xen.sh is
    not safe to run twice at once). Returns {xen: None | reason it cannot run}."""
    import boot as B
    out = {}
    try:
        B.ensure_qemu()
        qemu_err = None
    except B.RigError as e:
        qemu_err = f"rig error: {e}"
    for x in xens:
        if qemu_err:
            out[x] = qemu_err
            continue
        try:
            path = B.fetch_xen(x)
            log(f"rig: xen {x}: {rel(path)}")
            out[x] = None
        except B.RigError as e:
            out[x] = f"rig error: {e}"
            log(f"rig: xen {x}: {e}")
    return out


# ------------------------------------------------------------------- a boot

def default_timeout(case):
    """Generous: boot.py's own default is 120 s + 30 s per GiB of ramdisk, for one
    QEMU alone; here two share two cores with the rest of the machine."""
    if case.timeout:
        return case.timeout
    rd_gib = (case.ramdisk or 0) / 1024
    return 180 + 90 * rd_gib + 15 * case.mem / 1024


def qemu_mib(case):
    return case.mem + (case.ramdisk or 0) + HEADROOM_MIB


def cost(case):
    """A rough guess of a boot's seconds, to start the longest first."""
    return 8 + 0.03 * (case.ramdisk or 0) + 4 * case.mem / 1024


def log_path(case):
    return os.path.join(LOG_DIR, f"{case.name}.log")


def worker_init():
    """In each spawned worker: die with the main process (QEMU dies with us, by
    boot.py's own PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except Exception:
        pass


def boot_case(name, kernel, ramdisk_path, timeout):
    """Worker: boot one case and return what the judge needs, as a dict."""
    import boot as B
    case = C.BY_NAME[name]
    t0 = time.monotonic()
    log = log_path(case)
    try:
        r = B.boot(kernel, xen=case.xen, ramdisk=ramdisk_path, mem=case.mem, args=case.args,
                   xen_args=case.xen_args, timeout=timeout, log=log, no_nx=case.no_nx, vcpus=case.vcpus)
    except B.RigError as e:
        return {"rig_error": str(e), "t": time.monotonic() - t0, "log": log}
    return {"verdict": r.verdict, "reason": r.reason, "result_line": r.result_line,
            "guest_lines": r.guest_lines, "t": r.t_total, "log": r.log_path,
            "t_first_xen": r.t_first_xen, "t_handover": r.t_handover, "t_result": r.t_result}


# ------------------------------------------------------------------ the judge

def expected_counts(case, log_text):
    """What the guest must report, computed here from dom0_mem and from Xen's own
    "VIRTUAL MEMORY ARRANGEMENT" (the initial mapping), independently of the guest:
    page-table pages and the page-table buffer's split, and the p2m's leaf pages."""
    m = re.search(r"TOTAL:\s+([0-9a-f]+)->([0-9a-f]+)", log_text)
    if not m:
        return None
    mapped = (int(m.group(2), 16) - int(m.group(1), 16)) >> 12
    n = case.mem * 256                                  # dom0_mem in pages
    ceil = lambda a, b: -(-a // b)
    graft = min(ceil(mapped, 512) * 512, ceil(n, 512) * 512)
    l1 = ceil(n - graft, 512) if n > graft else 0
    fixed = 6 if dict(case.make_vars).get("BUG") == "no-user-l4" else 7
    used = fixed + ceil(n, 1 << 27) + ceil(n, 1 << 18) + l1
    return {
        "nr_pages": n,
        "build": rf"^mmu: build hypercalls=\d+ entries=\d+ pt_pages={used}$",
        "pgtbuf": rf"^mmu: pgtbuf used={used} returned={ceil(n, 512) - l1}$",
        "p2m": rf"^p2m: pages=\d+ leaf_pages={ceil(n, 512)} ",
    }


def log_counts(case, res):
    """expected_counts() from the case's serial log, or None without Xen's arrangement in it."""
    try:
        with open(res["log"], errors="replace") as f:
            return expected_counts(case, f.read())
    except OSError:
        return None


HANDOFF_SWITCH_RE = r"^hand-off: \d+ frames renumbered; switching to L4 mfn 0x[0-9a-f]+, entry "


def judge_chain(case, res, rd):
    """A hand-off that ended in SUCCESS: the first shim's checks and its hand-off line, then
    what the next kernel must show, each stage on its own lines and in that order."""
    lines = res["guest_lines"]
    at = next((i for i, l in enumerate(lines) if re.search(HANDOFF_SWITCH_RE, l)), None)
    if at is None:
        return False, "SUCCESS, but the shim never said it switched to the next kernel"
    first, second = lines[:at], lines[at + 1:]
    if any(l.startswith("Test result:") for l in first):
        return False, "the first shim printed a result line before its hand-off"
    want = list(C.REQUIRED_SUCCESS_LINES) + list(rd[3]) + list(case.required) + [
        re.escape(f"ramdisk: bytes={rd[1]} xxh64={rd[2]}") + "$",
        r"^hand-off: \d+ page tables read-only, L4 mfn 0x[0-9a-f]+ pinned$"]
    exp = log_counts(case, res)
    if exp is None:
        return False, "SUCCESS, but Xen's VIRTUAL MEMORY ARRANGEMENT is not in the log"
    want += [rf"^start_info: .*nr_pages={exp['nr_pages']} ", exp["build"], exp["pgtbuf"], exp["p2m"]]
    missing = [rx for rx in want if not any(re.search(rx, l) for l in first)]
    if missing:
        return False, "before the hand-off, no line of the first shim matches /" + missing[0] + "/"
    stage2 = rd[4]
    if case.chain == "linux":
        # In this order: Linux's banner, /init's lines with the host's values, the result.
        kb = case.mem * 1024
        cpus = f"{case.vcpus} CPU" + ("s" if case.vcpus > 1 else "")
        order = [r"\] Linux version \d", rf"\] smp: Brought up 1 node, {cpus}$",
                 "^handoff-init: .*, data sha256 " + stage2["sha256"] + "$",
                 r"^handoff-init: MemTotal (\d+) kB$",
                 "^handoff-init: cmdline " + re.escape(case.bootpack[1]) + "$", r"^Test result: SUCCESS"]
        i = 0
        for rx in order:
            while i < len(second) and not re.search(rx, second[i]):
                i += 1
            if i == len(second):
                return False, f"after the hand-off, no line matches /{rx}/ (in order: {' , '.join(order)})"
            m = re.search(r"^handoff-init: MemTotal (\d+) kB$", second[i])
            if m and not kb // 2 < int(m.group(1)) <= kb:
                return False, f"Linux found MemTotal {m.group(1)} kB in a domain of {kb} kB"
        return True, ""
    # A second shim: its own full checks, on the memory and ramdisk the first one gave it, and
    # (when its command line asks) the first one's record, which says what the first recorded.
    cmdline = re.escape(f'"{case.bootpack[1]}"')
    want = list(C.REQUIRED_SUCCESS_LINES) + [
        rf"^start_info: .*nr_pages={exp['nr_pages']} ", re.escape(stage2["ramdisk"]) + "$"]
    if "handoff-record" in case.bootpack[1].split():
        rec = [m for m in (re.search(r"^hand-off: record at mfn (0x[0-9a-f]+): (\d+ page tables \(.*\)), "
                                     r"(\d+ p2m pages)$", l) for l in first) if m]
        if len(rec) != 1:
            return False, "the first shim printed no 'hand-off: record at mfn ...' line"
        mfn, tables, p2m = rec[0].groups()
        cmdline = cmdline.replace("handoff\\-record", "handoff\\-record=" + mfn)
        want.append("^handoff-record: " + re.escape(f"{tables}, {p2m} of the first shim: unchanged, in "
                                                    "the p2m and the M2P, writable now") + "$")
    want.append("^start_info: cmdline=" + cmdline + "$")
    missing = [rx for rx in want if not any(re.search(rx, l) for l in second)]
    if missing:
        return False, "after the hand-off, no line of the second shim matches /" + missing[0] + "/"
    return True, ""


def judge(case, res, rd=None):
    """(ok, message) for one case from boot_case()'s dict. rd: (path, size, xxh64)."""
    if "rig_error" in res:
        return False, f"rig error: {res['rig_error']}"
    v, reason = res["verdict"], res["reason"] or ""
    got = f"{v} {reason}".strip()
    lines = res["guest_lines"]
    if v not in case.expect:
        want = "|".join(sorted(case.expect))
        tail = ""
        if v in ("CRASH", "TIMEOUT") or case.expects_success:
            last = [l for l in lines if l.strip()][-3:]
            tail = "; last guest lines: " + " / ".join(last) if last else "; no guest output"
        return False, f"expected {want}, got {got}{tail}"
    if case.reason_re and not re.search(case.reason_re, reason):
        return False, f"got {got}, but the reason does not match /{case.reason_re}/"
    if case.control:
        return True, f"caught: {got}"
    if not case.expects_success and v != "SUCCESS":
        return True, f"as expected: {got}"
    if case.chain and v == "SUCCESS":
        return judge_chain(case, res, rd)
    required = list(case.required) + (list(rd[3]) if rd and len(rd) > 3 else [])
    if v == "SUCCESS":
        required = list(C.REQUIRED_SUCCESS_LINES) + C.smp_lines(case.vcpus, C.smp_rounds(case.args)) + required
    missing = [rx for rx in required if not any(re.search(rx, l) for l in lines)]
    if missing:
        return False, f"{v}, but no guest line matches " + ", ".join(f"/{m}/" for m in missing)
    if v == "SUCCESS":
        exp = log_counts(case, res)
        if exp is None:
            return False, "SUCCESS, but Xen's VIRTUAL MEMORY ARRANGEMENT is not in the log"
        if not any(re.search(rf"^start_info: .*nr_pages={exp['nr_pages']} ", l) for l in lines):
            return False, f"SUCCESS, but the guest did not report nr_pages={exp['nr_pages']}"
        for what in ("build", "pgtbuf", "p2m"):
            if not any(re.search(exp[what], l) for l in lines):
                seen = [l for l in lines if l.startswith(("mmu: build", "mmu: pgtbuf", "p2m: pages"))]
                return False, (f"SUCCESS, but the host computed /{exp[what]}/ and the guest said "
                               + " / ".join(seen))
        said = [l for l in lines if l.startswith("ramdisk:")]
        want = (f"ramdisk: bytes={rd[1]} xxh64={rd[2]}" if rd else "ramdisk: none")
        if said != [want]:
            seen = " / ".join(said) if said else "no 'ramdisk:' line"
            return False, f"SUCCESS, but the guest said '{seen}'; the host expects '{want}'"
    return True, ""
