/*
 * request.c - helpers shared by the runtime and the handlers.
 */
#include "fcgi/request.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <fcgiapp.h>

const char *fcd_request_param(const fcd_request_t *req, const char *name)
{
    return req->params != NULL ? FCGX_GetParam(name, req->params) : NULL;
}

const char *fcd_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
    }
}

void fcd_response_finish(fcd_response_t *res)
{
    static const char fixed[] = "{\"message\":\"out of memory\",\"status\":500}";
    if (!res->body->failed)
        return;
    res->status = 500;
    res->content_type = "application/json";
    if (res->log_note == NULL)
        res->log_note = "out of memory writing the answer";
    /* A worker's body buffer keeps its capacity across requests, so this
     * needs no new memory but on a first request; if even that fails, the
     * 500 goes out with an empty body. */
    fcd_buf_reset(res->body);
    if (fcd_buf_add(res->body, fixed, sizeof fixed - 1) != 0)
        fcd_buf_reset(res->body);
}

void fcd_response_error(fcd_response_t *res, fcd_arena_t *arena, int status,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = fcd_arena_vprintf(arena, fmt, ap);
    va_end(ap);
    res->status = status;
    res->content_type = "application/json";
    res->log_note = msg;
    fcd_buf_reset(res->body);
    fcd_buf_adds(res->body, "{\"message\":");
    fcd_buf_add_json_string(res->body, msg != NULL ? msg : "out of memory");
    fcd_buf_printf(res->body, ",\"status\":%d}", status);
}
