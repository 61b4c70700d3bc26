/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_flush.c -- writing a memtable to a table: the oldest immutable memtable becomes one
 * Parquet table (st_compact_run over the memtable's iterator), the edit (table added,
 * log_number advanced) is installed, and only then are the memtable and its WAL dropped.
 * Recovery uses the same st_db_write_level0 for replayed logs.
 */
#include "db/db_impl.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <string.h>

/* bottommost: the outputs have no older data under them (see bottommost_inputs). */
void
st_db_sst_options(const strata_options *o, int bottommost, st_sst_options *s)
{
    st_sst_options_init(s);
    s->compression = bottommost ? o->bottommost_compression : o->compression;
    s->compression_level = o->compression_level;
    s->page_size = bottommost && o->bottommost_page_size ? o->bottommost_page_size : o->page_size;
    s->bloom_bits_per_key = o->bloom_bits_per_key;
}

int
st_db_write_level0(strata_db *db, st_memtable *mem, uint64_t max_wal, st_compact_job *job)
{
    memset(job, 0, sizeof(*job));
    uint64_t *snaps = NULL;
    size_t nsnaps = 0;
    pthread_mutex_lock(&db->mu);
    int rc = st_db_copy_snapshots(db, &snaps, &nsnaps);
    pthread_mutex_unlock(&db->mu);
    if (rc != STRATA_OK)
        return rc;
    job->env = db->env;
    job->dir = db->path;
    st_db_sst_options(&db->opts, 0, &job->sst);
    job->target_file_size = UINT64_MAX; /* one table per flush */
    job->snapshots = snaps;
    job->nsnapshots = nsnaps;
    job->new_file_number = st_db_alloc_file_number;
    job->fnum_arg = db;
    job->producer_note = "flush";
    job->max_wal = max_wal;
    st_rdel_set *rdels = NULL;
    if ((rc = st_memtable_range_del_set(mem, &rdels)) != STRATA_OK) {
        st_free(snaps);
        return rc;
    }
    job->rdels = rdels;
    job->input = st_memtable_iter(mem);
    if (!job->input) {
        st_free(snaps);
        st_rdel_set_unref(rdels);
        return st_err(STRATA_NOMEM, "out of memory");
    }
    uint64_t t0 = st_now_micros();
    rc = st_compact_run(job);
    st_free(snaps);
    st_rdel_set_unref(rdels);
    job->rdels = NULL;
    job->snapshots = NULL;
    if (rc == STRATA_OK) {
        atomic_fetch_add(&db->stats.flushes, 1);
        atomic_fetch_add(&db->stats.flush_bytes, job->bytes_out);
        atomic_fetch_add(&db->stats.flush_micros, st_now_micros() - t0);
    }
    return rc;
}

/* Flush the oldest immutable memtable. Called by a worker without mu. */
int
st_db_flush_one(strata_db *db)
{
    pthread_mutex_lock(&db->mu);
    st_memtable *mem = db->imm[0];
    uint64_t wal = db->imm_log[0];
    uint64_t log_after = db->nimm > 1 ? db->imm_log[1] : db->log_number;
    st_memtable_ref(mem);
    pthread_mutex_unlock(&db->mu);

    st_compact_job job;
    st_version_edit e;
    st_edit_init(&e);
    int rc = st_db_write_level0(db, mem, wal, &job);
    if (rc == STRATA_OK) {
        e.has_log_number = 1;
        e.log_number = log_after;
        for (size_t i = 0; i < job.noutputs && rc == STRATA_OK; i++) {
            rc = st_edit_add_table(&e, &job.outputs[i]);
            if (!e.has_last_seq || job.outputs[i].max_seq > e.last_seq) {
                e.has_last_seq = 1;
                e.last_seq = job.outputs[i].max_seq;
            }
        }
        if (rc == STRATA_OK)
            rc = st_db_log_and_apply(db, &e); /* owns the output files from here on */
        else
            for (size_t i = 0; i < job.noutputs; i++)
                st_db_remove_file(db, job.outputs[i].fnum, ST_FILE_TABLE);
        st_compact_job_free(&job);
    }
    st_edit_free(&e);
    pthread_mutex_lock(&db->mu);
    if (rc == STRATA_OK) {
        /* the version now holds the data: drop the memtable and its log */
        db->nimm--;
        memmove(db->imm, db->imm + 1, db->nimm * sizeof(*db->imm));
        memmove(db->imm_log, db->imm_log + 1, db->nimm * sizeof(*db->imm_log));
        st_db_sources_changed(db);
        st_memtable_unref(mem); /* the queue's reference */
    }
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    st_memtable_unref(mem);
    if (rc == STRATA_OK) {
        st_db_fit_cache(db); /* the flushed memtable's charge goes back to the cache */
        /* the memtable is freed (unless a reader still holds it): return its blocks, and the
         * pages the last rotation evicted, to the system; here in a worker, not in the write
         * path */
        st_db_return_free(db);
        st_db_remove_file(db, wal, ST_FILE_WAL);
    }
    return rc;
}
