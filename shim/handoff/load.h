/* SPDX-License-Identifier: MIT */
/*
 * load.h - the next kernel's initial memory, written as the plan says:
 * its segments, initrd, p2m list, start_info and initial page tables.
 *
 * Pure apart from the three callbacks: page() gives a writable view of the
 * frame that will be the next kernel's pfn, write_words() writes a page of
 * it word by word, mfn() names the machine frame that will back it.  The
 * guest passes the direct map and the renumbering; a host test passes
 * plain arrays.  It keeps a page of words in a static buffer, so it must
 * not be re-entered (it runs once, on vCPU 0, with the others down).
 */
#ifndef SHIM_HANDOFF_LOAD_H
#define SHIM_HANDOFF_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "plan.h"
#include "lib/xen.h"

#define LOAD_INVALID_MFN (~0UL)         /* a pfn without a frame, in the p2m list */

struct load_in {
    const struct xen_elf *kernel;
    const uint8_t *image;               /* the kernel's ELF file */
    const uint8_t *initrd;
    size_t initrd_len;
    const char *cmdline;                /* may be NULL */
    size_t cmdline_len;
    const struct plan_out *plan;
    const start_info_t *si;             /* the shim's: what the next kernel inherits */
    unsigned long nr_pages;             /* the next kernel's p2m list length */
    unsigned long (*mfn)(unsigned long next_pfn, void *arg);  /* LOAD_INVALID_MFN: none */
    uint8_t *(*page)(unsigned long next_pfn, void *arg);
    /* The p2m list's pages: 512 words each, written one by one (the caller's plat_write64). */
    void (*write_words)(unsigned long next_pfn, const uint64_t *w, void *arg);
    void *arg;
};

/*
 * Writes everything; the page tables are left writable here (the caller
 * makes them read-only everywhere before the pin).  Returns the number of
 * pages written.  The frames of the initial region that the plan leaves
 * unwritten (the padding) are the next kernel's free memory.
 */
unsigned long handoff_load(const struct load_in *in);

/* The next kernel's start_info.flags from the shim's. */
uint32_t handoff_si_flags(const start_info_t *si, const struct plan_out *p);

#endif
