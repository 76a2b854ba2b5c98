/* SPDX-License-Identifier: MIT */
/*
 * smp.h - the secondary vCPUs: how many there are, bringing them up,
 * what they run, and putting them down again (smp.c); the checks that
 * need several of them (smp_stress.c).
 */
#ifndef SHIM_SMP_H
#define SHIM_SMP_H

#include <stdbool.h>
#include "lib/xen.h"
#include "pv/vcpu.h"

/* First thing on vCPU 0: %gs's kernel base at its block, so that plat_vcpu_id() works. */
void smp_boot_vcpu0(void);

/*
 * After vCPU 0's checks: count the vCPUs (VCPUOP_is_up until -ENOENT),
 * bring up the others, run the checks that need several, and put them
 * down again.  With handoff_follows, the secondaries are left alone: Xen
 * keeps a vCPU initialised for good, and the next kernel initialises them.
 */
void smp_run(const shared_info_t *shared_info, bool handoff_follows);

/* The vCPUs that take part (vCPU 0 and every one brought up). */
extern unsigned int smp_vcpus;

/* Every vCPU of the run calls it; returns when all have. */
void smp_barrier(void);

/*
 * A wait for another vCPU: `while (!done) smp_wait_turn(&w);` after
 * smp_wait_begin(&w, what).  Each turn spins once, and now and then yields;
 * a wait past the patience is an ERROR naming what it waited for.  Begin
 * again to restart the patience (progress seen).
 */
struct smp_wait {
    const char *what;
    uint64_t start;
    unsigned long spins;
};
void smp_wait_begin(struct smp_wait *w, const char *what);
void smp_wait_turn(struct smp_wait *w);

/* smp_stress.c: run by every vCPU together, between two barriers. */
void smp_stress(void);
/* Rounds of the stress test on each target (the command line's smp-rounds=, default 256). */
extern unsigned long smp_rounds;

#endif
