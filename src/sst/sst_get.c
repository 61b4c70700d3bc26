/* SPDX-License-Identifier: Apache-2.0 */
/* sst_get.c -- point lookups in a table: bloom filter, page bundle, one value. */
#include "parquet/codec.h"
#include "sst/sst_internal.h"
#include "util/alloc.h"
#include "util/coding.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- point lookups -------------------------------------------------------------------------- */

/* Key range + bloom: 0 = certainly absent. *g_out = the candidate row group. */
static int
may_contain(st_sst_reader *r, const uint8_t *key, size_t klen, uint32_t *g_out)
{
    const st_sst_meta *m = &r->meta;
    if (m->entries == 0 || st_bytes_cmp(key, klen, m->smallest, m->smallest_len) < 0 ||
        st_bytes_cmp(key, klen, m->largest, m->largest_len) > 0)
        return 0;
    uint32_t g = st_sst_rg_lower_bound(r, key, klen);
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
    st_pq_value_reader vr;
    int lazy;
    ST_RET(st_sst_load_value_page(r, g, idx, 1, ST_SST_CRC_ONCE, NULL, &vr, val, row, &lazy, vp));
    if (lazy)
        return st_pq_value_reader_get(&vr, row, v, vl, isnull);
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
    uint32_t idx = st_sst_page_lower_bound(rg, key, klen);
    if (idx >= rg->oi[0].npages)
        return STRATA_OK;
    /* The bloom filter passed, so the key is most likely on this page and its value will be read:
     * start fetching the value page's location while the bundle is looked up, then its header
     * (cold memory) while the key page is searched (prefetching that header at once would wait
     * here for the location, itself a cache miss). The cache slots of the bundle and the value
     * page, and the headers of the key and seqno pages a bundle miss decodes, are fetched now. */
    const st_pq_page_location *vloc = &rg->oi[ST_SST_COL_VALUE].pages[idx];
    __builtin_prefetch(vloc);
    st_sst_prefetch_slots(r, g, idx, val != NULL);
    st_sst_prefetch_bundle(r, rg, idx);
    st_cache_handle *h = NULL;
    st_sst_bundle *b = NULL;
    ST_RET(st_sst_load_bundle(r, g, idx, 1, ST_SST_CRC_ONCE, &h, &b));
    if (r->map && val)
        __builtin_prefetch(r->map + vloc->offset);
    const st_pq_page *kp = b->pg[ST_SST_COL_KEY];
    const int64_t *seqs = b->pg[ST_SST_COL_SEQNO]->ints;
    st_sst_prefetch_key_page(kp);
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
                st_sst_pref_release(r, &vp);
        }
    }
    if (h)
        st_cache_release(r->cache, h);
    else
        st_sst_bundle_free(b); /* not admitted: private */
    return rc;
}

int
st_sst_reader_get(st_sst_reader *r, const uint8_t *key, size_t klen, uint64_t snap_seq, int flags,
                  int *kind, st_buf *val, uint64_t *seq)
{
    uint32_t g;
    int done;
    if (flags & ST_SST_FILTER_PASSED)
        g = st_sst_rg_lower_bound(r, key, klen); /* the row group may_contain would pick */
    else if (!may_contain(r, key, klen, &g))
        return STRATA_NOTFOUND;
    int rc = get_bundled(r, g, key, klen, snap_seq, flags, kind, val, seq, &done);
    if (rc != STRATA_OK || done)
        return rc;
    st_sst_cursor c;
    st_sst_cursor_init(&c, r, (flags & ST_SST_ITER_FILL_CACHE) != 0);
    c.crc = st_sst_crc_mode(flags);
    int cmp = 1;
    rc = st_sst_cursor_seek(&c, key, klen, snap_seq);
    if (rc == STRATA_OK && c.valid)
        rc = st_sst_cursor_cmp_key(&c, key, klen, &cmp);
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
