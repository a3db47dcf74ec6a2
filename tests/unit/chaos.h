/*
 * chaos.h - jansson's "chaos malloc" for the unit tests: fail the n-th
 * allocation, for n = 1, 2, ... until a run needs no failure, and check
 * that every failure is handled (STYLE.md, "Errors").
 *
 * A test links chaos.c with CHAOS_WRAP_FLAGS (tests/unit/chaos.mk):
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=free, so every
 * allocation made by code compiled into the program, or linked into it
 * from a static archive, goes through the wrappers here.  A shared
 * library's own calls do not (libc's internals, libmemcached's,
 * libsodium's); chaos_json.c fails json-c's constructors where the
 * program calls them (CHAOS_JSON_WRAP_FLAGS).  Only the process that armed the
 * count fails allocations, so a server a test forks goes on unharmed.
 */
#ifndef FCD_TEST_CHAOS_H
#define FCD_TEST_CHAOS_H

#include <stdbool.h>

/* Fail the nth allocation from now on (1 is the next one); 0 disarms. */
void chaos_arm(unsigned long nth);

/* Stop failing; returns whether the armed failure happened (false: the
 * code under test made fewer than nth allocations, and the loop is done). */
bool chaos_disarm(void);

/* Count one allocation: true when it is the one to fail.  For wrappers
 * of allocating functions out of the malloc wrappers' reach (chaos_json.c). */
bool chaos_fail_now(void);

/* Whether the armed failure has happened yet. */
bool chaos_fired(void);

/* Blocks allocated through the wrappers and not yet freed: the same
 * before and after a sequence of calls means they leaked nothing (only
 * meaningful for code whose blocks are all its own: a block a shared
 * library allocated and the code frees counts as -1). */
long chaos_live(void);

/* Whether allocations reach the wrappers at all (false: the program was
 * linked without CHAOS_WRAP_FLAGS, and a chaos test would prove nothing). */
bool chaos_wrapped(void);

#endif
