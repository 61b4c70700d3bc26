/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_impl.h -- struct strata_db and the database layer's internal functions.
 *
 * Concurrency design
 *   db->mu protects the mutable state marked [mu]. Writers queue on db->writers; the writer at
 *   the head is the leader of a commit group: it takes the batches queued behind it, writes them
 *   as ONE WAL record (one write, at most one fsync) and applies them to the active memtable
 *   WITHOUT holding mu (only the leader touches the WAL and inserts into the memtable, so the
 *   memtable has the single writer it requires), then publishes the group's last sequence number
 *   with a release store to db->last_seq. Readers take mu only briefly to pin the memtables and
 *   the current version, then read without locks; entries with seq > the reader's snapshot are
 *   invisible, so a half-applied group is never seen.
 *
 * Lock order: db->mu before any module lock (cache shards, table readers). Nothing holds mu
 *   while doing file I/O except open/close and manifest switches noted in the code.
 */
#ifndef ST_DB_DB_IMPL_H
#define ST_DB_DB_IMPL_H

#include "cache/cache.h"
#include "compaction/compaction.h"
#include "compaction/ucs.h"
#include "db/batch.h"
#include "db/db.h"
#include "env/env.h"
#include "memtable/memtable.h"
#include "version/filename.h"
#include "version/version.h"
#include "wal/wal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define ST_DB_MAGIC 0x5354524154414442ull /* "STRATADB" */
#define ST_DB_DEAD 0xdeaddeaddeaddeadull
#define ST_ITER_MAGIC 0x5354524954455221ull

/* A queued writer (lives on the writer's stack). */
typedef struct st_writer {
    strata_batch *batch;
    int sync;
    int disable_wal;
    int done;
    int rc;
    char errmsg[ST_ERRMSG_MAX]; /* the leader's error detail, copied for each member */
    pthread_cond_t cv;
    struct st_writer *next;
} st_writer;

struct strata_snapshot {
    uint64_t seq;
    strata_db *db;
    struct strata_snapshot *prev, *next; /* [mu] doubly linked, ascending seq */
};

typedef struct st_db_stats {
    _Atomic uint64_t batches, gets, get_hits, wal_syncs, wal_records, wal_bytes;
    _Atomic uint64_t groups, user_bytes;
    uint64_t recovered_records, recovered_entries, recovery_dropped_bytes; /* set at open */
    uint64_t recovery_micros;
    _Atomic uint64_t flushes, flush_bytes, flush_micros;
    _Atomic uint64_t compactions, compact_bytes_in, compact_bytes_out, compact_micros;
    _Atomic uint64_t read_compactions;
    _Atomic uint64_t stall_micros, stalls, slowdowns;
} st_db_stats;

struct strata_db {
    _Atomic uint64_t magic;
    char *path;
    st_env *env;
    strata_options opts;
    st_file *lock;

    pthread_mutex_t mu;
    st_memtable *mem;            /* [mu] active memtable (pointer changes under mu) */
    st_memtable **imm;           /* [mu] immutable memtables, oldest first */
    uint64_t *imm_log;           /* [mu] WAL number holding each immutable memtable's writes */
    size_t nimm;                 /* [mu] */
    st_version *current;         /* [mu] the live table set */
    st_manifest *manifest;       /* [manifest_mu] */
    pthread_mutex_t manifest_mu; /* serialises version changes; taken before mu */
    st_cache *cache;
    st_table_ctx tctx;
    pthread_cond_t bg_cv; /* [mu] background state changed (work queued or finished) */
    pthread_t *workers;
    int nworkers;
    int shutting_down; /* [mu] */
    int flushing;      /* [mu] a flush is running */
    int compacting;    /* [mu] compactions running */
    /* [mu] the tables or the running work changed since a worker last looked for due work
     * and found none: strata_wait_idle waits for a worker to look again */
    int bg_recheck;
    size_t read_overlap; /* [mu] most tables one key falls into (UCS total overlap) */
    /* Read-triggered compaction (db_flush.c, st_db_charge_reads): sorted runs positioned in
     * beyond the first by seeks and scans since the last one, the debt that makes one due
     * (set with read_overlap), and whether one is due. */
    _Atomic uint64_t read_debt;
    _Atomic uint64_t read_debt_limit;
    _Atomic int read_due;
    _Atomic uint64_t read_debt_flushes; /* flushes done when the debt last grew from 0 */
    _Atomic int cancel_bg;              /* set by close: running compactions stop early */
    _Atomic int unlogged;      /* a write with disable_wal is only in memory: close flushes */
    st_wal_writer *wal;        /* [leader] the active log */
    uint64_t log_number;       /* [mu] number of the active log */
    uint64_t next_file;        /* [mu] next file number to allocate */
    _Atomic uint64_t last_seq; /* last published sequence number */
    uint64_t alloc_seq;        /* [mu] last sequence number handed to a group */

    st_writer *writers_head, *writers_tail; /* [mu] queue; head is the leader */
    strata_batch group;                     /* [leader] scratch batch for a commit group */

    strata_snapshot snapshots; /* [mu] sentinel of the snapshot list */
    _Atomic long open_iters;
    _Atomic long open_snapshots;

    int bg_error; /* [mu] sticky: once set, writes return READONLY */
    char bg_errmsg[ST_ERRMSG_MAX];

    st_db_stats stats;
};

/* Write path (db_write.c) */
int st_db_write(strata_db *db, const strata_write_options *wo, strata_batch *batch);

/* Rotate a full memtable and apply backpressure when flushes fall behind (db_flush.c).
 * REQUIRES: mu held by the commit-group leader; may wait on db->bg_cv (releasing mu). */
int st_db_make_room(strata_db *db, int force);

/* Flush every memtable holding writes made before the call, without waiting for memtables
 * filled later (which strata_flush does: under steady writes it may wait long) (db_flush.c). */
int st_db_flush_now(strata_db *db);

/* Background work (db_flush.c) */
int st_db_start_workers(strata_db *db);
void st_db_stop_workers(strata_db *db);
/*
 * st_db_compact_before_close --
 *     Run due compactions that are cheap (their inputs, and all of them together, at most a few
 *     MiB), so that sessions too short for background work still leave a bounded number of
 *     tables. REQUIRES: the workers are stopped. Best effort: a failure ends it and is not
 *     reported (the inputs stay live; files it leaves behind go at the next open).
 */
void st_db_compact_before_close(strata_db *db);
/* Write the memtable `mem` (not yet in any version), whose writes came from WALs up to number
 * max_wal, to tables and return their metadata. */
int st_db_write_level0(strata_db *db, st_memtable *mem, uint64_t max_wal, st_compact_job *job);
/*
 * st_db_log_and_apply --
 *     Make `e` durable in the manifest, then install the version current - removed + added.
 *     `removed` tables are marked obsolete. Takes manifest_mu then mu. On failure sets
 *     bg_error (the manifest may hold a partial record) and leaves the current version.
 */
int st_db_log_and_apply(strata_db *db, st_version_edit *e);
/* Remove files no version or log needs (REQUIRES: no background work running). */
void st_db_remove_obsolete_files(strata_db *db);
/* UCS per-level summary of version v (pinned by the caller). Takes mu briefly. */
int st_db_level_stats(strata_db *db, st_version *v, st_ucs_level_stats *levels, size_t max,
                      size_t *nlevels, size_t *overlap);
/* Recompute db->read_overlap (UCS total overlap) and the read debt limit for the current
 * version. REQUIRES mu. */
void st_db_update_overlap(strata_db *db);
/* A read positioned in extra_runs sorted runs beyond the first (a seek, or a sample of a scan):
 * add it to the read debt and wake a worker when a read-triggered compaction becomes due. Takes
 * mu only then. */
void st_db_charge_reads(strata_db *db, uint64_t extra_runs);
/* Record a background error (sticky); REQUIRES mu. */
void st_db_set_bg_error(strata_db *db, int rc);
/* STRATA_READONLY with a message naming the background error's code and message; REQUIRES mu
 * and a background error. */
int st_db_readonly_error(const strata_db *db);

/* Recovery (db_recover.c): replay WALs into db->mem, set sequence and file numbers. */
int st_db_recover(strata_db *db);
/* Read-only recovery (db_recover.c): read the manifest, open its tables and replay the WALs
 * into db->mem, writing, creating and deleting nothing. */
int st_db_recover_read_only(strata_db *db);
/* Create a new WAL numbered db->next_file++ and make it active. REQUIRES: mu or exclusive. */
int st_db_new_wal(strata_db *db);

/* Apply an encoded batch to a memtable (used by the write path and recovery). */
int st_db_apply_batch(st_memtable *mem, const uint8_t *rep, size_t len, const char *what);

/* Read path (db_read.c) */
int st_db_get(strata_db *db, const strata_read_options *ro, const void *key, size_t klen,
              void **val, size_t *vlen);
int st_db_iter_open(strata_db *db, const strata_read_options *ro, strata_iter **out);

/* Append to out the SQL script (doc/analytics.md) defining the views kv_versions and kv over
 * the tables of v, by file name relative to the database directory (db_sql_view.c). */
int st_db_sql_view(const st_version *v, st_buf *out);

/* The statistics of db now (db_stats.c); *out is this library's full struct. */
void st_db_collect_stats(strata_db *db, strata_stats *out);

/* Versioned public structs (db_options.c): *out = this library's struct holding the caller's
 * fields of the layout its struct_size names and the defaults for the rest (a NULL read/write
 * options pointer gives the defaults). INVALID when struct_size is no released layout's size. */
int st_db_options_from_user(const strata_options *o, strata_options *out);
int st_db_read_options_from_user(const strata_read_options *o, strata_read_options *out);
int st_db_write_options_from_user(const strata_write_options *o, strata_write_options *out);
/* The released layouts (ends of their last fields, oldest first) and alignment of struct
 * `which`: 0 strata_options, 1 strata_read_options, 2 strata_write_options, 3 strata_stats
 * (for tests). Returns how many. */
size_t st_db_layouts(int which, const size_t **ends, size_t *align);
/* Copy s into the caller's *out as far as out->struct_size reaches (setting it to the bytes
 * filled); INVALID when it is 0 or no released layout's size. */
int st_db_stats_to_user(const strata_stats *s, strata_stats *out);

/* Check a handle; INVALID with a message when it is NULL or not an open database. */
int st_db_check(const strata_db *db);

#endif
