/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ucs.h -- the Unified Compaction Strategy picker (after Cassandra 5.0's UCS; see
 * doc/compaction.md for the model and how strata maps it to byte-ordered keys).
 *
 * Pure logic over an array of table descriptors: no I/O, no threads, no database knowledge. The
 * caller describes every live table (including those already being compacted, marked
 * compacting=1) and gets back which tables to compact together and where to cut the outputs.
 *
 * Model in one paragraph. Each table has a density d = size / v, where v is the fraction of the
 * key space its [smallest, largest] range covers (positions: the 64 bits that follow the common
 * bit prefix of all live keys, zero padded, as a fraction of 2^64; v never below
 * ST_UCS_MIN_SPAN). Level n holds densities [m * prod_{i<n} f_i, m * prod_{i<=n} f_i) with m the
 * flush size and f_i the fan-out of level i (level 0 starts at 0). Within a level the tables are
 * grouped into overlap sets (maximal groups of tables that share a key); a set of at least t_i
 * tables triggers a compaction of its bucket (the set extended transitively with neighbouring
 * sets that share a table). The bucket with the highest overlap wins, ties to the lowest level.
 * Outputs are cut at the boundaries of S equal shards of the key space, S chosen from the
 * output density (the "full scheme": m, b, target size, growth lambda).
 *
 * Fragments. Overlap alone never merges key-disjoint tables (sequential inserts, many short
 * sessions, tiny flushes), so their number would grow without bound. A table is a *fragment*
 * when it is smaller than 1/F of the table UCS writes at its density, E(d) = min(d / S(d), target
 * size), F = fragment_inputs. When no overlap trigger is due, the picker merges a run of at least
 * F fragments that are consecutive in key order (among the fragments) into one table of at most
 * the target size: a run of pairwise key-disjoint tables whose largest is at most the sum of the
 * others (overlapping tables are the overlap trigger's; a grown fragment is not rewritten for a
 * few small ones), the longest; once 2F fragments exist and there is no such run, any run, the
 * cheapest per table removed. A settled tree therefore holds at most 2F - 1 fragments; the bound
 * on the whole table count is in doc/compaction.md section 4.
 *
 * Every pick has at least two inputs except a tombstone pick (which drops data): levels follow
 * from density, so a "trivial move" of one table to another level would change nothing, and the
 * picker never schedules a one-table rewrite with nothing to merge.
 *
 * Thread safety: every function is reentrant; the inputs are only read. Callers serialise
 * access to their own table array.
 * Errors: STRATA_INVALID for bad options or arguments (NULL pointers, n with NULL t), STRATA_NOMEM
 * when an allocation fails (nothing is leaked and *out is left empty). STRATA_NOTFOUND from
 * st_ucs_pick_compaction is a result: nothing is due.
 */
#ifndef ST_COMPACTION_UCS_H
#define ST_COMPACTION_UCS_H

#include <stddef.h>
#include <stdint.h>

/* Floor of a table's key-span fraction v (2^-40): a table of one key, or of keys that differ only
 * after the 64 position bits, still gets a finite density. */
#define ST_UCS_MIN_SPAN (1.0 / 1099511627776.0)

/* Levels above this are folded into it (unreachable in practice: f >= 2 and d <= 2^104). */
#define ST_UCS_MAX_LEVELS 64

/* Maximum log2 of a shard count (S <= 2^ST_UCS_MAX_SHARD_BITS). */
#define ST_UCS_MAX_SHARD_BITS 48

typedef struct st_ucs_options {
    /* Scaling parameter W per level; levels >= nscaling use scaling[nscaling - 1].
     * W < 0: leveled, fan-out f = 2 - W, threshold t = 2 (L10 is W = -8).
     * W > 0: tiered, f = t = 2 + W (T4 is W = 2). W = 0: f = t = 2 ("N").
     * Default {2} (T4): low write amplification, the Cassandra default. Range -126..126. */
    int scaling[8];
    int nscaling; /* 1..8; default 1 */
    /* b: base shard count once outputs reach m * b density; a power of two, 1..2^20. Default 4. */
    int base_shards;
    /* m: the expected flush output size in bytes, i.e. the density of a level-0 table and the
     * minimum output size the sharding aims for. Default 64 MiB (the default write buffer). The
     * caller should pass the observed average size of its flush outputs. */
    uint64_t flush_size;
    /* t: target output table size in bytes at density t * b. Default 64 MiB. */
    uint64_t target_size;
    /* lambda in [0, 1]: how much of density growth beyond t * b goes into table size rather than
     * shard count (0: fixed size t, 1: fixed b shards, 1/3: size grows as the cube root).
     * Default 0.333. */
    double growth;
    /* Cap on tables per compaction (>= 2). When a bucket holds more, the oldest max_inputs tables
     * (lowest max_seq) are taken so that time order is preserved. Default 32. */
    int max_inputs;
    /* F, the fragment trigger (0 disables; else 2..1024, used as min(F, max_inputs); default 4):
     * a table smaller than E(d) / F is a fragment, and F or more fragments that are consecutive
     * in key order among the fragments are merged (up to max_inputs of them and target_size
     * bytes) when no overlap trigger is due. See the model paragraph above. */
    int fragment_inputs;
    /* Skip any candidate whose inputs total more than this many bytes (0: no limit; default 0).
     * An overlap bucket is judged by all its tables, before the max_inputs cap. For work that
     * must stay cheap, e.g. while a database closes. */
    uint64_t max_input_bytes;
    /* Tombstone trigger (optional, 0 disables; default 0): when no overlap trigger is due, a
     * table with tombstones >= tombstone_ratio * entries whose key range overlaps no table that
     * holds older data (so rewriting it alone can drop its tombstones) is picked alone. The
     * caller must not report tombstones the rewrite cannot drop (e.g. pinned by a snapshot), or
     * the same table is picked again. */
    double tombstone_ratio;
    /* Read trigger (0 disables; else 2..126; default 0): every level's overlap threshold is at
     * most this. The caller sets it when reads have been paying for overlap (each seek
     * positions in every sorted run that may hold its key), so that a level's overlapping runs
     * are merged before the write-side threshold would merge them. */
    int read_threshold;
} st_ucs_options;

/* st_ucs_options_init -- the defaults listed above. */
void st_ucs_options_init(st_ucs_options *o);

/* One live table, as the picker sees it. The key pointers are borrowed for the call only. */
typedef struct st_ucs_table {
    uint64_t id;               /* file number (not interpreted; for the caller's bookkeeping) */
    uint64_t size;             /* bytes on disk */
    uint64_t min_seq, max_seq; /* sequence range; older = smaller max_seq */
    const uint8_t *smallest;   /* smallest key (smallest_len >= 0 bytes) */
    size_t smallest_len;
    const uint8_t *largest; /* largest key; must compare >= smallest (else the table is ignored) */
    size_t largest_len;
    int compacting; /* already an input of a running compaction: never picked */
    /* Optional tombstone trigger inputs (0/0 = unknown: never triggers). */
    uint64_t entries, tombstones;
} st_ucs_table;

/* Why a pick was made. */
enum { ST_UCS_REASON_OVERLAP = 0, ST_UCS_REASON_TOMBSTONES = 1, ST_UCS_REASON_FRAGMENTS = 2 };

/* One chosen compaction. Owned by the caller after a successful pick; free with
 * st_ucs_pick_free (which leaves it empty, so freeing twice is harmless). */
typedef struct st_ucs_pick {
    size_t *inputs; /* indexes into the caller's table array, oldest first (max_seq asc) */
    size_t ninputs;
    int level;      /* UCS level of the bucket (fragments: the level of the output density) */
    size_t overlap; /* size of the triggering overlap set (the largest in the bucket); 1 for a
                       tombstone pick, 0 for a fragment merge */
    int reason;     /* ST_UCS_REASON_* */
    /* Output sharding: the writer starts a new output table at the first key >= bounds[i].
     * bounds are ascending, each strictly greater than the inputs' smallest key and <= their
     * largest key (so no output is empty). Copies owned by the pick. A fragment merge has none:
     * its inputs total at most target_size bytes and become one table. */
    uint8_t **bounds;
    size_t *bound_lens;
    size_t nbounds;
    uint64_t shards;      /* S: shards of the whole key space at the output density */
    double density;       /* output density: total input bytes / key-span fraction */
    uint64_t input_bytes; /* total size of the inputs */
} st_ucs_pick;

void st_ucs_pick_free(st_ucs_pick *p);

/*
 * st_ucs_pick_compaction --
 *     Choose the best compaction among the n tables t[0..n-1]: STRATA_OK with *out filled,
 *     STRATA_NOTFOUND when nothing is due (*out empty), STRATA_INVALID, STRATA_NOMEM. Tables with
 *     compacting=1 are never picked (and do not count towards triggers); a bucket of one table is
 *     never picked for overlap. Order of the triggers: overlap, then fragments, then tombstones.
 *     *out need not be initialised on entry.
 */
int st_ucs_pick_compaction(const st_ucs_options *o, const st_ucs_table *t, size_t n,
                           st_ucs_pick *out);

/* Per-level summary for stats and write backpressure. */
typedef struct st_ucs_level_stats {
    int level;
    size_t tables;      /* tables at this level (compacting ones included) */
    uint64_t bytes;     /* their total size */
    size_t max_overlap; /* most tables of this level any single key falls into */
    size_t fragments;   /* tables of this level that are fragments (compacting ones included) */
    int fanout;         /* f of this level */
    int threshold;      /* t of this level */
} st_ucs_level_stats;

/*
 * st_ucs_stats --
 *     Fill levels[0..*nlevels-1] for levels 0 .. highest occupied level (empty intermediate
 *     levels included; at most max_levels entries, the rest dropped; levels may be NULL when
 *     max_levels is 0) and *total_overlap with the most tables, of all levels, that any single key
 *     falls into: the number of tables a point read may have to consult. n may be 0 (*nlevels =
 *     0, *total_overlap = 0). STRATA_OK, STRATA_INVALID, STRATA_NOMEM.
 */
int st_ucs_stats(const st_ucs_options *o, const st_ucs_table *t, size_t n,
                 st_ucs_level_stats *levels, size_t max_levels, size_t *nlevels,
                 size_t *total_overlap);

/*
 * st_ucs_output_bounds --
 *     The shard boundaries for writing size bytes of keys in [smallest, largest] (e.g. a flush)
 *     next to the live tables t[0..n-1] (which fix the position mapping; the new range is
 *     included in it). Same boundary contract as st_ucs_pick: bounds are st_malloc'ed copies,
 *     free each bounds[i], then bounds and bound_lens with st_free (or use st_ucs_bounds_free).
 *     *shards receives S. STRATA_OK, STRATA_INVALID, STRATA_NOMEM.
 */
int st_ucs_output_bounds(const st_ucs_options *o, const st_ucs_table *t, size_t n, uint64_t size,
                         const uint8_t *smallest, size_t smallest_len, const uint8_t *largest,
                         size_t largest_len, uint8_t ***bounds, size_t **bound_lens,
                         size_t *nbounds, uint64_t *shards);

void st_ucs_bounds_free(uint8_t **bounds, size_t *bound_lens, size_t nbounds);

/* Helpers exposed for tests and stats. */

/* Fan-out and threshold of a level under the options. */
int st_ucs_fanout(const st_ucs_options *o, int level);
int st_ucs_threshold(const st_ucs_options *o, int level);

/* The level of density d (bytes per unit key-span fraction). */
int st_ucs_level_of(const st_ucs_options *o, double density);

/* S, the number of shards of the whole key space for output density d (full scheme). */
uint64_t st_ucs_shard_count(const st_ucs_options *o, double density);

/* E(d) = min(d / S(d), target_size): the size of the table UCS writes at density d. A table of
 * density d is a fragment when its size is below E(d) / fragment_inputs. */
double st_ucs_expected_size(const st_ucs_options *o, double density);

/*
 * st_ucs_overlap_sets --
 *     The minimal list of overlap sets of t[0..n-1] (all tables, whatever their level or
 *     compacting flag; tables with largest < smallest are skipped), in key order: set i is
 *     (*members)[(*starts)[i] .. (*starts)[i + 1]), indexes into t. Free both arrays with st_free.
 *     STRATA_OK, STRATA_INVALID, STRATA_NOMEM.
 */
int st_ucs_overlap_sets(const st_ucs_table *t, size_t n, size_t **members, size_t **starts,
                        size_t *nsets);

#endif
