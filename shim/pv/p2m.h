/* SPDX-License-Identifier: MIT */
/* p2m.h - pfn <-> mfn translation: the guest's p2m list and Xen's M2P. */
#ifndef SHIM_P2M_H
#define SHIM_P2M_H

#include "lib/xen.h"

#define INVALID_MFN (~0UL)
#define INVALID_PFN (~0UL)
/* A p2m entry meaning "this pfn is its own mfn" (Linux's identity frames). */
#define P2M_IDENTITY (1UL << 62)

/* Find the M2P with XENMEM_machphys_mapping; returns 0 or Xen's error. */
long m2p_init(void);
unsigned long mfn_to_pfn(unsigned long mfn);
/*
 * Says where the M2P is and whether its last entry can be read: Xen maps it
 * only as far as the host's memory goes (a domU's last entry faults), so
 * the line also shows the fault being caught (mfn_to_pfn_probe).
 */
void m2p_report(void);
/*
 * For an mfn that may lie past the host's memory: m2p_probe says whether
 * its M2P entry could be read; mfn_to_pfn_probe gives INVALID_PFN there.
 */
bool m2p_probe(unsigned long mfn, uint64_t *entry);
unsigned long mfn_to_pfn_probe(unsigned long mfn);
/* Whether the guest asked Xen for m2p_strict (no M2P in user L4s). */
extern bool m2p_strict;

/*
 * The builder's list at va, for start_info's nr_pages: returns how many
 * entries it has.  That is nr_pages, or more with vNUMA memory ranges
 * (p2m_init_boot in p2m.c); every pfn the shim maps, allocates or hands to
 * the tools lies below it.
 */
unsigned long p2m_init_boot(unsigned long va, unsigned long nr_pages);
/*
 * Caps on the vNUMA topology the shim reads (XENMEM_get_vnumainfo): Xen
 * reports every vCPU the domain may have (max_vcpus), so the vCPU map is
 * sized for many.
 */
#define VNUMA_MAX_NODES     32
#define VNUMA_MAX_VCPUS     1024
#define VNUMA_MAX_RANGES    64
void p2m_relocate(unsigned long va);
unsigned long p2m_list_va(void);
unsigned long pfn_to_mfn(unsigned long pfn);
unsigned long p2m_nr_pages(void);
/*
 * Whether pfn is backed by a machine frame of ours: not a hole the builder
 * left INVALID (vNUMA, e820_host: not every pfn below nr_pages is RAM),
 * not an identity entry.
 */
bool pfn_has_ram(unsigned long pfn);
/* Its mfn if it has RAM, else INVALID_MFN: one read of the list for both questions. */
unsigned long pfn_ram_mfn(unsigned long pfn);

/* What the list costs, in pages (p2m_build and growth). */
struct p2m_stats {
    unsigned long leaf_pages;       /* leaves of their own */
    unsigned long table_pages;      /* p2m L3, L2s, L1s of their own */
    unsigned long shared_pages;     /* the shared missing/identity leaves and tables */
    unsigned long shared_missing;   /* leaf slots that map the shared missing page */
};
extern struct p2m_stats p2m_stats;

/*
 * After the MMU bring-up: the linear list at P2M_VADDR for pfns
 * [0, max_pfn), from src (NULL: the current list), checked against the M2P.
 */
void p2m_build(unsigned long max_pfn, unsigned long (*src)(unsigned long pfn));
void set_phys_to_machine(unsigned long pfn, unsigned long mfn);
/* Free the pages of the builder's list; returns how many. */
unsigned long p2m_release_boot_list(unsigned long first_pfn, unsigned long nr_entries);

/* p2m_tools.c: what save/restore and dump tools read in shared_info. */
void p2m_tools_init(unsigned long shared_info_va, uint32_t si_flags, bool frame_list_only);
void p2m_tools_resume(void);
/* Withdraw what p2m_tools_init() published (p2m_cr3 first): before a hand-off. */
void p2m_tools_withdraw(void);
void p2m_tools_reset(void);         /* nothing published until p2m_tools_init() */
void p2m_generation_begin(void);
void p2m_generation_end(void);
void p2m_publish_leaf(unsigned long pfn);
unsigned long p2m_leaf_mfn(unsigned long leaf_index);

/* balloon.c: give pages back to Xen and take them again. */
void p2m_balloon_test(unsigned long n);

#endif
