/*
 * frame.h - a small typed column table for Dash apps written in C.
 *
 * The guide's apps keep their data in pandas DataFrames: they filter rows,
 * hand columns to figures, show a frame as a table or as CSV, and move
 * frames between callbacks as JSON (a dcc.Store) or through the server-side
 * cache.  fcd_frame_t is the C counterpart, kept to what those apps need:
 *
 *   - columns of five types: int64, float64 (NaN is missing), string (UTF-8,
 *     NULL is missing), bool (with missing) and datetime (nanoseconds since
 *     the epoch, FCD_FRAME_NAT is missing);
 *   - an index: a RangeIndex (0..n-1) unless one was set or decoded;
 *   - the JSON texts pandas writes with to_json(orient='split') and
 *     to_json() (orient='columns'), byte for byte, and their decoding with
 *     the dtype rules of pandas' read_json (frame/README.md lists them);
 *   - pandas' to_csv(index=False) text, cell text as Python's str() shows it,
 *     and a compact binary form for the cache.
 *
 * Ownership.  A frame is owned by whoever created it and released with
 * fcd_frame_free(); functions that return a new frame say so.  Pointers
 * into a frame (names, arrays, strings) are borrowed: valid until the frame
 * changes or is freed.  A packed frame (fcd_frame_pack) lives in memory the
 * caller's allocator gave and is read-only.  Frames are not locked: share a
 * frame between threads only for reading.
 *
 * Errors.  Functions return FCD_OK or FCD_ERROR (or a frame or NULL) and,
 * when `err` is not NULL, fill err->msg with one line saying why; decoders
 * name the byte offset.  Out of memory is an FCD_ERROR with the message "out
 * of memory"; the frame or buffer in hand is left as it was before the call.
 * Nothing here prints, exits, or keeps global mutable state.
 *
 * Every string in a frame is valid UTF-8 (checked when it enters), so every
 * encoder succeeds on any frame except for lack of memory and the two
 * uniqueness rules pandas has for orient='columns'.
 */
#ifndef FCD_FRAME_H
#define FCD_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "fcdash.h"

#ifndef FCD_API
#if defined(__GNUC__)
#define FCD_API __attribute__((visibility("default")))
#else
#define FCD_API
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Limits (also in frame/README.md) ----------------------------------- */

/* Rows and columns of any frame; decoders refuse more.  16 Mi rows cover a
 * multi-hundred-megabyte Store, far beyond what a browser would hold. */
#define FCD_FRAME_MAX_ROWS ((size_t)1 << 24)
#define FCD_FRAME_MAX_COLS ((size_t)4096)
/* Cells (rows x columns) a decoder accepts: bounds its working memory
 * (16 bytes a cell for split, about 50 for orient='columns') whatever the
 * shape of the text. */
#define FCD_FRAME_MAX_CELLS ((size_t)1 << 25)
/* Bytes of one string (a cell, a label or a column name). */
#define FCD_FRAME_MAX_STRING ((size_t)1 << 24)
/* Characters of one JSON number; longer numbers are refused. */
#define FCD_FRAME_MAX_NUMBER 512

/* ---- Types -------------------------------------------------------------- */

typedef struct fcd_frame fcd_frame_t;

typedef enum fcd_frame_type {
    FCD_FRAME_INT64 = 1,    /* int64_t; never missing (pandas int64) */
    FCD_FRAME_FLOAT64 = 2,  /* double; NaN is missing */
    FCD_FRAME_STRING = 3,   /* UTF-8; missing is NULL */
    FCD_FRAME_BOOL = 4,     /* signed char 1, 0 or FCD_FRAME_BOOL_NA */
    FCD_FRAME_DATETIME = 5  /* int64_t ns since 1970-01-01; FCD_FRAME_NAT */
} fcd_frame_type_t;

#define FCD_FRAME_NAT INT64_MIN   /* pandas' NaT */
#define FCD_FRAME_BOOL_NA (-1)    /* a missing bool (pandas: None) */
#define FCD_FRAME_NPOS ((size_t)-1)  /* "no such column" */
#define FCD_FRAME_INDEX ((size_t)-2) /* the index, where a column is asked */

/* The JSON shapes of pandas' to_json. */
typedef enum fcd_frame_orient {
    FCD_FRAME_SPLIT = 1,   /* {"columns":[..],"index":[..],"data":[[..],..]} */
    FCD_FRAME_COLUMNS = 2  /* {"column":{"label":value,..},..} (the default) */
} fcd_frame_orient_t;

/* Encoder flag: datetimes as ISO text (pandas' date_format='iso') rather
 * than milliseconds since the epoch (pandas' default, 'epoch'). */
#define FCD_FRAME_ISO_DATES 0x1u

typedef struct fcd_frame_err {
    char msg[200];
} fcd_frame_err_t;

/* A growable output buffer.  Encoders append to it; after a successful
 * call data[len] is a NUL (data is not NUL-terminated inside when a frame
 * holds strings with NUL bytes, so use len).  After a failed call len is
 * what it was before.  Start from FCD_FRAME_BUF_INIT; release data with
 * fcd_frame_buf_free() or free(), or keep it. */
typedef struct fcd_frame_buf {
    char *data;
    size_t len;
    size_t cap;
} fcd_frame_buf_t;
#define FCD_FRAME_BUF_INIT {NULL, 0, 0}

FCD_API void fcd_frame_buf_free(fcd_frame_buf_t *buf);

/* One cell for fcd_frame_append_row.  Build them with the macros below:
 *   fcd_frame_append(f, &err, FCD_FRAME_S("MTL"), FCD_FRAME_I(3),
 *                    FCD_FRAME_F(0.5), FCD_FRAME_NA);
 * An int cell may go into a float64 column; FCD_FRAME_NA into any column
 * but an int64 one.  The string of an FCD_FRAME_S cell is copied. */
typedef struct fcd_frame_value {
    int type; /* an fcd_frame_type_t, or 0 for missing */
    union {
        int64_t i;     /* INT64, DATETIME (ns) */
        double f;      /* FLOAT64 */
        const char *s; /* STRING: NUL-terminated; NULL is missing */
        int b;         /* BOOL: nonzero is true */
    } v;
} fcd_frame_value_t;

#define FCD_FRAME_I(x) ((fcd_frame_value_t){.type = FCD_FRAME_INT64, .v.i = (x)})
#define FCD_FRAME_F(x) ((fcd_frame_value_t){.type = FCD_FRAME_FLOAT64, .v.f = (x)})
#define FCD_FRAME_S(x) ((fcd_frame_value_t){.type = FCD_FRAME_STRING, .v.s = (x)})
#define FCD_FRAME_B(x) ((fcd_frame_value_t){.type = FCD_FRAME_BOOL, .v.b = (x)})
#define FCD_FRAME_T(ns) ((fcd_frame_value_t){.type = FCD_FRAME_DATETIME, .v.i = (ns)})
#define FCD_FRAME_NA ((fcd_frame_value_t){.type = 0})

/* ---- Building ----------------------------------------------------------- */

/* A new empty frame (no columns, no rows, RangeIndex).  The caller owns it.
 * NULL when out of memory. */
FCD_API fcd_frame_t *fcd_frame_new(void);

/* Release a frame and everything in it.  NULL is fine; a packed frame is
 * left alone (its memory belongs to its allocator). */
FCD_API void fcd_frame_free(fcd_frame_t *f);

/* Add an empty column `name` (UTF-8, copied) of `type`.  Only while the frame
 * has no rows.  Duplicate names are allowed, as in pandas; lookups find the
 * first. */
FCD_API fcd_status_t fcd_frame_add_column(fcd_frame_t *f, const char *name,
                                          fcd_frame_type_t type,
                                          fcd_frame_err_t *err);

/* Append one row: `n` cells, one per column in order (see
 * fcd_frame_value_t).  All or nothing: on error the frame is unchanged.
 * Not on a frame with an explicit index (set the index afterwards). */
FCD_API fcd_status_t fcd_frame_append_row(fcd_frame_t *f,
                                          const fcd_frame_value_t *cells,
                                          size_t n, fcd_frame_err_t *err);
#define fcd_frame_append(f, err, ...)                                        \
    fcd_frame_append_row((f), (const fcd_frame_value_t[]){__VA_ARGS__},      \
                         sizeof((const fcd_frame_value_t[]){__VA_ARGS__}) /  \
                             sizeof(fcd_frame_value_t),                      \
                         (err))

/* Add a whole column `name` holding n values (copied).  The first column
 * of an empty frame (no columns, no rows) sets the row count; later ones
 * must have as many.  Strings: NULL entries are missing.  Bools: 1, 0 or
 * FCD_FRAME_BOOL_NA.  Datetimes: ns since the epoch, FCD_FRAME_NAT. */
FCD_API fcd_status_t fcd_frame_add_int64(fcd_frame_t *f, const char *name,
                                         const int64_t *values, size_t n,
                                         fcd_frame_err_t *err);
FCD_API fcd_status_t fcd_frame_add_float64(fcd_frame_t *f, const char *name,
                                           const double *values, size_t n,
                                           fcd_frame_err_t *err);
FCD_API fcd_status_t fcd_frame_add_string(fcd_frame_t *f, const char *name,
                                          const char *const *values, size_t n,
                                          fcd_frame_err_t *err);
FCD_API fcd_status_t fcd_frame_add_bool(fcd_frame_t *f, const char *name,
                                        const signed char *values, size_t n,
                                        fcd_frame_err_t *err);
FCD_API fcd_status_t fcd_frame_add_datetime(fcd_frame_t *f, const char *name,
                                            const int64_t *ns, size_t n,
                                            fcd_frame_err_t *err);

/* Replace the index by n labels (copied; n must be the row count). */
FCD_API fcd_status_t fcd_frame_set_index_int64(fcd_frame_t *f,
                                               const int64_t *labels, size_t n,
                                               fcd_frame_err_t *err);
FCD_API fcd_status_t fcd_frame_set_index_string(fcd_frame_t *f,
                                                const char *const *labels,
                                                size_t n, fcd_frame_err_t *err);

/* Back to a RangeIndex, as pandas' reset_index(drop=True).  Does nothing on
 * a packed frame. */
FCD_API void fcd_frame_reset_index(fcd_frame_t *f);

/* ---- Reading ------------------------------------------------------------ */

FCD_API size_t fcd_frame_nrows(const fcd_frame_t *f);
FCD_API size_t fcd_frame_ncols(const fcd_frame_t *f);

/* Column `col`'s name (borrowed), or NULL when col is out of range. */
FCD_API const char *fcd_frame_name(const fcd_frame_t *f, size_t col);

/* Column `col`'s type; with col FCD_FRAME_INDEX, the index's type, or 0 for
 * a RangeIndex; 0 when col is out of range. */
FCD_API fcd_frame_type_t fcd_frame_type(const fcd_frame_t *f, size_t col);

/* The first column named `name`, or FCD_FRAME_NPOS. */
FCD_API size_t fcd_frame_find(const fcd_frame_t *f, const char *name);

/* A column's values as an array of nrows (borrowed), or NULL when the
 * column has another type.  `col` may be FCD_FRAME_INDEX (a RangeIndex has
 * no array: NULL).  int64s serves INT64 and DATETIME columns. */
FCD_API const int64_t *fcd_frame_int64s(const fcd_frame_t *f, size_t col);
FCD_API const double *fcd_frame_float64s(const fcd_frame_t *f, size_t col);
FCD_API const signed char *fcd_frame_bools(const fcd_frame_t *f, size_t col);

/* The string in (col, row) (borrowed, NUL-terminated) and, when `len` is
 * not NULL, its length in bytes (strings decoded from JSON may hold NUL).
 * NULL when missing, out of range or not a string column. */
FCD_API const char *fcd_frame_str(const fcd_frame_t *f, size_t col, size_t row,
                                  size_t *len);

/* Whether (col, row) is missing; false when out of range. */
FCD_API bool fcd_frame_is_na(const fcd_frame_t *f, size_t col, size_t row);

/* Append the cell's text as Python's str() shows the value pandas holds:
 * 42, 1.5, 1e+16, nan, inf, True, None (a missing string or bool), the
 * string itself, 2024-01-01 00:00:00[.ffffff|.fffffffff], NaT.  `col` may
 * be FCD_FRAME_INDEX.  FCD_ERROR when out of range or out of memory. */
FCD_API fcd_status_t fcd_frame_cell_text(const fcd_frame_t *f, size_t col,
                                         size_t row, fcd_frame_buf_t *out);

/* A column as a JSON array for a figure: numbers (floats written as
 * Python's repr writes them), strings, booleans, datetimes as text
 * ("2024-01-01 00:00:00"), missing values as null.  `col` may be
 * FCD_FRAME_INDEX.  New reference; NULL when out of range or out of
 * memory. */
FCD_API json_object *fcd_frame_column_json(const fcd_frame_t *f, size_t col);

/* ---- Selecting rows ----------------------------------------------------- */

/* A row predicate: true keeps `row`.  `f` and `ctx` are borrowed. */
typedef bool (*fcd_frame_pred_fn)(const fcd_frame_t *f, size_t row, void *ctx);

/* New frames holding some rows of `f`, in order, with their index labels
 * (pandas' df[mask]: a RangeIndex becomes the kept row numbers; call
 * fcd_frame_reset_index for 0..n-1).  The caller owns the result; NULL
 * and err filled on error.
 *   take: the rows listed (each < nrows; repeats allowed);
 *   filter: the rows `pred` keeps;
 *   filter_eq_int: rows whose `column` equals v (int64, float64 or bool
 *                  columns; missing never equals);
 *   filter_eq_str: rows whose string `column` equals s. */
FCD_API fcd_frame_t *fcd_frame_take(const fcd_frame_t *f, const size_t *rows,
                                    size_t n, fcd_frame_err_t *err);
FCD_API fcd_frame_t *fcd_frame_filter(const fcd_frame_t *f,
                                      fcd_frame_pred_fn pred, void *ctx,
                                      fcd_frame_err_t *err);
FCD_API fcd_frame_t *fcd_frame_filter_eq_int(const fcd_frame_t *f,
                                             const char *column, int64_t v,
                                             fcd_frame_err_t *err);
FCD_API fcd_frame_t *fcd_frame_filter_eq_str(const fcd_frame_t *f,
                                             const char *column, const char *s,
                                             fcd_frame_err_t *err);

/* A read-only copy of `f` in one block from alloc(ctx, size) (for example
 * app memory that is frozen when serving starts).  fcd_frame_free does not
 * release it, changes to it fail, and it lives as long as that memory.
 * NULL when alloc returns NULL or a size overflows. */
FCD_API fcd_frame_t *fcd_frame_pack(const fcd_frame_t *f,
                                    void *(*alloc)(void *ctx, size_t size),
                                    void *ctx, fcd_frame_err_t *err);

/* ---- Text forms --------------------------------------------------------- */

/* Append pandas' df.to_json(orient=..., date_format=...) text to `out`:
 * FCD_FRAME_SPLIT with FCD_FRAME_ISO_DATES is the guide's
 * to_json(orient='split', date_format='iso'); FCD_FRAME_COLUMNS with
 * flags 0 is plain to_json().  Floats as pandas writes them
 * (double_precision=10), NaN, inf and missing values as null, strings
 * ASCII-only with '/' escaped.  FCD_ERROR only when out of memory or, for
 * FCD_FRAME_COLUMNS, when the index or the column names repeat (pandas
 * refuses those too). */
FCD_API fcd_status_t fcd_frame_to_json(const fcd_frame_t *f,
                                       fcd_frame_orient_t orient,
                                       unsigned flags, fcd_frame_buf_t *out,
                                       fcd_frame_err_t *err);

/* Decode `len` bytes of JSON text in the given shape into a new frame, as
 * pd.read_json(text, orient=...) would (types inferred by its rules, see
 * frame/README.md).  The text is untrusted: anything malformed, of another
 * shape, over a limit, or mixing strings with numbers in one column gives
 * NULL and err filled.  The caller owns the result. */
FCD_API fcd_frame_t *fcd_frame_from_json(const char *text, size_t len,
                                         fcd_frame_orient_t orient,
                                         fcd_frame_err_t *err);

/* Append pandas' df.to_csv(index=False) text to `out` (a header line, then
 * one line per row, each ending in \n). */
FCD_API fcd_status_t fcd_frame_to_csv(const fcd_frame_t *f,
                                      fcd_frame_buf_t *out,
                                      fcd_frame_err_t *err);

/* ---- Compact binary form ------------------------------------------------ */

/* Append the frame's binary form to `out` (little-endian, versioned; the
 * layout is in frame/README.md). */
FCD_API fcd_status_t fcd_frame_to_binary(const fcd_frame_t *f,
                                         fcd_frame_buf_t *out,
                                         fcd_frame_err_t *err);

/* Decode a binary form (untrusted bytes: every length is checked against
 * `len` and the limits, every string against UTF-8).  New frame owned by
 * the caller, or NULL and err filled. */
FCD_API fcd_frame_t *fcd_frame_from_binary(const void *data, size_t len,
                                           fcd_frame_err_t *err);

#ifdef __cplusplus
}
#endif
#endif /* FCD_FRAME_H */
