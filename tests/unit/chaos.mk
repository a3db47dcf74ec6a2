# tests/unit/chaos.mk: the chaos malloc the unit tests share (chaos.h says
# how it works).  Included from the top Makefile.am before the fragments
# whose tests use it: each adds $(CHAOS_SOURCES) to its sources and
# $(CHAOS_WRAP_FLAGS) to its link flags.
CHAOS_SOURCES = tests/unit/chaos.c tests/unit/chaos.h
CHAOS_WRAP_FLAGS = -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup,--wrap=free
# json-c's constructors as the program calls them (tests/unit/chaos_json.c).
CHAOS_JSON_SOURCES = tests/unit/chaos_json.c
CHAOS_JSON_WRAP_FLAGS = -Wl,--wrap=json_object_new_object,--wrap=json_object_new_array \
	-Wl,--wrap=json_object_new_array_ext,--wrap=json_object_new_string \
	-Wl,--wrap=json_object_new_string_len,--wrap=json_object_new_int64 \
	-Wl,--wrap=json_object_new_boolean,--wrap=json_object_new_double_s \
	-Wl,--wrap=json_object_object_add,--wrap=json_object_array_add \
	-Wl,--wrap=json_object_array_put_idx,--wrap=json_object_to_json_string \
	-Wl,--wrap=json_object_to_json_string_length,--wrap=json_tokener_new_ex
