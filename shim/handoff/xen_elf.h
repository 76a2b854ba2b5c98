/* SPDX-License-Identifier: MIT */
/*
 * xen_elf.h - what a 64-bit PV kernel's ELF image tells its loader: the
 * PT_LOAD segments and the Xen notes (public/elfnote.h), with the
 * addresses libxenguest's libelf derives from them (elf_xen_parse and
 * elf_xen_addr_calc_check), so that the shim loads the next kernel where
 * `xl create` would.  Pure, like bootpack.c.
 */
#ifndef SHIM_HANDOFF_XEN_ELF_H
#define SHIM_HANDOFF_XEN_ELF_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#define XEN_ELF_UNSET       (~0ULL)
#define XEN_ELF_MAX_LOADS   16

struct xen_elf_load {
    uint64_t paddr;             /* where it goes: pseudo-physical, before PADDR_OFFSET */
    uint64_t offset, filesz, memsz;
};

struct xen_elf {
    /* The notes as given (XEN_ELF_UNSET where absent). */
    uint64_t entry_note, virt_base_note, paddr_offset_note;
    uint64_t hypercall_page;    /* XEN_ELFNOTE_HYPERCALL_PAGE */
    uint64_t init_p2m;          /* XEN_ELFNOTE_INIT_P2M: the p2m list's address */
    bool mod_start_pfn;         /* XEN_ELFNOTE_MOD_START_PFN nonzero: the initrd by pfn */
    char features[256], pae_mode[16], loader[16], guest_os[16], xen_version[16];

    /* What libelf derives. */
    uint64_t virt_base, paddr_offset, virt_kstart, virt_kend, entry;
    uint64_t pstart, pend;      /* the PT_LOAD segments' [min paddr, max paddr + memsz) */

    struct xen_elf_load load[XEN_ELF_MAX_LOADS];
    unsigned int nr_loads;
};

/*
 * Parses the image.  false, with a message naming the cause in why, for
 * a file that is not a 64-bit x86 ELF, is truncated, has no Xen notes, a
 * loader other than "generic" or Linux, no "xen-3.0", addresses libelf
 * would refuse, a non-canonical address or overlapping segments.
 */
bool xen_elf_parse(const void *elf, size_t len, struct xen_elf *x, char *why, size_t why_len);

/* The virtual address of a segment's first byte. */
static inline uint64_t xen_elf_load_va(const struct xen_elf *x, const struct xen_elf_load *l)
{
    return l->paddr - x->paddr_offset + x->virt_base;
}

#endif
