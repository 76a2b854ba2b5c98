/* SPDX-License-Identifier: MIT */
/*
 * model_bench.c - the shim's real bring-up (shim/pv/mmu_pv.c, batch.c, p2m.c,
 * ... compiled hosted, unchanged) on the host model of Xen's PV MMU
 * (tests/model: its dom0 builder, hypercalls and type system), timed.
 *
 *     model_bench GIB [p2m]  one dom0 boot of GIB GiB, in this process; with
 *                            "p2m", the image declares XEN_ELFNOTE_INIT_P2M at
 *                            0x8000000000 (as Linux, and as the shim's INIT_P2M=1
 *                            build): the builder maps the p2m list there, which
 *                            it must for 1 TiB (2 GiB of list below 2^64 fails)
 *
 * Linked with -Wl,--wrap=plat_tsc,--wrap=plat_write64,--wrap=plat_read64,
 * --wrap=plat_zero_page: the shim's phase clock (plat_tsc, read only by
 * mmu_phase_begin/end) becomes the host's monotonic clock in ns, and every
 * 8-byte access and page clear the shim makes is counted per phase (a begin
 * and an end alternate on that clock, so its calls delimit the phases).
 *
 * Prints key=value lines (bench/model.py parses them):
 *   boot gib=.. nr_pages=.. outcome=.. seconds=..
 *   phase name=.. hypercalls=.. entries=.. pt_pages=.. ns=.. writes=.. reads=.. zeroed=..
 *   baseline model_ns_per_write=.. native_ns_per_write=..
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "pv/batch.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/page_alloc.h"

void drive_inline(const struct drive_opts *o, struct drive_result *r);

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

/* ------------------------------------------------------------ counting */

struct counts {
    unsigned long writes, reads, zeroed;
};

static struct counts cnt, mark;
static struct { uint64_t ns; struct counts c; } phases[32];
static unsigned int nr_ticks;
static uint64_t begin_ns;

uint64_t __real_plat_tsc(void);
uint64_t __wrap_plat_tsc(void);
void __real_plat_write64(unsigned long va, uint64_t val);
void __wrap_plat_write64(unsigned long va, uint64_t val);
uint64_t __real_plat_read64(unsigned long va);
uint64_t __wrap_plat_read64(unsigned long va);
void __real_plat_zero_page(unsigned long va);
void __wrap_plat_zero_page(unsigned long va);

uint64_t __wrap_plat_tsc(void)
{
    uint64_t t = now_ns();

    if (nr_ticks % 2 == 0) {
        begin_ns = t;
        mark = cnt;
    } else if (nr_ticks / 2 < 32) {
        phases[nr_ticks / 2].ns = t - begin_ns;
        phases[nr_ticks / 2].c = (struct counts){ cnt.writes - mark.writes, cnt.reads - mark.reads,
                                                  cnt.zeroed - mark.zeroed };
    }
    nr_ticks++;
    return t;
}

void __wrap_plat_write64(unsigned long va, uint64_t val)
{
    cnt.writes++;
    __real_plat_write64(va, val);
}

uint64_t __wrap_plat_read64(unsigned long va)
{
    cnt.reads++;
    return __real_plat_read64(va);
}

void __wrap_plat_zero_page(unsigned long va)
{
    cnt.zeroed++;
    __real_plat_zero_page(va);
}

/* ------------------------------------------------------------ baselines */

#define BASE_PAGES 8192UL

static double model_ns_per_write;

/*
 * The model's cost of writing one entry once: 512 writes into each of
 * BASE_PAGES free pages through the direct map, the path the shim's writes
 * take (translation through the simulated tables and TLB, then memory).
 */
static void model_baseline(void *arg)
{
    static unsigned long pfns[BASE_PAGES];
    uint64_t t0, t1;

    (void)arg;
    for (unsigned long i = 0; i < BASE_PAGES; i++)
        pfns[i] = pages_alloc("bench");
    t0 = now_ns();
    for (unsigned long i = 0; i < BASE_PAGES; i++) {
        unsigned long va = pfn_to_virt(pfns[i]);

        for (unsigned int s = 0; s < 512; s++)
            __real_plat_write64(va + s * 8, ((uint64_t)pfns[i] << 12) | s | 0x67);
    }
    t1 = now_ns();
    model_ns_per_write = (double)(t1 - t0) / (BASE_PAGES * 512);
}

/* Plain host memory: what writing an entry costs with no model around it. */
static double native_ns_per_write(void)
{
    const size_t n = 64UL << 20 >> 3;       /* 64 MiB of entries */
    volatile uint64_t *p = malloc(n * sizeof(*p));
    uint64_t t0, t1;

    if (!p)
        return 0;
    for (size_t i = 0; i < n; i++)          /* fault the pages in first */
        p[i] = 0;
    t0 = now_ns();
    for (size_t i = 0; i < n; i++)
        p[i] = (i << 12) | 0x67;
    t1 = now_ns();
    free((void *)p);
    return (double)(t1 - t0) / n;
}

int main(int argc, char **argv)
{
    static struct drive_opts o;
    static struct drive_result r;
    char msg[512];
    unsigned long gib;

    if (argc < 2 || argc > 3 || !(gib = strtoul(argv[1], NULL, 0)) ||
        (argc == 3 && strcmp(argv[2], "p2m"))) {
        fprintf(stderr, "usage: %s GIB [p2m]\n", argv[0]);
        return 2;
    }
    o.boot.builder = BUILD_DOM0;
    o.boot.nr_pages = gib << 18;
    o.boot.init_p2m = argc == 3 ? 0x8000000000UL : 0;
    o.no_checks = true;         /* the self-checks walk every table: a test, not the bring-up */
    o.no_modules = true;        /* module-space exercise: the same at every size */
    o.no_balloon = true;
    drive_inline(&o, &r);
    if (r.build_failed) {
        printf("boot gib=%lu nr_pages=%lu outcome=builder-refused msg=\"%s\"\n", gib,
               o.boot.nr_pages, r.L.err);
        return 1;
    }
    printf("boot gib=%lu nr_pages=%lu init_p2m=%#lx outcome=%s seconds=%.6f initial_mapping=%lu\n",
           gib, o.boot.nr_pages, o.boot.init_p2m, outcome_name(r.out), r.seconds, r.initial_mapping);
    if (r.out != OUT_NONE) {
        printf("error msg=\"%s\"\n", r.msg);
        return 1;
    }
    for (unsigned int i = 0; i < r.nphases && i < nr_ticks / 2; i++)
        printf("phase name=%s hypercalls=%lu entries=%lu pt_pages=%lu ns=%lu writes=%lu reads=%lu "
               "zeroed=%lu\n", r.phase[i].name, r.phase[i].hypercalls, r.phase[i].entries,
               r.phase[i].pt_pages, (unsigned long)phases[i].ns, phases[i].c.writes,
               phases[i].c.reads, phases[i].c.zeroed);
    if (model_run(model_baseline, NULL, msg, sizeof(msg)) != OUT_NONE) {
        printf("error msg=\"baseline: %s\"\n", msg);
        return 1;
    }
    printf("baseline model_ns_per_write=%.3f native_ns_per_write=%.3f\n", model_ns_per_write,
           native_ns_per_write());
    return 0;
}
