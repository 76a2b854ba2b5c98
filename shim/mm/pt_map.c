/* SPDX-License-Identifier: MIT */
/* pt_map.c - the level-agnostic builder (pt_map.h). */
#include "mm/pt_map.h"
#include "lib/config.h"

int pt_map(struct pt_mapper *m, unsigned long va, unsigned long pa, pte_t flags)
{
    unsigned long table = m->root;
    unsigned int top = m->root_level ? m->root_level : m->geo->levels;

    if (!mm_va_canonical(m->geo, va))
        return -1;
    /*
     * BUG=p4d-unfolded: a p4d step with 4 levels, the classic folding
     * mistake: the top table is indexed as a PML5 (bits 48-56) and a
     * "p4d" below it takes bits 39-47, one table more than the CPU walks.
     */
    if (BUG_P4D_UNFOLDED && !m->root_level && top == 4)
        top = 5;
    for (unsigned int level = top; level > 1; level--) {
        pte_t *e = &m->table(table)[PT_INDEX(va, PAGE_SHIFT + 9 * (level - 1))];

        /*
         * Intermediate entries allow what any page below them needs (as
         * Linux's _PAGE_TABLE); the leaf decides.  A user page under a table
         * made for kernel pages first opens the way down: the CPU checks U at
         * every level.
         */
        if (!(*e & _PAGE_PRESENT)) {
            *e = m->new_table() | PTE_TABLE | (flags & _PAGE_USER);
            m->tables++;
        } else if ((flags & _PAGE_USER) && !(*e & _PAGE_USER)) {
            *e |= _PAGE_USER;
        }
        table = *e & PTE_ADDR_MASK;
    }
    m->table(table)[PT_INDEX(va, PAGE_SHIFT)] = (pa & PTE_ADDR_MASK) | flags;
    return 0;
}
