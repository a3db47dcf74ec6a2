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
