/*
 * scores-global - the Dash guide's counter-example, kept to show why it is
 * forbidden: the callback replaces the global data frame with its filtered
 * copy (Python: `global df; df = df[df['score'] == value]`).  Under several
 * workers each would drift to a different frame and answer differently.
 * fcdash freezes app data when serving starts, so the write fails at once:
 * the request gets a 500 and the log names the global variable.
 */
#include <fcdash.h>

typedef struct frame {
    size_t n;
    int score[10];
} frame_t;

/* The module-level df of the Python app, built at start-up. */
const frame_t *df;

static fcd_status_t update_output(fcd_call_t *call)
{
    int64_t value = fcd_arg_int(call, 0, -1);
    frame_t *filtered = fcd_alloc(call, sizeof *filtered);
    if (filtered == NULL)
        return fcd_fail(call, "out of memory");
    for (size_t i = 0; i < df->n; i++)
        if (df->score[i] == value)
            filtered->score[filtered->n++] = df->score[i];
    df = filtered; /* global df; df = df[df['score'] == value] */
    return fcd_out_int(call, 0, (int64_t)df->n);
}

int main(int argc, char **argv)
{
    static const int scores[] = {1, 5, 2, 5, 2, 3, 1, 5, 1, 5};
    fcd_app_t *app = fcd_app_new("scores-global");
    frame_t *students = fcd_app_alloc(app, sizeof *students);
    if (students == NULL)
        return 1;
    for (students->n = 0; students->n < 10; students->n++)
        students->score[students->n] = scores[students->n];
    df = students;
    fcd_set_layout(app, fcd_html("Div", NULL,
        fcd_dcc("Dropdown", "{'options': [1, 2, 3, 4, 5], 'value': 1, 'id': 'score'}"),
        fcd_text("was scored by this many students:"),
        fcd_html("Div", "{'id': 'output'}")));
    fcd_callback(app, update_output, "output.children", "score.value", NULL, 0);
    return fcd_run(app, argc, argv);
}
