/* SPDX-License-Identifier: Apache-2.0 */
/*
 * version_rangedel.c -- range tombstones over a version: the coverage query of point lookups,
 * the set an iterator applies, and the per-run seq bound that lets iterators seek past deleted
 * ranges. Tables load their tombstones once, at open (sst_rangedel.c); a version without any
 * (range_del_tables == 0) is never asked.
 */
#include "util/alloc.h"
#include "version/version.h"

/* The table of run that may hold key, or NULL. */
static st_table *
run_table(const st_run *run, const uint8_t *key, size_t klen)
{
    size_t i = st_run_find(run, key, klen);
    if (i == run->n)
        return NULL;
    st_table *t = run->t[i];
    return st_bytes_cmp(key, klen, t->m.smallest, t->m.smallest_len) < 0 ? NULL : t;
}

int
st_version_range_del_cover(st_version *v, const uint8_t *key, size_t klen, uint64_t snap,
                           uint64_t *cover, uint64_t *newest)
{
    *cover = 0;
    if (newest)
        *newest = 0;
    if (!v)
        return STRATA_OK;
    for (size_t r = 0; r < v->nruns; r++) {
        st_table *t = run_table(&v->runs[r], key, klen);
        if (!t || t->m.min_seq > snap)
            continue;
        if (newest && t->m.max_seq > *newest)
            *newest = t->m.max_seq;
        if (t->range_dels == 0 || t->m.max_seq <= *cover)
            continue;
        st_sst_reader *rd;
        ST_RET(st_table_reader(t, &rd));
        uint64_t c = st_rdel_set_cover(st_sst_reader_range_dels(rd), key, klen, snap);
        st_sst_reader_unref(rd);
        if (c > *cover)
            *cover = c;
    }
    return STRATA_OK;
}

int
st_table_range_del_set(st_table *t, st_rdel_set **out)
{
    *out = NULL;
    if (t->range_dels == 0)
        return STRATA_OK;
    st_sst_reader *rd;
    ST_RET(st_table_reader(t, &rd));
    st_rdel_set *s = st_sst_reader_range_dels(rd);
    if (s) {
        st_rdel_set_ref(s); /* immutable and reference-counted: outlives the reader */
        *out = s;
    }
    st_sst_reader_unref(rd);
    return STRATA_OK;
}

int
st_version_range_del_set(st_version *v, const uint8_t *lower, size_t llen, const uint8_t *upper,
                         size_t ulen, uint64_t snap, st_rdel_set **out)
{
    *out = NULL;
    if (!v || v->range_del_tables == 0)
        return STRATA_OK;
    st_rdel_set **sets = st_calloc(v->range_del_tables, sizeof(*sets));
    if (!sets)
        return st_err(STRATA_NOMEM, "out of memory collecting range tombstones");
    size_t n = 0;
    int rc = STRATA_OK;
    for (size_t i = 0; i < v->n && rc == STRATA_OK && n < v->range_del_tables; i++) {
        st_table *t = v->t[i];
        if (t->range_dels == 0 || t->m.min_seq > snap)
            continue;
        if ((upper && st_bytes_cmp(t->m.smallest, t->m.smallest_len, upper, ulen) >= 0) ||
            (lower && st_bytes_cmp(t->m.largest, t->m.largest_len, lower, llen) < 0))
            continue;
        rc = st_table_range_del_set(t, &sets[n]);
        if (rc == STRATA_OK && sets[n])
            n++;
    }
    if (rc == STRATA_OK && n > 0)
        rc = st_rdel_set_merge(sets, n, snap, out);
    for (size_t i = 0; i < n; i++)
        st_rdel_set_unref(sets[i]);
    st_free(sets);
    return rc;
}

void
st_run_seq_bound(void *arg, const uint8_t *key, size_t klen, st_rdel_bound *out)
{
    const st_run *run = arg;
    st_table *t = run_table(run, key, klen);
    if (!t) {
        *out = (st_rdel_bound){UINT64_MAX, NULL, NULL, 0, 0};
        return;
    }
    *out = (st_rdel_bound){t->m.max_seq, t->m.smallest, t->m.largest, t->m.smallest_len,
                           t->m.largest_len};
}
