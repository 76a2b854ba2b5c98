/* SPDX-License-Identifier: MIT */
/*
 * lifecycle.c - the request loop (lifecycle.h).
 *
 *   write control/feature-suspend = 1     (informative: libxl never reads it)
 *   watch control/shutdown                (xenstored fires the watch once at once)
 *   loop: wait for the watch, bounded     (SCHEDOP_poll on the store port)
 *         read control/shutdown
 *         ""        our own ack, or nothing asked: wait again
 *         suspend   ack with "" (libxl waits up to 60 s for it), suspend_round()
 *         poweroff, reboot, halt: ack, return
 *
 * A request written before the loop starts is seen through the watch's
 * first firing, so it is acked only once the shim is ready.  After a
 * resume in a new domain the store has forgotten the watch and the
 * feature key: both are set again.
 */
#include "pv/lifecycle.h"
#include "pv/evtchn.h"
#include "pv/mmu.h"
#include "pv/p2m.h"
#include "pv/suspend.h"
#include "pv/traps.h"
#include "pv/usermode.h"
#include "pv/xenstore.h"
#include "lib/console.h"
#include "lib/console_ring.h"
#include "lib/result.h"
#include "lib/lib.h"

#define WATCH_TOKEN "shim-shutdown"

static struct xs_client xs;
static shared_info_t *shared_info_page;

static void store_or_die(int rc, const char *what, const char *path)
{
    if (rc < 0)
        result_error("lifecycle: xenstore %s %s failed: %s", what, path, xs.error);
}

static void announce(void)
{
    store_or_die(xs_write(&xs, "control/feature-suspend", "1"), "write", "control/feature-suspend");
    store_or_die(xs_watch(&xs, "control/shutdown", WATCH_TOKEN), "watch", "control/shutdown");
}

/* ------------------------------------------------ suspend.c's hooks */

static void shared_info_mapped(bool mapped)
{
    traps_set_cr2_source(mapped ? &shared_info_page->vcpu_info[0].arch.cr2 : NULL);
}

static void console_moved(unsigned long ring_pfn, evtchn_port_t port)
{
    console_use_ring((struct xencons_interface *)pfn_to_virt(ring_pfn), port);
}

/* Every port came back masked. */
static void ports_rebound(const start_info_t *si)
{
    evtchn_unmask(si->console.domU.evtchn);
    evtchn_notify(si->console.domU.evtchn);         /* output written meanwhile */
    evtchn_unmask(si->store_evtchn);
    xs_connect(&xs, xs.ring, si->store_evtchn, shared_info_page);
    xs.watch_seen = xs.watch_events;
    announce();
}

static const struct suspend_hooks hooks = {
    .shared_info_mapped = shared_info_mapped,
    .console_moved = console_moved,
    .ports_rebound = ports_rebound,
    .exercises = usermode_test,
};

void lifecycle_run(start_info_t *si, shared_info_t *shared, unsigned int wait_s)
{
    unsigned long store_pfn = mfn_to_pfn(si->store_mfn);
    unsigned int rounds = 0;
    char req[32];

    if (store_pfn == INVALID_PFN || store_pfn >= mmu_dmap_pages())
        result_error("lifecycle: start_info.store_mfn %#lx is not one of our pages",
                     (unsigned long)si->store_mfn);
    shared_info_page = shared;
    xs_connect(&xs, (struct xenstore_domain_interface *)pfn_to_virt(store_pfn), si->store_evtchn, shared);
    suspend_prepare(si, ((unsigned long)si - PAGE_OFFSET) >> PAGE_SHIFT, &hooks);
    announce();
    for (unsigned int said = ~0U;;) {
        uint64_t deadline = xen_system_time_ns(shared) + (uint64_t)wait_s * 1000000000ULL;
        int rc;

        if (said != rounds) {
            suspend_report(rounds);
            printk("lifecycle: waiting for control/shutdown (round %u done, up to %u s)\n", rounds, wait_s);
            said = rounds;
        }
        rc = xs_wait_watch(&xs, deadline);
        if (rc == 0)
            result_error("lifecycle: no request on control/shutdown within %u s (waiting on the "
                         "store event channel %u)", wait_s, xs.port);
        store_or_die(rc, "wait for a watch on", "control/shutdown");
        store_or_die((int)xs_read(&xs, "control/shutdown", req, sizeof(req)), "read", "control/shutdown");
        if (!req[0])
            continue;
        printk("lifecycle: control/shutdown = \"%s\"\n", req);
        store_or_die(xs_write(&xs, "control/shutdown", ""), "write (ack)", "control/shutdown");
        if (!strcmp(req, "suspend")) {
            suspend_round(++rounds);
        } else if (!strcmp(req, "poweroff") || !strcmp(req, "reboot") || !strcmp(req, "halt")) {
            printk("lifecycle: %s after %u suspend round(s)\n", req, rounds);
            return;
        } else {
            printk("lifecycle: \"%s\" is not a request the shim knows: ignored\n", req);
        }
    }
}
