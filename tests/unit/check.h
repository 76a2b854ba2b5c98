/* SPDX-License-Identifier: MIT */
/*
 * check.h - the unit tests' whole framework: CHECK() counts one test case,
 * prints the failing ones, and check_done() prints the binary's summary
 * "<name>: N passed, M failed" that tests/run_binaries.py adds up.
 */
#ifndef TESTS_UNIT_CHECK_H
#define TESTS_UNIT_CHECK_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static unsigned int check_passed, check_failed;

/* Line-buffered, so that a sanitizer's report lands after the last case printed. */
__attribute__((constructor)) static void check_init(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline bool check_verbose(void)
{
    const char *v = getenv("UNIT_VERBOSE");

    return v && *v && *v != '0';
}

/* One test case: ok or not.  fmt describes the case (printed on failure). */
static inline bool __attribute__((format(printf, 5, 6)))
check_report(bool ok, const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;

    if (ok)
        check_passed++;
    else
        check_failed++;
    if (!ok || check_verbose()) {
        printf("%s %s:%d: %s:", ok ? "ok  " : "FAIL", file, line, expr);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
    }
    return ok;
}

/* CHECK(cond) or CHECK(cond, "printf format", args...): one test case. */
#define CHECK(cond, ...) \
    check_report(!!(cond), __FILE__, __LINE__, #cond, " " __VA_ARGS__)

/* Print the summary line and give main()'s exit status. */
static inline int check_done(const char *name)
{
    printf("%s: %u passed, %u failed\n", name, check_passed, check_failed);
    fflush(stdout);
    return check_failed ? 1 : 0;
}

/* A small deterministic PRNG (xorshift64*), so that failures reproduce. */
static inline uint64_t test_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1DULL;
}

#endif
