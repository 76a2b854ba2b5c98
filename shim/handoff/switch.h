/* SPDX-License-Identifier: MIT */
/*
 * switch.h - the hand-off's steps under Xen, after the next kernel's
 * memory is written (load.h): its tables made read-only and pinned, the
 * frames renumbered, the shim's domain state undone, and the switch.
 */
#ifndef SHIM_HANDOFF_SWITCH_H
#define SHIM_HANDOFF_SWITCH_H

#include <stdbool.h>
#include "plan.h"
#include "lib/xen.h"

struct switch_in {
    const struct plan_out *plan;
    const struct plan_move *moves;
    unsigned long (*old_pfn)(unsigned long next_pfn);   /* the shim's pfn of that frame */
    unsigned long tramp_l1;         /* the shim's L1 for the trampoline (pfn), still writable */
    uint64_t entry;                 /* the next kernel's */
    shared_info_t *shared_info;     /* the shim's mapping of it */
    uint64_t tsc_start;             /* when the hand-off began (its guest time is reported) */
};

/* Where the trampoline page is, in both trees: the region's last page (padding). */
static inline uint64_t handoff_trampoline_va(const struct plan_out *p)
{
    return p->v_end - 4096;
}

/*
 * Every page-table frame of the plan read-only in the direct map (its only
 * mapping in the shim's tables), then the next kernel's L4 pinned: Xen
 * validates the whole new tree here, before anything is final, so a
 * refusal is a clean ERROR.  Returns the L4's mfn.
 */
unsigned long handoff_protect_and_pin(const struct switch_in *in);

/* The last steps; returns only if Xen refuses NEW_BASEPTR (then the shim reports it). */
long handoff_switch(const struct switch_in *in, unsigned long l4_mfn);

#endif
