/* SPDX-License-Identifier: MIT */
/* memmap.c - the E820 and the page allocator over it (memmap.h). */
#include "pvh/memmap.h"
#include "pvh/pvh_defs.h"
#include "pvh/xen_pvh.h"
#include "lib/lib.h"
#include "lib/console.h"
#include "lib/result.h"

struct memmap memmap;

/* What the allocator must not hand out: [start, end) physical. */
#define MAX_MODULES 16
#define MAX_RESERVED (6 + 2 * MAX_MODULES)
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

/* The BIOS's E820 entry (ACPI's address range descriptor), as XENMEM_memory_map returns it. */
struct e820_entry {
    uint64_t addr, size;
    uint32_t type;
} __attribute__((packed));

static struct e820_entry e820[MEMMAP_MAX];

/*
 * The map: start_info's (version 1: QEMU, a PVH domU), or Xen's for a PVH
 * dom0, whose start_info is version 0.  Returns the number of entries.
 */
static unsigned int read_e820(const struct hvm_start_info *si)
{
    const struct hvm_memmap_table_entry *e = (const void *)(unsigned long)si->memmap_paddr;
    unsigned int n = 0;

    if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
        if (si->memmap_paddr >= (1UL << 32))
            result_error("start_info.memmap_paddr %#lx: above 4 GiB, out of the boot tables' reach",
                         (unsigned long)si->memmap_paddr);
        for (; n < si->memmap_entries && n < MEMMAP_MAX; n++)
            e820[n] = (struct e820_entry){ e[n].addr, e[n].size, e[n].type };
        return n;
    }
    if (on_xen) {
        struct xen_memory_map map = { .nr_entries = MEMMAP_MAX };
        long rc;

        set_xen_guest_handle(map.buffer, e820);
        rc = xen_pvh_hypercall(__HYPERVISOR_memory_op, XENMEM_memory_map, (unsigned long)&map, 0);
        if (rc)
            result_error("XENMEM_memory_map failed: %ld (start_info version %u has no memmap)", rc,
                         si->version);
        return map.nr_entries;
    }
    result_error("start_info: version %u with %u memmap entries, and no Xen to ask: no E820 to find RAM in",
                 si->version, si->version >= 1 ? si->memmap_entries : 0);
}

void memmap_init(const struct hvm_start_info *si)
{
    unsigned int nr = read_e820(si);

    for (unsigned int i = 0; i < nr; i++) {
        unsigned long start = ALIGN_UP(e820[i].addr, PAGE_SIZE), end = (e820[i].addr + e820[i].size) & PAGE_MASK;

        printk("memmap: %#014lx-%#014lx %s\n", (unsigned long)e820[i].addr,
               (unsigned long)(e820[i].addr + e820[i].size), type_name(e820[i].type));
        if (e820[i].type != XEN_HVM_MEMMAP_TYPE_RAM || end <= start)
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
        result_error("memmap: no RAM in %u entries", nr);

    /* Everything the loader placed stays; it all lies below 4 GiB, in the boot identity map. */
    reserve(0, 1UL << 20);
    reserve((unsigned long)_text - KERNEL_MAP_BASE, (unsigned long)(_end - _text));
    reserve((unsigned long)si, sizeof(*si));
    if (si->version >= 1)
        reserve(si->memmap_paddr, si->memmap_entries * sizeof(struct hvm_memmap_table_entry));
    if (si->cmdline_paddr)
        reserve(si->cmdline_paddr, strlen((const char *)(unsigned long)si->cmdline_paddr) + 1);
    if (si->nr_modules && si->modlist_paddr) {
        const struct hvm_modlist_entry *m = (const void *)(unsigned long)si->modlist_paddr;

        if (si->nr_modules > MAX_MODULES)
            result_error("start_info: %u modules, more than the %u the shim keeps track of",
                         si->nr_modules, MAX_MODULES);
        reserve(si->modlist_paddr, si->nr_modules * sizeof(*m));
        for (unsigned int i = 0; i < si->nr_modules; i++) {
            reserve(m[i].paddr, m[i].size);
            if (m[i].cmdline_paddr)
                reserve(m[i].cmdline_paddr, strlen((const char *)(unsigned long)m[i].cmdline_paddr) + 1);
        }
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

/* Whether no one uses the page at pa: RAM, not kept for the loader, not handed out yet. */
bool phys_page_is_free(unsigned long pa)
{
    for (unsigned int i = 0; i < memmap.nr_ram; i++) {
        const struct ram_range *r = &memmap.ram[i];

        if (pa < r->start || pa >= r->end)
            continue;
        return !is_reserved(pa) && (i > cur_range || (i == cur_range && pa >= next_page));
    }
    return false;
}

unsigned long phys_pages_used(void)
{
    return used;
}
