/*
 * session.h - the app side of per-session server data: loading the
 * secrets in each worker, minting ids for page loads, and verifying the id
 * a callback receives before the callback runs.
 */
#ifndef FCD_HANDLERS_SESSION_H
#define FCD_HANDLERS_SESSION_H

#include <stddef.h>

#include "base/app.h"
#include "handlers/callback.h"

/* Load the session settings and secrets when the app uses sessions.
 * Returns 0, or -1 with a message (refuse to start).  `warn` receives a
 * remark to log loudly (a development secret), or "". */
int fcd_sessions_worker_open(fcd_app_t *app, char *err, size_t errlen, char *warn,
                             size_t warnlen);

/* Before the callback runs: when it takes the session prop, verify the id
 * it was sent.  Returns 0 (call->session set, or no session prop), or the
 * HTTP status of the refusal already written into res. */
int fcd_sessions_check_call(fcd_call_t *call, fcd_response_t *res);

#endif
