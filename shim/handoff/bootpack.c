/* SPDX-License-Identifier: MIT */
/*
 * bootpack.c - reading the bootpack's newc cpio archive.
 *
 * One entry (all numbers 8 hex digits, the header 110 bytes):
 *
 *   "070701" ino mode uid gid nlink mtime filesize devmajor devminor
 *            rdevmajor rdevminor namesize check | name NUL | pad to 4
 *   | file data | pad to 4
 *
 * Every length is checked against what is left of the buffer before it is
 * used, so a truncated or hostile archive ends in a message, never a read
 * past its end.
 */
#include "bootpack.h"
#include "lib/lib.h"

#define FAIL(...) do { format(why, why_len, __VA_ARGS__); return false; } while (0)

#define HDR_LEN 110
#define S_IFMT  0170000
#define S_IFREG 0100000

bool bootpack_is(const void *buf, size_t len)
{
    static const char first[] = "070701";
    const uint8_t *p = buf;

    /* The first header, then its name: "bootpack" and its NUL (namesize 9 at field 11). */
    return len >= HDR_LEN + 9 && !memcmp(p, first, 6) && !memcmp(p + 6 + 8 * 11, "00000009", 8) &&
           !memcmp(p + HDR_LEN, "bootpack", 9);
}

/* Field i (0: ino ... 12: check) of the header at h; false if not hex. */
static bool field(const uint8_t *h, unsigned int i, uint32_t *out)
{
    uint32_t v = 0;

    for (unsigned int k = 0; k < 8; k++) {
        uint8_t c = h[6 + 8 * i + k];

        if (c >= '0' && c <= '9')
            v = v << 4 | (c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v << 4 | (c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v = v << 4 | (c - 'A' + 10);
        else
            return false;
    }
    *out = v;
    return true;
}

static size_t pad4(size_t n)
{
    return (n + 3) & ~(size_t)3;
}

bool bootpack_parse(const void *buf, size_t len, struct bootpack *bp, char *why, size_t why_len)
{
    const uint8_t *p = buf;
    size_t off = 0;

    memset(bp, 0, sizeof(*bp));
    for (unsigned int n = 0;; n++) {
        uint32_t mode, filesize, namesize;
        const char *name;
        struct bootpack_file *f;

        if (len - off < HDR_LEN)
            FAIL("bootpack: truncated at byte %lu (entry %u): no room for a cpio header",
                 (unsigned long)off, n);
        if (memcmp(p + off, "070701", 6))
            FAIL("bootpack: entry %u at byte %lu is not a newc cpio header", n, (unsigned long)off);
        if (!field(p + off, 1, &mode) || !field(p + off, 6, &filesize) || !field(p + off, 11, &namesize))
            FAIL("bootpack: entry %u at byte %lu: a header field is not hex", n, (unsigned long)off);
        if (namesize < 2 || namesize > len - off - HDR_LEN)
            FAIL("bootpack: entry %u: name of %u bytes past the archive's end", n, namesize);
        name = (const char *)p + off + HDR_LEN;
        if (name[namesize - 1] != '\0' || strnlen(name, namesize) != namesize - 1)
            FAIL("bootpack: entry %u: its name is not NUL-terminated", n);
        off = pad4(off + HDR_LEN + namesize);
        if (!strcmp(name, "TRAILER!!!"))
            break;
        if (off > len || filesize > len - off)
            FAIL("bootpack: %s: %u bytes past the archive's end (truncated?)", name, filesize);
        if (!strcmp(name, "bootpack")) {
            if (n != 0)
                FAIL("bootpack: the marker is entry %u, not the first", n);
            if (off > len || filesize > len - off || filesize != sizeof(BOOTPACK_MARKER) - 1 ||
                memcmp(p + off, BOOTPACK_MARKER, filesize))
                FAIL("bootpack: the marker is not \"shim bootpack 1\" (a newer format?)");
            off = pad4(off + filesize);
            continue;
        }
        if (n == 0)
            FAIL("bootpack: the first entry is \"%s\", not the marker", name);
        if (!strcmp(name, "kernel"))
            f = &bp->kernel;
        else if (!strcmp(name, "initrd"))
            f = &bp->initrd;
        else if (!strcmp(name, "cmdline"))
            f = &bp->cmdline;
        else
            FAIL("bootpack: unknown entry \"%s\" (kernel, initrd and cmdline are known)", name);
        if ((mode & S_IFMT) != S_IFREG)
            FAIL("bootpack: %s is not a regular file (mode %#x)", name, mode);
        if (f->data)
            FAIL("bootpack: %s appears twice", name);
        f->data = p + off;
        f->len = filesize;
        off = pad4(off + filesize);
        if (off > len)
            off = len;
    }
    if (!bp->kernel.data || !bp->kernel.len)
        FAIL("bootpack: no kernel in the archive");
    if (bp->cmdline.data) {
        if (bp->cmdline.len > BOOTPACK_MAX_CMDLINE)
            FAIL("bootpack: cmdline of %lu bytes; start_info holds %u", (unsigned long)bp->cmdline.len,
                 BOOTPACK_MAX_CMDLINE);
        for (size_t i = 0; i < bp->cmdline.len; i++)
            if (!bp->cmdline.data[i])
                FAIL("bootpack: cmdline contains a NUL byte (at byte %lu)", (unsigned long)i);
    }
    return true;
}
