/*
 * update.c - POST _dash-update-component (dash-protocol.md section 7).
 *
 * The body is checked against the callback's declaration before the
 * callback runs: the right number of inputs and state entries, each naming
 * the id and property declared.  So a callback only ever sees arguments in
 * the shape it registered, and a stale or forged request gets a 400 that
 * says what differed.  Answers: 200 {"multi":true,"response":{...}} with
 * the outputs that were set (the others are no_update), 204 for
 * PreventUpdate or a no-output callback that set nothing, 500 when the
 * callback fails (detail in debug mode only), 504 past the time limit.
 */
#include "handlers/update.h"

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/json.h"
#include "handlers/callback.h"
#include "handlers/session.h"

static void put_json(void *p)
{
    json_object_put(p);
}

/* A short printable excerpt of client text, for error messages. */
static const char *excerpt(fcd_arena_t *arena, const char *s)
{
    char out[81];
    size_t i = 0;
    for (; s[i] && i < sizeof out - 1; i++)
        out[i] = isprint((unsigned char)s[i]) ? s[i] : '?';
    out[i] = '\0';
    const char *r = fcd_arena_printf(arena, "%s%s", out, s[i] ? "..." : "");
    return r != NULL ? r : "";
}

static bool content_type_is_json(const char *ct)
{
    /* "application/json", optionally with parameters (charset). */
    size_t n = strlen("application/json");
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "application/json", n) == 0 &&
           (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

/* Check one {id, property, value} entry against dep; store its value.
 * Returns NULL or an error message (arena). */
static const char *take_entry(fcd_arena_t *arena, const char *where, size_t i, json_object *entry,
                              const fcd_dep_t *dep, json_object **value)
{
    json_object *id, *prop, *v = NULL;
    if (!json_object_is_type(entry, json_type_object))
        return fcd_arena_printf(arena, "%s[%zu] must be an object {id, property, value}", where, i);
    if (!json_object_object_get_ex(entry, "property", &prop) ||
        !json_object_is_type(prop, json_type_string))
        return fcd_arena_printf(arena, "%s[%zu] has no \"property\" string", where, i);
    if (!json_object_object_get_ex(entry, "id", &id))
        return fcd_arena_printf(arena, "%s[%zu] has no \"id\"", where, i);
    if (dep->wildcard) {
        if (!json_object_is_type(id, json_type_object))
            return fcd_arena_printf(arena, "%s[%zu] must have an object id (pattern matching)",
                                    where, i);
    } else if (dep->dict_id) {
        if (!json_object_is_type(id, json_type_object))
            return fcd_arena_printf(arena, "%s[%zu] must have an object id", where, i);
        fcd_buf_t canon;
        fcd_buf_init(&canon);
        fcd_json_canonical(&canon, id, 0);
        bool same = canon.data != NULL && strcmp(canon.data, dep->id) == 0;
        const char *shown = excerpt(arena, canon.data != NULL ? canon.data : "?");
        fcd_buf_free(&canon);
        if (!same)
            return fcd_arena_printf(arena, "%s[%zu] is %s, expected %s", where, i, shown, dep->id);
    } else if (!json_object_is_type(id, json_type_string) ||
               strcmp(json_object_get_string(id), dep->id) != 0) {
        return fcd_arena_printf(arena, "%s[%zu] has id %s, expected \"%s\"", where, i,
                                excerpt(arena, json_object_to_json_string(id)), dep->id);
    }
    if (strcmp(json_object_get_string(prop), dep->prop) != 0)
        return fcd_arena_printf(arena, "%s[%zu] has property \"%s\", expected \"%s\"", where, i,
                                excerpt(arena, json_object_get_string(prop)), dep->prop);
    json_object_object_get_ex(entry, "value", &v);
    *value = v;
    return NULL;
}

/* Fill args[] from the "inputs" or "state" array.  NULL or a message. */
static const char *take_args(fcd_call_t *call, json_object *body, const char *key,
                             const fcd_dep_t *deps, size_t n, json_object **args)
{
    fcd_arena_t *arena = call->arena;
    json_object *list;
    if (!json_object_object_get_ex(body, key, &list) || list == NULL) {
        if (n == 0)
            return NULL;
        return fcd_arena_printf(arena, "missing \"%s\": callback %s takes %zu", key,
                                call->cb->name, n);
    }
    if (!json_object_is_type(list, json_type_array))
        return fcd_arena_printf(arena, "\"%s\" must be an array", key);
    size_t got = json_object_array_length(list);
    if (got != n)
        return fcd_arena_printf(arena, "\"%s\" has %zu entr%s, but callback %s takes %zu", key,
                                got, got == 1 ? "y" : "ies", call->cb->name, n);
    for (size_t i = 0; i < n; i++) {
        json_object *entry = json_object_array_get_idx(list, i);
        if (!deps[i].wildcard) {
            const char *e = take_entry(arena, key, i, entry, &deps[i], &args[i]);
            if (e != NULL)
                return e;
            continue;
        }
        /* A wildcard input: an array of matching components; the
         * callback gets the array of their values. */
        if (!json_object_is_type(entry, json_type_array))
            return fcd_arena_printf(arena, "%s[%zu] must be an array (pattern-matching %s)", key,
                                    i, deps[i].key);
        json_object *values = json_object_new_array();
        if (values == NULL || fcd_arena_on_reset(arena, put_json, values) != 0)
            return "out of memory";
        size_t m = json_object_array_length(entry);
        for (size_t j = 0; j < m; j++) {
            json_object *v = NULL;
            const char *e = take_entry(arena, key, i, json_object_array_get_idx(entry, j),
                                       &deps[i], &v);
            if (e != NULL)
                return e;
            json_object_array_add(values, json_object_get(v));
        }
        args[i] = values;
    }
    return NULL;
}

/* The answer's "response" object outlives the request, one per thread:
 * json-c writes a value's text into a buffer the value owns, grown by
 * doubling from 32 bytes, so a new object each request paid a dozen
 * reallocs and their copies for a 20 KB figure.  This one keeps its
 * buffer's size (as the runtime keeps the body buffer's); it is emptied
 * after each answer. */
static __thread json_object *kept_response;

static int write_answer(fcd_call_t *call, fcd_buf_t *out)
{
    const fcd_cb_t *cb = call->cb;
    if (kept_response == NULL && (kept_response = json_object_new_object()) == NULL)
        return -1;
    json_object *response = kept_response;
    for (size_t i = 0; i < cb->n_outputs; i++) {
        if (!call->out_set[i])
            continue;
        json_object *props;
        if (!json_object_object_get_ex(response, cb->outputs[i].id, &props)) {
            props = json_object_new_object();
            json_object_object_add(response, cb->outputs[i].id, props);
        }
        /* The answer shares the value; the call still releases its own. */
        json_object_object_add(props, cb->outputs[i].prop, json_object_get(call->outs[i]));
    }
    fcd_buf_adds(out, "{\"multi\":true,\"response\":");
    /* json-c's text can fail where out's appends did not (a column view
     * whose printbuf could not grow): a cut answer must not go out as 200 */
    int rc = fcd_json_write(out, response, 0);
    /* emptied: the props objects go, and with them the answer's share of
     * the outputs */
    for (size_t i = 0; i < cb->n_outputs; i++)
        json_object_object_del(response, cb->outputs[i].id);
    if (rc == 0 && call->side != NULL) {
        fcd_buf_adds(out, ",\"sideUpdate\":");
        rc = fcd_json_write(out, call->side, 0);
    }
    fcd_buf_addc(out, '}');
    return rc != 0 || out->failed ? -1 : 0;
}

static void fail_answer(const fcd_app_t *app, fcd_call_t *call, fcd_response_t *res,
                        const fcd_fault_t *fault)
{
    fcd_arena_t *arena = call->arena;
    int status = fault->sig == SIGALRM ? 504 : 500;
    const char *why = fault->sig ? fault->message
                      : call->error ? call->error
                                    : "the callback returned an error";
    const char *title = fcd_arena_printf(arena, "Callback error updating %s", call->cb->output_key);
    if (app->config.debug)
        fcd_response_error(res, arena, status, "%s: %s", title, why);
    else
        fcd_response_error(res, arena, status, "%s", title);
    res->log_note = fcd_arena_printf(arena, "callback %s: %s", call->cb->name, why);
    res->stop_worker = fault->worker_unsafe;
}

void fcd_update_handle(const fcd_app_t *app, fcd_request_t *req, fcd_response_t *res)
{
    fcd_arena_t *arena = req->arena;
    if (!content_type_is_json(req->content_type)) {
        fcd_response_error(res, arena, 415,
                           "_dash-update-component takes Content-Type application/json, not \"%s\"",
                           excerpt(arena, req->content_type));
        return;
    }
    if (req->body_len == 0) {
        fcd_response_error(res, arena, 400, "empty request body: expected a JSON object");
        return;
    }
    char err[200];
    json_object *body = fcd_json_parse(req->body, req->body_len, app->config.max_json_depth, err,
                                       sizeof err);
    if (body == NULL) {
        fcd_response_error(res, arena, 400, "%s", err);
        return;
    }
    if (fcd_arena_on_reset(arena, put_json, body) != 0) {
        fcd_response_error(res, arena, 500, "out of memory");
        return;
    }
    if (!json_object_is_type(body, json_type_object)) {
        fcd_response_error(res, arena, 400, "the request body must be a JSON object");
        return;
    }
    json_object *output;
    if (!json_object_object_get_ex(body, "output", &output) ||
        !json_object_is_type(output, json_type_string)) {
        fcd_response_error(res, arena, 400, "missing \"output\": the callback's output string");
        return;
    }
    const fcd_cb_t *cb = fcd_callbacks_find(app, json_object_get_string(output));
    if (cb == NULL) {
        fcd_response_error(res, arena, 404, "no callback has output \"%s\"",
                           excerpt(arena, json_object_get_string(output)));
        return;
    }
    fcd_call_t *call = fcd_call_new(app, cb, req);
    if (call == NULL) {
        fcd_response_error(res, arena, 500, "out of memory");
        return;
    }
    const char *e = take_args(call, body, "inputs", cb->inputs, cb->n_inputs, call->args);
    if (e == NULL)
        e = take_args(call, body, "state", cb->state, cb->n_state, call->args + cb->n_inputs);
    json_object *changed = NULL;
    if (e == NULL && json_object_object_get_ex(body, "changedPropIds", &changed) &&
        changed != NULL) {
        if (!json_object_is_type(changed, json_type_array))
            e = "\"changedPropIds\" must be an array of strings";
        else
            for (size_t i = 0; e == NULL && i < json_object_array_length(changed); i++)
                if (!json_object_is_type(json_object_array_get_idx(changed, i),
                                         json_type_string))
                    e = "\"changedPropIds\" must be an array of strings";
    }
    if (e != NULL) {
        fcd_response_error(res, arena, 400, "%s", e);
        return;
    }
    call->triggered = changed;
    if (fcd_sessions_check_call(call, res) != 0)
        return;

    fcd_fault_t fault;
    fcd_status_t st = fcd_guarded_call(cb->fn, call, app->config.callback_time_limit, &fault);
    if (st == FCD_ERROR || call->error != NULL || fault.sig != 0) {
        fail_answer(app, call, res, &fault);
    } else if (st == FCD_PREVENT_UPDATE) {
        res->status = 204;
    } else if (cb->n_outputs == 0 && call->side == NULL) {
        res->status = 204;
    } else {
        res->status = 200;
        res->content_type = "application/json";
        if (write_answer(call, res->body) != 0)
            fcd_response_error(res, arena, 500, "out of memory writing the answer");
    }
    fcd_call_release(call);
}
