/*
 * tests/unit/test_session_store_redis.c - the per-session store's contract
 * (tests/unit/test_session_store.c: values, the least-recently-used bound,
 * single-flight and churn across processes, expiry) and its chaos malloc,
 * run against Redis: session data on Redis is bounded by the store itself,
 * not by the server's maxmemory-policy.
 *
 * Like test_redis, this file includes the other test with its main()
 * renamed and registers that file's add_contract() suite for a Redis URL,
 * so the contract is never copied.  The redis-server is our own
 * (tests/unit/redis_server.c), on a random port with a password, stopped by
 * pid, pass or fail.
 *
 * Exit status: 0 when every assertion passed, 1 otherwise.
 */
#define main test_session_store_main
int test_session_store_main(void);
#include "tests/unit/test_session_store.c"
#undef main

#include "tests/unit/redis_server.h"

static struct test_redis_server rs;
static struct backend redis_backend = {.name = "redis"};

static void redis_stop_at_exit(void)
{
    if (getpid() == main_pid)
        test_redis_server_kill(&rs);
}

static void redis_on_fatal(int sig)
{
    redis_stop_at_exit();
    signal(sig, SIG_DFL);
    raise(sig);
}

static int suite_redis(void)
{
    cur = &redis_backend;
    return 0;
}

static void test_chaos_redis(void)
{
    chaos_run(redis_backend.url);
}

int main(void)
{
    unsigned failures;
    CU_pSuite s;

    main_pid = getpid();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fcdash-test-session-store-redis-XXXXXX");
    if (sodium_init() < 0 || !mkdtemp(tmpdir)) {
        fprintf(stderr, "test_session_store_redis: set-up failed\n");
        return 1;
    }
    atexit(redis_stop_at_exit);
    signal(SIGINT, redis_on_fatal);
    signal(SIGTERM, redis_on_fatal);
    signal(SIGSEGV, redis_on_fatal);
    signal(SIGABRT, redis_on_fatal);
    signal(SIGBUS, redis_on_fatal);
    {
        unsigned char b[FCD_SECRET_MIN];
        randombytes_buf(b, sizeof b);
        sodium_bin2hex(secrets, sizeof secrets, b, sizeof b);
    }
    memcpy(rs.dir, tmpdir, sizeof rs.dir);
    if (test_redis_server_start(&rs, NULL) != 0) {
        fprintf(stderr, "test_session_store_redis: cannot start redis-server (apt-get install "
                        "redis-server)\n");
        return 1;
    }
    snprintf(redis_backend.url, sizeof redis_backend.url,
             "redis://:%s@127.0.0.1:%d/6?retry_s=1&poll_ms=500&connect_ms=200&lock_ttl=5&"
             "wait_ms=10000",
             rs.password, rs.port);

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    add_contract("session store: redis", suite_redis, true);
    s = CU_add_suite("session store: redis, chaos", suite_redis, NULL);
    ADD(s, "chaos malloc: every allocation failure handled", test_chaos_redis);

    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();

    if (test_redis_server_stop(&rs) != 0) {
        fprintf(stderr, "test_session_store_redis: the pid file named another process\n");
        failures++;
    }
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_session_store_redis: could not remove %s\n", tmpdir);
    }
    return failures ? 1 : 0;
}
