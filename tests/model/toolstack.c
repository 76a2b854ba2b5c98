/* SPDX-License-Identifier: MIT */
/*
 * toolstack.c - libxenguest's save and restore of a 64-bit PV domain
 * (Xen 4.17/4.20, tools/libs/guest/xg_sr_*), done to the model's guest at
 * its suspend hypercall, with the checks and the messages of that code:
 *
 *   setup     (before it asks the guest to suspend, while the guest runs)
 *             the p2m, found through shared_info as map_p2m() finds it:
 *             the linear list under p2m_cr3, walked through the guest's
 *             own tables, or the 3-level frame list when p2m_cr3 is 0;
 *             every frame on the way must be the guest's (the tools map
 *             them), every leaf a page of its pseudo-physical map
 *   save      every page Xen types L1-L4 is normalised: each present entry
 *             (an L4's Xen slots 256-271 aside) becomes a pfn; an entry
 *             naming a frame that is not the guest's makes the save send
 *             the page as XTAB, with no data (EAGAIN on a live guest, never
 *             resent); then vCPU 0: rdx (start_info), cr3 and cr1 (the
 *             user L4) must be pages of the guest's
 *   checkpoint   (xl save -c) the guest goes on in the same domain: rc 1
 *   restore   every pfn sent with data gets a new frame (every mfn
 *             changes: the new frames lie above the old machine, in
 *             descending order), the words go with it; an XTAB pfn gets a
 *             zeroed frame only if a localised entry names it; typed pages
 *             are localised (pfn -> new mfn); start_info's store and
 *             console fields are read as pfns; the vCPU's L4s are loaded
 *             (validated as Xen does), what was pinned is pinned again,
 *             the guest's p2m leaves get the new mfns up to max_pfn
 *             (update_guest_p2m; the frame list's mid and top pages are not
 *             touched), shared_info's frame list list is zeroed and every
 *             event channel masked, start_info gets the new mfns and
 *             ports, nr_pages, flags 0: rc 0
 *
 * Not modelled: the guest's pages are read while it runs only in a live
 * migration, which Debian's Xen refuses (docs/lifecycle.md); shared_info
 * keeps its machine address (the model has one such page); max_pfn is
 * never trimmed (the tools trim trailing pfns that share a leaf); a frame
 * two pfns name is refused, where the tools would send it twice.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "toolstack.h"

struct toolstack TS;

#define KIND_RAM        0x01    /* the save sends its data */
#define KIND_LEVEL(k)   (((k) >> 1) & 7)    /* 1-4: typed L1-L4 */
#define KIND_PINNED     0x10
#define KIND_DROPPED    0x20    /* typed, with an entry the save cannot normalise: XTAB */
#define KIND_WANTED     0x40    /* XTAB, but a localised entry names it: a zeroed frame */

static unsigned long nr_pfns, *p2m, *leaf_pfn, *leaf_mfn, nr_leaves, p2m_cr3;
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

/* The leaves' words: the tools' live mapping of them, read when they are needed. */
static void read_leaves(void)
{
    for (unsigned long l = 0; l < nr_leaves; l++)
        for (unsigned int j = 0; j < 512 && l * 512 + j < nr_pfns; j++)
            p2m[l * 512 + j] = mem_read(leaf_mfn[l], j);
}

/* map_p2m_leaves(). */
static void map_leaves(void)
{
    for (unsigned long l = 0; l < nr_leaves; l++)
        if (!mfn_owned(leaf_mfn[l]))
            refuse("Failed to map p2m frames (mfn %#lx is not the guest's)", leaf_mfn[l]);
    read_leaves();
    for (unsigned long l = 0; l < nr_leaves; l++)
        if (!pseudophys(leaf_mfn[l], &leaf_pfn[l]))
            refuse("Bad mfn in p2m_frame_list[%lu]", l);
}

/* map_p2m_list(): p2m_cr3's L4, down to every leaf of [p2m_vaddr, + max_pfn * 8). */
static bool canonical(unsigned long va)
{
    return (long)va >> 47 == 0 || (long)va >> 47 == -1;
}

static void map_list(unsigned long cr3, unsigned long vaddr)
{
    unsigned long end = vaddr + nr_leaves * PAGE_SIZE - 1;

    if ((cr3 >> PAGE_SHIFT) >= M.max_mfn)
        refuse("Bad p2m_cr3 value %#lx", cr3);
    if (!canonical(vaddr) || !canonical(end) || end < vaddr ||
        (vaddr < XEN_VIRT_END && end >= XEN_VIRT_FIRST))
        refuse("Bad virtual p2m address range %#lx-%#lx", vaddr, end);
    for (unsigned long l = 0; l < nr_leaves; l++) {
        unsigned long va = vaddr + l * PAGE_SIZE, mfn = cr3 >> PAGE_SHIFT;

        for (int level = 4; level >= 1; level--) {
            unsigned int shift = PAGE_SHIFT + 9 * (level - 1);

            if (!mfn_owned(mfn))
                refuse("Failed to map 1 page table pages for p2m list (mfn %#lx is not the guest's)", mfn);
            mfn = (mem_read(mfn, (va >> shift) & 511) & PTE_ADDR_MASK) >> PAGE_SHIFT;
            if (!mfn || mfn >= M.max_mfn)
                refuse("Bad mfn %#lx during page table walk for vaddr %#lx at level %d of p2m list",
                       mfn, (va & 0xffffffffffffUL) & ~((1UL << shift) - 1), level);
        }
        leaf_mfn[l] = mfn;
    }
}

/* map_p2m_tree(): the frame list list names mid pages, which name the leaves. */
static void map_tree(unsigned long fll)
{
    unsigned long mids = (nr_leaves + 511) / 512;

    if ((nr_pfns - 1) / (512 * 512) + 1 > 512)
        refuse("max_pfn %#lx too large for p2m tree", nr_pfns - 1);
    if (!fll || fll >= M.max_mfn)
        refuse("Bad mfn %#lx for p2m frame list list", fll);
    if (!mfn_owned(fll))
        refuse("Failed to map p2m frame list list at %#lx", fll);
    for (unsigned long i = 0; i < mids; i++) {
        unsigned long mid = mem_read(fll, (unsigned int)i);

        if (!mid || mid >= M.max_mfn)
            refuse("Bad mfn %#lx at index %lu (of %lu) in p2m frame list list", mid, i, mids);
    }
    for (unsigned long i = 0; i < mids; i++)
        if (!mfn_owned(mem_read(fll, (unsigned int)i)))
            refuse("Failed to map p2m frame list (mfn %#lx is not the guest's)",
                   (unsigned long)mem_read(fll, (unsigned int)i));
    for (unsigned long l = 0; l < nr_leaves; l++) {
        leaf_mfn[l] = mem_read(mem_read(fll, (unsigned int)(l / 512)), (unsigned int)(l % 512));
        if (!leaf_mfn[l] || leaf_mfn[l] >= M.max_mfn)
            refuse("Bad mfn %#lx at index %lu (of %lu) in p2m frame list", leaf_mfn[l], l, nr_leaves);
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

/* The type the stream gives a pfn: NOTAB, L1-L4, or XTAB (no frame, or dropped). */
static unsigned int saved_type(unsigned long pfn)
{
    if (pfn >= nr_pfns || !(kind[pfn] & KIND_RAM))
        return 15;
    return KIND_LEVEL(kind[pfn]);
}

static void save_pages(void)
{
    unsigned long *seen = calloc(M.max_mfn / 64 + 1, sizeof(*seen));

    if (!seen)
        refuse("Cannot allocate a bitmap of %lu mfns", M.max_mfn);
    for (unsigned long pfn = 0; pfn < nr_pfns; pfn++) {
        unsigned long mfn = p2m[pfn];
        const struct frame *f;

        kind[pfn] = 0;
        if (!mfn_owned(mfn))
            continue;                       /* XTAB: no data */
        if (seen[mfn / 64] & (1UL << (mfn % 64)))
            model_end_run(OUT_RULE, "toolstack model: mfn %#lx is in the p2m twice (pfn %#lx and an "
                          "earlier one): the tools would send it twice, the model cannot", mfn, pfn);
        seen[mfn / 64] |= 1UL << (mfn % 64);
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
            kind[pfn] = KIND_DROPPED;       /* write_batch: sent as XTAB, no data */
            cnt->ram--;
            cnt->dropped++;
        }
    }
    free(seen);
}

/* ------------------------------------------------------------ restore */

static unsigned long new_mfn(unsigned long pfn)
{
    return model_p2m(pfn);
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
            to = frame < nr_pfns && (kind[frame] & (KIND_RAM | KIND_WANTED)) ? new_mfn(frame) : ~0UL;
            if (to == ~0UL)
                refuse("Bad mfn for L%u[%u] - pte %#lx", level, s, (unsigned long)e);
        } else {
            to = model_m2p(frame);
        }
        mem_write(mfn, s, (e & ~PTE_ADDR_MASK) | ((uint64_t)to << PAGE_SHIFT));
    }
}

/* x86_pv_localise_page() populates an XTAB pfn an entry names: a zeroed frame. */
static void mark_wanted(unsigned long mfn, unsigned int level)
{
    for (unsigned int s = 0; s < 512; s++) {
        uint64_t e = mem_read(mfn, s);
        unsigned long pfn = (e & PTE_ADDR_MASK) >> PAGE_SHIFT;

        if ((e & _PAGE_PRESENT) && !is_xen_slot(level, s) && pfn < nr_pfns && !(kind[pfn] & KIND_RAM))
            kind[pfn] |= KIND_WANTED;
    }
}

static void si_write(unsigned long si_mfn, size_t off, uint64_t v, size_t len)
{
    mem_write_bytes(si_mfn, (unsigned int)off, &v, len);
}

static uint64_t si_read(unsigned long si_mfn, size_t off, size_t len)
{
    uint64_t v = 0;

    mem_read_bytes(si_mfn, (unsigned int)off, &v, len);
    return v;
}

/* process_start_info(): the store's and the console's fields hold pfns. */
static void start_info_fixup(unsigned long si_pfn)
{
    unsigned long si_new, store, console;

    if (si_pfn >= nr_pfns)
        refuse("Start Info pfn %#lx out of range", si_pfn);
    if (saved_type(si_pfn))
        refuse("Start Info pfn %#lx has bad type %u", si_pfn, saved_type(si_pfn));
    si_new = new_mfn(si_pfn);
    store = si_read(si_new, offsetof(start_info_t, store_mfn), 8);
    if (store >= nr_pfns)
        refuse("XenStore pfn %#lx out of range", store);
    if (!(kind[store] & KIND_RAM))
        refuse("XenStore pfn has bad mfn");
    console = si_read(si_new, offsetof(start_info_t, console.domU.mfn), 8);
    if (console >= nr_pfns)
        refuse("Console pfn %#lx out of range", console);
    if (!(kind[console] & KIND_RAM))
        refuse("Console pfn has bad mfn");
    si_write(si_new, offsetof(start_info_t, store_mfn), new_mfn(store), 8);
    si_write(si_new, offsetof(start_info_t, store_evtchn), 3, 4);
    si_write(si_new, offsetof(start_info_t, console.domU.mfn), new_mfn(console), 8);
    si_write(si_new, offsetof(start_info_t, console.domU.evtchn), 4, 4);
    si_write(si_new, offsetof(start_info_t, nr_pages), nr_pfns, 8);
    si_write(si_new, offsetof(start_info_t, shared_info), MFN_SHARED_INFO << PAGE_SHIFT, 8);
    si_write(si_new, offsetof(start_info_t, flags), 0, 4);
}

static unsigned long vcpu_l4(unsigned long pfn, const char *reg)
{
    if (pfn >= nr_pfns)
        refuse("%s (pfn %#lx) out of range", reg, pfn);
    if (saved_type(pfn) != 4)
        refuse("%s (pfn %#lx) has bad type %u, expected 4", reg, pfn, saved_type(pfn));
    return new_mfn(pfn);
}

static long restore(unsigned long si_pfn, unsigned long cr3_pfn, unsigned long user_pfn)
{
    unsigned long old_max = M.max_mfn, frames = 0, cursor;
    long rc;

    /* What the stream holds: typed pages as pfns, the dropped ones as nothing. */
    for (unsigned long pfn = 0; pfn < nr_pfns; pfn++)
        if (KIND_LEVEL(kind[pfn]) && (kind[pfn] & KIND_RAM))
            rewrite_table(p2m[pfn], KIND_LEVEL(kind[pfn]), false);
    for (unsigned long pfn = 0; pfn < nr_pfns; pfn++)
        if (KIND_LEVEL(kind[pfn]) && (kind[pfn] & KIND_RAM))
            mark_wanted(p2m[pfn], KIND_LEVEL(kind[pfn]));
    for (unsigned long pfn = 0; pfn < nr_pfns; pfn++)
        frames += !!(kind[pfn] & (KIND_RAM | KIND_WANTED));

    /* A new domain: the pfns get frames above the old machine; data moves with them. */
    model_grow(old_max + frames);
    model_forget_extents();
    cursor = old_max + frames - 1;
    for (unsigned long pfn = 0; pfn < nr_pfns;) {
        unsigned long n = 0;

        while (pfn + n < nr_pfns && (kind[pfn + n] & (KIND_RAM | KIND_WANTED)))
            n++;
        if (!n) {
            pfn++;
            continue;
        }
        model_add_extent(pfn, cursor, n, -1);
        for (unsigned long i = 0; i < n; i++)
            if (kind[pfn + i] & KIND_RAM)
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
    for (unsigned long pfn = 0; pfn < nr_pfns; pfn++)
        if (KIND_LEVEL(kind[pfn]) && (kind[pfn] & KIND_RAM))
            rewrite_table(new_mfn(pfn), KIND_LEVEL(kind[pfn]), true);

    /* x86_pv_stream_complete: start_info, both L4s loaded and validated, the pins. */
    start_info_fixup(si_pfn);
    rc = model_restore_vcpu(vcpu_l4(cr3_pfn, "cr3"), user_pfn == ~0UL ? 0 : vcpu_l4(user_pfn, "cr1"));
    if (rc)
        refuse("Failed to set vcpu0's basic info: %s", M.refusal);
    for (unsigned long pfn = 0; pfn < nr_pfns; pfn++)
        if ((kind[pfn] & KIND_PINNED) && (kind[pfn] & KIND_RAM)) {
            rc = model_pin(new_mfn(pfn), (enum frame_type)(FT_L1 + KIND_LEVEL(kind[pfn]) - 1));
            if (rc)
                refuse("Failed to pin batch of pagetables: pfn %#lx: %s", pfn, M.refusal);
        }

    /* update_guest_p2m: the new pfn -> mfn array over the leaves, up to max_pfn only. */
    for (unsigned long l = 0; l < nr_leaves; l++) {
        unsigned long leaf;

        if (saved_type(leaf_pfn[l]))
            refuse("pfn (%#lx) for p2m_frame_list[%lu] has bad type %u", leaf_pfn[l], l,
                   saved_type(leaf_pfn[l]));
        leaf = new_mfn(leaf_pfn[l]);
        for (unsigned int j = 0; j < 512 && l * 512 + j < nr_pfns; j++) {
            unsigned long pfn = l * 512 + j;

            mem_write(leaf, j, kind[pfn] & (KIND_RAM | KIND_WANTED) ? new_mfn(pfn) : ~0UL);
        }
    }
    cnt->leaves = nr_leaves;

    /* handle_shared_info: the frame list list zeroed, every port masked, nothing pending. */
    mem_write(MFN_SHARED_INFO, SI_ARCH_WORD(pfn_to_mfn_frame_list_list), 0);
    for (unsigned int w = 0; w < sizeof(((shared_info_t *)0)->evtchn_mask) / 8; w++) {
        mem_write(MFN_SHARED_INFO, (unsigned int)(offsetof(shared_info_t, evtchn_mask) / 8 + w), ~0UL);
        mem_write(MFN_SHARED_INFO, (unsigned int)(offsetof(shared_info_t, evtchn_pending) / 8 + w), 0);
    }
    mem_write(MFN_SHARED_INFO, (unsigned int)(offsetof(shared_info_t, vcpu_info[0].evtchn_pending_sel) / 8),
              0);
    M.tlb_gen++;
    vmem_changed();
    return 0;
}

/* ------------------------------------------------------------ the hypercall */

static bool set_up;

void model_toolstack_setup(void)
{
    unsigned long fll = arch_word(SI_ARCH_WORD(pfn_to_mfn_frame_list_list));

    if (TS.done >= TS.nr_ops)
        model_end_run(OUT_FAILURE, "the guest is about to suspend a %u. time, the test asked for %u",
                      TS.done + 1, TS.nr_ops);
    cnt = &TS.counts[TS.done];
    *cnt = (struct ts_counts){ 0 };
    nr_pfns = arch_word(SI_ARCH_WORD(max_pfn));
    p2m_cr3 = arch_word(SI_ARCH_WORD(p2m_cr3));
    if (!nr_pfns)
        refuse("shared_info.arch.max_pfn is 0");
    nr_leaves = (nr_pfns + 511) / 512;
    free(p2m);
    free(kind);
    free(leaf_pfn);
    free(leaf_mfn);
    p2m = malloc(nr_pfns * sizeof(*p2m));
    kind = calloc(nr_pfns, 1);
    leaf_pfn = malloc(nr_leaves * sizeof(*leaf_pfn));
    leaf_mfn = malloc(nr_leaves * sizeof(*leaf_mfn));
    if (!p2m || !kind || !leaf_pfn || !leaf_mfn)
        refuse("Cannot allocate the p2m of %lu pfns", nr_pfns);
    cnt->max_pfn = nr_pfns;
    cnt->via_list = p2m_cr3 != 0;
    if (p2m_cr3)
        map_list(p2m_cr3, arch_word(SI_ARCH_WORD(p2m_vaddr)));
    else
        map_tree(fll);
    map_leaves();
    set_up = true;
}

long model_toolstack_suspend(unsigned long si_mfn)
{
    unsigned long si_pfn, cr3_pfn, user_pfn = ~0UL;
    enum ts_op op;

    if (!set_up)
        model_toolstack_setup();
    set_up = false;
    op = TS.op[TS.done++];
    read_leaves();
    save_pages();
    /* write_one_vcpu_basic (end_of_checkpoint): rdx, cr3 and cr1 as pfns. */
    if (!pseudophys(si_mfn, &si_pfn))
        refuse("Bad mfn for suspend record");
    if (!pseudophys(M.cr3, &cr3_pfn))
        refuse("Bad mfn for vcpu0's cr3");
    if (M.user_cr3 && !pseudophys(M.user_cr3, &user_pfn))
        refuse("Bad mfn for vcpu0's cr1");
    if (op == TS_CHECKPOINT)
        return 1;
    return restore(si_pfn, cr3_pfn, user_pfn);
}
