/*
 * freeze.c - read-only app data and the callback fault guard (freeze.h).
 *
 * The program's writable PT_LOAD segment holds .data and .bss (and, under
 * lazy binding, .got.plt, which the dynamic linker writes on first call of
 * each function: freezing it would crash the next new call, so lazy
 * binding is refused with advice).  Its RELRO head is already read-only.
 * Copies of libc variables the program references (stderr, environ) sit
 * there too; they are only read after start-up.
 *
 * The guard uses sigsetjmp/siglongjmp out of the signal handler.  That is
 * sound for the faults it catches: they are synchronous in the callback's
 * own code, and after one that is not a frozen write the worker answers and
 * exits, so no half-updated allocator state is used again.
 */
#define _GNU_SOURCE
#include "base/freeze.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

/* App data comes in regions of at least this many bytes. */
#define FCD_FROZEN_REGION ((size_t)1 << 20)
#define MAX_RANGES 32

struct fcd_frozen_region {
    fcd_frozen_region_t *next;
    size_t size; /* whole mapping, header included */
    size_t used;
};

/* Process-wide fault state (see freeze.h for why it must be global). */
static struct range {
    uintptr_t lo, hi;
} frozen_ranges[MAX_RANGES];
static volatile sig_atomic_t n_frozen_ranges;
static sigjmp_buf *volatile guard_target;
static volatile sig_atomic_t fault_signal;
static void *volatile fault_address;

static size_t page_size(void)
{
    long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? (size_t)p : 4096;
}

void *fcd_frozen_alloc(fcd_frozen_t *f, size_t size)
{
    if (f->frozen || size > SIZE_MAX / 2)
        return NULL;
    size_t need = (size + 15) & ~(size_t)15;
    fcd_frozen_region_t *r = f->regions;
    if (r == NULL || r->size - r->used < need) {
        size_t hdr = (sizeof *r + 15) & ~(size_t)15, ps = page_size();
        if (need > SIZE_MAX - hdr - ps)
            return NULL;
        size_t map = hdr + need > FCD_FROZEN_REGION ? hdr + need : FCD_FROZEN_REGION;
        map = (map + ps - 1) & ~(ps - 1);
        void *m = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
            return NULL;
        r = m; /* mmap memory is zeroed */
        r->size = map;
        r->used = hdr;
        r->next = f->regions;
        f->regions = r;
    }
    void *p = (char *)r + r->used;
    r->used += need;
    return p;
}

static void add_range(uintptr_t lo, uintptr_t hi)
{
    if (n_frozen_ranges < MAX_RANGES) {
        frozen_ranges[n_frozen_ranges].lo = lo;
        frozen_ranges[n_frozen_ranges].hi = hi;
        n_frozen_ranges++;
    }
}

static bool in_frozen_range(uintptr_t a)
{
    for (sig_atomic_t i = 0; i < n_frozen_ranges; i++)
        if (a >= frozen_ranges[i].lo && a < frozen_ranges[i].hi)
            return true;
    return false;
}

struct program_info {
    bool found;
    bool bind_now;
    uintptr_t lo[4], hi[4];
    int nseg;
};

static int find_program(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    struct program_info *pi = data;
    /* The first object reported is the program itself. */
    pi->found = true;
    size_t ps = page_size();
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type == PT_LOAD && (ph->p_flags & PF_W) && pi->nseg < 4) {
            uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
            uintptr_t hi = lo + ph->p_memsz;
            pi->lo[pi->nseg] = lo & ~(uintptr_t)(ps - 1);
            pi->hi[pi->nseg] = (hi + ps - 1) & ~(uintptr_t)(ps - 1);
            pi->nseg++;
        } else if (ph->p_type == PT_DYNAMIC) {
            const ElfW(Dyn) *d = (const ElfW(Dyn) *)(info->dlpi_addr + ph->p_vaddr);
            for (; d->d_tag != DT_NULL; d++) {
                if ((d->d_tag == DT_FLAGS && (d->d_un.d_val & DF_BIND_NOW)) ||
                    (d->d_tag == DT_FLAGS_1 && (d->d_un.d_val & DF_1_NOW)) ||
                    d->d_tag == DT_BIND_NOW)
                    pi->bind_now = true;
            }
        }
    }
    return 1; /* stop after the program */
}

int fcd_freeze(fcd_frozen_t *f, bool program, char *err, size_t errlen)
{
    struct program_info pi = {0};
    if (program) {
        dl_iterate_phdr(find_program, &pi);
        const char *env_now = getenv("LD_BIND_NOW");
        if (!pi.bind_now && (env_now == NULL || *env_now == '\0')) {
            snprintf(err, errlen,
                     "cannot freeze app data: the program was linked with lazy binding, "
                     "whose slots share the pages of its global variables; link it with "
                     "`pkg-config --libs fcdash` (-Wl,-z,now), or set FCDASH_FREEZE=0");
            return -1;
        }
    }
    for (fcd_frozen_region_t *r = f->regions; r != NULL; r = r->next) {
        if (mprotect(r, r->size, PROT_READ) != 0) {
            snprintf(err, errlen, "cannot freeze app data: mprotect: %m");
            return -1;
        }
        add_range((uintptr_t)r, (uintptr_t)r + r->size);
    }
    for (int i = 0; i < pi.nseg; i++) {
        if (mprotect((void *)pi.lo[i], pi.hi[i] - pi.lo[i], PROT_READ) != 0) {
            snprintf(err, errlen, "cannot freeze the program's globals: mprotect: %m");
            return -1;
        }
        add_range(pi.lo[i], pi.hi[i]);
    }
    f->frozen = true;
    return 0;
}

void fcd_frozen_release(fcd_frozen_t *f)
{
    /* Thaw the program's segments: exit handlers (crt's own flags among
     * them) write there. */
    for (sig_atomic_t i = 0; i < n_frozen_ranges; i++)
        mprotect((void *)frozen_ranges[i].lo, frozen_ranges[i].hi - frozen_ranges[i].lo,
                 PROT_READ | PROT_WRITE);
    n_frozen_ranges = 0;
    fcd_frozen_region_t *r = f->regions;
    while (r != NULL) {
        fcd_frozen_region_t *next = r->next;
        munmap(r, r->size);
        r = next;
    }
    f->regions = NULL;
    f->frozen = false;
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    sigjmp_buf *target = guard_target;
    if (target != NULL) {
        guard_target = NULL;
        fault_signal = sig;
        fault_address = sig == SIGALRM ? NULL : si->si_addr;
        siglongjmp(*target, 1);
    }
    /* Not inside a callback: die as the signal would have it. */
    signal(sig, SIG_DFL);
    raise(sig);
}

int fcd_fault_handlers_install(char *err, size_t errlen)
{
    /* 64 KiB of alternate stack: enough for the handler, which only
     * jumps.  Allocated once per process and kept until exit, through a
     * static pointer so that it is owned, not leaked (LeakSanitizer took
     * the unreferenced block for a direct leak of 65536 bytes).  Not a
     * static array: a program linking the library statically would have
     * it in the data segment that fcd_freeze() makes read-only, where the
     * kernel could not write a signal frame. */
    static const size_t alt_size = 65536;
    static void *alt_stack;
    if (alt_stack == NULL)
        alt_stack = malloc(alt_size);
    stack_t ss = {.ss_sp = alt_stack, .ss_size = alt_size, .ss_flags = 0};
    if (alt_stack == NULL || sigaltstack(&ss, NULL) != 0) {
        snprintf(err, errlen, "cannot set up the fault handler's stack");
        return -1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        if (sigaction(sigs[i], &sa, NULL) != 0) {
            snprintf(err, errlen, "cannot install the fault handler: %m");
            return -1;
        }
    }
    return 0;
}

static void describe_address(void *addr, char *out, size_t outlen)
{
    Dl_info info;
    if (dladdr(addr, &info) != 0 && info.dli_sname != NULL)
        snprintf(out, outlen, "global variable '%s'", info.dli_sname);
    else
        snprintf(out, outlen, "app data at %p", addr);
}

static void set_timer(unsigned seconds)
{
    struct itimerval t = {{0, 0}, {(time_t)seconds, 0}};
    setitimer(ITIMER_REAL, &t, NULL);
}

fcd_status_t fcd_guarded_call(fcd_callback_fn fn, fcd_call_t *call, unsigned time_limit,
                              fcd_fault_t *fault)
{
    sigjmp_buf env;
    memset(fault, 0, sizeof *fault);
    if (sigsetjmp(env, 1) != 0) {
        set_timer(0);
        int sig = fault_signal;
        void *addr = fault_address;
        fault->sig = sig;
        if ((sig == SIGSEGV || sig == SIGBUS) && in_frozen_range((uintptr_t)addr)) {
            char what[200];
            describe_address(addr, what, sizeof what);
            fault->frozen_write = true;
            snprintf(fault->message, sizeof fault->message,
                     "the callback wrote to %s, which is app data frozen at start-up: "
                     "every worker must answer alike, so keep per-request values in local "
                     "variables (or in a dcc.Store, or the cache)",
                     what);
        } else if (sig == SIGALRM) {
            fault->worker_unsafe = true;
            snprintf(fault->message, sizeof fault->message,
                     "the callback ran past its time limit of %u s (FCDASH_CALLBACK_TIME_LIMIT)",
                     time_limit);
        } else {
            fault->worker_unsafe = true;
            snprintf(fault->message, sizeof fault->message, "the callback crashed (%s at %p)",
                     strsignal(sig), addr);
        }
        return FCD_ERROR;
    }
    guard_target = &env;
    if (time_limit > 0)
        set_timer(time_limit);
    fcd_status_t st = fn(call);
    if (time_limit > 0)
        set_timer(0);
    guard_target = NULL;
    return st;
}
