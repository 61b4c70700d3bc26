/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_crash_lsm.c -- crashes in the middle of LSM background work.
 *
 * The databases here use 64 KiB memtables and 64 KiB compaction outputs (lsm_util.h), so the
 * writer constantly rotates WALs, flushes memtables to tables, runs UCS compactions and appends
 * to the manifest; every 100th write is followed by a full strata_compact_range.
 *
 *   kill: a forked child runs the deterministic workload of workload.h (puts, deletes and
 *   batches; every 4th write with sync=1), reporting each acknowledged write through a pipe. The
 *   parent SIGKILLs it at a random moment, reopens, and checks that every acknowledged write is
 *   present, that the write in flight is all-or-nothing, that nothing else is there, and that
 *   strata_check passes on the closed database.
 *
 *   power loss: in-process over fault_env: a thread does sync writes while the main thread calls
 *   st_fault_env_crash() (unsynced data and undurable directory entries dropped, exactly or with
 *   torn tails) at a random moment; the database must reopen over the real env with every synced
 *   write, and pass strata_check.
 *
 * Cycles: ST_CRASH_CYCLES, else 80 x st_test_scale() (kill) and 40 x st_test_scale() per
 * power-loss mode. Seeded by st_test_seed(). Prints the cycle counts and lost writes (always 0:
 * a lost write fails the test).
 */
#include "db/db.h"
#include "fault_env.h"
#include "lsm_util.h"
#include "st_test.h"
#include "util/alloc.h"
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Write `id` of the workload (sync for every 4th, or always), then the periodic compaction. */
static int
lsm_write(strata_db *db, uint64_t seed, uint64_t id, int always_sync)
{
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = always_sync || id % 4 == 0;
    int rc = st_wl_apply_db(db, &wo, seed, id);
    if (rc == STRATA_OK && id % 100 == 99)
        rc = strata_compact_range(db, NULL, 0, NULL, 0);
    return rc;
}

/* Reopen over the real env, verify against the model, close and strata_check. */
static int
reopen_verify(const char *dir, st_model *m, uint64_t seed, uint64_t inflight, st_rng *rng)
{
    strata_options o = st_lsm_opts();
    strata_db *db = st_dbc_open(dir, &o);
    int applied = st_wl_verify(db, m, seed, inflight, rng);
    ST_ASSERT_OK(strata_close(db));
    st_lsm_check_ok(dir, 0);
    return applied;
}

/* ---- SIGKILL ------------------------------------------------------------------------------- */

static void
child_main(const char *dir, uint64_t seed, uint64_t first_id, int ackfd)
{
    strata_options o = st_lsm_opts();
    strata_db *db = NULL;
    int rc = strata_open(dir, &o, &db);
    for (uint64_t id = first_id; rc == STRATA_OK && id < first_id + 1000000; id++) {
        rc = lsm_write(db, seed, id, 0);
        /* the ack is sent after the write returned; the compaction after it may be cut short */
        if (rc == STRATA_OK && write(ackfd, &id, sizeof(id)) != (ssize_t)sizeof(id))
            _exit(4);
    }
    fprintf(stderr, "crash child: %s (%s)\n", strata_errstr(rc), strata_errmsg(NULL));
    _exit(3);
}

/* Lose CURRENT and every manifest, then rebuild them with strata_repair. */
static void
lose_manifest_and_repair(const char *dir, int cycle)
{
    char **names = NULL;
    size_t count = 0;
    ST_ASSERT_OK(st_env_posix()->list(st_env_posix(), dir, &names, &count));
    for (size_t i = 0; i < count; i++)
        if (strncmp(names[i], "MANIFEST-", 9) == 0 || strcmp(names[i], "CURRENT") == 0) {
            char *p = st_path_join(dir, names[i]);
            ST_ASSERT(p && unlink(p) == 0);
            st_free(p);
        }
    st_env_free_list(names, count);
    char *report = NULL;
    int rc = strata_repair(dir, NULL, &report);
    if (rc != STRATA_OK)
        ST_FAIL("cycle %d: strata_repair: %s (%s)\n%s", cycle, strata_errstr(rc),
                strata_errmsg(NULL), report ? report : "");
    strata_free(report);
}

/*
 * kill_cycles --
 *     SIGKILL the writer child at random moments; with `repair`, every recovery first loses the
 *     manifest and rebuilds it from the tables (strata_repair) instead of reading it.
 */
static void
kill_cycles(int repair, int n)
{
    char *dir = st_test_tmpdir(repair ? "crash_lsm_repair" : "crash_lsm_kill");
    uint64_t seed = st_test_seed() + 100 + (uint64_t)repair;
    st_rng rng;
    st_rng_seed(&rng, seed);
    st_model *m = st_model_new();
    uint64_t next_id = 0;
    long acked = 0, applied = 0, max_tables = 0;
    for (int c = 0; c < n; c++) {
        int fds[2];
        ST_ASSERT(pipe(fds) == 0);
        fflush(NULL);
        pid_t pid = fork();
        ST_ASSERT(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_main(dir, seed, next_id, fds[1]);
        }
        close(fds[1]);
        /* up to ~2 flushes' worth of writes, then a random extra delay */
        uint64_t target = st_rng_uniform(&rng, 500), nacks = 0, id;
        while (nacks < target && st_test_read_ack(fds[0], &id)) {
            ST_ASSERT(id == next_id + nacks);
            nacks++;
        }
        st_test_sleep_micros((long)st_rng_uniform(&rng, 3000));
        kill(pid, SIGKILL);
        while (st_test_read_ack(fds[0], &id)) {
            ST_ASSERT(id == next_id + nacks);
            nacks++;
        }
        close(fds[0]);
        int status = 0;
        ST_ASSERT(waitpid(pid, &status, 0) == pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            ST_FAIL("cycle %d: the child ended on its own (status 0x%x)", c, status);
        for (uint64_t i = 0; i < nacks; i++)
            st_wl_apply_model(m, seed, next_id + i);
        uint64_t inflight = next_id + nacks;
        if (repair)
            lose_manifest_and_repair(dir, c);
        applied += reopen_verify(dir, m, seed, inflight, &rng);
        acked += (long)nacks;
        next_id = inflight + 1;
        size_t nt;
        free(st_lsm_files(dir, ".parquet", &nt));
        max_tables = (long)nt > max_tables ? (long)nt : max_tables;
    }
    fprintf(stderr,
            "kill%s: %d crash cycles, %ld acknowledged writes, 0 lost (in-flight write applied %ld "
            "times), up to %ld tables on disk\n",
            repair ? " + repair" : "", n, acked, applied, max_tables);
    ST_ASSERT(max_tables >= 2);
    st_model_free(m);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_kill_during_background_work(void)
{
    kill_cycles(0, st_test_crash_cycles(80));
}

/* After a crash, a repair (manifest rebuilt from whatever tables are on disk, every WAL
 * replayed) must give the same answer as normal recovery. */
static void
test_kill_then_repair(void)
{
    kill_cycles(1, st_test_crash_cycles(40));
}

/* ---- power loss ---------------------------------------------------------------------------- */

typedef struct pl_state {
    strata_db *db;
    uint64_t seed, first_id;
    atomic_ullong nacks;
    atomic_int stopped;
    int rc;
} pl_state;

static void *
pl_writer(void *arg)
{
    pl_state *w = arg;
    for (uint64_t id = w->first_id;; id++) {
        int rc = lsm_write(w->db, w->seed, id, 1);
        if (rc != STRATA_OK) {
            w->rc = rc;
            atomic_store(&w->stopped, 1);
            return NULL;
        }
        atomic_fetch_add(&w->nacks, 1);
    }
}

static void
power_loss(int mode)
{
    char *dir = st_test_tmpdir(mode == ST_FAULT_CRASH_TORN ? "crash_lsm_torn" : "crash_lsm_pl");
    uint64_t seed = st_test_seed() + 200 + (uint64_t)mode;
    st_rng rng;
    st_rng_seed(&rng, seed);
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    st_model *m = st_model_new();
    uint64_t next_id = 0;
    long acked = 0, applied = 0, flushes = 0;
    int n = st_test_crash_cycles(40);
    for (int c = 0; c < n; c++) {
        st_fault_env_reset(fe);
        strata_options o = st_lsm_opts();
        strata_db *db = NULL;
        int rc = st_db_open_env(dir, &o, st_fault_env_env(fe), &db);
        if (rc != STRATA_OK)
            ST_FAIL("cycle %d: open over the fault env: %s (%s)", c, strata_errstr(rc),
                    strata_errmsg(NULL));
        pl_state w = {.db = db, .seed = seed, .first_id = next_id};
        atomic_init(&w.nacks, 0);
        atomic_init(&w.stopped, 0);
        pthread_t th;
        ST_ASSERT(pthread_create(&th, NULL, pl_writer, &w) == 0);
        /* crash after up to ~1.5 flushes' worth of synced writes, plus a random delay */
        uint64_t target = st_rng_uniform(&rng, 300);
        while (atomic_load(&w.nacks) < target && !atomic_load(&w.stopped))
            st_test_sleep_micros(100);
        if (atomic_load(&w.stopped))
            ST_FAIL("cycle %d: a write failed before the crash: %s", c, strata_errstr(w.rc));
        st_test_sleep_micros((long)st_rng_uniform(&rng, 2000));
        ST_ASSERT_OK(st_fault_env_crash(fe, mode, st_rng_next(&rng)));
        ST_ASSERT(pthread_join(th, NULL) == 0);
        ST_ASSERT(w.rc != STRATA_OK && w.rc != STRATA_INTERNAL);
        char *stats = NULL;
        if (strata_property(db, "strata.stats", &stats) == STRATA_OK) {
            const char *f = strstr(stats, "flushes: ");
            long k = 0;
            if (f && sscanf(f, "flushes: %ld", &k) == 1)
                flushes += k;
        }
        strata_free(stats);
        rc = strata_close(db); /* the machine is off: errors allowed, never INTERNAL/BUSY */
        ST_ASSERT(rc != STRATA_INTERNAL && rc != STRATA_BUSY);
        uint64_t nacks = atomic_load(&w.nacks);
        for (uint64_t i = 0; i < nacks; i++)
            st_wl_apply_model(m, seed, next_id + i);
        uint64_t inflight = next_id + nacks;
        st_fault_env_reset(fe);
        applied += reopen_verify(dir, m, seed, inflight, &rng);
        acked += (long)nacks;
        next_id = inflight + 1;
    }
    fprintf(stderr,
            "power loss (%s): %d crash cycles, %ld synced writes, 0 lost (in-flight applied %ld "
            "times), %ld flushes before the crashes\n",
            mode == ST_FAULT_CRASH_TORN ? "torn" : "exact", n, acked, applied, flushes);
    ST_ASSERT(flushes > 0);
    st_fault_env_free(fe);
    st_model_free(m);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_power_loss_exact(void)
{
    power_loss(ST_FAULT_CRASH_EXACT);
}

static void
test_power_loss_torn(void)
{
    power_loss(ST_FAULT_CRASH_TORN);
}

int
main(void)
{
    ST_RUN(test_kill_during_background_work);
    ST_RUN(test_kill_then_repair);
    ST_RUN(test_power_loss_exact);
    ST_RUN(test_power_loss_torn);
    return st_test_done();
}
