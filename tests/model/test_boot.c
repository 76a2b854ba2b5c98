/* SPDX-License-Identifier: MIT */
/*
 * test_boot.c - the model's boot states against real Xen, and against the
 * shim's own start_info checker.
 *
 *  1. Real layouts: "VIRTUAL MEMORY ARRANGEMENT" as Xen 4.17 and 4.20
 *     printed it when booting the shim as dom0 under QEMU (rig/boot.py),
 *     and the shim's own "mmu:" lines from those boots.  The model's dom0
 *     builder must produce the same layout, and the real shim run on it
 *     the same counts.  Likewise the domU builder against libxenguest's
 *     own log lines from `xl -vvv create` (the rig's domU matrix).
 *  2. Builder properties for both builders: table order (dom0 walk order,
 *     domU by level), read-only tables, 4 MiB end with >= 512 KiB after the
 *     stack, ring pages after start_info (domU), L4 loaded and pinned,
 *     refusals ("Domain 0 allocation is too small", wrap without INIT_P2M).
 *  3. The real start_info checker accepts every builder output.
 *  4. A corpus of malformed start_info pages: each boot must end in an
 *     ERROR that names the field.
 *  5. A direct map broken after bring-up, through hypercalls Xen accepts:
 *     mmu_self_check() must fail and name the pfn, whether its walk passed
 *     the broken PTE or never reached it.  And a table's PTE made writable
 *     behind the model's Xen (which would refuse it): the check names it.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "driver.h"

static int drive_rc;
#include "pv/batch.h"
#include "lib/lib.h"
#include "pv/mmu.h"
#include "pv/p2m.h"
#include "mm/pt_walk.h"
#include "pv/start_info.h"

#define B(x) (BOOT_VIRT_BASE + (x))

/* ------------------------------------------------------------ 1. real Xen */

struct xen_vector {
    const char *source;
    unsigned long ksize, mib, rd_len;
    bool rd_mapped;
    /* VIRTUAL MEMORY ARRANGEMENT (offsets from VIRT_BASE; initrd 0 = no line) */
    unsigned long initrd_start, initrd_end, p2m_start, p2m_end, si_start, si_end;
    unsigned long pt_start, pt_end, stack_start, stack_end, total_end;
    /* PHYSICAL: "Dom0 alloc." size in pages */
    unsigned long alloc_pages;
    /* The shim's lines: "mmu: boot tables ... initial mapping N pages", build, pgtbuf */
    unsigned long mapped, build_hc, build_entries, build_pt, used, returned;
};

static const struct xen_vector vectors[] = {
    { "xen 4.17, dom0_mem=256M, no ramdisk", 0x55000, 256, 0, false,
      0, 0, 0x55000, 0xd5000, 0xd5000, 0xd54b8, 0xd6000, 0xdb000, 0xdb000, 0xdc000, 0x400000,
      1024, 1024, 4, 199, 135, 135, 2 },
    { "xen 4.20, dom0_mem=256M, 10000000-byte ramdisk (MOD_START_PFN)", 0x54000, 256, 10000000, false,
      0, 0, 0x54000, 0xd4000, 0xd4000, 0xd44b8, 0xd5000, 0xda000, 0xda000, 0xdb000, 0x400000,
      1024, 1024, 4, 199, 135, 135, 2 },
    { "xen 4.17, dom0_mem=1024M, 3158073-byte ramdisk mapped", 0x55000, 1024, 3158073, true,
      0x55000, 0x358039, 0x359000, 0x559000, 0x559000, 0x5594b8, 0x55a000, 0x561000, 0x561000, 0x562000,
      0x800000, 2048, 2048, 10, 581, 517, 517, 4 },
    { "xen 4.20, dom0_mem=512M, 100 MiB ramdisk mapped", 0x55000, 512, 104857600, true,
      0x55000, 0x6455000, 0x6455000, 0x6555000, 0x6555000, 0x65554b8, 0x6556000, 0x658d000, 0x658d000,
      0x658e000, 0x6800000, 1024, 26624, 5, 277, 213, 213, 52 },
    { "xen 4.17, dom0_mem=2048M, 100 MiB ramdisk (MOD_START_PFN)", 0x55000, 2048, 104857600, false,
      0, 0, 0x55000, 0x455000, 0x455000, 0x4554b8, 0x456000, 0x45d000, 0x45d000, 0x45e000, 0x800000,
      2048, 2048, 18, 1094, 1030, 1030, 4 },
    { "xen 4.20, dom0_mem=4096M, no ramdisk", 0x55000, 4096, 0, false,
      0, 0, 0x55000, 0x855000, 0x855000, 0x8554b8, 0x856000, 0x85f000, 0x85f000, 0x860000, 0xc00000,
      4096, 3072, 34, 2118, 2054, 2054, 6 },
    { "xen 4.17, dom0_mem=1024M, 600 MiB ramdisk mapped (crosses 512 MiB)", 0x55000, 1024, 629145600, true,
      0x55000, 0x25855000, 0x25855000, 0x25a55000, 0x25a55000, 0x25a554b8, 0x25a56000, 0x25b89000,
      0x25b89000, 0x25b8a000, 0x26000000, 2048, 155648, 5, 281, 217, 217, 304 },
};

static void test_vectors(void)
{
    for (unsigned int i = 0; i < N_ELEMS(vectors); i++) {
        const struct xen_vector *v = &vectors[i];
        struct boot_cfg c = { .builder = BUILD_DOM0, .nr_pages = v->mib << 8, .kernel_size = v->ksize,
                              .rd_len = v->rd_len, .rd_mapped = v->rd_mapped };
        struct drive_opts o = { .boot = c, .no_modules = true, .no_balloon = true };
        struct boot_layout L;
        struct drive_result r;
        const struct phase_stat *ps;

        if (!CHECK(dom0_layout(&c, &L) == 0, "%s: %s", v->source, L.err))
            continue;
        CHECK(L.vinitrd_start == (v->initrd_start ? B(v->initrd_start) : 0) &&
              L.vinitrd_end == (v->initrd_start ? B(v->initrd_end) : 0),
              "%s: Init. ramdisk %#lx->%#lx", v->source, L.vinitrd_start, L.vinitrd_end);
        CHECK(L.vphysmap_start == B(v->p2m_start) && L.vphysmap_end == B(v->p2m_end),
              "%s: Phys-Mach map %#lx->%#lx", v->source, L.vphysmap_start, L.vphysmap_end);
        CHECK(L.vstartinfo_start == B(v->si_start) && L.vstartinfo_end == B(v->si_end),
              "%s: Start info %#lx->%#lx", v->source, L.vstartinfo_start, L.vstartinfo_end);
        CHECK(L.vpt_start == B(v->pt_start) && L.vpt_end == B(v->pt_end),
              "%s: Page tables %#lx->%#lx", v->source, L.vpt_start, L.vpt_end);
        CHECK(L.vstack_start == B(v->stack_start) && L.vstack_end == B(v->stack_end),
              "%s: Boot stack %#lx->%#lx", v->source, L.vstack_start, L.vstack_end);
        CHECK(L.v_end == B(v->total_end), "%s: TOTAL ->%#lx", v->source, L.v_end);

        drive_rc = drive(&o, &r);

        if (!CHECK(drive_rc == 0 && !r.child_died && !r.build_failed && r.out == OUT_NONE,
                   "%s: the shim boots on the model: %s %s %s", v->source, outcome_name(r.out), r.msg,
                   r.L.err))
            continue;
        CHECK(1UL << r.L.order == v->alloc_pages, "%s: Dom0 alloc. of %lu pages", v->source,
              1UL << r.L.order);
        CHECK(!strncmp(r.L.pt_order, "4123", 4), "%s: tables in walk order L4, L1, L2, L3 (%s)", v->source,
              r.L.pt_order);
        CHECK(r.initial_mapping == v->mapped, "%s: initial mapping %lu pages", v->source, r.initial_mapping);
        ps = drive_phase(&r, "build");
        CHECK(ps && ps->hypercalls == v->build_hc && ps->entries == v->build_entries &&
              ps->pt_pages == v->build_pt, "%s: build hypercalls=%lu entries=%lu pt_pages=%lu", v->source,
              ps ? ps->hypercalls : 0, ps ? ps->entries : 0, ps ? ps->pt_pages : 0);
        CHECK(r.pgtbuf_used == v->used && r.pgtbuf_returned == v->returned, "%s: pgtbuf used=%lu returned=%lu",
              v->source, r.pgtbuf_used, r.pgtbuf_returned);
    }
}

/*
 * The domU builder: libxenguest's "xc_dom_alloc_segment" / "virt_alloc_end"
 * / "virt_pgtab_end" lines from `xl -vvv create` of the shim, and the
 * shim's own lines, as the rig's domU matrix logged them under Xen 4.17
 * (build/domu/matrix-xen4.17.log).
 */
struct domu_vector {
    const char *source;
    unsigned long ksize, mib, rd_len;
    bool rd_mapped;
    unsigned long p2m_start, p2m_end, pt_start, nr_pt, alloc_end, pgtab_end;   /* offsets */
    unsigned long rd_pfn, rd_pages, mod_len, flags;
    unsigned long mapped, build_hc, build_entries, build_pt, used, returned;
};

static const struct domu_vector domu_vectors[] = {
    { "xl, memory=128, no ramdisk", 0x5b000, 128, 0, false,
      0x5b000, 0x9b000, 0x9e000, 5, 0xa4000, 0x400000, 0, 0, 0, 0x0, 1024, 3, 135, 71, 71, 2 },
    { "xl, memory=2048, no ramdisk", 0x5b000, 2048, 0, false,
      0x5b000, 0x45b000, 0x45e000, 7, 0x466000, 0x800000, 0, 0, 0, 0x0, 2048, 18, 1094, 1030, 1030, 4 },
    { "xl, memory=256, 100 MiB ramdisk (MOD_START_PFN)", 0x5b000, 256, 104857600, false,
      0x5b000, 0xdb000, 0xde000, 5, 0xe4000, 0x400000, 0x400, 0x6400, 104857600, 0x8, 1024, 4, 199, 135, 135, 2 },
    { "xl, memory=1024, 600 MiB ramdisk (MOD_START_PFN)", 0x5b000, 1024, 629145600, false,
      0x5b000, 0x25b000, 0x25e000, 5, 0x264000, 0x400000, 0x400, 0x25800, 629145600, 0x8, 1024, 10, 583, 519, 519, 2 },
    { "xl, memory=1024, 629252608-byte ramdisk (MOD_START_PFN): mod_len rounded", 0x5b000, 1024, 629252608, false,
      0x5b000, 0x25b000, 0x25e000, 5, 0x264000, 0x400000, 0x400, 0x2581b, 629256192, 0x8, 1024, 10, 583, 519, 519, 2 },
    { "xl, memory=256, 100 MiB ramdisk mapped", 0x5b000, 256, 104857600, true,
      0x645b000, 0x64db000, 0x64de000, 55, 0x6516000, 0x6800000, 0x5b, 0x6400, 104857600, 0x0, 26624, 3, 149, 85, 85, 52 },
    { "xl, memory=1024, 600 MiB ramdisk mapped", 0x5b000, 1024, 629145600, true,
      0x2585b000, 0x25a5b000, 0x25a5e000, 307, 0x25b92000, 0x26000000, 0x5b, 0x25800, 629145600, 0x0,
      155648, 5, 281, 217, 217, 304 },
};

static void test_domu_vectors(void)
{
    for (unsigned int i = 0; i < N_ELEMS(domu_vectors); i++) {
        const struct domu_vector *v = &domu_vectors[i];
        struct drive_opts o = { .boot = { .builder = BUILD_DOMU, .nr_pages = v->mib << 8, .kernel_size = v->ksize,
                                          .rd_len = v->rd_len, .rd_mapped = v->rd_mapped },
                                .no_modules = true, .no_balloon = true };
        struct drive_result r;
        const struct boot_layout *L = &r.L;
        const struct phase_stat *ps;

        drive_rc = drive(&o, &r);
        if (!CHECK(drive_rc == 0 && !r.child_died && !r.build_failed && r.out == OUT_NONE,
                   "%s: the shim boots on the model: %s %s %s", v->source, outcome_name(r.out), r.msg, r.L.err))
            continue;
        CHECK(L->vphysmap_start == B(v->p2m_start) && L->vphysmap_end == B(v->p2m_end),
              "%s: phys2mach %#lx -> %#lx", v->source, L->vphysmap_start, L->vphysmap_end);
        CHECK(L->vpt_start == B(v->pt_start) && L->nr_pt_frames == v->nr_pt,
              "%s: page tables %#lx + %lu pages", v->source, L->vpt_start, L->nr_pt_frames);
        CHECK(L->vstack_end == B(v->alloc_end) && L->v_end == B(v->pgtab_end),
              "%s: virt_alloc_end %#lx, virt_pgtab_end %#lx", v->source, L->vstack_end, L->v_end);
        CHECK(L->rd_pfn == v->rd_pfn && L->rd_pages == v->rd_pages && L->si.mod_len == v->mod_len &&
              L->si.flags == v->flags, "%s: module0 pfn %#lx + %#lx pages, mod_len %lu, flags %#x", v->source,
              L->rd_pfn, L->rd_pages, (unsigned long)L->si.mod_len, L->si.flags);
        CHECK(r.initial_mapping == v->mapped, "%s: initial mapping %lu pages", v->source, r.initial_mapping);
        ps = drive_phase(&r, "build");
        CHECK(ps && ps->hypercalls == v->build_hc && ps->entries == v->build_entries &&
              ps->pt_pages == v->build_pt, "%s: build hypercalls=%lu entries=%lu pt_pages=%lu", v->source,
              ps ? ps->hypercalls : 0, ps ? ps->entries : 0, ps ? ps->pt_pages : 0);
        CHECK(r.pgtbuf_used == v->used && r.pgtbuf_returned == v->returned, "%s: pgtbuf used=%lu returned=%lu",
              v->source, r.pgtbuf_used, r.pgtbuf_returned);
    }
}

/* ------------------------------------------------------------ 2. builders */

static bool tables_read_only(const struct boot_layout *L)
{
    unsigned long first = (L->vpt_start - L->virt_base) >> PAGE_SHIFT;

    for (unsigned long i = 0; i < L->nr_pt_frames; i++) {
        unsigned long va = L->vpt_start + i * PAGE_SIZE, mfn;
        char why[128];

        if (vmem_translate(va, true, &mfn, why, sizeof(why)) || !vmem_translate(va, false, &mfn, why, sizeof(why)) ||
            mfn != model_p2m(first + i))
            return false;
    }
    return true;
}

static void test_builders(void)
{
    static const unsigned long sizes[] = { 4096, 65536, 1UL << 20, 3UL << 20 };

    for (unsigned int b = 0; b < 2; b++) {
        for (unsigned int s = 0; s < N_ELEMS(sizes); s++) {
            struct boot_cfg c = { .builder = b ? BUILD_DOMU : BUILD_DOM0, .nr_pages = sizes[s],
                                  .rd_len = 5000000, .rd_mapped = s & 1 };
            struct boot_layout L;
            const char *name = b ? "domU" : "dom0";
            char want[1100];
            unsigned long mapped;

            if (!CHECK(build_boot(&c, &L) == 0, "%s %lu pages: %s", name, sizes[s], L.err))
                continue;
            mapped = (L.v_end - L.virt_base) >> PAGE_SHIFT;
            CHECK(!(L.v_end & ((4UL << 20) - 1)) && L.v_end - L.vstack_end >= 512 * 1024,
                  "%s %lu: end %#lx on 4 MiB with >= 512 KiB after the stack %#lx", name, sizes[s], L.v_end,
                  L.vstack_end);
            CHECK(L.nr_l1 == mapped / 512 && L.nr_l2 == 1 && L.nr_l3 == 1 &&
                  L.nr_pt_frames == 1 + L.nr_l3 + L.nr_l2 + L.nr_l1,
                  "%s %lu: tables: 1 L4 + 1 L3 + 1 L2 + %lu L1s", name, sizes[s], L.nr_l1);
            if (b) {
                snprintf(want, sizeof(want), "432%0*d", (int)L.nr_l1, 0);
                memset(want + 3, '1', L.nr_l1);
                CHECK(!strcmp(L.pt_order, want), "domU %lu: tables by level: %s", sizes[s], L.pt_order);
                CHECK(L.vxenstore_start == L.vstartinfo_start + PAGE_SIZE &&
                      L.vconsole_start == L.vxenstore_start + PAGE_SIZE && L.vpt_start == L.vconsole_start + PAGE_SIZE,
                      "domU %lu: start_info, xenstore, console, tables", sizes[s]);
                CHECK((L.si.flags & ~SIF_MOD_START_PFN) == 0, "domU %lu: flags %#x (as xl leaves them)",
                      sizes[s], L.si.flags);
                if (!c.rd_mapped)
                    CHECK(L.si.mod_len == ALIGN_UP(c.rd_len, PAGE_SIZE) && L.rd_pfn == mapped,
                          "domU %lu: unmapped ramdisk after the padding, mod_len rounded (%lu)", sizes[s],
                          (unsigned long)L.si.mod_len);
            } else {
                CHECK(!strncmp(L.pt_order, "4123", 4) && strspn(L.pt_order + 4, "1") == L.nr_pt_frames - 4,
                      "dom0 %lu: tables in walk order: %s", sizes[s], L.pt_order);
                CHECK((L.si.flags & (SIF_INITDOMAIN | SIF_PRIVILEGED)) == (SIF_INITDOMAIN | SIF_PRIVILEGED) &&
                      L.si.mod_len == c.rd_len, "dom0 %lu: flags %#x, exact mod_len", sizes[s], L.si.flags);
            }
            CHECK(M.cr3 == L.l4_mfn && (frame_of(L.l4_mfn)->flags & FF_PINNED) &&
                  frame_of(L.l4_mfn)->count == 2, "%s %lu: the L4 is loaded and pinned", name, sizes[s]);
            CHECK(tables_read_only(&L), "%s %lu: the tables are mapped read-only", name, sizes[s]);
            CHECK(model_m2p(L.l4_mfn) == L.l4_pfn && L.si.pt_base == L.vpt_start,
                  "%s %lu: pt_base %#lx", name, sizes[s], (unsigned long)L.si.pt_base);
            for (unsigned long pfn = 0; pfn < mapped; pfn += 97) {
                unsigned long mfn;
                char why[128];

                if (!vmem_translate(L.virt_base + pfn * PAGE_SIZE, false, &mfn, why, sizeof(why)) ||
                    mfn != model_p2m(pfn)) {
                    CHECK(false, "%s %lu: pfn %#lx is not mapped at VIRT_BASE + pfn pages", name, sizes[s], pfn);
                    break;
                }
            }
        }
    }

    /* Refusals. */
    {
        struct boot_cfg c = { .builder = BUILD_DOM0, .nr_pages = 1024, .rd_len = 2UL << 20 };
        struct boot_layout L;

        CHECK(build_boot(&c, &L) < 0 && strstr(L.err, "Domain 0 allocation is too small"),
              "dom0: a ramdisk the allocation cannot hold: %s", L.err);
        c = (struct boot_cfg){ .builder = BUILD_DOM0, .nr_pages = 1UL << 28 };
        CHECK(dom0_layout(&c, &L) < 0 && strstr(L.err, "INIT_P2M"), "dom0 1 TiB without INIT_P2M: %s", L.err);
        c.builder = BUILD_DOMU;
        CHECK(build_boot(&c, &L) < 0 && strstr(L.err, "INIT_P2M"), "domU 1 TiB without INIT_P2M: %s", L.err);
        c = (struct boot_cfg){ .builder = BUILD_DOMU, .nr_pages = 1024, .rd_len = 8UL << 20 };
        CHECK(build_boot(&c, &L) < 0 && strstr(L.err, "not enough memory"), "domU: too small: %s", L.err);
    }
}

/* ------------------------------------------------------------ 3. the checker */

static void test_checker_accepts(void)
{
    static const unsigned long sizes[] = { 4096, 65536, 1UL << 20 };
    static const unsigned long p2m[] = { 0, 0x8000000000UL };

    for (unsigned int b = 0; b < 2; b++)
        for (unsigned int s = 0; s < N_ELEMS(sizes); s++)
            for (unsigned int r = 0; r < 3; r++)
                for (unsigned int p = 0; p < 2; p++) {
                    struct boot_cfg c = { .builder = b ? BUILD_DOMU : BUILD_DOM0, .nr_pages = sizes[s],
                                          .rd_len = r ? 1000000 : 0, .rd_mapped = r == 2, .init_p2m = p2m[p] };
                    struct boot_layout L;
                    char why[256] = "";
                    struct boot_bounds bb;

                    if (!CHECK(build_boot(&c, &L) == 0, "build: %s", L.err))
                        continue;
                    bb = (struct boot_bounds){ .virt_base = L.virt_base, .image_end = L.image_end,
                                               .mapped_end = L.vstack_end, .si_va = L.vstartinfo_start,
                                               .init_p2m_va = c.init_p2m, .m2p_read = model_m2p_read };
                    CHECK(start_info_check(&L.si, &bb, why, sizeof(why)),
                          "start_info_check accepts %s %lu pages ramdisk %u INIT_P2M %u: %s",
                          b ? "domU" : "dom0", sizes[s], r, p, why);
                }
}

/* ------------------------------------------------------------ 4. malformed */

enum mut {
    M_MAGIC, M_MAGIC_NUL, M_NR_SMALL, M_NR_HUGE, M_SHINFO_0, M_SHINFO_ODD, M_PT_ODD, M_PT_FEW, M_PT_MANY,
    M_PT_LOW, M_PT_HIGH, M_LIST_ODD, M_LIST_LOW, M_LIST_HIGH, M_LIST_WRAP, M_RD_PFN_BEYOND, M_RD_PFN_LONG,
    M_RD_PFN_INSIDE, M_RD_PFN_WRAP, M_RD_VA_ODD, M_RD_VA_LOW, M_RD_VA_LONG, M_RD_VA_WRAP, M_CMDLINE,
    M_CONS_0, M_EVTCHN_0, M_CONS_FAR, M_CONS_OTHER, M_FLAGS_PRIV, M_P2M_BEYOND, M_P2M_SHORT, M_P2M_INSIDE,
    M_PT_BASE_L1, M_NR_DMAP_MAX, M_CONS_PAST_M2P, M_NR_PAST_P2M,
};

static void mutate(start_info_t *si, const struct boot_layout *L, long m)
{
    unsigned long mapped = (L->vstack_end - L->virt_base) >> PAGE_SHIFT;

    switch ((enum mut)m) {
    case M_MAGIC: strcpy(si->magic, "xen-3.0-x86_32p"); break;
    case M_MAGIC_NUL: memset(si->magic, 'x', sizeof(si->magic)); break;
    case M_NR_SMALL: si->nr_pages = mapped - 1; break;
    case M_NR_HUGE: si->nr_pages = SI_MAX_PAGES + 1; break;        /* one page past the direct map */
    case M_NR_DMAP_MAX: si->nr_pages = SI_MAX_PAGES; break;        /* at it */
    case M_SHINFO_0: si->shared_info = 0; break;
    case M_SHINFO_ODD: si->shared_info += 0x10; break;
    case M_PT_ODD: si->pt_base += 8; break;
    case M_PT_FEW: si->nr_pt_frames = 3; break;
    case M_PT_MANY: si->nr_pt_frames = mapped + 1; break;
    case M_PT_LOW: si->pt_base = L->virt_base; break;
    case M_PT_HIGH: si->pt_base = L->vstack_end - PAGE_SIZE; break;
    case M_LIST_ODD: si->mfn_list += 4; break;
    case M_LIST_LOW: si->mfn_list = L->virt_base + PAGE_SIZE; break;
    case M_LIST_HIGH: si->mfn_list = L->vstack_end - 8; break;
    case M_LIST_WRAP: si->mfn_list = -16UL; break;
    case M_RD_PFN_BEYOND: si->mod_start = si->nr_pages; break;
    case M_RD_PFN_LONG: si->mod_len = (si->nr_pages - si->mod_start + 1) * PAGE_SIZE; break;
    case M_RD_PFN_INSIDE: si->mod_start = 1; break;
    case M_RD_PFN_WRAP: si->mod_len = -1UL; break;
    case M_RD_VA_ODD: si->mod_start += 1; break;
    case M_RD_VA_LOW: si->mod_start = L->virt_base - PAGE_SIZE; break;
    case M_RD_VA_LONG: si->mod_len = L->vstack_end - si->mod_start + 1; break;
    case M_RD_VA_WRAP: si->mod_len = -PAGE_SIZE; break;
    case M_CMDLINE: memset(si->cmd_line, 'a', sizeof(si->cmd_line)); break;
    case M_CONS_0: si->console.domU.mfn = 0; break;
    case M_EVTCHN_0: si->console.domU.evtchn = 0; break;
    case M_CONS_FAR: si->console.domU.mfn = model_p2m(si->nr_pages - 1); break;
    case M_CONS_OTHER: si->console.domU.mfn = MFN_OTHER_FIRST; break;
    case M_CONS_PAST_M2P: si->console.domU.mfn = M.max_mfn + 5; break;    /* the M2P read faults */
    case M_NR_PAST_P2M: si->nr_pages += 512; break;     /* one page past an INIT_P2M list's mapping */
    case M_FLAGS_PRIV: si->flags &= ~SIF_PRIVILEGED; break;
    case M_P2M_BEYOND: si->first_p2m_pfn = si->nr_pages; break;
    case M_P2M_SHORT: si->nr_p2m_frames = 1; break;
    case M_P2M_INSIDE: si->first_p2m_pfn = 2; break;
    case M_PT_BASE_L1: si->pt_base += PAGE_SIZE; break;
    }
}

struct bad_case {
    enum mut m;
    unsigned int cfg;           /* index into cfgs[] */
    const char *field;          /* expected in the ERROR; NULL: must boot (SUCCESS) */
};

static void test_malformed(void)
{
    static const struct boot_cfg cfgs[] = {
        { .builder = BUILD_DOM0, .nr_pages = 16384 },                                   /* 0 */
        { .builder = BUILD_DOM0, .nr_pages = 16384, .rd_len = 1 << 20 },                /* 1: pfn */
        { .builder = BUILD_DOM0, .nr_pages = 16384, .rd_len = 1 << 20, .rd_mapped = true }, /* 2: va */
        { .builder = BUILD_DOMU, .nr_pages = 16384, .rd_len = 1 << 20 },                /* 3 */
        { .builder = BUILD_DOMU, .nr_pages = 16384, .rd_len = 1 << 20, .rd_mapped = true }, /* 4 */
        { .builder = BUILD_DOM0, .nr_pages = 65536, .init_p2m = 0x8000000000UL },       /* 5 */
        { .builder = BUILD_DOMU, .nr_pages = 65536, .init_p2m = 0x8000000000UL },       /* 6 */
    };
    static const struct bad_case cases[] = {
        { M_MAGIC, 0, "start_info.magic" }, { M_MAGIC, 3, "start_info.magic" },
        { M_MAGIC_NUL, 0, "start_info.magic" }, { M_MAGIC_NUL, 4, "start_info.magic" },
        { M_NR_SMALL, 0, "start_info.nr_pages" }, { M_NR_SMALL, 3, "start_info.nr_pages" },
        { M_NR_HUGE, 0, "direct map can hold" }, { M_NR_HUGE, 4, "direct map can hold" },
        { M_NR_HUGE, 5, "direct map can hold" },
        /* At the direct map's bound nr_pages itself passes: the next field that cannot match refuses. */
        { M_NR_DMAP_MAX, 0, "start_info.mfn_list" }, { M_NR_DMAP_MAX, 5, "start_info.nr_p2m_frames" },
        { M_SHINFO_0, 0, "start_info.shared_info" }, { M_SHINFO_0, 3, "start_info.shared_info" },
        { M_SHINFO_ODD, 1, "start_info.shared_info" }, { M_SHINFO_ODD, 4, "start_info.shared_info" },
        { M_PT_ODD, 0, "start_info.pt_base" }, { M_PT_ODD, 3, "start_info.pt_base" },
        { M_PT_FEW, 0, "start_info.nr_pt_frames" }, { M_PT_FEW, 4, "start_info.nr_pt_frames" },
        { M_PT_MANY, 1, "start_info.nr_pt_frames" }, { M_PT_MANY, 3, "start_info.nr_pt_frames" },
        { M_PT_LOW, 0, "start_info.pt_base" }, { M_PT_LOW, 3, "start_info.pt_base" },
        { M_PT_HIGH, 2, "start_info.pt_base" }, { M_PT_HIGH, 4, "start_info.pt_base" },
        { M_LIST_ODD, 0, "start_info.mfn_list" }, { M_LIST_ODD, 3, "start_info.mfn_list" },
        { M_LIST_LOW, 1, "start_info.mfn_list" }, { M_LIST_LOW, 4, "start_info.mfn_list" },
        { M_LIST_HIGH, 0, "start_info.mfn_list" }, { M_LIST_HIGH, 3, "start_info.mfn_list" },
        { M_LIST_WRAP, 2, "start_info.mfn_list" }, { M_LIST_WRAP, 3, "start_info.mfn_list" },
        { M_RD_PFN_BEYOND, 1, "start_info.mod_start" }, { M_RD_PFN_BEYOND, 3, "start_info.mod_start" },
        { M_RD_PFN_LONG, 1, "start_info.mod_start" }, { M_RD_PFN_LONG, 3, "start_info.mod_start" },
        { M_RD_PFN_INSIDE, 1, "start_info.mod_start" }, { M_RD_PFN_INSIDE, 3, "start_info.mod_start" },
        { M_RD_PFN_WRAP, 1, "start_info.mod_start" }, { M_RD_PFN_WRAP, 3, "start_info.mod_start" },
        { M_RD_VA_ODD, 2, "start_info.mod_start" }, { M_RD_VA_ODD, 4, "start_info.mod_start" },
        { M_RD_VA_LOW, 2, "start_info.mod_start" }, { M_RD_VA_LOW, 4, "start_info.mod_start" },
        { M_RD_VA_LONG, 2, "start_info.mod_start" }, { M_RD_VA_LONG, 4, "start_info.mod_start" },
        { M_RD_VA_WRAP, 2, "start_info.mod_start" }, { M_RD_VA_WRAP, 4, "start_info.mod_start" },
        { M_CMDLINE, 0, "start_info.cmd_line" }, { M_CMDLINE, 3, "start_info.cmd_line" },
        { M_CONS_0, 3, "start_info.console.domU.mfn" }, { M_CONS_0, 4, "start_info.console.domU.mfn" },
        { M_EVTCHN_0, 3, "start_info.console.domU.evtchn" },
        { M_CONS_FAR, 3, "start_info.console.domU.mfn" }, { M_CONS_OTHER, 4, "start_info.console.domU.mfn" },
        /* Found by make fuzz: an mfn past the host's memory, where Xen does not map the M2P. */
        { M_CONS_PAST_M2P, 3, "start_info.console.domU.mfn" }, { M_CONS_PAST_M2P, 4, "start_info.console.domU.mfn" },
        /* Found by make fuzz: nr_pages past what an INIT_P2M list's own mapping holds. */
        { M_NR_PAST_P2M, 5, "the builder's list" }, { M_NR_PAST_P2M, 6, "the builder's list" },
        { M_FLAGS_PRIV, 0, "start_info.flags" }, { M_FLAGS_PRIV, 1, "start_info.flags" },
        { M_P2M_BEYOND, 5, "start_info.first_p2m_pfn" }, { M_P2M_BEYOND, 6, "start_info.first_p2m_pfn" },
        { M_P2M_SHORT, 5, "start_info.nr_p2m_frames" }, { M_P2M_SHORT, 6, "start_info.nr_p2m_frames" },
        { M_P2M_INSIDE, 5, "start_info.first_p2m_pfn" }, { M_P2M_INSIDE, 6, "start_info.first_p2m_pfn" },
        /* Regression case 5: pt_base not the root: the shim walks from CR3 and boots. */
        { M_PT_BASE_L1, 0, NULL }, { M_PT_BASE_L1, 3, NULL },
    };
    unsigned int errors = 0;

    for (unsigned int i = 0; i < N_ELEMS(cases); i++) {
        const struct bad_case *k = &cases[i];
        struct drive_opts o = { .boot = cfgs[k->cfg], .mutate = mutate, .mutate_arg = k->m,
                                .no_modules = true, .no_balloon = true };
        struct drive_result r;

        drive_rc = drive(&o, &r);

        if (!CHECK(drive_rc == 0 && !r.child_died && !r.build_failed, "case %u ran", i))
            continue;
        if (k->field) {
            errors += CHECK(r.out == OUT_ERROR && strstr(r.msg, k->field), "malformed case %u (mutation %d, cfg %u): "
                            "%s \"%s\", want an ERROR naming %s", i, k->m, k->cfg, outcome_name(r.out), r.msg,
                            k->field);
        } else {
            CHECK(r.out == OUT_NONE && strstr(r.log, "walking from CR3"),
                  "case %u: pt_base not the root: %s %s", i, outcome_name(r.out), r.msg);
        }
    }
    CHECK(errors >= 50, "at least 50 malformed start_info cases end in an ERROR naming the field (%u)", errors);
}

/* ------------------------------------------------------------ 5. broken direct map */

enum tamper { T_REMAP, T_PAST_RAM, T_SHARED_L1, T_UNHOOKED_L1, T_TABLE_RW };

#define T_PFN       40000UL         /* ordinary RAM, far from the tables */
#define T_BASE      (T_PFN & ~511UL)

static unsigned long dmap_table(unsigned long pfn, unsigned int level)
{
    return pt_table_mfn(&mmu_geo, mmu_pfn_to_mfn(mmu_tables.kernel_l4), pfn_to_virt(pfn), level);
}

static void tamper(long t)
{
    unsigned long l2 = dmap_table(T_BASE, 2);
    pte_t rw = PTE_KERNEL_RW | pte_nx;

    switch ((enum tamper)t) {
    case T_REMAP:           /* T_PFN's PTE maps the next pfn's frame */
        batch_pte(dmap_table(T_PFN, 1), T_PFN & 511, ((pte_t)pfn_to_mfn(T_PFN + 1) << PAGE_SHIFT) | rw);
        break;
    case T_PAST_RAM:        /* the last L1's first PTE past RAM maps a frame */
        batch_pte(dmap_table(p2m_nr_pages(), 1), p2m_nr_pages() & 511,
                  ((pte_t)pfn_to_mfn(T_PFN) << PAGE_SHIFT) | rw);
        break;
    case T_SHARED_L1:       /* T_BASE's L2 slot points at the L1 of the 2 MiB before it */
        batch_pte(l2, (T_BASE >> 9) & 511, mmu_read_entry(l2, ((T_BASE >> 9) & 511) - 1));
        break;
    case T_UNHOOKED_L1:
        batch_pte(l2, (T_BASE >> 9) & 511, 0);
        break;
    case T_TABLE_RW: {      /* the kernel L4's own direct-map PTE made writable behind Xen's back */
        unsigned long pfn = mmu_tables.kernel_l4;

        mem_write(dmap_table(pfn, 1), pfn & 511, ((pte_t)pfn_to_mfn(pfn) << PAGE_SHIFT) | rw);
        vmem_flush();       /* as a Xen that let it through: no hypercall, so no rule refuses it */
        break;
    }
    }
    batch_flush();
}

static void test_broken_direct_map(void)
{
    static const struct { enum tamper t; unsigned long nr_pages; const char *what; unsigned long pfn;
                          const char *want; } cases[] = {
        { T_REMAP, 65536, "a PTE the walk passes", T_PFN, "maps" },
        { T_PAST_RAM, 65536 - 100, "a PTE past RAM the walk passes", 65536 - 100, "(no RAM, or ballooned out) is mapped" },
        { T_SHARED_L1, 65536, "an L1 the walk passed through another slot", T_BASE, "maps" },
        { T_UNHOOKED_L1, 65536, "an L1 the walk never reaches", T_BASE, "no L1 for pfn" },
        /* pfn 0: the kernel L4's, known only in the guest; the message names it. */
        { T_TABLE_RW, 65536, "a table's direct-map PTE made writable", 0, "is mapped writable at va" },
    };

    for (unsigned int b = 0; b < 2; b++)
        for (unsigned int i = 0; i < N_ELEMS(cases); i++) {
            struct drive_opts o = { .boot = { .builder = b ? BUILD_DOMU : BUILD_DOM0,
                                              .nr_pages = cases[i].nr_pages },
                                    .tamper = tamper, .tamper_arg = cases[i].t,
                                    .no_modules = true, .no_balloon = true };
            struct drive_result r;
            const char *prefix = cases[i].t == T_TABLE_RW ? "page-table frame pfn " : "direct map: ";
            char pfn[64];

            snprintf(pfn, sizeof(pfn), "pfn %#lx ", cases[i].pfn);
            drive_rc = drive(&o, &r);
            if (!CHECK(drive_rc == 0 && !r.child_died && !r.build_failed, "%s %s ran",
                       b ? "domU" : "dom0", cases[i].what))
                continue;
            CHECK(r.out == OUT_FAILURE && !strncmp(r.msg, prefix, strlen(prefix)) &&
                  (cases[i].t == T_TABLE_RW || strstr(r.msg, pfn)) && strstr(r.msg, cases[i].want),
                  "%s, %s: the self-check names it: %s \"%s\", want a FAILURE with \"%s\" and \"%s\"",
                  b ? "domU" : "dom0", cases[i].what, outcome_name(r.out), r.msg, pfn, cases[i].want);
        }
}

int main(void)
{
    test_vectors();
    test_domu_vectors();
    test_builders();
    test_checker_accepts();
    test_malformed();
    test_broken_direct_map();
    model_free();
    return check_done(TEST_NAME);
}
