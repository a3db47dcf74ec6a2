/*
 * cache/memoize.h - the C counterpart of flask-caching's @cache.memoize():
 * run a named function once per distinct argument, keep its result in the
 * shared cache, and let every worker, session and later visitor reuse it.
 *
 * What it adds to the Python peers:
 *   - single-flight across processes: when N workers miss the same call at
 *     once, one computes and the others wait (bounded, with backoff) and
 *     read its result;
 *   - fail-open: a backend that is down, slow or refusing makes the call
 *     compute locally and return FCD_CACHE_DECLINED with a message to log
 *     (rate-limited, see fcd_cache_ratelimit_t), never an error;
 *   - values of any size up to settings.value_max: compressed past
 *     settings.compress_min, split into chunks under a manifest past the
 *     backend's item limit, read all-or-nothing and checksummed; a larger
 *     result is returned uncached with a message, never truncated.
 *
 * Keys: fcd:<app>:<function>:<version>:<digest>, where the readable parts
 * are the names with anything outside [A-Za-z0-9._-] replaced and cut short,
 * and the digest is BLAKE2b-256 (base64url) over the full app, function
 * and version names and the canonical arguments.  So a key is at most FCD_MEMO_KEY_LEN_MAX (< 250) printable
 * bytes whatever the input, and no input can address another call's entry.
 *
 * Invalidation: fcd_memo_forget() drops one call's entry;
 * fcd_memo_forget_all() gives the function a new random generation under
 * its own key, stored without expiry.  Every entry carries the generation
 * it was computed under and is a hit only under that one, so every older
 * entry becomes a miss (and is overwritten, or expires).  Were the
 * generation key lost (evicted), the next call draws a new random one: old
 * entries are never resurrected.  A hit reads the generation and the
 * entry in one multi-get: one round trip.
 *
 * A handle is used by one thread at a time (workers are single-threaded).
 */
#ifndef FCD_CACHE_MEMOIZE_H
#define FCD_CACHE_MEMOIZE_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "cache/backend.h"

/* Room for a memoize key and its NUL. */
#define FCD_MEMO_KEY_BUF (FCD_CACHE_KEY_MAX + 1)
/* Longest readable function and version parts of a key. */
#define FCD_MEMO_FN_SHOWN 48
#define FCD_MEMO_VERSION_SHOWN 16
/* The longest key memoize makes, chunk keys included:
 * "fcd:" app ":" fn ":" version ":" 43-char digest, then ":c" 16 hex ":" n. */
#define FCD_MEMO_KEY_LEN_MAX                                                        \
    (4 + FCD_CACHE_APP_MAX + 1 + FCD_MEMO_FN_SHOWN + 1 + FCD_MEMO_VERSION_SHOWN + 1 + \
     43 + 2 + 16 + 1 + 10)
/* Value header: format, flags, lengths, generation, XXH3-128 checksum. */
#define FCD_MEMO_HDR 48
#define FCD_MEMO_FORMAT 2
/* Most chunks one value may have (a manifest claiming more is corrupt). */
#define FCD_MEMO_CHUNKS_MAX 65536u
/* Chunks fetched per multi-get: a round trip per this many, and at most
 * this many chunks (item_max each) held at once besides the value. */
#define FCD_MEMO_CHUNK_BATCH 8u
/* Chunks outlive their manifest by this much, so a reader never finds a
 * live manifest whose chunks have expired. */
#define FCD_MEMO_CHUNK_TTL_MARGIN 60u
/* Waiting for another process's computation: first and longest sleep. */
#define FCD_MEMO_BACKOFF_MIN_MS 2u
#define FCD_MEMO_BACKOFF_MAX_MS 100u
/* Deepest JSON argument canonicalized. */
#define FCD_MEMO_JSON_DEPTH_MAX 64

/* Where a result came from. */
typedef enum fcd_memo_source {
    FCD_MEMO_HIT = 0,  /* read from the cache */
    FCD_MEMO_WAITED,   /* read from the cache after waiting for another
                          process to compute it */
    FCD_MEMO_COMPUTED, /* computed here and stored */
    FCD_MEMO_LOCAL     /* computed here and not stored (see the message) */
} fcd_memo_source_t;

/* A memoized call's result; caller-owned (the stack is fine), released
 * with fcd_memo_release() whatever the status. */
typedef struct fcd_memo_result {
    const unsigned char *data; /* the result's bytes (NULL when len is 0) */
    size_t len;
    fcd_memo_source_t source;
    char msg[FCD_CACHE_ERR_MAX]; /* why, when the status is not FCD_CACHE_OK */
    void *mem;                   /* private: what release frees */
} fcd_memo_result_t;

/*
 * The function being memoized.  It computes from `ctx` (which carries its
 * arguments) and returns:
 *   FCD_CACHE_OK        *out is a malloc'd buffer of *out_len bytes (NULL
 *                       when 0), taken over by memoize, and cached;
 *   FCD_CACHE_DECLINED  the same, but the result must not be cached;
 *   FCD_CACHE_ERROR     it failed; err says why (nothing is cached).
 */
typedef fcd_cache_status_t (*fcd_memo_compute_fn)(void *ctx, void **out, size_t *out_len,
                                                  char *err, size_t errlen);

/*
 * Memoized call of function `fn` (any text; the name keys its entries and
 * its generation), code version `version` (NULL for none; a new version
 * leaves the old entries to expire), arguments `args`/`args_len` (the
 * canonical bytes: equal arguments must give equal bytes), expiring after
 * `ttl` seconds (0: never; clamped to FCD_CACHE_TTL_MAX).
 *
 * Returns, with *res filled (release it in every case):
 *   FCD_CACHE_OK        res->data is the result (hit, or computed and
 *                       stored, or the backend is none://);
 *   FCD_CACHE_DECLINED  res->data is the result, but the cache was
 *                       degraded (down, slow, refusing, value over
 *                       value_max, wait bound reached): log res->msg,
 *                       rate-limited;
 *   FCD_CACHE_ERROR     no result: the compute function failed (res->msg
 *                       is its message) or memory ran out.
 */
fcd_cache_status_t fcd_memo_call(fcd_cache_t *c, const char *fn, const char *version,
                                 const void *args, size_t args_len, unsigned ttl,
                                 fcd_memo_compute_fn compute, void *ctx, fcd_memo_result_t *res);

/* The same with JSON arguments (borrowed), canonicalized as by
 * fcd_memo_canonical_json() and hashed without building the text. */
fcd_cache_status_t fcd_memo_call_json(fcd_cache_t *c, const char *fn, const char *version,
                                      json_object *args, unsigned ttl,
                                      fcd_memo_compute_fn compute, void *ctx,
                                      fcd_memo_result_t *res);

/* Release a result (and zero it).  Safe on a zeroed or released result. */
void fcd_memo_release(fcd_memo_result_t *res);

/* Drop one call's entry: FCD_CACHE_OK when one was dropped, FCD_CACHE_MISS
 * when none was cached, DECLINED/ERROR with fcd_cache_error(c). */
fcd_cache_status_t fcd_memo_forget(fcd_cache_t *c, const char *fn, const char *version,
                                   const void *args, size_t args_len);
fcd_cache_status_t fcd_memo_forget_json(fcd_cache_t *c, const char *fn, const char *version,
                                        json_object *args);

/* Drop every call of `fn`, all versions: a new generation.  FCD_CACHE_OK,
 * or DECLINED/ERROR with fcd_cache_error(c) (then nothing changed). */
fcd_cache_status_t fcd_memo_forget_all(fcd_cache_t *c, const char *fn);

/*
 * The canonical text of a JSON value: object keys sorted bytewise, no
 * white space, strings with '"', '\\' and control bytes escaped (other
 * bytes as they are), integers and integral doubles below 2^53 as
 * integers (so 1 and 1.0 are one argument), other doubles with 17
 * significant digits.  On FCD_CACHE_OK *out is a new malloc'd,
 * NUL-terminated string of *len bytes; FCD_CACHE_ERROR when memory runs
 * out or the value nests deeper than FCD_MEMO_JSON_DEPTH_MAX.
 */
fcd_cache_status_t fcd_memo_canonical_json(json_object *obj, char **out, size_t *len);

/*
 * The entry key of a call (the same under every generation), written into
 * key (NUL-terminated); returns its length, or 0 when app or fn is NULL.
 * Pure: for tests and tools.
 */
size_t fcd_memo_key(const char *app, const char *fn, const char *version, const void *args,
                    size_t args_len, char key[FCD_MEMO_KEY_BUF]);

/*
 * The key holding function fn's generation (one per app and function, all
 * versions), written into key (NUL-terminated); returns its length, or 0
 * when app or fn is NULL.  Pure: for tests and tools.
 */
size_t fcd_memo_gen_key(const char *app, const char *fn, char key[FCD_MEMO_KEY_BUF]);

/* ---- Shared with the session store's single-flight ---------------------- */

/* Monotonic milliseconds. */
int64_t fcd_memo_now_ms(void);
/* Sleep up to `ms` (a signal may cut it short: loops check the clock). */
void fcd_memo_sleep_ms(unsigned ms);
/* The next backoff sleep: *delay plus up to half again of jitter, never
 * past `left` ms; doubles *delay up to `max`. */
unsigned fcd_memo_next_nap(unsigned *delay, unsigned max, int64_t left);
/* Format res->msg. */
void fcd_memo_set_msg(fcd_memo_result_t *res, const char *fmt, ...) FCD_CACHE_PRINTF(2, 3);
/* Why the cache was not used, for res->msg: the backend's last message. */
const char *fcd_memo_why(const fcd_cache_t *c);

#endif /* FCD_CACHE_MEMOIZE_H */
