/*
 * hash.c - a set of byte strings handing out dense ids.
 *
 * Used where pandas' orient='columns' needs labels matched by their text:
 * decoding aligns the rows of every column by label, encoding refuses a
 * repeated label as pandas does.  Open addressing with linear probing over
 * a power-of-two table kept at most half full.  The labels come from the
 * network, so the hash is seeded per set (from the set's own address,
 * which ASLR makes unknown to a client): a client cannot prepare keys that
 * all land in one chain and turn a decode quadratic.
 */
#include <stdlib.h>
#include <string.h>

#include "frame/frame_int.h"

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static uint64_t hash_bytes(uint64_t seed, const char *s, size_t n)
{
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ull);

    while (n >= 8) {
        uint64_t w;

        memcpy(&w, s, 8);
        h = mix(h ^ w);
        s += 8;
        n -= 8;
    }
    if (n) {
        uint64_t w = 0;

        memcpy(&w, s, n);
        h = mix(h ^ w ^ 0xa5);
    }
    return mix(h);
}

int frame_strset_init(struct frame_strset *s, const char *const *base,
                      size_t expected)
{
    size_t slots = 16;

    memset(s, 0, sizeof *s);
    while (slots < expected * 2 && slots <= SIZE_MAX / 4)
        slots *= 2;
    s->slots = calloc(slots, sizeof *s->slots);
    if (s->slots == NULL)
        return -1;
    s->mask = slots - 1;
    s->base = base;
    s->seed = mix((uint64_t)(uintptr_t)s->slots ^ (uint64_t)(uintptr_t)s);
    return 0;
}

void frame_strset_free(struct frame_strset *s)
{
    free(s->slots);
    free(s->offs);
    free(s->lens);
    memset(s, 0, sizeof *s);
}

static int grow(struct frame_strset *s)
{
    size_t slots = (s->mask + 1) * 2, *table;

    if (slots > SIZE_MAX / sizeof *table)
        return -1;
    table = calloc(slots, sizeof *table);
    if (table == NULL)
        return -1;
    for (size_t id = 0; id < s->count; id++) {
        size_t at = hash_bytes(s->seed, *s->base + s->offs[id], s->lens[id]) &
                    (slots - 1);

        while (table[at] != 0)
            at = (at + 1) & (slots - 1);
        table[at] = id + 1;
    }
    free(s->slots);
    s->slots = table;
    s->mask = slots - 1;
    return 0;
}

size_t frame_strset_add(struct frame_strset *s, size_t off, size_t len,
                        bool *added)
{
    const char *key = *s->base + off;
    size_t at;

    *added = false;
    /* Keep the table at most half full, so a probe always ends. */
    if ((s->count + 1) * 2 > s->mask + 1 && grow(s) != 0)
        return (size_t)-1;
    for (at = hash_bytes(s->seed, key, len) & s->mask; s->slots[at] != 0;
         at = (at + 1) & s->mask) {
        size_t id = s->slots[at] - 1;

        if (s->lens[id] == len && memcmp(*s->base + s->offs[id], key, len) == 0)
            return id;
    }
    if (s->count == s->keycap) {
        size_t cap = s->keycap ? s->keycap * 2 : 16, *o, *l;

        if (cap > SIZE_MAX / sizeof *o)
            return (size_t)-1;
        if ((o = realloc(s->offs, cap * sizeof *o)) == NULL)
            return (size_t)-1;
        s->offs = o;
        if ((l = realloc(s->lens, cap * sizeof *l)) == NULL)
            return (size_t)-1;
        s->lens = l;
        s->keycap = cap;
    }
    s->offs[s->count] = off;
    s->lens[s->count] = len;
    s->slots[at] = ++s->count;
    *added = true;
    return s->count - 1;
}
