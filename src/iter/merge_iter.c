/* SPDX-License-Identifier: Apache-2.0 */
/*
 * merge_iter.c -- k-way merge of internal iterators with a binary heap per direction.
 *
 * Forward, the heap is a min-heap in entry order (ties: lower child index first); backward it is
 * a max-heap (ties: higher child index first), so a backward walk is the exact mirror of a
 * forward one. Switching direction repositions every child other than the current one just past
 * the current entry, as LevelDB's MergingIterator does.
 */
#include "iter/iter.h"
#include "util/alloc.h"

typedef struct merge_iter {
    st_iter base;
    st_iter **child;
    size_t n;
    size_t *heap; /* child indexes of valid children */
    size_t hn;
    int dir; /* 1 forward, -1 backward */
} merge_iter;

static int
before(const merge_iter *m, size_t a, size_t b)
{
    const st_iter *x = m->child[a], *y = m->child[b];
    int c = st_entry_cmp(x->key, x->klen, x->seq, y->key, y->klen, y->seq);
    if (c == 0)
        c = a < b ? -1 : 1;
    return m->dir > 0 ? c < 0 : c > 0;
}

static void
sift_down(merge_iter *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < m->hn && before(m, m->heap[l], m->heap[best]))
            best = l;
        if (r < m->hn && before(m, m->heap[r], m->heap[best]))
            best = r;
        if (best == i)
            return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

static void
set_current(merge_iter *m)
{
    st_iter *b = &m->base;
    if (b->status != STRATA_OK || m->hn == 0) {
        b->valid = 0;
        return;
    }
    b->valid = 1;
    st_iter_copy_entry(b, m->child[m->heap[0]]);
}

static int
m_value(st_iter *it)
{
    merge_iter *m = (merge_iter *)it;
    if (!it->valid || !it->lazy_val)
        return it->status;
    return st_iter_value_from(it, m->child[m->heap[0]]);
}

static int
check_child(merge_iter *m, st_iter *c)
{
    if (c->status != STRATA_OK) {
        if (m->base.status == STRATA_OK)
            m->base.status = c->status;
        return 0;
    }
    return c->valid;
}

/* Rebuild the heap from every valid child, for direction dir. */
static void
rebuild(merge_iter *m, int dir)
{
    m->dir = dir;
    m->hn = 0;
    for (size_t i = 0; i < m->n; i++)
        if (check_child(m, m->child[i]))
            m->heap[m->hn++] = i;
    for (size_t i = m->hn / 2; i-- > 0;)
        sift_down(m, i);
    set_current(m);
}

static void
m_seek_first(st_iter *it)
{
    merge_iter *m = (merge_iter *)it;
    for (size_t i = 0; i < m->n; i++)
        st_iter_seek_first(m->child[i]);
    rebuild(m, 1);
}

static void
m_seek_last(st_iter *it)
{
    merge_iter *m = (merge_iter *)it;
    for (size_t i = 0; i < m->n; i++)
        st_iter_seek_last(m->child[i]);
    rebuild(m, -1);
}

static void
m_seek(st_iter *it, const uint8_t *key, size_t klen, uint64_t seq)
{
    merge_iter *m = (merge_iter *)it;
    for (size_t i = 0; i < m->n; i++)
        st_iter_prefetch(m->child[i], key, klen);
    for (size_t i = 0; i < m->n; i++)
        st_iter_seek(m->child[i], key, klen, seq);
    rebuild(m, 1);
}

static void
m_seek_for_prev(st_iter *it, const uint8_t *key, size_t klen, uint64_t seq)
{
    merge_iter *m = (merge_iter *)it;
    for (size_t i = 0; i < m->n; i++)
        st_iter_seek_for_prev(m->child[i], key, klen, seq);
    rebuild(m, -1);
}

/* Advance the top child one step in the heap's direction and restore the heap. */
static void
step_top(merge_iter *m)
{
    size_t top = m->heap[0];
    st_iter *c = m->child[top];
    if (m->dir > 0)
        st_iter_next(c);
    else
        st_iter_prev(c);
    if (!check_child(m, c))
        m->heap[0] = m->heap[--m->hn];
    if (m->hn > 0)
        sift_down(m, 0);
    set_current(m);
}

/* Put every child other than the current one strictly past the current entry in direction dir
 * (the current child stays where it is), then rebuild. */
static void
switch_direction(merge_iter *m, int dir)
{
    size_t cur = m->heap[0];
    const st_iter *c = m->child[cur];
    const uint8_t *k = c->key;
    size_t kl = c->klen;
    uint64_t s = c->seq;
    for (size_t i = 0; i < m->n; i++) {
        if (i == cur)
            continue;
        st_iter *x = m->child[i];
        if (dir > 0) {
            st_iter_seek(x, k, kl, s);
            /* Equal entries of a lower index were already returned going backward. */
            while (x->valid && st_entry_cmp(x->key, x->klen, x->seq, k, kl, s) == 0 && i < cur)
                st_iter_next(x);
        } else {
            st_iter_seek_for_prev(x, k, kl, s);
            while (x->valid && st_entry_cmp(x->key, x->klen, x->seq, k, kl, s) == 0 && i > cur)
                st_iter_prev(x);
        }
    }
    rebuild(m, dir);
    /* After the rebuild the current child is at the top again (it sorts first among the
     * remaining entries); now take the step. */
}

static void
m_next(st_iter *it)
{
    merge_iter *m = (merge_iter *)it;
    if (!it->valid)
        return;
    if (m->dir < 0)
        switch_direction(m, 1);
    if (it->valid)
        step_top(m);
}

static void
m_prev(st_iter *it)
{
    merge_iter *m = (merge_iter *)it;
    if (!it->valid)
        return;
    if (m->dir > 0)
        switch_direction(m, -1);
    if (it->valid)
        step_top(m);
}

static void
m_close(st_iter *it)
{
    merge_iter *m = (merge_iter *)it;
    st_iters_close(m->child, m->n);
    st_free(m->child);
    st_free(m->heap);
    st_free(m);
}

static const st_iter_ops merge_ops = {
    m_seek_first, m_seek_last, m_seek, m_seek_for_prev, m_next, m_prev, m_close, m_value, NULL,
};

st_iter *
st_merge_iter_new(st_iter **children, size_t n)
{
    merge_iter *m = st_calloc(1, sizeof(*m));
    st_iter **ch = st_calloc(n ? n : 1, sizeof(*ch));
    size_t *heap = st_calloc(n ? n : 1, sizeof(*heap));
    if (!m || !ch || !heap) {
        st_free(m);
        st_free(ch);
        st_free(heap);
        st_iters_close(children, n);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        ch[i] = children[i];
    m->base.ops = &merge_ops;
    m->child = ch;
    m->n = n;
    m->heap = heap;
    m->dir = 1;
    return &m->base;
}

/* ---- error / empty iterator ---- */

static void
e_noop(st_iter *it)
{
    (void)it;
}
static void
e_seek(st_iter *it, const uint8_t *k, size_t kl, uint64_t s)
{
    (void)it;
    (void)k;
    (void)kl;
    (void)s;
}
static void
e_close(st_iter *it)
{
    st_free(it);
}

static const st_iter_ops error_ops = {e_noop, e_noop,  e_seek, e_seek, e_noop,
                                      e_noop, e_close, NULL,   NULL};

st_iter *
st_error_iter_new(int rc)
{
    st_iter *it = st_calloc(1, sizeof(*it));
    if (!it)
        return NULL;
    it->ops = &error_ops;
    it->status = rc;
    return it;
}
