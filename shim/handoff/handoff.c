/* SPDX-License-Identifier: MIT */
/*
 * handoff.c - from setup.c's checks to the next kernel.
 *
 * What stands: the bootpack is found and read in the guest (the archive,
 * the kernel's ELF and Xen notes, as libxenguest reads them), and a bad
 * one ends in an ERROR that names the cause.  What does not yet: planning
 * the next kernel's memory beside the live tables and jumping to it.
 * Until it does, handoff_go() ends the boot in an ERROR that says so,
 * rather than pretend a hand-off happened; "nochain" on the command line
 * asks for the checks alone, with the usual result line.
 */
#include "handoff.h"
#include "bootpack.h"
#include "xen_elf.h"
#include "../console.h"
#include "../ramdisk.h"
#include "../result.h"
#include "../lib.h"

static struct bootpack pack;
static struct xen_elf next;
static bool have_pack;

static void print_addr(const char *what, uint64_t v)
{
    if (v == XEN_ELF_UNSET)
        printk("%s none", what);
    else
        printk("%s %#lx", what, (unsigned long)v);
}

void handoff_read(const start_info_t *si)
{
    static char why[256], cmdline[BOOTPACK_MAX_CMDLINE + 1];
    const void *va;

    if (!si->mod_len)
        return;
    va = (const void *)ramdisk_va(si);
    if (!bootpack_is(va, si->mod_len))
        return;
    if (!bootpack_parse(va, si->mod_len, &pack, why, sizeof(why)))
        result_error("%s", why);
    if (!xen_elf_parse(pack.kernel.data, pack.kernel.len, &next, why, sizeof(why)))
        result_error("bootpack: %s", why);
    have_pack = true;
    printk("bootpack: kernel %lu bytes, entry %#lx, kernel [%#lx, %#lx), virt_base %#lx, ",
           (unsigned long)pack.kernel.len, (unsigned long)next.entry, (unsigned long)next.virt_kstart,
           (unsigned long)next.virt_kend, (unsigned long)next.virt_base);
    print_addr("init_p2m", next.init_p2m);
    printk(", ");
    print_addr("hypercall_page", next.hypercall_page);
    printk(", mod_start_pfn %d, %u segments\n", next.mod_start_pfn, next.nr_loads);
    if (pack.cmdline.data)
        memcpy(cmdline, pack.cmdline.data, pack.cmdline.len);
    cmdline[pack.cmdline.data ? pack.cmdline.len : 0] = '\0';
    printk("bootpack: initrd %lu bytes, cmdline \"%s\"\n", (unsigned long)pack.initrd.len, cmdline);
}

void handoff_go(const start_info_t *si)
{
    (void)si;
    if (!have_pack)
        return;
    result_error("hand-off: booting the bootpack's kernel is not built yet; put nochain on the "
                 "command line to run the checks alone");
}
