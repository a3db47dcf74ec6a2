/*
 * cache/secret.c - loading the secrets that sign session ids.
 *
 * What it is for: turning configuration text (an environment variable, a
 * file, or a development secret it makes itself) into a ring of derived
 * keys, and refusing everything that would make signatures weak or
 * workers disagree: short or placeholder secrets, duplicates, secret files
 * others can read, a development secret in production.  The rules are
 * stated once, in secret.h.
 *
 * What it relies on: libsodium for decoding (sodium_hex2bin,
 * sodium_base642bin), hashing and key derivation (crypto_generichash,
 * crypto_kdf_derive_from_key) and randomness (randombytes_buf, which on
 * Linux reads getrandom() and is safe across fork).  POSIX *at() calls, so
 * the development secret's directory is checked once and then used
 * through its descriptor, never looked up again by name.
 *
 * What it guarantees: on any error the ring is left empty, so a caller
 * that ignores the status still signs nothing; secret bytes on the stack
 * are wiped before returning; no message contains secret text.
 */
#define _GNU_SOURCE
#include "cache/secret.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

/* Domain separation: the key under which a secret is hashed into its
 * master key, and the KDF context of the keys derived from that. */
static const unsigned char master_domain[crypto_generichash_KEYBYTES_MIN] =
    "fcdash secret 1";
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = {'f', 'c', 'd', 's',
                                                          'e', 's', 's', '1'};
enum { KDF_MAC = 1, KDF_LOG = 2, KDF_KID = 3 };

static void say(char *msg, size_t msglen, const char *fmt, va_list ap)
{
    if (msg && msglen)
        vsnprintf(msg, msglen, fmt, ap);
}

static fcd_secret_status_t fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static fcd_secret_status_t warn(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static fcd_secret_status_t fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(err, errlen, fmt, ap);
    va_end(ap);
    return FCD_SECRET_ERROR;
}

static fcd_secret_status_t warn(char *msg, size_t msglen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say(msg, msglen, fmt, ap);
    va_end(ap);
    return FCD_SECRET_DEVELOPMENT;
}

void fcd_secret_clear(fcd_secret_ring_t *ring)
{
    sodium_memzero(ring, sizeof *ring);
}

/* The keys of one secret: a master key hashed from the secret (whatever
 * its length), and from it one key per purpose. */
static int derive(fcd_secret_key_t *k, const unsigned char *secret, size_t n)
{
    unsigned char master[crypto_kdf_KEYBYTES];
    unsigned char kid[crypto_kdf_BYTES_MIN];
    int rc = 0;

    if (crypto_generichash(master, sizeof master, secret, n, master_domain,
                           sizeof master_domain) != 0 ||
        crypto_kdf_derive_from_key(k->mac, sizeof k->mac, KDF_MAC, kdf_context, master) != 0 ||
        crypto_kdf_derive_from_key(k->log, sizeof k->log, KDF_LOG, kdf_context, master) != 0 ||
        crypto_kdf_derive_from_key(kid, sizeof kid, KDF_KID, kdf_context, master) != 0)
        rc = -1;
    else
        memcpy(k->kid, kid, sizeof k->kid);
    sodium_memzero(master, sizeof master);
    sodium_memzero(kid, sizeof kid);
    return rc;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* Decode one token into out (room for FCD_SECRET_TOKEN_MAX bytes). */
static fcd_secret_status_t decode(const char *tok, size_t n, unsigned char *out,
                                  size_t *outlen, const char *what, char *err,
                                  size_t errlen)
{
    const char *end = NULL;
    size_t len = 0;

    if (n > FCD_SECRET_TOKEN_MAX)
        return fail(err, errlen, "%s is %zu characters long; at most %d are read "
                    "(%d bytes as hex)", what, n, FCD_SECRET_TOKEN_MAX, FCD_SECRET_MAX);
    if (all_hex(tok, n)) {
        if (n % 2)
            return fail(err, errlen, "%s has an odd number of hex digits", what);
        if (sodium_hex2bin(out, FCD_SECRET_TOKEN_MAX, tok, n, NULL, &len, &end) != 0 ||
            end != tok + n)
            return fail(err, errlen, "%s is not valid hex", what);
    } else {
        bool std = memchr(tok, '+', n) || memchr(tok, '/', n);
        bool url = memchr(tok, '-', n) || memchr(tok, '_', n);
        bool pad = tok[n - 1] == '=';
        int variant;

        if (std && url)
            return fail(err, errlen, "%s mixes the two base64 alphabets (+/ and -_)",
                        what);
        if (url)
            variant = pad ? sodium_base64_VARIANT_URLSAFE
                          : sodium_base64_VARIANT_URLSAFE_NO_PADDING;
        else
            variant = pad ? sodium_base64_VARIANT_ORIGINAL
                          : sodium_base64_VARIANT_ORIGINAL_NO_PADDING;
        if (sodium_base642bin(out, FCD_SECRET_TOKEN_MAX, tok, n, NULL, &len, &end,
                              variant) != 0 ||
            end != tok + n)
            return fail(err, errlen, "%s is neither hex nor base64", what);
    }
    if (len < FCD_SECRET_MIN)
        return fail(err, errlen, "%s is %zu bytes; at least %d random bytes are "
                    "needed (openssl rand -hex %d)", what, len, FCD_SECRET_MIN,
                    FCD_SECRET_MIN);
    if (len > FCD_SECRET_MAX)
        return fail(err, errlen, "%s is %zu bytes; at most %d are read", what, len,
                    FCD_SECRET_MAX);

    bool seen[256] = {false};
    unsigned distinct = 0;
    for (size_t i = 0; i < len; i++)
        if (!seen[out[i]]) {
            seen[out[i]] = true;
            distinct++;
        }
    sodium_memzero(seen, sizeof seen);
    if (distinct < FCD_SECRET_DISTINCT_MIN)
        return fail(err, errlen, "%s has only %u distinct byte values: a placeholder, "
                    "not a random secret (openssl rand -hex %d)", what, distinct,
                    FCD_SECRET_MIN);
    *outlen = len;
    return FCD_SECRET_OK;
}

static bool is_sep(char c, bool lines)
{
    if (lines)
        return c == '\n';
    return c == ',' || isspace((unsigned char)c);
}

fcd_secret_status_t fcd_secret_parse(fcd_secret_ring_t *ring, const char *text,
                                     size_t len, bool lines, const char *origin,
                                     char *err, size_t errlen)
{
    unsigned char bytes[FCD_SECRET_TOKEN_MAX];
    fcd_secret_status_t st = FCD_SECRET_OK;
    size_t i = 0, ordinal = 0;

    fcd_secret_clear(ring);
    if (!origin)
        origin = "secrets";
    if (sodium_init() < 0)
        return fail(err, errlen, "libsodium could not be initialised");
    if (!text)
        len = 0;
    while (i < len && st == FCD_SECRET_OK) {
        while (i < len && is_sep(text[i], lines))
            i++;
        size_t start = i;
        while (i < len && !is_sep(text[i], lines))
            i++;
        size_t end = i;
        /* A line's own white space (indentation, a CR from a DOS editor)
         * is not part of the secret. */
        while (start < end && isspace((unsigned char)text[start]))
            start++;
        while (end > start && isspace((unsigned char)text[end - 1]))
            end--;
        if (start == end || (lines && text[start] == '#'))
            continue;

        char what[FCD_SECRET_ORIGIN_MAX + 32];
        size_t n = 0;
        ordinal++;
        snprintf(what, sizeof what, "secret %zu of %s", ordinal, origin);
        if (ring->count == FCD_SECRET_RING_MAX) {
            st = fail(err, errlen, "%s holds more than %d secrets", origin,
                      FCD_SECRET_RING_MAX);
            break;
        }
        st = decode(text + start, end - start, bytes, &n, what, err, errlen);
        if (st != FCD_SECRET_OK)
            break;
        fcd_secret_key_t *k = &ring->keys[ring->count];
        if (derive(k, bytes, n) != 0) {
            st = fail(err, errlen, "%s: key derivation failed", what);
            break;
        }
        for (size_t j = 0; j < ring->count && st == FCD_SECRET_OK; j++)
            if (sodium_memcmp(ring->keys[j].mac, k->mac, sizeof k->mac) == 0)
                st = fail(err, errlen, "%s repeats secret %zu", what, j + 1);
        ring->count++;
    }
    sodium_memzero(bytes, sizeof bytes);
    if (st == FCD_SECRET_OK && ring->count == 0)
        st = fail(err, errlen, "%s holds no secret", origin);
    if (st != FCD_SECRET_OK) {
        fcd_secret_clear(ring);
        return st;
    }
    snprintf(ring->origin, sizeof ring->origin, "%s", origin);
    return FCD_SECRET_OK;
}

/* Read an open file of at most FCD_SECRET_FILE_MAX bytes into buf (room
 * for FCD_SECRET_FILE_MAX + 1).  The length, or -1 with errno set (EFBIG:
 * too large). */
static ssize_t read_all(int fd, char *buf)
{
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, FCD_SECRET_FILE_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return (ssize_t)n;
        n += (size_t)r;
        if (n > FCD_SECRET_FILE_MAX) {
            errno = EFBIG;
            return -1;
        }
    }
}

/* Parse the secrets file open at fd, already checked. */
static fcd_secret_status_t parse_fd(fcd_secret_ring_t *ring, int fd, const char *path,
                                    char *err, size_t errlen)
{
    char buf[FCD_SECRET_FILE_MAX + 1];
    ssize_t n = read_all(fd, buf);
    fcd_secret_status_t st;

    if (n < 0)
        st = fail(err, errlen, "%s: %s", path,
                  errno == EFBIG ? "larger than a secrets file can be"
                                 : strerror(errno));
    else
        st = fcd_secret_parse(ring, buf, (size_t)n, true, path, err, errlen);
    sodium_memzero(buf, sizeof buf);
    return st;
}

fcd_secret_status_t fcd_secret_read_file(fcd_secret_ring_t *ring, const char *path,
                                         char *err, size_t errlen)
{
    struct stat sb;
    fcd_secret_status_t st;

    fcd_secret_clear(ring);
    if (!path || !*path)
        return fail(err, errlen, "no secrets file named");
    /* Symbolic links are followed: orchestrators mount secrets that way.
     * The checks below apply to the file reached. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    if (fstat(fd, &sb) != 0)
        st = fail(err, errlen, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode))
        st = fail(err, errlen, "%s: not a regular file", path);
    else if (sb.st_mode & (S_IRWXO | S_IWGRP))
        st = fail(err, errlen, "%s: mode %03o lets %s; chmod 600 (or 640 for a "
                  "group of workers) before using it", path,
                  (unsigned)(sb.st_mode & 0777),
                  (sb.st_mode & S_IRWXO) ? "others read or change it"
                                         : "its group change it");
    else
        st = parse_fd(ring, fd, path, err, errlen);
    close(fd);
    return st;
}

fcd_secret_status_t fcd_secret_dev_dir(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;

    if (xdg && xdg[0] == '/')
        n = snprintf(buf, len, "%s/fcdash", xdg);
    else
        n = snprintf(buf, len, "/tmp/fcdash-%lu", (unsigned long)geteuid());
    return n < 0 || (size_t)n >= len ? FCD_SECRET_ERROR : FCD_SECRET_OK;
}

/* mkdir -p, mode 0700 for what it makes.  0, or -1 with errno set. */
static int make_dirs(const char *dir)
{
    char path[FCD_SECRET_ORIGIN_MAX];
    size_t n = strlen(dir);

    if (n >= sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        path[i] = c;
    }
    return 0;
}

/* Write a fresh development secret and link it into place, unless another
 * worker did first.  0, or -1 with errno set. */
static int create_dev_secret(int dfd)
{
    unsigned char secret[FCD_SECRET_DEV_BYTES], tag[4];
    char hex[2 * FCD_SECRET_DEV_BYTES + 2], tmp[64], taghex[9];
    int rc = -1, saved;

    randombytes_buf(secret, sizeof secret);
    sodium_bin2hex(hex, sizeof hex, secret, sizeof secret);
    sodium_memzero(secret, sizeof secret);
    hex[2 * FCD_SECRET_DEV_BYTES] = '\n';
    hex[2 * FCD_SECRET_DEV_BYTES + 1] = '\0';
    /* pid and a random tag: unique even across pid namespaces sharing the
     * directory, so O_EXCL never meets a live peer's file. */
    randombytes_buf(tag, sizeof tag);
    sodium_bin2hex(taghex, sizeof taghex, tag, sizeof tag);
    snprintf(tmp, sizeof tmp, ".%s.%ld.%s", FCD_SECRET_DEV_FILE, (long)getpid(), taghex);

    int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        goto out;
    size_t len = sizeof hex - 1, off = 0;
    while (off < len) {
        ssize_t w = write(fd, hex + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (off == len && fsync(fd) == 0) {
        /* link() is atomic and never replaces: the first worker's file
         * wins, and no one ever sees a partly written one. */
        if (linkat(dfd, tmp, dfd, FCD_SECRET_DEV_FILE, 0) == 0 || errno == EEXIST)
            rc = 0;
    }
    saved = errno;
    close(fd);
    unlinkat(dfd, tmp, 0);
    errno = saved;
out:
    sodium_memzero(hex, sizeof hex);
    return rc;
}

fcd_secret_status_t fcd_secret_dev(fcd_secret_ring_t *ring, const char *dir, char *err,
                                   size_t errlen)
{
    char def[FCD_SECRET_ORIGIN_MAX], path[FCD_SECRET_ORIGIN_MAX];
    struct stat sb;
    fcd_secret_status_t st;
    int dfd, fd = -1;

    fcd_secret_clear(ring);
    if (sodium_init() < 0)
        return fail(err, errlen, "libsodium could not be initialised");
    if (!dir || !*dir) {
        if (fcd_secret_dev_dir(def, sizeof def) != FCD_SECRET_OK)
            return fail(err, errlen, "the development secret's directory name is too long");
        dir = def;
    }
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, FCD_SECRET_DEV_FILE) >=
        sizeof path)
        return fail(err, errlen, "%s: directory name too long", dir);
    if (make_dirs(dir) != 0)
        return fail(err, errlen, "%s: %s", dir, strerror(errno));
    /* The last component must be the directory itself: a link in a shared
     * /tmp could point anywhere.  Linux says ENOTDIR or ELOOP for a link
     * opened with O_NOFOLLOW | O_DIRECTORY; lstat tells which it was. */
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0) {
        int saved = errno;
        if (lstat(dir, &sb) == 0 && S_ISLNK(sb.st_mode))
            return fail(err, errlen, "%s: a symbolic link, not a directory", dir);
        return fail(err, errlen, "%s: %s", dir, strerror(saved));
    }
    if (fstat(dfd, &sb) != 0) {
        st = fail(err, errlen, "%s: %s", dir, strerror(errno));
        goto out;
    }
    if (sb.st_uid != geteuid() || (sb.st_mode & (S_IWGRP | S_IWOTH))) {
        st = fail(err, errlen, "%s: %s; the development secret is kept only in a "
                  "directory of this user's that no one else can write",
                  dir, sb.st_uid != geteuid() ? "owned by another user"
                                              : "writable by others");
        goto out;
    }
    for (int attempt = 0; attempt < 2 && fd < 0; attempt++) {
        fd = openat(dfd, FCD_SECRET_DEV_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0 || errno != ENOENT || attempt == 1)
            break;
        if (create_dev_secret(dfd) != 0) {
            st = fail(err, errlen, "%s: cannot create: %s", path, strerror(errno));
            goto out;
        }
    }
    if (fd < 0) {
        st = fail(err, errlen, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (fstat(fd, &sb) != 0)
        st = fail(err, errlen, "%s: %s", path, strerror(errno));
    else if (!S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || (sb.st_mode & 077))
        st = fail(err, errlen, "%s: not a private file of this user (mode 0600); "
                  "remove it to make a new development secret", path);
    else
        st = parse_fd(ring, fd, path, err, errlen);
    close(fd);
    if (st == FCD_SECRET_OK)
        ring->development = true;
out:
    close(dfd);
    return st;
}

fcd_secret_status_t fcd_secret_load(fcd_secret_ring_t *ring, const char *dev_dir,
                                    char *msg, size_t msglen)
{
    const char *mode = getenv(FCD_SECRET_MODE_ENV);
    const char *text = getenv(FCD_SECRET_ENV);
    const char *file = getenv(FCD_SECRET_FILE_ENV);
    bool production;
    fcd_secret_status_t st;

    fcd_secret_clear(ring);
    if (!mode || !*mode || strcmp(mode, "development") == 0)
        production = false;
    else if (strcmp(mode, "production") == 0)
        production = true;
    else
        return fail(msg, msglen, "%s=%s: expected \"production\" or \"development\"",
                    FCD_SECRET_MODE_ENV, mode);
    if (text && !*text)
        text = NULL;
    if (file && !*file)
        file = NULL;
    if (text && file)
        return fail(msg, msglen, "both %s and %s are set: keep one", FCD_SECRET_ENV,
                    FCD_SECRET_FILE_ENV);
    if (text)
        return fcd_secret_parse(ring, text, strlen(text), false, FCD_SECRET_ENV, msg,
                                msglen);
    if (file)
        return fcd_secret_read_file(ring, file, msg, msglen);
    if (production)
        return fail(msg, msglen, "%s=production and neither %s nor %s is set: "
                    "refusing to sign session ids with a development secret",
                    FCD_SECRET_MODE_ENV, FCD_SECRET_ENV, FCD_SECRET_FILE_ENV);
    st = fcd_secret_dev(ring, dev_dir, msg, msglen);
    if (st != FCD_SECRET_OK)
        return st;
    return warn(msg, msglen, "INSECURE: neither %s nor %s is set, so session ids are "
         "signed with a development secret kept in %s; it is shared by this "
         "host's workers only (ids will not verify on another host). Set %s or "
         "%s, and %s=production to refuse to start without one",
         FCD_SECRET_ENV, FCD_SECRET_FILE_ENV, ring->origin, FCD_SECRET_ENV,
         FCD_SECRET_FILE_ENV, FCD_SECRET_MODE_ENV);
}
