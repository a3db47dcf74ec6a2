/*
 * fcdash.h - the one public header of fcdash.
 *
 * fcdash runs the server side of a Plotly Dash app as a pool of stateless
 * FastCGI workers written in C.  An app is one small C program: it builds
 * its layout and its read-only data, registers callbacks, and hands control
 * to fcd_run(), which serves the Dash protocol until it is told to stop.
 *
 * Values.  Every Dash value (a prop, a figure, a component tree) is a json-c
 * object.  Ownership is stated on each prototype in jansson's words:
 *   - "new reference": the caller owns the result and must release it
 *     (json_object_put) unless it hands it on;
 *   - "borrowed": valid until the request ends; do not release it;
 *   - "takes over": the function owns the argument from then on, also when
 *     it fails.
 *
 * Memory.  Each request has an arena (fcd_alloc, fcd_printf) released when
 * the response has been written.  Data built before fcd_run() and the
 * program's global variables are frozen (read-only) when the first request
 * is accepted: a callback that writes to them fails at once with a message
 * naming the cause, instead of diverging silently between workers.
 *
 * Errors.  Library calls return a status; none of them prints or exits.
 * Mistakes in an app's set-up (a malformed prop, an unknown output) are
 * collected and reported by fcd_run(), which then refuses to start.
 */
#ifndef FCDASH_H
#define FCDASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FCD_API __attribute__((visibility("default")))
#define FCD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define FCD_SENTINEL __attribute__((sentinel))
#else
#define FCD_API
#define FCD_PRINTF(f, a)
#define FCD_SENTINEL
#endif

/* The closed set of outcomes.  FCD_DECLINED is "degraded, not failed". */
typedef enum fcd_status {
    FCD_OK = 0,             /* done: outputs that were set are sent */
    FCD_PREVENT_UPDATE = 1, /* Dash's PreventUpdate: 204, nothing changes */
    FCD_DECLINED = 2,       /* not done, and that is not an error */
    FCD_ERROR = 3           /* failed: the message says why */
} fcd_status_t;

typedef struct fcd_app fcd_app_t;   /* one Dash app */
typedef struct fcd_call fcd_call_t; /* one request: a callback or a page load */

/* A server callback.  Read arguments with fcd_arg*, set outputs with
 * fcd_out*; an output never set is no_update.  Return FCD_OK,
 * FCD_PREVENT_UPDATE, or fcd_fail(call, ...). */
typedef fcd_status_t (*fcd_callback_fn)(fcd_call_t *call);

/* A layout built per page load (Dash's `app.layout = serve_layout`).
 * Returns a new reference; NULL or fcd_fail() yields a 500. */
typedef json_object *(*fcd_layout_fn)(fcd_call_t *call);

/* ---- The app ------------------------------------------------------------ */

/* A new app named `name` (letters, digits, '-', '_'; used in logs and
 * cache keys).  Returns NULL only when out of memory. */
FCD_API fcd_app_t *fcd_app_new(const char *name);

/* The page layout: a component tree, or an array of them.  Takes over
 * `layout`. */
FCD_API void fcd_set_layout(fcd_app_t *app, json_object *layout);

/* The layout comes from `fn`, called for every page load. */
FCD_API void fcd_set_layout_fn(fcd_app_t *app, fcd_layout_fn fn);

/* Flags for fcd_callback(). */
#define FCD_PREVENT_INITIAL_CALL 0x1u /* not called on page load */

/*
 * Register a callback.  Each spec is a list of `id.property` separated by
 * spaces, in argument order:
 *   outputs  "output.children" or "graph1.figure graph2.figure";
 *            NULL or "" for a callback with no output (it may only
 *            fcd_set_props);
 *   inputs   "score.value" (at least one);
 *   state    NULL, or like inputs; fcd_arg() numbers inputs then state.
 * A pattern-matching id is its JSON text with sorted keys and no spaces,
 * e.g. {"index":["ALL"],"type":"pm"}.n_clicks.  Returns 0, or -1 after
 * recording the mistake for fcd_run() to report.
 */
FCD_API int fcd_callback_named(fcd_app_t *app, const char *name, fcd_callback_fn fn,
                       const char *outputs, const char *inputs,
                       const char *state, unsigned flags);
#define fcd_callback(app, fn, outputs, inputs, state, flags)                  \
    fcd_callback_named((app), #fn, (fn), (outputs), (inputs), (state), (flags))

/* Memory frozen with the app's data when serving starts.  Zeroed.  NULL
 * when out of memory, or after serving started (then it is too late). */
FCD_API void *fcd_app_alloc(fcd_app_t *app, size_t size);

/* Serve: parse the command line (--listen ADDR, --check, --help), read the
 * FCDASH_* settings, report set-up mistakes, freeze app data, and answer
 * requests until SIGTERM (the request in hand is finished first).
 * Returns the process exit status.  Releases the app. */
FCD_API int fcd_run(fcd_app_t *app, int argc, char **argv);

/* ---- Inside a callback: arguments -------------------------------------- */

/* Number of arguments: inputs, then state. */
FCD_API size_t fcd_arg_count(const fcd_call_t *call);

/* Argument i (inputs first, then state).  Borrowed.  NULL when the prop has
 * no value in the browser (Python's None) or i is out of range.  For a
 * pattern-matching ALL input it is an array of the matched values. */
FCD_API json_object *fcd_arg(const fcd_call_t *call, size_t i);

/* Argument i as a number or string, or `fallback` when it is None or of
 * another type.  Strings are borrowed. */
FCD_API int64_t fcd_arg_int(const fcd_call_t *call, size_t i, int64_t fallback);
FCD_API double fcd_arg_double(const fcd_call_t *call, size_t i, double fallback);
FCD_API const char *fcd_arg_str(const fcd_call_t *call, size_t i, const char *fallback);
FCD_API bool fcd_arg_is_none(const fcd_call_t *call, size_t i);

/* Which inputs fired (Dash's callback_context.triggered): the number of
 * entries, and entry i as "id.property" (borrowed; NULL past the end).
 * Zero entries on the initial call. */
FCD_API size_t fcd_triggered_count(const fcd_call_t *call);
FCD_API const char *fcd_triggered(const fcd_call_t *call, size_t i);
/* The id part of the first entry (ctx.triggered_id), or NULL.  Borrowed. */
FCD_API const char *fcd_triggered_id(fcd_call_t *call);

/* ---- Inside a callback: results ----------------------------------------- */

/* Set output i.  Takes over `value` (NULL sends JSON null).  Returns FCD_OK,
 * or FCD_ERROR (and the call fails) when i is not an output. */
FCD_API fcd_status_t fcd_out(fcd_call_t *call, size_t i, json_object *value);
FCD_API fcd_status_t fcd_out_int(fcd_call_t *call, size_t i, int64_t value);
FCD_API fcd_status_t fcd_out_double(fcd_call_t *call, size_t i, double value);
FCD_API fcd_status_t fcd_out_str(fcd_call_t *call, size_t i, const char *value);
FCD_API fcd_status_t fcd_out_printf(fcd_call_t *call, size_t i, const char *fmt, ...)
    FCD_PRINTF(3, 4);

/* Leave output i as it is (Dash's no_update).  Outputs never set are
 * no_update anyway; this undoes an earlier fcd_out. */
FCD_API void fcd_no_update(fcd_call_t *call, size_t i);

/* Set a prop of another component (Dash's set_props).  Takes over value. */
FCD_API fcd_status_t fcd_set_props(fcd_call_t *call, const char *id, const char *prop,
                           json_object *value);

/* Fail the call with a message (500; the text reaches the client only in
 * debug mode, the log always).  Returns FCD_ERROR. */
FCD_API fcd_status_t fcd_fail(fcd_call_t *call, const char *fmt, ...) FCD_PRINTF(2, 3);

/* ---- Inside a callback: request memory ---------------------------------- */

/* `size` zeroed bytes, released with the request.  NULL when out of memory. */
FCD_API void *fcd_alloc(fcd_call_t *call, size_t size);
/* A formatted string released with the request.  NULL when out of memory. */
FCD_API char *fcd_printf(fcd_call_t *call, const char *fmt, ...) FCD_PRINTF(2, 3);
/* Call fn(ptr) when the request ends (after the answer is written): for
 * values a callback made with another library's allocator.  Returns 0, or
 * -1 when out of memory, in which case fn(ptr) has run already. */
FCD_API int fcd_defer(fcd_call_t *call, void (*fn)(void *), void *ptr);
/* The app serving this call.  Borrowed. */
FCD_API const fcd_app_t *fcd_call_app(const fcd_call_t *call);

/* ---- Inside a callback: the shared cache -------------------------------- */

/* A function fcd_memoize keeps the results of.  It reads its arguments from
 * `args` (borrowed) and, returning FCD_OK, hands over a malloc'd buffer of
 * *len bytes in *out (NULL when *len is 0).  On failure it returns
 * fcd_fail(call, ...), and nothing is cached. */
typedef fcd_status_t (*fcd_memo_fn)(fcd_call_t *call, json_object *args, void **out,
                                    size_t *len);

/*
 * Dash's @cache.memoize(): the result of fn(call, args), computed once for
 * every worker and host sharing FCDASH_CACHE and reused until `timeout`
 * seconds have passed (0: until evicted).  When several workers miss the
 * same call at once, one computes and the others wait for its result.  A
 * cache that is down, slow or full makes the call compute here and the
 * request still succeeds (the log says so, rate-limited).  `name` keys the
 * function's entries; `args` (borrowed) is canonicalized, so equal JSON
 * gives equal keys.  On FCD_OK, *data and *len hold the result, borrowed
 * until the request ends.  FCD_ERROR when fn failed (the call fails with
 * its message).
 */
FCD_API fcd_status_t fcd_memoize(fcd_call_t *call, const char *name, json_object *args,
                                 unsigned timeout, fcd_memo_fn fn, const void **data,
                                 size_t *len);

/* Forget one memoized call, or every call of `name` (all arguments).
 * FCD_OK, FCD_DECLINED when the cache could not be reached (logged). */
FCD_API fcd_status_t fcd_memoize_forget(fcd_call_t *call, const char *name, json_object *args);
FCD_API fcd_status_t fcd_memoize_forget_all(fcd_call_t *call, const char *name);

/* ---- Per-session server data (the guide's Example 4) --------------------- */

/* The prop that carries the page's session id, e.g. "session-id.data" (a
 * dcc.Store the layout function fills with fcd_session_new).  A callback
 * with that prop among its inputs or state runs only after the id it sends
 * is verified: a forged, tampered, truncated, expired or retired-key id
 * gets 403 with a JSON error, and the callback never runs.  Sessions need
 * a secret shared by every worker and host: FCDASH_SECRET or
 * FCDASH_SECRET_FILE (without one, a development secret is made with a
 * loud warning, and FCDASH_ENV=production refuses to start). */
FCD_API void fcd_use_sessions(fcd_app_t *app, const char *prop);

/* A fresh signed session id, for a layout function.  Borrowed until the
 * request ends; NULL (and the call fails) when sessions are not set up. */
FCD_API const char *fcd_session_new(fcd_call_t *call);

/* fcd_memoize for this call's session: fn runs once per session (the
 * other outputs asking at the same moment wait for it), and its result is
 * kept on the server under the session, out of reach of every other
 * session and app key.  The callback must take the session prop.
 * On FCD_OK *data and *len are borrowed until the request ends. */
FCD_API fcd_status_t fcd_session_memoize(fcd_call_t *call, const char *name, unsigned timeout,
                                         fcd_memo_fn fn, const void **data, size_t *len);

/* ---- Components and values ---------------------------------------------- */

/*
 * Component builders.  `props` is the component's props as JSON text in
 * which ' may stand for " (so "{'id':'score','value':1}" reads like
 * Python), or NULL.  Children follow, each a new reference taken over, and
 * the macros add the terminating NULL.  Each returns a new reference.  A
 * mistake (malformed props) yields an error node that travels up the tree:
 * fcd_run() reports it for a layout, and a callback returning it fails.
 *
 *   fcd_html("Div", NULL, fcd_dcc("Dropdown", "{'id':'score'}"),
 *            fcd_text("was scored by this many students:"),
 *            fcd_html("Div", "{'id':'output'}"))
 */
FCD_API json_object *fcd_html_(const char *type, const char *props, ...) FCD_SENTINEL;
FCD_API json_object *fcd_dcc_(const char *type, const char *props, ...) FCD_SENTINEL;
#define fcd_html(...) fcd_html_(__VA_ARGS__, (json_object *)NULL)
#define fcd_dcc(...) fcd_dcc_(__VA_ARGS__, (json_object *)NULL)

/* A component of any namespace.  Takes over `props` (an object or NULL)
 * and `children` (any value or NULL: left out).  New reference. */
FCD_API json_object *fcd_component(const char *ns, const char *type, json_object *props,
                           json_object *children);

/* JSON text (' may stand for ") to a value.  New reference; an error node
 * when the text is malformed. */
FCD_API json_object *fcd_json(const char *text);

/* Scalars.  New references.  fcd_double's number is written as Python's
 * json module writes a float (repr: the shortest digits that read back,
 * 1e-05, 0.0001, 1e+16); NaN and infinities give NULL, JSON's null, which
 * is what Dash sends for them. */
FCD_API json_object *fcd_text(const char *text);
FCD_API json_object *fcd_textf(const char *fmt, ...) FCD_PRINTF(1, 2);
FCD_API json_object *fcd_int(int64_t value);
FCD_API json_object *fcd_double(double value);

/* Set the member at `path` of `root` to `value`, as Python's
 * fig['data'][0]['x'] = value would: `path` is keys and array indexes
 * separated by dots ("data.0.x").  Missing objects on the way are made;
 * array indexes must exist.  Takes over `value`.  Returns 0, or -1 when the
 * path does not fit root (then value is released). */
FCD_API int fcd_put(json_object *root, const char *path, json_object *value);

/* If `value` is, or contains, an error node: its message (borrowed). */
FCD_API const char *fcd_value_error(json_object *value);

/* ==== Data frames =========================================================
 *
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

/* The same array, written only when the answer is: Python's
 * fig['data'][0]['x'] = df['x'], whose Series plotly turns into text at
 * output time.  Making it costs two allocations whatever the length, and
 * no json-c node a cell, so it is the call for large columns in figures.
 * The text is what Python's json module writes for the Series: numbers as
 * repr, NaN, infinities and missing values as null, strings with
 * json.dumps' ensure_ascii escapes (\u00e9), datetimes as
 * "2024-01-01 00:00:00".
 *
 * Lifetime: the value borrows `f` and reads it when it is serialized, so
 * `f` must outlive the answer.  A frame from fcd_memoize_frame or
 * fcd_arg_frame does (it is released with the request, after the answer
 * is written), as does a frame the app keeps for good
 * (fcd_app_keep_frame); a frame the callback frees before it returns does
 * not: use fcd_frame_column_json for that one.  Do not keep the value past
 * the callback either.
 *
 * The value is opaque: a json-c array whose elements are not json-c values
 * (json_object_array_length says 0); only serializing it shows them.  New
 * reference; NULL when out of range or out of memory. */
FCD_API json_object *fcd_frame_column_view(const fcd_frame_t *f, size_t col);

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

/* The same with the index first, as df.to_csv() writes it by default (an
 * empty header cell, then each row's label).  Integer and string indexes;
 * FCD_ERROR for others. */
FCD_API fcd_status_t fcd_frame_to_csv_index(const fcd_frame_t *f, fcd_frame_buf_t *out,
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

/* ---- Frames in an app --------------------------------------------------- */

/* Keep `f` as app data: a packed read-only copy in memory frozen when
 * serving starts (so a callback cannot change the frame every worker
 * shares).  Takes over f (released).  NULL when out of memory, recorded as
 * a set-up error. */
FCD_API const fcd_frame_t *fcd_app_keep_frame(fcd_app_t *app, fcd_frame_t *f);

/* A function whose frame fcd_memoize_frame keeps.  Returns a new frame, or
 * NULL after fcd_fail(call, ...). */
typedef fcd_frame_t *(*fcd_memo_frame_fn)(fcd_call_t *call, json_object *args);

/* fcd_memoize for a function returning a frame, as @cache.memoize() on a
 * function returning a DataFrame: stored in the compact binary form.  The
 * frame is borrowed until the request ends; NULL when the call failed. */
FCD_API const fcd_frame_t *fcd_memoize_frame(fcd_call_t *call, const char *name,
                                             json_object *args, unsigned timeout,
                                             fcd_memo_frame_fn fn);

/* A frame decoded from a Store's JSON (pandas' split or default shape),
 * borrowed until the request ends; NULL (and the call fails with the
 * decoder's message) when the JSON is not such a frame. */
FCD_API const fcd_frame_t *fcd_arg_frame(fcd_call_t *call, size_t i, fcd_frame_orient_t orient);

/* Set output i to the frame's JSON text as pandas writes it
 * (to_json(orient=..., date_format='iso') for FCD_FRAME_SPLIT): a string,
 * as Dash apps store frames in a dcc.Store. */
FCD_API fcd_status_t fcd_out_frame(fcd_call_t *call, size_t i, const fcd_frame_t *f,
                                   fcd_frame_orient_t orient);

#ifdef __cplusplus
}
#endif
#endif /* FCDASH_H */
