/* SPDX-License-Identifier: MIT */
/*
 * xen-head.S - the ELF notes Xen's domain builders read, and the entry point.
 *
 * Both builders (Xen's dom0 builder and libxenguest for `xl create`) parse
 * these notes before anything runs.  What each one makes the builder do:
 *
 *   VIRT_BASE 0xffffffff80000000  the initial mapping starts here (Linux's
 *                                 __START_KERNEL_map), and so does the image
 *   PADDR_OFFSET 0                ELF p_paddr = vaddr - VIRT_BASE (shim.lds)
 *   FEATURES !writable_page_tables
 *                                 "!" marks a feature *required* (public/
 *                                 elfnote.h): writable page tables, declared
 *                                 supported and required, as Linux does.  For
 *                                 64-bit PV nothing acts on it: libxenguest only
 *                                 checks it against this very note, Xen never
 *                                 offers the feature to PV, and both builders
 *                                 map the initial tables read-only.  The shim
 *                                 changes its tables through hypercalls only.
 *   MOD_START_PFN 1               the ramdisk is not mapped: start_info
 *                                 gives its first pfn (left out when built
 *                                 with MAPPED_RAMDISK=1, so that Xen maps it
 *                                 right after the image)
 *
 * There is deliberately no HYPERCALL_PAGE note: hypercalls are `syscall`
 * (hypercall.h).
 */
#include <xen/elfnote.h>

#define ELFNOTE(type, desc_directive, desc)         \
    .pushsection .note.Xen, "a", @note;             \
    .balign 4;                                      \
    .long 2f - 1f;          /* name size */         \
    .long 4f - 3f;          /* desc size */         \
    .long type;                                     \
1:  .asciz "Xen";                                   \
2:  .balign 4;                                      \
3:  desc_directive desc;                            \
4:  .balign 4;                                      \
    .popsection

ELFNOTE(XEN_ELFNOTE_GUEST_OS,       .asciz, "shim")
ELFNOTE(XEN_ELFNOTE_GUEST_VERSION,  .asciz, "0.1")
ELFNOTE(XEN_ELFNOTE_XEN_VERSION,    .asciz, "xen-3.0")
ELFNOTE(XEN_ELFNOTE_VIRT_BASE,      .quad,  0xffffffff80000000)
ELFNOTE(XEN_ELFNOTE_PADDR_OFFSET,   .quad,  0)
ELFNOTE(XEN_ELFNOTE_ENTRY,          .quad,  _start)
ELFNOTE(XEN_ELFNOTE_FEATURES,       .asciz, "!writable_page_tables")
ELFNOTE(XEN_ELFNOTE_PAE_MODE,       .asciz, "yes")
ELFNOTE(XEN_ELFNOTE_LOADER,         .asciz, "generic")
ELFNOTE(XEN_ELFNOTE_SUSPEND_CANCEL, .long,  1)
#ifndef CONFIG_MAPPED_RAMDISK
ELFNOTE(XEN_ELFNOTE_MOD_START_PFN,  .long,  1)
#endif
#ifdef CONFIG_INIT_P2M
ELFNOTE(XEN_ELFNOTE_INIT_P2M,       .quad,  CONFIG_INIT_P2M)
#endif

/*
 * Entry, as Xen leaves it: %rsi = start_info (virtual), %rsp = top of a
 * one-page boot stack that Xen placed after the boot page tables, event
 * upcalls masked, running in ring 3 on the boot page tables.
 *
 * The boot stack's top is the bound the shim has, before it reads any
 * table, on the initial mapping: everything Xen placed (image, lists,
 * start_info, tables, stack) lies below it, and all of that is mapped.  The
 * mapping itself goes on to a 4 MiB boundary; mmu_pv.c measures it.
 */
    .section .text.head, "ax"
    .code64
    .globl _start
_start:
    cld
    mov  %rsp, %rdx                 /* 3rd arg: boot stack top */
    lea  boot_stack_top(%rip), %rsp
    mov  %rsi, %rdi                 /* 1st arg: start_info */
    lea  _start(%rip), %rsi         /* 2nd arg: where we run (== VIRT_BASE) */
    xor  %ebp, %ebp
    call start_shim                 /* never returns */
    ud2

    .section .bss.stack, "aw", @nobits
    .balign 4096
    .globl boot_stack, boot_stack_top
boot_stack:
    .skip 16384
boot_stack_top:
