/* SPDX-License-Identifier: MIT */
/*
 * test_format.c - shim/lib/format.c's vformat()/format() against the host's
 * vsnprintf() wherever the two should agree, and against written-down
 * strings where the shim knowingly differs (%p of NULL, %#x of 0).
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "lib/lib.h"

#define GUARD 0xa5
#define BUF   256

/*
 * Format with both the shim and libc into buffers of `size` bytes (followed
 * by guard bytes); they must agree on the return value and on every byte
 * the size allows, and neither may write past size.
 */
static bool __attribute__((format(printf, 3, 0)))
vsame(int line, size_t size, const char *fmt, va_list ap)
{
    char ours[BUF + 16], libc[BUF + 16];
    va_list ap2;
    int n_ours, n_libc;
    bool ok = true;

    memset(ours, GUARD, sizeof(ours));
    memset(libc, GUARD, sizeof(libc));
    va_copy(ap2, ap);
    n_ours = vformat(size ? ours : NULL, size, fmt, ap);
    n_libc = vsnprintf(size ? libc : NULL, size, fmt, ap2);
    va_end(ap2);

    if (n_ours != n_libc)
        ok = false;
    if (size && memcmp(ours, libc, (size_t)n_libc + 1 < size ? (size_t)n_libc + 1 : size))
        ok = false;
    for (size_t i = size; i < sizeof(ours); i++)
        if ((uint8_t)ours[i] != GUARD)
            ok = false;
    if (size && !memchr(ours, '\0', size))
        ok = false;
    check_report(ok, __FILE__, line, "format == snprintf",
                 " fmt \"%s\" size %zu: shim returned %d \"%.*s\", libc %d \"%.*s\"", fmt, size,
                 n_ours, size ? (int)strnlen(ours, size) : 0, ours,
                 n_libc, size ? (int)strnlen(libc, size) : 0, libc);
    return ok;
}

static void __attribute__((format(printf, 3, 4)))
same_n(int line, size_t size, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsame(line, size, fmt, ap);
    va_end(ap);
}

/* Full buffer, then one case covering every truncated size 0..len+1. */
static void __attribute__((format(printf, 2, 3)))
same_all_sizes(int line, const char *fmt, ...)
{
    va_list ap, ap2;
    char tmp[BUF];
    int want;
    bool ok = true;

    va_start(ap, fmt);
    va_copy(ap2, ap);
    want = vsnprintf(tmp, sizeof(tmp), fmt, ap2);
    va_end(ap2);
    for (size_t size = 0; size <= (size_t)want + 1 && size <= BUF; size++) {
        unsigned int before = check_failed;

        va_copy(ap2, ap);
        /* vsame counts one case per size: fold them into one below. */
        ok &= vsame(line, size, fmt, ap2);
        va_end(ap2);
        if (check_failed == before)
            check_passed--;
        else
            check_failed--;
    }
    va_end(ap);
    check_report(ok, __FILE__, line, "format == snprintf at every size",
                 " fmt \"%s\" (%d chars) truncated to sizes 0..%d", fmt, want, want + 1);
}

#define SAME(...) same_n(__LINE__, BUF, __VA_ARGS__)
#define SAME_ALL(...) same_all_sizes(__LINE__, __VA_ARGS__)

/* The shim's output must be exactly `want` (for where it differs from libc by design). */
static void __attribute__((format(printf, 3, 4)))
expect(int line, const char *want, const char *fmt, ...)
{
    char buf[BUF];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vformat(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    check_report(n == (int)strlen(want) && !strcmp(buf, want), __FILE__, line, "format == expected",
                 " fmt \"%s\": got %d \"%s\", want %zu \"%s\"", fmt, n, buf, strlen(want), want);
}
#define EXPECT(want, ...) expect(__LINE__, want, __VA_ARGS__)

static void test_conversions(void)
{
    static const char *const volatile null_str = NULL;
    int x = 0;

    SAME("plain text, no conversions");
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-zero-length"
    SAME("");
#pragma GCC diagnostic pop
    SAME("%%");
    SAME("100%% sure %% %%%%");
    SAME("%s", "hello");
    SAME("%s", "");
    SAME("[%s|%s]", "a", "bc");
    SAME("%c", 'A');
    SAME("%c%c%c", 'x', ' ', '~');
    SAME("%c", 0xe9);                   /* a char above 0x7f */
    SAME("%d", 0);
    SAME("%d", 42);
    SAME("%d", -42);
    SAME("%i", -1);
    SAME("%d", INT_MAX);
    SAME("%d", INT_MIN);
    SAME("%u", 0u);
    SAME("%u", 3000000000u);
    SAME("%u", UINT_MAX);
    SAME("%x", 0u);
    SAME("%x", 0xdeadbeefu);
    SAME("%x", UINT_MAX);
    SAME("%#x", 0x1f);
    SAME("%#lx", 0xffffffff80000000UL);
    SAME("%p", (void *)&x);
    SAME("%p", (void *)0xffffffff80001000UL);
    SAME("%s=%d, %s=%#x (%c) %u%%", "a", -7, "b", 255u, 'z', 99u);

    /* Length modifiers. */
    SAME("%ld", 0L);
    SAME("%ld", LONG_MAX);
    SAME("%ld", LONG_MIN);
    SAME("%li", -1234567890123L);
    SAME("%lu", ULONG_MAX);
    SAME("%lx", ULONG_MAX);
    SAME("%lx", 0x123456789abcdefUL);
    SAME("%lld", LLONG_MIN);
    SAME("%lld", LLONG_MAX);
    SAME("%llu", ULLONG_MAX);
    SAME("%llx", 0xfedcba9876543210ULL);
    SAME("%zu", SIZE_MAX);
    SAME("%zu", (size_t)4096);
    SAME("%zx", (size_t)0xabcdef);
    SAME("%zd", (ssize_t)-5);
    SAME("%d %ld %d", 1, 2L, 3);        /* an int after a long is read as an int */
    SAME("%lu %u %lu", ULONG_MAX, 7u, 1UL);

    /* Widths and flags. */
    SAME("[%5s]", "ab");
    SAME("[%-5s]", "ab");
    SAME("[%2s]", "abcdef");            /* width smaller than the string */
    SAME("[%5c]", 'q');
    SAME("[%-3c]", 'q');
    SAME("[%5d]", 42);
    SAME("[%-5d]", 42);
    SAME("[%05d]", 42);
    SAME("[%5d]", -42);
    SAME("[%-5d]", -42);
    SAME("[%05d]", -42);
    SAME("[%02d]", -42);                /* width smaller than the number */
    SAME("[%03d]", -42);
    SAME("[%1d]", -7);
    SAME("[%08x]", 0xbeefu);
    SAME("[%-8x]", 0xbeefu);
    SAME("[%8u]", 12345u);
    SAME("[%016lx]", 0xffffffff80000000UL);
    SAME("[%016lx]", 0x1000UL);
    SAME("[%20ld]", LONG_MIN);
    SAME("[%025ld]", LONG_MIN);
    SAME("[%-25ld]", LONG_MIN);
    SAME("[%025lld]", LLONG_MIN);
    SAME("[%10zu]", (size_t)77);
    SAME("[%0d]", 5);
    SAME("[%0x]", 0u);
    SAME("[%40d]", 1);
    SAME("[%-40s]", "left");

    /* Flags and widths on the "0x" forms: the width counts the prefix. */
    SAME("[%#10x]", 0xffu);
    SAME("[%#010x]", 0xffu);
    SAME("[%-#10x]", 0xffu);
    SAME("[%#018lx]", 0xffffffff80000000UL);
    SAME("[%20p]", (void *)0xffffffff80001000UL);
    SAME("[%-20p]", (void *)0xffffffff80001000UL);

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
    /* '-' overrides '0': C says the 0 flag is then ignored. */
    SAME("[%-05d]", 42);
    SAME("[%-05d]", -42);
    SAME("[%0-5d]", -42);
    SAME("[%-08x]", 0xbeefu);
#pragma GCC diagnostic pop

    /* NULL %s prints "(null)", like glibc (which the compiler will not let us ask). */
    EXPECT("(null)", "%s", null_str);
    EXPECT("[(null)  ]", "[%-8s]", null_str);
}

static void test_deliberate_differences(void)
{
    /* glibc prints "(nil)" for a NULL %p and "0" for %#x of 0; the shim keeps the 0x. */
    EXPECT("0x0", "%p", NULL);
    EXPECT("0x0", "%#x", 0u);
    EXPECT("0x0", "%#lx", 0UL);
}

static void test_unknown_and_end(void)
{
    /* A lone '%' at the very end must not read past the terminator (ASan checks). */
    static const char tail[] = "abc%";
    char *fmt = malloc(sizeof(tail)), buf[16];
    int n;

    memcpy(fmt, tail, sizeof(tail));
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
#pragma GCC diagnostic ignored "-Wformat"
    n = format(buf, sizeof(buf), fmt);
    CHECK(n == 4 && !strcmp(buf, "abc%"), "\"abc%%\" gave %d \"%s\"", n, buf);
    memcpy(fmt, "%-0", 4);
    n = format(buf, sizeof(buf), fmt);
    CHECK(n == 1 && !strcmp(buf, "%"), "\"%%-0\" gave %d \"%s\"", n, buf);
    /* An unknown conversion is shown as written and consumes no argument. */
    n = format(buf, sizeof(buf), "%q%d", 7);
    CHECK(n == 3 && !strcmp(buf, "%q7"), "\"%%q%%d\" gave %d \"%s\"", n, buf);
#pragma GCC diagnostic pop
    free(fmt);
}

static void test_truncation(void)
{
    char buf[8];
    int n;

    /* Every size from 0 to one past the output, compared with libc. */
    SAME_ALL("hello, world");
    SAME_ALL("%d", -123456);
    SAME_ALL("%ld", LONG_MIN);
    SAME_ALL("[%-10s|%5d|%08x]", "str", -3, 0xabcu);
    SAME_ALL("%s%c%u", "xy", 'z', 1234567u);
    SAME_ALL("%#lx", 0xffffffff80000000UL);
    SAME_ALL("%p", (void *)0xffffffff8000f000UL);
    SAME_ALL("%%%%%%");

    /* Spelled out: the return value is the length wanted, the buffer holds size - 1. */
    memset(buf, 'Z', sizeof(buf));
    n = format(buf, 4, "%s", "abcdef");
    CHECK(n == 6 && !strcmp(buf, "abc") && buf[4] == 'Z', "size 4 \"abcdef\": %d \"%s\"", n, buf);
    memset(buf, 'Z', sizeof(buf));
    n = format(buf, 1, "%d", 12345);
    CHECK(n == 5 && buf[0] == '\0' && buf[1] == 'Z', "size 1: %d, buf[0] %#x", n, buf[0]);
    memset(buf, 'Z', sizeof(buf));
    n = format(buf, 0, "%d", 12345);
    CHECK(n == 5 && buf[0] == 'Z', "size 0 wrote into the buffer or returned %d", n);
    n = format(NULL, 0, "%s and %ld", "twelve", LONG_MIN);
    CHECK(n == 31, "size 0 with a NULL buffer returned %d", n);
    memset(buf, 'Z', sizeof(buf));
    n = format(buf, sizeof(buf), "%s", "1234567");
    CHECK(n == 7 && !strcmp(buf, "1234567"), "exact fit: %d \"%s\"", n, buf);
    n = format(buf, sizeof(buf), "%s", "12345678");
    CHECK(n == 8 && !strcmp(buf, "1234567"), "one too many: %d \"%s\"", n, buf);
    n = format(buf, 3, "%100d", 1);
    CHECK(n == 100 && !strcmp(buf, "  "), "wide field into 3 bytes: %d \"%s\"", n, buf);
}

/* Random widths, flags and values, each compared with libc at a random size. */
static void test_random(void)
{
    static const char *const flags[] = { "", "-", "0" };
    static const char conv[] = "diux";
    uint64_t s = 0xfeedfacecafebeefULL;
    unsigned int bad = 0, n = 20000;

    for (unsigned int i = 0; i < n; i++) {
        char fmt[32];
        uint64_t r = test_rand(&s), v = test_rand(&s);
        size_t size = (r >> 32) % 40;
        unsigned int before = check_failed;
        int width = (int)(r >> 8 & 31);
        char c = conv[r & 3];
        bool lng = r >> 16 & 1;

        if (r >> 17 & 1)
            v >>= (r >> 18) & 63;       /* small values too */
        snprintf(fmt, sizeof(fmt), "<%s%d%s%c>", flags[(r >> 24) % 3], width, lng ? "l" : "", c);
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
        if (lng)
            same_n(__LINE__, size, fmt, (unsigned long)v);
        else
            same_n(__LINE__, size, fmt, (unsigned int)v);
#pragma GCC diagnostic pop
        if (check_failed != before) {
            bad++;
            check_failed--;             /* counted once, below */
        } else {
            check_passed--;
        }
        if (bad > 5)
            break;
    }
    CHECK(!bad, "%u of the random %%d/%%i/%%u/%%x formats differ from libc", bad);
}

int main(void)
{
    test_conversions();
    test_deliberate_differences();
    test_unknown_and_end();
    test_truncation();
    test_random();
    return check_done("test_format");
}
