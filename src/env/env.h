/* SPDX-License-Identifier: Apache-2.0 */
/*
 * env.h -- the file layer: every byte strata reads or writes goes through an st_env.
 *
 * The POSIX implementation (st_env_posix) is the production one. Tests wrap an env to inject
 * faults (fail the N-th operation with EIO or ENOSPC) and to simulate a power loss by dropping
 * everything that was not synced (tests/support/fault_env.c). To wrap, embed the base struct
 * first (`struct my_env { st_env base; st_env *real; ... }`) and forward to `real`.
 *
 * Semantics every implementation must honour:
 *   - All functions return STRATA_OK or a STRATA_* code with the detail message set (naming the
 *     path and the OS error). A missing file is STRATA_NOTFOUND.
 *   - append() writes all n bytes or fails; after a failure the file may hold a prefix of them.
 *     Appended data has reached the OS (survives a process kill) when append() returns.
 *   - sync() makes the file's data durable (fdatasync); sync_dir() makes the directory's entries
 *     (creations, renames, removals) durable.
 *   - read_at() reads up to n bytes at off; *nread < n only at end of file.
 *   - close() frees the st_file even when it returns an error.
 *
 * Thread safety: an env may be used from many threads. One st_file may be read (read_at) from
 * many threads at once; appends, syncs, truncates and close need external serialisation.
 */
#ifndef ST_ENV_ENV_H
#define ST_ENV_ENV_H

#include "util/buf.h"
#include "util/status.h"

#include <stddef.h>
#include <stdint.h>

typedef struct st_env st_env;
typedef struct st_file st_file;

typedef struct st_file_ops {
    int (*read_at)(st_file *f, uint64_t off, void *buf, size_t n, size_t *nread);
    int (*append)(st_file *f, const void *data, size_t n);
    int (*sync)(st_file *f);
    int (*size)(st_file *f, uint64_t *size);
    int (*truncate)(st_file *f, uint64_t size);
    int (*close)(st_file *f);
    /* Optional (NULL = not supported): map the whole file read-only; *base stays valid until
     * close. Call once, before the file is shared between threads. Only for files nobody
     * appends to or truncates while mapped (immutable tables). */
    int (*map)(st_file *f, const uint8_t **base, uint64_t *len);
    /* Optional (NULL = a no-op): start writing [off, off + n) of the file to the device and
     * return without waiting. A hint with no durability promise (only sync makes data
     * durable); a later sync then has less to wait for. Errors are not reported here: the
     * sync that follows reports them. */
    void (*writeback)(st_file *f, uint64_t off, uint64_t n);
} st_file_ops;

/* Base of every open file. Implementations embed it first. */
struct st_file {
    const st_file_ops *ops;
    st_env *env;
    char *path; /* owned by the file; freed by close */
};

/* open() flags */
enum {
    ST_OPEN_READ = 1,   /* read_at allowed */
    ST_OPEN_WRITE = 2,  /* append/truncate/sync allowed; appends go to the end of the file */
    ST_OPEN_CREATE = 4, /* create if missing */
    ST_OPEN_TRUNC = 8,  /* truncate to 0 on open */
    ST_OPEN_EXCL = 16,  /* fail with INVALID if it exists */
    /* With ST_OPEN_WRITE, a hint: appends may be copied into a shared writable mapping of
     * space the file reserves ahead of its data (no system call per append; the data is in the
     * OS page cache when append() returns, as with write()). Until close, the file on disk may
     * end in reserved bytes that read as zeros; after a crash it may keep them. size() is the
     * bytes appended; close() cuts the reserve off. Only for files whose readers take a
     * zero-filled tail as their end (write-ahead logs). An env may ignore the flag. */
    ST_OPEN_MAPPED_APPEND = 32
};

#define ST_ENV_VERSION 2 /* 2: link, lock_shared */

struct st_env {
    int version; /* ST_ENV_VERSION; methods are only ever appended */
    int (*open)(st_env *env, const char *path, int flags, st_file **out);
    int (*remove)(st_env *env, const char *path);
    int (*rename)(st_env *env, const char *from, const char *to); /* atomic, replaces `to` */
    int (*mkdir)(st_env *env, const char *path);                  /* OK if it already exists */
    /* Names in dir (no "." or ".."); *names is an array of *count strings, free with
     * st_env_free_list. */
    int (*list)(st_env *env, const char *dir, char ***names, size_t *count);
    int (*sync_dir)(st_env *env, const char *dir);
    int (*exists)(st_env *env, const char *path, int *exists);
    /* Take an exclusive advisory lock on path (created if missing). BUSY when another process or
     * another handle of this process holds it. Release by closing *lock_out. */
    int (*lock)(st_env *env, const char *path, st_file **lock_out);
    int (*rmdir)(st_env *env, const char *path);
    /* Optional (NULL = not supported; check `version` >= 2 first). A new name `to` for the file
     * `from` (a hard link; fails if `to` exists). STRATA_NOTSUP when the file system cannot
     * link them (EXDEV, EPERM, EMLINK, ENOTSUP): callers copy instead (st_env_link_or_copy). */
    int (*link)(st_env *env, const char *from, const char *to);
    /* Optional (NULL = not supported): a shared advisory lock on path, which must exist (it is
     * opened read-only, so no write access is needed). BUSY while an exclusive lock is held;
     * several shared holders may coexist. NOTFOUND when path is missing. */
    int (*lock_shared)(st_env *env, const char *path, st_file **lock_out);
};

/* The process-wide POSIX env (static storage, never freed). */
st_env *st_env_posix(void);

/* Convenience wrappers (the only way callers touch the vtables). */
static inline int
st_file_read_at(st_file *f, uint64_t off, void *buf, size_t n, size_t *nread)
{
    return f->ops->read_at(f, off, buf, n, nread);
}
static inline int
st_file_append(st_file *f, const void *data, size_t n)
{
    return f->ops->append(f, data, n);
}
static inline int
st_file_sync(st_file *f)
{
    return f->ops->sync(f);
}
static inline void
st_file_writeback(st_file *f, uint64_t off, uint64_t n)
{
    if (f->ops->writeback)
        f->ops->writeback(f, off, n);
}
static inline int
st_file_size(st_file *f, uint64_t *size)
{
    return f->ops->size(f, size);
}
static inline int
st_file_truncate(st_file *f, uint64_t size)
{
    return f->ops->truncate(f, size);
}
static inline int
st_file_close(st_file *f)
{
    return f ? f->ops->close(f) : STRATA_OK;
}

/* Map f read-only (see st_file_ops.map); STRATA_NOTSUP when the env cannot. */
static inline int
st_file_map(st_file *f, const uint8_t **base, uint64_t *len)
{
    return f->ops->map ? f->ops->map(f, base, len) : STRATA_NOTSUP;
}

/* Read exactly n bytes at off: a short read is STRATA_CORRUPT ("<path>: short read at off"). */
int st_file_read_exact(st_file *f, uint64_t off, void *buf, size_t n);

void st_env_free_list(char **names, size_t count);

/* Read a whole file into b (b is cleared first). */
int st_env_read_file(st_env *env, const char *path, st_buf *b);

/* CRC-32C and size of the whole file at path, read in 1 MiB steps. */
int st_env_file_crc32c(st_env *env, const char *path, uint64_t *size, uint32_t *crc);

/*
 * st_env_write_file_atomic --
 *     Replace dir/name with data durably: write dir/name.tmp, sync it, rename over dir/name and
 *     sync dir. After a crash the file holds either the old or the new contents.
 */
int st_env_write_file_atomic(st_env *env, const char *dir, const char *name, const void *data,
                             size_t n);

/*
 * st_env_link_or_copy --
 *     Make `to` (which must not exist) a durable copy of the immutable file `from`: a hard link
 *     when env->link can make one, else a byte copy that is synced. The caller syncs the
 *     directory of `to`. On failure a partial `to` is removed (best effort).
 */
int st_env_link_or_copy(st_env *env, const char *from, const char *to);

/* "dir/name" in a new st_malloc'ed string (NULL on NOMEM). */
char *st_path_join(const char *dir, const char *name);

#endif
