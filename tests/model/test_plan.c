/* SPDX-License-Identifier: MIT */
/*
 * test_plan.c - the hand-off's planner (shim/handoff/plan.c).
 *
 * Layout: for the shim's own image as the next kernel, from 64 MiB to
 * 64 GiB, with a mapped, an unmapped or no initrd, with and without
 * INIT_P2M, every address and count must equal what the model's domU
 * builder (builder.c, libxenguest's layout, proven against real `xl
 * create` by the rig) makes for the same image: start_info, the page
 * tables and their count, the stack, the region's end, the p2m list, the
 * unmapped initrd's pfn, INIT_P2M's frames.  Mapped initrds a step apart
 * move the region's end across 4 MiB boundaries, where the padding, the
 * stack and the tables' fixed point decide it.
 *
 * Frames: on layouts with live frames and holes strewn through the region,
 * and the rings inside it or past it, the renumbering must be a bijection
 * that loses no frame, the rings must land in their slots, no other written
 * pfn may keep a live frame or a hole, and the next p2m and its M2P must
 * agree, entry for entry.  And the refusals, each named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "builder.h"
#include "handoff/plan.h"

#define MiB (1UL << 20)
#define GiB (1UL << 30)

static bool all_ram(unsigned long pfn, void *arg)
{
    (void)pfn;
    (void)arg;
    return true;
}

static bool none_live(unsigned long pfn, void *arg)
{
    (void)pfn;
    (void)arg;
    return false;
}

static struct plan_move moves[1 << 21];

static void layout_case(unsigned long bytes, unsigned long rd, bool rd_mapped, unsigned long init_p2m)
{
    struct boot_cfg c = { .builder = BUILD_DOMU, .nr_pages = bytes >> 12, .rd_len = rd,
                          .rd_mapped = rd_mapped, .init_p2m = init_p2m };
    struct boot_layout L;
    struct xen_elf k = { .virt_base = 0, .init_p2m = XEN_ELF_UNSET, .hypercall_page = XEN_ELF_UNSET };
    struct plan_in in;
    struct plan_out p;
    char what[128], why[256] = "";

    snprintf(what, sizeof(what), "%lu MiB, initrd %lu%s%s", bytes >> 20, rd,
             rd ? (rd_mapped ? " mapped" : " by pfn") : "", init_p2m ? ", INIT_P2M" : "");
    if (!CHECK(build_boot(&c, &L) == 0, "%s: the model's builder: %s", what, L.err))
        return;
    k.virt_base = k.virt_kstart = L.virt_base;
    k.virt_kend = L.vkern_end;
    k.mod_start_pfn = !rd_mapped;
    k.init_p2m = init_p2m ? init_p2m : XEN_ELF_UNSET;
    in = (struct plan_in){ .kernel = &k, .nr_pages = c.nr_pages, .initrd_len = rd, .ring_pages = true,
                           .ram = all_ram, .live = none_live };
    if (!CHECK(handoff_plan(&in, &p, NULL, 0, why, sizeof(why)), "%s: plan: %s", what, why))
        return;
    CHECK(p.start_info.va == L.vstartinfo_start && p.xenstore.va == L.vxenstore_start &&
          p.console.va == L.vconsole_start, "%s: start_info %#lx, builder %#lx", what,
          (unsigned long)p.start_info.va, L.vstartinfo_start);
    CHECK(p.pgtables.va == L.vpt_start && p.tables.total == L.nr_pt_frames &&
          p.tables.count[2] == L.nr_l3 && p.tables.count[1] == L.nr_l2 && p.tables.count[0] == L.nr_l1,
          "%s: tables at %#lx: %lu (L3 %lu L2 %lu L1 %lu), builder %#lx: %lu (%lu %lu %lu)", what,
          (unsigned long)p.pgtables.va, p.tables.total, p.tables.count[2], p.tables.count[1],
          p.tables.count[0], L.vpt_start, L.nr_pt_frames, L.nr_l3, L.nr_l2, L.nr_l1);
    CHECK(p.stack.va == L.vstack_start && p.v_end == L.v_end, "%s: stack %#lx, end %#lx; builder %#lx, %#lx",
          what, (unsigned long)p.stack.va, (unsigned long)p.v_end, L.vstack_start, L.v_end);
    if (!init_p2m)
        CHECK(p.p2m.va == L.vphysmap_start && p.p2m.pfn == L.p2m_pfn, "%s: p2m list at %#lx, builder %#lx",
              what, (unsigned long)p.p2m.va, L.vphysmap_start);
    else
        CHECK(p.init_p2m && p.p2m.pfn == L.si.first_p2m_pfn && p.p2m.pages == L.si.nr_p2m_frames &&
              p.p2m.va == init_p2m, "%s: INIT_P2M frames %#lx+%lu, builder %#lx+%lu", what, p.p2m.pfn,
              p.p2m.pages, (unsigned long)L.si.first_p2m_pfn, (unsigned long)L.si.nr_p2m_frames);
    if (rd && rd_mapped)
        CHECK(p.initrd.va == L.vinitrd_start && p.initrd.pfn == L.rd_pfn, "%s: initrd at %#lx, builder %#lx",
              what, (unsigned long)p.initrd.va, L.vinitrd_start);
    if (rd && !rd_mapped)
        CHECK(!p.initrd.va && p.initrd.pfn == L.rd_pfn && p.initrd.pages == L.rd_pages,
              "%s: initrd pfn %#lx+%lu, builder %#lx+%lu", what, p.initrd.pfn, p.initrd.pages, L.rd_pfn,
              L.rd_pages);
}

/* ------------------------------------------------------------ frames */

struct world {
    unsigned long nr;
    uint8_t *live, *hole;
};

static bool w_ram(unsigned long pfn, void *arg)
{
    return !((struct world *)arg)->hole[pfn];
}

static bool w_live(unsigned long pfn, void *arg)
{
    return ((struct world *)arg)->live[pfn];
}

static void frames_case(unsigned long nr, unsigned int live_every, unsigned int hole_every, uint64_t seed,
                        unsigned long store, unsigned long console)
{
    struct world w = { nr, calloc(nr, 1), calloc(nr, 1) };
    struct xen_elf k = { .virt_base = 0xffffffff80000000ULL, .virt_kstart = 0xffffffff81000000ULL,
                         .hypercall_page = XEN_ELF_UNSET,
                         .virt_kend = 0xffffffff81000000ULL + 40 * MiB, .mod_start_pfn = true,
                         .init_p2m = 0x8000000000ULL };
    unsigned long *next = malloc(nr * sizeof(*next)), *m2p = malloc((nr + 16) * sizeof(*m2p));
    struct plan_in in = { .kernel = &k, .nr_pages = nr, .initrd_len = 3 * MiB + 5, .ring_pages = true,
                          .store_pfn = store, .console_pfn = console, .ram = w_ram, .live = w_live,
                          .arg = &w };
    struct plan_out p;
    char why[256] = "", what[128];
    unsigned long frames = 0, placed = 0;
    bool ok = true;

    snprintf(what, sizeof(what), "%lu pages, live 1/%u, holes 1/%u, rings at %#lx %#lx", nr, live_every,
             hole_every, store, console);
    for (unsigned long i = 0; i < nr; i++) {
        uint64_t r = test_rand(&seed);

        w.live[i] = (live_every && r % live_every == 0) || i == store || i == console;
        w.hole[i] = !w.live[i] && hole_every && (r >> 20) % hole_every == 0;
        frames += !w.hole[i];
    }
    if (!CHECK(handoff_plan(&in, &p, moves, N_ELEMS(moves), why, sizeof(why)), "%s: %s", what, why))
        goto out;
    CHECK(p.nr_moves <= 2 * p.last_pfn + 2, "%s: %lu moves for %lu written pfns: more than the caller "
          "is told to make room for", what, p.nr_moves, p.last_pfn);
    /* The next p2m: today pfn -> mfn (pfn + 0x1000, none for a hole), then the moves. */
    for (unsigned long i = 0; i < nr; i++)
        next[i] = w.hole[i] ? ~0UL : i + 0x1000;
    for (unsigned long m = 0; m < p.nr_moves; m++) {
        unsigned long a = moves[m].pfn, f = moves[m].from;

        ok &= a < nr && (f == PLAN_NO_FRAME || f < nr) && (!m || moves[m - 1].pfn < a);
        if (ok)
            next[a] = f == PLAN_NO_FRAME || w.hole[f] ? ~0UL : f + 0x1000;
    }
    if (!CHECK(ok, "%s: the moves name pfns of the domain, sorted, each once", what))
        goto out;
    /*
     * plan_from() and plan_from_at() against the moves read in order (m2p[]
     * as scratch): ascending as the load asks, descending, and at random,
     * with one cursor throughout, so that every way it can be left behind
     * or run ahead is taken.
     */
    {
        unsigned long *want = m2p, at = 0, bad = 0;

        for (unsigned long x = 0, m = 0; x < nr + 16; x++)
            want[x] = m < p.nr_moves && moves[m].pfn == x ? moves[m++].from : x;
        for (unsigned long x = 0; x < nr + 16; x++) {
            bad += plan_from(moves, p.nr_moves, x) != want[x];
            bad += plan_from_at(moves, p.nr_moves, x, &at) != want[x];
        }
        for (unsigned long x = nr + 16; x-- > 0;)
            bad += plan_from_at(moves, p.nr_moves, x, &at) != want[x];
        /* A cursor left by a longer plan, and a plan with no moves. */
        at = p.nr_moves + 5;
        bad += plan_from_at(moves, p.nr_moves, nr / 2, &at) != want[nr / 2];
        bad += plan_from_at(moves, 0, nr / 2, &at) != nr / 2;
        for (unsigned long i = 0; i < nr; i++) {
            unsigned long x = test_rand(&seed) % (nr + 16);

            bad += plan_from_at(moves, p.nr_moves, x, &at) != want[x];
        }
        CHECK(!bad, "%s: plan_from/plan_from_at give the moves' frames in any order (%lu wrong)", what,
              bad);
    }
    /* Bijection over the mfns, and the M2P the updates make agrees with the next p2m. */
    for (unsigned long i = 0; i < nr + 16; i++)
        m2p[i] = ~0UL;
    for (unsigned long i = 0; i < nr; i++) {
        if (next[i] == ~0UL)
            continue;
        ok &= next[i] >= 0x1000 && next[i] - 0x1000 < nr && m2p[next[i] - 0x1000] == ~0UL;
        if (ok)
            m2p[next[i] - 0x1000] = i;
        placed++;
    }
    CHECK(ok && placed == frames, "%s: every frame has exactly one next pfn (%lu of %lu placed)", what,
          placed, frames);
    ok = true;
    for (unsigned long i = 0; i < nr; i++)
        ok &= w.hole[i] || (m2p[i] != ~0UL && next[m2p[i]] == i + 0x1000);
    CHECK(ok, "%s: M2P[p2m[pfn]] == pfn for every frame", what);
    /* The rings in their slots; nothing else written keeps a live frame or a hole. */
    CHECK(next[p.xenstore.pfn] == store + 0x1000 && next[p.console.pfn] == console + 0x1000,
          "%s: the xenstore and console slots (pfns %#lx, %#lx) hold the rings' frames", what,
          p.xenstore.pfn, p.console.pfn);
    ok = true;
    for (unsigned long i = 0; i < p.last_pfn; i++) {
        unsigned long today = next[i] == ~0UL ? ~0UL : next[i] - 0x1000;

        if (i != p.xenstore.pfn && i != p.console.pfn)
            ok &= today != ~0UL && !w.live[today] && !w.hole[today];
    }
    CHECK(ok, "%s: the %lu written pfns all get free frames (%lu moves)", what, p.last_pfn, p.nr_moves);
out:
    free(w.live);
    free(w.hole);
    free(next);
    free(m2p);
}

static void expect_refused(int line, const char *what, const struct plan_in *in, const char *needle)
{
    struct plan_out p;
    char why[256] = "";
    bool ok = handoff_plan(in, &p, moves, N_ELEMS(moves), why, sizeof(why));

    check_report(!ok && strstr(why, needle), __FILE__, line, "refused", " %s: %s; \"%s\", expected \"%s\"",
                 what, ok ? "ACCEPTED" : "refused", why, needle);
}

static bool every_other_live(unsigned long pfn, void *arg)
{
    (void)arg;
    return pfn % 2 == 0;
}

static void refusals(void)
{
    struct xen_elf k = { .virt_base = 0xffffffff80000000ULL, .virt_kstart = 0xffffffff81000000ULL,
                         .hypercall_page = XEN_ELF_UNSET,
                         .virt_kend = 0xffffffff81000000ULL + 40 * MiB, .mod_start_pfn = true,
                         .init_p2m = XEN_ELF_UNSET };
    struct plan_in in = { .kernel = &k, .nr_pages = 16384, .ring_pages = true, .store_pfn = 0,
                          .console_pfn = 2, .ram = all_ram, .live = every_other_live };

    expect_refused(__LINE__, "a 41 MiB kernel in a 64 MiB domain with 30 MiB of initrd",
                   (in.initrd_len = 30 * MiB, &in), "the domain has 16384");
    in.initrd_len = 0;
    k.virt_kend = k.virt_kstart + 1100 * MiB;
    in.nr_pages = 1 << 20;
    expect_refused(__LINE__, "an initial region past one L2 (1.1 GiB kernel)", &in, "Linux takes over one");
    k.virt_kend = k.virt_kstart + 40 * MiB;
    in.nr_pages = 20000;
    expect_refused(__LINE__, "half the frames live, too few free above the plan", &in, "too few free frames");
    in.nr_pages = 1 << 20;
    in.console_pfn = 3;
    expect_refused(__LINE__, "a console ring on a frame the caller did not call live", &in,
                   "console ring at pfn 0x3 is not a live frame");
    in.console_pfn = 1 << 20;
    expect_refused(__LINE__, "a console ring past the domain's pfns", &in, "console ring at pfn 0x100000");
    in.console_pfn = 0;
    expect_refused(__LINE__, "both rings on one frame", &in, "rings share pfn 0");
    in.console_pfn = 2;
    in.nr_pages = 20000;
    in.live = none_live;
    k.hypercall_page = k.virt_kend;
    expect_refused(__LINE__, "a hypercall page just past the kernel", &in, "is not a page of the kernel");
    k.hypercall_page = k.virt_kstart + 0x10;
    expect_refused(__LINE__, "a hypercall page not on a page", &in, "is not a page of the kernel");
    k.hypercall_page = XEN_ELF_UNSET;
    k.virt_kstart += 0x800;
    expect_refused(__LINE__, "a kernel that does not start on a page", &in, "not on a page");
}

int main(void)
{
    static const unsigned long sizes[] = { 64 * MiB, 256 * MiB, GiB, 4 * GiB, 16 * GiB, 64 * GiB };

    for (unsigned int s = 0; s < N_ELEMS(sizes); s++) {
        layout_case(sizes[s], 0, false, 0);
        layout_case(sizes[s], 5 * MiB + 7, true, 0);
        layout_case(sizes[s], 5 * MiB + 7, false, 0);
        layout_case(sizes[s], 5 * MiB + 7, false, 0x8000000000UL);
        layout_case(sizes[s], 0, true, 0x8000000000UL);
    }
    /* Mapped initrds a step apart across 4 MiB: the region's end moves past a boundary. */
    for (unsigned long rd = 1 * MiB; rd < 5 * MiB; rd += 64 * 1024)
        layout_case(256 * MiB, rd, true, 0);
    /* And a page apart where it crosses (one page of stack or padding decides). */
    for (unsigned long rd = 2 * MiB; rd < 3 * MiB; rd += 4096)
        layout_case(256 * MiB, rd, true, 0);
    /* Rings low (inside the written pfns, as the builder puts them), high, and one of each. */
    frames_case(65536, 0, 0, 1, 0x20, 0x21);
    frames_case(65536, 7, 0, 2, 0x4000, 0x4001);
    frames_case(65536, 3, 11, 3, 0x10, 0xff00);
    frames_case(262144, 5, 50, 4, 0x3fff0, 0x11);
    frames_case(1 << 20, 2, 9, 5, 0x123, 0x124);
    refusals();
    return check_done(TEST_NAME);
}
