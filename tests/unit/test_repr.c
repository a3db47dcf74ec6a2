/*
 * test_repr.c - doubles as Python writes them, checked against Python.
 *
 * frame_fmt_repr (to_csv, str(), figure arrays) and fcd_double (a callback's
 * number) must print what Python's repr() and json.dumps() print: the
 * shortest digits that read back, the nearest of those, in repr's layout.
 * The values are written as bit patterns to a file, /usr/bin/python3 runs
 * tests/unit/repr_fixtures.py on it, and each of its lines is compared with
 * the C text.  The values: edge cases (zeros, subnormals, DBL_MIN/MAX, the
 * layout's switch points 1e-4/1e-5 and 1e16 and their neighbours), every
 * power of ten and of two with its neighbours, random bit patterns (every
 * exponent), random doubles of everyday size, and short decimals.  The
 * random ones come from a fixed seed, FCD_REPR_SEED overrides it.
 */
#define _GNU_SOURCE
#include <CUnit/Basic.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcdash.h"
#include "frame/frame_int.h"

#define PYTHON "/usr/bin/python3"
#define RANDOM_BITS 300000
#define RANDOM_EVERYDAY 100000
#define RANDOM_DECIMALS 50000
#define SHOWN_MISMATCHES 10

static double *values;
static size_t nvalues, capvalues;
static uint64_t seed = 0x7265707221ull, first_seed;

static void add(double v)
{
    if (nvalues == capvalues) {
        capvalues = capvalues ? 2 * capvalues : 4096;
        values = realloc(values, capvalues * sizeof *values);
        if (values == NULL)
            abort();
    }
    values[nvalues++] = v;
}

/* v and the doubles on either side of it. */
static void add_around(double v)
{
    add(nextafter(v, -INFINITY));
    add(v);
    add(nextafter(v, INFINITY));
}

static uint64_t next_random(void)
{
    seed ^= seed >> 12, seed ^= seed << 25, seed ^= seed >> 27;
    return seed * 2685821657736338717ull;
}

static double from_bits(uint64_t u)
{
    double d;

    memcpy(&d, &u, sizeof d);
    return d;
}

static void make_values(void)
{
    static const double edges[] = {
        0.0, -0.0, 5e-324, -5e-324, DBL_MIN, -DBL_MIN, DBL_MAX, -DBL_MAX,
        DBL_EPSILON, 0.1, 0.2, 0.3, 0.1 + 0.2, 1.0 / 3, -1.0 / 3, 2.0 / 3,
        1e16, 1e15, 9999999999999998.0, 1234567890123456.0, 12345678901234567.0,
        1e-4, 1e-5, 0.0001234, 0.00001234, 123456789.125, 9007199254740992.0,
        9007199254740993.0, 1e21, 1e22, 1e23, 5e-310, 2.2250738585072009e-308,
        4.9406564584124654e-324, 1.7976931348623157e308, 100.0, 1.5, -2.5,
    };

    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++)
        add_around(edges[i]);
    add(INFINITY), add(-INFINITY), add(NAN), add(-NAN);
    add(from_bits(0x000fffffffffffffull)); /* the largest subnormal */
    for (int e = -325; e <= 308; e++) {
        char text[16];

        snprintf(text, sizeof text, "1e%d", e);
        add_around(strtod(text, NULL));
    }
    for (int e = -1074; e <= 1023; e++)
        add_around(ldexp(1.0, e));
    for (int i = 0; i < RANDOM_BITS; i++)
        add(from_bits(next_random()));
    /* binary exponents of 1e-9 .. 1e18, where figures' numbers live */
    for (int i = 0; i < RANDOM_EVERYDAY; i++) {
        uint64_t r = next_random();
        uint64_t exp = 1023 - 30 + (r >> 53) % 90;

        add(from_bits((r & 0x800fffffffffffffull) | exp << 52));
    }
    /* k * 10^m with few digits: the layout's cases, trailing zeros */
    for (int i = 0; i < RANDOM_DECIMALS; i++) {
        uint64_t r = next_random();
        char text[48];
        int digits = 1 + (int)(r % 17), m = (int)((r >> 8) % 40) - 22;
        uint64_t k = next_random() % (uint64_t)pow(10, digits);

        snprintf(text, sizeof text, "%s%" PRIu64 "e%d", r >> 63 ? "-" : "", k, m);
        add(strtod(text, NULL));
    }
}

/* The C texts against Python's, line by line. */
static void test_against_python(void)
{
    const char *tmp = getenv("TMPDIR");
    char in[256], out[256], cmd[1024], line[128];
    size_t checked = 0, repr_wrong = 0, json_wrong = 0;
    int fd_in, fd_out;
    FILE *f;

    snprintf(in, sizeof in, "%s/fcd-repr-in-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    snprintf(out, sizeof out, "%s/fcd-repr-out-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    fd_in = mkstemp(in);
    fd_out = mkstemp(out);

    CU_ASSERT_FATAL(fd_in >= 0 && fd_out >= 0);
    close(fd_out);
    f = fdopen(fd_in, "w");
    CU_ASSERT_FATAL(f != NULL);
    for (size_t i = 0; i < nvalues; i++) {
        uint64_t u;

        memcpy(&u, &values[i], sizeof u);
        fprintf(f, "%016" PRIx64 "\n", u);
    }
    CU_ASSERT_FATAL(fclose(f) == 0);
    snprintf(cmd, sizeof cmd, PYTHON " '%s/tests/unit/repr_fixtures.py' '%s' '%s'",
             FRAME_TEST_SRCDIR, in, out);
    if (system(cmd) != 0) {
        fprintf(stderr, "\n%s failed (Debian's python3 is needed)\n", cmd);
        CU_FAIL("repr_fixtures.py did not run");
        goto done;
    }
    f = fopen(out, "r");
    CU_ASSERT_FATAL(f != NULL);
    while (checked < nvalues && fgets(line, sizeof line, f) != NULL) {
        double v = values[checked++];
        char *tab = strchr(line, '\t'), *nl = strchr(line, '\n');
        char mine[40];
        size_t n = frame_fmt_repr(mine, v);

        if (tab == NULL || nl == NULL)
            break;
        *tab = *nl = '\0';
        mine[n] = '\0';
        if (strcmp(mine, line) != 0 && repr_wrong++ < SHOWN_MISMATCHES)
            fprintf(stderr, "\nrepr(%a): Python %s, fcdash %s", v, line, mine);
        if (isfinite(v)) {
            json_object *j = fcd_double(v);
            const char *text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN);

            if (strcmp(text, tab + 1) != 0 && json_wrong++ < SHOWN_MISMATCHES)
                fprintf(stderr, "\njson.dumps(%a): Python %s, fcd_double %s", v, tab + 1,
                        text);
            json_object_put(j);
        }
    }
    fclose(f);
    CU_ASSERT_EQUAL(checked, nvalues); /* Python answered for every value */
    CU_ASSERT_EQUAL(repr_wrong, 0);
    CU_ASSERT_EQUAL(json_wrong, 0);
    if (repr_wrong || json_wrong)
        fprintf(stderr, "\n%zu repr and %zu json.dumps texts of %zu differ (seed %#" PRIx64
                        ")\n", repr_wrong, json_wrong, nvalues, first_seed);
done:
    unlink(in);
    unlink(out);
}

/* A few texts spelled out, so the layout rules read here too. */
static void test_known_texts(void)
{
    static const struct { double v; const char *text; } cases[] = {
        {0.0, "0.0"}, {-0.0, "-0.0"}, {1e16, "1e+16"}, {1e15, "1000000000000000.0"},
        {1e-4, "0.0001"}, {1e-5, "1e-05"}, {5e-324, "5e-324"}, {0.1, "0.1"},
        {1.0 / 3, "0.3333333333333333"}, {-1.5, "-1.5"}, {DBL_MAX, "1.7976931348623157e+308"},
        {INFINITY, "inf"}, {-INFINITY, "-inf"}, {NAN, "nan"}, {123.0, "123.0"},
    };
    char out[40];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        out[frame_fmt_repr(out, cases[i].v)] = '\0';
        CU_ASSERT_STRING_EQUAL(out, cases[i].text);
    }
}

int main(void)
{
    const char *s = getenv("FCD_REPR_SEED");
    unsigned failed;

    if (s != NULL && *s)
        seed = strtoull(s, NULL, 0) | 1;
    first_seed = seed;
    make_values();
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    CU_pSuite suite = CU_add_suite("repr", NULL, NULL);
    CU_add_test(suite, "known texts", test_known_texts);
    CU_add_test(suite, "against Python's repr and json.dumps", test_against_python);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    free(values);
    return failed ? 1 : 0;
}
