/* SPDX-License-Identifier: MIT */
/*
 * usermode.c - run a few instructions in ring 3 on a user page.
 *
 * A 64-bit PV kernel itself runs in ring 3, so the hardware cannot keep
 * user mode out of kernel pages; Xen does it by switching to the user L4
 * (MMUEXT_NEW_USER_BASEPTR) on every return to user mode.  That L4 holds
 * only the user slots, so a kernel address is simply not mapped there.
 *
 * The test builds what a new process gets (mm_user.c: its own kernel L4
 * and user L4, one user page), enters user mode, and expects: the page's
 * own cookie read and written back, then a page fault on the kernel
 * address, delivered to the shim with cs RPL 3 (user mode).  Then the
 * address space goes (mm_user.c).  Every vCPU runs it, each in its own mm.
 */
#include "pv/usermode.h"
#include "pv/mm_user.h"
#include "pv/batch.h"
#include "pv/hypercall.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/p2m.h"
#include "pv/page_alloc.h"
#include "pv/traps.h"
#include "pv/vcpu.h"
#include "lib/lib.h"

struct usermode_ctx {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

long usermode_enter(struct usermode_ctx *ctx, unsigned long rip, unsigned long rsp, unsigned long arg);
__attribute__((noreturn)) void usermode_resume(struct usermode_ctx *ctx, long value);
extern const char user_blob_start[], user_blob_end[];

enum { UM_FAULTED_AS_EXPECTED = 1, UM_KERNEL_VISIBLE = 2, UM_OTHER = 3 };

#define COOKIE 0x0123456789abcdefUL

/* Each vCPU runs the test in its own mm, with its own state and trap stack. */
static struct {
    struct usermode_ctx ctx;
    struct cpu_regs seen;
    unsigned long cr2;
} um[MAX_VCPUS];
static uint8_t user_trap_stack[MAX_VCPUS][8192] __attribute__((aligned(16)));
static const unsigned long probe_va = (unsigned long)&um;    /* any kernel address */

static bool user_trap(struct cpu_regs *regs, unsigned long cr2)
{
    unsigned int id = plat_vcpu_id();

    if ((regs->cs & 3) != 3)
        return false;           /* from kernel mode: not ours */
    um[id].seen = *regs;
    um[id].cr2 = cr2;
    traps_set_hook(NULL);
    if (regs->vector == 14 && cr2 == probe_va)
        usermode_resume(&um[id].ctx, UM_FAULTED_AS_EXPECTED);
    if (regs->vector == 6)
        usermode_resume(&um[id].ctx, UM_KERNEL_VISIBLE);
    usermode_resume(&um[id].ctx, UM_OTHER);
}

void usermode_test(void)
{
    const unsigned long len = user_blob_end - user_blob_start;
    unsigned int id = plat_vcpu_id();
    const struct cpu_regs *seen = &um[id].seen;
    struct user_space us;
    unsigned long kpage;
    long rc, r;

    user_space_create(&us, USER_TEST_VA, user_blob_start, len);
    kpage = pfn_to_virt(us.page);
    *(volatile uint64_t *)(kpage + 0x800) = COOKIE;

    /* Exceptions from user mode land on this stack, not on the live one. */
    rc = HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (unsigned long)(user_trap_stack[id + 1]));
    if (rc)
        mmu_error("usermode: stack_switch failed: %ld", rc);

    traps_set_hook(user_trap);
    r = usermode_enter(&um[id].ctx, us.va, us.va + PAGE_SIZE - 64, probe_va);
    traps_set_hook(NULL);

    if (r == UM_KERNEL_VISIBLE)
        mmu_failure("usermode: ring 3 read kernel address %#lx without a fault: the kernel is "
                    "visible to user mode (is there a separate user L4?)", probe_va);
    if (r != UM_FAULTED_AS_EXPECTED)
        mmu_failure("usermode: unexpected exception vector %lu in ring 3 at rip %#lx cr2 %#lx error %#lx",
                    (unsigned long)seen->vector, (unsigned long)seen->rip, um[id].cr2,
                    (unsigned long)seen->error_code);
    if (*(volatile uint64_t *)(kpage + 0x808) != ~COOKIE)
        mmu_failure("usermode: the user program did not write its page (found %#lx)",
                    (unsigned long)*(volatile uint64_t *)(kpage + 0x808));
    if (seen->rip < us.va || seen->rip >= us.va + len)
        mmu_failure("usermode: fault at rip %#lx, outside the user program", (unsigned long)seen->rip);

    user_space_destroy(&us);

    mmu_print("usermode: isolation ok (ring 3 read its page, faulted on %#lx at rip %#lx, L4 pfn %#lx)\n",
              probe_va, (unsigned long)seen->rip, us.mm.kernel_l4);
}
