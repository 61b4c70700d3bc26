/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strata.h -- the whole public API of libstrata, an embedded crash-safe LSM-tree key-value store
 * whose on-disk tables are standard Apache Parquet files.
 *
 * Conventions that hold for every function below:
 *   - Every fallible call returns an int from the closed set STRATA_OK .. STRATA_DATALOSS.
 *     STRATA_NOTFOUND (and STRATA_DATALOSS, from strata_repair only) is a result, not a failure.
 * strata_errstr(rc) gives static text for a code, strata_errmsg(db) the detail message of the
 * calling thread's last failed call.
 *   - Out-parameters are set to NULL/0 on entry and filled only on success.
 *   - Keys are 1..STRATA_MAX_KEY_SIZE arbitrary bytes (embedded NULs allowed; the empty key is
 *     rejected), values 0..STRATA_MAX_VALUE_SIZE arbitrary bytes. Larger ones give STRATA_INVALID.
 *   - Keys are ordered bytewise (memcmp, shorter prefix first).
 *   - Misuse that can be detected (NULL handle, NULL required pointer, a handle already closed)
 *     returns STRATA_INVALID instead of crashing. A closed handle is detected on a best-effort
 *     basis only: never use a handle after strata_close().
 *   - Thread safety: all functions on one strata_db may be called from many threads at once.
 *     A strata_iter and a strata_batch are single-threaded objects: use each from one thread at
 *     a time. Snapshots may be shared between threads.
 *   - Memory returned to the caller is released with strata_free() (and only with it).
 */
#ifndef STRATA_STRATA_H
#define STRATA_STRATA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(STRATA_BUILDING_LIBRARY) && defined(__GNUC__)
#define STRATA_API __attribute__((visibility("default")))
#else
#define STRATA_API
#endif

/* ---------------------------------------------------------------------------------------------
 * Version
 * ------------------------------------------------------------------------------------------- */
#define STRATA_VERSION_MAJOR 0
#define STRATA_VERSION_MINOR 1
#define STRATA_VERSION_PATCH 0
#define STRATA_VERSION_STRING "0.1.0"
#define STRATA_VERSION_NUMBER                                                                      \
    (STRATA_VERSION_MAJOR * 10000 + STRATA_VERSION_MINOR * 100 + STRATA_VERSION_PATCH)

/* Returns STRATA_VERSION_STRING of the linked library; fills any non-NULL out-parameter. */
STRATA_API const char *strata_version(int *major, int *minor, int *patch);

/* ---------------------------------------------------------------------------------------------
 * Return codes (a closed set; new codes are only ever appended)
 * ------------------------------------------------------------------------------------------- */
enum {
    STRATA_OK = 0,        /* success */
    STRATA_NOTFOUND = 1,  /* key absent (a result, never sets the error message) */
    STRATA_INVALID = 2,   /* bad argument or misuse: NULL pointer, oversized key, closed handle */
    STRATA_IOERR = 3,     /* the operating system reported an I/O error */
    STRATA_CORRUPT = 4,   /* a checksum, magic number or structure on disk is wrong */
    STRATA_NOMEM = 5,     /* memory allocation failed */
    STRATA_NOSPC = 6,     /* the disk is full (ENOSPC / EDQUOT) */
    STRATA_BUSY = 7,      /* the database is locked by another process (or handle) */
    STRATA_READONLY = 8,  /* writes refused after an earlier unrecoverable background error */
    STRATA_NOTSUP = 9,    /* a feature or on-disk format version this build does not support */
    STRATA_INTERNAL = 10, /* an internal invariant failed (a bug: please report it) */
    STRATA_DATALOSS = 11  /* strata_repair finished, but data may have been lost (a result) */
};
#define STRATA_RC_COUNT 12

/* Static, never-NULL text naming a return code ("STRATA_OK: success", ...). Thread-safe. */
STRATA_API const char *strata_errstr(int rc);

/* ---------------------------------------------------------------------------------------------
 * Limits
 * ------------------------------------------------------------------------------------------- */
#define STRATA_MAX_KEY_SIZE (64u * 1024u)            /* 64 KiB */
#define STRATA_MAX_VALUE_SIZE (256u * 1024u * 1024u) /* 256 MiB */

/* ---------------------------------------------------------------------------------------------
 * Handles (opaque)
 * ------------------------------------------------------------------------------------------- */
typedef struct strata_db strata_db;
typedef struct strata_iter strata_iter;
typedef struct strata_batch strata_batch;
typedef struct strata_snapshot strata_snapshot;

/* ---------------------------------------------------------------------------------------------
 * Options. Always initialise with the matching *_init function, then change fields.
 *
 * Versioned structs: strata_options, strata_read_options, strata_write_options and strata_stats
 * begin with struct_size, and new fields are only ever appended. A struct_size of an older
 * release of this header (a program built against an older strata.h) is accepted: for the
 * option structs the fields past it take their defaults and nothing past it is read; an output
 * struct (strata_stats) is filled only as far as it reaches. The accepted values are exactly
 * the sizeof of each released layout (0 also means "this header's"); any other value gives
 * STRATA_INVALID. Fields that an older layout held in its tail padding are not read from a
 * struct of that older size (see doc/design.md, "Versioned structs").
 * ------------------------------------------------------------------------------------------- */
enum { STRATA_MEMTABLE_SKIPLIST = 0, STRATA_MEMTABLE_TRIE = 1 };
enum {
    STRATA_COMPRESSION_NONE = 0,
    STRATA_COMPRESSION_SNAPPY = 1,
    STRATA_COMPRESSION_ZSTD = 2,
    STRATA_COMPRESSION_LZ4 = 3 /* Parquet LZ4_RAW: a bare LZ4 block per page */
};
enum {
    STRATA_WAL_RECOVERY_TOLERATE_TAIL = 0, /* drop a torn tail (reported), fail on mid-log damage */
    STRATA_WAL_RECOVERY_STRICT = 1,        /* any damage, even a torn tail, fails the open */
    STRATA_WAL_RECOVERY_SKIP_CORRUPT =
        2 /* skip damaged records anywhere (reported); may lose data */
};

typedef struct strata_options {
    size_t struct_size;          /* set by strata_options_init; lets the struct grow */
    int create_if_missing;       /* default 1: create the directory and database if absent */
    int error_if_exists;         /* default 0 */
    int memtable_kind;           /* STRATA_MEMTABLE_*; default TRIE */
    size_t write_buffer_size;    /* bytes per memtable before it is flushed; default 16 MiB */
    int max_immutable_memtables; /* queued memtables before writes stall; default 4 */
    int wal_recovery_mode;       /* STRATA_WAL_RECOVERY_*; default TOLERATE_TAIL */
    int compression;             /* STRATA_COMPRESSION_*, see bottommost_compression; default LZ4 */
    int compression_level;       /* codec level (zstd: 1..19); default 1 */
    size_t block_cache_size;     /* the cache's share of the default memory_budget; 32 MiB */
    int bloom_bits_per_key;      /* 0 disables the key bloom filter; default 10 */
    size_t page_size;        /* target uncompressed bytes of a page (all columns of its rows) in the
                              * tables `compression` is used for; default 4 KiB */
    size_t target_file_size; /* target table size for compaction outputs; default 64 MiB */
    int background_threads;  /* flush + compaction workers; default 2 */
    /* Unified Compaction Strategy scaling parameters, one per level, the last repeating:
     * w < 0 leveled (fan-out 2-w), w > 0 tiered (fan-out 2+w), 0 in between. Default {2} (T4). */
    int ucs_scaling[8];
    int ucs_scaling_count; /* entries used in ucs_scaling; default 1 */
    int ucs_base_shards;   /* base shard count of compaction outputs; default 4 */
    /* Most tables kept open at once (file descriptor, mapping, parsed footer, bloom filters and
     * page index); the least recently used are closed beyond it and reopened on demand.
     * 0 = no limit. Default 1000. */
    int max_open_files;
    /* Codecs, as in RocksDB: `compression` is used for memtable flushes and for compaction
     * outputs that still have older data under them (cheap to decompress on a cache miss);
     * bottommost_compression for compaction outputs whose inputs include every table holding
     * older data in their key range, as a full strata_compact_range does, where most of a
     * settled database lives. STRATA_COMPRESSION_*; default LZ4. ZSTD makes such tables about
     * a fifth smaller but every page read from them ~9x dearer to decompress (doc/format_sst.md,
     * "Table profile"). */
    int bottommost_compression;
    /* default 0. 1: open an existing database for reading only (see strata_open). */
    int read_only;
    /* Keeps sizeof distinct from the previous layout's (read_only would otherwise sit in its
     * tail padding, where an older caller's struct holds garbage). Set to 0. */
    int reserved_;
    /* page_size of the tables bottommost_compression is used for, where size matters more than
     * the cost of a cache miss (a codec compresses bigger pages better). 0 = page_size.
     * Default 8 KiB. */
    size_t bottommost_page_size;
    /* Bytes of memory for the memtables (active and immutable) and the block cache (decoded
     * pages, and the bloom filters and page indexes of open tables) together. Each memtable is
     * charged write_buffer_size from its start (its actual size once larger) and the cache gets
     * the rest, never less than an eighth: a memtable rotation that would charge more waits for
     * a flush (writes slow down, then stop; they never fail). When writes stop the cache gets the
     * flushed memtables' share back. 0 (default) = block_cache_size + 2 x write_buffer_size
     * (64 MiB at the defaults). When set, it must be at least 16/7 x write_buffer_size (two
     * memtables and the cache's eighth) and block_cache_size is not used. strata stats shows
     * where the memory goes. */
    size_t memory_budget;
} strata_options;

typedef struct strata_read_options {
    size_t struct_size;              /* set by strata_read_options_init */
    const strata_snapshot *snapshot; /* NULL: read the latest committed state */
    /* Default 1: every table page read from disk has its Parquet page CRC checked (a mismatch
     * gives STRATA_CORRUPT). Tables are read through a read-only mapping, and a page is checked
     * the first time it is read through the mapping of an open table, not again on later reads;
     * compactions check every page they rewrite, and strata_check every page. 0: reads may skip
     * that check (faster, damage goes unnoticed); pages read unchecked are never put in the block
     * cache, so other reads still see checked pages only. Pages already in the cache were checked
     * when they were read. */
    int verify_checksums;
    /* Default 1: keep pages read by this call (strata_get or an iterator) in the block cache.
     * 0: use pages already cached but do not add new ones (for scans that would evict the
     * working set). */
    int fill_cache;
    /* Optional iterator bounds: lower inclusive, upper exclusive. NULL = unbounded. The memory
     * must stay valid for the life of the iterator. Ignored by strata_get. */
    const void *lower_bound;
    size_t lower_bound_len;
    const void *upper_bound;
    size_t upper_bound_len;
    /* ---- added after 0.1.0 (see the versioned structs above) ---- */
    /* Optional key prefix for iterators: only keys starting with these prefix_len bytes are
     * yielded, in both directions; seeks are clamped into the prefix. Combined with the bounds
     * above (the narrower wins). NULL/0 = no prefix. Copied at strata_iter_open. Ignored by
     * strata_get. */
    const void *prefix;
    size_t prefix_len;
} strata_read_options;

typedef struct strata_write_options {
    size_t struct_size; /* set by strata_write_options_init */
    /* 0 (default): the write reached the operating system before the call returns, so it survives
     * a crash of the process but may be lost if the machine loses power.
     * 1: the WAL is fsync'ed before the call returns, so the write survives a machine crash.
     * Concurrent writers share one write() and one fsync (group commit). */
    int sync;
    int disable_wal; /* default 0. 1: the write is lost on any crash until the next flush */
} strata_write_options;

STRATA_API void strata_options_init(strata_options *o);
STRATA_API void strata_read_options_init(strata_read_options *o);
STRATA_API void strata_write_options_init(strata_write_options *o);
/* The same for a struct of `size` bytes (the caller's sizeof): only those bytes are written (the
 * fields that fit get their defaults, struct_size = size). The macros below send every call
 * compiled against this header through them with this header's sizeof, so that a newer library,
 * whose structs are larger, never writes past a program's struct. NULL or size <
 * sizeof(size_t) is a no-op. */
STRATA_API void strata_options_init_sized(strata_options *o, size_t size);
STRATA_API void strata_read_options_init_sized(strata_read_options *o, size_t size);
STRATA_API void strata_write_options_init_sized(strata_write_options *o, size_t size);
#define strata_options_init(o) strata_options_init_sized((o), sizeof(strata_options))
#define strata_read_options_init(o) strata_read_options_init_sized((o), sizeof(strata_read_options))
#define strata_write_options_init(o)                                                               \
    strata_write_options_init_sized((o), sizeof(strata_write_options))

/* ---------------------------------------------------------------------------------------------
 * Lifecycle
 * ------------------------------------------------------------------------------------------- */

/*
 * strata_open --
 *     Open (creating if missing and allowed) the database in directory `path`, recovering it from
 *     its manifest and write-ahead logs. `opts` NULL means defaults. On success *out owns the
 *     handle until strata_close(). Only one handle in one process may have a database open.
 *     With opts->read_only = 1 the database must exist and is opened for reading only: a shared
 *     lock (any number of read-only handles and processes at once, none while a writer has it
 *     open), the write-ahead logs replayed into memory only, nothing written or removed, no
 *     background work; writes, flushes and compactions return STRATA_READONLY.
 *     Errors: INVALID (arguments, options), BUSY (locked by another process or handle),
 *     NOTFOUND (missing and create_if_missing == 0), CORRUPT (damaged manifest or WAL),
 *     NOTSUP (newer on-disk format), IOERR (also: the directory's parent does not exist; the
 *     message names the path), NOSPC, NOMEM.
 */
STRATA_API int strata_open(const char *path, const strata_options *opts, strata_db **out);

/*
 * strata_close --
 *     Wait for background work, sync, release the lock and free `db`. A running flush completes;
 *     a running compaction is cancelled unless its inputs total at most 4 MiB, and due
 *     compactions of at most 4 MiB of input in all are run before returning, so that many short
 *     sessions cannot pile up tables (doc/compaction.md). All iterators must be closed and all
 *     snapshots released first (otherwise STRATA_BUSY and nothing is closed). The handle is
 *     invalid afterwards even when an I/O error is returned.
 */
STRATA_API int strata_close(strata_db *db);

/* ---------------------------------------------------------------------------------------------
 * Writes. `wopts` NULL means defaults. Errors: INVALID, READONLY, IOERR, NOSPC, NOMEM.
 * READONLY's message names the first background error that caused it, code and detail:
 * "read-only after background error: NOSPC: ...".
 * ------------------------------------------------------------------------------------------- */
STRATA_API int strata_put(strata_db *db, const strata_write_options *wopts, const void *key,
                          size_t klen, const void *val, size_t vlen);
STRATA_API int strata_delete(strata_db *db, const strata_write_options *wopts, const void *key,
                             size_t klen);
/*
 * strata_delete_range --
 *     Delete every key in [begin, end) (begin inclusive, end exclusive, bytewise order) as one
 *     small write: a range tombstone, whatever the number of keys it covers. Keys written after
 *     it (higher sequence numbers) are not affected; snapshots taken before it still see the
 *     deleted keys. Gets, iterators in both directions, checkpoints and the SQL view apply it;
 *     compaction drops the covered data and, once nothing older remains under it, the tombstone
 *     (doc/design.md, "Range deletes"). begin and end follow the key rules; begin >= end (an
 *     empty or reversed range) is INVALID with a message.
 */
STRATA_API int strata_delete_range(strata_db *db, const strata_write_options *wopts,
                                   const void *begin, size_t blen, const void *end, size_t elen);

/* Batches: an ordered list of puts, deletes and range deletes applied atomically by
 * strata_write(). A batch is owned by the caller and may be reused after strata_batch_clear().
 * Later entries win: a range delete removes the keys put earlier in the same batch, a put after
 * it survives. Batch calls return INVALID for bad arguments and NOMEM. */
STRATA_API strata_batch *strata_batch_new(void); /* NULL on NOMEM; free with strata_batch_free */
STRATA_API int strata_batch_put(strata_batch *b, const void *key, size_t klen, const void *val,
                                size_t vlen);
STRATA_API int strata_batch_delete(strata_batch *b, const void *key, size_t klen);
/* Range delete of [begin, end) (see strata_delete_range); INVALID when begin >= end. */
STRATA_API int strata_batch_delete_range(strata_batch *b, const void *begin, size_t blen,
                                         const void *end, size_t elen);
STRATA_API void strata_batch_clear(strata_batch *b);
STRATA_API size_t strata_batch_count(const strata_batch *b);
STRATA_API void strata_batch_free(strata_batch *b); /* NULL is a no-op */
/* Apply every entry of `b` or none of them, even across a crash. `b` is not modified. */
STRATA_API int strata_write(strata_db *db, const strata_write_options *wopts, strata_batch *b);

/* ---------------------------------------------------------------------------------------------
 * Reads
 * ------------------------------------------------------------------------------------------- */

/*
 * strata_get --
 *     Look `key` up. On STRATA_OK *val is a new malloc'ed copy of *vlen bytes owned by the caller
 *     (free with strata_free; a 0-byte value still yields a non-NULL pointer). STRATA_NOTFOUND
 *     when absent or deleted. `ropts` NULL means defaults.
 *     Errors: INVALID, CORRUPT, IOERR, NOMEM.
 */
STRATA_API int strata_get(strata_db *db, const strata_read_options *ropts, const void *key,
                          size_t klen, void **val, size_t *vlen);
STRATA_API void strata_free(void *p); /* NULL is a no-op */

/* ---------------------------------------------------------------------------------------------
 * Iterators: a consistent point-in-time view (the snapshot in ropts, else the state when opened).
 * An open iterator keeps the versions it can show from being compacted away, and each seek moves
 * it onto the database's current tables at the same point in time: a long-lived iterator reads
 * the merged tables and does not hold obsolete files (they are deleted at its next seek). The
 * snapshot in ropts may be released while the iterator is open.
 * ------------------------------------------------------------------------------------------- */
/* Errors: INVALID (also a lower bound after the upper bound: a reversed range), NOMEM. */
STRATA_API int strata_iter_open(strata_db *db, const strata_read_options *ropts, strata_iter **out);
STRATA_API void strata_iter_seek(strata_iter *it, const void *key, size_t klen); /* first >= key */
STRATA_API void strata_iter_seek_for_prev(strata_iter *it, const void *key,
                                          size_t klen); /* last <= key */
STRATA_API void strata_iter_seek_first(strata_iter *it);
STRATA_API void strata_iter_seek_last(strata_iter *it);
STRATA_API void strata_iter_next(strata_iter *it); /* REQUIRES: valid */
STRATA_API void strata_iter_prev(strata_iter *it); /* REQUIRES: valid */
STRATA_API int strata_iter_valid(const strata_iter *it);
/* Borrowed pointers, owned by the iterator: valid until the next move or close. */
STRATA_API const void *strata_iter_key(const strata_iter *it, size_t *klen);
STRATA_API const void *strata_iter_value(const strata_iter *it, size_t *vlen);
/* STRATA_OK, or the error that made the iterator invalid (CORRUPT, IOERR, NOMEM). */
STRATA_API int strata_iter_status(const strata_iter *it);
STRATA_API void strata_iter_close(strata_iter *it); /* NULL is a no-op */

/* ---------------------------------------------------------------------------------------------
 * Snapshots: a frozen view of the database. Owned by the database; release each exactly once
 * with strata_snapshot_release() before strata_close(). NULL on NOMEM or a bad handle.
 * ------------------------------------------------------------------------------------------- */
STRATA_API const strata_snapshot *strata_snapshot_get(strata_db *db);
STRATA_API void strata_snapshot_release(strata_db *db, const strata_snapshot *snap);
STRATA_API uint64_t strata_snapshot_sequence(const strata_snapshot *snap);

/* ---------------------------------------------------------------------------------------------
 * Checkpoints, read-only open and destroy (doc/analytics.md)
 * ------------------------------------------------------------------------------------------- */

/*
 * strata_checkpoint --
 *     Write a consistent point-in-time copy of the open database `db` into the new directory
 *     `dir`, without stopping writers: the memtables are flushed, the current table set is
 *     pinned (compaction cannot delete it meanwhile), each table is hard-linked into `dir`
 *     (copied where the file system cannot link), and a fresh manifest naming exactly those
 *     tables and their sequence number is written, so strata_open(dir) opens it as an ordinary
 *     database holding every write whose sequence number is at most the checkpoint's
 *     ("strata.sequence" of the opened checkpoint). `dir` also receives strata.sql, the SQL
 *     script of the property "strata.sql-view". The checkpoint is built in "<dir>.tmp" and
 *     renamed to `dir` when complete, so after a crash `dir` is either absent (or still empty)
 *     or a complete checkpoint; a leftover "<dir>.tmp" is removed by the next checkpoint to
 *     `dir`. The source is never modified except by the flush.
 *     A read-only handle can be checkpointed only when its logs held no unflushed writes.
 *     Errors: INVALID (NULL arguments; `dir` exists and is not an empty directory; the message
 *     names it), READONLY (a read-only handle with unflushed writes, or a background error),
 *     IOERR (also: the parent of `dir` does not exist), NOSPC, NOMEM.
 */
STRATA_API int strata_checkpoint(strata_db *db, const char *dir);

/*
 * strata_destroy --
 *     Remove the database in directory `path`: its tables, logs, manifests, CURRENT, LOCK,
 *     strata.sql and the temporary files strata writes, then the directory itself when nothing
 *     else is left in it. Files strata does not own are left alone (and keep the directory).
 *     A missing directory is STRATA_OK. `opts` is unused (may be NULL).
 *     Errors: BUSY (the database is open, by this or another process), IOERR, NOMEM.
 */
STRATA_API int strata_destroy(const char *path, const strata_options *opts);

/* ---------------------------------------------------------------------------------------------
 * Maintenance and introspection
 * ------------------------------------------------------------------------------------------- */

/* Flush every memtable to a table and wait until it is durable. */
STRATA_API int strata_flush(strata_db *db);
/* Compact the key range [begin, end] (NULL = open end) and wait for it: memtables are flushed,
 * background compactions holding tables of the range are waited for, then every table
 * overlapping the range is rewritten as one sorted run (shadowed versions and, with no snapshot
 * needing them, tombstones dropped). begin after end (a reversed range) is INVALID. */
STRATA_API int strata_compact_range(strata_db *db, const void *begin, size_t blen, const void *end,
                                    size_t elen);
/* Wait until no background flush or compaction is queued or running. */
STRATA_API int strata_wait_idle(strata_db *db);

/*
 * strata_repair --
 *     Repair the (closed) database at `path` so that it opens again, salvaging everything that
 *     can still be read, in the spirit of SQLite's .recover:
 *       - the manifest is rebuilt from the tables' own Parquet footers;
 *       - every table is verified completely. A damaged table of ours is rebuilt from every row
 *         whose pages still pass their checksums (tombstones and range tombstones included, so
 *         deleted keys stay deleted), found by walking the file's pages when its footer cannot be
 * read (the keys after the last salvaged one then count as possibly lost, unless what is left of
 *         the footer confirms the row count and key bounds). A foreign Parquet file
 *         (no strata metadata) is adopted only when every row obeys the rules (sorted by key
 *         then newest seqno first, keys within the footer's bounds, 1..STRATA_MAX_KEY_SIZE-byte
 *         keys, kind 0 or 1, seqnos in 0..2^56-1, a value for every put), else rejected with
 *         the rule and the row in the report;
 *       - write-ahead logs that read cleanly are replayed at the next open; when one is
 *         damaged (header or mid-log record), every record that still verifies, of every live
 *         log, is rewritten in order into one new log;
 *       - originals that were replaced or rejected are moved to `path`/lost/.
 *     `opts` is unused (may be NULL). *report (may be NULL) receives a malloc'ed text
 *     describing what was found and done, ending with every key range whose writes or deletes
 *     may have been lost (a deleted key there may show an older value again); free it with
 *     strata_free. It is set on every return, failures included.
 *     Returns STRATA_OK when nothing was lost, STRATA_DATALOSS when the database was repaired
 *     but some key range may have lost data (the message gives their count, the report names
 *     them). Errors: BUSY (the database is open), NOTFOUND, IOERR, NOSPC, NOMEM.
 */
STRATA_API int strata_repair(const char *path, const strata_options *opts, char **report);

/*
 * strata_check --
 *     Verify the (closed) database at `path` without changing it: CURRENT and every manifest
 *     record, every write-ahead log record, every page checksum and the structure of every table,
 *     and that the manifest and the tables agree. STRATA_OK when everything is consistent,
 *     STRATA_CORRUPT when a problem was found; *report (may be NULL) lists findings by file
 *     (free with strata_free). Errors: BUSY (open elsewhere), NOTFOUND, IOERR, NOMEM.
 */
STRATA_API int strata_check(const char *path, char **report);

/*
 * strata_property --
 *     Text about the database. Names: "strata.stats" (human-readable summary), "strata.tables"
 *     (one line per table), "strata.memtable-bytes", "strata.sequence", "strata.wal-bytes",
 *     "strata.sql-view" (the SQL script of doc/analytics.md defining the views kv and kv_versions
 *     over the current tables, with paths relative to the database directory; a checkpoint's
 *     strata.sql holds the same text).
 *     *out is a malloc'ed NUL-terminated string owned by the caller (strata_free).
 *     Errors: INVALID (unknown name), NOMEM.
 */
STRATA_API int strata_property(strata_db *db, const char *name, char **out);

/* ---------------------------------------------------------------------------------------------
 * Operational API: numeric statistics and approximate sizes.
 * ------------------------------------------------------------------------------------------- */

/*
 * strata_stats -- the figures of the "strata.stats" property as numbers. Counters (_total in
 * `strata stats --prometheus`) count since strata_open; the rest are the state at the call.
 * Times are in microseconds. Versioned by struct_size like the option structs: set it (or call
 * strata_stats_init) before strata_get_stats.
 */
typedef struct strata_stats {
    size_t struct_size;
    uint64_t sequence;                 /* last sequence number written */
    uint64_t memtable_bytes;           /* bytes in the active memtable */
    uint64_t memtable_entries;         /* entries in the active memtable */
    uint64_t immutable_memtables;      /* memtables waiting to be flushed */
    uint64_t immutable_memtable_bytes; /* bytes in them */
    uint64_t wal_number;               /* file number of the active write-ahead log */
    uint64_t wal_bytes;                /* bytes in it */
    uint64_t wal_records;              /* WAL records written */
    uint64_t wal_syncs;                /* WAL fsyncs */
    uint64_t commit_groups;            /* commit groups (writers sharing one WAL write) */
    uint64_t write_batches;            /* write batches committed */
    uint64_t user_bytes;               /* key and value bytes written by users */
    uint64_t gets;                     /* point lookups */
    uint64_t gets_found;               /* point lookups that found the key */
    uint64_t recovered_records;        /* WAL records replayed by the open */
    uint64_t recovered_entries;        /* entries replayed by the open */
    uint64_t recovery_dropped_bytes;   /* damaged WAL tail bytes dropped by the open */
    uint64_t recovery_micros;          /* time the open spent recovering */
    uint64_t open_iterators;
    uint64_t open_snapshots;
    uint64_t running_flushes;
    uint64_t running_compactions;
    uint64_t tables;            /* live tables */
    uint64_t table_bytes;       /* bytes in live tables */
    uint64_t table_entries;     /* entries in live tables (tombstones included) */
    uint64_t table_tombstones;  /* tombstones in live tables */
    uint64_t sorted_runs;       /* the read amplification of a point read */
    uint64_t table_cache_open;  /* tables with an open reader */
    uint64_t table_cache_limit; /* max_open_files (0: no limit) */
    uint64_t table_cache_opens;
    uint64_t table_cache_evictions;
    uint64_t level_overlap; /* total overlap of the compaction levels */
    uint64_t flushes;
    uint64_t flush_bytes; /* table bytes written by flushes */
    uint64_t flush_micros;
    uint64_t compactions;
    uint64_t compaction_bytes_in;
    uint64_t compaction_bytes_out;
    uint64_t compaction_micros;
    uint64_t stalls;    /* writes stopped until a flush or compaction finished */
    uint64_t slowdowns; /* writes slowed down */
    uint64_t stall_micros;
    uint64_t cache_bytes; /* block cache usage */
    uint64_t cache_capacity;
    uint64_t cache_hits;
    uint64_t cache_misses;
    double write_amplification; /* (flush_bytes + compaction_bytes_out) / user_bytes; 0 if none */
    int background_error; /* STRATA_OK, or the sticky error that made writes return READONLY */
    int reserved;         /* 0; keeps the struct free of tail padding */
    /* Compactions started because reads were paying for overlapping sorted runs (counted in
     * compactions too): seeks and scans that position in more than one run build a debt, and
     * past one per 16 KiB of tables the runs of a level are merged (doc/compaction.md). */
    uint64_t read_compactions;
    /* The memory budget (strata_options.memory_budget, or the default derived from the other
     * options), what its memtables are charged now, and the cache's pinned bytes (table
     * metadata and pages in use; part of cache_bytes). cache_capacity is the budget less the
     * memtable charge. */
    uint64_t memory_budget;
    uint64_t memtable_charge;
    uint64_t cache_pinned;
} strata_stats;

STRATA_API void strata_stats_init(strata_stats *s); /* zeroes *s and sets struct_size */
STRATA_API void strata_stats_init_sized(strata_stats *s, size_t size); /* as the options' */
#define strata_stats_init(s) strata_stats_init_sized((s), sizeof(strata_stats))

/*
 * strata_get_stats --
 *     Fill *out with the database's statistics. out->struct_size must be set (strata_stats_init);
 *     an older, smaller struct is filled only up to its size, and out->struct_size is set to the
 *     number of bytes filled; a larger struct (built against a newer header) gets the fields
 *     this library knows and zeros after them. On error *out is not modified.
 *     Errors: INVALID (NULL pointer, closed handle, struct_size 0 or no released layout's size).
 */
STRATA_API int strata_get_stats(strata_db *db, strata_stats *out);

/*
 * strata_approximate_size --
 *     *bytes = an estimate of the table file bytes holding keys in [begin, end) (begin
 *     inclusive, end exclusive; NULL = open end). Tables wholly inside the range count their
 *     whole file size; a table the range cuts counts the share of its data pages (from the
 *     Parquet page index, page granularity) in the range. Memtables are not counted (flush
 *     first to include them). Reads only in-memory metadata and already opened table footers,
 *     opening a table through the table cache when needed. Errors: INVALID, IOERR, CORRUPT,
 *     NOMEM.
 */
STRATA_API int strata_approximate_size(strata_db *db, const void *begin, size_t blen,
                                       const void *end, size_t elen, uint64_t *bytes);

/*
 * strata_errmsg --
 *     Detail message of the calling thread's most recent failed strata call (any handle; `db` may
 *     be NULL, for instance after a failed strata_open). Thread-local, static storage: valid until
 *     the next strata call on this thread. Never NULL ("" when there is none).
 */
STRATA_API const char *strata_errmsg(strata_db *db);

#ifdef __cplusplus
}
#endif
#endif /* STRATA_STRATA_H */
