/* SPDX-License-Identifier: MIT */
/*
 * p2m.c - pfn <-> mfn.
 *
 * mfn -> pfn: Xen keeps the machine-to-phys table (M2P) and maps it
 * read-only into every PV guest.  Its address is asked of Xen
 * (XENMEM_machphys_mapping) rather than assumed at 0xffff800000000000,
 * and lookups past max_mfn are refused rather than read.
 * pfn -> mfn: the guest's own list, which starts as the builder's
 * start_info.mfn_list and is read through whatever maps it (first Xen's
 * initial mapping, then the direct map).
 */
#include "p2m.h"
#include "mmu_plat.h"

static unsigned long m2p_va, m2p_max_mfn;
static unsigned long p2m_va, p2m_pages;

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

void p2m_init_boot(unsigned long va, unsigned long nr_pages)
{
    p2m_va = va;
    p2m_pages = nr_pages;
}

void p2m_relocate(unsigned long va)
{
    p2m_va = va;
}

unsigned long p2m_list_va(void)
{
    return p2m_va;
}

unsigned long pfn_to_mfn(unsigned long pfn)
{
    return pfn < p2m_pages ? plat_read64(p2m_va + pfn * sizeof(unsigned long)) : INVALID_MFN;
}

unsigned long p2m_nr_pages(void)
{
    return p2m_pages;
}
