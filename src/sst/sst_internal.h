/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_internal.h -- the reader's in-memory structures and its row cursor, shared by the files of
 * src/sst: sst_open.c (opening), sst_pages.c (pages into memory), sst_reader.c (the cursor),
 * sst_get.c (point lookups), sst_iter.c, sst_verify.c and the salvage files.
 *
 * A cursor is a position (row group, row) plus one pinned decoded page per column. It belongs to
 * one thread; the reader it points into is immutable and shared.
 */
#ifndef ST_SST_SST_INTERNAL_H
#define ST_SST_SST_INTERNAL_H

#include "parquet/page.h"
#include "parquet/parquet.h"
#include "sst/sst.h"
#include "sst/sst_format.h"
#include "util/arena.h"

#include <stdatomic.h>

/*
 * The crc argument of the page loaders (st_sst_load_page and the functions beside it) and a
 * cursor's crc. A page of a table read through its mapping is checked once per open table: its
 * bit in st_sst_rg.checked then says so.
 */
#define ST_SST_CRC_SKIP 0  /* pages read from the file skip their CRC check (never cached) */
#define ST_SST_CRC_ONCE 1  /* checked unless an earlier read of this open table checked it */
#define ST_SST_CRC_EVERY 2 /* checked on every read from the file */

/* The crc mode of st_sst_reader_get / st_sst_reader_iter flags. */
static inline int
st_sst_crc_mode(int flags)
{
    return (flags & ST_SST_SKIP_CRC)       ? ST_SST_CRC_SKIP
           : (flags & ST_SST_CHECK_ALWAYS) ? ST_SST_CRC_EVERY
                                           : ST_SST_CRC_ONCE;
}

/* Pages per block of the two-level key page search (kmax_top). */
#define ST_SST_TOP_BLOCK 16

typedef struct st_sst_rg {
    int64_t num_rows;
    st_pq_bytes kmin, kmax; /* key chunk statistics */
    int has_kbounds;
    const st_pq_column_meta *cm[ST_SST_NCOLS];
    st_pq_column_desc desc[ST_SST_NCOLS];
    st_pq_offset_index oi[ST_SST_NCOLS]; /* from the file, or built by walking page headers */
    int64_t dict_off[ST_SST_NCOLS];      /* dictionary page header offset, -1 = none */
    int64_t chunk_end[ST_SST_NCOLS];
    st_pq_column_index kci; /* key ColumnIndex: maxs, npages and boundary_order only (mins,
                               null_pages and null_counts are NULL: sst_open.c load_key_index) */
    int has_kci;
    /* has_kci: bytes every key of the row group starts with (the common prefix of its key bounds
     * and every page maximum; kmin.p holds them): the page search compares what follows */
    uint32_t pfx_skip;
    uint64_t *kmax_pfx; /* has_kci: big-endian 8 bytes (0-padded) of each page's max key after
                           its first pfx_skip bytes */
    uint64_t *kmax_top; /* kmax_pfx of the last page of each block of ST_SST_TOP_BLOCK pages */
    uint32_t ntop;
    /* strata's own files: the seqno or kind column whose chunk statistics say every row holds
     * one value (known[c], that value known_val[c]); readers take it from there and never read
     * the column's pages (the writer makes such a chunk a single page) */
    uint8_t known[ST_SST_NCOLS];
    int64_t known_val[ST_SST_NCOLS];
    int aligned; /* the pages of every column but the known ones start at the same rows (strata's
                    own files) */
    const uint8_t *bloom; /* key bloom bitset, NULL = none */
    size_t bloom_len;
    /* Mapped tables only (else NULL): one bit per data page of each column, set once the page's
     * CRC has passed on a read through the mapping; later reads of the page skip the check
     * (sst_pages.c). The verifier checks every page regardless. */
    _Atomic uint64_t *checked[ST_SST_NCOLS];
} st_sst_rg;

struct st_sst_reader {
    st_env *env;
    char *path;
    st_file *file;
    uint64_t file_size;
    const uint8_t *map; /* the whole file mapped read-only when the env can (NULL: read_at) */
    st_cache *cache;
    uint64_t cache_id;
    st_cache_handle *meta_handle;
    atomic_int refs;
    st_arena *arena;
    st_pq_file_meta fm;
    st_sst_rg *rgs;
    uint32_t nrgs;
    st_sst_meta meta;
    int strata_meta; /* the footer has strata.* metadata (else derived: tombstones unknown) */
    /* Range tombstones (sst_rangedel.c): when meta.range_tombstones > 0 they are row group
     * rdel_rg, the last one, and nrgs counts only the point row groups before it. */
    uint32_t rdel_rg;
    st_rdel_set *rdels; /* loaded at open, NULL when none (or not loaded: ST_SST_OPEN_RAW) */
};

/* Flags of st_sst_reader_open_flags. */
#define ST_SST_OPEN_RAW 1 /* do not load the range tombstones (verify and salvage read them) */
int st_sst_reader_open_flags(st_env *env, const char *path, st_cache *cache, int flags,
                             st_sst_reader **out);

/*
 * st_sst_range_dels_read --
 *     Read the range tombstone row group of r (r->rdel_rg; REQUIRES meta.range_tombstones > 0)
 *     row by row, checking each (kind 2, key and end of 1..64 KiB, begin < end, seqno in range,
 *     order begin ascending then seqno descending, within the table's key bounds). fn receives
 *     each row (NULL: only check). CORRUPT names the file and the row.
 */
int st_sst_range_dels_read(st_sst_reader *r, int (*fn)(void *arg, const st_rdel *t), void *arg);
/* Load r->rdels (called by the open). */
int st_sst_range_dels_load(st_sst_reader *r);

/*
 * A pinned decoded page (cached: h != NULL; private: h == NULL and pg owned; bundled: a page of
 * the cursor's page bundle, owned by the bundle).
 */
typedef struct st_sst_pref {
    st_pq_page *pg;
    st_cache_handle *h;
    int bundled;
    uint32_t g, idx;    /* row group, page number in the chunk */
    int64_t first, end; /* rows [first, end) relative to the row group */
} st_sst_pref;

/*
 * Read-ahead window of one column chunk for sequential iteration: bytes [off, off + len) of the
 * file. It grows from one page to ST_SST_READAHEAD_MAX while the cursor keeps asking for the
 * page right after it, so a seek reads little and a scan issues few, large reads.
 */
#define ST_SST_READAHEAD_MAX (256u * 1024u)
typedef struct st_sst_ra {
    uint8_t *buf;
    size_t cap, len;
    int64_t off;
    size_t next; /* size of the next window */
} st_sst_ra;

/*
 * The decoded key, seqno and kind pages of one page number of a row group whose columns' pages
 * are aligned: the unit point lookups and iterator seeks cache (one cache entry per page
 * number). The value page is not part of it (pg[ST_SST_COL_VALUE] is NULL): it is decoded and
 * cached on its own, only for rows whose value is read.
 */
typedef struct st_sst_bundle {
    st_pq_page *pg[ST_SST_NCOLS];
    int packed; /* the pages live in the bundle's own allocation (st_sst_load_bundle) */
} st_sst_bundle;

typedef struct st_sst_cursor {
    st_sst_reader *r;
    int fill_cache;
    int crc;       /* ST_SST_CRC_* for the pages it reads (ST_SST_CRC_ONCE after init) */
    int readahead; /* iterate with read-ahead windows (iterators; not point lookups) */
    st_sst_ra ra[ST_SST_NCOLS];
    int valid;
    int status;
    uint32_t g;
    int64_t row;
    st_sst_pref p[ST_SST_NCOLS];
    /* the page bundle a seek positioned on (pinned while a column's page is bundled) */
    st_sst_bundle *b;
    st_cache_handle *bh; /* cached bundle, or NULL when b is private to the cursor */
    uint32_t bg, bidx;
    /*
     * The first value page after a seek, when it missed the cache and was not admitted, is read
     * through a value reader (lazy: values walked to on demand, no decoded page) instead of
     * p[ST_SST_COL_VALUE]: a seek usually reads one or two values of it.
     */
    int seeked; /* a seek positioned the cursor and no value page was loaded since */
    int lazy;   /* vr holds the value page of row group lg rows [lfirst, lend) */
    uint32_t lg;
    int64_t lfirst, lend, lrow; /* lrow: the row whose value lv/lvl/lnull hold (-1: none) */
    st_pq_value_reader vr;
    st_buf lbuf;
    const uint8_t *lv;
    size_t lvl;
    int lnull;
    /* st_sst_cursor_prefetch's search, for the seek to the same key that follows (hint_klen 0:
     * none; keys longer than hint_key are not hinted) */
    uint8_t hint_key[64];
    size_t hint_klen;
    uint32_t hint_g, hint_idx;
} st_sst_cursor;

/* The row after the last row of page idx of column col (by the OffsetIndex). */
static inline int64_t
st_sst_page_end_row(const st_sst_rg *rg, int col, uint32_t idx)
{
    const st_pq_offset_index *oi = &rg->oi[col];
    return idx + 1 < oi->npages ? oi->pages[idx + 1].first_row : rg->num_rows;
}

/* The big-endian value of the first 8 bytes of key (0-padded): orders like the key's prefix. */
static inline uint64_t
st_sst_key_prefix(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++)
        v = v << 8 | (i < n ? p[i] : 0);
    return v;
}

/* Start fetching the key and seqno page headers of bundle idx of rg (cold file memory), so that
 * a bundle that misses the cache finds them on its way. */
static inline void
st_sst_prefetch_bundle(const st_sst_reader *r, const st_sst_rg *rg, uint32_t idx)
{
    if (!r->map)
        return;
    __builtin_prefetch(r->map + rg->oi[ST_SST_COL_KEY].pages[idx].offset);
    if (!rg->known[ST_SST_COL_SEQNO])
        __builtin_prefetch(r->map + rg->oi[ST_SST_COL_SEQNO].pages[idx].offset);
}

/* A binary search of key page kp walks its offsets and keys in a dependent chain: start
 * fetching them all at once (a key page is a few hundred bytes). */
static inline void
st_sst_prefetch_key_page(const st_pq_page *kp)
{
    for (size_t o = 0; o < (size_t)(kp->n + 1) * sizeof(uint32_t); o += 64)
        __builtin_prefetch((const uint8_t *)kp->offs + o);
    for (size_t o = 0; o < kp->offs[kp->n]; o += 64)
        __builtin_prefetch(kp->data + o);
}

void st_sst_cursor_init(st_sst_cursor *c, st_sst_reader *r, int fill_cache);
void st_sst_cursor_release(st_sst_cursor *c); /* drop pinned pages */
/* Position on the first entry >= (key, seq); invalid at end. */
int st_sst_cursor_seek(st_sst_cursor *c, const uint8_t *key, size_t klen, uint64_t seq);
/* A seek to key follows: find its page and start fetching the key and seqno page headers; the
 * next seek reuses the search when it is for the same key. */
void st_sst_cursor_prefetch(st_sst_cursor *c, const uint8_t *key, size_t klen);
int st_sst_cursor_first(st_sst_cursor *c);
int st_sst_cursor_last(st_sst_cursor *c);
int st_sst_cursor_next(st_sst_cursor *c);
int st_sst_cursor_prev(st_sst_cursor *c);
/* Load column col's page for the current row (valid cursor). */
int st_sst_cursor_load(st_sst_cursor *c, int col);
/* Accessors (after st_sst_cursor_load of the column). */
void st_sst_cursor_bytes(const st_sst_cursor *c, int col, const uint8_t **p, size_t *n,
                         int *is_null);
int64_t st_sst_cursor_int(const st_sst_cursor *c, int col);
/* Keys are 1..ST_SST_MAX_KEY bytes (STRATA_MAX_KEY_SIZE). */
#define ST_SST_MAX_KEY (64u * 1024u)
/*
 * st_sst_row_problem --
 *     NULL when a row obeys the table rules (kind 0 or 1, seqno 0..2^56-1, key 1..64 KiB, a put
 *     has a value), else the rule it breaks, written into buf (n bytes) and returned.
 */
const char *st_sst_row_problem(char *buf, size_t n, int64_t seq, int64_t kind, size_t klen,
                               int put_null);
/* Load key, seqno and kind and fill those fields; CORRUPT on bad kind/seq values. */
int st_sst_cursor_entry_head(st_sst_cursor *c, const uint8_t **key, size_t *klen, uint64_t *seq,
                             int *kind);
/* Load the value column for the current row of kind `kind`; CORRUPT on a null put value. */
int st_sst_cursor_value(st_sst_cursor *c, int kind, const uint8_t **val, size_t *vlen);
/* Load all four columns and fill the entry fields; CORRUPT on bad kind/seq values. */
int st_sst_cursor_entry(st_sst_cursor *c, const uint8_t **key, size_t *klen, uint64_t *seq,
                        int *kind, const uint8_t **val, size_t *vlen);

/*
 * Read and decode the page whose header is at off (the chunk ends at limit; hint = the page's
 * total size when known, else 0). Data and dictionary pages are decoded into *out (dict is the
 * chunk's dictionary); other page types leave *out NULL. *page_type and *next (offset after the
 * page) are set. crc = 0 skips the page CRC check. Used by the cursor and the verifier.
 */
int st_sst_read_page(st_sst_reader *r, uint32_t g, int col, int64_t off, int64_t hint,
                     int64_t limit, const st_pq_page *dict, int crc, st_pq_page **out,
                     int *page_type, int64_t *next);

/* ---- pages into memory (sst_pages.c): the file, the page cache, bundles, value pages -------- */

/* A page's cache key: (table id, row group, column, page), ST_SST_CACHE_KEY_LEN bytes. */
#define ST_SST_CACHE_KEY_LEN 24
void st_sst_cache_key(const st_sst_reader *r, uint32_t g, int col, uint32_t page, uint8_t *k);
/* fill value of st_sst_load_page: insert without looking up (the caller has just missed). */
#define ST_SST_FILL_NO_LOOKUP 2
/*
 * Pin page `page` (or the dictionary, UINT32_MAX) of chunk (g, col) into *out. fill > 0: look
 * it up in the cache and insert it (ST_SST_FILL_NO_LOOKUP: insert only); 0: look it up only;
 * < 0: a private page, the cache is not touched. crc = 0 skips the page CRC check (and never
 * inserts). ra (may be NULL): the read-ahead window of an iterating cursor. Release *out with
 * st_sst_pref_release.
 */
int st_sst_load_page(st_sst_reader *r, uint32_t g, int col, uint32_t page, int fill, int crc,
                     st_sst_ra *ra, st_sst_pref *out);
void st_sst_pref_release(st_sst_reader *r, st_sst_pref *p);
/*
 * Pin the bundle (key, seqno, kind pages) of page idx of aligned row group g. fill > 0: look it up
 * and insert it on a miss; 0 (or no cache): a miss builds a private bundle (*h = NULL: free it
 * with st_sst_bundle_free); < 0: look it up only (*out = NULL on a miss). crc as above.
 */
int st_sst_load_bundle(st_sst_reader *r, uint32_t g, uint32_t idx, int fill, int crc,
                       st_cache_handle **h, st_sst_bundle **out);
/* Start fetching the cache's hash slots of bundle idx of row group g and, when value is set, of
 * its value page (st_cache_prefetch): a lookup that will probe both, or probe several tables,
 * waits for one memory access instead of one per probe. */
void st_sst_prefetch_slots(const st_sst_reader *r, uint32_t g, uint32_t idx, int value);
void st_sst_bundle_free(st_sst_bundle *b);
/* *out = a page of the n rows' values of column c of row group g, which its chunk statistics
 * give (rg->known; a page shared by every caller for up to 4096 rows of a seqno 0 or a put,
 * else owned by out: release it with st_sst_pref_release). INTERNAL when c is not known. */
int st_sst_known_page(const st_sst_reader *r, uint32_t g, int c, size_t n, st_sst_pref *out);
/* Rough decoded size of value page idx of rg, for st_cache_admit. */
size_t st_sst_value_page_charge(const st_sst_rg *rg, uint32_t idx);
/* The header and payload of mapped value page idx of row group g (r->map != NULL), checked
 * against the page index. */
int st_sst_map_value_page(st_sst_reader *r, uint32_t g, uint32_t idx, st_pq_page_header *h,
                          const uint8_t **payload);
/*
 * st_sst_load_page of value page idx for a point lookup or a cursor: fill > 0 caches it only when
 * the cache admits it. With vr (a point lookup, or the first value page after a seek) a mapped
 * page neither cached nor admitted is opened in vr on vbuf instead (decompressed as far as row
 * `row` of the page likely needs): *lazy = 1 and *out is left empty.
 */
int st_sst_load_value_page(st_sst_reader *r, uint32_t g, uint32_t idx, int fill, int crc,
                           st_sst_ra *ra, st_pq_value_reader *vr, st_buf *vbuf, uint32_t row,
                           int *lazy, st_sst_pref *out);

/* ---- searching (sst_reader.c), used by point lookups (sst_get.c) ----------------------------- */

/* First row group that may hold keys >= key (by chunk maxima; groups without bounds match). */
uint32_t st_sst_rg_lower_bound(const st_sst_reader *r, const uint8_t *key, size_t klen);
/* First page of the key column that may hold keys >= key (ColumnIndex maxima). */
uint32_t st_sst_page_lower_bound(const st_sst_rg *rg, const uint8_t *key, size_t klen);
/* Compare the current row's key with key (*cmp as st_bytes_cmp). */
int st_sst_cursor_cmp_key(st_sst_cursor *c, const uint8_t *key, size_t klen, int *cmp);

#endif
