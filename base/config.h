/*
 * config.h - the FCDASH_* settings, read once from the environment.
 *
 * The same binary runs under spawn-fcgi, multiwatch, systemd or Apache, so
 * every setting comes from the environment, each with a documented default
 * and a bound (README.md lists them; fcd_config_describe prints the table).
 */
#ifndef FCD_CONFIG_H
#define FCD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define FCD_PREFIX_MAX 256

typedef struct fcd_config {
    char prefix[FCD_PREFIX_MAX];        /* FCDASH_PREFIX: what the browser uses */
    char routes_prefix[FCD_PREFIX_MAX]; /* FCDASH_ROUTES_PREFIX: what we match */
    char static_root[1024];             /* FCDASH_STATIC_ROOT */
    char title[128];                    /* FCDASH_TITLE */
    bool debug;                         /* FCDASH_DEBUG */
    bool freeze;                        /* FCDASH_FREEZE */
    bool log_requests;                  /* FCDASH_LOG_REQUESTS */
    size_t max_body;                    /* FCDASH_MAX_BODY, bytes */
    int max_json_depth;                 /* FCDASH_MAX_JSON_DEPTH */
    unsigned callback_time_limit;       /* FCDASH_CALLBACK_TIME_LIMIT, s; 0 = none */
    unsigned workers;                   /* FCDASH_WORKERS: size of this pool */
} fcd_config_t;

/* Fill `c` from the environment.  Returns 0, or -1 with a message naming
 * the setting and what is wrong with its value. */
int fcd_config_load(fcd_config_t *c, char *err, size_t errlen);

/* One line per setting: name, default, meaning.  Static text. */
const char *fcd_config_describe(void);

#endif
