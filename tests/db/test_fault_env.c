/* SPDX-License-Identifier: Apache-2.0 */
/* Tests of the test-support fault-injecting env itself (tests/support/fault_env.c). */
#include "env/env.h"
#include "fault_env.h"
#include "st_test.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *
join(const char *dir, const char *name)
{
    char *p = st_path_join(dir, name);
    ST_ASSERT(p != NULL);
    return p;
}

/* Length of a file on the real disk, -1 when absent. */
static long long
disk_len(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (long long)st.st_size;
}

static void
write_file(st_env *env, const char *path, const char *data, int sync)
{
    st_file *f = NULL;
    ST_ASSERT_OK(env->open(env, path, ST_OPEN_WRITE | ST_OPEN_CREATE | ST_OPEN_TRUNC, &f));
    ST_ASSERT_OK(st_file_append(f, data, strlen(data)));
    if (sync)
        ST_ASSERT_OK(st_file_sync(f));
    ST_ASSERT_OK(st_file_close(f));
}

static void
test_passthrough_and_counts(void)
{
    char *dir = st_test_tmpdir("fe_pass");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    st_env *env = st_fault_env_env(fe);
    char *p = join(dir, "a");
    write_file(env, p, "hello", 1);
    ST_ASSERT_EQ(st_fault_env_count(fe, ST_FAULT_OPEN), 1);
    ST_ASSERT_EQ(st_fault_env_count(fe, ST_FAULT_APPEND), 1);
    ST_ASSERT_EQ(st_fault_env_count(fe, ST_FAULT_SYNC), 1);
    ST_ASSERT_EQ(st_fault_env_count(fe, ST_FAULT_CLOSE), 1);
    ST_ASSERT_EQ(st_fault_env_count(fe, ST_FAULT_ALL), 4);
    st_file *f = NULL;
    ST_ASSERT_OK(env->open(env, p, ST_OPEN_READ, &f));
    char buf[16];
    size_t got = 0;
    ST_ASSERT_OK(st_file_read_at(f, 1, buf, sizeof(buf), &got));
    ST_ASSERT_MEM_EQ(buf, got, "ello", 4);
    uint64_t size = 0;
    ST_ASSERT_OK(st_file_size(f, &size));
    ST_ASSERT_EQ(size, 5);
    ST_ASSERT_OK(st_file_close(f));
    ST_ASSERT_EQ(st_fault_env_count(fe, ST_FAULT_READ), 1);
    char **names = NULL;
    size_t n = 0;
    ST_ASSERT_OK(env->list(env, dir, &names, &n));
    ST_ASSERT_EQ(n, 1);
    ST_ASSERT(strcmp(names[0], "a") == 0);
    st_env_free_list(names, n);
    int ex = 0;
    ST_ASSERT_OK(env->exists(env, p, &ex));
    ST_ASSERT_EQ(ex, 1);
    ST_ASSERT_EQ(st_fault_env_injected(fe), 0);
    /* the lock goes through the wrapper and conflicts with a second taker */
    char *lp = join(dir, "LOCK");
    st_file *l1 = NULL, *l2 = NULL;
    ST_ASSERT_OK(env->lock(env, lp, &l1));
    ST_ASSERT_RC(env->lock(env, lp, &l2), STRATA_BUSY);
    ST_ASSERT(l2 == NULL);
    ST_ASSERT_OK(st_file_close(l1));
    ST_ASSERT_OK(env->lock(env, lp, &l2));
    ST_ASSERT_OK(st_file_close(l2));
    st_fault_env_free(fe);
    st_free(lp);
    st_free(p);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_nth_failure(void)
{
    char *dir = st_test_tmpdir("fe_nth");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    st_env *env = st_fault_env_env(fe);
    char *p = join(dir, "f");
    st_file *f = NULL;
    ST_ASSERT_OK(env->open(env, p, ST_OPEN_WRITE | ST_OPEN_CREATE, &f));
    /* one-shot: only the 3rd append fails, with IOERR */
    st_fault_env_fail(fe, ST_FAULT_APPEND, 3, EIO, 0);
    ST_ASSERT_OK(st_file_append(f, "a", 1));
    ST_ASSERT_OK(st_file_sync(f)); /* other kinds are not counted against the fault */
    ST_ASSERT_OK(st_file_append(f, "b", 1));
    ST_ASSERT_RC(st_file_append(f, "c", 1), STRATA_IOERR);
    ST_ASSERT(strstr(st_test_errmsg(), "injected fault") != NULL);
    ST_ASSERT(strstr(st_test_errmsg(), "/f") != NULL);
    ST_ASSERT_OK(st_file_append(f, "d", 1));
    ST_ASSERT_EQ(st_fault_env_injected(fe), 1);
    ST_ASSERT_EQ(disk_len(p), 3);
    /* persistent ENOSPC from the 2nd sync or append on */
    st_fault_env_fail(fe, ST_FAULT_APPEND | ST_FAULT_SYNC, 2, ENOSPC, ST_FAULT_PERSISTENT);
    ST_ASSERT_OK(st_file_append(f, "e", 1));
    ST_ASSERT_RC(st_file_sync(f), STRATA_NOSPC);
    ST_ASSERT_RC(st_file_append(f, "f", 1), STRATA_NOSPC);
    ST_ASSERT_RC(st_file_append(f, "g", 1), STRATA_NOSPC);
    ST_ASSERT_EQ(st_fault_env_injected(fe), 4);
    /* partial append writes half of the bytes, then fails */
    st_fault_env_fail(fe, ST_FAULT_APPEND, 1, EIO, ST_FAULT_PARTIAL_APPEND);
    ST_ASSERT_RC(st_file_append(f, "0123456789", 10), STRATA_IOERR);
    ST_ASSERT(strstr(st_test_errmsg(), "injected fault") != NULL);
    ST_ASSERT_EQ(disk_len(p), 4 + 5);
    st_fault_env_disarm(fe);
    ST_ASSERT_OK(st_file_append(f, "z", 1));
    /* a failing close still releases the real file */
    st_fault_env_fail(fe, ST_FAULT_CLOSE, 1, EIO, 0);
    ST_ASSERT_RC(st_file_close(f), STRATA_IOERR);
    /* failing namespace operations leave the disk alone */
    char *q = join(dir, "g");
    st_fault_env_fail(fe, ST_FAULT_RENAME | ST_FAULT_REMOVE | ST_FAULT_OPEN, 1, EIO,
                      ST_FAULT_PERSISTENT);
    ST_ASSERT_RC(env->rename(env, p, q), STRATA_IOERR);
    ST_ASSERT_RC(env->remove(env, p), STRATA_IOERR);
    ST_ASSERT_RC(env->open(env, q, ST_OPEN_WRITE | ST_OPEN_CREATE, &f), STRATA_IOERR);
    ST_ASSERT(f == NULL);
    ST_ASSERT_EQ(disk_len(p), 10);
    ST_ASSERT_EQ(disk_len(q), -1);
    st_fault_env_free(fe);
    st_free(p);
    st_free(q);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_crash_model(void)
{
    char *dir = st_test_tmpdir("fe_crash");
    /* a file that existed before the env saw it counts as durable */
    char *pre = join(dir, "pre");
    write_file(st_env_posix(), pre, "0123", 0);
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    st_env *env = st_fault_env_env(fe);
    char *a = join(dir, "a"), *b = join(dir, "b"), *tmp = join(dir, "t.tmp"),
         *dst = join(dir, "dst"), *tmp2 = join(dir, "u.tmp"), *dst2 = join(dir, "dst2");
    /* a: created, synced, dir-synced, then 3 unsynced bytes */
    st_file *fa = NULL;
    ST_ASSERT_OK(env->open(env, a, ST_OPEN_WRITE | ST_OPEN_CREATE, &fa));
    ST_ASSERT_OK(st_file_append(fa, "durable", 7));
    ST_ASSERT_OK(st_file_sync(fa));
    ST_ASSERT_OK(env->sync_dir(env, dir));
    ST_ASSERT_OK(st_file_append(fa, "xyz", 3));
    uint64_t sl = 0;
    int dur = 0;
    ST_ASSERT_EQ(st_fault_env_file_state(fe, a, &sl, &dur), 0);
    ST_ASSERT_EQ(sl, 7);
    ST_ASSERT_EQ(dur, 1);
    /* pre: appended without sync */
    st_file *fp = NULL;
    ST_ASSERT_OK(env->open(env, pre, ST_OPEN_WRITE, &fp));
    ST_ASSERT_OK(st_file_append(fp, "4567", 4));
    ST_ASSERT_OK(st_file_close(fp));
    /* tmp -> dst renamed without sync_dir after a durable creation of tmp: undone */
    write_file(env, tmp, "new", 1);
    write_file(env, tmp2, "kept", 1);
    ST_ASSERT_OK(env->sync_dir(env, dir));
    /* tmp2 -> dst2 renamed and dir-synced: kept */
    ST_ASSERT_OK(env->rename(env, tmp2, dst2));
    ST_ASSERT_OK(env->sync_dir(env, dir));
    ST_ASSERT_OK(env->rename(env, tmp, dst));
    ST_ASSERT_EQ(st_fault_env_file_state(fe, dst, &sl, &dur), 0);
    ST_ASSERT_EQ(dur, 0);
    ST_ASSERT_EQ(st_fault_env_file_state(fe, tmp, &sl, &dur), -1);
    /* b: created and synced but never dir-synced */
    write_file(env, b, "lost", 1);
    ST_ASSERT_EQ(st_fault_env_file_state(fe, b, &sl, &dur), 0);
    ST_ASSERT_EQ(dur, 0);
    ST_ASSERT_EQ(disk_len(a), 10);
    ST_ASSERT_OK(st_fault_env_crash(fe, ST_FAULT_CRASH_EXACT, 1));
    ST_ASSERT(st_fault_env_is_dead(fe));
    ST_ASSERT_EQ(disk_len(a), 7);
    ST_ASSERT_EQ(disk_len(b), -1);
    ST_ASSERT_EQ(disk_len(pre), 4);
    ST_ASSERT_EQ(disk_len(dst), -1);
    ST_ASSERT_EQ(disk_len(tmp), 3);
    ST_ASSERT_EQ(disk_len(dst2), 4);
    ST_ASSERT_EQ(disk_len(tmp2), -1);
    /* powered off: everything fails, close still works */
    ST_ASSERT_RC(st_file_append(fa, "q", 1), STRATA_IOERR);
    st_file *fx = NULL;
    ST_ASSERT_RC(env->open(env, a, ST_OPEN_READ, &fx), STRATA_IOERR);
    ST_ASSERT_RC(st_file_close(fa), STRATA_IOERR);
    ST_ASSERT_EQ(disk_len(a), 7);
    st_fault_env_reset(fe);
    ST_ASSERT(!st_fault_env_is_dead(fe));
    ST_ASSERT_OK(env->open(env, a, ST_OPEN_READ, &fx));
    char buf[16];
    size_t got = 0;
    ST_ASSERT_OK(st_file_read_at(fx, 0, buf, sizeof(buf), &got));
    ST_ASSERT_MEM_EQ(buf, got, "durable", 7);
    ST_ASSERT_OK(st_file_close(fx));
    /* truncation through ST_OPEN_TRUNC of a durable file is not durable until synced */
    write_file(env, pre, "abcdefgh", 0);
    ST_ASSERT_OK(st_fault_env_crash(fe, ST_FAULT_CRASH_EXACT, 2));
    ST_ASSERT_EQ(disk_len(pre), 0);
    st_fault_env_free(fe);
    char *paths[] = {pre, a, b, tmp, dst, tmp2, dst2};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        st_free(paths[i]);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_crash_torn(void)
{
    char *dir = st_test_tmpdir("fe_torn");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    st_env *env = st_fault_env_env(fe);
    char *p = join(dir, "wal");
    int saw_partial = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        st_fault_env_reset(fe);
        st_file *f = NULL;
        ST_ASSERT_OK(env->open(env, p, ST_OPEN_WRITE | ST_OPEN_CREATE | ST_OPEN_TRUNC, &f));
        ST_ASSERT_OK(st_file_append(f, "0123456789", 10));
        ST_ASSERT_OK(st_file_sync(f));
        ST_ASSERT_OK(env->sync_dir(env, dir));
        ST_ASSERT_OK(st_file_append(f, "abcdefghij", 10));
        ST_ASSERT_OK(st_fault_env_crash(fe, ST_FAULT_CRASH_TORN, seed));
        long long len = disk_len(p);
        ST_ASSERT(len >= 10 && len <= 20);
        saw_partial |= len > 10 && len < 20;
        st_file_close(f);
    }
    ST_ASSERT(saw_partial);
    st_fault_env_free(fe);
    st_free(p);
    st_test_rmrf(dir);
    st_free(dir);
}

/* Sector mode: the synced prefix intact; every later 512-byte sector either as written or
 * zero (the last possibly a prefix); over many seeds a dropped sector before a kept one
 * (reordering) and a full-length file with dropped data both occur. */
static void
test_crash_sectors(void)
{
    char *dir = st_test_tmpdir("fe_sectors");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    st_env *env = st_fault_env_env(fe);
    char *p = join(dir, "wal");
    enum { SYNCED = 700, TOTAL = 700 + 5 * ST_FAULT_SECTOR + 100 };
    static uint8_t data[TOTAL], got[TOTAL];
    for (size_t i = 0; i < TOTAL; i++)
        data[i] = (uint8_t)(1 + i % 251); /* never zero */
    int saw_hole = 0, saw_full_len_zero = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        st_fault_env_reset(fe);
        st_file *f = NULL;
        ST_ASSERT_OK(env->open(env, p, ST_OPEN_WRITE | ST_OPEN_CREATE | ST_OPEN_TRUNC, &f));
        ST_ASSERT_OK(st_file_append(f, data, SYNCED));
        ST_ASSERT_OK(st_file_sync(f));
        ST_ASSERT_OK(env->sync_dir(env, dir));
        ST_ASSERT_OK(st_file_append(f, data + SYNCED, TOTAL - SYNCED));
        ST_ASSERT_OK(st_fault_env_crash(fe, ST_FAULT_CRASH_SECTORS, seed));
        st_file_close(f);
        long long len = disk_len(p);
        ST_ASSERT(len >= SYNCED && len <= TOTAL);
        FILE *in = fopen(p, "rb");
        ST_ASSERT(in != NULL);
        ST_ASSERT(fread(got, 1, (size_t)len, in) == (size_t)len);
        fclose(in);
        ST_ASSERT(memcmp(got, data, SYNCED) == 0);
        int dropped = 0;
        for (size_t s = 0; s < (size_t)len; s += ST_FAULT_SECTOR) {
            size_t lo = s < SYNCED ? SYNCED : s;
            size_t hi = s + ST_FAULT_SECTOR < (size_t)len ? s + ST_FAULT_SECTOR : (size_t)len;
            if (lo >= hi)
                continue;
            size_t k = lo; /* a kept prefix, then zeros */
            while (k < hi && got[k] == data[k])
                k++;
            for (size_t j = k; j < hi; j++)
                ST_ASSERT(got[j] == 0);
            if (k < hi && hi < TOTAL && hi - lo == ST_FAULT_SECTOR)
                ST_ASSERT(k == lo); /* only the file's last sector can be torn */
            saw_hole |= dropped && k > lo;
            dropped |= k == lo;
        }
        saw_full_len_zero |= len == TOTAL && got[TOTAL - 1] == 0;
    }
    ST_ASSERT(saw_hole);
    ST_ASSERT(saw_full_len_zero);
    st_fault_env_free(fe);
    st_free(p);
    st_test_rmrf(dir);
    st_free(dir);
}

/* The quota: an append past it writes what fits and fails with NOSPC; removing frees space. */
static void
test_quota(void)
{
    char *dir = st_test_tmpdir("fe_quota");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    st_env *env = st_fault_env_env(fe);
    char *a = join(dir, "a"), *b = join(dir, "b");
    st_fault_env_set_quota(fe, dir, 100);
    write_file(env, a, "0123456789012345678901234567890123456789012345678901234567890123456789", 0);
    st_file *f = NULL;
    ST_ASSERT_OK(env->open(env, b, ST_OPEN_WRITE | ST_OPEN_CREATE | ST_OPEN_TRUNC, &f));
    ST_ASSERT_RC(st_file_append(f, "0123456789012345678901234567890123456789", 40), STRATA_NOSPC);
    ST_ASSERT_EQ(disk_len(b), 30);
    ST_ASSERT_EQ(st_fault_env_dir_usage(dir), 100);
    ST_ASSERT_OK(env->remove(env, a));
    ST_ASSERT_OK(st_file_append(f, "0123456789", 10));
    ST_ASSERT_OK(st_file_close(f));
    st_fault_env_set_quota(fe, NULL, 0);
    st_fault_env_free(fe);
    st_free(a);
    st_free(b);
    st_test_rmrf(dir);
    st_free(dir);
}

/* Skipping real fsyncs keeps the model: a sync still defines what survives a crash. */
static void
test_skip_real_sync(void)
{
    char *dir = st_test_tmpdir("fe_skip");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    st_fault_env_skip_real_sync(fe, 1);
    st_env *env = st_fault_env_env(fe);
    char *p = join(dir, "f");
    st_file *f = NULL;
    ST_ASSERT_OK(env->open(env, p, ST_OPEN_WRITE | ST_OPEN_CREATE, &f));
    ST_ASSERT_OK(st_file_append(f, "abc", 3));
    ST_ASSERT_OK(st_file_sync(f));
    ST_ASSERT_OK(env->sync_dir(env, dir));
    ST_ASSERT_OK(st_file_append(f, "def", 3));
    uint64_t sl = 0;
    int dur = 0;
    ST_ASSERT_EQ(st_fault_env_file_state(fe, p, &sl, &dur), 0);
    ST_ASSERT_EQ(sl, 3);
    ST_ASSERT_EQ(dur, 1);
    ST_ASSERT_EQ(st_fault_env_count(fe, ST_FAULT_SYNC | ST_FAULT_SYNC_DIR), 2);
    /* and syncs can still fail */
    st_fault_env_fail(fe, ST_FAULT_SYNC, 1, EIO, 0);
    ST_ASSERT_RC(st_file_sync(f), STRATA_IOERR);
    ST_ASSERT_OK(st_fault_env_crash(fe, ST_FAULT_CRASH_EXACT, 1));
    ST_ASSERT_EQ(disk_len(p), 3);
    st_file_close(f);
    st_fault_env_free(fe);
    st_free(p);
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_passthrough_and_counts);
    ST_RUN(test_nth_failure);
    ST_RUN(test_crash_model);
    ST_RUN(test_crash_torn);
    ST_RUN(test_crash_sectors);
    ST_RUN(test_quota);
    ST_RUN(test_skip_real_sync);
    return st_test_done();
}
