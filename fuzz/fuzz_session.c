/*
 * fuzz_session.c - session-id verification (fcd_session_verify) on any
 * bytes a client sends as the session Store's data.  An id the fuzzer
 * makes up must never verify: only fcd_session_mint's output carries a
 * valid MAC, and the fuzzer has no key.  A minted id is also fed with the
 * input spliced into it, so the decoder runs past the length check.
 */
#include <stdlib.h>
#include <string.h>

#include "cache/secret.h"
#include "cache/session.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

static fcd_session_conf_t conf;
static char minted[FCD_SESSION_ID_BUF];
static const int64_t now = 1764000000;

static void setup(void)
{
    static int done;
    char err[300];
    const char *secret = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    if (done)
        return;
    done = 1;
    if (fcd_session_conf_init(&conf, "fuzz", err, sizeof err) != FCD_SESSION_OK ||
        fcd_secret_parse(&conf.ring, secret, strlen(secret), false, "fuzz", err, sizeof err) !=
            FCD_SECRET_OK ||
        fcd_session_mint(&conf, now, NULL, minted) != FCD_SESSION_OK)
        abort();
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    fcd_session_t s;
    char msg[300];
    setup();
    fcd_session_status_t st =
        fcd_session_verify(&conf, (const char *)data, size, now, &s, msg, sizeof msg);
    if (st == FCD_SESSION_OK && (size != FCD_SESSION_ID_LEN || memcmp(data, minted, size) != 0))
        abort(); /* a forgery verified */
    if (st != FCD_SESSION_OK && !fcd_session_refused(st))
        abort(); /* with a secret and a valid clock, never ERROR */

    /* The minted id with the input written over part of it. */
    if (size >= 1) {
        char id[FCD_SESSION_ID_BUF];
        memcpy(id, minted, sizeof id);
        size_t at = data[0] % FCD_SESSION_ID_LEN, n = size - 1;
        if (n > FCD_SESSION_ID_LEN - at)
            n = FCD_SESSION_ID_LEN - at;
        memcpy(id + at, data + 1, n);
        st = fcd_session_verify(&conf, id, FCD_SESSION_ID_LEN, now, &s, msg, sizeof msg);
        if (st == FCD_SESSION_OK && memcmp(id, minted, FCD_SESSION_ID_LEN) != 0)
            abort();
    }
    return 0;
}
