/* SPDX-License-Identifier: Apache-2.0 */
/* sst_iter.c -- the st_iter over one table, with optional [lower, upper) key bounds. */
#include "sst/sst_internal.h"
#include "util/alloc.h"

#include <string.h>

typedef struct sst_iter {
    st_iter base;
    st_sst_cursor cur;
    const uint8_t *lower, *upper;
    size_t llen, ulen;
    int lazy; /* ST_SST_ITER_LAZY_VALUES */
} sst_iter;

/* Publish the cursor's entry into base, applying the bounds. */
static void
publish(sst_iter *it)
{
    st_iter *b = &it->base;
    b->valid = 0;
    if (it->cur.status != STRATA_OK) {
        b->status = it->cur.status;
        return;
    }
    if (!it->cur.valid)
        return;
    int rc = it->lazy ? st_sst_cursor_entry_head(&it->cur, &b->key, &b->klen, &b->seq, &b->kind)
                      : st_sst_cursor_entry(&it->cur, &b->key, &b->klen, &b->seq, &b->kind, &b->val,
                                            &b->vlen);
    b->lazy_val = it->lazy;
    if (rc != STRATA_OK) {
        b->status = rc;
        return;
    }
    if (it->upper && st_bytes_cmp(b->key, b->klen, it->upper, it->ulen) >= 0)
        return;
    if (it->lower && st_bytes_cmp(b->key, b->klen, it->lower, it->llen) < 0)
        return;
    b->valid = 1;
}

static void
it_seek_first(st_iter *bi)
{
    sst_iter *it = (sst_iter *)bi;
    if (it->lower)
        st_sst_cursor_seek(&it->cur, it->lower, it->llen, ST_SEQ_MAX);
    else
        st_sst_cursor_first(&it->cur);
    publish(it);
}

static void
it_seek_last(st_iter *bi)
{
    sst_iter *it = (sst_iter *)bi;
    if (it->upper) {
        st_sst_cursor_seek(&it->cur, it->upper, it->ulen, ST_SEQ_MAX);
        if (it->cur.valid)
            st_sst_cursor_prev(&it->cur);
        else if (it->cur.status == STRATA_OK)
            st_sst_cursor_last(&it->cur);
    } else {
        st_sst_cursor_last(&it->cur);
    }
    publish(it);
}

static void
it_seek(st_iter *bi, const uint8_t *key, size_t klen, uint64_t seq)
{
    sst_iter *it = (sst_iter *)bi;
    if (it->lower && st_bytes_cmp(key, klen, it->lower, it->llen) < 0) {
        key = it->lower;
        klen = it->llen;
        seq = ST_SEQ_MAX;
    }
    st_sst_cursor_seek(&it->cur, key, klen, seq);
    publish(it);
}

static void
it_seek_for_prev(st_iter *bi, const uint8_t *key, size_t klen, uint64_t seq)
{
    sst_iter *it = (sst_iter *)bi;
    if (it->upper && st_bytes_cmp(key, klen, it->upper, it->ulen) >= 0) {
        it_seek_last(bi);
        return;
    }
    st_sst_cursor *c = &it->cur;
    st_sst_cursor_seek(c, key, klen, seq);
    if (c->valid) {
        const uint8_t *k, *v;
        size_t kl, vl;
        uint64_t s;
        int kind;
        if (st_sst_cursor_entry(c, &k, &kl, &s, &kind, &v, &vl) == STRATA_OK &&
            st_entry_cmp(k, kl, s, key, klen, seq) > 0)
            st_sst_cursor_prev(c);
    } else if (c->status == STRATA_OK) {
        st_sst_cursor_last(c);
    }
    publish(it);
}

static void
it_next(st_iter *bi)
{
    sst_iter *it = (sst_iter *)bi;
    if (!bi->valid)
        return;
    st_sst_cursor_next(&it->cur);
    publish(it);
}

static void
it_prev(st_iter *bi)
{
    sst_iter *it = (sst_iter *)bi;
    if (!bi->valid)
        return;
    st_sst_cursor_prev(&it->cur);
    publish(it);
}

static void
it_close(st_iter *bi)
{
    sst_iter *it = (sst_iter *)bi;
    st_sst_reader *r = it->cur.r;
    st_sst_cursor_release(&it->cur);
    st_free(it);
    st_sst_reader_unref(r);
}

static int
it_value(st_iter *bi)
{
    sst_iter *it = (sst_iter *)bi;
    if (!bi->valid || !bi->lazy_val)
        return bi->status;
    int rc = st_sst_cursor_value(&it->cur, bi->kind, &bi->val, &bi->vlen);
    if (rc != STRATA_OK) {
        bi->valid = 0;
        bi->status = rc;
        return rc;
    }
    bi->lazy_val = 0;
    return STRATA_OK;
}

static void
it_prefetch(st_iter *bi, const uint8_t *key, size_t klen)
{
    sst_iter *it = (sst_iter *)bi;
    if (!(it->lower && st_bytes_cmp(key, klen, it->lower, it->llen) < 0))
        st_sst_cursor_prefetch(&it->cur, key, klen);
}

static const st_iter_ops sst_iter_ops = {it_seek_first,    it_seek_last, it_seek,
                                         it_seek_for_prev, it_next,      it_prev,
                                         it_close,         it_value,     it_prefetch};

int
st_sst_reader_iter(st_sst_reader *r, const uint8_t *lower, size_t llen, const uint8_t *upper,
                   size_t ulen, int flags, st_iter **out)
{
    *out = NULL;
    sst_iter *it = st_calloc(1, sizeof(*it));
    if (!it)
        return st_err(STRATA_NOMEM, "%s: iterator", r->path);
    it->base.ops = &sst_iter_ops;
    it->lower = lower;
    it->llen = llen;
    it->upper = upper;
    it->ulen = ulen;
    st_sst_reader_ref(r);
    st_sst_cursor_init(&it->cur, r, (flags & ST_SST_ITER_FILL_CACHE) != 0);
    it->cur.crc = st_sst_crc_mode(flags);
    it->lazy = (flags & ST_SST_ITER_LAZY_VALUES) != 0;
    it->cur.readahead = 1;
    *out = &it->base;
    return STRATA_OK;
}
