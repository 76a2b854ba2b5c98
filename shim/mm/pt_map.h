/* SPDX-License-Identifier: MIT */
/*
 * pt_map.h - the one builder: map a 4 KiB page at va, making the tables on
 * the way, for 4 or 5 levels (mm_geo).  It writes entries through the
 * platform's accessors, so it runs where entries are plain memory
 * (native, PVH) and takes its tables from the platform's allocator.
 */
#ifndef SHIM_MM_PT_MAP_H
#define SHIM_MM_PT_MAP_H

#include "mm/geometry.h"

struct pt_mapper {
    const struct mm_geometry *geo;
    unsigned long root;                         /* physical address of the top-level table */
    unsigned long (*new_table)(void);           /* a zeroed page for a table: its physical address */
    pte_t *(*table)(unsigned long pa);          /* where the entries of the table at pa can be written */
    unsigned long tables;                       /* made by this mapper, root excluded */
};

/* 0, or -1 if va is not canonical at this geometry (nothing is changed then). */
int pt_map(struct pt_mapper *m, unsigned long va, unsigned long pa, pte_t flags);

#endif
