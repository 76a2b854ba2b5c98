/* SPDX-License-Identifier: MIT */
/* console.h - where the shim's text goes: console_io (dom0) or the PV console ring (domU). */
#ifndef SHIM_CONSOLE_H
#define SHIM_CONSOLE_H

#include <stdarg.h>
#include "lib/xen.h"

void console_use_ring(struct xencons_interface *intf, evtchn_port_t port);
void console_write(const char *s, size_t len);
void console_flush(void);
void printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vprintk(const char *fmt, va_list ap);

#endif
