/*
 * chaos.c - the allocation wrappers of chaos.h.  The counters are
 * volatile: GCC assumes malloc leaves static variables alone, and would
 * otherwise cache them across a call.
 */
#include "tests/unit/chaos.h"

#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void __real_free(void *p);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
void __wrap_free(void *p);

static volatile long countdown = -1, live;
static volatile bool fired, seen;
static volatile pid_t armed_by;

bool chaos_fail_now(void)
{
    seen = true;
    if (countdown < 0 || getpid() != armed_by)
        return false;
    if (countdown-- == 0) {
        fired = true;
        return true;
    }
    return false;
}

void *__wrap_malloc(size_t n)
{
    void *p = chaos_fail_now() ? NULL : __real_malloc(n);
    live += p != NULL;
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    void *p = chaos_fail_now() ? NULL : __real_calloc(n, size);
    live += p != NULL;
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    void *q = chaos_fail_now() ? NULL : __real_realloc(p, n);
    live += p == NULL && q != NULL;
    return q;
}

void __wrap_free(void *p)
{
    live -= p != NULL;
    __real_free(p);
}

/* libc's strdup allocates inside libc, out of the wrappers' reach: this
 * one allocates through them (json-c copies every object key so). */
char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = __wrap_malloc(n);
    if (d != NULL)
        memcpy(d, s, n);
    return d;
}

void chaos_arm(unsigned long nth)
{
    fired = false;
    armed_by = getpid();
    countdown = nth == 0 ? -1 : (long)nth - 1;
}

bool chaos_disarm(void)
{
    countdown = -1;
    return fired;
}

bool chaos_fired(void)
{
    return fired;
}

long chaos_live(void)
{
    return live;
}

bool chaos_wrapped(void)
{
    seen = false;
    void *volatile probe = malloc(1);
    free(probe);
    return seen;
}
