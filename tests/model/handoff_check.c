/* SPDX-License-Identifier: MIT */
/*
 * handoff_check.c - the hand-off on the model, judged from outside.
 *
 * The shim's real handoff.c, load.c, switch.c and record.c run on the
 * model (driver.c), down to the trampoline, whose mmuext batch and jump
 * plat_hosted.c carries out as the CPU and Xen would.  The model has
 * validated the new tables at the pin and refused whatever broke Xen's
 * rules on the way.  What is judged here is the state the next kernel
 * finds, from the model's truth and from what the test put in the
 * bootpack, never from the shim's own account:
 *
 *   the vCPU    CR3 is a pinned L4 that is not the shim's, no user L4,
 *               Xen's kernel stack and rsp the page after the initial
 *               tables (libxenguest's layout), zero, no trap table,
 *               m2p_strict off
 *   the shim    every frame that was one of its page tables before the
 *               hand-off is unpinned and has no table type left (so it can
 *               be mapped writable: the kdump property's other half), and
 *               no table is typed but those of the new tree
 *   start_info  at rsi: magic, shared_info, flags, the rings (domU) or
 *               Xen's console description (dom0), pt_base (the loaded L4,
 *               after start_info and the rings), nr_pt_frames, INIT_P2M's
 *               frames, the command line, the initrd's bytes
 *   the p2m     the list at mfn_list: every entry's frame maps back to its
 *               pfn in the M2P, and there are as many as the domain owns
 *   the kernel  every segment's bytes, and zeros to its memsz, read at its
 *               addresses through the loaded tables
 *   the record  when asked for: it lists every table of the shim
 *   the cost    hypercalls from the plan to the jump, against the minimum:
 *               the read-only batches with the pin (one per 1 024 tables of
 *               the new tree), the M2P batches (one per 1 024 entries the
 *               renumbering changed; a request that changes nothing is
 *               waste), and the fixed steps (trampoline mapping, vm_assist
 *               if m2p_strict was on, stack_switch, set_trap_table, the
 *               trampoline's mmuext_op)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "handoff_check.h"
#include "pv/batch.h"
#include "lib/lib.h"
#include "pv/mmu.h"
#include "pv/p2m.h"
#include "handoff/record.h"

static unsigned long *old_mfn;          /* the shim's table frames, ascending */
static uint8_t *old_level;
static unsigned long nr_old, old_l4, old_user_l4, ram_pfns, hc0, machphys0, changed0;
static bool strict0;
static start_info_t old_si;
static uint8_t old_si_page[PAGE_SIZE];      /* with dom0's console description after start_info */

/* The domain's RAM as the model knows it: every frame it owns but shared_info. */
static unsigned long owned_frames(void)
{
    unsigned long n = 0;

    for (unsigned long m = 0; m < M.max_mfn; m++)
        n += frame_of(m)->owner == OWN_DOM && m != MFN_SHARED_INFO;
    return n;
}

void handoff_snapshot(const start_info_t *si)
{
    unsigned long cap = 1024;

    free(old_mfn);
    free(old_level);
    old_mfn = malloc(cap * sizeof(*old_mfn));
    old_level = malloc(cap);
    nr_old = 0;
    for (unsigned long m = 0; m < M.max_mfn; m++) {
        const struct frame *f = frame_of(m);

        if (!f->count || f->type < FT_L1 || f->type > FT_L4)
            continue;
        if (nr_old == cap) {
            cap *= 2;
            old_mfn = realloc(old_mfn, cap * sizeof(*old_mfn));
            old_level = realloc(old_level, cap);
        }
        if (!old_mfn || !old_level)
            abort();
        old_mfn[nr_old] = m;
        old_level[nr_old++] = (uint8_t)(f->type - FT_L1 + 1);
    }
    old_l4 = M.cr3;
    old_user_l4 = M.user_cr3;
    ram_pfns = owned_frames();
    hc0 = M.stats.hypercalls;
    machphys0 = M.stats.machphys;
    changed0 = M.stats.m2p_changed;
    strict0 = M.opts.m2p_strict;
    old_si = *si;
    memcpy(old_si_page, si, PAGE_SIZE);
}

/* The tables of the tree CR3 loads, outside Xen's slots; marks them in `seen` (one byte per mfn). */
static unsigned long count_tree(unsigned long mfn, unsigned int level, uint8_t *seen)
{
    unsigned long n = 1;

    seen[mfn] = 1;
    for (unsigned int s = 0; level > 1 && s < 512; s++) {
        uint64_t e = mem_read(mfn, s);

        if ((level == 4 && s >= 256 && s <= 271) || !(e & _PAGE_PRESENT) || seen[PTE_MFN(e)])
            continue;
        n += count_tree(PTE_MFN(e), level - 1, seen);
    }
    return n;
}

static long old_index(unsigned long mfn)
{
    unsigned long lo = 0, hi = nr_old;

    while (lo < hi) {
        unsigned long mid = (lo + hi) / 2;

        if (old_mfn[mid] < mfn)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < nr_old && old_mfn[lo] == mfn ? (long)lo : -1;
}

struct verify_ctx {
    const struct handoff_expect *x;
    struct drive_result *r;
};

#define PROBLEM(...) do { \
        snprintf(r->ho.problem, sizeof(r->ho.problem), __VA_ARGS__); \
        return; \
    } while (0)

/* The record named on the command line lists every table the shim had. */
static void check_record(unsigned long head_mfn, struct drive_result *r)
{
    static struct record_head h;
    static struct record_entry page[RECORD_PER_PAGE];
    uint8_t *seen = calloc(nr_old ? nr_old : 1, 1);
    unsigned long found = 0, n = 0;

    if (!seen)
        abort();
    if (!mfn_valid(head_mfn)) {
        free(seen);
        PROBLEM("the record's head mfn %#lx is not a frame", head_mfn);
    }
    mem_read_bytes(head_mfn, 0, &h, sizeof(h));
    if (h.magic != RECORD_MAGIC || h.nr_pages > RECORD_MAX_PAGES) {
        free(seen);
        PROBLEM("the record at mfn %#lx has no head (magic %#lx)", head_mfn, (unsigned long)h.magic);
    }
    if (h.kernel_l4 != old_l4 || h.user_l4 != old_user_l4) {
        free(seen);
        PROBLEM("the record names L4s %#lx/%#lx, the shim had %#lx/%#lx", (unsigned long)h.kernel_l4,
                (unsigned long)h.user_l4, old_l4, old_user_l4);
    }
    for (unsigned long p = 0; p < h.nr_pages; p++) {
        if (!mfn_valid(h.page_mfn[p])) {
            free(seen);
            PROBLEM("the record's page %lu, mfn %#lx, is not a frame", p, (unsigned long)h.page_mfn[p]);
        }
        mem_read_bytes(h.page_mfn[p], 0, page, sizeof(page));
        for (unsigned long i = 0; i < RECORD_PER_PAGE && n < h.nr_entries; i++, n++) {
            long k = old_index(page[i].mfn);

            if (k >= 0 && page[i].kind == old_level[k] && !seen[k]) {
                seen[k] = 1;
                found++;
            }
        }
    }
    free(seen);
    if (found != nr_old)
        PROBLEM("the record lists %lu of the shim's %lu page tables", found, nr_old);
}

/* got is want with "=0x<mfn>" after its word handoff-record, if it has one; *record_mfn = that mfn (0: none). */
static bool cmdline_matches(const char *got, const char *want, unsigned long *record_mfn)
{
    const char *w = strstr(want, RECORD_WORD);
    size_t pre, n = strlen(RECORD_WORD);
    char *end;

    *record_mfn = 0;
    if (!w)
        return !strcmp(got, want);
    pre = (size_t)(w - want) + n;
    if (strncmp(got, want, pre) || strncmp(got + pre, "=0x", 3))
        return false;
    *record_mfn = strtoul(got + pre + 1, &end, 16);
    return !strcmp(end, want + pre);
}

static void verify(void *arg)
{
    struct verify_ctx *c = arg;
    const struct handoff_expect *x = c->x;
    struct drive_result *r = c->r;
    unsigned long entry, rsp, rsi, mfn, record_mfn, valid = 0, tables, typed = 0, requests;
    static start_info_t n;
    static uint8_t buf[PAGE_SIZE];
    uint8_t *seen;
    char why[160], first_typed[40] = "";

    /* The cost: the tables of the tree now loaded, the M2P entries that changed. */
    r->ho.hypercalls = M.stats.hypercalls - hc0;
    r->ho.moves = M.stats.m2p_changed - changed0;
    requests = M.stats.machphys - machphys0;
    if (!(seen = calloc(M.max_mfn, 1)))
        abort();
    tables = M.cr3 ? count_tree(M.cr3, 4, seen) : 0;
    for (unsigned long m = 0; m < M.max_mfn; m++) {
        const struct frame *f = frame_of(m);

        if (f->count && f->type >= FT_L1 && f->type <= FT_L4 && !seen[m] && !typed++)
            snprintf(first_typed, sizeof(first_typed), "mfn %#lx", m);
    }
    free(seen);
    r->ho.tables = tables;
    r->ho.old_tables = nr_old;
    r->ho.ro_batches = DIV_ROUND_UP(tables, BATCH_MAX_REQS);
    r->ho.m2p_batches = DIV_ROUND_UP(r->ho.moves, BATCH_MAX_REQS);
    r->ho.fixed = 4 + strict0;
    r->ho.min_hypercalls = r->ho.ro_batches + r->ho.m2p_batches + r->ho.fixed;
    if (requests != r->ho.moves)
        PROBLEM("%lu MMU_MACHPHYS_UPDATE requests changed %lu M2P entries", requests, r->ho.moves);

    /* The vCPU. */
    if (sscanf(r->msg, "entry %lx, rsp %lx, rsi %lx", &entry, &rsp, &rsi) != 3)
        PROBLEM("the jump's registers are not in \"%.300s\"", r->msg);
    if (entry != x->entry)
        PROBLEM("the jump went to %#lx, the kernel's entry is %#lx", entry, (unsigned long)x->entry);
    if (M.cr3 == old_l4 || frame_of(M.cr3)->type != FT_L4 || !(frame_of(M.cr3)->flags & FF_PINNED))
        PROBLEM("CR3 is mfn %#lx (%s, %spinned), the shim's L4 was %#lx", M.cr3,
                frame_type_name(frame_of(M.cr3)->type), frame_of(M.cr3)->flags & FF_PINNED ? "" : "not ",
                old_l4);
    if (M.user_cr3)
        PROBLEM("a user L4 is still loaded: mfn %#lx", M.user_cr3);
    if (M.kernel_sp != rsp)
        PROBLEM("Xen's kernel stack is %#lx, the jump's rsp %#lx", M.kernel_sp, rsp);
    if (!M.traps_cleared)
        PROBLEM("the shim's trap table is still installed");
    if (M.opts.m2p_strict)
        PROBLEM("m2p_strict is still on");

    /* What is left of the shim. */
    for (unsigned long i = 0; i < nr_old; i++) {
        const struct frame *f = frame_of(old_mfn[i]);

        if ((f->flags & FF_PINNED) || (f->count && f->type != FT_WRITABLE))
            PROBLEM("the shim's L%u mfn %#lx%s is still %s (type count %u%s)", old_level[i], old_mfn[i],
                    old_mfn[i] == old_l4 ? " (its kernel L4)" : old_mfn[i] == old_user_l4 ? " (its user L4)" : "",
                    frame_type_name(f->type), f->count, f->flags & FF_PINNED ? ", pinned" : "");
    }

    if (typed)
        PROBLEM("%lu frames outside the loaded tree are still typed as page tables (the first: %s)",
                typed, first_typed);

    /* start_info. */
    vmem_read_bytes(rsi, &n, sizeof(n));
    if (strncmp(n.magic, "xen-3.0-x86_64", 14))
        PROBLEM("start_info's magic is \"%.32s\"", n.magic);
    if (n.shared_info != old_si.shared_info)
        PROBLEM("start_info's shared_info is %#lx, the domain's %#lx", (unsigned long)n.shared_info,
                (unsigned long)old_si.shared_info);
    if ((n.flags & (SIF_INITDOMAIN | SIF_PRIVILEGED)) != (old_si.flags & (SIF_INITDOMAIN | SIF_PRIVILEGED)) ||
        !!(n.flags & SIF_MOD_START_PFN) != (x->initrd_len && x->initrd_by_pfn))
        PROBLEM("start_info's flags are %#x (the shim's %#x)", n.flags, old_si.flags);
    if (!(old_si.flags & SIF_INITDOMAIN) &&
        (n.store_mfn != old_si.store_mfn || n.store_evtchn != old_si.store_evtchn ||
         n.console.domU.mfn != old_si.console.domU.mfn || n.console.domU.evtchn != old_si.console.domU.evtchn))
        PROBLEM("start_info's rings are %#lx/%u and %#lx/%u, the domain's %#lx/%u and %#lx/%u",
                (unsigned long)n.store_mfn, n.store_evtchn, (unsigned long)n.console.domU.mfn,
                n.console.domU.evtchn, (unsigned long)old_si.store_mfn, old_si.store_evtchn,
                (unsigned long)old_si.console.domU.mfn, old_si.console.domU.evtchn);
    if (!vmem_translate(n.pt_base, false, &mfn, why, sizeof(why)) || mfn != M.cr3)
        PROBLEM("start_info's pt_base %#lx is not the loaded L4", (unsigned long)n.pt_base);
    /* libxenguest's order: start_info, [xenstore, console,] the initial tables, the boot stack. */
    if (n.pt_base != rsi + PAGE_SIZE * ((old_si.flags & SIF_INITDOMAIN) ? 1 : 3))
        PROBLEM("start_info at %#lx, pt_base at %#lx: not libxenguest's order", rsi, (unsigned long)n.pt_base);
    if (rsp != n.pt_base + (n.nr_pt_frames + 1) * PAGE_SIZE)
        PROBLEM("rsp %#lx is not the top of the page after the %lu initial tables at %#lx", rsp,
                (unsigned long)n.nr_pt_frames, (unsigned long)n.pt_base);
    vmem_read_bytes(rsp - PAGE_SIZE, buf, PAGE_SIZE);
    for (unsigned int i = 0; i < PAGE_SIZE; i++)
        if (buf[i])
            PROBLEM("the boot stack's byte %#x is %#x", i, buf[i]);
    if (old_si.flags & SIF_INITDOMAIN) {
        uint32_t off = old_si.console.dom0.info_off, size = old_si.console.dom0.info_size;

        if (n.console.dom0.info_off != off || n.console.dom0.info_size != size)
            PROBLEM("start_info's console description is at %u, %u bytes; Xen's was at %u, %u bytes",
                    n.console.dom0.info_off, n.console.dom0.info_size, off, size);
        if (off >= sizeof(start_info_t) && off + size <= PAGE_SIZE) {
            vmem_read_bytes(rsi, buf, PAGE_SIZE);
            if (memcmp(buf + off, old_si_page + off, size))
                PROBLEM("start_info's console description differs from Xen's");
        }
    }
    if (x->init_p2m) {
        /* first_p2m_pfn: the list's pages, then the tables that map it (libxenguest's p2m segment). */
        unsigned long pages = DIV_ROUND_UP(n.nr_pages * 8, PAGE_SIZE);

        if (n.mfn_list != x->init_p2m || n.nr_p2m_frames <= pages)
            PROBLEM("start_info's list at %#lx in %lu frames, INIT_P2M %#lx for %lu pfns",
                    (unsigned long)n.mfn_list, (unsigned long)n.nr_p2m_frames, (unsigned long)x->init_p2m,
                    (unsigned long)n.nr_pages);
        for (unsigned long i = 0; i < n.nr_p2m_frames; i++) {
            unsigned long f = vmem_read64(n.mfn_list + (n.first_p2m_pfn + i) * 8);

            if (i < pages ? !vmem_translate(n.mfn_list + i * PAGE_SIZE, false, &mfn, why, sizeof(why)) ||
                                mfn != f
                          : !mfn_valid(f) || frame_of(f)->type < FT_L1 || frame_of(f)->type > FT_L3 ||
                                !frame_of(f)->count)
                PROBLEM("pfn first_p2m_pfn + %lu is not the list's page %lu, nor one of its tables", i, i);
        }
    } else if (n.first_p2m_pfn || n.nr_p2m_frames) {
        PROBLEM("start_info names INIT_P2M frames (%#lx, %lu) the kernel never asked for",
                (unsigned long)n.first_p2m_pfn, (unsigned long)n.nr_p2m_frames);
    }
    n.cmd_line[MAX_GUEST_CMDLINE - 1] = 0;
    if (!cmdline_matches((const char *)n.cmd_line, x->cmdline, &record_mfn))
        PROBLEM("start_info's command line is \"%.150s\", want \"%.150s\"", n.cmd_line, x->cmdline);

    /* The p2m list: a bijection onto as many frames as the shim had, the M2P agreeing. */
    for (unsigned long pfn = 0; pfn < n.nr_pages; pfn++) {
        uint64_t e = vmem_read64(n.mfn_list + pfn * 8);

        if (e == INVALID_MFN)
            continue;
        if (!mfn_valid(e) || frame_of(e)->owner != OWN_DOM || model_m2p(e) != pfn)
            PROBLEM("the next kernel's p2m[%#lx] = %#lx, whose M2P entry is %#lx", pfn, (unsigned long)e,
                    mfn_valid(e) ? model_m2p(e) : ~0UL);
        valid++;
    }
    r->ho.p2m_entries = valid;
    if (valid != ram_pfns)
        PROBLEM("the next kernel's p2m list has %lu frames, the domain owns %lu", valid, ram_pfns);

    /* The kernel, the initrd. */
    for (unsigned int s = 0; s < x->nr_segs; s++) {
        const struct handoff_seg *g = &x->segs[s];

        for (size_t off = 0; off < g->memsz; off += sizeof(buf)) {
            size_t len = g->memsz - off < sizeof(buf) ? g->memsz - off : sizeof(buf);

            vmem_read_bytes(g->vaddr + off, buf, len);
            for (size_t i = 0; i < len; i++)
                if (g->vaddr + off + i - x->hypercall_page < PAGE_SIZE)
                    continue;
                else if (buf[i] != (off + i < g->filesz ? g->data[off + i] : 0))
                    PROBLEM("segment %u byte %#zx at %#lx is %#x", s, off + i,
                            (unsigned long)(g->vaddr + off + i), buf[i]);
        }
    }
    if (x->hypercall_page) {
        /*
         * Xen's 64-bit PV stubs, 32 bytes each: push %rcx; push %r11; [push %rax
         * for iret;] mov $nr, %eax; syscall.
         */
        vmem_read_bytes(x->hypercall_page, buf, PAGE_SIZE);
        for (unsigned int i = 0; i < PAGE_SIZE / 32; i++) {
            const uint8_t *m = buf + i * 32 + 3 + (i == __HYPERVISOR_iret);

            if (m[0] != 0xb8 || m[1] != i || m[2] || m[3] || m[4] || m[5] != 0x0f || m[6] != 0x05)
                PROBLEM("the hypercall page's stub %u is not mov $%u, %%eax; syscall", i, i);
        }
    }
    if (n.mod_len != x->initrd_len)
        PROBLEM("start_info's mod_len is %lu, the initrd %zu bytes", (unsigned long)n.mod_len, x->initrd_len);
    for (size_t off = 0; off < x->initrd_len; off += PAGE_SIZE) {
        size_t len = x->initrd_len - off < PAGE_SIZE ? x->initrd_len - off : PAGE_SIZE;

        if (x->initrd_by_pfn)
            mem_read_bytes(vmem_read64(n.mfn_list + (n.mod_start + off / PAGE_SIZE) * 8), 0, buf, len);
        else
            vmem_read_bytes(n.mod_start + off, buf, len);
        if (memcmp(buf, x->initrd + off, len))
            PROBLEM("the initrd's page at offset %#zx differs", off);
    }

    if (strstr(x->cmdline, RECORD_WORD)) {
        check_record(record_mfn, r);
        if (r->ho.problem[0])
            return;
    }
    r->ho.verified = true;
}

void handoff_verify(const struct handoff_expect *x, struct drive_result *r)
{
    struct verify_ctx c = { x, r };
    char msg[320];
    enum outcome o;

    r->ho.problem[0] = 0;
    o = model_run(verify, &c, msg, sizeof(msg));
    if (o != OUT_NONE) {
        snprintf(r->ho.problem, sizeof(r->ho.problem), "the next kernel's view: %s: %.300s", outcome_name(o), msg);
        r->ho.verified = false;
    }
}
