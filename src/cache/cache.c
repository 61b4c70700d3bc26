/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.c -- sharded cache with CLOCK-style (second chance) replacement (see cache.h).
 *
 * Each entry carries a reference count: one reference for the cache itself while the entry is
 * resident (in the shard's table) plus one per outstanding handle. Resident entries sit on their
 * shard's list for their priority whether pinned or not, so a lookup never touches list
 * neighbours: a hit only bumps the reference count and sets the entry's `referenced` bit.
 * Eviction looks at the tail of a list: a pinned or referenced entry is moved to the head (its
 * bit cleared), anything else is evicted. That is the CLOCK approximation of LRU: an entry
 * accessed since the hand last passed survives one more round. When the last reference goes the
 * deleter runs, always outside the shard mutex so a deleter may itself use the cache.
 *
 * The table of a shard is open addressing with linear probing over (hash, entry) slots, so a
 * probe compares hashes without touching entries: a lookup costs one cold cache line for the
 * slots and, on a hit, one for the entry.
 *
 * Two priorities, as in RocksDB's high-priority pool: each shard keeps one list per priority.
 * Eviction takes a low-priority entry first, and a high-priority one only when no evictable
 * low-priority entry is left or high-priority entries hold more than ST_CACHE_HIGH_RATIO_PCT
 * percent of the shard. Small, often-read entries (a table's key pages) thus survive a stream of
 * large, rarely reused ones (value pages).
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
/* st_cache_admit remembers about one refused key per this many bytes of capacity. */
#define ST_CACHE_GHOST_BYTES 8192
/* A key refused the caller's number of times while remembered is admitted: it is being reused,
 * not met by chance. The count lives in the low bits of its remembered fingerprint. */
#define GHOST_COUNT_MASK 15u
_Static_assert(ST_CACHE_ADMIT_MAX <= GHOST_COUNT_MASK, "the refusal count fits its bits");
/* Initial slots per shard (a power of two); the table doubles past half full. */
#define ST_CACHE_INITIAL_SLOTS 64

/* List links, shared by entries and the per-priority sentinels. */
typedef struct link {
    struct link *prev, *next;
} link;

typedef struct entry {
    link l; /* first member: a link of a list is its entry */
    void *value;
    st_cache_deleter deleter;
    size_t charge;
    size_t klen;
    uint64_t hash;
    uint32_t refs;   /* cache's own (if resident) + one per handle */
    bool resident;   /* in the table and on a list, charged to usage */
    bool referenced; /* accessed since the eviction hand last passed it */
    uint8_t pri;     /* ST_CACHE_LOW or ST_CACHE_HIGH */
    unsigned char key[];
} entry;

typedef struct slot {
    uint64_t hash;
    entry *e; /* NULL: empty */
} slot;

typedef struct shard {
    pthread_mutex_t mu;
    slot *slots;
    size_t nslots; /* power of two */
    /* slots and nslots - 1 for st_cache_prefetch, which reads them without the mutex: a stale
     * pair only prefetches a useless address */
    _Atomic(slot *) pf_slots;
    _Atomic size_t pf_mask;
    size_t count; /* resident entries */
    size_t capacity;
    size_t high_capacity; /* ST_CACHE_HIGH_RATIO_PCT of capacity */
    size_t usage;
    size_t high_usage; /* charge of resident high-priority entries (part of usage) */
    size_t pinned;
    /* per priority: sentinel (next = head, prev = tail), entries and unpinned entries on it */
    link lru[2];
    size_t listed[2], evictable[2];
    /* st_cache_admit: fingerprints of keys refused once, direct-mapped (power of two) */
    uint32_t *ghost;
    size_t nghost;
} shard;

struct st_cache {
    shard *shards;
    int shard_bits;
    _Atomic size_t capacity;
    _Atomic uint64_t hits;
    _Atomic uint64_t misses;
};

static _Atomic uint64_t st_cache_next_id;

/* ---- list and table helpers (shard mutex held) ------------------------------------------- */

static void
list_remove(shard *s, entry *e)
{
    e->l.prev->next = e->l.next;
    e->l.next->prev = e->l.prev;
    e->l.prev = e->l.next = NULL;
    s->listed[e->pri]--;
}

static void
list_push_head(shard *s, entry *e)
{
    link *head = &s->lru[e->pri];
    e->l.next = head->next;
    e->l.prev = head;
    head->next->prev = &e->l;
    head->next = &e->l;
    s->listed[e->pri]++;
}

static size_t
client_refs(const entry *e)
{
    return e->refs - (e->resident ? 1u : 0u);
}

/* Index of key's slot, or of the empty slot that ends its probe sequence. */
static size_t
table_find(const shard *s, const void *key, size_t klen, uint64_t hash)
{
    size_t mask = s->nslots - 1, i = (size_t)hash & mask;
    for (;; i = (i + 1) & mask) {
        const slot *sl = &s->slots[i];
        if (!sl->e || (sl->hash == hash && sl->e->klen == klen &&
                       (klen == 0 || memcmp(sl->e->key, key, klen) == 0)))
            return i;
    }
}

/* Index of entry e's slot (it is in the table). */
static size_t
table_slot_of(const shard *s, const entry *e)
{
    size_t mask = s->nslots - 1, i = (size_t)e->hash & mask;
    while (s->slots[i].e != e)
        i = (i + 1) & mask;
    return i;
}

/* Empties slot i, shifting later members of its probe run back (no tombstones). */
static void
table_remove_at(shard *s, size_t i)
{
    size_t mask = s->nslots - 1, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!s->slots[j].e)
            break;
        size_t home = (size_t)s->slots[j].hash & mask;
        /* slot j may move to i when its home is not cyclically within (i, j] */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            s->slots[i] = s->slots[j];
            i = j;
        }
    }
    s->slots[i].e = NULL;
}

/* Doubles the slot array; on allocation failure the table just fills further. */
static void
table_grow(shard *s)
{
    size_t n = s->nslots * 2, mask = n - 1;
    slot *ns = st_calloc(n, sizeof(*ns));
    if (!ns)
        return;
    for (size_t i = 0; i < s->nslots; i++) {
        if (!s->slots[i].e)
            continue;
        size_t j = (size_t)s->slots[i].hash & mask;
        while (ns[j].e)
            j = (j + 1) & mask;
        ns[j] = s->slots[i];
    }
    st_free(s->slots);
    s->slots = ns;
    s->nslots = n;
    atomic_store_explicit(&s->pf_slots, ns, memory_order_relaxed);
    atomic_store_explicit(&s->pf_mask, mask, memory_order_relaxed);
}

/*
 * Drops the cache's own reference of a resident entry already removed from the table. If the
 * entry becomes unreferenced it is chained onto *dead (through l.next; freed by the caller after
 * unlocking).
 */
static void
unlink_resident(shard *s, entry *e, entry **dead)
{
    list_remove(s, e);
    if (client_refs(e) == 0)
        s->evictable[e->pri]--;
    e->resident = false;
    s->usage -= e->charge;
    if (e->pri == ST_CACHE_HIGH)
        s->high_usage -= e->charge;
    s->count--;
    if (--e->refs == 0) {
        e->l.next = (link *)*dead;
        *dead = e;
    }
}

/* The list to evict from, or -1 when every resident entry is pinned. */
static int
victim_list(const shard *s)
{
    if (s->evictable[ST_CACHE_HIGH] &&
        (s->high_usage > s->high_capacity || !s->evictable[ST_CACHE_LOW]))
        return ST_CACHE_HIGH;
    return s->evictable[ST_CACHE_LOW] ? ST_CACHE_LOW : -1;
}

/*
 * Evicts until usage fits. The hand takes the tail of the chosen list; pinned and referenced
 * entries go back to the head (bit cleared), so within two passes over a list an evictable
 * entry comes up.
 */
static void
evict(shard *s, entry **dead)
{
    int p;
    while (s->usage > s->capacity && (p = victim_list(s)) >= 0) {
        entry *e = (entry *)s->lru[p].prev;
        if (client_refs(e) > 0 || e->referenced) {
            e->referenced = false;
            list_remove(s, e);
            list_push_head(s, e);
            continue;
        }
        table_remove_at(s, table_slot_of(s, e));
        unlink_resident(s, e, dead);
    }
}

static void
free_dead(entry *dead)
{
    while (dead) {
        entry *next = (entry *)dead->l.next;
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

/* Pins e for a new handle (mutex held). */
static void
pin(shard *s, entry *e)
{
    if (client_refs(e) == 0) {
        s->pinned += e->charge;
        if (e->resident)
            s->evictable[e->pri]--;
    }
    e->refs++;
    e->referenced = true;
}

/* ---- public functions -------------------------------------------------------------------- */

int
st_cache_auto_shard_bits(size_t capacity)
{
    int bits = 0;
    while (bits < ST_CACHE_MAX_AUTO_BITS && (capacity >> (bits + 1)) >= ST_CACHE_MIN_SHARD_BYTES)
        bits++;
    return bits;
}

static size_t
high_share(size_t capacity)
{
    return capacity / 100 * ST_CACHE_HIGH_RATIO_PCT +
           capacity % 100 * ST_CACHE_HIGH_RATIO_PCT / 100;
}

int
st_cache_new(size_t capacity, int shard_bits, st_cache **out)
{
    if (!out)
        return st_err(STRATA_INVALID, "st_cache_new: NULL out");
    *out = NULL;
    if (shard_bits > ST_CACHE_MAX_SHARD_BITS)
        return st_err(STRATA_INVALID, "st_cache_new: shard_bits %d > %d", shard_bits,
                      ST_CACHE_MAX_SHARD_BITS);
    if (shard_bits < 0)
        shard_bits = st_cache_auto_shard_bits(capacity);
    st_cache *c = st_calloc(1, sizeof(*c));
    if (!c)
        return st_err(STRATA_NOMEM, "st_cache_new: out of memory");
    size_t n = (size_t)1 << shard_bits;
    c->shard_bits = shard_bits;
    atomic_init(&c->capacity, capacity);
    c->shards = st_calloc(n, sizeof(shard));
    if (!c->shards) {
        st_free(c);
        return st_err(STRATA_NOMEM, "st_cache_new: out of memory for %zu shards", n);
    }
    for (size_t i = 0; i < n; i++) {
        shard *s = &c->shards[i];
        /* Shard capacities add up to exactly `capacity`. */
        s->capacity = capacity / n + (i < capacity % n ? 1 : 0);
        s->nslots = ST_CACHE_INITIAL_SLOTS;
        s->slots = st_calloc(s->nslots, sizeof(slot));
        for (s->nghost = 16; s->nghost < s->capacity / ST_CACHE_GHOST_BYTES; s->nghost *= 2)
            ;
        s->ghost = st_calloc(s->nghost, sizeof(uint32_t));
        if (!s->slots || !s->ghost || pthread_mutex_init(&s->mu, NULL) != 0) {
            st_free(s->slots);
            st_free(s->ghost);
            for (size_t j = 0; j < i; j++) {
                pthread_mutex_destroy(&c->shards[j].mu);
                st_free(c->shards[j].slots);
                st_free(c->shards[j].ghost);
            }
            st_free(c->shards);
            st_free(c);
            return st_err(STRATA_NOMEM, "st_cache_new: out of memory for shard %zu", i);
        }
        s->high_capacity = high_share(s->capacity);
        atomic_init(&s->pf_slots, s->slots);
        atomic_init(&s->pf_mask, s->nslots - 1);
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
        for (size_t j = 0; j < s->nslots; j++)
            if (s->slots[j].e)
                unlink_resident(s, s->slots[j].e, &dead);
        free_dead(dead);
        pthread_mutex_destroy(&s->mu);
        st_free(s->slots);
        st_free(s->ghost);
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
    e->referenced = out != NULL; /* a handle is an access */
    e->pri = pri == ST_CACHE_HIGH ? ST_CACHE_HIGH : ST_CACHE_LOW;
    e->refs = out ? 2 : 1;

    shard *s = shard_for(c, e->hash);
    entry *dead = NULL;
    pthread_mutex_lock(&s->mu);
    size_t i = table_find(s, key, klen, e->hash);
    if (s->slots[i].e) {
        entry *old = s->slots[i].e;
        table_remove_at(s, i);
        unlink_resident(s, old, &dead);
    }
    if ((s->count + 1) * 2 > s->nslots)
        table_grow(s);
    if (s->count + 1 >= s->nslots) { /* growth failed and no free slot would remain */
        pthread_mutex_unlock(&s->mu);
        free_dead(dead);
        if (deleter)
            deleter(key, klen, value);
        st_free(e);
        return st_err(STRATA_NOMEM, "st_cache_insert: out of memory for the table of a shard");
    }
    i = table_find(s, key, klen, e->hash);
    s->slots[i].hash = e->hash;
    s->slots[i].e = e;
    s->count++;
    s->usage += charge;
    if (e->pri == ST_CACHE_HIGH)
        s->high_usage += charge;
    list_push_head(s, e);
    if (out)
        s->pinned += charge;
    else
        s->evictable[e->pri]++;
    evict(s, &dead);
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
    entry *e = s->slots[table_find(s, key, klen, hash)].e;
    if (e)
        pin(s, e);
    pthread_mutex_unlock(&s->mu);
    if (e || count_miss)
        atomic_fetch_add_explicit(e ? &c->hits : &c->misses, 1, memory_order_relaxed);
    return (st_cache_handle *)e;
}

void
st_cache_prefetch(const st_cache *c, const void *key, size_t klen)
{
    uint64_t hash = XXH3_64bits(key, klen);
    shard *s = shard_for(c, hash);
    slot *sl = atomic_load_explicit(&s->pf_slots, memory_order_relaxed);
    size_t mask = atomic_load_explicit(&s->pf_mask, memory_order_relaxed);
    __builtin_prefetch(&sl[(size_t)hash & mask]);
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
            s->evictable[e->pri]++;
            if (s->usage > s->capacity)
                evict(s, &dead);
        } else {
            e->l.next = NULL;
            dead = e;
        }
    }
    pthread_mutex_unlock(&s->mu);
    free_dead(dead);
}

int
st_cache_admit(st_cache *c, const void *key, size_t klen, size_t charge, int pri, unsigned refusals,
               int when_room)
{
    if (refusals < 1)
        refusals = 1;
    if (refusals > ST_CACHE_ADMIT_MAX)
        refusals = ST_CACHE_ADMIT_MAX;
    uint64_t hash = XXH3_64bits(key, klen);
    shard *s = shard_for(c, hash);
    uint32_t fp = (uint32_t)(hash >> 32) & ~GHOST_COUNT_MASK;
    int admit;
    pthread_mutex_lock(&s->mu);
    uint32_t *g = &s->ghost[(size_t)hash & (s->nghost - 1)];
    uint32_t refused = (*g & ~GHOST_COUNT_MASK) == fp ? *g & GHOST_COUNT_MASK : 0;
    /* Room: the entry fits in the free space, beyond the slack an eviction leaves behind (an
     * insert evicts until it fits, which frees up to an entry's worth: without the slack each
     * insert would make room for the next one, and every miss would be admitted). A
     * high-priority entry within the high share evicts only low-priority ones. */
    size_t slack = s->capacity / 8;
    int room = pri == ST_CACHE_HIGH ? s->high_usage + charge <= s->high_capacity
                                    : s->usage + charge + slack <= s->capacity;
    if ((when_room && room) || refused >= refusals) {
        admit = 1; /* room without evicting, or refused often enough recently */
        *g = 0;
    } else {
        admit = 0;
        *g = fp | (refused + 1);
    }
    pthread_mutex_unlock(&s->mu);
    return admit;
}

void
st_cache_erase(st_cache *c, const void *key, size_t klen)
{
    uint64_t hash = XXH3_64bits(key, klen);
    shard *s = shard_for(c, hash);
    entry *dead = NULL;
    pthread_mutex_lock(&s->mu);
    size_t i = table_find(s, key, klen, hash);
    entry *e = s->slots[i].e;
    if (e) {
        table_remove_at(s, i);
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

void
st_cache_set_capacity(st_cache *c, size_t capacity)
{
    size_t n = (size_t)1 << c->shard_bits;
    atomic_store(&c->capacity, capacity);
    for (size_t i = 0; i < n; i++) {
        shard *s = &c->shards[i];
        entry *dead = NULL;
        pthread_mutex_lock(&s->mu);
        s->capacity = capacity / n + (i < capacity % n ? 1 : 0);
        s->high_capacity = high_share(s->capacity);
        evict(s, &dead);
        pthread_mutex_unlock(&s->mu);
        free_dead(dead); /* outside the shard lock, as everywhere */
    }
}

size_t
st_cache_capacity(const st_cache *c)
{
    return atomic_load(&((st_cache *)c)->capacity);
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
