/*
 * protocol_check - the app the Dash wire captures were recorded against
 * (../shared/dash-protocol-captures), rebuilt with the fcdash API, so that
 * each captured request body replayed against it must give the captured
 * response body.  Layout: layout.json; callbacks: dependencies.json, in
 * that order.  The one intended difference is the no-output callback's
 * `output` key, a hash fcdash computes itself (the capture's test server
 * used a made-up one); tests read it from our own _dash-dependencies.
 *
 * With FCDASH_TEST_EXTRAS=1 it also has test-only buttons that the
 * captures do not know about, each with its own Div, none called on page
 * load: slow-btn (sleeps FCDASH_TEST_SLOW_MS ms, default 1000, for the
 * SIGTERM test), crash-btn (a write to read-only data), loop-btn (never
 * returns; the callback time limit must end it), pid-btn (answers the
 * worker's pid), big-btn (answers n_clicks * 1000 bytes), tree-btn
 * (answers a component tree, a Div holding a Pre), spin-btn (like
 * slow-btn, but busy on the CPU instead of asleep: no system call for a
 * signal to interrupt).  The layout then comes
 * from a layout function, called per page load, which also names the
 * serving worker in a Div `served-by`.  They stay out of the default app
 * so that _dash-layout and _dash-dependencies can be compared with the
 * captures as they are.
 */
#include <fcdash.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Set in main before serving, read-only afterwards (frozen). */
static long slow_ms = 1000;

/* Python's repr() of a JSON value, as the capture server formatted its
 * texts: None, True/False, numbers, 'strings', [a, b], {'k': v}. */
static void repr(char *buf, size_t size, size_t *pos, json_object *v)
{
#define PUT(...)                                                                                   \
    do {                                                                                           \
        if (*pos < size) {                                                                         \
            int n_ = snprintf(buf + *pos, size - *pos, __VA_ARGS__);                               \
            *pos += n_ > 0 ? (size_t)n_ : 0;                                                       \
        }                                                                                          \
    } while (0)
    switch (json_object_get_type(v)) {
    case json_type_null:
        PUT("None");
        break;
    case json_type_boolean:
        PUT("%s", json_object_get_boolean(v) ? "True" : "False");
        break;
    case json_type_int:
        PUT("%lld", (long long)json_object_get_int64(v));
        break;
    case json_type_double:
        PUT("%.17g", json_object_get_double(v));
        break;
    case json_type_string: {
        const char *s = json_object_get_string(v);
        PUT("'");
        for (; *s; s++) {
            if (*s == '\'' || *s == '\\')
                PUT("\\%c", *s);
            else
                PUT("%c", *s);
        }
        PUT("'");
        break;
    }
    case json_type_array:
        PUT("[");
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            if (i > 0)
                PUT(", ");
            repr(buf, size, pos, json_object_array_get_idx(v, i));
        }
        PUT("]");
        break;
    case json_type_object: {
        int first = 1;
        PUT("{");
        json_object_object_foreach(v, key, val)
        {
            PUT("%s'%s': ", first ? "" : ", ", key);
            repr(buf, size, pos, val);
            first = 0;
        }
        PUT("}");
        break;
    }
    }
#undef PUT
}

/* repr() of a value into request memory. */
static const char *py(fcd_call_t *call, json_object *v)
{
    char buf[2048];
    size_t pos = 0;
    repr(buf, sizeof buf, &pos, v);
    return fcd_printf(call, "%s", buf);
}

/* (a) Output('dd-out', 'children'), Input('dd', 'value'): value * 100 */
static fcd_status_t dd_times_100(fcd_call_t *call)
{
    if (fcd_arg_is_none(call, 0))
        return fcd_out(call, 0, NULL);
    int64_t v = fcd_arg_int(call, 0, 0);
    /* Past int64 after * 100, Python would go on in big integers; a double
     * is the closest JSON can carry. */
    if (v > INT64_MAX / 100 || v < INT64_MIN / 100)
        return fcd_out_double(call, 0, (double)v * 100);
    return fcd_out_int(call, 0, v * 100);
}

/* (b) two outputs; the second is always no_update */
static fcd_status_t b_two_outputs(fcd_call_t *call)
{
    fcd_no_update(call, 1);
    return fcd_out_printf(call, 0, "b clicks: %s", py(call, fcd_arg(call, 0)));
}

/* (c) raise PreventUpdate: 204, nothing changes */
static fcd_status_t c_prevent(fcd_call_t *call)
{
    (void)call;
    return FCD_PREVENT_UPDATE;
}

/* (d) the store's writer: {"v": value, "sq": value * value} */
static fcd_status_t store_writer(fcd_call_t *call)
{
    if (fcd_arg_is_none(call, 0))
        return fcd_out(call, 0, fcd_json("{'v': null, 'sq': null}"));
    long long v = (long long)fcd_arg_int(call, 0, 0);
    return fcd_out(call, 0, fcd_json(fcd_printf(call, "{'v': %lld, 'sq': %lld}", v, v * v)));
}

static json_object *member(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (json_object_is_type(obj, json_type_object))
        json_object_object_get_ex(obj, key, &v);
    return v;
}

/* (d) first reader: "store v=<v>" */
static fcd_status_t d_reader1(fcd_call_t *call)
{
    return fcd_out_printf(call, 0, "store v=%s", py(call, member(fcd_arg(call, 0), "v")));
}

/* (d) second reader, with State('dd', 'value') */
static fcd_status_t d_reader2(fcd_call_t *call)
{
    return fcd_out_printf(call, 0, "store sq=%s, state dd=%s",
                          py(call, member(fcd_arg(call, 0), "sq")), py(call, fcd_arg(call, 1)));
}

/* (e) a scatter of y = value * x */
static fcd_status_t graph_figure(fcd_call_t *call)
{
    long long k = (long long)fcd_arg_int(call, 0, 0);
    return fcd_out(call, 0,
                   fcd_json(fcd_printf(call,
                                       "{'data': [{'type': 'scatter', 'mode': 'markers',"
                                       " 'x': [1, 2, 3, 4, 5],"
                                       " 'y': [%lld, %lld, %lld, %lld, %lld],"
                                       " 'marker': {'size': 14}}],"
                                       " 'layout': {'title': {'text': 'y = %lld x'},"
                                       " 'margin': {'t': 40}}}",
                                       k, 2 * k, 3 * k, 4 * k, 5 * k, k)));
}

/* The triggering inputs joined by ',', or "none" on the initial call. */
static const char *triggered_text(fcd_call_t *call)
{
    size_t n = fcd_triggered_count(call);
    if (n == 0)
        return "none";
    const char *s = "";
    for (size_t i = 0; i < n; i++)
        s = fcd_printf(call, "%s%s%s", s, i ? "," : "", fcd_triggered(call, i));
    return s;
}

/* (f) two buttons; one may have no n_clicks at all (None) */
static fcd_status_t f_buttons(fcd_call_t *call)
{
    return fcd_out_printf(call, 0, "f=%s f2=%s triggered=%s", py(call, fcd_arg(call, 0)),
                          py(call, fcd_arg(call, 1)), triggered_text(call));
}

/* (g) a callback that fails: 500 */
static fcd_status_t err_fails(fcd_call_t *call)
{
    return fcd_fail(call, "simulated failure");
}

/* (h) no Output: only set_props, which travels as sideUpdate */
static fcd_status_t h_side_update(fcd_call_t *call)
{
    return fcd_set_props(call, "side-out", "children",
                         fcd_textf("set by sideUpdate, h=%s", py(call, fcd_arg(call, 0))));
}

/* (i) Input({'type': 'pm', 'index': ALL}, 'n_clicks') */
static fcd_status_t pm_all(fcd_call_t *call)
{
    json_object *trig = json_object_new_array();
    for (size_t i = 0; i < fcd_triggered_count(call); i++)
        json_object_array_add(trig, json_object_new_string(fcd_triggered(call, i)));
    const char *t = py(call, trig);
    json_object_put(trig);
    return fcd_out_printf(call, 0, "pm values=%s triggered=%s", py(call, fcd_arg(call, 0)), t);
}

/* ---- test-only extras (FCDASH_TEST_EXTRAS=1) ---------------------------- */

static fcd_status_t slow(fcd_call_t *call)
{
    struct timespec ts = {.tv_sec = slow_ms / 1000, .tv_nsec = (slow_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
    return fcd_out_printf(call, 0, "slow done n=%s", py(call, fcd_arg(call, 0)));
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static fcd_status_t spin(fcd_call_t *call)
{
    volatile unsigned long n = 0;
    for (double end = now_ms() + (double)slow_ms; now_ms() < end;)
        n++;
    return fcd_out_printf(call, 0, "spin done n=%s", py(call, fcd_arg(call, 0)));
}

static fcd_status_t crash(fcd_call_t *call)
{
    /* A write to read-only memory, the way a callback that edits a string
     * literal crashes.  Not through a null pointer: the sanitizers and
     * valgrind report that one themselves before the fault (UBSan's report
     * even writes into the program's data, frozen by now), and what is
     * tested here is the fault guard (bench/README.md, "Sanitizers"). */
    static const char read_only[] = "read-only";
    volatile char *volatile p = (volatile char *)(uintptr_t)read_only;
    *p = 'R';
    return fcd_out_str(call, 0, "not reached");
}

static fcd_status_t loop(fcd_call_t *call)
{
    volatile unsigned long n = 0;
    for (;;)
        n++;
    return fcd_out_str(call, 0, "not reached");
}

/* n_clicks * 1000 bytes of "0123456789...", for answers larger than
 * nginx's FastCGI buffers. */
static fcd_status_t big(fcd_call_t *call)
{
    int64_t n = fcd_arg_int(call, 0, 0);
    if (n < 0 || n > 100000)
        return fcd_fail(call, "big: n_clicks %lld out of range", (long long)n);
    size_t len = (size_t)n * 1000;
    char *s = fcd_alloc(call, len + 1);
    if (s == NULL)
        return fcd_fail(call, "out of memory");
    for (size_t i = 0; i < len; i++)
        s[i] = (char)('0' + i % 10);
    return fcd_out_str(call, 0, s);
}

/* An output that is a component tree, as Dash apps return html.Div([...]). */
static fcd_status_t tree(fcd_call_t *call)
{
    return fcd_out(call, 0,
                   fcd_html("Div", "{'className': 'tree'}",
                            fcd_textf("tree n=%s", py(call, fcd_arg(call, 0))),
                            fcd_html("Pre", "{'id': 'tree-pre'}", fcd_text("a,b\n1,2"))));
}

static fcd_status_t pid(fcd_call_t *call)
{
    return fcd_out_int(call, 0, (int64_t)getpid());
}

static json_object *layout(void)
{
    return fcd_html("Div", "{'id': 'root'}",
        fcd_html("H1", NULL, fcd_text("fcdash protocol check")),
        fcd_html("H3", NULL, fcd_text("(a) dropdown -> number")),
        fcd_dcc("Dropdown",
                "{'id': 'dd', 'options': [1, 2, 3, 4, 5], 'value': 1, 'clearable': false}"),
        fcd_html("Div", "{'id': 'dd-out'}", fcd_text("dd-initial")),
        fcd_html("H3", NULL, fcd_text("(b) two outputs, one no_update")),
        fcd_html("Button", "{'id': 'btn-b', 'n_clicks': 0}", fcd_text("b")),
        fcd_html("Div", "{'id': 'b-out1'}", fcd_text("b1-initial")),
        fcd_html("Div", "{'id': 'b-out2'}", fcd_text("b2-initial")),
        fcd_html("H3", NULL, fcd_text("(c) 204")),
        fcd_html("Button", "{'id': 'btn-c'}", fcd_text("c")),
        fcd_html("Div", "{'id': 'c-out'}", fcd_text("c-initial")),
        fcd_html("H3", NULL, fcd_text("(d) store")),
        fcd_dcc("Store", "{'id': 'store'}"),
        fcd_html("Div", "{'id': 'd-out1'}", fcd_text("d1-initial")),
        fcd_html("Div", "{'id': 'd-out2'}", fcd_text("d2-initial")),
        fcd_html("H3", NULL, fcd_text("(e) graph")),
        fcd_dcc("Graph", "{'id': 'graph', 'style': {'height': '360px'}}"),
        fcd_html("H3", NULL, fcd_text("(f) buttons")),
        fcd_html("Button", "{'id': 'btn-f', 'n_clicks': 0}", fcd_text("f")),
        fcd_html("Button", "{'id': 'btn-f2'}", fcd_text("f2")),
        fcd_html("Div", "{'id': 'f-out'}", fcd_text("f-initial")),
        fcd_html("H3", NULL, fcd_text("(g) error 500")),
        fcd_html("Button", "{'id': 'btn-err'}", fcd_text("err")),
        fcd_html("Div", "{'id': 'err-out'}", fcd_text("err-initial")),
        fcd_html("H3", NULL, fcd_text("(h) no-output callback with sideUpdate")),
        fcd_html("Button", "{'id': 'btn-h'}", fcd_text("h")),
        fcd_html("Div", "{'id': 'side-out'}", fcd_text("side-initial")),
        fcd_html("H3", NULL, fcd_text("(i) pattern-matching ALL")),
        fcd_html("Button", "{'id': {'type': 'pm', 'index': 1}}", fcd_text("pm1")),
        fcd_html("Button", "{'id': {'type': 'pm', 'index': 2}}", fcd_text("pm2")),
        fcd_html("Div", "{'id': 'pm-out'}", fcd_text("pm-initial")));
}

static json_object *extras_layout(void)
{
    return fcd_html("Div", "{'id': 'extras'}",
        fcd_html("Button", "{'id': 'slow-btn'}", fcd_text("slow")),
        fcd_html("Div", "{'id': 'slow-out'}"),
        fcd_html("Button", "{'id': 'crash-btn'}", fcd_text("crash")),
        fcd_html("Div", "{'id': 'crash-out'}"),
        fcd_html("Button", "{'id': 'loop-btn'}", fcd_text("loop")),
        fcd_html("Div", "{'id': 'loop-out'}"),
        fcd_html("Button", "{'id': 'pid-btn'}", fcd_text("pid")),
        fcd_html("Div", "{'id': 'pid-out'}"),
        fcd_html("Button", "{'id': 'big-btn'}", fcd_text("big")),
        fcd_html("Div", "{'id': 'big-out'}"),
        fcd_html("Button", "{'id': 'tree-btn'}", fcd_text("tree")),
        fcd_html("Div", "{'id': 'tree-out'}"),
        fcd_html("Button", "{'id': 'spin-btn'}", fcd_text("spin")),
        fcd_html("Div", "{'id': 'spin-out'}"));
}

/* Dash's `app.layout = serve_layout`: built for every page load. */
static json_object *extras_page(fcd_call_t *call)
{
    (void)call;
    json_object *root = layout(), *props, *children;
    if (!json_object_object_get_ex(root, "props", &props) ||
        !json_object_object_get_ex(props, "children", &children))
        return root;
    json_object_array_add(children, extras_layout());
    json_object_array_add(children, fcd_html("Div", "{'id': 'served-by'}",
                                             fcd_textf("pid %d", (int)getpid())));
    return root;
}

int main(int argc, char **argv)
{
    fcd_app_t *app = fcd_app_new("protocol_check");
    const char *extras = getenv("FCDASH_TEST_EXTRAS");
    bool with_extras = extras != NULL && strcmp(extras, "1") == 0;
    const char *ms = getenv("FCDASH_TEST_SLOW_MS");
    if (ms != NULL && *ms != '\0')
        slow_ms = atol(ms);

    if (with_extras)
        fcd_set_layout_fn(app, extras_page);
    else
        fcd_set_layout(app, layout());

    fcd_callback(app, dd_times_100, "dd-out.children", "dd.value", NULL, 0);
    fcd_callback(app, b_two_outputs, "b-out1.children b-out2.children", "btn-b.n_clicks", NULL,
                 0);
    fcd_callback(app, c_prevent, "c-out.children", "btn-c.n_clicks", NULL,
                 FCD_PREVENT_INITIAL_CALL);
    fcd_callback(app, store_writer, "store.data", "dd.value", NULL, 0);
    fcd_callback(app, d_reader1, "d-out1.children", "store.data", NULL, 0);
    fcd_callback(app, d_reader2, "d-out2.children", "store.data", "dd.value", 0);
    fcd_callback(app, graph_figure, "graph.figure", "dd.value", NULL, 0);
    fcd_callback(app, f_buttons, "f-out.children", "btn-f.n_clicks btn-f2.n_clicks", NULL, 0);
    fcd_callback(app, err_fails, "err-out.children", "btn-err.n_clicks", NULL,
                 FCD_PREVENT_INITIAL_CALL);
    fcd_callback(app, h_side_update, NULL, "btn-h.n_clicks", NULL, FCD_PREVENT_INITIAL_CALL);
    fcd_callback(app, pm_all, "pm-out.children", "{\"index\":[\"ALL\"],\"type\":\"pm\"}.n_clicks",
                 NULL, 0);
    if (with_extras) {
        fcd_callback(app, slow, "slow-out.children", "slow-btn.n_clicks", NULL,
                     FCD_PREVENT_INITIAL_CALL);
        fcd_callback(app, crash, "crash-out.children", "crash-btn.n_clicks", NULL,
                     FCD_PREVENT_INITIAL_CALL);
        fcd_callback(app, loop, "loop-out.children", "loop-btn.n_clicks", NULL,
                     FCD_PREVENT_INITIAL_CALL);
        fcd_callback(app, pid, "pid-out.children", "pid-btn.n_clicks", NULL,
                     FCD_PREVENT_INITIAL_CALL);
        fcd_callback(app, big, "big-out.children", "big-btn.n_clicks", NULL,
                     FCD_PREVENT_INITIAL_CALL);
        fcd_callback(app, tree, "tree-out.children", "tree-btn.n_clicks", NULL,
                     FCD_PREVENT_INITIAL_CALL);
        fcd_callback(app, spin, "spin-out.children", "spin-btn.n_clicks", NULL,
                     FCD_PREVENT_INITIAL_CALL);
    }
    return fcd_run(app, argc, argv);
}
