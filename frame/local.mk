# frame: see Makefile.am
