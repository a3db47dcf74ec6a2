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

/* Scalars.  New references. */
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

#ifdef __cplusplus
}
#endif
#endif /* FCDASH_H */
