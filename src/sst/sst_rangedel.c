/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_rangedel.c -- a table's range tombstones: the last row group of a table whose footer
 * counts strata.range_tombstones > 0 (doc/format_sst.md), read once at open into a fragmented
 * set (iter/rangedel.h). The point row groups before it, and so every get and iterator of the
 * reader, never see these rows; tables without range tombstones pay nothing.
 */
#include "sst/sst_internal.h"
#include "util/alloc.h"
#include "util/coding.h"

#include <string.h>

static int
bad_row(st_sst_reader *r, int64_t row, const char *why)
{
    return st_err(STRATA_CORRUPT, "%s: bad range tombstone in row group %u row %lld: %s", r->path,
                  r->rdel_rg, (long long)row, why);
}

int
st_sst_range_dels_read(st_sst_reader *r, int (*fn)(void *arg, const st_rdel *t), void *arg)
{
    const st_sst_rg *rg = &r->rgs[r->rdel_rg];
    const st_pq_column_meta *km = rg->cm[ST_SST_COL_KIND];
    /* every row is kind 2: the kind chunk's statistics say so (strata writes them) */
    if (!km->has_stats || !km->stats.has_min || !km->stats.has_max || km->stats.min.len != 4 ||
        km->stats.max.len != 4 || st_get_fixed32(km->stats.min.p) != ST_KIND_RANGE_DELETE ||
        st_get_fixed32(km->stats.max.p) != ST_KIND_RANGE_DELETE)
        return bad_row(r, 0, "the kind column of the row group is not 2 (range delete) throughout");
    st_sst_cursor c;
    st_sst_cursor_init(&c, r, 0);
    st_buf prev;
    st_buf_init(&prev);
    uint64_t prevseq = 0;
    int rc = STRATA_OK;
    for (int64_t row = 0; row < rg->num_rows && rc == STRATA_OK; row++) {
        c.g = r->rdel_rg;
        c.row = row;
        c.valid = 1;
        for (int col = 0; col < ST_SST_NCOLS && rc == STRATA_OK; col++)
            if (col != ST_SST_COL_KIND)
                rc = st_sst_cursor_load(&c, col);
        if (rc != STRATA_OK)
            break;
        st_rdel t;
        int knull, vnull;
        st_sst_cursor_bytes(&c, ST_SST_COL_KEY, &t.begin, &t.blen, &knull);
        st_sst_cursor_bytes(&c, ST_SST_COL_VALUE, &t.end, &t.elen, &vnull);
        int64_t seq = st_sst_cursor_int(&c, ST_SST_COL_SEQNO);
        t.seq = (uint64_t)seq;
        if (knull || vnull)
            rc = bad_row(r, row, "a null begin or end key");
        else if (t.blen == 0 || t.blen > ST_SST_MAX_KEY || t.elen == 0 || t.elen > ST_SST_MAX_KEY)
            rc = bad_row(r, row, "a begin or end key outside 1..65536 bytes");
        else if (seq < 0 || (uint64_t)seq > ST_SEQ_MAX)
            rc = bad_row(r, row, "seqno outside 0..2^56-1");
        else if (st_bytes_cmp(t.begin, t.blen, t.end, t.elen) >= 0)
            rc = bad_row(r, row, "begin (key) is not before end (value)");
        else if (row > 0 && st_entry_cmp(prev.data, prev.len, prevseq, t.begin, t.blen, t.seq) >= 0)
            rc = bad_row(r, row, "out of order (begin ascending, then seqno descending)");
        else if (st_bytes_cmp(t.begin, t.blen, r->meta.smallest, r->meta.smallest_len) < 0 ||
                 st_bytes_cmp(t.end, t.elen, r->meta.largest, r->meta.largest_len) > 0)
            rc = bad_row(r, row, "outside the table's key bounds");
        else if (t.seq < r->meta.min_seq || t.seq > r->meta.max_seq)
            rc = bad_row(r, row, "seqno outside the table's seqno range");
        if (rc != STRATA_OK)
            break;
        st_buf_clear(&prev);
        if ((rc = st_buf_append(&prev, t.begin, t.blen)) != STRATA_OK)
            break;
        prevseq = t.seq;
        if (fn)
            rc = fn(arg, &t);
    }
    st_sst_cursor_release(&c);
    st_buf_free(&prev);
    return rc;
}

typedef struct collect {
    st_rdel *v;
    size_t n;
    st_buf keys;
} collect;

static int
collect_one(void *arg, const st_rdel *t)
{
    collect *c = arg;
    /* the keys point into pages the cursor may release: copy them (offsets for now) */
    size_t off = c->keys.len;
    ST_RET(st_buf_append(&c->keys, t->begin, t->blen));
    ST_RET(st_buf_append(&c->keys, t->end, t->elen));
    c->v[c->n++] = (st_rdel){(const uint8_t *)(uintptr_t)off, t->blen, NULL, t->elen, t->seq};
    return STRATA_OK;
}

int
st_sst_range_dels_load(st_sst_reader *r)
{
    uint64_t n = r->meta.range_tombstones;
    collect c;
    memset(&c, 0, sizeof(c));
    if (!(c.v = st_malloc((size_t)n * sizeof(*c.v))))
        return st_err(STRATA_NOMEM, "%s: out of memory loading %llu range tombstones", r->path,
                      (unsigned long long)n);
    int rc = st_sst_range_dels_read(r, collect_one, &c);
    if (rc == STRATA_OK) {
        for (size_t i = 0; i < c.n; i++) {
            size_t off = (size_t)(uintptr_t)c.v[i].begin;
            c.v[i].begin = c.keys.data + off;
            c.v[i].end = c.keys.data + off + c.v[i].blen;
        }
        rc = st_rdel_set_build(c.v, c.n, ST_SEQ_MAX, &r->rdels);
    }
    st_free(c.v);
    st_buf_free(&c.keys);
    return rc;
}

st_rdel_set *
st_sst_reader_range_dels(const st_sst_reader *r)
{
    return r->rdels;
}
