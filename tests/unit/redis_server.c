/*
 * tests/unit/redis_server.c - a private redis-server for the unit tests;
 * see redis_server.h.
 */
#include "tests/unit/redis_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

static bool port_open(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok;

    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ok = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

static int write_conf(struct test_redis_server *rs, const char *extra)
{
    int fd = open(rs->conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

    if (!f) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(f,
            "bind 127.0.0.1\nport %d\nunixsocket %s\nunixsocketperm 700\n"
            "dir %s\npidfile %s\nlogfile %s\ndaemonize no\n"
            "save \"\"\nappendonly no\nrequirepass %s\n%s",
            rs->port, rs->sock, rs->dir, rs->pidfile, rs->log, rs->password, extra ? extra : "");
    return fclose(f) == 0 ? 0 : -1;
}

int test_redis_server_start(struct test_redis_server *rs, const char *extra)
{
    if (!rs->password[0]) {
        unsigned char rnd[16];
        randombytes_buf(rnd, sizeof rnd);
        sodium_bin2hex(rs->password, sizeof rs->password, rnd, sizeof rnd);
    }
    snprintf(rs->conf, sizeof rs->conf, "%s/redis.conf", rs->dir);
    snprintf(rs->pidfile, sizeof rs->pidfile, "%s/redis.pid", rs->dir);
    snprintf(rs->sock, sizeof rs->sock, "%s/redis.sock", rs->dir);
    snprintf(rs->log, sizeof rs->log, "%s/redis.log", rs->dir);
    for (int attempt = 0; attempt < 8; attempt++) {
        bool keep_port = rs->port != 0 && attempt == 0;
        pid_t pid;

        if (!keep_port) {
            rs->port = 20000 + (int)randombytes_uniform(40000);
            if (port_open(rs->port))
                continue;
        }
        if (write_conf(rs, extra) != 0)
            return -1;
        unlink(rs->pidfile);
        pid = fork();
        if (pid < 0)
            return -1;
        if (pid == 0) {
            int nul = open("/dev/null", O_RDWR);
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (nul >= 0) {
                dup2(nul, 0);
                dup2(nul, 1);
                dup2(nul, 2);
            }
            execlp("redis-server", "redis-server", rs->conf, (char *)NULL);
            _exit(127);
        }
        rs->pid = pid;
        for (int t = 0; t < 300; t++) {
            struct stat st;
            int status;
            if (waitpid(pid, &status, WNOHANG) == pid) {
                rs->pid = 0;
                break; /* the port was taken, most likely: try another */
            }
            /* A restart finds the old socket file: the port decides. */
            if (stat(rs->pidfile, &st) == 0 && port_open(rs->port) && stat(rs->sock, &st) == 0)
                return 0;
            usleep(10000);
        }
        test_redis_server_kill(rs);
    }
    return -1;
}

void test_redis_server_kill(struct test_redis_server *rs)
{
    if (rs->pid <= 0)
        return;
    kill(rs->pid, SIGCONT);
    kill(rs->pid, SIGKILL);
    waitpid(rs->pid, NULL, 0);
    rs->pid = 0;
}

int test_redis_server_stop(struct test_redis_server *rs)
{
    char buf[32] = "";
    FILE *f = fopen(rs->pidfile, "r");
    int rc = 0;

    if (f) {
        if (fgets(buf, sizeof buf, f) && atoi(buf) != rs->pid)
            rc = -1;
        fclose(f);
    }
    test_redis_server_kill(rs);
    return rc;
}
