/*
 * runtime.c - FastCGI accept loop (see runtime.h).
 *
 * Signals: SIGTERM (and SIGINT, for a terminal) keep their default action
 * while the worker waits in accept, so an idle worker stops at once, and
 * are blocked while a request is in hand; a pending one is seen after the
 * response is written and ends the loop.  SIGUSR1, libfcgi's (and
 * multiwatch's) graceful stop, is blocked the same way while a request is
 * in hand: libfcgi's own handler would otherwise mark a shutdown that
 * makes the next accept fail with a stale errno.  That needs no flag set by a
 * handler.  SIGPIPE is ignored: a client that went away is the web
 * server's business.
 *
 * The body is read in full before the handler runs.  Past the limit the
 * rest is drained (so the web server, still sending, sees a clean 413
 * instead of a reset connection), up to FCD_DRAIN_MAX.
 */
#define _GNU_SOURCE
#include "fcgi/runtime.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

/* How much of an oversized body is read and thrown away before giving up
 * on a clean answer. */
#define FCD_DRAIN_MAX ((size_t)256 << 20)
#define FCD_LISTEN_BACKLOG 1024

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void drain(FCGX_Stream *in, size_t max)
{
    char scratch[16384];
    size_t total = 0;
    int n;
    while (total < max && (n = FCGX_GetStr(scratch, sizeof scratch, in)) > 0)
        total += (size_t)n;
}

/* Read the body into the arena.  Returns 0, or an HTTP status for the
 * error already described in `res`. */
static int read_body(FCGX_Request *fr, fcd_request_t *req, fcd_response_t *res, size_t max)
{
    const char *cl = FCGX_GetParam("CONTENT_LENGTH", fr->envp);
    size_t len = 0;
    bool known = cl != NULL && *cl != '\0';
    if (known) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(cl, &end, 10);
        if (errno != 0 || *end != '\0' || *cl == '-') {
            fcd_response_error(res, req->arena, 400, "CONTENT_LENGTH \"%.40s\" is not a number", cl);
            return 400;
        }
        if (v > max) {
            drain(fr->in, FCD_DRAIN_MAX);
            fcd_response_error(res, req->arena, 413,
                               "request body of %llu bytes is larger than the limit of %zu bytes (FCDASH_MAX_BODY)",
                               v, max);
            return 413;
        }
        len = (size_t)v;
    } else {
        len = max; /* read until the end of the stream, at most max */
    }
    char *body = fcd_arena_alloc(req->arena, len + 2);
    if (body == NULL) {
        fcd_response_error(res, req->arena, 500, "out of memory reading the request body");
        return 500;
    }
    size_t got = 0;
    while (got < len) {
        int n = FCGX_GetStr(body + got, (int)(len - got > 65536 ? 65536 : len - got), fr->in);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (known && got != len) {
        fcd_response_error(res, req->arena, 400, "request body ended after %zu of %zu bytes", got, len);
        return 400;
    }
    if (!known && got == max && FCGX_GetChar(fr->in) != EOF) {
        drain(fr->in, FCD_DRAIN_MAX);
        fcd_response_error(res, req->arena, 413,
                           "request body is larger than the limit of %zu bytes (FCDASH_MAX_BODY)", max);
        return 413;
    }
    body[got] = '\0';
    req->body = body;
    req->body_len = got;
    return 0;
}

static void write_response(FCGX_Request *fr, const fcd_request_t *req, fcd_response_t *res)
{
    bool head = strcmp(req->method, "HEAD") == 0;
    bool no_body = res->status == 204 || res->status == 304;
    /* libfcgi's own printf knows no %zu: format here. */
    char hdr[512];
    int n = snprintf(hdr, sizeof hdr, "Status: %d %s\r\n", res->status,
                     fcd_status_text(res->status));
    if (!no_body)
        n += snprintf(hdr + n, sizeof hdr - (size_t)n, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                      res->content_type != NULL ? res->content_type : "application/json",
                      res->body->len);
    FCGX_PutStr(hdr, n, fr->out);
    if (res->headers->len > 0)
        FCGX_PutStr(res->headers->data, (int)res->headers->len, fr->out);
    FCGX_PutS("\r\n", fr->out);
    if (!head && !no_body && res->body->len > 0)
        FCGX_PutStr(res->body->data, (int)res->body->len, fr->out);
}

static void log_line(const fcd_runtime_opts_t *o, const fcd_request_t *req,
                     const fcd_response_t *res, uint64_t us)
{
    if (!o->log_requests && res->status < 500 && res->log_note == NULL && req->note == NULL)
        return;
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    /* The path is printed with control characters replaced, so a hostile
     * URI cannot forge log lines. */
    char path[256];
    size_t i = 0;
    for (const char *p = req->path ? req->path : "-"; *p && i < sizeof path - 1; p++)
        path[i++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? '?' : *p;
    path[i] = '\0';
    fprintf(stderr, "%s %s[%d] rid=%s %s %s %d %zuB %" PRIu64 "us%s%s%s%s%s%s\n", stamp,
            o->name, (int)getpid(), req->request_id, req->method, path, res->status,
            res->status == 204 ? (size_t)0 : res->body->len, us,
            res->log_note ? " error=\"" : "", res->log_note ? res->log_note : "",
            res->log_note ? "\"" : "", req->note ? " note=\"" : "", req->note ? req->note : "",
            req->note ? "\"" : "");
}

static int open_socket(const fcd_runtime_opts_t *o, char *err, size_t errlen)
{
    if (o->listen != NULL) {
        int fd = FCGX_OpenSocket(o->listen, FCD_LISTEN_BACKLOG);
        if (fd < 0)
            snprintf(err, errlen, "cannot listen on %s: %s", o->listen,
                     errno ? strerror(errno) : "bad address");
        return fd;
    }
    struct stat st;
    if (fstat(0, &st) != 0 || !S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen,
                 "no FastCGI socket on standard input: start the worker under spawn-fcgi, "
                 "multiwatch or Apache mod_fcgid, or give --listen 127.0.0.1:9000 or "
                 "--listen /path/to/socket");
        return -1;
    }
    return 0;
}

int fcd_runtime_serve(const fcd_runtime_opts_t *o, fcd_handler_fn handler, void *ctx,
                      char *err, size_t errlen)
{
    if (FCGX_Init() != 0) {
        snprintf(err, errlen, "libfcgi failed to initialise");
        return -1;
    }
    int fd = open_socket(o, err, errlen);
    if (fd < 0)
        return -1;
    /* libfcgi installs its own SIGTERM handler, which only marks a
     * shutdown and leaves accept failing in a loop: put the default back
     * (see the top of this file for how stopping works). */
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    signal(SIGPIPE, SIG_IGN);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGHUP);
    sigaddset(&stop, SIGUSR1);

    FCGX_Request fr;
    if (FCGX_InitRequest(&fr, fd, 0) != 0) {
        snprintf(err, errlen, "libfcgi could not set up a request");
        return -1;
    }
    fcd_arena_t arena;
    fcd_arena_init(&arena);
    fcd_buf_t headers, body;
    fcd_buf_init(&headers);
    fcd_buf_init(&body);
    uint64_t counter = 0;
    int rc = 0;

    for (;;) {
        sigprocmask(SIG_UNBLOCK, &stop, NULL);
        /* A shutdown libfcgi had already marked fails accept without
         * setting errno: clear it so that shows as -9999, not as a stale
         * error of our own. */
        errno = 0;
        int a = FCGX_Accept_r(&fr);
        sigprocmask(SIG_BLOCK, &stop, NULL);
        if (a < 0) {
            /* libfcgi fails accept for good after its shutdown signal
             * (SIGUSR1): a clean stop.  Anything else is reported. */
            if (a != -EINTR && a != -9999) {
                snprintf(err, errlen, "accept failed: %s", strerror(-a));
                rc = -1;
            }
            break;
        }
        uint64_t t0 = now_us();
        counter++;
        fcd_buf_reset(&headers);
        fcd_buf_reset(&body);
        fcd_request_t req = {.arena = &arena, .params = fr.envp};
        fcd_response_t res = {.status = 200, .headers = &headers, .body = &body};
        const char *m = FCGX_GetParam("REQUEST_METHOD", fr.envp);
        const char *uri = FCGX_GetParam("REQUEST_URI", fr.envp);
        const char *rid = FCGX_GetParam("REQUEST_ID", fr.envp);
        if (rid == NULL || *rid == '\0')
            rid = FCGX_GetParam("HTTP_X_REQUEST_ID", fr.envp);
        req.request_id = rid != NULL && *rid != '\0' && strlen(rid) <= 64
                             ? rid
                             : fcd_arena_printf(&arena, "%x-%" PRIx64, (unsigned)getpid(), counter);
        req.method = m != NULL ? m : "GET";
        const char *ct = FCGX_GetParam("CONTENT_TYPE", fr.envp);
        req.content_type = ct != NULL ? ct : "";
        if (uri == NULL)
            uri = FCGX_GetParam("SCRIPT_NAME", fr.envp);
        if (uri == NULL)
            uri = "/";
        const char *q = strchr(uri, '?');
        req.path = q != NULL ? fcd_arena_strndup(&arena, uri, (size_t)(q - uri)) : uri;
        req.query = q != NULL ? q + 1 : "";
        if (req.path == NULL || req.request_id == NULL)
            fcd_response_error(&res, &arena, 500, "out of memory");
        else if (read_body(&fr, &req, &res, o->max_body) == 0)
            handler(ctx, &req, &res);
        fcd_response_finish(&res);
        write_response(&fr, &req, &res);
        FCGX_FFlush(fr.out);
        /* Log before finishing: the params the line quotes live until then. */
        log_line(o, &req, &res, now_us() - t0);
        FCGX_Finish_r(&fr);
        fcd_arena_reset(&arena);
        if (res.stop_worker)
            break;
        sigset_t pending;
        if (sigpending(&pending) == 0 &&
            (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT) ||
             sigismember(&pending, SIGHUP) || sigismember(&pending, SIGUSR1)))
            break;
    }
    FCGX_Free(&fr, 1);
    fcd_arena_free(&arena);
    fcd_buf_free(&headers);
    fcd_buf_free(&body);
    return rc;
}
