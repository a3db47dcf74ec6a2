/*
 * tests/unit/test_cache.c - CUnit tests of cache/: the backend contract run
 * against every backend, memoize (keys, values, chunks, invalidation),
 * single-flight across forked processes, fail-open against a memcached
 * that is killed, stopped, refusing or one of two, and the counters.
 *
 * The test starts its own memcached servers on 127.0.0.1 at random high
 * ports (-P pidfile in a temporary directory) and stops them by pid at the
 * end, pass or fail: an atexit handler and fatal-signal handlers kill them,
 * and each server also gets PR_SET_PDEATHSIG so it dies with the test even
 * if the test is killed outright.  Forked children leave with _exit() so
 * they never run those handlers.
 *
 * Exit status: 0 when every assertion passed, 1 otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <json-c/json.h>
#include <sodium.h>

#include "cache/backend.h"
#include "cache/memoize.h"
#include "cache/stats.h"
#include "tests/unit/chaos.h"

#define MIB (1024u * 1024u)
#define NSERVERS 3

/* ---- memcached servers ---------------------------------------------------- */

struct server {
    pid_t pid;
    int port;
    char pidfile[512];
    const char *extra; /* one extra option pair, e.g. "-I" "2m", or NULL */
    const char *extra_val;
};

static struct server servers[NSERVERS];
static pid_t main_pid;
static char tmpdir[256] = "/tmp/fcdash-test-cache-XXXXXX";
static char app[64];

static void stop_all_servers(void)
{
    if (getpid() != main_pid)
        return;
    for (int i = 0; i < NSERVERS; i++) {
        if (servers[i].pid > 0) {
            kill(servers[i].pid, SIGCONT);
            kill(servers[i].pid, SIGKILL);
            waitpid(servers[i].pid, NULL, 0);
            servers[i].pid = 0;
        }
    }
}

static void on_fatal(int sig)
{
    stop_all_servers();
    if (getpid() == main_pid)
        fcd_cache_stats_unlink(app);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int port_open(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

/* Start server i on its port (a new random one if it has none yet).
 * 0 on success. */
static int start_server(int i)
{
    struct server *s = &servers[i];

    for (int attempt = 0; attempt < 8; attempt++) {
        char port[16];
        pid_t pid;
        int keep_port = s->port != 0 && attempt == 0;

        if (!keep_port)
            s->port = 20000 + (int)randombytes_uniform(40000);
        if (!keep_port && port_open(s->port))
            continue;
        snprintf(port, sizeof port, "%d", s->port);
        snprintf(s->pidfile, sizeof s->pidfile, "%s/memcached-%d.pid", tmpdir, i);
        unlink(s->pidfile);
        pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            const char *argv[20];
            int n = 0;
            char log[600];
            int lfd;
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            /* memcached's own complaints (a client vanished) go to a log. */
            snprintf(log, sizeof log, "%s/memcached-%d.log", tmpdir, i);
            lfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (lfd >= 0) {
                dup2(lfd, 1);
                dup2(lfd, 2);
                close(lfd);
            }
            argv[n++] = "memcached";
            argv[n++] = "-l";
            argv[n++] = "127.0.0.1";
            argv[n++] = "-p";
            argv[n++] = port;
            argv[n++] = "-U";
            argv[n++] = "0";
            argv[n++] = "-m";
            argv[n++] = "256";
            argv[n++] = "-t";
            argv[n++] = "2";
            argv[n++] = "-P";
            argv[n++] = s->pidfile;
            if (geteuid() == 0) {
                argv[n++] = "-u";
                argv[n++] = "root";
            }
            if (s->extra) {
                argv[n++] = s->extra;
                argv[n++] = s->extra_val;
            }
            argv[n] = NULL;
            execvp("memcached", (char *const *)(uintptr_t)argv);
            _exit(127);
        }
        s->pid = pid;
        for (int t = 0; t < 200; t++) {
            int status;
            struct stat st;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                s->pid = 0;
                break; /* port taken, most likely: try another */
            }
            if (stat(s->pidfile, &st) == 0 && port_open(s->port))
                return 0;
            usleep(10000);
        }
        if (s->pid) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            s->pid = 0;
        }
    }
    return -1;
}

static void stop_server(int i)
{
    struct server *s = &servers[i];
    char buf[32] = "";
    FILE *f;

    if (s->pid <= 0)
        return;
    /* The pid file names the same process we forked: check, then stop it
     * by that pid. */
    f = fopen(s->pidfile, "r");
    if (f) {
        if (fgets(buf, sizeof buf, f))
            CU_ASSERT_EQUAL(atoi(buf), s->pid);
        fclose(f);
    }
    kill(s->pid, SIGCONT);
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    s->pid = 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- compute functions ---------------------------------------------------- */

struct job {
    const unsigned char *data; /* what to return */
    size_t len;
    unsigned calls;            /* computations in this process */
    int count_fd;              /* >= 0: append one byte per computation */
    int ready_fd;              /* >= 0: write one byte when computing */
    unsigned sleep_ms;
    bool fail;
    bool die;                  /* SIGKILL itself mid-computation */
};

static fcd_cache_status_t compute_job(void *ctx, void **out, size_t *out_len, char *err,
                                      size_t errlen)
{
    struct job *j = ctx;

    j->calls++;
    if (j->count_fd >= 0 && write(j->count_fd, "x", 1) != 1)
        return FCD_CACHE_ERROR;
    if (j->ready_fd >= 0 && write(j->ready_fd, "r", 1) != 1)
        return FCD_CACHE_ERROR;
    if (j->die)
        raise(SIGKILL);
    if (j->sleep_ms)
        usleep(j->sleep_ms * 1000u);
    if (j->fail) {
        snprintf(err, errlen, "deliberate failure");
        return FCD_CACHE_ERROR;
    }
    *out = NULL;
    *out_len = j->len;
    if (j->len) {
        *out = malloc(j->len);
        if (!*out)
            return FCD_CACHE_ERROR;
        memcpy(*out, j->data, j->len);
    }
    return FCD_CACHE_OK;
}

static struct job job_of(const void *data, size_t len)
{
    struct job j = {.data = data, .len = len, .count_fd = -1, .ready_fd = -1};
    return j;
}

/* Whether a result holds exactly these bytes. */
static int same(const fcd_memo_result_t *r, const void *data, size_t len)
{
    return r->len == len && (len == 0 || memcmp(r->data, data, len) == 0);
}

/* ---- the backends under test ----------------------------------------------- */

struct backend {
    const char *name;
    char url[512];
    bool stores;   /* not none:// */
    bool shared;   /* across processes */
    bool add_lock; /* locks expire by TTL (not flock) */
};

static struct backend backends[4];
static struct backend *cur;
static fcd_cache_stats_t stats;

static fcd_cache_t *open_cur(void)
{
    char err[FCD_CACHE_ERR_MAX];
    fcd_cache_t *c = NULL;
    fcd_cache_status_t st = fcd_cache_open(&c, cur->url, app, &stats, err, sizeof err);

    if (st != FCD_CACHE_OK)
        fprintf(stderr, "open %s: %s\n", cur->url, err);
    CU_ASSERT_FATAL(st == FCD_CACHE_OK && c != NULL);
    return c;
}

static int suite_mc(void)
{
    cur = &backends[0];
    return 0;
}
static int suite_file(void)
{
    cur = &backends[1];
    return 0;
}
static int suite_memory(void)
{
    cur = &backends[2];
    return 0;
}
static int suite_none(void)
{
    cur = &backends[3];
    return 0;
}

/* A name unique to the backend and the test, so suites do not share
 * entries. */
static const char *fname(const char *base)
{
    static char buf[128];
    snprintf(buf, sizeof buf, "%s-%s", base, cur->name);
    return buf;
}

/* ---- contract: the backend interface --------------------------------------- */

static void test_basic_ops(void)
{
    fcd_cache_t *c = open_cur();
    static const unsigned char bin[] = {0, 1, 2, '\n', 0, 255, ' ', 0};
    char key[64];
    void *v;
    size_t n;

    snprintf(key, sizeof key, "basic-%s-%ld", cur->name, (long)getpid());
    fcd_cache_delete(c, key);
    CU_ASSERT_EQUAL(fcd_cache_get(c, key, &v, &n), FCD_CACHE_MISS);
    CU_ASSERT_EQUAL(fcd_cache_set(c, key, bin, sizeof bin, 60), FCD_CACHE_OK);
    if (cur->stores) {
        CU_ASSERT_EQUAL_FATAL(fcd_cache_get(c, key, &v, &n), FCD_CACHE_OK);
        CU_ASSERT(n == sizeof bin && memcmp(v, bin, n) == 0);
        free(v);
        CU_ASSERT_EQUAL(fcd_cache_add(c, key, "x", 1, 60), FCD_CACHE_MISS);
        CU_ASSERT_EQUAL(fcd_cache_delete(c, key), FCD_CACHE_OK);
    }
    CU_ASSERT_EQUAL(fcd_cache_delete(c, key), FCD_CACHE_MISS);
    CU_ASSERT_EQUAL(fcd_cache_get(c, key, &v, &n), FCD_CACHE_MISS);
    CU_ASSERT_EQUAL(fcd_cache_add(c, key, "y", 1, 60), FCD_CACHE_OK);
    if (cur->stores) {
        CU_ASSERT_EQUAL_FATAL(fcd_cache_get(c, key, &v, &n), FCD_CACHE_OK);
        CU_ASSERT(n == 1 && memcmp(v, "y", 1) == 0);
        free(v);
    }
    /* An empty value is a value. */
    CU_ASSERT_EQUAL(fcd_cache_set(c, key, NULL, 0, 60), FCD_CACHE_OK);
    if (cur->stores) {
        CU_ASSERT_EQUAL(fcd_cache_get(c, key, &v, &n), FCD_CACHE_OK);
        CU_ASSERT_EQUAL(n, 0);
        free(v);
    }
    fcd_cache_delete(c, key);
    fcd_cache_close(c);
}

/* Several keys at once: found and missing told apart, an empty value is a
 * value, and a bad key or count refuses the whole call. */
static void test_get_multi(void)
{
    fcd_cache_t *c = open_cur();
    char ka[64], kb[64], kc[64];
    const char *keys[3] = {ka, kb, kc}, *bad[2] = {ka, "a b"};
    void *v[FCD_CACHE_MULTI_MAX + 1];
    size_t n[FCD_CACHE_MULTI_MAX + 1];
    bool found[FCD_CACHE_MULTI_MAX + 1];
    const char *many[FCD_CACHE_MULTI_MAX + 1];

    snprintf(ka, sizeof ka, "multi-a-%s-%ld", cur->name, (long)getpid());
    snprintf(kb, sizeof kb, "multi-b-%s-%ld", cur->name, (long)getpid());
    snprintf(kc, sizeof kc, "multi-c-%s-%ld", cur->name, (long)getpid());
    fcd_cache_delete(c, kc);
    CU_ASSERT_EQUAL(fcd_cache_set(c, ka, "value a", 7, 60), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_set(c, kb, NULL, 0, 60), FCD_CACHE_OK);
    CU_ASSERT_EQUAL_FATAL(fcd_cache_get_multi(c, 3, keys, v, n, found), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(found[0], cur->stores);
    CU_ASSERT_EQUAL(found[1], cur->stores);
    CU_ASSERT(!found[2] && v[2] == NULL && n[2] == 0);
    if (cur->stores) {
        CU_ASSERT(n[0] == 7 && memcmp(v[0], "value a", 7) == 0);
        CU_ASSERT(n[1] == 0 && v[1] == NULL);
    }
    for (int i = 0; i < 3; i++)
        free(v[i]);
    /* The same key twice is answered twice. */
    keys[1] = ka;
    CU_ASSERT_EQUAL_FATAL(fcd_cache_get_multi(c, 2, keys, v, n, found), FCD_CACHE_OK);
    CU_ASSERT(!cur->stores || (found[0] && found[1] && n[1] == 7 && memcmp(v[1], "value a", 7) == 0));
    free(v[0]);
    free(v[1]);
    CU_ASSERT_EQUAL(fcd_cache_get_multi(c, 2, bad, v, n, found), FCD_CACHE_ERROR);
    CU_ASSERT(v[0] == NULL && v[1] == NULL && !found[0]);
    for (int i = 0; i <= FCD_CACHE_MULTI_MAX; i++)
        many[i] = ka;
    CU_ASSERT_EQUAL(fcd_cache_get_multi(c, FCD_CACHE_MULTI_MAX + 1, many, v, n, found),
                    FCD_CACHE_ERROR);
    CU_ASSERT_EQUAL(fcd_cache_get_multi(c, 0, many, v, n, found), FCD_CACHE_ERROR);
    CU_ASSERT_EQUAL_FATAL(fcd_cache_get_multi(c, FCD_CACHE_MULTI_MAX, many, v, n, found),
                          FCD_CACHE_OK);
    for (int i = 0; i < FCD_CACHE_MULTI_MAX; i++) {
        CU_ASSERT_EQUAL(found[i], cur->stores);
        free(v[i]);
    }
    fcd_cache_delete(c, ka);
    fcd_cache_delete(c, kb);
    fcd_cache_close(c);
}

static void test_bad_keys(void)
{
    fcd_cache_t *c = open_cur();
    char longkey[FCD_CACHE_KEY_MAX + 2];
    const char *bad[] = {"", "a b", "a\nb", "a\rb", "tab\tkey", "\x7f", "caf\xc3\xa9"};
    void *v;
    size_t n;

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(fcd_cache_set(c, bad[i], "v", 1, 0), FCD_CACHE_ERROR);
        CU_ASSERT_EQUAL(fcd_cache_get(c, bad[i], &v, &n), FCD_CACHE_ERROR);
        CU_ASSERT(fcd_cache_error(c)[0] != '\0');
    }
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    CU_ASSERT_EQUAL(fcd_cache_set(c, longkey, "v", 1, 0), FCD_CACHE_ERROR);
    longkey[FCD_CACHE_KEY_MAX] = '\0';
    CU_ASSERT_EQUAL(fcd_cache_set(c, longkey, "v", 1, 10), FCD_CACHE_OK);
    fcd_cache_delete(c, longkey);
    fcd_cache_close(c);
}

static void test_item_limit(void)
{
    fcd_cache_t *c = open_cur();
    size_t lim = fcd_cache_settings(c)->item_max;
    unsigned char *big;

    if (lim > 64 * MIB)
        fcd_cache_settings(c)->item_max = lim = 8192;
    big = calloc(1, lim + 1);
    CU_ASSERT_FATAL(big != NULL);
    CU_ASSERT_EQUAL(fcd_cache_set(c, "item-limit-ok", big, lim, 10), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_set(c, "item-limit-over", big, lim + 1, 10), FCD_CACHE_DECLINED);
    CU_ASSERT(strstr(fcd_cache_error(c), "item limit") != NULL);
    fcd_cache_delete(c, "item-limit-ok");
    free(big);
    fcd_cache_close(c);
}

static void test_ttl(void)
{
    fcd_cache_t *c = open_cur();
    void *v;
    size_t n;

    if (!cur->stores) {
        fcd_cache_close(c);
        return;
    }
    CU_ASSERT_EQUAL(fcd_cache_set(c, "ttl-short", "a", 1, 1), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_set(c, "ttl-long", "b", 1, 100), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "ttl-short", &v, &n), FCD_CACHE_OK);
    free(v);
    /* memcached's clock ticks in whole seconds. */
    usleep(2200000);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "ttl-short", &v, &n), FCD_CACHE_MISS);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "ttl-long", &v, &n), FCD_CACHE_OK);
    free(v);
    /* add over an expired entry succeeds. */
    CU_ASSERT_EQUAL(fcd_cache_add(c, "ttl-short", "c", 1, 10), FCD_CACHE_OK);
    fcd_cache_delete(c, "ttl-short");
    fcd_cache_delete(c, "ttl-long");
    fcd_cache_close(c);
}

static void test_lock(void)
{
    fcd_cache_t *c = open_cur();
    fcd_cache_lock_t a = {0}, b = {0};

    if (!cur->stores) {
        fcd_cache_close(c);
        return;
    }
    CU_ASSERT_EQUAL(fcd_cache_lock(c, "lock-contract", 10, &a), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_lock(c, "lock-contract", 10, &b), FCD_CACHE_MISS);
    CU_ASSERT(!b.held);
    fcd_cache_unlock(c, &a);
    CU_ASSERT(!a.held);
    CU_ASSERT_EQUAL(fcd_cache_lock(c, "lock-contract", 10, &b), FCD_CACHE_OK);
    fcd_cache_unlock(c, &b);
    fcd_cache_close(c);
}

/* ---- contract: memoize ------------------------------------------------------ */

static void test_memo_basic(void)
{
    fcd_cache_t *c = open_cur();
    static const char val[] = "the result";
    struct job j = job_of(val, sizeof val);
    fcd_memo_result_t r;
    const char *fn = fname("basic");

    fcd_memo_forget_all(c, fn);
    CU_ASSERT_EQUAL(fcd_memo_call(c, fn, "1", "arg", 3, 60, compute_job, &j, &r), FCD_CACHE_OK);
    CU_ASSERT(same(&r, val, sizeof val));
    CU_ASSERT_EQUAL(r.source, cur->stores ? FCD_MEMO_COMPUTED : FCD_MEMO_LOCAL);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(fcd_memo_call(c, fn, "1", "arg", 3, 60, compute_job, &j, &r), FCD_CACHE_OK);
    CU_ASSERT(same(&r, val, sizeof val));
    CU_ASSERT_EQUAL(r.source, cur->stores ? FCD_MEMO_HIT : FCD_MEMO_LOCAL);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, cur->stores ? 1 : 2);

    /* Other arguments, other version: other entries. */
    fcd_memo_call(c, fn, "1", "arh", 3, 60, compute_job, &j, &r);
    fcd_memo_release(&r);
    fcd_memo_call(c, fn, "2", "arg", 3, 60, compute_job, &j, &r);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, cur->stores ? 3 : 4);

    /* Forget one call. */
    CU_ASSERT_EQUAL(fcd_memo_forget(c, fn, "1", "arg", 3),
                    cur->stores ? FCD_CACHE_OK : FCD_CACHE_MISS);
    CU_ASSERT_EQUAL(fcd_memo_forget(c, fn, "1", "arg", 3), FCD_CACHE_MISS);
    fcd_memo_call(c, fn, "1", "arg", 3, 60, compute_job, &j, &r);
    fcd_memo_release(&r);
    fcd_memo_call(c, fn, "1", "arh", 3, 60, compute_job, &j, &r);
    CU_ASSERT_EQUAL(r.source, cur->stores ? FCD_MEMO_HIT : FCD_MEMO_LOCAL);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, cur->stores ? 4 : 6);

    /* Forget all calls: every version, every argument. */
    CU_ASSERT_EQUAL(fcd_memo_forget_all(c, fn), FCD_CACHE_OK);
    j.calls = 0;
    fcd_memo_call(c, fn, "1", "arg", 3, 60, compute_job, &j, &r);
    fcd_memo_release(&r);
    fcd_memo_call(c, fn, "1", "arh", 3, 60, compute_job, &j, &r);
    fcd_memo_release(&r);
    fcd_memo_call(c, fn, "2", "arg", 3, 60, compute_job, &j, &r);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, 3);

    /* A failing computation is an error, and nothing is cached. */
    j.fail = true;
    CU_ASSERT_EQUAL(fcd_memo_call(c, fn, "1", "fails", 5, 60, compute_job, &j, &r),
                    FCD_CACHE_ERROR);
    CU_ASSERT(strstr(r.msg, "deliberate failure") != NULL);
    CU_ASSERT(r.data == NULL);
    fcd_memo_release(&r);
    j.fail = false;
    CU_ASSERT_EQUAL(fcd_memo_call(c, fn, "1", "fails", 5, 60, compute_job, &j, &r), FCD_CACHE_OK);
    CU_ASSERT(same(&r, val, sizeof val));
    fcd_memo_release(&r);
    fcd_cache_close(c);
}

static void test_memo_json(void)
{
    fcd_cache_t *c = open_cur();
    static const char val[] = "json result";
    struct job j = job_of(val, sizeof val);
    json_object *a = json_tokener_parse("{\"b\":[1,2.0,\"x\\ny\"],\"a\":{\"z\":null,\"y\":true}}");
    json_object *b = json_tokener_parse("{\"a\":{\"y\":true,\"z\":null},\"b\":[1.0,2,\"x\\ny\"]}");
    json_object *d = json_tokener_parse("{\"a\":{\"y\":true,\"z\":null},\"b\":[1.5,2,\"x\\ny\"]}");
    const char *fn = fname("json");
    fcd_memo_result_t r;
    char *t1, *t2;
    size_t n1, n2;

    CU_ASSERT_FATAL(a && b && d);
    CU_ASSERT_EQUAL(fcd_memo_canonical_json(a, &t1, &n1), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_memo_canonical_json(b, &t2, &n2), FCD_CACHE_OK);
    CU_ASSERT_STRING_EQUAL(t1, "{\"a\":{\"y\":true,\"z\":null},\"b\":[1,2,\"x\\u000ay\"]}");
    CU_ASSERT_STRING_EQUAL(t1, t2);
    free(t1);
    free(t2);

    fcd_memo_forget_all(c, fn);
    fcd_memo_call_json(c, fn, NULL, a, 60, compute_job, &j, &r);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(fcd_memo_call_json(c, fn, NULL, b, 60, compute_job, &j, &r), FCD_CACHE_OK);
    CU_ASSERT(same(&r, val, sizeof val));
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, cur->stores ? 1 : 2);
    fcd_memo_call_json(c, fn, NULL, d, 60, compute_job, &j, &r);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, cur->stores ? 2 : 3);
    CU_ASSERT_EQUAL(fcd_memo_forget_json(c, fn, NULL, b),
                    cur->stores ? FCD_CACHE_OK : FCD_CACHE_MISS);
    json_object_put(a);
    json_object_put(b);
    json_object_put(d);
    fcd_cache_close(c);
}

/* Hostile names and arguments: every key stays short and printable, and
 * every call still works. */
static void test_memo_hostile(void)
{
    fcd_cache_t *c = open_cur();
    char *huge = malloc(10240 + 1);
    unsigned char binary[256];
    static const char val[] = "hostile ok";
    struct job j = job_of(val, sizeof val);
    struct {
        const char *fn;
        const void *args;
        size_t len;
    } cases[8];
    char keys[8][FCD_MEMO_KEY_BUF];
    size_t ncases = 0;

    CU_ASSERT_FATAL(huge != NULL);
    memset(huge, 'A', 10240);
    for (int i = 0; i < 10240; i += 97)
        huge[i] = (char)(i % 3 == 0 ? '\n' : i % 3 == 1 ? ' ' : '\x01');
    huge[10240] = '\0';
    for (int i = 0; i < 256; i++)
        binary[i] = (unsigned char)i;
    cases[ncases++] = (typeof(cases[0])){"with spaces and\nnewlines\r\t", "a b\nc", 5};
    cases[ncases++] = (typeof(cases[0])){huge, huge, 10240};
    cases[ncases++] = (typeof(cases[0])){"bin\x01\x02\x7f\xff", binary, sizeof binary};
    cases[ncases++] = (typeof(cases[0])){"fn", "", 0};
    cases[ncases++] = (typeof(cases[0])){"fn", "\0", 1};
    cases[ncases++] = (typeof(cases[0])){"f n", "x", 1};
    cases[ncases++] = (typeof(cases[0])){"f_n", "x", 1};
    cases[ncases++] = (typeof(cases[0])){"fn:x:y", "\n\n\n", 3};

    for (size_t i = 0; i < ncases; i++) {
        size_t n = fcd_memo_key(app, cases[i].fn, huge, cases[i].args, cases[i].len, keys[i]);
        fcd_memo_result_t r;

        CU_ASSERT(n > 0 && n <= FCD_MEMO_KEY_LEN_MAX && n < FCD_CACHE_KEY_MAX);
        CU_ASSERT_EQUAL(strlen(keys[i]), n);
        CU_ASSERT(fcd_cache_key_ok(keys[i]));
        for (size_t k = 0; k < i; k++)
            CU_ASSERT(strcmp(keys[i], keys[k]) != 0);
        CU_ASSERT_EQUAL(fcd_memo_call(c, cases[i].fn, huge, cases[i].args, cases[i].len, 60,
                                      compute_job, &j, &r),
                        FCD_CACHE_OK);
        CU_ASSERT(same(&r, val, sizeof val));
        fcd_memo_release(&r);
        CU_ASSERT_EQUAL(fcd_memo_call(c, cases[i].fn, huge, cases[i].args, cases[i].len, 60,
                                      compute_job, &j, &r),
                        FCD_CACHE_OK);
        CU_ASSERT_EQUAL(r.source, cur->stores ? FCD_MEMO_HIT : FCD_MEMO_LOCAL);
        fcd_memo_release(&r);
    }
    CU_ASSERT_EQUAL(j.calls, cur->stores ? ncases : 2 * ncases);
    /* The version changes the key; the generation is in the value. */
    {
        char k1[FCD_MEMO_KEY_BUF], k2[FCD_MEMO_KEY_BUF];
        fcd_memo_key(app, "fn", "1", "a", 1, k1);
        fcd_memo_key(app, "fn", "2", "a", 1, k2);
        CU_ASSERT(strcmp(k1, k2) != 0);
    }
    free(huge);
    fcd_cache_close(c);
}

/* Two calls of fn("g"): the first computes (and stores), the second hits
 * the same bytes. */
static void computed_then_hit(fcd_cache_t *c, const char *fn, struct job *j)
{
    fcd_memo_result_t r;

    fcd_memo_call(c, fn, "1", "g", 1, 60, compute_job, j, &r);
    CU_ASSERT_EQUAL(r.source, FCD_MEMO_COMPUTED);
    CU_ASSERT(same(&r, j->data, j->len));
    fcd_memo_release(&r);
    fcd_memo_call(c, fn, "1", "g", 1, 60, compute_job, j, &r);
    CU_ASSERT_EQUAL(r.source, FCD_MEMO_HIT);
    CU_ASSERT(same(&r, j->data, j->len));
    fcd_memo_release(&r);
}

/* The entry carries the generation it was computed under: another
 * generation's value, another format's, or one whose generation key was
 * lost is a miss (recomputed, overwritten in place), never an error and
 * never served. */
static void test_memo_generations(void)
{
    fcd_cache_t *c = open_cur();
    static const char val[] = "generation-checked value";
    struct job j = job_of(val, sizeof val);
    const char *fn = fname("generations");
    char key[FCD_MEMO_KEY_BUF], gkey[FCD_MEMO_KEY_BUF];
    unsigned char *v, old[FCD_MEMO_HDR + sizeof val];
    size_t n;
    void *p;
    uint64_t err0;
    fcd_memo_result_t r;

    if (!cur->stores) {
        fcd_cache_close(c);
        return;
    }
    CU_ASSERT_FATAL(fcd_memo_key(app, fn, "1", "g", 1, key) > 0);
    fcd_memo_forget_all(c, fn);
    fcd_memo_call(c, fn, "1", "g", 1, 60, compute_job, &j, &r);
    CU_ASSERT_EQUAL(r.source, FCD_MEMO_COMPUTED);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL_FATAL(fcd_cache_get(c, key, &p, &n), FCD_CACHE_OK);
    v = p;
    CU_ASSERT_FATAL(n == FCD_MEMO_HDR + sizeof val);
    CU_ASSERT(memcmp(v, "FCDM", 4) == 0 && v[4] == FCD_MEMO_FORMAT);
    memcpy(old, v, n);
    free(v);
    err0 = fcd_cache_stats_get(&stats, FCD_CACHE_C_ERRORS);

    /* Another generation in the header (as before a forget_all): a miss,
     * not counted as an error, and overwritten by the new computation. */
    old[24] ^= 1;
    CU_ASSERT_EQUAL(fcd_cache_set(c, key, old, sizeof old, 60), FCD_CACHE_OK);
    computed_then_hit(c, fn, &j);
    CU_ASSERT_EQUAL(j.calls, 2);

    /* Another format (an older fcdash): a miss, not an error. */
    old[24] ^= 1;
    old[4] = 1;
    CU_ASSERT_EQUAL(fcd_cache_set(c, key, old, sizeof old, 60), FCD_CACHE_OK);
    fcd_memo_call(c, fn, "1", "g", 1, 60, compute_job, &j, &r);
    CU_ASSERT_EQUAL(r.source, FCD_MEMO_COMPUTED);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, 3);
    CU_ASSERT_EQUAL(fcd_cache_stats_get(&stats, FCD_CACHE_C_ERRORS), err0);

    /* forget_all: the same key, now a miss, then a hit again. */
    CU_ASSERT_EQUAL(fcd_memo_forget_all(c, fn), FCD_CACHE_OK);
    computed_then_hit(c, fn, &j);
    CU_ASSERT_EQUAL(j.calls, 4);

    /* The generation key lost (evicted, its server gone): a new one is
     * drawn and the entry, intact as it is, is not served. */
    CU_ASSERT_FATAL(fcd_memo_gen_key(app, fn, gkey) > 0);
    CU_ASSERT_EQUAL(strncmp(gkey, "fcd:", 4), 0);
    CU_ASSERT(strstr(gkey, ":gen:") != NULL);
    CU_ASSERT_EQUAL(fcd_cache_delete(c, gkey), FCD_CACHE_OK);
    computed_then_hit(c, fn, &j);
    CU_ASSERT_EQUAL(j.calls, 5);
    fcd_cache_close(c);
}

/* Values of 0 B, 1 MiB - 1, 1 MiB + 1 and 20 MB, incompressible and
 * compressible: round trips, hits, and chunks where the backend needs them. */
static void test_memo_sizes(void)
{
    fcd_cache_t *c = open_cur();
    static const size_t sizes[] = {0, 1, MIB - 1, MIB + 1, 20u * 1000u * 1000u};
    size_t maxlen = 20u * 1000u * 1000u;
    unsigned char *rnd = malloc(maxlen), *txt = malloc(maxlen);
    const char *fn = fname("sizes");

    CU_ASSERT_FATAL(rnd && txt);
    randombytes_buf(rnd, maxlen);
    for (size_t i = 0; i < maxlen; i++)
        txt[i] = (unsigned char)("abcdefgh "[i % 9] + (i / 4096) % 7);
    fcd_memo_forget_all(c, fn);
    for (int kind = 0; kind < 2; kind++) {
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            const unsigned char *data = kind ? txt : rnd;
            struct job j = job_of(data, sizes[i]);
            uint64_t chunked0 = fcd_cache_stats_get(&stats, FCD_CACHE_C_CHUNKED);
            char args[32];
            fcd_memo_result_t r;
            fcd_cache_status_t st;

            snprintf(args, sizeof args, "%d/%zu", kind, sizes[i]);
            st = fcd_memo_call(c, fn, "1", args, strlen(args), 60, compute_job, &j, &r);
            if (st != FCD_CACHE_OK)
                fprintf(stderr, "size %zu: %s\n", sizes[i], r.msg);
            CU_ASSERT_EQUAL(st, FCD_CACHE_OK);
            CU_ASSERT(same(&r, data, sizes[i]));
            fcd_memo_release(&r);
            st = fcd_memo_call(c, fn, "1", args, strlen(args), 60, compute_job, &j, &r);
            CU_ASSERT_EQUAL(st, FCD_CACHE_OK);
            CU_ASSERT(same(&r, data, sizes[i]));
            CU_ASSERT_EQUAL(r.source, cur->stores ? FCD_MEMO_HIT : FCD_MEMO_LOCAL);
            fcd_memo_release(&r);
            CU_ASSERT_EQUAL(j.calls, cur->stores ? 1 : 2);
            /* Over memcached's item limit, incompressible data is chunked. */
            if (strcmp(cur->name, "memcached") == 0 && kind == 0 && sizes[i] >= MIB - 1)
                CU_ASSERT(fcd_cache_stats_get(&stats, FCD_CACHE_C_CHUNKED) > chunked0);
        }
    }
    free(rnd);
    free(txt);
    fcd_cache_close(c);
}

/* Chunking with a small item limit, on any backend that stores. */
static void test_memo_chunks(void)
{
    fcd_cache_t *c = open_cur();
    size_t len = 100000;
    unsigned char *data = malloc(len);
    struct job j = job_of(data, len);
    const char *fn = fname("chunks");
    fcd_memo_result_t r;
    uint64_t chunked0 = fcd_cache_stats_get(&stats, FCD_CACHE_C_CHUNKED);

    CU_ASSERT_FATAL(data != NULL);
    randombytes_buf(data, len);
    fcd_cache_settings(c)->item_max = 4096;
    fcd_memo_forget_all(c, fn);
    CU_ASSERT_EQUAL(fcd_memo_call(c, fn, NULL, "k", 1, 60, compute_job, &j, &r), FCD_CACHE_OK);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(fcd_memo_call(c, fn, NULL, "k", 1, 60, compute_job, &j, &r), FCD_CACHE_OK);
    CU_ASSERT(same(&r, data, len));
    fcd_memo_release(&r);
    if (cur->stores) {
        CU_ASSERT_EQUAL(j.calls, 1);
        CU_ASSERT(fcd_cache_stats_get(&stats, FCD_CACHE_C_CHUNKED) > chunked0);
    }
    free(data);
    fcd_cache_close(c);
}

/* Past value_max: computed, returned whole, not cached, said once. */
static void test_memo_too_large(void)
{
    fcd_cache_t *c = open_cur();
    size_t len = 3 * MIB;
    unsigned char *data = malloc(len);
    struct job j = job_of(data, len);
    const char *fn = fname("toolarge");
    uint64_t unc0 = fcd_cache_stats_get(&stats, FCD_CACHE_C_UNCACHED);
    fcd_memo_result_t r;
    fcd_cache_status_t st;

    CU_ASSERT_FATAL(data != NULL);
    randombytes_buf(data, len);
    fcd_cache_settings(c)->value_max = 2 * MIB;
    st = fcd_memo_call(c, fn, NULL, "k", 1, 60, compute_job, &j, &r);
    CU_ASSERT(same(&r, data, len));
    if (cur->stores) {
        CU_ASSERT_EQUAL(st, FCD_CACHE_DECLINED);
        CU_ASSERT_EQUAL(r.source, FCD_MEMO_LOCAL);
        CU_ASSERT(strstr(r.msg, "uncached") != NULL);
        CU_ASSERT_EQUAL(fcd_cache_stats_get(&stats, FCD_CACHE_C_UNCACHED), unc0 + 1);
    }
    fcd_memo_release(&r);
    fcd_memo_call(c, fn, NULL, "k", 1, 60, compute_job, &j, &r);
    CU_ASSERT(same(&r, data, len));
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, 2);
    free(data);
    fcd_cache_close(c);
}

/* ---- single-flight across processes ----------------------------------------- */

/* >= 8 processes miss the same key at once: exactly one computes. */
static void test_single_flight(void)
{
    enum { N = 10 };
    fcd_cache_t *c;
    char count_path[512];
    int go[2], count_fd, computed = 0, waited = 0, bad = 0;
    pid_t kids[N];
    static const char val[] = "computed once";
    const char *fn;
    struct stat st;

    if (!cur->shared)
        return;
    c = open_cur();
    fn = fname("single-flight");
    fcd_memo_forget_all(c, fn);
    snprintf(count_path, sizeof count_path, "%s/count-%s", tmpdir, cur->name);
    count_fd = open(count_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    CU_ASSERT_FATAL(count_fd >= 0 && pipe(go) == 0);
    for (int i = 0; i < N; i++) {
        kids[i] = fork();
        CU_ASSERT_FATAL(kids[i] >= 0);
        if (kids[i] == 0) {
            struct job j = job_of(val, sizeof val);
            fcd_memo_result_t r;
            fcd_cache_status_t s;
            char b;
            int code;

            j.count_fd = count_fd;
            j.sleep_ms = 600;
            close(go[1]);
            /* Every child blocks here until the parent closes the pipe. */
            if (read(go[0], &b, 1) != 0)
                _exit(3);
            /* Half use the handle inherited across fork (the memcached
             * backend must notice and reconnect), half open their own. */
            if (i % 2) {
                s = fcd_memo_call(c, fn, "1", "same", 4, 60, compute_job, &j, &r);
            } else {
                char err[FCD_CACHE_ERR_MAX];
                fcd_cache_t *own;
                if (fcd_cache_open(&own, cur->url, app, NULL, err, sizeof err) != FCD_CACHE_OK)
                    _exit(3);
                s = fcd_memo_call(own, fn, "1", "same", 4, 60, compute_job, &j, &r);
                fcd_cache_close(own);
            }
            code = s != FCD_CACHE_OK || !same(&r, val, sizeof val) ? 2
                   : r.source == FCD_MEMO_COMPUTED                   ? 0
                                                                     : 1;
            if (code == 2)
                fprintf(stderr, "child %d: status %d source %d: %s\n", i, s, r.source, r.msg);
            _exit(code);
        }
    }
    close(go[0]);
    usleep(100000);
    close(go[1]);
    for (int i = 0; i < N; i++) {
        int status;
        waitpid(kids[i], &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            computed++;
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
            waited++;
        else
            bad++;
    }
    close(count_fd);
    CU_ASSERT_EQUAL(stat(count_path, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, 1);
    CU_ASSERT_EQUAL(computed, 1);
    CU_ASSERT_EQUAL(waited, N - 1);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(fcd_cache_stats_get(&stats, FCD_CACHE_C_LOCK_WAITS) >= 1);
    fcd_cache_close(c);
}

/* A lock holder that dies blocks the others at most the lock's TTL (the
 * file backend's flock not at all). */
static void test_dead_holder(void)
{
    fcd_cache_t *c;
    static const char val[] = "after a death";
    const char *fn;
    int ready[2];
    pid_t kid;
    double t0, dt;
    fcd_memo_result_t r;
    fcd_cache_status_t st;
    struct job j = job_of(val, sizeof val);
    char b;

    if (!cur->shared)
        return;
    c = open_cur();
    fn = fname("dead-holder");
    fcd_cache_settings(c)->lock_ttl = 2;
    fcd_cache_settings(c)->wait_ms = 20000;
    fcd_memo_forget_all(c, fn);
    CU_ASSERT_FATAL(pipe(ready) == 0);
    kid = fork();
    CU_ASSERT_FATAL(kid >= 0);
    if (kid == 0) {
        struct job dj = job_of(val, sizeof val);
        fcd_memo_result_t dr;
        dj.ready_fd = ready[1];
        dj.die = true;
        fcd_memo_call(c, fn, NULL, "x", 1, 60, compute_job, &dj, &dr);
        _exit(0);
    }
    close(ready[1]);
    CU_ASSERT_EQUAL(read(ready[0], &b, 1), 1);
    close(ready[0]);
    waitpid(kid, NULL, 0);
    t0 = now_s();
    st = fcd_memo_call(c, fn, NULL, "x", 1, 60, compute_job, &j, &r);
    dt = now_s() - t0;
    CU_ASSERT_EQUAL(st, FCD_CACHE_OK);
    CU_ASSERT(same(&r, val, sizeof val));
    fcd_memo_release(&r);
    /* memcached expires in whole seconds: TTL 2 is at most ~3 s. */
    CU_ASSERT(dt < (cur->add_lock ? 3.5 : 0.5));
    fcd_cache_close(c);
}

/* The holder is alive but slow: waiters give up after wait_ms, compute
 * themselves and say so. */
static void test_wait_bound(void)
{
    fcd_cache_t *c;
    static const char val[] = "slow holder";
    const char *fn;
    int ready[2];
    pid_t kid;
    double t0, dt;
    fcd_memo_result_t r;
    fcd_cache_status_t st;
    struct job j = job_of(val, sizeof val);
    char b;

    if (!cur->shared)
        return;
    c = open_cur();
    fn = fname("wait-bound");
    fcd_memo_forget_all(c, fn);
    CU_ASSERT_FATAL(pipe(ready) == 0);
    kid = fork();
    CU_ASSERT_FATAL(kid >= 0);
    if (kid == 0) {
        struct job sj = job_of(val, sizeof val);
        fcd_memo_result_t sr;
        sj.ready_fd = ready[1];
        sj.sleep_ms = 2500;
        fcd_memo_call(c, fn, NULL, "x", 1, 60, compute_job, &sj, &sr);
        _exit(0);
    }
    close(ready[1]);
    CU_ASSERT_EQUAL(read(ready[0], &b, 1), 1);
    close(ready[0]);
    fcd_cache_settings(c)->wait_ms = 300;
    t0 = now_s();
    st = fcd_memo_call(c, fn, NULL, "x", 1, 60, compute_job, &j, &r);
    dt = now_s() - t0;
    CU_ASSERT_EQUAL(st, FCD_CACHE_DECLINED);
    CU_ASSERT(strstr(r.msg, "waited") != NULL);
    CU_ASSERT(same(&r, val, sizeof val));
    CU_ASSERT(dt >= 0.28 && dt < 1.5);
    fcd_memo_release(&r);
    waitpid(kid, NULL, 0);
    fcd_cache_close(c);
}

/* ---- memcached faults -------------------------------------------------------- */

static char mc_url[512];

static fcd_cache_t *open_url(const char *url)
{
    char err[FCD_CACHE_ERR_MAX];
    fcd_cache_t *c = NULL;

    if (fcd_cache_open(&c, url, app, &stats, err, sizeof err) != FCD_CACHE_OK)
        fprintf(stderr, "open %s: %s\n", url, err);
    CU_ASSERT_FATAL(c != NULL);
    return c;
}

/* The value call i must return. */
static size_t value_for(unsigned i, char *buf, size_t len)
{
    return (size_t)snprintf(buf, len, "value %u %s", i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
}

struct tally {
    unsigned ok, declined, wrong, hits;
};

static void call_n(fcd_cache_t *c, const char *fn, unsigned n, struct tally *t)
{
    for (unsigned i = 0; i < n; i++) {
        char val[128], args[16];
        size_t vlen = value_for(i, val, sizeof val);
        struct job j = job_of(val, vlen);
        fcd_memo_result_t r;
        fcd_cache_status_t st;

        snprintf(args, sizeof args, "%u", i);
        st = fcd_memo_call(c, fn, NULL, args, strlen(args), 300, compute_job, &j, &r);
        if (!same(&r, val, vlen) || st == FCD_CACHE_ERROR)
            t->wrong++;
        else if (st == FCD_CACHE_OK)
            t->ok++;
        else
            t->declined++;
        if (r.source == FCD_MEMO_HIT)
            t->hits++;
        fcd_memo_release(&r);
    }
}

/* Killed in the middle of a run: every call still answers right; after a
 * restart hits resume by themselves. */
static void test_mc_killed(void)
{
    fcd_cache_t *c = open_url(mc_url);
    uint64_t err0 = fcd_cache_stats_get(&stats, FCD_CACHE_C_ERRORS);
    struct tally t = {0};
    double t0;

    call_n(c, "killed", 20, &t);
    call_n(c, "killed", 20, &t);
    CU_ASSERT_EQUAL(t.hits, 20);
    stop_server(0);
    memset(&t, 0, sizeof t);
    t0 = now_s();
    call_n(c, "killed", 20, &t);
    call_n(c, "killed", 20, &t);
    CU_ASSERT_EQUAL(t.wrong, 0);
    CU_ASSERT_EQUAL(t.declined, 40);
    /* A dead server is not waited for on every call. */
    CU_ASSERT(now_s() - t0 < 2.0);
    CU_ASSERT(fcd_cache_stats_get(&stats, FCD_CACHE_C_ERRORS) > err0);

    CU_ASSERT_FATAL(start_server(0) == 0);
    /* retry_s / dead_s are 1 in this URL: service resumes within a few
     * seconds, with no action from us. */
    t0 = now_s();
    do {
        memset(&t, 0, sizeof t);
        call_n(c, "killed", 20, &t);
        CU_ASSERT_EQUAL(t.wrong, 0);
        if (t.hits == 20)
            break;
        usleep(200000);
    } while (now_s() - t0 < 10);
    CU_ASSERT_EQUAL(t.hits, 20);
    fcd_cache_close(c);
}

/* Stopped (SIGSTOP: connections accepted, nothing answered): calls time out
 * a few times, then skip the server until it answers again. */
static void test_mc_stopped(void)
{
    fcd_cache_t *c = open_url(mc_url);
    struct tally t = {0};
    double t0, dt;

    call_n(c, "stopped", 10, &t);
    kill(servers[0].pid, SIGSTOP);
    memset(&t, 0, sizeof t);
    t0 = now_s();
    call_n(c, "stopped", 30, &t);
    dt = now_s() - t0;
    CU_ASSERT_EQUAL(t.wrong, 0);
    CU_ASSERT(t.declined > 0);
    /* poll_ms is 200: a few timeouts, not thirty. */
    CU_ASSERT(dt < 2.5);
    kill(servers[0].pid, SIGCONT);
    t0 = now_s();
    do {
        memset(&t, 0, sizeof t);
        usleep(200000);
        call_n(c, "stopped", 10, &t);
        CU_ASSERT_EQUAL(t.wrong, 0);
    } while (t.hits < 10 && now_s() - t0 < 10);
    CU_ASSERT_EQUAL(t.hits, 10);
    fcd_cache_close(c);
}

/* Refusing: a server whose item limit is below what we send answers
 * E2BIG; the value is still returned, with a message that says what to
 * change. */
static void test_mc_refusing(void)
{
    char url[600];
    fcd_cache_t *c;
    size_t len = 1536 * 1024;
    unsigned char *data = malloc(len);
    struct job j = job_of(data, len);
    fcd_memo_result_t r;
    fcd_cache_status_t st;

    CU_ASSERT_FATAL(data != NULL);
    randombytes_buf(data, len);
    snprintf(url, sizeof url, "memcached://127.0.0.1:%d?item_max=2097152", servers[0].port);
    c = open_url(url);
    st = fcd_memo_call(c, "refusing", NULL, "big", 3, 60, compute_job, &j, &r);
    CU_ASSERT_EQUAL(st, FCD_CACHE_DECLINED);
    CU_ASSERT(same(&r, data, len));
    CU_ASSERT(strstr(r.msg, "item_max") != NULL);
    fcd_memo_release(&r);
    /* The server is fine otherwise: small values are cached. */
    {
        struct job s = job_of("small", 5);
        fcd_memo_call(c, "refusing", NULL, "small", 5, 60, compute_job, &s, &r);
        fcd_memo_release(&r);
        CU_ASSERT_EQUAL(fcd_memo_call(c, "refusing", NULL, "small", 5, 60, compute_job, &s, &r),
                        FCD_CACHE_OK);
        CU_ASSERT_EQUAL(r.source, FCD_MEMO_HIT);
        fcd_memo_release(&r);
    }
    free(data);
    fcd_cache_close(c);
}

/* Two servers, one stopped: keys remap to the other and calls succeed;
 * once remapped, they hit. */
static void test_mc_two_servers(void)
{
    char url[600];
    fcd_cache_t *c;
    struct tally t = {0};

    CU_ASSERT_FATAL(start_server(1) == 0);
    snprintf(url, sizeof url,
             "memcached://127.0.0.1:%d,127.0.0.1:%d?retry_s=1&dead_s=60&failure_limit=2&"
             "poll_ms=200&connect_ms=100",
             servers[0].port, servers[1].port);
    c = open_url(url);
    call_n(c, "two", 40, &t);
    memset(&t, 0, sizeof t);
    call_n(c, "two", 40, &t);
    CU_ASSERT_EQUAL(t.hits, 40);
    stop_server(1);
    memset(&t, 0, sizeof t);
    call_n(c, "two", 40, &t);
    CU_ASSERT_EQUAL(t.wrong, 0);
    memset(&t, 0, sizeof t);
    call_n(c, "two", 40, &t);
    CU_ASSERT_EQUAL(t.wrong, 0);
    memset(&t, 0, sizeof t);
    call_n(c, "two", 40, &t);
    CU_ASSERT_EQUAL(t.wrong, 0);
    CU_ASSERT_EQUAL(t.ok, 40);
    CU_ASSERT_EQUAL(t.hits, 40);
    fcd_cache_close(c);
}

/* ---- opening, settings, process-local, counters ------------------------------- */

static void test_open_urls(void)
{
    char err[FCD_CACHE_ERR_MAX], dir[600], expect[700];
    fcd_cache_t *c = NULL;
    const char *why = NULL;
    const char *bad[] = {
        "redis://x",
        "memcached://",
        "memcached://h:99999",
        "memcached://h:0",
        "memcached://[::1",
        "file://relative/dir",
        "memory://?threshold=0",
        "memory://?bogus=1",
        "memory://?lock_ttl=abc",
        "memcached://127.0.0.1:1?retry_s=",
        "none://somewhere",
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(fcd_cache_open(&c, bad[i], app, NULL, err, sizeof err), FCD_CACHE_ERROR);
        CU_ASSERT(c == NULL && err[0] != '\0');
    }
    CU_ASSERT_EQUAL(fcd_cache_open(&c, "memory://", "bad app", NULL, err, sizeof err),
                    FCD_CACHE_ERROR);
    CU_ASSERT_EQUAL(fcd_cache_open(&c, "memory://", "..", NULL, err, sizeof err), FCD_CACHE_ERROR);
    CU_ASSERT_EQUAL(fcd_cache_open(&c, "memory://?bogus=1", app, NULL, err, sizeof err),
                    FCD_CACHE_ERROR);
    CU_ASSERT(strstr(err, "bogus") != NULL);

    CU_ASSERT_EQUAL(fcd_cache_open(&c,
                                   "memcached://127.0.0.1:1,[::1]:2,/tmp/sock,host"
                                   "?lock_ttl=5&wait_ms=100",
                                   app, NULL, err, sizeof err),
                    FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_settings(c)->lock_ttl, 5);
    CU_ASSERT_EQUAL(fcd_cache_settings(c)->wait_ms, 100);
    CU_ASSERT_EQUAL(fcd_cache_settings(c)->item_max, FCD_CACHE_MEMCACHED_ITEM_MAX);
    CU_ASSERT_STRING_EQUAL(fcd_cache_scheme(c), "memcached");
    CU_ASSERT(!fcd_cache_is_process_local(c, NULL));
    fcd_cache_close(c);

    /* The default: a file backend in the runtime directory. */
    setenv("XDG_RUNTIME_DIR", tmpdir, 1);
    CU_ASSERT_EQUAL(fcd_cache_default_dir(app, dir, sizeof dir), FCD_CACHE_OK);
    snprintf(expect, sizeof expect, "%s/fcdash-cache/%s", tmpdir, app);
    CU_ASSERT_STRING_EQUAL(dir, expect);
    CU_ASSERT_EQUAL(fcd_cache_open(&c, NULL, app, NULL, err, sizeof err), FCD_CACHE_OK);
    CU_ASSERT_STRING_EQUAL(fcd_cache_scheme(c), "file");
    CU_ASSERT_EQUAL(fcd_cache_set(c, "default-dir", "v", 1, 10), FCD_CACHE_OK);
    fcd_cache_close(c);
    unsetenv("XDG_RUNTIME_DIR");
    CU_ASSERT_EQUAL(fcd_cache_default_dir(app, dir, sizeof dir), FCD_CACHE_OK);
    snprintf(expect, sizeof expect, "/tmp/fcdash-cache-%lu/%s", (unsigned long)getuid(), app);
    CU_ASSERT_STRING_EQUAL(dir, expect);

    /* memory:// says it is process-local, and why. */
    CU_ASSERT_EQUAL(fcd_cache_open(&c, "memory://", app, NULL, err, sizeof err), FCD_CACHE_OK);
    CU_ASSERT(fcd_cache_is_process_local(c, &why));
    CU_ASSERT(why != NULL && strstr(why, "worker") != NULL);
    CU_ASSERT_EQUAL(fcd_cache_check_workers(c, 1, err, sizeof err), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_check_workers(c, 4, err, sizeof err), FCD_CACHE_ERROR);
    CU_ASSERT(strstr(err, "4 workers") != NULL);
    fcd_cache_close(c);
}

/* A second process claiming memory:// for the same app is refused. */
static void test_claim(void)
{
    char err[FCD_CACHE_ERR_MAX];
    fcd_cache_t *c = NULL;
    pid_t kid;
    int status;

    setenv("XDG_RUNTIME_DIR", tmpdir, 1);
    CU_ASSERT_EQUAL_FATAL(fcd_cache_open(&c, "memory://", app, NULL, err, sizeof err),
                          FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_claim_process(c, err, sizeof err), FCD_CACHE_OK);
    kid = fork();
    if (kid == 0) {
        fcd_cache_t *k = NULL;
        char e[FCD_CACHE_ERR_MAX], pid[32];
        if (fcd_cache_open(&k, "memory://", app, NULL, e, sizeof e) != FCD_CACHE_OK)
            _exit(3);
        snprintf(pid, sizeof pid, "%ld", (long)getppid());
        _exit(fcd_cache_claim_process(k, e, sizeof e) == FCD_CACHE_ERROR && strstr(e, pid) ? 0 : 1);
    }
    waitpid(kid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    fcd_cache_close(c);
    /* Released at close: the next process may claim it. */
    kid = fork();
    if (kid == 0) {
        fcd_cache_t *k = NULL;
        char e[FCD_CACHE_ERR_MAX];
        if (fcd_cache_open(&k, "memory://", app, NULL, e, sizeof e) != FCD_CACHE_OK)
            _exit(3);
        _exit(fcd_cache_claim_process(k, e, sizeof e) == FCD_CACHE_OK ? 0 : 1);
    }
    waitpid(kid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* Shared backends need no claim. */
    CU_ASSERT_EQUAL_FATAL(fcd_cache_open(&c, "none://", app, NULL, err, sizeof err), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_claim_process(c, err, sizeof err), FCD_CACHE_OK);
    fcd_cache_close(c);
    unsetenv("XDG_RUNTIME_DIR");
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;

    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL)
        n += strlen(de->d_name) == 34 && de->d_name[33] == 'v';
    closedir(d);
    return n;
}

/* The file backend's threshold: oldest entries with a TTL go first; the
 * memoize generation (no TTL) survives. */
static void test_file_threshold(void)
{
    char url[600], dir[512], key[32];
    fcd_cache_t *c;
    uint64_t ev0 = fcd_cache_stats_get(&stats, FCD_CACHE_C_EVICTIONS);
    void *v;
    size_t n;

    snprintf(dir, sizeof dir, "%s/threshold", tmpdir);
    snprintf(url, sizeof url, "file://%s?threshold=10", dir);
    c = open_url(url);
    CU_ASSERT_EQUAL(fcd_cache_set(c, "forever", "g", 1, 0), FCD_CACHE_OK);
    for (int i = 0; i < 30; i++) {
        snprintf(key, sizeof key, "k%d", i);
        CU_ASSERT_EQUAL(fcd_cache_set(c, key, "v", 1, 100), FCD_CACHE_OK);
        CU_ASSERT(count_entries(dir) <= 10);
    }
    CU_ASSERT(fcd_cache_stats_get(&stats, FCD_CACHE_C_EVICTIONS) > ev0);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "forever", &v, &n), FCD_CACHE_OK);
    free(v);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "k29", &v, &n), FCD_CACHE_OK);
    free(v);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "k0", &v, &n), FCD_CACHE_MISS);
    fcd_cache_close(c);
}

static void test_memory_threshold(void)
{
    fcd_cache_t *c = open_url("memory://?threshold=10&max_bytes=100000");
    uint64_t ev0 = fcd_cache_stats_get(&stats, FCD_CACHE_C_EVICTIONS);
    static unsigned char big[60000];
    char key[32];
    void *v;
    size_t n;

    CU_ASSERT_EQUAL(fcd_cache_set(c, "forever", "g", 1, 0), FCD_CACHE_OK);
    for (int i = 0; i < 30; i++) {
        snprintf(key, sizeof key, "k%d", i);
        CU_ASSERT_EQUAL(fcd_cache_set(c, key, "v", 1, 100), FCD_CACHE_OK);
    }
    CU_ASSERT(fcd_cache_stats_get(&stats, FCD_CACHE_C_EVICTIONS) >= 21);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "forever", &v, &n), FCD_CACHE_OK);
    free(v);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "k0", &v, &n), FCD_CACHE_MISS);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "k29", &v, &n), FCD_CACHE_OK);
    free(v);
    /* The byte bound. */
    CU_ASSERT_EQUAL(fcd_cache_set(c, "big1", big, sizeof big, 100), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_set(c, "big2", big, sizeof big, 100), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "big1", &v, &n), FCD_CACHE_MISS);
    CU_ASSERT_EQUAL(fcd_cache_get(c, "big2", &v, &n), FCD_CACHE_OK);
    free(v);
    CU_ASSERT(fcd_cache_stats_get(&stats, FCD_CACHE_C_EVICTIONS) > ev0);
    fcd_cache_close(c);
}

/* A corrupt entry is a miss (recomputed and replaced), counted as an error. */
static void test_corrupt_entry(void)
{
    char url[600], dir[512], path[1024];
    fcd_cache_t *c;
    static const char val[] = "corruptible value, long enough to find";
    struct job j = job_of(val, sizeof val);
    fcd_memo_result_t r;
    uint64_t err0;
    DIR *d;
    struct dirent *de;
    off_t biggest = 0;

    snprintf(dir, sizeof dir, "%s/corrupt", tmpdir);
    snprintf(url, sizeof url, "file://%s", dir);
    c = open_url(url);
    fcd_memo_call(c, "corrupt", NULL, "a", 1, 60, compute_job, &j, &r);
    fcd_memo_release(&r);
    /* The entry is the largest file (the other is the generation). */
    d = opendir(dir);
    CU_ASSERT_FATAL(d != NULL);
    path[0] = '\0';
    while ((de = readdir(d)) != NULL) {
        char p[1024];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (de->d_name[0] != '.' && stat(p, &st) == 0 && st.st_size > biggest) {
            biggest = st.st_size;
            memcpy(path, p, sizeof p);
        }
    }
    closedir(d);
    {
        int fd = open(path, O_WRONLY);
        CU_ASSERT_FATAL(fd >= 0);
        CU_ASSERT_EQUAL(pwrite(fd, "#", 1, biggest - 3), 1);
        close(fd);
    }
    err0 = fcd_cache_stats_get(&stats, FCD_CACHE_C_ERRORS);
    CU_ASSERT_EQUAL(fcd_memo_call(c, "corrupt", NULL, "a", 1, 60, compute_job, &j, &r),
                    FCD_CACHE_OK);
    CU_ASSERT(same(&r, val, sizeof val));
    CU_ASSERT_EQUAL(r.source, FCD_MEMO_COMPUTED);
    fcd_memo_release(&r);
    CU_ASSERT(fcd_cache_stats_get(&stats, FCD_CACHE_C_ERRORS) > err0);
    CU_ASSERT_EQUAL(fcd_memo_call(c, "corrupt", NULL, "a", 1, 60, compute_job, &j, &r),
                    FCD_CACHE_OK);
    CU_ASSERT_EQUAL(r.source, FCD_MEMO_HIT);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, 2);
    fcd_cache_close(c);
}

static void test_counters(void)
{
    fcd_cache_stats_t other;
    char err[FCD_CACHE_ERR_MAX], text[2048], small[16], line[256];
    uint64_t h0 = fcd_cache_stats_get(&stats, FCD_CACHE_C_HITS);
    size_t need;
    pid_t kid;

    /* Another mapping of the same segment sees the same totals. */
    CU_ASSERT_EQUAL_FATAL(fcd_cache_stats_open(&other, app, err, sizeof err), FCD_CACHE_OK);
    fcd_cache_stats_add(&other, FCD_CACHE_C_HITS, 5);
    CU_ASSERT_EQUAL(fcd_cache_stats_get(&stats, FCD_CACHE_C_HITS), h0 + 5);
    /* And another process's adds too. */
    kid = fork();
    if (kid == 0) {
        fcd_cache_stats_t s;
        char e[FCD_CACHE_ERR_MAX];
        if (fcd_cache_stats_open(&s, app, e, sizeof e) != FCD_CACHE_OK)
            _exit(1);
        for (int i = 0; i < 1000; i++)
            fcd_cache_stats_add(&s, FCD_CACHE_C_HITS, 1);
        fcd_cache_stats_close(&s);
        _exit(0);
    }
    for (int i = 0; i < 1000; i++)
        fcd_cache_stats_add(&other, FCD_CACHE_C_HITS, 1);
    waitpid(kid, NULL, 0);
    CU_ASSERT_EQUAL(fcd_cache_stats_get(&stats, FCD_CACHE_C_HITS), h0 + 2005);

    need = fcd_cache_metrics_text(&other, text, sizeof text);
    CU_ASSERT(need < sizeof text);
    CU_ASSERT_EQUAL(strlen(text), need);
    snprintf(line, sizeof line, "fcdash_cache_hits_total{app=\"%s\"} %llu\n", app,
             (unsigned long long)(h0 + 2005));
    CU_ASSERT(strstr(text, line) != NULL);
    CU_ASSERT(strstr(text, "# TYPE fcdash_cache_lock_waits_total counter\n") != NULL);
    CU_ASSERT(strstr(text, "fcdash_cache_chunked_values_total{") != NULL);
    CU_ASSERT(strstr(text, "fcdash_cache_evictions_total{") != NULL);
    CU_ASSERT(strstr(text, "fcdash_cache_errors_total{") != NULL);
    CU_ASSERT(strstr(text, "fcdash_cache_misses_total{") != NULL);
    CU_ASSERT_EQUAL(fcd_cache_metrics_text(&other, small, sizeof small), need);
    CU_ASSERT_EQUAL(strlen(small), sizeof small - 1);
    fcd_cache_stats_close(&other);
    CU_ASSERT_EQUAL(fcd_cache_stats_open(&other, "bad name", err, sizeof err), FCD_CACHE_ERROR);
    /* NULL stats count nothing and crash nothing. */
    fcd_cache_stats_add(NULL, FCD_CACHE_C_HITS, 1);
    CU_ASSERT_EQUAL(fcd_cache_stats_get(NULL, FCD_CACHE_C_HITS), 0);
}

static void test_ratelimit(void)
{
    fcd_cache_ratelimit_t rl;
    uint64_t sup = 99;
    int allowed = 0;

    fcd_cache_ratelimit_init(&rl, 10, 3);
    for (int i = 0; i < 10; i++)
        allowed += fcd_cache_ratelimit_allow(&rl, 1000, &sup);
    CU_ASSERT_EQUAL(allowed, 3);
    CU_ASSERT_EQUAL(sup, 0);
    CU_ASSERT(!fcd_cache_ratelimit_allow(&rl, 1009, &sup));
    CU_ASSERT(fcd_cache_ratelimit_allow(&rl, 1010, &sup));
    CU_ASSERT_EQUAL(sup, 8);
    CU_ASSERT(fcd_cache_ratelimit_allow(&rl, 1011, &sup));
    CU_ASSERT_EQUAL(sup, 0);
}

/* ---- chaos malloc ------------------------------------------------------------------ */

/* tests/unit/chaos.h fails the n-th allocation cache/ (compiled into this
 * program) makes; libmemcached's and libsodium's own are out of its reach. */

/* Open, miss, hit and close with the n-th allocation failing, for n = 1, 2,
 * ... until a run makes fewer allocations than n.  Every outcome must be a
 * status with a right result or none; ASan/valgrind runs see the leaks. */
static void chaos_run(const char *url, const char *fn)
{
    size_t len = 100000;
    unsigned char *data = malloc(len);
    unsigned nth;
    bool done = false;

    CU_ASSERT_FATAL(data != NULL);
    /* Half text, half noise: compressed, yet still over item_max, so the
     * lz4 and chunk paths run too. */
    for (size_t i = 0; i < len / 2; i++)
        data[i] = (unsigned char)("chaos "[i % 6] + (i / 1000) % 5);
    randombytes_buf(data + len / 2, len - len / 2);
    for (nth = 1; nth < 5000 && !done; nth++) {
        char err[FCD_CACHE_ERR_MAX];
        fcd_cache_t *c = NULL;
        fcd_cache_status_t st;

        chaos_arm(nth);
        st = fcd_cache_open(&c, url, app, &stats, err, sizeof err);
        CU_ASSERT((st == FCD_CACHE_OK) == (c != NULL));
        for (int k = 0; c && k < 2; k++) {
            struct job j = job_of(data, len);
            fcd_memo_result_t r;
            st = fcd_memo_call(c, fn, "1", "chaos", 5, 60, compute_job, &j, &r);
            if (st == FCD_CACHE_ERROR) {
                CU_ASSERT(r.data == NULL && r.msg[0] != '\0');
            } else {
                CU_ASSERT(same(&r, data, len));
            }
            fcd_memo_release(&r);
        }
        done = !chaos_disarm();
        if (c) {
            fcd_memo_forget_all(c, fn);
            fcd_cache_close(c);
        }
    }
    CU_ASSERT(done);
    CU_ASSERT(nth > 3);
    if (getenv("FCD_TEST_VERBOSE"))
        fprintf(stderr, "chaos %s: %u allocations\n", url, nth - 2);
    free(data);
}

static void test_chaos_malloc(void)
{
    char url[600];

    if (!chaos_wrapped()) {
        CU_FAIL("built without -Wl,--wrap=malloc: chaos test cannot run");
        return;
    }
    chaos_run("memory://?item_max=4096", "chaos-memory");
    snprintf(url, sizeof url, "file://%s/chaos?threshold=3&item_max=4096", tmpdir);
    chaos_run(url, "chaos-file");
    snprintf(url, sizeof url, "%s&item_max=4096", mc_url);
    chaos_run(url, "chaos-memcached");
    chaos_run("none://", "chaos-none");
}

/* ---- main ------------------------------------------------------------------------- */

#define ADD(s, name, fn) CU_add_test((s), (name), (fn))

static void add_contract(const char *name, CU_InitializeFunc init)
{
    CU_pSuite s = CU_add_suite(name, init, NULL);

    ADD(s, "basic get/set/add/delete", test_basic_ops);
    ADD(s, "multi-get", test_get_multi);
    ADD(s, "hostile keys refused", test_bad_keys);
    ADD(s, "item limit", test_item_limit);
    ADD(s, "ttl expiry", test_ttl);
    ADD(s, "single-flight lock", test_lock);
    ADD(s, "memoize basics, forget, forget_all", test_memo_basic);
    ADD(s, "memoize json arguments", test_memo_json);
    ADD(s, "memoize hostile names and arguments", test_memo_hostile);
    ADD(s, "memoize generations: stale, old format, lost generation key", test_memo_generations);
    ADD(s, "memoize 0 B, 1 MiB +- 1, 20 MB", test_memo_sizes);
    ADD(s, "memoize chunks under a small item limit", test_memo_chunks);
    ADD(s, "memoize past value_max", test_memo_too_large);
    ADD(s, "single-flight across 10 processes", test_single_flight);
    ADD(s, "dead lock holder", test_dead_holder);
    ADD(s, "bounded wait", test_wait_bound);
}

int main(void)
{
    unsigned failures;
    CU_pSuite s;

    main_pid = getpid();
    if (sodium_init() < 0 || !mkdtemp(tmpdir)) {
        fprintf(stderr, "test_cache: set-up failed\n");
        return 1;
    }
    atexit(stop_all_servers);
    signal(SIGINT, on_fatal);
    signal(SIGTERM, on_fatal);
    signal(SIGSEGV, on_fatal);
    signal(SIGABRT, on_fatal);
    signal(SIGBUS, on_fatal);
    snprintf(app, sizeof app, "test-cache-%ld", (long)getpid());
    if (fcd_cache_stats_open(&stats, app, (char[FCD_CACHE_ERR_MAX]){0}, FCD_CACHE_ERR_MAX) !=
        FCD_CACHE_OK)
        fprintf(stderr, "test_cache: shared counters unavailable; counting locally\n");

    if (start_server(0) != 0) {
        fprintf(stderr, "test_cache: cannot start memcached (apt-get install memcached)\n");
        return 1;
    }
    snprintf(mc_url, sizeof mc_url,
             "memcached://127.0.0.1:%d?retry_s=1&dead_s=1&failure_limit=2&poll_ms=200&"
             "connect_ms=100&lock_ttl=5&wait_ms=10000",
             servers[0].port);
    backends[0] = (struct backend){"memcached", "", true, true, true};
    memcpy(backends[0].url, mc_url, sizeof backends[0].url);
    backends[1] = (struct backend){"file", "", true, true, false};
    snprintf(backends[1].url, sizeof backends[1].url,
             "file://%s/file-backend?threshold=1000&lock_ttl=5&wait_ms=10000", tmpdir);
    backends[2] = (struct backend){"memory", "memory://?lock_ttl=5", true, false, true};
    backends[3] = (struct backend){"none", "none://", false, false, false};

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    add_contract("contract: memcached", suite_mc);
    add_contract("contract: file", suite_file);
    add_contract("contract: memory", suite_memory);
    add_contract("contract: none", suite_none);

    s = CU_add_suite("memcached faults", NULL, NULL);
    ADD(s, "refusing (E2BIG) still answers", test_mc_refusing);
    ADD(s, "stopped (SIGSTOP) server is skipped, then resumes", test_mc_stopped);
    ADD(s, "killed mid-run, restarted: hits resume", test_mc_killed);
    ADD(s, "two servers, one stopped: keys remap", test_mc_two_servers);

    s = CU_add_suite("open, limits, counters", NULL, NULL);
    ADD(s, "cache URLs and the default", test_open_urls);
    ADD(s, "memory:// claimed by one process", test_claim);
    ADD(s, "file threshold eviction", test_file_threshold);
    ADD(s, "memory threshold eviction", test_memory_threshold);
    ADD(s, "corrupt entry is a miss", test_corrupt_entry);
    ADD(s, "shared counters and metrics text", test_counters);
    ADD(s, "log rate limiter", test_ratelimit);
    ADD(s, "chaos malloc: every allocation failure handled", test_chaos_malloc);

    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();

    stop_all_servers();
    fcd_cache_stats_close(&stats);
    fcd_cache_stats_unlink(app);
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_cache: could not remove %s\n", tmpdir);
    }
    return failures ? 1 : 0;
}
