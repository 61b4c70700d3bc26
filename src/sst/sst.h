/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst.h -- sorted tables (SSTables): one Apache Parquet file per table.
 *
 * A table holds entries (key, seqno, kind, value) sorted by key ascending, then seqno descending
 * (the st_iter entry order of iter/iter.h). Format: doc/format_sst.md. The builder writes a new
 * table; the reader serves point lookups, iterators and verification over a finished one.
 *
 * Errors: functions return STRATA_OK or a STRATA_* code with the thread's detail message set
 * (naming the file and, for damaged bytes, the offset). Damaged or foreign-but-invalid files give
 * STRATA_CORRUPT, never a crash; valid Parquet outside the supported profile gives STRATA_NOTSUP.
 *
 * Thread safety: a builder is used by one thread. A reader is immutable once opened and may be
 * used by any number of threads at once (get, may_contain, iter, meta, ref/unref); each
 * iterator is single-threaded. The st_cache passed to the reader must outlive it.
 */
#ifndef ST_SST_SST_H
#define ST_SST_SST_H

#include "cache/cache.h"
#include "env/env.h"
#include "iter/iter.h"
#include "iter/rangedel.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct st_sst_options {
    int compression;        /* STRATA_COMPRESSION_*; default ZSTD */
    int compression_level;  /* zstd level; default 1 (ignored by the other codecs) */
    size_t page_size;       /* target uncompressed bytes per page of all columns together (pages
                               of every column are cut at the same rows); default 8 KiB */
    size_t row_group_size;  /* target uncompressed key+value bytes per row group; default 16 MiB */
    int bloom_bits_per_key; /* 0 = no bloom filter; default 10 (~1% false positives) */
} st_sst_options;

/* Fill o with the defaults above. */
void st_sst_options_init(st_sst_options *o);

/* One caller-supplied footer pair (NUL-terminated UTF-8 strings, owned by the meta). */
typedef struct st_sst_prop {
    char *key;
    char *value;
} st_sst_prop;

/*
 * st_sst_meta -- the summary of a table. Every pointer is owned by the struct and released by
 * st_sst_meta_free (which leaves a zeroed struct). smallest/largest are NULL for an empty table.
 */
typedef struct st_sst_meta {
    uint64_t file_size;
    uint32_t file_crc32c;      /* CRC-32C of the whole file, when has_file_crc32c */
    int has_file_crc32c;       /* set by the builder only: a reader cannot know it (the footer
                                  cannot hold its own checksum) */
    uint64_t entries;          /* rows (range tombstones included) */
    uint64_t tombstones;       /* rows with kind = ST_KIND_DELETE */
    uint64_t range_tombstones; /* rows with kind = ST_KIND_RANGE_DELETE (the last row group) */
    uint64_t min_seq, max_seq;
    uint64_t created_us; /* wall clock at build time */
    uint8_t *smallest;   /* first key */
    size_t smallest_len;
    uint8_t *largest; /* last key */
    size_t largest_len;
    st_sst_prop *props; /* caller pairs from st_sst_builder_set_meta, in insertion order */
    size_t nprops;
    int foreign; /* the footer has no strata.* metadata: a Parquet file another tool wrote */
} st_sst_meta;

void st_sst_meta_free(st_sst_meta *m);
/* The value of caller pair `key`, or NULL. */
const char *st_sst_meta_prop(const st_sst_meta *m, const char *key);

/* ---- builder ------------------------------------------------------------------------------- */

typedef struct st_sst_builder st_sst_builder;

/*
 * st_sst_builder_new --
 *     Start a table that will appear at `path` (conventionally "<n>.parquet") when finished. Data
 *     is written to path + ".tmp" meanwhile. o may be NULL (defaults). On success *out owns the
 *     temp file; end it with st_sst_builder_finish or st_sst_builder_abandon.
 */
int st_sst_builder_new(st_env *env, const char *path, const st_sst_options *o,
                       st_sst_builder **out);

/* Add an extra footer pair (key must not start with "strata."; both valid UTF-8, copied). */
int st_sst_builder_set_meta(st_sst_builder *b, const char *key, const char *value);

/*
 * st_sst_builder_add --
 *     Append an entry. REQUIRES entries in strictly increasing entry order (key asc, seq desc);
 *     kind ST_KIND_PUT or ST_KIND_DELETE (val ignored for deletes); 1 <= klen <= 64 KiB.
 *     A violation or an I/O error makes the builder fail: the first error is sticky and is
 *     returned by st_sst_builder_status and st_sst_builder_finish; later adds are ignored.
 */
void st_sst_builder_add(st_sst_builder *b, const uint8_t *key, size_t klen, uint64_t seq, int kind,
                        const uint8_t *val, size_t vlen);

/*
 * st_sst_builder_add_range_del --
 *     Add the range tombstone [begin, end) at seq (any time before finish, in any order; copied).
 *     Range tombstones are written at finish as the table's last row group (kind 2, key = begin,
 *     value = end), and the table's key bounds grow to cover them: smallest <= begin, largest
 *     >= end (the exclusive end is the inclusive bound recorded). begin >= end or bad limits
 *     fail the builder (sticky, returned).
 */
int st_sst_builder_add_range_del(st_sst_builder *b, const uint8_t *begin, size_t blen,
                                 const uint8_t *end, size_t elen, uint64_t seq);

/* The sticky status: STRATA_OK or the first error. */
int st_sst_builder_status(const st_sst_builder *b);
/* Entries added so far (range tombstones included). */
uint64_t st_sst_builder_entries(const st_sst_builder *b);

/* Current estimate of the finished file size in bytes (for splitting compaction outputs). */
uint64_t st_sst_builder_estimated_size(const st_sst_builder *b);

/*
 * st_sst_builder_finish --
 *     Write the last pages, bloom filters, page index and footer, fsync the temp file and rename
 *     it to path. Does NOT sync the directory (the caller does, once per batch of files).
 *     Frees b in every case; on failure the temp file is removed. meta_out (may be NULL) receives
 *     the table summary (caller frees it with st_sst_meta_free); if only that copy fails
 *     (STRATA_NOMEM) the table itself is complete at path.
 */
int st_sst_builder_finish(st_sst_builder *b, st_sst_meta *meta_out);

/* Remove the temp file and free b. NULL is a no-op. */
void st_sst_builder_abandon(st_sst_builder *b);

/* ---- reader -------------------------------------------------------------------------------- */

typedef struct st_sst_reader st_sst_reader;

/*
 * st_sst_reader_open --
 *     Open a finished table: validates the footer and the page index once and keeps the key
 *     bloom filters and page indexes in memory (their size is charged to cache as one pinned
 *     entry, released by the last unref). cache may be NULL (no caching: every lookup decodes
 *     its pages). Decoded pages are cached under a key prefixed by st_cache_new_id(cache), so
 *     tables never collide; pages of a closed reader are not erased eagerly, they age out of
 *     the LRU. Also reads Parquet files written by other tools in the same schema (see
 *     doc/format_sst.md). The new reader holds one reference.
 */
int st_sst_reader_open(st_env *env, const char *path, st_cache *cache, st_sst_reader **out);

/* The table summary (valid for the reader's lifetime). */
const st_sst_meta *st_sst_reader_meta(const st_sst_reader *r);

/* The table's range tombstones, loaded and checked at open (fragmented; borrowed: valid while
 * the caller holds a reference on r, or take a reference with st_rdel_set_ref to keep it
 * longer; immutable), or NULL when the table has none. Point lookups and
 * iterators of the reader never return them (sst_rangedel.c). */
st_rdel_set *st_sst_reader_range_dels(const st_sst_reader *r);

/* Flags of st_sst_reader_get and st_sst_reader_iter. */
#define ST_SST_ITER_FILL_CACHE 1 /* keep the pages the read decodes in the cache */
#define ST_SST_ITER_LAZY_VALUES                                                                    \
    2 /* entries come with lazy_val set: the value page is decoded                                 \
         only by st_iter_value (iter/iter.h); iterators only */
#define ST_SST_SKIP_CRC                                                                            \
    4 /* pages read from the file skip their page CRC check; such pages are never put in the       \
         cache (pages found there were checked) */
/* Pages read from the file are checked even when an earlier read of this open table checked them
 * (by default a mapped table's page is checked on its first read only): compaction inputs, so
 * that data is checked against the file right before it is rewritten. */
#define ST_SST_CHECK_ALWAYS 16
/* st_sst_reader_get only: st_sst_reader_may_contain has just returned 1 for this key, so the key
 * range and bloom filter are not checked again. */
#define ST_SST_FILTER_PASSED 8

/*
 * st_sst_reader_get --
 *     The newest entry for key with seq <= snap_seq: STRATA_OK with *kind, *seq and the value
 *     copied into val (val is cleared first; empty for tombstones), or STRATA_NOTFOUND. kind, val
 *     and seq may be NULL if not wanted. flags: ST_SST_ITER_FILL_CACHE, ST_SST_SKIP_CRC,
 *     ST_SST_FILTER_PASSED.
 */
int st_sst_reader_get(st_sst_reader *r, const uint8_t *key, size_t klen, uint64_t snap_seq,
                      int flags, int *kind, st_buf *val, uint64_t *seq);

/* 0 when the table certainly holds no entry for key (key range, then bloom filter), else 1. */
int st_sst_reader_may_contain(st_sst_reader *r, const uint8_t *key, size_t klen);

/*
 * st_sst_reader_iter --
 *     An internal iterator (iter/iter.h) over the entries with lower <= key < upper (either bound
 *     may be NULL = unbounded; the bound memory must outlive the iterator). Row groups and pages
 *     outside the bounds are skipped using the page index. flags: ST_SST_ITER_* (0: no cache
 *     fill, values loaded with every entry). The iterator holds a reference on r.
 */
int st_sst_reader_iter(st_sst_reader *r, const uint8_t *lower, size_t llen, const uint8_t *upper,
                       size_t ulen, int flags, st_iter **out);

/*
 * st_sst_reader_approximate_size --
 *     *bytes = an estimate of the bytes of the file holding entries with lower <= key < upper
 *     (NULL = unbounded): row groups wholly inside count whole, a row group the range cuts counts
 *     the share of its rows in the key pages that may hold such keys (key ColumnIndex; half the
 *     row group without one); the footer and index are shared out in proportion. Reads nothing.
 */
int st_sst_reader_approximate_size(st_sst_reader *r, const uint8_t *lower, size_t llen,
                                   const uint8_t *upper, size_t ulen, uint64_t *bytes);

/*
 * st_sst_reader_split_keys --
 *     Up to parts - 1 keys, ascending, that cut the table's rows into about equal parts: the
 *     largest keys of the pages before the cuts (key ColumnIndex maxima; a row group's smallest
 *     key at a row group's start). Returns how many (fewer for a small table; 0 without key
 *     statistics). The keys are borrowed from r.
 */
int st_sst_reader_split_keys(const st_sst_reader *r, size_t parts, const uint8_t **keys,
                             size_t *lens);

void st_sst_reader_ref(st_sst_reader *r);
/* Drop a reference; the last one closes the file and frees the reader. NULL is a no-op. */
void st_sst_reader_unref(st_sst_reader *r);

/*
 * st_sst_verify --
 *     Check a table completely: footer, page index, every page's CRC and encoding, entry order
 *     and the strata.* metadata counts. Appends a human-readable report to `report` (may be
 *     NULL). STRATA_OK when everything is consistent, else the first error's code.
 */
int st_sst_verify(st_env *env, const char *path, st_buf *report);

/*
 * st_sst_salvage --
 *     Read every row of a (possibly damaged) table that can still be read, for repair (range
 *     tombstones last, as entries of kind ST_KIND_RANGE_DELETE with val = end): pages
 *     whose checksum or encoding fails are skipped, as are rows that break the row rules (kind,
 *     seqno, key length, a put without value) or the entry order. The pages are found through
 *     the footer's page index; when the footer cannot be read (truncated file, damaged footer or
 *     metadata), or its page index loses rows that walking the pages salvages, by walking the
 *     file's page headers from its start instead (*walked = 1; see doc/format_sst.md, Salvage).
 *     ops->entry receives each salvaged row in entry order (its pointers are valid during the
 *     call; a non-OK return stops the salvage with that code); ops->lost receives each run of
 *     rows that were not salvaged: `rows` rows known to be lost, `more` = 1 when an unknown
 *     number of further rows (maybe none) may be lost too, inclusive bounds [lo, hi] of the
 *     keys they may hold (NULL = unbounded at that end: below or above every key the salvage
 *     read) and the first reason. Returns STRATA_OK when the file was read to its end (whatever
 *     was lost), NOMEM, an I/O error, or ops->entry's error.
 */
typedef struct st_sst_salvage_ops {
    int (*entry)(void *arg, const uint8_t *key, size_t klen, uint64_t seq, int kind,
                 const uint8_t *val, size_t vlen);
    void (*lost)(void *arg, const uint8_t *lo, size_t lolen, const uint8_t *hi, size_t hilen,
                 uint64_t rows, int more, const char *why);
    void *arg;
} st_sst_salvage_ops;

int st_sst_salvage(st_env *env, const char *path, const st_sst_salvage_ops *ops, int *walked);

#endif
