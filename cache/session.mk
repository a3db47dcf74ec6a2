# cache/session.mk: signed session ids and the secrets behind them (see
# cache/SESSION.md).  Included from the top Makefile.am.
libfcdash_core_la_SOURCES += \
	cache/secret.c cache/secret.h \
	cache/session.c cache/session.h
EXTRA_DIST += cache/SESSION.md

# The tests build the two sources in directly (they need libsodium only),
# so they run whatever state the rest of the library is in.
check_PROGRAMS += tests/unit/test_session
TESTS += tests/unit/test_session
tests_unit_test_session_SOURCES = tests/unit/test_session.c \
	cache/secret.c cache/secret.h \
	cache/session.c cache/session.h
tests_unit_test_session_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(SODIUM_CFLAGS)
tests_unit_test_session_LDADD = $(CUNIT_LIBS) $(SODIUM_LIBS)
