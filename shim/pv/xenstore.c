/* SPDX-License-Identifier: MIT */
/*
 * xenstore.c - the store ring (xenstore.h).
 *
 *   req[]: the shim produces (req_prod), xenstored consumes (req_cons)
 *   rsp[]: xenstored produces replies and watch events (rsp_prod), the
 *          shim consumes (rsp_cons)
 *
 * Indices run freely and are masked into the 1 KiB rings.  Each message is
 * a struct xsd_sockmsg header and len bytes of payload.  Both sides kick
 * the store event channel after moving an index.
 */
#include "pv/xenstore.h"
#include "pv/evtchn.h"
#include "lib/lib.h"

static void set_error(struct xs_client *xs, const char *what)
{
    size_t n = strlen(what);

    if (n >= sizeof(xs->error))
        n = sizeof(xs->error) - 1;
    memcpy(xs->error, what, n);
    xs->error[n] = '\0';
}

void xs_connect(struct xs_client *xs, struct xenstore_domain_interface *ring, evtchn_port_t port,
                shared_info_t *si)
{
    xs->ring = ring;
    xs->port = port;
    xs->shared_info = si;
    if (!xs->timeout_ns)
        xs->timeout_ns = 30ULL * 1000 * 1000 * 1000;
    /* As Linux's xb_init_comms: a reply nobody waits for any more is dropped. */
    if (ring->rsp_prod != ring->rsp_cons)
        ring->rsp_cons = ring->rsp_prod;
}

/* Waits for the ring to move: -1 past the deadline. */
static int wait_ring(struct xs_client *xs, uint64_t deadline_ns)
{
    long rc = evtchn_wait(xs->shared_info, xs->port, deadline_ns);

    if (rc == 1)
        return 0;
    set_error(xs, rc == 0 ? "no answer from xenstored" : "SCHEDOP_poll failed");
    return -1;
}

static int put(struct xs_client *xs, const void *data, uint32_t len, uint64_t deadline_ns)
{
    struct xenstore_domain_interface *r = xs->ring;
    const char *p = data;

    while (len) {
        XENSTORE_RING_IDX prod = r->req_prod;
        uint32_t used = prod - __atomic_load_n(&r->req_cons, __ATOMIC_ACQUIRE);
        uint32_t room = XENSTORE_RING_SIZE - used, n = len < room ? len : room;

        /* As Linux's check_indexes: a ring page restored or scribbled on is not trusted. */
        if (used > XENSTORE_RING_SIZE) {
            set_error(xs, "request ring indexes out of range");
            return -1;
        }

        if (!n) {
            evtchn_notify(xs->port);
            if (wait_ring(xs, deadline_ns))
                return -1;
            continue;
        }
        for (uint32_t i = 0; i < n; i++)
            r->req[MASK_XENSTORE_IDX(prod + i)] = p[i];
        __atomic_store_n(&r->req_prod, prod + n, __ATOMIC_RELEASE);
        p += n;
        len -= n;
    }
    evtchn_notify(xs->port);
    return 0;
}

static int get(struct xs_client *xs, void *data, uint32_t len, uint64_t deadline_ns)
{
    struct xenstore_domain_interface *r = xs->ring;
    char *p = data;

    if (!len)
        return 0;
    while (len) {
        XENSTORE_RING_IDX cons = r->rsp_cons;
        uint32_t avail = __atomic_load_n(&r->rsp_prod, __ATOMIC_ACQUIRE) - cons;
        uint32_t n = len < avail ? len : avail;

        if (avail > XENSTORE_RING_SIZE) {
            set_error(xs, "reply ring indexes out of range");
            return -1;
        }

        if (!n) {
            if (wait_ring(xs, deadline_ns))
                return -1;
            continue;
        }
        for (uint32_t i = 0; i < n; i++)
            if (p)
                p[i] = r->rsp[MASK_XENSTORE_IDX(cons + i)];
        __atomic_store_n(&r->rsp_cons, cons + n, __ATOMIC_RELEASE);
        if (p)
            p += n;
        len -= n;
    }
    evtchn_notify(xs->port);
    return 0;
}

/* One message off the rsp ring: its payload (at most len bytes kept) to buf. */
static int read_message(struct xs_client *xs, struct xsd_sockmsg *hdr, char *buf, uint32_t len,
                        uint64_t deadline_ns)
{
    uint32_t keep;

    if (get(xs, hdr, sizeof(*hdr), deadline_ns))
        return -1;
    if (hdr->len > XENSTORE_PAYLOAD_MAX) {
        set_error(xs, "oversized reply");
        return -1;
    }
    keep = hdr->len < len ? hdr->len : len;
    if (get(xs, buf, keep, deadline_ns) || get(xs, NULL, hdr->len - keep, deadline_ns))
        return -1;
    if (hdr->type == XS_WATCH_EVENT)
        xs->watch_events++;
    return (int)keep;
}

/* The reply to the request just sent: watch events on the way are counted. */
static int read_reply(struct xs_client *xs, struct xsd_sockmsg *hdr, char *buf, uint32_t len,
                      uint64_t deadline_ns)
{
    int got;

    do
        got = read_message(xs, hdr, buf, len, deadline_ns);
    while (got >= 0 && hdr->type == XS_WATCH_EVENT);
    return got;
}

/* A request of up to two strings (each sent with its NUL if nul[i]); the reply into buf. */
static long request(struct xs_client *xs, enum xsd_sockmsg_type type, const char *a, bool nul_a,
                    const char *b, bool nul_b, char *buf, uint32_t len)
{
    uint64_t deadline = xen_system_time_ns(xs->shared_info) + xs->timeout_ns;
    uint32_t la = strlen(a) + nul_a, lb = b ? strlen(b) + nul_b : 0;
    struct xsd_sockmsg hdr = { .type = type, .req_id = ++xs->req_id, .len = la + lb };
    char err[16];
    int got;

    if (hdr.len > XENSTORE_PAYLOAD_MAX) {
        set_error(xs, "request too long");
        return -1;
    }
    if (put(xs, &hdr, sizeof(hdr), deadline) || put(xs, a, la, deadline) ||
        (lb && put(xs, b, lb, deadline)))
        return -1;
    got = read_reply(xs, &hdr, buf, len, deadline);
    if (got < 0)
        return -1;
    if (hdr.type == XS_ERROR) {
        uint32_t n = hdr.len < sizeof(err) ? hdr.len : sizeof(err) - 1;

        memcpy(err, buf, n < (uint32_t)got ? n : (uint32_t)got);
        err[n < (uint32_t)got ? n : (uint32_t)got] = '\0';
        set_error(xs, err[0] ? err : "XS_ERROR");
        return -1;
    }
    if (hdr.type != (uint32_t)type || hdr.req_id != xs->req_id) {
        set_error(xs, "reply out of order");
        return -1;
    }
    return got;
}

int xs_write(struct xs_client *xs, const char *path, const char *value)
{
    char ok[sizeof(xs->error)];

    return request(xs, XS_WRITE, path, true, value, false, ok, sizeof(ok)) < 0 ? -1 : 0;
}

long xs_read(struct xs_client *xs, const char *path, char *buf, size_t len)
{
    long n = request(xs, XS_READ, path, true, NULL, false, buf, len - 1);

    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

int xs_watch(struct xs_client *xs, const char *path, const char *token)
{
    char ok[sizeof(xs->error)];

    return request(xs, XS_WATCH, path, true, token, true, ok, sizeof(ok)) < 0 ? -1 : 0;
}

int xs_wait_watch(struct xs_client *xs, uint64_t deadline_ns)
{
    struct xenstore_domain_interface *r = xs->ring;

    while (xs->watch_seen == xs->watch_events) {
        struct xsd_sockmsg hdr;

        if (__atomic_load_n(&r->rsp_prod, __ATOMIC_ACQUIRE) == r->rsp_cons) {
            long rc = evtchn_wait(xs->shared_info, xs->port, deadline_ns);

            if (rc == 0)
                return 0;
            if (rc < 0) {
                set_error(xs, "SCHEDOP_poll failed");
                return -1;
            }
            continue;
        }
        if (read_message(xs, &hdr, NULL, 0, deadline_ns) < 0)
            return -1;
        if (hdr.type != XS_WATCH_EVENT) {
            set_error(xs, "a reply nobody asked for");
            return -1;
        }
    }
    xs->watch_seen = xs->watch_events;
    return 1;
}
