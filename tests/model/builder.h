/* SPDX-License-Identifier: MIT */
/*
 * builder.h - boot states as Xen's builders make them (builder.c).
 *
 *   dom0   xen/arch/x86/pv/dom0_build.c: kernel, [ramdisk], p2m list,
 *          start_info, page tables in walk order (L4, L1, L2, L3, L1, ...),
 *          boot stack; end rounded to 4 MiB with >= 512 KiB after the stack.
 *   domU   tools/libs/guest (xg_dom_core.c, xg_dom_x86.c): kernel, [ramdisk],
 *          p2m list, start_info, xenstore, console, page tables by level
 *          (L4, L3s, L2s, L1s), boot stack, padding; an unmapped ramdisk
 *          after the padding.
 *
 * Both end with the L4 loaded in CR3 and pinned, which validates every
 * table through the model (so a builder mistake is a refusal, not a silent
 * state).  The domain's pfn->mfn relation is a list of extents: dom0's
 * contiguous initial allocation, the ramdisk's own module frames, then
 * chunks placed high in the machine (reversed pfns on a debug Xen); domU's
 * 2 MiB extents in descending machine order.
 */
#ifndef TESTS_MODEL_BUILDER_H
#define TESTS_MODEL_BUILDER_H

#include "model.h"

#define BOOT_VIRT_BASE      0xffffffff80000000UL
#define BOOT_KERNEL_SIZE    0x55000UL       /* the shim's image, as Xen printed it */
#define BOOT_WINDOW_OFFSET  0x10000UL       /* the fill window inside the image */
#define BOOT_WINDOW_PAGES   64

enum builder { BUILD_DOM0, BUILD_DOMU };

struct boot_cfg {
    enum builder builder;
    unsigned long nr_pages;
    unsigned long kernel_size;      /* bytes from VIRT_BASE (0: BOOT_KERNEL_SIZE) */
    unsigned long rd_len;           /* ramdisk bytes, 0 = none */
    const uint8_t *rd_bytes;        /* its contents (NULL: a pattern, machine.c's ramdisk_word) */
    bool rd_mapped;                 /* the image has no MOD_START_PFN note */
    unsigned long init_p2m;         /* XEN_ELFNOTE_INIT_P2M address, 0 = none */
    bool debug_xen;                 /* dom0 on a debug Xen: high pfns reversed */
    bool magic_p;                   /* dom0 on Xen 4.17: "xen-3.0-x86_64p" */
    bool m2p_strict, no_linear_pt, no_l1tf_check;
    bool no_nx;                     /* a CPU without NX */
    /* domU: pfns [hole_pfn, hole_pfn + hole_pages) get no frame (a vNUMA-style hole, INVALID in the p2m). */
    unsigned long hole_pfn, hole_pages;
    /*
     * With a hole, as libxenguest builds vNUMA memory ranges: two ranges
     * around the hole (XENMEM_get_vnumainfo), start_info.nr_pages counts the
     * domain's pages (nr_pages - hole_pages), and the list keeps nr_pages
     * entries, so RAM lies past start_info's nr_pages.
     */
    bool vnuma;
    const char *cmdline;
};

struct boot_layout {
    unsigned long virt_base, v_end;
    unsigned long vkern_end, image_end;
    unsigned long vinitrd_start, vinitrd_end;       /* 0 when not mapped */
    unsigned long vphysmap_start, vphysmap_end;
    unsigned long vstartinfo_start, vstartinfo_end;
    unsigned long vxenstore_start, vconsole_start;  /* domU */
    unsigned long vpt_start, vpt_end;
    unsigned long vstack_start, vstack_end;
    unsigned long nr_pt_frames;                     /* the initial mapping's tables */
    unsigned long nr_l3, nr_l2, nr_l1;
    char pt_order[1100];                            /* level of each table frame, pfn order: "4121..." */
    unsigned long l4_pfn, l4_mfn;
    unsigned long rd_pfn, rd_pages;
    unsigned long p2m_pfn, p2m_frames;              /* the list's frames */
    unsigned long extra_pt_frames;                  /* INIT_P2M's own tables */
    unsigned long alloc_spfn, order;                /* dom0 */
    unsigned long window_va;
    unsigned int window_pages;
    start_info_t si;                                /* what was written at vstartinfo_start */
    char err[256];                                  /* why the builder refused */
};

/* Builds the machine and the boot state (model_init included); 0 or -1 with L->err. */
int build_boot(const struct boot_cfg *c, struct boot_layout *L);

/* The dom0 builder's virtual layout alone (no machine): 0 or -1 with L->err. */
int dom0_layout(const struct boot_cfg *c, struct boot_layout *L);

#endif
