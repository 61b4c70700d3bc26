/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_salvage.c -- read every row of a damaged table that can still be read (st_sst_salvage).
 *
 * Each row group is decoded column by column, page by page, through the offset index: a page
 * whose checksum or encoding fails is skipped (its rows are marked unreadable in that column)
 * and the next page is read where the offset index says it starts. A row is salvaged when its
 * pages of all four columns decoded, it obeys the row rules and it comes after the last
 * salvaged row in entry order; every other row is lost, and runs of lost rows are reported
 * with the tightest key bounds known (their own keys when the key page survived, else the
 * neighbouring salvaged keys, else the footer's key bounds).
 */
#include "sst/sst_internal.h"
#include "util/alloc.h"

#include <stdio.h>
#include <string.h>

/* The decoded pages of one column of a row group (NULL where a page could not be read). */
typedef struct col_pages {
    st_pq_page **pg;
    uint32_t n;
    char why[ST_ERRMSG_MAX]; /* why the first unreadable page was unreadable */
} col_pages;

typedef struct salvage {
    st_sst_reader *r;
    const st_sst_salvage_ops *ops;
    st_buf prev; /* the last salvaged row's key */
    uint64_t prevseq;
    int have_prev;
    int in_rdel; /* salvaging the range tombstone row group (rows of kind 2) */
    /* the pending run of lost rows */
    uint64_t lost;
    int lo_open; /* no lower bound known: the run starts before every salvaged key */
    st_buf lo, hi;
    int hi_known; /* hi holds the key of the run's last row */
    char why[ST_ERRMSG_MAX];
} salvage;

static void
free_pages(col_pages *cp)
{
    for (int c = 0; c < ST_SST_NCOLS; c++) {
        for (uint32_t i = 0; i < cp[c].n; i++)
            st_pq_page_free(cp[c].pg[i]);
        st_free(cp[c].pg);
        cp[c].pg = NULL;
        cp[c].n = 0;
    }
}

/* Decode every page of chunk (g, c) that can be decoded. Only NOMEM is an error. */
static int
load_chunk(st_sst_reader *r, uint32_t g, int c, col_pages *cp)
{
    const st_sst_rg *rg = &r->rgs[g];
    const st_pq_offset_index *oi = &rg->oi[c];
    cp->why[0] = 0;
    cp->n = oi->npages;
    cp->pg = st_calloc(oi->npages ? oi->npages : 1, sizeof(*cp->pg));
    if (!cp->pg)
        return st_err(STRATA_NOMEM, "%s: salvage", r->path);
    st_pq_page *dict = NULL;
    int rc = STRATA_OK, type = -1;
    int64_t next = 0;
    if (rg->dict_off[c] >= 0) {
        rc = st_sst_read_page(r, g, c, rg->dict_off[c], 0, rg->chunk_end[c], NULL, 1, &dict, &type,
                              &next);
        if (rc == STRATA_OK && type != ST_PQ_DICTIONARY_PAGE)
            rc = st_err(STRATA_CORRUPT, "%s: no dictionary page at offset %lld", r->path,
                        (long long)rg->dict_off[c]);
        if (rc == STRATA_NOMEM)
            return rc;
        if (rc != STRATA_OK) { /* every data page needs it */
            snprintf(cp->why, sizeof(cp->why), "%s", st_errmsg());
            st_pq_page_free(dict);
            return STRATA_OK;
        }
    }
    for (uint32_t i = 0; i < oi->npages; i++) {
        const st_pq_page_location *l = &oi->pages[i];
        int64_t end = i + 1 < oi->npages ? oi->pages[i + 1].first_row : rg->num_rows;
        st_pq_page *pg = NULL;
        rc = st_sst_read_page(r, g, c, l->offset, l->compressed_size, rg->chunk_end[c], dict, 1,
                              &pg, &type, &next);
        if (rc == STRATA_OK && (!pg || (int64_t)pg->n != end - l->first_row))
            rc = st_err(STRATA_CORRUPT, "%s: page at offset %lld does not hold its %lld rows",
                        r->path, (long long)l->offset, (long long)(end - l->first_row));
        if (rc == STRATA_OK && c != ST_SST_COL_VALUE && pg->nulls)
            rc = st_err(STRATA_CORRUPT, "%s: null in column %s at offset %lld", r->path,
                        st_sst_col_names[c], (long long)l->offset);
        if (rc == STRATA_NOMEM) {
            st_pq_page_free(dict);
            return rc;
        }
        if (rc != STRATA_OK) {
            st_pq_page_free(pg);
            pg = NULL;
            if (!cp->why[0])
                snprintf(cp->why, sizeof(cp->why), "%s", st_errmsg());
        }
        cp->pg[i] = pg;
    }
    st_pq_page_free(dict);
    return STRATA_OK;
}

/* Report the pending run of lost rows; next_key (may be NULL) is the salvaged row after it. */
static void
flush_lost(salvage *s, const uint8_t *next_key, size_t next_len)
{
    if (s->lost == 0)
        return;
    const st_sst_meta *m = &s->r->meta;
    const uint8_t *lo = s->lo_open ? m->smallest : s->lo.data;
    size_t lol = s->lo_open ? m->smallest_len : s->lo.len;
    const uint8_t *hi = s->hi_known ? s->hi.data : next_key ? next_key : m->largest;
    size_t hil = s->hi_known ? s->hi.len : next_key ? next_len : m->largest_len;
    s->ops->lost(s->ops->arg, lo, lol, hi, hil, s->lost, s->why);
    s->lost = 0;
}

/* Row `row` of the row group is lost; key (NULL when unreadable) is its key. */
static int
lose_row(salvage *s, const uint8_t *key, size_t klen, const char *why)
{
    if (s->lost == 0) {
        st_buf_clear(&s->lo);
        s->lo_open = 0;
        size_t n = strlen(why);
        if (n >= sizeof(s->why))
            n = sizeof(s->why) - 1; /* a long reason is cut, like a truncating snprintf */
        memcpy(s->why, why, n);
        s->why[n] = '\0';
        if (key)
            ST_RET(st_buf_append(&s->lo, key, klen));
        else if (s->have_prev)
            ST_RET(st_buf_append(&s->lo, s->prev.data, s->prev.len));
        else
            s->lo_open = 1;
    }
    s->lost++;
    st_buf_clear(&s->hi);
    s->hi_known = key != NULL;
    return key ? st_buf_append(&s->hi, key, klen) : STRATA_OK;
}

/* The row's problem, or NULL: every page present, the row rules, the entry order. */
static const char *
row_problem(salvage *s, col_pages *cp, const uint32_t *idx, int64_t row, const int64_t *first,
            char *buf, size_t n, const uint8_t **key, size_t *klen, const uint8_t **val,
            size_t *vlen, uint64_t *seq, int *kind)
{
    const st_pq_page *p[ST_SST_NCOLS];
    for (int c = 0; c < ST_SST_NCOLS; c++)
        p[c] = cp[c].pg[idx[c]];
    size_t i = 0;
    if (p[ST_SST_COL_KEY]) {
        i = (size_t)(row - first[ST_SST_COL_KEY]);
        *key = p[ST_SST_COL_KEY]->data + p[ST_SST_COL_KEY]->offs[i];
        *klen = p[ST_SST_COL_KEY]->offs[i + 1] - p[ST_SST_COL_KEY]->offs[i];
    }
    for (int c = 0; c < ST_SST_NCOLS; c++)
        if (!p[c]) {
            snprintf(buf, n, "%s", cp[c].why);
            return buf;
        }
    int64_t sq = p[ST_SST_COL_SEQNO]->ints[row - first[ST_SST_COL_SEQNO]];
    int64_t k = p[ST_SST_COL_KIND]->ints[row - first[ST_SST_COL_KIND]];
    const st_pq_page *vp = p[ST_SST_COL_VALUE];
    size_t vi = (size_t)(row - first[ST_SST_COL_VALUE]);
    int null = vp->nulls ? vp->nulls[vi] : 0;
    if (s->in_rdel) {
        /* the range tombstone row group: kind 2, a non-null end after the begin */
        const uint8_t *e = vp->data ? vp->data + vp->offs[vi] : (const uint8_t *)"";
        size_t el = vp->offs[vi + 1] - vp->offs[vi];
        if (k != ST_KIND_RANGE_DELETE) {
            snprintf(buf, n, "kind %lld in the range tombstone row group (must be 2)",
                     (long long)k);
            return buf;
        }
        if (st_sst_row_problem(buf, n, sq, ST_KIND_PUT, *klen, null))
            return buf;
        if (el == 0 || el > ST_SST_MAX_KEY || st_bytes_cmp(*key, *klen, e, el) >= 0) {
            snprintf(buf, n, "range tombstone whose end is not a key after its begin");
            return buf;
        }
    } else if (st_sst_row_problem(buf, n, sq, k, *klen, null)) {
        return buf;
    }
    if (s->have_prev &&
        st_entry_cmp(s->prev.data, s->prev.len, s->prevseq, *key, *klen, (uint64_t)sq) >= 0) {
        snprintf(buf, n, "row out of order (rows are sorted by key, then newest first)");
        return buf;
    }
    *val = vp->data ? vp->data + vp->offs[vi] : (const uint8_t *)"";
    *vlen = vp->offs[vi + 1] - vp->offs[vi];
    *seq = (uint64_t)sq;
    *kind = (int)k;
    return NULL;
}

static int
salvage_row_group(salvage *s, uint32_t g)
{
    st_sst_reader *r = s->r;
    const st_sst_rg *rg = &r->rgs[g];
    col_pages cp[ST_SST_NCOLS];
    memset(cp, 0, sizeof(cp));
    int rc = STRATA_OK;
    for (int c = 0; c < ST_SST_NCOLS && rc == STRATA_OK; c++)
        rc = load_chunk(r, g, c, &cp[c]);
    uint32_t idx[ST_SST_NCOLS] = {0};
    int64_t first[ST_SST_NCOLS] = {0};
    char why[ST_ERRMSG_MAX + 64];
    for (int64_t row = 0; rc == STRATA_OK && row < rg->num_rows; row++) {
        for (int c = 0; c < ST_SST_NCOLS; c++) {
            const st_pq_offset_index *oi = &rg->oi[c];
            while (idx[c] + 1 < oi->npages && oi->pages[idx[c] + 1].first_row <= row)
                idx[c]++;
            first[c] = oi->pages[idx[c]].first_row;
        }
        const uint8_t *key = NULL, *val = NULL;
        size_t klen = 0, vlen = 0;
        uint64_t seq = 0;
        int kind = 0;
        const char *bad = row_problem(s, cp, idx, row, first, why, sizeof(why), &key, &klen, &val,
                                      &vlen, &seq, &kind);
        if (bad) {
            rc = lose_row(s, key, klen, bad);
            continue;
        }
        flush_lost(s, key, klen);
        rc = s->ops->entry(s->ops->arg, key, klen, seq, kind, val, vlen);
        if (rc == STRATA_OK) {
            st_buf_clear(&s->prev);
            rc = st_buf_append(&s->prev, key, klen);
            s->prevseq = seq;
            s->have_prev = 1;
        }
    }
    free_pages(cp);
    return rc;
}

int
st_sst_salvage(st_env *env, const char *path, const st_sst_salvage_ops *ops)
{
    st_sst_reader *r = NULL;
    ST_RET(st_sst_reader_open_flags(env, path, NULL, ST_SST_OPEN_RAW, &r));
    salvage s;
    memset(&s, 0, sizeof(s));
    s.r = r;
    s.ops = ops;
    int rc = STRATA_OK;
    for (uint32_t g = 0; g < r->nrgs && rc == STRATA_OK; g++)
        rc = salvage_row_group(&s, g);
    if (rc == STRATA_OK && r->meta.range_tombstones) {
        /* range tombstones (kind 2, value = end) restart the order: begin asc, seqno desc */
        flush_lost(&s, NULL, 0);
        s.in_rdel = 1;
        s.have_prev = 0;
        rc = salvage_row_group(&s, r->rdel_rg);
    }
    if (rc == STRATA_OK)
        flush_lost(&s, NULL, 0);
    st_buf_free(&s.prev);
    st_buf_free(&s.lo);
    st_buf_free(&s.hi);
    st_sst_reader_unref(r);
    return rc;
}
