/* SPDX-License-Identifier: MIT */
/* console_ring.h - the producer side of the PV console ring (pure logic, host-tested). */
#ifndef SHIM_CONSOLE_RING_H
#define SHIM_CONSOLE_RING_H

#include "lib/xen.h"

/* Copy as much of buf as fits into intf->out; returns the bytes taken. */
size_t xencons_ring_put(struct xencons_interface *intf, const char *buf, size_t len);
/* Bytes written but not yet consumed by the backend (xenconsoled). */
uint32_t xencons_ring_pending(const struct xencons_interface *intf);

#endif
