/*
 * test_frame.c - unit tests of frame/: the typed column table.
 *
 * Two suites.  "frame" checks the C side alone: building, reading,
 * selecting rows, packing, cell text, the binary form, and that hostile
 * JSON and binary input, and running out of memory at every allocation,
 * end in an error and never in a crash or a leak.  "pandas" compares with
 * the pandas of this machine: tests/unit/pandas_fixtures.py (run with
 * Debian's /usr/bin/python3) writes what pandas writes for the same frames
 * into a temporary directory, and each text must match byte for byte; then
 * pandas reads back what fcdash wrote, and fcdash must read it the same
 * way.
 *
 * Allocation failures are injected with the linker's --wrap: every
 * malloc/calloc/realloc/strdup/free of the frame code (and of this file)
 * goes through tests/unit/chaos.c, which counts live blocks and can fail
 * the Nth request.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <json-c/json.h>

#include "frame/frame.h"
#include "tests/unit/chaos.h"

#ifndef FRAME_TEST_SRCDIR
#define FRAME_TEST_SRCDIR "."
#endif
#define PYTHON "/usr/bin/python3"

/* ---- Allocation failures ------------------------------------------------ */

/* tests/unit/chaos.h: fail the n-th allocation, count the live blocks. */

/* ---- Helpers ------------------------------------------------------------ */

static char fixtures[256]; /* the temporary directory of the pandas suite */

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *data = NULL;
    long n;

    if (fp == NULL)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
        fseek(fp, 0, SEEK_SET) == 0 && (data = malloc((size_t)n + 1)) != NULL) {
        if (fread(data, 1, (size_t)n, fp) != (size_t)n) {
            free(data);
            data = NULL;
        } else {
            data[n] = '\0';
            if (len)
                *len = (size_t)n;
        }
    }
    fclose(fp);
    return data;
}

static char *fixture(const char *name, size_t *len)
{
    char path[512];

    snprintf(path, sizeof path, "%s/%s", fixtures, name);
    return slurp(path, len);
}

static void put_fixture(const char *name, const char *data, size_t len)
{
    char path[512];
    FILE *fp;

    snprintf(path, sizeof path, "%s/%s", fixtures, name);
    fp = fopen(path, "wb");
    CU_ASSERT_FATAL(fp != NULL);
    CU_ASSERT(fwrite(data, 1, len, fp) == len);
    fclose(fp);
}

/* Compare bytes; on a difference say where, with some context. */
static bool same_text(const char *what, const char *want, size_t wlen,
                      const char *got, size_t glen)
{
    size_t i = 0;

    if (want == NULL || got == NULL) {
        fprintf(stderr, "\n%s: missing text (%s)\n", what,
                want == NULL ? "fixture" : "output");
        return false;
    }
    while (i < wlen && i < glen && want[i] == got[i])
        i++;
    if (i == wlen && i == glen)
        return true;
    fprintf(stderr, "\n%s: differs at byte %zu (lengths %zu, %zu)\n", what, i,
            wlen, glen);
    fprintf(stderr, "  pandas: %.*s\n", (int)(wlen - i < 80 ? wlen - i : 80),
            want + i);
    fprintf(stderr, "  fcdash: %.*s\n", (int)(glen - i < 80 ? glen - i : 80),
            got + i);
    return false;
}

static fcd_frame_t *decode(const char *text, fcd_frame_orient_t orient,
                           fcd_frame_err_t *err)
{
    return fcd_frame_from_json(text, strlen(text), orient, err);
}

static char *encode(const fcd_frame_t *f, fcd_frame_orient_t orient,
                    unsigned flags, size_t *len)
{
    fcd_frame_buf_t b = FCD_FRAME_BUF_INIT;
    fcd_frame_err_t err;

    if (len)
        *len = 0;
    if (fcd_frame_to_json(f, orient, flags, &b, &err) != FCD_OK)
        return NULL;
    if (len)
        *len = b.len;
    return b.data;
}

/* ---- The frames both sides build ---------------------------------------- */

static const char *const cities[] = {"MTL", "SF", "NYC"};
static const char *const fruits[] = {"apples", "oranges", "figs"};

/* The examples' data (/work/shared/examples.md): one row per (city,
 * fruit, day), day 1 .. 1 + c + f, amount 10 (c + 1) + d. */
static fcd_frame_t *examples_frame(void)
{
    fcd_frame_t *f = fcd_frame_new();
    fcd_frame_err_t err;

    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fcd_frame_add_column(f, "city", FCD_FRAME_STRING, &err) == FCD_OK);
    CU_ASSERT(fcd_frame_add_column(f, "fruit", FCD_FRAME_STRING, &err) == FCD_OK);
    CU_ASSERT(fcd_frame_add_column(f, "day", FCD_FRAME_INT64, &err) == FCD_OK);
    CU_ASSERT(fcd_frame_add_column(f, "amount", FCD_FRAME_INT64, &err) == FCD_OK);
    for (int c = 0; c < 3; c++)
        for (int k = 0; k < 3; k++)
            for (int d = 1; d <= 1 + c + k; d++)
                CU_ASSERT(fcd_frame_append(f, &err, FCD_FRAME_S(cities[c]),
                                           FCD_FRAME_S(fruits[k]),
                                           FCD_FRAME_I(d),
                                           FCD_FRAME_I(10 * (c + 1) + d)) ==
                          FCD_OK);
    return f;
}

#define NAT FCD_FRAME_NAT
#define NA FCD_FRAME_BOOL_NA

static fcd_frame_t *missing_frame(void)
{
    static const double fl[] = {1.5, NAN, -2.25, 1e20, 1e-20, 0.1, INFINITY};
    static const char *const s[] = {"a", NULL, "", "x,y", "q\"q",
                                    "line\nbreak", "tab\t"};
    static const signed char b[] = {1, NA, 0, 1, NA, 0, 1};
    static const int64_t i[] = {0, -1, INT64_MAX, INT64_MIN, 42, 7, 1000000};
    static const int64_t t[] = {1704067200000000000, NAT, 0, -1, 5, NAT,
                                1709164800123456789};
    fcd_frame_t *f = fcd_frame_new();

    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fcd_frame_add_float64(f, "f", fl, 7, NULL) == FCD_OK);
    CU_ASSERT(fcd_frame_add_string(f, "s", s, 7, NULL) == FCD_OK);
    CU_ASSERT(fcd_frame_add_bool(f, "b", b, 7, NULL) == FCD_OK);
    CU_ASSERT(fcd_frame_add_int64(f, "i", i, 7, NULL) == FCD_OK);
    CU_ASSERT(fcd_frame_add_datetime(f, "t", t, 7, NULL) == FCD_OK);
    return f;
}

static const char *const unicode[] = {
    "plain", "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80 grin", "\xe4\xb8\xad\xe6\x96\x87",
    "\"quoted\"", "back\\slash", "a/b</script>", "\x01\x1f\x7f",
    "\xe2\x80\xa8\xe2\x80\xa9", "tab\there", "nl\nhere", "cr\rhere", "\b\f",
    "\xf4\x8f\xbf\xbf", "\xef\xbf\xbf\xe0\xa0\x80\xdf\xbf\xc2\x80"};
#define NUNICODE (sizeof unicode / sizeof unicode[0])

static fcd_frame_t *unicode_frame(void)
{
    int64_t n[NUNICODE];
    fcd_frame_t *f = fcd_frame_new();

    for (size_t i = 0; i < NUNICODE; i++)
        n[i] = (int64_t)i;
    CU_ASSERT(fcd_frame_add_string(f, "s", unicode, NUNICODE, NULL) == FCD_OK);
    CU_ASSERT(fcd_frame_add_int64(f, "n", n, NUNICODE, NULL) == FCD_OK);
    return f;
}

static fcd_frame_t *dates_frame(const int64_t *ns, size_t n)
{
    fcd_frame_t *f = fcd_frame_new();

    CU_ASSERT(fcd_frame_add_datetime(f, "t", ns, n, NULL) == FCD_OK);
    return f;
}

#define DAY (86400LL * 1000000000LL)
static const int64_t dates[] = {0, -1, -500000, 1704067200000000000,
                                1709164800123456789, 951782400000000000,
                                -2208988800000000000, NAT, INT64_MAX,
                                INT64_MIN + 1, 1000000000000000999};
static const int64_t dates_only[] = {0, DAY, NAT, -DAY};
static const int64_t dates_s[] = {0, DAY + 1000000000, NAT};
static const int64_t dates_ms[] = {0, 500000000, NAT};
static const int64_t dates_us[] = {0, 500000000, 1000};
static const int64_t dates_ns[] = {0, 1, -1};

#define BIG 100000

static fcd_frame_t *big_frame(void)
{
    int64_t *i = malloc(BIG * sizeof *i), *t = malloc(BIG * sizeof *t);
    double *x = malloc(BIG * sizeof *x), *y = malloc(BIG * sizeof *y);
    signed char *b = malloc(BIG);
    char **s = malloc(BIG * sizeof *s), *pool = malloc(BIG * 32);
    fcd_frame_t *f = fcd_frame_new();

    CU_ASSERT_FATAL(i && t && x && y && b && s && pool && f);
    for (int64_t k = 0; k < BIG; k++) {
        i[k] = k * 7919 % 1000003 - 500000;
        x[k] = (double)k / 7.0;
        y[k] = (double)k * 0.37;
        b[k] = k % 3 == 0;
        t[k] = 1704067200000000000 + k * 1234567891;
        s[k] = NULL;
        if (k % 5) {
            s[k] = pool + 32 * k;
            snprintf(s[k], 32, "r%lld\xc3\xa9", (long long)k);
        }
    }
    CU_ASSERT(fcd_frame_add_int64(f, "i", i, BIG, NULL) == FCD_OK);
    CU_ASSERT(fcd_frame_add_float64(f, "x", x, BIG, NULL) == FCD_OK);
    CU_ASSERT(fcd_frame_add_float64(f, "y", y, BIG, NULL) == FCD_OK);
    CU_ASSERT(fcd_frame_add_string(f, "s", (const char *const *)s, BIG, NULL) ==
              FCD_OK);
    CU_ASSERT(fcd_frame_add_bool(f, "b", b, BIG, NULL) == FCD_OK);
    CU_ASSERT(fcd_frame_add_datetime(f, "t", t, BIG, NULL) == FCD_OK);
    free(i), free(t), free(x), free(y), free(b), free(s), free(pool);
    return f;
}

/* The random doubles pandas_fixtures.py drew, read from its hex dump. */
static fcd_frame_t *floats_frame(void)
{
    char *text = fixture("floats.hex", NULL), *p, *end;
    double *v;
    size_t n = 0, cap = 1024;
    fcd_frame_t *f = fcd_frame_new();

    CU_ASSERT_FATAL(text != NULL && f != NULL);
    v = malloc(cap * sizeof *v);
    for (p = text; *p; p = end) {
        double d = strtod(p, &end);

        if (end == p)
            break;
        if (n == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[n++] = d;
        while (*end == '\n')
            end++;
    }
    CU_ASSERT(n > 20000);
    CU_ASSERT(fcd_frame_add_float64(f, "x", v, n, NULL) == FCD_OK);
    free(v);
    free(text);
    return f;
}

/* Every frame of pandas_fixtures.py's cases(), by name. */
static fcd_frame_t *case_frame(const char *name)
{
    fcd_frame_t *f = NULL, *all;
    fcd_frame_err_t err;

    if (strncmp(name, "examples", 8) == 0) {
        f = all = examples_frame();
        for (int c = 0; c < 3 && name[8] == '_'; c++) {
            size_t len = strlen(cities[c]);

            if (strncmp(name + 9, cities[c], len) == 0) {
                f = fcd_frame_filter_eq_str(all, "city", cities[c], &err);
                if (strcmp(name + 9 + len, "_reset") == 0)
                    fcd_frame_reset_index(f);
            }
            if (strcmp(name + 9, fruits[c]) == 0)
                f = fcd_frame_filter_eq_str(all, "fruit", fruits[c], &err);
        }
        if (f != all)
            fcd_frame_free(all);
    } else if (strcmp(name, "missing") == 0) {
        f = missing_frame();
    } else if (strcmp(name, "unicode") == 0) {
        f = unicode_frame();
    } else if (strcmp(name, "dates") == 0) {
        f = dates_frame(dates, sizeof dates / sizeof dates[0]);
    } else if (strcmp(name, "dates_only") == 0) {
        f = dates_frame(dates_only, 4);
    } else if (strcmp(name, "dates_s") == 0) {
        f = dates_frame(dates_s, 3);
    } else if (strcmp(name, "dates_ms") == 0) {
        f = dates_frame(dates_ms, 3);
    } else if (strcmp(name, "dates_us") == 0) {
        f = dates_frame(dates_us, 3);
    } else if (strcmp(name, "dates_ns") == 0) {
        f = dates_frame(dates_ns, 3);
    } else if (strcmp(name, "empty") == 0) {
        f = fcd_frame_new();
    } else if (strcmp(name, "empty_cols") == 0) {
        f = fcd_frame_new();
        fcd_frame_add_column(f, "a", FCD_FRAME_FLOAT64, NULL);
        fcd_frame_add_column(f, "b", FCD_FRAME_STRING, NULL);
    } else if (strcmp(name, "no_cols") == 0) {
        /* rows without columns: only a decoder makes those */
        f = decode("{\"columns\":[],\"index\":[0,1],\"data\":[[],[]]}",
                   FCD_FRAME_SPLIT, NULL);
    } else if (strcmp(name, "strindex") == 0) {
        static const int64_t v[] = {1, 2, 3};
        static const char *const labels[] = {"x", "y/z", "\xc3\xa9"};

        f = fcd_frame_new();
        fcd_frame_add_int64(f, "v", v, 3, NULL);
        CU_ASSERT(fcd_frame_set_index_string(f, labels, 3, NULL) == FCD_OK);
    } else if (strcmp(name, "bools") == 0) {
        static const signed char b[] = {1, 0, 1};
        static const int64_t only[] = {1, 2, 3};

        f = fcd_frame_new();
        fcd_frame_add_bool(f, "b", b, 3, NULL);
        fcd_frame_add_int64(f, "only", only, 3, NULL);
    } else if (strcmp(name, "one_empty") == 0) {
        static const char *const s[] = {"", "a", NULL};

        f = fcd_frame_new();
        fcd_frame_add_string(f, "s", s, 3, NULL);
    } else if (strcmp(name, "session") == 0) {
        static const char *const t[] = {
            "2024-05-01 12:00:00.123456", "2024-05-01 12:00:05.123456",
            "2024-05-01 12:00:10.123456", "2024-05-01 12:00:15.123456"};
        static const char *const v[] = {"a", "b", "a", "c"};

        f = fcd_frame_new();
        fcd_frame_add_string(f, "time", t, 4, NULL);
        fcd_frame_add_string(f, "values", v, 4, NULL);
    } else if (strcmp(name, "big") == 0) {
        f = big_frame();
    } else if (strcmp(name, "floats") == 0) {
        f = floats_frame();
    }
    return f;
}

static const char *const case_names[] = {
    "examples", "examples_MTL", "examples_MTL_reset", "examples_SF",
    "examples_SF_reset", "examples_NYC", "examples_NYC_reset",
    "examples_apples", "examples_oranges", "examples_figs", "missing",
    "unicode", "dates", "dates_only", "dates_s", "dates_ms", "dates_us",
    "dates_ns", "empty", "empty_cols", "no_cols", "strindex", "bools",
    "one_empty", "session", "big", "floats"};
#define NCASES (sizeof case_names / sizeof case_names[0])

/* ---- Suite "frame" ------------------------------------------------------ */

static void test_build_and_read(void)
{
    fcd_frame_t *f = fcd_frame_new();
    fcd_frame_err_t err;
    const char *s;
    size_t len;

    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fcd_frame_add_column(f, "n", FCD_FRAME_INT64, &err) == FCD_OK);
    CU_ASSERT(fcd_frame_add_column(f, "x", FCD_FRAME_FLOAT64, &err) == FCD_OK);
    CU_ASSERT(fcd_frame_add_column(f, "s", FCD_FRAME_STRING, &err) == FCD_OK);
    CU_ASSERT(fcd_frame_add_column(f, "b", FCD_FRAME_BOOL, &err) == FCD_OK);
    CU_ASSERT(fcd_frame_add_column(f, "t", FCD_FRAME_DATETIME, &err) == FCD_OK);
    for (int i = 0; i < 1000; i++)
        CU_ASSERT(fcd_frame_append(f, &err, FCD_FRAME_I(i),
                                   i % 2 ? FCD_FRAME_F(i / 4.0) : FCD_FRAME_I(i),
                                   i % 3 ? FCD_FRAME_S("abc") : FCD_FRAME_NA,
                                   FCD_FRAME_B(i % 2), FCD_FRAME_T(i)) == FCD_OK);
    CU_ASSERT(fcd_frame_nrows(f) == 1000);
    CU_ASSERT(fcd_frame_ncols(f) == 5);
    CU_ASSERT(fcd_frame_find(f, "s") == 2);
    CU_ASSERT(fcd_frame_find(f, "nope") == FCD_FRAME_NPOS);
    CU_ASSERT_STRING_EQUAL(fcd_frame_name(f, 1), "x");
    CU_ASSERT(fcd_frame_name(f, 5) == NULL);
    CU_ASSERT(fcd_frame_type(f, 4) == FCD_FRAME_DATETIME);
    CU_ASSERT(fcd_frame_type(f, FCD_FRAME_INDEX) == 0);
    CU_ASSERT(fcd_frame_int64s(f, 0)[999] == 999);
    CU_ASSERT(fcd_frame_float64s(f, 1)[3] == 0.75);
    CU_ASSERT(fcd_frame_float64s(f, 1)[4] == 4.0);
    CU_ASSERT(fcd_frame_float64s(f, 0) == NULL);
    CU_ASSERT(fcd_frame_bools(f, 3)[1] == 1);
    CU_ASSERT(fcd_frame_int64s(f, 4)[7] == 7);
    s = fcd_frame_str(f, 2, 1, &len);
    CU_ASSERT(s != NULL && len == 3 && strcmp(s, "abc") == 0);
    CU_ASSERT(fcd_frame_str(f, 2, 0, NULL) == NULL);
    CU_ASSERT(fcd_frame_is_na(f, 2, 0));
    CU_ASSERT(!fcd_frame_is_na(f, 2, 1));
    CU_ASSERT(!fcd_frame_is_na(f, 0, 0));

    /* refusals leave the frame as it was */
    CU_ASSERT(fcd_frame_append(f, &err, FCD_FRAME_NA, FCD_FRAME_F(1),
                               FCD_FRAME_S("x"), FCD_FRAME_B(1),
                               FCD_FRAME_T(0)) == FCD_ERROR);
    CU_ASSERT(strstr(err.msg, "'n'") != NULL);
    CU_ASSERT(fcd_frame_append(f, &err, FCD_FRAME_I(1)) == FCD_ERROR);
    CU_ASSERT(fcd_frame_append(f, &err, FCD_FRAME_I(1), FCD_FRAME_F(1),
                               FCD_FRAME_S("\xff"), FCD_FRAME_B(1),
                               FCD_FRAME_T(0)) == FCD_ERROR);
    CU_ASSERT(fcd_frame_append(f, &err, FCD_FRAME_I(1), FCD_FRAME_S("1"),
                               FCD_FRAME_S("x"), FCD_FRAME_B(1),
                               FCD_FRAME_T(0)) == FCD_ERROR);
    CU_ASSERT(fcd_frame_add_column(f, "late", FCD_FRAME_INT64, &err) == FCD_ERROR);
    CU_ASSERT(fcd_frame_add_int64(f, "short", (const int64_t[]){1}, 1, &err) ==
              FCD_ERROR);
    CU_ASSERT(fcd_frame_add_string(f, "bad", (const char *const[]){"\xc0\x80"},
                                   1, &err) == FCD_ERROR);
    CU_ASSERT(fcd_frame_nrows(f) == 1000 && fcd_frame_ncols(f) == 5);

    /* an explicit index, then back to a RangeIndex */
    {
        int64_t *labels = malloc(1000 * sizeof *labels);

        for (int i = 0; i < 1000; i++)
            labels[i] = 5000 - i;
        CU_ASSERT(fcd_frame_set_index_int64(f, labels, 999, &err) == FCD_ERROR);
        CU_ASSERT(fcd_frame_set_index_int64(f, labels, 1000, &err) == FCD_OK);
        CU_ASSERT(fcd_frame_type(f, FCD_FRAME_INDEX) == FCD_FRAME_INT64);
        CU_ASSERT(fcd_frame_int64s(f, FCD_FRAME_INDEX)[2] == 4998);
        CU_ASSERT(fcd_frame_append(f, &err, FCD_FRAME_I(1), FCD_FRAME_F(1),
                                   FCD_FRAME_S("x"), FCD_FRAME_B(1),
                                   FCD_FRAME_T(0)) == FCD_ERROR);
        fcd_frame_reset_index(f);
        CU_ASSERT(fcd_frame_type(f, FCD_FRAME_INDEX) == 0);
        free(labels);
    }
    fcd_frame_free(f);
    fcd_frame_free(NULL);
}

static bool even_day(const fcd_frame_t *f, size_t row, void *ctx)
{
    return fcd_frame_int64s(f, *(size_t *)ctx)[row] % 2 == 0;
}

static void test_filter(void)
{
    fcd_frame_t *f = examples_frame(), *g;
    fcd_frame_err_t err;
    size_t day = fcd_frame_find(f, "day");

    CU_ASSERT(fcd_frame_nrows(f) == 27);
    g = fcd_frame_filter_eq_str(f, "city", "SF", &err);
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT(fcd_frame_nrows(g) == 9);
    CU_ASSERT(fcd_frame_int64s(g, FCD_FRAME_INDEX)[0] == 6);
    CU_ASSERT_STRING_EQUAL(fcd_frame_str(g, 1, 8, NULL), "figs");
    fcd_frame_free(g);

    g = fcd_frame_filter_eq_int(f, "day", 5, &err);
    CU_ASSERT(g != NULL && fcd_frame_nrows(g) == 1);
    fcd_frame_free(g);
    g = fcd_frame_filter_eq_str(f, "city", "LA", &err);
    CU_ASSERT(g != NULL && fcd_frame_nrows(g) == 0);
    fcd_frame_free(g);
    CU_ASSERT(fcd_frame_filter_eq_str(f, "day", "1", &err) == NULL);
    CU_ASSERT(fcd_frame_filter_eq_int(f, "city", 1, &err) == NULL);
    CU_ASSERT(fcd_frame_filter_eq_int(f, "nope", 1, &err) == NULL);
    CU_ASSERT(strstr(err.msg, "nope") != NULL);

    g = fcd_frame_filter(f, even_day, &day, &err);
    CU_ASSERT(g != NULL && fcd_frame_nrows(g) == 11);
    fcd_frame_free(g);

    g = fcd_frame_take(f, (const size_t[]){26, 0, 0}, 3, &err);
    CU_ASSERT_FATAL(g != NULL);
    CU_ASSERT(fcd_frame_int64s(g, 3)[0] == 35);
    CU_ASSERT(fcd_frame_int64s(g, FCD_FRAME_INDEX)[1] == 0);
    CU_ASSERT(fcd_frame_take(f, (const size_t[]){27}, 1, &err) == NULL);
    fcd_frame_free(g);

    /* the scores example: how many students had each score */
    {
        static const int64_t id[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        static const int64_t score[] = {1, 5, 2, 5, 2, 3, 1, 5, 1, 5};
        static const size_t want[] = {3, 2, 1, 0, 4};
        fcd_frame_t *s = fcd_frame_new();

        fcd_frame_add_int64(s, "student_id", id, 10, NULL);
        fcd_frame_add_int64(s, "score", score, 10, NULL);
        for (int v = 1; v <= 5; v++) {
            g = fcd_frame_filter_eq_int(s, "score", v, &err);
            CU_ASSERT(g != NULL && fcd_frame_nrows(g) == want[v - 1]);
            fcd_frame_free(g);
        }
        fcd_frame_free(s);
    }
    fcd_frame_free(f);
}

static void check_cell(const fcd_frame_t *f, size_t col, size_t row,
                       const char *want)
{
    fcd_frame_buf_t b = FCD_FRAME_BUF_INIT;

    CU_ASSERT(fcd_frame_cell_text(f, col, row, &b) == FCD_OK);
    CU_ASSERT(b.data != NULL && strcmp(b.data, want) == 0);
    if (b.data && strcmp(b.data, want) != 0)
        fprintf(stderr, "\ncell (%zu, %zu): %s, not %s\n", col, row, b.data, want);
    fcd_frame_buf_free(&b);
}

static void test_text_and_figures(void)
{
    fcd_frame_t *f = missing_frame();
    json_object *a;

    check_cell(f, 0, 0, "1.5");
    check_cell(f, 0, 1, "nan");
    check_cell(f, 0, 3, "1e+20");
    check_cell(f, 0, 6, "inf");
    check_cell(f, 1, 1, "None");
    check_cell(f, 2, 0, "True");
    check_cell(f, 2, 1, "None");
    check_cell(f, 3, 3, "-9223372036854775808");
    check_cell(f, 4, 0, "2024-01-01 00:00:00");
    check_cell(f, 4, 1, "NaT");
    check_cell(f, 4, 3, "1969-12-31 23:59:59.999999999");
    check_cell(f, FCD_FRAME_INDEX, 6, "6");

    a = fcd_frame_column_json(f, 0);
    CU_ASSERT_FATAL(a != NULL);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
                           "[1.5,null,-2.25,1e+20,1e-20,0.1,null]");
    json_object_put(a);
    a = fcd_frame_column_json(f, 2);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
                           "[true,null,false,true,null,false,true]");
    json_object_put(a);
    a = fcd_frame_column_json(f, 4);
    CU_ASSERT(strncmp(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
                      "[\"2024-01-01 00:00:00\",null,\"1970-01-01 00:00:00\"",
                      48) == 0);
    json_object_put(a);
    a = fcd_frame_column_json(f, FCD_FRAME_INDEX);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
                           "[0,1,2,3,4,5,6]");
    json_object_put(a);
    CU_ASSERT(fcd_frame_column_json(f, 9) == NULL);

    /* a view writes the same text as the eager array, and is opaque */
    for (size_t col = 0; col < 5; col++) {
        json_object *eager = fcd_frame_column_json(f, col);
        json_object *view = fcd_frame_column_view(f, col);
        char *want = strdup(json_object_to_json_string_ext(
            eager, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

        CU_ASSERT_FATAL(view != NULL && want != NULL);
        CU_ASSERT(json_object_array_length(view) == 0);
        CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(view, JSON_C_TO_STRING_PLAIN),
                               want);
        free(want);
        json_object_put(eager);
        json_object_put(view);
    }
    a = fcd_frame_column_view(f, FCD_FRAME_INDEX);
    CU_ASSERT_STRING_EQUAL(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN),
                           "[0,1,2,3,4,5,6]");
    json_object_put(a);
    CU_ASSERT(fcd_frame_column_view(f, 9) == NULL);
    CU_ASSERT(fcd_frame_column_view(NULL, 0) == NULL);
    fcd_frame_free(f);
}

static void *grab(void *ctx, size_t size)
{
    void **slot = ctx;

    return *slot = malloc(size);
}

static void test_pack(void)
{
    fcd_frame_t *f = missing_frame(), *p, *g;
    void *block = NULL;
    char *a, *b;
    fcd_frame_err_t err;

    fcd_frame_set_index_string(f, (const char *const[]){"a", "b", "c", "d", "e",
                                                        "f", "g"},
                               7, NULL);
    p = fcd_frame_pack(f, grab, &block, &err);
    CU_ASSERT_FATAL(p != NULL);
    a = encode(f, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, NULL);
    b = encode(p, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, NULL);
    CU_ASSERT(a && b && strcmp(a, b) == 0);
    free(a), free(b);
    fcd_frame_free(f);
    /* read-only, and not freed by fcd_frame_free */
    CU_ASSERT(fcd_frame_add_int64(p, "z", (const int64_t[]){1, 2, 3, 4, 5, 6, 7},
                                  7, &err) == FCD_ERROR);
    fcd_frame_reset_index(p);
    CU_ASSERT(fcd_frame_type(p, FCD_FRAME_INDEX) == FCD_FRAME_STRING);
    fcd_frame_free(p);
    g = fcd_frame_filter_eq_str(p, "s", "a", &err);
    CU_ASSERT(g != NULL && fcd_frame_nrows(g) == 1);
    CU_ASSERT_STRING_EQUAL(fcd_frame_str(g, FCD_FRAME_INDEX, 0, NULL), "a");
    fcd_frame_free(g);
    free(block);
}

static void test_binary(void)
{
    fcd_frame_t *frames[4], *g;
    fcd_frame_buf_t bin = FCD_FRAME_BUF_INIT;
    fcd_frame_err_t err;
    unsigned seed = 12345;

    frames[0] = missing_frame();
    frames[1] = unicode_frame();
    frames[2] = fcd_frame_new();
    frames[3] = examples_frame();
    fcd_frame_set_index_string(frames[1], unicode, NUNICODE, NULL);
    g = fcd_frame_filter_eq_str(frames[3], "fruit", "figs", NULL);
    fcd_frame_free(frames[3]);
    frames[3] = g;
    for (int k = 0; k < 4; k++) {
        char *a, *b;

        bin.len = 0;
        CU_ASSERT(fcd_frame_to_binary(frames[k], &bin, &err) == FCD_OK);
        g = fcd_frame_from_binary(bin.data, bin.len, &err);
        CU_ASSERT_FATAL(g != NULL);
        a = encode(frames[k], FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, NULL);
        b = encode(g, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, NULL);
        CU_ASSERT(a && b && strcmp(a, b) == 0);
        for (size_t j = 0; j < fcd_frame_ncols(g); j++)
            CU_ASSERT(fcd_frame_type(g, j) == fcd_frame_type(frames[k], j));
        CU_ASSERT(fcd_frame_type(g, FCD_FRAME_INDEX) ==
                  fcd_frame_type(frames[k], FCD_FRAME_INDEX));
        free(a), free(b);
        fcd_frame_free(g);
        /* every truncation is refused */
        for (size_t n = 0; n < bin.len; n++) {
            g = fcd_frame_from_binary(bin.data, n, &err);
            CU_ASSERT(g == NULL);
            fcd_frame_free(g);
        }
        /* one more byte is refused */
        {
            char *longer = malloc(bin.len + 1);

            memcpy(longer, bin.data, bin.len);
            longer[bin.len] = 0;
            CU_ASSERT(fcd_frame_from_binary(longer, bin.len + 1, &err) == NULL);
            free(longer);
        }
        /* random damage: an error or a frame, never a crash */
        for (int t = 0; t < 3000; t++) {
            char *copy = malloc(bin.len);

            memcpy(copy, bin.data, bin.len);
            for (int m = 0; m < 1 + t % 4; m++) {
                seed = seed * 1103515245 + 12345;
                copy[(seed >> 8) % bin.len] = (char)(seed >> 16);
            }
            g = fcd_frame_from_binary(copy, bin.len, &err);
            if (g != NULL) {
                char *text = encode(g, FCD_FRAME_COLUMNS, 0, NULL);

                free(text);
            }
            fcd_frame_free(g);
            free(copy);
        }
    }
    /* named refusals */
    bin.len = 0;
    fcd_frame_to_binary(frames[0], &bin, &err);
    {
        char *c = malloc(bin.len);

        memcpy(c, bin.data, bin.len);
        c[4] = 2;
        CU_ASSERT(fcd_frame_from_binary(c, bin.len, &err) == NULL);
        CU_ASSERT(strstr(err.msg, "version") != NULL);
        memcpy(c, bin.data, bin.len);
        c[0] = 'X';
        CU_ASSERT(fcd_frame_from_binary(c, bin.len, &err) == NULL);
        memcpy(c, bin.data, bin.len);
        c[15] = 0x7f; /* rows far past the limit */
        CU_ASSERT(fcd_frame_from_binary(c, bin.len, &err) == NULL);
        CU_ASSERT(strstr(err.msg, "limits") != NULL);
        free(c);
    }
    CU_ASSERT(fcd_frame_from_binary(NULL, 0, &err) == NULL);
    /* "a\xc3" then "\xa9d": each string alone is not UTF-8, though their
     * bytes together ("a\xc3\xa9d") are */
    {
        static const char *const two[] = {"ab", "cd"};
        fcd_frame_t *t = fcd_frame_new();
        char *at;

        CU_ASSERT(fcd_frame_add_string(t, "s", two, 2, NULL) == FCD_OK);
        bin.len = 0;
        CU_ASSERT(fcd_frame_to_binary(t, &bin, &err) == FCD_OK);
        for (at = bin.data; at + 4 <= bin.data + bin.len && memcmp(at, "abcd", 4) != 0; at++)
            ;
        CU_ASSERT_FATAL(at + 4 <= bin.data + bin.len);
        at[1] = (char)0xc3, at[2] = (char)0xa9;
        CU_ASSERT(fcd_frame_from_binary(bin.data, bin.len, &err) == NULL);
        CU_ASSERT(strstr(err.msg, "UTF-8") != NULL);
        fcd_frame_free(t);
    }
    for (int k = 0; k < 4; k++)
        fcd_frame_free(frames[k]);
    fcd_frame_buf_free(&bin);
}

static void test_hostile_json(void)
{
    static const char *const bad_split[] = {
        "", " ", "[]", "{", "{}", "null", "{\"columns\":[\"a\"]}",
        "{\"columns\":[\"a\"],\"data\":[[1]]} x",
        "{\"columns\":[\"a\"],\"data\":[[1]],\"columns\":[\"b\"]}",
        "{\"columns\":[1],\"data\":[[1]]}",
        "{\"columns\":[\"a\"],\"data\":[[[1]]]}",
        "{\"columns\":[\"a\"],\"data\":[[{\"x\":1}]]}",
        "{\"columns\":[\"a\"],\"data\":[1]}",
        "{\"columns\":[\"a\"],\"data\":[[1],[1,2]]}",
        "{\"columns\":[\"a\",\"b\"],\"data\":[[1]]}",
        "{\"columns\":[\"a\"],\"index\":[0,1],\"data\":[[1]]}",
        "{\"columns\":[\"a\"],\"data\":[[1e999]]}",
        "{\"columns\":[\"a\"],\"data\":[[-1e999]]}",
        "{\"columns\":[\"a\"],\"data\":[[9223372036854775808]]}",
        "{\"columns\":[\"a\"],\"data\":[[-9223372036854775809]]}",
        "{\"columns\":[\"a\"],\"data\":[[01]]}",
        "{\"columns\":[\"a\"],\"data\":[[1.]]}",
        "{\"columns\":[\"a\"],\"data\":[[.5]]}",
        "{\"columns\":[\"a\"],\"data\":[[+1]]}",
        "{\"columns\":[\"a\"],\"data\":[[1e]]}",
        "{\"columns\":[\"a\"],\"data\":[[NaN]]}",
        "{\"columns\":[\"a\"],\"data\":[[Infinity]]}",
        "{\"columns\":[\"a\"],\"data\":[[tru]]}",
        "{\"columns\":[\"a\"],\"data\":[[nul]]}",
        "{\"columns\":[\"a\"],\"data\":[['x']]}",
        "{\"columns\":[\"a\"],\"data\":[[\"x]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"\\x\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"\\u12\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"\\ud800\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"\\udc00\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"\\ud800\\u0041\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"tab\there\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"\xff\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"\xc0\xaf\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"\xed\xa0\x80\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"\xf4\x90\x80\x80\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"\xe2\x82\"]]}",
        "{\"columns\":[\"a\"],\"data\":[[1,]]}",
        "{\"columns\":[\"a\"],\"data\":[[1]],}",
        "{\"columns\":[\"a\"] \"data\":[[1]]}",
        "{\"columns\":[\"a\"],\"data\":[[\"x\"],[1]]}",
        "{\"columns\":[\"a\"],\"data\":[[true],[\"x\"]]}",
        "{\"columns\":[\"a\"],\"index\":[true,1],\"data\":[[1],[2]]}",
        "{\"columns\":[\"a\"],\"index\":[\"x\",1],\"data\":[[1],[2]]}",
    };
    static const char *const bad_columns[] = {
        "", "[]", "{\"a\":1}", "{\"a\":[1]}", "{\"a\":{\"0\":[1]}}",
        "{\"a\":{\"0\":1},\"a\":{\"0\":2}}", "{\"a\":{\"0\":1,\"0\":2}}",
        "{\"a\":{\"0\":1}", "{\"a\":{\"0\":1}}}", "{\"a\":{0:1}}",
        "{\"a\":{\"0\":\"x\",\"1\":2}}",
        "{\"a\":{\"0\":1,\"0\":2},\"b\":{\"0\":1,\"0\":2}}",
        "{\"a\":{\"0\":1,\"1\":2},\"b\":{\"1\":1,\"1\":2}}",
        "{\"a\":{\"0\":1,\"1\":2},\"b\":{\"2\":1,\"2\":2}}",
    };
    fcd_frame_err_t err;
    fcd_frame_t *f;
    char *good, *goodc, *longstr;
    size_t len, lenc;
    unsigned seed = 99;

    for (size_t i = 0; i < sizeof bad_split / sizeof bad_split[0]; i++) {
        err.msg[0] = '\0';
        f = decode(bad_split[i], FCD_FRAME_SPLIT, &err);
        CU_ASSERT(f == NULL);
        CU_ASSERT(err.msg[0] != '\0');
        if (f != NULL)
            fprintf(stderr, "\naccepted: %s\n", bad_split[i]);
        fcd_frame_free(f);
    }
    for (size_t i = 0; i < sizeof bad_columns / sizeof bad_columns[0]; i++) {
        err.msg[0] = '\0';
        f = decode(bad_columns[i], FCD_FRAME_COLUMNS, &err);
        CU_ASSERT(f == NULL);
        CU_ASSERT(err.msg[0] != '\0');
        if (f != NULL)
            fprintf(stderr, "\naccepted: %s\n", bad_columns[i]);
        fcd_frame_free(f);
    }
    f = decode("{\"columns\":[\"a\"],\"data\":[[1],[1,2]]}", FCD_FRAME_SPLIT, &err);
    CU_ASSERT(strstr(err.msg, "row 1 has 2 cells") != NULL);
    f = decode("{\"columns\":[\"a\"],\"data\":[[\"x\"],[1]]}", FCD_FRAME_SPLIT, &err);
    CU_ASSERT(strstr(err.msg, "mixes strings") != NULL);
    CU_ASSERT(fcd_frame_from_json(NULL, 5, FCD_FRAME_SPLIT, &err) == NULL);
    CU_ASSERT(fcd_frame_from_json("{}", 2, (fcd_frame_orient_t)7, &err) == NULL);
    /* a NUL inside the text is just a bad character */
    CU_ASSERT(fcd_frame_from_json("{\"columns\":[],\"data\":[]}\0", 25,
                                  FCD_FRAME_SPLIT, &err) == NULL);

    /* over the limits */
    longstr = malloc(FCD_FRAME_MAX_NUMBER + 64);
    memset(longstr, '1', FCD_FRAME_MAX_NUMBER + 63);
    memcpy(longstr, "{\"a\":{\"0\":0.", 12);
    strcpy(longstr + FCD_FRAME_MAX_NUMBER + 40, "}}");
    CU_ASSERT(decode(longstr, FCD_FRAME_COLUMNS, &err) == NULL);
    CU_ASSERT(strstr(err.msg, "FCD_FRAME_MAX_NUMBER") != NULL);
    free(longstr);
    longstr = malloc(FCD_FRAME_MAX_STRING + 64);
    memset(longstr, 'x', FCD_FRAME_MAX_STRING + 63);
    memcpy(longstr, "{\"a\":{\"0\":\"", 11);
    strcpy(longstr + FCD_FRAME_MAX_STRING + 12, "\"}}");
    CU_ASSERT(decode(longstr, FCD_FRAME_COLUMNS, &err) == NULL);
    CU_ASSERT(strstr(err.msg, "FCD_FRAME_MAX_STRING") != NULL);
    longstr[FCD_FRAME_MAX_STRING + 11] = '"';
    longstr[FCD_FRAME_MAX_STRING + 12] = '}';
    longstr[FCD_FRAME_MAX_STRING + 13] = '}';
    longstr[FCD_FRAME_MAX_STRING + 14] = '\0';
    f = decode(longstr, FCD_FRAME_COLUMNS, &err); /* exactly the limit */
    CU_ASSERT(f != NULL);
    fcd_frame_free(f);
    free(longstr);

    /* every truncation of a good text is refused; random damage never
     * crashes (run under ASan/valgrind to see more than "no crash") */
    f = missing_frame();
    good = encode(f, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, &len);
    goodc = encode(f, FCD_FRAME_COLUMNS, 0, &lenc);
    fcd_frame_free(f);
    for (size_t n = 0; n < len; n++) {
        f = fcd_frame_from_json(good, n, FCD_FRAME_SPLIT, &err);
        CU_ASSERT(f == NULL);
        fcd_frame_free(f);
    }
    for (int t = 0; t < 20000; t++) {
        fcd_frame_orient_t o = t % 2 ? FCD_FRAME_SPLIT : FCD_FRAME_COLUMNS;
        size_t n = o == FCD_FRAME_SPLIT ? len : lenc;
        char *copy = malloc(n);

        memcpy(copy, o == FCD_FRAME_SPLIT ? good : goodc, n);
        for (int m = 0; m < 1 + t % 3; m++) {
            seed = seed * 1103515245 + 12345;
            copy[(seed >> 8) % n] = "{}[]\",:0-e.\\ux1tnf\xc3"[(seed >> 16) % 20];
        }
        f = fcd_frame_from_json(copy, n, o, &err);
        if (f != NULL) {
            fcd_frame_buf_t b = FCD_FRAME_BUF_INIT;

            fcd_frame_to_json(f, FCD_FRAME_COLUMNS, 0, &b, NULL);
            fcd_frame_to_csv(f, &b, NULL);
            fcd_frame_buf_free(&b);
        }
        fcd_frame_free(f);
        free(copy);
    }
    free(good);
    free(goodc);
}

/* An app may switch LC_NUMERIC to a locale that writes 1,5: the texts
 * must not change.  The test builds de_DE.UTF-8 with localedef into a
 * temporary directory; where that cannot be done it says so and checks
 * nothing. */
static void test_locale(void)
{
    char dir[] = "/tmp/fcd-locale-XXXXXX", cmd[256], *text;
    const double v[] = {1.5, 1.5e20, 1e-20, 1.0 / 3};
    const char *in = "{\"columns\":[\"x\"],\"data\":[[1.5e300],[0.25],[\"2,5\"]]}";
    fcd_frame_t *f = fcd_frame_new(), *g;
    fcd_frame_buf_t b = FCD_FRAME_BUF_INIT;
    char *old;

    if (mkdtemp(dir) == NULL)
        return;
    snprintf(cmd, sizeof cmd,
             "localedef -i de_DE -f UTF-8 %s/de_DE.UTF-8 >/dev/null 2>&1", dir);
    setenv("LOCPATH", dir, 1);
    old = strdup(setlocale(LC_NUMERIC, NULL));
    if (system(cmd) != 0 || setlocale(LC_NUMERIC, "de_DE.UTF-8") == NULL) {
        fprintf(stderr, "\n(no de_DE locale to build here: locale test skipped)\n");
    } else {
        char check[16];

        snprintf(check, sizeof check, "%.1f", 1.5);
        CU_ASSERT_STRING_EQUAL(check, "1,5"); /* the locale is in force */
        fcd_frame_add_float64(f, "x", v, 4, NULL);
        text = encode(f, FCD_FRAME_SPLIT, 0, NULL);
        CU_ASSERT_STRING_EQUAL(text, "{\"columns\":[\"x\"],\"index\":[0,1,2,3],"
                                     "\"data\":[[1.5],[1.5e+20],[1e-20],[0.3333333333]]}");
        free(text);
        CU_ASSERT(fcd_frame_to_csv(f, &b, NULL) == FCD_OK);
        CU_ASSERT_STRING_EQUAL(b.data,
                               "x\n1.5\n1.5e+20\n1e-20\n0.3333333333333333\n");
        /* "2,5" is no number to Python, whatever the locale */
        g = decode(in, FCD_FRAME_SPLIT, NULL);
        CU_ASSERT(g == NULL);
        fcd_frame_free(g);
        g = decode("{\"columns\":[\"x\"],\"data\":[[1.5e300],[0.25]]}",
                   FCD_FRAME_SPLIT, NULL);
        CU_ASSERT(g != NULL && fcd_frame_float64s(g, 0)[0] == 1.5e300);
        fcd_frame_free(g);
    }
    setlocale(LC_NUMERIC, old ? old : "C");
    free(old);
    unsetenv("LOCPATH");
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CU_ASSERT(system(cmd) == 0);
    fcd_frame_buf_free(&b);
    fcd_frame_free(f);
}

/* ---- Running out of memory ---------------------------------------------- */

static int oom_wrong; /* calls that failed with another message */

static void expect_oom(fcd_status_t st, const fcd_frame_err_t *err)
{
    if (st != FCD_OK && strcmp(err->msg, "out of memory") != 0) {
        fprintf(stderr, "\nwanted \"out of memory\", got \"%s\"\n", err->msg);
        oom_wrong++;
    }
}

static void *grab_quiet(void *ctx, size_t size)
{
    return *(void **)ctx = malloc(size);
}

/* What an app does with frames, every result checked, nothing asserted:
 * it only has to end without a crash, a leak or a wrong message. */
static void workout(void)
{
    static const char *const labels[] = {"a", "b", "c"};
    fcd_frame_err_t err = {""};
    fcd_frame_t *f = fcd_frame_new(), *g = NULL, *h = NULL, *p = NULL;
    fcd_frame_buf_t b = FCD_FRAME_BUF_INIT;
    void *block = NULL;
    json_object *a;

    if (f == NULL)
        return;
    expect_oom(fcd_frame_add_column(f, "city", FCD_FRAME_STRING, &err), &err);
    expect_oom(fcd_frame_add_column(f, "n", FCD_FRAME_INT64, &err), &err);
    expect_oom(fcd_frame_add_column(f, "t", FCD_FRAME_DATETIME, &err), &err);
    for (int i = 0; i < 3 && fcd_frame_ncols(f) == 3; i++)
        expect_oom(fcd_frame_append(f, &err, FCD_FRAME_S(cities[i % 3]),
                                    FCD_FRAME_I(i), FCD_FRAME_T(i * DAY)),
                   &err);
    if (fcd_frame_nrows(f) == 3) {
        expect_oom(fcd_frame_add_string(f, "s", unicode, 3, &err), &err);
        expect_oom(fcd_frame_add_float64(f, "x", (const double[]){0.5, NAN, 1e300},
                                         3, &err),
                   &err);
        expect_oom(fcd_frame_add_bool(f, "b", (const signed char[]){1, 0, NA}, 3,
                                      &err),
                   &err);
        expect_oom(fcd_frame_set_index_string(f, labels, 3, &err), &err);
    }
    if (fcd_frame_find(f, "city") != FCD_FRAME_NPOS &&
        (g = fcd_frame_filter_eq_str(f, "city", "SF", &err)) == NULL)
        expect_oom(FCD_ERROR, &err);
    expect_oom(fcd_frame_to_json(f, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, &b, &err),
               &err);
    expect_oom(fcd_frame_to_json(f, FCD_FRAME_COLUMNS, 0, &b, &err), &err);
    expect_oom(fcd_frame_to_csv(f, &b, &err), &err);
    (void)fcd_frame_cell_text(f, 0, 0, &b);
    b.len = 0;
    if (fcd_frame_to_json(f, FCD_FRAME_SPLIT, 0, &b, &err) == FCD_OK) {
        if ((h = fcd_frame_from_json(b.data, b.len, FCD_FRAME_SPLIT, &err)) == NULL)
            expect_oom(FCD_ERROR, &err);
        fcd_frame_free(h);
    }
    b.len = 0;
    if (fcd_frame_to_json(f, FCD_FRAME_COLUMNS, 0, &b, &err) == FCD_OK) {
        if ((h = fcd_frame_from_json(b.data, b.len, FCD_FRAME_COLUMNS, &err)) ==
            NULL)
            expect_oom(FCD_ERROR, &err);
        fcd_frame_free(h);
    }
    b.len = 0;
    if (fcd_frame_to_binary(f, &b, &err) == FCD_OK) {
        if ((h = fcd_frame_from_binary(b.data, b.len, &err)) == NULL)
            expect_oom(FCD_ERROR, &err);
        fcd_frame_free(h);
    } else {
        expect_oom(FCD_ERROR, &err);
    }
    /* The split reader's typed columns change type as cells arrive: nulls
     * then ints, ints then floats, nulls then strings, bools then numbers,
     * and a date-like column that takes the untyped path. */
    static const char changes[] =
        "{\"columns\":[\"n\",\"f\",\"s\",\"b\",\"date\"],\"index\":[0,1,2],"
        "\"data\":[[null,1,null,true,\"2020-01-01\"],[2,2.5,\"x\",false,null],"
        "[3,null,\"y\",1,\"2020-01-03\"]]}";
    if ((h = fcd_frame_from_json(changes, sizeof changes - 1, FCD_FRAME_SPLIT, &err)) == NULL)
        expect_oom(FCD_ERROR, &err);
    fcd_frame_free(h);
    if ((p = fcd_frame_pack(f, grab_quiet, &block, &err)) == NULL)
        expect_oom(FCD_ERROR, &err);
    if ((a = fcd_frame_column_json(f, 0)) != NULL)
        json_object_put(a);
    if ((a = fcd_frame_column_view(f, 0)) != NULL) {
        (void)json_object_to_json_string(a);
        json_object_put(a);
    }
    fcd_frame_free(p);
    free(block);
    fcd_frame_free(g);
    fcd_frame_free(f);
    fcd_frame_buf_free(&b);
}

static void test_out_of_memory(void)
{
    long n;

    oom_wrong = 0;
    for (n = 0; n < 100000; n++) {
        long live = chaos_live();

        chaos_arm((unsigned long)n + 1);
        workout();
        bool failed = chaos_disarm();
        CU_ASSERT(chaos_live() == live);
        if (chaos_live() != live) {
            fprintf(stderr, "\nleak when allocation %ld fails\n", n);
            break;
        }
        if (!failed)
            break;
    }
    CU_ASSERT(n > 50); /* the workout did allocate */
    CU_ASSERT(oom_wrong == 0);
}

/* ---- Suite "pandas" ----------------------------------------------------- */

static int run_fixtures(const char *mode)
{
    char cmd[1024];

    snprintf(cmd, sizeof cmd,
             PYTHON " '%s/tests/unit/pandas_fixtures.py' %s '%s'",
             FRAME_TEST_SRCDIR, mode, fixtures);
    if (system(cmd) != 0) {
        fprintf(stderr, "\n%s failed: pandas fixtures need Debian's "
                        "python3-pandas (apt-get install python3-pandas)\n",
                cmd);
        return -1;
    }
    return 0;
}

static int pandas_init(void)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(fixtures, sizeof fixtures, "%s/fcd-frame-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(fixtures) == NULL)
        return -1;
    return run_fixtures("gen");
}

static int remove_one(const char *path, const struct stat *st, int flag,
                      struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static int pandas_cleanup(void)
{
    if (fixtures[0] && !getenv("FCD_KEEP_FIXTURES"))
        nftw(fixtures, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* Output of one encoder against its fixture. */
static void check_against(const char *name, const char *suffix,
                          const char *got, size_t glen)
{
    char file[256];
    size_t wlen = 0;
    char *want;

    snprintf(file, sizeof file, "%s.%s", name, suffix);
    want = fixture(file, &wlen);
    CU_ASSERT(same_text(file, want, wlen, got, glen));
    free(want);
}

static void check_cells(const char *name, const fcd_frame_t *f)
{
    char file[256];
    char *text;
    json_object *cols;

    snprintf(file, sizeof file, "%s.str.json", name);
    if ((text = fixture(file, NULL)) == NULL)
        return; /* only small frames have one */
    cols = json_tokener_parse(text);
    CU_ASSERT_FATAL(cols != NULL);
    CU_ASSERT((size_t)json_object_array_length(cols) == fcd_frame_ncols(f));
    for (size_t j = 0; j < fcd_frame_ncols(f); j++) {
        json_object *col = json_object_array_get_idx(cols, j);

        for (size_t i = 0; i < fcd_frame_nrows(f); i++) {
            const char *want =
                json_object_get_string(json_object_array_get_idx(col, i));
            fcd_frame_buf_t b = FCD_FRAME_BUF_INIT;

            CU_ASSERT(fcd_frame_cell_text(f, j, i, &b) == FCD_OK);
            if (b.data == NULL || strcmp(b.data, want) != 0) {
                CU_FAIL("cell text differs from str()");
                fprintf(stderr, "\n%s (%zu, %zu): str() %s, fcdash %s\n", name,
                        j, i, want, b.data ? b.data : "(null)");
            }
            fcd_frame_buf_free(&b);
        }
    }
    json_object_put(cols);
    free(text);
}

/* Each column's view (fcd_frame_column_view) against the array Python's
 * json module writes for it, byte for byte. */
static void check_figure_arrays(const char *name, const fcd_frame_t *f)
{
    char file[256], *text, *line;
    size_t len, j = 0;

    snprintf(file, sizeof file, "%s.figure.json", name);
    text = fixture(file, &len);
    CU_ASSERT_FATAL(text != NULL);
    for (line = text; j < fcd_frame_ncols(f) && *line; j++) {
        char *nl = strchr(line, '\n');
        json_object *v = fcd_frame_column_view(f, j);
        size_t glen = 0;
        const char *got = v ? json_object_to_json_string_length(v, JSON_C_TO_STRING_PLAIN, &glen)
                            : NULL;

        CU_ASSERT_FATAL(nl != NULL && got != NULL);
        snprintf(file, sizeof file, "%s.figure.json column %zu", name, j);
        CU_ASSERT(same_text(file, line, (size_t)(nl - line), got, glen));
        json_object_put(v);
        line = nl + 1;
    }
    CU_ASSERT(j == fcd_frame_ncols(f) && *line == '\0');
    free(text);
}

static void test_encode_like_pandas(void)
{
    for (size_t k = 0; k < NCASES; k++) {
        const char *name = case_names[k];
        fcd_frame_t *f = case_frame(name);
        fcd_frame_buf_t b = FCD_FRAME_BUF_INIT;
        fcd_frame_err_t err;

        CU_ASSERT_FATAL(f != NULL);
        CU_ASSERT(fcd_frame_to_json(f, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, &b,
                                    &err) == FCD_OK);
        check_against(name, "split.json", b.data, b.len);
        b.len = 0;
        CU_ASSERT(fcd_frame_to_json(f, FCD_FRAME_COLUMNS, 0, &b, &err) == FCD_OK);
        check_against(name, "columns.json", b.data, b.len);
        b.len = 0;
        CU_ASSERT(fcd_frame_to_csv(f, &b, &err) == FCD_OK);
        check_against(name, "csv", b.data, b.len);
        check_cells(name, f);
        check_figure_arrays(name, f);
        fcd_frame_buf_free(&b);
        fcd_frame_free(f);
    }
}

static fcd_frame_type_t dtype_of(const char *line, size_t n)
{
    static const struct {
        const char *name;
        fcd_frame_type_t type;
    } map[] = {{"range", (fcd_frame_type_t)0},
               {"int64", FCD_FRAME_INT64},
               {"float64", FCD_FRAME_FLOAT64},
               {"object", FCD_FRAME_STRING},
               {"bool", FCD_FRAME_BOOL},
               {"datetime64[ns]", FCD_FRAME_DATETIME}};

    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].name) == n && memcmp(map[i].name, line, n) == 0)
            return map[i].type;
    return (fcd_frame_type_t)99;
}

/* The frame fcdash decoded against what read_json made of the same text:
 * the same split text, the same dtypes, the same float bits. */
static void check_decoded(const char *name, const fcd_frame_t *f)
{
    char file[256], *dtypes, *line, *hex, *h;
    size_t col = FCD_FRAME_INDEX, len;
    char *text = encode(f, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, &len);

    check_against(name, "expect", text, len);
    free(text);
    snprintf(file, sizeof file, "%s.dtypes", name);
    dtypes = fixture(file, NULL);
    CU_ASSERT_FATAL(dtypes != NULL);
    for (line = dtypes; *line; col = col == FCD_FRAME_INDEX ? 0 : col + 1) {
        size_t n = strcspn(line, "\n");

        if (fcd_frame_type(f, col) != dtype_of(line, n)) {
            CU_FAIL("dtype differs from read_json's");
            fprintf(stderr, "\n%s: column %zd is %.*s in pandas, type %d here\n",
                    name, col == FCD_FRAME_INDEX ? (ssize_t)-1 : (ssize_t)col,
                    (int)n, line, (int)fcd_frame_type(f, col));
        }
        line += n + (line[n] == '\n');
    }
    CU_ASSERT(col == fcd_frame_ncols(f));
    free(dtypes);

    snprintf(file, sizeof file, "%s.hex", name);
    hex = fixture(file, NULL);
    CU_ASSERT_FATAL(hex != NULL);
    h = hex;
    for (size_t i = 0; i < fcd_frame_nrows(f); i++)
        for (size_t j = 0; j < fcd_frame_ncols(f); j++) {
            const double *x = fcd_frame_float64s(f, j);
            char *end;
            double want;

            if (x == NULL)
                continue;
            want = strtod(h, &end);
            if (end == h || !(want == x[i] || (want != want && x[i] != x[i]))) {
                CU_FAIL("float differs from read_json's");
                fprintf(stderr, "\n%s: (%zu, %zu) pandas %.17g, fcdash %.17g\n",
                        name, i, j, want, x[i]);
                free(hex);
                return;
            }
            h = end + (*end == '\n');
        }
    free(hex);
}

static void test_decode_like_pandas(void)
{
    char *list = fixture("decode.list", NULL), *name;

    CU_ASSERT_FATAL(list != NULL);
    for (name = strtok(list, "\n"); name; name = strtok(NULL, "\n")) {
        char file[256], *in, *orient, *expect;
        size_t len;
        fcd_frame_err_t err = {""};
        fcd_frame_t *f;

        snprintf(file, sizeof file, "%s.in", name);
        in = fixture(file, &len);
        snprintf(file, sizeof file, "%s.orient", name);
        orient = fixture(file, NULL);
        snprintf(file, sizeof file, "%s.expect", name);
        expect = fixture(file, NULL);
        CU_ASSERT_FATAL(in && orient && expect);
        f = fcd_frame_from_json(in, len, strcmp(orient, "split") == 0
                                             ? FCD_FRAME_SPLIT
                                             : FCD_FRAME_COLUMNS,
                                &err);
        if (strncmp(expect, "ERROR", 5) == 0) {
            /* pandas refuses it, and so must fcdash */
            CU_ASSERT(f == NULL && err.msg[0] != '\0');
        } else if (f == NULL) {
            CU_FAIL("pandas reads a text fcdash refuses");
            fprintf(stderr, "\n%s: %s\n", name, err.msg);
        } else {
            check_decoded(name, f);
        }
        fcd_frame_free(f);
        free(in), free(orient), free(expect);
    }
    free(list);
}

static void test_pandas_reads_fcdash(void)
{
    char file[256];

    /* what fcdash writes ... */
    for (size_t k = 0; k < NCASES; k++) {
        fcd_frame_t *f = case_frame(case_names[k]);
        size_t len;
        char *text = encode(f, FCD_FRAME_SPLIT, FCD_FRAME_ISO_DATES, &len);

        snprintf(file, sizeof file, "C.%s.split.json", case_names[k]);
        put_fixture(file, text, len);
        free(text);
        if (strcmp(case_names[k], "big") != 0) {
            text = encode(f, FCD_FRAME_COLUMNS, 0, &len);
            snprintf(file, sizeof file, "C.%s.columns.json", case_names[k]);
            put_fixture(file, text, len);
            free(text);
        }
        fcd_frame_free(f);
    }
    /* ... pandas reads, and fcdash reads the same way */
    CU_ASSERT_FATAL(run_fixtures("readback") == 0);
    for (size_t k = 0; k < NCASES; k++)
        for (int o = 0; o < 2; o++) {
            char *text, *expect;
            size_t len;
            fcd_frame_t *f;
            fcd_frame_err_t err;

            snprintf(file, sizeof file, "C.%s.%s.json", case_names[k],
                     o ? "columns" : "split");
            if ((text = fixture(file, &len)) == NULL)
                continue;
            f = fcd_frame_from_json(text, len,
                                    o ? FCD_FRAME_COLUMNS : FCD_FRAME_SPLIT, &err);
            snprintf(file, sizeof file, "C.%s.%s.expect", case_names[k],
                     o ? "columns" : "split");
            expect = fixture(file, NULL);
            CU_ASSERT_FATAL(expect != NULL);
            if (strncmp(expect, "ERROR", 5) == 0) {
                /* fine only when pandas cannot read its own text either
                 * (it writes 5e-324 as 4.940656458e-324, and then its
                 * reader underflows) */
                char *own;
                size_t olen;

                snprintf(file, sizeof file, "%s.%s.json", case_names[k],
                         o ? "columns" : "split");
                own = fixture(file, &olen);
                if (own == NULL || olen != len || memcmp(own, text, len) != 0) {
                    CU_FAIL("pandas refuses what fcdash wrote");
                    fprintf(stderr, "\n%s: %s\n", file, expect);
                }
                free(own);
            } else if (f == NULL) {
                CU_FAIL("fcdash refuses what it wrote");
                fprintf(stderr, "\n%s: %s\n", file, err.msg);
            } else {
                snprintf(file, sizeof file, "C.%s.%s", case_names[k],
                         o ? "columns" : "split");
                check_decoded(file, f);
            }
            fcd_frame_free(f);
            free(text);
            free(expect);
        }
}

int main(void)
{
    CU_pSuite s;
    unsigned failures;

    if (CU_initialize_registry() != CUE_SUCCESS)
        return 2;
    s = CU_add_suite("frame", NULL, NULL);
    CU_add_test(s, "build and read", test_build_and_read);
    CU_add_test(s, "filter and take", test_filter);
    CU_add_test(s, "cell text and figure arrays", test_text_and_figures);
    CU_add_test(s, "pack", test_pack);
    CU_add_test(s, "binary form, hostile bytes", test_binary);
    CU_add_test(s, "hostile JSON", test_hostile_json);
    CU_add_test(s, "numbers whatever the locale", test_locale);
    CU_add_test(s, "out of memory at every allocation", test_out_of_memory);
    s = CU_add_suite("pandas", pandas_init, pandas_cleanup);
    CU_add_test(s, "encode like pandas", test_encode_like_pandas);
    CU_add_test(s, "decode like read_json", test_decode_like_pandas);
    CU_add_test(s, "pandas reads fcdash", test_pandas_reads_fcdash);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    failures = CU_get_number_of_failure_records();
    CU_cleanup_registry();
    return failures ? 1 : 0;
}
