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
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);

static volatile long countdown = -1;
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
    return chaos_fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return chaos_fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return chaos_fail_now() ? NULL : __real_realloc(p, n);
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

bool chaos_wrapped(void)
{
    seen = false;
    void *volatile probe = malloc(1);
    free(probe);
    return seen;
}
