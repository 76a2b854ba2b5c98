/* SPDX-License-Identifier: MIT */
/*
 * suspend.h - one suspend and resume of the PV shim (xl save, restore,
 * save -c, migrate, suspend/resume), and the proof that it came out
 * intact.  docs/lifecycle.md has the whole protocol.
 */
#ifndef SHIM_PV_SUSPEND_H
#define SHIM_PV_SUSPEND_H

#include "lib/xen.h"

struct suspend_hooks {
    /* After a resume in a new domain: take the new store port (already checked). */
    void (*store_rebound)(evtchn_port_t port);
};

/* Once, before the first request can arrive: test pages, the ramdisk's hash. */
void suspend_prepare(start_info_t *si, const struct suspend_hooks *hooks);

/*
 * Suspends, resumes, checks everything, prints "suspend: round N rc=R ...
 * ok".  Returns rc: 1 (same domain: checkpoint, cancel) or 0 (a new domain).
 * Any failure ends the run with an ERROR or FAILURE line.
 */
long suspend_round(unsigned int round);

/*
 * "lifecycle: round N report: p2m ... xxh64=...; tables ... xxh64=...":
 * the p2m list and the set of table frames, for dom0's inspector to
 * compare with what Xen and the list say from outside.
 */
void suspend_report(unsigned int round);

#endif
