/* SPDX-License-Identifier: MIT */
/*
 * hypercall.h - hypercalls issued with a direct `syscall`.
 *
 * A 64-bit PV kernel runs in ring 3, so a `syscall` it executes in kernel
 * mode traps straight into Xen, which reads the hypercall number from %rax
 * and the arguments from %rdi, %rsi, %rdx, %r10 and %r8.  `syscall` itself
 * overwrites %rcx (return rip) and %r11 (rflags), hence the clobbers.  This
 * is what Linux does since XSA-466: the shim never asks for, nor uses, a
 * hypercall page.
 */
#ifndef SHIM_HYPERCALL_H
#define SHIM_HYPERCALL_H

#include "lib/xen.h"

/* Every hypercall the guest has issued (a multicall counts once); xen_plat.c. */
extern unsigned long hypercalls_issued;

static inline long hypercall5(unsigned int op, unsigned long a1, unsigned long a2,
                              unsigned long a3, unsigned long a4, unsigned long a5)
{
    long ret;

    /* first: nothing may come between the register variables and the asm */
    __atomic_fetch_add(&hypercalls_issued, 1, __ATOMIC_RELAXED);       /* every vCPU counts */
    register unsigned long r10 asm("r10") = a4;
    register unsigned long r8 asm("r8") = a5;

    asm volatile ("syscall"
                  : "=a" (ret), "+D" (a1), "+S" (a2), "+d" (a3), "+r" (r10), "+r" (r8)
                  : "0" ((unsigned long)op)
                  : "rcx", "r11", "memory");
    return ret;
}

#define hypercall1(op, a)          hypercall5(op, (unsigned long)(a), 0, 0, 0, 0)
#define hypercall2(op, a, b)       hypercall5(op, (unsigned long)(a), (unsigned long)(b), 0, 0, 0)
#define hypercall3(op, a, b, c)    hypercall5(op, (unsigned long)(a), (unsigned long)(b), \
                                              (unsigned long)(c), 0, 0)
#define hypercall4(op, a, b, c, d) hypercall5(op, (unsigned long)(a), (unsigned long)(b), \
                                              (unsigned long)(c), (unsigned long)(d), 0)

static inline long HYPERVISOR_console_io(int cmd, int len, const char *buf)
{
    return hypercall3(__HYPERVISOR_console_io, cmd, len, buf);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_sched_op, cmd, arg);
}

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
}

static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_memory_op, cmd, arg);
}

static inline long HYPERVISOR_mmu_update(mmu_update_t *req, unsigned int count,
                                         unsigned int *done, domid_t dom)
{
    return hypercall4(__HYPERVISOR_mmu_update, req, count, done, dom);
}

static inline long HYPERVISOR_mmuext_op(struct mmuext_op *op, unsigned int count,
                                        unsigned int *done, domid_t dom)
{
    return hypercall4(__HYPERVISOR_mmuext_op, op, count, done, dom);
}

static inline long HYPERVISOR_update_va_mapping(unsigned long va, uint64_t pte,
                                                unsigned long flags)
{
    return hypercall3(__HYPERVISOR_update_va_mapping, va, pte, flags);
}

static inline long HYPERVISOR_multicall(multicall_entry_t *calls, unsigned int nr)
{
    return hypercall2(__HYPERVISOR_multicall, calls, nr);
}

static inline long HYPERVISOR_set_trap_table(const struct trap_info *table)
{
    return hypercall1(__HYPERVISOR_set_trap_table, table);
}

static inline long HYPERVISOR_callback_op(int cmd, const void *arg)
{
    return hypercall2(__HYPERVISOR_callback_op, cmd, arg);
}

static inline long HYPERVISOR_stack_switch(unsigned long ss, unsigned long sp)
{
    return hypercall2(__HYPERVISOR_stack_switch, ss, sp);
}

static inline long HYPERVISOR_vm_assist(unsigned int cmd, unsigned int type)
{
    return hypercall2(__HYPERVISOR_vm_assist, cmd, type);
}

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return hypercall2(__HYPERVISOR_xen_version, cmd, arg);
}

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
    return hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpu, arg);
}

static inline long HYPERVISOR_set_segment_base(unsigned int which, unsigned long base)
{
    return hypercall2(__HYPERVISOR_set_segment_base, which, base);
}

#endif
