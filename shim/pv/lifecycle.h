/* SPDX-License-Identifier: MIT */
/*
 * lifecycle.h - the shim stays alive after its checks (command line word
 * `lifecycle`, a domU only) and serves the toolstack's requests on
 * control/shutdown: "suspend" (xl save, migrate, suspend), "poweroff",
 * "reboot".  docs/lifecycle.md.
 */
#ifndef SHIM_PV_LIFECYCLE_H
#define SHIM_PV_LIFECYCLE_H

#include "lib/xen.h"

/*
 * Returns when the toolstack asked for a poweroff or a reboot (the caller
 * prints the verdict and shuts down); wait_s bounds each wait for a request.
 */
void lifecycle_run(start_info_t *si, shared_info_t *shared, unsigned int wait_s);

#endif
