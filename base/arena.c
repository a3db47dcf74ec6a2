/*
 * arena.c - bump allocation in chunks, with cleanups.
 *
 * Chunks are at least FCD_ARENA_CHUNK bytes; a larger request gets a chunk
 * of its own.  Alignment is that of max_align_t.  Nothing here is shared
 * between requests but the warm first chunk, which reset zeroes lazily
 * (alloc zeroes what it hands out).
 */
#include "base/arena.h"

#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 16 KiB covers a typical callback (request body parse, small answer). */
#define FCD_ARENA_CHUNK ((size_t)16384)

struct fcd_arena_chunk {
    fcd_arena_chunk_t *next;
    size_t size; /* usable bytes in data[] */
    size_t used;
    alignas(max_align_t) unsigned char data[];
};

struct fcd_arena_cleanup {
    fcd_arena_cleanup_t *next;
    void (*fn)(void *);
    void *ptr;
};

void fcd_arena_init(fcd_arena_t *arena)
{
    arena->chunks = NULL;
    arena->cleanups = NULL;
}

static void run_cleanups(fcd_arena_t *arena)
{
    /* A cleanup may not allocate from this arena, so the list is stable. */
    fcd_arena_cleanup_t *c = arena->cleanups;
    arena->cleanups = NULL;
    for (; c != NULL; c = c->next)
        c->fn(c->ptr);
}

void fcd_arena_reset(fcd_arena_t *arena)
{
    run_cleanups(arena);
    fcd_arena_chunk_t *c = arena->chunks;
    if (c == NULL)
        return;
    /* Keep the oldest chunk (the last in the list) when it is a standard
     * one; oversized chunks are never kept warm. */
    fcd_arena_chunk_t *keep = NULL;
    while (c != NULL) {
        fcd_arena_chunk_t *next = c->next;
        if (next == NULL && c->size == FCD_ARENA_CHUNK) {
            keep = c;
            keep->used = 0;
            keep->next = NULL;
        } else {
            free(c);
        }
        c = next;
    }
    arena->chunks = keep;
}

void fcd_arena_free(fcd_arena_t *arena)
{
    fcd_arena_reset(arena);
    free(arena->chunks);
    arena->chunks = NULL;
}

static size_t align_up(size_t n)
{
    size_t a = alignof(max_align_t);
    return (n + a - 1) & ~(a - 1);
}

void *fcd_arena_alloc(fcd_arena_t *arena, size_t size)
{
    if (size == 0)
        size = 1;
    if (size > SIZE_MAX / 2)
        return NULL;
    size_t need = align_up(size);
    fcd_arena_chunk_t *c = arena->chunks;
    if (c == NULL || c->size - c->used < need) {
        size_t csize = need > FCD_ARENA_CHUNK ? need : FCD_ARENA_CHUNK;
        fcd_arena_chunk_t *n = malloc(sizeof *n + csize);
        if (n == NULL)
            return NULL;
        n->size = csize;
        n->used = 0;
        if (c != NULL && csize != FCD_ARENA_CHUNK) {
            /* An oversized block goes behind the current chunk, so the
             * current chunk's free space stays usable. */
            n->next = c->next;
            c->next = n;
            n->used = need;
            memset(n->data, 0, need);
            return n->data;
        }
        n->next = c;
        arena->chunks = c = n;
    }
    void *p = c->data + c->used;
    c->used += need;
    memset(p, 0, need);
    return p;
}

char *fcd_arena_strndup(fcd_arena_t *arena, const char *s, size_t n)
{
    if (n == SIZE_MAX)
        return NULL;
    char *d = fcd_arena_alloc(arena, n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *fcd_arena_strdup(fcd_arena_t *arena, const char *s)
{
    return fcd_arena_strndup(arena, s, strlen(s));
}

char *fcd_arena_vprintf(fcd_arena_t *arena, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return NULL;
    char *d = fcd_arena_alloc(arena, (size_t)n + 1);
    if (d != NULL)
        vsnprintf(d, (size_t)n + 1, fmt, ap);
    return d;
}

char *fcd_arena_printf(fcd_arena_t *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *d = fcd_arena_vprintf(arena, fmt, ap);
    va_end(ap);
    return d;
}

int fcd_arena_on_reset(fcd_arena_t *arena, void (*fn)(void *), void *ptr)
{
    fcd_arena_cleanup_t *c = fcd_arena_alloc(arena, sizeof *c);
    if (c == NULL) {
        fn(ptr);
        return -1;
    }
    c->fn = fn;
    c->ptr = ptr;
    c->next = arena->cleanups;
    arena->cleanups = c;
    return 0;
}
