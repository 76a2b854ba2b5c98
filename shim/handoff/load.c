/* SPDX-License-Identifier: MIT */
/*
 * load.c - the next kernel's initial memory, page by page, as
 * libxenguest's builder leaves a PV guest's (xc_dom_build_image and
 * start_info_x86_64, setup_pgtables_pv):
 *
 *   kernel     its PT_LOAD segments by physical address, the rest zero
 *   initrd     the bootpack's, at its place in the region or by pfn
 *   p2m list   next pfn -> mfn, INVALID for a pfn without a frame
 *   start_info what Xen and the toolstack would say, for the next kernel
 *   xenstore, console
 *              not written: the plan puts the rings' own frames there (the
 *              toolstack and xenconsoled have them mapped), start_info
 *              names them
 *   tables     L4, L3, L2, L1 for the region (and with INIT_P2M: L3, L2,
 *              L1 for the list), every table page mapped read-only
 *   stack      zero: the next kernel's initial %rsp is its top
 */
#include "load.h"
#include "mm/pgtable.h"
#include "lib/lib.h"

#define PAGE 4096UL

/* libxenguest's protections for x86_64 (lvl_prot): L1, and L2 to L4. */
#define L1_PROT (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED)
#define UPPER_PROT (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_USER)

static void zero_pages(const struct load_in *in, unsigned long pfn, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        memset(in->page(pfn + i, in->arg), 0, PAGE);
}

/* Bytes at a byte offset of the next kernel's pseudo-physical space (pfn 0 = VIRT_BASE). */
static void copy_at(const struct load_in *in, uint64_t at, const uint8_t *src, uint64_t len)
{
    while (len) {
        uint64_t off = at & (PAGE - 1), n = PAGE - off < len ? PAGE - off : len;

        memcpy(in->page(at / PAGE, in->arg) + off, src, n);
        at += n;
        src += n;
        len -= n;
    }
}

/*
 * The hypercall page of a kernel that declares one, as Xen writes it for a
 * 64-bit PV guest: 32 bytes per hypercall, "push %rcx; push %r11; mov $n,
 * %eax; syscall; pop %r11; pop %rcx; ret", and for iret (which does not
 * return) "push %rcx; push %r11; push %rax; mov $n, %eax; syscall".
 */
static void write_hypercall_page(uint8_t *p)
{
    memset(p, 0xcc, PAGE);
    for (unsigned int n = 0; n < PAGE / 32; n++) {
        uint8_t *s = p + n * 32;
        unsigned int i = 0;

        s[i++] = 0x51;                          /* push %rcx */
        s[i++] = 0x41; s[i++] = 0x53;           /* push %r11 */
        if (n == __HYPERVISOR_iret)
            s[i++] = 0x50;                      /* push %rax */
        s[i++] = 0xb8;                          /* mov $n, %eax */
        s[i++] = n; s[i++] = 0; s[i++] = 0; s[i++] = 0;
        s[i++] = 0x0f; s[i++] = 0x05;           /* syscall */
        if (n == __HYPERVISOR_iret)
            continue;
        s[i++] = 0x41; s[i++] = 0x5b;           /* pop %r11 */
        s[i++] = 0x59;                          /* pop %rcx */
        s[i++] = 0xc3;                          /* ret */
    }
}

static void load_kernel(const struct load_in *in)
{
    const struct xen_elf *k = in->kernel;
    const struct plan_out *p = in->plan;

    zero_pages(in, p->kernel.pfn, p->kernel.pages);
    for (unsigned int i = 0; i < k->nr_loads; i++)
        copy_at(in, k->load[i].paddr - k->paddr_offset, in->image + k->load[i].offset,
                k->load[i].filesz);
    if (k->hypercall_page != XEN_ELF_UNSET)
        write_hypercall_page(in->page((k->hypercall_page - k->virt_base) / PAGE, in->arg));
}

/*
 * The list: half a million pages at 1 TiB.  Each page is computed here and
 * handed over as words, which the host model keeps as runs (consecutive
 * mfns) instead of 2 GiB of stored pages; the segment's pages past the
 * list are zeroed.
 */
static void load_p2m(const struct load_in *in)
{
    static uint64_t e[PAGE / 8];        /* off the stack: a page */
    const struct plan_seg *s = &in->plan->p2m;
    unsigned long list_pages = (in->nr_pages * 8 + PAGE - 1) / PAGE;

    for (unsigned long i = 0; i < list_pages; i++) {
        for (unsigned long j = 0; j < PAGE / 8; j++) {
            unsigned long pfn = i * (PAGE / 8) + j;

            e[j] = pfn < in->nr_pages ? in->mfn(pfn, in->arg) : 0;
        }
        in->write_words(s->pfn + i, e, in->arg);
    }
    /* With INIT_P2M these are the list's own L3, L2 and L1s: load_tables, later, fills them. */
    if (s->pages > list_pages)
        zero_pages(in, s->pfn + list_pages, s->pages - list_pages);
}

uint32_t handoff_si_flags(const start_info_t *si, const struct plan_out *p)
{
    uint32_t f = si->flags & (SIF_PRIVILEGED | SIF_INITDOMAIN | SIF_VIRT_P2M_4TOOLS | SIF_PM_MASK);

    if (p->initrd.pages && !p->initrd_mapped)
        f |= SIF_MOD_START_PFN;
    return f;
}

static void load_start_info(const struct load_in *in)
{
    const struct plan_out *p = in->plan;
    const start_info_t *si = in->si;
    start_info_t *n = (start_info_t *)in->page(p->start_info.pfn, in->arg);

    memset(n, 0, PAGE);
    memcpy(n->magic, si->magic, sizeof(n->magic));
    n->nr_pages = si->nr_pages;
    n->shared_info = si->shared_info;
    n->flags = handoff_si_flags(si, p);
    n->pt_base = p->pgtables.va;
    n->nr_pt_frames = p->tables.total;
    n->mfn_list = p->p2m.va;
    if (p->init_p2m) {
        n->first_p2m_pfn = p->p2m.pfn;
        n->nr_p2m_frames = p->p2m.pages;
    }
    if (in->initrd_len) {
        n->mod_start = p->initrd_mapped ? p->initrd.va : p->initrd.pfn;
        n->mod_len = in->initrd_len;
    }
    if (si->flags & SIF_INITDOMAIN) {
        /* dom0: Xen's console description follows start_info in the same page. */
        uint32_t off = si->console.dom0.info_off, size = si->console.dom0.info_size;

        if (size && off >= sizeof(*si) && off < PAGE && size <= PAGE - off) {
            memcpy((uint8_t *)n + off, (const uint8_t *)si + off, size);
            n->console.dom0.info_off = off;
            n->console.dom0.info_size = size;
        }
    } else {
        n->store_mfn = si->store_mfn;
        n->store_evtchn = si->store_evtchn;
        n->console.domU.mfn = si->console.domU.mfn;
        n->console.domU.evtchn = si->console.domU.evtchn;
    }
    if (in->cmdline_len)
        memcpy(n->cmd_line, in->cmdline, in->cmdline_len < MAX_GUEST_CMDLINE - 1
                                         ? in->cmdline_len : MAX_GUEST_CMDLINE - 1);
}

static void load_tables(const struct load_in *in)
{
    const struct plan_out *p = in->plan;

    for (unsigned int m = 0; m < p->nr_maps; m++)
        for (int l = 3; l >= 0; l--)
            for (unsigned long t = 0; t < p->map[m].lv[l].count; t++) {
                uint64_t *e = (uint64_t *)in->page(p->map[m].lv[l].pfn + t, in->arg);

                for (unsigned int slot = 0; slot < 512; slot++) {
                    unsigned long pfn;
                    bool table;

                    e[slot] = 0;
                    if (!plan_entry(p, m, (unsigned int)l, t, slot, &pfn, &table))
                        continue;
                    e[slot] = ((uint64_t)in->mfn(pfn, in->arg) << 12) |
                              (l ? UPPER_PROT : table ? L1_PROT & ~_PAGE_RW : L1_PROT);
                }
            }
}

unsigned long handoff_load(const struct load_in *in)
{
    const struct plan_out *p = in->plan;
    unsigned long pages = p->kernel.pages + p->p2m.pages + 1 + p->pgtables.pages + 1;

    load_kernel(in);
    if (in->initrd_len) {
        zero_pages(in, p->initrd.pfn, p->initrd.pages);
        copy_at(in, (uint64_t)p->initrd.pfn * PAGE, in->initrd, in->initrd_len);
        pages += p->initrd.pages;
    }
    load_p2m(in);                       /* every word of its pages, zeros too */
    load_start_info(in);
    load_tables(in);
    zero_pages(in, p->stack.pfn, 1);
    return pages;
}
