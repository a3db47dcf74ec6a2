/*
 * json_read.c - pandas' to_json text back into a frame, as read_json does.
 *
 * The text comes from a browser (a dcc.Store travels through the client),
 * so it is parsed as hostile: a strict RFC 8259 reader for exactly the two
 * shapes, with no recursion (cells must be scalars), every length checked
 * against the FCD_FRAME_MAX_* limits, strings checked for UTF-8 and
 * surrogate pairs, and integers that do not fit int64 refused rather than
 * clamped.  Any error names the byte offset.  (json-c would have built a
 * tree of every cell first and silently clamps big integers; reading
 * straight into cells or columns is both stricter and faster.)
 *
 * Reading happens in two steps, like pandas: the JSON values of a column are
 * gathered (as untyped cells; the split shape's straight into typed column
 * arrays where that decides the same, see "Split columns as they are
 * read"), then the column's type is inferred by the rules of pandas 1.5's
 * read_json (dtype=True, convert_dates=True):
 *   1. the type the DataFrame constructor gives: all ints -> int64; ints
 *      and floats with nulls -> float64; all bools -> bool; anything else
 *      is an "object" column;
 *   2. columns whose name looks like a date (ends in _at or _time, starts
 *      with timestamp, or is modified, date or datetime) and the index are
 *      tried as dates: numbers above 31536000 as epoch s, ms, us or ns
 *      (the first unit that fits), ISO strings, null as NaT;
 *   3. other columns: an object column whose every value reads as a float
 *      (null as NaN, bools as 1/0, strings by Python's float()) becomes
 *      float64; a float64 column whose values are all whole becomes int64;
 *   4. the split index keeps its constructor type (only step 2 applies);
 *      the orient='columns' index (JSON keys, so strings) goes through 2
 *      and 3, so "0", "1" become 0, 1.
 * Where pandas would keep an object column mixing strings with numbers or
 * bools, this refuses the text (frame columns have one type).  Floats are
 * read correctly rounded (pandas' default reader, precise_float=False, is
 * off by an ulp now and then).  frame/README.md lists the differences.
 */
#define _GNU_SOURCE /* strtod_l */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame/frame_int.h"

/* ---- Cells -------------------------------------------------------------- */

enum kind { K_ABSENT = 0, K_NULL, K_BOOL, K_INT, K_FLOAT, K_STR };

/* One JSON scalar: u holds the int64, the double's bits, the bool, or the
 * string's offset in the reader's pool. */
struct cell {
    uint64_t u;
    uint32_t len;
    uint8_t kind;
};

struct cells {
    struct cell *v;
    size_t n, cap;
};

struct reader {
    const char *start, *p, *end;
    fcd_frame_buf_t pool; /* every decoded string, back to back */
    locale_t c_locale;
    fcd_frame_err_t *err;
};

static int fail(struct reader *r, const char *what)
{
    frame_err(r->err, "at byte %zu: %s", (size_t)(r->p - r->start), what);
    return -1;
}

static int oom(struct reader *r)
{
    FRAME_OOM(r->err);
    return -1;
}

/* Room for one more cell: the array doubles, up to FCD_FRAME_MAX_CELLS. */
static int cells_grow(struct reader *r, struct cells *cs)
{
    size_t cap = cs->cap ? cs->cap * 2 : 64;
    struct cell *v;

    if (cs->n >= FCD_FRAME_MAX_CELLS)
        return fail(r, "more cells than FCD_FRAME_MAX_CELLS");
    if (cap > FCD_FRAME_MAX_CELLS)
        cap = FCD_FRAME_MAX_CELLS;
    if ((v = realloc(cs->v, cap * sizeof *v)) == NULL)
        return oom(r);
    cs->v = v;
    cs->cap = cap;
    return 0;
}

/* Once per cell: the growing apart, so that this stays small enough to be
 * inlined. */
static inline int cells_push(struct reader *r, struct cells *cs,
                             const struct cell *c)
{
    if (cs->n == cs->cap && cells_grow(r, cs) != 0)
        return -1;
    cs->v[cs->n++] = *c;
    return 0;
}

/* ---- Lexing ------------------------------------------------------------- */

static void skip_ws(struct reader *r)
{
    while (r->p < r->end &&
           (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
        r->p++;
}

/* Skip white space, then the character c. */
static int expect(struct reader *r, char c, const char *what)
{
    skip_ws(r);
    if (r->p >= r->end || *r->p != c)
        return fail(r, r->p >= r->end ? "unexpected end of text" : what);
    r->p++;
    return 0;
}

/* After an element: ',' (more follow, returns 1) or `close` (returns 0). */
static int next_or_close(struct reader *r, char close)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == ',') {
        r->p++;
        return 1;
    }
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return 0;
    }
    return fail(r, r->p >= r->end ? "unexpected end of text"
                   : close == ']' ? "expected ',' or ']'"
                                  : "expected ',' or '}'");
}

/* Whether the container just opened is empty (and then consume its end). */
static bool empty_container(struct reader *r, char close)
{
    skip_ws(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return true;
    }
    return false;
}

static int hex4(const char *p, uint32_t *out)
{
    uint32_t v = 0;

    for (int i = 0; i < 4; i++) {
        char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The bytes that end a run of a JSON string copied as it is: the closing
 * quote, a backslash, control characters (refused) and the start of a
 * UTF-8 sequence (checked).  A table: strings are scanned byte by byte. */
static const unsigned char string_stop[256] = {
    [0x00 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xff] = 1,
};

/* n bytes (and a NUL after them when `nul`, counted in the length) onto
 * the pool; like frame_buf_put, it keeps a NUL after the pool's text. */
static int pool_put(fcd_frame_buf_t *pool, const char *s, size_t n, bool nul)
{
    if (pool->cap - pool->len <= n + 1 && frame_buf_reserve(pool, n + 1) != 0)
        return -1;
    memcpy(pool->data + pool->len, s, n);
    pool->len += n;
    pool->data[pool->len] = '\0';
    if (nul)
        pool->data[++pool->len] = '\0';
    return 0;
}

/* A JSON string (at its opening quote) decoded into `pool` (the reader's,
 * or a string column's own); *off and *len say where.  A NUL follows it in
 * the pool. */
static int read_string(struct reader *r, fcd_frame_buf_t *pool, size_t *off,
                       size_t *len)
{
    size_t start;

    if (r->p >= r->end || *r->p != '"')
        return fail(r, "expected a string");
    r->p++;
    start = pool->len;
    for (;;) {
        const char *run = r->p;
        unsigned char c;
        size_t run_len;

        while (r->p < r->end && !string_stop[(unsigned char)*r->p])
            r->p++;
        if (r->p >= r->end)
            return fail(r, "unterminated string");
        run_len = (size_t)(r->p - run);
        c = (unsigned char)*r->p;
        if (c == '"') {
            /* the usual string: one run, then its NUL */
            if (pool_put(pool, run, run_len, true) != 0)
                return oom(r);
            r->p++;
            break;
        }
        if (run_len && pool_put(pool, run, run_len, false) != 0)
            return oom(r);
        if (c < 0x20)
            return fail(r, "control character in a string");
        if (c >= 0x80) {
            /* one UTF-8 sequence, checked whole */
            size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

            if ((size_t)(r->end - r->p) < n || !frame_utf8_valid(r->p, n))
                return fail(r, "invalid UTF-8 in a string");
            if (frame_buf_put(pool, r->p, n) != 0)
                return oom(r);
            r->p += n;
        } else {
            char out[4];
            size_t n = 1;
            uint32_t cp;

            if (r->end - r->p < 2)
                return fail(r, "unterminated string");
            switch (r->p[1]) {
            case '"': out[0] = '"'; break;
            case '\\': out[0] = '\\'; break;
            case '/': out[0] = '/'; break;
            case 'b': out[0] = '\b'; break;
            case 'f': out[0] = '\f'; break;
            case 'n': out[0] = '\n'; break;
            case 'r': out[0] = '\r'; break;
            case 't': out[0] = '\t'; break;
            case 'u':
                if (r->end - r->p < 6 || hex4(r->p + 2, &cp) != 0)
                    return fail(r, "bad \\u escape");
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return fail(r, "lone low surrogate in \\u escape");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    uint32_t lo;

                    if (r->end - r->p < 12 || r->p[6] != '\\' || r->p[7] != 'u' ||
                        hex4(r->p + 8, &lo) != 0 || lo < 0xdc00 || lo > 0xdfff)
                        return fail(r, "lone high surrogate in \\u escape");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    r->p += 6;
                }
                n = utf8_put(out, cp);
                r->p += 4;
                break;
            default:
                return fail(r, "bad escape in a string");
            }
            r->p += 2;
            if (frame_buf_put(pool, out, n) != 0)
                return oom(r);
        }
        if (pool->len - start > FCD_FRAME_MAX_STRING)
            return fail(r, "string longer than FCD_FRAME_MAX_STRING");
    }
    if (pool->len - 1 - start > FCD_FRAME_MAX_STRING)
        return fail(r, "string longer than FCD_FRAME_MAX_STRING");
    *off = start;
    *len = pool->len - 1 - start;
    return 0;
}

static const double exact_pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                     1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                     1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                     1e18, 1e19, 1e20, 1e21, 1e22};

/* A JSON number (RFC 8259 grammar).  Its digits are read once, into m:
 * up to 19 of them (integer and fraction together) are exact there, and
 * more go to strtod (m has wrapped then, and is not used). */
static int read_number(struct reader *r, struct cell *out)
{
    const char *s = r->p, *p = r->p, *end = r->end, *run;
    bool neg = false, is_float = false;
    uint64_t m = 0;
    size_t digits, frac_digits = 0;
    long exp10 = 0;
    unsigned d;

    if (p < end && *p == '-')
        neg = true, p++;
    if (p >= end || (unsigned)(*p - '0') > 9)
        return fail(r, "bad number");
    run = p;
    if (*p == '0') {
        p++;
    } else {
        while (p < end && (d = (unsigned)(*p - '0')) <= 9) {
            m = m * 10 + d;
            p++;
        }
    }
    digits = (size_t)(p - run);
    if (p < end && *p == '.') {
        is_float = true;
        run = ++p;
        while (p < end && (d = (unsigned)(*p - '0')) <= 9) {
            m = m * 10 + d;
            p++;
        }
        frac_digits = (size_t)(p - run);
        if (frac_digits == 0)
            return fail(r, "bad number: digits must follow '.'");
        digits += frac_digits;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool eneg = false;

        is_float = true;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p >= end || *p < '0' || *p > '9')
            return fail(r, "bad number: digits must follow the exponent");
        for (; p < end && *p >= '0' && *p <= '9'; p++)
            if (exp10 < 100000)
                exp10 = exp10 * 10 + (*p - '0');
        if (eneg)
            exp10 = -exp10;
    }
    if (p - s > FCD_FRAME_MAX_NUMBER)
        return fail(r, "number longer than FCD_FRAME_MAX_NUMBER");

    if (!is_float) {
        /* an integer: exact, or refused (pandas would read up to 2^64 - 1
         * as uint64, which frames do not have); 18 digits always fit */
        uint64_t u = m, limit = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;

        if (digits > 18) {
            u = 0;
            for (const char *q = s + neg; q < p; q++) {
                d = (unsigned)(*q - '0');
                if (u > (limit - d) / 10)
                    return fail(r, "integer out of the int64 range");
                u = u * 10 + d;
            }
        }
        out->kind = K_INT;
        out->u = neg ? 0 - u : u;
        r->p = p;
        return 0;
    }
    {
        double v;

        exp10 -= (long)frac_digits;
        if (digits <= 19 && m <= (1ull << 53) && exp10 >= -22 && exp10 <= 22) {
            /* both exact, so one IEEE operation rounds correctly */
            v = (double)m;
            v = exp10 < 0 ? v / exact_pow10[-exp10] : v * exact_pow10[exp10];
            if (neg)
                v = -v;
        } else {
            char buf[FCD_FRAME_MAX_NUMBER + 1];

            memcpy(buf, s, (size_t)(p - s));
            buf[p - s] = '\0';
            v = r->c_locale != (locale_t)0 ? strtod_l(buf, NULL, r->c_locale)
                                           : frame_strtod(buf, NULL);
        }
        if (isinf(v))
            return fail(r, "number out of the double range");
        out->kind = K_FLOAT;
        memcpy(&out->u, &v, sizeof v);
    }
    r->p = p;
    return 0;
}

/* The numbers pandas writes, quickly: no exponent, an integer of at most
 * 18 digits, or a fraction whose digits fit a double exactly (then one
 * IEEE division rounds correctly).  1 when the number was read, 0 (and
 * nothing consumed) when it is for read_number, which also reports what
 * is wrong with a bad one.  The fast path of every cell, kept small and
 * inlined (by force: gcc stopped inlining it into read_values, 8% more
 * instructions a decode). */
static inline __attribute__((always_inline)) int
quick_number(struct reader *r, struct cell *out)
{
    const char *p = r->p, *end = r->end, *run;
    bool neg = p < end && *p == '-';
    uint64_t m = 0;
    size_t digits, frac = 0;
    unsigned d;

    p += neg;
    run = p;
    if (p < end && *p == '0') {
        p++;
    } else {
        while (p < end && (d = (unsigned)(*p - '0')) <= 9) {
            m = m * 10 + d;
            p++;
        }
    }
    if ((digits = (size_t)(p - run)) == 0)
        return 0;
    if (p < end && *p == '.') {
        run = ++p;
        while (p < end && (d = (unsigned)(*p - '0')) <= 9) {
            m = m * 10 + d;
            p++;
        }
        frac = (size_t)(p - run);
        digits += frac;
    }
    if (p < end && (*p == 'e' || *p == 'E'))
        return 0;
    if (frac == 0 && p[-1] != '.') {
        if (digits > 18)
            return 0;
        out->kind = K_INT;
        out->u = neg ? 0 - m : m;
    } else {
        double v;

        if (frac == 0 || digits > 19 || m > (1ull << 53) || frac > 22)
            return 0;
        v = (double)m / exact_pow10[frac];
        if (neg)
            v = -v;
        out->kind = K_FLOAT;
        memcpy(&out->u, &v, sizeof v);
    }
    r->p = p;
    return 1;
}

static int literal(struct reader *r, const char *word, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
        return fail(r, "unexpected characters");
    r->p += n;
    return 0;
}

/* One scalar value (after white space); a string goes to `pool`. */
static int read_scalar(struct reader *r, fcd_frame_buf_t *pool, struct cell *c)
{
    skip_ws(r);
    memset(c, 0, sizeof *c);
    if (r->p >= r->end)
        return fail(r, "unexpected end of text");
    switch (*r->p) {
    case 'n':
        c->kind = K_NULL;
        return literal(r, "null", 4);
    case 't':
        c->kind = K_BOOL, c->u = 1;
        return literal(r, "true", 4);
    case 'f':
        c->kind = K_BOOL, c->u = 0;
        return literal(r, "false", 5);
    case '"': {
        size_t off, len;

        if (read_string(r, pool, &off, &len) != 0)
            return -1;
        c->kind = K_STR, c->u = off, c->len = (uint32_t)len;
        return 0;
    }
    case '[':
    case '{':
        return fail(r, "a cell must be a scalar, not an array or object");
    default:
        if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
            return read_number(r, c);
        return fail(r, "unexpected character");
    }
}

/* A key of an object (after '{' or ','), and its ':'. */
static int read_key(struct reader *r, size_t *off, size_t *len)
{
    skip_ws(r);
    if (read_string(r, &r->pool, off, len) != 0)
        return -1;
    return expect(r, ':', "expected ':'");
}

/* ---- Type inference ----------------------------------------------------- */

/* A column's cells: n of them, `stride` apart. */
struct view {
    const struct cell *c;
    size_t n, stride;
    const char *pool;
};

#define AT(v, i) (&(v)->c[(i) * (v)->stride])

enum dtype { D_OBJECT, D_INT, D_FLOAT, D_BOOL };

enum mode {
    M_DATA,          /* a column */
    M_DATA_DATES,    /* a column whose name looks like a date */
    M_INDEX_SPLIT,   /* the split index */
    M_INDEX_COLUMNS  /* the orient='columns' index (keys) */
};

static double cell_double(const struct cell *c)
{
    double d;

    if (c->kind == K_INT)
        return (double)(int64_t)c->u;
    memcpy(&d, &c->u, sizeof d);
    return d;
}

/* pandas' list of strings that mean NaT. */
static bool nat_string(const char *s, size_t n)
{
    static const char *const nat[] = {"NaT", "nat", "NAT", "nan", "NaN", "NAN"};

    if (n == 0)
        return true;
    for (size_t i = 0; i < sizeof nat / sizeof nat[0]; i++)
        if (n == 3 && memcmp(s, nat[i], 3) == 0)
            return true;
    return false;
}

/* Whether pandas (read_json's keep_default_dates) tries `name` as dates. */
static bool date_like(const char *name, size_t n)
{
    char low[16];
    size_t k = n < sizeof low ? n : sizeof low;

    /* only the first and last few characters matter */
    if (n >= 3) {
        const char *t = name + n - 3;

        if (t[0] == '_' && (t[1] | 0x20) == 'a' && (t[2] | 0x20) == 't')
            return true;
    }
    if (n >= 5) {
        const char *t = name + n - 5;
        const char *w = "_time";
        bool same = true;

        for (int i = 0; i < 5; i++)
            same = same && (i == 0 ? t[i] == '_' : (t[i] | 0x20) == w[i]);
        if (same)
            return true;
    }
    for (size_t i = 0; i < k; i++)
        low[i] = name[i] >= 'A' && name[i] <= 'Z' ? (char)(name[i] | 0x20)
                                                  : name[i];
    if ((n == 8 && memcmp(low, "modified", 8) == 0) ||
        (n == 4 && memcmp(low, "date", 4) == 0) ||
        (n == 8 && memcmp(low, "datetime", 8) == 0) ||
        (n >= 9 && memcmp(low, "timestamp", 9) == 0))
        return true;
    return false;
}

/* pandas' cast_from_unit: whole and fractional parts scaled apart, the
 * fraction rounded to the unit's precision first. */
static bool cast_from_unit(double x, int64_t mult, int prec, int64_t *out)
{
    double base, frac, p10 = exact_pow10[prec];
    int64_t b, r;

    if (!isfinite(x) || x >= 9223372036854775808.0 || x < -9223372036854775808.0)
        return false;
    base = trunc(x);
    frac = nearbyint((x - base) * p10) / p10;
    b = (int64_t)base;
    if (__builtin_mul_overflow(b, mult, &r) ||
        __builtin_add_overflow(r, (int64_t)(frac * (double)mult), &r) ||
        r == FCD_FRAME_NAT)
        return false;
    *out = r;
    return true;
}

/* The unit tried at step `u`: s, ms, us, then ns. */
static const int64_t unit_mult[4] = {1000000000, 1000000, 1000, 1};
static const int unit_prec[4] = {9, 6, 3, 0};

/* Bounds pandas checks in floating point (Timestamp.min/max.value). */
#define TS_MIN_F (-9223372036854775807.0)
#define TS_MAX_F (9223372036854775807.0)

/* Step 2: the column as datetimes.  1 and *out filled (n values) when it
 * reads as dates, 0 when not, -1 when out of memory. */
static int try_dates(const struct view *v, enum dtype d, int64_t *out)
{
    size_t n = v->n;
    bool ints = d == D_INT;

    if (d == D_OBJECT) {
        /* pandas first tries astype(int64): bools as 0/1, floats cut,
         * strings by int(), None fails it */
        ints = true;
        for (size_t i = 0; i < n && ints; i++) {
            const struct cell *c = AT(v, i);
            double x;

            switch (c->kind) {
            case K_INT: out[i] = (int64_t)c->u; break;
            case K_BOOL: out[i] = (int64_t)c->u; break;
            case K_FLOAT:
                x = cell_double(c);
                ints = isfinite(x) && x < 9223372036854775808.0 &&
                       x >= -9223372036854775808.0;
                if (ints)
                    out[i] = (int64_t)x;
                break;
            case K_STR:
                ints = frame_parse_pyint(v->pool + c->u, c->len, &out[i]);
                break;
            default: ints = false; break;
            }
        }
    } else if (d == D_INT) {
        for (size_t i = 0; i < n; i++)
            out[i] = (int64_t)AT(v, i)->u;
    } else if (d == D_BOOL) {
        return 0; /* bools are not numbers to to_datetime, nor strings */
    }

    if (ints) {
        /* numbers at or below 31536000 (a year of seconds) are not dates */
        for (size_t i = 0; i < n; i++)
            if (!(out[i] > 31536000 || out[i] == FCD_FRAME_NAT))
                return 0;
        for (int u = 0; u < 3; u++) {
            bool ok = true;

            for (size_t i = 0; i < n && ok; i++) {
                double f = (double)out[i] * (double)unit_mult[u];
                int64_t t;

                ok = out[i] == FCD_FRAME_NAT ||
                     (f >= TS_MIN_F && f <= TS_MAX_F &&
                      !__builtin_mul_overflow(out[i], unit_mult[u], &t));
            }
            if (ok) {
                for (size_t i = 0; i < n; i++)
                    if (out[i] != FCD_FRAME_NAT)
                        out[i] *= unit_mult[u];
                return 1;
            }
        }
        return 1; /* nanoseconds as they are */
    }

    if (d == D_FLOAT) {
        for (size_t i = 0; i < n; i++) {
            const struct cell *c = AT(v, i);
            double x = c->kind == K_NULL ? (double)NAN : cell_double(c);

            if (!(x != x || x > 31536000.0 || x == -9223372036854775808.0))
                return 0;
        }
        for (int u = 0; u < 4; u++) {
            bool ok = true;

            for (size_t i = 0; i < n && ok; i++) {
                const struct cell *c = AT(v, i);
                double x = c->kind == K_NULL ? (double)NAN : cell_double(c);
                double f = x * (double)unit_mult[u];

                if (x != x || x == -9223372036854775808.0) {
                    out[i] = FCD_FRAME_NAT;
                    continue;
                }
                ok = f >= TS_MIN_F && f < 9223372036854775808.0;
                if (ok)
                    out[i] = (int64_t)f;
            }
            if (ok)
                return 1;
        }
        return 0;
    }

    /* An object column that is not all integers: cell by cell, numbers
     * (and numeric strings) in each unit, ISO strings only as ns. */
    for (int u = 0; u < 4; u++) {
        bool ok = true;

        for (size_t i = 0; i < n && ok; i++) {
            const struct cell *c = AT(v, i);
            const char *s = v->pool + c->u;
            double x;

            switch (c->kind) {
            case K_NULL:
                out[i] = FCD_FRAME_NAT;
                break;
            case K_INT:
            case K_FLOAT:
                ok = cast_from_unit(cell_double(c), unit_mult[u], unit_prec[u],
                                    &out[i]);
                break;
            case K_STR:
                if (nat_string(s, c->len))
                    out[i] = FCD_FRAME_NAT;
                else if (u < 3)
                    ok = frame_parse_pyfloat(s, c->len, &x) &&
                         cast_from_unit(x, unit_mult[u], unit_prec[u], &out[i]);
                else
                    ok = frame_parse_iso(s, c->len, &out[i]);
                break;
            default:
                ok = false; /* bools */
                break;
            }
        }
        if (ok)
            return 1;
    }
    return 0;
}

/* Whether step 2 would refuse the column at its first test, which needs
 * no scratch array: try_dates takes no number at or below 31536000 (but
 * NaT, NaN and, for floats, -2^63) for a date, and no bools. */
static bool surely_not_dates(const struct view *v, enum dtype d)
{
    if (d == D_BOOL)
        return true;
    for (size_t i = 0; i < v->n; i++) {
        const struct cell *c = AT(v, i);

        if (d == D_INT) {
            int64_t x = (int64_t)c->u;

            if (!(x > 31536000 || x == FCD_FRAME_NAT))
                return true;
        } else if (d == D_FLOAT) {
            double x = c->kind == K_NULL ? (double)NAN : cell_double(c);

            if (!(x != x || x > 31536000.0 || x == -9223372036854775808.0))
                return true;
        } else {
            return false;
        }
    }
    return false;
}

/* A whole-number float64 column becomes int64 (pandas compares the
 * astype(int64) copy with the original). */
static bool all_whole(const double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!(x[i] == trunc(x[i]) && x[i] >= -9223372036854775808.0 &&
              x[i] < 9223372036854775808.0))
            return false;
    return n > 0;
}

static int build_numeric(struct fcd_frame_col *col, fcd_frame_type_t type,
                         const void *values, size_t n)
{
    if (frame_col_init(col, type, NULL, 0, n) != 0)
        return -1;
    if (n)
        memcpy(col->v.any, values, n * 8);
    return 0;
}

/* The string column of an object column's strings and nulls. */
static int build_strings(const struct view *v, struct fcd_frame_col *col)
{
    size_t total = 0;

    for (size_t i = 0; i < v->n; i++)
        total += AT(v, i)->len + (size_t)1;
    if (frame_col_init(col, FCD_FRAME_STRING, NULL, 0, v->n) != 0)
        return -1;
    if (v->n) {
        if (frame_buf_reserve(&col->pool, total) != 0) {
            frame_col_free(col);
            return -1;
        }
    }
    /* the pool has room for all of them: written in place (a null's
     * cell is an empty string at offset 0) */
    for (size_t i = 0; i < v->n; i++) {
        const struct cell *c = AT(v, i);
        char *at = col->pool.data + col->pool.len;

        memcpy(at, v->pool + c->u, c->len);
        at[c->len] = '\0';
        col->pool.len += c->len + (size_t)1;
        col->v.off[i + 1] = col->pool.len;
        col->na[i] = c->kind == K_NULL;
    }
    if (v->n)
        col->pool.data[col->pool.len] = '\0';
    return 0;
}

/* Infer and build one column from its cells (see the top of the file). */
static int infer(struct reader *r, const struct view *v, enum mode mode,
                 const char *what, struct fcd_frame_col *col)
{
    size_t n = v->n, count[K_STR + 1] = {0};
    enum dtype d;
    double *x = NULL;
    int64_t *ns = NULL;
    int rc = -1;

    for (size_t i = 0; i < n; i++)
        count[AT(v, i)->kind]++;
    if (count[K_STR] && (count[K_BOOL] || count[K_INT] || count[K_FLOAT])) {
        frame_err(r->err, "%s mixes strings with numbers or booleans", what);
        return -1;
    }
    if (n == 0)
        d = D_OBJECT;
    else if (count[K_INT] == n)
        d = D_INT;
    else if (count[K_BOOL] == n)
        d = D_BOOL;
    else if (!count[K_BOOL] && !count[K_STR] && count[K_INT] + count[K_FLOAT])
        d = D_FLOAT;
    else
        d = D_OBJECT;

    /* step 2 (its scratch array spared when a number says at once that
     * the column is not dates, as for a 0, 1, 2, ... index) */
    if (n && mode != M_DATA && !surely_not_dates(v, d)) {
        if ((ns = malloc(n * sizeof *ns)) == NULL)
            goto nomem;
        switch (try_dates(v, d, ns)) {
        case 1:
            if (build_numeric(col, FCD_FRAME_DATETIME, ns, n) != 0)
                goto nomem;
            rc = 0;
            goto out;
        case -1:
            goto nomem;
        }
    }

    /* the split index keeps bools with nulls as bools */
    if (mode == M_INDEX_SPLIT && d == D_OBJECT && count[K_BOOL]) {
        if (count[K_BOOL] + count[K_NULL] != n) {
            frame_err(r->err, "%s mixes booleans with numbers", what);
            goto out;
        }
        d = D_BOOL;
    }
    if (d == D_BOOL) {
        if (frame_col_init(col, FCD_FRAME_BOOL, NULL, 0, n) != 0)
            goto nomem;
        for (size_t i = 0; i < n; i++)
            col->v.b[i] = AT(v, i)->kind == K_NULL ? FCD_FRAME_BOOL_NA
                                                   : (signed char)AT(v, i)->u;
        rc = 0;
        goto out;
    }
    if (d == D_INT) {
        if (frame_col_init(col, FCD_FRAME_INT64, NULL, 0, n) != 0)
            goto nomem;
        for (size_t i = 0; i < n; i++)
            col->v.i64[i] = (int64_t)AT(v, i)->u;
        rc = 0;
        goto out;
    }

    if (d == D_FLOAT) {
        /* straight into the column; whole numbers become int64 in place
         * (the same eight bytes a value) */
        if (frame_col_init(col, FCD_FRAME_FLOAT64, NULL, 0, n) != 0)
            goto nomem;
        for (size_t i = 0; i < n; i++)
            col->v.f64[i] =
                AT(v, i)->kind == K_NULL ? (double)NAN : cell_double(AT(v, i));
        if (mode != M_INDEX_SPLIT && all_whole(col->v.f64, n)) {
            for (size_t i = 0; i < n; i++) {
                double whole = col->v.f64[i];

                col->v.i64[i] = (int64_t)whole;
            }
            col->type = FCD_FRAME_INT64;
        }
        rc = 0;
        goto out;
    }
    if ((x = malloc((n ? n : 1) * sizeof *x)) == NULL)
        goto nomem;
    if (mode != M_INDEX_SPLIT || n == 0) {
        /* step 3: an object column of numbers in disguise is float64 */
        bool numbers = true;

        for (size_t i = 0; i < n && numbers; i++) {
            const struct cell *c = AT(v, i);

            if (c->kind == K_NULL)
                x[i] = (double)NAN;
            else if (c->kind == K_STR)
                numbers = frame_parse_pyfloat(v->pool + c->u, c->len, &x[i]);
            else if (c->kind == K_BOOL)
                x[i] = (double)c->u;
            else
                x[i] = cell_double(c);
        }
        if (numbers)
            d = D_FLOAT;
    }
    if (d == D_FLOAT) {
        if (mode != M_INDEX_SPLIT && all_whole(x, n)) {
            if (frame_col_init(col, FCD_FRAME_INT64, NULL, 0, n) != 0)
                goto nomem;
            for (size_t i = 0; i < n; i++)
                col->v.i64[i] = (int64_t)x[i];
        } else if (build_numeric(col, FCD_FRAME_FLOAT64, x, n) != 0) {
            goto nomem;
        }
        rc = 0;
        goto out;
    }
    if (build_strings(v, col) != 0)
        goto nomem;
    rc = 0;
    goto out;
nomem:
    oom(r);
out:
    free(x);
    free(ns);
    return rc;
}

/* ---- Split columns as they are read ------------------------------------- */

/* The split shape's cells arrive row by row; each goes straight into its
 * column's own array, typed by what the column has held so far, so that a
 * decode touches about the memory of the frame it returns (a cell array of
 * the whole table, 16 bytes a cell, then the columns built from it, cost
 * more in page faults than in parsing: glibc gives such blocks back to the
 * kernel after each call, and the kernel zeroes fresh pages every time).
 *
 * The states follow the first dtype rule (the top of the file): a column of
 * ints is C_INT; ints and floats with nulls C_NUM (null as NaN, which no JSON
 * number is); bools C_BOOL (null as FCD_FRAME_BOOL_NA); strings with nulls
 * C_STR, already in the layout of a string column.  A mix none of these
 * holds (bools with numbers, strings with anything but null) turns the
 * column into C_CELLS, the untyped cells infer() reads, as does a column
 * that may be dates or only has nulls: those go through infer() exactly as
 * before, so the typed states are only a faster road to the same frame. */
enum colstate { C_NONE, C_INT, C_NUM, C_BOOL, C_STR, C_CELLS };

struct colbuf {
    enum colstate state;
    size_t n, cap; /* values held, room (C_NONE: n nulls, no arrays) */
    size_t nulls;  /* C_BOOL: how many of them are null */
    size_t hint;   /* room to take at the first allocation */
    union {
        void *any;
        int64_t *i64;
        double *f64;
        signed char *b;
        size_t *off; /* C_STR: cap + 1 offsets into pool */
        struct cell *c;
    } v;
    unsigned char *na;    /* C_STR: 1 when null */
    fcd_frame_buf_t pool; /* C_STR, C_CELLS: the strings */
};

static size_t state_width(enum colstate s)
{
    switch (s) {
    case C_INT: return sizeof(int64_t);
    case C_NUM: return sizeof(double);
    case C_BOOL: return sizeof(signed char);
    case C_STR: return sizeof(size_t);
    case C_CELLS: return sizeof(struct cell);
    default: return 0;
    }
}

static void colbuf_free(struct colbuf *b)
{
    free(b->v.any);
    free(b->na);
    fcd_frame_buf_free(&b->pool);
    memset(b, 0, sizeof *b);
}

/* Room for `need` values in b's arrays: doubling, or b->hint at first. */
static int colbuf_reserve(struct colbuf *b, size_t need)
{
    size_t cap = b->cap ? b->cap * 2 : (b->hint > 16 ? b->hint : 16);
    size_t w = state_width(b->state);
    void *p;

    if (need <= b->cap)
        return 0;
    if (cap < need)
        cap = need;
    if (cap >= SIZE_MAX / sizeof(struct cell) - 1)
        return -1;
    if ((p = realloc(b->v.any, (cap + (b->state == C_STR)) * w)) == NULL)
        return -1;
    b->v.any = p;
    if (b->state == C_STR) {
        if ((p = realloc(b->na, cap)) == NULL)
            return -1;
        b->na = p;
    }
    b->cap = cap;
    return 0;
}

/* The column's values so far as untyped cells (C_CELLS). */
static int colbuf_to_cells(struct colbuf *b)
{
    size_t cap = b->n < 16 ? 16 : b->n * 2;
    struct cell *c;

    /* a view's pool must resolve even when no cell is a string */
    if (frame_buf_reserve(&b->pool, 0) != 0)
        return -1;
    if (b->state == C_CELLS)
        return 0;
    if ((c = calloc(cap, sizeof *c)) == NULL)
        return -1;
    for (size_t i = 0; i < b->n; i++) {
        switch (b->state) {
        case C_NONE: c[i].kind = K_NULL; break;
        case C_INT:
            c[i].kind = K_INT;
            c[i].u = (uint64_t)b->v.i64[i];
            break;
        case C_NUM:
            /* an int here only ever reads as its double: as a float64
             * column, or (with bools) through step 3 */
            if (b->v.f64[i] != b->v.f64[i]) {
                c[i].kind = K_NULL;
            } else {
                c[i].kind = K_FLOAT;
                memcpy(&c[i].u, &b->v.f64[i], sizeof(double));
            }
            break;
        case C_BOOL:
            if (b->v.b[i] == FCD_FRAME_BOOL_NA) {
                c[i].kind = K_NULL;
            } else {
                c[i].kind = K_BOOL;
                c[i].u = (uint64_t)b->v.b[i];
            }
            break;
        case C_STR:
            if (b->na[i]) {
                c[i].kind = K_NULL;
            } else {
                c[i].kind = K_STR;
                c[i].u = b->v.off[i];
                c[i].len = (uint32_t)(b->v.off[i + 1] - b->v.off[i] - 1);
            }
            break;
        default: break;
        }
    }
    free(b->v.any);
    free(b->na);
    b->na = NULL;
    b->v.c = c;
    b->cap = cap;
    b->state = C_CELLS;
    return 0;
}

/* From C_NONE (n nulls so far) to `state`, the nulls kept as its nulls. */
static int colbuf_start(struct colbuf *b, enum colstate state)
{
    size_t n = b->n;

    b->state = state;
    if (colbuf_reserve(b, n + 1) != 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (state == C_NUM)
            b->v.f64[i] = (double)NAN;
        else if (state == C_BOOL)
            b->v.b[i] = FCD_FRAME_BOOL_NA;
    }
    b->nulls = state == C_BOOL ? n : 0;
    if (state == C_STR) {
        /* the first string is in the pool already: the nulls' empty
         * strings go before it */
        size_t len = b->pool.len;

        if (frame_buf_reserve(&b->pool, n) != 0)
            return -1;
        memmove(b->pool.data + n, b->pool.data, len);
        memset(b->pool.data, 0, n);
        b->pool.len += n;
        b->pool.data[b->pool.len] = '\0';
        b->v.off[0] = 0;
        for (size_t i = 0; i < n; i++) {
            b->v.off[i + 1] = i + 1;
            b->na[i] = 1;
        }
    }
    return 0;
}

/* Where a cell of `kind` takes a column in `s`. */
static enum colstate next_state(enum colstate s, enum kind kind)
{
    switch (s) {
    case C_NONE:
        return kind == K_INT ? C_INT : kind == K_FLOAT ? C_NUM
             : kind == K_BOOL ? C_BOOL : kind == K_STR ? C_STR : C_NONE;
    case C_INT:
        return kind == K_INT ? C_INT
             : kind == K_FLOAT || kind == K_NULL ? C_NUM : C_CELLS;
    case C_NUM:
        return kind == K_INT || kind == K_FLOAT || kind == K_NULL ? C_NUM
                                                                 : C_CELLS;
    case C_BOOL:
        return kind == K_BOOL || kind == K_NULL ? C_BOOL : C_CELLS;
    case C_STR:
        return kind == K_STR || kind == K_NULL ? C_STR : C_CELLS;
    default:
        return C_CELLS;
    }
}

/* colbuf_push's rare road: a change of state, or no room. */
static int colbuf_push_slow(struct reader *r, struct colbuf *b,
                            const struct cell *c)
{
    enum colstate to = next_state(b->state, (enum kind)c->kind);
    size_t i = b->n;

    if (to == C_INT && b->state == C_NONE && i)
        to = C_NUM; /* ints after nulls */

    if (to != b->state) {
        if (b->state == C_NONE && to != C_NONE) {
            if (colbuf_start(b, to) != 0)
                return oom(r);
        } else if (to == C_NUM) {
            /* C_INT: the same eight bytes a value, now doubles */
            for (size_t k = 0; k < b->n; k++)
                b->v.f64[k] = (double)b->v.i64[k];
            b->state = C_NUM;
        } else if (to == C_CELLS && colbuf_to_cells(b) != 0) {
            return oom(r);
        }
    }
    if (b->state == C_NONE) {
        b->n++;
        return 0;
    }
    if (colbuf_reserve(b, i + 1) != 0)
        return oom(r);
    switch (b->state) {
    case C_INT: b->v.i64[i] = (int64_t)c->u; break;
    case C_NUM:
        if (c->kind == K_NULL)
            b->v.f64[i] = (double)NAN;
        else if (c->kind == K_INT)
            b->v.f64[i] = (double)(int64_t)c->u;
        else
            memcpy(&b->v.f64[i], &c->u, sizeof(double));
        break;
    case C_BOOL:
        b->v.b[i] = c->kind == K_NULL ? FCD_FRAME_BOOL_NA : (signed char)c->u;
        b->nulls += c->kind == K_NULL;
        break;
    case C_STR:
        /* the string is in the pool already; a null is an empty one */
        if (c->kind == K_NULL && pool_put(&b->pool, "", 0, true) != 0)
            return oom(r);
        b->na[i] = c->kind == K_NULL;
        b->v.off[i + 1] = b->pool.len;
        break;
    default: b->v.c[i] = *c; break;
    }
    b->n++;
    return 0;
}

/* One cell (its string, if any, already read into b->pool) into b.  The
 * usual case, a value of the column's type with room for it, inlined. */
static inline int colbuf_push(struct reader *r, struct colbuf *b,
                              const struct cell *c)
{
    size_t i = b->n;

    if (i < b->cap) {
        if (b->state == C_NUM && c->kind == K_FLOAT) {
            memcpy(&b->v.f64[i], &c->u, sizeof(double));
            b->n++;
            return 0;
        }
        if (b->state == C_INT && c->kind == K_INT) {
            b->v.i64[i] = (int64_t)c->u;
            b->n++;
            return 0;
        }
        if (b->state == C_STR && c->kind == K_STR) {
            b->na[i] = 0;
            b->v.off[i + 1] = b->pool.len;
            b->n++;
            return 0;
        }
    }
    return colbuf_push_slow(r, b, c);
}

/* The column from a typed state: b's arrays handed over, trimmed to n. */
static void colbuf_take(struct colbuf *b, fcd_frame_type_t type,
                        struct fcd_frame_col *col)
{
    size_t n = b->n ? b->n : 1, w = state_width(b->state);
    void *p;

    memset(col, 0, sizeof *col);
    col->type = type;
    /* trimming never moves or fails in practice; if it did, the larger
     * block is still right */
    if ((p = realloc(b->v.any, (n + (b->state == C_STR)) * w)) != NULL)
        b->v.any = p;
    col->v.any = b->v.any;
    if (b->state == C_STR) {
        if ((p = realloc(b->na, n)) != NULL)
            b->na = p;
        col->na = b->na;
        if ((p = realloc(b->pool.data, b->pool.len + 1)) != NULL) {
            b->pool.data = p;
            b->pool.cap = b->pool.len + 1;
        }
        col->pool = b->pool;
    }
    memset(b, 0, sizeof *b);
}

/* Whether step 2 refuses a typed column at its first test (as
 * surely_not_dates does for the same values as cells). */
static bool colbuf_surely_not_dates(const struct colbuf *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->state == C_INT) {
            int64_t x = b->v.i64[i];

            if (!(x > 31536000 || x == FCD_FRAME_NAT))
                return true;
        } else if (b->state == C_NUM) {
            double x = b->v.f64[i];

            if (!(x != x || x > 31536000.0 || x == -9223372036854775808.0))
                return true;
        } else {
            return b->state == C_BOOL && b->nulls == 0;
        }
    }
    return false;
}

/* Infer and build one column from b (see the top of the file). */
static int colbuf_finish(struct reader *r, struct colbuf *b, enum mode mode,
                         const char *what, struct fcd_frame_col *col)
{
    size_t n = b->n;

    /* what the typed states do not decide alone goes through infer() */
    if ((mode != M_DATA && !colbuf_surely_not_dates(b)) ||
        b->state == C_NONE || b->state == C_CELLS ||
        (b->state == C_BOOL && b->nulls) ||
        (b->state == C_STR && mode != M_DATA)) {
        struct view v;

        if (colbuf_to_cells(b) != 0)
            return oom(r);
        v = (struct view){b->v.c, n, 1, b->pool.data};
        return infer(r, &v, mode, what, col);
    }
    switch (b->state) {
    case C_INT: colbuf_take(b, FCD_FRAME_INT64, col); return 0;
    case C_BOOL: colbuf_take(b, FCD_FRAME_BOOL, col); return 0;
    case C_NUM:
        if (mode != M_INDEX_SPLIT && all_whole(b->v.f64, n)) {
            for (size_t i = 0; i < n; i++) {
                double whole = b->v.f64[i];

                b->v.i64[i] = (int64_t)whole;
            }
            colbuf_take(b, FCD_FRAME_INT64, col);
        } else {
            colbuf_take(b, FCD_FRAME_FLOAT64, col);
        }
        return 0;
    case C_STR: {
        /* step 3: strings that all read as floats make a float64 column
         * (read twice then, which is rare; a column of words stops at its
         * first) */
        double x;

        for (size_t i = 0; i < n; i++)
            if (!b->na[i] &&
                !frame_parse_pyfloat(b->pool.data + b->v.off[i],
                                     b->v.off[i + 1] - b->v.off[i] - 1, &x)) {
                colbuf_take(b, FCD_FRAME_STRING, col);
                return 0;
            }
        if (frame_col_init(col, FCD_FRAME_FLOAT64, NULL, 0, n) != 0)
            return oom(r);
        for (size_t i = 0; i < n; i++)
            if (b->na[i] ||
                !frame_parse_pyfloat(b->pool.data + b->v.off[i],
                                     b->v.off[i + 1] - b->v.off[i] - 1,
                                     &col->v.f64[i]))
                col->v.f64[i] = (double)NAN;
        if (all_whole(col->v.f64, n)) {
            for (size_t i = 0; i < n; i++) {
                double whole = col->v.f64[i];

                col->v.i64[i] = (int64_t)whole;
            }
            col->type = FCD_FRAME_INT64;
        }
        return 0;
    }
    default:
        return -1; /* not reached: C_NONE and C_CELLS went to infer() */
    }
}

/* ---- The two shapes ----------------------------------------------------- */

/* How assemble() gets column j of the frame (FCD_FRAME_INDEX: the index),
 * inferred by `mode`. */
typedef int (*build_fn)(struct reader *r, void *src, size_t j,
                        enum mode mode, const char *what,
                        struct fcd_frame_col *col);

/* A frame of ncols columns of nrows rows, named by `names` (pool offsets,
 * NUL-terminated), each made by build(); with an index when `index_mode`
 * is not M_DATA (M_DATA: a RangeIndex). */
static fcd_frame_t *assemble(struct reader *r, size_t nrows,
                             const struct cell *names, size_t ncols,
                             enum mode index_mode, build_fn build, void *src)
{
    fcd_frame_t *f = fcd_frame_new();

    if (f == NULL) {
        oom(r);
        return NULL;
    }
    f->nrows = f->cap = nrows;
    for (size_t j = 0; j < ncols; j++) {
        const char *name = r->pool.data + names[j].u;
        struct fcd_frame_col col;
        char what[80];

        snprintf(what, sizeof what, "column %zu", j);
        if (build(r, src, j, date_like(name, names[j].len) ? M_DATA_DATES : M_DATA,
                  what, &col) != 0)
            goto fail;
        col.name = malloc(names[j].len + 1u);
        if (col.name == NULL) {
            frame_col_free(&col);
            oom(r);
            goto fail;
        }
        memcpy(col.name, name, names[j].len + 1u);
        col.name_len = names[j].len;
        if (frame_add_built(f, &col) != 0) {
            oom(r);
            goto fail;
        }
    }
    if (index_mode != M_DATA) {
        struct fcd_frame_col col;

        if (build(r, src, FCD_FRAME_INDEX, index_mode, "the index", &col) != 0)
            goto fail;
        if ((f->index = malloc(sizeof *f->index)) == NULL) {
            frame_col_free(&col);
            oom(r);
            goto fail;
        }
        *f->index = col;
    }
    return f;
fail:
    fcd_frame_free(f);
    return NULL;
}

/* One cell, its string (if any) into `pool`.  pandas' text has numbers
 * and no white space: those skip read_scalar's dispatch.  Inlined into
 * the loops over cells, like quick_number. */
static inline __attribute__((always_inline)) int
read_cell(struct reader *r, fcd_frame_buf_t *pool, struct cell *c)
{
    if (r->p < r->end && (*r->p == '-' || (unsigned)(*r->p - '0') <= 9)) {
        c->len = 0;
        if (!quick_number(r, c) && read_number(r, c) != 0)
            return -1;
        return 0;
    }
    return read_scalar(r, pool, c);
}

/* An array of scalars (at '['), each pushed to cs (the column names). */
static int read_array(struct reader *r, struct cells *cs, bool strings_only)
{
    if (expect(r, '[', "expected an array") != 0)
        return -1;
    if (empty_container(r, ']'))
        return 0;
    for (;;) {
        struct cell c;
        int more;

        if (read_cell(r, &r->pool, &c) != 0)
            return -1;
        if (strings_only && c.kind != K_STR)
            return fail(r, "column names must be strings");
        if (cells_push(r, cs, &c) != 0)
            return -1;
        if ((more = next_or_close(r, ']')) <= 0)
            return more;
    }
}

/* The split shape's columns while they are read. */
struct split_cols {
    struct colbuf *v;  /* one a cell of row 0, up to FCD_FRAME_MAX_COLS */
    size_t n;
    struct colbuf index;
    size_t ncells; /* data cells, counted against FCD_FRAME_MAX_CELLS */
};

/* An array of scalars (at '['): the index (`row` NULL: every cell to
 * sc->index), or a row of data, cell k to column k; *count says how many.
 * Row 0 makes the columns; a cell with no column (a row longer than row 0,
 * or past FCD_FRAME_MAX_COLS: errors once the text is read) is read and
 * dropped. */
static int read_values(struct reader *r, struct split_cols *sc, size_t *row,
                       size_t *count)
{
    size_t k = 0, *total = row ? &sc->ncells : count;

    *count = 0;
    if (expect(r, '[', "expected an array") != 0)
        return -1;
    if (empty_container(r, ']'))
        return 0;
    for (;; k++) {
        struct colbuf *b = row ? NULL : &sc->index;
        size_t mark = r->pool.len;
        struct cell c;
        int more;

        if (row && k < sc->n) {
            b = &sc->v[k];
        } else if (row && *row == 0 && k < FCD_FRAME_MAX_COLS) {
            struct colbuf *v = realloc(sc->v, (k + 1) * sizeof *v);

            if (v == NULL)
                return oom(r);
            sc->v = v;
            b = &sc->v[sc->n++];
            memset(b, 0, sizeof *b);
        }
        if (read_cell(r, b ? &b->pool : &r->pool, &c) != 0)
            return -1;
        if (*total >= FCD_FRAME_MAX_CELLS)
            return fail(r, "more cells than FCD_FRAME_MAX_CELLS");
        ++*total;
        if (b == NULL)
            r->pool.len = mark;
        else if (colbuf_push(r, b, &c) != 0)
            return -1;
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            continue;
        }
        if ((more = next_or_close(r, ']')) <= 0) {
            *count = k + 1;
            return more;
        }
    }
}

/* Once row 0 is read (`bytes` long): room in every column for as many rows
 * as the rest of the text would hold if rows were like it, and a quarter
 * more.  Only address space until written: what is not used is trimmed
 * when the column is handed over.  Best effort: a column that cannot have
 * the room grows as it goes. */
static void split_reserve(struct reader *r, struct split_cols *sc, size_t bytes)
{
    size_t left = (size_t)(r->end - r->p), rows = left / (bytes + 1);

    rows += rows / 4 + 1;
    if (rows > FCD_FRAME_MAX_ROWS)
        rows = FCD_FRAME_MAX_ROWS;
    for (size_t j = 0; j < sc->n; j++) {
        struct colbuf *b = &sc->v[j];

        b->hint = rows;
        if (b->state != C_NONE)
            (void)colbuf_reserve(b, rows);
        if (b->pool.len && b->pool.len <= left / rows)
            (void)frame_buf_reserve(&b->pool, b->pool.len * rows);
        else if (b->pool.len)
            (void)frame_buf_reserve(&b->pool, left);
    }
}

static int split_build(struct reader *r, void *src, size_t j, enum mode mode,
                       const char *what, struct fcd_frame_col *col)
{
    struct split_cols *sc = src;
    struct colbuf none = {0};
    int rc;

    if (j == FCD_FRAME_INDEX)
        return colbuf_finish(r, &sc->index, mode, what, col);
    if (j < sc->n)
        return colbuf_finish(r, &sc->v[j], mode, what, col);
    /* no rows: no cell made the column */
    rc = colbuf_finish(r, &none, mode, what, col);
    colbuf_free(&none);
    return rc;
}

static fcd_frame_t *read_split(struct reader *r)
{
    struct cells names = {0};
    struct split_cols sc = {0};
    bool seen_names = false, seen_index = false, seen_data = false;
    size_t width = 0, nrows = 0, nindex = 0;
    fcd_frame_t *f = NULL;

    if (expect(r, '{', "expected '{'") != 0)
        goto out;
    if (empty_container(r, '}')) {
        fail(r, "no \"columns\" and \"data\"");
        goto out;
    }
    for (;;) {
        size_t off, len;
        int more;

        if (read_key(r, &off, &len) != 0)
            goto out;
        r->pool.len = off; /* keys need no keeping */
        if (len == 7 && memcmp(r->pool.data + off, "columns", 7) == 0 &&
            !seen_names) {
            seen_names = true;
            if (read_array(r, &names, true) != 0)
                goto out;
        } else if (len == 5 && memcmp(r->pool.data + off, "index", 5) == 0 &&
                   !seen_index) {
            seen_index = true;
            if (read_values(r, &sc, NULL, &nindex) != 0)
                goto out;
        } else if (len == 4 && memcmp(r->pool.data + off, "data", 4) == 0 &&
                   !seen_data) {
            seen_data = true;
            if (expect(r, '[', "expected an array") != 0)
                goto out;
            if (!empty_container(r, ']')) {
                for (;;) {
                    const char *row_start;
                    size_t cells;

                    if (nrows >= FCD_FRAME_MAX_ROWS) {
                        fail(r, "more rows than FCD_FRAME_MAX_ROWS");
                        goto out;
                    }
                    skip_ws(r);
                    row_start = r->p;
                    if (read_values(r, &sc, &nrows, &cells) != 0)
                        goto out;
                    if (nrows == 0) {
                        width = cells;
                        split_reserve(r, &sc, (size_t)(r->p - row_start));
                    } else if (cells != width) {
                        frame_err(r->err, "at byte %zu: row %zu has %zu cells, "
                                  "row 0 has %zu", (size_t)(r->p - r->start),
                                  nrows, cells, width);
                        goto out;
                    }
                    nrows++;
                    if ((more = next_or_close(r, ']')) < 0)
                        goto out;
                    if (!more)
                        break;
                }
            }
        } else {
            fail(r, "unexpected or repeated key (split has \"columns\", "
                    "\"index\" and \"data\")");
            goto out;
        }
        if ((more = next_or_close(r, '}')) < 0)
            goto out;
        if (!more)
            break;
    }
    if (!seen_names || !seen_data) {
        frame_err(r->err, "split JSON needs \"columns\" and \"data\"");
        goto out;
    }
    if (names.n > FCD_FRAME_MAX_COLS) {
        frame_err(r->err, "more columns than FCD_FRAME_MAX_COLS");
        goto out;
    }
    if (nrows && width != names.n) {
        frame_err(r->err, "%zu columns named, rows have %zu cells", names.n,
                  width);
        goto out;
    }
    if (seen_index && nindex != nrows) {
        frame_err(r->err, "%zu index labels for %zu rows", nindex, nrows);
        goto out;
    }
    f = assemble(r, nrows, names.v, names.n,
                 seen_index ? M_INDEX_SPLIT : M_DATA, split_build, &sc);
out:
    free(names.v);
    for (size_t j = 0; j < sc.n; j++)
        colbuf_free(&sc.v[j]);
    free(sc.v);
    colbuf_free(&sc.index);
    return f;
}

/* One (row, column) cell of orient='columns', before rows are known. */
struct placed {
    size_t row, col;
    struct cell c;
};

/* A label to sort: its first eight bytes as a big-endian number, so most
 * comparisons need no memcmp. */
struct sort_key {
    uint64_t prefix;
    size_t id;
};

struct label_ctx {
    const struct cells *labels;
    const char *const *pool;
};

static int by_label(const void *a, const void *b, void *ctx)
{
    const struct sort_key *ka = a, *kb = b;
    const struct label_ctx *lc = ctx;
    const struct cell *x, *y;
    size_t n;
    int d;

    if (ka->prefix != kb->prefix)
        return ka->prefix < kb->prefix ? -1 : 1;
    x = &lc->labels->v[ka->id];
    y = &lc->labels->v[kb->id];
    n = x->len < y->len ? x->len : y->len;
    d = memcmp(*lc->pool + x->u, *lc->pool + y->u, n);
    return d ? d : (x->len > y->len) - (x->len < y->len);
}

static uint64_t label_prefix(const char *s, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < 8; i++)
        v = v << 8 | (i < n ? (unsigned char)s[i] : 0);
    return v;
}

/* Every label so far into the set; a repeated one is an error. */
static int hash_labels(struct reader *r, struct frame_strset *set,
                       const struct cells *labels)
{
    for (size_t k = 0; k < labels->n; k++) {
        bool added;

        if (frame_strset_add(set, labels->v[k].u, labels->v[k].len, &added) ==
            (size_t)-1)
            return oom(r);
        if (!added) {
            frame_err(r->err, "label repeated in column 0");
            return -1;
        }
    }
    return 0;
}

/* orient='columns' cells laid out row by row, and the labels. */
struct grid {
    const struct cell *cells;
    size_t nrows, ncols;
    struct view labels;
};

static int grid_build(struct reader *r, void *src, size_t j, enum mode mode,
                      const char *what, struct fcd_frame_col *col)
{
    const struct grid *g = src;
    struct view v = {g->cells, g->nrows, g->ncols, r->pool.data};

    if (j == FCD_FRAME_INDEX)
        return infer(r, &g->labels, mode, what, col);
    /* No rows, no cells: `cells` may be NULL, and NULL + j is undefined
     * even when nothing is read through it. */
    if (g->nrows)
        v.c += j;
    return infer(r, &v, mode, what, col);
}

static fcd_frame_t *read_columns(struct reader *r)
{
    struct cells names = {0}, labels = {0};
    struct placed *cells = NULL;
    size_t ncells = 0, cap = 0, nrows, ngrid;
    struct sort_key *keys = NULL;
    struct cell *grid = NULL, *sorted = NULL;
    struct frame_strset rows, cols;
    struct label_ctx labels_ctx = {&labels, (const char *const *)&r->pool.data};
    bool hashed = false;
    fcd_frame_t *f = NULL;

    if (frame_strset_init(&rows, (const char *const *)&r->pool.data, 16) != 0)
        return (oom(r), NULL);
    if (frame_strset_init(&cols, (const char *const *)&r->pool.data, 16) != 0) {
        frame_strset_free(&rows);
        return (oom(r), NULL);
    }
    if (expect(r, '{', "expected '{'") != 0)
        goto out;
    if (!empty_container(r, '}')) {
        for (;;) {
            struct cell name = {0, 0, K_STR};
            size_t off, len, col;
            bool added;
            int more;

            if (read_key(r, &off, &len) != 0)
                goto out;
            name.u = off, name.len = (uint32_t)len;
            if ((col = frame_strset_add(&cols, off, len, &added)) == (size_t)-1) {
                oom(r);
                goto out;
            }
            if (!added) {
                fail(r, "repeated column name");
                goto out;
            }
            if (names.n >= FCD_FRAME_MAX_COLS) {
                fail(r, "more columns than FCD_FRAME_MAX_COLS");
                goto out;
            }
            if (cells_push(r, &names, &name) != 0 ||
                expect(r, '{', "a column must be an object of label: value") != 0)
                goto out;
            if (!empty_container(r, '}')) {
                for (size_t k = 0;;) {
                    struct placed pc;

                    if (read_key(r, &off, &len) != 0)
                        goto out;
                    pc.col = col;
                    /* pandas writes every column's labels in one order:
                     * the first column's labels are taken as they come
                     * (repeats are caught below), later ones are tried
                     * against the label at their position, and only a
                     * label out of place needs the hash */
                    if (k < labels.n && labels.v[k].len == len &&
                        memcmp(r->pool.data + labels.v[k].u, r->pool.data + off,
                               len) == 0) {
                        pc.row = k;
                        added = false;
                    } else if (col == 0) {
                        pc.row = labels.n;
                        added = true;
                    } else {
                        if (!hashed && hash_labels(r, &rows, &labels) != 0)
                            goto out;
                        hashed = true;
                        pc.row = frame_strset_add(&rows, off, len, &added);
                        if (pc.row == (size_t)-1) {
                            oom(r);
                            goto out;
                        }
                    }
                    k++;
                    if (!added)
                        r->pool.len = off; /* a label seen before */
                    else if (labels.n >= FCD_FRAME_MAX_ROWS) {
                        fail(r, "more rows than FCD_FRAME_MAX_ROWS");
                        goto out;
                    } else {
                        struct cell lc = {off, (uint32_t)len, K_STR};

                        if (cells_push(r, &labels, &lc) != 0)
                            goto out;
                    }
                    if (read_scalar(r, &r->pool, &pc.c) != 0)
                        goto out;
                    if (ncells == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        struct placed *p;

                        if (ncells >= FCD_FRAME_MAX_CELLS) {
                            fail(r, "more cells than FCD_FRAME_MAX_CELLS");
                            goto out;
                        }
                        if ((p = realloc(cells, ncap * sizeof *p)) == NULL) {
                            oom(r);
                            goto out;
                        }
                        cells = p, cap = ncap;
                    }
                    cells[ncells++] = pc;
                    if ((more = next_or_close(r, '}')) < 0)
                        goto out;
                    if (!more)
                        break;
                }
            }
            if ((more = next_or_close(r, '}')) < 0)
                goto out;
            if (!more)
                break;
        }
    }
    nrows = labels.n;
    /* the first column's labels were not checked for repeats yet; a lone
     * column's are, once sorted, below */
    if (!hashed && names.n > 1 && hash_labels(r, &rows, &labels) != 0)
        goto out;
    if (names.n && nrows > FCD_FRAME_MAX_CELLS / names.n) {
        frame_err(r->err, "more cells than FCD_FRAME_MAX_CELLS");
        goto out;
    }
    /* pandas unites the columns' labels in the order it meets them, but
     * the labels of a lone column come out sorted (union_indexes sorts a
     * single list): Python orders str by code point, as memcmp orders
     * UTF-8. */
    if (names.n == 1 && nrows > 1) {
        if ((keys = malloc(nrows * sizeof *keys)) == NULL ||
            (sorted = malloc(nrows * sizeof *sorted)) == NULL) {
            oom(r);
            goto out;
        }
        for (size_t k = 0; k < nrows; k++) {
            keys[k].id = k;
            keys[k].prefix = label_prefix(r->pool.data + labels.v[k].u,
                                          labels.v[k].len);
        }
        qsort_r(keys, nrows, sizeof *keys, by_label, &labels_ctx);
        for (size_t k = 0; k < nrows; k++) {
            sorted[k] = labels.v[keys[k].id];
            if (k && by_label(&keys[k - 1], &keys[k], &labels_ctx) == 0) {
                frame_err(r->err, "label repeated in column 0");
                goto out;
            }
        }
        memcpy(labels.v, sorted, nrows * sizeof *sorted);
        /* keys becomes the inverse: old row id -> sorted position */
        for (size_t k = 0; k < nrows; k++)
            sorted[keys[k].id].u = k;
        for (size_t k = 0; k < ncells; k++)
            cells[k].row = (size_t)sorted[cells[k].row].u;
    }
    /* Lay the cells out row by row; a label a column lacks is missing. */
    ngrid = nrows * names.n;
    if ((grid = calloc(ngrid ? ngrid : 1, sizeof *grid)) == NULL) {
        oom(r);
        goto out;
    }
    for (size_t k = 0; k < ncells; k++) {
        struct cell *g = &grid[cells[k].row * names.n + cells[k].col];

        if (g->kind != K_ABSENT) {
            frame_err(r->err, "label repeated in column %zu", cells[k].col);
            goto out;
        }
        *g = cells[k].c;
    }
    for (size_t k = 0; k < ngrid; k++)
        if (grid[k].kind == K_ABSENT)
            grid[k].kind = K_NULL;
    {
        struct grid g = {grid, nrows, names.n, {labels.v, labels.n, 1, r->pool.data}};

        f = assemble(r, nrows, names.v, names.n, M_INDEX_COLUMNS, grid_build, &g);
    }
out:
    frame_strset_free(&rows);
    frame_strset_free(&cols);
    free(names.v);
    free(labels.v);
    free(cells);
    free(grid);
    free(keys);
    free(sorted);
    return f;
}

fcd_frame_t *fcd_frame_from_json(const char *text, size_t len,
                                 fcd_frame_orient_t orient,
                                 fcd_frame_err_t *err)
{
    struct reader r;
    fcd_frame_err_t own;
    fcd_frame_t *f;

    if (err == NULL)
        err = &own;
    err->msg[0] = '\0';
    if (text == NULL && len) {
        frame_err(err, "no text");
        return NULL;
    }
    if (orient != FCD_FRAME_SPLIT && orient != FCD_FRAME_COLUMNS) {
        frame_err(err, "unknown orient %d", (int)orient);
        return NULL;
    }
    memset(&r, 0, sizeof r);
    r.start = r.p = text ? text : "";
    r.end = r.p + len;
    r.err = err;
    r.c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    /* a pool that never moves to NULL, so offsets always resolve */
    if (frame_buf_reserve(&r.pool, len < 4096 ? len : 4096) != 0) {
        FRAME_OOM(err);
        f = NULL;
    } else {
        f = orient == FCD_FRAME_SPLIT ? read_split(&r) : read_columns(&r);
        skip_ws(&r);
        if (f != NULL && r.p != r.end) {
            fail(&r, "text after the JSON value");
            fcd_frame_free(f);
            f = NULL;
        }
    }
    if (r.c_locale != (locale_t)0)
        freelocale(r.c_locale);
    fcd_frame_buf_free(&r.pool);
    return f;
}
