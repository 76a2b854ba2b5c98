/* SPDX-License-Identifier: MIT */
/* geometry.c - the run-time paging geometry (geometry.h). */
#include "mm/geometry.h"
#include "lib/config.h"

/*
 * The 4-level values until mm_geometry_init() says otherwise (Linux's
 * defaults too): the Xen PV shim never calls it.
 */
struct mm_geometry mm_geo = {
    .levels = 4, .top_shift = 39, .ptrs_per_p4d = 1, .va_bits = 47,
    .page_offset = 0xffff888000000000UL, .user_va_limit = 1UL << 47,
};

void mm_geometry_init(unsigned int levels)
{
    /* BUG=fixed-4-level: the code knows only 4 levels, whatever the CPU walks. */
    if (BUG_FIXED_4_LEVEL)
        levels = 4;
    mm_geo.levels = levels;
    mm_geo.top_shift = PAGE_SHIFT + 9 * (levels - 1);
    mm_geo.ptrs_per_p4d = levels == 5 ? PT_ENTRIES : 1;
    mm_geo.va_bits = mm_geo.top_shift + 8;
    mm_geo.user_va_limit = 1UL << mm_geo.va_bits;
    /* Slot 273 of the top level, sign-extended: 0xffff888000000000 or 0xff11000000000000. */
    mm_geo.page_offset = (~0UL << mm_geo.va_bits) | ((unsigned long)TOP_SLOT_DIRECT_MAP << mm_geo.top_shift);
}
