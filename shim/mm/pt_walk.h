/* SPDX-License-Identifier: MIT */
/*
 * pt_walk.h - page-table walkers with the number of levels as a run-time
 * value.  A PV guest always runs 4-level paging, but like Linux (where
 * 5-level became a boot-time choice) the walkers fold the p4d level at run
 * time, so the same code walks 4- and 5-level trees (the host tests show
 * both).  Entries are read through callbacks: the direct map (through
 * plat_read64) in the guest, a simulated memory on the host.
 */
#ifndef SHIM_PT_WALK_H
#define SHIM_PT_WALK_H

#include <stdbool.h>
#include "mm/pgtable.h"

struct pt_geometry {
    unsigned int levels;        /* 4, or 5 with a p4d level */
    /*
     * Where the entries of the table at mfn can be read (in the guest:
     * its address, found through the M2P), then entry `slot` there.  A
     * walk resolves each table once, not once per entry.
     */
    unsigned long (*table_at)(unsigned long mfn);
    pte_t (*read_at)(unsigned long at, unsigned int slot);
};

/* One entry of the table at mfn. */
static inline pte_t pt_read(const struct pt_geometry *g, unsigned long mfn, unsigned int slot)
{
    return g->read_at(g->table_at(mfn), slot);
}

static inline unsigned int pt_level_shift(unsigned int level)
{
    return PAGE_SHIFT + 9 * (level - 1);
}

/* The canonical address of slot `slot` at `level` below va_base. */
unsigned long pt_slot_va(const struct pt_geometry *g, unsigned long va_base,
                         unsigned int level, unsigned int slot);

/*
 * Visit every entry reachable from root (present or not), top-down.  The
 * visitor returns false to skip descending into a present entry (e.g.
 * Xen's L4 slots).
 */
typedef bool (*pt_visit_t)(void *ctx, unsigned int level, unsigned long table_mfn,
                           unsigned int slot, pte_t e, unsigned long va);
void pt_walk(const struct pt_geometry *g, unsigned long root_mfn, pt_visit_t visit, void *ctx);

/*
 * The mfn of the table at `level` (1: the L1) that translates va, or
 * PT_NO_TABLE if an entry above it is not present (or maps a superpage).
 */
#define PT_NO_TABLE (~0UL)
unsigned long pt_table_mfn(const struct pt_geometry *g, unsigned long root_mfn, unsigned long va,
                           unsigned int level);

/*
 * Translate va: returns the leaf (L1) entry, or 0 if some level is not
 * present; *level_out (if not NULL) gets the level of the table whose
 * entry was not present (1 when the walk reached the leaf).
 * Written with pgd/p4d/pud/pmd/pte steps like Linux, the p4d step folded
 * away when levels == 4.
 */
pte_t pt_lookup(const struct pt_geometry *g, unsigned long root_mfn, unsigned long va,
                unsigned int *level_out);

#endif
