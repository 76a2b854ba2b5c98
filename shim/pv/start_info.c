/* SPDX-License-Identifier: MIT */
/*
 * start_info.c - the start_info checker.
 *
 * Xen's builders lay the initial mapping out from VIRT_BASE as
 *
 *   VIRT_BASE                                        boot stack top
 *   | shim image | [ramdisk] | p2m list | start_info | [xenstore, console]
 *   | boot page tables | boot stack |  ... >= 512 KiB more, to 4 MiB
 *
 * (the ramdisk only without MOD_START_PFN, the p2m list only without an
 * INIT_P2M note, the two ring pages only for a domU).  Everything the shim
 * reads through start_info must therefore lie between the image's end and
 * the boot stack's top; anything else is a builder the shim does not
 * understand, and it stops before dereferencing it.  The builders give
 * each piece pages of its own, so the pieces start_info describes must not
 * share a page either (check_disjoint).
 */
#include "pv/start_info.h"
#include "lib/lib.h"

#define FAIL(...) do { format(why, len, __VA_ARGS__); return false; } while (0)

/* [va, va + size) within [lo, hi), without overflow. */
static bool range_within(unsigned long va, unsigned long size, unsigned long lo, unsigned long hi)
{
    return va >= lo && va <= hi && size <= hi - va;
}

static bool check_region(const char *field, unsigned long va, unsigned long size,
                         const struct boot_bounds *b, char *why, size_t len)
{
    if (!range_within(va, size, b->image_end, b->mapped_end))
        FAIL("start_info.%s [%#lx, +%#lx) lies outside the initial mapping [%#lx, %#lx)",
             field, va, size, b->image_end, b->mapped_end);
    return true;
}

struct piece {
    const char *name;
    unsigned long first, end;   /* pages (virtual page numbers or pfns), [first, end) */
};

/*
 * No two pieces share a page.  A mod_len that reaches into the p2m list
 * (found by make fuzz) is the typical case: each piece alone lies within
 * the initial mapping, but the "ramdisk" the shim would hash and hand on
 * is partly the p2m list.
 */
static bool check_disjoint(const struct piece *p, unsigned int n, char *why, size_t len)
{
    for (unsigned int i = 0; i < n; i++)
        for (unsigned int j = i + 1; j < n; j++)
            if (p[i].first < p[j].end && p[j].first < p[i].end)
                FAIL("%s (pages %#lx-%#lx) overlaps %s (pages %#lx-%#lx)", p[i].name,
                     p[i].first, p[i].end - 1, p[j].name, p[j].first, p[j].end - 1);
    return true;
}

static unsigned long pages_of(unsigned long bytes)
{
    return (bytes >> PAGE_SHIFT) + !!(bytes & ~PAGE_MASK);
}

bool start_info_check(const start_info_t *si, const struct boot_bounds *b,
                      char *why, size_t len)
{
    /* What lies in the initial mapping (virtual pages), and what in pfns past it. */
    struct piece mapped[6], pfns[2];
    unsigned int n_mapped = 0, n_pfns = 0;

    const unsigned long mapped_pages = (b->mapped_end - b->virt_base) >> PAGE_SHIFT;

    if (b->mapped_end <= b->image_end || b->image_end <= b->virt_base)
        FAIL("boot stack top %#lx is not above the image [%#lx, %#lx)",
             b->mapped_end, b->virt_base, b->image_end);
    if (!range_within(b->si_va, sizeof(*si), b->image_end, b->mapped_end))
        FAIL("start_info at %#lx lies outside the initial mapping [%#lx, %#lx)",
             b->si_va, b->image_end, b->mapped_end);

    if (strnlen(si->magic, sizeof(si->magic)) == sizeof(si->magic))
        FAIL("start_info.magic is not NUL-terminated");
    /* Xen's dom0 builder appends "p" (PAE) to the domU builder's string. */
    if (strcmp(si->magic, "xen-3.0-x86_64") != 0 && strcmp(si->magic, "xen-3.0-x86_64p") != 0)
        FAIL("start_info.magic \"%s\" is not \"xen-3.0-x86_64\" (or \"xen-3.0-x86_64p\")",
             si->magic);

    if (si->nr_pages < mapped_pages)
        FAIL("start_info.nr_pages %lu is smaller than the initial mapping (%lu pages)",
             si->nr_pages, mapped_pages);
    if (si->nr_pages > SI_MAX_PAGES)
        FAIL("start_info.nr_pages %lu exceeds what the direct map can hold "
             "(L4 slots %u-%u, %lu pages)", si->nr_pages, PAGE_OFFSET_SLOT, P2M_L4_SLOT - 1,
             (unsigned long)SI_MAX_PAGES);

    if (!si->shared_info || (si->shared_info & ~PAGE_MASK))
        FAIL("start_info.shared_info %#lx is not a page-aligned machine address",
             si->shared_info);
    /*
     * shared_info is a page of Xen's that it shares with us, and sharing
     * sets its M2P entry to INVALID.  A frame past the host's memory (its
     * M2P entry faults; found by make fuzz: the fixmap took it as I/O
     * memory) or a frame of our own RAM is not it.
     */
    if (b->m2p_read) {
        uint64_t e;

        if (!b->m2p_read(si->shared_info >> PAGE_SHIFT, &e))
            FAIL("start_info.shared_info %#lx is not in the host's memory (its M2P entry faults)",
                 si->shared_info);
        if (e != M2P_XEN_PAGE)
            FAIL("start_info.shared_info %#lx is not a page Xen shares with us: its M2P entry is "
                 "%#lx, not INVALID", si->shared_info, (unsigned long)e);
    }

    if (si->pt_base & ~PAGE_MASK)
        FAIL("start_info.pt_base %#lx is not page aligned", si->pt_base);
    /* 4-level paging needs at least one L4, L3, L2 and L1. */
    if (si->nr_pt_frames < 4)
        FAIL("start_info.nr_pt_frames %lu: a 4-level initial mapping needs at least 4",
             si->nr_pt_frames);
    if (si->nr_pt_frames > mapped_pages)
        FAIL("start_info.nr_pt_frames %lu exceeds the initial mapping (%lu pages)",
             si->nr_pt_frames, mapped_pages);
    if (!check_region("pt_base", si->pt_base, si->nr_pt_frames << PAGE_SHIFT, b, why, len))
        return false;
    mapped[n_mapped++] = (struct piece){ "start_info.pt_base", si->pt_base >> PAGE_SHIFT,
                                         (si->pt_base >> PAGE_SHIFT) + si->nr_pt_frames };
    mapped[n_mapped++] = (struct piece){ "the start_info page", b->si_va >> PAGE_SHIFT,
                                         pages_of(b->si_va + sizeof(*si)) };

    if (si->mfn_list & 7)
        FAIL("start_info.mfn_list %#lx is not 8-byte aligned", si->mfn_list);
    if (b->init_p2m_va && si->mfn_list == b->init_p2m_va) {
        /* The builder honoured INIT_P2M: the list has its own mapping and frames. */
        unsigned long need = DIV_ROUND_UP(si->nr_pages * sizeof(xen_pfn_t), PAGE_SIZE);

        if (si->first_p2m_pfn >= si->nr_pages || si->nr_p2m_frames > si->nr_pages - si->first_p2m_pfn)
            FAIL("start_info.first_p2m_pfn %#lx + nr_p2m_frames %lu exceeds nr_pages %lu",
                 si->first_p2m_pfn, si->nr_p2m_frames, si->nr_pages);
        if (si->nr_p2m_frames < need)
            FAIL("start_info.nr_p2m_frames %lu cannot hold a list of %lu entries (%lu pages)",
                 si->nr_p2m_frames, si->nr_pages, need);
        if (si->first_p2m_pfn < mapped_pages)
            FAIL("start_info.first_p2m_pfn %#lx overlaps the initial mapping (pfns below %#lx)",
                 si->first_p2m_pfn, mapped_pages);
        pfns[n_pfns++] = (struct piece){ "start_info.first_p2m_pfn", si->first_p2m_pfn,
                                         si->first_p2m_pfn + si->nr_p2m_frames };
    } else if (!check_region("mfn_list", si->mfn_list, si->nr_pages * sizeof(xen_pfn_t),
                             b, why, len)) {
        return false;
    } else {
        mapped[n_mapped++] = (struct piece){ "start_info.mfn_list", si->mfn_list >> PAGE_SHIFT,
                                             pages_of(si->mfn_list + si->nr_pages * sizeof(xen_pfn_t)) };
    }

    if (si->mod_len) {
        if (si->flags & SIF_MOD_START_PFN) {
            /* Written so that a mod_len near 2^64 cannot wrap to 0 pages. */
            unsigned long pages = pages_of(si->mod_len);

            if (si->mod_start >= si->nr_pages || pages > si->nr_pages - si->mod_start)
                FAIL("start_info.mod_start pfn %#lx + %lu pages (mod_len %lu) exceeds nr_pages %lu",
                     si->mod_start, pages, si->mod_len, si->nr_pages);
            if (si->mod_start < mapped_pages)
                FAIL("start_info.mod_start pfn %#lx overlaps the initial mapping (pfns below %#lx)",
                     si->mod_start, mapped_pages);
            pfns[n_pfns++] = (struct piece){ "start_info.mod_start", si->mod_start, si->mod_start + pages };
        } else {
            if (si->mod_start & ~PAGE_MASK)
                FAIL("start_info.mod_start %#lx is not page aligned", si->mod_start);
            if (!check_region("mod_start", si->mod_start, si->mod_len, b, why, len))
                return false;
            mapped[n_mapped++] = (struct piece){ "start_info.mod_start", si->mod_start >> PAGE_SHIFT,
                                                 pages_of(si->mod_start + si->mod_len) };
        }
    }

    if (strnlen((const char *)si->cmd_line, MAX_GUEST_CMDLINE) == MAX_GUEST_CMDLINE)
        FAIL("start_info.cmd_line is not NUL-terminated within %d bytes", MAX_GUEST_CMDLINE);

    if (!(si->flags & SIF_INITDOMAIN)) {
        /* A domU talks through the console ring: its page must be ours and mapped. */
        unsigned long pfn;

        if (!si->console.domU.mfn)
            FAIL("start_info.console.domU.mfn is 0 in a domU");
        if (!si->console.domU.evtchn)
            FAIL("start_info.console.domU.evtchn is 0 in a domU");
        if (b->m2p_read) {
            uint64_t e;

            pfn = b->m2p_read(si->console.domU.mfn, &e) ? e : ~0UL;
            if (pfn >= mapped_pages || b->virt_base + (pfn << PAGE_SHIFT) < b->image_end)
                FAIL("start_info.console.domU.mfn %#lx (pfn %#lx) is not in the initial mapping",
                     (unsigned long)si->console.domU.mfn, pfn);
            mapped[n_mapped++] = (struct piece){ "the console ring page", (b->virt_base >> PAGE_SHIFT) + pfn,
                                                 (b->virt_base >> PAGE_SHIFT) + pfn + 1 };
            /* The xenstore ring: ours too, where the builder put it (nothing reads it yet). */
            if (b->m2p_read(si->store_mfn, &e) && e < mapped_pages)
                mapped[n_mapped++] = (struct piece){ "the xenstore ring page",
                                                     (b->virt_base >> PAGE_SHIFT) + e,
                                                     (b->virt_base >> PAGE_SHIFT) + e + 1 };
        }
    } else if (!(si->flags & SIF_PRIVILEGED)) {
        FAIL("start_info.flags %#x: SIF_INITDOMAIN without SIF_PRIVILEGED", si->flags);
    }
    return check_disjoint(mapped, n_mapped, why, len) && check_disjoint(pfns, n_pfns, why, len);
}
