/* SPDX-License-Identifier: MIT */
/*
 * native_layout.h - the native shim's address space.  Top-level slots are
 * PML4 slots with 4 levels and PML5 slots with 5 (mm/geometry.h):
 *
 *  top slot  4 levels               5 levels               what
 *  --------  ---------------------  ---------------------  ------------------------------
 *       0    0x0000000000100000     same                   identity: the image's first MiB, RO
 *       0    0x0000000000400000     same                   USER_TEST_VA: a user page
 *       1    (non-canonical)        0x0001000000000000     LA57_LOW_VA: 2^48, only with LA57
 *     255    (non-canonical)        0x00fffffffffff000     LA57_HIGH_VA: the last user page
 *     273    0xffff888000000000     0xff11000000000000     direct map of all RAM (page_offset)
 *     511    0xffffffff80000000     same                   kernel map: the image at 1 MiB
 *     511    0xffffffffa0000000     same                   MODULE_TEST_VA: module space
 *     511    0xffffffffff5fe000     same                   FIX_TEST_VA: a fixmap page
 *     511    0xffffffffff5fd000     same                   FIX_CONSOLE_VA: Xen's console ring (a PVH domU)
 *     511    0xffffffffff5ff000     same                   FIX_WINDOW_VA: the physical window
 */
#ifndef SHIM_PVH_NATIVE_LAYOUT_H
#define SHIM_PVH_NATIVE_LAYOUT_H

#define IDENT_VA            0x100000UL
#define IDENT_LEN           0x100000UL
#define USER_TEST_VA        0x400000UL
#define LA57_LOW_VA         (1UL << 48)
#define LA57_HIGH_VA        ((1UL << 56) - 0x1000)
#define KERNEL_MAP          0xffffffff80000000UL
#define MODULE_TEST_VA      0xffffffffa0000000UL
#define FIX_CONSOLE_VA      0xffffffffff5fd000UL
#define FIX_TEST_VA         0xffffffffff5fe000UL
#define FIX_WINDOW_VA       0xffffffffff5ff000UL

#endif
