/* SPDX-License-Identifier: MIT */
/*
 * trap_entry.S - the native IDT's 32 exception stubs and the probes that
 * expect a fault.  Each stub pushes an error code (0 where the CPU pushes
 * none) and its vector, then native_trap() gets the frame (traps_native.c).
 *
 * A probe arms probe_resume with the address after its one risky
 * instruction; a fault there resumes at it, and probe_vector says which.
 */
#define NOERR(v) \
    .balign 16; stub_##v: push $0; push $v; jmp trap_common;
#define ERR(v) \
    .balign 16; stub_##v: push $v; jmp trap_common;

    .text
    .code64
NOERR(0)  NOERR(1)  NOERR(2)  NOERR(3)  NOERR(4)  NOERR(5)  NOERR(6)  NOERR(7)
ERR(8)    NOERR(9)  ERR(10)   ERR(11)   ERR(12)   ERR(13)   ERR(14)   NOERR(15)
NOERR(16) ERR(17)   NOERR(18) NOERR(19) NOERR(20) ERR(21)   NOERR(22) NOERR(23)
NOERR(24) NOERR(25) NOERR(26) NOERR(27) NOERR(28) ERR(29)   ERR(30)   NOERR(31)

trap_common:
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    mov  %rsp, %rdi
    call native_trap
    pop  %r11
    pop  %r10
    pop  %r9
    pop  %r8
    pop  %rdi
    pop  %rsi
    pop  %rdx
    pop  %rcx
    pop  %rax
    add  $16, %rsp                  /* vector, error code */
    iretq

/* uint64_t probe_read64(unsigned long va) */
    .globl probe_read64
probe_read64:
    lea  1f(%rip), %rax
    mov  %rax, probe_resume(%rip)
    xor  %eax, %eax
    mov  (%rdi), %rax
1:  movq $0, probe_resume(%rip)
    ret

/* void probe_toggle_la57(void): flips CR4.LA57 in long mode (it must #GP). */
    .globl probe_toggle_la57
probe_toggle_la57:
    lea  1f(%rip), %rax
    mov  %rax, probe_resume(%rip)
    mov  %cr4, %rax
    xor  $0x1000, %rax
    mov  %rax, %cr4
1:  movq $0, probe_resume(%rip)
    ret

    .section .rodata
    .balign 8
    .globl trap_stubs
trap_stubs:
    .quad stub_0,  stub_1,  stub_2,  stub_3,  stub_4,  stub_5,  stub_6,  stub_7
    .quad stub_8,  stub_9,  stub_10, stub_11, stub_12, stub_13, stub_14, stub_15
    .quad stub_16, stub_17, stub_18, stub_19, stub_20, stub_21, stub_22, stub_23
    .quad stub_24, stub_25, stub_26, stub_27, stub_28, stub_29, stub_30, stub_31
