/* SPDX-License-Identifier: MIT */
/*
 * xxhash.c - XXH64 written from the algorithm's description: four 64-bit
 * lanes eat 32-byte stripes; the tail is folded 8, 4 and 1 bytes at a time;
 * an avalanche ends it.  Little-endian reads (x86 only).
 *
 * The guest is built -ffreestanding, so a plain memcpy() is a call into
 * lib.c; the fixed-size reads use __builtin_memcpy, which the compiler
 * turns into one unaligned load.  Under QEMU's TCG the difference is 7x on
 * the ramdisk hash (1000 MB: 10.5 s before, see docs/running.md).
 */
#include "lib/xxhash.h"
#include "lib/lib.h"

#define P1 0x9E3779B185EBCA87ULL
#define P2 0xC2B2AE3D27D4EB4FULL
#define P3 0x165667B19E3779F9ULL
#define P4 0x85EBCA77C2B2AE63ULL
#define P5 0x27D4EB2F165667C5ULL

static inline uint64_t rotl(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t read64(const uint8_t *p)
{
    uint64_t v;

    __builtin_memcpy(&v, p, 8);
    return v;
}

static inline uint32_t read32(const uint8_t *p)
{
    uint32_t v;

    __builtin_memcpy(&v, p, 4);
    return v;
}

static inline uint64_t round1(uint64_t acc, uint64_t input)
{
    acc += input * P2;
    acc = rotl(acc, 31);
    return acc * P1;
}

static inline uint64_t merge(uint64_t acc, uint64_t lane)
{
    acc ^= round1(0, lane);
    return acc * P1 + P4;
}

void xxh64_init(struct xxh64_state *st, uint64_t seed)
{
    memset(st, 0, sizeof(*st));
    st->seed = seed;
    st->v[0] = seed + P1 + P2;
    st->v[1] = seed + P2;
    st->v[2] = seed;
    st->v[3] = seed - P1;
}

/* Whole stripes from p; the lanes stay in registers across the loop. */
static const uint8_t *stripes(uint64_t v[4], const uint8_t *p, size_t n)
{
    uint64_t a = v[0], b = v[1], c = v[2], d = v[3];

    for (; n; n--, p += 32) {
        a = round1(a, read64(p));
        b = round1(b, read64(p + 8));
        c = round1(c, read64(p + 16));
        d = round1(d, read64(p + 24));
    }
    v[0] = a;
    v[1] = b;
    v[2] = c;
    v[3] = d;
    return p;
}

void xxh64_update(struct xxh64_state *st, const void *data, size_t len)
{
    const uint8_t *p = data;

    st->total_len += len;
    if (st->buf_len) {
        size_t take = 32 - st->buf_len;

        if (take > len)
            take = len;
        memcpy(st->buf + st->buf_len, p, take);
        st->buf_len += take;
        p += take;
        len -= take;
        if (st->buf_len < 32)
            return;
        stripes(st->v, st->buf, 1);
        st->buf_len = 0;
    }
    p = stripes(st->v, p, len / 32);
    len %= 32;
    memcpy(st->buf, p, len);
    st->buf_len = len;
}

uint64_t xxh64_digest(const struct xxh64_state *st)
{
    const uint8_t *p = st->buf, *end = st->buf + st->buf_len;
    uint64_t h;

    if (st->total_len >= 32) {
        h = rotl(st->v[0], 1) + rotl(st->v[1], 7) + rotl(st->v[2], 12) + rotl(st->v[3], 18);
        for (int i = 0; i < 4; i++)
            h = merge(h, st->v[i]);
    } else {
        h = st->seed + P5;
    }
    h += st->total_len;

    for (; p + 8 <= end; p += 8) {
        h ^= round1(0, read64(p));
        h = rotl(h, 27) * P1 + P4;
    }
    if (p + 4 <= end) {
        h ^= (uint64_t)read32(p) * P1;
        h = rotl(h, 23) * P2 + P3;
        p += 4;
    }
    for (; p < end; p++) {
        h ^= *p * P5;
        h = rotl(h, 11) * P1;
    }

    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P3;
    h ^= h >> 32;
    return h;
}

uint64_t xxh64(const void *data, size_t len, uint64_t seed)
{
    struct xxh64_state st;

    xxh64_init(&st, seed);
    xxh64_update(&st, data, len);
    return xxh64_digest(&st);
}
