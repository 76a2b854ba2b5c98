/* SPDX-License-Identifier: MIT */
/*
 * test_rules.c - one test per rule of ../../../shared/xen-pv-rules.md (and
 * the model's own U and B): each shows the model refusing what Xen refuses,
 * with Xen's error code, and accepting the legal neighbour of the refused
 * operation.  The rule id a refusal names is checked too.
 *
 * The machine: 512 frames for the domain at MFN_DOM_FIRST (pfn = mfn -
 * MFN_DOM_FIRST), a small tree loaded in CR3 and pinned:
 *
 *   L4 (pfn 0)[0] -> L3 (pfn 1)[0] -> L2 (pfn 2)[0] -> L1 (pfn 3)
 *   L1[i] -> data pfn 16 + i, writable, i < 16      (va i pages)
 *   L1[100 + j] -> table pfn j, read-only, j < 4
 *
 * Spare frames: pfns 8..15 (untyped), 32.. (data, unmapped).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "hosted.h"
#include "model.h"

#define P   _PAGE_PRESENT
#define RW  _PAGE_RW
#define US  _PAGE_USER
#define A   _PAGE_ACCESSED
#define D   _PAGE_DIRTY
#define NR  512UL
#define KRW (P | RW | A | D)
#define KRO (P | A)

static unsigned long mfn(unsigned long pfn)
{
    return MFN_DOM_FIRST + pfn;
}

static uint64_t pte(unsigned long pfn, uint64_t flags)
{
    return ((uint64_t)mfn(pfn) << PAGE_SHIFT) | flags;
}

static void setup_opts(struct model_opts o)
{
    model_init(0x2000, &o);       /* [0x1000, 0x2000): populate_physmap's pool */
    model_add_extent(0, MFN_DOM_FIRST, NR, 1);
    model_finish_extents();
    M.nr_pages = NR;
}

/* The base tree, written as a builder would, then loaded and pinned. */
static void setup_tree(struct model_opts o)
{
    setup_opts(o);
    mem_write(mfn(0), 0, pte(1, KRW));
    mem_write(mfn(1), 0, pte(2, KRW));
    mem_write(mfn(2), 0, pte(3, KRW));
    for (unsigned int i = 0; i < 16; i++)
        mem_write(mfn(3), i, pte(16 + i, KRW));
    for (unsigned int j = 0; j < 4; j++)
        mem_write(mfn(3), 100 + j, pte(j, KRO));
    if (model_boot_load_l4(mfn(0)))
        printf("setup: the base tree was refused: %s\n", model_last_refusal());
}

static void setup(bool dom0)
{
    setup_tree(model_default_opts(dom0));
}

static long upd(unsigned long table_mfn, unsigned int slot, uint64_t val)
{
    mmu_update_t r = { .ptr = ((uint64_t)table_mfn << PAGE_SHIFT) + slot * 8, .val = val };
    unsigned int done = 99;

    return model_mmu_update(&r, 1, &done);
}

static long ext(unsigned int cmd, unsigned long arg)
{
    struct mmuext_op op = { .cmd = cmd, .arg1.mfn = arg };
    unsigned int done;

    return model_mmuext_op(&op, 1, &done);
}

static bool refused_by(const char *rule)
{
    return !strncmp(model_last_refusal(), rule, strlen(rule)) &&
           model_last_refusal()[strlen(rule)] == ':';
}

#define CHECK_REFUSED(expr, rc, rule, what) \
    CHECK((expr) == (rc) && refused_by(rule), "[%s] %s (refusal: %s)", rule, what, model_last_refusal())

static bool owned_by_dom(unsigned long m)
{
    return m < M.max_mfn && frame_of(m)->owner == OWN_DOM;
}

static const struct frame *fr(unsigned long pfn)
{
    return frame_of(mfn(pfn));
}

/* ------------------------------------------------------------ T */

static void test_T(void)
{
    unsigned long gdt;

    /* T1: one type at a time: a validated L2 is not an L1, a table is not a GDT. */
    setup(false);
    CHECK_REFUSED(ext(MMUEXT_PIN_L1_TABLE, mfn(2)), -EINVAL, "T2", "T1: pinning the live L2 as an L1");
    gdt = mfn(3);
    CHECK_REFUSED(model_set_gdt(&gdt, 1), -EINVAL, "T3", "T1: an L1 cannot become a GDT frame");
    gdt = mfn(40);
    CHECK(model_set_gdt(&gdt, 1) == 0 && fr(40)->type == FT_SEG_DESC, "T1: a free page becomes seg_desc");
    CHECK_REFUSED(upd(mfn(3), 20, pte(40, KRW)), -EBUSY, "E2", "T1: a GDT frame cannot be mapped writable");
    CHECK(upd(mfn(3), 20, pte(40, KRO)) == 0, "T1: ... read-only it can");

    /* T2: the type changes only at count 0. */
    setup(false);
    CHECK(fr(16)->type == FT_WRITABLE && fr(16)->count == 1, "T2: data page 16 has one writable ref");
    CHECK_REFUSED(ext(MMUEXT_PIN_L1_TABLE, mfn(16)), -EINVAL, "T2", "T2: pin as L1 while mapped writable");
    CHECK(upd(mfn(3), 0, 0) == 0 && fr(16)->count == 0, "T2: unmapping drops the writable ref");
    CHECK(ext(MMUEXT_PIN_L1_TABLE, mfn(16)) == 0 && fr(16)->type == FT_L1,
          "T2: at count 0 it may become an L1");

    /* T3: references: pin, a present L(n+1) entry, CR3. */
    setup(false);
    CHECK(fr(0)->count == 2 && (fr(0)->flags & FF_PINNED), "T3: the L4 has CR3 + pin refs (%u)", fr(0)->count);
    CHECK(fr(3)->count == 1, "T3: the L1 has one ref, from the L2 entry");
    CHECK(ext(MMUEXT_PIN_L1_TABLE, mfn(3)) == 0 && fr(3)->count == 2, "T3: pinning adds one");
    CHECK(upd(mfn(2), 0, 0) == 0 && fr(3)->count == 1 && (fr(3)->flags & FF_VALIDATED),
          "T3: unhooking drops one; the pin keeps it validated");
    CHECK(ext(MMUEXT_UNPIN_TABLE, mfn(3)) == 0 && fr(3)->count == 0 && !(fr(3)->flags & FF_VALIDATED),
          "T3: the last ref gone, it is devalidated");
    CHECK(fr(16)->count == 0, "T3: ... and its writable refs to data pages are released");

    /* T4: the first reference validates, recursively; a failure deep down leaves nothing typed. */
    setup(false);
    mem_write(mfn(8), 0, pte(9, KRW));              /* new L3 -> new L2 -> new L1 */
    mem_write(mfn(9), 0, pte(10, KRW));
    mem_write(mfn(10), 0, pte(32, KRW));
    mem_write(mfn(10), 1, pte(3, KRW));             /* ... which maps a live L1 writable */
    CHECK_REFUSED(upd(mfn(0), 1, pte(8, KRW)), -EBUSY, "E2", "T4: hooking a tree that maps a table RW");
    CHECK(fr(8)->count == 0 && fr(9)->count == 0 && fr(10)->count == 0 && fr(32)->count == 0,
          "T4: the failed validation left no references (%u %u %u %u)", fr(8)->count, fr(9)->count,
          fr(10)->count, fr(32)->count);
    mem_write(mfn(10), 1, pte(3, KRO));
    CHECK(upd(mfn(0), 1, pte(8, KRW)) == 0, "T4: with the alias read-only it validates");
    CHECK(fr(8)->type == FT_L3 && fr(9)->type == FT_L2 && fr(10)->type == FT_L1 &&
          fr(32)->type == FT_WRITABLE && (fr(10)->flags & FF_VALIDATED),
          "T4: types L3/L2/L1/writable, validated recursively");
}

/* ------------------------------------------------------------ F */

static void test_F(void)
{
    setup(false);
    CHECK_REFUSED(upd(mfn(3), 20, pte(33, KRW | (1ULL << 62))), -EINVAL, "F1", "F1: bit 62 in an L1 entry");
    CHECK_REFUSED(upd(mfn(3), 20, pte(33, KRW | _PAGE_PCD)), -EINVAL, "F1", "F1: PCD in a domU");
    CHECK_REFUSED(upd(mfn(3), 20, pte(33, KRW | _PAGE_PWT)), -EINVAL, "F1", "F1: PWT in a domU");
    CHECK_REFUSED(upd(mfn(3), 20, pte(33, KRW | _PAGE_PAT_L1)), -EINVAL, "F1", "F1: PAT in a domU");
    CHECK(upd(mfn(3), 20, pte(33, KRW | _PAGE_GLOBAL | _PAGE_NX | (7ULL << 9) | (1ULL << 55))) == 0,
          "F1: G, NX, avail bits 9-11 and 52-61 are allowed in L1");
    setup(true);
    CHECK(upd(mfn(3), 21, pte(34, KRW | _PAGE_PCD | _PAGE_PWT)) == 0, "F1: PWT/PCD with I/O privileges (dom0)");

    setup(false);
    mem_write(mfn(10), 0, pte(32, KRO));
    CHECK(ext(MMUEXT_PIN_L1_TABLE, mfn(10)) == 0, "F2: (an L1 to hook)");
    CHECK_REFUSED(upd(mfn(2), 1, pte(10, KRW | _PAGE_PSE)), -EINVAL, "F2", "F2: PSE in an L2 entry");
    CHECK_REFUSED(upd(mfn(2), 1, pte(10, KRW | _PAGE_GLOBAL)), -EINVAL, "F2", "F2: G in an L2 entry");
    CHECK_REFUSED(upd(mfn(2), 1, pte(10, KRW | _PAGE_PCD)), -EINVAL, "F2", "F2: PCD in an L2 entry");
    CHECK_REFUSED(upd(mfn(2), 1, pte(10, KRW | _PAGE_PWT)), -EINVAL, "F2", "F2: PWT in an L2 entry");
    CHECK_REFUSED(upd(mfn(1), 1, pte(2, KRO | _PAGE_PSE)), -EINVAL, "F2", "F2: PSE in an L3 entry");
    CHECK_REFUSED(upd(mfn(0), 1, pte(1, KRO | _PAGE_GLOBAL)), -EINVAL, "F2", "F2: G in an L4 entry");
    CHECK(upd(mfn(2), 1, pte(10, KRW | _PAGE_NX)) == 0, "F2: NX is fine in an L2 entry");
}

/* ------------------------------------------------------------ E */

static void test_E(void)
{
    /* E1: targets must be the domain's RAM; MMIO needs iomem permission. */
    setup(false);
    CHECK_REFUSED(upd(mfn(3), 20, ((uint64_t)MFN_OTHER_FIRST << PAGE_SHIFT) | KRO), -EBUSY, "E1",
                  "E1: mapping another domain's frame");
    CHECK_REFUSED(upd(mfn(3), 20, ((uint64_t)MFN_FREE_FIRST << PAGE_SHIFT) | KRO), -EBUSY, "E1",
                  "E1: mapping a free frame");
    CHECK_REFUSED(upd(mfn(3), 20, ((uint64_t)MFN_XEN_PERDOMAIN << PAGE_SHIFT) | KRO), -EBUSY, "E1",
                  "E1: mapping a Xen frame");
    CHECK_REFUSED(upd(mfn(3), 20, ((uint64_t)0xfee00 << PAGE_SHIFT) | KRW), -EPERM, "E1",
                  "E1: MMIO without iomem permission (domU)");
    CHECK_REFUSED(upd(mfn(3), 20, ((uint64_t)0xa0 << PAGE_SHIFT) | KRW), -EPERM, "E1",
                  "E1: dom_io's low memory without iomem permission");
    CHECK_REFUSED(upd(mfn(2), 1, ((uint64_t)MFN_OTHER_FIRST << PAGE_SHIFT) | KRW), -EINVAL, "E1",
                  "E1: an L2 entry to another domain's frame");
    CHECK(upd(mfn(3), 20, ((uint64_t)MFN_SHARED_INFO << PAGE_SHIFT) | KRW) == 0,
          "E1: the shared_info page Xen shares with the domain");
    setup(true);
    CHECK(upd(mfn(3), 20, ((uint64_t)0xfee00 << PAGE_SHIFT) | KRW | _PAGE_PCD) == 0, "E1: MMIO for dom0");

    /* E2/E3: a table or GDT frame writable: refused; read-only: fine. */
    setup(false);
    CHECK_REFUSED(upd(mfn(3), 20, pte(2, KRW)), -EBUSY, "E2", "E2: RW mapping of the live L2");
    CHECK(upd(mfn(3), 20, pte(2, KRO)) == 0, "E3: read-only mapping of the live L2");
    CHECK_REFUSED(upd(mfn(3), 100, pte(0, KRW)), -EBUSY, "E2", "E2: making the L4's RO mapping writable");

    /* E4: a table frame must have no writable alias; the order: clear, RO, then hook. */
    setup(false);
    mem_write(mfn(3), 21, 0);
    CHECK(upd(mfn(3), 21, pte(11, KRW)) == 0, "E4: (page 11 mapped writable)");
    CHECK_REFUSED(upd(mfn(2), 1, pte(11, KRW)), -EINVAL, "E4", "E4: hooking page 11 as an L1 while writable");
    CHECK_REFUSED(ext(MMUEXT_PIN_L1_TABLE, mfn(11)), -EINVAL, "T2", "E4: pinning it while writable");
    CHECK(upd(mfn(3), 21, pte(11, KRO)) == 0 && upd(mfn(2), 1, pte(11, KRW)) == 0,
          "E4: remapped read-only, it can be hooked");
    CHECK_REFUSED(upd(mfn(1), 1, pte(3, KRW)), -EINVAL, "E4", "E4: an L3 entry to an L1 (not typeable as L2)");

    /* E5: linear entries: read-only, to a validated table of the same level. */
    setup(false);
    CHECK(upd(mfn(0), 5, pte(0, KRO)) == 0, "E5: a read-only self-map of the L4");
    CHECK_REFUSED(upd(mfn(0), 6, pte(0, KRW)), -EINVAL, "E5", "E5: a writable self-map");
    CHECK(upd(mfn(2), 7, pte(2, KRO)) == 0, "E5: a read-only L2 self-entry");
    mem_write(mfn(12), 0, 0);
    CHECK(ext(MMUEXT_PIN_L2_TABLE, mfn(12)) == 0, "E5: (another validated L2)");
    CHECK(upd(mfn(2), 8, pte(12, KRO)) == 0 && fr(12)->count == 2, "E5: linear to it takes a ref (%u)",
          fr(12)->count);
    setup_tree((struct model_opts){ .linear_pt = false, .l1tf_check = true, .debug = true });
    CHECK_REFUSED(upd(mfn(0), 5, pte(0, KRO)), -EINVAL, "E5", "E5: pv-linear-pt=false");

    /* E6: Xen rewrites entries: L1 US + bit 52, L2/L3 US, L4 A|US; user pages get G. */
    setup(false);
    CHECK(mem_read(mfn(3), 0) == (pte(16, KRW) | US | _PAGE_GUEST_KERNEL), "E6: kernel L1 entry %#lx",
          (unsigned long)mem_read(mfn(3), 0));
    CHECK(mem_read(mfn(2), 0) == (pte(3, KRW) | US) && mem_read(mfn(1), 0) == (pte(2, KRW) | US),
          "E6: L2/L3 entries gain US");
    CHECK(upd(mfn(0), 1, pte(1, P | RW)) == 0 && mem_read(mfn(0), 1) == (pte(1, P | RW | A | US)) &&
          fr(1)->count == 2, "E6: an L4 entry gains A|US (%#lx)", (unsigned long)mem_read(mfn(0), 1));
    CHECK(upd(mfn(3), 22, pte(35, KRW | US)) == 0 && mem_read(mfn(3), 22) == (pte(35, KRW | US | _PAGE_GLOBAL)),
          "E6: a user L1 entry gains G (%#lx)", (unsigned long)mem_read(mfn(3), 22));
}

/* ------------------------------------------------------------ N */

static void l1tf_update(void *arg)
{
    (void)arg;
    upd(mfn(3), 30, 0x5000);            /* not present, address bits set */
}

static void l1tf_pin(void *arg)
{
    (void)arg;
    mem_write(mfn(13), 7, 0x7000 | D);
    ext(MMUEXT_PIN_L1_TABLE, mfn(13));
}

static void test_N(void)
{
    char msg[256];

    setup(false);
    CHECK(model_run(l1tf_update, NULL, msg, sizeof(msg)) == OUT_CRASH && strstr(msg, "L1TF"),
          "N: a non-present L1 entry with address bits crashes the domain: %s", msg);
    setup(false);
    CHECK(model_run(l1tf_pin, NULL, msg, sizeof(msg)) == OUT_CRASH && strstr(msg, "L1TF"),
          "N: ... found at validation too: %s", msg);
    setup(false);
    CHECK(upd(mfn(3), 30, 0) == 0 && upd(mfn(3), 31, _PAGE_DIRTY | (5ULL << 9)) == 0,
          "N: zero, or flags without an address, is fine");
    CHECK(upd(mfn(3), 32, 1ULL << 47) == 0, "N: an address above the L1TF-safe limit is fine");
    setup_tree((struct model_opts){ .linear_pt = true, .l1tf_check = false, .debug = true });
    CHECK(upd(mfn(3), 30, 0x5000) == 0, "N: a host without L1TF accepts it");
}

/* ------------------------------------------------------------ X */

static void test_X(void)
{
    setup(false);
    for (unsigned int s = 256; s <= 271; s += 5)
        CHECK_REFUSED(upd(mfn(0), s, pte(1, KRO)), -EINVAL, "X", "X: mmu_update of a Xen L4 slot");
    CHECK_REFUSED(upd(mfn(0), 271, 0), -EINVAL, "X", "X: even clearing slot 271");
    CHECK(upd(mfn(0), 255, 0) == 0 && upd(mfn(0), 272, 0) == 0, "X: slots 255 and 272 are the guest's");
    CHECK((mem_read(mfn(0), 256) & P) && (mem_read(mfn(0), 258) >> PAGE_SHIFT & 0xfffffffffUL) == mfn(0),
          "X: Xen filled its slots at pin time (256 RO M2P, 258 linear)");
    /* A not-yet-table L4: guest values in Xen's slots are plain writes, ignored and overwritten. */
    mem_write(mfn(14), 260, pte(33, KRW));
    mem_write(mfn(14), 511, pte(1, KRO));
    CHECK(ext(MMUEXT_PIN_L4_TABLE, mfn(14)) == 0 && fr(33)->count == 0 &&
          PTE_MFN(mem_read(mfn(14), 260)) == MFN_XEN_PERDOMAIN,
          "X: at pin time guest values in 256-271 are ignored and replaced");
    CHECK(!(mem_read(mfn(14), 256) & P), "X: without m2p_strict the M2P slot is filled at NEW_BASEPTR");
    CHECK(ext(MMUEXT_NEW_BASEPTR, mfn(14)) == 0 && (mem_read(mfn(14), 256) & P), "X: ... like this");
    setup_tree((struct model_opts){ .linear_pt = true, .m2p_strict = true, .l1tf_check = true, .debug = true });
    mem_write(mfn(15), 511, pte(1, KRO));
    CHECK(ext(MMUEXT_PIN_L4_TABLE, mfn(15)) == 0 && ext(MMUEXT_NEW_USER_BASEPTR, mfn(15)) == 0 &&
          !(mem_read(mfn(15), 256) & P), "X: m2p_strict: a user L4 gets no M2P slot");
}

/* ------------------------------------------------------------ H */

static void test_H(void)
{
    mmu_update_t req[3];
    struct mmuext_op ops[3] = { { .cmd = MMUEXT_TLB_FLUSH_LOCAL }, { .cmd = MMUEXT_UNPIN_TABLE },
                                { .cmd = MMUEXT_PIN_L1_TABLE } };
    unsigned int done = 99;
    struct xen_machphys_mapping map;

    /* H1: mmu_update stops at the first failure and reports how many were done. */
    setup(false);
    req[0] = (mmu_update_t){ .ptr = (mfn(3) << PAGE_SHIFT) + 40 * 8, .val = pte(33, KRW) };
    req[1] = (mmu_update_t){ .ptr = (mfn(3) << PAGE_SHIFT) + 41 * 8, .val = pte(2, KRW) };
    req[2] = (mmu_update_t){ .ptr = (mfn(3) << PAGE_SHIFT) + 42 * 8, .val = pte(34, KRW) };
    CHECK(model_mmu_update(req, 3, &done) == -EBUSY && done == 1 && mem_read(mfn(3), 40) &&
          !mem_read(mfn(3), 42), "H1: 1 done, the 3rd not executed (done=%u)", done);
    req[0].ptr |= 7;
    CHECK(model_mmu_update(req, 1, &done) == -ENOSYS && done == 0, "H1: unknown command -ENOSYS");

    /* H2: a plain checked write into a frame that is not a table; not into a non-owned one. */
    CHECK(upd(mfn(40), 3, 0x1234) == 0 && mem_read(mfn(40), 3) == 0x1234, "H2: plain write into a data page");
    CHECK_REFUSED(upd(MFN_OTHER_FIRST, 3, 1), -EINVAL, "H", "H2: write into another domain's frame");
    CHECK(upd(mfn(16), 3, 0x77) == 0, "H2: into a page mapped writable (type writable) too");

    /* H3: pin twice / unpin an unpinned frame; mmuext_op stops at the first error. */
    CHECK_REFUSED(ext(MMUEXT_PIN_L4_TABLE, mfn(0)), -EINVAL, "H", "H3: the L4 is already pinned");
    ops[1].arg1.mfn = mfn(3);
    ops[2].arg1.mfn = mfn(41);
    CHECK(model_mmuext_op(ops, 3, &done) == -EINVAL && done == 1 && fr(41)->type != FT_L1,
          "H3: UNPIN of an unpinned table fails, the PIN after it is not run (done=%u)", done);

    /* H4: UNPIN cascades; NEW_BASEPTR/NEW_USER_BASEPTR move references. */
    setup(false);
    mem_write(mfn(20 + 0), 0, 0);
    CHECK(ext(MMUEXT_NEW_USER_BASEPTR, mfn(0)) == 0 && fr(0)->count == 3, "H4: user CR3 takes a ref");
    CHECK(ext(MMUEXT_NEW_USER_BASEPTR, 0) == 0 && fr(0)->count == 2 && !M.user_cr3, "H4: mfn 0 clears it");
    mem_write(mfn(8), 0, pte(1, KRW));
    CHECK(ext(MMUEXT_PIN_L4_TABLE, mfn(8)) == 0 && fr(1)->count == 2, "H4: a second L4 sharing the L3");
    CHECK(ext(MMUEXT_NEW_BASEPTR, mfn(8)) == 0 && M.cr3 == mfn(8) && fr(0)->count == 1 && fr(8)->count == 2,
          "H4: NEW_BASEPTR moves the CR3 ref (%u %u)", fr(0)->count, fr(8)->count);
    CHECK(ext(MMUEXT_UNPIN_TABLE, mfn(0)) == 0 && fr(0)->count == 0 && fr(1)->count == 1,
          "H4: unpinning the old L4 devalidates it; the shared L3 stays (%u)", fr(1)->count);
    CHECK(ext(MMUEXT_UNPIN_TABLE, mfn(8)) == 0 && ext(MMUEXT_NEW_BASEPTR, mfn(0)) == 0 &&
          fr(8)->count == 0 && fr(1)->count == 1 && fr(3)->count == 1,
          "H4: back on the first L4: the second is unreferenced, the tree revalidated");
    CHECK(fr(16)->count == 1, "H4: ... with exactly one writable ref per mapped page (%u)", fr(16)->count);
    CHECK(ext(MMUEXT_PIN_L4_TABLE, mfn(0)) == 0 && ext(MMUEXT_NEW_BASEPTR, mfn(8)) == 0 &&
          ext(MMUEXT_UNPIN_TABLE, mfn(0)) == 0 && fr(3)->count == 1 &&
          ext(MMUEXT_NEW_BASEPTR, mfn(16)) == -EINVAL, "H4: NEW_BASEPTR to a page mapped writable is refused");
    CHECK(ext(MMUEXT_NEW_BASEPTR, mfn(0)) == 0 && ext(MMUEXT_UNPIN_TABLE, mfn(8)) == -EINVAL &&
          fr(8)->count == 0 && fr(1)->count == 1 && fr(2)->count == 1,
          "H4: the last ref of an unpinned L4 gone, its subtree loses that parent (%u)", fr(1)->count);

    /* H5: MACHPHYS_UPDATE. */
    setup(false);
    req[0] = (mmu_update_t){ .ptr = (mfn(50) << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, .val = 0x777 };
    CHECK(model_mmu_update(req, 1, &done) == 0 && model_m2p(mfn(50)) == 0x777, "H5: MACHPHYS_UPDATE");
    req[0].ptr = ((uint64_t)MFN_OTHER_FIRST << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE;
    CHECK_REFUSED(model_mmu_update(req, 1, &done), -EINVAL, "H", "H5: for a frame not ours");

    /* H6: XENMEM_machphys_mapping. */
    CHECK(model_memory_op(XENMEM_machphys_mapping, &map) == 0 && map.v_start == 0xffff800000000000UL &&
          map.max_mfn == MACH2PHYS_NR_ENTRIES - 1, "H6: domU: M2P in slot 256, max_mfn the ABI's");
    setup(true);
    CHECK(model_memory_op(XENMEM_machphys_mapping, &map) == 0 && map.max_mfn == M.max_mfn - 1,
          "H6: dom0: max_mfn is the machine's");
}

/* ------------------------------------------------------------ M */

static void test_M(void)
{
    mmu_update_t r1 = { .ptr = (mfn(3) << PAGE_SHIFT) + 50 * 8, .val = pte(2, KRW) };  /* E2 */
    mmu_update_t r2 = { .ptr = (mfn(3) << PAGE_SHIFT) + 51 * 8, .val = pte(36, KRW) };
    unsigned int d1 = 9, d2 = 9;
    multicall_entry_t mc[3] = {
        { .op = __HYPERVISOR_mmu_update, .args = { (unsigned long)&r1, 1, (unsigned long)&d1, DOMID_SELF } },
        { .op = __HYPERVISOR_update_va_mapping, .args = { 0x5000, pte(37, KRW), UVMF_INVLPG } },
        { .op = __HYPERVISOR_mmu_update, .args = { (unsigned long)&r2, 1, (unsigned long)&d2, DOMID_SELF } },
    };

    setup(false);
    CHECK(model_multicall(mc, 3) == 0, "M1: the multicall itself returns 0");
    CHECK((long)mc[0].result == -EBUSY && d1 == 0, "M1: entry 0 failed on its own (%ld)", (long)mc[0].result);
    CHECK(mc[1].result == 0 && PTE_MFN(mem_read(mfn(3), 5)) == mfn(37), "M1: entry 1 still ran");
    CHECK(mc[2].result == 0 && d2 == 1 && PTE_MFN(mem_read(mfn(3), 51)) == mfn(36), "M1: entry 2 too");
    CHECK(mc[0].op == 0xaaaaaaaaaaaaaaaaUL && mc[2].args[0] == 0xaaaaaaaaaaaaaaaaUL,
          "M2: a debug Xen poisoned the executed entries (op %#lx)", (unsigned long)mc[0].op);
    mc[0].op = 12345;
    CHECK(model_multicall(mc, 1) == 0 && (long)mc[0].result == -ENOSYS, "M1: an unknown op is -ENOSYS in its entry");
}

/* ------------------------------------------------------------ V */

static void test_V(void)
{
    setup(false);
    CHECK(model_update_va_mapping(2 * PAGE_SIZE, pte(38, KRO), UVMF_INVLPG) == 0 &&
          fr(18)->count == 0 && PTE_MFN(mem_read(mfn(3), 2)) == mfn(38), "V1: an L1 reachable from CR3");
    CHECK_REFUSED(model_update_va_mapping(1UL << 30, pte(38, KRO), 0), -EINVAL, "V",
                  "V1: no L1 for the address (L3 entry empty)");
    CHECK_REFUSED(model_update_va_mapping(0xffff800000001000UL, pte(38, KRO), 0), -EINVAL, "V",
                  "V1: an address in Xen's range");
    CHECK_REFUSED(model_update_va_mapping(3 * PAGE_SIZE, pte(1, KRW), 0), -EBUSY, "E2",
                  "V1: the entry itself obeys E2");
}

/* ------------------------------------------------------------ U, B, memory */

static void release_mapped(void *arg)
{
    struct xen_memory_reservation r = { .nr_extents = 1, .domid = DOMID_SELF };

    set_xen_guest_handle(r.extent_start, (xen_pfn_t *)arg);
    model_memory_op(XENMEM_decrease_reservation, &r);
}

static void write_ro(void *arg)
{
    (void)arg;
    vmem_write64(100 * PAGE_SIZE, 1);           /* the L4's read-only mapping */
}

static void read_unmapped(void *arg)
{
    (void)arg;
    vmem_read64(300 * PAGE_SIZE);
}

static void write_m2p(void *arg)
{
    (void)arg;
    vmem_write64(M2P_VIRT_START, 1);
}

static void write_l1_directly(void *arg)
{
    (void)arg;
    vmem_write64(103 * PAGE_SIZE + 8 * 5, pte(20, KRW));   /* L1 (pfn 3) through L1[103] */
}

static void write_l2_directly(void *arg)
{
    (void)arg;
    vmem_write64(102 * PAGE_SIZE, 0);                       /* L2 (pfn 2) through L1[102] */
}

/* W: Xen's ptwr would emulate these writes; the model refuses them, naming the rule. */
static void test_W(void)
{
    char why[256];

    setup(false);
    CHECK(model_run(write_l1_directly, NULL, why, sizeof(why)) == OUT_RULE && refused_by("W") &&
          strstr(why, "L1 table"), "W: a direct write to a hooked L1 through its read-only mapping: %s", why);
    setup(false);
    CHECK(model_run(write_l2_directly, NULL, why, sizeof(why)) == OUT_RULE && refused_by("W") &&
          strstr(why, "L2 table"), "W: the same for an L2: %s", why);
    setup(false);
    CHECK(model_run(write_ro, NULL, why, sizeof(why)) == OUT_RULE && refused_by("W"),
          "W: and for the L4: %s", why);
    setup(false);
    CHECK(upd(mfn(3), 5, pte(20, KRW)) == 0 && PTE_MFN(mem_read(mfn(3), 5)) == mfn(20),
          "W: the same change through mmu_update is fine");
}

static void test_U_B_mem(void)
{
    char why[256];
    xen_pfn_t list[2];
    struct xen_memory_reservation r = { .nr_extents = 2, .domid = DOMID_SELF };

    /* U1: a return to ring 3 needs a user L4 that maps no kernel slot. */
    setup(false);
    CHECK(!model_enter_user(why, sizeof(why)) && M.crashed, "U1: no user page table: %s", why);
    setup(false);
    ext(MMUEXT_NEW_USER_BASEPTR, mfn(0));
    CHECK(!model_enter_user(why, sizeof(why)) && strstr(why, "kernel L4"), "U1: the kernel L4 as user L4: %s", why);
    mem_write(mfn(9), 300, pte(1, KRO));
    CHECK(ext(MMUEXT_PIN_L4_TABLE, mfn(9)) == 0 && ext(MMUEXT_NEW_USER_BASEPTR, mfn(9)) == 0 &&
          !model_enter_user(why, sizeof(why)) && strstr(why, "slot 300"), "U1: a kernel slot in it: %s", why);
    CHECK(upd(mfn(9), 300, 0) == 0 && model_enter_user(why, sizeof(why)), "U1: cleared, ring 3 is fine");

    /* B1: frames go back to Xen only when nothing references them. */
    setup(false);
    list[0] = mfn(16);
    CHECK(model_run(release_mapped, list, why, sizeof(why)) == OUT_RULE && strstr(why, "B1"),
          "B1: releasing a frame still mapped writable: %s", why);
    setup(false);
    list[0] = mfn(60);
    list[1] = MFN_OTHER_FIRST;
    set_xen_guest_handle(r.extent_start, list);
    CHECK(model_memory_op(XENMEM_decrease_reservation, &r) == 1 && fr(60)->owner == OWN_FREE &&
          model_m2p(mfn(60)) == ~0UL, "B: one released, stopped at the frame that is not ours");
    list[0] = 0x9999;
    r.nr_extents = 1;
    CHECK(model_memory_op(XENMEM_populate_physmap, &r) == 1 && owned_by_dom(list[0]) &&
          model_m2p(list[0]) == 0x9999, "B: populate_physmap gives a new frame, M2P set");

    /* Guest accesses: through the tables, faulting like the CPU. */
    setup(false);
    CHECK(model_run(write_ro, NULL, why, sizeof(why)) == OUT_RULE && strstr(why, "read-only mapping"),
          "vmem: a write through a read-only mapping of a table is refused (W): %s", why);
    CHECK(model_run(read_unmapped, NULL, why, sizeof(why)) == OUT_FAULT && strstr(why, "not present"),
          "vmem: a read of an unmapped address faults: %s", why);
    CHECK(vmem_read64(M2P_VIRT_START + mfn(7) * 8) == 7, "vmem: the M2P is readable at slot 256");
    CHECK(model_run(write_m2p, NULL, why, sizeof(why)) == OUT_FAULT, "vmem: and read-only: %s", why);
    vmem_write64(16 * PAGE_SIZE - 8, 0x55);
    CHECK(mem_read(mfn(31), 511) == 0x55, "vmem: a write lands in the mapped frame");
}

/*
 * machine.c keeps the words of an unstored page aside while they come in
 * a run (the shim's allocator links every freed page through its first
 * word; p2m leaves and direct-map L1s go up by one frame a word): every
 * way of reading the page must see them, a word out of the run stores the
 * page, and a zeroed page must not come back with a cached copy of its
 * old words.
 */
static void test_word_run(void)
{
    uint64_t words[512];
    bool runs_ok = true;

    setup(false);
    CHECK(vmem_read64(0) == 0, "run: an unwritten page reads as zero");
    vmem_write64(8, 0x11);
    CHECK(vmem_read64(8) == 0x11 && vmem_read64(0) == 0 && mem_read(mfn(16), 1) == 0x11 &&
          fr(16)->content != FC_STORED && (fr(16)->flags & FF_RUN),
          "run: one word written and read back, the page not stored");
    vmem_write64(8, 0x22);
    mem_read_page(mfn(16), words);
    CHECK(vmem_read64(8) == 0x22 && words[1] == 0x22 && words[0] == 0 && fr(16)->content != FC_STORED,
          "run: the one word rewritten, the page still not stored");
    vmem_write64(16, 0x33);
    CHECK(vmem_read64(16) == 0x33 && vmem_read64(24) == 0, "run: a cached copy sees the next word");
    vmem_write64(24, 0x44);
    vmem_write64(16, 0x33);             /* the value it has: nothing changes */
    mem_read_page(mfn(16), words);
    CHECK(vmem_read64(8) == 0x22 && vmem_read64(16) == 0x33 && vmem_read64(24) == 0x44 &&
          mem_read(mfn(16), 3) == 0x44 && words[1] == 0x22 && words[3] == 0x44 && words[4] == 0 &&
          fr(16)->content != FC_STORED && (fr(16)->flags & FF_RUN),
          "run: three words one step apart, the page still not stored");
    vmem_write64(40, 0x66);             /* word 5: the run would have word 4 next */
    CHECK(vmem_read64(8) == 0x22 && vmem_read64(24) == 0x44 && vmem_read64(32) == 0 &&
          vmem_read64(40) == 0x66 && fr(16)->content == FC_STORED && !(fr(16)->flags & FF_RUN),
          "run: a word out of the run stores the page, every word kept");
    for (unsigned int i = 0; i < 512; i++)      /* a full page going down: L1 entries of a descending extent */
        mem_write(mfn(18), i, 0x7ff000UL - i * PAGE_SIZE + 0x63);
    mem_read_page(mfn(18), words);
    for (unsigned int i = 0; i < 512; i++)
        runs_ok &= words[i] == 0x7ff000UL - i * PAGE_SIZE + 0x63 && mem_read(mfn(18), i) == words[i];
    CHECK(runs_ok && fr(18)->content != FC_STORED, "run: 512 words going down a frame each, not stored");
    for (unsigned int i = 0; i < 512; i++)      /* Xen's adjustment of every entry at once */
        words[i] = i >= 7 && i < 300 ? 0x8010000000000025UL + i * PAGE_SIZE : 0;
    mem_write_page(mfn(19), words);
    CHECK(mem_read(mfn(19), 6) == 0 && mem_read(mfn(19), 7) == 0x8010000000007025UL &&
          mem_read(mfn(19), 299) == words[299] && mem_read(mfn(19), 300) == 0 && fr(19)->content != FC_STORED,
          "run: a whole page written at once whose words form a run is not stored");
    words[100] = 0;
    mem_write_page(mfn(19), words);
    CHECK(mem_read(mfn(19), 100) == 0 && mem_read(mfn(19), 101) == words[101] && fr(19)->content == FC_STORED,
          "run: a whole page written at once with a hole in its run is stored");
    mem_write(mfn(18), 511, 0x63);
    CHECK(mem_read(mfn(18), 511) == 0x63 && mem_read(mfn(18), 510) == 0x7ff000UL - 510 * PAGE_SIZE + 0x63 &&
          fr(18)->content == FC_STORED, "run: the last word changed stores the page");

    /*
     * A run extended inline by the cache, and read through a second,
     * read-only mapping of the frame: the copy that mapping reads from must
     * never miss a word.
     */
    CHECK(upd(mfn(3), 200, pte(20, KRO)) == 0, "run: an alias of pfn 20 mapped");
    for (unsigned int i = 0; i < 3; i++)
        vmem_write64(4 * PAGE_SIZE + i * 8, 0x1000 * (i + 1));
    CHECK(vmem_hit(4 * PAGE_SIZE) && vmem_hit(4 * PAGE_SIZE)->run && vmem_hit(4 * PAGE_SIZE)->run->n == 3 &&
          (fr(20)->flags & FF_RUN_WRITER) && fr(20)->content != FC_STORED,
          "run: the cache holds the run of three words, to append to inline");
    for (unsigned int i = 0; i < 6; i++)       /* past the reads that make a copy */
        runs_ok &= vmem_read64(200 * PAGE_SIZE + 16) == 0x3000 && vmem_read64(200 * PAGE_SIZE + 24) == 0;
    vmem_write64(4 * PAGE_SIZE + 24, 0x4000);
    for (unsigned int i = 0; i < 6; i++)
        runs_ok &= vmem_read64(200 * PAGE_SIZE + 24) == 0x4000 && vmem_read64(200 * PAGE_SIZE + 32) == 0;
    vmem_write64(4 * PAGE_SIZE + 32, 0x5000);
    vmem_write64(4 * PAGE_SIZE + 40, 0x6000);
    for (unsigned int i = 0; i < 6; i++)
        runs_ok &= vmem_read64(200 * PAGE_SIZE + 40) == 0x6000 && vmem_read64(4 * PAGE_SIZE + 40) == 0x6000;
    CHECK(runs_ok && fr(20)->content != FC_STORED,
          "run: a copy read through an alias sees every word the writer appends");
    /* A run dropped under its writer: its pool entry goes to the next run, never to the old writer. */
    for (unsigned int i = 0; i < 3; i++)
        vmem_write64(6 * PAGE_SIZE + i * 8, 0x100 * (i + 1));
    mem_zero(mfn(22));
    vmem_write64(7 * PAGE_SIZE, 0x10);
    vmem_write64(7 * PAGE_SIZE + 8, 0x20);
    vmem_write64(6 * PAGE_SIZE + 16, 0x30);    /* would extend pfn 23's run through a stale pointer */
    CHECK(mem_read(mfn(23), 2) == 0 && mem_read(mfn(22), 2) == 0x30 && mem_read(mfn(22), 0) == 0,
          "run: a zeroed page's writer does not reach the run that reuses its entry (pfn 23 word 2 %#lx)",
          (unsigned long)mem_read(mfn(23), 2));
    /* The pool grows (moves) under a writer. */
    for (unsigned int i = 0; i < 3; i++)
        vmem_write64(8 * PAGE_SIZE + i * 8, 0x100 * (i + 1));
    for (unsigned long m = 0x1000; m < 0x1c00; m++)
        mem_write(m, 0, 1);
    vmem_write64(8 * PAGE_SIZE + 24, 0x400);
    CHECK(mem_read(mfn(24), 3) == 0x400 && vmem_read64(8 * PAGE_SIZE + 24) == 0x400 &&
          fr(24)->content != FC_STORED, "run: a writer appends after the pool has moved");

    vmem_write64(PAGE_SIZE, 0x44);
    CHECK(vmem_read64(PAGE_SIZE) == 0x44, "run: another page");
    mem_zero(mfn(17));
    mem_write(mfn(17), 3, 0x55);        /* as Xen writes (mmu_update): no translation on the way */
    CHECK(vmem_read64(PAGE_SIZE) == 0 && vmem_read64(PAGE_SIZE + 24) == 0x55,
          "run: zeroed, then another word: the old word is gone (%#lx), the new one there (%#lx)",
          (unsigned long)vmem_read64(PAGE_SIZE), (unsigned long)vmem_read64(PAGE_SIZE + 24));
    mem_write_bytes(mfn(17), 0, "x", 1);
    CHECK(vmem_read64(PAGE_SIZE + 24) == 0x55 && (vmem_read64(PAGE_SIZE) & 0xff) == 'x' &&
          fr(17)->content == FC_STORED, "run: stored by a byte write, the word kept");
}

/* ------------------------------------------------------------ P */

#define SI_VA (20 * PAGE_SIZE)      /* shared_info, mapped by test_P */
#define SI_ARCH_VA(field) \
    (SI_VA + offsetof(shared_info_t, arch) + offsetof(struct arch_shared_info, field))

static void publish_cr3_first(void *arg)
{
    (void)arg;
    vmem_write64(SI_ARCH_VA(p2m_cr3), mfn(0) << PAGE_SHIFT);
    vmem_write64(SI_ARCH_VA(max_pfn), NR);
    vmem_write64(SI_ARCH_VA(p2m_vaddr), 0xffffc80000000000UL);
}

static void publish_cr3_last(void *arg)
{
    (void)arg;
    vmem_write64(SI_ARCH_VA(max_pfn), NR);
    vmem_write64(SI_ARCH_VA(p2m_vaddr), 0xffffc80000000000UL);
    vmem_write64(SI_ARCH_VA(p2m_cr3), mfn(0) << PAGE_SHIFT);
}

static void test_P(void)
{
    char why[256];

    setup(false);
    CHECK(upd(mfn(3), 20, ((uint64_t)MFN_SHARED_INFO << PAGE_SHIFT) | KRW) == 0, "P: shared_info mapped");
    CHECK(model_run(publish_cr3_first, NULL, why, sizeof(why)) == OUT_RULE && refused_by("P"),
          "P: p2m_cr3 set while max_pfn is 0: %s", why);
    setup(false);
    CHECK(upd(mfn(3), 20, ((uint64_t)MFN_SHARED_INFO << PAGE_SHIFT) | KRW) == 0, "P: shared_info mapped");
    CHECK(model_run(publish_cr3_last, NULL, why, sizeof(why)) == OUT_NONE,
          "P: max_pfn and p2m_vaddr, then p2m_cr3: %s", why);
}

int main(void)
{
    test_T();
    test_F();
    test_E();
    test_N();
    test_X();
    test_H();
    test_M();
    test_V();
    test_U_B_mem();
    test_word_run();
    test_P();
    test_W();
    model_free();
    return check_done(TEST_NAME);
}
