/* SPDX-License-Identifier: MIT */
/*
 * balloon.c - the p2m exercised for real: pages go back to Xen
 * (XENMEM_decrease_reservation) and come back (XENMEM_populate_physmap),
 * the way a balloon driver moves them.
 *
 * Out: unmap each page from the direct map first (Xen will not free a
 * frame the guest still maps), mark its pfn INVALID, then release the
 * mfns.  In: populate pfns (a PV guest names pfns; Xen answers with the new
 * mfns and updates the M2P), record them with set_phys_to_machine, map
 * them again, write and read.  One of the pages comes back at a pfn far
 * past the end of the list, which makes the list grow a leaf (and an L1)
 * in what was a hole; it is reached through a fixmap slot, since the
 * direct map ends at nr_pages.
 */
#include "pv/p2m.h"
#include "pv/batch.h"
#include "pv/layout.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/page_alloc.h"
#include "lib/lib.h"

#define BALLOON_MAX 512

static long reservation(unsigned int cmd, xen_pfn_t *list, unsigned long n)
{
    struct xen_memory_reservation r = {
        .nr_extents = n,
        .extent_order = 0,
        .domid = DOMID_SELF,
    };

    set_xen_guest_handle(r.extent_start, list);
    return plat_memory_op(cmd, &r);
}

static void fill_and_check(unsigned long va, unsigned long tag, const char *where)
{
    for (unsigned int i = 0; i < PAGE_SIZE / 8; i += 64)
        plat_write64(va + i * 8, tag ^ i);
    for (unsigned int i = 0; i < PAGE_SIZE / 8; i += 64)
        if (plat_read64(va + i * 8) != (tag ^ i))
            mmu_failure("balloon: %s: page at %#lx does not hold what was written", where, va);
}

void p2m_balloon_test(unsigned long n)
{
    static xen_pfn_t list[BALLOON_MAX];
    static unsigned long pfns[BALLOON_MAX];
    unsigned long far_pfn = ALIGN_UP(p2m_nr_pages(), 1UL << 18) + (1UL << 18) + 5;
    long rc;

    if (n < 2 || n > BALLOON_MAX)
        mmu_error("balloon: %lu pages (2..%d)", n, BALLOON_MAX);

    /* Out. */
    for (unsigned long i = 0; i < n; i++) {
        pfns[i] = pages_alloc("balloon");
        list[i] = pfn_to_mfn(pfns[i]);
        dmap_clear(pfns[i]);
    }
    batch_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
    batch_flush();
    for (unsigned long i = 0; i < n; i++)
        set_phys_to_machine(pfns[i], INVALID_MFN);
    rc = reservation(XENMEM_decrease_reservation, list, n);
    if (rc != (long)n)
        mmu_error("balloon: XENMEM_decrease_reservation released %ld of %lu pages (first mfn %#lx)",
                  rc, n, (unsigned long)list[0]);
    for (unsigned long i = 0; i < n; i++) {
        if (pfn_to_mfn(pfns[i]) != INVALID_MFN)
            mmu_failure("balloon: pfn %#lx still has mfn %#lx after going back to Xen",
                        pfns[i], pfn_to_mfn(pfns[i]));
        if (dmap_get(pfns[i]))
            mmu_failure("balloon: pfn %#lx is still in the direct map: %#lx",
                        pfns[i], (unsigned long)dmap_get(pfns[i]));
    }

    /* In: the same pfns, except the last, which comes back far past the end. */
    for (unsigned long i = 0; i < n; i++)
        list[i] = i == n - 1 ? far_pfn : pfns[i];
    rc = reservation(XENMEM_populate_physmap, list, n);
    if (rc != (long)n)
        mmu_error("balloon: XENMEM_populate_physmap gave %ld of %lu pages (pfn %#lx)",
                  rc, n, pfns[rc > 0 ? rc : 0]);
    for (unsigned long i = 0; i < n; i++)
        set_phys_to_machine(i == n - 1 ? far_pfn : pfns[i], list[i]);
    batch_flush();
    for (unsigned long i = 0; i + 1 < n; i++) {
        if (mfn_to_pfn(list[i]) != pfns[i])
            mmu_failure("balloon: M2P maps new mfn %#lx to %#lx, want pfn %#lx",
                        (unsigned long)list[i], mfn_to_pfn(list[i]), pfns[i]);
        dmap_set(pfns[i], PTE_KERNEL_RW | pte_nx);
    }
    batch_flush();
    for (unsigned long i = 0; i + 1 < n; i++)
        fill_and_check(pfn_to_virt(pfns[i]), pfns[i] * 0x9e3779b97f4a7c15UL, "direct map");

    if (pfn_to_mfn(far_pfn) != list[n - 1] || p2m_nr_pages() != far_pfn + 1)
        mmu_failure("balloon: the list did not grow to pfn %#lx (reads %#lx, length %lu)",
                    far_pfn, pfn_to_mfn(far_pfn), p2m_nr_pages());
    set_fixmap(FIX_BALLOON, list[n - 1], PTE_KERNEL_RW | pte_nx);
    batch_flush();
    fill_and_check(fix_to_virt(FIX_BALLOON), far_pfn, "fixmap");

    /* Put things back: the far page out, the missing pfn in. */
    set_fixmap(FIX_BALLOON, 0, 0);
    batch_flush();
    list[0] = list[n - 1];
    set_phys_to_machine(far_pfn, INVALID_MFN);
    rc = reservation(XENMEM_decrease_reservation, list, 1);
    if (rc != 1)
        mmu_error("balloon: XENMEM_decrease_reservation (giving back pfn %#lx) returned %ld",
                  far_pfn, rc);
    list[0] = pfns[n - 1];
    rc = reservation(XENMEM_populate_physmap, list, 1);
    if (rc != 1)
        mmu_error("balloon: XENMEM_populate_physmap (pfn %#lx) returned %ld", pfns[n - 1], rc);
    set_phys_to_machine(pfns[n - 1], list[0]);
    dmap_set(pfns[n - 1], PTE_KERNEL_RW | pte_nx);
    batch_flush();
    fill_and_check(pfn_to_virt(pfns[n - 1]), 42, "direct map (repopulated)");

    for (unsigned long i = 0; i < n; i++)
        pages_free(pfns[i]);
    mmu_print("p2m: balloon out=%lu in=%lu ok (grew to pfn %#lx and back)\n", n, n, far_pfn);
}
