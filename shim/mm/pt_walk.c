/* SPDX-License-Identifier: MIT */
/* pt_walk.c - generic 4/5-level walkers (see pt_walk.h). */
#include "mm/pt_walk.h"

unsigned long pt_slot_va(const struct pt_geometry *g, unsigned long va_base,
                         unsigned int level, unsigned int slot)
{
    unsigned long va = va_base | ((unsigned long)slot << pt_level_shift(level));
    unsigned int top_bit = pt_level_shift(g->levels) + 8;   /* 47 or 56 */

    /* Sign-extend from the top bit the paging mode translates. */
    if (va & (1UL << top_bit))
        va |= ~0UL << top_bit;
    return va;
}

static void walk_table(const struct pt_geometry *g, unsigned int level, unsigned long mfn,
                       unsigned long va_base, pt_visit_t visit, void *ctx)
{
    unsigned long at = g->table_at(mfn);

    for (unsigned int s = 0; s < PT_ENTRIES; s++) {
        pte_t e = g->read_at(at, s);
        unsigned long va = pt_slot_va(g, va_base, level, s);

        if (!visit(ctx, level, mfn, s, e, va))
            continue;
        if (level > 1 && (e & _PAGE_PRESENT) && !(e & _PAGE_PSE))
            walk_table(g, level - 1, PTE_MFN(e), va, visit, ctx);
    }
}

void pt_walk(const struct pt_geometry *g, unsigned long root_mfn, pt_visit_t visit, void *ctx)
{
    walk_table(g, g->levels, root_mfn, 0, visit, ctx);
}

unsigned long pt_table_mfn(const struct pt_geometry *g, unsigned long root_mfn, unsigned long va,
                           unsigned int level)
{
    unsigned long mfn = root_mfn;

    for (unsigned int l = g->levels; l > level; l--) {
        pte_t e = pt_read(g, mfn, PT_INDEX(va, pt_level_shift(l)));

        if (!(e & _PAGE_PRESENT) || (e & _PAGE_PSE))
            return PT_NO_TABLE;
        mfn = PTE_MFN(e);
    }
    return mfn;
}

/* One step down: the entry for va in the table at mfn, at this level. */
static pte_t step(const struct pt_geometry *g, unsigned long mfn, unsigned int level, unsigned long va)
{
    return pt_read(g, mfn, PT_INDEX(va, pt_level_shift(level)));
}

pte_t pt_lookup(const struct pt_geometry *g, unsigned long root_mfn, unsigned long va,
                unsigned int *level_out)
{
    unsigned int level = g->levels;
    pte_t pgd, p4d, pud, pmd, pte;

    pgd = step(g, root_mfn, level--, va);
    if (g->levels == 5) {
        if (!(pgd & _PAGE_PRESENT))
            goto stop;
        p4d = step(g, PTE_MFN(pgd), level--, va);
    } else {
        p4d = pgd;              /* folded: the pgd entry is the p4d entry */
    }
    if (!(p4d & _PAGE_PRESENT))
        goto stop;
    pud = step(g, PTE_MFN(p4d), level--, va);
    if (!(pud & _PAGE_PRESENT))
        goto stop;
    pmd = step(g, PTE_MFN(pud), level--, va);
    if (!(pmd & _PAGE_PRESENT))
        goto stop;
    pte = step(g, PTE_MFN(pmd), level, va);
    if (level_out)
        *level_out = 1;
    return pte;
stop:
    if (level_out)
        *level_out = level + 1;
    return 0;
}
