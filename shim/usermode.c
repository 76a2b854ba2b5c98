/* SPDX-License-Identifier: MIT */
/*
 * usermode.c - run a few instructions in ring 3 on a user page.
 *
 * A 64-bit PV kernel itself runs in ring 3, so the hardware cannot keep
 * user mode out of kernel pages; Xen does it by switching to the user L4
 * (MMUEXT_NEW_USER_BASEPTR) on every return to user mode.  That L4 holds
 * only the user slots, so a kernel address is simply not mapped there.
 *
 * The test builds what a new process gets (mm_alloc: a kernel L4 sharing
 * the kernel slots, and its user L4), maps one user page through a user
 * L3 that set_pgd puts in both, pins and loads both L4s, enters user mode,
 * and expects: the page's own cookie read and written back, then a page
 * fault on the kernel address, delivered to the shim with cs RPL 3 (user
 * mode).  Then it switches back, unpins both and frees everything.
 */
#include "usermode.h"
#include "batch.h"
#include "hypercall.h"
#include "mmu.h"
#include "mmu_plat.h"
#include "p2m.h"
#include "page_alloc.h"
#include "traps.h"
#include "lib.h"

struct usermode_ctx {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};

long usermode_enter(struct usermode_ctx *ctx, unsigned long rip, unsigned long rsp, unsigned long arg);
__attribute__((noreturn)) void usermode_resume(struct usermode_ctx *ctx, long value);
extern const char user_blob_start[], user_blob_end[];

enum { UM_FAULTED_AS_EXPECTED = 1, UM_KERNEL_VISIBLE = 2, UM_OTHER = 3 };

#define COOKIE 0x0123456789abcdefUL

static struct usermode_ctx ctx;
static unsigned long probe_va;
static struct cpu_regs seen;
static unsigned long seen_cr2;
static uint8_t user_trap_stack[8192] __attribute__((aligned(16)));

static bool user_trap(struct cpu_regs *regs, unsigned long cr2)
{
    if ((regs->cs & 3) != 3)
        return false;           /* from kernel mode: not ours */
    seen = *regs;
    seen_cr2 = cr2;
    traps_set_hook(NULL);
    if (regs->vector == 14 && cr2 == probe_va)
        usermode_resume(&ctx, UM_FAULTED_AS_EXPECTED);
    if (regs->vector == 6)
        usermode_resume(&ctx, UM_KERNEL_VISIBLE);
    usermode_resume(&ctx, UM_OTHER);
}

static pte_t user_table(unsigned long pfn)
{
    return ((pte_t)mmu_pfn_to_mfn(pfn) << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER |
           _PAGE_ACCESSED | _PAGE_DIRTY;
}

void usermode_test(void)
{
    const unsigned long va = USER_TEST_VA;
    struct mm mm;
    unsigned long l3, l2, l1, page, kpage;
    long rc, r;

    /* A process-like address space: its own kernel L4 and user L4. */
    mm_alloc(&mm);
    l3 = pt_page_alloc("user L3");
    l2 = pt_page_alloc("user L2");
    l1 = pt_page_alloc("user L1");
    page = pages_alloc("user page");
    kpage = pfn_to_virt(page);

    /* The program and its cookie, written through the kernel's direct map. */
    memset((void *)kpage, 0, PAGE_SIZE);
    memcpy((void *)kpage, user_blob_start, user_blob_end - user_blob_start);
    *(volatile uint64_t *)(kpage + 0x800) = COOKIE;

    /* Filled while still ordinary memory: plain writes, no hypercalls. */
    plat_write64(pfn_to_virt(l1) + PT_INDEX(va, L1_SHIFT) * 8,
                 ((pte_t)mmu_pfn_to_mfn(page) << PAGE_SHIFT) | _PAGE_PRESENT | _PAGE_RW |
                 _PAGE_USER | _PAGE_ACCESSED | _PAGE_DIRTY);
    plat_write64(pfn_to_virt(l2) + PT_INDEX(va, L2_SHIFT) * 8, user_table(l1));
    plat_write64(pfn_to_virt(l3) + PT_INDEX(va, L3_SHIFT) * 8, user_table(l2));
    set_pgd(&mm, PT_INDEX(va, L4_SHIFT), user_table(l3));      /* unpinned: both L4s */

    /* Read-only and pinned (both L4s) in one batch, then both CR3s loaded in another. */
    pt_page_protect(l1);
    pt_page_protect(l2);
    pt_page_protect(l3);
    mm_pin(&mm);
    mm_switch(&mm);

    /* Exceptions from user mode land on this stack, not on the live one. */
    rc = HYPERVISOR_stack_switch(FLAT_KERNEL_SS, (unsigned long)(user_trap_stack + sizeof(user_trap_stack)));
    if (rc)
        mmu_error("usermode: stack_switch failed: %ld", rc);

    probe_va = (unsigned long)&probe_va;        /* any kernel address */
    traps_set_hook(user_trap);
    r = usermode_enter(&ctx, va, va + PAGE_SIZE - 64, probe_va);
    traps_set_hook(NULL);

    /* Back to init_mm; unpin both of the process's L4s and free everything. */
    mm_switch(&init_mm);
    mm_free(&mm);
    pt_free_late((const unsigned long[]){ l3, l2, l1 }, 3);

    if (r == UM_KERNEL_VISIBLE)
        mmu_failure("usermode: ring 3 read kernel address %#lx without a fault: the kernel is "
                    "visible to user mode (is there a separate user L4?)", probe_va);
    if (r != UM_FAULTED_AS_EXPECTED)
        mmu_failure("usermode: unexpected exception vector %lu in ring 3 at rip %#lx cr2 %#lx error %#lx",
                    (unsigned long)seen.vector, (unsigned long)seen.rip, seen_cr2,
                    (unsigned long)seen.error_code);
    if (*(volatile uint64_t *)(kpage + 0x808) != ~COOKIE)
        mmu_failure("usermode: the user program did not write its page (found %#lx)",
                    (unsigned long)*(volatile uint64_t *)(kpage + 0x808));
    if (seen.rip < va || seen.rip >= va + (user_blob_end - user_blob_start))
        mmu_failure("usermode: fault at rip %#lx, outside the user program", (unsigned long)seen.rip);
    pages_free(page);

    /* init_mm is pinned: set_pgd goes through Xen for both L4s. Clear and restore slot 0. */
    set_pgd(&init_mm, 0, 0);
    batch_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
    batch_flush();
    if (mmu_read_entry(mmu_pfn_to_mfn(init_mm.kernel_l4), 0) ||
        (init_mm.user_l4 && mmu_read_entry(mmu_pfn_to_mfn(init_mm.user_l4), 0)))
        mmu_failure("usermode: set_pgd(init_mm, 0, 0) left L4[0] set");
    set_pgd(&init_mm, 0, user_table(mmu_tables.user_l3));
    batch_flush();
    if (init_mm.user_l4 && mmu_read_entry(mmu_pfn_to_mfn(init_mm.user_l4), 0) !=
                           mmu_read_entry(mmu_pfn_to_mfn(init_mm.kernel_l4), 0))
        mmu_failure("usermode: set_pgd(init_mm, 0, ...) did not mirror slot 0 into the user L4");

    mmu_print("usermode: isolation ok (ring 3 read its page, faulted on %#lx at rip %#lx)\n",
              probe_va, (unsigned long)seen.rip);
}
