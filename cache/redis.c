/*
 * cache/redis.c - the Redis backend, through hiredis.
 *
 * One redisContext per handle, so one connection per worker, opened on
 * first use (as memcached's is) and kept.  Commands are binary-safe
 * (redisCommandArgv, lengths given), so values are bytes of any content;
 * one item goes to Redis whole up to FCD_CACHE_REDIS_ITEM_MAX, Redis's own
 * default limit, and memoize never needs to chunk below it.
 *
 *   get     GET key
 *   multi   MGET key...                       (a memoize hit: generation, entry)
 *   set     SET key value [PX ttl_ms]         (ttl 0: no expiry)
 *   add     SET key value NX [PX ttl_ms]      (the single-flight lock too)
 *   delete  DEL key
 *   unlock  EVAL of a compare-and-delete script: the lock key is deleted
 *           only while it still holds this worker's token, atomically in
 *           the server, so a lock that expired and was taken by another
 *           worker is never released by the first.  Taking the lock stays
 *           with backend.c's add-based path (SET NX PX with the token).
 *
 * After connecting, AUTH (with the user when one is given, Redis 6 ACLs)
 * and SELECT run once per connection.  Short timeouts: connect_ms for the
 * connect, poll_ms for each read and write (SO_RCVTIMEO / SO_SNDTIMEO), so
 * a stopped or overloaded server costs at most about their sum.
 *
 * Faults never become the request's failure: every outcome that is not an
 * answer to the question asked is FCD_CACHE_DECLINED, with a message naming
 * the server (never the password).  Two kinds:
 *   - the connection failed (refused, timed out, reset, AUTH or SELECT
 *     refused): the context is dropped and the server is not tried again
 *     for retry_s seconds, so a dead or misconfigured server costs one
 *     timeout per worker per retry_s, not one per call; every call in that
 *     pause is DECLINED at once with the message of the failure behind it.
 *     Then the next call reconnects; service resumes by itself.
 *   - the server answered with an error (MISCONF, OOM, NOAUTH, READONLY,
 *     LOADING, ...): that call is DECLINED and the connection is kept, since
 *     other commands (reads, under MISCONF or OOM) may still work.
 * A connection the server closed while it sat idle (Redis's `timeout`
 * setting, a restart, CLIENT KILL) shows as end-of-file or a reset on the
 * next command; when that connection had already served a command, the
 * command is sent once more on a fresh one instead of failing.  A command
 * that reached the server before it closed would run twice: harmless for
 * GET, SET and DEL; an add or a lock would then answer "exists", and the
 * caller waits for a value or computes on its own.
 *
 * fork(): a context made in another process is the parent's connection;
 * the first call in the child notices the pid, closes its copy of the
 * socket (which sends nothing, unlike memcached's quit) and reconnects.
 *
 * SIGPIPE: writing to a connection the server has closed raises it.  The
 * fcdash runtime ignores SIGPIPE; for any other program using the cache,
 * each exchange blocks SIGPIPE while it runs and discards one it caused,
 * so the library never changes the process's signal handling.
 *
 * Out of memory: our own allocations fail with FCD_CACHE_ERROR.  hiredis
 * 0.14 (Debian 12) aborts the process when one of its own allocations
 * fails (its HIREDIS_OOM_HANDLER, the fix of CVE-2020-7105); the largest it
 * makes are one value and its command, bounded by item_max and value_max.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>
#include <sodium.h>

#include "cache/backend.h"
#include "cache/redis.h"

#define RD_CONNECT_MS_DEFAULT 100u
#define RD_POLL_MS_DEFAULT 250u
#define RD_RETRY_S_DEFAULT 2u
/* Redis's `databases` is an int; SELECT takes any index below it. */
#define RD_DB_MAX ((unsigned long long)INT_MAX)
#define RD_HOST_MAX 256
#define RD_USER_MAX 128

/* Delete KEYS[1] only if it holds ARGV[1]; 1 when deleted, else 0. */
static const char unlock_script[] =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) "
    "else return 0 end";

struct rd {
    redisContext *ctx;
    pid_t ctx_pid;             /* the process ctx was connected in */
    bool served;               /* ctx has answered at least one command */
    bool is_unix;
    unsigned port;
    unsigned long long db;
    unsigned connect_ms, poll_ms, retry_s;
    struct timespec pause_until; /* CLOCK_MONOTONIC: no I/O before this */
    char pause_why[160];       /* the failure that began the pause */
    char where[RD_HOST_MAX + 32]; /* "redis host:port" or "redis /path", for messages */
    char host[RD_HOST_MAX];    /* host name or address, or the socket path */
    char user[RD_USER_MAX];    /* "" : AUTH with the password alone */
    char password[FCD_CACHE_URL_MAX]; /* "" : no AUTH */
};

/* ---- opening: the URL ----------------------------------------------------- */

static struct rd *rd_new(fcd_cache_t *c)
{
    struct rd *r = calloc(1, sizeof *r);

    if (!r) {
        fcd_cache_fail(c, FCD_CACHE_ERROR, "redis: out of memory");
        return NULL;
    }
    r->connect_ms = RD_CONNECT_MS_DEFAULT;
    r->poll_ms = RD_POLL_MS_DEFAULT;
    r->retry_s = RD_RETRY_S_DEFAULT;
    return r;
}

static void rd_free(struct rd *r)
{
    if (!r)
        return;
    if (r->ctx)
        redisFree(r->ctx);
    /* The password does not outlive the handle in freed memory. */
    sodium_memzero(r, sizeof *r);
    free(r);
}

/* Copy [p, end) into dst (size n) as a string; false when it does not fit. */
static bool copy_part(char *dst, size_t n, const char *p, const char *end)
{
    size_t len = (size_t)(end - p);

    if (len >= n)
        return false;
    memcpy(dst, p, len);
    dst[len] = '\0';
    return true;
}

/* Digits only, value in [lo, hi]. */
static bool parse_num(const char *p, const char *end, unsigned long long lo,
                      unsigned long long hi, unsigned long long *out)
{
    unsigned long long v = 0;

    if (p == end)
        return false;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (unsigned long long)(*p - '0');
        if (v > hi)
            return false;
    }
    if (v < lo)
        return false;
    *out = v;
    return true;
}

/* The settings both schemes share: timeouts, db, user, password. */
static fcd_cache_status_t rd_params(fcd_cache_t *c, struct rd *r, fcd_cache_param_t *params,
                                    size_t nparams, bool *db_set)
{
    for (size_t i = 0; i < nparams; i++) {
        fcd_cache_param_t *p = &params[i];
        unsigned *dst = NULL;
        unsigned long long hi = 60000, v;
        fcd_cache_status_t st;

        if (strcmp(p->name, "password") == 0) {
            if (strlen(p->value) >= sizeof r->password)
                return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: redis password too long");
            memcpy(r->password, p->value, strlen(p->value) + 1);
            p->used = true;
            continue;
        }
        if (strcmp(p->name, "user") == 0) {
            if (strlen(p->value) >= sizeof r->user)
                return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: redis user too long");
            memcpy(r->user, p->value, strlen(p->value) + 1);
            p->used = true;
            continue;
        }
        if (strcmp(p->name, "db") == 0) {
            if ((st = fcd_cache_param_num(c, p, 0, RD_DB_MAX, &r->db)) != FCD_CACHE_OK)
                return st;
            *db_set = true;
            p->used = true;
            continue;
        }
        if (strcmp(p->name, "connect_ms") == 0)
            dst = &r->connect_ms;
        else if (strcmp(p->name, "poll_ms") == 0)
            dst = &r->poll_ms;
        else if (strcmp(p->name, "retry_s") == 0)
            dst = &r->retry_s, hi = 3600;
        if (!dst)
            continue;
        if ((st = fcd_cache_param_num(c, p, 1, hi, &v)) != FCD_CACHE_OK)
            return st;
        *dst = (unsigned)v;
        p->used = true;
    }
    return FCD_CACHE_OK;
}

/* After the address: a user without a password cannot log in. */
static fcd_cache_status_t rd_check_auth(fcd_cache_t *c, struct rd *r)
{
    if (r->user[0] && !r->password[0])
        return fcd_cache_fail(c, FCD_CACHE_ERROR,
                              "cache URL: redis user '%s' needs a password", r->user);
    return FCD_CACHE_OK;
}

/*
 * redis://[[user]:password@]host:port[/db]
 *
 * The credentials end at the last '@', so a password may hold any byte but
 * '?' (where backend.c cuts the query) and is taken as written, without
 * percent-decoding.  The port is required: "redis://host" is refused
 * rather than guessed.
 */
static fcd_cache_status_t parse_tcp(fcd_cache_t *c, struct rd *r, const char *rest, bool *db_set)
{
    const char *at = strrchr(rest, '@'), *hp = rest, *end, *slash, *colon, *hend;
    unsigned long long port;

    if (at) {
        const char *sep = memchr(rest, ':', (size_t)(at - rest));

        if (!sep || sep + 1 == at)
            return fcd_cache_fail(c, FCD_CACHE_ERROR,
                                  "cache URL: redis credentials are [user]:password@ (a colon, "
                                  "then a non-empty password)");
        if (r->password[0])
            return fcd_cache_fail(c, FCD_CACHE_ERROR,
                                  "cache URL: redis password given twice (before '@' and as "
                                  "password=)");
        if (sep > rest && r->user[0])
            return fcd_cache_fail(c, FCD_CACHE_ERROR,
                                  "cache URL: redis user given twice (before '@' and as user=)");
        if ((sep > rest && !copy_part(r->user, sizeof r->user, rest, sep)) ||
            !copy_part(r->password, sizeof r->password, sep + 1, at))
            return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: redis credentials too long");
        hp = at + 1;
    }
    end = hp + strlen(hp);
    slash = strchr(hp, '/');
    if (slash) {
        if (slash + 1 < end) {
            if (*db_set)
                return fcd_cache_fail(c, FCD_CACHE_ERROR,
                                      "cache URL: redis db given twice (/db and db=)");
            if (!parse_num(slash + 1, end, 0, RD_DB_MAX, &r->db))
                return fcd_cache_fail(c, FCD_CACHE_ERROR,
                                      "cache URL: redis db '%s' is not a number in 0..%llu",
                                      slash + 1, RD_DB_MAX);
            *db_set = true;
        }
        end = slash;
    }
    if (hp < end && *hp == '[') {
        const char *rb = memchr(hp, ']', (size_t)(end - hp));
        if (!rb)
            goto bad;
        hp++;
        hend = rb;
        colon = rb + 1 < end && rb[1] == ':' ? rb + 1 : NULL;
        if (!colon && rb + 1 != end)
            goto bad;
    } else {
        colon = memchr(hp, ':', (size_t)(end - hp));
        hend = colon ? colon : end;
    }
    if (!colon)
        return fcd_cache_fail(c, FCD_CACHE_ERROR,
                              "cache URL: redis:// needs host:port (the port too, e.g. "
                              "redis://127.0.0.1:6379)");
    if (hend == hp || !copy_part(r->host, sizeof r->host, hp, hend) ||
        !parse_num(colon + 1, end, 1, 65535, &port))
        goto bad;
    r->port = (unsigned)port;
    snprintf(r->where, sizeof r->where, strchr(r->host, ':') ? "redis [%s]:%u" : "redis %s:%u",
             r->host, r->port);
    return FCD_CACHE_OK;
bad:
    return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: bad redis address '%.*s'",
                          (int)(end - hp), hp);
}

static fcd_cache_status_t open_common(fcd_cache_t *c, const char *rest, fcd_cache_param_t *params,
                                      size_t nparams, bool is_unix)
{
    struct rd *r = rd_new(c);
    bool db_set = false;
    fcd_cache_status_t st;

    if (!r)
        return FCD_CACHE_ERROR;
    r->is_unix = is_unix;
    st = rd_params(c, r, params, nparams, &db_set);
    if (st == FCD_CACHE_OK && !is_unix) {
        st = parse_tcp(c, r, rest, &db_set);
    } else if (st == FCD_CACHE_OK) {
        /* The socket path as written; sun_path bounds it. */
        if (rest[0] != '/')
            st = fcd_cache_fail(c, FCD_CACHE_ERROR,
                                "cache URL: redis+unix:// needs an absolute socket path "
                                "(redis+unix:///run/redis/redis.sock)");
        else if (strlen(rest) >= sizeof((struct sockaddr_un *)0)->sun_path)
            st = fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: redis socket path too long");
        else {
            memcpy(r->host, rest, strlen(rest) + 1);
            snprintf(r->where, sizeof r->where, "redis %s", r->host);
        }
    }
    if (st == FCD_CACHE_OK)
        st = rd_check_auth(c, r);
    if (st != FCD_CACHE_OK) {
        rd_free(r);
        return st;
    }
    c->impl = r;
    return FCD_CACHE_OK;
}

static fcd_cache_status_t rd_open_tcp(fcd_cache_t *c, const char *rest, fcd_cache_param_t *params,
                                      size_t nparams)
{
    return open_common(c, rest, params, nparams, false);
}

static fcd_cache_status_t rd_open_unix(fcd_cache_t *c, const char *rest,
                                       fcd_cache_param_t *params, size_t nparams)
{
    return open_common(c, rest, params, nparams, true);
}

static void rd_close(fcd_cache_t *c)
{
    /* redisFree only closes the socket: right in the parent, and in a
     * child it closes the child's copy and sends nothing. */
    rd_free(c->impl);
    c->impl = NULL;
}

/* ---- connection state ------------------------------------------------------ */

static struct timespec mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts;
}

static struct timeval ms_tv(unsigned ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    return tv;
}

static void drop(struct rd *r)
{
    if (r->ctx)
        redisFree(r->ctx);
    r->ctx = NULL;
    r->served = false;
}

/* The connection failed: drop it, pause for retry_s, and say why. */
static fcd_cache_status_t down(fcd_cache_t *c, struct rd *r, const char *fmt, ...)
    FCD_CACHE_PRINTF(3, 4);

static fcd_cache_status_t down(fcd_cache_t *c, struct rd *r, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(r->pause_why, sizeof r->pause_why, fmt, ap);
    va_end(ap);
    drop(r);
    r->pause_until = mono_now();
    r->pause_until.tv_sec += (time_t)r->retry_s;
    return fcd_cache_fail(c, FCD_CACHE_DECLINED, "%s: %s", r->where, r->pause_why);
}

/* Before any I/O: true when the call may talk to the server. */
static bool ready(fcd_cache_t *c, struct rd *r)
{
    struct timespec now;

    if (r->ctx && r->ctx_pid != getpid())
        drop(r); /* the parent's connection (see top of file) */
    if (r->ctx)
        return true;
    now = mono_now();
    if (now.tv_sec < r->pause_until.tv_sec ||
        (now.tv_sec == r->pause_until.tv_sec && now.tv_nsec < r->pause_until.tv_nsec)) {
        long left = (long)(r->pause_until.tv_sec - now.tv_sec);
        fcd_cache_fail(c, FCD_CACHE_DECLINED, "%s not retried for %lds more after: %s", r->where,
                       left > 0 ? left : 1, r->pause_why);
        return false;
    }
    return true;
}

/* Why an exchange on x failed, from its error and the errno it left. */
static void io_why(const redisContext *x, int err, unsigned poll_ms, char *buf, size_t n)
{
    if (x->err == REDIS_ERR_IO && (err == EAGAIN || err == EWOULDBLOCK))
        snprintf(buf, n, "no answer within %u ms (poll_ms)", poll_ms);
    else if (x->err == REDIS_ERR_EOF)
        snprintf(buf, n, "the server closed the connection");
    else
        snprintf(buf, n, "%s", x->errstr[0] ? x->errstr : "I/O error");
}

/* One command during the handshake; the reply, or NULL when the exchange
 * failed (then the connection is down and the message set). */
static redisReply *handshake_cmd(fcd_cache_t *c, struct rd *r, const char *what, int argc,
                                 const char **argv, const size_t *lens)
{
    redisReply *reply = redisCommandArgv(r->ctx, argc, argv, lens);
    int err = errno;
    char why[128];

    if (reply)
        return reply;
    io_why(r->ctx, err, r->poll_ms, why, sizeof why);
    down(c, r, "%s: %s", what, why);
    return NULL;
}

/* A hint for the errors a user can fix in the URL or the server. */
static const char *hint(const char *msg)
{
    if (strncmp(msg, "NOAUTH", 6) == 0)
        return " (the server wants a password: redis://:PASSWORD@host:port)";
    if (strncmp(msg, "ERR Protocol error", 18) == 0)
        return " (a value over the server's proto-max-bulk-len? lower item_max in the URL)";
    return "";
}

static fcd_cache_status_t connect_rd(fcd_cache_t *c, struct rd *r)
{
    struct timeval ct = ms_tv(r->connect_ms);
    redisContext *x;
    redisReply *reply;
    int flags;

    x = r->is_unix ? redisConnectUnixWithTimeout(r->host, ct)
                   : redisConnectWithTimeout(r->host, (int)r->port, ct);
    if (!x)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "redis connect: out of memory");
    if (x->err) {
        char why[128];
        snprintf(why, sizeof why, "%s", x->errstr);
        redisFree(x);
        return down(c, r, "cannot connect: %s", why);
    }
    r->ctx = x;
    r->ctx_pid = getpid();
    r->served = false;
    if (redisSetTimeout(x, ms_tv(r->poll_ms)) != REDIS_OK)
        return down(c, r, "cannot set the poll_ms timeout: %s", x->errstr);
    /* Programs a worker runs do not inherit the connection. */
    if ((flags = fcntl(x->fd, F_GETFD)) >= 0)
        fcntl(x->fd, F_SETFD, flags | FD_CLOEXEC);
    if (!r->is_unix)
        redisEnableKeepAlive(x);

    if (r->password[0]) {
        const char *argv[3] = {"AUTH", r->user, r->password};
        size_t lens[3] = {4, strlen(r->user), strlen(r->password)};
        int argc = 3;

        if (!r->user[0]) {
            argv[1] = r->password;
            lens[1] = lens[2];
            argc = 2;
        }
        if (!(reply = handshake_cmd(c, r, "AUTH", argc, argv, lens)))
            return FCD_CACHE_DECLINED;
        if (reply->type == REDIS_REPLY_ERROR) {
            char msg[100];
            snprintf(msg, sizeof msg, "%s", reply->str);
            freeReplyObject(reply);
            /* WRONGPASS, "invalid password", "no password configured":
             * say which setting to fix; other refusals (LOADING) speak
             * for themselves. */
            if (strstr(msg, "pass") == NULL && strstr(msg, "PASS") == NULL)
                return down(c, r, "AUTH refused (%s)", msg);
            return down(c, r, "AUTH refused (%s); check the %spassword in %s", msg,
                        r->user[0] ? "user and " : "", FCD_CACHE_ENV);
        }
        freeReplyObject(reply);
    }
    if (r->db) {
        char db[24];
        const char *argv[2] = {"SELECT", db};
        size_t lens[2] = {6, (size_t)snprintf(db, sizeof db, "%llu", r->db)};

        if (!(reply = handshake_cmd(c, r, "SELECT", 2, argv, lens)))
            return FCD_CACHE_DECLINED;
        if (reply->type == REDIS_REPLY_ERROR) {
            char msg[100];
            snprintf(msg, sizeof msg, "%s", reply->str);
            freeReplyObject(reply);
            return down(c, r, "SELECT %llu refused (%s)%s", r->db, msg, hint(msg));
        }
        freeReplyObject(reply);
    }
    return FCD_CACHE_OK;
}

/* ---- SIGPIPE, for programs that do not ignore it (see top of file) -------- */

struct pipe_guard {
    bool active, was_pending;
    sigset_t old;
};

static void guard_begin(struct pipe_guard *g)
{
    struct sigaction sa;
    sigset_t set, pending;

    g->active = false;
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
        return;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    g->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    g->active = pthread_sigmask(SIG_BLOCK, &set, &g->old) == 0;
}

static void guard_end(struct pipe_guard *g)
{
    sigset_t set, pending;
    struct timespec zero = {0, 0};

    if (!g->active)
        return;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    /* Discard a SIGPIPE we caused; one that was pending before is not ours. */
    if (!g->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR)
            ;
    }
    pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

/* ---- one command ------------------------------------------------------------ */

/*
 * Send one command and read its reply.  Returns the reply (never an error
 * reply) with *st FCD_CACHE_OK, or NULL with *st DECLINED/ERROR and the
 * message in c.  `what` names the command in messages.
 */
static redisReply *exchange(fcd_cache_t *c, struct rd *r, const char *what, const char *key,
                            int argc, const char **argv, const size_t *lens,
                            fcd_cache_status_t *st)
{
    struct pipe_guard g;
    redisReply *reply = NULL;

    *st = FCD_CACHE_DECLINED;
    if (!ready(c, r))
        return NULL;
    guard_begin(&g);
    for (int attempt = 0; attempt < 2; attempt++) {
        bool reused = r->ctx != NULL && r->served;
        int err;
        char why[128];

        if (!r->ctx && (*st = connect_rd(c, r)) != FCD_CACHE_OK)
            goto out;
        reply = redisCommandArgv(r->ctx, argc, argv, lens);
        err = errno;
        if (reply)
            break;
        io_why(r->ctx, err, r->poll_ms, why, sizeof why);
        /* A kept connection the server closed while it was idle: once more
         * on a fresh one (see top of file). */
        if (reused && (r->ctx->err == REDIS_ERR_EOF ||
                       (r->ctx->err == REDIS_ERR_IO && (err == ECONNRESET || err == EPIPE)))) {
            drop(r);
            continue;
        }
        *st = down(c, r, "%s %.64s: %s", what, key, why);
        goto out;
    }
    /* Here with a reply: the second attempt runs on a fresh connection,
     * which is never retried, so it leaves by the goto when it fails. */
    r->served = true;
    if (reply->type == REDIS_REPLY_ERROR) {
        const char *h = hint(reply->str);

        *st = fcd_cache_fail(c, FCD_CACHE_DECLINED, "%s %s %.64s: %.120s%s", r->where, what, key,
                             reply->str, h);
        /* Redis closes the connection after a protocol error. */
        if (strncmp(reply->str, "ERR Protocol error", 18) == 0)
            drop(r);
        freeReplyObject(reply);
        reply = NULL;
        goto out;
    }
    *st = FCD_CACHE_OK;
out:
    guard_end(&g);
    return reply;
}

static fcd_cache_status_t unexpected(fcd_cache_t *c, struct rd *r, const char *what,
                                     const char *key, redisReply *reply)
{
    int type = reply->type;

    freeReplyObject(reply);
    return fcd_cache_fail(c, FCD_CACHE_DECLINED, "%s %s %.64s: unexpected reply (type %d)",
                          r->where, what, key, type);
}

/* ---- operations --------------------------------------------------------------- */

static fcd_cache_status_t rd_get(fcd_cache_t *c, const char *key, size_t klen, void **val,
                                 size_t *len)
{
    struct rd *r = c->impl;
    const char *argv[2] = {"GET", key};
    size_t lens[2] = {3, klen};
    fcd_cache_status_t st;
    redisReply *reply = exchange(c, r, "GET", key, 2, argv, lens, &st);

    if (!reply)
        return st;
    if (reply->type == REDIS_REPLY_NIL) {
        freeReplyObject(reply);
        return FCD_CACHE_MISS;
    }
    if (reply->type != REDIS_REPLY_STRING)
        return unexpected(c, r, "GET", key, reply);
    /* hiredis made reply->str with malloc (hi_malloc): hand it over
     * instead of copying a value of up to item_max bytes. */
    *len = reply->len;
    if (reply->len > 0) {
        *val = reply->str;
        reply->str = NULL;
    }
    freeReplyObject(reply);
    return FCD_CACHE_OK;
}

/* MGET: one command, one reply of n elements (a string or nil each). */
static fcd_cache_status_t rd_get_multi(fcd_cache_t *c, size_t n, const char *const *keys,
                                       const size_t *klens, void **vals, size_t *lens,
                                       bool *found)
{
    struct rd *r = c->impl;
    const char *argv[FCD_CACHE_MULTI_MAX + 1] = {"MGET"};
    size_t alens[FCD_CACHE_MULTI_MAX + 1] = {4};
    fcd_cache_status_t st;
    redisReply *reply;

    for (size_t i = 0; i < n; i++)
        argv[i + 1] = keys[i], alens[i + 1] = klens[i];
    if (!(reply = exchange(c, r, "MGET", keys[0], (int)n + 1, argv, alens, &st)))
        return st;
    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != n)
        return unexpected(c, r, "MGET", keys[0], reply);
    for (size_t i = 0; i < n; i++) {
        redisReply *e = reply->element[i];

        if (e->type == REDIS_REPLY_NIL)
            continue;
        if (e->type != REDIS_REPLY_STRING) {
            fcd_cache_drop_values(n, vals, lens, found);
            return unexpected(c, r, "MGET", keys[i], reply);
        }
        /* Handed over, as in rd_get. */
        lens[i] = e->len;
        if (e->len > 0) {
            vals[i] = e->str;
            e->str = NULL;
        }
        found[i] = true;
    }
    freeReplyObject(reply);
    return FCD_CACHE_OK;
}

static fcd_cache_status_t rd_store(fcd_cache_t *c, enum fcd_cache_store_mode mode,
                                   const char *key, size_t klen, const void *val, size_t len,
                                   unsigned ttl)
{
    struct rd *r = c->impl;
    const char *what = mode == FCD_CACHE_STORE_ADD ? "SET NX" : "SET";
    const char *argv[6] = {"SET", key, len ? val : ""};
    size_t lens[6] = {3, klen, len};
    int argc = 3;
    char ms[24];
    fcd_cache_status_t st;
    redisReply *reply;

    if (ttl) {
        argv[argc] = "PX";
        lens[argc++] = 2;
        argv[argc] = ms;
        lens[argc++] = (size_t)snprintf(ms, sizeof ms, "%llu", (unsigned long long)ttl * 1000u);
    }
    if (mode == FCD_CACHE_STORE_ADD) {
        argv[argc] = "NX";
        lens[argc++] = 2;
    }
    if (!(reply = exchange(c, r, what, key, argc, argv, lens, &st))) {
        /* A large value the server refuses as a protocol error may reach
         * us only as the connection it closed, with no error reply to
         * read: say what the likely cause is. */
        if (st == FCD_CACHE_DECLINED && len >= ((size_t)1 << 20) &&
            strstr(fcd_cache_error(c), "item_max") == NULL) {
            char was[FCD_CACHE_ERR_MAX];
            snprintf(was, sizeof was, "%s", fcd_cache_error(c));
            fcd_cache_fail(c, FCD_CACHE_DECLINED,
                           "%.160s (a value of %zu bytes: over the server's proto-max-bulk-len? "
                           "lower item_max in the URL)", was, len);
        }
        return st;
    }
    if (reply->type == REDIS_REPLY_STATUS) {
        freeReplyObject(reply);
        return FCD_CACHE_OK;
    }
    /* SET ... NX answers nil when the key exists. */
    if (reply->type == REDIS_REPLY_NIL && mode == FCD_CACHE_STORE_ADD) {
        freeReplyObject(reply);
        return FCD_CACHE_MISS;
    }
    return unexpected(c, r, what, key, reply);
}

static fcd_cache_status_t rd_del(fcd_cache_t *c, const char *key, size_t klen)
{
    struct rd *r = c->impl;
    const char *argv[2] = {"DEL", key};
    size_t lens[2] = {3, klen};
    fcd_cache_status_t st;
    redisReply *reply = exchange(c, r, "DEL", key, 2, argv, lens, &st);

    if (!reply)
        return st;
    if (reply->type != REDIS_REPLY_INTEGER)
        return unexpected(c, r, "DEL", key, reply);
    st = reply->integer > 0 ? FCD_CACHE_OK : FCD_CACHE_MISS;
    freeReplyObject(reply);
    return st;
}

/* The token as backend.c's add-based lock wrote it: 16 lowercase hex
 * digits, most significant first. */
static void token_hex(uint64_t token, char out[17])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 15; i >= 0; i--, token >>= 4)
        out[i] = hex[token & 15];
    out[16] = '\0';
}

/* Release an add-based lock only while it still holds our token.  On a
 * failure the lock is left to expire at its TTL (the message stays in c):
 * it is never released blindly. */
static void rd_unlock(fcd_cache_t *c, fcd_cache_lock_t *lk)
{
    struct rd *r = c->impl;
    char tok[17];
    const char *argv[5] = {"EVAL", unlock_script, "1", lk->key, tok};
    size_t lens[5] = {4, sizeof unlock_script - 1, 1, strlen(lk->key), 16};
    fcd_cache_status_t st;
    redisReply *reply;

    token_hex(lk->token, tok);
    reply = exchange(c, r, "EVAL unlock", lk->key, 5, argv, lens, &st);
    if (reply)
        freeReplyObject(reply);
}

const fcd_cache_ops_t fcd_cache_redis_ops = {
    .scheme = "redis",
    .item_max = FCD_CACHE_REDIS_ITEM_MAX,
    .open = rd_open_tcp,
    .get = rd_get,
    .get_multi = rd_get_multi,
    .store = rd_store,
    .del = rd_del,
    .unlock = rd_unlock,
    .close = rd_close,
};

const fcd_cache_ops_t fcd_cache_redis_unix_ops = {
    .scheme = "redis+unix",
    .item_max = FCD_CACHE_REDIS_ITEM_MAX,
    .open = rd_open_unix,
    .get = rd_get,
    .get_multi = rd_get_multi,
    .store = rd_store,
    .del = rd_del,
    .unlock = rd_unlock,
    .close = rd_close,
};
