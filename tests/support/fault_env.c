/* SPDX-License-Identifier: Apache-2.0 */
/* fault_env.c -- fault-injecting, power-loss-simulating st_env (see fault_env.h). */
#include "fault_env.h"

#include "st_test.h"
#include "util/random.h"
#include "util/status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Durability record of one path. */
typedef struct fe_entry {
    char *path;
    uint64_t synced_len; /* bytes that survive a crash */
    int durable;         /* directory entry made durable by sync_dir */
    char *undo_from;     /* !durable: durable old name to move back to on crash, or NULL */
} fe_entry;

struct st_fault_env {
    st_env base; /* must be first */
    st_env *real;
    pthread_rwlock_t oplock; /* read: one forwarded operation; write: crash */
    pthread_mutex_t mu;      /* everything below */
    int dead;
    int trace;     /* ST_FAULT_TRACE set: print every operation to stderr */
    int skip_sync; /* record syncs for the crash model but do not fsync the real disk */
    int sectors;   /* ST_FAULT_CRASH_MODE=sectors: every crash is ST_FAULT_CRASH_SECTORS */
    uint64_t counts[ST_FAULT_OP_KINDS];
    unsigned mask;
    uint64_t nth, seen, injected;
    int errnum, flags;
    fe_entry *entries;
    size_t n_entries, cap_entries;
    unsigned delay_mask; /* operations of these kinds first sleep ... */
    long delay_micros;   /* ... this long (a slow disk) */
    unsigned hook_mask;  /* operations of these kinds first call ... */
    st_fault_hook_fn hook;
    void *hook_arg;
    char *quota_dir;      /* quota: appends to files directly in quota_dir ... */
    uint64_t quota_bytes; /* ... may not grow its files' total size beyond this */
};

typedef struct fe_file {
    st_file base; /* must be first */
    st_file *real;
    st_fault_env *fe;
} fe_file;

static const char *const op_names[ST_FAULT_OP_KINDS] = {
    "open",  "append", "sync", "rename", "remove", "sync_dir", "read",  "truncate",
    "mkdir", "list",   "lock", "size",   "exists", "rmdir",    "close",
};

const char *
st_fault_op_name(unsigned kind)
{
    for (int i = 0; i < ST_FAULT_OP_KINDS; i++)
        if (kind == (1u << i))
            return op_names[i];
    return "?";
}

static int
kind_index(unsigned kind)
{
    int i = 0;
    while (i < ST_FAULT_OP_KINDS - 1 && !(kind & (1u << i)))
        i++;
    return i;
}

static char *
xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p) {
        fprintf(stderr, "fault_env: out of memory\n");
        abort();
    }
    return p;
}

/*
 * begin_op --
 *     Count one operation of `kind` on `path` and decide whether it fails. Returns STRATA_OK or
 *     the injected error (message set). *partial is set when a failing append should first
 *     write a prefix. Called with oplock read-held.
 */
static int
begin_op(st_fault_env *fe, unsigned kind, const char *path, int *partial)
{
    int fail = 0, errnum = EIO;
    if (partial)
        *partial = 0;
    pthread_mutex_lock(&fe->mu);
    if (fe->dead) {
        fail = 1;
    } else {
        fe->counts[kind_index(kind)]++;
        if (fe->nth && (fe->mask & kind)) {
            fe->seen++;
            if (fe->seen == fe->nth || ((fe->flags & ST_FAULT_PERSISTENT) && fe->seen > fe->nth)) {
                fail = 1;
                errnum = fe->errnum;
                fe->injected++;
                if (partial)
                    *partial = (fe->flags & ST_FAULT_PARTIAL_APPEND) != 0;
            }
        }
    }
    int dead = fe->dead;
    long delay = (fe->delay_mask & kind) && !fail ? fe->delay_micros : 0;
    st_fault_hook_fn hook = (fe->hook_mask & kind) && !fail ? fe->hook : NULL;
    void *hook_arg = fe->hook_arg;
    if (fe->trace)
        fprintf(stderr, "fault_env: #%llu %s %s%s\n",
                (unsigned long long)fe->counts[kind_index(kind)], st_fault_op_name(kind),
                path ? path : "", fail ? " -> FAIL" : "");
    pthread_mutex_unlock(&fe->mu);
    if (delay > 0)
        st_test_sleep_micros(delay);
    if (hook)
        hook(hook_arg, kind, path);
    if (!fail)
        return STRATA_OK;
    return st_err_errno(errnum, "injected fault%s: %s %s", dead ? " (powered off)" : "",
                        st_fault_op_name(kind), path ? path : "");
}

/* ---- durability table (callers hold fe->mu) ------------------------------------------------ */

static fe_entry *
track_get(st_fault_env *fe, const char *path)
{
    for (size_t i = 0; i < fe->n_entries; i++)
        if (strcmp(fe->entries[i].path, path) == 0)
            return &fe->entries[i];
    return NULL;
}

static fe_entry *
track_add(st_fault_env *fe, const char *path, uint64_t synced_len, int durable)
{
    fe_entry *e = track_get(fe, path);
    if (e) {
        free(e->undo_from);
    } else {
        if (fe->n_entries == fe->cap_entries) {
            size_t ncap = fe->cap_entries ? fe->cap_entries * 2 : 32;
            fe_entry *ne = realloc(fe->entries, ncap * sizeof(*ne));
            if (!ne) {
                fprintf(stderr, "fault_env: out of memory\n");
                abort();
            }
            fe->entries = ne;
            fe->cap_entries = ncap;
        }
        e = &fe->entries[fe->n_entries++];
        e->path = xstrdup(path);
    }
    e->synced_len = synced_len;
    e->durable = durable;
    e->undo_from = NULL;
    return e;
}

static void
track_del(st_fault_env *fe, const char *path)
{
    fe_entry *e = track_get(fe, path);
    if (!e)
        return;
    free(e->path);
    free(e->undo_from);
    *e = fe->entries[--fe->n_entries];
}

static void
track_clear(st_fault_env *fe)
{
    for (size_t i = 0; i < fe->n_entries; i++) {
        free(fe->entries[i].path);
        free(fe->entries[i].undo_from);
    }
    fe->n_entries = 0;
}

/* 1 if path is directly inside dir ("dir/name"). */
static int
in_dir(const char *path, const char *dir)
{
    size_t dl = strlen(dir);
    while (dl > 1 && dir[dl - 1] == '/')
        dl--;
    if (strncmp(path, dir, dl) != 0 || path[dl] != '/')
        return 0;
    return strchr(path + dl + 1, '/') == NULL;
}

static int
disk_size(const char *path, uint64_t *size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 0;
    *size = (uint64_t)st.st_size;
    return 1;
}

/* Total size of the regular files directly in dir. */
static uint64_t
dir_usage(const char *dir)
{
    uint64_t total = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    char path[4096];
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            total += (uint64_t)st.st_size;
    }
    closedir(d);
    return total;
}

/* Bytes of an n-byte append to path that fit in the quota (n when there is none). */
static size_t
quota_room(st_fault_env *fe, const char *path, size_t n)
{
    pthread_mutex_lock(&fe->mu);
    char *dir = fe->quota_dir && in_dir(path, fe->quota_dir) ? xstrdup(fe->quota_dir) : NULL;
    uint64_t limit = fe->quota_bytes;
    pthread_mutex_unlock(&fe->mu);
    if (!dir)
        return n;
    uint64_t used = dir_usage(dir);
    free(dir);
    if (used >= limit)
        return 0;
    return limit - used < n ? (size_t)(limit - used) : n;
}

/* ---- files --------------------------------------------------------------------------------- */

static st_fault_env *
file_env(st_file *f)
{
    return ((fe_file *)f)->fe;
}

static st_file *
file_real(st_file *f)
{
    return ((fe_file *)f)->real;
}

static int
ff_read_at(st_file *f, uint64_t off, void *buf, size_t n, size_t *nread)
{
    st_fault_env *fe = file_env(f);
    *nread = 0;
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = begin_op(fe, ST_FAULT_READ, f->path, NULL);
    if (rc == STRATA_OK)
        rc = st_file_read_at(file_real(f), off, buf, n, nread);
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

static int
ff_append(st_file *f, const void *data, size_t n)
{
    st_fault_env *fe = file_env(f);
    int partial = 0;
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = begin_op(fe, ST_FAULT_APPEND, f->path, &partial);
    size_t room = rc == STRATA_OK ? quota_room(fe, f->path, n) : n;
    if (rc == STRATA_OK && room < n) { /* a full disk: a short write, then ENOSPC */
        if (room > 0)
            (void)st_file_append(file_real(f), data, room);
        rc = st_err_errno(ENOSPC, "quota of %s exceeded: append to %s", fe->quota_dir, f->path);
    } else if (rc == STRATA_OK) {
        rc = st_file_append(file_real(f), data, n);
    } else if (partial && n / 2 > 0) {
        char msg[ST_ERRMSG_MAX];
        snprintf(msg, sizeof(msg), "%s", st_errmsg());
        (void)st_file_append(file_real(f), data, n / 2);
        st_err(rc, "%s", msg);
    }
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

static int
ff_sync(st_file *f)
{
    st_fault_env *fe = file_env(f);
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = begin_op(fe, ST_FAULT_SYNC, f->path, NULL);
    if (rc == STRATA_OK && !fe->skip_sync)
        rc = st_file_sync(file_real(f));
    uint64_t size = 0;
    if (rc == STRATA_OK && st_file_size(file_real(f), &size) == STRATA_OK) {
        pthread_mutex_lock(&fe->mu);
        fe_entry *e = track_get(fe, f->path);
        if (e)
            e->synced_len = size;
        pthread_mutex_unlock(&fe->mu);
    }
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

static int
ff_size(st_file *f, uint64_t *size)
{
    st_fault_env *fe = file_env(f);
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = begin_op(fe, ST_FAULT_SIZE, f->path, NULL);
    if (rc == STRATA_OK)
        rc = st_file_size(file_real(f), size);
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

static int
ff_truncate(st_file *f, uint64_t size)
{
    st_fault_env *fe = file_env(f);
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = begin_op(fe, ST_FAULT_TRUNCATE, f->path, NULL);
    if (rc == STRATA_OK)
        rc = st_file_truncate(file_real(f), size);
    if (rc == STRATA_OK) {
        pthread_mutex_lock(&fe->mu);
        fe_entry *e = track_get(fe, f->path);
        if (e && e->synced_len > size)
            e->synced_len = size; /* modelled as durable at once */
        pthread_mutex_unlock(&fe->mu);
    }
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

static int
ff_close(st_file *f)
{
    st_fault_env *fe = file_env(f);
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = st_file_close(file_real(f)); /* always release the descriptor (and any lock) */
    int frc = begin_op(fe, ST_FAULT_CLOSE, f->path, NULL);
    pthread_rwlock_unlock(&fe->oplock);
    free(f->path);
    free(f);
    return rc != STRATA_OK ? rc : frc;
}

/* no map: every read goes through ff_read_at, where faults are injected and power loss is
 * simulated (readers fall back to read_at when map is NULL) */
static const st_file_ops fe_file_ops = {
    ff_read_at, ff_append, ff_sync, ff_size, ff_truncate, ff_close, NULL, NULL,
};

static st_file *
wrap_file(st_fault_env *fe, const char *path, st_file *real)
{
    fe_file *ff = calloc(1, sizeof(*ff));
    if (!ff) {
        fprintf(stderr, "fault_env: out of memory\n");
        abort();
    }
    ff->base.ops = &fe_file_ops;
    ff->base.env = &fe->base;
    ff->base.path = xstrdup(path);
    ff->real = real;
    ff->fe = fe;
    return &ff->base;
}

/* ---- env ----------------------------------------------------------------------------------- */

static int
fe_open(st_env *env, const char *path, int flags, st_file **out)
{
    st_fault_env *fe = (st_fault_env *)env;
    *out = NULL;
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = begin_op(fe, ST_FAULT_OPEN, path, NULL);
    uint64_t before = 0;
    int existed = disk_size(path, &before);
    st_file *real = NULL;
    if (rc == STRATA_OK)
        rc = fe->real->open(fe->real, path, flags, &real);
    if (rc == STRATA_OK) {
        pthread_mutex_lock(&fe->mu);
        fe_entry *e = track_get(fe, path);
        if (!existed)
            track_add(fe, path, 0, 0);
        else if (!e && (flags & ST_OPEN_WRITE))
            e = track_add(fe, path, before, 1); /* pre-existing: durable as it is */
        if (existed && e && (flags & ST_OPEN_TRUNC))
            e->synced_len = 0;
        pthread_mutex_unlock(&fe->mu);
        *out = wrap_file(fe, path, real);
    }
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

static int
fe_remove(st_env *env, const char *path)
{
    st_fault_env *fe = (st_fault_env *)env;
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = begin_op(fe, ST_FAULT_REMOVE, path, NULL);
    if (rc == STRATA_OK)
        rc = fe->real->remove(fe->real, path);
    if (rc == STRATA_OK) {
        pthread_mutex_lock(&fe->mu);
        track_del(fe, path);
        pthread_mutex_unlock(&fe->mu);
    }
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

static int
fe_rename(st_env *env, const char *from, const char *to)
{
    st_fault_env *fe = (st_fault_env *)env;
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = begin_op(fe, ST_FAULT_RENAME, from, NULL);
    uint64_t from_size = 0, to_size = 0;
    int from_exists = disk_size(from, &from_size);
    int to_exists = disk_size(to, &to_size);
    if (rc == STRATA_OK)
        rc = fe->real->rename(fe->real, from, to);
    if (rc == STRATA_OK && from_exists) {
        pthread_mutex_lock(&fe->mu);
        fe_entry *ef = track_get(fe, from);
        uint64_t synced = ef ? ef->synced_len : from_size;
        int from_durable = ef ? ef->durable : 1;
        char *undo =
            from_durable ? xstrdup(from) : (ef && ef->undo_from ? xstrdup(ef->undo_from) : NULL);
        fe_entry *et = track_get(fe, to);
        int to_durable = to_exists && (!et || et->durable);
        track_del(fe, from);
        fe_entry *e = track_add(fe, to, synced, to_durable);
        if (!to_durable)
            e->undo_from = undo;
        else
            free(undo);
        pthread_mutex_unlock(&fe->mu);
    }
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

static int
fe_sync_dir(st_env *env, const char *dir)
{
    st_fault_env *fe = (st_fault_env *)env;
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = begin_op(fe, ST_FAULT_SYNC_DIR, dir, NULL);
    if (rc == STRATA_OK && !fe->skip_sync)
        rc = fe->real->sync_dir(fe->real, dir);
    if (rc == STRATA_OK) {
        pthread_mutex_lock(&fe->mu);
        for (size_t i = 0; i < fe->n_entries; i++) {
            fe_entry *e = &fe->entries[i];
            if (in_dir(e->path, dir)) {
                e->durable = 1;
                free(e->undo_from);
                e->undo_from = NULL;
            }
        }
        pthread_mutex_unlock(&fe->mu);
    }
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

/* Forwarders for the operations that need no tracking. */
#define FE_FORWARD(kind, path, call)                                                               \
    do {                                                                                           \
        st_fault_env *fe_ = (st_fault_env *)env;                                                   \
        pthread_rwlock_rdlock(&fe_->oplock);                                                       \
        int rc_ = begin_op(fe_, kind, path, NULL);                                                 \
        if (rc_ == STRATA_OK)                                                                      \
            rc_ = fe_->real->call;                                                                 \
        pthread_rwlock_unlock(&fe_->oplock);                                                       \
        return rc_;                                                                                \
    } while (0)

static int
fe_mkdir(st_env *env, const char *path)
{
    FE_FORWARD(ST_FAULT_MKDIR, path, mkdir(((st_fault_env *)env)->real, path));
}

static int
fe_rmdir(st_env *env, const char *path)
{
    FE_FORWARD(ST_FAULT_RMDIR, path, rmdir(((st_fault_env *)env)->real, path));
}

static int
fe_list(st_env *env, const char *dir, char ***names, size_t *count)
{
    *names = NULL;
    *count = 0;
    FE_FORWARD(ST_FAULT_LIST, dir, list(((st_fault_env *)env)->real, dir, names, count));
}

static int
fe_exists(st_env *env, const char *path, int *exists)
{
    *exists = 0;
    FE_FORWARD(ST_FAULT_EXISTS, path, exists(((st_fault_env *)env)->real, path, exists));
}

static int
fe_lock_any(st_env *env, const char *path, st_file **lock_out, int shared)
{
    st_fault_env *fe = (st_fault_env *)env;
    *lock_out = NULL;
    pthread_rwlock_rdlock(&fe->oplock);
    int rc = begin_op(fe, ST_FAULT_LOCK, path, NULL);
    st_file *real = NULL;
    if (rc == STRATA_OK)
        rc = shared ? fe->real->lock_shared(fe->real, path, &real)
                    : fe->real->lock(fe->real, path, &real);
    if (rc == STRATA_OK)
        *lock_out = wrap_file(fe, path, real);
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

static int
fe_lock(st_env *env, const char *path, st_file **lock_out)
{
    return fe_lock_any(env, path, lock_out, 0);
}

/* No link op (base.link = NULL): callers copy through append/sync, which the crash model
 * tracks. */
static int
fe_lock_shared(st_env *env, const char *path, st_file **lock_out)
{
    return fe_lock_any(env, path, lock_out, 1);
}

/* ---- public -------------------------------------------------------------------------------- */

st_fault_env *
st_fault_env_new(st_env *real)
{
    st_fault_env *fe = calloc(1, sizeof(*fe));
    if (!fe)
        return NULL;
    fe->base.version = ST_ENV_VERSION;
    fe->base.open = fe_open;
    fe->base.remove = fe_remove;
    fe->base.rename = fe_rename;
    fe->base.mkdir = fe_mkdir;
    fe->base.list = fe_list;
    fe->base.sync_dir = fe_sync_dir;
    fe->base.exists = fe_exists;
    fe->base.lock = fe_lock;
    fe->base.rmdir = fe_rmdir;
    fe->base.link = NULL; /* callers fall back to copying */
    fe->base.lock_shared = fe_lock_shared;
    fe->real = real;
    fe->trace = getenv("ST_FAULT_TRACE") != NULL;
    const char *mode = getenv("ST_FAULT_CRASH_MODE");
    fe->sectors = mode && strcmp(mode, "sectors") == 0;
    pthread_rwlock_init(&fe->oplock, NULL);
    pthread_mutex_init(&fe->mu, NULL);
    return fe;
}

void
st_fault_env_free(st_fault_env *fe)
{
    if (!fe)
        return;
    track_clear(fe);
    free(fe->entries);
    free(fe->quota_dir);
    pthread_rwlock_destroy(&fe->oplock);
    pthread_mutex_destroy(&fe->mu);
    free(fe);
}

st_env *
st_fault_env_env(st_fault_env *fe)
{
    return &fe->base;
}

void
st_fault_env_fail(st_fault_env *fe, unsigned mask, uint64_t nth, int errnum, int flags)
{
    pthread_mutex_lock(&fe->mu);
    fe->mask = mask;
    fe->nth = nth;
    fe->seen = 0;
    fe->errnum = errnum;
    fe->flags = flags;
    pthread_mutex_unlock(&fe->mu);
}

void
st_fault_env_disarm(st_fault_env *fe)
{
    st_fault_env_fail(fe, 0, 0, 0, 0);
}

uint64_t
st_fault_env_injected(st_fault_env *fe)
{
    pthread_mutex_lock(&fe->mu);
    uint64_t n = fe->injected;
    pthread_mutex_unlock(&fe->mu);
    return n;
}

uint64_t
st_fault_env_count(st_fault_env *fe, unsigned mask)
{
    uint64_t n = 0;
    pthread_mutex_lock(&fe->mu);
    for (int i = 0; i < ST_FAULT_OP_KINDS; i++)
        if (mask & (1u << i))
            n += fe->counts[i];
    pthread_mutex_unlock(&fe->mu);
    return n;
}

void
st_fault_env_set_quota(st_fault_env *fe, const char *dir, uint64_t bytes)
{
    pthread_mutex_lock(&fe->mu);
    free(fe->quota_dir);
    fe->quota_dir = dir ? xstrdup(dir) : NULL;
    fe->quota_bytes = bytes;
    pthread_mutex_unlock(&fe->mu);
}

uint64_t
st_fault_env_dir_usage(const char *dir)
{
    return dir_usage(dir);
}

void
st_fault_env_skip_real_sync(st_fault_env *fe, int skip)
{
    pthread_mutex_lock(&fe->mu);
    fe->skip_sync = skip;
    pthread_mutex_unlock(&fe->mu);
}

int
st_fault_env_is_dead(st_fault_env *fe)
{
    pthread_mutex_lock(&fe->mu);
    int d = fe->dead;
    pthread_mutex_unlock(&fe->mu);
    return d;
}

int
st_fault_env_file_state(st_fault_env *fe, const char *path, uint64_t *synced_len,
                        int *entry_durable)
{
    pthread_mutex_lock(&fe->mu);
    fe_entry *e = track_get(fe, path);
    int r = -1;
    if (e) {
        *synced_len = e->synced_len;
        *entry_durable = e->durable;
        r = 0;
    }
    pthread_mutex_unlock(&fe->mu);
    return r;
}

static int
crash_truncate(const char *path, uint64_t keep)
{
    uint64_t size = 0;
    if (!disk_size(path, &size) || size <= keep)
        return STRATA_OK;
    if (truncate(path, (off_t)keep) != 0)
        return st_err_errno(errno, "crash: truncate %s", path);
    return STRATA_OK;
}

/*
 * crash_sectors --
 *     The unsynced part [synced, size) of path after a sector-granular power loss: every 512-byte
 *     sector of it (the first one only from `synced` on) is independently kept or dropped (it
 *     reads as zeros), the last one may also be torn (a prefix kept); the file then ends after
 *     the last surviving byte, or (one time in four) keeps its full length, as when the size
 *     reached the disk before the data.
 */
static int
crash_sectors(const char *path, uint64_t synced, st_rng *rng)
{
    static const uint8_t zeros[ST_FAULT_SECTOR];
    uint64_t size = 0;
    if (!disk_size(path, &size) || size <= synced)
        return STRATA_OK;
    int fd = open(path, O_WRONLY);
    if (fd < 0)
        return st_err_errno(errno, "crash: open %s", path);
    uint64_t end = synced;
    int rc = STRATA_OK;
    for (uint64_t s = synced - synced % ST_FAULT_SECTOR; s < size && rc == STRATA_OK;
         s += ST_FAULT_SECTOR) {
        uint64_t lo = s < synced ? synced : s;
        uint64_t hi = s + ST_FAULT_SECTOR < size ? s + ST_FAULT_SECTOR : size;
        uint64_t fate = st_rng_uniform(rng, hi == size ? 3 : 2); /* kept, dropped, torn */
        uint64_t cut = fate == 0 ? hi : fate == 1 ? lo : lo + st_rng_uniform(rng, hi - lo);
        if (cut > end)
            end = cut;
        if (cut < hi && pwrite(fd, zeros, (size_t)(hi - cut), (off_t)cut) != (ssize_t)(hi - cut))
            rc = st_err_errno(errno, "crash: zero %s", path);
    }
    if (rc == STRATA_OK && st_rng_uniform(rng, 4) != 0 && ftruncate(fd, (off_t)end) != 0)
        rc = st_err_errno(errno, "crash: truncate %s", path);
    close(fd);
    return rc;
}

/* What survives of one file's contents: its synced length plus, per mode, part of the rest. */
static int
crash_contents(const char *path, uint64_t synced, int mode, st_rng *rng)
{
    uint64_t size = 0;
    if (!disk_size(path, &size))
        return STRATA_OK;
    if (mode == ST_FAULT_CRASH_SECTORS)
        return crash_sectors(path, synced, rng);
    if (mode == ST_FAULT_CRASH_TORN && size > synced)
        synced += st_rng_uniform(rng, size - synced + 1);
    return crash_truncate(path, synced);
}

int
st_fault_env_crash(st_fault_env *fe, int mode, uint64_t seed)
{
    st_rng rng;
    st_rng_seed(&rng, seed);
    int rc = STRATA_OK;
    pthread_rwlock_wrlock(&fe->oplock);
    pthread_mutex_lock(&fe->mu);
    if (fe->sectors)
        mode = ST_FAULT_CRASH_SECTORS;
    for (size_t i = 0; i < fe->n_entries && rc == STRATA_OK; i++) {
        fe_entry *e = &fe->entries[i];
        uint64_t ignored;
        if (!disk_size(e->path, &ignored))
            continue;
        if (e->durable) {
            rc = crash_contents(e->path, e->synced_len, mode, &rng);
        } else if (e->undo_from && !disk_size(e->undo_from, &ignored)) {
            rc = crash_contents(e->path, e->synced_len, mode, &rng);
            if (rc == STRATA_OK && rename(e->path, e->undo_from) != 0)
                rc = st_err_errno(errno, "crash: rename %s back to %s", e->path, e->undo_from);
        } else if (unlink(e->path) != 0) {
            rc = st_err_errno(errno, "crash: unlink %s", e->path);
        }
    }
    track_clear(fe);
    fe->dead = 1;
    pthread_mutex_unlock(&fe->mu);
    pthread_rwlock_unlock(&fe->oplock);
    return rc;
}

void
st_fault_env_reset(st_fault_env *fe)
{
    pthread_mutex_lock(&fe->mu);
    track_clear(fe);
    fe->dead = 0;
    memset(fe->counts, 0, sizeof(fe->counts));
    fe->mask = 0;
    fe->nth = fe->seen = fe->injected = 0;
    pthread_mutex_unlock(&fe->mu);
}

void
st_fault_env_set_hook(st_fault_env *fe, unsigned mask, st_fault_hook_fn fn, void *arg)
{
    pthread_mutex_lock(&fe->mu);
    fe->hook_mask = fn ? mask : 0;
    fe->hook = fn;
    fe->hook_arg = arg;
    pthread_mutex_unlock(&fe->mu);
}

void
st_fault_env_set_delay(st_fault_env *fe, unsigned mask, long micros)
{
    pthread_mutex_lock(&fe->mu);
    fe->delay_mask = micros > 0 ? mask : 0;
    fe->delay_micros = micros;
    pthread_mutex_unlock(&fe->mu);
}
