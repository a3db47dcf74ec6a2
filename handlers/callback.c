/*
 * callback.c - registering callbacks and the API a callback uses.
 *
 * Specs are "id.prop" lists separated by spaces.  The property is what
 * follows the last '.', as the renderer splits it; Dash forbids '.' in
 * string ids, so that split is unambiguous.  A dict (pattern-matching) id
 * is kept as its sorted compact JSON text, which is how the renderer names
 * it in _dash-dependencies and changedPropIds.
 */
#include "handlers/callback.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "base/json.h"

#define MAX_DEPS 256

/* Parse one "id.prop" token into app data.  Returns 0 or -1 (recorded). */
static int parse_dep(fcd_app_t *app, const char *what, const char *cbname, const char *tok,
                     size_t len, fcd_dep_t *dep)
{
    char text[1024];
    if (len >= sizeof text) {
        fcd_app_setup_error(app, "callback %s: %s spec longer than %zu bytes", cbname, what,
                            sizeof text - 1);
        return -1;
    }
    memcpy(text, tok, len);
    text[len] = '\0';
    char *dot = strrchr(text, '.');
    if (dot == NULL || dot == text || dot[1] == '\0') {
        fcd_app_setup_error(app, "callback %s: %s \"%s\" is not of the form id.property", cbname,
                            what, text);
        return -1;
    }
    *dot = '\0';
    const char *prop = dot + 1;
    dep->dict_id = text[0] == '{';
    if (dep->dict_id) {
        char err[160];
        json_object *id = fcd_json_parse(text, strlen(text), 8, err, sizeof err);
        if (id == NULL || !json_object_is_type(id, json_type_object)) {
            fcd_app_setup_error(app, "callback %s: %s id %s is not a JSON object (%s)", cbname,
                                what, text, id == NULL ? err : "wrong type");
            json_object_put(id);
            return -1;
        }
        /* Canonical form: sorted keys, compact, as the renderer sends it. */
        fcd_buf_t cb;
        fcd_buf_init(&cb);
        fcd_json_canonical(&cb, id, 0);
        const char *canon = cb.data != NULL ? cb.data : "";
        dep->wildcard = strstr(canon, "[\"ALL\"]") || strstr(canon, "[\"MATCH\"]") ||
                        strstr(canon, "[\"ALLSMALLER\"]");
        dep->id = fcd_app_strdup(app, canon);
        fcd_buf_free(&cb);
        json_object_put(id);
    } else {
        if (strchr(text, '{') != NULL) {
            fcd_app_setup_error(app, "callback %s: id \"%s\" may not contain '{'", cbname, text);
            return -1;
        }
        dep->id = fcd_app_strdup(app, text);
    }
    dep->prop = fcd_app_strdup(app, prop);
    char key[1100];
    snprintf(key, sizeof key, "%s.%s", dep->id ? dep->id : "", prop);
    dep->key = fcd_app_strdup(app, key);
    if (dep->id == NULL || dep->prop == NULL || dep->key == NULL) {
        fcd_app_setup_error(app, "callback %s: out of memory", cbname);
        return -1;
    }
    return 0;
}

/* Parse a space-separated spec list.  Returns the count, or -1. */
static long parse_deps(fcd_app_t *app, const char *what, const char *cbname, const char *spec,
                       fcd_dep_t **out)
{
    *out = NULL;
    if (spec == NULL)
        return 0;
    fcd_dep_t tmp[MAX_DEPS];
    size_t n = 0;
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == '\n')
            p++;
        if (!*p)
            break;
        const char *start = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n')
            p++;
        if (n == MAX_DEPS) {
            fcd_app_setup_error(app, "callback %s: more than %d %ss", cbname, MAX_DEPS, what);
            return -1;
        }
        memset(&tmp[n], 0, sizeof tmp[n]);
        if (parse_dep(app, what, cbname, start, (size_t)(p - start), &tmp[n]) != 0)
            return -1;
        n++;
    }
    if (n == 0)
        return 0;
    *out = fcd_frozen_alloc(&app->data, n * sizeof **out);
    if (*out == NULL) {
        fcd_app_setup_error(app, "callback %s: out of memory", cbname);
        return -1;
    }
    memcpy(*out, tmp, n * sizeof **out);
    return (long)n;
}

int fcd_callback_named(fcd_app_t *app, const char *name, fcd_callback_fn fn,
                       const char *outputs, const char *inputs, const char *state,
                       unsigned flags)
{
    if (app == NULL)
        return -1;
    if (app->serving)
        return -1;
    const char *cbname = name != NULL ? name : "?";
    fcd_cb_t *cb = fcd_frozen_alloc(&app->data, sizeof *cb);
    if (cb == NULL || fn == NULL) {
        fcd_app_setup_error(app, "callback %s: %s", cbname, fn ? "out of memory" : "no function");
        return -1;
    }
    cb->name = fcd_app_strdup(app, cbname);
    cb->fn = fn;
    cb->flags = flags;
    long no = parse_deps(app, "output", cbname, outputs, &cb->outputs);
    long ni = parse_deps(app, "input", cbname, inputs, &cb->inputs);
    long ns = parse_deps(app, "state", cbname, state, &cb->state);
    if (no < 0 || ni < 0 || ns < 0)
        return -1;
    cb->n_outputs = (size_t)no;
    cb->n_inputs = (size_t)ni;
    cb->n_state = (size_t)ns;
    if (ni == 0) {
        fcd_app_setup_error(app, "callback %s: needs at least one input", cbname);
        return -1;
    }
    for (size_t i = 0; i < cb->n_outputs; i++) {
        if (cb->outputs[i].wildcard) {
            fcd_app_setup_error(app, "callback %s: pattern-matching outputs are not supported yet",
                                cbname);
            return -1;
        }
    }
    for (size_t i = 0; i < cb->n_state; i++) {
        if (cb->state[i].wildcard) {
            fcd_app_setup_error(app, "callback %s: pattern-matching state is not supported yet",
                                cbname);
            return -1;
        }
    }
    fcd_buf_t key;
    fcd_buf_init(&key);
    if (cb->n_outputs == 1) {
        fcd_buf_adds(&key, cb->outputs[0].key);
    } else if (cb->n_outputs > 1) {
        fcd_buf_adds(&key, "..");
        for (size_t i = 0; i < cb->n_outputs; i++) {
            if (i > 0)
                fcd_buf_adds(&key, "...");
            fcd_buf_adds(&key, cb->outputs[i].key);
        }
        fcd_buf_adds(&key, "..");
    } else {
        /* No output: Dash names the callback by a hash of its inputs. */
        fcd_buf_t in;
        fcd_buf_init(&in);
        for (size_t i = 0; i < cb->n_inputs; i++)
            fcd_buf_printf(&in, "%s%s", i ? "," : "", cb->inputs[i].key);
        unsigned char h[16];
        crypto_generichash(h, sizeof h, (const unsigned char *)(in.data ? in.data : ""), in.len,
                           NULL, 0);
        for (size_t i = 0; i < sizeof h; i++)
            fcd_buf_printf(&key, "%02x", h[i]);
        fcd_buf_free(&in);
    }
    cb->output_key = key.failed ? NULL : fcd_app_strdup(app, key.data);
    fcd_buf_free(&key);
    if (cb->output_key == NULL || cb->name == NULL) {
        fcd_app_setup_error(app, "callback %s: out of memory", cbname);
        return -1;
    }
    *app->callbacks_tail = cb;
    app->callbacks_tail = &cb->next;
    app->n_callbacks++;
    return 0;
}

const fcd_cb_t *fcd_callbacks_find(const fcd_app_t *app, const char *key)
{
    for (const fcd_cb_t *cb = app->callbacks; cb != NULL; cb = cb->next)
        if (strcmp(cb->output_key, key) == 0)
            return cb;
    return NULL;
}

void fcd_callbacks_check(fcd_app_t *app)
{
    for (const fcd_cb_t *a = app->callbacks; a != NULL; a = a->next) {
        for (size_t i = 0; i < a->n_outputs; i++) {
            for (size_t j = i + 1; j < a->n_outputs; j++)
                if (!strcmp(a->outputs[i].key, a->outputs[j].key))
                    fcd_app_setup_error(app, "callback %s: output %s is named twice", a->name,
                                        a->outputs[i].key);
            for (const fcd_cb_t *b = a->next; b != NULL; b = b->next)
                for (size_t j = 0; j < b->n_outputs; j++)
                    if (!strcmp(a->outputs[i].key, b->outputs[j].key))
                        fcd_app_setup_error(app,
                                            "output %s belongs to two callbacks (%s and %s); "
                                            "Dash allows one owner per output property",
                                            a->outputs[i].key, a->name, b->name);
        }
        if (a->n_outputs == 0 && fcd_callbacks_find(app, a->output_key) != a)
            fcd_app_setup_error(app, "callback %s: another no-output callback has the same inputs",
                                a->name);
    }
}

static void deps_list(fcd_buf_t *out, const fcd_dep_t *deps, size_t n)
{
    fcd_buf_addc(out, '[');
    for (size_t i = 0; i < n; i++) {
        fcd_buf_adds(out, i ? ",{\"id\":" : "{\"id\":");
        fcd_buf_add_json_string(out, deps[i].id);
        fcd_buf_adds(out, ",\"property\":");
        fcd_buf_add_json_string(out, deps[i].prop);
        fcd_buf_addc(out, '}');
    }
    fcd_buf_addc(out, ']');
}

int fcd_callbacks_dependencies_json(const fcd_app_t *app, fcd_buf_t *out)
{
    fcd_buf_addc(out, '[');
    for (const fcd_cb_t *cb = app->callbacks; cb != NULL; cb = cb->next) {
        fcd_buf_adds(out, cb == app->callbacks ? "{\"output\":" : ",{\"output\":");
        fcd_buf_add_json_string(out, cb->output_key);
        fcd_buf_adds(out, ",\"inputs\":");
        deps_list(out, cb->inputs, cb->n_inputs);
        fcd_buf_adds(out, ",\"state\":");
        deps_list(out, cb->state, cb->n_state);
        fcd_buf_printf(out, ",\"clientside_function\":null,\"prevent_initial_call\":%s",
                       (cb->flags & FCD_PREVENT_INITIAL_CALL) ? "true" : "false");
        if (cb->n_outputs == 0)
            fcd_buf_adds(out, ",\"no_output\":true");
        fcd_buf_addc(out, '}');
    }
    fcd_buf_addc(out, ']');
    return out->failed ? -1 : 0;
}

fcd_call_t *fcd_call_new(const fcd_app_t *app, const fcd_cb_t *cb, fcd_request_t *req)
{
    fcd_call_t *c = fcd_arena_alloc(req->arena, sizeof *c);
    if (c == NULL)
        return NULL;
    c->app = app;
    c->cb = cb;
    c->req = req;
    c->arena = req->arena;
    if (cb != NULL) {
        c->n_args = cb->n_inputs + cb->n_state;
        c->n_outs = cb->n_outputs;
        c->args = fcd_arena_alloc(req->arena, (c->n_args + 1) * sizeof *c->args);
        c->outs = fcd_arena_alloc(req->arena, (c->n_outs + 1) * sizeof *c->outs);
        c->out_set = fcd_arena_alloc(req->arena, (c->n_outs + 1) * sizeof *c->out_set);
        if (c->args == NULL || c->outs == NULL || c->out_set == NULL)
            return NULL;
    }
    return c;
}

void fcd_call_release(fcd_call_t *call)
{
    if (call == NULL)
        return;
    for (size_t i = 0; i < call->n_outs; i++) {
        json_object_put(call->outs[i]);
        call->outs[i] = NULL;
        call->out_set[i] = false;
    }
    json_object_put(call->side);
    call->side = NULL;
}

/* ---- The API inside a callback ---------------------------------------- */

size_t fcd_arg_count(const fcd_call_t *call)
{
    return call->n_args;
}

json_object *fcd_arg(const fcd_call_t *call, size_t i)
{
    return i < call->n_args ? call->args[i] : NULL;
}

int64_t fcd_arg_int(const fcd_call_t *call, size_t i, int64_t fallback)
{
    json_object *v = fcd_arg(call, i);
    if (json_object_is_type(v, json_type_int))
        return json_object_get_int64(v);
    if (json_object_is_type(v, json_type_double)) {
        double d = json_object_get_double(v);
        if (d >= -9.2e18 && d <= 9.2e18 && d == (double)(int64_t)d)
            return (int64_t)d;
    }
    return fallback;
}

double fcd_arg_double(const fcd_call_t *call, size_t i, double fallback)
{
    json_object *v = fcd_arg(call, i);
    if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
        return json_object_get_double(v);
    return fallback;
}

const char *fcd_arg_str(const fcd_call_t *call, size_t i, const char *fallback)
{
    json_object *v = fcd_arg(call, i);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : fallback;
}

bool fcd_arg_is_none(const fcd_call_t *call, size_t i)
{
    return fcd_arg(call, i) == NULL;
}

size_t fcd_triggered_count(const fcd_call_t *call)
{
    return call->triggered != NULL ? json_object_array_length(call->triggered) : 0;
}

const char *fcd_triggered(const fcd_call_t *call, size_t i)
{
    if (i >= fcd_triggered_count(call))
        return NULL;
    json_object *v = json_object_array_get_idx(call->triggered, i);
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

const char *fcd_triggered_id(fcd_call_t *call)
{
    if (call->triggered_id != NULL)
        return call->triggered_id;
    const char *first = fcd_triggered(call, 0);
    if (first == NULL)
        return NULL;
    const char *dot = strrchr(first, '.');
    call->triggered_id = dot != NULL ? fcd_arena_strndup(call->arena, first, (size_t)(dot - first))
                                     : first;
    return call->triggered_id;
}

fcd_status_t fcd_fail(fcd_call_t *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *m = fcd_arena_vprintf(call->arena, fmt, ap);
    va_end(ap);
    if (call->error == NULL)
        call->error = m != NULL ? m : "out of memory";
    return FCD_ERROR;
}

fcd_status_t fcd_out(fcd_call_t *call, size_t i, json_object *value)
{
    if (i >= call->n_outs) {
        json_object_put(value);
        return fcd_fail(call, "the callback set output %zu, but it has %zu output%s", i,
                        call->n_outs, call->n_outs == 1 ? "" : "s");
    }
    const char *e = fcd_value_error(value);
    if (e != NULL) {
        fcd_fail(call, "output %s: %s", call->cb->outputs[i].key, e);
        json_object_put(value);
        return FCD_ERROR;
    }
    json_object_put(call->outs[i]);
    call->outs[i] = value;
    call->out_set[i] = true;
    return FCD_OK;
}

/* fcd_out of a value just made, which is NULL only when memory ran out:
 * an output the callback meant to set must not turn into None. */
static fcd_status_t out_made(fcd_call_t *call, size_t i, json_object *made)
{
    if (made == NULL)
        return fcd_fail(call, "out of memory setting output %zu", i);
    return fcd_out(call, i, made);
}

fcd_status_t fcd_out_int(fcd_call_t *call, size_t i, int64_t value)
{
    return out_made(call, i, json_object_new_int64(value));
}

fcd_status_t fcd_out_double(fcd_call_t *call, size_t i, double value)
{
    /* Not finite is None (fcd_double gives NULL), as Dash sends it. */
    if (!isfinite(value))
        return fcd_out(call, i, NULL);
    return out_made(call, i, fcd_double(value));
}

fcd_status_t fcd_out_str(fcd_call_t *call, size_t i, const char *value)
{
    return value != NULL ? out_made(call, i, json_object_new_string(value)) : fcd_out(call, i, NULL);
}

fcd_status_t fcd_out_printf(fcd_call_t *call, size_t i, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = fcd_arena_vprintf(call->arena, fmt, ap);
    va_end(ap);
    if (s == NULL)
        return fcd_fail(call, "out of memory");
    return out_made(call, i, json_object_new_string(s));
}

void fcd_no_update(fcd_call_t *call, size_t i)
{
    if (i < call->n_outs) {
        json_object_put(call->outs[i]);
        call->outs[i] = NULL;
        call->out_set[i] = false;
    }
}

fcd_status_t fcd_set_props(fcd_call_t *call, const char *id, const char *prop,
                           json_object *value)
{
    const char *e = fcd_value_error(value);
    if (e != NULL || id == NULL || prop == NULL) {
        json_object_put(value);
        return fcd_fail(call, "set_props %s.%s: %s", id ? id : "?", prop ? prop : "?",
                        e ? e : "no id or property");
    }
    if (call->side == NULL && (call->side = json_object_new_object()) == NULL) {
        json_object_put(value);
        return fcd_fail(call, "out of memory");
    }
    json_object *props;
    if (!json_object_object_get_ex(call->side, id, &props)) {
        props = json_object_new_object();
        if (props == NULL || json_object_object_add(call->side, id, props) != 0) {
            json_object_put(props);
            json_object_put(value);
            return fcd_fail(call, "out of memory");
        }
    }
    if (json_object_object_add(props, prop, value) != 0) {
        json_object_put(value);
        return fcd_fail(call, "out of memory");
    }
    return FCD_OK;
}

void *fcd_alloc(fcd_call_t *call, size_t size)
{
    return fcd_arena_alloc(call->arena, size);
}

char *fcd_printf(fcd_call_t *call, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = fcd_arena_vprintf(call->arena, fmt, ap);
    va_end(ap);
    return s;
}

int fcd_defer(fcd_call_t *call, void (*fn)(void *), void *ptr)
{
    return fcd_arena_on_reset(call->arena, fn, ptr);
}

const fcd_app_t *fcd_call_app(const fcd_call_t *call)
{
    return call->app;
}
