/* SPDX-License-Identifier: MIT */
/*
 * driver.c - shim/pv/setup.c's sequence after the traps, on the model:
 *
 *   m2p_init, start_info_check (the real checker), p2m_init_boot,
 *   mmu_bringup, mmu_drop_initial_mapping, shared_info in the fixmap,
 *   p2m_build + the builder's list freed + p2m_tools_init, the ramdisk
 *   read through the direct map, mmu_self_check, usermode (its page-table
 *   steps mirrored here: usermode.c is guest-only; the model's U1 audit
 *   stands where ring 3 would run), mmu_module_test, p2m_balloon_test,
 *   mmu_self_check again.
 *
 * Every boot runs in a child process: the shim's page allocator and update
 * queue keep file-static state that only a fresh process resets, and a
 * crash, hang or sanitizer report stays in the child and is reported.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "pv/batch.h"
#include "lib/lib.h"
#include "pv/mmu.h"
#include "pv/mm_user.h"
#include "pv/smp.h"
#include "vcpus.h"
#include "pv/mmu_plat.h"
#include "pv/p2m.h"
#include "pv/page_alloc.h"
#include "pv/start_info.h"
#include "pv/suspend.h"
#include "handoff/handoff.h"

static void check_boot_tables(struct drive_result *r);

struct ctx {
    const struct drive_opts *o;
    struct drive_result *r;
};

/*
 * The ramdisk as the guest reads it through the direct map.  Where start_info
 * still says what the builder wrote, the bytes must be the ramdisk's; where
 * a mutation (make fuzz) moved or resized it, no guest can tell a ramdisk
 * from other RAM of its own, and the bytes must be those of the frames the
 * builder's p2m gives those pfns.
 */
static void check_ramdisk(const start_info_t *si, struct drive_result *r)
{
    const start_info_t *built = &r->L.si;
    unsigned long va, first_pfn, len = si->mod_len;
    const unsigned long offs[] = { 0, 8, PAGE_SIZE, len / 2, len - 8, len - 1 };
    bool as_built = si->mod_start == built->mod_start && si->mod_len == built->mod_len &&
                    si_ramdisk_is_pfn(si) == si_ramdisk_is_pfn(built);

    if (!len)
        return;
    if (si_ramdisk_is_pfn(si)) {
        va = pfn_to_virt(si->mod_start);
        first_pfn = si->mod_start;
    } else {
        va = boot_va_to_direct(si->mod_start);
        first_pfn = (si->mod_start - r->L.virt_base) >> PAGE_SHIFT;
    }
    for (unsigned int i = 0; i < ARRAY_SIZE(offs); i++) {
        unsigned long off = offs[i] & ~7UL;
        uint64_t got, want;

        if (offs[i] >= len)
            continue;
        got = plat_read64(va + off);
        want = as_built ? ramdisk_word(off)
                        : mem_read(model_p2m(first_pfn + (off >> PAGE_SHIFT)), (off & ~PAGE_MASK) / 8);
        if (got != want)
            model_end_run(OUT_FAILURE, "ramdisk byte %#lx through the direct map (%#lx): %#lx, want %#lx",
                          off, va + off, (unsigned long)got, (unsigned long)want);
    }
    r->ramdisk_checked = true;
}

/*
 * shim/pv/usermode.c's steps (it is guest-only: it enters ring 3), with the
 * real mm_user.c (its tables from the shared builder) and the model's
 * ring-3 audit (U1) where the guest would run its program.
 */
static void usermode_mirror(void)
{
    static const uint8_t program[16] = { 0x0f, 0x0b };     /* ud2: never run on the model */
    struct user_space us;
    char why[320];

    user_space_create(&us, USER_TEST_VA, program, sizeof(program));
    if (!model_enter_user(why, sizeof(why)))
        model_end_run(M.crashed ? OUT_CRASH : OUT_RULE, "%s", why);
    user_space_destroy(&us);

    set_pgd_selftest();
    if (!model_enter_user(why, sizeof(why)))
        model_end_run(M.crashed ? OUT_CRASH : OUT_RULE, "%s (init_mm)", why);
}

/* ------------------------------------------------------------ lifecycle */

/* suspend.c's platform side: no traps, console, ports or xenstore on the model. */
static void no_shared_info_hook(bool mapped)
{
    (void)mapped;
}

static void no_console_hook(unsigned long ring_pfn, evtchn_port_t port)
{
    (void)ring_pfn, (void)port;
}

static void no_ports_hook(const start_info_t *si)
{
    (void)si;
}

static const struct suspend_hooks model_hooks = {
    .shared_info_mapped = no_shared_info_hook,
    .console_moved = no_console_hook,
    .ports_rebound = no_ports_hook,
    .exercises = usermode_mirror,
};

/* lifecycle.c's loop, one round per operation, with the report the inspector reads. */
static void lifecycle(const struct drive_opts *o, const struct boot_layout *L)
{
    start_info_t *si = plat_view(boot_va_to_direct(L->vstartinfo_start), PAGE_SIZE, true);

    TS.nr_ops = TS.done = 0;
    for (const char *p = o->lifecycle; *p && TS.nr_ops < TS_MAX_OPS; p++)
        TS.op[TS.nr_ops++] = *p == 'c' ? TS_CHECKPOINT : TS_SAVE_RESTORE;
    suspend_prepare(si, (L->vstartinfo_start - L->virt_base) >> PAGE_SHIFT, &model_hooks);
    for (unsigned int round = 0; round < TS.nr_ops; round++) {
        suspend_report(round);
        model_toolstack_setup();            /* `xl save` starts; then it asks for the suspend */
        suspend_round(round + 1);
    }
    suspend_report(TS.nr_ops);
}

/* Set in drive()'s child: a run of several vCPUs leaves threads behind, which only a child may. */
static bool in_child;

/* What each vCPU runs in setup.c's smp phase, less the guest's own bring-up (smp.c). */
static void smp_vcpu(unsigned int id)
{
    (void)id;
    smp_barrier();
    smp_stress();
    smp_barrier();
    mm_switch(&init_mm);
}

/* smp.c's bring-up on the model: each secondary starts on init_mm's two L4s. */
static void smp_phase(const struct drive_opts *o)
{
    unsigned long k = mmu_pfn_to_mfn(init_mm.kernel_l4);
    unsigned long u = init_mm.user_l4 ? mmu_pfn_to_mfn(init_mm.user_l4) : k;

    model_vcpus_init(o->vcpus, o->smp_seed, o->smp_permille);
    smp_vcpus = o->vcpus;
    smp_rounds = o->smp_rounds ? o->smp_rounds : 32;
    for (unsigned int v = 1; v < o->vcpus; v++) {
        if (model_vcpu_initialise(v, k, u))
            model_end_run(OUT_ERROR, "model: VCPUOP_initialise(vcpu %u) refused: %s", v, model_last_refusal());
        mm_set_loaded(v, &init_mm);
        vcpus_running |= 1UL << v;
    }
    model_vcpus_run(smp_vcpu);
    vcpus_running = 1;
    smp_vcpus = 1;
}

static void boot_shim(void *arg)
{
    struct ctx *c = arg;
    const struct drive_opts *o = c->o;
    const struct boot_layout *L = &c->r->L;
    start_info_t si;
    char why[320];
    long rc;

    rc = m2p_init();
    if (rc)
        model_end_run(OUT_ERROR, "XENMEM_machphys_mapping failed: %ld", rc);

    /* start_info as the guest finds it: read through Xen's initial mapping. */
    vmem_read_bytes(L->vstartinfo_start, &si, sizeof(si));
    si.cmd_line[MAX_GUEST_CMDLINE - 1] = 0;
    /* m2p_strict unless "no-m2p-strict" (setup.c). */
    if (!strstr((const char *)si.cmd_line, "no-m2p-strict")) {
        rc = model_vm_assist(VMASST_CMD_enable, VMASST_TYPE_m2p_strict);
        if (rc)
            model_end_run(OUT_ERROR, "vm_assist(enable, m2p_strict) failed: %ld", rc);
        m2p_strict = true;
    }
    vmem_read_bytes(L->vstartinfo_start, &si, sizeof(si));
    struct boot_bounds b = {
        .virt_base = L->virt_base,
        .image_end = L->image_end,
        .mapped_end = L->vstack_end,
        .si_va = L->vstartinfo_start,
        .init_p2m_va = o->boot.init_p2m,
        .m2p_read = m2p_probe,
    };
    if (!start_info_check(&si, &b, why, sizeof(why)))
        model_end_run(OUT_ERROR, "%s", why);
    unsigned long nr_pfns = p2m_init_boot(si.mfn_list, si.nr_pages);

    c->r->dmap_pages = nr_pfns;

    struct mmu_boot mb = {
        .virt_base = L->virt_base,
        .image_end = L->image_end,
        .xen_stack_top = L->vstack_end,
        .pt_base = si.pt_base,
        .nr_pages = nr_pfns,
        .window_va = L->window_va,
        .window_pages = L->window_pages,
        .p2m_va = si.mfn_list,
    };
    mb.ramdisk_pfn = si.mod_start;
    mb.ramdisk_pages = (si.mod_len && si_ramdisk_is_pfn(&si)) ? DIV_ROUND_UP(si.mod_len, PAGE_SIZE) : 0;
    if (b.init_p2m_va && si.mfn_list == b.init_p2m_va) {
        mb.p2m_first_pfn = si.first_p2m_pfn;
        mb.p2m_frames = si.nr_p2m_frames;
    }
    mmu_bringup(&mb);
    check_boot_tables(c->r);

    /* From here on start_info is read through the direct map. */
    vmem_read_bytes(boot_va_to_direct(L->vstartinfo_start), &si, sizeof(si));
    mmu_drop_initial_mapping();

    set_fixmap(FIX_SHARED_INFO, si.shared_info >> PAGE_SHIFT, PTE_KERNEL_RW | pte_nx);
    batch_flush();
    {
        unsigned long mfn;

        if (!vmem_translate(fix_to_virt(FIX_SHARED_INFO), true, &mfn, why, sizeof(why)) ||
            mfn != si.shared_info >> PAGE_SHIFT)
            model_end_run(OUT_FAILURE, "shared_info (mfn %#lx, %s) is not mapped writable at its fixmap "
                          "slot: %s", (unsigned long)si.shared_info >> PAGE_SHIFT,
                          mfn_valid(si.shared_info >> PAGE_SHIFT)
                              ? owner_name(frame_of(si.shared_info >> PAGE_SHIFT)->owner) : "no RAM", why);
    }

    mmu_phase_begin("p2m");
    p2m_build(nr_pfns, NULL);
    c->r->p2m_freed = mb.p2m_frames ? mmu_drop_boot_p2m()
        : p2m_release_boot_list((si.mfn_list - L->virt_base) >> PAGE_SHIFT, nr_pfns);
    p2m_tools_init(fix_to_virt(FIX_SHARED_INFO), si.flags, strstr((const char *)si.cmd_line, "p2m-tree"));
    mmu_phase_end();

    check_ramdisk(&si, c->r);
    /* setup.c's hand-off steps, on start_info as it reads it (the direct map). */
    const start_info_t *si_dmap = NULL;

    if (o->handoff) {
        si_dmap = plat_view(boot_va_to_direct(L->vstartinfo_start), PAGE_SIZE, false);
        handoff_read(si_dmap);
    }

    if (o->tamper)
        o->tamper(o->tamper_arg);
    if (!o->no_checks)
        mmu_self_check("after bring-up");
    mmu_phase_begin("usermode");
    usermode_mirror();
    mmu_phase_end();
    if (!o->no_modules) {
        mmu_phase_begin("modules");
        mmu_module_test();
        mmu_phase_end();
    }
    if (!o->no_balloon) {
        mmu_phase_begin("balloon");
        p2m_balloon_test(64);
        mmu_phase_end();
    }
    if (o->vcpus > 1) {
        if (!in_child)
            model_end_run(OUT_ERROR, "model: several vCPUs need drive(), which runs the boot in a child");
        mmu_phase_begin("smp");
        smp_phase(o);
        mmu_phase_end();
    }
    if (!o->no_checks)
        mmu_self_check("after exercises");
    if (o->lifecycle)
        lifecycle(o, L);
    if (o->handoff) {
        handoff_snapshot(si_dmap);
        handoff_go(si_dmap, plat_view(fix_to_virt(FIX_SHARED_INFO), PAGE_SIZE, true));
        model_end_run(OUT_FAILURE, "handoff_go() returned: the ramdisk was no bootpack");
    }
}

/* ------------------------------------------------------------ the log */

static void parse_log(struct drive_result *r)
{
    const char *p = hosted_log();

    r->nphases = 0;
    r->checks_passed = 0;

    while (*p) {
        const char *nl = strchr(p, '\n');
        char line[320], name[16];
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        unsigned long a, b, c;

        if (n >= sizeof(line))
            n = sizeof(line) - 1;
        memcpy(line, p, n);
        line[n] = 0;
        p += n + (nl ? 1 : 0);

        if (sscanf(line, "mmu: boot tables l4=%lx l3=%lx l2=%lx, initial mapping %lu pages", &a, &b,
                   &c, &r->initial_mapping) == 4) {
            r->boot_l4 = a, r->boot_l3 = b, r->boot_l2 = c;
        } else if (sscanf(line, "mmu: pgtbuf used=%lu returned=%lu", &a, &b) == 2) {
            r->pgtbuf_used = a, r->pgtbuf_returned = b;
        } else if (sscanf(line, "mmu: reclaimed %lu", &a) == 1) {
            r->reclaimed = a;
        } else if (sscanf(line, "mmu: cleared %lu", &a) == 1) {
            r->cleared = a;
        } else if (strstr(line, "invariants hold") &&
                   sscanf(strchr(line, ':') + 1, "%*[^:]: %lu tables %*[^,], %lu", &a, &b) == 2) {
            r->checks_passed++;
            r->tables_kernel = a, r->tables_user = b;
        } else if (strstr(line, "slots mapped") && sscanf(line, "mmu: module space %*s %lu", &a) == 1) {
            r->module_slots = a;
        } else if (sscanf(line, "mmu: %15s hypercalls=%lu entries=%lu pt_pages=%lu", name, &a, &b, &c) == 4 &&
                   r->nphases < DRIVE_MAX_PHASES) {
            struct phase_stat *ps = &r->phase[r->nphases++];

            memcpy(ps->name, name, sizeof(ps->name));
            ps->hypercalls = a, ps->entries = b, ps->pt_pages = c;
        }
    }
}

const struct phase_stat *drive_phase(const struct drive_result *r, const char *name)
{
    for (unsigned int i = 0; i < r->nphases; i++)
        if (!strcmp(r->phase[i].name, name))
            return &r->phase[i];
    return NULL;
}

/* ------------------------------------------------------------ after the run */

static void census(struct drive_result *r)
{
    for (unsigned long m = 0; m < M.max_mfn; m++) {
        const struct frame *f = frame_of(m);

        if (f->count && f->type <= FT_SEG_DESC)
            r->typed[f->type]++;
        if (f->flags & FF_PINNED)
            r->pinned++;
    }
    r->cr3 = M.cr3;
    r->user_cr3 = M.user_cr3;

}

/*
 * Right after the reclaim phase (later they may be allocated again, as
 * tables even): Xen's boot L4/L3/L2 have no table type left, are not
 * pinned, and are mapped writable through the direct map.
 */
static void check_boot_tables(struct drive_result *r)
{
    parse_log(r);
    if (r->boot_l4) {
        const unsigned long mfns[] = { r->boot_l4, r->boot_l3, r->boot_l2 };
        bool ok = true;
        size_t n = 0;

        for (unsigned int i = 0; i < 3; i++) {
            const struct frame *f = frame_of(mfns[i]);
            unsigned long pfn = model_m2p(mfns[i]), mfn;
            char why[160];
            bool w = M.cr3 && vmem_translate(pfn_to_virt(pfn), true, &mfn, why, sizeof(why)) &&
                     mfn == mfns[i];

            if ((f->count && f->type != FT_WRITABLE) || (f->flags & FF_PINNED) || !w)
                ok = false;
            n += snprintf(r->boot_tables_state + n, sizeof(r->boot_tables_state) - n,
                          "%s%#lx:%s/%u%s%s", i ? " " : "", mfns[i], frame_type_name(f->type), f->count,
                          (f->flags & FF_PINNED) ? "/pinned" : "", w ? "/rw" : "/not-rw");
            if (n >= sizeof(r->boot_tables_state))
                break;
        }
        r->boot_tables_reclaimed = ok;
    }
}

void drive_inline(const struct drive_opts *o, struct drive_result *r)
{
    struct ctx c = { .o = o, .r = r };
    struct timespec t0, t1;

    /*
     * Every boot starts from a clean result: the fuzzer passes the same one
     * each time, and a build_failed left over from one refused input made
     * it ignore the outcome of every later one (found when a known bug went
     * unnoticed in a long run).
     */
    memset(r, 0, sizeof(*r));
    clock_gettime(CLOCK_MONOTONIC, &t0);
    hosted_log_reset();
    if (build_boot(&o->boot, &r->L)) {
        r->build_failed = true;
        r->finished = true;
        return;
    }
    if (o->mutate) {
        start_info_t si = r->L.si;

        o->mutate(&si, &r->L, o->mutate_arg);
        mem_write_bytes(model_p2m((r->L.vstartinfo_start - r->L.virt_base) >> PAGE_SHIFT), 0, &si,
                        sizeof(si));
    }
    memset(&M.stats, 0, sizeof(M.stats));
    M.entry_seq = 0;
    M.inj.fail_call = o->fail_call;
    M.inj.fail_entry = o->fail_entry;
    M.inj.rc = o->fail_rc;

    r->out = model_run(boot_shim, &c, r->msg, sizeof(r->msg));
    snprintf(r->refusal, sizeof(r->refusal), "%s", model_last_refusal());
    r->inj_fired = M.inj.fired;
    snprintf(r->inj_what, sizeof(r->inj_what), "%s", M.inj.what);
    r->stats = M.stats;
    r->entry_seq = M.entry_seq;
    r->suspends = TS.done;
    memcpy(r->ts, TS.counts, sizeof(r->ts));
    parse_log(r);
    snprintf(r->log, sizeof(r->log), "%s", hosted_log());
    if (o->handoff && r->out == OUT_JUMPED)
        handoff_verify(o->hx, r);
    census(r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    r->finished = true;
}

int drive(const struct drive_opts *o, struct drive_result *r)
{
    struct drive_result *shared = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE,
                                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    pid_t pid;
    int status = 0;

    memset(r, 0, sizeof(*r));
    if (shared == MAP_FAILED)
        return -1;
    memset(shared, 0, sizeof(*shared));
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        alarm(o->timeout_s ? o->timeout_s : 60);
        in_child = true;
        drive_inline(o, shared);
        fflush(stdout);
        _exit(0);
    }
    while (waitpid(pid, &status, 0) < 0)
        ;
    if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
        printf("  model: a %s boot of %lu pages was killed by its hang limit of %u s\n",
               o->boot.builder == BUILD_DOM0 ? "dom0" : "domU", o->boot.nr_pages,
               o->timeout_s ? o->timeout_s : 60);
    *r = *shared;
    munmap(shared, sizeof(*shared));
    r->status = status;
    r->child_died = !r->finished || !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    return 0;
}
