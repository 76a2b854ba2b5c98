/* SPDX-License-Identifier: MIT */
/*
 * setup.c - the boot sequence, top to bottom.
 *
 *   0. %gs at vCPU 0's block: every vCPU knows which it is
 *   1. traps: so that any fault from here on ends in a readable ERROR
 *   2. the M2P (and m2p_strict), then the console (a domU's console page
 *      is found through the M2P)
 *   3. start_info checked against what the shim knows independently
 *   4. the summary printed
 *   5. the MMU bring-up (mmu_pv.c): own tables, direct map, user L4,
 *      Xen's boot tables reclaimed, the initial mapping's leftovers dropped,
 *      the kernel image protected; shared_info in the fixmap
 *   6. the p2m moved into its own area (p2m.c), the builder's list freed,
 *      published for the tools (p2m_tools.c)
 *   7. the ramdisk checksummed through the direct map
 *   8. self-checks, the ring-3 test in a fresh mm, module space, the
 *      balloon; the other vCPUs up, through their checks and down again
 *      (smp.c); the self-checks again, per-phase times; the verdict
 *   9. with `lifecycle` (a domU): stay alive for the toolstack's save,
 *      restore, migrate and suspend until it asks for a poweroff
 */

/* How long `lifecycle` waits for each request before it gives up with an ERROR. */
#define LIFECYCLE_WAIT_S 600
#include "lib/console.h"
#include "lib/console_ring.h"
#include "pv/mmu.h"
#include "pv/hypercall.h"
#include "pv/p2m.h"
#include "mm/pgtable.h"
#include "pv/ptdump.h"
#include "handoff/handoff.h"
#include "handoff/record.h"
#include "pv/lifecycle.h"
#include "pv/ramdisk.h"
#include "lib/result.h"
#include "pv/start_info.h"
#include "pv/traps.h"
#include "pv/usermode.h"
#include "pv/mm_user.h"
#include "pv/smp.h"
#include "pv/batch.h"
#include "lib/lib.h"

extern char _etext[], _end[], boot_stack_top[];

#ifdef CONFIG_INIT_P2M
#define INIT_P2M_VA ((unsigned long)CONFIG_INIT_P2M)    /* XEN_ELFNOTE_INIT_P2M */
#else
#define INIT_P2M_VA 0UL
#endif

shared_info_t *shared_info;

/* Scratch pages through which the MMU bring-up fills new tables. */
#define FILL_WINDOW_PAGES 64
static uint8_t fill_window[FILL_WINDOW_PAGES][PAGE_SIZE]
    __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));
static struct xencons_interface *console_ring;

/*
 * A domU's console page was placed in the initial mapping by the builder,
 * but start_info only gives its mfn: find its pfn through the M2P, and take
 * it only if that pfn lies in the initial mapping.
 */
static void console_init_domU(const start_info_t *si, const struct boot_bounds *b)
{
    unsigned long pfn = mfn_to_pfn_probe(si->console.domU.mfn);
    unsigned long va = b->virt_base + (pfn << PAGE_SHIFT);

    if (pfn == INVALID_PFN || va < b->image_end || va >= b->mapped_end)
        return;                 /* start_info_check() reports it */
    console_ring = (struct xencons_interface *)va;
    console_use_ring(console_ring, si->console.domU.evtchn);
}

/*
 * shared_info (a Xen page, not one of our pfns) gets a fixmap slot once
 * the fixmap exists.  Borrowing a page of the image earlier would change
 * a PTE that the direct map shares with the kernel map.
 */
static void map_shared_info(const start_info_t *si)
{
    set_fixmap(FIX_SHARED_INFO, si->shared_info >> PAGE_SHIFT, PTE_KERNEL_RW | pte_nx);
    batch_flush();
    shared_info = (shared_info_t *)fix_to_virt(FIX_SHARED_INFO);
    traps_set_cr2_source(&shared_info->vcpu_info[0].arch.cr2);
}

static unsigned long ramdisk_pages_to_keep(const start_info_t *si, unsigned long *pfn)
{
    *pfn = si->mod_start;
    return (si->mod_len && si_ramdisk_is_pfn(si)) ? DIV_ROUND_UP(si->mod_len, PAGE_SIZE) : 0;
}

static void print_summary(const start_info_t *si, const struct boot_bounds *b)
{
    long ver = HYPERVISOR_xen_version(XENVER_version, NULL);

    printk("shim: Xen %ld.%ld, %s, image %#lx-%#lx, boot stack top %#lx\n",
           ver >> 16, ver & 0xffff, si_is_dom0(si) ? "dom0" : "domU",
           b->virt_base, b->image_end, b->mapped_end);
    printk("start_info: magic=%s nr_pages=%lu (%lu MiB) flags=%#x\n",
           si->magic, si->nr_pages, si->nr_pages >> 8, si->flags);
    printk("start_info: pt_base=%#lx nr_pt_frames=%lu mfn_list=%#lx shared_info=%#lx\n",
           si->pt_base, si->nr_pt_frames, si->mfn_list, si->shared_info);
    if (si->mod_len)
        printk("start_info: ramdisk %s %#lx mod_len=%lu\n",
               si_ramdisk_is_pfn(si) ? "pfn" : "va", si->mod_start, si->mod_len);
    if (!si_is_dom0(si))
        printk("start_info: console mfn=%#lx evtchn=%u store mfn=%#lx evtchn=%u\n",
               (unsigned long)si->console.domU.mfn, si->console.domU.evtchn,
               (unsigned long)si->store_mfn, si->store_evtchn);
    printk("start_info: cmdline=\"%s\"\n", (const char *)si->cmd_line);
}

/* Is word one of the space-separated words of the command line? */
static bool cmdline_has(const char *cmdline, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = cmdline; *p; ) {
        while (*p == ' ')
            p++;
        if (!strncmp(p, word, n) && (p[n] == ' ' || p[n] == '\0'))
            return true;
        while (*p && *p != ' ')
            p++;
    }
    return false;
}

/*
 * The number after `key` (e.g. "smp-rounds=") among the command line's
 * words, else dflt; anything but a decimal number in [1, max] is an ERROR.
 */
static unsigned long cmdline_number(const char *cmdline, const char *key, unsigned long dflt,
                                    unsigned long max)
{
    size_t n = strlen(key);

    for (const char *p = cmdline; *p; ) {
        while (*p == ' ')
            p++;
        if (!strncmp(p, key, n)) {
            unsigned long v = 0;
            const char *d = p + n;

            while (*d >= '0' && *d <= '9' && v <= max)
                v = v * 10 + (unsigned long)(*d++ - '0');
            if (d == p + n || (*d && *d != ' ') || v < 1 || v > max)
                result_error("command line: %s wants a number from 1 to %lu", key, max);
            return v;
        }
        while (*p && *p != ' ')
            p++;
    }
    return dflt;
}

void start_shim(start_info_t *si, unsigned long virt_base, unsigned long xen_stack_top);
void start_shim(start_info_t *si, unsigned long virt_base, unsigned long xen_stack_top)
{
    char why[256];
    long rc;
    struct boot_bounds b = {
        .virt_base = virt_base,
        .image_end = ALIGN_UP((unsigned long)_end, PAGE_SIZE),
        .mapped_end = xen_stack_top,
        .si_va = (unsigned long)si,
        .m2p_read = m2p_probe,
        .init_p2m_va = INIT_P2M_VA,
    };

    smp_boot_vcpu0();
    traps_init((unsigned long)boot_stack_top);

    rc = m2p_init();
    if (rc)
        result_error("XENMEM_machphys_mapping failed: %ld", rc);
    /*
     * m2p_strict (as Linux): Xen removes the read-only M2P from every L4
     * loaded as a user L4 (NEW_USER_BASEPTR), so user mode cannot read it.
     * (With BUG=no-user-l4 that zaps the kernel L4's own M2P: the kernel's
     * next M2P read faults.  "no-m2p-strict" on the command line keeps the
     * M2P, so that the bug shows as user mode seeing the kernel instead.)
     */
    if (!cmdline_has((const char *)si->cmd_line, "no-m2p-strict")) {
        rc = HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_m2p_strict);
        if (rc)
            result_error("vm_assist(enable, m2p_strict) failed: %ld", rc);
        m2p_strict = true;
    }
    if (!si_is_dom0(si))
        console_init_domU(si, &b);
    m2p_report();

    if (!start_info_check(si, &b, why, sizeof(why)))
        result_error("%s", why);

    /* The pfns there are: nr_pages, or the end of the vNUMA memory ranges. */
    unsigned long nr_pfns = p2m_init_boot(si->mfn_list, si->nr_pages);
    print_summary(si, &b);
    /* Booted by a shim's hand-off that left its record: check it before anything is reused. */
    record_check(si, virt_base);

    struct mmu_boot mb = {
        .virt_base = virt_base,
        .image_end = b.image_end,
        .text_end = ALIGN_UP((unsigned long)_etext, PAGE_SIZE),
        .xen_stack_top = xen_stack_top,
        .pt_base = si->pt_base,
        .nr_pages = nr_pfns,
        .window_va = (unsigned long)fill_window,
        .window_pages = FILL_WINDOW_PAGES,
    };
    mb.ramdisk_pages = ramdisk_pages_to_keep(si, &mb.ramdisk_pfn);
    mb.p2m_va = si->mfn_list;
    if (b.init_p2m_va && si->mfn_list == b.init_p2m_va) {
        mb.p2m_first_pfn = si->first_p2m_pfn;
        mb.p2m_frames = si->nr_p2m_frames;
    }
    mmu_bringup(&mb);

    /* From here on Xen's initial mapping past the image is not used. */
    si = (start_info_t *)boot_va_to_direct((unsigned long)si);
    if (console_ring)
        console_use_ring((struct xencons_interface *)boot_va_to_direct((unsigned long)console_ring),
                         si->console.domU.evtchn);
    mmu_drop_initial_mapping();
    map_shared_info(si);

    /* The p2m moves into its own area; the builder's list is freed. */
    mmu_phase_begin("p2m");
    p2m_build(nr_pfns, NULL);
    unsigned long freed = mb.p2m_frames ? mmu_drop_boot_p2m()
        : p2m_release_boot_list((si->mfn_list - virt_base) >> PAGE_SHIFT, nr_pfns);
    /* `p2m-tree`: p2m_cr3 stays 0, so that a save walks the 3-level frame list. */
    p2m_tools_init(fix_to_virt(FIX_SHARED_INFO), si->flags,
                   cmdline_has((const char *)si->cmd_line, "p2m-tree"));
    mmu_phase_end();
    printk("p2m: pages=%lu leaf_pages=%lu shared_missing=%lu (boot list: %lu pages freed)\n",
           p2m_stats.leaf_pages + p2m_stats.table_pages + p2m_stats.shared_pages,
           p2m_stats.leaf_pages, p2m_stats.shared_missing, freed);

    ramdisk_report(si);
    handoff_read(si);

    mmu_self_check("after bring-up");
    mmu_phase_begin("usermode");
    usermode_test();
    set_pgd_selftest();
    mmu_phase_end();
    mmu_phase_begin("modules");
    mmu_module_test();
    mmu_phase_end();
    mmu_phase_begin("balloon");
    p2m_balloon_test(64);
    mmu_phase_end();
    /* The other vCPUs: their own ring-3 tests, the shootdown stress, the free while loaded. */
    mmu_phase_begin("smp");
    smp_rounds = cmdline_number((const char *)si->cmd_line, "smp-rounds=", smp_rounds, 1000000);
    smp_run(shared_info, handoff_pending() && !cmdline_has((const char *)si->cmd_line, "nochain"));
    mmu_phase_end();
    mmu_self_check("after exercises");
    if (cmdline_has((const char *)si->cmd_line, "ptdump"))
        ptdump();
    mmu_report_times(shared_info->vcpu_info[0].time.tsc_to_system_mul,
                     shared_info->vcpu_info[0].time.tsc_shift);
    printk("p2m: ok\n");
    printk("mmu: ok\n");
    if (cmdline_has((const char *)si->cmd_line, "lifecycle")) {
        if (si_is_dom0(si))
            result_error("lifecycle: a dom0 has no toolstack to save or migrate it (domU only)");
        lifecycle_run(si, shared_info, LIFECYCLE_WAIT_S);
        result_success();
    }
    /* A bootpack's kernel comes next, unless the command line asks for the checks alone. */
    if (!cmdline_has((const char *)si->cmd_line, "nochain"))
        handoff_go(si, shared_info);
    result_success();
}
