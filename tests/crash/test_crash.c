/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_crash.c -- crash recovery.
 *
 *   kill tests: a forked child opens the database and runs the deterministic workload of
 *   workload.h (single puts, deletes and multi-key batches), reporting each operation to the
 *   parent through a pipe AFTER the call returned. The parent SIGKILLs it at a random moment,
 *   reopens the database and checks that every acknowledged write is present, that the one in
 *   flight is all-or-nothing, and that nothing else is there. With sync=1 and with sync=0 (a
 *   write that returned has reached the OS, so a process kill loses nothing acknowledged).
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
#include "util/alloc.h"
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Flushes happen during the runs, but the database does not pile up too many tables. */
#define CRASH_WRITE_BUFFER (256 * 1024)

static int
cycles(int base)
{
    const char *s = getenv("ST_CRASH_CYCLES");
    int n = s ? atoi(s) : (int)(base * st_test_scale());
    return n < 4 ? 4 : n;
}

static void
sleep_micros(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

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

/* Runs until killed (or a generous cap). Never returns. */
static void
child_main(const char *dir, int sync, uint64_t seed, uint64_t first_id, int ackfd)
{
    strata_options o = st_dbc_opts(CRASH_WRITE_BUFFER);
    strata_db *db = NULL;
    int rc = strata_open(dir, &o, &db);
    if (rc != STRATA_OK)
        child_die("open", rc);
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = sync;
    for (uint64_t id = first_id; id < first_id + 1000000; id++) {
        rc = st_wl_apply_db(db, &wo, seed, id);
        if (rc != STRATA_OK)
            child_die("write", rc);
        if (write(ackfd, &id, sizeof(id)) != (ssize_t)sizeof(id))
            _exit(4);
        rc = maintain(db, id);
        if (rc != STRATA_OK)
            child_die("flush/compact", rc);
    }
    _exit(0);
}

/* ---- parent -------------------------------------------------------------------------------- */

/* Read one ack; 0 at EOF. */
static int
read_ack(int fd, uint64_t *id)
{
    size_t got = 0;
    while (got < sizeof(*id)) {
        ssize_t r = read(fd, (char *)id + got, sizeof(*id) - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return 0;
        got += (size_t)r;
    }
    return 1;
}

static void
kill_cycles(int sync, int ncycles)
{
    char *dir = st_test_tmpdir(sync ? "crash_kill_sync" : "crash_kill_nosync");
    uint64_t seed = st_test_seed() + (uint64_t)sync;
    st_rng rng;
    st_rng_seed(&rng, seed);
    st_model *m = st_model_new();
    uint64_t next_id = 0;
    long acked_total = 0, inflight_applied = 0;
    for (int c = 0; c < ncycles; c++) {
        int fds[2];
        ST_ASSERT(pipe(fds) == 0);
        fflush(NULL);
        pid_t pid = fork();
        ST_ASSERT(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            child_main(dir, sync, seed, next_id, fds[1]);
        }
        close(fds[1]);
        /* let it acknowledge a random number of writes (0: possibly killed inside open) */
        uint64_t target = st_rng_uniform(&rng, 60), nacks = 0, id = 0, last = UINT64_MAX;
        while (nacks < target && read_ack(fds[0], &id)) {
            ST_ASSERT(id == next_id + nacks);
            last = id;
            nacks++;
        }
        /* without sync a write takes microseconds: kill sooner to keep the database small */
        sleep_micros((long)st_rng_uniform(&rng, sync ? 2000 : 300));
        kill(pid, SIGKILL);
        while (read_ack(fds[0], &id)) {
            ST_ASSERT(id == next_id + nacks);
            last = id;
            nacks++;
        }
        close(fds[0]);
        int status = 0;
        ST_ASSERT(waitpid(pid, &status, 0) == pid);
        if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
            ST_FAIL("cycle %d: child ended on its own (status 0x%x)", c, status);
        for (uint64_t i = 0; i < nacks; i++)
            st_wl_apply_model(m, seed, next_id + i);
        uint64_t inflight = last == UINT64_MAX ? next_id : last + 1;
        strata_options o = st_dbc_opts(CRASH_WRITE_BUFFER);
        strata_db *db = st_dbc_open(dir, &o);
        inflight_applied += st_wl_verify(db, m, seed, inflight, &rng);
        ST_ASSERT_OK(strata_close(db));
        acked_total += (long)nacks;
        next_id = inflight + 1;
    }
    fprintf(stderr,
            "%s: %d kill cycles, %ld acknowledged writes all present, in-flight write found "
            "applied %ld times, %zu keys at the end\n",
            sync ? "sync" : "no-sync", ncycles, acked_total, inflight_applied, st_model_count(m));
    st_model_free(m);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_kill_sync(void)
{
    kill_cycles(1, cycles(120));
}

static void
test_kill_nosync(void)
{
    kill_cycles(0, cycles(120));
}

/* ---- power loss over the fault env --------------------------------------------------------- */

typedef struct pl_writer {
    strata_db *db;
    uint64_t seed, first_id;
    atomic_ullong nacks; /* acknowledged ops (first_id .. first_id + nacks - 1) */
    int last_rc;
} pl_writer;

static void *
pl_write_loop(void *arg)
{
    pl_writer *w = arg;
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = 1;
    for (uint64_t id = w->first_id;; id++) {
        int rc = st_wl_apply_db(w->db, &wo, w->seed, id);
        if (rc != STRATA_OK) {
            w->last_rc = rc;
            return NULL;
        }
        atomic_fetch_add(&w->nacks, 1);
        rc = maintain(w->db, id);
        if (rc != STRATA_OK) {
            w->last_rc = rc;
            return NULL;
        }
    }
}

static void
power_loss_cycles(int mode, int ncycles)
{
    char *dir = st_test_tmpdir(mode == ST_FAULT_CRASH_TORN ? "crash_pl_torn" : "crash_pl");
    uint64_t seed = st_test_seed() + 10 + (uint64_t)mode;
    st_rng rng;
    st_rng_seed(&rng, seed);
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    st_model *m = st_model_new();
    uint64_t next_id = 0;
    long acked_total = 0, inflight_applied = 0, close_errors = 0;
    for (int c = 0; c < ncycles; c++) {
        st_fault_env_reset(fe);
        strata_options o = st_dbc_opts(CRASH_WRITE_BUFFER);
        strata_db *db = NULL;
        int rc = st_db_open_env(dir, &o, st_fault_env_env(fe), &db);
        if (rc != STRATA_OK)
            ST_FAIL("cycle %d: open over the fault env: %s (%s)", c, strata_errstr(rc),
                    strata_errmsg(NULL));
        pl_writer w = {.db = db, .seed = seed, .first_id = next_id};
        atomic_init(&w.nacks, 0);
        pthread_t th;
        ST_ASSERT(pthread_create(&th, NULL, pl_write_loop, &w) == 0);
        uint64_t target = st_rng_uniform(&rng, 40);
        while (atomic_load(&w.nacks) < target)
            sleep_micros(50);
        sleep_micros((long)st_rng_uniform(&rng, 300));
        ST_ASSERT_OK(st_fault_env_crash(fe, mode, st_rng_next(&rng)));
        ST_ASSERT(pthread_join(th, NULL) == 0);
        ST_ASSERT(w.last_rc != STRATA_OK && w.last_rc != STRATA_INTERNAL);
        /* the machine is off: close may fail but must release everything */
        rc = strata_close(db);
        ST_ASSERT(rc != STRATA_INTERNAL && rc != STRATA_BUSY);
        close_errors += rc != STRATA_OK;
        uint64_t nacks = atomic_load(&w.nacks);
        for (uint64_t i = 0; i < nacks; i++)
            st_wl_apply_model(m, seed, next_id + i);
        uint64_t inflight = next_id + nacks;
        st_fault_env_reset(fe);
        db = st_dbc_open(dir, &o); /* the real env */
        inflight_applied += st_wl_verify(db, m, seed, inflight, &rng);
        ST_ASSERT_OK(strata_close(db));
        acked_total += (long)nacks;
        next_id = inflight + 1;
    }
    fprintf(stderr,
            "power loss (%s): %d cycles, %ld synced writes all present, in-flight write found "
            "applied %ld times, close failed %ld times, %zu keys at the end\n",
            mode == ST_FAULT_CRASH_TORN ? "torn" : "exact", ncycles, acked_total, inflight_applied,
            close_errors, st_model_count(m));
    st_fault_env_free(fe);
    st_model_free(m);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_power_loss_exact(void)
{
    power_loss_cycles(ST_FAULT_CRASH_EXACT, cycles(60));
}

static void
test_power_loss_torn(void)
{
    power_loss_cycles(ST_FAULT_CRASH_TORN, cycles(60));
}

int
main(void)
{
    ST_RUN(test_kill_sync);
    ST_RUN(test_kill_nosync);
    ST_RUN(test_power_loss_exact);
    ST_RUN(test_power_loss_torn);
    return st_test_done();
}
