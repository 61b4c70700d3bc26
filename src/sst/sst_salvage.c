/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_salvage.c -- read every row of a damaged table that can still be read (st_sst_salvage).
 *
 * When the footer reads, each row group is decoded column by column, page by page, through the
 * offset index: a page whose checksum or encoding fails is skipped (its rows are marked
 * unreadable in that column) and the next page is read where the offset index says it starts.
 * A row is salvaged when its pages of all four columns decoded, it obeys the row rules and it
 * comes after the last salvaged row in entry order (the sink, sst_salvage_sink.c); every other
 * row is lost, reported with the tightest key bounds known (the footer's key bounds at the
 * ends). When the footer cannot be read, or its page index loses rows that a walk of the pages
 * salvages, the pages are walked instead (sst_salvage_walk.c).
 */
#include "sst/sst_salvage.h"

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

static int
salvage_row_group(st_sst_reader *r, st_sst_sink *s, uint32_t g)
{
    const st_sst_rg *rg = &r->rgs[g];
    col_pages cp[ST_SST_NCOLS];
    memset(cp, 0, sizeof(cp));
    int rc = STRATA_OK;
    for (int c = 0; c < ST_SST_NCOLS && rc == STRATA_OK; c++)
        rc = load_chunk(r, g, c, &cp[c]);
    /* a damaged page of a seqno or kind column the chunk statistics give (rg->known) costs no
     * row: its values are known */
    for (int c = ST_SST_COL_SEQNO; c <= ST_SST_COL_KIND && rc == STRATA_OK; c++) {
        const st_pq_offset_index *oi = &rg->oi[c];
        for (uint32_t i = 0; rg->known[c] && i < cp[c].n && rc == STRATA_OK; i++) {
            int64_t end = i + 1 < oi->npages ? oi->pages[i + 1].first_row : rg->num_rows;
            if (!cp[c].pg[i] && end > oi->pages[i].first_row)
                rc = st_pq_page_const_int(rg->desc[c].type, (size_t)(end - oi->pages[i].first_row),
                                          rg->known_val[c], &cp[c].pg[i]);
        }
    }
    uint32_t idx[ST_SST_NCOLS] = {0};
    for (int64_t row = 0; rc == STRATA_OK && row < rg->num_rows; row++) {
        const st_pq_page *p[ST_SST_NCOLS];
        size_t i[ST_SST_NCOLS];
        const char *why = NULL;
        for (int c = 0; c < ST_SST_NCOLS; c++) {
            const st_pq_offset_index *oi = &rg->oi[c];
            while (idx[c] + 1 < oi->npages && oi->pages[idx[c] + 1].first_row <= row)
                idx[c]++;
            p[c] = cp[c].pg[idx[c]];
            i[c] = (size_t)(row - oi->pages[idx[c]].first_row);
            if (!p[c] && !why)
                why = cp[c].why;
        }
        const st_pq_page *kp = p[ST_SST_COL_KEY], *vp = p[ST_SST_COL_VALUE];
        const uint8_t *key = kp ? kp->data + kp->offs[i[0]] : NULL;
        size_t klen = kp ? kp->offs[i[0] + 1] - kp->offs[i[0]] : 0;
        if (why) {
            rc = st_sst_sink_lose(s, key, klen, why);
            continue;
        }
        size_t vi = i[ST_SST_COL_VALUE];
        rc = st_sst_sink_row(s, key, klen, p[ST_SST_COL_SEQNO]->ints[i[ST_SST_COL_SEQNO]],
                             p[ST_SST_COL_KIND]->ints[i[ST_SST_COL_KIND]],
                             vp->data ? vp->data + vp->offs[vi] : NULL,
                             vp->offs[vi + 1] - vp->offs[vi], vp->nulls ? vp->nulls[vi] : 0);
    }
    free_pages(cp);
    return rc;
}

int
st_sst_salvage_footer(st_sst_reader *r, const st_sst_salvage_ops *ops)
{
    const st_sst_meta *m = &r->meta;
    st_sst_sink s;
    st_sst_sink_init(&s, ops, m->smallest, m->smallest_len, m->largest, m->largest_len);
    int rc = STRATA_OK;
    /* the point row groups, then the range tombstones' (the sink switches at its first row) */
    uint32_t ngroups = r->nrgs + (r->meta.range_tombstones ? 1 : 0);
    for (uint32_t g = 0; g < ngroups && rc == STRATA_OK; g++)
        rc = salvage_row_group(r, &s, g);
    if (rc == STRATA_OK)
        st_sst_sink_finish(&s);
    st_sst_sink_free(&s);
    return rc;
}

/* ---- choosing between the footer and the page walk ------------------------------------------ */

typedef struct tally {
    uint64_t rows, lost;
    int more;
} tally;

static int
tally_entry(void *arg, const uint8_t *key, size_t klen, uint64_t seq, int kind, const uint8_t *val,
            size_t vlen)
{
    (void)key, (void)klen, (void)seq, (void)kind, (void)val, (void)vlen;
    ((tally *)arg)->rows++;
    return STRATA_OK;
}

static void
tally_lost(void *arg, const uint8_t *lo, size_t lolen, const uint8_t *hi, size_t hilen,
           uint64_t rows, int more, const char *why)
{
    (void)lo, (void)lolen, (void)hi, (void)hilen, (void)why;
    tally *t = arg;
    t->lost += rows;
    t->more |= more;
}

int
st_sst_salvage(st_env *env, const char *path, const st_sst_salvage_ops *ops, int *walked)
{
    st_sst_reader *r = NULL;
    *walked = 0;
    /* raw: a damaged range tombstone row group is salvaged row by row, not a failed open */
    int rc = st_sst_reader_open_flags(env, path, NULL, ST_SST_OPEN_RAW, &r);
    if (rc == STRATA_NOMEM)
        return rc;
    if (rc != STRATA_OK) {
        *walked = 1;
        return st_sst_salvage_walk(env, path, ops);
    }
    /* A footer that reads may still disagree with the pages (row counts, offsets): when its
     * page index loses rows, the page walk is tried too and the one salvaging more is used. */
    tally ft = {0, 0, 0}, wt = {0, 0, 0};
    st_sst_salvage_ops fops = {tally_entry, tally_lost, &ft}, wops = {tally_entry, tally_lost, &wt};
    rc = st_sst_salvage_footer(r, &fops);
    if (rc == STRATA_OK && (ft.lost > 0 || ft.more)) {
        rc = st_sst_salvage_walk(env, path, &wops);
        if (rc == STRATA_OK && wt.rows > ft.rows)
            *walked = 1;
        else if (rc != STRATA_NOMEM)
            rc = STRATA_OK;
    }
    if (rc == STRATA_OK)
        rc = *walked ? st_sst_salvage_walk(env, path, ops) : st_sst_salvage_footer(r, ops);
    st_sst_reader_unref(r);
    return rc;
}
