/* SPDX-License-Identifier: MIT */
/*
 * test_phases.c - the shim's real MMU bring-up (mmu_pv.c, p2m.c, batch.c,
 * page_alloc.c, mmu_check.c, balloon.c, p2m_tools.c) booted on the model,
 * for guests of 16 MiB to 4 GiB (64 GiB in model_big), from both builders,
 * with no ramdisk, a mapped one and an unmapped one; built once with the
 * default KERNEL_IMAGE_SIZE and once with 1 GiB (model_phases_1g).
 *
 * What each boot must show, computed here from the builder's layout and
 * not taken from the shim:
 *   - SUCCESS, every hypercall accepted by the model;
 *   - page-table buffer: used = 7 fixed tables + ceil(n/2^27) ident L3s +
 *     ceil(n/2^18) ident L2s + the direct-map L1s not grafted from Xen's
 *     boot L1s (ceil((n - graft)/512)), returned = the grafted ones;
 *   - hypercalls per phase: build = ceil(used/64) window batches + 1,
 *     switch = 1 (5 ops), reclaim = 1 (3 va updates);
 *   - Xen's boot L4/L3/L2 end typeless (or writable) and mapped writable;
 *   - every frame the model has typed as a table is one the shim's own
 *     walk reached (no table leaked by a missed unpin or unhook), exactly
 *     two L4s live and pinned, loaded as kernel and user CR3;
 *   - the builder's p2m list pages all freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "driver.h"

static int drive_rc;
#include "lib/lib.h"

#define MiB (256UL)             /* pages */
#define GiB (262144UL)

static unsigned long ceil_div(unsigned long a, unsigned long b)
{
    return (a + b - 1) / b;
}

struct expect {
    unsigned long used, returned, build_hc, build_entries;
};

/* The bring-up's table budget, from the layout alone (see the header comment). */
static struct expect expected(const struct boot_layout *L, unsigned long n, bool user_l4)
{
    unsigned long mapped = (L->v_end - L->virt_base) >> PAGE_SHIFT;
    unsigned long graft = ALIGN_UP(mapped, 512UL), dmap_l1;
    struct expect e;

    if (graft > ALIGN_UP(n, 512UL))
        graft = ALIGN_UP(n, 512UL);
    dmap_l1 = n > graft ? ceil_div(n - graft, 512) : 0;
    e.used = 6 + user_l4 + ceil_div(n, 1UL << 27) + ceil_div(n, 1UL << 18) + dmap_l1;
    e.returned = 7 + ceil_div(n, 1UL << 27) + ceil_div(n, 1UL << 18) + ceil_div(n, 512) - e.used;
    e.build_hc = ceil_div(e.used, BOOT_WINDOW_PAGES) + 1 + (mapped < graft);
    e.build_entries = e.used + BOOT_WINDOW_PAGES + (graft > mapped ? graft - mapped : 0);
    return e;
}

static const char *describe(const struct boot_cfg *c, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s %lu MiB, ramdisk %lu bytes %s%s%s%s",
                     c->builder == BUILD_DOM0 ? "dom0" : "domU", c->nr_pages >> 8, c->rd_len,
                     c->rd_len ? (c->rd_mapped ? "mapped" : "unmapped") : "", c->init_p2m ? ", INIT_P2M" : "",
                     c->debug_xen ? ", debug Xen" : "", c->no_nx ? ", no NX" : "");

    if (c->hole_pages && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - n, ", hole at pfn %#lx+%lu%s", c->hole_pfn, c->hole_pages,
                 c->vnuma ? " between vNUMA ranges" : "");
    return buf;
}

static unsigned int timeout_s;     /* 0: the driver's default */

static void boot_and_check(const struct boot_cfg *c)
{
    struct drive_opts o = { .boot = *c, .timeout_s = timeout_s };
    struct drive_result r;
    char what[160];
    const struct phase_stat *ps;
    struct expect e;
    unsigned long tables;

    describe(c, what, sizeof(what));
    if (getenv("MODEL_CASE") && !strstr(what, getenv("MODEL_CASE"))) {
        printf("  %s: not run (MODEL_CASE=%s)\n", what, getenv("MODEL_CASE"));
        return;
    }
    drive_rc = drive(&o, &r);
    if (!CHECK(drive_rc == 0 && !r.child_died, "%s: the run completed (status %#x)", what, r.status))
        return;
    if (!CHECK(!r.build_failed, "%s: builder: %s", what, r.L.err))
        return;
    if (!CHECK(r.out == OUT_NONE, "%s: %s: %s (last refusal: %s)", what, outcome_name(r.out), r.msg,
               r.refusal))
        return;
    /* The builder's list: c->nr_pages entries, also where start_info's nr_pages is less (vNUMA). */
    CHECK(r.dmap_pages == c->nr_pages, "%s: the direct map covers %lu pfns, the builder's list has %lu",
          what, r.dmap_pages, c->nr_pages);
    e = expected(&r.L, c->nr_pages, true);
    CHECK(r.pgtbuf_used == e.used && r.pgtbuf_returned == e.returned,
          "%s: pgtbuf used=%lu returned=%lu, computed %lu/%lu", what, r.pgtbuf_used,
          r.pgtbuf_returned, e.used, e.returned);
    ps = drive_phase(&r, "build");
    CHECK(ps && ps->hypercalls == e.build_hc && ps->entries == e.build_entries,
          "%s: build hypercalls=%lu entries=%lu, computed %lu/%lu", what, ps ? ps->hypercalls : 0,
          ps ? ps->entries : 0, e.build_hc, e.build_entries);
    ps = drive_phase(&r, "switch");
    CHECK(ps && ps->hypercalls == 1 && ps->entries == 5, "%s: switch: one mmuext_op of 5", what);
    ps = drive_phase(&r, "reclaim");
    CHECK(ps && ps->hypercalls == 1 && ps->entries == 3, "%s: reclaim: one multicall of 3", what);
    CHECK(r.boot_tables_reclaimed, "%s: Xen's boot L4/L3/L2 are ordinary writable pages: %s", what,
          r.boot_tables_state);
    CHECK(r.initial_mapping == (r.L.v_end - r.L.virt_base) >> PAGE_SHIFT,
          "%s: the shim found %lu mapped pages, the builder mapped %lu", what, r.initial_mapping,
          (r.L.v_end - r.L.virt_base) >> PAGE_SHIFT);
    tables = r.typed[FT_L1] + r.typed[FT_L2] + r.typed[FT_L3] + r.typed[FT_L4];
    CHECK(r.checks_passed == 2 && tables == r.tables_kernel + r.tables_user,
          "%s: %lu frames typed as tables, the shim's walk reached %lu + %lu", what, tables,
          r.tables_kernel, r.tables_user);
    CHECK(r.typed[FT_L4] == 2 && r.pinned == 2 && r.cr3 && r.user_cr3 && r.cr3 != r.user_cr3,
          "%s: two L4s live and pinned (typed %lu, pinned %lu)", what, r.typed[FT_L4], r.pinned);
    if (!c->init_p2m)
        CHECK(r.p2m_freed == ceil_div(c->nr_pages * 8, PAGE_SIZE), "%s: boot p2m list: %lu pages freed",
              what, r.p2m_freed);
    CHECK(!c->rd_len || r.ramdisk_checked, "%s: ramdisk read back through the direct map", what);
    CHECK(strstr(r.log, c->no_nx ? "mmu: image: text read-only; no NX on this CPU"
                                 : "mmu: image: text read-only, data non-executable"),
          "%s: the image protection says what it could apply", what);
    /* Module space: from the end of the kernel map (512 MiB or 1 GiB) to ffffffffff000000. */
    {
        unsigned long image = !strcmp(TEST_VARIANT, "1g") ? 1UL << 30 : 512UL << 20;
        unsigned long slots = (0xffffffffff000000UL - (0xffffffff80000000UL + image)) >> 21;

        CHECK(r.module_slots == slots, "%s: %lu module-space slots exercised, %lu expected", what,
              r.module_slots, slots);
    }
    if (check_verbose() || !strncmp(TEST_NAME, "model_big", 9))
        printf("  %s: %.2fs, %lu hypercalls, %lu entries, %lu validations\n", what, r.seconds,
               r.stats.hypercalls, r.stats.entries, r.stats.validations);
}

/*
 * model_big (no sanitizers): 64 GiB from both builders within the suite;
 * with MODEL_BIG=1 (make big, which runs after the suite) 256 GiB and the
 * dom0 of 1 TiB instead (INIT_P2M: a list of 2 GiB does not fit below the
 * kernel's 1 GiB window).
 * model_big_domu, which only make big runs: the domU of 1 TiB, in a process
 * of its own so that the two 1 TiB boots take a core each.
 */
static int main_big(void)
{
    static const struct boot_cfg big[] = {
        { .builder = BUILD_DOM0, .nr_pages = 64 * GiB },
        { .builder = BUILD_DOMU, .nr_pages = 64 * GiB, .rd_len = 100UL << 20 },
    };
    static const struct boot_cfg huge[] = {
        { .builder = BUILD_DOM0, .nr_pages = 256 * GiB, .rd_len = 100UL << 20, .rd_mapped = true },
        { .builder = BUILD_DOM0, .nr_pages = 1024 * GiB, .init_p2m = 0x8000000000UL },
    };
    static const struct boot_cfg huge_domu = {
        .builder = BUILD_DOMU, .nr_pages = 1024 * GiB, .init_p2m = 0x8000000000UL,
    };
    const char *env = getenv("MODEL_BIG");

    if (!strcmp(TEST_NAME, "model_big_domu")) {
        timeout_s = 1800;
        boot_and_check(&huge_domu);
        return check_done(TEST_NAME);
    }
    if (env && *env == '1') {
        timeout_s = 1800;
        for (unsigned int i = 0; i < N_ELEMS(huge); i++)
            boot_and_check(&huge[i]);
    } else {
        for (unsigned int i = 0; i < N_ELEMS(big); i++)
            boot_and_check(&big[i]);
    }
    return check_done(TEST_NAME);
}

int main(void)
{
    if (!strncmp(TEST_NAME, "model_big", 9))
        return main_big();

    static const unsigned long sizes[] = { 16 * MiB, 256 * MiB, 4 * GiB };
    static const struct { unsigned long len; bool mapped; } rds[] = {
        { 0, false }, { 3 * 1024 * 1024 + 12345, true }, { 3 * 1024 * 1024 + 12345, false },
    };

    /* Regression cases of the rules' test matrix, and hypervisor options. */
    static const struct boot_cfg special[] = {
        /* INIT_P2M (the note at 0x8000000000, as Linux): the list outside the initial mapping. */
        { .builder = BUILD_DOM0, .nr_pages = 256 * MiB, .init_p2m = 0x8000000000UL },
        { .builder = BUILD_DOMU, .nr_pages = 256 * MiB, .init_p2m = 0x8000000000UL },
        { .builder = BUILD_DOM0, .nr_pages = 1 * GiB, .init_p2m = 0x8000000000UL, .rd_len = 100UL << 20 },
        /* A mapped ramdisk taking the initial mapping past 512 MiB (into module space). */
        { .builder = BUILD_DOM0, .nr_pages = 1 * GiB, .rd_len = 600UL << 20, .rd_mapped = true },
        { .builder = BUILD_DOMU, .nr_pages = 1 * GiB, .rd_len = 600UL << 20, .rd_mapped = true },
        /* Ramdisk sizes 100 MiB, 511 MiB, 513 MiB unmapped. */
        { .builder = BUILD_DOM0, .nr_pages = 2 * GiB, .rd_len = 100UL << 20 },
        { .builder = BUILD_DOM0, .nr_pages = 2 * GiB, .rd_len = 511UL << 20 },
        { .builder = BUILD_DOMU, .nr_pages = 2 * GiB, .rd_len = 513UL << 20 },
        /* A debug Xen's reversed p2m; sizes that are not a multiple of 2 MiB. */
        { .builder = BUILD_DOM0, .nr_pages = 512 * MiB, .debug_xen = true },
        { .builder = BUILD_DOM0, .nr_pages = 100 * MiB + 3 },
        { .builder = BUILD_DOMU, .nr_pages = 300 * MiB + 77 },
        /* The guest's m2p_strict opted out; hypervisor options pv-linear-pt=false, no L1TF. */
        { .builder = BUILD_DOM0, .nr_pages = 64 * MiB, .cmdline = "no-m2p-strict" },
        { .builder = BUILD_DOMU, .nr_pages = 64 * MiB, .cmdline = "console=hvc0 no-m2p-strict" },
        { .builder = BUILD_DOMU, .nr_pages = 64 * MiB, .no_linear_pt = true, .no_l1tf_check = true },
        /*
         * Holes in the pseudo-physical map (vNUMA, e820_host): p2m entries
         * INVALID below nr_pages.  One where the page-table buffer would go
         * (just past the initial mapping: it must move), one the page
         * allocator runs into, one that is not 2 MiB aligned.
         */
        { .builder = BUILD_DOMU, .nr_pages = 256 * MiB, .hole_pfn = 1024, .hole_pages = 100 },
        { .builder = BUILD_DOMU, .nr_pages = 256 * MiB, .hole_pfn = 2000, .hole_pages = 4096 },
        { .builder = BUILD_DOMU, .nr_pages = 64 * MiB, .hole_pfn = 1900, .hole_pages = 777,
          .rd_len = 3 << 20 },
        /*
         * The same holes between vNUMA memory ranges, as libxenguest builds
         * them: start_info's nr_pages counts the pages, the list runs to the
         * end of the last range, so RAM lies past nr_pages (the shim reads
         * the ranges: XENMEM_get_vnumainfo).
         */
        { .builder = BUILD_DOMU, .nr_pages = 256 * MiB, .hole_pfn = 2000, .hole_pages = 4096,
          .vnuma = true },
        { .builder = BUILD_DOMU, .nr_pages = 64 * MiB, .hole_pfn = 1900, .hole_pages = 777,
          .rd_len = 3 << 20, .vnuma = true },
        /* A CPU without NX: Xen refuses the bit, so no protection may carry it. */
        { .builder = BUILD_DOM0, .nr_pages = 256 * MiB, .no_nx = true },
        { .builder = BUILD_DOMU, .nr_pages = 256 * MiB, .no_nx = true, .rd_len = 3 << 20 },
    };

    for (unsigned int i = 0; i < N_ELEMS(special); i++)
        boot_and_check(&special[i]);
    for (unsigned int b = 0; b < 2; b++)
        for (unsigned int s = 0; s < N_ELEMS(sizes); s++)
            for (unsigned int d = 0; d < N_ELEMS(rds); d++) {
                struct boot_cfg c = {
                    .builder = b ? BUILD_DOMU : BUILD_DOM0, .nr_pages = sizes[s],
                    .rd_len = rds[d].len, .rd_mapped = rds[d].mapped, .magic_p = true,
                };

                boot_and_check(&c);
            }
    return check_done(TEST_NAME);
}
