# cache/redis.mk: the Redis backend (redis://, redis+unix://) through
# hiredis; see cache/README.md, "Redis".  Included from the top Makefile.am
# after cache/local.mk.
#
# cache/backend.c names the Redis ops table, so every program that builds
# the cache sources in needs redis.c and hiredis too: they join
# CACHE_SOURCES, CACHE_CFLAGS and CACHE_LIBS, which the library and the
# cache's tests all use.
CACHE_SOURCES += cache/redis.c cache/redis.h
CACHE_CFLAGS += $(HIREDIS_CFLAGS)
CACHE_LIBS += $(HIREDIS_LIBS)

# The backend contract of tests/unit/test_cache.c, run against a
# redis-server the test starts itself (tests/unit/redis_server.c), then
# Redis's own faults; and the session store's contract of
# tests/unit/test_session_store.c on Redis.  Each includes the other test's
# source, so the contracts are never copied.  Chaos malloc, as in those.
TEST_REDIS_SERVER = tests/unit/redis_server.c tests/unit/redis_server.h
check_PROGRAMS += tests/unit/test_redis tests/unit/test_session_store_redis
TESTS += tests/unit/test_redis tests/unit/test_session_store_redis
tests_unit_test_redis_SOURCES = tests/unit/test_redis.c $(TEST_REDIS_SERVER) $(CACHE_SOURCES) \
	$(CHAOS_SOURCES)
tests_unit_test_redis_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(CACHE_CFLAGS)
tests_unit_test_redis_LDADD = $(CUNIT_LIBS) $(CACHE_LIBS)
tests_unit_test_redis_LDFLAGS = $(CHAOS_WRAP_FLAGS)
tests_unit_test_session_store_redis_SOURCES = tests/unit/test_session_store_redis.c \
	$(TEST_REDIS_SERVER) $(SESSION_STORE_TEST_SOURCES) $(CHAOS_SOURCES)
tests_unit_test_session_store_redis_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(CACHE_CFLAGS)
tests_unit_test_session_store_redis_LDADD = $(CUNIT_LIBS) $(CACHE_LIBS)
tests_unit_test_session_store_redis_LDFLAGS = $(CHAOS_WRAP_FLAGS)

# Examples 3 and 4 through nginx on Redis: single flight, a unix socket, a
# wrong password, sessions, Redis killed and restarted.
if INTEGRATION_TESTS
TESTS += tests/integration/test_redis.py
endif
EXTRA_DIST += tests/integration/test_redis.py
