# SPDX-License-Identifier: MIT
"""domU boot time: `xl create` to the guest's first console output / result.

Uses the rig's domU machinery (rig/domu/): its Debian dom0 (build_dom0.build:
Debian's Linux, busybox, xen-utils, with rig/domu/init.sh as /init), its QEMU
and Xen command lines (rig/domu/run.py's constants, rig/boot.py's
qemu_command). What differs is the case loop: the bench appends an archive
with bench/domu-init.sh and boots dom0 with rdinit=/bench/init, which runs the
rig's toolstack bring-up (init.sh up to its case loop) and then times each
`xl create` from inside dom0 while it runs (see domu-init.sh for why).

    r = run_cases("4.17", [Case("shim", "build/shim/shim", end="result"), ...])
    r[i].status, .t_first, .t_result (seconds after `xl create` started), .guest_lines
"""
import dataclasses
import importlib.util
import os
import re
import selectors
import subprocess
import sys
import tempfile
import time

import save_image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DOMU = os.path.join(REPO, "rig", "domu")


class DomuError(Exception):
    pass


def _rig():
    """rig/domu/run.py as a module (its name clashes with bench/run.py)."""
    path = os.path.join(DOMU, "run.py")
    if not os.path.exists(path):
        raise DomuError("rig/domu/run.py is missing: the domU rig is not there")
    spec = importlib.util.spec_from_file_location("rig_domu_run", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def rig_available():
    """'' if rig/domu has what this needs, else what is missing."""
    need = ["run.py", "build_dom0.py", "init.sh"]
    missing = [n for n in need if not os.path.exists(os.path.join(DOMU, n))]
    if missing:
        return "rig/domu/" + ", ".join(missing) + " missing"
    with open(os.path.join(DOMU, "init.sh")) as f:
        if not re.search(r"^# -+ cases$", f.read(), re.M):
            return "rig/domu/init.sh has no '# ---- cases' line to cut its bring-up at"
    return ""


@dataclasses.dataclass
class Case:
    name: str
    kernel: str
    end: str = "result"             # "result": a Test result line; "first": any output;
                                    # "init": Linux's "Run /init as init process"
    mem: int = 256
    limit: int = 30                 # seconds to wait for the end
    linger: float = 0               # seconds to let the guest run on after the end
    args: str = ""
    ramdisk: str = ""
    marker: str = ""                # for end="result": the line that ends the case
    ops: tuple = ()                 # "migrate", "save", "restore": run in dom0 after the end
    back: str = ""                  # the line the guest prints once restored


@dataclasses.dataclass
class CaseResult:
    name: str
    status: str = "not-run"         # result, first, timeout, xl-failed, not-run
    rc: str = "-"
    t_create: float | None = None   # dom0 uptime when `xl create` started
    t_created: float | None = None  # seconds after t_create: xl create returned
    t_first: float | None = None    # seconds after t_create: first guest output
    t_result: float | None = None   # seconds after t_create: Test result line
    guest_lines: list = dataclasses.field(default_factory=list)
    xl_lines: list = dataclasses.field(default_factory=list)
    ops: dict = dataclasses.field(default_factory=dict)     # op -> (rc, seconds)
    t_restore: float | None = None  # dom0 uptime when `xl restore` started
    t_back: float | None = None     # seconds after the restore started: the guest's BACK line
    image: dict | None = None       # the save image, read by bench/save_image.py


CASE_END_RE = re.compile(r"^@@BENCH case-end (\d+) (.*)$")
OP_RE = re.compile(r"^@@BENCH op (\d+) (\S+) rc=(\d+) start=([0-9.]+) end=([0-9.]+)$")
BACK_RE = re.compile(r"^@@BENCH back (\d+) up=([0-9.]+|-)$")
TAG_RE = re.compile(r"^@@(BXL|BGUEST) (\d+)\| ?(.*)$")
KV_RE = re.compile(r"(\S+)=(\S*)")


def _cfg(cid, c, kernel_path, ramdisk_path=None):
    lines = ['type = "pv"', f'name = "bench-{cid}"', f'kernel = "{kernel_path}"',
             f"memory = {int(c.mem)}", "vcpus = 1",
             'on_poweroff = "destroy"', 'on_reboot = "destroy"', 'on_crash = "destroy"']
    if c.args:
        lines.append('extra = "%s"' % c.args.replace("\\", "\\\\").replace('"', '\\"'))
    if ramdisk_path:
        lines.append(f'ramdisk = "{ramdisk_path}"')
    return ("\n".join(lines) + "\n").encode()


def run_cases(xen, cases, log_path, echo=None, timeout=None, dom0_mib=None):
    """Boot the rig's dom0 once and run `cases` in order. Returns
    (list of CaseResult, dom0 kernel description, t_dom0_ready since QEMU start).
    dom0_mib: dom0's memory when the cases' files need more than the rig's (its initramfs
    holds them, and the initramfs's tmpfs may use half of dom0's memory)."""
    why = rig_available()
    if why:
        raise DomuError(why)
    rig = _rig()
    boot, build_dom0 = rig.boot, rig.build_dom0
    dom0_kernel, dom0_initrd = build_dom0.build(xen)

    c = build_dom0.Cpio()
    with open(os.path.join(HERE, "domu-init.sh"), "rb") as f:
        c.file("bench/init", f.read(), 0o755)
    files = {}
    ids = []
    for i, case in enumerate(cases):
        cid = f"{i + 1:02d}"
        ids.append(cid)
        for path in filter(None, (case.kernel, case.ramdisk)):
            k = os.path.abspath(path)
            if k not in files:
                files[k] = f"/bench/files/k{len(files)}-{os.path.basename(k)}"
                with open(k, "rb") as f:
                    c.file(files[k].lstrip("/"), f.read(), 0o644)
        c.file(f"bench/cases/{cid}/cfg", _cfg(cid, case, files[os.path.abspath(case.kernel)],
                                             files[os.path.abspath(case.ramdisk)] if case.ramdisk else None))
        name = re.sub(r"[^A-Za-z0-9_.:+-]", "_", case.name)
        env = f"NAME={name}\nEND={case.end}\nLIMIT={int(case.limit)}\nLINGER={case.linger:g}\n"
        for k, v in (("MARKER", case.marker), ("OPS", " ".join(case.ops)), ("BACK", case.back)):
            if v:
                env += f"{k}='{v}'\n"
        c.file(f"bench/cases/{cid}/env", env.encode())
    c.file("bench/cases/list", "".join(i + "\n" for i in ids).encode())

    results = [CaseResult(case.name) for case in cases]
    by_id = dict(zip(ids, results))
    with tempfile.TemporaryDirectory(prefix="bench-domu-") as tmp:
        initrd = os.path.join(tmp, "initrd.cpio")
        with open(initrd, "wb") as o, open(dom0_initrd, "rb") as f:
            o.write(f.read())
            o.write(b"\0" * (-o.tell() % 512))
            o.write(c.finish())
        d0 = dom0_mib or rig.DOM0_MIB
        # A live migration holds the guest twice: the sender's copy and the receiver's.
        copies = 2 if any("migrate" in case.ops for case in cases) else 1
        qemu_mib = d0 + copies * max(case.mem for case in cases) + rig.HEADROOM_MIB
        xen_cmdline = (f"console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all "
                       f"dom0_mem={d0}M,max:{d0}M dom0_max_vcpus=1")
        modules = (boot.module_arg(dom0_kernel, "dom0 kernel") + " " + rig.DOM0_ARGS +
                   " rdinit=/bench/init," + boot.module_arg(initrd, "dom0 initrd"))
        boot.ensure_qemu()
        cmd = boot.qemu_command(boot.fetch_xen(xen), modules, qemu_mib, xen_cmdline)
        # A save's image goes to a sparse scratch disk of its own, read here afterwards.
        scratch = {}
        for cid, case in zip(ids, cases):
            if "save" in case.ops:
                scratch[cid] = os.path.join(tmp, f"scratch{cid}.img")
                with open(scratch[cid], "wb") as f:
                    f.truncate((case.mem + 64) << 20)
                cmd += ["-drive", f"file={scratch[cid]},if=none,id=scratch{cid},format=raw",
                        "-device", f"virtio-blk-pci,drive=scratch{cid},serial=scratch{cid}"]
        if timeout is None:
            # domu-init.sh kills an xl command after 600 s.
            timeout = 180 + sum(case.limit + case.linger + 30 + 630 * len(case.ops) for case in cases)
        t0 = time.monotonic()
        t_ready = None
        done = fatal = None
        os.makedirs(os.path.dirname(os.path.abspath(log_path)), exist_ok=True)
        with open(log_path, "wb") as logf:
            logf.write(("# " + " ".join(cmd) + "\n").encode())
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, preexec_fn=boot.die_with_parent)
            try:
                sel = selectors.DefaultSelector()
                sel.register(proc.stdout.fileno(), selectors.EVENT_READ)
                buf = b""
                while True:
                    now = time.monotonic() - t0
                    end = timeout
                    if done is not None:
                        end = min(end, done + 2)
                    if fatal is not None:
                        end = min(end, fatal + 3)
                    if now >= end:
                        break
                    if not sel.select(end - now):
                        continue
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    if not chunk:
                        break
                    logf.write(chunk)
                    logf.flush()
                    *lines, buf = (buf + chunk).split(b"\n")
                    t = time.monotonic() - t0
                    for raw in lines:
                        line = raw.decode(errors="replace").rstrip("\r")
                        if echo:
                            echo(line)
                        if line.startswith("@@RIG dom0-ready"):
                            t_ready = t
                        elif line.startswith("@@RIG dom0-error") and fatal is None:
                            fatal = t
                            raise DomuError(f"dom0 bring-up failed: {line[10:]}; see {log_path}")
                        elif line.startswith("@@BENCH all-done"):
                            done = t
                        elif line.startswith("(XEN)") and rig.XEN_FATAL_RE.search(line) and fatal is None:
                            fatal = t
                        m = TAG_RE.match(line)
                        if m and m.group(2) in by_id:
                            r = by_id[m.group(2)]
                            text = m.group(3)
                            if m.group(1) == "BXL":
                                r.xl_lines.append(text)
                            else:
                                ts = rig.GUEST_TS_RE.match(text)
                                text = text[ts.end():] if ts else text
                                if text != "Logfile Opened":
                                    r.guest_lines.append(text)
                            continue
                        m = OP_RE.match(line)
                        if m and m.group(1) in by_id:
                            r = by_id[m.group(1)]
                            r.ops[m.group(2)] = (int(m.group(3)), round(float(m.group(5)) - float(m.group(4)), 3))
                            if m.group(2) == "restore":
                                r.t_restore = float(m.group(4))
                            continue
                        m = BACK_RE.match(line)
                        if m and m.group(1) in by_id and m.group(2) != "-":
                            r = by_id[m.group(1)]
                            r.t_back = round(float(m.group(2)) - r.t_restore, 3)
                            continue
                        m = CASE_END_RE.match(line)
                        if m and m.group(1) in by_id:
                            r = by_id[m.group(1)]
                            kv = dict(KV_RE.findall(m.group(2)))
                            r.status, r.rc = kv.get("status", "?"), kv.get("rc", "-")

                            def num(k):
                                v = kv.get(k, "-")
                                return float(v) if v not in ("-", "") else None
                            r.t_create = num("create")
                            for attr, k in (("t_created", "created"), ("t_first", "first"),
                                            ("t_result", "result")):
                                v = num(k)
                                setattr(r, attr, None if v is None or r.t_create is None
                                        else round(v - r.t_create, 3))
            finally:
                if proc.poll() is None:
                    proc.kill()
                proc.wait()
        for cid, path in scratch.items():
            r = by_id[cid]
            if r.ops.get("save", (1,))[0] == 0:
                r.image = save_image.read(path)
    if t_ready is None:
        raise DomuError(f"the rig's dom0 never became ready; see {log_path}")
    with open(os.path.join(os.path.dirname(dom0_kernel), "stamp")) as f:
        kline = [ln for ln in f.read().splitlines() if ln.startswith("kernel ")]
    return results, (kline[0][7:] if kline else os.path.basename(dom0_kernel)), t_ready
