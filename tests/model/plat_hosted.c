/* SPDX-License-Identifier: MIT */
/*
 * plat_hosted.c - shim/pv/mmu_plat.h implemented on the model: the hypercalls
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
#include "lib/console.h"
#include "lib/lib.h"
#include "pv/mmu_plat.h"
#include "lib/result.h"
#include "handoff/trampoline.h"
#include "toolstack.h"

static jmp_buf *run_env;
static enum outcome run_outcome;
static char run_msg[512];
static char log_buf[HOSTED_LOG_BYTES];
static size_t log_len;

/* ------------------------------------------------------------ mmu_plat.h */

/*
 * With several vCPUs, another one may run before and after any of these
 * hypercalls (vcpus.c's seeded scheduler): after, so that what the caller
 * does next (publish a switch it has just made, say) can come late.
 */
long plat_mmu_update(mmu_update_t *req, unsigned int count, unsigned int *done)
{
    long rc;

    model_preempt();
    rc = model_mmu_update(req, count, done);
    model_preempt();
    return rc;
}

long plat_mmuext_op(struct mmuext_op *op, unsigned int count, unsigned int *done)
{
    long rc;

    model_preempt();
    rc = model_mmuext_op(op, count, done);
    model_preempt();
    return rc;
}

long plat_multicall(multicall_entry_t *calls, unsigned int nr)
{
    long rc;

    model_preempt();
    rc = model_multicall(calls, nr);
    model_preempt();
    return rc;
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

/* The toolstack's save and restore happen inside it (toolstack.c). */
long plat_suspend(unsigned long start_info_mfn)
{
    long rc;

    if (model_inject_call(&rc, "sched_op(SHUTDOWN_suspend)"))
        return rc;
    return model_toolstack_suspend(start_info_mfn);
}

unsigned long plat_hypercalls(void)
{
    return M.stats.hypercalls;
}

/* The model's clock counts work, not time: its "nanoseconds" are its ticks. */
uint64_t plat_tsc_to_ns(uint64_t tsc)
{
    return tsc;
}

/* A clock the model advances with the work done: deterministic, like everything here. */
unsigned int plat_vcpu_id(void)
{
    return M.vcpu;
}

void plat_yield(void)
{
    model_yield();
}

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

void *plat_view(unsigned long va, size_t len, bool write)
{
    return vmem_view(va, len, write);
}

long plat_vm_assist(unsigned int cmd, unsigned int type)
{
    return model_vm_assist(cmd, type);
}

long plat_stack_switch(unsigned long sp)
{
    return model_stack_switch(sp);
}

long plat_set_trap_table(const struct trap_info *table)
{
    return model_set_trap_table(table);
}

long plat_update_va_mapping(unsigned long va, uint64_t pte, unsigned long flags)
{
    return model_update_va_mapping(va, pte, flags);
}

/*
 * What the CPU does with shim/handoff/trampoline.S: fetch it where the
 * hand-off copied it (it must be there, byte for byte, and executable in
 * the shim's tables), read its block and ops there, make the one
 * mmuext_op (Xen reads the ops and writes the done count through
 * whichever tables are loaded).  Past NEW_BASEPTR the CPU goes on fetching
 * at the same address in the new tables: it must be the same frame there,
 * executable, and the block is read again through them.  If Xen took every
 * op, the jump: the entry executable, the stack writable and start_info
 * mapped in the tables now loaded.  The run ends there.
 */
long plat_call_trampoline(unsigned long va, unsigned long block_va)
{
    size_t code = (size_t)(handoff_trampoline_end - (char *)handoff_trampoline);
    struct mmuext_op ops[TRAMP_MAX_OPS];
    struct handoff_block b;
    unsigned int done = 0;
    unsigned long mfn, code_mfn, block_mfn;
    char bytes[TRAMP_OPS_OFF], why[160];
    long rc;

    vmem_read_bytes(va, bytes, code);
    if (memcmp(bytes, (const void *)handoff_trampoline, code))
        model_end_run(OUT_FAILURE, "the code at %#lx is not the trampoline", va);
    if (!vmem_executable(va, &code_mfn, why, sizeof(why)))
        model_end_run(OUT_FAULT, "instruction fetch at the trampoline %#lx: %s", va, why);
    if (!vmem_translate(block_va, false, &block_mfn, why, sizeof(why)))
        model_end_run(OUT_FAULT, "the trampoline's block at %#lx: %s", block_va, why);
    vmem_read_bytes(block_va, &b, sizeof(b));
    if (b.nr_ops > TRAMP_MAX_OPS)
        model_end_run(OUT_FAILURE, "the trampoline's block names %lu ops", (unsigned long)b.nr_ops);
    vmem_read_bytes(b.ops, ops, b.nr_ops * sizeof(ops[0]));
    rc = model_mmuext_op(ops, (unsigned int)b.nr_ops, &done);
    if (!vmem_translate(b.done, true, &mfn, why, sizeof(why)))
        model_end_run(OUT_CRASH, "Xen cannot write the done count at %#lx: %s", (unsigned long)b.done, why);
    vmem_write64(b.done, done);
    if (rc && !done)
        return rc;              /* NEW_BASEPTR refused: the trampoline returns */
    if (!vmem_executable(va, &mfn, why, sizeof(why)))
        model_end_run(OUT_CRASH, "after NEW_BASEPTR the trampoline at %#lx cannot run: %s", va, why);
    if (mfn != code_mfn)
        model_end_run(OUT_CRASH, "after NEW_BASEPTR the trampoline's address %#lx is mfn %#lx, not its "
                      "page %#lx", va, mfn, code_mfn);
    if (!vmem_translate(block_va, false, &mfn, why, sizeof(why)) || mfn != block_mfn)
        model_end_run(OUT_CRASH, "after NEW_BASEPTR the trampoline's block at %#lx is not its page",
                      block_va);
    if (rc)
        model_end_run(OUT_CRASH, "after NEW_BASEPTR, op %u of the trampoline's batch failed (%ld): %s",
                      done, rc, model_last_refusal());
    vmem_read_bytes(block_va, &b, sizeof(b));       /* what the jump reads, through the new tables */
    if (!vmem_executable(b.entry, &mfn, why, sizeof(why)))
        model_end_run(OUT_CRASH, "the next kernel's entry %#lx: %s", (unsigned long)b.entry, why);
    if (!vmem_translate(b.stack - 8, true, &mfn, why, sizeof(why)))
        model_end_run(OUT_CRASH, "the next kernel's stack %#lx: %s", (unsigned long)b.stack, why);
    if (!vmem_translate(b.start_info, false, &mfn, why, sizeof(why)))
        model_end_run(OUT_CRASH, "the next kernel's start_info %#lx: %s", (unsigned long)b.start_info, why);
    model_end_run(OUT_JUMPED, "entry %#lx, rsp %#lx, rsi %#lx", (unsigned long)b.entry,
                  (unsigned long)b.stack, (unsigned long)b.start_info);
}

/* The guest's console and result protocol (console.h, result.h), for the hand-off's code. */
void vprintk(const char *fmt, va_list ap)
{
    char buf[320];

    vformat(buf, sizeof(buf), fmt, ap);
    mmu_print("%s", buf);
}

void printk(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}

void console_flush(void)
{
}

/* The shim's own formatter, so its format strings are exercised as in the guest. */
static __attribute__((noreturn)) void end_with(enum outcome o, const char *fmt, va_list ap)
{
    char why[320];

    vformat(why, sizeof(why), fmt, ap);
    model_end_run(o, "%s", why);
}

void result_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    end_with(OUT_ERROR, fmt, ap);
}

void result_failure(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    end_with(OUT_FAILURE, fmt, ap);
}

void mmu_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    end_with(OUT_ERROR, fmt, ap);
}

void mmu_failure(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    end_with(OUT_FAILURE, fmt, ap);
}

void mmu_print(const char *fmt, ...)
{
    char buf[320];
    va_list ap;
    size_t n;

    /* As the guest's console names the vCPU while several run. */
    n = M.nr_vcpus > 1 ? (size_t)format(buf, sizeof(buf), "vcpu %u: ", M.vcpu) : 0;
    va_start(ap, fmt);
    vformat(buf + n, sizeof(buf) - n, fmt, ap);
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
    model_vcpus_end_here();         /* on a secondary vCPU: continues on vCPU 0 */
    model_end_run_now();
}

void model_end_run_now(void)
{
    if (!run_env) {
        fprintf(stderr, "model: %s outside a run: %s\n", outcome_name(run_outcome), run_msg);
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
