/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault_run.h -- the fault-injection sweep shared by tests/fault (faults alone) and
 * tests/crash/test_crash_points (a power loss at every operation).
 *
 * The workload of one run, over an st_fault_env: open, ST_FR_WRITES sync writes from
 * workload.h with two flushes in between, a full compaction, model-checked gets, close. It
 * stops at the first failed write (that write is "in flight": all-or-nothing afterwards).
 * Every call must return OK or a clean code with a detail message (never STRATA_INTERNAL).
 *
 * Header-only (static inline) because it calls strata_* and the support library is linked
 * after libstrata. Not thread-safe (one sweep at a time per process is the intended use).
 */
#ifndef ST_TEST_FAULT_RUN_H
#define ST_TEST_FAULT_RUN_H

#include "db/db.h"
#include "fault_env.h"
#include "st_test.h"
#include "util/alloc.h"
#include "workload.h"

#define ST_FR_WRITES 16
#define ST_FR_MAX_SWEEP 20000

/* A failing call must give a clean code and a message. */
static inline void
st_fr_check(const char *what, int rc, long n)
{
    if (rc == STRATA_OK)
        return;
    if (rc == STRATA_INTERNAL || rc < 0 || rc >= STRATA_RC_COUNT || rc == STRATA_NOTFOUND)
        ST_FAIL("run %ld: %s returned %s (%s)", n, what, strata_errstr(rc), strata_errmsg(NULL));
    if (strata_errmsg(NULL)[0] == '\0')
        ST_FAIL("run %ld: %s returned %s without a detail message", n, what, strata_errstr(rc));
}

typedef struct st_fr_result {
    int injected; /* the fault was hit */
    long acked;   /* writes acknowledged */
    int flushed;  /* a flush succeeded */
    int close_rc;
} st_fr_result;

/*
 * One run over the fault env (armed by the caller). Writes acknowledged go into m; returns the
 * id of the write that failed (the in-flight one) or UINT64_MAX.
 */
static inline uint64_t
st_fr_run(const char *dir, st_fault_env *fe, uint64_t seed, st_model *m, long n, st_fr_result *res)
{
    memset(res, 0, sizeof(*res));
    strata_options o = st_dbc_opts(64 * 1024);
    strata_db *db = NULL;
    uint64_t inflight = UINT64_MAX;
    int rc = st_db_open_env(dir, &o, st_fault_env_env(fe), &db);
    st_fr_check("open", rc, n);
    if (rc != STRATA_OK) {
        ST_ASSERT(db == NULL);
        res->injected = st_fault_env_injected(fe) > 0;
        return inflight;
    }
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = 1;
    int failed = 0;
    for (uint64_t id = 0; id < ST_FR_WRITES && !failed; id++) {
        /* two flushes (so there are tables to compact) between the writes */
        if (id == ST_FR_WRITES / 3 || id == 2 * ST_FR_WRITES / 3) {
            rc = strata_flush(db);
            if (rc != STRATA_NOTSUP) {
                st_fr_check("flush", rc, n);
                res->flushed += rc == STRATA_OK;
                if (rc != STRATA_OK)
                    break;
            }
        }
        rc = st_wl_apply_db(db, &wo, seed, id);
        st_fr_check("write", rc, n);
        if (rc != STRATA_OK) {
            inflight = id;
            failed = 1;
            break;
        }
        st_wl_apply_model(m, seed, id);
        res->acked++;
    }
    if (!failed) {
        rc = strata_compact_range(db, NULL, 0, NULL, 0);
        if (rc != STRATA_NOTSUP)
            st_fr_check("compact_range", rc, n);
    }
    /* reads (now partly from tables) give the model's answer or fail cleanly */
    for (unsigned i = 0; i < 8; i++) {
        st_wl_op op;
        st_wl_gen(seed, i, &op);
        char k[16];
        size_t kl = st_wl_key(op.key[0], k);
        void *v = NULL;
        size_t vl = 0;
        rc = strata_get(db, NULL, k, kl, &v, &vl);
        if ((rc == STRATA_OK || rc == STRATA_NOTFOUND) && inflight == UINT64_MAX) {
            const void *mv;
            size_t mvl;
            int present = st_model_get(m, k, kl, &mv, &mvl);
            if (present != (rc == STRATA_OK) || (present && (vl != mvl || memcmp(v, mv, vl))))
                ST_FAIL("run %ld: get %s disagrees with the acknowledged writes", n, k);
        } else if (rc != STRATA_NOTFOUND) {
            st_fr_check("get", rc, n);
        }
        strata_free(v);
    }
    res->close_rc = strata_close(db);
    st_fr_check("close", res->close_rc, n);
    res->injected = st_fault_env_injected(fe) > 0;
    return inflight;
}

/*
 * st_fr_sweep --
 *     For n = 1, 2, ...: arm the fault (mask, errnum, flags) on the n-th operation, run the
 *     workload, optionally simulate a power loss right after it (crash != 0: odd n exact, even
 *     n torn), reopen over the healthy env and verify. Ends at the first n the workload does not
 *     reach. A healthy reopen that fails is reported as a FAILURE line and the sweep goes on
 *     (so one run shows every failing n), failing the test at the end; a lost or partly visible
 *     write fails at once.
 */
static inline void
st_fr_sweep(const char *name, unsigned mask, int errnum, int flags, int crash)
{
    char *dir = st_test_tmpdir("fault");
    uint64_t seed = st_test_seed();
    st_rng rng;
    st_rng_seed(&rng, seed);
    /* every power loss here is simulated, so neither env needs real fsyncs (much faster);
     * `healthy` injects nothing and is used for the reopen after each run */
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    st_fault_env *healthy = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL && healthy != NULL);
    st_fault_env_skip_real_sync(fe, 1);
    st_fault_env_skip_real_sync(healthy, 1);
    long n, failed_runs = 0, flushes = 0, max_ops = 0, bad_reopens = 0;
    for (n = 1; n <= ST_FR_MAX_SWEEP; n++) {
        st_test_rmrf(dir);
        st_model *m = st_model_new();
        st_fault_env_reset(fe);
        st_fault_env_fail(fe, mask, (uint64_t)n, errnum, flags);
        st_fr_result res;
        uint64_t inflight = st_fr_run(dir, fe, seed, m, n, &res);
        uint64_t ops = st_fault_env_count(fe, ST_FAULT_ALL);
        if (crash) /* the machine died at op n: drop what was not durable */
            ST_ASSERT_OK(st_fault_env_crash(fe, n % 2 ? ST_FAULT_CRASH_EXACT : ST_FAULT_CRASH_TORN,
                                            seed + (uint64_t)n));
        max_ops = (long)ops > max_ops ? (long)ops : max_ops;
        flushes += res.flushed;
        if (!res.injected) {
            ST_ASSERT_EQ(res.acked, ST_FR_WRITES);
            ST_ASSERT_OK(res.close_rc);
        }
        failed_runs += res.injected;
        /* reopen over the healthy env; no writes may be lost (the database may also be empty
         * when the fault hit before anything was created) */
        strata_options o = st_dbc_opts(64 * 1024);
        strata_db *db = NULL;
        int rc = st_db_open_env(dir, &o, st_fault_env_env(healthy), &db);
        if (rc != STRATA_OK) {
            fprintf(stderr,
                    "FAILURE: %s run %ld (the %ld-th matching op failed; rerun with "
                    "ST_FAULT_TRACE=1): healthy reopen failed: %s (%s)\n",
                    name, n, n, strata_errstr(rc), strata_errmsg(NULL));
            bad_reopens++;
        } else {
            st_wl_verify(db, m, seed, inflight, &rng);
            ST_ASSERT_OK(strata_close(db));
        }
        st_model_free(m);
        if (!res.injected)
            break;
    }
    ST_ASSERT(n <= ST_FR_MAX_SWEEP);
    fprintf(stderr,
            "%s: %ld runs, %ld hit the fault, the full workload takes %ld file operations, %ld "
            "flushes\n",
            name, n, failed_runs, max_ops, flushes);
    if (bad_reopens)
        ST_FAIL("%s: %ld runs left a database that does not reopen (see FAILURE lines)", name,
                bad_reopens);
    ST_ASSERT(failed_runs == n - 1);
    st_fault_env_free(fe);
    st_fault_env_free(healthy);
    st_test_rmrf(dir);
    st_free(dir);
}

#endif
