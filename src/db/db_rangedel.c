/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_rangedel.c -- reads over a view holding range tombstones (doc/design.md, "Range deletes").
 *
 * A version of a key is deleted when a range tombstone visible to the read (seq <= the view's)
 * covers the key and is newer than it. Memtables hold only data newer than every table, so:
 *   get: the memtables newest first, tracking the newest covering tombstone so far; the first
 *        memtable holding the key decides (its version is visible only when newer than that
 *        tombstone). If none holds it, any covering memtable tombstone deletes whatever the
 *        tables hold (no table is read). Else the newest covering tombstone of the tables (one
 *        candidate table per sorted run) comes first: when no candidate table is newer than it,
 *        the key is deleted without reading a page; otherwise the tables' newest version is
 *        compared with it.
 *   iterators: every child (memtable, sorted run) is wrapped in a filter (iter/rangedel_iter.h)
 *        over the set of all tombstones the view sees, which hides deleted entries and seeks
 *        past a deleted range when the child has nothing newer in it.
 * A view without range tombstones never comes here (st_view_has_range_dels).
 */
#include "db/db_rangedel.h"

#include "util/alloc.h"

int
st_view_has_range_dels(const st_read_view *v)
{
    for (size_t i = 0; i < v->nmem; i++)
        if (st_memtable_range_dels(v->mem[i]) > 0)
            return 1;
    return v->version && v->version->range_del_tables > 0;
}

/* *cover = max(*cover, the newest tombstone <= snap of mem covering key). */
static int
mem_cover(st_memtable *mem, const void *key, size_t klen, uint64_t snap, uint64_t *cover)
{
    if (st_memtable_range_dels(mem) == 0)
        return STRATA_OK;
    st_rdel_set *s;
    ST_RET(st_memtable_range_del_set(mem, &s));
    uint64_t c = st_rdel_set_cover(s, key, klen, snap);
    st_rdel_set_unref(s);
    if (c > *cover)
        *cover = c;
    return STRATA_OK;
}

int
st_db_get_ranged(strata_db *db, st_read_view *v, const strata_read_options *ro, const void *key,
                 size_t klen, void **val, size_t *vlen)
{
    uint64_t cover = 0;
    for (size_t i = 0; i < v->nmem; i++) {
        ST_RET(mem_cover(v->mem[i], key, klen, v->seq, &cover));
        int kind;
        const uint8_t *p;
        size_t n;
        uint64_t seq;
        int rc = st_memtable_get(v->mem[i], key, klen, v->seq, &kind, &p, &n, &seq);
        if (rc == STRATA_NOTFOUND)
            continue;
        if (rc != STRATA_OK)
            return rc;
        if (kind != ST_KIND_PUT || seq < cover)
            return STRATA_NOTFOUND;
        if (!(*val = st_memdup(p, n)))
            return st_err(STRATA_NOMEM, "out of memory copying a %zu-byte value", n);
        *vlen = n;
        return STRATA_OK;
    }
    if (cover > 0)
        return STRATA_NOTFOUND; /* a memtable tombstone is newer than every table */
    /* the tables' tombstones first: when every table that may hold key is older than the
     * covering one, nothing is read (as cheap as a point tombstone found first) */
    uint64_t newest = 0, seq = 0;
    if (v->version && v->version->range_del_tables > 0) {
        ST_RET(st_version_range_del_cover(v->version, key, klen, v->seq, &cover, &newest));
        if (cover > 0 && newest <= cover)
            return STRATA_NOTFOUND;
    }
    int rc = st_view_get_tables_seq(db, v, ro, key, klen, val, vlen, &seq);
    if (rc == STRATA_OK && seq < cover)
        rc = STRATA_NOTFOUND;
    if (rc != STRATA_OK && *val) {
        st_free(*val);
        *val = NULL;
        *vlen = 0;
    }
    return rc;
}

static void
mem_bound(void *arg, const uint8_t *key, size_t klen, st_rdel_bound *out)
{
    (void)key;
    (void)klen;
    *out = (st_rdel_bound){st_memtable_max_point_seq(arg), NULL, NULL, 0, 0};
}

/* The set of every tombstone the view sees that may touch [lower, upper). */
static int
view_set(st_read_view *v, const strata_read_options *ro, st_rdel_set **out)
{
    st_rdel_set *parts[67];
    size_t n = 0;
    int rc = STRATA_OK;
    for (size_t i = 0; i < v->nmem && rc == STRATA_OK; i++) {
        rc = st_memtable_range_del_set(v->mem[i], &parts[n]);
        if (rc == STRATA_OK && parts[n])
            n++;
    }
    if (rc == STRATA_OK) {
        rc = st_version_range_del_set(v->version, ro->lower_bound, ro->lower_bound_len,
                                      ro->upper_bound, ro->upper_bound_len, v->seq, &parts[n]);
        if (rc == STRATA_OK && parts[n])
            n++;
    }
    if (rc == STRATA_OK)
        rc = st_rdel_set_merge(parts, n, v->seq, out);
    for (size_t i = 0; i < n; i++)
        st_rdel_set_unref(parts[i]);
    return rc;
}

int
st_db_range_del_iters(strata_db *db, st_read_view *v, const strata_read_options *ro, st_iter ***its,
                      size_t *n)
{
    (void)db;
    *its = NULL;
    *n = 0;
    st_rdel_set *set;
    ST_RET(view_set(v, ro, &set));
    size_t nruns = v->version ? v->version->nruns : 0;
    st_iter **arr = st_calloc(v->nmem + nruns + 1, sizeof(*arr));
    int rc = arr ? STRATA_OK : st_err(STRATA_NOMEM, "out of memory opening an iterator");
    size_t k = 0;
    for (size_t i = 0; i < v->nmem && rc == STRATA_OK; i++) {
        st_iter *c = st_memtable_iter(v->mem[i]);
        if (c)
            c = st_rdel_filter_iter_new(c, set, v->seq, mem_bound, v->mem[i], NULL);
        if (!c)
            rc = st_err(STRATA_NOMEM, "out of memory opening an iterator");
        else
            arr[k++] = c;
    }
    for (size_t r = 0; r < nruns && rc == STRATA_OK; r++) {
        st_iter *c;
        rc = st_run_iter_new(v->version, r, ro->lower_bound, ro->lower_bound_len, ro->upper_bound,
                             ro->upper_bound_len, st_view_read_flags(ro), &c);
        if (rc != STRATA_OK)
            break;
        c = st_rdel_filter_iter_new(c, set, v->seq, st_run_seq_bound, &v->version->runs[r], NULL);
        if (!c)
            rc = st_err(STRATA_NOMEM, "out of memory opening an iterator");
        else
            arr[k++] = c;
    }
    st_rdel_set_unref(set);
    if (rc != STRATA_OK) {
        st_iters_close(arr, k);
        st_free(arr);
        return rc;
    }
    *its = arr;
    *n = k;
    return STRATA_OK;
}
