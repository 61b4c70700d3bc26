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
 *   while doing file I/O except open and close (which run alone): memtable rotation releases
 *   it for its syncs (db_rotate.c).
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
    _Atomic int done;  /* set under mu: the leader committed this write */
    _Atomic int leads; /* set under mu: this writer is now at the head of the queue */
    int blocked;       /* [mu] waiting on cv (else it polls done/leads before blocking) */
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
    pthread_cond_t bg_cv;              /* [mu] background state changed (work queued or finished) */
    size_t budget;                     /* memory budget (db_memory.c); fixed at open */
    pthread_mutex_t budget_mu;         /* serialises cache resizes; taken before mu */
    _Atomic uint64_t returned_free_us; /* when st_db_return_free last ran */
    pthread_t *workers;
    int nworkers;
    int shutting_down; /* [mu] */
    int flushing;      /* [mu] a flush is running */
    int compacting;    /* [mu] compactions running */
    int manual;        /* [mu] strata_compact_range calls under way: no new background picks */
    /* [mu] the tables or the running work changed since a worker last looked for due work
     * and found none: strata_wait_idle waits for a worker to look again */
    int bg_recheck;
    size_t read_overlap; /* [mu] most tables one key falls into (UCS total overlap) */
    /* Read-triggered compaction (db_sched.c, st_db_charge_reads): sorted runs positioned in
     * beyond the first by seeks and scans since the last one, the debt that makes one due
     * (set with read_overlap), and whether one is due. */
    _Atomic uint64_t read_debt;
    _Atomic uint64_t read_debt_limit;
    _Atomic int read_due;
    _Atomic uint64_t read_debt_flushes; /* flushes done when the debt last grew from 0 */
    /* Background compactions stop early while non-zero: bit 1 set by close, bit 2 while a
     * strata_compact_range is under way (it rewrites their inputs anyway). */
    _Atomic int cancel_bg;
    _Atomic int cancel_close;  /* set by close: a manual compaction stops early */
    _Atomic int unlogged;      /* a write with disable_wal is only in memory: close flushes */
    st_wal_writer *wal;        /* [leader] the active log */
    uint64_t log_number;       /* [mu] number of the active log */
    uint64_t next_file;        /* [mu] next file number to allocate */
    _Atomic uint64_t last_seq; /* last published sequence number */
    uint64_t alloc_seq;        /* [mu] last sequence number handed to a group */

    st_writer *writers_head, *writers_tail; /* [mu] queue; head is the leader */
    strata_batch group;                     /* [leader] scratch batch for a commit group */

    strata_snapshot snapshots; /* [mu] sentinel of the snapshot list */
    /* Bumped (under mu) whenever the sources a read sees change: the active memtable, the
     * immutable queue or the current version. An open iterator moves to the new sources at its
     * next seek (db_iter.c). */
    _Atomic uint64_t view_gen;
    _Atomic long open_iters;
    _Atomic long open_snapshots;

    int bg_error; /* [mu] sticky: once set, writes return READONLY */
    char bg_errmsg[ST_ERRMSG_MAX];

    st_db_stats stats;
};

/*
 * The files of src/db, each with one job. Calls go down this list only (a file calls the ones
 * below it), so there is no import circle:
 *   db.c, db_stats.c, db_checkpoint.c, ...   public entry points
 *   db_iter.c, db_read.c, db_tables.c, db_rangedel.c   the read path
 *   db_recover.c     open-time recovery
 *   db_sched.c       background workers, waiting for them, read debt
 *   db_compact.c     running compactions
 *   db_flush.c       writing a memtable to a table
 *   db_install.c     manifest edits and version installation, the UCS view of a version
 *   db_write.c       writer queue and group commit
 *   db_rotate.c      memtable rotation, new WALs, write backpressure
 *   db_memory.c      the memory budget: memtable charge, cache size
 *   db_state.c       handle check, background error, file numbers, snapshots list
 */

/* ---- db_state.c ---- */
/* INVALID with a message when db is NULL or not an open database. */
int st_db_check(const strata_db *db);
/* Record a background error (sticky) and wake every waiter; REQUIRES mu. */
void st_db_set_bg_error(strata_db *db, int rc);
/* STRATA_READONLY with a message naming the background error's code and message; REQUIRES mu
 * and a background error. */
int st_db_readonly_error(const strata_db *db);
/* STRATA_OK, or the sticky background error with its message (REQUIRES mu). */
int st_db_bg_status(strata_db *db);
/* The next file number (arg: the strata_db); takes mu briefly. */
uint64_t st_db_alloc_file_number(void *arg);
/* Remove file `num` of `kind` from the database directory, best effort (no error). */
void st_db_remove_file(strata_db *db, uint64_t num, st_file_kind kind);
/* Copy the live snapshot sequence numbers (ascending) into a new array *out (NULL when there
 * are none; the caller frees it). REQUIRES mu. */
int st_db_copy_snapshots(strata_db *db, uint64_t **out, size_t *n);
/* Link s (s->seq set) into the snapshot list at its place by seq / unlink it. REQUIRES mu. */
void st_db_snapshot_link(strata_db *db, strata_snapshot *s);
void st_db_snapshot_unlink(strata_snapshot *s);
/* The read sources changed (see view_gen). REQUIRES mu. */
void st_db_sources_changed(strata_db *db);

/* ---- db_memory.c ---- */
/* The memory budget options `o` give (memory_budget, or the default derived from the cache and
 * memtable sizes). */
size_t st_db_memory_budget(const strata_options *o);
/* The smallest capacity the cache gets under `budget`. */
size_t st_db_cache_floor(size_t budget);
/* The smallest budget that holds two memtables of write_buffer_size and the cache's share. */
size_t st_db_memory_budget_min(size_t write_buffer_size);
/* What the queued memtables (active and immutable) are charged. REQUIRES mu. */
size_t st_db_memtable_charge(const strata_db *db);
/* How many more memtables may be queued now, by max_immutable_memtables and the budget
 * (<= 0: a rotation must wait for a flush). REQUIRES mu. */
int st_db_rotations_left(const strata_db *db);
/* Give freed memory back to the system (st_alloc_return_free), at most once a second; for
 * background workers after a flush or compaction. */
void st_db_return_free(strata_db *db);
/* Size the block cache to the budget less the memtable charge. Takes budget_mu, then mu
 * briefly; call without mu. */
void st_db_fit_cache(strata_db *db);

/* ---- db_rotate.c ---- */
/* Rotate a full memtable (force: any non-empty one) and apply backpressure when background
 * work falls behind. REQUIRES: mu held by the commit-group leader; releases it while waiting and
 * for the rotation's disk work. */
int st_db_make_room(strata_db *db, int force);
/* Create a new WAL numbered db->next_file++ and make it active. REQUIRES: exclusive access
 * (open-time recovery). */
int st_db_new_wal(strata_db *db);

/* ---- db_write.c ---- */
int st_db_write(strata_db *db, const strata_write_options *wo, strata_batch *batch);
/* Apply an encoded batch to a memtable (used by the write path and recovery). */
int st_db_apply_batch(st_memtable *mem, const uint8_t *rep, size_t len, const char *what);

/* ---- db_install.c ---- */
/*
 * st_db_log_and_apply --
 *     Make `e` durable in the manifest, then install the version current - removed + added.
 *     `removed` tables are marked obsolete. Takes manifest_mu then mu. On failure sets
 *     bg_error (the manifest may hold a partial record) and leaves the current version.
 */
int st_db_log_and_apply(strata_db *db, st_version_edit *e);
/* The UCS picker's options for db now. */
void st_db_ucs_options(strata_db *db, st_ucs_options *u);
/* Describe v's tables for the picker (keys borrowed from v; the caller frees the array; NULL
 * when out of memory). REQUIRES mu (the compacting flags). */
st_ucs_table *st_db_ucs_tables(st_version *v);
/* UCS per-level summary of version v (pinned by the caller). Takes mu briefly. */
int st_db_level_stats(strata_db *db, st_version *v, st_ucs_level_stats *levels, size_t max,
                      size_t *nlevels, size_t *overlap);
/* Recompute db->read_overlap (UCS total overlap) and the read debt limit for the current
 * version. REQUIRES mu. */
void st_db_update_overlap(strata_db *db);

/* ---- db_flush.c ---- */
/* The table options of a flush or compaction output (bottommost: no older data below it). */
void st_db_sst_options(const strata_options *o, int bottommost, st_sst_options *s);
/* Write the memtable `mem` (not yet in any version), whose writes came from WALs up to number
 * max_wal, to tables and return their metadata. */
int st_db_write_level0(strata_db *db, st_memtable *mem, uint64_t max_wal, st_compact_job *job);
/* Flush the oldest immutable memtable and install the table. Called by a worker without mu. */
int st_db_flush_one(strata_db *db);

/* ---- db_compact.c ---- */
/*
 * st_db_run_picked --
 *     Ask the UCS picker for due work on the current version, skipping candidates of more than
 *     max_bytes input bytes (0: no limit), with st_ucs_options.read_threshold read_threshold,
 *     and run it. REQUIRES mu (released while the compaction runs). Returns 1 when a compaction
 *     ran, with its status in *status and its input bytes in *bytes; a failure becomes the
 *     background error unless the database is closing.
 */
int st_db_run_picked(strata_db *db, uint64_t max_bytes, int read_threshold, int *status,
                     uint64_t *bytes);
/* Merge every table of the current version into one sorted run when reads are due a merge
 * that no level's overlap offers. REQUIRES mu (released while it runs). Returns 1 when it ran;
 * flushes_before: the flushes done when the read debt started. */
int st_db_read_merge_all(strata_db *db, uint64_t flushes_before);
/*
 * st_db_compact_before_close --
 *     Run due compactions that are cheap (their inputs, and all of them together, at most a few
 *     MiB), so that sessions too short for background work still leave a bounded number of
 *     tables. REQUIRES: the workers are stopped. Best effort: a failure ends it and is not
 *     reported (the inputs stay live; files it leaves behind go at the next open).
 */
void st_db_compact_before_close(strata_db *db);
/* Compact every table overlapping [begin, end] (NULL: unbounded) into new tables, after
 * waiting for background compactions holding any of them (strata_compact_range; the caller
 * checked the arguments and flushed). */
int st_db_compact_range(strata_db *db, const void *begin, size_t blen, const void *end,
                        size_t elen);

/* ---- db_sched.c ---- */
int st_db_start_workers(strata_db *db);
void st_db_stop_workers(strata_db *db);
/* Flush every memtable holding writes made before the call, without waiting for memtables
 * filled later (which st_db_flush_all does: under steady writes it may wait long). */
int st_db_flush_now(strata_db *db);
/* Rotate the active memtable and wait until no memtable is queued or being flushed
 * (strata_flush). */
int st_db_flush_all(strata_db *db);
/* Wait until no background work is running or due (strata_wait_idle). */
int st_db_wait_idle(strata_db *db);
/* A read positioned in extra_runs sorted runs beyond the first (a seek, or a sample of a scan):
 * add it to the read debt and wake a worker when a read-triggered compaction becomes due. Takes
 * mu only then. */
void st_db_charge_reads(strata_db *db, uint64_t extra_runs);

/* ---- db_recover.c ---- */
/* Replay WALs into db->mem, set sequence and file numbers. */
int st_db_recover(strata_db *db);
/* Read the manifest, open its tables and replay the WALs into db->mem, writing, creating and
 * deleting nothing (read-only open). */
int st_db_recover_read_only(strata_db *db);
/* Remove files no version or log needs (REQUIRES: no background work running). */
void st_db_remove_obsolete_files(strata_db *db);

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

#endif
