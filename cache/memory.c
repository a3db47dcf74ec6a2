/*
 * cache/memory.c - the in-process backend, for tests and single-worker
 * development.
 *
 * A chained hash table (FNV-1a; the keys reaching it are memoize's, already
 * hashes) plus a list in insertion order for oldest-first eviction, bounded
 * by an entry count (`threshold`) and a byte total (`max_bytes`).  Past
 * either bound, expired entries go first, then the oldest entries with a
 * TTL, then the oldest without one.  Expiry uses CLOCK_MONOTONIC: nothing
 * outside this process reads these entries.
 *
 * Values live in this process only, so the backend says it is process-local
 * (fcd_cache_is_process_local) and a runtime refuses it under more than one
 * worker.  Each entry is one allocation (header, key, value); get returns a
 * copy, because the entry may be evicted before the caller is done.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache/backend.h"
#include "cache/stats.h"

#define MEM_THRESHOLD_DEFAULT 1000u
#define MEM_BYTES_DEFAULT ((size_t)256 << 20)

struct ent {
    struct ent *hnext;       /* bucket chain */
    struct ent *prev, *next; /* insertion order, oldest first */
    uint64_t hash;
    int64_t expiry;          /* monotonic seconds; 0: never */
    size_t klen, vlen;
    char key[];              /* key, NUL, value */
};

struct mem {
    struct ent **buckets;
    size_t nbuckets; /* a power of two */
    struct ent *head, *tail;
    size_t count, bytes;
    size_t threshold, max_bytes;
};

static const char local_reason[] =
    "memory:// keeps cached values inside one process, so each worker would compute and hold "
    "its own copy and an invalidation would reach only one of them; use file:///dir or "
    "memcached://host:port with more than one worker.";

static int64_t now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;

    while (n--) {
        h ^= (unsigned char)*p++;
        h *= 1099511628211ull;
    }
    return h;
}

static fcd_cache_status_t mem_open(fcd_cache_t *c, const char *rest, fcd_cache_param_t *params,
                                   size_t nparams)
{
    struct mem *m;

    if (rest[0])
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: memory:// takes no address");
    m = calloc(1, sizeof *m);
    if (!m)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache memory: out of memory");
    m->threshold = MEM_THRESHOLD_DEFAULT;
    m->max_bytes = MEM_BYTES_DEFAULT;
    for (size_t i = 0; i < nparams; i++) {
        unsigned long long v;
        fcd_cache_status_t st = FCD_CACHE_OK;

        if (strcmp(params[i].name, "threshold") == 0) {
            if ((st = fcd_cache_param_num(c, &params[i], 1, 10000000, &v)) == FCD_CACHE_OK)
                m->threshold = (size_t)v;
        } else if (strcmp(params[i].name, "max_bytes") == 0) {
            if ((st = fcd_cache_param_num(c, &params[i], 1, SIZE_MAX / 2, &v)) == FCD_CACHE_OK)
                m->max_bytes = (size_t)v;
        } else {
            continue;
        }
        if (st != FCD_CACHE_OK) {
            free(m);
            return st;
        }
        params[i].used = true;
    }
    m->nbuckets = 64;
    while (m->nbuckets < m->threshold && m->nbuckets < ((size_t)1 << 20))
        m->nbuckets <<= 1;
    m->buckets = calloc(m->nbuckets, sizeof *m->buckets);
    if (!m->buckets) {
        free(m);
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache memory: out of memory");
    }
    c->impl = m;
    return FCD_CACHE_OK;
}

static void unlink_ent(struct mem *m, struct ent *e)
{
    struct ent **pp = &m->buckets[e->hash & (m->nbuckets - 1)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    if (e->prev)
        e->prev->next = e->next;
    else
        m->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        m->tail = e->prev;
    m->count--;
    m->bytes -= e->vlen;
    free(e);
}

static void mem_close(fcd_cache_t *c)
{
    struct mem *m = c->impl;

    for (struct ent *e = m->head, *n; e; e = n) {
        n = e->next;
        free(e);
    }
    free(m->buckets);
    free(m);
    c->impl = NULL;
}

static struct ent *find(struct mem *m, const char *key, size_t klen, uint64_t h)
{
    for (struct ent *e = m->buckets[h & (m->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    return NULL;
}

static bool expired(const struct ent *e, int64_t now)
{
    return e->expiry != 0 && e->expiry <= now;
}

static fcd_cache_status_t mem_get(fcd_cache_t *c, const char *key, size_t klen, void **val,
                                  size_t *len)
{
    struct mem *m = c->impl;
    struct ent *e = find(m, key, klen, fnv1a(key, klen));

    if (!e)
        return FCD_CACHE_MISS;
    if (expired(e, now_s())) {
        unlink_ent(m, e);
        return FCD_CACHE_MISS;
    }
    if (e->vlen > 0) {
        *val = malloc(e->vlen);
        if (!*val)
            return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache memory: out of memory for %zu bytes",
                                  e->vlen);
        memcpy(*val, e->key + klen + 1, e->vlen);
    }
    *len = e->vlen;
    return FCD_CACHE_OK;
}

/* Bring count and bytes back under their bounds (see top of file). */
static void evict(fcd_cache_t *c, struct mem *m)
{
    int64_t now = now_s();
    uint64_t evicted = 0;

    if (m->count <= m->threshold && m->bytes <= m->max_bytes)
        return;
    for (struct ent *e = m->head, *n; e; e = n) {
        n = e->next;
        if (expired(e, now))
            unlink_ent(m, e);
    }
    /* The entry just stored (the tail) stays: over a bound there are at
     * least two entries, as one alone fits both. */
    while (m->count > m->threshold || m->bytes > m->max_bytes) {
        struct ent *v = m->head;
        for (struct ent *e = m->head; e != m->tail; e = e->next) {
            if (e->expiry != 0) {
                v = e;
                break;
            }
        }
        unlink_ent(m, v);
        evicted++;
    }
    fcd_cache_stats_add(c->stats, FCD_CACHE_C_EVICTIONS, evicted);
}

static fcd_cache_status_t mem_store(fcd_cache_t *c, enum fcd_cache_store_mode mode,
                                    const char *key, size_t klen, const void *val, size_t len,
                                    unsigned ttl)
{
    struct mem *m = c->impl;
    uint64_t h = fnv1a(key, klen);
    struct ent *e = find(m, key, klen, h), **b;
    int64_t now = now_s();
    size_t size = sizeof *e + klen + 1;

    if (e && mode == FCD_CACHE_STORE_ADD && !expired(e, now))
        return FCD_CACHE_MISS;
    if (len > m->max_bytes)
        return fcd_cache_fail(c, FCD_CACHE_DECLINED,
                              "cache memory: value of %zu bytes is over max_bytes (%zu)", len,
                              m->max_bytes);
    if (len > SIZE_MAX - size)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache memory: value too large");
    size += len;
    if (e)
        unlink_ent(m, e);
    e = malloc(size);
    if (!e)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache memory: out of memory for %zu bytes",
                              len);
    e->hash = h;
    e->expiry = ttl ? now + (int64_t)ttl : 0;
    e->klen = klen;
    e->vlen = len;
    memcpy(e->key, key, klen);
    e->key[klen] = '\0';
    if (len)
        memcpy(e->key + klen + 1, val, len);
    b = &m->buckets[h & (m->nbuckets - 1)];
    e->hnext = *b;
    *b = e;
    e->next = NULL;
    e->prev = m->tail;
    if (m->tail)
        m->tail->next = e;
    else
        m->head = e;
    m->tail = e;
    m->count++;
    m->bytes += len;
    evict(c, m);
    return FCD_CACHE_OK;
}

static fcd_cache_status_t mem_del(fcd_cache_t *c, const char *key, size_t klen)
{
    struct mem *m = c->impl;
    struct ent *e = find(m, key, klen, fnv1a(key, klen));
    bool alive;

    if (!e)
        return FCD_CACHE_MISS;
    alive = !expired(e, now_s());
    unlink_ent(m, e);
    return alive ? FCD_CACHE_OK : FCD_CACHE_MISS;
}

const fcd_cache_ops_t fcd_cache_memory_ops = {
    .scheme = "memory",
    .local_reason = local_reason,
    .item_max = FCD_CACHE_ITEM_MAX_UNLIMITED,
    .open = mem_open,
    .get = mem_get,
    .store = mem_store,
    .del = mem_del,
    .close = mem_close,
};
