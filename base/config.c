/*
 * config.c - FCDASH_* settings from the environment (see config.h).
 *
 * Sizes take k/m/g suffixes (powers of 1024).  A value out of its bounds
 * is an error at start-up rather than silently clamped: an operator who
 * sets a limit wants to know it took.
 */
#include "base/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_BODY ((size_t)16 << 20)
#define DEFAULT_MAX_JSON_DEPTH 64
#define DEFAULT_TIME_LIMIT 60u

static const char describe[] =
    "FCDASH_PREFIX               /        path prefix the browser uses (Dash requests_pathname_prefix); starts and ends with /\n"
    "FCDASH_ROUTES_PREFIX        = PREFIX path prefix the worker matches (set to / when the web server strips the prefix)\n"
    "FCDASH_STATIC_ROOT          (none)   directory laid out by frontend/layout-static; file times make the bundle fingerprints\n"
    "FCDASH_TITLE                Dash     the page title\n"
    "FCDASH_DEBUG                0        1: dev bundles, dev-tools UI, prop-type checks, callback errors shown in the browser\n"
    "FCDASH_FREEZE               1        0: do not make app data read-only after start-up (debugging only)\n"
    "FCDASH_LOG_REQUESTS         1        0: no per-request log line (errors are always logged)\n"
    "FCDASH_MAX_BODY             16m      largest request body accepted; larger gets 413 (1k .. 1g)\n"
    "FCDASH_MAX_JSON_DEPTH       64       deepest JSON nesting accepted in a request; deeper gets 400 (2 .. 1000)\n"
    "FCDASH_CALLBACK_TIME_LIMIT  60       seconds a callback may run; past it the request gets 504 and the worker is replaced (0: no limit)\n"
    "FCDASH_WORKERS              1        how many workers serve this app on this host (the pool script sets it)\n"
    "FCDASH_CACHE                (a dir)  shared cache: memcached://h:11211,h2:11211, redis://[:pw@]h:6379[/db], file:///dir, memory://, none://\n"
    "FCDASH_SECRET               (none)   session secrets, newest first (hex or base64, 32+ bytes); or FCDASH_SECRET_FILE\n"
    "FCDASH_ENV                  development  production: refuse to start without a session secret\n"
    "FCDASH_SESSION_MAX_AGE      86400    seconds a session id is accepted\n";

const char *fcd_config_describe(void)
{
    return describe;
}

static int copy_setting(char *dst, size_t dstlen, const char *name, const char *dflt,
                        char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0')
        v = dflt;
    if (strlen(v) >= dstlen) {
        snprintf(err, errlen, "%s is longer than %zu bytes", name, dstlen - 1);
        return -1;
    }
    strcpy(dst, v);
    return 0;
}

static int read_bool(bool *dst, const char *name, bool dflt, char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        *dst = dflt;
        return 0;
    }
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        *dst = true;
    else if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
        *dst = false;
    else {
        snprintf(err, errlen, "%s=%s: expected 1 or 0", name, v);
        return -1;
    }
    return 0;
}

/* An unsigned number with an optional k/m/g suffix, within [lo, hi]. */
static int read_size(uint64_t *dst, const char *name, uint64_t dflt, uint64_t lo, uint64_t hi,
                     bool suffixes, char *err, size_t errlen)
{
    const char *v = getenv(name);
    if (v == NULL || *v == '\0') {
        *dst = dflt;
        return 0;
    }
    char *end;
    errno = 0;
    if (!isdigit((unsigned char)*v))
        goto bad;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno != 0)
        goto bad;
    unsigned shift = 0;
    if (suffixes && *end != '\0' && end[1] == '\0') {
        switch (tolower((unsigned char)*end)) {
        case 'k': shift = 10; break;
        case 'm': shift = 20; break;
        case 'g': shift = 30; break;
        default: goto bad;
        }
        end++;
    }
    if (*end != '\0' || n > (UINT64_MAX >> shift))
        goto bad;
    n <<= shift;
    if (n < lo || n > hi) {
        snprintf(err, errlen, "%s=%s is out of range (%llu .. %llu)", name, v,
                 (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *dst = n;
    return 0;
bad:
    snprintf(err, errlen, "%s=%s is not a %s", name, v,
             suffixes ? "size (a number, optionally with k, m or g)" : "whole number");
    return -1;
}

static int check_prefix(const char *p, const char *name, char *err, size_t errlen)
{
    size_t n = strlen(p);
    if (n == 0 || p[0] != '/' || p[n - 1] != '/') {
        snprintf(err, errlen, "%s=%s must start and end with /", name, p);
        return -1;
    }
    for (const char *c = p; *c; c++) {
        if ((unsigned char)*c <= ' ' || *c == '"' || *c == '<' || *c == '>' || *c == '\\' ||
            *c == '?' || *c == '#') {
            snprintf(err, errlen, "%s=%s contains a character not allowed in a path prefix",
                     name, p);
            return -1;
        }
    }
    return 0;
}

int fcd_config_load(fcd_config_t *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    uint64_t n;
    if (copy_setting(c->prefix, sizeof c->prefix, "FCDASH_PREFIX", "/", err, errlen) ||
        check_prefix(c->prefix, "FCDASH_PREFIX", err, errlen) ||
        copy_setting(c->routes_prefix, sizeof c->routes_prefix, "FCDASH_ROUTES_PREFIX",
                     c->prefix, err, errlen) ||
        check_prefix(c->routes_prefix, "FCDASH_ROUTES_PREFIX", err, errlen) ||
        copy_setting(c->static_root, sizeof c->static_root, "FCDASH_STATIC_ROOT", "", err,
                     errlen) ||
        copy_setting(c->title, sizeof c->title, "FCDASH_TITLE", "Dash", err, errlen) ||
        read_bool(&c->debug, "FCDASH_DEBUG", false, err, errlen) ||
        read_bool(&c->freeze, "FCDASH_FREEZE", true, err, errlen) ||
        read_bool(&c->log_requests, "FCDASH_LOG_REQUESTS", true, err, errlen))
        return -1;
    if (read_size(&n, "FCDASH_MAX_BODY", DEFAULT_MAX_BODY, 1024, (uint64_t)1 << 30, true, err,
                  errlen))
        return -1;
    c->max_body = (size_t)n;
    if (read_size(&n, "FCDASH_MAX_JSON_DEPTH", DEFAULT_MAX_JSON_DEPTH, 2, 1000, false, err, errlen))
        return -1;
    c->max_json_depth = (int)n;
    if (read_size(&n, "FCDASH_CALLBACK_TIME_LIMIT", DEFAULT_TIME_LIMIT, 0, 86400, false, err,
                  errlen))
        return -1;
    c->callback_time_limit = (unsigned)n;
    if (read_size(&n, "FCDASH_WORKERS", 1, 1, 4096, false, err, errlen))
        return -1;
    c->workers = (unsigned)n;
    return 0;
}
