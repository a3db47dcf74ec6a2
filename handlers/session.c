/*
 * session.c - signed session ids in the request path (cache/session.c
 * does the cryptography).
 *
 * The id travels in a dcc.Store the layout function fills; the app names
 * that prop once (fcd_use_sessions) and every callback taking it gets the
 * id verified before it runs, so no callback can forget the check.  Ids
 * never reach the log: a short keyed hash stands in for them.
 */
#include "handlers/session.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/json.h"
#include "handlers/memo.h"

void fcd_use_sessions(fcd_app_t *app, const char *prop)
{
    if (app == NULL || app->serving)
        return;
    const char *dot = prop != NULL ? strrchr(prop, '.') : NULL;
    if (dot == NULL || dot == prop || dot[1] == '\0' || strchr(prop, ' ') != NULL) {
        fcd_app_setup_error(app, "fcd_use_sessions: \"%s\" is not of the form id.property",
                            prop ? prop : "(null)");
        return;
    }
    app->session_prop = fcd_app_strdup(app, prop);
}

int fcd_sessions_worker_open(fcd_app_t *app, char *err, size_t errlen, char *warn,
                             size_t warnlen)
{
    warn[0] = '\0';
    if (app->session_prop == NULL)
        return 0;
    char msg[512];
    fcd_session_status_t st =
        fcd_session_conf_load(&app->worker->sessions, app->name, NULL, msg, sizeof msg);
    if (st == FCD_SESSION_ERROR) {
        snprintf(err, errlen, "sessions: %s", msg);
        return -1;
    }
    if (st == FCD_SESSION_DEVELOPMENT)
        snprintf(warn, warnlen, "%s", msg);
    if (fcd_session_store_conf_load(&app->worker->session_store, &app->worker->sessions, msg,
                                    sizeof msg) != FCD_CACHE_OK) {
        snprintf(err, errlen, "sessions: %s", msg);
        return -1;
    }
    return 0;
}

const char *fcd_session_new(fcd_call_t *call)
{
    const fcd_app_t *app = call->app;
    if (app->session_prop == NULL || app->worker == NULL) {
        fcd_fail(call, "fcd_session_new: the app has not called fcd_use_sessions");
        return NULL;
    }
    char *text = fcd_arena_alloc(call->arena, FCD_SESSION_ID_BUF);
    if (text == NULL ||
        fcd_session_mint(&app->worker->sessions, (int64_t)time(NULL), NULL, text) != FCD_SESSION_OK) {
        fcd_fail(call, "cannot make a session id");
        return NULL;
    }
    char hash[FCD_SESSION_LOG_HASH_BUF];
    call->req->note = fcd_arena_printf(
        call->arena, "new session %s",
        fcd_session_log_hash(&app->worker->sessions, text, strlen(text), hash));
    return text;
}

fcd_status_t fcd_session_memoize(fcd_call_t *call, const char *name, unsigned timeout,
                                 fcd_memo_fn fn, const void **data, size_t *len)
{
    if (call->session == NULL)
        return fcd_fail(call, "fcd_session_memoize: callback %s does not take the session prop %s",
                        call->cb ? call->cb->name : "?",
                        call->app->session_prop ? call->app->session_prop : "(none)");
    *data = NULL;
    *len = 0;
    fcd_worker_t *w = call->app->worker;
    fcd_memo_result_t *res = fcd_memo_result_new(call);
    if (res == NULL)
        return fcd_fail(call, "out of memory");
    /* Stored under the verified session's own key (never client text),
     * counted against FCDASH_SESSION_THRESHOLD, least recently used
     * sessions evicted first. */
    fcd_memo_adapter_t ctx = {call, NULL, fn};
    fcd_cache_status_t st = fcd_session_store_memo(w->cache, &w->session_store, call->session, name,
                                                   timeout, fcd_memo_adapter_compute, &ctx, res);
    return fcd_memo_finish(call, name, st, res, data, len);
}

/* Where the session prop sits among the callback's arguments, or -1. */
static long session_arg(const fcd_call_t *call)
{
    const fcd_cb_t *cb = call->cb;
    const char *prop = call->app->session_prop;
    for (size_t i = 0; i < cb->n_inputs; i++)
        if (!strcmp(cb->inputs[i].key, prop))
            return (long)i;
    for (size_t i = 0; i < cb->n_state; i++)
        if (!strcmp(cb->state[i].key, prop))
            return (long)(cb->n_inputs + i);
    return -1;
}

int fcd_sessions_check_call(fcd_call_t *call, fcd_response_t *res)
{
    const fcd_app_t *app = call->app;
    if (app->session_prop == NULL)
        return 0;
    long i = session_arg(call);
    if (i < 0)
        return 0;
    json_object *v = call->args[i];
    const char *text = json_object_is_type(v, json_type_string) ? json_object_get_string(v) : "";
    size_t len = json_object_is_type(v, json_type_string) ? (size_t)json_object_get_string_len(v) : 0;
    fcd_session_t *s = fcd_arena_alloc(call->arena, sizeof *s);
    char msg[256], hash[FCD_SESSION_LOG_HASH_BUF];
    if (s == NULL) {
        fcd_response_error(res, call->arena, 500, "out of memory");
        return 500;
    }
    fcd_session_status_t st =
        fcd_session_verify(&app->worker->sessions, text, len, (int64_t)time(NULL), s, msg, sizeof msg);
    fcd_session_log_hash(&app->worker->sessions, text, len, hash);
    if (st == FCD_SESSION_OK) {
        call->session = s;
        call->req->note = fcd_arena_printf(call->arena, "session %s", hash);
        return 0;
    }
    int status = fcd_session_refused(st) ? 403 : 500;
    fcd_response_error(res, call->arena, status, "%s", fcd_session_strerror(st));
    /* The body also names the refusal by a stable code, for clients. */
    if (res->body->len > 0 && res->body->data[res->body->len - 1] == '}') {
        res->body->len--;
        fcd_buf_printf(res->body, ",\"error\":\"%s\"}", fcd_session_code(st));
    }
    res->log_note = fcd_arena_printf(call->arena, "session %s refused: %s", hash, msg);
    return status;
}
