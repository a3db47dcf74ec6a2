# bench/: `make bench` measures fcdash against its baselines in one run on
# one machine and prints ratios (issue 8; bench/README.md says what each
# figure is and what bounds it).  The two programs are check programs, so
# `make check` keeps them compiling; `make bench` builds and runs them.
check_PROGRAMS += bench/trivial_responder bench/micro
bench_trivial_responder_SOURCES = bench/trivial_responder.c
bench_trivial_responder_CFLAGS = $(AM_CFLAGS) $(FCGI_CFLAGS)
bench_trivial_responder_LDADD = $(FCGI_LIBS)
# micro reaches the internal cache and session modules: the core archive.
bench_micro_SOURCES = bench/micro.c
bench_micro_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS)
bench_micro_LDADD = libfcdash_core.la $(DEP_LIBS)

bench_deps = bench/trivial_responder$(EXEEXT) bench/micro$(EXEEXT) \
	examples/signal/signal$(EXEEXT) examples/scores/scores$(EXEEXT) \
	examples/session/session$(EXEEXT)

# BENCH_SECONDS (per wrk run, default 5) and BENCH_RSS_SECONDS (the RSS
# run, default 30) shorten or lengthen it.
bench: $(bench_deps)
	FCDASH_BUILDDIR='$(abs_top_builddir)' FCDASH_SRCDIR='$(abs_top_srcdir)' \
	  /usr/bin/python3 $(srcdir)/bench/run.py

.PHONY: bench
EXTRA_DIST += bench/run.py bench/README.md bench/callgrind_graph.py
