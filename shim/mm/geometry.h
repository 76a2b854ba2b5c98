/* SPDX-License-Identifier: MIT */
/*
 * geometry.h - the paging geometry as run-time values, chosen once at boot
 * (Linux's pgtable_l5_enabled(), pgdir_shift, ptrs_per_p4d and
 * page_offset_base, from the 2017 boot-time 4/5-level switch).
 *
 *                      4 levels                 5 levels (CR4.LA57)
 *   top level          PML4, bits 39-47         PML5, bits 48-56
 *   p4d                folded into the PML4     a table of its own
 *   canonical bits     47 (sign-extended)       56
 *   user VA limit      0x0000800000000000       0x0100000000000000
 *   direct map         0xffff888000000000       0xff11000000000000
 *                      both at top-level slot 273
 *   kernel map         0xffffffff80000000: top slot 511 (-> p4d 511) -> pud 510
 *
 * One builder (pt_map.c) and one walker (pt_walk.c) serve both: they loop
 * from `levels` down to 1, so with 4 levels the p4d step simply is not
 * there.  Nothing is #ifdef'd on the level count.
 */
#ifndef SHIM_MM_GEOMETRY_H
#define SHIM_MM_GEOMETRY_H

#include <stdbool.h>
#include "mm/pgtable.h"

#define TOP_SLOT_DIRECT_MAP  273

struct mm_geometry {
    unsigned int levels;            /* 4 or 5 */
    unsigned int top_shift;         /* PGDIR_SHIFT: 39 or 48 */
    unsigned int ptrs_per_p4d;      /* 1 (folded) or 512 */
    unsigned int va_bits;           /* canonical bits below the sign: 47 or 56 */
    unsigned long page_offset;      /* the direct map's base */
    unsigned long user_va_limit;
};

/* The 4-level values until mm_geometry_init() runs (the Xen PV shim never calls it). */
extern struct mm_geometry mm_geo;

/* Set everything from the level count; once, before any table is built. */
void mm_geometry_init(unsigned int levels);

/* Whether va is canonical at this geometry (bits 63..va_bits all equal). */
static inline bool mm_va_canonical(const struct mm_geometry *g, unsigned long va)
{
    long top = (long)va >> g->va_bits;

    return top == 0 || top == -1;
}

#endif
