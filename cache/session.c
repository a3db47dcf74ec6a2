/*
 * cache/session.c - minting and verifying signed session ids, and the keys
 * a session's values live under.  The id format and the order of checks
 * are described in session.h; the secrets in secret.h.
 *
 * What it relies on: libsodium only, for the CSPRNG (randombytes_buf), the
 * MAC (crypto_auth_hmacsha512256 and its constant-time _verify), hashing
 * (crypto_generichash) and base64url (sodium_bin2base64 /
 * sodium_base642bin).  No cryptography is written here.
 *
 * What it guarantees: the client's text is measured and its alphabet
 * checked before a byte of it is decoded, so a 10 KB string or binary junk
 * costs a length comparison; nothing derived from the text is trusted
 * until the MAC matches; time is checked only on authentic ids, so a
 * tampered issue time reads as a bad signature, not as expired; refusal
 * messages never quote the text.
 */
#include "cache/session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* Offsets inside the decoded payload. */
#define OFF_RANDOM 0
#define OFF_TIME (OFF_RANDOM + FCD_SESSION_RANDOM_BYTES)
#define OFF_KID (OFF_TIME + FCD_SESSION_TIME_BYTES)
#define OFF_MAC (OFF_KID + FCD_SESSION_KID_BYTES)
/* The signed bytes: prefix, payload up to the MAC, app name's length and
 * the name. */
#define SIGNED_MAX (FCD_SESSION_PREFIX_LEN + OFF_MAC + 1 + FCD_SESSION_APP_MAX)
#define B64_LEN (FCD_SESSION_ID_LEN - FCD_SESSION_PREFIX_LEN)

_Static_assert(FCD_SESSION_PAYLOAD_BYTES % 3 == 0,
               "the payload must encode without spare bits (one spelling per id)");
_Static_assert(FCD_SESSION_MAC_BYTES == crypto_auth_hmacsha512256_BYTES, "MAC size");
_Static_assert(FCD_SECRET_KEY_BYTES == crypto_auth_hmacsha512256_KEYBYTES, "MAC key size");
_Static_assert(FCD_SESSION_KEY_MAX <= 250, "storage keys must fit memcached's limit");

/* The fixed key that separates storage-key hashes from every other use of
 * BLAKE2b (it is a domain label, not a secret; see session.h). */
static const unsigned char storage_domain[crypto_generichash_KEYBYTES] =
    "fcdash session storage key v1";

static fcd_session_status_t report(char *msg, size_t msglen, fcd_session_status_t st,
                                   const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static fcd_session_status_t report(char *msg, size_t msglen, fcd_session_status_t st,
                                   const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return st;
}

/* 1..max bytes of [A-Za-z0-9._-]. */
static bool name_ok(const char *s, size_t max)
{
    size_t n = 0;
    if (!s)
        return false;
    for (; s[n]; n++) {
        char c = s[n];
        if (n == max || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                          (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return n > 0;
}

fcd_session_status_t fcd_session_conf_init(fcd_session_conf_t *conf, const char *app,
                                           char *err, size_t errlen)
{
    fcd_session_conf_clear(conf);
    if (sodium_init() < 0)
        return report(err, errlen, FCD_SESSION_ERROR, "libsodium could not be initialised");
    if (!name_ok(app, FCD_SESSION_APP_MAX))
        return report(err, errlen, FCD_SESSION_ERROR,
                      "app name must be 1 to %d of letters, digits, '.', '_', '-'",
                      FCD_SESSION_APP_MAX);
    memcpy(conf->app, app, strlen(app) + 1);
    conf->max_age = FCD_SESSION_MAX_AGE_DEFAULT;
    conf->skew = FCD_SESSION_SKEW_DEFAULT;
    return FCD_SESSION_OK;
}

void fcd_session_conf_clear(fcd_session_conf_t *conf)
{
    sodium_memzero(conf, sizeof *conf);
}

/* A setting of whole seconds within [lo, hi]; unset or empty keeps *out. */
static fcd_session_status_t seconds_setting(const char *name, unsigned lo, unsigned hi,
                                            unsigned *out, char *msg, size_t msglen)
{
    const char *v = getenv(name);
    unsigned long long n = 0;

    if (!v || !*v)
        return FCD_SESSION_OK;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9' || p - v >= 10)
            return report(msg, msglen, FCD_SESSION_ERROR,
                          "%s=%s: expected whole seconds from %u to %u", name, v, lo, hi);
        n = n * 10 + (unsigned)(*p - '0');
    }
    if (n < lo || n > hi)
        return report(msg, msglen, FCD_SESSION_ERROR,
                      "%s=%s: expected whole seconds from %u to %u", name, v, lo, hi);
    *out = (unsigned)n;
    return FCD_SESSION_OK;
}

fcd_session_status_t fcd_session_conf_load(fcd_session_conf_t *conf, const char *app,
                                           const char *dev_dir, char *msg,
                                           size_t msglen)
{
    fcd_session_status_t st = fcd_session_conf_init(conf, app, msg, msglen);

    if (st == FCD_SESSION_OK)
        st = seconds_setting(FCD_SESSION_MAX_AGE_ENV, FCD_SESSION_MAX_AGE_MIN,
                             FCD_SESSION_MAX_AGE_MAX, &conf->max_age, msg, msglen);
    if (st == FCD_SESSION_OK)
        st = seconds_setting(FCD_SESSION_SKEW_ENV, 0, FCD_SESSION_SKEW_MAX, &conf->skew,
                             msg, msglen);
    if (st == FCD_SESSION_OK) {
        switch (fcd_secret_load(&conf->ring, dev_dir, msg, msglen)) {
        case FCD_SECRET_OK:
            break;
        case FCD_SECRET_DEVELOPMENT:
            st = FCD_SESSION_DEVELOPMENT;
            break;
        default:
            st = FCD_SESSION_ERROR;
        }
    }
    if (st == FCD_SESSION_ERROR)
        fcd_session_conf_clear(conf);
    return st;
}

/* The bytes the MAC covers: the prefix (so a later format cannot be fed
 * an old one's MAC), the payload before the MAC, and the app name. */
static size_t signed_bytes(const fcd_session_conf_t *conf,
                           const unsigned char payload[FCD_SESSION_PAYLOAD_BYTES],
                           unsigned char buf[SIGNED_MAX])
{
    size_t app_len = strlen(conf->app), n = 0;

    memcpy(buf, FCD_SESSION_PREFIX, FCD_SESSION_PREFIX_LEN);
    n += FCD_SESSION_PREFIX_LEN;
    memcpy(buf + n, payload, OFF_MAC);
    n += OFF_MAC;
    buf[n++] = (unsigned char)app_len;
    memcpy(buf + n, conf->app, app_len);
    return n + app_len;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

fcd_session_status_t fcd_session_mint(const fcd_session_conf_t *conf, int64_t now,
                                      fcd_session_t *out, char text[FCD_SESSION_ID_BUF])
{
    unsigned char payload[FCD_SESSION_PAYLOAD_BYTES], sig[SIGNED_MAX];

    text[0] = '\0';
    if (out)
        memset(out, 0, sizeof *out);
    if (!conf || conf->ring.count == 0 || now < 0)
        return FCD_SESSION_ERROR;
    const fcd_secret_key_t *k = &conf->ring.keys[0];
    randombytes_buf(payload + OFF_RANDOM, FCD_SESSION_RANDOM_BYTES);
    put_be64(payload + OFF_TIME, (uint64_t)now);
    memcpy(payload + OFF_KID, k->kid, FCD_SESSION_KID_BYTES);
    size_t n = signed_bytes(conf, payload, sig);
    crypto_auth_hmacsha512256(payload + OFF_MAC, sig, n, k->mac);

    memcpy(text, FCD_SESSION_PREFIX, FCD_SESSION_PREFIX_LEN);
    sodium_bin2base64(text + FCD_SESSION_PREFIX_LEN, B64_LEN + 1, payload, sizeof payload,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (out) {
        memcpy(out->id, payload + OFF_RANDOM, FCD_SESSION_RANDOM_BYTES);
        out->issued = now;
        out->expires = now + (int64_t)conf->max_age;
        out->key_index = 0;
    }
    return FCD_SESSION_OK;
}

static bool b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_';
}

fcd_session_status_t fcd_session_verify(const fcd_session_conf_t *conf, const char *text,
                                        size_t len, int64_t now, fcd_session_t *out,
                                        char *msg, size_t msglen)
{
    unsigned char payload[FCD_SESSION_PAYLOAD_BYTES], sig[SIGNED_MAX];
    size_t decoded = 0, key_index = SIZE_MAX;
    const char *end = NULL;
    bool known_kid = false;
    fcd_session_t unused;

    if (!out)
        out = &unused;
    memset(out, 0, sizeof *out);
    if (!conf || conf->ring.count == 0 || now < 0)
        return report(msg, msglen, FCD_SESSION_ERROR,
                      "session ids cannot be verified: no secret loaded, or a bad clock");

    /* Shape first, all of it before decoding anything. */
    if (!text || len == 0)
        return report(msg, msglen, FCD_SESSION_MALFORMED, "empty session id");
    if (len < FCD_SESSION_ID_LEN)
        return report(msg, msglen, FCD_SESSION_MALFORMED,
                      "truncated session id: %zu of %d bytes", len, FCD_SESSION_ID_LEN);
    if (len > FCD_SESSION_ID_LEN)
        return report(msg, msglen, FCD_SESSION_MALFORMED,
                      "session id too long: %zu bytes, an id has %d", len,
                      FCD_SESSION_ID_LEN);
    if (memcmp(text, FCD_SESSION_PREFIX, FCD_SESSION_PREFIX_LEN) != 0)
        return report(msg, msglen, FCD_SESSION_MALFORMED,
                      "session id of an unknown format (no \"%s\" prefix)",
                      FCD_SESSION_PREFIX);
    for (size_t i = FCD_SESSION_PREFIX_LEN; i < len; i++)
        if (!b64url_char((unsigned char)text[i]))
            return report(msg, msglen, FCD_SESSION_MALFORMED,
                          "session id byte %zu is outside the base64url alphabet", i);
    if (sodium_base642bin(payload, sizeof payload, text + FCD_SESSION_PREFIX_LEN, B64_LEN,
                          NULL, &decoded, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        decoded != sizeof payload || end != text + len)
        return report(msg, msglen, FCD_SESSION_MALFORMED, "session id does not decode");

    /* Authenticity: the key id picks the secret(s) to try; the MAC is
     * compared in constant time. */
    size_t n = signed_bytes(conf, payload, sig);
    for (size_t i = 0; i < conf->ring.count && key_index == SIZE_MAX; i++) {
        const fcd_secret_key_t *k = &conf->ring.keys[i];
        if (memcmp(k->kid, payload + OFF_KID, FCD_SESSION_KID_BYTES) != 0)
            continue;
        known_kid = true;
        if (crypto_auth_hmacsha512256_verify(payload + OFF_MAC, sig, n, k->mac) == 0)
            key_index = i;
    }
    if (!known_kid)
        return report(msg, msglen, FCD_SESSION_RETIRED_KEY,
                      "session id signed by a key that is not among the %zu accepted "
                      "(retired, or never ours)", conf->ring.count);
    if (key_index == SIZE_MAX)
        return report(msg, msglen, FCD_SESSION_BAD_SIGNATURE,
                      "session id signature does not match (tampered, forged, or minted "
                      "for another app)");

    /* Time, now that the issue time is known to be ours.  We never mint
     * past INT64_MAX, and both sides are in [0, INT64_MAX]: no overflow. */
    uint64_t issued_u = get_be64(payload + OFF_TIME);
    if (issued_u > (uint64_t)INT64_MAX)
        return report(msg, msglen, FCD_SESSION_NOT_YET_VALID,
                      "session id issued in the far future");
    int64_t issued = (int64_t)issued_u;
    if (issued > now && (uint64_t)(issued - now) > conf->skew)
        return report(msg, msglen, FCD_SESSION_NOT_YET_VALID,
                      "session id issued %" PRId64 " s in the future (allowed skew %u s)",
                      issued - now, conf->skew);
    if (now > issued && (uint64_t)(now - issued) > conf->max_age)
        return report(msg, msglen, FCD_SESSION_EXPIRED,
                      "session id issued %" PRId64 " s ago; the max age is %u s",
                      now - issued, conf->max_age);

    memcpy(out->id, payload + OFF_RANDOM, FCD_SESSION_RANDOM_BYTES);
    out->issued = issued;
    out->expires = issued > INT64_MAX - (int64_t)conf->max_age
                       ? INT64_MAX
                       : issued + (int64_t)conf->max_age;
    out->key_index = key_index;
    return FCD_SESSION_OK;
}

fcd_session_status_t fcd_session_storage_key(const fcd_session_conf_t *conf,
                                             const fcd_session_t *s, const char *name,
                                             char key[FCD_SESSION_KEY_BUF])
{
    unsigned char h[FCD_SESSION_KEY_HASH_BYTES];
    char hex[2 * FCD_SESSION_KEY_HASH_BYTES + 1];
    crypto_generichash_state st;
    unsigned char app_len;

    key[0] = '\0';
    if (!conf || !s || !name_ok(conf->app, FCD_SESSION_APP_MAX) ||
        (name && !name_ok(name, FCD_SESSION_NAME_MAX)))
        return FCD_SESSION_ERROR;
    /* The app is hashed with its length in front, so (app, bytes) pairs
     * cannot run into each other. */
    app_len = (unsigned char)strlen(conf->app);
    crypto_generichash_init(&st, storage_domain, sizeof storage_domain, sizeof h);
    crypto_generichash_update(&st, &app_len, 1);
    crypto_generichash_update(&st, (const unsigned char *)conf->app, app_len);
    crypto_generichash_update(&st, s->id, sizeof s->id);
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(hex, sizeof hex, h, sizeof h);
    snprintf(key, FCD_SESSION_KEY_BUF, "%s%s:%s%s%s", FCD_SESSION_KEY_PREFIX, conf->app, hex,
             name ? ":" : "", name ? name : "");
    return FCD_SESSION_OK;
}

const char *fcd_session_log_hash(const fcd_session_conf_t *conf, const char *text,
                                 size_t len, char out[FCD_SESSION_LOG_HASH_BUF])
{
    unsigned char h[crypto_generichash_BYTES_MIN];

    if (!conf || conf->ring.count == 0) {
        memset(out, '?', FCD_SESSION_LOG_HASH_LEN);
        out[FCD_SESSION_LOG_HASH_LEN] = '\0';
        return out;
    }
    /* BLAKE2b's shortest output is 16 bytes; the first 8 are the hash. */
    crypto_generichash(h, sizeof h, (const unsigned char *)(text ? text : ""),
                       text ? len : 0, conf->ring.keys[0].log,
                       sizeof conf->ring.keys[0].log);
    sodium_bin2hex(out, FCD_SESSION_LOG_HASH_BUF, h, FCD_SESSION_LOG_HASH_BYTES);
    return out;
}

bool fcd_session_refused(fcd_session_status_t st)
{
    return st >= FCD_SESSION_MALFORMED && st <= FCD_SESSION_RETIRED_KEY;
}

const char *fcd_session_code(fcd_session_status_t st)
{
    switch (st) {
    case FCD_SESSION_OK: return "ok";
    case FCD_SESSION_DEVELOPMENT: return "development";
    case FCD_SESSION_MALFORMED: return "session_malformed";
    case FCD_SESSION_BAD_SIGNATURE: return "session_bad_signature";
    case FCD_SESSION_EXPIRED: return "session_expired";
    case FCD_SESSION_NOT_YET_VALID: return "session_not_yet_valid";
    case FCD_SESSION_RETIRED_KEY: return "session_retired_key";
    case FCD_SESSION_ERROR: break;
    }
    return "error";
}

const char *fcd_session_strerror(fcd_session_status_t st)
{
    switch (st) {
    case FCD_SESSION_OK: return "the session id is valid";
    case FCD_SESSION_DEVELOPMENT: return "session ids are signed with a development secret";
    case FCD_SESSION_MALFORMED: return "the session id is not a session id; reload the page";
    case FCD_SESSION_BAD_SIGNATURE:
        return "the session id's signature does not match; reload the page";
    case FCD_SESSION_EXPIRED: return "the session id has expired; reload the page";
    case FCD_SESSION_NOT_YET_VALID:
        return "the session id was issued in the future; check the server clocks";
    case FCD_SESSION_RETIRED_KEY:
        return "the session id was signed by a key no longer accepted; reload the page";
    case FCD_SESSION_ERROR: break;
    }
    return "the server cannot verify session ids";
}
