/* SPDX-License-Identifier: MIT */
/*
 * smp.c - the secondary vCPUs, from VCPUOP_initialise to VCPUOP_down.
 *
 * Xen gives a PV domain its vCPUs (xl's `vcpus`, Xen's dom0_max_vcpus) but
 * starts only vCPU 0.  Each other one needs a full context before
 * VCPUOP_up, and Xen checks it as it would a table:
 *
 *   user_regs    rip = secondary_main, rsp = its own stack, rdi = its id,
 *                cs/ss = Xen's flat ring-3 kernel selectors
 *   trap_ctxt    the shim's handlers, indexed by vector
 *   gdt_frames   one page of its own: Xen types it as a descriptor page,
 *                so it must be read-only everywhere (the page-table rule)
 *   kernel_sp    a stack of its own for a trap from user mode
 *   ctrlreg[3]   init_mm's kernel L4, ctrlreg[1] its user L4 (as mfns):
 *                Xen validates and holds both from VCPUOP_initialise on
 *   callbacks    event upcall and failsafe (neither is expected: ERROR)
 *   gs_base_kernel  its block: %gs:0 is its id (plat_vcpu_id())
 *
 * A vCPU, once up, announces itself, checks its GDT, runs the ring-3
 * isolation test in a process-like mm of its own, then the checks that
 * need several vCPUs (smp_stress.c), switches back to init_mm and puts
 * itself down.  vCPU 0 waits for each step, with a patience.
 */
#include "pv/smp.h"
#include "pv/batch.h"
#include "pv/hypercall.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/p2m.h"
#include "pv/traps.h"
#include "pv/usermode.h"
#include "lib/console.h"
#include "lib/result.h"
#include "lib/lib.h"

/* What %gs's kernel base points at, per vCPU: its id first. */
struct vcpu_block {
    unsigned int id;
};

#define SMP_STACK_SIZE  16384

/* The GDT a secondary gets: a null descriptor and one flat data segment, DPL 3. */
#define GDT_ENTRIES     2
#define GDT_DATA_SEL    ((1 << 3) | 3)
#define GDT_DATA_DESC   0x00cff2000000ffffUL

static struct vcpu_block blocks[MAX_VCPUS];
static uint8_t stacks[MAX_VCPUS][SMP_STACK_SIZE] __attribute__((aligned(16)));
/* Where Xen puts a trap from user mode until the vCPU's ring-3 test names its own. */
static uint8_t trap_stacks[MAX_VCPUS][4096] __attribute__((aligned(16)));
static unsigned long gdt_pfn[MAX_VCPUS];
static long gdt_alias_rc[MAX_VCPUS];
static struct vcpu_guest_context ctxt;     /* one at a time: Xen copies it */

bool vcpu_ids_live;
static vcpumask_t up_mask, done_mask;

void smp_boot_vcpu0(void)
{
    long rc = HYPERVISOR_set_segment_base(SEGBASE_GS_KERNEL, (unsigned long)&blocks[0]);

    if (rc)
        result_error("set_segment_base(GS_KERNEL) failed: %ld", rc);
    vcpu_ids_live = true;
}

/* Load the GDT's data selector into %fs and read it back: Xen installed this vCPU's GDT. */
static void check_gdt(unsigned int id)
{
    unsigned long sel = GDT_DATA_SEL, got, null = 0;

    asm volatile ("mov %1, %%fs\n\tmov %%fs, %0\n\tmov %2, %%fs" : "=&r" (got) : "r" (sel), "r" (null));
    if ((got & 0xffff) != GDT_DATA_SEL)
        result_failure("smp: vcpu %u loaded selector %#lx from its GDT and read back %#lx", id, sel, got);
}

static void wait_mask(vcpumask_t *mask, vcpumask_t want, const char *what)
{
    struct smp_wait w;

    smp_wait_begin(&w, what);
    while ((__atomic_load_n(mask, __ATOMIC_ACQUIRE) & want) != want)
        smp_wait_turn(&w);
}

__attribute__((noreturn)) void secondary_main(unsigned int id);
__attribute__((noreturn)) void secondary_main(unsigned int id)
{
    const struct l4_pair *l = &vcpu_mm[id].loaded;
    long rc;

    if (plat_vcpu_id() != id)
        result_error("smp: vcpu %u started with %%gs:0 = %u", id, plat_vcpu_id());
    check_gdt(id);
    printk("up: kernel L4 pfn %#lx, user L4 pfn %#lx, own stack, GDT mfn %#lx (a writable mapping: "
           "Xen says %ld)\n", l->kernel_l4, l->user_l4, mmu_pfn_to_mfn(gdt_pfn[id]), gdt_alias_rc[id]);
    __atomic_fetch_or(&up_mask, 1UL << id, __ATOMIC_RELEASE);

    usermode_test();
    smp_barrier();          /* every vCPU has run its own ring-3 test */
    smp_stress();
    smp_barrier();

    mm_switch(&init_mm);
    printk("down\n");
    __atomic_fetch_or(&done_mask, 1UL << id, __ATOMIC_RELEASE);
    rc = HYPERVISOR_vcpu_op(VCPUOP_down, id, NULL);
    result_error("smp: vcpu %u came back from VCPUOP_down (rc %ld)", id, rc);
}

/* A GDT of its own, filled while writable, then read-only before Xen sees it. */
static unsigned long make_gdt(unsigned int id)
{
    unsigned long pfn = pt_page_alloc("vcpu GDT");

    plat_write64(pfn_to_virt(pfn) + 8, GDT_DATA_DESC);
    pt_page_protect(pfn);
    tlb_flush_all(vcpus_running);
    batch_flush();
    gdt_pfn[id] = pfn;
    return mmu_pfn_to_mfn(pfn);
}

static void bring_up(unsigned int id, const shared_info_t *shared_info)
{
    struct vcpu_guest_context *c = &ctxt;
    unsigned long stack_top = (unsigned long)stacks[id] + SMP_STACK_SIZE;
    unsigned long gdt_mfn = make_gdt(id);
    long rc;

    memset(c, 0, sizeof(*c));
    c->flags = VGCF_in_kernel;
    c->user_regs.rip = (unsigned long)secondary_main;
    c->user_regs.rsp = stack_top - 8;           /* as if called: rsp + 8 is 16-byte aligned */
    c->user_regs.rdi = id;
    c->user_regs.cs = FLAT_KERNEL_CS;
    c->user_regs.ss = FLAT_KERNEL_SS;
    c->user_regs.rflags = 0x2;
    traps_fill_ctxt(c->trap_ctxt);
    c->gdt_frames[0] = gdt_mfn;
    c->gdt_ents = GDT_ENTRIES;
    c->kernel_ss = FLAT_KERNEL_SS;
    c->kernel_sp = (unsigned long)trap_stacks[id + 1];
    c->ctrlreg[3] = xen_pfn_to_cr3(mmu_pfn_to_mfn(init_mm.kernel_l4));
    c->ctrlreg[1] = xen_pfn_to_cr3(mmu_pfn_to_mfn(init_mm.user_l4 ? init_mm.user_l4 : init_mm.kernel_l4));
    c->event_callback_eip = (unsigned long)event_upcall_entry;
    c->failsafe_callback_eip = (unsigned long)failsafe_entry;
    c->vm_assist = m2p_strict ? 1UL << VMASST_TYPE_m2p_strict : 0;
    c->gs_base_kernel = (unsigned long)&blocks[id];
    blocks[id].id = id;

    /* No upcall: the shim polls, as on vCPU 0. */
    ((shared_info_t *)shared_info)->vcpu_info[id].evtchn_upcall_mask = 1;
    /* From VCPUOP_initialise on, Xen holds init_mm's L4s for this vCPU. */
    mm_set_loaded(id, &init_mm);
    rc = HYPERVISOR_vcpu_op(VCPUOP_initialise, id, c);
    if (rc == -XEN_EEXIST)
        result_error("smp: VCPUOP_initialise(vcpu %u): -EEXIST, already initialised (by an earlier kernel?)", id);
    if (rc)
        result_error("smp: VCPUOP_initialise(vcpu %u) failed: %ld", id, rc);

    /* The GDT frame is a descriptor page now: Xen must refuse to map it writable. */
    gdt_alias_rc[id] = HYPERVISOR_update_va_mapping(pfn_to_virt(gdt_pfn[id]),
                                                    dmap_get(gdt_pfn[id]) | _PAGE_RW, UVMF_INVLPG | UVMF_LOCAL);
    if (!gdt_alias_rc[id])
        result_failure("smp: Xen let vcpu %u's GDT frame (mfn %#lx) be mapped writable", id, gdt_mfn);

    __atomic_fetch_or(&vcpus_running, 1UL << id, __ATOMIC_RELEASE);
    rc = HYPERVISOR_vcpu_op(VCPUOP_up, id, NULL);
    if (rc)
        result_error("smp: VCPUOP_up(vcpu %u) failed: %ld", id, rc);
}

/* vCPUs 0..n-1 exist; VCPUOP_is_up says -ENOENT past the last. */
static unsigned int count_vcpus(void)
{
    unsigned int n = 0;

    while (n < 4096 && HYPERVISOR_vcpu_op(VCPUOP_is_up, n, NULL) >= 0)
        n++;
    return n;
}

void smp_run(const shared_info_t *shared_info, bool handoff_follows)
{
    unsigned int n = count_vcpus();
    vcpumask_t others;

    if (n <= 1) {
        printk("smp: 1 vCPU: the checks between vCPUs need 2 or more (vcpus=, dom0_max_vcpus=)\n");
        return;
    }
    if (handoff_follows) {
        printk("smp: %u vCPUs; the secondaries stay down for the next kernel (Xen keeps a vCPU "
               "initialised for good: its VCPUOP_initialise would fail)\n", n);
        return;
    }
    if (n > MAX_VCPUS) {
        printk("smp: %u vCPUs; the shim runs the first %u, the rest stay down (MAX_VCPUS)\n", n, MAX_VCPUS);
        n = MAX_VCPUS;
    }
    smp_vcpus = n;
    others = ((1UL << n) - 1) & ~1UL;
    for (unsigned int id = 1; id < n; id++) {
        long up = HYPERVISOR_vcpu_op(VCPUOP_is_up, id, NULL);

        if (up)
            result_error("smp: vcpu %u is already up (VCPUOP_is_up: %ld)", id, up);
        bring_up(id, shared_info);
    }
    wait_mask(&up_mask, others, "the secondary vCPUs to come up");
    printk("smp: %u vCPUs up\n", n);

    smp_barrier();          /* vCPU 0 ran its ring-3 test at boot */
    smp_stress();
    smp_barrier();

    wait_mask(&done_mask, others, "the secondary vCPUs to finish");
    for (unsigned int id = 1; id < n; id++) {
        struct smp_wait w;

        smp_wait_begin(&w, "a secondary vCPU to go down");
        while (HYPERVISOR_vcpu_op(VCPUOP_is_up, id, NULL) != 0)
            smp_wait_turn(&w);
        __atomic_fetch_and(&vcpus_running, ~(1UL << id), __ATOMIC_RELEASE);
    }
    printk("smp: %u vCPUs: each up, checked and down again\n", n);
}
