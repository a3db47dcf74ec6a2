/*
 * callback.h - the callback registry and the context of one call.
 *
 * Registration parses the `id.prop` specs into app data (frozen later).
 * A call (fcd_call_t) borrows its arguments from the parsed request body
 * and owns the outputs the callback sets until the answer is written.
 */
#ifndef FCD_CALLBACK_H
#define FCD_CALLBACK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/app.h"
#include "base/arena.h"
#include "base/buf.h"
#include "fcgi/request.h"

struct fcd_call {
    const fcd_app_t *app;
    const fcd_cb_t *cb;          /* NULL for a layout call */
    fcd_request_t *req;
    fcd_arena_t *arena;
    json_object **args;          /* borrowed; inputs then state */
    size_t n_args;
    json_object **outs;          /* owned until the answer is written */
    bool *out_set;
    size_t n_outs;
    json_object *side;           /* sideUpdate {id: {prop: value}}, owned */
    json_object *triggered;      /* changedPropIds, borrowed */
    const char *triggered_id;    /* cached */
    char *error;                 /* fcd_fail message (arena) */
    const fcd_session_t *session; /* the verified session, or NULL */
    const void *memo_ctx;        /* fcd_memoize_frame's function, while it runs */
};

/* Find the callback whose output string is `key`, or NULL. */
const fcd_cb_t *fcd_callbacks_find(const fcd_app_t *app, const char *key);

/* Check the registry as a whole (one owner per output property), recording
 * mistakes as set-up errors. */
void fcd_callbacks_check(fcd_app_t *app);

/* The _dash-dependencies answer.  Returns 0 or -1 (out of memory). */
int fcd_callbacks_dependencies_json(const fcd_app_t *app, fcd_buf_t *out);

/* Set up a call context in the request's arena.  NULL when out of memory. */
fcd_call_t *fcd_call_new(const fcd_app_t *app, const fcd_cb_t *cb, fcd_request_t *req);

/* Release what the call owns (outputs, side updates). */
void fcd_call_release(fcd_call_t *call);

#endif
