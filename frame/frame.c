/*
 * frame.c - building, reading and selecting rows of a frame.
 *
 * The layout is in frame_int.h.  Columns grow together: the frame's `cap`
 * is the room every column has, doubled when a row does not fit, so
 * appending n rows costs O(n) copies.  Every change checks its sizes
 * before it writes, so a failed call (bad input or no memory) leaves the
 * frame as it was: a row is appended whole or not at all.
 *
 * Out of memory: every allocation is checked, and the caller gets
 * FCD_ERROR with "out of memory" (or NULL for a new frame); nothing aborts.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame/frame_int.h"

void frame_err(fcd_frame_err_t *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
}

/* ---- Buffers ------------------------------------------------------------ */

int frame_buf_reserve(fcd_frame_buf_t *b, size_t extra)
{
    size_t need = b->len + extra, cap;
    char *p;

    /* + 1 for the NUL kept after the text */
    if (need < b->len || need + 1 < need)
        return -1;
    need++;
    if (need <= b->cap)
        return 0;
    cap = b->cap < 256 ? 256 : b->cap;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    p = realloc(b->data, cap);
    if (p == NULL)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int frame_buf_put(fcd_frame_buf_t *b, const void *p, size_t n)
{
    if (frame_buf_reserve(b, n) != 0)
        return -1;
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void frame_buf_truncate(fcd_frame_buf_t *b, size_t len)
{
    b->len = len;
    if (b->data != NULL)
        b->data[len] = '\0';
}

void fcd_frame_buf_free(fcd_frame_buf_t *buf)
{
    if (buf == NULL)
        return;
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

/* ---- Columns ------------------------------------------------------------ */

static size_t type_width(fcd_frame_type_t type)
{
    switch (type) {
    case FCD_FRAME_INT64:
    case FCD_FRAME_DATETIME:
        return sizeof(int64_t);
    case FCD_FRAME_FLOAT64:
        return sizeof(double);
    case FCD_FRAME_BOOL:
        return sizeof(signed char);
    case FCD_FRAME_STRING:
        return sizeof(size_t);
    }
    return 0;
}

static bool type_valid(int type)
{
    return type >= FCD_FRAME_INT64 && type <= FCD_FRAME_DATETIME;
}

/* Room for `cap` rows in the value arrays of c (never shrinks). */
static int col_grow(struct fcd_frame_col *c, size_t cap)
{
    size_t w = type_width(c->type), n = cap;
    void *p;

    if (c->type == FCD_FRAME_STRING && ++n == 0)
        return -1;
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX / w)
        return -1;
    p = realloc(c->v.any, n * w);
    if (p == NULL)
        return -1;
    c->v.any = p;
    if (c->type == FCD_FRAME_STRING) {
        p = realloc(c->na, cap ? cap : 1);
        if (p == NULL)
            return -1;
        c->na = p;
    }
    return 0;
}

int frame_col_init(struct fcd_frame_col *c, fcd_frame_type_t type,
                   const char *name, size_t name_len, size_t cap)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    if (name != NULL) {
        if (name_len + 1 == 0 || (c->name = malloc(name_len + 1)) == NULL)
            return -1;
        memcpy(c->name, name, name_len);
        c->name[name_len] = '\0';
        c->name_len = name_len;
    }
    if (col_grow(c, cap) != 0) {
        frame_col_free(c);
        return -1;
    }
    if (type == FCD_FRAME_STRING)
        c->v.off[0] = 0;
    return 0;
}

void frame_col_free(struct fcd_frame_col *c)
{
    free(c->name);
    free(c->v.any);
    free(c->na);
    fcd_frame_buf_free(&c->pool);
    memset(c, 0, sizeof *c);
}

int frame_col_put_str(struct fcd_frame_col *c, size_t row, const char *s,
                      size_t n, bool missing)
{
    if (frame_buf_put(&c->pool, s, n) != 0)
        return -1;
    c->pool.len++; /* keep the NUL frame_buf_put wrote after it */
    c->v.off[row + 1] = c->pool.len;
    c->na[row] = missing;
    return 0;
}

const struct fcd_frame_col *frame_col(const fcd_frame_t *f, size_t col)
{
    if (f == NULL)
        return NULL;
    if (col == FCD_FRAME_INDEX)
        return f->index;
    return col < f->ncols ? &f->cols[col] : NULL;
}

static bool writable(const fcd_frame_t *f, fcd_frame_err_t *err)
{
    if (f == NULL) {
        frame_err(err, "no frame");
        return false;
    }
    if (f->packed) {
        frame_err(err, "the frame is packed (read-only)");
        return false;
    }
    return true;
}

/* Room for one more entry in f->cols. */
static int cols_reserve(fcd_frame_t *f, fcd_frame_err_t *err)
{
    struct fcd_frame_col *p;
    size_t cap;

    if (f->ncols >= FCD_FRAME_MAX_COLS) {
        frame_err(err, "more than %zu columns", (size_t)FCD_FRAME_MAX_COLS);
        return -1;
    }
    if (f->ncols < f->colcap)
        return 0;
    cap = f->colcap ? f->colcap * 2 : 8;
    p = realloc(f->cols, cap * sizeof *p);
    if (p == NULL) {
        FRAME_OOM(err);
        return -1;
    }
    f->cols = p;
    f->colcap = cap;
    return 0;
}

int frame_add_built(fcd_frame_t *f, struct fcd_frame_col *c)
{
    if (cols_reserve(f, NULL) != 0) {
        frame_col_free(c);
        return -1;
    }
    f->cols[f->ncols++] = *c;
    return 0;
}

/* ---- Building ----------------------------------------------------------- */

fcd_frame_t *fcd_frame_new(void)
{
    return calloc(1, sizeof(fcd_frame_t));
}

void fcd_frame_free(fcd_frame_t *f)
{
    if (f == NULL || f->packed)
        return;
    for (size_t i = 0; i < f->ncols; i++)
        frame_col_free(&f->cols[i]);
    free(f->cols);
    if (f->index != NULL) {
        frame_col_free(f->index);
        free(f->index);
    }
    free(f);
}

static bool check_name(const char *name, fcd_frame_err_t *err)
{
    size_t n;

    if (name == NULL) {
        frame_err(err, "a column needs a name");
        return false;
    }
    n = strlen(name);
    if (n > FCD_FRAME_MAX_STRING || !frame_utf8_valid(name, n)) {
        frame_err(err, "column name is not UTF-8 or too long");
        return false;
    }
    return true;
}

fcd_status_t fcd_frame_add_column(fcd_frame_t *f, const char *name,
                                  fcd_frame_type_t type, fcd_frame_err_t *err)
{
    struct fcd_frame_col c;

    if (!writable(f, err) || !check_name(name, err))
        return FCD_ERROR;
    if (!type_valid((int)type)) {
        frame_err(err, "column '%s': unknown type %d", name, (int)type);
        return FCD_ERROR;
    }
    if (f->nrows != 0) {
        frame_err(err, "column '%s': add empty columns before the rows", name);
        return FCD_ERROR;
    }
    if (cols_reserve(f, err) != 0)
        return FCD_ERROR;
    if (frame_col_init(&c, type, name, strlen(name), f->cap) != 0) {
        FRAME_OOM(err);
        return FCD_ERROR;
    }
    f->cols[f->ncols++] = c;
    return FCD_OK;
}

/* Room for `need` rows in every column and the index. */
static int frame_reserve_rows(fcd_frame_t *f, size_t need)
{
    size_t cap;

    if (need <= f->cap)
        return 0;
    cap = f->cap < 16 ? 16 : f->cap;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    for (size_t i = 0; i < f->ncols; i++)
        if (col_grow(&f->cols[i], cap) != 0)
            return -1;
    if (f->index != NULL && col_grow(f->index, cap) != 0)
        return -1;
    f->cap = cap;
    return 0;
}

fcd_status_t fcd_frame_append_row(fcd_frame_t *f, const fcd_frame_value_t *cells,
                                  size_t n, fcd_frame_err_t *err)
{
    size_t row;

    if (!writable(f, err))
        return FCD_ERROR;
    if (n != f->ncols || (n && cells == NULL)) {
        frame_err(err, "row of %zu cells for %zu columns", n, f->ncols);
        return FCD_ERROR;
    }
    if (f->index != NULL) {
        frame_err(err, "the frame has an explicit index: append rows first");
        return FCD_ERROR;
    }
    if (f->nrows >= FCD_FRAME_MAX_ROWS) {
        frame_err(err, "more than %zu rows", (size_t)FCD_FRAME_MAX_ROWS);
        return FCD_ERROR;
    }
    /* Check every cell before changing anything. */
    for (size_t j = 0; j < n; j++) {
        const struct fcd_frame_col *c = &f->cols[j];
        int t = cells[j].type;
        bool ok;

        if (t == 0)
            ok = c->type != FCD_FRAME_INT64;
        else if (t == FCD_FRAME_INT64 && c->type == FCD_FRAME_FLOAT64)
            ok = true;
        else
            ok = t == (int)c->type;
        if (!ok) {
            frame_err(err, "column '%s': cell of the wrong type", c->name);
            return FCD_ERROR;
        }
        if (t == FCD_FRAME_STRING && cells[j].v.s != NULL) {
            size_t len = strlen(cells[j].v.s);

            if (len > FCD_FRAME_MAX_STRING ||
                !frame_utf8_valid(cells[j].v.s, len)) {
                frame_err(err, "column '%s': string is not UTF-8 or too long",
                          c->name);
                return FCD_ERROR;
            }
        }
    }
    row = f->nrows;
    if (frame_reserve_rows(f, row + 1) != 0) {
        FRAME_OOM(err);
        return FCD_ERROR;
    }
    /* Reserve every pool first, so no write below can fail. */
    for (size_t j = 0; j < n; j++) {
        struct fcd_frame_col *c = &f->cols[j];
        const char *s = cells[j].v.s;

        if (c->type == FCD_FRAME_STRING &&
            frame_buf_reserve(&c->pool, (cells[j].type && s ? strlen(s) : 0) + 1) !=
                0) {
            FRAME_OOM(err);
            return FCD_ERROR;
        }
    }
    for (size_t j = 0; j < n; j++) {
        struct fcd_frame_col *c = &f->cols[j];
        const fcd_frame_value_t *v = &cells[j];
        bool na = v->type == 0;

        switch (c->type) {
        case FCD_FRAME_INT64:
            c->v.i64[row] = v->v.i;
            break;
        case FCD_FRAME_DATETIME:
            c->v.i64[row] = na ? FCD_FRAME_NAT : v->v.i;
            break;
        case FCD_FRAME_FLOAT64:
            c->v.f64[row] = na ? (double)NAN
                            : v->type == FCD_FRAME_INT64 ? (double)v->v.i
                                                         : v->v.f;
            break;
        case FCD_FRAME_BOOL:
            c->v.b[row] = na ? FCD_FRAME_BOOL_NA : v->v.b != 0;
            break;
        case FCD_FRAME_STRING:
            na = na || v->v.s == NULL;
            (void)frame_col_put_str(c, row, na ? "" : v->v.s,
                                    na ? 0 : strlen(v->v.s), na);
            break;
        }
    }
    f->nrows++;
    return FCD_OK;
}

/* A new column `name` of n values; `fill` copies them in. */
typedef void (*fill_fn)(struct fcd_frame_col *c, const void *values, size_t n);

static fcd_status_t add_whole(fcd_frame_t *f, const char *name,
                              fcd_frame_type_t type, const void *values,
                              size_t n, fill_fn fill, fcd_frame_err_t *err)
{
    struct fcd_frame_col c;
    bool first;

    if (!writable(f, err) || !check_name(name, err))
        return FCD_ERROR;
    first = f->ncols == 0 && f->nrows == 0 && f->index == NULL;
    if (!first && n != f->nrows) {
        frame_err(err, "column '%s' has %zu values for %zu rows", name, n,
                  f->nrows);
        return FCD_ERROR;
    }
    if (n > FCD_FRAME_MAX_ROWS) {
        frame_err(err, "more than %zu rows", (size_t)FCD_FRAME_MAX_ROWS);
        return FCD_ERROR;
    }
    if (n && values == NULL) {
        frame_err(err, "column '%s': no values", name);
        return FCD_ERROR;
    }
    if (cols_reserve(f, err) != 0)
        return FCD_ERROR;
    if (frame_col_init(&c, type, name, strlen(name), first ? n : f->cap) != 0) {
        FRAME_OOM(err);
        return FCD_ERROR;
    }
    fill(&c, values, n);
    if (type == FCD_FRAME_STRING && c.pool.data == NULL && n) {
        frame_col_free(&c);
        FRAME_OOM(err);
        return FCD_ERROR;
    }
    f->cols[f->ncols++] = c;
    if (first) {
        f->nrows = n;
        f->cap = n;
    }
    return FCD_OK;
}

static void fill_i64(struct fcd_frame_col *c, const void *v, size_t n)
{
    if (n)
        memcpy(c->v.i64, v, n * sizeof(int64_t));
}

static void fill_f64(struct fcd_frame_col *c, const void *v, size_t n)
{
    if (n)
        memcpy(c->v.f64, v, n * sizeof(double));
}

static void fill_bool(struct fcd_frame_col *c, const void *v, size_t n)
{
    const signed char *b = v;

    for (size_t i = 0; i < n; i++)
        c->v.b[i] = b[i] < 0 ? FCD_FRAME_BOOL_NA : b[i] != 0;
}

/* Strings were checked by add_strings; a pool failure is seen through
 * c->pool.data staying NULL (and then nothing was written). */
static void fill_str(struct fcd_frame_col *c, const void *v, size_t n)
{
    const char *const *s = v;
    size_t total = 0;

    for (size_t i = 0; i < n; i++)
        total += (s[i] ? strlen(s[i]) : 0) + 1;
    if (n == 0 || frame_buf_reserve(&c->pool, total) != 0)
        return;
    for (size_t i = 0; i < n; i++)
        (void)frame_col_put_str(c, i, s[i] ? s[i] : "", s[i] ? strlen(s[i]) : 0,
                                s[i] == NULL);
}

fcd_status_t fcd_frame_add_int64(fcd_frame_t *f, const char *name,
                                 const int64_t *values, size_t n,
                                 fcd_frame_err_t *err)
{
    return add_whole(f, name, FCD_FRAME_INT64, values, n, fill_i64, err);
}

fcd_status_t fcd_frame_add_float64(fcd_frame_t *f, const char *name,
                                   const double *values, size_t n,
                                   fcd_frame_err_t *err)
{
    return add_whole(f, name, FCD_FRAME_FLOAT64, values, n, fill_f64, err);
}

fcd_status_t fcd_frame_add_datetime(fcd_frame_t *f, const char *name,
                                    const int64_t *ns, size_t n,
                                    fcd_frame_err_t *err)
{
    return add_whole(f, name, FCD_FRAME_DATETIME, ns, n, fill_i64, err);
}

fcd_status_t fcd_frame_add_bool(fcd_frame_t *f, const char *name,
                                const signed char *values, size_t n,
                                fcd_frame_err_t *err)
{
    return add_whole(f, name, FCD_FRAME_BOOL, values, n, fill_bool, err);
}

/* Every non-NULL string is UTF-8 and within the limit; the total size
 * does not overflow. */
static bool strings_ok(const char *const *values, size_t n, const char *what,
                       fcd_frame_err_t *err)
{
    size_t total = 0;

    for (size_t i = 0; values != NULL && i < n; i++) {
        size_t len = values[i] ? strlen(values[i]) : 0;

        if (len > FCD_FRAME_MAX_STRING || !frame_utf8_valid(values[i], len)) {
            frame_err(err, "%s: string %zu is not UTF-8 or too long", what, i);
            return false;
        }
        if (total + len + 1 < total) {
            frame_err(err, "%s: strings too large", what);
            return false;
        }
        total += len + 1;
    }
    return true;
}

fcd_status_t fcd_frame_add_string(fcd_frame_t *f, const char *name,
                                  const char *const *values, size_t n,
                                  fcd_frame_err_t *err)
{
    if (!strings_ok(values, n, name ? name : "column", err))
        return FCD_ERROR;
    return add_whole(f, name, FCD_FRAME_STRING, values, n, fill_str, err);
}

static fcd_status_t set_index(fcd_frame_t *f, fcd_frame_type_t type,
                              const void *labels, size_t n, fill_fn fill,
                              fcd_frame_err_t *err)
{
    struct fcd_frame_col *c;

    if (!writable(f, err))
        return FCD_ERROR;
    if (n != f->nrows || (n && labels == NULL)) {
        frame_err(err, "index of %zu labels for %zu rows", n, f->nrows);
        return FCD_ERROR;
    }
    c = malloc(sizeof *c);
    if (c == NULL || frame_col_init(c, type, NULL, 0, f->cap) != 0) {
        free(c);
        FRAME_OOM(err);
        return FCD_ERROR;
    }
    fill(c, labels, n);
    if (type == FCD_FRAME_STRING && c->pool.data == NULL && n) {
        frame_col_free(c);
        free(c);
        FRAME_OOM(err);
        return FCD_ERROR;
    }
    fcd_frame_reset_index(f);
    f->index = c;
    return FCD_OK;
}

fcd_status_t fcd_frame_set_index_int64(fcd_frame_t *f, const int64_t *labels,
                                       size_t n, fcd_frame_err_t *err)
{
    return set_index(f, FCD_FRAME_INT64, labels, n, fill_i64, err);
}

fcd_status_t fcd_frame_set_index_string(fcd_frame_t *f,
                                        const char *const *labels, size_t n,
                                        fcd_frame_err_t *err)
{
    if (!strings_ok(labels, n, "index", err))
        return FCD_ERROR;
    return set_index(f, FCD_FRAME_STRING, labels, n, fill_str, err);
}

void fcd_frame_reset_index(fcd_frame_t *f)
{
    if (f == NULL || f->packed || f->index == NULL)
        return;
    frame_col_free(f->index);
    free(f->index);
    f->index = NULL;
}

/* ---- Reading ------------------------------------------------------------ */

size_t fcd_frame_nrows(const fcd_frame_t *f)
{
    return f ? f->nrows : 0;
}

size_t fcd_frame_ncols(const fcd_frame_t *f)
{
    return f ? f->ncols : 0;
}

const char *fcd_frame_name(const fcd_frame_t *f, size_t col)
{
    return f && col < f->ncols ? f->cols[col].name : NULL;
}

fcd_frame_type_t fcd_frame_type(const fcd_frame_t *f, size_t col)
{
    const struct fcd_frame_col *c = frame_col(f, col);

    return c ? c->type : (fcd_frame_type_t)0;
}

size_t fcd_frame_find(const fcd_frame_t *f, const char *name)
{
    size_t n;

    if (f == NULL || name == NULL)
        return FCD_FRAME_NPOS;
    n = strlen(name);
    for (size_t i = 0; i < f->ncols; i++)
        if (f->cols[i].name_len == n && memcmp(f->cols[i].name, name, n) == 0)
            return i;
    return FCD_FRAME_NPOS;
}

const int64_t *fcd_frame_int64s(const fcd_frame_t *f, size_t col)
{
    const struct fcd_frame_col *c = frame_col(f, col);

    if (c == NULL ||
        (c->type != FCD_FRAME_INT64 && c->type != FCD_FRAME_DATETIME))
        return NULL;
    return c->v.i64;
}

const double *fcd_frame_float64s(const fcd_frame_t *f, size_t col)
{
    const struct fcd_frame_col *c = frame_col(f, col);

    return c && c->type == FCD_FRAME_FLOAT64 ? c->v.f64 : NULL;
}

const signed char *fcd_frame_bools(const fcd_frame_t *f, size_t col)
{
    const struct fcd_frame_col *c = frame_col(f, col);

    return c && c->type == FCD_FRAME_BOOL ? c->v.b : NULL;
}

const char *fcd_frame_str(const fcd_frame_t *f, size_t col, size_t row,
                          size_t *len)
{
    const struct fcd_frame_col *c = frame_col(f, col);

    if (c == NULL || c->type != FCD_FRAME_STRING || row >= f->nrows ||
        c->na[row])
        return NULL;
    if (len != NULL)
        *len = c->v.off[row + 1] - c->v.off[row] - 1;
    return c->pool.data + c->v.off[row];
}

bool fcd_frame_is_na(const fcd_frame_t *f, size_t col, size_t row)
{
    const struct fcd_frame_col *c = frame_col(f, col);

    if (c == NULL || row >= f->nrows)
        return false;
    switch (c->type) {
    case FCD_FRAME_INT64:
        return false;
    case FCD_FRAME_DATETIME:
        return c->v.i64[row] == FCD_FRAME_NAT;
    case FCD_FRAME_FLOAT64:
        return c->v.f64[row] != c->v.f64[row];
    case FCD_FRAME_BOOL:
        return c->v.b[row] == FCD_FRAME_BOOL_NA;
    case FCD_FRAME_STRING:
        return c->na[row] != 0;
    }
    return false;
}

/* ---- Selecting rows ----------------------------------------------------- */

/* Column c's rows[0..n) as a new column (exact size). */
static int col_take(struct fcd_frame_col *dst, const struct fcd_frame_col *c,
                    const size_t *rows, size_t n)
{
    if (frame_col_init(dst, c->type, c->name, c->name_len, n) != 0)
        return -1;
    switch (c->type) {
    case FCD_FRAME_INT64:
    case FCD_FRAME_DATETIME:
        for (size_t i = 0; i < n; i++)
            dst->v.i64[i] = c->v.i64[rows[i]];
        break;
    case FCD_FRAME_FLOAT64:
        for (size_t i = 0; i < n; i++)
            dst->v.f64[i] = c->v.f64[rows[i]];
        break;
    case FCD_FRAME_BOOL:
        for (size_t i = 0; i < n; i++)
            dst->v.b[i] = c->v.b[rows[i]];
        break;
    case FCD_FRAME_STRING: {
        size_t total = 0;

        /* Each source string fits in its pool, but repeated rows may add
         * up past SIZE_MAX. */
        for (size_t i = 0; i < n; i++) {
            size_t len = c->v.off[rows[i] + 1] - c->v.off[rows[i]];

            if (total + len < total)
                goto fail;
            total += len;
        }
        if (frame_buf_reserve(&dst->pool, total) != 0)
            goto fail;
        for (size_t i = 0; i < n; i++) {
            size_t r = rows[i], at = c->v.off[r];

            (void)frame_col_put_str(dst, i, c->pool.data + at,
                                    c->v.off[r + 1] - at - 1, c->na[r]);
        }
        break;
    }
    }
    return 0;
fail:
    frame_col_free(dst);
    return -1;
}

fcd_frame_t *fcd_frame_take(const fcd_frame_t *f, const size_t *rows, size_t n,
                            fcd_frame_err_t *err)
{
    fcd_frame_t *out;
    struct fcd_frame_col c;

    if (f == NULL || (n && rows == NULL)) {
        frame_err(err, "no frame or no rows");
        return NULL;
    }
    if (n > FCD_FRAME_MAX_ROWS) {
        frame_err(err, "more than %zu rows", (size_t)FCD_FRAME_MAX_ROWS);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (rows[i] >= f->nrows) {
            frame_err(err, "row %zu out of range (%zu rows)", rows[i],
                      f->nrows);
            return NULL;
        }
    if ((out = fcd_frame_new()) == NULL)
        goto oom;
    out->nrows = out->cap = n;
    for (size_t j = 0; j < f->ncols; j++)
        if (col_take(&c, &f->cols[j], rows, n) != 0 ||
            frame_add_built(out, &c) != 0)
            goto oom;
    if ((out->index = malloc(sizeof *out->index)) == NULL)
        goto oom;
    if (f->index != NULL) {
        if (col_take(out->index, f->index, rows, n) != 0)
            goto oom_index;
    } else {
        /* pandas keeps the labels of the rows it keeps */
        if (frame_col_init(out->index, FCD_FRAME_INT64, NULL, 0, n) != 0)
            goto oom_index;
        for (size_t i = 0; i < n; i++)
            out->index->v.i64[i] = (int64_t)rows[i];
    }
    return out;
oom_index:
    free(out->index);
    out->index = NULL;
oom:
    fcd_frame_free(out);
    FRAME_OOM(err);
    return NULL;
}

fcd_frame_t *fcd_frame_filter(const fcd_frame_t *f, fcd_frame_pred_fn pred,
                              void *ctx, fcd_frame_err_t *err)
{
    size_t *rows, n = 0;
    fcd_frame_t *out;

    if (f == NULL || pred == NULL) {
        frame_err(err, "no frame or no predicate");
        return NULL;
    }
    if ((rows = malloc((f->nrows ? f->nrows : 1) * sizeof *rows)) == NULL) {
        FRAME_OOM(err);
        return NULL;
    }
    for (size_t i = 0; i < f->nrows; i++)
        if (pred(f, i, ctx))
            rows[n++] = i;
    out = fcd_frame_take(f, rows, n, err);
    free(rows);
    return out;
}

struct eq_ctx {
    size_t col;
    int64_t i;
    const char *s;
    size_t len;
};

static bool eq_int(const fcd_frame_t *f, size_t row, void *ctx)
{
    const struct eq_ctx *q = ctx;
    const struct fcd_frame_col *c = &f->cols[q->col];

    switch (c->type) {
    case FCD_FRAME_INT64:
        return c->v.i64[row] == q->i;
    case FCD_FRAME_FLOAT64:
        return c->v.f64[row] == (double)q->i;
    case FCD_FRAME_BOOL:
        return c->v.b[row] != FCD_FRAME_BOOL_NA && c->v.b[row] == q->i;
    default:
        return false;
    }
}

static bool eq_str(const fcd_frame_t *f, size_t row, void *ctx)
{
    const struct eq_ctx *q = ctx;
    const struct fcd_frame_col *c = &f->cols[q->col];
    size_t at = c->v.off[row];

    return !c->na[row] && c->v.off[row + 1] - at - 1 == q->len &&
           memcmp(c->pool.data + at, q->s, q->len) == 0;
}

static bool find_typed(const fcd_frame_t *f, const char *column, bool string,
                       struct eq_ctx *q, fcd_frame_err_t *err)
{
    fcd_frame_type_t t;

    if (f == NULL || column == NULL) {
        frame_err(err, "no frame or no column");
        return false;
    }
    q->col = fcd_frame_find(f, column);
    if (q->col == FCD_FRAME_NPOS) {
        frame_err(err, "no column '%s'", column);
        return false;
    }
    t = f->cols[q->col].type;
    if (string ? t != FCD_FRAME_STRING
               : t != FCD_FRAME_INT64 && t != FCD_FRAME_FLOAT64 &&
                     t != FCD_FRAME_BOOL) {
        frame_err(err, "column '%s' cannot be compared with %s", column,
                  string ? "a string" : "an integer");
        return false;
    }
    return true;
}

fcd_frame_t *fcd_frame_filter_eq_int(const fcd_frame_t *f, const char *column,
                                     int64_t v, fcd_frame_err_t *err)
{
    struct eq_ctx q = {0, v, NULL, 0};

    if (!find_typed(f, column, false, &q, err))
        return NULL;
    return fcd_frame_filter(f, eq_int, &q, err);
}

fcd_frame_t *fcd_frame_filter_eq_str(const fcd_frame_t *f, const char *column,
                                     const char *s, fcd_frame_err_t *err)
{
    struct eq_ctx q = {0, 0, s, 0};

    if (s == NULL) {
        frame_err(err, "no string to compare with");
        return NULL;
    }
    q.len = strlen(s);
    if (!find_typed(f, column, true, &q, err))
        return NULL;
    return fcd_frame_filter(f, eq_str, &q, err);
}

/* ---- Packing ------------------------------------------------------------ */

#define PACK_ALIGN ((size_t)16)

/* Add n bytes, rounded up to PACK_ALIGN, to *total; false on overflow. */
static bool pack_add(size_t *total, size_t n)
{
    size_t r = n % PACK_ALIGN ? PACK_ALIGN - n % PACK_ALIGN : 0;

    if (n + r < n || *total + n + r < *total)
        return false;
    *total += n + r;
    return true;
}

/* The bytes column c needs when packed with n rows. */
static bool pack_col_size(const struct fcd_frame_col *c, size_t n, size_t *total)
{
    size_t w = type_width(c->type), rows = n + (c->type == FCD_FRAME_STRING);

    if (c->name != NULL && !pack_add(total, c->name_len + 1))
        return false;
    if (rows && rows > SIZE_MAX / w)
        return false;
    if (!pack_add(total, rows * w))
        return false;
    if (c->type == FCD_FRAME_STRING)
        return pack_add(total, n) && pack_add(total, c->pool.len);
    return true;
}

static void *pack_take(char **at, size_t n)
{
    void *p = *at;
    size_t r = n % PACK_ALIGN ? PACK_ALIGN - n % PACK_ALIGN : 0;

    *at += n + r;
    return p;
}

static void pack_col(struct fcd_frame_col *dst, const struct fcd_frame_col *c,
                     size_t n, char **at)
{
    size_t w = type_width(c->type), rows = n + (c->type == FCD_FRAME_STRING);

    *dst = *c;
    if (c->name != NULL) {
        dst->name = pack_take(at, c->name_len + 1);
        memcpy(dst->name, c->name, c->name_len + 1);
    }
    dst->v.any = pack_take(at, rows * w);
    if (rows)
        memcpy(dst->v.any, c->v.any, rows * w);
    if (c->type == FCD_FRAME_STRING) {
        dst->na = pack_take(at, n);
        if (n)
            memcpy(dst->na, c->na, n);
        dst->pool.data = pack_take(at, c->pool.len);
        if (c->pool.len)
            memcpy(dst->pool.data, c->pool.data, c->pool.len);
        dst->pool.cap = c->pool.len;
    }
}

fcd_frame_t *fcd_frame_pack(const fcd_frame_t *f,
                            void *(*alloc)(void *ctx, size_t size), void *ctx,
                            fcd_frame_err_t *err)
{
    size_t total = 0, n;
    fcd_frame_t *out;
    char *at;

    if (f == NULL || alloc == NULL) {
        frame_err(err, "no frame or no allocator");
        return NULL;
    }
    n = f->nrows;
    if (!pack_add(&total, sizeof *out) ||
        (f->ncols && !pack_add(&total, f->ncols * sizeof *f->cols)) ||
        (f->index && !pack_add(&total, sizeof *f->index)))
        goto overflow;
    for (size_t j = 0; j < f->ncols; j++)
        if (!pack_col_size(&f->cols[j], n, &total))
            goto overflow;
    if (f->index != NULL && !pack_col_size(f->index, n, &total))
        goto overflow;
    if ((at = alloc(ctx, total)) == NULL) {
        FRAME_OOM(err);
        return NULL;
    }
    out = pack_take(&at, sizeof *out);
    memset(out, 0, sizeof *out);
    out->nrows = out->cap = n;
    out->ncols = out->colcap = f->ncols;
    out->packed = true;
    if (f->ncols)
        out->cols = pack_take(&at, f->ncols * sizeof *f->cols);
    if (f->index != NULL)
        out->index = pack_take(&at, sizeof *f->index);
    for (size_t j = 0; j < f->ncols; j++)
        pack_col(&out->cols[j], &f->cols[j], n, &at);
    if (f->index != NULL)
        pack_col(out->index, f->index, n, &at);
    return out;
overflow:
    frame_err(err, "frame too large to pack");
    return NULL;
}
