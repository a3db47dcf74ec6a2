/*
 * arena.h - per-request memory, released in one go.
 *
 * Every allocation made while answering a request comes from the request's
 * arena and is released when the response has been written, like an nginx
 * pool.  Objects with their own release function (json-c values) are
 * registered as cleanups and released with the arena.  The first chunk is
 * kept across resets, so a worker answering small requests does not call
 * malloc for its arena at all once warm.
 */
#ifndef FCD_ARENA_H
#define FCD_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct fcd_arena_chunk fcd_arena_chunk_t;
typedef struct fcd_arena_cleanup fcd_arena_cleanup_t;

typedef struct fcd_arena {
    fcd_arena_chunk_t *chunks;     /* newest first; the last one is kept */
    fcd_arena_cleanup_t *cleanups; /* run newest first on reset */
} fcd_arena_t;

/* An empty arena; allocates nothing yet. */
void fcd_arena_init(fcd_arena_t *arena);

/* Run the cleanups and release every chunk but the first (kept warm). */
void fcd_arena_reset(fcd_arena_t *arena);

/* Release everything, including the warm chunk. */
void fcd_arena_free(fcd_arena_t *arena);

/* `size` zeroed bytes aligned for any type; NULL when out of memory or
 * when the size overflows. */
void *fcd_arena_alloc(fcd_arena_t *arena, size_t size);

/* Copies; NULL when out of memory. */
char *fcd_arena_strdup(fcd_arena_t *arena, const char *s);
char *fcd_arena_strndup(fcd_arena_t *arena, const char *s, size_t n);
char *fcd_arena_vprintf(fcd_arena_t *arena, const char *fmt, va_list ap);
char *fcd_arena_printf(fcd_arena_t *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Call fn(ptr) when the arena is reset.  Returns 0, or -1 when out of
 * memory (then fn(ptr) has been called at once, so nothing leaks). */
int fcd_arena_on_reset(fcd_arena_t *arena, void (*fn)(void *), void *ptr);

#endif
