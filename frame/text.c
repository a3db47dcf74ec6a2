/*
 * text.c - a frame shown to people: cell text, figure arrays, CSV.
 *
 * The guide's apps show frames three ways, and each follows what the Python
 * app would show, so the two can be compared response for response:
 *   - a table cell is the value as str() shows it (42, 1.5, nan, True,
 *     None, 2024-01-01 00:00:00);
 *   - a figure gets a column as a JSON array, numbers written as Python's
 *     json module writes them (repr), missing values as null;
 *   - the session example prints df.to_csv(index=False): Python's csv
 *     module with QUOTE_MINIMAL and "\n" line ends, NaN and None as empty
 *     fields, floats as repr, datetimes in one format per column (the date
 *     alone when every time is midnight, else to the finest second fraction
 *     any value needs: none, 3, 6 or 9 digits).
 */
#include <json-c/printbuf.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "frame/frame_int.h"

/* ---- Cell text ---------------------------------------------------------- */

static int put_str(fcd_frame_buf_t *b, const char *s)
{
    return frame_buf_put(b, s, strlen(s));
}

fcd_status_t fcd_frame_cell_text(const fcd_frame_t *f, size_t col, size_t row,
                                 fcd_frame_buf_t *out)
{
    const struct fcd_frame_col *c = frame_col(f, col);
    char tmp[40];
    size_t n;

    if (f == NULL || out == NULL || row >= f->nrows ||
        (c == NULL && col != FCD_FRAME_INDEX))
        return FCD_ERROR;
    if (c == NULL) {
        n = frame_fmt_int(tmp, (int64_t)row);
        return frame_buf_put(out, tmp, n) ? FCD_ERROR : FCD_OK;
    }
    switch (c->type) {
    case FCD_FRAME_INT64:
        n = frame_fmt_int(tmp, c->v.i64[row]);
        break;
    case FCD_FRAME_FLOAT64:
        n = frame_fmt_repr(tmp, c->v.f64[row]);
        break;
    case FCD_FRAME_BOOL:
        return put_str(out, c->v.b[row] == FCD_FRAME_BOOL_NA ? "None"
                            : c->v.b[row]                    ? "True"
                                                             : "False")
                   ? FCD_ERROR
                   : FCD_OK;
    case FCD_FRAME_DATETIME:
        if (c->v.i64[row] == FCD_FRAME_NAT)
            return put_str(out, "NaT") ? FCD_ERROR : FCD_OK;
        n = frame_fmt_timestamp(tmp, c->v.i64[row]);
        break;
    case FCD_FRAME_STRING:
        if (c->na[row])
            return put_str(out, "None") ? FCD_ERROR : FCD_OK;
        return frame_buf_put(out, c->pool.data + c->v.off[row],
                             c->v.off[row + 1] - c->v.off[row] - 1)
                   ? FCD_ERROR
                   : FCD_OK;
    default:
        return FCD_ERROR;
    }
    return frame_buf_put(out, tmp, n) ? FCD_ERROR : FCD_OK;
}

/* ---- Figure arrays ------------------------------------------------------ */

/* Cell (c, row) as a json-c value; *ok false when out of memory (NULL
 * alone is JSON null). */
static json_object *cell_json(const struct fcd_frame_col *c, size_t row,
                              bool *ok)
{
    char tmp[40];
    json_object *v = NULL;
    size_t n;

    switch (c->type) {
    case FCD_FRAME_INT64:
        v = json_object_new_int64(c->v.i64[row]);
        break;
    case FCD_FRAME_FLOAT64:
        if (!isfinite(c->v.f64[row]))
            return NULL;
        n = frame_fmt_repr(tmp, c->v.f64[row]);
        tmp[n] = '\0';
        /* json-c keeps this text for serializing, instead of %.17g */
        v = json_object_new_double_s(c->v.f64[row], tmp);
        break;
    case FCD_FRAME_BOOL:
        if (c->v.b[row] == FCD_FRAME_BOOL_NA)
            return NULL;
        v = json_object_new_boolean(c->v.b[row]);
        break;
    case FCD_FRAME_DATETIME:
        if (c->v.i64[row] == FCD_FRAME_NAT)
            return NULL;
        n = frame_fmt_timestamp(tmp, c->v.i64[row]);
        v = json_object_new_string_len(tmp, (int)n);
        break;
    case FCD_FRAME_STRING: {
        size_t at = c->v.off[row], len = c->v.off[row + 1] - at - 1;

        if (c->na[row])
            return NULL;
        if (len > INT32_MAX) {
            *ok = false;
            return NULL;
        }
        v = json_object_new_string_len(c->pool.data + at, (int)len);
        break;
    }
    }
    *ok = v != NULL;
    return v;
}

json_object *fcd_frame_column_json(const fcd_frame_t *f, size_t col)
{
    const struct fcd_frame_col *c = frame_col(f, col);
    json_object *a;

    if (f == NULL || (c == NULL && col != FCD_FRAME_INDEX))
        return NULL;
    if ((a = json_object_new_array_ext(f->nrows > INT32_MAX ? INT32_MAX
                                                            : (int)f->nrows)) ==
        NULL)
        return NULL;
    for (size_t i = 0; i < f->nrows; i++) {
        bool ok = true;
        json_object *v = c ? cell_json(c, i, &ok)
                           : json_object_new_int64((int64_t)i);

        if (c == NULL)
            ok = v != NULL;
        if (!ok || json_object_array_add(a, v) != 0) {
            json_object_put(v);
            json_object_put(a);
            return NULL;
        }
    }
    return a;
}

/* ---- Figure arrays written with the answer ------------------------------ */

/* Python's json module writes a figure's array (plotly's encoder hands it
 * the Series as a list): numbers as repr, NaN/inf and missing values as
 * null after plotly's cleaning, strings with ensure_ascii.  A view writes
 * that text into a stack chunk, passed on every VIEW_CHUNK bytes, so a
 * column of any length costs no allocation and no json-c node a cell. */
#define VIEW_CHUNK 4096
/* Room for any cell but a string: a repr is < 32 bytes, a quoted
 * timestamp 31, an int64 20. */
#define VIEW_CELL_MAX 40
/* The most one string byte becomes: a surrogate pair for 4 bytes in is 12
 * out, a control character 6. */
#define VIEW_ESC_MAX 12

struct view_out {
    char buf[VIEW_CHUNK];
    size_t len;
    frame_emit_fn emit;
    void *ctx;
    int rc;
};

static void view_flush(struct view_out *o)
{
    if (o->len && o->rc == 0)
        o->rc = o->emit(o->ctx, o->buf, o->len);
    o->len = 0;
}

/* Room for n bytes at the chunk's end. */
static char *view_room(struct view_out *o, size_t n)
{
    if (sizeof o->buf - o->len < n)
        view_flush(o);
    return o->buf + o->len;
}

/* A string as json.dumps(ensure_ascii=True) writes it: printable ASCII
 * as it is but '"' and '\\', \b \f \n \r \t by name, everything else
 * (control characters, DEL, non-ASCII) as \u00xx or a surrogate pair.
 * Not pandas' rule (frame/json_write.c escapes '/' and keeps DEL). */
static void view_string(struct view_out *o, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s, *end = u + n;

    *view_room(o, 1) = '"';
    o->len++;
    while (u < end) {
        char *p = view_room(o, VIEW_ESC_MAX), *start = p;
        char *stop = o->buf + sizeof o->buf - VIEW_ESC_MAX;

        /* as many bytes as surely fit, before looking at the room again */
        while (u < end && p <= stop) {
            unsigned c = *u++;

            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') {
                *p++ = (char)c;
            } else if (c < 0x80) {
                p = frame_put_json_escape(p, c);
            } else {
                /* frames hold valid UTF-8 only (checked on the way in) */
                size_t more = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
                uint32_t cp = c & (0x3f >> more);

                for (size_t k = 0; k < more && u < end; k++)
                    cp = cp << 6 | (*u++ & 0x3f);
                p = frame_put_json_u(p, cp);
            }
        }
        o->len += (size_t)(p - start);
    }
    *view_room(o, 1) = '"';
    o->len++;
}

/* One cell; fixed-width ones are written in place. */
static void view_cell(struct view_out *o, const struct fcd_frame_col *c, size_t row)
{
    char *p = view_room(o, VIEW_CELL_MAX), *start = p;

    if (c == NULL) {
        p += frame_fmt_int(p, (int64_t)row);
    } else {
        switch (c->type) {
        case FCD_FRAME_INT64:
            p += frame_fmt_int(p, c->v.i64[row]);
            break;
        case FCD_FRAME_FLOAT64:
            if (isfinite(c->v.f64[row]))
                p += frame_fmt_repr(p, c->v.f64[row]);
            else
                p = (char *)memcpy(p, "null", 4) + 4;
            break;
        case FCD_FRAME_BOOL:
            p = c->v.b[row] == FCD_FRAME_BOOL_NA ? (char *)memcpy(p, "null", 4) + 4
                : c->v.b[row]                    ? (char *)memcpy(p, "true", 4) + 4
                                                 : (char *)memcpy(p, "false", 5) + 5;
            break;
        case FCD_FRAME_DATETIME:
            if (c->v.i64[row] == FCD_FRAME_NAT) {
                p = (char *)memcpy(p, "null", 4) + 4;
            } else {
                *p++ = '"';
                p += frame_fmt_timestamp(p, c->v.i64[row]);
                *p++ = '"';
            }
            break;
        case FCD_FRAME_STRING:
            if (c->na[row]) {
                p = (char *)memcpy(p, "null", 4) + 4;
            } else {
                view_string(o, c->pool.data + c->v.off[row],
                            c->v.off[row + 1] - c->v.off[row] - 1);
                return;
            }
            break;
        }
    }
    o->len += (size_t)(p - start);
}

int frame_column_json_text(const fcd_frame_t *f, size_t col, frame_emit_fn emit, void *ctx)
{
    const struct fcd_frame_col *c = frame_col(f, col);
    struct view_out o;

    o.len = 0;
    o.emit = emit;
    o.ctx = ctx;
    o.rc = 0;
    o.buf[o.len++] = '[';
    for (size_t i = 0; i < f->nrows && o.rc == 0; i++) {
        if (i) {
            *view_room(&o, 1) = ',';
            o.len++;
        }
        view_cell(&o, c, i);
    }
    *view_room(&o, 1) = ']';
    o.len++;
    view_flush(&o);
    return o.rc;
}

struct column_view {
    const fcd_frame_t *f;
    size_t col;
};

static int emit_printbuf(void *ctx, const char *p, size_t n)
{
    return printbuf_memappend(ctx, p, (int)n) < 0 ? -1 : 0;
}

static int view_to_json_string(json_object *jso, struct printbuf *pb, int level, int flags)
{
    const struct column_view *v = json_object_get_userdata(jso);

    (void)level, (void)flags;
    return frame_column_json_text(v->f, v->col, emit_printbuf, pb);
}

static void view_free(json_object *jso, void *userdata)
{
    (void)jso;
    free(userdata);
}

json_object *fcd_frame_column_view(const fcd_frame_t *f, size_t col)
{
    struct column_view *v;
    json_object *a;

    if (f == NULL || (frame_col(f, col) == NULL && col != FCD_FRAME_INDEX))
        return NULL;
    /* printbuf_memappend takes an int: a column whose text could pass
     * INT_MAX bytes is refused here rather than cut short there */
    if (f->nrows > INT32_MAX / (VIEW_CELL_MAX + 1))
        return NULL;
    if ((v = malloc(sizeof *v)) == NULL)
        return NULL;
    if ((a = json_object_new_array_ext(0)) == NULL) {
        free(v);
        return NULL;
    }
    v->f = f;
    v->col = col;
    json_object_set_serializer(a, view_to_json_string, v, view_free);
    return a;
}

/* ---- CSV ---------------------------------------------------------------- */

/* A field as Python's csv writer (QUOTE_MINIMAL) writes it: quoted when it
 * holds the delimiter, the quote or a line feed (pandas' line terminator;
 * a lone \r is left bare), with quotes doubled; and "" when it is the only
 * field of the line and empty, so the line is not blank. */
static int put_field(fcd_frame_buf_t *b, const char *s, size_t n, bool alone)
{
    size_t quotes = 0;
    bool quote = alone && n == 0;
    char *p;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            quotes++;
        if (s[i] == '"' || s[i] == ',' || s[i] == '\n')
            quote = true;
    }
    if (!quote)
        return n ? frame_buf_put(b, s, n) : 0;
    if (n + quotes + 2 < n || frame_buf_reserve(b, n + quotes + 2) != 0)
        return -1;
    p = b->data + b->len;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            *p++ = '"';
        *p++ = s[i];
    }
    *p++ = '"';
    b->len = (size_t)(p - b->data);
    b->data[b->len] = '\0';
    return 0;
}

/* How a datetime column is written: pandas picks one format per column. */
enum date_style { DATES_ONLY, SECONDS, MILLIS, MICROS, NANOS };

static enum date_style date_style(const struct fcd_frame_col *c, size_t n)
{
    bool midnight = true;
    int finest = SECONDS;

    for (size_t i = 0; i < n; i++) {
        int64_t ns = c->v.i64[i], in_day, in_sec;

        if (ns == FCD_FRAME_NAT)
            continue;
        in_day = ns % (86400LL * 1000000000LL);
        in_sec = ns % 1000000000LL;
        if (in_day != 0)
            midnight = false;
        if (in_sec % 1000 != 0)
            finest = NANOS;
        else if (in_sec % 1000000 != 0 && finest < MICROS)
            finest = MICROS;
        else if (in_sec != 0 && finest < MILLIS)
            finest = MILLIS;
    }
    return midnight ? DATES_ONLY : (enum date_style)finest;
}

static size_t fmt_csv_date(char *out, int64_t ns, enum date_style style)
{
    static const int digits[] = {0, 0, 3, 6, 9};
    static const int32_t div[] = {1, 1, 1000000, 1000, 1};
    int32_t frac = (int32_t)(ns % 1000000000);
    size_t n;

    (void)frame_fmt_timestamp(out, ns); /* "YYYY-MM-DD HH:MM:SS[...]" */
    if (style == DATES_ONLY)
        return 10;
    n = 19;
    if (style >= MILLIS) {
        int32_t v = (frac < 0 ? frac + 1000000000 : frac) / div[style];

        out[n++] = '.';
        for (int i = digits[style] - 1; i >= 0; i--) {
            out[n + (size_t)i] = (char)('0' + v % 10);
            v /= 10;
        }
        n += (size_t)digits[style];
    }
    return n;
}

/* One index label as to_csv writes it: RangeIndex positions, integers,
 * or strings (quoted like any field). */
static int put_index_label(fcd_frame_buf_t *out, const fcd_frame_t *f, size_t row)
{
    char tmp[40];
    const struct fcd_frame_col *ix = f->index;
    if (ix == NULL)
        return frame_buf_put(out, tmp, frame_fmt_int(tmp, (int64_t)row));
    if (ix->type == FCD_FRAME_STRING) {
        if (ix->na[row])
            return 0;
        return put_field(out, ix->pool.data + ix->v.off[row],
                         ix->v.off[row + 1] - ix->v.off[row] - 1, false);
    }
    return frame_buf_put(out, tmp, frame_fmt_int(tmp, ix->v.i64[row]));
}

static fcd_status_t write_csv(const fcd_frame_t *f, bool with_index, fcd_frame_buf_t *out,
                              fcd_frame_err_t *err);

fcd_status_t fcd_frame_to_csv(const fcd_frame_t *f, fcd_frame_buf_t *out,
                              fcd_frame_err_t *err)
{
    return write_csv(f, false, out, err);
}

fcd_status_t fcd_frame_to_csv_index(const fcd_frame_t *f, fcd_frame_buf_t *out,
                                    fcd_frame_err_t *err)
{
    if (f != NULL && f->index != NULL && f->index->type != FCD_FRAME_INT64 &&
        f->index->type != FCD_FRAME_STRING) {
        frame_err(err, "to_csv with the index: only integer and string indexes are written");
        return FCD_ERROR;
    }
    return write_csv(f, true, out, err);
}

static fcd_status_t write_csv(const fcd_frame_t *f, bool with_index, fcd_frame_buf_t *out,
                              fcd_frame_err_t *err)
{
    enum date_style *styles = NULL;
    size_t start;
    bool alone;

    if (f == NULL || out == NULL) {
        frame_err(err, "no frame or no buffer");
        return FCD_ERROR;
    }
    start = out->len;
    /* A lone column quotes an empty field; with the index beside it, a
     * row has two fields and needs no such care. */
    alone = f->ncols == 1 && !with_index;
    if (with_index && frame_buf_put(out, f->ncols ? "," : "", f->ncols ? 1 : 0) != 0)
        goto oom;
    if (f->ncols &&
        (styles = malloc(f->ncols * sizeof *styles)) == NULL)
        goto oom;
    for (size_t j = 0; j < f->ncols; j++) {
        if (f->cols[j].type == FCD_FRAME_DATETIME)
            styles[j] = date_style(&f->cols[j], f->nrows);
        if ((j && frame_buf_put(out, ",", 1) != 0) ||
            put_field(out, f->cols[j].name, f->cols[j].name_len, alone) != 0)
            goto oom;
    }
    if (frame_buf_put(out, "\n", 1) != 0)
        goto oom;
    for (size_t i = 0; i < f->nrows; i++) {
        if (with_index &&
            (put_index_label(out, f, i) != 0 || (f->ncols && frame_buf_put(out, ",", 1) != 0)))
            goto oom;
        for (size_t j = 0; j < f->ncols; j++) {
            const struct fcd_frame_col *c = &f->cols[j];
            const char *s = NULL;
            char tmp[40];
            size_t n = 0;

            switch (c->type) {
            case FCD_FRAME_INT64:
                n = frame_fmt_int(tmp, c->v.i64[i]);
                break;
            case FCD_FRAME_FLOAT64:
                if (c->v.f64[i] == c->v.f64[i])
                    n = frame_fmt_repr(tmp, c->v.f64[i]);
                break;
            case FCD_FRAME_BOOL:
                if (c->v.b[i] != FCD_FRAME_BOOL_NA)
                    n = c->v.b[i] ? (memcpy(tmp, "True", 4), 4)
                                  : (memcpy(tmp, "False", 5), 5);
                break;
            case FCD_FRAME_DATETIME:
                if (c->v.i64[i] != FCD_FRAME_NAT)
                    n = fmt_csv_date(tmp, c->v.i64[i], styles[j]);
                break;
            case FCD_FRAME_STRING:
                if (!c->na[i]) {
                    s = c->pool.data + c->v.off[i];
                    n = c->v.off[i + 1] - c->v.off[i] - 1;
                }
                break;
            }
            if ((j && frame_buf_put(out, ",", 1) != 0) ||
                put_field(out, s ? s : tmp, n, alone) != 0)
                goto oom;
        }
        if (frame_buf_put(out, "\n", 1) != 0)
            goto oom;
    }
    free(styles);
    return FCD_OK;
oom:
    free(styles);
    frame_buf_truncate(out, start);
    FRAME_OOM(err);
    return FCD_ERROR;
}
