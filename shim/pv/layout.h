/* SPDX-License-Identifier: MIT */
/*
 * layout.h - the shim's virtual address space (Linux's x86-64 layout).
 *
 *  L4 slot   virtual address          what
 *  -------   ----------------------   -------------------------------------
 *    0-255   0000000000000000 -       user space: the only slots a user L4
 *            00007fffffffffff         may hold (mirrored by set_pgd)
 *  256-271   ffff800000000000 -       Xen's: M2P (RO), linear map, per-domain
 *            ffff87ffffffffff         ... Xen fills them at pin time
 *      273   ffff888000000000         PAGE_OFFSET: direct map of all RAM
 *                                     L4[273] -> level3_ident -> level2_ident
 *                                     (one L3 per 512 GiB, one L2 per GiB)
 *      400   ffffc80000000000         P2M_VADDR: the linear p2m list (p2m.c)
 *      511   ffffff8000000000         L4[511] -> level3_kernel:
 *
 *   level3_kernel[510] -> level2_kernel   ffffffff80000000 - ffffffffbfffffff
 *   level3_kernel[511] -> level2_fixmap   ffffffffc0000000 - ffffffffffffffff
 *
 *   ffffffff80000000  kernel image (KERNEL_IMAGE_SIZE: 512 MiB or 1 GiB)
 *   MODULES_VADDR     module space = KERNEL_MAP + KERNEL_IMAGE_SIZE
 *                     512M: level2_kernel[256..511] + level2_fixmap[0..503]
 *                     1G:   level2_fixmap[0..503] only
 *   ffffffffff000000  MODULES_END
 *   ffffffffff400000  level2_fixmap[506] -> level1_fixmap: the fixmap,
 *   ffffffffff600000  growing down from FIXADDR_TOP
 */
#ifndef SHIM_LAYOUT_H
#define SHIM_LAYOUT_H

#include "mm/geometry.h"

/*
 * The direct map's base and the user limit are run-time values
 * (mm/geometry.h), as Linux's page_offset_base.  A PV guest never changes
 * them from their 4-level defaults: Xen PV is 4-level, and the PV entry
 * does not look at CR4 (Linux's xen_start_kernel path does the same).
 */
#define PAGE_OFFSET         (mm_geo.page_offset)
#define PAGE_OFFSET_SLOT    TOP_SLOT_DIRECT_MAP
#define P2M_VADDR           0xffffc80000000000UL
#define P2M_L4_SLOT         400
/* The M2P cannot describe more frames than this (MACH2PHYS_NR_ENTRIES). */
#define P2M_MAX_PFNS        (1UL << 35)
/*
 * The direct map has the L4 slots from PAGE_OFFSET_SLOT up to the p2m's:
 * 127 x 512 GiB of RAM at most (a 64-bit PV guest gets far less from Xen).
 * Past it, set_pgd would write the p2m's slot, and then past the L4 page.
 */
#define DMAP_MAX_PAGES      ((unsigned long)(P2M_L4_SLOT - PAGE_OFFSET_SLOT) << (L4_SHIFT - PAGE_SHIFT))
#define KERNEL_MAP_BASE     0xffffffff80000000UL
#define KERNEL_L4_SLOT      511
#define KERNEL_L3_SLOT      510     /* level3_kernel[510] -> level2_kernel */
#define FIXMAP_L3_SLOT      511     /* level3_kernel[511] -> level2_fixmap */

#ifndef CONFIG_KERNEL_IMAGE_SIZE
#define CONFIG_KERNEL_IMAGE_SIZE (512UL << 20)
#endif
#define KERNEL_IMAGE_SIZE   ((unsigned long)CONFIG_KERNEL_IMAGE_SIZE)
#define MODULES_VADDR       (KERNEL_MAP_BASE + KERNEL_IMAGE_SIZE)
#define MODULES_END         0xffffffffff000000UL
#define MODULES_LEN         (MODULES_END - MODULES_VADDR)

#define FIXMAP_L2_SLOT      506
#define FIXADDR_TOP         0xffffffffff600000UL
enum fixed_addresses {
    FIX_SHARED_INFO,
    FIX_BALLOON,                /* a page populated beyond the direct map */
    __end_of_fixed_addresses
};
#define fix_to_virt(idx)    (FIXADDR_TOP - (((unsigned long)(idx) + 1) << PAGE_SHIFT))

/* Xen owns L4 slots 256-271; a guest entry there is refused (-EINVAL). */
#define XEN_FIRST_SLOT      256
#define XEN_LAST_SLOT       271
#define USER_L4_SLOTS       256     /* user range: L4[0..255] */
#define USER_VA_LIMIT       (mm_geo.user_va_limit)

/* Where the ring-3 test runs. */
#define USER_TEST_VA        0x0000000000400000UL

#endif
