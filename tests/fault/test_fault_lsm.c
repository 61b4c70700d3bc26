/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fault_lsm.c -- I/O failures in the middle of flushes, compactions and manifest writes.
 *
 * One run, over fault_env with 64 KiB memtables and 64 KiB compaction outputs (lsm_util.h):
 * open, WL_WRITES writes of workload.h (every 8th with sync=1; the memtable rotates and flushes
 * every ~200 writes and UCS compactions follow), a full strata_compact_range half-way, a flush and
 * wait_idle at the end, some gets, close. The N-th file operation of the chosen kinds fails (EIO
 * or ENOSPC; one-shot or persistent from the N-th on). Checks:
 *   - every call returns OK or a clean code with a message, never STRATA_INTERNAL (st_fr_check);
 *   - after a failed write or a background error ("background error" in strata.stats), writes
 *     return STRATA_READONLY and wait_idle reports the error;
 *   - reopened over the healthy env, the database holds every acknowledged write (the failed one
 *     all-or-nothing, nothing foreign) and the closed database passes strata_check.
 * N sweeps every value for the non-append operations (opens, syncs, renames, removes, directory
 * syncs, reads, lists, closes: ~360 of them; sampled below ST_TEST_SCALE 1) and a sample of ~60
 * x scale for appends, persistent faults and ENOSPC (appends are mostly WAL records; the sample
 * covers table and manifest appends in proportion).
 * Finally a power-loss sweep: every op from the N-th on fails, then st_fault_env_crash() drops
 * whatever was not durable (all writes synced there, so all acknowledged ones must survive).
 * test_recovery_faults repeats the EIO and power-loss sweeps over a reopen of a database that has
 * tables and unflushed WAL records (so recovery replays, flushes, writes a new manifest and
 * switches CURRENT under the fault).
 * Prints runs, faults injected and data lost (0: a lost write fails the test at once).
 */
#include "db/db.h"
#include "fault_env.h"
#include "fault_run.h"
#include "lsm_util.h"
#include "st_test.h"
#include "test_fs.h"
#include "util/alloc.h"
#include "workload.h"

#include <errno.h>

#define WL_WRITES 700
#define WL_WRITES_CRASH 400 /* all synced: ~2 flushes, a compaction */

typedef struct totals {
    long runs, injected, bg_errors, readonly_checked, flushes;
} totals;

static totals all;

/* Recovery sweeps start every run from a copy of this database (NULL: from nothing), whose
 * contents are tmpl_model, and continue the workload at tmpl_next_id. */
static const char *tmpl_dir;
static st_model *tmpl_model;
static uint64_t tmpl_next_id;
#define WL_WRITES_RECOVERY 60

/* A fresh run directory and model. */
static st_model *
start_run(const char *dir)
{
    if (!tmpl_dir) {
        st_test_rmrf(dir);
        return st_model_new();
    }
    st_test_copy_dir(tmpl_dir, dir);
    return st_model_clone(tmpl_model);
}

/* 1 when strata.stats reports a background error. */
static int
has_bg_error(strata_db *db)
{
    char *s = NULL;
    if (strata_property(db, "strata.stats", &s) != STRATA_OK)
        return 0;
    int bg = strstr(s, "background error:") != NULL;
    const char *f = strstr(s, "flushes: ");
    long k = 0;
    if (f && sscanf(f, "flushes: %ld", &k) == 1)
        all.flushes += k;
    strata_free(s);
    return bg;
}

/* After a failure that stops writes: the next write must be refused, and wait_idle must not
 * claim success while a background error stands. */
static void
expect_readonly(strata_db *db, uint64_t seed, uint64_t id, int bg, long n)
{
    strata_write_options wo;
    strata_write_options_init(&wo);
    int rc = st_wl_apply_db(db, &wo, seed, id);
    if (rc != STRATA_READONLY)
        ST_FAIL("run %ld: a write after %s returned %s, expected READONLY (%s)", n,
                bg ? "a background error" : "a failed write", strata_errstr(rc),
                strata_errmsg(NULL));
    if (bg) {
        rc = strata_wait_idle(db);
        if (rc == STRATA_OK)
            ST_FAIL("run %ld: wait_idle returned OK with a background error standing", n);
        st_fr_check("wait_idle", rc, n);
    }
    all.readonly_checked++;
}

/* One run with the fault armed by the caller; returns the in-flight write (or UINT64_MAX). */
static uint64_t
run_once(const char *dir, st_fault_env *fe, uint64_t seed, st_model *m, long n, int crash)
{
    uint64_t first = tmpl_dir ? tmpl_next_id : 0;
    uint64_t nwrites = tmpl_dir ? WL_WRITES_RECOVERY : crash ? WL_WRITES_CRASH : WL_WRITES;
    strata_options o = st_lsm_opts();
    strata_db *db = NULL;
    int rc = st_db_open_env(dir, &o, st_fault_env_env(fe), &db);
    st_fr_check("open", rc, n);
    if (rc != STRATA_OK)
        return UINT64_MAX;
    strata_write_options wo;
    strata_write_options_init(&wo);
    uint64_t inflight = UINT64_MAX, id;
    int stopped = 0;
    for (id = first; id < first + nwrites && !stopped; id++) {
        wo.sync = crash || id % 8 == 0;
        rc = st_wl_apply_db(db, &wo, seed, id);
        st_fr_check("write", rc, n);
        if (rc != STRATA_OK) {
            inflight = id;
            stopped = 1;
            if (rc != STRATA_READONLY) /* a write that failed itself: the log is suspect */
                expect_readonly(db, seed, id + 1, 0, n);
            break;
        }
        st_wl_apply_model(m, seed, id);
        if (id == first + nwrites / 2) {
            rc = strata_compact_range(db, NULL, 0, NULL, 0);
            st_fr_check("compact_range", rc, n);
        }
    }
    if (!stopped) {
        st_fr_check("flush", strata_flush(db), n);
        st_fr_check("wait_idle", strata_wait_idle(db), n);
    }
    int bg = has_bg_error(db);
    all.bg_errors += bg;
    if (bg)
        expect_readonly(db, seed, id + 1, 1, n);
    for (unsigned i = 0; i < 16; i++) {
        char k[16];
        size_t kl = st_wl_key(i * 131 % ST_WL_KEYS, k);
        void *v = NULL;
        size_t vl = 0;
        rc = strata_get(db, NULL, k, kl, &v, &vl);
        if (rc != STRATA_NOTFOUND)
            st_fr_check("get", rc, n);
        strata_free(v);
    }
    st_fr_check("close", strata_close(db), n);
    return inflight;
}

/* Matching operations in a healthy run (the sweep's range). */
static long
count_ops(const char *dir, st_fault_env *fe, uint64_t seed, unsigned mask, int crash)
{
    st_model *m = start_run(dir);
    st_fault_env_reset(fe);
    ST_ASSERT_EQ(run_once(dir, fe, seed, m, 0, crash), UINT64_MAX);
    st_model_free(m);
    return (long)st_fault_env_count(fe, mask);
}

/*
 * sweep --
 *     Fail the N-th matching operation for N = 1 .. (ops of a healthy run), every N when
 *     max_runs is 0, else about max_runs values evenly spread from a seeded offset.
 */
static void
sweep(const char *name, unsigned mask, int errnum, int flags, long max_runs, int crash)
{
    char *dir = st_test_tmpdir("fault_lsm");
    uint64_t seed = st_test_seed() + (uint64_t)errnum * 7 + (uint64_t)flags + mask;
    st_rng rng;
    st_rng_seed(&rng, seed);
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    long total = count_ops(dir, fe, seed, mask, crash);
    ST_ASSERT(total > 0);
    long step = max_runs > 0 && total > max_runs ? total / max_runs : 1;
    long first = step > 1 ? 1 + (long)st_rng_uniform(&rng, (uint64_t)step) : 1;
    long runs = 0, injected = 0, acked = 0;
    for (long n = first; n <= total; n += step) {
        st_model *m = start_run(dir);
        st_fault_env_reset(fe);
        st_fault_env_fail(fe, mask, (uint64_t)n, errnum, flags);
        uint64_t inflight = run_once(dir, fe, seed, m, n, crash);
        injected += st_fault_env_injected(fe) > 0;
        if (crash) /* the machine died at op N: drop what was not durable */
            ST_ASSERT_OK(st_fault_env_crash(fe, n % 2 ? ST_FAULT_CRASH_EXACT : ST_FAULT_CRASH_TORN,
                                            seed + (uint64_t)n));
        st_fault_env_reset(fe);
        /* the healthy env: everything acknowledged is there, and the files check out */
        strata_options o = st_lsm_opts();
        strata_db *db = NULL;
        int rc = strata_open(dir, &o, &db);
        if (rc != STRATA_OK)
            ST_FAIL("%s, N=%ld (ST_SEED=%llu): healthy reopen failed: %s (%s)", name, n,
                    (unsigned long long)st_test_seed(), strata_errstr(rc), strata_errmsg(NULL));
        st_wl_verify(db, m, seed, inflight, &rng);
        ST_ASSERT_OK(strata_close(db));
        char *report = NULL;
        rc = strata_check(dir, &report);
        if (rc != STRATA_OK)
            ST_FAIL("%s, N=%ld (ST_SEED=%llu): strata_check after recovery: %s\n%s", name, n,
                    (unsigned long long)st_test_seed(), strata_errstr(rc), report ? report : "");
        strata_free(report);
        acked += (long)st_model_count(m);
        st_model_free(m);
        runs++;
    }
    fprintf(stderr,
            "%s: %ld runs (N = %ld..%ld step %ld of %ld matching ops), %ld faults injected, "
            "data lost 0\n",
            name, runs, first, total, step, total, injected);
    ST_ASSERT(injected > 0);
    all.runs += runs;
    all.injected += injected;
    st_fault_env_free(fe);
    st_test_rmrf(dir);
    st_free(dir);
}

static long
budget(long n)
{
    long v = (long)((double)n * st_test_scale());
    return v < 8 ? 8 : v;
}

#define NON_APPEND (ST_FAULT_ALL & ~(unsigned)ST_FAULT_APPEND)

static void
test_eio_once_non_append(void)
{
    sweep("EIO one-shot, every non-append op", NON_APPEND, EIO, 0, budget(400), 0);
}

static void
test_eio_once_append(void)
{
    sweep("EIO one-shot, appends (half written)", ST_FAULT_APPEND, EIO, ST_FAULT_PARTIAL_APPEND,
          budget(60), 0);
}

static void
test_enospc_once(void)
{
    sweep("ENOSPC one-shot, disk-changing ops", ST_FAULT_WRITES, ENOSPC, ST_FAULT_PARTIAL_APPEND,
          budget(60), 0);
}

static void
test_eio_persistent(void)
{
    sweep("EIO persistent, all ops", ST_FAULT_ALL, EIO, ST_FAULT_PERSISTENT, budget(60), 0);
}

static void
test_enospc_persistent(void)
{
    sweep("ENOSPC persistent, disk-changing ops", ST_FAULT_WRITES, ENOSPC, ST_FAULT_PERSISTENT,
          budget(60), 0);
}

/* Power loss at op N: every operation from the N-th on fails, then st_fault_env_crash drops what
 * was not durable (exactly for odd N, torn tails for even N). All writes are synced here, so
 * every acknowledged one must survive. */
static void
test_power_loss_at_op(void)
{
    sweep("power loss at op N (EIO from N on, then crash)", ST_FAULT_ALL, EIO, ST_FAULT_PERSISTENT,
          budget(120), 1);
}

/*
 * Faults during recovery: the template holds tables, compacted data and unflushed WAL records
 * (close does not flush), so each run's open replays logs, writes the replayed memtable to a
 * table, starts a new manifest and removes obsolete files, then writes a little, flushes and
 * closes -- with the N-th operation failing (EIO one-shot and persistent, and a power loss).
 */
static void
test_recovery_faults(void)
{
    char *tmpl = st_test_tmpdir("fault_lsm_tmpl");
    uint64_t seed = st_test_seed() + 500;
    strata_options o = st_lsm_opts();
    strata_db *db = st_dbc_open(tmpl, &o);
    tmpl_model = st_model_new();
    for (tmpl_next_id = 0; tmpl_next_id < WL_WRITES; tmpl_next_id++) {
        ST_ASSERT_OK(st_wl_apply_db(db, NULL, seed, tmpl_next_id));
        st_wl_apply_model(tmpl_model, seed, tmpl_next_id);
        if (tmpl_next_id == WL_WRITES / 2)
            ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0));
    }
    ST_ASSERT_OK(strata_wait_idle(db));
    size_t ntables = st_lsm_table_count(db);
    if (ntables < 2)
        ST_FAIL("the template has %zu tables", ntables);
    ST_ASSERT_OK(strata_close(db));
    tmpl_dir = tmpl;
    sweep("recovery: EIO one-shot, every op", ST_FAULT_ALL, EIO, ST_FAULT_PARTIAL_APPEND,
          budget(400), 0);
    sweep("recovery: EIO persistent", ST_FAULT_ALL, EIO, ST_FAULT_PERSISTENT, budget(60), 0);
    sweep("recovery: power loss at op N", ST_FAULT_ALL, EIO, ST_FAULT_PERSISTENT, budget(450), 1);
    tmpl_dir = NULL;
    st_model_free(tmpl_model);
    tmpl_model = NULL;
    st_test_rmrf(tmpl);
    st_free(tmpl);
}

int
main(void)
{
    ST_RUN(test_eio_once_non_append);
    ST_RUN(test_eio_once_append);
    ST_RUN(test_enospc_once);
    ST_RUN(test_eio_persistent);
    ST_RUN(test_enospc_persistent);
    ST_RUN(test_power_loss_at_op);
    ST_RUN(test_recovery_faults);
    fprintf(stderr,
            "fault totals: %ld runs, %ld faults injected, %ld background errors (writes then "
            "READONLY: %ld checks), %ld flushes in the faulty runs, data lost 0\n",
            all.runs, all.injected, all.bg_errors, all.readonly_checked, all.flushes);
    return st_test_done();
}
