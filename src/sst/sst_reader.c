/* SPDX-License-Identifier: Apache-2.0 */
/* sst_reader.c -- the row cursor of a table: positioning, stepping and loading columns. */
#include "parquet/codec.h"
#include "sst/sst_internal.h"
#include "util/alloc.h"
#include "util/coding.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- cursor --------------------------------------------------------------------------------- */

void
st_sst_cursor_init(st_sst_cursor *c, st_sst_reader *r, int fill_cache)
{
    memset(c, 0, sizeof(*c));
    c->r = r;
    c->fill_cache = fill_cache;
    c->crc = ST_SST_CRC_ONCE;
}

/* Unpin the cursor's page bundle (no column's page may still be bundled). */
static void
cursor_drop_bundle(st_sst_cursor *c)
{
    if (c->bh)
        st_cache_release(c->r->cache, c->bh);
    else if (c->b)
        st_sst_bundle_free(c->b);
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
        st_sst_pref_release(c->r, &c->p[col]);
    for (int i = 0; i < ST_SST_NCOLS; i++)
        if (c->p[i].bundled)
            return;
    cursor_drop_bundle(c);
}

/*
 * One spare buffer per thread for the lazy value page of a seek (c->lbuf, a page's size). A
 * client that opens an iterator for every seek, as db_bench does, otherwise allocated and freed
 * one per seek: a large-bin request, whose malloc_consolidate and _int_malloc took 8% of such a
 * seek's time. The spare outlives cursors and is freed when its thread exits.
 */
#define SPARE_MAX (256u * 1024u)

static pthread_key_t spare_key;
static int spare_ok;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void
spare_free(void *p)
{
    st_buf_free(p);
    st_free(p);
}

static void
spare_init(void)
{
    spare_ok = pthread_key_create(&spare_key, spare_free) == 0;
}

/* This thread's spare (empty: data NULL), or NULL when there can be none. */
static st_buf *
spare(void)
{
    pthread_once(&spare_once, spare_init);
    if (!spare_ok)
        return NULL;
    st_buf *s = pthread_getspecific(spare_key);
    if (!s && (s = st_calloc(1, sizeof(*s))) && pthread_setspecific(spare_key, s) != 0) {
        st_free(s);
        s = NULL;
    }
    return s;
}

/* c->lbuf, with the thread's spare memory when it has none of its own. */
static st_buf *
cursor_lbuf(st_sst_cursor *c)
{
    st_buf *s;
    if (c->lbuf.cap == 0 && (s = spare()) && s->data) {
        c->lbuf = *s;
        st_buf_init(s);
    }
    return &c->lbuf;
}

void
st_sst_cursor_release(st_sst_cursor *c)
{
    for (int i = 0; i < ST_SST_NCOLS; i++) {
        cursor_release_page(c, i);
        st_free(c->ra[i].buf);
        memset(&c->ra[i], 0, sizeof(c->ra[i]));
    }
    st_buf *s;
    if (c->lbuf.cap > 0 && c->lbuf.cap <= SPARE_MAX && (s = spare()) && !s->data) {
        *s = c->lbuf;
        st_buf_init(&c->lbuf);
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
        int64_t first = rg->oi[col].pages[idx].first_row;
        rc = st_sst_load_value_page(r, c->g, idx, c->fill_cache, c->crc, ra,
                                    c->seeked ? &c->vr : NULL, cursor_lbuf(c),
                                    (uint32_t)(c->row - first), &c->lazy, p);
        c->seeked = 0;
        if (rc == STRATA_OK && c->lazy) {
            c->lg = c->g;
            c->lfirst = first;
            c->lend = st_sst_page_end_row(rg, col, idx);
            c->lrow = -1;
            return cursor_lazy_value(c);
        }
    } else {
        rc = st_sst_load_page(r, c->g, col, idx, c->fill_cache, c->crc, ra, p);
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

/* Pin, for the rows of key page idx, the values of column col, which the row group's chunk
 * statistics give (rg->known): its pages are never read. */
static int
cursor_known_page(st_sst_cursor *c, int col, uint32_t idx)
{
    const st_sst_rg *rg = &c->r->rgs[c->g];
    st_sst_pref *p = &c->p[col];
    cursor_release_page(c, col);
    int64_t first = rg->oi[ST_SST_COL_KEY].pages[idx].first_row;
    int64_t end = st_sst_page_end_row(rg, ST_SST_COL_KEY, idx);
    int rc = st_sst_known_page(c->r, c->g, col, (size_t)(end - first), p);
    if (rc != STRATA_OK)
        return cursor_fail(c, rc);
    p->g = c->g;
    p->idx = idx;
    p->first = first;
    p->end = end;
    return STRATA_OK;
}

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
    /* pages cut at the same rows: the key page's number is every column's (but a known
     * column's, which has its own single page) */
    uint32_t idx = k->pg && k->g == c->g && k->first <= c->row && c->row < k->end
                       ? k->idx
                       : page_for_row(rg, ST_SST_COL_KEY, c->row);
    if (col == ST_SST_COL_VALUE) /* never part of a bundle */
        return cursor_load_page(c, col, idx);
    /* A mapped table: the page number's bundle, cached or built, serves the key, seqno and kind
     * columns with one cache lookup (a read-ahead window buys nothing over the mapping; perf of
     * a full scan put 8% in the hash probes of three bundle probes and three page lookups per
     * step). Otherwise a bundle the cursor holds or the cache has (a seek's or a point lookup's)
     * serves them, else each page alone, through the read-ahead window when iterating. */
    if (c->r->map || c->b || c->r->cache) {
        int pinned;
        ST_RET(cursor_pin_bundle(c, idx, c->r->map ? (c->fill_cache ? 1 : 0) : -1, &pinned));
        /* a cursor stepping onto page idx is iterating: start fetching the cache slots of the
         * next page's bundle and value page, which it looks up when it gets there (the slot
         * misses were 6% of a full scan's samples) */
        if (idx + 1 < rg->oi[ST_SST_COL_KEY].npages)
            st_sst_prefetch_slots(c->r, c->g, idx + 1, 1);
        if (pinned)
            return STRATA_OK;
    }
    if (rg->known[col])
        return cursor_known_page(c, col, idx);
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

int
st_sst_cursor_cmp_key(st_sst_cursor *c, const uint8_t *key, size_t klen, int *cmp)
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
uint32_t
st_sst_rg_lower_bound(const st_sst_reader *r, const uint8_t *key, size_t klen)
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
uint32_t
st_sst_page_lower_bound(const st_sst_rg *rg, const uint8_t *key, size_t klen)
{
    if (!rg->has_kci || rg->kci.boundary_order != ST_PQ_ASCENDING)
        return 0;
    /* search the compact 8-byte prefixes (after the bytes every key of the row group starts
     * with); equal prefixes fall back to the full maximum */
    size_t skip = rg->pfx_skip;
    if (skip) {
        int c = memcmp(key, rg->kmin.p, klen < skip ? klen : skip);
        if (c < 0 || (c == 0 && klen < skip))
            return 0; /* before every key of the row group */
        if (c > 0)
            return rg->kci.npages; /* after every key */
    }
    uint64_t kp = st_sst_key_prefix(key + skip, klen - skip);
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
 * cursor already holds the bundle; else loaded per st_sst_load_bundle's fill). *pinned = 0 when
 * fill < 0 and the bundle is not cached.
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
        int rc = st_sst_load_bundle(r, c->g, idx, fill, c->crc, &h, &b);
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
            st_sst_pref_release(r, p);
        p->pg = c->b->pg[col];
        p->bundled = 1;
        p->g = c->g;
        p->idx = idx;
        p->first = rg->oi[ST_SST_COL_KEY].pages[idx].first_row;
        /* a bundle's pages hold the same rows; a known column's page may be a shared one */
        p->end = p->first + c->b->pg[ST_SST_COL_KEY]->n;
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
    if (have)
        return STRATA_OK;
    /* on a cache miss the bundle decodes the key and seqno pages: start fetching them while the
     * cache is searched */
    st_sst_prefetch_bundle(c->r, &c->r->rgs[c->g], idx);
    return cursor_pin_bundle(c, idx, c->fill_cache, &pinned);
}

void
st_sst_cursor_prefetch(st_sst_cursor *c, const uint8_t *key, size_t klen)
{
    st_sst_reader *r = c->r;
    c->hint_klen = 0;
    if (c->status != STRATA_OK || !r->map || klen > sizeof(c->hint_key))
        return;
    uint32_t g = st_sst_rg_lower_bound(r, key, klen);
    if (g >= r->nrgs)
        return;
    const st_sst_rg *rg = &r->rgs[g];
    if (rg->num_rows == 0 || !rg->aligned || !rg->has_kci ||
        rg->kci.boundary_order != ST_PQ_ASCENDING)
        return;
    uint32_t idx = st_sst_page_lower_bound(rg, key, klen);
    memcpy(c->hint_key, key, klen);
    c->hint_klen = klen;
    c->hint_g = g;
    c->hint_idx = idx;
    if (idx < rg->oi[0].npages && !(c->b && c->bg == g && c->bidx == idx)) {
        st_sst_prefetch_slots(r, g, idx, 1);
        st_sst_prefetch_bundle(r, rg, idx);
        /* a seek mostly reads the value of the row it lands on: fetch its page location now and
         * its header once the seek has the key page (waiting here for the location, a cache
         * miss, held up every other prefetch of the merge) */
        __builtin_prefetch(&rg->oi[ST_SST_COL_VALUE].pages[idx]);
    }
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
    int hinted = c->hint_klen == klen && memcmp(c->hint_key, key, klen) == 0;
    c->hint_klen = 0;
    for (c->g = hinted ? c->hint_g : st_sst_rg_lower_bound(r, key, klen); c->g < r->nrgs; c->g++) {
        st_sst_rg *rg = &r->rgs[c->g];
        if (rg->num_rows == 0)
            continue;
        int bundled = rg->aligned && rg->has_kci && rg->kci.boundary_order == ST_PQ_ASCENDING;
        uint32_t pi =
            hinted && c->g == c->hint_g ? c->hint_idx : st_sst_page_lower_bound(rg, key, klen);
        for (; pi < rg->oi[0].npages; pi++) {
            if (bundled)
                ST_RET(cursor_seek_bundle(c, pi));
            else
                ST_RET(cursor_load_page(c, ST_SST_COL_KEY, pi));
            st_sst_pref *p = &c->p[ST_SST_COL_KEY];
            /* the key page for the search below, and the value page's header the seek will read,
             * whose location the prefetch hint fetched */
            st_sst_prefetch_key_page(p->pg);
            if (r->map && bundled)
                __builtin_prefetch(r->map + rg->oi[ST_SST_COL_VALUE].pages[pi].offset);
            /* binary search in the page for the first key >= key */
            int64_t lo = p->first, hi = p->end;
            while (lo < hi) {
                c->row = lo + (hi - lo) / 2;
                ST_RET(st_sst_cursor_cmp_key(c, key, klen, &cmp));
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
                ST_RET(st_sst_cursor_cmp_key(c, key, klen, &cmp));
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
