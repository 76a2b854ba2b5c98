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

#endif
