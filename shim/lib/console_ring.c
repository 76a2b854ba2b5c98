/* SPDX-License-Identifier: MIT */
/*
 * console_ring.c - the guest's half of the PV console ring
 * (xen/io/console.h): we produce into out[], xenconsoled consumes.
 *
 * The indices are free-running 32-bit counters; only their difference and
 * their value modulo the ring size matter.  The data must be visible
 * before the new producer index, and the consumer index must be read
 * before we reuse the slots it frees: x86 keeps stores in order and loads
 * in order, so compiler barriers are enough between our own accesses.
 */
#include "lib/console_ring.h"

#define barrier() asm volatile ("" ::: "memory")

uint32_t xencons_ring_pending(const struct xencons_interface *intf)
{
    XENCONS_RING_IDX cons = *(volatile const XENCONS_RING_IDX *)&intf->out_cons;
    XENCONS_RING_IDX prod = *(volatile const XENCONS_RING_IDX *)&intf->out_prod;

    return prod - cons;
}

size_t xencons_ring_put(struct xencons_interface *intf, const char *buf, size_t len)
{
    XENCONS_RING_IDX cons, prod;
    size_t sent = 0;

    cons = *(volatile XENCONS_RING_IDX *)&intf->out_cons;
    prod = intf->out_prod;
    barrier();

    /* A backend that moved cons past prod is broken: write nothing. */
    if (prod - cons > sizeof(intf->out))
        return 0;

    while (sent < len && prod - cons < sizeof(intf->out))
        intf->out[MASK_XENCONS_IDX(prod++, intf->out)] = buf[sent++];

    barrier();
    *(volatile XENCONS_RING_IDX *)&intf->out_prod = prod;
    return sent;
}

bool xencons_ring_write(struct xencons_interface *intf, const char *buf, size_t len,
                        const struct xencons_backend *be, unsigned long patience)
{
    unsigned long stalled = 0;

    while (len) {
        size_t n = xencons_ring_put(intf, buf, len);

        be->kick();
        buf += n;
        len -= n;
        stalled = n ? 0 : stalled + 1;
        if (stalled > patience)
            return false;
        if (len)                /* ring full: let the backend run */
            be->wait();
    }
    return true;
}

void xencons_ring_drain(struct xencons_interface *intf, const struct xencons_backend *be,
                        unsigned long patience)
{
    for (unsigned long i = 0; xencons_ring_pending(intf) && i < patience; i++) {
        be->kick();
        be->wait();
    }
}
