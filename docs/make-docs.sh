#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# docs/make-docs.sh - regenerate the pictures in docs/ from real boots.
#
#   docs/make-docs.sh              build, boot with `ptdump` under Xen 4.17, write docs/*.svg
#   XEN=4.20 docs/make-docs.sh     the same under another Xen (4.17 | 4.20)
#   docs/make-docs.sh --bugs       also build and boot the three BUG= switches (no-user-l4
#                                  with and without m2p_strict) and print their result
#                                  lines (what docs/pv-mmu.md quotes)
#
# Two boots, both as dom0 in rig/boot.py (real Xen in QEMU):
#   default   build/shim/shim, 256 MiB, no ramdisk           -> docs/layout-default.svg
#   mapped    build/shim-mapped/shim (MAPPED_RAMDISK=1), 512 MiB,
#             a 100 MiB random ramdisk that Xen maps        -> docs/layout-mapped-ramdisk.svg
# Serial logs stay in build/docs/*.log.  Exits non-zero if a boot is not SUCCESS.
set -euo pipefail

cd "$(dirname "$0")/.."
XEN=${XEN:-4.17}
OUT=build/docs
RAMDISK=$OUT/ramdisk-100M.bin
BUGS=0
for a in "$@"; do
    case $a in
    --bugs) BUGS=1 ;;
    -h|--help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "make-docs.sh: unknown argument $a" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUT"

if [ ! -s "$RAMDISK" ]; then
    head -c $((100 << 20)) /dev/urandom > "$RAMDISK.tmp"
    mv "$RAMDISK.tmp" "$RAMDISK"
fi

# boot NAME KERNEL [boot.py args...]: one boot with the guest command line `ptdump`.
boot() {
    local name=$1 kernel=$2
    shift 2
    echo "== $name: $kernel, Xen $XEN $*"
    python3 rig/boot.py --xen "$XEN" --kernel "$kernel" --args ptdump --quiet \
        --log "$OUT/$name.log" "$@"
}

make --no-print-directory
make --no-print-directory MAPPED_RAMDISK=1

boot default build/shim/shim
boot mapped build/shim-mapped/shim --ramdisk "$RAMDISK" --mem 512

python3 docs/ptdump2svg.py "$OUT/default.log" --kernel build/shim/shim \
    -o docs/layout-default.svg \
    --title "The shim's address space after the PV MMU bring-up: default image, no ramdisk"
python3 docs/ptdump2svg.py "$OUT/mapped.log" --kernel build/shim-mapped/shim \
    -o docs/layout-mapped-ramdisk.svg \
    --title "The same with MAPPED_RAMDISK=1 and a 100 MiB ramdisk in Xen's initial mapping"
echo "wrote docs/layout-default.svg docs/layout-mapped-ramdisk.svg (logs in $OUT/)"

if [ "$BUGS" = 1 ]; then
    # Each BUG= build must not succeed; boot.py exits 4 (ERROR) or 5 (FAILURE) for them.
    # no-user-l4 twice: with m2p_strict (the default) and with the guest's no-m2p-strict.
    for spec in "fixmap-miscopy:KERNEL_IMAGE_SIZE=1G:" "pgtbuf-rw::" "no-user-l4::" \
                "no-user-l4::no-m2p-strict"; do
        IFS=: read -r bug var extra <<< "$spec"
        make --no-print-directory BUG="$bug" $var
        kernel=build/shim-bug-$bug/shim
        if [ "$var" = "KERNEL_IMAGE_SIZE=1G" ]; then
            kernel=build/shim-1g-bug-$bug/shim
        fi
        name=bug-$bug${extra:+-$extra}
        rc=0
        boot "$name" "$kernel" --args "ptdump${extra:+ $extra}" || rc=$?
        echo "   exit $rc: $(grep -a 'Test result:' "$OUT/$name.log" | tail -1)"
    done
fi
