/* SPDX-License-Identifier: MIT */
/*
 * handoff_check.h - the hand-off on the model, judged from outside
 * (handoff_check.c): what the next kernel finds when the trampoline jumps,
 * against what the test put in the bootpack, and what is left of the shim.
 */
#ifndef TESTS_MODEL_HANDOFF_CHECK_H
#define TESTS_MODEL_HANDOFF_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/xen.h"

/* A PT_LOAD segment of the next kernel, at the address its tables must show it. */
struct handoff_seg {
    uint64_t vaddr;
    const uint8_t *data;
    size_t filesz, memsz;
};

struct handoff_expect {
    uint64_t entry;
    const struct handoff_seg *segs;
    unsigned int nr_segs;
    const uint8_t *initrd;
    size_t initrd_len;
    bool initrd_by_pfn;             /* the kernel declares MOD_START_PFN */
    uint64_t hypercall_page;        /* its HYPERCALL_PAGE (0: none): Xen's stubs, not the file's bytes */
    uint64_t init_p2m;              /* its INIT_P2M (0: none): where the p2m list must be */
    const char *cmdline;            /* start_info's, exactly ("handoff-record" gets its "=0x<mfn>") */
};

struct drive_result;

/* Right before handoff_go(): the shim's tables, its pages, start_info and the hypercall count so far. */
void handoff_snapshot(const start_info_t *si);
/* After the jump (outcome OUT_JUMPED): fills r->ho. */
void handoff_verify(const struct handoff_expect *x, struct drive_result *r);

#endif
