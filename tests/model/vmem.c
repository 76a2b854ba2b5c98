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
 * A small translation cache keeps the walks cheap; it is dropped by every
 * hypercall (M.tlb_gen), so it never hides a stale mapping: the model
 * always sees the tables as they are now.
 */
#include <stdio.h>
#include <string.h>

#include "model.h"

#define TLB_SIZE    4096
#define M2P_FRAME   (~0UL)

struct tlbe {
    unsigned long vpn, gen, mfn;
    bool writable;
};

static struct tlbe tlb[TLB_SIZE];

void vmem_reset(void)
{
    memset(tlb, 0, sizeof(tlb));
}

static bool canonical(unsigned long va)
{
    long top = (long)va >> 47;

    return top == 0 || top == -1;
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

static unsigned long lookup(unsigned long va, bool write)
{
    struct tlbe *t = &tlb[(va >> PAGE_SHIFT) % TLB_SIZE];
    unsigned long mfn;
    char why[160];

    if (t->vpn == va >> PAGE_SHIFT && t->gen == M.tlb_gen + 1 && (!write || t->writable))
        return t->mfn;
    if (!vmem_translate(va, write, &mfn, why, sizeof(why)))
        model_end_run(OUT_FAULT, "page fault: %s of %#lx: %s", write ? "write" : "read", va, why);
    t->vpn = va >> PAGE_SHIFT;
    t->gen = M.tlb_gen + 1;
    t->mfn = mfn;
    t->writable = write;
    return mfn;
}

uint64_t vmem_read64(unsigned long va)
{
    unsigned long mfn;

    if (va & 7)
        model_end_run(OUT_FAULT, "unaligned 8-byte read of %#lx", va);
    mfn = lookup(va, false);
    if (mfn == M2P_FRAME)
        return model_m2p((va - M2P_VIRT_START) / 8);
    return mem_read(mfn, (va & ~PAGE_MASK) >> 3);
}

void vmem_write64(unsigned long va, uint64_t v)
{
    if (va & 7)
        model_end_run(OUT_FAULT, "unaligned 8-byte write of %#lx", va);
    mem_write(lookup(va, true), (va & ~PAGE_MASK) >> 3, v);
}

void vmem_zero_page(unsigned long va)
{
    if (va & ~PAGE_MASK)
        model_end_run(OUT_FAULT, "zero_page(%#lx): not page aligned", va);
    mem_zero(lookup(va, true));
}

void vmem_read_bytes(unsigned long va, void *dst, size_t len)
{
    while (len) {
        size_t n = PAGE_SIZE - (va & ~PAGE_MASK);
        unsigned long mfn = lookup(va, false);

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
