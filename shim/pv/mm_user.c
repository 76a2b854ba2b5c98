/* SPDX-License-Identifier: MIT */
/*
 * mm_user.c - what a new process gets: mm_alloc() gives a kernel L4 that
 * shares the kernel slots and a user L4 beside it; one user page is mapped
 * through a user L3 that set_pgd() puts into both.  The tables are filled
 * while they are still ordinary memory (plain writes), made read-only, and
 * then both L4s are pinned in one batch and loaded in another.  Teardown
 * goes the other way: switch back to init_mm first, then unpin both (Xen
 * devalidates the whole tree), then the frames are writable again and
 * freed.  usermode.c runs code in ring 3 between the two.
 */
#include "pv/mm_user.h"
#include "mm/pt_map.h"
#include "pv/p2m.h"
#include "pv/batch.h"
#include "pv/mmu_plat.h"
#include "pv/page_alloc.h"
#include "lib/lib.h"

static pte_t user_table(unsigned long pfn)
{
    return ((pte_t)mmu_pfn_to_mfn(pfn) << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER |
           _PAGE_ACCESSED | _PAGE_DIRTY;
}

/*
 * The user L3's subtree comes from the shared builder (mm/pt_map.c) while
 * its tables are still ordinary memory: the builder's writes are plain
 * stores through the direct map, and its entries hold machine addresses.
 */
static struct user_space *building[MAX_VCPUS];     /* per vCPU: several build at once */

static unsigned long user_new_table(void)
{
    unsigned long pfn = pt_page_alloc("user table");

    struct user_space *us = building[plat_vcpu_id()];

    if (!us->l2)
        us->l2 = pfn;
    else if (!us->l1)
        us->l1 = pfn;
    else
        mmu_error("user space: the builder asked for a fourth table below the user L3");
    return (unsigned long)mmu_pfn_to_mfn(pfn) << PAGE_SHIFT;
}

static pte_t *user_table_view(unsigned long ma)
{
    return plat_view(pfn_to_virt(mfn_to_pfn(ma >> PAGE_SHIFT)), PAGE_SIZE, true);
}

void user_space_create(struct user_space *us, unsigned long va, const void *code, unsigned long len)
{
    unsigned long kpage;
    struct pt_mapper m = { .geo = &mm_geo, .root_level = 3, .new_table = user_new_table,
                           .table = user_table_view };

    mm_alloc(&us->mm);
    us->va = va;
    us->l3 = pt_page_alloc("user L3");
    us->l2 = us->l1 = 0;
    us->page = pages_alloc("user page");
    kpage = pfn_to_virt(us->page);

    /* The program, written through the kernel's direct map. */
    plat_zero_page(kpage);
    for (unsigned long i = 0; i < len; i += 8) {
        uint64_t w = 0;

        memcpy(&w, (const char *)code + i, len - i < 8 ? len - i : 8);
        plat_write64(kpage + i, w);
    }

    /* Filled while still ordinary memory: plain writes, no hypercalls. */
    m.root = (unsigned long)mmu_pfn_to_mfn(us->l3) << PAGE_SHIFT;
    building[plat_vcpu_id()] = us;
    if (pt_map(&m, va, (unsigned long)mmu_pfn_to_mfn(us->page) << PAGE_SHIFT,
               _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY) || !us->l1)
        mmu_error("user space: %#lx could not be mapped below one user L3", va);
    set_pgd(&us->mm, PT_INDEX(va, L4_SHIFT), user_table(us->l3));     /* unpinned: both L4s */

    /* Read-only and pinned (both L4s) in one batch, then both CR3s loaded in another. */
    pt_page_protect(us->l1);
    pt_page_protect(us->l2);
    pt_page_protect(us->l3);
    mm_pin(&us->mm);
    mm_switch(&us->mm);
}

void user_space_destroy(struct user_space *us)
{
    mm_switch(&init_mm);
    mm_free(&us->mm);
    pt_free_late((const unsigned long[]){ us->l3, us->l2, us->l1 }, 3);
    pages_free(us->page);
}

void set_pgd_selftest(void)
{
    unsigned long k = mmu_pfn_to_mfn(init_mm.kernel_l4);
    unsigned long u = init_mm.user_l4 ? mmu_pfn_to_mfn(init_mm.user_l4) : 0;
    pte_t saved = mmu_read_entry(k, 0);

    set_pgd(&init_mm, 0, 0);
    batch_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
    batch_flush();
    if (mmu_read_entry(k, 0) || (u && mmu_read_entry(u, 0)))
        mmu_failure("set_pgd(init_mm, 0, 0) left L4[0] set");
    set_pgd(&init_mm, 0, saved & ~(pte_t)_PAGE_XEN_GUEST_KERNEL);
    batch_flush();
    if (u && mmu_read_entry(u, 0) != mmu_read_entry(k, 0))
        mmu_failure("set_pgd(init_mm, 0, ...) did not mirror slot 0 into the user L4");
}
