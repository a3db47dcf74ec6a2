/*
 * cities.h - the data and helpers Examples 1 and 2 of the guide share
 * (shared/examples.md fixes what the guide leaves open): one row per
 * (city, fruit, day), the slow processing step, and the figure and table
 * builders.
 */
#ifndef FCD_EXAMPLE_CITIES_H
#define FCD_EXAMPLE_CITIES_H

#include <fcdash.h>

/* The 27-row frame: city, fruit, day, amount. */
fcd_frame_t *cities_frame(void);

/* slow_processing_step(value): sleeps 1 s, then the rows of that city
 * (all of them when value is None), index 0..n-1.  NULL after fcd_fail. */
fcd_frame_t *slow_processing_step(fcd_call_t *call, const fcd_frame_t *df, const char *value);

/* create_figure(frame, title): one scatter of amount by day, titled
 * "<title><n> rows".  New reference. */
json_object *create_figure(const fcd_frame_t *frame, const char *title);

/* create_table(frame): a header row of the column names, then a row of
 * cells per frame row.  New reference (an array of Tr). */
json_object *create_table(const fcd_frame_t *frame);

#endif
