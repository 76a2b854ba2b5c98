/* SPDX-License-Identifier: MIT */
/*
 * suspend.c - SCHEDOP_shutdown(SHUTDOWN_suspend) and what it asks of a PV
 * guest, in the order the toolstack forces:
 *
 *   before   flush the update batch; unmap shared_info (a Xen page: the
 *            save code cannot turn its mfn into a pfn and silently drops
 *            the whole table page that maps it); prove that every present
 *            entry of every table maps a frame of ours whose p2m and M2P
 *            agree (the save code would drop a table with a bad entry, not
 *            report it); hash the tables normalised to pfns; turn the
 *            store and console mfns in start_info into pfns
 *   suspend  vCPU 0, rdx = start_info's mfn (the tools read it from the
 *            saved registers: "Bad mfn for suspend record" otherwise)
 *   rc 1     the same domain (xl save -c, a cancelled or failed save):
 *            the pfns back to mfns, shared_info mapped again
 *   rc 0     a new domain, every mfn changed: start_info re-read and
 *            checked, console and store on their new ports, shared_info
 *            at its new address, the p2m published again (p2m_cr3 and the
 *            frame list hold old mfns)
 *   proof    the same table hash, test pages, ramdisk hash; p2m and M2P
 *            agree for every pfn; the self-checks, an mmu_update, ring 3,
 *            module space; the pinned L4s are still pinned
 *
 * Only the MM side is here, written against mmu_plat.h (plat_suspend() is
 * the hypercall), so that the host model runs it too (tests/model, with
 * its own save and restore); the console, the ports, xenstore and ring 3
 * are the platform's hooks (lifecycle.c).
 */
#include "pv/suspend.h"
#include "pv/batch.h"
#include "pv/layout.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/p2m.h"
#include "pv/page_alloc.h"
#include "pv/ramdisk.h"
#include "mm/pt_walk.h"
#include "lib/config.h"
#include "lib/console.h"
#include "lib/result.h"
#include "lib/xxhash.h"
#include "lib/lib.h"

#define TEST_PAGES 64

static start_info_t *si;
static const struct suspend_hooks *hooks;
static unsigned long si_pfn, store_pfn, console_pfn;
static unsigned long test_pfn[TEST_PAGES];
static unsigned long watched_mfn[TEST_PAGES + 2];    /* test pages, both L4s: did the restore move them? */

static unsigned long watched_pfn(unsigned int i)
{
    return i < TEST_PAGES ? test_pfn[i] : i == TEST_PAGES ? init_mm.kernel_l4 : init_mm.user_l4;
}
static uint64_t seed;
static unsigned long rd_va, rd_len;
static uint64_t rd_hash;

static uint64_t pattern(unsigned long pfn, unsigned int i)
{
    uint64_t x = seed ^ ((uint64_t)pfn << 20) ^ i;

    x *= 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

static void fill_test_pages(void)
{
    for (unsigned int p = 0; p < TEST_PAGES; p++)
        for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
            plat_write64(pfn_to_virt(test_pfn[p]) + i * 8, pattern(test_pfn[p], i));
}

/* The first test page whose pattern is wrong, or 0. */
static unsigned long bad_test_page(void)
{
    for (unsigned int p = 0; p < TEST_PAGES; p++)
        for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
            if (plat_read64(pfn_to_virt(test_pfn[p]) + i * 8) != pattern(test_pfn[p], i))
                return test_pfn[p];
    return 0;
}

/* XXH64 of [va, va + len), a page at a time (on the model a view of many pages moves their words). */
static uint64_t hash_range(unsigned long va, unsigned long len)
{
    struct xxh64_state h;

    xxh64_init(&h, 0);
    for (unsigned long off = 0; off < len; off += PAGE_SIZE) {
        unsigned long n = len - off < PAGE_SIZE ? len - off : PAGE_SIZE;

        xxh64_update(&h, plat_view(va + off, n, false), n);
    }
    return xxh64_digest(&h);
}

void suspend_prepare(start_info_t *start_info, unsigned long start_info_pfn, const struct suspend_hooks *h)
{
    si = start_info;
    hooks = h;
    si_pfn = start_info_pfn;
    store_pfn = mfn_to_pfn(si->store_mfn);
    console_pfn = mfn_to_pfn(si->console.domU.mfn);
    seed = plat_tsc() | 1;
    for (unsigned int p = 0; p < TEST_PAGES; p++)
        test_pfn[p] = pages_alloc("a suspend test page");
    fill_test_pages();
    /* start_info's flags are 0 after a restore: where the ramdisk is, is learnt now. */
    if (si->mod_len) {
        rd_va = ramdisk_va(si);
        rd_len = si->mod_len;
        rd_hash = hash_range(rd_va, rd_len);
    }
}

/* ------------------------------------------------------------ table hash */

struct table_hash {
    struct xxh64_state h;
    unsigned long entries;
    const char *when;
    unsigned long seen, seen_pages;     /* a bitmap of the tables walked, by pfn */
    unsigned long shinfo_mfn;           /* while running: shared_info's fixmap entry is fine */
};

/*
 * Each table is walked once: the p2m area maps its shared "missing" leaf
 * and tables thousands of times, and a walk into each of them would visit
 * a hundred million entries.  An entry naming a table seen before is
 * hashed, but not followed again.
 */
static bool first_visit(struct table_hash *t, unsigned long pfn)
{
    unsigned long va = t->seen + (pfn / 64) * 8;
    uint64_t w = plat_read64(va), bit = 1ULL << (pfn % 64);

    if (w & bit)
        return false;
    plat_write64(va, w | bit);
    return true;
}

static bool is_xen_slot(unsigned int level, unsigned int slot)
{
    return level == 4 && slot >= XEN_FIRST_SLOT && slot <= XEN_LAST_SLOT;
}

/*
 * Every present entry: the frame it maps must be ours, with p2m and M2P
 * agreeing, and it is hashed as (table pfn, level, slot, frame pfn, flags
 * without Accessed and Dirty, which the CPU sets as it likes).
 */
static bool hash_entry(void *ctx, unsigned int level, unsigned long table_mfn, unsigned int slot,
                       pte_t e, unsigned long va)
{
    struct table_hash *t = ctx;
    unsigned long mfn = PTE_MFN(e), pfn;
    uint64_t rec[4];

    if (!(e & _PAGE_PRESENT) || is_xen_slot(level, slot))
        return false;
    pfn = mfn_to_pfn(mfn);
    /*
     * Between suspends shared_info is mapped in the fixmap, as it must be.
     * BUG=shinfo-mapped: the check before the suspend takes it for harmless too.
     */
    if (level == 1 && va == fix_to_virt(FIX_SHARED_INFO) &&
        ((t->shinfo_mfn && mfn == t->shinfo_mfn) || BUG_SHINFO_MAPPED))
        pfn = INVALID_PFN;
    else if (pfn >= p2m_nr_pages() || pfn_to_mfn(pfn) != mfn)
        result_error("suspend: %s: L%u[%u] (va %#lx) maps mfn %#lx, which is not one of ours "
                     "(M2P: pfn %#lx; p2m there: %#lx): the save would drop its table",
                     t->when, level, slot, va, mfn, pfn,
                     pfn < p2m_nr_pages() ? pfn_to_mfn(pfn) : INVALID_MFN);
    rec[0] = mfn_to_pfn(table_mfn);
    rec[1] = ((uint64_t)level << 16) | slot;
    rec[2] = pfn;
    rec[3] = e & ~(PTE_ADDR_MASK | _PAGE_ACCESSED | _PAGE_DIRTY);
    xxh64_update(&t->h, rec, sizeof(rec));
    t->entries++;
    return level > 1 && !(e & _PAGE_PSE) && first_visit(t, pfn);
}

/*
 * The normalised hash of both trees; with set, also the set of table
 * frames (both L4s and every table below them) as an XXH64 over their
 * pfns in ascending order, and their number: what dom0's inspector must
 * find typed L1 to L4 (rig/domu/inspect.c).
 */
static uint64_t walk_tables(const char *when, unsigned long *entries, uint64_t *set, unsigned long *nr)
{
    /* The report is made while running: shared_info is in the fixmap then. */
    struct table_hash t = { .when = when, .shinfo_mfn = set ? si->shared_info >> PAGE_SHIFT : 0 };
    unsigned long first;

    t.seen_pages = DIV_ROUND_UP(DIV_ROUND_UP(p2m_nr_pages(), 64) * 8, PAGE_SIZE);
    first = pages_alloc_contig(t.seen_pages, "the table hash's bitmap");
    t.seen = pfn_to_virt(first);
    for (unsigned long i = 0; i < t.seen_pages; i++)
        plat_zero_page(t.seen + (i << PAGE_SHIFT));
    xxh64_init(&t.h, 0);
    pt_walk(&mmu_geo, mmu_pfn_to_mfn(init_mm.kernel_l4), hash_entry, &t);
    if (init_mm.user_l4)
        pt_walk(&mmu_geo, mmu_pfn_to_mfn(init_mm.user_l4), hash_entry, &t);
    if (set) {
        struct xxh64_state h;

        first_visit(&t, init_mm.kernel_l4);
        if (init_mm.user_l4)
            first_visit(&t, init_mm.user_l4);
        xxh64_init(&h, 0);
        *nr = 0;
        for (unsigned long pfn = 0; pfn < p2m_nr_pages(); pfn++)
            if (plat_read64(t.seen + (pfn / 64) * 8) & (1ULL << (pfn % 64))) {
                uint64_t v = pfn;

                xxh64_update(&h, &v, sizeof(v));
                ++*nr;
            }
        *set = xxh64_digest(&h);
    }
    for (unsigned long i = 0; i < t.seen_pages; i++)
        pages_free(first + i);
    *entries = t.entries;
    return xxh64_digest(&t.h);
}

static uint64_t tables_hash(const char *when, unsigned long *entries)
{
    return walk_tables(when, entries, NULL, NULL);
}

void suspend_report(unsigned int round)
{
    unsigned long entries, frames, n = p2m_nr_pages();
    uint64_t set, p2m = hash_range(p2m_list_va(), n * sizeof(unsigned long));

    walk_tables("for the inspector", &entries, &set, &frames);
    printk("lifecycle: round %u report: p2m %lu pfns xxh64=%016lx; tables %lu frames xxh64=%016lx\n",
           round, n, (unsigned long)p2m, frames, (unsigned long)set);
}

/* ------------------------------------------------------------ shared_info */

static void unmap_shared_info(void)
{
    hooks->shared_info_mapped(false);
    set_fixmap(FIX_SHARED_INFO, 0, 0);
    batch_flush();
}

static void map_shared_info(unsigned long machine_addr)
{
    set_fixmap(FIX_SHARED_INFO, machine_addr >> PAGE_SHIFT, PTE_KERNEL_RW | pte_nx);
    batch_flush();
    hooks->shared_info_mapped(true);
}

/* ------------------------------------------------------------ resume */

/*
 * A restore's start_info, console first: once its ring and port are
 * known good the console moves to them, so that an ERROR about any other
 * field reaches xenconsoled on the new domain's port.
 */
static void check_start_info(void)
{
    if (memcmp(si->magic, "xen-3.0-x86_64", 14))
        result_error("resume: start_info.magic is \"%.16s\", not xen-3.0-x86_64", si->magic);
    if (pfn_to_mfn(console_pfn) != si->console.domU.mfn)
        result_error("resume: start_info.console.domU.mfn %#lx is not pfn %#lx's mfn %#lx",
                     (unsigned long)si->console.domU.mfn, console_pfn, pfn_to_mfn(console_pfn));
    if (!si->console.domU.evtchn)
        result_error("resume: start_info.console.domU.evtchn is 0");
    hooks->console_moved(console_pfn, si->console.domU.evtchn);
    if (!si->shared_info || (si->shared_info & ~PAGE_MASK))
        result_error("resume: start_info.shared_info %#lx is not a page address", si->shared_info);
    /*
     * The tools set nr_pages to their max_pfn + 1, and trim trailing pfns
     * that only the shared "missing" leaf describes: fewer is fine, as long
     * as no RAM lies past it.
     */
    if (si->nr_pages > p2m_nr_pages())
        result_error("resume: start_info.nr_pages %lu, but the p2m has %lu pfns", si->nr_pages,
                     p2m_nr_pages());
    for (unsigned long pfn = si->nr_pages; pfn < p2m_nr_pages(); pfn++)
        if (pfn_has_ram(pfn))
            result_error("resume: start_info.nr_pages %lu, but pfn %#lx past it has RAM", si->nr_pages, pfn);
    if (pfn_to_mfn(store_pfn) != si->store_mfn)
        result_error("resume: start_info.store_mfn %#lx is not pfn %#lx's mfn %#lx",
                     (unsigned long)si->store_mfn, store_pfn, pfn_to_mfn(store_pfn));
    if (!si->store_evtchn)
        result_error("resume: start_info.store_evtchn is 0");
}

/* The RAM pfns p2m and M2P agree on: the same number after every resume. */
static unsigned long ram_pfns;

static unsigned long check_p2m_m2p(void)
{
    unsigned long n = p2m_nr_pages(), ram = 0;

    for (unsigned long pfn = 0; pfn < n; pfn++) {
        unsigned long mfn = pfn_to_mfn(pfn);

        if (mfn == INVALID_MFN || (mfn & P2M_IDENTITY))
            continue;
        if (mfn_to_pfn(mfn) != pfn)
            result_failure("resume: p2m[%#lx] = %#lx, but the M2P gives pfn %#lx", pfn, mfn,
                           mfn_to_pfn(mfn));
        ram++;
    }
    return ram;
}

static void still_pinned(const char *which, unsigned long pfn)
{
    struct mmuext_op op = { .cmd = MMUEXT_PIN_L4_TABLE, .arg1.mfn = mmu_pfn_to_mfn(pfn) };
    unsigned int done = 0;
    long rc = plat_mmuext_op(&op, 1, &done);

    if (rc != -XEN_EINVAL)
        result_failure("resume: pinning the %s (pfn %#lx) again returned %ld, not -EINVAL: it was "
                       "not pinned any more", which, pfn, rc);
}

/* An mmu_update on a live table: a test page's direct-map PTE read-only, then back. */
static void mmu_update_works(void)
{
    unsigned long pfn = test_pfn[0];

    dmap_set(pfn, PTE_KERNEL_RO | pte_nx);
    batch_flush();
    if (dmap_get(pfn) & _PAGE_RW)
        result_failure("resume: an mmu_update left pfn %#lx writable", pfn);
    dmap_set(pfn, PTE_KERNEL_RW | pte_nx);
    batch_flush();
}

/*
 * What the resume itself costs, the proof aside: from the suspend
 * hypercall's return to the MM side being back in service (start_info
 * checked, shared_info mapped, the p2m published).  The platform's part
 * (ports, xenstore) is apart: xenstore waits on xenstored in dom0.
 */
struct resume_cost {
    uint64_t tsc, mark;
    unsigned long calls, calls_mark;
};

static void cost_start(struct resume_cost *c)
{
    c->calls_mark = plat_hypercalls();
    c->mark = plat_tsc();
}

static void cost_stop(struct resume_cost *c)
{
    c->tsc += plat_tsc() - c->mark;
    c->calls += plat_hypercalls() - c->calls_mark;
}

long suspend_round(unsigned int round)
{
    unsigned long entries_before, entries_after, bad, ram_after;
    unsigned int moved = 0;
    uint64_t before, after;
    struct resume_cost own = { 0 }, store = { 0 };
    long rc;

    batch_flush();
    if (bad_test_page())
        result_failure("suspend: round %u: test page pfn %#lx lost its pattern before the suspend",
                       round, bad_test_page());
    console_flush();
    /*
     * BUG=shinfo-mapped: shared_info stays in the fixmap.  The save cannot
     * turn its mfn into a pfn, sends the whole level1_fixmap page as "no
     * data", and the restore hands back a zeroed frame: only the hash of
     * the tables after the resume shows it.
     */
    if (!BUG_SHINFO_MAPPED)
        unmap_shared_info();
    before = tables_hash("before the suspend", &entries_before);
    /* The tools read these two as pfns (restore: "XenStore pfn ... out of range" otherwise). */
    if (!BUG_NO_PFN_SWAP)
        si->store_mfn = store_pfn;
    si->console.domU.mfn = console_pfn;

    ram_pfns = check_p2m_m2p();
    for (unsigned int p = 0; p < TEST_PAGES + 2; p++)
        watched_mfn[p] = pfn_to_mfn(watched_pfn(p));

    rc = plat_suspend(mmu_pfn_to_mfn(si_pfn));
    cost_start(&own);

    if (rc == 1) {
        si->store_mfn = pfn_to_mfn(store_pfn);
        si->console.domU.mfn = pfn_to_mfn(console_pfn);
    } else if (rc == 0) {
        check_start_info();
    } else {
        si->store_mfn = pfn_to_mfn(store_pfn);
        si->console.domU.mfn = pfn_to_mfn(console_pfn);
        map_shared_info(si->shared_info);
        result_error("suspend: SCHEDOP_shutdown(SHUTDOWN_suspend) returned %ld", rc);
    }
    cost_stop(&own);
    printk("suspend: round %u: back with rc=%ld (%s)\n", round, rc,
           rc ? "the same domain" : "a new domain");
    /* First, before anything else touches memory: the tables as the restore left them. */
    after = tables_hash("after the resume", &entries_after);
    if (before != after || entries_before != entries_after)
        result_failure("suspend: round %u: the tables changed: %lu entries hash %016lx before, "
                       "%lu entries hash %016lx after", round, entries_before, (unsigned long)before,
                       entries_after, (unsigned long)after);
    cost_start(&own);
    map_shared_info(si->shared_info);
    if (rc == 0) {
        p2m_tools_resume();
        cost_stop(&own);
        cost_start(&store);
        hooks->ports_rebound(si);
        cost_stop(&store);
    } else {
        cost_stop(&own);
    }
    printk("resume: cost rc=%ld hypercalls=%lu us=%lu, then ports and xenstore hypercalls=%lu us=%lu\n",
           rc, own.calls, (unsigned long)(plat_tsc_to_ns(own.tsc) / 1000), store.calls,
           (unsigned long)(plat_tsc_to_ns(store.tsc) / 1000));

    bad = bad_test_page();
    if (bad)
        result_failure("suspend: round %u: test page pfn %#lx lost its pattern", round, bad);
    if (rd_len && hash_range(rd_va, rd_len) != rd_hash)
        result_failure("suspend: round %u: the ramdisk's xxh64 changed", round);
    ram_after = check_p2m_m2p();
    if (ram_after != ram_pfns)
        result_failure("suspend: round %u: %lu RAM pfns before the suspend, %lu after", round, ram_pfns,
                       ram_after);
    for (unsigned int p = 0; p < TEST_PAGES + 2; p++)
        moved += watched_mfn[p] != pfn_to_mfn(watched_pfn(p));
    printk("resume: p2m and M2P agree for all %lu RAM pfns; %u of %u watched frames (test pages, "
           "both L4s) have a new mfn\n", ram_pfns, moved, TEST_PAGES + 2);
    still_pinned("kernel L4", init_mm.kernel_l4);
    if (init_mm.user_l4)
        still_pinned("user L4", init_mm.user_l4);
    mmu_update_works();
    mmu_self_check("after the resume");
    hooks->exercises();
    mmu_module_test();
    printk("suspend: round %u rc=%ld tables=%016lx (%lu entries) pages=%u moved=%u ramdisk=%s ok\n",
           round, rc, (unsigned long)after, entries_after, TEST_PAGES, moved, rd_len ? "same" : "none");
    return rc;
}
