/* SPDX-License-Identifier: MIT */
/*
 * record.c - the first shim's page tables and p2m, written down for the
 * next kernel (record.h), and a second shim's check of them.
 *
 * First shim: record_reserve() walks both L4s once to size the record and
 * takes its pages (before the plan, so that they are live and the plan
 * moves them out of the next kernel's way); record_fill() walks again at
 * the last moment, when nothing will change any more, and hashes each
 * frame.  Xen's L4 slots (256-271) are Xen's, not the shim's, and are
 * left out; the L1s under the p2m's L4 slot map the list's pages.
 *
 * Second shim: record_check() runs before the bring-up, when the only
 * mappings are Xen's initial ones.  It looks at each frame through one
 * window page of its own image (update_va_mapping), read-only for the
 * hash, then writable: Xen refuses a writable mapping of a frame that is
 * still typed as a page table, so a frame the first shim left pinned, or
 * a table Xen never devalidated, is named here.
 */
#include "record.h"
#include "pv/mmu_plat.h"
#include "pv/layout.h"
#include "pv/mmu.h"
#include "pv/p2m.h"
#include "pv/page_alloc.h"
#include "lib/result.h"
#include "lib/console.h"
#include "lib/xxhash.h"
#include "lib/lib.h"

#define AD_MASK (~(_PAGE_ACCESSED | _PAGE_DIRTY))

/*
 * A table's hash: Accessed and Dirty masked (the CPU sets them), and in an
 * L4 Xen's own slots left out (Xen writes them).  Both shims hash alike.
 */
static uint64_t table_hash(uint64_t *t, uint64_t kind)
{
    for (unsigned int i = 0; i < 512; i++)
        t[i] = kind == RECORD_L4 && i >= XEN_FIRST_SLOT && i <= XEN_LAST_SLOT ? 0 : t[i] & AD_MASK;
    return xxh64(t, PAGE_SIZE, 0);
}

/* ----------------------------------------------------------- first shim */

static unsigned long rec_pfn, rec_pages, rec_cap, rec_n, seen_bytes;
static uint8_t *seen;                       /* bit per pfn: already in the record */
static bool filling;
static struct record_head *head;
static uint64_t table_buf[512];

static bool first_visit(unsigned long mfn)
{
    unsigned long pfn = mfn_to_pfn(mfn);

    if (pfn == INVALID_PFN || pfn / 8 >= seen_bytes)
        result_error("hand-off: the record meets mfn %#lx, which is not one of the domain's pfns", mfn);
    if (seen[pfn / 8] & (1u << (pfn % 8)))
        return false;
    seen[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
    return true;
}

static void add(unsigned long mfn, unsigned int kind)
{
    if (filling) {
        struct record_entry *e;
        const uint8_t *page = plat_view(mmu_table_va(mfn), PAGE_SIZE, false);

        if (rec_n == rec_cap)
            result_error("hand-off: the record holds %lu frames; the shim has more now", rec_cap);
        e = (struct record_entry *)plat_view(pfn_to_virt(rec_pfn + 1 + rec_n / RECORD_PER_PAGE),
                                             PAGE_SIZE, true) + rec_n % RECORD_PER_PAGE;
        e->mfn = mfn;
        e->kind = kind;
        if (kind == RECORD_P2M) {
            e->hash = xxh64(page, PAGE_SIZE, 0);
        } else {
            memcpy(table_buf, page, PAGE_SIZE);
            e->hash = table_hash(table_buf, kind);
        }
        head->count[kind]++;
    }
    rec_n++;
}

static void walk(unsigned long mfn, unsigned int level, bool p2m)
{
    if (!first_visit(mfn))
        return;
    add(mfn, level);
    for (unsigned int s = 0; s < 512; s++) {
        pte_t e;

        if (level == 4 && s >= XEN_FIRST_SLOT && s <= XEN_LAST_SLOT)
            continue;
        e = mmu_read_entry(mfn, s);
        if (!(e & _PAGE_PRESENT))
            continue;
        if (level > 1)
            walk(PTE_MFN(e), level - 1, p2m || (level == 4 && s == P2M_L4_SLOT));
        else if (p2m && first_visit(PTE_MFN(e)))
            add(PTE_MFN(e), RECORD_P2M);
    }
}

static void walk_all(void)
{
    rec_n = 0;
    walk(mmu_pfn_to_mfn(init_mm.kernel_l4), 4, false);
    if (init_mm.user_l4)
        walk(mmu_pfn_to_mfn(init_mm.user_l4), 4, false);
}

void record_reserve(unsigned long nr_pfns)
{
    seen_bytes = DIV_ROUND_UP(nr_pfns, 8);
    seen = plat_view(pfn_to_virt(pages_alloc_contig(DIV_ROUND_UP(seen_bytes, PAGE_SIZE), "record map")),
                     seen_bytes, true);
    memset(seen, 0, seen_bytes);
    filling = false;
    walk_all();
    rec_cap = rec_n + 16;                   /* the trampoline's L1, and room to spare */
    rec_pages = 1 + DIV_ROUND_UP(rec_cap, RECORD_PER_PAGE);
    if (rec_pages > RECORD_MAX_PAGES + 1)
        result_error("hand-off: a record of %lu frames needs %lu pages; the head names %u",
                     rec_cap, rec_pages, RECORD_MAX_PAGES);
    rec_pfn = pages_alloc_contig(rec_pages, "hand-off record");
}

unsigned long record_head_mfn(void)
{
    return rec_pages ? mmu_pfn_to_mfn(rec_pfn) : 0;
}

void record_fill(void)
{
    if (!rec_pages)
        return;
    head = plat_view(pfn_to_virt(rec_pfn), PAGE_SIZE, true);
    memset(head, 0, PAGE_SIZE);
    memset(seen, 0, seen_bytes);
    filling = true;
    walk_all();
    head->magic = RECORD_MAGIC;
    head->nr_entries = rec_n;
    head->nr_pages = DIV_ROUND_UP(rec_n, RECORD_PER_PAGE);
    head->kernel_l4 = mmu_pfn_to_mfn(init_mm.kernel_l4);
    head->user_l4 = init_mm.user_l4 ? mmu_pfn_to_mfn(init_mm.user_l4) : 0;
    for (unsigned long i = 0; i < head->nr_pages; i++)
        head->page_mfn[i] = mmu_pfn_to_mfn(rec_pfn + 1 + i);
    printk("hand-off: record at mfn %#lx: %lu page tables (L4 %lu, L3 %lu, L2 %lu, L1 %lu), "
           "%lu p2m pages\n", record_head_mfn(), (unsigned long)(rec_n - head->count[RECORD_P2M]),
           (unsigned long)head->count[RECORD_L4], (unsigned long)head->count[RECORD_L3],
           (unsigned long)head->count[RECORD_L2], (unsigned long)head->count[RECORD_L1],
           (unsigned long)head->count[RECORD_P2M]);
}

/* ---------------------------------------------------------- second shim */

static uint8_t window[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));
static struct record_entry entries[PAGE_SIZE / sizeof(struct record_entry) + 1];  /* one page, copied */
static struct record_head rhead;
static unsigned long window_own_mfn;

static long window_map(unsigned long mfn, bool writable)
{
    pte_t e = ((pte_t)mfn << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_ACCESSED |
              (writable ? _PAGE_RW | _PAGE_DIRTY : 0);

    return plat_update_va_mapping((unsigned long)window, e, UVMF_INVLPG | UVMF_LOCAL);
}

static void window_restore(void)
{
    long rc = window_map(window_own_mfn, true);

    if (rc)
        result_error("handoff-record: could not map the window page back: %ld", rc);
}

static const char *kind_name(uint64_t kind)
{
    static const char *const names[] = { "?", "L1", "L2", "L3", "L4" };

    return kind == RECORD_P2M ? "p2m page" : kind <= RECORD_L4 ? names[kind] : "?";
}

static void copy_frame(unsigned long mfn, void *to, const char *what)
{
    long rc = window_map(mfn, false);

    if (rc) {
        window_restore();
        result_error("handoff-record: %s mfn %#lx cannot be mapped read-only: %ld", what, mfn, rc);
    }
    memcpy(to, window, PAGE_SIZE);
}

static void check_writable(unsigned long mfn, const char *what)
{
    long rc = window_map(mfn, true);

    window_restore();
    if (rc)
        result_error("handoff-record: the first shim's %s (mfn %#lx) cannot be mapped writable: Xen "
                     "says %ld, so it is still pinned or in use as a page table", what, mfn, rc);
}

/* "handoff-record=0x<hex>" on the command line: the head's mfn (0: none, or not a number). */
static unsigned long record_arg(const char *cmdline)
{
    static const char word[] = RECORD_WORD "=0x";

    for (const char *p = cmdline; *p; p++) {
        unsigned long v = 0;
        unsigned int digits = 0;

        if ((p != cmdline && p[-1] != ' ') || strncmp(p, word, sizeof(word) - 1))
            continue;
        for (p += sizeof(word) - 1; digits < 16; p++, digits++) {
            unsigned int d = *p >= '0' && *p <= '9' ? (unsigned int)(*p - '0')
                           : *p >= 'a' && *p <= 'f' ? (unsigned int)(*p - 'a' + 10) : 16;

            if (d == 16)
                break;
            v = v << 4 | d;
        }
        if (!digits || (*p && *p != ' '))
            result_error("handoff-record: the command line's " RECORD_WORD "= is not 0x<hex>");
        return v;
    }
    return 0;
}

void record_check(const start_info_t *si, unsigned long virt_base)
{
    unsigned long head_mfn = record_arg((const char *)si->cmd_line), bad = 0;
    static uint64_t frame[512];

    if (!head_mfn)
        return;
    window_own_mfn = pfn_to_mfn(((unsigned long)window - virt_base) >> PAGE_SHIFT);
    copy_frame(head_mfn, frame, "record head");
    memcpy(&rhead, frame, sizeof(rhead));
    window_restore();
    if (rhead.magic != RECORD_MAGIC || rhead.nr_pages > RECORD_MAX_PAGES ||
        rhead.nr_entries > rhead.nr_pages * RECORD_PER_PAGE)
        result_error("handoff-record: mfn %#lx holds no record (magic %#lx, %lu entries in %lu pages)",
                     head_mfn, (unsigned long)rhead.magic, (unsigned long)rhead.nr_entries,
                     (unsigned long)rhead.nr_pages);
    for (unsigned long i = 0; i < rhead.nr_entries; i++) {
        const struct record_entry *e = &entries[i % RECORD_PER_PAGE];
        unsigned long pfn;
        uint64_t h;

        if (i % RECORD_PER_PAGE == 0)
            copy_frame(rhead.page_mfn[i / RECORD_PER_PAGE], entries, "record page");
        pfn = mfn_to_pfn_probe(e->mfn);
        if (pfn == INVALID_PFN || pfn >= p2m_nr_pages() || pfn_to_mfn(pfn) != e->mfn)
            result_error("handoff-record: %s mfn %#lx: the M2P says pfn %#lx, and the p2m does not "
                         "name it there", kind_name(e->kind), (unsigned long)e->mfn, pfn);
        copy_frame(e->mfn, frame, kind_name(e->kind));
        h = e->kind == RECORD_P2M ? xxh64(frame, PAGE_SIZE, 0) : table_hash(frame, e->kind);
        if (h != e->hash && !bad++)
            printk("handoff-record: %s mfn %#lx (pfn %#lx) changed: xxh64 %#lx, recorded %#lx\n",
                   kind_name(e->kind), (unsigned long)e->mfn, pfn, (unsigned long)h,
                   (unsigned long)e->hash);
    }
    window_restore();
    if (bad)
        result_error("handoff-record: %lu of the first shim's %lu frames changed", bad,
                     (unsigned long)rhead.nr_entries);
    /* Writable now: both L4s first, since a pin left behind shows there. */
    check_writable(rhead.kernel_l4, "kernel L4");
    if (rhead.user_l4)
        check_writable(rhead.user_l4, "user L4");
    for (unsigned long i = 0; i < rhead.nr_entries; i++) {
        const struct record_entry *e = &entries[i % RECORD_PER_PAGE];

        if (i % RECORD_PER_PAGE == 0) {
            copy_frame(rhead.page_mfn[i / RECORD_PER_PAGE], entries, "record page");
            window_restore();
        }
        check_writable(e->mfn, kind_name(e->kind));
    }
    printk("handoff-record: %lu page tables (L4 %lu, L3 %lu, L2 %lu, L1 %lu), %lu p2m pages of the "
           "first shim: unchanged, in the p2m and the M2P, writable now\n",
           (unsigned long)(rhead.nr_entries - rhead.count[RECORD_P2M]),
           (unsigned long)rhead.count[RECORD_L4], (unsigned long)rhead.count[RECORD_L3],
           (unsigned long)rhead.count[RECORD_L2], (unsigned long)rhead.count[RECORD_L1],
           (unsigned long)rhead.count[RECORD_P2M]);
}
