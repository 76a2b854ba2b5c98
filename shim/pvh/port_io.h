/* SPDX-License-Identifier: MIT */
/* port_io.h - x86 port I/O and the control registers the native platform touches. */
#ifndef SHIM_PVH_PORT_IO_H
#define SHIM_PVH_PORT_IO_H

#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
    asm volatile ("outb %0, %1" : : "a" (v), "Nd" (port));
}

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;

    asm volatile ("inb %1, %0" : "=a" (v) : "Nd" (port));
    return v;
}

static inline void outl(uint16_t port, uint32_t v)
{
    asm volatile ("outl %0, %1" : : "a" (v), "Nd" (port));
}

static inline unsigned long read_cr4(void)
{
    unsigned long v;

    asm volatile ("mov %%cr4, %0" : "=r" (v));
    return v;
}

static inline unsigned long read_cr3(void)
{
    unsigned long v;

    asm volatile ("mov %%cr3, %0" : "=r" (v));
    return v;
}

static inline void write_cr3(unsigned long v)
{
    asm volatile ("mov %0, %%cr3" : : "r" (v) : "memory");
}

static inline void invlpg(unsigned long va)
{
    asm volatile ("invlpg (%0)" : : "r" (va) : "memory");
}

#endif
