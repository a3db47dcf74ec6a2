/*
 * store - the Dash guide's Example 1, "storing data in the browser with
 * dcc.Store": one slow step runs once per choice and writes the cleaned
 * frame into a Store (pandas' split JSON); a graph and a table each read
 * the Store, so the slow step is not repeated per output.
 */
#include "../common/cities.h"

static const fcd_frame_t *df;

/* Output('intermediate-value', 'data'), Input('dropdown', 'value') */
static fcd_status_t clean_data(fcd_call_t *call)
{
    fcd_frame_t *cleaned_df = slow_processing_step(call, df, fcd_arg_str(call, 0, NULL));
    if (cleaned_df == NULL)
        return FCD_ERROR;
    fcd_status_t st = fcd_out_frame(call, 0, cleaned_df, FCD_FRAME_SPLIT);
    fcd_frame_free(cleaned_df);
    return st;
}

/* Output('graph', 'figure'), Input('intermediate-value', 'data') */
static fcd_status_t update_graph(fcd_call_t *call)
{
    const fcd_frame_t *dff = fcd_arg_frame(call, 0, FCD_FRAME_SPLIT);
    return dff ? fcd_out(call, 0, create_figure(dff, "")) : FCD_ERROR;
}

/* Output('table', 'children'), Input('intermediate-value', 'data') */
static fcd_status_t update_table(fcd_call_t *call)
{
    const fcd_frame_t *dff = fcd_arg_frame(call, 0, FCD_FRAME_SPLIT);
    return dff ? fcd_out(call, 0, create_table(dff)) : FCD_ERROR;
}

int main(int argc, char **argv)
{
    fcd_app_t *app = fcd_app_new("store");
    df = fcd_app_keep_frame(app, cities_frame());
    fcd_set_layout(app, fcd_html("Div", NULL,
        fcd_dcc("Graph", "{'id': 'graph'}"),
        fcd_html("Table", "{'id': 'table'}"),
        fcd_dcc("Dropdown", "{'options': ['MTL', 'SF', 'NYC'], 'id': 'dropdown'}"),
        /* dcc.Store stores the intermediate value */
        fcd_dcc("Store", "{'id': 'intermediate-value'}")));
    fcd_callback(app, clean_data, "intermediate-value.data", "dropdown.value", NULL, 0);
    fcd_callback(app, update_graph, "graph.figure", "intermediate-value.data", NULL, 0);
    fcd_callback(app, update_table, "table.children", "intermediate-value.data", NULL, 0);
    return fcd_run(app, argc, argv);
}
