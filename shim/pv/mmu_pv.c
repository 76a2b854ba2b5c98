/* SPDX-License-Identifier: MIT */
/*
 * mmu_pv.c - the PV MMU bring-up: from Xen's boot page tables to the
 * shim's own, in Linux's layout (layout.h has the map).
 *
 *   discover   walk Xen's boot tables from CR3 (not from pt_base), learn
 *              how much Xen mapped, refuse layouts the kernel L2 cannot hold
 *   plan       size the page-table buffer for the worst case, place it
 *   build      fill every new table through a scratch window, then drop the
 *              window's writable mappings: no table is writable anywhere
 *   switch     one mmuext_op batch: pin kernel L4, pin user L4,
 *              NEW_BASEPTR, NEW_USER_BASEPTR, unpin Xen's boot L4
 *   reclaim    Xen's boot L4/L3/L2 become ordinary writable pages
 *   cleanup    kernel-L2 entries past the image (leftovers of the initial
 *              mapping, e.g. a mapped ramdisk reaching into module space)
 *   pgtbuf     keep the used part read-only, give the unused tail back
 *   image      kernel text read-only, everything else in the image NX
 *   boot p2m   (INIT_P2M, after p2m_build) unhook the builder's list, free it
 *
 * Graft (why level2_fixmap gets nothing): Xen's boot L2 maps the initial
 * mapping from VIRT_BASE with the boot L1s.  Its entries are copied into
 * level2_kernel (the same addresses, the kernel keeps running) and into
 * level2_ident (the same L1s then map pfn 0.. at PAGE_OFFSET, because Xen
 * mapped pfn i at VIRT_BASE + i pages).  level2_fixmap covers
 * ffffffffc0000000 and up: module space and the fixmap.  A copy there (what
 * Linux did until 2014) leaves the initial mapping's L1s in module space,
 * and the first vmalloc there finds a PTE that is not none.
 */
#include "pv/mmu.h"
#include "pv/batch.h"
#include "lib/config.h"
#include "pv/mmu_plat.h"
#include "pv/p2m.h"
#include "pv/page_alloc.h"
#include "mm/pt_range.h"
#include "lib/lib.h"

#define PTE_USER_TABLE  (PTE_TABLE | _PAGE_USER)
#define PTE_DMAP_RW     (PTE_KERNEL_RW | pte_nx)
#define PTE_DMAP_RO     (PTE_KERNEL_RO | pte_nx)

#define PAGES_PER_L1    512UL

struct mmu_tables mmu_tables;

static struct mmu_boot boot;
static unsigned long boot_l4_mfn, boot_l3_mfn, boot_l2_mfn;
static pte_t boot_p2m_l4e;              /* INIT_P2M: the builder's mapping of its list */
static unsigned long mapped_pages;      /* pfns [0, mapped_pages) mapped at virt_base */
static bool switched;                   /* running on our tables: direct map live */

/* Window bookkeeping while the build fills tables. */
static unsigned long window_first_pfn, window_count;

#define T mmu_tables

unsigned long mmu_pfn_to_mfn(unsigned long pfn)
{
    unsigned long mfn = pfn_to_mfn(pfn);

    if (mfn == INVALID_MFN)
        mmu_error("pfn %#lx has no mfn in the p2m", pfn);
    return mfn;
}

unsigned long mmu_dmap_pages(void)
{
    return boot.nr_pages;
}

unsigned long boot_va_to_direct(unsigned long va)
{
    return PAGE_OFFSET + (va - boot.virt_base);
}

/* Where a frame can be read right now. */
static unsigned long frame_va(unsigned long pfn)
{
    if (switched)
        return pfn_to_virt(pfn);
    if (pfn < mapped_pages)
        return boot.virt_base + (pfn << PAGE_SHIFT);
    if (pfn >= window_first_pfn && pfn < window_first_pfn + window_count)
        return boot.window_va + ((pfn - window_first_pfn) << PAGE_SHIFT);
    mmu_error("pfn %#lx is not mapped yet", pfn);
}

/*
 * The direct-map PTE of pfn, wherever it lives (a grafted boot L1 or one of
 * ours): level2_ident leads to it.  Changing it with mmu_update (instead of
 * update_va_mapping) lets many pages change in one hypercall.  Only valid
 * once the bring-up has built level2_ident.
 */
static unsigned long dmap_l1_of(unsigned long pfn)
{
    if (pfn >= boot.nr_pages)
        mmu_error("pfn %#lx is beyond the direct map (%lu pages)", pfn, boot.nr_pages);
    return PTE_MFN(mmu_read_entry(mmu_pfn_to_mfn(T.ident_l2 + (pfn >> 18)), (pfn >> 9) & 511));
}

void dmap_set(unsigned long pfn, pte_t flags)
{
    batch_pte(dmap_l1_of(pfn), pfn & 511, ((pte_t)mmu_pfn_to_mfn(pfn) << PAGE_SHIFT) | flags);
}

void dmap_clear(unsigned long pfn)
{
    batch_pte(dmap_l1_of(pfn), pfn & 511, 0);
}

pte_t dmap_get(unsigned long pfn)
{
    return mmu_read_entry(dmap_l1_of(pfn), pfn & 511);
}

unsigned long mmu_table_va(unsigned long mfn)
{
    unsigned long pfn = mfn_to_pfn(mfn);

    if (pfn == INVALID_PFN || pfn >= boot.nr_pages)
        mmu_error("table mfn %#lx is not one of our frames (M2P says pfn %#lx)", mfn, pfn);
    return frame_va(pfn);
}

pte_t mmu_read_at(unsigned long table_va, unsigned int slot)
{
    return plat_read64(table_va + slot * sizeof(pte_t));
}

pte_t mmu_read_entry(unsigned long mfn, unsigned int slot)
{
    return mmu_read_at(mmu_table_va(mfn), slot);
}

pte_t pte_nx = _PAGE_NX;

const struct pt_geometry mmu_geo = { .levels = 4, .table_at = mmu_table_va, .read_at = mmu_read_at };

static inline pte_t mk_table(unsigned long pfn, pte_t flags)
{
    return ((pte_t)mmu_pfn_to_mfn(pfn) << PAGE_SHIFT) | flags;
}

static inline bool is_xen_slot(unsigned int slot)
{
    return slot >= XEN_FIRST_SLOT && slot <= XEN_LAST_SLOT;
}

/* ------------------------------------------------------------------ discover */

/*
 * Xen's boot tables for a 64-bit guest: one L4, an L3 under L4[511], an L2
 * under L3[510] (1 GiB from VIRT_BASE), L1s under it.  start_info.pt_base
 * names "the page directory", but the root is what CR3 holds: the dom0
 * builder allocates tables in walk order and the domU builder by level, so
 * nothing is assumed about where the others lie.
 */
/*
 * INIT_P2M: start_info names the frames of the builder's list and of its
 * page tables (first_p2m_pfn, nr_p2m_frames), and the page-table buffer
 * and the allocator keep clear of exactly those.  A wrong range would let
 * the buffer land on the list itself (make fuzz found it: the list was
 * zeroed through the fill window, and every lookup after it gave mfn 0).
 * So every frame of the builder's mapping of the list, tables and pages,
 * must be ours and lie in the range.  Those tables are outside the
 * initial mapping: they are read through the fill window, read-only, one
 * at a time (window pages 0, 1, 2 for the L3, an L2 and an L1).
 */
static void p2m_frame_in_range(unsigned long mfn, const char *what, uint64_t va)
{
    unsigned long pfn = mfn_to_pfn(mfn);

    if (pfn < boot.p2m_first_pfn || pfn - boot.p2m_first_pfn >= boot.p2m_frames ||
        pfn_to_mfn(pfn) != mfn)
        mmu_error("INIT_P2M: %s (for %#lx) is mfn %#lx, pfn %#lx: not in start_info's "
                  "first_p2m_pfn %#lx + nr_p2m_frames %lu", what, (unsigned long)va, mfn, pfn,
                  boot.p2m_first_pfn, boot.p2m_frames);
}

static unsigned long window_mfn[3];         /* what window pages 0-2 map now (0: their own) */

static pte_t window_read(unsigned int page, unsigned long mfn, unsigned int slot)
{
    if (window_mfn[page] != mfn) {
        batch_va(boot.window_va + page * PAGE_SIZE,
                 ((pte_t)mfn << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_ACCESSED | pte_nx);
        batch_flush();
        window_mfn[page] = mfn;
    }
    return plat_read64(boot.window_va + page * PAGE_SIZE + slot * sizeof(pte_t));
}

static void check_boot_p2m_frames(void)
{
    const uint64_t gib = 1ULL << L3_SHIFT, two_mib = 1ULL << L2_SHIFT;
    uint64_t va = boot.p2m_va, end = va + DIV_ROUND_UP(boot.nr_pages * 8, PAGE_SIZE) * PAGE_SIZE;
    unsigned long l3 = PTE_MFN(boot_p2m_l4e);

    memset(window_mfn, 0, sizeof(window_mfn));
    if (PT_INDEX(va, L4_SHIFT) != PT_INDEX(end - 1, L4_SHIFT))
        mmu_error("INIT_P2M: the list [%#lx, %#lx) crosses a 512 GiB slot", (unsigned long)va,
                  (unsigned long)end);
    p2m_frame_in_range(l3, "the L3", va);
    for (uint64_t a3 = va & ~(gib - 1); a3 < end; a3 += gib) {
        pte_t e3 = window_read(0, l3, PT_INDEX(a3, L3_SHIFT));

        if (!(e3 & _PAGE_PRESENT) || (e3 & _PAGE_PSE))
            mmu_error("INIT_P2M: the L3 entry for %#lx is %#lx", (unsigned long)a3, (unsigned long)e3);
        p2m_frame_in_range(PTE_MFN(e3), "an L2", a3);
        for (uint64_t a2 = a3 > va ? a3 : va & ~(two_mib - 1); a2 < end && a2 < a3 + gib; a2 += two_mib) {
            pte_t e2 = window_read(1, PTE_MFN(e3), PT_INDEX(a2, L2_SHIFT));

            if (!(e2 & _PAGE_PRESENT))
                mmu_error("INIT_P2M: the L2 entry for %#lx is %#lx", (unsigned long)a2, (unsigned long)e2);
            if (e2 & _PAGE_PSE) {           /* a 2 MiB page of the list (Xen's dom0 builder) */
                for (unsigned int i = 0; i < PT_ENTRIES; i++)
                    p2m_frame_in_range((PTE_MFN(e2) & ~(PT_ENTRIES - 1UL)) + i, "a page of the list",
                                       a2 + i * PAGE_SIZE);
                continue;
            }
            p2m_frame_in_range(PTE_MFN(e2), "an L1", a2);
            for (uint64_t a1 = a2 > va ? a2 : va; a1 < end && a1 < a2 + two_mib; a1 += PAGE_SIZE) {
                pte_t e1 = window_read(2, PTE_MFN(e2), PT_INDEX(a1, L1_SHIFT));

                if (!(e1 & _PAGE_PRESENT))
                    mmu_error("INIT_P2M: the list's page at %#lx is not mapped", (unsigned long)a1);
                p2m_frame_in_range(PTE_MFN(e1), "a page of the list", a1);
            }
        }
    }
    /* The window's pages get their own frames back. */
    for (unsigned int i = 0; i < 3; i++) {
        unsigned long pfn = (boot.window_va + i * PAGE_SIZE - boot.virt_base) >> PAGE_SHIFT;

        batch_va(boot.window_va + i * PAGE_SIZE, ((pte_t)mmu_pfn_to_mfn(pfn) << PAGE_SHIFT) |
                 PTE_KERNEL_RW | pte_nx);
    }
    batch_flush();
}

static void discover_boot_tables(void)
{
    unsigned long bound = (boot.xen_stack_top - boot.virt_base) >> PAGE_SHIFT;
    unsigned long l4_pfn, n2 = 0;
    pte_t e;

    mapped_pages = bound;       /* enough to read the boot tables */
    boot_l4_mfn = plat_read_cr3() >> PAGE_SHIFT;
    l4_pfn = mfn_to_pfn(boot_l4_mfn);
    if (l4_pfn >= bound)
        mmu_error("CR3 mfn %#lx (pfn %#lx) is outside the initial mapping", boot_l4_mfn, l4_pfn);
    if (boot.virt_base + (l4_pfn << PAGE_SHIFT) != boot.pt_base)
        mmu_print("mmu: start_info.pt_base %#lx is not the root table; CR3 has pfn %#lx: walking from CR3\n",
                  boot.pt_base, l4_pfn);

    for (unsigned int s = 0; s < PT_ENTRIES; s++) {
        if (is_xen_slot(s))
            continue;
        e = mmu_read_entry(boot_l4_mfn, s);
        if (boot.p2m_frames && s == PT_INDEX(boot.p2m_va, L4_SHIFT)) {
            if (!(e & _PAGE_PRESENT))
                mmu_error("INIT_P2M: boot L4[%u] does not map the p2m list at %#lx", s, boot.p2m_va);
            boot_p2m_l4e = e;
            continue;
        }
        if ((e & _PAGE_PRESENT) && s != KERNEL_L4_SLOT)
            mmu_error("boot L4[%u] = %#lx: Xen mapped something outside L4[511]", s, (unsigned long)e);
    }
    e = mmu_read_entry(boot_l4_mfn, KERNEL_L4_SLOT);
    if (!(e & _PAGE_PRESENT))
        mmu_error("boot L4[511] is not present");
    if (boot_p2m_l4e)
        check_boot_p2m_frames();
    boot_l3_mfn = PTE_MFN(e);

    for (unsigned int s = 0; s < PT_ENTRIES; s++) {
        e = mmu_read_entry(boot_l3_mfn, s);
        if (!(e & _PAGE_PRESENT) || s == KERNEL_L3_SLOT)
            continue;
        if (s == FIXMAP_L3_SLOT)
            mmu_error("Xen's initial mapping crosses 1 GiB (boot L3[511] is present): a mapped "
                      "ramdisk this large does not fit the 1 GiB kernel L2 window; the default "
                      "image (MOD_START_PFN) leaves the ramdisk unmapped and avoids this");
        mmu_error("boot L3[%u] = %#lx: Xen mapped something outside L3[510]", s, (unsigned long)e);
    }
    e = mmu_read_entry(boot_l3_mfn, KERNEL_L3_SLOT);
    if (!(e & _PAGE_PRESENT))
        mmu_error("boot L3[510] is not present");
    boot_l2_mfn = PTE_MFN(e);

    /* The L2 maps a contiguous run from slot 0; each L1 maps pfn i at VIRT_BASE + i pages. */
    while (n2 < PT_ENTRIES && (mmu_read_entry(boot_l2_mfn, n2) & _PAGE_PRESENT))
        n2++;
    for (unsigned int s = n2; s < PT_ENTRIES; s++)
        if (mmu_read_entry(boot_l2_mfn, s))
            mmu_error("boot L2[%u] is set after a hole at L2[%lu]", s, n2);

    unsigned long pfn = 0;
    for (unsigned int s = 0; s < n2; s++) {
        pte_t l2e = mmu_read_entry(boot_l2_mfn, s);

        if (l2e & _PAGE_PSE)
            mmu_error("boot L2[%u] = %#lx is a superpage", s, (unsigned long)l2e);
        for (unsigned int i = 0; i < PT_ENTRIES; i++, pfn++) {
            pte_t l1e = mmu_read_entry(PTE_MFN(l2e), i);

            if (!(l1e & _PAGE_PRESENT))
                goto done;
            if (pfn >= boot.nr_pages || PTE_MFN(l1e) != pfn_to_mfn(pfn))
                mmu_error("initial mapping: %#lx maps mfn %#lx, but pfn %#lx has mfn %#lx",
                          boot.virt_base + (pfn << PAGE_SHIFT), (unsigned long)PTE_MFN(l1e),
                          pfn, pfn_to_mfn(pfn));
        }
    }
done:
    if (pfn < bound)
        mmu_error("initial mapping ends at pfn %#lx, below the boot stack top (pfn %#lx)", pfn, bound);
    mapped_pages = pfn;
}

/* ---------------------------------------------------------------------- plan */

/* A direct-map entry: RAM read-write, except where a page table may live. */
static pte_t dmap_pte(unsigned long pfn)
{
    unsigned long mfn = pfn_to_mfn(pfn);
    /* The buggy variant masks only the part it expects to use. */
    unsigned long ro_end = BUG_PGTBUF_RW ? pgtbuf.end : pgtbuf.top;

    if (mfn == INVALID_MFN)
        return 0;               /* a hole: not present, and no address bits (L1TF) */
    if (pfn >= pgtbuf.start && pfn < ro_end)
        return ((pte_t)mfn << PAGE_SHIFT) | PTE_DMAP_RO;
    /* The builder's INIT_P2M frames include its page tables for the list. */
    if (boot.p2m_frames && pfn >= boot.p2m_first_pfn && pfn < boot.p2m_first_pfn + boot.p2m_frames)
        return ((pte_t)mfn << PAGE_SHIFT) | PTE_DMAP_RO;
    return ((pte_t)mfn << PAGE_SHIFT) | PTE_DMAP_RW;
}

static bool overlaps(unsigned long a, unsigned long alen, unsigned long b, unsigned long blen)
{
    return a < b + blen && b < a + alen;
}

/*
 * The direct map is built by the shared range builder (mm/pt_range.h):
 * it lays its tables out level by level, level3_ident, level2_ident, then
 * the L1s, and says what each entry holds.  Where they lie is ours: in the
 * page-table buffer, except the first graft_pages / 512 L1s, which are
 * Xen's boot L1s (the graft).
 *
 *   kernel L4[273 ..]  -> level3_ident[k]    (link 3)
 *   level3_ident       -> level2_ident[i]    (link 2)
 *   level2_ident       -> boot L1 i          (link 1, i < graft_pages / 512)
 *                      -> direct-map L1      (link 1, past the graft)
 *   direct-map L1      -> pfn                (leaf: dmap_pte)
 */
static struct pt_range dmap_range;

static pte_t dmap_link(unsigned int level, unsigned long i)
{
    unsigned long graft_l1s = T.graft_pages / PAGES_PER_L1;

    if (level == 3)
        return mk_table(T.ident_l3 + i, PTE_TABLE);
    if (level == 2)
        return mk_table(T.ident_l2 + i, PTE_TABLE);
    if (i < graft_l1s)
        return mmu_read_entry(boot_l2_mfn, i);
    return mk_table(T.dmap_l1 + i - graft_l1s, PTE_TABLE);
}

static void plan_tables(void)
{
    unsigned long n = boot.nr_pages, fixed, worst, start;

    T.graft_pages = ALIGN_UP(mapped_pages, PAGES_PER_L1);
    if (T.graft_pages > n)
        T.graft_pages = ALIGN_UP(n, PAGES_PER_L1);
    dmap_range = (struct pt_range){ .geo = &mm_geo, .va = PAGE_OFFSET, .pages = n,
                                    .leaf = dmap_pte, .link = dmap_link };
    if (pt_range_plan(&dmap_range))
        mmu_error("the direct map of %lu pages does not fit from L4 slot %u", n, PAGE_OFFSET_SLOT);
    T.nr_ident_l3 = dmap_range.count[3];
    T.nr_ident_l2 = dmap_range.count[2];
    T.nr_dmap_l1 = dmap_range.count[1] - T.graft_pages / PAGES_PER_L1;

    /* kernel L4, user L4, level3_kernel, level2_kernel, level2_fixmap, level1_fixmap, user L3 */
    fixed = 7;
    /* Sized as if nothing could be grafted: the difference is the tail handed back. */
    worst = fixed + T.nr_ident_l3 + T.nr_ident_l2 + DIV_ROUND_UP(n, PAGES_PER_L1);

    start = T.graft_pages;
    for (int again = 1; again; ) {
        again = 0;
        /* Every page of the buffer must be RAM: past the last hole in its span. */
        for (unsigned long pfn = start + worst; pfn-- > start && start + worst <= n; )
            if (!pfn_has_ram(pfn)) {
                start = pfn + 1;
                again = 1;
                break;
            }
        if (boot.ramdisk_pages && overlaps(start, worst, boot.ramdisk_pfn, boot.ramdisk_pages)) {
            start = boot.ramdisk_pfn + boot.ramdisk_pages;
            again = 1;
        }
        if (boot.p2m_frames && overlaps(start, worst, boot.p2m_first_pfn, boot.p2m_frames)) {
            start = boot.p2m_first_pfn + boot.p2m_frames;
            again = 1;
        }
    }
    if (start + worst > n)
        mmu_error("no room for the page-table buffer: %lu pages needed from pfn %#lx, nr_pages %lu",
                  worst, start, n);
    pgtbuf_init(start, worst);

    /* Order matters for the build: both L4s land in the first window batch. */
    T.kernel_l4 = pgtbuf_alloc("kernel L4");
    T.user_l4 = BUG_NO_USER_L4 ? 0 : pgtbuf_alloc("user L4");
    init_mm = (struct mm){ .kernel_l4 = T.kernel_l4, .user_l4 = T.user_l4 };
    T.level3_kernel = pgtbuf_alloc("level3_kernel");
    T.level2_kernel = pgtbuf_alloc("level2_kernel");
    T.level2_fixmap = pgtbuf_alloc("level2_fixmap");
    T.level1_fixmap = pgtbuf_alloc("level1_fixmap");
    T.user_l3 = pgtbuf_alloc("user L3");
    T.ident_l3 = pgtbuf.end;
    for (unsigned long i = 0; i < T.nr_ident_l3; i++)
        pgtbuf_alloc("level3_ident");
    T.ident_l2 = pgtbuf.end;
    for (unsigned long i = 0; i < T.nr_ident_l2; i++)
        pgtbuf_alloc("level2_ident");
    T.dmap_l1 = pgtbuf.end;
    for (unsigned long i = 0; i < T.nr_dmap_l1; i++)
        pgtbuf_alloc("direct-map L1");
}

/* --------------------------------------------------------------------- build */

struct mm init_mm;

/*
 * Linux's xen_set_pgd: a write to a user slot of a kernel L4 goes to its
 * user L4 too, so both always agree on user space; kernel slots exist only
 * in the kernel L4.  Before the pair is pinned the frames are ordinary
 * memory and take plain writes (through the build window or the direct
 * map); once pinned, only Xen may write them, entry by entry, validated.
 */
void set_pgd(struct mm *mm, unsigned int slot, pte_t val)
{
    if (is_xen_slot(slot))
        mmu_error("set_pgd: L4 slot %u belongs to Xen", slot);

    if (!mm->pinned) {
        plat_write64(frame_va(mm->kernel_l4) + slot * sizeof(pte_t), val);
        if (slot < USER_L4_SLOTS && mm->user_l4)
            plat_write64(frame_va(mm->user_l4) + slot * sizeof(pte_t), val);
    } else {
        batch_pte(mmu_pfn_to_mfn(mm->kernel_l4), slot, val);
        if (slot < USER_L4_SLOTS && mm->user_l4)
            batch_pte(mmu_pfn_to_mfn(mm->user_l4), slot, val);
    }
}

static void copy_boot_l2(unsigned long dst_va)
{
    for (unsigned int s = 0; s < PT_ENTRIES; s++)
        plat_write64(dst_va + s * sizeof(pte_t), mmu_read_entry(boot_l2_mfn, s));
}

static void fill_range_table(unsigned int level, unsigned long i, unsigned long va)
{
    for (unsigned int s = 0; s < PT_ENTRIES; s++)
        plat_write64(va + s * sizeof(pte_t), pt_range_entry(&dmap_range, level, i, s));
}

/* Content of the table at pfn, written through its window address va. */
static void fill_table(unsigned long pfn, unsigned long va)
{
    if (pfn == T.kernel_l4) {
        for (unsigned long k = 0; k < T.nr_ident_l3; k++)
            set_pgd(&init_mm, dmap_range.first_slot + k, pt_range_root_entry(&dmap_range, k));
        set_pgd(&init_mm, KERNEL_L4_SLOT, mk_table(T.level3_kernel, PTE_TABLE));
        set_pgd(&init_mm, 0, mk_table(T.user_l3, PTE_USER_TABLE));
        /*
         * INIT_P2M: keep the builder's list mapped where it is until
         * p2m_build() has copied it.  Kernel L4 only, not through set_pgd:
         * the slot is in the user range, and user mode must not see it.
         */
        if (boot_p2m_l4e)
            plat_write64(va + PT_INDEX(boot.p2m_va, L4_SHIFT) * 8, boot_p2m_l4e);
    } else if (pfn == T.level3_kernel) {
        plat_write64(va + KERNEL_L3_SLOT * 8, mk_table(T.level2_kernel, PTE_TABLE));
        plat_write64(va + FIXMAP_L3_SLOT * 8, mk_table(T.level2_fixmap, PTE_TABLE));
    } else if (pfn == T.level2_kernel) {
        copy_boot_l2(va);       /* the graft: same L1s, same addresses */
    } else if (pfn == T.level2_fixmap) {
        if (BUG_FIXMAP_MISCOPY)
            copy_boot_l2(va);
        plat_write64(va + FIXMAP_L2_SLOT * 8, mk_table(T.level1_fixmap, PTE_TABLE));
    } else if (pfn >= T.ident_l3 && pfn < T.ident_l3 + T.nr_ident_l3) {
        fill_range_table(3, pfn - T.ident_l3, va);
    } else if (pfn >= T.ident_l2 && pfn < T.ident_l2 + T.nr_ident_l2) {
        fill_range_table(2, pfn - T.ident_l2, va);
    } else if (pfn >= T.dmap_l1 && pfn < T.dmap_l1 + T.nr_dmap_l1) {
        fill_range_table(1, pfn - T.dmap_l1 + T.graft_pages / PAGES_PER_L1, va);
    }
    /* user L4, level1_fixmap, user L3: empty for now */
}

/*
 * Xen refuses to make a frame a page table while any writable mapping of
 * it exists, so the new tables are filled through a window that maps a
 * batch of them read-write, and the next batch's update_va_mapping drops
 * the previous writable mappings.  At the end the window gets its own
 * frames back.  All of a batch is zeroed before any is filled, because
 * filling the kernel L4 also writes the user L4 (set_pgd).
 */
static void build_tables(void)
{
    for (unsigned long first = pgtbuf.start; first < pgtbuf.end; first += boot.window_pages) {
        unsigned long n = pgtbuf.end - first;

        if (n > boot.window_pages)
            n = boot.window_pages;
        for (unsigned long i = 0; i < n; i++)
            batch_va(boot.window_va + (i << PAGE_SHIFT),
                     ((pte_t)mmu_pfn_to_mfn(first + i) << PAGE_SHIFT) | PTE_KERNEL_RW | pte_nx);
        batch_flush();
        window_first_pfn = first;
        window_count = n;

        for (unsigned long i = 0; i < n; i++)
            plat_zero_page(boot.window_va + (i << PAGE_SHIFT));
        for (unsigned long i = 0; i < n; i++)
            fill_table(first + i, boot.window_va + (i << PAGE_SHIFT));
    }

    window_count = 0;
    for (unsigned long i = 0; i < boot.window_pages; i++) {
        unsigned long va = boot.window_va + (i << PAGE_SHIFT);
        unsigned long pfn = (va - boot.virt_base) >> PAGE_SHIFT;

        batch_va(va, ((pte_t)mmu_pfn_to_mfn(pfn) << PAGE_SHIFT) | PTE_KERNEL_RW | pte_nx);
    }

    /*
     * If Xen's mapping ends inside a 2 MiB slot, its last L1 is shared by
     * the kernel map and the direct map: give it the missing direct-map
     * entries (the pfns there are ours, mapped by the same rules).
     */
    if (mapped_pages < T.graft_pages) {
        pte_t l2e = mmu_read_entry(boot_l2_mfn, mapped_pages / PAGES_PER_L1);

        for (unsigned long pfn = mapped_pages; pfn < T.graft_pages && pfn < boot.nr_pages; pfn++)
            batch_pte(PTE_MFN(l2e), pfn % PAGES_PER_L1, dmap_pte(pfn));
    }
    batch_flush();
    mmu_stats.pt_pages += pgtbuf.end - pgtbuf.start;
}

/* -------------------------------------------------------------------- switch */

/*
 * One mmuext_op batch.  Pinning validates each new L4 and, recursively,
 * everything under it (Xen's boot L1s are already L1 tables and just gain
 * references).  NEW_BASEPTR and NEW_USER_BASEPTR move both CR3s away from
 * the boot L4 before it is unpinned: unpinning a table that is still in use
 * would leave it typed and unreclaimable.
 */
static void switch_tables(void)
{
    unsigned long kernel_mfn = mmu_pfn_to_mfn(T.kernel_l4);
    unsigned long user_mfn = T.user_l4 ? mmu_pfn_to_mfn(T.user_l4) : kernel_mfn;

    batch_ext(MMUEXT_PIN_L4_TABLE, kernel_mfn);
    if (T.user_l4)
        batch_ext(MMUEXT_PIN_L4_TABLE, user_mfn);
    batch_ext(MMUEXT_NEW_BASEPTR, kernel_mfn);
    batch_ext(MMUEXT_NEW_USER_BASEPTR, user_mfn);
    batch_ext(MMUEXT_UNPIN_TABLE, boot_l4_mfn);
    batch_flush();
    init_mm.pinned = true;
    mm_set_loaded(0, &init_mm);
    switched = true;
}

/* ------------------------------------------------------------------- reclaim */

/*
 * The boot L4, L3 and L2 lost their last type reference with the unpin
 * (the L1s stay: level2_kernel and level2_ident still use them).  Their
 * mapping is one L1 entry each, shared by the kernel map and the direct
 * map, so one update_va_mapping makes both aliases writable.
 */
static unsigned long reclaim_boot_tables(void)
{
    const unsigned long mfns[] = { boot_l4_mfn, boot_l3_mfn, boot_l2_mfn };

    for (unsigned int i = 0; i < ARRAY_SIZE(mfns); i++) {
        unsigned long pfn = mfn_to_pfn(mfns[i]);

        batch_va(pfn_to_virt(pfn), ((pte_t)mfns[i] << PAGE_SHIFT) | PTE_DMAP_RW);
    }
    batch_flush();
    for (unsigned int i = 0; i < ARRAY_SIZE(mfns); i++)
        pages_free(mfn_to_pfn(mfns[i]));
    return ARRAY_SIZE(mfns);
}

/* ------------------------------------------------------------------- cleanup */

/*
 * The initial mapping may reach past the image into what is module space
 * in this layout (a mapped ramdisk past 512 MiB does).  Everything the
 * shim still reads there (start_info, the p2m list, the ramdisk) is read
 * through the direct map from now on, so those kernel-L2 entries go.
 */
static unsigned long clean_kernel_l2(void)
{
    unsigned long mfn = mmu_pfn_to_mfn(T.level2_kernel), cleared = 0;
    unsigned int first = ALIGN_UP(boot.image_end - KERNEL_MAP_BASE, 1UL << L2_SHIFT) >> L2_SHIFT;

    for (unsigned int s = first; s < PT_ENTRIES; s++) {
        if (mmu_read_entry(mfn, s)) {
            batch_pte(mfn, s, 0);
            cleared++;
        }
    }
    batch_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
    batch_flush();
    return cleared;
}

/* --------------------------------------------------------------------- image */

/*
 * Xen maps the whole initial mapping writable and executable.  A kernel
 * keeps its text read-only and everything else non-executable.  The
 * grafted boot L1 entries are shared by the kernel map and the direct map,
 * so one change covers both aliases.  Past the image only NX is added: the
 * read-only entries there are page tables and must stay read-only.  (An
 * entry read back carries what Xen added, _PAGE_USER and its bit 52; they
 * are taken off before it is written again, or Xen would take the page for
 * a user page.)  On a CPU without NX only the text is protected: Xen
 * refuses NX there as a reserved bit, as the CPU would.
 */
static unsigned long protect_image(void)
{
    unsigned long image = (boot.image_end - boot.virt_base) >> PAGE_SHIFT;
    unsigned long end = T.graft_pages < boot.nr_pages ? T.graft_pages : boot.nr_pages;

    for (unsigned long pfn = 0; pfn < image; pfn++)
        dmap_set(pfn, boot.virt_base + (pfn << PAGE_SHIFT) < boot.text_end ? PTE_KERNEL_RO
                                                                           : PTE_DMAP_RW);
    for (unsigned long pfn = image; pte_nx && pfn < end; pfn++) {
        unsigned long l1 = dmap_l1_of(pfn);
        pte_t e = mmu_read_entry(l1, pfn & 511);

        if ((e & _PAGE_PRESENT) && !(e & pte_nx))
            batch_pte(l1, pfn & 511, (e & ~(_PAGE_USER | _PAGE_XEN_GUEST_KERNEL)) | pte_nx);
    }
    batch_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
    batch_flush();
    return image;
}

/* -------------------------------------------------------------------- pgtbuf */

static void close_pgtbuf(void)
{
    unsigned long used = pgtbuf.end - pgtbuf.start, tail = pgtbuf.top - pgtbuf.end;

    if (BUG_PGTBUF_RW) {
        /* The bug: the buffer stays the source of page tables, its tail writable. */
        mmu_print("mmu: pgtbuf used=%lu returned=0 (BUG=pgtbuf-rw: tail left writable)\n", used);
        return;
    }
    for (unsigned long pfn = pgtbuf.end; pfn < pgtbuf.top; pfn++)
        dmap_set(pfn, PTE_DMAP_RW);
    batch_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
    batch_flush();
    pages_add_range(pgtbuf.end, pgtbuf.top);
    pgtbuf.top = pgtbuf.end;
    mmu_print("mmu: pgtbuf used=%lu returned=%lu\n", used, tail);
}

/* ------------------------------------------------------- after the bring-up */

/*
 * A new page table after the bring-up, the smallest safe sequence: clear
 * (and fill) it while it is ordinary memory, remap its only mapping (the
 * direct map) read-only, and only then hook or pin it.  pt_page_protect()
 * only queues the remap: the caller flushes before (or in the same batch
 * as, since batches keep their order) hooking it.
 */
unsigned long pt_page_alloc(const char *what)
{
    /* The bug keeps taking tables from the buffer's (writable) tail while it lasts. */
    unsigned long pfn = BUG_PGTBUF_RW && pgtbuf.end < pgtbuf.top ? pgtbuf_alloc(what)
                                                                 : pages_alloc(what);

    plat_zero_page(pfn_to_virt(pfn));
    __atomic_fetch_add(&mmu_stats.pt_pages, 1, __ATOMIC_RELAXED);
    return pfn;
}

void pt_page_protect(unsigned long pfn)
{
    /* The bug: "buffer pages are read-only already", so no remap. */
    if (!(BUG_PGTBUF_RW && pgtbuf_contains(pfn)))
        dmap_set(pfn, PTE_DMAP_RO);
}

unsigned long pt_alloc_late(const char *what)
{
    unsigned long pfn = pt_page_alloc(what);

    pt_page_protect(pfn);
    return pfn;
}

/*
 * A new address space, as a process gets one: a kernel L4 that shares the
 * kernel slots of init_mm (Xen fills its own at pin time) and a user L4
 * that holds nothing yet; both writable until mm_pin().
 */
void mm_alloc(struct mm *mm)
{
    unsigned long init_k = mmu_pfn_to_mfn(init_mm.kernel_l4);

    mm->kernel_l4 = pt_page_alloc("process kernel L4");
    mm->user_l4 = BUG_NO_USER_L4 ? 0 : pt_page_alloc("process user L4");
    mm->pinned = false;
    for (unsigned int s = USER_L4_SLOTS; s < PT_ENTRIES; s++)
        if (!is_xen_slot(s))
            plat_write64(pfn_to_virt(mm->kernel_l4) + s * sizeof(pte_t), mmu_read_entry(init_k, s));
}

/* Read-only, then pinned, in one batch: Xen validates both trees. */
void mm_pin(struct mm *mm)
{
    pt_page_protect(mm->kernel_l4);
    batch_ext(MMUEXT_PIN_L4_TABLE, mmu_pfn_to_mfn(mm->kernel_l4));
    if (mm->user_l4) {
        pt_page_protect(mm->user_l4);
        batch_ext(MMUEXT_PIN_L4_TABLE, mmu_pfn_to_mfn(mm->user_l4));
    }
    batch_flush();
    mm->pinned = true;
}

/*
 * Per vCPU, the L4s it asked for and the L4s it has (seed 002's xen_cr3 and
 * xen_current_cr3).  `requested` is written before the switch is queued,
 * `loaded` only once the batch that loads it has been issued: until then
 * Xen still holds the old L4s as this vCPU's.  Other vCPUs read `loaded` to
 * learn whether this one still holds a reference to an mm (mm_free), or
 * may have its entries in its TLB (mm_loaded_mask).
 */
struct vcpu_mm vcpu_mm[MAX_VCPUS];
vcpumask_t vcpus_running = 1;       /* vCPU 0; smp.c adds the others it brings up */

static void publish(struct l4_pair *p, const struct mm *mm)
{
    __atomic_store_n(&p->kernel_l4, mm->kernel_l4, __ATOMIC_SEQ_CST);
    __atomic_store_n(&p->user_l4, mm->user_l4, __ATOMIC_SEQ_CST);
}

void mm_set_loaded(unsigned int vcpu, const struct mm *mm)
{
    publish(&vcpu_mm[vcpu].requested, mm);
    publish(&vcpu_mm[vcpu].loaded, mm);
}

static bool names(const struct l4_pair *p, const struct mm *mm)
{
    return __atomic_load_n(&p->kernel_l4, __ATOMIC_SEQ_CST) == mm->kernel_l4 ||
           (mm->user_l4 && __atomic_load_n(&p->user_l4, __ATOMIC_SEQ_CST) == mm->user_l4);
}

static bool loaded_on(unsigned int vcpu, const struct mm *mm)
{
    return names(&vcpu_mm[vcpu].loaded, mm);
}

vcpumask_t mm_loaded_mask(const struct mm *mm)
{
    vcpumask_t mask = 0;

    for (unsigned int v = 0; v < MAX_VCPUS; v++)
        if (loaded_on(v, mm))
            mask |= 1UL << v;
    return mask;
}

/* Loaded, or asked for: a vCPU on its way into mm may walk its tables from the moment Xen switches it. */
static vcpumask_t mm_active_mask(const struct mm *mm)
{
    vcpumask_t mask = 0;

    for (unsigned int v = 0; v < MAX_VCPUS; v++)
        if (loaded_on(v, mm) || names(&vcpu_mm[v].requested, mm))
            mask |= 1UL << v;
    return mask;
}

/* Load both CR3s together: Xen uses the user one on every return to user mode. */
void mm_switch(const struct mm *mm)
{
    struct vcpu_mm *me = &vcpu_mm[plat_vcpu_id()];
    unsigned long k = mmu_pfn_to_mfn(mm->kernel_l4);

    publish(&me->requested, mm);
    batch_ext(MMUEXT_NEW_BASEPTR, k);
    batch_ext(MMUEXT_NEW_USER_BASEPTR, mm->user_l4 ? mmu_pfn_to_mfn(mm->user_l4) : k);
    batch_flush();
    publish(&me->loaded, mm);
}

/*
 * A vCPU's loaded L4 holds a type reference in Xen: MMUEXT_UNPIN_TABLE
 * would still succeed, and the frame would stay an L4 that can never be
 * mapped writable again (Xen refuses: the BUG=free-loaded-mm crash).  So
 * wait, yielding, until no other vCPU has it loaded; this vCPU must have
 * switched away itself.  Returns the number of yields it took.
 */
#define MM_FREE_PATIENCE_NS (30 * 1000000000ULL)

unsigned long mm_free_yields;

static unsigned long wait_until_unloaded(const struct mm *mm)
{
    unsigned int me = plat_vcpu_id();
    unsigned long yields = 0;

    if (loaded_on(me, mm))
        mmu_error("mm_free: vcpu %u frees the mm it has loaded (L4 pfn %#lx): switch away first",
                  me, mm->kernel_l4);
    for (unsigned int v = 0; v < MAX_VCPUS; v++) {
        uint64_t start = plat_tsc();

        while (loaded_on(v, mm)) {
            plat_yield();
            yields++;
            __atomic_fetch_add(&mm_free_yields, 1, __ATOMIC_RELEASE);
            if (plat_tsc_to_ns(plat_tsc() - start) > MM_FREE_PATIENCE_NS)
                mmu_error("mm_free: vcpu %u still has L4 pfn %#lx loaded after %llu s",
                          v, mm->kernel_l4, MM_FREE_PATIENCE_NS / 1000000000ULL);
        }
    }
    return yields;
}

/* Unpin both once no vCPU has them loaded, then give the frames back. */
unsigned long mm_free(struct mm *mm)
{
    unsigned long pfns[2] = { mm->kernel_l4, mm->user_l4 };
    unsigned long yields = BUG_FREE_LOADED_MM ? 0 : wait_until_unloaded(mm);

    batch_ext(MMUEXT_UNPIN_TABLE, mmu_pfn_to_mfn(mm->kernel_l4));
    if (mm->user_l4)
        batch_ext(MMUEXT_UNPIN_TABLE, mmu_pfn_to_mfn(mm->user_l4));
    batch_flush();
    mm->pinned = false;
    batch_context("mm_free: the L4s writable again");
    pt_free_late(pfns, mm->user_l4 ? 2 : 1);
    batch_context(NULL);
    return yields;
}

/*
 * A mapping removed or downgraded may still sit in the TLB of every vCPU
 * that could have used it: the vCPUs in mask, this one included.  Queued
 * in the caller's batch, after the update, so the flush follows it in the
 * same hypercall.  For a kernel mapping the mask is every running vCPU,
 * known before the update (a vCPU is counted as running before it is up).
 */
void tlb_flush_va(unsigned long va, vcpumask_t mask)
{
    if (BUG_NO_TLB_SHOOTDOWN)
        batch_ext(MMUEXT_INVLPG_LOCAL, va);
    else
        batch_ext_multi(MMUEXT_INVLPG_MULTI, va, mask);
}

/*
 * A user mapping of mm, changed by the caller's queued update: flushed
 * from every vCPU that has mm, or is switching to it.  The mask can only
 * be read once the update is in the tables (Linux's flush_tlb_mm_range
 * reads mm_cpumask after the PTE change, for the same reason): a vCPU
 * that asks for mm after that walks the new tables.  A vCPU publishes
 * `requested` before it switches, and the fence orders this vCPU's read
 * of it after its own update.  So two hypercalls, not one.  Returns the
 * mask flushed.
 */
vcpumask_t tlb_flush_mm_va(const struct mm *mm, unsigned long va)
{
    vcpumask_t mask;

    batch_flush();
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    mask = mm_active_mask(mm) | 1UL << plat_vcpu_id();
    tlb_flush_va(va, mask);
    batch_flush();
    return mask;
}

void tlb_flush_all(vcpumask_t mask)
{
    if (BUG_NO_TLB_SHOOTDOWN)
        batch_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
    else
        batch_ext_multi(MMUEXT_TLB_FLUSH_MULTI, 0, mask);
}

/*
 * The reverse, for tables the caller has unhooked (and flushed): writable
 * again, and only after Xen has done that may the pages be written (the
 * free list lives in the pages themselves).
 */
void pt_free_late(const unsigned long *pfns, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        dmap_set(pfns[i], PTE_DMAP_RW);
    tlb_flush_all(vcpus_running);              /* no stale read-only TLB entry, on any vCPU */
    batch_flush();
    for (unsigned long i = 0; i < n; i++)
        if (!pgtbuf_contains(pfns[i]))
            pages_free(pfns[i]);
}

void set_fixmap(unsigned int idx, unsigned long mfn, pte_t flags)
{
    unsigned long va = fix_to_virt(idx);
    pte_t e = mfn || flags ? ((pte_t)mfn << PAGE_SHIFT) | flags : 0;

    if (BUG_DIRECT_L1_WRITE) {
        /* A plain store into the hooked, read-only level1_fixmap: Xen emulates it (ptwr). */
        batch_flush();
        plat_write64(frame_va(T.level1_fixmap) + PT_INDEX(va, L1_SHIFT) * sizeof(pte_t), e);
    } else {
        batch_pte(mmu_pfn_to_mfn(T.level1_fixmap), PT_INDEX(va, L1_SHIFT), e);
    }
    batch_ext(MMUEXT_INVLPG_LOCAL, va);
}

/* ------------------------------------------------------------------- driver */

static struct mmu_stats phase_mark;
static const char *phase_name;
static uint64_t phase_tsc;
static struct { const char *name; uint64_t tsc; } phase_times[16];
static unsigned int nr_phase_times;

void mmu_phase_begin(const char *name)
{
    phase_name = name;
    phase_mark = mmu_stats;
    batch_set_phase(name);
    phase_tsc = plat_tsc();
}

/*
 * Guest time per phase, converted with Xen's own TSC scale for this vCPU
 * (vcpu_time_info: ns = ((tsc << shift) * mul) >> 32), once shared_info is
 * mapped.
 */
void mmu_report_times(uint32_t tsc_to_system_mul, int8_t tsc_shift)
{
    uint64_t total = 0;

    for (unsigned int i = 0; i < nr_phase_times; i++) {
        uint64_t t = phase_times[i].tsc;
        uint64_t ns;

        t = tsc_shift >= 0 ? t << tsc_shift : t >> -tsc_shift;
        ns = (uint64_t)(((unsigned __int128)t * tsc_to_system_mul) >> 32);
        total += ns;
        mmu_print("mmu: time %s us=%lu tsc=%lu\n", phase_times[i].name,
                  (unsigned long)(ns / 1000), (unsigned long)phase_times[i].tsc);
    }
    mmu_print("mmu: time total us=%lu\n", (unsigned long)(total / 1000));
}

void mmu_phase_end(void)
{
    if (nr_phase_times < ARRAY_SIZE(phase_times)) {
        phase_times[nr_phase_times].name = phase_name;
        phase_times[nr_phase_times].tsc = plat_tsc() - phase_tsc;
        nr_phase_times++;
    }
    mmu_print("mmu: %s hypercalls=%lu entries=%lu pt_pages=%lu\n", phase_name,
              mmu_stats.hypercalls - phase_mark.hypercalls, mmu_stats.entries - phase_mark.entries,
              mmu_stats.pt_pages - phase_mark.pt_pages);
    batch_set_phase("runtime");
}

/* Free RAM from [start, end): everything but the ramdisk and the builder's INIT_P2M frames. */
static void add_free_ranges(unsigned long start, unsigned long end)
{
    struct { unsigned long first, n; } hole[2] = {
        { boot.ramdisk_pfn, boot.ramdisk_pages }, { boot.p2m_first_pfn, boot.p2m_frames },
    };

    if (hole[0].n && hole[1].n && hole[1].first < hole[0].first) {
        hole[0] = hole[1];
        hole[1].first = boot.ramdisk_pfn;
        hole[1].n = boot.ramdisk_pages;
    }
    for (unsigned int i = 0; i < 2; i++) {
        if (!hole[i].n || hole[i].first + hole[i].n <= start || hole[i].first >= end)
            continue;
        if (hole[i].first > start)
            pages_add_range(start, hole[i].first);
        start = hole[i].first + hole[i].n;
    }
    pages_add_range(start, end);
}

unsigned long mmu_drop_boot_p2m(void)
{
    unsigned int slot = PT_INDEX(boot.p2m_va, L4_SHIFT);

    if (!boot_p2m_l4e)
        return 0;
    /* Unhooking the last reference devalidates the builder's tables (cascade). */
    batch_pte(mmu_pfn_to_mfn(T.kernel_l4), slot, 0);
    batch_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
    batch_flush();
    boot_p2m_l4e = 0;
    for (unsigned long pfn = boot.p2m_first_pfn; pfn < boot.p2m_first_pfn + boot.p2m_frames; pfn++)
        dmap_set(pfn, PTE_DMAP_RW);
    batch_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
    batch_flush();
    for (unsigned long pfn = boot.p2m_first_pfn; pfn < boot.p2m_first_pfn + boot.p2m_frames; pfn++)
        pages_free(pfn);
    return boot.p2m_frames;
}

void mmu_bringup(const struct mmu_boot *b)
{
    unsigned long n;

    boot = *b;
    pte_nx = BUG_NX_ALWAYS || plat_cpu_has_nx() ? _PAGE_NX : 0;
    memset(&T, 0, sizeof(T));
    boot_p2m_l4e = 0;
    batch_reset();
    pages_reset(pfn_has_ram);
    switched = false;

    mmu_phase_begin("discover");
    discover_boot_tables();
    mmu_print("mmu: boot tables l4=%#lx l3=%#lx l2=%#lx, initial mapping %lu pages\n",
              boot_l4_mfn, boot_l3_mfn, boot_l2_mfn, mapped_pages);
    mmu_phase_end();

    mmu_phase_begin("build");
    plan_tables();
    build_tables();
    mmu_phase_end();

    mmu_phase_begin("switch");
    switch_tables();
    mmu_phase_end();

    mmu_phase_begin("reclaim");
    n = reclaim_boot_tables();
    mmu_phase_end();
    mmu_print("mmu: reclaimed %lu boot table frames\n", n);

    /* Between the (extended) initial mapping and the buffer, if the buffer moved on. */
    add_free_ranges(T.graft_pages, pgtbuf.start);
    add_free_ranges(pgtbuf.top, boot.nr_pages);

    /* A list inside Xen's initial mapping is read through the direct map from now on. */
    if (!boot.p2m_frames)
        p2m_relocate(boot_va_to_direct(p2m_list_va()));
}

void mmu_drop_initial_mapping(void)
{
    unsigned long n;

    mmu_phase_begin("cleanup");
    n = clean_kernel_l2();
    mmu_phase_end();
    mmu_print("mmu: cleared %lu kernel-L2 entries past the image\n", n);

    mmu_phase_begin("pgtbuf");
    close_pgtbuf();
    mmu_phase_end();

    mmu_phase_begin("image");
    n = protect_image();
    mmu_phase_end();
    if (pte_nx)
        mmu_print("mmu: image: text read-only, data non-executable (%lu pages)\n", n);
    else
        mmu_print("mmu: image: text read-only; no NX on this CPU, so data stays executable (%lu pages)\n", n);
}
