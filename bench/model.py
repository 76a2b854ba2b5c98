# SPDX-License-Identifier: MIT
"""The shim's bring-up on the host model (tests/model), 1 GiB to 1 TiB.

Builds bench/model_bench.c against the model and the shim's own sources (the
lists are read from tests/model/Makefile, SHIM_SRCS, SHIM_ASM and MODEL_SRCS, so they
stay those the model suite uses), -O2 without sanitizers, into
cache/bench/model/, then runs one process per guest size.

    model.available()        '' or why not
    model.build()            path of the binary
    model.run(gib, init_p2m) dict: boot, phases (list of dicts), baseline, maxrss_kib
"""
import os
import re
import subprocess
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MODEL = os.path.join(REPO, "tests", "model")
OUT = os.path.join(REPO, "cache", "bench", "model")
WRAPS = ("plat_tsc", "plat_write64", "plat_read64", "plat_zero_page")


class ModelError(Exception):
    pass


def _lists():
    with open(os.path.join(MODEL, "Makefile")) as f:
        text = f.read().replace("\\\n", " ")        # continuation lines
    out = {}
    for key in ("SHIM_SRCS", "SHIM_ASM", "MODEL_SRCS"):
        m = re.search(rf"^{key}\s*:?=\s*(.*)$", text, re.M)
        if not m:
            raise ModelError(f"tests/model/Makefile has no {key}")
        out[key] = m.group(1).split()
    return out["SHIM_SRCS"], out["SHIM_ASM"], out["MODEL_SRCS"]


def available():
    if not os.path.isdir(MODEL):
        return "tests/model/ is missing"
    for n in ("Makefile", "driver.c", "driver.h"):
        if not os.path.exists(os.path.join(MODEL, n)):
            return f"tests/model/{n} is missing"
    with open(os.path.join(MODEL, "driver.h")) as f:
        if "int drive(" not in f.read():
            return "tests/model/driver.h exposes no drive()"
    try:
        _lists()
    except ModelError as e:
        return str(e)
    return ""


def build():
    shim_srcs, shim_asm, model_srcs = _lists()
    srcs = [os.path.join(REPO, "shim", s + ".c") for s in shim_srcs] + \
           [os.path.join(REPO, "shim", s + ".S") for s in shim_asm] + \
           [os.path.join(MODEL, s + ".c") for s in model_srcs] + [os.path.join(HERE, "model_bench.c")]
    exe = os.path.join(OUT, "model_bench")
    flags = ["-std=gnu11", "-O2", "-DSHIM_HOSTED", "-I" + os.path.join(REPO, "shim"), "-I" + MODEL,
             "-I" + os.path.join(REPO, "tests", "unit"), "-Wall", "-Wextra"]
    deps = srcs + [os.path.join(d, n) for top in (os.path.join(REPO, "shim"), MODEL)
                   for d, _, names in os.walk(top) for n in names if n.endswith(".h")]
    if os.path.exists(exe) and all(os.path.getmtime(d) <= os.path.getmtime(exe) for d in deps):
        return exe
    os.makedirs(OUT, exist_ok=True)
    objs = []
    for s in srcs:
        o = os.path.join(OUT, os.path.basename(os.path.dirname(s)) + "-" +
                         os.path.basename(s)[:-2] + ("-S" if s.endswith(".S") else "") + ".o")
        # The hand-off's trampoline is copied into guest memory: its bytes are linked in.
        how = ["-D__ASSEMBLY__", "-I" + os.path.join(REPO, "shim"), "-Wa,--noexecstack"] \
            if s.endswith(".S") else flags
        p = subprocess.run(["gcc", *how, "-c", s, "-o", o], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        if p.returncode:
            raise ModelError(f"compiling {os.path.relpath(s, REPO)} failed:\n{p.stdout[-2000:]}")
        objs.append(o)
    wrap = "-Wl," + ",".join(f"--wrap={w}" for w in WRAPS)
    p = subprocess.run(["gcc", "-o", exe + ".tmp", *objs, wrap], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if p.returncode:
        raise ModelError(f"linking model_bench failed:\n{p.stdout[-2000:]}")
    os.replace(exe + ".tmp", exe)
    return exe


KV = re.compile(r'(\w+)=("[^"]*"|\S+)')


def _val(v):
    v = v.strip('"')
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def run(gib, init_p2m=False, exe=None, timeout=3600):
    exe = exe or build()
    cmd = [exe, str(gib)] + (["p2m"] if init_p2m else [])
    # stderr into the same pipe (the binary prints little); wait4 for this child's own peak RSS.
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    timer = threading.Timer(timeout, p.kill)
    timer.start()
    try:
        stdout = p.stdout.read()
    finally:
        _, status, usage = os.wait4(p.pid, 0)
        timer.cancel()
    p.returncode = os.waitstatus_to_exitcode(status)
    stderr = "\n".join(ln for ln in stdout.splitlines()
                       if not ln.startswith(("boot ", "phase ", "baseline ", "error ")))
    res = {"boot": {}, "phases": [], "baseline": {}, "error": None, "maxrss_kib": None}
    for line in stdout.splitlines():
        kind, _, rest = line.partition(" ")
        kv = {k: _val(v) for k, v in KV.findall(rest)}
        if kind == "boot":
            res["boot"] = kv
        elif kind == "phase":
            res["phases"].append(kv)
        elif kind == "baseline":
            res["baseline"] = kv
        elif kind == "error":
            res["error"] = kv.get("msg")
    res["maxrss_kib"] = usage.ru_maxrss
    if res["boot"].get("outcome") == "builder-refused":
        res["refused"] = res["boot"].get("msg", "")
        return res
    if p.returncode and not res["error"]:
        res["error"] = f"exit {p.returncode}: {stderr.strip()[-300:]}"
    return res
