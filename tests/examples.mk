# tests/examples.mk: integration and browser tests of the examples (issues 4 and 5)
#
# Each starts its own memcached, spawn-fcgi pools and nginx on 127.0.0.1
# through tests/lib/harness.py, drives the example apps over HTTP and in
# headless Chromium (tests/browser/*.mjs, run through test_browser.py's
# runner), and ends with "N passed, N failed" like the other Python tests.
#   test_signal.py    Example 3: single flight, the figures, memcached killed
#                     and restarted, two servers with one stopped, browsers
PY_TESTS_EXAMPLES = \
	tests/integration/test_signal.py
TESTS += $(PY_TESTS_EXAMPLES)

EXTRA_DIST += $(PY_TESTS_EXAMPLES) \
	tests/browser/signal.mjs
