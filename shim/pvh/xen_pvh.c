/* SPDX-License-Identifier: MIT */
/*
 * xen_pvh.c - under Xen, the PVH shim is an HVM guest without a device
 * model: it finds Xen's CPUID leaves (the signature "XenVMMXenVMM" at
 * 0x40000000, or 0x100 further on for each other hypervisor interface),
 * and writes the physical address of a page to the MSR leaf base+2 names;
 * Xen fills it with one 32-byte stub per hypercall (vmcall or vmmcall, as
 * the CPU wants).  Hypercall N is a call to page + 32 * N.
 */
#include "pvh/xen_pvh.h"
#include "lib/lib.h"

bool on_xen;

/* In the text segment: the shim's own tables map it executable. */
extern char hypercall_page[];
asm (".pushsection .text.hypercall_page, \"ax\"\n"
     ".balign 4096\n"
     ".globl hypercall_page\n"
     "hypercall_page: .skip 4096, 0xcc\n"      /* int3 until Xen fills it */
     ".popsection");

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    asm volatile ("cpuid" : "=a" (*a), "=b" (*b), "=c" (*c), "=d" (*d) : "a" (leaf), "c" (0));
}

bool xen_pvh_init(void)
{
    for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
        uint32_t a, sig[3];

        cpuid(base, &a, &sig[0], &sig[1], &sig[2]);
        if (memcmp(sig, "XenVMMXenVMM", 12) || a < base + 2)
            continue;
        cpuid(base + 2, &a, &sig[0], &sig[1], &sig[2]);
        /* sig[0] (ebx): the MSR; the page's physical address: its kernel-map address less the base. */
        unsigned long pa = (unsigned long)hypercall_page - 0xffffffff80000000UL;

        asm volatile ("wrmsr" : : "c" (sig[0]), "a" ((uint32_t)pa), "d" ((uint32_t)(pa >> 32)));
        on_xen = true;
        return true;
    }
    return false;
}

long xen_pvh_hypercall(unsigned int nr, unsigned long a1, unsigned long a2, unsigned long a3)
{
    register unsigned long rdi asm ("rdi") = a1;
    register unsigned long rsi asm ("rsi") = a2;
    register unsigned long rdx asm ("rdx") = a3;
    long rax;

    asm volatile ("call *%[stub]"
                  : "=a" (rax), "+r" (rdi), "+r" (rsi), "+r" (rdx)
                  : [stub] "r" (hypercall_page + nr * 32)
                  : "rcx", "r8", "r9", "r10", "r11", "memory");
    return rax;
}
