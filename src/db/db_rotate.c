/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_rotate.c -- memtable rotation and write backpressure, run by the commit-group leader.
 *
 * Life of a memtable: it fills while active; when it reaches write_buffer_size the leader
 * rotates it (the old WAL is synced, a new WAL and memtable take over) and it joins the
 * immutable queue for db_flush.c. When flushes or compactions fall behind, writers first slow
 * down (one 1 ms pause per commit group) and then stop until background work catches up; the
 * time spent is reported in strata.stats.
 */
#include "db/db_impl.h"
#include "util/alloc.h"
#include "util/clock.h"

#include <time.h>

/* Write backpressure from compaction debt, in tables a point read may have to consult (the UCS
 * total overlap). With the default T4 a settled tree keeps at most 3 per level, so 24 means
 * compaction is several flushes behind and 48 that reads are degrading badly. */
#define OVERLAP_SLOWDOWN 24
#define OVERLAP_STOP 48

static void
sleep_micros(unsigned us)
{
    struct timespec ts = {0, (long)us * 1000};
    nanosleep(&ts, NULL);
}

/* Wait for background progress (REQUIRES mu): a condition wait for a stop, a 1 ms pause
 * without the mutex for a slowdown. The time goes to strata.stats. */
static void
stall(strata_db *db, int slowdown)
{
    uint64_t t0 = st_now_micros();
    if (slowdown) {
        pthread_mutex_unlock(&db->mu);
        sleep_micros(1000);
        pthread_mutex_lock(&db->mu);
        atomic_fetch_add(&db->stats.slowdowns, 1);
    } else {
        atomic_fetch_add(&db->stats.stalls, 1);
        pthread_cond_wait(&db->bg_cv, &db->mu);
    }
    atomic_fetch_add(&db->stats.stall_micros, st_now_micros() - t0);
}

/* Create WAL `num` and make its directory entry durable. Needs no lock. */
static int
open_wal(strata_db *db, uint64_t num, st_wal_writer **out)
{
    *out = NULL;
    char *path = st_file_path(db->path, ST_FILE_WAL, num);
    if (!path)
        return st_err(STRATA_NOMEM, "out of memory");
    int rc = st_wal_writer_open_mapped(db->env, path, num, out);
    st_free(path);
    if (rc == STRATA_OK)
        rc = db->env->sync_dir(db->env, db->path);
    if (rc != STRATA_OK) {
        st_wal_writer_close(*out);
        *out = NULL;
    }
    return rc;
}

int
st_db_new_wal(strata_db *db)
{
    uint64_t num = db->next_file++;
    st_wal_writer *w = NULL;
    ST_RET(open_wal(db, num, &w));
    st_wal_writer_close(db->wal);
    db->wal = w;
    db->log_number = num;
    return STRATA_OK;
}

/*
 * rotate --
 *     Queue the active memtable and start a new one with a new WAL. REQUIRES mu, held by the
 *     commit-group leader; mu is released for the disk work (syncing the old log, creating the
 *     new one and syncing the directory, closing the old one), so readers and background work
 *     never wait behind it. That is safe because only the leader touches the WAL, the active
 *     memtable pointer and log_number, and the leader is this thread until it returns; the
 *     queue slot checked by the caller stays free (only flushes change nimm meanwhile, and they
 *     lower it).
 */
static int
rotate(strata_db *db)
{
    uint64_t num = db->next_file++;
    st_wal_writer *old = db->wal;
    st_memtable *fresh = NULL;
    st_wal_writer *w = NULL;
    pthread_mutex_unlock(&db->mu);
    int rc = st_memtable_new_sized(db->opts.memtable_kind, db->opts.write_buffer_size, &fresh);
    if (rc == STRATA_OK && old)
        rc = st_wal_writer_sync(old);
    if (rc == STRATA_OK)
        rc = open_wal(db, num, &w);
    pthread_mutex_lock(&db->mu);
    if (rc != STRATA_OK) {
        if (fresh)
            st_memtable_unref(fresh);
        st_db_set_bg_error(db, rc);
        return rc;
    }
    db->imm[db->nimm] = db->mem;
    db->imm_log[db->nimm] = db->log_number;
    db->nimm++;
    db->mem = fresh;
    st_db_sources_changed(db);
    db->wal = w;
    db->log_number = num;
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    st_wal_writer_close(old); /* synced above: closing writes nothing */
    st_db_fit_cache(db);      /* the new memtable's charge comes out of the cache */
    pthread_mutex_lock(&db->mu);
    return STRATA_OK;
}

int
st_db_make_room(strata_db *db, int force)
{
    int slowed = 0;
    for (;;) {
        if (db->bg_error != STRATA_OK)
            return st_db_readonly_error(db);
        int full = st_memtable_entries(db->mem) > 0 &&
                   (force || st_memtable_memory(db->mem) >= db->opts.write_buffer_size);
        int left = full ? st_db_rotations_left(db) : 1;
        /* stop: compaction far behind (while it runs), or no room to queue a full memtable
         * (max_immutable_memtables or the memory budget) */
        if ((db->read_overlap >= OVERLAP_STOP && (db->compacting > 0 || db->flushing)) ||
            left <= 0) {
            stall(db, 0);
            continue;
        }
        /* slowdown: compaction behind, or room for one more memtable after others: give
         * background work a head start, once per commit group */
        if (!slowed && ((db->read_overlap >= OVERLAP_SLOWDOWN && db->compacting > 0) ||
                        (full && left == 1 && db->nimm > 0))) {
            stall(db, 1);
            slowed = 1;
            continue;
        }
        if (!full)
            return STRATA_OK;
        return rotate(db);
    }
}
