/* SPDX-License-Identifier: MIT */
/*
 * p2m_tools.c - publishing the p2m where the toolstack looks for it
 * (save/restore, migration, dump-core read a PV guest's p2m from outside).
 *
 * Two ways, both in shared_info's arch part:
 *  - the 3-level frame list: pfn_to_mfn_frame_list_list names a page of
 *    mfns of "mid" pages, each naming the mfns of 512 leaf pages (the
 *    shared missing page where a leaf is missing).  It describes at most
 *    512 * 512 * 512 pfns; with SIF_VIRT_P2M_4TOOLS (the tools understand
 *    the linear list) it is set to ~0 instead, as Linux does.
 *  - the linear list: p2m_cr3 (the L4 it is mapped under), p2m_vaddr and
 *    p2m_generation, which is odd while the list's mappings change.
 * max_pfn is the list's length in both.
 */
#include "pv/p2m.h"
#include "lib/config.h"
#include "pv/layout.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/page_alloc.h"
#include "mm/pt_walk.h"
#include "lib/lib.h"

#define ARCH(field) (si_va + offsetof(shared_info_t, arch) + offsetof(struct arch_shared_info, field))
#define FRAME_LIST_MAX_PFNS (512UL * 512 * 512)

static unsigned long si_va;
static bool three_level;
static unsigned long top_pfn;           /* frame list list */
static unsigned long mid_pfns[512];
static unsigned long published_leaves;  /* leaves [0, n) are in the frame list */
static bool tree_only;                  /* p2m_cr3 stays 0: the tools walk the frame list */

/* The frame that holds leaf leaf_index of the list (the p2m area always maps every leaf). */
unsigned long p2m_leaf_mfn(unsigned long leaf_index)
{
    return PTE_MFN(pt_lookup(&mmu_geo, mmu_pfn_to_mfn(init_mm.kernel_l4),
                             P2M_VADDR + leaf_index * PAGE_SIZE, NULL));
}

static void set_mid_entry(unsigned long leaf)
{
    unsigned long mid = leaf / 512;

    if (!mid_pfns[mid]) {
        mid_pfns[mid] = pages_alloc("p2m frame list");
        plat_zero_page(pfn_to_virt(mid_pfns[mid]));
        plat_write64(pfn_to_virt(top_pfn) + mid * 8, mmu_pfn_to_mfn(mid_pfns[mid]));
    }
    plat_write64(pfn_to_virt(mid_pfns[mid]) + (leaf % 512) * 8, p2m_leaf_mfn(leaf));
}

void p2m_tools_withdraw(void)
{
    if (!si_va)
        return;
    plat_write64(ARCH(p2m_cr3), 0);         /* first: the rest is then not to be read */
    barrier();
    plat_write64(ARCH(p2m_vaddr), 0);
    plat_write64(ARCH(pfn_to_mfn_frame_list_list), 0);
    plat_write64(ARCH(max_pfn), 0);
    si_va = 0;
}

void p2m_tools_reset(void)
{
    si_va = 0;
}

void p2m_tools_init(unsigned long shared_info_va, uint32_t si_flags, bool frame_list_only)
{
    unsigned long leaves = DIV_ROUND_UP(p2m_nr_pages(), 512);

    si_va = shared_info_va;
    memset(mid_pfns, 0, sizeof(mid_pfns));
    published_leaves = 0;
    three_level = !(si_flags & SIF_VIRT_P2M_4TOOLS) && p2m_nr_pages() <= FRAME_LIST_MAX_PFNS;
    tree_only = frame_list_only && three_level;
    /*
     * Tools sample these fields while the guest runs.  The public header
     * (arch-x86/xen.h) makes p2m_vaddr and p2m_generation valid once
     * p2m_cr3 is non-zero, and max_pfn bounds both lists: so everything
     * else is written first, and p2m_cr3 last, after a compiler barrier.
     */
    if (BUG_P2M_CR3_FIRST)
        plat_write64(ARCH(p2m_cr3), mmu_pfn_to_mfn(init_mm.kernel_l4) << PAGE_SHIFT);
    plat_write64(ARCH(max_pfn), p2m_nr_pages());
    if (three_level) {
        top_pfn = pages_alloc("p2m frame list list");
        plat_zero_page(pfn_to_virt(top_pfn));
        for (unsigned long leaf = 0; leaf < leaves; leaf++)
            set_mid_entry(leaf);
        published_leaves = leaves;
        plat_write64(ARCH(pfn_to_mfn_frame_list_list), mmu_pfn_to_mfn(top_pfn));
    } else {
        plat_write64(ARCH(pfn_to_mfn_frame_list_list), ~0UL);
    }
    plat_write64(ARCH(p2m_vaddr), P2M_VADDR);
    plat_write64(ARCH(p2m_generation), 0);
    barrier();
    plat_write64(ARCH(p2m_cr3), tree_only ? 0 : mmu_pfn_to_mfn(init_mm.kernel_l4) << PAGE_SHIFT);
    mmu_print("p2m: tools see %s, max_pfn=%lu, p2m_vaddr=%#lx\n",
              tree_only ? "the 3-level frame list only (p2m_cr3 0)" :
              three_level ? "a 3-level frame list and the linear list" : "the linear list only",
              p2m_nr_pages(), P2M_VADDR);
}

/*
 * After a restore into a new domain (every mfn changed).  The tools
 * rewrote the list's leaves and zeroed pfn_to_mfn_frame_list_list, but
 * p2m_cr3, the top and mid pages of the frame list still hold the old
 * domain's mfns: all of it is written again, p2m_cr3 last, with the
 * generation odd meanwhile.
 */
void p2m_tools_resume(void)
{
    if (!si_va)
        return;
    p2m_generation_begin();
    plat_write64(ARCH(max_pfn), p2m_nr_pages());
    if (three_level) {
        for (unsigned long mid = 0; mid < 512; mid++)
            if (mid_pfns[mid])
                plat_write64(pfn_to_virt(top_pfn) + mid * 8, mmu_pfn_to_mfn(mid_pfns[mid]));
        for (unsigned long leaf = 0; leaf < published_leaves; leaf++)
            set_mid_entry(leaf);
        plat_write64(ARCH(pfn_to_mfn_frame_list_list), mmu_pfn_to_mfn(top_pfn));
    } else {
        plat_write64(ARCH(pfn_to_mfn_frame_list_list), ~0UL);
    }
    plat_write64(ARCH(p2m_vaddr), P2M_VADDR);
    barrier();
    /* BUG=stale-p2m-cr3: the old domain's L4 stays published; the next save walks garbage. */
    if (!BUG_STALE_P2M_CR3)
        plat_write64(ARCH(p2m_cr3), tree_only ? 0 : mmu_pfn_to_mfn(init_mm.kernel_l4) << PAGE_SHIFT);
    p2m_generation_end();
}

void p2m_generation_begin(void)
{
    if (si_va)
        plat_write64(ARCH(p2m_generation), plat_read64(ARCH(p2m_generation)) + 1);
}

void p2m_generation_end(void)
{
    p2m_generation_begin();
}

/*
 * After a leaf changed or the list grew: keep both descriptions current.
 * Growth publishes every leaf the list now covers (the ones in between map
 * the shared missing page), and past what the 3-level list can describe it
 * is withdrawn (~0), as the public header asks.
 */
void p2m_publish_leaf(unsigned long pfn)
{
    unsigned long leaves = DIV_ROUND_UP(p2m_nr_pages(), 512);

    if (!si_va)
        return;
    if (three_level && p2m_nr_pages() > FRAME_LIST_MAX_PFNS) {
        three_level = false;
        plat_write64(ARCH(pfn_to_mfn_frame_list_list), ~0UL);
    }
    if (three_level) {
        for (; published_leaves < leaves; published_leaves++)
            set_mid_entry(published_leaves);
        set_mid_entry(pfn / 512);
    }
    plat_write64(ARCH(max_pfn), p2m_nr_pages());
}
