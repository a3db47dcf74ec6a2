/*
 * cache/session.h - signed session ids: minted per page load, verified
 * before a callback runs, and turned into the cache key of the session's
 * values.
 *
 * An id is a capability the browser carries (in a dcc.Store), so the
 * server trusts nothing in it that it did not sign.  Its text is
 *
 *   "s1." base64url( random[16] | issued[8] | kid[4] | mac[32] )   83 bytes
 *
 *   random  the session's identity: 128 bits from libsodium's CSPRNG;
 *   issued  the mint time, seconds since the epoch, big-endian;
 *   kid     which secret signed it (derived from the secret, secret.h);
 *   mac     HMAC-SHA512-256 (crypto_auth_hmacsha512256) under that secret's
 *           MAC key, over the prefix, the three fields above and the app
 *           name, so an id minted for one app is refused by another that
 *           shares the secrets.
 * The 60 payload bytes encode to exactly 80 characters with no spare bits,
 * so every id has one spelling: the text of a verified id is canonical.
 *
 * Verification checks, in this order, and stops at the first failure:
 * exact length, prefix and alphabet (before any decoding); the key id
 * among the accepted secrets (else RETIRED_KEY); the MAC, compared in
 * constant time (else BAD_SIGNATURE); then, and only for an authentic id,
 * the issue time (NOT_YET_VALID beyond the allowed clock skew, EXPIRED past
 * the max age).  Time is a parameter, so callers pass time(NULL) and tests
 * any clock they like.
 *
 * What the server keeps per session is addressed by
 * fcd_session_storage_key(), computed from the verified random bytes,
 * never from the client's text.  What it logs is fcd_session_log_hash(),
 * never the id.
 *
 * Request path (the lead's runtime):
 *   start-up   fcd_session_conf_load(&conf, app, NULL, msg, sizeof msg):
 *              OK: serve; DEVELOPMENT: log msg loudly, serve;
 *              ERROR: log msg, refuse to start.
 *   page load  fcd_session_mint(&conf, time(NULL), NULL, id) and put id in
 *              the layout's dcc.Store.
 *   callback   fcd_session_verify(&conf, text, len, time(NULL), &s, msg, n):
 *              OK: run the callback, its session values under
 *              fcd_session_storage_key(&conf, &s, "name", key);
 *              a refusal (fcd_session_refused()): answer 403 with
 *              {"error": fcd_session_code(st), "message":
 *              fcd_session_strerror(st)}, log msg and the log hash, and run
 *              nothing; FCD_SESSION_ERROR: 500.
 *
 * Everything is caller-owned and read-only after load: no allocation, no
 * global state (beyond libsodium's own initialisation), no printing, safe
 * to call from several threads on one conf.  fcd_session_conf_clear()
 * wipes a conf's keys.
 */
#ifndef FCD_CACHE_SESSION_H
#define FCD_CACHE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache/secret.h"

/* Settings read by fcd_session_conf_load(). */
#define FCD_SESSION_MAX_AGE_ENV "FCDASH_SESSION_MAX_AGE"
#define FCD_SESSION_SKEW_ENV "FCDASH_SESSION_SKEW"

/* Longest an id is accepted after it was minted, seconds: default and
 * bounds.  The upper bound is the cache's longest TTL (30 days), so
 * session values can live as long as their id. */
#define FCD_SESSION_MAX_AGE_DEFAULT (24u * 3600)
#define FCD_SESSION_MAX_AGE_MIN 60u
#define FCD_SESSION_MAX_AGE_MAX (30u * 24 * 3600)
/* How far in the future an issue time may lie, seconds: the clock skew
 * between hosts that share the secrets. */
#define FCD_SESSION_SKEW_DEFAULT 60u
#define FCD_SESSION_SKEW_MAX 3600u

/* The id's parts, bytes. */
#define FCD_SESSION_PREFIX "s1."
#define FCD_SESSION_PREFIX_LEN 3
#define FCD_SESSION_RANDOM_BYTES 16
#define FCD_SESSION_TIME_BYTES 8
#define FCD_SESSION_KID_BYTES FCD_SECRET_KID_BYTES
#define FCD_SESSION_MAC_BYTES 32
#define FCD_SESSION_PAYLOAD_BYTES                                                      \
    (FCD_SESSION_RANDOM_BYTES + FCD_SESSION_TIME_BYTES + FCD_SESSION_KID_BYTES +      \
     FCD_SESSION_MAC_BYTES)
/* The text: prefix + 80 base64url characters; and room for it with NUL. */
#define FCD_SESSION_ID_LEN (FCD_SESSION_PREFIX_LEN + FCD_SESSION_PAYLOAD_BYTES / 3 * 4)
#define FCD_SESSION_ID_BUF (FCD_SESSION_ID_LEN + 1)

/* App names: as the cache's (letters, digits, '.', '_', '-'). */
#define FCD_SESSION_APP_MAX 64
/* Names of a session's values in storage keys: same alphabet. */
#define FCD_SESSION_NAME_MAX 64
/* Storage keys: "fcds:" app ":" 64 hex [":" name].  At most 199 bytes,
 * under memcached's 250.  No other cache user writes under "fcds:"
 * (memoize's keys start "fcd:"). */
#define FCD_SESSION_KEY_PREFIX "fcds:"
#define FCD_SESSION_KEY_HASH_BYTES 32
#define FCD_SESSION_KEY_MAX                                                            \
    (5 + FCD_SESSION_APP_MAX + 1 + 2 * FCD_SESSION_KEY_HASH_BYTES + 1 +               \
     FCD_SESSION_NAME_MAX)
#define FCD_SESSION_KEY_BUF (FCD_SESSION_KEY_MAX + 1)
/* Log hashes: 8 bytes of keyed BLAKE2b, as 16 hex digits. */
#define FCD_SESSION_LOG_HASH_BYTES 8
#define FCD_SESSION_LOG_HASH_LEN (2 * FCD_SESSION_LOG_HASH_BYTES)
#define FCD_SESSION_LOG_HASH_BUF (FCD_SESSION_LOG_HASH_LEN + 1)

/* The closed set of outcomes.  Loading returns OK, DEVELOPMENT or ERROR;
 * verifying returns OK, one of the five refusals, or ERROR. */
typedef enum fcd_session_status {
    FCD_SESSION_OK = 0,
    FCD_SESSION_DEVELOPMENT = 1,   /* load: serving with a development
                                      secret; log the message loudly */
    FCD_SESSION_MALFORMED = 2,     /* not an id: empty, truncated, too long,
                                      wrong prefix or alphabet */
    FCD_SESSION_BAD_SIGNATURE = 3, /* tampered, forged, or another app's */
    FCD_SESSION_EXPIRED = 4,       /* older than the max age */
    FCD_SESSION_NOT_YET_VALID = 5, /* issued in the future, beyond the skew */
    FCD_SESSION_RETIRED_KEY = 6,   /* signed by a secret no longer accepted
                                      (or made up with an unknown key id) */
    FCD_SESSION_ERROR = 7          /* our failure or misuse: 500, not 403 */
} fcd_session_status_t;

/* What a server needs to mint and verify ids for one app.  Caller-owned;
 * fill it with fcd_session_conf_load() or fcd_session_conf_init() plus a
 * ring; read-only afterwards (it may live in frozen app data). */
typedef struct fcd_session_conf {
    char app[FCD_SESSION_APP_MAX + 1];
    unsigned max_age; /* s */
    unsigned skew;    /* s */
    fcd_secret_ring_t ring;
} fcd_session_conf_t;

/* A verified (or freshly minted) session. */
typedef struct fcd_session {
    unsigned char id[FCD_SESSION_RANDOM_BYTES]; /* its identity */
    int64_t issued;  /* s since the epoch */
    int64_t expires; /* issued + max_age: the last second it is accepted */
    size_t key_index; /* the secret that signed it: 0 is the newest; more
                         means an older secret still rotating out */
} fcd_session_t;

/*
 * Set up `conf` for app `app` (1..FCD_SESSION_APP_MAX of [A-Za-z0-9._-])
 * with the default settings and an empty ring, for a caller that fills the
 * ring itself (fcd_secret_parse and friends; tests).
 * FCD_SESSION_OK, or FCD_SESSION_ERROR with the reason in err.
 */
fcd_session_status_t fcd_session_conf_init(fcd_session_conf_t *conf, const char *app,
                                           char *err, size_t errlen);

/*
 * Everything from the environment: fcd_session_conf_init(), then
 * FCDASH_SESSION_MAX_AGE and FCDASH_SESSION_SKEW (whole seconds within the
 * bounds above; anything else is an error), then the secrets as
 * fcd_secret_load() reads them (`dev_dir` as there; NULL for the default).
 * FCD_SESSION_OK; FCD_SESSION_DEVELOPMENT with a warning in msg to log
 * loudly (then serve); FCD_SESSION_ERROR with the reason in msg (then
 * refuse to start; the conf holds no keys).
 */
fcd_session_status_t fcd_session_conf_load(fcd_session_conf_t *conf, const char *app,
                                           const char *dev_dir, char *msg,
                                           size_t msglen);

/* Wipe the conf's keys and settings. */
void fcd_session_conf_clear(fcd_session_conf_t *conf);

/*
 * Mint a fresh id at time `now` (seconds since the epoch, >= 0), signed by
 * the newest secret: its text into `text` (NUL-terminated,
 * FCD_SESSION_ID_LEN characters) and, if `out` is not NULL, the session it
 * names.  FCD_SESSION_OK, or FCD_SESSION_ERROR when the conf has no secret
 * or `now` is negative (then `text` is "").
 */
fcd_session_status_t fcd_session_mint(const fcd_session_conf_t *conf, int64_t now,
                                      fcd_session_t *out, char text[FCD_SESSION_ID_BUF]);

/*
 * Verify the `len` bytes at `text` (any bytes, NUL included, any length)
 * as an id at time `now`.  FCD_SESSION_OK fills *out (NULL: only the
 * verdict is wanted).  A refusal
 * (fcd_session_refused() is true) leaves *out zeroed and puts the reason
 * in msg, which never quotes the text.  FCD_SESSION_ERROR: no secret, or
 * `now` negative.
 */
fcd_session_status_t fcd_session_verify(const fcd_session_conf_t *conf, const char *text,
                                        size_t len, int64_t now, fcd_session_t *out,
                                        char *msg, size_t msglen);

/*
 * The cache key of session `s`'s value `name` (NULL: the session's own
 * key): "fcds:<app>:<64 hex>[:<name>]", written into `key`.  The hex is
 * BLAKE2b-256 of the app name and the session's random bytes under a
 * fixed domain key, not under a secret, so rotating secrets keeps every
 * session's values reachable; only a verified (or minted) session has the
 * bytes, and no text a client sends reaches the key.  `name` is
 * 1..FCD_SESSION_NAME_MAX of [A-Za-z0-9._-], chosen by the app.
 * FCD_SESSION_OK, or FCD_SESSION_ERROR (bad name; then `key` is "").
 */
fcd_session_status_t fcd_session_storage_key(const fcd_session_conf_t *conf,
                                             const fcd_session_t *s, const char *name,
                                             char key[FCD_SESSION_KEY_BUF]);

/*
 * A log-safe name for the `len` bytes at `text` (a verified id or any
 * text a client sent as one): 8 bytes of BLAKE2b keyed with the newest
 * secret's log key, as 16 lowercase hex digits.  Equal texts give equal
 * hashes across workers and hosts sharing the secrets, so log lines
 * correlate, but the hash reveals nothing usable of the id; a new newest
 * secret changes every hash.  With no secret loaded: 16 '?'.  Returns
 * `out`.
 */
const char *fcd_session_log_hash(const fcd_session_conf_t *conf, const char *text,
                                 size_t len, char out[FCD_SESSION_LOG_HASH_BUF]);

/* Whether `st` is a refusal of the client's id: answer 403, run nothing. */
bool fcd_session_refused(fcd_session_status_t st);

/* A stable token for `st`, for the JSON error body: "ok", "development",
 * "session_malformed", "session_bad_signature", "session_expired",
 * "session_not_yet_valid", "session_retired_key", "error".  Static. */
const char *fcd_session_code(fcd_session_status_t st);

/* A sentence for `st` fit for the client ("the session id has expired;
 * reload the page").  Static. */
const char *fcd_session_strerror(fcd_session_status_t st);

#endif /* FCD_CACHE_SESSION_H */
