/* SPDX-License-Identifier: MIT */
/*
 * model.h - a host-side model of Xen's PV MMU (Xen 4.17/4.20, 64-bit PV).
 *
 * One simulated machine with one PV domain (plus frames owned by Xen, by
 * another domain, by nobody, and MMIO above RAM).  The rules it enforces
 * are those of ../../../shared/xen-pv-rules.md; each refusal records the
 * rule id (model_last_refusal()) so tests can say which rule fired:
 *
 *   T1-T4  frame types, type counts, validation on first reference (recursive)
 *   F1/F2  flags allowed per level
 *   E1-E6  targets, RW aliases of tables, typeability, linear entries, Xen's
 *          rewriting of entries
 *   N      non-present entries with address bits (L1TF): the domain crashes
 *   X      Xen's L4 slots 256-271
 *   H      hypercall semantics: mmu_update/mmuext_op stop at the first failure
 *          and report the done count; PIN/UNPIN/BASEPTR rules
 *   M      multicall: every entry runs, own result, returns 0, debug poison
 *   V      update_va_mapping: the L1 must be reachable from the kernel CR3
 *   U      ring 3: a user page table must exist, and map no kernel slot
 *   B      balloon: a frame given back to Xen must not be referenced any more
 *   P      publication: the p2m fields tools sample are valid whenever p2m_cr3 is set
 *   W      no plain write to a page table through a read-only mapping (Xen's
 *          ptwr emulation would hide it: the model refuses it)
 *
 * Memory is sparse: per-frame metadata is a flat array in a lazily backed
 * mapping, content pages are allocated on first write, and read-only boot
 * data (the p2m list, the ramdisk) is synthesized from formulas until the
 * guest writes it.  The pfn<->mfn relation of the domain is a list of
 * extents, so a 1 TiB guest costs a few extents, not a table.
 *
 * The files: machine.c (frames, memory, extents, M2P), pvmm.c (types and
 * hypercalls), vmem.c (guest virtual accesses), builder.c (boot states).
 */
#ifndef TESTS_MODEL_MODEL_H
#define TESTS_MODEL_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

#include "lib/xen.h"
#include "mm/pgtable.h"

/* ------------------------------------------------------------- frames */

enum frame_type {
    FT_NONE,            /* never typed, or devalidated after a failure */
    FT_WRITABLE,
    FT_L1, FT_L2, FT_L3, FT_L4,
    FT_SEG_DESC,
};

enum frame_owner {
    OWN_FREE,           /* allocated to nobody */
    OWN_DOM,            /* our domain */
    OWN_OTHER,          /* another domain */
    OWN_XEN,            /* Xen's own (not shared with the guest) */
    OWN_IO,             /* dom_io: the first MiB */
};

enum frame_content {
    FC_ZERO,            /* reads as zero, no page stored */
    FC_STORED,          /* model_page(mfn) holds it */
    FC_P2M,             /* a page of the builder's p2m list (formula) */
    FC_RAMDISK,         /* a page of the ramdisk (pattern) */
};

#define FF_VALIDATED    0x01
#define FF_PINNED       0x02
#define FF_XEN_SLOTS    0x04    /* an L4 whose slots 256-271 Xen has filled */
#define FF_VMEM_COPY    0x08    /* vmem.c's cache reads it from a zero page or a copy */
#define FF_VIEWED       0x10    /* its words are in a C view of several pages (plat_view): never moved again */
#define FF_RUN          0x20    /* not stored, but words were written in a run: machine.c keeps them aside */
#define FF_RUN_WRITER   0x40    /* vmem.c's cache appends to its run inline */

/*
 * One per frame of the machine, written for every frame a guest maps
 * writable (Xen types each one): 6 bytes, packed, since at 1 TiB these
 * are 1.5 GiB of host memory touched for the first time in every boot.
 */
struct frame {
    uint32_t count;         /* type count */
    uint8_t type : 3;       /* enum frame_type */
    uint8_t owner : 3;      /* enum frame_owner */
    uint8_t content : 2;    /* enum frame_content */
    uint8_t flags;          /* FF_* */
} __attribute__((packed));
_Static_assert(FT_SEG_DESC < 8 && OWN_IO < 8 && FC_RAMDISK < 4, "struct frame's fields are too narrow");

/* A run of pfns backed by a run of mfns, ascending (dir 1) or descending (-1). */
struct extent {
    unsigned long pfn, mfn, n;
    int dir;
    bool unowned;       /* the M2P answers for its frames; they are not given to the domain */
};

/* Hypervisor options (Xen command line and VM assists). */
struct model_opts {
    bool dom0;              /* iomem access, cache attributes, hardware domain */
    bool linear_pt;         /* pv-linear-pt (default true) */
    bool m2p_strict;        /* VMASST_TYPE_m2p_strict */
    bool l1tf_check;        /* an L1TF-vulnerable host: crash on unsafe non-present entries */
    bool debug;             /* debug Xen: poison executed multicall entries */
    bool no_nx;             /* a CPU without NX: _PAGE_NX is a reserved bit (F1) */
};

/* Well-known frames of the simulated machine. */
#define MFN_IO_END          0x100UL     /* [0, 1 MiB) belongs to dom_io */
#define MFN_XEN_FIRST       0x100UL     /* Xen's own frames */
#define MFN_XEN_M2P_L3      0x101UL     /* what L4[256] points to (the RO M2P) */
#define MFN_XEN_PERDOMAIN   0x102UL
#define MFN_XEN_MISC        0x103UL     /* stands for Xen's other L4 entries */
#define MFN_SHARED_INFO     0x200UL     /* Xen's page shared with the domain */
#define MFN_OTHER_FIRST     0x300UL     /* 16 frames of another domain */
#define MFN_FREE_FIRST      0x310UL     /* 16 frames allocated to nobody */
#define MFN_DOM_FIRST       0x400UL     /* the domain's memory starts here */

#define M2P_BOOT_FILL       0x5555555555555555UL   /* Xen's paging_init fills the M2P with 0x55 */
#define M2P_VIRT_START      0xffff800000000000UL     /* Xen's L4 slot 256 */
#define XEN_VIRT_FIRST      0xffff800000000000UL
#define XEN_VIRT_END        0xffff880000000000UL

/* ------------------------------------------------------------- results */

/* How a run ended. */
enum outcome {
    OUT_NONE,           /* still running / returned normally */
    OUT_ERROR,          /* mmu_error(): "Test result: ERROR" */
    OUT_FAILURE,        /* mmu_failure(): "Test result: FAILURE" */
    OUT_FAULT,          /* a page fault on a guest access */
    OUT_CRASH,          /* Xen crashed the domain */
    OUT_RULE,           /* a model audit (U1) failed */
    OUT_JUMPED,         /* the hand-off reached the next kernel's entry */
    OUT_TOOLSTACK,      /* the toolstack refused the save or the restore (toolstack.c) */
};

const char *outcome_name(enum outcome o);

/* ------------------------------------------------------------- the machine */

struct model_stats {
    unsigned long hypercalls;       /* top level: mmu_update, mmuext_op, multicall, ... */
    unsigned long mmu_update, mmuext_op, multicall, update_va, memory_op, vm_assist;
    unsigned long entries;          /* requests, ops and va updates executed */
    unsigned long machphys;         /* of them, MMU_MACHPHYS_UPDATE requests done */
    unsigned long m2p_changed;      /* ... that changed the entry (the others were wasted) */
    unsigned long validations;      /* tables promoted */
    unsigned long devalidations;
};

/* Fault injection: make the k-th hypercall, or the k-th entry, fail. */
struct model_inject {
    unsigned long fail_call;        /* 1-based top-level hypercall number, 0 = off */
    unsigned long fail_entry;       /* 1-based entry number, 0 = off */
    long rc;                        /* what it returns (default -EINVAL) */
    /* Filled when it fired: */
    bool fired;
    char what[96];                  /* "mmu_update", "mmuext_op PIN_L4_TABLE", ... */
};

/* What reached "Xen", in order, when a test asks (M.trace): one entry per request, op or va update. */
struct model_trace {
    char kind;                      /* 'u' mmu_update, 'e' mmuext_op, 'v' update_va_mapping */
    uint64_t a, b;                  /* ptr and val; cmd and arg1; va and val */
};

/*
 * Several vCPUs (vcpus.c): each has its CR3s, and a TLB that keeps what it
 * translated until a flush reaches this vCPU; a seeded scheduler switches
 * between them at yields and hypercalls.  nr_vcpus <= 1: one vCPU and no
 * TLB model (the walks are always fresh, as before).
 */
#define MODEL_MAX_VCPUS 8
#define ATLB_SIZE       64

struct atlb_entry {
    unsigned long tag;              /* vpn + 1; 0: empty */
    unsigned long mfn;
    bool writable;
};

struct model_vcpu {
    unsigned long cr3, user_cr3, kernel_sp;     /* while another vCPU runs */
    struct atlb_entry atlb[ATLB_SIZE];          /* fully associative, replaced in turn */
    unsigned long hot[ATLB_SIZE];   /* vpn + 1 of pages it used, kept across flushes (speculation) */
    unsigned int next_victim, next_hot;
};

struct model {
    struct model_opts opts;
    unsigned long max_mfn;          /* frames [0, max_mfn) are RAM */
    struct frame *frames;           /* max_mfn entries, lazily backed */
    uint64_t **pages;               /* content pointers, lazily backed: set for FC_STORED frames
                                       only, and read for them only (the kernel backs even a
                                       read of an untouched 2 MiB with memory) */
    size_t map_bytes_frames, map_bytes_pages;

    /* The domain's pfn<->mfn truth (as the builder made it). */
    struct extent *ext;             /* sorted by pfn */
    struct extent **ext_by_mfn;     /* sorted by mfn */
    unsigned long nr_ext, cap_ext;
    unsigned long nr_pages;         /* the builder's list: entries (p2m_size) */

    /* vNUMA memory ranges (XENMEM_get_vnumainfo), in pfns; none: -EOPNOTSUPP. */
    struct { unsigned long start, end; } vnuma[2];
    unsigned int nr_vnuma;

    /* M2P entries changed by MMU_MACHPHYS_UPDATE (open addressing). */
    unsigned long *m2p_key, *m2p_val, m2p_cap, m2p_used;

    /* Synthesized content. */
    unsigned long p2m_first_pfn, p2m_nr_frames;     /* FC_P2M frames hold this list */
    unsigned long rd_first_pfn, rd_len;             /* FC_RAMDISK frames */
    const uint8_t *rd_bytes;                        /* their bytes; NULL: a pattern */

    /* Frames XENMEM_populate_physmap hands out: [pool_next, pool_end). */
    unsigned long pool_next, pool_end;

    /* vCPU state. */
    unsigned long cr3;              /* kernel L4 mfn (guest_table), 0 = none */
    unsigned long user_cr3;         /* guest_table_user, 0 = none */
    unsigned long kernel_sp;        /* stack_switch's */
    bool traps_cleared;             /* set_trap_table(NULL) */
    unsigned long tlb_gen;          /* bumped by every hypercall */
    unsigned long cache_gen;        /* bumped by vmem_flush() */
    unsigned long copy_gen;         /* bumped when the M2P or a formula changes (vmem_changed) */

    /* Several vCPUs: the one running, and each one's state (vcpus.c). */
    unsigned int nr_vcpus, vcpu;
    struct model_vcpu vcpus[MODEL_MAX_VCPUS];

    /* The domain's fate. */
    bool crashed;
    char crash_msg[256];

    /* The last refusal: rule id and what was refused. */
    char refusal[320];

    struct model_stats stats;
    struct model_inject inj;
    struct model_trace *trace;      /* NULL: off; else room for trace_cap entries */
    unsigned long trace_cap, nr_trace;
    unsigned long entry_seq;        /* entries executed so far (for injection) */
};

extern struct model M;

/* machine.c */
void model_init(unsigned long max_mfn, const struct model_opts *opts);
void model_free(void);
struct model_opts model_default_opts(bool dom0);
static inline struct frame *frame_of(unsigned long mfn) { return &M.frames[mfn]; }
static inline bool mfn_valid(unsigned long mfn) { return mfn < M.max_mfn; }
/* A frame of the domain's: what it may reference, and what the tools can map. */
static inline bool mfn_owned(unsigned long mfn)
{
    return mfn_valid(mfn) && frame_of(mfn)->owner == OWN_DOM;
}
uint64_t mem_read(unsigned long mfn, unsigned int idx);
void mem_read_page(unsigned long mfn, uint64_t *out);
void mem_write_page(unsigned long mfn, const uint64_t *words);
struct word_run *mem_run_writer(unsigned long mfn);
void mem_write(unsigned long mfn, unsigned int idx, uint64_t v);
void mem_zero(unsigned long mfn);
void mem_write_bytes(unsigned long mfn, unsigned int off, const void *src, size_t len);
/* The words of n frames, contiguous in host memory (moved there if need be): plat_view's. */
uint64_t *mem_pages_contig(const unsigned long *mfn, unsigned long n);
void mem_read_bytes(unsigned long mfn, unsigned int off, void *dst, size_t len);
void model_add_extent(unsigned long pfn, unsigned long mfn, unsigned long n, int dir);
void model_finish_extents(void);
/*
 * For synthetic guests far larger than the booted one (test_p2m.c): more
 * machine frames (the new ones free), and a pfn->mfn extent whose frames
 * the M2P maps back (MACHPHYS reads) without their metadata being touched,
 * so a TiB of them costs nothing.  Call model_finish_extents() afterwards.
 */
void model_grow(unsigned long max_mfn);
void model_add_extent_unowned(unsigned long pfn, unsigned long mfn, unsigned long n);
unsigned long model_p2m(unsigned long pfn);             /* builder truth, ~0UL if none */
unsigned long model_m2p(unsigned long mfn);             /* with MACHPHYS updates */
/* As the guest's fault-safe read sees it: false past the host's memory. */
bool model_m2p_read(unsigned long mfn, uint64_t *entry);
void model_m2p_run(unsigned long mfn, unsigned int n, uint64_t *out);  /* n of them at once */
void model_set_m2p(unsigned long mfn, unsigned long pfn);
uint64_t ramdisk_word(unsigned long byte_off);          /* the synthesized ramdisk */
/*
 * A restore into a new domain (toolstack.c): the extents and the M2P's
 * updates are forgotten (new extents follow), and a frame's words, stored
 * or formula, move to another mfn, which the domain owns, untyped.
 */
void model_forget_extents(void);
void model_move_frame(unsigned long from, unsigned long to);
void model_free_frame(unsigned long mfn);
__attribute__((format(printf, 1, 2))) void model_refuse(const char *fmt, ...);
const char *model_last_refusal(void);

/* pvmm.c: the type system */
int get_page_type(unsigned long mfn, enum frame_type type);
void put_page_type(unsigned long mfn);
const char *frame_type_name(enum frame_type t);
const char *owner_name(enum frame_owner o);

/* pvmm.c: hypercalls (guest pointers are host pointers in the model) */
/* Counts a top-level hypercall; true (and *rc) when the injection makes it fail. */
bool model_inject_call(long *rc, const char *what);
long model_mmu_update(mmu_update_t *req, unsigned int count, unsigned int *done);
long model_mmuext_op(struct mmuext_op *op, unsigned int count, unsigned int *done);
long model_update_va_mapping(unsigned long va, uint64_t val, unsigned long flags);
long model_multicall(multicall_entry_t *calls, unsigned int nr);
long model_memory_op(unsigned int cmd, void *arg);
long model_vm_assist(unsigned int cmd, unsigned int type);
long model_stack_switch(unsigned long sp);
long model_set_trap_table(const struct trap_info *table);
/* The word of shared_info's arch part that holds field. */
#define SI_ARCH_WORD(field) \
    ((unsigned int)((offsetof(shared_info_t, arch) + offsetof(struct arch_shared_info, field)) / 8))
/* P: the tools' view of the p2m, sampled after each guest write to shared_info. */
void model_shared_info_written(void);
/* Boot: take the CR3 reference and the pin on the builder's L4 (validates it all). */
int model_boot_load_l4(unsigned long l4_mfn);
/* A restored vCPU (arch_set_info_guest): the kernel and user L4 references, validating. */
int model_restore_vcpu(unsigned long l4_mfn, unsigned long user_l4_mfn);
/* MMUEXT_PIN_Ln_TABLE as the restore issues it, outside the guest's hypercall count. */
long model_pin(unsigned long mfn, enum frame_type type);
/* U: a return to ring 3 (what the shim's usermode test would do). */
bool model_enter_user(char *why, size_t len);
/* Xen's fill of L4 slots 256-271 into an L4 (pin time; RO M2P per m2p_strict). */
void model_fill_xen_slots(unsigned long l4_mfn, bool ro_m2p);

/* vmem.c: guest virtual accesses through the current kernel tables */
bool vmem_translate(unsigned long va, bool write, unsigned long *mfn, char *why, size_t len);
bool vmem_executable(unsigned long va, unsigned long *mfn, char *why, size_t len);
void vmem_read_bytes(unsigned long va, void *dst, size_t len);
uint64_t vmem_read64_slow(unsigned long va);
void vmem_write64_slow(unsigned long va, uint64_t v);
void vmem_zero_page_slow(unsigned long va);
/* plat_view: [va, va + len) as one C pointer, each page checked mapped (writable if write). */
void *vmem_view(unsigned long va, size_t len, bool write);

/*
 * The translation cache (vmem.c), valid until the next hypercall or
 * vmem_flush().  A hit is served here, inline: the guest's billions of
 * 8-byte accesses at 1 TiB cost one load or store each.  A miss, a fault
 * and everything else are vmem.c's.
 */
#define VMEM_TLB_SIZE 4096

/* The words of an unstored page written in a run (machine.c): idx.. idx + n - 1 hold first + k * step. */
struct word_run { uint64_t first, step; unsigned int idx, n; };

struct vmem_tlbe {           /* what a hit needs */
    unsigned long vpn, gen;
    const uint64_t *rdata;  /* the page's words for reads: its stored content, a zero page,
                               or a copy of a formula page or of an M2P page (vmem.c) */
    uint64_t *wdata;        /* for writes: the stored content, if the mapping is writable */
    struct word_run *run;   /* for writes that extend the run of an unstored page (FF_RUN_WRITER) */
};

extern struct vmem_tlbe vmem_tlb[VMEM_TLB_SIZE];

static inline unsigned long vmem_gen(void)
{
    return M.tlb_gen + M.cache_gen + 1;
}

/* Drops the translation cache: a pure cache, so only speed changes. */
static inline void vmem_flush(void)
{
    M.cache_gen++;
}

/* The M2P, the extents or the formulas changed: drop the copies too. */
static inline void vmem_changed(void)
{
    M.copy_gen++;
    vmem_flush();
}

static inline const struct vmem_tlbe *vmem_hit(unsigned long va)
{
    const struct vmem_tlbe *t = &vmem_tlb[(va >> PAGE_SHIFT) % VMEM_TLB_SIZE];

    return t->vpn == va >> PAGE_SHIFT && t->gen == vmem_gen() ? t : NULL;
}

static inline uint64_t vmem_read64(unsigned long va)
{
    const struct vmem_tlbe *t = vmem_hit(va);

    return t && t->rdata && !(va & 7) ? t->rdata[(va & 0xfff) >> 3] : vmem_read64_slow(va);
}

/* A read that returns false where vmem_read64 would fault (the guest's exception fixup). */
bool vmem_read64_safe_slow(unsigned long va, uint64_t *val);

static inline bool vmem_read64_safe(unsigned long va, uint64_t *val)
{
    const struct vmem_tlbe *t = vmem_hit(va);

    if (t && t->rdata && !(va & 7)) {
        *val = t->rdata[(va & 0xfff) >> 3];
        return true;
    }
    return vmem_read64_safe_slow(va, val);
}

/* The next word of a run of at least two (the slow path starts one, and does the rest). */
static inline bool vmem_run_append(struct word_run *w, unsigned int idx, uint64_t v)
{
    if (w->n < 2 || idx != w->idx + w->n || v != w->first + w->n * w->step)
        return false;
    w->n++;
    return true;
}

static inline void vmem_write64(unsigned long va, uint64_t v)
{
    const struct vmem_tlbe *t = vmem_hit(va);

    if (t && !(va & 7)) {
        if (t->wdata) {
            t->wdata[(va & 0xfff) >> 3] = v;
            return;
        }
        if (t->run && vmem_run_append(t->run, (va & 0xfff) >> 3, v))
            return;
    }
    vmem_write64_slow(va, v);
}

static inline void vmem_zero_page(unsigned long va)
{
    const struct vmem_tlbe *t = vmem_hit(va);

    if (t && t->wdata && !(va & 0xfff))
        memset(t->wdata, 0, PAGE_SIZE);
    else
        vmem_zero_page_slow(va);
}

/* vcpus.c: the running vCPU's TLB, and flushes of any vCPU's (mask: bit v for vCPU v). */
bool atlb_lookup(unsigned long va, bool write, unsigned long *mfn);
void atlb_fill(unsigned long va, unsigned long mfn, bool writable);
#define ATLB_ALL (~0UL)
void atlb_flush(unsigned long vcpumask, unsigned long va);       /* va ATLB_ALL: everything */
static inline void atlb_flush_local(unsigned long va) { atlb_flush(1UL << M.vcpu, va); }
/*
 * A CR3 load on the running vCPU: its TLB is flushed, and then, as a CPU
 * may walk ahead of what it executes, refilled at once with the pages it
 * has used (ever: hot[]) that the new tables map: from the moment of the
 * load, before the guest code after the hypercall runs.
 */
void atlb_cr3_loaded(void);
/* A frame's type changes: Xen flushes every TLB that may still map it writable. */
void atlb_type_changed(unsigned long mfn);
/* The scheduler: maybe another vCPU runs now (at a hypercall), or surely (a yield). */
void model_preempt(void);
void model_yield(void);
/* A run that ends on a secondary vCPU ends on vCPU 0 (model_end_run calls it first). */
void model_vcpus_end_here(void);

/* How the hosted world ends a run (plat_hosted.c provides it). */
__attribute__((noreturn, format(printf, 2, 3))) void model_end_run(enum outcome o, const char *fmt, ...);

/* Small helpers */
static inline unsigned int pt_shift(unsigned int level) { return PAGE_SHIFT + 9 * (level - 1); }
#define ALIGN_UP_SZ(x)  (((size_t)(x) + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1))
unsigned long model_p2m_pfn_of_frame(unsigned long mfn);   /* builder truth, ~0UL if none */
void vmem_reset(void);
/* HYPERVISOR_set_gdt's type rule, for the T tests: frames become seg_desc. */
long model_set_gdt(const unsigned long *mfns, unsigned int n);

#define PTE_FLAGS_MASK  (~PTE_ADDR_MASK)
#define _PAGE_GUEST_KERNEL  (1ULL << 52)
#define _PAGE_GNTTAB        (1ULL << 62)
#define _PAGE_PAT_L1        0x080ULL
#define PTE_AVAIL_LOW       0xe00ULL                        /* bits 9-11 */
#define PTE_AVAIL_HIGH      (0x7ffULL << 52)                /* bits 52-62 */

#endif
