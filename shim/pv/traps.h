/* SPDX-License-Identifier: MIT */
/* traps.h - the exception frame and the hooks that may claim an exception. */
#ifndef SHIM_TRAPS_H
#define SHIM_TRAPS_H

#include <stdint.h>
#include <stdbool.h>
#include "lib/xen.h"

struct cpu_regs {
    uint64_t r15, r14, r13, r12, rbp, rbx, r11, r10, r9, r8, rax, rcx, rdx, rsi, rdi;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* A handler that may claim an exception (returns true) and edit the frame to resume. */
typedef bool (*trap_hook_t)(struct cpu_regs *regs, unsigned long cr2);

/*
 * Pseudo-vectors of the two callbacks a secondary vCPU is given (entry.S):
 * the shim takes no event upcall, and a failsafe callback means Xen could
 * not load a segment; either ends the run with an ERROR.
 */
#define TRAP_EVENT_UPCALL 256
#define TRAP_FAILSAFE     257
extern const char event_upcall_entry[], failsafe_entry[];

void traps_init(unsigned long kernel_stack_top);
/* The trap table as VCPUOP_initialise wants it: indexed by vector. */
void traps_fill_ctxt(struct trap_info ctxt[256]);
/* One load that may fault (entry.S): false if it did, and *val is untouched. */
bool probe_read64(unsigned long va, uint64_t *val);
/* This vCPU's hook. */
void traps_set_hook(trap_hook_t hook);
/* Where vCPU 0 finds cr2 (vcpu_info[0].arch.cr2); the others' follow in shared_info. */
void traps_set_cr2_source(const volatile unsigned long *cr2);

#endif
