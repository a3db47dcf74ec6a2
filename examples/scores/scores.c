/*
 * scores - the opening app of the Dash guide "Sharing data between
 * callbacks": pick a score, see how many of the ten students got it.
 * The callback filters into a new variable and never touches the data,
 * so every worker answers alike.
 */
#include <fcdash.h>

/* df: student_id 1..10 and their scores */
static const int score[] = {1, 5, 2, 5, 2, 3, 1, 5, 1, 5};
#define N_STUDENTS (sizeof score / sizeof score[0])

/* Output('output', 'children'), Input('score', 'value') */
static fcd_status_t update_output(fcd_call_t *call)
{
    int64_t value = fcd_arg_int(call, 0, -1), n = 0;
    for (size_t i = 0; i < N_STUDENTS; i++) /* filtered_df = df[df['score'] == value] */
        n += score[i] == value;
    return fcd_out_int(call, 0, n);         /* return len(filtered_df) */
}

int main(int argc, char **argv)
{
    fcd_app_t *app = fcd_app_new("scores");
    fcd_set_layout(app, fcd_html("Div", NULL,
        fcd_dcc("Dropdown", "{'options': [1, 2, 3, 4, 5], 'value': 1, 'id': 'score'}"),
        fcd_text("was scored by this many students:"),
        fcd_html("Div", "{'id': 'output'}")));
    fcd_callback(app, update_output, "output.children", "score.value", NULL, 0);
    return fcd_run(app, argc, argv);
}
