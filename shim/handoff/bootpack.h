/* SPDX-License-Identifier: MIT */
/*
 * bootpack.h - the bootpack: the ramdisk that names the next kernel.
 *
 * A newc cpio archive (tools/bootpack.py writes it) of regular files:
 *
 *   bootpack  first: the marker, BOOTPACK_MARKER
 *   kernel    the next kernel, a 64-bit PV ELF with Xen notes (required)
 *   initrd    its ramdisk
 *   cmdline   its command line (at most 1023 bytes, no NUL)
 *
 * then the TRAILER!!! entry.  The marker tells a bootpack from any other
 * cpio ramdisk (an initramfs, or Debian's initrd with its early microcode
 * archive, whose first entry is a directory named "kernel"): those are
 * hashed and left alone as before, while a damaged bootpack is refused.  Pure: it reads only the buffer it is given,
 * so the host tests and the fuzzer run it as the guest does.
 */
#ifndef SHIM_HANDOFF_BOOTPACK_H
#define SHIM_HANDOFF_BOOTPACK_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct bootpack_file {
    const uint8_t *data;        /* NULL: absent */
    size_t len;
};

struct bootpack {
    struct bootpack_file kernel, initrd, cmdline;
};

#define BOOTPACK_MARKER "shim bootpack 1\n"

/* Is the buffer a bootpack: a newc archive whose first entry is named "bootpack"? */
bool bootpack_is(const void *buf, size_t len);

/*
 * Splits the archive.  false, with a message naming the entry and the
 * reason in why, for a truncated or malformed archive, an unknown or
 * repeated name, a missing kernel or a bad command line.
 */
bool bootpack_parse(const void *buf, size_t len, struct bootpack *bp, char *why, size_t why_len);

#define BOOTPACK_MAX_CMDLINE 1023

#endif
