/* SPDX-License-Identifier: MIT */
/*
 * batch.c - the update queue (see batch.h).
 *
 * Xen rules that shape it:
 *  - mmu_update and mmuext_op stop at the first failing element and report
 *    how many were done; the rest are not executed.
 *  - a multicall runs every entry even if an earlier one failed, each
 *    entry records its own result, and the call itself returns 0.  So a
 *    failed entry is caught here, and everything after it in the same
 *    flush may have run: the run ends at once with an ERROR.
 *  - a debug Xen poisons the multicall entries it executed, so the array
 *    is rebuilt for every flush, never reused.
 *
 * Each vCPU has its own queue: a queue is filled and flushed by one vCPU
 * between two points of its own program, so no lock is needed, and one
 * vCPU's flush never issues another's half-built batch.
 */
#include "pv/batch.h"
#include "lib/config.h"
#include "pv/mmu_plat.h"
#include "pv/vcpu.h"
#include "lib/lib.h"

#define MAX_REQS BATCH_MAX_REQS
#define MAX_EXTS BATCH_MAX_EXTS
#define MAX_CALLS BATCH_MAX_CALLS

struct mmu_stats mmu_stats;

enum kind { K_UPDATE, K_EXT, K_VA };

struct call {
    enum kind kind;
    unsigned int first, count;  /* into reqs[] or exts[] */
    unsigned long va;
    pte_t val;
};

struct queue {
    mmu_update_t reqs[MAX_REQS];
    struct mmuext_op exts[MAX_EXTS];
    vcpumask_t masks[MAX_EXTS][VCPUMASK_WORDS];     /* what a _MULTI op's vcpumask points at */
    const char *context;            /* named in an error, when set (batch_context) */
    struct call calls[MAX_CALLS];
    unsigned int nr_reqs, nr_exts, nr_calls;
};

static struct queue queues[MAX_VCPUS];
static const char *phase = "boot";

/* The running vCPU's queue. */
static struct queue *my_queue(void)
{
    return &queues[plat_vcpu_id()];
}

static void stat_add(unsigned long *counter, unsigned long n)
{
    __atomic_fetch_add(counter, n, __ATOMIC_RELAXED);
}

void batch_reset(void)
{
    struct queue *q = my_queue();

    q->nr_reqs = q->nr_exts = q->nr_calls = 0;
}

void batch_set_phase(const char *p)
{
    phase = p;
}

void batch_context(const char *what)
{
    my_queue()->context = what;
}

/* Where a new call of this kind starts in its array. */
static unsigned int next_index(const struct queue *q, enum kind kind)
{
    return kind == K_UPDATE ? q->nr_reqs : kind == K_EXT ? q->nr_exts : 0;
}

/*
 * The call the next entry of this kind joins: the last one if it is of the
 * same kind, else a new one.  A full call table is flushed first, and a
 * flush empties reqs[] and exts[] too: so the new call's first index is
 * taken after it, never before (a stale index would point the multicall
 * at an old entry, which Xen would run again, and lose the new one).
 */
static struct call *open_call(struct queue *q, enum kind kind)
{
    struct call *c = q->nr_calls ? &q->calls[q->nr_calls - 1] : NULL;
    unsigned int stale = next_index(q, kind);

    if (c && c->kind == kind && kind != K_VA)
        return c;
    if (q->nr_calls == MAX_CALLS)
        batch_flush();
    c = &q->calls[q->nr_calls++];
    c->kind = kind;
    c->first = BUG_STALE_BATCH_INDEX ? stale : next_index(q, kind);
    c->count = 0;
    return c;
}

static void queue_update(uint64_t ptr, uint64_t val)
{
    struct queue *q = my_queue();
    struct call *c;

    if (q->nr_reqs == MAX_REQS)
        batch_flush();
    c = open_call(q, K_UPDATE);
    q->reqs[q->nr_reqs].ptr = ptr;
    q->reqs[q->nr_reqs].val = val;
    q->nr_reqs++;
    c->count++;
}

void batch_pte(unsigned long mfn, unsigned int slot, pte_t val)
{
    queue_update(((uint64_t)mfn << PAGE_SHIFT) + slot * sizeof(pte_t) + MMU_NORMAL_PT_UPDATE, val);
}

void batch_machphys(unsigned long mfn, unsigned long pfn)
{
    queue_update(((uint64_t)mfn << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, pfn);
}

static struct mmuext_op *queue_ext(unsigned int cmd, unsigned long arg)
{
    struct queue *q = my_queue();
    struct mmuext_op *o;
    struct call *c;

    if (q->nr_exts == MAX_EXTS)
        batch_flush();
    c = open_call(q, K_EXT);
    o = &q->exts[q->nr_exts++];
    memset(o, 0, sizeof(*o));
    o->cmd = cmd;
    o->arg1.mfn = arg;                  /* same field as linear_addr */
    c->count++;
    return o;
}

void batch_ext(unsigned int cmd, unsigned long arg)
{
    queue_ext(cmd, arg);
}

void batch_ext_multi(unsigned int cmd, unsigned long va, vcpumask_t mask)
{
    struct queue *q = my_queue();
    struct mmuext_op *o = queue_ext(cmd, va);
    vcpumask_t *m = q->masks[o - q->exts];

    /*
     * Xen reads the mask when the op runs, one word per 64 of the domain's
     * vCPUs: it lives in the queue until the flush, the shim's vCPUs in the
     * first word, zeros after.  A domain of more than VCPUMASK_MAX_VCPUS
     * makes Xen read on into the queue: extra bits, extra flushes, no harm.
     */
    memset(m, 0, sizeof(q->masks[0]));
    m[0] = mask;
    set_xen_guest_handle(o->arg2.vcpumask, m);
}

void batch_va(unsigned long va, pte_t val)
{
    struct call *c = open_call(my_queue(), K_VA);

    c->va = va;
    c->val = val;
    c->count = 1;
}

static const char *ext_name(unsigned int cmd)
{
    switch (cmd) {
    case MMUEXT_PIN_L1_TABLE: return "PIN_L1_TABLE";
    case MMUEXT_PIN_L2_TABLE: return "PIN_L2_TABLE";
    case MMUEXT_PIN_L3_TABLE: return "PIN_L3_TABLE";
    case MMUEXT_PIN_L4_TABLE: return "PIN_L4_TABLE";
    case MMUEXT_UNPIN_TABLE: return "UNPIN_TABLE";
    case MMUEXT_NEW_BASEPTR: return "NEW_BASEPTR";
    case MMUEXT_NEW_USER_BASEPTR: return "NEW_USER_BASEPTR";
    case MMUEXT_TLB_FLUSH_LOCAL: return "TLB_FLUSH_LOCAL";
    case MMUEXT_INVLPG_LOCAL: return "INVLPG_LOCAL";
    case MMUEXT_TLB_FLUSH_MULTI: return "TLB_FLUSH_MULTI";
    case MMUEXT_INVLPG_MULTI: return "INVLPG_MULTI";
    default: return "mmuext op";
    }
}

static void __attribute__((noreturn)) report(const struct queue *q, const struct call *c, long rc,
                                             unsigned int done)
{
    switch (c->kind) {
    case K_UPDATE: {
        const mmu_update_t *r = &q->reqs[c->first + (done < c->count ? done : 0)];
        unsigned int cmd = r->ptr & 7;

        mmu_error("%s%s%s: mmu_update request %u of %u (%s ptr %#lx: mfn %#lx slot %lu, val %#lx) failed: %ld",
                  phase, q->context ? ": " : "", q->context ? q->context : "", done + 1, c->count, cmd == MMU_MACHPHYS_UPDATE ? "MACHPHYS_UPDATE" : "NORMAL_PT_UPDATE",
                  (unsigned long)r->ptr, (unsigned long)(r->ptr >> PAGE_SHIFT),
                  (unsigned long)((r->ptr & ~PAGE_MASK) >> 3), (unsigned long)r->val, rc);
    }
    case K_EXT: {
        const struct mmuext_op *o = &q->exts[c->first + (done < c->count ? done : 0)];

        mmu_error("%s%s%s: mmuext_op %u of %u (%s mfn %#lx) failed: %ld",
                  phase, q->context ? ": " : "", q->context ? q->context : "", done + 1, c->count, ext_name(o->cmd), (unsigned long)o->arg1.mfn, rc);
    }
    case K_VA:
    default:
        mmu_error("%s: update_va_mapping(%#lx, %#lx) failed: %ld",
                  phase, c->va, (unsigned long)c->val, rc);
    }
}

void batch_flush(void)
{
    struct queue *q = my_queue();
    multicall_entry_t mc[MAX_CALLS];
    unsigned int done[MAX_CALLS];
    long rc;

    if (!q->nr_calls)
        return;

    for (unsigned int i = 0; i < q->nr_calls; i++) {
        const struct call *c = &q->calls[i];

        memset(&mc[i], 0, sizeof(mc[i]));
        done[i] = 0;
        switch (c->kind) {
        case K_UPDATE:
            mc[i].op = __HYPERVISOR_mmu_update;
            mc[i].args[0] = (unsigned long)&q->reqs[c->first];
            mc[i].args[1] = c->count;
            mc[i].args[2] = (unsigned long)&done[i];
            mc[i].args[3] = DOMID_SELF;
            break;
        case K_EXT:
            mc[i].op = __HYPERVISOR_mmuext_op;
            mc[i].args[0] = (unsigned long)&q->exts[c->first];
            mc[i].args[1] = c->count;
            mc[i].args[2] = (unsigned long)&done[i];
            mc[i].args[3] = DOMID_SELF;
            break;
        case K_VA:
            mc[i].op = __HYPERVISOR_update_va_mapping;
            mc[i].args[0] = c->va;
            mc[i].args[1] = c->val;
            mc[i].args[2] = UVMF_INVLPG | UVMF_LOCAL;
            break;
        }
        stat_add(&mmu_stats.entries, c->count);
    }

    stat_add(&mmu_stats.hypercalls, 1);
    if (q->nr_calls == 1 && q->calls[0].kind == K_UPDATE) {
        rc = plat_mmu_update(&q->reqs[0], q->calls[0].count, &done[0]);
        mc[0].result = rc;
    } else if (q->nr_calls == 1 && q->calls[0].kind == K_EXT) {
        rc = plat_mmuext_op(&q->exts[0], q->calls[0].count, &done[0]);
        mc[0].result = rc;
    } else {
        rc = plat_multicall(mc, q->nr_calls);
        if (rc)
            mmu_error("%s: multicall of %u entries failed: %ld", phase, q->nr_calls, rc);
    }

    for (unsigned int i = 0; i < q->nr_calls; i++)
        if ((long)mc[i].result)
            report(q, &q->calls[i], (long)mc[i].result, done[i]);

    q->nr_reqs = q->nr_exts = q->nr_calls = 0;
}
