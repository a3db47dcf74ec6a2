/*
 * tests/unit/test_session_store.c - CUnit tests of cache/session_store.c:
 * per-session values, their bound (least recently used evicted first),
 * single-flight across forked processes, and fail-open, against memcached,
 * file and memory backends (and none://).
 *
 * The test starts its own memcached servers on 127.0.0.1 at random high
 * ports (-P pidfile in a temporary directory) and stops them by pid at the
 * end, pass or fail: an atexit handler and fatal-signal handlers kill them,
 * and each server gets PR_SET_PDEATHSIG so it dies with the test even if
 * the test is killed outright.  Forked children leave with _exit() and
 * report through their exit status, never through CUnit.
 *
 * Every test works under its own app name, so the namespaces of tests
 * never meet, whichever backend they share.
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
#include <sodium.h>

#include "cache/backend.h"
#include "cache/memoize.h"
#include "cache/secret.h"
#include "cache/session.h"
#include "cache/session_store.h"
#include "tests/unit/chaos.h"

#define NSERVERS 2
#define NKIDS 4

/* ---- memcached servers ---------------------------------------------------- */

struct server {
    pid_t pid;
    int port;
    char pidfile[512];
};

static struct server servers[NSERVERS];
static pid_t main_pid;
static char tmpdir[256] = "/tmp/fcdash-test-session-store-XXXXXX";

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

/* Start server i on a random free high port.  0 on success. */
static int start_server(int i)
{
    struct server *s = &servers[i];

    for (int attempt = 0; attempt < 8; attempt++) {
        char port[16];
        pid_t pid;

        s->port = 20000 + (int)randombytes_uniform(40000);
        if (port_open(s->port))
            continue;
        snprintf(port, sizeof port, "%d", s->port);
        snprintf(s->pidfile, sizeof s->pidfile, "%s/memcached-%d.pid", tmpdir, i);
        unlink(s->pidfile);
        pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            const char *argv[20];
            int n = 0, lfd;
            char log[600];
            prctl(PR_SET_PDEATHSIG, SIGKILL);
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
            argv[n++] = "64";
            argv[n++] = "-t";
            argv[n++] = "2";
            argv[n++] = "-P";
            argv[n++] = s->pidfile;
            if (geteuid() == 0) {
                argv[n++] = "-u";
                argv[n++] = "root";
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

/* Stop server i by the pid we forked, after checking its pid file names
 * the same process. */
static void stop_server(int i)
{
    struct server *s = &servers[i];
    char buf[32] = "";
    FILE *f;

    if (s->pid <= 0)
        return;
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

/* ---- backends, apps, sessions ----------------------------------------------- */

struct backend {
    const char *name;
    char url[600];
};

static struct backend backends[3];
static const struct backend *cur;
static unsigned app_serial;
static char secrets[2 * FCD_SECRET_MIN + 1];

static int use_backend(int i)
{
    cur = &backends[i];
    return 0;
}
static int suite_mc(void)
{
    return use_backend(0);
}
static int suite_file(void)
{
    return use_backend(1);
}
static int suite_memory(void)
{
    return use_backend(2);
}

static fcd_cache_t *open_url(const char *url)
{
    char err[FCD_CACHE_ERR_MAX];
    fcd_cache_t *c = NULL;

    if (fcd_cache_open(&c, url, "test-session-store", NULL, err, sizeof err) != FCD_CACHE_OK)
        fprintf(stderr, "\nopen %s: %s\n", url, err);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    return c;
}

/* The current test's cache URL: the backend's, except that each test gets
 * its own file directory, as each app has in production (the file
 * backend's stores scan their directory). */
static char cur_url[700];

static fcd_cache_t *open_cur(void)
{
    return open_url(cur_url);
}

/* A fresh app (its own namespace) with the test's secret, and a store conf
 * over it with `threshold` and refreshes on every use. */
static void new_app(fcd_session_conf_t *conf, fcd_session_store_conf_t *sc, unsigned threshold)
{
    char app[64], err[512];

    snprintf(app, sizeof app, "ss%ld-%u", (long)getpid(), ++app_serial);
    CU_ASSERT_EQUAL_FATAL(fcd_session_conf_init(conf, app, err, sizeof err), FCD_SESSION_OK);
    CU_ASSERT_EQUAL_FATAL(fcd_secret_parse(&conf->ring, secrets, strlen(secrets), false, "test",
                                           err, sizeof err),
                          FCD_SECRET_OK);
    fcd_session_store_conf_init(sc, conf);
    sc->threshold = threshold;
    sc->touch_s = 0;
    if (cur && strcmp(cur->name, "file") == 0)
        snprintf(cur_url, sizeof cur_url,
                 "file://%s/file-%s?threshold=100000&lock_ttl=5&wait_ms=10000", tmpdir, app);
    else if (cur)
        snprintf(cur_url, sizeof cur_url, "%s", cur->url);
}

/* A session minted `age` seconds ago. */
static fcd_session_t mint_aged(const fcd_session_conf_t *conf, int64_t age)
{
    char text[FCD_SESSION_ID_BUF];
    fcd_session_t s;

    CU_ASSERT_EQUAL(fcd_session_mint(conf, (int64_t)time(NULL) - age, &s, text), FCD_SESSION_OK);
    return s;
}

static fcd_session_t mint(const fcd_session_conf_t *conf)
{
    return mint_aged(conf, 0);
}

/* Whether session s's value `name` reads back as `want`. */
static bool reads(fcd_cache_t *c, const fcd_session_store_conf_t *sc, const fcd_session_t *s,
                  const char *name, const char *want)
{
    void *v;
    size_t n;
    bool ok;

    if (fcd_session_store_get(c, sc, s, name, &v, &n) != FCD_CACHE_OK)
        return false;
    ok = n == strlen(want) && memcmp(v, want, n) == 0;
    free(v);
    return ok;
}

static fcd_cache_status_t put(fcd_cache_t *c, const fcd_session_store_conf_t *sc,
                              const fcd_session_t *s, const char *name, const char *val)
{
    return fcd_session_store_set(c, sc, s, name, val, strlen(val), 0);
}

static size_t index_count(fcd_cache_t *c, const fcd_session_store_conf_t *sc)
{
    size_t n = (size_t)-1;

    CU_ASSERT_EQUAL(fcd_session_store_count(c, sc, &n), FCD_CACHE_OK);
    return n;
}

/* ---- compute functions -------------------------------------------------------- */

struct job {
    const char *value;
    const char *log;    /* a file that gets one byte per computation, or NULL */
    unsigned sleep_ms;
    unsigned calls;     /* in this process */
    bool fail;
};

static fcd_cache_status_t compute_job(void *ctx, void **out, size_t *out_len, char *err,
                                      size_t errlen)
{
    struct job *j = ctx;
    size_t n = strlen(j->value);

    j->calls++;
    if (j->fail) {
        snprintf(err, errlen, "the job failed on purpose");
        return FCD_CACHE_ERROR;
    }
    if (j->log) {
        int fd = open(j->log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            if (write(fd, "x", 1) != 1)
                j->calls += 1000;
            close(fd);
        }
    }
    if (j->sleep_ms)
        usleep(j->sleep_ms * 1000u);
    *out = malloc(n ? n : 1);
    if (!*out)
        return FCD_CACHE_ERROR;
    memcpy(*out, j->value, n);
    *out_len = n;
    return FCD_CACHE_OK;
}

static bool same(const fcd_memo_result_t *r, const char *want)
{
    return r->len == strlen(want) && (r->len == 0 || memcmp(r->data, want, r->len) == 0);
}

static long file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* ---- the contract, on every backend --------------------------------------------- */

static void test_round_trip(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c;
    fcd_session_t s;
    char key[FCD_SESSION_KEY_BUF];
    void *v;
    size_t n;

    new_app(&conf, &sc, 200);
    c = open_cur();
    s = mint(&conf);
    CU_ASSERT_EQUAL(fcd_session_store_get(c, &sc, &s, "data", &v, &n), FCD_CACHE_MISS);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(put(c, &sc, &s, "data", "a,b,a,c"), FCD_CACHE_OK);
    CU_ASSERT(reads(c, &sc, &s, "data", "a,b,a,c"));
    CU_ASSERT_EQUAL(put(c, &sc, &s, "data", "second"), FCD_CACHE_OK);
    CU_ASSERT(reads(c, &sc, &s, "data", "second"));
    /* Empty values are values. */
    CU_ASSERT_EQUAL(fcd_session_store_set(c, &sc, &s, "empty", "", 0, 60), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_session_store_get(c, &sc, &s, "empty", &v, &n), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(n, 0);
    free(v);
    /* Binary bytes, NUL included. */
    CU_ASSERT_EQUAL(fcd_session_store_set(c, &sc, &s, "bin", "\0\1\2\377", 4, 0), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_session_store_get(c, &sc, &s, "bin", &v, &n), FCD_CACHE_OK);
    CU_ASSERT(n == 4 && memcmp(v, "\0\1\2\377", 4) == 0);
    free(v);

    /* The value lives exactly under the session's storage key. */
    CU_ASSERT_EQUAL(fcd_session_storage_key(&conf, &s, "data", key), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(strncmp(key, "fcds:", 5), 0);
    CU_ASSERT_EQUAL(fcd_cache_get(c, key, &v, &n), FCD_CACHE_OK);
    CU_ASSERT(n == 6 && memcmp(v, "second", 6) == 0);
    free(v);
    CU_ASSERT_EQUAL(index_count(c, &sc), 1);

    /* Bad names and arguments are errors with a message. */
    CU_ASSERT_EQUAL(put(c, &sc, &s, "a:b", "x"), FCD_CACHE_ERROR);
    CU_ASSERT(fcd_cache_error(c)[0] != '\0');
    CU_ASSERT_EQUAL(put(c, &sc, &s, "", "x"), FCD_CACHE_ERROR);
    CU_ASSERT_EQUAL(put(c, &sc, &s, "a b", "x"), FCD_CACHE_ERROR);
    CU_ASSERT_EQUAL(put(c, &sc, &s, NULL, "x"), FCD_CACHE_ERROR);
    CU_ASSERT_EQUAL(fcd_session_store_get(c, &sc, &s, "../x", &v, &n), FCD_CACHE_ERROR);
    CU_ASSERT_EQUAL(fcd_session_store_get(c, &sc, NULL, "data", &v, &n), FCD_CACHE_ERROR);
    CU_ASSERT_EQUAL(fcd_session_store_set(c, &sc, &s, "data", NULL, 3, 0), FCD_CACHE_ERROR);
    CU_ASSERT(reads(c, &sc, &s, "data", "second"));
    fcd_cache_close(c);
}

/* Two sessions, and the same session's bytes under another app, never see
 * each other's values; memoize's keys are another namespace. */
static void test_isolated(void)
{
    fcd_session_conf_t conf, other;
    fcd_session_store_conf_t sc, osc;
    fcd_cache_t *c;
    fcd_session_t a, b;
    char key[FCD_SESSION_KEY_BUF], mkey[FCD_MEMO_KEY_BUF];
    fcd_memo_result_t r;
    struct job j = {.value = "computed for b"};

    new_app(&conf, &sc, 200);
    c = open_cur();
    new_app(&other, &osc, 200);
    a = mint(&conf);
    b = mint(&conf);
    CU_ASSERT_EQUAL(put(c, &sc, &a, "data", "for a"), FCD_CACHE_OK);
    CU_ASSERT(reads(c, &sc, &a, "data", "for a"));
    CU_ASSERT(!reads(c, &sc, &b, "data", "for a"));
    CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &b, "data", 0, compute_job, &j, &r),
                    FCD_CACHE_OK);
    CU_ASSERT(same(&r, "computed for b"));
    CU_ASSERT_EQUAL(r.source, FCD_MEMO_COMPUTED);
    fcd_memo_release(&r);
    CU_ASSERT(reads(c, &sc, &a, "data", "for a"));
    CU_ASSERT(reads(c, &sc, &b, "data", "computed for b"));
    /* Another app, the very same session bytes: another key, nothing there. */
    CU_ASSERT(!reads(c, &osc, &a, "data", "for a"));
    CU_ASSERT_EQUAL(index_count(c, &osc), 0);
    /* Memoize writes under "fcd:", sessions under "fcds:<app>:". */
    CU_ASSERT(fcd_memo_key(conf.app, "data", NULL, "x", 1, mkey) > 0);
    CU_ASSERT_EQUAL(strncmp(mkey, "fcd:", 4), 0);
    CU_ASSERT_EQUAL(fcd_session_storage_key(&conf, &a, "data", key), FCD_SESSION_OK);
    CU_ASSERT_NOT_EQUAL(strncmp(mkey, "fcds:", 5), 0);
    CU_ASSERT_EQUAL(index_count(c, &sc), 2);
    fcd_cache_close(c);
}

/*
 * The bound: threshold + 10 sessions created, exactly threshold remain (by
 * the index and by reading every value back), and the ten gone are the
 * least recently used: the oldest, except one old session used again just
 * before the new ones came.
 */
static void test_bound(void)
{
    enum { T = FCD_SESSION_THRESHOLD_DEFAULT, EXTRA = 10 };
    static fcd_session_t s[T + EXTRA];
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c;
    char val[32];
    unsigned alive = 0, bad = 0;

    new_app(&conf, &sc, T);
    c = open_cur();
    for (unsigned i = 0; i < T; i++) {
        s[i] = mint(&conf);
        snprintf(val, sizeof val, "v%u", i);
        bad += put(c, &sc, &s[i], "data", val) != FCD_CACHE_OK;
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(index_count(c, &sc), T);
    /* Session 0, the oldest, is used again: now the most recent. */
    CU_ASSERT(reads(c, &sc, &s[0], "data", "v0"));
    for (unsigned i = T; i < T + EXTRA; i++) {
        s[i] = mint(&conf);
        snprintf(val, sizeof val, "v%u", i);
        bad += put(c, &sc, &s[i], "data", val) != FCD_CACHE_OK;
        CU_ASSERT(index_count(c, &sc) <= T);
    }
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT_EQUAL(index_count(c, &sc), T);
    for (unsigned i = 0; i < T + EXTRA; i++) {
        bool gone = i >= 1 && i <= EXTRA;
        bool ok;
        snprintf(val, sizeof val, "v%u", i);
        ok = reads(c, &sc, &s[i], "data", val);
        alive += ok;
        if (ok == gone)
            fprintf(stderr, "\nsession %u: %s\n", i, ok ? "kept, should be gone" : "gone");
        CU_ASSERT(ok != gone);
    }
    CU_ASSERT_EQUAL(alive, T);
    /* Reading them all back changed nothing. */
    CU_ASSERT_EQUAL(index_count(c, &sc), T);
    fcd_cache_close(c);
}

/* The file backend's entries, counted on disk: every stored key is one
 * "<32 hex>.v" file. */
static size_t count_files(const char *dir)
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

/* The same bound counted from the outside: entries in a private file
 * cache directory, sessions with two values each. */
static void test_bound_on_disk(void)
{
    enum { T = 50, EXTRA = 10 };
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    char dir[512], url[700];
    fcd_cache_t *c;
    unsigned bad = 0;

    snprintf(dir, sizeof dir, "%s/on-disk", tmpdir);
    snprintf(url, sizeof url, "file://%s?threshold=100000", dir);
    c = open_url(url);
    new_app(&conf, &sc, T);
    for (unsigned i = 0; i < T + EXTRA; i++) {
        fcd_session_t s = mint(&conf);
        bad += put(c, &sc, &s, "data", "frame") != FCD_CACHE_OK;
        bad += put(c, &sc, &s, "figure", "fig") != FCD_CACHE_OK;
    }
    CU_ASSERT_EQUAL(bad, 0);
    /* T sessions x (record + 2 values), plus the index. */
    CU_ASSERT_EQUAL(count_files(dir), (size_t)T * 3 + 1);
    CU_ASSERT_EQUAL(index_count(c, &sc), T);
    fcd_cache_close(c);
}

/* With refreshes at most every touch_s, a use inside the interval does not
 * move a session: the LRU order is that coarse, by design. */
static void test_touch_interval(void)
{
    enum { T = 20 };
    fcd_session_t s[T + 1];
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c;

    new_app(&conf, &sc, T);
    c = open_cur();
    sc.touch_s = 3600;
    for (unsigned i = 0; i < T; i++) {
        s[i] = mint(&conf);
        CU_ASSERT_EQUAL(put(c, &sc, &s[i], "data", "x"), FCD_CACHE_OK);
    }
    CU_ASSERT(reads(c, &sc, &s[0], "data", "x")); /* not a refresh yet */
    s[T] = mint(&conf);
    CU_ASSERT_EQUAL(put(c, &sc, &s[T], "data", "x"), FCD_CACHE_OK);
    CU_ASSERT(!reads(c, &sc, &s[0], "data", "x"));
    CU_ASSERT(reads(c, &sc, &s[1], "data", "x"));
    CU_ASSERT_EQUAL(index_count(c, &sc), T);
    fcd_cache_close(c);
}

/* A lost or corrupt index breaks nothing: values still read, and the bound
 * comes back as sessions are used and new ones arrive. */
static void test_index_lost(void)
{
    enum { T = 30, EXTRA = 5 };
    fcd_session_t s[T + EXTRA];
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c;
    char ikey[FCD_CACHE_KEY_MAX + 1];
    unsigned alive = 0;

    new_app(&conf, &sc, T);
    c = open_cur();
    snprintf(ikey, sizeof ikey, "fcds:%s:index", conf.app);
    for (unsigned i = 0; i < T; i++) {
        s[i] = mint(&conf);
        CU_ASSERT_EQUAL(put(c, &sc, &s[i], "data", "x"), FCD_CACHE_OK);
    }
    CU_ASSERT_EQUAL(fcd_cache_delete(c, ikey), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(index_count(c, &sc), 0);
    /* Every session still reads, and reading enters it again (in order). */
    for (unsigned i = 0; i < T; i++)
        CU_ASSERT(reads(c, &sc, &s[i], "data", "x"));
    CU_ASSERT_EQUAL(index_count(c, &sc), T);
    /* Garbage in its place reads as no index. */
    CU_ASSERT_EQUAL(fcd_cache_set(c, ikey, "FSSI garbage", 12, 0), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(index_count(c, &sc), 0);
    for (unsigned i = 0; i < T; i++)
        CU_ASSERT(reads(c, &sc, &s[i], "data", "x"));
    for (unsigned i = T; i < T + EXTRA; i++) {
        s[i] = mint(&conf);
        CU_ASSERT_EQUAL(put(c, &sc, &s[i], "data", "x"), FCD_CACHE_OK);
    }
    CU_ASSERT_EQUAL(index_count(c, &sc), T);
    for (unsigned i = 0; i < T + EXTRA; i++) {
        bool ok = reads(c, &sc, &s[i], "data", "x");
        alive += ok;
        CU_ASSERT(ok == (i >= EXTRA));
    }
    CU_ASSERT_EQUAL(alive, T);
    fcd_cache_close(c);
}

/* A session's record lost on its own (the backend evicted it): the next use
 * writes it again, so the session can still be evicted whole. */
static void test_record_lost(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c;
    fcd_session_t a, b;
    char base[FCD_SESSION_KEY_BUF];

    new_app(&conf, &sc, 1);
    c = open_cur();
    a = mint(&conf);
    CU_ASSERT_EQUAL(put(c, &sc, &a, "data", "x"), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_session_storage_key(&conf, &a, NULL, base), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(fcd_cache_delete(c, base), FCD_CACHE_OK);
    CU_ASSERT(reads(c, &sc, &a, "data", "x"));
    b = mint(&conf);
    CU_ASSERT_EQUAL(put(c, &sc, &b, "data", "y"), FCD_CACHE_OK);
    CU_ASSERT(!reads(c, &sc, &a, "data", "x"));
    CU_ASSERT(reads(c, &sc, &b, "data", "y"));
    fcd_cache_close(c);
}

static void test_memo(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c;
    fcd_session_t s, t;
    struct job j = {.value = "2024-01-01,a\n2024-01-02,b\n"};
    fcd_memo_result_t r;

    new_app(&conf, &sc, 200);
    c = open_cur();
    s = mint(&conf);
    t = mint(&conf);
    CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &s, "df", 0, compute_job, &j, &r),
                    FCD_CACHE_OK);
    CU_ASSERT(same(&r, j.value));
    CU_ASSERT_EQUAL(r.source, FCD_MEMO_COMPUTED);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &s, "df", 0, compute_job, &j, &r),
                    FCD_CACHE_OK);
    CU_ASSERT(same(&r, j.value));
    CU_ASSERT_EQUAL(r.source, FCD_MEMO_HIT);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, 1);
    /* Another session computes its own. */
    CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &t, "df", 0, compute_job, &j, &r),
                    FCD_CACHE_OK);
    CU_ASSERT_EQUAL(r.source, FCD_MEMO_COMPUTED);
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(j.calls, 2);
    /* A failing computation: no value, its message, nothing stored. */
    j.fail = true;
    CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &s, "other", 0, compute_job, &j, &r),
                    FCD_CACHE_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg, "on purpose"));
    CU_ASSERT_PTR_NULL(r.data);
    fcd_memo_release(&r);
    CU_ASSERT(!reads(c, &sc, &s, "other", ""));
    /* Misuse. */
    CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &s, "bad name", 0, compute_job, &j, &r),
                    FCD_CACHE_ERROR);
    CU_ASSERT(r.msg[0] != '\0');
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &s, "df", 0, NULL, &j, &r), FCD_CACHE_ERROR);
    fcd_memo_release(&r);
    fcd_cache_close(c);
}

/* Two (here four) requests of one session on separate workers ask for its
 * data at the same moment: one computes, the others wait and read it. */
static void test_single_flight(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_session_t s;
    char log[512];
    int go[2];
    pid_t kids[NKIDS];
    unsigned computed = 0, waited = 0, failed = 0;

    new_app(&conf, &sc, 200);
    s = mint(&conf);
    snprintf(log, sizeof log, "%s/computations-%s", tmpdir, conf.app);
    CU_ASSERT_EQUAL_FATAL(pipe(go), 0);
    for (int i = 0; i < NKIDS; i++) {
        kids[i] = fork();
        CU_ASSERT_FATAL(kids[i] >= 0);
        if (kids[i] == 0) {
            struct job j = {.value = "the session's frame", .log = log, .sleep_ms = 400};
            fcd_memo_result_t r;
            fcd_cache_t *c = NULL;
            char err[FCD_CACHE_ERR_MAX], b;
            fcd_cache_status_t st;
            int code;

            close(go[1]);
            if (fcd_cache_open(&c, cur_url, "test-session-store", NULL, err, sizeof err) != 0)
                _exit(1);
            if (read(go[0], &b, 1) != 0) /* EOF: everyone starts now */
                _exit(1);
            st = fcd_session_store_memo(c, &sc, &s, "data", 0, compute_job, &j, &r);
            code = st != FCD_CACHE_OK || !same(&r, j.value) ? 1 : 10 + (int)r.source;
            fcd_memo_release(&r);
            fcd_cache_close(c);
            _exit(code);
        }
    }
    close(go[0]);
    usleep(100000);
    close(go[1]);
    for (int i = 0; i < NKIDS; i++) {
        int status = 0;
        waitpid(kids[i], &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) < 10)
            failed++;
        else if (WEXITSTATUS(status) == 10 + FCD_MEMO_COMPUTED)
            computed++;
        else if (WEXITSTATUS(status) == 10 + FCD_MEMO_WAITED ||
                 WEXITSTATUS(status) == 10 + FCD_MEMO_HIT)
            waited++;
        else
            failed++;
    }
    CU_ASSERT_EQUAL(failed, 0);
    CU_ASSERT_EQUAL(computed, 1);
    CU_ASSERT_EQUAL(waited, NKIDS - 1);
    CU_ASSERT_EQUAL(file_size(log), 1); /* one computation in all */
}

/* Sessions created by several processes at once: the bound still holds,
 * exactly, and no process's write is refused. */
static void test_concurrent_bound(void)
{
    enum { T = 60, PER_KID = 25 };
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    char path[NKIDS][512];
    pid_t kids[NKIDS];
    unsigned failed = 0, alive = 0, total = 0;
    fcd_cache_t *c;

    new_app(&conf, &sc, T);
    for (int i = 0; i < NKIDS; i++) {
        snprintf(path[i], sizeof path[i], "%s/sessions-%s-%d", tmpdir, conf.app, i);
        kids[i] = fork();
        CU_ASSERT_FATAL(kids[i] >= 0);
        if (kids[i] == 0) {
            char err[FCD_CACHE_ERR_MAX], text[FCD_SESSION_ID_BUF];
            FILE *f = fopen(path[i], "w");
            int code = 0;
            c = NULL;
            if (!f || fcd_cache_open(&c, cur_url, "test-session-store", NULL, err,
                                     sizeof err) != 0)
                _exit(1);
            for (int k = 0; k < PER_KID; k++) {
                fcd_session_t s;
                fcd_session_mint(&conf, time(NULL), &s, text);
                if (fcd_session_store_set(c, &sc, &s, "data", text, strlen(text), 0) !=
                    FCD_CACHE_OK)
                    code = 2;
                fprintf(f, "%s\n", text);
            }
            fclose(f);
            fcd_cache_close(c);
            _exit(code);
        }
    }
    for (int i = 0; i < NKIDS; i++) {
        int status = 0;
        waitpid(kids[i], &status, 0);
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    CU_ASSERT_EQUAL(failed, 0);
    c = open_cur();
    for (int i = 0; i < NKIDS; i++) {
        char line[256];
        FILE *f = fopen(path[i], "r");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        while (fgets(line, sizeof line, f)) {
            fcd_session_t s;
            char msg[256];
            line[strcspn(line, "\n")] = '\0';
            CU_ASSERT_EQUAL(fcd_session_verify(&conf, line, strlen(line), time(NULL), &s, msg,
                                               sizeof msg),
                            FCD_SESSION_OK);
            total++;
            alive += reads(c, &sc, &s, "data", line);
        }
        fclose(f);
    }
    CU_ASSERT_EQUAL(total, NKIDS * PER_KID);
    CU_ASSERT_EQUAL(alive, T);
    CU_ASSERT_EQUAL(index_count(c, &sc), T);
    fcd_cache_close(c);
}

/*
 * Churn: several processes each create sessions and keep rewriting their
 * recent ones (the lock-free path) while others' new sessions evict them.
 * Whatever interleaving happened, every value still readable belongs to a
 * session the index counts: no value outlives its eviction.
 */
static void test_churn(void)
{
    enum { T = 8, PER_KID = 60, RECENT = 3 };
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    char path[NKIDS][512];
    pid_t kids[NKIDS];
    unsigned failed = 0, alive = 0;
    fcd_cache_t *c;

    new_app(&conf, &sc, T);
    for (int i = 0; i < NKIDS; i++) {
        snprintf(path[i], sizeof path[i], "%s/churn-%s-%d", tmpdir, conf.app, i);
        kids[i] = fork();
        CU_ASSERT_FATAL(kids[i] >= 0);
        if (kids[i] == 0) {
            char err[FCD_CACHE_ERR_MAX], text[FCD_SESSION_ID_BUF];
            fcd_session_t mine[PER_KID];
            FILE *f = fopen(path[i], "w");
            int code = 0;
            /* Rewrites take the lock-free path, the one that races. */
            sc.touch_s = 3600;
            c = NULL;
            if (!f || fcd_cache_open(&c, cur_url, "test-session-store", NULL, err,
                                     sizeof err) != 0)
                _exit(1);
            for (int k = 0; k < PER_KID; k++) {
                fcd_session_mint(&conf, time(NULL), &mine[k], text);
                if (put(c, &sc, &mine[k], "data", "v") != FCD_CACHE_OK) {
                    fprintf(stderr, "\nchurn: %s\n", fcd_cache_error(c));
                    code = 2;
                }
                fprintf(f, "%s\n", text);
                for (int r = k - RECENT; r < k; r++)
                    if (r >= 0 && put(c, &sc, &mine[r], "data", "w") != FCD_CACHE_OK) {
                        fprintf(stderr, "\nchurn: %s\n", fcd_cache_error(c));
                        code = 3;
                    }
            }
            fclose(f);
            fcd_cache_close(c);
            _exit(code);
        }
    }
    for (int i = 0; i < NKIDS; i++) {
        int status = 0;
        waitpid(kids[i], &status, 0);
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    CU_ASSERT_EQUAL(failed, 0);
    c = open_cur();
    sc.touch_s = 3600; /* count without moving anything */
    for (int i = 0; i < NKIDS; i++) {
        char line[256];
        FILE *f = fopen(path[i], "r");
        CU_ASSERT_PTR_NOT_NULL_FATAL(f);
        while (fgets(line, sizeof line, f)) {
            fcd_session_t s;
            char msg[256];
            void *v;
            size_t n;
            line[strcspn(line, "\n")] = '\0';
            fcd_session_verify(&conf, line, strlen(line), time(NULL), &s, msg, sizeof msg);
            if (fcd_session_store_get(c, &sc, &s, "data", &v, &n) == FCD_CACHE_OK) {
                alive++;
                free(v);
            }
        }
        fclose(f);
    }
    CU_ASSERT_EQUAL(index_count(c, &sc), T);
    if (alive > T)
        fprintf(stderr, "\nchurn: %u sessions with values, bound %d\n", alive, T);
    CU_ASSERT(alive <= T);
    fcd_cache_close(c);
}

static void test_drop(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c;
    fcd_session_t a, b;

    new_app(&conf, &sc, 200);
    c = open_cur();
    a = mint(&conf);
    b = mint(&conf);
    CU_ASSERT_EQUAL(put(c, &sc, &a, "data", "1"), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(put(c, &sc, &a, "more", "2"), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(put(c, &sc, &b, "data", "3"), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(index_count(c, &sc), 2);
    CU_ASSERT_EQUAL(fcd_session_store_drop(c, &sc, &a), FCD_CACHE_OK);
    CU_ASSERT(!reads(c, &sc, &a, "data", "1"));
    CU_ASSERT(!reads(c, &sc, &a, "more", "2"));
    CU_ASSERT(reads(c, &sc, &b, "data", "3"));
    CU_ASSERT_EQUAL(index_count(c, &sc), 1);
    CU_ASSERT_EQUAL(fcd_session_store_drop(c, &sc, &a), FCD_CACHE_MISS);
    fcd_cache_close(c);
}

/* Values never outlive the session id that reaches them; with an expired
 * session get misses, set declines, and memo computes without storing. */
static void test_expiry(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c;
    fcd_session_t old;
    struct job j = {.value = "v"};
    fcd_memo_result_t r;
    void *v;
    size_t n;

    new_app(&conf, &sc, 200);
    c = open_cur();
    old = mint_aged(&conf, (int64_t)conf.max_age + 10);
    CU_ASSERT_EQUAL(put(c, &sc, &old, "data", "x"), FCD_CACHE_DECLINED);
    CU_ASSERT_PTR_NOT_NULL(strstr(fcd_cache_error(c), "expired"));
    CU_ASSERT_EQUAL(fcd_session_store_get(c, &sc, &old, "data", &v, &n), FCD_CACHE_MISS);
    CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &old, "data", 0, compute_job, &j, &r),
                    FCD_CACHE_DECLINED);
    CU_ASSERT(same(&r, "v"));
    CU_ASSERT(r.msg[0] != '\0');
    fcd_memo_release(&r);
    CU_ASSERT_EQUAL(index_count(c, &sc), 0);
    fcd_cache_close(c);
}

static void test_names_max(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c;
    fcd_session_t s;
    char name[16];

    new_app(&conf, &sc, 200);
    c = open_cur();
    s = mint(&conf);
    for (int i = 0; i < FCD_SESSION_STORE_NAMES_MAX; i++) {
        snprintf(name, sizeof name, "n%d", i);
        CU_ASSERT_EQUAL(put(c, &sc, &s, name, "x"), FCD_CACHE_OK);
    }
    CU_ASSERT_EQUAL(put(c, &sc, &s, "one-too-many", "x"), FCD_CACHE_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(fcd_cache_error(c), "at most"));
    CU_ASSERT(!reads(c, &sc, &s, "one-too-many", "x"));
    /* Known names still write. */
    CU_ASSERT_EQUAL(put(c, &sc, &s, "n3", "y"), FCD_CACHE_OK);
    CU_ASSERT(reads(c, &sc, &s, "n3", "y"));
    /* Evicted whole: every name goes. */
    sc.threshold = 1;
    {
        fcd_session_t t = mint(&conf);
        CU_ASSERT_EQUAL(put(c, &sc, &t, "n0", "z"), FCD_CACHE_OK);
    }
    for (int i = 0; i < FCD_SESSION_STORE_NAMES_MAX; i++) {
        snprintf(name, sizeof name, "n%d", i);
        CU_ASSERT(!reads(c, &sc, &s, name, "x"));
    }
    fcd_cache_close(c);
}

#define ADD(s, name, fn) CU_add_test((s), (name), (fn))

/* `shared`: the backend is visible to forked processes (memory:// is one
 * process's), so the multi-process tests run on it too. */
static void add_contract(const char *name, CU_InitializeFunc init, bool shared)
{
    CU_pSuite s = CU_add_suite(name, init, NULL);

    ADD(s, "set/get round trip, storage key, misuse", test_round_trip);
    ADD(s, "two sessions and two apps isolated", test_isolated);
    ADD(s, "threshold + 10 sessions: threshold remain, LRU gone", test_bound);
    ADD(s, "touch interval: a use inside it does not refresh", test_touch_interval);
    ADD(s, "index lost or corrupt: values read, bound returns", test_index_lost);
    ADD(s, "record lost: written again on use", test_record_lost);
    ADD(s, "memo: compute once, hit, failure", test_memo);
    if (shared) {
        ADD(s, "memo single-flight across 4 processes", test_single_flight);
        ADD(s, "bound under 4 concurrent processes", test_concurrent_bound);
        ADD(s, "churn: rewrites racing evictions leave no orphan", test_churn);
    }
    ADD(s, "drop a session", test_drop);
    ADD(s, "an expired session: get misses, set declines", test_expiry);
    ADD(s, "names per session bounded, all evicted", test_names_max);
}

/* ---- none://, faults, settings ----------------------------------------------------- */

static void test_none(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c = open_url("none://");
    fcd_session_t s;
    struct job j = {.value = "v"};
    fcd_memo_result_t r;
    size_t n = 1;
    void *v;

    new_app(&conf, &sc, 200);
    s = mint(&conf);
    CU_ASSERT_EQUAL(put(c, &sc, &s, "data", "x"), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(fcd_session_store_get(c, &sc, &s, "data", &v, &n), FCD_CACHE_MISS);
    for (int i = 0; i < 2; i++) {
        CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &s, "data", 0, compute_job, &j, &r),
                        FCD_CACHE_OK);
        CU_ASSERT(same(&r, "v"));
        CU_ASSERT_EQUAL(r.source, FCD_MEMO_LOCAL);
        fcd_memo_release(&r);
    }
    CU_ASSERT_EQUAL(j.calls, 2);
    CU_ASSERT_EQUAL(fcd_session_store_count(c, &sc, &n), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(n, 0);
    CU_ASSERT_EQUAL(fcd_session_store_drop(c, &sc, &s), FCD_CACHE_MISS);
    fcd_cache_close(c);
}

/* A session accepted for one more second: a value stored with a day's
 * TTL lives only as long as the id, on every backend (one wait for all). */
static void test_ttl_capped(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c[3];
    fcd_session_t dying;
    void *v;
    size_t n;

    new_app(&conf, &sc, 200);
    dying = mint_aged(&conf, (int64_t)conf.max_age - 1);
    for (int i = 0; i < 3; i++) {
        c[i] = open_url(backends[i].url);
        CU_ASSERT_EQUAL(fcd_session_store_set(c[i], &sc, &dying, "data", "x", 1, 86400),
                        FCD_CACHE_OK);
        CU_ASSERT(reads(c[i], &sc, &dying, "data", "x"));
        CU_ASSERT_EQUAL(index_count(c[i], &sc), 1);
    }
    sleep(3);
    dying.expires += 3600; /* look again as if the id were still good */
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(fcd_session_store_get(c[i], &sc, &dying, "data", &v, &n),
                        FCD_CACHE_MISS);
        /* ... and the index no longer counts it. */
        CU_ASSERT_EQUAL(index_count(c[i], &sc), 0);
        fcd_cache_close(c[i]);
    }
}

/* memcached stopped (SIGSTOP: it accepts and never answers), then killed:
 * every memo still answers with its computed value and DECLINED, quickly. */
static void test_mc_down(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    char url[300];
    fcd_cache_t *c;
    fcd_session_t s;
    struct job j = {.value = "local"};
    fcd_memo_result_t r;
    unsigned declined = 0, right = 0;
    double t0;
    void *v;
    size_t n;

    CU_ASSERT_EQUAL_FATAL(start_server(1), 0);
    snprintf(url, sizeof url,
             "memcached://127.0.0.1:%d?retry_s=1&dead_s=1&failure_limit=2&poll_ms=200&"
             "connect_ms=100&lock_ttl=5&wait_ms=2000",
             servers[1].port);
    c = open_url(url);
    new_app(&conf, &sc, 200);
    s = mint(&conf);
    CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &s, "data", 0, compute_job, &j, &r),
                    FCD_CACHE_OK);
    fcd_memo_release(&r);

    kill(servers[1].pid, SIGSTOP);
    t0 = now_s();
    for (int i = 0; i < 10; i++) {
        fcd_session_t t = mint(&conf);
        fcd_cache_status_t st =
            fcd_session_store_memo(c, &sc, &t, "data", 0, compute_job, &j, &r);
        declined += st == FCD_CACHE_DECLINED && r.msg[0] != '\0';
        right += same(&r, "local");
        fcd_memo_release(&r);
    }
    CU_ASSERT_EQUAL(declined, 10);
    CU_ASSERT_EQUAL(right, 10);
    CU_ASSERT(now_s() - t0 < 5.0);
    CU_ASSERT_EQUAL(fcd_session_store_get(c, &sc, &s, "data", &v, &n), FCD_CACHE_DECLINED);
    CU_ASSERT(fcd_cache_error(c)[0] != '\0');
    CU_ASSERT_EQUAL(put(c, &sc, &s, "data", "x"), FCD_CACHE_DECLINED);
    kill(servers[1].pid, SIGCONT);

    stop_server(1);
    declined = right = 0;
    for (int i = 0; i < 10; i++) {
        fcd_session_t t = mint(&conf);
        fcd_cache_status_t st =
            fcd_session_store_memo(c, &sc, &t, "data", 0, compute_job, &j, &r);
        declined += st == FCD_CACHE_DECLINED && r.msg[0] != '\0';
        right += same(&r, "local");
        fcd_memo_release(&r);
    }
    CU_ASSERT_EQUAL(declined, 10);
    CU_ASSERT_EQUAL(right, 10);
    n = 7;
    CU_ASSERT_EQUAL(fcd_session_store_count(c, &sc, &n), FCD_CACHE_DECLINED);
    CU_ASSERT_EQUAL(n, 0);
    fcd_cache_close(c);
}

/* A value over memcached's item limit is refused, never truncated: memo
 * still returns it, DECLINED, and says why. */
static void test_too_large(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_cache_t *c = open_url(backends[0].url);
    fcd_session_t s;
    size_t big = 2u << 20;
    char *val = malloc(big + 1);
    struct job j;
    fcd_memo_result_t r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(val);
    memset(val, 'q', big);
    val[big] = '\0';
    j = (struct job){.value = val};
    new_app(&conf, &sc, 200);
    s = mint(&conf);
    CU_ASSERT_EQUAL(fcd_session_store_set(c, &sc, &s, "big", val, big, 0), FCD_CACHE_DECLINED);
    CU_ASSERT_PTR_NOT_NULL(strstr(fcd_cache_error(c), "item limit"));
    CU_ASSERT_EQUAL(fcd_session_store_memo(c, &sc, &s, "big", 0, compute_job, &j, &r),
                    FCD_CACHE_DECLINED);
    CU_ASSERT_EQUAL(r.len, big);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.msg, "item limit"));
    fcd_memo_release(&r);
    free(val);
    fcd_cache_close(c);
}

static void test_conf_load(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    char err[256];
    const char *bad_threshold[] = {"0", "20001", "abc", "-1", "1e3", " 5", "99999999999"};
    const char *bad_touch[] = {"3601", "x", "-0", "1.5"};
    fcd_cache_t *c;

    new_app(&conf, &sc, 1);
    unsetenv(FCD_SESSION_THRESHOLD_ENV);
    unsetenv(FCD_SESSION_TOUCH_ENV);
    CU_ASSERT_EQUAL(fcd_session_store_conf_load(&sc, &conf, err, sizeof err), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(sc.threshold, FCD_SESSION_THRESHOLD_DEFAULT);
    CU_ASSERT_EQUAL(sc.touch_s, FCD_SESSION_TOUCH_DEFAULT);
    CU_ASSERT_EQUAL(sc.lock_wait_ms, FCD_SESSION_STORE_LOCK_WAIT_MS);
    CU_ASSERT_PTR_EQUAL(sc.session, &conf);
    setenv(FCD_SESSION_THRESHOLD_ENV, "", 1);
    setenv(FCD_SESSION_TOUCH_ENV, "", 1);
    CU_ASSERT_EQUAL(fcd_session_store_conf_load(&sc, &conf, err, sizeof err), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(sc.threshold, FCD_SESSION_THRESHOLD_DEFAULT);
    setenv(FCD_SESSION_THRESHOLD_ENV, "500", 1);
    setenv(FCD_SESSION_TOUCH_ENV, "0", 1);
    CU_ASSERT_EQUAL(fcd_session_store_conf_load(&sc, &conf, err, sizeof err), FCD_CACHE_OK);
    CU_ASSERT_EQUAL(sc.threshold, 500);
    CU_ASSERT_EQUAL(sc.touch_s, 0);
    for (size_t i = 0; i < sizeof bad_threshold / sizeof *bad_threshold; i++) {
        setenv(FCD_SESSION_THRESHOLD_ENV, bad_threshold[i], 1);
        CU_ASSERT_EQUAL(fcd_session_store_conf_load(&sc, &conf, err, sizeof err),
                        FCD_CACHE_ERROR);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, FCD_SESSION_THRESHOLD_ENV));
    }
    unsetenv(FCD_SESSION_THRESHOLD_ENV);
    for (size_t i = 0; i < sizeof bad_touch / sizeof *bad_touch; i++) {
        setenv(FCD_SESSION_TOUCH_ENV, bad_touch[i], 1);
        CU_ASSERT_EQUAL(fcd_session_store_conf_load(&sc, &conf, err, sizeof err),
                        FCD_CACHE_ERROR);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, FCD_SESSION_TOUCH_ENV));
    }
    unsetenv(FCD_SESSION_TOUCH_ENV);

    /* The bound: the threshold, or what one item of the backend can index. */
    c = open_url("memory://?item_max=4096");
    sc.threshold = 200;
    CU_ASSERT_EQUAL(fcd_session_store_bound(c, &sc), (4096 - 32) / 48);
    sc.threshold = 50;
    CU_ASSERT_EQUAL(fcd_session_store_bound(c, &sc), 50);
    fcd_cache_close(c);
    c = open_url(backends[0].url);
    sc.threshold = FCD_SESSION_THRESHOLD_MAX;
    CU_ASSERT_EQUAL(fcd_session_store_bound(c, &sc), FCD_SESSION_THRESHOLD_MAX);
    fcd_cache_close(c);
}

/* The bound under an item limit smaller than the threshold's index. */
static void test_small_items(void)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    char url[700];
    fcd_cache_t *c;
    size_t bound;

    snprintf(url, sizeof url, "%s&item_max=4096", backends[0].url);
    c = open_url(url);
    new_app(&conf, &sc, 200);
    bound = fcd_session_store_bound(c, &sc);
    for (size_t i = 0; i < bound + 5; i++) {
        fcd_session_t s = mint(&conf);
        CU_ASSERT_EQUAL(put(c, &sc, &s, "data", "x"), FCD_CACHE_OK);
    }
    CU_ASSERT_EQUAL(index_count(c, &sc), bound);
    fcd_cache_close(c);
}

/* ---- chaos malloc ------------------------------------------------------------------ */

/* tests/unit/chaos.h fails the n-th allocation the objects of this
 * program make; shared libraries (libmemcached, libsodium, libc's own) are
 * out of its reach. */

/* Fail the 1st, 2nd, ... allocation of a sequence of store calls until one
 * run needs no failure: nothing crashes, every answer is a listed status,
 * and a memo answer with a status other than ERROR carries the value. */
static void chaos_run(const char *url)
{
    fcd_session_conf_t conf;
    fcd_session_store_conf_t sc;
    fcd_session_t old[3];
    unsigned nth = 1, bad = 0;
    bool done = false;

    char lock_key[FCD_CACHE_KEY_MAX + 1];

    new_app(&conf, &sc, 2);
    sc.lock_wait_ms = 100; /* a lock left by a failed unlock: give up soon */
    snprintf(lock_key, sizeof lock_key, "fcds:%s:index:lock", conf.app);
    for (int i = 0; i < 3; i++)
        old[i] = mint(&conf);
    for (; !done && nth < 2000; nth++) {
        fcd_cache_t *c = open_url(url);
        struct job j = {.value = "chaos value"};
        fcd_memo_result_t r;
        fcd_cache_status_t st;
        fcd_session_t s = mint(&conf);
        void *v;
        size_t n;

        for (int i = 0; i < 3; i++)
            put(c, &sc, &old[i], "data", "old");
        chaos_arm(nth);
        st = fcd_session_store_memo(c, &sc, &s, "data", 0, compute_job, &j, &r);
        bad += st != FCD_CACHE_ERROR && !same(&r, "chaos value");
        fcd_memo_release(&r);
        st = fcd_session_store_get(c, &sc, &s, "data", &v, &n);
        if (st == FCD_CACHE_OK)
            free(v);
        st = put(c, &sc, &s, "more", "x");
        bad += st != FCD_CACHE_OK && st != FCD_CACHE_ERROR && st != FCD_CACHE_DECLINED;
        st = fcd_session_store_count(c, &sc, &n);
        bad += st == FCD_CACHE_OK && n > 2;
        st = fcd_session_store_drop(c, &sc, &s);
        done = !chaos_disarm();
        /* An add-based unlock that failed for memory leaves the index
         * lock to its TTL; the next round need not wait that out. */
        fcd_cache_delete(c, lock_key);
        fcd_cache_close(c);
    }
    CU_ASSERT(done);
    CU_ASSERT_EQUAL(bad, 0);
    fprintf(stderr, "chaos %s: %u allocations\n", url, nth - 2);
}

static void test_chaos_malloc(void)
{
    chaos_run(backends[1].url);
    chaos_run(backends[2].url);
    chaos_run(backends[0].url);
}

int main(void)
{
    unsigned failures;
    CU_pSuite s;

    main_pid = getpid();
    if (sodium_init() < 0 || !mkdtemp(tmpdir)) {
        fprintf(stderr, "test_session_store: set-up failed\n");
        return 1;
    }
    atexit(stop_all_servers);
    signal(SIGINT, on_fatal);
    signal(SIGTERM, on_fatal);
    signal(SIGSEGV, on_fatal);
    signal(SIGABRT, on_fatal);
    signal(SIGBUS, on_fatal);
    {
        unsigned char b[FCD_SECRET_MIN];
        randombytes_buf(b, sizeof b);
        sodium_bin2hex(secrets, sizeof secrets, b, sizeof b);
    }
    if (start_server(0) != 0) {
        fprintf(stderr, "test_session_store: cannot start memcached (apt-get install "
                        "memcached)\n");
        return 1;
    }
    backends[0] = (struct backend){.name = "memcached"};
    snprintf(backends[0].url, sizeof backends[0].url,
             "memcached://127.0.0.1:%d?retry_s=1&dead_s=1&failure_limit=2&poll_ms=500&"
             "connect_ms=200&lock_ttl=5&wait_ms=10000",
             servers[0].port);
    backends[1] = (struct backend){.name = "file"};
    snprintf(backends[1].url, sizeof backends[1].url,
             "file://%s/file-backend?threshold=100000&lock_ttl=5&wait_ms=10000", tmpdir);
    backends[2] = (struct backend){.name = "memory"};
    snprintf(backends[2].url, sizeof backends[2].url, "memory://?threshold=100000&lock_ttl=5");

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    add_contract("session store: memcached", suite_mc, true);
    add_contract("session store: file", suite_file, true);
    add_contract("session store: memory", suite_memory, false);

    s = CU_add_suite("session store: none, faults, settings", NULL, NULL);
    ADD(s, "none:// stores nothing, memo computes", test_none);
    ADD(s, "bound counted on disk (file backend)", test_bound_on_disk);
    ADD(s, "values expire with the session id, every backend", test_ttl_capped);
    ADD(s, "memcached stopped, then killed: DECLINED with values", test_mc_down);
    ADD(s, "value over the item limit refused, returned", test_too_large);
    ADD(s, "bound under a small item limit", test_small_items);
    ADD(s, "settings from the environment", test_conf_load);
    ADD(s, "chaos malloc: every allocation failure handled", test_chaos_malloc);

    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();

    stop_all_servers();
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_session_store: could not remove %s\n", tmpdir);
    }
    return failures ? 1 : 0;
}
