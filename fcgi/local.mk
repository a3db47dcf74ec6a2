# fcgi: see Makefile.am
