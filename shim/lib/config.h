/* SPDX-License-Identifier: MIT */
/*
 * config.h - build switches as constants, so that both branches of every
 * `if (BUG_...)` always compile (XTF's habit) and a switch cannot rot.
 *
 * The BUG_ switches put back, one at a time, the historical bugs this
 * project exists to catch; they are all off unless `make BUG=...`.
 */
#ifndef SHIM_CONFIG_H
#define SHIM_CONFIG_H

#ifdef CONFIG_BUG_FIXMAP_MISCOPY
#define BUG_FIXMAP_MISCOPY 1    /* copy Xen's boot L2 into level2_fixmap (pre-2014 Linux) */
#else
#define BUG_FIXMAP_MISCOPY 0
#endif

#ifdef CONFIG_BUG_PGTBUF_RW
#define BUG_PGTBUF_RW 1         /* leave the pgtbuf tail writable, keep allocating tables from it */
#else
#define BUG_PGTBUF_RW 0
#endif

#ifdef CONFIG_BUG_NO_USER_L4
#define BUG_NO_USER_L4 1        /* no user L4: the kernel L4 is loaded for user mode too */
#else
#define BUG_NO_USER_L4 0
#endif

#ifdef CONFIG_BUG_STALE_BATCH_INDEX
#define BUG_STALE_BATCH_INDEX 1 /* a new queued call keeps the array index it had before a flush */
#else
#define BUG_STALE_BATCH_INDEX 0
#endif

#ifdef CONFIG_BUG_P2M_CR3_FIRST
#define BUG_P2M_CR3_FIRST 1     /* publish p2m_cr3 before max_pfn and p2m_vaddr (tools may sample between) */
#else
#define BUG_P2M_CR3_FIRST 0
#endif

#ifdef CONFIG_BUG_DIRECT_L1_WRITE
#define BUG_DIRECT_L1_WRITE 1   /* set_fixmap stores into level1_fixmap directly (Xen's ptwr hides it) */
#else
#define BUG_DIRECT_L1_WRITE 0
#endif

#ifdef CONFIG_BUG_NX_ALWAYS
#define BUG_NX_ALWAYS 1         /* NX in every protection, whatever CPUID says */
#else
#define BUG_NX_ALWAYS 0
#endif

#ifdef CONFIG_BUG_KEXEC_OVERWRITE
#define BUG_KEXEC_OVERWRITE 1   /* the hand-off writes the next kernel's tables over the shim's live ones */
#else
#define BUG_KEXEC_OVERWRITE 0
#endif

#ifdef CONFIG_BUG_KEXEC_RW_ALIAS
#define BUG_KEXEC_RW_ALIAS 1    /* the hand-off leaves one new table frame writable in the direct map */
#else
#define BUG_KEXEC_RW_ALIAS 0
#endif

#ifdef CONFIG_BUG_KEXEC_USER_PIN
#define BUG_KEXEC_USER_PIN 1    /* the hand-off leaves the shim's user L4 pinned */
#else
#define BUG_KEXEC_USER_PIN 0
#endif

#ifdef CONFIG_BUG_P4D_UNFOLDED
#define BUG_P4D_UNFOLDED 1      /* the builder steps through a p4d with 4 levels (the folding mistake) */
#else
#define BUG_P4D_UNFOLDED 0
#endif

#ifdef CONFIG_BUG_FIXED_4_LEVEL
#define BUG_FIXED_4_LEVEL 1     /* the geometry is 4 levels whatever CR4.LA57 says */
#else
#define BUG_FIXED_4_LEVEL 0
#endif

#ifdef CONFIG_BUG_STALE_P2M_CR3
#define BUG_STALE_P2M_CR3 1     /* after a restore, p2m_cr3 keeps the old domain's L4 */
#else
#define BUG_STALE_P2M_CR3 0
#endif

#ifdef CONFIG_BUG_NO_PFN_SWAP
#define BUG_NO_PFN_SWAP 1       /* the store mfn in start_info is not turned into a pfn for the suspend */
#else
#define BUG_NO_PFN_SWAP 0
#endif

#ifdef CONFIG_BUG_SHINFO_MAPPED
#define BUG_SHINFO_MAPPED 1     /* shared_info stays mapped in the fixmap across the suspend */
#else
#define BUG_SHINFO_MAPPED 0
#endif

#ifdef CONFIG_BUG_NO_TLB_SHOOTDOWN
#define BUG_NO_TLB_SHOOTDOWN 1  /* a removed mapping is flushed from this vCPU's TLB only */
#else
#define BUG_NO_TLB_SHOOTDOWN 0
#endif

#ifdef CONFIG_BUG_FREE_LOADED_MM
#define BUG_FREE_LOADED_MM 1    /* mm_free does not wait for the other vCPUs to switch away */
#else
#define BUG_FREE_LOADED_MM 0
#endif

#endif
