/* SPDX-License-Identifier: MIT */
/* result.c - report the verdict and leave through SCHEDOP_shutdown. */
#include "lib/result.h"
#include "lib/console.h"
#include "pv/hypercall.h"
#include "lib/lib.h"

void shim_shutdown(unsigned int reason)
{
    struct sched_shutdown sd = { .reason = reason };

    console_flush();
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);

    /* Xen refused: try the harshest exit, then park without spinning. */
    sd.reason = SHUTDOWN_crash;
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
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
