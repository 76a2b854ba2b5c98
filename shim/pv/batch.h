/* SPDX-License-Identifier: MIT */
/*
 * batch.h - queued page-table updates, issued as few hypercalls as possible.
 *
 * Every queued operation (an mmu_update request, an mmuext op, an
 * update_va_mapping) goes into one ordered queue.  A flush turns the queue
 * into a single hypercall: the bare call when it holds one kind of
 * operation, a multicall otherwise.  Program order is kept, so "write the
 * entries, then pin" can sit in one flush.  A failure ends the run with
 * an ERROR that names the call, its position and the frame it touched.
 * Every vCPU has a queue of its own.
 */
#ifndef SHIM_BATCH_H
#define SHIM_BATCH_H

#include "mm/pgtable.h"
#include "pv/vcpu.h"

struct mmu_stats {
    unsigned long hypercalls;   /* hypercalls issued */
    unsigned long entries;      /* update entries: requests, ops, va updates */
    unsigned long pt_pages;     /* frames that became page tables */
};

extern struct mmu_stats mmu_stats;

/* What one flush holds at most; more is flushed first. */
#define BATCH_MAX_REQS  1024    /* mmu_update requests (PT updates and M2P updates) */
#define BATCH_MAX_EXTS  64      /* mmuext ops */
#define BATCH_MAX_CALLS 64      /* calls in the multicall (a run of one kind is one call) */

/* Checked write of entry `slot` of the table (or not-yet-table) frame `mfn`. */
void batch_pte(unsigned long mfn, unsigned int slot, pte_t val);
/* M2P update: mfn now backs pfn. */
void batch_machphys(unsigned long mfn, unsigned long pfn);
/* mmuext op with an mfn or linear-address argument. */
void batch_ext(unsigned int cmd, unsigned long arg);
/* An INVLPG_MULTI (va) or TLB_FLUSH_MULTI on the vCPUs in mask (a vCPU that is down costs nothing). */
void batch_ext_multi(unsigned int cmd, unsigned long va, vcpumask_t mask);
/* update_va_mapping(va, val), flushing that one TLB entry. */
void batch_va(unsigned long va, pte_t val);
/* Issue everything queued, in order. */
void batch_flush(void);
/* Drop whatever is queued (a new boot, in the host model). */
void batch_reset(void);
/* Name the phase in error messages. */
void batch_set_phase(const char *phase);
/* Name what this vCPU's next flushes do, in their error messages (NULL: nothing more). */
void batch_context(const char *what);

#endif
