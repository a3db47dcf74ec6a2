/*
 * memo.h - the app side of the shared cache: opening it in each worker,
 * the memoize calls of include/fcdash.h, and the metrics endpoint.
 */
#ifndef FCD_MEMO_H
#define FCD_MEMO_H

#include <stddef.h>

#include "cache/memoize.h"
#include "base/app.h"
#include "fcgi/request.h"

/* Open the worker's cache (FCDASH_CACHE) and the host's counters.
 * Returns 0, or -1 with a message (bad setting, memory:// under several
 * workers).  `warn` receives a remark to log, or "" (counters not shared). */
int fcd_memo_worker_open(fcd_app_t *app, char *err, size_t errlen, char *warn, size_t warnlen);

/* The bridge between an app's fcd_memo_fn and cache/'s compute functions:
 * pass an adapter as the ctx of fcd_memo_adapter_compute. */
typedef struct fcd_memo_adapter {
    fcd_call_t *call;
    json_object *args;
    fcd_memo_fn fn;
} fcd_memo_adapter_t;
fcd_cache_status_t fcd_memo_adapter_compute(void *ctx, void **out, size_t *out_len, char *err,
                                            size_t errlen);

/* A memo result released with the request, or NULL (out of memory). */
fcd_memo_result_t *fcd_memo_result_new(fcd_call_t *call);

/* Turn a memo call's outcome into the API's: the result borrowed for the
 * request, a degraded cache noted on the log line, a failure as FCD_ERROR. */
fcd_status_t fcd_memo_finish(fcd_call_t *call, const char *name, fcd_cache_status_t st,
                             const fcd_memo_result_t *res, const void **data, size_t *len);

/* GET <prefix>_fcdash/metrics: the host's cache counters, Prometheus text. */
void fcd_memo_metrics(const fcd_app_t *app, fcd_request_t *req, fcd_response_t *res);

#endif
