/* SPDX-License-Identifier: Apache-2.0 */
/*
 * compaction.h -- writing sorted entries out as tables: the job shared by memtable flushes and
 * compactions.
 *
 * A job reads one merged input iterator (entry order: key asc, seq desc) and writes the entries
 * that must survive into new tables, cut at target_file_size (never between two versions of one
 * key). What survives, for each key, is the newest version in each snapshot stripe: with live
 * snapshots s0 < s1 < ... the stripes are (-inf, s0], (s0, s1], ..., (s_last, +inf); within a
 * stripe only the newest version can ever be read. A tombstone in the oldest stripe is dropped
 * too when the caller says nothing older can exist outside the job's inputs
 * (may_drop_tombstone), and with it every older version of its key.
 *
 * Range tombstones (compaction_rangedel.c): the inputs' tombstones (rdels) delete every version
 * they cover that is older and in the same snapshot stripe; they are written into every output
 * they overlap, clipped to its key interval (the outputs' cut points: shard boundaries, or the
 * first key of the next output), and dropped in the oldest stripe when nothing older can exist
 * outside the inputs in their range (may_drop_range).
 *
 * Thread safety: a job is run by one thread; it touches only its own files.
 */
#ifndef ST_COMPACTION_COMPACTION_H
#define ST_COMPACTION_COMPACTION_H

#include "version/version.h"

typedef struct st_compact_job {
    /* inputs */
    st_env *env;
    const char *dir;
    st_sst_options sst;
    /* The outputs are the bottom of their key range (nothing older lives under them): a put
     * that every snapshot sees (stripe 0) is written with sequence number 0, as RocksDB does at
     * its bottommost level. Readers then skip such a table's seqno pages
     * (doc/format_sst.md "Sequence number 0"). */
    int zero_seqs;
    uint64_t target_file_size;
    st_iter *input;            /* owned by the job: closed by st_compact_run */
    const uint64_t *snapshots; /* ascending sequence numbers of live snapshots */
    size_t nsnapshots;
    /* NULL = never drop tombstones. Else 1 when no table outside the inputs may hold a version
     * of key older than seq. */
    int (*may_drop_tombstone)(void *arg, const uint8_t *key, size_t klen, uint64_t seq);
    /* NULL = never drop range tombstones. Else 1 when no table outside the inputs may hold a
     * version older than seq of a key in [begin, end). Called with drop_arg. */
    int (*may_drop_range)(void *arg, const uint8_t *begin, size_t blen, const uint8_t *end,
                          size_t elen, uint64_t seq);
    void *drop_arg;
    /* The inputs' range tombstones (borrowed; NULL = none). */
    const st_rdel_set *rdels;
    uint64_t (*new_file_number)(void *arg); /* allocates output file numbers */
    void *fnum_arg;
    const char *producer_note; /* optional footer pair strata-job=<note> (e.g. "flush") */
    /* Lineage, written to every output's footer so that strata_repair can tell live tables from
     * leftovers (doc/format_manifest.md "Repair"): the newest WAL whose data the outputs hold
     * (strata-max-wal, 0 = none) and the tables they replace (strata-replaces, comma-separated
     * file numbers; NULL = none). */
    uint64_t max_wal;
    const char *replaces;
    /* Optional: when *cancel becomes non-zero the run stops with STRATA_BUSY (close). */
    const _Atomic int *cancel;
    /* Optional shard boundaries (ascending): a new output starts at the first key >= bounds[i]
     * (UCS sharding). Borrowed for the run. */
    uint8_t *const *bounds;
    const size_t *bound_lens;
    size_t nbounds;

    /* results (valid after a successful run; free with st_compact_job_free) */
    st_table_meta *outputs;
    size_t noutputs;
    uint64_t entries_in, entries_out, bytes_out;
    uint64_t range_dels_dropped, covered_dropped; /* range tombstones / covered versions dropped */
} st_compact_job;

/*
 * st_compact_run --
 *     Run the job. On success the output tables are durable files (fsync'ed, renamed, directory
 *     fsync'ed) described in job->outputs. On failure every output file is removed.
 */
int st_compact_run(st_compact_job *job);

void st_compact_job_free(st_compact_job *job);

/* Remove output table fnum of the job's directory (best effort: a failure is not reported). */
void st_compact_remove_table(const st_compact_job *job, uint64_t fnum);

/*
 * st_compact_run_parts --
 *     Run jobs[0..n) at once, each on a thread of its own (the caller's thread runs the first):
 *     the parts of one compaction, each reading the inputs' keys in a range of its own, so their
 *     outputs are key-disjoint and in order. On success every part's outputs are durable; on
 *     failure every output of every part is removed and the first failure is returned.
 */
int st_compact_run_parts(st_compact_job *jobs, size_t n);

/* ---- range tombstones of a job (compaction_rangedel.c) ------------------------------------ */

typedef struct st_compact_rdels {
    const st_rdel_set *set; /* job->rdels */
    uint8_t *keep;          /* per raw tombstone: 1 when it survives the job */
} st_compact_rdels;

/* Decide which of job->rdels survive. NOMEM only. */
int st_compact_rdels_init(st_compact_rdels *r, st_compact_job *job);
void st_compact_rdels_free(st_compact_rdels *r);
/* 1 when a range tombstone of the job deletes the version (key, seq) for every reader: a newer
 * one covering key in seq's snapshot stripe. */
int st_compact_rdels_covers(const st_compact_rdels *r, const st_compact_job *job,
                            const uint8_t *key, size_t klen, uint64_t seq);
/* 1 when some surviving tombstone overlaps [lo, hi) (NULL = open). */
int st_compact_rdels_any(const st_compact_rdels *r, const uint8_t *lo, size_t lolen,
                         const uint8_t *hi, size_t hilen);
/* Add the surviving tombstones clipped to [lo, hi) to b; returns the builder's status. */
int st_compact_rdels_emit(const st_compact_rdels *r, st_sst_builder *b, const uint8_t *lo,
                          size_t lolen, const uint8_t *hi, size_t hilen);
/* Index of the snapshot stripe holding seq (compaction.c). */
size_t st_compact_stripe_of(const st_compact_job *job, uint64_t seq);

/* Convert an sst summary to manifest metadata for table fnum (copies the keys). */
int st_table_meta_from_sst(st_table_meta *m, uint64_t fnum, const st_sst_meta *sm);

#endif
