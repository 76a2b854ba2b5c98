/* SPDX-License-Identifier: MIT */
/* lib.c - string helpers for the freestanding guest (gcc may emit calls to these). */
#include "lib/lib.h"

/*
 * Eight bytes at a time once aligned: the hand-off copies and clears tens of
 * megabytes (a kernel's segments and bss), and under QEMU's TCG every
 * iteration of a byte loop costs as much as one of a word loop.
 */
typedef uint64_t __attribute__((may_alias)) word_t;

void *memset(void *s, int c, size_t n)
{
    unsigned char *p = s;
    word_t w = 0x0101010101010101ULL * (unsigned char)c;

    for (; n && ((uintptr_t)p & 7); n--)
        *p++ = (unsigned char)c;
    for (; n >= 8; n -= 8, p += 8)
        *(word_t *)p = w;
    while (n--)
        *p++ = (unsigned char)c;
    return s;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;

    if (!(((uintptr_t)dp ^ (uintptr_t)sp) & 7)) {      /* aligned alike: words in the middle */
        for (; n && ((uintptr_t)dp & 7); n--)
            *dp++ = *sp++;
        for (; n >= 8; n -= 8, dp += 8, sp += 8)
            *(word_t *)dp = *(const word_t *)sp;
    }
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *dp = d;
    const unsigned char *sp = s;

    if (dp <= sp || dp >= sp + n)
        return memcpy(d, s, n);
    while (n--)
        dp[n] = sp[n];
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *x = a, *y = b;

    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;

    while (s[n])
        n++;
    return n;
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        if (*a != *b)
            return (unsigned char)*a - (unsigned char)*b;
        if (!*a)
            return 0;
    }
    return 0;
}

int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, (size_t)-1);
}
