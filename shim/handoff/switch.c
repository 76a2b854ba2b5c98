/* SPDX-License-Identifier: MIT */
/*
 * switch.c - from the next kernel's written memory to its first
 * instruction, under Xen.  The order is forced by Xen's rules:
 *
 *   1. its table frames read-only in the direct map, and its L4 pinned:
 *      a frame cannot be validated as a table while any writable mapping
 *      of it exists, and pinning validates the whole new tree.  Every
 *      refusal up to here is a clean ERROR; the shim's tables are intact.
 *   2. the trampoline page mapped in the shim's tables at the address the
 *      next kernel's tables show it (the region's last page, padding): the
 *      code that makes the switch must still be mapped after it.
 *   3. the record (record.h) if the next kernel asked for it; the p2m the
 *      shim published for the tools withdrawn; then the renumbering: one
 *      MMU_MACHPHYS_UPDATE batch (one per move).
 *   4. the rest of the shim's domain state undone: m2p_strict, events still masked
 *      as the builder left them, the kernel stack Xen switches to set to the
 *      next kernel's boot stack, and the trap table last.
 *   5. from the trampoline, one mmuext_op: NEW_BASEPTR to the new L4,
 *      NEW_USER_BASEPTR 0, then the shim's two L4s unpinned, which lets Xen
 *      devalidate its whole tree.  The shim's frames, unwritten, become
 *      ordinary memory of the next kernel.  Then rsi = start_info and the
 *      jump.
 */
#include "record.h"
#include "switch.h"
#include "trampoline.h"
#include "pv/batch.h"
#include "lib/config.h"
#include "lib/console.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/p2m.h"
#include "lib/lib.h"

static unsigned long table_mfn(const struct switch_in *in, unsigned long next_pfn)
{
    return mmu_pfn_to_mfn(in->old_pfn(next_pfn));
}

unsigned long handoff_protect_and_pin(const struct switch_in *in)
{
    const struct plan_out *p = in->plan;
    unsigned long l4 = table_mfn(in, p->map[0].lv[3].pfn), n = 0;

    mmu_phase_begin("handoff-pin");
    for (unsigned int m = 0; m < p->nr_maps; m++)
        for (unsigned int l = 0; l < 4; l++)
            for (unsigned long t = 0; t < p->map[m].lv[l].count; t++) {
                /* The bug forgets the region's last L1: writable, so Xen cannot type it. */
                if (BUG_KEXEC_RW_ALIAS && m == 0 && l == 0 && t == p->map[0].lv[0].count - 1)
                    continue;
                pt_page_protect(in->old_pfn(p->map[m].lv[l].pfn + t));
                n++;
            }
    batch_ext(MMUEXT_TLB_FLUSH_LOCAL, 0);
    batch_ext(MMUEXT_PIN_L4_TABLE, l4);
    batch_flush();
    mmu_phase_end();
    printk("hand-off: %lu page tables read-only, L4 mfn %#lx pinned\n", n, l4);
    return l4;
}

/* The trampoline page: its code, the ops, the block; mapped at the same address in the shim's tables. */
static uint64_t prepare_trampoline(const struct switch_in *in, unsigned long l4_mfn)
{
    const struct plan_out *p = in->plan;
    static const char msg[] = "hand-off: Xen refused an op after NEW_BASEPTR; the shim is gone, "
                              "so the domain is crashed\n";
    uint64_t tva = handoff_trampoline_va(p);
    unsigned long page_pfn = in->old_pfn(p->region_pages - 1);
    uint8_t *page = plat_view(pfn_to_virt(page_pfn), PAGE_SIZE, true);
    struct mmuext_op *ops = (struct mmuext_op *)(page + TRAMP_OPS_OFF);
    struct handoff_block *b = (struct handoff_block *)(page + TRAMP_BLOCK_OFF);
    size_t code = (size_t)(handoff_trampoline_end - (char *)handoff_trampoline);
    unsigned int n = 0;

    if (code > TRAMP_OPS_OFF)
        mmu_error("hand-off: the trampoline's code (%zu bytes) outgrew its part of the page", code);
    memcpy(page, (const void *)handoff_trampoline, code);
    ops[n++] = (struct mmuext_op){ .cmd = MMUEXT_NEW_BASEPTR, .arg1.mfn = l4_mfn };
    ops[n++] = (struct mmuext_op){ .cmd = MMUEXT_NEW_USER_BASEPTR, .arg1.mfn = 0 };
    if (init_mm.user_l4 && !BUG_KEXEC_USER_PIN)
        ops[n++] = (struct mmuext_op){ .cmd = MMUEXT_UNPIN_TABLE,
                                       .arg1.mfn = mmu_pfn_to_mfn(init_mm.user_l4) };
    ops[n++] = (struct mmuext_op){ .cmd = MMUEXT_UNPIN_TABLE,
                                   .arg1.mfn = mmu_pfn_to_mfn(init_mm.kernel_l4) };
    memcpy(page + TRAMP_MSG_OFF, msg, sizeof(msg) - 1);
    *b = (struct handoff_block){
        .ops = tva + TRAMP_OPS_OFF, .nr_ops = n,
        .done = tva + TRAMP_BLOCK_OFF + HB_DONE_WORD, .done_word = 0,
        .entry = in->entry, .stack = p->stack.va + PAGE_SIZE, .start_info = p->start_info.va,
        .msg = tva + TRAMP_MSG_OFF, .msg_len = sizeof(msg) - 1,
        .shutdown = tva + TRAMP_BLOCK_OFF + HB_SHUTDOWN_WORD, .shutdown_word = SHUTDOWN_crash,
        .sched_cmd = SCHEDOP_shutdown,
    };

    /* The same frame at the same address in the shim's tables: a fresh L1 in an empty L2 slot. */
    plat_write64(pfn_to_virt(in->tramp_l1) + PT_INDEX(tva, L1_SHIFT) * sizeof(pte_t),
                 ((pte_t)mmu_pfn_to_mfn(page_pfn) << PAGE_SHIFT) | PTE_KERNEL_RW);
    pt_page_protect(in->tramp_l1);
    batch_pte(mmu_pfn_to_mfn(mmu_tables.level2_kernel), PT_INDEX(tva, L2_SHIFT),
              ((pte_t)mmu_pfn_to_mfn(in->tramp_l1) << PAGE_SHIFT) | PTE_TABLE);
    batch_ext(MMUEXT_INVLPG_LOCAL, tva);
    batch_flush();
    return tva;
}

/* Each move: the frame that was pfn `from` is the next kernel's pfn from now on. */
static void renumber(const struct switch_in *in)
{
    const struct plan_out *p = in->plan;

    for (unsigned long i = 0; i < p->nr_moves; i++)
        if (in->moves[i].from != PLAN_NO_FRAME)
            batch_machphys(mmu_pfn_to_mfn(in->moves[i].from), in->moves[i].pfn);
    batch_flush();
}

long handoff_switch(const struct switch_in *in, unsigned long l4_mfn)
{
    uint64_t tva;
    long rc;

    mmu_phase_begin("handoff-switch");
    tva = prepare_trampoline(in, l4_mfn);
    record_fill();              /* the shim's tables are final now */
    p2m_tools_withdraw();       /* before the M2P changes: no tool may read the two disagreeing */
    renumber(in);
    if (m2p_strict) {
        rc = plat_vm_assist(VMASST_CMD_disable, VMASST_TYPE_m2p_strict);
        if (rc)
            mmu_error("hand-off: vm_assist(disable, m2p_strict) failed: %ld", rc);
    }
    /* Events masked, as the builder leaves a new vCPU (the shim never unmasked them). */
    in->shared_info->vcpu_info[0].evtchn_upcall_mask = 1;
    barrier();
    /* The kernel stack Xen switches to from user mode: the next kernel's, as the builder sets it. */
    rc = plat_stack_switch(in->plan->stack.va + PAGE_SIZE);
    if (rc)
        mmu_error("hand-off: stack_switch to the next kernel's boot stack failed: %ld", rc);
    mmu_phase_end();
    {
        /* Guest time so far, with Xen's scale for this vCPU: ns = ((tsc << shift) * mul) >> 32. */
        const struct vcpu_time_info *t = &in->shared_info->vcpu_info[0].time;
        uint64_t d = plat_tsc() - in->tsc_start;

        d = t->tsc_shift >= 0 ? d << t->tsc_shift : d >> -t->tsc_shift;
        uint64_t ns = (uint64_t)(((unsigned __int128)d * t->tsc_to_system_mul) >> 32);

        printk("hand-off: %lu us in the guest from the plan to the switch\n", (unsigned long)(ns / 1000));
    }
    printk("hand-off: %lu frames renumbered; switching to L4 mfn %#lx, entry %#lx, start_info %#lx\n",
           in->plan->nr_moves, l4_mfn, (unsigned long)in->entry, (unsigned long)in->plan->start_info.va);
    console_flush();

    /* Last: from here a fault has no handler, and Xen crashes the domain. */
    rc = plat_set_trap_table(NULL);
    if (rc)
        mmu_error("hand-off: set_trap_table(NULL) failed: %ld", rc);
    return plat_call_trampoline(tva, tva + TRAMP_BLOCK_OFF);
}
