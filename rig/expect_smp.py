# SPDX-License-Identifier: MIT
"""What the shim prints about its vCPUs, computed on the host: the dom0 matrix
(tests/e2e) and the domU matrix (rig/domu) both require these lines of a SUCCESS."""
import re


def smp_rounds(args):
    """The stress test's rounds a case asks for on the guest command line (smp-rounds=N)."""
    m = re.search(r"(?:^| )smp-rounds=(\d+)(?: |$)", args)
    return int(m.group(1)) if m else None


def smp_lines(vcpus, rounds):
    """What a SUCCESS boot with `vcpus` vCPUs prints about them, from the host's own
    arithmetic: who writes which stress target (the last vCPU module space, vCPU 0 the
    process mm), who comes and goes in the process mm (vCPU 1, with 3 or more), the flush
    masks, each reader's counts, and every vCPU's way up and down."""
    if vcpus == 1:
        return [r"^smp: 1 vCPU: the checks between vCPUs need 2 or more "]
    assert rounds, "a case with several vCPUs names its smp-rounds= on the command line"
    hexnum = r"0x[0-9a-f]+"
    everyone, others = hex((1 << vcpus) - 1), hex(((1 << vcpus) - 1) & ~1)
    lines = [rf"^vcpu 0: smp: {vcpus} vCPUs up$",
             rf"^smp: {vcpus} vCPUs: each up, checked and down again$",
             rf"^vcpu 0: stress: free while loaded: mm_free waited [1-9]\d* yields until vcpus {others} "
             r"had switched away$"]
    for v in range(vcpus):
        if v:
            lines += [rf"^vcpu {v}: up: kernel L4 pfn {hexnum}, user L4 pfn {hexnum}, own stack, GDT mfn "
                      rf"{hexnum} \(a writable mapping: Xen says -\d+\)$",
                      rf"^vcpu {v}: usermode: isolation ok ", rf"^vcpu {v}: down$"]
        for target, writer in (("module space", vcpus - 1), ("process mm", 0)):
            if target == "process mm" and vcpus >= 3 and v == 1:
                # the toucher: switches in and out all through the rounds, reads when in
                lines.append(rf"^vcpu {v}: stress: {target} {hexnum}: toucher, [1-9]\d* switches in and out, "
                             r"\d+ reads, \d+ faults, no stale read$")
            elif v == writer:
                # the last round's flush mask; the toucher is in it only if it had the mm then
                masks = everyone if target == "module space" or vcpus < 3 else \
                    f"({everyone}|{hex(((1 << vcpus) - 1) & ~2)})"
                lines.append(rf"^vcpu {v}: stress: {target} {hexnum}: writer, {rounds} rounds mapped, written, "
                             rf"read back, unmapped with a flush on vcpus {masks}; \d+ freed frames reused")
            else:
                lines.append(rf"^vcpu {v}: stress: {target} {hexnum}: reader, {rounds} reads of the writer's "
                             rf"pattern, {rounds} faults once unmapped, no stale read$")
    return lines
