/* SPDX-License-Identifier: MIT */
/* mmu.h - the PV MMU bring-up and what it offers afterwards. */
#ifndef SHIM_MMU_H
#define SHIM_MMU_H

#include <stdbool.h>
#include <stdint.h>
#include "pv/layout.h"
#include "mm/pt_walk.h"
#include "pv/vcpu.h"

/* What the caller knows before the bring-up (from the image and start_info). */
struct mmu_boot {
    unsigned long virt_base;      /* pfn 0 is mapped here by Xen */
    unsigned long image_end;      /* end of the image, page aligned */
    unsigned long text_end;       /* end of text and read-only data, page aligned */
    unsigned long xen_stack_top;  /* everything below is in the initial mapping */
    unsigned long pt_base;        /* start_info.pt_base (checked against CR3) */
    unsigned long nr_pages;
    unsigned long ramdisk_pfn;    /* pfns to keep out of every allocator ... */
    unsigned long ramdisk_pages;  /* ... (0 if none, or mapped in the initial mapping) */
    unsigned long p2m_va;         /* the builder's list: start_info.mfn_list */
    unsigned long p2m_first_pfn;  /* with INIT_P2M: the list's own frames and tables */
    unsigned long p2m_frames;     /* (start_info.first_p2m_pfn, nr_p2m_frames), else 0 */
    unsigned long window_va;      /* window_pages scratch pages inside the image */
    unsigned int window_pages;
};

/* The tables the bring-up built (pfns). */
struct mmu_tables {
    unsigned long kernel_l4, user_l4;
    unsigned long level3_kernel, level2_kernel, level2_fixmap, level1_fixmap;
    unsigned long user_l3;
    unsigned long ident_l3, nr_ident_l3;    /* consecutive pfns */
    unsigned long ident_l2, nr_ident_l2;
    unsigned long dmap_l1, nr_dmap_l1;      /* L1s for pfns [graft_pages, nr_pages) */
    unsigned long graft_pages;              /* pfns the grafted boot L1s map */
};

extern struct mmu_tables mmu_tables;

/* Per-phase counts: "mmu: <phase> hypercalls=<n> entries=<n> pt_pages=<n>". */
void mmu_phase_begin(const char *name);
void mmu_phase_end(void);
/* "mmu: time <phase> us=<n> tsc=<n>" for every phase so far. */
void mmu_report_times(uint32_t tsc_to_system_mul, int8_t tsc_shift);

/* discover, plan, build, switch, reclaim: afterwards the direct map is live. */
void mmu_bringup(const struct mmu_boot *b);
/*
 * cleanup, pgtbuf: called once nothing is read through Xen's initial
 * mapping past the image any more (the caller moves its pointers to the
 * direct map with boot_va_to_direct() first).
 */
void mmu_drop_initial_mapping(void);
/*
 * With INIT_P2M: once p2m_build() has copied the builder's list, unhook
 * its mapping and free its frames (list pages and the builder's tables).
 * Returns the number of frames freed.
 */
unsigned long mmu_drop_boot_p2m(void);

/* After the bring-up: every RAM pfn at PAGE_OFFSET. */
static inline unsigned long pfn_to_virt(unsigned long pfn)
{
    return PAGE_OFFSET + (pfn << PAGE_SHIFT);
}
/* Pages the direct map covers (start_info.nr_pages). */
unsigned long mmu_dmap_pages(void);
/* An address in Xen's initial mapping, seen through the direct map. */
unsigned long boot_va_to_direct(unsigned long va);

/*
 * _PAGE_NX where the CPU has NX, else 0 (Linux's __supported_pte_mask):
 * without NX Xen refuses the bit as reserved, so every protection that
 * asks for NX asks for pte_nx.  Set at the start of mmu_bringup().
 */
extern pte_t pte_nx;

/*
 * Table entries by mfn, through whatever mapping is live: where the table
 * is (one M2P lookup), and an entry there.  mmu_geo walks the live tables
 * with them (pt_walk.h).
 */
unsigned long mmu_table_va(unsigned long mfn);
pte_t mmu_read_at(unsigned long table_va, unsigned int slot);
pte_t mmu_read_entry(unsigned long mfn, unsigned int slot);
extern const struct pt_geometry mmu_geo;
unsigned long mmu_pfn_to_mfn(unsigned long pfn);

/* An address space: every kernel L4 has a user L4 beside it. */
struct mm {
    unsigned long kernel_l4, user_l4;   /* pfns; no user L4 only with BUG=no-user-l4 */
    bool pinned;
};
extern struct mm init_mm;

/* Linux's set_pgd: kernel L4 slot write, mirrored into the user L4. */
void set_pgd(struct mm *mm, unsigned int slot, pte_t val);
void mm_alloc(struct mm *mm);
void mm_pin(struct mm *mm);
/* Load both L4s on this vCPU. */
void mm_switch(const struct mm *mm);
/* Unpin and free both L4s once no vCPU has them loaded; returns the yields that took. */
unsigned long mm_free(struct mm *mm);
/* Every yield mm_free has made so far, on any vCPU (a vCPU that holds an mm can watch it). */
extern unsigned long mm_free_yields;

/*
 * Per-vCPU L4s (pfns; user_l4 0: none).  `requested` is what the vCPU has
 * asked Xen for, `loaded` what Xen has loaded for it: written once the
 * batch that loads it has been issued.  Other vCPUs read `loaded`.
 */
struct l4_pair {
    unsigned long kernel_l4, user_l4;
};
struct vcpu_mm {
    struct l4_pair requested, loaded;
};
extern struct vcpu_mm vcpu_mm[MAX_VCPUS];
/* The vCPUs that run (bit 0 from the start; smp.c adds the others). */
extern vcpumask_t vcpus_running;
/* vcpu starts on mm (its first L4s, given to Xen in VCPUOP_initialise). */
void mm_set_loaded(unsigned int vcpu, const struct mm *mm);
/* The vCPUs that have mm loaded: whose TLBs may hold its user entries. */
vcpumask_t mm_loaded_mask(const struct mm *mm);
/* Queue the flush of va (or of everything) from the TLBs of the vCPUs in mask. */
void tlb_flush_va(unsigned long va, vcpumask_t mask);
void tlb_flush_all(vcpumask_t mask);
/* Issue the caller's queued change to a user mapping of mm, then flush va wherever mm may be cached. */
vcpumask_t tlb_flush_mm_va(const struct mm *mm, unsigned long va);
/* Queue a change of pfn's direct-map PTE (flags such as PTE_KERNEL_RW | _PAGE_NX). */
void dmap_set(unsigned long pfn, pte_t flags);
void dmap_clear(unsigned long pfn);         /* e.g. before the page goes back to Xen */
pte_t dmap_get(unsigned long pfn);
/* A fixmap slot (kernel-only, NX). */
void set_fixmap(unsigned int idx, unsigned long mfn, pte_t flags);
/* A page that is to become a page table after the bring-up: cleared and read-only. */
unsigned long pt_alloc_late(const char *what);
/* The same in two steps, to fill the page before it becomes read-only. */
unsigned long pt_page_alloc(const char *what);
void pt_page_protect(unsigned long pfn);
void pt_free_late(const unsigned long *pfns, unsigned long n);

/* mmu_check.c: the invariants on the live tables, and module space exercised. */
void mmu_self_check(const char *when);
void mmu_module_test(void);

#endif
