/*
 * dash.c - routing under the prefix, and the three GET endpoints.
 *
 * Paths are matched after FCDASH_ROUTES_PREFIX.  Unknown GET paths under
 * the prefix get the index page, as Dash's catch-all does (dcc.Location
 * apps rely on it).  The bundles under _dash-component-suites/ are the web
 * server's job; reaching the worker means the server is not set up for
 * them, and the 404 says so.
 */
#include "handlers/dash.h"

#include <stdbool.h>
#include <string.h>

#include "base/json.h"
#include "handlers/callback.h"
#include "handlers/memo.h"
#include "handlers/update.h"

static bool method_is(const fcd_request_t *req, const char *m)
{
    return strcmp(req->method, m) == 0;
}

static bool is_get(const fcd_request_t *req)
{
    return method_is(req, "GET") || method_is(req, "HEAD");
}

static void wrong_method(fcd_response_t *res, fcd_request_t *req, const char *allow,
                         const char *what)
{
    fcd_buf_printf(res->headers, "Allow: %s\r\n", allow);
    fcd_response_error(res, req->arena, 405, "%s answers %s, not %.16s", what, allow,
                       *req->method ? req->method : "an empty method");
}

static void send_static(fcd_response_t *res, const fcd_buf_t *text, const char *type)
{
    res->status = 200;
    res->content_type = type;
    fcd_buf_add(res->body, text->data, text->len);
}

static void layout_from_fn(const fcd_app_t *app, fcd_request_t *req, fcd_response_t *res)
{
    fcd_call_t *call = fcd_call_new(app, NULL, req);
    if (call == NULL) {
        fcd_response_error(res, req->arena, 500, "out of memory");
        return;
    }
    fcd_json_take_oom();
    json_object *layout = app->layout_fn(call);
    const char *e = fcd_json_find_error(layout);
    /* A layout built while memory ran out has holes (fcd_json_note_oom). */
    bool oom = fcd_json_take_oom();
    if (layout == NULL || e != NULL || call->error != NULL || oom) {
        const char *why = call->error ? call->error
                          : e         ? e
                          : oom       ? "out of memory building the layout"
                                      : "the layout function returned none";
        if (app->config.debug)
            fcd_response_error(res, req->arena, 500, "layout failed: %s", why);
        else {
            fcd_response_error(res, req->arena, 500, "layout failed");
            res->log_note = fcd_arena_printf(req->arena, "layout failed: %s", why);
        }
        json_object_put(layout);
        return;
    }
    res->content_type = "application/json";
    if (fcd_json_write(res->body, layout, 0) != 0)
        fcd_response_error(res, req->arena, 500, "out of memory");
    json_object_put(layout);
}

void fcd_dash_handle(void *ctx, fcd_request_t *req, fcd_response_t *res)
{
    const fcd_app_t *app = ctx;
    const char *prefix = app->config.routes_prefix;
    size_t plen = strlen(prefix);
    if (strncmp(req->path, prefix, plen) != 0) {
        fcd_response_error(res, req->arena, 404, "no such path: this app is served under %s",
                           prefix);
        return;
    }
    const char *rest = req->path + plen;

    if (!strcmp(rest, "_dash-update-component")) {
        if (!method_is(req, "POST"))
            wrong_method(res, req, "POST", "_dash-update-component");
        else
            fcd_update_handle(app, req, res);
        return;
    }
    if (!strcmp(rest, "_dash-layout")) {
        if (!is_get(req))
            wrong_method(res, req, "GET, HEAD", "_dash-layout");
        else if (app->layout_fn != NULL)
            layout_from_fn(app, req, res);
        else
            send_static(res, &app->layout_json, "application/json");
        return;
    }
    if (!strcmp(rest, "_dash-dependencies")) {
        if (!is_get(req))
            wrong_method(res, req, "GET, HEAD", "_dash-dependencies");
        else
            send_static(res, &app->deps_json, "application/json");
        return;
    }
    if (!strncmp(rest, "_dash-component-suites/", 23) || !strncmp(rest, "assets/", 7)) {
        fcd_response_error(res, req->arena, 404,
                           "front-end files are served by the web server, not the worker "
                           "(see nginx/fcdash-app.conf.in)");
        return;
    }
    if (!strcmp(rest, "_fcdash/metrics")) {
        if (!is_get(req))
            wrong_method(res, req, "GET, HEAD", "_fcdash/metrics");
        else
            fcd_memo_metrics(app, req, res);
        return;
    }
    if (!strcmp(rest, "_favicon.ico") || !strcmp(rest, "_reload-hash")) {
        fcd_response_error(res, req->arena, 404, "%s is not served", rest);
        return;
    }
    if (!strncmp(rest, "_dash-", 6)) {
        fcd_response_error(res, req->arena, 404, "no such Dash endpoint: %.60s", rest);
        return;
    }
    if (!is_get(req)) {
        wrong_method(res, req, "GET, HEAD", "the index page");
        return;
    }
    send_static(res, &app->index_html, "text/html; charset=utf-8");
}
