/* SPDX-License-Identifier: MIT */
/*
 * xen.h - the one place the shim pulls in Xen's public ABI.
 *
 * Every structure and constant comes from Debian's libxen-dev headers
 * (<xen/...>), never from a hand copy.  The build puts a directory holding
 * only a link to /usr/include/xen on the include path, so a freestanding
 * build cannot reach glibc's headers by accident.
 */
#ifndef SHIM_XEN_H
#define SHIM_XEN_H

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <xen/xen.h>
#include <xen/elfnote.h>
#include <xen/sched.h>
#include <xen/memory.h>
#include <xen/errno.h>
#include <xen/event_channel.h>
#include <xen/callback.h>
#include <xen/vcpu.h>
#include <xen/version.h>
#include <xen/io/console.h>

#endif
