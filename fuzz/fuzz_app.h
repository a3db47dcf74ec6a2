/*
 * fuzz_app.h - the app the dispatch fuzzers drive, and a request runner.
 *
 * Built once per process: the callbacks cover what a body can reach in
 * handlers/update.c -- one and several outputs, no output (set_props),
 * state, PreventUpdate, a failing callback, a pattern-matching ALL input,
 * and a frame decoded from a Store (fcd_arg_frame) and sent back
 * (fcd_out_frame).  The request is built as the FastCGI runtime builds it
 * (tests/unit/test_core.c does the same), so the fuzzers reach
 * fcd_dash_handle exactly as a client's bytes do, minus libfcgi's record
 * parsing (libfcgi's own code, not ours).
 */
#ifndef FCD_FUZZ_APP_H
#define FCD_FUZZ_APP_H

#include <stdlib.h>
#include <string.h>

#include "base/app.h"
#include "base/arena.h"
#include "base/config.h"
#include "handlers/dash.h"

static fcd_status_t fz_times100(fcd_call_t *call)
{
    /* Unsigned: the fuzzer sends INT64_MAX, and the app's overflow is not
     * the library's bug. */
    return fcd_out_int(call, 0, (int64_t)((uint64_t)fcd_arg_int(call, 0, 0) * 100u));
}

static fcd_status_t fz_two(fcd_call_t *call)
{
    const char *t = fcd_triggered_id(call);
    for (size_t i = 0; i < fcd_triggered_count(call); i++)
        (void)fcd_triggered(call, i);
    return fcd_out_printf(call, 0, "%s %s %g", t ? t : "none", fcd_arg_str(call, 0, "?"),
                          fcd_arg_double(call, 0, 0.5));
}

static fcd_status_t fz_prevent(fcd_call_t *call)
{
    (void)call;
    return FCD_PREVENT_UPDATE;
}

static fcd_status_t fz_fails(fcd_call_t *call)
{
    return fcd_fail(call, "failed on purpose");
}

static fcd_status_t fz_state(fcd_call_t *call)
{
    json_object *a = fcd_arg(call, 0), *b = fcd_arg(call, 1);
    /* json-c answers NULL when out of memory (tests/unit/test_request_oom). */
    const char *ta = a ? json_object_to_json_string(a) : "None";
    const char *tb = b ? json_object_to_json_string(b) : "None";
    if (ta == NULL || tb == NULL)
        return fcd_fail(call, "out of memory");
    return fcd_out(call, 0, fcd_html("Pre", NULL, fcd_textf("%s/%s", ta, tb)));
}

static fcd_status_t fz_side(fcd_call_t *call)
{
    return fcd_set_props(call, "side", "children", fcd_text("set"));
}

static fcd_status_t fz_all(fcd_call_t *call)
{
    json_object *v = fcd_arg(call, 0);
    size_t n = v && json_object_is_type(v, json_type_array) ? json_object_array_length(v) : 0;
    return fcd_out_int(call, 0, (int64_t)n);
}

static fcd_status_t fz_frame(fcd_call_t *call)
{
    const fcd_frame_t *f = fcd_arg_frame(call, 0, FCD_FRAME_SPLIT);
    if (f == NULL)
        return FCD_ERROR;
    return fcd_out_frame(call, 0, f, FCD_FRAME_SPLIT);
}

static fcd_status_t fz_store(fcd_call_t *call)
{
    fcd_frame_t *f = fcd_frame_new();
    fcd_frame_err_t err;
    int64_t v[3] = {fcd_arg_int(call, 0, 0), 2, 3};
    if (f == NULL || fcd_frame_add_int64(f, "v", v, 3, &err) != FCD_OK) {
        fcd_frame_free(f);
        return fcd_fail(call, "no frame");
    }
    fcd_status_t st = fcd_out_frame(call, 0, f, FCD_FRAME_SPLIT);
    fcd_frame_free(f);
    return st;
}

static fcd_status_t fz_figure(fcd_call_t *call)
{
    json_object *fig = fcd_json("{'data': [{'x': [1, 2], 'y': [0, 0], 'type': 'scatter'}]}");
    fcd_put(fig, "data.0.y.1", fcd_double(fcd_arg_double(call, 0, 0.0)));
    fcd_put(fig, "layout.title.text", fcd_text(fcd_arg_str(call, 0, "none")));
    return fcd_out(call, 0, fig);
}

static fcd_app_t *fuzz_app(void)
{
    static fcd_app_t *app;
    if (app != NULL)
        return app;
    app = fcd_app_new("fuzz");
    fcd_set_layout(app, fcd_html("Div", "{'id': 'root'}"));
    /* The callbacks of the captures' test app (dependencies.json), so
     * the captured bodies are seeds that reach every callback. */
    fcd_callback(app, fz_times100, "dd-out.children", "dd.value", NULL, 0);
    fcd_callback(app, fz_two, "b-out1.children b-out2.children", "btn-b.n_clicks", NULL, 0);
    fcd_callback(app, fz_prevent, "c-out.children", "btn-c.n_clicks", NULL,
                 FCD_PREVENT_INITIAL_CALL);
    fcd_callback(app, fz_store, "store.data", "dd.value", NULL, 0);
    fcd_callback(app, fz_frame, "d-out1.children", "store.data", NULL, 0);
    fcd_callback(app, fz_state, "d-out2.children", "store.data", "dd.value", 0);
    fcd_callback(app, fz_figure, "graph.figure", "dd.value", NULL, 0);
    fcd_callback(app, fz_two, "f-out.children", "btn-f.n_clicks btn-f2.n_clicks", NULL, 0);
    fcd_callback(app, fz_fails, "err-out.children", "btn-err.n_clicks", NULL,
                 FCD_PREVENT_INITIAL_CALL);
    fcd_callback(app, fz_side, NULL, "btn-h.n_clicks", NULL, FCD_PREVENT_INITIAL_CALL);
    fcd_callback(app, fz_all, "pm-out.children", "{\"index\":[\"ALL\"],\"type\":\"pm\"}.n_clicks",
                 NULL, 0);
    setenv("FCDASH_PREFIX", "/u/", 1);
    setenv("FCDASH_DEBUG", "1", 1); /* error texts reach the body: more code runs */
    setenv("FCDASH_CALLBACK_TIME_LIMIT", "0", 1);
    char err[200];
    if (fcd_config_load(&app->config, err, sizeof err) != 0 || fcd_app_prepare(app) != 0)
        abort();
    return app;
}

/* One exchange; the response is checked for the invariants every answer
 * keeps: a status in 200..599 and, for an error, a JSON body. */
static void fuzz_exchange(const char *method, const char *path, const char *query,
                          const char *ctype, const char *body, size_t body_len, char **params)
{
    fcd_arena_t arena;
    fcd_buf_t headers, out;
    fcd_arena_init(&arena);
    fcd_buf_init(&headers);
    fcd_buf_init(&out);
    fcd_request_t req = {.method = method, .path = path, .query = query, .content_type = ctype,
                         .request_id = "fuzz", .arena = &arena, .params = params};
    /* The runtime hands over a NUL-terminated arena copy. */
    req.body = fcd_arena_alloc(&arena, body_len + 1);
    if (req.body == NULL)
        abort();
    memcpy(req.body, body, body_len);
    req.body_len = body_len;
    fcd_response_t res = {.status = 200, .headers = &headers, .body = &out};
    fcd_dash_handle(fuzz_app(), &req, &res);
    if (res.status < 200 || res.status > 599)
        abort();
    if (res.status >= 400 && (out.data == NULL || out.data[0] != '{'))
        abort();
    fcd_arena_free(&arena);
    fcd_buf_free(&headers);
    fcd_buf_free(&out);
}

#endif
