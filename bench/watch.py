# SPDX-License-Identifier: MIT
"""One dom0 boot under rig/boot.py, timed up to a line the caller names.

rig/boot.py stops at the XTF `Test result:` line; Linux never prints one. This
wrapper runs boot.boot() itself (the very same QEMU and Xen command lines, log
and timeouts) and watches every serial line through its `echo` hook: when the
end pattern shows up it raises, which unwinds through boot() (whose `finally`
kills QEMU, as for a SIGTERM). Every line is stamped on arrival with the host's
monotonic clock, from the moment QEMU starts.

    w = watch(kernel, end=r"Run /init as init process", args="console=hvc0 ...")
    w.ok, w.t_handover, w.t_end, w.handover_to_end, w.guest_lines, w.xen_version
"""
import dataclasses
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "rig"))

import boot  # noqa: E402  rig/boot.py

GUEST_PREFIX_RE = boot.GUEST_PREFIX_RE
XEN_VERSION_RE = re.compile(r"^Xen version (\S+) \(([^)]*)\)")


class _Done(Exception):
    """Raised from the echo hook: the end line arrived."""


@dataclasses.dataclass
class Watch:
    ok: bool
    why: str                        # "" when ok, else what went wrong
    t_start: float                  # monotonic clock when boot() was called
    t_first_xen: float | None       # seconds since t_start (QEMU starts a few ms after it)
    t_handover: float | None        # Xen's "Freed NNNkB init memory"
    t_first_guest: float | None     # first line after the handover that is not Xen's
    t_end: float | None             # the end line
    end_line: str | None
    guest_lines: list               # the guest's lines, "(d0) " prefixes stripped
    xen_version: str | None
    log_path: str

    @property
    def handover_to_end(self):
        if self.t_handover is None or self.t_end is None:
            return None
        return self.t_end - self.t_handover


def watch(kernel, end, *, xen="4.17", ramdisk=None, mem=256, args="", xen_args="",
          timeout=None, log=None, fail=r"Test result: (?:FAILURE|ERROR|SKIP)"):
    """Boot `kernel` as dom0 and stop at the first guest line matching `end` (a
    regex). `fail`: a guest line that ends the run as a failure."""
    end_re, fail_re = re.compile(end), re.compile(fail) if fail else None
    st = {"first_xen": None, "handover": None, "first_guest": None, "end": None,
          "end_line": None, "crash": None, "fail": None, "xen_version": None}
    lines = []
    t0 = time.monotonic()

    def echo(line):
        t = time.monotonic() - t0
        is_xen = line.startswith("(XEN)")
        body = line[5:].lstrip(" ") if is_xen else line
        if is_xen:
            if st["first_xen"] is None:
                st["first_xen"] = t
            m = XEN_VERSION_RE.match(body)
            if m and not st["xen_version"]:
                st["xen_version"] = f"{m.group(1)} ({m.group(2)})"
            if boot.HANDOVER_RE.match(body) and st["handover"] is None:
                st["handover"] = t
            if any(p.search(body) for p in boot.CRASH_RES) and st["crash"] is None:
                st["crash"] = body
                raise _Done()
        m = GUEST_PREFIX_RE.match(body)
        if m:
            body = body[m.end():]
        if (m or not is_xen) and st["first_xen"] is not None and not line.startswith("qemu-system-"):
            if st["first_guest"] is None and st["handover"] is not None:
                st["first_guest"] = t
            lines.append(body)
            if fail_re and fail_re.search(body):
                st["fail"] = body
                raise _Done()
            if end_re.search(body):
                st["end"], st["end_line"] = t, body
                raise _Done()

    result = None
    try:
        result = boot.boot(kernel, xen=xen, ramdisk=ramdisk, mem=mem, args=args,
                           xen_args=xen_args, timeout=timeout, log=log, echo=echo)
    except _Done:
        pass
    log_path = result.log_path if result else (log or os.path.join(
        REPO, "build", "boot", f"{os.path.basename(kernel)}-xen{xen}.log"))
    why = ""
    if st["crash"]:
        why = f"crash: {st['crash']}"
    elif st["fail"]:
        why = f"guest: {st['fail']}"
    elif st["end"] is None:
        why = result.summary() if result else "no end line"
    elif st["handover"] is None:
        why = "no hand-over line"
    return Watch(not why, why, t0, st["first_xen"], st["handover"], st["first_guest"], st["end"],
                 st["end_line"], lines, st["xen_version"], log_path)
