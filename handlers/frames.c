/*
 * frames.c - frames where an app meets them: frozen app data, the shared
 * cache, and Store values.  Each returned frame belongs to the request
 * (released with its arena) or to the app (frozen), never to the caller.
 */
#include <stdlib.h>
#include <string.h>

#include "base/app.h"
#include "fcdash.h"
#include "base/json.h"
#include "handlers/callback.h"

static void *app_alloc(void *app, size_t size)
{
    return fcd_app_alloc(app, size);
}

const fcd_frame_t *fcd_app_keep_frame(fcd_app_t *app, fcd_frame_t *f)
{
    fcd_frame_err_t err = {0};
    const fcd_frame_t *kept = f != NULL ? fcd_frame_pack(f, app_alloc, app, &err) : NULL;
    if (kept == NULL)
        fcd_app_setup_error(app, "fcd_app_keep_frame: %s", f ? err.msg : "no frame");
    fcd_frame_free(f);
    return kept;
}

static void free_frame(void *f)
{
    fcd_frame_free(f);
}

/* Hand a frame to the request; NULL stays NULL. */
static const fcd_frame_t *for_request(fcd_call_t *call, fcd_frame_t *f)
{
    if (f != NULL && fcd_defer(call, free_frame, f) != 0)
        return NULL;
    return f;
}

typedef struct frame_memo {
    fcd_memo_frame_fn fn;
} frame_memo_t;

static fcd_status_t compute_frame(fcd_call_t *call, json_object *args, void **out, size_t *len)
{
    const frame_memo_t *m = call->memo_ctx;
    fcd_frame_t *f = m->fn(call, args);
    if (f == NULL)
        return call->error ? FCD_ERROR : fcd_fail(call, "the memoized function returned no frame");
    fcd_frame_buf_t bytes = FCD_FRAME_BUF_INIT;
    fcd_frame_err_t err = {0};
    fcd_status_t st = fcd_frame_to_binary(f, &bytes, &err);
    fcd_frame_free(f);
    if (st != FCD_OK) {
        fcd_frame_buf_free(&bytes);
        return fcd_fail(call, "%s", err.msg);
    }
    *out = bytes.data;
    *len = bytes.len;
    return FCD_OK;
}

const fcd_frame_t *fcd_memoize_frame(fcd_call_t *call, const char *name, json_object *args,
                                     unsigned timeout, fcd_memo_frame_fn fn)
{
    frame_memo_t m = {fn};
    const void *saved = call->memo_ctx;
    call->memo_ctx = &m;
    const void *data;
    size_t len;
    fcd_status_t st = fcd_memoize(call, name, args, timeout, compute_frame, &data, &len);
    call->memo_ctx = saved;
    if (st != FCD_OK)
        return NULL;
    fcd_frame_err_t err = {0};
    fcd_frame_t *f = fcd_frame_from_binary(data, len, &err);
    if (f == NULL)
        fcd_fail(call, "%s: cached frame unreadable: %s", name, err.msg);
    return for_request(call, f);
}

const fcd_frame_t *fcd_arg_frame(fcd_call_t *call, size_t i, fcd_frame_orient_t orient)
{
    json_object *v = fcd_arg(call, i);
    if (!json_object_is_type(v, json_type_string)) {
        fcd_fail(call, "argument %zu is not a frame's JSON text", i);
        return NULL;
    }
    fcd_frame_err_t err = {0};
    fcd_frame_t *f = fcd_frame_from_json(json_object_get_string(v),
                                         (size_t)json_object_get_string_len(v), orient, &err);
    if (f == NULL)
        fcd_fail(call, "argument %zu: %s", i, err.msg);
    return for_request(call, f);
}

fcd_status_t fcd_out_frame(fcd_call_t *call, size_t i, const fcd_frame_t *f,
                           fcd_frame_orient_t orient)
{
    fcd_frame_buf_t text = FCD_FRAME_BUF_INIT;
    fcd_frame_err_t err = {0};
    if (fcd_frame_to_json(f, orient, FCD_FRAME_ISO_DATES, &text, &err) != FCD_OK) {
        fcd_frame_buf_free(&text);
        return fcd_fail(call, "output %zu: %s", i, err.msg);
    }
    json_object *s =
        fcd_json_made(json_object_new_string_len(text.data ? text.data : "", (int)text.len));
    fcd_frame_buf_free(&text);
    return fcd_out(call, i, s);
}
