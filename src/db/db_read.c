/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_read.c -- point lookups and the user-visible iterator.
 *
 * Both pin a "read view" under db->mu (the active memtable, the immutable memtables and the
 * current table version, each reference-counted) and then read without any lock. Newer data
 * shadows older: the active memtable first, then immutable memtables newest first, then tables.
 */
#include "db/db_impl.h"
#include "db/db_rangedel.h"
#include "db/read_view.h"
#include "util/alloc.h"

#include <string.h>

void
st_view_pin_at(strata_db *db, uint64_t seq, strata_snapshot *s, st_read_view *v)
{
    memset(v, 0, sizeof(*v));
    pthread_mutex_lock(&db->mu);
    v->mem[v->nmem++] = db->mem;
    st_memtable_ref(db->mem);
    for (size_t i = db->nimm; i-- > 0;) {
        v->mem[v->nmem++] = db->imm[i];
        st_memtable_ref(db->imm[i]);
    }
    v->gen = atomic_load_explicit(&db->view_gen, memory_order_relaxed);
    st_view_pin_tables(db, v);
    v->seq = seq != UINT64_MAX ? seq : atomic_load_explicit(&db->last_seq, memory_order_acquire);
    if (s) {
        s->seq = v->seq;
        s->db = db;
        st_db_snapshot_link(db, s);
    }
    pthread_mutex_unlock(&db->mu);
}

int
st_view_pin(strata_db *db, const strata_read_options *ro, st_read_view *v)
{
    st_view_pin_at(db, ro && ro->snapshot ? ro->snapshot->seq : UINT64_MAX, NULL, v);
    return STRATA_OK;
}

void
st_view_unpin(strata_db *db, st_read_view *v)
{
    for (size_t i = 0; i < v->nmem; i++)
        st_memtable_unref(v->mem[i]);
    v->nmem = 0;
    st_view_unpin_tables(db, v);
}

void
st_view_unpin_at(strata_db *db, strata_snapshot *s, st_read_view *v)
{
    st_view_unpin(db, v);
    pthread_mutex_lock(&db->mu);
    st_db_snapshot_unlink(s);
    pthread_mutex_unlock(&db->mu);
}

int
st_db_get(strata_db *db, const strata_read_options *ro, const void *key, size_t klen, void **val,
          size_t *vlen)
{
    st_read_view v;
    ST_RET(st_view_pin(db, ro, &v));
    atomic_fetch_add_explicit(&db->stats.gets, 1, memory_order_relaxed);
    int rc = STRATA_NOTFOUND, kind = ST_KIND_DELETE;
    const uint8_t *p = NULL;
    size_t n = 0;
    uint64_t seq;
    if (st_view_has_range_dels(&v)) { /* db_rangedel.c */
        rc = st_db_get_ranged(db, &v, ro, key, klen, val, vlen);
        if (rc == STRATA_OK)
            atomic_fetch_add_explicit(&db->stats.get_hits, 1, memory_order_relaxed);
        st_view_unpin(db, &v);
        return rc;
    }
    for (size_t i = 0; i < v.nmem && rc == STRATA_NOTFOUND; i++)
        rc = st_memtable_get(v.mem[i], key, klen, v.seq, &kind, &p, &n, &seq);
    if (rc == STRATA_OK) {
        if (kind == ST_KIND_PUT) {
            void *copy = st_memdup(p, n);
            if (!copy)
                rc = st_err(STRATA_NOMEM, "out of memory copying a %zu-byte value", n);
            else {
                *val = copy;
                *vlen = n;
            }
        } else {
            rc = STRATA_NOTFOUND;
        }
    } else if (rc == STRATA_NOTFOUND) {
        rc = st_view_get_tables(db, &v, ro, key, klen, val, vlen);
    }
    if (rc == STRATA_OK)
        atomic_fetch_add_explicit(&db->stats.get_hits, 1, memory_order_relaxed);
    st_view_unpin(db, &v);
    return rc;
}
