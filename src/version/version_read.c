/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version_read.c -- reads over a version: point lookups (one table per sorted run) and one
 * concatenating iterator per run.
 */
#include "util/alloc.h"
#include "version/version.h"

#include <string.h>

#define GET_STACK_RUNS 32

int
st_version_get(st_version *v, const uint8_t *key, size_t klen, uint64_t snap, int flags, int *kind,
               st_buf *val, uint64_t *seq, size_t *consulted)
{
    /* The candidate of each run (the one table whose range can hold key), newest max_seq
     * first. Once a version with sequence s is found, a table whose max_seq is below s cannot
     * hold anything newer: stop there. */
    st_table *stack[GET_STACK_RUNS], **cand = stack;
    if (v->nruns > GET_STACK_RUNS && !(cand = st_malloc(v->nruns * sizeof(*cand))))
        return st_err(STRATA_NOMEM, "out of memory reading %zu sorted runs", v->nruns);
    size_t nc = 0;
    for (size_t r = 0; r < v->nruns; r++) {
        const st_run *run = &v->runs[r];
        if (run->min_seq > snap)
            continue;
        size_t i = st_run_find(run, key, klen);
        if (i == run->n)
            continue;
        st_table *t = run->t[i];
        if (t->m.min_seq > snap || st_bytes_cmp(key, klen, t->m.smallest, t->m.smallest_len) < 0)
            continue;
        size_t j = nc++;
        while (j > 0 && cand[j - 1]->m.max_seq < t->m.max_seq) {
            cand[j] = cand[j - 1];
            j--;
        }
        cand[j] = t;
    }
    int found = 0;
    uint64_t best = 0;
    st_buf tmp;
    st_buf_init(&tmp);
    int rc = STRATA_OK;
    size_t i;
    for (i = 0; i < nc; i++) {
        st_table *t = cand[i];
        if (found && t->m.max_seq < best)
            break;
        /* most candidates fail their bloom filter: check it without a reader reference */
        int may = st_table_cache_may_contain(t, key, klen);
        if (may == 0)
            continue;
        st_sst_reader *rd;
        if ((rc = st_table_reader(t, &rd)) != STRATA_OK)
            break;
        int k;
        uint64_t s;
        st_buf_clear(&tmp);
        rc = st_sst_reader_get(rd, key, klen, snap, may == 1 ? flags | ST_SST_FILTER_PASSED : flags,
                               &k, &tmp, &s);
        st_sst_reader_unref(rd);
        if (rc == STRATA_NOTFOUND) {
            rc = STRATA_OK;
            continue;
        }
        if (rc != STRATA_OK)
            break;
        if (!found || s > best) {
            found = 1;
            best = s;
            *kind = k;
            *seq = s;
            st_buf tswap = *val;
            *val = tmp;
            tmp = tswap;
        }
    }
    st_buf_free(&tmp);
    if (cand != stack)
        st_free(cand);
    if (consulted)
        *consulted = i < nc ? i + (rc != STRATA_OK) : nc;
    if (rc != STRATA_OK)
        return rc;
    return found ? STRATA_OK : STRATA_NOTFOUND;
}

/* ---- run iterator -------------------------------------------------------------------------- */

/*
 * Concatenation of the tables [lo, hi) of one run (those that can hold keys within the bounds).
 * Only the table under the position is open (child); moving past its end opens the neighbour.
 * The entry fields are copied from the child after every move.
 */
typedef struct run_iter {
    st_iter base;
    st_version *v; /* pinned */
    const st_run *run;
    size_t lo, hi, cur; /* cur: the table of child */
    st_iter *child;
    const uint8_t *lower, *upper;
    size_t llen, ulen;
    int flags; /* ST_SST_ITER_FILL_CACHE, ST_SST_SKIP_CRC */
} run_iter;

/* An iterator over table t alone (it holds its own reader reference). */
static int
table_iter(st_table *t, const uint8_t *lower, size_t llen, const uint8_t *upper, size_t ulen,
           int flags, st_iter **out)
{
    st_sst_reader *rd;
    ST_RET(st_table_reader(t, &rd));
    int rc = st_sst_reader_iter(rd, lower, llen, upper, ulen, ST_SST_ITER_LAZY_VALUES | flags, out);
    st_sst_reader_unref(rd);
    return rc;
}

static void
ri_fail(run_iter *it, int rc)
{
    it->base.valid = 0;
    if (it->base.status == STRATA_OK)
        it->base.status = rc;
}

/* Make child an iterator over table i (reusing the open one when it is already there). */
static int
ri_open(run_iter *it, size_t i)
{
    if (it->child && it->cur == i)
        return STRATA_OK;
    st_iter_close(it->child);
    it->child = NULL;
    ST_RET(
        table_iter(it->run->t[i], it->lower, it->llen, it->upper, it->ulen, it->flags, &it->child));
    it->cur = i;
    return STRATA_OK;
}

static void
ri_copy(run_iter *it)
{
    st_iter *c = it->child;
    if (c->status != STRATA_OK) {
        ri_fail(it, c->status);
        return;
    }
    it->base.valid = c->valid;
    if (c->valid)
        st_iter_copy_entry(&it->base, c);
}

/* From an exhausted child at table cur, move (dir 1: forward, -1: backward) to the nearest
 * entry of the neighbouring tables, then publish it. */
static void
ri_skip(run_iter *it, int dir)
{
    while (!it->child->valid && it->child->status == STRATA_OK &&
           (dir > 0 ? it->cur + 1 < it->hi : it->cur > it->lo)) {
        int rc = ri_open(it, dir > 0 ? it->cur + 1 : it->cur - 1);
        if (rc != STRATA_OK) {
            ri_fail(it, rc);
            return;
        }
        if (dir > 0)
            st_iter_seek_first(it->child);
        else
            st_iter_seek_last(it->child);
    }
    ri_copy(it);
}

static int
ri_start(run_iter *it, size_t i)
{
    if (it->base.status != STRATA_OK)
        return 0;
    if (i < it->lo || i >= it->hi) {
        it->base.valid = 0;
        return 0;
    }
    int rc = ri_open(it, i);
    if (rc != STRATA_OK) {
        ri_fail(it, rc);
        return 0;
    }
    return 1;
}

static void
ri_seek_first(st_iter *b)
{
    run_iter *it = (run_iter *)b;
    if (!ri_start(it, it->lo))
        return;
    st_iter_seek_first(it->child);
    ri_skip(it, 1);
}

static void
ri_seek_last(st_iter *b)
{
    run_iter *it = (run_iter *)b;
    if (it->hi == it->lo || !ri_start(it, it->hi - 1)) {
        it->base.valid = 0;
        return;
    }
    st_iter_seek_last(it->child);
    ri_skip(it, -1);
}

static void
ri_seek(st_iter *b, const uint8_t *key, size_t klen, uint64_t seq)
{
    run_iter *it = (run_iter *)b;
    size_t i = st_run_find(it->run, key, klen);
    if (i < it->lo)
        i = it->lo;
    if (!ri_start(it, i))
        return;
    st_iter_seek(it->child, key, klen, seq);
    ri_skip(it, 1);
}

static void
ri_seek_for_prev(st_iter *b, const uint8_t *key, size_t klen, uint64_t seq)
{
    run_iter *it = (run_iter *)b;
    /* lo - 1: the last table whose smallest key is <= key */
    size_t lo = st_run_search(it->run, it->lo, it->hi, key, klen, 1, 1);
    if (lo == it->lo || !ri_start(it, lo - 1)) {
        it->base.valid = 0;
        return;
    }
    st_iter_seek_for_prev(it->child, key, klen, seq);
    ri_skip(it, -1);
}

static void
ri_next(st_iter *b)
{
    run_iter *it = (run_iter *)b;
    if (!it->base.valid)
        return;
    st_iter_next(it->child);
    if (it->child->valid) {
        ri_copy(it);
        return;
    }
    ri_skip(it, 1);
}

static void
ri_prev(st_iter *b)
{
    run_iter *it = (run_iter *)b;
    if (!it->base.valid)
        return;
    st_iter_prev(it->child);
    if (it->child->valid) {
        ri_copy(it);
        return;
    }
    ri_skip(it, -1);
}

static void
ri_close(st_iter *b)
{
    run_iter *it = (run_iter *)b;
    st_iter_close(it->child);
    st_version_unref(it->v);
    st_free(it);
}

static int
ri_value(st_iter *b)
{
    return st_iter_value_from(b, ((run_iter *)b)->child);
}

/* Open the table the seek will position in (as ri_seek would) and let it prefetch. */
static void
ri_prefetch(st_iter *b, const uint8_t *key, size_t klen)
{
    run_iter *it = (run_iter *)b;
    size_t i = st_run_find(it->run, key, klen);
    if (i < it->lo)
        i = it->lo;
    if (it->base.status == STRATA_OK && i < it->hi && ri_open(it, i) == STRATA_OK)
        st_iter_prefetch(it->child, key, klen);
}

static const st_iter_ops run_iter_ops = {ri_seek_first,    ri_seek_last, ri_seek,
                                         ri_seek_for_prev, ri_next,      ri_prev,
                                         ri_close,         ri_value,     ri_prefetch};

/* The tables [*lo, *hi) of run that can hold keys in [lower, upper). */
static void
run_bounds(const st_run *run, const uint8_t *lower, size_t llen, const uint8_t *upper, size_t ulen,
           size_t *lo, size_t *hi)
{
    *lo = lower ? st_run_find(run, lower, llen) : 0;
    size_t h = run->n;
    if (upper) /* the first table whose smallest key is >= upper */
        h = st_run_search(run, *lo, run->n, upper, ulen, 1, 0);
    *hi = h < *lo ? *lo : h;
}

int
st_run_iter_new(st_version *v, size_t run, const uint8_t *lower, size_t llen, const uint8_t *upper,
                size_t ulen, int flags, st_iter **out)
{
    *out = NULL;
    run_iter *it = st_calloc(1, sizeof(*it));
    if (!it)
        return st_err(STRATA_NOMEM, "out of memory creating a run iterator");
    it->base.ops = &run_iter_ops;
    it->base.status = STRATA_OK;
    it->v = v;
    st_version_ref(v);
    it->run = &v->runs[run];
    it->lower = lower;
    it->llen = llen;
    it->upper = upper;
    it->ulen = ulen;
    it->flags = flags;
    run_bounds(it->run, lower, llen, upper, ulen, &it->lo, &it->hi);
    it->cur = it->lo;
    *out = &it->base;
    return STRATA_OK;
}

int
st_version_iters(st_version *v, const uint8_t *lower, size_t llen, const uint8_t *upper,
                 size_t ulen, int flags, st_iter ***its, size_t *n)
{
    *its = NULL;
    *n = 0;
    st_iter **arr = st_calloc(v->nruns ? v->nruns : 1, sizeof(*arr));
    if (!arr)
        return st_err(STRATA_NOMEM, "out of memory");
    size_t k = 0;
    int rc = STRATA_OK;
    for (size_t r = 0; r < v->nruns && rc == STRATA_OK; r++) {
        size_t lo, hi;
        run_bounds(&v->runs[r], lower, llen, upper, ulen, &lo, &hi);
        if (lo == hi)
            continue;
        /* one table of the run is in range: its own iterator, without the concatenation layer
         * (a full scan of one table spent 7% of its samples passing entries through it) */
        if (hi - lo == 1)
            rc = table_iter(v->runs[r].t[lo], lower, llen, upper, ulen, flags, &arr[k]);
        else
            rc = st_run_iter_new(v, r, lower, llen, upper, ulen, flags, &arr[k]);
        if (rc == STRATA_OK)
            k++;
    }
    if (rc != STRATA_OK) {
        st_iters_close(arr, k);
        st_free(arr);
        return rc;
    }
    *its = arr;
    *n = k;
    return STRATA_OK;
}
