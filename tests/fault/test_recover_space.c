/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_recover_space.c -- recovery within bounded space (issue 12, finding 5).
 *
 * A database directory holds several unflushed write-ahead logs (written here with the WAL
 * writer and the batch encoding, as a database that crashed with a queue of immutable memtables
 * leaves them; later logs overwrite and delete keys of earlier ones). Recovery must flush them
 * log by log, deleting each once its table is logged in the manifest, so that it needs free
 * space for about one log's table, not for all of them:
 *   - under a fault-env quota with room for one log's table but far less than all logs, open
 *     succeeds with every entry, and leaves one (new) log;
 *   - with room for less than one table it fails with STRATA_NOSPC and loses nothing;
 *   - a power loss at every file operation of recovery (exact and torn) loses nothing, and no
 *     sequence number is reused afterwards;
 *   - on a real tmpfs of the same small size (in a private mount namespace; skipped with a note
 *     when mounting is not permitted).
 */
#define _GNU_SOURCE /* unshare */
#include "db/batch.h"
#include "db/db.h"
#include "db_check.h"
#include "fault_env.h"
#include "st_test.h"
#include "test_fs.h"
#include "util/alloc.h"
#include "util/random.h"
#include "wal/wal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sched.h>
#include <sys/mount.h>
#endif

#define NLOGS 4
#define VLEN 1000

static int keys_per_log;     /* puts per log (scaled) */
static uint64_t total_seq;   /* sequence numbers used by the logs */
static uint64_t largest_log; /* bytes */
static uint64_t logs_bytes;  /* all logs */

static void
key_of(int k, char *buf, size_t n)
{
    snprintf(buf, n, "key%06d", k);
}

/* Log i (1-based) puts keys [i*P/2, i*P/2 + P) (half of them overwrite the previous log's) and
 * deletes every 7th key of the previous log's first half; records of 8 entries. */
static void
write_logs(const char *dir, st_model *m, uint64_t seed)
{
    st_rng rng;
    st_rng_seed(&rng, seed);
    uint64_t seq = 1;
    logs_bytes = largest_log = 0;
    for (int i = 1; i <= NLOGS; i++) {
        char name[4096];
        snprintf(name, sizeof(name), "%s/%06d.wal", dir, i);
        st_wal_writer *w = NULL;
        ST_ASSERT_OK(st_wal_writer_open(st_env_posix(), name, (uint64_t)i, &w));
        strata_batch *b = strata_batch_new();
        ST_ASSERT(b != NULL);
        int first = i * keys_per_log / 2, ops = 0;
        for (int k = first; k < first + keys_per_log; k++) {
            char key[32];
            uint8_t val[VLEN];
            key_of(k, key, sizeof(key));
            for (size_t j = 0; j < VLEN; j += 8) {
                uint64_t r = st_rng_next(&rng);
                memcpy(val + j, &r, VLEN - j < 8 ? VLEN - j : 8);
            }
            int len = snprintf((char *)val, 32, "log%d-%s", i, key);
            val[len] = '|';
            ST_ASSERT_OK(strata_batch_put(b, key, strlen(key), val, VLEN));
            st_model_put(m, key, strlen(key), val, VLEN);
            ops++;
            int del = k - keys_per_log / 2;
            if (i > 1 && del % 7 == 0 && del < first) {
                key_of(del, key, sizeof(key));
                ST_ASSERT_OK(strata_batch_delete(b, key, strlen(key)));
                st_model_delete(m, key, strlen(key));
                ops++;
            }
            if (ops >= 8 || k + 1 == first + keys_per_log) {
                st_batch_set_seq(b, seq);
                seq += strata_batch_count(b);
                ST_ASSERT_OK(st_wal_writer_add(w, b->rep.data, b->rep.len));
                strata_batch_clear(b);
                ops = 0;
            }
        }
        strata_batch_free(b);
        ST_ASSERT_OK(st_wal_writer_sync(w));
        uint64_t size = st_wal_writer_size(w);
        ST_ASSERT_OK(st_wal_writer_close(w));
        logs_bytes += size;
        if (size > largest_log)
            largest_log = size;
    }
    total_seq = seq - 1;
}

static strata_options
space_opts(void)
{
    strata_options o = st_dbc_opts(4u << 20);
    o.compression = o.bottommost_compression = STRATA_COMPRESSION_NONE;
    o.ucs_scaling[0] = 8; /* fan-out 10: the recovered tables stay as they are */
    o.ucs_scaling_count = 1;
    return o;
}

static int
count_logs(const char *dir)
{
    char **names = NULL;
    size_t n = 0;
    ST_ASSERT_OK(st_env_posix()->list(st_env_posix(), dir, &names, &n));
    int logs = 0;
    for (size_t i = 0; i < n; i++)
        logs += strstr(names[i], ".wal") != NULL;
    st_env_free_list(names, n);
    return logs;
}

/* Every entry of the model, the sequence number past every logged one, and a write after the
 * reopen that must win over the recovered data (a reused sequence number would lose it). */
static void
check_db(strata_db *db, const st_model *m)
{
    strata_read_options ro;
    strata_read_options_init(&ro);
    st_dbc_check_all_gets(db, &ro, m);
    st_rng rng;
    st_rng_seed(&rng, 7);
    st_dbc_check_iter(db, &ro, m, &rng, 4);
    char *seq = NULL;
    ST_ASSERT_OK(strata_property(db, "strata.sequence", &seq));
    ST_ASSERT(strtoull(seq, NULL, 10) >= total_seq);
    strata_free(seq);
}

static strata_db *
open_env(const char *dir, st_env *env)
{
    strata_options o = space_opts();
    strata_db *db = NULL;
    int rc = st_db_open_env(dir, &o, env, &db);
    if (rc != STRATA_OK)
        ST_FAIL("reopen %s: %s (%s)", dir, strata_errstr(rc), strata_errmsg(NULL));
    return db;
}

/* Reopen over env (healthy), check, write, reopen and check again. */
static void
check_reopen_and_write(const char *dir, const st_model *m, st_env *env)
{
    strata_db *db = open_env(dir, env);
    check_db(db, m);
    strata_write_options wo;
    strata_write_options_init(&wo);
    char key[32];
    key_of(keys_per_log, key, sizeof(key)); /* written by logs 1 and 2 */
    ST_ASSERT_OK(strata_put(db, &wo, key, strlen(key), "after", 5));
    ST_ASSERT_OK(strata_close(db));
    db = open_env(dir, env);
    st_model *m2 = st_model_clone(m);
    st_model_put(m2, key, strlen(key), "after", 5);
    check_db(db, m2);
    st_model_free(m2);
    ST_ASSERT_OK(strata_close(db));
}

static char *prepared; /* a directory holding the logs only */
static st_model *model;

static void
prepare(void)
{
    if (prepared)
        return;
    keys_per_log = (int)(160 * st_test_scale());
    if (keys_per_log < 64)
        keys_per_log = 64;
    prepared = st_test_tmpdir("recover_space_logs");
    model = st_model_new();
    write_logs(prepared, model, st_test_seed());
    printf("%d logs, %llu bytes in all, largest %llu bytes, %llu sequence numbers\n", NLOGS,
           (unsigned long long)logs_bytes, (unsigned long long)largest_log,
           (unsigned long long)total_seq);
}

/* Open the prepared logs over a fault env with `room` bytes free beyond the logs. */
static int
open_with_room(const char *dir, uint64_t room, strata_db **db)
{
    st_test_copy_dir(prepared, dir);
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    uint64_t used = st_fault_env_dir_usage(dir);
    st_fault_env_set_quota(fe, dir, used + room);
    strata_options o = space_opts();
    *db = NULL;
    int rc = st_db_open_env(dir, &o, st_fault_env_env(fe), db);
    if (rc == STRATA_OK) {
        ST_ASSERT(st_fault_env_dir_usage(dir) <= used + room);
        ST_ASSERT_EQ(count_logs(dir), 1);
        check_db(*db, model);
        ST_ASSERT_OK(strata_close(*db));
    }
    st_fault_env_free(fe);
    return rc;
}

static void
test_quota_one_table(void)
{
    prepare();
    /* room for one log's table (plus manifest and slack): well under all the logs */
    uint64_t room = largest_log + largest_log / 2 + 16384;
    ST_ASSERT(room < logs_bytes * 3 / 4);
    char *dir = st_test_tmpdir("recover_space_quota");
    strata_db *db = NULL;
    int rc = open_with_room(dir, room, &db);
    if (rc != STRATA_OK)
        ST_FAIL("recovery with %llu bytes free (logs %llu): %s: %s", (unsigned long long)room,
                (unsigned long long)logs_bytes, strata_errstr(rc), strata_errmsg(NULL));
    check_reopen_and_write(dir, model, st_env_posix());
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_quota_too_small(void)
{
    prepare();
    char *dir = st_test_tmpdir("recover_space_small");
    strata_db *db = NULL;
    int rc = open_with_room(dir, largest_log / 4, &db);
    ST_ASSERT_EQ(rc, STRATA_NOSPC);
    ST_ASSERT(strstr(strata_errmsg(NULL), "quota") != NULL);
    /* nothing lost: the disk grows, the next open recovers everything */
    check_reopen_and_write(dir, model, st_env_posix());
    st_test_rmrf(dir);
    st_free(dir);
}

/* Power loss at every disk-changing operation of recovery (persistent EIO from the n-th on,
 * then st_fault_env_crash), then a healthy reopen. */
static void
test_crash_during_recovery(void)
{
    prepare();
    char *dir = st_test_tmpdir("recover_space_crash");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    st_fault_env_skip_real_sync(fe, 1);
    strata_options o = space_opts();
    o.background_threads = 1;
    /* count the operations of a full recovery */
    st_test_copy_dir(prepared, dir);
    strata_db *db = NULL;
    ST_ASSERT_OK(st_db_open_env(dir, &o, st_fault_env_env(fe), &db));
    uint64_t ops = st_fault_env_count(fe, ST_FAULT_WRITES);
    ST_ASSERT_OK(strata_close(db));
    int runs = 0, failed_opens = 0;
    for (uint64_t n = 1; n <= ops; n++, runs++) {
        st_test_rmrf(dir);
        st_test_copy_dir(prepared, dir);
        st_fault_env_reset(fe);
        st_fault_env_fail(fe, ST_FAULT_WRITES, n, EIO, ST_FAULT_PERSISTENT);
        db = NULL;
        int rc = st_db_open_env(dir, &o, st_fault_env_env(fe), &db);
        failed_opens += rc != STRATA_OK;
        ST_ASSERT_OK(st_fault_env_crash(fe, n % 2 ? ST_FAULT_CRASH_EXACT : ST_FAULT_CRASH_TORN, n));
        if (db)
            (void)strata_close(db); /* powered off: errors expected */
        st_fault_env_reset(fe);
        check_reopen_and_write(dir, model, st_fault_env_env(fe));
    }
    printf("power loss at each of %d recovery operations: %d opens failed, nothing lost\n", runs,
           failed_opens);
    ST_ASSERT(failed_opens > 0);
    st_fault_env_free(fe);
    st_test_rmrf(dir);
    st_free(dir);
}

/* The same as test_quota_one_table on a real tmpfs, in a child with its own mount namespace. */
static void
test_real_tmpfs(void)
{
#ifdef __linux__
    prepare();
    char *dir = st_test_tmpdir("recover_space_tmpfs");
    /* tmpfs counts whole pages */
    uint64_t size = logs_bytes + 4096 * (NLOGS + 1) + largest_log + largest_log / 2 + 65536;
    size = (size + 4095) / 4096 * 4096;
    fflush(stdout);
    pid_t pid = fork();
    ST_ASSERT(pid >= 0);
    if (pid == 0) {
        char opts[64];
        snprintf(opts, sizeof(opts), "size=%llu", (unsigned long long)size);
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount("tmpfs", dir, "tmpfs", 0, opts) != 0) {
            printf("note: real tmpfs test skipped (mounting not permitted: %s)\n", strerror(errno));
            _exit(77);
        }
        char db_dir[4096];
        snprintf(db_dir, sizeof(db_dir), "%s/db", dir);
        st_test_copy_dir(prepared, db_dir);
        strata_db *db = NULL;
        strata_options o = space_opts();
        int rc = strata_open(db_dir, &o, &db);
        if (rc != STRATA_OK)
            ST_FAIL("recovery on a %llu-byte tmpfs (logs %llu): %s: %s", (unsigned long long)size,
                    (unsigned long long)logs_bytes, strata_errstr(rc), strata_errmsg(NULL));
        ST_ASSERT_EQ(count_logs(db_dir), 1);
        check_db(db, model);
        ST_ASSERT_OK(strata_close(db));
        printf("recovered %llu bytes of logs on a %llu-byte tmpfs\n",
               (unsigned long long)logs_bytes, (unsigned long long)size);
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    ST_ASSERT(waitpid(pid, &status, 0) == pid);
    ST_ASSERT(WIFEXITED(status));
    ST_ASSERT(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 77);
    st_test_rmrf(dir);
    st_free(dir);
#else
    printf("note: real tmpfs test skipped (not Linux)\n");
#endif
}

int
main(void)
{
    ST_RUN(test_quota_one_table);
    ST_RUN(test_quota_too_small);
    ST_RUN(test_crash_during_recovery);
    ST_RUN(test_real_tmpfs);
    if (prepared)
        st_test_rmrf(prepared);
    st_free(prepared);
    st_model_free(model);
    return st_test_done();
}
