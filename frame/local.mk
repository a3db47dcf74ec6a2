# frame: the typed column table for the examples' data (see frame/README.md).
FRAME_SOURCES = \
	frame/frame.c frame/frame.h frame/frame_int.h \
	frame/format.c \
	frame/shortest.cc frame/shortest.h \
	frame/hash.c \
	frame/json_write.c \
	frame/json_read.c \
	frame/text.c \
	frame/binary.c

libfcdash_core_la_SOURCES += $(FRAME_SOURCES)
# shortest.cc is C++, which would make automake link with g++ and pull in
# libstdc++; it needs no C++ runtime, so link with the C compiler.
libfcdash_core_la_LINK = $(LIBTOOL) $(AM_V_lt) --tag=CC $(AM_LIBTOOLFLAGS) \
	$(LIBTOOLFLAGS) --mode=link $(CCLD) $(libfcdash_core_la_CFLAGS) $(CFLAGS) \
	$(libfcdash_core_la_LDFLAGS) $(LDFLAGS) -o $@
libfcdash_core_la_LIBADD += -lm
EXTRA_DIST += frame/README.md

# The frame's tests build its sources in directly, so they run whatever
# state the rest of the library is in.  pandas_fixtures.py (Debian's
# python3-pandas) writes the reference texts at the start of each run.
check_PROGRAMS += tests/unit/test_frame
TESTS += tests/unit/test_frame
tests_unit_test_frame_SOURCES = tests/unit/test_frame.c $(FRAME_SOURCES) $(CHAOS_SOURCES)
tests_unit_test_frame_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFRAME_TEST_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_frame_CFLAGS = $(AM_CFLAGS) $(CUNIT_CFLAGS) $(JSONC_CFLAGS)
tests_unit_test_frame_LDADD = $(CUNIT_LIBS) $(JSONC_LIBS) -lm
# Chaos malloc: the test fails the n-th allocation frame/ makes and counts
# the blocks still live afterwards.
tests_unit_test_frame_LDFLAGS = $(CHAOS_WRAP_FLAGS)
tests_unit_test_frame_LINK = $(LIBTOOL) $(AM_V_lt) --tag=CC $(AM_LIBTOOLFLAGS) \
	$(LIBTOOLFLAGS) --mode=link $(CCLD) $(tests_unit_test_frame_CFLAGS) $(CFLAGS) \
	$(tests_unit_test_frame_LDFLAGS) $(LDFLAGS) -o $@
EXTRA_DIST += tests/unit/pandas_fixtures.py

# Doubles as Python writes them (frame_fmt_repr, fcd_double), against the
# repr() and json.dumps() of /usr/bin/python3 for some 470,000 values.
check_PROGRAMS += tests/unit/test_repr
TESTS += tests/unit/test_repr
tests_unit_test_repr_SOURCES = tests/unit/test_repr.c
tests_unit_test_repr_CPPFLAGS = $(AM_CPPFLAGS) \
	-DFRAME_TEST_SRCDIR='"$(abs_top_srcdir)"'
tests_unit_test_repr_CFLAGS = $(AM_CFLAGS) $(DEP_CFLAGS) $(CUNIT_CFLAGS)
tests_unit_test_repr_LDADD = libfcdash_core.la $(DEP_LIBS) $(CUNIT_LIBS)
EXTRA_DIST += tests/unit/repr_fixtures.py
