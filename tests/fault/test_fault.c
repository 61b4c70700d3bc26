/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fault.c -- I/O and allocation failure injection.
 *
 * For N = 1, 2, 3, ... the N-th file operation (any kind) of a workload "open + sync writes with
 * two flushes in between + full compaction + gets + close" fails, first with EIO (failing appends
 * write half their bytes first), then with ENOSPC. Every call must return OK or a clean error code
 * (never STRATA_INTERNAL, a message set on failure, never a crash). After each run the database is
 * reopened over the healthy env: it must open, hold every write acknowledged before the failure,
 * and the write that failed is all-or-nothing. The sweep ends at the first N whose run did not
 * reach the fault. The same sweep runs with a persistent fault (every operation from the N-th
 * on fails), and finally with allocation failures (st_alloc_fail_after) over open/put/batch/
 * get/iterate/close.
 */
#include "db/db.h"
#include "fault_env.h"
#include "fault_run.h"
#include "st_test.h"
#include "test_fs.h"
#include "util/alloc.h"
#include "workload.h"

#include <errno.h>

static void
test_eio_once(void)
{
    st_fr_sweep("EIO one-shot (partial appends)", ST_FAULT_ALL, EIO, ST_FAULT_PARTIAL_APPEND, 0);
}

static void
test_enospc_once(void)
{
    st_fr_sweep("ENOSPC one-shot", ST_FAULT_ALL, ENOSPC, 0, 0);
}

static void
test_eio_persistent(void)
{
    st_fr_sweep("EIO persistent", ST_FAULT_ALL, EIO, ST_FAULT_PERSISTENT, 0);
}

/* Faults only at the durability points (sync, sync_dir), one-shot. */
static void
test_sync_failures(void)
{
    st_fr_sweep("sync/sync_dir EIO", ST_FAULT_SYNC | ST_FAULT_SYNC_DIR, EIO, 0, 0);
}

/* ---- allocation failures -------------------------------------------------------------------- */

static int
alloc_ok(const char *what, int rc, long n)
{
    if (rc != STRATA_OK && rc != STRATA_NOMEM)
        ST_FAIL("alloc run %ld: %s returned %s, expected OK or NOMEM (%s)", n, what,
                strata_errstr(rc), strata_errmsg(NULL));
    return rc == STRATA_OK;
}

/* Open an existing database (so recovery allocates too), write, read, iterate, close, with the
 * n-th allocation failing. Returns 1 when every call succeeded. */
static int
alloc_run(const char *dir, st_env *env, uint64_t seed, uint64_t first_id, st_model *m, long n,
          uint64_t *inflight)
{
    int all_ok = 1;
    strata_options o = st_dbc_opts(64 * 1024);
    strata_db *db = NULL;
    *inflight = UINT64_MAX;
    st_alloc_fail_after(n);
    int rc = st_db_open_env(dir, &o, env, &db);
    if (!alloc_ok("open", rc, n)) {
        st_alloc_fail_after(-1);
        ST_ASSERT(db == NULL);
        return 0;
    }
    for (uint64_t id = first_id; id < first_id + 6 && all_ok; id++) {
        rc = st_wl_apply_db(db, NULL, seed, id);
        if (alloc_ok("write", rc, n)) {
            st_wl_apply_model(m, seed, id);
        } else {
            *inflight = id;
            all_ok = 0;
        }
    }
    for (unsigned k = 0; k < 20 && all_ok; k++) {
        char key[16];
        size_t kl = st_wl_key(k * 97 % ST_WL_KEYS, key);
        void *v = NULL;
        size_t vl = 0;
        rc = strata_get(db, NULL, key, kl, &v, &vl);
        if (rc == STRATA_NOTFOUND)
            continue;
        all_ok &= alloc_ok("get", rc, n);
        strata_free(v);
    }
    strata_iter *it = NULL;
    if (all_ok && alloc_ok("iter_open", strata_iter_open(db, NULL, &it), n)) {
        size_t count = 0;
        for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it))
            count++;
        all_ok &= alloc_ok("iterate", strata_iter_status(it), n);
        if (all_ok)
            ST_ASSERT_EQ(count, st_model_count(m));
        strata_iter_close(it);
    } else {
        all_ok = 0;
    }
    const strata_snapshot *snap = strata_snapshot_get(db);
    if (snap)
        strata_snapshot_release(db, snap);
    else
        all_ok = 0;
    rc = strata_close(db);
    st_alloc_fail_after(-1);
    if (!alloc_ok("close", rc, n))
        all_ok = 0;
    return all_ok;
}

/* Next N of a sweep: every N up to 300, then steps of ~1.5% (keeps the run time bounded while
 * still hitting allocations all over the workload). */
static long
next_n(long n)
{
    return n < 300 ? n + 1 : n + 1 + n / 64;
}

static void
test_alloc_failures(void)
{
    char *tmpl = st_test_tmpdir("fault_alloc_tmpl");
    char *dir = st_test_tmpdir("fault_alloc");
    uint64_t seed = st_test_seed() + 3;
    st_rng rng;
    st_rng_seed(&rng, seed);
    st_model *base = st_model_new();
    /* a database with some content, copied afresh for every run so each run does the same */
    strata_options o = st_dbc_opts(64 * 1024);
    /* no real fsyncs: nothing here depends on surviving a real power loss (much faster) */
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    st_fault_env_skip_real_sync(fe, 1);
    st_env *env = st_fault_env_env(fe);
    strata_db *db = NULL;
    ST_ASSERT_OK(st_db_open_env(tmpl, &o, env, &db));
    uint64_t first_id = 50;
    for (uint64_t id = 0; id < first_id; id++) {
        ST_ASSERT_OK(st_wl_apply_db(db, NULL, seed, id));
        st_wl_apply_model(base, seed, id);
    }
    ST_ASSERT_OK(strata_close(db));
    long n, runs = 0, fit = -1;
    for (n = 0; n <= ST_FR_MAX_SWEEP && fit < 0; n = next_n(n)) {
        st_test_copy_dir(tmpl, dir);
        st_model *m = st_model_clone(base);
        uint64_t inflight;
        if (alloc_run(dir, env, seed, first_id, m, n, &inflight))
            fit = n;
        ST_ASSERT_OK(st_db_open_env(dir, &o, env, &db));
        st_wl_verify(db, m, seed, inflight, &rng);
        ST_ASSERT_OK(strata_close(db));
        st_model_free(m);
        runs++;
    }
    ST_ASSERT(fit >= 0);
    fprintf(stderr,
            "allocation failures: %ld runs, the workload fit with %ld allocations allowed\n", runs,
            fit);
    st_model_free(base);
    st_fault_env_free(fe);
    st_test_rmrf(dir);
    st_test_rmrf(tmpl);
    st_free(dir);
    st_free(tmpl);
}

int
main(void)
{
    ST_RUN(test_eio_once);
    ST_RUN(test_enospc_once);
    ST_RUN(test_eio_persistent);
    ST_RUN(test_sync_failures);
    ST_RUN(test_alloc_failures);
    return st_test_done();
}
