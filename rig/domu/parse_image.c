/* SPDX-License-Identifier: MIT */
/*
 * parse_image.c - run a PV kernel image through libxenguest's own image
 * parser (the code `xl create` uses), with no hypervisor, and check what the
 * toolstack derives from its ELF notes.
 *
 *   parse_image [-v] IMAGE [KEY=VALUE ...]
 *
 * Prints one KEY=VALUE line per derived property, then checks each
 * KEY=VALUE given on the command line against it (hex numbers compare by
 * value, anything else as a string).  Exit 0: parsed and every expectation
 * holds; 1: an expectation failed; 2: libxenguest refused the image (its
 * errors are printed) or bad usage.
 *
 * Keys:
 *   guest_type        what the loader says the image is (xen-3.0-x86_64)
 *   loader            the loader that took it (ELF-generic, ...)
 *   virt_base elf_paddr_offset virt_kstart virt_kend virt_entry
 *                     libelf's address calculation (elf_xen_addr_calc_check)
 *   p2m_base          XEN_ELFNOTE_INIT_P2M as the builder will use it, or
 *                     "none" (UNSET_ADDR: the p2m list goes into the
 *                     initial mapping)
 *   init_p2m          1 if INIT_P2M is set, else 0
 *   mod_start_pfn     1 if XEN_ELFNOTE_MOD_START_PFN is set and nonzero
 *                     (libelf's unmapped_initrd: the ramdisk is handed over
 *                     by pfn, outside the initial mapping), else 0
 *   hypercall_page    the HYPERCALL_PAGE note, or "none"
 *   features          the FEATURES note, or "none"
 *   kernel_seg        the kernel segment the builder will allocate
 *   note.NAME         every note libelf reported, as it printed it
 *
 * The derived values are read from the parser's own detail log (libelf
 * prints every note it takes and the addresses it computed) and from the
 * public fields of struct xc_dom_image; struct elf_dom_parms itself is not
 * part of the installed headers.
 *
 * The interface is opened with XC_OPENFLAG_DUMMY (no /dev/xen, no Xen);
 * only the dom-builder logger is ours, to capture that log.  xen_caps is
 * filled in by hand, as xc_dom_boot_xen_init() would from Xen.
 *
 * Build: gcc -O2 -Wall -o parse_image parse_image.c -lxenguest -lxenctrl -lxentoollog
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenctrl.h>
#include <xenguest.h>
#include <xentoollog.h>

/* ------------------------------------------------------------ the log */

struct capture {
    xentoollog_logger vtable;
    char **lines;
    size_t n, cap;
    int errors;
};

static void capture_vmessage(xentoollog_logger *l, xentoollog_level level, int errnoval,
                             const char *context, const char *fmt, va_list al)
{
    struct capture *c = (struct capture *)l;
    char body[1024], line[1200];
    size_t len;

    vsnprintf(body, sizeof(body), fmt, al);
    len = strlen(body);
    while (len && (body[len - 1] == '\n' || body[len - 1] == '\r'))
        body[--len] = '\0';
    snprintf(line, sizeof(line), "%s%s%s%s%s", level >= XTL_ERROR ? "error: " : "",
             context ? context : "", context ? ": " : "", body,
             errnoval >= 0 && level >= XTL_ERROR ? ": " : "");
    if (errnoval >= 0 && level >= XTL_ERROR)
        strncat(line, strerror(errnoval), sizeof(line) - strlen(line) - 1);
    if (level >= XTL_ERROR)
        c->errors++;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 256;
        c->lines = realloc(c->lines, c->cap * sizeof(*c->lines));
        if (!c->lines) {
            perror("realloc");
            exit(2);
        }
    }
    c->lines[c->n++] = strdup(line);
}

static void capture_destroy(xentoollog_logger *l)
{
    (void)l;
}

/* ------------------------------------------------------------ results */

#define MAX_KV 64
static struct kv {
    char key[64];
    char val[256];
} kvs[MAX_KV];
static int nkv;

static void set(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set(const char *key, const char *fmt, ...)
{
    struct kv *e = NULL;
    va_list ap;

    for (int i = 0; i < nkv; i++)
        if (!strcmp(kvs[i].key, key))
            e = &kvs[i];
    if (!e) {
        if (nkv == MAX_KV)
            return;
        e = &kvs[nkv++];
        snprintf(e->key, sizeof(e->key), "%s", key);
    }
    va_start(ap, fmt);
    vsnprintf(e->val, sizeof(e->val), fmt, ap);
    va_end(ap);
}

static const char *get(const char *key)
{
    for (int i = 0; i < nkv; i++)
        if (!strcmp(kvs[i].key, key))
            return kvs[i].val;
    return NULL;
}

static char *trim(char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

/* Interpret the parser's detail log: notes, addresses, the loader. */
static void digest_log(const struct capture *c)
{
    const char *trying = NULL;

    for (size_t i = 0; i < c->n; i++) {
        char buf[1200], *l, *p, *eq;

        snprintf(buf, sizeof(buf), "%s", c->lines[i]);
        l = buf;
        if ((p = strstr(l, "trying ")) && strstr(l, " loader")) {
            static char name[128];
            char *end = strstr(p + 7, " loader");

            snprintf(name, sizeof(name), "%.*s", (int)(end - (p + 7)), p + 7);
            trying = name;
        } else if (strstr(l, "loader probe OK") && trying) {
            set("loader", "%s", trying);
        } else if ((p = strstr(l, "ELF: note: ")) && (eq = strstr(p, " = "))) {
            char key[80];

            *eq = '\0';
            snprintf(key, sizeof(key), "note.%s", trim(p + 11));
            p = trim(eq + 3);
            if (*p == '"') {            /* string notes are printed quoted */
                size_t n = strlen(p);

                p++;
                if (n >= 2 && p[n - 2] == '"')
                    p[n - 2] = '\0';
            }
            set(key, "%s", p);
        } else if ((p = strstr(l, ": ")) && (eq = strstr(p, " = "))) {
            /* "    virt_base        = 0x..." from the ELF: addresses: block */
            static const char *const addr_keys[] = {
                "virt_base", "elf_paddr_offset", "virt_offset", "virt_kstart",
                "virt_kend", "virt_entry", "p2m_base",
            };
            char *key;

            *eq = '\0';
            key = trim(p + 2);
            for (size_t k = 0; k < sizeof(addr_keys) / sizeof(addr_keys[0]); k++)
                if (!strcmp(key, addr_keys[k]))
                    set(key, "%s", trim(eq + 3));
        }
    }
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;

    if (!s || !*s)
        return 0;
    errno = 0;
    *v = strtoull(s, &end, 0);
    return !errno && !*end;
}

/* hex/decimal numbers compare by value, "none" only with "none". */
static int same(const char *want, const char *got)
{
    uint64_t a, b;

    if (!got)
        return 0;
    if (parse_u64(want, &a) && parse_u64(got, &b))
        return a == b;
    return !strcmp(want, got);
}

int main(int argc, char **argv)
{
    struct capture cap = { .vtable = { .vmessage = capture_vmessage, .destroy = capture_destroy } };
    struct xc_dom_image *dom;
    xc_interface *xch;
    const char *image;
    int verbose = 0, argi = 1, rc, failed = 0;
    uint64_t v;

    if (argi < argc && !strcmp(argv[argi], "-v")) {
        verbose = 1;
        argi++;
    }
    if (argi >= argc || argv[argi][0] == '-') {
        fprintf(stderr, "usage: %s [-v] IMAGE [KEY=VALUE ...]\n", argv[0]);
        return 2;
    }
    image = argv[argi++];

    xch = xc_interface_open(NULL, &cap.vtable, XC_OPENFLAG_DUMMY);
    if (!xch) {
        fprintf(stderr, "parse_image: xc_interface_open(XC_OPENFLAG_DUMMY) failed\n");
        return 2;
    }
    dom = xc_dom_allocate(xch, NULL, NULL);
    if (!dom) {
        fprintf(stderr, "parse_image: xc_dom_allocate failed\n");
        return 2;
    }
    /* What xc_dom_boot_xen_init() would read from a 64-bit Xen. */
    snprintf(dom->xen_caps, sizeof(dom->xen_caps), "%s", "xen-3.0-x86_64");
    dom->xen_version = (4 << 16) | 17;

    rc = xc_dom_kernel_file(dom, image);
    if (!rc)
        rc = xc_dom_parse_image(dom);

    if (verbose || rc)
        for (size_t i = 0; i < cap.n; i++)
            fprintf(rc ? stderr : stdout, "# %s\n", cap.lines[i]);
    if (rc) {
        fprintf(stderr, "parse_image: libxenguest refused %s (rc %d)\n", image, rc);
        for (size_t i = 0; i < cap.n; i++)
            if (!strncmp(cap.lines[i], "error: ", 7))
                fprintf(stderr, "parse_image: %s\n", cap.lines[i] + 7);
        xc_dom_release(dom);
        xc_interface_close(xch);
        return 2;
    }

    digest_log(&cap);
    set("image", "%s", image);
    set("guest_type", "%s", dom->guest_type ? dom->guest_type : "none");
    set("kernel_seg", "0x%" PRIx64 "-0x%" PRIx64, dom->kernel_seg.vstart, dom->kernel_seg.vend);
    if (parse_u64(get("p2m_base"), &v) && v == UINT64_MAX)
        set("p2m_base", "none");
    set("init_p2m", "%d", get("note.INIT_P2M") != NULL);
    set("mod_start_pfn", "%d", parse_u64(get("note.MOD_START_PFN"), &v) && v != 0);
    set("hypercall_page", "%s", get("note.HYPERCALL_PAGE") ? get("note.HYPERCALL_PAGE") : "none");
    set("features", "%s", get("note.FEATURES") ? get("note.FEATURES") : "none");

    for (int i = 0; i < nkv; i++)
        printf("%s=%s\n", kvs[i].key, kvs[i].val);

    for (; argi < argc; argi++) {
        char key[64];
        const char *eq = strchr(argv[argi], '='), *got;

        if (!eq || eq == argv[argi] || (size_t)(eq - argv[argi]) >= sizeof(key)) {
            fprintf(stderr, "parse_image: bad expectation '%s' (want KEY=VALUE)\n", argv[argi]);
            failed = 2;
            continue;
        }
        snprintf(key, sizeof(key), "%.*s", (int)(eq - argv[argi]), argv[argi]);
        got = get(key);
        if (!same(eq + 1, got)) {
            printf("FAIL %s: expected %s, got %s\n", key, eq + 1, got ? got : "(not derived)");
            if (!failed)
                failed = 1;
        } else {
            printf("ok %s=%s\n", key, eq + 1);
        }
    }
    xc_dom_release(dom);
    xc_interface_close(xch);
    return failed;
}
