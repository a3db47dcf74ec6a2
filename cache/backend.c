/*
 * cache/backend.c - choosing a backend by URL, the checks every operation
 * shares, add-based single-flight locks, and the none:// backend.
 *
 * The public operations validate the key and the size here, once, and then
 * call the backend through its ops table; a backend never sees a key with a
 * control character or a value over its item limit.  Every DECLINED or
 * ERROR outcome is counted (FCD_CACHE_C_ERRORS) here too, so the counters
 * agree whichever backend runs.
 *
 * URL grammar (no percent-decoding; paths and hosts are taken as written):
 *     url    = scheme "://" rest [ "?" param *( "&" param ) ]
 *     param  = name "=" value
 * Common params are consumed here; the backend's open must consume the rest,
 * and a param nobody consumed is an error naming it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "cache/backend.h"
#include "cache/redis.h"
#include "cache/stats.h"

static const fcd_cache_ops_t *const backends[] = {
    &fcd_cache_memcached_ops,
    &fcd_cache_redis_ops,
    &fcd_cache_redis_unix_ops,
    &fcd_cache_file_ops,
    &fcd_cache_memory_ops,
    &fcd_cache_none_ops,
};

fcd_cache_status_t fcd_cache_fail(fcd_cache_t *c, fcd_cache_status_t st, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    return st;
}

unsigned fcd_cache_ttl(unsigned ttl)
{
    return ttl > FCD_CACHE_TTL_MAX ? FCD_CACHE_TTL_MAX : ttl;
}

bool fcd_cache_key_ok(const char *key)
{
    size_t i;

    if (!key)
        return false;
    for (i = 0; key[i]; i++) {
        unsigned char ch = (unsigned char)key[i];
        if (i >= FCD_CACHE_KEY_MAX || ch < 0x21 || ch > 0x7e)
            return false;
    }
    return i > 0;
}

bool fcd_cache_app_ok(const char *app)
{
    size_t n = app ? strlen(app) : 0;

    if (n == 0 || n > FCD_CACHE_APP_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = app[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.'))
            return false;
    }
    /* "." and ".." would name directories we do not mean. */
    return strcmp(app, ".") != 0 && strcmp(app, "..") != 0;
}

fcd_cache_status_t fcd_cache_param_num(fcd_cache_t *c, const fcd_cache_param_t *p,
                                       unsigned long long lo, unsigned long long hi,
                                       unsigned long long *out)
{
    unsigned long long v;
    char *end;

    errno = 0;
    if (p->value[0] < '0' || p->value[0] > '9')
        goto bad;
    v = strtoull(p->value, &end, 10);
    if (errno || *end || v < lo || v > hi)
        goto bad;
    *out = v;
    return FCD_CACHE_OK;
bad:
    return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: %s=%s is not a number in %llu..%llu",
                          p->name, p->value, lo, hi);
}

int fcd_cache_mkdirs(const char *path)
{
    char buf[FCD_CACHE_URL_MAX + 1];
    size_t n = strlen(path);
    struct stat st;

    if (n == 0 || n >= sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, 0700) < 0 && errno != EEXIST)
            return -1;
        buf[i] = i < n ? '/' : '\0';
    }
    if (stat(path, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* The /tmp fallback is a predictable name in a world-writable directory:
 * make sure it is ours and private before anything is written under it. */
static int private_dir(const char *path)
{
    struct stat st;

    if (mkdir(path, 0700) < 0 && errno != EEXIST)
        return -1;
    if (lstat(path, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077) != 0) {
        errno = EPERM;
        return -1;
    }
    return 0;
}

/* The default directory's parent, when it is the /tmp fallback. */
static int default_parent_ok(char *dir, char *err, size_t errlen)
{
    char *slash;

    if (strncmp(dir, "/tmp/", 5) != 0)
        return 0;
    slash = strrchr(dir, '/');
    *slash = '\0';
    if (private_dir(dir) < 0) {
        snprintf(err, errlen, "cache: %s is not a private directory of this user: %s", dir,
                 strerror(errno));
        *slash = '/';
        return -1;
    }
    *slash = '/';
    return 0;
}

fcd_cache_status_t fcd_cache_default_dir(const char *app, char *buf, size_t len)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;

    if (!fcd_cache_app_ok(app))
        return FCD_CACHE_ERROR;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, len, "%s/fcdash-cache/%s", xdg, app);
    else
        n = snprintf(buf, len, "/tmp/fcdash-cache-%lu/%s", (unsigned long)getuid(), app);
    return n > 0 && (size_t)n < len ? FCD_CACHE_OK : FCD_CACHE_ERROR;
}

static const fcd_cache_ops_t *find_backend(const char *scheme, size_t n)
{
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++)
        if (strlen(backends[i]->scheme) == n && memcmp(backends[i]->scheme, scheme, n) == 0)
            return backends[i];
    return NULL;
}

/* Split "a=1&b=2" in place into params. */
static fcd_cache_status_t parse_query(fcd_cache_t *c, char *q, fcd_cache_param_t *params,
                                      size_t *nparams)
{
    *nparams = 0;
    while (q && *q) {
        char *amp = strchr(q, '&'), *eq;
        if (amp)
            *amp = '\0';
        eq = strchr(q, '=');
        if (!eq || eq == q || eq[1] == '\0')
            return fcd_cache_fail(c, FCD_CACHE_ERROR,
                                  "cache URL: setting '%s' is not name=value", q);
        if (*nparams == FCD_CACHE_PARAMS_MAX)
            return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: more than %d settings",
                                  FCD_CACHE_PARAMS_MAX);
        *eq = '\0';
        params[*nparams].name = q;
        params[*nparams].value = eq + 1;
        params[*nparams].used = false;
        (*nparams)++;
        q = amp ? amp + 1 : NULL;
    }
    return FCD_CACHE_OK;
}

static fcd_cache_status_t common_params(fcd_cache_t *c, fcd_cache_param_t *params,
                                        size_t nparams)
{
    fcd_cache_settings_t *s = &c->settings;

    for (size_t i = 0; i < nparams; i++) {
        fcd_cache_param_t *p = &params[i];
        unsigned long long v;
        fcd_cache_status_t st = FCD_CACHE_OK;

        if (strcmp(p->name, "item_max") == 0) {
            /* A floor keeps a chunk's worth of room above a manifest. */
            if ((st = fcd_cache_param_num(c, p, 4096, FCD_CACHE_ITEM_MAX_UNLIMITED, &v)) == 0)
                s->item_max = (size_t)v;
        } else if (strcmp(p->name, "value_max") == 0) {
            if ((st = fcd_cache_param_num(c, p, 0, (1ull << 32), &v)) == 0)
                s->value_max = (size_t)v;
        } else if (strcmp(p->name, "compress_min") == 0) {
            if ((st = fcd_cache_param_num(c, p, 0, (1ull << 32), &v)) == 0)
                s->compress_min = (size_t)v;
        } else if (strcmp(p->name, "lock_ttl") == 0) {
            if ((st = fcd_cache_param_num(c, p, 1, FCD_CACHE_TTL_MAX, &v)) == 0)
                s->lock_ttl = (unsigned)v;
        } else if (strcmp(p->name, "wait_ms") == 0) {
            if ((st = fcd_cache_param_num(c, p, 0, 3600u * 1000u, &v)) == 0)
                s->wait_ms = (unsigned)v;
        } else {
            continue;
        }
        if (st != FCD_CACHE_OK)
            return st;
        p->used = true;
    }
    return FCD_CACHE_OK;
}

fcd_cache_status_t fcd_cache_open(fcd_cache_t **out, const char *url, const char *app,
                                  struct fcd_cache_stats *stats, char *err, size_t errlen)
{
    char buf[FCD_CACHE_URL_MAX + 16], *sep, *q;
    fcd_cache_param_t params[FCD_CACHE_PARAMS_MAX];
    size_t nparams = 0;
    const fcd_cache_ops_t *ops;
    fcd_cache_t *c;
    fcd_cache_status_t st;

    *out = NULL;
    if (errlen)
        err[0] = '\0';
    if (!fcd_cache_app_ok(app)) {
        snprintf(err, errlen, "cache: app name must be 1..%d of [A-Za-z0-9._-]",
                 FCD_CACHE_APP_MAX);
        return FCD_CACHE_ERROR;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "cache: libsodium failed to initialise");
        return FCD_CACHE_ERROR;
    }
    if (!url || !url[0]) {
        char dir[FCD_CACHE_URL_MAX];
        if (fcd_cache_default_dir(app, dir, sizeof dir) != FCD_CACHE_OK) {
            snprintf(err, errlen, "cache: default directory name too long");
            return FCD_CACHE_ERROR;
        }
        if (default_parent_ok(dir, err, errlen) < 0)
            return FCD_CACHE_ERROR;
        snprintf(buf, sizeof buf, "file://%s", dir);
    } else if (strlen(url) > FCD_CACHE_URL_MAX) {
        snprintf(err, errlen, "cache URL longer than %d bytes", FCD_CACHE_URL_MAX);
        return FCD_CACHE_ERROR;
    } else {
        memcpy(buf, url, strlen(url) + 1);
    }

    sep = strstr(buf, "://");
    ops = sep ? find_backend(buf, (size_t)(sep - buf)) : NULL;
    if (!ops) {
        snprintf(err, errlen,
                 "cache URL '%.200s': scheme must be memcached://, redis://, redis+unix://, "
                 "file://, memory:// or none://",
                 buf);
        return FCD_CACHE_ERROR;
    }

    c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "cache: out of memory");
        return FCD_CACHE_ERROR;
    }
    c->ops = ops;
    c->stats = stats;
    c->claim_fd = -1;
    memcpy(c->app, app, strlen(app) + 1);
    c->settings.item_max = ops->item_max;
    c->settings.value_max = FCD_CACHE_VALUE_MAX_DEFAULT;
    c->settings.compress_min = FCD_CACHE_COMPRESS_MIN_DEFAULT;
    c->settings.lock_ttl = FCD_CACHE_LOCK_TTL_DEFAULT;
    c->settings.wait_ms = FCD_CACHE_WAIT_MS_DEFAULT;

    q = strchr(sep + 3, '?');
    if (q)
        *q++ = '\0';
    st = parse_query(c, q, params, &nparams);
    if (st == FCD_CACHE_OK)
        st = common_params(c, params, nparams);
    if (st == FCD_CACHE_OK)
        st = ops->open(c, sep + 3, params, nparams);
    if (st == FCD_CACHE_OK) {
        for (size_t i = 0; i < nparams; i++) {
            if (!params[i].used) {
                st = fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: unknown setting '%s' for %s://",
                                    params[i].name, ops->scheme);
                break;
            }
        }
    }
    if (st != FCD_CACHE_OK) {
        snprintf(err, errlen, "%s", c->err[0] ? c->err : "cache: cannot open backend");
        if (c->impl)
            ops->close(c);
        free(c);
        return FCD_CACHE_ERROR;
    }
    c->err[0] = '\0';
    *out = c;
    return FCD_CACHE_OK;
}

void fcd_cache_close(fcd_cache_t *c)
{
    if (!c)
        return;
    if (c->impl)
        c->ops->close(c);
    if (c->claim_fd >= 0)
        close(c->claim_fd);
    free(c);
}

const char *fcd_cache_scheme(const fcd_cache_t *c)
{
    return c->ops->scheme;
}

fcd_cache_settings_t *fcd_cache_settings(fcd_cache_t *c)
{
    return &c->settings;
}

const char *fcd_cache_app(const fcd_cache_t *c)
{
    return c->app;
}

struct fcd_cache_stats *fcd_cache_stats(const fcd_cache_t *c)
{
    return c->stats;
}

const char *fcd_cache_error(const fcd_cache_t *c)
{
    return c->err;
}

bool fcd_cache_is_process_local(const fcd_cache_t *c, const char **why)
{
    if (why)
        *why = c->ops->local_reason;
    return c->ops->local_reason != NULL;
}

fcd_cache_status_t fcd_cache_check_workers(const fcd_cache_t *c, unsigned workers, char *err,
                                           size_t errlen)
{
    if (c->ops->local_reason && workers > 1) {
        snprintf(err, errlen, "cache %s:// refused with %u workers: %s", c->ops->scheme, workers,
                 c->ops->local_reason);
        return FCD_CACHE_ERROR;
    }
    return FCD_CACHE_OK;
}

fcd_cache_status_t fcd_cache_claim_process(fcd_cache_t *c, char *err, size_t errlen)
{
    char dir[FCD_CACHE_URL_MAX], path[FCD_CACHE_URL_MAX + 32], pid[32];
    ssize_t n;
    int fd;

    if (!c->ops->local_reason || c->claim_fd >= 0)
        return FCD_CACHE_OK;
    if (fcd_cache_default_dir(c->app, dir, sizeof dir) != FCD_CACHE_OK) {
        snprintf(err, errlen, "cache: runtime directory name too long");
        return FCD_CACHE_ERROR;
    }
    if (default_parent_ok(dir, err, errlen) < 0)
        return FCD_CACHE_ERROR;
    if (fcd_cache_mkdirs(dir) < 0) {
        snprintf(err, errlen, "cache: cannot make %s: %s", dir, strerror(errno));
        return FCD_CACHE_ERROR;
    }
    snprintf(path, sizeof path, "%s/.memory.claim", dir);
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cache: cannot open %s: %s", path, strerror(errno));
        return FCD_CACHE_ERROR;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        close(fd);
        snprintf(err, errlen,
                 "cache memory:// refused: process %s already serves app '%s' with it on this "
                 "host. %s",
                 pid[0] ? pid : "(unknown)", c->app, c->ops->local_reason);
        return FCD_CACHE_ERROR;
    }
    n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        /* The pid is only for the message above; the lock is what counts. */
    }
    c->claim_fd = fd;
    return FCD_CACHE_OK;
}

/* ---- Operations ---------------------------------------------------------- */

static fcd_cache_status_t counted(fcd_cache_t *c, fcd_cache_status_t st)
{
    if (st == FCD_CACHE_DECLINED || st == FCD_CACHE_ERROR)
        fcd_cache_stats_add(c->stats, FCD_CACHE_C_ERRORS, 1);
    return st;
}

static fcd_cache_status_t bad_key(fcd_cache_t *c, const char *key)
{
    return counted(c, fcd_cache_fail(c, FCD_CACHE_ERROR,
                                      "cache: invalid key (%zu bytes; want 1..%d of 0x21..0x7e)",
                                      key ? strlen(key) : 0, FCD_CACHE_KEY_MAX));
}

fcd_cache_status_t fcd_cache_get(fcd_cache_t *c, const char *key, void **val, size_t *len)
{
    *val = NULL;
    *len = 0;
    c->err[0] = '\0';
    if (!fcd_cache_key_ok(key))
        return bad_key(c, key);
    return counted(c, c->ops->get(c, key, strlen(key), val, len));
}

void fcd_cache_drop_values(size_t n, void **vals, size_t *lens, bool *found)
{
    for (size_t i = 0; i < n; i++) {
        free(vals[i]);
        vals[i] = NULL;
        lens[i] = 0;
        found[i] = false;
    }
}

fcd_cache_status_t fcd_cache_get_multi(fcd_cache_t *c, size_t n, const char *const *keys,
                                       void **vals, size_t *lens, bool *found)
{
    size_t klens[FCD_CACHE_MULTI_MAX];

    c->err[0] = '\0';
    for (size_t i = 0; i < n; i++)
        vals[i] = NULL, lens[i] = 0, found[i] = false;
    if (n == 0 || n > FCD_CACHE_MULTI_MAX)
        return counted(c, fcd_cache_fail(c, FCD_CACHE_ERROR,
                                         "cache: a multi-get takes 1..%d keys, not %zu",
                                         FCD_CACHE_MULTI_MAX, n));
    for (size_t i = 0; i < n; i++) {
        if (!fcd_cache_key_ok(keys[i]))
            return bad_key(c, keys[i]);
        klens[i] = strlen(keys[i]);
    }
    if (c->ops->get_multi)
        return counted(c, c->ops->get_multi(c, n, keys, klens, vals, lens, found));
    return counted(c, fcd_cache_get_rest(c, n, keys, klens, vals, lens, found));
}

fcd_cache_status_t fcd_cache_get_rest(fcd_cache_t *c, size_t n, const char *const *keys,
                                      const size_t *klens, void **vals, size_t *lens,
                                      bool *found)
{
    fcd_cache_status_t st = FCD_CACHE_OK;

    for (size_t i = 0; i < n && st == FCD_CACHE_OK; i++) {
        if (found[i])
            continue;
        st = c->ops->get(c, keys[i], klens[i], &vals[i], &lens[i]);
        found[i] = st == FCD_CACHE_OK;
        if (st == FCD_CACHE_MISS)
            st = FCD_CACHE_OK;
    }
    if (st != FCD_CACHE_OK)
        fcd_cache_drop_values(n, vals, lens, found);
    return st;
}

static fcd_cache_status_t store(fcd_cache_t *c, enum fcd_cache_store_mode mode, const char *key,
                                const void *val, size_t len, unsigned ttl)
{
    c->err[0] = '\0';
    if (!fcd_cache_key_ok(key))
        return bad_key(c, key);
    if (len > c->settings.item_max)
        return counted(c, fcd_cache_fail(c, FCD_CACHE_DECLINED,
                                         "cache %s: value of %zu bytes is over the item limit of "
                                         "%zu bytes; not stored",
                                         c->ops->scheme, len, c->settings.item_max));
    if (len > 0 && !val)
        return counted(c, fcd_cache_fail(c, FCD_CACHE_ERROR, "cache: NULL value"));
    return counted(c, c->ops->store(c, mode, key, strlen(key), val, len, fcd_cache_ttl(ttl)));
}

fcd_cache_status_t fcd_cache_set(fcd_cache_t *c, const char *key, const void *val, size_t len,
                                 unsigned ttl)
{
    return store(c, FCD_CACHE_STORE_SET, key, val, len, ttl);
}

fcd_cache_status_t fcd_cache_add(fcd_cache_t *c, const char *key, const void *val, size_t len,
                                 unsigned ttl)
{
    return store(c, FCD_CACHE_STORE_ADD, key, val, len, ttl);
}

fcd_cache_status_t fcd_cache_delete(fcd_cache_t *c, const char *key)
{
    c->err[0] = '\0';
    if (!fcd_cache_key_ok(key))
        return bad_key(c, key);
    return counted(c, c->ops->del(c, key, strlen(key)));
}

static void token_hex(uint64_t token, char out[17])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 15; i >= 0; i--, token >>= 4)
        out[i] = hex[token & 15];
    out[16] = '\0';
}

fcd_cache_status_t fcd_cache_lock(fcd_cache_t *c, const char *key, unsigned ttl,
                                  fcd_cache_lock_t *lk)
{
    char hex[17];
    fcd_cache_status_t st;

    lk->held = false;
    lk->fd = -1;
    c->err[0] = '\0';
    if (!fcd_cache_key_ok(key))
        return bad_key(c, key);
    if (c->ops->lock) {
        st = c->ops->lock(c, key, strlen(key), lk);
        lk->held = st == FCD_CACHE_OK;
        return counted(c, st);
    }
    /* The token tells our lock from a successor's (see fcd_cache_unlock). */
    do
        randombytes_buf(&lk->token, sizeof lk->token);
    while (lk->token == 0);
    token_hex(lk->token, hex);
    st = store(c, FCD_CACHE_STORE_ADD, key, hex, 16, ttl ? ttl : 1);
    if (st == FCD_CACHE_OK) {
        memcpy(lk->key, key, strlen(key) + 1);
        lk->held = true;
    }
    return st;
}

void fcd_cache_unlock(fcd_cache_t *c, fcd_cache_lock_t *lk)
{
    char hex[17];
    void *val;
    size_t len;

    if (!lk->held)
        return;
    lk->held = false;
    if (c->ops->unlock) {
        c->ops->unlock(c, lk);
        return;
    }
    /* Not atomic (memcached has no delete-if-equal), but the window is one
     * round trip, and losing it costs only a second computation. */
    token_hex(lk->token, hex);
    if (fcd_cache_get(c, lk->key, &val, &len) == FCD_CACHE_OK) {
        if (len == 16 && memcmp(val, hex, 16) == 0)
            fcd_cache_delete(c, lk->key);
        free(val);
    }
}

/* ---- none:// ------------------------------------------------------------- */

static fcd_cache_status_t none_open(fcd_cache_t *c, const char *rest, fcd_cache_param_t *params,
                                    size_t nparams)
{
    (void)params;
    (void)nparams;
    if (rest[0])
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: none:// takes no address");
    return FCD_CACHE_OK;
}

static fcd_cache_status_t none_get(fcd_cache_t *c, const char *key, size_t klen, void **val,
                                   size_t *len)
{
    (void)c, (void)key, (void)klen, (void)val, (void)len;
    return FCD_CACHE_MISS;
}

static fcd_cache_status_t none_store(fcd_cache_t *c, enum fcd_cache_store_mode mode,
                                     const char *key, size_t klen, const void *val, size_t len,
                                     unsigned ttl)
{
    (void)c, (void)mode, (void)key, (void)klen, (void)val, (void)len, (void)ttl;
    return FCD_CACHE_OK;
}

static fcd_cache_status_t none_del(fcd_cache_t *c, const char *key, size_t klen)
{
    (void)c, (void)key, (void)klen;
    return FCD_CACHE_MISS;
}

static void none_close(fcd_cache_t *c)
{
    (void)c;
}

const fcd_cache_ops_t fcd_cache_none_ops = {
    .scheme = "none",
    .stores_nothing = true,
    .item_max = FCD_CACHE_ITEM_MAX_UNLIMITED,
    .open = none_open,
    .get = none_get,
    .store = none_store,
    .del = none_del,
    .close = none_close,
};
