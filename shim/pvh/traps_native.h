/* SPDX-License-Identifier: MIT */
/* traps_native.h - the native IDT, and accesses that are expected to fault. */
#ifndef SHIM_PVH_TRAPS_NATIVE_H
#define SHIM_PVH_TRAPS_NATIVE_H

#include <stdint.h>

#define VEC_GP  13
#define VEC_PF  14

void traps_native_init(void);

/* The vector the last probe faulted with, or -1 if it did not fault. */
extern long probe_vector;
uint64_t probe_read64(unsigned long va);
void probe_toggle_la57(void);

#endif
