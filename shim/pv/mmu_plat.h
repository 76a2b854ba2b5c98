/* SPDX-License-Identifier: MIT */
/*
 * mmu_plat.h - everything mmu_pv.c, pt_walk.c, page_alloc.c and the
 * hand-off need from the world, and nothing more.
 *
 * In the guest (xen_plat.c) these are hypercalls and plain memory accesses.
 * In the host model (tests/model) the same calls go to a simulated Xen that
 * enforces Xen's rules, so the very code that boots is what the host tests
 * run.  Virtual addresses are the guest's: the model translates them
 * through the simulated page tables, which is how it catches a write
 * through a read-only or missing mapping.
 */
#ifndef SHIM_MMU_PLAT_H
#define SHIM_MMU_PLAT_H

#include <stdbool.h>
#include <stddef.h>
#include "lib/xen.h"
#include "mm/pgtable.h"

long plat_mmu_update(mmu_update_t *req, unsigned int count, unsigned int *done);
long plat_mmuext_op(struct mmuext_op *op, unsigned int count, unsigned int *done);
long plat_multicall(multicall_entry_t *calls, unsigned int nr);
/* Machine address of the current kernel L4 (CR3). */
unsigned long plat_read_cr3(void);
/* Whether the CPU (as Xen presents it to this guest) has NX: else _PAGE_NX is a reserved bit. */
bool plat_cpu_has_nx(void);
long plat_memory_op(unsigned int cmd, void *arg);

/* A read that may fault (the M2P past the host's memory): false if it did. */
bool plat_read64_safe(unsigned long va, uint64_t *val);

/* Let another vCPU run (a wait for one): SCHEDOP_yield in the guest. */
void plat_yield(void);

#ifdef SHIM_HOSTED
/* The model's vCPU that runs the code now. */
unsigned int plat_vcpu_id(void);
uint64_t plat_tsc(void);
uint64_t plat_read64(unsigned long va);
void plat_write64(unsigned long va, uint64_t val);
void plat_zero_page(unsigned long va);
#else
/* Set by smp.c once %gs's kernel base points at this vCPU's block, whose first word is its id. */
extern bool vcpu_ids_live;

static inline unsigned int plat_vcpu_id(void)
{
    unsigned int id = 0;

    if (vcpu_ids_live)
        asm volatile ("movl %%gs:0, %0" : "=r" (id));
    return id;
}

/* The time-stamp counter (a PV guest may read it: Xen's default tsc_mode does not trap it). */
static inline uint64_t plat_tsc(void)
{
    uint32_t lo, hi;

    asm volatile ("rdtsc" : "=a" (lo), "=d" (hi));
    return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t plat_read64(unsigned long va)
{
    return *(volatile const uint64_t *)va;
}

static inline void plat_write64(unsigned long va, uint64_t val)
{
    *(volatile uint64_t *)va = val;
}

static inline void plat_zero_page(unsigned long va)
{
    uint64_t *p = (uint64_t *)va;

    for (unsigned int i = 0; i < 512; i++)
        p[i] = 0;
}
#endif

/*
 * SCHEDOP_shutdown(SHUTDOWN_suspend), with rdx = start_info's mfn (the
 * tools read it from vCPU 0's saved registers): 0 back in a new domain,
 * 1 back in the same one (checkpoint, cancel), < 0 refused.
 */
long plat_suspend(unsigned long start_info_mfn);

/* Hypercalls issued so far (a multicall counts once), and a TSC interval in ns. */
unsigned long plat_hypercalls(void);
uint64_t plat_tsc_to_ns(uint64_t tsc);

/*
 * What the hand-off (shim/handoff/) needs besides the above.
 *
 * plat_view: a C pointer through which the code may access [va, va + len)
 * of its own address space (write: it will write there).  In the guest
 * that is va itself.  In the model it is the frames' words, after the
 * model has checked that the current tables map every page of the range
 * (writable, for a write): so a write into a live table's frame is
 * refused there as Xen's read-only mapping refuses it here.
 */
void *plat_view(unsigned long va, size_t len, bool write);
long plat_vm_assist(unsigned int cmd, unsigned int type);
/* The kernel stack Xen switches to on a trap from user mode. */
long plat_stack_switch(unsigned long sp);
long plat_set_trap_table(const struct trap_info *table);
long plat_update_va_mapping(unsigned long va, uint64_t pte, unsigned long flags);
/*
 * Calls the trampoline the hand-off copied to va (handoff/trampoline.h)
 * with its block at block_va; it returns only when Xen refused the first op.
 */
long plat_call_trampoline(unsigned long va, unsigned long block_va);

/* Ends the run: "Test result: ERROR <why>" in the guest, a caught error in the model. */
__attribute__((noreturn, format(printf, 1, 2))) void mmu_error(const char *fmt, ...);
__attribute__((noreturn, format(printf, 1, 2))) void mmu_failure(const char *fmt, ...);
void mmu_print(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
