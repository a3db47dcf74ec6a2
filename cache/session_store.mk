# cache/session_store.mk: the bounded per-session store (see cache/SESSION.md,
# "Per-session values").  Included from the top Makefile.am, after
# cache/local.mk, whose CACHE_SOURCES, CACHE_CFLAGS and CACHE_LIBS it uses.
libfcdash_core_la_SOURCES += cache/session_store.c cache/session_store.h

# The test builds what it needs in directly (the cache, session ids, the
# store), like test_cache, so it runs whatever state the rest of the library
# is in, and so chaos malloc reaches every allocation the store makes.  It
# starts its own memcached.
SESSION_STORE_TEST_SOURCES = \
	cache/session_store.c cache/session_store.h \
	cache/secret.c cache/secret.h \
	cache/session.c cache/session.h \
	$(CACHE_SOURCES)
check_PROGRAMS += tests/unit/test_session_store
TESTS += tests/unit/test_session_store
tests_unit_test_session_store_SOURCES = tests/unit/test_session_store.c \
	$(SESSION_STORE_TEST_SOURCES) $(CHAOS_SOURCES)
tests_unit_test_session_store_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(CACHE_CFLAGS)
tests_unit_test_session_store_LDADD = $(CUNIT_LIBS) $(CACHE_LIBS)
tests_unit_test_session_store_LDFLAGS = $(CHAOS_WRAP_FLAGS)
