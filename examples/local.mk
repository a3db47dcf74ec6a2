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
