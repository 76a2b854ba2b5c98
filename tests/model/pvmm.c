/* SPDX-License-Identifier: MIT */
/*
 * pvmm.c - Xen's PV MMU rules: frame types and type counts, validation of
 * page tables (and its undoing), entry updates, and the hypercalls the shim
 * makes (mmu_update, mmuext_op, update_va_mapping, multicall, memory_op,
 * vm_assist).
 *
 * Written from the behaviour of xen/arch/x86/mm.c (get_page_from_l1e,
 * get_page_from_lNe, promote/demote_lN_table, mod_lN_entry,
 * _get_page_type/_put_page_type, do_mmu_update, do_mmuext_op,
 * __do_update_va_mapping) and xen/common/multicall.c.  Simplifications
 * that do not change what a guest can observe: validation is never
 * preempted (no -ERESTART, no PGT_partial), references that Xen drops
 * through old_guest_table at the next hypercall are dropped at once, and
 * only type counts are kept (no general page references).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model.h"

#define P   _PAGE_PRESENT
#define RW  _PAGE_RW
#define US  _PAGE_USER
#define A   _PAGE_ACCESSED
#define D   _PAGE_DIRTY

/* Xen's base_disallow_mask, inverted: what any level may carry. */
#define BASE_ALLOWED (P | RW | US | A | D | PTE_AVAIL_LOW | PTE_AVAIL_HIGH | _PAGE_NX)
#define CACHE_ATTRS  (_PAGE_PWT | _PAGE_PCD | _PAGE_PAT_L1)

/* l1e_has_changed() ignores these (FASTPATH_FLAG_WHITELIST). */
#define FASTPATH_IGNORED (_PAGE_NX | PTE_AVAIL_HIGH | PTE_AVAIL_LOW | _PAGE_GLOBAL | D | A | US | \
                          _PAGE_GUEST_KERNEL)

/* Non-present entries at or above this machine address are L1TF-safe. */
#define L1TF_SAFE_MADDR (1ULL << 44)

static const char *const type_names[] = {
    [FT_NONE] = "untyped", [FT_WRITABLE] = "writable", [FT_L1] = "L1", [FT_L2] = "L2",
    [FT_L3] = "L3", [FT_L4] = "L4", [FT_SEG_DESC] = "seg_desc",
};

const char *frame_type_name(enum frame_type t)
{
    return t <= FT_SEG_DESC ? type_names[t] : "?";
}

static const char *const owner_names[] = {
    [OWN_FREE] = "nobody", [OWN_DOM] = "the domain", [OWN_OTHER] = "another domain",
    [OWN_XEN] = "Xen", [OWN_IO] = "dom_io",
};

const char *owner_name(enum frame_owner o)
{
    return o <= OWN_IO ? owner_names[o] : "?";
}

static bool is_pt(enum frame_type t)
{
    return t >= FT_L1 && t <= FT_L4;
}

static bool is_xen_slot(unsigned int level, unsigned int slot)
{
    return level == 4 && slot >= 256 && slot <= 271;
}

/* First refusal wins within one entry: the root cause, not its echoes. */
static bool refusal_open;

#define REFUSE(...) do { if (refusal_open) { model_refuse(__VA_ARGS__); refusal_open = false; } } while (0)

static void entry_begin(void)
{
    refusal_open = true;
    M.refusal[0] = 0;
}

/* -------------------------------------------------------------- N (L1TF) */

static void __attribute__((noreturn)) crash(const char *fmt, unsigned int level, uint64_t e)
{
    M.crashed = true;
    snprintf(M.crash_msg, sizeof(M.crash_msg), fmt, level, (unsigned long)e);
    REFUSE("N: %s", M.crash_msg);
    model_end_run(OUT_CRASH, "%s", M.crash_msg);
}

/* pv_l1tf_check_pte(): a non-present entry must not point below the safe limit. */
static void l1tf_check(unsigned int level, uint64_t e)
{
    uint64_t maddr = e & PTE_ADDR_MASK;

    if (!M.opts.l1tf_check)
        return;
    if ((level > 1 && (e & _PAGE_PSE)) || (maddr && maddr < L1TF_SAFE_MADDR))
        crash("d1 L1TF-vulnerable L%ue %016lx - Crashing (N: non-present entry with address bits)",
              level, e);
}

/* -------------------------------------------------------------- E6 */

static uint64_t adjust(unsigned int level, uint64_t e)
{
    if (!(e & P))
        return e;
    switch (level) {
    case 1:
        if (!(e & US))
            e |= _PAGE_GUEST_KERNEL | US;
        if (!(e & _PAGE_GUEST_KERNEL))
            e |= _PAGE_GLOBAL | US;
        return e;
    case 4:
        return e | A | US;
    default:
        return e | US;
    }
}

/* -------------------------------------------------------------- F1/F2 */

static uint64_t disallowed(unsigned int level, uint64_t e)
{
    uint64_t allowed = BASE_ALLOWED;

    if (M.opts.no_nx)
        allowed &= ~_PAGE_NX;   /* Xen's base_disallow_mask when the CPU has no NX */
    if (level == 1) {
        allowed |= _PAGE_GLOBAL;
        allowed &= ~_PAGE_GNTTAB;
        if (M.opts.dom0)
            allowed |= CACHE_ATTRS;
    }
    return e & PTE_FLAGS_MASK & ~allowed;
}

/* -------------------------------------------------------------- T1-T4 */

static int promote(unsigned long mfn, unsigned int level);
static void demote(unsigned long mfn, unsigned int level);

int get_page_type(unsigned long mfn, enum frame_type type)
{
    struct frame *f = frame_of(mfn);

    if (f->count == 0) {
        if (f->type != type) {
            /* T2: the type may change only while nothing references it (and no TLB keeps it). */
            atlb_type_changed(mfn);
            f->type = type;
            f->flags &= ~(FF_VALIDATED | FF_XEN_SLOTS);
        }
    } else if (f->type != type) {
        REFUSE("T2: Bad type: mfn %#lx is %s (type count %u), wanted %s",
               mfn, frame_type_name(f->type), f->count, frame_type_name(type));
        return -EINVAL;
    }
    if (f->count == UINT32_MAX) {
        REFUSE("T1: type count overflow on mfn %#lx", mfn);
        return -EINVAL;
    }
    f->count++;
    if (!(f->flags & FF_VALIDATED)) {
        /* T4: the first reference validates, recursively. */
        int rc = is_pt(type) ? promote(mfn, type - FT_L1 + 1) : 0;

        if (rc) {
            /* Xen leaves a frame that failed validation untyped. */
            f->count = 0;
            f->type = FT_NONE;
            f->flags &= ~(FF_VALIDATED | FF_XEN_SLOTS);
            return rc;
        }
        f->flags |= FF_VALIDATED;
    }
    return 0;
}

void put_page_type(unsigned long mfn)
{
    struct frame *f = frame_of(mfn);

    if (!f->count) {
        fprintf(stderr, "model: put_page_type on mfn %#lx with no type reference\n", mfn);
        model_end_run(OUT_CRASH, "model bug: type count underflow on mfn %#lx", mfn);
    }
    if (--f->count == 0 && is_pt(f->type) && (f->flags & FF_VALIDATED)) {
        /* The last reference to a table: devalidate it, cascading. */
        f->flags &= ~FF_VALIDATED;
        demote(mfn, f->type - FT_L1 + 1);
    }
}

/* -------------------------------------------------------------- E1-E5 */

static int get_page_from_l1e(uint64_t e, unsigned long l1_mfn)
{
    unsigned long mfn = PTE_MFN(e);
    uint64_t bad = disallowed(1, e);
    struct frame *f;

    if (bad) {
        REFUSE("F1: L1 entry %#lx in mfn %#lx: flags %#lx not allowed%s", (unsigned long)e, l1_mfn,
               (unsigned long)bad, (bad & CACHE_ATTRS) ? " (PWT/PCD/PAT need I/O privileges)" : "");
        return -EINVAL;
    }
    if (!mfn_valid(mfn) || frame_of(mfn)->owner == OWN_IO) {
        if (!M.opts.dom0) {
            REFUSE("E1: L1 entry %#lx maps MMIO mfn %#lx without iomem permission",
                   (unsigned long)e, mfn);
            return -EPERM;
        }
        return 0;               /* dom0 may map I/O memory; no references */
    }
    f = frame_of(mfn);
    if (f->owner != OWN_DOM) {
        REFUSE("E1: L1 entry %#lx maps mfn %#lx, which belongs to %s",
               (unsigned long)e, mfn, owner_names[f->owner]);
        return -EBUSY;
    }
    if (!(e & RW))
        return 0;               /* E3: read-only mappings of anything of ours are fine */
    if (f->count && f->type != FT_WRITABLE) {
        REFUSE("E2: writable L1 entry %#lx in mfn %#lx maps mfn %#lx, a %s frame (type count %u)",
               (unsigned long)e, l1_mfn, mfn, frame_type_name(f->type), f->count);
        return -EBUSY;
    }
    return get_page_type(mfn, FT_WRITABLE);
}

static void put_page_from_l1e(uint64_t e)
{
    unsigned long mfn = PTE_MFN(e);

    if (!(e & P) || !(e & RW) || !mfn_owned(mfn))
        return;
    put_page_type(mfn);
}

/* E5: a same-level entry, accepted only read-only and to a validated table. */
static int get_linear(uint64_t e, unsigned int level, unsigned long table_mfn)
{
    unsigned long mfn = PTE_MFN(e);
    struct frame *f = frame_of(mfn);

    if (!M.opts.linear_pt) {
        REFUSE("E5: linear L%u entry %#lx in mfn %#lx: linear page tables are disabled "
               "(pv-linear-pt=false)", level, (unsigned long)e, table_mfn);
        return -EINVAL;
    }
    if (e & RW) {
        REFUSE("E5: linear L%u entry %#lx in mfn %#lx is writable", level, (unsigned long)e, table_mfn);
        return -EINVAL;
    }
    if (mfn == table_mfn)
        return 0;               /* a self-reference takes no reference */
    if (f->type != FT_L1 + level - 1 || !(f->flags & FF_VALIDATED) || !f->count) {
        REFUSE("E5: linear L%u entry %#lx: mfn %#lx is not a validated L%u", level,
               (unsigned long)e, mfn, level);
        return -EINVAL;
    }
    f->count++;
    return 0;
}

static int get_page_from_lne(uint64_t e, unsigned int level, unsigned long table_mfn)
{
    unsigned long mfn = PTE_MFN(e);
    enum frame_type want = FT_L1 + level - 2;
    uint64_t bad = disallowed(level, e);
    struct frame *f;

    if (bad) {
        REFUSE("F2: L%u entry %#lx in mfn %#lx: flags %#lx not allowed (no PSE/G/PWT/PCD above L1)",
               level, (unsigned long)e, table_mfn, (unsigned long)bad);
        return -EINVAL;
    }
    if (!mfn_owned(mfn)) {
        REFUSE("E1: L%u entry %#lx in mfn %#lx points at mfn %#lx, which belongs to %s", level,
               (unsigned long)e, table_mfn, mfn,
               mfn_valid(mfn) ? owner_names[frame_of(mfn)->owner] : "no RAM");
        return -EINVAL;
    }
    f = frame_of(mfn);
    if (f->count && f->type != want) {
        if (f->type == FT_L1 + level - 1 || mfn == table_mfn)
            return get_linear(e, level, table_mfn);
        if (f->type == FT_WRITABLE)
            REFUSE("E4: L%u entry %#lx in mfn %#lx: mfn %#lx cannot become an L%u, it is mapped "
                   "writable (%u writable reference%s)", level, (unsigned long)e, table_mfn, mfn,
                   level - 1, f->count, f->count == 1 ? "" : "s");
        else
            REFUSE("E4: L%u entry %#lx in mfn %#lx: mfn %#lx is a %s (type count %u), not an L%u",
                   level, (unsigned long)e, table_mfn, mfn, frame_type_name(f->type), f->count,
                   level - 1);
        return -EINVAL;
    }
    return get_page_type(mfn, want);
}

static void put_page_from_lne(uint64_t e, unsigned long table_mfn)
{
    unsigned long mfn = PTE_MFN(e);

    if (!(e & P) || mfn == table_mfn || !mfn_owned(mfn))
        return;
    put_page_type(mfn);
}

static int get_entry(unsigned int level, uint64_t e, unsigned long table_mfn)
{
    return level == 1 ? get_page_from_l1e(e, table_mfn) : get_page_from_lne(e, level, table_mfn);
}

static void put_entry(unsigned int level, uint64_t e, unsigned long table_mfn)
{
    if (level == 1)
        put_page_from_l1e(e);
    else
        put_page_from_lne(e, table_mfn);
}

/* -------------------------------------------------------------- X */

void model_fill_xen_slots(unsigned long l4, bool ro_m2p)
{
    const uint64_t hyp = P | RW | A | D;

    mem_write(l4, 256, ro_m2p ? ((uint64_t)MFN_XEN_M2P_L3 << PAGE_SHIFT) | P | US | A : 0);
    mem_write(l4, 257, ((uint64_t)MFN_XEN_MISC << PAGE_SHIFT) | hyp);
    mem_write(l4, 258, ((uint64_t)l4 << PAGE_SHIFT) | hyp);             /* linear */
    mem_write(l4, 259, 0);                                              /* shadow linear */
    mem_write(l4, 260, ((uint64_t)MFN_XEN_PERDOMAIN << PAGE_SHIFT) | hyp);
    for (unsigned int s = 261; s <= 271; s++)
        mem_write(l4, s, ((uint64_t)MFN_XEN_MISC << PAGE_SHIFT) | hyp);
    frame_of(l4)->flags |= FF_XEN_SLOTS;
    M.tlb_gen++;
}

static void set_ro_m2p(unsigned long l4, bool present)
{
    mem_write(l4, 256, present ? ((uint64_t)MFN_XEN_M2P_L3 << PAGE_SHIFT) | P | US | A : 0);
    M.tlb_gen++;
}

/* -------------------------------------------------------------- promote/demote */

/*
 * A table's words for a pass over all of them: in place if the frame is
 * stored (a table nearly always is), else computed into buf.  Validation
 * writes only the entry it has just read, and nothing moves or frees a
 * frame's stored words while it is validated or devalidated (the
 * toolstack's restore moves frames before it validates any), so the
 * pointer stays good for the pass.
 */
static const uint64_t *table_words(unsigned long mfn, uint64_t *buf)
{
    if (frame_of(mfn)->content == FC_STORED)
        return M.pages[mfn];
    mem_read_page(mfn, buf);
    return buf;
}

static int promote(unsigned long mfn, unsigned int level)
{
    uint64_t buf[PT_ENTRIES];
    const uint64_t *page = table_words(mfn, buf);
    bool adjusted = false;
    unsigned int i;
    int rc = 0;

    M.stats.validations++;
    for (i = 0; i < PT_ENTRIES; i++) {
        uint64_t e;

        if (is_xen_slot(level, i))
            continue;           /* X: ignored here, Xen fills them below */
        e = page[i];
        if (!(e & P)) {
            l1tf_check(level, e);
            continue;
        }
        rc = get_entry(level, e, mfn);
        if (rc)
            break;
        if (adjust(level, e) == e)
            continue;
        if (page == buf) {                              /* E6, written back below */
            buf[i] = adjust(level, e);
            adjusted = true;
        } else {
            mem_write(mfn, i, adjust(level, e));        /* E6 */
        }
    }
    /* A page that is not stored gets its adjusted words at once: it may stay a run. */
    if (adjusted)
        mem_write_page(mfn, buf);
    if (rc) {
        while (i-- > 0)
            if (!is_xen_slot(level, i))
                put_entry(level, mem_read(mfn, i), mfn);
        return rc;
    }
    if (level == 4)
        model_fill_xen_slots(mfn, M.opts.m2p_strict);
    M.tlb_gen++;
    return 0;
}

static void demote(unsigned long mfn, unsigned int level)
{
    uint64_t buf[PT_ENTRIES];
    const uint64_t *page = table_words(mfn, buf);

    M.stats.devalidations++;
    for (unsigned int i = 0; i < PT_ENTRIES; i++)
        if (!is_xen_slot(level, i))
            put_entry(level, page[i], mfn);
    M.tlb_gen++;
}

/* -------------------------------------------------------------- mod_lN_entry */

static int mod_entry(unsigned long table_mfn, unsigned int slot, uint64_t nval,
                     unsigned int level, bool preserve_ad)
{
    uint64_t oval = mem_read(table_mfn, slot);
    int rc;

    if (is_xen_slot(level, slot)) {
        REFUSE("X: L4 update in Xen-private area, slot %u of mfn %#lx", slot, table_mfn);
        return -EINVAL;
    }
    if (nval & P) {
        uint64_t bad = disallowed(level, nval);

        if (bad) {
            REFUSE("%s: L%u entry %#lx for mfn %#lx slot %u: flags %#lx not allowed",
                   level == 1 ? "F1" : "F2", level, (unsigned long)nval, table_mfn, slot,
                   (unsigned long)bad);
            return -EINVAL;
        }
        nval = adjust(level, nval);
        if (preserve_ad)
            nval |= oval & (A | D);
        /* Fast path: same frame, same permissions: no reference changes. */
        if ((oval & P) && !((oval ^ nval) & (PTE_ADDR_MASK | (PTE_FLAGS_MASK & ~FASTPATH_IGNORED)))) {
            mem_write(table_mfn, slot, nval);
            M.tlb_gen++;
            return 0;
        }
        rc = get_entry(level, nval, table_mfn);
        if (rc)
            return rc;
    } else {
        l1tf_check(level, nval);
    }
    mem_write(table_mfn, slot, nval);
    put_entry(level, oval, table_mfn);
    M.tlb_gen++;
    return 0;
}

/* -------------------------------------------------------------- injection */

static bool inject_entry(long *rc, const char *what)
{
    if (++M.entry_seq != M.inj.fail_entry || !M.inj.fail_entry)
        return false;
    M.inj.fired = true;
    snprintf(M.inj.what, sizeof(M.inj.what), "%s", what);
    *rc = M.inj.rc ? M.inj.rc : -EINVAL;
    REFUSE("injected: entry %lu (%s) fails with %ld", M.inj.fail_entry, what, *rc);
    return true;
}

bool model_inject_call(long *rc, const char *what)
{
    M.stats.hypercalls++;
    if (M.inj.fail_call != M.stats.hypercalls)
        return false;
    M.inj.fired = true;
    snprintf(M.inj.what, sizeof(M.inj.what), "%s", what);
    *rc = M.inj.rc ? M.inj.rc : -EINVAL;
    entry_begin();
    REFUSE("injected: hypercall %lu (%s) fails with %ld", M.inj.fail_call, what, *rc);
    return true;
}

/* -------------------------------------------------------------- mmu_update */

static long one_update(const mmu_update_t *r)
{
    unsigned int cmd = r->ptr & 7;
    unsigned long mfn = r->ptr >> PAGE_SHIFT;
    unsigned int slot = (r->ptr & ~PAGE_MASK) >> 3;
    struct frame *f;
    long rc;

    if (inject_entry(&rc, cmd == MMU_MACHPHYS_UPDATE ? "mmu_update MACHPHYS_UPDATE" :
                     "mmu_update NORMAL_PT_UPDATE"))
        return rc;

    switch (cmd) {
    case MMU_NORMAL_PT_UPDATE:
    case MMU_PT_UPDATE_PRESERVE_AD:
    case MMU_PT_UPDATE_NO_TRANSLATE:
        if (!mfn_owned(mfn)) {
            REFUSE("H: mmu_update ptr %#lx: mfn %#lx is not the domain's", (unsigned long)r->ptr, mfn);
            return -EINVAL;
        }
        f = frame_of(mfn);
        if ((f->flags & FF_VALIDATED) && f->count) {
            if (is_pt(f->type))
                return mod_entry(mfn, slot, r->val, f->type - FT_L1 + 1,
                                 cmd == MMU_PT_UPDATE_PRESERVE_AD);
            if (f->type == FT_WRITABLE) {
                mem_write(mfn, slot, r->val);
                return 0;
            }
            REFUSE("T1: mmu_update into mfn %#lx, a %s frame", mfn, frame_type_name(f->type));
            return -EINVAL;
        }
        /* Not a validated table: a plain, checked write (how tables get filled). */
        if (f->count && f->type != FT_WRITABLE) {
            REFUSE("T2: mmu_update into mfn %#lx: a %s frame being validated", mfn,
                   frame_type_name(f->type));
            return -EINVAL;
        }
        rc = get_page_type(mfn, FT_WRITABLE);
        if (rc)
            return rc;
        mem_write(mfn, slot, r->val);
        put_page_type(mfn);
        return 0;

    case MMU_MACHPHYS_UPDATE:
        if (!mfn_owned(mfn)) {
            REFUSE("H: MACHPHYS_UPDATE: mfn %#lx is not the domain's", mfn);
            return -EINVAL;
        }
        M.stats.m2p_changed += model_m2p(mfn) != r->val;
        model_set_m2p(mfn, r->val);
        M.stats.machphys++;
        M.tlb_gen++;
        return 0;

    default:
        REFUSE("H: mmu_update command %u", cmd);
        return -ENOSYS;
    }
}

static void trace(char kind, uint64_t a, uint64_t b)
{
    if (M.trace && M.nr_trace < M.trace_cap)
        M.trace[M.nr_trace] = (struct model_trace){ .kind = kind, .a = a, .b = b };
    M.nr_trace++;
}

static long do_mmu_update(mmu_update_t *req, unsigned int count, unsigned int *done)
{
    unsigned int i;
    long rc = 0;

    for (i = 0; i < count; i++) {
        entry_begin();
        M.stats.entries++;
        trace('u', req[i].ptr, req[i].val);
        rc = one_update(&req[i]);
        if (rc)
            break;              /* H: stop at the first failure */
    }
    if (done)
        *done = i;
    M.tlb_gen++;
    return rc;
}

long model_mmu_update(mmu_update_t *req, unsigned int count, unsigned int *done)
{
    long rc;

    M.stats.mmu_update++;
    if (model_inject_call(&rc, "mmu_update")) {
        if (done)
            *done = 0;
        return rc;
    }
    return do_mmu_update(req, count, done);
}

/* -------------------------------------------------------------- mmuext_op */

static const char *ext_name(unsigned int cmd)
{
    static char buf[32];

    switch (cmd) {
    case MMUEXT_PIN_L1_TABLE: return "PIN_L1_TABLE";
    case MMUEXT_PIN_L2_TABLE: return "PIN_L2_TABLE";
    case MMUEXT_PIN_L3_TABLE: return "PIN_L3_TABLE";
    case MMUEXT_PIN_L4_TABLE: return "PIN_L4_TABLE";
    case MMUEXT_UNPIN_TABLE: return "UNPIN_TABLE";
    case MMUEXT_NEW_BASEPTR: return "NEW_BASEPTR";
    case MMUEXT_NEW_USER_BASEPTR: return "NEW_USER_BASEPTR";
    case MMUEXT_TLB_FLUSH_LOCAL: return "TLB_FLUSH_LOCAL";
    case MMUEXT_INVLPG_LOCAL: return "INVLPG_LOCAL";
    case MMUEXT_TLB_FLUSH_ALL: return "TLB_FLUSH_ALL";
    case MMUEXT_INVLPG_ALL: return "INVLPG_ALL";
    default:
        snprintf(buf, sizeof(buf), "mmuext cmd %u", cmd);
        return buf;
    }
}

static long pin(unsigned long mfn, enum frame_type type)
{
    struct frame *f;
    long rc;

    if (!mfn_owned(mfn)) {
        REFUSE("H: pin: mfn %#lx is not the domain's", mfn);
        return -EINVAL;
    }
    rc = get_page_type(mfn, type);
    if (rc)
        return rc;
    f = frame_of(mfn);
    if (f->flags & FF_PINNED) {
        REFUSE("H: mfn %#lx already pinned", mfn);
        put_page_type(mfn);
        return -EINVAL;
    }
    f->flags |= FF_PINNED;
    return 0;
}

static long unpin(unsigned long mfn)
{
    struct frame *f;

    if (!mfn_owned(mfn)) {
        REFUSE("H: unpin: mfn %#lx is not the domain's", mfn);
        return -EINVAL;
    }
    f = frame_of(mfn);
    if (!(f->flags & FF_PINNED)) {
        REFUSE("H: UNPIN_TABLE: mfn %#lx not pinned", mfn);
        return -EINVAL;
    }
    f->flags &= ~FF_PINNED;
    put_page_type(mfn);         /* T4: devalidation cascades when it was the last reference */
    return 0;
}

static long new_baseptr(unsigned long mfn)
{
    unsigned long old = M.cr3;
    long rc;

    if (mfn == old) {
        atlb_flush_local(ATLB_ALL);         /* Xen reloads CR3 all the same (write_ptbase) */
        return 0;
    }
    if (!mfn_owned(mfn)) {
        REFUSE("H: NEW_BASEPTR: mfn %#lx is not the domain's", mfn);
        return -EINVAL;
    }
    rc = get_page_type(mfn, FT_L4);
    if (rc)
        return rc;
    if (!M.opts.m2p_strict && !(mem_read(mfn, 256) & P))
        set_ro_m2p(mfn, true);                  /* fill_ro_mpt() */
    M.cr3 = mfn;
    if (old)
        put_page_type(old);
    M.tlb_gen++;
    atlb_cr3_loaded();                      /* flushed, and refilled as a CPU may speculate */
    return 0;
}

static long new_user_baseptr(unsigned long mfn)
{
    unsigned long old = M.user_cr3;
    long rc;

    if (mfn == old)
        return 0;
    if (mfn) {
        if (!mfn_owned(mfn)) {
            REFUSE("H: NEW_USER_BASEPTR: mfn %#lx is not the domain's", mfn);
            return -EINVAL;
        }
        rc = get_page_type(mfn, FT_L4);
        if (rc)
            return rc;
        if (M.opts.m2p_strict)
            set_ro_m2p(mfn, false);             /* zap_ro_mpt() */
    }
    M.user_cr3 = mfn;
    if (old)
        put_page_type(old);
    return 0;
}

/* The vCPUs' TLBs (vcpus.c): a _LOCAL op reaches this vCPU, _MULTI those in its mask, _ALL all. */
static long flush_op(const struct mmuext_op *op)
{
    bool one = op->cmd == MMUEXT_INVLPG_LOCAL || op->cmd == MMUEXT_INVLPG_ALL ||
               op->cmd == MMUEXT_INVLPG_MULTI;
    unsigned long va = one ? op->arg1.linear_addr : ATLB_ALL;
    unsigned long mask = 1UL << M.vcpu;

    if (op->cmd == MMUEXT_TLB_FLUSH_ALL || op->cmd == MMUEXT_INVLPG_ALL)
        mask = ~0UL;
    if (op->cmd == MMUEXT_TLB_FLUSH_MULTI || op->cmd == MMUEXT_INVLPG_MULTI) {
        if (!op->arg2.vcpumask.p) {
            REFUSE("H: %s without a vcpumask", ext_name(op->cmd));
            return -EFAULT;
        }
        mask = *(const unsigned long *)op->arg2.vcpumask.p;
    }
    atlb_flush(mask, va);
    return 0;
}

static long one_ext(const struct mmuext_op *op)
{
    unsigned long mfn = op->arg1.mfn;
    long rc;

    if (inject_entry(&rc, ext_name(op->cmd)))
        return rc;

    switch (op->cmd) {
    case MMUEXT_PIN_L1_TABLE: return pin(mfn, FT_L1);
    case MMUEXT_PIN_L2_TABLE: return pin(mfn, FT_L2);
    case MMUEXT_PIN_L3_TABLE: return pin(mfn, FT_L3);
    case MMUEXT_PIN_L4_TABLE: return pin(mfn, FT_L4);
    case MMUEXT_UNPIN_TABLE: return unpin(mfn);
    case MMUEXT_NEW_BASEPTR: return new_baseptr(mfn);
    case MMUEXT_NEW_USER_BASEPTR: return new_user_baseptr(mfn);
    case MMUEXT_TLB_FLUSH_LOCAL:
    case MMUEXT_INVLPG_LOCAL:
    case MMUEXT_TLB_FLUSH_ALL:
    case MMUEXT_INVLPG_ALL:
    case MMUEXT_TLB_FLUSH_MULTI:
    case MMUEXT_INVLPG_MULTI:
        M.tlb_gen++;
        return flush_op(op);
    default:
        REFUSE("H: %s is not modelled", ext_name(op->cmd));
        return -ENOSYS;
    }
}

static long do_mmuext_op(struct mmuext_op *op, unsigned int count, unsigned int *done)
{
    unsigned int i;
    long rc = 0;

    for (i = 0; i < count; i++) {
        entry_begin();
        M.stats.entries++;
        trace('e', op[i].cmd, op[i].arg1.mfn);
        rc = one_ext(&op[i]);
        if (rc)
            break;              /* H: stop at the first error */
    }
    if (done)
        *done = i;
    M.tlb_gen++;
    return rc;
}

long model_mmuext_op(struct mmuext_op *op, unsigned int count, unsigned int *done)
{
    long rc;

    M.stats.mmuext_op++;
    if (model_inject_call(&rc, count ? ext_name(op[0].cmd) : "mmuext_op")) {
        snprintf(M.inj.what, sizeof(M.inj.what), "mmuext_op %s", count ? ext_name(op[0].cmd) : "");
        if (done)
            *done = 0;
        return rc;
    }
    return do_mmuext_op(op, count, done);
}

/* -------------------------------------------------------------- update_va_mapping */

static long do_update_va_mapping(unsigned long va, uint64_t val, unsigned long flags)
{
    unsigned long mfn = M.cr3;
    struct frame *f;
    long rc;

    (void)flags;
    entry_begin();
    M.stats.entries++;
    trace('v', va, val);
    if (inject_entry(&rc, "update_va_mapping"))
        return rc;
    if ((va >= XEN_VIRT_FIRST && va < XEN_VIRT_END) ||
        ((long)va >> 47 != 0 && (long)va >> 47 != -1)) {
        REFUSE("V: update_va_mapping(%#lx): not a guest address", va);
        return -EINVAL;
    }
    /* map_guest_l1e(): through the current kernel tables, as the linear map sees them. */
    for (unsigned int level = 4; level > 1; level--) {
        uint64_t e = mfn_owned(mfn) ? mem_read(mfn, PT_INDEX(va, pt_shift(level))) : 0;

        if (!(e & P) || (level == 2 && (e & _PAGE_PSE))) {
            REFUSE("V: update_va_mapping(%#lx): no L1 reachable (L%u entry %#lx)", va, level,
                   (unsigned long)e);
            return -EINVAL;
        }
        mfn = PTE_MFN(e);
    }
    f = mfn_owned(mfn) ? frame_of(mfn) : NULL;
    if (!f || !(f->flags & FF_VALIDATED) || !f->count || f->type != FT_L1) {
        REFUSE("V: update_va_mapping(%#lx): mfn %#lx is not a validated L1", va, mfn);
        return -EINVAL;
    }
    return mod_entry(mfn, PT_INDEX(va, L1_SHIFT), val, 1, false);
}

long model_update_va_mapping(unsigned long va, uint64_t val, unsigned long flags)
{
    long rc;

    M.stats.update_va++;
    if (model_inject_call(&rc, "update_va_mapping"))
        return rc;
    rc = do_update_va_mapping(va, val, flags);
    M.tlb_gen++;
    if (!rc && (flags & UVMF_FLUSHTYPE_MASK) != UVMF_NONE) {
        /* The flush's target: this vCPU, all of them, or a vcpumask's address ORed in. */
        unsigned long target = flags & ~UVMF_FLUSHTYPE_MASK;
        unsigned long mask = target == UVMF_LOCAL ? 1UL << M.vcpu :
                             target == UVMF_ALL ? ~0UL : *(const unsigned long *)target;

        atlb_flush(mask, (flags & UVMF_FLUSHTYPE_MASK) == UVMF_INVLPG ? va : ATLB_ALL);
    }
    return rc;
}

/* -------------------------------------------------------------- multicall */

long model_multicall(multicall_entry_t *calls, unsigned int nr)
{
    long rc;

    M.stats.multicall++;
    if (model_inject_call(&rc, "multicall"))
        return rc;
    /* M: every entry runs, whatever the earlier ones returned. */
    for (unsigned int i = 0; i < nr; i++) {
        multicall_entry_t *c = &calls[i];
        long result;

        switch (c->op) {
        case __HYPERVISOR_mmu_update:
            result = do_mmu_update((mmu_update_t *)c->args[0], c->args[1], (unsigned int *)c->args[2]);
            break;
        case __HYPERVISOR_mmuext_op:
            result = do_mmuext_op((struct mmuext_op *)c->args[0], c->args[1],
                                  (unsigned int *)c->args[2]);
            break;
        case __HYPERVISOR_update_va_mapping:
            M.stats.update_va++;
            result = do_update_va_mapping(c->args[0], c->args[1], c->args[2]);
            break;
        default:
            result = -ENOSYS;
            break;
        }
        if (M.opts.debug)
            memset(c, 0xaa, sizeof(*c));        /* a debug Xen poisons what it ran */
        c->result = result;
    }
    M.tlb_gen++;
    return 0;
}

/* -------------------------------------------------------------- memory_op */

/*
 * PV balloon calls, order-0 extents only.  decrease_reservation names mfns
 * and stops at the first that is not the domain's (returning how many were
 * done); B1: a frame still referenced (mapped writable, or a table) is
 * refused here, where Xen would keep it allocated behind the guest's back.
 * populate_physmap names pfns and answers with new mfns, M2P updated.
 */
static long reservation(unsigned int cmd, struct xen_memory_reservation *r)
{
    xen_pfn_t *list;
    unsigned long i;

    list = r->extent_start.p;
    if (r->extent_order || r->domid != DOMID_SELF)
        return -EINVAL;
    for (i = 0; i < r->nr_extents; i++) {
        long rc;

        entry_begin();
        M.stats.entries++;
        if (inject_entry(&rc, cmd == XENMEM_populate_physmap ? "populate_physmap" : "decrease_reservation"))
            break;
        if (cmd == XENMEM_decrease_reservation) {
            unsigned long mfn = list[i];
            struct frame *f;

            if (!mfn_owned(mfn)) {
                REFUSE("B: decrease_reservation: mfn %#lx is not the domain's", mfn);
                break;
            }
            f = frame_of(mfn);
            if (f->count) {
                REFUSE("B1: decrease_reservation: mfn %#lx is still referenced (%s, type count %u)",
                       mfn, frame_type_name(f->type), f->count);
                model_end_run(OUT_RULE, "%s", M.refusal);
            }
            mem_zero(mfn);              /* first: it drops the frame's run, which its flags name */
            f->owner = OWN_FREE;
            f->type = FT_NONE;
            f->flags = 0;
            model_set_m2p(mfn, ~0UL);
        } else {
            unsigned long mfn;

            if (M.pool_next >= M.pool_end) {
                REFUSE("B: populate_physmap: the machine has no free frame left");
                break;
            }
            mfn = M.pool_next++;
            frame_of(mfn)->owner = OWN_DOM;
            mem_zero(mfn);
            model_set_m2p(mfn, list[i]);
            list[i] = mfn;
        }
    }
    M.tlb_gen++;
    return i;
}

/*
 * xen/common/memory.c: -EOPNOTSUPP without vNUMA; counts short of the
 * domain's: -ENOBUFS, with the counts it needs written back.  One vCPU;
 * distances 10 within a node, 20 across.
 */
static long vnumainfo(struct xen_vnuma_topology_info *t)
{
    const unsigned int nodes = M.nr_vnuma, vcpus = 1;

    if (t->pad)
        return -EINVAL;
    if (t->domid != DOMID_SELF)
        return -ESRCH;
    if (!M.nr_vnuma)
        return -EOPNOTSUPP;
    if (t->nr_vnodes < nodes || t->nr_vcpus < vcpus || t->nr_vmemranges < nodes) {
        t->nr_vnodes = nodes;
        t->nr_vcpus = vcpus;
        t->nr_vmemranges = nodes;
        return -ENOBUFS;
    }
    for (unsigned int i = 0; i < nodes; i++) {
        t->vmemrange.h.p[i] = (xen_vmemrange_t){ .start = M.vnuma[i].start << PAGE_SHIFT,
                                                 .end = M.vnuma[i].end << PAGE_SHIFT, .nid = i };
        for (unsigned int j = 0; j < nodes; j++)
            t->vdistance.h.p[i * nodes + j] = i == j ? 10 : 20;
    }
    t->vcpu_to_vnode.h.p[0] = 0;
    t->nr_vnodes = nodes;
    t->nr_vcpus = vcpus;
    t->nr_vmemranges = nodes;
    return 0;
}

long model_memory_op(unsigned int cmd, void *arg)
{
    long rc;

    M.stats.memory_op++;
    if (model_inject_call(&rc, "memory_op"))
        return rc;
    switch (cmd) {
    case XENMEM_machphys_mapping: {
        struct xen_machphys_mapping *map = arg;

        map->v_start = MACH2PHYS_VIRT_START;
        map->v_end = MACH2PHYS_VIRT_END;
        map->max_mfn = M.opts.dom0 ? M.max_mfn - 1 : MACH2PHYS_NR_ENTRIES - 1;
        return 0;
    }
    case XENMEM_decrease_reservation:
    case XENMEM_populate_physmap:
        return reservation(cmd, arg);
    case XENMEM_get_vnumainfo:
        return vnumainfo(arg);
    default:
        return -ENOSYS;
    }
}

/* -------------------------------------------------------------- vm_assist */

/* VMASST_TYPE_m2p_strict is a flag Xen reads when it fills or zaps L4 slot 256. */
long model_vm_assist(unsigned int cmd, unsigned int type)
{
    long rc;

    M.stats.vm_assist++;
    if (model_inject_call(&rc, "vm_assist"))
        return rc;
    if (type != VMASST_TYPE_m2p_strict || (cmd != VMASST_CMD_enable && cmd != VMASST_CMD_disable))
        return -EINVAL;
    M.opts.m2p_strict = cmd == VMASST_CMD_enable;
    return 0;
}

/* The kernel stack Xen switches to on a trap from ring 3 (any address: Xen checks it when it is used). */
long model_stack_switch(unsigned long sp)
{
    long rc;

    if (model_inject_call(&rc, "stack_switch"))
        return rc;
    M.kernel_sp = sp;
    return 0;
}

/* set_trap_table: the shim only ever clears it (the hand-off), or installs its own at boot (not modelled). */
long model_set_trap_table(const struct trap_info *table)
{
    long rc;

    if (model_inject_call(&rc, "set_trap_table"))
        return rc;
    if (table) {
        REFUSE("H: set_trap_table: only a NULL table is modelled");
        return -EINVAL;
    }
    M.traps_cleared = true;
    return 0;
}

/* -------------------------------------------------------------- boot, GDT, ring 3 */

int model_boot_load_l4(unsigned long l4)
{
    int rc;

    entry_begin();
    rc = get_page_type(l4, FT_L4);          /* v->arch.guest_table */
    if (rc)
        return rc;
    if (!M.opts.m2p_strict)
        set_ro_m2p(l4, true);
    M.cr3 = l4;
    rc = get_page_type(l4, FT_L4);          /* the pin */
    if (rc)
        return rc;
    frame_of(l4)->flags |= FF_PINNED;
    M.tlb_gen++;
    return 0;
}

int model_restore_vcpu(unsigned long l4, unsigned long user_l4)
{
    int rc;

    entry_begin();
    rc = get_page_type(l4, FT_L4);
    if (rc)
        return rc;
    if (!M.opts.m2p_strict && !(mem_read(l4, 256) & P))
        set_ro_m2p(l4, true);
    M.cr3 = l4;
    if (user_l4) {
        rc = get_page_type(user_l4, FT_L4);
        if (rc)
            return rc;
        if (M.opts.m2p_strict)
            set_ro_m2p(user_l4, false);
    }
    M.user_cr3 = user_l4;
    M.tlb_gen++;
    atlb_flush_local(ATLB_ALL);
    return 0;
}

long model_pin(unsigned long mfn, enum frame_type type)
{
    entry_begin();
    return pin(mfn, type);
}

long model_set_gdt(const unsigned long *mfns, unsigned int n)
{
    entry_begin();
    for (unsigned int i = 0; i < n; i++) {
        struct frame *f = mfn_owned(mfns[i]) ? frame_of(mfns[i]) : NULL;

        if (!f || (f->count && f->type != FT_SEG_DESC)) {
            REFUSE("T3: set_gdt: mfn %#lx is %s (type count %u), cannot become seg_desc", mfns[i],
                   f ? frame_type_name(f->type) : "not ours", f ? f->count : 0);
            while (i-- > 0)
                put_page_type(mfns[i]);
            return -EINVAL;
        }
        get_page_type(mfns[i], FT_SEG_DESC);
    }
    return 0;
}

bool model_enter_user(char *why, size_t len)
{
    if (!M.user_cr3) {
        M.crashed = true;
        snprintf(M.crash_msg, sizeof(M.crash_msg),
                 "U1: return to ring 3 with no user page table: domain crashed");
        snprintf(why, len, "%s", M.crash_msg);
        return false;
    }
    if (M.user_cr3 == M.cr3) {
        snprintf(why, len, "U1: the user page table is the kernel L4 (mfn %#lx): ring 3 sees every "
                 "kernel mapping", M.user_cr3);
        return false;
    }
    for (unsigned int s = 256; s < PT_ENTRIES; s++) {
        uint64_t e = mem_read(M.user_cr3, s);

        if (s <= 271 || !(e & P))
            continue;
        snprintf(why, len, "U1: user L4 (mfn %#lx) slot %u = %#lx maps kernel space", M.user_cr3, s,
                 (unsigned long)e);
        return false;
    }
    return true;
}

/* -------------------------------------------------------------- P: what the tools sample */

/*
 * P: the toolstack (save, migration, dump-core) reads shared_info's arch
 * fields while the guest runs, at any moment.  The public header says the
 * linear list's fields are valid once p2m_cr3 is non-zero: so from the
 * first write that makes it non-zero, max_pfn and p2m_vaddr must already
 * hold what a tool needs (a zero max_pfn reads as a list of ~0 pfns).
 * Sampled after every guest write to the shared_info page (vmem.c).
 */
void model_shared_info_written(void)
{
    uint64_t cr3 = mem_read(MFN_SHARED_INFO, SI_ARCH_WORD(p2m_cr3));
    uint64_t max_pfn = mem_read(MFN_SHARED_INFO, SI_ARCH_WORD(max_pfn));
    uint64_t vaddr = mem_read(MFN_SHARED_INFO, SI_ARCH_WORD(p2m_vaddr));

    if (cr3 && (!max_pfn || !vaddr)) {
        REFUSE("P: p2m_cr3 is %#lx while max_pfn is %lu and p2m_vaddr %#lx: a tool sampling now "
               "reads a list it cannot bound", (unsigned long)cr3, (unsigned long)max_pfn,
               (unsigned long)vaddr);
        model_end_run(OUT_RULE, "%s", M.refusal);
    }
}
