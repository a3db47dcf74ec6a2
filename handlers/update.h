/*
 * update.h - POST _dash-update-component: validate the body against the
 * callback's declaration, run the callback under the fault guard, and
 * encode its answer (dash-protocol.md section 7).
 */
#ifndef FCD_UPDATE_H
#define FCD_UPDATE_H

#include "base/app.h"
#include "fcgi/request.h"

void fcd_update_handle(const fcd_app_t *app, fcd_request_t *req, fcd_response_t *res);

#endif
