/* SPDX-License-Identifier: MIT */
/* page_alloc.c - the page-table buffer and a small page allocator (see page_alloc.h). */
#include "pv/page_alloc.h"
#include "pv/layout.h"
#include "pv/mmu_plat.h"
#include "lib/lib.h"
#include "lib/spinlock.h"

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
static bool (*usable)(unsigned long pfn);

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

/* Every vCPU allocates: the ranges and the free list are under one lock. */
static spinlock_t lock;

/* Freed pages are chained through their first word, via the direct map. */
static void free_locked(unsigned long pfn)
{
    plat_write64(PAGE_OFFSET + (pfn << PAGE_SHIFT), free_list);
    free_list = pfn;
}

void pages_free(unsigned long pfn)
{
    spin_lock(&lock);
    free_locked(pfn);
    spin_unlock(&lock);
}

void pages_reset(bool (*is_ram)(unsigned long pfn))
{
    nr_ranges = 0;
    free_list = FREE_LIST_END;
    usable = is_ram;
}

static unsigned long alloc_locked(void)
{
    if (free_list != FREE_LIST_END) {
        unsigned long pfn = free_list;

        free_list = plat_read64(PAGE_OFFSET + (pfn << PAGE_SHIFT));
        return pfn;
    }
    for (unsigned int i = 0; i < nr_ranges; i++)
        while (ranges[i].next < ranges[i].end) {
            unsigned long pfn = ranges[i].next++;

            if (usable(pfn))
                return pfn;     /* else a hole: skipped, never touched */
        }
    return FREE_LIST_END;
}

unsigned long pages_alloc(const char *what)
{
    unsigned long pfn;

    spin_lock(&lock);
    pfn = alloc_locked();
    spin_unlock(&lock);
    if (pfn == FREE_LIST_END)
        mmu_error("out of memory allocating %s", what);
    return pfn;
}

void pages_for_each_free(void (*fn)(unsigned long pfn, void *arg), void *arg)
{
    for (unsigned long pfn = free_list; pfn != FREE_LIST_END;
         pfn = plat_read64(PAGE_OFFSET + (pfn << PAGE_SHIFT)))
        fn(pfn, arg);
    for (unsigned int i = 0; i < nr_ranges; i++)
        for (unsigned long pfn = ranges[i].next; pfn < ranges[i].end; pfn++)
            if (usable(pfn))
                fn(pfn, arg);
}

static unsigned long alloc_contig_locked(unsigned long n)
{
    for (unsigned int i = 0; i < nr_ranges; i++) {
        unsigned long first = ranges[i].next, have = 0;

        /* The first run of n pfns that are all RAM; the RAM skipped on the way is freed. */
        for (unsigned long pfn = first; have < n && pfn < ranges[i].end; pfn++) {
            if (usable(pfn)) {
                have++;
                continue;
            }
            for (unsigned long p = first; p < pfn; p++)
                free_locked(p);
            first = ranges[i].next = pfn + 1;
            have = 0;
        }
        if (have == n) {
            ranges[i].next = first + n;
            return first;
        }
    }
    return FREE_LIST_END;
}

unsigned long pages_alloc_contig(unsigned long n, const char *what)
{
    unsigned long first;

    spin_lock(&lock);
    first = alloc_contig_locked(n);
    spin_unlock(&lock);
    if (first == FREE_LIST_END)
        mmu_error("out of memory allocating %lu contiguous pages for %s", n, what);
    return first;
}

