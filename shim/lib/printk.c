/* SPDX-License-Identifier: MIT */
/*
 * printk.c - formatted output for both platforms: a line is formatted into
 * a buffer, then handed to the platform's console_write() (pv/console.c,
 * pvh/console_port.c).  Longer output is cut at the buffer's size.
 */
#include "lib/console.h"
#include "lib/lib.h"

void vprintk(const char *fmt, va_list ap)
{
    char buf[512];
    int n = vformat(buf, sizeof(buf), fmt, ap);

    if (n > (int)sizeof(buf) - 1)
        n = sizeof(buf) - 1;
    console_write(buf, n);
}

void printk(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}
