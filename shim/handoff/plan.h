/* SPDX-License-Identifier: MIT */
/*
 * plan.h - where the next kernel goes: its initial region laid out as
 * libxenguest's domain builder lays out a PV guest, and the frames that
 * back it chosen so that no frame the shim still lives on is written.
 *
 * Pure: the caller says which pfns are RAM and which are live (the
 * shim's tables, p2m, image and the bootpack itself), by callbacks, so the
 * host tests run it on any layout.
 */
#ifndef SHIM_HANDOFF_PLAN_H
#define SHIM_HANDOFF_PLAN_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "xen_elf.h"

/* A run of the next kernel's pfns, and where the initial mapping shows it (va 0: unmapped). */
struct plan_seg {
    unsigned long pfn, pages;
    uint64_t va;
};

/*
 * Next pfn `pfn` gets the frame that is pfn `from` today (PLAN_NO_FRAME:
 * none, a hole moved up); every pfn not in the list keeps its frame.  One
 * M2P update per move that carries a frame.
 */
#define PLAN_NO_FRAME (~0UL)

struct plan_move {
    unsigned long pfn, from;
};

struct plan_in {
    const struct xen_elf *kernel;
    unsigned long nr_pages;         /* the domain's pfns: the next kernel's p2m size */
    unsigned long initrd_len;       /* bytes, 0 = none */
    bool ring_pages;                /* a domU: xenstore and console pages ... */
    unsigned long store_pfn, console_pfn;   /* ... which are today these pfns (live ones) */
    bool (*ram)(unsigned long pfn, void *arg);      /* has a frame */
    bool (*live)(unsigned long pfn, void *arg);     /* the shim still needs its frame's contents */
    void *arg;
};

/* Page tables of one mapping, by level (0: L1 ... 3: L4). */
struct plan_tables {
    unsigned long count[4];
    unsigned long total;
};

/*
 * One mapping of the next kernel's initial tables, as libxenguest keeps it
 * (struct xc_dom_x86_mapping): the area [from, to] shows pfns from pfn on,
 * and at each level (0: L1 ... 3: L4) `count` tables, consecutive from
 * `pfn`, cover the addresses from `from` (all 48-bit, sign dropped).  A
 * level the first mapping's tables already cover has count 0.
 */
struct plan_map {
    uint64_t from, to;
    unsigned long pfn;
    struct { uint64_t from; unsigned long pfn, count; } lv[4];
};

struct plan_out {
    /* The initial region [virt_base, v_end): pfn = (va - virt_base) >> 12. */
    struct plan_seg kernel, initrd, p2m, start_info, xenstore, console, pgtables, stack;
    uint64_t v_end;
    unsigned long region_pages;
    bool initrd_mapped;             /* in the region; else at initrd.pfn, by pfn (MOD_START_PFN) */
    struct plan_tables tables;      /* the region's mapping */
    /* With INIT_P2M: the list at that address, its pages and then its own tables. */
    bool init_p2m;
    struct plan_tables p2m_tables;
    struct plan_map map[2];         /* the region; with INIT_P2M also the list */
    unsigned int nr_maps;
    unsigned long last_pfn;         /* one past the last pfn the plan writes */
    unsigned long nr_moves;
};

/*
 * Lays the next kernel out and picks its frames; moves (capacity cap, at
 * most 2 * last_pfn + 2 are needed) receives the renumbering, sorted by
 * pfn.  With moves NULL only the layout is made (the frames are not
 * looked at).  false, with the cause in why, when it does not fit: more
 * than the domain's RAM, an initial region one L2 cannot map (Linux takes
 * over a single L2), mappings that overlap, or too few free frames to move
 * the live ones out of the way.
 */
bool handoff_plan(const struct plan_in *in, struct plan_out *out, struct plan_move *moves,
                  unsigned long cap, char *why, size_t why_len);

/*
 * The entry at `slot` of the level-`level` table `table` (an index into
 * map[m].lv[level]): the pfn it points at (the next level's table, or for
 * an L1 the page the area shows there), or false when the entry is empty.
 * *table_pfn says whether that pfn is itself a page table (mapped
 * read-only, as libxenguest does).
 */
bool plan_entry(const struct plan_out *p, unsigned int m, unsigned int level, unsigned long table,
                unsigned int slot, unsigned long *pfn, bool *table_pfn);

/* The pfn whose frame the next kernel's pfn x gets: moves[] sorted by pfn (PLAN_NO_FRAME: none). */
unsigned long plan_from(const struct plan_move *moves, unsigned long nr_moves, unsigned long x);
/*
 * The same for callers that mostly ask in ascending order (the load fills
 * the next kernel's p2m pfn by pfn: 2^28 questions at 1 TiB): *at keeps
 * where the last answer was found, so a sweep costs a step per question
 * instead of a search.  Any order stays correct; *at starts at 0.
 */
unsigned long plan_from_at(const struct plan_move *moves, unsigned long nr_moves, unsigned long x,
                           unsigned long *at);

/* Is pfn the xenstore or console slot (a domU's: the rings' own frames, never written)? */
static inline bool plan_is_ring_slot(const struct plan_out *p, unsigned long pfn)
{
    return p->xenstore.pages && (pfn == p->xenstore.pfn || pfn == p->console.pfn);
}

/* Is pfn one of the plan's page tables (any mapping, any level)? */
bool plan_is_table(const struct plan_out *p, unsigned long pfn);

#endif
