/* SPDX-License-Identifier: MIT */
/*
 * result_native.c - the PVH shim's way out (lib/result.c reports the
 * verdict): under Xen by SCHEDOP_shutdown, as the PV shim; on bare QEMU
 * through isa-debug-exit, whose status the rig maps back.  If neither
 * ends the run, the CPU halts with interrupts off.
 */
#include "lib/result.h"
#include "lib/console.h"
#include "lib/lib.h"
#include "pvh/port_io.h"
#include "pvh/pvh_defs.h"
#include "pvh/xen_pvh.h"

static void debug_exit(uint32_t code)
{
    outl(DEBUG_EXIT_PORT, code);
}

void shim_shutdown(unsigned int reason)
{
    console_flush();
    if (on_xen) {
        struct sched_shutdown sd = { .reason = reason };

        xen_pvh_hypercall(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (unsigned long)&sd, 0);
    }
    debug_exit(reason ? DEBUG_EXIT_FAILURE : DEBUG_EXIT_SUCCESS);
    for (;;)
        asm volatile ("cli; hlt");
}
