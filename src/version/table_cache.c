/* SPDX-License-Identifier: Apache-2.0 */
/*
 * table_cache.c -- the bounded set of open table readers.
 *
 * Each st_table caches its own reader pointer (t->reader, guarded by one of a few shard locks
 * chosen by file number), so finding an open reader costs one uncontended lock and a reference
 * count, with no hash table. Tables that have a reader sit on a ring; when more than max_open
 * are open, a CLOCK hand walks the ring, clearing reference bits, and closes the first table
 * not used since the hand last passed it. A closed reader stays alive while reads that took a
 * reference still use it (st_sst_reader refcount); the next read of the table reopens it.
 */
#include "util/alloc.h"
#include "version/version.h"

#include <pthread.h>

#define TC_SHARDS 16
#define TC_EVICT_BATCH 8

struct st_table_cache {
    pthread_mutex_t mu; /* ring, open, hand */
    pthread_mutex_t shard[TC_SHARDS];
    size_t max_open, open;
    st_table *hand;
    _Atomic uint64_t opens, evictions;
};

int
st_table_cache_new(size_t max_open, st_table_cache **out)
{
    st_table_cache *tc = st_calloc(1, sizeof(*tc));
    if (!tc)
        return st_err(STRATA_NOMEM, "out of memory creating the table cache");
    pthread_mutex_init(&tc->mu, NULL);
    for (int i = 0; i < TC_SHARDS; i++)
        pthread_mutex_init(&tc->shard[i], NULL);
    tc->max_open = max_open;
    *out = tc;
    return STRATA_OK;
}

void
st_table_cache_free(st_table_cache *tc)
{
    if (!tc)
        return;
    pthread_mutex_destroy(&tc->mu);
    for (int i = 0; i < TC_SHARDS; i++)
        pthread_mutex_destroy(&tc->shard[i]);
    st_free(tc);
}

void
st_table_cache_stats(st_table_cache *tc, size_t *open, size_t *limit, uint64_t *opens,
                     uint64_t *evictions)
{
    pthread_mutex_lock(&tc->mu);
    *open = tc->open;
    pthread_mutex_unlock(&tc->mu);
    *limit = tc->max_open;
    *opens = atomic_load_explicit(&tc->opens, memory_order_relaxed);
    *evictions = atomic_load_explicit(&tc->evictions, memory_order_relaxed);
}

static pthread_mutex_t *
shard_of(st_table_cache *tc, const st_table *t)
{
    return &tc->shard[t->m.fnum % TC_SHARDS];
}

/* [tc->mu] */
static void
ring_remove(st_table_cache *tc, st_table *t)
{
    if (!t->in_ring)
        return;
    if (t->next == t) {
        tc->hand = NULL;
    } else {
        t->prev->next = t->next;
        t->next->prev = t->prev;
        if (tc->hand == t)
            tc->hand = t->next;
    }
    t->prev = t->next = NULL;
    t->in_ring = 0;
    tc->open--;
}

/* [tc->mu] Insert t just behind the hand, so the hand reaches it last. */
static void
ring_insert(st_table_cache *tc, st_table *t)
{
    if (t->in_ring)
        return;
    if (!tc->hand) {
        t->prev = t->next = t;
        tc->hand = t;
    } else {
        st_table *h = tc->hand;
        t->next = h;
        t->prev = h->prev;
        h->prev->next = t;
        h->prev = t;
    }
    t->in_ring = 1;
    tc->open++;
}

/* Take t's reader out of the table (the caller drops the cache's reference). */
static st_sst_reader *
take_reader(st_table_cache *tc, st_table *t)
{
    pthread_mutex_t *m = shard_of(tc, t);
    pthread_mutex_lock(m);
    st_sst_reader *r = t->reader;
    t->reader = NULL;
    pthread_mutex_unlock(m);
    return r;
}

st_sst_reader *
st_table_cache_peek(st_table *t)
{
    st_table_cache *tc = t->ctx->tc;
    pthread_mutex_t *m = shard_of(tc, t);
    pthread_mutex_lock(m);
    st_sst_reader *r = t->reader;
    if (r)
        st_sst_reader_ref(r);
    pthread_mutex_unlock(m);
    if (r && !atomic_load_explicit(&t->used, memory_order_relaxed))
        atomic_store_explicit(&t->used, 1, memory_order_relaxed);
    return r;
}

void
st_table_cache_attach(st_table *t, st_sst_reader *r)
{
    st_table_cache *tc = t->ctx->tc;
    atomic_fetch_add_explicit(&tc->opens, 1, memory_order_relaxed);
    pthread_mutex_lock(shard_of(tc, t));
    st_sst_reader *old = t->reader;
    t->reader = r;
    pthread_mutex_unlock(shard_of(tc, t));
    if (old) /* another thread reopened it first: keep the newer one, drop the cache's old ref */
        st_sst_reader_unref(old);
    atomic_store_explicit(&t->used, 1, memory_order_relaxed);
    st_sst_reader *victims[TC_EVICT_BATCH];
    size_t nv = 0;
    pthread_mutex_lock(&tc->mu);
    ring_insert(tc, t);
    while (tc->max_open && tc->open > tc->max_open && nv < TC_EVICT_BATCH) {
        st_table *h = tc->hand;
        if (h != t && atomic_load_explicit(&h->used, memory_order_relaxed)) {
            atomic_store_explicit(&h->used, 0, memory_order_relaxed);
            tc->hand = h->next;
            continue;
        }
        if (h == t) { /* never evict the table being opened */
            tc->hand = h->next;
            if (tc->open == 1)
                break;
            continue;
        }
        ring_remove(tc, h);
        st_sst_reader *v = take_reader(tc, h);
        if (v)
            victims[nv++] = v;
    }
    pthread_mutex_unlock(&tc->mu);
    atomic_fetch_add_explicit(&tc->evictions, nv, memory_order_relaxed);
    for (size_t i = 0; i < nv; i++)
        st_sst_reader_unref(victims[i]);
}

void
st_table_cache_detach(st_table *t)
{
    st_table_cache *tc = t->ctx->tc;
    pthread_mutex_lock(&tc->mu);
    ring_remove(tc, t);
    pthread_mutex_unlock(&tc->mu);
    st_sst_reader *r = take_reader(tc, t);
    if (r)
        st_sst_reader_unref(r);
}

int
st_table_cache_may_contain(st_table *t, const uint8_t *key, size_t klen)
{
    pthread_mutex_t *m = shard_of(t->ctx->tc, t);
    pthread_mutex_lock(m);
    int may = t->reader ? st_sst_reader_may_contain(t->reader, key, klen) : -1;
    pthread_mutex_unlock(m);
    return may;
}
