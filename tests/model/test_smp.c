/* SPDX-License-Identifier: MIT */
/*
 * test_smp.c - the shim's SMP code (shim/pv/smp_stress.c, smp_sync.c and
 * the per-vCPU L4s in mmu_pv.c) on the model's vCPUs (vcpus.c): a TLB per
 * vCPU that keeps a translation until a flush reaches it, and a seeded
 * scheduler that switches vCPUs at yields and at hypercalls.  The host
 * computes what every vCPU must report: who writes which target, the
 * flush masks, each reader's counts, the free that had to wait.
 *
 *   default          2, 3 and 4 vCPUs over many seeds and switch rates:
 *                    every vCPU's lines (with 3 or more, vcpu 1 comes and
 *                    goes in the process mm), no frame left typed or pinned that
 *                    a one-vCPU boot does not leave, and one seed is one
 *                    interleaving (the same log twice), while seeds differ
 *   bug-notlb        BUG=no-tlb-shootdown: a reader's TLB keeps the old
 *                    frame, and its read after the unmap sees the frame's
 *                    new contents: the stress's own FAILURE
 *   bug-freeloaded   BUG=free-loaded-mm: the unpin succeeds, but another
 *                    vCPU's CR3 still holds the L4, so making it writable
 *                    again is refused (Xen's -EBUSY in the rig)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "driver.h"

#define ROUNDS 24

static struct drive_result r;

static struct drive_opts opts(unsigned int vcpus, uint64_t seed, unsigned int permille)
{
    return (struct drive_opts){
        .boot = { .builder = BUILD_DOM0, .nr_pages = 65536 },
        .no_modules = true,
        .vcpus = vcpus, .smp_seed = seed, .smp_permille = permille, .smp_rounds = ROUNDS,
    };
}

static bool run(const char *what, const struct drive_opts *o)
{
    int rc = drive(o, &r);

    return CHECK(rc == 0 && !r.child_died && !r.build_failed, "%s: the boot ran (%s)", what, r.L.err);
}

static bool has_line(const char *prefix, const char *rest)
{
    for (const char *p = r.log; (p = strstr(p, prefix)); p++)
        if ((p == r.log || p[-1] == '\n') && (!rest || (strstr(p, rest) && strstr(p, rest) < strchr(p, '\n'))))
            return true;
    return false;
}

/* Every vCPU's part, as the host works it out. */
static void check_lines(const char *what, unsigned int n)
{
    static const char *const targets[2] = { "module space", "process mm" };
    unsigned long everyone = (1UL << n) - 1;
    char prefix[96], rest[128];

    for (unsigned int v = 0; v < n; v++)
        for (unsigned int t = 0; t < 2; t++) {
            unsigned int writer = t == 0 ? n - 1 : 0;
            bool toucher = t == 1 && n >= 3 && v == 1;      /* comes and goes: counts of its own */

            snprintf(prefix, sizeof(prefix), "vcpu %u: stress: %s 0x", v, targets[t]);
            if (toucher)
                snprintf(rest, sizeof(rest), ": toucher, ");
            else if (v == writer)
                snprintf(rest, sizeof(rest), ": writer, %u rounds mapped, written, read back, unmapped "
                         "with a flush on vcpus %#lx;", ROUNDS, everyone);
            else
                snprintf(rest, sizeof(rest), ": reader, %u reads of the writer's pattern, %u faults once "
                         "unmapped, no stale read", ROUNDS, ROUNDS);
            if (v == writer && t == 1 && n >= 3 && !has_line(prefix, rest))
                /* the last round's flush: the toucher is in it only if it had the mm then */
                snprintf(rest, sizeof(rest), ": writer, %u rounds mapped, written, read back, unmapped "
                         "with a flush on vcpus %#lx;", ROUNDS, everyone & ~2UL);
            CHECK(has_line(prefix, rest), "%s: a line \"%s...%s\"", what, prefix, rest);
        }
    snprintf(rest, sizeof(rest), " yields until vcpus %#lx had switched away", everyone & ~1UL);
    CHECK(has_line("vcpu 0: stress: free while loaded: mm_free waited ", rest) &&
          !has_line("vcpu 0: stress: free while loaded: mm_free waited 0 ", NULL),
          "%s: the free waited for vcpus %#lx", what, everyone & ~1UL);
}

static void defaults(void)
{
    struct drive_result one;
    char first_log[sizeof(r.log)] = "";
    unsigned int orders = 0;

    /* What a one-vCPU boot leaves typed and pinned: the SMP phase must leave the same. */
    if (!run("1 vCPU", &(struct drive_opts){ .boot = { .builder = BUILD_DOM0, .nr_pages = 65536 },
                                             .no_modules = true }))
        return;
    one = r;

    for (unsigned int n = 2; n <= 4; n++)
        for (uint64_t seed = 1; seed <= 6; seed++) {
            static const unsigned int rates[3] = { 0, 250, 1000 };
            struct drive_opts o = opts(n, seed, rates[seed % 3]);
            char what[64];

            snprintf(what, sizeof(what), "%u vCPUs, seed %lu, %u/1000", n, (unsigned long)seed, o.smp_permille);
            if (!run(what, &o))
                continue;
            if (!CHECK(r.out == OUT_NONE, "%s: %s \"%s\" (refusal \"%s\")", what, outcome_name(r.out), r.msg,
                       r.refusal))
                continue;
            check_lines(what, n);
            CHECK(r.checks_passed == 2, "%s: the self-checks after the SMP phase (%lu)", what, r.checks_passed);
            CHECK(r.typed[FT_L4] == one.typed[FT_L4] && r.typed[FT_L1] == one.typed[FT_L1] &&
                  r.pinned == one.pinned,
                  "%s: L4s %lu, L1s %lu, pinned %lu; one vCPU leaves %lu, %lu, %lu", what, r.typed[FT_L4],
                  r.typed[FT_L1], r.pinned, one.typed[FT_L4], one.typed[FT_L1], one.pinned);
            if (n == 3) {
                if (!first_log[0])
                    memcpy(first_log, r.log, sizeof(first_log));
                else
                    orders += strcmp(first_log, r.log) != 0;
            }
        }
    CHECK(orders > 0, "different seeds gave different interleavings (%u of 5 differ)", orders);

    /* One seed, one interleaving. */
    struct drive_opts o = opts(4, 7, 500);
    char log1[sizeof(r.log)];

    if (run("4 vCPUs, seed 7 (first)", &o)) {
        memcpy(log1, r.log, sizeof(log1));
        if (run("4 vCPUs, seed 7 (again)", &o))
            CHECK(r.out == OUT_NONE && !strcmp(log1, r.log), "seed 7 twice: the same log");
    }
}

static void bug(const char *variant, enum outcome out, const char *in_msg)
{
    for (unsigned int n = 2; n <= 4; n++)
        for (uint64_t seed = 1; seed <= 4; seed++) {
            struct drive_opts o = opts(n, seed, seed % 2 ? 1000 : 100);
            char what[64];

            snprintf(what, sizeof(what), "%s, %u vCPUs, seed %lu", variant, n, (unsigned long)seed);
            if (run(what, &o))
                CHECK(r.out == out && strstr(r.msg, in_msg) && (out != OUT_ERROR || strstr(r.msg, "failed: -16")),
                      "%s: %s \"%s\" (refusal \"%s\"); expected %s "
                      "with \"%s\"", what, outcome_name(r.out), r.msg, r.refusal, outcome_name(out), in_msg);
        }
}

int main(void)
{
    if (!strcmp(TEST_VARIANT, "default"))
        defaults();
    else if (!strcmp(TEST_VARIANT, "bug-notlb"))
        bug(TEST_VARIANT, OUT_FAILURE, "a stale TLB entry (that is the freed frame's new contents)");
    else if (!strcmp(TEST_VARIANT, "bug-freeloaded"))
        bug(TEST_VARIANT, OUT_ERROR, "mm_free: the L4s writable again: mmu_update request 1 of 2 (NORMAL_PT_UPDATE");
    else
        CHECK(false, "no expectations for variant %s", TEST_VARIANT);
    return check_done(TEST_NAME);
}
