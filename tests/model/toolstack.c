/* SPDX-License-Identifier: MIT */
/*
 * toolstack.c - libxenguest's save and restore of a 64-bit PV domain
 * (Xen 4.17/4.20, tools/libs/guest/xg_sr_*), done to the model's guest at
 * its suspend hypercall, with the checks and the messages of that code:
 *
 *   save      the p2m, found through shared_info as map_p2m() finds it:
 *             the linear list under p2m_cr3, walked through the guest's
 *             own tables, or the 3-level frame list when p2m_cr3 is 0;
 *             every leaf must be a page of the guest's;
 *             vCPU 0: rdx (start_info), cr3 and cr1 (the user L4) must be
 *             pages of the guest's;
 *             every page Xen types L1-L4 is normalised: each present entry
 *             (an L4's Xen slots 256-271 aside) becomes a pfn; an entry
 *             naming a frame that is not the guest's makes the save send
 *             the page with no data (EAGAIN on a live guest, never resent):
 *             the restore gives that pfn a zeroed frame
 *   checkpoint   (xl save -c) the guest goes on in the same domain: rc 1
 *   restore   start_info's store and console fields are read as pfns;
 *             every pfn with a frame gets a new one (every mfn changes:
 *             the new frames lie above the old machine, in descending
 *             order), the words go with it, typed pages are localised
 *             (pfn -> new mfn), the vCPU's L4s are loaded (validated as
 *             Xen does), what was pinned is pinned again, the guest's p2m
 *             leaves get the new mfns (update_guest_p2m; the frame list's
 *             mid and top pages are not touched), shared_info's frame list
 *             list is zeroed and every event channel masked, start_info
 *             gets the new mfns and ports, nr_pages, flags 0: rc 0
 *
 * Not modelled: the guest's pages are read while it runs only in a live
 * migration, which Debian's Xen refuses (docs/lifecycle.md); shared_info
 * keeps its machine address (the model has one such page).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "toolstack.h"

struct toolstack TS;

#define KIND_RAM        0x01    /* the save sends its data */
#define KIND_LEVEL(k)   (((k) >> 1) & 7)    /* 1-4: typed L1-L4 */
#define KIND_PINNED     0x10
#define KIND_DROPPED    0x20    /* typed, with an entry the save cannot normalise */

static unsigned long nr_pfns, *p2m, *leaf_pfn, nr_leaves;
static uint8_t *kind;
static struct ts_counts *cnt;       /* the current operation's */

static void __attribute__((noreturn, format(printf, 1, 2))) refuse(const char *fmt, ...)
{
    char msg[320];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    model_end_run(OUT_TOOLSTACK, "xc: error: %s", msg);
}

static uint64_t arch_word(size_t word)
{
    return mem_read(MFN_SHARED_INFO, word);
}

/* mfn_in_pseudophysmap(): the M2P names a pfn below max_pfn whose p2m entry is the mfn. */
static bool pseudophys(unsigned long mfn, unsigned long *pfn)
{
    unsigned long p;

    if (!mfn_valid(mfn))
        return false;
    p = model_m2p(mfn);
    if (p >= nr_pfns || p2m[p] != mfn)
        return false;
    if (pfn)
        *pfn = p;
    return true;
}

/* ------------------------------------------------------------ save: the p2m */

static void read_leaves(const unsigned long *leaf_mfn)
{
    for (unsigned long l = 0; l < nr_leaves; l++)
        for (unsigned int j = 0; j < 512 && l * 512 + j < nr_pfns; j++)
            p2m[l * 512 + j] = mem_read(leaf_mfn[l], j);
    for (unsigned long l = 0; l < nr_leaves; l++)
        if (!pseudophys(leaf_mfn[l], &leaf_pfn[l]))
            refuse("Bad mfn in p2m_frame_list[%lu]: mfn %#lx", l, leaf_mfn[l]);
}

/* map_p2m_list(): p2m_cr3's L4, down to every leaf of [p2m_vaddr, + max_pfn * 8). */
static void map_list(unsigned long cr3, unsigned long vaddr, unsigned long *leaf_mfn)
{
    unsigned long end = vaddr + nr_leaves * PAGE_SIZE - 1;

    if ((cr3 >> PAGE_SHIFT) == 0 || (cr3 >> PAGE_SHIFT) >= M.max_mfn)
        refuse("Bad p2m_cr3 value %#lx", cr3);
    if ((vaddr & (PAGE_SIZE - 1)) || ((long)vaddr >> 47 != 0 && (long)vaddr >> 47 != -1) ||
        (end >= XEN_VIRT_FIRST && vaddr < XEN_VIRT_END))
        refuse("Bad virtual p2m address range %#lx-%#lx", vaddr, end);
    for (unsigned long l = 0; l < nr_leaves; l++) {
        unsigned long va = vaddr + l * PAGE_SIZE, mfn = cr3 >> PAGE_SHIFT;

        for (int level = 4; level >= 1; level--) {
            unsigned int shift = PAGE_SHIFT + 9 * (level - 1);

            mfn = (mem_read(mfn, (va >> shift) & 511) & PTE_ADDR_MASK) >> PAGE_SHIFT;
            if (!mfn || mfn >= M.max_mfn)
                refuse("Bad mfn %#lx during page table walk for vaddr %#lx at level %d of p2m list",
                       mfn, (va & 0xffffffffffffUL) & ~((1UL << shift) - 1), level);
        }
        leaf_mfn[l] = mfn;
    }
}

/* map_p2m_tree(): the frame list list names mid pages, which name the leaves. */
static void map_tree(unsigned long fll, unsigned long *leaf_mfn)
{
    unsigned long mids = (nr_leaves + 511) / 512;

    if (!fll || fll >= M.max_mfn)
        refuse("Bad mfn %#lx for p2m frame list list", fll);
    if (mids > 512)
        refuse("max_pfn %lu is more than a 3-level frame list can name", nr_pfns);
    for (unsigned long i = 0; i < mids; i++) {
        unsigned long mid = mem_read(fll, (unsigned int)i);

        if (!mid || mid >= M.max_mfn)
            refuse("Bad mfn %#lx at index %lu (of %lu) in p2m frame list list", mid, i, mids);
        for (unsigned long l = i * 512; l < nr_leaves && l < (i + 1) * 512; l++) {
            leaf_mfn[l] = mem_read(mid, (unsigned int)(l % 512));
            if (!leaf_mfn[l] || leaf_mfn[l] >= M.max_mfn)
                refuse("Bad mfn %#lx at index %lu (of %lu) in p2m frame list", leaf_mfn[l], l, nr_leaves);
        }
    }
}

/* ------------------------------------------------------------ save: the pages */

static bool is_xen_slot(unsigned int level, unsigned int slot)
{
    return level == 4 && slot >= 256 && slot <= 271;
}

/* normalise_pagetable(), without writing: can every present entry become a pfn? */
static bool normalisable(unsigned long mfn, unsigned int level)
{
    for (unsigned int s = 0; s < 512; s++) {
        uint64_t e = mem_read(mfn, s);

        if (!(e & _PAGE_PRESENT) || is_xen_slot(level, s))
            continue;
        if (level > 1 && level < 4 && (e & _PAGE_PSE))
            refuse("Cannot migrate superpage (L%u[%u]: %#lx)", level, s, (unsigned long)e);
        if (!pseudophys((e & PTE_ADDR_MASK) >> PAGE_SHIFT, NULL))
            return false;
    }
    return true;
}

static void save_pages(void)
{
    for (unsigned long pfn = 0; pfn < nr_pfns; pfn++) {
        unsigned long mfn = p2m[pfn];
        const struct frame *f;

        kind[pfn] = 0;
        if (!mfn_valid(mfn) || frame_of(mfn)->owner != OWN_DOM)
            continue;                       /* XTAB: no data */
        kind[pfn] = KIND_RAM;
        cnt->ram++;
        f = frame_of(mfn);
        if (f->type < FT_L1 || f->type > FT_L4 || !(f->flags & FF_VALIDATED) ||
            !(f->count || (f->flags & FF_PINNED)))
            continue;
        kind[pfn] |= (uint8_t)((f->type - FT_L1 + 1) << 1);
        cnt->tables++;
        if (f->flags & FF_PINNED) {
            kind[pfn] |= KIND_PINNED;
            cnt->pinned++;
        }
        if (!normalisable(mfn, f->type - FT_L1 + 1)) {
            kind[pfn] |= KIND_DROPPED;
            cnt->dropped++;
        }
    }
}

/* ------------------------------------------------------------ restore */

static unsigned long new_mfn(unsigned long pfn)
{
    return model_p2m(pfn);
}

/* A field of start_info the restore reads as a pfn of the guest's (process_start_info). */
static unsigned long start_info_pfn(unsigned long pfn, const char *what)
{
    if (pfn >= nr_pfns)
        refuse("%s pfn %#lx out of range", what, pfn);
    if (!(kind[pfn] & KIND_RAM))
        refuse("%s pfn has bad mfn", what);
    return pfn;
}

/* The entries of a typed page: mfn -> pfn (with the old M2P), or pfn -> new mfn. */
static void rewrite_table(unsigned long mfn, unsigned int level, bool localise)
{
    for (unsigned int s = 0; s < 512; s++) {
        uint64_t e = mem_read(mfn, s), to;
        unsigned long frame = (e & PTE_ADDR_MASK) >> PAGE_SHIFT;

        if (is_xen_slot(level, s)) {
            if (e)
                mem_write(mfn, s, 0);       /* Xen fills them again when it validates the L4 */
            continue;
        }
        if (!(e & _PAGE_PRESENT))
            continue;
        if (localise) {
            to = frame < nr_pfns && (kind[frame] & KIND_RAM) ? new_mfn(frame) : ~0UL;
            if (to == ~0UL)
                refuse("Bad mfn for L%u[%u] - pte %#lx", level, s, (unsigned long)e);
        } else {
            to = model_m2p(frame);
        }
        mem_write(mfn, s, (e & ~PTE_ADDR_MASK) | ((uint64_t)to << PAGE_SHIFT));
    }
}

static void si_write(unsigned long si_mfn, size_t off, uint64_t v, size_t len)
{
    mem_write_bytes(si_mfn, (unsigned int)off, &v, len);
}

static long restore(unsigned long si_pfn, unsigned long cr3_pfn, unsigned long user_pfn)
{
    unsigned long old_max = M.max_mfn, si_old = p2m[si_pfn], store, console, cursor;
    uint64_t v = 0;
    long rc;

    /* process_start_info: the guest left pfns there. */
    mem_read_bytes(si_old, offsetof(start_info_t, store_mfn), &v, 8);
    store = start_info_pfn(v, "XenStore");
    mem_read_bytes(si_old, offsetof(start_info_t, console.domU.mfn), &v, 8);
    console = start_info_pfn(v, "Console");
    if (KIND_LEVEL(kind[si_pfn]))
        refuse("Start Info pfn %#lx has bad type %u", si_pfn, KIND_LEVEL(kind[si_pfn]));
    if (KIND_LEVEL(kind[cr3_pfn]) != 4)
        refuse("cr3 (pfn %#lx) has bad type %u, expected 4", cr3_pfn, KIND_LEVEL(kind[cr3_pfn]));
    if (user_pfn != ~0UL && KIND_LEVEL(kind[user_pfn]) != 4)
        refuse("cr1 (pfn %#lx) has bad type %u, expected 4", user_pfn, KIND_LEVEL(kind[user_pfn]));

    /* What the stream holds: typed pages as pfns, the dropped ones as nothing. */
    for (unsigned long pfn = 0; pfn < nr_pfns; pfn++)
        if (KIND_LEVEL(kind[pfn]) && !(kind[pfn] & KIND_DROPPED))
            rewrite_table(p2m[pfn], KIND_LEVEL(kind[pfn]), false);

    /* A new domain: every pfn with data gets a frame above the old machine. */
    model_grow(old_max + cnt->ram);
    model_forget_extents();
    cursor = old_max + cnt->ram - 1;
    for (unsigned long pfn = 0; pfn < nr_pfns;) {
        unsigned long n = 0;

        while (pfn + n < nr_pfns && (kind[pfn + n] & KIND_RAM))
            n++;
        if (!n) {
            pfn++;
            continue;
        }
        model_add_extent(pfn, cursor, n, -1);
        for (unsigned long i = 0; i < n; i++)
            model_move_frame(p2m[pfn + i], cursor - i);
        cursor -= n;
        pfn += n;
    }
    model_finish_extents();
    cnt->moved = cnt->ram;
    /* What the old domain still had is gone with it. */
    for (unsigned long mfn = MFN_DOM_FIRST; mfn < old_max; mfn++)
        if (frame_of(mfn)->owner == OWN_DOM)
            model_free_frame(mfn);

    for (unsigned long pfn = 0; pfn < nr_pfns; pfn++) {
        if (kind[pfn] & KIND_DROPPED)
            mem_zero(new_mfn(pfn));
        else if (KIND_LEVEL(kind[pfn]))
            rewrite_table(new_mfn(pfn), KIND_LEVEL(kind[pfn]), true);
    }

    /* update_vcpu_context: both L4s loaded, validated; then pin_pagetables. */
    rc = model_restore_vcpu(new_mfn(cr3_pfn), user_pfn == ~0UL ? 0 : new_mfn(user_pfn));
    if (rc)
        refuse("Failed to set vcpu0's basic info: %s", M.refusal);
    for (unsigned long pfn = 0; pfn < nr_pfns; pfn++)
        if (kind[pfn] & KIND_PINNED) {
            rc = model_pin(new_mfn(pfn), (enum frame_type)(FT_L1 + KIND_LEVEL(kind[pfn]) - 1));
            if (rc)
                refuse("Failed to pin batch of pagetables: pfn %#lx: %s", pfn, M.refusal);
        }

    /* update_guest_p2m: the new pfn -> mfn array over the leaves the save found. */
    for (unsigned long l = 0; l < nr_leaves; l++) {
        unsigned long leaf = new_mfn(leaf_pfn[l]);

        if (KIND_LEVEL(kind[leaf_pfn[l]]))
            refuse("pfn %#lx for p2m_frame_list[%lu] has bad type", leaf_pfn[l], l);
        for (unsigned int j = 0; j < 512; j++) {
            unsigned long pfn = l * 512 + j;

            mem_write(leaf, j, pfn < nr_pfns && (kind[pfn] & KIND_RAM) ? new_mfn(pfn) : ~0UL);
        }
    }
    cnt->leaves = nr_leaves;

    /* handle_shared_info: the frame list list zeroed, every port masked, nothing pending. */
    mem_write(MFN_SHARED_INFO, SI_ARCH_WORD(pfn_to_mfn_frame_list_list), 0);
    for (unsigned int w = 0; w < sizeof(((shared_info_t *)0)->evtchn_mask) / 8; w++) {
        mem_write(MFN_SHARED_INFO, (unsigned int)(offsetof(shared_info_t, evtchn_mask) / 8 + w), ~0UL);
        mem_write(MFN_SHARED_INFO, (unsigned int)(offsetof(shared_info_t, evtchn_pending) / 8 + w), 0);
    }

    /* process_start_info: the new mfns and ports; nr_pages = max_pfn; flags 0. */
    {
        unsigned long si_new = new_mfn(si_pfn);

        si_write(si_new, offsetof(start_info_t, store_mfn), new_mfn(store), 8);
        si_write(si_new, offsetof(start_info_t, store_evtchn), 3, 4);
        si_write(si_new, offsetof(start_info_t, console.domU.mfn), new_mfn(console), 8);
        si_write(si_new, offsetof(start_info_t, console.domU.evtchn), 4, 4);
        si_write(si_new, offsetof(start_info_t, nr_pages), nr_pfns, 8);
        si_write(si_new, offsetof(start_info_t, shared_info), MFN_SHARED_INFO << PAGE_SHIFT, 8);
        si_write(si_new, offsetof(start_info_t, flags), 0, 4);
    }
    M.tlb_gen++;
    vmem_changed();
    return 0;
}

/* ------------------------------------------------------------ the hypercall */

long model_toolstack_suspend(unsigned long si_mfn)
{
    unsigned long fll = arch_word(SI_ARCH_WORD(pfn_to_mfn_frame_list_list));
    unsigned long cr3 = arch_word(SI_ARCH_WORD(p2m_cr3)), *leaf_mfn;
    unsigned long si_pfn, cr3_pfn, user_pfn = ~0UL;
    enum ts_op op;

    if (TS.done >= TS.nr_ops)
        model_end_run(OUT_FAILURE, "the guest suspended %u times, the test asked for %u", TS.done + 1,
                      TS.nr_ops);
    cnt = &TS.counts[TS.done];
    *cnt = (struct ts_counts){ 0 };
    op = TS.op[TS.done++];
    nr_pfns = arch_word(SI_ARCH_WORD(max_pfn));
    if (!nr_pfns || nr_pfns > (1UL << 40))
        refuse("shared_info.arch.max_pfn is %lu", nr_pfns);
    nr_leaves = (nr_pfns + 511) / 512;
    free(p2m);
    free(kind);
    free(leaf_pfn);
    p2m = malloc(nr_pfns * sizeof(*p2m));
    kind = calloc(nr_pfns, 1);
    leaf_pfn = malloc(nr_leaves * sizeof(*leaf_pfn));
    leaf_mfn = malloc(nr_leaves * sizeof(*leaf_mfn));
    if (!p2m || !kind || !leaf_pfn || !leaf_mfn)
        abort();
    cnt->max_pfn = nr_pfns;
    cnt->via_list = cr3 != 0;
    if (cr3)
        map_list(cr3, arch_word(SI_ARCH_WORD(p2m_vaddr)), leaf_mfn);
    else
        map_tree(fll, leaf_mfn);
    read_leaves(leaf_mfn);
    free(leaf_mfn);

    /* write_one_vcpu_basic: rdx, cr3 and cr1 as pfns. */
    if (!pseudophys(si_mfn, &si_pfn))
        refuse("Bad mfn for suspend record: rdx %#lx", si_mfn);
    if (!pseudophys(M.cr3, &cr3_pfn))
        refuse("Bad mfn for vcpu0's cr3: %#lx", M.cr3);
    if (M.user_cr3 && !pseudophys(M.user_cr3, &user_pfn))
        refuse("Bad mfn for vcpu0's cr1: %#lx", M.user_cr3);
    save_pages();
    if (op == TS_CHECKPOINT)
        return 1;
    return restore(si_pfn, cr3_pfn, user_pfn);
}
