# cache/session.mk: signed session ids (see cache/SESSION.md)
