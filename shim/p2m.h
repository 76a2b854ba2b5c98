/* SPDX-License-Identifier: MIT */
/* p2m.h - pfn <-> mfn translation: the guest's p2m list and Xen's M2P. */
#ifndef SHIM_P2M_H
#define SHIM_P2M_H

#include "xen.h"

#define INVALID_MFN (~0UL)
#define INVALID_PFN (~0UL)

/* Find the M2P with XENMEM_machphys_mapping; returns 0 or Xen's error. */
long m2p_init(void);
unsigned long mfn_to_pfn(unsigned long mfn);

/* The builder's list: nr_pages entries at va. */
void p2m_init_boot(unsigned long va, unsigned long nr_pages);
void p2m_relocate(unsigned long va);
unsigned long p2m_list_va(void);
unsigned long pfn_to_mfn(unsigned long pfn);
unsigned long p2m_nr_pages(void);

#endif
