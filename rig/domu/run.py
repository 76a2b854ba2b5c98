#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Boot PV kernels as domUs with the real toolstack (`xl create`) in the rig.

QEMU (TCG) runs Xen 4.17 or 4.20 with a dom0 made only of Debian packages
(rig/domu/build_dom0.py: Debian's Linux, busybox, xen-utils). Its /init brings
up xenstored and xenconsoled, then runs a list of cases, each `xl create`,
wait for the guest's `Test result:` line, `xl destroy`, and powers off. One
boot serves the whole list. Verdicts and exit codes follow xtf-runner:

    0 SUCCESS  3 SKIP  4 ERROR  5 FAILURE  6 CRASH      2 rig error

ERROR also covers `xl create` refusing the case (its own message is the
reason); CRASH: the domain died, crashed or stayed silent for the bounded wait
without a result line (or crashed after SUCCESS/SKIP), or Xen/dom0 died during
the case (the remaining cases then run in a fresh boot). A guest that prints
`ramdisk: bytes=N xxh64=H` (the shim) is also checked against the host's view
of its ramdisk (`xxhsum -H1`; see ramdisk_matches for what the toolstack does
to it): a mismatch turns SUCCESS into FAILURE.

One case:
    rig/domu/run.py --xen 4.17|4.20 --kernel build/shim/shim [--ramdisk F]
                    [--mem MiB] [--maxmem MiB] [--vcpus N] [--args "..."]
                    [--timeout S] [--xen-args "..."] [--quiet|--verbose]
    (--kernel @linux: Debian's Linux with a busybox initramfs that says SUCCESS)
A list of cases in one dom0 boot (JSON: a list of objects with the keys of
Case: name, kernel, ramdisk, mem, maxmem, vcpus, args, timeout, expect,
reason_re, require, runner, extra_cfg):
    rig/domu/run.py --xen 4.20 --cases cases.json [--json-out results.json]
Library:
    from run import Case, run_cases
    rr = run_cases("4.17", [Case("a", "build/shim/shim", mem=256)])
    rr.exit_code, rr.t_dom0_ready
    rr.cases[0].verdict, .exit_code, .reason, .guest_lines, .t_create_to_result

Ramdisks reach dom0 as read-only virtio disks (/dev/rd/SERIAL in dom0), never
as tmpfs files, except small ones (<= 32 MiB) and ones whose size is no
multiple of 512, which go into dom0's initramfs; a large .gz of such a size is
padded inside its gzip header (gzip_padded) to become a disk.
"""
import argparse
import dataclasses
import hashlib
import json
import math
import os
import re
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RIG = os.path.dirname(HERE)
REPO = os.path.dirname(RIG)
sys.path.insert(0, HERE)
sys.path.insert(0, RIG)

import boot  # noqa: E402  rig/boot.py: fetch_xen, ensure_qemu, qemu_command, module_arg
import build_dom0  # noqa: E402

EXIT = {"SUCCESS": 0, "SKIP": 3, "ERROR": 4, "FAILURE": 5, "CRASH": 6}
ORDER = ("SUCCESS", "SKIP", "ERROR", "FAILURE", "CRASH")       # xtf-runner: worst wins
RIG_ERROR = 2

DOM0_MIB = 512              # dom0_mem (the toolstack, page cache for the ramdisk disks)
HEADROOM_MIB = 384          # QEMU RAM on top of dom0 + the largest domU: Xen, its heap
SMALL_FILE = 32 << 20       # ramdisks up to this size (or unaligned) go into dom0's initramfs
BOOT_TIMEOUT = 180          # QEMU start to "dom0 ready"
# Each lifecycle operation: what the guest must answer after it (xl save + restore and
# migrate make a new domain: the suspend hypercall returns 0; save -c and suspend/resume
# keep the domain: 1), and the bound on it in dom0 (OP_TIMEOUT s per xl command).
OP_ROUND_RC = {"save-restore": 0, "migrate": 0, "migrate-debug": 0, "save-c": 1, "suspend-resume": 1,
               "save-enospc": 1}
OP_TIMEOUT = 300
RESULT_TIMEOUT = 90         # xl create done -> result line, plus RESULT_PER_GIB per GiB of ramdisk
RESULT_PER_GIB = 60
XL_TIMEOUT = 120            # xl create itself, plus XL_PER_GIB per GiB of ramdisk
XL_PER_GIB = 90
DOM0_ARGS = "console=hvc0 loglevel=4"
XXH_CACHE = os.path.join(REPO, "build", "domu", "xxh64.json")   # host hashes by path/size/mtime

RESULT_RE = re.compile(r"Test result: (SUCCESS|SKIP|FAILURE|ERROR)\b ?(.*)")
RAMDISK_RE = re.compile(r"^ramdisk: bytes=(\d+) xxh64=([0-9a-f]{16})")
RIG_RE = re.compile(r"^@@RIG (\S+) ?(.*)$")
TAGGED_RE = re.compile(r"^@@(XL|GUEST|XLRUN|INSPECT) (\d+)\| ?(.*)$")
XLRUN_RE = re.compile(r"^xl-run: (SUCCESS|SKIP|ERROR|FAILURE|CRASH)\b ?(.*)$")
XLRUN_TIMING_RE = re.compile(r" ?\(create [^)]*\)$")
XLRUN_EXIT = {0: "SUCCESS", 3: "SKIP", 4: "ERROR", 5: "FAILURE", 6: "CRASH"}
KV_RE = re.compile(r"(\S+)=(\S*)")
SHUTDOWN = {"0": "poweroff", "1": "reboot", "2": "suspend", "3": "crash", "4": "watchdog",
            "5": "soft_reset"}
GUEST_TS_RE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\] ")   # xenconsoled -t guest
XEN_FATAL_RE = re.compile(r"Panic on CPU \d+:|Hardware Dom0 crashed|\bd0v\d+ Unhandled"
                          r"|Domain 0 crashed|Early fatal page fault")


def private_tmp(path):
    """A temporary name beside path that no other process or thread uses (matrix.py
    runs QEMU sessions in threads that may prepare the same cached file at once)."""
    return f"{path}.tmp{os.getpid()}-{threading.get_ident()}"


class RigError(Exception):
    """The rig could not run (QEMU, Xen or the dom0 did not come up)."""


@dataclasses.dataclass
class Case:
    name: str
    kernel: str
    ramdisk: str | None = None
    mem: int = 256                  # domU memory=, MiB
    maxmem: int | None = None       # domU maxmem=, MiB
    vcpus: int = 1
    args: str = ""                  # domU extra= (its command line)
    timeout: float | None = None    # seconds from `xl create` done to the result line
    expect: list | None = None      # verdicts that count as a pass in a matrix (default SUCCESS)
    extra_cfg: str = ""             # more xl config lines, verbatim
    require: list | None = None     # regexes some guest line must match for SUCCESS to stand
    reason_re: str | None = None    # with expect: the reason must match this too
    runner: str = "rig"             # "xl-run": dom0 runs the case with rig/domu/xl-run.sh
    order: list | None = None       # regexes guest lines must match in this order for SUCCESS
    memtotal_kb: tuple | None = None  # (lo, hi]: a "handoff-init: MemTotal N kB" line must be inside
    same_groups: tuple | None = None  # (rx_a, rx_b): the first lines matching each capture the same
    type: str = "pv"                # xl type=: "pv", or "pvh" (the PVH shim, make PLATFORM=pvh)
    ops: list | None = None         # lifecycle operations on the running guest (OP_ROUND_RC's keys)


@dataclasses.dataclass
class CaseResult:
    name: str
    verdict: str
    exit_code: int
    reason: str
    result_line: str | None = None
    guest_lines: list = dataclasses.field(default_factory=list)
    guest_times: list = dataclasses.field(default_factory=list)   # xenconsoled's stamps (1 s)
    xlrun_line: str | None = None   # runner="xl-run": its verdict line
    xl_late: str | None = None      # xl create's exit status when it failed after unpausing the domain
    xlrun_rc: str | None = None
    xl_lines: list = dataclasses.field(default_factory=list)
    xen_lines: list = dataclasses.field(default_factory=list)
    status: str | None = None       # what dom0's /init saw (result, gone, timeout, xl-failed, ...)
    shutdown: str | None = None     # the domain's shutdown reason (poweroff, crash, ...), if seen
    ramdisk_host: str | None = None  # "bytes=N xxh64=H" as the host sees the ramdisk
    t_create: float | None = None   # host seconds since QEMU start: xl create started
    t_created: float | None = None  # xl create returned
    t_end: float | None = None      # the rig's case-end line
    t_result: float | None = None   # dom0 saw the result line
    t_dom0_ready: float | None = None
    passed: bool | None = None      # verdict in the case's `expect`
    ops: list = dataclasses.field(default_factory=list)        # [(op, xl rc)] as dom0 ran them
    op_xl: dict = dataclasses.field(default_factory=dict)      # op index -> xl lines
    inspect_lines: list = dataclasses.field(default_factory=list)  # shim-inspect's output
    op_late: list = dataclasses.field(default_factory=list)    # "restore rc=N": xl did not exit cleanly

    @property
    def t_create_to_result(self):
        if self.t_create is None or self.t_result is None:
            return None
        return self.t_result - self.t_create

    @property
    def t_ready_to_result(self):
        if self.t_dom0_ready is None or self.t_result is None:
            return None
        return self.t_result - self.t_dom0_ready

    def summary(self):
        parts = []
        if self.t_create is not None and self.t_created is not None:
            parts.append(f"xl create {self.t_created - self.t_create:.1f}s")
        if self.t_create_to_result is not None:
            parts.append(f"create->result {self.t_create_to_result:.1f}s")
        if self.t_ready_to_result is not None:
            parts.append(f"dom0 ready->result {self.t_ready_to_result:.1f}s")
        s = f"{self.name}: {self.verdict} (exit {self.exit_code}"
        s += (", " + ", ".join(parts) if parts else "") + ")"
        return s + (f": {self.reason}" if self.reason else "")


@dataclasses.dataclass
class RunResult:
    xen: str
    cases: list
    boots: int = 0
    t_dom0_ready: list = dataclasses.field(default_factory=list)   # per boot, since QEMU start
    t_total: float = 0.0
    log_paths: list = dataclasses.field(default_factory=list)

    @property
    def exit_code(self):
        """Worst verdict (xtf-runner); with `expect` set, a case in it counts as 0."""
        worst = 0
        for c in self.cases:
            code = c.exit_code
            if c.passed is not None:
                code = 0 if c.passed else EXIT["FAILURE"] if c.exit_code == 0 else c.exit_code
            worst = max(worst, code, key=lambda x: [EXIT[v] for v in ORDER].index(x))
        return worst


# ------------------------------------------------------------------ host side of ramdisks

def host_xxh64(path, gunzip=False, pad_to=None):
    """'bytes=N xxh64=H' of the file's bytes (gunzipped first if `gunzip`),
    followed by zeros up to `pad_to` bytes if given."""
    st = os.stat(path)
    key = f"{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}:{gunzip}:{pad_to}"
    cache = XXH_CACHE
    try:
        with open(cache) as f:
            known = json.load(f)
    except (OSError, ValueError, TypeError):
        known = {}
    if key in known:
        return known[key]
    gz = gunzip
    exe = shutil.which("xxhsum")
    if not exe:
        return None
    if gz or pad_to:
        src = subprocess.Popen(["gzip", "-dc", path] if gz else ["cat", path], stdout=subprocess.PIPE)
        xx = subprocess.Popen([exe, "-H1", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL)
        size = 0
        while True:
            chunk = src.stdout.read(1 << 20)
            if not chunk:
                break
            size += len(chunk)
            xx.stdin.write(chunk)
        if pad_to and pad_to > size:
            left = pad_to - size
            while left:
                n = min(left, 1 << 20)
                xx.stdin.write(bytes(n))
                left -= n
            size = pad_to
        xx.stdin.close()
        out = xx.stdout.read().decode()
        src.stdout.close()
        xx.stdout.close()
        src.wait(), xx.wait()
    else:
        size = st.st_size
        out = subprocess.run([exe, "-H1", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True).stdout
    m = re.match(r"^([0-9a-f]{16})\s", out)
    if not m:
        return None
    val = f"bytes={size} xxh64={m.group(1)}"
    if cache is None:
        return val
    known[key] = val
    os.makedirs(os.path.dirname(cache), exist_ok=True)
    tmp = private_tmp(cache)
    with open(tmp, "w") as f:
        json.dump(known, f, indent=0)
    os.replace(tmp, cache)
    return val


def toolstack_gunzips(xen):
    """libxenguest gunzipped a domU's ramdisk up to Xen 4.19; 4.20 hands over
    the file as it is (xen.git d17b7562d4 "tools/libxg: Don't gunzip the
    guests initrd")."""
    return tuple(int(x) for x in xen.split(".")[:2]) < (4, 20)


def ramdisk_matches(xen, path, guest_bytes, guest_hash):
    """(ok, what the host expects) for a guest's `ramdisk: bytes=N xxh64=H`;
    `path` holds the bytes that xl was given.

    The content is the file, gunzipped first when the toolstack does that
    (toolstack_gunzips). Then the module *segment* the domU gets can be longer
    than the content, zero-filled: with MOD_START_PFN mod_len is a whole number
    of pages (initrd_len = pages * 4096, 4.17 and 4.20 alike), and a gunzipped
    module's segment is max(gunzipped size + 16, file size). So the guest must
    see the content, then zeros up to no more than that, and the host hashes
    the content followed by the same number of zeros."""
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    unzip = gz and toolstack_gunzips(xen)
    content = host_xxh64(path, gunzip=unzip)
    if content is None:
        return True, "unknown (xxhsum missing)"
    size = int(content.split()[0][6:])
    if guest_bytes == size:
        return guest_hash == content.split()[1][6:], content
    seg = max(size + 16, os.path.getsize(path)) if unzip else size
    seg = (seg + 4095) & ~4095
    if not size < guest_bytes <= seg:
        return False, f"{content} (the segment would be {seg} bytes at most)"
    padded = host_xxh64(path, gunzip=unzip, pad_to=guest_bytes)
    return guest_hash == padded.split()[1][6:], f"{content}, zero-padded to {padded}"


def gzip_padded(path, out_dir=None):
    """A copy of gzip file `path` whose size is a multiple of 512, padded inside
    the gzip header (FEXTRA), so that the virtio disk's sector rounding adds no
    bytes after the gzip trailer (libxenguest reads the size from the last 4)."""
    st = os.stat(path)
    tag = hashlib.sha256(f"{os.path.abspath(path)}:{st.st_size}:{st.st_mtime_ns}".encode()).hexdigest()[:16]
    out = os.path.join(out_dir or os.path.join(REPO, "cache", "domu-disks"), f"{tag}.gz")
    if os.path.exists(out):
        return out
    with open(path, "rb") as f:
        head = f.read(10)
        if head[:3] != b"\x1f\x8b\x08":
            raise RigError(f"{path}: not a deflate gzip file")
        flg = head[3]
        if flg & 0x06:
            raise RigError(f"{path}: gzip header has FEXTRA or FHCRC; cannot pad it")
        pad = (-(st.st_size + 2 + 4)) % 512          # FEXTRA: 2-byte XLEN + a 4-byte subfield header
        sub = b"RP" + pad.to_bytes(2, "little") + b"\0" * pad
        os.makedirs(os.path.dirname(out), exist_ok=True)
        tmp = private_tmp(out)
        with open(tmp, "wb") as o:
            o.write(head[:3] + bytes([flg | 0x04]) + head[4:10])
            o.write(len(sub).to_bytes(2, "little") + sub)
            shutil.copyfileobj(f, o, 1 << 20)
    assert os.path.getsize(tmp) == st.st_size + 2 + len(sub) and os.path.getsize(tmp) % 512 == 0
    os.replace(tmp, out)
    return out


# ------------------------------------------------------------------ one boot

class Plan:
    """The files and disks of one boot: the per-case cpio appended to the dom0's."""

    def __init__(self, cases, workdir):
        self.cpio = build_dom0.Cpio()
        self.disks = []                 # (serial, host path)
        self.files = {}                 # host path -> dom0 path
        self.given = {}                 # ramdisk path -> host file with the bytes xl reads
        self.ids = []
        self.workdir = workdir
        self.cpio.dir("cases/files")
        for i, c in enumerate(cases):
            cid = f"{i + 1:02d}"
            self.ids.append(cid)
            self.add_case(cid, c)
        self.cpio.file("cases/list", "".join(i + "\n" for i in self.ids).encode())

    def place_file(self, path, what):
        """dom0 path of a kernel or small file, put into the initramfs."""
        if not os.path.isfile(path):
            return f"/cases/missing/{os.path.basename(path)}"     # let xl say it
        path = os.path.abspath(path)
        if path not in self.files:
            with open(path, "rb") as f:
                data = f.read()
            name = f"cases/files/{what}{len(self.files)}-{os.path.basename(path)}"
            self.cpio.file(name, data)
            self.files[path] = "/" + name
        return self.files[path]

    def place_ramdisk(self, path):
        """dom0 path for a ramdisk; self.given[path] = the host file with the
        bytes xl will read (a padded copy for some .gz)."""
        if not os.path.isfile(path):
            return f"/cases/missing/{os.path.basename(path)}"
        size = os.path.getsize(path)
        self.given[path] = path
        if size <= SMALL_FILE:
            return self.place_file(path, "rd")
        with open(path, "rb") as f:
            gz = f.read(2) == b"\x1f\x8b"
        disk = path
        if size % 512:
            if not gz:
                raise RigError(f"{path}: {size} bytes is not a multiple of 512 and too big for "
                               f"dom0's initramfs; a virtio disk would pad it")
            disk = gzip_padded(path)
            self.given[path] = disk
        disk = os.path.abspath(disk)
        for serial, p in self.disks:
            if p == disk:
                return f"/dev/rd/{serial}"
        serial = f"rd{len(self.disks)}"
        self.disks.append((serial, disk))
        return f"/dev/rd/{serial}"

    def add_case(self, cid, c):
        kernel = self.place_file(c.kernel, "k")
        if c.type not in ("pv", "pvh"):
            raise RigError(f"case {c.name}: type must be pv or pvh")
        lines = [f'# case {cid}: {c.name}', f'type = "{c.type}"', f'name = "rig-{cid}"',
                 f'kernel = "{kernel}"', f'memory = {int(c.mem)}']
        if c.ramdisk:
            lines.append(f'ramdisk = "{self.place_ramdisk(c.ramdisk)}"')
        if c.maxmem:
            lines.append(f'maxmem = {int(c.maxmem)}')
        lines.append(f'vcpus = {int(c.vcpus)}')
        if c.args:
            lines.append('extra = "%s"' % c.args.replace("\\", "\\\\").replace('"', '\\"'))
        lines += ['on_poweroff = "destroy"', 'on_reboot = "destroy"', 'on_crash = "destroy"']
        if c.runner not in ("rig", "xl-run"):
            raise RigError(f"case {c.name}: runner must be rig or xl-run")
        if c.extra_cfg:
            lines.append(c.extra_cfg)
        self.cpio.file(f"cases/{cid}/cfg", ("\n".join(lines) + "\n").encode())
        rd_gib = os.path.getsize(c.ramdisk) / 2**30 if c.ramdisk and os.path.isfile(c.ramdisk) else 0
        timeout = c.timeout or (RESULT_TIMEOUT + RESULT_PER_GIB * rd_gib)
        xl_timeout = XL_TIMEOUT + XL_PER_GIB * rd_gib
        name = re.sub(r"[^A-Za-z0-9_.:+-]", "_", c.name)
        self.cpio.file(f"cases/{cid}/env", (f"NAME={name}\nTIMEOUT={math.ceil(timeout)}\n"
                                            f"XL_TIMEOUT={math.ceil(xl_timeout)}\n"
                                            f"RUNNER={c.runner}\n"
                                            + (f"OPS=\"{' '.join(c.ops)}\"\nOP_TIMEOUT={OP_TIMEOUT}\n"
                                               if c.ops else "")).encode())
        if c.ops and any(op not in OP_ROUND_RC for op in c.ops):
            raise RigError(f"case {c.name}: operations must be among {sorted(OP_ROUND_RC)}")
        return timeout + xl_timeout + ops_budget(c)

    def initrd(self, dom0_initrd):
        """dom0's cpio.gz, zero padding to a 512-byte boundary, then the case archive."""
        out = os.path.join(self.workdir, "initrd.cpio")
        with open(out, "wb") as o, open(dom0_initrd, "rb") as f:
            shutil.copyfileobj(f, o)
            o.write(b"\0" * (-o.tell() % 512))
            o.write(self.cpio.finish())
        return out



def waited(r):
    """How long a case waited before its limit fired, for the reason."""
    if r.t_end is None or r.t_create is None:
        return "limit reached"
    return f"gave up {r.t_end - r.t_create:.0f}s after the case began"


class Session:
    """Parses the serial log of one boot and fills the CaseResults."""

    def __init__(self, xen, cases, results, ids, echo, given):
        self.xen, self.given = xen, given
        self.cases, self.results, self.ids, self.echo = cases, results, ids, echo
        self.by_id = dict(zip(ids, range(len(ids))))
        self.cur = None                 # index of the running case
        self.t_ready = None
        self.done = False
        self.dom0_error = None
        self.fatal = None               # Xen panic / dom0 crash
        self.t_fatal = None
        self.last_progress = 0.0
        self.deadline_extra = BOOT_TIMEOUT
        self.case_budget = {}

    def feed(self, line, t):
        if self.echo:
            self.echo(line)
        m = TAGGED_RE.match(line)
        if m:
            kind, cid, text = m.groups()
            i = self.by_id.get(cid)
            if i is not None:
                r = self.results[i]
                if kind == "INSPECT":
                    r.inspect_lines.append(text.rstrip("\r"))
                elif kind == "XL":
                    if r.ops and r.ops[-1][1] is None:
                        r.op_xl[len(r.ops) - 1].append(text.rstrip("\r"))
                    else:
                        r.xl_lines.append(text.rstrip("\r"))
                elif kind == "XLRUN":
                    text = text.rstrip("\r")
                    if XLRUN_RE.match(text):
                        r.xlrun_line = text
                    elif text:
                        r.guest_lines.append(text)
                else:
                    m = GUEST_TS_RE.match(text)
                    if m:
                        text = text[m.end():]
                    if text.rstrip("\r") == "Logfile Opened" and not r.guest_lines:
                        return                  # xenconsoled's first line, not the guest's
                    if m:
                        r.guest_times.append(m.group(1))
                    r.guest_lines.append(text.rstrip("\r"))
            return
        # A rig line normally starts the line; a guest or kernel fragment
        # without a newline can stand before it.
        k = line.find("@@RIG ")
        m = RIG_RE.match(line[k:]) if k >= 0 else None
        if m:
            self.rig_line(m.group(1), m.group(2), t)
            return
        body = line[5:].lstrip() if line.startswith("(XEN)") else None
        if body is not None:
            if XEN_FATAL_RE.search(body) and self.fatal is None:
                self.fatal, self.t_fatal = body, t
            if self.cur is not None:
                self.results[self.cur].xen_lines.append(body)

    def rig_line(self, what, rest, t):
        kv = dict(KV_RE.findall(rest))
        words = rest.split()
        self.last_progress = t
        if what == "dom0-ready":
            self.t_ready = t
        elif what == "dom0-error":
            self.dom0_error = rest
        elif what == "all-done":
            self.done = True
        elif what in ("op-begin", "op-end", "op-wait", "op-late") and words and words[0] in self.by_id:
            r = self.results[self.by_id[words[0]]]
            if what == "op-late":
                r.op_late.append(f"{words[1]} rc={kv.get('rc', '?')}")
            elif what == "op-begin":
                r.ops.append([words[1], None])
                r.op_xl[len(r.ops) - 1] = []
            elif what == "op-end" and r.ops:
                r.ops[-1][1] = int(kv.get("rc", "-1"))
        elif what == "xl-late" and words and words[0] in self.by_id:
            self.results[self.by_id[words[0]]].xl_late = kv.get("rc")
        elif what in ("case-begin", "xl-create", "case-end") and words:
            i = self.by_id.get(words[0])
            if i is None:
                return
            r = self.results[i]
            if what == "case-begin":
                self.cur = i
                r.t_create, r.t_dom0_ready = t, self.t_ready
            elif what == "xl-create":
                r.t_created = t
            else:
                r.t_end = t
                r.status = kv.get("status")
                r.xlrun_rc = kv.get("rc")
                if r.status == "xl-run":
                    r.t_result = t
                sd = kv.get("shutdown", "-")
                r.shutdown = SHUTDOWN.get(sd, sd) if sd != "-" else None
                self.judge(i)
                self.cur = None
        elif what == "result" and words:
            i = self.by_id.get(words[0])
            if i is not None:
                self.results[i].t_result = t

    def judge(self, i):
        c, r = self.cases[i], self.results[i]
        res = None
        for ln in r.guest_lines:
            m = RESULT_RE.search(ln)
            if m:
                res = m
                break
        st = r.status
        if st == "xl-run":
            m = XLRUN_RE.match(r.xlrun_line or "")
            verdict = XLRUN_EXIT.get(int(r.xlrun_rc or 6), "CRASH")
            reason = (XLRUN_TIMING_RE.sub("", m.group(2)) if m else "xl-run.sh printed no verdict line")
            res_lines = [RESULT_RE.search(ln) for ln in r.guest_lines]
            res = next((x for x in res_lines if x), None)
            r.result_line = res.group(0).strip() if res else None
        elif st in ("xl-failed", "xl-timeout"):
            # xl's own words: the first errors, not the destroy cascade after them.
            msgs = [ln for ln in r.xl_lines if re.search(r"\berror\b", ln)
                    and not re.search(r"Non-existant domain|Unable to destroy|Destruction of domain", ln)]
            why = " | ".join(msgs[:3]) or (r.xl_lines[-1] if r.xl_lines else "no output")
            verdict = "ERROR"
            reason = (f"xl create timed out ({waited(r)}): " if st == "xl-timeout"
                      else "xl create failed: ") + why
        elif res:
            verdict, reason = res.group(1), res.group(2).strip()
            r.result_line = res.group(0).strip()
            if r.shutdown in ("crash", "watchdog") and verdict in ("SUCCESS", "SKIP"):
                verdict, reason = "CRASH", f"domain shut down ({r.shutdown}) after '{r.result_line}'"
        elif st == "timeout":
            verdict, reason = "CRASH", f"no result line within the bounded wait ({waited(r)}); destroyed"
        else:
            verdict, reason = "CRASH", (f"domain shut down ({r.shutdown or 'unknown reason'}) "
                                        f"with no result line")
        if r.xl_late:
            rc = int(r.xl_late)
            how = f"exit {rc}" + (f", signal {rc - 128}" if rc > 128 else "")
            said = [ln for ln in r.xl_lines if re.search(r"\berror\b|fatal signal|Segmentation|Aborted", ln)]
            reason = (f"{reason}; " if reason else "") + \
                f"note: xl create failed after unpausing the domain ({how}" + \
                (f": {said[0].strip()}" if said else "") + "): the toolstack's fault, not the guest's"
        if verdict == "CRASH":
            xen = [x for x in r.xen_lines if re.search(r"\bd\d+v\d+|crash|Unhandled|Bad type|"
                                                       r"mm\.c|L1TF|Pagetable walk", x)]
            if xen:
                reason += f" [Xen: {xen[0]}]"
            elif r.guest_lines:
                reason += f" [last guest line: {r.guest_lines[-1]}]"
        if c.ramdisk and os.path.isfile(c.ramdisk) and verdict == "SUCCESS":
            seen = [m for m in (RAMDISK_RE.match(ln) for ln in r.guest_lines) if m]
            if seen:
                ok, r.ramdisk_host = ramdisk_matches(self.xen, self.given.get(c.ramdisk, c.ramdisk),
                                                     int(seen[0].group(1)), seen[0].group(2))
                if not ok:
                    verdict, reason = "FAILURE", f"ramdisk mismatch: guest {seen[0].group(0)[9:]}, " \
                                                 f"host {r.ramdisk_host}"
            elif any(ln.startswith("ramdisk: none") for ln in r.guest_lines):
                verdict, reason = "FAILURE", "a ramdisk was given but the guest saw none"
        if c.ops and verdict in ("SUCCESS", "FAILURE", "ERROR", "CRASH"):
            verdict, reason = judge_ops(c, r, verdict, reason)
        if verdict == "SUCCESS" and c.order:
            i = 0
            for rx in c.order:
                while i < len(r.guest_lines) and not re.search(rx, r.guest_lines[i]):
                    i += 1
                if i == len(r.guest_lines):
                    verdict, reason = "FAILURE", f"no guest line matches {rx!r} after the ones before it"
                    break
        if verdict == "SUCCESS" and c.same_groups:
            got = [next((m.groups() for m in (re.search(rx, ln) for ln in r.guest_lines) if m), None)
                   for rx in c.same_groups]
            if got[0] is None or got[0] != got[1]:
                verdict, reason = "FAILURE", f"{got[0]} and {got[1]} differ: /{c.same_groups[0]}/ " \
                                             f"and /{c.same_groups[1]}/"
        if verdict == "SUCCESS" and c.memtotal_kb:
            got = [int(m.group(1)) for m in (re.search(r"^handoff-init: MemTotal (\d+) kB$", ln)
                                             for ln in r.guest_lines) if m]
            lo, hi = c.memtotal_kb
            if len(got) != 1 or not lo < got[0] <= hi:
                verdict, reason = "FAILURE", f"MemTotal {got} kB, expected one line in ({lo}, {hi}]"
        if verdict == "SUCCESS" and c.require:
            missing = [rx for rx in c.require if not any(re.search(rx, ln) for ln in r.guest_lines)]
            if missing:
                verdict, reason = "FAILURE", f"no guest line matches {missing[0]!r}"
        r.verdict, r.exit_code, r.reason = verdict, EXIT[verdict], reason
        if c.expect is not None:
            r.passed = verdict in c.expect and (not c.reason_re or bool(re.search(c.reason_re, reason)))


REPORT_RE = re.compile(r"^lifecycle: round (\d+) report: p2m (\d+) pfns xxh64=([0-9a-f]{16}); "
                       r"tables (\d+) frames xxh64=([0-9a-f]{16})$")
INSPECT_RE = re.compile(r"^inspect: round (\d+) p2m via (list|tree): (\d+) pfns xxh64=([0-9a-f]{16}); "
                        r"typed L1 \d+ L2 \d+ L3 \d+ L4 \d+: (\d+) frames xxh64=([0-9a-f]{16}); "
                        r"\d+ entries, all the domain's own \(and [01] shared_info\)$")


def judge_inspections(c, r):
    """dom0's inspector against the guest: before each operation and at the end it must
    find the guest's p2m (the same list, read the way the save code reads it: through the
    linear list, or the 3-level frame list with `p2m-tree`) and exactly the guest's table
    frames typed L1-L4 by Xen, all pointing at the domain's own frames.  None if so."""
    reports = {int(m.group(1)): m for m in (REPORT_RE.match(ln) for ln in r.guest_lines) if m}
    looks = [ln for ln in r.inspect_lines if ln.startswith("inspect: ")]
    bad = [ln for ln in looks if not INSPECT_RE.match(ln)]
    if bad:
        return bad[0]
    if len(looks) != len(c.ops) + 1:
        return f"{len(looks)} inspections for {len(c.ops)} operation(s): want one before each and one at the end"
    via = "tree" if "p2m-tree" in c.args.split() else "list"
    for ln in looks:
        m = INSPECT_RE.match(ln)
        g = reports.get(int(m.group(1)))
        if g is None:
            return f"round {m.group(1)}: the guest printed no report for the inspector"
        if m.group(2) != via:
            return f"round {m.group(1)}: the inspector read the p2m via the {m.group(2)}, want the {via}"
        if (m.group(3), m.group(4)) != (g.group(2), g.group(3)):
            return (f"round {m.group(1)}: the inspector's p2m ({m.group(3)} pfns xxh64={m.group(4)}) is not "
                    f"the guest's ({g.group(2)} pfns xxh64={g.group(3)})")
        if (m.group(5), m.group(6)) != (g.group(4), g.group(5)):
            return (f"round {m.group(1)}: Xen types {m.group(5)} frames L1-L4 (xxh64={m.group(6)}), the "
                    f"guest's tables are {g.group(4)} frames (xxh64={g.group(5)})")
    return None


COST_RE = re.compile(r"^resume: cost rc=(-?\d+) hypercalls=\d+ us=\d+, then ports and xenstore "
                     r"hypercalls=\d+ us=\d+$")
ROUND_RE = re.compile(r"^suspend: round (\d+) rc=(-?\d+) tables=([0-9a-f]{16}) \((\d+) entries\) "
                      r"pages=64 moved=(\d+) ramdisk=(same|none) ok$")


def judge_ops(c, r, verdict, reason):
    """The lifecycle operations: both sides must agree.  dom0 ran every operation and each
    xl command exited 0; the guest answered each with its round line, with the suspend
    hypercall's rc that the operation implies, the same table hash every round, and ended
    on the final poweroff.  A failed operation makes the case an ERROR with xl's messages
    and what the guest then said (a case expecting that failure says so with expect and
    reason_re)."""
    for k, (op, rc) in enumerate(r.ops):
        if rc is None or rc != 0:
            said = [ln for ln in r.op_xl.get(k, []) if re.search(r"error|fail|Bad|refus|out of range", ln,
                                                                   re.I)]
            rounds = sum(1 for ln in r.guest_lines if ROUND_RE.match(ln))
            return "ERROR", (f"{op} (operation {k + 1}) failed in dom0 (xl exit {rc}): "
                             + (" | ".join(said) or "no message")
                             + f"; the guest then: {verdict} {reason}".rstrip()
                             + f" after {rounds} round(s)")
    if verdict != "SUCCESS":
        return verdict, reason
    if [op for op, _ in r.ops] != list(c.ops):
        return "FAILURE", f"dom0 ran {[op for op, _ in r.ops]}, the case asks for {list(c.ops)}"
    rounds = [m for m in (ROUND_RE.match(ln) for ln in r.guest_lines) if m]
    if len(rounds) != len(c.ops):
        return "FAILURE", f"{len(rounds)} guest round line(s) for {len(c.ops)} operation(s)"
    for k, (m, op) in enumerate(zip(rounds, c.ops)):
        if int(m.group(1)) != k + 1 or int(m.group(2)) != OP_ROUND_RC[op]:
            return "FAILURE", (f"round {k + 1} ({op}): the guest says round {m.group(1)} rc={m.group(2)}, "
                               f"want rc={OP_ROUND_RC[op]}")
    if c.ramdisk and any(m.group(6) != "same" for m in rounds):
        return "FAILURE", "a ramdisk was given, but a round line says ramdisk=none"
    # A new domain normally gets other frames; if no rc-0 round saw any move, the case
    # proved less than it claims (a stale mfn would have looked right).
    new = [m for m in rounds if m.group(2) == "0"]
    if new and all(m.group(5) == "0" for m in new):
        return "FAILURE", "no round in a new domain saw any watched frame get a new mfn"
    costs = [m.group(1) for m in (COST_RE.match(ln) for ln in r.guest_lines) if m]
    if costs != [m.group(2) for m in rounds]:
        return "FAILURE", (f"resume cost lines for rc {costs}, want one per round with its rc "
                           f"{[m.group(2) for m in rounds]}")
    if len({m.group(3) for m in rounds}) != 1:
        return "FAILURE", f"the table hash differs between rounds: {[m.group(3) for m in rounds]}"
    want = f"lifecycle: poweroff after {len(c.ops)} suspend round(s)"
    if want not in r.guest_lines:
        return "FAILURE", f"missing: {want!r}"
    why = judge_inspections(c, r)
    if why:
        return "FAILURE", f"inspector: {why}"
    if r.op_late:
        reason = (f"{reason}; " if reason else "") + \
            f"note: xl {', '.join(r.op_late)} did not exit cleanly after the domain was restored " \
            "and running: the toolstack's fault, not the guest's"
    return verdict, reason


def boot_once(xen, cases, results, pending, echo, log_path, keep_dir=None, xen_args="", no_nx=False):
    """One QEMU boot running the cases whose indices are in `pending`.
    Fills results in place; returns (t_dom0_ready, indices finished)."""
    dom0_kernel, dom0_initrd = build_dom0.build(xen)
    sub = [cases[i] for i in pending]
    workdir = tempfile.mkdtemp(prefix="domu-", dir=keep_dir)
    try:
        plan = Plan(sub, workdir)
        initrd = plan.initrd(dom0_initrd)
        sub_results = [results[i] for i in pending]
        max_mem = max(max(c.mem, c.maxmem or 0) for c in sub)
        # A live migration holds the domain twice, the sender's and the receiver's copy.
        copies = 2 if any(op.startswith("migrate") for c in sub for op in (c.ops or ())) else 1
        qemu_mib = DOM0_MIB + copies * max_mem + HEADROOM_MIB
        xen_cmdline = (f"console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all "
                       f"dom0_mem={DOM0_MIB}M,max:{DOM0_MIB}M dom0_max_vcpus=1 {xen_args}").strip()
        modules = (boot.module_arg(dom0_kernel, "dom0 kernel") + " " + DOM0_ARGS + "," +
                   boot.module_arg(initrd, "dom0 initrd"))
        boot.ensure_qemu()
        # A domU of several vCPUs gets a machine of 2 CPUs (Xen time-shares beyond that).
        smp = boot.qemu_smp(max(c.vcpus for c in sub))
        cmd = boot.qemu_command(boot.fetch_xen(xen), modules, qemu_mib, xen_cmdline, no_nx, smp)
        for serial, path in plan.disks:
            cmd += ["-drive", f"file={path},if=none,id={serial},format=raw,readonly=on",
                    "-device", f"virtio-blk-pci,drive={serial},serial={serial}"]
        # xl save writes its image to a scratch disk (/dev/rd/scratch in dom0): dom0's
        # tmpfs cannot hold a domU's memory.  Sparse: only what a save writes takes room.
        op_mem = [c.mem for c in sub if c.ops]
        if op_mem:
            scratch = os.path.join(workdir, "scratch.img")
            with open(scratch, "wb") as f:
                f.truncate((max(op_mem) + 64) << 20)
            cmd += ["-drive", f"file={scratch},if=none,id=scratch,format=raw",
                    "-device", "virtio-blk-pci,drive=scratch,serial=scratch"]
        if any("save-enospc" in (c.ops or ()) for c in sub):
            small = os.path.join(workdir, "small.img")
            with open(small, "wb") as f:
                f.truncate(16 << 20)
            cmd += ["-drive", f"file={small},if=none,id=small,format=raw",
                    "-device", "virtio-blk-pci,drive=small,serial=small"]
        sess = Session(xen, sub, sub_results, plan.ids, echo, plan.given)
        budgets = [sub_budget(c) for c in sub]
        t0 = time.monotonic()
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        with open(log_path, "wb") as logf:
            logf.write(("# " + " ".join(cmd) + "\n").encode())
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, preexec_fn=boot.die_with_parent)
            try:
                eof = pump(proc, sess, logf, t0, budgets)
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        for r in sub_results:
            if r.t_dom0_ready is None and sess.t_ready is not None:
                r.t_dom0_ready = sess.t_ready
        finished = [pending[k] for k, r in enumerate(sub_results) if r.verdict]
        if sess.cur is not None and not sub_results[sess.cur].verdict:
            # Xen or dom0 died (or the boot stalled) during this case: the case did it.
            r = sub_results[sess.cur]
            why = sess.fatal or sess.dom0_error or ("QEMU exited" if eof else "rig timeout")
            r.verdict, r.exit_code = "CRASH", EXIT["CRASH"]
            r.reason = f"the machine died during the case: {why}"
            r.status = "machine-died"
            if cases[pending[sess.cur]].expect is not None:
                r.passed = "CRASH" in cases[pending[sess.cur]].expect
            finished.append(pending[sess.cur])
        if sess.t_ready is None:
            why = sess.dom0_error or sess.fatal or ("QEMU exited" if eof else "timeout")
            raise RigError(f"dom0 never became ready ({why}); see {log_path}")
        return sess.t_ready, finished
    finally:
        if keep_dir is None:
            shutil.rmtree(workdir, ignore_errors=True)


def ops_budget(c):
    """The lifecycle operations' bound: two xl commands and a guest round each, and the end."""
    return (len(c.ops) * 3 + 2) * OP_TIMEOUT if c.ops else 0


def sub_budget(c):
    rd_gib = os.path.getsize(c.ramdisk) / 2**30 if c.ramdisk and os.path.isfile(c.ramdisk) else 0
    timeout = c.timeout or (RESULT_TIMEOUT + RESULT_PER_GIB * rd_gib)
    return timeout + XL_TIMEOUT + XL_PER_GIB * rd_gib + 60 + ops_budget(c)  # + destroy, console dump


def pump(proc, sess, logf, t0, budgets):
    """Feed QEMU's output to the session until all-done, death or a deadline."""
    fd = proc.stdout.fileno()
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    buf = b""
    t_done = None
    while True:
        now = time.monotonic() - t0
        # Deadline: boot, then each case's budget from its begin.
        if sess.t_ready is None:
            deadline = BOOT_TIMEOUT
        elif sess.cur is not None:
            deadline = sess.results[sess.cur].t_create + budgets[sess.cur]
        else:
            deadline = sess.last_progress + 120
        if sess.done or sess.dom0_error:
            t_done = t_done or now
            deadline = min(deadline, t_done + 3)
        if sess.fatal:
            deadline = min(deadline, sess.t_fatal + 8)
        if now >= deadline:
            return False
        if not sel.select(deadline - now):
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            if buf:
                sess.feed(buf.decode(errors="replace").rstrip("\r"), time.monotonic() - t0)
            return True
        logf.write(chunk)
        logf.flush()
        *lines, buf = (buf + chunk).split(b"\n")
        t = time.monotonic() - t0
        for raw in lines:
            sess.feed(raw.decode(errors="replace").rstrip("\r"), t)


def run_cases(xen, cases, echo=None, log=None, max_boots=None, keep_dir=None, xen_args="",
              no_nx=False):
    """Run `cases` (a list of Case) under Xen `xen` in as few dom0 boots as
    possible (a case that kills the machine costs a reboot for the rest);
    no_nx: on a CPU without NX.  Returns a RunResult; raises RigError if
    dom0 never comes up."""
    if not cases:
        raise RigError("no cases")
    cases = [resolve_pack(xen, resolve_linux(xen, c)) for c in cases]
    names = [c.name for c in cases]
    results = [CaseResult(n, None, None, "") for n in names]
    rr = RunResult(xen, results)
    t0 = time.monotonic()
    pending = list(range(len(cases)))
    max_boots = max_boots or len(cases)
    if log is None:
        log = os.path.join(REPO, "build", "domu", f"run-xen{xen}.log")
    while pending and rr.boots < max_boots:
        path = log if rr.boots == 0 else f"{log}.{rr.boots}"
        rr.boots += 1
        rr.log_paths.append(path)
        t_ready, finished = boot_once(xen, cases, results, pending, echo, path, keep_dir, xen_args,
                                      no_nx)
        rr.t_dom0_ready.append(t_ready)
        pending = [i for i in pending if i not in finished]
        if pending and not finished:
            break
    for i in pending:
        r = results[i]
        r.verdict, r.exit_code, r.reason = "CRASH", EXIT["CRASH"], "not run: the machine kept dying"
        if cases[i].expect is not None:
            r.passed = False
    rr.t_total = time.monotonic() - t0
    return rr


LINUX = "@linux"
PACK_LINUX = "@pack-linux"      # ramdisk: a bootpack of Debian's Linux and the hand-off's /init
PACK_SHIM = "@pack-shim"        # ramdisk: a bootpack of the shim (default build) itself;
                                # "@pack-shim-initp2m", "@pack-shim-mapped": of those builds
HANDOFF_SWITCH = r"^hand-off: \d+ frames renumbered; switching to L4 mfn 0x[0-9a-f]+, entry "


def resolve_pack(xen, c):
    """ramdisk "@pack-linux" or "@pack-shim": the hand-off's bootpack, built here for this
    Xen's Linux (or the shim), and what the guest must print, in order, with the values
    the host computed: the shim's switch, then Linux's banner and /init's lines, or the
    second shim's start_info, ramdisk and checks."""
    if c.ramdisk != PACK_LINUX and not (c.ramdisk or "").startswith(PACK_SHIM):
        return c
    sys.path.insert(0, os.path.join(REPO, "tools"))
    import bootpack as BP
    out = os.path.join(REPO, "build", "domu", "packs")
    os.makedirs(out, exist_ok=True)
    cmdline = c.args or "handoff"
    if c.ramdisk == PACK_LINUX:
        kernel, initrd_path, digest = build_dom0.linux_handoff(xen)
        with open(initrd_path, "rb") as f:
            initrd = f.read()
        cmdline = "console=hvc0 handoff=linux"
        order = [HANDOFF_SWITCH, r"\] Linux version \d", "^handoff-init: .*, data sha256 " + digest + "$",
                 r"^handoff-init: MemTotal \d+ kB$", "^handoff-init: cmdline " + re.escape(cmdline) + "$",
                 r"^Test result: SUCCESS"]
        extra = dict(memtotal_kb=(c.mem * 1024 // 2, c.mem * 1024))
    else:
        variant = "shim" + c.ramdisk[len(PACK_SHIM):]
        kernel = os.path.join(REPO, "build", variant, "shim")
        if not os.path.isfile(kernel):
            raise RigError(f"{c.ramdisk}: build {os.path.relpath(kernel, REPO)} first")
        cmdline = c.args or "handoff handoff-record"
        initrd = f"initrd of {c.name}\n".encode() * 100
        with open(os.path.join(out, f"{c.name}.initrd"), "wb") as f:
            f.write(initrd)
        want = host_xxh64(os.path.join(out, f"{c.name}.initrd"))
        if want is None:
            raise RigError("xxhsum is needed to check the second shim's ramdisk")
        # The record's line in the first shim, then the switch, then the second shim's check.
        rec = r"(\d+ page tables \(L4 \d+, L3 \d+, L2 \d+, L1 \d+\)), (\d+ p2m pages)"
        order = [r"^hand-off: record at mfn 0x[0-9a-f]+: " + rec + "$",
                 HANDOFF_SWITCH, rf"^start_info: .*nr_pages={c.mem * 256} ",
                 "^start_info: cmdline=" + re.escape(f'"{cmdline}"').replace(
                     "handoff\\-record", "handoff\\-record=0x[0-9a-f]+") + "$",
                 "^handoff-record: " + rec + " of the first shim: unchanged, in the p2m and the M2P, "
                 "writable now$",
                 "^ramdisk: " + re.escape(want) + "$", r"^mmu: check after exercises: .* invariants hold$",
                 r"^Test result: SUCCESS"]
        extra = dict(same_groups=(order[0], order[4]))
    with open(kernel, "rb") as f:
        elf, _how = BP.kernel_elf(f.read())
    data, _desc = BP.build(elf, initrd, cmdline)
    path = os.path.join(out, f"{xen}-{c.name}.cpio")
    with open(path, "wb") as f:
        f.write(data)
    return dataclasses.replace(c, ramdisk=path, args="", order=(c.order or []) + order, **extra)


def resolve_linux(xen, c):
    """kernel "@linux": the rig's self-test domU, Debian's own kernel with a busybox
    initramfs that prints SUCCESS (build_dom0.linux_domu), unless a ramdisk is given."""
    if c.kernel != LINUX:
        return c
    kernel, initrd = build_dom0.linux_domu(xen)
    return dataclasses.replace(c, kernel=kernel, ramdisk=c.ramdisk or initrd,
                               args=c.args or "console=hvc0 quiet")


def load_cases(path):
    with open(path) as f:
        data = json.load(f)
    if isinstance(data, dict):
        data = data.get("cases", [])
    fields = {f.name for f in dataclasses.fields(Case)}
    out = []
    for i, d in enumerate(data):
        unknown = set(d) - fields
        if unknown:
            raise RigError(f"{path}: case {i}: unknown keys {sorted(unknown)}")
        d = dict(d)
        d.setdefault("name", f"case{i + 1}")
        if isinstance(d.get("expect"), str):
            d["expect"] = [d["expect"]]
        for k in ("kernel", "ramdisk"):
            if d.get(k) and d[k] != LINUX and not os.path.isabs(d[k]):
                d[k] = os.path.join(os.path.dirname(os.path.abspath(path)), d[k]) \
                    if not os.path.exists(d[k]) else d[k]
        out.append(Case(**d))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="exit: 0 SUCCESS, 3 SKIP, 4 ERROR, 5 FAILURE, 6 CRASH "
                                        "(worst case wins), 2 rig error")
    ap.add_argument("--xen", choices=("4.17", "4.20"), default="4.17")
    ap.add_argument("--kernel", help=f"PV kernel booted as the domU ({LINUX}: Debian's Linux "
                                     f"with a busybox initramfs that says SUCCESS)")
    ap.add_argument("--ramdisk", help="the domU's ramdisk (raw or gzip)")
    ap.add_argument("--mem", type=int, default=256, help="domU memory, MiB (default 256)")
    ap.add_argument("--maxmem", type=int, help="domU maxmem, MiB")
    ap.add_argument("--vcpus", type=int, default=1)
    ap.add_argument("--type", choices=("pv", "pvh"), default="pv",
                    help="xl type= (pvh: the PVH shim, make PLATFORM=pvh)")
    ap.add_argument("--args", default="", help="domU command line (xl extra=)")
    ap.add_argument("--timeout", type=float, help="seconds from xl create done to the result")
    ap.add_argument("--name", default=None, help="case name (default: the kernel's file name)")
    ap.add_argument("--cases", help="JSON list of cases to run in one dom0 boot")
    ap.add_argument("--json-out", help="write the per-case results here")
    ap.add_argument("--log", help="serial log (default build/domu/run-xenVER.log)")
    ap.add_argument("--xen-args", default="", help="extra Xen command-line options "
                                                   "(e.g. pv-linear-pt=false)")
    ap.add_argument("--quiet", action="store_true", help="no live serial output")
    ap.add_argument("--verbose", action="store_true", help="live serial output including "
                                                          "`xl -vvv create` (@@XL lines)")
    o = ap.parse_args()

    if bool(o.kernel) == bool(o.cases):
        ap.error(f"give either --kernel (one case; {LINUX} for the self-test) or --cases FILE")

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGHUP, stop)

    def echo(line):
        if line.startswith("@@XL ") and not o.verbose:
            return
        sys.stdout.write(line + "\n")
        sys.stdout.flush()

    try:
        if o.cases:
            cases = load_cases(o.cases)
        else:
            cases = [Case(o.name or os.path.basename(o.kernel), o.kernel, o.ramdisk, o.mem,
                          o.maxmem, o.vcpus, o.args, o.timeout, type=o.type)]
        rr = run_cases(o.xen, cases, None if o.quiet else echo, o.log, xen_args=o.xen_args)
    except (RigError, build_dom0.BuildError, boot.RigError) as e:
        print(f"domu: rig error: {e}", file=sys.stderr)
        return RIG_ERROR
    except KeyboardInterrupt:
        return 130
    ready = ", ".join(f"{t:.1f}s" for t in rr.t_dom0_ready)
    print(f"domu: xen {o.xen}: dom0 ready at {ready} after QEMU start "
          f"({rr.boots} boot{'s' if rr.boots != 1 else ''}, {rr.t_total:.1f}s total)")
    for r in rr.cases:
        mark = "" if r.passed is None else (" [expected]" if r.passed else " [UNEXPECTED]")
        print(f"domu: {r.summary()}{mark}")
        if r.ramdisk_host:
            seen = [ln for ln in r.guest_lines if ln.startswith("ramdisk:")]
            print(f"domu:   ramdisk host {r.ramdisk_host}; guest {seen[0] if seen else '-'}")
    if o.json_out:
        with open(o.json_out, "w") as f:
            json.dump({"xen": o.xen, "exit_code": rr.exit_code, "boots": rr.boots,
                       "t_dom0_ready": rr.t_dom0_ready, "t_total": rr.t_total,
                       "logs": rr.log_paths,
                       "cases": [dict(dataclasses.asdict(r),
                                      t_create_to_result=r.t_create_to_result,
                                      t_ready_to_result=r.t_ready_to_result) for r in rr.cases]},
                      f, indent=1)
    if rr.exit_code:
        print(f"domu: serial log: {', '.join(rr.log_paths)}")
    return rr.exit_code


if __name__ == "__main__":
    sys.exit(main())
