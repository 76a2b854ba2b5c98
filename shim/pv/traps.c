/* SPDX-License-Identifier: MIT */
/*
 * traps.c - the virtual IDT.  A PV guest has no IDT of its own: it gives
 * Xen a table of {vector, dpl, cs, handler} (set_trap_table) and a kernel
 * stack for exceptions taken in user mode (stack_switch).  Any exception
 * nobody claims ends the run with an ERROR naming the vector and where it
 * happened, instead of Xen's "Unhandled" domain crash or a fault loop.
 */
#include "pv/traps.h"
#include "pv/hypercall.h"
#include "lib/result.h"
#include "pv/mmu_plat.h"
#include "pv/vcpu.h"
#include "lib/lib.h"

struct trap_entry_desc {
    uint8_t vector;
    uint64_t handler;
};

extern const struct trap_entry_desc trap_entry_table[];

extern const char probe_read64_load[], probe_read64_fixup[];

static struct trap_info trap_table[32];
static trap_hook_t trap_hook[MAX_VCPUS];
static const volatile unsigned long *cr2_source;     /* vCPU 0's; vCPU n's is n vcpu_infos on */

static const char *const vector_names[32] = {
    [0] = "#DE", [1] = "#DB", [3] = "#BP", [4] = "#OF", [5] = "#BR", [6] = "#UD",
    [7] = "#NM", [8] = "#DF", [10] = "#TS", [11] = "#NP", [12] = "#SS", [13] = "#GP",
    [14] = "#PF", [16] = "#MF", [17] = "#AC", [18] = "#MC", [19] = "#XM",
};

void traps_init(unsigned long kernel_stack_top)
{
    unsigned int n = 0;
    long rc;

    for (const struct trap_entry_desc *d = trap_entry_table; d->vector != 0xff; d++) {
        trap_table[n].vector = d->vector;
        /* dpl 0: user code cannot raise these with `int n` (#BP stays kernel-only too). */
        trap_table[n].flags = 0;
        trap_table[n].cs = FLAT_KERNEL_CS;
        trap_table[n].address = d->handler;
        n++;
    }
    trap_table[n].address = 0;  /* terminator */

    rc = HYPERVISOR_set_trap_table(trap_table);
    if (rc)
        result_error("set_trap_table failed: %ld", rc);
    rc = HYPERVISOR_stack_switch(FLAT_KERNEL_SS, kernel_stack_top);
    if (rc)
        result_error("stack_switch(%#lx) failed: %ld", kernel_stack_top, rc);
}

/*
 * VCPUOP_initialise takes the same handlers as a table indexed by vector
 * (vcpu_guest_context.trap_ctxt), not set_trap_table's list.
 */
void traps_fill_ctxt(struct trap_info ctxt[256])
{
    memset(ctxt, 0, 256 * sizeof(*ctxt));
    for (const struct trap_info *t = trap_table; t->address; t++)
        ctxt[t->vector] = *t;
}

void traps_set_hook(trap_hook_t hook)
{
    trap_hook[plat_vcpu_id()] = hook;
}

void traps_set_cr2_source(const volatile unsigned long *cr2)
{
    cr2_source = cr2;
}

void do_trap(struct cpu_regs *regs);
void do_trap(struct cpu_regs *regs)
{
    unsigned int id = plat_vcpu_id();
    const volatile unsigned long *cr2p = cr2_source ?
        (const volatile unsigned long *)((const char *)cr2_source + id * sizeof(struct vcpu_info)) : NULL;
    unsigned long cr2 = (regs->vector == 14 && cr2p) ? *cr2p : 0;
    const char *name = regs->vector < 32 ? vector_names[regs->vector] :
                       regs->vector == TRAP_EVENT_UPCALL ? "event upcall" :
                       regs->vector == TRAP_FAILSAFE ? "failsafe callback" : NULL;
    trap_hook_t hook = trap_hook[id];
    char where[48] = "";

    /* The exception table: a fault on probe_read64's load makes it return false. */
    if ((regs->vector == 14 || regs->vector == 13) && regs->rip == (unsigned long)probe_read64_load) {
        regs->rip = (unsigned long)probe_read64_fixup;
        return;
    }
    if (hook && hook(regs, cr2))
        return;

    /* A PV guest learns cr2 from shared_info, which is mapped only after the MMU bring-up. */
    if (regs->vector == 14)
        format(where, sizeof(where), cr2_source ? " cr2=%#lx" : " cr2=unknown (no shared_info yet)", cr2);
    result_error("unexpected exception %s (vector %lu) error_code=%#lx rip=%#lx cs=%#lx rsp=%#lx%s",
                 name ? name : "?", (unsigned long)regs->vector,
                 (unsigned long)regs->error_code, (unsigned long)regs->rip,
                 (unsigned long)(regs->cs & 0xffff), (unsigned long)regs->rsp, where);
}
