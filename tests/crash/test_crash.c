/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_crash.c -- crash recovery.
 *
 *   kill tests: a forked child opens the database and runs the deterministic workload of
 *   workload.h (single puts, deletes and multi-key batches), reporting each operation to the
 *   parent through a pipe AFTER the call returned. The parent SIGKILLs it at a random moment,
 *   reopens the database and checks that every acknowledged write is present, that the one in
 *   flight is all-or-nothing, and that nothing else is there. With sync=1 and with sync=0 (a
 *   write that returned has reached the OS, so a process kill loses nothing acknowledged), and
 *   with three sync writer threads on disjoint key lanes (group commit).
 *
 *   Every 16th write is followed by a flush and every 128th by a full compaction, so crashes
 *   land inside those too.
 *
 *   power-loss tests: in-process over tests/support/fault_env: a writer thread does sync writes
 *   while the main thread calls st_fault_env_crash() at a random point (dropping all unsynced
 *   data and undurable directory entries, exactly or with torn tails); then the database is
 *   reopened over the real env: it must open cleanly and hold every synced write.
 *
 * Cycles: ST_CRASH_CYCLES, else 120 x st_test_scale() per kill variant and 60 x st_test_scale()
 * per power-loss variant. Seeded by st_test_seed().
 */
#include "db/db.h"
#include "fault_env.h"
#include "st_test.h"
#include "test_fs.h"
#include "util/alloc.h"
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Flushes happen during the runs, but the database does not pile up too many tables. */
#define CRASH_WRITE_BUFFER (256 * 1024)

/*
 * Background work at deterministic points of the workload so that crashes also land inside
 * flushes and compactions: a flush after every 16th write, a full compaction after every 128th.
 * Returns the strata rc (NOTSUP counts as OK).
 */
static int
maintain(strata_db *db, uint64_t id)
{
    int rc = STRATA_OK;
    if (id % 16 == 15)
        rc = strata_flush(db);
    if (rc == STRATA_OK && id % 128 == 127)
        rc = strata_compact_range(db, NULL, 0, NULL, 0);
    return rc == STRATA_NOTSUP ? STRATA_OK : rc;
}

/* ---- child -------------------------------------------------------------------------------- */

static void
child_die(const char *what, int rc)
{
    fprintf(stderr, "crash child: %s: %s (%s)\n", what, strata_errstr(rc), strata_errmsg(NULL));
    _exit(3);
}

typedef struct child_lane {
    strata_db *db;
    int sync, ackfd;
    unsigned lane;
    uint64_t seed, first_seq;
} child_lane;

/* One writer of the child: its lane's operations from first_seq on, each acknowledged through
 * the pipe after the call returned (8-byte writes to a pipe are atomic). */
static void *
child_lane_main(void *arg)
{
    child_lane *cl = arg;
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = cl->sync;
    for (uint64_t seq = cl->first_seq; seq < cl->first_seq + 1000000; seq++) {
        uint64_t id = st_wl_lane_id(cl->lane, seq);
        int rc = st_wl_apply_db(cl->db, &wo, cl->seed, id);
        if (rc != STRATA_OK)
            child_die("write", rc);
        if (write(cl->ackfd, &id, sizeof(id)) != (ssize_t)sizeof(id))
            _exit(4);
        rc = maintain(cl->db, id);
        if (rc != STRATA_OK)
            child_die("flush/compact", rc);
    }
    _exit(0);
}

/* Runs until killed (or a generous cap): `nlanes` writer threads. Never returns. */
static void
child_main(const char *dir, int sync, uint64_t seed, const uint64_t *first_seq, int nlanes,
           int ackfd)
{
    strata_options o = st_dbc_opts(CRASH_WRITE_BUFFER);
    strata_db *db = NULL;
    int rc = strata_open(dir, &o, &db);
    if (rc != STRATA_OK)
        child_die("open", rc);
    child_lane cl[ST_WL_MAX_LANES];
    pthread_t th[ST_WL_MAX_LANES];
    for (int l = 0; l < nlanes; l++) {
        cl[l] = (child_lane){db, sync, ackfd, (unsigned)l, seed, first_seq[l]};
        if (l > 0 && pthread_create(&th[l], NULL, child_lane_main, &cl[l]) != 0)
            _exit(5);
    }
    child_lane_main(&cl[0]);
    _exit(0);
}

/* ---- parent -------------------------------------------------------------------------------- */

/* Record one ack: lanes acknowledge their operations in order. */
static void
take_ack(uint64_t id, const uint64_t *next_seq, uint64_t *nacks, int nlanes)
{
    unsigned lane = (unsigned)(id >> ST_WL_LANE_SHIFT);
    ST_ASSERT(lane < (unsigned)nlanes);
    uint64_t seq = id & ((1ull << ST_WL_LANE_SHIFT) - 1);
    if (seq != next_seq[lane] + nacks[lane])
        ST_FAIL("lane %u acknowledged op %llu, expected %llu", lane, (unsigned long long)seq,
                (unsigned long long)(next_seq[lane] + nacks[lane]));
    nacks[lane]++;
}

/*
 * kill_cycles --
 *     `ncycles` times: fork a child running `nlanes` writer threads (several sync writers share
 *     fsyncs through group commit), SIGKILL it at a random moment, reopen and verify: every
 *     acknowledged write present, each lane's in-flight write all-or-nothing.
 */
static void
kill_cycles(const char *name, int sync, int nlanes, int ncycles)
{
    char *dir = st_test_tmpdir("crash_kill");
    uint64_t seed = st_test_seed() + (uint64_t)sync + 100u * (uint64_t)nlanes;
    st_rng rng;
    st_rng_seed(&rng, seed);
    st_model *m = st_model_new();
    uint64_t next_seq[ST_WL_MAX_LANES] = {0};
    long acked_total = 0, inflight_applied = 0;
    for (int c = 0; c < ncycles; c++) {
        int fds[2];
        ST_ASSERT(pipe(fds) == 0);
        fflush(NULL);
        pid_t pid = fork();
        ST_ASSERT(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_main(dir, sync, seed, next_seq, nlanes, fds[1]);
        }
        close(fds[1]);
        /* let it acknowledge a random number of writes (0: possibly killed inside open) */
        uint64_t target = st_rng_uniform(&rng, 60), total = 0, id = 0;
        uint64_t nacks[ST_WL_MAX_LANES] = {0};
        while (total < target && st_test_read_ack(fds[0], &id)) {
            take_ack(id, next_seq, nacks, nlanes);
            total++;
        }
        /* without sync a write takes microseconds: kill sooner to keep the database small */
        st_test_sleep_micros((long)st_rng_uniform(&rng, sync ? 2000 : 300));
        kill(pid, SIGKILL);
        while (st_test_read_ack(fds[0], &id)) {
            take_ack(id, next_seq, nacks, nlanes);
            total++;
        }
        close(fds[0]);
        int status = 0;
        ST_ASSERT(waitpid(pid, &status, 0) == pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            ST_FAIL("cycle %d: child ended on its own (status 0x%x)", c, status);
        uint64_t inflight[ST_WL_MAX_LANES];
        for (int l = 0; l < nlanes; l++) {
            for (uint64_t i = 0; i < nacks[l]; i++)
                st_wl_apply_model(m, seed, st_wl_lane_id((unsigned)l, next_seq[l] + i));
            inflight[l] = st_wl_lane_id((unsigned)l, next_seq[l] + nacks[l]);
            next_seq[l] += nacks[l] + 1;
        }
        strata_options o = st_dbc_opts(CRASH_WRITE_BUFFER);
        strata_db *db = st_dbc_open(dir, &o);
        inflight_applied += st_wl_verify_lanes(db, m, seed, inflight, nlanes, &rng);
        ST_ASSERT_OK(strata_close(db));
        acked_total += (long)total;
    }
    fprintf(stderr,
            "%s: %d kill cycles, %ld acknowledged writes all present, in-flight writes found "
            "applied %ld times, %zu keys at the end\n",
            name, ncycles, acked_total, inflight_applied, st_model_count(m));
    st_model_free(m);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_kill_sync(void)
{
    kill_cycles("sync", 1, 1, st_test_crash_cycles(120));
}

static void
test_kill_nosync(void)
{
    kill_cycles("no-sync", 0, 1, st_test_crash_cycles(120));
}

/* Three sync writer threads in the child: group commit under SIGKILL. */
static void
test_kill_group_commit(void)
{
    kill_cycles("group commit (3 sync writers)", 1, 3, st_test_crash_cycles(60));
}

/* ---- power loss over the fault env --------------------------------------------------------- */

typedef struct pl_writer {
    strata_db *db;
    unsigned lane;
    uint64_t seed, first_seq;
    atomic_ullong nacks; /* acknowledged ops of the lane: first_seq .. first_seq + nacks - 1 */
    atomic_int done;     /* the writer stopped (after its first failure) */
    int last_rc;
} pl_writer;

static void *
pl_write_loop(void *arg)
{
    pl_writer *w = arg;
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = 1;
    for (uint64_t seq = w->first_seq;; seq++) {
        uint64_t id = st_wl_lane_id(w->lane, seq);
        int rc = st_wl_apply_db(w->db, &wo, w->seed, id);
        if (rc == STRATA_OK) {
            atomic_fetch_add(&w->nacks, 1);
            rc = maintain(w->db, id);
        }
        if (rc != STRATA_OK) {
            w->last_rc = rc;
            atomic_store(&w->done, 1);
            return NULL;
        }
    }
}

/*
 * power_loss_cycles --
 *     `ncycles` times: open over the fault env, run `nlanes` sync writer threads, simulate a
 *     power loss once lane 0 acknowledged a random number of writes, close (the env is off),
 *     reopen over the real env and verify.
 */
static void
power_loss_cycles(int mode, int nlanes, int ncycles)
{
    const char *name = mode == ST_FAULT_CRASH_TORN ? "torn" : "exact";
    char *dir = st_test_tmpdir("crash_pl");
    uint64_t seed = st_test_seed() + 10 + (uint64_t)mode + 100u * (uint64_t)nlanes;
    st_rng rng;
    st_rng_seed(&rng, seed);
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    st_fault_env_skip_real_sync(fe, 1); /* the power losses are simulated: no real fsync needed */
    st_model *m = st_model_new();
    uint64_t next_seq[ST_WL_MAX_LANES] = {0};
    long acked_total = 0, inflight_applied = 0, close_errors = 0;
    for (int c = 0; c < ncycles; c++) {
        st_fault_env_reset(fe);
        strata_options o = st_dbc_opts(CRASH_WRITE_BUFFER);
        strata_db *db = NULL;
        int rc = st_db_open_env(dir, &o, st_fault_env_env(fe), &db);
        if (rc != STRATA_OK)
            ST_FAIL("cycle %d: open over the fault env: %s (%s)", c, strata_errstr(rc),
                    strata_errmsg(NULL));
        pl_writer w[ST_WL_MAX_LANES];
        pthread_t th[ST_WL_MAX_LANES];
        for (int l = 0; l < nlanes; l++) {
            w[l] =
                (pl_writer){.db = db, .lane = (unsigned)l, .seed = seed, .first_seq = next_seq[l]};
            atomic_init(&w[l].nacks, 0);
            atomic_init(&w[l].done, 0);
            ST_ASSERT(pthread_create(&th[l], NULL, pl_write_loop, &w[l]) == 0);
        }
        uint64_t target = st_rng_uniform(&rng, 40);
        while (atomic_load(&w[0].nacks) < target && !atomic_load(&w[0].done))
            st_test_sleep_micros(50);
        st_test_sleep_micros((long)st_rng_uniform(&rng, 300));
        for (int l = 0; l < nlanes; l++)
            if (atomic_load(&w[l].done))
                ST_FAIL("cycle %d: a write failed before the crash: %s", c,
                        strata_errstr(w[l].last_rc));
        ST_ASSERT_OK(st_fault_env_crash(fe, mode, st_rng_next(&rng)));
        uint64_t inflight[ST_WL_MAX_LANES];
        for (int l = 0; l < nlanes; l++) {
            ST_ASSERT(pthread_join(th[l], NULL) == 0);
            ST_ASSERT(w[l].last_rc != STRATA_OK && w[l].last_rc != STRATA_INTERNAL);
            uint64_t nacks = atomic_load(&w[l].nacks);
            for (uint64_t i = 0; i < nacks; i++)
                st_wl_apply_model(m, seed, st_wl_lane_id((unsigned)l, next_seq[l] + i));
            inflight[l] = st_wl_lane_id((unsigned)l, next_seq[l] + nacks);
            next_seq[l] += nacks + 1;
            acked_total += (long)nacks;
        }
        /* the machine is off: close may fail but must release everything */
        rc = strata_close(db);
        ST_ASSERT(rc != STRATA_INTERNAL && rc != STRATA_BUSY);
        close_errors += rc != STRATA_OK;
        st_fault_env_reset(fe);
        db = st_dbc_open(dir, &o); /* the real env */
        inflight_applied += st_wl_verify_lanes(db, m, seed, inflight, nlanes, &rng);
        ST_ASSERT_OK(strata_close(db));
    }
    fprintf(stderr,
            "power loss (%s, %d writer%s): %d cycles, %ld synced writes all present, in-flight "
            "writes found applied %ld times, close failed %ld times, %zu keys at the end\n",
            name, nlanes, nlanes > 1 ? "s" : "", ncycles, acked_total, inflight_applied,
            close_errors, st_model_count(m));
    st_fault_env_free(fe);
    st_model_free(m);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_power_loss_exact(void)
{
    power_loss_cycles(ST_FAULT_CRASH_EXACT, 1, st_test_crash_cycles(60));
}

/* Torn tails, with three sync writers sharing fsyncs (group commit). */
static void
test_power_loss_torn(void)
{
    power_loss_cycles(ST_FAULT_CRASH_TORN, 3, st_test_crash_cycles(60));
}

/*
 * Writes without sync (every 10th synced) and a sector-granular power loss (unsynced sectors
 * kept, dropped or torn independently: reordered writes): the database must open, hold every
 * write up to the last synced one, and what survives of the rest must be a prefix of them
 * (recovery stops at the first hole; a later write never survives an earlier lost one).
 */
static void
test_power_loss_unsynced(void)
{
    char *dir = st_test_tmpdir("crash_unsynced");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    st_fault_env_skip_real_sync(fe, 1);
    uint64_t seed = st_test_seed() + 77;
    int ncycles = st_test_crash_cycles(40), nwrites = 57; /* the last 7 unsynced */
    long survived = 0;
    for (int c = 0; c < ncycles; c++) {
        st_fault_env_reset(fe);
        strata_options o = st_dbc_opts(CRASH_WRITE_BUFFER);
        strata_db *db = NULL;
        int rc = st_db_open_env(dir, &o, st_fault_env_env(fe), &db);
        if (rc != STRATA_OK)
            ST_FAIL("cycle %d: open: %s (%s)", c, strata_errstr(rc), strata_errmsg(NULL));
        char key[32], val[300];
        int last_synced = -1;
        for (int i = 0; i < nwrites; i++) {
            strata_write_options wo;
            strata_write_options_init(&wo);
            wo.sync = i % 10 == 9;
            snprintf(key, sizeof(key), "c%04d-%04d", c, i);
            memset(val, 'a' + i % 26, sizeof(val));
            ST_ASSERT_OK(strata_put(db, &wo, key, strlen(key), val, sizeof(val)));
            if (wo.sync)
                last_synced = i;
        }
        ST_ASSERT_OK(st_fault_env_crash(fe, ST_FAULT_CRASH_SECTORS, seed + (uint64_t)c));
        (void)strata_close(db); /* powered off */
        st_fault_env_reset(fe);
        db = NULL;
        rc = strata_open(dir, &o, &db);
        if (rc != STRATA_OK)
            ST_FAIL("cycle %d (ST_SEED=%llu): reopen after a sector-granular power loss: %s (%s)",
                    c, (unsigned long long)(seed - 77), strata_errstr(rc), strata_errmsg(NULL));
        strata_read_options ro;
        strata_read_options_init(&ro);
        int missing_from = -1;
        for (int i = 0; i < nwrites; i++) {
            snprintf(key, sizeof(key), "c%04d-%04d", c, i);
            void *v = NULL;
            size_t vlen = 0;
            rc = strata_get(db, &ro, key, strlen(key), &v, &vlen);
            if (rc == STRATA_NOTFOUND) {
                if (i <= last_synced)
                    ST_FAIL("cycle %d: synced write %d lost", c, i);
                if (missing_from < 0)
                    missing_from = i;
                continue;
            }
            ST_ASSERT_OK(rc);
            memset(val, 'a' + i % 26, sizeof(val));
            ST_ASSERT(vlen == sizeof(val) && memcmp(v, val, vlen) == 0);
            strata_free(v);
            if (missing_from >= 0)
                ST_FAIL("cycle %d: write %d survived but write %d was lost", c, i, missing_from);
            survived += i > last_synced;
        }
        ST_ASSERT_OK(strata_close(db));
    }
    fprintf(stderr,
            "power loss (sectors, unsynced writes): %d cycles, every synced write present, %ld "
            "unsynced writes survived, always a prefix\n",
            ncycles, survived);
    st_fault_env_free(fe);
    st_test_rmrf(dir);
    st_free(dir);
}

/* ---- damaged write-ahead logs ------------------------------------------------------------- */

/* Path of the largest *.wal file in dir (st_malloc'ed) and its size. */
static char *
largest_wal(const char *dir, long long *size)
{
    char **names = NULL;
    size_t count = 0;
    ST_ASSERT_OK(st_env_posix()->list(st_env_posix(), dir, &names, &count));
    char *best = NULL;
    *size = -1;
    for (size_t i = 0; i < count; i++) {
        size_t l = strlen(names[i]);
        if (l < 4 || strcmp(names[i] + l - 4, ".wal") != 0)
            continue;
        char *p = st_path_join(dir, names[i]);
        struct stat st;
        ST_ASSERT(p && stat(p, &st) == 0);
        if ((long long)st.st_size > *size) {
            st_free(best);
            best = p;
            *size = (long long)st.st_size;
        } else {
            st_free(p);
        }
    }
    st_env_free_list(names, count);
    ST_ASSERT(best != NULL);
    return best;
}

static int
open_mode(const char *dir, int mode, strata_db **db)
{
    strata_options o = st_dbc_opts(64u << 20);
    o.wal_recovery_mode = mode;
    return strata_open(dir, &o, db);
}

static void
expect_corrupt(const char *dir, int mode)
{
    strata_db *db = NULL;
    ST_ASSERT_RC(open_mode(dir, mode, &db), STRATA_CORRUPT);
    ST_ASSERT(db == NULL);
    ST_ASSERT(strstr(strata_errmsg(NULL), ".wal") != NULL);
}

/*
 * Synced writes left in a WAL by a power loss (no flush), then: a flipped byte in the middle of
 * the log is CORRUPT for TOLERATE_TAIL and STRICT and skipped by SKIP_CORRUPT (which must not
 * invent data); a torn tail is tolerated by TOLERATE_TAIL (losing only the last write) and
 * CORRUPT for STRICT.
 */
static void
test_wal_damage(void)
{
    enum { NOPS = 700, BLOCK = 32768 };
    char *tmpl = st_test_tmpdir("crash_wal_tmpl");
    char *dir = st_test_tmpdir("crash_wal");
    uint64_t seed = st_test_seed() + 20;
    st_rng rng;
    st_rng_seed(&rng, seed);
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    strata_options o = st_dbc_opts(64u << 20);
    strata_db *db = NULL;
    ST_ASSERT_OK(st_db_open_env(tmpl, &o, st_fault_env_env(fe), &db));
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = 1;
    st_model *all = st_model_new(), *but_last = st_model_new();
    st_model *last_writer = st_model_new(); /* key -> id of the last op that wrote it */
    for (uint64_t id = 0; id < NOPS; id++) {
        ST_ASSERT_OK(st_wl_apply_db(db, &wo, seed, id));
        st_wl_apply_model(all, seed, id);
        if (id + 1 < NOPS)
            st_wl_apply_model(but_last, seed, id);
        st_wl_op op;
        st_wl_gen(seed, id, &op);
        for (int j = 0; j < op.n; j++) {
            char k[16];
            size_t kl = st_wl_key(op.key[j], k);
            st_model_put(last_writer, k, kl, &id, sizeof(id));
        }
    }
    ST_ASSERT_OK(st_fault_env_crash(fe, ST_FAULT_CRASH_EXACT, 1));
    (void)strata_close(db);
    st_fault_env_free(fe);

    /* mid-log damage in the middle of block 1 of a log of 4+ blocks */
    st_test_copy_dir(tmpl, dir);
    long long size;
    char *wal = largest_wal(dir, &size);
    if (size < 4 * BLOCK)
        ST_FAIL("the log is only %lld bytes; the test needs 4 blocks", size);
    FILE *f = fopen(wal, "r+b");
    ST_ASSERT(f != NULL);
    long off = BLOCK + BLOCK / 2;
    ST_ASSERT(fseek(f, off, SEEK_SET) == 0);
    int c = fgetc(f);
    ST_ASSERT(c != EOF && fseek(f, off, SEEK_SET) == 0);
    fputc(c ^ 0x5a, f);
    fclose(f);
    expect_corrupt(dir, STRATA_WAL_RECOVERY_TOLERATE_TAIL);
    expect_corrupt(dir, STRATA_WAL_RECOVERY_STRICT);
    /* SKIP_CORRUPT loses at most the rest of the damaged block (doc/format_wal.md), so ops
     * written well inside block 3 and later (sizes are iid, so by position in the op sequence,
     * with a margin) must be intact, and no value may be invented */
    uint64_t intact_from = (uint64_t)((double)NOPS * (3.0 * BLOCK) / (double)size) + 40;
    ST_ASSERT(intact_from < NOPS);
    ST_ASSERT_OK(open_mode(dir, STRATA_WAL_RECOVERY_SKIP_CORRUPT, &db));
    size_t differ = 0, checked = 0;
    for (size_t i = 0; i < st_model_count(last_writer); i++) {
        const void *k, *wid;
        size_t kl, wl;
        st_model_at(last_writer, i, &k, &kl, &wid, &wl);
        uint64_t id;
        memcpy(&id, wid, sizeof(id));
        void *v = NULL;
        size_t vl = 0;
        int rc = strata_get(db, NULL, k, kl, &v, &vl);
        if (rc == STRATA_OK && !st_wl_value_ok(seed, k, kl, v, vl))
            ST_FAIL("SKIP_CORRUPT recovery produced a value no write made (key %s)",
                    st_dbc_show(k, kl));
        if (rc != STRATA_OK)
            ST_ASSERT_RC(rc, STRATA_NOTFOUND);
        const void *mv;
        size_t mvl;
        int mp = st_model_get(all, k, kl, &mv, &mvl);
        int same = mp == (rc == STRATA_OK) && (!mp || (mvl == vl && memcmp(mv, v, vl) == 0));
        strata_free(v);
        differ += !same;
        if (id >= intact_from) {
            checked++;
            if (!same)
                ST_FAIL("SKIP_CORRUPT lost key %s last written by op %llu, after the damaged "
                        "block",
                        st_dbc_show(k, kl), (unsigned long long)id);
        }
    }
    ST_ASSERT_OK(strata_close(db));
    fprintf(stderr,
            "SKIP_CORRUPT: %zu of %zu keys differ from the undamaged state; %zu keys written "
            "after the damaged block all intact\n",
            differ, st_model_count(last_writer), checked);
    ST_ASSERT(differ > 0); /* the damage did cost something */
    ST_ASSERT(checked > 0);
    st_free(wal);

    /* torn tail */
    st_test_copy_dir(tmpl, dir);
    wal = largest_wal(dir, &size);
    ST_ASSERT(truncate(wal, (off_t)(size - 3)) == 0);
    expect_corrupt(dir, STRATA_WAL_RECOVERY_STRICT);
    ST_ASSERT_OK(open_mode(dir, STRATA_WAL_RECOVERY_TOLERATE_TAIL, &db));
    ST_ASSERT_EQ(st_wl_verify(db, but_last, seed, NOPS - 1, &rng), 0);
    ST_ASSERT_OK(strata_close(db));
    st_free(wal);

    /* the undamaged copy recovers everything */
    st_test_copy_dir(tmpl, dir);
    ST_ASSERT_OK(open_mode(dir, STRATA_WAL_RECOVERY_STRICT, &db));
    st_wl_verify(db, all, seed, UINT64_MAX, &rng);
    ST_ASSERT_OK(strata_close(db));

    st_model_free(all);
    st_model_free(but_last);
    st_model_free(last_writer);
    st_test_rmrf(dir);
    st_test_rmrf(tmpl);
    st_free(dir);
    st_free(tmpl);
}

int
main(void)
{
    ST_RUN(test_kill_sync);
    ST_RUN(test_kill_nosync);
    ST_RUN(test_kill_group_commit);
    ST_RUN(test_power_loss_exact);
    ST_RUN(test_power_loss_torn);
    ST_RUN(test_power_loss_unsynced);
    ST_RUN(test_wal_damage);
    return st_test_done();
}
