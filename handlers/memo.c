/*
 * memo.c - fcd_memoize and friends on top of cache/memoize.
 *
 * The worker's cache handle lives in app->worker, opened once per process
 * after the process manager forked it (one memcached connection per worker,
 * not per request).  A degraded cache never fails a request: the result is
 * computed here, and a rate-limited note goes on the request's log line.
 * Results are released with the request's arena.
 */
#include "handlers/memo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/memoize.h"
#include "handlers/callback.h"

/* The cache URL as it may be logged: a password (user:password@ or
 * password=...) replaced by "***". */
static void redact_url(const char *url, char *out, size_t outlen)
{
    size_t o = 0;
    const char *scheme = strstr(url, "://");
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *slash = scheme ? strchr(scheme + 3, '/') : NULL;
    for (const char *p = url; *p && o + 4 < outlen; p++) {
        if (at && scheme && p == scheme + 3 && (!slash || at < slash)) {
            o += (size_t)snprintf(out + o, outlen - o, "***");
            p = at - 1;
            at = NULL;
            continue;
        }
        if (!strncmp(p, "password=", 9)) {
            o += (size_t)snprintf(out + o, outlen - o, "password=***");
            while (p[1] && p[1] != '&') /* skip the value */
                p++;
            continue;
        }
        out[o++] = *p;
    }
    out[o < outlen ? o : outlen - 1] = '\0';
}

int fcd_memo_worker_open(fcd_app_t *app, char *err, size_t errlen, char *warn, size_t warnlen)
{
    warn[0] = '\0';
    fcd_worker_t *w = calloc(1, sizeof *w);
    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    app->worker = w;
    fcd_cache_ratelimit_init(&w->cache_log, FCD_CACHE_LOG_INTERVAL_DEFAULT,
                             FCD_CACHE_LOG_BURST_DEFAULT);
    char why[256];
    fcd_cache_status_t st = fcd_cache_stats_open(&w->stats, app->name, why, sizeof why);
    if (st == FCD_CACHE_ERROR) {
        snprintf(err, errlen, "cache counters: %s", why);
        return -1;
    }
    if (st == FCD_CACHE_DECLINED)
        snprintf(warn, warnlen, "cache counters are this worker's only: %s", why);
    const char *url = getenv(FCD_CACHE_ENV);
    if (fcd_cache_open(&w->cache, url, app->name, &w->stats, why, sizeof why) != FCD_CACHE_OK) {
        char shown[256];
        redact_url(url ? url : "", shown, sizeof shown);
        snprintf(err, errlen, "%s=%s: %s", FCD_CACHE_ENV, shown, why);
        return -1;
    }
    /* One read at start-up, so a cache that is down or refuses us (a wrong
     * password, say) is named in the start-up log, not only on the first
     * request's line.  Serving goes on either way: the cache fails open. */
    void *probe = NULL;
    size_t probe_len = 0;
    if (fcd_cache_get(w->cache, "fcd:startup-probe", &probe, &probe_len) == FCD_CACHE_DECLINED)
        snprintf(warn, warnlen, "the cache is not reachable now (requests will compute without "
                                "it until it is): %s", fcd_cache_error(w->cache));
    free(probe);
    if (fcd_cache_is_process_local(w->cache, NULL)) {
        /* FCDASH_WORKERS says how many the pool runs; the claim catches a
         * pool that did not say (spawn-fcgi -F N workers know nothing of
         * each other). */
        if (fcd_cache_check_workers(w->cache, app->config.workers, why, sizeof why) != FCD_CACHE_OK ||
            fcd_cache_claim_process(w->cache, why, sizeof why) != FCD_CACHE_OK) {
            snprintf(err, errlen, "%s", why);
            return -1;
        }
    }
    return 0;
}

fcd_cache_status_t fcd_memo_adapter_compute(void *ctx, void **out, size_t *out_len, char *err,
                                            size_t errlen)
{
    fcd_memo_adapter_t *m = ctx;
    *out = NULL;
    *out_len = 0;
    fcd_status_t st = m->fn(m->call, m->args, out, out_len);
    if (st == FCD_OK || st == FCD_DECLINED)
        return st == FCD_OK ? FCD_CACHE_OK : FCD_CACHE_DECLINED;
    free(*out);
    *out = NULL;
    snprintf(err, errlen, "%s", m->call->error ? m->call->error : "the memoized function failed");
    return FCD_CACHE_ERROR;
}

static void release_result(void *p)
{
    fcd_memo_release(p);
}

/* A degraded cache is remarked on the log line, at most a few times per
 * interval per worker. */
static void note_degraded(fcd_call_t *call, const char *msg)
{
    fcd_worker_t *w = call->app->worker;
    uint64_t suppressed = 0;
    if (!fcd_cache_ratelimit_allow(&w->cache_log, time(NULL), &suppressed))
        return;
    call->req->note = suppressed
                          ? fcd_arena_printf(call->arena, "cache degraded: %s (%llu similar suppressed)",
                                             msg, (unsigned long long)suppressed)
                          : fcd_arena_printf(call->arena, "cache degraded: %s", msg);
}

fcd_memo_result_t *fcd_memo_result_new(fcd_call_t *call)
{
    fcd_memo_result_t *res = fcd_arena_alloc(call->arena, sizeof *res);
    if (res == NULL || fcd_arena_on_reset(call->arena, release_result, res) != 0)
        return NULL;
    return res;
}

fcd_status_t fcd_memo_finish(fcd_call_t *call, const char *name, fcd_cache_status_t st,
                             const fcd_memo_result_t *res, const void **data, size_t *len)
{
    if (st == FCD_CACHE_ERROR)
        return call->error ? FCD_ERROR : fcd_fail(call, "%s: %s", name, res->msg);
    if (st == FCD_CACHE_DECLINED)
        note_degraded(call, res->msg);
    *data = res->data;
    *len = res->len;
    return FCD_OK;
}

fcd_status_t fcd_memoize(fcd_call_t *call, const char *name, json_object *args, unsigned timeout,
                         fcd_memo_fn fn, const void **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    if (call->app->worker == NULL || call->app->worker->cache == NULL)
        return fcd_fail(call, "fcd_memoize: the cache is not open (only inside a request)");
    fcd_memo_result_t *res = fcd_memo_result_new(call);
    if (res == NULL)
        return fcd_fail(call, "out of memory");
    fcd_memo_adapter_t ctx = {call, args, fn};
    fcd_cache_status_t st = fcd_memo_call_json(call->app->worker->cache, name, NULL, args, timeout,
                                               fcd_memo_adapter_compute, &ctx, res);
    return fcd_memo_finish(call, name, st, res, data, len);
}

fcd_status_t fcd_memoize_forget(fcd_call_t *call, const char *name, json_object *args)
{
    fcd_cache_t *c = call->app->worker ? call->app->worker->cache : NULL;
    if (c == NULL)
        return FCD_DECLINED;
    fcd_cache_status_t st = fcd_memo_forget_json(c, name, NULL, args);
    if (st == FCD_CACHE_DECLINED || st == FCD_CACHE_ERROR) {
        note_degraded(call, fcd_cache_error(c));
        return FCD_DECLINED;
    }
    return FCD_OK;
}

fcd_status_t fcd_memoize_forget_all(fcd_call_t *call, const char *name)
{
    fcd_cache_t *c = call->app->worker ? call->app->worker->cache : NULL;
    if (c == NULL)
        return FCD_DECLINED;
    if (fcd_memo_forget_all(c, name) != FCD_CACHE_OK) {
        note_degraded(call, fcd_cache_error(c));
        return FCD_DECLINED;
    }
    return FCD_OK;
}

void fcd_memo_metrics(const fcd_app_t *app, fcd_request_t *req, fcd_response_t *res)
{
    if (app->worker == NULL) {
        fcd_response_error(res, req->arena, 503, "the cache is not open");
        return;
    }
    if (fcd_buf_reserve(res->body, FCD_CACHE_METRICS_MAX) != 0) {
        fcd_response_error(res, req->arena, 500, "out of memory");
        return;
    }
    size_t n = fcd_cache_metrics_text(&app->worker->stats, res->body->data + res->body->len,
                                      FCD_CACHE_METRICS_MAX);
    res->body->len += n < FCD_CACHE_METRICS_MAX ? n : FCD_CACHE_METRICS_MAX - 1;
    res->status = 200;
    res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}
