# cache/session_store.mk: the bounded per-session store (see cache/SESSION.md,
# "Per-session values").  Included from the top Makefile.am, after
# cache/local.mk, whose CACHE_SOURCES, CACHE_CFLAGS and CACHE_LIBS it uses.
libfcdash_core_la_SOURCES += cache/session_store.c cache/session_store.h
