# core/: arena, buffers, JSON values, settings, the app object, the freeze.
libfcdash_core_la_SOURCES += \
	core/arena.c core/arena.h \
	core/buf.c core/buf.h \
	core/json.c core/json.h \
	core/config.c core/config.h \
	core/app.c core/app.h \
	core/freeze.c core/freeze.h
