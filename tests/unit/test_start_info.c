/* SPDX-License-Identifier: MIT */
/*
 * test_start_info.c - shim/pv/start_info.c's start_info_check() on start_info
 * pages laid out as Xen's dom0 builder (xen/arch/x86/pv/dom0_build.c) and
 * libxenguest's domU builder (xc_dom_x86.c) lay them out, then on a corpus
 * of one-field mutations that it must reject, naming the field, and on
 * boundary layouts that it must accept.
 *
 * The initial mapping, from VIRT_BASE up (start_info.c's comment):
 *
 *   | image | [ramdisk] | p2m list | start_info | [xenstore, console]
 *   | page tables | boot stack | ... padding to 4 MiB, >= 512 KiB |
 *
 * UNIT_VERBOSE=1 prints every case with the checker's message.
 */
#include <limits.h>
#include <string.h>

#include "check.h"
#include "lib/lib.h"
#include "pv/start_info.h"

#define VIRT_BASE    0xffffffff80000000UL
#define IMAGE_SIZE   0x48000UL                  /* the shim with its page-aligned bss */
#define INIT_P2M_VA  0xffffc80000000000UL       /* an INIT_P2M note's address */
#define MFN_BASE     0x140000UL                 /* the fake M2P: mfn = MFN_BASE + pfn */
#define RD_LEN       (3UL * 1024 * 1024 + 12345) /* not a whole number of pages */
#define MiB          (1024UL * 1024)
#define PAGE_UP(x)   ALIGN_UP((unsigned long)(x), PAGE_SIZE)

/* Baseline selection, OR-ed together. */
enum {
    DOM0       = 0,
    DOMU       = 1 << 0,
    RD_MAPPED  = 1 << 1,        /* ramdisk in the initial mapping (no MOD_START_PFN note) */
    RD_PFN     = 1 << 2,        /* SIF_MOD_START_PFN: ramdisk as a first pfn */
    INIT_P2M   = 1 << 3,        /* the p2m list at the INIT_P2M note's address */
    NO_M2P     = 1 << 4,        /* boot_bounds.m2p_read == NULL */
};

struct fx {
    start_info_t si;
    struct boot_bounds b;
    unsigned int v;
    /* The layout, for mutations to aim at. */
    unsigned long image_end, rd_va, rd_pfn, p2m_va, si_va, store_va, console_va;
    unsigned long pt_va, nr_pt, stack_top, v_end, mapped_pages;
};

/*
 * The fake M2P: the guest's frames map to their pfns, every other frame of
 * the host reads INVALID (as Xen's pages shared with us do), and a read
 * past the host's memory faults.
 */
#define HOST_MFNS    0x400000UL                 /* a 16 GiB host */
static unsigned long m2p_nr_pages;

static unsigned long fake_mfn_to_pfn(unsigned long mfn)
{
    return mfn >= MFN_BASE && mfn - MFN_BASE < m2p_nr_pages ? mfn - MFN_BASE : ~0UL;
}

static bool fake_m2p_read(unsigned long mfn, uint64_t *entry)
{
    if (mfn >= HOST_MFNS)
        return false;
    *entry = fake_mfn_to_pfn(mfn);
    return true;
}

static unsigned long va_to_pfn(unsigned long va)
{
    return (va - VIRT_BASE) >> PAGE_SHIFT;
}

/* List pages plus the L3, L2s and L1s a builder maps them with. */
static unsigned long p2m_frames_for(unsigned long nr_pages)
{
    unsigned long pages = DIV_ROUND_UP(nr_pages * sizeof(xen_pfn_t), PAGE_SIZE);

    return pages + 1 + DIV_ROUND_UP(pages, 512UL * 512) + DIV_ROUND_UP(pages, 512);
}

static void fx_build(struct fx *f, unsigned int v)
{
    start_info_t *si = &f->si;
    unsigned long nr_pages = v & DOMU ? 32768 : 65536;      /* 128 / 256 MiB */
    unsigned long va;

    memset(f, 0, sizeof(*f));
    f->v = v;
    f->image_end = va = VIRT_BASE + IMAGE_SIZE;
    if (v & RD_MAPPED) {
        f->rd_va = va;
        va = PAGE_UP(va + RD_LEN);
    }
    if (!(v & INIT_P2M)) {
        f->p2m_va = va;
        va = PAGE_UP(va + nr_pages * sizeof(xen_pfn_t));
    } else {
        f->p2m_va = INIT_P2M_VA;
    }
    /* dom0: start_info and the VGA console info share a page. */
    f->si_va = va;
    va += PAGE_SIZE;
    if (v & DOMU) {
        f->store_va = va;
        va += PAGE_SIZE;
        f->console_va = va;
        va += PAGE_SIZE;
    }
    /* Page tables: one L4, L3, L2 and an L1 per 2 MiB of [VIRT_BASE, v_end). */
    f->pt_va = va;
    for (f->nr_pt = 4;;) {
        unsigned long need;

        f->stack_top = va + f->nr_pt * PAGE_SIZE + PAGE_SIZE;
        f->v_end = ALIGN_UP(f->stack_top, 4 * MiB);
        if (f->v_end - f->stack_top < 512 * 1024)
            f->v_end += 4 * MiB;
        need = 3 + ((f->v_end - VIRT_BASE) >> 21);
        if (need <= f->nr_pt)
            break;
        f->nr_pt = need;
    }
    f->mapped_pages = (f->stack_top - VIRT_BASE) >> PAGE_SHIFT;
    f->rd_pfn = va_to_pfn(f->v_end);    /* the builders put it after the mapping */
    if (v & INIT_P2M) {
        /* The list's frames and its own page tables come right after the mapping. */
        si->first_p2m_pfn = va_to_pfn(f->v_end);
        si->nr_p2m_frames = p2m_frames_for(nr_pages);
        f->rd_pfn = si->first_p2m_pfn + si->nr_p2m_frames;
    }

    strcpy(si->magic, "xen-3.0-x86_64");
    si->nr_pages = nr_pages;
    si->shared_info = v & DOMU ? 0x1ff7f000UL : 0x7fe45000UL;
    si->flags = v & DOMU ? 0 : SIF_PRIVILEGED | SIF_INITDOMAIN;
    si->pt_base = f->pt_va;
    si->nr_pt_frames = f->nr_pt;
    si->mfn_list = f->p2m_va;
    if (v & RD_MAPPED) {
        si->mod_start = f->rd_va;
        si->mod_len = RD_LEN;
    } else if (v & RD_PFN) {
        si->flags |= SIF_MOD_START_PFN;
        si->mod_start = f->rd_pfn;
        si->mod_len = RD_LEN;
    }
    if (v & DOMU) {
        si->store_mfn = MFN_BASE + va_to_pfn(f->store_va);
        si->store_evtchn = 1;
        si->console.domU.mfn = MFN_BASE + va_to_pfn(f->console_va);
        si->console.domU.evtchn = 2;
    } else {
        si->console.dom0.info_off = sizeof(start_info_t);
        si->console.dom0.info_size = sizeof(dom0_vga_console_info_t);
    }
    strcpy((char *)si->cmd_line, "console=hvc0 loglevel=8");

    f->b.virt_base = VIRT_BASE;
    f->b.image_end = f->image_end;
    f->b.mapped_end = f->stack_top;
    f->b.si_va = f->si_va;
    f->b.init_p2m_va = v & INIT_P2M ? INIT_P2M_VA : 0;
    f->b.m2p_read = v & NO_M2P ? NULL : fake_m2p_read;
    m2p_nr_pages = nr_pages;
}

static const char *fx_name(unsigned int v)
{
    static char name[128];

    format(name, sizeof(name), "%s%s%s%s", v & DOMU ? "domU" : "dom0",
           v & RD_MAPPED ? "+mapped-ramdisk" : v & RD_PFN ? "+pfn-ramdisk" : "",
           v & INIT_P2M ? "+init-p2m" : "", v & NO_M2P ? "+no-m2p" : "");
    return name;
}

#define WHY_LEN 256

/* Run the checker the way setup.c does; fills why (or "(no message)"). */
static bool run_check(const struct fx *f, char *why, bool *sane)
{
    char buf[WHY_LEN + 64];
    start_info_t copy = f->si;
    bool ok;

    memset(buf, 0xa5, sizeof(buf));
    ok = start_info_check(&f->si, &f->b, buf, WHY_LEN);
    *sane = memcmp(&copy, &f->si, sizeof(copy)) == 0;       /* si is const */
    for (size_t i = WHY_LEN; i < sizeof(buf); i++)
        if ((uint8_t)buf[i] != 0xa5)
            *sane = false;                                  /* wrote past len */
    if (!ok && !memchr(buf, '\0', WHY_LEN))
        *sane = false;                                      /* not terminated */
    if (ok)
        strcpy(why, "(no message)");
    else
        memcpy(why, buf, WHY_LEN);
    return ok;
}

static void expect_fail(int line, const char *name, const struct fx *f, const char *field)
{
    char why[WHY_LEN];
    bool sane, ok = run_check(f, why, &sane);

    check_report(!ok && sane && strstr(why, field), __FILE__, line, "rejected, naming the field",
                 " [%s] %s: %s; message: \"%s\"; expected a rejection naming \"%s\"",
                 fx_name(f->v), name, ok ? "ACCEPTED" : "rejected", why, field);
}

static void expect_pass(int line, const char *name, const struct fx *f)
{
    char why[WHY_LEN];
    bool sane, ok = run_check(f, why, &sane);

    check_report(ok && sane, __FILE__, line, "accepted", " [%s] %s: %s; message: \"%s\"",
                 fx_name(f->v), name, ok ? "accepted" : "REJECTED", why);
}

/*
 * BAD(baseline, "field it must name", "what", mutation...) and
 * GOOD(baseline, "what", mutation...): the mutation sees si, b and f.
 */
#define MUTATE(base, ...)                                       \
    struct fx fx_;                                              \
    fx_build(&fx_, (base));                                     \
    {                                                           \
        struct fx *f = &fx_;                                    \
        start_info_t *si = &fx_.si;                             \
        struct boot_bounds *b = &fx_.b;                         \
        (void)f; (void)si; (void)b;                             \
        __VA_ARGS__;                                            \
    }
#define BAD(base, field, name, ...)                             \
    do { MUTATE(base, __VA_ARGS__); expect_fail(__LINE__, name, &fx_, field); } while (0)
#define GOOD(base, name, ...)                                   \
    do { MUTATE(base, __VA_ARGS__); expect_pass(__LINE__, name, &fx_); } while (0)

static void test_baselines(void)
{
    static const unsigned int rd[] = { 0, RD_MAPPED, RD_PFN };

    for (unsigned int d = 0; d < 2; d++)
        for (unsigned int r = 0; r < N_ELEMS(rd); r++)
            for (unsigned int p = 0; p < 2; p++)
                for (unsigned int m = 0; m < 2; m++) {
                    unsigned int v = (d ? DOMU : DOM0) | rd[r] | (p ? INIT_P2M : 0) |
                                     (m ? NO_M2P : 0);
                    GOOD(v, "baseline");
                }

    /* The layout itself is what the builders produce. */
    {
        struct fx f;

        fx_build(&f, DOM0 | RD_MAPPED);
        CHECK(f.rd_va == VIRT_BASE + IMAGE_SIZE && f.p2m_va == PAGE_UP(f.rd_va + RD_LEN) &&
              f.si_va == PAGE_UP(f.p2m_va + 65536 * 8) && f.pt_va == f.si_va + PAGE_SIZE &&
              f.stack_top == f.pt_va + (f.nr_pt + 1) * PAGE_SIZE && f.v_end % (4 * MiB) == 0 &&
              f.v_end - f.stack_top >= 512 * 1024 && f.nr_pt >= 3 + (f.v_end - VIRT_BASE) / (2 * MiB),
              "dom0 layout: rd %#lx p2m %#lx si %#lx pt %#lx+%lu stack top %#lx v_end %#lx",
              f.rd_va, f.p2m_va, f.si_va, f.pt_va, f.nr_pt, f.stack_top, f.v_end);
        fx_build(&f, DOMU | RD_PFN);
        CHECK(f.console_va == f.si_va + 2 * PAGE_SIZE && f.pt_va == f.console_va + PAGE_SIZE &&
              f.rd_pfn >= f.mapped_pages && f.rd_pfn + DIV_ROUND_UP(RD_LEN, PAGE_SIZE) <= f.si.nr_pages &&
              fake_mfn_to_pfn(f.si.console.domU.mfn) == va_to_pfn(f.console_va),
              "domU layout: si %#lx console %#lx pt %#lx rd pfn %#lx", f.si_va, f.console_va,
              f.pt_va, f.rd_pfn);
    }
}

static void test_malformed(void)
{
    const unsigned long max = SI_MAX_PAGES;

    /* The bounds the shim knows by itself. */
    BAD(DOM0, "boot stack top", "boot stack top at the image end", b->mapped_end = b->image_end);
    BAD(DOM0, "boot stack top", "boot stack top below the image", b->mapped_end = VIRT_BASE + 0x1000);
    BAD(DOM0, "boot stack top", "boot stack top 0", b->mapped_end = 0);
    BAD(DOM0, "boot stack top", "image end at virt_base", b->image_end = VIRT_BASE);
    BAD(DOM0, "start_info at", "start_info inside the image", b->si_va = VIRT_BASE + 0x1000);
    BAD(DOM0, "start_info at", "start_info straddling the stack top",
        b->si_va = b->mapped_end - sizeof(start_info_t) / 2);
    BAD(DOM0, "start_info at", "start_info at the stack top", b->si_va = b->mapped_end);
    BAD(DOMU, "start_info at", "start_info at 0", b->si_va = 0);
    BAD(DOMU, "start_info at", "start_info at the top of the address space",
        b->si_va = ~0UL - 100);

    /* magic */
    BAD(DOM0, "start_info.magic", "magic of a 32-bit PAE guest", strcpy(si->magic, "xen-3.0-x86_32p"));
    BAD(DOM0, "start_info.magic", "magic empty", memset(si->magic, 0, sizeof(si->magic)));
    BAD(DOMU, "start_info.magic", "magic upper case", strcpy(si->magic, "XEN-3.0-x86_64"));
    BAD(DOMU, "start_info.magic", "magic cut short", strcpy(si->magic, "xen-3.0-x86_6"));
    BAD(DOM0, "start_info.magic", "magic not NUL-terminated (all 'x')", memset(si->magic, 'x', sizeof(si->magic)));
    BAD(DOM0, "start_info.magic", "magic right but not NUL-terminated",
        memset(si->magic, '!', sizeof(si->magic)); memcpy(si->magic, "xen-3.0-x86_64", 14));
    BAD(DOMU, "start_info.magic", "magic with trailing characters",
        strcpy(si->magic, "xen-3.0-x86_64-junk"));

    /* nr_pages */
    BAD(DOM0, "start_info.nr_pages", "nr_pages 0", si->nr_pages = 0);
    BAD(DOM0, "start_info.nr_pages", "nr_pages 1", si->nr_pages = 1);
    BAD(DOMU, "start_info.nr_pages", "nr_pages one short of the mapping",
        si->nr_pages = f->mapped_pages - 1);
    BAD(DOM0, "start_info.nr_pages", "nr_pages one page past what the direct map holds",
        si->nr_pages = max + 1; si->nr_p2m_frames = p2m_frames_for(max + 1));
    BAD(DOM0, "direct map can hold", "nr_pages one page past the direct map: the message names it",
        si->nr_pages = max + 1);
    BAD(DOM0, "start_info.nr_pages", "nr_pages MACH2PHYS_NR_ENTRIES (the M2P's bound, past the direct map's)",
        si->nr_pages = MACH2PHYS_NR_ENTRIES);
    BAD(DOM0 | INIT_P2M, "start_info.nr_pages", "nr_pages ULONG_MAX", si->nr_pages = ULONG_MAX);

    /* shared_info */
    BAD(DOM0, "start_info.shared_info", "shared_info 0", si->shared_info = 0);
    BAD(DOMU, "start_info.shared_info", "shared_info half a page in", si->shared_info += 0x800);
    BAD(DOMU, "start_info.shared_info", "shared_info + 8", si->shared_info += 8);
    /* The M2P says whether it is a page Xen shares with us (make fuzz found the first). */
    BAD(DOM0, "not in the host's memory", "shared_info past the host's memory",
        si->shared_info = HOST_MFNS << PAGE_SHIFT);
    BAD(DOMU, "not in the host's memory", "shared_info far past the host's memory",
        si->shared_info = 0xb7000000000UL);
    BAD(DOM0, "not a page Xen shares with us", "shared_info on our own first page",
        si->shared_info = MFN_BASE << PAGE_SHIFT);
    BAD(DOMU, "not a page Xen shares with us", "shared_info on our start_info page",
        si->shared_info = (MFN_BASE + va_to_pfn(f->si_va)) << PAGE_SHIFT);
    GOOD(DOMU, "shared_info on the host's last frame", si->shared_info = (HOST_MFNS - 1) << PAGE_SHIFT);

    /* pt_base, nr_pt_frames */
    BAD(DOM0, "start_info.pt_base", "pt_base not page aligned", si->pt_base += 8);
    BAD(DOM0, "start_info.pt_base", "pt_base inside the image", si->pt_base = VIRT_BASE);
    BAD(DOM0, "start_info.pt_base", "pt_base straddling the image end", si->pt_base = f->image_end - PAGE_SIZE);
    BAD(DOMU, "start_info.pt_base", "pt_base at the stack top", si->pt_base = f->stack_top);
    BAD(DOMU, "start_info.pt_base", "pt_base frames running past the stack top",
        si->pt_base = f->stack_top - PAGE_SIZE);
    BAD(DOM0, "start_info.pt_base", "pt_base 0", si->pt_base = 0);
    BAD(DOM0, "start_info.pt_base", "pt_base at the top of the address space",
        si->pt_base = ~0UL & PAGE_MASK);
    BAD(DOM0, "start_info.nr_pt_frames", "nr_pt_frames 0", si->nr_pt_frames = 0);
    BAD(DOMU, "start_info.nr_pt_frames", "nr_pt_frames 3", si->nr_pt_frames = 3);
    BAD(DOM0, "start_info.nr_pt_frames", "nr_pt_frames one more than the mapping",
        si->nr_pt_frames = f->mapped_pages + 1);
    BAD(DOM0, "start_info.nr_pt_frames", "nr_pt_frames ULONG_MAX", si->nr_pt_frames = ULONG_MAX);
    BAD(DOM0, "start_info.nr_pt_frames", "nr_pt_frames 2^52 (shifts to 0)", si->nr_pt_frames = 1UL << 52);
    BAD(DOM0, "start_info.pt_base", "nr_pt_frames as large as the mapping",
        si->nr_pt_frames = f->mapped_pages);

    /* mfn_list */
    BAD(DOM0, "start_info.mfn_list", "mfn_list 4-byte aligned", si->mfn_list += 4);
    BAD(DOMU, "start_info.mfn_list", "mfn_list odd", si->mfn_list += 1);
    BAD(DOM0, "start_info.mfn_list", "mfn_list 0", si->mfn_list = 0);
    BAD(DOM0, "start_info.mfn_list", "mfn_list inside the image", si->mfn_list = VIRT_BASE + 0x2000);
    BAD(DOMU, "start_info.mfn_list", "mfn_list at the stack top", si->mfn_list = f->stack_top);
    BAD(DOM0, "start_info.mfn_list", "mfn_list near the top of the address space",
        si->mfn_list = ~0UL & ~7UL);
    BAD(DOM0, "start_info.mfn_list", "p2m list of the largest guest (what the direct map holds) cannot fit",
        si->nr_pages = max);
    BAD(DOMU, "start_info.mfn_list", "p2m list one entry longer than the mapping holds",
        si->nr_pages = (f->stack_top - si->mfn_list) / 8 + 1);
    BAD(DOM0, "start_info.mfn_list", "mfn_list 2^63: size overflow not hidden",
        si->mfn_list = 1UL << 63);

    /* INIT_P2M: the list's frames must exist, hold the list, and not be the mapping. */
    BAD(DOM0 | INIT_P2M, "start_info.nr_p2m_frames", "INIT_P2M: nr_p2m_frames 0",
        si->nr_p2m_frames = 0);
    BAD(DOMU | INIT_P2M, "start_info.nr_p2m_frames", "INIT_P2M: one frame short of the list",
        si->nr_p2m_frames = DIV_ROUND_UP(si->nr_pages * 8, PAGE_SIZE) - 1);
    BAD(DOM0 | INIT_P2M, "start_info.first_p2m_pfn", "INIT_P2M: frames past nr_pages",
        si->first_p2m_pfn = si->nr_pages - si->nr_p2m_frames + 1);
    BAD(DOM0 | INIT_P2M, "start_info.first_p2m_pfn", "INIT_P2M: first_p2m_pfn ULONG_MAX",
        si->first_p2m_pfn = ULONG_MAX);
    BAD(DOMU | INIT_P2M, "start_info.first_p2m_pfn", "INIT_P2M: frames inside the initial mapping",
        si->first_p2m_pfn = 1);

    /* INIT_P2M: only exactly the note's address is exempt. */
    BAD(DOM0 | INIT_P2M, "start_info.mfn_list", "INIT_P2M: mfn_list 8 past the note's address",
        si->mfn_list = INIT_P2M_VA + 8);
    BAD(DOMU | INIT_P2M, "start_info.mfn_list", "INIT_P2M: mfn_list a page below the note's address",
        si->mfn_list = INIT_P2M_VA - PAGE_SIZE);
    BAD(DOM0 | INIT_P2M, "start_info.mfn_list", "INIT_P2M: mfn_list 4 past the note's address",
        si->mfn_list = INIT_P2M_VA + 4);
    BAD(DOM0 | INIT_P2M, "start_info.mfn_list", "INIT_P2M address without the note declared",
        b->init_p2m_va = 0);
    BAD(DOMU | INIT_P2M, "start_info.mfn_list", "INIT_P2M: mfn_list 0 with the note declared",
        si->mfn_list = 0);

    /* Ramdisk given as a pfn. */
    BAD(DOM0 | RD_PFN, "start_info.mod_start", "pfn ramdisk at nr_pages", si->mod_start = si->nr_pages);
    BAD(DOM0 | RD_PFN, "start_info.mod_start", "pfn ramdisk at pfn ULONG_MAX", si->mod_start = ULONG_MAX);
    BAD(DOMU | RD_PFN, "start_info.mod_start", "pfn ramdisk: last page one past nr_pages",
        si->mod_start = si->nr_pages - DIV_ROUND_UP(RD_LEN, PAGE_SIZE) + 1);
    BAD(DOM0 | RD_PFN, "start_info.mod_start", "pfn ramdisk: mod_len longer than all of memory",
        si->mod_len = si->nr_pages * PAGE_SIZE + 1);
    BAD(DOM0 | RD_PFN, "start_info.mod_start", "pfn ramdisk: mod_len ULONG_MAX",
        si->mod_len = ULONG_MAX);
    BAD(DOMU | RD_PFN, "start_info.mod_start", "pfn ramdisk: mod_len ULONG_MAX - 4094 (page count wraps to 0)",
        si->mod_len = ULONG_MAX - 4094);
    BAD(DOM0 | RD_PFN, "start_info.mod_start", "pfn ramdisk: mod_len 2^63", si->mod_len = 1UL << 63);
    BAD(DOM0 | RD_PFN, "start_info.mod_start", "pfn ramdisk at pfn 0 (the image)", si->mod_start = 0);
    BAD(DOMU | RD_PFN, "start_info.mod_start", "pfn ramdisk on the last mapped pfn",
        si->mod_start = f->mapped_pages - 1);
    BAD(DOM0 | RD_PFN, "start_info.mod_start", "pfn ramdisk on the p2m list's pfn",
        si->mod_start = va_to_pfn(f->p2m_va));
    BAD(DOM0 | RD_PFN, "start_info.mod_start", "pfn ramdisk without SIF_MOD_START_PFN (read as a va)",
        si->flags &= ~SIF_MOD_START_PFN);

    /* Ramdisk mapped in the initial mapping. */
    BAD(DOM0 | RD_MAPPED, "start_info.mod_start", "mapped ramdisk inside the image", si->mod_start = VIRT_BASE);
    BAD(DOM0 | RD_MAPPED, "start_info.mod_start", "mapped ramdisk not page aligned", si->mod_start += 0x10);
    BAD(DOMU | RD_MAPPED, "start_info.mod_start", "mapped ramdisk at the stack top", si->mod_start = f->stack_top);
    BAD(DOM0 | RD_MAPPED, "start_info.mod_start", "mapped ramdisk one byte too long",
        si->mod_len = f->stack_top - si->mod_start + 1);
    BAD(DOM0 | RD_MAPPED, "start_info.mod_start", "mapped ramdisk mod_len ULONG_MAX", si->mod_len = ULONG_MAX);
    BAD(DOMU | RD_MAPPED, "start_info.mod_start", "mapped ramdisk wrapping the address space",
        si->mod_start = ~0UL & PAGE_MASK; si->mod_len = 0x2000);
    BAD(DOM0 | RD_MAPPED, "start_info.mod_start", "mapped ramdisk given as a pfn without the flag",
        si->mod_start = f->rd_pfn);
    BAD(DOM0 | RD_MAPPED, "start_info.mod_start", "mapped ramdisk at 0", si->mod_start = 0);

    /* cmd_line */
    BAD(DOM0, "start_info.cmd_line", "cmd_line without a NUL",
        memset(si->cmd_line, 'a', sizeof(si->cmd_line)));
    BAD(DOMU, "start_info.cmd_line", "cmd_line of 1024 characters",
        memset(si->cmd_line, ' ', sizeof(si->cmd_line)));

    /* domU console */
    BAD(DOMU, "start_info.console.domU.mfn", "console mfn 0", si->console.domU.mfn = 0);
    BAD(DOMU | NO_M2P, "start_info.console.domU.mfn", "console mfn 0, no M2P", si->console.domU.mfn = 0);
    BAD(DOMU, "start_info.console.domU.evtchn", "console evtchn 0", si->console.domU.evtchn = 0);
    BAD(DOMU, "start_info.console.domU.mfn", "console mfn unknown to the M2P",
        si->console.domU.mfn = MFN_BASE - 1);
    BAD(DOMU, "start_info.console.domU.mfn", "console pfn just past the mapping",
        si->console.domU.mfn = MFN_BASE + f->mapped_pages);
    BAD(DOMU, "start_info.console.domU.mfn", "console pfn at the end of memory",
        si->console.domU.mfn = MFN_BASE + si->nr_pages - 1);
    BAD(DOMU, "start_info.console.domU.mfn", "console pfn 0 (the image's first page)",
        si->console.domU.mfn = MFN_BASE);
    BAD(DOMU, "start_info.console.domU.mfn", "console pfn inside the image",
        si->console.domU.mfn = MFN_BASE + va_to_pfn(f->image_end) - 1);

    /* flags */
    BAD(DOM0, "start_info.flags", "SIF_INITDOMAIN without SIF_PRIVILEGED", si->flags = SIF_INITDOMAIN);
    BAD(DOM0 | RD_PFN, "start_info.flags", "SIF_INITDOMAIN|SIF_MOD_START_PFN without SIF_PRIVILEGED",
        si->flags &= ~SIF_PRIVILEGED);
    BAD(DOM0, "start_info.console.domU", "dom0 start_info with no flags is read as a domU",
        si->flags = 0);
}

static void test_boundaries(void)
{
    /* Regions ending exactly at the boot stack top. */
    GOOD(DOM0, "page tables ending exactly at the stack top",
         si->pt_base = f->stack_top - si->nr_pt_frames * PAGE_SIZE);
    /* (The pieces must not overlap: what a case moves onto another's pages, it moves away.) */
    GOOD(DOMU | INIT_P2M, "page tables starting exactly at the image end",
         si->pt_base = f->image_end; b->si_va = f->image_end + si->nr_pt_frames * PAGE_SIZE;
         si->store_mfn = MFN_BASE + va_to_pfn(b->si_va) + 1; si->console.domU.mfn = MFN_BASE + va_to_pfn(b->si_va) + 2);
    GOOD(DOM0, "nr_pt_frames exactly 4", si->nr_pt_frames = 4);
    GOOD(DOM0, "p2m list ending exactly at the stack top",
         si->mfn_list = f->stack_top - si->nr_pages * 8; si->pt_base = f->p2m_va;
         b->si_va = f->p2m_va + si->nr_pt_frames * PAGE_SIZE);
    BAD(DOMU, "overlaps", "p2m list filling all from the image end to the stack top",
         si->mfn_list = f->image_end; si->nr_pages = (f->stack_top - f->image_end) / 8);
    BAD(DOM0 | RD_MAPPED, "overlaps", "mapped ramdisk over all from the image end to the stack top",
         si->mod_start = PAGE_UP(f->image_end); si->mod_len = f->stack_top - si->mod_start);
    GOOD(DOM0 | RD_MAPPED, "mapped ramdisk of one byte at the last page",
         si->mod_start = f->stack_top - PAGE_SIZE; si->mod_len = 1);
    GOOD(DOM0, "start_info ending exactly at the stack top",
         b->si_va = b->mapped_end - sizeof(start_info_t));
    GOOD(DOM0 | INIT_P2M, "start_info exactly at the image end", b->si_va = b->image_end);

    /* The pfn ramdisk. */
    GOOD(DOM0 | RD_PFN, "pfn ramdisk exactly filling nr_pages",
         si->mod_len = (si->nr_pages - si->mod_start) * PAGE_SIZE);
    GOOD(DOMU | RD_PFN, "pfn ramdisk whose last partial page is the last pfn",
         si->mod_len = (si->nr_pages - si->mod_start - 1) * PAGE_SIZE + 1);
    GOOD(DOM0 | RD_PFN, "pfn ramdisk on the first pfn after the mapping",
         si->mod_start = f->mapped_pages);
    GOOD(DOM0 | RD_PFN, "pfn ramdisk of one page on the last pfn",
         si->mod_start = si->nr_pages - 1; si->mod_len = PAGE_SIZE);
    GOOD(DOM0, "no ramdisk: mod_start is ignored when mod_len is 0",
         si->mod_start = 0x1234567; si->mod_len = 0);
    GOOD(DOM0, "no ramdisk, pfn flag: mod_start is ignored when mod_len is 0",
         si->flags |= SIF_MOD_START_PFN; si->mod_start = ULONG_MAX; si->mod_len = 0);

    /* nr_pages. */
    GOOD(DOM0, "nr_pages exactly the mapping", si->nr_pages = f->mapped_pages);
    GOOD(DOM0 | INIT_P2M, "nr_pages exactly what the direct map holds (127 x 512 GiB), INIT_P2M list",
         si->nr_pages = DMAP_MAX_PAGES; si->nr_p2m_frames = p2m_frames_for(DMAP_MAX_PAGES));
    GOOD(DOMU | INIT_P2M, "INIT_P2M frames ending exactly at nr_pages",
         si->first_p2m_pfn = si->nr_pages - si->nr_p2m_frames);
    GOOD(DOMU | INIT_P2M, "INIT_P2M declared, but the builder put the list in the mapping",
         si->nr_pages = f->mapped_pages; si->mfn_list = f->image_end; b->si_va = f->stack_top - PAGE_SIZE);

    /* No two pieces share a page (make fuzz found a mod_len reaching into the p2m list). */
    BAD(DOM0 | RD_MAPPED, "overlaps", "mapped ramdisk one page longer, into the p2m list",
        si->mod_len += PAGE_SIZE);
    BAD(DOMU | RD_MAPPED, "overlaps", "mapped ramdisk one byte into the p2m list's page",
        si->mod_len = f->p2m_va - si->mod_start + 1);
    GOOD(DOMU | RD_MAPPED, "mapped ramdisk up to the p2m list's first byte",
         si->mod_len = f->p2m_va - si->mod_start);
    BAD(DOMU, "overlaps", "page tables over the start_info page", si->pt_base = f->si_va);
    BAD(DOM0, "overlaps", "p2m list one entry into the page tables",
        si->mfn_list = si->pt_base - si->nr_pages * 8 + 8);
    BAD(DOMU, "overlaps", "p2m list on the start_info page", b->si_va = (si->mfn_list + 8) & PAGE_MASK);
    BAD(DOMU | RD_MAPPED, "overlaps the console ring page", "mapped ramdisk on the console ring",
        si->mod_start = f->console_va; si->mod_len = 100);
    BAD(DOMU | RD_MAPPED, "overlaps the xenstore ring page", "mapped ramdisk on the xenstore ring",
        si->mod_start = f->store_va; si->mod_len = 100);
    BAD(DOMU, "overlaps the console ring page", "page tables over the console ring",
        si->pt_base = f->console_va);
    BAD(DOMU | INIT_P2M | RD_PFN, "overlaps", "pfn ramdisk on the INIT_P2M frames",
        si->mod_start = si->first_p2m_pfn + si->nr_p2m_frames - 1);
    GOOD(DOMU | INIT_P2M | RD_PFN, "pfn ramdisk right after the INIT_P2M frames",
         si->mod_start = si->first_p2m_pfn + si->nr_p2m_frames);

    /* Strings. */
    GOOD(DOM0, "cmd_line of 1023 characters and a NUL",
         memset(si->cmd_line, 'c', sizeof(si->cmd_line) - 1); si->cmd_line[sizeof(si->cmd_line) - 1] = 0);
    GOOD(DOM0, "cmd_line empty", si->cmd_line[0] = 0);
    GOOD(DOMU, "magic followed by garbage after its NUL",
         memset(si->magic + 15, 'z', sizeof(si->magic) - 15));

    /* The console. */
    GOOD(DOMU, "console on the last page below the stack top",
         si->console.domU.mfn = MFN_BASE + f->mapped_pages - 1);
    GOOD(DOMU | NO_M2P, "no M2P: the console mfn cannot be checked", si->console.domU.mfn = 0xabcdef);
    GOOD(DOMU, "a privileged domU", si->flags |= SIF_PRIVILEGED);
    GOOD(DOM0, "dom0's console union is not read as a domU's",
         si->console.domU.mfn = 0; si->console.domU.evtchn = 0);
    GOOD(DOM0, "dom0 with other SIF flags", si->flags |= SIF_MULTIBOOT_MOD | SIF_VIRT_P2M_4TOOLS);
}

static void test_message(void)
{
    /* A short buffer still gets a NUL-terminated prefix of the message. */
    struct fx f;
    char why[16];
    bool ok;

    fx_build(&f, DOM0);
    f.si.pt_base += 8;
    memset(why, 'Z', sizeof(why));
    ok = start_info_check(&f.si, &f.b, why, 12);
    CHECK(!ok && why[11] == '\0' && !strcmp(why, "start_info.") && why[12] == 'Z',
          "12-byte message buffer holds \"%.12s\"", why);

    /* The message carries the offending value. */
    {
        char buf[WHY_LEN], want[64];
        bool sane;

        fx_build(&f, DOM0);
        f.si.pt_base = 0xffffffff80000008UL;
        run_check(&f, buf, &sane);
        format(want, sizeof(want), "%#lx", f.si.pt_base);
        CHECK(strstr(buf, want) != NULL, "message \"%s\" lacks the value %s", buf, want);
    }
}

int main(void)
{
    test_baselines();
    test_malformed();
    test_boundaries();
    test_message();
    return check_done("test_start_info");
}
