/* SPDX-License-Identifier: MIT */
/* xen_plat.c - mmu_plat.h in the guest: real hypercalls, real memory, the result protocol. */
#include "pv/mmu_plat.h"
#include "pv/evtchn.h"
#include "pv/layout.h"
#include "pv/traps.h"
#include "lib/console.h"
#include "pv/hypercall.h"
#include "lib/result.h"
#include "lib/lib.h"

unsigned long hypercalls_issued;

long plat_mmu_update(mmu_update_t *req, unsigned int count, unsigned int *done)
{
    return HYPERVISOR_mmu_update(req, count, done, DOMID_SELF);
}

long plat_mmuext_op(struct mmuext_op *op, unsigned int count, unsigned int *done)
{
    return HYPERVISOR_mmuext_op(op, count, done, DOMID_SELF);
}

long plat_multicall(multicall_entry_t *calls, unsigned int nr)
{
    return HYPERVISOR_multicall(calls, nr);
}

long plat_memory_op(unsigned int cmd, void *arg)
{
    return HYPERVISOR_memory_op(cmd, arg);
}

long plat_suspend(unsigned long start_info_mfn)
{
    struct sched_shutdown sd = { .reason = SHUTDOWN_suspend };

    console_flush();
    /* rdx = start_info's mfn: a three-argument sched_op. */
    return hypercall3(__HYPERVISOR_sched_op, SCHEDOP_shutdown, &sd, start_info_mfn);
}

void plat_yield(void)
{
    HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

unsigned long plat_hypercalls(void)
{
    return hypercalls_issued;
}

/* shared_info is in its fixmap slot whenever a time is converted (after the resume). */
uint64_t plat_tsc_to_ns(uint64_t tsc)
{
    return xen_tsc_to_ns((const shared_info_t *)fix_to_virt(FIX_SHARED_INFO), tsc);
}

void *plat_view(unsigned long va, size_t len, bool write)
{
    (void)len, (void)write;
    return (void *)va;
}

long plat_vm_assist(unsigned int cmd, unsigned int type)
{
    return HYPERVISOR_vm_assist(cmd, type);
}

long plat_stack_switch(unsigned long sp)
{
    return HYPERVISOR_stack_switch(FLAT_KERNEL_SS, sp);
}

long plat_set_trap_table(const struct trap_info *table)
{
    return HYPERVISOR_set_trap_table(table);
}

long plat_update_va_mapping(unsigned long va, uint64_t pte, unsigned long flags)
{
    return HYPERVISOR_update_va_mapping(va, pte, flags);
}

long plat_call_trampoline(unsigned long va, unsigned long block_va)
{
    return ((long (*)(unsigned long))va)(block_va);
}

/*
 * A ring-3 kernel cannot read CR3; the instruction faults into Xen, which
 * emulates it for a PV kernel and returns the machine address of the
 * current kernel L4.
 */
unsigned long plat_read_cr3(void)
{
    unsigned long cr3;

    asm volatile ("mov %%cr3, %0" : "=r" (cr3));
    return cr3;
}

/*
 * CPUID as Xen's policy for this guest says, not as the hardware says: a
 * PV guest asks through the forced-emulation prefix (ud2a; "xen"; cpuid),
 * which Xen always emulates.  Leaf 0x80000001, EDX bit 20: NX.
 */
bool plat_read64_safe(unsigned long va, uint64_t *val)
{
    return probe_read64(va, val);
}

bool plat_cpu_has_nx(void)
{
    uint32_t eax = 0x80000001, ebx, ecx = 0, edx;

    asm volatile (".byte 0x0f, 0x0b, 0x78, 0x65, 0x6e; cpuid"
                  : "+a" (eax), "=b" (ebx), "+c" (ecx), "=d" (edx));
    return edx & (1U << 20);
}

void mmu_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_vreport("ERROR", fmt, ap);
}

void mmu_failure(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    result_vreport("FAILURE", fmt, ap);
}

void mmu_print(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}
