/* SPDX-License-Identifier: MIT */
/*
 * inspect.c - shim-inspect: looks at a running PV domU from dom0 the way
 * libxenguest's save code does, and prints what it finds in one line that
 * the rig compares with the guest's own report (docs/lifecycle.md).
 *
 *   shim-inspect DOMID ROUND
 *
 *   1. shared_info's arch fields: max_pfn, p2m_cr3, p2m_vaddr, the frame
 *      list list.  The p2m is read as the save code reads it: the linear
 *      list under p2m_cr3 when that is set, else the 3-level frame list.
 *   2. every frame the p2m names gets its type from Xen
 *      (xc_get_pfn_type_batch: XEN_DOMCTL_getpageframeinfo3).
 *   3. every frame typed L1 to L4 is mapped read-only, and each present
 *      entry (Xen's L4 slots 256-271 aside) must name a frame of the
 *      domain's own p2m, or its shared_info frame: the guest runs, and a
 *      running PV guest maps shared_info (it unmaps it only to suspend).
 *
 * Output, exit 0:
 *   inspect: round R p2m via list|tree: N pfns xxh64=H; typed L1 a L2 b L3 c L4 d:
 *            T frames xxh64=H2; E entries, all the domain's own (and S shared_info)
 * H is XXH64 over the N p2m entries (8 bytes each), H2 over the typed
 * frames' pfns in ascending order: the guest prints the same two over its
 * list and over the tables it walks.  Exit 1 with "inspect: ERROR ..."
 * when something is wrong, 2 when it could not look.
 *
 * Built against each Xen version's own libxenctrl and headers
 * (rig/domu/build_dom0.py), with the shim's own lib/xxhash.c.
 */
#define XC_WANT_COMPAT_MAP_FOREIGN_API
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xenctrl.h>
#include <xen/domctl.h>
#include "lib/xxhash.h"

#define PAGE 4096UL
#define ENTRIES 512
#define INVALID (~0UL)
#define ADDR_MASK 0x000ffffffffff000UL

/*
 * Exported by libxenctrl (the save code's own call) but declared only in
 * its private header (tools/libs/ctrl/xc_private.h), so it is declared
 * here.  For a PV domain the array holds mfns in, types out.
 */
int xc_get_pfn_type_batch(xc_interface *xch, uint32_t dom, unsigned int num, xen_pfn_t *arr);

static xc_interface *xch;
static uint32_t domid;

static void fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(int code, const char *fmt, ...)
{
    va_list ap;

    printf("inspect: %s", code == 1 ? "ERROR " : "could not look: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    exit(code);
}

static const uint64_t *map_ro(unsigned long mfn, const char *what)
{
    void *p = xc_map_foreign_range(xch, domid, PAGE, PROT_READ, mfn);

    if (!p)
        fail(1, "cannot map %s (mfn %#lx): %s", what, mfn, strerror(errno));
    return p;
}

/* shared_info's arch part, as the save code reads it. */
struct arch_fields {
    unsigned long max_pfn, cr3, vaddr, fll, generation;
};

static struct arch_fields read_arch(unsigned long shared_info_frame)
{
    void *p = xc_map_foreign_range(xch, domid, PAGE, PROT_READ, shared_info_frame);
    const shared_info_t *si = p;
    struct arch_fields a;

    if (!p)
        fail(2, "cannot map shared_info (mfn %#lx): %s", shared_info_frame, strerror(errno));
    a = (struct arch_fields){ si->arch.max_pfn, si->arch.p2m_cr3, si->arch.p2m_vaddr,
                              si->arch.pfn_to_mfn_frame_list_list, si->arch.p2m_generation };
    munmap(p, PAGE);
    return a;
}

static unsigned long number(const char *s, const char *what)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno || end == s || *end)
        fail(2, "%s: \"%s\" is not a number", what, s);
    return v;
}

static void unmap(const uint64_t *p)
{
    munmap((void *)p, PAGE);
}

/*
 * The p2m's leaf pages, mapped ENTRIES at a time (one mmap per 512 leaves,
 * not one per leaf: a 256 MiB guest whose p2m reaches 2 GiB has 1 025).
 */
static void read_leaves(const xen_pfn_t *leaf_mfns, unsigned long leaves, unsigned long n,
                        unsigned long *p2m)
{
    for (unsigned long l = 0; l < leaves; l += ENTRIES) {
        unsigned long k = leaves - l < ENTRIES ? leaves - l : ENTRIES;
        const uint64_t *pages = xc_map_foreign_pages(xch, domid, PROT_READ, &leaf_mfns[l], k);

        if (!pages)
            fail(1, "cannot map the p2m's leaves %lu-%lu (mfns %#lx...): %s", l, l + k - 1,
                 (unsigned long)leaf_mfns[l], strerror(errno));
        for (unsigned long i = 0; i < k * ENTRIES && (l * ENTRIES) + i < n; i++)
            p2m[l * ENTRIES + i] = pages[i];
        munmap((void *)pages, k * PAGE);
    }
}

/* One mapped table per level, kept while consecutive leaves share it. */
struct cached_table {
    unsigned long mfn;
    const uint64_t *t;
};

static const uint64_t *cached(struct cached_table *c, unsigned long mfn, const char *what)
{
    if (c->t && c->mfn == mfn)
        return c->t;
    if (c->t)
        unmap(c->t);
    c->t = map_ro(mfn, what);
    c->mfn = mfn;
    return c->t;
}

/* The linear list: walk p2m_cr3's tree down to each leaf page of [vaddr, vaddr + n * 8). */
static void read_list(unsigned long cr3, unsigned long vaddr, unsigned long n, unsigned long *p2m)
{
    unsigned long leaves = (n + ENTRIES - 1) / ENTRIES;
    xen_pfn_t *leaf_mfns = calloc(leaves, sizeof(*leaf_mfns));
    struct cached_table cache[5] = { { 0 } };

    if (!leaf_mfns)
        fail(2, "out of memory for %lu leaves", leaves);
    for (unsigned long l = 0; l < leaves; l++) {
        unsigned long va = vaddr + l * PAGE, mfn = cr3 >> 12;

        for (int level = 4; level >= 1; level--) {
            uint64_t e = cached(&cache[level], mfn, "a table of the p2m's mapping")
                             [(va >> (12 + 9 * (level - 1))) & 511];

            if (!(e & 1))
                fail(1, "p2m list at %#lx: level %d entry %#lx not present", va, level,
                     (unsigned long)e);
            mfn = (e & ADDR_MASK) >> 12;
        }
        leaf_mfns[l] = mfn;
    }
    for (int level = 1; level <= 4; level++)
        if (cache[level].t)
            unmap(cache[level].t);
    read_leaves(leaf_mfns, leaves, n, p2m);
    free(leaf_mfns);
}

/* The 3-level frame list: the frame list list names mid pages, which name the leaves. */
static void read_tree(unsigned long fll, unsigned long n, unsigned long *p2m)
{
    unsigned long leaves = (n + ENTRIES - 1) / ENTRIES;
    xen_pfn_t *leaf_mfns = calloc(leaves, sizeof(*leaf_mfns));
    const uint64_t *top = map_ro(fll, "the frame list list");
    struct cached_table mid = { 0 };

    if (!leaf_mfns)
        fail(2, "out of memory for %lu leaves", leaves);
    if (leaves > (unsigned long)ENTRIES * ENTRIES)
        fail(1, "max_pfn %lu is more than a 3-level frame list can name", n);
    for (unsigned long l = 0; l < leaves; l++)
        leaf_mfns[l] = cached(&mid, top[l / ENTRIES], "a mid page of the frame list")[l % ENTRIES];
    if (mid.t)
        unmap(mid.t);
    unmap(top);
    read_leaves(leaf_mfns, leaves, n, p2m);
    free(leaf_mfns);
}

struct owned {
    unsigned long mfn, pfn;
};

static int by_mfn(const void *a, const void *b)
{
    const struct owned *x = a, *y = b;

    return x->mfn < y->mfn ? -1 : x->mfn > y->mfn;
}

int main(int argc, char **argv)
{
    xc_domaininfo_t info;
    struct arch_fields arch, again;
    unsigned long n, cr3, vaddr, fll, *p2m, owned_n = 0, entries = 0, shinfo_entries = 0, typed[5] = { 0 };
    struct owned *owned;
    xen_pfn_t *batch;
    struct xxh64_state hp, ht;
    const char *how;
    unsigned int round;

    if (argc != 3)
        fail(2, "usage: shim-inspect DOMID ROUND");
    domid = number(argv[1], "DOMID");
    round = number(argv[2], "ROUND");
    xch = xc_interface_open(NULL, NULL, 0);
    if (!xch)
        fail(2, "xc_interface_open: %s", strerror(errno));
    if (xc_domain_getinfolist(xch, domid, 1, &info) != 1 || info.domain != domid)
        fail(2, "domain %u: no such domain", domid);

    if (info.flags & XEN_DOMINF_hvm_guest)
        fail(2, "domain %u is not a PV guest", domid);
    arch = read_arch(info.shared_info_frame);
    n = arch.max_pfn;
    cr3 = arch.cr3;
    vaddr = arch.vaddr;
    fll = arch.fll;
    if (arch.generation & 1)
        fail(1, "p2m_generation %lu is odd: the guest is changing its p2m's mappings", arch.generation);
    if (!n || n > (1UL << 40))
        fail(1, "shared_info.arch.max_pfn is %lu", n);
    /* As the save code (map_p2m_list): canonical, page-aligned, clear of Xen's range. */
    if (cr3 && ((vaddr & (PAGE - 1)) || ((long)vaddr >> 47 != 0 && (long)vaddr >> 47 != -1) ||
                (vaddr + n * 8 > 0xffff800000000000UL && vaddr < 0xffff880000000000UL)))
        fail(1, "p2m_vaddr %#lx (for %lu pfns) is not a list the save code would walk", vaddr, n);
    p2m = calloc(n, sizeof(*p2m));
    owned = calloc(n, sizeof(*owned));
    batch = calloc(1024, sizeof(*batch));
    if (!p2m || !owned || !batch)
        fail(2, "out of memory for %lu pfns", n);
    if (cr3) {
        how = "list";
        read_list(cr3, vaddr, n, p2m);
    } else if (fll && fll != INVALID) {
        how = "tree";
        read_tree(fll, n, p2m);
    } else {
        fail(1, "neither p2m_cr3 nor a frame list list is published (fll %#lx)", fll);
    }
    xxh64_init(&hp, 0);
    xxh64_update(&hp, p2m, n * sizeof(*p2m));

    for (unsigned long pfn = 0; pfn < n; pfn++)
        if (p2m[pfn] != INVALID && !(p2m[pfn] >> 62))
            owned[owned_n++] = (struct owned){ p2m[pfn], pfn };
    qsort(owned, owned_n, sizeof(*owned), by_mfn);
    for (unsigned long i = 1; i < owned_n; i++)
        if (owned[i].mfn == owned[i - 1].mfn)
            fail(1, "pfns %#lx and %#lx both name mfn %#lx in the p2m", owned[i - 1].pfn, owned[i].pfn,
                 owned[i].mfn);

    /* Types, in pfn order (owned[] is sorted by mfn: go through the p2m again). */
    xxh64_init(&ht, 0);
    for (unsigned long pfn = 0; pfn < n; ) {
        unsigned long pfns[1024];
        unsigned int k = 0;

        for (; pfn < n && k < 1024; pfn++)
            if (p2m[pfn] != INVALID && !(p2m[pfn] >> 62)) {
                pfns[k] = pfn;
                batch[k++] = p2m[pfn];
            }
        if (k && xc_get_pfn_type_batch(xch, domid, k, batch))
            fail(2, "xc_get_pfn_type_batch: %s", strerror(errno));
        for (unsigned int i = 0; i < k; i++) {
            unsigned long type = batch[i] & XEN_DOMCTL_PFINFO_LTABTYPE_MASK;
            unsigned int level = type >> XEN_DOMCTL_PFINFO_LTAB_SHIFT;
            const uint64_t *t;

            /* A frame Xen cannot take a reference on is not the domain's (the save: XTAB). */
            if (type == XEN_DOMCTL_PFINFO_XTAB || type == XEN_DOMCTL_PFINFO_XALLOC ||
                type == XEN_DOMCTL_PFINFO_BROKEN)
                fail(1, "p2m[%#lx] = mfn %#lx, which Xen says is not a page of the domain (type %#lx)",
                     pfns[i], p2m[pfns[i]], type);
            if (level < 1 || level > 4)
                continue;
            typed[level]++;
            xxh64_update(&ht, &pfns[i], sizeof(pfns[i]));
            t = map_ro(p2m[pfns[i]], "a typed page table");
            for (unsigned int s = 0; s < ENTRIES; s++) {
                struct owned key = { (t[s] & ADDR_MASK) >> 12, 0 };

                if (!(t[s] & 1) || (level == 4 && s >= 256 && s < 272))
                    continue;
                entries++;
                if (key.mfn == info.shared_info_frame && level == 1) {
                    shinfo_entries++;
                    continue;
                }
                if (!bsearch(&key, owned, owned_n, sizeof(*owned), by_mfn))
                    fail(1, "L%u at pfn %#lx (mfn %#lx), slot %u = %#lx: mfn %#lx is not the domain's",
                         level, pfns[i], p2m[pfns[i]], s, (unsigned long)t[s], key.mfn);
            }
            unmap(t);
        }
    }
    again = read_arch(info.shared_info_frame);
    if (again.generation != arch.generation)
        fail(1, "p2m_generation moved from %lu to %lu while the inspector looked", arch.generation,
             again.generation);
    printf("inspect: round %u p2m via %s: %lu pfns xxh64=%016lx; typed L1 %lu L2 %lu L3 %lu L4 %lu: "
           "%lu frames xxh64=%016lx; %lu entries, all the domain's own (and %lu shared_info)\n", round,
           how, n, (unsigned long)xxh64_digest(&hp), typed[1], typed[2], typed[3], typed[4],
           typed[1] + typed[2] + typed[3] + typed[4], (unsigned long)xxh64_digest(&ht), entries,
           shinfo_entries);
    return 0;
}
