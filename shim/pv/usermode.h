/* SPDX-License-Identifier: MIT */
/* usermode.h - proof that the user L4 is live and hides the kernel. */
#ifndef SHIM_USERMODE_H
#define SHIM_USERMODE_H

void usermode_test(void);

#endif
