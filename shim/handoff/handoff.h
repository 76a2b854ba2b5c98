/* SPDX-License-Identifier: MIT */
/*
 * handoff.h - the hand-off's entry points in setup.c's boot: a ramdisk
 * that is a bootpack (bootpack.h) names the kernel to boot after the
 * checks.
 */
#ifndef SHIM_HANDOFF_HANDOFF_H
#define SHIM_HANDOFF_HANDOFF_H

#include "lib/xen.h"

/*
 * After the bring-up: if the ramdisk is a bootpack, read it and its
 * kernel's ELF and Xen notes, print what they say, and remember the
 * hand-off; a malformed one ends the boot in an ERROR naming the cause.
 * Any other ramdisk is left to ramdisk.c, as before.
 */
void handoff_read(const start_info_t *si);

/* Whether the ramdisk was a bootpack, whose kernel handoff_go() would boot. */
bool handoff_pending(void);

/*
 * After the checks: with a bootpack and no "nochain" on the command line,
 * the boot goes on into the next kernel.  Returns when there is nothing
 * to hand over.
 */
void handoff_go(const start_info_t *si, shared_info_t *shared_info);

#endif
