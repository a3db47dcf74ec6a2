/*
 * test_request_oom.c - out of memory on the request path (issue 8, item
 * 3): parsing an update-component body, checking it against the callback,
 * calling the callback, building the answer (handlers/update.c,
 * handlers/callback.c, base/json.c, base/arena.c and what they use).
 *
 * The dispatcher runs in process, as the FastCGI runtime calls it, on the
 * captured request bodies of ../shared/dash-protocol-captures (the a- to
 * i- captures: every callback shape the renderer sends) and on a few bad
 * ones, against fuzz/fuzz_app.h's app (the captures' callbacks).  Each
 * body is sent once as it is, for the reference answer, then again with
 * the 1st, 2nd, ... allocation failing (tests/unit/chaos.h), until a run
 * makes fewer allocations than the one armed.  Every failing run must
 * answer either exactly the reference or a clean error: a status of 500
 * with a JSON body {"message": ..., "status": 500}; nothing may crash.
 * json-c's constructors fail too, where our code calls them
 * (tests/unit/chaos_json.c).  Run
 * under --enable-sanitizers, LeakSanitizer checks that nothing leaks on any
 * of those paths.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_app.h"
#include "handlers/callback.h"
#include "tests/unit/chaos.h"

/* The captured test app's no-output callback key; ours is our own hash. */
#define CAPTURED_NO_OUTPUT_KEY "9f2c0d4e1b7a"
#define MAX_BODIES 64

typedef struct answer {
    int status;
    char *body; /* malloc'd copy, or NULL */
    bool fired; /* the armed allocation failure happened */
} answer_t;

static char *bodies[MAX_BODIES];
static char *names[MAX_BODIES];
static size_t n_bodies;

static void add_body(const char *name, const char *text)
{
    if (n_bodies < MAX_BODIES) {
        names[n_bodies] = strdup(name);
        bodies[n_bodies++] = strdup(text);
    }
}

/* The captures beside the source tree, as tests/lib/harness.py finds them. */
static DIR *open_captures(char *dir, size_t size)
{
    const char *shared = getenv("FCDASH_SHARED");
    const char *cands[] = {shared, TEST_SRCDIR "/../shared", TEST_SRCDIR "/../../shared"};
    for (size_t i = 0; i < sizeof cands / sizeof cands[0]; i++) {
        if (cands[i] == NULL)
            continue;
        snprintf(dir, size, "%s/dash-protocol-captures", cands[i]);
        DIR *d = opendir(dir);
        if (d != NULL)
            return d;
    }
    return NULL;
}

/* Every POST body of the a- .. i- captures, with our no-output key. */
static size_t load_captures(const char *no_output_key)
{
    char dir[4096];
    DIR *d = open_captures(dir, sizeof dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    size_t found = 0;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 8 || e->d_name[0] < 'a' || e->d_name[0] > 'i' || e->d_name[1] != '-' ||
            strcmp(e->d_name + n - 6, ".jsonl") != 0)
            continue;
        char path[8192], line[65536];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        for (int k = 1; f != NULL && fgets(line, sizeof line, f) != NULL; k++) {
            json_object *ex = json_tokener_parse(line), *method, *body, *output;
            if (ex != NULL && json_object_object_get_ex(ex, "method", &method) &&
                !strcmp(json_object_get_string(method), "POST") &&
                json_object_object_get_ex(ex, "request_body", &body)) {
                if (json_object_object_get_ex(body, "output", &output) &&
                    !strcmp(json_object_get_string(output), CAPTURED_NO_OUTPUT_KEY))
                    json_object_object_add(body, "output", json_object_new_string(no_output_key));
                char name[600];
                snprintf(name, sizeof name, "%s #%d", e->d_name, k);
                add_body(name, json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN));
                found++;
            }
            json_object_put(ex);
        }
        if (f != NULL)
            fclose(f);
    }
    closedir(d);
    return found;
}

/* One exchange as the runtime makes it: a fresh arena and buffers. */
static answer_t exchange(const char *text)
{
    fcd_arena_t arena;
    fcd_buf_t headers, out;
    fcd_arena_init(&arena);
    fcd_buf_init(&headers);
    fcd_buf_init(&out);
    size_t len = strlen(text);
    fcd_request_t req = {.method = "POST", .path = "/u/_dash-update-component", .query = "",
                         .content_type = "application/json", .request_id = "oom",
                         .arena = &arena};
    fcd_response_t res = {.status = 200, .headers = &headers, .body = &out};
    /* The runtime reads the body into its arena: that allocation may
     * fail too, and the runtime answers 500 itself (fcgi/runtime.c). */
    req.body = fcd_arena_alloc(&arena, len + 1);
    if (req.body == NULL) {
        fcd_response_error(&res, &arena, 500, "out of memory reading the request body");
    } else {
        memcpy(req.body, text, len + 1);
        req.body_len = len;
        fcd_dash_handle(fuzz_app(), &req, &res);
    }
    fcd_response_finish(&res);
    /* What the test itself allocates from here on must not fail. */
    bool fired = chaos_disarm();
    answer_t a = {res.status, out.data != NULL ? strdup(out.data) : NULL, fired};
    fcd_arena_free(&arena);
    fcd_buf_free(&headers);
    fcd_buf_free(&out);
    return a;
}

/* {"message": "<non-empty>", "status": 500} */
static bool clean_500(const answer_t *a)
{
    if (a->status != 500 || a->body == NULL)
        return false;
    json_object *j = json_tokener_parse(a->body), *m, *s;
    bool ok = j != NULL && json_object_object_get_ex(j, "message", &m) &&
              json_object_is_type(m, json_type_string) && json_object_get_string_len(m) > 0 &&
              json_object_object_get_ex(j, "status", &s) && json_object_get_int(s) == 500;
    json_object_put(j);
    return ok;
}

static bool same(const answer_t *a, const answer_t *b)
{
    if (a->status != b->status)
        return false;
    if (a->body == NULL || b->body == NULL)
        return a->body == b->body;
    return strcmp(a->body, b->body) == 0;
}

/* Fail the 1st, 2nd, ... allocation of one exchange until one needs no
 * failure; returns how many allocations the exchange makes. */
static unsigned long chaos_body(size_t i)
{
    answer_t ref = exchange(bodies[i]);
    unsigned long nth;
    unsigned bad = 0;
    for (nth = 1; nth < 100000; nth++) {
        chaos_arm(nth);
        answer_t a = exchange(bodies[i]);
        if (!a.fired) {
            if (!same(&a, &ref)) {
                fprintf(stderr, "\n%s: unarmed run differs: %d %s\n", names[i], a.status,
                        a.body ? a.body : "(none)");
                bad++;
            }
            free(a.body);
            break;
        }
        if (!same(&a, &ref) && !clean_500(&a)) {
            if (bad++ < 5)
                fprintf(stderr, "\n%s, allocation %lu failing: %d %.300s (expected %d %.200s or "
                                "a JSON 500)\n",
                        names[i], nth, a.status, a.body ? a.body : "(no body)", ref.status,
                        ref.body ? ref.body : "");
        }
        free(a.body);
    }
    free(ref.body);
    CU_ASSERT_EQUAL(bad, 0);
    CU_ASSERT(nth < 100000);
    return nth - 1;
}

static void test_wrapped(void)
{
    CU_ASSERT_FATAL(chaos_wrapped());
    /* json-c's constructors count too. */
    chaos_arm(1);
    json_object *o = json_object_new_object();
    bool fired = chaos_disarm();
    CU_ASSERT(o == NULL && fired);
    json_object_put(o);
}

static void test_captured_bodies(void)
{
    const fcd_app_t *app = fuzz_app();
    const char *key = NULL;
    for (const fcd_cb_t *cb = app->callbacks; cb != NULL; cb = cb->next)
        if (cb->n_outputs == 0)
            key = cb->output_key;
    CU_ASSERT_PTR_NOT_NULL_FATAL(key);
    size_t found = load_captures(key);
    if (found == 0) {
        CU_FAIL("no captured bodies: ../shared/dash-protocol-captures not found beside "
                TEST_SRCDIR " (set FCDASH_SHARED)");
        return;
    }
    unsigned long total = 0;
    for (size_t i = 0; i < n_bodies; i++)
        total += chaos_body(i);
    if (getenv("FCD_TEST_VERBOSE"))
        fprintf(stderr, "\n%zu captured bodies, %lu allocations failed one by one\n", n_bodies,
                total);
}

static void test_bad_bodies(void)
{
    static const char *bad[] = {
        "{\"output\": dd-out.children}",
        "{\"output\":\"dd-out.children\",\"inputs\":[[[[[[[[",
        "null",
        "{\"output\":\"nope.children\",\"inputs\":[]}",
        "{\"output\":\"dd-out.children\",\"outputs\":[{\"id\":\"dd-out\",\"property\":\"children\"},"
        "{\"id\":\"dd-out\",\"property\":\"children\"}],\"inputs\":[{\"id\":\"dd\",\"property\":"
        "\"value\",\"value\":1}]}",
        "{\"output\":\"dd-out.children\",\"inputs\":[{\"id\":\"nope\",\"property\":\"value\"}]}",
        "{\"output\":\"dd-out.children\",\"inputs\":[{\"id\":\"dd\",\"property\":\"value\","
        "\"value\":99999999999999999999999}]}",
        "{\"output\":\"pm-out.children\",\"inputs\":[[{\"id\":{\"index\":1,\"type\":\"pm\"},"
        "\"property\":\"n_clicks\",\"value\":1},{\"id\":{\"index\":2,\"type\":\"other\"},"
        "\"property\":\"n_clicks\"}]]}",
    };
    size_t first = n_bodies;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad body %zu", i + 1);
        add_body(name, bad[i]);
    }
    for (size_t i = first; i < n_bodies; i++)
        chaos_body(i);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite s = CU_add_suite("request path out of memory", NULL, NULL);
    CU_add_test(s, "chaos malloc reaches our code and json-c", test_wrapped);
    CU_add_test(s, "captured bodies: every allocation failure answers right or 500",
                test_captured_bodies);
    CU_add_test(s, "bad bodies: every allocation failure answers right or 500", test_bad_bodies);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    (void)fuzz_exchange;
    for (size_t i = 0; i < n_bodies; i++) {
        free(bodies[i]);
        free(names[i]);
    }
    fcd_app_free(fuzz_app());
    return failed ? 1 : 0;
}
