/* SPDX-License-Identifier: MIT */
/*
 * traps_native.c - the IDT for the native platform (ring 0, no Xen): an
 * exception inside a probe resumes after it; any other is an ERROR that
 * names it, and the run ends (never a fault loop).
 */
#include "pvh/traps_native.h"
#include "pvh/pvh_defs.h"
#include "lib/result.h"

struct trap_frame {
    uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
    uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
};

extern const uint64_t trap_stubs[32];
unsigned long probe_resume;
long probe_vector = -1;

static struct idt_gate idt[32] __attribute__((aligned(16)));

void native_trap(struct trap_frame *f);
void native_trap(struct trap_frame *f)
{
    unsigned long cr2;

    if (probe_resume) {
        probe_vector = (long)f->vector;
        f->rip = probe_resume;
        probe_resume = 0;
        return;
    }
    asm volatile ("mov %%cr2, %0" : "=r" (cr2));
    result_error("exception %lu (error code %#lx) at rip %#lx, cr2 %#lx",
                 (unsigned long)f->vector, (unsigned long)f->error, (unsigned long)f->rip, cr2);
}

void traps_native_init(void)
{
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) desc = {
        sizeof(idt) - 1, (uint64_t)idt
    };

    for (unsigned int v = 0; v < 32; v++) {
        uint64_t a = trap_stubs[v];

        idt[v] = (struct idt_gate){ .off_lo = (uint16_t)a, .sel = GDT_CS, .type = 0x8e,
                                    .off_mid = (uint16_t)(a >> 16), .off_hi = (uint32_t)(a >> 32) };
    }
    asm volatile ("lidt %0" : : "m" (desc));
}
