# tests/: the black-box and browser tests of issue 3 (item 12).
#
# The Python tests (Debian's /usr/bin/python3, standard library only) start
# real nginx, spawn-fcgi and memcached processes on 127.0.0.1 through
# tests/lib/harness.py, and stop them again, pass or fail.  Each prints
# "ok"/"FAIL" lines and a last line "N passed, N failed", which
# scripts/check sums.  They find the built programs through FCDASH_BUILDDIR
# and the scripts and captures through FCDASH_SRCDIR.

# The capture app: the Dash protocol check rebuilt with the fcdash API.
check_PROGRAMS += tests/apps/protocol_check
tests_apps_protocol_check_SOURCES = tests/apps/protocol_check.c
tests_apps_protocol_check_CFLAGS = $(APP_COMPILE_FLAGS)
tests_apps_protocol_check_LDFLAGS = $(APP_LINK_FLAGS)
tests_apps_protocol_check_LDADD = $(APP_LIBS)

TEST_EXTENSIONS = .py
PY_LOG_COMPILER = /usr/bin/python3
AM_TESTS_ENVIRONMENT = FCDASH_BUILDDIR='$(abs_top_builddir)'; FCDASH_SRCDIR='$(abs_top_srcdir)'; \
	export FCDASH_BUILDDIR FCDASH_SRCDIR;

PY_TESTS = \
	tests/integration/test_protocol.py \
	tests/integration/test_bad_input.py \
	tests/integration/test_scores.py \
	tests/integration/test_runtime.py \
	tests/integration/test_browser.py
# configure --disable-integration-tests (make distcheck) leaves them out.
if INTEGRATION_TESTS
TESTS += $(PY_TESTS)
endif

EXTRA_DIST += $(PY_TESTS) tests/lib/harness.py \
	tests/browser/package.json tests/browser/package-lock.json \
	tests/browser/lib.mjs tests/browser/scores.mjs tests/browser/protocol.mjs
