/*
 * buf.c - growable byte buffer (see buf.h).  Capacity doubles; every size
 * computation is checked for overflow.
 */
#include "base/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fcd_buf_init(fcd_buf_t *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->failed = false;
}

void fcd_buf_reset(fcd_buf_t *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data != NULL)
        b->data[0] = '\0';
}

void fcd_buf_free(fcd_buf_t *b)
{
    free(b->data);
    fcd_buf_init(b);
}

int fcd_buf_reserve(fcd_buf_t *b, size_t extra)
{
    if (b->len + extra + 1 < b->len) {
        b->failed = true;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *d = realloc(b->data, cap);
    if (d == NULL) {
        b->failed = true;
        return -1;
    }
    b->data = d;
    b->cap = cap;
    return 0;
}

int fcd_buf_add(fcd_buf_t *b, const void *data, size_t len)
{
    if (fcd_buf_reserve(b, len) != 0)
        return -1;
    if (len > 0)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int fcd_buf_adds(fcd_buf_t *b, const char *s)
{
    return fcd_buf_add(b, s, strlen(s));
}

int fcd_buf_addc(fcd_buf_t *b, char c)
{
    return fcd_buf_add(b, &c, 1);
}

int fcd_buf_printf(fcd_buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || fcd_buf_reserve(b, (size_t)n) != 0) {
        b->failed = true;
        return -1;
    }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int fcd_buf_add_json_string(fcd_buf_t *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    if (fcd_buf_addc(b, '"') != 0)
        return -1;
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\' && c != '<')
            continue;
        fcd_buf_add(b, run, (size_t)(p - run));
        run = p + 1;
        switch (c) {
        case '"': fcd_buf_add(b, "\\\"", 2); break;
        case '\\': fcd_buf_add(b, "\\\\", 2); break;
        case '\n': fcd_buf_add(b, "\\n", 2); break;
        case '\r': fcd_buf_add(b, "\\r", 2); break;
        case '\t': fcd_buf_add(b, "\\t", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            fcd_buf_add(b, u, 6);
        }
        }
    }
    fcd_buf_adds(b, run);
    fcd_buf_addc(b, '"');
    return b->failed ? -1 : 0;
}
