/* SPDX-License-Identifier: MIT */
/*
 * xen_elf.c - the next kernel's ELF header, program headers and Xen notes.
 *
 * Segments are placed by p_paddr, as libelf places them: Linux's vmlinux
 * has a PT_LOAD whose p_vaddr is 0 (.data..percpu), so p_vaddr means
 * nothing here.  The kernel occupies [virt_kstart, virt_kend), where
 *
 *   virt_kstart = pstart - paddr_offset + virt_base
 *
 * with VIRT_BASE 0 and PADDR_OFFSET 0 when the notes leave them out.
 * Every offset and size is checked against the file before it is read.
 */
#include "xen_elf.h"
#include "lib/xen.h"
#include "lib/lib.h"

#define FAIL(...) do { format(why, why_len, __VA_ARGS__); return false; } while (0)

#define PT_LOAD  1
#define PT_NOTE  4
#define EM_X86_64 62
#define ET_EXEC  2

static uint64_t rd(const uint8_t *p, unsigned int bytes)
{
    uint64_t v = 0;

    for (unsigned int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static bool canonical(uint64_t va)
{
    int64_t top = (int64_t)va >> 47;

    return top == 0 || top == -1;
}

/*
 * A string note into out.  Linux's notes (.ascii) carry no NUL: the
 * string ends at the NUL or at the descriptor's end, whichever comes first.
 * Like libelf (safe_strcpy into 16 bytes), a name that does not fit is cut
 * short; FEATURES, which a loader acts on, must fit whole.
 */
static bool note_string(const uint8_t *desc, uint32_t size, char *out, size_t out_len, bool whole)
{
    size_t n = strnlen((const char *)desc, size);

    if (n >= out_len) {
        if (whole)
            return false;
        n = out_len - 1;
    }
    memcpy(out, desc, n);
    out[n] = '\0';
    return true;
}

/* The notes named "Xen" in [p, end); returns how many, or -1 (why says). */
static int parse_notes(const uint8_t *p, size_t size, struct xen_elf *x, char *why, size_t why_len)
{
    size_t off = 0;
    int found = 0;

    while (size - off >= 12) {
        uint32_t namesz = rd(p + off, 4), descsz = rd(p + off + 4, 4), type = rd(p + off + 8, 4);
        size_t name_at = off + 12, desc_at, next;
        const uint8_t *desc;
        bool ok = true;

        if (namesz > size - name_at)
            break;
        desc_at = name_at + ((namesz + 3) & ~3u);
        if (desc_at > size || descsz > size - desc_at)
            break;
        next = desc_at + ((descsz + 3) & ~3u);
        desc = p + desc_at;
        if (namesz == 4 && !memcmp(p + name_at, "Xen", 4)) {
            bool numeric = descsz == 1 || descsz == 2 || descsz == 4 || descsz == 8;
            uint64_t v = numeric ? rd(desc, descsz) : 0;

            found++;
            switch (type) {
            case XEN_ELFNOTE_ENTRY:          ok = numeric; x->entry_note = v; break;
            case XEN_ELFNOTE_VIRT_BASE:      ok = numeric; x->virt_base_note = v; break;
            case XEN_ELFNOTE_PADDR_OFFSET:   ok = numeric; x->paddr_offset_note = v; break;
            case XEN_ELFNOTE_HYPERCALL_PAGE: ok = numeric; x->hypercall_page = v; break;
            case XEN_ELFNOTE_INIT_P2M:       ok = numeric; x->init_p2m = v; break;
            case XEN_ELFNOTE_MOD_START_PFN:  ok = numeric; x->mod_start_pfn = v != 0; break;
            case XEN_ELFNOTE_FEATURES:
                ok = note_string(desc, descsz, x->features, sizeof(x->features), true);
                break;
            case XEN_ELFNOTE_PAE_MODE:
                ok = note_string(desc, descsz, x->pae_mode, sizeof(x->pae_mode), false);
                break;
            case XEN_ELFNOTE_LOADER:
                ok = note_string(desc, descsz, x->loader, sizeof(x->loader), false);
                break;
            case XEN_ELFNOTE_GUEST_OS:
                ok = note_string(desc, descsz, x->guest_os, sizeof(x->guest_os), false);
                break;
            case XEN_ELFNOTE_XEN_VERSION:
                ok = note_string(desc, descsz, x->xen_version, sizeof(x->xen_version), false);
                break;
            default:
                break;          /* notes a PV loader need not act on */
            }
            if (!ok) {
                format(why, why_len, "kernel: Xen note %u has a descriptor of %u bytes the loader "
                       "cannot read", type, descsz);
                return -1;
            }
        }
        if (next >= size)
            break;
        off = next;
    }
    return found;
}

bool xen_elf_parse(const void *elf, size_t len, struct xen_elf *x, char *why, size_t why_len)
{
    const uint8_t *e = elf;
    uint64_t phoff, virt_offset;
    unsigned int phentsize, phnum, notes = 0;

    memset(x, 0, sizeof(*x));
    x->entry_note = x->virt_base_note = x->paddr_offset_note = XEN_ELF_UNSET;
    x->hypercall_page = x->init_p2m = XEN_ELF_UNSET;

    if (len < 64 || memcmp(e, "\177ELF", 4))
        FAIL("kernel: not an ELF file");
    if (e[4] != 2 || e[5] != 1)
        FAIL("kernel: not a 64-bit little-endian ELF (a 32-bit PV kernel cannot follow a 64-bit one)");
    if (rd(e + 18, 2) != EM_X86_64)
        FAIL("kernel: ELF machine %lu, not x86-64", (unsigned long)rd(e + 18, 2));
    if (rd(e + 16, 2) != ET_EXEC)
        FAIL("kernel: ELF type %lu, not an executable", (unsigned long)rd(e + 16, 2));
    phoff = rd(e + 32, 8);
    phentsize = rd(e + 54, 2);
    phnum = rd(e + 56, 2);
    if (phentsize < 56 || phoff > len || (uint64_t)phnum * phentsize > len - phoff)
        FAIL("kernel: %u program headers of %u bytes at %#lx lie outside the file (%lu bytes)",
             phnum, phentsize, (unsigned long)phoff, (unsigned long)len);

    x->pstart = ~0ULL;
    for (unsigned int i = 0; i < phnum; i++) {
        const uint8_t *ph = e + phoff + (uint64_t)i * phentsize;
        uint32_t type = rd(ph, 4), flags = rd(ph + 4, 4);
        uint64_t offset = rd(ph + 8, 8), paddr = rd(ph + 24, 8), filesz = rd(ph + 32, 8),
                 memsz = rd(ph + 40, 8);
        int n;

        /* libelf's elf_phdr_is_loadable: PT_LOAD with some of PF_R, PF_W, PF_X. */
        if ((type != PT_LOAD || !(flags & 7)) && type != PT_NOTE)
            continue;
        if (offset > len || filesz > len - offset)
            FAIL("kernel: segment %u [%#lx, +%#lx) lies outside the file", i, (unsigned long)offset,
                 (unsigned long)filesz);
        if (type == PT_NOTE) {
            if (!offset)
                continue;       /* libelf skips these (old binutils) */
            n = parse_notes(e + offset, filesz, x, why, why_len);
            if (n < 0)
                return false;
            notes += n;
            continue;
        }
        if (filesz > memsz || paddr + memsz < paddr)
            FAIL("kernel: segment %u: %#lx bytes in the file, %#lx in memory at %#lx", i,
                 (unsigned long)filesz, (unsigned long)memsz, (unsigned long)paddr);
        /* An empty segment loads nothing but counts in the kernel's span, as in libelf. */
        if (paddr < x->pstart)
            x->pstart = paddr;
        if (paddr + memsz > x->pend)
            x->pend = paddr + memsz;
        if (!memsz)
            continue;
        if (x->nr_loads == XEN_ELF_MAX_LOADS)
            FAIL("kernel: more than %u PT_LOAD segments", XEN_ELF_MAX_LOADS);
        for (unsigned int k = 0; k < x->nr_loads; k++)
            if (paddr < x->load[k].paddr + x->load[k].memsz && x->load[k].paddr < paddr + memsz)
                FAIL("kernel: segment %u [%#lx, +%#lx) overlaps an earlier one [%#lx, +%#lx)", i,
                     (unsigned long)paddr, (unsigned long)memsz, (unsigned long)x->load[k].paddr,
                     (unsigned long)x->load[k].memsz);
        x->load[x->nr_loads++] = (struct xen_elf_load){ paddr, offset, filesz, memsz };
    }
    if (!x->nr_loads)
        FAIL("kernel: no PT_LOAD segment");
    if (!notes)
        FAIL("kernel: an ELF without Xen notes (is it built with CONFIG_XEN_PV?)");
    /* elf_xen_note_check */
    if (strncmp(x->loader, "generic", 7) && strncmp(x->guest_os, "linux", 5))
        FAIL("kernel: built for loader \"%s\", guest OS \"%s\": only the generic loader and Linux "
             "are loaded", x->loader, x->guest_os);
    if (strncmp(x->xen_version, "xen-3.0", 7))
        FAIL("kernel: built for Xen \"%s\", not \"xen-3.0\"", x->xen_version);

    /* elf_xen_addr_calc_check */
    if (x->paddr_offset_note != XEN_ELF_UNSET && x->virt_base_note == XEN_ELF_UNSET)
        FAIL("kernel: PADDR_OFFSET set, VIRT_BASE unset");
    x->virt_base = x->virt_base_note == XEN_ELF_UNSET ? 0 : x->virt_base_note;
    x->paddr_offset = x->paddr_offset_note == XEN_ELF_UNSET ? 0 : x->paddr_offset_note;
    virt_offset = x->virt_base - x->paddr_offset;
    x->virt_kstart = x->pstart + virt_offset;
    x->virt_kend = x->pend + virt_offset;
    x->entry = x->entry_note == XEN_ELF_UNSET ? rd(e + 24, 8) : x->entry_note;
    if (x->virt_kstart > x->virt_kend || x->entry < x->virt_kstart || x->entry > x->virt_kend ||
        x->virt_base > x->virt_kstart)
        FAIL("kernel: start or entry out of bounds: virt_base %#lx, kernel [%#lx, %#lx), entry %#lx",
             (unsigned long)x->virt_base, (unsigned long)x->virt_kstart, (unsigned long)x->virt_kend,
             (unsigned long)x->entry);
    if (x->init_p2m != XEN_ELF_UNSET && x->init_p2m >= x->virt_kstart && x->init_p2m < x->virt_kend)
        FAIL("kernel: INIT_P2M %#lx lies inside the kernel [%#lx, %#lx)", (unsigned long)x->init_p2m,
             (unsigned long)x->virt_kstart, (unsigned long)x->virt_kend);
    /* What a 64-bit guest can map: the whole kernel in canonical space. */
    if (!canonical(x->virt_base) || !canonical(x->virt_kstart) || !canonical(x->virt_kend - 1) ||
        (x->virt_kstart >> 47) != ((x->virt_kend - 1) >> 47))
        FAIL("kernel: [%#lx, %#lx) (VIRT_BASE %#lx) is not canonical", (unsigned long)x->virt_kstart,
             (unsigned long)x->virt_kend, (unsigned long)x->virt_base);
    if (x->init_p2m != XEN_ELF_UNSET && !canonical(x->init_p2m))
        FAIL("kernel: INIT_P2M %#lx is not canonical", (unsigned long)x->init_p2m);
    return true;
}
