/*
 * signal - the Dash guide's Example 3, "caching and signaling": an
 * expensive step (global_store, 3 s) is memoized in the shared cache, so it
 * runs once per category for every worker, host and visitor; compute_value
 * fills the cache and then signals the four graphs through a dcc.Store,
 * and each graph reads the cached result.
 */
#include <fcdash.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#define N 100

/* df, built at start-up and frozen: category, x, y (standard normal). */
static const fcd_frame_t *df;

/* A fixed-seed standard normal (xorshift64* and Box-Muller), so every
 * worker builds the same frame. */
static double randn(uint64_t *s)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        *s ^= *s >> 12, *s ^= *s << 25, *s ^= *s >> 27;
        u[i] = ((*s * 2685821657736338717ull) >> 11) * 0x1p-53;
    }
    return sqrt(-2.0 * log(1.0 - u[0])) * cos(2.0 * M_PI * u[1]);
}

static fcd_frame_t *make_df(void)
{
    static const struct { const char *name; int n; } cats[] = {
        {"apples", 5 * N}, {"oranges", 10 * N}, {"figs", 20 * N}, {"pineapples", 15 * N}};
    fcd_frame_t *f = fcd_frame_new();
    fcd_frame_err_t err;
    uint64_t seed = 0x5eed;
    fcd_frame_add_column(f, "category", FCD_FRAME_STRING, &err);
    fcd_frame_add_column(f, "x", FCD_FRAME_FLOAT64, &err);
    fcd_frame_add_column(f, "y", FCD_FRAME_FLOAT64, &err);
    for (size_t c = 0; c < 4; c++)
        for (int i = 0; i < cats[c].n; i++)
            fcd_frame_append(f, &err, FCD_FRAME_S(cats[c].name), FCD_FRAME_F(randn(&seed)),
                             FCD_FRAME_F(randn(&seed)));
    return f;
}

/* @cache.memoize() def global_store(value): the rows of one category */
static fcd_frame_t *filter_category(fcd_call_t *call, json_object *value)
{
    const char *category = json_object_get_string(value);
    fprintf(stderr, "Computing value with %s\n", category ? category : "None");
    sleep(3); /* simulate an expensive query */
    fcd_frame_err_t err;
    fcd_frame_t *rows = fcd_frame_filter_eq_str(df, "category", category ? category : "", &err);
    if (rows == NULL)
        fcd_fail(call, "global_store: %s", err.msg);
    return rows;
}

static const fcd_frame_t *global_store(fcd_call_t *call, json_object *value)
{
    return fcd_memoize_frame(call, "global_store", value, 0, filter_category);
}

static fcd_status_t generate_figure(fcd_call_t *call, const char *figure)
{
    const fcd_frame_t *rows = global_store(call, fcd_arg(call, 0));
    if (rows == NULL)
        return FCD_ERROR;
    json_object *fig = fcd_json(figure);
    /* views: the memoized rows live until the answer is written */
    fcd_put(fig, "data.0.x", fcd_frame_column_view(rows, fcd_frame_find(rows, "x")));
    fcd_put(fig, "data.0.y", fcd_frame_column_view(rows, fcd_frame_find(rows, "y")));
    fcd_put(fig, "layout", fcd_json("{'margin': {'l': 20, 'r': 10, 'b': 20, 't': 10}}"));
    return fcd_out(call, 0, fig);
}

/* Output('signal', 'data'), Input('dropdown', 'value') */
static fcd_status_t compute_value(fcd_call_t *call)
{
    if (global_store(call, fcd_arg(call, 0)) == NULL)
        return FCD_ERROR;
    return fcd_out(call, 0, json_object_get(fcd_arg(call, 0)));
}

static fcd_status_t update_graph_1(fcd_call_t *call)
{
    return generate_figure(call, "{'data': [{'type': 'scatter', 'mode': 'markers', 'marker': "
                                 "{'opacity': 0.5, 'size': 14, 'line': {'border': 'thin darkgrey solid'}}}]}");
}

static fcd_status_t update_graph_2(fcd_call_t *call)
{
    return generate_figure(call, "{'data': [{'type': 'scatter', 'mode': 'lines', "
                                 "'line': {'shape': 'spline', 'width': 0.5}}]}");
}

static fcd_status_t update_graph_3(fcd_call_t *call)
{
    return generate_figure(call, "{'data': [{'type': 'histogram2d'}]}");
}

static fcd_status_t update_graph_4(fcd_call_t *call)
{
    return generate_figure(call, "{'data': [{'type': 'histogram2dcontour'}]}");
}

int main(int argc, char **argv)
{
    fcd_app_t *app = fcd_app_new("signal");
    df = fcd_app_keep_frame(app, make_df());
    fcd_set_layout(app, fcd_html("Div", NULL,
        fcd_dcc("Dropdown", "{'options': ['apples', 'oranges', 'figs', 'pineapples'], "
                            "'value': 'apples', 'id': 'dropdown'}"),
        fcd_html("Div", "{'className': 'row'}",
            fcd_html("Div", "{'className': 'six columns'}", fcd_dcc("Graph", "{'id': 'graph-1'}")),
            fcd_html("Div", "{'className': 'six columns'}", fcd_dcc("Graph", "{'id': 'graph-2'}"))),
        fcd_html("Div", "{'className': 'row'}",
            fcd_html("Div", "{'className': 'six columns'}", fcd_dcc("Graph", "{'id': 'graph-3'}")),
            fcd_html("Div", "{'className': 'six columns'}", fcd_dcc("Graph", "{'id': 'graph-4'}"))),
        fcd_dcc("Store", "{'id': 'signal'}")));  /* signal value to trigger callbacks */
    fcd_callback(app, compute_value, "signal.data", "dropdown.value", NULL, 0);
    fcd_callback(app, update_graph_1, "graph-1.figure", "signal.data", NULL, 0);
    fcd_callback(app, update_graph_2, "graph-2.figure", "signal.data", NULL, 0);
    fcd_callback(app, update_graph_3, "graph-3.figure", "signal.data", NULL, 0);
    fcd_callback(app, update_graph_4, "graph-4.figure", "signal.data", NULL, 0);
    return fcd_run(app, argc, argv);
}
