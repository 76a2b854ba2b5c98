/* SPDX-License-Identifier: MIT */
/*
 * p2m.c - pfn <-> mfn.
 *
 * mfn -> pfn: Xen keeps the machine-to-phys table (M2P) and maps it
 * read-only into every PV guest.  Its address is asked of Xen
 * (XENMEM_machphys_mapping) rather than assumed, and lookups past max_mfn
 * are refused rather than read.
 *
 * pfn -> mfn: the guest's own list.  It starts as the builder's
 * start_info.mfn_list (read where the builder put it), and p2m_build()
 * moves it into a linear list in its own virtual area, as Linux does:
 *
 *   P2M_VADDR (L4 slot 400) -> p2m L3 -> p2m L2s -> p2m L1s -> leaf pages
 *   one leaf page = 512 entries; one L1 = 2^18 pfns; one L2 = 2^27 pfns
 *
 * A leaf whose 512 pfns are all missing (holes, ballooned out, beyond the
 * end) is not a page of its own: its PTE maps one shared read-only page
 * full of INVALID_MFN.  An L1 (L2) whose leaves (L1s) are all missing is
 * the shared "missing L1" ("missing L2"), and all 512 L3 slots are filled,
 * so every pfn below P2M_MAX_PFNS reads as INVALID_MFN without a fault and
 * a sparse guest pays nothing for its holes.  Identity ranges get a shared
 * page of their own.  Writing a pfn whose leaf is shared first gives it a
 * real page (and real tables above it where those are shared).
 */
#include "pv/p2m.h"
#include "pv/batch.h"
#include "pv/layout.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/page_alloc.h"
#include "lib/lib.h"

#define P2M_PER_LEAF    512UL
#define P2M_PER_L1      (512UL * 512)
#define P2M_PER_L2      (512UL * 512 * 512)

#define PTE_P2M_TABLE   (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)
#define PTE_P2M_LEAF    (PTE_KERNEL_RW | pte_nx)
#define PTE_P2M_SHARED  (PTE_KERNEL_RO | pte_nx)

static unsigned long m2p_va, m2p_max_mfn;
bool m2p_strict;
static unsigned long p2m_va, p2m_pages;         /* the list and its length */
static bool p2m_linear;                          /* p2m_build() done */

struct p2m_stats p2m_stats;

/* Shared pages (pfns), made when first needed. */
static unsigned long missing_leaf, missing_l1, missing_l2, identity_leaf, identity_l1;
static unsigned long p2m_l3;

long m2p_init(void)
{
    struct xen_machphys_mapping map;
    long rc = plat_memory_op(XENMEM_machphys_mapping, &map);

    if (rc)
        return rc;
    m2p_va = map.v_start;
    m2p_max_mfn = map.max_mfn;
    return 0;
}

unsigned long mfn_to_pfn(unsigned long mfn)
{
    if (!m2p_va || mfn > m2p_max_mfn)
        return INVALID_PFN;
    return plat_read64(m2p_va + mfn * sizeof(unsigned long));
}

/*
 * The same for an mfn from outside (start_info's): Xen tells a domU that
 * the M2P spans MACH2PHYS_NR_ENTRIES frames, but maps it only as far as
 * the host's memory goes, so the read may fault.  (The plain read above
 * stays for our own frames: there a fault means the M2P itself is gone.)
 */
bool m2p_probe(unsigned long mfn, uint64_t *entry)
{
    return m2p_va && mfn <= m2p_max_mfn && plat_read64_safe(m2p_va + mfn * sizeof(unsigned long), entry);
}

unsigned long mfn_to_pfn_probe(unsigned long mfn)
{
    uint64_t pfn;

    return m2p_probe(mfn, &pfn) ? pfn : INVALID_PFN;
}

void m2p_report(void)
{
    uint64_t v;

    if (m2p_probe(m2p_max_mfn, &v))
        mmu_print("m2p: at %#lx, max_mfn %#lx: the last entry reads %#lx\n", m2p_va, m2p_max_mfn,
                  (unsigned long)v);
    else
        mmu_print("m2p: at %#lx, max_mfn %#lx: the last entry faults (caught): Xen maps the M2P "
                  "only as far as the host's memory\n", m2p_va, m2p_max_mfn);
}

/*
 * Every page of the builder's list must be mapped before the first read:
 * an INIT_P2M list has a mapping of its own, sized by the builder, and a
 * start_info whose nr_pages outgrows it (found by make fuzz) would fault
 * on the first entry past it.  One probe per page of [from, to) entries.
 */
static void probe_list(unsigned long va, unsigned long from, unsigned long to, const char *why)
{
    unsigned long end = va + to * sizeof(unsigned long);

    for (unsigned long a = va + from * sizeof(unsigned long); a < end; a = (a | ~PAGE_MASK) + 1) {
        uint64_t v;

        if (!plat_read64_safe(a, &v))
            mmu_error("p2m: the builder's list at %#lx (%s %lu) is not mapped at %#lx (entry %lu)",
                      va, why, to, a, (a - va) / sizeof(unsigned long));
    }
}

/*
 * The end of the guest's vNUMA memory ranges (pfns), or 0 without vNUMA.
 * Xen answers -EOPNOTSUPP for a domain without vNUMA (-ENOSYS: a Xen
 * without the call), and -ENOBUFS with the sizes it needs when ours are
 * short, so the first call asks with none.  An XSM policy may deny the
 * call (-EPERM, -EACCES): then the shim cannot see RAM past nr_pages, says
 * so, and uses nr_pages, as Linux would.
 */
static unsigned long vnuma_end(void)
{
    static unsigned int vdistance[VNUMA_MAX_NODES * VNUMA_MAX_NODES], vcpu_to_vnode[VNUMA_MAX_VCPUS];
    static xen_vmemrange_t ranges[VNUMA_MAX_RANGES];
    struct xen_vnuma_topology_info t = { .domid = DOMID_SELF };
    unsigned long end = 0;
    long rc = plat_memory_op(XENMEM_get_vnumainfo, &t);

    if (rc == -XEN_EOPNOTSUPP || rc == -XEN_ENOSYS)
        return 0;
    if (rc == -XEN_EPERM || rc == -XEN_EACCES) {
        mmu_print("p2m: XENMEM_get_vnumainfo denied (%ld): the list is taken as nr_pages long\n", rc);
        return 0;
    }
    if (rc && rc != -XEN_ENOBUFS)
        mmu_error("p2m: XENMEM_get_vnumainfo failed: %ld", rc);
    if (t.nr_vnodes > VNUMA_MAX_NODES || t.nr_vcpus > VNUMA_MAX_VCPUS || t.nr_vmemranges > VNUMA_MAX_RANGES)
        mmu_error("p2m: a vNUMA topology of %u nodes, %u vCPUs and %u memory ranges exceeds the "
                  "shim's %u, %u and %u", t.nr_vnodes, t.nr_vcpus, t.nr_vmemranges,
                  VNUMA_MAX_NODES, VNUMA_MAX_VCPUS, VNUMA_MAX_RANGES);
    set_xen_guest_handle(t.vdistance.h, vdistance);
    set_xen_guest_handle(t.vcpu_to_vnode.h, vcpu_to_vnode);
    set_xen_guest_handle(t.vmemrange.h, ranges);
    rc = plat_memory_op(XENMEM_get_vnumainfo, &t);
    if (rc)
        mmu_error("p2m: XENMEM_get_vnumainfo failed: %ld", rc);
    for (unsigned int i = 0; i < t.nr_vmemranges; i++) {
        if (ranges[i].start > ranges[i].end || (ranges[i].end & ~PAGE_MASK))
            mmu_error("p2m: vNUMA memory range %u [%#lx, %#lx) is not a page-aligned range", i,
                      (unsigned long)ranges[i].start, (unsigned long)ranges[i].end);
        if (ranges[i].end >> PAGE_SHIFT > end)
            end = ranges[i].end >> PAGE_SHIFT;
    }
    mmu_print("p2m: vNUMA: %u nodes, %u memory ranges ending at pfn %#lx\n", t.nr_vnodes,
              t.nr_vmemranges, end);
    return end;
}

/*
 * start_info.nr_pages is the number of pages the domain has.  With vNUMA
 * memory ranges, libxenguest's builder makes the list run to the end of
 * the highest range and leaves the pfns between ranges INVALID, so RAM
 * lies past nr_pages, and only the ranges say how far.  (Without vNUMA
 * the list is nr_pages long: e820_host=1 gives a host-like memory map, but
 * the list stays contiguous.)  Past nr_pages every entry must be INVALID
 * or a frame of ours whose M2P entry names that pfn: anything else is a
 * builder the shim does not understand.
 */
unsigned long p2m_init_boot(unsigned long va, unsigned long nr_pages)
{
    unsigned long pages = nr_pages, end;

    probe_list(va, 0, nr_pages, "nr_pages");
    p2m_va = va;
    end = vnuma_end();
    if (end > nr_pages) {
        if (end > DMAP_MAX_PAGES)
            mmu_error("p2m: the vNUMA memory ranges end at pfn %#lx, past what the direct map holds "
                      "(%lu pages)", end, (unsigned long)DMAP_MAX_PAGES);
        probe_list(va, nr_pages, end, "vNUMA pages");
        for (unsigned long pfn = nr_pages; pfn < end; pfn++) {
            unsigned long mfn = plat_read64(va + pfn * sizeof(unsigned long));
            uint64_t back;

            if (mfn != INVALID_MFN && (!m2p_probe(mfn, &back) || back != pfn))
                mmu_error("p2m: entry %#lx past nr_pages %lu is mfn %#lx, whose M2P entry is not that pfn",
                          pfn, nr_pages, mfn);
        }
        pages = end;
        mmu_print("p2m: the builder's list has %lu entries: RAM past nr_pages %lu\n", pages, nr_pages);
    }
    p2m_pages = pages;
    p2m_linear = false;
    missing_leaf = missing_l1 = missing_l2 = identity_leaf = identity_l1 = p2m_l3 = 0;
    memset(&p2m_stats, 0, sizeof(p2m_stats));
    p2m_tools_reset();
    return pages;
}

void p2m_relocate(unsigned long va)
{
    p2m_va = va;
}

unsigned long p2m_list_va(void)
{
    return p2m_va;
}

/* The list's entry as stored (P2M_IDENTITY included); INVALID_MFN past its end. */
static unsigned long p2m_entry(unsigned long pfn)
{
    return pfn < p2m_pages ? plat_read64(p2m_va + pfn * sizeof(unsigned long)) : INVALID_MFN;
}

unsigned long pfn_to_mfn(unsigned long pfn)
{
    unsigned long v = p2m_entry(pfn);

    return v == P2M_IDENTITY ? pfn : v;
}

bool pfn_has_ram(unsigned long pfn)
{
    return pfn_ram_mfn(pfn) != INVALID_MFN;
}

unsigned long pfn_ram_mfn(unsigned long pfn)
{
    unsigned long v = p2m_entry(pfn);

    return v == P2M_IDENTITY ? INVALID_MFN : v;
}

unsigned long p2m_nr_pages(void)
{
    return p2m_pages;
}

/* --------------------------------------------------------------- building */

static pte_t map_of(unsigned long pfn, pte_t flags)
{
    return ((pte_t)mmu_pfn_to_mfn(pfn) << PAGE_SHIFT) | flags;
}

/* A data page of the list: allocated, filled with value, writable. */
static unsigned long new_leaf(uint64_t value)
{
    unsigned long pfn = pages_alloc("p2m leaf");
    unsigned long va = pfn_to_virt(pfn);

    for (unsigned int i = 0; i < P2M_PER_LEAF; i++)
        plat_write64(va + i * 8, value);
    return pfn;
}

/* A table of the list: every slot = entry; read-only once the batch is flushed. */
static unsigned long new_table(pte_t entry, const char *what)
{
    unsigned long pfn = pt_page_alloc(what);
    unsigned long va = pfn_to_virt(pfn);

    for (unsigned int i = 0; i < PT_ENTRIES; i++)
        plat_write64(va + i * 8, entry);
    pt_page_protect(pfn);
    return pfn;
}

static unsigned long shared_leaf(unsigned long *slot, uint64_t value)
{
    if (!*slot) {
        *slot = new_leaf(value);
        dmap_set(*slot, PTE_KERNEL_RO | pte_nx);     /* nobody writes a shared page */
        p2m_stats.shared_pages++;
    }
    return *slot;
}

static unsigned long get_missing_leaf(void)
{
    return shared_leaf(&missing_leaf, INVALID_MFN);
}

static unsigned long get_missing_l1(void)
{
    if (!missing_l1) {
        missing_l1 = new_table(map_of(get_missing_leaf(), PTE_P2M_SHARED), "p2m missing L1");
        p2m_stats.shared_pages++;
    }
    return missing_l1;
}

static unsigned long get_missing_l2(void)
{
    if (!missing_l2) {
        missing_l2 = new_table(map_of(get_missing_l1(), PTE_P2M_TABLE), "p2m missing L2");
        p2m_stats.shared_pages++;
    }
    return missing_l2;
}

static unsigned long get_identity_l1(void)
{
    if (!identity_l1) {
        unsigned long leaf = shared_leaf(&identity_leaf, P2M_IDENTITY);

        identity_l1 = new_table(map_of(leaf, PTE_P2M_SHARED), "p2m identity L1");
        p2m_stats.shared_pages++;
    }
    return identity_l1;
}

enum leaf_kind { LEAF_MISSING, LEAF_IDENTITY, LEAF_REAL };

static enum leaf_kind classify(unsigned long first, unsigned long max_pfn,
                               unsigned long (*src)(unsigned long pfn))
{
    bool missing = true, identity = true;

    if (first >= max_pfn)
        return LEAF_MISSING;    /* nothing past the list's end */
    for (unsigned long pfn = first; pfn < first + P2M_PER_LEAF; pfn++) {
        unsigned long mfn = pfn < max_pfn ? src(pfn) : INVALID_MFN;

        missing &= mfn == INVALID_MFN;
        identity &= mfn == P2M_IDENTITY;
        if (!missing && !identity)
            return LEAF_REAL;
    }
    return missing ? LEAF_MISSING : LEAF_IDENTITY;
}

/* The L1 for 2^18 pfns from first: a shared one if it can be, else a new one. */
static pte_t build_l1(unsigned long first, unsigned long max_pfn, unsigned long (*src)(unsigned long))
{
    enum leaf_kind kinds[PT_ENTRIES];
    unsigned int real = 0, ident = 0;
    unsigned long l1, va;

    for (unsigned int i = 0; i < PT_ENTRIES; i++) {
        kinds[i] = classify(first + i * P2M_PER_LEAF, max_pfn, src);
        real += kinds[i] == LEAF_REAL;
        ident += kinds[i] == LEAF_IDENTITY;
    }
    if (!real && !ident) {
        p2m_stats.shared_missing += PT_ENTRIES;
        return map_of(get_missing_l1(), PTE_P2M_TABLE);
    }
    if (ident == PT_ENTRIES)
        return map_of(get_identity_l1(), PTE_P2M_TABLE);

    l1 = pt_page_alloc("p2m L1");
    va = pfn_to_virt(l1);
    for (unsigned int i = 0; i < PT_ENTRIES; i++) {
        unsigned long base = first + i * P2M_PER_LEAF, leaf;
        pte_t e;

        switch (kinds[i]) {
        case LEAF_MISSING:
            e = map_of(get_missing_leaf(), PTE_P2M_SHARED);
            p2m_stats.shared_missing++;
            break;
        case LEAF_IDENTITY:
            e = map_of(shared_leaf(&identity_leaf, P2M_IDENTITY), PTE_P2M_SHARED);
            break;
        default:
            leaf = pages_alloc("p2m leaf");
            for (unsigned int j = 0; j < P2M_PER_LEAF; j++) {
                unsigned long pfn = base + j, mfn = pfn < max_pfn ? src(pfn) : INVALID_MFN;

                /* The M2P must agree, or every later translation would be a lie. */
                if (mfn != INVALID_MFN && mfn != P2M_IDENTITY && mfn_to_pfn(mfn) != pfn)
                    mmu_error("p2m: pfn %#lx -> mfn %#lx, but the M2P maps mfn %#lx to pfn %#lx",
                              pfn, mfn, mfn, mfn_to_pfn(mfn));
                plat_write64(pfn_to_virt(leaf) + j * 8, mfn);
            }
            e = map_of(leaf, PTE_P2M_LEAF);
            p2m_stats.leaf_pages++;
            break;
        }
        plat_write64(va + i * 8, e);
    }
    pt_page_protect(l1);
    p2m_stats.table_pages++;
    return map_of(l1, PTE_P2M_TABLE);
}

static unsigned long (*build_src)(unsigned long pfn);

static unsigned long src_boot_list(unsigned long pfn)
{
    return plat_read64(p2m_va + pfn * sizeof(unsigned long));
}

/*
 * Build the linear list for pfns [0, max_pfn) from src (NULL: the current
 * list), map it at P2M_VADDR in init_mm and switch to it.
 */
void p2m_build(unsigned long max_pfn, unsigned long (*src)(unsigned long pfn))
{
    unsigned long l3_va;

    if (max_pfn > P2M_MAX_PFNS)
        mmu_error("p2m: %lu pfns exceed the list's %lu", max_pfn, (unsigned long)P2M_MAX_PFNS);
    build_src = src ? src : src_boot_list;

    p2m_l3 = pt_page_alloc("p2m L3");
    l3_va = pfn_to_virt(p2m_l3);
    p2m_stats.table_pages++;
    for (unsigned int s3 = 0; s3 < PT_ENTRIES; s3++) {
        unsigned long first2 = s3 * P2M_PER_L2;
        pte_t l1es[PT_ENTRIES];
        bool all_missing = true;

        if (first2 >= max_pfn) {
            plat_write64(l3_va + s3 * 8, map_of(get_missing_l2(), PTE_P2M_TABLE));
            continue;
        }
        for (unsigned int s2 = 0; s2 < PT_ENTRIES; s2++) {
            unsigned long first1 = first2 + s2 * P2M_PER_L1;

            l1es[s2] = first1 < max_pfn ? build_l1(first1, max_pfn, build_src)
                                        : map_of(get_missing_l1(), PTE_P2M_TABLE);
            all_missing &= PTE_MFN(l1es[s2]) == mmu_pfn_to_mfn(get_missing_l1());
        }
        if (all_missing) {
            plat_write64(l3_va + s3 * 8, map_of(get_missing_l2(), PTE_P2M_TABLE));
        } else {
            unsigned long l2 = pt_page_alloc("p2m L2");

            for (unsigned int s2 = 0; s2 < PT_ENTRIES; s2++)
                plat_write64(pfn_to_virt(l2) + s2 * 8, l1es[s2]);
            pt_page_protect(l2);
            p2m_stats.table_pages++;
            plat_write64(l3_va + s3 * 8, map_of(l2, PTE_P2M_TABLE));
        }
    }
    pt_page_protect(p2m_l3);
    /* Slot 400 is a kernel slot: set_pgd writes the kernel L4 only. */
    set_pgd(&init_mm, P2M_L4_SLOT, map_of(p2m_l3, PTE_P2M_TABLE));
    batch_flush();

    p2m_va = P2M_VADDR;
    p2m_pages = max_pfn;
    p2m_linear = true;
}

/*
 * The builder's list is garbage once the linear list exists: give its
 * pages to the allocator, page by page (rounding the range to 2 MiB, as
 * Linux once did, freed live page-table pages).  A page that is read-only
 * in the direct map is a page table: refuse rather than free it.
 */
unsigned long p2m_release_boot_list(unsigned long first_pfn, unsigned long nr_entries)
{
    unsigned long pages = DIV_ROUND_UP(nr_entries * sizeof(unsigned long), PAGE_SIZE);

    for (unsigned long pfn = first_pfn; pfn < first_pfn + pages; pfn++)
        if (!(dmap_get(pfn) & _PAGE_RW))
            mmu_error("p2m: boot list page pfn %#lx is read-only in the direct map (a page table?)",
                      pfn);
    for (unsigned long pfn = first_pfn; pfn < first_pfn + pages; pfn++)
        pages_free(pfn);
    return pages;
}

/* ----------------------------------------------------------------- update */

/*
 * The PTE slot that maps the leaf of pfn, giving shared tables on the way
 * a real copy first (hooked in place of the shared one, in the batch).
 */
static unsigned long table_of(unsigned long parent_mfn, unsigned int slot,
                              unsigned long shared_pfn, pte_t (*copy_entry)(void), const char *what)
{
    pte_t e = mmu_read_entry(parent_mfn, slot);

    if (shared_pfn && PTE_MFN(e) == mmu_pfn_to_mfn(shared_pfn)) {
        unsigned long t = new_table(copy_entry(), what);

        p2m_stats.table_pages++;
        batch_pte(parent_mfn, slot, map_of(t, PTE_P2M_TABLE));
        return mmu_pfn_to_mfn(t);
    }
    return PTE_MFN(e);
}

static pte_t missing_l1_entry(void)
{
    return map_of(get_missing_l1(), PTE_P2M_TABLE);
}

static pte_t missing_leaf_entry(void)
{
    return map_of(get_missing_leaf(), PTE_P2M_SHARED);
}

static pte_t identity_leaf_entry(void)
{
    return map_of(identity_leaf, PTE_P2M_SHARED);
}

static bool p2m_ensure_leaf(unsigned long pfn)
{
    unsigned long l3 = mmu_pfn_to_mfn(p2m_l3), l2, l1;
    unsigned int s3 = (pfn / P2M_PER_L2) & 511, s2 = (pfn / P2M_PER_L1) & 511;
    unsigned int s1 = (pfn / P2M_PER_LEAF) & 511;
    pte_t leaf;
    uint64_t fill;

    l2 = table_of(l3, s3, missing_l2, missing_l1_entry, "p2m L2");
    if (identity_l1 && PTE_MFN(mmu_read_entry(l2, s2)) == mmu_pfn_to_mfn(identity_l1))
        l1 = table_of(l2, s2, identity_l1, identity_leaf_entry, "p2m L1");
    else
        l1 = table_of(l2, s2, missing_l1, missing_leaf_entry, "p2m L1");

    leaf = mmu_read_entry(l1, s1);
    if (PTE_MFN(leaf) == mmu_pfn_to_mfn(get_missing_leaf()))
        fill = INVALID_MFN;
    else if (identity_leaf && PTE_MFN(leaf) == mmu_pfn_to_mfn(identity_leaf))
        fill = P2M_IDENTITY;
    else
        return false;           /* a real leaf already */

    batch_pte(l1, s1, map_of(new_leaf(fill), PTE_P2M_LEAF));
    p2m_stats.leaf_pages++;
    p2m_stats.shared_missing -= fill == INVALID_MFN;
    return true;
}

/*
 * Linux's set_phys_to_machine: record pfn -> mfn, with the matching M2P
 * entry (MMU_MACHPHYS_UPDATE) when mfn is real.  A pfn past the end grows
 * the list; one in a shared leaf gets a real leaf first.
 */
void set_phys_to_machine(unsigned long pfn, unsigned long mfn)
{
    if (!p2m_linear)
        mmu_error("set_phys_to_machine(%#lx) before the linear p2m exists", pfn);
    if (pfn >= P2M_MAX_PFNS)
        mmu_error("set_phys_to_machine: pfn %#lx beyond the list's limit", pfn);

    if (pfn >= p2m_pages) {
        /*
         * Every slot below already reads INVALID.  The L1 chunks the list
         * now reaches into count their missing leaves, as p2m_build did.
         */
        p2m_stats.shared_missing += PT_ENTRIES *
            (DIV_ROUND_UP(pfn + 1, P2M_PER_L1) - DIV_ROUND_UP(p2m_pages, P2M_PER_L1));
        p2m_pages = pfn + 1;
        p2m_publish_leaf(pfn);
    }
    /* The raw entry: an identity entry reads back as the pfn through pfn_to_mfn. */
    if (plat_read64(P2M_VADDR + pfn * 8) == mfn)
        return;

    if (p2m_ensure_leaf(pfn)) {
        /* The mappings change: tools reading the list from outside must retry. */
        p2m_generation_begin();
        batch_flush();          /* the new leaf is mapped before it is written */
        p2m_generation_end();
    }
    plat_write64(P2M_VADDR + pfn * 8, mfn);
    if (mfn != INVALID_MFN && mfn != P2M_IDENTITY)
        batch_machphys(mfn, pfn);
    p2m_publish_leaf(pfn);
}
