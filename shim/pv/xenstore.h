/* SPDX-License-Identifier: MIT */
/*
 * xenstore.h - a minimal xenstore client on the store ring: one request at
 * a time (read, write, watch), and watch events noticed on the way.  The
 * wire format is Xen's own (io/xs_wire.h).  Paths without a leading '/'
 * are relative to the domain's home, /local/domain/<domid>/.
 *
 * Every wait is bounded by a deadline in Xen system time; a request that
 * gets no answer by then is an error, never a hang.
 */
#ifndef SHIM_PV_XENSTORE_H
#define SHIM_PV_XENSTORE_H

#include "lib/xen.h"
#include <xen/io/xs_wire.h>

struct xs_client {
    struct xenstore_domain_interface *ring;
    evtchn_port_t port;
    shared_info_t *shared_info;
    uint32_t req_id;
    unsigned int watch_events;          /* XS_WATCH_EVENTs read so far */
    unsigned int watch_seen;            /* ... of which xs_wait_watch() has reported */
    uint64_t timeout_ns;                /* for each request */
    char error[32];                     /* the last XS_ERROR's text, or what went wrong */
};

/* Starts using the ring (after a restore too: a half-read reply is dropped). */
void xs_connect(struct xs_client *xs, struct xenstore_domain_interface *ring, evtchn_port_t port,
                shared_info_t *si);

/* 0, or -1 with xs->error set. */
int xs_write(struct xs_client *xs, const char *path, const char *value);
/* The value's length (NUL-terminated in buf), or -1 with xs->error set. */
long xs_read(struct xs_client *xs, const char *path, char *buf, size_t len);
int xs_watch(struct xs_client *xs, const char *path, const char *token);

/*
 * Waits until a watch event arrives (one not reported yet: several count
 * as one) or deadline_ns.
 * 1: an event; 0: the deadline; -1: the ring failed (xs->error).
 */
int xs_wait_watch(struct xs_client *xs, uint64_t deadline_ns);

#endif
