/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_checkpoint.c -- strata_checkpoint (consistency under concurrent writers, flushes and
 * compactions; crashes at every step leave the source intact and no half checkpoint), the
 * read-only open, and strata_destroy.
 */
#include "db/db.h"
#include "fault_env.h"
#include "st_test.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <unistd.h>

#define NKEYS 400

/* Op k (1-based; a single writer on a new database gives it sequence number k): a delete every
 * fifth op, else a put. */
static void
op_key(uint64_t k, char *key)
{
    snprintf(key, 16, "k%04u", (unsigned)((k * 7919u) % NKEYS));
}
static void
op_value(uint64_t k, char *val, size_t n)
{
    snprintf(val, n, "value-%llu-%0*llu", (unsigned long long)k, (int)(k % 40),
             (unsigned long long)k);
}

/* Expected value of each key after ops 1..s ("" = absent). */
static void
model_at(uint64_t s, char (*model)[80])
{
    for (int i = 0; i < NKEYS; i++)
        model[i][0] = '\0';
    for (uint64_t k = 1; k <= s; k++) {
        char key[16];
        op_key(k, key);
        int i = atoi(key + 1);
        if (k % 5 == 0)
            model[i][0] = '\0';
        else
            op_value(k, model[i], sizeof(model[i]));
    }
}

static void
do_op(strata_db *db, uint64_t k, int sync)
{
    char key[16], val[80];
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = sync;
    op_key(k, key);
    if (k % 5 == 0) {
        ST_ASSERT_OK(strata_delete(db, &wo, key, strlen(key)));
    } else {
        op_value(k, val, sizeof(val));
        ST_ASSERT_OK(strata_put(db, &wo, key, strlen(key), val, strlen(val)));
    }
}

static uint64_t
sequence_of(strata_db *db)
{
    char *s = NULL;
    ST_ASSERT_OK(strata_property(db, "strata.sequence", &s));
    uint64_t v = strtoull(s, NULL, 10);
    strata_free(s);
    return v;
}

/* The database at path (opened read-only) holds exactly the state after ops 1..seq, where seq
 * is its own sequence number (or `want_seq` when non-zero). Returns seq. */
static uint64_t
check_against_model(const char *path, uint64_t want_seq)
{
    static char model[NKEYS][80];
    strata_options o;
    strata_options_init(&o);
    o.read_only = 1;
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(path, &o, &db));
    uint64_t seq = sequence_of(db);
    if (want_seq && seq != want_seq) /* name the database: the source or a checkpoint */
        fprintf(stderr, "%s: sequence %llu, expected %llu\n", path, (unsigned long long)seq,
                (unsigned long long)want_seq);
    if (want_seq)
        ST_ASSERT_EQ(seq, want_seq);
    model_at(seq, model);
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(db, NULL, &it));
    strata_iter_seek_first(it);
    for (int i = 0; i < NKEYS; i++) {
        if (!model[i][0])
            continue;
        char key[16];
        snprintf(key, sizeof(key), "k%04d", i);
        ST_ASSERT(strata_iter_valid(it));
        size_t kl, vl;
        const void *k = strata_iter_key(it, &kl), *v = strata_iter_value(it, &vl);
        ST_ASSERT_MEM_EQ(k, kl, key, strlen(key));
        ST_ASSERT_MEM_EQ(v, vl, model[i], strlen(model[i]));
        strata_iter_next(it);
    }
    ST_ASSERT(!strata_iter_valid(it));
    ST_ASSERT_OK(strata_iter_status(it));
    strata_iter_close(it);
    ST_ASSERT_OK(strata_close(db));
    return seq;
}

static strata_options
small_opts(void)
{
    strata_options o;
    strata_options_init(&o);
    o.write_buffer_size = 64 << 10;
    o.block_cache_size = 256 << 10;
    o.ucs_scaling[0] = -2; /* leveled: frequent background compactions */
    return o;
}

static void
test_checkpoint_basic(void)
{
    char *dir = st_test_tmpdir("ckpt_basic");
    char src[512], ck[512], ck2[512], file[600];
    snprintf(src, sizeof(src), "%s/src", dir);
    snprintf(ck, sizeof(ck), "%s/ck", dir);
    snprintf(ck2, sizeof(ck2), "%s/ck2", dir);
    strata_options o = small_opts();
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(src, &o, &db));
    for (uint64_t k = 1; k <= 3000; k++)
        do_op(db, k, 0);
    ST_ASSERT_OK(strata_checkpoint(db, ck));
    ST_ASSERT_EQ(check_against_model(ck, 3000), 3000);
    snprintf(file, sizeof(file), "%s/strata.sql", ck);
    ST_ASSERT(access(file, R_OK) == 0);
    /* a non-empty target is refused, naming it; an empty directory is accepted */
    ST_ASSERT_RC(strata_checkpoint(db, ck), STRATA_INVALID);
    ST_ASSERT(strstr(strata_errmsg(db), "not empty") != NULL);
    ST_ASSERT(mkdir(ck2, 0755) == 0);
    do_op(db, 3001, 0);
    ST_ASSERT_OK(strata_checkpoint(db, ck2));
    ST_ASSERT_EQ(check_against_model(ck2, 3001), 3001);
    snprintf(file, sizeof(file), "%s/no/such/parent", dir);
    ST_ASSERT(strata_checkpoint(db, file) != STRATA_OK);
    ST_ASSERT_RC(strata_checkpoint(db, NULL), STRATA_INVALID);
    ST_ASSERT_OK(strata_close(db));
    /* the checkpoint is an ordinary, writable database */
    ST_ASSERT_OK(strata_open(ck, &o, &db));
    do_op(db, 3001, 0);
    ST_ASSERT_OK(strata_close(db));
    ST_ASSERT_EQ(check_against_model(ck, 3001), 3001);
    st_test_rmrf(dir);
    free(dir);
}

typedef struct bg_ctx {
    strata_db *db;
    _Atomic int stop;
    _Atomic uint64_t done;
} bg_ctx;

static void *
writer_main(void *arg)
{
    bg_ctx *c = arg;
    for (uint64_t k = 1; !atomic_load(&c->stop); k++) {
        do_op(c->db, k, 0);
        atomic_store(&c->done, k);
    }
    return NULL;
}

static void
test_checkpoint_concurrent(void)
{
    char *dir = st_test_tmpdir("ckpt_concurrent");
    char src[512], ck[600];
    snprintf(src, sizeof(src), "%s/src", dir);
    strata_options o = small_opts();
    bg_ctx c;
    memset(&c, 0, sizeof(c));
    ST_ASSERT_OK(strata_open(src, &o, &c.db));
    pthread_t w;
    ST_ASSERT(pthread_create(&w, NULL, writer_main, &c) == 0);
    uint64_t last = 0;
    for (int i = 0; i < 5; i++) {
        while (atomic_load(&c.done) < last + 1000)
            usleep(1000);
        snprintf(ck, sizeof(ck), "%s/ck%d", dir, i);
        ST_ASSERT_OK(strata_checkpoint(c.db, ck));
        uint64_t seq = check_against_model(ck, 0);
        ST_ASSERT(seq > last); /* includes everything written before the call */
        last = seq;
    }
    atomic_store(&c.stop, 1);
    pthread_join(w, NULL);
    ST_ASSERT_OK(strata_close(c.db));
    st_test_rmrf(dir);
    free(dir);
}

/* Names in dir, sorted into one string (to see that nothing changed). */
static void
listing(const char *dir, char *out, size_t n)
{
    char **names = NULL;
    size_t count = 0;
    ST_ASSERT_OK(st_env_posix()->list(st_env_posix(), dir, &names, &count));
    out[0] = '\0';
    for (size_t pass = 0; pass < count; pass++) { /* selection order: deterministic */
        const char *best = NULL;
        for (size_t i = 0; i < count; i++)
            if ((!out[0] || !strstr(out, names[i])) && (!best || strcmp(names[i], best) < 0))
                best = names[i];
        if (best && strlen(out) + strlen(best) + 2 < n) {
            strcat(out, best);
            strcat(out, " ");
        }
    }
    st_env_free_list(names, count);
}

static void
test_read_only(void)
{
    char *dir = st_test_tmpdir("ckpt_read_only");
    char before[4096], after[4096];
    strata_options o = small_opts(), ro = small_opts();
    ro.read_only = 1;
    strata_db *db = NULL, *r1 = NULL, *r2 = NULL;
    ST_ASSERT_OK(strata_open(dir, &o, &db));
    for (uint64_t k = 1; k <= 2000; k++)
        do_op(db, k, 0);
    /* a writer holds the lock: read-only opens are refused */
    ST_ASSERT_RC(strata_open(dir, &ro, &r1), STRATA_BUSY);
    ST_ASSERT_OK(strata_close(db)); /* the last writes stay in the WAL */
    listing(dir, before, sizeof(before));
    ST_ASSERT_OK(strata_open(dir, &ro, &r1));
    ST_ASSERT_OK(strata_open(dir, &ro, &r2)); /* two at once */
    ST_ASSERT_RC(strata_open(dir, &o, &db), STRATA_BUSY);
    ST_ASSERT_EQ(sequence_of(r1), 2000);
    ST_ASSERT_RC(strata_put(r1, NULL, "a", 1, "b", 1), STRATA_READONLY);
    ST_ASSERT(strstr(strata_errmsg(r1), "read-only") != NULL);
    ST_ASSERT_RC(strata_delete(r2, NULL, "a", 1), STRATA_READONLY);
    ST_ASSERT_RC(strata_flush(r1), STRATA_READONLY);
    ST_ASSERT_RC(strata_compact_range(r1, NULL, 0, NULL, 0), STRATA_READONLY);
    ST_ASSERT_OK(strata_close(r1));
    ST_ASSERT_OK(strata_close(r2));
    listing(dir, after, sizeof(after));
    ST_ASSERT(strcmp(before, after) == 0); /* nothing created or removed */
    ST_ASSERT_EQ(check_against_model(dir, 2000), 2000);
    /* missing database: NOTFOUND, and nothing is created */
    char missing[600];
    snprintf(missing, sizeof(missing), "%s/missing", dir);
    ST_ASSERT_RC(strata_open(missing, &ro, &r1), STRATA_NOTFOUND);
    ST_ASSERT(access(missing, F_OK) != 0);
    st_test_rmrf(dir);
    free(dir);
}

static void
test_destroy(void)
{
    char *dir = st_test_tmpdir("ckpt_destroy");
    char a[512], b[512], other[600];
    snprintf(a, sizeof(a), "%s/a", dir);
    snprintf(b, sizeof(b), "%s/b", dir);
    strata_options o = small_opts();
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(a, &o, &db));
    for (uint64_t k = 1; k <= 2000; k++)
        do_op(db, k, 0);
    ST_ASSERT_OK(strata_checkpoint(db, b));
    ST_ASSERT_RC(strata_destroy(a, NULL), STRATA_BUSY); /* open */
    ST_ASSERT_OK(strata_close(db));
    snprintf(other, sizeof(other), "%s/notes.txt", a);
    FILE *f = fopen(other, "w");
    ST_ASSERT(f != NULL);
    fputs("mine\n", f);
    fclose(f);
    ST_ASSERT_OK(strata_destroy(a, NULL));
    ST_ASSERT(access(other, F_OK) == 0); /* unrelated file kept, so is the directory */
    char left[4096];
    listing(a, left, sizeof(left));
    ST_ASSERT(strcmp(left, "notes.txt ") == 0);
    ST_ASSERT_OK(strata_destroy(b, NULL));
    ST_ASSERT(access(b, F_OK) != 0);
    ST_ASSERT_OK(strata_destroy(b, NULL)); /* missing: OK */
    ST_ASSERT_RC(strata_destroy(NULL, NULL), STRATA_INVALID);
    st_test_rmrf(dir);
    free(dir);
}

/* Power loss at every disk-changing operation of a checkpoint (and of the flush it starts):
 * the source reopens with every synced write, and the target is absent, empty, or complete. */
static void
test_checkpoint_crash(void)
{
    char *dir = st_test_tmpdir("ckpt_crash");
    char src[512], ck[512];
    snprintf(src, sizeof(src), "%s/src", dir);
    snprintf(ck, sizeof(ck), "%s/ck", dir);
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    st_fault_env_skip_real_sync(fe, 1);
    strata_options o = small_opts();
    uint64_t k = 0;
    int completed = 0;
    for (uint64_t n = 1; !completed && n < 400; n++) {
        strata_db *db = NULL;
        ST_ASSERT_OK(st_db_open_env(src, &o, st_fault_env_env(fe), &db));
        for (int i = 0; i < 60; i++)
            do_op(db, ++k, i == 59); /* the last one syncs the WAL: all durable */
        st_fault_env_fail(fe, ST_FAULT_WRITES, n, EIO, ST_FAULT_PERSISTENT);
        int rc = strata_checkpoint(db, ck);
        completed = rc == STRATA_OK && st_fault_env_injected(fe) == 0;
        ST_ASSERT_OK(st_fault_env_crash(fe, ST_FAULT_CRASH_EXACT, n));
        strata_close(db); /* fails: powered off; frees the handle */
        st_fault_env_reset(fe);
        ST_ASSERT_EQ(check_against_model(src, k), k); /* the source is intact */
        struct stat st;
        if (stat(ck, &st) == 0) {
            char cur[600];
            snprintf(cur, sizeof(cur), "%s/CURRENT", ck);
            if (access(cur, F_OK) == 0) /* a checkpoint that exists is complete */
                ST_ASSERT_EQ(check_against_model(ck, k), k);
            ST_ASSERT_OK(strata_destroy(ck, NULL));
            st_test_rmrf(ck);
        }
    }
    ST_ASSERT(completed);
    st_fault_env_free(fe);
    st_test_rmrf(dir);
    free(dir);
}

/* The newest op is a delete that a compaction drops (nothing older under it): no table holds
 * its sequence number any more, yet the checkpoint (and the reopened source) must still report
 * it. test_checkpoint_crash hit this by chance when a background compaction ran before the
 * checkpoint pinned its version. */
static void
test_checkpoint_dropped_tombstone(void)
{
    char *dir = st_test_tmpdir("ckpt_tomb");
    char src[512], ck[512];
    snprintf(src, sizeof(src), "%s/src", dir);
    snprintf(ck, sizeof(ck), "%s/ck", dir);
    strata_options o = small_opts();
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(src, &o, &db));
    for (uint64_t k = 1; k <= 5; k++) /* ops 1-4 put, op 5 deletes a key never written */
        do_op(db, k, 0);
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0)); /* drops op 5's tombstone */
    ST_ASSERT_EQ(sequence_of(db), 5);
    ST_ASSERT_OK(strata_checkpoint(db, ck));
    ST_ASSERT_OK(strata_close(db));
    ST_ASSERT_EQ(check_against_model(ck, 5), 5);
    ST_ASSERT_EQ(check_against_model(src, 5), 5);
    st_test_rmrf(dir);
    free(dir);
}

int
main(void)
{
    ST_RUN(test_checkpoint_basic);
    ST_RUN(test_checkpoint_concurrent);
    ST_RUN(test_read_only);
    ST_RUN(test_destroy);
    ST_RUN(test_checkpoint_dropped_tombstone);
    ST_RUN(test_checkpoint_crash);
    return st_test_done();
}
