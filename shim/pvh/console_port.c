/* SPDX-License-Identifier: MIT */
/*
 * console_port.c - the native console: every byte goes to port 0xE9 (QEMU's
 * -debugcon, which the rig reads) and to COM1 (a serial line, for a human).
 */
#include "console.h"
#include "lib.h"
#include "pvh/port_io.h"

#define DEBUGCON    0xe9
#define COM1        0x3f8

static bool com1_ready;

static void com1_init(void)
{
    outb(COM1 + 1, 0x00);       /* no interrupts */
    outb(COM1 + 3, 0x80);       /* DLAB */
    outb(COM1 + 0, 0x01);       /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03);       /* 8N1 */
    com1_ready = true;
}

static void com1_put(char c)
{
    for (unsigned int spin = 0; spin < 100000 && !(inb(COM1 + 5) & 0x20); spin++)
        ;
    outb(COM1, (uint8_t)c);
}

void console_write(const char *s, size_t len)
{
    if (!com1_ready)
        com1_init();
    for (size_t i = 0; i < len; i++) {
        outb(DEBUGCON, (uint8_t)s[i]);
        if (s[i] == '\n')
            com1_put('\r');
        com1_put(s[i]);
    }
}

void console_flush(void)
{
}

void vprintk(const char *fmt, va_list ap)
{
    char buf[256];
    int n = vformat(buf, sizeof(buf), fmt, ap);

    console_write(buf, n < (int)sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void printk(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vprintk(fmt, ap);
    va_end(ap);
}
