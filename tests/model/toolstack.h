/* SPDX-License-Identifier: MIT */
/*
 * toolstack.h - libxenguest's save and restore of a 64-bit PV domain, on
 * the model (toolstack.c): what happens to the guest between its
 * SCHEDOP_shutdown(SHUTDOWN_suspend) and the return from it.
 */
#ifndef TESTS_MODEL_TOOLSTACK_H
#define TESTS_MODEL_TOOLSTACK_H

#include <stdbool.h>

#include "model.h"

enum ts_op {
    TS_SAVE_RESTORE,    /* xl save, then xl restore: a new domain, rc 0 */
    TS_CHECKPOINT,      /* xl save -c: the same domain, rc 1 */
};

/* What the last save and restore found and did, for the tests. */
struct ts_counts {
    unsigned long max_pfn;          /* shared_info.arch.max_pfn: the pfns the save walks */
    bool via_list;                  /* p2m_cr3 was set: the linear list (else the frame list) */
    unsigned long ram;              /* pfns with a frame */
    unsigned long tables;           /* pages typed L1-L4, normalised */
    unsigned long pinned;           /* of them, pinned: pinned again by the restore */
    unsigned long dropped;          /* typed pages with an entry outside the domain: sent as XTAB */
    unsigned long leaves;           /* p2m leaves the restore rewrote */
    unsigned long moved;            /* frames that got a new mfn */
};

#define TS_MAX_OPS 8

struct toolstack {
    enum ts_op op[TS_MAX_OPS];      /* one per suspend, in order */
    unsigned int nr_ops, done;
    struct ts_counts counts[TS_MAX_OPS];    /* of each operation done */
};

extern struct toolstack TS;

/*
 * What the tools do before they ask the guest to suspend, while it runs:
 * find the p2m through shared_info and map it (lifecycle.c's request
 * arrives after this).  model_toolstack_suspend() does it itself if no
 * one did.
 */
void model_toolstack_setup(void);

/*
 * The suspend hypercall (plat_suspend on the model): the next operation of
 * TS.op on the guest's memory, tables, p2m, start_info and vCPU state.
 * Returns what the guest sees in rax; a refusal ends the run with
 * OUT_TOOLSTACK and the toolstack's words.
 */
long model_toolstack_suspend(unsigned long start_info_mfn);

#endif
