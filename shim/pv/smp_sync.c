/* SPDX-License-Identifier: MIT */
/*
 * smp_sync.c - how vCPUs wait for each other: a barrier, a spin that
 * yields now and then, and a patience that turns a wait that never ends
 * into an ERROR.  Only mmu_plat.h underneath, so the host model runs it
 * too, with its own vCPUs and scheduler.
 */
#include "pv/smp.h"
#include "pv/mmu_plat.h"

#define SMP_PATIENCE_S  60          /* any one wait; the slowest seen is well under a second */

unsigned int smp_vcpus = 1;
static unsigned int barrier_count, barrier_gen;

/*
 * A vCPU that waits for another yields often: its pCPU may be the one the
 * other vCPU, or dom0 (xl, xenconsoled), needs.  Seen with 4 vCPUs on 2
 * CPUs and a busy host: with a yield every 256 spins, the stress took 7 s
 * instead of 1 s and dom0's `xl create` did not finish in 120 s.
 */
#define SPINS_PER_YIELD 8

void smp_wait_begin(struct smp_wait *w, const char *what)
{
    *w = (struct smp_wait){ .what = what, .start = plat_tsc() };
}

void smp_wait_turn(struct smp_wait *w)
{
    if (++w->spins % SPINS_PER_YIELD)
        asm volatile ("pause" ::: "memory");
    else
        plat_yield();
    if (!(w->spins % 4096) && plat_tsc_to_ns(plat_tsc() - w->start) > SMP_PATIENCE_S * 1000000000ULL)
        mmu_error("smp: waited %u s for %s", SMP_PATIENCE_S, w->what);
}

void smp_barrier(void)
{
    unsigned int gen = __atomic_load_n(&barrier_gen, __ATOMIC_ACQUIRE);
    struct smp_wait w;

    if (__atomic_add_fetch(&barrier_count, 1, __ATOMIC_ACQ_REL) == smp_vcpus) {
        __atomic_store_n(&barrier_count, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&barrier_gen, gen + 1, __ATOMIC_RELEASE);
        return;
    }
    smp_wait_begin(&w, "the other vCPUs at a barrier");
    while (__atomic_load_n(&barrier_gen, __ATOMIC_ACQUIRE) == gen)
        smp_wait_turn(&w);
}
