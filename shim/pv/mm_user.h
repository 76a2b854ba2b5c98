/* SPDX-License-Identifier: MIT */
/*
 * mm_user.h - a process-like address space with one user page, built,
 * loaded and torn down with the PV rules (no ring-3 code here: this half
 * also runs in the host model).
 */
#ifndef SHIM_MM_USER_H
#define SHIM_MM_USER_H

#include "pv/mmu.h"

struct user_space {
    struct mm mm;               /* its kernel L4 and user L4 */
    unsigned long va;           /* where the user page is mapped */
    unsigned long l3, l2, l1;   /* its user tables (pfns) */
    unsigned long page;         /* the user page (pfn) */
};

/* Map one page at va (user, RW, executable) holding len bytes of code; pin and load both L4s. */
void user_space_create(struct user_space *us, unsigned long va, const void *code, unsigned long len);
/* Back to init_mm, unpin both L4s, free the tables and the page. */
void user_space_destroy(struct user_space *us);
/* set_pgd on the pinned init_mm: clear slot 0 in both L4s, check, restore, check. */
void set_pgd_selftest(void);

#endif
