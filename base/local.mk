# base/: the library's foundations: arena, buffers, JSON values, settings, the app object, the freeze.
libfcdash_core_la_SOURCES += \
	base/arena.c base/arena.h \
	base/buf.c base/buf.h \
	base/json.c base/json.h \
	base/config.c base/config.h \
	base/app.c base/app.h \
	base/freeze.c base/freeze.h

# CUnit tests of base/, fcgi/ and handlers/ (in-process dispatch).
check_PROGRAMS += tests/unit/test_core
TESTS += tests/unit/test_core
tests_unit_test_core_SOURCES = tests/unit/test_core.c
tests_unit_test_core_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_core_LDADD = libfcdash_core.la $(DEP_LIBS) $(CUNIT_LIBS)
