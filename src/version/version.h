/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version.h -- tables, versions, version edits and the manifest.
 *
 * A *table* (st_table) is one immutable Parquet table file plus its metadata and an open reader.
 * A *version* (st_version) is an immutable set of tables. Both are reference-counted: a read,
 * an iterator or a compaction pins the version it started on, and each version pins its tables.
 * When a table leaves the current version (compaction) it is marked obsolete; its file is deleted
 * when its last reference goes, so no reader ever loses a file under it.
 *
 * Thread safety: refcounts are atomic; versions and tables are immutable after creation except
 * for the `obsolete` and `compacting` flags, which the database changes under its mutex.
 */
#ifndef ST_VERSION_VERSION_H
#define ST_VERSION_VERSION_H

#include "cache/cache.h"
#include "env/env.h"
#include "iter/iter.h"
#include "iter/rangedel_iter.h"
#include "sst/sst.h"
#include "util/buf.h"

#include <stdatomic.h>
#include <stdint.h>

/* What the manifest knows about a table (format_manifest.md, add_table). */
typedef struct st_table_meta {
    uint64_t fnum, file_size, entries, tombstones, min_seq, max_seq, created_us;
    uint8_t *smallest, *largest; /* owned */
    size_t smallest_len, largest_len;
    uint32_t file_crc; /* CRC-32C of the whole file, when has_file_crc */
    int has_file_crc;  /* recorded by the writer (manifest tag 64); 0 for tables adopted
                          without one, e.g. by an older strata */
} st_table_meta;

void st_table_meta_free(st_table_meta *m);
int st_table_meta_copy(st_table_meta *dst, const st_table_meta *src);

/* The bounded set of open table readers of one database (table_cache.c). */
typedef struct st_table_cache st_table_cache;

/* Shared context of the tables of one database (not owned by tables). */
typedef struct st_table_ctx {
    st_env *env;
    const char *dir;
    st_cache *cache;    /* decoded pages */
    st_table_cache *tc; /* open readers */
} st_table_ctx;

/*
 * A table of a version. Its metadata is always in memory; its reader (fd, mapping, parsed
 * footer, bloom filters and page index) is opened on demand through the table cache and may be
 * closed again when the cache evicts it (a read that holds a reader reference keeps using it).
 */
typedef struct st_table {
    _Atomic long refs;
    st_table_meta m;
    const st_table_ctx *ctx;
    _Atomic int obsolete; /* delete the file at the last unref */
    int compacting;       /* [db mu] an input of a running compaction */
    uint64_t range_dels;  /* range tombstones in the file (footer, read at st_table_open) */
    /* table cache state (table_cache.c) */
    st_sst_reader *reader;        /* [shard lock] open reader, NULL while evicted */
    _Atomic int used;             /* CLOCK reference bit */
    struct st_table *prev, *next; /* [tc mu] ring of tables with an open reader */
    int in_ring;                  /* [tc mu] */
} st_table;

/*
 * st_table_open --
 *     A table for m->fnum (taking a copy of m) with one reference. The file is opened and its
 *     footer checked against m once here: CORRUPT / IOERR when it is missing or damaged, or when
 *     the footer disagrees with m (size, entries, key range). The reader then stays in the table
 *     cache until evicted.
 */
int st_table_open(const st_table_ctx *ctx, const st_table_meta *m, st_table **out);
void st_table_ref(st_table *t);
void st_table_unref(st_table *t); /* at 0: close the reader; delete the file if obsolete */

/*
 * st_table_reader --
 *     The table's reader with a new reference for the caller (release it with
 *     st_sst_reader_unref), reopening the file (and re-checking it against the metadata) when
 *     the table cache had closed it. Safe from any thread; the caller holds a table reference.
 */
int st_table_reader(st_table *t, st_sst_reader **out);

/* ---- table cache (table_cache.c) --------------------------------------------------------- */

/* A cache keeping at most max_open readers open (0 = no limit), closing the least recently
 * used (CLOCK) beyond that. Readers still referenced by a read stay valid after eviction. */
int st_table_cache_new(size_t max_open, st_table_cache **out);
/* REQUIRES: every table of the cache has been unreferenced. NULL is a no-op. */
void st_table_cache_free(st_table_cache *tc);
/* Readers open now and the limit. */
void st_table_cache_stats(st_table_cache *tc, size_t *open, size_t *limit, uint64_t *opens,
                          uint64_t *evictions);

/* Table cache internals for version.c: attach a freshly opened reader (taking over its
 * reference) / detach a dying table. */
void st_table_cache_attach(st_table *t, st_sst_reader *r);
void st_table_cache_detach(st_table *t);
/* The table's open reader with a new reference, or NULL when it is not open. */
st_sst_reader *st_table_cache_peek(st_table *t);
/* Bloom filter check through the open reader without taking a reference: 0 when the table
 * certainly lacks key, 1 when it may hold it, -1 when the reader is not open. */
int st_table_cache_may_contain(st_table *t, const uint8_t *key, size_t klen);

/* ---- versions and sorted runs ------------------------------------------------------------ */

/*
 * A sorted run: tables whose key ranges are pairwise disjoint, in ascending key order, so at
 * most one of them can hold a given key. Flush outputs and the sharded outputs of one
 * compaction form runs; the version partitions its tables into the fewest runs (greedy interval
 * partitioning by smallest key), which is exactly the largest number of tables whose ranges
 * share one key: the read amplification of a point read.
 */
typedef struct st_run {
    st_table **t; /* ascending, key-disjoint (borrowed from the version) */
    size_t n;
    uint64_t min_seq, max_seq, bytes;
} st_run;

typedef struct st_version {
    _Atomic long refs;
    st_table **t; /* sorted by max_seq descending (newest data first) */
    size_t n;
    uint64_t bytes; /* sum of file sizes */
    st_run *runs;   /* partition of t into sorted runs, newest max_seq first */
    size_t nruns;
    st_table **run_tables; /* storage of the runs' table arrays */
    /* The newest sequence number whose effect the tables hold: the manifest's last_seq when the
     * version was installed (0 from st_version_new; the db sets it). It can exceed every
     * table's max_seq: a compaction drops the newest entries when they are tombstones with
     * nothing older under them, and their sequence numbers then survive only here. */
    uint64_t last_seq;
    size_t range_del_tables; /* tables holding range tombstones (0: reads skip that logic) */
} st_version;

/* A new version over tables t[0..n) (each gains a reference; the array is copied). */
int st_version_new(st_table *const *t, size_t n, st_version **out);
void st_version_ref(st_version *v);
void st_version_unref(st_version *v); /* NULL is a no-op */

/* Index of the first table of run r whose largest key is >= key (r->n when none). */
size_t st_run_find(const st_run *r, const uint8_t *key, size_t klen);
/* The first index i in [lo, hi) whose table's bound (smallest key when by_smallest, else
 * largest) is >= key, or > key when past_equal; hi when none. */
size_t st_run_search(const st_run *r, size_t lo, size_t hi, const uint8_t *key, size_t klen,
                     int by_smallest, int past_equal);

/*
 * st_version_get --
 *     Newest entry for key with seq <= snap among v's tables (at most one table per run is
 *     consulted). STRATA_OK with *kind, *seq and the value in val (for a PUT), STRATA_NOTFOUND
 *     when no table has the key, or an I/O error. flags: ST_SST_ITER_FILL_CACHE, ST_SST_SKIP_CRC
 *     (sst/sst.h). *consulted (may be NULL): the tables looked at, bloom filter or pages.
 */
int st_version_get(st_version *v, const uint8_t *key, size_t klen, uint64_t snap, int flags,
                   int *kind, st_buf *val, uint64_t *seq, size_t *consulted);

/* One iterator per sorted run that may hold keys in [lower, upper) (NULL = open); a run's
 * iterator concatenates its tables and opens each only when it reaches it (it holds a
 * reference on v). A run with one table in range gets that table's iterator, which holds a
 * reference on the table's reader. *its is a new st_malloc'ed array of *n iterators owned by
 * the caller. flags: ST_SST_ITER_FILL_CACHE, ST_SST_SKIP_CRC (sst/sst.h). */
int st_version_iters(st_version *v, const uint8_t *lower, size_t llen, const uint8_t *upper,
                     size_t ulen, int flags, st_iter ***its, size_t *n);

/* An iterator over the tables of run `run` of v (the concatenation; see st_version_iters). */
int st_run_iter_new(st_version *v, size_t run, const uint8_t *lower, size_t llen,
                    const uint8_t *upper, size_t ulen, int flags, st_iter **out);

/* *bytes = an estimate of the table bytes of v holding keys in [lower, upper) (NULL = open):
 * whole files for tables inside the range, st_sst_reader_approximate_size for tables it cuts
 * (opening them through the table cache). version_size.c. */
int st_version_approximate_size(st_version *v, const uint8_t *lower, size_t llen,
                                const uint8_t *upper, size_t ulen, uint64_t *bytes);

/* ---- range tombstones over a version (version_rangedel.c) --------------------------------- */

/* *cover = the newest seq <= snap of the range tombstones of v's tables covering key (0: none).
 * Consults, in each run, the one table whose key range holds key, when it has any. *newest
 * (newest may be NULL) = the largest max_seq of those candidate tables: when it is at most
 * *cover, no table holds a version of key that the tombstone leaves visible (seqnos are
 * unique, so a table whose newest row is the tombstone itself holds nothing newer). */
int st_version_range_del_cover(st_version *v, const uint8_t *key, size_t klen, uint64_t snap,
                               uint64_t *cover, uint64_t *newest);
/* *out = a set of every range tombstone with seq <= snap of the tables of v that overlap
 * [lower, upper) (NULL = open), with one reference for the caller; NULL when there is none. */
int st_version_range_del_set(st_version *v, const uint8_t *lower, size_t llen, const uint8_t *upper,
                             size_t ulen, uint64_t snap, st_rdel_set **out);
/* The range tombstones of table t (a new set with one reference for the caller, NULL when t
 * has none). */
int st_table_range_del_set(st_table *t, st_rdel_set **out);

/* Seq bound of the entries of run `run` near key, for iter/rangedel_iter.h: the table of the
 * run holding key gives its max_seq and key range. arg is the st_run. */
void st_run_seq_bound(void *arg, const uint8_t *key, size_t klen, struct st_rdel_bound *out);

/* ---- version edits (edit.c) -------------------------------------------------------------- */

typedef struct st_version_edit {
    int snapshot; /* the edit holds the complete state */
    int has_log_number, has_next_file, has_last_seq;
    uint64_t log_number, next_file, last_seq;
    st_table_meta *added; /* owned array */
    size_t nadded;
    uint64_t *removed; /* owned array */
    size_t nremoved;
} st_version_edit;

void st_edit_init(st_version_edit *e);
void st_edit_free(st_version_edit *e);
int st_edit_add_table(st_version_edit *e, const st_table_meta *m); /* copies m */
int st_edit_remove_table(st_version_edit *e, uint64_t fnum);
/* Encode; with_header prepends the manifest header field (first edit of a manifest). */
int st_edit_encode(const st_version_edit *e, int with_header, st_buf *out);
/* Decode into e (initialised by the caller); *had_header tells whether the header was present.
 * `what` names the source in error messages. */
int st_edit_decode(const uint8_t *p, size_t n, st_version_edit *e, int *had_header,
                   const char *what);

/* ---- manifest (manifest.c) ----------------------------------------------------------------- */

/* The durable state described by a manifest. */
typedef struct st_manifest_state {
    st_table_meta *tables; /* owned; unordered */
    size_t ntables;
    uint64_t log_number, next_file, last_seq;
    uint64_t manifest_number;
    uint64_t dropped_bytes; /* torn tail dropped during recovery */
} st_manifest_state;

void st_manifest_state_free(st_manifest_state *s);
/* Apply an edit to a state; CORRUPT on inconsistency (what names the source). */
int st_manifest_state_apply(st_manifest_state *s, const st_version_edit *e, const char *what);

typedef struct st_manifest st_manifest;

/*
 * st_manifest_create --
 *     Write a new MANIFEST-<number> holding a snapshot of `state`, sync it and the directory, and
 *     switch CURRENT to it atomically. The previous manifest (if any) is not removed.
 */
int st_manifest_create(st_env *env, const char *dir, uint64_t number,
                       const st_manifest_state *state, st_manifest **out);
/* Append one edit and sync it. Errors are sticky. */
int st_manifest_append(st_manifest *m, const st_version_edit *e);
uint64_t st_manifest_size(const st_manifest *m);
uint64_t st_manifest_number(const st_manifest *m);
int st_manifest_close(st_manifest *m); /* NULL is a no-op */

/*
 * st_manifest_recover --
 *     Read CURRENT and the manifest it names into *state. STRATA_NOTFOUND when there is no
 *     CURRENT (a new database), CORRUPT / NOTSUP / IOERR otherwise.
 */
int st_manifest_recover(st_env *env, const char *dir, st_manifest_state *state);

#endif
