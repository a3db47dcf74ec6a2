/*
 * json.h - JSON helpers on top of json-c: parsing request bodies under
 * limits, writing values into a buffer, and the error nodes that carry a
 * set-up mistake up a component tree (see fcd_html_ in fcdash.h).
 */
#ifndef FCD_JSON_H
#define FCD_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "base/buf.h"

/* The key that marks an error node: {"__fcd_error__": "message"}. */
#define FCD_JSON_ERROR_KEY "__fcd_error__"

/* The whole message fcd_json_parse gives when memory ran out: the
 * caller's fault to report as 500, not the input's. */
#define FCD_JSON_OUT_OF_MEMORY "out of memory"

/* Parse `len` bytes of strict JSON, nesting at most `max_depth` levels.
 * New reference, or NULL with a message in err (which never contains the
 * input itself beyond an offset), FCD_JSON_OUT_OF_MEMORY when that was
 * the reason. */
json_object *fcd_json_parse(const char *text, size_t len, int max_depth,
                            char *err, size_t errlen);

/* Out of memory while building values.  json-c's constructors answer
 * NULL when memory runs out, which reads as JSON null and would travel on
 * as a wrong value; the builders here (fcd_text, fcd_double, fcd_html_,
 * fcd_put, ...) note it instead, and the dispatcher takes the note after
 * each callback: an answer built while memory ran out is a 500, never a
 * value with holes.  A worker serves one request at a time, so one
 * process-wide note suffices. */
void fcd_json_note_oom(void);

/* Whether memory ran out since the last call (and forget it). */
bool fcd_json_take_oom(void);

/* v, noting out of memory when it is NULL: for a value just made that
 * cannot be null otherwise. */
json_object *fcd_json_made(json_object *v);

/* An error node with a formatted message.  New reference (NULL only when
 * out of memory). */
json_object *fcd_json_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* The first error node anywhere in `v` (depth-first), or NULL.  Borrowed. */
const char *fcd_json_find_error(json_object *v);

/* Append v's compact JSON text.  '<' inside strings is escaped as \u003c
 * when `for_script` is set.  Returns 0 or -1 (out of memory). */
int fcd_json_write(fcd_buf_t *b, json_object *v, int for_script);

/* The compact JSON text of v, as json-c caches it inside v: borrowed,
 * valid until v changes or is released. */
const char *fcd_json_text(json_object *v, size_t *len);

/* Append v with object keys sorted and no spaces: the form Dash uses to
 * name a dict id ({"index":1,"type":"pm"}).  0, or -1 (out of memory, or
 * nested deeper than 64). */
int fcd_json_canonical(fcd_buf_t *b, json_object *v, int depth);

#endif
