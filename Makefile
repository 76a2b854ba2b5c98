# SPDX-License-Identifier: MIT
#
# make            build the shim (build/<variant>/shim)
# make run        boot it as dom0 under real Xen in QEMU (XEN=4.17|4.20);
#                 MODE=domU: as a domU through `xl create` in a Debian dom0
# make check      the host suites only (no QEMU): unit, model, image, runners
# make test       make check, then end-to-end boots under both Xen versions,
#                 as dom0 and as domU
# make docs       regenerate docs/*.svg from real boots
# make bench      benchmarks (bench/results.md)
# make fuzz       libFuzzer on the model for FUZZ_TIME seconds (default 60);
#                 FUZZ_TARGET=handoff: on the hand-off's bootpack and ELF parsers
# make bootpack   KERNEL=<ELF or bzImage> [INITRD=f] [CMDLINE=...]: the ramdisk that
#                 names the kernel to boot next (build/bootpack.cpio)
#
# Build switches (each combination gets its own build directory):
#   PLATFORM=pv|pvh           pv (default): the Xen PV shim; pvh: the PVH/native shim
#                             (build/pvh/shim), booted by QEMU's -kernel, with 4 or
#                             5 paging levels chosen at boot (docs/levels.md)
#   MAPPED_RAMDISK=1          leave out XEN_ELFNOTE_MOD_START_PFN: Xen maps the ramdisk
#   KERNEL_IMAGE_SIZE=512M|1G the kernel map's size; module space starts after it
#   INIT_P2M=1                declare XEN_ELFNOTE_INIT_P2M (0x8000000000, as Linux): the
#                             builder maps the p2m list there instead of in the initial mapping
#   BUG=fixmap-miscopy|pgtbuf-rw|no-user-l4|stale-batch-index|p2m-cr3-first|
#       direct-l1-write|nx-always|kexec-overwrite|kexec-rw-alias|kexec-user-pin|
#       stale-p2m-cr3|no-pfn-swap|shinfo-mapped|no-tlb-shootdown|free-loaded-mm
#                             put one historical bug back (regression tests)
#
# Run variables: XEN=4.17|4.20 MODE=dom0|domU RAMDISK=<file> ARGS="guest cmdline"
#                PLATFORM=pvh: MODE=native|dom0|domU (default native), LA57=1|0 (native)
#                MEM=<MiB: dom0_mem, or the domU's memory> MAXMEM=<MiB>
#                VCPUS=<n> (dom0_max_vcpus, or the domU's vcpus; QEMU -smp 2 for more than 1)
#                XEN_ARGS="extra Xen options" TIMEOUT=<s>

PLATFORM ?= pv
MAPPED_RAMDISK ?= 0
KERNEL_IMAGE_SIZE ?= 512M
INIT_P2M ?= 0
BUG      ?=
XEN      ?= 4.17
MODE     ?= $(if $(filter pvh,$(PLATFORM)),native,dom0)
MEM      ?= 256
MAXMEM   ?=
VCPUS    ?=
RAMDISK  ?=
ARGS     ?=
XEN_ARGS ?=
TIMEOUT  ?=

BUGS := fixmap-miscopy pgtbuf-rw no-user-l4 stale-batch-index p2m-cr3-first direct-l1-write \
        no-tlb-shootdown free-loaded-mm \
        nx-always kexec-overwrite kexec-rw-alias kexec-user-pin stale-p2m-cr3 no-pfn-swap shinfo-mapped
PVH_BUGS := p4d-unfolded fixed-4-level
ifeq ($(filter pv pvh,$(PLATFORM)),)
$(error PLATFORM=$(PLATFORM) must be pv or pvh)
endif
ifeq ($(PLATFORM),pvh)
ifneq ($(filter-out $(PVH_BUGS),$(BUG)),)
$(error BUG=$(BUG) is not one of the PVH build's: $(PVH_BUGS))
endif
else ifneq ($(filter-out $(BUGS),$(BUG)),)
$(error BUG=$(BUG) is not one of: $(BUGS))
endif
ifeq ($(filter 512M 1G,$(KERNEL_IMAGE_SIZE)),)
$(error KERNEL_IMAGE_SIZE=$(KERNEL_IMAGE_SIZE) must be 512M or 1G)
endif
ifneq ($(filter-out 0 1,$(MAPPED_RAMDISK)),)
$(error MAPPED_RAMDISK=$(MAPPED_RAMDISK) must be 0 or 1)
endif
ifneq ($(filter-out 0 1,$(INIT_P2M)),)
$(error INIT_P2M=$(INIT_P2M) must be 0 or 1)
endif

ifeq ($(PLATFORM),pvh)
VARIANT := pvh$(if $(BUG),-bug-$(BUG))
else
VARIANT := shim$(if $(filter 1,$(MAPPED_RAMDISK)),-mapped)$(if $(filter 1G,$(KERNEL_IMAGE_SIZE)),-1g)$(if $(filter 1,$(INIT_P2M)),-initp2m)$(if $(BUG),-bug-$(BUG))
endif
OUT     := build/$(VARIANT)
SHIM    := $(OUT)/shim

CC      := gcc
LD      := ld
XEN_HDR := /usr/include/xen/xen.h

# A freestanding kernel: no libc headers (only gcc's own and a link to Xen's
# public headers), no red zone (Xen pushes exception frames onto our stack),
# no SSE (nothing saves those registers), kernel code model (we live in the
# top 2 GiB).
CFLAGS := -std=gnu11 -O2 -g -m64 -ffreestanding -fno-pic -fno-pie -nostdinc \
          -isystem $(shell $(CC) -print-file-name=include) -Ibuild/include -Ishim \
          -mcmodel=kernel -mno-red-zone -mno-sse -mno-sse2 -mno-mmx -mno-avx \
          -fno-stack-protector -fno-asynchronous-unwind-tables -fno-common \
          -fno-builtin -Wall -Wextra -Werror
ASFLAGS := -m64 -nostdinc -Ibuild/include -Ishim -D__ASSEMBLY__ -Wall -Werror
LDFLAGS := -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments

CONFIG_DEFS := $(if $(filter 1,$(MAPPED_RAMDISK)),-DCONFIG_MAPPED_RAMDISK) \
               $(if $(filter 1G,$(KERNEL_IMAGE_SIZE)),-DCONFIG_KERNEL_IMAGE_SIZE='(1UL<<30)') \
               $(if $(filter 1,$(INIT_P2M)),-DCONFIG_INIT_P2M=0x8000000000) \
               $(if $(BUG),-DCONFIG_BUG_$(shell echo $(BUG) | tr a-z- A-Z_))
CFLAGS  += $(CONFIG_DEFS)
ASFLAGS += $(CONFIG_DEFS)

# The Xen PV platform (pv/), the MM code it shares (mm/), the hand-off (handoff/)
# and the freestanding library (lib/).
GUEST_C := pv/setup.c pv/start_info.c pv/console.c pv/result.c pv/traps.c pv/xen_plat.c pv/batch.c \
           pv/page_alloc.c pv/mmu_pv.c pv/mmu_check.c pv/p2m.c pv/p2m_tools.c pv/balloon.c pv/ramdisk.c \
           pv/usermode.c pv/ptdump.c pv/mm_user.c pv/evtchn.c pv/xenstore.c pv/suspend.c \
           pv/lifecycle.c pv/smp.c pv/smp_sync.c pv/smp_stress.c mm/pt_walk.c mm/geometry.c mm/pt_map.c mm/pt_range.c \
           lib/console_ring.c lib/format.c lib/lib.c lib/printk.c lib/result.c lib/xxhash.c \
           handoff/handoff.c handoff/bootpack.c handoff/xen_elf.c handoff/plan.c \
           handoff/load.c handoff/switch.c handoff/record.c
GUEST_S := pv/xen-head.S pv/entry.S pv/usermode_entry.S handoff/trampoline.S
LDS     := shim/pv/shim.lds
# The PVH/native platform: its own entry, console, traps and memory map, and
# the shared MM code (mm/, pt_walk.c) at the run-time geometry.
ifeq ($(PLATFORM),pvh)
GUEST_C := pvh/pvh_main.c pvh/memmap.c pvh/native_mm.c pvh/native_checks.c pvh/traps_native.c \
           pvh/console_port.c pvh/result_native.c pvh/xen_pvh.c mm/geometry.c mm/pt_map.c mm/pt_walk.c \
           lib/console_ring.c lib/format.c lib/lib.c lib/printk.c lib/result.c
GUEST_S := pvh/head.S pvh/trap_entry.S
LDS     := shim/pvh/pvh.lds
endif
OBJS    := $(addprefix $(OUT)/,$(GUEST_S:.S=.o) $(GUEST_C:.c=.o))

.PHONY: all shim run check test docs bench fuzz deps clean bootpack FORCE
all: shim
shim: $(SHIM)

build/include/xen: | $(XEN_HDR)
	@mkdir -p build/include
	ln -sfn /usr/include/xen $@

$(XEN_HDR):
	rig/fetch-xen.sh --deps

# Rebuild when the switches change.
$(OUT)/config: FORCE
	@mkdir -p $(OUT)
	@echo "CFLAGS=$(CFLAGS) ASFLAGS=$(ASFLAGS)" > $@.new
	@cmp -s $@.new $@ && rm $@.new || mv $@.new $@

Q := $(if $(V),,@)

$(OUT)/%.o: shim/%.c $(OUT)/config | build/include/xen
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(OUT)/%.o: shim/%.S $(OUT)/config | build/include/xen
	@mkdir -p $(@D)
	@$(if $(Q),echo "  AS      $<")
	$(Q)$(CC) $(ASFLAGS) -MMD -MP -c $< -o $@

$(SHIM): $(OBJS) $(LDS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(LD) $(LDFLAGS) -T $(LDS) -o $@ $(OBJS)

-include $(OBJS:.o=.d)

ifeq ($(PLATFORM)-$(MODE),pvh-native)
run: $(SHIM)
	python3 rig/native.py --kernel $(SHIM) --la57 $(if $(LA57),$(LA57),1) --mem $(MEM) \
	    $(if $(ARGS),--args "$(ARGS)") $(if $(TIMEOUT),--timeout $(TIMEOUT))
else ifeq ($(PLATFORM)-$(MODE),pvh-dom0)
run: $(SHIM)
	python3 rig/boot.py --xen $(XEN) --kernel $(SHIM) --mem $(MEM) --xen-args "dom0=pvh dom0-iommu=none $(XEN_ARGS)" \
	    $(if $(ARGS),--args "$(ARGS)") $(if $(TIMEOUT),--timeout $(TIMEOUT))
else ifeq ($(PLATFORM)-$(MODE),pvh-domU)
run: $(SHIM)
	python3 rig/domu/run.py --xen $(XEN) --type pvh --kernel $(SHIM) --mem $(MEM) \
	    $(if $(ARGS),--args "$(ARGS)") $(if $(XEN_ARGS),--xen-args "$(XEN_ARGS)") $(if $(TIMEOUT),--timeout $(TIMEOUT))
else ifeq ($(PLATFORM),pvh)
run:
	$(error PLATFORM=pvh MODE=$(MODE) must be native, dom0 or domU)
else ifeq ($(MODE),dom0)
run: $(SHIM)
	python3 rig/boot.py --xen $(XEN) --kernel $(SHIM) --mem $(MEM) $(if $(VCPUS),--vcpus $(VCPUS)) \
	    $(if $(RAMDISK),--ramdisk "$(RAMDISK)") $(if $(ARGS),--args "$(ARGS)") \
	    $(if $(XEN_ARGS),--xen-args "$(XEN_ARGS)") $(if $(TIMEOUT),--timeout $(TIMEOUT))
else ifeq ($(MODE),domU)
run: $(SHIM)
	python3 rig/domu/run.py --xen $(XEN) --kernel $(SHIM) --mem $(MEM) \
	    $(if $(MAXMEM),--maxmem $(MAXMEM)) $(if $(VCPUS),--vcpus $(VCPUS)) \
	    $(if $(RAMDISK),--ramdisk "$(RAMDISK)") $(if $(ARGS),--args "$(ARGS)") \
	    $(if $(XEN_ARGS),--xen-args "$(XEN_ARGS)") $(if $(TIMEOUT),--timeout $(TIMEOUT))
else
run:
	$(error MODE=$(MODE) must be dom0 or domU)
endif

check: | build/include/xen
	python3 tests/check.py

test:
	python3 tests/run_all.py

# Benchmarks: bring-up cost per phase vs its minimum, boot time vs Linux and GRUB,
# the model from 1 GiB to 1 TiB, image size; writes bench/results.md, bench/bringup.svg.
bench:
	python3 bench/run.py

# libFuzzer (clang, ASan+UBSan) over start_info and layouts, driving the model
# and the real checker and bring-up; FUZZ_TIME seconds (default 60).
FUZZ_TIME ?= 60
# The ramdisk that names the kernel to boot next (tools/bootpack.py --help).
PACK ?= build/bootpack.cpio
bootpack:
	@test -n "$(KERNEL)" || { echo "make bootpack: KERNEL=<ELF or bzImage> is required" \
	    "(also INITRD=<file>, CMDLINE=<text>, PACK=<output, default build/bootpack.cpio>)" >&2; exit 2; }
	python3 tools/bootpack.py -o "$(PACK)" --kernel "$(KERNEL)" $(if $(INITRD),--initrd "$(INITRD)") \
	    $(if $(CMDLINE),--cmdline "$(CMDLINE)")

fuzz:
	$(MAKE) --no-print-directory -C tests/model $(if $(filter handoff,$(FUZZ_TARGET)),fuzz-handoff,fuzz) \
	    FUZZ_TIME=$(FUZZ_TIME) $(if $(FUZZ_JOBS),FUZZ_JOBS=$(FUZZ_JOBS))

# Regenerate docs/*.svg from real boots (ptdump) under Xen 4.17.
docs:
	docs/make-docs.sh

deps:
	rig/fetch-xen.sh --deps

clean:
	rm -rf build
