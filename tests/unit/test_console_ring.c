/* SPDX-License-Identifier: MIT */
/*
 * test_console_ring.c - shim/lib/console_ring.c's producer against a simulated
 * xenconsoled: exact fill, partial writes, 32-bit index wraparound, data
 * integrity over random rounds, and a broken backend.
 */
#include <string.h>

#include "check.h"
#include "lib/console_ring.h"

#define RING_SIZE sizeof(((struct xencons_interface *)0)->out)

/* The interface page, with guards around it to catch stray writes. */
static struct {
    uint8_t before[64];
    struct xencons_interface intf;
    uint8_t after[64];
} page;

static void reset(uint32_t cons, uint32_t prod)
{
    memset(&page, 0xa5, sizeof(page));
    page.intf.out_cons = cons;
    page.intf.out_prod = prod;
}

/* Nothing but out[] and out_prod may change. */
static bool untouched_except_out(uint32_t cons)
{
    for (size_t i = 0; i < sizeof(page.before); i++)
        if (page.before[i] != 0xa5 || page.after[i] != 0xa5)
            return false;
    for (size_t i = 0; i < sizeof(page.intf.in); i++)
        if ((uint8_t)page.intf.in[i] != 0xa5)
            return false;
    return page.intf.in_cons == 0xa5a5a5a5 && page.intf.in_prod == 0xa5a5a5a5 &&
           page.intf.out_cons == cons;
}

/* The simulated backend: take up to n bytes from the ring into dst. */
static size_t consume(uint8_t *dst, size_t n)
{
    struct xencons_interface *intf = &page.intf;
    size_t got = 0;

    while (got < n && intf->out_cons != intf->out_prod)
        dst[got++] = intf->out[MASK_XENCONS_IDX(intf->out_cons++, intf->out)];
    return got;
}

static void fill_pattern(uint8_t *p, size_t n, uint8_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7 + (i >> 8));
}

static void test_ring_size(void)
{
    CHECK(RING_SIZE == 2048, "the out ring is %zu bytes", RING_SIZE);
}

static void test_fill_exact(uint32_t start)
{
    uint8_t src[RING_SIZE + 100], dst[RING_SIZE + 100];
    size_t n;

    fill_pattern(src, sizeof(src), (uint8_t)start);
    reset(start, start);
    CHECK(xencons_ring_pending(&page.intf) == 0, "start %#x: empty ring pending", start);
    n = xencons_ring_put(&page.intf, (const char *)src, RING_SIZE);
    CHECK(n == RING_SIZE, "start %#x: put 2048 into empty ring took %zu", start, n);
    CHECK(page.intf.out_prod == (uint32_t)(start + RING_SIZE),
          "start %#x: out_prod %#x after filling", start, page.intf.out_prod);
    CHECK(xencons_ring_pending(&page.intf) == RING_SIZE, "start %#x: pending %u when full",
          start, xencons_ring_pending(&page.intf));
    n = xencons_ring_put(&page.intf, (const char *)src, 1);
    CHECK(n == 0, "start %#x: put into a full ring took %zu", start, n);
    CHECK(page.intf.out_prod == (uint32_t)(start + RING_SIZE),
          "start %#x: full put moved out_prod to %#x", start, page.intf.out_prod);
    CHECK(untouched_except_out(start), "start %#x: bytes outside out[] changed", start);
    n = consume(dst, sizeof(dst));
    CHECK(n == RING_SIZE && !memcmp(src, dst, RING_SIZE),
          "start %#x: consumer read %zu bytes, contents %s", start, n,
          memcmp(src, dst, RING_SIZE) ? "differ" : "match");
    CHECK(xencons_ring_pending(&page.intf) == 0, "start %#x: pending after drain", start);

    /* More than fits, into an empty ring: exactly the ring's size. */
    reset(start, start);
    n = xencons_ring_put(&page.intf, (const char *)src, sizeof(src));
    CHECK(n == RING_SIZE, "start %#x: put %zu into empty ring took %zu", start, sizeof(src), n);
}

static void test_partial(uint32_t start, uint32_t used, size_t len)
{
    uint8_t src[3000], dst[RING_SIZE];
    size_t want = RING_SIZE - used < len ? RING_SIZE - used : len, n, got;

    fill_pattern(src, sizeof(src), 0x11);
    reset(start, start + used);
    n = xencons_ring_put(&page.intf, (const char *)src, len);
    CHECK(n == want, "cons %#x used %u: put %zu took %zu, want %zu", start, used, len, n, want);
    CHECK(page.intf.out_prod == (uint32_t)(start + used + want) &&
          xencons_ring_pending(&page.intf) == used + want,
          "cons %#x used %u len %zu: out_prod %#x pending %u", start, used, len,
          page.intf.out_prod, xencons_ring_pending(&page.intf));
    /* Skip what was there before, then the new bytes must follow. */
    page.intf.out_cons = start + used;
    got = consume(dst, sizeof(dst));
    CHECK(got == want && !memcmp(src, dst, want) && untouched_except_out(start + used + want),
          "cons %#x used %u len %zu: read back %zu bytes", start, used, len, got);
}

static void test_len_zero(void)
{
    reset(5, 9);
    CHECK(xencons_ring_put(&page.intf, "x", 0) == 0 && page.intf.out_prod == 9 &&
          untouched_except_out(5), "put of 0 bytes changed the ring");
}

static void test_wrap_positions(void)
{
    /* Index 0xfffffff8 is slot 2040: 8 bytes to the end of out[], then slot 0. */
    uint8_t dst[32];
    size_t n;

    reset(0xfffffff8, 0xfffffff8);
    n = xencons_ring_put(&page.intf, "0123456789abcdef", 16);
    CHECK(n == 16 && page.intf.out_prod == 8, "put across 2^32 took %zu, out_prod %#x",
          n, page.intf.out_prod);
    CHECK(!memcmp(page.intf.out + 2040, "01234567", 8) && !memcmp(page.intf.out, "89abcdef", 8),
          "bytes across the 32-bit wrap landed in the wrong slots");
    CHECK(xencons_ring_pending(&page.intf) == 16, "pending across the wrap is %u",
          xencons_ring_pending(&page.intf));
    n = consume(dst, sizeof(dst));
    CHECK(n == 16 && !memcmp(dst, "0123456789abcdef", 16), "read across the wrap: %zu", n);

    /* prod already wrapped, cons not yet: 0xfffffffe .. 3 is 5 bytes in use. */
    reset(0xfffffffe, 3);
    CHECK(xencons_ring_pending(&page.intf) == 5, "pending with prod wrapped is %u",
          xencons_ring_pending(&page.intf));
    n = xencons_ring_put(&page.intf, (const char *)page.before, 4000);
    CHECK(n == RING_SIZE - 5 && page.intf.out_prod == (uint32_t)(0xfffffffe + RING_SIZE),
          "put with prod wrapped took %zu, out_prod %#x", n, page.intf.out_prod);
}

static void test_broken_backend(void)
{
    static const uint32_t cases[][2] = {
        /* cons, prod: cons ahead of prod, or prod more than a ring ahead */
        { 1, 0 },
        { 100, 50 },
        { 0x10, 0xfffffff0 },
        { 0, 0xffffffff },
        { 0, RING_SIZE + 1 },
        { 0x80000000, 0 },
        { 0xfffffff0, (uint32_t)(0xfffffff0 + RING_SIZE + 1) },
    };
    uint8_t out_before[RING_SIZE];

    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        uint32_t cons = cases[i][0], prod = cases[i][1];
        size_t n;

        reset(cons, prod);
        memcpy(out_before, page.intf.out, RING_SIZE);
        n = xencons_ring_put(&page.intf, "hello", 5);
        CHECK(n == 0 && page.intf.out_prod == prod && !memcmp(out_before, page.intf.out, RING_SIZE) &&
              untouched_except_out(cons),
              "broken backend cons %#x prod %#x: put took %zu, out_prod %#x", cons, prod, n,
              page.intf.out_prod);
    }
}

/*
 * Random rounds: the producer puts random-length slices of a reference
 * stream, the consumer takes random amounts; what comes out must be the
 * stream, in order, and each put must take exactly min(len, free).
 */
static void test_random(uint64_t seed, uint32_t start, unsigned int rounds)
{
    static uint8_t stream[1 << 20], got[1 << 20];
    size_t produced = 0, consumed = 0;
    bool ok = true;
    unsigned int r, bad_round = 0;
    uint64_t s = seed;

    for (size_t i = 0; i < sizeof(stream); i++)
        stream[i] = (uint8_t)test_rand(&s);
    reset(start, start);
    for (r = 0; r < rounds && ok; r++) {
        uint64_t x = test_rand(&s);
        size_t len = (x & 3) == 0 ? x >> 8 & 3 : (x & 3) == 1 ? x >> 8 & 63 : x >> 8 & 4095;
        size_t free = RING_SIZE - xencons_ring_pending(&page.intf), n, c;

        if (produced + len > sizeof(stream))
            len = sizeof(stream) - produced;
        n = xencons_ring_put(&page.intf, (const char *)stream + produced, len);
        if (n != (len < free ? len : free) || xencons_ring_pending(&page.intf) > RING_SIZE)
            ok = false;
        produced += n;
        c = consume(got + consumed, test_rand(&s) % (RING_SIZE + 256));
        consumed += c;
        if (!untouched_except_out(page.intf.out_cons))
            ok = false;
        if (!ok)
            bad_round = r;
        if (produced == sizeof(stream))
            break;
    }
    consumed += consume(got + consumed, RING_SIZE);
    CHECK(ok && consumed == produced && !memcmp(stream, got, consumed) && produced > RING_SIZE * 8,
          "random seed %#llx start %#x: %u rounds, produced %zu consumed %zu, %s%s",
          (unsigned long long)seed, start, r, produced, consumed,
          memcmp(stream, got, consumed) ? "streams differ" : "streams match",
          ok ? "" : " (a put took the wrong amount)");
    (void)bad_round;
}

/*
 * xencons_ring_write()/_drain() with a simulated backend: wait() lets
 * xenconsoled take up to `per_wait` bytes (0: a dead backend).
 */
static uint8_t taken[3 * RING_SIZE];
static size_t nr_taken, per_wait, kicks;

static void sim_kick(void)
{
    kicks++;
}

static void sim_wait(void)
{
    for (size_t i = 0; i < per_wait && page.intf.out_cons != page.intf.out_prod; i++) {
        if (nr_taken < sizeof(taken))
            taken[nr_taken++] = (uint8_t)page.intf.out[MASK_XENCONS_IDX(page.intf.out_cons, page.intf.out)];
        page.intf.out_cons++;
    }
}

static void test_write_and_drain(void)
{
    static const struct xencons_backend be = { sim_kick, sim_wait };
    char msg[2 * RING_SIZE + 100];

    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (char)('a' + i % 23);
    reset(0xfffffff0, 0xfffffff0);
    nr_taken = kicks = 0;
    per_wait = 300;
    CHECK(xencons_ring_write(&page.intf, msg, sizeof(msg), &be, 10) && kicks >= 3,
          "ring write: 2.05 rings' worth through a slow backend (%zu kicks)", kicks);
    xencons_ring_drain(&page.intf, &be, 1000);
    CHECK(xencons_ring_pending(&page.intf) == 0 && nr_taken == sizeof(msg) && !memcmp(taken, msg, sizeof(msg)),
          "ring drain: the backend got every byte, in order (%zu of %zu)", nr_taken, sizeof(msg));

    reset(0, 0);
    per_wait = 0;
    kicks = 0;
    CHECK(!xencons_ring_write(&page.intf, msg, sizeof(msg), &be, 5) && kicks == 7,
          "ring write: a dead backend is given up after 5 fruitless waits (%zu kicks)", kicks);
    kicks = 0;
    xencons_ring_drain(&page.intf, &be, 4);
    CHECK(kicks == 4, "ring drain: bounded by its patience (%zu kicks)", kicks);
}

int main(void)
{
    static const uint32_t starts[] = { 0, 1, 2047, 2048, 0x7fffffff, 0xfffff800,
                                       0xfffffc00, 0xffffffff, 0xfffffffe, 0xfffff801 };

    test_ring_size();
    test_write_and_drain();
    for (size_t i = 0; i < N_ELEMS(starts); i++)
        test_fill_exact(starts[i]);

    test_partial(0, 2040, 100);         /* nearly full: 8 bytes fit */
    test_partial(0, 2047, 2);           /* one byte fits */
    test_partial(0, 2048, 1);           /* none fits */
    test_partial(0, 0, 2049);
    test_partial(0, 1000, 1048);        /* exactly fills */
    test_partial(0, 1000, 1049);
    test_partial(0xfffffff0, 2040, 100);
    test_partial(0xfffffc00, 1500, 3000);
    test_partial(0xffffffff, 1, 2047);
    test_partial(0xfffff900, 0, 3000);  /* prod crosses 2^32 while writing */

    test_len_zero();
    test_wrap_positions();
    test_broken_backend();

    for (size_t i = 0; i < N_ELEMS(starts); i++)
        test_random(0x9e3779b97f4a7c15ULL * (i + 1), starts[i], 200000);

    return check_done("test_console_ring");
}
