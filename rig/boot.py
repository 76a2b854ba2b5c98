#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot a PV kernel as Xen's dom0 under QEMU TCG and judge its result line.

The guest ends with one XTF-style line, `Test result: SUCCESS|SKIP|FAILURE <why>|
ERROR <why>`, then shuts down. Exit codes follow xtf-runner:

    0 SUCCESS  3 SKIP  4 ERROR  5 FAILURE  6 CRASH  7 TIMEOUT  2 rig error

CRASH: Xen panicked, refused to build dom0, or reported a dom0 crash with no
result line before it (or after SUCCESS/SKIP). TIMEOUT: nothing decisive within
--timeout seconds; QEMU is killed. Rig error: bad arguments, missing files,
fetch failure, QEMU died before Xen printed anything.

Library use (from another script in rig/ or with rig/ on sys.path):
    from boot import boot
    r = boot("build/shim", xen="4.20", args="test=foo")
    r.verdict, r.exit_code, r.result_line, r.guest_lines, r.handover_to_result, r.log_path
"""
import argparse
import dataclasses
import math
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import time

RIG = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(RIG)
EXIT = {"SUCCESS": 0, "SKIP": 3, "ERROR": 4, "FAILURE": 5, "CRASH": 6, "TIMEOUT": 7}
RIG_ERROR = 2

HEADROOM_MIB = 512          # QEMU RAM on top of dom0_mem + ramdisk, for Xen and module copies
TIMEOUT_PER_GIB = 30        # extra seconds per GiB of ramdisk (QEMU load + Xen's copy)
POST_RESULT_S = 5           # after the result line, wait this long at most for QEMU to exit
POST_CRASH_S = 8            # after a crash report, wait this long at most (Xen reboots in 5 s)
POST_FINAL_S = 0.5          # after Xen's last words (halt/reboot), drain output this long

RESULT_RE = re.compile(r"Test result: (SUCCESS|SKIP|FAILURE|ERROR)\b ?(.*)")
GUEST_PREFIX_RE = re.compile(r"^\(d\d+(?:v\d+)?\) ")
HANDOVER_RE = re.compile(r"^Freed \d+kB init memory")
# Xen's own words for "something died", identical in 4.17 and 4.20.
CRASH_RES = [re.compile(p) for p in (
    r"^Panic on CPU \d+:",                      # panic(), e.g. "Could not construct domain 0"
    r"^Early fatal page fault",                 # Xen died before its console was fully up
    r"^Hardware Dom\d+ crashed",                # SCHEDOP_shutdown(crash) or domain_crash() of dom0
    r"^Domain \d+ crashed",                     # the same, in older Xen releases
    r"^Domain \d+ \(vcpu#\d+\) crashed",        # guest fault Xen could not bounce
    r"\bd\d+v\d+ Unhandled",                    # "d0v0 Unhandled: vec 14, #PF[0001]"
    r"\bdomain_crash(?:_sync)? called from",
    r"^Hardware Dom\d+ shutdown: watchdog",
    r"^Hardware Dom\d+ shutdown \(unknown reason",
    r"did unsupported soft reset",
)]
# Xen's last line before the machine halts or resets.
FINAL_RE = re.compile(r"Reboot in five seconds|rebooting machine|halting machine"
                      r"|'noreboot' set|soft reset, rebooting")


class RigError(Exception):
    """The rig could not run the test (nothing was judged)."""


@dataclasses.dataclass
class BootResult:
    verdict: str                  # SUCCESS SKIP ERROR FAILURE CRASH TIMEOUT
    exit_code: int
    reason: str                   # result detail or crash/timeout explanation
    result_line: str | None       # "Test result: ..." as the guest printed it
    guest_lines: list             # the guest's console lines, prefixes stripped
    xen: str
    log_path: str
    qemu_cmd: list
    qemu_rc: int | None           # None: QEMU was killed by the rig
    t_first_xen: float | None     # seconds since QEMU start
    t_handover: float | None
    t_result: float | None
    t_total: float = 0.0

    @property
    def handover_to_result(self):
        if self.t_handover is None or self.t_result is None:
            return None
        return self.t_result - self.t_handover

    def summary(self):
        h2r = self.handover_to_result
        if h2r is not None:
            timing = f"{h2r:.3f}s handover->result"
        elif self.t_handover is not None:
            timing = f"handover at {self.t_handover:.1f}s, no result"
        else:
            timing = "no handover"
        s = f"boot: {self.verdict} (xen {self.xen}, {timing}, {self.t_total:.1f}s total, exit {self.exit_code})"
        return s + (f": {self.reason}" if self.reason else "")


class Judge:
    """Reads the serial log line by line and remembers what matters."""

    def __init__(self):
        self.guest_lines = []
        self.result = None          # (verdict, detail, line)
        self.crash = None           # first crash report
        self.final = False          # Xen said its last words
        self.t_first_xen = self.t_handover = self.t_result = self.t_crash = self.t_final = None
        self._last_xen = ""         # last meaningful Xen line: the dom0 builder's complaint
        self._panic_at = False      # the next Xen line is the panic message

    def feed(self, line, t):
        is_xen = line.startswith("(XEN)")
        body = line[5:].lstrip(" ") if is_xen else line
        if is_xen:
            if self.t_first_xen is None:
                self.t_first_xen = t
            self._xen_line(body, t)
        m = GUEST_PREFIX_RE.match(body)
        if m:
            body = body[m.end():]
        if m or (not is_xen and self.t_first_xen is not None
                 and not line.startswith("qemu-system-")):
            if self.t_handover is None:
                self.t_handover = t
            self.guest_lines.append(body)
        r = RESULT_RE.match(body)
        if r and self.result is None and (m or not is_xen or self.t_handover is not None):
            self.result = (r.group(1), r.group(2).strip(), r.group(0).strip())
            self.t_result = t

    def _xen_line(self, body, t):
        if self._panic_at:
            self._panic_at = False
            self.crash += " " + body
            if body.startswith("Could not construct") and self._last_xen:
                self.crash += f" [{self._last_xen}]"
        if HANDOVER_RE.match(body) and self.t_handover is None:
            self.t_handover = t
        if self.crash is None and any(p.search(body) for p in CRASH_RES):
            self.crash, self.t_crash = body, t
            self._panic_at = body.startswith("Panic on CPU")
        if FINAL_RE.search(body) and not self.final:
            self.final, self.t_final = True, t
        if body and not body.startswith("***") and not self._panic_at:
            self._last_xen = body

    def settle_time(self):
        """When to stop reading even though QEMU still runs (None: no reason yet)."""
        ends = []
        if self.t_final is not None:
            ends.append(self.t_final + POST_FINAL_S)
        if self.t_result is not None:
            ends.append(self.t_result + POST_RESULT_S)
        if self.t_crash is not None:
            ends.append(self.t_crash + POST_CRASH_S)
        return min(ends) if ends else None

    def verdict(self):
        """(verdict, reason), or None if nothing decisive was seen."""
        if self.result:
            v, detail, line = self.result
            if self.crash and v in ("SUCCESS", "SKIP"):
                return "CRASH", f"{self.crash} (after '{line}')"
            return v, detail
        if self.crash:
            return "CRASH", self.crash
        return None


def fetch_xen(version):
    """Path of the gunzipped Xen image, downloaded and cached by fetch-xen.sh."""
    script = os.path.join(RIG, "fetch-xen.sh")
    p = subprocess.run([script, version], stdout=subprocess.PIPE, text=True)
    path = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    if p.returncode != 0 or not os.path.isfile(path):
        raise RigError(f"fetch-xen.sh {version} failed (exit {p.returncode})")
    return path


def ensure_qemu():
    if not shutil.which("qemu-system-x86_64"):
        print("boot: qemu-system-x86_64 missing, installing the rig's deps", file=sys.stderr)
        subprocess.run([os.path.join(RIG, "fetch-xen.sh"), "--deps"], stdout=sys.stderr)
    if not shutil.which("qemu-system-x86_64"):
        raise RigError("qemu-system-x86_64 missing and could not be installed")


def module_arg(path, what):
    """One -initrd module: readable, absolute, no spaces (QEMU splits the name at
    the first space), commas doubled (QEMU's separator)."""
    path = os.path.abspath(path)
    if not os.path.isfile(path) or not os.access(path, os.R_OK):
        raise RigError(f"{what} {path}: missing or unreadable")
    if " " in path:
        raise RigError(f"{what} {path}: QEMU cannot take a module path with spaces")
    return path.replace(",", ",,")


def die_with_parent():
    """preexec_fn for QEMU: the kernel kills it if this script dies, even by SIGKILL."""
    import ctypes
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def cpu_model(no_nx=False):
    """QEMU 7.2 TCG: SMAP breaks PV iretq (rig-notes #2); -nx: a CPU without NX,
    where Xen makes _PAGE_NX a reserved bit for its guests."""
    return "max,-smap" + (",-nx" if no_nx else "")


def qemu_smp(vcpus):
    """QEMU's CPUs for a guest of `vcpus` vCPUs: 1 for 1, else 2 (the rig's
    machines have 2 cores; Xen runs more vCPUs than that by time-sharing)."""
    return 1 if vcpus <= 1 else 2


def qemu_command(xen_image, modules, qemu_mib, xen_cmdline, no_nx=False, smp=1):
    return ["qemu-system-x86_64", "-accel", "tcg", "-machine", "pc",
            "-cpu", cpu_model(no_nx),
            "-m", str(qemu_mib), "-smp", str(smp),
            "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-no-reboot",                   # Xen's reboot after a crash ends QEMU
            "-kernel", xen_image, "-initrd", modules, "-append", xen_cmdline]


def boot(kernel, xen="4.17", ramdisk=None, mem=256, args="", xen_args="",
         timeout=None, log=None, echo=None, no_nx=False, vcpus=1):
    """Boot `kernel` as dom0 and return a BootResult. `echo(line)` sees every
    serial line live. Raises RigError when the test could not run."""
    modules = module_arg(kernel, "kernel") + (" " + args.replace(",", ",,") if args else "")
    ramdisk_gib = 0
    if ramdisk:
        modules += "," + module_arg(ramdisk, "ramdisk")
        ramdisk_gib = os.path.getsize(ramdisk) / 2**30
    if timeout is None:
        timeout = 120 + TIMEOUT_PER_GIB * ramdisk_gib
    xen_cmdline = (f"console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all "
                   f"dom0_mem={mem}M,max:{mem}M dom0_max_vcpus={vcpus} {xen_args}").strip()
    qemu_mib = mem + math.ceil(ramdisk_gib * 1024) + HEADROOM_MIB
    ensure_qemu()
    qemu_cmd = qemu_command(fetch_xen(xen), modules, qemu_mib, xen_cmdline, no_nx, qemu_smp(vcpus))
    if log is None:
        log = os.path.join(REPO, "build", "boot", f"{os.path.basename(kernel)}-xen{xen}.log")
    os.makedirs(os.path.dirname(os.path.abspath(log)), exist_ok=True)

    judge = Judge()
    t0 = time.monotonic()
    with open(log, "wb") as logf:
        proc = subprocess.Popen(qemu_cmd, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                preexec_fn=die_with_parent)
        try:
            eof, partial = read_serial(proc, judge, logf, echo, t0, t0 + timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    if partial:
        judge.feed(partial, time.monotonic() - t0)
        if echo:
            echo(partial)
    qemu_rc = proc.returncode if eof else None
    t_total = time.monotonic() - t0

    if judge.t_first_xen is None and eof:
        raise RigError(f"QEMU exited (rc {proc.returncode}) before Xen printed anything; see {log}")
    judged = judge.verdict()
    if judged:
        verdict, reason = judged
    elif eof:
        verdict, reason = "CRASH", f"QEMU exited (rc {qemu_rc}) without a result line"
    else:
        where = "after dom0 handover" if judge.t_handover is not None else "before dom0 handover"
        verdict, reason = "TIMEOUT", f"no result within {timeout:.0f}s ({where}); QEMU killed"
    return BootResult(verdict, EXIT[verdict], reason,
                      judge.result[2] if judge.result else None, judge.guest_lines,
                      xen, log, qemu_cmd, qemu_rc, judge.t_first_xen, judge.t_handover,
                      judge.t_result, t_total)


def read_serial(proc, judge, logf, echo, t0, deadline):
    """Copy QEMU's output to the log and the judge until QEMU exits, the deadline
    passes, or the judge has seen enough. Returns (eof, unterminated last line)."""
    fd = proc.stdout.fileno()
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    buf = b""
    while True:
        settle = judge.settle_time()
        end = min(deadline, t0 + settle) if settle is not None else deadline
        now = time.monotonic()
        if now >= end:
            return False, buf.decode(errors="replace").rstrip("\r")
        if not sel.select(end - now):
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return True, buf.decode(errors="replace").rstrip("\r")
        logf.write(chunk)
        logf.flush()
        *lines, buf = (buf + chunk).split(b"\n")
        t = time.monotonic() - t0
        for raw in lines:
            line = raw.decode(errors="replace").rstrip("\r")
            judge.feed(line, t)
            if echo:
                echo(line)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="exit: 0 SUCCESS, 3 SKIP, 4 ERROR, 5 FAILURE, "
                                        "6 CRASH, 7 TIMEOUT, 2 rig error")
    ap.add_argument("--xen", choices=("4.17", "4.20"), default="4.17")
    ap.add_argument("--kernel", required=True, help="PV kernel (ELF) booted as dom0")
    ap.add_argument("--ramdisk", help="second multiboot module, the dom0 initrd")
    ap.add_argument("--mem", type=int, default=256, help="dom0_mem in MiB (default 256)")
    ap.add_argument("--args", default="", help="guest command line")
    ap.add_argument("--xen-args", default="", help="extra Xen command-line options")
    ap.add_argument("--timeout", type=float,
                    help=f"seconds (default 120 + {TIMEOUT_PER_GIB} per GiB of ramdisk)")
    ap.add_argument("--log", help="serial log (default build/boot/KERNEL-xenVER.log)")
    ap.add_argument("--no-nx", action="store_true", help="a CPU without NX (QEMU -cpu max,-smap,-nx)")
    ap.add_argument("--vcpus", type=int, default=1,
                    help="dom0's vCPUs (dom0_max_vcpus; QEMU gets -smp 2 for more than 1; default 1)")
    ap.add_argument("--quiet", action="store_true", help="no live serial output")
    o = ap.parse_args()

    def stop(signum, _frame):
        raise SystemExit(128 + signum)      # unwinds through boot(), which kills QEMU

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def echo(line):
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    try:
        r = boot(o.kernel, o.xen, o.ramdisk, o.mem, o.args, o.xen_args,
                 o.timeout, o.log, None if o.quiet else echo, o.no_nx, o.vcpus)
    except RigError as e:
        print(f"boot: rig error: {e}", file=sys.stderr)
        return RIG_ERROR
    except KeyboardInterrupt:
        return 130
    print(r.summary())
    if r.verdict != "SUCCESS":
        print(f"boot: serial log: {r.log_path}")
    return r.exit_code


if __name__ == "__main__":
    sys.exit(main())
