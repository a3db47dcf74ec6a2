/*
 * runtime.h - the worker's FastCGI accept loop.
 *
 * Works on the listening socket a process manager hands over on fd 0
 * (spawn-fcgi, multiwatch, Apache mod_fcgid), or on one it opens itself
 * (--listen ADDR).  Reads each request's params and body under the body
 * limit, calls the handler, writes the response, logs one line, and
 * releases the request's arena.  SIGTERM while a request is in hand lets it
 * finish first; while idle it ends the process at once.
 */
#ifndef FCD_RUNTIME_H
#define FCD_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>

#include "fcgi/request.h"

typedef struct fcd_runtime_opts {
    const char *listen;   /* NULL: fd 0; else "host:port", ":port" or a socket path */
    const char *name;     /* for log lines */
    size_t max_body;      /* larger bodies get 413 */
    bool log_requests;    /* one line per request on stderr */
} fcd_runtime_opts_t;

/* Serve until SIGTERM.  Returns 0 on a clean stop, or -1 with a message
 * (no socket to serve on, out of memory at start). */
int fcd_runtime_serve(const fcd_runtime_opts_t *opts, fcd_handler_fn handler, void *ctx,
                      char *err, size_t errlen);

#endif
