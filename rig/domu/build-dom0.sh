#!/bin/sh
# SPDX-License-Identifier: MIT
#
# build-dom0.sh 4.17|4.20 [--force] [--linux-domu]
#   Assemble and cache the rig's Debian dom0 (kernel + initramfs) for that Xen
#   version; prints "kernel PATH" and "initrd PATH". See build_dom0.py.
exec python3 "$(dirname "$0")/build_dom0.py" "$@"
