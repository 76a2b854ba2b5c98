/* SPDX-License-Identifier: MIT */
/*
 * format.c - a small vsnprintf: %s %c %d %i %u %x %p %%, with the length
 * modifiers l, ll and z, a field width and the '0', '-' and '#' flags.  Output
 * is always NUL-terminated; the return value is the length it wanted.
 */
#include "lib/lib.h"

struct out {
    char *buf;
    size_t size, len;
};

static void put(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len] = c;
    o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
    int fill = width > (int)n ? width - (int)n : 0;

    if (!left)
        while (fill-- > 0)
            put(o, pad);
    while (n--)
        put(o, *s++);
    if (left)
        while (fill-- > 0)
            put(o, ' ');
}

/* prefix ("-" or "0x") goes before zero padding, after space padding. */
static void put_number(struct out *o, unsigned long long v, const char *prefix, unsigned int base,
                       int width, bool left, char pad)
{
    char tmp[24];
    int i = sizeof(tmp);
    size_t plen = strlen(prefix);

    do {
        tmp[--i] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (pad == '0' && !left) {
        while (*prefix)
            put(o, *prefix++);
        width -= (int)plen;
    } else {
        while (plen)
            tmp[--i] = prefix[--plen];
    }
    put_padded(o, tmp + i, sizeof(tmp) - i, width, left, pad);
}

int vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };

    for (; *fmt; fmt++) {
        bool left = false, alt = false;
        char pad = ' ';
        int width = 0, lng = 0;

        if (*fmt != '%') {
            put(&o, *fmt);
            continue;
        }
        fmt++;
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '#')
                alt = true;
            else if (*fmt == '0')
                pad = '0';
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        for (;; fmt++) {
            if (*fmt == 'l' || *fmt == 'z')
                lng++;
            else
                break;
        }

        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);

            if (!s)
                s = "(null)";
            put_padded(&o, s, strlen(s), width, left, ' ');
            break;
        }
        case 'c': {
            char c = (char)va_arg(ap, int);

            put_padded(&o, &c, 1, width, left, ' ');
            break;
        }
        case 'd':
        case 'i': {
            long long v = lng ? va_arg(ap, long) : va_arg(ap, int);

            put_number(&o, v < 0 ? -(unsigned long long)v : (unsigned long long)v,
                       v < 0 ? "-" : "", 10, width, left, pad);
            break;
        }
        case 'u':
        case 'x': {
            unsigned long long v = lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);

            put_number(&o, v, alt && *fmt == 'x' ? "0x" : "", *fmt == 'x' ? 16 : 10,
                       width, left, pad);
            break;
        }
        case 'p':
            put_number(&o, (unsigned long)va_arg(ap, void *), "0x", 16, width, left, pad);
            break;
        case '%':
            put(&o, '%');
            break;
        default:                /* unknown conversion: show it as written */
            put(&o, '%');
            if (*fmt)
                put(&o, *fmt);
            else
                fmt--;
            break;
        }
    }
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int format(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vformat(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
