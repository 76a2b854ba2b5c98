/* SPDX-License-Identifier: MIT */
/*
 * machine.c - the simulated machine: frame metadata, sparse frame content,
 * the domain's pfn<->mfn extents and the M2P.
 *
 * Frame metadata and content pointers are flat arrays inside
 * MAP_NORESERVE mappings: the kernel backs only the parts that are
 * touched, so a machine of a billion frames costs what the test uses.
 * Content pages come from arenas that are dropped whole by model_free().
 */
#define _GNU_SOURCE             /* mremap */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "model.h"

struct model M;

/* Extent lookups come in runs: the last extent hit answers most of them. */
static const struct extent *last_by_pfn, *last_by_mfn;
/* And a bucket per 512 frames/pfns: the first extent that reaches into it. */
static uint32_t *bucket_mfn, *bucket_pfn;
static unsigned long nr_bucket_mfn, nr_bucket_pfn;

#define BUCKET_SHIFT 9

/* ------------------------------------------------------------ arenas */

#define ARENA_BYTES (64UL << 20)
#define SPARE_ARENAS 16             /* kept across boots: 1 GiB */
#define SPARE_MAP_BYTES (64UL << 20)

struct arena {
    struct arena *next;
    size_t used;
    bool reused;                    /* its pages hold an earlier boot's words */
};

static struct arena *arenas, *spare_arenas;
static unsigned int nr_spare_arenas;

/*
 * Small machines come and go thousands of times a second under the fuzzer:
 * their mappings are kept for the next boot (model_free) and cleared by
 * hand, which is cheaper than the kernel's fault and zeroing of new ones.
 */
static struct spare { void *p; size_t bytes; } spare_frames, spare_pages, spare_run_at;

/* The buffers of mem_pages_contig(), freed with the machine. */
static struct view_buf { struct view_buf *next; } *view_bufs;

static void *map_anon(size_t bytes)
{
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

    if (p == MAP_FAILED) {
        fprintf(stderr, "model: mmap of %zu bytes failed\n", bytes);
        abort();
    }
    /* Gigabytes of metadata and tables at 1 TiB: 2 MiB pages spare the host's TLB. */
    madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

/*
 * A mapping of at least `bytes`: the spare one if it is big enough, else a
 * new one (zero).  A spare one is zeroed only if `clear`.
 */
static void *map_spare(size_t bytes, struct spare *spare, size_t *mapped, bool clear)
{
    void *p = spare->p;

    if (p && spare->bytes >= bytes) {
        spare->p = NULL;
        if (clear)
            memset(p, 0, bytes);    /* past `bytes` it stays dirty: model_grow clears it */
        *mapped = spare->bytes;
        return p;
    }
    *mapped = bytes;
    return map_anon(bytes);
}

static void unmap_or_keep(void *p, size_t bytes, struct spare *spare)
{
    if (!p)
        return;
    if (bytes <= SPARE_MAP_BYTES && !spare->p) {
        *spare = (struct spare){ p, bytes };
        return;
    }
    munmap(p, bytes);
}

static uint64_t *page_alloc_host(void)
{
    struct arena *a = arenas;
    uint64_t *page;

    if (!a || a->used + PAGE_SIZE > ARENA_BYTES) {
        if (spare_arenas) {
            a = spare_arenas;
            spare_arenas = a->next;
            nr_spare_arenas--;
            a->reused = true;
        } else {
            a = map_anon(ARENA_BYTES);
            a->reused = false;
        }
        a->next = arenas;
        a->used = PAGE_SIZE;        /* the header takes the first page */
        arenas = a;
    }
    a->used += PAGE_SIZE;
    page = (uint64_t *)((char *)a + a->used - PAGE_SIZE);
    if (a->reused)
        memset(page, 0, PAGE_SIZE);
    return page;                    /* zero */
}

/* ------------------------------------------------------- words in a run */

/*
 * A page with no stored words (zero, or a formula) that has had words
 * written in a run keeps them here, flagged FF_RUN: words idx, idx + 1,
 * ... idx + n - 1 hold first, first + step, ... (step 0 for one word, or
 * for a page filled with one value).  A word that breaks the run makes
 * the page stored.  A 1 TiB guest writes four gigabytes of such pages:
 *   - the allocator's link in every freed page (one word);
 *   - the p2m leaves p2m_build copies (mfn, mfn + 1, ... within an extent);
 *   - the direct map's L1s (mfn << 12 | flags, one frame further each);
 * so that storing each whole would cost that much host memory.
 * Each run is an entry of a pool, found through a per-mfn index (lazily
 * backed, like M.pages, and read only for a frame flagged FF_RUN).  The
 * translation cache may hold a pointer to a run, to append to it inline
 * (FF_RUN_WRITER): the cache is dropped whenever such a pointer would go
 * stale, or a copy of the page's words would miss an append (vmem.c).
 */
static struct word_run *run_pool;
static unsigned long run_pool_cap, run_pool_used;
static uint32_t run_free = UINT32_MAX;     /* freed entries, linked through idx */
static uint32_t *run_at;                   /* per mfn: its run's entry in the pool */
static size_t run_at_bytes;

static struct word_run *run_find(unsigned long mfn)
{
    return &run_pool[run_at[mfn]];
}

static void run_put(unsigned long mfn, struct word_run w)
{
    uint32_t i = run_free;

    if (i != UINT32_MAX) {
        run_free = run_pool[i].idx;
    } else {
        if (run_pool_used == run_pool_cap) {
            run_pool_cap = run_pool_cap ? 2 * run_pool_cap : 1024;
            if (run_pool_cap > UINT32_MAX || !(run_pool = realloc(run_pool, run_pool_cap * sizeof(*run_pool))))
                abort();
            vmem_flush();           /* the cache's pointers into the pool */
        }
        i = (uint32_t)run_pool_used++;
    }
    run_pool[i] = w;
    run_at[mfn] = i;
}

/* The frame's run is gone (stored with the rest of the page, or zeroed). */
static void run_drop(struct frame *f, unsigned long mfn)
{
    if (!(f->flags & FF_RUN))
        return;
    if (f->flags & FF_RUN_WRITER)
        vmem_flush();               /* the cache's pointer to it */
    f->flags &= ~(FF_RUN | FF_RUN_WRITER);
    run_pool[run_at[mfn]].idx = run_free;
    run_free = run_at[mfn];
}

/*
 * For vmem.c, which translated the frame for a write: its run, to append
 * to inline.  None while a copy of its words may be cached (the slow path
 * drops that first) or before it has a run.
 */
struct word_run *mem_run_writer(unsigned long mfn)
{
    struct frame *f = frame_of(mfn);

    if ((f->flags & (FF_RUN | FF_VMEM_COPY)) != FF_RUN)
        return NULL;
    f->flags |= FF_RUN_WRITER;
    return run_find(mfn);
}

/* Word idx of the run, if the run has it. */
static bool run_word(const struct word_run *w, unsigned int idx, uint64_t *v)
{
    if (idx - w->idx >= w->n)
        return false;
    *v = w->first + (idx - w->idx) * w->step;
    return true;
}

static void run_apply(const struct frame *f, unsigned long mfn, uint64_t *words)
{
    if (f->flags & FF_RUN) {
        const struct word_run *w = run_find(mfn);

        for (unsigned int k = 0; k < w->n; k++)
            words[w->idx + k] = w->first + k * w->step;
    }
}

/*
 * A write to a page that is not stored: kept in (or as) its run if it can
 * be.  False: the page must be stored.
 */
static bool run_write(struct frame *f, unsigned long mfn, unsigned int idx, uint64_t v)
{
    struct word_run *w;
    uint64_t old;

    if (!(f->flags & FF_RUN)) {
        run_put(mfn, (struct word_run){ .first = v, .idx = idx, .n = 1 });
        f->flags |= FF_RUN;
        return true;
    }
    w = run_find(mfn);
    if (w->n == 1 && idx == w->idx)
        w->first = v;                   /* the one word, rewritten */
    else if (idx == w->idx + w->n && (w->n == 1 || v == w->first + w->n * w->step)) {
        if (w->n == 1)
            w->step = v - w->first;
        w->n++;
    } else if (!run_word(w, idx, &old) || old != v)
        return false;
    return true;
}

/* ------------------------------------------------------------ life cycle */

struct model_opts model_default_opts(bool dom0)
{
    struct model_opts o = {
        .dom0 = dom0, .linear_pt = true, .m2p_strict = false,
        .l1tf_check = true, .debug = true,
    };
    return o;
}

void model_free(void)
{
    while (arenas) {
        struct arena *next = arenas->next;

        if (nr_spare_arenas < SPARE_ARENAS) {
            arenas->next = spare_arenas;
            spare_arenas = arenas;
            nr_spare_arenas++;
        } else {
            munmap(arenas, ARENA_BYTES);
        }
        arenas = next;
    }
    while (view_bufs) {
        struct view_buf *next = view_bufs->next;

        free(view_bufs);
        view_bufs = next;
    }
    unmap_or_keep(M.frames, M.map_bytes_frames, &spare_frames);
    unmap_or_keep(M.pages, M.map_bytes_pages, &spare_pages);
    free(M.ext);
    free(M.ext_by_mfn);
    free(M.m2p_key);
    free(M.m2p_val);
    free(run_pool);
    run_pool = NULL;
    run_pool_cap = run_pool_used = 0;
    run_free = UINT32_MAX;
    unmap_or_keep(run_at, run_at_bytes, &spare_run_at);
    run_at = NULL;
    free(bucket_mfn);
    free(bucket_pfn);
    bucket_mfn = bucket_pfn = NULL;
    nr_bucket_mfn = nr_bucket_pfn = 0;
    memset(&M, 0, sizeof(M));
    last_by_pfn = last_by_mfn = NULL;
}

void model_init(unsigned long max_mfn, const struct model_opts *opts)
{
    model_free();
    M.opts = *opts;
    M.max_mfn = max_mfn;
    M.frames = map_spare(ALIGN_UP_SZ(max_mfn * sizeof(struct frame)), &spare_frames, &M.map_bytes_frames, true);
    M.pages = map_spare(ALIGN_UP_SZ(max_mfn * sizeof(uint64_t *)), &spare_pages, &M.map_bytes_pages, true);
    /* Read only for a frame flagged FF_RUN: it needs no clearing. */
    run_at = map_spare(ALIGN_UP_SZ(max_mfn * sizeof(*run_at)), &spare_run_at, &run_at_bytes, false);
    M.p2m_first_pfn = M.rd_first_pfn = ~0UL;
    M.pool_end = max_mfn;
    M.pool_next = max_mfn > 4096 + MFN_DOM_FIRST ? max_mfn - 4096 : max_mfn;
    vmem_reset();

    for (unsigned long m = 0; m < MFN_IO_END; m++)
        M.frames[m].owner = OWN_IO;
    for (unsigned long m = MFN_XEN_FIRST; m < MFN_SHARED_INFO; m++)
        M.frames[m].owner = OWN_XEN;
    M.frames[MFN_SHARED_INFO].owner = OWN_DOM;      /* share_xen_page_with_guest */
    for (unsigned long m = MFN_OTHER_FIRST; m < MFN_OTHER_FIRST + 16; m++)
        M.frames[m].owner = OWN_OTHER;
    /* MFN_FREE_FIRST.. and everything not given away stays OWN_FREE. */
}

/* ------------------------------------------------------------ content */

static void p2m_run(unsigned long pfn, unsigned int n, uint64_t *out);

static uint64_t synth_word(unsigned long mfn, unsigned int idx)
{
    const struct frame *f = frame_of(mfn);
    unsigned long pfn;

    switch (f->content) {
    case FC_P2M:
        pfn = model_p2m_pfn_of_frame(mfn);
        return model_p2m((pfn - M.p2m_first_pfn) * 512 + idx);
    case FC_RAMDISK: {
        unsigned long off;

        pfn = model_p2m_pfn_of_frame(mfn);
        off = (pfn - M.rd_first_pfn) * PAGE_SIZE + idx * 8UL;
        return ramdisk_word(off);
    }
    default:
        return 0;
    }
}

/* All 512 words of a frame, a formula computed an extent at a time. */
void mem_read_page(unsigned long mfn, uint64_t *out)
{
    const struct frame *f = frame_of(mfn);

    switch (f->content) {
    case FC_STORED:
        memcpy(out, M.pages[mfn], PAGE_SIZE);
        break;
    case FC_P2M:
        p2m_run((model_p2m_pfn_of_frame(mfn) - M.p2m_first_pfn) * 512, 512, out);
        break;
    case FC_ZERO:
        memset(out, 0, PAGE_SIZE);
        break;
    default:
        for (unsigned int i = 0; i < 512; i++)
            out[i] = synth_word(mfn, i);
    }
    run_apply(f, mfn, out);
}

uint64_t mem_read(unsigned long mfn, unsigned int idx)
{
    const struct frame *f = frame_of(mfn);
    uint64_t v;

    if (f->content == FC_STORED)
        return M.pages[mfn][idx];
    if ((f->flags & FF_RUN) && run_word(run_find(mfn), idx, &v))
        return v;
    if (f->content == FC_ZERO)
        return 0;
    return synth_word(mfn, idx);
}

static uint64_t *materialize(unsigned long mfn)
{
    struct frame *f = frame_of(mfn);
    uint64_t *p;

    if (f->content == FC_STORED)
        return M.pages[mfn];
    if (f->flags & FF_VMEM_COPY) {
        f->flags &= ~FF_VMEM_COPY;
        vmem_flush();       /* cached reads of it (zero page, formula copy) go stale */
    }
    p = M.pages[mfn] = page_alloc_host();
    if (f->content != FC_ZERO || (f->flags & FF_RUN))
        mem_read_page(mfn, p);
    run_drop(f, mfn);
    f->content = FC_STORED;
    return p;
}

/*
 * Host memory the code's C pointers see (plat_view): the words of n frames
 * one after the other.  Frames already stored that way keep their words
 * in place; otherwise they move into one new buffer, content and all.
 */
uint64_t *mem_pages_contig(const unsigned long *mfn, unsigned long n)
{
    struct view_buf *b;
    uint64_t *words;
    unsigned long i;

    for (i = 0; i < n && frame_of(mfn[i])->content == FC_STORED &&
                M.pages[mfn[i]] == M.pages[mfn[0]] + 512 * i; i++)
        ;
    if (i == n)
        return M.pages[mfn[0]];
    if (n == 1)
        return materialize(mfn[0]);
    if (!(b = aligned_alloc(PAGE_SIZE, (n + 1) * PAGE_SIZE)))
        abort();
    b->next = view_bufs;
    view_bufs = b;
    words = (uint64_t *)((char *)b + PAGE_SIZE);
    for (i = 0; i < n; i++) {
        for (unsigned long j = 0; j < i; j++)
            if (mfn[j] == mfn[i])
                model_end_run(OUT_RULE, "one C view reaches mfn %#lx twice", mfn[i]);
        /* A pointer the code still holds would go on reading and writing the old words. */
        if (frame_of(mfn[i])->flags & FF_VIEWED)
            model_end_run(OUT_RULE, "a C view of mfn %#lx needs its words moved, and an earlier view "
                          "of several pages holds them", mfn[i]);
        mem_read_page(mfn[i], words + 512 * i);
        run_drop(frame_of(mfn[i]), mfn[i]);
        M.pages[mfn[i]] = words + 512 * i;
        frame_of(mfn[i])->content = FC_STORED;
        frame_of(mfn[i])->flags = (uint8_t)((frame_of(mfn[i])->flags & ~FF_VMEM_COPY) | FF_VIEWED);
    }
    vmem_changed();         /* cached words of these frames are elsewhere now */
    return words;
}

void mem_write(unsigned long mfn, unsigned int idx, uint64_t v)
{
    struct frame *f = frame_of(mfn);

    if (f->content != FC_STORED) {
        uint64_t old;

        /* A zero where a zero page reads zero already (no run, or out of the run) changes nothing. */
        if (f->content == FC_ZERO && !v && !((f->flags & FF_RUN) && run_word(run_find(mfn), idx, &old)))
            return;
        if (!run_write(f, mfn, idx, v))
            goto store;                 /* a word out of the run: store the page */
        if (f->flags & FF_VMEM_COPY) {
            f->flags &= ~FF_VMEM_COPY;
            vmem_changed();             /* a cached copy of its words (or the zero page) is stale */
        }
        return;
    }
store:
    materialize(mfn)[idx] = v;
}

/*
 * All 512 words at once (Xen's adjustment of a table it validates): a page
 * that is not stored stays so if the words that are not zero form a run.
 */
void mem_write_page(unsigned long mfn, const uint64_t *words)
{
    struct frame *f = frame_of(mfn);
    unsigned int lo = 0, hi = PT_ENTRIES;

    if (f->content == FC_ZERO) {
        while (lo < hi && !words[lo])
            lo++;
        while (hi > lo && !words[hi - 1])
            hi--;
        for (unsigned int i = lo + 2; i < hi; i++)
            if (words[i] - words[i - 1] != words[lo + 1] - words[lo])
                goto store;
        struct word_run w = { .first = words[lo], .idx = lo, .n = hi - lo,
                              .step = hi - lo > 1 ? words[lo + 1] - words[lo] : 0 };

        if (f->flags & FF_VMEM_COPY) {
            f->flags &= ~FF_VMEM_COPY;
            vmem_changed();
        }
        if (lo == hi)
            run_drop(f, mfn);
        else if (f->flags & FF_RUN)
            *run_find(mfn) = w;
        else {
            run_put(mfn, w);
            f->flags |= FF_RUN;
        }
        return;
    }
store:
    memcpy(materialize(mfn), words, PAGE_SIZE);
}

void mem_zero(unsigned long mfn)
{
    struct frame *f = frame_of(mfn);

    /*
     * A cached copy of its formula goes stale.  Dropped for good, not just
     * unhooked: a word written later makes the copy the cache reads again.
     */
    if (f->flags & FF_VMEM_COPY) {
        f->flags &= ~FF_VMEM_COPY;
        vmem_changed();
    }
    run_drop(f, mfn);
    if (f->content == FC_STORED)
        memset(M.pages[mfn], 0, PAGE_SIZE);
    else
        f->content = FC_ZERO;
}

void mem_write_bytes(unsigned long mfn, unsigned int off, const void *src, size_t len)
{
    memcpy((char *)materialize(mfn) + off, src, len);
}

void mem_read_bytes(unsigned long mfn, unsigned int off, void *dst, size_t len)
{
    const struct frame *f = frame_of(mfn);

    if (f->content == FC_STORED) {
        memcpy(dst, (const char *)M.pages[mfn] + off, len);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        uint64_t w = mem_read(mfn, (off + i) / 8);

        ((uint8_t *)dst)[i] = w >> (8 * ((off + i) % 8));
    }
}

/* The ramdisk's bytes: a pattern anyone can recompute from the offset. */
uint64_t ramdisk_word(unsigned long off)
{
    uint64_t x = off * 0x9e3779b97f4a7c15ULL + 0x5851f42d4c957f2dULL;

    if (off >= M.rd_len)
        return 0;
    if (M.rd_bytes) {
        x = 0;
        for (unsigned int i = 0; i < 8 && off + i < M.rd_len; i++)
            x |= (uint64_t)M.rd_bytes[off + i] << (8 * i);
        return x;
    }
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 32;
    if (M.rd_len - off < 8)                             /* the tail: bytes past mod_len are zero */
        x &= (1ULL << (8 * (M.rd_len - off))) - 1;
    return x;
}

/* ------------------------------------------------------------ extents */

void model_add_extent(unsigned long pfn, unsigned long mfn, unsigned long n, int dir)
{
    if (!n)
        return;
    last_by_pfn = last_by_mfn = NULL;
    vmem_changed();
    if (M.nr_ext == M.cap_ext) {
        M.cap_ext = M.cap_ext ? 2 * M.cap_ext : 64;
        M.ext = realloc(M.ext, M.cap_ext * sizeof(*M.ext));
        if (!M.ext)
            abort();
    }
    M.ext[M.nr_ext++] = (struct extent){ .pfn = pfn, .mfn = mfn, .n = n, .dir = dir };
}

void model_add_extent_unowned(unsigned long pfn, unsigned long mfn, unsigned long n)
{
    model_add_extent(pfn, mfn, n, 1);
    if (n)
        M.ext[M.nr_ext - 1].unowned = true;
}

void model_grow(unsigned long max_mfn)
{
    size_t fb = ALIGN_UP_SZ(max_mfn * sizeof(struct frame));
    size_t pb = ALIGN_UP_SZ(max_mfn * sizeof(uint64_t *));
    void *f, *p, *r;

    if (max_mfn <= M.max_mfn)
        return;
    /* A kept mapping is dirty past what the last boot cleared; what it grows by is zero. */
    memset(M.frames + M.max_mfn, 0, (fb < M.map_bytes_frames ? fb : M.map_bytes_frames) -
                                    M.max_mfn * sizeof(struct frame));
    memset(M.pages + M.max_mfn, 0, (pb < M.map_bytes_pages ? pb : M.map_bytes_pages) -
                                   M.max_mfn * sizeof(uint64_t *));
    if (fb < M.map_bytes_frames)
        fb = M.map_bytes_frames;
    if (pb < M.map_bytes_pages)
        pb = M.map_bytes_pages;
    /* Anonymous mappings grow zero-filled: the new frames are free, zero, untouched. */
    f = fb > M.map_bytes_frames ? mremap(M.frames, M.map_bytes_frames, fb, MREMAP_MAYMOVE) : M.frames;
    p = pb > M.map_bytes_pages ? mremap(M.pages, M.map_bytes_pages, pb, MREMAP_MAYMOVE) : M.pages;
    if (f == MAP_FAILED || p == MAP_FAILED) {
        fprintf(stderr, "model: growing the machine to %lu frames failed\n", max_mfn);
        abort();
    }
    if (ALIGN_UP_SZ(max_mfn * sizeof(*run_at)) > run_at_bytes) {
        size_t rb = ALIGN_UP_SZ(max_mfn * sizeof(*run_at));

        if ((r = mremap(run_at, run_at_bytes, rb, MREMAP_MAYMOVE)) == MAP_FAILED) {
            fprintf(stderr, "model: growing the machine to %lu frames failed\n", max_mfn);
            abort();
        }
        run_at = r;
        run_at_bytes = rb;
    }
    M.frames = f;
    M.pages = p;
    M.map_bytes_frames = fb;
    M.map_bytes_pages = pb;
    M.max_mfn = max_mfn;
    last_by_pfn = last_by_mfn = NULL;
    vmem_changed();
}

static inline unsigned long ext_mfn_lo(const struct extent *e)
{
    return e->dir > 0 ? e->mfn : e->mfn - (e->n - 1);
}

static int cmp_pfn(const void *a, const void *b)
{
    const struct extent *x = a, *y = b;

    return x->pfn < y->pfn ? -1 : x->pfn > y->pfn;
}

static int cmp_mfn(const void *a, const void *b)
{
    unsigned long x = ext_mfn_lo(*(struct extent *const *)a);
    unsigned long y = ext_mfn_lo(*(struct extent *const *)b);

    return x < y ? -1 : x > y;
}

/* Sorts the extents, gives their frames to the domain, checks they do not overlap. */
void model_finish_extents(void)
{
    last_by_pfn = last_by_mfn = NULL;
    vmem_changed();
    qsort(M.ext, M.nr_ext, sizeof(*M.ext), cmp_pfn);
    free(M.ext_by_mfn);
    M.ext_by_mfn = malloc((M.nr_ext + 1) * sizeof(*M.ext_by_mfn));
    if (!M.ext_by_mfn)
        abort();
    for (unsigned long i = 0; i < M.nr_ext; i++)
        M.ext_by_mfn[i] = &M.ext[i];
    qsort(M.ext_by_mfn, M.nr_ext, sizeof(*M.ext_by_mfn), cmp_mfn);
    for (unsigned long i = 0; i < M.nr_ext; i++) {
        const struct extent *e = M.ext_by_mfn[i];
        unsigned long lo = ext_mfn_lo(e);

        if (lo + e->n > M.max_mfn ||
            (i && ext_mfn_lo(M.ext_by_mfn[i - 1]) + M.ext_by_mfn[i - 1]->n > lo)) {
            fprintf(stderr, "model: extents overlap or exceed the machine at mfn %#lx\n", lo);
            abort();
        }
        if (i + 1 < M.nr_ext && M.ext[i].pfn + M.ext[i].n > M.ext[i + 1].pfn) {
            fprintf(stderr, "model: pfn extents overlap at pfn %#lx\n", M.ext[i + 1].pfn);
            abort();
        }
        for (unsigned long m = lo; !e->unowned && m < lo + e->n; m++)
            M.frames[m].owner = OWN_DOM;
    }

    free(bucket_mfn);
    free(bucket_pfn);
    nr_bucket_mfn = (M.max_mfn >> BUCKET_SHIFT) + 1;
    nr_bucket_pfn = M.nr_ext ? ((M.ext[M.nr_ext - 1].pfn + M.ext[M.nr_ext - 1].n) >> BUCKET_SHIFT) + 1 : 1;
    bucket_mfn = malloc(nr_bucket_mfn * sizeof(*bucket_mfn));
    bucket_pfn = malloc(nr_bucket_pfn * sizeof(*bucket_pfn));
    if (!bucket_mfn || !bucket_pfn)
        abort();
    for (unsigned long b = 0, i = 0; b < nr_bucket_mfn; b++) {
        while (i < M.nr_ext && ext_mfn_lo(M.ext_by_mfn[i]) + M.ext_by_mfn[i]->n <= b << BUCKET_SHIFT)
            i++;
        bucket_mfn[b] = i;
    }
    for (unsigned long b = 0, i = 0; b < nr_bucket_pfn; b++) {
        while (i < M.nr_ext && M.ext[i].pfn + M.ext[i].n <= b << BUCKET_SHIFT)
            i++;
        bucket_pfn[b] = i;
    }
}

static inline unsigned long ext_mfn(const struct extent *e, unsigned long pfn)
{
    return e->dir > 0 ? e->mfn + (pfn - e->pfn) : e->mfn - (pfn - e->pfn);
}

static inline unsigned long ext_pfn(const struct extent *e, unsigned long mfn)
{
    return e->dir > 0 ? e->pfn + (mfn - e->mfn) : e->pfn + (e->mfn - mfn);
}

unsigned long model_p2m(unsigned long pfn)
{
    const struct extent *c = last_by_pfn;

    if (c && pfn - c->pfn < c->n)
        return ext_mfn(c, pfn);
    if (pfn >> BUCKET_SHIFT >= nr_bucket_pfn)
        return ~0UL;
    for (unsigned long i = bucket_pfn[pfn >> BUCKET_SHIFT]; i < M.nr_ext && M.ext[i].pfn <= pfn; i++)
        if (pfn - M.ext[i].pfn < M.ext[i].n)
            return last_by_pfn = &M.ext[i], ext_mfn(&M.ext[i], pfn);
    return ~0UL;
}

/* The builder's pfn of a frame (extents only: synthesized content follows the builder). */
unsigned long model_p2m_pfn_of_frame(unsigned long mfn)
{
    const struct extent *c = last_by_mfn;

    if (c && mfn - ext_mfn_lo(c) < c->n)
        return ext_pfn(c, mfn);
    if (mfn >> BUCKET_SHIFT >= nr_bucket_mfn)
        return ~0UL;
    for (unsigned long i = bucket_mfn[mfn >> BUCKET_SHIFT]; i < M.nr_ext; i++) {
        const struct extent *e = M.ext_by_mfn[i];

        if (ext_mfn_lo(e) > mfn)
            break;
        if (mfn - ext_mfn_lo(e) < e->n)
            return last_by_mfn = e, ext_pfn(e, mfn);
    }
    return ~0UL;
}

/* model_p2m() for n consecutive pfns, an extent at a time. */
static void p2m_run(unsigned long pfn, unsigned int n, uint64_t *out)
{
    for (unsigned int i = 0; i < n;) {
        unsigned long mfn = model_p2m(pfn + i);
        const struct extent *c = last_by_pfn;

        if (mfn == ~0UL || pfn + i - c->pfn >= c->n) {
            out[i++] = mfn;
            continue;
        }
        for (; i < n && pfn + i - c->pfn < c->n; i++)
            out[i] = ext_mfn(c, pfn + i);
    }
}

/* ------------------------------------------------------------ M2P */

/* The range of mfns MACHPHYS updates have touched (valid while M.m2p_used). */
static unsigned long m2p_lo, m2p_hi;

static unsigned long hash_mfn(unsigned long mfn)
{
    return (mfn * 0x9e3779b97f4a7c15UL) >> 7;
}

static unsigned long *m2p_slot(unsigned long mfn)
{
    unsigned long i;

    if (!M.m2p_used)
        return NULL;
    for (i = hash_mfn(mfn) & (M.m2p_cap - 1); M.m2p_key[i]; i = (i + 1) & (M.m2p_cap - 1))
        if (M.m2p_key[i] == mfn + 1)
            return &M.m2p_val[i];
    return NULL;
}

/*
 * The M2P entry of a frame outside the builder's extents.  Xen fills the
 * M2P with 0x55 bytes at boot and only an owner's MACHPHYS updates (or the
 * builder's) change an entry, so frames nobody ever had -- dom_io's, Xen's
 * own, the never-used -- keep the fill; a page Xen shares with the guest
 * (shared_info) reads INVALID (share_xen_page_with_guest); another
 * domain's frame reads that domain's pfn.
 */
static unsigned long m2p_outside_extents(unsigned long mfn)
{
    if (!mfn_valid(mfn))
        return M2P_BOOT_FILL;
    switch (frame_of(mfn)->owner) {
    case OWN_DOM:
        return ~0UL;
    case OWN_OTHER:
        return mfn - MFN_OTHER_FIRST;
    default:
        return mfn < MFN_DOM_FIRST ? M2P_BOOT_FILL : ~0UL;
    }
}

unsigned long model_m2p(unsigned long mfn)
{
    unsigned long *v = m2p_slot(mfn), pfn;

    if (v)
        return *v;
    pfn = model_p2m_pfn_of_frame(mfn);
    return pfn == ~0UL ? m2p_outside_extents(mfn) : pfn;
}

bool model_m2p_read(unsigned long mfn, uint64_t *entry)
{
    if (mfn >= M.max_mfn)
        return false;
    *entry = model_m2p(mfn);
    return true;
}

void model_m2p_run(unsigned long mfn, unsigned int n, uint64_t *out)
{
    for (unsigned int i = 0; i < n;) {
        unsigned long pfn = model_p2m_pfn_of_frame(mfn + i);
        const struct extent *c = last_by_mfn;

        if (pfn == ~0UL) {
            out[i] = m2p_outside_extents(mfn + i);
            i++;
            continue;
        }
        if (mfn + i - ext_mfn_lo(c) >= c->n) {
            out[i++] = pfn;
            continue;
        }
        for (; i < n && mfn + i - ext_mfn_lo(c) < c->n; i++)
            out[i] = ext_pfn(c, mfn + i);
    }
    /* MACHPHYS updates override the builder's answer. */
    for (unsigned int i = 0; M.m2p_used && mfn <= m2p_hi && mfn + n > m2p_lo && i < n; i++) {
        unsigned long *v = m2p_slot(mfn + i);

        if (v)
            out[i] = *v;
    }
}

void model_set_m2p(unsigned long mfn, unsigned long pfn)
{
    unsigned long *v = m2p_slot(mfn);

    vmem_changed();
    if (!M.m2p_used || mfn < m2p_lo)
        m2p_lo = mfn;
    if (!M.m2p_used || mfn > m2p_hi)
        m2p_hi = mfn;
    if (!v) {
        if (2 * (M.m2p_used + 1) > M.m2p_cap) {
            unsigned long oc = M.m2p_cap, *ok = M.m2p_key, *ov = M.m2p_val;

            M.m2p_cap = oc ? 2 * oc : 64;
            M.m2p_key = calloc(M.m2p_cap, sizeof(unsigned long));
            M.m2p_val = calloc(M.m2p_cap, sizeof(unsigned long));
            if (!M.m2p_key || !M.m2p_val)
                abort();
            M.m2p_used = 0;
            for (unsigned long i = 0; i < oc; i++)
                if (ok[i])
                    model_set_m2p(ok[i] - 1, ov[i]);
            free(ok);
            free(ov);
        }
        unsigned long i = hash_mfn(mfn) & (M.m2p_cap - 1);

        while (M.m2p_key[i])
            i = (i + 1) & (M.m2p_cap - 1);
        M.m2p_key[i] = mfn + 1;
        v = &M.m2p_val[i];
        M.m2p_used++;
    }
    *v = pfn;
}

/* ------------------------------------------------------------ a new domain */

void model_forget_extents(void)
{
    M.nr_ext = 0;
    if (M.m2p_used) {
        memset(M.m2p_key, 0, M.m2p_cap * sizeof(*M.m2p_key));
        M.m2p_used = 0;
    }
    last_by_pfn = last_by_mfn = NULL;
    vmem_changed();
}

/*
 * The words go with the pointer (a C view of them stays valid); a ramdisk
 * frame stays a formula, which the new extents resolve to the same pfn.
 */
void model_move_frame(unsigned long from, unsigned long to)
{
    struct frame *f = frame_of(from), *t = frame_of(to);

    /* The builder's list is computed from the extents: the old words are the old mfns. */
    if (f->content == FC_P2M)
        materialize(from);
    *t = (struct frame){ .owner = OWN_DOM, .content = f->content,
                         .flags = (uint8_t)(f->flags & (FF_RUN | FF_VIEWED)) };
    if (f->content == FC_STORED) {
        M.pages[to] = M.pages[from];
        M.pages[from] = NULL;
    }
    if (f->flags & FF_RUN) {
        struct word_run w = *run_find(from);

        run_drop(f, from);
        run_put(to, w);
    }
    *f = (struct frame){ .owner = OWN_FREE };
}

void model_free_frame(unsigned long mfn)
{
    struct frame *f = frame_of(mfn);

    run_drop(f, mfn);
    if (f->content == FC_STORED)
        M.pages[mfn] = NULL;        /* its words stay in the arena until the machine goes */
    *f = (struct frame){ .owner = OWN_FREE };
}

/* ------------------------------------------------------------ refusals */

void model_refuse(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(M.refusal, sizeof(M.refusal), fmt, ap);
    va_end(ap);
    if (getenv("MODEL_TRACE"))
        fprintf(stderr, "model: refused: %s\n", M.refusal);
}

const char *model_last_refusal(void)
{
    return M.refusal;
}

const char *outcome_name(enum outcome o)
{
    static const char *const names[] = {
        [OUT_NONE] = "SUCCESS", [OUT_ERROR] = "ERROR", [OUT_FAILURE] = "FAILURE",
        [OUT_FAULT] = "FAULT", [OUT_CRASH] = "CRASH", [OUT_RULE] = "RULE",
        [OUT_JUMPED] = "JUMPED", [OUT_TOOLSTACK] = "TOOLSTACK",
    };
    return o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}
