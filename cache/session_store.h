/*
 * cache/session_store.h - what the server keeps per session (the guide's
 * Example 4): named values under the session's storage key, a single-flight
 * compute helper, and a bound on the number of sessions per app, on every
 * backend.
 *
 * Where things live (every key under the app's "fcds:<app>:" namespace,
 * which memoize ("fcd:") and other apps cannot reach):
 *
 *   fcds:<app>:<hex>:<name>       a session's value `name` (the bytes as
 *                                 given: no header, no compression)
 *   fcds:<app>:<hex>:<name>:lock  single-flight lock of that value
 *   fcds:<app>:<hex>              the session's record: the names it has
 *                                 stored and when it last refreshed its
 *                                 place in the index (owned by this module)
 *   fcds:<app>:index              the app's index: one entry per session
 *                                 (hash, last use, expiry) in least- to
 *                                 most-recently-used order; no expiry
 *   fcds:<app>:index:lock         the lock every index update holds
 *
 * <hex> is the 64 hex digits of fcd_session_storage_key(), derived from a
 * verified session, never from client text.
 *
 * The bound: a session enters the index when it first stores a value, and
 * a session that enters past `threshold` evicts the least recently used
 * ones (record and values deleted) under the index lock.  A session's use
 * refreshes its place at most once per `touch_s` seconds (its record says
 * when it last did), so the hit path is two gets and no lock.  What holds,
 * and the slack, are spelled out in cache/SESSION.md ("Per-session values")
 * and at the top of session_store.c.
 *
 * Fail-open: a backend that is down or slow makes get/set return
 * FCD_CACHE_DECLINED and memo compute locally and return DECLINED with a
 * message; none:// stores nothing (memo computes every time, OK).
 *
 * Nothing here prints, exits or keeps global state; the conf is read-only
 * after load and may live in frozen app data.  A cache handle is used by one
 * thread at a time, as everywhere in cache/.
 */
#ifndef FCD_CACHE_SESSION_STORE_H
#define FCD_CACHE_SESSION_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "cache/backend.h"
#include "cache/memoize.h"
#include "cache/session.h"

/* Settings read by fcd_session_store_conf_load(). */
#define FCD_SESSION_THRESHOLD_ENV "FCDASH_SESSION_THRESHOLD"
#define FCD_SESSION_TOUCH_ENV "FCDASH_SESSION_TOUCH"

/* Most sessions per app with values stored (flask-caching's threshold in
 * the guide): default and bounds.  The top bound keeps the index (48 bytes
 * a session) inside one memcached item. */
#define FCD_SESSION_THRESHOLD_DEFAULT 200u
#define FCD_SESSION_THRESHOLD_MIN 1u
#define FCD_SESSION_THRESHOLD_MAX 20000u
/* A session refreshes its place in the LRU order at most this often,
 * seconds; 0 refreshes on every use (tests). */
#define FCD_SESSION_TOUCH_DEFAULT 30u
#define FCD_SESSION_TOUCH_MAX 3600u

/* Most distinct value names one session may store. */
#define FCD_SESSION_STORE_NAMES_MAX 16
/* The index lock: its TTL (a dead holder blocks index updates at most this
 * long on memcached and memory; the file backend's flock dies with it),
 * and how long entering a session waits for it by default before giving up
 * (DECLINED; the conf's lock_wait_ms). */
#define FCD_SESSION_STORE_LOCK_TTL 5u
#define FCD_SESSION_STORE_LOCK_WAIT_MS 3000u
/* Most sessions one index update evicts, so an update stays far inside the
 * lock's TTL; more (after the threshold was lowered) go in later updates. */
#define FCD_SESSION_STORE_EVICT_MAX 64u
/* The index's layout: a header, then one entry per session. */
#define FCD_SESSION_STORE_INDEX_HDR 32u
#define FCD_SESSION_STORE_ENTRY 48u
/* The index key's suffix; no session key ends this way (64 hex digits). */
#define FCD_SESSION_STORE_INDEX_NAME "index"

/* The store's settings for one app.  Caller-owned; filled by
 * fcd_session_store_conf_init() or _load(), read-only afterwards. */
typedef struct fcd_session_store_conf {
    const fcd_session_conf_t *session; /* borrowed: the app name and key
                                          derivation; must outlive this */
    unsigned threshold;                /* most sessions with values */
    unsigned touch_s;                  /* LRU refresh interval, seconds */
    unsigned lock_wait_ms;             /* longest wait for the index lock
                                          (FCD_SESSION_STORE_LOCK_WAIT_MS) */
} fcd_session_store_conf_t;

/*
 * Set `sc` to the defaults for the sessions of `session` (borrowed, kept by
 * pointer).  Never fails.
 */
void fcd_session_store_conf_init(fcd_session_store_conf_t *sc,
                                 const fcd_session_conf_t *session);

/*
 * fcd_session_store_conf_init(), then FCDASH_SESSION_THRESHOLD (a whole
 * number from FCD_SESSION_THRESHOLD_MIN to _MAX) and FCDASH_SESSION_TOUCH
 * (whole seconds, 0 to FCD_SESSION_TOUCH_MAX) from the environment; unset
 * or empty keeps the default.  FCD_CACHE_OK, or FCD_CACHE_ERROR with the
 * reason in err (a malformed or out-of-range value: refuse to start).
 */
fcd_cache_status_t fcd_session_store_conf_load(fcd_session_store_conf_t *sc,
                                               const fcd_session_conf_t *session,
                                               char *err, size_t errlen);

/*
 * Fetch session `s`'s value `name` (1..FCD_SESSION_NAME_MAX of
 * [A-Za-z0-9._-]).  `s` is a verified or minted session.
 * FCD_CACHE_OK: *val is a new malloc'd buffer of *len bytes (NULL when 0),
 * the caller free()s it; a hit also refreshes the session's place in the
 * LRU order when touch_s has passed (a refresh never waits for the index
 * lock: when another process holds it, the next use refreshes).
 * FCD_CACHE_MISS: never stored, expired, evicted, or the session id has
 * expired.  FCD_CACHE_DECLINED: the backend is degraded (treat as a miss;
 * log fcd_cache_error(c)).  FCD_CACHE_ERROR: a bad name or argument, out
 * of memory (fcd_cache_error(c)).
 */
fcd_cache_status_t fcd_session_store_get(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                         const fcd_session_t *s, const char *name, void **val,
                                         size_t *len);

/*
 * Store `len` bytes at `val` (copied) as session `s`'s value `name`,
 * expiring after `ttl` seconds (0: when the session's id expires; never
 * later than that).  A session storing its first value enters the index
 * and may evict the least recently used others.
 * FCD_CACHE_OK: stored (none://: nothing stored).  FCD_CACHE_DECLINED:
 * not stored: the backend is degraded, the value is over its item limit,
 * the index stayed locked, or the session id has expired
 * (fcd_cache_error(c) says which).  FCD_CACHE_ERROR: a bad name or
 * argument, more than FCD_SESSION_STORE_NAMES_MAX names, out of memory.
 */
fcd_cache_status_t fcd_session_store_set(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                         const fcd_session_t *s, const char *name,
                                         const void *val, size_t len, unsigned ttl);

/*
 * Session `s`'s value `name`, computed by `compute` (called with `ctx`;
 * see fcd_memo_compute_fn in memoize.h) when it is not stored, then stored
 * as by fcd_session_store_set() with `ttl`.  Single-flight across
 * processes: when several requests of one session ask at once, one
 * computes and the others wait (backoff FCD_MEMO_BACKOFF_*, at most the
 * cache's wait_ms; the lock's TTL is its lock_ttl) and read its value.
 *
 * Returns, with *res filled (release it with fcd_memo_release() in every
 * case; res->source says hit, waited, computed or local):
 *   FCD_CACHE_OK        res->data is the value;
 *   FCD_CACHE_DECLINED  res->data is the value, but the store was degraded
 *                       (backend down or slow, value not stored, wait
 *                       bound reached, expired session): log res->msg;
 *   FCD_CACHE_ERROR     no value: a bad name or argument, the compute
 *                       function failed (res->msg is its message), or out
 *                       of memory.
 */
fcd_cache_status_t fcd_session_store_memo(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                          const fcd_session_t *s, const char *name,
                                          unsigned ttl, fcd_memo_compute_fn compute, void *ctx,
                                          fcd_memo_result_t *res);

/*
 * Drop session `s` and all its values (a logout), under the index lock.
 * FCD_CACHE_OK: dropped; FCD_CACHE_MISS: it had nothing stored;
 * DECLINED / ERROR: fcd_cache_error(c) (then it may remain).
 */
fcd_cache_status_t fcd_session_store_drop(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                          const fcd_session_t *s);

/*
 * The number of sessions the app's index holds now (expired ones not
 * counted), into *count: for metrics and tests.  FCD_CACHE_OK (0 when
 * there is no index, and always on none://), or DECLINED / ERROR with
 * fcd_cache_error(c).
 */
fcd_cache_status_t fcd_session_store_count(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                           size_t *count);

/*
 * The most sessions kept with cache `c`: the threshold, or fewer when the
 * backend's item limit cannot hold an index that long.  Pure.
 */
size_t fcd_session_store_bound(const fcd_cache_t *c, const fcd_session_store_conf_t *sc);

#endif /* FCD_CACHE_SESSION_STORE_H */
