/* SPDX-License-Identifier: MIT */
/*
 * native_mm.h - the native platform's page tables: entries are plain
 * memory, a table change is a store, CR3 is loaded by the CPU itself.
 */
#ifndef SHIM_PVH_NATIVE_MM_H
#define SHIM_PVH_NATIVE_MM_H

#include "mm/pt_map.h"
#include "mm/pt_walk.h"

extern struct pt_mapper native_map;         /* the shim's own tree, root included */
extern struct pt_geometry native_walk;      /* the walker over it */

/* The test pages the builder mapped (physical addresses). */
struct native_pages { unsigned long user, module, fixmap, console; };   /* console: 0 if none */
extern struct native_pages native_pages;

void native_mm_build(void);
/* Refuses a tree the CPU could not walk (before CR3 would triple-fault on it). */
void native_mm_check_before_load(void);
void native_mm_load(void);

/* Map one page (and flush it); -1 if va is not canonical at this geometry. */
int native_map_page(unsigned long va, unsigned long pa, pte_t flags);
/* The physical address the walker finds for va, or ~0UL (level: where it stopped). */
unsigned long native_walk_pa(unsigned long va, unsigned int *level);
/* 8 bytes at a physical address, through the fixmap window (another mapping than the one tested). */
uint64_t phys_read64(unsigned long pa);
void phys_write64(unsigned long pa, uint64_t v);

/* Leaf protections; NX only where the CPU has it (else bit 63 is reserved). */
extern pte_t native_nx;

static inline pte_t pte_native_rw(void)
{
    return _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | native_nx;
}

static inline pte_t pte_native_ro(void)
{
    return _PAGE_PRESENT | _PAGE_ACCESSED | native_nx;
}

static inline pte_t pte_native_text(void)
{
    return _PAGE_PRESENT | _PAGE_ACCESSED;
}

#endif
