/*
 * run.c - fcd_run(): from a described app to a serving worker.
 *
 * Order matters: settings, then the app's own checks (all mistakes at
 * once), then the fault handlers, then the freeze, and only then the first
 * accept.  This is the one place that prints: start-up problems go to
 * stderr and become the exit status, since nothing else could report them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/app.h"
#include "base/config.h"
#include "base/freeze.h"
#include "fcgi/runtime.h"
#include "handlers/dash.h"
#include "handlers/memo.h"
#include "handlers/session.h"

static void usage(const fcd_app_t *app, FILE *to)
{
    fprintf(to,
            "usage: %s [--listen ADDR] [--check] [--help]\n"
            "A Dash app served as a FastCGI worker (fcdash).  Started by spawn-fcgi,\n"
            "multiwatch or Apache mod_fcgid it serves the socket on standard input;\n"
            "--listen 127.0.0.1:9000 or --listen /path/app.sock opens its own.\n"
            "--check validates the app and its settings, then exits.\n\n"
            "Settings (environment):\n%s",
            app->name, fcd_config_describe());
}

int fcd_run(fcd_app_t *app, int argc, char **argv)
{
    if (app == NULL) {
        fprintf(stderr, "fcdash: no app (out of memory?)\n");
        return 1;
    }
    static const struct option opts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"check", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *listen = NULL;
    bool check_only = false;
    int c;
    while ((c = getopt_long(argc, argv, "l:ch", opts, NULL)) != -1) {
        switch (c) {
        case 'l': listen = optarg; break;
        case 'c': check_only = true; break;
        case 'h': usage(app, stdout); fcd_app_free(app); return 0;
        default: usage(app, stderr); fcd_app_free(app); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument \"%s\"\n", app->name, argv[optind]);
        fcd_app_free(app);
        return 2;
    }

    char err[512];
    int rc = 0;
    if (fcd_config_load(&app->config, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", app->name, err);
        fcd_app_free(app);
        return 2;
    }
    if (fcd_app_prepare(app) != 0) {
        fprintf(stderr, "%s: the app is not set up right:\n", app->name);
        for (char *line = strtok(app->setup_errors.data, "\n"); line; line = strtok(NULL, "\n"))
            fprintf(stderr, "  %s\n", line);
        fcd_app_free(app);
        return 1;
    }
    if (check_only) {
        printf("%s: OK, %zu callback%s, prefix %s\n", app->name, app->n_callbacks,
               app->n_callbacks == 1 ? "" : "s", app->config.prefix);
        fcd_app_free(app);
        return 0;
    }
    char warn[300];
    if (fcd_memo_worker_open(app, err, sizeof err, warn, sizeof warn) != 0) {
        fprintf(stderr, "%s: %s\n", app->name, err);
        fcd_app_free(app);
        return 1;
    }
    if (warn[0] != '\0')
        fprintf(stderr, "%s: warning: %s\n", app->name, warn);
    if (fcd_sessions_worker_open(app, err, sizeof err, warn, sizeof warn) != 0) {
        fprintf(stderr, "%s: %s\n", app->name, err);
        fcd_app_free(app);
        return 1;
    }
    if (warn[0] != '\0')
        fprintf(stderr, "%s: WARNING: %s\n", app->name, warn);
    if (fcd_fault_handlers_install(err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", app->name, err);
        fcd_app_free(app);
        return 1;
    }
    app->serving = true;
    if (app->config.freeze && fcd_freeze(&app->data, true, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", app->name, err);
        fcd_app_free(app);
        return 1;
    }
    fprintf(stderr, "%s[%d]: serving %s (app data %s, debug %s, cache %s)\n", app->name,
            (int)getpid(), app->config.prefix, app->config.freeze ? "frozen" : "NOT frozen",
            app->config.debug ? "on" : "off", fcd_cache_scheme(app->worker->cache));
    fcd_runtime_opts_t ro = {
        .listen = listen,
        .name = app->name,
        .max_body = app->config.max_body,
        .log_requests = app->config.log_requests,
    };
    if (fcd_runtime_serve(&ro, fcd_dash_handle, app, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", app->name, err);
        rc = 1;
    }
    fcd_app_free(app);
    return rc;
}
