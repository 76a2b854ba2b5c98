/* SPDX-License-Identifier: MIT */
/*
 * test_batch.c - the update queue (shim/pv/batch.c) at and across each of its
 * limits, in every mix of kinds, against the model: what reaches Xen must
 * be exactly what was queued, in the order it was queued, each entry once.
 *
 * The limits (batch.h): BATCH_MAX_REQS mmu_update requests, BATCH_MAX_EXTS
 * mmuext ops and BATCH_MAX_CALLS calls in one multicall; reaching any of
 * them flushes what is queued first.  Each run queues a sequence of
 * operations built from a pattern of kinds:
 *
 *   u  batch_pte: a checked write into a data frame (not a table)
 *   m  batch_machphys: an M2P update (mfn -> its own pfn, a no-op for Xen)
 *   e  batch_ext: MMUEXT_INVLPG_LOCAL of a distinct address
 *   v  batch_va: update_va_mapping of a data page to what it maps already
 *
 * then flushes, and compares the model's trace of executed entries with the
 * queued list.  A run of one kind is one call, so "ue" repeated 33 times is
 * 66 calls: the 65th call arrives with the call table full (Linux's
 * set_fixmap pattern, 33 times without a flush).
 *
 * Built twice: as it is (every sequence must match), and with
 * BUG=stale-batch-index (model_bug_batch), where a new call keeps the index
 * it had before the internal flush: then every sequence that fills the call
 * table while requests or ops are queued must show a mismatch, and every
 * other one must still match (so it is the stale index that is caught).
 */
#include <stdio.h>
#include <string.h>

#include "pv/batch.h"
#include "check.h"
#include "lib/config.h"
#include "hosted.h"
#include "lib/lib.h"
#include "model.h"

#define NR          512UL
#define DATA_PFN    32UL            /* 64 data frames, untyped, unmapped */
#define MAPPED_PFN  16UL            /* data pfns 16..31, mapped at va 0..15 pages */
#define KRW         (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)

static unsigned long mfn(unsigned long pfn)
{
    return MFN_DOM_FIRST + pfn;
}

static uint64_t pte(unsigned long pfn, uint64_t flags)
{
    return ((uint64_t)mfn(pfn) << PAGE_SHIFT) | flags;
}

/* The tree of test_rules.c: L4 -> L3 -> L2 -> L1, L1[i] -> data pfn 16 + i. */
static void setup(void)
{
    struct model_opts o = model_default_opts(false);

    model_init(0x2000, &o);
    model_add_extent(0, MFN_DOM_FIRST, NR, 1);
    model_finish_extents();
    M.nr_pages = NR;
    mem_write(mfn(0), 0, pte(1, KRW));
    mem_write(mfn(1), 0, pte(2, KRW));
    mem_write(mfn(2), 0, pte(3, KRW));
    for (unsigned int i = 0; i < 16; i++)
        mem_write(mfn(3), i, pte(MAPPED_PFN + i, KRW));
    if (model_boot_load_l4(mfn(0)))
        printf("setup: the tree was refused: %s\n", model_last_refusal());
}

#define MAX_OPS 4200

static struct model_trace want[MAX_OPS], got[MAX_OPS];
static unsigned int nr_want;

struct run {
    const char *pattern;            /* kinds, repeated */
    unsigned int n;                 /* operations */
};

/* Operation i of kind k: queued, and what Xen must then see. */
static void queue(char k, unsigned int i)
{
    unsigned long data = mfn(DATA_PFN + i % 64);

    switch (k) {
    case 'u':
        batch_pte(data, i % 512, (uint64_t)(i + 1) << 1);
        want[nr_want++] = (struct model_trace){ 'u', ((uint64_t)data << PAGE_SHIFT) + (i % 512) * 8,
                                                (uint64_t)(i + 1) << 1 };
        break;
    case 'm':
        batch_machphys(data, DATA_PFN + i % 64);
        want[nr_want++] = (struct model_trace){ 'u', ((uint64_t)data << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE,
                                                DATA_PFN + i % 64 };
        break;
    case 'e':
        batch_ext(MMUEXT_INVLPG_LOCAL, 0x100000UL + ((unsigned long)i << PAGE_SHIFT));
        want[nr_want++] = (struct model_trace){ 'e', MMUEXT_INVLPG_LOCAL,
                                                0x100000UL + ((unsigned long)i << PAGE_SHIFT) };
        break;
    case 'v':
        batch_va((i % 16UL) << PAGE_SHIFT, pte(MAPPED_PFN + i % 16, KRW));
        want[nr_want++] = (struct model_trace){ 'v', (i % 16UL) << PAGE_SHIFT,
                                                pte(MAPPED_PFN + i % 16, KRW) };
        break;
    }
}

static void run_fn(void *arg)
{
    const struct run *r = arg;
    size_t len = strlen(r->pattern);

    batch_reset();
    batch_set_phase("test");
    nr_want = 0;
    for (unsigned int i = 0; i < r->n; i++)
        queue(r->pattern[i % len], i);
    batch_flush();
}

/* The first difference between what was queued and what Xen ran, or -1. */
static long first_mismatch(void)
{
    for (unsigned long i = 0; i < nr_want && i < M.nr_trace; i++)
        if (got[i].kind != want[i].kind || got[i].a != want[i].a || got[i].b != want[i].b)
            return (long)i;
    return nr_want == M.nr_trace ? -1 : (long)(nr_want < M.nr_trace ? nr_want : M.nr_trace);
}

/*
 * Whether the run makes the queue open a call with the call table full
 * while entries of the new call's own kind are queued (so its index must
 * be taken after the internal flush), and then issue that call within a
 * multicall (a flush of one call is the bare hypercall, on the array's
 * start).  Computed by replaying the queue's rules, not by asking it.
 */
static bool stale_index_matters(const struct run *r)
{
    size_t len = strlen(r->pattern);
    unsigned int calls = 0, reqs = 0, exts = 0;
    bool stale = false;
    char last = 0;

#define FLUSH() do { if (stale && calls > 1) return true; \
                     stale = false; calls = reqs = exts = 0; last = 0; } while (0)
    for (unsigned int i = 0; i < r->n; i++) {
        char k = r->pattern[i % len], kind = k == 'm' ? 'u' : k;

        if ((kind == 'u' && reqs == BATCH_MAX_REQS) || (kind == 'e' && exts == BATCH_MAX_EXTS))
            FLUSH();
        if (kind != last || kind == 'v') {
            if (calls == BATCH_MAX_CALLS) {
                bool queued = (kind == 'u' && reqs) || (kind == 'e' && exts);

                FLUSH();
                stale = queued;
            }
            calls++;
        }
        last = kind;
        reqs += kind == 'u';
        exts += kind == 'e';
    }
    FLUSH();
#undef FLUSH
    return false;
}

static void check_run(const struct run *r)
{
    char msg[512];
    enum outcome out;
    long bad;

    setup();
    M.trace = got;
    M.trace_cap = MAX_OPS;
    M.nr_trace = 0;
    out = model_run(run_fn, (void *)r, msg, sizeof(msg));
    bad = out == OUT_NONE ? first_mismatch() : 0;
    if (BUG_STALE_BATCH_INDEX && stale_index_matters(r)) {
        CHECK(out != OUT_NONE || bad >= 0, "'%s' x%u: the stale index is caught (%s: %s)",
              r->pattern, r->n, outcome_name(out), out == OUT_NONE ? "Xen ran exactly what was queued" : msg);
        return;
    }
    if (!CHECK(out == OUT_NONE, "'%s' x%u: %s: %s (refusal: %s)", r->pattern, r->n, outcome_name(out), msg,
               model_last_refusal()))
        return;
    CHECK(bad < 0, "'%s' x%u: %lu entries reached Xen, %u queued; entry %ld is %c %#lx %#lx, queued %c %#lx %#lx",
          r->pattern, r->n, M.nr_trace, nr_want, bad,
          bad >= 0 && (unsigned long)bad < M.nr_trace ? got[bad].kind : '-',
          bad >= 0 && (unsigned long)bad < M.nr_trace ? (unsigned long)got[bad].a : 0,
          bad >= 0 && (unsigned long)bad < M.nr_trace ? (unsigned long)got[bad].b : 0,
          bad >= 0 && (unsigned long)bad < nr_want ? want[bad].kind : '-',
          bad >= 0 && (unsigned long)bad < nr_want ? (unsigned long)want[bad].a : 0,
          bad >= 0 && (unsigned long)bad < nr_want ? (unsigned long)want[bad].b : 0);
}

int main(void)
{
    static const char *const patterns[] = {
        "u", "m", "e", "v", "ue", "eu", "uv", "vu", "ev", "ve", "uev", "vue", "um", "uuue", "ueee",
        "uuuuuuuv", "muev", "eeeeeeeu",
    };
    /* Around each limit: requests, ops, calls, and twice past them. */
    static const unsigned int counts[] = {
        1, 2, BATCH_MAX_CALLS - 1, BATCH_MAX_CALLS, BATCH_MAX_CALLS + 1, BATCH_MAX_CALLS + 2,
        2 * BATCH_MAX_CALLS + 1, BATCH_MAX_REQS - 1, BATCH_MAX_REQS, BATCH_MAX_REQS + 1,
        2 * BATCH_MAX_REQS + 3, 4 * BATCH_MAX_REQS + 1,
    };
    unsigned int crossing = 0;

    for (unsigned int p = 0; p < N_ELEMS(patterns); p++)
        for (unsigned int c = 0; c < N_ELEMS(counts); c++) {
            struct run r = { patterns[p], counts[c] };

            crossing += stale_index_matters(&r);
            check_run(&r);
        }
    /* The review's reproduction: 33 set_fixmap() calls (mmu_update + INVLPG) without a flush. */
    {
        struct run fixmap = { "ue", 66 };

        CHECK(stale_index_matters(&fixmap), "33 set_fixmap calls fill the call table");
        check_run(&fixmap);
    }
    CHECK(crossing > 0, "some runs fill the call table with requests or ops queued (%u)", crossing);
    model_free();
    return check_done(TEST_NAME);
}
