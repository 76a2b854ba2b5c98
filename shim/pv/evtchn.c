/* SPDX-License-Identifier: MIT */
/* evtchn.c - polling one event channel, and Xen's system time (evtchn.h). */
#include "pv/evtchn.h"
#include "pv/hypercall.h"
#include "pv/mmu_plat.h"

#define BITS_PER_WORD (8 * sizeof(xen_ulong_t))

static uint64_t scale(const volatile struct vcpu_time_info *t, uint64_t delta)
{
    if (t->tsc_shift >= 0)
        delta <<= t->tsc_shift;
    else
        delta >>= -t->tsc_shift;
    return (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
}

/*
 * vCPU 0's time info, read consistently (Xen makes the version odd while it
 * updates it).  now: the pvclock formula, system_time + ((tsc -
 * tsc_timestamp) << shift) * mul / 2^32; else just tsc_delta scaled.
 */
static uint64_t read_time(const shared_info_t *si, bool now, uint64_t tsc_delta)
{
    const volatile struct vcpu_time_info *t = &si->vcpu_info[0].time;
    uint32_t version;
    uint64_t ns;

    do {
        version = t->version;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        ns = now ? t->system_time + scale(t, plat_tsc() - t->tsc_timestamp) : scale(t, tsc_delta);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
    } while ((version & 1) || version != t->version);
    return ns;
}

uint64_t xen_system_time_ns(const shared_info_t *si)
{
    return read_time(si, true, 0);
}

uint64_t xen_tsc_to_ns(const shared_info_t *si, uint64_t tsc_delta)
{
    return read_time(si, false, tsc_delta);
}

void evtchn_clear(shared_info_t *si, evtchn_port_t port)
{
    __atomic_fetch_and(&si->evtchn_pending[port / BITS_PER_WORD],
                       ~((xen_ulong_t)1 << (port % BITS_PER_WORD)), __ATOMIC_SEQ_CST);
}

static bool pending(const shared_info_t *si, evtchn_port_t port)
{
    return (__atomic_load_n(&si->evtchn_pending[port / BITS_PER_WORD], __ATOMIC_SEQ_CST) >>
            (port % BITS_PER_WORD)) & 1;
}

long evtchn_wait(shared_info_t *si, evtchn_port_t port, uint64_t deadline_ns)
{
    /*
     * No upcall may be pending-and-unmasked, or Xen's do_poll returns at
     * once ("local events need delivery"): the shim keeps upcalls masked.
     */
    si->vcpu_info[0].evtchn_upcall_mask = 1;
    for (;;) {
        struct sched_poll poll = { .nr_ports = 1, .timeout = deadline_ns };
        long rc;

        if (pending(si, port)) {
            evtchn_clear(si, port);
            return 1;
        }
        if (xen_system_time_ns(si) >= deadline_ns)
            return 0;
        set_xen_guest_handle(poll.ports, &port);
        rc = HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
        if (rc)
            return rc;
    }
}

long evtchn_notify(evtchn_port_t port)
{
    struct evtchn_send send = { .port = port };

    return HYPERVISOR_event_channel_op(EVTCHNOP_send, &send);
}

long evtchn_unmask(evtchn_port_t port)
{
    struct evtchn_unmask u = { .port = port };

    return HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &u);
}
