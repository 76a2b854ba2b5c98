/* SPDX-License-Identifier: MIT */
/* page_alloc.c - the page-table buffer and a small page allocator (see page_alloc.h). */
#include "page_alloc.h"
#include "layout.h"
#include "mmu_plat.h"
#include "lib.h"

struct pgtbuf pgtbuf;

void pgtbuf_init(unsigned long start, unsigned long pages)
{
    pgtbuf.start = pgtbuf.end = start;
    pgtbuf.top = start + pages;
}

unsigned long pgtbuf_alloc(const char *what)
{
    if (pgtbuf.end >= pgtbuf.top)
        mmu_error("page-table buffer [%#lx, %#lx) exhausted allocating %s",
                  pgtbuf.start, pgtbuf.top, what);
    return pgtbuf.end++;
}

#define MAX_RANGES 8
#define FREE_LIST_END (~0UL)

static struct { unsigned long next, end; } ranges[MAX_RANGES];
static unsigned int nr_ranges;
static unsigned long free_list = FREE_LIST_END;

void pages_add_range(unsigned long start, unsigned long end)
{
    if (start >= end)
        return;
    if (nr_ranges == MAX_RANGES)
        mmu_error("page allocator: more than %d free ranges", MAX_RANGES);
    ranges[nr_ranges].next = start;
    ranges[nr_ranges].end = end;
    nr_ranges++;
}

/* Freed pages are chained through their first word, via the direct map. */
void pages_free(unsigned long pfn)
{
    plat_write64(PAGE_OFFSET + (pfn << PAGE_SHIFT), free_list);
    free_list = pfn;
}

void pages_reset(void)
{
    nr_ranges = 0;
    free_list = FREE_LIST_END;
}

unsigned long pages_alloc(const char *what)
{
    if (free_list != FREE_LIST_END) {
        unsigned long pfn = free_list;

        free_list = plat_read64(PAGE_OFFSET + (pfn << PAGE_SHIFT));
        return pfn;
    }
    for (unsigned int i = 0; i < nr_ranges; i++)
        if (ranges[i].next < ranges[i].end)
            return ranges[i].next++;
    mmu_error("out of memory allocating %s", what);
}

/* n consecutive pfns (for things the direct map should see as one block). */
unsigned long pages_alloc_contig(unsigned long n, const char *what)
{
    for (unsigned int i = 0; i < nr_ranges; i++) {
        if (ranges[i].end - ranges[i].next >= n) {
            unsigned long first = ranges[i].next;

            ranges[i].next += n;
            return first;
        }
    }
    mmu_error("out of memory allocating %lu contiguous pages for %s", n, what);
}

