/* SPDX-License-Identifier: MIT */
/*
 * fuzz_handoff.c - libFuzzer over the hand-off's parsers, as the guest runs
 * them on a ramdisk it cannot trust: shim/handoff/bootpack.c on the whole
 * input, then shim/handoff/xen_elf.c on the kernel it found (or on the whole
 * input, so that ELF mutations need no archive around them).  Either may
 * refuse; what must hold is that they never read outside the buffer (ASan),
 * never overflow (UBSan), always say why they refused, and that an accepted
 * image keeps libelf's invariants.
 *
 *   make fuzz FUZZ_TARGET=handoff [FUZZ_TIME=60]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/bootpack.h"
#include "handoff/xen_elf.h"

static void check_elf(const uint8_t *data, size_t size)
{
    struct xen_elf x;
    char why[256] = "";

    if (!xen_elf_parse(data, size, &x, why, sizeof(why))) {
        if (!why[0])
            abort();                    /* a refusal must say why */
        return;
    }
    if (x.virt_kstart > x.virt_kend || x.entry < x.virt_kstart || x.entry > x.virt_kend ||
        x.virt_base > x.virt_kstart || !x.nr_loads)
        abort();                        /* accepted what libelf refuses */
    for (unsigned int i = 0; i < x.nr_loads; i++)
        if (x.load[i].offset > size || x.load[i].filesz > size - x.load[i].offset ||
            x.load[i].filesz > x.load[i].memsz)
            abort();                    /* a segment the loader would copy from outside the file */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bootpack bp;
    char why[256] = "";

    if (bootpack_is(data, size)) {
        if (bootpack_parse(data, size, &bp, why, sizeof(why))) {
            if (bp.kernel.data < data || bp.kernel.data + bp.kernel.len > data + size)
                abort();
            check_elf(bp.kernel.data, bp.kernel.len);
        } else if (!why[0]) {
            abort();
        }
        return 0;
    }
    check_elf(data, size);
    return 0;
}
