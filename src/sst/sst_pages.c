/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_pages.c -- how a table page gets into memory: read and decoded from the file (mapped or
 * through read-ahead windows), found in or inserted into the page cache, grouped into page
 * bundles, and the admission of value pages (see sst_internal.h).
 */
#include "parquet/codec.h"
#include "sst/sst_internal.h"
#include "util/alloc.h"
#include "util/coding.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- page reading --------------------------------------------------------------------------- */

/* Read a page header at off into *buf (growing the window as needed). */
static int
read_header(st_sst_reader *r, int64_t off, size_t want, size_t avail, uint8_t **buf,
            st_pq_page_header *h, size_t *hlen)
{
    int rc;
    for (;;) {
        uint8_t *nb = st_realloc(*buf, want);
        if (!nb)
            return st_err(STRATA_NOMEM, "%s: reading page", r->path);
        *buf = nb;
        ST_RET(st_file_read_exact(r->file, (uint64_t)off, nb, want));
        rc = st_pq_decode_page_header(nb, want, r->path, (uint64_t)off, h, hlen);
        if (rc != STRATA_CORRUPT || want == avail)
            return rc;
        want = want * 8 < avail ? want * 8 : avail;
    }
}

/* Decode the page at off whose header h (hlen bytes) is followed by its payload in p + hlen. */
static int
decode_page_body(st_sst_reader *r, uint32_t g, int col, int64_t off, const st_pq_page_header *h,
                 size_t hlen, const uint8_t *p, const st_pq_page *dict, int crc, st_pq_page **out,
                 int *page_type, int64_t *next)
{
    st_pq_column_desc desc = r->rgs[g].desc[col];
    desc.verify_crc = desc.verify_crc && crc;
    *page_type = h->type;
    *next = off + (int64_t)(hlen + (size_t)h->compressed_size);
    if (h->type == ST_PQ_DATA_PAGE || h->type == ST_PQ_DATA_PAGE_V2 ||
        h->type == ST_PQ_DICTIONARY_PAGE)
        return st_pq_page_decode(&desc, h, p + hlen, h->type == ST_PQ_DICTIONARY_PAGE ? NULL : dict,
                                 r->path, (uint64_t)off, out);
    return STRATA_OK;
}

/* Decode the page whose bytes (header at off) are in p[0, avail). */
static int
decode_page_bytes(st_sst_reader *r, uint32_t g, int col, int64_t off, const uint8_t *p,
                  size_t avail, const st_pq_page *dict, int crc, st_pq_page **out, int *page_type,
                  int64_t *next)
{
    st_pq_page_header h;
    size_t hlen = 0;
    ST_RET(st_pq_decode_page_header(p, avail, r->path, (uint64_t)off, &h, &hlen));
    if (hlen + (size_t)h.compressed_size > avail)
        return st_err(STRATA_CORRUPT, "%s: page at offset %lld overruns its column chunk", r->path,
                      (long long)off);
    return decode_page_body(r, g, col, off, &h, hlen, p, dict, crc, out, page_type, next);
}

int
st_sst_read_page(st_sst_reader *r, uint32_t g, int col, int64_t off, int64_t hint, int64_t limit,
                 const st_pq_page *dict, int crc, st_pq_page **out, int *page_type, int64_t *next)
{
    *out = NULL;
    if (off < 4 || off >= limit || (uint64_t)limit > r->file_size)
        return st_err(STRATA_CORRUPT, "%s: page offset %lld out of range", r->path, (long long)off);
    if (r->map)
        return decode_page_bytes(r, g, col, off, r->map + off, (size_t)(limit - off), dict, crc,
                                 out, page_type, next);
    size_t avail = (size_t)(limit - off), total = 0, hlen = 0;
    size_t want = hint > 0 ? (size_t)hint : 16384;
    uint8_t *buf = NULL;
    st_pq_page_header h;
    int rc = read_header(r, off, want < avail ? want : avail, avail, &buf, &h, &hlen);
    if (rc == STRATA_OK) {
        total = hlen + (size_t)h.compressed_size;
        if (total > avail)
            rc = st_err(STRATA_CORRUPT, "%s: page at offset %lld overruns its column chunk",
                        r->path, (long long)off);
    }
    if (rc == STRATA_OK && total > (want < avail ? want : avail)) {
        uint8_t *nb = st_realloc(buf, total);
        if (!nb)
            rc = st_err(STRATA_NOMEM, "%s: reading page", r->path);
        else
            buf = nb;
        if (rc == STRATA_OK)
            rc = st_file_read_exact(r->file, (uint64_t)off + hlen, buf + hlen, total - hlen);
    }
    if (rc == STRATA_OK)
        rc = decode_page_body(r, g, col, off, &h, hlen, buf, dict, crc, out, page_type, next);
    st_free(buf);
    return rc;
}

/*
 * Make ra hold [off, off + size) of chunk (g, col): reuse the window when it does, else read a
 * new one starting at off (one page for a jump, growing while reads are sequential).
 */
static int
ra_fill(st_sst_reader *r, st_sst_ra *ra, const st_sst_rg *rg, int col, int64_t off, size_t size,
        const uint8_t **p, size_t *avail)
{
    if (r->map) {
        if (off < 4 || off + (int64_t)size > rg->chunk_end[col] ||
            (uint64_t)rg->chunk_end[col] > r->file_size)
            return st_err(STRATA_CORRUPT, "%s: page at offset %lld overruns its column chunk",
                          r->path, (long long)off);
        *p = r->map + off;
        *avail = (size_t)(rg->chunk_end[col] - off);
        return STRATA_OK;
    }
    if (!(ra->len && off >= ra->off && off + (int64_t)size <= ra->off + (int64_t)ra->len)) {
        int sequential = ra->len && off >= ra->off && off <= ra->off + (int64_t)ra->len;
        ra->next = sequential
                       ? (ra->next * 2 < ST_SST_READAHEAD_MAX ? ra->next * 2 : ST_SST_READAHEAD_MAX)
                       : 0;
        size_t n = ra->next > size ? ra->next : size;
        if ((int64_t)n > rg->chunk_end[col] - off)
            n = (size_t)(rg->chunk_end[col] - off);
        if (n < size)
            return st_err(STRATA_CORRUPT, "%s: page at offset %lld overruns its column chunk",
                          r->path, (long long)off);
        if (n > ra->cap) {
            uint8_t *nb = st_realloc(ra->buf, n);
            if (!nb)
                return st_err(STRATA_NOMEM, "%s: read-ahead", r->path);
            ra->buf = nb;
            ra->cap = n;
        }
        ra->len = 0;
        ST_RET(st_file_read_exact(r->file, (uint64_t)off, ra->buf, n));
        ra->off = off;
        ra->len = n;
        if (ra->next < n)
            ra->next = n;
    }
    *p = ra->buf + (off - ra->off);
    *avail = ra->len - (size_t)(off - ra->off);
    return STRATA_OK;
}

/* ---- page cache ----------------------------------------------------------------------------- */

#define DICT_PAGE UINT32_MAX

/*
 * The CRC flag for reading data page `page` of chunk (g, col) through the mapping: crc, unless the
 * page's CRC already passed on an earlier read (rg->checked). The mapping is read-only and its
 * bytes do not change under it, so a page is checked once per open table rather than on every
 * lookup that lands on it (a point read that does not cache the value page would otherwise hash
 * the whole page each time).
 */
static int
crc_needed(const st_sst_rg *rg, int col, uint32_t page, int crc)
{
    if (crc != ST_SST_CRC_ONCE || page == DICT_PAGE || !rg->checked[col])
        return crc != ST_SST_CRC_SKIP;
    uint64_t w = atomic_load_explicit(&rg->checked[col][page / 64], memory_order_relaxed);
    return !((w >> (page % 64)) & 1);
}

/* Records that data page `page` of chunk (g, col) passed its CRC check (mapped tables). */
static void
crc_passed(const st_sst_rg *rg, int col, uint32_t page)
{
    if (page != DICT_PAGE && rg->checked[col])
        atomic_fetch_or_explicit(&rg->checked[col][page / 64], (uint64_t)1 << (page % 64),
                                 memory_order_relaxed);
}

static void
page_deleter(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    st_pq_page_free(value);
}

/* A page's cache key: (table id, row group, column, page), little-endian. */

void
st_sst_cache_key(const st_sst_reader *r, uint32_t g, int col, uint32_t page, uint8_t *k)
{
    st_put_fixed64(k, r->cache_id);
    st_put_fixed32(k + 8, g);
    st_put_fixed32(k + 12, (uint32_t)col);
    st_put_fixed32(k + 16, page);
    st_put_fixed32(k + 20, 0);
}

static int shared_page(const st_pq_page *pg);

void
st_sst_pref_release(st_sst_reader *r, st_sst_pref *p)
{
    if (p->h)
        st_cache_release(r->cache, p->h);
    else if (!p->bundled && !shared_page(p->pg))
        st_pq_page_free(p->pg);
    memset(p, 0, sizeof(*p));
}

/*
 * Pin page `page` (or the dictionary, DICT_PAGE) of chunk (g, col). fill > 0: look it up in the
 * cache and insert it (ST_SST_FILL_NO_LOOKUP: insert it, the caller has just missed it); 0: look it
 * up only; < 0: a private page, the cache is not touched. crc = 0 skips the page CRC check of a
 * page read from the file (and never inserts it).
 */
int
st_sst_load_page(st_sst_reader *r, uint32_t g, int col, uint32_t page, int fill, int crc,
                 st_sst_ra *ra, st_sst_pref *out)
{
    if (!crc && fill > 0)
        fill = 0; /* the cache holds checked pages only */
    memset(out, 0, sizeof(*out));
    st_sst_rg *rg = &r->rgs[g];
    uint8_t key[ST_SST_CACHE_KEY_LEN];
    size_t kl = ST_SST_CACHE_KEY_LEN;
    st_sst_cache_key(r, g, col, page, key);
    if (r->cache && fill >= 0 && fill != ST_SST_FILL_NO_LOOKUP) {
        st_cache_handle *h = st_cache_lookup(r->cache, key, kl);
        if (h) {
            out->h = h;
            out->pg = st_cache_value(h);
            return STRATA_OK;
        }
    }
    st_sst_pref dict = {0};
    st_pq_page *pg = NULL;
    int type = -1, rc = STRATA_OK;
    int64_t next;
    if (page == DICT_PAGE) {
        int64_t end = rg->oi[col].npages ? rg->oi[col].pages[0].offset : rg->chunk_end[col];
        ST_RET(
            st_sst_read_page(r, g, col, rg->dict_off[col], 0, end, NULL, crc, &pg, &type, &next));
        if (type != ST_PQ_DICTIONARY_PAGE) {
            st_pq_page_free(pg);
            return st_err(STRATA_CORRUPT, "%s: no dictionary page at offset %lld", r->path,
                          (long long)rg->dict_off[col]);
        }
    } else {
        const st_pq_page_location *loc = &rg->oi[col].pages[page];
        int64_t end = st_sst_page_end_row(rg, col, page);
        int check = crc_needed(rg, col, page, crc);
        if (rg->dict_off[col] >= 0)
            ST_RET(st_sst_load_page(r, g, col, DICT_PAGE, fill, crc, NULL, &dict));
        if (ra) {
            const uint8_t *p = NULL;
            size_t avail = 0;
            rc = ra_fill(r, ra, rg, col, loc->offset, (size_t)loc->compressed_size, &p, &avail);
            if (rc == STRATA_OK)
                rc = decode_page_bytes(r, g, col, loc->offset, p, avail, dict.pg, check, &pg, &type,
                                       &next);
        } else {
            rc = st_sst_read_page(r, g, col, loc->offset, loc->compressed_size, rg->chunk_end[col],
                                  dict.pg, check, &pg, &type, &next);
        }
        st_sst_pref_release(r, &dict);
        if (rc != STRATA_OK)
            return rc;
        if (check)
            crc_passed(rg, col, page);
        if (type != ST_PQ_DATA_PAGE && type != ST_PQ_DATA_PAGE_V2) {
            st_pq_page_free(pg);
            return st_err(STRATA_CORRUPT, "%s: offset index points at a non-data page (%lld)",
                          r->path, (long long)loc->offset);
        }
        if ((int64_t)pg->n != end - loc->first_row || (col != ST_SST_COL_VALUE && pg->nulls)) {
            st_pq_page_free(pg);
            return st_err(STRATA_CORRUPT,
                          "%s: page at offset %lld: %s rows disagree with the page index or "
                          "hold nulls",
                          r->path, (long long)loc->offset, st_sst_col_names[col]);
        }
    }
    /* A page read through a read-ahead window belongs to a scan: once the cache is full, caching
     * every page a scan passes would evict what other reads reuse, and pay an eviction per page,
     * for pages the scan does not come back to. It is cached only when admitted (it fits, or it
     * was refused recently, so it is being reread); otherwise the cursor keeps it privately. */
    if (r->cache && fill > 0 &&
        (!ra ||
         st_cache_admit(r->cache, key, kl, pg->mem, ST_CACHE_LOW, ST_CACHE_ADMIT_REUSED, 1))) {
        st_cache_handle *h = NULL;
        ST_RET(st_cache_insert(r->cache, key, kl, pg, pg->mem, page_deleter, ST_CACHE_LOW, &h));
        out->h = h;
    }
    out->pg = pg;
    return STRATA_OK;
}

/* ---- page bundles -----------------------------------------------------------------------------
 */

/*
 * In a row group whose columns' pages are aligned, point lookups and iterator seeks cache the
 * decoded key, seqno and kind pages of one page number as a single entry (cache-key column
 * BUNDLE_COL): one cache lookup per lookup or seek instead of three, one insert and one eviction
 * per miss. The value page, most of a page number's bytes, is left out: a seek positions on
 * keys in every sorted run but reads the value of only the entry it returns, and a point
 * lookup needs it only when the key is there.
 */
#define BUNDLE_COL 0xff

/*
 * The pages of a column whose chunk statistics give its value on every row (st_sst_known_page,
 * below), for bundles of at most KNOWN_ROWS rows: one shared, never written page per column
 * instead of one allocation per bundle (the kind page was a fifth of a bundle's bytes, so more
 * bundles fit in the cache). Their n is KNOWN_ROWS, not the bundle's row count: bundle users take
 * the rows from the key page.
 */
#define KNOWN_ROWS 4096
static int64_t puts_kinds[KNOWN_ROWS];
static st_pq_page puts_page = {.n = KNOWN_ROWS, .type = ST_PQ_INT32, .ints = puts_kinds};
static pthread_once_t puts_once = PTHREAD_ONCE_INIT;
static int64_t zero_seqnos[KNOWN_ROWS];
static st_pq_page zeros_page = {.n = KNOWN_ROWS, .type = ST_PQ_INT64, .ints = zero_seqnos};

/* A page shared by every bundle, never freed. */
static int
shared_page(const st_pq_page *pg)
{
    return pg == &puts_page || pg == &zeros_page;
}

static void
puts_init(void)
{
    for (size_t i = 0; i < KNOWN_ROWS; i++)
        puts_kinds[i] = ST_KIND_PUT;
}

void
st_sst_bundle_free(st_sst_bundle *b)
{
    if (!b->packed)
        for (int c = 0; c < ST_SST_NCOLS; c++)
            if (!shared_page(b->pg[c]))
                st_pq_page_free(b->pg[c]);
    st_free(b);
}

#define PACK_ALIGN(n) (((n) + 7) & ~(size_t)7)

/* Copy len bytes of src to at + *off when at is given; advance *off (8-byte aligned). Returns
 * where the bytes go (NULL when measuring). */
static void *
pack_bytes(uint8_t *at, size_t *off, const void *src, size_t len)
{
    void *dst = at ? at + *off : NULL;
    if (dst && len)
        memcpy(dst, src, len);
    *off += PACK_ALIGN(len);
    return dst;
}

/*
 * Lay page pg out at `at` -- its struct, then its arrays and bytes, the copy pointing into itself
 * -- and return the bytes that takes; at == NULL only measures (one layout for both).
 */
static size_t
pack_page(const st_pq_page *pg, uint8_t *at)
{
    size_t n = pg->n, off = PACK_ALIGN(sizeof(st_pq_page));
    void *offs = pack_bytes(at, &off, pg->offs, pg->offs ? (n + 1) * sizeof(uint32_t) : 0);
    void *data = pack_bytes(at, &off, pg->data, pg->offs ? pg->offs[n] : 0);
    void *ints = pack_bytes(at, &off, pg->ints, pg->ints ? n * sizeof(int64_t) : 0);
    void *nulls = pack_bytes(at, &off, pg->nulls, pg->nulls ? n : 0);
    if (at) {
        st_pq_page *q = (st_pq_page *)(void *)at;
        *q = *pg;
        q->offs = pg->offs ? offs : NULL;
        q->data = pg->offs ? data : NULL;
        q->ints = pg->ints ? ints : NULL;
        q->nulls = pg->nulls ? nulls : NULL;
        q->mem = off;
    }
    return off;
}

/*
 * One allocation for a freshly decoded bundle: the bundle, then each of its pages with its arrays
 * and bytes. A lookup that finds the bundle cached walks from it to the key page, its offsets
 * and keys, and the seqnos: in separate allocations each was a cold cache miss of its own
 * (perf of readrandom: a third of the lookup's own time waited on the bundle and key page
 * structs). Returns b itself when the copy cannot be allocated (it is only an optimisation).
 */
static st_sst_bundle *
pack_bundle(st_sst_bundle *b, size_t *charge)
{
    size_t total = PACK_ALIGN(sizeof(*b));
    for (int c = 0; c < ST_SST_NCOLS; c++)
        if (b->pg[c] && !shared_page(b->pg[c]))
            total += pack_page(b->pg[c], NULL);
    uint8_t *mem = st_malloc(total);
    if (!mem)
        return b;
    st_sst_bundle *nb = (st_sst_bundle *)(void *)mem;
    memset(nb, 0, sizeof(*nb));
    nb->packed = 1;
    uint8_t *at = mem + PACK_ALIGN(sizeof(*b));
    for (int c = 0; c < ST_SST_NCOLS; c++) {
        nb->pg[c] = b->pg[c];
        if (b->pg[c] && !shared_page(b->pg[c])) {
            nb->pg[c] = (st_pq_page *)(void *)at;
            at += pack_page(b->pg[c], at);
        }
    }
    st_sst_bundle_free(b);
    *charge = total;
    return nb;
}

static void
bundle_deleter(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    st_sst_bundle_free(value);
}

/*
 * Column c of row group g holds one value on every row when its chunk statistics say so
 * (rg->known, set at open for strata's own files): bundles and cursors then take its page as
 * known instead of reading it, which saves a page header, a checksum pass and a cold page touch
 * per bundle. The page is a shared one for at most KNOWN_ROWS rows of the values tables without
 * tombstones and bottom tables hold throughout (kind ST_KIND_PUT, seqno 0), else built from the
 * value. A lying statistic cannot turn a delete into a value: a delete's value is NULL, and a
 * put with a NULL value is reported as a bad entry. `strata check` (sst_verify.c) reads the
 * column's pages and checks them against the statistic.
 */
int
st_sst_known_page(const st_sst_reader *r, uint32_t g, int c, size_t n, st_sst_pref *out)
{
    const st_sst_rg *rg = &r->rgs[g];
    memset(out, 0, sizeof(*out));
    if (c == ST_SST_COL_KEY || c == ST_SST_COL_VALUE || !rg->known[c])
        return st_err(STRATA_INTERNAL, "%s: column %s is not known", r->path, st_sst_col_names[c]);
    int64_t v = rg->known_val[c];
    if (n <= KNOWN_ROWS && c == ST_SST_COL_KIND && v == ST_KIND_PUT) {
        pthread_once(&puts_once, puts_init);
        out->pg = &puts_page;
        return STRATA_OK;
    }
    if (n <= KNOWN_ROWS && c == ST_SST_COL_SEQNO && v == 0) {
        out->pg = &zeros_page;
        return STRATA_OK;
    }
    return st_pq_page_const_int(rg->desc[c].type, n, v, &out->pg);
}

void
st_sst_prefetch_slots(const st_sst_reader *r, uint32_t g, uint32_t idx, int value)
{
    if (!r->cache)
        return;
    uint8_t key[ST_SST_CACHE_KEY_LEN];
    st_sst_cache_key(r, g, BUNDLE_COL, idx, key);
    st_cache_prefetch(r->cache, key, ST_SST_CACHE_KEY_LEN);
    if (value) {
        st_sst_cache_key(r, g, ST_SST_COL_VALUE, idx, key);
        st_cache_prefetch(r->cache, key, ST_SST_CACHE_KEY_LEN);
    }
}

/*
 * Pin the bundle of page idx of row group g. fill > 0: look it up in the cache and insert it on a
 * miss when st_cache_admit agrees; 0 (or no cache): a miss builds a private bundle (*h = NULL,
 * the caller frees it with st_sst_bundle_free; also a miss that was not admitted); < 0: look it
 * up only (*out = NULL on a miss). crc as for st_sst_load_page.
 */
int
st_sst_load_bundle(st_sst_reader *r, uint32_t g, uint32_t idx, int fill, int crc,
                   st_cache_handle **h, st_sst_bundle **out)
{
    if (!crc && fill > 0)
        fill = 0;
    uint8_t key[ST_SST_CACHE_KEY_LEN];
    st_sst_cache_key(r, g, BUNDLE_COL, idx, key);
    *h = NULL;
    /* fill < 0 only probes (the caller falls back to single pages): not a cache miss */
    if (r->cache && (*h = fill < 0 ? st_cache_probe(r->cache, key, ST_SST_CACHE_KEY_LEN)
                                   : st_cache_lookup(r->cache, key, ST_SST_CACHE_KEY_LEN))) {
        *out = st_cache_value(*h);
        return STRATA_OK;
    }
    *out = NULL;
    if (fill < 0)
        return STRATA_OK;
    st_sst_bundle *b = st_calloc(1, sizeof(*b));
    if (!b)
        return st_err(STRATA_NOMEM, "%s: page bundle", r->path);
    size_t charge = sizeof(*b);
    int rc = STRATA_OK;
    for (int c = 0; c < ST_SST_NCOLS && rc == STRATA_OK; c++) {
        st_sst_pref p = {0};
        if (c == ST_SST_COL_VALUE)
            continue;
        /* the key page comes first: its rows are the bundle's (a shared page charges nothing) */
        if (r->rgs[g].known[c])
            rc = st_sst_known_page(r, g, c, b->pg[ST_SST_COL_KEY]->n, &p);
        else
            rc = st_sst_load_page(r, g, c, idx, -1, crc, NULL, &p);
        if (rc == STRATA_OK) {
            b->pg[c] = p.pg;
            charge += p.pg->mem;
        }
    }
    if (rc != STRATA_OK) {
        st_sst_bundle_free(b);
        return rc;
    }
    /* Admitted like value pages: once the cache is full, a bundle not asked for recently stays
     * private to the caller. Under uniform random reads no policy hits more often than the
     * cached fraction of the bundles, so inserting each miss only paid an insert, an eviction
     * and its frees; reused bundles are still let in. Only a bundle that will be cached is
     * packed: a private one is used once. */
    if (r->cache && fill > 0 &&
        st_cache_admit(r->cache, key, ST_SST_CACHE_KEY_LEN, charge, ST_CACHE_HIGH,
                       ST_CACHE_ADMIT_REUSED, 1)) {
        b = pack_bundle(b, &charge);
        ST_RET(st_cache_insert(r->cache, key, ST_SST_CACHE_KEY_LEN, b, charge, bundle_deleter,
                               ST_CACHE_HIGH, h));
    }
    *out = b;
    return STRATA_OK;
}

/* ---- value pages ---------------------------------------------------------------------------- */

/*
 * Value pages are most of a table's bytes and a lookup or seek needs one or two values of each:
 * caching every page it touches would evict the bundles every lookup needs. A value page that
 * misses is cached only when st_cache_admit finds it reused; otherwise the reader keeps it
 * privately (or, for a point lookup, reads just the value: get_value).
 */

/* Refusals (st_cache_admit) before a value page a lookup could read lazily is cached. */
#define ST_SST_ADMIT_LAZY 8

/* Rough decoded size of value page idx, for admission. */
size_t
st_sst_value_page_charge(const st_sst_rg *rg, uint32_t idx)
{
    const st_pq_page_location *loc = &rg->oi[ST_SST_COL_VALUE].pages[idx];
    int64_t end = st_sst_page_end_row(rg, ST_SST_COL_VALUE, idx);
    return (size_t)loc->compressed_size * 2 + (size_t)(end - loc->first_row) * 5;
}

/*
 * The header and payload of mapped value page idx of row group g, checked against the page
 * index. *h / *payload.
 */
int
st_sst_map_value_page(st_sst_reader *r, uint32_t g, uint32_t idx, st_pq_page_header *h,
                      const uint8_t **payload)
{
    const st_sst_rg *rg = &r->rgs[g];
    const st_pq_page_location *loc = &rg->oi[ST_SST_COL_VALUE].pages[idx];
    int64_t end = st_sst_page_end_row(rg, ST_SST_COL_VALUE, idx);
    int64_t off = loc->offset, limit = rg->chunk_end[ST_SST_COL_VALUE];
    if (off < 4 || off >= limit || (uint64_t)limit > r->file_size)
        return st_err(STRATA_CORRUPT, "%s: page offset %lld out of range", r->path, (long long)off);
    const uint8_t *p = r->map + off;
    size_t avail = (size_t)(limit - off), hlen = 0;
    ST_RET(st_pq_decode_page_header(p, avail, r->path, (uint64_t)off, h, &hlen));
    if (h->compressed_size < 0 || hlen + (size_t)h->compressed_size > avail)
        return st_err(STRATA_CORRUPT, "%s: page at offset %lld overruns its column chunk", r->path,
                      (long long)off);
    if (h->type == ST_PQ_DATA_PAGE && (int64_t)h->num_values != end - loc->first_row)
        return st_err(STRATA_CORRUPT,
                      "%s: page at offset %lld: value rows disagree with the page index", r->path,
                      (long long)off);
    *payload = p + hlen;
    return STRATA_OK;
}

/*
 * st_sst_load_page of value page idx for a cursor: fill > 0 caches it only when admitted. When lc
 * is given (the first value page after a seek) a page that is neither cached nor admitted is read
 * through lc's value reader (lc->lazy = 1, *out left empty) instead of being decoded.
 */
int
st_sst_load_value_page(st_sst_reader *r, uint32_t g, uint32_t idx, int fill, int crc, st_sst_ra *ra,
                       st_pq_value_reader *vr, st_buf *vbuf, uint32_t row, int *lazy,
                       st_sst_pref *out)
{
    const int col = ST_SST_COL_VALUE;
    *lazy = 0;
    if (!r->cache || fill <= 0 || !crc)
        return st_sst_load_page(r, g, col, idx, fill, crc, ra, out);
    uint8_t key[ST_SST_CACHE_KEY_LEN];
    st_sst_cache_key(r, g, col, idx, key);
    st_cache_handle *h = st_cache_lookup(r->cache, key, ST_SST_CACHE_KEY_LEN);
    if (h) {
        memset(out, 0, sizeof(*out));
        out->h = h;
        out->pg = st_cache_value(h);
        return STRATA_OK;
    }
    const st_sst_rg *rg = &r->rgs[g];
    /* A caller that can read its one value out of the mapped page (a point lookup, a seek's
     * first value) pays a partial decompression without the page, against a full decode and
     * cache churn with it: it lets in only pages asked for much more often, not merely because
     * they fit. Under uniform random gets such pages were evicted (to make room for bundles)
     * before their next use: gets on a settled 1M-key table went 240-263K -> 250-345K/s
     * without them. */
    int lazy_ok = vr && r->map && rg->dict_off[col] < 0;
    int admit =
        st_cache_admit(r->cache, key, ST_SST_CACHE_KEY_LEN, st_sst_value_page_charge(rg, idx),
                       ST_CACHE_LOW, lazy_ok ? ST_SST_ADMIT_LAZY : ST_CACHE_ADMIT_REUSED, !lazy_ok);
    if (!admit && lazy_ok) {
        st_pq_page_header ph;
        const uint8_t *payload;
        st_pq_column_desc desc = rg->desc[col];
        int check = crc_needed(rg, col, idx, crc);
        desc.verify_crc = desc.verify_crc && check;
        ST_RET(st_sst_map_value_page(r, g, idx, &ph, &payload));
        ST_RET(st_pq_value_reader_open(vr, &desc, &ph, payload, row, vbuf, r->path,
                                       (uint64_t)rg->oi[col].pages[idx].offset, lazy));
        if (*lazy) {
            if (check)
                crc_passed(rg, col, idx);
            memset(out, 0, sizeof(*out));
            return STRATA_OK;
        }
    }
    return st_sst_load_page(r, g, col, idx, admit ? ST_SST_FILL_NO_LOOKUP : -1, crc, ra, out);
}
