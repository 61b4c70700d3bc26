/* SPDX-License-Identifier: Apache-2.0 */
/* version.c -- reference-counted versions and their partition into sorted runs. */
#include "version/version.h"

#include "util/alloc.h"

#include <stdlib.h>
#include <string.h>

static int
by_max_seq_desc(const void *a, const void *b)
{
    const st_table *x = *(st_table *const *)a, *y = *(st_table *const *)b;
    if (x->m.max_seq != y->m.max_seq)
        return x->m.max_seq > y->m.max_seq ? -1 : 1;
    return x->m.fnum > y->m.fnum ? -1 : (x->m.fnum < y->m.fnum);
}

static int
by_smallest(const void *a, const void *b)
{
    const st_table *x = *(st_table *const *)a, *y = *(st_table *const *)b;
    int c = st_bytes_cmp(x->m.smallest, x->m.smallest_len, y->m.smallest, y->m.smallest_len);
    if (c)
        return c;
    /* equal starts: newer first, so the partition does not depend on the input order */
    return x->m.max_seq > y->m.max_seq ? -1 : (x->m.max_seq < y->m.max_seq);
}

static int
run_by_max_seq_desc(const void *a, const void *b)
{
    const st_run *x = a, *y = b;
    if (x->max_seq != y->max_seq)
        return x->max_seq > y->max_seq ? -1 : 1;
    return x->min_seq > y->min_seq ? -1 : (x->min_seq < y->min_seq);
}

/*
 * Partition v->t into the fewest key-disjoint runs: visit tables by smallest key and put each
 * into the first run whose last table ends below it (greedy interval partitioning, optimal: the
 * number of runs equals the largest number of tables sharing one key).
 */
static int
build_runs(st_version *v)
{
    size_t n = v->n;
    st_table **sorted = st_malloc((n ? n : 1) * sizeof(*sorted));
    size_t *run_of = st_malloc((n ? n : 1) * sizeof(*run_of));
    st_table **last = st_malloc((n ? n : 1) * sizeof(*last)); /* last table of each run */
    size_t *count = st_calloc(n ? n : 1, sizeof(*count));
    int rc = STRATA_OK;
    size_t nruns = 0, off = 0;
    if (!sorted || !run_of || !last || !count) {
        rc = st_err(STRATA_NOMEM, "out of memory building a version");
        goto out;
    }
    memcpy(sorted, v->t, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), by_smallest);
    for (size_t i = 0; i < n; i++) {
        const st_table *t = sorted[i];
        size_t r = 0;
        while (r < nruns && st_bytes_cmp(last[r]->m.largest, last[r]->m.largest_len, t->m.smallest,
                                         t->m.smallest_len) >= 0)
            r++;
        if (r == nruns)
            nruns++;
        last[r] = sorted[i];
        run_of[i] = r;
        count[r]++;
    }
    v->runs = st_calloc(nruns ? nruns : 1, sizeof(*v->runs));
    v->run_tables = st_malloc((n ? n : 1) * sizeof(*v->run_tables));
    if (!v->runs || !v->run_tables) {
        rc = st_err(STRATA_NOMEM, "out of memory building a version");
        goto out;
    }
    for (size_t r = 0; r < nruns; r++) {
        v->runs[r].t = v->run_tables + off;
        v->runs[r].min_seq = UINT64_MAX;
        off += count[r];
    }
    for (size_t i = 0; i < n; i++) {
        st_run *run = &v->runs[run_of[i]];
        const st_table *t = sorted[i];
        run->t[run->n++] = sorted[i];
        run->bytes += t->m.file_size;
        if (t->m.max_seq > run->max_seq)
            run->max_seq = t->m.max_seq;
        if (t->m.min_seq < run->min_seq)
            run->min_seq = t->m.min_seq;
    }
    qsort(v->runs, nruns, sizeof(*v->runs), run_by_max_seq_desc);
    v->nruns = nruns;
out:
    st_free(sorted);
    st_free(run_of);
    st_free(last);
    st_free(count);
    return rc;
}

static void
version_free(st_version *v)
{
    for (size_t i = 0; i < v->n; i++)
        st_table_unref(v->t[i]);
    st_free(v->t);
    st_free(v->runs);
    st_free(v->run_tables);
    st_free(v);
}

int
st_version_new(st_table *const *t, size_t n, st_version **out)
{
    *out = NULL;
    st_version *v = st_calloc(1, sizeof(*v));
    st_table **arr = st_calloc(n ? n : 1, sizeof(*arr));
    if (!v || !arr) {
        st_free(v);
        st_free(arr);
        return st_err(STRATA_NOMEM, "out of memory building a version");
    }
    for (size_t i = 0; i < n; i++) {
        arr[i] = t[i];
        st_table_ref(t[i]);
        v->bytes += t[i]->m.file_size;
        v->range_del_tables += t[i]->range_dels > 0;
    }
    qsort(arr, n, sizeof(*arr), by_max_seq_desc);
    v->t = arr;
    v->n = n;
    atomic_init(&v->refs, 1);
    int rc = build_runs(v);
    if (rc != STRATA_OK) {
        version_free(v);
        return rc;
    }
    *out = v;
    return STRATA_OK;
}

void
st_version_ref(st_version *v)
{
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}

void
st_version_unref(st_version *v)
{
    if (!v || atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) != 1)
        return;
    version_free(v);
}

size_t
st_run_search(const st_run *r, size_t lo, size_t hi, const uint8_t *key, size_t klen,
              int by_smallest, int past_equal)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const st_table *t = r->t[mid];
        int c = by_smallest ? st_bytes_cmp(t->m.smallest, t->m.smallest_len, key, klen)
                            : st_bytes_cmp(t->m.largest, t->m.largest_len, key, klen);
        if (c < 0 || (c == 0 && past_equal))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t
st_run_find(const st_run *r, const uint8_t *key, size_t klen)
{
    return st_run_search(r, 0, r->n, key, klen, 0, 0);
}
