/* SPDX-License-Identifier: MIT */
/*
 * p2m.c - pfn <-> mfn.
 *
 * mfn -> pfn: Xen keeps the machine-to-phys table (M2P) and maps it
 * read-only into every PV guest.  Its address is asked of Xen
 * (XENMEM_machphys_mapping) rather than assumed at 0xffff800000000000.
 * pfn -> mfn: the guest's own list, which starts as the builder's
 * start_info.mfn_list.
 */
#include "p2m.h"
#include "hypercall.h"

static const unsigned long *m2p;
static unsigned long m2p_max_mfn;
static const unsigned long *p2m_list;
static unsigned long p2m_pages;

long m2p_init(void)
{
    struct xen_machphys_mapping map;
    long rc = HYPERVISOR_memory_op(XENMEM_machphys_mapping, &map);

    if (rc)
        return rc;
    m2p = (const unsigned long *)map.v_start;
    m2p_max_mfn = map.max_mfn;
    return 0;
}

unsigned long mfn_to_pfn(unsigned long mfn)
{
    if (!m2p || mfn > m2p_max_mfn)
        return INVALID_PFN;
    return m2p[mfn];
}

void p2m_init_boot(const start_info_t *si)
{
    p2m_list = (const unsigned long *)si->mfn_list;
    p2m_pages = si->nr_pages;
}

unsigned long pfn_to_mfn(unsigned long pfn)
{
    return pfn < p2m_pages ? p2m_list[pfn] : INVALID_MFN;
}

unsigned long p2m_nr_pages(void)
{
    return p2m_pages;
}
