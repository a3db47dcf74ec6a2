/*
 * app.h - what an app is made of, inside the library.
 *
 * An fcd_app_t is built before serving (layout, callbacks, app data), then
 * prepared once (index page, layout and dependencies JSON) and frozen.
 * Everything hanging off it is read-only while requests are answered, which
 * is what makes any worker interchangeable with any other.
 */
#ifndef FCD_APP_H
#define FCD_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "cache/backend.h"
#include "cache/session.h"
#include "cache/session_store.h"
#include "cache/stats.h"
#include "base/buf.h"
#include "base/config.h"
#include "base/freeze.h"
#include "fcdash.h"

#define FCD_APP_NAME_MAX 64

/* One Output, Input or State of a callback. */
typedef struct fcd_dep {
    const char *id;       /* string id, or a dict id's sorted compact JSON */
    const char *prop;
    const char *key;      /* "id.prop" as it appears in changedPropIds */
    bool dict_id;         /* a pattern-matching id */
    bool wildcard;        /* its id holds ALL / MATCH / ALLSMALLER */
} fcd_dep_t;

typedef struct fcd_cb {
    struct fcd_cb *next;  /* registration order */
    const char *name;
    fcd_callback_fn fn;
    const char *output_key; /* the `output` string of _dash-dependencies */
    fcd_dep_t *outputs, *inputs, *state;
    size_t n_outputs, n_inputs, n_state;
    unsigned flags;
} fcd_cb_t;

/* What one worker process holds for its whole life and changes while
 * serving: its cache connection, the host's counters, log rate limits.
 * Reached from the (read-only) app through a pointer. */
typedef struct fcd_worker {
    fcd_cache_t *cache;
    fcd_cache_stats_t stats;
    fcd_cache_ratelimit_t cache_log;
    fcd_session_conf_t sessions; /* loaded when the app uses sessions */
    fcd_session_store_conf_t session_store; /* the bound on sessions */
} fcd_worker_t;

struct fcd_app {
    char name[FCD_APP_NAME_MAX];
    fcd_frozen_t data;      /* app data, callbacks; frozen when serving */
    json_object *layout;    /* static layout, or NULL */
    fcd_layout_fn layout_fn;
    fcd_cb_t *callbacks, **callbacks_tail;
    size_t n_callbacks;
    fcd_buf_t setup_errors; /* one line per set-up mistake */
    fcd_config_t config;
    /* Prepared by fcd_app_prepare from the above. */
    fcd_buf_t index_html;
    fcd_buf_t layout_json;
    fcd_buf_t deps_json;
    const char *session_prop; /* "id.prop" carrying the session id, or NULL */
    fcd_worker_t *worker;   /* set up by fcd_run in each worker */
    bool serving;
};

/* Record a set-up mistake for fcd_run() to report. */
void fcd_app_setup_error(fcd_app_t *app, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Copy a string into app data.  NULL when out of memory. */
char *fcd_app_strdup(fcd_app_t *app, const char *s);

/* Check the app and build the index page, layout and dependencies texts.
 * Returns 0, or -1 with the reasons in app->setup_errors. */
int fcd_app_prepare(fcd_app_t *app);

/* Release the app and everything it owns. */
void fcd_app_free(fcd_app_t *app);

#endif
