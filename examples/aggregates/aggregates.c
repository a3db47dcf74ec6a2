/*
 * aggregates - the Dash guide's Example 2, "computing aggregations upfront":
 * one callback filters the cleaned frame three ways and stores the three
 * results together in a dcc.Store; each graph reads its own part.
 */
#include "../common/cities.h"

static const fcd_frame_t *df;
static const char *const fruits[] = {"apples", "oranges", "figs"};

/* cleaned_df[cleaned_df['fruit'] == fruit].to_json(orient='split', date_format='iso'),
 * as the JSON string literal json.dumps writes for it */
static const char *dataset(fcd_call_t *call, const fcd_frame_t *cleaned_df, const char *fruit)
{
    fcd_frame_err_t err;
    fcd_frame_buf_t text = FCD_FRAME_BUF_INIT;
    fcd_frame_t *dff = fcd_frame_filter_eq_str(cleaned_df, "fruit", fruit, &err);
    if (dff != NULL)
        fcd_frame_to_json(dff, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, &text, &err);
    json_object *s = json_object_new_string_len(text.data ? text.data : "", (int)text.len);
    const char *literal = fcd_printf(call, "%s", json_object_to_json_string_ext(s, JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(s);
    fcd_frame_buf_free(&text);
    fcd_frame_free(dff);
    return literal;
}

/* Output('intermediate-value', 'data'), Input('dropdown', 'value') */
static fcd_status_t clean_data(fcd_call_t *call)
{
    fcd_frame_t *cleaned_df = slow_processing_step(call, df, fcd_arg_str(call, 0, NULL));
    if (cleaned_df == NULL)
        return FCD_ERROR;
    /* a few filter steps that compute the data as it's needed in the
     * future callbacks, stored together: json.dumps(datasets) */
    const char *datasets = fcd_printf(call, "{\"df_1\": %s, \"df_2\": %s, \"df_3\": %s}",
                                      dataset(call, cleaned_df, fruits[0]),
                                      dataset(call, cleaned_df, fruits[1]),
                                      dataset(call, cleaned_df, fruits[2]));
    fcd_frame_free(cleaned_df);
    return fcd_out_str(call, 0, datasets);
}

/* Output('graph<k>', 'figure'), Input('intermediate-value', 'data') */
static fcd_status_t update_graph(fcd_call_t *call, int k)
{
    json_object *datasets = fcd_json(fcd_arg_str(call, 0, "null")); /* json.loads */
    json_object *part = json_object_object_get(datasets, fcd_printf(call, "df_%d", k + 1));
    fcd_frame_err_t err;
    fcd_frame_t *dff = part ? fcd_frame_from_json(json_object_get_string(part),
                                                  (size_t)json_object_get_string_len(part),
                                                  FCD_FRAME_SPLIT, &err) : NULL;
    json_object_put(datasets);
    if (dff == NULL)
        return fcd_fail(call, "df_%d: not a stored frame", k + 1);
    json_object *figure = create_figure(dff, fcd_printf(call, "%s: ", fruits[k]));
    fcd_frame_free(dff);
    return fcd_out(call, 0, figure);
}

static fcd_status_t update_graph_1(fcd_call_t *call) { return update_graph(call, 0); }
static fcd_status_t update_graph_2(fcd_call_t *call) { return update_graph(call, 1); }
static fcd_status_t update_graph_3(fcd_call_t *call) { return update_graph(call, 2); }

int main(int argc, char **argv)
{
    fcd_app_t *app = fcd_app_new("aggregates");
    df = fcd_app_keep_frame(app, cities_frame());
    fcd_set_layout(app, fcd_html("Div", NULL,
        fcd_dcc("Dropdown", "{'options': ['MTL', 'SF', 'NYC'], 'id': 'dropdown'}"),
        fcd_dcc("Graph", "{'id': 'graph1'}"),
        fcd_dcc("Graph", "{'id': 'graph2'}"),
        fcd_dcc("Graph", "{'id': 'graph3'}"),
        fcd_dcc("Store", "{'id': 'intermediate-value'}")));
    fcd_callback(app, clean_data, "intermediate-value.data", "dropdown.value", NULL, 0);
    fcd_callback(app, update_graph_1, "graph1.figure", "intermediate-value.data", NULL, 0);
    fcd_callback(app, update_graph_2, "graph2.figure", "intermediate-value.data", NULL, 0);
    fcd_callback(app, update_graph_3, "graph3.figure", "intermediate-value.data", NULL, 0);
    return fcd_run(app, argc, argv);
}
