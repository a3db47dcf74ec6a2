/*
 * cache/filesystem.c - the file backend: one directory shared by every
 * worker of a host, no server to run.
 *
 * Each key is one file named by the hex BLAKE2b-128 of the key (so any key
 * makes a short, safe name) holding a 24-byte header (magic, version,
 * expiry as Unix seconds or 0 for never, key length), the key itself
 * (checked on read, so a hash collision is a miss, not a wrong value) and
 * the value.  Writers write a temporary file and rename() it over the
 * entry, so a reader sees the old value or the new one, never a torn one.
 *
 * add() must be atomic across processes even over an expired entry, which
 * rename() alone is not: it runs under an flock() on the directory's .lock
 * file.  Single-flight locks are flock()s on a per-key lock file, which the
 * kernel drops the moment its holder dies: a crashed worker blocks nobody.
 * A released lock file is unlinked; a locker checks after flock() that the
 * path still names the inode it locked, or retries, so two processes never
 * both hold a lock through an unlinked and a fresh file.
 *
 * The number of entries is kept under `threshold` (a URL setting): after a
 * store that leaves more, expired entries are removed, then the oldest
 * entries with a TTL, then the oldest without one (the memoize version keys
 * have none and guard everything else), down to 90% of the threshold, so
 * the scan does not run on every later store.  Temporary files and lock
 * files left by a crashed worker are removed by the same scan once an hour
 * old.  Expiry uses the wall clock, the one clock all processes share.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "cache/backend.h"
#include "cache/bytes.h"
#include "cache/stats.h"

#define FS_THRESHOLD_DEFAULT 500u
#define FS_STALE_S 3600 /* age at which a temp or lock file is litter */
#define FS_MAGIC "FCDF"
#define FS_VERSION 1u
#define FS_HDR 24
#define FS_NAME_LEN 34 /* 32 hex digits + ".v" or ".l" */
#define FS_LOCK_TRIES 8

struct fs {
    int dirfd;
    unsigned threshold;
    char dir[FCD_CACHE_URL_MAX];
};

/* The file name of a key: 32 hex digits and a suffix ('v' entry, 'l' lock). */
static void key_name(const char *key, size_t klen, char suffix, char out[FS_NAME_LEN + 1])
{
    unsigned char h[16];

    crypto_generichash(h, sizeof h, (const unsigned char *)key, klen, NULL, 0);
    sodium_bin2hex(out, 33, h, sizeof h);
    out[32] = '.';
    out[33] = suffix;
    out[34] = '\0';
}

static fcd_cache_status_t io_fail(fcd_cache_t *c, const char *what, int err)
{
    struct fs *f = c->impl;
    return fcd_cache_fail(c, FCD_CACHE_DECLINED, "cache file %s in %.200s: %s", what, f->dir,
                          strerror(err));
}

static int read_full(int fd, void *buf, size_t len, off_t off)
{
    char *p = buf;

    while (len > 0) {
        ssize_t n = pread(fd, p, len, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
        off += n;
    }
    return 0;
}

static fcd_cache_status_t fs_open(fcd_cache_t *c, const char *rest, fcd_cache_param_t *params,
                                  size_t nparams)
{
    struct fs *f;
    size_t n = strlen(rest);

    if (rest[0] != '/')
        return fcd_cache_fail(c, FCD_CACHE_ERROR,
                              "cache URL: file:// needs an absolute directory, as in "
                              "file:///var/cache/app");
    if (n >= sizeof f->dir)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache URL: directory name too long");
    f = calloc(1, sizeof *f);
    if (!f)
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache file: out of memory");
    f->threshold = FS_THRESHOLD_DEFAULT;
    memcpy(f->dir, rest, n + 1);
    for (size_t i = 0; i < nparams; i++) {
        unsigned long long v;
        if (strcmp(params[i].name, "threshold") != 0)
            continue;
        if (fcd_cache_param_num(c, &params[i], 1, 10000000, &v) != FCD_CACHE_OK) {
            free(f);
            return FCD_CACHE_ERROR;
        }
        f->threshold = (unsigned)v;
        params[i].used = true;
    }
    if (fcd_cache_mkdirs(f->dir) < 0) {
        int e = errno;
        fcd_cache_fail(c, FCD_CACHE_ERROR, "cache file: cannot make directory %.200s: %s", f->dir,
                       strerror(e));
        free(f);
        return FCD_CACHE_ERROR;
    }
    f->dirfd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (f->dirfd < 0) {
        int e = errno;
        fcd_cache_fail(c, FCD_CACHE_ERROR, "cache file: cannot open directory %.200s: %s", f->dir,
                       strerror(e));
        free(f);
        return FCD_CACHE_ERROR;
    }
    c->impl = f;
    return FCD_CACHE_OK;
}

static void fs_close(fcd_cache_t *c)
{
    struct fs *f = c->impl;

    close(f->dirfd);
    free(f);
    c->impl = NULL;
}

/*
 * Open the entry `name` and check it is the one for `key` and alive.
 * Returns the fd (header read into hdr) or -1 with *st set: MISS for
 * absent, expired, foreign or corrupt; DECLINED for an I/O error.
 */
static int open_entry(fcd_cache_t *c, const char *name, const char *key, size_t klen,
                      unsigned char hdr[FS_HDR], off_t *size, fcd_cache_status_t *st)
{
    struct fs *f = c->impl;
    char kbuf[FCD_CACHE_KEY_MAX];
    struct stat sb;
    int64_t expiry;
    int fd = openat(f->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

    if (fd < 0) {
        *st = errno == ENOENT ? FCD_CACHE_MISS : io_fail(c, "open", errno);
        return -1;
    }
    if (fstat(fd, &sb) < 0) {
        *st = io_fail(c, "stat", errno);
        close(fd);
        return -1;
    }
    *st = FCD_CACHE_MISS;
    if (sb.st_size < (off_t)(FS_HDR + klen) || read_full(fd, hdr, FS_HDR, 0) < 0 ||
        memcmp(hdr, FS_MAGIC, 4) != 0 || fcd_get_u32(hdr + 4) != FS_VERSION ||
        fcd_get_u32(hdr + 16) != klen || read_full(fd, kbuf, klen, FS_HDR) < 0 ||
        memcmp(kbuf, key, klen) != 0) {
        close(fd);
        return -1;
    }
    expiry = (int64_t)fcd_get_u64(hdr + 8);
    if (expiry != 0 && expiry <= (int64_t)time(NULL)) {
        close(fd);
        return -1;
    }
    *size = sb.st_size;
    return fd;
}

static fcd_cache_status_t fs_get(fcd_cache_t *c, const char *key, size_t klen, void **val,
                                 size_t *len)
{
    char name[FS_NAME_LEN + 1];
    unsigned char hdr[FS_HDR];
    fcd_cache_status_t st;
    off_t size;
    size_t vlen;
    void *buf;
    int fd;

    key_name(key, klen, 'v', name);
    fd = open_entry(c, name, key, klen, hdr, &size, &st);
    if (fd < 0)
        return st;
    vlen = (size_t)size - FS_HDR - klen;
    buf = malloc(vlen ? vlen : 1);
    if (!buf) {
        close(fd);
        return fcd_cache_fail(c, FCD_CACHE_ERROR, "cache file: out of memory for %zu bytes", vlen);
    }
    /* Our inode cannot shrink (writers rename a new inode over the name),
     * so a short read is an I/O error, not a race. */
    if (read_full(fd, buf, vlen, (off_t)(FS_HDR + klen)) < 0) {
        int e = errno;
        free(buf);
        close(fd);
        return io_fail(c, "read", e ? e : EIO);
    }
    close(fd);
    if (vlen == 0) {
        free(buf);
        buf = NULL;
    }
    *val = buf;
    *len = vlen;
    return FCD_CACHE_OK;
}

/* Write a new entry under a temporary name; the name is returned in tmp. */
static fcd_cache_status_t write_temp(fcd_cache_t *c, const char *key, size_t klen, const void *val,
                                     size_t len, unsigned ttl, char tmp[64])
{
    struct fs *f = c->impl;
    unsigned char hdr[FS_HDR] = {0}, rnd[8];
    char rhex[17];
    struct iovec iov[3];
    int iovcnt = 3, fd;

    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(rhex, sizeof rhex, rnd, sizeof rnd);
    snprintf(tmp, 64, ".tmp-%ld-%s", (long)getpid(), rhex);
    fd = openat(f->dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return io_fail(c, "create", errno);
    memcpy(hdr, FS_MAGIC, 4);
    fcd_put_u32(hdr + 4, FS_VERSION);
    fcd_put_u64(hdr + 8, ttl ? (uint64_t)time(NULL) + ttl : 0);
    fcd_put_u32(hdr + 16, (uint32_t)klen);
    iov[0].iov_base = hdr;
    iov[0].iov_len = FS_HDR;
    iov[1].iov_base = (void *)(uintptr_t)key;
    iov[1].iov_len = klen;
    iov[2].iov_base = (void *)(uintptr_t)val;
    iov[2].iov_len = len;
    for (struct iovec *v = iov; iovcnt > 0;) {
        ssize_t n = writev(fd, v, iovcnt);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            unlinkat(f->dirfd, tmp, 0);
            return io_fail(c, "write", e);
        }
        while (iovcnt > 0 && (size_t)n >= v->iov_len) {
            n -= (ssize_t)v->iov_len;
            v++;
            iovcnt--;
        }
        if (iovcnt > 0) {
            v->iov_base = (char *)v->iov_base + n;
            v->iov_len -= (size_t)n;
        }
    }
    if (close(fd) < 0) {
        int e = errno;
        unlinkat(f->dirfd, tmp, 0);
        return io_fail(c, "write", e);
    }
    return FCD_CACHE_OK;
}

struct victim {
    struct timespec mtime;
    bool ttl; /* has a TTL: evicted before entries without */
    char name[FS_NAME_LEN + 1];
};

static int victim_cmp(const void *a, const void *b)
{
    const struct victim *x = a, *y = b;

    if (x->ttl != y->ttl)
        return x->ttl ? -1 : 1;
    if (x->mtime.tv_sec != y->mtime.tv_sec)
        return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
    return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : x->mtime.tv_nsec > y->mtime.tv_nsec;
}

static bool is_name(const char *d, char suffix)
{
    if (strlen(d) != FS_NAME_LEN || d[32] != '.' || d[33] != suffix)
        return false;
    for (int i = 0; i < 32; i++)
        if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f')))
            return false;
    return true;
}

/* Remove litter; if there are more entries than the threshold, evict.
 * Failures here only leave the directory fuller: they are not reported. */
static void prune(fcd_cache_t *c, const char *keep)
{
    struct fs *f = c->impl;
    struct victim *v = NULL;
    size_t n = 0, cap = 0, target, evicted = 0;
    time_t now = time(NULL);
    struct dirent *de;
    struct stat sb;
    DIR *d;
    int fd = openat(f->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0)
        return;
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        if (is_name(nm, 'v')) {
            /* The entry just stored is not a candidate. */
            if (strcmp(nm, keep) == 0)
                continue;
            if (n == cap) {
                size_t ncap = cap ? cap * 2 : 256;
                struct victim *nv = ncap > SIZE_MAX / sizeof *v ? NULL
                                                                 : realloc(v, ncap * sizeof *v);
                if (!nv)
                    break;
                v = nv;
                cap = ncap;
            }
            memcpy(v[n].name, nm, FS_NAME_LEN + 1);
            v[n].mtime.tv_sec = 0;
            v[n].mtime.tv_nsec = 0;
            v[n].ttl = true;
            n++;
        } else if (strncmp(nm, ".tmp-", 5) == 0 || is_name(nm, 'l')) {
            if (fstatat(f->dirfd, nm, &sb, AT_SYMLINK_NOFOLLOW) < 0 ||
                now - sb.st_mtime < FS_STALE_S)
                continue;
            if (nm[0] == '.') {
                unlinkat(f->dirfd, nm, 0);
            } else {
                /* Only a lock file nobody holds; see the top of file. */
                int lfd = openat(f->dirfd, nm, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (lfd >= 0 && flock(lfd, LOCK_EX | LOCK_NB) == 0)
                    unlinkat(f->dirfd, nm, 0);
                if (lfd >= 0)
                    close(lfd);
            }
        }
    }
    closedir(d);
    if (n + 1 <= f->threshold) {
        free(v);
        return;
    }

    /* Over the threshold: read each entry's expiry; drop the expired. */
    for (size_t i = 0; i < n;) {
        unsigned char hdr[FS_HDR];
        int efd = openat(f->dirfd, v[i].name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        bool gone = efd < 0;
        if (!gone && fstat(efd, &sb) == 0 && read_full(efd, hdr, FS_HDR, 0) == 0) {
            int64_t expiry = (int64_t)fcd_get_u64(hdr + 8);
            v[i].mtime = sb.st_mtim;
            v[i].ttl = expiry != 0;
            if (expiry != 0 && expiry <= (int64_t)now) {
                unlinkat(f->dirfd, v[i].name, 0);
                gone = true;
            }
        }
        if (efd >= 0)
            close(efd);
        if (gone)
            v[i] = v[--n];
        else
            i++;
    }
    /* The kept entry counts toward the target. */
    target = f->threshold - f->threshold / 10;
    target = target > 0 ? target - 1 : 0;
    if (n > target) {
        qsort(v, n, sizeof *v, victim_cmp);
        for (size_t i = 0; i < n - target; i++)
            if (unlinkat(f->dirfd, v[i].name, 0) == 0)
                evicted++;
    }
    free(v);
    fcd_cache_stats_add(c->stats, FCD_CACHE_C_EVICTIONS, evicted);
}

/* The directory-wide lock serialising add(). */
static int dir_lock(struct fs *f)
{
    int fd = openat(f->dirfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);

    if (fd < 0)
        return -1;
    while (flock(fd, LOCK_EX) < 0) {
        if (errno != EINTR) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

static fcd_cache_status_t fs_store(fcd_cache_t *c, enum fcd_cache_store_mode mode,
                                   const char *key, size_t klen, const void *val, size_t len,
                                   unsigned ttl)
{
    struct fs *f = c->impl;
    char name[FS_NAME_LEN + 1], tmp[64];
    unsigned char hdr[FS_HDR];
    fcd_cache_status_t st;
    int lock = -1;

    key_name(key, klen, 'v', name);
    if ((st = write_temp(c, key, klen, val, len, ttl, tmp)) != FCD_CACHE_OK)
        return st;
    if (mode == FCD_CACHE_STORE_ADD) {
        off_t size;
        int fd;

        if ((lock = dir_lock(f)) < 0) {
            st = io_fail(c, "lock", errno);
            unlinkat(f->dirfd, tmp, 0);
            return st;
        }
        fd = open_entry(c, name, key, klen, hdr, &size, &st);
        if (fd >= 0) {
            close(fd);
            close(lock);
            unlinkat(f->dirfd, tmp, 0);
            return FCD_CACHE_MISS;
        }
        if (st != FCD_CACHE_MISS) {
            close(lock);
            unlinkat(f->dirfd, tmp, 0);
            return st;
        }
    }
    if (renameat(f->dirfd, tmp, f->dirfd, name) < 0) {
        st = io_fail(c, "rename", errno);
        unlinkat(f->dirfd, tmp, 0);
    } else {
        st = FCD_CACHE_OK;
    }
    if (lock >= 0)
        close(lock);
    if (st == FCD_CACHE_OK)
        prune(c, name);
    return st;
}

static fcd_cache_status_t fs_del(fcd_cache_t *c, const char *key, size_t klen)
{
    struct fs *f = c->impl;
    char name[FS_NAME_LEN + 1];

    key_name(key, klen, 'v', name);
    if (unlinkat(f->dirfd, name, 0) == 0)
        return FCD_CACHE_OK;
    return errno == ENOENT ? FCD_CACHE_MISS : io_fail(c, "unlink", errno);
}

static fcd_cache_status_t fs_lock(fcd_cache_t *c, const char *key, size_t klen,
                                  fcd_cache_lock_t *lk)
{
    struct fs *f = c->impl;
    char name[FS_NAME_LEN + 1];
    struct stat a, b;

    key_name(key, klen, 'l', name);
    for (int tries = 0; tries < FS_LOCK_TRIES; tries++) {
        int fd = openat(f->dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
            return io_fail(c, "lock open", errno);
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK || e == EINTR)
                return FCD_CACHE_MISS;
            return io_fail(c, "flock", e);
        }
        /* The previous holder may have unlinked the file between our open
         * and our flock: then we hold a lock nobody else can see. */
        if (fstat(fd, &a) == 0 && fstatat(f->dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
            a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            lk->fd = fd;
            memcpy(lk->path, name, sizeof name);
            return FCD_CACHE_OK;
        }
        close(fd);
    }
    return FCD_CACHE_MISS;
}

static void fs_unlock(fcd_cache_t *c, fcd_cache_lock_t *lk)
{
    struct fs *f = c->impl;

    /* Unlink while still holding the lock; see fs_lock. */
    unlinkat(f->dirfd, lk->path, 0);
    close(lk->fd);
    lk->fd = -1;
}

const fcd_cache_ops_t fcd_cache_file_ops = {
    .scheme = "file",
    .item_max = FCD_CACHE_ITEM_MAX_UNLIMITED,
    .open = fs_open,
    .get = fs_get,
    .store = fs_store,
    .del = fs_del,
    .lock = fs_lock,
    .unlock = fs_unlock,
    .close = fs_close,
};
