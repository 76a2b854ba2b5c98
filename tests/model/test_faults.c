/* SPDX-License-Identifier: MIT */
/*
 * test_faults.c - fault injection: every hypercall of a clean boot made to
 * fail in turn, then a sample of the entries inside the batches.  Every
 * such run must end in an ERROR (mmu_error, or setup.c's own for
 * XENMEM_machphys_mapping) whose message names the call that failed:
 *
 *   mmu_update -> "mmu_update", mmuext_op -> "mmuext_op" (and the op for
 *   an entry, e.g. "PIN_L4_TABLE"), multicall -> "multicall", an
 *   update_va_mapping entry -> "update_va_mapping", memory_op -> "XENMEM_";
 *
 * never a FAILURE, a page fault, a domain crash, a hung or crashed child
 * or a sanitizer report (the child exits non-zero).  The sweep runs on a
 * dom0 and on a domU with INIT_P2M (whose boot list is unhooked by its own
 * calls); the distinct call sites reached ("phase: kind") are counted.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "driver.h"

static int drive_rc;

#define MAX_SITES 256

static char sites[MAX_SITES][160];
static unsigned int nr_sites;

static void note_site(const char *msg, const char *what)
{
    char site[160];
    const char *colon = strchr(msg, ':');
    int n = colon ? (int)(colon - msg) : 0;

    if (n > 20)
        n = 0;                  /* not a "phase:" prefix */
    snprintf(site, sizeof(site), "%.*s%s%s", n, msg, n ? ": " : "", what);
    for (unsigned int i = 0; i < nr_sites; i++)
        if (!strcmp(sites[i], site))
            return;
    if (nr_sites < MAX_SITES)
        snprintf(sites[nr_sites++], sizeof(sites[0]), "%s", site);
}

/* The word the ERROR must contain for an injected failure of `what`. */
static const char *expected_word(const char *what)
{
    if (!strncmp(what, "mmu_update", 10))
        return "mmu_update";
    if (!strncmp(what, "mmuext_op", 9))
        return "mmuext_op";
    if (!strcmp(what, "multicall") || !strcmp(what, "update_va_mapping") || !strcmp(what, "memory_op"))
        return !strcmp(what, "memory_op") ? "XENMEM_" : what;
    if (!strcmp(what, "populate_physmap") || !strcmp(what, "decrease_reservation") || !strcmp(what, "vm_assist"))
        return what;
    return what;                /* an mmuext op name, e.g. PIN_L4_TABLE */
}

static void one(const struct boot_cfg *c, bool entry, unsigned long k, long rc, const char *label)
{
    struct drive_opts o = { .boot = *c, .fail_rc = rc, .timeout_s = 30 };
    struct drive_result r;
    const char *word;

    if (entry)
        o.fail_entry = k;
    else
        o.fail_call = k;
    drive_rc = drive(&o, &r);
    if (!CHECK(drive_rc == 0 && !r.child_died, "%s %s %lu: the child died (status %#x): crash, hang "
               "or sanitizer report", label, entry ? "entry" : "call", k, r.status))
        return;
    if (!CHECK(r.inj_fired, "%s %s %lu: the injection did not fire (%s)", label, entry ? "entry" : "call", k,
               outcome_name(r.out)))
        return;
    word = expected_word(r.inj_what);
    CHECK(r.out == OUT_ERROR && strstr(r.msg, word), "%s %s %lu (%s): %s \"%s\", want an ERROR naming %s", label,
          entry ? "entry" : "call", k, r.inj_what, outcome_name(r.out), r.msg, word);
    if (r.out == OUT_ERROR)
        note_site(r.msg, r.inj_what);
}

static void sweep(const struct boot_cfg *c, const char *label, unsigned long entry_stride)
{
    struct drive_opts o = { .boot = *c };
    struct drive_result clean;
    unsigned long calls, entries, k;

    drive_rc = drive(&o, &clean);

    if (!CHECK(drive_rc == 0 && !clean.child_died && clean.out == OUT_NONE, "%s: clean run: %s %s",
               label, outcome_name(clean.out), clean.msg))
        return;
    calls = clean.stats.hypercalls;
    entries = clean.entry_seq;
    if (check_verbose())
        printf("  %s: %lu hypercalls, %lu entries in a clean run\n", label, calls, entries);

    /* Every hypercall, with two error codes in turn. */
    for (k = 1; k <= calls; k++)
        one(c, false, k, k & 1 ? -EINVAL : -EBUSY, label);
    /* Every entry of the first 600, then a stride through the rest (modules, balloon). */
    for (k = 1; k <= entries; k += k < 600 ? 1 : entry_stride)
        one(c, true, k, k % 3 ? -EINVAL : -ENOMEM, label);
    one(c, true, entries, -EPERM, label);
}

int main(void)
{
    const struct boot_cfg dom0 = { .builder = BUILD_DOM0, .nr_pages = 4096, .rd_len = 100000, .rd_mapped = true };
    const struct boot_cfg domu = { .builder = BUILD_DOMU, .nr_pages = 8192, .init_p2m = 0x8000000000UL,
                                   .rd_len = 100000 };

    sweep(&dom0, "dom0 16 MiB", 41);
    sweep(&domu, "domU 32 MiB INIT_P2M", 97);
    CHECK(nr_sites >= 20, "distinct call sites reached: %u", nr_sites);
    if (check_verbose())
        for (unsigned int i = 0; i < nr_sites; i++)
            printf("  site: %s\n", sites[i]);
    printf("%s: %u distinct call sites failed in turn\n", TEST_NAME, nr_sites);
    return check_done(TEST_NAME);
}
