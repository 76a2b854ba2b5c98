/* SPDX-License-Identifier: MIT */
/*
 * test_handoff.c - the hand-off run end to end on the model: the shim's
 * real bring-up and checks, then its real handoff.c, plan.c, load.c,
 * switch.c and record.c with a bootpack this test builds, down to the
 * trampoline's mmuext batch and the jump (plat_hosted.c).  The model of
 * Xen validates the next kernel's tables at the pin and refuses whatever
 * breaks its rules; handoff_check.c then judges what the next kernel
 * finds against what went into the bootpack.  Each case also reports the
 * hand-off's hypercalls against the computed minimum, and must meet it.
 *
 * The next kernels, crafted here (tests/unit/craft_image.h):
 *   linux   as Debian's: kernel at 16 MiB, a segment with vaddr 0 placed
 *           by its paddr, INIT_P2M, MOD_START_PFN, a hypercall page
 *   shim    as the shim: kernel at VIRT_BASE, the initrd and p2m list in
 *           the initial mapping
 *
 * Variants (TEST_VARIANT): default (with sanitizers; up to 4 GiB), fast
 * (model_big_handoff: 64 GiB, or 1 TiB with MODEL_BIG=1), and one per
 * hand-off BUG= switch, each of which must be caught for its own reason:
 *   bug-kexec-overwrite  the load writes the new tables into the shim's
 *                        live ones, through their read-only direct mapping:
 *                        the model's rule W stops the first write, where
 *                        the guest takes a page fault under Xen (the e2e
 *                        case bug-kexec-overwrite)
 *   bug-kexec-rwalias    one new table left writable: Xen refuses the pin
 *                        (E4), before the point of no return: an ERROR
 *   bug-kexec-userpin    the shim's user L4 left pinned: the jump happens,
 *                        and the judge finds that L4 still typed and pinned
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "craft_image.h"
#include "driver.h"
#include "handoff/bootpack.h"

#define KiB (1UL << 10)
#define MiB (1UL << 20)
#define GiB (1UL << 30)
#define PG_MiB (MiB / 4096)                 /* guest sizes are in pages */
#define PG_GiB (GiB / 4096)

#define VB        0xffffffff80000000ULL
#define P0        0x1000000ULL              /* Linux's first paddr: 16 MiB */
#define TEXT      (160 * KiB + 123)         /* the first segment's file bytes */
#define INITRD    (1 * MiB + 4567)

static uint8_t text[TEXT], percpu[4096], initrd[INITRD];
static uint8_t kernel[TEXT + 4096 + 4096];
static uint8_t pack[sizeof(kernel) + INITRD + 4096];

struct next {
    const char *name;
    size_t kernel_len, pack_len;
    struct handoff_seg segs[2];
    struct handoff_expect x;
};

static void fill(uint8_t *p, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(test_rand(&seed) >> 56);
}

static void build_pack(struct next *k, const char *cmdline, bool with_initrd)
{
    size_t n = craft_cpio_entry(pack, sizeof(pack), 0, "bootpack", BOOTPACK_MARKER,
                                strlen(BOOTPACK_MARKER), 0100644);

    n = craft_cpio_entry(pack, sizeof(pack), n, "kernel", kernel, k->kernel_len, 0100644);
    if (with_initrd)
        n = craft_cpio_entry(pack, sizeof(pack), n, "initrd", initrd, sizeof(initrd), 0100644);
    n = craft_cpio_entry(pack, sizeof(pack), n, "cmdline", cmdline, strlen(cmdline), 0100644);
    n = craft_cpio_entry(pack, sizeof(pack), n, "TRAILER!!!", "", 0, 0);
    k->pack_len = n;
    k->x.cmdline = cmdline;
    k->x.initrd = with_initrd ? initrd : NULL;
    k->x.initrd_len = with_initrd ? sizeof(initrd) : 0;
}

/* As Debian's vmlinux: two segments, the second with vaddr 0, and Linux's notes. */
static void linux_kernel(struct next *k)
{
    static const uint64_t vb = VB, zero = 0, entry = VB + P0 + 0x100, one = 1, p2m = 0x8000000000ULL;
    static const uint64_t hcall = VB + P0 + 0x2000;
    const struct craft_seg s[] = { { 1, P0, VB + P0, TEXT, 2 * MiB }, { 1, P0 + 2 * MiB, 0, 4096, 8192 } };
    const uint8_t *const data[] = { text, percpu };
    const struct craft_note n[] = {
        { XEN_ELFNOTE_GUEST_OS, "linux", 6 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
        { XEN_ELFNOTE_VIRT_BASE, &vb, 8 }, { XEN_ELFNOTE_PADDR_OFFSET, &zero, 8 },
        { XEN_ELFNOTE_ENTRY, &entry, 8 }, { XEN_ELFNOTE_INIT_P2M, &p2m, 8 },
        { XEN_ELFNOTE_HYPERCALL_PAGE, &hcall, 8 },
        { XEN_ELFNOTE_MOD_START_PFN, &one, 4 }, { XEN_ELFNOTE_LOADER, "generic", 8 },
        { XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb", 42 },
        { XEN_ELFNOTE_PAE_MODE, "yes", 4 },
    };

    k->name = "linux";
    k->kernel_len = craft_elf(kernel, sizeof(kernel), s, data, 2, n, N_ELEMS(n), 0);
    k->segs[0] = (struct handoff_seg){ VB + P0, text, TEXT, 2 * MiB };
    k->segs[1] = (struct handoff_seg){ VB + P0 + 2 * MiB, percpu, 4096, 8192 };
    k->x = (struct handoff_expect){ .entry = entry, .segs = k->segs, .nr_segs = 2, .initrd_by_pfn = true,
                                    .hypercall_page = hcall, .init_p2m = p2m };
}

/* As the shim: one segment at VIRT_BASE, no INIT_P2M, the initrd mapped. */
static void shim_kernel(struct next *k)
{
    static const uint64_t vb = VB, zero = 0, entry = VB + 0x1000;
    const struct craft_seg s[] = { { 1, 0, VB, TEXT, 600 * KiB } };
    const uint8_t *const data[] = { text };
    const struct craft_note n[] = {
        { XEN_ELFNOTE_GUEST_OS, "shim", 5 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
        { XEN_ELFNOTE_VIRT_BASE, &vb, 8 }, { XEN_ELFNOTE_PADDR_OFFSET, &zero, 8 },
        { XEN_ELFNOTE_ENTRY, &entry, 8 }, { XEN_ELFNOTE_LOADER, "generic", 8 },
    };

    k->name = "shim";
    k->kernel_len = craft_elf(kernel, sizeof(kernel), s, data, 1, n, N_ELEMS(n), 0);
    k->segs[0] = (struct handoff_seg){ VB, text, TEXT, 600 * KiB };
    k->x = (struct handoff_expect){ .entry = entry, .segs = k->segs, .nr_segs = 1 };
}

struct hcase {
    enum builder builder;
    unsigned long nr_pages;
    bool linux_like, with_initrd, rd_mapped, record, init_p2m;
    unsigned long hole_pfn, hole_pages;
    const char *shim_cmdline;       /* the first shim's (NULL: none) */
};

static void describe(const struct hcase *c, const struct next *k, char *out, size_t len)
{
    snprintf(out, len, "%s %lu MiB%s%s, next kernel %s%s%s%s%s", c->builder == BUILD_DOM0 ? "dom0" : "domU",
             c->nr_pages >> 8, c->shim_cmdline ? " " : "", c->shim_cmdline ? c->shim_cmdline : "", k->name,
             c->with_initrd ? " + initrd" : "", c->record ? ", record" : "",
             c->rd_mapped ? ", bootpack mapped" : "", c->hole_pages ? ", hole" : "");
}

static struct drive_result r;

static void run(const struct hcase *c, unsigned int timeout_s)
{
    static struct next k;
    char what[160];

    if (c->linux_like)
        linux_kernel(&k);
    else
        shim_kernel(&k);
    build_pack(&k, c->record ? "console=hvc0 handoff-record quiet" : "console=hvc0 quiet", c->with_initrd);
    describe(c, &k, what, sizeof(what));
    if (getenv("MODEL_CASE") && !strstr(what, getenv("MODEL_CASE"))) {
        printf("  %s: not run (MODEL_CASE=%s)\n", what, getenv("MODEL_CASE"));
        return;
    }

    struct drive_opts o = {
        .boot = { .builder = c->builder, .nr_pages = c->nr_pages, .rd_len = k.pack_len, .rd_bytes = pack,
                  .rd_mapped = c->rd_mapped, .init_p2m = c->init_p2m ? 0x8000000000UL : 0,
                  .hole_pfn = c->hole_pfn, .hole_pages = c->hole_pages, .cmdline = c->shim_cmdline },
        .handoff = true, .hx = &k.x, .timeout_s = timeout_s,
        /* setup.c's checks and exercises before the hand-off, as in the guest, up to 64 GiB. */
        .no_modules = c->nr_pages > 64 * PG_GiB, .no_balloon = c->nr_pages > 64 * PG_GiB,
        .no_checks = c->nr_pages > 64 * PG_GiB,
    };

    if (drive(&o, &r) || r.child_died || r.build_failed) {
        CHECK(false, "%s: the run did not finish (%s)", what, r.build_failed ? r.L.err : "child died");
        return;
    }
    if (!strcmp(TEST_VARIANT, "bug-kexec-overwrite")) {
        CHECK(r.out == OUT_RULE && strstr(r.msg, "W: direct write") && strstr(r.msg, "read-only mapping") &&
              strstr(r.msg, "table"),
              "%s: the load writing into a live table is stopped by its read-only mapping (rule W): %s: %s; %s",
              what, outcome_name(r.out), r.msg, r.refusal);
        return;
    }
    if (!strcmp(TEST_VARIANT, "bug-kexec-rwalias")) {
        CHECK(r.out == OUT_ERROR && strstr(r.refusal, "E4:"),
              "%s: Xen refuses the pin of a tree with a writable table (E4), an ERROR before the switch: "
              "%s: %s; %s", what, outcome_name(r.out), r.msg, r.refusal);
        return;
    }
    if (!strcmp(TEST_VARIANT, "bug-kexec-userpin")) {
        CHECK(r.out == OUT_JUMPED && !r.ho.verified && strstr(r.ho.problem, "(its user L4)") &&
              strstr(r.ho.problem, "pinned"),
              "%s: the shim's user L4 is found still pinned after the jump: %s: %s; %s", what,
              outcome_name(r.out), r.msg, r.ho.problem);
        return;
    }
    CHECK(r.out == OUT_JUMPED, "%s: reaches the next kernel's entry: %s: %s (refusal: %s)", what,
          outcome_name(r.out), r.msg, r.refusal);
    if (r.out != OUT_JUMPED)
        return;
    CHECK(r.ho.verified, "%s: the next kernel's state: %s", what, r.ho.problem);
    CHECK(r.ho.hypercalls == r.ho.min_hypercalls,
          "%s: %lu hypercalls from the plan to the jump, the minimum is %lu (read-only %lu, M2P %lu, fixed %lu)",
          what, r.ho.hypercalls, r.ho.min_hypercalls, r.ho.ro_batches, r.ho.m2p_batches, r.ho.fixed);
    if (check_verbose() || strstr(TEST_NAME, "big"))
        printf("  %s: %.2fs; hand-off: %lu hypercalls (minimum %lu: %lu read-only with the pin, %lu M2P "
               "batches for %lu moves, %lu fixed), %lu new tables, %lu of the shim's released, "
               "p2m %lu frames\n", what, r.seconds, r.ho.hypercalls, r.ho.min_hypercalls, r.ho.ro_batches,
               r.ho.m2p_batches, r.ho.moves, r.ho.fixed, r.ho.tables, r.ho.old_tables, r.ho.p2m_entries);
}

int main(void)
{
    static const struct hcase small[] = {
        { BUILD_DOMU, 64 * PG_MiB, true, true, false, true, false, 0, 0, NULL },
        { BUILD_DOM0, 64 * PG_MiB, true, true, false, true, false, 0, 0, NULL },
        { BUILD_DOMU, 64 * PG_MiB, false, true, false, false, false, 0, 0, NULL },
        { BUILD_DOM0, 64 * PG_MiB, false, false, true, false, false, 0, 0, NULL },
        { BUILD_DOMU, 256 * PG_MiB, true, true, false, false, false, 2000, 4096, NULL },
        { BUILD_DOMU, 256 * PG_MiB, false, true, true, true, false, 0, 0, NULL },
        { BUILD_DOM0, 1 * PG_GiB, true, true, false, true, false, 0, 0, NULL },
        { BUILD_DOMU, 4 * PG_GiB, true, true, false, false, true, 0, 0, NULL },
        /* m2p_strict off: one fixed hypercall less (no vm_assist to undo). */
        { BUILD_DOM0, 256 * PG_MiB, true, true, false, false, false, 0, 0, "no-m2p-strict" },
        { BUILD_DOMU, 64 * PG_MiB, false, true, false, true, false, 0, 0, "console=hvc0 no-m2p-strict" },
    };
    static const struct hcase big[] = {
        { BUILD_DOM0, 64 * PG_GiB, true, true, false, false, false, 0, 0, NULL },
        { BUILD_DOMU, 64 * PG_GiB, false, true, false, false, false, 0, 0, NULL },
    };
    static const struct hcase huge[] = {
        { BUILD_DOMU, 1024 * PG_GiB, true, true, false, false, true, 0, 0, NULL },
    };
    const char *env = getenv("MODEL_BIG");

    fill(text, sizeof(text), 1);
    fill(percpu, sizeof(percpu), 2);
    fill(initrd, sizeof(initrd), 3);
    if (!strstr(TEST_NAME, "big")) {
        /* A BUG= variant is shown caught on a domU and a dom0. */
        unsigned int n = strncmp(TEST_VARIANT, "bug-", 4) ? N_ELEMS(small) : 2;

        for (unsigned int i = 0; i < n; i++)
            run(&small[i], 120);
    } else {
        /* make big (MODEL_BIG=1) runs after the suite, which has done the others. */
        bool huge_only = env && *env == '1';

        for (unsigned int i = 0; !huge_only && i < N_ELEMS(big); i++)
            run(&big[i], 600);
        for (unsigned int i = 0; huge_only && i < N_ELEMS(huge); i++)
            run(&huge[i], 1800);
    }
    return check_done(TEST_NAME);
}
