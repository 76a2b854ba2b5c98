/* SPDX-License-Identifier: MIT */
/*
 * test_p2m.c - shim/pv/p2m.c's linear list built for simulated guests of
 * 16 MiB to 1 TiB of pfn span, on the model, with the real shim sources.
 *
 * Each case boots a guest on the model the way driver.c does (m2p_init,
 * p2m_init_boot, mmu_bringup, mmu_drop_initial_mapping, shared_info in the
 * fixmap), then calls p2m_build(max_pfn, src) with a synthetic source:
 *
 *   pfns below `low`          the booted guest's own mfns (its frames are in
 *                             use: page tables, the allocator's pages)
 *   pfns from `low` on        a pattern: dense, random holes (seeded), big
 *                             holes (whole GiBs, whole 512 GiB), identity
 *                             ranges, or balloon-like (every other leaf);
 *                             real entries past the booted guest get mfns of
 *                             a synthetic extent the model's M2P maps back
 *                             (model_add_extent_unowned).
 *
 * What p2m.c must show, computed here from the source alone, following the
 * sharing rules at the top of p2m.c:
 *   - p2m_stats: a leaf of its own per 512-pfn chunk neither all-missing
 *     nor all-identity; an L1 of its own per 2^18-pfn chunk neither; an L2
 *     of its own per 2^27-pfn chunk not all-missing; one L3; the shared
 *     pages that are reachable (missing leaf/L1/L2, identity leaf/L1);
 *     shared_missing = missing leaf chunks in the L1 chunks below max_pfn;
 *   - the model's own walk of L4[400] finds exactly that many frames, per
 *     level, tables typed as tables, shared leaves read-only and uniform,
 *     real leaves writable and mapped once, all below `low`;
 *   - every pfn (a sample for the big ones) reads back the source's value
 *     through pfn_to_mfn (identity reads as the pfn), past max_pfn reads
 *     INVALID_MFN, and the raw list reads INVALID_MFN up to P2M_MAX_PFNS
 *     without a fault;
 *   - set_phys_to_machine: real leaves appear where shared ones stood (and
 *     L1/L2 copies where those were shared) by exactly the computed count,
 *     the list grows, the M2P follows (MMU_MACHPHYS_UPDATE), p2m_generation
 *     moves by 2 per mapping change and stays even;
 *   - bad input: an M2P that disagrees is an ERROR naming pfn and mfn;
 *   - p2m_tools: shared_info's frame list list -> mid pages -> leaf mfns
 *     equal the p2m area's PTEs; max_pfn, p2m_vaddr, p2m_cr3 (the kernel
 *     L4 in CR3), ~0 with SIF_VIRT_P2M_4TOOLS or past 512 GiB.
 *
 * The five findings this test first made in p2m.c / p2m_tools.c (growth
 * accounting, frame list after growth, max_pfn after an INVALID growth,
 * identity onto identity, a too-large 3-level list) are fixed; their
 * checks are plain checks now, so putting any of them back fails.
 *
 * model_p2m (sanitizers): 16 MiB - 4 GiB, bad input, tools.  model_p2m_fast
 * (-O2): 64 GiB, 1 TiB sparse and 1.5 TiB with a whole 512 GiB missing;
 * with MODEL_BIG=1 (make big, after the suite) a dense 1 TiB and a
 * balloon-like 1 TiB instead.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "driver.h"
#include "pv/batch.h"
#include "lib/lib.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/p2m.h"
#include "pv/page_alloc.h"
#include "pv/start_info.h"

#define MiB     256UL                   /* pages */
#define GiB     262144UL
#define TiB     (1024 * GiB)
#define PER_LEAF 512UL
#define PER_L1  (1UL << 18)
#define PER_L2  (1UL << 27)
#define FRAME_LIST_MAX (1UL << 27)

/* What a child hands back. */
struct child_out {
    unsigned int passed, failed;
    bool done;
};

static struct child_out *OUT;

/* ------------------------------------------------------------ cases */

enum pattern { P_DENSE, P_RANDOM, P_BIGHOLES, P_IDENTITY, P_BALLOON };
static const char *const pattern_name[] = {
    [P_DENSE] = "dense", [P_RANDOM] = "random holes", [P_BIGHOLES] = "big holes",
    [P_IDENTITY] = "identity ranges", [P_BALLOON] = "balloon-like",
};

#define W_SETP2M    0x01    /* set_phys_to_machine scenarios */
#define W_VIRT      0x02    /* also a run with SIF_VIRT_P2M_4TOOLS */
#define W_SELFCHECK 0x04    /* mmu_self_check() over the new list */
#define W_DOM0      0x08    /* boot a dom0 instead of a domU */
#define W_BOOTLIST  0x10    /* p2m_build(boot_pages, NULL): the builder's list (max_pfn = boot_pages) */
#define W_DEBUGXEN  0x20    /* dom0 on a debug Xen (reversed high pfns) */

struct pcase {
    unsigned long boot_pages;   /* the booted guest: RAM pfns [0, boot_pages) */
    unsigned long low;          /* below: the booted guest's own mfns (0: boot_pages) */
    unsigned long max_pfn;
    enum pattern pat;
    uint64_t seed;
    unsigned long density;      /* P_RANDOM: one leaf in `density` is present */
    unsigned long gib_leaves;   /* P_BIGHOLES: present leaves at the start of a present GiB (0: all) */
    unsigned long ram_end;      /* P_DENSE/P_IDENTITY/P_BALLOON: missing from here on (0: none) */
    unsigned long sample;       /* pfns read back at random (0: all of them) */
    unsigned int what;          /* W_* */
};

static const struct pcase *C;
static unsigned long low_pfn, syn_mfn;  /* syn_mfn: the mfn of pfn boot_pages */
static uint32_t tools_flags;            /* for p2m_tools_init */
static struct boot_layout L;

static char *describe(const struct pcase *c, char *buf, size_t len)
{
    unsigned long span = c->max_pfn;

    if (span % GiB == 0)
        snprintf(buf, len, "%lu GiB", span / GiB);
    else if (span % MiB == 0)
        snprintf(buf, len, "%lu MiB", span / MiB);
    else
        snprintf(buf, len, "%lu MiB + %lu pages", span / MiB, span % MiB);
    snprintf(buf + strlen(buf), len - strlen(buf), " %s (boot %lu MiB%s%s)", pattern_name[c->pat],
             c->boot_pages / MiB, c->what & W_DOM0 ? (c->what & W_DEBUGXEN ? " dom0, debug Xen" : " dom0") : "",
             tools_flags ? ", VIRT_P2M_4TOOLS" : "");
    if (c->what & W_BOOTLIST) {
        size_t n = strlen(buf);

        for (size_t i = 0; i + 1 < n; i++)     /* keep the span, replace the rest */
            if (buf[i] == ' ' && !strncmp(buf + i + 1, pattern_name[c->pat], strlen(pattern_name[c->pat]))) {
                snprintf(buf + i, len - i, " from the builder's list (%s%s)",
                         c->what & W_DOM0 ? (c->what & W_DEBUGXEN ? "dom0, debug Xen" : "dom0") : "domU",
                         tools_flags ? ", VIRT_P2M_4TOOLS" : "");
                break;
            }
    }
    return buf;
}

/* ------------------------------------------------------------ the source */

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t hash2(uint64_t a, uint64_t b)
{
    return mix64(a * 0x9e3779b97f4a7c15ULL + b);
}

enum kind { K_REAL, K_HOLE, K_IDENT };

/* The pattern at pfn (>= low, < max_pfn). */
static enum kind kind_of(unsigned long pfn)
{
    unsigned long leaf = pfn >> 9, gib = pfn >> 18;
    unsigned long end = C->ram_end ? C->ram_end : C->max_pfn;

    switch (C->pat) {
    case P_DENSE:
        return pfn < end ? K_REAL : K_HOLE;
    case P_RANDOM: {
        uint64_t hl = hash2(C->seed, leaf), hp;

        if (hl % C->density)
            return K_HOLE;                      /* a missing leaf */
        if ((hl >> 40) % 7 == 0)
            return K_IDENT;                     /* a whole identity leaf */
        hp = hash2(C->seed ^ 0x5bd1e995, pfn);
        if (hp % 8 == 0)
            return K_HOLE;                      /* a hole in a present leaf */
        if (hp % 61 == 1)
            return K_IDENT;
        return K_REAL;
    }
    case P_BIGHOLES:
        if ((pfn >> 27) & 1)
            return K_HOLE;                      /* every other 512 GiB */
        if (gib && hash2(C->seed, gib) % 3)
            return K_HOLE;                      /* two GiB in three */
        if (C->gib_leaves && (leaf & 511) >= C->gib_leaves)
            return K_HOLE;
        return K_REAL;
    case P_IDENTITY:
        if (pfn - (low_pfn + 100) < 3 * PER_LEAF + 7)
            return K_IDENT;                     /* partial leaves around three whole ones */
        if (gib % 4 == 1)
            return K_IDENT;                     /* whole GiBs: identity L1s */
        if (gib % 4 == 2)
            return K_HOLE;
        if (C->max_pfn - pfn <= 700)
            return K_IDENT;                     /* up to the end */
        return pfn < end ? K_REAL : K_HOLE;
    case P_BALLOON:
        return (leaf & 1) || pfn >= end ? K_HOLE : K_REAL;
    }
    return K_HOLE;
}

/* What p2m_build is given for pfn < max_pfn. */
static unsigned long src(unsigned long pfn)
{
    if (pfn < low_pfn)
        return model_p2m(pfn);
    switch (kind_of(pfn)) {
    case K_REAL:
        return model_p2m(pfn);          /* the booted guest's, or the synthetic extent's */
    case K_IDENT:
        return P2M_IDENTITY;
    default:
        return INVALID_MFN;
    }
}

/* ------------------------------------------------------------ the shadow */

/*
 * What the list should be: the source, then the set_phys_to_machine
 * writes (an overlay), and per chunk its kind, as the sharing rules make it.
 */
enum { CK_MISS, CK_IDENT, CK_REAL };

#define MAX_OVERLAY 64

static struct {
    unsigned long max_pfn, len;                 /* built for, and now */
    unsigned long nr_l1c;                       /* L1 chunks below ALIGN_UP(max_pfn, 2^18) */
    uint8_t *leafk, *l1k, l2k[512];
    unsigned long extra_leaf[MAX_OVERLAY], nr_extra_leaf;   /* real leaves past the arrays */
    unsigned long extra_l1[MAX_OVERLAY], nr_extra_l1;
    unsigned long ov_pfn[MAX_OVERLAY], ov_val[MAX_OVERLAY], nr_ov;
    /* Counts. */
    unsigned long leaf, table, shared, shared_missing;
    unsigned long nl1, nl2;
    bool m_leaf, m_l1, m_l2, i_leaf, i_l1;
    unsigned long n_ident_leaf_in_real, n_miss_leaf_in_real, n_ident_l1, n_miss_l1_below, n_miss_l2_below;
} S;

static bool in_list(const unsigned long *a, unsigned long n, unsigned long v)
{
    for (unsigned long i = 0; i < n; i++)
        if (a[i] == v)
            return true;
    return false;
}

static int leaf_kind(unsigned long leaf)
{
    if (leaf < S.nr_l1c * 512)
        return S.leafk[leaf];
    return in_list(S.extra_leaf, S.nr_extra_leaf, leaf) ? CK_REAL : CK_MISS;
}

static int l1_kind(unsigned long c)
{
    if (c < S.nr_l1c)
        return S.l1k[c];
    return in_list(S.extra_l1, S.nr_extra_l1, c) ? CK_REAL : CK_MISS;
}

/* The entry as stored (P2M_IDENTITY for identity), and as pfn_to_mfn reads it. */
static unsigned long stored_val(unsigned long pfn)
{
    for (unsigned long i = S.nr_ov; i-- > 0;)
        if (S.ov_pfn[i] == pfn)
            return S.ov_val[i];
    if (pfn >= S.len || pfn >= S.max_pfn)
        return INVALID_MFN;
    return src(pfn);
}

static unsigned long expect_val(unsigned long pfn)
{
    unsigned long v = stored_val(pfn);

    return v == P2M_IDENTITY ? pfn : v;
}

/* The kind of the 512-pfn chunk from first, pfns past max_pfn missing (p2m.c's rule). */
static int classify_chunk(unsigned long first, unsigned long max_pfn)
{
    bool missing = true, identity = true;

    for (unsigned long pfn = first; pfn < first + PER_LEAF; pfn++) {
        unsigned long v = pfn < max_pfn ? src(pfn) : INVALID_MFN;

        missing &= v == INVALID_MFN;
        identity &= v == P2M_IDENTITY;
        if (!missing && !identity)
            return CK_REAL;
    }
    return missing ? CK_MISS : CK_IDENT;
}

/* The minimum the list needs for [0, max_pfn), from the source alone. */
static void shadow_compute(unsigned long max_pfn)
{
    memset(&S, 0, sizeof(S));
    S.max_pfn = S.len = max_pfn;
    S.nr_l1c = DIV_ROUND_UP(max_pfn, PER_L1);
    S.l1k = calloc(S.nr_l1c, 1);
    S.leafk = calloc(S.nr_l1c * 512, 1);
    if (!S.l1k || !S.leafk)
        abort();
    for (unsigned long t = 0; t < 512; t++) {
        unsigned long first2 = t * PER_L2;
        bool all_missing = true;

        if (first2 >= max_pfn) {
            S.l2k[t] = CK_MISS;
            S.m_l2 = true;
            continue;
        }
        for (unsigned long s = 0; s < 512; s++) {
            unsigned long c = t * 512 + s, first1 = c * PER_L1;
            unsigned long real = 0, ident = 0, miss = 0;

            if (first1 >= max_pfn) {
                S.m_l1 = true;              /* a missing L1 slot in an L2 of its own */
                continue;
            }
            for (unsigned long l = 0; l < 512; l++) {
                int k = classify_chunk(first1 + l * PER_LEAF, max_pfn);

                S.leafk[c * 512 + l] = k;
                real += k == CK_REAL;
                ident += k == CK_IDENT;
                miss += k == CK_MISS;
            }
            if (!real && !ident) {
                S.l1k[c] = CK_MISS;
                S.shared_missing += 512;
                S.m_l1 = true;
                S.n_miss_l1_below++;
            } else if (ident == 512) {
                S.l1k[c] = CK_IDENT;
                S.i_l1 = true;
                S.n_ident_l1++;
                all_missing = false;
            } else {
                S.l1k[c] = CK_REAL;
                S.nl1++;
                S.leaf += real;
                S.shared_missing += miss;
                S.m_leaf |= miss > 0;
                S.i_leaf |= ident > 0;
                S.n_miss_leaf_in_real += miss;
                S.n_ident_leaf_in_real += ident;
                all_missing = false;
            }
        }
        if (all_missing) {
            S.l2k[t] = CK_MISS;
            S.m_l2 = true;
            S.n_miss_l2_below++;
        } else {
            S.l2k[t] = CK_REAL;
            S.nl2++;
        }
    }
    /* A shared page is needed when something maps it (each shared table maps the one below). */
    S.m_l1 |= S.m_l2;
    S.m_leaf |= S.m_l1;
    S.i_leaf |= S.i_l1;
    S.table = 1 + S.nl2 + S.nl1;
    S.shared = S.m_leaf + S.m_l1 + S.m_l2 + S.i_leaf + S.i_l1;
}

/*
 * Which shared pages the list reaches now (after writes a shared page may
 * lose its last user; p2m.c keeps it, as Linux keeps p2m_identity), and
 * the tables of its own, recounted from the chunk kinds.
 */
struct reach {
    unsigned long nl2, nl1;
    bool m_leaf, m_l1, m_l2, i_leaf, i_l1;
    unsigned long shared;
};

static void shadow_reach(struct reach *r)
{
    memset(r, 0, sizeof(*r));
    for (unsigned long t = 0; t < 512; t++) {
        if (S.l2k[t] != CK_REAL) {
            r->m_l2 = true;
            continue;
        }
        r->nl2++;
        for (unsigned long c = t * 512; c < (t + 1) * 512; c++) {
            int k1 = l1_kind(c);

            if (k1 == CK_MISS) {
                r->m_l1 = true;
            } else if (k1 == CK_IDENT) {
                r->i_l1 = true;
            } else {
                r->nl1++;
                for (unsigned long l = c * 512; l < (c + 1) * 512; l++) {
                    int k = leaf_kind(l);

                    r->m_leaf |= k == CK_MISS;
                    r->i_leaf |= k == CK_IDENT;
                }
            }
        }
    }
    r->m_l1 |= r->m_l2;
    r->m_leaf |= r->m_l1;
    r->i_leaf |= r->i_l1;
    r->shared = r->m_leaf + r->m_l1 + r->m_l2 + r->i_leaf + r->i_l1;
}

static void shadow_free(void)
{
    free(S.l1k);
    free(S.leafk);
    S.l1k = S.leafk = NULL;
}

/* ------------------------------------------------------------ the model's view */

/* A set of mfns (open addressing), the level each was found at. */
static unsigned long *set_key;
static uint8_t *set_val;
static unsigned long set_cap;

static void set_reset(unsigned long want)
{
    unsigned long cap = 1024;

    while (cap < 2 * want)
        cap <<= 1;
    if (cap != set_cap) {
        free(set_key);
        free(set_val);
        set_cap = cap;
        set_key = malloc(cap * sizeof(*set_key));
        set_val = malloc(cap);
        if (!set_key || !set_val)
            abort();
    }
    memset(set_key, 0xff, cap * sizeof(*set_key));
}

/* Inserts mfn at level; returns 1 if new, 0 if there already at that level, -1 at another level. */
static int set_add(unsigned long mfn, int level)
{
    unsigned long i = (mfn * 0x9e3779b97f4a7c15UL >> 20) & (set_cap - 1);

    for (; set_key[i] != ~0UL; i = (i + 1) & (set_cap - 1))
        if (set_key[i] == mfn)
            return set_val[i] == level ? 0 : -1;
    set_key[i] = mfn;
    set_val[i] = level;
    return 1;
}

struct walk {
    unsigned long l3, nl2, nl1, nleaf_rw, nleaf_ro, total;
    unsigned long bad;              /* problems found */
    char why[256];
};

#define WALK_BAD(w, ...) do { if (!(w)->bad++) snprintf((w)->why, sizeof((w)->why), __VA_ARGS__); } while (0)

static bool frame_is_table(unsigned long mfn, enum frame_type t)
{
    const struct frame *f = frame_of(mfn);

    return f->type == t && f->count && (f->flags & FF_VALIDATED);
}

/* A frame of the list: the guest's own, below `low` (the pattern never takes it away). */
static void check_frame_pfn(struct walk *w, unsigned long mfn, const char *what)
{
    unsigned long pfn = model_m2p(mfn);

    if (pfn >= low_pfn || model_p2m(pfn) != mfn)
        WALK_BAD(w, "%s mfn %#lx is pfn %#lx: not one of the booted guest's frames below %#lx", what,
                 mfn, pfn, low_pfn);
}

/* Every frame reachable from the kernel L4's slot 400, once, by level. */
static void model_walk(struct walk *w)
{
    uint64_t e4 = mem_read(M.cr3, P2M_L4_SLOT);

    memset(w, 0, sizeof(*w));
    set_reset(S.leaf + S.table + S.shared + 64);
    if (!(e4 & _PAGE_PRESENT)) {
        WALK_BAD(w, "L4[%d] is not present", P2M_L4_SLOT);
        return;
    }
    w->l3 = PTE_MFN(e4);
    set_add(w->l3, 3);
    w->total = 1;
    if (!frame_is_table(w->l3, FT_L3))
        WALK_BAD(w, "the p2m L3 mfn %#lx is not a validated L3", w->l3);
    check_frame_pfn(w, w->l3, "L3");
    for (unsigned int s3 = 0; s3 < 512; s3++) {
        uint64_t e3 = mem_read(w->l3, s3);
        unsigned long l2 = PTE_MFN(e3);
        int n;

        if (!(e3 & _PAGE_PRESENT)) {
            WALK_BAD(w, "L3[%u] is not present", s3);
            continue;
        }
        n = set_add(l2, 2);
        if (n < 0)
            WALK_BAD(w, "mfn %#lx is used at two levels", l2);
        if (n <= 0)
            continue;
        w->nl2++;
        w->total++;
        if (!frame_is_table(l2, FT_L2))
            WALK_BAD(w, "p2m L2 mfn %#lx is not a validated L2", l2);
        check_frame_pfn(w, l2, "L2");
        for (unsigned int s2 = 0; s2 < 512; s2++) {
            uint64_t e2 = mem_read(l2, s2);
            unsigned long l1 = PTE_MFN(e2);

            if (!(e2 & _PAGE_PRESENT)) {
                WALK_BAD(w, "L2 %#lx [%u] is not present", l2, s2);
                continue;
            }
            n = set_add(l1, 1);
            if (n < 0)
                WALK_BAD(w, "mfn %#lx is used at two levels", l1);
            if (n <= 0)
                continue;
            w->nl1++;
            w->total++;
            if (!frame_is_table(l1, FT_L1))
                WALK_BAD(w, "p2m L1 mfn %#lx is not a validated L1", l1);
            check_frame_pfn(w, l1, "L1");
            for (unsigned int s1 = 0; s1 < 512; s1++) {
                uint64_t e1 = mem_read(l1, s1);
                unsigned long leaf = PTE_MFN(e1);
                bool rw = e1 & _PAGE_RW;

                if (!(e1 & _PAGE_PRESENT) || !(e1 & _PAGE_NX)) {
                    WALK_BAD(w, "L1 %#lx [%u] = %#lx: not present, or executable", l1, s1,
                             (unsigned long)e1);
                    continue;
                }
                n = set_add(leaf, rw ? 0 : 4);
                if (n < 0)
                    WALK_BAD(w, "leaf mfn %#lx mapped %s", leaf,
                             rw ? "writable more than once, or both ways" : "both ways");
                else if (n == 0 && rw)
                    WALK_BAD(w, "real leaf mfn %#lx is mapped twice", leaf);
                if (n <= 0)
                    continue;
                w->total++;
                if (rw) {
                    w->nleaf_rw++;
                } else {
                    /* A shared leaf: all INVALID or all IDENTITY, and no writable mapping anywhere. */
                    uint64_t v0 = mem_read(leaf, 0);
                    unsigned long pfn = model_m2p(leaf), m;
                    char why[160];

                    w->nleaf_ro++;
                    if (v0 != INVALID_MFN && v0 != P2M_IDENTITY)
                        WALK_BAD(w, "shared leaf mfn %#lx holds %#lx", leaf, (unsigned long)v0);
                    for (unsigned int i = 1; i < 512; i++)
                        if (mem_read(leaf, i) != v0) {
                            WALK_BAD(w, "shared leaf mfn %#lx is not uniform at %u", leaf, i);
                            break;
                        }
                    if (vmem_translate(pfn_to_virt(pfn), true, &m, why, sizeof(why)))
                        WALK_BAD(w, "shared leaf pfn %#lx is writable in the direct map", pfn);
                }
                if (frame_of(leaf)->type >= FT_L1 && frame_of(leaf)->type <= FT_L4 && frame_of(leaf)->count)
                    WALK_BAD(w, "leaf mfn %#lx is typed as a table", leaf);
                check_frame_pfn(w, leaf, "leaf");
            }
        }
    }
}

/* The leaf mfn the p2m area maps for leaf index i (the model's tables). */
static unsigned long model_leaf_mfn(unsigned long i)
{
    unsigned long va = P2M_VADDR + i * PAGE_SIZE;
    uint64_t e = mem_read(M.cr3, P2M_L4_SLOT);

    e = mem_read(PTE_MFN(e), PT_INDEX(va, L3_SHIFT));
    e = mem_read(PTE_MFN(e), PT_INDEX(va, L2_SHIFT));
    e = mem_read(PTE_MFN(e), PT_INDEX(va, L1_SHIFT));
    return PTE_MFN(e);
}

/* shared_info's arch fields, read from the model's frame. */
#define SI_ARCH(field) mem_read(L.si.shared_info >> PAGE_SHIFT, \
    (offsetof(shared_info_t, arch) + offsetof(struct arch_shared_info, field)) / 8)

/* ------------------------------------------------------------ runs in the model */

static char run_msg[512];

static void boot_fn(void *arg)
{
    start_info_t si;
    char why[320];
    long rc;

    (void)arg;
    rc = m2p_init();
    if (rc)
        model_end_run(OUT_ERROR, "XENMEM_machphys_mapping failed: %ld", rc);
    rc = model_vm_assist(VMASST_CMD_enable, VMASST_TYPE_m2p_strict);
    if (rc)
        model_end_run(OUT_ERROR, "vm_assist(enable, m2p_strict) failed: %ld", rc);
    m2p_strict = true;
    vmem_read_bytes(L.vstartinfo_start, &si, sizeof(si));
    struct boot_bounds b = {
        .virt_base = L.virt_base, .image_end = L.image_end, .mapped_end = L.vstack_end,
        .si_va = L.vstartinfo_start, .m2p_read = m2p_probe,
    };
    if (!start_info_check(&si, &b, why, sizeof(why)))
        model_end_run(OUT_ERROR, "%s", why);
    p2m_init_boot(si.mfn_list, si.nr_pages);

    struct mmu_boot mb = {
        .virt_base = L.virt_base, .image_end = L.image_end, .xen_stack_top = L.vstack_end,
        .pt_base = si.pt_base, .nr_pages = si.nr_pages, .window_va = L.window_va,
        .window_pages = L.window_pages, .p2m_va = si.mfn_list,
    };
    mmu_bringup(&mb);
    mmu_drop_initial_mapping();
    set_fixmap(FIX_SHARED_INFO, si.shared_info >> PAGE_SHIFT, PTE_KERNEL_RW | _PAGE_NX);
    batch_flush();
}

static unsigned long build_max_pfn;
static unsigned long (*build_src)(unsigned long);

static void build_fn(void *arg)
{
    (void)arg;
    p2m_build(build_max_pfn, build_src);
}

static void release_fn(void *arg)
{
    (void)arg;
    p2m_release_boot_list((L.si.mfn_list - L.virt_base) >> PAGE_SHIFT, C->boot_pages);
}

static void tools_fn(void *arg)
{
    (void)arg;
    p2m_tools_init(fix_to_virt(FIX_SHARED_INFO), tools_flags, false);
}

static void selfcheck_fn(void *arg)
{
    (void)arg;
    mmu_self_check("p2m");
}

/* Read back: pfns given by the sampler, compared with expect_val. */
static struct {
    unsigned long checked, bad, first_pfn, first_got, first_want;
} rb;

static void rb_one(unsigned long pfn)
{
    unsigned long got = pfn_to_mfn(pfn), want = expect_val(pfn);

    rb.checked++;
    if (got != want && !rb.bad++)
        rb.first_pfn = pfn, rb.first_got = got, rb.first_want = want;
}

/* A raw read of the list past its length: INVALID_MFN, no fault. */
static void rb_raw(unsigned long pfn)
{
    unsigned long got = plat_read64(P2M_VADDR + pfn * 8);

    rb.checked++;
    if (got != INVALID_MFN && !rb.bad++)
        rb.first_pfn = pfn, rb.first_got = got, rb.first_want = INVALID_MFN;
}

static void readback_fn(void *arg)
{
    unsigned long n = S.max_pfn, len = S.len, sample = C->sample;
    uint64_t seed = C->seed ^ 0xabcdef;

    (void)arg;
    memset(&rb, 0, sizeof(rb));
    if (!sample) {
        for (unsigned long pfn = 0; pfn < n; pfn++)
            rb_one(pfn);
    } else {
        /* Boundaries, the first and last pfn of every L1 chunk, and a random sample. */
        const unsigned long edges[] = { 0, 1, low_pfn - 1, low_pfn, C->boot_pages - 1, C->boot_pages,
                                        C->boot_pages + 1, n - 2, n - 1 };

        for (unsigned int i = 0; i < N_ELEMS(edges); i++)
            if (edges[i] < n)
                rb_one(edges[i]);
        for (unsigned long c = 0; c * PER_L1 < n; c++) {
            unsigned long r = c * PER_L1 + test_rand(&seed) % PER_L1;

            rb_one(c * PER_L1);
            rb_one(c * PER_L1 + PER_L1 - 1 < n ? c * PER_L1 + PER_L1 - 1 : n - 1);
            rb_one(r < n ? r : n - 1);
        }
        for (unsigned long i = 0; i < sample; i++)
            rb_one(test_rand(&seed) % n);
        /* Whole leaves here and there. */
        for (unsigned long i = 0; i < 64; i++) {
            unsigned long first = (test_rand(&seed) % n) & ~(PER_LEAF - 1);

            for (unsigned long p = first; p < first + PER_LEAF && p < n; p++)
                rb_one(p);
        }
    }
    /* What set_phys_to_machine wrote, and a sample of what it grew. */
    for (unsigned long i = 0; i < S.nr_ov; i++)
        rb_one(S.ov_pfn[i]);
    for (unsigned long p = n; p < len; p += 1 + (len - n) / 4099)
        rb_one(p);
    if (len > n)
        rb_one(len - 1);
    /* Past the end: pfn_to_mfn says INVALID, and so does the list itself, up to its limit. */
    {
        const unsigned long past[] = { len, len + 1, ALIGN_UP(len, PER_LEAF), ALIGN_UP(len, PER_LEAF) + 511,
                                       ALIGN_UP(len, PER_L1) + 3, ALIGN_UP(len, PER_L2) + 5,
                                       P2M_MAX_PFNS / 2 + 12345, P2M_MAX_PFNS - 1 };

        for (unsigned int i = 0; i < N_ELEMS(past); i++) {
            if (past[i] >= P2M_MAX_PFNS)
                continue;
            rb_one(past[i]);
            rb_raw(past[i]);
        }
    }
}

/* Around a written pfn, and between the old end of the list and it. */
static struct {
    unsigned long pfn, old_len;
} probe;

static void probe_fn(void *arg)
{
    unsigned long pfn = probe.pfn;

    (void)arg;
    memset(&rb, 0, sizeof(rb));
    for (long d = -600; d <= 600; d += d > -520 && d < 520 ? 1 : 40)
        if ((long)pfn + d >= 0)
            rb_one(pfn + d);
    for (unsigned long p = probe.old_len; p < pfn; p += 1 + (pfn - probe.old_len) / 997)
        rb_one(p);
}

struct set_arg {
    unsigned long pfn, mfn;
};

static void set_fn(void *arg)
{
    struct set_arg *a = arg;

    set_phys_to_machine(a->pfn, a->mfn);
    batch_flush();
}

/* A frame Xen gives the domain (as XENMEM_populate_physmap would): M2P says nothing yet. */
static unsigned long new_mfn(void)
{
    unsigned long mfn = M.pool_next++;

    if (mfn >= M.pool_end)
        abort();
    frame_of(mfn)->owner = OWN_DOM;
    return mfn;
}

/* ------------------------------------------------------------ checks of one case */

static bool run_ok(enum outcome out, const char *what, const char *label)
{
    return CHECK(out == OUT_NONE, "%s: %s: %s: %s (last refusal: %s)", label, what, outcome_name(out),
                 run_msg, model_last_refusal());
}

static unsigned long stats_total(void)
{
    return p2m_stats.leaf_pages + p2m_stats.table_pages + p2m_stats.shared_pages;
}

static bool check_structure(const char *label, const char *when, bool built)
{
    struct walk w;
    struct reach r;
    bool ok = true;

    shadow_reach(&r);
    model_walk(&w);
    ok &= CHECK(!w.bad, "%s %s: the model's walk of the p2m area: %lu problems, first: %s", label, when,
                w.bad, w.why);
    ok &= CHECK(r.nl2 == S.nl2 && r.nl1 == S.nl1, "%s %s: shadow: L2s %lu/%lu, L1s %lu/%lu", label, when,
                r.nl2, S.nl2, r.nl1, S.nl1);
    ok &= CHECK(w.nl2 == r.nl2 + r.m_l2 && w.nl1 == r.nl1 + r.m_l1 + r.i_l1 && w.nleaf_rw == S.leaf &&
                w.nleaf_ro == (unsigned long)(r.m_leaf + r.i_leaf),
                "%s %s: the model finds L2 %lu, L1 %lu, leaves %lu + %lu shared; computed %lu, %lu, "
                "%lu + %u", label, when, w.nl2, w.nl1, w.nleaf_rw, w.nleaf_ro, r.nl2 + r.m_l2,
                r.nl1 + r.m_l1 + r.i_l1, S.leaf, r.m_leaf + r.i_leaf);
    if (built)
        ok &= CHECK(w.total == S.leaf + S.table + S.shared && w.total == stats_total() && r.shared == S.shared,
                    "%s %s: frames of the p2m area: the model counts %lu, computed minimum %lu, p2m_stats %lu",
                    label, when, w.total, S.leaf + S.table + S.shared, stats_total());
    else    /* Shared pages stay once made: p2m_stats counts them, the walk may not reach them all. */
        ok &= CHECK(w.total == S.leaf + S.table + r.shared && stats_total() == w.total + (S.shared - r.shared),
                    "%s %s: frames of the p2m area: the model reaches %lu, computed %lu (+ %lu shared pages "
                    "no longer used), p2m_stats %lu", label, when, w.total, S.leaf + S.table + r.shared,
                    S.shared - r.shared, stats_total());
    return ok;
}

static bool check_stats(const char *label, const char *when, bool sm_exact)
{
    bool ok = CHECK(p2m_stats.leaf_pages == S.leaf && p2m_stats.table_pages == S.table &&
                    p2m_stats.shared_pages == S.shared,
                    "%s %s: p2m_stats leaf=%lu table=%lu shared=%lu, computed %lu/%lu/%lu", label, when,
                    p2m_stats.leaf_pages, p2m_stats.table_pages, p2m_stats.shared_pages, S.leaf, S.table,
                    S.shared);

    if (sm_exact)
        ok &= CHECK(p2m_stats.shared_missing == S.shared_missing,
                    "%s %s: shared_missing=%lu, computed %lu", label, when, p2m_stats.shared_missing,
                    S.shared_missing);
    return ok;
}

static bool check_readback(const char *label, const char *when)
{
    enum outcome out = model_run(readback_fn, NULL, run_msg, sizeof(run_msg));

    if (!CHECK(out == OUT_NONE, "%s %s: reading the list back: %s: %s", label, when, outcome_name(out),
               run_msg))
        return false;
    return CHECK(!rb.bad, "%s %s: %lu of %lu pfns read back wrong; pfn %#lx reads %#lx, want %#lx", label,
                 when, rb.bad, rb.checked, rb.first_pfn, rb.first_got, rb.first_want);
}

/*
 * shared_info after p2m_tools_init.  After growth, every leaf the list
 * covers must be in the frame list, the untouched ones as the missing page.
 */
static bool tools_three_level;
static unsigned long tools_init_len;

static bool written_leaf(unsigned long leaf)
{
    for (unsigned long i = 0; i < S.nr_ov; i++)
        if (S.ov_pfn[i] / PER_LEAF == leaf && S.ov_val[i] != INVALID_MFN)
            return true;
    return false;
}

static void check_tools(const char *label, const char *when, bool after_updates)
{
    unsigned long fll = SI_ARCH(pfn_to_mfn_frame_list_list);
    unsigned long gen = SI_ARCH(p2m_generation);

    CHECK(SI_ARCH(max_pfn) == S.len || after_updates, "%s %s: shared_info max_pfn %lu, list length %lu",
          label, when, (unsigned long)SI_ARCH(max_pfn), S.len);
    CHECK(SI_ARCH(p2m_vaddr) == P2M_VADDR, "%s %s: p2m_vaddr %#lx", label, when,
          (unsigned long)SI_ARCH(p2m_vaddr));
    CHECK(SI_ARCH(p2m_cr3) == M.cr3 << PAGE_SHIFT &&
          SI_ARCH(p2m_cr3) == model_p2m(init_mm.kernel_l4) << PAGE_SHIFT,
          "%s %s: p2m_cr3 %#lx, the kernel L4 in CR3 is mfn %#lx", label, when,
          (unsigned long)SI_ARCH(p2m_cr3), M.cr3);
    CHECK(!(gen & 1), "%s %s: p2m_generation %lu is odd (an update left open)", label, when, gen);

    if (!tools_three_level) {
        CHECK(fll == ~0UL, "%s %s: pfn_to_mfn_frame_list_list %#lx, want ~0 (%s)", label, when, fll,
              tools_flags ? "SIF_VIRT_P2M_4TOOLS" : "more than 512 GiB");
        return;
    }
    if (S.len > FRAME_LIST_MAX &&
        !CHECK(fll == ~0UL, "%s %s: the list grew to %lu pfns, past the 3-level frame "
                "list's %lu, and pfn_to_mfn_frame_list_list is still %#lx", label, when, S.len, FRAME_LIST_MAX,
                fll))
        ;   /* still walked below: what it does describe must be right */
    else if (S.len > FRAME_LIST_MAX)
        return;
    if (!CHECK(fll != ~0UL && fll && mfn_valid(fll) && frame_of(fll)->owner == OWN_DOM,
               "%s %s: pfn_to_mfn_frame_list_list %#lx is not a frame of the domain", label, when, fll))
        return;
    {
        unsigned long leaves = DIV_ROUND_UP(S.len, PER_LEAF), init_leaves = DIV_ROUND_UP(tools_init_len, PER_LEAF);
        unsigned long bad = 0, lag = 0, first = 0, got = 0, want = 0, lag_first = 0, top_bad = 0;
        struct walk w = { 0 };

        if (leaves > FRAME_LIST_MAX / PER_LEAF)
            leaves = FRAME_LIST_MAX / PER_LEAF;
        for (unsigned long m = 0; m < 512; m++) {
            unsigned long mid = mem_read(fll, m);

            if (m * 512 >= leaves) {
                top_bad += mid != 0 && !after_updates;
                continue;
            }
            if (!mid || !mfn_valid(mid)) {
                /* A whole mid page missing: every leaf it stands for lags or is wrong. */
                for (unsigned long i = m * 512; i < leaves && i < (m + 1) * 512; i++) {
                    if (i >= init_leaves && !lag++)
                        lag_first = i;
                    else if (i < init_leaves && !bad++)
                        first = i, got = 0, want = model_leaf_mfn(i);
                }
                continue;
            }
            check_frame_pfn(&w, mid, "frame list mid page");
            for (unsigned long j = 0; j < 512; j++) {
                unsigned long i = m * 512 + j, e = mem_read(mid, j);

                if (i >= leaves) {
                    top_bad += e != 0 && !after_updates;
                    continue;
                }
                if (e == model_leaf_mfn(i))
                    continue;
                if (after_updates && i >= init_leaves && !written_leaf(i)) {
                    if (!lag++)
                        lag_first = i, got = e, want = model_leaf_mfn(i);
                } else if (!bad++) {
                    first = i, got = e, want = model_leaf_mfn(i);
                }
            }
        }
        check_frame_pfn(&w, fll, "frame list list");
        CHECK(!w.bad, "%s %s: %s", label, when, w.why);
        CHECK(!bad, "%s %s: frame list: %lu of %lu leaf mfns differ from the p2m area's PTEs; leaf %lu: "
              "%#lx, the PTE maps %#lx", label, when, bad, leaves, first, got, want);
        CHECK(!top_bad, "%s %s: frame list: %lu entries set past the last leaf", label, when, top_bad);
        if (after_updates)
            CHECK(!lag, "%s %s: frame list after growth: %lu leaves from %lu (first "
                   "grown leaf %lu) differ from the PTEs (first %#lx, PTE %#lx)", label, when, lag,
                   init_leaves, lag_first, got, want);
    }
}

/* ------------------------------------------------------------ set_phys_to_machine */

static unsigned long sm_covered(unsigned long len)
{
    return DIV_ROUND_UP(len, PER_L1);
}

/*
 * One write, predicted from the shadow: a leaf page when the pfn's leaf is
 * shared and the entry changes, an L1 when its L1 is shared, an L2 when
 * its L2 is.
 */
static void one_set(const char *label, const char *what, unsigned long pfn, unsigned long mfn)
{
    unsigned long leaf = pfn >> 9, c1 = pfn >> 18, t = pfn >> 27;
    bool stored_changes = stored_val(pfn) != mfn;
    bool leaf_shared = leaf_kind(leaf) != CK_REAL, l1_shared = l1_kind(c1) != CK_REAL;
    bool ident_on_ident = mfn == P2M_IDENTITY && !stored_changes && leaf_shared;
    bool l2_shared = S.l2k[t] != CK_REAL;
    unsigned long d_leaf = stored_changes && leaf_shared;
    unsigned long d_l1 = d_leaf && l1_shared, d_l2 = d_l1 && l2_shared, d_table = d_l1 + d_l2;
    struct reach r0, r1;
    unsigned long old_len = S.len, new_len = pfn >= S.len ? pfn + 1 : S.len;
    struct p2m_stats before = p2m_stats;
    unsigned long gen0 = SI_ARCH(p2m_generation), gen1, sm_expect;
    static struct walk w0, w1;
    struct set_arg a = { pfn, mfn };
    enum outcome out;
    char lab[200];
    int from_kind = leaf_kind(leaf);

    snprintf(lab, sizeof(lab), "%s: set_phys_to_machine(%#lx, %#lx) [%s]", label, pfn, mfn, what);
    model_walk(&w0);
    shadow_reach(&r0);
    out = model_run(set_fn, &a, run_msg, sizeof(run_msg));
    if (!run_ok(out, "set_phys_to_machine", lab))
        return;
    model_walk(&w1);

    /* The shadow follows what happened (so one finding does not hide the next cases). */
    if (p2m_stats.leaf_pages == before.leaf_pages + 1) {
        if (leaf < S.nr_l1c * 512)
            S.leafk[leaf] = CK_REAL;
        else if (S.nr_extra_leaf < MAX_OVERLAY)
            S.extra_leaf[S.nr_extra_leaf++] = leaf;
        if (c1 < S.nr_l1c)
            S.l1k[c1] = CK_REAL;
        else if (!in_list(S.extra_l1, S.nr_extra_l1, c1) && S.nr_extra_l1 < MAX_OVERLAY)
            S.extra_l1[S.nr_extra_l1++] = c1;
        S.l2k[t] = CK_REAL;
        S.nl1 += l1_shared;
        S.nl2 += l1_shared && l2_shared;
    }
    shadow_reach(&r1);
    if (S.nr_ov < MAX_OVERLAY) {
        S.ov_pfn[S.nr_ov] = pfn;
        S.ov_val[S.nr_ov++] = mfn;
    }
    S.len = new_len;

    if (ident_on_ident) {
        CHECK(p2m_stats.leaf_pages == before.leaf_pages &&
               p2m_stats.table_pages == before.table_pages && w1.total == w0.total &&
               SI_ARCH(p2m_generation) == gen0,
               "%s: an unchanged identity entry: leaf pages %lu -> %lu, frames %lu -> %lu, generation "
               "%lu -> %lu", lab, before.leaf_pages, p2m_stats.leaf_pages, w0.total, w1.total, gen0,
               (unsigned long)SI_ARCH(p2m_generation));
        S.leaf += p2m_stats.leaf_pages - before.leaf_pages;
        S.table += p2m_stats.table_pages - before.table_pages;
    } else {
        CHECK(p2m_stats.leaf_pages - before.leaf_pages == d_leaf &&
              p2m_stats.table_pages - before.table_pages == d_table &&
              p2m_stats.shared_pages == before.shared_pages,
              "%s: p2m_stats leaf +%ld table +%ld shared +%ld, computed +%lu +%lu +0", lab,
              (long)(p2m_stats.leaf_pages - before.leaf_pages), (long)(p2m_stats.table_pages - before.table_pages),
              (long)(p2m_stats.shared_pages - before.shared_pages), d_leaf, d_table);
        CHECK(w1.total - w0.total == d_leaf + d_table - (r0.shared - r1.shared) && !w1.bad,
              "%s: the model's frame count %lu -> %lu, computed +%lu - %lu shared page(s) no longer used (%s)",
              lab, w0.total, w1.total, d_leaf + d_table, r0.shared - r1.shared, w1.bad ? w1.why : "walk ok");
        gen1 = SI_ARCH(p2m_generation);
        CHECK(gen1 - gen0 == 2 * d_leaf && !(gen1 & 1), "%s: p2m_generation %lu -> %lu, want +%lu", lab,
              gen0, gen1, 2 * d_leaf);
        S.leaf += d_leaf;
        S.table += d_table;
    }

    /* shared_missing: the missing leaves of the L1 chunks below the length. */
    sm_expect = S.shared_missing + 512 * (sm_covered(new_len) - sm_covered(old_len)) -
                (p2m_stats.leaf_pages != before.leaf_pages && from_kind == CK_MISS);
    if (sm_covered(new_len) == sm_covered(old_len))
        CHECK(p2m_stats.shared_missing == sm_expect, "%s: shared_missing %lu -> %lu, computed %lu", lab,
              before.shared_missing, p2m_stats.shared_missing, sm_expect);
    else
        CHECK(p2m_stats.shared_missing == sm_expect,
               "%s: growth from %lu to %lu pfns: shared_missing %lu -> %lu, computed %lu (the missing "
               "leaves of the L1 chunks below the new length)", lab, old_len, new_len,
               before.shared_missing, p2m_stats.shared_missing, sm_expect);
    S.shared_missing = p2m_stats.shared_missing;        /* follow the shim from here */

    CHECK(p2m_nr_pages() == new_len, "%s: list length %lu, want %lu", lab, p2m_nr_pages(), new_len);
    if (mfn == INVALID_MFN && new_len > old_len)
        CHECK(SI_ARCH(max_pfn) == new_len,
               "%s: shared_info max_pfn %lu after the list grew to %lu", lab, (unsigned long)SI_ARCH(max_pfn),
               new_len);
    else
        CHECK(SI_ARCH(max_pfn) == p2m_nr_pages(), "%s: shared_info max_pfn %lu, list length %lu", lab,
              (unsigned long)SI_ARCH(max_pfn), p2m_nr_pages());
    if (mfn != INVALID_MFN && mfn != P2M_IDENTITY)
        CHECK(model_m2p(mfn) == pfn, "%s: the M2P maps mfn %#lx to %#lx, want %#lx (MMU_MACHPHYS_UPDATE)",
              lab, mfn, model_m2p(mfn), pfn);
    /* The pfn, its leaf, and the pfns between the old end and it. */
    probe.pfn = pfn;
    probe.old_len = old_len;
    out = model_run(probe_fn, NULL, run_msg, sizeof(run_msg));
    if (CHECK(out == OUT_NONE, "%s: reading back around it: %s: %s", lab, outcome_name(out), run_msg))
        CHECK(!rb.bad, "%s: %lu of %lu pfns around it (or between the old end %#lx and it) read wrong; pfn "
              "%#lx reads %#lx, want %#lx", lab, rb.bad, rb.checked, old_len, rb.first_pfn, rb.first_got,
              rb.first_want);
}

/* A pfn of the given kinds (leaf, L1, L2; -1: any) at or after from: a hole or not. */
static unsigned long find_pfn(int want_leaf_kind, int want_l1_kind, int want_l2_kind, bool want_pfn_hole,
                              unsigned long from)
{
    for (unsigned long c = from >> 18; c < S.nr_l1c; c++) {
        if (want_l2_kind >= 0 && S.l2k[c >> 9] != want_l2_kind)
            continue;
        if (want_l1_kind >= 0 && S.l1k[c] != want_l1_kind)
            continue;
        for (unsigned long l = c * 512; l < (c + 1) * 512; l++) {
            unsigned long first = l * PER_LEAF;

            if (first < from || first >= S.max_pfn)
                continue;
            if (want_leaf_kind >= 0 && S.leafk[l] != want_leaf_kind)
                continue;
            for (unsigned long p = first + 37; p < first + PER_LEAF && p < S.max_pfn; p++) {
                unsigned long v = src(p);

                if (want_pfn_hole ? v == INVALID_MFN : (want_leaf_kind != CK_REAL || (v != INVALID_MFN &&
                                                                                     v != P2M_IDENTITY)))
                    return p;
            }
        }
    }
    return ~0UL;
}

static void set_scenarios(const char *label)
{
    unsigned long from = low_pfn, p;

    /* A present pfn moved to a new frame: no page, the M2P follows. */
    p = find_pfn(CK_REAL, CK_REAL, CK_REAL, false, from);
    if (p != ~0UL)
        one_set(label, "a present pfn, new mfn", p, new_mfn());
    p = find_pfn(CK_REAL, CK_REAL, CK_REAL, true, from);
    if (p != ~0UL)
        one_set(label, "a hole in a present leaf", p, new_mfn());
    /* A missing leaf under an L1 of its own, then a second pfn of that leaf. */
    p = find_pfn(CK_MISS, CK_REAL, CK_REAL, true, from);
    if (p != ~0UL) {
        one_set(label, "a missing leaf in a present L1", p, new_mfn());
        one_set(label, "the same leaf again", p + 3 < ALIGN_UP(p + 1, PER_LEAF) ? p + 3 : p - 3, new_mfn());
    }
    p = find_pfn(-1, CK_MISS, CK_REAL, true, from);
    if (p != ~0UL)
        one_set(label, "a missing L1 in a present L2", p, new_mfn());
    for (unsigned long t = 0; t * PER_L2 < S.max_pfn; t++)
        if (S.l2k[t] == CK_MISS) {
            one_set(label, "a missing L2 below max_pfn", t * PER_L2 + 777, new_mfn());
            break;
        }
    p = find_pfn(CK_IDENT, CK_REAL, CK_REAL, false, from);
    if (p != ~0UL) {
        one_set(label, "an identity leaf in a present L1", p, new_mfn());
        p = find_pfn(CK_IDENT, CK_REAL, CK_REAL, false, from);
        if (p != ~0UL)
            one_set(label, "P2M_IDENTITY onto an identity pfn", p, P2M_IDENTITY);
    }
    p = find_pfn(-1, CK_IDENT, CK_REAL, false, from);
    if (p != ~0UL)
        one_set(label, "an identity L1", p, new_mfn());
    p = find_pfn(CK_MISS, -1, -1, true, from);
    if (p != ~0UL)
        one_set(label, "INVALID_MFN onto a missing pfn", p, INVALID_MFN);

}

static void growth_scenarios(const char *label)
{
    /* Growth: the next pfn, a new L1 (as balloon.c's far pfn), a new L2, and with INVALID_MFN. */
    one_set(label, "growth by one pfn", S.len, new_mfn());
    one_set(label, "growth into a new L1", ALIGN_UP(S.len, PER_L1) + PER_L1 + 5, new_mfn());
    if (ALIGN_UP(S.len, PER_L2) + PER_L2 + 9 < P2M_MAX_PFNS)
        one_set(label, "growth into a new L2", ALIGN_UP(S.len, PER_L2) + PER_L2 + 9, new_mfn());
    one_set(label, "growth with INVALID_MFN", S.len + 1000, INVALID_MFN);
}

static void limit_fn(void *arg)
{
    (void)arg;
    set_phys_to_machine(P2M_MAX_PFNS, 0x1234);
}

/* ------------------------------------------------------------ one case, in a child */

static bool setup_guest(const struct pcase *c, const char *label)
{
    struct boot_cfg bc = { .builder = c->what & W_DOM0 ? BUILD_DOM0 : BUILD_DOMU, .nr_pages = c->boot_pages,
                           .debug_xen = c->what & W_DEBUGXEN };
    unsigned long span = c->max_pfn > c->boot_pages ? c->max_pfn - c->boot_pages : 0;
    enum outcome out;

    C = c;
    low_pfn = c->low ? c->low : c->boot_pages;
    hosted_log_reset();
    if (!CHECK(!build_boot(&bc, &L), "%s: builder: %s", label, L.err))
        return false;
    /* Frames for the synthetic part, above everything the builder made (and the populate pool). */
    syn_mfn = ALIGN_UP(M.max_mfn, 512UL);
    model_grow(syn_mfn + span + 512);
    model_finish_extents();
    out = model_run(boot_fn, NULL, run_msg, sizeof(run_msg));
    if (!run_ok(out, "boot", label))
        return false;
    if (span) {
        model_add_extent_unowned(c->boot_pages, syn_mfn, span);
        model_finish_extents();
    }
    return true;
}

static void case_child(const struct pcase *c)
{
    char label[200];
    enum outcome out;

    describe(c, label, sizeof(label));
    if (!setup_guest(c, label))
        return;
    shadow_compute(c->max_pfn);

    build_max_pfn = c->max_pfn;
    build_src = c->what & W_BOOTLIST ? NULL : src;
    out = model_run(build_fn, NULL, run_msg, sizeof(run_msg));
    if (!run_ok(out, "p2m_build", label))
        return;
    CHECK(p2m_nr_pages() == c->max_pfn && p2m_list_va() == P2M_VADDR, "%s: the list: %lu pfns at %#lx",
          label, p2m_nr_pages(), p2m_list_va());
    check_stats(label, "after p2m_build", true);
    check_structure(label, "after p2m_build", true);
    /* The pattern exercised what it is for. */
    switch (c->pat) {
    case P_RANDOM:
        CHECK(S.n_miss_leaf_in_real && S.n_ident_leaf_in_real, "%s: coverage: missing %lu and identity %lu "
              "leaves in present L1s", label, S.n_miss_leaf_in_real, S.n_ident_leaf_in_real);
        break;
    case P_BIGHOLES:
        CHECK(c->max_pfn < 2 * GiB || S.n_miss_l1_below, "%s: coverage: missing L1s below max_pfn", label);
        CHECK(c->max_pfn <= PER_L2 || S.n_miss_l2_below, "%s: coverage: missing L2s below max_pfn", label);
        break;
    case P_IDENTITY:
        CHECK(S.n_ident_leaf_in_real && (c->max_pfn < 2 * GiB || S.n_ident_l1),
              "%s: coverage: identity leaves %lu, identity L1s %lu", label, S.n_ident_leaf_in_real,
              S.n_ident_l1);
        break;
    case P_BALLOON:
        CHECK(S.n_miss_leaf_in_real + 1 >= S.leaf - low_pfn / PER_LEAF, "%s: coverage: %lu missing leaves "
              "between %lu present", label, S.n_miss_leaf_in_real, S.leaf - low_pfn / PER_LEAF);
        break;
    default:
        break;
    }
    if (check_verbose())
        printf("  %s: leaf %lu table %lu shared %lu (L2 %lu, L1 %lu; missing L1s %lu, L2s %lu, identity L1s "
               "%lu) shared_missing %lu\n", label, S.leaf, S.table, S.shared, S.nl2, S.nl1,
               S.n_miss_l1_below, S.n_miss_l2_below, S.n_ident_l1, S.shared_missing);

    check_readback(label, "after p2m_build");

    out = model_run(release_fn, NULL, run_msg, sizeof(run_msg));
    run_ok(out, "p2m_release_boot_list", label);

    out = model_run(tools_fn, NULL, run_msg, sizeof(run_msg));
    if (!run_ok(out, "p2m_tools_init", label))
        return;
    tools_three_level = !tools_flags && c->max_pfn <= FRAME_LIST_MAX;
    tools_init_len = S.len;
    check_tools(label, "after p2m_tools_init", false);
    CHECK(SI_ARCH(p2m_generation) == 0, "%s: p2m_generation starts at %lu", label,
          (unsigned long)SI_ARCH(p2m_generation));

    if (c->what & W_SELFCHECK) {
        out = model_run(selfcheck_fn, NULL, run_msg, sizeof(run_msg));
        run_ok(out, "mmu_self_check over the new list", label);
    }
    if (c->what & W_SETP2M) {
        set_scenarios(label);
        check_stats(label, "after the writes", false);
        check_structure(label, "after the writes", false);
        if (c->what & W_SELFCHECK) {
            out = model_run(selfcheck_fn, NULL, run_msg, sizeof(run_msg));
            run_ok(out, "mmu_self_check after the writes", label);
        }
        growth_scenarios(label);
        check_stats(label, "after growth", false);
        check_structure(label, "after growth", false);
        check_readback(label, "after growth");
        check_tools(label, "after growth", true);
        /* Past the list's limit: an ERROR, nothing written. */
        out = model_run(limit_fn, NULL, run_msg, sizeof(run_msg));
        {
            char want[160];

            snprintf(want, sizeof(want), "set_phys_to_machine: pfn %#lx beyond the list's limit",
                     P2M_MAX_PFNS);
            CHECK(out == OUT_ERROR && !strcmp(run_msg, want), "%s: set_phys_to_machine(P2M_MAX_PFNS): %s \"%s\"",
                  label, outcome_name(out), run_msg);
        }
    }
    shadow_free();
}

/* ------------------------------------------------------------ bad input */

enum bad { BAD_OTHER_PFN, BAD_NO_M2P, BAD_BEYOND_M2P, BAD_SWAP_LOW, BAD_TOO_BIG, NR_BAD };

static unsigned long bad_pfn, bad_mfn, bad_pfn2;

static unsigned long bad_src(unsigned long pfn)
{
    if (pfn == bad_pfn || pfn == bad_pfn2)
        return bad_mfn;
    return src(pfn);
}

static void bad_child(enum bad k)
{
    static const struct pcase c = { .boot_pages = 16 * MiB, .max_pfn = 64 * MiB, .pat = P_DENSE };
    char label[200], want[320];
    enum outcome out;
    unsigned long m2p_of;

    snprintf(label, sizeof(label), "bad input %d", (int)k);
    if (!setup_guest(&c, label))
        return;
    switch (k) {
    case BAD_OTHER_PFN:         /* the mfn of another pfn */
        bad_pfn = c.boot_pages + 1234;
        bad_pfn2 = bad_pfn + 700;
        bad_mfn = model_p2m(bad_pfn + 1);
        break;
    case BAD_NO_M2P:            /* a frame the M2P knows nothing of */
        bad_pfn = c.boot_pages + 5 * 512 + 17;
        bad_pfn2 = ~0UL;
        bad_mfn = new_mfn();
        break;
    case BAD_BEYOND_M2P:        /* past the M2P's end */
        bad_pfn = c.boot_pages + 99;
        bad_pfn2 = ~0UL;
        bad_mfn = MACH2PHYS_NR_ENTRIES + 5;
        break;
    case BAD_SWAP_LOW:          /* the booted guest's own pfns, two mfns swapped */
        bad_pfn = 700;
        bad_pfn2 = ~0UL;
        bad_mfn = model_p2m(701);
        break;
    default:
        break;
    }
    m2p_of = k == BAD_BEYOND_M2P ? INVALID_PFN : model_m2p(bad_mfn);
    build_max_pfn = k == BAD_TOO_BIG ? P2M_MAX_PFNS + 1 : c.max_pfn;
    build_src = bad_src;
    out = model_run(build_fn, NULL, run_msg, sizeof(run_msg));
    if (k == BAD_TOO_BIG)
        snprintf(want, sizeof(want), "p2m: %lu pfns exceed the list's %lu", P2M_MAX_PFNS + 1, P2M_MAX_PFNS);
    else
        snprintf(want, sizeof(want), "p2m: pfn %#lx -> mfn %#lx, but the M2P maps mfn %#lx to pfn %#lx",
                 bad_pfn, bad_mfn, bad_mfn, m2p_of);
    CHECK(out == OUT_ERROR && !strcmp(run_msg, want), "%s: p2m_build: %s \"%s\", want ERROR \"%s\"", label,
          outcome_name(out), run_msg, want);
    CHECK(!(mem_read(M.cr3, P2M_L4_SLOT) & _PAGE_PRESENT) && p2m_list_va() != P2M_VADDR,
          "%s: the list was hooked or switched to despite the error", label);
}

/* ------------------------------------------------------------ the parent */

static void in_child(const char *what, void (*fn)(const void *), const void *arg, unsigned int timeout)
{
    struct child_out *out = mmap(NULL, sizeof(*out), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct timespec t0, t1;
    pid_t pid;
    int status = 0;

    if (out == MAP_FAILED) {
        CHECK(false, "%s: mmap", what);
        return;
    }
    memset(out, 0, sizeof(*out));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid == 0) {
        OUT = out;
        check_passed = check_failed = 0;
        alarm(timeout);
        fn(arg);
        out->passed = check_passed;
        out->failed = check_failed;
        out->done = true;
        fflush(stdout);
        _exit(0);
    }
    if (pid < 0) {
        CHECK(false, "%s: fork", what);
        munmap(out, sizeof(*out));
        return;
    }
    while (waitpid(pid, &status, 0) < 0)
        ;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    check_passed += out->passed;
    check_failed += out->failed;
    CHECK(out->done && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "%s: the child died after %.0f s (status %#x): %s", what,
          (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9, status,
          WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? "killed by its hang limit"
                                                             : "crash or sanitizer report");
    if (check_verbose() || !strcmp(TEST_VARIANT, "fast"))
        printf("  %s: %.2fs\n", what, (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
    munmap(out, sizeof(*out));
}

static void case_fn(const void *arg)
{
    case_child(arg);
}

static void bad_fn(const void *arg)
{
    bad_child((enum bad)(long)arg);
}

static void run_case(const struct pcase *c, unsigned int timeout)
{
    char label[200];

    tools_flags = 0;
    describe(c, label, sizeof(label));
    in_child(label, case_fn, c, timeout);
    if (c->what & W_VIRT) {
        tools_flags = SIF_VIRT_P2M_4TOOLS;
        describe(c, label, sizeof(label));
        in_child(label, case_fn, c, timeout);
        tools_flags = 0;
    }
}

int main(void)
{
    const bool fast = !strcmp(TEST_VARIANT, "fast");
    const char *env = getenv("MODEL_BIG");
    const bool big = env && *env == '1';

    /* 16 MiB - 4 GiB with sanitizers: every pfn read back. */
    static const struct pcase small[] = {
        /* What setup.c does: p2m_build(nr_pages, NULL), the builder's list as the source. */
        { .boot_pages = 16 * MiB, .max_pfn = 16 * MiB, .what = W_BOOTLIST | W_SETP2M | W_SELFCHECK },
        { .boot_pages = 100 * MiB + 3, .max_pfn = 100 * MiB + 3, .what = W_BOOTLIST | W_DOM0 | W_SELFCHECK },
        { .boot_pages = 512 * MiB, .max_pfn = 512 * MiB, .what = W_BOOTLIST | W_DOM0 | W_DEBUGXEN | W_SETP2M },
        { .boot_pages = 300 * MiB + 77, .max_pfn = 300 * MiB + 77, .what = W_BOOTLIST | W_SETP2M | W_VIRT },
        /* 16 MiB: the booted guest is the whole span; the pattern from pfn 1536 (its frames are below). */
        { .boot_pages = 16 * MiB, .low = 1536, .max_pfn = 16 * MiB, .pat = P_DENSE, .what = W_SETP2M | W_VIRT },
        { .boot_pages = 16 * MiB, .low = 1536, .max_pfn = 16 * MiB, .pat = P_RANDOM, .seed = 4, .density = 2,
          .what = W_SETP2M },
        { .boot_pages = 16 * MiB, .low = 1536, .max_pfn = 16 * MiB, .pat = P_IDENTITY, .what = W_SETP2M },
        { .boot_pages = 16 * MiB, .low = 1536, .max_pfn = 16 * MiB, .pat = P_BALLOON, .what = W_SETP2M },
        /* 256 MiB (and one that is not a whole number of leaves). */
        { .boot_pages = 64 * MiB, .max_pfn = 256 * MiB, .pat = P_DENSE, .what = W_SETP2M | W_SELFCHECK },
        { .boot_pages = 64 * MiB, .max_pfn = 256 * MiB, .pat = P_DENSE, .what = W_SETP2M | W_DOM0 },
        { .boot_pages = 64 * MiB, .max_pfn = 256 * MiB, .pat = P_RANDOM, .seed = 2, .density = 2,
          .what = W_SETP2M | W_VIRT | W_SELFCHECK },
        { .boot_pages = 64 * MiB, .max_pfn = 256 * MiB + 77, .pat = P_IDENTITY, .what = W_SETP2M | W_SELFCHECK },
        { .boot_pages = 64 * MiB, .max_pfn = 256 * MiB, .pat = P_BALLOON, .what = W_SETP2M },
        /* 4 GiB: whole GiBs missing, identity GiBs. */
        { .boot_pages = 64 * MiB, .max_pfn = 4 * GiB, .pat = P_DENSE, .what = W_SETP2M },
        { .boot_pages = 64 * MiB, .max_pfn = 4 * GiB, .pat = P_RANDOM, .seed = 3, .density = 3,
          .what = W_SETP2M },
        { .boot_pages = 64 * MiB, .max_pfn = 4 * GiB, .pat = P_BIGHOLES, .seed = 7, .what = W_SETP2M | W_VIRT |
          W_SELFCHECK },
        { .boot_pages = 64 * MiB, .max_pfn = 4 * GiB, .pat = P_IDENTITY, .what = W_SETP2M | W_SELFCHECK },
        { .boot_pages = 64 * MiB, .max_pfn = 4 * GiB, .pat = P_BALLOON, .ram_end = 2 * GiB, .what = W_SETP2M },
    };
    /* 64 GiB and 1 TiB without sanitizers: a sample read back. */
    static const struct pcase large[] = {
        { .boot_pages = 256 * MiB, .max_pfn = 64 * GiB, .pat = P_DENSE, .sample = 1 << 20, .what = W_SETP2M },
        { .boot_pages = 64 * MiB, .max_pfn = 64 * GiB, .pat = P_RANDOM, .seed = 4, .density = 16,
          .sample = 1 << 20, .what = W_SETP2M | W_VIRT | W_SELFCHECK },
        { .boot_pages = 64 * MiB, .max_pfn = 64 * GiB, .pat = P_BIGHOLES, .seed = 5, .sample = 1 << 20,
          .what = W_SETP2M | W_SELFCHECK },
        { .boot_pages = 64 * MiB, .max_pfn = 64 * GiB, .pat = P_IDENTITY, .ram_end = 8 * GiB, .sample = 1 << 20,
          .what = W_SETP2M },
        { .boot_pages = 64 * MiB, .max_pfn = 64 * GiB, .pat = P_BALLOON, .ram_end = 16 * GiB, .sample = 1 << 20,
          .what = W_SETP2M },
        { .boot_pages = 64 * MiB, .max_pfn = TiB, .pat = P_RANDOM, .seed = 6, .density = 256, .sample = 1 << 20,
          .what = W_SETP2M },
        { .boot_pages = 64 * MiB, .max_pfn = TiB, .pat = P_BIGHOLES, .seed = 8, .gib_leaves = 4,
          .sample = 1 << 20, .what = W_SETP2M },
        { .boot_pages = 64 * MiB, .max_pfn = TiB, .pat = P_IDENTITY, .ram_end = 4 * GiB, .sample = 1 << 20,
          .what = W_SETP2M },
        /* A whole missing 512 GiB with present memory after it. */
        { .boot_pages = 64 * MiB, .max_pfn = TiB + TiB / 2, .pat = P_BIGHOLES, .seed = 9, .gib_leaves = 8,
          .sample = 1 << 20, .what = W_SETP2M },
    };
    /* make big: the dense 1 TiB (2 GiB of leaves, 2 GiB of host memory) and a balloon-like one. */
    static const struct pcase huge[] = {
        { .boot_pages = 4 * GiB, .max_pfn = TiB, .pat = P_DENSE, .sample = 1 << 22, .what = W_SETP2M },
        { .boot_pages = 2 * GiB, .max_pfn = TiB, .pat = P_BALLOON, .sample = 1 << 22, .what = W_SETP2M },
    };

    if (!fast) {
        for (unsigned int i = 0; i < N_ELEMS(small); i++)
            run_case(&small[i], 120);
        for (long k = 0; k < NR_BAD; k++) {
            char what[40];

            snprintf(what, sizeof(what), "bad input %ld", k);
            in_child(what, bad_fn, (const void *)k, 60);
        }
    } else {
        for (unsigned int i = 0; !big && i < N_ELEMS(large); i++)
            run_case(&large[i], 600);
        for (unsigned int i = 0; big && i < N_ELEMS(huge); i++)
            run_case(&huge[i], 1800);
    }
    return check_done(TEST_NAME);
}
