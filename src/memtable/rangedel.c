/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rangedel.c -- a memtable's range tombstones (memtable.h): an append-only array under a mutex,
 * and the fragmented set (iter/rangedel.h) built from it on demand and cached until the next
 * add. The one writer appends; readers first load the published count (no tombstone: nothing
 * else to do), then take the mutex only to get a reference on the cached set.
 */
#include "memtable/memtable.h"
#include "util/alloc.h"
#include "util/status.h"

#include <pthread.h>
#include <string.h>

struct st_mem_rdels {
    pthread_mutex_t mu;
    st_rdel *v; /* keys st_malloc'ed, owned */
    size_t n, cap;
    _Atomic size_t bytes;
    st_rdel_set *set; /* [mu] built over v[0..n) when set_n == n */
    size_t set_n;
};

int
st_memtable_add_range_del(st_memtable *mt, uint64_t seq, const void *begin, size_t blen,
                          const void *end, size_t elen)
{
    if (blen == 0 || elen == 0 || blen > STRATA_MAX_KEY_SIZE || elen > STRATA_MAX_KEY_SIZE ||
        seq > ST_SEQ_MAX || st_bytes_cmp(begin, blen, end, elen) >= 0)
        return st_err(STRATA_INVALID, "memtable: bad range tombstone (seq %llu)",
                      (unsigned long long)seq);
    struct st_mem_rdels *r = atomic_load_explicit(&mt->rdels, memory_order_acquire);
    if (!r) {
        if (!(r = st_calloc(1, sizeof(*r))))
            return st_err(STRATA_NOMEM, "memtable: out of memory adding a range tombstone");
        pthread_mutex_init(&r->mu, NULL);
        atomic_store_explicit(&mt->rdels, r, memory_order_release);
    }
    uint8_t *keys = st_malloc(blen + elen);
    if (!keys)
        return st_err(STRATA_NOMEM, "memtable: out of memory adding a range tombstone");
    memcpy(keys, begin, blen);
    memcpy(keys + blen, end, elen);
    pthread_mutex_lock(&r->mu);
    if (r->n == r->cap) {
        size_t nc = r->cap ? 2 * r->cap : 8;
        st_rdel *nv = st_realloc(r->v, nc * sizeof(*nv));
        if (!nv) {
            pthread_mutex_unlock(&r->mu);
            st_free(keys);
            return st_err(STRATA_NOMEM, "memtable: out of memory adding a range tombstone");
        }
        r->v = nv;
        r->cap = nc;
    }
    r->v[r->n++] = (st_rdel){keys, blen, keys + blen, elen, seq};
    pthread_mutex_unlock(&r->mu);
    atomic_fetch_add_explicit(&r->bytes, blen + elen + sizeof(st_rdel), memory_order_relaxed);
    atomic_fetch_add_explicit(&mt->entries, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&mt->range_dels, 1, memory_order_release);
    return STRATA_OK;
}

uint64_t
st_memtable_range_dels(const st_memtable *mt)
{
    return atomic_load_explicit(&((st_memtable *)mt)->range_dels, memory_order_acquire);
}

int
st_memtable_range_del_set(st_memtable *mt, st_rdel_set **out)
{
    *out = NULL;
    if (st_memtable_range_dels(mt) == 0)
        return STRATA_OK;
    struct st_mem_rdels *r = atomic_load_explicit(&mt->rdels, memory_order_acquire);
    int rc = STRATA_OK;
    pthread_mutex_lock(&r->mu);
    if (!r->set || r->set_n != r->n) {
        st_rdel_set *s;
        rc = st_rdel_set_build(r->v, r->n, ST_SEQ_MAX, &s);
        if (rc == STRATA_OK) {
            st_rdel_set_unref(r->set);
            r->set = s;
            r->set_n = r->n;
        }
    }
    if (rc == STRATA_OK) {
        st_rdel_set_ref(r->set);
        *out = r->set;
    }
    pthread_mutex_unlock(&r->mu);
    return rc;
}

size_t
st_memtable_range_del_bytes(const st_memtable *mt)
{
    struct st_mem_rdels *r =
        atomic_load_explicit(&((st_memtable *)mt)->rdels, memory_order_acquire);
    return r ? atomic_load_explicit(&r->bytes, memory_order_relaxed) : 0;
}

void
st_memtable_range_dels_free(st_memtable *mt)
{
    struct st_mem_rdels *r = atomic_load_explicit(&mt->rdels, memory_order_acquire);
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        st_free((void *)r->v[i].begin);
    st_free(r->v);
    st_rdel_set_unref(r->set);
    pthread_mutex_destroy(&r->mu);
    st_free(r);
    atomic_store_explicit(&mt->rdels, NULL, memory_order_relaxed);
}

void
st_memtable_note_seq(st_memtable *mt, uint64_t seq)
{
    if (seq > atomic_load_explicit(&mt->max_point_seq, memory_order_relaxed))
        atomic_store_explicit(&mt->max_point_seq, seq, memory_order_release);
}

uint64_t
st_memtable_max_point_seq(const st_memtable *mt)
{
    return atomic_load_explicit(&((st_memtable *)mt)->max_point_seq, memory_order_acquire);
}
