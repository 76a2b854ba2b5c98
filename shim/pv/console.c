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
#include "lib/spinlock.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"

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

static void write_raw(const char *s, size_t len)
{
    HYPERVISOR_console_io(CONSOLEIO_write, (int)len, s);
    if (ring && !xencons_ring_write(ring, s, len, &backend, RING_PATIENCE))
        ring = NULL;
}

/*
 * printk hands over whole lines.  One lock keeps the vCPUs' lines whole,
 * and while more than one vCPU runs, each line names its vCPU ("vcpu 1:
 * ...", vCPU 0's too; a secondary's always).  The verdict is
 * the domain's, so it keeps its place at the start of the line, and the
 * reason names the vCPU: "Test result: ERROR vcpu 1: ...".
 */
static spinlock_t lock;
static int lock_owner = -1;     /* a fault inside the lock re-enters on the same vCPU: no deadlock */

void console_write(const char *s, size_t len)
{
    static const char verdict[] = "Test result: ";
    unsigned int id = plat_vcpu_id();
    char prefix[16];
    size_t skip = 0;
    bool nested = __atomic_load_n(&lock_owner, __ATOMIC_RELAXED) == (int)id;

    if (!nested) {
        spin_lock(&lock);
        __atomic_store_n(&lock_owner, (int)id, __ATOMIC_RELAXED);
    } else {
        write_raw("\n", 1);      /* a fault cut the line short: what comes now starts its own */
    }
    if (id || __atomic_load_n(&vcpus_running, __ATOMIC_RELAXED) != 1) {
        format(prefix, sizeof(prefix), "vcpu %u: ", id);
        if (len > sizeof(verdict) && !memcmp(s, verdict, sizeof(verdict) - 1)) {
            /* "Test result: KIND " first, then the prefix */
            skip = sizeof(verdict) - 1;
            while (skip < len && s[skip] != ' ')
                skip++;
            skip += skip < len;
            write_raw(s, skip);
        }
        write_raw(prefix, strlen(prefix));
    }
    write_raw(s + skip, len - skip);
    if (!nested) {
        __atomic_store_n(&lock_owner, -1, __ATOMIC_RELAXED);
        spin_unlock(&lock);
    }
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
