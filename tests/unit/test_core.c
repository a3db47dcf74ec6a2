/*
 * test_core.c - CUnit tests of the core: arena, JSON values, settings,
 * callback registration, request dispatch (in-process, no FastCGI), the
 * index page's fingerprints, and the freeze.
 *
 * Dispatch tests build a request as the runtime would and read the
 * response a client would get: status, Content-Type and the JSON body.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/app.h"
#include "base/arena.h"
#include "base/config.h"
#include "base/freeze.h"
#include "base/json.h"
#include "handlers/callback.h"
#include "handlers/dash.h"
#include "handlers/index.h"

/* ---- arena and buffers ------------------------------------------------- */

static int cleanups_run;
static void count_cleanup(void *p)
{
    (void)p;
    cleanups_run++;
}

static void test_arena(void)
{
    fcd_arena_t a;
    fcd_arena_init(&a);
    char *s = fcd_arena_printf(&a, "%s-%d", "x", 42);
    CU_ASSERT_STRING_EQUAL(s, "x-42");
    unsigned char *big = fcd_arena_alloc(&a, 100000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    CU_ASSERT_EQUAL(big[99999], 0);
    CU_ASSERT_PTR_NULL(fcd_arena_alloc(&a, SIZE_MAX - 8));
    cleanups_run = 0;
    fcd_arena_on_reset(&a, count_cleanup, NULL);
    fcd_arena_on_reset(&a, count_cleanup, NULL);
    fcd_arena_reset(&a);
    CU_ASSERT_EQUAL(cleanups_run, 2);
    CU_ASSERT_STRING_EQUAL(fcd_arena_strdup(&a, "again"), "again");
    fcd_arena_free(&a);
}

static void test_buf_json_string(void)
{
    fcd_buf_t b;
    fcd_buf_init(&b);
    fcd_buf_add_json_string(&b, "a\"b\\c\n</script>\x01");
    CU_ASSERT_STRING_EQUAL(b.data, "\"a\\\"b\\\\c\\n\\u003c/script>\\u0001\"");
    fcd_buf_free(&b);
}

/* ---- JSON values -------------------------------------------------------- */

static const char *text_of(json_object *v)
{
    size_t n;
    return fcd_json_text(v, &n);
}

static void test_relaxed_json(void)
{
    json_object *v = fcd_json("{'id': 'score', 'options': [1, 2], 'q': 'it\\'s \"x\"'}");
    CU_ASSERT_PTR_NULL(fcd_value_error(v));
    CU_ASSERT_STRING_EQUAL(text_of(v), "{\"id\":\"score\",\"options\":[1,2],\"q\":\"it's \\\"x\\\"\"}");
    json_object_put(v);
    json_object *bad = fcd_json("{'id': }");
    CU_ASSERT_PTR_NOT_NULL(fcd_value_error(bad));
    json_object_put(bad);
}

static void test_builders(void)
{
    json_object *c = fcd_html("Div", "{'id': 'root'}", fcd_text("a"), fcd_int(7));
    CU_ASSERT_STRING_EQUAL(text_of(c),
                           "{\"type\":\"Div\",\"namespace\":\"dash_html_components\","
                           "\"props\":{\"id\":\"root\",\"children\":[\"a\",7]}}");
    json_object_put(c);
    json_object *one = fcd_dcc("Store", "{'id': 's'}");
    CU_ASSERT_STRING_EQUAL(text_of(one), "{\"type\":\"Store\",\"namespace\":"
                                         "\"dash_core_components\",\"props\":{\"id\":\"s\"}}");
    json_object_put(one);
    /* A mistake deep in the tree reaches the top with its message. */
    json_object *tree = fcd_html("Div", NULL, fcd_html("P", NULL, fcd_dcc("Dropdown", "{'x': [}")),
                                 fcd_text("ok"));
    const char *e = fcd_value_error(tree);
    CU_ASSERT_PTR_NOT_NULL_FATAL(e);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "Dropdown"));
    json_object_put(tree);
    json_object *notobj = fcd_html("Div", "[1]");
    CU_ASSERT_PTR_NOT_NULL(fcd_value_error(notobj));
    json_object_put(notobj);
}

static void test_double_text(void)
{
    struct { double d; const char *text; } cases[] = {
        {0.1, "0.1"}, {1.0, "1.0"}, {-2.5, "-2.5"}, {1e-7, "1e-07"},
        {0.30000000000000004, "0.30000000000000004"}, {123456789.125, "123456789.125"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object *v = fcd_double(cases[i].d);
        CU_ASSERT_STRING_EQUAL(text_of(v), cases[i].text);
        json_object_put(v);
    }
    CU_ASSERT_PTR_NULL(fcd_double(0.0 / 0.0)); /* NaN is null, as Dash sends it */
}

static void test_parse_limits(void)
{
    char err[200];
    char deep[300];
    memset(deep, '[', 150);
    memset(deep + 150, ']', 150);
    CU_ASSERT_PTR_NULL(fcd_json_parse(deep, 300, 64, err, sizeof err));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "64"));
    CU_ASSERT_PTR_NULL(fcd_json_parse("{\"a\":1} x", 9, 64, err, sizeof err));
    CU_ASSERT_PTR_NULL(fcd_json_parse("\"\xff\"", 3, 64, err, sizeof err));
    /* Regression: a NUL after the value is data, not white space. */
    CU_ASSERT_PTR_NULL(fcd_json_parse("{\"a\":1}\0", 8, 64, err, sizeof err));
    CU_ASSERT_PTR_NULL(fcd_json_parse("{\"a\":1} \0", 9, 64, err, sizeof err));
    json_object *ok = fcd_json_parse(" {\"a\": [1, 2]} \n", 16, 64, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(ok);
    json_object_put(ok);
}

/* Parse `text` (NUL-terminated, or `len` bytes) and expect a refusal whose
 * message holds `want`. */
static void refused(const char *text, size_t len, const char *want)
{
    char err[200] = "";
    json_object *v = fcd_json_parse(text, len ? len : strlen(text), 64, err, sizeof err);
    CU_ASSERT_PTR_NULL(v);
    json_object_put(v);
    if (strstr(err, want) == NULL)
        fprintf(stderr, "\n%s: message \"%s\" lacks \"%s\"\n", text, err, want);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
}

/* Regression, the bad input catalogue (tests/integration/test_bad_input.py):
 * a bare null body was "JSON text ends too early"; json-c clamped an
 * integer past 64 bits to the nearest limit without a word; NaN, Infinity
 * and 1e400 passed strict mode and reached callbacks as non-finite
 * doubles; a raw control character passed, and "dd\u0000x" matched the
 * id "dd" (C strings end at the NUL). */
static void test_regression_unfaithful_json(void)
{
    refused("null", 0, "null, not an object");
    refused("{\"a\":", 0, "ends too early");
    refused("{\"a\":\"x\0y\"}", 10, "a NUL byte at byte 7");
    refused("[99999999999999999999999]", 0, "64-bit range");
    refused("[9223372036854775808]", 0, "64-bit range");
    refused("[-9223372036854775809]", 0, "64-bit range");
    refused("[1e400]", 0, "double range");
    refused("[-0.00012e313]", 0, "double range");
    refused("[1.8e308]", 0, "double range");
    refused("[179769313486232e294]", 0, "double range");
    refused("[NaN]", 0, "NaN or Infinity");
    refused("{\"a\":[-Infinity]}", 0, "NaN or Infinity");
    refused("[\"a\x01b\"]", 0, "control character");
    refused("{\"id\":\"dd\\u0000x\"}", 0, "NUL character");
    char err[200];
    /* The limits themselves, and look-alikes inside a string, pass. */
    const char *fine = "[9223372036854775807, -9223372036854775808, 1.5e308, 1.7e308, 1e-400, "
                       "0.0e999, -12.5E+3, "
                       "\"\\\\u0000 \\\" 1e400\", 0]";
    json_object *v = fcd_json_parse(fine, strlen(fine), 64, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(v);
    if (v == NULL)
        fprintf(stderr, "\nrefused: %s\n", err);
    else
        CU_ASSERT_EQUAL(json_object_get_int64(json_object_array_get_idx(v, 0)), INT64_MAX);
    json_object_put(v);
    v = fcd_json_parse("5", 1, 64, err, sizeof err);
    CU_ASSERT_PTR_NOT_NULL(v);
    CU_ASSERT_EQUAL(json_object_get_int(v), 5);
    json_object_put(v);
}

static void test_put(void)
{
    json_object *fig = fcd_json("{'data': [{'type': 'scatter'}]}");
    CU_ASSERT_EQUAL(fcd_put(fig, "data.0.x", fcd_json("[1, 2]")), 0);
    CU_ASSERT_EQUAL(fcd_put(fig, "layout.margin.l", fcd_int(20)), 0);
    CU_ASSERT_STRING_EQUAL(text_of(fig), "{\"data\":[{\"type\":\"scatter\",\"x\":[1,2]}],"
                                         "\"layout\":{\"margin\":{\"l\":20}}}");
    CU_ASSERT_EQUAL(fcd_put(fig, "data.3.x", fcd_int(1)), -1);    /* no such index */
    CU_ASSERT_EQUAL(fcd_put(fig, "data.0.type.x", fcd_int(1)), -1); /* through a string */
    CU_ASSERT_EQUAL(fcd_put(fig, "", fcd_int(1)), -1);
    json_object_put(fig);
}

/* Expected text from pandas 1.5: df.to_csv() with its default index. */
static void test_csv_with_index(void)
{
    fcd_frame_t *f = fcd_frame_new();
    fcd_frame_err_t e;
    fcd_frame_add_column(f, "time", FCD_FRAME_STRING, &e);
    fcd_frame_add_column(f, "values", FCD_FRAME_STRING, &e);
    fcd_frame_append(f, &e, FCD_FRAME_S("2026-11-25 08:00:00.123456"), FCD_FRAME_S("a"));
    fcd_frame_append(f, &e, FCD_FRAME_S("x,y"), FCD_FRAME_S(""));
    fcd_frame_buf_t b = FCD_FRAME_BUF_INIT;
    CU_ASSERT_EQUAL(fcd_frame_to_csv_index(f, &b, &e), FCD_OK);
    CU_ASSERT_NSTRING_EQUAL(b.data, ",time,values\n0,2026-11-25 08:00:00.123456,a\n1,\"x,y\",\n", b.len);
    fcd_frame_t *g = fcd_frame_filter_eq_str(f, "values", "", &e);
    b.len = 0;
    CU_ASSERT_EQUAL(fcd_frame_to_csv_index(g, &b, &e), FCD_OK);
    CU_ASSERT_NSTRING_EQUAL(b.data, ",time,values\n1,\"x,y\",\n", b.len); /* label kept */
    fcd_frame_buf_free(&b);
    fcd_frame_free(g);
    fcd_frame_free(f);
}

static void test_canonical(void)
{
    json_object *v = fcd_json("{'type': 'pm', 'index': ['ALL']}");
    fcd_buf_t b;
    fcd_buf_init(&b);
    fcd_json_canonical(&b, v, 0);
    CU_ASSERT_STRING_EQUAL(b.data, "{\"index\":[\"ALL\"],\"type\":\"pm\"}");
    fcd_buf_free(&b);
    json_object_put(v);
}

/* ---- settings ---------------------------------------------------------- */

static void test_config(void)
{
    fcd_config_t c;
    char err[300];
    setenv("FCDASH_PREFIX", "/app/", 1);
    setenv("FCDASH_MAX_BODY", "2k", 1);
    CU_ASSERT_EQUAL(fcd_config_load(&c, err, sizeof err), 0);
    CU_ASSERT_STRING_EQUAL(c.prefix, "/app/");
    CU_ASSERT_STRING_EQUAL(c.routes_prefix, "/app/");
    CU_ASSERT_EQUAL(c.max_body, 2048);
    setenv("FCDASH_MAX_BODY", "12q", 1);
    CU_ASSERT_EQUAL(fcd_config_load(&c, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "FCDASH_MAX_BODY"));
    unsetenv("FCDASH_MAX_BODY");
    setenv("FCDASH_PREFIX", "app", 1);
    CU_ASSERT_EQUAL(fcd_config_load(&c, err, sizeof err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "start and end with /"));
    unsetenv("FCDASH_PREFIX");
    setenv("FCDASH_DEBUG", "maybe", 1);
    CU_ASSERT_EQUAL(fcd_config_load(&c, err, sizeof err), -1);
    unsetenv("FCDASH_DEBUG");
}

/* ---- callbacks and dispatch ------------------------------------------- */

static fcd_status_t times100(fcd_call_t *call)
{
    return fcd_out_int(call, 0, fcd_arg_int(call, 0, 0) * 100);
}

static fcd_status_t two_outputs(fcd_call_t *call)
{
    /* Output 1 is left out: no_update. */
    return fcd_out_printf(call, 0, "clicks %lld, fired by %s",
                          (long long)fcd_arg_int(call, 0, -1),
                          fcd_triggered_id(call) ? fcd_triggered_id(call) : "none");
}

static fcd_status_t prevent(fcd_call_t *call)
{
    (void)call;
    return FCD_PREVENT_UPDATE;
}

static fcd_status_t fails(fcd_call_t *call)
{
    return fcd_fail(call, "secret detail");
}

static fcd_status_t with_state(fcd_call_t *call)
{
    json_object *tree = fcd_html("Div", NULL,
                                 fcd_html("Pre", NULL, fcd_textf("%s/%s", fcd_arg_str(call, 0, "None"),
                                                                 fcd_arg_str(call, 1, "None"))));
    return fcd_out(call, 0, tree);
}

static fcd_status_t side_only(fcd_call_t *call)
{
    return fcd_set_props(call, "side", "children", fcd_text("set"));
}

static fcd_app_t *make_app(bool debug)
{
    fcd_app_t *app = fcd_app_new("unit");
    fcd_set_layout(app, fcd_html("Div", "{'id': 'root'}"));
    fcd_callback(app, times100, "out.children", "dd.value", NULL, 0);
    fcd_callback(app, two_outputs, "a.children b.children", "btn.n_clicks", NULL, 0);
    fcd_callback(app, prevent, "c.children", "btn-c.n_clicks", NULL, FCD_PREVENT_INITIAL_CALL);
    fcd_callback(app, fails, "err.children", "btn-e.n_clicks", NULL, 0);
    fcd_callback(app, with_state, "tree.children", "in.value", "st.value", 0);
    fcd_callback(app, side_only, NULL, "btn-h.n_clicks", NULL, FCD_PREVENT_INITIAL_CALL);
    setenv("FCDASH_PREFIX", "/u/", 1);
    setenv("FCDASH_DEBUG", debug ? "1" : "0", 1);
    char err[200];
    CU_ASSERT_EQUAL_FATAL(fcd_config_load(&app->config, err, sizeof err), 0);
    unsetenv("FCDASH_PREFIX");
    unsetenv("FCDASH_DEBUG");
    CU_ASSERT_EQUAL_FATAL(fcd_app_prepare(app), 0);
    return app;
}

typedef struct exchange {
    fcd_arena_t arena;
    fcd_buf_t headers, body;
    fcd_response_t res;
} exchange_t;

static void run(exchange_t *x, fcd_app_t *app, const char *method, const char *path,
                const char *ctype, const char *body)
{
    fcd_arena_init(&x->arena);
    fcd_buf_init(&x->headers);
    fcd_buf_init(&x->body);
    fcd_request_t req = {.method = method, .path = path, .query = "", .content_type = ctype,
                         .request_id = "t", .arena = &x->arena};
    req.body = fcd_arena_strdup(&x->arena, body ? body : "");
    req.body_len = strlen(req.body);
    x->res = (fcd_response_t){.status = 200, .headers = &x->headers, .body = &x->body};
    fcd_dash_handle(app, &req, &x->res);
}

static void done(exchange_t *x)
{
    fcd_arena_free(&x->arena);
    fcd_buf_free(&x->headers);
    fcd_buf_free(&x->body);
}

static void expect(fcd_app_t *app, const char *method, const char *path, const char *body,
                   int status, const char *want_body)
{
    exchange_t x;
    run(&x, app, method, path, "application/json", body);
    CU_ASSERT_EQUAL(x.res.status, status);
    if (x.res.status != status)
        fprintf(stderr, "\n%s %s -> %d %s\n", method, path, x.res.status, x.body.data);
    if (want_body != NULL) {
        CU_ASSERT_PTR_NOT_NULL_FATAL(x.body.data);
        if (strstr(x.body.data, want_body) == NULL)
            fprintf(stderr, "\nbody %s lacks %s\n", x.body.data, want_body);
        CU_ASSERT_PTR_NOT_NULL(strstr(x.body.data, want_body));
    }
    if (status >= 400) /* every error is JSON with a message */
        CU_ASSERT_PTR_NOT_NULL(x.body.data && strstr(x.body.data, "{\"message\":"));
    done(&x);
}

#define UPDATE "/u/_dash-update-component"

static void test_dispatch_answers(void)
{
    fcd_app_t *app = make_app(false);
    expect(app, "POST", UPDATE,
           "{\"output\":\"out.children\",\"inputs\":[{\"id\":\"dd\",\"property\":\"value\",\"value\":3}],"
           "\"changedPropIds\":[\"dd.value\"]}",
           200, "{\"multi\":true,\"response\":{\"out\":{\"children\":300}}}");
    expect(app, "POST", UPDATE,
           "{\"output\":\"..a.children...b.children..\",\"inputs\":[{\"id\":\"btn\","
           "\"property\":\"n_clicks\",\"value\":2}],\"changedPropIds\":[\"btn.n_clicks\"]}",
           200, "{\"multi\":true,\"response\":{\"a\":{\"children\":\"clicks 2, fired by btn\"}}}");
    /* A missing value is None; no trigger on the initial call. */
    expect(app, "POST", UPDATE,
           "{\"output\":\"..a.children...b.children..\",\"inputs\":[{\"id\":\"btn\","
           "\"property\":\"n_clicks\"}],\"changedPropIds\":[]}",
           200, "clicks -1, fired by none");
    expect(app, "POST", UPDATE,
           "{\"output\":\"c.children\",\"inputs\":[{\"id\":\"btn-c\",\"property\":\"n_clicks\",\"value\":1}]}",
           204, NULL);
    expect(app, "POST", UPDATE,
           "{\"output\":\"tree.children\",\"inputs\":[{\"id\":\"in\",\"property\":\"value\",\"value\":\"x\"}],"
           "\"state\":[{\"id\":\"st\",\"property\":\"value\",\"value\":\"y\"}]}",
           200, "{\"tree\":{\"children\":{\"type\":\"Div\",\"namespace\":\"dash_html_components\","
                "\"props\":{\"children\":{\"type\":\"Pre\"");
    fcd_app_free(app);
}

static void test_dispatch_errors(void)
{
    fcd_app_t *app = make_app(false);
    expect(app, "POST", UPDATE, "{\"output\":", 400, "ends too early");
    expect(app, "POST", UPDATE, "[1]", 400, "must be a JSON object");
    expect(app, "POST", UPDATE, "{}", 400, "missing \\\"output\\\"");
    expect(app, "POST", UPDATE, "{\"output\":\"nope.children\",\"inputs\":[]}", 404, "nope.children");
    expect(app, "POST", UPDATE,
           "{\"output\":\"out.children\",\"inputs\":[{\"id\":\"other\",\"property\":\"value\"}]}",
           400, "expected \\\"dd\\\"");
    expect(app, "POST", UPDATE, "{\"output\":\"out.children\",\"inputs\":[]}", 400, "takes 1");
    expect(app, "POST", UPDATE,
           "{\"output\":\"tree.children\",\"inputs\":[{\"id\":\"in\",\"property\":\"value\"}]}", 400,
           "missing \\\"state\\\"");
    /* Regression (bad input catalogue): "outputs" was never read, so one
     * naming an output twice, or another callback's, went through. */
    expect(app, "POST", UPDATE,
           "{\"output\":\"out.children\",\"outputs\":[{\"id\":\"out\",\"property\":"
           "\"children\"},{\"id\":\"out\",\"property\":\"children\"}],\"inputs\":[{\"id\":"
           "\"dd\",\"property\":\"value\",\"value\":1}]}",
           400, "\\\"outputs\\\" has 2 entries");
    expect(app, "POST", UPDATE,
           "{\"output\":\"out.children\",\"outputs\":{\"id\":\"a\",\"property\":\"children\"},"
           "\"inputs\":[{\"id\":\"dd\",\"property\":\"value\",\"value\":1}]}",
           400, "outputs[0] has id \\\"a\\\", expected \\\"out\\\"");
    expect(app, "POST", UPDATE,
           "{\"output\":\"out.children\",\"outputs\":{\"id\":\"out\",\"property\":\"children\"},"
           "\"inputs\":[{\"id\":\"dd\",\"property\":\"value\",\"value\":1}]}",
           200, "{\"out\":{\"children\":100}}");
    /* Regression: the id "dd\u0000x" read as "dd" in C and matched. */
    expect(app, "POST", UPDATE,
           "{\"output\":\"out.children\",\"inputs\":[{\"id\":\"dd\\u0000x\",\"property\":"
           "\"value\",\"value\":1}]}",
           400, "NUL character");
    expect(app, "GET", UPDATE, NULL, 405, "POST");
    expect(app, "POST", "/u/_dash-layout", "{}", 405, NULL);
    expect(app, "GET", "/elsewhere/", NULL, 404, "/u/");
    expect(app, "POST", UPDATE,
           "{\"output\":\"err.children\",\"inputs\":[{\"id\":\"btn-e\",\"property\":\"n_clicks\",\"value\":1}]}",
           500, "Callback error updating err.children\"");
    exchange_t x;
    run(&x, app, "POST", UPDATE, "text/plain", "{}");
    CU_ASSERT_EQUAL(x.res.status, 415);
    done(&x);
    /* No detail leaks without debug mode. */
    run(&x, app, "POST", UPDATE, "application/json",
        "{\"output\":\"err.children\",\"inputs\":[{\"id\":\"btn-e\",\"property\":\"n_clicks\",\"value\":1}]}");
    CU_ASSERT_PTR_NULL(strstr(x.body.data, "secret detail"));
    CU_ASSERT_PTR_NOT_NULL(x.res.log_note && strstr(x.res.log_note, "secret detail"));
    done(&x);
    fcd_app_free(app);

    app = make_app(true);
    expect(app, "POST", UPDATE,
           "{\"output\":\"err.children\",\"inputs\":[{\"id\":\"btn-e\",\"property\":\"n_clicks\",\"value\":1}]}",
           500, "secret detail");
    fcd_app_free(app);
}

static void test_dispatch_side_and_pages(void)
{
    fcd_app_t *app = make_app(false);
    const fcd_cb_t *side = NULL;
    for (const fcd_cb_t *cb = app->callbacks; cb; cb = cb->next)
        if (cb->n_outputs == 0)
            side = cb;
    CU_ASSERT_PTR_NOT_NULL_FATAL(side);
    char body[300];
    snprintf(body, sizeof body,
             "{\"output\":\"%s\",\"inputs\":[{\"id\":\"btn-h\",\"property\":\"n_clicks\",\"value\":1}]}",
             side->output_key);
    expect(app, "POST", UPDATE, body, 200,
           "{\"multi\":true,\"response\":{},\"sideUpdate\":{\"side\":{\"children\":\"set\"}}}");
    expect(app, "GET", "/u/_dash-dependencies", NULL, 200,
           "{\"output\":\"..a.children...b.children..\",\"inputs\":[{\"id\":\"btn\",\"property\":"
           "\"n_clicks\"}],\"state\":[],\"clientside_function\":null,\"prevent_initial_call\":false}");
    expect(app, "GET", "/u/_dash-layout", NULL, 200, "\"id\":\"root\"");
    expect(app, "GET", "/u/", NULL, 200, "\"requests_pathname_prefix\": \"/u/\"");
    expect(app, "GET", "/u/some/page", NULL, 200, "new DashRenderer()");
    expect(app, "GET", "/u/_dash-component-suites/dash/x.js", NULL, 404, "web server");
    fcd_app_free(app);
}

static void test_registration_mistakes(void)
{
    fcd_app_t *app = fcd_app_new("bad name!");
    fcd_set_layout(app, fcd_html("Div", "{'id': }"));
    fcd_callback(app, times100, "out.children", "", NULL, 0);
    fcd_callback(app, times100, "out", "dd.value", NULL, 0);
    fcd_callback(app, times100, "x.children", "dd.value", NULL, 0);
    fcd_callback(app, times100, "x.children", "ee.value", NULL, 0);
    CU_ASSERT_EQUAL(fcd_app_prepare(app), -1);
    const char *e = app->setup_errors.data;
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "app name"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "layout:"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "at least one input"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "id.property"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "belongs to two callbacks"));
    fcd_app_free(app);
}

static void test_fingerprint(void)
{
    fcd_buf_t b;
    fcd_buf_init(&b);
    fcd_index_fingerprint("dash/deps/react@18.3.1.min.js", "4.4.1", 1795590222, &b);
    CU_ASSERT_STRING_EQUAL(b.data, "dash/deps/react@18.v4_4_1m1795590222.3.1.min.js");
    fcd_buf_reset(&b);
    fcd_index_fingerprint("dash/dcc/dash_core_components-shared.js", "4.4.1", 7, &b);
    CU_ASSERT_STRING_EQUAL(b.data, "dash/dcc/dash_core_components-shared.v4_4_1m7.js");
    fcd_buf_free(&b);
}

/* ---- freeze ------------------------------------------------------------ */

static int *frozen_counter;
static fcd_status_t writes_frozen(fcd_call_t *call)
{
    (void)call;
    (*frozen_counter)++;
    return FCD_OK;
}

/* The fault is the point: UBSan, which would stop the process before it
 * (configure --enable-sanitizers makes its findings fatal), is told so. */
__attribute__((no_sanitize_undefined)) static fcd_status_t divides_by_zero(fcd_call_t *call)
{
    volatile int zero = 0;
    return (fcd_status_t)(fcd_arg_count(call) / (size_t)zero);
}

static void test_freeze_in_child(void)
{
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        fcd_frozen_t f = {0};
        char err[300];
        frozen_counter = fcd_frozen_alloc(&f, sizeof *frozen_counter);
        *frozen_counter = 1;
        if (fcd_fault_handlers_install(err, sizeof err) != 0 ||
            fcd_freeze(&f, false, err, sizeof err) != 0)
            _exit(10);
        fcd_call_t call = {0};
        fcd_fault_t fault;
        if (fcd_guarded_call(writes_frozen, &call, 0, &fault) != FCD_ERROR || !fault.frozen_write ||
            fault.worker_unsafe || *frozen_counter != 1 || !strstr(fault.message, "frozen"))
            _exit(11);
        if (fcd_guarded_call(divides_by_zero, &call, 0, &fault) != FCD_ERROR ||
            fault.frozen_write || !fault.worker_unsafe)
            _exit(12);
        /* The worker still works after a frozen write. */
        if (fcd_guarded_call(writes_frozen, &call, 0, &fault) != FCD_ERROR || !fault.frozen_write)
            _exit(13);
        fcd_frozen_release(&f);
        _exit(0);
    }
    int st;
    waitpid(pid, &st, 0);
    CU_ASSERT_TRUE(WIFEXITED(st));
    CU_ASSERT_EQUAL(WEXITSTATUS(st), 0);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("core", NULL, NULL);
    CU_add_test(s, "arena", test_arena);
    CU_add_test(s, "json string escaping", test_buf_json_string);
    CU_add_test(s, "relaxed JSON props", test_relaxed_json);
    CU_add_test(s, "component builders and error nodes", test_builders);
    CU_add_test(s, "double text", test_double_text);
    CU_add_test(s, "JSON parse limits", test_parse_limits);
    CU_add_test(s, "regression: unfaithful JSON refused", test_regression_unfaithful_json);
    CU_add_test(s, "canonical dict ids", test_canonical);
    CU_add_test(s, "fcd_put paths", test_put);
    CU_add_test(s, "to_csv with the index", test_csv_with_index);
    CU_add_test(s, "settings", test_config);
    CU_add_test(s, "dispatch: answers", test_dispatch_answers);
    CU_add_test(s, "dispatch: errors", test_dispatch_errors);
    CU_add_test(s, "dispatch: sideUpdate and pages", test_dispatch_side_and_pages);
    CU_add_test(s, "registration mistakes", test_registration_mistakes);
    CU_add_test(s, "fingerprints", test_fingerprint);
    CU_add_test(s, "freeze and fault guard", test_freeze_in_child);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
