/* SPDX-License-Identifier: MIT */
/* console_ring.h - the producer side of the PV console ring (pure logic, host-tested). */
#ifndef SHIM_CONSOLE_RING_H
#define SHIM_CONSOLE_RING_H

#include "lib/xen.h"

/* Copy as much of buf as fits into intf->out; returns the bytes taken. */
size_t xencons_ring_put(struct xencons_interface *intf, const char *buf, size_t len);
/* Bytes written but not yet consumed by the backend (xenconsoled). */
uint32_t xencons_ring_pending(const struct xencons_interface *intf);

/*
 * How a platform reaches the backend: notify it (the ring's event
 * channel), and give it time to run (SCHEDOP_yield).
 */
struct xencons_backend {
    void (*kick)(void);
    void (*wait)(void);
};

/*
 * All of buf into the ring, kicking after each put and waiting while it is
 * full, but not forever: false once nothing moved for `patience` waits (no
 * backend reads the ring; the caller gives it up).
 */
bool xencons_ring_write(struct xencons_interface *intf, const char *buf, size_t len,
                        const struct xencons_backend *be, unsigned long patience);
/* Until the backend has taken everything, at most `patience` waits. */
void xencons_ring_drain(struct xencons_interface *intf, const struct xencons_backend *be,
                        unsigned long patience);

#endif
