# cache: see Makefile.am
