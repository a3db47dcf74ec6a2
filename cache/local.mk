# cache: shared state across worker processes (see cache/README.md).
CACHE_SOURCES = \
	cache/backend.c cache/backend.h cache/bytes.h \
	cache/memcached.c \
	cache/filesystem.c \
	cache/memory.c \
	cache/stats.c cache/stats.h \
	cache/memoize.c cache/memoize.h
CACHE_CFLAGS = $(JSONC_CFLAGS) $(MEMCACHED_CFLAGS) $(SODIUM_CFLAGS) $(LZ4_CFLAGS) $(XXHASH_CFLAGS)
CACHE_LIBS = $(JSONC_LIBS) $(MEMCACHED_LIBS) $(SODIUM_LIBS) $(LZ4_LIBS) $(XXHASH_LIBS)

libfcdash_core_la_SOURCES += $(CACHE_SOURCES)
EXTRA_DIST += cache/README.md

# The cache's tests build its sources in directly, so they run whatever
# state the rest of the library is in.  They start their own memcached.
check_PROGRAMS += tests/unit/test_cache
TESTS += tests/unit/test_cache
tests_unit_test_cache_SOURCES = tests/unit/test_cache.c $(CACHE_SOURCES) $(CHAOS_SOURCES)
tests_unit_test_cache_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(CACHE_CFLAGS)
tests_unit_test_cache_LDADD = $(CUNIT_LIBS) $(CACHE_LIBS)
# Chaos malloc: the test fails the n-th allocation cache/ makes.
tests_unit_test_cache_LDFLAGS = $(CHAOS_WRAP_FLAGS)
