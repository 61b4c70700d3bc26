/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.c -- sharded LRU cache (see cache.h).
 *
 * Each entry carries a reference count: one reference for the cache itself while the entry is
 * resident (in the shard's hash table) plus one per outstanding handle. An entry with no handle
 * sits on its shard's LRU list (most recent at the head) and may be evicted; an entry with
 * handles is on no list and is never evicted. When the last reference goes the deleter runs,
 * always outside the shard mutex so a deleter may itself use the cache.
 *
 * Two priorities, as in RocksDB's high-priority pool: each shard keeps one LRU list per priority.
 * Eviction takes the least recently used low-priority entry first, and a high-priority one only
 * when no low-priority entry is left or high-priority entries hold more than
 * ST_CACHE_HIGH_RATIO_PCT percent of the shard. Small, often-read entries (a table's key pages)
 * thus survive a stream of large, rarely reused ones (value pages).
 *
 * Accounting per shard, under the shard mutex: `usage` is the charge of resident entries,
 * `pinned` the charge of entries with at least one handle (resident or not). After every
 * operation usage <= capacity, or every resident entry is pinned; hence usage <= capacity +
 * pinned at all times (summed over shards, since the shard capacities add up to the total).
 */
#include "cache/cache.h"

#include "util/alloc.h"
#include "util/status.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <xxhash.h>

/* Auto sharding: no shard smaller than this, and at most 1 << ST_CACHE_MAX_AUTO_BITS shards. */
#define ST_CACHE_MIN_SHARD_BYTES ((size_t)512 * 1024)
#define ST_CACHE_MAX_AUTO_BITS 6
#define ST_CACHE_MAX_SHARD_BITS 16
/* Share of a shard's capacity that high-priority entries keep before they compete with others. */
#define ST_CACHE_HIGH_RATIO_PCT 75

typedef struct entry {
    struct entry *hnext;       /* hash chain */
    struct entry *prev, *next; /* LRU list links (only while unreferenced and resident) */
    void *value;
    st_cache_deleter deleter;
    size_t charge;
    size_t klen;
    uint64_t hash;
    uint32_t refs; /* cache's own (if resident) + one per handle */
    bool resident; /* in the hash table, charged to usage */
    uint8_t pri;   /* ST_CACHE_LOW or ST_CACHE_HIGH */
    unsigned char key[];
} entry;

typedef struct shard {
    pthread_mutex_t mu;
    entry **buckets;
    size_t nbuckets; /* power of two */
    size_t count;    /* resident entries */
    size_t capacity;
    size_t high_capacity; /* ST_CACHE_HIGH_RATIO_PCT of capacity */
    size_t usage;
    size_t high_usage; /* charge of resident high-priority entries (part of usage) */
    size_t pinned;
    /* per priority, sentinels: lru[p].next is the most recently used, lru[p].prev the oldest */
    entry lru[2];
} shard;

struct st_cache {
    shard *shards;
    int shard_bits;
    size_t capacity;
    _Atomic uint64_t hits;
    _Atomic uint64_t misses;
};

static _Atomic uint64_t st_cache_next_id;

/* ---- list and table helpers (shard mutex held) ------------------------------------------- */

static void
lru_remove(entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
    e->prev = e->next = NULL;
}

static void
lru_push_head(shard *s, entry *e)
{
    entry *head = &s->lru[e->pri];
    e->next = head->next;
    e->prev = head;
    e->next->prev = e;
    head->next = e;
}

static size_t
client_refs(const entry *e)
{
    return e->refs - (e->resident ? 1u : 0u);
}

static entry **
table_find(shard *s, const void *key, size_t klen, uint64_t hash)
{
    entry **pp = &s->buckets[hash & (s->nbuckets - 1)];
    while (*pp && ((*pp)->hash != hash || (*pp)->klen != klen ||
                   (klen && memcmp((*pp)->key, key, klen) != 0)))
        pp = &(*pp)->hnext;
    return pp;
}

/* Doubles the bucket array; on allocation failure chains just get longer. */
static void
table_grow(shard *s)
{
    size_t n = s->nbuckets * 2;
    entry **nb = st_calloc(n, sizeof(*nb));
    if (!nb)
        return;
    for (size_t i = 0; i < s->nbuckets; i++) {
        entry *e = s->buckets[i];
        while (e) {
            entry *next = e->hnext;
            entry **slot = &nb[e->hash & (n - 1)];
            e->hnext = *slot;
            *slot = e;
            e = next;
        }
    }
    st_free(s->buckets);
    s->buckets = nb;
    s->nbuckets = n;
}

/*
 * Drops the cache's own reference of a resident entry already unlinked from the table. If the
 * entry becomes unreferenced it is chained onto *dead (freed by the caller after unlocking).
 */
static void
unlink_resident(shard *s, entry *e, entry **dead)
{
    if (client_refs(e) == 0)
        lru_remove(e);
    e->resident = false;
    s->usage -= e->charge;
    if (e->pri == ST_CACHE_HIGH)
        s->high_usage -= e->charge;
    s->count--;
    if (--e->refs == 0) {
        e->hnext = *dead;
        *dead = e;
    }
}

/* The next entry to evict, or NULL when every resident entry is pinned. */
static entry *
victim_of(shard *s)
{
    entry *lo = &s->lru[ST_CACHE_LOW], *hi = &s->lru[ST_CACHE_HIGH];
    if (hi->prev != hi && (s->high_usage > s->high_capacity || lo->prev == lo))
        return hi->prev;
    return lo->prev != lo ? lo->prev : NULL;
}

static void
evict(shard *s, entry **dead)
{
    entry *victim;
    while (s->usage > s->capacity && (victim = victim_of(s)) != NULL) {
        entry **pp = table_find(s, victim->key, victim->klen, victim->hash);
        *pp = victim->hnext;
        unlink_resident(s, victim, dead);
    }
}

static void
free_dead(entry *dead)
{
    while (dead) {
        entry *next = dead->hnext;
        if (dead->deleter)
            dead->deleter(dead->key, dead->klen, dead->value);
        st_free(dead);
        dead = next;
    }
}

static shard *
shard_for(const st_cache *c, uint64_t hash)
{
    return &c->shards[c->shard_bits ? (size_t)(hash >> (64 - c->shard_bits)) : 0];
}

/* ---- public functions -------------------------------------------------------------------- */

int
st_cache_new(size_t capacity, int shard_bits, st_cache **out)
{
    if (!out)
        return st_err(STRATA_INVALID, "st_cache_new: NULL out");
    *out = NULL;
    if (shard_bits > ST_CACHE_MAX_SHARD_BITS)
        return st_err(STRATA_INVALID, "st_cache_new: shard_bits %d > %d", shard_bits,
                      ST_CACHE_MAX_SHARD_BITS);
    if (shard_bits < 0) {
        shard_bits = 0;
        while (shard_bits < ST_CACHE_MAX_AUTO_BITS &&
               (capacity >> (shard_bits + 1)) >= ST_CACHE_MIN_SHARD_BYTES)
            shard_bits++;
    }
    st_cache *c = st_calloc(1, sizeof(*c));
    if (!c)
        return st_err(STRATA_NOMEM, "st_cache_new: out of memory");
    size_t n = (size_t)1 << shard_bits;
    c->shard_bits = shard_bits;
    c->capacity = capacity;
    c->shards = st_calloc(n, sizeof(shard));
    if (!c->shards) {
        st_free(c);
        return st_err(STRATA_NOMEM, "st_cache_new: out of memory for %zu shards", n);
    }
    for (size_t i = 0; i < n; i++) {
        shard *s = &c->shards[i];
        s->nbuckets = 16;
        s->buckets = st_calloc(s->nbuckets, sizeof(entry *));
        if (!s->buckets || pthread_mutex_init(&s->mu, NULL) != 0) {
            st_free(s->buckets);
            for (size_t j = 0; j < i; j++) {
                pthread_mutex_destroy(&c->shards[j].mu);
                st_free(c->shards[j].buckets);
            }
            st_free(c->shards);
            st_free(c);
            return st_err(STRATA_NOMEM, "st_cache_new: out of memory for shard %zu", i);
        }
        /* Shard capacities add up to exactly `capacity`. */
        s->capacity = capacity / n + (i < capacity % n ? 1 : 0);
        s->high_capacity = s->capacity / 100 * ST_CACHE_HIGH_RATIO_PCT +
                           s->capacity % 100 * ST_CACHE_HIGH_RATIO_PCT / 100;
        for (int p = 0; p < 2; p++)
            s->lru[p].next = s->lru[p].prev = &s->lru[p];
    }
    atomic_init(&c->hits, 0);
    atomic_init(&c->misses, 0);
    *out = c;
    return STRATA_OK;
}

void
st_cache_free(st_cache *c)
{
    if (!c)
        return;
    size_t n = (size_t)1 << c->shard_bits;
    for (size_t i = 0; i < n; i++) {
        shard *s = &c->shards[i];
        entry *dead = NULL;
        for (size_t b = 0; b < s->nbuckets; b++) {
            entry *e = s->buckets[b];
            while (e) {
                entry *next = e->hnext;
                unlink_resident(s, e, &dead);
                e = next;
            }
        }
        free_dead(dead);
        pthread_mutex_destroy(&s->mu);
        st_free(s->buckets);
    }
    st_free(c->shards);
    st_free(c);
}

int
st_cache_insert(st_cache *c, const void *key, size_t klen, void *value, size_t charge,
                st_cache_deleter deleter, int pri, st_cache_handle **out)
{
    if (out)
        *out = NULL;
    entry *e = st_malloc(sizeof(entry) + klen);
    if (!e) {
        if (deleter)
            deleter(key, klen, value);
        return st_err(STRATA_NOMEM, "st_cache_insert: out of memory for a %zu-byte key", klen);
    }
    if (klen)
        memcpy(e->key, key, klen);
    e->klen = klen;
    e->hash = XXH3_64bits(key, klen);
    e->value = value;
    e->deleter = deleter;
    e->charge = charge;
    e->resident = true;
    e->pri = pri == ST_CACHE_HIGH ? ST_CACHE_HIGH : ST_CACHE_LOW;
    e->refs = out ? 2 : 1;
    e->prev = e->next = NULL;

    shard *s = shard_for(c, e->hash);
    entry *dead = NULL;
    pthread_mutex_lock(&s->mu);
    entry **pp = table_find(s, key, klen, e->hash);
    entry *old = *pp;
    e->hnext = old ? old->hnext : NULL;
    *pp = e;
    if (old)
        unlink_resident(s, old, &dead);
    s->count++;
    s->usage += charge;
    if (e->pri == ST_CACHE_HIGH)
        s->high_usage += charge;
    if (out)
        s->pinned += charge;
    else
        lru_push_head(s, e);
    evict(s, &dead);
    if (s->count > s->nbuckets)
        table_grow(s);
    pthread_mutex_unlock(&s->mu);
    free_dead(dead);
    if (out)
        *out = (st_cache_handle *)e;
    return STRATA_OK;
}

static st_cache_handle *
lookup(st_cache *c, const void *key, size_t klen, int count_miss)
{
    uint64_t hash = XXH3_64bits(key, klen);
    shard *s = shard_for(c, hash);
    pthread_mutex_lock(&s->mu);
    entry *e = *table_find(s, key, klen, hash);
    if (e) {
        if (client_refs(e) == 0) {
            lru_remove(e);
            s->pinned += e->charge;
        }
        e->refs++;
    }
    pthread_mutex_unlock(&s->mu);
    if (e || count_miss)
        atomic_fetch_add_explicit(e ? &c->hits : &c->misses, 1, memory_order_relaxed);
    return (st_cache_handle *)e;
}

st_cache_handle *
st_cache_lookup(st_cache *c, const void *key, size_t klen)
{
    return lookup(c, key, klen, 1);
}

st_cache_handle *
st_cache_probe(st_cache *c, const void *key, size_t klen)
{
    return lookup(c, key, klen, 0);
}

void *
st_cache_value(const st_cache_handle *h)
{
    return ((const entry *)h)->value;
}

void
st_cache_release(st_cache *c, st_cache_handle *h)
{
    if (!h)
        return;
    entry *e = (entry *)h;
    shard *s = shard_for(c, e->hash);
    entry *dead = NULL;
    pthread_mutex_lock(&s->mu);
    e->refs--;
    if (client_refs(e) == 0) {
        s->pinned -= e->charge;
        if (e->resident) {
            lru_push_head(s, e);
            evict(s, &dead);
        } else {
            e->hnext = NULL;
            dead = e;
        }
    }
    pthread_mutex_unlock(&s->mu);
    free_dead(dead);
}

void
st_cache_erase(st_cache *c, const void *key, size_t klen)
{
    uint64_t hash = XXH3_64bits(key, klen);
    shard *s = shard_for(c, hash);
    entry *dead = NULL;
    pthread_mutex_lock(&s->mu);
    entry **pp = table_find(s, key, klen, hash);
    entry *e = *pp;
    if (e) {
        *pp = e->hnext;
        unlink_resident(s, e, &dead);
    }
    pthread_mutex_unlock(&s->mu);
    free_dead(dead);
}

uint64_t
st_cache_new_id(st_cache *c)
{
    (void)c;
    return atomic_fetch_add_explicit(&st_cache_next_id, 1, memory_order_relaxed) + 1;
}

size_t
st_cache_capacity(const st_cache *c)
{
    return c->capacity;
}

/* Sums one per-shard counter, reading each shard under its mutex. */
static size_t
sum_shards(const st_cache *c, size_t offset)
{
    size_t n = (size_t)1 << c->shard_bits, total = 0;
    for (size_t i = 0; i < n; i++) {
        shard *s = &c->shards[i];
        pthread_mutex_lock(&s->mu);
        total += *(const size_t *)((const char *)s + offset);
        pthread_mutex_unlock(&s->mu);
    }
    return total;
}

size_t
st_cache_usage(const st_cache *c)
{
    return sum_shards(c, offsetof(shard, usage));
}

size_t
st_cache_pinned(const st_cache *c)
{
    return sum_shards(c, offsetof(shard, pinned));
}

void
st_cache_stats(const st_cache *c, uint64_t *hits, uint64_t *misses)
{
    if (hits)
        *hits = atomic_load_explicit(&c->hits, memory_order_relaxed);
    if (misses)
        *misses = atomic_load_explicit(&c->misses, memory_order_relaxed);
}
