/* SPDX-License-Identifier: MIT */
/* native_checks.h - checks on the tables the CPU walks (native_checks.c). */
#ifndef SHIM_PVH_NATIVE_CHECKS_H
#define SHIM_PVH_NATIVE_CHECKS_H

void check_walker_matches_cpu(void);
void check_ptdump_counts(void);
void check_la57_only_pages(void);
void check_la57_fixed(void);

#endif
