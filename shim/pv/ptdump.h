/* SPDX-License-Identifier: MIT */
/* ptdump.h - print the live page tables as ranges (guest command line "ptdump"). */
#ifndef SHIM_PTDUMP_H
#define SHIM_PTDUMP_H

void ptdump(void);

#endif
