/*
 * format.c - numbers, times and UTF-8 the way pandas and Python see them.
 *
 * Three writers of doubles live here because pandas uses three:
 *   - its JSON writer (a vendored ujson) prints a fixed-point number with at
 *     most ten decimals, rounded by its own rule, and falls back to printf's
 *     "%.10g" outside [1e-15, 1e16];
 *   - to_csv and str() print Python's repr(): the shortest text that reads
 *     back to the same double (its digits from Dragonbox, shortest.cc);
 *   - figures take repr() too (Python's json module writes it).
 * Each one is checked against pandas by the unit tests, value for value.
 *
 * printf and strtod follow the program's LC_NUMERIC, which an app may have
 * changed; the few calls here run under the C locale instead (glibc hands
 * out its built-in C locale object without allocating).
 *
 * Times are int64 nanoseconds since 1970-01-01 without a time zone, like
 * pandas' datetime64[ns]; the calendar conversions are the usual
 * days-from-civil arithmetic on the proleptic Gregorian calendar.
 */
#define _GNU_SOURCE /* strtod_l */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame/frame_int.h"
#include "frame/shortest.h"

/* ---- UTF-8 -------------------------------------------------------------- */

bool frame_utf8_valid(const char *s, size_t n)
{
    if (n == 0)
        return true; /* s may be NULL (a missing string) */
    const unsigned char *p = (const unsigned char *)s, *end = p + n;

    while (p < end) {
        unsigned c = *p;
        size_t more;
        uint32_t cp, min;

        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            more = 1, cp = c & 0x1f, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            more = 2, cp = c & 0x0f, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            more = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if ((size_t)(end - p) <= more)
            return false;
        for (size_t i = 1; i <= more; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        p += more + 1;
    }
    return true;
}

/* ---- The C locale ------------------------------------------------------- */

double frame_strtod(const char *s, char **end)
{
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    double d;

    if (c == (locale_t)0)
        return strtod(s, end);
    d = strtod_l(s, end, c);
    freelocale(c);
    return d;
}

/* snprintf of one double under the C locale. */
static int c_snprintf(char *buf, size_t size, const char *fmt, int prec,
                      double v)
{
    locale_t c = newlocale(LC_ALL_MASK, "C", (locale_t)0), old = (locale_t)0;
    int n;

    if (c != (locale_t)0)
        old = uselocale(c);
    n = snprintf(buf, size, fmt, prec, v);
    if (c != (locale_t)0) {
        uselocale(old);
        freelocale(c);
    }
    return n;
}

/* ---- Integers ----------------------------------------------------------- */

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

/* u in decimal, right-aligned to end; returns the first character.  Two
 * digits per division, in 32-bit arithmetic once u fits it (the usual
 * case, and cheaper than 64-bit). */
static inline char *utoa_back(char *end, uint64_t u)
{
    uint32_t v;

    while (u > UINT32_MAX) {
        unsigned r = (unsigned)(u % 100);

        u /= 100;
        end -= 2;
        memcpy(end, digit_pairs + 2 * r, 2);
    }
    v = (uint32_t)u;
    while (v >= 100) {
        unsigned r = v % 100;

        v /= 100;
        end -= 2;
        memcpy(end, digit_pairs + 2 * r, 2);
    }
    if (v >= 10) {
        end -= 2;
        memcpy(end, digit_pairs + 2 * v, 2);
    } else {
        *--end = (char)('0' + v);
    }
    return end;
}

/* The number of decimal digits of u, without a loop: the bit length times
 * log10(2) (1233 / 4096) is the digit count or one more, and one compare
 * with a power of ten settles which.  below[0] is 0 so that u = 0 counts
 * one digit. */
static int count_digits(uint64_t u)
{
    static const uint64_t below[20] = {
        0, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000,
        1000000000, 10000000000ull, 100000000000ull, 1000000000000ull,
        10000000000000ull, 100000000000000ull, 1000000000000000ull,
        10000000000000000ull, 100000000000000000ull, 1000000000000000000ull,
        10000000000000000000ull};
    int t = (64 - __builtin_clzll(u | 1)) * 1233 >> 12;

    return t + 1 - (u < below[t]);
}

/* u in decimal at out; returns the end.  Counting the digits first lets
 * the digits go straight to their place (no copy: this runs per cell). */
static char *put_uint(char *out, uint64_t u)
{
    char *end = out + count_digits(u);

    utoa_back(end, u);
    return end;
}

size_t frame_fmt_int(char *out, int64_t v)
{
    char *p = out;

    if (v < 0)
        *p++ = '-';
    return (size_t)(put_uint(p, v < 0 ? 0 - (uint64_t)v : (uint64_t)v) - out);
}

/* ---- Doubles as pandas' JSON writer prints them ------------------------- */

/* ujson's cut-offs: outside them it prints "%.10g".  pandas writes the upper
 * one as 1e16 - 1, which as a double is 1e16 itself. */
#define UJSON_MAX 1e16
#define UJSON_MIN 1e-15
#define UJSON_DECIMALS 10
#define UJSON_SCALE 1e10
#define UJSON_SCALE_INT 10000000000ull
/* 2^57 / 10^6 rounded up, and 2^57 - 1: see frame_fmt_pandas_double */
#define FRAC8_SCALE 144115188076ull
#define FRAC8_MASK ((1ull << 57) - 1)

size_t frame_fmt_pandas_double(char *out, double v)
{
    bool neg = v < 0;
    double a = neg ? -v : v, scaled, diff;
    uint64_t whole, frac;
    char *p = out;

    if (a > UJSON_MAX || (a != 0.0 && a < UJSON_MIN)) {
        int n = c_snprintf(out, 32, "%.*g", UJSON_DECIMALS, v);

        return n > 0 && n < 32 ? (size_t)n : 0;
    }
    whole = (uint64_t)a;
    scaled = (a - (double)whole) * UJSON_SCALE;
    frac = (uint64_t)scaled;
    diff = scaled - (double)frac;
    /* ujson rounds half up when the last kept digit is odd or when nothing
     * is kept, and otherwise down; a carry into the whole part rolls over. */
    if (diff > 0.5 || (diff == 0.5 && (frac == 0 || (frac & 1))))
        frac++;
    if (frac >= UJSON_SCALE_INT) {
        frac = 0;
        whole++;
    }
    if (neg)
        *p++ = '-';
    p = put_uint(p, whole);
    *p++ = '.';
    if (frac == 0) {
        *p++ = '0';
    } else {
        /* ten digits, zero-padded: the first two by a division, the
         * other eight as a binary fraction of 2^57 that yields a pair of
         * digits per multiplication by 100 (the rounding up of 2^57 / 10^6
         * errs by under 10^8 / 2^57, too little to reach the next pair
         * after three steps); then the trailing zeros cut */
        uint64_t t = (frac % 100000000) * FRAC8_SCALE;

        _Static_assert(UJSON_DECIMALS == 10, "five pairs of digits below");
        memcpy(p, digit_pairs + 2 * (frac / 100000000), 2);
        memcpy(p + 2, digit_pairs + 2 * (t >> 57), 2);
        /* written out: gcc keeps a three-step loop's counter and branch,
         * a tenth of this function's instructions, in the codec's
         * busiest path */
        t = (t & FRAC8_MASK) * 100;
        memcpy(p + 4, digit_pairs + 2 * (t >> 57), 2);
        t = (t & FRAC8_MASK) * 100;
        memcpy(p + 6, digit_pairs + 2 * (t >> 57), 2);
        t = (t & FRAC8_MASK) * 100;
        memcpy(p + 8, digit_pairs + 2 * (t >> 57), 2);
        p += UJSON_DECIMALS;
        while (p[-1] == '0')
            p--;
    }
    return (size_t)(p - out);
}

/* ---- Doubles as Python's repr() prints them ----------------------------- */

/* Python's float_repr_style 'short' switches to the exponent form when the
 * decimal point would sit more than 4 places before the first digit or more
 * than 16 after it (1e-05, 0.0001, 1e+16, 1234567890123456.0). */
#define REPR_EXP_BELOW (-4)
#define REPR_EXP_ABOVE 16

/* sig's digits right-aligned to end, as utoa_back writes them, but the
 * last eight split off by one division first: a repr has up to 17 digits,
 * and the rest is then 32-bit work. */
static void sig_back(char *end, uint64_t sig)
{
    if (sig >= 100000000) {
        uint64_t hi = sig / 100000000;
        uint32_t lo = (uint32_t)(sig - hi * 100000000);

        for (int k = 0; k < 4; k++, lo /= 100)
            memcpy(end - 2 * (k + 1), digit_pairs + 2 * (lo % 100), 2);
        end -= 8;
        sig = hi;
    }
    utoa_back(end, sig);
}

size_t frame_fmt_repr(char *out, double v)
{
    char *p = out;
    uint64_t sig;
    int nd, exp10, decpt;

    if (v != v)
        return memcpy(out, "nan", 3), 3;
    if (isinf(v))
        return v < 0 ? (memcpy(out, "-inf", 4), 4) : (memcpy(out, "inf", 3), 3);
    if (v == 0)
        return signbit(v) ? (memcpy(out, "-0.0", 4), 4)
                          : (memcpy(out, "0.0", 3), 3);

    /* v = sig * 10^exp10, sig the shortest digits that read back */
    frame_shortest_digits(v, &sig, &exp10);
    nd = count_digits(sig);
    decpt = nd + exp10; /* v = 0.DIGITS * 10^decpt */
    if (v < 0)
        *p++ = '-';

    /* The digits go straight to their place (this runs for every number
     * of a figure); where a point splits them, they are written one place
     * to the right and the part before the point moved back over it. */
    if (decpt <= REPR_EXP_BELOW || decpt > REPR_EXP_ABOVE) {
        int e = decpt - 1;

        sig_back(p + 1 + nd, sig);
        p[0] = p[1];
        if (nd > 1) {
            p[1] = '.';
            p += nd + 1;
        } else {
            p++;
        }
        *p++ = 'e';
        *p++ = e < 0 ? '-' : '+';
        if (e < 0)
            e = -e;
        if (e < 10)
            *p++ = '0'; /* at least two exponent digits: 1e-05 */
        p = put_uint(p, (uint64_t)e);
    } else if (decpt <= 0) {
        *p++ = '0';
        *p++ = '.';
        for (int k = decpt; k < 0; k++)
            *p++ = '0';
        sig_back(p + nd, sig);
        p += nd;
    } else if (decpt < nd) {
        sig_back(p + 1 + nd, sig);
        for (int k = 0; k < decpt; k++)
            p[k] = p[k + 1];
        p[decpt] = '.';
        p += nd + 1;
    } else {
        sig_back(p + nd, sig);
        p += nd;
        for (int k = nd; k < decpt; k++)
            *p++ = '0';
        *p++ = '.';
        *p++ = '0';
    }
    return (size_t)(p - out);
}

/* ---- Times -------------------------------------------------------------- */

#define NS_PER_SEC 1000000000LL
#define SEC_PER_DAY 86400LL

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian): shift to
 * eras of 400 years that start on March 1st, so leap days fall last. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468; /* days from 0000-03-01 to 1970-01-01 */
    era = floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void frame_ns_to_tm(int64_t ns, struct frame_tm *tm)
{
    /* split without multiplying back: secs * 1e9 overflows near NaT */
    int64_t secs = ns / NS_PER_SEC, rem = ns % NS_PER_SEC, days, sod;

    if (rem < 0) {
        rem += NS_PER_SEC;
        secs--;
    }
    days = floor_div(secs, SEC_PER_DAY);
    sod = secs - days * SEC_PER_DAY;
    tm->nsec = (int32_t)rem;
    civil_from_days(days, &tm->year, &tm->mon, &tm->day);
    tm->hour = (int)(sod / 3600);
    tm->min = (int)(sod / 60 % 60);
    tm->sec = (int)(sod % 60);
}

bool frame_tm_to_ns(const struct frame_tm *tm, int64_t *ns)
{
    int64_t days, secs, out;

    /* years far outside int64 nanoseconds would overflow the day count */
    if (tm->year < 1600 || tm->year > 2300)
        return false;
    days = days_from_civil(tm->year, tm->mon, tm->day);
    secs = days * SEC_PER_DAY + tm->hour * 3600 + tm->min * 60 + tm->sec;
    if (__builtin_mul_overflow(secs, NS_PER_SEC, &out) ||
        __builtin_add_overflow(out, (int64_t)tm->nsec, &out) ||
        out == FCD_FRAME_NAT)
        return false;
    *ns = out;
    return true;
}

static char *put2(char *p, int v)
{
    memcpy(p, digit_pairs + 2 * v, 2);
    return p + 2;
}

/* "YYYY-MM-DD?HH:MM:SS" with `sep` between date and time. */
static char *put_datetime(char *p, const struct frame_tm *tm, char sep)
{
    int64_t y = tm->year;

    /* pandas' range is years 1677-2262: always four digits */
    p = put2(p, (int)(y / 100));
    p = put2(p, (int)(y % 100));
    *p++ = '-';
    p = put2(p, tm->mon);
    *p++ = '-';
    p = put2(p, tm->day);
    *p++ = sep;
    p = put2(p, tm->hour);
    *p++ = ':';
    p = put2(p, tm->min);
    *p++ = ':';
    return put2(p, tm->sec);
}

/* n digits of v, zero-padded. */
static char *put_frac(char *p, int32_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return p + n;
}

size_t frame_fmt_iso_ms(char *out, int64_t ns)
{
    struct frame_tm tm;
    char *p;

    frame_ns_to_tm(ns, &tm);
    p = put_datetime(out, &tm, 'T');
    *p++ = '.';
    p = put_frac(p, tm.nsec / 1000000, 3);
    return (size_t)(p - out);
}

size_t frame_fmt_timestamp(char *out, int64_t ns)
{
    struct frame_tm tm;
    char *p;

    frame_ns_to_tm(ns, &tm);
    p = put_datetime(out, &tm, ' ');
    if (tm.nsec % 1000 != 0) {
        *p++ = '.';
        p = put_frac(p, tm.nsec, 9);
    } else if (tm.nsec != 0) {
        *p++ = '.';
        p = put_frac(p, tm.nsec / 1000, 6);
    }
    return (size_t)(p - out);
}

/* ---- Parsing what Python accepts ---------------------------------------- */

/* str.isspace() for the ASCII range, which float() and int() strip. */
static bool py_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

static void py_strip(const char **s, size_t *n)
{
    while (*n && py_space((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && py_space((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Digits with single '_' between them, copied without the '_'; returns the
 * number of digits (0 when there are none or an '_' is misplaced). */
static size_t py_digits(const char *s, size_t n, size_t *i, char *out,
                        size_t *o, size_t cap)
{
    size_t count = 0;

    while (*i < n) {
        if (is_digit(s[*i])) {
            if (*o >= cap)
                return 0;
            out[(*o)++] = s[(*i)++];
            count++;
        } else if (s[*i] == '_' && count && *i + 1 < n && is_digit(s[*i + 1])) {
            (*i)++;
        } else {
            break;
        }
    }
    return count;
}

static bool word_is(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word);

    if (n != w)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return false;
    }
    return true;
}

bool frame_parse_pyfloat(const char *s, size_t n, double *out)
{
    char buf[FCD_FRAME_MAX_NUMBER + 1], *end;
    size_t i = 0, o = 0, cap = FCD_FRAME_MAX_NUMBER, intd, fracd = 0;
    bool neg = false;

    py_strip(&s, &n);
    if (n && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        buf[o++] = s[i++];
    }
    /* plain integers of up to 15 digits are exact doubles: no strtod
     * (orient='columns' labels are such, one per row) */
    if (n - i >= 1 && n - i <= 15) {
        uint64_t u = 0;
        size_t k = i;

        while (k < n && is_digit(s[k]))
            u = u * 10 + (uint64_t)(s[k++] - '0');
        if (k == n) {
            *out = neg ? -(double)u : (double)u;
            return true;
        }
    }
    if (word_is(s + i, n - i, "inf") || word_is(s + i, n - i, "infinity")) {
        *out = neg ? -(double)INFINITY : (double)INFINITY;
        return true;
    }
    if (word_is(s + i, n - i, "nan")) {
        *out = (double)NAN;
        return true;
    }
    intd = py_digits(s, n, &i, buf, &o, cap);
    if (i < n && s[i] == '.') {
        if (o >= cap)
            return false;
        buf[o++] = s[i++];
        fracd = py_digits(s, n, &i, buf, &o, cap);
        if (fracd == 0 && i < n && s[i] == '_')
            return false;
    }
    if (intd + fracd == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        if (o + 2 >= cap)
            return false;
        buf[o++] = s[i++];
        if (i < n && (s[i] == '+' || s[i] == '-'))
            buf[o++] = s[i++];
        if (py_digits(s, n, &i, buf, &o, cap) == 0)
            return false;
    }
    if (i != n)
        return false;
    buf[o] = '\0';
    *out = frame_strtod(buf, &end);
    return *end == '\0';
}

bool frame_parse_pyint(const char *s, size_t n, int64_t *out)
{
    char buf[FCD_FRAME_MAX_NUMBER + 1];
    size_t i = 0, o = 0;
    bool neg = false;
    uint64_t u = 0, limit;

    py_strip(&s, &n);
    if (n && (s[0] == '+' || s[0] == '-'))
        neg = s[i++] == '-';
    if (py_digits(s, n, &i, buf, &o, FCD_FRAME_MAX_NUMBER) == 0 || i != n)
        return false;
    limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (size_t k = 0; k < o; k++) {
        unsigned d = (unsigned)(buf[k] - '0');

        if (u > (limit - d) / 10)
            return false;
        u = u * 10 + d;
    }
    *out = neg ? (int64_t)(0 - u) : (int64_t)u;
    return true;
}

/* n digits at s as a number, or -1. */
static int fixed_digits(const char *s, size_t n)
{
    int v = 0;

    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static int days_in_month(int64_t y, int m)
{
    static const unsigned char days[12] = {31, 28, 31, 30, 31, 30,
                                           31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return days[m - 1] + (m == 2 && leap);
}

bool frame_parse_iso(const char *s, size_t n, int64_t *ns)
{
    struct frame_tm tm = {0, 0, 0, 0, 0, 0, 0};
    int y;

    if (n < 10 || s[4] != '-' || s[7] != '-')
        return false;
    if ((y = fixed_digits(s, 4)) < 0 || (tm.mon = fixed_digits(s + 5, 2)) < 1 ||
        tm.mon > 12 || (tm.day = fixed_digits(s + 8, 2)) < 1 ||
        tm.day > days_in_month(y, tm.mon))
        return false;
    tm.year = y;
    if (n > 10) {
        size_t i = 16;

        if (n < 16 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':')
            return false;
        if ((tm.hour = fixed_digits(s + 11, 2)) < 0 || tm.hour > 23 ||
            (tm.min = fixed_digits(s + 14, 2)) < 0 || tm.min > 59)
            return false;
        if (n > 16) {
            if (n < 19 || s[16] != ':' ||
                (tm.sec = fixed_digits(s + 17, 2)) < 0 || tm.sec > 59)
                return false;
            i = 19;
            if (n > 19) {
                size_t fd = n - 20;

                if (s[19] != '.' || fd < 1 || fd > 9 ||
                    (tm.nsec = fixed_digits(s + 20, fd)) < 0)
                    return false;
                for (; fd < 9; fd++)
                    tm.nsec *= 10;
                i = n;
            }
        }
        if (i != n)
            return false;
    }
    return frame_tm_to_ns(&tm, ns);
}
