/*
 * fuzz_params.c - what the FastCGI params carry into the router: method,
 * path, query and content type, plus extra params, then a body.
 *
 * Input: fields separated by NUL bytes, in the order method, path, query,
 * content type, body; any further NUL-separated fields before the body
 * become params ("NAME=value" strings, as libfcgi's envp holds them).  A
 * field missing from a short input is "".
 */
#include "fuzz/fuzz_app.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

#define FIELDS 4
#define PARAMS_MAX 8

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    /* A private copy with room for a final NUL, so every field is a C
     * string however the input ends. */
    char *copy = malloc(size + 1);
    if (copy == NULL)
        return 0;
    memcpy(copy, data, size);
    copy[size] = '\0';

    const char *field[FIELDS] = {"", "", "", ""};
    char *params[PARAMS_MAX + 1] = {NULL};
    size_t pos = 0, nparams = 0;
    for (size_t i = 0; i < FIELDS && pos <= size; i++) {
        field[i] = copy + pos;
        pos += strlen(copy + pos) + 1;
    }
    /* Params: fields containing '=' right after the four; the rest is
     * the body. */
    while (pos < size && nparams < PARAMS_MAX && strchr(copy + pos, '=') != NULL &&
           copy[pos] != '{') {
        params[nparams++] = copy + pos;
        pos += strlen(copy + pos) + 1;
    }
    const char *body = pos < size ? copy + pos : "";
    size_t body_len = pos < size ? size - pos : 0;
    fuzz_exchange(field[0], field[1], field[2], field[3], body, body_len, params);
    free(copy);
    return 0;
}
