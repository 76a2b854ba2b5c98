/* SPDX-License-Identifier: MIT */
/* lib.h - the few freestanding helpers the shim needs (string, format). */
#ifndef SHIM_LIB_H
#define SHIM_LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "mm/pgtable.h"
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define ALIGN_UP(x, a) (((x) + (a) - 1) & ~((__typeof__(x))(a) - 1))
/* The compiler may move no memory access across it (what vCPUs share goes through __atomic builtins). */
#define barrier() __asm__ __volatile__("" ::: "memory")

/* printf-style formatting: %s %c %d %i %u %x %p %%, 'l'/'ll'/'z', width, '0'. */
int vformat(char *buf, size_t size, const char *fmt, va_list ap);
int format(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#ifndef SHIM_HOSTED
void *memset(void *s, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strncmp(const char *a, const char *b, size_t n);
int strcmp(const char *a, const char *b);
#else
#include <string.h>
#endif

#endif
