# tests/deploy.mk: deployment as users run it (issue 6).
#
#   test_install.py   make install into a temporary prefix (and DESTDIR) from
#                     a fresh configure of `make distdir`; an app built out
#                     of tree with only `pkg-config --cflags --libs fcdash`
#                     answers, served by the installed pool script and nginx
#                     config generator
#   test_apache.py    Debian's apache2 on a high port, both ways: mod_fcgid
#                     (Apache spawns the workers) and mod_proxy_fcgi (to a
#                     spawn-fcgi pool); the nginx checks and the scores
#                     browser test against each
#   test_scaleout.py  three hosts as network namespaces, each with a pool
#                     and a memcached; one nginx balancing over them, one
#                     ketama cluster of all memcacheds (skipped, and said
#                     so, only where namespaces cannot be made)
PY_TESTS_DEPLOY = \
	tests/integration/test_install.py \
	tests/integration/test_apache.py \
	tests/integration/test_scaleout.py
if INTEGRATION_TESTS
TESTS += $(PY_TESTS_DEPLOY)
endif
EXTRA_DIST += $(PY_TESTS_DEPLOY)
