/* SPDX-License-Identifier: MIT */
/*
 * vcpus.c - several vCPUs on the model, so that the shim's SMP code
 * (shim/pv/smp_stress.c, smp_sync.c and the per-vCPU state in mmu_pv.c)
 * runs on the host, as it does on Xen:
 *
 *   - each vCPU has its CR3s (M.cr3 and M.user_cr3 are the running one's)
 *     and a TLB: what a walk translated stays there, stale or not, until a
 *     flush reaches this vCPU (a local flush, a _MULTI op whose mask names
 *     it, an _ALL op, a CR3 load, or Xen's own flush when a frame's type
 *     changes).  A missing shootdown therefore reads the old frame, as a
 *     real CPU would.  A CR3 load refills at once what the vCPU has ever
 *     used and the new tables map, as a CPU that walks ahead may: so a
 *     vCPU caches an mm's entries from the load on, before it says it has
 *     it;
 *   - each vCPU is a host thread, but only the one holding the turn runs:
 *     the others wait for it.  A seeded scheduler passes the turn at every
 *     yield and, with a given probability, before and after every
 *     mmu_update, mmuext_op and multicall: one seed,
 *     one interleaving, every time.  A run in which the vCPUs only yield,
 *     with no hypercall for DEADLOCK_YIELDS yields, is a deadlock and ends
 *     in an ERROR.  A run that ends on a secondary vCPU passes the turn to
 *     vCPU 0, on whose thread model_run() waits to be jumped back to.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hosted.h"
#include "vcpus.h"

/* Correct runs go at most a few dozen yields without a hypercall; a yield costs ~15 us. */
#define DEADLOCK_YIELDS 100000UL

static struct {
    pthread_t thread;
    bool finished;
} sched[MODEL_MAX_VCPUS];
static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_changed = PTHREAD_COND_INITIALIZER;
static unsigned int turn;               /* the vCPU that may run */

static void (*vcpu_fn)(unsigned int id);
static uint64_t rng;
static unsigned int preempt_permille;
static unsigned long idle_yields;
static bool ending;

static uint64_t next_random(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* ------------------------------------------------------------------ TLBs */

/*
 * Fully associative (a small TLB, searched whole: only SMP runs use it),
 * so that no two pages the stress uses can evict each other: an entry
 * goes only when a flush reaches it, or when 64 newer pages have come in.
 */
static struct atlb_entry *atlb_find(struct model_vcpu *c, unsigned long vpn)
{
    for (unsigned int i = 0; i < ATLB_SIZE; i++)
        if (c->atlb[i].tag == vpn + 1)
            return &c->atlb[i];
    return NULL;
}

bool atlb_lookup(unsigned long va, bool write, unsigned long *mfn)
{
    const struct atlb_entry *e;

    if (M.nr_vcpus <= 1)
        return false;
    e = atlb_find(&M.vcpus[M.vcpu], va >> PAGE_SHIFT);
    if (!e || (write && !e->writable))
        return false;
    *mfn = e->mfn;
    return true;
}

void atlb_fill(unsigned long va, unsigned long mfn, bool writable)
{
    struct model_vcpu *c = &M.vcpus[M.vcpu];
    unsigned long vpn = va >> PAGE_SHIFT;
    struct atlb_entry *e;
    bool hot = false;

    if (M.nr_vcpus <= 1)
        return;
    e = atlb_find(c, vpn);
    if (!e)
        e = &c->atlb[c->next_victim++ % ATLB_SIZE];
    *e = (struct atlb_entry){ vpn + 1, mfn, writable };
    for (unsigned int i = 0; i < ATLB_SIZE; i++)
        hot |= c->hot[i] == vpn + 1;
    if (!hot)
        c->hot[c->next_hot++ % ATLB_SIZE] = vpn + 1;
}

void atlb_flush(unsigned long vcpumask, unsigned long va)
{
    for (unsigned int v = 0; v < M.nr_vcpus; v++) {
        struct atlb_entry *t = M.vcpus[v].atlb;

        struct atlb_entry *e;

        if (!(vcpumask >> v & 1))
            continue;
        if (va == ATLB_ALL)
            memset(t, 0, sizeof(M.vcpus[v].atlb));
        else if ((e = atlb_find(&M.vcpus[v], va >> PAGE_SHIFT)))
            e->tag = 0;
    }
}

void atlb_cr3_loaded(void)
{
    const unsigned long *hot = M.vcpus[M.vcpu].hot;
    unsigned long mfn;
    char why[160];

    if (M.nr_vcpus <= 1)
        return;
    atlb_flush_local(ATLB_ALL);
    for (unsigned int i = 0; i < ATLB_SIZE; i++) {
        unsigned long va = (hot[i] - 1) << PAGE_SHIFT;

        if (hot[i] && vmem_translate(va, false, &mfn, why, sizeof(why)) && mfn != ~0UL)
            atlb_fill(va, mfn, false);
    }
}

void atlb_type_changed(unsigned long mfn)
{
    for (unsigned int v = 0; v < M.nr_vcpus; v++)
        for (unsigned int i = 0; i < ATLB_SIZE; i++)
            if (M.vcpus[v].atlb[i].tag && M.vcpus[v].atlb[i].mfn == mfn)
                M.vcpus[v].atlb[i].tag = 0;
}

/* ------------------------------------------------------------ switching */

/* The running vCPU's registers go to its slot, v's come out of its slot. */
static void swap_state(unsigned int v)
{
    struct model_vcpu *a = &M.vcpus[M.vcpu], *b = &M.vcpus[v];

    a->cr3 = M.cr3, a->user_cr3 = M.user_cr3, a->kernel_sp = M.kernel_sp;
    M.cr3 = b->cr3, M.user_cr3 = b->user_cr3, M.kernel_sp = b->kernel_sp;
    M.vcpu = v;
    vmem_flush();               /* the translation cache is the running vCPU's */
}

/* Give the turn to v (its state loaded), and wait until it comes back to `self`. */
static void hand_over(unsigned int v, unsigned int self, bool wait)
{
    swap_state(v);
    pthread_mutex_lock(&turn_lock);
    turn = v;
    pthread_cond_broadcast(&turn_changed);
    while (wait && turn != self)
        pthread_cond_wait(&turn_changed, &turn_lock);
    pthread_mutex_unlock(&turn_lock);
}

static void wait_turn(unsigned int self)
{
    pthread_mutex_lock(&turn_lock);
    while (turn != self)
        pthread_cond_wait(&turn_changed, &turn_lock);
    pthread_mutex_unlock(&turn_lock);
}

static void switch_to(unsigned int v)
{
    unsigned int self = M.vcpu;

    if (v == self)
        return;
    hand_over(v, self, true);
    if (ending && self == 0)
        model_end_run_now();
}

/* Anyone who may run (self included, unless it has finished), at random. */
static void pick(bool may_stay)
{
    unsigned int runnable[MODEL_MAX_VCPUS], n = 0;

    for (unsigned int v = 0; v < M.nr_vcpus; v++)
        if (!sched[v].finished && (may_stay || v != M.vcpu))
            runnable[n++] = v;
    if (n)
        switch_to(runnable[next_random() % n]);
}

void model_preempt(void)
{
    idle_yields = 0;
    if (M.nr_vcpus > 1 && next_random() % 1000 < preempt_permille)
        pick(true);
}

void model_yield(void)
{
    if (M.nr_vcpus <= 1)
        return;
    if (++idle_yields > DEADLOCK_YIELDS)
        model_end_run(OUT_ERROR, "model: deadlock: the vCPUs yielded %lu times without a hypercall "
                      "(vcpu %u was waiting)", DEADLOCK_YIELDS, M.vcpu);
    pick(true);
}

void model_vcpus_end_here(void)
{
    unsigned int self = M.vcpu;

    if (M.nr_vcpus <= 1 || self == 0)
        return;
    ending = true;              /* vCPU 0 ends the run, on the thread model_run() jumps on */
    hand_over(0, self, false);
    for (;;)                    /* this thread never runs again; the process ends with the run */
        wait_turn(MODEL_MAX_VCPUS);
}

static void *entry(void *arg)
{
    unsigned int v = (unsigned int)(uintptr_t)arg;
    unsigned int runnable[MODEL_MAX_VCPUS], n = 0;

    wait_turn(v);
    vcpu_fn(v);
    sched[v].finished = true;
    for (unsigned int w = 0; w < M.nr_vcpus; w++)
        if (!sched[w].finished)
            runnable[n++] = w;
    hand_over(runnable[next_random() % n], v, false);      /* vCPU 0 is always among them */
    return NULL;
}

/* ----------------------------------------------------------------- a run */

void model_vcpus_init(unsigned int n, uint64_t seed, unsigned int permille)
{
    if (n < 2 || n > MODEL_MAX_VCPUS)
        model_end_run(OUT_ERROR, "model: %u vCPUs (2 to %u)", n, MODEL_MAX_VCPUS);
    memset(M.vcpus, 0, sizeof(M.vcpus));
    memset(sched, 0, sizeof(sched));
    M.nr_vcpus = n;
    M.vcpu = 0;
    rng = seed * 0x9e3779b97f4a7c15ULL + 1;
    preempt_permille = permille;
    idle_yields = 0;
    ending = false;
}

int model_vcpu_initialise(unsigned int v, unsigned long l4_mfn, unsigned long user_l4_mfn)
{
    unsigned int self = M.vcpu;
    int rc;

    swap_state(v);
    rc = model_restore_vcpu(l4_mfn, user_l4_mfn);   /* arch_set_info_guest's references */
    swap_state(self);
    return rc;
}

void model_vcpus_run(void (*fn)(unsigned int id))
{
    vcpu_fn = fn;
    turn = 0;
    for (unsigned int v = 1; v < M.nr_vcpus; v++)
        if (pthread_create(&sched[v].thread, NULL, entry, (void *)(uintptr_t)v))
            abort();
    fn(0);
    for (;;) {              /* vCPU 0 stays runnable: the others come back here when done */
        bool all = true;

        for (unsigned int v = 1; v < M.nr_vcpus; v++)
            all &= sched[v].finished;
        if (all)
            break;
        model_yield();
    }
    for (unsigned int v = 1; v < M.nr_vcpus; v++)
        pthread_join(sched[v].thread, NULL);
    /* One vCPU again: the others are down (they keep Xen's references, as on Xen). */
    M.nr_vcpus = 1;
    vmem_flush();
}
