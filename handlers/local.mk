# handlers/: the Dash endpoints, callback registry and dispatch, fcd_run.
libfcdash_core_la_SOURCES += \
	handlers/callback.c handlers/callback.h \
	handlers/index.c handlers/index.h \
	handlers/dash.c handlers/dash.h \
	handlers/update.c handlers/update.h \
	handlers/memo.c handlers/memo.h \
	handlers/session.c handlers/session.h \
	handlers/frames.c \
	handlers/run.c

# Out of memory on the request path: chaos malloc (tests/unit/chaos.h) over
# dispatch of the captured bodies, json-c's constructors failing too.
check_PROGRAMS += tests/unit/test_request_oom
TESTS += tests/unit/test_request_oom
tests_unit_test_request_oom_SOURCES = tests/unit/test_request_oom.c $(CHAOS_SOURCES) \
	$(CHAOS_JSON_SOURCES)
tests_unit_test_request_oom_CPPFLAGS = $(AM_CPPFLAGS) -DTEST_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_request_oom_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_request_oom_LDFLAGS = $(CHAOS_WRAP_FLAGS) $(CHAOS_JSON_WRAP_FLAGS)
tests_unit_test_request_oom_LDADD = libfcdash_core.la $(DEP_LIBS) $(CUNIT_LIBS)
