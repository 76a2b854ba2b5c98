/* SPDX-License-Identifier: MIT */
/*
 * suspend.h - one suspend and resume of the PV shim (xl save, restore,
 * save -c, migrate, suspend/resume), and the proof that it came out
 * intact.  docs/lifecycle.md has the whole protocol.
 */
#ifndef SHIM_PV_SUSPEND_H
#define SHIM_PV_SUSPEND_H

#include <stdbool.h>
#include "lib/xen.h"

/*
 * What the platform does around the MM code's suspend and resume: the
 * guest's console, event channels, xenstore and ring 3 (lifecycle.c), or
 * the host model's stand-ins (tests/model).  Called in this order.
 */
struct suspend_hooks {
    /* shared_info is mapped at its fixmap slot again (true), or about to be unmapped. */
    void (*shared_info_mapped)(bool mapped);
    /* A new domain: the console's ring (its pfn) and port, already checked: move to them. */
    void (*console_moved)(unsigned long ring_pfn, evtchn_port_t port);
    /* A new domain: unmask and kick the console and store ports, rebind xenstore. */
    void (*ports_rebound)(const start_info_t *si);
    /* The exercises beyond the MM code's own (the ring-3 test), after every resume. */
    void (*exercises)(void);
};

/*
 * Once, before the first request can arrive: test pages, the ramdisk's
 * hash.  si is start_info as the code reads it, si_pfn its page.
 */
void suspend_prepare(start_info_t *si, unsigned long si_pfn, const struct suspend_hooks *hooks);

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
