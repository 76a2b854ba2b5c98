/* SPDX-License-Identifier: MIT */
/*
 * xen_elf_dump.c - the shim's own parse of a kernel image (shim/handoff/
 * xen_elf.c, the guest's code built for the host), printed with the keys
 * and formats of rig/domu/parse_image.c (libxenguest's parse), so that
 * rig/domu/check_image.py --guest-parser can compare the two.
 *
 *   xen_elf_dump FILE        an ELF, or a bootpack (its kernel entry)
 *
 * Exit 0: parsed; 2: refused (the reason on stderr) or unreadable.
 */
#include <stdio.h>
#include <stdlib.h>

#include "handoff/bootpack.h"
#include "handoff/xen_elf.h"

static void hex_or_none(const char *key, uint64_t v)
{
    if (v == XEN_ELF_UNSET)
        printf("%s=none\n", key);
    else
        printf("%s=%#llx\n", key, (unsigned long long)v);
}

int main(int argc, char **argv)
{
    static char why[256];
    struct bootpack bp;
    struct xen_elf x;
    const uint8_t *img;
    size_t len, n;
    uint8_t *buf;
    FILE *f;

    if (argc != 2) {
        fprintf(stderr, "usage: xen_elf_dump FILE\n");
        return 2;
    }
    f = fopen(argv[1], "rb");
    if (!f || fseek(f, 0, SEEK_END) || (long)(len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
        perror(argv[1]);
        return 2;
    }
    buf = malloc(len ? len : 1);
    n = buf ? fread(buf, 1, len, f) : 0;
    fclose(f);
    if (n != len) {
        fprintf(stderr, "%s: short read\n", argv[1]);
        return 2;
    }
    img = buf;
    if (bootpack_is(buf, len)) {
        if (!bootpack_parse(buf, len, &bp, why, sizeof(why))) {
            fprintf(stderr, "%s: %s\n", argv[1], why);
            free(buf);
            return 2;
        }
        img = bp.kernel.data;
        len = bp.kernel.len;
    }
    if (!xen_elf_parse(img, len, &x, why, sizeof(why))) {
        fprintf(stderr, "%s: %s\n", argv[1], why);
        free(buf);
        return 2;
    }
    printf("virt_base=%#llx\n", (unsigned long long)x.virt_base);
    printf("elf_paddr_offset=%#llx\n", (unsigned long long)x.paddr_offset);
    printf("virt_kstart=%#llx\n", (unsigned long long)x.virt_kstart);
    printf("virt_kend=%#llx\n", (unsigned long long)x.virt_kend);
    printf("virt_entry=%#llx\n", (unsigned long long)x.entry);
    hex_or_none("p2m_base", x.init_p2m);
    printf("mod_start_pfn=%d\n", x.mod_start_pfn);
    hex_or_none("hypercall_page", x.hypercall_page);
    printf("features=%s\n", x.features[0] ? x.features : "none");
    for (unsigned int i = 0; i < x.nr_loads; i++)
        printf("load%u=paddr %#llx filesz %#llx memsz %#llx\n", i, (unsigned long long)x.load[i].paddr,
               (unsigned long long)x.load[i].filesz, (unsigned long long)x.load[i].memsz);
    free(buf);
    return 0;
}
