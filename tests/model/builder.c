/* SPDX-License-Identifier: MIT */
/*
 * builder.c - the dom0 and domU boot states (see builder.h), re-derived
 * from xen/arch/x86/pv/dom0_build.c (dom0_construct, mark_pv_pt_pages_rdonly,
 * alloc_chunk) and tools/libs/guest/xg_dom_core.c + xg_dom_x86.c
 * (xc_dom_build_image, count_pgtables, alloc_pgtables_pv, setup_pgtables_pv,
 * start_info_x86_64).
 *
 * INIT_P2M is mapped with 4 KiB pages and its tables placed before the
 * list's data (libxenguest places them after it; Xen's dom0 builder uses
 * superpages where it can): what the shim sees is the same, an L4 entry
 * outside L4[511].
 */
#include <stdio.h>
#include <string.h>

#include "builder.h"
#include "lib/lib.h"

#define MiB             (1UL << 20)
#define L1_PROT_DOM0    (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_USER | _PAGE_GUEST_KERNEL)
#define UPPER_PROT      (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_USER | _PAGE_DIRTY)
#define L1_PROT_DOMU    (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED)
#define VADDR_MASK      ((1UL << 48) - 1)
#define MAX_ORDER_PAGES (1UL << 18)         /* alloc_chunk's largest chunk */
#define CHUNK_GAP       16UL                /* free frames between dom0 chunks */
#define DOMU_EXTENT     512UL

#define FAIL(...) do { snprintf(L->err, sizeof(L->err), __VA_ARGS__); return -1; } while (0)

static unsigned long pgup(unsigned long x)
{
    return (x + PAGE_SIZE - 1) & PAGE_MASK;
}

static unsigned long pfn_up(unsigned long bytes)
{
    return (bytes >> PAGE_SHIFT) + !!(bytes & ~PAGE_MASK);
}

/* Number of 2^s-aligned blocks [l, h) touches (dom0_build.c's NR()). */
static unsigned long nr_blocks(unsigned long l, unsigned long h, unsigned int s)
{
    unsigned long m = (1UL << s) - 1;

    return (((h + m) & ~m) - (l & ~m)) >> s;
}

static unsigned int order_of_pages(unsigned long pages)
{
    unsigned int o = 0;

    while ((1UL << o) < pages)
        o++;
    return o;
}

static unsigned long pt_pfn_mfn(unsigned long pfn)
{
    return model_p2m(pfn);
}

static void set_entry(unsigned long table_pfn, unsigned int slot, uint64_t e)
{
    mem_write(pt_pfn_mfn(table_pfn), slot, e);
}

/* ------------------------------------------------------------ dom0 */

int dom0_layout(const struct boot_cfg *c, struct boot_layout *L)
{
    unsigned long ksize = c->kernel_size ? c->kernel_size : BOOT_KERNEL_SIZE;
    unsigned long v_start = BOOT_VIRT_BASE, nr_pt, v_end;

    memset(L, 0, sizeof(*L));
    L->virt_base = v_start;
    L->vkern_end = v_start + ksize;
    L->image_end = pgup(L->vkern_end);
    if (!c->rd_mapped) {
        L->vphysmap_start = pgup(L->vkern_end);
    } else {
        L->vinitrd_start = pgup(L->vkern_end);
        L->vinitrd_end = L->vinitrd_start + c->rd_len;
        if (L->vinitrd_end < L->vinitrd_start)
            FAIL("initial mapping wraps past 2^64 (ramdisk of %lu bytes)", c->rd_len);
        L->vphysmap_start = pgup(L->vinitrd_end);
    }
    L->vphysmap_end = L->vphysmap_start + c->nr_pages * sizeof(unsigned long);
    if (c->init_p2m)
        L->vphysmap_end = L->vphysmap_start;
    if (L->vphysmap_end < L->vphysmap_start || L->vphysmap_start < v_start ||
        L->vphysmap_end > -(64 * MiB))
        FAIL("initial mapping wraps past 2^64: the p2m list of %lu pages needs INIT_P2M",
             c->nr_pages);
    L->vstartinfo_start = pgup(L->vphysmap_end);
    L->vstartinfo_end = L->vstartinfo_start + sizeof(start_info_t);
    L->vpt_start = pgup(L->vstartinfo_end);
    L->vstartinfo_end += sizeof(struct dom0_vga_console_info);

    /* The tables map themselves: find the smallest count that covers the result. */
    for (nr_pt = 2;; nr_pt++) {
        L->vpt_end = L->vpt_start + nr_pt * PAGE_SIZE;
        L->vstack_start = L->vpt_end;
        L->vstack_end = L->vstack_start + PAGE_SIZE;
        v_end = (L->vstack_end + (4 * MiB) - 1) & ~(4 * MiB - 1);
        if (v_end - L->vstack_end < 512 * 1024)
            v_end += 4 * MiB;
        if (v_end < L->vstack_end || !v_end)
            FAIL("initial mapping wraps past 2^64");
        L->nr_l3 = nr_blocks(v_start, v_end, L4_SHIFT);
        L->nr_l2 = nr_blocks(v_start, v_end, L3_SHIFT);
        L->nr_l1 = nr_blocks(v_start, v_end, L2_SHIFT);
        if (1 + L->nr_l3 + L->nr_l2 + L->nr_l1 <= nr_pt)
            break;
    }
    L->nr_pt_frames = nr_pt;
    L->v_end = v_end;
    if (c->init_p2m) {
        L->vphysmap_start = c->init_p2m;
        L->vphysmap_end = c->init_p2m + c->nr_pages * sizeof(unsigned long);
    }
    return 0;
}

/* Initial allocation pfns [a, b), mfn = alloc_spfn + pfn - shift; a debug Xen reverses pfns > R. */
static void add_initial(unsigned long a, unsigned long b, unsigned long shift, unsigned long R,
                        bool debug, unsigned long spfn, unsigned long epfn)
{
    unsigned long lo;

    if (a >= b)
        return;
    if (!debug || b <= R + 1) {
        model_add_extent(a, spfn + a - shift, b - a, 1);
        return;
    }
    lo = a > R + 1 ? a : R + 1;
    if (a < lo)
        model_add_extent(a, spfn + a - shift, lo - a, 1);
    model_add_extent(lo, epfn - (lo - R), b - lo, -1);
}

/*
 * Tables for [va, va + pages) at pfns from first_pt, levels top-down: the
 * L3s, L2s and L1s this range needs below the given L4 (INIT_P2M).
 * Returns the number of tables.
 */
static unsigned long map_by_level(unsigned long l4_pfn, unsigned long va, unsigned long pages,
                                  unsigned long first_pfn, unsigned long first_pt, uint64_t l1_prot,
                                  bool write)
{
    unsigned long end = va + (pages << PAGE_SHIFT);
    unsigned long n3 = nr_blocks(va, end, L4_SHIFT), n2 = nr_blocks(va, end, L3_SHIFT);
    unsigned long n1 = nr_blocks(va, end, L2_SHIFT);
    unsigned long l3 = first_pt, l2 = l3 + n3, l1 = l2 + n2;

    if (!write)
        return n3 + n2 + n1;
    for (unsigned long i = 0; i < pages; i++) {
        unsigned long a = va + (i << PAGE_SHIFT);
        unsigned long k1 = (a >> L2_SHIFT) - (va >> L2_SHIFT);

        set_entry(l1 + k1, PT_INDEX(a, L1_SHIFT),
                  ((uint64_t)model_p2m(first_pfn + i) << PAGE_SHIFT) | l1_prot);
    }
    for (unsigned long k = 0; k < n1; k++) {
        unsigned long a = ((va >> L2_SHIFT) + k) << L2_SHIFT;
        unsigned long k2 = (a >> L3_SHIFT) - (va >> L3_SHIFT);

        set_entry(l2 + k2, PT_INDEX(a, L2_SHIFT), ((uint64_t)pt_pfn_mfn(l1 + k) << PAGE_SHIFT) | UPPER_PROT);
    }
    for (unsigned long k = 0; k < n2; k++) {
        unsigned long a = ((va >> L3_SHIFT) + k) << L3_SHIFT;
        unsigned long k3 = (a >> L4_SHIFT) - (va >> L4_SHIFT);

        set_entry(l3 + k3, PT_INDEX(a, L3_SHIFT), ((uint64_t)pt_pfn_mfn(l2 + k) << PAGE_SHIFT) | UPPER_PROT);
    }
    for (unsigned long k = 0; k < n3; k++) {
        unsigned long a = ((va >> L4_SHIFT) + k) << L4_SHIFT;

        set_entry(l4_pfn, PT_INDEX(a, L4_SHIFT), ((uint64_t)pt_pfn_mfn(l3 + k) << PAGE_SHIFT) | UPPER_PROT);
    }
    return n3 + n2 + n1;
}

/* Ramdisk and p2m list content: formulas until the guest writes them. */
static void mark_content(const struct boot_cfg *c, struct boot_layout *L)
{
    vmem_changed();
    M.p2m_first_pfn = L->p2m_pfn;
    M.p2m_nr_frames = pfn_up(c->nr_pages * sizeof(unsigned long));
    for (unsigned long i = 0; i < M.p2m_nr_frames; i++)
        frame_of(model_p2m(L->p2m_pfn + i))->content = FC_P2M;
    M.rd_first_pfn = L->rd_pfn;
    M.rd_len = c->rd_len;
    M.rd_bytes = c->rd_bytes;
    for (unsigned long i = 0; i < L->rd_pages; i++)
        frame_of(model_p2m(L->rd_pfn + i))->content = FC_RAMDISK;
}

static void write_start_info(struct boot_layout *L)
{
    unsigned long pfn = (L->vstartinfo_start - L->virt_base) >> PAGE_SHIFT;

    mem_write_bytes(model_p2m(pfn), 0, &L->si, sizeof(L->si));
}

static int load(struct boot_layout *L)
{
    int rc = model_boot_load_l4(L->l4_mfn);

    if (rc)
        FAIL("the boot tables were refused (%d): %s", rc, model_last_refusal());
    return 0;
}

static struct model_opts opts_of(const struct boot_cfg *c, bool dom0)
{
    struct model_opts o = model_default_opts(dom0);

    o.m2p_strict = c->m2p_strict;
    o.linear_pt = !c->no_linear_pt;
    o.l1tf_check = !c->no_l1tf_check;
    o.no_nx = c->no_nx;
    return o;
}

static int build_dom0(const struct boot_cfg *c, struct boot_layout *L)
{
    struct model_opts opts = opts_of(c, true);
    unsigned long mapped, count, tot_init, rd_pages = pfn_up(c->rd_len), initrd_pfn;
    unsigned long rd_mfn, spfn, epfn, p2m_frames = 0, p2m_tables = 0, rest, top, cursor, nchunks;
    unsigned long chunk[4096], next_pt, l4, l3 = 0, l2 = 0, l1 = 0, R;

    if (dom0_layout(c, L))
        return -1;
    mapped = (L->v_end - L->virt_base) >> PAGE_SHIFT;
    R = mapped;
    count = L->v_end - L->virt_base;
    if (L->vinitrd_start)
        count -= rd_pages << PAGE_SHIFT;
    L->order = order_of_pages(pfn_up(count));
    tot_init = 1UL << L->order;
    if (tot_init + rd_pages > c->nr_pages)
        FAIL("Domain 0 allocation is too small for kernel image");
    if (L->virt_base < XEN_VIRT_END && L->v_end > XEN_VIRT_FIRST)
        FAIL("DOM0 image overlaps with Xen private area.");
    initrd_pfn = L->vinitrd_start ? (L->vinitrd_start - L->virt_base) >> PAGE_SHIFT
                                  : (c->rd_len ? tot_init : ~0UL);
    if (c->init_p2m) {
        unsigned long va = c->init_p2m, pages = pfn_up(c->nr_pages * 8);

        if (va < L->v_end && L->virt_base < va + pages * PAGE_SIZE)
            FAIL("DOM0 P->M table overlaps initial mapping");
        if ((va >= XEN_VIRT_FIRST && va < XEN_VIRT_END) || (va & ~PAGE_MASK))
            FAIL("INIT_P2M address %#lx is not usable", va);
        p2m_tables = map_by_level(0, va, pages, 0, 0, 0, false);
        p2m_frames = pages + p2m_tables;
    }
    if (tot_init + rd_pages + p2m_frames > c->nr_pages)
        FAIL("Dom0 allocation too small for initial P->M table");

    /* Chunks for the rest, largest first (alloc_chunk), placed high in the machine. */
    rest = c->nr_pages - tot_init - rd_pages - p2m_frames;
    for (nchunks = 0; rest; nchunks++) {
        unsigned long n = MAX_ORDER_PAGES;

        while (n > rest)
            n >>= 1;
        if (nchunks == sizeof(chunk) / sizeof(chunk[0]))
            FAIL("model: more than %zu dom0 chunks", sizeof(chunk) / sizeof(chunk[0]));
        chunk[nchunks] = n;
        rest -= n;
    }
    rd_mfn = MFN_DOM_FIRST;
    spfn = ALIGN_UP(rd_mfn + rd_pages + 64, tot_init);
    epfn = spfn + tot_init;
    top = epfn + CHUNK_GAP + p2m_frames + (c->nr_pages - tot_init - rd_pages - p2m_frames) +
          CHUNK_GAP * (nchunks + 1);
    model_init(top + 4096, &opts);
    L->alloc_spfn = spfn;

    /* pfn -> mfn, as dom0_construct() writes the p2m. */
    if (L->vinitrd_start) {
        add_initial(0, initrd_pfn, 0, R, c->debug_xen, spfn, epfn);
        model_add_extent(initrd_pfn, rd_mfn, rd_pages, 1);
        add_initial(initrd_pfn + rd_pages, tot_init + rd_pages, rd_pages, R, c->debug_xen, spfn, epfn);
    } else {
        add_initial(0, tot_init, 0, R, c->debug_xen, spfn, epfn);
        if (rd_pages)
            model_add_extent(tot_init, rd_mfn, rd_pages, 1);
    }
    cursor = tot_init + rd_pages;
    if (p2m_frames)
        model_add_extent(cursor, epfn + CHUNK_GAP, p2m_frames, 1);
    cursor += p2m_frames;
    {
        unsigned long hi = top, done = 0;

        for (unsigned long k = 0; k < nchunks; k++) {
            unsigned long m = hi - CHUNK_GAP - chunk[k];

            if (c->debug_xen)
                model_add_extent(c->nr_pages - done - chunk[k], m + chunk[k] - 1, chunk[k], -1);
            else
                model_add_extent(cursor + done, m, chunk[k], 1);
            done += chunk[k];
            hi = m;
        }
    }
    model_finish_extents();
    M.nr_pages = c->nr_pages;

    /* The tables, in walk order, from vpt_start. */
    L->l4_pfn = next_pt = (L->vpt_start - L->virt_base) >> PAGE_SHIFT;
    l4 = next_pt++;
    L->pt_order[0] = '4';
    model_fill_xen_slots(pt_pfn_mfn(l4), true);
    if (L->nr_pt_frames >= sizeof(L->pt_order))
        FAIL("model: %lu boot tables are more than modelled", L->nr_pt_frames);
    for (unsigned long i = 0; i < mapped; i++) {
        unsigned long va = L->virt_base + (i << PAGE_SHIFT);
        uint64_t prot = L1_PROT_DOM0;
        bool first = i == 0;

        /* A new L1 every 2 MiB; a new L2 (after it) every GiB; a new L3 every 512 GiB. */
        if (first || !(va & ((1UL << L2_SHIFT) - 1))) {
            l1 = next_pt++;
            if (first || !(va & ((1UL << L3_SHIFT) - 1))) {
                l2 = next_pt++;
                if (first || !(va & ((1UL << L4_SHIFT) - 1))) {
                    l3 = next_pt++;
                    set_entry(l4, PT_INDEX(va, L4_SHIFT), ((uint64_t)pt_pfn_mfn(l3) << PAGE_SHIFT) | UPPER_PROT);
                    L->pt_order[l3 - L->l4_pfn] = '3';
                }
                set_entry(l3, PT_INDEX(va, L3_SHIFT), ((uint64_t)pt_pfn_mfn(l2) << PAGE_SHIFT) | UPPER_PROT);
                L->pt_order[l2 - L->l4_pfn] = '2';
            }
            set_entry(l2, PT_INDEX(va, L2_SHIFT), ((uint64_t)pt_pfn_mfn(l1) << PAGE_SHIFT) | UPPER_PROT);
            L->pt_order[l1 - L->l4_pfn] = '1';
            if (next_pt - L->l4_pfn > L->nr_pt_frames)
                FAIL("model: the walk needs more than the %lu tables Xen counted", L->nr_pt_frames);
        }
        /* mark_pv_pt_pages_rdonly(): the tables are mapped read-only. */
        if (i >= L->l4_pfn && i < L->l4_pfn + L->nr_pt_frames)
            prot &= ~(uint64_t)_PAGE_RW;
        set_entry(l1, PT_INDEX(va, L1_SHIFT), ((uint64_t)model_p2m(i) << PAGE_SHIFT) | prot);
    }
    if (next_pt - L->l4_pfn != L->nr_pt_frames)
        FAIL("model: the walk used %lu tables, Xen counted %lu", next_pt - L->l4_pfn, L->nr_pt_frames);
    L->pt_order[L->nr_pt_frames] = 0;
    if (c->init_p2m) {
        unsigned long first = tot_init + rd_pages;

        L->p2m_pfn = first + p2m_tables;
        map_by_level(l4, c->init_p2m, p2m_frames - p2m_tables, L->p2m_pfn, first,
                     L1_PROT_DOM0 | _PAGE_DIRTY, true);
        L->extra_pt_frames = p2m_tables;
    } else {
        L->p2m_pfn = (L->vphysmap_start - L->virt_base) >> PAGE_SHIFT;
    }
    L->l4_mfn = pt_pfn_mfn(l4);
    L->rd_pages = rd_pages;
    L->rd_pfn = L->vinitrd_start ? initrd_pfn : (rd_pages ? tot_init : 0);
    mark_content(c, L);

    /* start_info, as dom0_construct() fills it. */
    start_info_t *si = &L->si;

    memset(si, 0, sizeof(*si));
    snprintf(si->magic, sizeof(si->magic), "xen-3.0-x86_64%s", c->magic_p ? "p" : "");
    si->nr_pages = c->nr_pages;
    si->shared_info = MFN_SHARED_INFO << PAGE_SHIFT;
    si->flags = SIF_PRIVILEGED | SIF_INITDOMAIN | (3 << 8);    /* pm bits as seen on QEMU */
    if (!L->vinitrd_start && c->rd_len)
        si->flags |= SIF_MOD_START_PFN;
    si->pt_base = L->vpt_start;
    si->nr_pt_frames = L->nr_pt_frames;
    si->mfn_list = L->vphysmap_start;
    si->first_p2m_pfn = tot_init + rd_pages;
    si->nr_p2m_frames = p2m_frames;
    if (c->rd_len) {
        si->mod_start = L->vinitrd_start ? L->vinitrd_start : L->rd_pfn;
        si->mod_len = c->rd_len;
    }
    if (c->cmdline)
        snprintf((char *)si->cmd_line, sizeof(si->cmd_line), "%s", c->cmdline);
    write_start_info(L);
    return load(L);
}

/* ------------------------------------------------------------ domU */

/* count_pgtables() for one level: tables at `bits` covering [from, to] (inclusive, 48-bit). */
static unsigned long level_tables(unsigned long from, unsigned long to, unsigned int bits)
{
    unsigned long mask = (1UL << bits) - 1;

    return (((to | mask) - (from & ~mask)) >> bits) + 1;
}

static int build_domu(const struct boot_cfg *c, struct boot_layout *L)
{
    struct model_opts opts = opts_of(c, false);
    unsigned long ksize = c->kernel_size ? c->kernel_size : BOOT_KERNEL_SIZE;
    unsigned long va = BOOT_VIRT_BASE, pfn = 0, p2m_base = 0, pages, try_end = 0, tables = 0;
    unsigned long from = BOOT_VIRT_BASE & VADDR_MASK, n3 = 0, n2 = 0, n1 = 0, stack_pfn;
    unsigned long si_pfn, store_pfn, console_pfn, pt_pfn, nchunks, p2m_tables = 0;
    const unsigned long extra = 1 + (512 * 1024) / PAGE_SIZE;

    memset(L, 0, sizeof(*L));
    L->virt_base = BOOT_VIRT_BASE;
    L->vkern_end = va + ksize;
    L->image_end = pgup(L->vkern_end);
    pfn += pfn_up(ksize);
    va += pfn_up(ksize) << PAGE_SHIFT;
    if (c->rd_len && c->rd_mapped) {
        L->vinitrd_start = va;
        L->vinitrd_end = va + c->rd_len;
        L->rd_pfn = pfn;
        L->rd_pages = pfn_up(c->rd_len);
        pfn += L->rd_pages;
        va += L->rd_pages << PAGE_SHIFT;
    }
    if (c->init_p2m && c->init_p2m < BOOT_VIRT_BASE && !(c->init_p2m & ~PAGE_MASK))
        p2m_base = c->init_p2m;
    if (!p2m_base) {
        L->vphysmap_start = va;
        L->p2m_pfn = pfn;
        pages = pfn_up(c->nr_pages * sizeof(unsigned long));
        pfn += pages;
        va += pages << PAGE_SHIFT;
        L->vphysmap_end = va;
        if (va < L->vphysmap_start || va > -(64 * MiB))
            FAIL("initial mapping wraps past 2^64: the p2m list of %lu pages needs INIT_P2M",
                 c->nr_pages);
    }
    L->vstartinfo_start = va;
    L->vstartinfo_end = va + sizeof(start_info_t);
    si_pfn = pfn++;
    va += PAGE_SIZE;
    L->vxenstore_start = va;
    store_pfn = pfn++;
    va += PAGE_SIZE;
    L->vconsole_start = va;
    console_pfn = pfn++;
    va += PAGE_SIZE;

    /* alloc_pgtables_pv(): grow until the tables and 512 KiB + stack fit below a 4 MiB boundary. */
    for (pages = extra;;) {
        try_end = (va + pages * PAGE_SIZE) | (4 * MiB - 1);
        if (try_end < va)
            FAIL("initial mapping wraps past 2^64");
        n3 = level_tables(from, try_end & VADDR_MASK, L4_SHIFT);
        n2 = level_tables(from, try_end & VADDR_MASK, L3_SHIFT);
        n1 = level_tables(from, try_end & VADDR_MASK, L2_SHIFT);
        tables = 1 + n3 + n2 + n1;
        pages = tables + extra;
        if (va + pages * PAGE_SIZE <= try_end + 1)
            break;
    }
    L->nr_l3 = n3;
    L->nr_l2 = n2;
    L->nr_l1 = n1;
    L->nr_pt_frames = tables;
    if (tables >= sizeof(L->pt_order))
        FAIL("model: %lu boot tables are more than modelled", tables);
    L->vpt_start = va;
    pt_pfn = pfn;
    pfn += tables;
    va += tables * PAGE_SIZE;
    L->vpt_end = va;
    L->vstack_start = va;
    stack_pfn = pfn++;
    va += PAGE_SIZE;
    L->vstack_end = va;
    L->v_end = try_end + 1;
    pfn = (L->v_end - L->virt_base) >> PAGE_SHIFT;          /* xc_dom_alloc_pad() */
    if (c->rd_len && !c->rd_mapped) {
        L->rd_pfn = pfn;
        L->rd_pages = pfn_up(c->rd_len);
        pfn += L->rd_pages;
    }
    if (p2m_base) {
        pages = pfn_up(c->nr_pages * sizeof(unsigned long));
        p2m_tables = map_by_level(0, p2m_base, pages, 0, 0, 0, false);
        if (PT_INDEX(p2m_base + pages * PAGE_SIZE - 1, L4_SHIFT) == PT_INDEX(BOOT_VIRT_BASE, L4_SHIFT) ||
            (p2m_base < XEN_VIRT_END && p2m_base + pages * PAGE_SIZE > XEN_VIRT_FIRST))
            FAIL("model: an INIT_P2M area in L4 slot 511 or in Xen's slots is not modelled");
        L->vphysmap_start = p2m_base;
        L->vphysmap_end = p2m_base + pages * PAGE_SIZE;
        L->extra_pt_frames = p2m_tables;
        L->p2m_pfn = pfn + p2m_tables;
        pfn += pages + p2m_tables;
    }
    if (pfn >= c->nr_pages)
        FAIL("count_pgtables: not enough memory for initial mapping (%#lx > %#lx)", pfn, c->nr_pages);
    if (c->hole_pages && (c->hole_pfn < pfn || c->hole_pfn + c->hole_pages > c->nr_pages))
        FAIL("model: a hole must lie between the initial allocations (pfn %#lx) and nr_pages", pfn);
    if (c->vnuma && (!c->hole_pages || c->hole_pfn + c->hole_pages >= c->nr_pages))
        FAIL("model: vNUMA ranges need a hole with memory above it");

    /*
     * populate_physmap in 2 MiB extents; the model hands them out top-down.
     * A hole's pfns get none: their p2m entries stay INVALID (as outside
     * libxenguest's vmemranges).
     */
    nchunks = DIV_ROUND_UP(c->nr_pages, DOMU_EXTENT);
    model_init(MFN_DOM_FIRST + nchunks * (DOMU_EXTENT + 1) + 4096, &opts);
    for (unsigned long k = 0; k < nchunks; k++) {
        unsigned long first = k * DOMU_EXTENT, n = c->nr_pages - first;
        unsigned long end = first + (n < DOMU_EXTENT ? n : DOMU_EXTENT);
        unsigned long mfn = MFN_DOM_FIRST + (nchunks - 1 - k) * (DOMU_EXTENT + 1);
        unsigned long h0 = c->hole_pfn, h1 = c->hole_pfn + c->hole_pages;

        if (!c->hole_pages || h1 <= first || h0 >= end) {
            model_add_extent(first, mfn, end - first, 1);
            continue;
        }
        if (h0 > first)
            model_add_extent(first, mfn, h0 - first, 1);
        if (h1 < end)
            model_add_extent(h1, mfn + (h1 - first), end - h1, 1);
    }
    model_finish_extents();
    M.nr_pages = c->nr_pages;
    if (c->vnuma) {
        M.vnuma[0].start = 0;
        M.vnuma[0].end = c->hole_pfn;
        M.vnuma[1].start = c->hole_pfn + c->hole_pages;
        M.vnuma[1].end = c->nr_pages;
        M.nr_vnuma = 2;
    }

    /* setup_pgtables_pv(): by level; the tables of every mapping read-only. */
    {
        unsigned long l4 = pt_pfn, l3 = l4 + 1, l2 = l3 + n3, l1 = l2 + n2;
        unsigned long mapped = (L->v_end - L->virt_base) >> PAGE_SHIFT;
        unsigned long b3 = from & ~((1UL << L4_SHIFT) - 1), b2 = from & ~((1UL << L3_SHIFT) - 1);
        unsigned long b1 = from & ~((1UL << L2_SHIFT) - 1);
        unsigned long p2m_pt_first = p2m_base ? L->p2m_pfn - p2m_tables : ~0UL;

        for (unsigned long i = 0; i < mapped; i++) {
            unsigned long a = from + (i << PAGE_SHIFT);
            uint64_t prot = L1_PROT_DOMU;

            if ((i >= pt_pfn && i < pt_pfn + tables))
                prot &= ~(uint64_t)_PAGE_RW;
            set_entry(l1 + ((a - b1) >> L2_SHIFT), PT_INDEX(a, L1_SHIFT),
                      ((uint64_t)model_p2m(i) << PAGE_SHIFT) | prot);
        }
        for (unsigned long k = 0; k < n1; k++) {
            unsigned long a = b1 + (k << L2_SHIFT);

            set_entry(l2 + ((a - b2) >> L3_SHIFT), PT_INDEX(a, L2_SHIFT),
                      ((uint64_t)pt_pfn_mfn(l1 + k) << PAGE_SHIFT) | UPPER_PROT);
        }
        for (unsigned long k = 0; k < n2; k++) {
            unsigned long a = b2 + (k << L3_SHIFT);

            set_entry(l3 + ((a - b3) >> L4_SHIFT), PT_INDEX(a, L3_SHIFT),
                      ((uint64_t)pt_pfn_mfn(l2 + k) << PAGE_SHIFT) | UPPER_PROT);
        }
        for (unsigned long k = 0; k < n3; k++) {
            unsigned long a = b3 + (k << L4_SHIFT);

            set_entry(l4, PT_INDEX(a, L4_SHIFT), ((uint64_t)pt_pfn_mfn(l3 + k) << PAGE_SHIFT) | UPPER_PROT);
        }
        if (p2m_base) {
            /* The list's own tables are read-only where the main mapping maps them: not at all. */
            map_by_level(l4, p2m_base, (L->vphysmap_end - p2m_base) >> PAGE_SHIFT, L->p2m_pfn,
                         p2m_pt_first, L1_PROT_DOMU, true);
        }
        memset(L->pt_order, '1', tables);
        L->pt_order[0] = '4';
        memset(L->pt_order + 1, '3', n3);
        memset(L->pt_order + 1 + n3, '2', n2);
        L->pt_order[tables] = 0;
        L->l4_pfn = l4;
        L->l4_mfn = pt_pfn_mfn(l4);
    }
    mark_content(c, L);

    start_info_t *si = &L->si;

    memset(si, 0, sizeof(*si));
    snprintf(si->magic, sizeof(si->magic), "xen-3.0-x86_64");
    si->nr_pages = c->nr_pages - (c->vnuma ? c->hole_pages : 0);
    si->shared_info = MFN_SHARED_INFO << PAGE_SHIFT;
    si->pt_base = L->vpt_start;
    si->nr_pt_frames = tables;
    si->mfn_list = L->vphysmap_start;
    if (p2m_base) {
        si->first_p2m_pfn = L->p2m_pfn - p2m_tables;
        si->nr_p2m_frames = pfn_up(c->nr_pages * 8) + p2m_tables;
    }
    /*
     * xc_dom_allocate() sets SIF_VIRT_P2M_4TOOLS, but libxl's PV build
     * overwrites dom->flags: xl-created guests see 0 (as the rig's domU
     * boots print).
     */
    si->flags = 0;
    si->store_mfn = model_p2m(store_pfn);
    si->store_evtchn = 1;
    si->console.domU.mfn = model_p2m(console_pfn);
    si->console.domU.evtchn = 2;
    if (c->rd_len) {
        if (c->rd_mapped) {
            si->mod_start = L->vinitrd_start;
            si->mod_len = c->rd_len;
        } else {
            si->flags |= SIF_MOD_START_PFN;
            si->mod_start = L->rd_pfn;
            si->mod_len = L->rd_pages << PAGE_SHIFT;    /* libxenguest rounds it to pages */
        }
    }
    if (c->cmdline)
        snprintf((char *)si->cmd_line, sizeof(si->cmd_line), "%s", c->cmdline);
    (void)si_pfn;
    (void)stack_pfn;
    write_start_info(L);
    return load(L);
}

int build_boot(const struct boot_cfg *c, struct boot_layout *L)
{
    int rc;

    if (!c->nr_pages)
        return snprintf(L->err, sizeof(L->err), "nr_pages is 0"), -1;
    rc = c->builder == BUILD_DOM0 ? build_dom0(c, L) : build_domu(c, L);
    if (rc)
        return rc;
    L->window_pages = BOOT_WINDOW_PAGES;
    L->window_va = L->virt_base + BOOT_WINDOW_OFFSET;
    if (L->image_end < L->window_va + BOOT_WINDOW_PAGES * PAGE_SIZE)
        L->window_va = L->image_end - BOOT_WINDOW_PAGES * PAGE_SIZE;
    return 0;
}
