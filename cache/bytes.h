/*
 * bytes.h - little-endian integers in the cache's stored formats (value
 * headers, manifests, file entries), written and read byte by byte so the
 * layout is the same on every host sharing a cache, whatever its
 * endianness or alignment rules.
 */
#ifndef FCD_CACHE_BYTES_H
#define FCD_CACHE_BYTES_H

#include <stdint.h>

static inline void fcd_put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint32_t fcd_get_u32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static inline void fcd_put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t fcd_get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

#endif
