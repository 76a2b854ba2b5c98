/* SPDX-License-Identifier: MIT */
/*
 * mmu_check.c - the invariants the shim relies on, checked on the live
 * tables, and the vmalloc-style exercise of module space.
 *
 * Each check is something Xen or a later kernel path would trip over:
 *   - a page-table frame mapped writable anywhere (Xen refuses to validate
 *     it; the 2011 page-table buffer bug)
 *   - a non-present entry that still holds address bits (Xen crashes an
 *     L1TF-vulnerable guest for it)
 *   - a user L4 with anything at or above the user limit (the ring-3
 *     kernel would be visible to user mode)
 *   - level2_fixmap holding more than the fixmap (the 2014 miscopy), and
 *     module space PTEs that are not none before first use
 *   - a RAM pfn the direct map does not map to its own mfn
 * Xen's L4 slots (256-271) are filled by Xen at pin time; the walkers skip
 * them, and set_pgd() refuses to write there.
 */
#include "pv/mmu.h"
#include "pv/batch.h"
#include "pv/mmu_plat.h"
#include "pv/p2m.h"
#include "pv/page_alloc.h"
#include "mm/pt_walk.h"
#include "lib/lib.h"

/* ------------------------------------------------- bitmap of table frames */

/*
 * Two bitmaps of one bit per pfn, in pages from the allocator (64 MiB for
 * a 1 TiB guest), accessed through plat_read64/plat_write64 so that the
 * host model sees every access: which frames are tables, and which tables
 * the checking pass has been through.  Shared tables (the p2m's missing
 * L1/L2 stand for thousands of slots) are walked once, not once per slot.
 */
static unsigned long table_map, visit_map, map_pages, nr_pages;

static void table_map_alloc(void)
{
    unsigned long first, half = DIV_ROUND_UP(DIV_ROUND_UP(nr_pages, 64) * 8, PAGE_SIZE);

    map_pages = 2 * half;
    /* Consecutive pfns are consecutive in the direct map. */
    first = pages_alloc_contig(map_pages, "table bitmaps");
    table_map = pfn_to_virt(first);
    visit_map = pfn_to_virt(first + half);
    for (unsigned long i = 0; i < map_pages; i++)
        plat_zero_page(table_map + (i << PAGE_SHIFT));
}

static void table_map_free(void)
{
    unsigned long first = (table_map - PAGE_OFFSET) >> PAGE_SHIFT;

    for (unsigned long i = 0; i < map_pages; i++)
        pages_free(first + i);
    table_map = visit_map = 0;
}

static bool bit_test(unsigned long map, unsigned long pfn)
{
    return plat_read64(map + (pfn / 64) * 8) & (1UL << (pfn % 64));
}

/* Returns whether it was newly set. */
static bool bit_set(unsigned long map, unsigned long pfn)
{
    unsigned long va = map + (pfn / 64) * 8;
    uint64_t w = plat_read64(va);

    if (w & (1UL << (pfn % 64)))
        return false;
    plat_write64(va, w | (1UL << (pfn % 64)));
    return true;
}

static bool is_table(unsigned long pfn)
{
    return bit_test(table_map, pfn);
}

static bool mfn_is_ours(unsigned long mfn, unsigned long *pfn)
{
    *pfn = mfn_to_pfn(mfn);
    return *pfn < nr_pages && pfn_to_mfn(*pfn) == mfn;
}

/* Whether mfn is one of our frames and a table (the bitmap first: it rules out most). */
static bool maps_our_table(unsigned long mfn, unsigned long *pfn)
{
    *pfn = mfn_to_pfn(mfn);
    return *pfn < nr_pages && is_table(*pfn) && pfn_to_mfn(*pfn) == mfn;
}

/* ---------------------------------------------------------------- walkers */

struct walk_ctx {
    unsigned long root_mfn;
    bool user_root;
    unsigned long tables;
    unsigned long problems;
    /* The direct map's entries the kernel walk checked on its way (see check_direct_map). */
    unsigned long dmap_pages, dmap_end, dmap_checked;
};

static bool skip_xen_slot(unsigned int level, unsigned int slot)
{
    return level == 4 && slot >= XEN_FIRST_SLOT && slot <= XEN_LAST_SLOT;
}

static bool mark_tables(void *p, unsigned int level, unsigned long table_mfn,
                        unsigned int slot, pte_t e, unsigned long va)
{
    struct walk_ctx *c = p;
    unsigned long pfn;

    (void)va;
    if (skip_xen_slot(level, slot))
        return false;
    if (slot == 0 && level == 4 && mfn_is_ours(table_mfn, &pfn))
        bit_set(table_map, pfn);
    if (level > 1 && (e & _PAGE_PRESENT)) {
        if (!mfn_is_ours(PTE_MFN(e), &pfn))
            mmu_failure("table at mfn %#lx slot %u (level %u) points to mfn %#lx, not one of our frames",
                        table_mfn, slot, level, (unsigned long)PTE_MFN(e));
        if (!bit_set(table_map, pfn))
            return false;       /* seen through another slot already */
        c->tables++;
        /* An L1's entries map pages, not tables: marking needs no read of them. */
        return level > 2;
    }
    return true;
}

/* A direct-map PTE: pfn's own mfn for RAM, nothing past it or for a ballooned-out pfn. */
static void check_dmap_pte(unsigned long dmap_pages, unsigned long pfn, pte_t e)
{
    unsigned long want = pfn < dmap_pages ? pfn_to_mfn(pfn) : INVALID_MFN;

    if (want == INVALID_MFN) {
        if (e)
            mmu_failure("direct map: pfn %#lx (no RAM, or ballooned out) is mapped: %#lx",
                        pfn, (unsigned long)e);
    } else if (!(e & _PAGE_PRESENT) || PTE_MFN(e) != want) {
        mmu_failure("direct map: pfn %#lx maps %#lx, want mfn %#lx", pfn, (unsigned long)e, want);
    }
}

static bool check_entries(void *p, unsigned int level, unsigned long table_mfn,
                          unsigned int slot, pte_t e, unsigned long va)
{
    struct walk_ctx *c = p;
    unsigned long pfn;
    bool dmap = false;

    if (skip_xen_slot(level, slot))
        return false;
    /* The kernel walk passes every direct-map PTE once: check it here rather than walk again. */
    if (level == 1 && !c->user_root && va >= PAGE_OFFSET && va < pfn_to_virt(c->dmap_end)) {
        pfn = (va - PAGE_OFFSET) >> PAGE_SHIFT;
        check_dmap_pte(c->dmap_pages, pfn, e);
        c->dmap_checked++;
        dmap = true;
    }
    if (!(e & _PAGE_PRESENT)) {
        if (e)
            mmu_failure("non-present entry with address bits: level %u table mfn %#lx slot %u = %#lx (va %#lx)",
                        level, table_mfn, slot, (unsigned long)e, va);
        return false;
    }
    if (level == 4 && c->user_root && slot >= USER_L4_SLOTS)
        mmu_failure("user L4 (mfn %#lx) slot %u = %#lx: at or above the user limit %#lx",
                    c->root_mfn, slot, (unsigned long)e, USER_VA_LIMIT);
    if (level > 1 && (e & (_PAGE_PSE | _PAGE_GLOBAL | _PAGE_PWT | _PAGE_PCD)))
        mmu_failure("level %u entry %#lx at va %#lx carries PSE/G/PWT/PCD", level, (unsigned long)e, va);
    /*
     * A direct-map PTE has just been found to map its pfn's own mfn, so
     * that pfn is the frame's, and the bitmap says at once whether it is a
     * table.  That rests on the p2m mapping no two pfns to one mfn: each
     * entry was checked against the M2P when the list was built, and for
     * later changes Xen itself refuses a writable mapping of a table (a
     * duplicate entry pointing at one could not be mapped writable).  Any
     * other PTE asks the M2P which pfn its frame is.
     */
    if (level == 1 && (e & _PAGE_RW) &&
        (dmap ? pfn < nr_pages && is_table(pfn) : maps_our_table(PTE_MFN(e), &pfn)))
        mmu_failure("page-table frame pfn %#lx (mfn %#lx) is mapped writable at va %#lx",
                    pfn, (unsigned long)PTE_MFN(e), va);
    /* Descend into each table once (the visit map is per walk of a root). */
    if (level > 1 && mfn_is_ours(PTE_MFN(e), &pfn))
        return bit_set(visit_map, pfn);
    return true;
}

/* ---------------------------------------------------------------- checks */

static void check_fixmap_l2(void)
{
    unsigned long mfn = mmu_pfn_to_mfn(mmu_tables.level2_fixmap);

    for (unsigned int s = 0; s < PT_ENTRIES; s++) {
        pte_t e = mmu_read_entry(mfn, s);

        if (e && s != FIXMAP_L2_SLOT)
            mmu_failure("level2_fixmap[%u] = %#lx (va %#lx): only the fixmap slot %u may be set "
                        "(was Xen's boot L2 copied into level2_fixmap?)",
                        s, (unsigned long)e, 0xffffffffc0000000UL + ((unsigned long)s << L2_SHIFT),
                        FIXMAP_L2_SLOT);
    }
}

/* Linux's vmalloc WARNs on a PTE that is not none: every module-space PTE must be. */
static void check_module_space_none(void)
{
    unsigned long kernel_l4 = mmu_pfn_to_mfn(mmu_tables.kernel_l4);

    for (unsigned long va = MODULES_VADDR; va < MODULES_END; va += 1UL << L2_SHIFT) {
        unsigned int level;
        unsigned long l1 = pt_table_mfn(&mmu_geo, kernel_l4, va, 1);

        pt_lookup(&mmu_geo, kernel_l4, va, &level);
        if (level > 2)
            mmu_failure("module space %#lx: no L2 reaches it (walk stopped at level %u)", va, level);
        /* An L1 exists here: all of its PTEs must be none. */
        for (unsigned int i = 0; l1 != PT_NO_TABLE && i < PT_ENTRIES; i++) {
            pte_t pte = mmu_read_entry(l1, i);

            if (pte)
                mmu_failure("module space %#lx: PTE %#lx is not none before first use",
                            va + ((unsigned long)i << PAGE_SHIFT), (unsigned long)pte);
        }
    }
}

/*
 * Every RAM pfn at PAGE_OFFSET + pfn pages, mapped to its own mfn; nothing
 * past it up to the end of its L1.  The kernel walk has checked the PTEs
 * it passed; only if it did not pass all of them (an L1 it reached
 * through another slot first, or one missing) are they looked up one L1
 * at a time, which names the first that is wrong.
 */
static void check_direct_map(const struct walk_ctx *k)
{
    unsigned long kernel_l4 = mmu_pfn_to_mfn(mmu_tables.kernel_l4);

    if (k->dmap_checked == k->dmap_end)
        return;
    for (unsigned long base = 0; base < k->dmap_end; base += PT_ENTRIES) {
        unsigned long va = pfn_to_virt(base);
        unsigned long l1_mfn = pt_table_mfn(&mmu_geo, kernel_l4, va, 1), l1_va;

        if (l1_mfn == PT_NO_TABLE) {
            unsigned int level;

            pt_lookup(&mmu_geo, kernel_l4, va, &level);
            mmu_failure("direct map: no L1 for pfn %#lx (va %#lx, walk stopped at level %u)",
                        base, va, level);
        }
        l1_va = mmu_table_va(l1_mfn);
        for (unsigned int i = 0; i < PT_ENTRIES; i++)
            check_dmap_pte(k->dmap_pages, base + i, mmu_read_at(l1_va, i));
    }
}

void mmu_self_check(const char *when)
{
    struct walk_ctx k = { .root_mfn = mmu_pfn_to_mfn(mmu_tables.kernel_l4),
                          .dmap_pages = mmu_dmap_pages(),
                          .dmap_end = ALIGN_UP(mmu_dmap_pages(), PT_ENTRIES) };
    struct walk_ctx u = { .root_mfn = mmu_tables.user_l4 ? mmu_pfn_to_mfn(mmu_tables.user_l4) : 0,
                          .user_root = true };

    nr_pages = p2m_nr_pages();
    table_map_alloc();
    pt_walk(&mmu_geo, k.root_mfn, mark_tables, &k);
    if (u.root_mfn)
        pt_walk(&mmu_geo, u.root_mfn, mark_tables, &u);
    pt_walk(&mmu_geo, k.root_mfn, check_entries, &k);
    if (u.root_mfn)
        pt_walk(&mmu_geo, u.root_mfn, check_entries, &u);
    table_map_free();

    /* m2p_strict: Xen zapped the M2P slot of the user L4 when it was loaded. */
    if (m2p_strict && u.root_mfn && mmu_read_entry(u.root_mfn, XEN_FIRST_SLOT))
        mmu_failure("user L4 (mfn %#lx) maps the M2P (slot %u = %#lx) despite m2p_strict",
                    u.root_mfn, XEN_FIRST_SLOT, (unsigned long)mmu_read_entry(u.root_mfn, XEN_FIRST_SLOT));

    check_fixmap_l2();
    check_module_space_none();
    check_direct_map(&k);
    mmu_print("mmu: check %s: %lu tables reachable from the kernel L4, %lu more from the user L4, "
              "invariants hold\n", when, k.tables + 1, u.root_mfn ? u.tables + 1 : 0);
}

/* ------------------------------------------------------------ module space */

/*
 * What vmalloc does, across all of module space: for each 2 MiB slot an L1
 * (clear, read-only, hooked) and one fresh page, refusing any PTE that is
 * not none, then write through module space and read back through the
 * direct map, then unmap and free it all.
 */
void mmu_module_test(void)
{
    unsigned long kernel_l4 = mmu_pfn_to_mfn(mmu_tables.kernel_l4);
    unsigned long slots = MODULES_LEN >> L2_SHIFT;
    unsigned long pfns_l1[PT_ENTRIES], pfns_page[PT_ENTRIES];
    unsigned long done = 0;

    /* In chunks, so the bookkeeping stays on the stack. */
    for (unsigned long first = 0; first < slots; first += PT_ENTRIES) {
        unsigned long n = slots - first < PT_ENTRIES ? slots - first : PT_ENTRIES;

        for (unsigned long i = 0; i < n; i++) {
            unsigned long va = MODULES_VADDR + ((first + i) << L2_SHIFT);
            unsigned long l2_mfn = pt_table_mfn(&mmu_geo, kernel_l4, va, 2);
            pte_t l2e = mmu_read_entry(l2_mfn, PT_INDEX(va, L2_SHIFT));

            if (l2e) {
                pte_t pte = (l2e & _PAGE_PRESENT) ? mmu_read_entry(PTE_MFN(l2e), 0) : l2e;
                mmu_failure("vmalloc at %#lx: PTE not none (%#lx, L2 entry %#lx): stale mapping in module space",
                            va, (unsigned long)pte, (unsigned long)l2e);
            }
            pfns_l1[i] = pt_alloc_late("module-space L1");
            pfns_page[i] = pages_alloc("module-space page");
            batch_pte(l2_mfn, PT_INDEX(va, L2_SHIFT),
                      ((pte_t)mmu_pfn_to_mfn(pfns_l1[i]) << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW |
                      _PAGE_ACCESSED | _PAGE_DIRTY);
            batch_pte(mmu_pfn_to_mfn(pfns_l1[i]), 0,
                      ((pte_t)mmu_pfn_to_mfn(pfns_page[i]) << PAGE_SHIFT) | PTE_KERNEL_RW | pte_nx);
        }
        batch_flush();

        for (unsigned long i = 0; i < n; i++) {
            unsigned long va = MODULES_VADDR + ((first + i) << L2_SHIFT);

            plat_write64(va, va ^ 0x5a5a5a5a5a5a5a5aUL);
            plat_write64(va + PAGE_SIZE - 8, ~va);
        }
        for (unsigned long i = 0; i < n; i++) {
            unsigned long va = MODULES_VADDR + ((first + i) << L2_SHIFT);
            unsigned long direct = pfn_to_virt(pfns_page[i]);

            if (plat_read64(direct) != (va ^ 0x5a5a5a5a5a5a5a5aUL) ||
                plat_read64(direct + PAGE_SIZE - 8) != ~va)
                mmu_failure("module space %#lx: written data not found at pfn %#lx", va, pfns_page[i]);
        }

        /* vfree: unhook, flush, then the L1s become ordinary pages again. */
        for (unsigned long i = 0; i < n; i++) {
            unsigned long va = MODULES_VADDR + ((first + i) << L2_SHIFT);

            batch_pte(pt_table_mfn(&mmu_geo, kernel_l4, va, 2), PT_INDEX(va, L2_SHIFT), 0);
        }
        tlb_flush_all(vcpus_running);           /* kernel space: any running vCPU may have it */
        batch_flush();
        pt_free_late(pfns_l1, n);
        for (unsigned long i = 0; i < n; i++)
            pages_free(pfns_page[i]);
        done += n;
    }
    mmu_print("mmu: module space %#lx-%#lx: %lu slots mapped, written, read back, unmapped\n",
              MODULES_VADDR, MODULES_END, done);
}
