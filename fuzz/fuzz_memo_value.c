/*
 * fuzz_memo_value.c - memoize's value decoder: what fcd_memo_call does
 * with the bytes a get returns (header, checksum, LZ4, manifest, chunks),
 * when a peer -- or anyone who can reach memcached -- wrote garbage there.
 *
 * cache/memoize.h exposes no decoder of raw bytes (decode() is static), so
 * this target links with -Wl,--wrap=fcd_cache_get,--wrap=fcd_cache_get_multi
 * and answers memoize's gets itself: the generation key gets a fixed
 * generation (the one the seeds were stored under), the entry key the
 * first part of the input, and each chunk key the next part (parts are
 * separated by the four bytes "\n--\n"), whether asked one at a time or
 * in a multi-get.  Sets, adds, deletes and locks go
 * to a real memory:// backend.  Whatever the bytes, the call must end OK
 * or DECLINED with the compute function's result -- never a wrong result.
 */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/backend.h"
#include "cache/memoize.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
fcd_cache_status_t __wrap_fcd_cache_get(fcd_cache_t *c, const char *key, void **val, size_t *len);
fcd_cache_status_t __real_fcd_cache_get(fcd_cache_t *c, const char *key, void **val, size_t *len);
fcd_cache_status_t __wrap_fcd_cache_get_multi(fcd_cache_t *c, size_t n, const char *const *keys,
                                              void **vals, size_t *lens, bool *found);
fcd_cache_status_t __wrap_fcd_cache_set(fcd_cache_t *c, const char *key, const void *val,
                                        size_t len, unsigned ttl);
fcd_cache_status_t __real_fcd_cache_set(fcd_cache_t *c, const char *key, const void *val,
                                        size_t len, unsigned ttl);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const unsigned char *in;
static size_t in_len, in_pos;
static int gets;

/* The next part of the input, or a miss when it is used up. */
fcd_cache_status_t __wrap_fcd_cache_get(fcd_cache_t *c, const char *key, void **val, size_t *len)
{
    (void)c;
    if (strstr(key, ":gen:") != NULL) {
        *val = malloc(16);
        memcpy(*val, "00000000000000a1", 16);
        *len = 16;
        return FCD_CACHE_OK;
    }
    if (in_pos > in_len || ++gets > 64)
        return FCD_CACHE_MISS;
    const unsigned char *start = in + in_pos, *end = in + in_len, *sep;
    sep = memmem(start, (size_t)(end - start), "\n--\n", 4);
    size_t n = sep ? (size_t)(sep - start) : (size_t)(end - start);
    in_pos += n + 4;
    *val = n ? malloc(n) : NULL;
    if (n && *val == NULL)
        return FCD_CACHE_ERROR;
    if (n)
        memcpy(*val, start, n);
    *len = n;
    return FCD_CACHE_OK;
}

/* Each key as one get; a part that cannot be copied fails the whole call,
 * as a backend's multi-get does. */
fcd_cache_status_t __wrap_fcd_cache_get_multi(fcd_cache_t *c, size_t n, const char *const *keys,
                                              void **vals, size_t *lens, bool *found)
{
    fcd_cache_status_t st = FCD_CACHE_OK;

    for (size_t i = 0; i < n; i++)
        vals[i] = NULL, lens[i] = 0, found[i] = false;
    for (size_t i = 0; i < n && st != FCD_CACHE_ERROR; i++) {
        st = __wrap_fcd_cache_get(c, keys[i], &vals[i], &lens[i]);
        found[i] = st == FCD_CACHE_OK;
    }
    if (st == FCD_CACHE_ERROR) {
        for (size_t i = 0; i < n; i++)
            free(vals[i]), vals[i] = NULL, lens[i] = 0, found[i] = false;
        return FCD_CACHE_ERROR;
    }
    return FCD_CACHE_OK;
}

/* Seeds: with FUZZ_MEMO_SEEDS=DIR set, LLVMFuzzerInitialize stores three
 * real entries (plain, LZ4-compressed, chunked under a manifest) and
 * writes each as the gets would return it -- the entry, then its chunks in
 * order -- into DIR, then exits.  The sets are recorded here in order. */
static FILE *dump;
static unsigned char *chunks;
static size_t chunks_len;

fcd_cache_status_t __wrap_fcd_cache_set(fcd_cache_t *c, const char *key, const void *val,
                                        size_t len, unsigned ttl)
{
    if (dump != NULL && strstr(key, ":gen:") == NULL) {
        if (strstr(key, ":c") != NULL && strrchr(key, ':') > strstr(key, ":c")) {
            chunks = realloc(chunks, chunks_len + 4 + len);
            memcpy(chunks + chunks_len, "\n--\n", 4);
            memcpy(chunks + chunks_len + 4, val, len);
            chunks_len += 4 + len;
        } else {
            fwrite(val, 1, len, dump); /* the entry (or manifest) comes last */
            fwrite(chunks, 1, chunks_len, dump);
        }
    }
    return __real_fcd_cache_set(c, key, val, len, ttl);
}

static size_t result_len = 20;
static unsigned char result[300000] = "the computed result";

static fcd_cache_status_t compute(void *ctx, void **out, size_t *out_len, char *err,
                                  size_t errlen)
{
    (void)ctx, (void)err, (void)errlen;
    *out = malloc(result_len);
    if (*out == NULL)
        return FCD_CACHE_ERROR;
    memcpy(*out, result, result_len);
    *out_len = result_len;
    return FCD_CACHE_OK;
}

static void seed(const char *dir, const char *name, size_t len, size_t item_max,
                 size_t compress_min)
{
    fcd_cache_t *c;
    char err[FCD_CACHE_ERR_MAX], path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (fcd_cache_open(&c, "memory://", "fuzz", NULL, err, sizeof err) != FCD_CACHE_OK)
        abort();
    fcd_cache_settings(c)->item_max = item_max;
    fcd_cache_settings(c)->compress_min = compress_min;
    result_len = len;
    for (size_t i = 20; i < len; i++) /* compressible, not constant */
        result[i] = (unsigned char)("abcdefgh"[i % 8] + (i % 1000 == 0));
    dump = fopen(path, "wb");
    chunks_len = 0;
    in = NULL, in_len = 0, in_pos = 1; /* every get misses */
    fcd_memo_result_t res;
    if (dump == NULL ||
        fcd_memo_call(c, "f", NULL, "[1]", 3, 0, compute, NULL, &res) == FCD_CACHE_ERROR)
        abort();
    fcd_memo_release(&res);
    fclose(dump);
    dump = NULL;
    fcd_cache_close(c);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    const char *dir = getenv("FUZZ_MEMO_SEEDS");
    if (dir != NULL) {
        seed(dir, "plain", 20, 1u << 20, 1u << 20);
        seed(dir, "lz4", 4000, 1u << 20, 100);
        seed(dir, "chunked", 3000, 1024, 1u << 20);
        exit(0);
    }
    result_len = 20;
    return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    static fcd_cache_t *cache;
    char err[FCD_CACHE_ERR_MAX];
    if (cache == NULL) {
        if (fcd_cache_open(&cache, "memory://", "fuzz", NULL, err, sizeof err) != FCD_CACHE_OK)
            abort();
        fcd_cache_settings(cache)->wait_ms = 0;
    }
    in = data, in_len = size, in_pos = 0, gets = 0;
    fcd_memo_result_t res;
    fcd_cache_status_t st = fcd_memo_call(cache, "f", NULL, "[1]", 3, 0, compute, NULL, &res);
    if (st == FCD_CACHE_ERROR)
        abort();
    /* A hit may only return bytes that decoded and checksummed: anything
     * else is what compute made. */
    if (res.source != FCD_MEMO_HIT && res.source != FCD_MEMO_WAITED &&
        (res.len != result_len || memcmp(res.data, result, result_len) != 0))
        abort();
    fcd_memo_release(&res);
    return 0;
}
