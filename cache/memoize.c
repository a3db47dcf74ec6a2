/*
 * cache/memoize.c - memoized calls over any backend: keys, the value
 * format, chunking, single-flight and fail-open.
 *
 * Value format 2 (all integers little-endian):
 *     0  "FCDM"                    8  raw length (u64, after decompression)
 *     4  format (2)                16 stored length (u64, bytes after header)
 *     5  flags: 1 lz4, 2 manifest  24 generation computed under (u64)
 *     6  zero (u16)                32 XXH3-128 of the stored bytes
 *                                  48 stored bytes
 * A value whose header and stored bytes exceed the backend's item limit is
 * stored as chunks of item_max bytes under keys <key>:c<nonce>:<i>, then a
 * manifest under <key> (flag 2) whose stored bytes are:
 *     0 nonce (8 random bytes)     16 chunk size (u64)
 *     8 chunk count (u32)          24 body length (u64)
 *    12 zero (u32)                 32 XXH3-128 of the body
 * Chunks are written before their manifest, and a fresh nonce per write
 * means a reader holding an old manifest reads the old chunks or misses,
 * never a mix.  Any missing chunk, length or checksum mismatch is a miss
 * (a corrupt entry is also deleted and counted as an error).  A value of
 * another format (an older or newer fcdash) is a miss, left to be
 * overwritten.  The checksum guards against corrupt and garbage values,
 * not forgeries: whoever can write to the backend can write a valid entry
 * anyway, so a fast non-cryptographic hash is the right tool (BLAKE2b-128
 * was 81% of a 32 KB hit's instructions under callgrind).
 *
 * Generations: the entry key does not contain fn's generation; the
 * entry's header does.  A value is a hit only when its generation is fn's
 * current one, so forget_all (a new generation) makes every older entry a
 * miss, and the next store overwrites it in place.
 *
 * Hit path: ONE multi-get of {fn's generation key, the entry key} (one
 * round trip; on memcached the two keys' servers are asked in parallel),
 * a hit when both are there and the generations agree; then XXH3 over the
 * stored bytes.  The entry's buffer is the result (no copy) unless it was
 * compressed or chunked; chunks are fetched FCD_MEMO_CHUNK_BATCH per
 * multi-get.  A missing generation key is created (add, so concurrent
 * workers agree) and the call is a miss.  Nothing about the generation is
 * kept in the process between calls: workers are stateless.
 *
 * Single-flight: a miss takes the key's lock (fcd_cache_lock: add with a
 * TTL, or flock for files), looks once more (the holder before us may have
 * just finished), computes, stores, unlocks.  A miss that finds the lock
 * held sleeps with exponential backoff and jitter (FCD_MEMO_BACKOFF_*),
 * looking for the value and trying the lock again, until settings.wait_ms;
 * then it computes itself.  Any backend failure on the way computes locally
 * and returns DECLINED with the backend's message.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lz4.h>
#include <sodium.h>
#include <xxhash.h>

#include "cache/memoize.h"
#include "cache/bytes.h"
#include "cache/stats.h"

#define FLAG_LZ4 1u
#define FLAG_MANIFEST 2u
#define MANIFEST_LEN 48
#define CKSUM_LEN 16
#define DIGEST_LEN 32

_Static_assert(FCD_MEMO_KEY_LEN_MAX <= FCD_CACHE_KEY_MAX, "memoize keys must fit memcached's");

/* ---- little helpers ------------------------------------------------------ */

static void checksum(unsigned char out[CKSUM_LEN], const void *p, size_t n)
{
    XXH128_hash_t h = XXH3_128bits(p, n);

    fcd_put_u64(out, h.low64);
    fcd_put_u64(out + 8, h.high64);
}

static void hex64(uint64_t v, char out[17])
{
    static const char hex[] = "0123456789abcdef";

    for (int i = 15; i >= 0; i--, v >>= 4)
        out[i] = hex[v & 15];
    out[16] = '\0';
}

static bool unhex64(const char *p, size_t n, uint64_t *v)
{
    *v = 0;
    if (n != 16)
        return false;
    for (size_t i = 0; i < 16; i++) {
        int d = -1;
        if (p[i] >= '0' && p[i] <= '9')
            d = p[i] - '0';
        else if (p[i] >= 'a' && p[i] <= 'f')
            d = p[i] - 'a' + 10;
        if (d < 0)
            return false;
        *v = *v << 4 | (unsigned)d;
    }
    return true;
}

/* base64url without padding of n bytes into out (NUL-terminated).  Not
 * sodium_bin2base64: its constant-time loop costs a hit ~600 instructions
 * a key, and digests in key names are no secret. */
static void b64url(char *out, const unsigned char *in, size_t n)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t i = 0;

    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *out++ = tab[v >> 18];
        *out++ = tab[(v >> 12) & 63];
        *out++ = tab[(v >> 6) & 63];
        *out++ = tab[v & 63];
    }
    if (n - i == 1) {
        *out++ = tab[in[i] >> 2];
        *out++ = tab[(in[i] & 3) << 4];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 8 | in[i + 1];
        *out++ = tab[v >> 10];
        *out++ = tab[(v >> 4) & 63];
        *out++ = tab[(v & 15) << 2];
    }
    *out = '\0';
}

/* Copy `s` into out keeping [A-Za-z0-9._-], other bytes as '_', at most
 * max bytes.  Cosmetic: uniqueness comes from the digest. */
static size_t shown(char *out, const char *s, size_t max)
{
    size_t n = 0;

    for (; s && s[n] && n < max; n++) {
        char ch = s[n];
        out[n] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                         ch == '.' || ch == '-' || ch == '_'
                     ? ch
                     : '_';
    }
    return n;
}

static void hash_str(crypto_generichash_state *h, const char *s)
{
    unsigned char len[8];
    size_t n = s ? strlen(s) : 0;

    /* Length-prefixed, so ("ab","c") and ("a","bc") differ. */
    fcd_put_u64(len, n);
    crypto_generichash_update(h, len, sizeof len);
    crypto_generichash_update(h, (const unsigned char *)s, n);
}

/* ---- canonical JSON ------------------------------------------------------ */

/* Canonical text goes to a buffer, or into a hash through a small staging
 * buffer (no allocation on the request path). */
struct sink {
    crypto_generichash_state *h; /* hashing, or NULL: buffering */
    char *buf;
    size_t len, cap;
    bool oom;
    unsigned char stage[512];
    size_t staged;
};

static void emit(struct sink *s, const void *p, size_t n)
{
    if (s->h) {
        if (s->staged + n > sizeof s->stage) {
            crypto_generichash_update(s->h, s->stage, s->staged);
            s->staged = 0;
            if (n > sizeof s->stage) {
                crypto_generichash_update(s->h, p, n);
                return;
            }
        }
        memcpy(s->stage + s->staged, p, n);
        s->staged += n;
        return;
    }
    if (s->oom)
        return;
    if (n + 1 > s->cap - s->len) {
        size_t ncap = s->cap ? s->cap : 64;
        char *nb;
        while (ncap - s->len < n + 1) {
            if (ncap > SIZE_MAX / 2) {
                s->oom = true;
                return;
            }
            ncap *= 2;
        }
        nb = realloc(s->buf, ncap);
        if (!nb) {
            s->oom = true;
            return;
        }
        s->buf = nb;
        s->cap = ncap;
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

static void emit_str(struct sink *s, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0;

    emit(s, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        char esc[6];
        if (ch >= 0x20 && ch != 0x7f && ch != '"' && ch != '\\')
            continue;
        emit(s, p + run, i - run);
        run = i + 1;
        if (ch == '"' || ch == '\\') {
            esc[0] = '\\';
            esc[1] = (char)ch;
            emit(s, esc, 2);
        } else {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            emit(s, esc, 6);
        }
    }
    emit(s, p + run, n - run);
    emit(s, "\"", 1);
}

static int key_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int canon(struct sink *s, json_object *o, int depth)
{
    char num[40];
    int n;

    if (depth > FCD_MEMO_JSON_DEPTH_MAX)
        return -1;
    switch (json_object_get_type(o)) {
    case json_type_null:
        emit(s, "null", 4);
        break;
    case json_type_boolean:
        if (json_object_get_boolean(o))
            emit(s, "true", 4);
        else
            emit(s, "false", 5);
        break;
    case json_type_int: {
        int64_t v = json_object_get_int64(o);
        /* json-c keeps values above INT64_MAX as uint64. */
        if (v == INT64_MAX)
            n = snprintf(num, sizeof num, "%llu", (unsigned long long)json_object_get_uint64(o));
        else
            n = snprintf(num, sizeof num, "%lld", (long long)v);
        emit(s, num, (size_t)n);
        break;
    }
    case json_type_double: {
        double d = json_object_get_double(o);
        if (isnan(d))
            n = snprintf(num, sizeof num, "NaN");
        else if (isinf(d))
            n = snprintf(num, sizeof num, d > 0 ? "Infinity" : "-Infinity");
        else if (d > -9007199254740992.0 && d < 9007199254740992.0 && d == (double)(long long)d)
            n = snprintf(num, sizeof num, "%lld", (long long)d);
        else
            n = snprintf(num, sizeof num, "%.17g", d);
        emit(s, num, (size_t)n);
        break;
    }
    case json_type_string:
        emit_str(s, json_object_get_string(o), (size_t)json_object_get_string_len(o));
        break;
    case json_type_array: {
        size_t len = json_object_array_length(o);
        emit(s, "[", 1);
        for (size_t i = 0; i < len; i++) {
            if (i)
                emit(s, ",", 1);
            if (canon(s, json_object_array_get_idx(o, i), depth + 1) < 0)
                return -1;
        }
        emit(s, "]", 1);
        break;
    }
    case json_type_object: {
        size_t len = (size_t)json_object_object_length(o), i = 0;
        const char *small[16], **keys = small;
        int rc = 0;

        if (len > sizeof small / sizeof small[0]) {
            keys = len > SIZE_MAX / sizeof *keys ? NULL : malloc(len * sizeof *keys);
            if (!keys)
                return -2;
        }
        json_object_object_foreach(o, k, v)
        {
            (void)v;
            if (i < len)
                keys[i++] = k;
        }
        qsort(keys, i, sizeof *keys, key_cmp);
        emit(s, "{", 1);
        for (size_t j = 0; j < i && rc == 0; j++) {
            if (j)
                emit(s, ",", 1);
            emit_str(s, keys[j], strlen(keys[j]));
            emit(s, ":", 1);
            rc = canon(s, json_object_object_get(o, keys[j]), depth + 1);
        }
        emit(s, "}", 1);
        if (keys != small)
            free(keys);
        return rc;
    }
    }
    return 0;
}

fcd_cache_status_t fcd_memo_canonical_json(json_object *obj, char **out, size_t *len)
{
    struct sink s = {0};

    *out = NULL;
    *len = 0;
    if (canon(&s, obj, 0) < 0 || s.oom) {
        free(s.buf);
        return FCD_CACHE_ERROR;
    }
    if (!s.buf) {
        s.buf = malloc(1);
        if (!s.buf)
            return FCD_CACHE_ERROR;
        s.buf[0] = '\0';
    }
    *out = s.buf;
    *len = s.len;
    return FCD_CACHE_OK;
}

/* ---- keys ---------------------------------------------------------------- */

/* A call's arguments: bytes, or a JSON value hashed in canonical form. */
struct args {
    const void *bytes;
    size_t len;
    json_object *json;
    bool is_json;
};

/* The entry key; 0 on failure (NULL names, or JSON too deep / no memory). */
static size_t make_key(const char *app, const char *fn, const char *version, const struct args *a,
                       char key[FCD_MEMO_KEY_BUF])
{
    crypto_generichash_state h;
    unsigned char digest[DIGEST_LEN];
    size_t n = 0;

    if (!app || !fn)
        return 0;
    crypto_generichash_init(&h, NULL, 0, DIGEST_LEN);
    /* "-2": since format 2 the generation is in the value, not the key. */
    crypto_generichash_update(&h, (const unsigned char *)"fcdash-memo-2", 14);
    hash_str(&h, app);
    hash_str(&h, fn);
    hash_str(&h, version);
    if (a->is_json) {
        struct sink s = {.h = &h};
        crypto_generichash_update(&h, (const unsigned char *)"j", 1);
        if (canon(&s, a->json, 0) < 0)
            return 0;
        crypto_generichash_update(&h, s.stage, s.staged);
    } else {
        crypto_generichash_update(&h, (const unsigned char *)"b", 1);
        crypto_generichash_update(&h, a->bytes, a->len);
    }
    crypto_generichash_final(&h, digest, sizeof digest);

    memcpy(key, "fcd:", 4);
    n = 4;
    n += shown(key + n, app, FCD_CACHE_APP_MAX);
    key[n++] = ':';
    n += shown(key + n, fn, FCD_MEMO_FN_SHOWN);
    key[n++] = ':';
    n += shown(key + n, version, FCD_MEMO_VERSION_SHOWN);
    key[n++] = ':';
    b64url(key + n, digest, sizeof digest);
    return n + strlen(key + n);
}

size_t fcd_memo_key(const char *app, const char *fn, const char *version, const void *args,
                    size_t args_len, char key[FCD_MEMO_KEY_BUF])
{
    struct args a = {.bytes = args, .len = args_len};

    if (sodium_init() < 0)
        return 0;
    return make_key(app, fn, version, &a, key);
}

/* The key holding fn's generation: no version in it (forget_all spans
 * versions), a digest of the full names for uniqueness. */
static void gen_key(const char *app, const char *fn, char key[FCD_MEMO_KEY_BUF])
{
    crypto_generichash_state h;
    unsigned char digest[16];
    size_t n;

    crypto_generichash_init(&h, NULL, 0, sizeof digest);
    crypto_generichash_update(&h, (const unsigned char *)"fcdash-gen-1", 13);
    hash_str(&h, app);
    hash_str(&h, fn);
    crypto_generichash_final(&h, digest, sizeof digest);
    memcpy(key, "fcd:", 4);
    n = 4;
    n += shown(key + n, app, FCD_CACHE_APP_MAX);
    key[n++] = ':';
    n += shown(key + n, fn, FCD_MEMO_FN_SHOWN);
    memcpy(key + n, ":gen:", 5);
    n += 5;
    b64url(key + n, digest, sizeof digest);
}

size_t fcd_memo_gen_key(const char *app, const char *fn, char key[FCD_MEMO_KEY_BUF])
{
    if (!app || !fn || sodium_init() < 0)
        return 0;
    gen_key(app, fn, key);
    return strlen(key);
}

static void chunk_key(const char *key, const unsigned char nonce[8], uint32_t i,
                      char out[FCD_MEMO_KEY_BUF])
{
    char hex[17];

    sodium_bin2hex(hex, sizeof hex, nonce, 8);
    /* Always fits (FCD_MEMO_KEY_LEN_MAX counts the suffix); were it cut,
     * the key would be refused, never another call's. */
    if (snprintf(out, FCD_MEMO_KEY_BUF, "%s:c%s:%u", key, hex, (unsigned)i) >= FCD_MEMO_KEY_BUF)
        out[0] = '\0';
}

static uint64_t random_gen(void)
{
    uint64_t g;

    do
        randombytes_buf(&g, sizeof g);
    while (g == 0);
    return g;
}

/*
 * fn's generation key was absent, or unreadable (`replace`): give fn a new
 * generation, which no stored entry carries.  Absent: add, so that of
 * several processes doing this at once one wins and the others read its
 * generation.  No expiry: the generation must outlive every entry it
 * guards.
 */
static fcd_cache_status_t new_gen(fcd_cache_t *c, const char *key, bool replace, uint64_t *gen)
{
    char hex[17];
    fcd_cache_status_t st;
    void *val;
    size_t len;

    for (int round = 0; round < 2; round++) {
        *gen = random_gen();
        hex64(*gen, hex);
        if (replace)
            return fcd_cache_set(c, key, hex, 16, 0);
        st = fcd_cache_add(c, key, hex, 16, 0);
        if (st != FCD_CACHE_MISS)
            return st;
        /* Another process added one first: read it. */
        st = fcd_cache_get(c, key, &val, &len);
        if (st == FCD_CACHE_OK) {
            bool ok = unhex64(val, len, gen);
            free(val);
            if (ok)
                return FCD_CACHE_OK;
            replace = true;
        } else if (st != FCD_CACHE_MISS) {
            return st;
        }
    }
    return fcd_cache_fail(c, FCD_CACHE_DECLINED, "memoize: generation key %s keeps vanishing", key);
}

/* ---- values -------------------------------------------------------------- */

static void put_header(unsigned char *h, unsigned flags, uint64_t raw, uint64_t gen,
                       const unsigned char *stored, size_t slen)
{
    memcpy(h, "FCDM", 4);
    h[4] = FCD_MEMO_FORMAT;
    h[5] = (unsigned char)flags;
    h[6] = h[7] = 0;
    fcd_put_u64(h + 8, raw);
    fcd_put_u64(h + 16, slen);
    fcd_put_u64(h + 24, gen);
    checksum(h + 32, stored, slen);
}

/* Outcomes of decode() besides the cache statuses: a corrupt entry, and
 * one computed under another generation (before a forget_all). */
#define LOAD_CORRUPT 100
#define LOAD_STALE 101

/* Fetch a manifest's chunks, FCD_MEMO_CHUNK_BATCH at a time, into `all`
 * (total bytes).  FCD_CACHE_OK, FCD_CACHE_MISS (one is missing or of the
 * wrong length: all or nothing), or the backend's DECLINED/ERROR. */
static fcd_cache_status_t read_chunks(fcd_cache_t *c, const char *key, const unsigned char *m,
                                      uint32_t nchunks, uint64_t csize, uint64_t total,
                                      unsigned char *all)
{
    char ck[FCD_MEMO_CHUNK_BATCH][FCD_MEMO_KEY_BUF];
    const char *keys[FCD_MEMO_CHUNK_BATCH];
    void *cv[FCD_MEMO_CHUNK_BATCH];
    size_t clen[FCD_MEMO_CHUNK_BATCH];
    bool found[FCD_MEMO_CHUNK_BATCH];

    for (uint32_t first = 0; first < nchunks; first += FCD_MEMO_CHUNK_BATCH) {
        size_t n = nchunks - first < FCD_MEMO_CHUNK_BATCH ? nchunks - first : FCD_MEMO_CHUNK_BATCH;
        fcd_cache_status_t st;
        bool whole = true;

        for (size_t j = 0; j < n; j++) {
            chunk_key(key, m, first + (uint32_t)j, ck[j]);
            keys[j] = ck[j];
        }
        st = fcd_cache_get_multi(c, n, keys, cv, clen, found);
        if (st != FCD_CACHE_OK)
            return st;
        for (size_t j = 0; j < n; j++) {
            /* total is bounded by value_max (< 2^33): no overflow. */
            uint64_t off = (first + j) * csize;
            uint64_t want = total - off < csize ? total - off : csize;
            if (whole && found[j] && clen[j] == want)
                memcpy(all + off, cv[j], (size_t)want);
            else
                whole = false;
            free(cv[j]);
        }
        if (!whole)
            return FCD_CACHE_MISS;
    }
    return FCD_CACHE_OK;
}

/*
 * Decode the value `v` (vlen bytes, taken over) read under `key` into res
 * (data, len, mem), if it was computed under generation `gen`.  Returns
 * FCD_CACHE_OK, FCD_CACHE_MISS (of another format, or over value_max, or a
 * chunk missing), LOAD_STALE, LOAD_CORRUPT, or the backend's
 * DECLINED/ERROR.
 */
static int decode(fcd_cache_t *c, const char *key, unsigned char *v, size_t vlen, uint64_t gen,
                  fcd_memo_result_t *res)
{
    const fcd_cache_settings_t *set = &c->settings;
    unsigned char *body, sum[CKSUM_LEN];
    size_t blen;
    uint64_t raw, slen;
    unsigned flags;
    int st;

    if (vlen < 5 || memcmp(v, "FCDM", 4) != 0)
        goto corrupt;
    if (v[4] != FCD_MEMO_FORMAT) {
        /* Another version's format (a rolling upgrade): not ours to read,
         * nor to delete; our store replaces it. */
        free(v);
        return FCD_CACHE_MISS;
    }
    if (vlen < FCD_MEMO_HDR)
        goto corrupt;
    flags = v[5];
    raw = fcd_get_u64(v + 8);
    slen = fcd_get_u64(v + 16);
    if ((flags & ~(FLAG_LZ4 | FLAG_MANIFEST)) || slen != vlen - FCD_MEMO_HDR)
        goto corrupt;
    if (fcd_get_u64(v + 24) != gen) {
        /* Before checksumming: a stale value is left to be overwritten. */
        free(v);
        return LOAD_STALE;
    }
    checksum(sum, v + FCD_MEMO_HDR, vlen - FCD_MEMO_HDR);
    if (memcmp(sum, v + 32, CKSUM_LEN) != 0)
        goto corrupt;
    if (raw > set->value_max) {
        /* Written by a worker with a larger bound: not ours to read. */
        free(v);
        return FCD_CACHE_MISS;
    }
    body = v + FCD_MEMO_HDR;
    blen = vlen - FCD_MEMO_HDR;

    if (flags & FLAG_MANIFEST) {
        const unsigned char *m = body;
        uint32_t nchunks;
        uint64_t csize, total;
        unsigned char *all;

        if (blen != MANIFEST_LEN)
            goto corrupt;
        nchunks = fcd_get_u32(m + 8);
        csize = fcd_get_u64(m + 16);
        total = fcd_get_u64(m + 24);
        if (total > set->value_max) {
            free(v);
            return FCD_CACHE_MISS;
        }
        /* total is now bounded by value_max (< 2^33), so no overflow. */
        if (csize == 0 || csize > total + csize || nchunks == 0 ||
            nchunks > FCD_MEMO_CHUNKS_MAX || (total + csize - 1) / csize != nchunks)
            goto corrupt;
        all = malloc(total ? (size_t)total : 1);
        if (!all) {
            free(v);
            return fcd_cache_fail(c, FCD_CACHE_ERROR, "memoize: out of memory for %llu bytes",
                                  (unsigned long long)total);
        }
        st = read_chunks(c, key, m, nchunks, csize, total, all);
        if (st != FCD_CACHE_OK) {
            /* All or nothing: a chunk evicted or expired is a miss. */
            free(all);
            free(v);
            return st;
        }
        checksum(sum, all, (size_t)total);
        if (memcmp(sum, m + 32, CKSUM_LEN) != 0) {
            free(all);
            goto corrupt;
        }
        free(v);
        v = all;
        body = all;
        blen = (size_t)total;
    }

    if (flags & FLAG_LZ4) {
        unsigned char *out;
        int n;
        if (raw > INT_MAX || blen > INT_MAX)
            goto corrupt;
        out = malloc(raw ? (size_t)raw : 1);
        if (!out) {
            free(v);
            return fcd_cache_fail(c, FCD_CACHE_ERROR, "memoize: out of memory for %llu bytes",
                                  (unsigned long long)raw);
        }
        n = LZ4_decompress_safe((const char *)body, (char *)out, (int)blen, (int)raw);
        if (n < 0 || (uint64_t)n != raw) {
            free(out);
            goto corrupt;
        }
        free(v);
        v = out;
        body = out;
        blen = (size_t)raw;
    } else if (raw != blen) {
        goto corrupt;
    }
    res->mem = v;
    res->data = blen ? body : NULL;
    res->len = blen;
    return FCD_CACHE_OK;

corrupt:
    free(v);
    return LOAD_CORRUPT;
}

/* Outcome of store_value() besides the cache statuses: too large. */
#define STORE_TOO_LARGE 102

static fcd_cache_status_t put_item(fcd_cache_t *c, const char *key, unsigned flags, uint64_t raw,
                                   uint64_t gen, unsigned char *buf, size_t slen, unsigned ttl)
{
    put_header(buf, flags, raw, gen, buf + FCD_MEMO_HDR, slen);
    return fcd_cache_set(c, key, buf, FCD_MEMO_HDR + slen, ttl);
}

/* Encode and store a value computed under generation `gen` (see top of
 * file).  Returns FCD_CACHE_OK, STORE_TOO_LARGE, or the backend's
 * DECLINED/ERROR. */
static int store_value(fcd_cache_t *c, const char *key, uint64_t gen, const void *data,
                       size_t len, unsigned ttl)
{
    const fcd_cache_settings_t *set = &c->settings;
    const unsigned char *body = data;
    unsigned char *buf = NULL;
    size_t blen = len;
    unsigned flags = 0;
    int st;

    if (len > set->value_max)
        return STORE_TOO_LARGE;
    if (set->item_max < FCD_MEMO_HDR + MANIFEST_LEN + 1)
        return fcd_cache_fail(c, FCD_CACHE_DECLINED,
                              "memoize: item_max %zu is too small for a manifest", set->item_max);
    if (len >= set->compress_min && len > 0 && len <= (size_t)LZ4_MAX_INPUT_SIZE) {
        int bound = LZ4_compressBound((int)len), n;
        buf = malloc(FCD_MEMO_HDR + (size_t)bound);
        if (buf) {
            n = LZ4_compress_default(data, (char *)buf + FCD_MEMO_HDR, (int)len, bound);
            if (n > 0 && (size_t)n < len) {
                body = buf + FCD_MEMO_HDR;
                blen = (size_t)n;
                flags |= FLAG_LZ4;
            } else {
                free(buf);
                buf = NULL;
            }
        }
        /* No memory to compress: store it as it is. */
    }

    if (blen <= set->item_max - FCD_MEMO_HDR) {
        if (!buf) {
            buf = malloc(FCD_MEMO_HDR + blen);
            if (!buf)
                return fcd_cache_fail(c, FCD_CACHE_ERROR, "memoize: out of memory for %zu bytes",
                                      blen);
            if (blen)
                memcpy(buf + FCD_MEMO_HDR, body, blen);
        }
        st = put_item(c, key, flags, len, gen, buf, blen, ttl);
    } else {
        unsigned char man[FCD_MEMO_HDR + MANIFEST_LEN];
        size_t csize = set->item_max;
        uint64_t nchunks = (blen + csize - 1) / csize;
        unsigned cttl = ttl ? fcd_cache_ttl(ttl) + FCD_MEMO_CHUNK_TTL_MARGIN : 0;

        if (nchunks > FCD_MEMO_CHUNKS_MAX) {
            free(buf);
            return STORE_TOO_LARGE;
        }
        randombytes_buf(man + FCD_MEMO_HDR, 8);
        fcd_put_u32(man + FCD_MEMO_HDR + 8, (uint32_t)nchunks);
        fcd_put_u32(man + FCD_MEMO_HDR + 12, 0);
        fcd_put_u64(man + FCD_MEMO_HDR + 16, csize);
        fcd_put_u64(man + FCD_MEMO_HDR + 24, blen);
        checksum(man + FCD_MEMO_HDR + 32, body, blen);
        st = FCD_CACHE_OK;
        for (uint32_t i = 0; i < nchunks && st == FCD_CACHE_OK; i++) {
            char ck[FCD_MEMO_KEY_BUF];
            size_t off = (size_t)i * csize;
            chunk_key(key, man + FCD_MEMO_HDR, i, ck);
            st = fcd_cache_set(c, ck, body + off, blen - off < csize ? blen - off : csize, cttl);
        }
        if (st == FCD_CACHE_OK) {
            st = put_item(c, key, flags | FLAG_MANIFEST, len, gen, man, MANIFEST_LEN, ttl);
            if (st == FCD_CACHE_OK)
                fcd_cache_stats_add(c->stats, FCD_CACHE_C_CHUNKED, 1);
        }
    }
    free(buf);
    return st;
}

/* ---- the call ------------------------------------------------------------ */

void fcd_memo_set_msg(fcd_memo_result_t *res, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(res->msg, sizeof res->msg, fmt, ap);
    va_end(ap);
}

const char *fcd_memo_why(const fcd_cache_t *c)
{
    return c->err[0] ? c->err : "cache unavailable";
}

int64_t fcd_memo_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

unsigned fcd_memo_next_nap(unsigned *delay, unsigned max, int64_t left)
{
    unsigned nap = *delay + randombytes_uniform(*delay / 2 + 1);

    *delay = *delay * 2 < max ? *delay * 2 : max;
    return (int64_t)nap < left ? nap : (unsigned)left;
}

void fcd_memo_sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

    /* A signal cuts the sleep short; the caller's loop checks its clock. */
    nanosleep(&ts, NULL);
}

/* One memoized call on its way. */
struct job {
    const char *fn;
    char key[FCD_MEMO_KEY_BUF];  /* the entry */
    char gkey[FCD_MEMO_KEY_BUF]; /* fn's generation */
    uint64_t gen;                /* fn's generation, as last read */
    unsigned ttl;
    fcd_memo_compute_fn fnp;
    void *ctx;
};

/*
 * Run the compute function into res.  `store`: also store the result under
 * the job's key and generation.  `degraded`: the message already in res
 * (the cache's fault) makes the outcome DECLINED whatever happens here.
 */
static fcd_cache_status_t compute(fcd_cache_t *c, const struct job *j, bool store, bool degraded,
                                  fcd_memo_result_t *res)
{
    char err[FCD_CACHE_ERR_MAX] = "";
    void *out = NULL;
    size_t len = 0;
    fcd_cache_status_t st;
    int sst;

    fcd_cache_stats_add(c->stats, FCD_CACHE_C_MISSES, 1);
    fcd_cache_stats_add(c->stats, FCD_CACHE_C_COMPUTES, 1);
    st = j->fnp(j->ctx, &out, &len, err, sizeof err);
    if (st != FCD_CACHE_OK && st != FCD_CACHE_DECLINED) {
        free(out);
        fcd_memo_set_msg(res, "%s: %s", j->fn, err[0] ? err : "compute function failed");
        return FCD_CACHE_ERROR;
    }
    if (len > 0 && !out) {
        fcd_memo_set_msg(res, "%s: compute function returned %zu bytes at NULL", j->fn, len);
        return FCD_CACHE_ERROR;
    }
    res->mem = out;
    res->data = len ? out : NULL;
    res->len = len;
    res->source = FCD_MEMO_LOCAL;
    if (st == FCD_CACHE_DECLINED || !store)
        return degraded ? FCD_CACHE_DECLINED : FCD_CACHE_OK;

    sst = store_value(c, j->key, j->gen, out, len, j->ttl);
    if (sst == FCD_CACHE_OK) {
        res->source = FCD_MEMO_COMPUTED;
        return degraded ? FCD_CACHE_DECLINED : FCD_CACHE_OK;
    }
    if (sst == STORE_TOO_LARGE) {
        fcd_cache_stats_add(c->stats, FCD_CACHE_C_UNCACHED, 1);
        fcd_memo_set_msg(res,
                "memoize %s: result of %zu bytes is over the cacheable maximum (value_max %zu "
                "bytes, %u chunks); returned uncached",
                j->fn, len, c->settings.value_max, FCD_MEMO_CHUNKS_MAX);
        return FCD_CACHE_DECLINED;
    }
    if (!degraded)
        fcd_memo_set_msg(res, "memoize %s: result not stored: %s", j->fn, fcd_memo_why(c));
    return FCD_CACHE_DECLINED;
}

/* The cache failed before a value was found: compute here, don't store. */
static fcd_cache_status_t fail_open(fcd_cache_t *c, const struct job *j, fcd_memo_result_t *res)
{
    fcd_memo_set_msg(res, "memoize %s: computed without the cache: %s", j->fn, fcd_memo_why(c));
    return compute(c, j, false, true, res);
}

/* Found: count it and say where it came from. */
static fcd_cache_status_t found(fcd_cache_t *c, fcd_memo_source_t source, fcd_memo_result_t *res)
{
    fcd_cache_stats_add(c->stats, FCD_CACHE_C_HITS, 1);
    res->source = source;
    return FCD_CACHE_OK;
}

/*
 * One look, one round trip: fn's generation and the entry in one
 * multi-get (see "Hit path" at the top).  Sets j->gen, making a generation
 * when there is none.  FCD_CACHE_OK with the value in res; FCD_CACHE_MISS
 * when absent, stale or corrupt (a corrupt entry is deleted and counted);
 * or the backend's DECLINED/ERROR.
 */
static int lookup(fcd_cache_t *c, struct job *j, fcd_memo_result_t *res)
{
    const char *keys[2] = {j->gkey, j->key};
    void *vals[2];
    size_t lens[2];
    bool have[2];
    int st = fcd_cache_get_multi(c, 2, keys, vals, lens, have);

    if (st != FCD_CACHE_OK)
        return st;
    if (!have[0] || !unhex64(vals[0], lens[0], &j->gen)) {
        /* Unreadable: replaced, which invalidates fn (safe). */
        st = new_gen(c, j->gkey, have[0], &j->gen);
        if (st != FCD_CACHE_OK) {
            free(vals[0]);
            free(vals[1]);
            return st;
        }
    }
    free(vals[0]);
    if (!have[1])
        return FCD_CACHE_MISS;
    st = decode(c, j->key, vals[1], lens[1], j->gen, res);
    if (st == LOAD_STALE)
        return FCD_CACHE_MISS;
    if (st == LOAD_CORRUPT) {
        fcd_cache_stats_add(c->stats, FCD_CACHE_C_ERRORS, 1);
        fcd_cache_delete(c, j->key);
        return FCD_CACHE_MISS;
    }
    return st;
}

/* We hold the lock: look once more, else compute and store; unlock. */
static fcd_cache_status_t locked(fcd_cache_t *c, struct job *j, fcd_cache_lock_t *lk,
                                 fcd_memo_source_t if_found, fcd_memo_result_t *res)
{
    fcd_cache_status_t st;
    int ls = lookup(c, j, res);

    if (ls == FCD_CACHE_OK) {
        fcd_cache_unlock(c, lk);
        return found(c, if_found, res);
    }
    if (ls != FCD_CACHE_MISS) {
        /* Keep the backend's message before unlock overwrites it. */
        fcd_memo_set_msg(res, "memoize %s: computed without the cache: %s", j->fn,
                         fcd_memo_why(c));
        fcd_cache_unlock(c, lk);
        return compute(c, j, false, true, res);
    }
    st = compute(c, j, true, false, res);
    fcd_cache_unlock(c, lk);
    return st;
}

static fcd_cache_status_t call(fcd_cache_t *c, const char *fn, const char *version,
                               const struct args *a, unsigned ttl, fcd_memo_compute_fn fnp,
                               void *ctx, fcd_memo_result_t *res)
{
    struct job j = {.fn = fn, .ttl = ttl, .fnp = fnp, .ctx = ctx};
    char lkey[FCD_MEMO_KEY_BUF];
    fcd_cache_lock_t lk = {0};
    int64_t deadline;
    unsigned delay = FCD_MEMO_BACKOFF_MIN_MS;
    size_t klen;
    int st;

    memset(res, 0, sizeof *res);
    if (!fn || !fnp) {
        fcd_memo_set_msg(res, "memoize: no function name or compute function");
        return FCD_CACHE_ERROR;
    }
    if (c->ops->stores_nothing)
        return compute(c, &j, false, false, res);

    if ((klen = make_key(c->app, fn, version, a, j.key)) == 0) {
        fcd_memo_set_msg(res, "memoize %s: arguments nest deeper than %d levels, or out of memory", fn,
                FCD_MEMO_JSON_DEPTH_MAX);
        return FCD_CACHE_ERROR;
    }
    gen_key(c->app, fn, j.gkey);
    st = lookup(c, &j, res);
    if (st == FCD_CACHE_OK)
        return found(c, FCD_MEMO_HIT, res);
    if (st != FCD_CACHE_MISS)
        return fail_open(c, &j, res);

    memcpy(lkey, j.key, klen);
    memcpy(lkey + klen, ":lock", 6);
    st = fcd_cache_lock(c, lkey, c->settings.lock_ttl, &lk);
    if (st == FCD_CACHE_OK)
        return locked(c, &j, &lk, FCD_MEMO_HIT, res);
    if (st != FCD_CACHE_MISS)
        return fail_open(c, &j, res);

    /* Another process computes: wait for its value, bounded. */
    fcd_cache_stats_add(c->stats, FCD_CACHE_C_LOCK_WAITS, 1);
    deadline = fcd_memo_now_ms() + c->settings.wait_ms;
    for (;;) {
        int64_t left = deadline - fcd_memo_now_ms();

        if (left <= 0)
            break;
        fcd_memo_sleep_ms(fcd_memo_next_nap(&delay, FCD_MEMO_BACKOFF_MAX_MS, left));

        st = lookup(c, &j, res);
        if (st == FCD_CACHE_OK)
            return found(c, FCD_MEMO_WAITED, res);
        if (st != FCD_CACHE_MISS)
            return fail_open(c, &j, res);
        /* The holder finished without storing (too large, failed) or died
         * and its lock expired: take over. */
        st = fcd_cache_lock(c, lkey, c->settings.lock_ttl, &lk);
        if (st == FCD_CACHE_OK)
            return locked(c, &j, &lk, FCD_MEMO_WAITED, res);
        if (st != FCD_CACHE_MISS)
            return fail_open(c, &j, res);
    }
    fcd_memo_set_msg(res, "memoize %s: waited %u ms for another process computing the same call; computed "
                 "here",
            fn, c->settings.wait_ms);
    return compute(c, &j, true, true, res);
}

fcd_cache_status_t fcd_memo_call(fcd_cache_t *c, const char *fn, const char *version,
                                 const void *args, size_t args_len, unsigned ttl,
                                 fcd_memo_compute_fn compute_fn, void *ctx, fcd_memo_result_t *res)
{
    struct args a = {.bytes = args, .len = args_len};

    if (args_len > 0 && !args) {
        memset(res, 0, sizeof *res);
        fcd_memo_set_msg(res, "memoize: NULL arguments");
        return FCD_CACHE_ERROR;
    }
    return call(c, fn, version, &a, ttl, compute_fn, ctx, res);
}

fcd_cache_status_t fcd_memo_call_json(fcd_cache_t *c, const char *fn, const char *version,
                                      json_object *args, unsigned ttl,
                                      fcd_memo_compute_fn compute_fn, void *ctx,
                                      fcd_memo_result_t *res)
{
    struct args a = {.json = args, .is_json = true};

    return call(c, fn, version, &a, ttl, compute_fn, ctx, res);
}

void fcd_memo_release(fcd_memo_result_t *res)
{
    if (!res)
        return;
    free(res->mem);
    res->mem = NULL;
    res->data = NULL;
    res->len = 0;
}

static fcd_cache_status_t forget(fcd_cache_t *c, const char *fn, const char *version,
                                 const struct args *a)
{
    char key[FCD_MEMO_KEY_BUF];

    c->err[0] = '\0';
    if (!fn)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "memoize: no function name");
    if (c->ops->stores_nothing)
        return FCD_CACHE_MISS;
    if (make_key(c->app, fn, version, a, key) == 0)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "memoize %s: arguments too deep", fn);
    /* The entry's key does not depend on the generation: one delete.
     * Deleting the manifest is enough: its chunks are unreachable and
     * expire with their TTL. */
    return fcd_cache_delete(c, key);
}

fcd_cache_status_t fcd_memo_forget(fcd_cache_t *c, const char *fn, const char *version,
                                   const void *args, size_t args_len)
{
    struct args a = {.bytes = args, .len = args_len};

    return forget(c, fn, version, &a);
}

fcd_cache_status_t fcd_memo_forget_json(fcd_cache_t *c, const char *fn, const char *version,
                                        json_object *args)
{
    struct args a = {.json = args, .is_json = true};

    return forget(c, fn, version, &a);
}

fcd_cache_status_t fcd_memo_forget_all(fcd_cache_t *c, const char *fn)
{
    char key[FCD_MEMO_KEY_BUF], hex[17];

    c->err[0] = '\0';
    if (!fn)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "memoize: no function name");
    if (c->ops->stores_nothing)
        return FCD_CACHE_OK;
    gen_key(c->app, fn, key);
    hex64(random_gen(), hex);
    return fcd_cache_set(c, key, hex, 16, 0);
}
