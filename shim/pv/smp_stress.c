/* SPDX-License-Identifier: MIT */
/*
 * smp_stress.c - what only several vCPUs can show: a TLB shootdown that
 * reaches every vCPU, and an mm that is not freed while another vCPU
 * still has it loaded.  Every vCPU runs smp_stress() at once.
 *
 * The shootdown, on two targets at once: module space (kernel mappings all
 * vCPUs share), written by the last vCPU, and a process mm that every vCPU
 * loads (a process's threads), written by vCPU 0.  On each target one vCPU
 * writes and the others read, in lock step:
 *
 *   round r   writer                            readers
 *             P = fresh page, pattern(r) in it
 *             V -> P; write through V, read
 *             back through the direct map
 *             mapped = r           --------->   read V: pattern(r)
 *                                               (now V -> P is in their TLB)
 *                                  <---------   ack
 *             V -> none, INVLPG_MULTI(V) to
 *             every vCPU that may have it, in
 *             the same batch; P freed and taken
 *             straight back: stale(r) in it
 *             unmapped = r         --------->   read V: must fault.  A read
 *                                               that succeeds went through a
 *                                               stale TLB entry (and shows
 *                                               stale(r): the frame's new use)
 *                                  <---------   ack
 *
 * The free while loaded: at the end, the readers keep the process mm
 * loaded while the writer frees it, and switch away only once mm_free()
 * has yielded to them, so that its wait is exercised every time.
 *
 * Only mmu_plat.h underneath: the host model runs this file on its own
 * vCPUs, with a TLB per vCPU and a seeded scheduler (tests/model/vcpus.c).
 */
#include "pv/smp.h"
#include "pv/batch.h"
#include "pv/mm_user.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/page_alloc.h"
#include "lib/lib.h"

unsigned long smp_rounds = 256;

struct target {
    const char *name;
    unsigned long va;               /* V */
    unsigned long l1_mfn;           /* the L1 that maps V */
    pte_t flags;                    /* of V's PTE */
    unsigned int writer;
    unsigned int toucher;           /* process target with 3 or more vCPUs: vcpu 1; else NO_TOUCHER */
    const struct mm *mm;            /* process target: whose vCPUs get the flush */
    unsigned long mapped, unmapped; /* the last round published */
    unsigned long ack_mapped[MAX_VCPUS], ack_unmapped[MAX_VCPUS];
};

static struct target module_target, process_target;
static struct user_space process;
static unsigned long module_l1, module_l2_mfn;
static unsigned long yields_before_free;

static uint64_t pattern(const struct target *t, unsigned long r)
{
    return (t->va ^ 0x5354524553530000UL) + r;
}

static uint64_t stale(const struct target *t, unsigned long r)
{
    return ~pattern(t, r);
}

static void publish(unsigned long *where, unsigned long r)
{
    __atomic_store_n(where, r, __ATOMIC_RELEASE);
}

static unsigned long seen(const unsigned long *where)
{
    return __atomic_load_n(where, __ATOMIC_ACQUIRE);
}

#define NO_TOUCHER MAX_VCPUS
#define TOUCHER_STAY 4                      /* reads before the toucher leaves the mm again */

static bool readers_acked(const struct target *t, const unsigned long *acks, unsigned long r)
{
    for (unsigned int v = 0; v < smp_vcpus; v++)
        if (v != t->writer && v != t->toucher && seen(&acks[v]) < r)
            return false;
    return true;
}

static void set_v(const struct target *t, pte_t val)
{
    batch_pte(t->l1_mfn, PT_INDEX(t->va, L1_SHIFT), val);
}

/*
 * One vCPU's part in one target, as a state machine, so that a vCPU can
 * write one target while it reads the other: step() does what the other
 * side's progress allows, and says whether it did anything.
 */
enum step { MAP, WAIT_MAPPED, WAIT_UNMAPPED, TOUCH, DONE };

struct part {
    struct target *t;
    enum step step;
    unsigned long round;
    unsigned long page, reused, faults;     /* writer: the page mapped now; counts */
    vcpumask_t mask;
    bool in_mm;                             /* toucher: on the process mm now */
    unsigned int stay;                      /* toucher: reads since it came in */
    unsigned long switches, reads;          /* toucher: counts */
};

static bool write_step(struct part *p)
{
    struct target *t = p->t;
    unsigned long r = p->round, q;

    switch (p->step) {
    case MAP:
        p->page = pages_alloc("stress page");
        plat_write64(pfn_to_virt(p->page), pattern(t, r));
        set_v(t, ((pte_t)mmu_pfn_to_mfn(p->page) << PAGE_SHIFT) | t->flags);
        batch_flush();
        plat_write64(t->va + 8, ~r);
        if (plat_read64(t->va) != pattern(t, r) || plat_read64(pfn_to_virt(p->page) + 8) != ~r)
            mmu_failure("stress: %s %#lx: round %lu: the page written through it is not pfn %#lx",
                        t->name, t->va, r, p->page);
        publish(&t->mapped, r);
        p->step = WAIT_MAPPED;
        return true;
    case WAIT_MAPPED:
        if (!readers_acked(t, t->ack_mapped, r))
            return false;
        /* Who may have V in a TLB: every running vCPU (kernel space), or those with the mm. */
        set_v(t, 0);
        if (t->mm) {
            p->mask = tlb_flush_mm_va(t->mm, t->va);
        } else {
            p->mask = vcpus_running;
            tlb_flush_va(t->va, p->mask);
            batch_flush();
        }
        pages_free(p->page);
        q = pages_alloc("stress page");
        p->reused += q == p->page;
        p->page = q;
        plat_write64(pfn_to_virt(q), stale(t, r));
        publish(&t->unmapped, r);
        p->step = WAIT_UNMAPPED;
        return true;
    case WAIT_UNMAPPED:
        if (!readers_acked(t, t->ack_unmapped, r))
            return false;
        pages_free(p->page);
        p->round++;
        p->step = p->round > smp_rounds ? DONE : MAP;
        if (p->step == DONE)
            mmu_print("stress: %s %#lx: writer, %lu rounds mapped, written, read back, unmapped with a flush "
                      "on vcpus %#lx; %lu freed frames reused at once\n",
                      t->name, t->va, smp_rounds, p->mask, p->reused);
        return true;
    default:
        return false;
    }
}

static bool read_step(struct part *p, unsigned int id)
{
    struct target *t = p->t;
    unsigned long r = p->round;
    uint64_t v;

    switch (p->step) {
    case WAIT_MAPPED:
        if (seen(&t->mapped) < r)
            return false;
        v = plat_read64(t->va);
        if (v != pattern(t, r))
            mmu_failure("stress: %s %#lx: round %lu: read %#lx, the writer wrote %#lx",
                        t->name, t->va, r, (unsigned long)v, (unsigned long)pattern(t, r));
        publish(&t->ack_mapped[id], r);
        p->step = WAIT_UNMAPPED;
        return true;
    case WAIT_UNMAPPED:
        if (seen(&t->unmapped) < r)
            return false;
        if (plat_read64_safe(t->va, &v))
            mmu_failure("stress: %s %#lx: round %lu: read %#lx after vcpu %u unmapped it: a stale TLB "
                        "entry%s", t->name, t->va, r, (unsigned long)v, t->writer,
                        v == stale(t, r) ? " (that is the freed frame's new contents)" : "");
        p->faults++;
        publish(&t->ack_unmapped[id], r);
        p->round++;
        p->step = p->round > smp_rounds ? DONE : WAIT_MAPPED;
        if (p->step == DONE)
            mmu_print("stress: %s %#lx: reader, %lu reads of the writer's pattern, %lu faults once unmapped, "
                      "no stale read\n", t->name, t->va, smp_rounds, p->faults);
        return true;
    default:
        return false;
    }
}

/*
 * The toucher: a thread of the process that comes and goes.  It switches
 * into the mm and out again all through the rounds, outside the lock
 * step, and reads V TOUCHER_STAY times each time it is in, yielding in
 * between.  So it may switch in while the writer is between changing V
 * and flushing it: the flush must still reach it (tlb_flush_mm_va reads
 * `requested` and `loaded` after the change).  A read may fault, or find
 * the pattern of a round that had not been unmapped when the read began;
 * anything else came through a stale TLB entry.  It ends in the mm, as
 * the readers do.
 */
static bool touch_step(struct part *p)
{
    struct target *t = p->t;
    unsigned long before = seen(&t->unmapped), last;
    uint64_t v;

    if (p->step != TOUCH)
        return false;
    if (!p->in_mm) {
        mm_switch(t->mm);
        p->in_mm = true;
        p->switches++;
        return false;
    }
    if (plat_read64_safe(t->va, &v)) {
        /* The writer maps a round's page just before it says so: the next round counts too. */
        last = seen(&t->mapped) + 1;
        p->reads++;
        if (v < pattern(t, before + 1) || v > pattern(t, last))
            mmu_failure("stress: %s %#lx: vcpu %u, coming and going, read %#lx with rounds %lu-%lu "
                        "mapped: a stale TLB entry", t->name, t->va, plat_vcpu_id(), (unsigned long)v,
                        before + 1, last);
    } else {
        p->faults++;
    }
    plat_yield();                   /* let the writer move between two reads */
    if (before >= smp_rounds) {
        p->step = DONE;
        mmu_print("stress: %s %#lx: toucher, %lu switches in and out, %lu reads, %lu faults, no stale "
                  "read\n", t->name, t->va, p->switches, p->reads, p->faults);
        return true;
    }
    if (++p->stay < TOUCHER_STAY)
        return false;
    mm_switch(&init_mm);            /* a CR3 load: its TLB starts afresh when it comes back */
    p->in_mm = false;
    p->stay = 0;
    return false;
}

/* Both targets at once: each vCPU writes one or none, and reads the others. */
static void run_targets(struct target *const *targets, unsigned int n, unsigned int id)
{
    struct part parts[2];
    struct smp_wait w;
    unsigned int done = 0;

    for (unsigned int i = 0; i < n; i++)
        parts[i] = (struct part){ .t = targets[i], .round = 1, .in_mm = true,
                                  .step = targets[i]->writer == id ? MAP :
                                          targets[i]->toucher == id ? TOUCH : WAIT_MAPPED };
    smp_wait_begin(&w, "the other side of the stress test");
    while (done < n) {
        bool progress = false;

        done = 0;
        for (unsigned int i = 0; i < n; i++) {
            struct part *p = &parts[i];

            progress |= p->t->writer == id ? write_step(p) :
                        p->t->toucher == id ? touch_step(p) : read_step(p, id);
            done += p->step == DONE;
        }
        if (progress)
            smp_wait_begin(&w, w.what);         /* the patience restarts */
        else
            smp_wait_turn(&w);
    }
}

/* Module space: an L1 of its own below the first 2 MiB slot (the module test has left it empty). */
static void module_setup(unsigned int writer)
{
    unsigned long va = MODULES_VADDR;

    module_l2_mfn = pt_table_mfn(&mmu_geo, mmu_pfn_to_mfn(init_mm.kernel_l4), va, 2);
    module_l1 = pt_alloc_late("stress L1");
    batch_pte(module_l2_mfn, PT_INDEX(va, L2_SHIFT),
              ((pte_t)mmu_pfn_to_mfn(module_l1) << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW |
              _PAGE_ACCESSED | _PAGE_DIRTY);
    batch_flush();
    module_target = (struct target){ .name = "module space", .va = va, .writer = writer,
                                     .toucher = NO_TOUCHER, .l1_mfn = mmu_pfn_to_mfn(module_l1), .flags = PTE_KERNEL_RW | pte_nx };
}

static void module_teardown(void)
{
    batch_pte(module_l2_mfn, PT_INDEX(MODULES_VADDR, L2_SHIFT), 0);
    tlb_flush_all(vcpus_running);
    batch_flush();
    pt_free_late(&module_l1, 1);
}

/* A process mm with one user page: V is its user address, every vCPU will load it. */
static void process_setup(unsigned int writer)
{
    static const uint8_t nothing[8];

    user_space_create(&process, USER_TEST_VA, nothing, sizeof(nothing));
    /* V starts unmapped, as in module space: only the rounds' pages are ever seen there. */
    batch_pte(mmu_pfn_to_mfn(process.l1), PT_INDEX(USER_TEST_VA, L1_SHIFT), 0);
    tlb_flush_va(USER_TEST_VA, 1UL << plat_vcpu_id());      /* nobody else has the mm yet */
    batch_flush();
    process_target = (struct target){ .name = "process mm", .va = USER_TEST_VA, .writer = writer,
                                      .toucher = smp_vcpus >= 3 ? 1 : NO_TOUCHER,
                                      .l1_mfn = mmu_pfn_to_mfn(process.l1), .mm = &process.mm,
                                      .flags = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED |
                                               _PAGE_DIRTY | pte_nx };
}

/* The writer frees the mm while the readers have it loaded; they leave once mm_free has waited. */
static void free_while_loaded(unsigned int id, unsigned int writer)
{
    if (id == writer) {
        vcpumask_t held = mm_loaded_mask(&process.mm) & ~(1UL << id);
        unsigned long yields;

        mm_switch(&init_mm);
        yields = mm_free(&process.mm);
        pt_free_late((const unsigned long[]){ process.l3, process.l2, process.l1 }, 3);
        pages_free(process.page);
        if (!yields)
            mmu_failure("stress: mm_free did not wait, though vcpus %#lx had the mm loaded", held);
        mmu_print("stress: free while loaded: mm_free waited %lu yields until vcpus %#lx had switched away\n",
                  yields, held);
    } else {
        struct smp_wait w;

        smp_wait_begin(&w, "mm_free to wait for this vCPU");
        while (__atomic_load_n(&mm_free_yields, __ATOMIC_ACQUIRE) == yields_before_free)
            smp_wait_turn(&w);
        mm_switch(&init_mm);
    }
}

void smp_stress(void)
{
    unsigned int id = plat_vcpu_id(), last = smp_vcpus - 1;
    struct target *const targets[2] = { &module_target, &process_target };

    /* Module space is written by the last vCPU; a process mm is created and written by vCPU 0. */
    if (id == last)
        module_setup(last);
    if (id == 0)
        process_setup(0);
    smp_barrier();
    if (id != 0)
        mm_switch(&process.mm);     /* every vCPU a thread of that process */
    smp_barrier();
    run_targets(targets, 2, id);
    if (id == 0)
        yields_before_free = __atomic_load_n(&mm_free_yields, __ATOMIC_ACQUIRE);
    smp_barrier();
    if (id == last)
        module_teardown();
    free_while_loaded(id, 0);
}
