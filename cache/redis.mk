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
