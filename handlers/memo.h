/*
 * memo.h - the app side of the shared cache: opening it in each worker,
 * the memoize calls of include/fcdash.h, and the metrics endpoint.
 */
#ifndef FCD_MEMO_H
#define FCD_MEMO_H

#include <stddef.h>

#include "core/app.h"
#include "fcgi/request.h"

/* Open the worker's cache (FCDASH_CACHE) and the host's counters.
 * Returns 0, or -1 with a message (bad setting, memory:// under several
 * workers).  `warn` receives a remark to log, or "" (counters not shared). */
int fcd_memo_worker_open(fcd_app_t *app, char *err, size_t errlen, char *warn, size_t warnlen);

/* GET <prefix>_fcdash/metrics: the host's cache counters, Prometheus text. */
void fcd_memo_metrics(const fcd_app_t *app, fcd_request_t *req, fcd_response_t *res);

#endif
