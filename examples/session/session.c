/*
 * session - the Dash guide's Example 4, "user-based session data on the
 * server": each page load gets a fresh signed session id in a dcc.Store;
 * the session's frame is computed once (3 s) and kept on the server under
 * that id, and both outputs read it.  Another browser gets other data; a
 * forged or tampered id is refused before any callback runs.
 */
#include <fcdash.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

/* str(now - datetime.timedelta(seconds=back)), local time as Python prints it */
static const char *moment(fcd_call_t *call, struct timespec now, int back)
{
    time_t t = now.tv_sec - back;
    struct tm tm;
    char text[40];
    localtime_r(&t, &tm);
    strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm);
    long usec = now.tv_nsec / 1000;
    return usec ? fcd_printf(call, "%s.%06ld", text, usec) : fcd_printf(call, "%s", text);
}

/* @cache.memoize() def query_and_serialize_data(session_id) */
static fcd_status_t query_and_serialize_data(fcd_call_t *call, json_object *args, void **out,
                                             size_t *len)
{
    (void)args;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    sleep(3); /* a user/session-unique data processing step */
    static const char *values[] = {"a", "b", "a", "c"};
    fcd_frame_t *df = fcd_frame_new();
    fcd_frame_err_t err;
    fcd_frame_add_column(df, "time", FCD_FRAME_STRING, &err);
    fcd_frame_add_column(df, "values", FCD_FRAME_STRING, &err);
    for (int k = 0; k < 4; k++)
        fcd_frame_append(df, &err, FCD_FRAME_S(moment(call, now, 15 - 5 * k)),
                         FCD_FRAME_S(values[k]));
    fcd_frame_buf_t json = FCD_FRAME_BUF_INIT; /* df.to_json() */
    fcd_status_t st = fcd_frame_to_json(df, FCD_FRAME_COLUMNS, 0, &json, &err);
    fcd_frame_free(df);
    if (st != FCD_OK)
        return fcd_fail(call, "%s", err.msg);
    *out = json.data;
    *len = json.len;
    return FCD_OK;
}

/* get_dataframe(session_id): pd.read_json(query_and_serialize_data(session_id)) */
static const char *session_csv(fcd_call_t *call)
{
    const void *json;
    size_t len;
    fcd_frame_err_t err;
    if (fcd_session_memoize(call, "query_and_serialize_data", 0, query_and_serialize_data,
                            &json, &len) != FCD_OK)
        return NULL;
    fcd_frame_t *df = fcd_frame_from_json(json, len, FCD_FRAME_COLUMNS, &err);
    fcd_frame_buf_t csv = FCD_FRAME_BUF_INIT; /* df.to_csv() */
    const char *text = NULL;
    if (df != NULL && fcd_frame_to_csv_index(df, &csv, &err) == FCD_OK)
        text = fcd_printf(call, "%.*s", (int)csv.len, csv.data);
    else
        fcd_fail(call, "session data: %s", err.msg);
    fcd_frame_buf_free(&csv);
    fcd_frame_free(df);
    return text;
}

static fcd_status_t display_value(fcd_call_t *call, int n)
{
    const char *csv = session_csv(call);
    if (csv == NULL)
        return FCD_ERROR;
    const char *clicks = fcd_arg_is_none(call, 0) ? "None"
                                                  : fcd_printf(call, "%lld", (long long)fcd_arg_int(call, 0, 0));
    return fcd_out(call, 0, fcd_html("Div", NULL,
        fcd_textf("Output %d - Button has been clicked %s times", n, clicks),
        fcd_html("Pre", NULL, fcd_text(csv))));
}

/* Output('output-N', 'children'),
 * Input('get-data-button', 'n_clicks'), Input('session-id', 'data') */
static fcd_status_t display_value_1(fcd_call_t *call) { return display_value(call, 1); }
static fcd_status_t display_value_2(fcd_call_t *call) { return display_value(call, 2); }

/* app.layout = serve_layout: a new session id on every page load */
static json_object *serve_layout(fcd_call_t *call)
{
    const char *session_id = fcd_session_new(call);
    if (session_id == NULL)
        return NULL;
    return fcd_html("Div", NULL,
        fcd_dcc("Store", fcd_printf(call, "{'data': '%s', 'id': 'session-id'}", session_id)),
        fcd_html("Button", "{'children': 'Get data', 'id': 'get-data-button'}"),
        fcd_html("Div", "{'id': 'output-1'}"),
        fcd_html("Div", "{'id': 'output-2'}"));
}

int main(int argc, char **argv)
{
    fcd_app_t *app = fcd_app_new("session");
    fcd_set_layout_fn(app, serve_layout);
    fcd_use_sessions(app, "session-id.data");
    fcd_callback(app, display_value_1, "output-1.children",
                 "get-data-button.n_clicks session-id.data", NULL, 0);
    fcd_callback(app, display_value_2, "output-2.children",
                 "get-data-button.n_clicks session-id.data", NULL, 0);
    return fcd_run(app, argc, argv);
}
