/* SPDX-License-Identifier: MIT */
/*
 * result_native.c - the verdict, then out through QEMU's isa-debug-exit
 * (the rig maps its exit status back); where there is no such device (a
 * PVH guest under Xen) the CPU halts with interrupts off.
 */
#include "result.h"
#include "console.h"
#include "lib.h"
#include "pvh/port_io.h"
#include "pvh/pvh_defs.h"

static void debug_exit(uint32_t code)
{
    outl(DEBUG_EXIT_PORT, code);
}

void shim_shutdown(unsigned int reason)
{
    console_flush();
    debug_exit(reason ? DEBUG_EXIT_FAILURE : DEBUG_EXIT_SUCCESS);
    for (;;)
        asm volatile ("cli; hlt");
}

void result_success(void)
{
    printk("Test result: SUCCESS\n");
    shim_shutdown(0);
}

void result_vreport(const char *kind, const char *fmt, va_list ap)
{
    char why[256];

    vformat(why, sizeof(why), fmt, ap);
    printk("Test result: %s %s\n", kind, why);
    shim_shutdown(1);
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
