/*
 * cache/memcached.c - the memcached backend, through libmemcached.
 *
 * One memcached_st per handle, so one connection per server per worker,
 * opened lazily on first use and kept.  The text protocol; servers placed
 * on a ketama continuum (MD5, as other ketama clients do) so that losing
 * one server remaps only its share of the keys; non-blocking sockets so the
 * connect and poll timeouts apply.
 *
 * Text, not binary, for the multi-get a memoize hit is: libmemcached's
 * binary mget writes the GETKQs, flushes, then writes the NOOP that ends
 * them, so the server gets two packets and the reader often waits once
 * more for the NOOP's reply (1.3-1.8x a single get, measured); the text
 * protocol's "get k1 k2\r\n" is one packet, answered in one (about 1.0x).
 * Keys are printable ASCII without spaces (backend.h), so they need
 * nothing more; memcached itself has deprecated the binary protocol.
 *
 * Faults never become the request's failure: every network-level outcome
 * (refused, timed out, reset, marked dead) is FCD_CACHE_DECLINED.  Two
 * layers keep a bad server from being hammered:
 *   - libmemcached's own: a refused connect puts the server in timeout for
 *     retry_s seconds, and after failure_limit failures it is ejected from
 *     the continuum (REMOVE_FAILED_SERVERS) for dead_s seconds, so its keys
 *     go to the others;
 *   - ours, for what libmemcached does not count: a server that accepts
 *     connections but does not answer (stopped, overloaded) only times out,
 *     and libmemcached would pay the poll timeout on every call.  We count
 *     consecutive failures per server and, at failure_limit, skip it
 *     (DECLINED without I/O) for dead_s seconds, marking it for retry at
 *     that time and rebuilding the continuum so its keys remap too.
 * After dead_s the server gets one try; one more failure ejects it again.
 *
 * A handle used after fork() would share its sockets with the parent; the
 * first operation in the child notices the new pid and builds a fresh
 * memcached_st.  The inherited one is abandoned, not freed, because
 * memcached_free() would send "quit" down the parent's connections and
 * read their replies: a bounded leak (~27 KB per fork of an open handle),
 * the price of a safety net; workers open their handle after they fork.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmemcached/memcached.h>

#include "cache/backend.h"

#define MC_SERVERS_MAX 32
#define MC_CONNECT_MS_DEFAULT 100u
#define MC_POLL_MS_DEFAULT 250u
#define MC_RETRY_S_DEFAULT 2u
#define MC_DEAD_S_DEFAULT 10u
#define MC_FAILURE_LIMIT_DEFAULT 2u

struct mc_server {
    char host[256];
    unsigned port; /* 0: host is a unix socket path */
    unsigned failures;
    time_t skip_until;
};

struct mc {
    memcached_st *mc;
    memcached_st *inherited; /* the parent's, abandoned after fork() */
    pid_t pid;
    unsigned connect_ms, poll_ms, retry_s, dead_s, failure_limit;
    size_t nservers;
    struct mc_server servers[MC_SERVERS_MAX];
};

static fcd_cache_status_t mc_fail(fcd_cache_t *c, const char *what, const char *key,
                                  memcached_return_t rc)
{
    return fcd_cache_fail(c, FCD_CACHE_DECLINED, "memcached %s %.64s: %s", what, key,
                          memcached_strerror(NULL, rc));
}

/* "65535" -> 65535; 0 when it is not a port number. */
static unsigned parse_port(const char *p, const char *end)
{
    unsigned long v = 0;

    if (p == end)
        return 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9' || (v = v * 10 + (unsigned long)(*p - '0')) > 65535)
            return 0;
    }
    return (unsigned)v;
}

/* One server: host[:port], [v6addr][:port] or /unix/socket/path. */
static bool parse_server(struct mc_server *s, const char *p, const char *end)
{
    const char *hend = end, *colon = NULL;
    size_t n;

    s->port = 11211;
    if (*p == '/') {
        s->port = 0;
    } else if (*p == '[') {
        const char *rb = memchr(p, ']', (size_t)(end - p));
        if (!rb || (rb + 1 != end && rb[1] != ':'))
            return false;
        p++;
        hend = rb;
        colon = rb + 1 != end ? rb + 1 : NULL;
    } else {
        colon = memchr(p, ':', (size_t)(end - p));
        hend = colon ? colon : end;
    }
    if (colon && (s->port = parse_port(colon + 1, end)) == 0)
        return false;
    n = (size_t)(hend - p);
    if (n == 0 || n >= sizeof s->host)
        return false;
    memcpy(s->host, p, n);
    s->host[n] = '\0';
    return true;
}

static fcd_cache_status_t parse_servers(fcd_cache_t *c, struct mc *m, const char *rest)
{
    const char *p = rest;

    if (!*p)
        return fcd_cache_fail(c, FCD_CACHE_ERROR,
                              "cache URL: memcached:// needs host:port[,host:port...]");
    while (*p) {
        const char *end = strchr(p, ',');

        if (!end)
            end = p + strlen(p);
        if (m->nservers == MC_SERVERS_MAX)
            return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: more than %d memcached servers",
                                  MC_SERVERS_MAX);
        if (!parse_server(&m->servers[m->nservers], p, end))
            return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: bad memcached server '%.*s'",
                                  (int)(end - p), p);
        m->nservers++;
        p = *end ? end + 1 : end;
    }
    return FCD_CACHE_OK;
}

static fcd_cache_status_t setup(fcd_cache_t *c, struct mc *m)
{
    memcached_st *mc = memcached_create(NULL);
    memcached_return_t rc = MEMCACHED_SUCCESS;

    if (!mc)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "memcached: out of memory");
#define B(opt, val)                                                                               \
    if (rc == MEMCACHED_SUCCESS)                                                                  \
    rc = memcached_behavior_set(mc, (opt), (uint64_t)(val))
    /* Text protocol: see the top of the file. */
    B(MEMCACHED_BEHAVIOR_BINARY_PROTOCOL, 0);
    B(MEMCACHED_BEHAVIOR_NO_BLOCK, 1);
    B(MEMCACHED_BEHAVIOR_TCP_NODELAY, 1);
    B(MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, m->connect_ms);
    B(MEMCACHED_BEHAVIOR_POLL_TIMEOUT, m->poll_ms);
    B(MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, m->retry_s);
    B(MEMCACHED_BEHAVIOR_DEAD_TIMEOUT, m->dead_s);
    B(MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, m->failure_limit);
    B(MEMCACHED_BEHAVIOR_SERVER_TIMEOUT_LIMIT, 1);
    B(MEMCACHED_BEHAVIOR_REMOVE_FAILED_SERVERS, 1);
    B(MEMCACHED_BEHAVIOR_KETAMA_HASH, MEMCACHED_HASH_MD5);
    B(MEMCACHED_BEHAVIOR_DISTRIBUTION, MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA);
#undef B
    for (size_t i = 0; rc == MEMCACHED_SUCCESS && i < m->nservers; i++) {
        if (m->servers[i].port == 0)
            rc = memcached_server_add_unix_socket(mc, m->servers[i].host);
        else
            rc = memcached_server_add(mc, m->servers[i].host, (in_port_t)m->servers[i].port);
    }
    if (rc != MEMCACHED_SUCCESS) {
        fcd_cache_fail(c, FCD_CACHE_ERROR, "memcached set-up: %s",
                       memcached_last_error_message(mc));
        memcached_free(mc);
        return FCD_CACHE_ERROR;
    }
    m->mc = mc;
    m->pid = getpid();
    return FCD_CACHE_OK;
}

static fcd_cache_status_t mc_open(fcd_cache_t *c, const char *rest, fcd_cache_param_t *params,
                                  size_t nparams)
{
    struct mc *m = calloc(1, sizeof *m);
    fcd_cache_status_t st;

    if (!m)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "memcached: out of memory");
    m->connect_ms = MC_CONNECT_MS_DEFAULT;
    m->poll_ms = MC_POLL_MS_DEFAULT;
    m->retry_s = MC_RETRY_S_DEFAULT;
    m->dead_s = MC_DEAD_S_DEFAULT;
    m->failure_limit = MC_FAILURE_LIMIT_DEFAULT;
    for (size_t i = 0; i < nparams; i++) {
        fcd_cache_param_t *p = &params[i];
        unsigned *dst = NULL;
        unsigned long long lo = 1, hi = 60000, v;

        if (strcmp(p->name, "connect_ms") == 0)
            dst = &m->connect_ms;
        else if (strcmp(p->name, "poll_ms") == 0)
            dst = &m->poll_ms;
        else if (strcmp(p->name, "retry_s") == 0)
            dst = &m->retry_s, hi = 3600;
        else if (strcmp(p->name, "dead_s") == 0)
            dst = &m->dead_s, hi = 3600;
        else if (strcmp(p->name, "failure_limit") == 0)
            dst = &m->failure_limit, hi = 100;
        if (!dst)
            continue;
        if ((st = fcd_cache_param_num(c, p, lo, hi, &v)) != FCD_CACHE_OK) {
            free(m);
            return st;
        }
        *dst = (unsigned)v;
        p->used = true;
    }
    if ((st = parse_servers(c, m, rest)) != FCD_CACHE_OK || (st = setup(c, m)) != FCD_CACHE_OK) {
        free(m);
        return st;
    }
    c->impl = m;
    return FCD_CACHE_OK;
}

static void mc_close(fcd_cache_t *c)
{
    struct mc *m = c->impl;

    /* A handle inherited across fork() is the parent's to close. */
    if (m->pid == getpid())
        memcached_free(m->mc);
    free(m);
    c->impl = NULL;
}

/* Outcomes that say the server is unreachable or not answering, as opposed
 * to answering "no" (not found, not stored) or refusing one value. */
static bool liveness_failure(memcached_return_t rc)
{
    switch (rc) {
    case MEMCACHED_SUCCESS:
    case MEMCACHED_NOTFOUND:
    case MEMCACHED_NOTSTORED:
    case MEMCACHED_DATA_EXISTS:
    case MEMCACHED_STORED:
    case MEMCACHED_DELETED:
    case MEMCACHED_END:
    case MEMCACHED_E2BIG:
    case MEMCACHED_SERVER_MEMORY_ALLOCATION_FAILURE:
    case MEMCACHED_BAD_KEY_PROVIDED:
    case MEMCACHED_KEY_TOO_BIG:
    case MEMCACHED_MEMORY_ALLOCATION_FAILURE:
    case MEMCACHED_INVALID_ARGUMENTS:
        return false;
    default:
        return true;
    }
}

/* A failure of a connection that was open: the server closed it (it
 * restarted, or dropped an idle client).  libmemcached reconnects on the
 * next call, so one more try answers from the server that is back. */
static bool stale_connection(memcached_return_t rc)
{
    return rc == MEMCACHED_CONNECTION_FAILURE || rc == MEMCACHED_WRITE_FAILURE ||
           rc == MEMCACHED_READ_FAILURE || rc == MEMCACHED_UNKNOWN_READ_FAILURE;
}

/* Whether to try an operation again: once on the key's new server right
 * after its old one was ejected, or once on a fresh connection after an
 * open one failed; never more than twice in all, and never after a
 * timeout (a slow server would only be asked to be slow again). */
static bool try_again(bool ejected, memcached_return_t rc, int attempt)
{
    return attempt < 2 && (ejected || (attempt == 0 && stale_connection(rc)));
}

/* Before an operation: notice a fork (one getpid per operation, not per
 * key).  false when a fresh memcached_st cannot be made. */
static bool own(fcd_cache_t *c, struct mc *m)
{
    if (m->pid == getpid())
        return true;
    /* Abandon the parent's memcached_st (see top of file); a handle forked
     * twice abandons only the latest. */
    if (m->mc)
        m->inherited = m->mc;
    m->mc = NULL;
    if (setup(c, m) != FCD_CACHE_OK)
        return false;
    for (size_t i = 0; i < m->nservers; i++)
        m->servers[i].failures = 0, m->servers[i].skip_until = 0;
    return true;
}

/*
 * Before an operation on a key: the server the key maps to, its slot in
 * m->servers, or -1 when it is being skipped (the message is set).
 */
static int pick(fcd_cache_t *c, struct mc *m, const char *key, size_t klen, size_t *slot)
{
    const memcached_instance_st *inst;
    memcached_return_t rc;
    time_t now;

    inst = memcached_server_by_key(m->mc, key, klen, &rc);
    *slot = m->nservers;
    if (!inst)
        return 0;
    for (size_t i = 0; i < m->nservers; i++) {
        if (memcached_server_instance_by_position(m->mc, (uint32_t)i) == inst) {
            *slot = i;
            break;
        }
    }
    if (*slot == m->nservers)
        return 0;
    now = time(NULL);
    if (m->servers[*slot].skip_until > now) {
        struct mc_server *s = &m->servers[*slot];
        fcd_cache_fail(c, FCD_CACHE_DECLINED,
                       "memcached %s:%u skipped for %lds more after %u failures in a row",
                       s->host, s->port, (long)(s->skip_until - now), m->failure_limit);
        return -1;
    }
    return 0;
}

/* After an operation: count the server's failures in a row; at the limit,
 * skip it and take it off the continuum for dead_s seconds.  Returns true
 * when this call took it off a continuum that has other servers: the key
 * now maps to one of them, and the caller asks that one at once rather
 * than computing without the cache (otherwise every dead_s the dead
 * server's keys would be recomputed, worker by worker). */
static bool judge(struct mc *m, size_t slot, memcached_return_t rc)
{
    struct mc_server *s;
    time_t now;

    if (slot >= m->nservers)
        return false;
    s = &m->servers[slot];
    if (!liveness_failure(rc)) {
        s->failures = 0;
        return false;
    }
    /* libmemcached answering "marked dead" or "disabled until timed
     * retry" has judged the server itself, without I/O: no reason to wait
     * for more failures before moving its keys. */
    if (rc == MEMCACHED_SERVER_MARKED_DEAD || rc == MEMCACHED_SERVER_TEMPORARILY_DISABLED)
        s->failures = m->failure_limit;
    else if (++s->failures < m->failure_limit)
        return false;
    now = time(NULL);
    s->skip_until = now + (time_t)m->dead_s;
    /* One more failure after the pause skips it again at once. */
    s->failures = m->failure_limit - 1;
    if (m->nservers > 1) {
        memcached_instance_next_retry(memcached_server_instance_by_position(m->mc, (uint32_t)slot),
                                      s->skip_until);
        /* Re-setting the distribution rebuilds the continuum, leaving out
         * servers whose retry time is ahead (REMOVE_FAILED_SERVERS); it is
         * rebuilt again by libmemcached when that time passes. */
        memcached_behavior_set(m->mc, MEMCACHED_BEHAVIOR_DISTRIBUTION,
                               MEMCACHED_DISTRIBUTION_CONSISTENT_KETAMA);
        return true;
    }
    return false;
}

static fcd_cache_status_t mc_get(fcd_cache_t *c, const char *key, size_t klen, void **val,
                                 size_t *len)
{
    struct mc *m = c->impl;
    memcached_return_t rc;
    uint32_t flags = 0;
    size_t slot;
    char *v;

    if (!own(c, m))
        return FCD_CACHE_DECLINED;
    for (int attempt = 0;; attempt++) {
        if (pick(c, m, key, klen, &slot) < 0)
            return FCD_CACHE_DECLINED;
        v = memcached_get(m->mc, key, klen, len, &flags, &rc);
        if (!try_again(judge(m, slot, rc), rc, attempt))
            break;
        free(v);
    }
    if (rc == MEMCACHED_SUCCESS) {
        *val = v;
        return FCD_CACHE_OK;
    }
    free(v);
    *len = 0;
    if (rc == MEMCACHED_NOTFOUND)
        return FCD_CACHE_MISS;
    if (rc == MEMCACHED_MEMORY_ALLOCATION_FAILURE)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "memcached get: out of memory");
    return mc_fail(c, "get", key, rc);
}

/*
 * Several keys in one round trip: memcached_mget sends each server one
 * "get k1 k2 ...\r\n" before reading, so the servers answer in parallel.
 * A key that does not come back is asked again alone with mc_get, which
 * judges its server, moves the key off a dead one and says what failed:
 * mget reports a server's failure only as MEMCACHED_SOME_ERRORS, without
 * saying whose, and a server it cannot connect to while the others answer
 * (a dead server's one retry after dead_s) it passes over in silence,
 * still saying success; taken as a miss, that key would be computed
 * again.  So a hit is one exchange, a real miss pays one more round trip
 * before a computation that costs far more, and a fault costs what the
 * single gets cost.
 */
static fcd_cache_status_t mc_get_multi(fcd_cache_t *c, size_t n, const char *const *keys,
                                       const size_t *klens, void **vals, size_t *lens,
                                       bool *found)
{
    struct mc *m = c->impl;
    size_t slots[FCD_CACHE_MULTI_MAX];
    memcached_result_st result;
    memcached_return_t rc, frc = MEMCACHED_END;
    fcd_cache_status_t st = FCD_CACHE_OK;
    bool all = true;

    if (!own(c, m))
        return FCD_CACHE_DECLINED;
    for (size_t i = 0; i < n; i++)
        if (pick(c, m, keys[i], klens[i], &slots[i]) < 0)
            return FCD_CACHE_DECLINED;
    if (!memcached_result_create(m->mc, &result))
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "memcached get: out of memory");
    rc = memcached_mget(m->mc, keys, klens, n);
    /* Read what came, even after a partial failure: the servers that were
     * asked answer, and their replies must not stay in the sockets. */
    while (memcached_fetch_result(m->mc, &result, &frc)) {
        const char *k = memcached_result_key_value(&result);
        size_t kl = memcached_result_key_length(&result);

        for (size_t i = 0; i < n; i++) {
            if (found[i] || klens[i] != kl || memcmp(keys[i], k, kl) != 0)
                continue;
            lens[i] = memcached_result_length(&result);
            vals[i] = memcached_result_take_value(&result);
            if (!vals[i] && lens[i] > 0) {
                st = fcd_cache_fail(c, FCD_CACHE_ERROR, "memcached get: out of memory");
                break;
            }
            if (lens[i] == 0) {
                free(vals[i]);
                vals[i] = NULL;
            }
            found[i] = true;
            break;
        }
    }
    memcached_result_free(&result);
    if (st != FCD_CACHE_OK) {
        fcd_cache_drop_values(n, vals, lens, found);
        return st;
    }
    if (rc == MEMCACHED_SUCCESS &&
        (frc == MEMCACHED_END || frc == MEMCACHED_NOTFOUND || frc == MEMCACHED_SUCCESS)) {
        for (size_t i = 0; i < n; i++) {
            if (found[i])
                judge(m, slots[i], MEMCACHED_SUCCESS);
            all &= found[i];
        }
        if (all)
            return FCD_CACHE_OK;
    }
    return fcd_cache_get_rest(c, n, keys, klens, vals, lens, found);
}

static fcd_cache_status_t mc_store(fcd_cache_t *c, enum fcd_cache_store_mode mode,
                                   const char *key, size_t klen, const void *val, size_t len,
                                   unsigned ttl)
{
    struct mc *m = c->impl;
    memcached_return_t rc;
    size_t slot;

    if (!own(c, m))
        return FCD_CACHE_DECLINED;
    for (int attempt = 0;; attempt++) {
        if (pick(c, m, key, klen, &slot) < 0)
            return FCD_CACHE_DECLINED;
        if (mode == FCD_CACHE_STORE_ADD)
            rc = memcached_add(m->mc, key, klen, val, len, (time_t)ttl, 0);
        else
            rc = memcached_set(m->mc, key, klen, val, len, (time_t)ttl, 0);
        if (!try_again(judge(m, slot, rc), rc, attempt))
            break;
    }
    switch (rc) {
    case MEMCACHED_SUCCESS:
    case MEMCACHED_STORED:
        return FCD_CACHE_OK;
    case MEMCACHED_NOTSTORED:
    case MEMCACHED_DATA_EXISTS:
        if (mode == FCD_CACHE_STORE_ADD)
            return FCD_CACHE_MISS;
        break;
    case MEMCACHED_E2BIG:
        /* The "error 37 ... SUCCESS" of other clients: say what it is. */
        return fcd_cache_fail(c, FCD_CACHE_DECLINED,
                              "memcached refused %zu bytes for %.64s as too large for its item "
                              "size limit (-I); lower item_max in the cache URL",
                              len, key);
    case MEMCACHED_MEMORY_ALLOCATION_FAILURE:
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "memcached store: out of memory");
    default:
        break;
    }
    return mc_fail(c, mode == FCD_CACHE_STORE_ADD ? "add" : "set", key, rc);
}

static fcd_cache_status_t mc_del(fcd_cache_t *c, const char *key, size_t klen)
{
    struct mc *m = c->impl;
    memcached_return_t rc;
    size_t slot;

    if (!own(c, m))
        return FCD_CACHE_DECLINED;
    for (int attempt = 0;; attempt++) {
        if (pick(c, m, key, klen, &slot) < 0)
            return FCD_CACHE_DECLINED;
        rc = memcached_delete(m->mc, key, klen, 0);
        if (!try_again(judge(m, slot, rc), rc, attempt))
            break;
    }
    if (rc == MEMCACHED_SUCCESS || rc == MEMCACHED_DELETED)
        return FCD_CACHE_OK;
    if (rc == MEMCACHED_NOTFOUND)
        return FCD_CACHE_MISS;
    return mc_fail(c, "delete", key, rc);
}

const fcd_cache_ops_t fcd_cache_memcached_ops = {
    .scheme = "memcached",
    .item_max = FCD_CACHE_MEMCACHED_ITEM_MAX,
    .open = mc_open,
    .get = mc_get,
    .get_multi = mc_get_multi,
    .store = mc_store,
    .del = mc_del,
    .close = mc_close,
};
