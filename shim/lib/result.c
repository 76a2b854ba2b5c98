/* SPDX-License-Identifier: MIT */
/*
 * result.c - the verdict line, XTF's protocol ("Test result: SUCCESS",
 * "FAILURE <why>", "ERROR <why>"), then the platform's shim_shutdown():
 * poweroff after SUCCESS, crash otherwise.
 */
#include "lib/result.h"
#include "lib/console.h"
#include "lib/lib.h"
#include "lib/xen.h"

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
