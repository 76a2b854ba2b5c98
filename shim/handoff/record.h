/* SPDX-License-Identifier: MIT */
/*
 * record.h - what the first shim leaves behind for the next kernel to
 * check, as kexec's kdump leaves the old kernel's memory: every page-table
 * frame of the shim (kernel and user L4 first) and every page of its p2m
 * list, each with an XXH64 of its contents.
 *
 * The next kernel asks for it by putting the word "handoff-record" on its
 * command line (in the bootpack); the first shim replaces the word with
 * "handoff-record=<mfn of the record's head page>".  A second shim then
 * checks, before its own bring-up, that each frame is unchanged, that the
 * p2m and the M2P it was given agree on it, and that Xen lets it map the
 * frame writable: which proves that every pin and base pointer of the
 * first shim was released (record_check()).
 *
 *   head page:   struct record_head
 *   entry pages: struct record_entry[RECORD_PER_PAGE] each
 */
#ifndef SHIM_HANDOFF_RECORD_H
#define SHIM_HANDOFF_RECORD_H

#include <stdint.h>
#include "lib/xen.h"

#define RECORD_MAGIC        0x3163657220666873ULL      /* "shf rec1" */
#define RECORD_WORD         "handoff-record"
#define RECORD_MAX_PAGES    480

enum record_kind {
    RECORD_L1 = 1, RECORD_L2, RECORD_L3, RECORD_L4,     /* a page table of that level */
    RECORD_P2M = 16,                                    /* a page of the p2m list */
};

struct record_head {
    uint64_t magic;
    uint64_t nr_entries, nr_pages;          /* entries, and the pages that hold them */
    uint64_t kernel_l4, user_l4;            /* mfns (user_l4 0: none) */
    uint64_t count[RECORD_P2M + 1];         /* entries per kind */
    uint64_t page_mfn[RECORD_MAX_PAGES];
};

struct record_entry {
    uint64_t mfn, kind;
    uint64_t hash;                          /* tables: A/D masked, an L4's Xen slots zeroed */
};

#define RECORD_PER_PAGE (4096 / sizeof(struct record_entry))

/* First shim, before the plan (the record's frames must be live): the pages it needs, allocated. */
void record_reserve(unsigned long nr_pfns);
/* The head page's mfn (0: no record reserved). */
unsigned long record_head_mfn(void);
/* First shim, at the last moment before the switch: the frames, hashed. */
void record_fill(void);

/* Second shim, before its bring-up, with "handoff-record=<mfn>" on its command line. */
void record_check(const start_info_t *si, unsigned long virt_base);

#endif
