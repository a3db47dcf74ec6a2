/*
 * frame_int.h - what the files of frame/ share; not for apps.
 *
 * A frame is a set of equally long columns.  Fixed-width types keep one
 * array of `cap` values; a string column keeps its bytes back to back in a
 * pool, each followed by a NUL, with off[i]..off[i+1]-1 the bytes of row i
 * (so every string is a C string and may still hold NUL bytes), plus one
 * byte a row saying whether it is missing.  The index is a column of its own
 * or NULL for a RangeIndex.
 */
#ifndef FCD_FRAME_INT_H
#define FCD_FRAME_INT_H

#include "frame/frame.h"

struct fcd_frame_col {
    fcd_frame_type_t type;
    char *name; /* NUL-terminated; NULL for the index */
    size_t name_len;
    union {
        void *any;
        int64_t *i64;  /* INT64, DATETIME */
        double *f64;   /* FLOAT64 */
        signed char *b; /* BOOL */
        size_t *off;   /* STRING: cap + 1 offsets into pool */
    } v;
    unsigned char *na;    /* STRING: 1 when missing */
    fcd_frame_buf_t pool; /* STRING: the bytes */
};

struct fcd_frame {
    size_t nrows;
    size_t cap; /* rows every column (and the index) has room for */
    size_t ncols, colcap;
    struct fcd_frame_col *cols;
    struct fcd_frame_col *index; /* NULL: RangeIndex */
    bool packed;                 /* one block from fcd_frame_pack */
};

/* ---- frame.c ---- */

void frame_err(fcd_frame_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define FRAME_OOM(err) frame_err((err), "out of memory")

/* Room for `extra` more bytes and a NUL.  0, or -1 when out of memory. */
int frame_buf_reserve(fcd_frame_buf_t *b, size_t extra);
int frame_buf_put(fcd_frame_buf_t *b, const void *p, size_t n);
/* Back to `len` bytes (undoing a failed encode). */
void frame_buf_truncate(fcd_frame_buf_t *b, size_t len);

/* The column `col` names (FCD_FRAME_INDEX: the index), or NULL. */
const struct fcd_frame_col *frame_col(const fcd_frame_t *f, size_t col);

/* An empty column of `type` with room for `cap` rows; `name` may be NULL. */
int frame_col_init(struct fcd_frame_col *c, fcd_frame_type_t type,
                   const char *name, size_t name_len, size_t cap);
void frame_col_free(struct fcd_frame_col *c);
/* Append a string at row `row` (the column has room for it). */
int frame_col_put_str(struct fcd_frame_col *c, size_t row, const char *s,
                      size_t n, bool missing);
/* Take over a built column (all or nothing: on failure c is freed). */
int frame_add_built(fcd_frame_t *f, struct fcd_frame_col *c);

/* ---- format.c ---- */

/* Whether s[0..n) is well-formed UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF). */
bool frame_utf8_valid(const char *s, size_t n);

/* Decimal text of v; returns the length (at most 20). */
size_t frame_fmt_int(char *out, int64_t v);
/* A double as pandas' JSON writer (ujson, double_precision=10) writes it;
 * v must be finite.  Returns the length (at most 32). */
size_t frame_fmt_pandas_double(char *out, double v);
/* A double as Python's repr() writes it.  Returns the length (< 32). */
size_t frame_fmt_repr(char *out, double v);

/* A broken-down time; nsec in [0, 1e9). */
struct frame_tm {
    int64_t year;
    int mon, day, hour, min, sec;
    int32_t nsec;
};
void frame_ns_to_tm(int64_t ns, struct frame_tm *tm);
/* The time's ns since the epoch; false when out of pandas' range. */
bool frame_tm_to_ns(const struct frame_tm *tm, int64_t *ns);
/* "YYYY-MM-DDTHH:MM:SS.mmm" (pandas' date_format='iso'); length 23. */
size_t frame_fmt_iso_ms(char *out, int64_t ns);
/* str(pd.Timestamp): "YYYY-MM-DD HH:MM:SS" then ".ffffff" when there are
 * microseconds, ".fffffffff" when there are nanoseconds.  < 32 bytes. */
size_t frame_fmt_timestamp(char *out, int64_t ns);
/* Milliseconds since the epoch as pandas' epoch format computes them
 * (truncated toward zero). */
static inline int64_t frame_ns_to_epoch_ms(int64_t ns)
{
    return ns / 1000000;
}

/* A character as JSON's escape: \uXXXX, or for one past the BMP the
 * surrogate pair; both pandas and json.dumps(ensure_ascii) write it so.
 * At most 12 bytes at p; returns the end. */
static inline char *frame_put_json_u(char *p, uint32_t cp)
{
    static const char hex[] = "0123456789abcdef";

    if (cp >= 0x10000) {
        cp -= 0x10000;
        p = frame_put_json_u(p, 0xd800 | cp >> 10);
        cp = 0xdc00 | (cp & 0x3ff);
    }
    *p++ = '\\';
    *p++ = 'u';
    *p++ = hex[cp >> 12 & 15];
    *p++ = hex[cp >> 8 & 15];
    *p++ = hex[cp >> 4 & 15];
    *p++ = hex[cp & 15];
    return p;
}

/* An ASCII byte that a JSON string cannot hold as it is: by name where
 * JSON has one (\" \\ \/ \b \f \n \r \t), else \u00XX.  Which bytes
 * need it is the caller's rule (pandas escapes '/', json.dumps does not
 * and so never passes it).  At most 6 bytes at p; returns the end. */
static inline char *frame_put_json_escape(char *p, unsigned c)
{
    char named;

    switch (c) {
    case '"': named = '"'; break;
    case '\\': named = '\\'; break;
    case '/': named = '/'; break;
    case '\b': named = 'b'; break;
    case '\f': named = 'f'; break;
    case '\n': named = 'n'; break;
    case '\r': named = 'r'; break;
    case '\t': named = 't'; break;
    default: return frame_put_json_u(p, c);
    }
    *p++ = '\\';
    *p++ = named;
    return p;
}

/* Parse what Python's float() and int() accept (ASCII white space around,
 * '_' between digits); false when they would raise. */
bool frame_parse_pyfloat(const char *s, size_t n, double *out);
bool frame_parse_pyint(const char *s, size_t n, int64_t *out);
/* Parse ISO text as pandas writes and reads it: YYYY-MM-DD, optionally
 * followed by 'T' or ' ' and HH:MM[:SS[.f{1,9}]]. */
bool frame_parse_iso(const char *s, size_t n, int64_t *ns);
/* strtod in the C locale, whatever the program's locale. */
double frame_strtod(const char *s, char **end);

/* ---- text.c ---- */

/* Where a writer hands its text, piece by piece: 0, or -1 to stop (out of
 * memory). */
typedef int (*frame_emit_fn)(void *ctx, const char *p, size_t n);
/* Column `col` (FCD_FRAME_INDEX: the index) as the JSON array Python's
 * json module writes for a figure (see fcd_frame_column_view), in pieces of
 * at most a few KB.  0, or the first non-zero emit() returned. */
int frame_column_json_text(const fcd_frame_t *f, size_t col, frame_emit_fn emit, void *ctx);

/* ---- hash.c ---- */

/* A set of byte strings that hands out dense ids 0, 1, 2... in insertion
 * order (orient='columns' labels and names).  Keys are (offset, length) in
 * the buffer *base points to, so that buffer may move as it grows.  The
 * hash is seeded per set, so crafted keys cannot be made to collide. */
struct frame_strset {
    size_t *slots; /* id + 1; 0 when empty */
    size_t mask;
    size_t count;
    size_t *offs, *lens;
    size_t keycap;
    const char *const *base;
    uint64_t seed;
};
int frame_strset_init(struct frame_strset *s, const char *const *base,
                      size_t expected);
void frame_strset_free(struct frame_strset *s);
/* The id of the key at base[off..off+len), added when new; *added says
 * which.  (size_t)-1 when out of memory. */
size_t frame_strset_add(struct frame_strset *s, size_t off, size_t len,
                        bool *added);

#endif /* FCD_FRAME_INT_H */
