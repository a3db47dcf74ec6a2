/*
 * buf.h - a growable byte buffer.
 *
 * Used for response bodies and headers.  A worker keeps one buffer per use
 * and resets it per request, so its capacity stays warm.  Appends report
 * out-of-memory through the return value and through `failed`, so a run of
 * appends can be checked once at the end.
 */
#ifndef FCD_BUF_H
#define FCD_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct fcd_buf {
    char *data;  /* NUL-terminated when len > 0 or after any append */
    size_t len;
    size_t cap;
    bool failed; /* an append ran out of memory since the last reset */
} fcd_buf_t;

void fcd_buf_init(fcd_buf_t *b);
void fcd_buf_reset(fcd_buf_t *b); /* len 0, keeps capacity */
void fcd_buf_free(fcd_buf_t *b);
int fcd_buf_reserve(fcd_buf_t *b, size_t extra);
int fcd_buf_add(fcd_buf_t *b, const void *data, size_t len);
int fcd_buf_adds(fcd_buf_t *b, const char *s);
int fcd_buf_addc(fcd_buf_t *b, char c);
int fcd_buf_printf(fcd_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* s as a JSON string literal, quotes included; '<' written as \u003c so the
 * text is safe inside a <script> element. */
int fcd_buf_add_json_string(fcd_buf_t *b, const char *s);

#endif
