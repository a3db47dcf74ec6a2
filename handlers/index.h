/*
 * index.h - the index page: the HTML shell that loads the official Dash
 * front end (script tags in Dash's order, with Dash's fingerprints) and
 * carries the renderer's config.  Built once at start-up.
 */
#ifndef FCD_INDEX_H
#define FCD_INDEX_H

#include "base/app.h"
#include "base/buf.h"

/* The Dash release whose front end fcdash serves (dash-protocol.md 1). */
#define FCD_DASH_VERSION "4.4.1"

/* Build the page for app's config into out.  Returns 0 or -1 (no memory). */
int fcd_index_build(const fcd_app_t *app, fcd_buf_t *out);

/* Dash's fingerprinted form of `path` (relative to the component-suites
 * root) for file time `mtime`: "<dir>/<name>.v<ver>m<mtime>.<rest>". */
void fcd_index_fingerprint(const char *path, const char *version, long long mtime,
                           fcd_buf_t *out);

#endif
