/* SPDX-License-Identifier: MIT */
/*
 * test_xxhash.c - shim/lib/xxhash.c's XXH64 (seed 0) against the host's
 * `xxhsum -H1` run now on the same bytes, and streaming against one-shot.
 * A missing or broken xxhsum is a failure, not a skip.  XXHSUM=<path>
 * selects another binary.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "lib/xxhash.h"

static const char *xxhsum(void)
{
    const char *x = getenv("XXHSUM");

    return x && *x ? x : "xxhsum";
}

/* XXH64 of data as `xxhsum -H1` says, or false (with the reason) if that fails. */
static bool host_xxh64(const uint8_t *data, size_t len, uint64_t *out, char *err, size_t errlen)
{
    char path[] = "/tmp/shim-unit-xxh-XXXXXX", cmd[512], line[512], want[600];
    int fd = mkstemp(path), status;
    bool ok = false;
    FILE *p;

    if (fd < 0) {
        snprintf(err, errlen, "mkstemp: %s", strerror(errno));
        return false;
    }
    if (len && write(fd, data, len) != (ssize_t)len) {
        snprintf(err, errlen, "write %s: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return false;
    }
    close(fd);
    snprintf(cmd, sizeof(cmd), "'%s' -H1 '%s' 2>&1", xxhsum(), path);
    p = popen(cmd, "r");
    if (!p) {
        snprintf(err, errlen, "popen(%s): %s", cmd, strerror(errno));
        unlink(path);
        return false;
    }
    if (!fgets(line, sizeof(line), p))
        line[0] = '\0';
    status = pclose(p);
    unlink(path);
    line[strcspn(line, "\n")] = '\0';
    /* xxhsum draws a progress line on stderr, erased with '\r': keep what follows. */
    if (strrchr(line, '\r'))
        memmove(line, strrchr(line, '\r') + 1, strlen(strrchr(line, '\r') + 1) + 1);

    /* Expected: "<16 hex digits>  <path>" */
    snprintf(want, sizeof(want), "  %s", path);
    if (status != 0) {
        snprintf(err, errlen, "`%s` exited with status %#x: %s", cmd, status, line);
    } else if (strlen(line) != 16 + strlen(want) || strcmp(line + 16, want) ||
               strspn(line, "0123456789abcdef") != 16) {
        snprintf(err, errlen, "`%s` printed an unexpected line: \"%s\"", cmd, line);
    } else {
        *out = strtoull(line, NULL, 16);
        ok = true;
    }
    return ok;
}

static void test_vs_xxhsum(const uint8_t *data)
{
    static const size_t lens[] = { 0, 1, 3, 4, 7, 8, 15, 16, 31, 32, 33, 63, 64, 100, 1000,
                                   4096, 100000 };

    for (size_t i = 0; i < N_ELEMS(lens); i++) {
        uint64_t host = 0, ours = xxh64(data, lens[i], 0);
        char err[2048] = "";
        bool ran = host_xxh64(data, lens[i], &host, err, sizeof(err));

        if (!ran)
            printf("ERROR: cannot get a reference hash from xxhsum: %s\n", err);
        CHECK(ran && ours == host, "len %zu: shim xxh64 %016" PRIx64 ", xxhsum -H1 %016" PRIx64 "%s%s",
              lens[i], ours, host, ran ? "" : " -- xxhsum failed: ", err);
    }
}

/* Published XXH64 values, so that a broken xxhsum cannot hide a broken shim. */
static void test_known(void)
{
    CHECK(xxh64("", 0, 0) == 0xef46db3751d8e999ULL, "XXH64(\"\") = %016" PRIx64, xxh64("", 0, 0));
    CHECK(xxh64("abc", 3, 0) == 0x44bc2cf5ad770999ULL, "XXH64(\"abc\") = %016" PRIx64,
          xxh64("abc", 3, 0));
}

/*
 * Feed data in chunks: sizes from the PRNG, or all of size `fixed`.  Each
 * chunk is passed in its own exactly-sized heap copy, scribbled on and freed
 * after the update (as the shim reuses its ramdisk window): the state must
 * keep what it needs, and ASan catches reads outside the chunk.
 */
static uint64_t streamed(const uint8_t *data, size_t len, uint64_t seed, uint64_t *rng, size_t fixed,
                         size_t max_chunk)
{
    struct xxh64_state st;
    size_t off = 0;

    xxh64_init(&st, seed);
    while (off < len) {
        size_t n = fixed ? fixed : test_rand(rng) % (max_chunk + 1);

        if (n > len - off)
            n = len - off;
        uint8_t *chunk = malloc(n ? n : 1);

        memcpy(chunk, data + off, n);
        xxh64_update(&st, chunk, n);        /* n may be 0: an empty update */
        memset(chunk, 0xee, n);
        free(chunk);
        off += n;
    }
    return xxh64_digest(&st);
}

static void test_streaming(const uint8_t *data)
{
    static const size_t lens[] = { 0, 1, 31, 32, 33, 64, 65, 100, 1000, 4096, 100000 };
    static const size_t fixed[] = { 1, 3, 31, 32, 33, 64 };
    uint64_t rng = 0x1234567887654321ULL;

    for (size_t i = 0; i < N_ELEMS(lens); i++) {
        uint64_t one = xxh64(data, lens[i], 0);
        bool ok = true;
        size_t bad = 0;

        for (size_t f = 0; f < N_ELEMS(fixed); f++)
            if (streamed(data, lens[i], 0, &rng, fixed[f], 0) != one)
                ok = false, bad = fixed[f];
        CHECK(ok, "len %zu: streaming in %zu-byte updates differs from one-shot", lens[i], bad);

        ok = true;
        for (int r = 0; r < 50; r++)
            if (streamed(data, lens[i], 0, &rng, 0, r & 1 ? 40 : 300) != one)
                ok = false;
        CHECK(ok, "len %zu: streaming in random chunks differs from one-shot", lens[i]);
    }

    /* A non-zero seed: streaming must carry it through the short path too. */
    for (size_t i = 0; i < N_ELEMS(lens); i++) {
        uint64_t one = xxh64(data, lens[i], 0xdeadbeefcafef00dULL);

        CHECK(streamed(data, lens[i], 0xdeadbeefcafef00dULL, &rng, 7, 0) == one,
              "len %zu seed %#llx: streaming differs from one-shot", lens[i], 0xdeadbeefcafef00dULL);
    }

    /* Digest does not consume the state: more updates after a digest still add up. */
    {
        struct xxh64_state st;

        xxh64_init(&st, 0);
        xxh64_update(&st, data, 50);
        (void)xxh64_digest(&st);
        xxh64_update(&st, data + 50, 950);
        CHECK(xxh64_digest(&st) == xxh64(data, 1000, 0), "digest in the middle changed the state");
    }
}

int main(void)
{
    static uint8_t data[100000];
    uint64_t rng = 0x0123456789abcdefULL;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (uint8_t)(test_rand(&rng) >> 56);

    test_known();
    test_vs_xxhsum(data);
    test_streaming(data);
    return check_done("test_xxhash");
}
