/* SPDX-License-Identifier: Apache-2.0 */
/* sst_reader.c -- opening a table, page loading, the row cursor and point lookups. */
#include "parquet/codec.h"
#include "sst/sst_internal.h"
#include "util/alloc.h"
#include "util/coding.h"

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

static void
page_deleter(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    st_pq_page_free(value);
}

/* Fixed-size cache key of a page: (table id, row group, column, page), little-endian. */
#define CACHE_KEY_LEN 24

static void
cache_key(const st_sst_reader *r, uint32_t g, int col, uint32_t page, uint8_t *k)
{
    st_put_fixed64(k, r->cache_id);
    st_put_fixed32(k + 8, g);
    st_put_fixed32(k + 12, (uint32_t)col);
    st_put_fixed32(k + 16, page);
    st_put_fixed32(k + 20, 0);
}

static void
pref_release(st_sst_reader *r, st_sst_pref *p)
{
    if (p->h)
        st_cache_release(r->cache, p->h);
    else if (!p->bundled)
        st_pq_page_free(p->pg);
    memset(p, 0, sizeof(*p));
}

/*
 * Pin page `page` (or the dictionary, DICT_PAGE) of chunk (g, col). fill > 0: look it up in the
 * cache and insert it (FILL_NO_LOOKUP: insert it, the caller has just missed it); 0: look it up
 * only; < 0: a private page, the cache is not touched. crc = 0 skips the page CRC check of a
 * page read from the file (and never inserts it).
 */
#define FILL_NO_LOOKUP 2
static int
load_page(st_sst_reader *r, uint32_t g, int col, uint32_t page, int fill, int crc, st_sst_ra *ra,
          st_sst_pref *out)
{
    if (!crc && fill > 0)
        fill = 0; /* the cache holds checked pages only */
    memset(out, 0, sizeof(*out));
    st_sst_rg *rg = &r->rgs[g];
    uint8_t key[CACHE_KEY_LEN];
    size_t kl = CACHE_KEY_LEN;
    cache_key(r, g, col, page, key);
    if (r->cache && fill >= 0 && fill != FILL_NO_LOOKUP) {
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
        int64_t end =
            page + 1 < rg->oi[col].npages ? rg->oi[col].pages[page + 1].first_row : rg->num_rows;
        if (rg->dict_off[col] >= 0)
            ST_RET(load_page(r, g, col, DICT_PAGE, fill, crc, NULL, &dict));
        if (ra) {
            const uint8_t *p = NULL;
            size_t avail = 0;
            rc = ra_fill(r, ra, rg, col, loc->offset, (size_t)loc->compressed_size, &p, &avail);
            if (rc == STRATA_OK)
                rc = decode_page_bytes(r, g, col, loc->offset, p, avail, dict.pg, crc, &pg, &type,
                                       &next);
        } else {
            rc = st_sst_read_page(r, g, col, loc->offset, loc->compressed_size, rg->chunk_end[col],
                                  dict.pg, crc, &pg, &type, &next);
        }
        pref_release(r, &dict);
        if (rc != STRATA_OK)
            return rc;
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
    if (r->cache && fill > 0) {
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

static void
bundle_free(st_sst_bundle *b)
{
    for (int c = 0; c < ST_SST_NCOLS; c++)
        st_pq_page_free(b->pg[c]);
    st_free(b);
}

static void
bundle_deleter(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    bundle_free(value);
}

/*
 * A table whose footer counts no tombstone holds only puts: its bundles take the kind page as
 * known (ST_KIND_PUT on every row) instead of reading it, which saves a page header, a checksum
 * pass and a cold page touch per bundle. A lying footer cannot turn a delete into a value: a
 * delete's value is NULL, and a put with a NULL value is reported as a bad entry. `strata
 * check` (sst_verify.c) still reads the kind column and checks the count.
 */
static int
all_puts(const st_sst_reader *r)
{
    return r->strata_meta && r->meta.tombstones == 0;
}

/*
 * Pin the bundle of page idx of row group g. fill > 0: look it up in the cache and insert it on a
 * miss; 0 (or no cache): a miss builds a private bundle (*h = NULL, the caller frees it with
 * bundle_free); < 0: look it up only (*out = NULL on a miss). crc as for load_page.
 */
static int
load_bundle(st_sst_reader *r, uint32_t g, uint32_t idx, int fill, int crc, st_cache_handle **h,
            st_sst_bundle **out)
{
    if (!crc && fill > 0)
        fill = 0;
    uint8_t key[CACHE_KEY_LEN];
    cache_key(r, g, BUNDLE_COL, idx, key);
    *h = NULL;
    /* fill < 0 only probes (the caller falls back to single pages): not a cache miss */
    if (r->cache && (*h = fill < 0 ? st_cache_probe(r->cache, key, CACHE_KEY_LEN)
                                   : st_cache_lookup(r->cache, key, CACHE_KEY_LEN))) {
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
        if (c == ST_SST_COL_KIND && all_puts(r))
            rc = st_pq_page_const_int(r->rgs[g].desc[c].type, b->pg[ST_SST_COL_KEY]->n, ST_KIND_PUT,
                                      &p.pg);
        else
            rc = load_page(r, g, c, idx, -1, crc, NULL, &p);
        if (rc == STRATA_OK) {
            b->pg[c] = p.pg;
            charge += p.pg->mem;
        }
    }
    if (rc != STRATA_OK) {
        bundle_free(b);
        return rc;
    }
    if (r->cache && fill > 0)
        ST_RET(st_cache_insert(r->cache, key, CACHE_KEY_LEN, b, charge, bundle_deleter,
                               ST_CACHE_HIGH, h));
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

/* Rough decoded size of value page idx, for admission. */
static size_t
value_page_charge(const st_sst_rg *rg, uint32_t idx)
{
    const st_pq_page_location *loc = &rg->oi[ST_SST_COL_VALUE].pages[idx];
    int64_t end = idx + 1 < rg->oi[ST_SST_COL_VALUE].npages
                      ? rg->oi[ST_SST_COL_VALUE].pages[idx + 1].first_row
                      : rg->num_rows;
    return (size_t)loc->compressed_size * 2 + (size_t)(end - loc->first_row) * 5;
}

/*
 * The header and payload of mapped value page idx of row group g, checked against the page
 * index. *h / *payload.
 */
static int
map_value_page(st_sst_reader *r, uint32_t g, uint32_t idx, st_pq_page_header *h,
               const uint8_t **payload)
{
    const st_sst_rg *rg = &r->rgs[g];
    const st_pq_page_location *loc = &rg->oi[ST_SST_COL_VALUE].pages[idx];
    int64_t end = idx + 1 < rg->oi[ST_SST_COL_VALUE].npages
                      ? rg->oi[ST_SST_COL_VALUE].pages[idx + 1].first_row
                      : rg->num_rows;
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
 * load_page of value page idx for a cursor: fill > 0 caches it only when admitted. When lc is
 * given (the first value page after a seek) a page that is neither cached nor admitted is read
 * through lc's value reader (lc->lazy = 1, *out left empty) instead of being decoded.
 */
static int
load_value_page(st_sst_reader *r, uint32_t g, uint32_t idx, int fill, int crc, st_sst_ra *ra,
                st_sst_cursor *lc, st_sst_pref *out)
{
    const int col = ST_SST_COL_VALUE;
    if (!r->cache || fill <= 0 || !crc)
        return load_page(r, g, col, idx, fill, crc, ra, out);
    uint8_t key[CACHE_KEY_LEN];
    cache_key(r, g, col, idx, key);
    st_cache_handle *h = st_cache_lookup(r->cache, key, CACHE_KEY_LEN);
    if (h) {
        memset(out, 0, sizeof(*out));
        out->h = h;
        out->pg = st_cache_value(h);
        return STRATA_OK;
    }
    const st_sst_rg *rg = &r->rgs[g];
    int admit = st_cache_admit(r->cache, key, CACHE_KEY_LEN, value_page_charge(rg, idx));
    if (!admit && lc && r->map && rg->dict_off[col] < 0) {
        st_pq_page_header ph;
        const uint8_t *payload;
        int handled = 0;
        ST_RET(map_value_page(r, g, idx, &ph, &payload));
        int64_t first = rg->oi[col].pages[idx].first_row;
        ST_RET(st_pq_value_reader_open(&lc->vr, &rg->desc[col], &ph, payload,
                                       (uint32_t)(lc->row - first), &lc->lbuf, r->path,
                                       (uint64_t)rg->oi[col].pages[idx].offset, &handled));
        if (handled) {
            memset(out, 0, sizeof(*out));
            lc->lazy = 1;
            lc->lg = g;
            lc->lfirst = first;
            lc->lend = first + ph.num_values;
            lc->lrow = -1;
            return STRATA_OK;
        }
    }
    return load_page(r, g, col, idx, admit ? FILL_NO_LOOKUP : -1, crc, ra, out);
}

/* ---- cursor --------------------------------------------------------------------------------- */

void
st_sst_cursor_init(st_sst_cursor *c, st_sst_reader *r, int fill_cache)
{
    memset(c, 0, sizeof(*c));
    c->r = r;
    c->fill_cache = fill_cache;
}

/* Unpin the cursor's page bundle (no column's page may still be bundled). */
static void
cursor_drop_bundle(st_sst_cursor *c)
{
    if (c->bh)
        st_cache_release(c->r->cache, c->bh);
    else if (c->b)
        bundle_free(c->b);
    c->b = NULL;
    c->bh = NULL;
}

/* Release column col's page; unpin the bundle once no column uses it. */
static void
cursor_release_page(st_sst_cursor *c, int col)
{
    if (col == ST_SST_COL_VALUE)
        c->lazy = 0;
    if (c->p[col].pg)
        pref_release(c->r, &c->p[col]);
    for (int i = 0; i < ST_SST_NCOLS; i++)
        if (c->p[i].bundled)
            return;
    cursor_drop_bundle(c);
}

void
st_sst_cursor_release(st_sst_cursor *c)
{
    for (int i = 0; i < ST_SST_NCOLS; i++) {
        cursor_release_page(c, i);
        st_free(c->ra[i].buf);
        memset(&c->ra[i], 0, sizeof(c->ra[i]));
    }
    st_buf_free(&c->lbuf);
}

static int
cursor_fail(st_sst_cursor *c, int rc)
{
    c->valid = 0;
    if (c->status == STRATA_OK)
        c->status = rc;
    return rc;
}

/* Index of the last page of column col in row group g whose first row <= row. */
static uint32_t
page_for_row(const st_sst_rg *rg, int col, int64_t row)
{
    const st_pq_offset_index *oi = &rg->oi[col];
    uint32_t lo = 0, hi = oi->npages; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (oi->pages[mid].first_row <= row)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

static int cursor_lazy_value(st_sst_cursor *c);

static int
cursor_load_page(st_sst_cursor *c, int col, uint32_t idx)
{
    st_sst_reader *r = c->r;
    st_sst_rg *rg = &r->rgs[c->g];
    st_sst_pref *p = &c->p[col];
    cursor_release_page(c, col);
    st_sst_ra *ra = c->readahead ? &c->ra[col] : NULL;
    int rc;
    if (col == ST_SST_COL_VALUE) {
        /* only the first value page after a seek may be read lazily */
        st_sst_cursor *lc = c->seeked ? c : NULL;
        c->seeked = 0;
        rc = load_value_page(r, c->g, idx, c->fill_cache, !c->skip_crc, ra, lc, p);
        if (rc == STRATA_OK && c->lazy)
            return cursor_lazy_value(c);
    } else {
        rc = load_page(r, c->g, col, idx, c->fill_cache, !c->skip_crc, ra, p);
    }
    if (rc != STRATA_OK)
        return cursor_fail(c, rc);
    p->g = c->g;
    p->idx = idx;
    p->first = rg->oi[col].pages[idx].first_row;
    p->end = p->first + p->pg->n;
    return STRATA_OK;
}

static int cursor_pin_bundle(st_sst_cursor *c, uint32_t idx, int fill, int *pinned);

/* The current row's value from the lazily read value page (c->lazy covers the row). */
static int
cursor_lazy_value(st_sst_cursor *c)
{
    if (c->lrow == c->row)
        return STRATA_OK;
    int rc =
        st_pq_value_reader_get(&c->vr, (uint32_t)(c->row - c->lfirst), &c->lv, &c->lvl, &c->lnull);
    if (rc != STRATA_OK)
        return cursor_fail(c, rc);
    c->lrow = c->row;
    return STRATA_OK;
}

int
st_sst_cursor_load(st_sst_cursor *c, int col)
{
    const st_sst_pref *p = &c->p[col], *k = &c->p[ST_SST_COL_KEY];
    if (p->pg && p->g == c->g && p->first <= c->row && c->row < p->end)
        return STRATA_OK;
    if (col == ST_SST_COL_VALUE && c->lazy && c->lg == c->g && c->lfirst <= c->row &&
        c->row < c->lend)
        return cursor_lazy_value(c);
    const st_sst_rg *rg = &c->r->rgs[c->g];
    if (!rg->aligned)
        return cursor_load_page(c, col, page_for_row(rg, col, c->row));
    /* pages cut at the same rows: the key page's number is every column's */
    uint32_t idx = k->pg && k->g == c->g && k->first <= c->row && c->row < k->end
                       ? k->idx
                       : page_for_row(rg, col, c->row);
    if (col == ST_SST_COL_VALUE) /* never part of a bundle */
        return cursor_load_page(c, col, idx);
    /* a bundle the cursor holds or the cache has (a seek's or a point lookup's) serves every
     * column; otherwise the page alone, through the read-ahead window when iterating */
    if (c->b || c->r->cache) {
        int pinned;
        ST_RET(cursor_pin_bundle(c, idx, -1, &pinned));
        if (pinned)
            return STRATA_OK;
    }
    return cursor_load_page(c, col, idx);
}

void
st_sst_cursor_bytes(const st_sst_cursor *c, int col, const uint8_t **p, size_t *n, int *is_null)
{
    if (col == ST_SST_COL_VALUE && c->lazy) {
        *p = c->lv;
        *n = c->lvl;
        *is_null = c->lnull;
        return;
    }
    const st_sst_pref *pr = &c->p[col];
    size_t i = (size_t)(c->row - pr->first);
    *p = pr->pg->data + pr->pg->offs[i];
    *n = pr->pg->offs[i + 1] - pr->pg->offs[i];
    *is_null = pr->pg->nulls ? pr->pg->nulls[i] : 0;
}

int64_t
st_sst_cursor_int(const st_sst_cursor *c, int col)
{
    const st_sst_pref *pr = &c->p[col];
    return pr->pg->ints[c->row - pr->first];
}

const char *
st_sst_row_problem(char *buf, size_t n, int64_t seq, int64_t kind, size_t klen, int put_null)
{
    if (kind != ST_KIND_PUT && kind != ST_KIND_DELETE)
        snprintf(buf, n, "kind %lld is neither 1 (put) nor 0 (delete)", (long long)kind);
    else if (seq < 0 || (uint64_t)seq > ST_SEQ_MAX)
        snprintf(buf, n, "seqno %lld is outside 0..2^56-1", (long long)seq);
    else if (klen == 0 || klen > ST_SST_MAX_KEY)
        snprintf(buf, n, "key of %zu bytes (keys are 1..%u bytes)", klen, ST_SST_MAX_KEY);
    else if (kind == ST_KIND_PUT && put_null)
        snprintf(buf, n, "put with a NULL value");
    else
        return NULL;
    return buf;
}

static int
bad_entry(st_sst_cursor *c, const char *why)
{
    return cursor_fail(c, st_err(STRATA_CORRUPT, "%s: bad entry in row group %u row %lld: %s",
                                 c->r->path, c->g, (long long)c->row, why));
}

int
st_sst_cursor_entry_head(st_sst_cursor *c, const uint8_t **key, size_t *klen, uint64_t *seq,
                         int *kind)
{
    int isnull;
    char why[96];
    ST_RET(st_sst_cursor_load(c, ST_SST_COL_KEY));
    ST_RET(st_sst_cursor_load(c, ST_SST_COL_SEQNO));
    ST_RET(st_sst_cursor_load(c, ST_SST_COL_KIND));
    st_sst_cursor_bytes(c, ST_SST_COL_KEY, key, klen, &isnull);
    int64_t s = st_sst_cursor_int(c, ST_SST_COL_SEQNO);
    int64_t k = st_sst_cursor_int(c, ST_SST_COL_KIND);
    if (st_sst_row_problem(why, sizeof(why), s, k, *klen, 0))
        return bad_entry(c, why);
    *seq = (uint64_t)s;
    *kind = (int)k;
    return STRATA_OK;
}

int
st_sst_cursor_value(st_sst_cursor *c, int kind, const uint8_t **val, size_t *vlen)
{
    int isnull;
    ST_RET(st_sst_cursor_load(c, ST_SST_COL_VALUE));
    st_sst_cursor_bytes(c, ST_SST_COL_VALUE, val, vlen, &isnull);
    if (kind == ST_KIND_PUT && isnull)
        return bad_entry(c, "put with a NULL value");
    return STRATA_OK;
}

int
st_sst_cursor_entry(st_sst_cursor *c, const uint8_t **key, size_t *klen, uint64_t *seq, int *kind,
                    const uint8_t **val, size_t *vlen)
{
    ST_RET(st_sst_cursor_entry_head(c, key, klen, seq, kind));
    return st_sst_cursor_value(c, *kind, val, vlen);
}

/* Skip empty row groups forward from g; sets valid. */
static void
settle_forward(st_sst_cursor *c)
{
    while (c->g < c->r->nrgs && c->row >= c->r->rgs[c->g].num_rows) {
        c->g++;
        c->row = 0;
    }
    c->valid = c->g < c->r->nrgs;
}

int
st_sst_cursor_first(st_sst_cursor *c)
{
    if (c->status != STRATA_OK)
        return c->status;
    c->g = 0;
    c->row = 0;
    settle_forward(c);
    return STRATA_OK;
}

int
st_sst_cursor_last(st_sst_cursor *c)
{
    if (c->status != STRATA_OK)
        return c->status;
    c->valid = 0;
    for (uint32_t g = c->r->nrgs; g > 0; g--) {
        if (c->r->rgs[g - 1].num_rows > 0) {
            c->g = g - 1;
            c->row = c->r->rgs[g - 1].num_rows - 1;
            c->valid = 1;
            break;
        }
    }
    return STRATA_OK;
}

int
st_sst_cursor_next(st_sst_cursor *c)
{
    if (!c->valid)
        return c->status;
    c->row++;
    settle_forward(c);
    return STRATA_OK;
}

int
st_sst_cursor_prev(st_sst_cursor *c)
{
    if (!c->valid)
        return c->status;
    if (c->row > 0) {
        c->row--;
        return STRATA_OK;
    }
    while (c->g > 0) {
        c->g--;
        if (c->r->rgs[c->g].num_rows > 0) {
            c->row = c->r->rgs[c->g].num_rows - 1;
            return STRATA_OK;
        }
    }
    c->valid = 0;
    return STRATA_OK;
}

static int
cmp_key_at(st_sst_cursor *c, const uint8_t *key, size_t klen, int *cmp)
{
    const uint8_t *p;
    size_t n;
    int isnull;
    ST_RET(st_sst_cursor_load(c, ST_SST_COL_KEY));
    st_sst_cursor_bytes(c, ST_SST_COL_KEY, &p, &n, &isnull);
    *cmp = st_bytes_cmp(p, n, key, klen);
    return STRATA_OK;
}

/* First row group that may hold keys >= key (by chunk maxima; groups without bounds match). */
static uint32_t
rg_lower_bound(const st_sst_reader *r, const uint8_t *key, size_t klen)
{
    uint32_t lo = 0, hi = r->nrgs;
    for (uint32_t g = 0; g < r->nrgs; g++)
        if (!r->rgs[g].has_kbounds)
            return 0;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const st_sst_rg *rg = &r->rgs[mid];
        if (st_bytes_cmp(rg->kmax.p, rg->kmax.len, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First page of the key column that may hold keys >= key (ColumnIndex maxima). */
static uint32_t
page_lower_bound(const st_sst_rg *rg, const uint8_t *key, size_t klen)
{
    if (!rg->has_kci || rg->kci.boundary_order != ST_PQ_ASCENDING)
        return 0;
    /* search the compact 8-byte prefixes; equal prefixes fall back to the full maximum */
    uint64_t kp = st_sst_key_prefix(key, klen);
    /* first the block maxima (a small array that stays in the CPU cache): the answer lies from
     * the first block whose last prefix is >= kp to the first block whose last prefix is > kp */
    uint32_t tlo = 0, thi = rg->ntop;
    while (tlo < thi) {
        uint32_t mid = tlo + (thi - tlo) / 2;
        if (rg->kmax_top[mid] < kp)
            tlo = mid + 1;
        else
            thi = mid;
    }
    uint32_t tend = tlo;
    while (tend < rg->ntop && rg->kmax_top[tend] == kp)
        tend++;
    uint32_t hi = rg->kci.npages, lo = tlo * ST_SST_TOP_BLOCK < hi ? tlo * ST_SST_TOP_BLOCK : hi;
    if (tend < rg->ntop && (tend + 1) * ST_SST_TOP_BLOCK < hi)
        hi = (tend + 1) * ST_SST_TOP_BLOCK;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t mp = rg->kmax_pfx[mid];
        int lt = mp != kp ? mp < kp
                          : st_bytes_cmp(rg->kci.maxs[mid].p, rg->kci.maxs[mid].len, key, klen) < 0;
        if (lt)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/*
 * Make every column's page idx of row group c->g the page of the cursor's bundle (kept when the
 * cursor already holds the bundle; else loaded per load_bundle's fill). *pinned = 0 when fill < 0
 * and the bundle is not cached.
 */
static int
cursor_pin_bundle(st_sst_cursor *c, uint32_t idx, int fill, int *pinned)
{
    st_sst_reader *r = c->r;
    const st_sst_rg *rg = &r->rgs[c->g];
    *pinned = 0;
    if (!(c->b && c->bg == c->g && c->bidx == idx)) {
        st_cache_handle *h = NULL;
        st_sst_bundle *b = NULL;
        int rc = load_bundle(r, c->g, idx, fill, !c->skip_crc, &h, &b);
        if (rc != STRATA_OK)
            return cursor_fail(c, rc);
        if (!b)
            return STRATA_OK;
        for (int col = 0; col < ST_SST_NCOLS; col++)
            cursor_release_page(c, col);
        c->b = b;
        c->bh = h;
        c->bg = c->g;
        c->bidx = idx;
    }
    for (int col = 0; col < ST_SST_NCOLS; col++) {
        st_sst_pref *p = &c->p[col];
        if (col == ST_SST_COL_VALUE || (p->pg && p->g == c->g && p->idx == idx))
            continue;
        if (p->pg)
            pref_release(r, p);
        p->pg = c->b->pg[col];
        p->bundled = 1;
        p->g = c->g;
        p->idx = idx;
        p->first = rg->oi[col].pages[idx].first_row;
        p->end = p->first + p->pg->n;
    }
    *pinned = 1;
    return STRATA_OK;
}

/*
 * Pin every column's page idx of row group c->g for a seek: pages the cursor already holds stay,
 * the others come from the page bundle (one cache entry; fill_cache = 0 never inserts one).
 */
static int
cursor_seek_bundle(st_sst_cursor *c, uint32_t idx)
{
    int have = 1, pinned;
    for (int col = 0; col < ST_SST_NCOLS; col++) {
        const st_sst_pref *p = &c->p[col];
        have &= col == ST_SST_COL_VALUE || (p->pg && p->g == c->g && p->idx == idx);
    }
    return have ? STRATA_OK : cursor_pin_bundle(c, idx, c->fill_cache, &pinned);
}

int
st_sst_cursor_seek(st_sst_cursor *c, const uint8_t *key, size_t klen, uint64_t seq)
{
    st_sst_reader *r = c->r;
    int cmp;
    if (c->status != STRATA_OK)
        return c->status;
    c->valid = 0;
    c->seeked = 1;
    for (c->g = rg_lower_bound(r, key, klen); c->g < r->nrgs; c->g++) {
        st_sst_rg *rg = &r->rgs[c->g];
        if (rg->num_rows == 0)
            continue;
        int bundled = rg->aligned && rg->has_kci && rg->kci.boundary_order == ST_PQ_ASCENDING;
        for (uint32_t pi = page_lower_bound(rg, key, klen); pi < rg->oi[0].npages; pi++) {
            if (bundled)
                ST_RET(cursor_seek_bundle(c, pi));
            else
                ST_RET(cursor_load_page(c, ST_SST_COL_KEY, pi));
            st_sst_pref *p = &c->p[ST_SST_COL_KEY];
            /* binary search in the page for the first key >= key */
            int64_t lo = p->first, hi = p->end;
            while (lo < hi) {
                c->row = lo + (hi - lo) / 2;
                ST_RET(cmp_key_at(c, key, klen, &cmp));
                if (cmp < 0)
                    lo = c->row + 1;
                else
                    hi = c->row;
            }
            if (lo == p->end)
                continue;
            c->row = lo;
            c->valid = 1;
            /* among equal keys, skip versions newer than seq */
            while (c->valid) {
                ST_RET(cmp_key_at(c, key, klen, &cmp));
                if (cmp != 0)
                    break;
                ST_RET(st_sst_cursor_load(c, ST_SST_COL_SEQNO));
                if ((uint64_t)st_sst_cursor_int(c, ST_SST_COL_SEQNO) <= seq)
                    break;
                ST_RET(st_sst_cursor_next(c));
            }
            return c->status;
        }
    }
    return STRATA_OK;
}

/* ---- point lookups -------------------------------------------------------------------------- */

/* Key range + bloom: 0 = certainly absent. *g_out = the candidate row group. */
static int
may_contain(st_sst_reader *r, const uint8_t *key, size_t klen, uint32_t *g_out)
{
    const st_sst_meta *m = &r->meta;
    if (m->entries == 0 || st_bytes_cmp(key, klen, m->smallest, m->smallest_len) < 0 ||
        st_bytes_cmp(key, klen, m->largest, m->largest_len) > 0)
        return 0;
    uint32_t g = rg_lower_bound(r, key, klen);
    *g_out = g;
    if (g >= r->nrgs)
        return 0;
    const st_sst_rg *rg = &r->rgs[g];
    if (!rg->has_kbounds)
        return 1;
    if (st_bytes_cmp(key, klen, rg->kmin.p, rg->kmin.len) < 0)
        return 0;
    if (rg->bloom && !st_pq_bloom_check(rg->bloom, rg->bloom_len, st_pq_bloom_hash(key, klen)))
        return 0;
    return 1;
}

int
st_sst_reader_may_contain(st_sst_reader *r, const uint8_t *key, size_t klen)
{
    uint32_t g;
    return may_contain(r, key, klen, &g);
}

/* ---- point lookups through page bundles ------------------------------------------------------ */

/* Copy out one found row (shared by both lookup paths), validating it like the iterator does. */
static int
found_row(st_sst_reader *r, uint32_t g, int64_t row, int64_t s, int64_t k, const uint8_t *v,
          size_t vl, int isnull, int *kind, st_buf *val, uint64_t *seq)
{
    char why[96];
    if (st_sst_row_problem(why, sizeof(why), s, k, 1, isnull))
        return st_err(STRATA_CORRUPT, "%s: bad entry in row group %u row %lld: %s", r->path, g,
                      (long long)row, why);
    if (val && k == ST_KIND_PUT && v && val->data && v >= val->data && v < val->data + val->cap) {
        memmove(val->data, v, vl); /* the value was read into val itself (get_value) */
        val->len = vl;
    } else if (val) {
        st_buf_clear(val);
        ST_RET(st_buf_append(val, v, k == ST_KIND_PUT ? vl : 0));
    }
    if (kind)
        *kind = (int)k;
    if (seq)
        *seq = (uint64_t)s;
    return STRATA_OK;
}

/*
 * The value of row `row` of value page idx of row group g, for a point lookup: from the cache
 * when the page is there (vp pins it); else read out of the mapped page into val without
 * decoding or caching the page, unless st_cache_admit finds the page reused (then it is decoded
 * and cached like any page). *v points into the page or into val (found_row handles both).
 */
static int
get_value(st_sst_reader *r, uint32_t g, uint32_t idx, uint32_t row, st_buf *val, st_sst_pref *vp,
          const uint8_t **v, size_t *vl, int *isnull)
{
    const st_sst_rg *rg = &r->rgs[g];
    const int col = ST_SST_COL_VALUE;
    uint8_t key[CACHE_KEY_LEN];
    cache_key(r, g, col, idx, key);
    st_cache_handle *h = st_cache_lookup(r->cache, key, CACHE_KEY_LEN);
    int handled = 0;
    if (!h && r->map && rg->dict_off[col] < 0) {
        if (!st_cache_admit(r->cache, key, CACHE_KEY_LEN, value_page_charge(rg, idx))) {
            st_pq_page_header ph;
            const uint8_t *payload;
            ST_RET(map_value_page(r, g, idx, &ph, &payload));
            ST_RET(st_pq_page_value_at(&rg->desc[col], &ph, payload, row, val, r->path,
                                       (uint64_t)rg->oi[col].pages[idx].offset, &handled, v, vl,
                                       isnull));
        }
    }
    if (handled)
        return STRATA_OK;
    if (h) {
        vp->h = h;
        vp->pg = st_cache_value(h);
    } else {
        ST_RET(load_page(r, g, col, idx, FILL_NO_LOOKUP, 1, NULL, vp));
    }
    *v = vp->pg->data + vp->pg->offs[row];
    *vl = vp->pg->offs[row + 1] - vp->pg->offs[row];
    *isnull = vp->pg->nulls ? vp->pg->nulls[row] : 0;
    return STRATA_OK;
}

/*
 * The bundle path: *done = 0 when it cannot answer (no cache, unaligned pages, no usable key
 * ColumnIndex, or the key's versions continue on the next page) and the cursor path must.
 */
static int
get_bundled(st_sst_reader *r, uint32_t g, const uint8_t *key, size_t klen, uint64_t snap_seq,
            int flags, int *kind, st_buf *val, uint64_t *seq, int *done)
{
    const st_sst_rg *rg = &r->rgs[g];
    int fill = (flags & ST_SST_ITER_FILL_CACHE) != 0, crc = !(flags & ST_SST_SKIP_CRC);
    *done = 0;
    if (!r->cache || !fill || !crc || !rg->aligned || !rg->has_kbounds || !rg->has_kci ||
        rg->kci.boundary_order != ST_PQ_ASCENDING)
        return STRATA_OK;
    uint32_t idx = page_lower_bound(rg, key, klen);
    if (idx >= rg->oi[0].npages)
        return STRATA_OK;
    /* The bloom filter passed, so the key is most likely on this page and its value will be read:
     * start fetching the value page's header (cold memory) while the bundle is looked up. */
    if (r->map && val)
        __builtin_prefetch(r->map + rg->oi[ST_SST_COL_VALUE].pages[idx].offset);
    st_cache_handle *h = NULL;
    st_sst_bundle *b = NULL;
    ST_RET(load_bundle(r, g, idx, 1, 1, &h, &b));
    const st_pq_page *kp = b->pg[ST_SST_COL_KEY];
    const int64_t *seqs = b->pg[ST_SST_COL_SEQNO]->ints;
    /* the binary search below touches the offsets and keys in a dependent chain: fetch them all
     * at once (a key page is a few hundred bytes) */
    for (size_t o = 0; o < (size_t)(kp->n + 1) * sizeof(uint32_t); o += 64)
        __builtin_prefetch((const uint8_t *)kp->offs + o);
    for (size_t o = 0; o < kp->offs[kp->n]; o += 64)
        __builtin_prefetch(kp->data + o);
    uint32_t lo = 0, hi = kp->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (st_bytes_cmp(kp->data + kp->offs[mid], kp->offs[mid + 1] - kp->offs[mid], key, klen) <
            0)
            lo = mid + 1;
        else
            hi = mid;
    }
    int cmp = 1;
    while (lo < kp->n &&
           (cmp = st_bytes_cmp(kp->data + kp->offs[lo], kp->offs[lo + 1] - kp->offs[lo], key,
                               klen)) == 0 &&
           (uint64_t)seqs[lo] > snap_seq)
        lo++;
    int rc = STRATA_OK;
    if (lo < kp->n) {
        *done = 1;
        if (cmp != 0) {
            rc = STRATA_NOTFOUND;
        } else {
            int64_t k = b->pg[ST_SST_COL_KIND]->ints[lo];
            st_sst_pref vp = {0};
            const uint8_t *v = NULL;
            size_t vl = 0;
            int isnull = 0;
            /* the value only for a put whose value is wanted */
            if (k == ST_KIND_PUT && val)
                rc = get_value(r, g, idx, lo, val, &vp, &v, &vl, &isnull);
            if (rc == STRATA_OK)
                rc = found_row(r, g, rg->oi[0].pages[idx].first_row + lo, seqs[lo], k, v, vl,
                               isnull, kind, val, seq);
            if (vp.pg)
                pref_release(r, &vp);
        }
    }
    st_cache_release(r->cache, h);
    return rc;
}

int
st_sst_reader_get(st_sst_reader *r, const uint8_t *key, size_t klen, uint64_t snap_seq, int flags,
                  int *kind, st_buf *val, uint64_t *seq)
{
    uint32_t g;
    int done;
    if (!may_contain(r, key, klen, &g))
        return STRATA_NOTFOUND;
    int rc = get_bundled(r, g, key, klen, snap_seq, flags, kind, val, seq, &done);
    if (rc != STRATA_OK || done)
        return rc;
    st_sst_cursor c;
    st_sst_cursor_init(&c, r, (flags & ST_SST_ITER_FILL_CACHE) != 0);
    c.skip_crc = (flags & ST_SST_SKIP_CRC) != 0;
    int cmp = 1;
    rc = st_sst_cursor_seek(&c, key, klen, snap_seq);
    if (rc == STRATA_OK && c.valid)
        rc = cmp_key_at(&c, key, klen, &cmp);
    if (rc == STRATA_OK && c.valid && cmp == 0) {
        /* only the columns this row needs: seqno (loaded by the seek), kind, then the value */
        const uint8_t *v = NULL;
        size_t vl = 0;
        int isnull = 1;
        rc = st_sst_cursor_load(&c, ST_SST_COL_SEQNO);
        if (rc == STRATA_OK)
            rc = st_sst_cursor_load(&c, ST_SST_COL_KIND);
        if (rc == STRATA_OK) {
            int64_t s = st_sst_cursor_int(&c, ST_SST_COL_SEQNO);
            int64_t k = st_sst_cursor_int(&c, ST_SST_COL_KIND);
            if (k == ST_KIND_PUT && (rc = st_sst_cursor_load(&c, ST_SST_COL_VALUE)) == STRATA_OK)
                st_sst_cursor_bytes(&c, ST_SST_COL_VALUE, &v, &vl, &isnull);
            if (rc == STRATA_OK)
                rc = found_row(r, c.g, c.row, s, k, v, vl, isnull, kind, val, seq);
        }
    } else if (rc == STRATA_OK) {
        rc = STRATA_NOTFOUND;
    }
    st_sst_cursor_release(&c);
    return rc;
}
