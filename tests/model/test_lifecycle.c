/* SPDX-License-Identifier: MIT */
/*
 * test_lifecycle.c - the shim's suspend and resume (shim/pv/suspend.c, the
 * code the guest runs) against libxenguest's save and restore on the model
 * (toolstack.c): every mfn renumbered, tables normalised and localised,
 * the pinned ones pinned again, the p2m leaves rewritten, the frame list
 * list zeroed.  The host computes what must come out: the pfns the save
 * walks (the balloon test's far pfn), the RAM, the leaves; the shim's own
 * proof (table hash, test pages, ramdisk, p2m and M2P, pins, self-checks)
 * runs after every resume.
 *
 *   default      save/restore and checkpoints, list and tree, INIT_P2M, a
 *                ramdisk; a fault injected into every hypercall from the
 *                suspend on must end in a clean ERROR or FAILURE
 *   bug-stale-p2m-cr3   the second save cannot walk the p2m from the old L4
 *   bug-no-pfn-swap     the store mfn left in start_info: the restore reads
 *                       it as a pfn (out of range, or with no frame: "has
 *                       bad mfn", as on Xen in the rig; or the wrong page,
 *                       which the shim's check of start_info names)
 *   bug-shinfo-mapped   the fixmap's L1 is sent without data: only the
 *                       shim's table hash after the resume sees it
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "driver.h"

#define MIB_PAGES(m) ((unsigned long)(m) << 8)

/* balloon.c's far pfn: the p2m grows to it and keeps that size. */
static unsigned long far_max_pfn(unsigned long pages)
{
    return ((pages + (1UL << 18) - 1) & ~((1UL << 18) - 1)) + (1UL << 18) + 5 + 1;
}

static struct drive_result r;

static bool run(const char *what, const struct drive_opts *o)
{
    int rc = drive(o, &r);

    return CHECK(rc == 0 && !r.child_died && !r.build_failed, "%s: the boot ran (%s)", what, r.L.err);
}

static unsigned int count_lines(const char *needle)
{
    unsigned int n = 0;

    for (const char *p = r.log; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* A run that must succeed: every round's line with its rc, the toolstack's counts. */
static void lifecycle_ok(const char *what, const struct drive_opts *o, bool tree)
{
    unsigned long pages = o->boot.nr_pages, max_pfn = far_max_pfn(pages);
    unsigned int n = (unsigned int)strlen(o->lifecycle);
    char line[64];

    if (!run(what, o))
        return;
    CHECK(r.out == OUT_NONE && r.suspends == n, "%s: %s \"%s\" (refusal \"%s\") after %u of %u suspends",
          what, outcome_name(r.out), r.msg, r.refusal, r.suspends, n);
    for (unsigned int k = 0; k < n && k < r.suspends; k++) {
        const struct ts_counts *c = &r.ts[k];
        bool restore = o->lifecycle[k] == 'r';

        const char *round, *report;
        unsigned long frames = 0;

        snprintf(line, sizeof(line), "suspend: round %u rc=%d tables=", k + 1, restore ? 0 : 1);
        round = strstr(r.log, line);
        CHECK(round != NULL, "%s: round %u: the shim printed \"%s...ok\"", what, k + 1, line);
        /* In a new domain every frame moved, the 64 test pages and both L4s among them. */
        const char *moved = round ? strstr(round, restore ? "moved=66 " : "moved=0 ") : NULL;

        CHECK(moved && moved < strchr(round, '\n'),
              "%s: round %u: the shim saw %s of its 66 watched frames move", what, k + 1, restore ? "all" : "none");
        /* The pages Xen typed L1-L4 at the save are the tables the shim reported before it. */
        snprintf(line, sizeof(line), "lifecycle: round %u report: p2m %lu pfns", k, max_pfn);
        report = strstr(r.log, line);
        if (report)
            report = strstr(report, "; tables ");
        CHECK(report && sscanf(report, "; tables %lu frames", &frames) == 1 && frames == c->tables,
              "%s: round %u: the save found %lu typed tables, the shim reported %lu", what, k + 1, c->tables,
              frames);
        CHECK(c->max_pfn == max_pfn && c->via_list == !tree && c->ram == pages && c->dropped == 0 &&
              c->pinned >= 2 && c->tables > c->pinned && c->moved == (restore ? pages : 0) &&
              c->leaves == (restore ? (max_pfn + 511) / 512 : 0),
              "%s: round %u: the save walked %lu pfns via the %s (want %lu via the %s), %lu RAM (want %lu), "
              "%lu tables, %lu pinned, %lu dropped; the restore moved %lu frames, rewrote %lu leaves",
              what, k + 1, c->max_pfn, c->via_list ? "list" : "tree", max_pfn, tree ? "tree" : "list",
              c->ram, pages, c->tables, c->pinned, c->dropped, c->moved, c->leaves);
    }
    snprintf(line, sizeof(line), "resume: p2m and M2P agree for all %lu RAM pfns", pages);
    CHECK(count_lines(line) == n, "%s: \"%s\" after each of %u resumes (%u)", what, line, n, count_lines(line));
    CHECK(count_lines("resume: cost rc=") == n, "%s: a resume cost line per round", what);
}

static void default_variant(void)
{
    static const struct { const char *what, *ops; unsigned long mib, rd; bool mapped, tree; unsigned long init_p2m; }
    cases[] = {
        { "save+restore twice, 256 MiB", "rr", 256, 0, false, false, 0 },
        { "two checkpoints, then save+restore", "ccr", 128, 0, false, false, 0 },
        { "the 3-level frame list (p2m-tree)", "rr", 128, 0, false, true, 0 },
        { "INIT_P2M", "rr", 128, 0, false, false, 0x8000000000UL },
        { "a 24 MiB ramdisk", "rcr", 128, 24UL << 20, false, false, 0 },
        { "a mapped 24 MiB ramdisk", "r", 128, 24UL << 20, true, false, 0 },
        { "2 GiB", "r", 2048, 0, false, false, 0 },
    };
    struct drive_opts o;
    unsigned long boot_calls, all_calls, fired = 0, clean = 0;

    for (unsigned int i = 0; i < N_ELEMS(cases); i++) {
        o = (struct drive_opts){
            .boot = { .builder = BUILD_DOMU, .nr_pages = MIB_PAGES(cases[i].mib), .rd_len = cases[i].rd,
                      .rd_mapped = cases[i].mapped, .init_p2m = cases[i].init_p2m,
                      .cmdline = cases[i].tree ? "p2m-tree" : "" },
            .lifecycle = cases[i].ops,
        };
        lifecycle_ok(cases[i].what, &o, cases[i].tree);
        if (cases[i].rd)
            CHECK(count_lines("ramdisk=same ok") == strlen(cases[i].ops), "%s: the ramdisk's hash held",
                  cases[i].what);
    }

    /*
     * Fault injection: every hypercall from the suspend on (the suspend
     * itself, shared_info's mapping, the pins, the mmu_update, the self-
     * checks' and the exercises') fails once, in turn.  Each must end the
     * run with the shim's ERROR or FAILURE naming it: no fault, crash,
     * broken rule or silent success.
     */
    /* -ENOMEM: -EINVAL is what pinning a table that is still pinned must answer anyway. */
    o = (struct drive_opts){ .boot = { .builder = BUILD_DOMU, .nr_pages = MIB_PAGES(64) }, .fail_rc = -12 };
    if (!run("no lifecycle", &o))
        return;
    boot_calls = r.stats.hypercalls;
    o.lifecycle = "r";
    if (!run("one save+restore", &o) || !CHECK(r.out == OUT_NONE, "one save+restore: %s", r.msg))
        return;
    all_calls = r.stats.hypercalls;
    CHECK(all_calls > boot_calls + 5, "the lifecycle makes hypercalls (%lu, %lu without)", all_calls, boot_calls);
    for (unsigned long k = boot_calls + 1; k <= all_calls; k++) {
        o.fail_call = k;
        if (!run("injection", &o))
            continue;
        if (!r.inj_fired)
            continue;
        fired++;
        clean += CHECK((r.out == OUT_ERROR || r.out == OUT_FAILURE) && r.msg[0],
                       "hypercall %lu (%s) failing: %s \"%s\" (refusal \"%s\")", k, r.inj_what,
                       outcome_name(r.out), r.msg, r.refusal);
    }
    CHECK(fired == all_calls - boot_calls, "every one of the %lu hypercalls after the boot was injected (%lu)",
          all_calls - boot_calls, fired);
    printf("  fault injection: %lu hypercalls from the suspend on, each failed once: %lu clean ERROR/FAILURE\n",
           fired, clean);
}

static void bug_variant(void)
{
    struct drive_opts o = {
        .boot = { .builder = BUILD_DOMU, .nr_pages = MIB_PAGES(128) },
        .lifecycle = "rr",
    };

    if (!run(TEST_VARIANT, &o))
        return;
    if (!strcmp(TEST_VARIANT, "bug-stale-p2m-cr3")) {
        /*
         * The old L4's frame: on Xen the restore often reuses it (it reads 0:
         * "Bad mfn 0 ..."), on the model it lies outside the new domain.
         */
        CHECK(r.out == OUT_TOOLSTACK && r.suspends == 1 && strstr(r.log, "suspend: round 1 rc=0 ") &&
              (strstr(r.msg, "Bad mfn 0 during page table walk for vaddr") ||
               strstr(r.msg, "Failed to map 1 page table pages")) && strstr(r.msg, "for p2m list"),
              "stale p2m_cr3: after one restore, the second save cannot walk the p2m: %s \"%s\" after "
              "%u suspend(s)", outcome_name(r.out), r.msg, r.suspends);
    } else if (!strcmp(TEST_VARIANT, "bug-no-pfn-swap")) {
        CHECK(r.suspends == 1 &&
              ((r.out == OUT_TOOLSTACK && (strstr(r.msg, "XenStore pfn has bad mfn") ||
                                           (strstr(r.msg, "XenStore pfn ") && strstr(r.msg, "out of range")))) ||
               (r.out == OUT_ERROR && strstr(r.msg, "start_info.store_mfn") && strstr(r.msg, "is not pfn"))),
              "store mfn left: the restore reads it as a pfn: %s \"%s\"", outcome_name(r.out), r.msg);
    } else {
        CHECK(r.out == OUT_FAILURE && r.suspends == 1 && r.ts[0].dropped == 1 &&
              strstr(r.msg, "the tables changed"),
              "shared_info mapped: one table sent without data (%lu), caught by the table hash: %s \"%s\"",
              r.ts[0].dropped, outcome_name(r.out), r.msg);
    }
}

/*
 * The fast build (no sanitizers), as large as the model boots: one save
 * and restore renumbers every frame and rewrites every table.  1 TiB with
 * MODEL_BIG=1 (make -C tests/model big); MODEL_LIFECYCLE_GIB=n for one size.
 */
static void big_variant(void)
{
    const char *one = getenv("MODEL_LIFECYCLE_GIB");
    unsigned long gib[] = { 64, getenv("MODEL_BIG") ? 1024 : 0 };

    if (one)
        gib[0] = strtoul(one, NULL, 10), gib[1] = 0;
    for (unsigned int i = 0; i < N_ELEMS(gib) && gib[i]; i++) {
        struct drive_opts o = {
            .boot = { .builder = BUILD_DOMU, .nr_pages = MIB_PAGES(gib[i] << 10), .init_p2m = 0x8000000000UL },
            .lifecycle = "r",
            .no_modules = true,
            .timeout_s = 1800,
        };
        char what[64];

        snprintf(what, sizeof(what), "%lu GiB, INIT_P2M", gib[i]);
        lifecycle_ok(what, &o, false);
        printf("  %s: one save and restore on the model, boot included: %.1fs\n", what, r.seconds);
    }
    if (!one && !gib[1])
        printf("  1024 GiB: not in this run: make -C tests/model lifecycle-big (about 2 min and 16 GiB of "
               "host memory on 2 cores)\n");
}

int main(void)
{
    if (!strcmp(TEST_VARIANT, "default"))
        default_variant();
    else if (!strcmp(TEST_VARIANT, "fast"))
        big_variant();
    else
        bug_variant();
    return check_done(TEST_NAME);
}
