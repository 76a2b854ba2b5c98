/* SPDX-License-Identifier: MIT */
/*
 * vmem.c - the guest's virtual memory accesses: every plat_read64,
 * plat_write64 and plat_zero_page of the shim is translated through the
 * simulated page tables of the current kernel CR3, the way the CPU would
 * walk them.  A missing mapping, or a write through a read-only one, is a
 * page fault that ends the run (the guest's trap handler would do the
 * same).  Xen's L4 slot 256 is the read-only M2P, synthesized from the
 * model; Xen's other slots fault.
 *
 * A translation cache keeps the walks cheap; it is dropped by every
 * hypercall (M.tlb_gen), so it never hides a stale mapping: the model
 * always sees the tables as they are now.  An entry also says where the
 * page's words are on the host (struct vmem_tlbe, whose hits model.h
 * inlines):
 *   - stored content: M.pages[mfn], for reads and writes.  Stored content
 *     never goes back to a formula; it moves only when plat_view() needs
 *     frames side by side (machine.c: mem_pages_contig), which drops this
 *     cache;
 *   - a frame that reads as zero: a shared zero page, for reads only;
 *   - a formula page (the builder's p2m list, the ramdisk), a page whose
 *     words were written in a run (machine.c) or a page of the M2P: the
 *     slot's own copy of its 512 words, for reads only.  A write to such a
 *     page goes into its run: inline while it extends the run, through
 *     machine.c otherwise (or the page becomes stored).
 * The last two go stale when the frame is written (machine.c flushes the
 * cache then, for a frame marked FF_VMEM_COPY) or when the M2P changes (a
 * flush as well).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define M2P_FRAME   (~0UL)

struct vmem_tlbe vmem_tlb[VMEM_TLB_SIZE];

/* The rest of each slot, needed on a miss only. */
static struct vmem_slot {
    unsigned long mfn;              /* M2P_FRAME for a page of the M2P */
    bool writable;                  /* translated for a write */
    unsigned int reads;             /* of a page with no stored words, without a copy (note_data) */
    uint64_t *copy;                 /* the slot's buffer for copies (allocated on first use) */
    unsigned long copy_key, copy_gen;   /* what copy holds: ~vpn (M2P) or the mfn, as of copy_gen */
} slots[VMEM_TLB_SIZE];

static const uint64_t zero_page[512];

#define COPY_AT_READ 4

/* A new machine: nothing translated; the copy buffers stay, holding nothing. */
void vmem_reset(void)
{
    memset(vmem_tlb, 0, sizeof(vmem_tlb));
    for (unsigned int i = 0; i < VMEM_TLB_SIZE; i++)
        slots[i] = (struct vmem_slot){ .copy = slots[i].copy, .copy_gen = ~0UL };
}

static struct vmem_slot *slot_of(const struct vmem_tlbe *t)
{
    return &slots[t - vmem_tlb];
}

static bool canonical(unsigned long va)
{
    long top = (long)va >> 47;

    return top == 0 || top == -1;
}

/* vmem_translate() for an instruction fetch: also false with NX at any level. */
bool vmem_executable(unsigned long va, unsigned long *out, char *why, size_t len)
{
    unsigned long mfn = M.cr3;

    if (!vmem_translate(va, false, out, why, len))
        return false;
    for (unsigned int level = 4; level >= 1; level--) {
        uint64_t e = mem_read(mfn, PT_INDEX(va, pt_shift(level)));

        if (e & _PAGE_NX) {
            snprintf(why, len, "L%u entry %#lx is NX", level, (unsigned long)e);
            return false;
        }
        mfn = PTE_MFN(e);
    }
    return true;
}

bool vmem_translate(unsigned long va, bool write, unsigned long *out, char *why, size_t len)
{
    unsigned long mfn = M.cr3;
    unsigned int slot4 = PT_INDEX(va, L4_SHIFT);
    bool writable = true;

    if (!canonical(va)) {
        snprintf(why, len, "non-canonical address");
        return false;
    }
    if (!mfn) {
        snprintf(why, len, "no page table loaded");
        return false;
    }
    if (slot4 >= 256 && slot4 <= 271) {
        uint64_t e = mem_read(mfn, slot4);

        if (slot4 == 256 && (e & _PAGE_PRESENT) && !write &&
            (va - M2P_VIRT_START) / 8 < M.max_mfn) {
            *out = M2P_FRAME;
            return true;
        }
        snprintf(why, len, "%s in Xen's L4 slot %u%s", write ? "write" : "read", slot4,
                 slot4 == 256 ? (write ? " (the M2P is read-only)" :
                                 (e & _PAGE_PRESENT) ? " past the M2P's end" : " (no M2P mapped)") : "");
        return false;
    }
    for (unsigned int level = 4; level >= 1; level--) {
        uint64_t e = mem_read(mfn, PT_INDEX(va, pt_shift(level)));

        if (!(e & _PAGE_PRESENT)) {
            snprintf(why, len, "L%u entry %#lx not present", level, (unsigned long)e);
            return false;
        }
        if (level > 1 && (e & _PAGE_PSE)) {
            snprintf(why, len, "L%u entry %#lx is a superpage", level, (unsigned long)e);
            return false;
        }
        if (!(e & _PAGE_RW))
            writable = false;
        if (write && !writable) {
            snprintf(why, len, "L%u entry %#lx is read-only", level, (unsigned long)e);
            return false;
        }
        mfn = PTE_MFN(e);
        if (!mfn_valid(mfn) || frame_of(mfn)->owner == OWN_IO) {
            snprintf(why, len, "L%u entry %#lx: mfn %#lx is not RAM", level, (unsigned long)e, mfn);
            return false;
        }
    }
    *out = mfn;
    return true;
}

/*
 * The slot's copy of a page that has no stored words: filled once, and
 * kept across flushes and hypercalls until the M2P or a formula changes
 * (M.copy_gen), since refilling 512 words after each would cost more
 * than the reads it serves.
 */
static const uint64_t *slot_copy(struct vmem_slot *x, unsigned long key, unsigned long m2p_first)
{
    if (x->copy && x->copy_key == key && x->copy_gen == M.copy_gen)
        return x->copy;
    if (!x->copy && !(x->copy = malloc(PAGE_SIZE)))
        abort();
    if (x->mfn == M2P_FRAME)
        model_m2p_run(m2p_first, 512, x->copy);
    else
        mem_read_page(x->mfn, x->copy);
    x->copy_key = key;
    x->copy_gen = M.copy_gen;
    return x->copy;
}

/*
 * Where the words of t's page are for the inline hits.  The M2P page of
 * the machine's last frames is left to read_m2p(), word by word, so that
 * every read past the machine's end faults as the first one did.
 */
static void note_data(struct vmem_tlbe *t, struct vmem_slot *x)
{
    struct frame *f;

    t->rdata = t->wdata = NULL;
    t->run = NULL;
    if (x->mfn == M2P_FRAME) {
        unsigned long first = ((t->vpn << PAGE_SHIFT) - M2P_VIRT_START) / 8;

        if (first + 512 <= M.max_mfn)
            t->rdata = slot_copy(x, ~t->vpn, first);
        return;
    }
    f = frame_of(x->mfn);
    /*
     * Translated for a write, a page that is not stored gets no copy: each
     * write into its run would make the copy stale and drop the whole cache.
     * Its reads take the slow path (mem_read); a write that extends its run
     * is done inline, any other in mem_write.
     */
    if (x->writable && f->content != FC_STORED) {
        if (x->mfn != MFN_SHARED_INFO)  /* its writes are sampled (P) */
            t->run = mem_run_writer(x->mfn);
        return;
    }
    switch (f->content) {
    case FC_STORED:
        t->rdata = M.pages[x->mfn];
        if (x->writable && x->mfn != MFN_SHARED_INFO)   /* its writes are sampled (P) */
            t->wdata = M.pages[x->mfn];
        break;
    case FC_ZERO:
        if (!(f->flags & FF_RUN)) {
            t->rdata = zero_page;
            f->flags |= FF_VMEM_COPY;
            break;
        }
        /* A copy, with its run of words: */
        /* fall through */
    default:
        /*
         * The copy costs 512 words: made at the fourth read, so that a few
         * reads of a page (a sample of the p2m reads two) cost a few words.
         */
        if (x->reads < COPY_AT_READ && !(x->copy_key == x->mfn && x->copy_gen == M.copy_gen))
            break;
        t->rdata = slot_copy(x, x->mfn, 0);
        if (f->flags & FF_RUN_WRITER) {
            f->flags &= ~FF_RUN_WRITER;
            vmem_flush();       /* a writer appending inline would leave the copy stale */
        }
        f->flags |= FF_VMEM_COPY;
    }
}

/*
 * W: a plain write to a page table through its read-only mapping.  On
 * real hardware it faults, but Xen emulates it for an L1 (ptwr: 4.20 does
 * so silently), so a regression that writes a hooked table directly would
 * pass every real-Xen run.  The model refuses it, naming the rule: page
 * tables change through mmu_update or update_va_mapping only.
 */
static void refuse_table_write(unsigned long va)
{
    unsigned long mfn;
    char why[160];
    const struct frame *f;

    if (!vmem_translate(va, false, &mfn, why, sizeof(why)) || mfn == M2P_FRAME)
        return;
    f = frame_of(mfn);
    if (f->type >= FT_L1 && f->type <= FT_L4 && f->count) {
        model_refuse("W: direct write to %#lx, a read-only mapping of mfn %#lx, an L%d table: "
                     "Xen would emulate it (ptwr) and hide the bug; tables change through hypercalls",
                     va, mfn, f->type - FT_L1 + 1);
        model_end_run(OUT_RULE, "%s", model_last_refusal());
    }
}

/* The slot for va, translated now if it was not (a fault ends the run). */
static struct vmem_slot *lookup(unsigned long va, bool write)
{
    struct vmem_tlbe *t = &vmem_tlb[(va >> PAGE_SHIFT) % VMEM_TLB_SIZE];
    struct vmem_slot *x = slot_of(t);
    unsigned long mfn;
    char why[160];

    if (t->vpn == va >> PAGE_SHIFT && t->gen == vmem_gen() && (!write || x->writable))
        return x;
    /* With several vCPUs, this one's TLB first: what it holds is used, stale or not. */
    if (!atlb_lookup(va, write, &mfn)) {
        if (!vmem_translate(va, write, &mfn, why, sizeof(why))) {
            if (write)
                refuse_table_write(va);
            model_end_run(OUT_FAULT, "page fault: %s of %#lx: %s", write ? "write" : "read", va, why);
        }
        if (mfn != M2P_FRAME)
            atlb_fill(va, mfn, write);
    }
    t->vpn = va >> PAGE_SHIFT;
    t->gen = vmem_gen();
    x->mfn = mfn;
    x->writable = write;
    x->reads = 0;
    note_data(t, x);
    return x;
}

/* The M2P at Xen's L4 slot 256 (read-only): what the model's M2P says. */
static uint64_t read_m2p(unsigned long va)
{
    unsigned long mfn = (va - M2P_VIRT_START) / 8;

    if (mfn >= M.max_mfn)
        model_end_run(OUT_FAULT, "page fault: read of %#lx: read in Xen's L4 slot 256 past the M2P's end", va);
    return model_m2p(mfn);
}

uint64_t vmem_read64_slow(unsigned long va)
{
    struct vmem_slot *x;
    struct vmem_tlbe *t;

    if (va & 7)
        model_end_run(OUT_FAULT, "unaligned 8-byte read of %#lx", va);
    x = lookup(va, false);
    t = &vmem_tlb[x - slots];
    /* Counted here, once per read: at the COPY_AT_READ'th a copy pays. */
    if (!t->rdata && !x->writable && x->mfn != M2P_FRAME && ++x->reads == COPY_AT_READ)
        note_data(t, x);
    if (t->rdata)
        return t->rdata[(va & ~PAGE_MASK) >> 3];
    return x->mfn == M2P_FRAME ? read_m2p(va) : mem_read(x->mfn, (va & ~PAGE_MASK) >> 3);
}

bool vmem_read64_safe_slow(unsigned long va, uint64_t *val)
{
    unsigned long mfn;
    char why[160];

    if (va & 7)
        model_end_run(OUT_FAULT, "unaligned 8-byte read of %#lx", va);
    if (!atlb_lookup(va, false, &mfn)) {
        if (!vmem_translate(va, false, &mfn, why, sizeof(why)))    /* it refuses the M2P past its end */
            return false;
        if (mfn != M2P_FRAME)
            atlb_fill(va, mfn, false);
    }
    /* One word, without filling a cache slot: probes touch a page once. */
    *val = mfn == M2P_FRAME ? model_m2p((va - M2P_VIRT_START) / 8) : mem_read(mfn, (va & ~PAGE_MASK) >> 3);
    return true;
}

/* A write to a page that is not stored: machine.c keeps it in a run, or stores the page (and flushes the cache). */
void vmem_write64_slow(unsigned long va, uint64_t v)
{
    struct vmem_slot *x;
    struct vmem_tlbe *t;
    unsigned long mfn;

    if (va & 7)
        model_end_run(OUT_FAULT, "unaligned 8-byte write of %#lx", va);
    x = lookup(va, true);
    t = &vmem_tlb[x - slots];
    mfn = x->mfn;
    mem_write(mfn, (va & ~PAGE_MASK) >> 3, v);
    if (mfn == MFN_SHARED_INFO)
        model_shared_info_written();
    else if (!t->run && t->gen == vmem_gen() && frame_of(mfn)->content != FC_STORED)
        t->run = mem_run_writer(mfn);       /* the write began a run: the next ones go inline */
}

void vmem_zero_page_slow(unsigned long va)
{
    if (va & ~PAGE_MASK)
        model_end_run(OUT_FAULT, "zero_page(%#lx): not page aligned", va);
    mem_zero(lookup(va, true)->mfn);
}

void *vmem_view(unsigned long va, size_t len, bool write)
{
    unsigned long first = va & PAGE_MASK, n = len ? (va + len - first + PAGE_SIZE - 1) / PAGE_SIZE : 1;
    unsigned long *mfn = malloc(n * sizeof(*mfn));
    uint64_t *words;

    if (!mfn)
        abort();
    for (unsigned long i = 0; i < n; i++) {
        mfn[i] = lookup(first + i * PAGE_SIZE, write)->mfn;
        if (mfn[i] == M2P_FRAME)
            model_end_run(OUT_RULE, "a C view of %#lx reaches into Xen's M2P", va);
    }
    words = mem_pages_contig(mfn, n);
    free(mfn);
    return (char *)words + (va & ~PAGE_MASK);
}

void vmem_read_bytes(unsigned long va, void *dst, size_t len)
{
    while (len) {
        size_t n = PAGE_SIZE - (va & ~PAGE_MASK);
        unsigned long mfn = lookup(va, false)->mfn;

        if (n > len)
            n = len;
        if (mfn == M2P_FRAME)
            model_end_run(OUT_FAULT, "byte read of the M2P at %#lx", va);
        mem_read_bytes(mfn, va & ~PAGE_MASK, dst, n);
        dst = (char *)dst + n;
        va += n;
        len -= n;
    }
}
