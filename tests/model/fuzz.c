/* SPDX-License-Identifier: MIT */
/*
 * fuzz.c - libFuzzer over boot parameters and start_info.
 *
 * The input picks a builder, a guest size (16 MiB to 256 MiB mostly, up
 * to 1 GiB), the kernel's size, a ramdisk (length, mapped or not),
 * INIT_P2M, hypervisor options, whether the self-checks run, a list of
 * (field, value) writes into the start_info page the builder made, and
 * for a domU a hole between vNUMA memory ranges.
 * The model builds the machine, the real start_info checker and MMU
 * bring-up run on it (driver.c, as in the suite, in this process).
 *
 * What must hold for every input: the builder either refuses or gives a
 * state the model accepts; the boot ends in SUCCESS or in an ERROR (a
 * checker or MMU refusal); never a FAILURE of the shim's self-checks, a
 * page fault, a domain crash, a model rule, a sanitizer report or a hang.
 * An untouched start_info must boot.  Xen's rules are checked by the model
 * on every input; the shim's own self-checks on those that ask for them.
 *
 * The shim's file-static state (page allocator, update queue, p2m tools)
 * is reset by the shim itself at the start of every boot (mmu_bringup:
 * pages_reset, batch_reset; p2m_init_boot: p2m_tools_reset).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

struct input {
    const uint8_t *p;
    size_t n;
};

static uint64_t take(struct input *in, unsigned int bytes)
{
    uint64_t v = 0;

    for (unsigned int i = 0; i < bytes && in->n; i++, in->p++, in->n--)
        v |= (uint64_t)*in->p << (8 * i);
    return v;
}

/* Offsets of the start_info fields a mutation may hit. */
static const struct { size_t off, size; } fields[] = {
    { offsetof(start_info_t, nr_pages), 8 }, { offsetof(start_info_t, shared_info), 8 },
    { offsetof(start_info_t, flags), 4 }, { offsetof(start_info_t, store_mfn), 8 },
    { offsetof(start_info_t, store_evtchn), 4 }, { offsetof(start_info_t, console.domU.mfn), 8 },
    { offsetof(start_info_t, console.domU.evtchn), 4 }, { offsetof(start_info_t, pt_base), 8 },
    { offsetof(start_info_t, nr_pt_frames), 8 }, { offsetof(start_info_t, mfn_list), 8 },
    { offsetof(start_info_t, mod_start), 8 }, { offsetof(start_info_t, mod_len), 8 },
    { offsetof(start_info_t, first_p2m_pfn), 8 }, { offsetof(start_info_t, nr_p2m_frames), 8 },
    { offsetof(start_info_t, magic), 8 }, { offsetof(start_info_t, magic) + 8, 8 },
    { offsetof(start_info_t, cmd_line), 8 }, { offsetof(start_info_t, cmd_line) + 1016, 8 },
};

struct mutation {
    unsigned int n;
    struct { uint8_t field, how; uint64_t value; } m[8];
};

static struct mutation mut;

/* how: 0 set, 1 add, 2 xor, 3 set relative to another field's value */
static void apply(start_info_t *si, const struct boot_layout *L, long arg)
{
    (void)L;
    (void)arg;
    for (unsigned int i = 0; i < mut.n; i++) {
        size_t f = mut.m[i].field % (sizeof(fields) / sizeof(fields[0]));
        uint8_t *p = (uint8_t *)si + fields[f].off;
        uint64_t v = 0, w = mut.m[i].value;

        memcpy(&v, p, fields[f].size);
        switch (mut.m[i].how % 4) {
        case 0: v = w; break;
        case 1: v += (int64_t)(int16_t)w; break;
        case 2: v ^= w; break;
        default: v = si->pt_base + (w & 0xffffff); break;
        }
        memcpy(p, &v, fields[f].size);
        if (getenv("FUZZ_VERBOSE"))
            fprintf(stderr, "fuzz: start_info+%#zx (%zu bytes) = %#lx\n", fields[f].off, fields[f].size,
                    (unsigned long)v);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct drive_result r;
    struct input in = { data, size };
    struct drive_opts o = { .no_modules = true };
    uint64_t sel = take(&in, 2), octave;
    bool large;
    static const unsigned long p2m_addrs[] = { 0, 0x8000000000UL, 0x100000000000UL, 0xffffc90000000000UL };

    o.boot.builder = sel & 1 ? BUILD_DOMU : BUILD_DOM0;
    o.boot.rd_mapped = sel & 2;
    o.boot.debug_xen = sel & 4;
    o.boot.magic_p = sel & 8;
    o.boot.m2p_strict = sel & 16;
    o.boot.no_linear_pt = sel & 32;
    o.no_balloon = !(sel & 64);
    o.boot.init_p2m = p2m_addrs[(sel >> 7) & 3];
    /*
     * The guest's size, an octave at a time, the smaller more often (each
     * boot costs about its size): 16 MiB to 256 MiB, half of the inputs in
     * the first octave; one input in 8 (bits 10, 12, 13) goes up to 1 GiB.
     * The self-checks, which read every entry twice over and triple a
     * boot's cost, run on one input in 4 (bits 11 and 14), on guests of up
     * to 128 MiB: past that their loops only run longer.
     */
    large = (sel & 0x3400) == 0x3400;
    o.no_checks = (sel & 0x4800) != 0x4800;
    octave = __builtin_ctz(take(&in, 1) | (large ? 0x20 : 0x08));
    if (!o.no_checks && octave > 2)
        octave = 2;
    o.boot.nr_pages = (4096UL << octave) + take(&in, 3) % (4096UL << octave);
    o.boot.kernel_size = 0x50000 + take(&in, 2) * 16;               /* room for the fill window */
    /* A ramdisk of up to 4 MiB, or 128 MiB with a large guest (it is read back whole). */
    o.boot.rd_len = (sel & 512) ? take(&in, 3) % (large ? 1UL << 24 : 1UL << 19) * 8 : 0;
    mut.n = take(&in, 1) % 9;
    for (unsigned int i = 0; i < mut.n && i < 8; i++) {
        mut.m[i].field = take(&in, 1);
        mut.m[i].how = take(&in, 1);
        mut.m[i].value = take(&in, 8);
    }
    if (mut.n > 8)
        mut.n = 8;
    /*
     * Bit 15, for a domU: a hole between two vNUMA memory ranges, so RAM
     * lies past start_info's nr_pages (the builder refuses one that
     * overlaps its initial allocations or leaves no memory above it).
     */
    if ((sel & 0x8000) && o.boot.builder == BUILD_DOMU) {
        o.boot.hole_pfn = take(&in, 3) % o.boot.nr_pages;
        o.boot.hole_pages = 1 + take(&in, 2) % (o.boot.nr_pages / 2);
        o.boot.vnuma = true;
    }
    if (mut.n)
        o.mutate = apply;

    drive_inline(&o, &r);
    if (getenv("FUZZ_VERBOSE") && !strcmp(getenv("FUZZ_VERBOSE"), "2"))
        fprintf(stderr, "%s", r.log);
    if (getenv("FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz: %s %lu pages, ramdisk %lu%s, %u writes: %s%s %s\n",
                o.boot.builder == BUILD_DOMU ? "domU" : "dom0", o.boot.nr_pages, o.boot.rd_len,
                o.boot.rd_mapped ? " mapped" : "", mut.n, r.build_failed ? "builder refused: " : "",
                r.build_failed ? r.L.err : outcome_name(r.out), r.build_failed ? "" : r.msg);
    if (r.build_failed)
        return 0;               /* the builder refused these parameters: nothing to boot */
    if (r.out != OUT_NONE && r.out != OUT_ERROR) {
        fprintf(stderr, "fuzz: %s: %s (refusal: %s)\n", outcome_name(r.out), r.msg, r.refusal);
        abort();
    }
    if (!mut.n && !o.boot.rd_len && r.out != OUT_NONE) {
        fprintf(stderr, "fuzz: an untouched start_info did not boot: %s (refusal: %s)\n", r.msg, r.refusal);
        abort();
    }
    return 0;
}
