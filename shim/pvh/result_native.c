/* SPDX-License-Identifier: MIT */
/*
 * result_native.c - the verdict, then out: under Xen by SCHEDOP_shutdown
 * (poweroff, or crash for a failure, as the PV shim does); on bare QEMU
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

void result_success(void)
{
    printk("Test result: SUCCESS\n");
    shim_shutdown(SHUTDOWN_poweroff);
}

void result_vreport(const char *kind, const char *fmt, va_list ap)
{
    char why[256];

    vformat(why, sizeof(why), fmt, ap);
    printk("Test result: %s %s\n", kind, why);
    shim_shutdown(SHUTDOWN_crash);
}

void result_failure(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_vreport("FAILURE", fmt, ap);
}

void result_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_vreport("ERROR", fmt, ap);
}
