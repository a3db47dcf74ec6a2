/*
 * cache/backend.h - one small interface over the places a worker can keep
 * shared values: memcached, a directory, its own memory, or nowhere.
 *
 * A worker opens one handle (fcd_cache_t) at start-up, after it is forked,
 * and keeps it for its whole life: the memcached backend holds one
 * memcached_st, hence one connection per server, per worker, never one per
 * request.  The handle is caller-owned; nothing in cache/ keeps global
 * mutable state, prints or exits.
 *
 * The backend is chosen by one URL-like setting (FCD_CACHE_ENV):
 *
 *   memcached://h1:11211,h2:11212    libmemcached, text protocol, ketama
 *   file:///var/cache/app?threshold=200
 *   memory://                         this process only (tests, 1 worker)
 *   none://                           always a miss
 *   (unset or empty)                  file:// in a per-user runtime dir
 *
 * Any URL may carry the settings of fcd_cache_settings_t and its backend's
 * own ones as a query string (?lock_ttl=30&wait_ms=20000); cache/README.md
 * lists them all with their defaults.  An unknown setting is an error, so a
 * typo never passes silently.
 *
 * Every operation returns one of four codes and keeps "degraded" apart from
 * "failed": a server that is down, slow or refusing yields
 * FCD_CACHE_DECLINED, which a caller treats as a miss it should not retry,
 * never as the request's failure.  The text of the last DECLINED or ERROR is
 * kept in the handle (fcd_cache_error).
 *
 * Keys are 1..FCD_CACHE_KEY_MAX bytes of printable ASCII without spaces
 * (0x21..0x7e), so every backend can hold them verbatim; cache/memoize.h
 * builds such keys from arbitrary input.  Values are bytes, of any content,
 * up to the backend's item limit (settings.item_max); cache/memoize.h splits
 * larger values into chunks.
 */
#ifndef FCD_CACHE_BACKEND_H
#define FCD_CACHE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#define FCD_CACHE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define FCD_CACHE_PRINTF(f, a)
#endif

/* The setting a runtime reads the cache URL from. */
#define FCD_CACHE_ENV "FCDASH_CACHE"

/* memcached's key limit (250 bytes, MEMCACHED_MAX_KEY - 1). */
#define FCD_CACHE_KEY_MAX 250
/* memcached reads a TTL above 30 days as an absolute Unix time; longer
 * TTLs are clamped to this so every backend agrees on what a TTL means. */
#define FCD_CACHE_TTL_MAX (30u * 24 * 3600)
/* Most keys one fcd_cache_get_multi() fetches. */
#define FCD_CACHE_MULTI_MAX 32
/* Room for one error message, terminator included. */
#define FCD_CACHE_ERR_MAX 256
/* Longest app name used in keys, shm names and directories; longer names
 * are refused at open. */
#define FCD_CACHE_APP_MAX 64
/* Longest cache URL accepted. */
#define FCD_CACHE_URL_MAX 1024

/* Defaults of fcd_cache_settings_t (see cache/README.md). */
#define FCD_CACHE_LOCK_TTL_DEFAULT 30u        /* s, single-flight lock */
#define FCD_CACHE_WAIT_MS_DEFAULT 20000u      /* ms, wait for another computation */
#define FCD_CACHE_VALUE_MAX_DEFAULT (64u << 20) /* bytes, largest memoized value */
#define FCD_CACHE_COMPRESS_MIN_DEFAULT 1024u  /* bytes, compress from this size */
/* The largest item the memcached backend sends: the server's default -I 1m
 * counts the key and the item header (~60 bytes) inside its megabyte, so
 * 1 KiB is kept back for them. */
#define FCD_CACHE_MEMCACHED_ITEM_MAX ((1u << 20) - 1024u)
/* The file and memory backends take items of any size up to this. */
#define FCD_CACHE_ITEM_MAX_UNLIMITED ((size_t)1 << 40)

/* The closed set of outcomes, like nginx's NGX_OK / NGX_DECLINED /
 * NGX_ERROR with a miss beside them. */
typedef enum fcd_cache_status {
    FCD_CACHE_OK = 0,       /* done (get: found; add: stored; lock: taken) */
    FCD_CACHE_MISS = 1,     /* get: absent or expired; add: key exists;
                               delete: absent; lock: held elsewhere */
    FCD_CACHE_DECLINED = 2, /* degraded: the backend is down, slow, full or
                               refused the value; carry on without it */
    FCD_CACHE_ERROR = 3     /* failed: misuse, bad key, out of memory */
} fcd_cache_status_t;

/* Settings shared by every backend; defaults from the #defines above,
 * overridable in the URL's query string or by writing to the struct that
 * fcd_cache_settings() returns before first use. */
typedef struct fcd_cache_settings {
    size_t item_max;     /* largest value one backend item holds */
    size_t value_max;    /* largest memoized value cached (raw and stored) */
    size_t compress_min; /* memoized values from this size are lz4-compressed */
    unsigned lock_ttl;   /* s: a dead lock holder blocks others at most this */
    unsigned wait_ms;    /* ms: the longest a miss waits for another
                            process's computation before computing itself */
} fcd_cache_settings_t;

typedef struct fcd_cache fcd_cache_t;
struct fcd_cache_stats; /* cache/stats.h */

/* A single-flight lock taken with fcd_cache_lock(); caller-owned, on the
 * stack is fine.  Zero it before use. */
typedef struct fcd_cache_lock {
    bool held;
    int fd;                           /* file backend: the flock'ed file */
    uint64_t token;                   /* add-based: our value in the key */
    char key[FCD_CACHE_KEY_MAX + 1];  /* add-based: the lock key */
    char path[FCD_CACHE_URL_MAX + 64]; /* file backend: the lock file */
} fcd_cache_lock_t;

/* ---- Opening and closing ------------------------------------------------ */

/*
 * Open the backend `url` names for app `app` (letters, digits, '-', '_',
 * '.'; at most FCD_CACHE_APP_MAX bytes).  NULL or "" means the default, a
 * file backend in fcd_cache_default_dir().  `stats` is borrowed: the
 * counters the backends bump (evictions, errors); NULL for none.
 * On FCD_CACHE_OK *out is a new handle to release with fcd_cache_close().
 * On FCD_CACHE_ERROR *out is NULL and `err` says why (a bad URL, an unknown
 * setting, a directory that cannot be made).  A memcached server that is
 * down is not an error here: libmemcached connects on first use.
 * Open the handle in the process that uses it: a memcached handle carried
 * across fork() is noticed and replaced by a fresh one in the child.
 */
fcd_cache_status_t fcd_cache_open(fcd_cache_t **out, const char *url,
                                  const char *app,
                                  struct fcd_cache_stats *stats, char *err,
                                  size_t errlen);

/* Release a handle and what it holds (connections, a held claim).  NULL is
 * a no-op. */
void fcd_cache_close(fcd_cache_t *c);

/*
 * The default cache directory for `app`: $XDG_RUNTIME_DIR/fcdash-cache/<app>
 * when that variable names an absolute path, else
 * /tmp/fcdash-cache-<uid>/<app>.  Written into buf (NUL-terminated).
 * Returns FCD_CACHE_OK, or FCD_CACHE_ERROR when it does not fit.
 */
fcd_cache_status_t fcd_cache_default_dir(const char *app, char *buf,
                                         size_t len);

/* The scheme of the open backend: "memcached", "file", "memory", "none". */
const char *fcd_cache_scheme(const fcd_cache_t *c);

/* The handle's settings, to read or to change before first use.
 * Borrowed. */
fcd_cache_settings_t *fcd_cache_settings(fcd_cache_t *c);

/* The app name given at open.  Borrowed. */
const char *fcd_cache_app(const fcd_cache_t *c);

/* The counters given at open, or NULL.  Borrowed. */
struct fcd_cache_stats *fcd_cache_stats(const fcd_cache_t *c);

/* The message of the last DECLINED or ERROR outcome ("" if none).
 * Borrowed: valid until the next call on the handle. */
const char *fcd_cache_error(const fcd_cache_t *c);

/* ---- Process-local backends --------------------------------------------- */

/*
 * True when the backend keeps its values inside this process (memory://),
 * so several workers would each hold and compute their own copies and an
 * invalidation would reach one of them.  *why (if not NULL) receives a
 * sentence a runtime can log when it refuses to start; borrowed, static.
 */
bool fcd_cache_is_process_local(const fcd_cache_t *c, const char **why);

/*
 * For a runtime that knows its worker count: FCD_CACHE_OK when `workers`
 * processes may share this backend, else FCD_CACHE_ERROR with the reason in
 * err (a process-local backend and workers > 1).
 */
fcd_cache_status_t fcd_cache_check_workers(const fcd_cache_t *c,
                                           unsigned workers, char *err,
                                           size_t errlen);

/*
 * For a runtime that cannot know its worker count (spawn-fcgi -F N forks
 * workers that know nothing of each other): a process-local backend takes
 * an exclusive lock on <default dir>.memory.lock, held until close, and a
 * second process of the same app on the host is refused with FCD_CACHE_ERROR
 * naming the holder's pid.  A shared backend returns FCD_CACHE_OK and takes
 * nothing.
 */
fcd_cache_status_t fcd_cache_claim_process(fcd_cache_t *c, char *err,
                                           size_t errlen);

/* ---- Operations ---------------------------------------------------------- */

/*
 * Fetch `key`.  On FCD_CACHE_OK *val is a new malloc'd buffer the caller
 * releases with free() (NULL when *len is 0).  FCD_CACHE_MISS: absent or
 * expired.  DECLINED / ERROR: see fcd_cache_error().
 */
fcd_cache_status_t fcd_cache_get(fcd_cache_t *c, const char *key, void **val,
                                 size_t *len);

/*
 * Fetch `n` keys (1..FCD_CACHE_MULTI_MAX) at once: one round trip on
 * memcached (the keys' servers are asked in parallel) and on Redis (MGET),
 * one get after another on the local backends.  On FCD_CACHE_OK, for each
 * i, found[i] says whether keys[i] was there; if so vals[i] is a new
 * malloc'd buffer of lens[i] bytes the caller releases with free() (NULL
 * when lens[i] is 0), else vals[i] is NULL and lens[i] 0.  DECLINED / ERROR
 * (any key's server failed, a bad key): every vals[i] is NULL, see
 * fcd_cache_error().
 */
fcd_cache_status_t fcd_cache_get_multi(fcd_cache_t *c, size_t n,
                                       const char *const *keys, void **vals,
                                       size_t *lens, bool *found);

/* Store `key` unconditionally, expiring after `ttl` seconds (0: never,
 * above FCD_CACHE_TTL_MAX: clamped).  A value over settings.item_max is
 * DECLINED without reaching the backend. */
fcd_cache_status_t fcd_cache_set(fcd_cache_t *c, const char *key,
                                 const void *val, size_t len, unsigned ttl);

/* Store `key` only if it is absent (or expired): FCD_CACHE_OK when stored,
 * FCD_CACHE_MISS when it exists.  Atomic across the processes sharing the
 * backend: the basis of single-flight locks. */
fcd_cache_status_t fcd_cache_add(fcd_cache_t *c, const char *key,
                                 const void *val, size_t len, unsigned ttl);

/* Remove `key`: FCD_CACHE_OK, or FCD_CACHE_MISS when it was absent. */
fcd_cache_status_t fcd_cache_delete(fcd_cache_t *c, const char *key);

/*
 * Take the single-flight lock named `key` for at most `ttl` seconds.
 * FCD_CACHE_OK: taken, release it with fcd_cache_unlock().  FCD_CACHE_MISS:
 * another process holds it.  DECLINED / ERROR: the backend cannot lock.
 * memcached and memory lock with add(key, token, ttl), so a holder that
 * dies blocks others until the TTL passes; the file backend flock()s a lock
 * file, which the kernel releases the moment its holder dies.
 */
fcd_cache_status_t fcd_cache_lock(fcd_cache_t *c, const char *key,
                                  unsigned ttl, fcd_cache_lock_t *lk);

/* Release a lock taken with fcd_cache_lock() (a no-op if not held).  An
 * add-based lock is deleted only while it still holds our token, so a
 * holder whose TTL ran out does not release its successor's lock. */
void fcd_cache_unlock(fcd_cache_t *c, fcd_cache_lock_t *lk);

/* Whether `key` is acceptable to every backend (see the top of file). */
bool fcd_cache_key_ok(const char *key);

/* Whether `app` may name an app in keys, shm segments and directories:
 * 1..FCD_CACHE_APP_MAX of [A-Za-z0-9._-], and not "." or "..". */
bool fcd_cache_app_ok(const char *app);

/* ---- For backend implementations (the cache/ sources only) ------------------------ */

enum fcd_cache_store_mode { FCD_CACHE_STORE_SET, FCD_CACHE_STORE_ADD };

/* One `name=value` setting from the URL's query string. */
typedef struct fcd_cache_param {
    const char *name;
    const char *value;
    bool used;
} fcd_cache_param_t;

#define FCD_CACHE_PARAMS_MAX 16

typedef struct fcd_cache_ops {
    const char *scheme;
    const char *local_reason; /* non-NULL: process-local, and why it matters */
    bool stores_nothing;      /* none://: memoize skips keys and locks */
    size_t item_max;          /* default of settings.item_max */
    /* Parse what follows "scheme://" (the query string removed), consume
     * the params it knows (marking them used), set c->impl. */
    fcd_cache_status_t (*open)(fcd_cache_t *c, const char *rest,
                               fcd_cache_param_t *params, size_t nparams);
    fcd_cache_status_t (*get)(fcd_cache_t *c, const char *key, size_t klen,
                              void **val, size_t *len);
    /* Optional: NULL means one get after another.  Called with 1..
     * FCD_CACHE_MULTI_MAX checked keys and their lengths, vals[] NULL and
     * lens[] 0 and found[] false; on failure it frees what it filled. */
    fcd_cache_status_t (*get_multi)(fcd_cache_t *c, size_t n,
                                    const char *const *keys,
                                    const size_t *klens, void **vals,
                                    size_t *lens, bool *found);
    fcd_cache_status_t (*store)(fcd_cache_t *c, enum fcd_cache_store_mode mode,
                                const char *key, size_t klen, const void *val,
                                size_t len, unsigned ttl);
    fcd_cache_status_t (*del)(fcd_cache_t *c, const char *key, size_t klen);
    /* Optional: NULL means add-based locking. */
    fcd_cache_status_t (*lock)(fcd_cache_t *c, const char *key, size_t klen,
                               fcd_cache_lock_t *lk);
    void (*unlock)(fcd_cache_t *c, fcd_cache_lock_t *lk);
    void (*close)(fcd_cache_t *c);
} fcd_cache_ops_t;

struct fcd_cache {
    const fcd_cache_ops_t *ops;
    void *impl;                    /* the backend's own state */
    fcd_cache_settings_t settings;
    struct fcd_cache_stats *stats; /* borrowed, may be NULL */
    int claim_fd;                  /* fcd_cache_claim_process(), or -1 */
    char app[FCD_CACHE_APP_MAX + 1];
    char err[FCD_CACHE_ERR_MAX];
};

extern const fcd_cache_ops_t fcd_cache_memcached_ops;
extern const fcd_cache_ops_t fcd_cache_file_ops;
extern const fcd_cache_ops_t fcd_cache_memory_ops;
extern const fcd_cache_ops_t fcd_cache_none_ops;

/* Record the message of a DECLINED or ERROR outcome and return `st`. */
fcd_cache_status_t fcd_cache_fail(fcd_cache_t *c, fcd_cache_status_t st,
                                  const char *fmt, ...) FCD_CACHE_PRINTF(3, 4);

/* Free what a failed get_multi filled, and mark every key not found. */
void fcd_cache_drop_values(size_t n, void **vals, size_t *lens, bool *found);

/* For a get_multi: ask each key found[] does not mark yet with the
 * backend's own get, one after another, filling vals/lens/found as
 * get_multi does.  FCD_CACHE_OK, or the first failure, after which every
 * value is dropped. */
fcd_cache_status_t fcd_cache_get_rest(fcd_cache_t *c, size_t n, const char *const *keys,
                                      const size_t *klens, void **vals, size_t *lens,
                                      bool *found);

/* Parse a param as an unsigned number in [lo, hi]; ERROR (with a message
 * in c) when it is not one. */
fcd_cache_status_t fcd_cache_param_num(fcd_cache_t *c,
                                       const fcd_cache_param_t *p,
                                       unsigned long long lo,
                                       unsigned long long hi,
                                       unsigned long long *out);

/* The effective TTL: clamped to FCD_CACHE_TTL_MAX. */
unsigned fcd_cache_ttl(unsigned ttl);

/* Make `path` and its missing parents as directories (mode 0700 for those
 * it creates).  0, or -1 with errno set. */
int fcd_cache_mkdirs(const char *path);

#endif /* FCD_CACHE_BACKEND_H */
