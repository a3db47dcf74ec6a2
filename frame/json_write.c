/*
 * json_write.c - a frame as the JSON text pandas' to_json writes.
 *
 * The text must be the same bytes pandas 1.5 writes, so that a Store
 * filled by fcdash reads like one filled by Dash and answers can be
 * compared byte for byte.  What pandas does (and so what this does):
 *   - no spaces; keys in column order; split: "columns", "index", "data";
 *   - int64 in decimal; float64 by ujson's rule (frame_fmt_pandas_double);
 *     NaN, +-inf and missing values as null; bools as true/false;
 *   - strings ASCII-only: '"' '\\' '/' escaped with a backslash, \b \f \n
 *     \r \t by name, other control characters and everything past 0x7e
 *     except DEL as \u00xx or, past the BMP, a surrogate pair (lowercase
 *     hex); DEL (0x7f) is written as it is;
 *   - datetimes as milliseconds since the epoch (truncated toward zero) or,
 *     with FCD_FRAME_ISO_DATES, "YYYY-MM-DDTHH:MM:SS.mmm" (rounded down);
 *     NaT as null;
 *   - orient='columns' keys are the labels' text: numbers as str() shows
 *     them, datetimes as above with NaT as "null", missing strings and bools
 *     as "None".
 *
 * This is the hot path of a Store round trip, so it writes straight into
 * the buffer: one reserve per cell for the worst case, then unchecked
 * writes; no tree, no per-cell allocation.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame/frame_int.h"

/* Room for any scalar but a string: a pandas double is at most 32 bytes,
 * a quoted ISO date 25. */
#define CELL_MAX 40

/* What each byte is inside a JSON string pandas writes: copied as it is
 * (0), the NUL that ends a string in a column's pool (1), or escaped (2).
 * A table, because strings are scanned byte by byte. */
enum { BYTE_PLAIN = 0, BYTE_NUL = 1, BYTE_ESCAPED = 2 };
static const unsigned char byte_class[256] = {
    [0] = BYTE_NUL,
    [0x01 ... 0x1f] = BYTE_ESCAPED,
    ['"'] = BYTE_ESCAPED,
    ['/'] = BYTE_ESCAPED,
    ['\\'] = BYTE_ESCAPED,
    [0x80 ... 0xff] = BYTE_ESCAPED,
};

/* Bytes copied as they are inside a JSON string. */
static bool plain(unsigned char c)
{
    return byte_class[c] == BYTE_PLAIN;
}

/* Room for n more bytes (and the NUL): the common case inline, since
 * this runs once per cell. */
static inline int room(fcd_frame_buf_t *b, size_t n)
{
    return b->cap - b->len > n ? 0 : frame_buf_reserve(b, n);
}

/* A JSON string, and room for `slack` bytes after it.  Worst case six
 * bytes out for each byte in (a control character as \u00xx), so that
 * much is reserved up front and the copy runs unchecked. */
static int put_string(fcd_frame_buf_t *b, const char *s, size_t n, size_t slack)
{
    const unsigned char *u = (const unsigned char *)s, *end = u + n;
    char *p;

    if (n > (SIZE_MAX - 2 - slack) / 6 || room(b, 6 * n + 2 + slack) != 0)
        return -1;
    p = b->data + b->len;
    *p++ = '"';
    while (u < end) {
        const unsigned char *run = u;
        unsigned c;

        while (u < end && plain(*u))
            u++;
        memcpy(p, run, (size_t)(u - run));
        p += u - run;
        if (u == end)
            break;
        c = *u++;
        if (c < 0x80) {
            p = frame_put_json_escape(p, c);
            continue;
        }
        /* Frames hold only valid UTF-8 (checked on the way in). */
        {
            uint32_t cp;
            size_t more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;

            if ((size_t)(end - u) < more)
                return -1;
            cp = c & (0x3f >> more);
            for (size_t i = 0; i < more; i++)
                cp = cp << 6 | (*u++ & 0x3f);
            p = frame_put_json_u(p, cp);
        }
    }
    *p++ = '"';
    b->len = (size_t)(p - b->data);
    return 0;
}

static char *put_lit(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

/* A non-string cell (CELL_MAX bytes reserved). */
static char *put_scalar(char *p, const struct fcd_frame_col *c, size_t row,
                        unsigned flags)
{
    switch (c->type) {
    case FCD_FRAME_INT64:
        return p + frame_fmt_int(p, c->v.i64[row]);
    case FCD_FRAME_FLOAT64: {
        double v = c->v.f64[row];

        if (!isfinite(v))
            return put_lit(p, "null", 4);
        return p + frame_fmt_pandas_double(p, v);
    }
    case FCD_FRAME_BOOL:
        if (c->v.b[row] == FCD_FRAME_BOOL_NA)
            return put_lit(p, "null", 4);
        return c->v.b[row] ? put_lit(p, "true", 4) : put_lit(p, "false", 5);
    case FCD_FRAME_DATETIME: {
        int64_t ns = c->v.i64[row];

        if (ns == FCD_FRAME_NAT)
            return put_lit(p, "null", 4);
        if (!(flags & FCD_FRAME_ISO_DATES))
            return p + frame_fmt_int(p, frame_ns_to_epoch_ms(ns));
        *p++ = '"';
        p += frame_fmt_iso_ms(p, ns);
        *p++ = '"';
        return p;
    }
    case FCD_FRAME_STRING:
        break;
    }
    return p;
}

/* The longest a row's cells can be without their strings, with commas
 * and brackets (bounded: FCD_FRAME_MAX_COLS columns). */
static size_t row_room(const fcd_frame_t *f)
{
    return 4 + (f->ncols + 1) * (CELL_MAX + 1);
}

/* Strings up to this long are copied as one fixed-size move when the
 * pool has that many bytes from the string on (it always has but for the
 * last few strings); a cell's CELL_MAX + 1 bytes of room cover the move. */
#define SHORT_COPY 16

/* Cell `row` of string column c at *p, as put_cell, with room for `slack`
 * bytes after it.  Most strings need no escaping: those are checked with
 * one table look-up a byte and copied whole between quotes; the others go
 * through put_string. */
static int put_str_cell(fcd_frame_buf_t *b, char **p,
                        const struct fcd_frame_col *c, size_t row,
                        size_t slack)
{
    size_t at = c->v.off[row], n = c->v.off[row + 1] - at - 1;
    const unsigned char *s = (const unsigned char *)c->pool.data + at;
    unsigned seen = 0;
    char *q = *p;

    if (c->na[row]) {
        *p = put_lit(q, "null", 4);
        return 0;
    }
    for (size_t k = 0; k < n; k++)
        seen |= byte_class[s[k]];
    /* a plain string that fits a scalar's room needs no reserve */
    if (seen != BYTE_PLAIN || n > CELL_MAX - 2) {
        b->len = (size_t)(q - b->data);
        if (put_string(b, (const char *)s, n, slack) != 0)
            return -1;
        *p = b->data + b->len;
        return 0;
    }
    *q++ = '"';
    if (n <= SHORT_COPY && c->pool.cap - at >= SHORT_COPY)
        memcpy(q, s, SHORT_COPY);
    else
        memcpy(q, s, n);
    q += n;
    *q++ = '"';
    *p = q;
    return 0;
}

/* Cell (c, row) at b->data + *at, with room for `slack` more bytes after
 * it; strings may move the buffer, so the position travels as an offset. */
static int put_cell(fcd_frame_buf_t *b, char **p, const struct fcd_frame_col *c,
                    size_t row, unsigned flags, size_t slack)
{
    if (c->type == FCD_FRAME_STRING)
        return put_str_cell(b, p, c, row, slack);
    *p = put_scalar(*p, c, row, flags);
    return 0;
}

/* The RangeIndex 0, 1, 2, ... as text: a decimal counter stepped in place
 * costs a few instructions a row where formatting each number costs tens.
 * The digits are d[first..RANGE_END); the bytes after them stay zero so
 * that the counter is copied as one fixed-size move. */
#define RANGE_END 24
struct range_text {
    char d[RANGE_END + RANGE_END];
    size_t first;
};

static void range_start(struct range_text *t)
{
    memset(t->d, 0, sizeof t->d);
    t->first = RANGE_END - 1;
    t->d[t->first] = '0';
}

static void range_step(struct range_text *t)
{
    size_t i = RANGE_END - 1;

    /* FCD_FRAME_MAX_ROWS has 8 digits: the carry never runs out of room */
    while (t->d[i] == '9') {
        t->d[i] = '0';
        if (i == t->first)
            t->d[--t->first] = '0';
        i--;
    }
    t->d[i]++;
}

/* Copies RANGE_END bytes (room for CELL_MAX + 1 is reserved), keeps the
 * digits. */
static char *put_range(char *p, const struct range_text *t)
{
    memcpy(p, t->d + t->first, RANGE_END);
    return p + (RANGE_END - t->first);
}

/* After this many rows of "data" encode_split has a fair idea of a row's
 * length, and reserves the rest at once instead of growing by doubling
 * (each doubling copies the whole text; at 10 MB that is noticeable). */
#define SAMPLE_ROWS 256

static void reserve_rest(fcd_frame_buf_t *b, size_t data_start, size_t rows,
                         size_t rest, size_t slack)
{
    size_t per_row = (b->len - data_start) / rows + 1, want;

    if (rest > SIZE_MAX / 4 / per_row)
        return;
    /* an eighth more for rows a little longer than the sample's; a
     * failure is no error here: the rows reserve their own room anyway */
    want = per_row * rest;
    (void)frame_buf_reserve(b, want + want / 8 + slack);
}

static int encode_split(const fcd_frame_t *f, unsigned flags,
                        fcd_frame_buf_t *b)
{
    size_t slack = row_room(f), data_start;
    struct range_text range;
    char *p;

    if (frame_buf_put(b, "{\"columns\":[", 12) != 0)
        return -1;
    for (size_t j = 0; j < f->ncols; j++) {
        if (j && frame_buf_put(b, ",", 1) != 0)
            return -1;
        if (put_string(b, f->cols[j].name, f->cols[j].name_len, 0) != 0)
            return -1;
    }
    if (frame_buf_put(b, "],\"index\":[", 11) != 0)
        return -1;
    range_start(&range);
    for (size_t i = 0; i < f->nrows; i++) {
        if (room(b, CELL_MAX + 1) != 0)
            return -1;
        p = b->data + b->len;
        if (i)
            *p++ = ',';
        if (f->index == NULL) {
            p = put_range(p, &range);
            range_step(&range);
        } else if (put_cell(b, &p, f->index, i, flags, 1) != 0) {
            return -1;
        }
        b->len = (size_t)(p - b->data);
    }
    if (frame_buf_put(b, "],\"data\":[", 10) != 0)
        return -1;
    data_start = b->len;
    for (size_t i = 0; i < f->nrows; i++) {
        if (i == SAMPLE_ROWS && f->nrows > 2 * SAMPLE_ROWS)
            reserve_rest(b, data_start, i, f->nrows - i, slack);
        /* the row's fixed-width part fits; each string reserves its own
         * bytes plus that much again */
        if (room(b, slack) != 0)
            return -1;
        p = b->data + b->len;
        if (i)
            *p++ = ',';
        *p++ = '[';
        for (size_t j = 0; j < f->ncols; j++) {
            const struct fcd_frame_col *c = &f->cols[j];

            if (j)
                *p++ = ',';
            /* the two commonest types without put_cell's call */
            if (c->type == FCD_FRAME_FLOAT64 && isfinite(c->v.f64[i]))
                p += frame_fmt_pandas_double(p, c->v.f64[i]);
            else if (c->type == FCD_FRAME_INT64)
                p += frame_fmt_int(p, c->v.i64[i]);
            else if (put_cell(b, &p, c, i, flags, slack) != 0)
                return -1;
        }
        *p++ = ']';
        b->len = (size_t)(p - b->data);
    }
    return frame_buf_put(b, "]}", 2);
}

/* The orient='columns' key of row i (quotes included) appended to b.
 * Numbers and dates need no escaping, so they go straight in. */
static int put_key(fcd_frame_buf_t *b, const fcd_frame_t *f, size_t row,
                   unsigned flags)
{
    const struct fcd_frame_col *c = f->index;
    char *p;

    if (c != NULL && c->type == FCD_FRAME_STRING) {
        size_t at = c->v.off[row];

        if (c->na[row])
            return frame_buf_put(b, "\"None\"", 6);
        return put_string(b, c->pool.data + at, c->v.off[row + 1] - at - 1, 0);
    }
    if (room(b, CELL_MAX + 2) != 0)
        return -1;
    p = b->data + b->len;
    *p++ = '"';
    if (c == NULL) {
        p += frame_fmt_int(p, (int64_t)row);
    } else {
        switch (c->type) {
        case FCD_FRAME_FLOAT64:
            p += frame_fmt_repr(p, c->v.f64[row]);
            break;
        case FCD_FRAME_BOOL:
            p = c->v.b[row] == FCD_FRAME_BOOL_NA ? put_lit(p, "None", 4)
                : c->v.b[row]                    ? put_lit(p, "True", 4)
                                                 : put_lit(p, "False", 5);
            break;
        case FCD_FRAME_DATETIME:
            if (c->v.i64[row] == FCD_FRAME_NAT)
                p = put_lit(p, "null", 4);
            else if (flags & FCD_FRAME_ISO_DATES)
                p += frame_fmt_iso_ms(p, c->v.i64[row]);
            else
                p += frame_fmt_int(p, frame_ns_to_epoch_ms(c->v.i64[row]));
            break;
        default:
            p += frame_fmt_int(p, c->v.i64[row]);
            break;
        }
    }
    *p++ = '"';
    b->len = (size_t)(p - b->data);
    return 0;
}

/* Whether the texts keys[off[i]..off[i+1]) are all different. */
static int all_different(const char *const *base, const size_t *off, size_t n,
                         bool *different)
{
    struct frame_strset set;
    int rc = 0;

    *different = true;
    if (frame_strset_init(&set, base, n) != 0)
        return -1;
    for (size_t i = 0; i < n && *different; i++) {
        bool added;

        if (frame_strset_add(&set, off[i], off[i + 1] - off[i], &added) ==
            (size_t)-1) {
            rc = -1;
            break;
        }
        *different = added;
    }
    frame_strset_free(&set);
    return rc;
}

/* Keys up to this long are copied as one fixed-size move; the keys
 * buffer keeps that much slack at its end so the move never reads past
 * it. */
#define SHORT_KEY 16

/* Render every key (n = rows, or columns when `names`) into keys, with
 * their offsets, and check that none repeats. */
static int render_keys(const fcd_frame_t *f, bool names, unsigned flags,
                       fcd_frame_buf_t *keys, size_t **offp,
                       fcd_frame_err_t *err)
{
    size_t n = names ? f->ncols : f->nrows, *off;
    bool different;

    if ((off = malloc((n + 1) * sizeof *off)) == NULL)
        goto oom;
    *offp = off;
    for (size_t i = 0; i < n; i++) {
        off[i] = keys->len;
        if (names ? put_string(keys, f->cols[i].name, f->cols[i].name_len, 0)
                  : put_key(keys, f, i, flags))
            goto oom;
    }
    off[n] = keys->len;
    if (room(keys, SHORT_KEY) != 0)
        goto oom;
    memset(keys->data + keys->len, 0, SHORT_KEY);
    if ((names || f->index != NULL) &&
        all_different((const char *const *)&keys->data, off, n, &different) != 0)
        goto oom;
    if ((names || f->index != NULL) && !different) {
        /* pandas: "DataFrame index must be unique for orient='columns'." */
        frame_err(err, "DataFrame %s must be unique for orient='columns'",
                  names ? "columns" : "index");
        return -2;
    }
    return 0;
oom:
    FRAME_OOM(err);
    return -1;
}

static int encode_columns(const fcd_frame_t *f, unsigned flags,
                          fcd_frame_buf_t *b, fcd_frame_err_t *err)
{
    fcd_frame_buf_t keys = FCD_FRAME_BUF_INIT, names = FCD_FRAME_BUF_INIT;
    size_t *koff = NULL, *noff = NULL;
    int rc;

    /* Without columns the keys are never written, but pandas still refuses
     * a repeated index. */
    if ((rc = render_keys(f, true, flags, &names, &noff, err)) != 0 ||
        ((f->ncols || f->index) &&
         (rc = render_keys(f, false, flags, &keys, &koff, err)) != 0))
        goto out;
    rc = -1;
    if (frame_buf_put(b, "{", 1) != 0)
        goto oom;
    for (size_t j = 0; j < f->ncols; j++) {
        const struct fcd_frame_col *c = &f->cols[j];
        size_t nlen = noff[j + 1] - noff[j];
        char *p;

        if (room(b, nlen + 3) != 0)
            goto oom;
        p = b->data + b->len;
        if (j)
            *p++ = ',';
        memcpy(p, names.data + noff[j], nlen);
        p += nlen;
        *p++ = ':';
        *p++ = '{';
        b->len = (size_t)(p - b->data);
        for (size_t i = 0; i < f->nrows; i++) {
            size_t klen = koff[i + 1] - koff[i];
            size_t slack = klen + SHORT_KEY + 2 + CELL_MAX;

            if (room(b, slack) != 0)
                goto oom;
            p = b->data + b->len;
            if (i)
                *p++ = ',';
            if (klen <= SHORT_KEY)
                memcpy(p, keys.data + koff[i], SHORT_KEY);
            else
                memcpy(p, keys.data + koff[i], klen);
            p += klen;
            *p++ = ':';
            if (put_cell(b, &p, c, i, flags, 0) != 0)
                goto oom;
            b->len = (size_t)(p - b->data);
        }
        if (frame_buf_put(b, "}", 1) != 0)
            goto oom;
    }
    if (frame_buf_put(b, "}", 1) != 0)
        goto oom;
    rc = 0;
    goto out;
oom:
    FRAME_OOM(err);
out:
    free(koff);
    free(noff);
    fcd_frame_buf_free(&keys);
    fcd_frame_buf_free(&names);
    return rc;
}

fcd_status_t fcd_frame_to_json(const fcd_frame_t *f, fcd_frame_orient_t orient,
                               unsigned flags, fcd_frame_buf_t *out,
                               fcd_frame_err_t *err)
{
    size_t start;
    int rc;

    if (f == NULL || out == NULL) {
        frame_err(err, "no frame or no buffer");
        return FCD_ERROR;
    }
    start = out->len;
    if (orient == FCD_FRAME_SPLIT) {
        rc = encode_split(f, flags, out);
        if (rc != 0)
            FRAME_OOM(err);
    } else if (orient == FCD_FRAME_COLUMNS) {
        rc = encode_columns(f, flags, out, err);
    } else {
        frame_err(err, "unknown orient %d", (int)orient);
        return FCD_ERROR;
    }
    if (rc != 0) {
        frame_buf_truncate(out, start);
        return FCD_ERROR;
    }
    out->data[out->len] = '\0';
    return FCD_OK;
}
