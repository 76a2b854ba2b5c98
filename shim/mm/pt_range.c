/* SPDX-License-Identifier: MIT */
/* pt_range.c - the table-by-table builder of one contiguous range (pt_range.h). */
#include "mm/pt_range.h"

int pt_range_plan(struct pt_range *r)
{
    unsigned int levels = r->geo->levels;
    unsigned long top_span = 1UL << (r->geo->top_shift - PAGE_SHIFT);     /* pages per root slot */
    unsigned long per = 1;

    if (!mm_va_canonical(r->geo, r->va) || (r->va & ((top_span << PAGE_SHIFT) - 1)))
        return -1;
    for (unsigned int level = 1; level < PT_LEVELS_MAX; level++) {
        per *= PT_ENTRIES;
        r->count[level] = level < levels ? (r->pages + per - 1) / per : 0;
    }
    r->count[0] = 0;
    r->first_slot = PT_INDEX(r->va, r->geo->top_shift);
    if (r->pages > (PT_ENTRIES - r->first_slot) * top_span)
        return -1;
    return 0;
}

unsigned long pt_range_tables(const struct pt_range *r)
{
    unsigned long n = 0;

    for (unsigned int level = 1; level < r->geo->levels; level++)
        n += r->count[level];
    return n;
}
