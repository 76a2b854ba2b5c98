/* SPDX-License-Identifier: MIT */
/*
 * memmap.h - RAM as the hvm_start_info's E820 map gives it, and a page
 * allocator over it that never hands out the image, the boot data the
 * loader placed (start_info, its memmap, cmdline and modules) or the
 * first MiB.
 */
#ifndef SHIM_PVH_MEMMAP_H
#define SHIM_PVH_MEMMAP_H

#include <stdbool.h>
#include "lib/xen.h"
#include <xen/arch-x86/hvm/start_info.h>

#define MEMMAP_MAX 64

struct ram_range { unsigned long start, end; };     /* [start, end), page-aligned */

struct memmap {
    struct ram_range ram[MEMMAP_MAX];
    unsigned int nr_ram;
    unsigned long below_4g, above_4g;               /* bytes of RAM */
};

extern struct memmap memmap;

/* Reads the E820 (identity-mapped boot tables: below 4 GiB); an ERROR if unusable. */
void memmap_init(const struct hvm_start_info *si);
/* A page for tables or tests: below 4 GiB while the boot tables are live. */
unsigned long phys_alloc_page(const char *what);
bool phys_page_is_free(unsigned long pa);
/* Pages handed out so far. */
unsigned long phys_pages_used(void);

#endif
