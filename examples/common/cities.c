/*
 * cities.c - see cities.h.
 */
#include "cities.h"

#include <unistd.h>

fcd_frame_t *cities_frame(void)
{
    static const char *cities[] = {"MTL", "SF", "NYC"}, *fruits[] = {"apples", "oranges", "figs"};
    fcd_frame_t *f = fcd_frame_new();
    fcd_frame_err_t err;
    fcd_frame_add_column(f, "city", FCD_FRAME_STRING, &err);
    fcd_frame_add_column(f, "fruit", FCD_FRAME_STRING, &err);
    fcd_frame_add_column(f, "day", FCD_FRAME_INT64, &err);
    fcd_frame_add_column(f, "amount", FCD_FRAME_INT64, &err);
    for (int c = 0; c < 3; c++)
        for (int fr = 0; fr < 3; fr++)
            for (int d = 1; d <= 1 + c + fr; d++)
                fcd_frame_append(f, &err, FCD_FRAME_S(cities[c]), FCD_FRAME_S(fruits[fr]),
                                 FCD_FRAME_I(d), FCD_FRAME_I(10 * (c + 1) + d));
    return f;
}

static bool any_row(const fcd_frame_t *f, size_t row, void *ctx)
{
    (void)f, (void)row, (void)ctx;
    return true;
}

fcd_frame_t *slow_processing_step(fcd_call_t *call, const fcd_frame_t *df, const char *value)
{
    sleep(1); /* some expensive data processing step */
    fcd_frame_err_t err;
    fcd_frame_t *rows = value != NULL ? fcd_frame_filter_eq_str(df, "city", value, &err)
                                      : fcd_frame_filter(df, any_row, NULL, &err);
    if (rows == NULL) {
        fcd_fail(call, "slow_processing_step: %s", err.msg);
        return NULL;
    }
    fcd_frame_reset_index(rows);
    return rows;
}

json_object *create_figure(const fcd_frame_t *frame, const char *title)
{
    json_object *fig = fcd_json("{'data': [{'type': 'scatter', 'mode': 'markers'}]}");
    fcd_put(fig, "data.0.x", fcd_frame_column_json(frame, fcd_frame_find(frame, "day")));
    fcd_put(fig, "data.0.y", fcd_frame_column_json(frame, fcd_frame_find(frame, "amount")));
    /* plotly.js 3 reads a title only in its object form */
    fcd_put(fig, "layout.title.text", fcd_textf("%s%zu rows", title, fcd_frame_nrows(frame)));
    return fig;
}

static json_object *row_of(const char *cell, const fcd_frame_t *f, size_t row)
{
    json_object *cells = json_object_new_array();
    fcd_frame_buf_t text = FCD_FRAME_BUF_INIT;
    for (size_t col = 0; col < fcd_frame_ncols(f); col++) {
        text.len = 0;
        if (row == (size_t)-1)
            json_object_array_add(cells, fcd_html(cell, NULL, fcd_text(fcd_frame_name(f, col))));
        else if (fcd_frame_cell_text(f, col, row, &text) == FCD_OK)
            json_object_array_add(cells, fcd_html(cell, NULL,
                                                  json_object_new_string_len(text.data, (int)text.len)));
    }
    fcd_frame_buf_free(&text);
    return fcd_component("dash_html_components", "Tr", NULL, cells);
}

json_object *create_table(const fcd_frame_t *frame)
{
    json_object *rows = json_object_new_array();
    json_object_array_add(rows, row_of("Th", frame, (size_t)-1));
    for (size_t r = 0; r < fcd_frame_nrows(frame); r++)
        json_object_array_add(rows, row_of("Td", frame, r));
    return rows;
}
