/* SPDX-License-Identifier: MIT */
/*
 * test_pt_map.c - the one builder (shim/mm/pt_map.c) and the one walker
 * (shim/mm/pt_walk.c) at the run-time geometry (shim/mm/geometry.c), for the
 * same layout at 4 and at 5 levels:
 *   - the geometry is Linux's for each level count (bases, shifts, limits);
 *   - every address of the layout translates to the same physical page;
 *   - the 5-level tree is the 4-level one with a PML5 and p4d pages on top;
 *   - a direct map past the 64 TiB that 4 levels leave it stays in one
 *     top-level slot with 5;
 *   - a VA only LA57 can map is refused as non-canonical with 4 levels;
 *   - the range builder (shim/mm/pt_range.c), which the PV shim's direct
 *     map uses, makes the tree that page-by-page pt_map makes for the same
 *     range, table for table, at both levels, and counts big ranges right.
 */
#include <string.h>
#include "check.h"
#include "mm/pt_map.h"
#include "mm/pt_range.h"
#include "mm/pt_walk.h"

#define MAX_FRAMES 1024

static pte_t frames[MAX_FRAMES][PT_ENTRIES];
static unsigned int nr_frames;

static pte_t *table(unsigned long pa)
{
    if ((pa >> PAGE_SHIFT) >= nr_frames) {
        CHECK(0, "builder touched pa %#lx, not a table it made", pa);
        return frames[0];
    }
    return frames[pa >> PAGE_SHIFT];
}

static unsigned long new_table(void)
{
    if (nr_frames == MAX_FRAMES) {
        CHECK(0, "test memory full");
        return 0;
    }
    memset(frames[nr_frames], 0, sizeof(frames[0]));
    return (unsigned long)nr_frames++ << PAGE_SHIFT;
}

static unsigned long walk_table_at(unsigned long mfn)
{
    return mfn;
}

static pte_t walk_read_at(unsigned long mfn, unsigned int slot)
{
    return frames[mfn][slot];
}

static struct pt_geometry walker = { .table_at = walk_table_at, .read_at = walk_read_at };

static struct pt_mapper fresh_tree(unsigned int levels)
{
    struct pt_mapper m = { .geo = &mm_geo, .new_table = new_table, .table = table };

    nr_frames = 0;
    mm_geometry_init(levels);
    walker.levels = levels;
    m.root = new_table();
    return m;
}

static unsigned long lookup(const struct pt_mapper *m, unsigned long va)
{
    pte_t e = pt_lookup(&walker, m->root >> PAGE_SHIFT, va, NULL);

    return (e & _PAGE_PRESENT) ? (e & PTE_ADDR_MASK) : ~0UL;
}

static void test_geometry(void)
{
    struct mm_geometry defaults = mm_geo;

    mm_geometry_init(4);
    CHECK(!memcmp(&defaults, &mm_geo, sizeof(mm_geo)),
          "the defaults (what the PV shim runs on) are mm_geometry_init(4)'s values");
    CHECK(mm_geo.levels == 4 && mm_geo.top_shift == 39 && mm_geo.ptrs_per_p4d == 1 &&
          mm_geo.page_offset == 0xffff888000000000UL && mm_geo.user_va_limit == 1UL << 47,
          "4 levels: shift %u, p4d %u, page_offset %#lx, user limit %#lx", mm_geo.top_shift,
          mm_geo.ptrs_per_p4d, mm_geo.page_offset, mm_geo.user_va_limit);
    CHECK(mm_va_canonical(&mm_geo, 0x00007ffffffff000UL) && !mm_va_canonical(&mm_geo, 1UL << 47) &&
          mm_va_canonical(&mm_geo, 0xffff800000000000UL) && !mm_va_canonical(&mm_geo, 0xff11000000000000UL),
          "4 levels: canonical at bit 47");
    mm_geometry_init(5);
    CHECK(mm_geo.levels == 5 && mm_geo.top_shift == 48 && mm_geo.ptrs_per_p4d == 512 &&
          mm_geo.page_offset == 0xff11000000000000UL && mm_geo.user_va_limit == 1UL << 56,
          "5 levels: shift %u, p4d %u, page_offset %#lx, user limit %#lx", mm_geo.top_shift,
          mm_geo.ptrs_per_p4d, mm_geo.page_offset, mm_geo.user_va_limit);
    CHECK(mm_va_canonical(&mm_geo, 1UL << 47) && mm_va_canonical(&mm_geo, (1UL << 56) - 4096) &&
          !mm_va_canonical(&mm_geo, 1UL << 56) && mm_va_canonical(&mm_geo, 0xff11000000000000UL),
          "5 levels: canonical at bit 56");
    for (unsigned int l = 4; l <= 5; l++) {
        mm_geometry_init(l);
        CHECK(PT_INDEX(mm_geo.page_offset, mm_geo.top_shift) == TOP_SLOT_DIRECT_MAP,
              "%u levels: the direct map is in top-level slot 273", l);
    }
}

/* The layout (offsets from the direct map's base where marked), and where each must land. */
static const struct { const char *what; unsigned long va; bool dmap; unsigned long pa; } layout[] = {
    { "identity", 0x100000, false, 0x100000 },
    { "user page", 0x400000, false, 0x7000000 },
    { "direct map start", 0, true, 0 },
    { "direct map +1 GiB", 1UL << 30, true, 1UL << 30 },
    { "direct map +5 GiB", 5UL << 30, true, 5UL << 30 },
    { "kernel text", 0xffffffff80100000UL, false, 0x100000 },
    { "module space", 0xffffffffa0000000UL, false, 0x7001000 },
    { "fixmap", 0xffffffffff5ff000UL, false, 0x7002000 },
};

static void test_same_layout(void)
{
    unsigned long tables[6] = { 0 };

    for (unsigned int l = 4; l <= 5; l++) {
        struct pt_mapper m = fresh_tree(l);

        for (unsigned int i = 0; i < N_ELEMS(layout); i++) {
            unsigned long va = layout[i].va + (layout[i].dmap ? mm_geo.page_offset : 0);

            CHECK(pt_map(&m, va, layout[i].pa, _PAGE_PRESENT | _PAGE_RW) == 0, "%u levels: map %s", l,
                  layout[i].what);
        }
        for (unsigned int i = 0; i < N_ELEMS(layout); i++) {
            unsigned long va = layout[i].va + (layout[i].dmap ? mm_geo.page_offset : 0);

            CHECK(lookup(&m, va) == layout[i].pa, "%u levels: %s at %#lx -> %#lx, want %#lx", l,
                  layout[i].what, va, lookup(&m, va), layout[i].pa);
        }
        tables[l] = m.tables + 1;
    }
    /* Top-level slots used: 0 (identity, user), 273 (direct map), 511 (kernel): one p4d page each. */
    CHECK(tables[5] == tables[4] - 1 + 1 + 3,
          "5 levels: %lu tables = 4 levels' %lu - the PML4 + 1 PML5 + 3 p4d pages", tables[5], tables[4]);
}

static void test_big_direct_map(void)
{
    unsigned long last = (100UL << 40) - PAGE_SIZE;    /* the last page of a 100 TiB direct map */

    for (unsigned int l = 4; l <= 5; l++) {
        struct pt_mapper m = fresh_tree(l);
        unsigned long va = mm_geo.page_offset + last;
        unsigned int slot = PT_INDEX(va, mm_geo.top_shift);

        CHECK(pt_map(&m, va, last, _PAGE_PRESENT) == 0 && lookup(&m, va) == last,
              "%u levels: the 100 TiB direct map's last page maps", l);
        if (l == 5)
            CHECK(slot == TOP_SLOT_DIRECT_MAP, "5 levels: 100 TiB of direct map stay in top slot 273 (%u)", slot);
        else
            CHECK(slot == TOP_SLOT_DIRECT_MAP + 199 && slot > 400,
                  "4 levels: 100 TiB of direct map reach slot %u, past slot 400 where 64 TiB end", slot);
    }
}

/* A user page under tables first made for a kernel page: U must reach the top. */
static void test_user_under_kernel_tables(void)
{
    for (unsigned int l = 4; l <= 5; l++) {
        struct pt_mapper m = fresh_tree(l);
        unsigned long mfn = m.root >> PAGE_SHIFT;
        bool all_u = true;

        pt_map(&m, 0x100000, 0x100000, _PAGE_PRESENT);
        pt_map(&m, 0x400000, 0x7000000, _PAGE_PRESENT | _PAGE_RW | _PAGE_USER);
        for (unsigned int level = l; level >= 1; level--) {
            pte_t e = frames[mfn][PT_INDEX(0x400000UL, pt_level_shift(level))];

            all_u &= (e & _PAGE_USER) != 0;
            mfn = PTE_MFN(e);
        }
        CHECK(all_u, "%u levels: the user page has U at every level", l);
        CHECK(!(pt_lookup(&walker, m.root >> PAGE_SHIFT, 0x100000, NULL) & _PAGE_USER),
              "%u levels: the kernel page beside it stays without U", l);
    }
}

static void test_la57_only(void)
{
    struct pt_mapper m = fresh_tree(4);
    unsigned long before = m.tables;

    CHECK(pt_map(&m, 1UL << 48, 0x1000, _PAGE_PRESENT) == -1 && m.tables == before,
          "4 levels: 2^48 refused as non-canonical, no table made");
    CHECK(pt_map(&m, (1UL << 56) - PAGE_SIZE, 0x1000, _PAGE_PRESENT) == -1, "4 levels: 2^56 - 4 KiB refused");
    m = fresh_tree(5);
    before = m.tables;
    CHECK(pt_map(&m, 1UL << 48, 0x1000, _PAGE_PRESENT) == 0 && m.tables - before == 4 &&
          lookup(&m, 1UL << 48) == 0x1000, "5 levels: 2^48 maps with a p4d, pud, pmd and pte table");
    CHECK(pt_map(&m, 1UL << 56, 0x1000, _PAGE_PRESENT) == -1, "5 levels: 2^56 refused as non-canonical");
}

/* The range test's tables lie level by level from first[level] (frame numbers). */
static unsigned long first[PT_LEVELS_MAX];

static pte_t range_leaf(unsigned long page)
{
    return ((0x40000000UL + (page << PAGE_SHIFT)) & PTE_ADDR_MASK) | _PAGE_PRESENT | _PAGE_RW;
}

static pte_t range_link(unsigned int level, unsigned long i)
{
    return ((first[level] + i) << PAGE_SHIFT) | PTE_TABLE;
}

/* A direct map of 300 MiB + 3 pages: full leaf tables, one partial one, one table above each. */
static void test_range_equals_pt_map(void)
{
    const unsigned long pages = (300UL << 8) + 3;

    for (unsigned int l = 4; l <= 5; l++) {
        struct pt_mapper m = fresh_tree(l);
        struct pt_range r = { .geo = &mm_geo, .va = mm_geo.page_offset, .pages = pages,
                              .leaf = range_leaf, .link = range_link };
        unsigned long by_page, root, bad = 0;

        for (unsigned long p = 0; p < pages; p++)
            pt_map(&m, r.va + (p << PAGE_SHIFT), range_leaf(p) & PTE_ADDR_MASK, _PAGE_PRESENT | _PAGE_RW);
        by_page = m.tables;

        CHECK(pt_range_plan(&r) == 0, "%u levels: the direct map's range plans", l);
        CHECK(r.first_slot == TOP_SLOT_DIRECT_MAP, "%u levels: first root slot %u", l, r.first_slot);
        CHECK(r.count[1] == 151 && r.count[2] == 1 && r.count[3] == 1 && r.count[4] == (l == 5),
              "%u levels: counts %lu %lu %lu %lu, want 151 1 1 %u", l, r.count[1], r.count[2], r.count[3],
              r.count[4], l == 5);
        CHECK(pt_range_tables(&r) == by_page, "%u levels: %lu tables, pt_map made %lu", l,
              pt_range_tables(&r), by_page);

        root = nr_frames;
        memset(frames[root], 0, sizeof(frames[0]));
        nr_frames++;
        for (unsigned int level = l - 1; level >= 1; level--) {
            first[level] = nr_frames;
            nr_frames += r.count[level];
        }
        for (unsigned int level = l - 1; level >= 1; level--)
            for (unsigned long i = 0; i < r.count[level]; i++)
                for (unsigned int s = 0; s < PT_ENTRIES; s++)
                    frames[first[level] + i][s] = pt_range_entry(&r, level, i, s);
        for (unsigned long k = 0; k < r.count[l - 1]; k++)
            frames[root][r.first_slot + k] = pt_range_root_entry(&r, k);

        for (unsigned long p = 0; p < pages + PT_ENTRIES; p++) {
            unsigned long va = r.va + (p << PAGE_SHIFT);
            pte_t a = pt_lookup(&walker, root, va, NULL), b = pt_lookup(&walker, m.root >> PAGE_SHIFT, va, NULL);

            bad += a != b || (p < pages) != ((a & _PAGE_PRESENT) != 0);
        }
        CHECK(bad == 0, "%u levels: %lu pages walk differently in the two trees", l, bad);
    }
}

/* Counting only: 100 TiB, past what 4 levels give a direct map from slot 273 at 128 TiB. */
static void test_range_counts(void)
{
    for (unsigned int l = 4; l <= 5; l++) {
        struct pt_range r = { .geo = &mm_geo, .pages = 100UL << 28 };
        struct pt_range past = r, unaligned = r;

        mm_geometry_init(l);
        r.va = past.va = mm_geo.page_offset;
        unaligned.va = mm_geo.page_offset + (2UL << 20);
        past.pages = 128UL << 28;
        CHECK(pt_range_plan(&r) == 0 && r.count[1] == 25UL << 21 && r.count[2] == 25UL << 12 &&
              r.count[3] == 200 && r.count[4] == (l == 5),
              "%u levels: 100 TiB counts %lu %lu %lu %lu", l, r.count[1], r.count[2], r.count[3], r.count[4]);
        CHECK(pt_range_plan(&past) == (l == 5 ? 0 : -1),
              "%u levels: 128 TiB from slot 273 %s", l, l == 5 ? "fits" : "runs past slot 511: refused");
        CHECK(pt_range_plan(&unaligned) == -1, "%u levels: a range not at a root slot's start is refused", l);
    }
}

int main(void)
{
    test_geometry();
    test_same_layout();
    test_big_direct_map();
    test_user_under_kernel_tables();
    test_la57_only();
    test_range_equals_pt_map();
    test_range_counts();
    return check_done("test_pt_map");
}
