/*
 * binary.c - the compact binary form of a frame, for the server-side cache.
 *
 * JSON is the form a frame takes in the browser; in memcached or a cache
 * file a frame is stored as this instead: no number formatting, no
 * escaping, decoded with a few bounds checks and memcpy.  Everything is
 * little-endian and of fixed width, whatever the host:
 *
 *   offset  size  field
 *   0       4     magic "FCDF"
 *   4       2     format version (1)
 *   6       2     flags (0)
 *   8       8     rows
 *   16      4     columns
 *   20      1     index: 0 for a RangeIndex, else its type
 *   21      3     zero
 *   24            the index column, when there is one (body only)
 *   ...           each column: type (1 byte), name length (4), name (UTF-8),
 *                 body
 *
 *   body by type, for n rows:
 *     int64, datetime  n x 8 bytes (two's complement; NaT is INT64_MIN)
 *     float64          n x 8 bytes (IEEE 754 bits)
 *     bool             n x 1 byte: 0, 1, or 0xff for missing
 *     string           n x 4-byte lengths (0xffffffff for missing), then
 *                      the bytes of every string back to back
 *
 * The cache is shared and its bytes may be stale, truncated or forged, so
 * decoding trusts nothing: each length is checked against the bytes left
 * before anything is allocated (a few bytes of input cannot ask for a huge
 * allocation), counts against the FCD_FRAME_MAX_* limits, types and bools
 * against their ranges, strings against UTF-8, and no byte may be left over.
 * The version is bumped on any change of layout; an older reader refuses a
 * newer form rather than guess.  (The cache adds its own checksum.)
 */
#include <stdlib.h>
#include <string.h>

#include "frame/frame_int.h"

#define MAGIC "FCDF"
#define VERSION 1
#define HEADER 24
#define STR_MISSING 0xffffffffu
#define BOOL_MISSING 0xff

static void le16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
           (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
    return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_LE 1
#else
#define HOST_LE 0
#endif

/* n 8-byte values (int64 or double bits) out, little-endian. */
static void put_words(unsigned char *p, const void *values, size_t n)
{
    if (HOST_LE) {
        memcpy(p, values, n * 8);
    } else {
        const unsigned char *v = values;

        for (size_t i = 0; i < n; i++) {
            uint64_t w;

            memcpy(&w, v + 8 * i, 8);
            le64(p + 8 * i, w);
        }
    }
}

static void get_words(void *values, const unsigned char *p, size_t n)
{
    if (HOST_LE) {
        memcpy(values, p, n * 8);
    } else {
        unsigned char *v = values;

        for (size_t i = 0; i < n; i++) {
            uint64_t w = get64(p + 8 * i);

            memcpy(v + 8 * i, &w, 8);
        }
    }
}

/* The bytes a column's body takes (no overflow: n <= FCD_FRAME_MAX_ROWS
 * and a pool is an allocation). */
static size_t body_size(const struct fcd_frame_col *c, size_t n)
{
    switch (c->type) {
    case FCD_FRAME_BOOL:
        return n;
    case FCD_FRAME_STRING:
        return 4 * n + (c->v.off[n] - n); /* lengths, then bytes sans NULs */
    default:
        return 8 * n;
    }
}

static unsigned char *put_body(unsigned char *p, const struct fcd_frame_col *c,
                               size_t n)
{
    switch (c->type) {
    case FCD_FRAME_BOOL:
        for (size_t i = 0; i < n; i++)
            p[i] = c->v.b[i] == FCD_FRAME_BOOL_NA ? BOOL_MISSING
                                                  : (unsigned char)c->v.b[i];
        return p + n;
    case FCD_FRAME_STRING:
        for (size_t i = 0; i < n; i++)
            le32(p + 4 * i, c->na[i] ? STR_MISSING
                                     : (uint32_t)(c->v.off[i + 1] -
                                                  c->v.off[i] - 1));
        p += 4 * n;
        for (size_t i = 0; i < n; i++) {
            size_t len = c->v.off[i + 1] - c->v.off[i] - 1;

            memcpy(p, c->pool.data + c->v.off[i], len);
            p += len;
        }
        return p;
    default:
        put_words(p, c->v.any, n);
        return p + 8 * n;
    }
}

fcd_status_t fcd_frame_to_binary(const fcd_frame_t *f, fcd_frame_buf_t *out,
                                 fcd_frame_err_t *err)
{
    size_t total = HEADER, n;
    unsigned char *p;

    if (f == NULL || out == NULL) {
        frame_err(err, "no frame or no buffer");
        return FCD_ERROR;
    }
    n = f->nrows;
    if (f->index != NULL)
        total += body_size(f->index, n);
    for (size_t j = 0; j < f->ncols; j++) {
        size_t add = 5 + f->cols[j].name_len + body_size(&f->cols[j], n);

        if (add < f->cols[j].name_len || total + add < total) {
            frame_err(err, "frame too large");
            return FCD_ERROR;
        }
        total += add;
    }
    if (frame_buf_reserve(out, total) != 0) {
        FRAME_OOM(err);
        return FCD_ERROR;
    }
    p = (unsigned char *)out->data + out->len;
    memcpy(p, MAGIC, 4);
    le16(p + 4, VERSION);
    le16(p + 6, 0);
    le64(p + 8, n);
    le32(p + 16, (uint32_t)f->ncols);
    p[20] = f->index ? (unsigned char)f->index->type : 0;
    p[21] = p[22] = p[23] = 0;
    p += HEADER;
    if (f->index != NULL)
        p = put_body(p, f->index, n);
    for (size_t j = 0; j < f->ncols; j++) {
        const struct fcd_frame_col *c = &f->cols[j];

        *p++ = (unsigned char)c->type;
        le32(p, (uint32_t)c->name_len);
        memcpy(p + 4, c->name, c->name_len);
        p = put_body(p + 4 + c->name_len, c, n);
    }
    out->len += total;
    out->data[out->len] = '\0';
    return FCD_OK;
}

/* ---- Decoding ----------------------------------------------------------- */

struct in {
    const unsigned char *p;
    size_t left;
    fcd_frame_err_t *err;
    const unsigned char *start;
};

static int bad(struct in *in, const char *what)
{
    frame_err(in->err, "binary frame, at byte %zu: %s",
              (size_t)(in->p - in->start), what);
    return -1;
}

/* n bytes from the input, or NULL when fewer are left. */
static const unsigned char *take(struct in *in, size_t n)
{
    const unsigned char *p = in->p;

    if (n > in->left)
        return NULL;
    in->p += n;
    in->left -= n;
    return p;
}

static int read_body(struct in *in, struct fcd_frame_col *c, int type,
                     const char *name, size_t name_len, size_t n)
{
    const unsigned char *p;

    if (type < FCD_FRAME_INT64 || type > FCD_FRAME_DATETIME)
        return bad(in, "unknown column type");
    /* every body needs at least n bytes: check before allocating */
    if (n > in->left)
        return bad(in, "truncated column");
    if (frame_col_init(c, (fcd_frame_type_t)type, name, name_len, n) != 0) {
        FRAME_OOM(in->err);
        return -1;
    }
    switch (type) {
    case FCD_FRAME_BOOL:
        p = take(in, n);
        for (size_t i = 0; i < n; i++) {
            if (p[i] > 1 && p[i] != BOOL_MISSING)
                goto bad_bool;
            c->v.b[i] = p[i] == BOOL_MISSING ? FCD_FRAME_BOOL_NA
                                             : (signed char)p[i];
        }
        return 0;
    case FCD_FRAME_STRING: {
        const unsigned char *lens = n <= SIZE_MAX / 4 ? take(in, 4 * n) : NULL;
        size_t total = 0;

        if (lens == NULL)
            goto truncated;
        for (size_t i = 0; i < n; i++) {
            uint32_t len = get32(lens + 4 * i);

            if (len == STR_MISSING)
                len = 0;
            else if (len > FCD_FRAME_MAX_STRING)
                goto too_long;
            if (total + len + 1 < total)
                goto truncated;
            total += len + 1;
        }
        if (total - n > in->left)
            goto truncated;
        if (frame_buf_reserve(&c->pool, total) != 0) {
            frame_col_free(c);
            FRAME_OOM(in->err);
            return -1;
        }
        /* All the bytes checked at once (a memoized frame is decoded on
         * every cache hit); each string is then UTF-8 on its own exactly
         * when it starts a sequence, not in the middle of one. */
        p = take(in, total - n);
        if (!frame_utf8_valid((const char *)p, total - n))
            goto bad_utf8;
        for (size_t i = 0, at = 0; i < n; i++) {
            uint32_t len = get32(lens + 4 * i);
            bool missing = len == STR_MISSING;

            if (missing)
                len = 0;
            if (len > 0 && (p[0] & 0xc0) == 0x80)
                goto bad_utf8;
            memcpy(c->pool.data + at, p, len);
            p += len;
            at += len;
            c->pool.data[at++] = '\0';
            c->v.off[i + 1] = at;
            c->na[i] = missing;
            c->pool.len = at;
        }
        return 0;
    }
    default:
        if (n > SIZE_MAX / 8 || (p = take(in, 8 * n)) == NULL)
            goto truncated;
        get_words(c->v.any, p, n);
        return 0;
    }
bad_bool:
    frame_col_free(c);
    return bad(in, "bool neither 0, 1 nor missing");
truncated:
    frame_col_free(c);
    return bad(in, "truncated column");
too_long:
    frame_col_free(c);
    return bad(in, "string longer than FCD_FRAME_MAX_STRING");
bad_utf8:
    frame_col_free(c);
    return bad(in, "string is not UTF-8");
}

fcd_frame_t *fcd_frame_from_binary(const void *data, size_t len,
                                   fcd_frame_err_t *err)
{
    struct in in = {data, len, err, data};
    const unsigned char *h;
    uint64_t rows;
    size_t n, ncols;
    fcd_frame_t *f;

    if (data == NULL && len) {
        frame_err(err, "no data");
        return NULL;
    }
    if ((h = take(&in, HEADER)) == NULL) {
        bad(&in, "shorter than the header");
        return NULL;
    }
    if (memcmp(h, MAGIC, 4) != 0) {
        bad(&in, "not a binary frame (bad magic)");
        return NULL;
    }
    if ((h[4] | h[5] << 8) != VERSION || h[6] || h[7] || h[21] || h[22] ||
        h[23]) {
        bad(&in, "unknown version or flags");
        return NULL;
    }
    rows = get64(h + 8);
    ncols = get32(h + 16);
    if (rows > FCD_FRAME_MAX_ROWS || ncols > FCD_FRAME_MAX_COLS ||
        (ncols && rows > FCD_FRAME_MAX_CELLS / ncols)) {
        bad(&in, "more rows, columns or cells than the limits");
        return NULL;
    }
    n = (size_t)rows;
    if ((f = fcd_frame_new()) == NULL) {
        FRAME_OOM(err);
        return NULL;
    }
    f->nrows = f->cap = n;
    if (h[20] != 0) {
        struct fcd_frame_col c;

        if (read_body(&in, &c, h[20], NULL, 0, n) != 0)
            goto fail;
        if ((f->index = malloc(sizeof *f->index)) == NULL) {
            frame_col_free(&c);
            FRAME_OOM(err);
            goto fail;
        }
        *f->index = c;
    }
    for (size_t j = 0; j < ncols; j++) {
        const unsigned char *t = take(&in, 5), *name;
        struct fcd_frame_col c;
        uint32_t name_len;

        if (t == NULL) {
            bad(&in, "truncated column header");
            goto fail;
        }
        name_len = get32(t + 1);
        if (name_len > FCD_FRAME_MAX_STRING ||
            (name = take(&in, name_len)) == NULL) {
            bad(&in, "truncated or overlong column name");
            goto fail;
        }
        if (!frame_utf8_valid((const char *)name, name_len)) {
            bad(&in, "column name is not UTF-8");
            goto fail;
        }
        if (read_body(&in, &c, t[0], (const char *)name, name_len, n) != 0)
            goto fail;
        if (frame_add_built(f, &c) != 0) {
            FRAME_OOM(err);
            goto fail;
        }
    }
    if (in.left != 0) {
        bad(&in, "bytes left over after the last column");
        goto fail;
    }
    return f;
fail:
    fcd_frame_free(f);
    return NULL;
}
