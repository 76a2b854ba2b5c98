/* SPDX-License-Identifier: MIT */
/*
 * console_port.c - the PVH shim's console.
 *
 *   bare QEMU      port 0xE9 (-debugcon, which the rig reads) and COM1
 *   Xen, dom0      port 0xE9: Xen prints each line on its own console as "(d0) ..."
 *   Xen, domU      port 0xE9 ("(dN) ..." in Xen's log) and the PV console ring
 *                  that xl attaches to (HVM_PARAM_CONSOLE_PFN/EVTCHN), when there is one
 *
 * Under Xen, COM1 belongs to Xen: the shim leaves it alone.
 */
#include "lib/console.h"
#include "lib/console_ring.h"
#include "lib/lib.h"
#include "pvh/port_io.h"
#include "pvh/xen_pvh.h"

#define DEBUGCON    0xe9
#define COM1        0x3f8
#define RING_PATIENCE 100000

static bool com1_ready;
static struct xencons_interface *ring;
static evtchn_port_t ring_port;

void console_use_ring(struct xencons_interface *intf, evtchn_port_t port)
{
    ring = intf;
    ring_port = port;
}

static void com1_init(void)
{
    outb(COM1 + 1, 0x00);       /* no interrupts */
    outb(COM1 + 3, 0x80);       /* DLAB */
    outb(COM1 + 0, 0x01);       /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);       /* 8N1 */
    com1_ready = true;
}

static void com1_put(char c)
{
    for (unsigned int spin = 0; spin < 100000 && !(inb(COM1 + 5) & 0x20); spin++)
        ;
    outb(COM1, (uint8_t)c);
}

static void ring_kick(void)
{
    struct evtchn_send send = { .port = ring_port };

    xen_pvh_hypercall(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&send, 0);
}

static void ring_yield(void)
{
    xen_pvh_hypercall(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0);
}

static const struct xencons_backend backend = { ring_kick, ring_yield };

void console_write(const char *s, size_t len)
{
    if (!on_xen && !com1_ready)
        com1_init();
    for (size_t i = 0; i < len; i++) {
        outb(DEBUGCON, (uint8_t)s[i]);
        if (on_xen)
            continue;
        if (s[i] == '\n')
            com1_put('\r');
        com1_put(s[i]);
    }
    if (ring && !xencons_ring_write(ring, s, len, &backend, RING_PATIENCE))
        ring = NULL;                /* nobody reads it: port 0xE9 goes on */
}

void console_flush(void)
{
    if (ring)
        xencons_ring_drain(ring, &backend, RING_PATIENCE);
}
