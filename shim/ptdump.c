/* SPDX-License-Identifier: MIT */
/*
 * ptdump.c - the live tables as address ranges, like Linux's ptdump:
 *
 *   ptdump: kernel 0xffff888000000000-0xffff888010000000    256M RW NX   pte
 *
 * Consecutive leaf pages with the same flags merge into one line; Xen's
 * L4 slots are one line each table.  docs/ turns these lines into a picture.
 */
#include "ptdump.h"
#include "mmu.h"
#include "mmu_plat.h"
#include "pt_walk.h"
#include "lib.h"

#define FLAG_MASK (_PAGE_RW | _PAGE_USER | _PAGE_NX | _PAGE_PRESENT)

struct range {
    const char *table;
    unsigned long start, end;   /* end == 0: nothing open */
    pte_t flags;
    unsigned long pages;
};

static void flush_range(struct range *r)
{
    unsigned long size = r->end - r->start;
    const char *unit = "K";

    if (!r->end)
        return;
    size >>= 10;
    if (size >= 1024 && !(size & 1023)) {
        size >>= 10;
        unit = "M";
        if (size >= 1024 && !(size & 1023)) {
            size >>= 10;
            unit = "G";
        }
    }
    mmu_print("ptdump: %-6s %#018lx-%#018lx %7lu%s %s %s %s pte\n", r->table, r->start, r->end,
              size, unit, (r->flags & _PAGE_RW) ? "RW" : "ro",
              (r->flags & _PAGE_USER) ? "USR" : "   ", (r->flags & _PAGE_NX) ? "NX" : "x ");
    r->end = 0;
}

static bool visit(void *p, unsigned int level, unsigned long table_mfn, unsigned int slot,
                  pte_t e, unsigned long va)
{
    struct range *r = p;

    (void)table_mfn;
    if (level == 4 && slot >= XEN_FIRST_SLOT && slot <= XEN_LAST_SLOT) {
        if (slot == XEN_FIRST_SLOT) {
            flush_range(r);
            mmu_print("ptdump: %-6s %#018lx-%#018lx      8T xen (L4 slots %d-%d, Xen's)\n",
                      r->table, va, va + (16UL << L4_SHIFT), XEN_FIRST_SLOT, XEN_LAST_SLOT);
        }
        return false;
    }
    if (level != 1 || !(e & _PAGE_PRESENT))
        return true;
    /*
     * Xen sets USER on every page of a PV kernel (it runs in ring 3) and
     * marks the kernel's own with bit 52: only pages without it are user pages.
     */
    if (e & _PAGE_XEN_GUEST_KERNEL)
        e &= ~_PAGE_USER;
    e &= FLAG_MASK;
    if (r->end == va && r->flags == e) {
        r->end += PAGE_SIZE;
        return true;
    }
    flush_range(r);
    r->start = va;
    r->end = va + PAGE_SIZE;
    r->flags = e;
    return true;
}

void ptdump(void)
{
    const struct pt_geometry geo = { .levels = 4, .read = mmu_read_entry };
    struct range r = { .table = "kernel" };

    pt_walk(&geo, mmu_pfn_to_mfn(mmu_tables.kernel_l4), visit, &r);
    flush_range(&r);
    if (mmu_tables.user_l4) {
        r.table = "user";
        pt_walk(&geo, mmu_pfn_to_mfn(mmu_tables.user_l4), visit, &r);
        flush_range(&r);
    }
}
