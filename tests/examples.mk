# tests/examples.mk: integration and browser tests of the examples (issues 4 and 5)
#
# Each starts its own memcached, spawn-fcgi pools and nginx on 127.0.0.1
# through tests/lib/harness.py, drives the example apps over HTTP and in
# headless Chromium (tests/browser/*.mjs, run through test_browser.py's
# runner), and ends with "N passed, N failed" like the other Python tests.
#   test_signal.py    Example 3: single flight, the figures, memcached killed
#                     and restarted, two servers with one stopped, browsers
#   test_examples.py  Examples 1 and 2 (store, aggregates) against pandas'
#                     texts, and in Chromium: one slow step per change
#   test_session.py   Example 4: one computation per session, sessions kept
#                     apart, refused ids (403, no callback), key rotation,
#                     two browsers; expired ids need Debian's faketime
#   test_faults_load.py  Example 3 under wrk (about 50 s): a worker killed
#                     (multiwatch), nginx reloaded, memcached killed and
#                     restarted mid-run; the failed requests counted per fault
PY_TESTS_EXAMPLES = \
	tests/integration/test_signal.py \
	tests/integration/test_examples.py \
	tests/integration/test_session.py \
	tests/integration/test_faults_load.py
if INTEGRATION_TESTS
TESTS += $(PY_TESTS_EXAMPLES)
endif

EXTRA_DIST += $(PY_TESTS_EXAMPLES) \
	tests/browser/signal.mjs tests/browser/store.mjs tests/browser/aggregates.mjs \
	tests/browser/session.mjs
