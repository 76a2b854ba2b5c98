# SPDX-License-Identifier: MIT
"""The end-to-end matrix as data: one Case per boot of the shim as dom0.

Every case names the `make` variables of its build, the Xen version, dom0_mem,
the ramdisk (None, or a size in MiB of random bytes from cache/ramdisks/), the
guest command line, the verdicts that count as a pass, the guest lines that
must appear (regexes, searched line by line), and for bad-input cases a regex
the result's reason must match.

SUCCESS cases must also print every line of REQUIRED_SUCCESS_LINES, and their
`ramdisk:` line must match the host's view of the ramdisk (size and XXH64), or
be `ramdisk: none`; runner.py checks that.

Regression cases (`control` set) boot a build with one historical bug put back
(`make BUG=...`). They pass when the guest does NOT succeed, and only when
their control (the same configuration without BUG, itself a case here)
passes.
"""
import dataclasses
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "rig"))
from expect_smp import smp_lines, smp_rounds  # noqa: E402,F401  (the judge's, and the domU matrix's)

XENS = ("4.17", "4.20")

# Lines every SUCCESS boot must print (regexes, matched against each guest line).
REQUIRED_SUCCESS_LINES = [
    r"^mmu: check after bring-up: .* invariants hold$",
    r"^mmu: module space 0x[0-9a-f]+-0x[0-9a-f]+: \d+ slots mapped, written, read back, unmapped$",
    r"^usermode: isolation ok ",
    r"^p2m: balloon out=64 in=64 ok ",
    r"^mmu: check after exercises: .* invariants hold$",
    r"^p2m: ok$",
    r"^mmu: ok$",
]

NOT_SUCCESS = frozenset({"FAILURE", "ERROR", "CRASH"})
BUGS = ("fixmap-miscopy", "pgtbuf-rw", "no-user-l4", "nx-always", "kexec-overwrite", "kexec-rw-alias",
        "kexec-user-pin", "no-tlb-shootdown", "free-loaded-mm")


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    make_vars: tuple                # (("MAPPED_RAMDISK", "1"), ...), sorted; () is the default build
    xen: str                        # "4.17" | "4.20"
    mem: int                        # dom0_mem, MiB
    ramdisk: int | None = None      # MiB of random bytes, or None
    args: str = ""                  # guest command line
    xen_args: str = ""              # extra Xen command line
    expect: frozenset = frozenset({"SUCCESS"})
    required: tuple = ()            # extra regexes some guest line must match
    reason_re: str | None = None    # the result's reason must match (bad-input cases)
    control: str | None = None      # regression case: the same config without BUG
    timeout: float | None = None    # None: runner.default_timeout(case)
    no_nx: bool = False             # QEMU's CPU without NX
    # The ramdisk is a bootpack (tools/bootpack.py) instead: (kernel, cmdline, damage), the
    # kernel "shim" (the default build) or "debian" (the vmlinuz of this Xen's dom0: bookworm's
    # XZ bzImage for 4.17, trixie's zstd one for 4.20), damage None or "truncate".
    bootpack: tuple | None = None
    # The bootpack's kernel is booted (the hand-off): "linux" (Debian's, with the hand-off's
    # /init from rig/domu/build_dom0.py) or "shim" (a second shim); the judge checks both stages.
    chain: str | None = None
    vcpus: int = 1                  # dom0_max_vcpus (QEMU -smp 2 for more than 1)

    @property
    def variant(self):
        return variant(dict(self.make_vars))

    @property
    def kernel(self):
        return f"build/{self.variant}/shim"

    @property
    def expects_success(self):
        return self.expect == frozenset({"SUCCESS"})

    def describe(self):
        mv = " ".join(f"{k}={v}" for k, v in self.make_vars) or "(default build)"
        rd = f"ramdisk {self.ramdisk} MiB" if self.ramdisk else "no ramdisk"
        if self.bootpack:
            rd = f"bootpack of {self.bootpack[0]}'s kernel" + (f" ({self.bootpack[2]})" if self.bootpack[2] else "")
        return (f"{mv}, xen {self.xen}, dom0_mem {self.mem} MiB, {rd}" + (", CPU without NX" if self.no_nx else "")
                + (f", {self.vcpus} vCPUs" if self.vcpus > 1 else ""))


def variant(make_vars):
    """build/<variant>/ as the top-level Makefile names it."""
    v = "shim"
    if make_vars.get("MAPPED_RAMDISK", "0") == "1":
        v += "-mapped"
    if make_vars.get("KERNEL_IMAGE_SIZE", "512M") == "1G":
        v += "-1g"
    if make_vars.get("INIT_P2M", "0") == "1":
        v += "-initp2m"
    if make_vars.get("BUG"):
        v += "-bug-" + make_vars["BUG"]
    return v


def _mv(**kw):
    return tuple(sorted((k, str(v)) for k, v in kw.items()))


def _tag(make_vars):
    t = variant(dict(make_vars))[len("shim"):].lstrip("-")
    return t or "default"


def _boot(xen, make_vars, mem, ramdisk=None, **kw):
    rd = f"rd{ramdisk}" if ramdisk else "nord"
    name = f"{_tag(make_vars)}-{rd}-m{mem}{'-nonx' if kw.get('no_nx') else ''}-{xen}"
    return Case(name=name, make_vars=make_vars, xen=xen, mem=mem, ramdisk=ramdisk, **kw)


# Where Xen put the ramdisk: the default image has XEN_ELFNOTE_MOD_START_PFN
# (a pfn, unmapped); MAPPED_RAMDISK=1 leaves the note out (a mapped va).
PFN_LINE = r"^start_info: ramdisk pfn "
VA_LINE = r"^start_info: ramdisk va "

DEFAULT = _mv()
MAPPED = _mv(MAPPED_RAMDISK=1)
ONE_G = _mv(KERNEL_IMAGE_SIZE="1G")
MAPPED_1G = _mv(MAPPED_RAMDISK=1, KERNEL_IMAGE_SIZE="1G")
INIT_P2M = _mv(INIT_P2M=1)
MAPPED_INIT_P2M = _mv(MAPPED_RAMDISK=1, INIT_P2M=1)
# A bootpack's kernel by name: "shim" is the case's own build, these are other builds.
SHIM_BUILDS = {"shim-initp2m": INIT_P2M, "shim-mapped": MAPPED}


def _matrix():
    cases = []
    for xen in XENS:
        def boot(mv, mem, rd=None, **kw):
            if rd and "required" not in kw and "expect" not in kw:
                kw["required"] = (VA_LINE if dict(mv).get("MAPPED_RAMDISK") == "1" else PFN_LINE,)
            c = _boot(xen, mv, mem, rd, **kw)
            cases.append(c)
            return c

        # The default image: the ramdisk stays unmapped, whatever its size.
        ctl_default = boot(DEFAULT, 256)
        boot(DEFAULT, 512, 100)
        boot(DEFAULT, 1024, 600)
        boot(DEFAULT, 2048, 1200)
        boot(DEFAULT, 4096, 2000)
        boot(DEFAULT, 4096)

        # MAPPED_RAMDISK=1: Xen maps the ramdisk after the image.
        boot(MAPPED, 256)
        boot(MAPPED, 512, 100)
        boot(MAPPED, 1024, 600)            # the initial mapping crosses 512 MiB

        # KERNEL_IMAGE_SIZE=1G: module space starts at 1 GiB.
        ctl_1g = boot(ONE_G, 1024)
        boot(MAPPED_1G, 1024, 600)

        # INIT_P2M=1: the builder maps the p2m list at 0x8000000000 (2 MiB
        # superpages from 1 GiB of dom0 on), the shim copies it and frees it.
        boot(INIT_P2M, 256)
        boot(INIT_P2M, 2048, 600)
        boot(MAPPED_INIT_P2M, 1024, 100)

        # Bad input: a mapped 1200 MiB ramdisk crosses the 1 GiB kernel L2 window.
        c = _boot(xen, MAPPED, 2048, 1200, expect=frozenset({"ERROR"}), reason_re=r"crosses 1 GiB")
        cases.append(dataclasses.replace(c, name="bad-" + c.name))

        # Hypervisor options: no linear page tables (the shim uses none).
        c = _boot(xen, DEFAULT, 256, xen_args="pv-linear-pt=false")
        cases.append(dataclasses.replace(c, name="nolinear-" + c.name))
        # m2p_strict off (the guest asks for it by default).
        c = _boot(xen, DEFAULT, 256, args="no-m2p-strict")
        ctl_nostrict = dataclasses.replace(c, name="nostrict-" + c.name)
        cases.append(ctl_nostrict)

        # A CPU without NX (QEMU -cpu max,-smap,-nx): Xen makes NX a reserved
        # bit, so the shim leaves it out of every protection.
        ctl_nonx = boot(DEFAULT, 256, no_nx=True,
                        required=(r"^mmu: image: text read-only; no NX on this CPU",))
        boot(MAPPED, 512, 100, no_nx=True,
             required=(VA_LINE, r"^mmu: image: text read-only; no NX on this CPU"))

        # What real Xen hides: a plain store into a hooked L1 (BUG=direct-l1-write)
        # is emulated by Xen (ptwr) and the guest boots; only the host model's
        # rule W catches it (model_bug_l1write).  This case proves the "hides".
        c = _boot(xen, _mv(BUG="direct-l1-write"), 256)
        cases.append(dataclasses.replace(c, name="xen-hides-" + c.name))

        # The hand-off's bootpack (docs/handoff.md): read and checked in the guest.  Debian's
        # kernel with `nochain` (the checks alone, the usual result); the shim's own without it
        # (booting it is not built yet: an ERROR that says so, no silent fallback); a bootpack
        # cut short (an ERROR naming it).
        cases.append(Case(name=f"handoff-debian-nochain-{xen}", make_vars=DEFAULT, xen=xen, mem=512,
                          args="nochain", bootpack=("debian", "console=hvc0 quiet", None)))
        # The hand-off itself: Debian's Linux reaches /init; a second shim (each build) boots
        # and passes its own checks on the tables and p2m the first one left it.
        cases.append(Case(name=f"handoff-linux-{xen}", make_vars=DEFAULT, xen=xen, mem=512,
                          bootpack=("debian", "console=hvc0 handoff=linux", None), chain="linux"))
        # The second shim checks the first one's record (every table and p2m page: unchanged,
        # consistent, writable now) before its own bring-up.
        ctl_chain = Case(name=f"handoff-shim-{xen}", make_vars=DEFAULT, xen=xen, mem=256,
                         bootpack=("shim", "second handoff-record", None), chain="shim")
        cases.append(ctl_chain)
        for second in ("shim-initp2m", "shim-mapped"):
            cases.append(Case(name=f"handoff-{second}-{xen}", make_vars=DEFAULT, xen=xen, mem=256,
                              bootpack=(second, "second handoff-record", None), chain="shim"))
        # Debian's kernel does not fit beside a 96 MiB shim: the plan refuses, nothing is jumped to.
        cases.append(Case(name=f"handoff-bad-too-big-{xen}", make_vars=DEFAULT, xen=xen, mem=96,
                          bootpack=("debian", "console=hvc0", None), expect=frozenset({"ERROR"}),
                          reason_re=r"^hand-off: plan: (too few free frames|the next kernel needs|"
                                    r"the initial region needs)"))
        cases.append(Case(name=f"handoff-bad-truncated-{xen}", make_vars=DEFAULT, xen=xen, mem=256,
                          bootpack=("shim", "", "truncate"), expect=frozenset({"ERROR"}),
                          reason_re=r"^bootpack: kernel: \d+ bytes past the archive's end"))

        # Several vCPUs (dom0_max_vcpus; QEMU has 2 CPUs): each vCPU's own checks, the
        # shootdown stress on two targets at once, and an mm freed while another vCPU has it.
        ctl_smp = {}
        for n in (2, 4):
            ctl_smp[n] = Case(name=f"smp{n}-{xen}", make_vars=DEFAULT, xen=xen, mem=256, vcpus=n,
                              args="smp-rounds=300")
            cases.append(ctl_smp[n])
        # Bad input: a stress with no rounds.
        cases.append(Case(name=f"bad-smp-rounds-{xen}", make_vars=DEFAULT, xen=xen, mem=256, vcpus=2,
                          args="smp-rounds=0", expect=frozenset({"ERROR"}),
                          reason_re=r"^command line: smp-rounds= wants a number from 1 to \d+$"))
        # Before a hand-off the secondaries stay down: Debian's Linux brings up both itself.
        cases.append(Case(name=f"handoff-linux-smp2-{xen}", make_vars=DEFAULT, xen=xen, mem=512, vcpus=2,
                          bootpack=("debian", "console=hvc0 handoff=linux", None), chain="linux",
                          required=(r"^smp: 2 vCPUs; the secondaries stay down for the next kernel ",)))

        # Regression switches: the bug must be caught, the control must pass.
        # no-user-l4 runs without m2p_strict, so that what shows is user mode
        # seeing the kernel; with m2p_strict, Xen's zapping of the M2P in the
        # (shared) L4 brings the kernel down first: caught too, differently.
        # Each must fail the way it is known to, not for some other reason.
        for bug, ctl, why in (
                ("fixmap-miscopy", ctl_1g, r"level2_fixmap\[\d+\] = .*only the fixmap slot"),
                ("pgtbuf-rw", ctl_default, r"failed: -22$"),              # Xen: -EINVAL
                ("no-user-l4", ctl_nostrict, r"the kernel is visible to user mode"),
                ("no-user-l4", ctl_default, r"#PF"),                      # M2P zapped
                ("nx-always", ctl_nonx, r"failed: -22$"),                 # Xen: NX reserved
                ("kexec-overwrite", ctl_chain, r"#PF .*cr2=0xffff888"),   # a live table is read-only
                ("kexec-rw-alias", ctl_chain,                             # Xen refuses the pin
                 r"^handoff-pin: .*PIN_L4_TABLE .* failed: -22$"),
                ("kexec-user-pin", ctl_chain,                             # the second shim's check
                 r"^handoff-record: the first shim's user L4 \(mfn 0x[0-9a-f]+\) cannot be mapped writable"),
                ("no-tlb-shootdown", ctl_smp[2],                          # a reader's TLB kept V
                 r"^vcpu \d: stress: .* after vcpu \d unmapped it: a stale TLB entry"),
                ("free-loaded-mm", ctl_smp[2],                            # Xen: the L4 is still loaded
                 r"^vcpu 0: smp: mm_free: the L4s writable again: mmu_update request \d+ of \d+ "
                 r"\(NORMAL_PT_UPDATE .*\) failed: -16$")):
            mv = _mv(**dict(ctl.make_vars), BUG=bug)
            suffix = "-strict" if bug == "no-user-l4" and ctl is ctl_default else ""
            cases.append(Case(name=f"bug-{bug}{suffix}-{xen}", make_vars=mv, xen=xen, mem=ctl.mem,
                              ramdisk=ctl.ramdisk, args=ctl.args, expect=NOT_SUCCESS,
                              reason_re=why, control=ctl.name, no_nx=ctl.no_nx,
                              bootpack=ctl.bootpack, vcpus=ctl.vcpus))
    return cases


CASES = _matrix()
BY_NAME = {c.name: c for c in CASES}
assert len(BY_NAME) == len(CASES), "duplicate case names"
for _c in CASES:
    assert _c.control is None or _c.control in BY_NAME, _c.name
    assert _c.xen in XENS, _c.name
