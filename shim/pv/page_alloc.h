/* SPDX-License-Identifier: MIT */
/*
 * page_alloc.h - where frames come from.
 *
 * The page-table buffer (pgtbuf) is a run of pfns set aside before the
 * direct map exists, sized for the worst case.  Every page table the
 * bring-up builds is taken from it, in order.  The direct map maps the
 * whole buffer read-only from the start, because any of its pages may
 * become a page table and Xen refuses a table that is writable anywhere.
 * Once the bring-up is done, the used part stays reserved (and read-only);
 * the unused tail is remapped writable and given to the page allocator.
 *
 * The page allocator hands out ordinary, writable pages afterwards.  A page
 * that is to become a page table must then be cleared, remapped read-only
 * and only then hooked (mmu_pv.c: pt_alloc_late()).
 */
#ifndef SHIM_PAGE_ALLOC_H
#define SHIM_PAGE_ALLOC_H

#include <stdbool.h>

struct pgtbuf {
    unsigned long start;        /* first pfn */
    unsigned long end;          /* next free pfn: [start, end) used */
    unsigned long top;          /* [end, top) not used yet */
};

extern struct pgtbuf pgtbuf;

void pgtbuf_init(unsigned long start, unsigned long pages);
unsigned long pgtbuf_alloc(const char *what);
static inline bool pgtbuf_contains(unsigned long pfn)
{
    return pfn >= pgtbuf.start && pfn < pgtbuf.top;
}

/*
 * The page allocator: ranges of free pfns plus a free list (needs the
 * direct map), under one lock, for every vCPU.  A pfn in a range is handed out only if usable(pfn) says it
 * is RAM: the ranges are spans of pfns, and the builder may leave holes in
 * them (p2m entries with no machine frame).
 */
/* Forget every range and free page (a new boot, in the host model). */
void pages_reset(bool (*usable)(unsigned long pfn));
void pages_add_range(unsigned long start, unsigned long end);
unsigned long pages_alloc(const char *what);
unsigned long pages_alloc_contig(unsigned long n, const char *what);
void pages_free(unsigned long pfn);
/* Calls fn for every pfn the allocator holds free (the hand-off's "not live"). */
void pages_for_each_free(void (*fn)(unsigned long pfn, void *arg), void *arg);

#endif
