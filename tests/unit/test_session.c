/*
 * test_session.c - CUnit tests of signed session ids (cache/session.c) and
 * the secrets that sign them (cache/secret.c).
 *
 * Time is a parameter of mint and verify, so expiry and clock skew are
 * tested by passing times, never by sleeping.  Secrets are made fresh per
 * test from libsodium's CSPRNG.  The settings come from the environment,
 * so every test starts from a cleared FCDASH_* environment (clean_env) and
 * works in its own temporary directory.  The development secret's sharing
 * is tested with real forked processes racing to create it.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "cache/secret.h"
#include "cache/session.h"

#define T0 ((int64_t)1700000000)

static char tmpdir[256];

/* ---- helpers ------------------------------------------------------------------------ */

static void clean_env(void)
{
    unsetenv(FCD_SECRET_ENV);
    unsetenv(FCD_SECRET_FILE_ENV);
    unsetenv(FCD_SECRET_MODE_ENV);
    unsetenv(FCD_SESSION_MAX_AGE_ENV);
    unsetenv(FCD_SESSION_SKEW_ENV);
    unsetenv("XDG_RUNTIME_DIR");
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int setup(void)
{
    clean_env();
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_session.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void)
{
    clean_env();
    nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* A fresh random secret as hex (64 digits). */
static void new_secret(char out[2 * FCD_SECRET_MIN + 1])
{
    unsigned char b[FCD_SECRET_MIN];
    randombytes_buf(b, sizeof b);
    sodium_bin2hex(out, 2 * FCD_SECRET_MIN + 1, b, sizeof b);
}

/* A conf for `app` whose ring is parsed from `secrets` (newest first). */
static void conf_with(fcd_session_conf_t *conf, const char *app, const char *secrets)
{
    char err[512];
    CU_ASSERT_EQUAL_FATAL(fcd_session_conf_init(conf, app, err, sizeof err), FCD_SESSION_OK);
    fcd_secret_status_t st =
        fcd_secret_parse(&conf->ring, secrets, strlen(secrets), false, "test", err, sizeof err);
    if (st != FCD_SECRET_OK)
        fprintf(stderr, "\nconf_with: %s\n", err);
    CU_ASSERT_EQUAL_FATAL(st, FCD_SECRET_OK);
}

static fcd_session_status_t verify_at(const fcd_session_conf_t *conf, const char *text,
                                      size_t len, int64_t now)
{
    fcd_session_t s;
    char msg[256];
    return fcd_session_verify(conf, text, len, now, &s, msg, sizeof msg);
}

static fcd_session_status_t verify_str(const fcd_session_conf_t *conf, const char *text)
{
    return verify_at(conf, text, strlen(text), T0);
}

/* Encode a payload the way an id is spelled, to forge or tamper at the
 * byte level. */
static void encode(const unsigned char payload[FCD_SESSION_PAYLOAD_BYTES],
                   char text[FCD_SESSION_ID_BUF])
{
    memcpy(text, FCD_SESSION_PREFIX, FCD_SESSION_PREFIX_LEN);
    sodium_bin2base64(text + FCD_SESSION_PREFIX_LEN, FCD_SESSION_ID_BUF - FCD_SESSION_PREFIX_LEN,
                      payload, FCD_SESSION_PAYLOAD_BYTES,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void decode(const char *text, unsigned char payload[FCD_SESSION_PAYLOAD_BYTES])
{
    size_t n = 0;
    CU_ASSERT_EQUAL_FATAL(sodium_base642bin(payload, FCD_SESSION_PAYLOAD_BYTES,
                                            text + FCD_SESSION_PREFIX_LEN,
                                            FCD_SESSION_ID_LEN - FCD_SESSION_PREFIX_LEN, NULL,
                                            &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                          0);
    CU_ASSERT_EQUAL_FATAL(n, FCD_SESSION_PAYLOAD_BYTES);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    CU_ASSERT_EQUAL(chmod(path, mode), 0);
}

/* ---- ids ------------------------------------------------------------------------------ */

static void test_round_trip(void)
{
    char a[65], text[FCD_SESSION_ID_BUF], msg[256];
    fcd_session_conf_t conf;
    fcd_session_t minted, got;

    new_secret(a);
    conf_with(&conf, "demo", a);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, &minted, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(strlen(text), FCD_SESSION_ID_LEN);
    CU_ASSERT_EQUAL(FCD_SESSION_ID_LEN, 83);
    CU_ASSERT_NSTRING_EQUAL(text, FCD_SESSION_PREFIX, FCD_SESSION_PREFIX_LEN);
    CU_ASSERT_EQUAL(minted.issued, T0);
    CU_ASSERT_EQUAL(minted.expires, T0 + FCD_SESSION_MAX_AGE_DEFAULT);

    CU_ASSERT_EQUAL(fcd_session_verify(&conf, text, strlen(text), T0 + 5, &got, msg, sizeof msg),
                    FCD_SESSION_OK);
    CU_ASSERT_EQUAL(memcmp(got.id, minted.id, sizeof got.id), 0);
    CU_ASSERT_EQUAL(got.issued, T0);
    CU_ASSERT_EQUAL(got.expires, T0 + FCD_SESSION_MAX_AGE_DEFAULT);
    CU_ASSERT_EQUAL(got.key_index, 0);
    /* The mint's own `out` is optional. */
    CU_ASSERT_EQUAL(fcd_session_mint(&conf, T0, NULL, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(verify_str(&conf, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(fcd_session_verify(&conf, text, strlen(text), T0, NULL, NULL, 0),
                    FCD_SESSION_OK);
    fcd_session_conf_clear(&conf);
    CU_ASSERT_EQUAL(conf.ring.count, 0);
}

static void test_ids_differ(void)
{
    enum { N = 200 };
    static char texts[N][FCD_SESSION_ID_BUF];
    static fcd_session_t s[N];
    char a[65];
    fcd_session_conf_t conf;

    new_secret(a);
    conf_with(&conf, "demo", a);
    for (int i = 0; i < N; i++)
        CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, &s[i], texts[i]), FCD_SESSION_OK);
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) {
            CU_ASSERT_NOT_EQUAL(strcmp(texts[i], texts[j]), 0);
            CU_ASSERT_NOT_EQUAL(memcmp(s[i].id, s[j].id, sizeof s[i].id), 0);
        }
}

/* Which characters of the text spell the key id (bytes 24..27): base64
 * maps bytes 24..26 to characters 32..35 and byte 27 into 36..37. */
static bool touches_kid(size_t pos)
{
    return pos >= FCD_SESSION_PREFIX_LEN + 32 && pos <= FCD_SESSION_PREFIX_LEN + 37;
}

static void test_tamper_each_character(void)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char a[65], text[FCD_SESSION_ID_BUF], t[FCD_SESSION_ID_BUF];
    fcd_session_conf_t conf;
    unsigned tried = 0;

    new_secret(a);
    conf_with(&conf, "demo", a);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, text), FCD_SESSION_OK);
    for (size_t pos = 0; pos < FCD_SESSION_ID_LEN; pos++)
        for (const char *c = alphabet; *c; c++) {
            if (*c == text[pos])
                continue;
            memcpy(t, text, sizeof t);
            t[pos] = *c;
            fcd_session_status_t st = verify_str(&conf, t);
            tried++;
            /* CUnit's asserts are blocks: braces keep the else chain. */
            if (pos < FCD_SESSION_PREFIX_LEN) {
                CU_ASSERT_EQUAL(st, FCD_SESSION_MALFORMED);
            } else if (touches_kid(pos)) {
                CU_ASSERT(st == FCD_SESSION_RETIRED_KEY || st == FCD_SESSION_BAD_SIGNATURE);
            } else {
                CU_ASSERT_EQUAL(st, FCD_SESSION_BAD_SIGNATURE);
            }
        }
    CU_ASSERT(tried > 5000);
}

static void test_tamper_each_bit(void)
{
    char a[65], text[FCD_SESSION_ID_BUF], t[FCD_SESSION_ID_BUF];
    unsigned char p[FCD_SESSION_PAYLOAD_BYTES], q[FCD_SESSION_PAYLOAD_BYTES];
    fcd_session_conf_t conf;

    new_secret(a);
    conf_with(&conf, "demo", a);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, text), FCD_SESSION_OK);
    decode(text, p);
    for (size_t i = 0; i < sizeof p; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(q, p, sizeof q);
            q[i] ^= (unsigned char)(1u << bit);
            encode(q, t);
            fcd_session_status_t st = verify_str(&conf, t);
            /* Bytes 24..27 are the key id: a changed one names no secret.
             * Anything else, the issue time included, breaks the MAC. */
            if (i >= 24 && i < 28) {
                CU_ASSERT_EQUAL(st, FCD_SESSION_RETIRED_KEY);
            } else {
                CU_ASSERT_EQUAL(st, FCD_SESSION_BAD_SIGNATURE);
            }
        }
}

static void test_truncated_and_extended(void)
{
    char a[65], text[FCD_SESSION_ID_BUF], longer[FCD_SESSION_ID_BUF + 1], msg[256];
    fcd_session_conf_t conf;
    fcd_session_t s;

    new_secret(a);
    conf_with(&conf, "demo", a);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, text), FCD_SESSION_OK);
    for (size_t n = 0; n < FCD_SESSION_ID_LEN; n++)
        CU_ASSERT_EQUAL(verify_at(&conf, text, n, T0), FCD_SESSION_MALFORMED);
    CU_ASSERT_EQUAL(fcd_session_verify(&conf, text, 40, T0, &s, msg, sizeof msg),
                    FCD_SESSION_MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "truncated"));
    memcpy(longer, text, FCD_SESSION_ID_LEN);
    longer[FCD_SESSION_ID_LEN] = 'A';
    longer[FCD_SESSION_ID_LEN + 1] = '\0';
    CU_ASSERT_EQUAL(verify_str(&conf, longer), FCD_SESSION_MALFORMED);
    /* A NUL inside: the length given, not strlen, is what is checked. */
    CU_ASSERT_EQUAL(verify_at(&conf, text, FCD_SESSION_ID_BUF, T0), FCD_SESSION_MALFORMED);
}

static void test_made_up(void)
{
    char a[65], text[FCD_SESSION_ID_BUF], t[FCD_SESSION_ID_BUF];
    unsigned char p[FCD_SESSION_PAYLOAD_BYTES], q[FCD_SESSION_PAYLOAD_BYTES];
    fcd_session_conf_t conf;

    new_secret(a);
    conf_with(&conf, "demo", a);
    /* Random bytes of the right shape: a key id that is not ours. */
    for (int i = 0; i < 100; i++) {
        randombytes_buf(q, sizeof q);
        encode(q, t);
        fcd_session_status_t st = verify_str(&conf, t);
        CU_ASSERT(fcd_session_refused(st));
        CU_ASSERT(st == FCD_SESSION_RETIRED_KEY || st == FCD_SESSION_BAD_SIGNATURE);
    }
    /* A forger who copies the key id from an id of their own. */
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, text), FCD_SESSION_OK);
    decode(text, p);
    for (int i = 0; i < 100; i++) {
        randombytes_buf(q, sizeof q);
        memcpy(q + 24, p + 24, 4);
        encode(q, t);
        CU_ASSERT_EQUAL(verify_str(&conf, t), FCD_SESSION_BAD_SIGNATURE);
    }
    /* The same id with the MAC of another: the MAC binds every field. */
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, t), FCD_SESSION_OK);
    decode(t, q);
    memcpy(q + 28, p + 28, 32);
    encode(q, t);
    CU_ASSERT_EQUAL(verify_str(&conf, t), FCD_SESSION_BAD_SIGNATURE);
    memset(t, 'A', FCD_SESSION_ID_LEN);
    memcpy(t, FCD_SESSION_PREFIX, FCD_SESSION_PREFIX_LEN);
    t[FCD_SESSION_ID_LEN] = '\0';
    CU_ASSERT(fcd_session_refused(verify_str(&conf, t)));
}

static void test_other_app(void)
{
    char a[65], text[FCD_SESSION_ID_BUF];
    fcd_session_conf_t one, two;

    new_secret(a);
    conf_with(&one, "one", a);
    conf_with(&two, "two", a);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&one, T0, NULL, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(verify_str(&one, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(verify_str(&two, text), FCD_SESSION_BAD_SIGNATURE);
}

static void test_rotation(void)
{
    char old[65], new[65], list[200], text_old[FCD_SESSION_ID_BUF],
        text_new[FCD_SESSION_ID_BUF], msg[256];
    fcd_session_conf_t before, during, after;
    fcd_session_t s_old, s;

    new_secret(old);
    new_secret(new);
    conf_with(&before, "demo", old);
    snprintf(list, sizeof list, "%s,%s", new, old);
    conf_with(&during, "demo", list);
    conf_with(&after, "demo", new);
    CU_ASSERT_EQUAL(during.ring.count, 2);

    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&before, T0, &s_old, text_old), FCD_SESSION_OK);
    /* Old but still accepted: valid, and says which key signed it. */
    CU_ASSERT_EQUAL(fcd_session_verify(&during, text_old, strlen(text_old), T0, &s, msg,
                                       sizeof msg),
                    FCD_SESSION_OK);
    CU_ASSERT_EQUAL(s.key_index, 1);
    CU_ASSERT_EQUAL(memcmp(s.id, s_old.id, sizeof s.id), 0);
    /* The newest signs. */
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&during, T0, NULL, text_new), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(fcd_session_verify(&during, text_new, strlen(text_new), T0, &s, msg,
                                       sizeof msg),
                    FCD_SESSION_OK);
    CU_ASSERT_EQUAL(s.key_index, 0);
    CU_ASSERT_EQUAL(verify_str(&after, text_new), FCD_SESSION_OK);
    /* Retired: the new list without the old secret. */
    CU_ASSERT_EQUAL(fcd_session_verify(&after, text_old, strlen(text_old), T0, &s, msg,
                                       sizeof msg),
                    FCD_SESSION_RETIRED_KEY);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "not among"));
    CU_ASSERT_EQUAL(verify_str(&before, text_new), FCD_SESSION_RETIRED_KEY);
}

static void test_expiry(void)
{
    char a[65], text[FCD_SESSION_ID_BUF], msg[256];
    fcd_session_conf_t conf;
    fcd_session_t s;

    new_secret(a);
    conf_with(&conf, "demo", a);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(verify_at(&conf, text, strlen(text), T0 + FCD_SESSION_MAX_AGE_DEFAULT),
                    FCD_SESSION_OK);
    CU_ASSERT_EQUAL(fcd_session_verify(&conf, text, strlen(text),
                                       T0 + FCD_SESSION_MAX_AGE_DEFAULT + 1, &s, msg, sizeof msg),
                    FCD_SESSION_EXPIRED);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "max age"));
    /* A refusal leaves nothing behind in *out. */
    static const fcd_session_t zero;
    CU_ASSERT_EQUAL(memcmp(&s, &zero, sizeof s), 0);
    conf.max_age = 60;
    CU_ASSERT_EQUAL(verify_at(&conf, text, strlen(text), T0 + 60), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(verify_at(&conf, text, strlen(text), T0 + 61), FCD_SESSION_EXPIRED);
    CU_ASSERT_EQUAL(verify_at(&conf, text, strlen(text), T0 + 100000000), FCD_SESSION_EXPIRED);
}

static void test_future(void)
{
    char a[65], text[FCD_SESSION_ID_BUF], msg[256];
    fcd_session_conf_t conf;
    fcd_session_t s;

    new_secret(a);
    conf_with(&conf, "demo", a);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0 + FCD_SESSION_SKEW_DEFAULT, NULL, text),
                          FCD_SESSION_OK);
    CU_ASSERT_EQUAL(verify_str(&conf, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0 + FCD_SESSION_SKEW_DEFAULT + 1, NULL, text),
                        FCD_SESSION_OK);
    CU_ASSERT_EQUAL(fcd_session_verify(&conf, text, strlen(text), T0, &s, msg, sizeof msg),
                    FCD_SESSION_NOT_YET_VALID);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "future"));
    CU_ASSERT_EQUAL(verify_at(&conf, text, strlen(text), T0 + 1), FCD_SESSION_OK);
    /* The farthest future an issue field can hold (minted with the
     * largest time), and a clock at 0. */
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, INT64_MAX, NULL, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(verify_at(&conf, text, strlen(text), 0), FCD_SESSION_NOT_YET_VALID);
    CU_ASSERT_EQUAL(verify_at(&conf, text, strlen(text), INT64_MAX), FCD_SESSION_OK);
}

static void test_garbage(void)
{
    static const char bad[] = {'+', '/', '=', ' ', '.', '%', '\n', '\0', '\x7f', '\xff', '"'};
    char a[65], text[FCD_SESSION_ID_BUF], t[FCD_SESSION_ID_BUF], msg[256];
    fcd_session_conf_t conf;
    fcd_session_t s;

    new_secret(a);
    conf_with(&conf, "demo", a);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, text), FCD_SESSION_OK);
    for (size_t pos = FCD_SESSION_PREFIX_LEN; pos < FCD_SESSION_ID_LEN; pos += 7)
        for (size_t i = 0; i < sizeof bad; i++) {
            memcpy(t, text, sizeof t);
            t[pos] = bad[i];
            CU_ASSERT_EQUAL(verify_at(&conf, t, FCD_SESSION_ID_LEN, T0), FCD_SESSION_MALFORMED);
        }
    memcpy(t, text, sizeof t);
    t[50] = '*';
    CU_ASSERT_EQUAL(fcd_session_verify(&conf, t, strlen(t), T0, &s, msg, sizeof msg),
                    FCD_SESSION_MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "alphabet"));
    /* Other version prefixes. */
    memcpy(t, text, sizeof t);
    memcpy(t, "s2.", 3);
    CU_ASSERT_EQUAL(verify_str(&conf, t), FCD_SESSION_MALFORMED);
    memcpy(t, "S1.", 3);
    CU_ASSERT_EQUAL(verify_str(&conf, t), FCD_SESSION_MALFORMED);
    /* Standard base64 instead of base64url spelling the same bytes. */
    memcpy(t, text, sizeof t);
    for (char *p = t + 3; *p; p++)
        *p = *p == '-' ? '+' : *p == '_' ? '/' : *p;
    if (strcmp(t, text) != 0)
        CU_ASSERT_EQUAL(verify_str(&conf, t), FCD_SESSION_MALFORMED);
}

static void test_empty(void)
{
    char a[65], msg[256];
    fcd_session_conf_t conf;
    fcd_session_t s;

    new_secret(a);
    conf_with(&conf, "demo", a);
    CU_ASSERT_EQUAL(fcd_session_verify(&conf, "", 0, T0, &s, msg, sizeof msg),
                    FCD_SESSION_MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "empty"));
    CU_ASSERT_EQUAL(fcd_session_verify(&conf, NULL, 0, T0, &s, msg, sizeof msg),
                    FCD_SESSION_MALFORMED);
    CU_ASSERT_EQUAL(fcd_session_verify(&conf, NULL, 83, T0, &s, NULL, 0),
                    FCD_SESSION_MALFORMED);
    CU_ASSERT_EQUAL(fcd_session_verify(&conf, "", 0, T0, NULL, NULL, 0), FCD_SESSION_MALFORMED);
}

static void test_huge(void)
{
    enum { N = 10 * 1024 };
    static char big[N + 1];
    char a[65], msg[256];
    fcd_session_conf_t conf;
    fcd_session_t s;

    new_secret(a);
    conf_with(&conf, "demo", a);
    memset(big, 'A', N);
    CU_ASSERT_EQUAL(fcd_session_verify(&conf, big, N, T0, &s, msg, sizeof msg),
                    FCD_SESSION_MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "too long"));
    /* A valid id followed by 10 KB is not that id. */
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, big), FCD_SESSION_OK);
    big[FCD_SESSION_ID_LEN] = 'A';
    CU_ASSERT_EQUAL(verify_at(&conf, big, N, T0), FCD_SESSION_MALFORMED);
    /* The message never quotes the client's text. */
    CU_ASSERT_PTR_NULL(strstr(msg, "AAAA"));
}

static void test_misuse(void)
{
    char a[65], text[FCD_SESSION_ID_BUF], err[256];
    fcd_session_conf_t conf, empty;
    fcd_session_t s;

    new_secret(a);
    conf_with(&conf, "demo", a);
    CU_ASSERT_EQUAL(fcd_session_conf_init(&empty, "demo", err, sizeof err), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(fcd_session_mint(&empty, T0, &s, text), FCD_SESSION_ERROR);
    CU_ASSERT_STRING_EQUAL(text, "");
    CU_ASSERT_EQUAL(fcd_session_mint(&conf, -1, NULL, text), FCD_SESSION_ERROR);
    CU_ASSERT_EQUAL(fcd_session_mint(&conf, T0, NULL, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(verify_str(&empty, text), FCD_SESSION_ERROR);
    CU_ASSERT_EQUAL(verify_at(&conf, text, strlen(text), -1), FCD_SESSION_ERROR);
    CU_ASSERT_FALSE(fcd_session_refused(FCD_SESSION_ERROR));
    /* App names. */
    CU_ASSERT_EQUAL(fcd_session_conf_init(&empty, "", err, sizeof err), FCD_SESSION_ERROR);
    CU_ASSERT_EQUAL(fcd_session_conf_init(&empty, NULL, err, sizeof err), FCD_SESSION_ERROR);
    CU_ASSERT_EQUAL(fcd_session_conf_init(&empty, "a:b", err, sizeof err), FCD_SESSION_ERROR);
    CU_ASSERT_EQUAL(fcd_session_conf_init(&empty, "a b", err, sizeof err), FCD_SESSION_ERROR);
    char long_app[FCD_SESSION_APP_MAX + 2];
    memset(long_app, 'x', sizeof long_app - 1);
    long_app[sizeof long_app - 1] = '\0';
    CU_ASSERT_EQUAL(fcd_session_conf_init(&empty, long_app, err, sizeof err),
                    FCD_SESSION_ERROR);
    long_app[FCD_SESSION_APP_MAX] = '\0';
    CU_ASSERT_EQUAL(fcd_session_conf_init(&empty, long_app, err, sizeof err), FCD_SESSION_OK);
}

static void test_codes(void)
{
    static const fcd_session_status_t all[] = {
        FCD_SESSION_OK,      FCD_SESSION_DEVELOPMENT,   FCD_SESSION_MALFORMED,
        FCD_SESSION_BAD_SIGNATURE, FCD_SESSION_EXPIRED, FCD_SESSION_NOT_YET_VALID,
        FCD_SESSION_RETIRED_KEY,   FCD_SESSION_ERROR};
    size_t n = sizeof all / sizeof all[0];

    for (size_t i = 0; i < n; i++) {
        bool refusal = all[i] != FCD_SESSION_OK && all[i] != FCD_SESSION_DEVELOPMENT &&
                       all[i] != FCD_SESSION_ERROR;
        CU_ASSERT_EQUAL(fcd_session_refused(all[i]), refusal);
        CU_ASSERT(strlen(fcd_session_strerror(all[i])) > 0);
        for (size_t j = i + 1; j < n; j++)
            CU_ASSERT_STRING_NOT_EQUAL(fcd_session_code(all[i]), fcd_session_code(all[j]));
    }
    CU_ASSERT_STRING_EQUAL(fcd_session_code(FCD_SESSION_EXPIRED), "session_expired");
}

/* ---- storage keys and log hashes ----------------------------------------------------- */

static bool key_shape(const char *key, const char *app, const char *name)
{
    size_t alen = strlen(app), n = strlen(key);
    if (n > 250 || n > FCD_SESSION_KEY_MAX || strncmp(key, "fcds:", 5) != 0 ||
        strncmp(key + 5, app, alen) != 0 || key[5 + alen] != ':')
        return false;
    const char *h = key + 5 + alen + 1;
    for (int i = 0; i < 64; i++)
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return false;
    if (!name)
        return h[64] == '\0';
    return h[64] == ':' && strcmp(h + 65, name) == 0;
}

static void test_storage_key(void)
{
    char old[65], new[65], list[200], text[FCD_SESSION_ID_BUF], k1[FCD_SESSION_KEY_BUF],
        k2[FCD_SESSION_KEY_BUF], k3[FCD_SESSION_KEY_BUF], msg[256];
    fcd_session_conf_t before, during, other;
    fcd_session_t minted, s, s2;

    new_secret(old);
    new_secret(new);
    conf_with(&before, "demo", old);
    snprintf(list, sizeof list, "%s %s", new, old);
    conf_with(&during, "demo", list);
    conf_with(&other, "other", old);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&before, T0, &minted, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL_FATAL(fcd_session_verify(&before, text, strlen(text), T0, &s, msg,
                                             sizeof msg),
                          FCD_SESSION_OK);
    CU_ASSERT_EQUAL(fcd_session_storage_key(&before, &s, NULL, k1), FCD_SESSION_OK);
    CU_ASSERT(key_shape(k1, "demo", NULL));
    for (const char *p = k1; *p; p++)
        CU_ASSERT(*p > 0x20 && *p < 0x7f);
    /* The same from the minted session, and across a secret rotation. */
    CU_ASSERT_EQUAL(fcd_session_storage_key(&before, &minted, NULL, k2), FCD_SESSION_OK);
    CU_ASSERT_STRING_EQUAL(k1, k2);
    CU_ASSERT_EQUAL_FATAL(fcd_session_verify(&during, text, strlen(text), T0, &s2, msg,
                                             sizeof msg),
                          FCD_SESSION_OK);
    CU_ASSERT_EQUAL(fcd_session_storage_key(&during, &s2, NULL, k2), FCD_SESSION_OK);
    CU_ASSERT_STRING_EQUAL(k1, k2);
    /* The hash is not the id, nor any of its text. */
    char idhex[2 * FCD_SESSION_RANDOM_BYTES + 1];
    sodium_bin2hex(idhex, sizeof idhex, s.id, sizeof s.id);
    CU_ASSERT_PTR_NULL(strstr(k1, idhex));
    CU_ASSERT_PTR_NULL(strstr(k1, text + FCD_SESSION_PREFIX_LEN + 10));
    /* Named values, other apps, other sessions. */
    CU_ASSERT_EQUAL(fcd_session_storage_key(&before, &s, "data", k2), FCD_SESSION_OK);
    CU_ASSERT(key_shape(k2, "demo", "data"));
    CU_ASSERT_EQUAL(strncmp(k1, k2, strlen(k1)), 0);
    CU_ASSERT_EQUAL(fcd_session_storage_key(&other, &s, NULL, k3), FCD_SESSION_OK);
    CU_ASSERT(key_shape(k3, "other", NULL));
    CU_ASSERT_NOT_EQUAL(strcmp(k1 + 10, k3 + 11), 0);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&before, T0, &s2, text), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(fcd_session_storage_key(&before, &s2, NULL, k3), FCD_SESSION_OK);
    CU_ASSERT_STRING_NOT_EQUAL(k1, k3);
    /* The longest key fits memcached. */
    char app[FCD_SESSION_APP_MAX + 1], name[FCD_SESSION_NAME_MAX + 1];
    fcd_session_conf_t big;
    memset(app, 'a', FCD_SESSION_APP_MAX);
    app[FCD_SESSION_APP_MAX] = '\0';
    memset(name, 'n', FCD_SESSION_NAME_MAX);
    name[FCD_SESSION_NAME_MAX] = '\0';
    conf_with(&big, app, old);
    CU_ASSERT_EQUAL(fcd_session_storage_key(&big, &s, name, k3), FCD_SESSION_OK);
    CU_ASSERT(key_shape(k3, app, name));
    CU_ASSERT_EQUAL(strlen(k3), FCD_SESSION_KEY_MAX);
    CU_ASSERT(strlen(k3) <= 250);
    /* Names that could leave the namespace or break a backend. */
    static const char *const bad[] = {"", "a:b", "a b", "a\nb", "../x", "\xc3\xa9", "a/b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CU_ASSERT_EQUAL(fcd_session_storage_key(&before, &s, bad[i], k3), FCD_SESSION_ERROR);
        CU_ASSERT_STRING_EQUAL(k3, "");
    }
    name[FCD_SESSION_NAME_MAX - 1] = 'n';
    char too_long[FCD_SESSION_NAME_MAX + 2];
    memset(too_long, 'n', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    CU_ASSERT_EQUAL(fcd_session_storage_key(&before, &s, too_long, k3), FCD_SESSION_ERROR);
}

static bool hex16(const char *h)
{
    if (strlen(h) != FCD_SESSION_LOG_HASH_LEN)
        return false;
    for (const char *p = h; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static void test_log_hash(void)
{
    char a[65], b[65], list[200], t1[FCD_SESSION_ID_BUF], t2[FCD_SESSION_ID_BUF];
    char h1[FCD_SESSION_LOG_HASH_BUF], h2[FCD_SESSION_LOG_HASH_BUF];
    fcd_session_conf_t conf, rotated, empty;
    char err[256];

    new_secret(a);
    new_secret(b);
    conf_with(&conf, "demo", a);
    snprintf(list, sizeof list, "%s,%s", b, a);
    conf_with(&rotated, "demo", list);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, t1), FCD_SESSION_OK);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, t2), FCD_SESSION_OK);
    CU_ASSERT_PTR_EQUAL(fcd_session_log_hash(&conf, t1, strlen(t1), h1), h1);
    CU_ASSERT(hex16(h1));
    CU_ASSERT_PTR_NULL(strstr(t1, h1));
    fcd_session_log_hash(&conf, t1, strlen(t1), h2);
    CU_ASSERT_STRING_EQUAL(h1, h2);
    fcd_session_log_hash(&conf, t2, strlen(t2), h2);
    CU_ASSERT_STRING_NOT_EQUAL(h1, h2);
    /* Keyed: another newest secret, another hash. */
    fcd_session_log_hash(&rotated, t1, strlen(t1), h2);
    CU_ASSERT(hex16(h2));
    CU_ASSERT_STRING_NOT_EQUAL(h1, h2);
    /* Any text a client sends, the empty one and a big one included. */
    static char big[10 * 1024];
    memset(big, '\xff', sizeof big);
    CU_ASSERT(hex16(fcd_session_log_hash(&conf, big, sizeof big, h2)));
    CU_ASSERT(hex16(fcd_session_log_hash(&conf, "", 0, h2)));
    CU_ASSERT(hex16(fcd_session_log_hash(&conf, NULL, 0, h2)));
    CU_ASSERT_EQUAL(fcd_session_conf_init(&empty, "demo", err, sizeof err), FCD_SESSION_OK);
    CU_ASSERT_STRING_EQUAL(fcd_session_log_hash(&empty, t1, strlen(t1), h2),
                           "????????????????");
}

/* ---- secrets -------------------------------------------------------------------------- */

static fcd_secret_status_t parse(fcd_secret_ring_t *ring, const char *text, char *err,
                                 size_t errlen)
{
    return fcd_secret_parse(ring, text, strlen(text), false, "FCDASH_SECRET", err, errlen);
}

static void test_secret_formats(void)
{
    unsigned char raw[40];
    char hex[81], b64[80], b64np[80], url[80], text[400], err[512];
    fcd_secret_ring_t ring, other;

    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    sodium_bin2base64(b64, sizeof b64, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    sodium_bin2base64(b64np, sizeof b64np, raw, sizeof raw,
                      sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
    sodium_bin2base64(url, sizeof url, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE);

    /* Every spelling of the same bytes gives the same keys. */
    CU_ASSERT_EQUAL_FATAL(parse(&ring, hex, err, sizeof err), FCD_SECRET_OK);
    CU_ASSERT_EQUAL(ring.count, 1);
    CU_ASSERT_STRING_EQUAL(ring.origin, "FCDASH_SECRET");
    CU_ASSERT_FALSE(ring.development);
    const char *spellings[] = {b64, b64np, url};
    for (size_t i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL_FATAL(parse(&other, spellings[i], err, sizeof err), FCD_SECRET_OK);
        CU_ASSERT_EQUAL(memcmp(&other.keys[0], &ring.keys[0], sizeof ring.keys[0]), 0);
    }
    for (char *p = hex; *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    CU_ASSERT_EQUAL_FATAL(parse(&other, hex, err, sizeof err), FCD_SECRET_OK);
    CU_ASSERT_EQUAL(memcmp(&other.keys[0], &ring.keys[0], sizeof ring.keys[0]), 0);
    /* ...so the same secret twice, however spelt, is refused. */
    snprintf(text, sizeof text, "%s,%s", hex, b64);
    CU_ASSERT_EQUAL(parse(&other, text, err, sizeof err), FCD_SECRET_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "repeats"));
    CU_ASSERT_EQUAL(other.count, 0);

    /* Separators: commas, white space, both. */
    char s1[65], s2[65], s3[65];
    new_secret(s1);
    new_secret(s2);
    new_secret(s3);
    snprintf(text, sizeof text, " %s ,\n%s\t,%s,\n", s1, s2, s3);
    CU_ASSERT_EQUAL(parse(&ring, text, err, sizeof err), FCD_SECRET_OK);
    CU_ASSERT_EQUAL(ring.count, 3);
    CU_ASSERT_EQUAL(parse(&other, s1, err, sizeof err), FCD_SECRET_OK);
    CU_ASSERT_EQUAL(memcmp(&other.keys[0], &ring.keys[0], sizeof ring.keys[0]), 0);
    CU_ASSERT_EQUAL(parse(&other, s3, err, sizeof err), FCD_SECRET_OK);
    CU_ASSERT_EQUAL(memcmp(&other.keys[0], &ring.keys[2], sizeof ring.keys[0]), 0);
    /* Key ids differ between secrets. */
    CU_ASSERT_NOT_EQUAL(memcmp(ring.keys[0].kid, ring.keys[1].kid, FCD_SECRET_KID_BYTES), 0);
    CU_ASSERT_NOT_EQUAL(memcmp(ring.keys[0].mac, ring.keys[0].log, FCD_SECRET_KEY_BYTES), 0);
}

static void test_secret_refusals(void)
{
    char text[4096], err[512], s[65];
    fcd_secret_ring_t ring;
    unsigned char raw[FCD_SECRET_MAX + 1];

    new_secret(s);
    struct {
        const char *text, *why;
    } cases[] = {
        {"", "no secret"},
        {" , ,\n", "no secret"},
        {"00112233445566778899aabbccddeeff00112233445566778899aabbccddee", "at least 32"},
        {"0011223344556677889", "odd number"},
        {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "placeholder"},
        {"0000000000000000000000000000000000000000000000000000000000000000", "placeholder"},
        {"changeme", "at least 32"}, /* base64 for 6 bytes */
        {"not a secret at all!", "neither hex nor base64"},
        {"ab+cd/ef-gh_ijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRS", "mixes"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(parse(&ring, cases[i].text, err, sizeof err), FCD_SECRET_ERROR);
        CU_ASSERT_EQUAL(ring.count, 0);
        if (!strstr(err, cases[i].why))
            fprintf(stderr, "\ncase %zu: %s\n", i, err);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, cases[i].why));
    }
    /* A bad secret after good ones: all refused, by position, and the
     * message does not quote a secret. */
    snprintf(text, sizeof text, "%s,deadbeef", s);
    CU_ASSERT_EQUAL(parse(&ring, text, err, sizeof err), FCD_SECRET_ERROR);
    CU_ASSERT_EQUAL(ring.count, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "secret 2 of FCDASH_SECRET"));
    CU_ASSERT_PTR_NULL(strstr(err, "deadbeef"));
    CU_ASSERT_PTR_NULL(strstr(err, s));
    /* Too many. */
    text[0] = '\0';
    for (int i = 0; i <= FCD_SECRET_RING_MAX; i++) {
        new_secret(s);
        strcat(text, s);
        strcat(text, ",");
    }
    CU_ASSERT_EQUAL(parse(&ring, text, err, sizeof err), FCD_SECRET_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than"));
    /* Exactly the most is fine. */
    *strrchr(text, ',') = '\0';
    *(strrchr(text, ',') + 1) = '\0';
    CU_ASSERT_EQUAL(parse(&ring, text, err, sizeof err), FCD_SECRET_OK);
    CU_ASSERT_EQUAL(ring.count, FCD_SECRET_RING_MAX);
    /* Too long. */
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(text, sizeof text, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    CU_ASSERT_EQUAL(parse(&ring, text, err, sizeof err), FCD_SECRET_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "at most"));
    sodium_bin2base64(text, sizeof text, raw, FCD_SECRET_MAX, sodium_base64_VARIANT_ORIGINAL);
    CU_ASSERT_EQUAL(parse(&ring, text, err, sizeof err), FCD_SECRET_OK);
    memset(text, 'a', 1000);
    text[1000] = '\0';
    CU_ASSERT_EQUAL(parse(&ring, text, err, sizeof err), FCD_SECRET_ERROR);
}

static void test_secret_env(void)
{
    char s1[65], s2[65], text[200], msg[512];
    fcd_session_conf_t conf;

    new_secret(s1);
    new_secret(s2);
    snprintf(text, sizeof text, "%s, %s", s1, s2);
    setenv(FCD_SECRET_ENV, text, 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_OK);
    CU_ASSERT_EQUAL(conf.ring.count, 2);
    CU_ASSERT_EQUAL(conf.max_age, FCD_SESSION_MAX_AGE_DEFAULT);
    CU_ASSERT_EQUAL(conf.skew, FCD_SESSION_SKEW_DEFAULT);
    setenv(FCD_SECRET_MODE_ENV, "production", 1);
    setenv(FCD_SESSION_MAX_AGE_ENV, "3600", 1);
    setenv(FCD_SESSION_SKEW_ENV, "0", 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_OK);
    CU_ASSERT_EQUAL(conf.max_age, 3600);
    CU_ASSERT_EQUAL(conf.skew, 0);
    /* Ids signed under the env's secrets verify under the same list. */
    char id[FCD_SESSION_ID_BUF];
    fcd_session_conf_t same;
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&conf, T0, NULL, id), FCD_SESSION_OK);
    conf_with(&same, "demo", text);
    same.skew = 0;
    CU_ASSERT_EQUAL(verify_str(&same, id), FCD_SESSION_OK);

    static const char *const bad_ages[] = {"abc", "59", "2592001", "-5", "1e3", " 60",
                                           "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad_ages / sizeof bad_ages[0]; i++) {
        setenv(FCD_SESSION_MAX_AGE_ENV, bad_ages[i], 1);
        CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                        FCD_SESSION_ERROR);
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, FCD_SESSION_MAX_AGE_ENV));
        CU_ASSERT_EQUAL(conf.ring.count, 0);
    }
    unsetenv(FCD_SESSION_MAX_AGE_ENV);
    setenv(FCD_SESSION_SKEW_ENV, "3601", 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    unsetenv(FCD_SESSION_SKEW_ENV);

    setenv(FCD_SECRET_MODE_ENV, "prod", 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "FCDASH_ENV"));
    setenv(FCD_SECRET_MODE_ENV, "development", 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_OK);
    /* Both sources at once: ambiguous. */
    setenv(FCD_SECRET_FILE_ENV, "/nonexistent", 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "both"));
    /* A bad secret refuses the start, and the message hides it. */
    unsetenv(FCD_SECRET_FILE_ENV);
    setenv(FCD_SECRET_ENV, "too-short-secret", 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NULL(strstr(msg, "too-short-secret"));
    CU_ASSERT_EQUAL(conf.ring.count, 0);
}

static void test_secret_file(void)
{
    char s1[65], s2[65], text[400], path[320], link_path[320], msg[512];
    fcd_session_conf_t conf;
    fcd_secret_ring_t ring;

    new_secret(s1);
    new_secret(s2);
    snprintf(path, sizeof path, "%s/secrets", tmpdir);
    snprintf(text, sizeof text, "# newest first\r\n%s\r\n\n   # retiring on Monday\n  %s  \n",
             s1, s2);
    write_file(path, text, 0600);
    setenv(FCD_SECRET_FILE_ENV, path, 1);
    setenv(FCD_SECRET_MODE_ENV, "production", 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_OK);
    CU_ASSERT_EQUAL(conf.ring.count, 2);
    CU_ASSERT_STRING_EQUAL(conf.ring.origin, path);
    CU_ASSERT_EQUAL(fcd_secret_parse(&ring, s1, strlen(s1), false, "x", msg, sizeof msg),
                    FCD_SECRET_OK);
    CU_ASSERT_EQUAL(memcmp(&ring.keys[0], &conf.ring.keys[0], sizeof ring.keys[0]), 0);

    /* Permissions: the owner and a read-only group may read it. */
    static const struct {
        mode_t mode;
        fcd_session_status_t st;
    } modes[] = {{0400, FCD_SESSION_OK},    {0640, FCD_SESSION_OK},
                 {0440, FCD_SESSION_OK},    {0644, FCD_SESSION_ERROR},
                 {0604, FCD_SESSION_ERROR}, {0660, FCD_SESSION_ERROR},
                 {0602, FCD_SESSION_ERROR}, {0666, FCD_SESSION_ERROR}};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        CU_ASSERT_EQUAL(chmod(path, modes[i].mode), 0);
        CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                        modes[i].st);
        if (modes[i].st == FCD_SESSION_ERROR)
            CU_ASSERT_PTR_NOT_NULL(strstr(msg, "chmod"));
    }
    chmod(path, 0600);
    /* A symbolic link to a private file is followed (orchestrators mount
     * secrets that way). */
    snprintf(link_path, sizeof link_path, "%s/secrets-link", tmpdir);
    CU_ASSERT_EQUAL(symlink(path, link_path), 0);
    setenv(FCD_SECRET_FILE_ENV, link_path, 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_OK);
    /* Not a file, missing, empty, too large, a bad line. */
    setenv(FCD_SECRET_FILE_ENV, tmpdir, 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    snprintf(link_path, sizeof link_path, "%s/missing", tmpdir);
    setenv(FCD_SECRET_FILE_ENV, link_path, 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "No such file"));
    setenv(FCD_SECRET_FILE_ENV, path, 1);
    write_file(path, "# nothing yet\n\n", 0600);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "no secret"));
    static char huge[FCD_SECRET_FILE_MAX + 100];
    memset(huge, '#', sizeof huge - 1);
    write_file(path, huge, 0600);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "larger"));
    /* Secrets with spaces inside a line are one bad token, not two. */
    snprintf(text, sizeof text, "%s %s\n", s1, s2);
    write_file(path, text, 0600);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NULL(strstr(msg, s1));
}

static void test_production_refuses(void)
{
    char msg[512], id[FCD_SESSION_ID_BUF];
    fcd_session_conf_t conf;

    setenv(FCD_SECRET_MODE_ENV, "production", 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "production"));
    CU_ASSERT_EQUAL(conf.ring.count, 0);
    CU_ASSERT_EQUAL(fcd_session_mint(&conf, T0, NULL, id), FCD_SESSION_ERROR);
    /* Empty variables count as unset. */
    setenv(FCD_SECRET_ENV, "", 1);
    setenv(FCD_SECRET_FILE_ENV, "", 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", tmpdir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    /* No development secret was left behind. */
    char path[320];
    snprintf(path, sizeof path, "%s/%s", tmpdir, FCD_SECRET_DEV_FILE);
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
}

static void test_dev_secret(void)
{
    char msg[512], dir[300], path[340], id[FCD_SESSION_ID_BUF];
    fcd_session_conf_t one, two;
    struct stat sb;

    snprintf(dir, sizeof dir, "%s/run/fcdash", tmpdir);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&one, "demo", dir, msg, sizeof msg),
                    FCD_SESSION_DEVELOPMENT);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "INSECURE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, dir));
    CU_ASSERT_TRUE(one.ring.development);
    CU_ASSERT_EQUAL(one.ring.count, 1);
    snprintf(path, sizeof path, "%s/%s", dir, FCD_SECRET_DEV_FILE);
    CU_ASSERT_EQUAL_FATAL(stat(path, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0600);
    CU_ASSERT_EQUAL(sb.st_size, 65);
    CU_ASSERT_EQUAL_FATAL(stat(dir, &sb), 0);
    CU_ASSERT_EQUAL(sb.st_mode & 0777, 0700);
    /* The next worker reads the same secret. */
    CU_ASSERT_EQUAL(fcd_session_conf_load(&two, "demo", dir, msg, sizeof msg),
                    FCD_SESSION_DEVELOPMENT);
    CU_ASSERT_EQUAL(memcmp(&one.ring.keys[0], &two.ring.keys[0], sizeof one.ring.keys[0]), 0);
    CU_ASSERT_EQUAL_FATAL(fcd_session_mint(&one, T0, NULL, id), FCD_SESSION_OK);
    CU_ASSERT_EQUAL(verify_str(&two, id), FCD_SESSION_OK);
    /* No temporary file is left behind. */
    int entries = 0;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        entries += e->d_name[0] != '.' || strncmp(e->d_name, ".session", 8) == 0;
    if (d)
        closedir(d);
    CU_ASSERT_EQUAL(entries, 1);

    /* A configured secret wins; the development one is not used. */
    char s[65];
    new_secret(s);
    setenv(FCD_SECRET_ENV, s, 1);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&two, "demo", dir, msg, sizeof msg), FCD_SESSION_OK);
    CU_ASSERT_FALSE(two.ring.development);
    CU_ASSERT_EQUAL(verify_str(&two, id), FCD_SESSION_RETIRED_KEY);
    unsetenv(FCD_SECRET_ENV);

    /* Anything someone else could have planted or read is refused. */
    CU_ASSERT_EQUAL(chmod(path, 0644), 0);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&two, "demo", dir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "private"));
    CU_ASSERT_EQUAL(chmod(path, 0600), 0);
    if (geteuid() == 0) {
        CU_ASSERT_EQUAL(chown(path, 4321, 4321), 0);
        CU_ASSERT_EQUAL(fcd_session_conf_load(&two, "demo", dir, msg, sizeof msg),
                        FCD_SESSION_ERROR);
        CU_ASSERT_EQUAL(chown(path, 0, 0), 0);
        CU_ASSERT_EQUAL(chown(dir, 4321, 4321), 0);
        CU_ASSERT_EQUAL(fcd_session_conf_load(&two, "demo", dir, msg, sizeof msg),
                        FCD_SESSION_ERROR);
        CU_ASSERT_PTR_NOT_NULL(strstr(msg, "another user"));
        CU_ASSERT_EQUAL(chown(dir, 0, 0), 0);
    }
    CU_ASSERT_EQUAL(chmod(dir, 0777), 0);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&two, "demo", dir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "writable by others"));
    CU_ASSERT_EQUAL(chmod(dir, 0700), 0);
    char link_dir[340];
    snprintf(link_dir, sizeof link_dir, "%s/linked", tmpdir);
    CU_ASSERT_EQUAL(symlink(dir, link_dir), 0);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&two, "demo", link_dir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_PTR_NOT_NULL(strstr(msg, "symbolic link"));
    /* A damaged file is reported, not silently replaced. */
    write_file(path, "not hex\n", 0600);
    CU_ASSERT_EQUAL(fcd_session_conf_load(&two, "demo", dir, msg, sizeof msg),
                    FCD_SESSION_ERROR);
    CU_ASSERT_EQUAL(unlink(path), 0);
    /* Removed: a new one is made, and the old ids are refused. */
    CU_ASSERT_EQUAL(fcd_session_conf_load(&two, "demo", dir, msg, sizeof msg),
                    FCD_SESSION_DEVELOPMENT);
    CU_ASSERT_EQUAL(verify_str(&two, id), FCD_SESSION_RETIRED_KEY);
}

/* Workers started at once from the same place race to make the
 * development secret; all must end up with the same one. */
static void test_dev_secret_forked(void)
{
    enum { WORKERS = 4, ROUNDS = 5 };

    for (int round = 0; round < ROUNDS; round++) {
        char dir[300], msg[512];
        int go[2], ids[2];
        pid_t pids[WORKERS];

        snprintf(dir, sizeof dir, "%s/race%d", tmpdir, round);
        CU_ASSERT_EQUAL_FATAL(pipe(go), 0);
        CU_ASSERT_EQUAL_FATAL(pipe(ids), 0);
        for (int w = 0; w < WORKERS; w++) {
            pids[w] = fork();
            CU_ASSERT_FATAL(pids[w] >= 0);
            if (pids[w] == 0) {
                fcd_session_conf_t conf;
                char id[FCD_SESSION_ID_BUF], c;
                close(go[1]);
                close(ids[0]);
                /* Wait until the parent lets every worker go at once. */
                if (read(go[0], &c, 1) < 0)
                    _exit(2);
                if (fcd_session_conf_load(&conf, "demo", dir, msg, sizeof msg) !=
                        FCD_SESSION_DEVELOPMENT ||
                    fcd_session_mint(&conf, T0, NULL, id) != FCD_SESSION_OK)
                    _exit(1);
                /* One id per write, under PIPE_BUF: atomic. */
                _exit(write(ids[1], id, FCD_SESSION_ID_LEN) == FCD_SESSION_ID_LEN ? 0 : 3);
            }
        }
        close(go[0]);
        close(ids[1]);
        close(go[1]); /* go */
        for (int w = 0; w < WORKERS; w++) {
            int status;
            CU_ASSERT_EQUAL(waitpid(pids[w], &status, 0), pids[w]);
            CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        fcd_session_conf_t conf;
        CU_ASSERT_EQUAL_FATAL(fcd_session_conf_load(&conf, "demo", dir, msg, sizeof msg),
                              FCD_SESSION_DEVELOPMENT);
        char id[FCD_SESSION_ID_BUF];
        int got = 0;
        while (read(ids[0], id, FCD_SESSION_ID_LEN) == FCD_SESSION_ID_LEN) {
            id[FCD_SESSION_ID_LEN] = '\0';
            CU_ASSERT_EQUAL(verify_str(&conf, id), FCD_SESSION_OK);
            got++;
        }
        close(ids[0]);
        CU_ASSERT_EQUAL(got, WORKERS);
    }
}

static void test_dev_dir_default(void)
{
    char buf[FCD_SECRET_ORIGIN_MAX], want[64], tiny[4];

    CU_ASSERT_EQUAL(fcd_secret_dev_dir(buf, sizeof buf), FCD_SECRET_OK);
    snprintf(want, sizeof want, "/tmp/fcdash-%lu", (unsigned long)geteuid());
    CU_ASSERT_STRING_EQUAL(buf, want);
    setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
    CU_ASSERT_EQUAL(fcd_secret_dev_dir(buf, sizeof buf), FCD_SECRET_OK);
    CU_ASSERT_STRING_EQUAL(buf, "/run/user/1000/fcdash");
    setenv("XDG_RUNTIME_DIR", "relative", 1);
    CU_ASSERT_EQUAL(fcd_secret_dev_dir(buf, sizeof buf), FCD_SECRET_OK);
    CU_ASSERT_STRING_EQUAL(buf, want);
    CU_ASSERT_EQUAL(fcd_secret_dev_dir(tiny, sizeof tiny), FCD_SECRET_ERROR);
    /* The default is used when the caller names no directory. */
    setenv("XDG_RUNTIME_DIR", tmpdir, 1);
    char msg[512];
    fcd_session_conf_t conf;
    CU_ASSERT_EQUAL(fcd_session_conf_load(&conf, "demo", NULL, msg, sizeof msg),
                    FCD_SESSION_DEVELOPMENT);
    snprintf(buf, sizeof buf, "%s/fcdash/%s", tmpdir, FCD_SECRET_DEV_FILE);
    CU_ASSERT_STRING_EQUAL(conf.ring.origin, buf);
}

/* ---- main ------------------------------------------------------------------------------ */

int main(void)
{
    static const struct {
        const char *name;
        CU_TestFunc fn;
    } tests[] = {
        {"round trip", test_round_trip},
        {"two ids differ", test_ids_differ},
        {"a changed character anywhere is refused", test_tamper_each_character},
        {"a flipped bit anywhere is refused", test_tamper_each_bit},
        {"truncated and extended", test_truncated_and_extended},
        {"made-up ids of the right shape", test_made_up},
        {"an id of another app", test_other_app},
        {"rotation: old accepted, retired refused", test_rotation},
        {"expired (injected clock)", test_expiry},
        {"issued in the future", test_future},
        {"garbage alphabet and prefixes", test_garbage},
        {"empty", test_empty},
        {"10 KB string", test_huge},
        {"misuse", test_misuse},
        {"status codes", test_codes},
        {"storage key shape and namespace", test_storage_key},
        {"log hash shape", test_log_hash},
        {"secret spellings and separators", test_secret_formats},
        {"secret refusals", test_secret_refusals},
        {"secrets and settings from the environment", test_secret_env},
        {"secrets file", test_secret_file},
        {"production refuses without a secret", test_production_refuses},
        {"development secret", test_dev_secret},
        {"development secret shared by forked workers", test_dev_secret_forked},
        {"development secret's default directory", test_dev_dir_default},
    };

    if (sodium_init() < 0 || CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        /* One suite per test, so each starts from a clean environment and
         * an empty directory of its own. */
        CU_pSuite s = CU_add_suite(tests[i].name, setup, teardown);
        if (!s || !CU_add_test(s, tests[i].name, tests[i].fn)) {
            CU_cleanup_registry();
            return 1;
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
    CU_cleanup_registry();
    return failures ? 1 : 0;
}
