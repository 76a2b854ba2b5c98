/* SPDX-License-Identifier: MIT */
/*
 * pt_map.h - the one builder: map a 4 KiB page at va, making the tables on
 * the way, for 4 or 5 levels (mm_geo).  It writes entries through the
 * platform's accessors, so it runs wherever the tables are plain memory
 * when it fills them: all of them on bare metal and under PVH; under Xen
 * PV, a subtree that is not hooked yet (the PV shim makes it read-only
 * and hooks it afterwards, as mm_user.c does), and it takes its tables
 * from the platform's allocator.  Addresses in entries are the
 * platform's: physical, or machine under Xen PV.
 */
#ifndef SHIM_MM_PT_MAP_H
#define SHIM_MM_PT_MAP_H

#include "mm/geometry.h"

struct pt_mapper {
    const struct mm_geometry *geo;
    unsigned long root;                         /* physical address of the root table */
    unsigned int root_level;                    /* its level; 0: the top (geo->levels), a whole tree */
    unsigned long (*new_table)(void);           /* a zeroed page for a table: its physical address */
    pte_t *(*table)(unsigned long pa);          /* where the entries of the table at pa can be written */
    unsigned long tables;                       /* made by this mapper, root excluded */
};

/* 0, or -1 if va is not canonical at this geometry (nothing is changed then). */
int pt_map(struct pt_mapper *m, unsigned long va, unsigned long pa, pte_t flags);

#endif
