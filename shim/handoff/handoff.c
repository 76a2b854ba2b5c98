/* SPDX-License-Identifier: MIT */
/*
 * handoff.c - from setup.c's checks to the next kernel.
 *
 *   read    the bootpack (bootpack.c) and its kernel's ELF and Xen notes
 *           (xen_elf.c), right after the bring-up; a bad one is an ERROR
 *   plan    after the checks: which frames the shim still lives on (all
 *           but the page allocator's free ones), then the layout and the
 *           renumbering (plan.c)
 *   load    the next kernel's memory, written through the direct map into
 *           free frames only (load.c)
 *   switch  read-only tables, the pin, the renumbering, the jump (switch.c)
 *
 * "nochain" on the command line asks for the checks alone, with the usual
 * result line.
 */
#include "handoff.h"
#include "bootpack.h"
#include "xen_elf.h"
#include "load.h"
#include "plan.h"
#include "record.h"
#include "switch.h"
#include "lib/config.h"
#include "lib/console.h"
#include "pv/layout.h"
#include "pv/mmu.h"
#include "pv/mmu_plat.h"
#include "pv/p2m.h"
#include "pv/page_alloc.h"
#include "pv/ramdisk.h"
#include "pv/start_info.h"
#include "lib/result.h"
#include "lib/lib.h"

static struct bootpack pack;
static struct xen_elf next;
static bool have_pack;
static unsigned long next_nr_pages;     /* the p2m's length at boot: the next kernel's list */
static char next_cmdline[MAX_GUEST_CMDLINE];
static size_t next_cmdline_len;

static void print_addr(const char *what, uint64_t v)
{
    if (v == XEN_ELF_UNSET)
        printk("%s none", what);
    else
        printk("%s %#lx", what, (unsigned long)v);
}

void handoff_read(const start_info_t *si)
{
    static char why[256], cmdline[BOOTPACK_MAX_CMDLINE + 1];
    const void *va;

    if (!si->mod_len)
        return;
    va = plat_view(ramdisk_va(si), si->mod_len, false);
    if (!bootpack_is(va, si->mod_len))
        return;
    if (!bootpack_parse(va, si->mod_len, &pack, why, sizeof(why)))
        result_error("%s", why);
    if (!xen_elf_parse(pack.kernel.data, pack.kernel.len, &next, why, sizeof(why)))
        result_error("bootpack: %s", why);
    have_pack = true;
    next_nr_pages = p2m_nr_pages();
    printk("bootpack: kernel %lu bytes, entry %#lx, kernel [%#lx, %#lx), virt_base %#lx, ",
           (unsigned long)pack.kernel.len, (unsigned long)next.entry, (unsigned long)next.virt_kstart,
           (unsigned long)next.virt_kend, (unsigned long)next.virt_base);
    print_addr("init_p2m", next.init_p2m);
    printk(", ");
    print_addr("hypercall_page", next.hypercall_page);
    printk(", mod_start_pfn %d, %u segments\n", next.mod_start_pfn, next.nr_loads);
    if (pack.cmdline.data)
        memcpy(cmdline, pack.cmdline.data, pack.cmdline.len);
    cmdline[pack.cmdline.data ? pack.cmdline.len : 0] = '\0';
    memcpy(next_cmdline, cmdline, strlen(cmdline) + 1);
    next_cmdline_len = strlen(cmdline);
    printk("bootpack: initrd %lu bytes, cmdline \"%s\"\n", (unsigned long)pack.initrd.len, cmdline);
}

/* ------------------------------------------------------------------ frames */

static uint8_t *free_map;                  /* bit per pfn: the page allocator holds it free */
static unsigned long free_map_pfns;
static struct plan_out plan;
static struct plan_move *moves;

static void mark_free(unsigned long pfn, void *arg)
{
    (void)arg;
    if (pfn < free_map_pfns)                /* a free pfn past the list is no use to the plan */
        free_map[pfn / 8] |= (uint8_t)(1u << (pfn % 8));
}

static bool is_free(unsigned long pfn)
{
    return pfn < free_map_pfns && (free_map[pfn / 8] & (1u << (pfn % 8)));
}

static bool ram(unsigned long pfn, void *arg)
{
    (void)arg;
    return pfn_has_ram(pfn);
}

static bool live(unsigned long pfn, void *arg)
{
    (void)arg;
    return !is_free(pfn);
}

static bool any(unsigned long pfn, void *arg)
{
    (void)pfn, (void)arg;
    return true;
}

static bool none(unsigned long pfn, void *arg)
{
    (void)pfn, (void)arg;
    return false;
}

/*
 * The shim's pfn of the frame that will be the next kernel's pfn x
 * (PLAN_NO_FRAME: none).  Each caller keeps its own cursor: the load asks
 * for the 512 mfns of a p2m page, then where that page goes, each in
 * ascending order.
 */
static unsigned long old_pfn_at(unsigned long x, unsigned long *at)
{
    return plan_from_at(moves, plan.nr_moves, x, at);
}

static unsigned long old_pfn(unsigned long x)
{
    static unsigned long at;

    return old_pfn_at(x, &at);
}

static unsigned long next_mfn(unsigned long x, void *arg)
{
    static unsigned long at;
    unsigned long q = old_pfn_at(x, &at), mfn;

    (void)arg;
    if (BUG_KEXEC_OVERWRITE && plan_is_table(&plan, x))
        q = pgtbuf.start + (x - plan.pgtables.pfn);
    mfn = q == PLAN_NO_FRAME ? INVALID_MFN : pfn_ram_mfn(q);
    return mfn == INVALID_MFN ? LOAD_INVALID_MFN : mfn;
}

/* Where the next kernel's pfn x is written: its frame's direct mapping, which must be free. */
static unsigned long next_va(unsigned long x)
{
    static unsigned long at;
    unsigned long q = old_pfn_at(x, &at);

    if (BUG_KEXEC_OVERWRITE && plan_is_table(&plan, x))
        /* The bug: the new tables go where the shim's own live tables are. */
        return pfn_to_virt(pgtbuf.start + (x - plan.pgtables.pfn));
    if (x >= plan.last_pfn)
        mmu_error("hand-off: the load writes the next kernel's pfn %#lx, past the plan's %#lx", x,
                  plan.last_pfn);
    if (q == PLAN_NO_FRAME || !is_free(q) || plan_is_ring_slot(&plan, x))
        mmu_error("hand-off: the next kernel's pfn %#lx would be written into pfn %#lx, which the "
                  "shim still uses", x, q);
    return pfn_to_virt(q);
}

static uint8_t *next_page(unsigned long x, void *arg)
{
    (void)arg;
    return plat_view(next_va(x), PAGE_SIZE, true);
}

static void next_write_words(unsigned long x, const uint64_t *w, void *arg)
{
    unsigned long va = next_va(x);

    (void)arg;
    for (unsigned int i = 0; i < PAGE_SIZE / 8; i++)
        plat_write64(va + i * 8, w[i]);
}

static unsigned long alloc_pages_for(unsigned long bytes, const char *what)
{
    return pages_alloc_contig(DIV_ROUND_UP(bytes, PAGE_SIZE), what);
}

/*
 * The word "handoff-record" on the next kernel's command line asks for the
 * record (record.h): it becomes "handoff-record=0x<mfn of its head>".
 */
/* Does the word "handoff-record" start at next_cmdline[i]? */
static bool record_word_at(size_t i)
{
    size_t n = sizeof(RECORD_WORD) - 1;

    return (!i || next_cmdline[i - 1] == ' ') && i + n <= next_cmdline_len &&
           !strncmp(next_cmdline + i, RECORD_WORD, n) &&
           (next_cmdline[i + n] == ' ' || next_cmdline[i + n] == '\0');
}

static bool want_record(void)
{
    for (size_t i = 0; i < next_cmdline_len; i++)
        if (record_word_at(i))
            return true;
    return false;
}

static void name_record(unsigned long mfn)
{
    static char out[MAX_GUEST_CMDLINE];
    size_t n = sizeof(RECORD_WORD) - 1, o = 0;
    char arg[32];

    format(arg, sizeof(arg), "=%#lx", mfn);
    for (size_t i = 0; i <= next_cmdline_len; i++) {
        bool word = record_word_at(i);
        const char *add = word ? arg : NULL;

        if (word ? o + n + strlen(add) >= sizeof(out) : o >= sizeof(out))
            result_error("hand-off: the next kernel's command line with " RECORD_WORD "=%#lx is longer "
                         "than start_info's %d bytes", mfn, MAX_GUEST_CMDLINE - 1);
        if (word) {
            memcpy(out + o, RECORD_WORD, n);
            memcpy(out + o + n, add, strlen(add));
            o += n + strlen(add);
            i += n - 1;
        } else {
            out[o++] = next_cmdline[i];
        }
    }
    memcpy(next_cmdline, out, o);
    next_cmdline_len = o - 1;
}

/*
 * The layout first (it does not depend on frames), to size the move list
 * and to know where the trampoline goes; then everything the hand-off
 * allocates; then the free map, so that nothing allocated after it is
 * taken for free; then the real plan.
 */
static unsigned long plan_frames(const start_info_t *si)
{
    static char why[256];
    unsigned long nr = next_nr_pages, l1 = 0;
    struct plan_in in = {
        .kernel = &next, .nr_pages = nr, .initrd_len = pack.initrd.len,
        .ring_pages = !si_is_dom0(si), .ram = any, .live = none,
    };
    unsigned long cap;
    uint64_t tva;

    /* The checks grew the list (the balloon's far page) and gave that page back: nothing is left there. */
    for (unsigned long pfn = nr; pfn < p2m_nr_pages(); pfn++)
        if (pfn_has_ram(pfn))
            result_error("hand-off: pfn %#lx has a frame, past the %lu pfns the next kernel's p2m "
                         "list will hold", pfn, nr);
    if (!handoff_plan(&in, &plan, NULL, 0, why, sizeof(why)))
        result_error("hand-off: %s", why);
    tva = handoff_trampoline_va(&plan);
    if (tva < KERNEL_MAP_BASE || tva - KERNEL_MAP_BASE >= (1UL << L3_SHIFT))
        result_error("hand-off: the next kernel's region ends at %#lx, outside the 1 GiB the "
                     "shim's kernel L2 maps, so no trampoline can share an address with it",
                     (unsigned long)plan.v_end);
    if (mmu_read_entry(mmu_pfn_to_mfn(mmu_tables.level2_kernel), PT_INDEX(tva, L2_SHIFT)))
        result_error("hand-off: the next kernel's region ends at %#lx, within the shim's own "
                     "image mapping, so no trampoline can share an address with it",
                     (unsigned long)plan.v_end);
    l1 = pt_page_alloc("hand-off trampoline L1");
    if (want_record()) {
        record_reserve(nr);
        name_record(record_head_mfn());
    }
    cap = 2 * plan.last_pfn + 2;
    moves = plat_view(pfn_to_virt(alloc_pages_for(cap * sizeof(*moves), "hand-off moves")),
                      cap * sizeof(*moves), true);
    free_map = plat_view(pfn_to_virt(alloc_pages_for(DIV_ROUND_UP(nr, 8), "hand-off free map")),
                         DIV_ROUND_UP(nr, 8), true);
    memset(free_map, 0, DIV_ROUND_UP(nr, 8));
    free_map_pfns = nr;
    pages_for_each_free(mark_free, NULL);

    in.ram = ram;
    in.live = live;
    if (in.ring_pages) {
        /* The rings keep their frames, which the plan puts in the region's ring slots. */
        in.store_pfn = mfn_to_pfn(si->store_mfn);
        in.console_pfn = mfn_to_pfn(si->console.domU.mfn);
    }
    if (!handoff_plan(&in, &plan, moves, cap, why, sizeof(why)))
        result_error("hand-off: %s", why);
    return l1;
}

bool handoff_pending(void)
{
    return have_pack;
}

void handoff_go(const start_info_t *si, shared_info_t *shared_info)
{
    unsigned long tramp_l1, written, l4;
    uint64_t tsc_start = plat_tsc();

    if (!have_pack)
        return;
    mmu_phase_begin("handoff-plan");
    tramp_l1 = plan_frames(si);
    mmu_phase_end();
    printk("hand-off: region [%#lx, %#lx) %lu pages, %lu page tables (+%lu for the p2m at %#lx), "
           "p2m %lu pages, start_info %#lx, stack %#lx, %lu pfns written, %lu frames to move\n",
           (unsigned long)next.virt_base, (unsigned long)plan.v_end, plan.region_pages,
           plan.tables.total, plan.p2m_tables.total, (unsigned long)plan.p2m.va, plan.p2m.pages,
           (unsigned long)plan.start_info.va, (unsigned long)plan.stack.va, plan.last_pfn,
           plan.nr_moves);

    mmu_phase_begin("handoff-load");
    struct load_in ld = {
        .kernel = &next, .image = pack.kernel.data, .initrd = pack.initrd.data,
        .initrd_len = pack.initrd.len, .cmdline = next_cmdline,
        .cmdline_len = next_cmdline_len, .plan = &plan, .si = si, .nr_pages = next_nr_pages,
        .mfn = next_mfn, .page = next_page, .write_words = next_write_words,
    };
    written = handoff_load(&ld);
    mmu_phase_end();
    printk("hand-off: %lu pages written\n", written);

    struct switch_in sw = {
        .plan = &plan, .moves = moves, .old_pfn = old_pfn, .tramp_l1 = tramp_l1,
        .entry = next.entry, .shared_info = shared_info, .tsc_start = tsc_start,
    };
    l4 = handoff_protect_and_pin(&sw);
    long rc = handoff_switch(&sw, l4);
    result_error("hand-off: Xen refused NEW_BASEPTR to the next kernel's L4 (mfn %#lx): %ld", l4, rc);
}
