#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Show that the unit tests can fail: seed one bug at a time into a copy of
a shim source file (never the file itself), rebuild the test that covers it
against the copy, and check that the test now reports a failure it did not
report on the real source (a "killed" mutant).  A mutant whose text no
longer occurs in the source is reported as stale, not as a pass.

    make -C tests/unit mutants
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

# (test, shim file, text to replace, replacement, what the bug is)
MUTANTS = [
    # console_ring.c
    ("test_console_ring", "lib/console_ring.c", "prod - cons < sizeof(intf->out)",
     "prod - cons <= sizeof(intf->out)", "overfills the ring by one byte"),
    ("test_console_ring", "lib/console_ring.c", "MASK_XENCONS_IDX(prod++, intf->out)",
     "MASK_XENCONS_IDX(prod++, intf->in)", "masks with the in ring's size"),
    ("test_console_ring", "lib/console_ring.c", "return prod - cons;", "return cons - prod;",
     "pending the wrong way round"),
    ("test_console_ring", "lib/console_ring.c", "XENCONS_RING_IDX cons, prod;",
     "unsigned long cons, prod;", "64-bit indices (no 32-bit wrap)"),
    ("test_console_ring", "lib/console_ring.c", "&intf->out_prod = prod;",
     "&intf->out_prod = prod - (prod != cons);", "publishes one byte short"),
    ("test_console_ring", "lib/console_ring.c", "while (sent < len &&", "while (sent <= len &&",
     "takes one byte more than asked"),
    ("test_console_ring", "lib/console_ring.c", "prod = intf->out_prod;", "prod = cons;",
     "restarts at the consumer, overwriting pending bytes"),
    # xxhash.c
    ("test_xxhash", "lib/xxhash.c", "h = rotl(h, 27) * P1 + P4;", "h = rotl(h, 27) * P1 + P3;",
     "wrong prime in the 8-byte tail"),
    ("test_xxhash", "lib/xxhash.c", "if (p + 4 <= end)", "if (p + 4 < end)",
     "skips a 4-byte tail that ends the input"),
    ("test_xxhash", "lib/xxhash.c", "if (st->total_len >= 32)", "if (st->total_len > 32)",
     "short path for exactly 32 bytes"),
    ("test_xxhash", "lib/xxhash.c", "stripe(st->v, st->buf);", "stripe(st->v, p - 32);",
     "streaming hashes the wrong buffered stripe"),
    ("test_xxhash", "lib/xxhash.c", "h ^= h >> 29;", "h ^= h >> 28;", "wrong avalanche shift"),
    ("test_xxhash", "lib/xxhash.c", "st->v[3] = seed - P1;", "st->v[3] = seed + P1;",
     "wrong lane 4 initialisation"),
    ("test_xxhash", "lib/xxhash.c", "for (; p < end; p++) {", "for (; p + 1 < end; p++) {",
     "drops the last tail byte"),
    # format.c
    ("test_format", "lib/format.c", "if (o->len + 1 < o->size)", "if (o->len <= o->size)",
     "writes one byte past the buffer"),
    ("test_format", "lib/format.c", "buf[o.len < size ? o.len : size - 1] = '\\0';",
     "buf[o.len < size ? o.len : size - 2] = '\\0';", "truncates one byte early"),
    ("test_format", "lib/format.c", "v < 0, 10, width", "false, 10, width", "loses the minus sign"),
    ("test_format", "lib/format.c", "if (pad == '0') {", "if (pad == '1') {",
     "zero padding before the minus sign"),
    ("test_format", "lib/format.c", "            put(o, ' ');", "            put(o, pad);",
     "'-0' pads with zeros on the right"),
    ("test_format", "lib/format.c", "long long v = lng ? va_arg(ap, long) : va_arg(ap, int);",
     "long long v = va_arg(ap, int);", "ignores 'l' for %d"),
    ("test_format", "lib/format.c", "\"0123456789abcdef\"", "\"0123456789ABCDEF\"",
     "upper-case hex"),
    ("test_format", "lib/format.c", "    if (size)\n        buf[", "    if (1)\n        buf[",
     "writes to the buffer when size is 0"),
    ("test_format", "lib/format.c", "width = width * 10 +", "width = width * 8 +",
     "misreads multi-digit widths"),
    ("test_format", "lib/format.c", "put_padded(&o, s, strlen(s), width, left, ' ');",
     "put_padded(&o, s, strlen(s), width, !left, ' ');", "%s justification flipped"),
    # start_info.c
    ("test_start_info", "pv/start_info.c", "return va >= lo && va <= hi && size <= hi - va;",
     "return va >= lo && va + size <= hi;", "range check that overflows"),
    ("test_start_info", "pv/start_info.c", "return va >= lo && va <= hi && size <= hi - va;",
     "return va >= lo && size <= hi - va;", "range check without va <= hi"),
    ("test_start_info", "pv/start_info.c", "return va >= lo && va <= hi && size <= hi - va;",
     "return va + 1 >= lo + 1 && va <= hi && size <= hi - va + 1;",
     "range one byte too long"),
    ("test_start_info", "pv/start_info.c", "if (b->mapped_end <= b->image_end ||",
     "if (b->mapped_end < b->image_end ||", "stack top may equal the image end"),
    ("test_start_info", "pv/start_info.c", "if (!range_within(b->si_va,", "if (0 && !range_within(b->si_va,",
     "start_info's own address unchecked"),
    ("test_start_info", "pv/start_info.c", "== sizeof(si->magic))", "== sizeof(si->magic) + 1)",
     "magic NUL check dropped"),
    ("test_start_info", "pv/start_info.c", "\"xen-3.0-x86_64\", 14)", "\"xen-3.0-x86_64\", 4)",
     "magic compared on 4 characters"),
    ("test_start_info", "pv/start_info.c", "if (si->nr_pages < mapped_pages)",
     "if (si->nr_pages < mapped_pages - 1)", "nr_pages one short accepted"),
    ("test_start_info", "pv/start_info.c", "if (si->nr_pages > SI_MAX_PAGES)",
     "if (si->nr_pages > SI_MAX_PAGES + 1)", "nr_pages one over the M2P accepted"),
    ("test_start_info", "pv/start_info.c", "if (!si->shared_info || (si->shared_info & ~PAGE_MASK))",
     "if (si->shared_info & 7)", "shared_info 0 or in-page offset accepted"),
    ("test_start_info", "pv/start_info.c", "if (si->pt_base & ~PAGE_MASK)", "if (si->pt_base & 7)",
     "pt_base alignment to 8 only"),
    ("test_start_info", "pv/start_info.c", "if (si->nr_pt_frames < 4)", "if (si->nr_pt_frames < 3)",
     "3 page-table frames accepted"),
    ("test_start_info", "pv/start_info.c", "if (si->nr_pt_frames > mapped_pages)",
     "if (si->nr_pt_frames > mapped_pages + 1)", "page tables larger than the mapping"),
    ("test_start_info", "pv/start_info.c", "if (!check_region(\"pt_base\"",
     "if (0 && !check_region(\"pt_base\"", "pt_base region unchecked"),
    ("test_start_info", "pv/start_info.c", "if (si->mfn_list & 7)", "if (si->mfn_list & 3)",
     "mfn_list 4-byte aligned accepted"),
    ("test_start_info", "pv/start_info.c", "if (b->init_p2m_va && si->mfn_list == b->init_p2m_va)",
     "if (si->mfn_list == b->init_p2m_va)", "INIT_P2M exemption without the note"),
    ("test_start_info", "pv/start_info.c", "if (b->init_p2m_va && si->mfn_list == b->init_p2m_va)",
     "if (b->init_p2m_va && si->mfn_list - b->init_p2m_va < 4096)",
     "INIT_P2M exemption for nearby addresses"),
    ("test_start_info", "pv/start_info.c", "si->nr_pages * sizeof(xen_pfn_t)",
     "si->nr_pages * sizeof(uint32_t)", "p2m list size halved"),
    ("test_start_info", "pv/start_info.c", "if (si->mod_start >= si->nr_pages ||",
     "if (", "pfn ramdisk start not bounded"),
    ("test_start_info", "pv/start_info.c", "pages > si->nr_pages - si->mod_start",
     "pages > si->nr_pages - si->mod_start + 1", "pfn ramdisk one page past nr_pages"),
    ("test_start_info", "pv/start_info.c", "if (si->mod_start < mapped_pages)",
     "if (si->mod_start < mapped_pages - 1)", "pfn ramdisk on the last mapped pfn"),
    ("test_start_info", "pv/start_info.c", "if (si->mod_start & ~PAGE_MASK)", "if (0)",
     "mapped ramdisk alignment unchecked"),
    ("test_start_info", "pv/start_info.c", "if (!check_region(\"mod_start\"",
     "if (0 && !check_region(\"mod_start\"", "mapped ramdisk region unchecked"),
    ("test_start_info", "pv/start_info.c", "MAX_GUEST_CMDLINE) == MAX_GUEST_CMDLINE)",
     "MAX_GUEST_CMDLINE) > MAX_GUEST_CMDLINE)", "cmd_line NUL check dropped"),
    ("test_start_info", "pv/start_info.c", "if (!si->console.domU.mfn)", "if (0)",
     "console mfn 0 accepted"),
    ("test_start_info", "pv/start_info.c", "if (!si->console.domU.evtchn)", "if (0)",
     "console evtchn 0 accepted"),
    ("test_start_info", "pv/start_info.c", "if (pfn >= mapped_pages)", "if (pfn > mapped_pages)",
     "console one page past the mapping"),
    ("test_start_info", "pv/start_info.c", "} else if (!(si->flags & SIF_PRIVILEGED)) {",
     "} else if (0) {", "INITDOMAIN without PRIVILEGED accepted"),
    ("test_start_info", "pv/start_info.c", "if (!(si->flags & SIF_INITDOMAIN)) {",
     "if (!(si->flags & SIF_PRIVILEGED)) {", "dom0 told apart by the wrong flag"),
]

FAIL_LINE = re.compile(r"^FAIL ")
SUMMARY = re.compile(r"^(\S+): (\d+) passed, (\d+) failed$")


def build(cc, cflags, shim_dir, test_src, shim_srcs, out):
    cmd = [cc] + cflags + ["-I" + shim_dir, "-o", out, test_src] + \
          [os.path.join(shim_dir, s) for s in shim_srcs]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return proc.returncode == 0, proc.stdout.decode(errors="replace")


def run(path):
    env = dict(os.environ, UNIT_VERBOSE="0")
    try:
        proc = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=env, timeout=300)
    except subprocess.TimeoutExpired:
        return None, set()
    out = proc.stdout.decode(errors="replace").splitlines()
    fails = {line for line in out if FAIL_LINE.match(line)}
    crashed = proc.returncode != 0 and not any(SUMMARY.match(line) for line in out)
    return ("crash" if crashed or proc.returncode < 0 else proc.returncode), fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cc", default="gcc")
    ap.add_argument("--cflags", required=True)
    ap.add_argument("--shim", required=True)
    ap.add_argument("--tests", required=True, help="directory of the test sources")
    ap.add_argument("--out", required=True)
    ap.add_argument("--sources", required=True,
                    help="test=src.c,src.c;... the shim files each test links")
    args = ap.parse_args()
    cflags = [f for f in args.cflags.split() if not f.startswith("-I" + args.shim)]
    sources = {}
    for item in filter(str.strip, args.sources.split(";")):
        name, files = item.strip().split("=")
        sources[name] = files.split(",")

    os.makedirs(args.out, exist_ok=True)
    baseline = {}
    for test in sorted({m[0] for m in MUTANTS}):
        exe = os.path.join(args.out, test + ".orig")
        ok, log = build(args.cc, cflags, args.shim, os.path.join(args.tests, test + ".c"),
                        sources[test], exe)
        if not ok:
            print(log)
            print("cannot build %s against the real shim sources" % test)
            return 1
        baseline[test] = run(exe)[1]

    killed = survived = stale = 0
    for i, (test, fname, old, new, what) in enumerate(MUTANTS):
        with open(os.path.join(args.shim, fname)) as f:
            text = f.read()
        label = "mutant %2d %-18s %-14s %s" % (i, test, fname, what)
        if text.count(old) != 1:
            print("STALE    %s: text found %d times" % (label, text.count(old)))
            stale += 1
            continue
        mdir = os.path.join(args.out, "m%02d" % i)
        shutil.rmtree(mdir, ignore_errors=True)
        shutil.copytree(args.shim, mdir)
        with open(os.path.join(mdir, fname), "w") as f:
            f.write(text.replace(old, new))
        exe = os.path.join(mdir, test)
        ok, log = build(args.cc, cflags, mdir, os.path.join(args.tests, test + ".c"),
                        sources[test], exe)
        if not ok:
            print("STALE    %s: does not compile" % label)
            stale += 1
            continue
        status, fails = run(exe)
        new_fails = fails - baseline[test]
        if status in (None, "crash") or new_fails:
            why = "crashed" if status in (None, "crash") else "%d new failures" % len(new_fails)
            print("killed   %s (%s)" % (label, why))
            killed += 1
        else:
            print("SURVIVED %s" % label)
            survived += 1
        shutil.rmtree(mdir, ignore_errors=True)
    print("mutants: %d killed, %d survived, %d stale" % (killed, survived, stale))
    return 1 if survived or stale else 0


if __name__ == "__main__":
    sys.exit(main())
