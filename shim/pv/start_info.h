/* SPDX-License-Identifier: MIT */
/*
 * start_info.h - checking what Xen handed over before relying on it.
 *
 * The checker is pure (no hypercalls, no global state) so that the host
 * tests can feed it crafted start_info pages.
 */
#ifndef SHIM_START_INFO_H
#define SHIM_START_INFO_H

#include "lib/xen.h"
#include "pv/layout.h"

/* What the shim knows about the initial mapping independently of start_info. */
struct boot_bounds {
    unsigned long virt_base;    /* VIRT_BASE: pfn 0 is mapped here */
    unsigned long image_end;    /* end of the shim's image (_end) */
    unsigned long mapped_end;   /* top of Xen's boot stack: all below is mapped */
    unsigned long si_va;        /* where start_info itself lies */
    unsigned long init_p2m_va;  /* XEN_ELFNOTE_INIT_P2M address, 0 if not declared */
    /*
     * Reads the M2P entry of an mfn from outside: false where the read
     * faults (Xen maps the M2P only as far as the host's memory goes).
     * NULL when there is no M2P to read.
     */
    bool (*m2p_read)(unsigned long mfn, uint64_t *entry);
};

/* The M2P entry of a page Xen shares with a guest (share_xen_page_with_guest). */
#define M2P_XEN_PAGE (~0UL)

/*
 * Largest guest the shim can take: what its direct map holds (layout.h),
 * which is less than the M2P can describe (MACH2PHYS_NR_ENTRIES frames).
 */
#define SI_MAX_PAGES DMAP_MAX_PAGES
_Static_assert(DMAP_MAX_PAGES < MACH2PHYS_NR_ENTRIES, "the direct map is the tighter bound");

/*
 * Returns true if start_info is usable.  Otherwise writes into why a
 * message that names the field and the reason, e.g.
 * "start_info.pt_base 0x... lies outside the initial mapping [a, b)".
 */
bool start_info_check(const start_info_t *si, const struct boot_bounds *b,
                      char *why, size_t len);

static inline bool si_is_dom0(const start_info_t *si)
{
    return si->flags & SIF_INITDOMAIN;
}

static inline bool si_ramdisk_is_pfn(const start_info_t *si)
{
    return si->flags & SIF_MOD_START_PFN;
}

#endif
