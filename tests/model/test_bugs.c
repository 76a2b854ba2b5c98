/* SPDX-License-Identifier: MIT */
/*
 * test_bugs.c - the shim's BUG= switches, each built into its own binary
 * (TEST_VARIANT), must make the boot fail on the model, and the test names
 * who caught it:
 *
 *   bug-fixmap   Xen's boot L2 copied into level2_fixmap (pre-2014 Linux):
 *                Xen accepts it (the boot L1s are valid L1s); the shim's own
 *                mmu_self_check() refuses level2_fixmap[n] != 0, before any
 *                vmalloc in module space would trip over the stale PTEs.
 *   bug-pgtbuf   the page-table buffer's tail left writable and still used
 *                for tables (2011): the model refuses the first hook of
 *                such a page as a table: E4 (an Ln entry to a frame with a
 *                writable mapping), Xen's -EINVAL.
 *   bug-nouser   no user L4, the kernel L4 loaded as user page table: Xen
 *                accepts NEW_USER_BASEPTR(kernel L4); the model's ring-3
 *                audit (U1: the user root maps no kernel slot) catches it
 *                where the guest's usermode test would see the kernel.
 *   bug-p2mcr3   p2m_cr3 published before max_pfn and p2m_vaddr (review,
 *                2026): Xen never looks; the model's rule P, which samples
 *                what a tool would read after each write to shared_info,
 *                sees p2m_cr3 set with max_pfn still 0.
 *   bug-nxalways NX in the protections on a CPU without NX (review, 2026):
 *                Xen refuses the reserved bit, F1 (-EINVAL), at the first
 *                update that carries it; with NX the same build boots.
 *   bug-l1write  set_fixmap stores into the hooked level1_fixmap through its
 *                read-only direct-map address: Xen emulates the write (ptwr),
 *                so real Xen boots it; the model's rule W refuses it.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "driver.h"

static int drive_rc;

struct expectation {
    const char *variant;
    bool strict;                /* the guest's m2p_strict (the default; "no-m2p-strict" opts out) */
    bool no_nx;                 /* the CPU has no NX */
    enum outcome out;
    const char *in_msg;         /* substring of the run's message */
    const char *rule;           /* prefix of the model's last refusal, or NULL */
    const char *who;
};

static const struct expectation expectations[] = {
    { "bug-fixmap", true, false, OUT_FAILURE, "level2_fixmap[", NULL, "mmu_check: level2_fixmap holds more than the fixmap" },
    { "bug-fixmap", false, false, OUT_FAILURE, "level2_fixmap[", NULL, "mmu_check: level2_fixmap holds more than the fixmap" },
    { "bug-pgtbuf", true, false, OUT_ERROR, "mmu_update", "E4:", "model rule E4 (Xen -EINVAL): a table with a writable alias" },
    { "bug-pgtbuf", false, false, OUT_ERROR, "mmu_update", "E4:", "model rule E4 (Xen -EINVAL): a table with a writable alias" },
    /* m2p_strict: NEW_USER_BASEPTR(kernel L4) makes Xen zap the kernel's own M2P slot. */
    { "bug-nouser", true, false, OUT_FAULT, "slot 256 (no M2P mapped)", NULL,
      "Xen's m2p_strict zap (X): the kernel's next M2P read faults" },
    { "bug-nouser", false, false, OUT_RULE, "U1:", NULL, "model rule U1: the user root maps kernel space" },
    { "bug-p2mcr3", true, false, OUT_RULE, "P: p2m_cr3", "P:", "model rule P: tools sample p2m_cr3 before max_pfn" },
    { "bug-p2mcr3", false, false, OUT_RULE, "P: p2m_cr3", "P:", "model rule P: tools sample p2m_cr3 before max_pfn" },
    { "bug-l1write", true, false, OUT_RULE, "W: direct write", "W:", "model rule W: a table written directly" },
    { "bug-nxalways", true, true, OUT_ERROR, "failed: -22", "F1:", "model rule F1 (Xen -EINVAL): NX is reserved" },
    { "bug-l1write", false, false, OUT_RULE, "W: direct write", "W:", "model rule W: a table written directly" },
    /* The control: the same build on a CPU with NX boots. */
    { "bug-nxalways", true, false, OUT_NONE, "", NULL, "nobody: with NX the bit is legal" },
};

int main(void)
{
    static const struct { enum builder b; unsigned long pages, rd; bool mapped; } boots[] = {
        { BUILD_DOM0, 65536, 0, false },
        { BUILD_DOMU, 65536, 0, false },
        { BUILD_DOM0, 1UL << 20, 3 << 20, true },
        { BUILD_DOM0, 262144, 600UL << 20, true },     /* the initial mapping crosses 512 MiB */
    };
    unsigned int found = 0;

    for (unsigned int e = 0; e < N_ELEMS(expectations); e++) {
        const struct expectation *x = &expectations[e];

        if (strcmp(x->variant, TEST_VARIANT))
            continue;
        found++;
        for (unsigned int i = 0; i < N_ELEMS(boots); i++) {
            struct drive_opts o = {
                .boot = { .builder = boots[i].b, .nr_pages = boots[i].pages, .rd_len = boots[i].rd,
                          .rd_mapped = boots[i].mapped, .cmdline = x->strict ? "" : "no-m2p-strict",
                          .no_nx = x->no_nx },
            };
            struct drive_result r;

            drive_rc = drive(&o, &r);
            if (!CHECK(drive_rc == 0 && !r.child_died && !r.build_failed, "%s boot %u ran (%s)",
                       x->variant, i, r.L.err))
                continue;
            CHECK(r.out == x->out && strstr(r.msg, x->in_msg) &&
                  (!x->rule || !strncmp(r.refusal, x->rule, strlen(x->rule))),
                  "%s%s boot %u (%s %lu MiB): %s \"%s\", refusal \"%s\"; expected %s by %s", x->variant,
                  x->strict ? "" : " no-m2p-strict", i, boots[i].b == BUILD_DOM0 ? "dom0" : "domU",
                  boots[i].pages >> 8, outcome_name(r.out), r.msg, r.refusal, outcome_name(x->out), x->who);
        }
    }
    CHECK(found == 2, "expectations for variant %s", TEST_VARIANT);
    return check_done(TEST_NAME);
}
