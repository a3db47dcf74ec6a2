/*
 * cache/secret.h - the server secrets that sign session ids: where they
 * come from, how they are checked, and the keys derived from them.
 *
 * A ring holds up to FCD_SECRET_RING_MAX accepted secrets, newest first:
 * the newest signs, every one verifies.  Rotating a secret is two restarts:
 * put the new one in front (ids signed by the old one still verify), and
 * once those ids have aged past the session max age, drop the old one (its
 * ids are then refused as signed by a retired key).
 *
 * Where secrets come from (fcd_secret_load):
 *   FCDASH_SECRET       secrets separated by commas or white space;
 *   FCDASH_SECRET_FILE  a file, one secret a line, blank lines and lines
 *                       starting with '#' ignored; it must be a regular file
 *                       that others cannot read or write and its group
 *                       cannot write (0600 or 0640 / 0400 or 0440: a
 *                       root-owned 0640 file with the workers' group is the
 *                       usual daemon set-up), at most FCD_SECRET_FILE_MAX
 *                       bytes;
 *   neither             FCDASH_ENV=production: an error (refuse to start);
 *                       otherwise a development secret, made once per host
 *                       and user in a file every worker reads (see
 *                       fcd_secret_dev), and a warning to log loudly.
 * Setting both variables is an error: which one wins would be a guess.
 * An empty variable counts as unset.
 *
 * One secret is FCD_SECRET_MIN..FCD_SECRET_MAX random bytes written as
 * either
 *   hex     a token made only of [0-9a-fA-F] is read as hex (even length);
 *   base64  any other token: standard (+/) or URL-safe (-_) alphabet, with
 *           or without '=' padding.
 * `openssl rand -hex 32` or `head -c 32 /dev/urandom | base64` make one.
 * A secret with fewer than FCD_SECRET_DISTINCT_MIN distinct byte values is
 * refused as a placeholder ("aaaa...", "0000..."), as is a secret listed
 * twice.
 *
 * Nothing keeps the secret text: each secret becomes a 32-byte master key
 * (BLAKE2b), and from it libsodium's KDF derives one key per purpose (the
 * MAC key, the key id, the log-hash key), so no two uses share a key.
 * Messages name a secret by its position and origin, never by its text.
 *
 * No allocation (a ring is a plain caller-owned struct, the file is read
 * into a bounded stack buffer), no global state, no printing.  Calls
 * sodium_init() (idempotent).  fcd_secret_clear() wipes a ring.
 */
#ifndef FCD_CACHE_SECRET_H
#define FCD_CACHE_SECRET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The settings fcd_secret_load() reads. */
#define FCD_SECRET_ENV "FCDASH_SECRET"
#define FCD_SECRET_FILE_ENV "FCDASH_SECRET_FILE"
#define FCD_SECRET_MODE_ENV "FCDASH_ENV" /* "production" or "development" */

/* Most secrets accepted at once (the newest and the ones still rotating
 * out). */
#define FCD_SECRET_RING_MAX 8
/* Bytes of one decoded secret: 256 bits at least (HMAC-SHA512-256 keys
 * are 32 bytes; less would weaken the MAC), a kilobit at most. */
#define FCD_SECRET_MIN 32
#define FCD_SECRET_MAX 128
/* Longest token: FCD_SECRET_MAX bytes as hex. */
#define FCD_SECRET_TOKEN_MAX (2 * FCD_SECRET_MAX)
/* A random 32-byte string has about 30 distinct byte values; fewer than
 * this means a typed placeholder. */
#define FCD_SECRET_DISTINCT_MIN 16
/* Largest FCDASH_SECRET_FILE (or development secret file) read. */
#define FCD_SECRET_FILE_MAX 8192
/* Bytes of a development secret. */
#define FCD_SECRET_DEV_BYTES 32
/* The development secret's file name inside its directory. */
#define FCD_SECRET_DEV_FILE "session-dev-secret"
/* Room for an origin ("FCDASH_SECRET", a path), terminator included. */
#define FCD_SECRET_ORIGIN_MAX 512

/* Bytes of the derived keys. */
#define FCD_SECRET_KEY_BYTES 32 /* MAC key, log-hash key */
#define FCD_SECRET_KID_BYTES 4  /* key id carried in a session id */

typedef enum fcd_secret_status {
    FCD_SECRET_OK = 0,          /* the ring holds the configured secrets */
    FCD_SECRET_DEVELOPMENT = 1, /* degraded: a development secret; the
                                   message is a warning to log loudly */
    FCD_SECRET_ERROR = 2        /* failed: the message says why; refuse to
                                   start */
} fcd_secret_status_t;

/* The keys derived from one secret. */
typedef struct fcd_secret_key {
    unsigned char mac[FCD_SECRET_KEY_BYTES]; /* HMAC-SHA512-256 key */
    unsigned char log[FCD_SECRET_KEY_BYTES]; /* keyed BLAKE2b for log hashes */
    unsigned char kid[FCD_SECRET_KID_BYTES]; /* names the secret in an id */
} fcd_secret_key_t;

/* Accepted secrets, newest (the signing one) at index 0.  Caller-owned;
 * zero it (or fcd_secret_clear) before first use.  Read-only once loaded,
 * so it may live in frozen app data. */
typedef struct fcd_secret_ring {
    size_t count;
    bool development;                   /* keys[0] is a development secret */
    char origin[FCD_SECRET_ORIGIN_MAX]; /* where the secrets came from */
    fcd_secret_key_t keys[FCD_SECRET_RING_MAX];
} fcd_secret_ring_t;

/*
 * Read the secrets from the environment as the top of this file says.
 * `dev_dir` is where a development secret is kept (NULL: the default of
 * fcd_secret_dev_dir()).  The ring is cleared first.
 * Returns FCD_SECRET_OK; FCD_SECRET_DEVELOPMENT with a warning in msg (the
 * caller logs it loudly and serves); FCD_SECRET_ERROR with the reason in
 * msg and an empty ring (the caller refuses to start).
 */
fcd_secret_status_t fcd_secret_load(fcd_secret_ring_t *ring, const char *dev_dir,
                                    char *msg, size_t msglen);

/*
 * Parse `text`, secrets separated by commas or white space, newest first,
 * into the ring (cleared first).  With `lines` set, only newlines separate
 * secrets, and blank lines and lines starting with '#' are skipped (the
 * file format).  `origin` names the source in messages and ring->origin.
 * FCD_SECRET_OK, or FCD_SECRET_ERROR with the reason in err and an empty
 * ring (no secret at all is an error too).
 */
fcd_secret_status_t fcd_secret_parse(fcd_secret_ring_t *ring, const char *text,
                                     size_t len, bool lines, const char *origin,
                                     char *err, size_t errlen);

/*
 * Read a secrets file (format and permission rules at the top of this
 * file) into the ring.  FCD_SECRET_OK or FCD_SECRET_ERROR.
 */
fcd_secret_status_t fcd_secret_read_file(fcd_secret_ring_t *ring, const char *path,
                                         char *err, size_t errlen);

/*
 * The development secret in `dir` (NULL: fcd_secret_dev_dir()), made on
 * first use, into the ring.  Every worker of a host started as the same
 * user with the same dir gets the same secret, so an id one signs the
 * next accepts: the first to come writes a fresh random secret to a
 * private temporary file and link()s it into place, which is atomic and
 * never replaces; the others find it there, complete.  The directory is
 * created 0700 if missing; it must belong to this user and be writable by
 * no one else, and the file must belong to this user with mode 0600 (or
 * stricter), else FCD_SECRET_ERROR: someone else could have planted it.
 * FCD_SECRET_OK with ring->development set, or FCD_SECRET_ERROR.
 */
fcd_secret_status_t fcd_secret_dev(fcd_secret_ring_t *ring, const char *dir, char *err,
                                   size_t errlen);

/*
 * The default directory of the development secret: $XDG_RUNTIME_DIR/fcdash
 * when that variable is an absolute path, else /tmp/fcdash-<euid>.
 * FCD_SECRET_OK, or FCD_SECRET_ERROR when it does not fit in buf.
 */
fcd_secret_status_t fcd_secret_dev_dir(char *buf, size_t len);

/* Wipe the ring (sodium_memzero) and leave it empty. */
void fcd_secret_clear(fcd_secret_ring_t *ring);

#endif /* FCD_CACHE_SECRET_H */
