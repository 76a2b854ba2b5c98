/* SPDX-License-Identifier: MIT */
/* ramdisk.h - the ramdisk check: XXH64 over every byte the guest was given. */
#ifndef SHIM_RAMDISK_H
#define SHIM_RAMDISK_H

#include "lib/xen.h"

/* After the MMU bring-up: the ramdisk is read through the direct map. */
void ramdisk_report(const start_info_t *si);
/* Where the ramdisk's first byte is in the direct map (after the bring-up). */
unsigned long ramdisk_va(const start_info_t *si);

#endif
