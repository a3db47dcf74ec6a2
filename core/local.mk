# core/: arena, buffers, JSON values, settings, the app object, the freeze.
libfcdash_core_la_SOURCES += \
	core/arena.c core/arena.h \
	core/buf.c core/buf.h \
	core/json.c core/json.h \
	core/config.c core/config.h \
	core/app.c core/app.h \
	core/freeze.c core/freeze.h

# CUnit tests of core/, fcgi/ and handlers/ (in-process dispatch).
check_PROGRAMS += tests/unit/test_core
TESTS += tests/unit/test_core
tests_unit_test_core_SOURCES = tests/unit/test_core.c
tests_unit_test_core_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_core_LDADD = libfcdash_core.la $(DEP_LIBS) $(CUNIT_LIBS)
