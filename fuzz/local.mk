# fuzz/: libFuzzer targets for everything a client (or a peer writing into
# the cache) controls, and a bounded run of them in make check (issue 8).
# They need clang with libFuzzer (configure says whether it found one);
# fuzz/build.sh compiles the library again with coverage and ASan+UBSan,
# since the objects the configured compiler makes carry no coverage.
fuzz_sources = fuzz/fuzz_app.h fuzz/fuzz_update.c fuzz/fuzz_params.c \
	fuzz/fuzz_frame_json.c fuzz/fuzz_frame_binary.c fuzz/fuzz_session.c \
	fuzz/fuzz_memo_value.c
EXTRA_DIST += $(fuzz_sources) fuzz/build.sh fuzz/run-fuzz.sh fuzz/make-seeds.py \
	fuzz/README.md fuzz/corpus fuzz/regression

fuzz/.built: $(fuzz_sources) $(libfcdash_core_la_SOURCES) $(srcdir)/fuzz/build.sh
	CLANG='$(FUZZ_CLANG)' DRAGONBOX_CFLAGS='$(DRAGONBOX_CFLAGS)' $(SHELL) $(srcdir)/fuzz/build.sh '$(srcdir)' '$(builddir)' \
	  '$(builddir)/fuzz' '$(DEP_LIBS)' -- $(libfcdash_core_la_SOURCES)
	@touch $@

fuzzers: fuzz/.built
.PHONY: fuzzers
CLEANFILES += fuzz/.built fuzz/fuzz_update fuzz/fuzz_params fuzz/fuzz_frame_json \
	fuzz/fuzz_frame_binary fuzz/fuzz_session fuzz/fuzz_memo_value

TEST_EXTENSIONS += .sh
SH_LOG_COMPILER = $(SHELL)
if HAVE_LIBFUZZER
if INTEGRATION_TESTS
check_DATA = fuzz/.built
TESTS += fuzz/run-fuzz.sh
endif
endif
