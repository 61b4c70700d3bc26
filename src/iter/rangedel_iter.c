/* SPDX-License-Identifier: Apache-2.0 */
/* rangedel_iter.c -- hiding and skipping range-deleted entries (see rangedel_iter.h). */
#include "iter/rangedel_iter.h"

#include "util/alloc.h"
#include "util/buf.h"

typedef struct rdel_iter {
    st_iter base;
    st_iter *child;
    st_rdel_set *set;
    uint64_t snap;
    st_rdel_bound_fn bound;
    void *arg;
    void (*arg_free)(void *);
    st_buf target; /* seek target past a bounded interval */
} rdel_iter;

static void
publish(rdel_iter *it)
{
    st_iter *c = it->child;
    it->base.valid = c->valid;
    if (c->status != STRATA_OK) {
        it->base.valid = 0;
        if (it->base.status == STRATA_OK)
            it->base.status = c->status;
        return;
    }
    if (c->valid)
        st_iter_copy_entry(&it->base, c);
}

/* The seq of the tombstone deleting the child's entry, or 0 when it is visible. */
static uint64_t
deleted_by(const rdel_iter *it, const st_rdel_frag **fp)
{
    const st_iter *c = it->child;
    const st_rdel_frag *f = st_rdel_set_find(it->set, c->key, c->klen);
    if (!f)
        return 0;
    uint64_t t = st_rdel_frag_cover(f, it->snap);
    *fp = f;
    return c->seq < t ? t : 0;
}

static void
skip_forward(rdel_iter *it)
{
    st_iter *c = it->child;
    while (c->valid) {
        const st_rdel_frag *f = NULL;
        uint64_t t = deleted_by(it, &f);
        if (t == 0)
            break;
        st_rdel_bound b = {UINT64_MAX, NULL, NULL, 0, 0};
        it->bound(it->arg, c->key, c->klen, &b);
        if (b.max_seq >= t) {
            st_iter_next(c);
            continue;
        }
        if (b.hi && st_bytes_cmp(b.hi, b.hilen, f->end, f->elen) < 0) {
            /* just past the interval: hi + "\0" is the smallest key after hi */
            st_buf_clear(&it->target);
            int rc = st_buf_append(&it->target, b.hi, b.hilen);
            if (rc == STRATA_OK)
                rc = st_buf_append(&it->target, "", 1);
            if (rc != STRATA_OK) {
                it->base.status = rc;
                break;
            }
            st_iter_seek(c, it->target.data, it->target.len, ST_SEQ_MAX);
        } else {
            st_iter_seek(c, f->end, f->elen, ST_SEQ_MAX);
        }
    }
    publish(it);
}

static void
skip_backward(rdel_iter *it)
{
    st_iter *c = it->child;
    while (c->valid) {
        const st_rdel_frag *f = NULL;
        uint64_t t = deleted_by(it, &f);
        if (t == 0)
            break;
        st_rdel_bound b = {UINT64_MAX, NULL, NULL, 0, 0};
        it->bound(it->arg, c->key, c->klen, &b);
        if (b.max_seq >= t) {
            st_iter_prev(c);
            continue;
        }
        /* before every version of the later of the fragment's start and the interval's */
        if (b.lo && st_bytes_cmp(b.lo, b.lolen, f->start, f->slen) > 0)
            st_iter_seek_for_prev(c, b.lo, b.lolen, ST_SEQ_MAX);
        else
            st_iter_seek_for_prev(c, f->start, f->slen, ST_SEQ_MAX);
    }
    publish(it);
}

static void
ri_seek_first(st_iter *b)
{
    rdel_iter *it = (rdel_iter *)b;
    st_iter_seek_first(it->child);
    skip_forward(it);
}

static void
ri_seek_last(st_iter *b)
{
    rdel_iter *it = (rdel_iter *)b;
    st_iter_seek_last(it->child);
    skip_backward(it);
}

static void
ri_seek(st_iter *b, const uint8_t *key, size_t klen, uint64_t seq)
{
    rdel_iter *it = (rdel_iter *)b;
    st_iter_seek(it->child, key, klen, seq);
    skip_forward(it);
}

static void
ri_seek_for_prev(st_iter *b, const uint8_t *key, size_t klen, uint64_t seq)
{
    rdel_iter *it = (rdel_iter *)b;
    st_iter_seek_for_prev(it->child, key, klen, seq);
    skip_backward(it);
}

static void
ri_next(st_iter *b)
{
    rdel_iter *it = (rdel_iter *)b;
    if (!b->valid)
        return;
    st_iter_next(it->child);
    skip_forward(it);
}

static void
ri_prev(st_iter *b)
{
    rdel_iter *it = (rdel_iter *)b;
    if (!b->valid)
        return;
    st_iter_prev(it->child);
    skip_backward(it);
}

static int
ri_value(st_iter *b)
{
    return st_iter_value_from(b, ((rdel_iter *)b)->child);
}

static void
ri_close(st_iter *b)
{
    rdel_iter *it = (rdel_iter *)b;
    st_iter_close(it->child);
    st_rdel_set_unref(it->set);
    if (it->arg_free)
        it->arg_free(it->arg);
    st_buf_free(&it->target);
    st_free(it);
}

/* A seek starts with the child's seek to the same key. */
static void
ri_prefetch(st_iter *b, const uint8_t *key, size_t klen)
{
    st_iter_prefetch(((rdel_iter *)b)->child, key, klen);
}

static const st_iter_ops rdel_iter_ops = {ri_seek_first,    ri_seek_last, ri_seek,
                                          ri_seek_for_prev, ri_next,      ri_prev,
                                          ri_close,         ri_value,     ri_prefetch};

st_iter *
st_rdel_filter_iter_new(st_iter *child, st_rdel_set *set, uint64_t snap, st_rdel_bound_fn bound,
                        void *arg, void (*arg_free)(void *))
{
    rdel_iter *it = st_calloc(1, sizeof(*it));
    if (!it) {
        st_iter_close(child);
        if (arg_free)
            arg_free(arg);
        return NULL;
    }
    it->base.ops = &rdel_iter_ops;
    it->base.status = STRATA_OK;
    it->child = child;
    it->set = set;
    st_rdel_set_ref(set);
    it->snap = snap;
    it->bound = bound;
    it->arg = arg;
    it->arg_free = arg_free;
    st_buf_init(&it->target);
    return &it->base;
}
