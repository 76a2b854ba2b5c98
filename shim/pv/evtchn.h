/* SPDX-License-Identifier: MIT */
/*
 * evtchn.h - waiting on one event channel without taking upcalls, and
 * Xen's system time.
 *
 * The shim never takes an event upcall: vCPU 0's evtchn_upcall_mask stays
 * set, and a wait is SCHEDOP_poll on the port, which sleeps in Xen until
 * the port's pending bit is set or the deadline passes (a masked port
 * still becomes pending and still wakes a poller).
 */
#ifndef SHIM_PV_EVTCHN_H
#define SHIM_PV_EVTCHN_H

#include "lib/xen.h"

/* Nanoseconds of Xen system time, from vCPU 0's time info in shared_info. */
uint64_t xen_system_time_ns(const shared_info_t *si);

/* A TSC interval in nanoseconds, with vCPU 0's scale from shared_info. */
uint64_t xen_tsc_to_ns(const shared_info_t *si, uint64_t tsc_delta);

/*
 * Sleep until port is pending or system time reaches deadline_ns.
 * 1: it was pending (the bit is cleared again); 0: the deadline passed;
 * < 0: SCHEDOP_poll failed.
 */
long evtchn_wait(shared_info_t *si, evtchn_port_t port, uint64_t deadline_ns);

/* Clears port's pending bit (before a re-check, so no event is lost). */
void evtchn_clear(shared_info_t *si, evtchn_port_t port);

long evtchn_notify(evtchn_port_t port);
long evtchn_unmask(evtchn_port_t port);

#endif
