/* SPDX-License-Identifier: MIT */
/*
 * pt_range.h - the builder for one large contiguous mapping (a direct
 * map), table by table rather than page by page (pt_map.h), for 4 or 5
 * levels (mm_geo).  Its tables lie level by level, which is what a
 * platform that must fill a table before it may hook it wants: Xen PV
 * fills its page-table buffer in order through a window, then protects
 * and pins it in a few batches (pv/mmu_pv.c).
 *
 *   top level (the root)   slots first_slot .. first_slot + count[top-1] - 1
 *        |                 point at the tables of level top-1
 *   level top-1            count[top-1] tables   (the p4d level: only with 5)
 *   ...                    table i of level L maps the i-th 512^L pages
 *   level 1                count[1] leaf tables: entry s of table i is leaf(i * 512 + s)
 *
 *   count[L] = ceil(pages / 512^L)
 *
 * The range starts on a boundary of a top-level slot (the direct map does,
 * at slot 273), so none of its tables is shared with another mapping and
 * every entry follows from the range alone.  Where each level's tables
 * lie is the platform's choice: link(L, i) is the entry that points at
 * table i of level L (Xen PV links its boot L1s there, the graft).  With
 * 4 levels the p4d level is simply not counted: the fold is the loop
 * bound, as in pt_map.c and pt_walk.c.
 */
#ifndef SHIM_MM_PT_RANGE_H
#define SHIM_MM_PT_RANGE_H

#include "mm/geometry.h"

#define PT_LEVELS_MAX 5

struct pt_range {
    const struct mm_geometry *geo;
    unsigned long va;                           /* the start: a top-level slot's first address */
    unsigned long pages;                        /* 4 KiB pages from va */
    pte_t (*leaf)(unsigned long page);          /* the entry for page i of the range (0: none) */
    pte_t (*link)(unsigned int level, unsigned long i); /* the entry naming table i of level */
    /* Set by pt_range_plan(): */
    unsigned int first_slot;                    /* in the root */
    unsigned long count[PT_LEVELS_MAX];         /* tables per level; [0] unused, [levels] none */
};

/*
 * Counts the tables.  -1 if the range does not start on a top-level slot
 * boundary, is not canonical, or runs past the root's last slot.
 */
int pt_range_plan(struct pt_range *r);

/* The tables below the root, all levels. */
unsigned long pt_range_tables(const struct pt_range *r);

/* Entry slot of table i of level (1 .. levels - 1): a leaf, a link, or 0 past the range. */
static inline pte_t pt_range_entry(const struct pt_range *r, unsigned int level, unsigned long i,
                                   unsigned int slot)
{
    unsigned long child = i * PT_ENTRIES + slot;

    if (level == 1)
        return child < r->pages ? r->leaf(child) : 0;
    return child < r->count[level - 1] ? r->link(level - 1, child) : 0;
}

/* Entry k of the root's slots for the range (k < count[levels - 1]): a link. */
static inline pte_t pt_range_root_entry(const struct pt_range *r, unsigned long k)
{
    return r->link(r->geo->levels - 1, k);
}

#endif
