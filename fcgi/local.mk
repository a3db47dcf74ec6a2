# fcgi/: the FastCGI worker runtime (knows nothing of Dash).
libfcdash_core_la_SOURCES += \
	fcgi/request.c fcgi/request.h \
	fcgi/runtime.c fcgi/runtime.h
