/* SPDX-License-Identifier: MIT */
/*
 * ramdisk.c - "ramdisk: bytes=<n> xxh64=<hex>" over the ramdisk as the
 * guest sees it.
 *
 * Without MOD_START_PFN Xen mapped the ramdisk inside the initial mapping
 * and it is read in place.  With it (the default image) start_info gives
 * the first pfn and nothing maps it: the pages are read through a small
 * window whose PTEs are pointed at each ramdisk frame in turn with batched
 * update_va_mapping calls (one multicall per window), read-only, and put
 * back on the window's own frames at the end.
 */
#include "ramdisk.h"
#include "console.h"
#include "hypercall.h"
#include "p2m.h"
#include "pgtable.h"
#include "result.h"
#include "xxhash.h"
#include "lib.h"

#define WINDOW_PAGES 64

static uint8_t window[WINDOW_PAGES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));

static void window_map(const unsigned long *mfns, unsigned int n)
{
    multicall_entry_t mc[WINDOW_PAGES];

    for (unsigned int i = 0; i < n; i++) {
        mc[i].op = __HYPERVISOR_update_va_mapping;
        mc[i].args[0] = (unsigned long)window[i];
        mc[i].args[1] = ((uint64_t)mfns[i] << PAGE_SHIFT) | PTE_KERNEL_RO | _PAGE_NX;
        mc[i].args[2] = UVMF_INVLPG | UVMF_LOCAL;
        mc[i].result = 0;
    }
    if (HYPERVISOR_multicall(mc, n))
        result_error("multicall of %u update_va_mapping for the ramdisk window failed", n);
    for (unsigned int i = 0; i < n; i++)
        if ((long)mc[i].result)
            result_error("update_va_mapping(window %p -> mfn %#lx) failed: %ld",
                         window[i], mfns[i], (long)mc[i].result);
}

static void window_restore(unsigned long virt_base)
{
    unsigned long mfns[WINDOW_PAGES];
    multicall_entry_t mc[WINDOW_PAGES];

    for (unsigned int i = 0; i < WINDOW_PAGES; i++) {
        mfns[i] = pfn_to_mfn(((unsigned long)window[i] - virt_base) >> PAGE_SHIFT);
        mc[i].op = __HYPERVISOR_update_va_mapping;
        mc[i].args[0] = (unsigned long)window[i];
        mc[i].args[1] = ((uint64_t)mfns[i] << PAGE_SHIFT) | PTE_KERNEL_RW | _PAGE_NX;
        mc[i].args[2] = UVMF_INVLPG | UVMF_LOCAL;
        mc[i].result = 0;
    }
    if (HYPERVISOR_multicall(mc, WINDOW_PAGES))
        result_error("multicall restoring the ramdisk window failed");
    for (unsigned int i = 0; i < WINDOW_PAGES; i++)
        if ((long)mc[i].result)
            result_error("update_va_mapping(window %p -> own mfn %#lx) failed: %ld",
                         window[i], mfns[i], (long)mc[i].result);
}

static uint64_t hash_unmapped(const start_info_t *si, unsigned long virt_base)
{
    struct xxh64_state st;
    unsigned long left = si->mod_len, pfn = si->mod_start;

    xxh64_init(&st, 0);
    while (left) {
        unsigned long mfns[WINDOW_PAGES];
        unsigned int n = 0;

        for (; n < WINDOW_PAGES && (unsigned long)n * PAGE_SIZE < left; n++, pfn++) {
            mfns[n] = pfn_to_mfn(pfn);
            if (mfns[n] == INVALID_MFN)
                result_error("ramdisk pfn %#lx has no mfn in the p2m", pfn);
        }
        window_map(mfns, n);
        for (unsigned int i = 0; i < n && left; i++) {
            unsigned long chunk = left < PAGE_SIZE ? left : PAGE_SIZE;

            xxh64_update(&st, window[i], chunk);
            left -= chunk;
        }
    }
    window_restore(virt_base);
    return xxh64_digest(&st);
}

void ramdisk_report(const start_info_t *si, unsigned long virt_base)
{
    uint64_t h;

    if (!si->mod_len) {
        printk("ramdisk: none\n");
        return;
    }
    if (si->flags & SIF_MOD_START_PFN)
        h = hash_unmapped(si, virt_base);
    else
        h = xxh64((const void *)si->mod_start, si->mod_len, 0);
    printk("ramdisk: bytes=%lu xxh64=%016lx\n", si->mod_len, (unsigned long)h);
}
