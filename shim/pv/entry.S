/* SPDX-License-Identifier: MIT */
/*
 * entry.S - exception entry and exit for a 64-bit PV kernel.
 *
 * Xen bounces an exception to the handler named in the trap table with a
 * frame on the kernel stack that carries two more words than the
 * hardware's: the interrupted %rcx and %r11 (Xen needed those registers to
 * get here).  The stub restores them and then builds the usual frame:
 *
 *   hardware-like frame        what do_trap() sees (struct cpu_regs)
 *   +0  rcx (Xen's extra)      r15 ... rdi   saved general registers
 *   +8  r11 (Xen's extra)      vector
 *   +16 [error code]           error code (0 if the vector has none)
 *       rip cs rflags rsp ss   rip cs rflags rsp ss
 *
 * A ring-3 kernel cannot use `iretq` to go back (it cannot restore a
 * privileged frame, and QEMU's TCG faults on it under SMAP), so the exit
 * is HYPERVISOR_iret, whose frame adds rax, r11, rcx and a flags word on
 * top of rip/cs/rflags/rsp/ss.
 */
#include <xen/xen.h>

.macro TRAP_STUB vec, has_error
    .balign 16
trap_entry_\vec:
    pop  %rcx
    pop  %r11
    .if !\has_error
    push $0
    .endif
    push $\vec
    jmp  trap_common
.endm

    .text
TRAP_STUB 0, 0      /* #DE */
TRAP_STUB 1, 0      /* #DB */
TRAP_STUB 3, 0      /* #BP */
TRAP_STUB 4, 0      /* #OF */
TRAP_STUB 5, 0      /* #BR */
TRAP_STUB 6, 0      /* #UD */
TRAP_STUB 7, 0      /* #NM */
TRAP_STUB 8, 1      /* #DF */
TRAP_STUB 10, 1     /* #TS */
TRAP_STUB 11, 1     /* #NP */
TRAP_STUB 12, 1     /* #SS */
TRAP_STUB 13, 1     /* #GP */
TRAP_STUB 14, 1     /* #PF */
TRAP_STUB 16, 0     /* #MF */
TRAP_STUB 17, 1     /* #AC */
TRAP_STUB 18, 0     /* #MC */
TRAP_STUB 19, 0     /* #XM */

/*
 * The callbacks a secondary vCPU's context names (smp.c).  The event upcall
 * comes with the same frame as an exception without error code; the
 * failsafe callback's frame has ds, es, fs and gs above rip.  Neither is
 * expected: both end in do_trap()'s ERROR, under a pseudo-vector.
 */
    .globl event_upcall_entry, failsafe_entry
    .balign 16
event_upcall_entry:
    pop  %rcx
    pop  %r11
    push $0
    push $256                   /* TRAP_EVENT_UPCALL */
    jmp  trap_common
    .balign 16
failsafe_entry:
    pop  %rcx
    pop  %r11
    add  $32, %rsp              /* ds es fs gs */
    push $0
    push $257                   /* TRAP_FAILSAFE */
    jmp  trap_common

/*
 * bool probe_read64(unsigned long va, uint64_t *val): one load that may
 * fault.  A #PF (or #GP) on the load at probe_read64_load resumes at
 * probe_read64_fixup (do_trap), which returns false: Linux's exception
 * table, with one entry.  Used for the M2P, which Xen maps only as far as
 * the host's memory goes, while a domU is told it may span 2^35 frames.
 */
    .globl probe_read64, probe_read64_load, probe_read64_fixup
probe_read64:
probe_read64_load:
    mov  (%rdi), %rax
    mov  %rax, (%rsi)
    mov  $1, %eax
    ret
probe_read64_fixup:
    xor  %eax, %eax
    ret

trap_common:
    push %rdi
    push %rsi
    push %rdx
    push %rcx
    push %rax
    push %r8
    push %r9
    push %r10
    push %r11
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov  %rsp, %rdi
    call do_trap
    /* fall through: do_trap() returned, resume the frame (maybe edited) */

    .globl trap_return
trap_return:
    pop  %r15
    pop  %r14
    pop  %r13
    pop  %r12
    pop  %rbp
    pop  %rbx
    pop  %r11
    pop  %r10
    pop  %r9
    pop  %r8
    pop  %rax
    pop  %rcx
    pop  %rdx
    pop  %rsi
    pop  %rdi
    add  $16, %rsp              /* vector, error code */
    /* HYPERVISOR_iret frame: rax r11 rcx flags | rip cs rflags rsp ss */
    push $0
    push %rcx
    push %r11
    push %rax
    mov  $__HYPERVISOR_iret, %eax
    syscall
    ud2                         /* Xen only returns here if the frame was bad */

    .section .rodata
    .balign 8
    .globl trap_entry_table
trap_entry_table:
    .irp v, 0, 1, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18, 19
    .byte \v
    .balign 8
    .quad trap_entry_\v
    .endr
    .byte 0xff                  /* end marker */
    .balign 8
    .quad 0
