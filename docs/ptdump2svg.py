#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Draw the shim's virtual layout, as a boot log reports it, into an SVG.

    docs/ptdump2svg.py LOG -o OUT.svg [--kernel build/shim/shim] [--layout shim/pv/layout.h]
                       [--title TEXT]

LOG is a serial log from rig/boot.py of a boot with the guest command line
`ptdump` (make run ARGS=ptdump).  What is read from it:

  ptdump: <kernel|user> <start>-<end> <size> <RW|ro> <USR|   > <NX|x > pte
  ptdump: <kernel|user> <start>-<end> 8T xen (L4 slots 256-271, Xen's)
  shim: / start_info: / mmu: / p2m: lines (nr_pages, ramdisk, initial mapping,
                                           page-table buffer, module space)
  (XEN)  VIRTUAL MEMORY ARRANGEMENT      (what Xen put where in the initial mapping)

What the log does not print (PAGE_OFFSET, P2M_VADDR, the fixmap, MODULES_END)
comes from shim/pv/layout.h; the module space actually used comes from the log's
`mmu: module space A-B` line when there is one.  --kernel (the ELF that
booted) names a few symbols of the image (text, fill_window, boot_stack); it
is ignored if its _end is not the image end the log reports.

The picture has two columns with the same rows: the kernel L4's view and the
user L4's view.  Heights are not proportional to sizes: a range gets 16 px
plus 2.4 px per doubling beyond 4 KiB, so that a 4 KiB fixmap page and 8 TiB
of Xen's slots are both readable.  A run of many tiny ranges of one area
(pages freed and reused with other flags) is drawn as one striped band.
Python 3 standard library only.
"""
import argparse
import html
import math
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = 1 << 64
L2_KERNEL_TOP = 0xffffffffc0000000      # level3_kernel[511] -> level2_fixmap from here
L4_511 = 0xffffff8000000000

# ----------------------------------------------------------------- layout.h


def read_layout(path):
    """The #defines and fixmap indices of shim/pv/layout.h that the picture needs."""
    c = {
        "PAGE_OFFSET": 0xffff888000000000,
        "PAGE_OFFSET_SLOT": 273,
        "KERNEL_MAP_BASE": 0xffffffff80000000,
        "CONFIG_KERNEL_IMAGE_SIZE": 512 << 20,
        "MODULES_END": 0xffffffffff000000,
        "FIXADDR_TOP": 0xffffffffff600000,
        "FIXMAP_L2_SLOT": 506,
        "XEN_FIRST_SLOT": 256,
        "XEN_LAST_SLOT": 271,
        "fixed_addresses": ["FIX_SHARED_INFO"],
    }
    if not path or not os.path.exists(path):
        return c
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r"^#define\s+(\w+)\s+\(?\s*(0x[0-9a-fA-F]+|\d+)UL?\b(?:\s*<<\s*(\d+))?", text, re.M):
        v = int(m.group(2), 0)
        if m.group(3):
            v <<= int(m.group(3))
        c[m.group(1)] = v
    m = re.search(r"enum\s+fixed_addresses\s*{(.*?)}", text, re.S)
    if m:
        body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
        c["fixed_addresses"] = [n.strip() for n in body.split(",")
                                if n.strip() and not n.strip().startswith("__")]
    return c


# ------------------------------------------------------------------ the log

PREFIX = re.compile(r"^(?:\(XEN\) |\(d\d+\) )")
PTDUMP = re.compile(r"ptdump:\s+(kernel|user)\s+(0x[0-9a-fA-F]+)-(0x[0-9a-fA-F]+)\s+\d+[KMGT]\s+(.*?)\s*$")
XEN_VMA = re.compile(r"^\s*(Loaded kernel|Init\. ramdisk|Phys-Mach map|Start info|Page tables|"
                     r"Boot stack|TOTAL|Xenstore ring|Console ring):\s+([0-9a-f]{16})->([0-9a-f]{16})")
SUMMARY = re.compile(r"(start_info: (magic|pt_base|ramdisk)|mmu: (boot tables|discover|build|switch|reclaim|"
                     r"cleanup|pgtbuf|p2m|usermode|modules|balloon) |p2m: (pages|tools))")


class Log:
    def __init__(self, path):
        self.ranges = {"kernel": [], "user": []}   # (start, end, kind, flags); kind: pte | xen
        self.xen_vma = []                          # (name, start, end)
        self.lines = []                            # the shim's summary lines
        self.xen_version = self.result = self.domain = None
        self.nr_pages = self.mapped_pages = self.virt_base = self.image = None
        self.pgtbuf_used = self.modules = self.ramdisk = None
        self.boot_list_freed = False
        in_vma = False
        for raw in open(path, encoding="utf-8", errors="replace"):
            raw = raw.rstrip("\r\n")
            line = PREFIX.sub("", raw)
            if raw.startswith("(XEN)"):
                if "VIRTUAL MEMORY ARRANGEMENT" in line:
                    in_vma = True
                    continue
                m = XEN_VMA.match(line)
                if in_vma and m:
                    self.xen_vma.append((m.group(1), int(m.group(2), 16), int(m.group(3), 16)))
                    continue
                in_vma = False
            m = PTDUMP.match(line)
            if m:
                start, end, rest = int(m.group(2), 16), int(m.group(3), 16), m.group(4)
                if rest.startswith("xen"):
                    self.ranges[m.group(1)].append((start, end, "xen", ""))
                else:
                    flags = ("RW" if rest.startswith("RW") else "ro") + (" USR" if "USR" in rest else "") \
                        + (" NX" if "NX" in rest else " x")
                    self.ranges[m.group(1)].append((start, end, "pte", flags))
                continue
            if SUMMARY.match(line):
                self.lines.append(line)
            m = re.match(r"shim: Xen (\S+), (\w+), image (0x[0-9a-f]+)-(0x[0-9a-f]+)", line)
            if m:
                self.xen_version, self.domain = m.group(1), m.group(2)
                self.image = (int(m.group(3), 16), int(m.group(4), 16))
                self.virt_base = self.image[0]
            m = re.match(r"start_info: magic=\S+ nr_pages=(\d+)", line)
            if m:
                self.nr_pages = int(m.group(1))
            m = re.match(r"start_info: ramdisk (pfn|va) (0x[0-9a-f]+) mod_len=(\d+)", line)
            if m:
                self.ramdisk = (m.group(1), int(m.group(2), 16), int(m.group(3)))
            m = re.match(r"mmu: boot tables .* initial mapping (\d+) pages", line)
            if m:
                self.mapped_pages = int(m.group(1))
            m = re.match(r"mmu: pgtbuf used=(\d+)", line)
            if m:
                self.pgtbuf_used = int(m.group(1))
            m = re.match(r"mmu: module space (0x[0-9a-f]+)-(0x[0-9a-f]+): (\d+) slots", line)
            if m:
                self.modules = (int(m.group(1), 16), int(m.group(2), 16), int(m.group(3)))
            if re.match(r"p2m: .*\(boot list: [1-9]\d* pages freed\)", line):
                self.boot_list_freed = True
            m = re.match(r"Test result: (.*)", line)
            if m:
                self.result = m.group(1)


# ------------------------------------------------------------- ELF symbols


def elf_symbols(path, names):
    """{name: (value, size)} for the wanted symbols of an ELF64 little-endian file."""
    out = {}
    try:
        data = open(path, "rb").read()
    except OSError:
        return out
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return out
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum = struct.unpack_from("<HH", data, 0x3a)
    secs = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize) for i in range(shnum)]
    for s in secs:
        if s[1] != 2:                           # SHT_SYMTAB
            continue
        strtab = secs[s[6]]
        for off in range(s[4], s[4] + s[5], 24):
            st_name, _info, _other, _shndx, value, size = struct.unpack_from("<IBBHQQ", data, off)
            start = strtab[4] + st_name
            name = data[start:data.index(b"\0", start)].decode()
            if name in names:
                out[name] = (value, size)
    return out


# --------------------------------------------------------------- the model


def size_str(n):
    """4K, 2M, 8T; 1.5M or 512.0G when not a whole number of the largest unit."""
    units = [(u, s) for u, s in (("T", 40), ("G", 30), ("M", 20), ("K", 10)) if n >= 1 << s]
    for unit, shift in units:
        if n % (1 << shift) == 0 and n >> shift < 10000:
            return f"{n >> shift}{unit}"
    if units:
        unit, shift = units[0]
        return f"{n / (1 << shift):.1f}{unit}"
    return f"{n}B"


def hexa(v):
    return f"{v % TOP:016x}"


def pg(v):
    return v & ~0xfff


def pg_up(v):
    return (v + 0xfff) & ~0xfff


class Row:
    """One horizontal band of the picture: an address range both columns show."""

    def __init__(self, start, end, name, sub="", kind="region", note=None):
        self.start, self.end, self.name, self.sub, self.kind, self.note = start, end, name, sub, kind, note
        self.pieces = {"kernel": [], "user": []}
        self.y = self.h = 0


def describe_gap(s, e, L):
    """Which table slots an unused range is, e.g. 'L4[274..399]' or 'level2_fixmap[504..505]'."""
    if s >= L2_KERNEL_TOP:
        a, b = (s - L2_KERNEL_TOP) >> 21, ((e - L2_KERNEL_TOP) >> 21) - 1
        return f"level2_fixmap[{a}..{b}]" if b > a else f"level2_fixmap[{a}]"
    if s >= L4_511:
        a, b = (s >> 30) & 511, ((e - 1) >> 30) & 511
        return f"L4[511] -> level3_kernel[{a}..{b}]"
    a, b = (s >> 39) & 511, ((e - 1) >> 39) & 511
    parts = []
    if s & ((1 << 39) - 1):
        parts.append(f"rest of L4[{a}]")
        a += 1
    if b > a:
        parts.append(f"L4[{a}..{b}]")
    elif b == a:
        parts.append(f"L4[{a}]")
    return ", ".join(parts)


def build_rows(log, L):
    po, kmap = L["PAGE_OFFSET"], L["KERNEL_MAP_BASE"]
    mod_start, mod_end = kmap + L["CONFIG_KERNEL_IMAGE_SIZE"], L["MODULES_END"]
    mod_slots = None
    if log.modules:
        mod_start, mod_end, mod_slots = log.modules
    fix_l2 = L2_KERNEL_TOP + (L["FIXMAP_L2_SLOT"] << 21)
    ram = (log.nr_pages or 0) << 12
    dmap_end = po + max((ram + (2 << 20) - 1) & ~((2 << 20) - 1), 2 << 20)
    xen_lo = (L["XEN_FIRST_SLOT"] << 39) | 0xffff000000000000
    xen_hi = ((L["XEN_LAST_SLOT"] + 1) << 39) | 0xffff000000000000

    def l2_span(a, b):
        if a < L2_KERNEL_TOP:
            return (f"level2_kernel[{(a - kmap) >> 21}..511] + "
                    f"level2_fixmap[0..{((b - L2_KERNEL_TOP) >> 21) - 1}]")
        return f"level2_fixmap[{(a - L2_KERNEL_TOP) >> 21}..{((b - L2_KERNEL_TOP) >> 21) - 1}]"

    note = "empty: every PTE none"
    if mod_slots:
        note += f" (all {mod_slots} 2M slots were mapped, written, read back, unmapped)"
    known = [
        Row(0, 1 << 47, "user space", "L4[0..255]: the only slots a user L4 holds"),
        Row(1 << 47, xen_lo, "non-canonical hole", kind="hole"),
        Row(xen_lo, xen_hi, "Xen's slots", f"L4[{L['XEN_FIRST_SLOT']}..{L['XEN_LAST_SLOT']}]: M2P (RO), "
            "linear map, per-domain...; Xen fills them at pin time", kind="xen"),
        Row(po, dmap_end, "direct map (PAGE_OFFSET)",
            f"L4[{(po >> 39) & 511}] -> level3_ident -> level2_ident -> L1s: all {size_str(ram)} of RAM"),
        Row(kmap, mod_start, "kernel map", "level3_kernel[510] -> level2_kernel, Xen's boot L1s grafted"),
        Row(mod_start, mod_end, "module space", l2_span(mod_start, mod_end), kind="modules", note=note),
        Row(fix_l2, fix_l2 + (2 << 20), "fixmap", f"level2_fixmap[{L['FIXMAP_L2_SLOT']}] -> level1_fixmap, "
            "growing down from FIXADDR_TOP"),
    ]
    if "P2M_VADDR" in L:
        p = L["P2M_VADDR"]
        known.append(Row(p, p + (1 << 39), "p2m list (P2M_VADDR)",
                         f"L4[{(p >> 39) & 511}] -> p2m L3 -> L2s -> L1s -> leaves; every slot filled",
                         kind="p2m"))
    known.sort(key=lambda r: r.start)
    rows, pos = [], 0
    for r in known:
        if r.start > pos:
            rows.append(Row(pos, r.start, "unused", describe_gap(pos, r.start, L), kind="gap"))
        rows.append(r)
        pos = r.end
    if pos < TOP:
        rows.append(Row(pos, TOP, "unused", describe_gap(pos, TOP, L), kind="gap"))
    return rows


def annotations(log, L, syms):
    """(start, end, label) in virtual addresses, for the kernel column."""
    ann = []
    vb = log.virt_base
    p2m_label = "builder's p2m list (start_info.mfn_list)"
    if log.boot_list_freed:
        p2m_label = "builder's p2m list: copied to P2M_VADDR, freed"
    names = {"Loaded kernel": "shim image", "Init. ramdisk": "ramdisk (mapped by Xen)",
             "Phys-Mach map": p2m_label, "Start info": "start_info",
             "Page tables": "Xen's boot page tables", "Boot stack": "Xen's boot stack",
             "Xenstore ring": "xenstore ring", "Console ring": "console ring"}
    stack_end = total_end = None
    for name, s, e in log.xen_vma:
        if name == "TOTAL":
            total_end = e
            continue
        if vb is not None and not (vb <= s < vb + (1 << 30)):
            continue                    # INIT_P2M: the list is mapped elsewhere
        ann.append((pg(s), pg_up(e), names.get(name, name)))
        if name == "Boot stack":
            stack_end = pg_up(e)
    if stack_end and total_end:
        ann.append((stack_end, total_end, "initial mapping: padding to 4 MiB"))
    if not log.xen_vma and log.image:
        ann.append((log.image[0], log.image[1], "shim image"))
    if "_etext" in syms and vb is not None:
        ann.append((vb, pg_up(syms["_etext"][0]), "shim .text/.rodata"))
        if "__bss_start" in syms and "_end" in syms:
            ann.append((pg_up(syms["_etext"][0]), syms["__bss_start"][0], "shim .data"))
            ann.append((syms["__bss_start"][0], pg_up(syms["_end"][0]), "shim .bss"))
    if "fill_window" in syms:
        v, n = syms["fill_window"]
        ann.append((v, v + n, "fill_window: the build window"))
    if "boot_stack" in syms and "boot_stack_top" in syms:
        ann.append((syms["boot_stack"][0], syms["boot_stack_top"][0], "the shim's own stack"))
    # Grafted: the same pages at PAGE_OFFSET + pfn pages.
    po = L["PAGE_OFFSET"]
    if vb is not None:
        for s, e, lab in list(ann):
            ann.append((po + (s - vb), po + (e - vb), lab))
    if log.ramdisk and log.ramdisk[0] == "pfn":
        s = po + (log.ramdisk[1] << 12)
        ann.append((s, s + pg_up(log.ramdisk[2]), "ramdisk (MOD_START_PFN: Xen did not map it)"))
    # The page-table buffer's used part: the read-only run right after the initial mapping's L1s.
    if log.mapped_pages and log.pgtbuf_used:
        first = po + (((log.mapped_pages + 511) & ~511) << 12)
        for s, e, kind, flags in log.ranges["kernel"]:
            if kind == "pte" and flags.startswith("ro") and s >= first and (e - s) >> 12 == log.pgtbuf_used:
                ann.append((s, e, f"page-table buffer, used part: {log.pgtbuf_used} tables"))
                break
    for i, name in enumerate(L["fixed_addresses"]):
        va = L["FIXADDR_TOP"] - ((i + 1) << 12)
        ann.append((va, va + 4096, name))
    return ann


def innermost(ann, s, e):
    best = None
    for a0, a1, lab in ann:
        if a0 <= s and e <= a1 and (best is None or a1 - a0 < best[1] - best[0]):
            best = (a0, a1, lab)
    return best[2] if best else None


def piece_label(row, col, s, e, kind, flags, ann, ctx):
    if kind == "xen":
        if col == "user":
            return "Xen's (ptdump does not descend); with m2p_strict Xen leaves the M2P (slot 256) out"
        return "Xen's: ptdump does not descend"
    if kind == "gap":
        if col == "user" and row.start >= 1 << 47:
            return "not in the user L4"
        if row.kind == "modules" and col == "kernel":
            return row.note
        cl = ctx.get("cleared")
        if col == "kernel" and cl and cl[0] <= s and e <= cl[1]:
            return "not mapped: Xen's initial mapping past the image, cleared (clean_kernel_l2)"
        return "not mapped"
    if row.kind == "p2m" and "P2M_VADDR" in ctx:
        p0, p1 = (s - ctx["P2M_VADDR"]) // 8, (e - ctx["P2M_VADDR"]) // 8 - 1
        what = "own leaves (RW)" if flags.startswith("RW") else "shared ro leaves (missing/identity)"
        return f"pfns {p0:#x}-{p1:#x}: {what}"
    lab = innermost(ann, s, e) if col == "kernel" else None
    if lab == "Xen's boot page tables":
        lab = "boot table, ro: a grafted L1 or reused" if flags.startswith("ro") \
            else "boot table, reclaimed: an RW page"
    if lab is None:
        if ctx.get("ram") and ctx["ram"][0] <= s < ctx["ram"][1]:
            lab = "RAM" if flags.startswith("RW") else "later page tables / shared p2m pages"
        else:
            lab = ""
    return lab


def cut(row, ranges, ann, gap_cuts=()):
    """The pieces (start, end, kind, flags) of one column inside row."""
    pieces, pos = [], row.start

    def gap(a, b):
        cuts = sorted({a, b} | {c for c in gap_cuts if a < c < b})
        pieces.extend((x, y, "gap", "") for x, y in zip(cuts, cuts[1:]))

    inside = sorted((max(s, row.start), min(e, row.end), k, f) for s, e, k, f in ranges
                    if s < row.end and e > row.start)
    for s, e, kind, flags in inside:
        if s > pos:
            gap(pos, s)
        cuts = sorted({s, e} | {a for a0, a1, _ in ann for a in (a0, a1) if s < a < e})
        pieces.extend((a, b, kind, flags) for a, b in zip(cuts, cuts[1:]))
        pos = e
    if pos < row.end:
        gap(pos, row.end)
    return pieces


def coalesce(pieces, min_run=5, small=32 << 10):
    """Runs of >= min_run tiny mapped pieces with one label become one 'mixed' piece."""
    out, i = [], 0
    while i < len(pieces):
        j = i
        while (j < len(pieces) and pieces[j][2] == "pte" and pieces[j][1] - pieces[j][0] <= small
               and pieces[j][4] == pieces[i][4]):
            j += 1
        if j - i >= min_run and len({p[3] for p in pieces[i:j]}) > 1:
            flags = sorted({p[3] for p in pieces[i:j]})
            out.append((pieces[i][0], pieces[j - 1][1], "mixed", " / ".join(flags),
                        f"{pieces[i][4]}; {j - i} ranges"))
            i = j
        else:
            out.append(pieces[i])
            i += 1
    return out


# ------------------------------------------------------------------ drawing

FILL = {"RW NX": "#9ecae1", "RW x": "#fdae6b", "ro NX": "#a1d99b", "ro x": "#e6f598"}
MONO = "DejaVu Sans Mono, Menlo, Consolas, monospace"
SANS = "DejaVu Sans, Helvetica, Arial, sans-serif"
FIXED_H = {"hole": 18, "gap": 20, "xen": 60}


def fill_of(flags):
    return FILL.get(flags.replace(" USR", ""), "#cccccc")


def piece_h(size):
    return 16 + 2.4 * max(0.0, math.log2(max(size, 4096) / 4096))


def esc(s):
    return html.escape(str(s), quote=True)


def wrap(text, width):
    lines, cur = [], ""
    for w in text.split():
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    return lines + [cur] if cur else lines


def render(log, L, syms, title):
    rows = build_rows(log, L)
    ann = annotations(log, L, syms)
    have_user = bool(log.ranges["user"])
    po = L["PAGE_OFFSET"]
    ctx = {"P2M_VADDR": L["P2M_VADDR"]} if "P2M_VADDR" in L else {}
    if log.nr_pages:
        ctx["ram"] = (po, po + (log.nr_pages << 12))
    total = [e for n, s, e in log.xen_vma if n == "TOTAL"]
    gap_cuts = []
    if total and log.image:
        img_2m = (log.image[1] + (2 << 20) - 1) & ~((2 << 20) - 1)
        if total[0] > img_2m:
            ctx["cleared"] = (img_2m, total[0])
            gap_cuts = [img_2m, total[0]]

    X_NAME, X_ADDR, X_K, W_K, X_KL = 12, 214, 336, 120, 462
    X_U, W_U = 768, 110
    X_UL, WIDTH = X_U + W_U + 6, 1080

    out = []

    def text(x, y, s, size=11, anchor="start", font=SANS, weight="normal", fill="#222"):
        out.append(f'<text x="{x:.1f}" y="{y:.1f}" font-family="{font}" font-size="{size}" '
                   f'text-anchor="{anchor}" font-weight="{weight}" fill="{fill}">{esc(s)}</text>')

    def rect(x, y, w, h, fill, stroke="#555", dash=False):
        d = ' stroke-dasharray="3,2"' if dash else ""
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{max(h, 0.5):.1f}" fill="{fill}" '
                   f'stroke="{stroke}" stroke-width="0.6"{d}/>')

    # Lay the rows out.
    y = 104
    for row in rows:
        for col in ("kernel", "user"):
            ps = cut(row, log.ranges[col], ann if col == "kernel" else [], gap_cuts if col == "kernel" else ())
            ps = [(s, e, k, f, piece_label(row, col, s, e, k, f, ann, ctx)) for s, e, k, f in ps]
            row.pieces[col] = coalesce(ps)
        if row.kind == "gap" and any(p[2] != "gap" for c in ("kernel", "user") for p in row.pieces[c]):
            row.kind, row.name = "region", "other mappings"     # something the layout does not name
        if row.kind in FIXED_H:
            row.h = FIXED_H[row.kind]
        else:
            need = [sum(piece_h(p[1] - p[0]) + (14 if p[2] == "mixed" else 0) for p in row.pieces[c])
                    for c in ("kernel", "user")]
            row.h = max(need + [70 if row.kind == "modules" else 34, 12 * len(wrap(row.sub, 34)) + 24])
        row.y = y
        y += row.h
    rows_end = y

    out.append(None)            # the <svg> header, once the height is known
    out.append('<defs><pattern id="xen" width="8" height="8" patternUnits="userSpaceOnUse" '
               'patternTransform="rotate(45)"><rect width="8" height="8" fill="#d9d9d9"/>'
               '<line x1="0" y1="0" x2="0" y2="8" stroke="#969696" stroke-width="3"/></pattern>'
               '<pattern id="usr" width="6" height="6" patternUnits="userSpaceOnUse" '
               'patternTransform="rotate(-45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#6a51a3" '
               'stroke-width="1.5"/></pattern>'
               '<pattern id="mixed" width="6" height="6" patternUnits="userSpaceOnUse">'
               '<rect width="6" height="3" fill="#fdae6b"/><rect y="3" width="6" height="3" fill="#9ecae1"/>'
               '</pattern></defs>')
    out.append(None)            # the white background
    text(X_NAME, 26, title, size=16, weight="bold")
    sub = []
    if log.xen_version:
        sub.append(f"Xen {log.xen_version}, {log.domain or 'dom0'}")
    if log.nr_pages:
        sub.append(f"nr_pages {log.nr_pages} ({log.nr_pages >> 8} MiB)")
    if log.ramdisk:
        how = "unmapped, by pfn" if log.ramdisk[0] == "pfn" else "mapped by Xen"
        sub.append(f"ramdisk {log.ramdisk[2] >> 20} MiB ({how})")
    if log.result:
        sub.append(f"result: {log.result}")
    text(X_NAME, 46, " · ".join(sub), size=11.5, fill="#444")
    text(X_NAME, 62, "Each range: 16 px + 2.4 px per doubling of its size (not to scale). The addresses "
         "are where the kernel column's ranges start.", size=10.5, fill="#666")
    text(X_K, 84, "kernel L4: the kernel's view", size=12.5, weight="bold")
    text(X_K, 97, "CR3 (MMUEXT_NEW_BASEPTR)", size=9.5, fill="#555")
    text(X_U, 84, "user L4: ring 3's view", size=12.5, weight="bold")
    text(X_U, 97, "user CR3 (MMUEXT_NEW_USER_BASEPTR)", size=9.5, fill="#555")

    for row in rows:
        out.append(f'<line x1="{X_NAME}" y1="{row.y:.1f}" x2="{WIDTH - 12}" y2="{row.y:.1f}" '
                   f'stroke="#bbbbbb" stroke-width="0.8"/>')
        if row.kind == "hole":
            for x0, n in ((X_K, 13), (X_U, 12)):
                zz = " ".join(f"{x0 + i * 10},{row.y + (4 if i % 2 else 14)}" for i in range(n))
                out.append(f'<polyline points="{zz}" fill="none" stroke="#999"/>')
            text(X_NAME, row.y + 13, "non-canonical hole", size=10, fill="#777")
            text(X_ADDR, row.y + 13, hexa(row.start), size=10, font=MONO, fill="#777")
            continue
        if row.kind == "gap":
            text(X_NAME, row.y + 14, f"unused: {row.sub}", size=9.5, fill="#888")
        else:
            text(X_NAME, row.y + 15, row.name, size=12, weight="bold")
            for i, ln in enumerate(wrap(row.sub, 34)):
                text(X_NAME, row.y + 29 + i * 12, ln, size=9.5, fill="#555")
        for col, x0, w, xl in (("kernel", X_K, W_K, X_KL), ("user", X_U, W_U, X_UL)):
            pieces = row.pieces[col] if (col == "kernel" or have_user) else \
                [(row.start, row.end, "nouser", "", "")]
            need = [1.0 if row.kind in FIXED_H else piece_h(p[1] - p[0]) + (14 if p[2] == "mixed" else 0)
                    for p in pieces]
            scale = row.h / sum(need)
            y = row.y
            for (s, e, kind, flags, lab), n in zip(pieces, need):
                h = n * scale
                if kind == "pte":
                    rect(x0, y, w, h, fill_of(flags))
                    if "USR" in flags:
                        rect(x0, y, w, h, "url(#usr)")
                elif kind == "mixed":
                    rect(x0, y, w, h, "url(#mixed)")
                elif kind == "xen":
                    rect(x0, y, w, h, "url(#xen)")
                elif kind == "nouser":
                    rect(x0, y, w, h, "#fbe0e0", stroke="#c33")
                else:
                    rect(x0 + 0.5, y + 0.5, w - 1, h - 1, "#ffffff", stroke="#c8c8c8", dash=True)
                if kind == "pte" and h >= 11:
                    text(x0 + w / 2, y + h / 2 + 4, flags, size=10, anchor="middle", font=MONO)
                if row.kind == "gap" or h < 11:
                    y += h
                    continue
                if kind == "nouser":
                    if row is rows[0]:
                        text(xl, y + 14, "no user L4 in this boot", size=10.5, fill="#c33")
                elif col == "kernel":
                    text(X_ADDR, y + 11, hexa(s), size=10, font=MONO, fill="#333")
                    if kind == "mixed":
                        lab = f"{lab}: {flags}"
                    lines = wrap(lab, 40) or [""]
                    room = max(1, int((h - 2) // 11.5))
                    if len(lines) > room:
                        lines = lines[:room]
                        lines[-1] = lines[-1][:37] + "..."
                    size = size_str(e - s)
                    for i, ln in enumerate(lines):
                        text(xl, y + 11 + i * 11.5, (f"{size:>6}  " if i == 0 else " " * 8) + ln,
                             size=10, font=MONO, fill="#222" if kind != "gap" else "#777")
                else:
                    if kind in ("pte", "mixed"):
                        t = f"{size_str(e - s)} {lab}" + ("" if s == row.start else f" at {hexa(s)}")
                        text(xl, y + 11, t, size=10, font=MONO, fill="#333")
                    else:
                        room = max(1, int((h - 2) // 12))
                        for i, ln in enumerate(wrap(lab, 30)[:room]):
                            text(xl, y + 11 + i * 12, ln, size=10, fill="#888" if kind == "gap" else "#333")
                y += h
    out.append(f'<line x1="{X_NAME}" y1="{rows_end:.1f}" x2="{WIDTH - 12}" y2="{rows_end:.1f}" '
               f'stroke="#bbbbbb" stroke-width="0.8"/>')
    text(X_ADDR, rows_end + 12, "(2^64)", size=10, font=MONO, fill="#777")

    # Legend.
    ly = rows_end + 34
    lx = X_NAME
    for fill, lab in (("#9ecae1", "RW NX"), ("#fdae6b", "RW x: Xen's initial flags, kept"),
                      ("#a1d99b", "ro NX: page tables, shared p2m pages"), ("#e6f598", "ro x"),
                      ("url(#mixed)", "many small ranges"), ("url(#xen)", "Xen's L4 slots"),
                      ("#ffffff", "not mapped"), ("url(#usr)", "USR: a user page")):
        rect(lx, ly - 10, 18, 12, fill, dash=fill == "#ffffff")
        text(lx + 24, ly, lab, size=10.5)
        lx += 36 + 6.0 * len(lab)
        if lx > WIDTH - 200 and lab != "USR: a user page":
            lx, ly = X_NAME, ly + 18

    # The shim's own summary lines of the same boot.
    y = ly + 24
    text(X_NAME, y, "From the same boot's serial log:", size=10.5, fill="#444")
    for i, ln in enumerate(log.lines[:18]):
        text(X_NAME, y + 14 + i * 12.5, ln[:170], size=9.5, font=MONO, fill="#444")
    height = y + 14 + min(len(log.lines), 18) * 12.5 + 8
    out[0] = ('<!-- SPDX-License-Identifier: MIT -->\n'
              '<!-- Drawn by docs/ptdump2svg.py from a real boot log; docs/make-docs.sh redraws it. -->\n'
              f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
              f'viewBox="0 0 {WIDTH} {height:.0f}">')
    out[2] = f'<rect width="{WIDTH}" height="{height:.0f}" fill="#ffffff"/>'
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("log", help="serial log of a boot with the guest command line 'ptdump'")
    ap.add_argument("-o", "--output", required=True, help="SVG file to write")
    ap.add_argument("--kernel", help="the ELF that booted (names a few image symbols)")
    ap.add_argument("--layout", default=os.path.join(HERE, "..", "shim", "pv", "layout.h"),
                    help="shim/pv/layout.h (default: the one beside docs/)")
    ap.add_argument("--title", default="The shim's virtual address space after the PV MMU bring-up")
    a = ap.parse_args(argv)

    log = Log(a.log)
    if not log.ranges["kernel"]:
        sys.exit(f"ptdump2svg: no 'ptdump: kernel ...' lines in {a.log} (boot with ARGS=ptdump)")
    syms = {}
    if a.kernel:
        syms = elf_symbols(a.kernel, {"_etext", "__bss_start", "_end", "fill_window", "boot_stack",
                                        "boot_stack_top"})
        if syms and log.image and pg_up(syms.get("_end", (0,))[0]) != log.image[1]:
            print(f"ptdump2svg: {a.kernel} is not the image that booted (its _end is not the log's "
                  f"image end {log.image[1]:#x}): its symbols are left out", file=sys.stderr)
            syms = {}
    svg = render(log, read_layout(a.layout), syms, a.title)
    with open(a.output, "w", encoding="utf-8") as f:
        f.write(svg)


if __name__ == "__main__":
    main()
