/*
 * trivial_responder.c - the transport limit for bench/run.py.
 *
 * A FastCGI responder that does as little as libfcgi allows: accept a
 * request, read and drop its body (nginx has sent it, so the cost of
 * receiving it is part of the transport), and answer 200 with a fixed JSON
 * body of BENCH_BODY_BYTES bytes (default 19000).  The bench starts it with
 * the size of the fcdash answer it is compared with, in the same kind of
 * spawn-fcgi pool behind the same nginx, so the difference between the two
 * is what fcdash itself costs: parsing, dispatch, the cache and encoding.
 *
 * It listens on fd 0, as spawn-fcgi hands it over, and stops on SIGTERM.
 */
#include <fcgiapp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    const char *env = getenv("BENCH_BODY_BYTES");
    long size = env != NULL ? strtol(env, NULL, 10) : 19000;
    if (size < 16 || size > 64L * 1024 * 1024)
        size = 19000;

    /* {"pad":"xxxx...x"} of exactly `size` bytes: valid JSON, so a client
     * that parses the answer gets no error either. */
    char *body = malloc((size_t)size);
    if (body == NULL)
        return 1;
    memset(body, 'x', (size_t)size);
    memcpy(body, "{\"pad\":\"", 8);
    memcpy(body + size - 2, "\"}", 2);

    char header[128];
    int hlen = snprintf(header, sizeof header,
                        "Status: 200 OK\r\nContent-Type: application/json\r\n"
                        "Content-Length: %ld\r\n\r\n",
                        size);

    if (FCGX_Init() != 0)
        return 1;
    FCGX_Request req;
    if (FCGX_InitRequest(&req, 0, 0) != 0)
        return 1;
    char scratch[16384];
    while (FCGX_Accept_r(&req) >= 0) {
        while (FCGX_GetStr(scratch, sizeof scratch, req.in) > 0)
            ;
        FCGX_PutStr(header, hlen, req.out);
        FCGX_PutStr(body, (int)size, req.out);
        FCGX_Finish_r(&req);
    }
    free(body);
    return 0;
}
