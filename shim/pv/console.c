/* SPDX-License-Identifier: MIT */
/*
 * console.c - the shim's output.
 *
 * dom0 writes with console_io(CONSOLEIO_write): Xen prints it on its own
 * serial console.  A domU has no such right on a release Xen (the call is
 * dropped unless Xen is a debug build or guest_loglvl lets it through), so
 * it writes into the PV console ring that the domain builder set up and
 * kicks xenconsoled through the ring's event channel.  A domU also writes to
 * console_io, so that early failures show on a debug Xen too.
 */
#include "lib/console.h"
#include "lib/console_ring.h"
#include "pv/hypercall.h"
#include "lib/lib.h"

static struct xencons_interface *ring;
static evtchn_port_t ring_port;

void console_use_ring(struct xencons_interface *intf, evtchn_port_t port)
{
    ring = intf;
    ring_port = port;
}

static void ring_kick(void)
{
    struct evtchn_send send = { .port = ring_port };

    HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

static void ring_yield(void)
{
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

static const struct xencons_backend backend = { ring_kick, ring_yield };

/*
 * A full ring waits for xenconsoled (yielding), but not forever: a backend
 * that makes no progress for RING_PATIENCE yields is given up on, and the
 * output continues on console_io alone.
 */
#define RING_PATIENCE 1000000

void console_write(const char *s, size_t len)
{
    HYPERVISOR_console_io(CONSOLEIO_write, (int)len, s);
    if (ring && !xencons_ring_write(ring, s, len, &backend, RING_PATIENCE))
        ring = NULL;
}

/*
 * Before a shutdown: wait until xenconsoled has taken everything, or the
 * last lines (the result) die with the domain.  Bounded, so that a dead
 * backend cannot hang the guest.
 */
void console_flush(void)
{
    if (ring)
        xencons_ring_drain(ring, &backend, 100000);
}
