# SPDX-License-Identifier: MIT
"""The computed minimum of each bring-up phase, from the layout alone.

Inputs are what the guest is given, not what it reports doing: nr_pages (n),
the pages of Xen's initial mapping (m, from the boot tables the guest walks),
where the image ends, and the fill window's size (W, FILL_WINDOW_PAGES in
shim/pv/setup.c). The formulas follow shim/pv/mmu_pv.c (plan_tables, build_tables,
switch_tables, ...) and shim/pv/p2m.c (p2m_build); EXPLAIN (below) says why each
is the floor, and where the design could go lower still.

    minima(facts) -> {phase: (hypercalls, entries, pt_pages)}
"""
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

PAGES_PER_L1 = 512
PAGES_PER_L2 = 512 ** 2
PAGES_PER_L3 = 512 ** 3
KERNEL_MAP_BASE = 0xffffffff80000000
FIXED_TABLES = 7       # kernel L4, user L4, level3_kernel, level2_kernel, level2_fixmap,
                       # level1_fixmap, user L3


def cdiv(a, b):
    return -(-a // b)


def align_up(a, b):
    return cdiv(a, b) * b


def window_pages():
    """FILL_WINDOW_PAGES from shim/pv/setup.c (64 if it cannot be read)."""
    try:
        with open(os.path.join(REPO, "shim", "pv", "setup.c")) as f:
            m = re.search(r"#define\s+FILL_WINDOW_PAGES\s+(\d+)", f.read())
        return int(m.group(1)) if m else 64
    except OSError:
        return 64


def graft_pages(n, m):
    g = align_up(m, PAGES_PER_L1)
    return align_up(n, PAGES_PER_L1) if g > n else g


def table_pages(n, m):
    """Page-table pages the build needs: the fixed tables, the direct map's L3s
    and L2s, and an L1 for every 512 pages beyond those Xen's boot L1s map."""
    g = graft_pages(n, m)
    l1 = cdiv(n - g, PAGES_PER_L1) if n > g else 0
    return FIXED_TABLES + cdiv(n, PAGES_PER_L3) + cdiv(n, PAGES_PER_L2) + l1


def p2m_tables(n):
    """p2m_build's tables: one L3, an L2 per 2^27 pfns, an L1 per 2^18 pfns,
    and the shared 'missing' L1 and L2 where a slot lies past the end."""
    l2, l1 = cdiv(n, PAGES_PER_L3), cdiv(n, PAGES_PER_L2)
    return 1 + l2 + l1 + (1 if l1 < 512 * l2 else 0) + (1 if l2 < 512 else 0)


def minima(f):
    """f: dict with n, m, image_end (virtual), W. Returns {phase: (hyp, entries, pt)}."""
    n, m, w = f["n"], f["m"], f["W"]
    g = graft_pages(n, m)
    p = table_pages(n, m)
    out = {"discover": (0, 0, 0)}
    # build: every table passes through the window in batches of W; each batch's
    # mappings must be in place before its tables are written (one flush each),
    # then one flush gives the window its own frames back (the entries that
    # complete a shared last boot L1 ride in it).
    patch = max(0, min(g, n) - m) if m < g else 0
    out["build"] = (cdiv(p, w) + 1, p + w + patch, p)
    # switch: pin kernel L4, pin user L4, NEW_BASEPTR, NEW_USER_BASEPTR, unpin boot L4.
    out["switch"] = (1, 5, 0)
    # reclaim: Xen's boot L4, L3, L2 writable again.
    out["reclaim"] = (1, 3, 0)
    # cleanup: kernel-L2 slots of the initial mapping past the image, + one TLB flush.
    first = align_up(f["image_end"] - KERNEL_MAP_BASE, 1 << 21) >> 21
    cleared = max(0, cdiv(m, PAGES_PER_L1) - first)
    out["cleanup"] = (1 if cleared else 0, cleared + 1 if cleared else 0, 0)
    # pgtbuf: the buffer is sized as if nothing were grafted; the L1s the graft saved
    # go back (one direct-map entry each, + a flush).
    tail = cdiv(n, PAGES_PER_L1) - (cdiv(n - g, PAGES_PER_L1) if n > g else 0)
    out["pgtbuf"] = (1 if tail else 0, tail + 1 if tail else 0, 0)
    # image: every initial-mapping page gets its final rights (text RO, the rest NX),
    # one entry each, except the 3 reclaimed boot tables (already NX), + a flush.
    out["image"] = (1, m - 3 + 1, 0)
    # p2m: every new table read-only in the direct map, the shared missing leaf too,
    # and the hook into the kernel L4: one batch.
    t = p2m_tables(n)
    out["p2m"] = (1, t + 2, t)
    return out


EXPLAIN = """\
How the minimum columns are computed (n = dom0 pages, m = pages of Xen's initial
mapping as the guest finds it, W = {W} fill-window pages, g = m rounded up to 512):

| phase | page-table pages | hypercalls | entries | why this is the floor |
| --- | --- | --- | --- | --- |
| discover | 0 | 0 | 0 | reads Xen's boot tables through the initial mapping; nothing to change |
| build | 7 + ceil(n/2^27) + ceil(n/2^18) + ceil((n-g)/512) | ceil(pages/W) + 1 | pages + W (+ g-m) | the fixed tables (kernel L4, user L4, level3_kernel, level2_kernel, level2_fixmap, level1_fixmap, user L3), the direct map's L3s and L2s, and an L1 per 512 pages beyond the g pages Xen's boot L1s already map (grafted, not copied). Xen refuses to type a frame that has a writable mapping, so each table is written through a W-page window whose mappings must be in place before the writes: one flush per window batch, then one to give the window its own frames back. Each window mapping is one entry (update_va_mapping) |
| switch | 0 | 1 | 5 | PIN_L4 kernel, PIN_L4 user, NEW_BASEPTR, NEW_USER_BASEPTR, UNPIN boot L4: one mmuext_op batch |
| reclaim | 0 | 1 | 3 | Xen's boot L4, L3 and L2 lose their type with the unpin; one entry each makes them writable |
| cleanup | 0 | 1 | ceil(m/512) - image slots + 1 | the kernel-L2 slots of the initial mapping past the image, cleared, plus one TLB flush |
| pgtbuf | 0 | 1 | ceil(n/512) - ceil((n-g)/512) + 1 | the buffer is sized before the graft is counted; the L1s the graft saved are handed back writable, plus one TLB flush |
| image | 0 | 1 | m - 3 + 1 | every page of the initial mapping gets its final rights (text read-only, all else NX) in the L1 entry the kernel map and the direct map share; the 3 reclaimed boot tables are NX already; one TLB flush |
| p2m | 1 + ceil(n/2^27) + ceil(n/2^18) + 2 | 1 | tables + 2 | the linear p2m list's L3, L2s and L1s, plus the shared "missing" L1 and L2 that make every pfn past the end read INVALID_MFN; each table and the shared missing leaf go read-only, then one hook into the kernel L4 |

The phases after p2m (usermode, modules, balloon) are exercises of the finished
tables (a ring-3 program, module space mapped page by page, 64 pages ballooned
out and in); they do the same work at every size and have no minimum here.

Where the design itself could go lower (not counted in the minimum): the
window's restore could ride in the switch's multicall (one hypercall less), and
so could the reclaim (after the unpin in the same batch); the pgtbuf tail would
not exist if the buffer were sized after the graft; the image phase could put
NX on level2_ident's grafted entries (one entry per 2 MiB) instead of on each
page past the image. The shim's queue holds 1024 mmu_update requests and 64
calls, so an entry count above that splits into more hypercalls than the one
the ordering needs.
"""
