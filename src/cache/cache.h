/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cache.h -- a sharded cache (CLOCK replacement, two priorities) with byte charges and
 * reference-counted handles.
 *
 * Used for decoded table pages and table metadata (bloom filters, page indexes) under one byte
 * budget. Keys are byte strings (callers prefix them with an id from st_cache_new_id so tables
 * never collide). An entry is freed (its deleter called) once it has been evicted or erased AND
 * no handle to it is outstanding; pinned entries are never freed under a reader.
 *
 * Thread safety: every function may be called from any thread; each shard has its own mutex.
 */
#ifndef ST_CACHE_CACHE_H
#define ST_CACHE_CACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct st_cache st_cache;
typedef struct st_cache_handle st_cache_handle;
typedef void (*st_cache_deleter)(const void *key, size_t klen, void *value);

/* capacity in bytes (0 allowed: nothing stays cached once released); shard_bits < 0 = auto
 * (st_cache_auto_shard_bits(capacity)). */
int st_cache_new(size_t capacity, int shard_bits, st_cache **out);
/* The shard count (as bits) auto sharding picks for `capacity`: up to 64 shards, none below
 * 512 KiB. A cache whose capacity will change (st_cache_set_capacity) is best sharded for the
 * smallest capacity it will have, so that no shard gets too small for a large entry. */
int st_cache_auto_shard_bits(size_t capacity);
void st_cache_free(st_cache *c); /* REQUIRES: no outstanding handles. NULL is a no-op. */

/*
 * Replacement is CLOCK (second chance): a lookup hit, or an insert that returns a handle, marks
 * the entry referenced; eviction passes over referenced and pinned entries once (clearing the
 * mark) and evicts the first entry that is neither, so an entry is evicted only after a full
 * round of the hand without an access.
 * Entry priorities: low-priority entries are evicted first; high-priority ones once they hold
 * more than three quarters of the capacity (or nothing else is left).
 */
enum { ST_CACHE_LOW = 0, ST_CACHE_HIGH = 1 };

/*
 * st_cache_insert --
 *     Insert value under key with `charge` bytes and priority pri (ST_CACHE_LOW / _HIGH),
 *     replacing any older entry for the key. The cache owns value from now on (deleter frees it,
 *     even on failure). If out is non-NULL the entry is returned pinned (release it with
 *     st_cache_release). STRATA_OK or STRATA_NOMEM.
 */
int st_cache_insert(st_cache *c, const void *key, size_t klen, void *value, size_t charge,
                    st_cache_deleter deleter, int pri, st_cache_handle **out);

/* Pinned handle for key, or NULL when absent. */
st_cache_handle *st_cache_lookup(st_cache *c, const void *key, size_t klen);
/* Start fetching the memory a lookup of key touches first (its slot of the hash table), so that
 * a lookup a little later does not wait for it. Changes nothing; safe from any thread. */
void st_cache_prefetch(const st_cache *c, const void *key, size_t klen);
/* st_cache_lookup for an entry the caller can do without (it will not load it on a miss): a
 * miss is not counted in the statistics, a hit is. */
st_cache_handle *st_cache_probe(st_cache *c, const void *key, size_t klen);
void *st_cache_value(const st_cache_handle *h);
void st_cache_release(st_cache *c, st_cache_handle *h);
/*
 * st_cache_admit --
 *     Admission for entries that are costly to insert (they evict others) but that the caller
 *     can do without, reading what it needs in another way (a point lookup takes one value out
 *     of a table page instead of decoding and caching the whole page). 1 = insert it: when_room
 *     is set and the entry (of about `charge` bytes, priority pri) fits without evicting
 *     anything of its own priority or above (ST_CACHE_LOW: it fits in the free space beyond a
 *     slack of an eighth of the capacity; ST_CACHE_HIGH: the high-priority entries stay within
 *     their share, so only low-priority ones are evicted), or this key was refused `refusals`
 *     times recently (1 to ST_CACHE_ADMIT_MAX), so it is being reused; 0 = do without, the
 *     refusal is counted. The memory of refusals is small (about one key per 8 KiB of capacity,
 *     direct-mapped), so only keys asked for again soon are admitted, and the more refusals are
 *     asked for, the hotter the key must be. ST_CACHE_ADMIT_REUSED suits entries the caller
 * otherwise decodes anyway; a caller whose alternative costs much less than decoding the entry asks
 * for more.
 */
#define ST_CACHE_ADMIT_REUSED 3
#define ST_CACHE_ADMIT_MAX 15
int st_cache_admit(st_cache *c, const void *key, size_t klen, size_t charge, int pri,
                   unsigned refusals, int when_room);
void st_cache_erase(st_cache *c, const void *key, size_t klen);

/* A process-unique id for key prefixes (never 0). */
uint64_t st_cache_new_id(st_cache *c);

size_t st_cache_capacity(const st_cache *c);
/* Change the capacity (the shard count stays as st_cache_new chose it for the first one):
 * entries are evicted at once down to the new capacity, except pinned ones, which go when
 * released. Concurrent callers: the last to finish wins shard by shard, so callers that may
 * race serialise their calls. */
void st_cache_set_capacity(st_cache *c, size_t capacity);
size_t st_cache_usage(const st_cache *c);  /* charge of all resident entries */
size_t st_cache_pinned(const st_cache *c); /* charge of entries with outstanding handles */
void st_cache_stats(const st_cache *c, uint64_t *hits, uint64_t *misses);

#endif
