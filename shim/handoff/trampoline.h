/* SPDX-License-Identifier: MIT */
/*
 * trampoline.h - the one page that is mapped at the same address in the
 * shim's tables and in the next kernel's, from which the switch is made
 * (switch.c fills it, trampoline.S is its code).
 *
 *   0x000  code: a copy of handoff_trampoline .. handoff_trampoline_end
 *   0x800  the mmuext ops: NEW_BASEPTR first, then NEW_USER_BASEPTR 0, unpins
 *   0xc00  struct handoff_block (below)
 *   0xd00  the message for a failure after the switch
 *
 * The page is the last of the next kernel's initial region: padding, which
 * that kernel takes as free memory, so nothing of it is needed after the
 * jump.  (Its boot stack is the page the plan gives it, zeroed.)
 *
 * Xen reads the ops and writes the done count through whichever tables are
 * loaded at that moment, which is why they live in this page too.
 */
#ifndef SHIM_HANDOFF_TRAMPOLINE_H
#define SHIM_HANDOFF_TRAMPOLINE_H

#define TRAMP_OPS_OFF     0x800
#define TRAMP_MAX_OPS     32
#define TRAMP_BLOCK_OFF   0xc00
#define TRAMP_MSG_OFF     0xd00
#define TRAMP_MSG_MAX     0x100

/* struct handoff_block, field by field (8 bytes each), for the assembly. */
#define HB_OPS            0     /* address of the ops */
#define HB_NR_OPS         8
#define HB_DONE           16    /* address of an unsigned int: ops Xen completed */
#define HB_ENTRY          24    /* the next kernel's entry */
#define HB_STACK          32    /* its initial rsp */
#define HB_START_INFO     40    /* its start_info (rsi) */
#define HB_MSG            48    /* address and length of the message */
#define HB_MSG_LEN        56
#define HB_SHUTDOWN       64    /* address of a struct sched_shutdown { SHUTDOWN_crash } */
#define HB_SCHED_CMD      72    /* SCHEDOP_shutdown (sched.h is C only) */
#define HB_DONE_WORD      80    /* the done count itself */
#define HB_SHUTDOWN_WORD  88    /* the sched_shutdown itself */

#ifndef __ASSEMBLY__
#include <stdint.h>

struct handoff_block {
    uint64_t ops, nr_ops, done, entry, stack, start_info, msg, msg_len, shutdown, sched_cmd;
    uint64_t done_word, shutdown_word;
};

_Static_assert(__builtin_offsetof(struct handoff_block, shutdown_word) == HB_SHUTDOWN_WORD,
               "trampoline.h offsets");

/*
 * Runs from the copy at `block`'s page in the shim's tables: one mmuext_op
 * (the switch), then the next kernel.  Returns only when Xen refused the
 * first op (the shim's tables are still loaded): with its error.
 */
long handoff_trampoline(const struct handoff_block *block);
extern char handoff_trampoline_end[];
#endif

#endif
