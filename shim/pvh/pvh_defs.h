/* SPDX-License-Identifier: MIT */
/*
 * pvh_defs.h - architectural constants the PVH entry (head.S) and the
 * native platform share, and the offsets head.S reads from hvm_start_info
 * (checked against Xen's own header by native_plat.c at compile time).
 */
#ifndef SHIM_PVH_DEFS_H
#define SHIM_PVH_DEFS_H

#define KERNEL_MAP_BASE         0xffffffff80000000
#define PVH_LOAD_PHYS           0x100000        /* p_paddr of the image: 1 MiB */

#define CR0_PE                  0x00000001
#define CR0_WP                  0x00010000
#define CR0_PG                  0x80000000
#define CR4_PAE                 0x00000020
#define CR4_LA57                0x00001000
#define MSR_EFER                0xc0000080
#define EFER_LME                0x00000100
#define EFER_NXE                0x00000800
#define CPUID_7_ECX_LA57        (1 << 16)
#define CPUID_80000001_EDX_NX   (1 << 20)

#define GDT_CS                  0x08
#define GDT_DS                  0x10
#define GDT_CODE64_DESC         0x00af9a000000ffff      /* L=1, present, ring 0, code */
#define GDT_DATA_DESC           0x00cf92000000ffff      /* present, ring 0, data */

#define BOOT_TABLE              0x003                   /* present, writable */
#define BOOT_LARGE              0x083                   /* present, writable, 2 MiB */

/*
 * hvm_start_info (xen/arch-x86/hvm/start_info.h, which is C only): what
 * head.S reads, checked against the header by pvh_main.c.
 */
#define HVM_SI_MAGIC            0x336ec578
#define HVM_SI_CMDLINE_PADDR    24

/* QEMU's isa-debug-exit, as the rig starts it: exit status (v << 1) | 1. */
#define DEBUG_EXIT_PORT         0xf4
#define DEBUG_EXIT_SUCCESS      0x10                    /* QEMU exits 33 */
#define DEBUG_EXIT_FAILURE      0x11                    /* QEMU exits 35 */

#endif
