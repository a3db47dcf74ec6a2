# examples/: the Dash guide's apps, each one C file linked like a user's app.
noinst_PROGRAMS += examples/scores/scores examples/scores-global/scores-global

examples_scores_scores_SOURCES = examples/scores/scores.c
examples_scores_scores_CFLAGS = $(APP_COMPILE_FLAGS)
examples_scores_scores_LDFLAGS = $(APP_LINK_FLAGS)
examples_scores_scores_LDADD = $(APP_LIBS)

examples_scores_global_scores_global_SOURCES = examples/scores-global/scores-global.c
examples_scores_global_scores_global_CFLAGS = $(APP_COMPILE_FLAGS)
examples_scores_global_scores_global_LDFLAGS = $(APP_LINK_FLAGS)
examples_scores_global_scores_global_LDADD = $(APP_LIBS)

noinst_PROGRAMS += examples/signal/signal
examples_signal_signal_SOURCES = examples/signal/signal.c
examples_signal_signal_CFLAGS = $(APP_COMPILE_FLAGS)
examples_signal_signal_LDFLAGS = $(APP_LINK_FLAGS)
examples_signal_signal_LDADD = $(APP_LIBS) -lm

# Examples 1 and 2 share their data and figure helpers (common/cities.c).
noinst_PROGRAMS += examples/store/store examples/aggregates/aggregates
examples_store_store_SOURCES = examples/store/store.c examples/common/cities.c examples/common/cities.h
examples_store_store_CFLAGS = $(APP_COMPILE_FLAGS)
examples_store_store_LDFLAGS = $(APP_LINK_FLAGS)
examples_store_store_LDADD = $(APP_LIBS)
examples_aggregates_aggregates_SOURCES = examples/aggregates/aggregates.c examples/common/cities.c examples/common/cities.h
examples_aggregates_aggregates_CFLAGS = $(APP_COMPILE_FLAGS)
examples_aggregates_aggregates_LDFLAGS = $(APP_LINK_FLAGS)
examples_aggregates_aggregates_LDADD = $(APP_LIBS)

noinst_PROGRAMS += examples/session/session
examples_session_session_SOURCES = examples/session/session.c
examples_session_session_CFLAGS = $(APP_COMPILE_FLAGS)
examples_session_session_LDFLAGS = $(APP_LINK_FLAGS)
examples_session_session_LDADD = $(APP_LIBS)
