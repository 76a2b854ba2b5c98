/* SPDX-License-Identifier: MIT */
/*
 * craft_image.h - crafted next kernels and bootpacks for the host tests:
 * an ELF64 x86-64 executable with Xen notes, and newc cpio entries.  The
 * hand-off's parser tests (tests/unit/test_handoff_parse.c) and its run on
 * the model (tests/model/test_handoff.c) build their inputs with these.
 */
#ifndef TESTS_UNIT_CRAFT_IMAGE_H
#define TESTS_UNIT_CRAFT_IMAGE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct craft_note { uint32_t type; const void *desc; uint32_t size; };
/* type 0 is PT_LOAD. */
struct craft_seg { uint32_t type; uint64_t paddr, vaddr, filesz, memsz; };

static inline void craft_put(uint8_t *img, size_t off, uint64_t v, unsigned int bytes)
{
    for (unsigned int i = 0; i < bytes; i++)
        img[off + i] = (uint8_t)(v >> (8 * i));
}

static inline void craft_room(size_t need, size_t cap, const char *what)
{
    if (need > cap) {
        fprintf(stderr, "craft_image: %s needs %zu bytes, the buffer has %zu\n", what, need, cap);
        abort();
    }
}

/*
 * An ELF64 x86-64 executable in img (zeroed first): the segments, their
 * file bytes one after the other (data[i], or zeros when data or data[i] is
 * NULL), then one PT_NOTE of the notes.  Returns its length.
 */
static inline size_t craft_elf(uint8_t *img, size_t cap, const struct craft_seg *segs,
                               const uint8_t *const *data, unsigned int nsegs,
                               const struct craft_note *notes, unsigned int nnotes, uint64_t e_entry)
{
    size_t ph = 64, off = 64 + 56 * (nsegs + 1), note_off;

    memset(img, 0, cap);
    memcpy(img, "\177ELF", 4);
    img[4] = 2;                         /* ELFCLASS64 */
    img[5] = 1;                         /* little-endian */
    img[6] = 1;
    craft_put(img, 16, 2, 2);           /* ET_EXEC */
    craft_put(img, 18, 62, 2);          /* EM_X86_64 */
    craft_put(img, 20, 1, 4);
    craft_put(img, 24, e_entry, 8);
    craft_put(img, 32, ph, 8);
    craft_put(img, 52, 64, 2);
    craft_put(img, 54, 56, 2);
    craft_put(img, 56, nsegs + 1, 2);
    for (unsigned int i = 0; i < nsegs; i++) {
        size_t h = ph + 56 * i;

        craft_room(off + segs[i].filesz, cap, "a segment");
        craft_put(img, h, segs[i].type ? segs[i].type : 1, 4);
        craft_put(img, h + 4, 7, 4);
        craft_put(img, h + 8, off, 8);
        craft_put(img, h + 16, segs[i].vaddr, 8);
        craft_put(img, h + 24, segs[i].paddr, 8);
        craft_put(img, h + 32, segs[i].filesz, 8);
        craft_put(img, h + 40, segs[i].memsz, 8);
        if (data && data[i])
            memcpy(img + off, data[i], segs[i].filesz);
        off += segs[i].filesz;
    }
    note_off = off = (off + 3) & ~(size_t)3;
    for (unsigned int i = 0; i < nnotes; i++) {
        craft_room(off + 16 + notes[i].size + 3, cap, "a note");
        craft_put(img, off, 4, 4);
        craft_put(img, off + 4, notes[i].size, 4);
        craft_put(img, off + 8, notes[i].type, 4);
        memcpy(img + off + 12, "Xen", 4);
        memcpy(img + off + 16, notes[i].desc, notes[i].size);
        off += 16 + ((notes[i].size + 3) & ~3U);
    }
    craft_put(img, ph + 56 * nsegs, 4, 4);              /* PT_NOTE */
    craft_put(img, ph + 56 * nsegs + 8, note_off, 8);
    craft_put(img, ph + 56 * nsegs + 32, off - note_off, 8);
    return off;
}

/* Appends one newc entry at buf[len]; returns the new length (4-byte aligned). */
static inline size_t craft_cpio_entry(uint8_t *buf, size_t cap, size_t len, const char *name,
                                      const void *data, size_t size, uint32_t mode)
{
    size_t n = strlen(name) + 1;
    char hdr[128];

    craft_room(len + 110 + n + 3 + size + 3, cap, "a cpio entry");
    snprintf(hdr, sizeof(hdr), "070701%08X%08X%08X%08X%08X%08X%08zX%08X%08X%08X%08X%08zX%08X",
             1u, mode, 0u, 0u, 1u, 0u, size, 0u, 0u, 0u, 0u, n, 0u);
    if (strlen(hdr) != 110)
        craft_room(~(size_t)0, cap, "a cpio header (a field past 32 bits)");
    memcpy(buf + len, hdr, 110);
    len += 110;
    memcpy(buf + len, name, n);
    len = (len + n + 3) & ~(size_t)3;
    memcpy(buf + len, data, size);
    return (len + size + 3) & ~(size_t)3;
}

#endif
