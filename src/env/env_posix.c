/* SPDX-License-Identifier: Apache-2.0 */
/* env_posix.c -- the POSIX file layer. */
#define _GNU_SOURCE /* sync_file_range (Linux) */
#include "env/env.h"
#include "util/alloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif
#include <unistd.h>

typedef struct posix_file {
    st_file base;
    int fd;
    void *map; /* pf_map's read-only mapping, or NULL */
    size_t maplen;
    /* ST_OPEN_MAPPED_APPEND: appends are copied into win, a shared writable mapping of the
     * file's bytes [win_off, win_off + WIN_SIZE); bytes are reserved on disk (posix_fallocate)
     * before a store reaches them, so no store needs a block the file system has not given. */
    int mapped;
    uint8_t *win;      /* or NULL before the first append and after a truncate */
    uint64_t win_off;  /* a multiple of WIN_SIZE */
    uint64_t end;      /* bytes appended: the file's logical size */
    uint64_t reserved; /* the file's size on disk: end of the reserved space */
    uint64_t faulted;  /* the window's pages below this offset were prefaulted (st_prefault) */
} posix_file;

/* Mapping window of a mapped-append file: one munmap and mmap per 1 MiB appended instead of
 * one write() per append (a system call costs microseconds in a VM). */
#define WIN_SIZE ((uint64_t)1 << 20)
/* Reserve steps: a quarter of the bytes appended so far, from 4 KiB up to 1 MiB, so a small
 * log on a nearly full disk asks for little more than it holds. */
#define RESERVE_MIN ((uint64_t)4 << 10)
#define RESERVE_MAX ((uint64_t)1 << 20)

/* ---- mapped appends ------------------------------------------------------------------------ */

static void
unmap_window(posix_file *pf)
{
    if (pf->win)
        munmap(pf->win, WIN_SIZE);
    pf->win = NULL;
}

/* Map the window holding offset pf->end. Stores go only below pf->reserved. */
static int
map_window(posix_file *pf)
{
    uint64_t off = pf->end - pf->end % WIN_SIZE;
    unmap_window(pf);
    void *p = mmap(NULL, WIN_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, pf->fd, (off_t)off);
    if (p == MAP_FAILED)
        return st_err_errno(errno, "mmap %s at offset %llu", pf->base.path,
                            (unsigned long long)off);
    pf->win = p;
    pf->win_off = off;
    pf->faulted = pf->end; /* below end: written before, or not ours to dirty */
    return STRATA_OK;
}

/* Make the file's bytes below `need` exist on disk before a store reaches them: a full disk
 * fails here, with ENOSPC, instead of as SIGBUS on a store into the mapping. */
static int
reserve(posix_file *pf, uint64_t need)
{
    if (need <= pf->reserved)
        return STRATA_OK;
    uint64_t step = pf->end / 4;
    step = step < RESERVE_MIN ? RESERVE_MIN : step > RESERVE_MAX ? RESERVE_MAX : step;
    uint64_t to = need + step;
    to += (RESERVE_MIN - to % RESERVE_MIN) % RESERVE_MIN;
    int e = posix_fallocate(pf->fd, (off_t)pf->reserved, (off_t)(to - pf->reserved));
    if (e != 0)
        return st_err_errno(e, "reserve space in %s", pf->base.path);
    pf->reserved = to;
    return STRATA_OK;
}

static int
write_all(posix_file *pf, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(pf->fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return st_err_errno(errno, "write %s", pf->base.path);
        }
        p += w;
        n -= (size_t)w;
    }
    return STRATA_OK;
}

/* Append with write() from now on: cut the reserve off and switch the descriptor to O_APPEND. */
static int
use_write(posix_file *pf)
{
    int fl = fcntl(pf->fd, F_GETFL);
    if (ftruncate(pf->fd, (off_t)pf->end) != 0 || fl < 0 ||
        fcntl(pf->fd, F_SETFL, fl | O_APPEND) != 0)
        return st_err_errno(errno, "%s: switching to write() appends", pf->base.path);
    pf->mapped = 0;
    pf->reserved = pf->end;
    return STRATA_OK;
}

/*
 * 1 when the file system of fd stores into space posix_fallocate reserved without allocating
 * again (ext4, XFS, tmpfs): a store into a mapped page then never needs a block it could fail to
 * get. Copy-on-write file systems (btrfs, ZFS) allocate at write-back and would report a full
 * disk as SIGBUS on a store; network and FUSE file systems may not map at all. They get write().
 */
static int
overwrites_in_place(int fd)
{
#ifdef __linux__
    struct statfs sf;
    if (fstatfs(fd, &sf) != 0)
        return 0;
    switch ((unsigned long)sf.f_type) {
    case 0xEF53UL:     /* ext2/3/4 */
    case 0x58465342UL: /* XFS */
    case 0x01021994UL: /* tmpfs */
        return 1;
    default:
        return 0;
    }
#else
    (void)fd;
    return 0;
#endif
}

static int
mapped_append(posix_file *pf, const uint8_t *p, size_t n)
{
    while (n > 0) {
        /* a file system that cannot map the file after all: write() from here on */
        if ((!pf->win || pf->end >= pf->win_off + WIN_SIZE) && map_window(pf) != STRATA_OK) {
            int rc = use_write(pf);
            return rc == STRATA_OK ? write_all(pf, (const char *)p, n) : rc;
        }
        uint64_t room = pf->win_off + WIN_SIZE - pf->end;
        size_t k = n < room ? n : (size_t)room;
        ST_RET(reserve(pf, pf->end + k));
        if (pf->end + k > pf->faulted) {
            /* the window's reserved pages ahead, writable in one call rather than one fault per
             * page at the first store (perf of batched fills: 5% of the time in those faults) */
            uint64_t to =
                pf->reserved < pf->win_off + WIN_SIZE ? pf->reserved : pf->win_off + WIN_SIZE;
            st_prefault(pf->win + (pf->faulted - pf->win_off), (size_t)(to - pf->faulted));
            pf->faulted = to;
        }
        memcpy(pf->win + (pf->end - pf->win_off), p, k);
        pf->end += k;
        p += k;
        n -= k;
    }
    return STRATA_OK;
}

/* Cut a mapped-append file to size bytes, reserve included (the next append reserves again
 * before it stores). */
static int
mapped_truncate(posix_file *pf, uint64_t size)
{
    unmap_window(pf);
    if (ftruncate(pf->fd, (off_t)size) != 0)
        return st_err_errno(errno, "truncate %s", pf->base.path);
    pf->end = size;
    pf->reserved = size;
    return STRATA_OK;
}

/* ---- file operations ------------------------------------------------------------------------ */

static int
pf_read_at(st_file *f, uint64_t off, void *buf, size_t n, size_t *nread)
{
    posix_file *pf = (posix_file *)f;
    size_t done = 0;
    if (pf->mapped) /* the reserve past the appended bytes is not part of the file */
        n = off >= pf->end ? 0 : (pf->end - off < n ? (size_t)(pf->end - off) : n);
    while (done < n) {
        ssize_t r = pread(pf->fd, (char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *nread = done;
            return st_err_errno(errno, "read %s at offset %llu", f->path,
                                (unsigned long long)(off + done));
        }
        if (r == 0)
            break;
        done += (size_t)r;
    }
    *nread = done;
    return STRATA_OK;
}

static int
pf_append(st_file *f, const void *data, size_t n)
{
    posix_file *pf = (posix_file *)f;
    if (pf->mapped)
        return mapped_append(pf, data, n);
    return write_all(pf, data, n);
}

static int
pf_sync(st_file *f)
{
    posix_file *pf = (posix_file *)f;
    /* Linux's fdatasync also writes the pages stored through a shared mapping (one page cache) */
    if (fdatasync(pf->fd) != 0)
        return st_err_errno(errno, "fdatasync %s", f->path);
    return STRATA_OK;
}

static void
pf_writeback(st_file *f, uint64_t off, uint64_t n)
{
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    /* Linux's sync_file_range also covers the pages stored through a shared mapping */
    posix_file *pf = (posix_file *)f;
    (void)sync_file_range(pf->fd, (off_t)off, (off_t)n, SYNC_FILE_RANGE_WRITE);
#else
    (void)f;
    (void)off;
    (void)n;
#endif
}

static int
pf_size(st_file *f, uint64_t *size)
{
    posix_file *pf = (posix_file *)f;
    struct stat st;
    if (pf->mapped) {
        *size = pf->end;
        return STRATA_OK;
    }
    if (fstat(pf->fd, &st) != 0)
        return st_err_errno(errno, "fstat %s", f->path);
    *size = (uint64_t)st.st_size;
    return STRATA_OK;
}

static int
pf_truncate(st_file *f, uint64_t size)
{
    posix_file *pf = (posix_file *)f;
    if (pf->mapped)
        return mapped_truncate(pf, size);
    if (ftruncate(pf->fd, (off_t)size) != 0)
        return st_err_errno(errno, "truncate %s", f->path);
    return STRATA_OK;
}

static int
pf_map(st_file *f, const uint8_t **base, uint64_t *len)
{
    posix_file *pf = (posix_file *)f;
    if (pf->mapped)
        return st_err(STRATA_NOTSUP, "map %s: it is being appended to", f->path);
    if (!pf->map) {
        struct stat st;
        if (sizeof(void *) < 8)
            return st_err(STRATA_NOTSUP, "map %s: 32-bit address space", f->path);
        if (fstat(pf->fd, &st) != 0)
            return st_err_errno(errno, "stat %s", f->path);
        if (st.st_size <= 0)
            return st_err(STRATA_NOTSUP, "map %s: empty file", f->path);
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, pf->fd, 0);
        if (p == MAP_FAILED)
            return st_err_errno(errno, "mmap %s", f->path);
        pf->map = p;
        pf->maplen = (size_t)st.st_size;
    }
    *base = pf->map;
    *len = pf->maplen;
    return STRATA_OK;
}

static int
pf_close(st_file *f)
{
    posix_file *pf = (posix_file *)f;
    int rc = STRATA_OK;
    if (pf->map)
        munmap(pf->map, pf->maplen);
    if (pf->mapped) { /* cut the reserve off (only ever shrinking: others may have cut more) */
        struct stat st;
        unmap_window(pf);
        if (fstat(pf->fd, &st) == 0 && (uint64_t)st.st_size > pf->end &&
            ftruncate(pf->fd, (off_t)pf->end) != 0)
            rc = st_err_errno(errno, "truncate %s", f->path);
    }
    if (pf->fd >= 0 && close(pf->fd) != 0)
        rc = st_err_errno(errno, "close %s", f->path);
    st_free(f->path);
    st_free(pf);
    return rc;
}

static const st_file_ops posix_file_ops = {
    pf_read_at, pf_append, pf_sync, pf_size, pf_truncate, pf_close, pf_map, pf_writeback,
};

static int
new_file(st_env *env, const char *path, int fd, st_file **out)
{
    posix_file *pf = st_calloc(1, sizeof(*pf));
    char *p = st_strdup(path);
    if (!pf || !p) {
        st_free(pf);
        st_free(p);
        close(fd);
        return st_err(STRATA_NOMEM, "out of memory opening %s", path);
    }
    pf->base.ops = &posix_file_ops;
    pf->base.env = env;
    pf->base.path = p;
    pf->fd = fd;
    *out = &pf->base;
    return STRATA_OK;
}

static int
pe_open(st_env *env, const char *path, int flags, st_file **out)
{
    *out = NULL;
    int oflags = O_CLOEXEC;
    int mapped = (flags & ST_OPEN_WRITE) && (flags & ST_OPEN_MAPPED_APPEND) && sizeof(void *) >= 8;
    if (mapped) /* a shared writable mapping needs read access; appends track the end */
        oflags |= O_RDWR;
    else if ((flags & ST_OPEN_READ) && (flags & ST_OPEN_WRITE))
        oflags |= O_RDWR | O_APPEND;
    else if (flags & ST_OPEN_WRITE)
        oflags |= O_WRONLY | O_APPEND;
    else
        oflags |= O_RDONLY;
    if (flags & ST_OPEN_CREATE)
        oflags |= O_CREAT;
    if (flags & ST_OPEN_TRUNC)
        oflags |= O_TRUNC;
    if (flags & ST_OPEN_EXCL)
        oflags |= O_EXCL;
    int fd;
    do {
        fd = open(path, oflags, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        if (errno == EEXIST)
            return st_err(STRATA_INVALID, "open %s: file already exists", path);
        return st_err_errno(errno, "open %s", path);
    }
    struct stat st;
    if (mapped && fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return st_err_errno(e, "fstat %s", path);
    }
    ST_RET(new_file(env, path, fd, out));
    if (mapped) {
        posix_file *pf = (posix_file *)*out;
        pf->mapped = 1;
        pf->end = pf->reserved = (uint64_t)st.st_size;
        if (!overwrites_in_place(fd)) {
            int rc = use_write(pf);
            if (rc != STRATA_OK) {
                pf_close(*out);
                *out = NULL;
                return rc;
            }
        }
    }
    return STRATA_OK;
}

static int
pe_remove(st_env *env, const char *path)
{
    (void)env;
    if (unlink(path) != 0)
        return st_err_errno(errno, "remove %s", path);
    return STRATA_OK;
}

static int
pe_rename(st_env *env, const char *from, const char *to)
{
    (void)env;
    if (rename(from, to) != 0)
        return st_err_errno(errno, "rename %s to %s", from, to);
    return STRATA_OK;
}

static int
pe_mkdir(st_env *env, const char *path)
{
    (void)env;
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        return st_err_errno(errno, "mkdir %s", path);
    struct stat st;
    if (stat(path, &st) != 0)
        return st_err_errno(errno, "stat %s", path);
    if (!S_ISDIR(st.st_mode))
        return st_err(STRATA_INVALID, "%s exists and is not a directory", path);
    return STRATA_OK;
}

static int
pe_rmdir(st_env *env, const char *path)
{
    (void)env;
    if (rmdir(path) != 0)
        return st_err_errno(errno, "rmdir %s", path);
    return STRATA_OK;
}

static int
pe_list(st_env *env, const char *dir, char ***names, size_t *count)
{
    (void)env;
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return st_err_errno(errno, "opendir %s", dir);
    char **v = NULL;
    size_t n = 0, cap = 0;
    int rc = STRATA_OK;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nv = st_realloc(v, ncap * sizeof(*nv));
            if (!nv) {
                rc = st_err(STRATA_NOMEM, "out of memory listing %s", dir);
                break;
            }
            v = nv;
            cap = ncap;
        }
        if (!(v[n] = st_strdup(e->d_name))) {
            rc = st_err(STRATA_NOMEM, "out of memory listing %s", dir);
            break;
        }
        n++;
    }
    if (rc == STRATA_OK && errno != 0)
        rc = st_err_errno(errno, "readdir %s", dir);
    closedir(d);
    if (rc != STRATA_OK) {
        st_env_free_list(v, n);
        return rc;
    }
    *names = v;
    *count = n;
    return STRATA_OK;
}

static int
pe_sync_dir(st_env *env, const char *dir)
{
    (void)env;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return st_err_errno(errno, "open directory %s", dir);
    int rc = STRATA_OK;
    if (fsync(fd) != 0)
        rc = st_err_errno(errno, "fsync directory %s", dir);
    close(fd);
    return rc;
}

static int
pe_exists(st_env *env, const char *path, int *exists)
{
    (void)env;
    struct stat st;
    if (stat(path, &st) == 0) {
        *exists = 1;
        return STRATA_OK;
    }
    if (errno == ENOENT || errno == ENOTDIR) {
        *exists = 0;
        return STRATA_OK;
    }
    return st_err_errno(errno, "stat %s", path);
}

/* flock(op | LOCK_NB) on path opened with oflags: the lock file, or BUSY (busy_msg) when a
 * conflicting lock is held. flock locks belong to the open file description, so a second handle
 * in this same process conflicts too (unlike fcntl locks). */
static int
lock_file(st_env *env, const char *path, int oflags, int op, const char *busy_msg,
          st_file **lock_out)
{
    *lock_out = NULL;
    int fd = open(path, oflags | O_CLOEXEC, 0644);
    if (fd < 0)
        return st_err_errno(errno, "open lock file %s", path);
    if (flock(fd, op | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        if (e == EWOULDBLOCK)
            return st_err(STRATA_BUSY, "database is in use: %s is locked %s", path, busy_msg);
        return st_err_errno(e, "lock %s", path);
    }
    return new_file(env, path, fd, lock_out);
}

static int
pe_lock(st_env *env, const char *path, st_file **lock_out)
{
    return lock_file(env, path, O_RDWR | O_CREAT, LOCK_EX, "by another process or handle",
                     lock_out);
}

static int
pe_link(st_env *env, const char *from, const char *to)
{
    (void)env;
    if (link(from, to) == 0)
        return STRATA_OK;
    int e = errno;
    if (e == EXDEV || e == EPERM || e == EMLINK || e == ENOTSUP || e == EOPNOTSUPP)
        return st_err(STRATA_NOTSUP, "cannot hard-link %s to %s: %s", from, to, strerror(e));
    return st_err_errno(e, "link %s to %s", from, to);
}

/* Opened read-only, so no write access is needed; NOTFOUND when path is missing. */
static int
pe_lock_shared(st_env *env, const char *path, st_file **lock_out)
{
    return lock_file(env, path, O_RDONLY, LOCK_SH, "for writing", lock_out);
}

static st_env posix_env = {
    ST_ENV_VERSION, pe_open,   pe_remove, pe_rename, pe_mkdir, pe_list,
    pe_sync_dir,    pe_exists, pe_lock,   pe_rmdir,  pe_link,  pe_lock_shared,
};

st_env *
st_env_posix(void)
{
    return &posix_env;
}
