/*
 * tests/unit/redis_server.h - a private redis-server for the unit tests
 * (test_redis, test_session_store_redis).
 *
 * The server listens on 127.0.0.1 at a random free port above 20000 and on
 * a unix socket, runs from a config file in the caller's directory (mode
 * 0600, so the password stays off every command line), keeps nothing
 * (save "", appendonly no), writes a pid file, and gets PR_SET_PDEATHSIG so
 * it dies with the test even if the test is killed outright.  The caller
 * stops it by pid, also from its atexit and fatal-signal handlers.
 */
#ifndef FCD_TEST_REDIS_SERVER_H
#define FCD_TEST_REDIS_SERVER_H

#include <sys/types.h>

struct test_redis_server {
    pid_t pid;         /* 0 when not running */
    int port;          /* kept across a restart */
    char password[33]; /* hex; made by the first start when empty */
    char dir[256];     /* the caller's temporary directory */
    char conf[300], pidfile[300], sock[300], log[300];
};

/*
 * Start the server `rs` describes: set rs->dir first (an existing private
 * directory); a restart keeps the port and the password.  Extra config
 * lines may follow in `extra` (NULL for none).  0 once it answers on both
 * the port and the socket, -1 when it could not be started (redis-server
 * missing, no free port).
 */
int test_redis_server_start(struct test_redis_server *rs, const char *extra);

/* Stop it by the pid we forked: 0 when its pid file named that same
 * process, -1 when it named another (it is stopped all the same). */
int test_redis_server_stop(struct test_redis_server *rs);

/* Kill it without checks (atexit and signal handlers).  Safe when it is
 * not running. */
void test_redis_server_kill(struct test_redis_server *rs);

#endif /* FCD_TEST_REDIS_SERVER_H */
