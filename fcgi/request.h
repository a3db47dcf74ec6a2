/*
 * request.h - one HTTP exchange as the FastCGI runtime hands it on.
 *
 * This module knows nothing of Dash: a handler gets a validated request
 * (method, path, body within the size limit) and fills a response (status,
 * headers, body).  The runtime owns both and writes the response.
 */
#ifndef FCD_REQUEST_H
#define FCD_REQUEST_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/buf.h"

typedef struct fcd_request {
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* REQUEST_URI up to '?' (arena copy) */
    const char *query;        /* after '?', or "" */
    const char *content_type; /* or "" */
    const char *request_id;   /* from the web server, or made here */
    char *body;               /* NUL-terminated; arena */
    size_t body_len;
    fcd_arena_t *arena;       /* released after the response is written */
    const char *note;         /* a degraded-but-served remark for the log line */
    char **params;            /* FastCGI params, for fcd_request_param */
} fcd_request_t;

typedef struct fcd_response {
    int status;
    const char *content_type; /* static text or arena */
    fcd_buf_t *headers;       /* extra "Name: value\r\n" lines */
    fcd_buf_t *body;
    const char *log_note;     /* why it failed, for the log line (arena) */
    bool stop_worker;         /* exit after writing: the worker is unsafe */
} fcd_response_t;

/* A FastCGI param, or NULL.  Borrowed for the request. */
const char *fcd_request_param(const fcd_request_t *req, const char *name);

/* Set a JSON error answer {"message": ..., "status": N} and the log note. */
void fcd_response_error(fcd_response_t *res, fcd_arena_t *arena, int status,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Make the response sendable: when its body buffer ran out of memory
 * (a partial text, or none), the answer becomes a fixed JSON 500, written
 * into the buffer's own capacity.  The runtime calls it before writing. */
void fcd_response_finish(fcd_response_t *res);

/* The reason phrase of a status code ("Not Found"). */
const char *fcd_status_text(int status);

typedef void (*fcd_handler_fn)(void *ctx, fcd_request_t *req, fcd_response_t *res);

#endif
