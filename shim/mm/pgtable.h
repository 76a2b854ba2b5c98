/* SPDX-License-Identifier: MIT */
/* pgtable.h - x86-64 page-table entry bits and index helpers (architecture, not Xen ABI). */
#ifndef SHIM_PGTABLE_H
#define SHIM_PGTABLE_H

#include <stdint.h>

typedef uint64_t pte_t;

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)
#define PAGE_MASK  (~(PAGE_SIZE - 1))

#define _PAGE_PRESENT   0x001ULL
#define _PAGE_RW        0x002ULL
#define _PAGE_USER      0x004ULL
#define _PAGE_PWT       0x008ULL
#define _PAGE_PCD       0x010ULL
#define _PAGE_ACCESSED  0x020ULL
#define _PAGE_DIRTY     0x040ULL
#define _PAGE_PSE       0x080ULL
#define _PAGE_GLOBAL    0x100ULL
#define _PAGE_NX        (1ULL << 63)
/*
 * Xen's mark on the L1 entries of a 64-bit PV kernel's own pages (it adds
 * _PAGE_USER to them and this bit to tell them from real user pages).  Not
 * in the public headers: xen/arch/x86/include/asm/x86_64/page.h.
 */
#define _PAGE_XEN_GUEST_KERNEL (1ULL << 52)

#define PTE_ADDR_MASK   0x000ffffffffff000ULL
#define PTE_MFN(e)      (((e) & PTE_ADDR_MASK) >> 12)

#define PT_ENTRIES      512
#define L1_SHIFT        12
#define L2_SHIFT        21
#define L3_SHIFT        30
#define L4_SHIFT        39
#define L5_SHIFT        48
#define PT_INDEX(va, shift) (((va) >> (shift)) & (PT_ENTRIES - 1))

/* Kernel data page (Xen adds _PAGE_USER itself: a PV kernel runs in ring 3). */
#define PTE_KERNEL_RW   (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)
#define PTE_KERNEL_RO   (_PAGE_PRESENT | _PAGE_ACCESSED)
#define PTE_TABLE       (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY)   /* an entry naming a table */

#endif
