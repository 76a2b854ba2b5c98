/* SPDX-License-Identifier: MIT */
/*
 * native_checks.c - what proves the run-time fold on tables the CPU walks.
 * Each check runs with 4 and with 5 levels; a mismatch is a FAILURE that
 * names the address.
 */
#include "pvh/native_checks.h"
#include "pvh/native_layout.h"
#include "pvh/native_mm.h"
#include "pvh/memmap.h"
#include "pvh/pvh_defs.h"
#include "pvh/traps_native.h"
#include "lib/console.h"
#include "lib/lib.h"
#include "lib/result.h"

static uint64_t check_data_word = 0x5eed5eed5eed5eedULL;
static unsigned int addresses_checked;

/*
 * The walker agrees with the CPU at va: the physical address it returns
 * is the expected one, and a pattern stored through va shows up there
 * through another mapping (the fixmap window), and back.  Only a page the
 * shim owns, or one nobody uses yet, is written (and restored); elsewhere
 * (the first MiB, the image, the loader's data, pages in use) the two
 * mappings' words are compared.
 */
static void walker_vs_cpu(const char *what, unsigned long va, unsigned long want_pa, bool owned)
{
    unsigned int level;
    unsigned long pa = native_walk_pa(va, &level);
    volatile uint64_t *p = (volatile uint64_t *)va;
    bool write = owned || phys_page_is_free(pa & PAGE_MASK);

    if (pa == ~0UL)
        result_failure("walker: %s at %#lx is not mapped (stopped at level %u)", what, va, level);
    if (pa != want_pa)
        result_failure("walker: %s at %#lx maps %#lx, want %#lx", what, va, pa, want_pa);
    if (write) {
        uint64_t saved = *p, a = va ^ 0xa5a5a5a5a5a5a5a5UL, b = ~va;

        *p = a;
        if (phys_read64(pa) != a)
            result_failure("walker: %s at %#lx: stored %#lx, physical %#lx holds %#lx", what, va,
                           (unsigned long)a, pa, (unsigned long)phys_read64(pa));
        phys_write64(pa, b);
        if (*p != b)
            result_failure("walker: %s at %#lx: physical %#lx got %#lx, the CPU reads %#lx", what, va,
                           pa, (unsigned long)b, (unsigned long)*p);
        *p = saved;
    } else if (*p != phys_read64(pa)) {
        result_failure("walker: %s at %#lx reads %#lx, physical %#lx holds %#lx", what, va,
                       (unsigned long)*p, pa, (unsigned long)phys_read64(pa));
    }
    addresses_checked++;
    printk("walker: %-22s %#018lx -> %#014lx ok (%s)\n", what, va, pa, write ? "written" : "compared");
}

/* Ring 3 reaches va only if every level's entry on the way has U set (the CPU checks each). */
static void check_user_reachable(unsigned long va)
{
    unsigned long mfn = native_map.root >> PAGE_SHIFT;

    for (unsigned int level = mm_geo.levels; level >= 1; level--) {
        pte_t e = pt_read(&native_walk, mfn, PT_INDEX(va, pt_level_shift(level)));

        if (!(e & _PAGE_PRESENT) || !(e & _PAGE_USER))
            result_failure("walker: user page %#lx: the level-%u entry %#lx lacks U: ring 3 cannot reach it",
                           va, level, (unsigned long)e);
        mfn = PTE_MFN(e);
    }
    printk("walker: user page %#lx has U at all %u levels\n", va, mm_geo.levels);
}

void check_walker_matches_cpu(void)
{
    const struct ram_range *first = &memmap.ram[0], *last = &memmap.ram[memmap.nr_ram - 1];
    const struct ram_range *big = first;
    unsigned long mid;

    for (unsigned int i = 0; i < memmap.nr_ram; i++)
        if (memmap.ram[i].end - memmap.ram[i].start > big->end - big->start)
            big = &memmap.ram[i];
    mid = big->start + ((big->end - big->start) / 2 & PAGE_MASK);

    walker_vs_cpu("identity", IDENT_VA, IDENT_VA, false);
    walker_vs_cpu("direct map start", mm_geo.page_offset + first->start, first->start, false);
    walker_vs_cpu("direct map middle", mm_geo.page_offset + mid, mid, false);
    walker_vs_cpu("direct map end", mm_geo.page_offset + last->end - 8, last->end - 8, false);
    for (unsigned int i = 0; i < memmap.nr_ram; i++)
        if (memmap.ram[i].start >= (1UL << 32)) {
            walker_vs_cpu("direct map above 4 GiB", mm_geo.page_offset + memmap.ram[i].start,
                          memmap.ram[i].start, false);
            break;
        }
    walker_vs_cpu("kernel text", (unsigned long)check_walker_matches_cpu,
                  (unsigned long)check_walker_matches_cpu - KERNEL_MAP, false);
    walker_vs_cpu("kernel data", (unsigned long)&check_data_word,
                  (unsigned long)&check_data_word - KERNEL_MAP, true);
    walker_vs_cpu("fixmap", FIX_TEST_VA, native_pages.fixmap, true);
    walker_vs_cpu("module space", MODULE_TEST_VA, native_pages.module, true);
    walker_vs_cpu("user page", USER_TEST_VA, native_pages.user, true);
    check_user_reachable(USER_TEST_VA);
    printk("walker: agrees with the CPU at %u addresses\n", addresses_checked);
}

/* Tables per level, by a walk of the live tree (none is shared, so each is reached once). */
struct census { unsigned long tables[6]; };

static bool count_table(void *ctx, unsigned int level, unsigned long table_mfn, unsigned int slot, pte_t e,
                        unsigned long va)
{
    struct census *c = ctx;

    (void)table_mfn; (void)slot; (void)va;
    if (level > 1 && (e & _PAGE_PRESENT))
        c->tables[level - 1]++;
    return true;
}

void check_ptdump_counts(void)
{
    struct census c = { .tables = { 0 } };
    unsigned long total, below;

    c.tables[mm_geo.levels] = 1;
    pt_walk(&native_walk, native_map.root >> PAGE_SHIFT, count_table, &c);
    total = c.tables[1] + c.tables[2] + c.tables[3] + c.tables[4] + c.tables[5];
    below = c.tables[1] + c.tables[2] + c.tables[3];
    if (total != native_map.tables + 1)
        result_failure("ptdump: the walk reached %lu tables, the builder made %lu", total,
                       native_map.tables + 1);
    /* "pml5 1 p4d 3 pud 4 pmd 7 pte 2600 total 2615": the rig compares the two runs. */
    printk("ptdump: %u levels: pml5 %lu p4d %lu pud %lu pmd %lu pte %lu; below the p4d %lu, total %lu\n",
           mm_geo.levels, mm_geo.levels == 5 ? c.tables[5] : 0, c.tables[4], c.tables[3], c.tables[2],
           c.tables[1], below, total);
}

void check_la57_only_pages(void)
{
    static const unsigned long vas[] = { LA57_LOW_VA, LA57_HIGH_VA };
    unsigned long before = native_map.tables;

    if (mm_geo.levels == 5) {
        for (unsigned int i = 0; i < ARRAY_SIZE(vas); i++) {
            unsigned long pa = phys_alloc_page("an LA57 test page");

            if (native_map_page(vas[i], pa, pte_native_rw()))
                result_failure("la57: mapping %#lx refused with 5 levels", vas[i]);
            walker_vs_cpu(i ? "LA57: below 2^56" : "LA57: 2^48", vas[i], pa, true);
        }
        /* Each is alone in its top slot: one p4d, pud, pmd and pte table each. */
        if (native_map.tables - before != 8)
            result_failure("la57: the two pages took %lu new tables, want 8 (a p4d each)",
                           native_map.tables - before);
        printk("la57: 2^48 and 2^56 - 4 KiB mapped, written, read back: 8 new tables\n");
        return;
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(vas); i++) {
        if (native_map_page(vas[i], 0, pte_native_rw()) != -1 || native_map.tables != before)
            result_failure("la57: mapping %#lx with 4 levels was not refused as non-canonical", vas[i]);
        probe_vector = -1;
        probe_read64(vas[i]);
        if (probe_vector != VEC_GP)
            result_failure("la57: reading %#lx with 4 levels: vector %ld, want #GP (13)", vas[i],
                           probe_vector);
        printk("la57: %#018lx: not canonical with 4 levels: map refused, read raised vector %ld\n",
               vas[i], probe_vector);
    }
    printk("la57: 2^48 and 2^56 - 4 KiB refused as non-canonical; reads raise #GP\n");
}

static bool cpu_has_la57(void)
{
    unsigned int a, b, c, d;

    asm volatile ("cpuid" : "=a" (a), "=b" (b), "=c" (c), "=d" (d) : "a" (0), "c" (0));
    if (a < 7)
        return false;
    asm volatile ("cpuid" : "=a" (a), "=b" (b), "=c" (c), "=d" (d) : "a" (7), "c" (0));
    return c & CPUID_7_ECX_LA57;
}

/*
 * A rule of the CPU the design rests on, not of the shim's code: the
 * level count is chosen before paging because it cannot change after.
 * Flipping CR4.LA57 with paging on is #GP on a CPU that has LA57 (4 levels
 * by no5lvl, or 5).  On one without it the bit is reserved, a different
 * rule, and QEMU 7.2's TCG does not raise #GP for it but hangs: so the
 * test needs the feature, and says so when it is missing.
 */
void check_la57_fixed(void)
{
    if (!cpu_has_la57()) {
        printk("cr4: no LA57 on this CPU: the toggle test runs where it has LA57 (5 levels, or no5lvl)\n");
        return;
    }
    probe_vector = -1;
    probe_toggle_la57();
    if (probe_vector != VEC_GP)
        result_failure("cr4: toggling CR4.LA57 in long mode: vector %ld, want #GP (13)", probe_vector);
    printk("cr4: toggling LA57 in long mode raises #GP: the level count is fixed at boot\n");
}
