/*
 * json.c - JSON values for apps and the request path.
 *
 * Apps describe components with JSON text in which ' may stand for ", so a
 * prop list reads like its Python original.  The rewrite to strict JSON is
 * done once per builder call, at start-up for static layouts.  A mistake
 * becomes an error node rather than a NULL: the node keeps its message as
 * it travels up the tree, and fcd_run() (for layouts) or the dispatcher
 * (for callback outputs) reports it.  No global state: json-c's own
 * serializer format is left alone; doubles made here carry their text.
 */
#define _GNU_SOURCE
#include "base/json.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcdash.h"
#include "frame/frame_int.h" /* frame_fmt_repr */

static bool values_out_of_memory;

void fcd_json_note_oom(void)
{
    values_out_of_memory = true;
}

bool fcd_json_take_oom(void)
{
    bool seen = values_out_of_memory;
    values_out_of_memory = false;
    return seen;
}

json_object *fcd_json_made(json_object *v)
{
    if (v == NULL)
        values_out_of_memory = true;
    return v;
}

json_object *fcd_json_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_object *o = fcd_json_made(json_object_new_object());
    json_object *m = fcd_json_made(json_object_new_string(msg));
    if (o == NULL || m == NULL || json_object_object_add(o, FCD_JSON_ERROR_KEY, m) != 0) {
        fcd_json_note_oom();
        json_object_put(m);
    }
    return o;
}

const char *fcd_value_error(json_object *value)
{
    json_object *m;
    if (value != NULL && json_object_is_type(value, json_type_object) &&
        json_object_object_get_ex(value, FCD_JSON_ERROR_KEY, &m))
        return json_object_get_string(m);
    return NULL;
}

const char *fcd_json_find_error(json_object *v)
{
    if (v == NULL)
        return NULL;
    if (json_object_is_type(v, json_type_object)) {
        const char *e = fcd_value_error(v);
        if (e != NULL)
            return e;
        json_object_object_foreach(v, key, child) {
            (void)key;
            if ((e = fcd_json_find_error(child)) != NULL)
                return e;
        }
    } else if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++) {
            const char *e = fcd_json_find_error(json_object_array_get_idx(v, i));
            if (e != NULL)
                return e;
        }
    }
    return NULL;
}

/* The decimal exponent of a JSON number token's first significant digit
 * (1234.5e2 -> 5, 0.012 -> -2), or LONG_MIN for zero.  Enough to tell a
 * number past the double range (about 1.8e308) without converting it. */
static long magnitude(const char *t, size_t n)
{
    size_t i = t[0] == '-', int_digits = 0, lead_zeros = 0;
    bool nonzero_int = false, nonzero_frac = false;
    for (; i < n && t[i] >= '0' && t[i] <= '9'; i++) {
        nonzero_int |= t[i] != '0';
        int_digits += nonzero_int;
    }
    if (i < n && t[i] == '.')
        for (i++; i < n && t[i] >= '0' && t[i] <= '9'; i++) {
            if (t[i] != '0')
                nonzero_frac = true;
            else if (!nonzero_frac)
                lead_zeros++;
        }
    long exp = 0;
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        bool neg = t[++i] == '-';
        for (i += t[i] == '-' || t[i] == '+'; i < n && t[i] >= '0' && t[i] <= '9'; i++)
            if (exp < 100000) /* far past any double, and no overflow */
                exp = exp * 10 + (t[i] - '0');
        exp = neg ? -exp : exp;
    }
    if (nonzero_int)
        return (long)int_digits - 1 + exp;
    return nonzero_frac ? exp - (long)lead_zeros - 1 : LONG_MIN;
}

/* What json-c takes but a callback could not be given faithfully, found
 * in the text of a value json-c has already accepted (so strings and
 * numbers are well formed): a raw control character or an escaped NUL
 * inside a string (json-c lets the first through even in strict mode, and
 * cuts object keys at the second); an integer literal past the int64
 * range (json-c clamps it without a word: 99999999999999999999999 would
 * reach the callback as 18446744073709551615); a number past the double
 * range (1e400 is infinity), and json-c's NaN and Infinity, which strict
 * mode lets through.  Browsers send none of these.  Returns NULL, or a
 * message with its byte offset in `at`; `unsure` is set for a number of
 * magnitude 308, which only the parsed double can settle. */
static const char *unfaithful_text(const char *text, size_t len, size_t *at, bool *unsure)
{
    static const char int64_max[] = "9223372036854775807", int64_min[] = "9223372036854775808";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '"') {
            for (i++; i < len && text[i] != '"'; i++) {
                *at = i;
                if ((unsigned char)text[i] < 0x20)
                    return "a control character inside a string (JSON wants it escaped)";
                if (text[i] == '\\') {
                    i++;
                    if (i + 4 < len && text[i] == 'u' && !memcmp(text + i + 1, "0000", 4))
                        return "\\u0000 (a NUL character) inside a string";
                }
            }
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start = i, digits = 0;
            bool negative = c == '-', integer = true;
            if (negative)
                i++;
            for (; i < len; i++) {
                char d = text[i];
                if (d >= '0' && d <= '9')
                    digits += integer;
                else if (d == '.' || d == 'e' || d == 'E' || d == '+' || d == '-')
                    integer = false;
                else
                    break;
            }
            const char *first = text + start + negative;
            const char *limit = negative ? int64_min : int64_max;
            *at = start;
            if (integer && (digits > 19 || (digits == 19 && memcmp(first, limit, 19) > 0)))
                return "an integer outside the signed 64-bit range";
            if (!integer) {
                long m = magnitude(text + start, i - start);
                if (m > 308)
                    return "a number past the double range";
                *unsure |= m == 308;
            }
            i--; /* the loop's i++ comes to what ended the number */
        } else if (c == 'N' || c == 'I') {
            /* Outside strings json-c's strict mode takes no other words. */
            *at = i;
            return "NaN or Infinity, which JSON does not have";
        }
    }
    return NULL;
}

/* A double json-c parsed that is not finite (a literal of magnitude 308
 * past DBL_MAX).  JSON has no such numbers. */
static bool has_non_finite(json_object *v)
{
    switch (json_object_get_type(v)) {
    case json_type_double:
        return !isfinite(json_object_get_double(v));
    case json_type_array: {
        size_t n = json_object_array_length(v);
        for (size_t i = 0; i < n; i++)
            if (has_non_finite(json_object_array_get_idx(v, i)))
                return true;
        return false;
    }
    case json_type_object: {
        json_object_object_foreach(v, key, child) {
            (void)key;
            if (has_non_finite(child))
                return true;
        }
        return false;
    }
    default:
        return false;
    }
}

json_object *fcd_json_parse(const char *text, size_t len, int max_depth,
                            char *err, size_t errlen)
{
    if (len > (size_t)INT32_MAX) {
        snprintf(err, errlen, "JSON text of %zu bytes is too long", len);
        return NULL;
    }
    json_tokener *tok = json_tokener_new_ex(max_depth);
    if (tok == NULL) {
        snprintf(err, errlen, "%s", FCD_JSON_OUT_OF_MEMORY);
        return NULL;
    }
    /* Strict mode refuses what browsers never send (comments, trailing
     * commas, bare words) so garbage is caught early; json-c still takes
     * single-quoted strings, which is harmless. */
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *v = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error e = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    /* A number or a literal at the top level (5, null) waits for a
     * delimiter that will not come: end the input for it. */
    if (e == json_tokener_continue && used == len) {
        v = json_tokener_parse_ex(tok, "", 1);
        e = json_tokener_get_error(tok);
        if (e == json_tokener_error_parse_eof)
            e = json_tokener_continue;
    }
    if (v == NULL || e != json_tokener_success) {
        if (e == json_tokener_success)
            snprintf(err, errlen, "the JSON text is null, not an object or an array");
        else if (e == json_tokener_continue)
            snprintf(err, errlen, "JSON text ends too early (after %zu bytes)", len);
        else if (e == json_tokener_error_depth)
            snprintf(err, errlen, "JSON nested deeper than %d levels", max_depth);
        else if (e == json_tokener_error_parse_eof && memchr(text, '\0', len) != NULL)
            /* json-c stops at a NUL as if the text ended there. */
            snprintf(err, errlen, "malformed JSON: a NUL byte at byte %zu",
                     (size_t)((const char *)memchr(text, '\0', len) - text));
        else
            snprintf(err, errlen, "malformed JSON at byte %zu: %s", used,
                     json_tokener_error_desc(e));
        json_object_put(v);
        json_tokener_free(tok);
        return NULL;
    }
    json_tokener_free(tok);
    /* Only JSON's own white space may follow; a NUL is data, not a space
     * (strchr would match the terminator). */
    while (used < len && (text[used] == ' ' || text[used] == '\t' || text[used] == '\r' ||
                          text[used] == '\n'))
        used++;
    if (used != len) {
        snprintf(err, errlen, "unexpected data after the JSON value at byte %zu", used);
        json_object_put(v);
        return NULL;
    }
    size_t at = 0;
    bool unsure = false;
    const char *why = unfaithful_text(text, len, &at, &unsure);
    if (why != NULL) {
        snprintf(err, errlen, "JSON not accepted at byte %zu: %s", at, why);
        json_object_put(v);
        return NULL;
    }
    if (unsure && has_non_finite(v)) {
        snprintf(err, errlen,
                 "JSON not accepted: a number past the double range");
        json_object_put(v);
        return NULL;
    }
    return v;
}

/* Rewrite the relaxed form: outside double-quoted strings, a single-quoted
 * string becomes a double-quoted one (" inside it is escaped, \' is a
 * quote).  Returns a malloc'd strict text, or NULL when out of memory. */
static char *strict_text(const char *in)
{
    size_t n = strlen(in);
    if (n > (SIZE_MAX - 1) / 2)
        return NULL;
    char *out = malloc(2 * n + 1), *o = out;
    if (out == NULL)
        return NULL;
    char quote = 0;
    for (const char *p = in; *p != '\0'; p++) {
        if (quote == 0) {
            if (*p == '\'' || *p == '"') {
                quote = *p;
                *o++ = '"';
            } else {
                *o++ = *p;
            }
        } else if (*p == '\\' && p[1] != '\0') {
            if (quote == '\'' && p[1] == '\'') {
                *o++ = '\'';
            } else {
                *o++ = '\\';
                *o++ = p[1];
            }
            p++;
        } else if (*p == quote) {
            quote = 0;
            *o++ = '"';
        } else if (*p == '"') { /* a " inside a '...' string */
            *o++ = '\\';
            *o++ = '"';
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return out;
}

json_object *fcd_json(const char *text)
{
    if (text == NULL)
        return fcd_json_error("fcd_json: no text");
    char *strict = strict_text(text);
    if (strict == NULL) {
        fcd_json_note_oom();
        return fcd_json_error("out of memory");
    }
    char err[200];
    /* App-written text: the depth bound only guards against runaway input. */
    json_object *v = fcd_json_parse(strict, strlen(strict), 256, err, sizeof err);
    free(strict);
    if (v == NULL) {
        if (strcmp(err, FCD_JSON_OUT_OF_MEMORY) == 0)
            fcd_json_note_oom();
        return fcd_json_error("%s in %.80s", err, text);
    }
    return v;
}

/* Add a value just made to obj; -1 (noted, the value released) when
 * making or adding it ran out of memory. */
static int add_made(json_object *obj, const char *key, json_object *v)
{
    if (fcd_json_made(v) == NULL)
        return -1;
    if (json_object_object_add(obj, key, v) != 0) {
        json_object_put(v);
        fcd_json_note_oom();
        return -1;
    }
    return 0;
}

json_object *fcd_component(const char *ns, const char *type, json_object *props,
                           json_object *children)
{
    const char *e;
    if ((e = fcd_value_error(props)) != NULL || (e = fcd_value_error(children)) != NULL) {
        json_object *err = fcd_json_error("%s %s: %s", ns, type, e);
        json_object_put(props);
        json_object_put(children);
        return err;
    }
    if (props == NULL && (props = fcd_json_made(json_object_new_object())) == NULL) {
        json_object_put(children);
        return NULL;
    }
    if (!json_object_is_type(props, json_type_object)) {
        json_object_put(props);
        json_object_put(children);
        return fcd_json_error("%s %s: props must be a JSON object", ns, type);
    }
    if (children != NULL && json_object_object_add(props, "children", children) != 0) {
        json_object_put(children);
        json_object_put(props);
        fcd_json_note_oom();
        return NULL;
    }
    json_object *c = fcd_json_made(json_object_new_object());
    if (c == NULL) {
        json_object_put(props);
        return NULL;
    }
    if (add_made(c, "type", json_object_new_string(type)) != 0 ||
        add_made(c, "namespace", json_object_new_string(ns)) != 0 ||
        json_object_object_add(c, "props", props) != 0) {
        json_object_put(props);
        json_object_put(c);
        fcd_json_note_oom();
        return NULL;
    }
    return c;
}

static json_object *component_v(const char *ns, const char *type, const char *props,
                                va_list ap)
{
    json_object *p = props != NULL ? fcd_json(props) : NULL;
    json_object *kids = NULL, *first = NULL, *child;
    size_t n = 0;
    while ((child = va_arg(ap, json_object *)) != NULL) {
        if (n == 0) {
            first = child;
        } else {
            if (kids == NULL && (kids = fcd_json_made(json_object_new_array())) != NULL &&
                json_object_array_add(kids, first) != 0) {
                json_object_put(kids);
                kids = NULL;
                fcd_json_note_oom();
            }
            if (kids == NULL || json_object_array_add(kids, child) != 0) {
                /* Every child is released; the note makes the answer a 500. */
                json_object_put(child);
                fcd_json_note_oom();
            }
        }
        n++;
    }
    json_object *children = kids != NULL ? kids : first;
    /* An error child inside an array must still travel up. */
    const char *e = kids != NULL ? fcd_json_find_error(kids) : NULL;
    if (e != NULL) {
        json_object *err = fcd_json_error("%s %s: %s", ns, type, e);
        json_object_put(p);
        json_object_put(children);
        return err;
    }
    return fcd_component(ns, type, p, children);
}

json_object *fcd_html_(const char *type, const char *props, ...)
{
    va_list ap;
    va_start(ap, props);
    json_object *c = component_v("dash_html_components", type, props, ap);
    va_end(ap);
    return c;
}

json_object *fcd_dcc_(const char *type, const char *props, ...)
{
    va_list ap;
    va_start(ap, props);
    json_object *c = component_v("dash_core_components", type, props, ap);
    va_end(ap);
    return c;
}

json_object *fcd_text(const char *text)
{
    return fcd_json_made(json_object_new_string(text != NULL ? text : ""));
}

json_object *fcd_textf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        fcd_json_note_oom();
        return NULL;
    }
    json_object *v = fcd_json_made(json_object_new_string_len(s, n));
    free(s);
    return v;
}

json_object *fcd_int(int64_t value)
{
    return fcd_json_made(json_object_new_int64(value));
}

json_object *fcd_double(double value)
{
    char s[32];

    if (!isfinite(value))
        return NULL; /* JSON has no NaN or infinity: Dash sends null */
    /* Python's json module writes a float as repr() does; the frame's
     * figure arrays use the same writer, so the two always agree. */
    s[frame_fmt_repr(s, value)] = '\0';
    return fcd_json_made(json_object_new_double_s(value, s));
}

int fcd_json_write(fcd_buf_t *b, json_object *v, int for_script)
{
    size_t len;
    const char *s = fcd_json_text(v, &len);
    if (s == NULL)
        return -1;
    if (!for_script)
        return fcd_buf_add(b, s, len);
    /* '<' can only occur inside strings in JSON text. */
    const char *run = s;
    for (const char *p = s; *p != '\0'; p++) {
        if (*p == '<') {
            fcd_buf_add(b, run, (size_t)(p - run));
            fcd_buf_add(b, "\\u003c", 6);
            run = p + 1;
        }
    }
    fcd_buf_adds(b, run);
    return b->failed ? -1 : 0;
}

const char *fcd_json_text(json_object *v, size_t *len)
{
    if (v == NULL) {
        *len = 4;
        return "null";
    }
    return json_object_to_json_string_length(
        v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

static int compare_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int fcd_json_canonical(fcd_buf_t *b, json_object *v, int depth)
{
    if (depth > 64)
        return -1;
    if (json_object_is_type(v, json_type_object)) {
        size_t n = (size_t)json_object_object_length(v), i = 0;
        const char **keys = malloc((n ? n : 1) * sizeof *keys);
        if (keys == NULL)
            return -1;
        json_object_object_foreach(v, key, child) {
            (void)child;
            keys[i++] = key;
        }
        qsort(keys, n, sizeof *keys, compare_keys);
        fcd_buf_addc(b, '{');
        int rc = 0;
        for (i = 0; i < n && rc == 0; i++) {
            if (i > 0)
                fcd_buf_addc(b, ',');
            fcd_buf_add_json_string(b, keys[i]);
            fcd_buf_addc(b, ':');
            rc = fcd_json_canonical(b, json_object_object_get(v, keys[i]), depth + 1);
        }
        free(keys);
        fcd_buf_addc(b, '}');
        return rc != 0 || b->failed ? -1 : 0;
    }
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        fcd_buf_addc(b, '[');
        for (size_t i = 0; i < n; i++) {
            if (i > 0)
                fcd_buf_addc(b, ',');
            if (fcd_json_canonical(b, json_object_array_get_idx(v, i), depth + 1) != 0)
                return -1;
        }
        fcd_buf_addc(b, ']');
        return b->failed ? -1 : 0;
    }
    return fcd_json_write(b, v, 0);
}

int fcd_put(json_object *root, const char *path, json_object *value)
{
    json_object *node = root;
    const char *p = path;
    char part[128];
    while (node != NULL && p != NULL && *p != '\0') {
        const char *dot = strchr(p, '.');
        size_t n = dot != NULL ? (size_t)(dot - p) : strlen(p);
        if (n == 0 || n >= sizeof part)
            break;
        memcpy(part, p, n);
        part[n] = '\0';
        bool last = dot == NULL;
        if (json_object_is_type(node, json_type_array)) {
            char *end;
            unsigned long i = strtoul(part, &end, 10);
            if (*end != '\0' || i >= json_object_array_length(node))
                break;
            if (last) {
                if (json_object_array_put_idx(node, i, value) == 0)
                    return 0;
                fcd_json_note_oom();
                break;
            }
            node = json_object_array_get_idx(node, i);
        } else if (json_object_is_type(node, json_type_object)) {
            if (last) {
                if (json_object_object_add(node, part, value) == 0)
                    return 0;
                fcd_json_note_oom();
                break;
            }
            json_object *next;
            if (!json_object_object_get_ex(node, part, &next) || next == NULL) {
                next = fcd_json_made(json_object_new_object());
                if (next == NULL || json_object_object_add(node, part, next) != 0) {
                    json_object_put(next);
                    fcd_json_note_oom();
                    break;
                }
            }
            node = next;
        } else {
            break;
        }
        p = dot + 1;
    }
    json_object_put(value);
    return -1;
}
