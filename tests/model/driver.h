/* SPDX-License-Identifier: MIT */
/*
 * driver.h - the shim's boot sequence on the model (driver.c): what
 * shim/pv/setup.c does after its start_info check, with the real mmu_pv.c,
 * batch.c, page_alloc.c, p2m.c, mmu_check.c, pt_walk.c and start_info.c.
 *
 * drive() runs one boot in a child process (the shim's allocator and
 * update queue keep file-static state, and a child also contains any
 * crash or hang), and returns what happened with the numbers the tests
 * check.
 */
#ifndef TESTS_MODEL_DRIVER_H
#define TESTS_MODEL_DRIVER_H

#include "builder.h"
#include "handoff_check.h"
#include "hosted.h"
#include "toolstack.h"

struct drive_opts {
    struct boot_cfg boot;
    bool no_modules;                /* skip mmu_module_test() */
    bool no_checks;                 /* skip mmu_self_check() */
    bool no_balloon;                /* skip p2m_balloon_test() */
    unsigned long fail_call;        /* fault injection (model_inject) */
    unsigned long fail_entry;
    long fail_rc;
    unsigned int timeout_s;         /* default 60 */
    /*
     * The ramdisk is a bootpack (boot.rd_bytes): after the checks the shim
     * hands over as setup.c does, and handoff_check.c judges the state the
     * next kernel would find (hx: what it must find).
     */
    bool handoff;
    const struct handoff_expect *hx;
    /*
     * After the exercises, as a domU with `lifecycle` does: one suspend per
     * character, 'r' xl save + xl restore (a new domain), 'c' xl save -c;
     * the toolstack's side is toolstack.c.
     */
    const char *lifecycle;
    /* Changes start_info (a copy) before the guest starts; written back into guest memory. */
    void (*mutate)(start_info_t *si, const struct boot_layout *L, long arg);
    long mutate_arg;
    /*
     * vcpus > 1: after the balloon, setup.c's smp phase on the model's vCPUs
     * (vcpus.c): smp_stress() on each, smp_rounds rounds (default 32), the
     * interleaving chosen by smp_seed, a switch at a hypercall with a chance
     * of smp_permille in 1000.
     */
    unsigned int vcpus;
    uint64_t smp_seed;
    unsigned int smp_permille;
    unsigned long smp_rounds;
    /* Breaks the live tables (through the shim's own hypercalls) just before the first self-check. */
    void (*tamper)(long arg);
    long tamper_arg;
};

#define DRIVE_MAX_PHASES 12

struct phase_stat {
    char name[16];
    unsigned long hypercalls, entries, pt_pages;
};

struct drive_result {
    bool finished;                  /* the child reported (it did not die) */
    bool child_died;
    int status;
    double seconds;

    bool build_failed;
    struct boot_layout L;

    enum outcome out;
    char msg[512];
    char refusal[320];
    bool inj_fired;
    char inj_what[96];

    struct phase_stat phase[DRIVE_MAX_PHASES];
    unsigned int nphases;
    unsigned long boot_l4, boot_l3, boot_l2, initial_mapping;   /* from "mmu: boot tables" */
    unsigned long pgtbuf_used, pgtbuf_returned, reclaimed, cleared, module_slots;
    unsigned long checks_passed, tables_kernel, tables_user;
    bool ramdisk_checked;
    unsigned long p2m_freed;
    unsigned long dmap_pages;       /* pfns the direct map covers (the list's entries) */

    /* The model after the run. */
    struct model_stats stats;
    unsigned long entry_seq;
    unsigned long typed[FT_SEG_DESC + 1];       /* frames with a type count, by type */
    unsigned long pinned;
    unsigned long cr3, user_cr3;
    bool boot_tables_reclaimed;     /* boot L4/L3/L2: no table type left, mapped writable */
    char boot_tables_state[160];
    char log[8192];                 /* the start of what mmu_print printed */

    /* The lifecycle (drive_opts.lifecycle): the suspends the toolstack saw, and its counts. */
    unsigned int suspends;
    struct ts_counts ts[TS_MAX_OPS];
    /* The hand-off (drive_opts.handoff), from handoff_check.c. */
    struct {
        unsigned long hypercalls, min_hypercalls;   /* from the plan to the jump, and the minimum */
        unsigned long ro_batches, m2p_batches, fixed;   /* the minimum's parts */
        unsigned long moves, tables, old_tables;    /* M2P updates; the next kernel's tables; the shim's */
        unsigned long p2m_entries;                  /* the next kernel's list: entries with a frame */
        bool verified;                              /* every check below held */
        char problem[400];                          /* else the first that failed */
    } ho;
};

int drive(const struct drive_opts *o, struct drive_result *r);
/* The same in this process (the fuzzer: it resets the shim's statics itself). */
void drive_inline(const struct drive_opts *o, struct drive_result *r);
const struct phase_stat *drive_phase(const struct drive_result *r, const char *name);

#endif
