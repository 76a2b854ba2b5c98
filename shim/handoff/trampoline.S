/* SPDX-License-Identifier: MIT */
/*
 * trampoline.S - the switch to the next kernel's tables, and the jump.
 *
 * Copied into the trampoline page (trampoline.h) and called there, on the
 * shim's stack, with %rdi = the block in that page.  Position independent:
 * everything it needs comes from the block.  It makes the hypercall with
 * its own `syscall` (Xen's 64-bit PV ABI: %rax the number, then %rdi, %rsi,
 * %rdx, %r10; %rcx and %r11 are lost), because nothing of the shim is
 * mapped once NEW_BASEPTR has run, not even its stack: events are masked,
 * so Xen has no reason to write a frame onto it.
 */
#include <xen/xen.h>
#include "trampoline.h"

    .text
    .globl handoff_trampoline, handoff_trampoline_end
handoff_trampoline:
    push %rbx
    mov  %rdi, %rbx
    mov  HB_OPS(%rbx), %rdi
    mov  HB_NR_OPS(%rbx), %rsi
    mov  HB_DONE(%rbx), %rdx
    mov  $DOMID_SELF, %r10
    mov  $__HYPERVISOR_mmuext_op, %eax
    syscall
    test %rax, %rax
    jnz  1f
    /* On the next kernel's tables, the shim's unpinned: its start state. */
    mov  HB_STACK(%rbx), %rsp
    mov  HB_START_INFO(%rbx), %rsi
    mov  HB_ENTRY(%rbx), %rax
    xor  %ebx, %ebx
    xor  %ecx, %ecx
    xor  %edx, %edx
    xor  %edi, %edi
    xor  %ebp, %ebp
    xor  %r8d, %r8d
    xor  %r9d, %r9d
    xor  %r10d, %r10d
    xor  %r11d, %r11d
    xor  %r12d, %r12d
    xor  %r13d, %r13d
    xor  %r14d, %r14d
    xor  %r15d, %r15d
    jmp  *%rax
1:  mov  HB_DONE(%rbx), %rcx
    cmpl $0, (%rcx)
    jne  2f
    pop  %rbx               /* NEW_BASEPTR refused: still on the shim's tables */
    ret
2:  /*
     * Refused past NEW_BASEPTR: the shim is unmapped.  Say so on Xen's console (a
     * release build of Xen drops a domU's console_io, so there only the crash shows),
     * and crash the domain.
     */
    mov  $CONSOLEIO_write, %edi
    mov  HB_MSG_LEN(%rbx), %rsi
    mov  HB_MSG(%rbx), %rdx
    mov  $__HYPERVISOR_console_io, %eax
    syscall
    mov  HB_SCHED_CMD(%rbx), %rdi
    mov  HB_SHUTDOWN(%rbx), %rsi
    mov  $__HYPERVISOR_sched_op, %eax
    syscall
    ud2                     /* no trap table: Xen crashes the domain */
handoff_trampoline_end:
