/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_size.c -- how many bytes of a table hold the keys of a range (an estimate from the footer
 * and the page index; no page is read).
 */
#include "sst/sst_internal.h"

/* Rows of row group rg in the pages whose keys may fall in [lower, upper): page granularity,
 * from the key ColumnIndex (ascending pages); -1 when the row group has no usable one. */
static int64_t
rows_in_range(const st_sst_rg *rg, const uint8_t *lower, size_t llen, const uint8_t *upper,
              size_t ulen)
{
    if (!rg->has_kci || rg->kci.boundary_order != ST_PQ_ASCENDING || rg->kci.npages == 0 ||
        rg->kci.npages != rg->oi[ST_SST_COL_KEY].npages)
        return -1;
    const st_pq_column_index *ci = &rg->kci;
    const st_pq_page_location *pages = rg->oi[ST_SST_COL_KEY].pages;
    uint32_t n = ci->npages, p0 = 0, p1 = n;
    if (lower) /* the first page whose largest key is >= lower */
        while (p0 < n && st_bytes_cmp(ci->maxs[p0].p, ci->maxs[p0].len, lower, llen) < 0)
            p0++;
    if (upper) { /* past the first page whose largest key is >= upper (it may hold smaller
                  * keys; only page maxima are kept) */
        p1 = p0;
        while (p1 < n && st_bytes_cmp(ci->maxs[p1].p, ci->maxs[p1].len, upper, ulen) < 0)
            p1++;
        if (p1 < n)
            p1++;
    }
    if (p1 <= p0)
        return 0;
    int64_t end = p1 < n ? pages[p1].first_row : rg->num_rows;
    return end - pages[p0].first_row;
}

int
st_sst_reader_approximate_size(st_sst_reader *r, const uint8_t *lower, size_t llen,
                               const uint8_t *upper, size_t ulen, uint64_t *bytes)
{
    double in = 0, total = 0;
    for (uint32_t g = 0; g < r->nrgs; g++) {
        const st_sst_rg *rg = &r->rgs[g];
        double rg_bytes = 0;
        for (int c = 0; c < ST_SST_NCOLS; c++)
            if (rg->cm[c] && rg->cm[c]->total_compressed_size > 0)
                rg_bytes += (double)rg->cm[c]->total_compressed_size;
        total += rg_bytes;
        if (rg->num_rows <= 0)
            continue;
        if (rg->has_kbounds) {
            if ((lower && st_bytes_cmp(rg->kmax.p, rg->kmax.len, lower, llen) < 0) ||
                (upper && st_bytes_cmp(rg->kmin.p, rg->kmin.len, upper, ulen) >= 0))
                continue; /* wholly outside */
            if ((!lower || st_bytes_cmp(rg->kmin.p, rg->kmin.len, lower, llen) >= 0) &&
                (!upper || st_bytes_cmp(rg->kmax.p, rg->kmax.len, upper, ulen) < 0)) {
                in += rg_bytes; /* wholly inside */
                continue;
            }
        }
        int64_t rows = rows_in_range(rg, lower, llen, upper, ulen);
        /* without a page index the share is unknown: count half the row group */
        in += rows < 0 ? rg_bytes / 2 : rg_bytes * (double)rows / (double)rg->num_rows;
    }
    /* the footer, bloom filters and page index in proportion to the data */
    *bytes = total > 0 ? (uint64_t)(in / total * (double)r->file_size + 0.5) : 0;
    return STRATA_OK;
}

/* A key that cuts row group rg at the first page starting at row >= at (rows counted from the
 * row group's start): the largest key of the page before it, from the key ColumnIndex, else the
 * row group's own smallest key for at == 0; NULL when there is none. */
static const st_pq_bytes *
first_key_from(const st_sst_rg *rg, int64_t at)
{
    if (at <= 0)
        return rg->has_kbounds ? &rg->kmin : NULL;
    if (!rg->has_kci || rg->kci.npages != rg->oi[ST_SST_COL_KEY].npages)
        return NULL;
    for (uint32_t p = 1; p < rg->kci.npages; p++)
        if (rg->oi[ST_SST_COL_KEY].pages[p].first_row >= at)
            return &rg->kci.maxs[p - 1];
    return NULL;
}

int
st_sst_reader_split_keys(const st_sst_reader *r, size_t parts, const uint8_t **keys, size_t *lens)
{
    int64_t total = 0, before = 0;
    for (uint32_t g = 0; g < r->nrgs; g++)
        total += r->rgs[g].num_rows;
    size_t n = 0;
    for (uint32_t g = 0; g < r->nrgs && n + 1 < parts; g++) {
        const st_sst_rg *rg = &r->rgs[g];
        while (n + 1 < parts) { /* the first page at or after each cut's row */
            int64_t cut = total * (int64_t)(n + 1) / (int64_t)parts;
            if (cut >= before + rg->num_rows)
                break; /* in a later row group */
            const st_pq_bytes *k = first_key_from(rg, cut - before);
            if (!k || (n > 0 && st_bytes_cmp(keys[n - 1], lens[n - 1], k->p, k->len) >= 0))
                break; /* none here: the next row group's first key cuts */
            keys[n] = k->p;
            lens[n] = k->len;
            n++;
        }
        before += rg->num_rows;
    }
    return (int)n;
}
