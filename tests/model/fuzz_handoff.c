/* SPDX-License-Identifier: MIT */
/*
 * fuzz_handoff.c - libFuzzer over the hand-off's parsers, as the guest runs
 * them on a ramdisk it cannot trust: shim/handoff/bootpack.c on the whole
 * input, then shim/handoff/xen_elf.c on the kernel it found (or on the whole
 * input, so that ELF mutations need no archive around them).  Either may
 * refuse; what must hold is that they never read outside the buffer (ASan),
 * never overflow (UBSan), always say why they refused, and that an accepted
 * image keeps libelf's invariants.
 *
 * An accepted kernel then goes through the planner (shim/handoff/plan.c) and
 * the load (load.c) on a small domain whose size, initrd, rings, holes and
 * live frames the input's bytes choose: the moves must be sorted, lose no
 * frame and keep every written pfn off live frames and holes; the load
 * may write only the plan's pfns, each through a free frame (or a ring's
 * slot, which it must not write at all), and every table entry it makes
 * must point inside the plan.
 *
 *   make fuzz FUZZ_TARGET=handoff [FUZZ_TIME=60]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/bootpack.h"
#include "handoff/load.h"
#include "handoff/plan.h"
#include "handoff/xen_elf.h"

#define MAX_PFNS 32768                  /* a 128 MiB domain at most: the load writes real pages */

static uint8_t mem[MAX_PFNS][4096];
static uint8_t live[MAX_PFNS], hole[MAX_PFNS];
static struct plan_move moves[2 * MAX_PFNS + 2];
static struct plan_out plan;
static unsigned long nr;
static unsigned long n_planned, n_refused, n_loaded;   /* HANDOFF_FUZZ_STATS=1: printed at exit */

static void print_stats(void)
{
    fprintf(stderr, "fuzz_handoff: %lu plans made, %lu refused, %lu loads\n", n_planned, n_refused,
            n_loaded);
}

static bool f_ram(unsigned long pfn, void *arg)
{
    (void)arg;
    if (pfn >= nr)
        abort();                        /* the planner asked past the domain */
    return !hole[pfn];
}

static bool f_live(unsigned long pfn, void *arg)
{
    (void)arg;
    if (pfn >= nr)
        abort();
    return live[pfn];
}

static unsigned long from_of(unsigned long x)
{
    return plan_from(moves, plan.nr_moves, x);
}

static unsigned long f_mfn(unsigned long x, void *arg)
{
    unsigned long f = from_of(x);

    (void)arg;
    return x < nr && f != PLAN_NO_FRAME && !hole[f] ? f + 0x1000 : LOAD_INVALID_MFN;
}

static uint8_t *f_page(unsigned long x, void *arg)
{
    unsigned long f = from_of(x);

    (void)arg;
    if (x >= plan.last_pfn || f == PLAN_NO_FRAME || live[f] || hole[f] || plan_is_ring_slot(&plan, x))
        abort();                        /* a write outside the plan, or into a live frame */
    return mem[f];
}

static void f_write_words(unsigned long x, const uint64_t *w, void *arg)
{
    memcpy(f_page(x, arg), w, PAGE_SIZE);
}

/* The input's bytes, read as a little stream of choices. */
static uint64_t pick(const uint8_t *data, size_t size, size_t *at, unsigned int bytes)
{
    uint64_t v = 0;

    for (unsigned int i = 0; i < bytes; i++, (*at)++)
        v |= (uint64_t)(size ? data[*at % size] : 0) << (8 * i);
    return v;
}

static void check_plan(const struct xen_elf *x, const uint8_t *image, size_t image_len,
                       const uint8_t *data, size_t size)
{
    size_t at = size > 64 ? size - 64 : 0;
    unsigned int live_every = 2 + pick(data, size, &at, 1) % 14, hole_every = pick(data, size, &at, 1);
    static char cmdline[64] = "console=hvc0 fuzz";
    start_info_t si = { .magic = "xen-3.0-x86_64", .flags = 0 };
    struct plan_in in = { .kernel = x, .ram = f_ram, .live = f_live };
    unsigned long frames = 0, placed = 0;
    static unsigned long seen[MAX_PFNS];
    char why[256] = "";

    nr = 256 + pick(data, size, &at, 2) % (MAX_PFNS - 256);
    in.nr_pages = nr;
    in.initrd_len = pick(data, size, &at, 3) % (nr * 2048);
    in.ring_pages = pick(data, size, &at, 1) & 1;
    for (unsigned long i = 0; i < nr; i++) {
        uint64_t r = pick(data, size, &at, 1) * 2654435761u + i * 40503u;

        live[i] = r % live_every == 0;
        hole[i] = !live[i] && hole_every && (r >> 8) % (hole_every + 2) == 0;
    }
    if (in.ring_pages) {
        in.store_pfn = pick(data, size, &at, 2) % nr;
        in.console_pfn = pick(data, size, &at, 2) % nr;
        live[in.store_pfn] = live[in.console_pfn] = 1;
        hole[in.store_pfn] = hole[in.console_pfn] = 0;
    }
    for (unsigned long i = 0; i < nr; i++)
        frames += !hole[i];
    if (!n_planned && !n_refused && getenv("HANDOFF_FUZZ_STATS"))
        atexit(print_stats);
    if (!handoff_plan(&in, &plan, moves, sizeof(moves) / sizeof(moves[0]), why, sizeof(why))) {
        if (!why[0])
            abort();
        n_refused++;
        return;
    }
    n_planned++;
    if (plan.last_pfn > nr || plan.region_pages > nr)
        abort();                        /* planned past the domain */
    /* The moves: sorted, each pfn of the domain once; no frame lost; written pfns on free frames. */
    for (unsigned long i = 0; i < nr; i++)
        seen[i] = 0;
    for (unsigned long m = 0; m < plan.nr_moves; m++)
        if (moves[m].pfn >= nr || (m && moves[m - 1].pfn >= moves[m].pfn) ||
            (moves[m].from != PLAN_NO_FRAME && moves[m].from >= nr))
            abort();
    for (unsigned long i = 0; i < nr; i++) {
        unsigned long f = from_of(i);

        if (f == PLAN_NO_FRAME || hole[f])
            continue;
        if (seen[f]++)
            abort();                    /* one frame at two pfns */
        placed++;
        if (i < plan.last_pfn && !plan_is_ring_slot(&plan, i) && live[f])
            abort();                    /* a written pfn on a live frame */
    }
    if (placed != frames)
        abort();                        /* a frame lost */
    if (in.ring_pages && (from_of(plan.xenstore.pfn) != in.store_pfn ||
                          from_of(plan.console.pfn) != in.console_pfn))
        abort();                        /* a ring not in its slot */
    /* The load, into real pages; then every table entry inside the plan. */
    struct load_in ld = { .kernel = x, .image = image, .initrd = image, .cmdline = cmdline,
                          .cmdline_len = strlen(cmdline), .plan = &plan, .si = &si, .nr_pages = nr,
                          .mfn = f_mfn, .page = f_page, .write_words = f_write_words };
    ld.initrd_len = in.initrd_len < image_len ? in.initrd_len : image_len;
    if (ld.initrd_len != in.initrd_len)
        return;                         /* the initrd's bytes come from the input: not enough */
    handoff_load(&ld);
    n_loaded++;
    for (unsigned long i = 0; i < nr; i++)
        seen[i] = ~0UL;
    for (unsigned long i = 0; i < nr; i++)
        if (from_of(i) != PLAN_NO_FRAME)
            seen[from_of(i)] = i;       /* now: frame -> next pfn */
    for (unsigned int m = 0; m < plan.nr_maps; m++)
        for (unsigned int l = 0; l < 4; l++)
            for (unsigned long t = 0; t < plan.map[m].lv[l].count; t++) {
                const uint64_t *e = (const uint64_t *)mem[from_of(plan.map[m].lv[l].pfn + t)];

                for (unsigned int s = 0; s < 512; s++) {
                    unsigned long f = ((e[s] >> 12) & 0xffffffffffUL) - 0x1000, p;

                    if (!e[s])
                        continue;
                    if (f >= nr || (p = seen[f]) >= plan.last_pfn)
                        abort();        /* an entry outside what the plan wrote */
                    if (l && !plan_is_table(&plan, p))
                        abort();        /* an upper entry that is not one of the plan's tables */
                    if (!l && plan_is_table(&plan, p) && (e[s] & 2))
                        abort();        /* a page table mapped writable */
                }
            }
}

static void check_elf(const uint8_t *data, size_t size, const uint8_t *all, size_t all_size)
{
    struct xen_elf x;
    char why[256] = "";

    if (!xen_elf_parse(data, size, &x, why, sizeof(why))) {
        if (!why[0])
            abort();                    /* a refusal must say why */
        return;
    }
    if (x.virt_kstart > x.virt_kend || x.entry < x.virt_kstart || x.entry > x.virt_kend ||
        x.virt_base > x.virt_kstart || !x.nr_loads)
        abort();                        /* accepted what libelf refuses */
    for (unsigned int i = 0; i < x.nr_loads; i++)
        if (x.load[i].offset > size || x.load[i].filesz > size - x.load[i].offset ||
            x.load[i].filesz > x.load[i].memsz)
            abort();                    /* a segment the loader would copy from outside the file */
    check_plan(&x, data, size, all, all_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bootpack bp;
    char why[256] = "";

    if (bootpack_is(data, size)) {
        if (bootpack_parse(data, size, &bp, why, sizeof(why))) {
            if (bp.kernel.data < data || bp.kernel.data + bp.kernel.len > data + size)
                abort();
            check_elf(bp.kernel.data, bp.kernel.len, data, size);
        } else if (!why[0]) {
            abort();
        }
        return 0;
    }
    check_elf(data, size, data, size);
    return 0;
}
