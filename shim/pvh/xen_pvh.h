/* SPDX-License-Identifier: MIT */
/*
 * xen_pvh.h - the PVH shim under Xen (a PVH dom0 or domU): found by CPUID,
 * hypercalls through the page Xen writes when asked by MSR.  On bare
 * QEMU none of this is there and the native paths run.
 */
#ifndef SHIM_PVH_XEN_PVH_H
#define SHIM_PVH_XEN_PVH_H

#include <stdbool.h>
#include "lib/xen.h"

/* Finds Xen's CPUID leaves and installs the hypercall page; false on bare hardware. */
bool xen_pvh_init(void);
extern bool on_xen;

long xen_pvh_hypercall(unsigned int nr, unsigned long a1, unsigned long a2, unsigned long a3);

#endif
