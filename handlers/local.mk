# handlers: see Makefile.am
