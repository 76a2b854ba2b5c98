/* SPDX-License-Identifier: MIT */
/*
 * plat_hosted.c - shim/mmu_plat.h implemented on the model: the hypercalls
 * go to pvmm.c, memory accesses to vmem.c (translated through the
 * simulated tables), and mmu_error()/mmu_failure() end the run like the
 * guest's result protocol does, by jumping back to model_run().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hosted.h"
#include "lib.h"
#include "mmu_plat.h"

static jmp_buf *run_env;
static enum outcome run_outcome;
static char run_msg[512];
static char log_buf[HOSTED_LOG_BYTES];
static size_t log_len;

/* ------------------------------------------------------------ mmu_plat.h */

long plat_mmu_update(mmu_update_t *req, unsigned int count, unsigned int *done)
{
    return model_mmu_update(req, count, done);
}

long plat_mmuext_op(struct mmuext_op *op, unsigned int count, unsigned int *done)
{
    return model_mmuext_op(op, count, done);
}

long plat_multicall(multicall_entry_t *calls, unsigned int nr)
{
    return model_multicall(calls, nr);
}

long plat_memory_op(unsigned int cmd, void *arg)
{
    return model_memory_op(cmd, arg);
}

unsigned long plat_read_cr3(void)
{
    return M.cr3 << PAGE_SHIFT;
}

bool plat_cpu_has_nx(void)
{
    return !M.opts.no_nx;
}

/* A clock the model advances with the work done: deterministic, like everything here. */
uint64_t plat_tsc(void)
{
    return M.stats.hypercalls * 1000 + M.stats.entries * 10 + M.tlb_gen;
}

uint64_t plat_read64(unsigned long va)
{
    return vmem_read64(va);
}

bool plat_read64_safe(unsigned long va, uint64_t *val)
{
    return vmem_read64_safe(va, val);
}

void plat_write64(unsigned long va, uint64_t val)
{
    vmem_write64(va, val);
}

void plat_zero_page(unsigned long va)
{
    vmem_zero_page(va);
}

/* The shim's own formatter, so its format strings are exercised as in the guest. */
void mmu_error(const char *fmt, ...)
{
    char why[320];
    va_list ap;

    va_start(ap, fmt);
    vformat(why, sizeof(why), fmt, ap);
    va_end(ap);
    model_end_run(OUT_ERROR, "%s", why);
}

void mmu_failure(const char *fmt, ...)
{
    char why[320];
    va_list ap;

    va_start(ap, fmt);
    vformat(why, sizeof(why), fmt, ap);
    va_end(ap);
    model_end_run(OUT_FAILURE, "%s", why);
}

void mmu_print(const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vformat(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    n = strlen(buf);
    if (log_len + n < sizeof(log_buf)) {
        memcpy(log_buf + log_len, buf, n + 1);
        log_len += n;
    }
    if (getenv("MODEL_VERBOSE"))
        fputs(buf, stdout);
}

void hosted_log_reset(void)
{
    log_len = 0;
    log_buf[0] = 0;
}

const char *hosted_log(void)
{
    return log_buf;
}

/* ------------------------------------------------------------ runs */

void model_end_run(enum outcome o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(run_msg, sizeof(run_msg), fmt, ap);
    va_end(ap);
    run_outcome = o;
    if (!run_env) {
        fprintf(stderr, "model: %s outside a run: %s\n", outcome_name(o), run_msg);
        abort();
    }
    longjmp(*run_env, 1);
}

enum outcome model_run(void (*fn)(void *), void *arg, char *msg, size_t len)
{
    jmp_buf env, *outer = run_env;

    run_outcome = OUT_NONE;
    run_msg[0] = 0;
    if (!setjmp(env)) {
        run_env = &env;
        fn(arg);
    }
    run_env = outer;
    if (msg)
        snprintf(msg, len, "%s", run_msg);
    return run_outcome;
}
