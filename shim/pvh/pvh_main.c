/* SPDX-License-Identifier: MIT */
/*
 * pvh_main.c - the PVH/native shim, after head.S: read start_info, set the
 * geometry from CR4.LA57 (as Linux's check_la57_support), build and check
 * the shim's own tables, load them, then check them as the CPU walks them.
 */
#include "pvh/memmap.h"
#include "pvh/native_checks.h"
#include "pvh/native_mm.h"
#include "pvh/port_io.h"
#include "pvh/pvh_defs.h"
#include "pvh/traps_native.h"
#include "pvh/native_layout.h"
#include "pvh/xen_pvh.h"
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include "lib/console.h"
#include "lib/lib.h"
#include "lib/result.h"

_Static_assert(offsetof(struct hvm_start_info, cmdline_paddr) == HVM_SI_CMDLINE_PADDR,
               "head.S reads the command line at HVM_SI_CMDLINE_PADDR");
_Static_assert(XEN_HVM_START_MAGIC_VALUE == HVM_SI_MAGIC, "head.S checks the magic as HVM_SI_MAGIC");

static evtchn_port_t console_port;

static uint64_t hvm_param(uint32_t index)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };

    return xen_pvh_hypercall(__HYPERVISOR_hvm_op, HVMOP_get_param, (unsigned long)&p, 0) ? 0 : p.value;
}

/* A PVH domU's PV console (the one `xl console` shows): a ring page and an event channel. */
static void console_ring_init(void)
{
    uint64_t pfn = hvm_param(HVM_PARAM_CONSOLE_PFN);

    if (!pfn || pfn >= (1UL << 20))     /* none (dom0), or out of the boot identity map's 4 GiB */
        return;
    console_port = (evtchn_port_t)hvm_param(HVM_PARAM_CONSOLE_EVTCHN);
    native_pages.console = pfn << PAGE_SHIFT;
    console_use_ring((struct xencons_interface *)native_pages.console, console_port);
}

void pvh_main(unsigned long si_pa, unsigned int entry_levels, unsigned int nx);
void pvh_main(unsigned long si_pa, unsigned int entry_levels, unsigned int nx)
{
    const struct hvm_start_info *si = (const void *)si_pa;     /* identity-mapped below 4 GiB */
    unsigned int cr4_levels = read_cr4() & CR4_LA57 ? 5 : 4;

    traps_native_init();
    if (xen_pvh_init())
        console_ring_init();
    printk("shim (pvh): %s, start_info at %#lx, entered with %u levels, NX %s\n",
           on_xen ? "a PVH guest of Xen" : "bare metal (no hypervisor leaves)", si_pa, entry_levels,
           nx ? "on" : "off");
    if (si->magic != XEN_HVM_START_MAGIC_VALUE)
        result_error("start_info.magic %#x, want %#x", si->magic, XEN_HVM_START_MAGIC_VALUE);
    if (si->cmdline_paddr >= (1UL << 32))
        result_error("start_info.cmdline_paddr %#lx: above 4 GiB, out of the boot tables' reach",
                     (unsigned long)si->cmdline_paddr);
    if (si->cmdline_paddr)
        printk("cmdline: %s\n", (const char *)(unsigned long)si->cmdline_paddr);
    native_nx = nx ? _PAGE_NX : 0;
    memmap_init(si);

    if (cr4_levels != entry_levels)
        result_failure("mm: the entry chose %u levels, but CR4.LA57 says %u", entry_levels, cr4_levels);
    mm_geometry_init(cr4_levels);
    printk("mm: geometry %u levels: top shift %u, ptrs_per_p4d %u, page_offset %#lx, user limit %#lx\n",
           mm_geo.levels, mm_geo.top_shift, mm_geo.ptrs_per_p4d, mm_geo.page_offset, mm_geo.user_va_limit);
    native_mm_build();
    native_mm_check_before_load();
    native_mm_load();
    if (native_pages.console)
        console_use_ring((struct xencons_interface *)FIX_CONSOLE_VA, console_port);

    check_walker_matches_cpu();
    check_ptdump_counts();
    check_la57_only_pages();
    check_la57_fixed();
    result_success();
}
