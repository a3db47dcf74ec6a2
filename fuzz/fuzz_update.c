/*
 * fuzz_update.c - a client's update-component body into dispatch:
 * POST /u/_dash-update-component, application/json, the bytes as the body.
 */
#include "fuzz/fuzz_app.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    fuzz_exchange("POST", "/u/_dash-update-component", "", "application/json",
                  (const char *)data, size, NULL);
    return 0;
}
