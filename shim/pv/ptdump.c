/* SPDX-License-Identifier: MIT */
/*
 * ptdump.c - the live tables as address ranges, like Linux's ptdump:
 *
 *   ptdump: kernel 0xffff888000000000-0xffff888010000000    256M RW     NX pte
 *
 * Consecutive pages with the same flags merge into one line, whatever they
 * map.  Xen's L4 slots are one line, saying whether the M2P is there (it is
 * not in a user L4 under m2p_strict).  Tables shared by many slots (the
 * p2m's "missing" L1 and L2 stand for hundreds of GiB of address space)
 * are walked once: a table whose pages all have the same flags is
 * remembered, and meeting it again extends the range by its whole span.
 */
#include "pv/ptdump.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/p2m.h"
#include "mm/pt_walk.h"
#include "lib/lib.h"

#define FLAG_MASK (_PAGE_RW | _PAGE_USER | _PAGE_NX | _PAGE_PRESENT)
#define MIXED     (~0ULL)       /* a table whose pages differ (or have holes) */
#define CACHE     32

struct dump {
    const char *table;
    unsigned long start, end;   /* end == 0: nothing open */
    pte_t flags;
    struct { unsigned long mfn; pte_t flags; } seen[CACHE];
    unsigned int nr_seen, next_seen;
};

static void flush_range(struct dump *d)
{
    unsigned long size = (d->end - d->start) >> 10;
    const char *unit = "K";

    if (!d->end)
        return;
    if (size >= 1024 && !(size & 1023)) {
        size >>= 10;
        unit = "M";
        if (size >= 1024 && !(size & 1023)) {
            size >>= 10;
            unit = "G";
        }
    }
    mmu_print("ptdump: %-6s %#018lx-%#018lx %7lu%s %s %s %s pte\n", d->table, d->start, d->end,
              size, unit, (d->flags & _PAGE_RW) ? "RW" : "ro",
              (d->flags & _PAGE_USER) ? "USR" : "   ", (d->flags & _PAGE_NX) ? "NX" : "x ");
    d->end = 0;
}

static void add(struct dump *d, unsigned long va, unsigned long size, pte_t flags)
{
    if (d->end == va && d->flags == flags) {
        d->end += size;
        return;
    }
    flush_range(d);
    d->start = va;
    d->end = va + size;
    d->flags = flags;
}

/*
 * Xen sets USER on every page of a PV kernel (it runs in ring 3) and marks
 * the kernel's own with bit 52: only pages without it are user pages.
 */
static pte_t leaf_flags(pte_t e)
{
    if (e & _PAGE_XEN_GUEST_KERNEL)
        e &= ~_PAGE_USER;
    return e & FLAG_MASK;
}

/* Dump one table; returns the flags all its pages share, or MIXED. */
static pte_t dump_table(struct dump *d, unsigned int level, unsigned long mfn, unsigned long base)
{
    unsigned long span = 1UL << pt_level_shift(level);
    pte_t common = 0;
    unsigned long at = mmu_table_va(mfn);

    for (unsigned int s = 0; s < PT_ENTRIES; s++) {
        pte_t e = mmu_read_at(at, s), f = MIXED;
        unsigned long va = pt_slot_va(&mmu_geo, base, level, s);

        if (!(e & _PAGE_PRESENT)) {
            flush_range(d);
        } else if (level == 1) {
            f = leaf_flags(e);
            add(d, va, span, f);
        } else {
            unsigned int i;

            for (i = 0; i < d->nr_seen && d->seen[i].mfn != PTE_MFN(e); i++)
                ;
            if (i < d->nr_seen) {
                f = d->seen[i].flags;
                add(d, va, span, f);
            } else {
                f = dump_table(d, level - 1, PTE_MFN(e), va);
                if (f != MIXED) {
                    /* A ring: shared tables recur close together, so the recent ones matter. */
                    d->seen[d->next_seen].mfn = PTE_MFN(e);
                    d->seen[d->next_seen].flags = f;
                    d->next_seen = (d->next_seen + 1) % CACHE;
                    if (d->nr_seen < CACHE)
                        d->nr_seen++;
                }
            }
        }
        if (s == 0)
            common = f;
        else if (f != common)
            common = MIXED;
    }
    return common;
}

static void dump_root(struct dump *d, unsigned long l4_mfn)
{
    for (unsigned int s = 0; s < PT_ENTRIES; s++) {
        unsigned long va = (unsigned long)s << L4_SHIFT;
        pte_t e = mmu_read_entry(l4_mfn, s);

        if (s >= 256)
            va |= 0xffff000000000000UL;
        if (s >= XEN_FIRST_SLOT && s <= XEN_LAST_SLOT) {
            if (s == XEN_FIRST_SLOT) {
                flush_range(d);
                mmu_print("ptdump: %-6s %#018lx-%#018lx      8T xen (L4 slots %d-%d; M2P %s)\n",
                          d->table, va, va + (16UL << L4_SHIFT), XEN_FIRST_SLOT, XEN_LAST_SLOT,
                          (e & _PAGE_PRESENT) ? "mapped" : "not mapped");
            }
            continue;
        }
        if (!(e & _PAGE_PRESENT)) {
            flush_range(d);
            continue;
        }
        dump_table(d, 3, PTE_MFN(e), va);
    }
    flush_range(d);
}

void ptdump(void)
{
    static struct dump d;

    memset(&d, 0, sizeof(d));
    d.table = "kernel";
    dump_root(&d, mmu_pfn_to_mfn(init_mm.kernel_l4));
    if (init_mm.user_l4) {
        memset(&d, 0, sizeof(d));
        d.table = "user";
        dump_root(&d, mmu_pfn_to_mfn(init_mm.user_l4));
    }

}
