# tests/examples.mk: integration and browser tests of the examples (issues 4 and 5)
