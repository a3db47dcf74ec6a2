/*
 * freeze.h - app data becomes read-only when serving starts.
 *
 * Dash's rule is that a callback must never change global state: each
 * worker would diverge from the others.  fcdash enforces it.  Data the app
 * builds before fcd_run() lives in pages from fcd_frozen_alloc(), and the
 * program's own global variables live in its writable data segment; both
 * are made read-only (mprotect) before the first request is accepted.  A
 * callback that writes there faults; the fault handler turns that into a
 * failed call naming the variable, and the worker goes on serving (the
 * write never happened, so nothing is corrupt).  Any other crash of a
 * callback, or a callback overrunning its time limit, is reported the same
 * way but marks the worker for replacement, since its memory may be
 * inconsistent.
 *
 * Signals are process-wide, so the fault handler's state (the frozen
 * ranges and the jump target of the callback in hand) is the one piece of
 * process-wide mutable state in the library; it lives in this file only.
 */
#ifndef FCD_FREEZE_H
#define FCD_FREEZE_H

#include <stdbool.h>
#include <stddef.h>

#include "fcdash.h"

typedef struct fcd_frozen_region fcd_frozen_region_t;

/* Pages for app data; frozen together with the program's globals. */
typedef struct fcd_frozen {
    fcd_frozen_region_t *regions;
    bool frozen;
} fcd_frozen_t;

/* Zeroed memory in frozen-to-be pages.  NULL when out of memory or after
 * fcd_freeze(). */
void *fcd_frozen_alloc(fcd_frozen_t *f, size_t size);

/* Make the app pages and, when `program` is set, the program's writable
 * data segment read-only.  Refuses (-1 with a message) when the program
 * uses lazy binding, whose slots share those pages. */
int fcd_freeze(fcd_frozen_t *f, bool program, char *err, size_t errlen);

/* Undo fcd_freeze and release the app pages (at exit). */
void fcd_frozen_release(fcd_frozen_t *f);

/* What went wrong inside a guarded callback. */
typedef struct fcd_fault {
    int sig;            /* 0: none; SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGALRM */
    bool frozen_write;  /* a write to frozen data: the worker is intact */
    bool worker_unsafe; /* crash or time-out: replace the worker */
    char message[640];
} fcd_fault_t;

/* Install the fault handlers (on an alternate stack, so a runaway
 * recursion is caught too).  Returns 0 or -1 with a message. */
int fcd_fault_handlers_install(char *err, size_t errlen);

/* Call fn(call) so that a fault or a time-out (seconds, 0 = none) returns
 * FCD_ERROR with `fault` filled, instead of killing the process. */
fcd_status_t fcd_guarded_call(fcd_callback_fn fn, fcd_call_t *call, unsigned time_limit,
                              fcd_fault_t *fault);

#endif
