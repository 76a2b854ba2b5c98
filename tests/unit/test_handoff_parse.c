/* SPDX-License-Identifier: MIT */
/*
 * test_handoff_parse.c - the hand-off's parsers on crafted input:
 * shim/handoff/bootpack.c (the newc archive) and shim/handoff/xen_elf.c
 * (ELF, PT_LOAD by paddr, Xen notes, libelf's address rules).  Each bad
 * input must be refused with a message naming its cause; each good one
 * must give the values computed here from how it was built.  (Real images,
 * the shim's and Debian's, are compared with libxenguest's own parse by
 * rig/domu/check_image.py --guest-parser.)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "craft_image.h"
#include "handoff/bootpack.h"
#include "handoff/xen_elf.h"
#include "lib/xen.h"

/* ------------------------------------------------------------ ELF images */

#define VB      0xffffffff80000000ULL
#define P0      0x1000000ULL            /* the first segment's paddr (16 MiB, as Linux) */

#define note craft_note
#define seg craft_seg

static uint8_t img[1 << 16];
static size_t img_len;

static void put(size_t off, uint64_t v, unsigned int bytes)
{
    craft_put(img, off, v, bytes);
}

/* An ELF64 x86-64 executable: the segments, then one PT_NOTE of the notes. */
static void build_elf(const struct seg *segs, unsigned int nsegs, const struct note *notes,
                      unsigned int nnotes, uint64_t e_entry)
{
    img_len = craft_elf(img, sizeof(img), segs, NULL, nsegs, notes, nnotes, e_entry);
}

static const uint64_t vb = VB, zero = 0, entry = VB + P0 + 0x100, one = 1, p2m = 0x8000000000ULL;

/* Linux-like: two segments (the second with vaddr 0, as .data..percpu), the usual notes. */
static void linux_like(void)
{
    const struct seg s[] = { { 1, P0, VB + P0, 0x100, 0x200000 }, { 1, P0 + 0x200000, 0, 0x80, 0x1000 } };
    const struct note n[] = {
        { XEN_ELFNOTE_GUEST_OS, "linux", 6 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
        { XEN_ELFNOTE_VIRT_BASE, &vb, 8 }, { XEN_ELFNOTE_PADDR_OFFSET, &zero, 8 },
        { XEN_ELFNOTE_ENTRY, &entry, 8 }, { XEN_ELFNOTE_INIT_P2M, &p2m, 8 },
        { XEN_ELFNOTE_MOD_START_PFN, &one, 4 }, { XEN_ELFNOTE_LOADER, "generic", 8 },
        { XEN_ELFNOTE_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb", 42 },
        { XEN_ELFNOTE_PAE_MODE, "yes", 4 },
    };
    build_elf(s, 2, n, sizeof(n) / sizeof(n[0]), 0);
}

static void expect_elf_ok(int line, const char *what, struct xen_elf *x)
{
    char why[256] = "";

    check_report(xen_elf_parse(img, img_len, x, why, sizeof(why)), __FILE__, line, "accepted",
                 " %s: %s", what, why);
}

/* One case: the parser said ok/why; it must have refused, naming needle. */
static void refused(int line, const char *what, bool ok, const char *why, const char *needle)
{
    check_report(!ok && strstr(why, needle), __FILE__, line, "refused", " %s: %s; message \"%s\", "
                 "expected one naming \"%s\"", what, ok ? "ACCEPTED" : "refused", why, needle);
}

static void expect_elf_bad(int line, const char *what, const char *needle)
{
    struct xen_elf x;
    char why[256] = "";
    bool ok = xen_elf_parse(img, img_len, &x, why, sizeof(why));

    refused(line, what, ok, why, needle);
}

static void test_elf(void)
{
    struct xen_elf x;
    const uint64_t bad_vb = 0x0000900000000000ULL, p2m_in = VB + P0 + 0x1000, far_entry = VB + 0x40000000;
    const uint64_t low_vb = 0xffffffff81000000ULL + 0x1000;

    linux_like();
    expect_elf_ok(__LINE__, "Linux-like image", &x);
    CHECK(x.virt_base == VB && x.paddr_offset == 0 && x.virt_kstart == VB + P0 &&
          x.virt_kend == VB + P0 + 0x201000 && x.entry == entry,
          "addresses: base %#llx kstart %#llx kend %#llx entry %#llx", (unsigned long long)x.virt_base,
          (unsigned long long)x.virt_kstart, (unsigned long long)x.virt_kend, (unsigned long long)x.entry);
    CHECK(x.nr_loads == 2 && x.load[1].paddr == P0 + 0x200000 && xen_elf_load_va(&x, &x.load[1]) ==
          VB + P0 + 0x200000, "the vaddr-0 segment is placed by its paddr");
    CHECK(x.init_p2m == p2m && x.mod_start_pfn && x.hypercall_page == XEN_ELF_UNSET &&
          !strcmp(x.features, "!writable_page_tables|pae_pgdir_above_4gb") && !strcmp(x.pae_mode, "yes"),
          "notes: INIT_P2M, MOD_START_PFN, no hypercall page, FEATURES, PAE_MODE");

    /* No VIRT_BASE, no PADDR_OFFSET, no ENTRY: libelf's defaults (0, 0, e_entry). */
    {
        const struct seg s[] = { { 1, 0x400000, 0x400000, 0x10, 0x1000 } };
        const struct note n[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 } };

        build_elf(s, 1, n, 2, 0x400010);
        expect_elf_ok(__LINE__, "defaults", &x);
        CHECK(x.virt_base == 0 && x.virt_kstart == 0x400000 && x.entry == 0x400010 &&
              x.init_p2m == XEN_ELF_UNSET && !x.mod_start_pfn, "libelf's defaults");
    }

    /* libelf's rules for what is loaded: PT_LOAD with some of R, W, X; an empty one spans. */
    {
        const struct seg s[] = { { 1, P0, VB + P0, 0x10, 0x2000 }, { 1, P0 + 0x1000, 0, 0x10, 0x1000 } };
        const struct note n[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
                                  { XEN_ELFNOTE_VIRT_BASE, &vb, 8 } };

        build_elf(s, 2, n, 3, VB + P0);
        put(64 + 56 + 4, 0, 4);         /* the second segment: no R, W, X */
        expect_elf_ok(__LINE__, "an overlapping PT_LOAD without R/W/X flags (not loadable)", &x);
        CHECK(x.nr_loads == 1 && x.virt_kend == VB + P0 + 0x2000, "it is neither loaded nor spanned");
        build_elf(s, 2, n, 3, VB + P0);
        put(64 + 56 + 24, P0 + 0x5000, 8);
        put(64 + 56 + 32, 0, 8);
        put(64 + 56 + 40, 0, 8);        /* the second segment: empty, past the first */
        expect_elf_ok(__LINE__, "an empty PT_LOAD past the kernel", &x);
        CHECK(x.nr_loads == 1 && x.virt_kend == VB + P0 + 0x5000, "it spans the kernel to %#llx",
              (unsigned long long)x.virt_kend);
    }
    /* A name note longer than libelf keeps is cut short, as libelf cuts it. */
    {
        const struct seg s[] = { { 1, P0, VB + P0, 0x10, 0x2000 } };
        const struct note n[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
                                  { XEN_ELFNOTE_GUEST_OS, "linux-with-a-long-name", 23 },
                                  { XEN_ELFNOTE_VIRT_BASE, &vb, 8 } };

        build_elf(s, 1, n, 4, VB + P0);
        expect_elf_ok(__LINE__, "a 22-character GUEST_OS", &x);
        CHECK(!strcmp(x.guest_os, "linux-with-a-lo"), "cut to 15 characters: \"%s\"", x.guest_os);
    }

    /* Bad images, each for its own reason. */
    linux_like(); img[0] = 'X';
    expect_elf_bad(__LINE__, "not an ELF", "not an ELF");
    linux_like(); img[4] = 1;
    expect_elf_bad(__LINE__, "a 32-bit ELF", "64-bit");
    linux_like(); put(18, 3, 2);
    expect_elf_bad(__LINE__, "an i386 ELF", "machine 3");
    linux_like(); put(16, 3, 2);
    expect_elf_bad(__LINE__, "a shared object", "not an executable");
    linux_like(); img_len = 64 + 56;
    expect_elf_bad(__LINE__, "program headers cut off", "outside the file");
    linux_like(); put(64 + 32, 1 << 20, 8);
    expect_elf_bad(__LINE__, "a segment past the file's end", "outside the file");
    linux_like(); put(64 + 40, 0x10, 8);
    expect_elf_bad(__LINE__, "a segment with more in the file than in memory", "in the file");
    {
        const struct seg s[] = { { 1, P0, VB + P0, 0x10, 0x2000 }, { 1, P0 + 0x1000, 0, 0x10, 0x1000 } };
        const struct note n[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
                                  { XEN_ELFNOTE_VIRT_BASE, &vb, 8 } };

        build_elf(s, 2, n, 3, VB + P0);
        expect_elf_bad(__LINE__, "overlapping segments", "overlaps");
    }
    {
        const struct seg s[] = { { 1, P0, VB + P0, 0x10, 0x2000 } };
        const struct note n[] = { { XEN_ELFNOTE_LOADER, "generic", 8 } };

        build_elf(s, 1, n, 0, VB + P0);
        expect_elf_bad(__LINE__, "no Xen notes", "without Xen notes");
        build_elf(s, 0, n, 1, VB + P0);
        expect_elf_bad(__LINE__, "no PT_LOAD", "no PT_LOAD");
    }
    {
        const struct seg s[] = { { 1, P0, VB + P0, 0x10, 0x2000 } };
        const struct note n[] = { { XEN_ELFNOTE_LOADER, "plan9", 6 }, { XEN_ELFNOTE_GUEST_OS, "netbsd", 7 },
                                  { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 } };
        const struct note v[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-2.0", 8 } };
        const struct note po[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
                                   { XEN_ELFNOTE_PADDR_OFFSET, &zero, 8 } };
        const struct note ent[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
                                    { XEN_ELFNOTE_VIRT_BASE, &vb, 8 }, { XEN_ELFNOTE_ENTRY, &far_entry, 8 } };
        const struct note low[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
                                    { XEN_ELFNOTE_VIRT_BASE, &low_vb, 8 }, { XEN_ELFNOTE_PADDR_OFFSET, &low_vb, 8 } };
        const struct note p2[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
                                   { XEN_ELFNOTE_VIRT_BASE, &vb, 8 }, { XEN_ELFNOTE_INIT_P2M, &p2m_in, 8 } };
        const struct note nc[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
                                   { XEN_ELFNOTE_VIRT_BASE, &bad_vb, 8 } };
        const struct note sz[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
                                   { XEN_ELFNOTE_ENTRY, &vb, 3 } };
        static char long_features[300];
        const struct note str[] = { { XEN_ELFNOTE_LOADER, "generic", 8 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 8 },
                                    { XEN_ELFNOTE_FEATURES, long_features, sizeof(long_features) } };
        const struct note ascii[] = { { XEN_ELFNOTE_LOADER, "generic", 7 }, { XEN_ELFNOTE_XEN_VERSION, "xen-3.0", 7 },
                                      { XEN_ELFNOTE_FEATURES, "!writable_page_tables", 21 } };

        build_elf(s, 1, n, 3, VB + P0);
        expect_elf_bad(__LINE__, "a loader neither generic nor Linux", "only the generic loader");
        build_elf(s, 1, v, 2, VB + P0);
        expect_elf_bad(__LINE__, "built for xen-2.0", "not \"xen-3.0\"");
        build_elf(s, 1, po, 3, VB + P0);
        expect_elf_bad(__LINE__, "PADDR_OFFSET without VIRT_BASE", "VIRT_BASE unset");
        build_elf(s, 1, ent, 4, VB + P0);
        expect_elf_bad(__LINE__, "ENTRY outside the kernel", "out of bounds");
        build_elf(s, 1, low, 4, VB + P0);
        expect_elf_bad(__LINE__, "VIRT_BASE above the kernel's start", "out of bounds");
        build_elf(s, 1, p2, 4, VB + P0);
        expect_elf_bad(__LINE__, "INIT_P2M inside the kernel", "inside the kernel");
        build_elf(s, 1, nc, 3, bad_vb + P0);
        expect_elf_bad(__LINE__, "a non-canonical VIRT_BASE", "not canonical");
        build_elf(s, 1, sz, 3, VB + P0);
        expect_elf_bad(__LINE__, "an ENTRY note of 3 bytes", "cannot read");
        memset(long_features, 'f', sizeof(long_features) - 1);
        build_elf(s, 1, str, 3, VB + P0);
        expect_elf_bad(__LINE__, "a FEATURES string of 299 characters", "cannot read");
        /* Linux's string notes (.ascii) have no NUL of their own. */
        build_elf(s, 1, ascii, 3, P0);
        expect_elf_ok(__LINE__, "string notes without their NUL", &x);
        CHECK(!strcmp(x.features, "!writable_page_tables") && !strcmp(x.loader, "generic"),
              "strings ending at the descriptor's end: \"%s\", \"%s\"", x.features, x.loader);
    }
}

/* ------------------------------------------------------------ bootpacks */

static uint8_t pack[4096];
static size_t pack_len;

static void pack_entry(const char *name, const void *data, size_t len, uint32_t mode)
{
    pack_len = craft_cpio_entry(pack, sizeof(pack), pack_len, name, data, len, mode);
}

/* An empty archive but for the marker, which makes it a bootpack. */
static void start_pack(void)
{
    memset(pack, 0, sizeof(pack));
    pack_len = 0;
    pack_entry("bootpack", BOOTPACK_MARKER, strlen(BOOTPACK_MARKER), 0100644);
}

static void good_pack(void)
{
    start_pack();
    pack_entry("kernel", "KERNEL!", 7, 0100644);
    pack_entry("initrd", "INITRD", 6, 0100644);
    pack_entry("cmdline", "console=hvc0", 12, 0100644);
    pack_entry("TRAILER!!!", "", 0, 0);
}

static void expect_pack_bad(int line, const char *what, const char *needle)
{
    struct bootpack bp;
    char why[256] = "";
    bool ok = bootpack_parse(pack, pack_len, &bp, why, sizeof(why));

    refused(line, what, ok, why, needle);
}

static void test_bootpack(void)
{
    struct bootpack bp;
    char why[256] = "", big[1100];

    good_pack();
    CHECK(bootpack_is(pack, pack_len) && bootpack_parse(pack, pack_len, &bp, why, sizeof(why)),
          "a bootpack of kernel, initrd and cmdline: %s", why);
    CHECK(bp.kernel.len == 7 && !memcmp(bp.kernel.data, "KERNEL!", 7) && bp.initrd.len == 6 &&
          bp.cmdline.len == 12 && !memcmp(bp.cmdline.data, "console=hvc0", 12), "its three files");
    CHECK(!bootpack_is("\177ELF", 4), "an ELF is not a bootpack");
    CHECK(!bootpack_is(pack, 110 + 8), "a marker header cut short is not a bootpack");

    start_pack();
    pack_entry("kernel", "K", 1, 0100644);
    pack_entry("TRAILER!!!", "", 0, 0);
    CHECK(bootpack_parse(pack, pack_len, &bp, why, sizeof(why)) && !bp.initrd.data && !bp.cmdline.data,
          "a kernel alone: %s", why);

    good_pack(); pack_len -= 120;
    expect_pack_bad(__LINE__, "no trailer", "truncated");
    good_pack(); pack_len = (size_t)((uint8_t *)memmem(pack, sizeof(pack), "KERNEL!", 7) - pack) + 3;
    expect_pack_bad(__LINE__, "the kernel's data cut off", "past the archive's end");
    good_pack(); pack[20] = 'G';
    expect_pack_bad(__LINE__, "a header field that is not hex", "not hex");
    good_pack(); pack[0] = '1';
    expect_pack_bad(__LINE__, "an old-style cpio", "not a newc cpio header");
    start_pack();
    pack_entry("initrd", "I", 1, 0100644);
    pack_entry("TRAILER!!!", "", 0, 0);
    expect_pack_bad(__LINE__, "no kernel", "no kernel");
    start_pack();
    pack_entry("kernel", "K", 1, 0100644);
    pack_entry("kernel", "K", 1, 0100644);
    pack_entry("TRAILER!!!", "", 0, 0);
    expect_pack_bad(__LINE__, "two kernels", "appears twice");
    start_pack();
    pack_entry("kernel", "K", 1, 0100644);
    pack_entry("modules", "M", 1, 0100644);
    pack_entry("TRAILER!!!", "", 0, 0);
    expect_pack_bad(__LINE__, "an unknown entry", "unknown entry \"modules\"");
    start_pack();
    pack_entry("kernel", "K", 1, 040755);
    pack_entry("TRAILER!!!", "", 0, 0);
    expect_pack_bad(__LINE__, "a directory named kernel", "not a regular file");
    memset(big, 'x', sizeof(big));
    start_pack();
    pack_entry("kernel", "K", 1, 0100644);
    pack_entry("cmdline", big, 1024, 0100644);
    pack_entry("TRAILER!!!", "", 0, 0);
    expect_pack_bad(__LINE__, "a command line of 1024 bytes", "start_info holds 1023");
    start_pack();
    pack_entry("kernel", "K", 1, 0100644);
    pack_entry("cmdline", "a\0b", 3, 0100644);
    pack_entry("TRAILER!!!", "", 0, 0);
    expect_pack_bad(__LINE__, "a NUL in the command line", "NUL byte");
    good_pack(); pack[110 + 8] = 'X';      /* "bootpack" loses its NUL */
    expect_pack_bad(__LINE__, "a name without its NUL", "not NUL-terminated");
    /* The marker: first, and the version this shim reads. */
    pack_len = 0;
    pack_entry("kernel", "K", 1, 0100644);
    pack_entry("bootpack", BOOTPACK_MARKER, strlen(BOOTPACK_MARKER), 0100644);
    pack_entry("TRAILER!!!", "", 0, 0);
    CHECK(!bootpack_is(pack, pack_len), "an archive without the marker first is not a bootpack");
    expect_pack_bad(__LINE__, "the marker second", "not the marker");
    pack_len = 0;
    pack_entry("bootpack", "shim bootpack 2\n", 16, 0100644);
    pack_entry("kernel", "K", 1, 0100644);
    pack_entry("TRAILER!!!", "", 0, 0);
    expect_pack_bad(__LINE__, "a marker of another version", "newer format");
    /* Debian's initrd starts with its early microcode archive: a directory named kernel. */
    pack_len = 0;
    pack_entry("kernel", "", 0, 040755);
    pack_entry("kernel/x86/microcode/GenuineIntel.bin", "UCODE", 5, 0100644);
    pack_entry("TRAILER!!!", "", 0, 0);
    CHECK(!bootpack_is(pack, pack_len), "an early-microcode initrd is not a bootpack");
}

int main(void)
{
    test_elf();
    test_bootpack();
    return check_done("test_handoff_parse");
}
