/* SPDX-License-Identifier: MIT */
/*
 * head.S - the PVH entry (XEN_ELFNOTE_PHYS32_ENTRY): QEMU's -kernel, Xen's
 * PVH dom0 builder and libxenguest for type="pvh" all start here.
 *
 * State on entry (the PVH ABI): 32-bit protected mode, paging off, flat
 * CS/DS, interrupts off, ebx = physical address of the hvm_start_info.
 * The image runs where the loader put its segments: p_paddr = vaddr -
 * KERNEL_MAP_BASE (pvh.lds), so the code below uses PA(symbol) until
 * paging is on.
 *
 * The number of levels is chosen here, because CR4.LA57 must be set
 * before CR0.PG and cannot change in long mode: 5 when CPUID.(7,0).ECX[16]
 * says the CPU has LA57 and the command line has no "no5lvl", 4 otherwise.
 *
 * Boot tables (static, 2 MiB pages), one tree for both modes:
 *
 *   boot_pml5[0], [511] --> boot_pml4        (used only with 5 levels)
 *   boot_pml4[0]   --> boot_l3_ident[0..3] --> boot_l2[0..3]: 0 - 4 GiB identity
 *   boot_pml4[511] --> boot_l3_kernel[510] --> boot_l2[0]:  0xffffffff80000000 -> 0
 *
 * With 5 levels the PML4 is the p4d under PML5 slots 0 and 511, which the
 * identity and the kernel map fall into (Linux's toggle_la57 does the same).
 */
#include "pvh/pvh_defs.h"
#include <xen/elfnote.h>

#define PA(x)   ((x) - KERNEL_MAP_BASE)

/* QEMU reads the PHYS32_ENTRY note as 8 bytes in an ELF64; the note segment keeps p_align 4. */
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4, 8, XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .quad PA(pvh_start)
    .balign 4
    .popsection

    .section .text.head, "ax"
    .code32
    .globl pvh_start
pvh_start:
    cli
    cld
    mov  %ebx, PA(pvh_start_info_pa)
    mov  $PA(boot_stack_top), %esp

    /* Levels: 4, or 5 with LA57 and no "no5lvl". */
    movl $4, PA(boot_levels)
    xor  %eax, %eax
    cpuid
    cmp  $7, %eax
    jb   .Llevels_done
    mov  $7, %eax
    xor  %ecx, %ecx
    cpuid
    test $CPUID_7_ECX_LA57, %ecx
    jz   .Llevels_done
    /* The command line, if start_info is one and the line lies below 4 GiB (paging is off). */
    mov  PA(pvh_start_info_pa), %ebx
    xor  %esi, %esi
    cmpl $HVM_SI_MAGIC, (%ebx)
    jne  3f
    cmpl $0, HVM_SI_CMDLINE_PADDR + 4(%ebx)
    jne  3f
    mov  HVM_SI_CMDLINE_PADDR(%ebx), %esi
3:  call no5lvl_on_cmdline
    test %eax, %eax
    jnz  .Llevels_done
    movl $5, PA(boot_levels)
.Llevels_done:

    /* NX, if the CPU has it: EFER.NXE, else bit 63 of an entry is reserved. */
    xor  %edi, %edi
    mov  $0x80000000, %eax
    cpuid
    cmp  $0x80000001, %eax
    jb   1f
    mov  $0x80000001, %eax
    cpuid
    test $CPUID_80000001_EDX_NX, %edx
    jz   1f
    mov  $EFER_NXE, %edi
    movl $1, PA(boot_nx)
1:
    /* CR4 first (LA57 only while paging is off), then CR3, EFER.LME, CR0.PG. */
    mov  $CR4_PAE, %eax
    mov  $PA(boot_pml4), %edx
    cmpl $5, PA(boot_levels)
    jne  2f
    or   $CR4_LA57, %eax
    mov  $PA(boot_pml5), %edx
2:  mov  %eax, %cr4
    mov  %edx, %cr3
    mov  $MSR_EFER, %ecx
    rdmsr
    or   $EFER_LME, %eax
    or   %edi, %eax
    wrmsr
    lgdt PA(boot_gdt_desc32)
    mov  %cr0, %eax
    or   $(CR0_PG | CR0_WP | CR0_PE), %eax
    mov  %eax, %cr0
    ljmp $GDT_CS, $PA(pvh_start64)

/*
 * Whether the command line at esi (0: none) holds the word "no5lvl",
 * words being separated by any byte up to ' ' (blanks, tabs, newlines):
 * eax = 1 if so.  Clobbers ecx, edx, esi, edi.
 */
no5lvl_on_cmdline:
    xor  %eax, %eax
    test %esi, %esi
    jz   9f
    mov  %esi, %edx                 /* edx: the current position */
3:  cmpb $0, (%edx)
    je   9f
    cmp  %esi, %edx                 /* a word starts at the start or after a separator */
    je   4f
    cmpb $' ', -1(%edx)
    ja   6f
4:  push %esi
    mov  %edx, %esi
    mov  $PA(no5lvl_word), %edi
    mov  $6, %ecx
    repe cmpsb
    pop  %esi
    jne  6f
    cmpb $' ', 6(%edx)              /* and ends at a separator or the end (NUL) */
    ja   6f
    mov  $1, %eax
    ret
6:  inc  %edx
    jmp  3b
9:  ret

    .code64
pvh_start64:
    mov  $GDT_DS, %eax
    mov  %eax, %ds
    mov  %eax, %es
    mov  %eax, %ss
    mov  %eax, %fs
    mov  %eax, %gs
    movabs $pvh_start_high, %rax    /* to the kernel map */
    jmp  *%rax
pvh_start_high:
    lgdt boot_gdt_desc64(%rip)      /* the GDT at its kernel-map address */
    lea  boot_stack_top(%rip), %rsp
    xor  %ebp, %ebp
    mov  pvh_start_info_pa(%rip), %edi
    mov  boot_levels(%rip), %esi
    mov  boot_nx(%rip), %edx
    call pvh_main                   /* never returns */
    ud2

    .section .rodata
no5lvl_word:
    .ascii "no5lvl"

    .data
    .balign 8
    .globl pvh_start_info_pa
pvh_start_info_pa:  .quad 0
boot_levels:        .long 0
boot_nx:            .long 0

    .balign 16
    .globl boot_gdt
boot_gdt:
    .quad 0
    .quad GDT_CODE64_DESC           /* GDT_CS */
    .quad GDT_DATA_DESC             /* GDT_DS */
boot_gdt_end:
boot_gdt_desc32:
    .word boot_gdt_end - boot_gdt - 1
    .long PA(boot_gdt)
    .balign 8
    .word 0, 0, 0
boot_gdt_desc64:
    .word boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

/* The boot tables: entries hold physical addresses, computed at link time. */
    .section .data.page_aligned, "aw"
    .balign 4096
boot_pml5:
    .quad PA(boot_pml4) + BOOT_TABLE
    .fill 510, 8, 0
    .quad PA(boot_pml4) + BOOT_TABLE
boot_pml4:
    .quad PA(boot_l3_ident) + BOOT_TABLE
    .fill 510, 8, 0
    .quad PA(boot_l3_kernel) + BOOT_TABLE
boot_l3_ident:
    .quad PA(boot_l2) + BOOT_TABLE
    .quad PA(boot_l2) + 0x1000 + BOOT_TABLE
    .quad PA(boot_l2) + 0x2000 + BOOT_TABLE
    .quad PA(boot_l2) + 0x3000 + BOOT_TABLE
    .fill 508, 8, 0
boot_l3_kernel:
    .fill 510, 8, 0
    .quad PA(boot_l2) + BOOT_TABLE
    .quad 0
boot_l2:                            /* 2048 x 2 MiB: 0 - 4 GiB */
    .set i, 0
    .rept 2048
    .quad (i << 21) + BOOT_LARGE
    .set i, i + 1
    .endr

    .section .bss.stack, "aw", @nobits
    .balign 4096
    .globl boot_stack, boot_stack_top
boot_stack:
    .skip 16384
boot_stack_top:
