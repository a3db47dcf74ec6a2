/*
 * cache/session_store.c - per-session values over any backend, bounded in
 * number per app with least-recently-used eviction that this module does
 * itself (memcached's own LRU and the file backend's threshold know nothing
 * of sessions).
 *
 * The index ("fcds:<app>:index", no expiry, so the file and memory
 * backends evict it last) is a list of sessions from least to most recently
 * used.  All integers little-endian:
 *     0  "FSSI"   4 version (1)   5..7 zero   8 count (u32)   12 zero (u32)
 *    16  BLAKE2b-128 of bytes 0..15 and of the entries
 *    32  count entries of 48 bytes: storage hash (32), last use (u64 ms,
 *        wall clock), the session id's expiry (i64 s)
 * An index that is absent, corrupt or of another version is an empty one:
 * losing it loses no session (values and records stay where they are) and
 * the bound re-establishes as sessions refresh their place and new ones
 * enter.
 *
 * A session's record ("fcds:<app>:<hex>", expiring with the session id):
 *     0  "FSSR"   4 version (1)   5 name count   6..7 zero
 *     8  when it last refreshed its index entry (u64 ms, wall clock)
 *    16  the names of the values it stored: a length byte, then the name
 * The record is what lets an eviction find a session's values, and what
 * tells the hit path whether a refresh is due without reading the index.
 *
 * Every index change runs under fcd_cache_lock() on "fcds:<app>:index:lock"
 * (an add with FCD_SESSION_STORE_LOCK_TTL on memcached and memory, an flock
 * on files), waited for with backoff up to the conf's lock_wait_ms:
 * read the index, move the session to the most-recent end (adding it if
 * absent), drop expired entries, cut the oldest past the bound, write the
 * index; then, still under the lock, for each session cut: read its
 * record, delete the record, delete the values it names; then write this
 * session's record (its names, the time of this refresh).
 *
 * Values are written outside the lock, so it stays short whatever their
 * size, and guard against a concurrent eviction by order: the writer sets
 * the value, then makes sure the record names it (reading it, or entering
 * the session under the lock when the session or the name is new); the
 * evicter deletes the record before the values.  Either the writer's look
 * comes first, and the evicter's later delete takes the value too, or the
 * writer finds the record gone (or without the name) and enters the
 * session again, value and all.  A session being entered is the most
 * recent, never cut by its own update; a value whose session cannot be
 * entered (the lock stayed held) is deleted again.  So no value outlives
 * its index entry through these races.
 *
 * What remains uncounted, the documented slack: values whose session left
 * the index in ways this module does not see (the index itself lost, a
 * record evicted by the backend before its values, a delete that failed
 * while the backend was degraded, a worker that died between writing a new
 * session's value and entering it), and a lock holder slower than the
 * lock's TTL, whose index write can overwrite a successor's.  Such values
 * still expire with the session id (every TTL here is capped at it), and a
 * lost index fills again from the sessions in use.  Under the lock's normal
 * operation the count of sessions with values is within the bound whenever
 * no store call is in flight; while some are, each worker may add one new
 * session whose value is written and whose entry waits for the lock.
 *
 * Single-flight for fcd_session_store_memo() is memoize's protocol on the
 * same primitives (fcd_cache_lock, the cache's lock_ttl and wait_ms,
 * FCD_MEMO_BACKOFF_*) applied to the session's own key, because a memoize
 * call cannot be used as it is: its keys live under "fcd:", outside the
 * session's namespace, and each distinct function name keeps a generation
 * key without expiry, which per session would grow without bound.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "cache/session_store.h"
#include "cache/stats.h"

#define HASH_BYTES FCD_SESSION_KEY_HASH_BYTES
#define HEX_LEN (2 * HASH_BYTES)
#define CKSUM_LEN 16
#define INDEX_VERSION 1
#define RECORD_VERSION 1
#define RECORD_HDR 16
#define RECORD_MAX (RECORD_HDR + FCD_SESSION_STORE_NAMES_MAX * (1 + FCD_SESSION_NAME_MAX))
/* Index lock wait: first and longest sleep, ms. */
#define INDEX_BACKOFF_MIN_MS 1u
#define INDEX_BACKOFF_MAX_MS 8u

_Static_assert(FCD_SESSION_STORE_INDEX_HDR == 32 && FCD_SESSION_STORE_ENTRY == 48,
               "the index layout at the top of this file");
_Static_assert(FCD_SESSION_KEY_MAX + sizeof ":lock" - 1 <= FCD_CACHE_KEY_MAX,
               "value lock keys must fit memcached's");
_Static_assert(FCD_SESSION_STORE_INDEX_HDR +
                       (size_t)FCD_SESSION_THRESHOLD_MAX * FCD_SESSION_STORE_ENTRY <=
                   FCD_CACHE_MEMCACHED_ITEM_MAX,
               "the largest index must fit one memcached item");

/* One session as this module addresses it. */
struct sess {
    char base[FCD_SESSION_KEY_BUF]; /* its record's key, and its keys' stem */
    unsigned char h[HASH_BYTES];    /* the hash in that key */
    int64_t expires;                /* the id's last accepted second */
};

struct entry {
    unsigned char h[HASH_BYTES];
    uint64_t used_ms;
    int64_t expires;
};

/* The index in memory: room for one more entry than it holds. */
struct index {
    struct entry *e;
    size_t n;
};

struct record {
    bool found;
    uint64_t touched_ms;
    unsigned nnames;
    char names[FCD_SESSION_STORE_NAMES_MAX][FCD_SESSION_NAME_MAX + 1];
};

/* ---- little helpers ------------------------------------------------------ */

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Wall-clock milliseconds: the clock every worker and host shares. */
static uint64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static bool name_in(const struct record *r, const char *name)
{
    for (unsigned i = 0; i < r->nnames; i++)
        if (strcmp(r->names[i], name) == 0)
            return true;
    return false;
}

/* Seconds the session's values may live from `now`: to the end of the
 * id's last accepted second, capped as the backends cap TTLs; 0 when the
 * id has expired. */
static unsigned life(const struct sess *ss, int64_t now)
{
    int64_t left = ss->expires - now + 1;

    if (left <= 0)
        return 0;
    return left > FCD_CACHE_TTL_MAX ? FCD_CACHE_TTL_MAX : (unsigned)left;
}

static void index_key(const fcd_session_store_conf_t *sc, char key[FCD_CACHE_KEY_MAX + 1],
                      bool lock)
{
    snprintf(key, FCD_CACHE_KEY_MAX + 1, "%s%s:%s%s", FCD_SESSION_KEY_PREFIX, sc->session->app,
             FCD_SESSION_STORE_INDEX_NAME, lock ? ":lock" : "");
}

/* A session's record key from its hash (for sessions being evicted, of
 * which only the index entry is at hand).  The same text as
 * fcd_session_storage_key(..., NULL, ...) gives. */
static void base_of(const fcd_session_store_conf_t *sc, const unsigned char h[HASH_BYTES],
                    char base[FCD_SESSION_KEY_BUF])
{
    char hex[HEX_LEN + 1];

    sodium_bin2hex(hex, sizeof hex, h, HASH_BYTES);
    snprintf(base, FCD_SESSION_KEY_BUF, "%s%s:%s", FCD_SESSION_KEY_PREFIX, sc->session->app,
             hex);
}

/* "fcds:<app>:<hex>:<name>" from the record key and a checked name. */
static void value_key(const char *base, const char *name, char key[FCD_SESSION_KEY_BUF])
{
    snprintf(key, FCD_SESSION_KEY_BUF, "%s:%s", base, name);
}

/*
 * Check the arguments of a public call and fill ss (and, when name is not
 * NULL, vkey).  FCD_CACHE_OK, or FCD_CACHE_ERROR with a message in c.
 */
static fcd_cache_status_t prepare(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                  const fcd_session_t *s, const char *name, struct sess *ss,
                                  char vkey[FCD_SESSION_KEY_BUF])
{
    size_t stem;

    c->err[0] = '\0';
    if (!sc || !sc->session || !s)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "session store: no conf or no session");
    if (name && fcd_session_storage_key(sc->session, s, name, vkey) != FCD_SESSION_OK)
        return fcd_cache_fail(c, FCD_CACHE_ERROR,
                              "session store: value name must be 1..%d of [A-Za-z0-9._-]",
                              FCD_SESSION_NAME_MAX);
    if (fcd_session_storage_key(sc->session, s, NULL, ss->base) != FCD_SESSION_OK)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "session store: bad app name in the conf");
    stem = strlen(FCD_SESSION_KEY_PREFIX) + strlen(sc->session->app) + 1;
    if (strlen(ss->base) != stem + HEX_LEN ||
        sodium_hex2bin(ss->h, HASH_BYTES, ss->base + stem, HEX_LEN, NULL, NULL, NULL) != 0)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "session store: unexpected storage key");
    ss->expires = s->expires;
    return FCD_CACHE_OK;
}

/* ---- the record ---------------------------------------------------------- */

/* Parse a record; a malformed one reads as absent. */
static void record_parse(const unsigned char *p, size_t len, struct record *r)
{
    size_t off = RECORD_HDR;

    memset(r, 0, sizeof *r);
    if (len < RECORD_HDR || memcmp(p, "FSSR", 4) != 0 || p[4] != RECORD_VERSION ||
        p[5] > FCD_SESSION_STORE_NAMES_MAX)
        return;
    for (unsigned i = 0; i < p[5]; i++) {
        size_t n = off < len ? p[off] : 0;
        if (n == 0 || n > FCD_SESSION_NAME_MAX || n > len - off - 1)
            return;
        for (size_t j = 0; j < n; j++) {
            char ch = (char)p[off + 1 + j];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-'))
                return;
        }
        memcpy(r->names[i], p + off + 1, n);
        r->names[i][n] = '\0';
        off += 1 + n;
    }
    if (off != len)
        return;
    r->nnames = p[5];
    r->touched_ms = get_u64(p + 8);
    r->found = true;
}

/* The record's bytes into buf (RECORD_MAX); returns their length. */
static size_t record_write(const struct record *r, unsigned char buf[RECORD_MAX])
{
    size_t off = RECORD_HDR;

    memcpy(buf, "FSSR", 4);
    buf[4] = RECORD_VERSION;
    buf[5] = (unsigned char)r->nnames;
    buf[6] = buf[7] = 0;
    put_u64(buf + 8, r->touched_ms);
    for (unsigned i = 0; i < r->nnames; i++) {
        size_t n = strlen(r->names[i]);
        buf[off] = (unsigned char)n;
        memcpy(buf + off + 1, r->names[i], n);
        off += 1 + n;
    }
    return off;
}

/* Read a session's record: FCD_CACHE_OK with r->found telling whether there
 * is a readable one, or the backend's DECLINED / ERROR. */
static fcd_cache_status_t record_get(fcd_cache_t *c, const char *base, struct record *r)
{
    void *v;
    size_t len;
    fcd_cache_status_t st = fcd_cache_get(c, base, &v, &len);

    memset(r, 0, sizeof *r);
    if (st == FCD_CACHE_MISS)
        return FCD_CACHE_OK;
    if (st != FCD_CACHE_OK)
        return st;
    record_parse(v, len, r);
    free(v);
    return FCD_CACHE_OK;
}

/* Whether the session should refresh its place in the index now.  A record
 * from the future (another host's clock, or ours set back) counts as due
 * once it is more than one interval ahead. */
static bool touch_due(const fcd_session_store_conf_t *sc, const struct record *r, uint64_t now)
{
    uint64_t span = (uint64_t)sc->touch_s * 1000u;

    if (r->touched_ms > now)
        return r->touched_ms - now > span;
    return now - r->touched_ms >= span;
}

/* ---- the index ----------------------------------------------------------- */

static void index_checksum(const unsigned char *buf, size_t len, unsigned char out[CKSUM_LEN])
{
    crypto_generichash_state h;

    crypto_generichash_init(&h, NULL, 0, CKSUM_LEN);
    crypto_generichash_update(&h, buf, 16);
    crypto_generichash_update(&h, buf + FCD_SESSION_STORE_INDEX_HDR,
                              len - FCD_SESSION_STORE_INDEX_HDR);
    crypto_generichash_final(&h, out, CKSUM_LEN);
}

/*
 * Read the index into ix (room for one more entry).  An absent or corrupt
 * index reads as empty (a corrupt one is counted as an error).
 * FCD_CACHE_OK, or DECLINED / ERROR (then ix holds nothing to free).
 */
static fcd_cache_status_t index_load(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                     struct index *ix)
{
    char key[FCD_CACHE_KEY_MAX + 1];
    unsigned char sum[CKSUM_LEN], *p;
    size_t len, n = 0;
    void *v;
    fcd_cache_status_t st;

    ix->e = NULL;
    ix->n = 0;
    index_key(sc, key, false);
    st = fcd_cache_get(c, key, &v, &len);
    if (st != FCD_CACHE_OK && st != FCD_CACHE_MISS)
        return st;
    p = v;
    if (st == FCD_CACHE_OK) {
        bool ok = len >= FCD_SESSION_STORE_INDEX_HDR && memcmp(p, "FSSI", 4) == 0 &&
                  p[4] == INDEX_VERSION &&
                  (len - FCD_SESSION_STORE_INDEX_HDR) % FCD_SESSION_STORE_ENTRY == 0 &&
                  get_u32(p + 8) == (len - FCD_SESSION_STORE_INDEX_HDR) /
                                        FCD_SESSION_STORE_ENTRY;
        if (ok) {
            index_checksum(p, len, sum);
            ok = sodium_memcmp(sum, p + 16, CKSUM_LEN) == 0;
        }
        if (ok)
            n = get_u32(p + 8);
        else
            fcd_cache_stats_add(c->stats, FCD_CACHE_C_ERRORS, 1);
    }
    /* n is bounded by the item's length, so n + 1 entries cannot overflow. */
    ix->e = malloc((n + 1) * sizeof *ix->e);
    if (!ix->e) {
        free(v);
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "session store: out of memory for the index");
    }
    for (size_t i = 0; i < n; i++) {
        const unsigned char *q = p + FCD_SESSION_STORE_INDEX_HDR + i * FCD_SESSION_STORE_ENTRY;
        memcpy(ix->e[i].h, q, HASH_BYTES);
        ix->e[i].used_ms = get_u64(q + 32);
        ix->e[i].expires = (int64_t)get_u64(q + 40);
    }
    ix->n = n;
    free(v);
    return FCD_CACHE_OK;
}

/* Write entries e[from..ix->n) as the index. */
static fcd_cache_status_t index_store(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                      const struct index *ix, size_t from)
{
    char key[FCD_CACHE_KEY_MAX + 1];
    size_t n = ix->n - from, len = FCD_SESSION_STORE_INDEX_HDR + n * FCD_SESSION_STORE_ENTRY;
    unsigned char *buf = malloc(len);
    fcd_cache_status_t st;

    if (!buf)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "session store: out of memory for the index");
    memset(buf, 0, FCD_SESSION_STORE_INDEX_HDR);
    memcpy(buf, "FSSI", 4);
    buf[4] = INDEX_VERSION;
    put_u32(buf + 8, (uint32_t)n);
    for (size_t i = 0; i < n; i++) {
        unsigned char *q = buf + FCD_SESSION_STORE_INDEX_HDR + i * FCD_SESSION_STORE_ENTRY;
        memcpy(q, ix->e[from + i].h, HASH_BYTES);
        put_u64(q + 32, ix->e[from + i].used_ms);
        put_u64(q + 40, (uint64_t)ix->e[from + i].expires);
    }
    index_checksum(buf, len, buf + 16);
    index_key(sc, key, false);
    /* No expiry: the file and memory backends then evict it last. */
    st = fcd_cache_set(c, key, buf, len, 0);
    free(buf);
    return st;
}

/* How many entries one backend item holds.  item_max is at least 4096 (a
 * URL floor), so at least 84. */
static size_t index_fit(const fcd_cache_t *c)
{
    return (c->settings.item_max - FCD_SESSION_STORE_INDEX_HDR) / FCD_SESSION_STORE_ENTRY;
}

/* Remove the entry of hash h, if present; whether it was. */
static bool index_remove(struct index *ix, const unsigned char h[HASH_BYTES])
{
    for (size_t i = 0; i < ix->n; i++) {
        if (sodium_memcmp(ix->e[i].h, h, HASH_BYTES) == 0) {
            memmove(ix->e + i, ix->e + i + 1, (ix->n - i - 1) * sizeof *ix->e);
            ix->n--;
            return true;
        }
    }
    return false;
}

/* Drop entries whose id has expired: their values expired with it. */
static void index_prune(struct index *ix, int64_t now)
{
    size_t k = 0;

    for (size_t i = 0; i < ix->n; i++)
        if (ix->e[i].expires >= now)
            ix->e[k++] = ix->e[i];
    ix->n = k;
}

/* Take the index lock; `wait`: with backoff while another holds it, up to
 * the conf's lock_wait_ms, else one try (MISS when held). */
static fcd_cache_status_t index_lock(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                     bool wait, fcd_cache_lock_t *lk)
{
    char key[FCD_CACHE_KEY_MAX + 1];
    int64_t deadline = fcd_memo_now_ms() + sc->lock_wait_ms;
    unsigned delay = INDEX_BACKOFF_MIN_MS;

    index_key(sc, key, true);
    for (;;) {
        fcd_cache_status_t st = fcd_cache_lock(c, key, FCD_SESSION_STORE_LOCK_TTL, lk);
        int64_t left;

        if (st != FCD_CACHE_MISS || !wait)
            return st;
        left = deadline - fcd_memo_now_ms();
        if (left <= 0)
            return fcd_cache_fail(c, FCD_CACHE_DECLINED,
                                  "session store: the session index of app '%s' stayed locked "
                                  "for %u ms",
                                  sc->session->app, sc->lock_wait_ms);
        fcd_memo_sleep_ms(fcd_memo_next_nap(&delay, INDEX_BACKOFF_MAX_MS, left));
    }
}

/* Delete an evicted (or dropped) session: its record first, then the
 * values it names; see the top of file for why in that order.  Failures
 * leave values to expire with the session id. */
static bool delete_session(fcd_cache_t *c, const char *base)
{
    struct record r;
    bool any;

    if (record_get(c, base, &r) != FCD_CACHE_OK)
        return false;
    any = fcd_cache_delete(c, base) == FCD_CACHE_OK;
    for (unsigned i = 0; i < r.nnames; i++) {
        char key[FCD_SESSION_KEY_BUF];
        value_key(base, r.names[i], key);
        any |= fcd_cache_delete(c, key) == FCD_CACHE_OK;
    }
    return any;
}

/*
 * Enter session ss in the index, or move it to the most-recent end; evict
 * past the bound; write its record with `name` added (if not NULL); all
 * under the index lock.  `wait`: wait for the lock (entering a session
 * must); else a refresh that finds the lock held is skipped (MISS) and
 * left to the next use, so a hit never waits.  FCD_CACHE_OK, or MISS,
 * DECLINED / ERROR with a message in c.
 */
static fcd_cache_status_t enroll(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                 const struct sess *ss, const char *name, bool wait)
{
    unsigned char rec[RECORD_MAX];
    fcd_cache_lock_t lk = {0};
    struct index ix = {0};
    struct record r;
    int64_t now = time(NULL);
    uint64_t now_ms = wall_ms();
    unsigned ttl = life(ss, now);
    size_t bound = fcd_session_store_bound(c, sc), fit = index_fit(c), cut = 0;
    fcd_cache_status_t st;

    if (ttl == 0)
        return fcd_cache_fail(c, FCD_CACHE_DECLINED, "session store: the session has expired");
    if ((st = index_lock(c, sc, wait, &lk)) != FCD_CACHE_OK)
        return st;
    if ((st = record_get(c, ss->base, &r)) != FCD_CACHE_OK)
        goto out;
    if (!name && !r.found) {
        /* A refresh of a session evicted meanwhile: it stays out. */
        st = FCD_CACHE_MISS;
        goto out;
    }
    if (name && !name_in(&r, name)) {
        if (r.nnames == FCD_SESSION_STORE_NAMES_MAX) {
            st = fcd_cache_fail(c, FCD_CACHE_ERROR,
                                "session store: a session may store at most %d names; '%s' "
                                "not stored",
                                FCD_SESSION_STORE_NAMES_MAX, name);
            goto out;
        }
        memcpy(r.names[r.nnames++], name, strlen(name) + 1);
    }
    if ((st = index_load(c, sc, &ix)) != FCD_CACHE_OK)
        goto out;
    index_remove(&ix, ss->h);
    index_prune(&ix, now);
    memcpy(ix.e[ix.n].h, ss->h, HASH_BYTES);
    ix.e[ix.n].used_ms = now_ms;
    ix.e[ix.n].expires = ss->expires;
    ix.n++;
    /* Ours is last and bound >= 1, so it is never among those cut.  Past
     * the per-update cap, cut on only while the index would not fit an
     * item (a threshold lowered, or item_max, since it was written). */
    while (ix.n - cut > bound && (cut < FCD_SESSION_STORE_EVICT_MAX || ix.n - cut > fit))
        cut++;
    if ((st = index_store(c, sc, &ix, cut)) != FCD_CACHE_OK)
        goto out;
    for (size_t i = 0; i < cut; i++) {
        char base[FCD_SESSION_KEY_BUF];
        base_of(sc, ix.e[i].h, base);
        delete_session(c, base);
    }
    r.touched_ms = now_ms;
    st = fcd_cache_set(c, ss->base, rec, record_write(&r, rec), ttl);
out:
    free(ix.e);
    if (st != FCD_CACHE_OK) {
        /* Unlocking may overwrite the message: keep it. */
        char msg[FCD_CACHE_ERR_MAX];
        memcpy(msg, c->err, sizeof msg);
        fcd_cache_unlock(c, &lk);
        memcpy(c->err, msg, sizeof msg);
    } else {
        fcd_cache_unlock(c, &lk);
    }
    return st;
}

/* After a hit on `name`: refresh the session's place when due, and enter
 * it again if its record is gone or lacks the name (evicted meanwhile,
 * lost, or the index was).  Best effort: a failure changes nothing the
 * caller needs. */
static void keep(fcd_cache_t *c, const fcd_session_store_conf_t *sc, const struct sess *ss,
                 const char *name)
{
    struct record r;

    if (record_get(c, ss->base, &r) != FCD_CACHE_OK)
        return;
    if (!r.found || !name_in(&r, name))
        enroll(c, sc, ss, name, true);
    else if (touch_due(sc, &r, wall_ms()))
        enroll(c, sc, ss, NULL, false);
}

/* ---- settings ------------------------------------------------------------ */

void fcd_session_store_conf_init(fcd_session_store_conf_t *sc, const fcd_session_conf_t *session)
{
    sc->session = session;
    sc->threshold = FCD_SESSION_THRESHOLD_DEFAULT;
    sc->touch_s = FCD_SESSION_TOUCH_DEFAULT;
    sc->lock_wait_ms = FCD_SESSION_STORE_LOCK_WAIT_MS;
}

/* A whole number within [lo, hi] from the environment; unset or empty keeps
 * *out. */
static bool number_setting(const char *name, unsigned lo, unsigned hi, const char *unit,
                           unsigned *out, char *err, size_t errlen)
{
    const char *v = getenv(name);
    unsigned long long n = 0;
    bool ok = true;

    if (!v || !*v)
        return true;
    for (const char *p = v; *p && ok; p++) {
        ok = *p >= '0' && *p <= '9' && p - v < 10;
        n = n * 10 + (unsigned)(*p - '0');
    }
    if (!ok || n < lo || n > hi) {
        snprintf(err, errlen, "%s=%s: expected %s from %u to %u", name, v, unit, lo, hi);
        return false;
    }
    *out = (unsigned)n;
    return true;
}

fcd_cache_status_t fcd_session_store_conf_load(fcd_session_store_conf_t *sc,
                                               const fcd_session_conf_t *session, char *err,
                                               size_t errlen)
{
    if (errlen)
        err[0] = '\0';
    fcd_session_store_conf_init(sc, session);
    if (!number_setting(FCD_SESSION_THRESHOLD_ENV, FCD_SESSION_THRESHOLD_MIN,
                        FCD_SESSION_THRESHOLD_MAX, "a whole number of sessions", &sc->threshold,
                        err, errlen) ||
        !number_setting(FCD_SESSION_TOUCH_ENV, 0, FCD_SESSION_TOUCH_MAX, "whole seconds",
                        &sc->touch_s, err, errlen))
        return FCD_CACHE_ERROR;
    return FCD_CACHE_OK;
}

size_t fcd_session_store_bound(const fcd_cache_t *c, const fcd_session_store_conf_t *sc)
{
    size_t fit = index_fit(c), bound = sc->threshold ? sc->threshold : 1;

    return fit < bound ? fit : bound;
}

/* ---- get and set --------------------------------------------------------- */

fcd_cache_status_t fcd_session_store_get(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                         const fcd_session_t *s, const char *name, void **val,
                                         size_t *len)
{
    char vkey[FCD_SESSION_KEY_BUF];
    struct sess ss;
    fcd_cache_status_t st;

    *val = NULL;
    *len = 0;
    if (!name)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "session store: no value name");
    if ((st = prepare(c, sc, s, name, &ss, vkey)) != FCD_CACHE_OK)
        return st;
    if (c->ops->stores_nothing)
        return FCD_CACHE_MISS;
    /* Its values expired with it (every TTL is capped at the id's life). */
    if (life(&ss, time(NULL)) == 0)
        return FCD_CACHE_MISS;
    st = fcd_cache_get(c, vkey, val, len);
    if (st != FCD_CACHE_OK)
        return st;
    keep(c, sc, &ss, name);
    c->err[0] = '\0';
    return FCD_CACHE_OK;
}

/* Set with arguments checked; see fcd_session_store_set. */
static fcd_cache_status_t store(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                const struct sess *ss, const char *name, const char *vkey,
                                const void *p, size_t len, unsigned ttl)
{
    unsigned left = life(ss, time(NULL));
    struct record r;
    bool known;
    fcd_cache_status_t st;

    if (len > 0 && !p)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "session store: NULL value");
    if (left == 0)
        return fcd_cache_fail(c, FCD_CACHE_DECLINED,
                              "session store: the session has expired; value not stored");
    if (ttl == 0 || ttl > left)
        ttl = left;
    if ((st = record_get(c, ss->base, &r)) != FCD_CACHE_OK)
        return st;
    known = r.found && name_in(&r, name);
    if (r.found && !known && r.nnames == FCD_SESSION_STORE_NAMES_MAX)
        return fcd_cache_fail(c, FCD_CACHE_ERROR,
                              "session store: a session may store at most %d names; '%s' not "
                              "stored",
                              FCD_SESSION_STORE_NAMES_MAX, name);
    /* A refresh that finds the lock held is left to the next use. */
    if (known && touch_due(sc, &r, wall_ms()))
        enroll(c, sc, ss, NULL, false);
    /* The value goes first, outside the lock, which then stays short
     * whatever the value's size; see the top of file for the order. */
    if ((st = fcd_cache_set(c, vkey, p, len, ttl)) != FCD_CACHE_OK)
        return st;
    if (known && (record_get(c, ss->base, &r) != FCD_CACHE_OK || (r.found && name_in(&r, name)))) {
        c->err[0] = '\0';
        return FCD_CACHE_OK;
    }
    /* A new session or name, or one evicted between our look and our
     * write: enter it (again).  A value that cannot be entered is taken
     * back, so none is left uncounted. */
    if ((st = enroll(c, sc, ss, name, true)) != FCD_CACHE_OK) {
        char msg[FCD_CACHE_ERR_MAX];
        memcpy(msg, c->err, sizeof msg);
        fcd_cache_delete(c, vkey);
        memcpy(c->err, msg, sizeof msg);
    }
    return st;
}

fcd_cache_status_t fcd_session_store_set(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                         const fcd_session_t *s, const char *name,
                                         const void *val, size_t len, unsigned ttl)
{
    char vkey[FCD_SESSION_KEY_BUF];
    struct sess ss;
    fcd_cache_status_t st;

    if (!name)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "session store: no value name");
    if ((st = prepare(c, sc, s, name, &ss, vkey)) != FCD_CACHE_OK)
        return st;
    if (c->ops->stores_nothing)
        return FCD_CACHE_OK;
    return store(c, sc, &ss, name, vkey, val, len, ttl);
}

/* ---- memo ---------------------------------------------------------------- */

/* What a memo call works on. */
struct call {
    fcd_cache_t *c;
    const fcd_session_store_conf_t *sc;
    struct sess ss;
    const char *name;
    char vkey[FCD_SESSION_KEY_BUF];
    unsigned ttl;
    fcd_memo_compute_fn fn;
    void *ctx;
};

/*
 * Run the compute function into res; `store`: then store the result.
 * `degraded`: res->msg already says why the store was not used, and the
 * outcome is DECLINED whatever happens here.
 */
static fcd_cache_status_t compute(struct call *k, bool store_it, bool degraded,
                                  fcd_memo_result_t *res)
{
    char err[FCD_CACHE_ERR_MAX] = "";
    void *out = NULL;
    size_t len = 0;
    fcd_cache_status_t st;

    fcd_cache_stats_add(k->c->stats, FCD_CACHE_C_MISSES, 1);
    fcd_cache_stats_add(k->c->stats, FCD_CACHE_C_COMPUTES, 1);
    st = k->fn(k->ctx, &out, &len, err, sizeof err);
    if (st != FCD_CACHE_OK && st != FCD_CACHE_DECLINED) {
        free(out);
        fcd_memo_set_msg(res, "session value %s: %s", k->name, err[0] ? err : "compute function failed");
        return FCD_CACHE_ERROR;
    }
    if (len > 0 && !out) {
        fcd_memo_set_msg(res, "session value %s: compute function returned %zu bytes at NULL", k->name,
                len);
        return FCD_CACHE_ERROR;
    }
    res->mem = out;
    res->data = len ? out : NULL;
    res->len = len;
    res->source = FCD_MEMO_LOCAL;
    if (st == FCD_CACHE_DECLINED || !store_it)
        return degraded ? FCD_CACHE_DECLINED : FCD_CACHE_OK;
    if (store(k->c, k->sc, &k->ss, k->name, k->vkey, out, len, k->ttl) == FCD_CACHE_OK) {
        res->source = FCD_MEMO_COMPUTED;
        return degraded ? FCD_CACHE_DECLINED : FCD_CACHE_OK;
    }
    if (!degraded)
        fcd_memo_set_msg(res, "session value %s: computed, not stored: %s", k->name, fcd_memo_why(k->c));
    return FCD_CACHE_DECLINED;
}

/* The store failed before a value was found: compute here, don't store. */
static fcd_cache_status_t fail_open(struct call *k, fcd_memo_result_t *res)
{
    fcd_memo_set_msg(res, "session value %s: computed without the cache: %s", k->name, fcd_memo_why(k->c));
    return compute(k, false, true, res);
}

/* Look for the value: FCD_CACHE_OK fills res, else the get's status. */
static fcd_cache_status_t lookup(struct call *k, fcd_memo_source_t source, fcd_memo_result_t *res)
{
    void *v;
    size_t len;
    fcd_cache_status_t st = fcd_cache_get(k->c, k->vkey, &v, &len);

    if (st != FCD_CACHE_OK)
        return st;
    keep(k->c, k->sc, &k->ss, k->name);
    k->c->err[0] = '\0';
    fcd_cache_stats_add(k->c->stats, FCD_CACHE_C_HITS, 1);
    res->mem = v;
    res->data = len ? v : NULL;
    res->len = len;
    res->source = source;
    return FCD_CACHE_OK;
}

/* We hold the value's lock: look once more, else compute and store. */
static fcd_cache_status_t locked(struct call *k, fcd_cache_lock_t *lk, fcd_memo_source_t if_found,
                                 fcd_memo_result_t *res)
{
    fcd_cache_status_t st = lookup(k, if_found, res);

    if (st == FCD_CACHE_OK) {
        fcd_cache_unlock(k->c, lk);
        return st;
    }
    if (st != FCD_CACHE_MISS) {
        fcd_memo_set_msg(res, "session value %s: computed without the cache: %s", k->name, fcd_memo_why(k->c));
        fcd_cache_unlock(k->c, lk);
        return compute(k, false, true, res);
    }
    st = compute(k, true, false, res);
    fcd_cache_unlock(k->c, lk);
    return st;
}

fcd_cache_status_t fcd_session_store_memo(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                          const fcd_session_t *s, const char *name,
                                          unsigned ttl, fcd_memo_compute_fn compute_fn,
                                          void *ctx, fcd_memo_result_t *res)
{
    struct call k = {.c = c, .sc = sc, .name = name, .ttl = ttl, .fn = compute_fn, .ctx = ctx};
    char lkey[FCD_CACHE_KEY_MAX + 1];
    fcd_cache_lock_t lk = {0};
    int64_t deadline;
    unsigned delay = FCD_MEMO_BACKOFF_MIN_MS;
    fcd_cache_status_t st;

    memset(res, 0, sizeof *res);
    if (!name || !compute_fn) {
        fcd_memo_set_msg(res, "session store: no value name or compute function");
        return FCD_CACHE_ERROR;
    }
    if (prepare(c, sc, s, name, &k.ss, k.vkey) != FCD_CACHE_OK) {
        fcd_memo_set_msg(res, "%s", c->err);
        return FCD_CACHE_ERROR;
    }
    if (c->ops->stores_nothing)
        return compute(&k, false, false, res);
    if (life(&k.ss, time(NULL)) == 0) {
        fcd_memo_set_msg(res, "session value %s: the session has expired; computed without the cache",
                name);
        return compute(&k, false, true, res);
    }

    st = lookup(&k, FCD_MEMO_HIT, res);
    if (st == FCD_CACHE_OK)
        return st;
    if (st != FCD_CACHE_MISS)
        return fail_open(&k, res);

    snprintf(lkey, sizeof lkey, "%s:lock", k.vkey);
    st = fcd_cache_lock(c, lkey, c->settings.lock_ttl, &lk);
    if (st == FCD_CACHE_OK)
        return locked(&k, &lk, FCD_MEMO_HIT, res);
    if (st != FCD_CACHE_MISS)
        return fail_open(&k, res);

    /* Another request of this session computes: wait for its value. */
    fcd_cache_stats_add(c->stats, FCD_CACHE_C_LOCK_WAITS, 1);
    deadline = fcd_memo_now_ms() + c->settings.wait_ms;
    for (;;) {
        int64_t left = deadline - fcd_memo_now_ms();

        if (left <= 0)
            break;
        fcd_memo_sleep_ms(fcd_memo_next_nap(&delay, FCD_MEMO_BACKOFF_MAX_MS, left));
        st = lookup(&k, FCD_MEMO_WAITED, res);
        if (st == FCD_CACHE_OK)
            return st;
        if (st != FCD_CACHE_MISS)
            return fail_open(&k, res);
        /* The holder finished without storing, or died and its lock
         * expired: take over. */
        st = fcd_cache_lock(c, lkey, c->settings.lock_ttl, &lk);
        if (st == FCD_CACHE_OK)
            return locked(&k, &lk, FCD_MEMO_WAITED, res);
        if (st != FCD_CACHE_MISS)
            return fail_open(&k, res);
    }
    fcd_memo_set_msg(res, "session value %s: waited %u ms for another request computing it; computed here",
            name, c->settings.wait_ms);
    return compute(&k, true, true, res);
}

/* ---- drop and count ------------------------------------------------------ */

fcd_cache_status_t fcd_session_store_drop(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                          const fcd_session_t *s)
{
    fcd_cache_lock_t lk = {0};
    struct index ix = {0};
    struct sess ss;
    bool listed = false, had = false;
    fcd_cache_status_t st;

    if ((st = prepare(c, sc, s, NULL, &ss, NULL)) != FCD_CACHE_OK)
        return st;
    if (c->ops->stores_nothing)
        return FCD_CACHE_MISS;
    if ((st = index_lock(c, sc, true, &lk)) != FCD_CACHE_OK)
        return st;
    st = index_load(c, sc, &ix);
    if (st == FCD_CACHE_OK && (listed = index_remove(&ix, ss.h)))
        st = index_store(c, sc, &ix, 0);
    if (st == FCD_CACHE_OK)
        had = delete_session(c, ss.base);
    free(ix.e);
    if (st != FCD_CACHE_OK) {
        char msg[FCD_CACHE_ERR_MAX];
        memcpy(msg, c->err, sizeof msg);
        fcd_cache_unlock(c, &lk);
        memcpy(c->err, msg, sizeof msg);
        return st;
    }
    fcd_cache_unlock(c, &lk);
    c->err[0] = '\0';
    return listed || had ? FCD_CACHE_OK : FCD_CACHE_MISS;
}

fcd_cache_status_t fcd_session_store_count(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                                           size_t *count)
{
    struct index ix;
    fcd_cache_status_t st;

    *count = 0;
    c->err[0] = '\0';
    if (!sc || !sc->session)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "session store: no conf");
    if (c->ops->stores_nothing)
        return FCD_CACHE_OK;
    if ((st = index_load(c, sc, &ix)) != FCD_CACHE_OK)
        return st;
    index_prune(&ix, time(NULL));
    *count = ix.n;
    free(ix.e);
    return FCD_CACHE_OK;
}
