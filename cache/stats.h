/*
 * cache/stats.h - the cache's counters, shared by every worker of an app on
 * one host, and a rate limiter for the log lines the cache's faults cause.
 *
 * The counters live in a small POSIX shared-memory segment named after the
 * user and the app (/fcdash-<uid>-<app>), mapped by each worker and bumped
 * with relaxed atomic adds, so any worker can answer the metrics endpoint
 * with the host's totals.  The segment outlives the workers (a restart does
 * not reset the totals, as Prometheus counters expect); it is removed only
 * by fcd_cache_stats_unlink().  When shared memory is not available the
 * counters fall back to this process's own and the open says so with
 * FCD_CACHE_DECLINED: degraded, not failed.
 *
 * The struct is caller-owned (no global state); a NULL stats pointer is
 * accepted everywhere and counts nothing.
 */
#ifndef FCD_CACHE_STATS_H
#define FCD_CACHE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cache/backend.h"

typedef enum fcd_cache_counter {
    FCD_CACHE_C_HITS = 0,    /* memoized calls answered from the cache */
    FCD_CACHE_C_MISSES,      /* memoized calls that found nothing cached */
    FCD_CACHE_C_ERRORS,      /* backend operations DECLINED or failed */
    FCD_CACHE_C_LOCK_WAITS,  /* misses that waited for another computation */
    FCD_CACHE_C_CHUNKED,     /* values stored as chunks under a manifest */
    FCD_CACHE_C_EVICTIONS,   /* entries the file/memory backends evicted */
    FCD_CACHE_C_COMPUTES,    /* compute functions run by memoize */
    FCD_CACHE_C_UNCACHED,    /* results too large to cache, returned as is */
    FCD_CACHE_C_COUNT
} fcd_cache_counter_t;

/* Room for fcd_cache_metrics_text() whatever the app name and counts. */
#define FCD_CACHE_METRICS_MAX 4096

/* The segment's layout; its version changes with the counter list. */
#define FCD_CACHE_SHM_MAGIC 0x46434443u /* "FCDC" */
#define FCD_CACHE_SHM_VERSION 1u

typedef struct fcd_cache_stats {
    uint64_t *ctr;            /* FCD_CACHE_C_COUNT counters: shm or local */
    void *map;                /* the mapping, or NULL when local */
    size_t map_len;
    uint64_t local[FCD_CACHE_C_COUNT];
    char app[FCD_CACHE_APP_MAX + 1];
} fcd_cache_stats_t;

/*
 * Map (creating if needed) the counters of `app` on this host into *s.
 * FCD_CACHE_OK: shared.  FCD_CACHE_DECLINED: shm_open/mmap failed or an
 * incompatible segment exists; *s counts locally and err says why.
 * FCD_CACHE_ERROR: `app` is not a valid name; *s is unusable.
 */
fcd_cache_status_t fcd_cache_stats_open(fcd_cache_stats_t *s, const char *app,
                                        char *err, size_t errlen);

/* Unmap.  The segment stays for the other workers.  NULL is a no-op. */
void fcd_cache_stats_close(fcd_cache_stats_t *s);

/* Remove the segment of `app` (tests, uninstall).  0 or -1 with errno. */
int fcd_cache_stats_unlink(const char *app);

/* Add n to a counter (atomic; NULL-safe). */
void fcd_cache_stats_add(fcd_cache_stats_t *s, fcd_cache_counter_t which,
                         uint64_t n);

/* Read a counter (0 for NULL). */
uint64_t fcd_cache_stats_get(const fcd_cache_stats_t *s,
                             fcd_cache_counter_t which);

/*
 * Write the counters as Prometheus text exposition format (version 0.0.4)
 * into buf, NUL-terminated, truncated to len like snprintf.  Each counter is
 * fcdash_cache_<name>_total{app="<app>"}.  Returns the length the full text
 * needs (not counting the NUL): a result >= len means buf was too small.
 * FCD_CACHE_METRICS_MAX is always enough (the longest text is ~2 KB).
 */
size_t fcd_cache_metrics_text(const fcd_cache_stats_t *s, char *buf,
                              size_t len);

/* ---- Rate-limited logging ------------------------------------------------ */

/* Allow `burst` log lines per `interval` seconds; count the rest.
 * Caller-owned; one per kind of message and process. */
typedef struct fcd_cache_ratelimit {
    unsigned interval;
    unsigned burst;
    unsigned used;            /* lines allowed in this window */
    time_t window;            /* start of the window */
    uint64_t suppressed;      /* lines refused since the last allowed one */
} fcd_cache_ratelimit_t;

#define FCD_CACHE_LOG_INTERVAL_DEFAULT 10u /* s */
#define FCD_CACHE_LOG_BURST_DEFAULT 5u     /* lines per interval */

void fcd_cache_ratelimit_init(fcd_cache_ratelimit_t *rl, unsigned interval,
                              unsigned burst);

/*
 * Whether a line may be logged at time `now`.  When it may, *suppressed
 * (if not NULL) receives how many were refused since the last allowed one,
 * for a "(N similar messages suppressed)" suffix, and the count restarts.
 */
bool fcd_cache_ratelimit_allow(fcd_cache_ratelimit_t *rl, time_t now,
                               uint64_t *suppressed);

#endif /* FCD_CACHE_STATS_H */
