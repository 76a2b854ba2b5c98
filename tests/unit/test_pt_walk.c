/* SPDX-License-Identifier: MIT */
/*
 * test_pt_walk.c - shim/mm/pt_walk.c on 4- and 5-level trees built in host
 * memory: the same walkers must translate and enumerate both, the p4d
 * level folded away at run time for 4-level paging.
 */
#include <string.h>
#include "check.h"
#include "mm/pt_walk.h"

#define MAX_FRAMES 256

static pte_t frames[MAX_FRAMES][PT_ENTRIES];
static unsigned int nr_frames;

/* The test memory has no M2P: a table is found by its mfn itself. */
static unsigned long table_at(unsigned long mfn)
{
    if (mfn >= MAX_FRAMES) {
        CHECK(0, "walker read mfn %lu outside the test memory", mfn);
        return 0;
    }
    return mfn;
}

static pte_t read_at(unsigned long mfn, unsigned int slot)
{
    return frames[mfn][slot];
}

static unsigned long new_frame(void)
{
    memset(frames[nr_frames], 0, sizeof(frames[0]));
    return nr_frames++;
}

/* Map va -> leaf mfn, allocating tables on the way (levels 4 or 5). */
static void map(unsigned int levels, unsigned long root, unsigned long va, unsigned long leaf)
{
    unsigned long t = root;

    for (unsigned int l = levels; l > 1; l--) {
        unsigned int idx = PT_INDEX(va, pt_level_shift(l));

        if (!(frames[t][idx] & _PAGE_PRESENT))
            frames[t][idx] = ((pte_t)new_frame() << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW;
        t = PTE_MFN(frames[t][idx]);
    }
    frames[t][PT_INDEX(va, L1_SHIFT)] = ((pte_t)leaf << PAGE_SHIFT) | _PAGE_PRESENT;
}

struct leaves {
    unsigned long va[64];
    unsigned int n;
    unsigned int tables_seen;
};

static bool collect(void *p, unsigned int level, unsigned long table_mfn, unsigned int slot,
                    pte_t e, unsigned long va)
{
    struct leaves *l = p;

    (void)table_mfn;
    if (slot == 0)
        l->tables_seen++;
    if (level == 1 && (e & _PAGE_PRESENT) && l->n < N_ELEMS(l->va))
        l->va[l->n++] = va;
    return true;
}

static bool contains(const struct leaves *l, unsigned long va)
{
    for (unsigned int i = 0; i < l->n; i++)
        if (l->va[i] == va)
            return true;
    return false;
}

static void test_levels(unsigned int levels, const unsigned long *vas, unsigned int n,
                        const unsigned long *holes, unsigned int nholes)
{
    struct pt_geometry g = { .levels = levels, .table_at = table_at, .read_at = read_at };
    struct leaves l = { .n = 0 };
    unsigned long root;

    nr_frames = 0;
    root = new_frame();
    for (unsigned int i = 0; i < n; i++)
        map(levels, root, vas[i], 100 + i);

    for (unsigned int i = 0; i < n; i++) {
        unsigned int level = 99;
        pte_t e = pt_lookup(&g, root, vas[i], &level);

        CHECK(PTE_MFN(e) == 100 + i && level == 1,
              "%u-level lookup of %#lx: got %#lx at level %u", levels, vas[i], (unsigned long)e, level);
    }
    for (unsigned int i = 0; i < nholes; i++) {
        unsigned int level = 99;
        pte_t e = pt_lookup(&g, root, holes[i], &level);

        CHECK(e == 0 && level >= 1 && level <= levels,
              "%u-level lookup of unmapped %#lx: got %#lx, stopped at level %u",
              levels, holes[i], (unsigned long)e, level);
    }

    pt_walk(&g, root, collect, &l);
    CHECK(l.n == n, "%u-level walk found %u leaves, want %u", levels, l.n, n);
    for (unsigned int i = 0; i < n; i++)
        CHECK(contains(&l, vas[i]), "%u-level walk did not report %#lx", levels, vas[i]);
    CHECK(l.tables_seen == nr_frames, "%u-level walk visited %u tables, %u exist",
          levels, l.tables_seen, nr_frames);
}

static void test_stop_levels(void)
{
    struct pt_geometry g4 = { .levels = 4, .table_at = table_at, .read_at = read_at };
    struct pt_geometry g5 = { .levels = 5, .table_at = table_at, .read_at = read_at };
    unsigned long root;
    unsigned int level;

    nr_frames = 0;
    root = new_frame();
    level = 0;
    pt_lookup(&g4, root, 0xffffffff80000000UL, &level);
    CHECK(level == 4, "empty 4-level root: stopped at level %u, want 4", level);
    level = 0;
    pt_lookup(&g5, root, 0xffffffff80000000UL, &level);
    CHECK(level == 5, "empty 5-level root: stopped at level %u, want 5", level);

    map(4, root, 0xffffffff80000000UL, 7);
    level = 0;
    pt_lookup(&g4, root, 0xffffffffc0000000UL, &level);  /* L3[511] missing */
    CHECK(level == 3, "4-level: L3[511] not present: stopped at level %u, want 3", level);
    level = 0;
    pt_lookup(&g4, root, 0xffffffff80200000UL, &level);  /* L2[1] missing */
    CHECK(level == 2, "4-level: L2[1] not present: stopped at level %u, want 2", level);
}

static void test_slot_va(void)
{
    struct pt_geometry g4 = { .levels = 4, .table_at = table_at, .read_at = read_at };
    struct pt_geometry g5 = { .levels = 5, .table_at = table_at, .read_at = read_at };

    CHECK(pt_slot_va(&g4, 0, 4, 256) == 0xffff800000000000UL, "4-level L4[256]");
    CHECK(pt_slot_va(&g4, 0, 4, 273) == 0xffff888000000000UL, "4-level L4[273] is PAGE_OFFSET");
    CHECK(pt_slot_va(&g4, 0, 4, 255) == 0x00007f8000000000UL, "4-level L4[255]");
    CHECK(pt_slot_va(&g5, 0, 5, 256) == 0xff00000000000000UL, "5-level L5[256]");
    CHECK(pt_slot_va(&g5, 0, 5, 1) == 0x0001000000000000UL, "5-level L5[1]");
    CHECK(pt_slot_va(&g4, 0xffffff8000000000UL, 3, 510) == 0xffffffff80000000UL,
          "4-level L4[511]/L3[510] is the kernel map");
}

int main(void)
{
    static const unsigned long vas4[] = {
        0x0000000000400000UL, 0x00007ffffffff000UL, 0xffff888000000000UL,
        0xffff888000001000UL, 0xffffffff80000000UL, 0xffffffffff5ff000UL,
    };
    static const unsigned long holes4[] = { 0x0000000000401000UL, 0xffffffffc0000000UL, 0x1000UL };
    /* 5-level: addresses only LA57 can express (bits 47-55 used). */
    static const unsigned long vas5[] = {
        0x0000000000400000UL, 0x00ff000000000000UL, 0x0100000000000000UL - 0x1000,
        0xff11000000000000UL, 0xffffffff80000000UL,
    };
    static const unsigned long holes5[] = { 0x0080000000000000UL, 0xff22000000000000UL };

    test_slot_va();
    test_levels(4, vas4, N_ELEMS(vas4), holes4, N_ELEMS(holes4));
    test_levels(5, vas5, N_ELEMS(vas5), holes5, N_ELEMS(holes5));
    test_stop_levels();
    return check_done("test_pt_walk");
}
