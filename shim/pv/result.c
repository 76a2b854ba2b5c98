/* SPDX-License-Identifier: MIT */
/* result.c - the PV shim's way out (lib/result.c reports the verdict): SCHEDOP_shutdown. */
#include "lib/result.h"
#include "lib/console.h"
#include "pv/hypercall.h"
#include "lib/lib.h"

void shim_shutdown(unsigned int reason)
{
    struct sched_shutdown sd = { .reason = reason };

    console_flush();
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);

    /* Xen refused: try the harshest exit, then park without spinning. */
    sd.reason = SHUTDOWN_crash;
    HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
    for (;;)
        HYPERVISOR_sched_op(SCHEDOP_block, NULL);
}
