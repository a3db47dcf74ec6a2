/*
 * chaos_json.c - json-c's constructors failing, as the code under test
 * sees them (see chaos.h).
 *
 * json-c is a shared library: its internal allocations are out of the
 * malloc wrappers' reach.  Linked with CHAOS_JSON_WRAP_FLAGS, the calls
 * the program's own objects make to these json-c functions come here
 * instead, and each counts as one allocation of the chaos sequence:
 * when it is the one to fail, the function fails as json-c documents it
 * does when out of memory (NULL, or -1 leaving the value with the caller).
 * json-c's parser is left alone: under a failing malloc json-c 0.16's own
 * tokener writes through a NULL key (json_object_object_add_ex from
 * json_tokener_parse_ex), which no caller can guard against.
 */
#include <json-c/json.h>
#include <stdint.h>

#include "tests/unit/chaos.h"

#define WRAP(ret, name, params, args, failed)                                                     \
    ret __real_##name params;                                                                      \
    ret __wrap_##name params;                                                                      \
    ret __wrap_##name params                                                                       \
    {                                                                                              \
        return chaos_fail_now() ? (failed) : __real_##name args;                                  \
    }

WRAP(json_object *, json_object_new_object, (void), (), NULL)
WRAP(json_object *, json_object_new_array, (void), (), NULL)
WRAP(json_object *, json_object_new_array_ext, (int n), (n), NULL)
WRAP(json_object *, json_object_new_string, (const char *s), (s), NULL)
WRAP(json_object *, json_object_new_string_len, (const char *s, int n), (s, n), NULL)
WRAP(json_object *, json_object_new_int64, (int64_t v), (v), NULL)
WRAP(json_object *, json_object_new_boolean, (json_bool v), (v), NULL)
WRAP(json_object *, json_object_new_double_s, (double v, const char *s), (v, s), NULL)
WRAP(int, json_object_object_add, (json_object *o, const char *k, json_object *v), (o, k, v), -1)
WRAP(int, json_object_array_add, (json_object *a, json_object *v), (a, v), -1)
WRAP(int, json_object_array_put_idx, (json_object *a, size_t i, json_object *v), (a, i, v), -1)
WRAP(const char *, json_object_to_json_string, (json_object *o), (o), NULL)
WRAP(const char *, json_object_to_json_string_length, (json_object *o, int f, size_t *n),
     (o, f, n), NULL)
WRAP(json_tokener *, json_tokener_new_ex, (int depth), (depth), NULL)
