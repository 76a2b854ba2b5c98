/* SPDX-License-Identifier: MIT */
/*
 * ramdisk.c - "ramdisk: bytes=<n> xxh64=<hex>" over the ramdisk as the
 * guest sees it.
 *
 * With MOD_START_PFN (the default image) start_info gives the first pfn
 * and Xen maps nothing; without it (MAPPED_RAMDISK=1) Xen mapped the
 * ramdisk inside the initial mapping, at VIRT_BASE + pfn pages.  Either
 * way the pages are RAM of ours, so after the MMU bring-up both are read
 * through the direct map, however large the ramdisk.
 */
#include "pv/ramdisk.h"
#include "lib/console.h"
#include "pv/mmu.h"
#include "lib/xxhash.h"
#include "lib/lib.h"

unsigned long ramdisk_va(const start_info_t *si)
{
    if (si->flags & SIF_MOD_START_PFN)
        return pfn_to_virt(si->mod_start);
    return boot_va_to_direct(si->mod_start);
}

void ramdisk_report(const start_info_t *si)
{
    uint64_t h;

    if (!si->mod_len) {
        printk("ramdisk: none\n");
        return;
    }
    h = xxh64((const void *)ramdisk_va(si), si->mod_len, 0);
    printk("ramdisk: bytes=%lu xxh64=%016lx\n", si->mod_len, (unsigned long)h);
}
