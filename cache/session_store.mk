# cache/session_store.mk: the bounded per-session store
