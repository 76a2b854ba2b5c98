/* SPDX-License-Identifier: MIT */
/*
 * plan.c - the next kernel's layout, as libxenguest's builder makes it
 * (xc_dom_build_image, alloc_pgtables_pv, count_pgtables), and its frames.
 *
 * The initial region, from VIRT_BASE (pfn 0) up:
 *
 *   pfn 0                                                      v_end
 *   | padding to the kernel | kernel | [initrd] | [p2m list] | start_info
 *   | [xenstore, console] | page tables L4, L3, L2, L1... | boot stack
 *   | padding: >= 512 KiB, to a 4 MiB boundary |
 *   then, outside the mapping: [initrd by pfn] [INIT_P2M list + its tables]
 *
 * (the initrd mapped unless the kernel says MOD_START_PFN; the p2m list in
 * the region unless INIT_P2M names a page-aligned address below
 * VIRT_BASE).  The page tables map the region and themselves, so their
 * count is a fixed point: libxenguest grows the guess until the tables,
 * the stack and the padding fit below the next 4 MiB boundary.
 *
 * Frames: the next kernel's pfn p keeps the frame that is pfn p today,
 * unless the plan writes p and that frame is live (the shim's tables, p2m,
 * image, the bootpack) or there is none (a hole); then p takes a free
 * frame from the top of memory, and the frame it had moves up into the
 * place that one left.  The xenstore and console slots take the rings'
 * own frames (the toolstack and xenconsoled have them mapped; a kernel
 * finds them at these pfns, as libxenguest leaves them).  The live frames
 * end up at pfns the next kernel sees as free RAM, unwritten: the 2006
 * kexec rule (build beside the live tables, never over them) costs one M2P
 * update per move and not one copy.
 */
#include "plan.h"
#include "lib/lib.h"

#define FAIL(...) do { format(why, why_len, __VA_ARGS__); return false; } while (0)

#define PAGE            4096UL
#define VADDR_MASK      ((1ULL << 48) - 1)
#define PADDING_PAGES   ((512 * 1024) / PAGE)

static uint64_t pages_of(uint64_t bytes)
{
    return (bytes + PAGE - 1) / PAGE;
}

/* libxenguest's count_pgtables for 4 levels: [from, to] inclusive, mapping m of 2. */
struct range { uint64_t from, to; };

static void count_tables(uint64_t from, uint64_t to, const struct range *first, struct range *lv,
                         struct plan_tables *t)
{
    from &= VADDR_MASK;
    to &= VADDR_MASK;
    *t = (struct plan_tables){ .count = { 0 } };
    if (!first) {
        t->count[3] = 1;                /* the L4: in the first mapping only */
        t->total = 1;
    }
    for (int l = 2; l >= 0; l--) {
        unsigned int bits = 12 + (l + 1) * 9;
        uint64_t mask = (1ULL << bits) - 1;
        uint64_t f = from & ~mask, e = to | mask;

        if (first && first[l].from != first[l].to) {
            if (f >= first[l].from && e <= first[l].to) {
                f = e = 0;              /* the first mapping's tables cover it */
            } else {
                if (f >= first[l].from && f <= first[l].to)
                    f = first[l].to + 1;
                if (e >= first[l].from && e <= first[l].to)
                    e = first[l].from - 1;
            }
        }
        if (lv)
            lv[l] = (struct range){ f, e };
        if (f < e)
            t->count[l] = ((e - f) >> bits) + 1;
        t->total += t->count[l];
    }
}

/* A mapping's record: its area, and its tables level by level from the top, from pfn on. */
static void set_map(struct plan_map *m, uint64_t from, uint64_t to, unsigned long area_pfn,
                    const struct range *lv, const struct plan_tables *t, unsigned long pfn)
{
    m->from = from & VADDR_MASK;
    m->to = to & VADDR_MASK;
    m->pfn = area_pfn;
    for (int l = 3; l >= 0; l--) {
        m->lv[l].from = l == 3 ? 0 : lv[l].from;
        m->lv[l].count = t->count[l];
        m->lv[l].pfn = pfn;
        pfn += t->count[l];
    }
}

/* The first index in [lo, hi) whose move is for pfn x or above (hi: none). */
static unsigned long first_move_from(const struct plan_move *moves, unsigned long lo, unsigned long hi,
                                     unsigned long x)
{
    while (lo < hi) {
        unsigned long mid = lo + (hi - lo) / 2;

        if (moves[mid].pfn < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static unsigned long from_at(const struct plan_move *moves, unsigned long nr_moves, unsigned long i,
                             unsigned long x)
{
    return i < nr_moves && moves[i].pfn == x ? moves[i].from : x;
}

unsigned long plan_from(const struct plan_move *moves, unsigned long nr_moves, unsigned long x)
{
    return from_at(moves, nr_moves, first_move_from(moves, 0, nr_moves, x), x);
}

unsigned long plan_from_at(const struct plan_move *moves, unsigned long nr_moves, unsigned long x,
                           unsigned long *at)
{
    unsigned long i = *at;

    /* Every move left of i must be for a pfn below x; else search from the start. */
    if (i > nr_moves || (i && moves[i - 1].pfn >= x))
        i = 0;
    /* One step covers an ascending sweep; a longer way is searched. */
    if (i < nr_moves && moves[i].pfn < x && ++i < nr_moves && moves[i].pfn < x)
        i = first_move_from(moves, i, nr_moves, x);
    *at = i;
    return from_at(moves, nr_moves, i, x);
}

bool plan_is_table(const struct plan_out *p, unsigned long pfn)
{
    for (unsigned int m = 0; m < p->nr_maps; m++)
        for (unsigned int l = 0; l < 4; l++)
            if (pfn >= p->map[m].lv[l].pfn && pfn - p->map[m].lv[l].pfn < p->map[m].lv[l].count)
                return true;
    return false;
}

bool plan_entry(const struct plan_out *p, unsigned int m, unsigned int level, unsigned long table,
                unsigned int slot, unsigned long *pfn, bool *table_pfn)
{
    const struct plan_map *map = &p->map[m];
    unsigned int shift = 12 + 9 * level;        /* what one entry spans */
    uint64_t va = map->lv[level].from + ((uint64_t)table << (shift + 9)) + ((uint64_t)slot << shift);

    if (level == 0) {
        /* Whichever mapping's area holds va (libxenguest fills an L1 from every area it covers). */
        for (unsigned int n = 0; n < p->nr_maps; n++)
            if (va >= p->map[n].from && va <= p->map[n].to) {
                *pfn = p->map[n].pfn + ((va - p->map[n].from) >> 12);
                *table_pfn = plan_is_table(p, *pfn);
                return true;
            }
        return false;
    }
    /* The next level's table that covers va, in whichever mapping has it (libxenguest's get_pg_table). */
    for (unsigned int n = 0; n < p->nr_maps; n++) {
        uint64_t from = p->map[n].lv[level - 1].from;
        unsigned long count = p->map[n].lv[level - 1].count;

        if (count && va >= from && ((va - from) >> shift) < count) {
            *pfn = p->map[n].lv[level - 1].pfn + ((va - from) >> shift);
            *table_pfn = true;
            return true;
        }
    }
    return false;
}

struct alloc {
    uint64_t va;                        /* virt_alloc_end */
    unsigned long pfn;                  /* pfn_alloc_end */
};

static void take(struct alloc *a, struct plan_seg *s, unsigned long pages, bool mapped)
{
    s->pfn = a->pfn;
    s->pages = pages;
    s->va = mapped ? a->va : 0;
    a->pfn += pages;
    a->va += pages * PAGE;
}

/* Sorted by pfn: the moves past the plan arrive in descending order, with the rings' at the end. */
static void sort_tail(struct plan_move *m, unsigned long n)
{
    for (unsigned long i = 0, j = n ? n - 1 : 0; i < j; i++, j--) {
        struct plan_move t = m[i];

        m[i] = m[j];
        m[j] = t;
    }
    for (unsigned long i = 1; i < n; i++)           /* nearly sorted: insertion is linear */
        for (unsigned long j = i; j && m[j - 1].pfn > m[j].pfn; j--) {
            struct plan_move t = m[j];

            m[j] = m[j - 1];
            m[j - 1] = t;
        }
}

static bool plan_frames(const struct plan_in *in, struct plan_out *out, struct plan_move *moves,
                        unsigned long cap, char *why, size_t why_len)
{
    unsigned long cand = in->nr_pages, n = 0, first_high, d;
    unsigned long slot[2] = { PLAN_NO_FRAME, PLAN_NO_FRAME }, src[2] = { PLAN_NO_FRAME, PLAN_NO_FRAME };

#define MOVE(p, f) do {                                                             \
        if (n == cap)                                                               \
            FAIL("plan: more than %lu frames to move", cap);                        \
        moves[n++] = (struct plan_move){ (p), (f) };                                \
    } while (0)

    if (in->ring_pages) {
        slot[0] = out->xenstore.pfn;
        slot[1] = out->console.pfn;
        src[0] = in->store_pfn;
        src[1] = in->console_pfn;
        for (unsigned int r = 0; r < 2; r++)
            if (src[r] >= in->nr_pages || !in->ram(src[r], in->arg) || !in->live(src[r], in->arg))
                FAIL("plan: the %s ring at pfn %#lx is not a live frame of the domain",
                     r ? "console" : "xenstore", src[r]);
        if (src[0] == src[1])
            FAIL("plan: the xenstore and console rings share pfn %#lx", src[0]);
    }
    /* The written pfns: their own frame if it is free, a ring's in its slot, else one from the top. */
    for (unsigned long p = 0; p < out->last_pfn; p++) {
        if (p == slot[0] || p == slot[1]) {
            unsigned long f = src[p == slot[1]];

            if (f != p)
                MOVE(p, f);
            continue;
        }
        if (in->ram(p, in->arg) && !in->live(p, in->arg))
            continue;
        while (cand > out->last_pfn && (!in->ram(cand - 1, in->arg) || in->live(cand - 1, in->arg)))
            cand--;
        if (cand <= out->last_pfn)
            FAIL("plan: too few free frames past pfn %#lx to move the live ones out of the next "
                 "kernel's way (%lu moved so far)", out->last_pfn, n);
        MOVE(p, --cand);
    }
    /*
     * The places left empty (the free frames' old pfns, and a ring's if it
     * lay past the plan) take the frames moved out of the written pfns, in
     * order; with holes some stay empty: the holes moved up.
     */
    first_high = n;
    for (unsigned long i = 0; i < first_high; i++) {
        unsigned long f = moves[i].from;

        if (f >= out->last_pfn && f != src[0] && f != src[1])
            MOVE(f, PLAN_NO_FRAME);                 /* a free frame's old place: filled below */
    }
    for (unsigned int r = 0; r < 2; r++)
        if (src[r] != PLAN_NO_FRAME && src[r] >= out->last_pfn)
            MOVE(src[r], PLAN_NO_FRAME);
    d = first_high;
    for (unsigned long i = 0; i < first_high; i++) {
        unsigned long p = moves[i].pfn;

        if (!in->ram(p, in->arg) || p == src[0] || p == src[1])
            continue;                               /* a hole, or a ring: nothing displaced */
        if (d == n)
            FAIL("plan: more frames displaced than places to put them (pfn %#lx)", p);
        moves[d++].from = p;
    }
    sort_tail(moves + first_high, n - first_high);
    out->nr_moves = n;
    return true;
#undef MOVE
}

bool handoff_plan(const struct plan_in *in, struct plan_out *out, struct plan_move *moves,
                  unsigned long cap, char *why, size_t why_len)
{
    const struct xen_elf *k = in->kernel;
    const uint64_t vb = k->virt_base;
    struct range first[3], lv[3];
    struct alloc a = { vb, 0 };
    unsigned long extra, pages;
    uint64_t try_end, p2m_base = k->init_p2m;

    memset(out, 0, sizeof(*out));
    if (k->virt_kstart & (PAGE - 1) || k->virt_kstart < vb)
        FAIL("plan: the kernel starts at %#lx, not on a page at or above VIRT_BASE %#lx",
             (unsigned long)k->virt_kstart, (unsigned long)vb);

    /* The hypercall page is written into the kernel's pages (Xen's dom0 builder refuses one past the region). */
    if (k->hypercall_page != XEN_ELF_UNSET &&
        (k->hypercall_page & (PAGE - 1) || k->hypercall_page < k->virt_kstart ||
         k->hypercall_page >= k->virt_kend))
        FAIL("plan: HYPERCALL_PAGE %#lx is not a page of the kernel [%#lx, %#lx)",
             (unsigned long)k->hypercall_page, (unsigned long)k->virt_kstart, (unsigned long)k->virt_kend);
    /* xc_dom_alloc_segment(kernel): padding from VIRT_BASE to the kernel, then the kernel. */
    a.pfn = (k->virt_kstart - vb) / PAGE;
    a.va = k->virt_kstart;
    take(&a, &out->kernel, pages_of(k->virt_kend - k->virt_kstart), true);
    out->initrd_mapped = in->initrd_len && !k->mod_start_pfn;
    if (out->initrd_mapped)
        take(&a, &out->initrd, pages_of(in->initrd_len), true);
    /* INIT_P2M counts only for a page-aligned address below VIRT_BASE (xc_dom_build_image). */
    out->init_p2m = p2m_base != XEN_ELF_UNSET && p2m_base < vb && !(p2m_base & (PAGE - 1));
    if (!out->init_p2m)
        take(&a, &out->p2m, pages_of(in->nr_pages * 8), true);
    take(&a, &out->start_info, 1, true);
    if (in->ring_pages) {
        take(&a, &out->xenstore, 1, true);
        take(&a, &out->console, 1, true);
    }

    /* alloc_pgtables_pv: the tables, the stack and 512 KiB below a 4 MiB boundary. */
    extra = 1 + PADDING_PAGES;
    pages = extra;
    for (unsigned int rounds = 0;; rounds++) {
        try_end = (a.va + pages * PAGE) | ((4UL << 20) - 1);
        if (try_end < a.va || rounds > 64)
            FAIL("plan: the initial region does not fit below 2^64");
        count_tables(vb, try_end, NULL, NULL, &out->tables);
        pages = out->tables.total + extra;
        if (a.va + pages * PAGE <= try_end + 1)
            break;
    }
    count_tables(vb, try_end, NULL, first, &out->tables);
    out->v_end = try_end + 1;
    out->region_pages = (out->v_end - vb) / PAGE;
    if (out->region_pages > in->nr_pages)
        FAIL("plan: the initial region needs %lu pages (kernel %lu, initrd %lu); the domain has %lu",
             out->region_pages, out->kernel.pages, out->initrd.pages, in->nr_pages);
    /* Linux's xen_setup_kernel_pagetable takes over one L2 for the whole region. */
    if (out->tables.count[1] != 1)
        FAIL("plan: an initial region of %lu pages [%#lx, %#lx) needs %lu L2 tables; Linux takes "
             "over one", out->region_pages, (unsigned long)vb, (unsigned long)out->v_end,
             out->tables.count[1]);
    take(&a, &out->pgtables, out->tables.total, true);
    set_map(&out->map[0], vb, try_end, 0, first, &out->tables, out->pgtables.pfn);
    out->nr_maps = 1;
    take(&a, &out->stack, 1, true);
    a.pfn = out->region_pages;          /* xc_dom_alloc_pad */
    a.va = out->v_end;

    if (in->initrd_len && !out->initrd_mapped)
        take(&a, &out->initrd, pages_of(in->initrd_len), false);
    if (out->init_p2m) {
        uint64_t bytes = pages_of(in->nr_pages * 8) * PAGE;

        if (p2m_base + bytes - 1 < p2m_base || (p2m_base < out->v_end && p2m_base + bytes > vb))
            FAIL("plan: the INIT_P2M list at %#lx overlaps the initial region",
                 (unsigned long)p2m_base);
        count_tables(p2m_base, p2m_base + bytes - 1, first, lv, &out->p2m_tables);
        take(&a, &out->p2m, bytes / PAGE + out->p2m_tables.total, false);
        out->p2m.va = p2m_base;
        set_map(&out->map[1], p2m_base, p2m_base + bytes - 1, out->p2m.pfn, lv, &out->p2m_tables,
                out->p2m.pfn + bytes / PAGE);
        out->nr_maps = 2;
    }
    out->last_pfn = a.pfn;
    if (out->last_pfn > in->nr_pages)
        FAIL("plan: the next kernel needs pfns up to %#lx (region %lu pages, initrd %lu, p2m %lu); "
             "the domain has %lu", out->last_pfn, out->region_pages, out->initrd.pages,
             out->p2m.pages, in->nr_pages);

    return !moves || plan_frames(in, out, moves, cap, why, why_len);
}
