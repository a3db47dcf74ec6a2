/*
 * app.c - the app object: creation, layout, app data, set-up errors.
 *
 * Set-up mistakes are collected rather than returned one by one so that an
 * app reads like its Python original (no error check after every line) and
 * fcd_run() can report all of them at once before refusing to start.
 */
#include "base/app.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "handlers/callback.h"
#include "handlers/index.h"

fcd_app_t *fcd_app_new(const char *name)
{
    fcd_app_t *app = calloc(1, sizeof *app);
    if (app == NULL)
        return NULL;
    app->callbacks_tail = &app->callbacks;
    fcd_buf_init(&app->setup_errors);
    fcd_buf_init(&app->index_html);
    fcd_buf_init(&app->layout_json);
    fcd_buf_init(&app->deps_json);
    const char *n = name != NULL ? name : "";
    bool ok = *n != '\0' && strlen(n) < sizeof app->name;
    for (const char *p = n; ok && *p; p++)
        ok = isalnum((unsigned char)*p) || *p == '-' || *p == '_';
    if (ok)
        strcpy(app->name, n);
    else {
        strcpy(app->name, "app");
        fcd_app_setup_error(app, "app name \"%.80s\" must be 1-%d letters, digits, - or _", n,
                            FCD_APP_NAME_MAX - 1);
    }
    return app;
}

void fcd_app_setup_error(fcd_app_t *app, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[600];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fcd_buf_adds(&app->setup_errors, line);
    fcd_buf_addc(&app->setup_errors, '\n');
}

char *fcd_app_strdup(fcd_app_t *app, const char *s)
{
    size_t n = strlen(s);
    char *d = fcd_frozen_alloc(&app->data, n + 1);
    if (d != NULL)
        memcpy(d, s, n + 1);
    return d;
}

void *fcd_app_alloc(fcd_app_t *app, size_t size)
{
    if (app == NULL || app->serving)
        return NULL;
    return fcd_frozen_alloc(&app->data, size);
}

void fcd_set_layout(fcd_app_t *app, json_object *layout)
{
    if (app->serving) {
        json_object_put(layout);
        return;
    }
    json_object_put(app->layout);
    app->layout = layout;
    app->layout_fn = NULL;
    if (layout == NULL)
        fcd_app_setup_error(app, "layout: none given (out of memory?)");
}

void fcd_set_layout_fn(fcd_app_t *app, fcd_layout_fn fn)
{
    json_object_put(app->layout);
    app->layout = NULL;
    app->layout_fn = fn;
}

int fcd_app_prepare(fcd_app_t *app)
{
    if (app->layout == NULL && app->layout_fn == NULL)
        fcd_app_setup_error(app, "layout: none set (fcd_set_layout or fcd_set_layout_fn)");
    if (app->layout != NULL) {
        const char *e = fcd_json_find_error(app->layout);
        if (e != NULL)
            fcd_app_setup_error(app, "layout: %s", e);
        else if (fcd_json_write(&app->layout_json, app->layout, 0) != 0)
            fcd_app_setup_error(app, "layout: out of memory");
    }
    fcd_callbacks_check(app);
    if (fcd_callbacks_dependencies_json(app, &app->deps_json) != 0)
        fcd_app_setup_error(app, "dependencies: out of memory");
    if (fcd_index_build(app, &app->index_html) != 0)
        fcd_app_setup_error(app, "index page: out of memory");
    return app->setup_errors.len > 0 ? -1 : 0;
}

void fcd_app_free(fcd_app_t *app)
{
    if (app == NULL)
        return;
    if (app->worker != NULL) {
        fcd_session_conf_clear(&app->worker->sessions);
        fcd_cache_close(app->worker->cache);
        fcd_cache_stats_close(&app->worker->stats);
        free(app->worker);
    }
    json_object_put(app->layout);
    fcd_buf_free(&app->setup_errors);
    fcd_buf_free(&app->index_html);
    fcd_buf_free(&app->layout_json);
    fcd_buf_free(&app->deps_json);
    fcd_frozen_release(&app->data);
    free(app);
}
