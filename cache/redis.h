/*
 * cache/redis.h - the Redis backend's two schemes, for the ops-table lookup
 * in cache/backend.c.  Everything else about it (URL forms, settings,
 * faults) is at the top of cache/redis.c and in cache/README.md.
 */
#ifndef FCD_CACHE_REDIS_H
#define FCD_CACHE_REDIS_H

#include "cache/backend.h"

/* Redis refuses a bulk string longer than its proto-max-bulk-len, 512 MB
 * by default; items up to that are sent whole, so memoize never chunks a
 * value below it (settings.value_max, 64 MiB by default, binds first). */
#define FCD_CACHE_REDIS_ITEM_MAX ((size_t)512 << 20)

/* redis://[[user]:password@]host:port[/db]   TCP, host a name, IPv4 or [IPv6] */
extern const fcd_cache_ops_t fcd_cache_redis_ops;
/* redis+unix:///path/to/redis.sock            a unix socket (db, user and
                                                password in the query) */
extern const fcd_cache_ops_t fcd_cache_redis_unix_ops;

#endif /* FCD_CACHE_REDIS_H */
