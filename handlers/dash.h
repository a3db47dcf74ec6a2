/*
 * dash.h - the Dash endpoints: route a request under the app's prefix to
 * the index page, layout, dependencies or a callback, and answer it.
 */
#ifndef FCD_DASH_H
#define FCD_DASH_H

#include "base/app.h"
#include "fcgi/request.h"

/* The fcd_handler_fn for an app (ctx is the fcd_app_t). */
void fcd_dash_handle(void *ctx, fcd_request_t *req, fcd_response_t *res);

#endif
