/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_sched.c -- the background workers and waiting for them. A worker flushes the oldest
 * immutable memtable when one is queued and no flush runs, else takes due compaction work
 * (keeping one worker free for flushes), else sleeps on bg_cv. Reads add to a read debt that
 * makes a read-triggered compaction due. strata_flush and strata_wait_idle wait here.
 */
#include "db/db_impl.h"
#include "util/alloc.h"

#include <string.h>

void
st_db_charge_reads(strata_db *db, uint64_t extra_runs)
{
    if (!extra_runs || db->opts.read_only) /* read-only: nothing may be rewritten */
        return;
    uint64_t debt = atomic_fetch_add_explicit(&db->read_debt, extra_runs, memory_order_relaxed);
    if (debt == 0) /* a new debt: st_db_read_merge_all asks whether anything was flushed since */
        atomic_store(&db->read_debt_flushes, atomic_load(&db->stats.flushes));
    if (debt + extra_runs < atomic_load_explicit(&db->read_debt_limit, memory_order_relaxed) ||
        atomic_load_explicit(&db->read_due, memory_order_relaxed) ||
        atomic_exchange(&db->read_due, 1))
        return;
    pthread_mutex_lock(&db->mu);
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
}

/* Run due work when a worker may take a compaction (REQUIRES mu). Returns 1 when one ran. */
static int
try_compaction(strata_db *db)
{
    int n = db->opts.background_threads;
    int limit = n > 1 ? n - 1 : 1; /* keep a worker free for flushes */
    int rc;
    uint64_t bytes;
    if (db->compacting >= limit || db->manual > 0) /* strata_compact_range is under way */
        return 0;
    if (st_db_run_picked(db, 0, 0, &rc, &bytes))
        return 1;
    if (!atomic_load(&db->read_due))
        return 0;
    /* reads are due a merge of overlapping runs (st_db_charge_reads); the debt starts over
     * whether or not there is any */
    atomic_store(&db->read_debt, 0);
    atomic_store(&db->read_due, 0);
    pthread_cond_broadcast(&db->bg_cv); /* strata_wait_idle waits for it too */
    uint64_t flushes_before = atomic_load(&db->read_debt_flushes);
    if (!st_db_run_picked(db, 0, 2, &rc, &bytes) && !st_db_read_merge_all(db, flushes_before))
        return 0;
    atomic_fetch_add(&db->stats.read_compactions, 1);
    return 1;
}

static void *
worker_main(void *arg)
{
    strata_db *db = arg;
    pthread_mutex_lock(&db->mu);
    while (!db->shutting_down) {
        if (!db->flushing && db->nimm > 0 && db->bg_error == STRATA_OK) {
            db->flushing = 1;
            pthread_mutex_unlock(&db->mu);
            int rc = st_db_flush_one(db);
            pthread_mutex_lock(&db->mu);
            db->flushing = 0;
            if (rc != STRATA_OK)
                st_db_set_bg_error(db, rc);
            pthread_cond_broadcast(&db->bg_cv);
            continue;
        }
        if (db->bg_error == STRATA_OK && try_compaction(db))
            continue;
        if (db->bg_recheck) {
            db->bg_recheck = 0; /* looked: nothing this worker may take is due */
            pthread_cond_broadcast(&db->bg_cv);
        }
        pthread_cond_wait(&db->bg_cv, &db->mu);
    }
    pthread_mutex_unlock(&db->mu);
    return NULL;
}

int
st_db_start_workers(strata_db *db)
{
    int n = db->opts.background_threads;
    db->workers = st_calloc((size_t)n, sizeof(*db->workers));
    if (!db->workers)
        return st_err(STRATA_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        int e = pthread_create(&db->workers[i], NULL, worker_main, db);
        if (e != 0) {
            st_db_stop_workers(db);
            return st_err_errno(e, "starting background thread");
        }
        db->nworkers++;
    }
    return STRATA_OK;
}

void
st_db_stop_workers(strata_db *db)
{
    pthread_mutex_lock(&db->mu);
    db->shutting_down = 1;
    atomic_fetch_or(&db->cancel_bg, 1);
    atomic_store(&db->cancel_close, 1);
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    for (int i = 0; i < db->nworkers; i++)
        pthread_join(db->workers[i], NULL);
    db->nworkers = 0;
    st_free(db->workers);
    db->workers = NULL;
}

/* Wait (REQUIRES mu) until no flush is queued or running and (unless flush_only) no
 * compaction is running, due from reads, or possibly due and not yet looked for by a worker
 * (bg_recheck), or a background error appears. */
static int
wait_until_idle(strata_db *db, int flush_only)
{
    while (
        db->bg_error == STRATA_OK &&
        (db->nimm > 0 || db->flushing ||
         (!flush_only && (db->compacting > 0 ||
                          (db->nworkers > 0 && (db->bg_recheck || atomic_load(&db->read_due)))))))
        pthread_cond_wait(&db->bg_cv, &db->mu);
    return st_db_bg_status(db);
}

static int
in_imm(const strata_db *db, const st_memtable *mt)
{
    for (size_t i = 0; i < db->nimm; i++)
        if (db->imm[i] == mt)
            return 1;
    return 0;
}

/* Rotate the active memtable, then wait until every memtable queued now is flushed (all of
 * them, with later ones too, when `all`). */
static int
flush_and_wait(strata_db *db, int all)
{
    strata_batch empty;
    ST_RET(st_batch_init(&empty));
    int rc = st_db_write(db, NULL, &empty); /* rotates the active memtable if it has data */
    st_batch_release(&empty);
    if (rc != STRATA_OK)
        return rc;
    pthread_mutex_lock(&db->mu);
    if (all) {
        rc = wait_until_idle(db, 1);
    } else {
        /* memtables are flushed oldest first: the newest queued now is the last to go */
        const st_memtable *last = db->nimm ? db->imm[db->nimm - 1] : NULL;
        while (db->bg_error == STRATA_OK && last && in_imm(db, last))
            pthread_cond_wait(&db->bg_cv, &db->mu);
        rc = st_db_bg_status(db);
    }
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int
st_db_flush_now(strata_db *db)
{
    return flush_and_wait(db, 0);
}

int
st_db_flush_all(strata_db *db)
{
    return flush_and_wait(db, 1);
}

int
st_db_wait_idle(strata_db *db)
{
    pthread_mutex_lock(&db->mu);
    int rc = wait_until_idle(db, 0);
    pthread_mutex_unlock(&db->mu);
    return rc;
}
