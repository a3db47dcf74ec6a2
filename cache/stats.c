/*
 * cache/stats.c - per-host cache counters in shared memory, their
 * Prometheus text, and a log rate limiter.
 *
 * Segment layout: a 16-byte header (magic, version, counter count) then
 * FCD_CACHE_C_COUNT 64-bit counters.  Creation needs no lock: whoever
 * creates the segment ftruncate()s it to its size, which zero-fills it, and
 * concurrent creators truncate to the same size; the header is written with
 * the same values by everyone, so a reader that maps a segment between its
 * creation and its header write sees zeros, which the check below accepts.
 * Counters are bumped with relaxed __atomic adds: they are totals, no other
 * memory depends on their order.  A segment whose header says another
 * layout (an older fcdash) is not reused; the worker counts locally and the
 * open returns DECLINED with the reason.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/stats.h"
#include "cache/backend.h"

struct shm_header {
    uint32_t magic;
    uint32_t version;
    uint32_t count;
    uint32_t pad;
};

#define SHM_LEN (sizeof(struct shm_header) + FCD_CACHE_C_COUNT * sizeof(uint64_t))

static const struct {
    const char *name;
    const char *help;
} counter_info[FCD_CACHE_C_COUNT] = {
    [FCD_CACHE_C_HITS] = {"hits", "Memoized calls answered from the cache."},
    [FCD_CACHE_C_MISSES] = {"misses", "Memoized calls that found nothing cached."},
    [FCD_CACHE_C_ERRORS] = {"errors", "Cache backend operations that were declined or failed."},
    [FCD_CACHE_C_LOCK_WAITS] = {"lock_waits",
                                "Misses that waited for another process's computation."},
    [FCD_CACHE_C_CHUNKED] = {"chunked_values", "Values stored as chunks under a manifest."},
    [FCD_CACHE_C_EVICTIONS] = {"evictions",
                               "Entries evicted by the file or memory backend's threshold."},
    [FCD_CACHE_C_COMPUTES] = {"computes", "Compute functions run by memoize."},
    [FCD_CACHE_C_UNCACHED] = {"uncached_values", "Results too large to cache, returned uncached."},
};

static int shm_name(const char *app, char *buf, size_t len)
{
    int n = snprintf(buf, len, "/fcdash-%lu-%s", (unsigned long)getuid(), app);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

static void use_local(fcd_cache_stats_t *s)
{
    s->ctr = s->local;
    s->map = NULL;
    s->map_len = 0;
}

fcd_cache_status_t fcd_cache_stats_open(fcd_cache_stats_t *s, const char *app,
                                        char *err, size_t errlen)
{
    char name[FCD_CACHE_APP_MAX + 40];
    struct stat st;
    struct shm_header *h;
    void *map;
    int fd;

    memset(s, 0, sizeof *s);
    use_local(s);
    if (!fcd_cache_app_ok(app) || shm_name(app, name, sizeof name) < 0) {
        snprintf(err, errlen, "cache counters: invalid app name");
        return FCD_CACHE_ERROR;
    }
    memcpy(s->app, app, strlen(app) + 1);

    fd = shm_open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cache counters: shm_open %s: %s; counting in this process only",
                 name, strerror(errno));
        return FCD_CACHE_DECLINED;
    }
    if (fstat(fd, &st) < 0 || (st.st_size != 0 && (size_t)st.st_size != SHM_LEN) ||
        (st.st_size == 0 && ftruncate(fd, (off_t)SHM_LEN) < 0)) {
        snprintf(err, errlen,
                 "cache counters: shared segment %s has another size or cannot be sized "
                 "(an older fcdash?); counting in this process only", name);
        close(fd);
        return FCD_CACHE_DECLINED;
    }
    map = mmap(NULL, SHM_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(err, errlen, "cache counters: mmap %s: %s; counting in this process only",
                 name, strerror(errno));
        return FCD_CACHE_DECLINED;
    }
    h = map;
    /* A zero header is a segment just created (by us or a racing peer). */
    if ((h->magic != 0 && h->magic != FCD_CACHE_SHM_MAGIC) ||
        (h->magic == FCD_CACHE_SHM_MAGIC &&
         (h->version != FCD_CACHE_SHM_VERSION || h->count != FCD_CACHE_C_COUNT))) {
        munmap(map, SHM_LEN);
        snprintf(err, errlen,
                 "cache counters: shared segment %s has another layout "
                 "(an older fcdash?); counting in this process only", name);
        return FCD_CACHE_DECLINED;
    }
    __atomic_store_n(&h->version, FCD_CACHE_SHM_VERSION, __ATOMIC_RELAXED);
    __atomic_store_n(&h->count, (uint32_t)FCD_CACHE_C_COUNT, __ATOMIC_RELAXED);
    __atomic_store_n(&h->magic, FCD_CACHE_SHM_MAGIC, __ATOMIC_RELEASE);
    s->map = map;
    s->map_len = SHM_LEN;
    s->ctr = (uint64_t *)(void *)((char *)map + sizeof *h);
    return FCD_CACHE_OK;
}

void fcd_cache_stats_close(fcd_cache_stats_t *s)
{
    if (!s)
        return;
    if (s->map)
        munmap(s->map, s->map_len);
    use_local(s);
}

int fcd_cache_stats_unlink(const char *app)
{
    char name[FCD_CACHE_APP_MAX + 40];

    if (!fcd_cache_app_ok(app) || shm_name(app, name, sizeof name) < 0) {
        errno = EINVAL;
        return -1;
    }
    return shm_unlink(name);
}

void fcd_cache_stats_add(fcd_cache_stats_t *s, fcd_cache_counter_t which, uint64_t n)
{
    if (s && s->ctr && (unsigned)which < FCD_CACHE_C_COUNT)
        __atomic_fetch_add(&s->ctr[which], n, __ATOMIC_RELAXED);
}

uint64_t fcd_cache_stats_get(const fcd_cache_stats_t *s, fcd_cache_counter_t which)
{
    if (!s || !s->ctr || (unsigned)which >= FCD_CACHE_C_COUNT)
        return 0;
    return __atomic_load_n(&s->ctr[which], __ATOMIC_RELAXED);
}

/* Append like snprintf, tracking the total needed even past the end. */
static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
    FCD_CACHE_PRINTF(4, 5);

static void put(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(*pos < len ? buf + *pos : NULL, *pos < len ? len - *pos : 0, fmt, ap);
    va_end(ap);
    if (n > 0)
        *pos += (size_t)n;
}

size_t fcd_cache_metrics_text(const fcd_cache_stats_t *s, char *buf, size_t len)
{
    size_t pos = 0;
    /* App names are [A-Za-z0-9._-] (checked at open), so the label value
     * needs no escaping. */
    const char *app = s && s->app[0] ? s->app : "";

    if (len > 0)
        buf[0] = '\0';
    for (unsigned i = 0; i < FCD_CACHE_C_COUNT; i++) {
        put(buf, len, &pos, "# HELP fcdash_cache_%s_total %s\n", counter_info[i].name,
            counter_info[i].help);
        put(buf, len, &pos, "# TYPE fcdash_cache_%s_total counter\n", counter_info[i].name);
        put(buf, len, &pos, "fcdash_cache_%s_total{app=\"%s\"} %llu\n", counter_info[i].name,
            app, (unsigned long long)fcd_cache_stats_get(s, (fcd_cache_counter_t)i));
    }
    return pos;
}

void fcd_cache_ratelimit_init(fcd_cache_ratelimit_t *rl, unsigned interval, unsigned burst)
{
    memset(rl, 0, sizeof *rl);
    rl->interval = interval ? interval : FCD_CACHE_LOG_INTERVAL_DEFAULT;
    rl->burst = burst ? burst : FCD_CACHE_LOG_BURST_DEFAULT;
}

bool fcd_cache_ratelimit_allow(fcd_cache_ratelimit_t *rl, time_t now, uint64_t *suppressed)
{
    /* A clock that stepped back starts a new window rather than
     * silencing the log until it catches up. */
    if (now < rl->window || now - rl->window >= (time_t)rl->interval) {
        rl->window = now;
        rl->used = 0;
    }
    if (rl->used >= rl->burst) {
        rl->suppressed++;
        return false;
    }
    rl->used++;
    if (suppressed)
        *suppressed = rl->suppressed;
    rl->suppressed = 0;
    return true;
}
