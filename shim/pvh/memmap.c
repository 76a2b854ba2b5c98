/* SPDX-License-Identifier: MIT */
/* memmap.c - the E820 and the page allocator over it (memmap.h). */
#include "pvh/memmap.h"
#include "pvh/pvh_defs.h"
#include "lib.h"
#include "console.h"
#include "result.h"

struct memmap memmap;

/* What the allocator must not hand out: [start, end) physical. */
#define MAX_RESERVED 8
static struct ram_range reserved[MAX_RESERVED];
static unsigned int nr_reserved;
static unsigned int cur_range;
static unsigned long next_page, used;

extern char _text[], _end[];

static void reserve(unsigned long start, unsigned long len)
{
    if (!len)
        return;
    if (nr_reserved == MAX_RESERVED)
        result_error("memmap: more than %u boot data ranges to keep", MAX_RESERVED);
    reserved[nr_reserved++] = (struct ram_range){ start & PAGE_MASK, ALIGN_UP(start + len, PAGE_SIZE) };
}

static const char *type_name(uint32_t t)
{
    switch (t) {
    case XEN_HVM_MEMMAP_TYPE_RAM: return "RAM";
    case XEN_HVM_MEMMAP_TYPE_RESERVED: return "reserved";
    case XEN_HVM_MEMMAP_TYPE_ACPI: return "ACPI";
    case XEN_HVM_MEMMAP_TYPE_NVS: return "NVS";
    default: return "other";
    }
}

void memmap_init(const struct hvm_start_info *si)
{
    const struct hvm_memmap_table_entry *e;

    if (si->version < 1 || !si->memmap_paddr || !si->memmap_entries)
        result_error("start_info: version %u with %u memmap entries: no E820 to find RAM in",
                     si->version, si->version >= 1 ? si->memmap_entries : 0);
    if (si->memmap_paddr >= (1UL << 32))
        result_error("start_info.memmap_paddr %#lx: above 4 GiB, out of the boot tables' reach",
                     (unsigned long)si->memmap_paddr);
    e = (const struct hvm_memmap_table_entry *)(unsigned long)si->memmap_paddr;
    for (unsigned int i = 0; i < si->memmap_entries; i++) {
        unsigned long start = ALIGN_UP(e[i].addr, PAGE_SIZE), end = (e[i].addr + e[i].size) & PAGE_MASK;

        printk("memmap: %#014lx-%#014lx %s\n", (unsigned long)e[i].addr,
               (unsigned long)(e[i].addr + e[i].size), type_name(e[i].type));
        if (e[i].type != XEN_HVM_MEMMAP_TYPE_RAM || end <= start)
            continue;
        if (memmap.nr_ram == MEMMAP_MAX)
            result_error("memmap: more than %u RAM ranges", MEMMAP_MAX);
        memmap.ram[memmap.nr_ram++] = (struct ram_range){ start, end };
        for (unsigned long a = start; a < end; ) {
            unsigned long stop = a < (1UL << 32) && end > (1UL << 32) ? 1UL << 32 : end;

            if (a < (1UL << 32))
                memmap.below_4g += stop - a;
            else
                memmap.above_4g += stop - a;
            a = stop;
        }
    }
    if (!memmap.nr_ram)
        result_error("memmap: no RAM in %u entries", si->memmap_entries);

    reserve(0, 1UL << 20);
    reserve((unsigned long)_text - KERNEL_MAP_BASE, (unsigned long)(_end - _text));
    reserve((unsigned long)si - 0, sizeof(*si));
    reserve(si->memmap_paddr, si->memmap_entries * sizeof(*e));
    if (si->cmdline_paddr)
        reserve(si->cmdline_paddr, PAGE_SIZE);
    if (si->nr_modules && si->modlist_paddr) {
        const struct hvm_modlist_entry *m = (const void *)(unsigned long)si->modlist_paddr;

        reserve(si->modlist_paddr, sizeof(*m));
        reserve(m[0].paddr, m[0].size);
    }
    next_page = memmap.ram[0].start;
    printk("memmap: RAM %lu MiB below 4 GiB, %lu MiB above\n", memmap.below_4g >> 20, memmap.above_4g >> 20);
}

static bool is_reserved(unsigned long pa)
{
    for (unsigned int i = 0; i < nr_reserved; i++)
        if (pa >= reserved[i].start && pa < reserved[i].end)
            return true;
    return false;
}

unsigned long phys_alloc_page(const char *what)
{
    while (cur_range < memmap.nr_ram) {
        const struct ram_range *r = &memmap.ram[cur_range];

        if (next_page < r->start)
            next_page = r->start;
        for (; next_page < r->end && next_page < (1UL << 32); next_page += PAGE_SIZE)
            if (!is_reserved(next_page)) {
                used++;
                next_page += PAGE_SIZE;
                return next_page - PAGE_SIZE;
            }
        if (next_page < r->end)
            break;              /* past 4 GiB: not reachable yet */
        cur_range++;
    }
    result_error("memmap: out of memory below 4 GiB for %s (%lu pages used)", what, used);
}

unsigned long phys_pages_used(void)
{
    return used;
}
