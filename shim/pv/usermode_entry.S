/* SPDX-License-Identifier: MIT */
/*
 * usermode_entry.S - a round trip to ring 3 and back.
 *
 * usermode_enter(ctx, rip, rsp, arg) saves the callee-saved registers and
 * where to return, then asks Xen to "return" to user mode with
 * HYPERVISOR_iret: Xen switches to the user L4 (NEW_USER_BASEPTR) and
 * enters user mode with %rdi = arg.  The user code ends in an exception;
 * Xen bounces it to the shim's trap handler on the kernel stack given by
 * stack_switch, and the handler calls usermode_resume(ctx, value), which
 * returns `value` from usermode_enter on the original stack.
 *
 * The frame for HYPERVISOR_iret, from the top of the stack:
 *   rax r11 rcx flags | rip cs rflags rsp ss
 * rflags leaves IF clear: IF in the frame is the virtual event mask, and
 * the shim registers no event callback.
 */
#include <xen/xen.h>

/* struct usermode_ctx: rbx rbp r12 r13 r14 r15 rsp rip */
    .text
    .globl usermode_enter
usermode_enter:
    mov  %rbx, 0(%rdi)
    mov  %rbp, 8(%rdi)
    mov  %r12, 16(%rdi)
    mov  %r13, 24(%rdi)
    mov  %r14, 32(%rdi)
    mov  %r15, 40(%rdi)
    lea  8(%rsp), %rax
    mov  %rax, 48(%rdi)         /* rsp after our return */
    mov  (%rsp), %rax
    mov  %rax, 56(%rdi)         /* our return address */

    push $FLAT_USER_SS
    push %rdx                   /* user rsp */
    push $0x2                   /* rflags: IF clear */
    push $FLAT_USER_CS
    push %rsi                   /* user rip */
    push $0                     /* flags: not in syscall context */
    push $0                     /* rcx */
    push $0                     /* r11 */
    push $0                     /* rax */
    mov  %rcx, %rdi             /* the user code's argument */
    xor  %esi, %esi
    xor  %edx, %edx
    xor  %ebx, %ebx
    xor  %ebp, %ebp
    mov  $__HYPERVISOR_iret, %eax
    syscall
    ud2

    .globl usermode_resume
usermode_resume:
    mov  0(%rdi), %rbx
    mov  8(%rdi), %rbp
    mov  16(%rdi), %r12
    mov  24(%rdi), %r13
    mov  32(%rdi), %r14
    mov  40(%rdi), %r15
    mov  48(%rdi), %rsp
    mov  %rsi, %rax
    jmp  *56(%rdi)

/*
 * The user program, copied to the start of a user page (position
 * independent).  It reads a cookie from its own page, writes its
 * complement back (both must work), then reads the kernel address in %rdi:
 * with a separate user L4 that is a page fault.  Reaching the ud2 means the
 * kernel is visible to user mode.
 */
    .section .rodata
    .globl user_blob_start, user_blob_end
user_blob_start:
    lea  user_blob_start(%rip), %rbx
    mov  0x800(%rbx), %rax
    not  %rax
    mov  %rax, 0x808(%rbx)
    mov  (%rdi), %rax
    ud2
user_blob_end:
