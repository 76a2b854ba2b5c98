/* SPDX-License-Identifier: MIT */
/*
 * native_mm.c - the shim's own tree on bare x86 (native_layout.h), built
 * with the shared builder (mm/pt_map.c) at the run-time geometry and
 * checked with the shared walker (pt_walk.c) before the CPU gets it.
 *
 * While the boot tables are live, tables are reached through their
 * identity map (so they are taken below 4 GiB); once CR3 holds the shim's
 * root, through the direct map.
 */
#include "pvh/native_mm.h"
#include "pvh/native_layout.h"
#include "pvh/memmap.h"
#include "pvh/port_io.h"
#include "pvh/pvh_defs.h"
#include "lib/console.h"
#include "lib/lib.h"
#include "lib/result.h"

extern char _text[], _etext[], _data[], _end[];

pte_t native_nx;
static unsigned long table_base;    /* 0: identity (boot tables); then mm_geo.page_offset */

static pte_t *table_at_pa(unsigned long pa)
{
    return (pte_t *)(table_base + pa);
}


/* A zeroed page, reached the way tables are (identity, then the direct map). */
static unsigned long fresh_page(const char *what)
{
    unsigned long pa = phys_alloc_page(what);

    memset(table_at_pa(pa), 0, PAGE_SIZE);
    return pa;
}

static unsigned long new_table(void)
{
    return fresh_page("a page table");
}

static unsigned long walk_table_at(unsigned long mfn)
{
    return table_base + (mfn << PAGE_SHIFT);
}

static pte_t walk_read_at(unsigned long at, unsigned int slot)
{
    return ((const pte_t *)at)[slot];
}

struct pt_mapper native_map = { .geo = &mm_geo, .new_table = new_table, .table = table_at_pa };
struct pt_geometry native_walk = { .table_at = walk_table_at, .read_at = walk_read_at };
struct native_pages native_pages;

int native_map_page(unsigned long va, unsigned long pa, pte_t flags)
{
    if (pt_map(&native_map, va, pa, flags))
        return -1;
    invlpg(va);
    return 0;
}

static void map_or_fail(unsigned long va, unsigned long pa, pte_t flags, const char *what)
{
    if (pt_map(&native_map, va, pa, flags))
        result_error("mm: %s at %#lx: not canonical with %u levels", what, va, mm_geo.levels);
}

static void map_range(unsigned long va, unsigned long pa, unsigned long len, pte_t flags, const char *what)
{
    for (unsigned long off = 0; off < len; off += PAGE_SIZE)
        map_or_fail(va + off, pa + off, flags, what);
}


void native_mm_build(void)
{
    unsigned long text_pa = (unsigned long)_text - KERNEL_MAP;

    native_walk.levels = mm_geo.levels;
    native_map.root = new_table();

    for (unsigned int i = 0; i < memmap.nr_ram; i++)
        map_range(mm_geo.page_offset + memmap.ram[i].start, memmap.ram[i].start,
                  memmap.ram[i].end - memmap.ram[i].start, pte_native_rw(), "the direct map");
    map_range((unsigned long)_text, text_pa, (unsigned long)(_etext - _text), pte_native_text(), "kernel text");
    map_range((unsigned long)_etext, (unsigned long)_etext - KERNEL_MAP, (unsigned long)(_data - _etext),
              pte_native_ro(), "kernel rodata");
    map_range((unsigned long)_data, (unsigned long)_data - KERNEL_MAP, (unsigned long)(_end - _data),
              pte_native_rw(), "kernel data");
    map_range(IDENT_VA, IDENT_VA, IDENT_LEN, pte_native_ro(), "the identity map");

    native_pages.user = fresh_page("the user test page");
    native_pages.module = fresh_page("the module-space page");
    native_pages.fixmap = fresh_page("the fixmap test page");
    map_or_fail(USER_TEST_VA, native_pages.user, pte_native_rw() | _PAGE_USER, "the user test page");
    map_or_fail(MODULE_TEST_VA, native_pages.module, pte_native_rw(), "module space");
    map_or_fail(FIX_TEST_VA, native_pages.fixmap, pte_native_rw(), "the fixmap");
    map_or_fail(FIX_WINDOW_VA, 0, pte_native_rw(), "the physical window");
    if (native_pages.console)
        map_or_fail(FIX_CONSOLE_VA, native_pages.console, pte_native_rw(), "the console ring");
    printk("mm: %u levels, root %#lx: %lu tables below it\n", mm_geo.levels, native_map.root,
           native_map.tables);
}

unsigned long native_walk_pa(unsigned long va, unsigned int *level)
{
    unsigned int l;
    pte_t e = pt_lookup(&native_walk, native_map.root >> PAGE_SHIFT, va, &l);

    if (level)
        *level = l;
    if (!(e & _PAGE_PRESENT))
        return ~0UL;
    return (e & PTE_ADDR_MASK) | (va & ~PAGE_MASK);
}

void native_mm_check_before_load(void)
{
    static const char *const names[] = { "kernel text", "the boot stack", "kernel data", "the direct map" };
    extern char boot_stack[];
    unsigned long vas[] = { (unsigned long)native_mm_load, (unsigned long)boot_stack,
                            (unsigned long)&native_map, mm_geo.page_offset + memmap.ram[0].start };
    unsigned long want[] = { vas[0] - KERNEL_MAP, vas[1] - KERNEL_MAP, vas[2] - KERNEL_MAP,
                             memmap.ram[0].start };
    unsigned int cpu_levels = read_cr4() & CR4_LA57 ? 5 : 4;

    if (mm_geo.levels != cpu_levels)
        result_failure("mm: the tables have %u levels, but CR4.LA57 makes the CPU walk %u",
                       mm_geo.levels, cpu_levels);
    for (unsigned int i = 0; i < ARRAY_SIZE(vas); i++) {
        unsigned int level;
        unsigned long pa = native_walk_pa(vas[i], &level);

        if (pa != want[i])
            result_failure("mm: %s at %#lx: the walker finds %#lx (stopped at level %u), the builder "
                           "mapped %#lx: the CPU would not run on this tree", names[i], vas[i], pa,
                           level, want[i]);
    }
}

void native_mm_load(void)
{
    printk("mm: loading CR3 = %#lx (%u levels)\n", native_map.root, mm_geo.levels);
    write_cr3(native_map.root);
    table_base = mm_geo.page_offset;
}

static void window(unsigned long pa)
{
    /* The window's L1 exists since native_mm_build(): the walker finds it. */
    unsigned long l1 = pt_table_mfn(&native_walk, native_map.root >> PAGE_SHIFT, FIX_WINDOW_VA, 1);
    pte_t *pte;

    if (l1 == PT_NO_TABLE)
        result_error("mm: the physical window %#lx has no L1", FIX_WINDOW_VA);
    pte = &table_at_pa(l1 << PAGE_SHIFT)[PT_INDEX(FIX_WINDOW_VA, PAGE_SHIFT)];

    *pte = (pa & PTE_ADDR_MASK) | pte_native_rw();
    invlpg(FIX_WINDOW_VA);
}

uint64_t phys_read64(unsigned long pa)
{
    window(pa);
    return *(volatile uint64_t *)(FIX_WINDOW_VA + (pa & ~PAGE_MASK));
}

void phys_write64(unsigned long pa, uint64_t v)
{
    window(pa);
    *(volatile uint64_t *)(FIX_WINDOW_VA + (pa & ~PAGE_MASK)) = v;
}
