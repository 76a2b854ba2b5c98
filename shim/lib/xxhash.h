/* SPDX-License-Identifier: MIT */
/* xxhash.h - XXH64, streaming, as `xxhsum -H1` computes it. */
#ifndef SHIM_XXHASH_H
#define SHIM_XXHASH_H

#include <stddef.h>
#include <stdint.h>

struct xxh64_state {
    uint64_t total_len;
    uint64_t v[4];
    uint8_t buf[32];
    uint32_t buf_len;
    uint64_t seed;
};

void xxh64_init(struct xxh64_state *st, uint64_t seed);
void xxh64_update(struct xxh64_state *st, const void *data, size_t len);
uint64_t xxh64_digest(const struct xxh64_state *st);
uint64_t xxh64(const void *data, size_t len, uint64_t seed);

#endif
