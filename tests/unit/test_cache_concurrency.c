/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Concurrency test of src/cache (label `concurrency`, meant for TSan): threads insert, look up,
 * hold, release and erase random keys in a small cache. Values are derived from their key, so a
 * lookup that returns a wrong or freed value is caught; every value is deleted exactly once.
 */
#include "cache/cache.h"
#include "st_test.h"
#include "util/alloc.h"
#include "util/random.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

enum { NTHREADS = 4, NKEYS = 256, MAX_HELD = 4, MAX_CHARGE = 64, CAPACITY = 4096 };

typedef struct value {
    uint64_t key;
    uint64_t check; /* key * constant: a torn or reused value breaks it */
    atomic_int deleted;
} value;

static atomic_long created, destroyed;
static st_cache *cache;
static long ops_per_thread;
static uint64_t seed; /* read once in main: st_test_seed() is not thread-safe */

static uint64_t
check_of(uint64_t key)
{
    return key * 0x9e3779b97f4a7c15ull + 1;
}

static void
make_key(uint64_t k, char *buf, size_t *len)
{
    memcpy(buf, "ck", 2);
    memcpy(buf + 2, &k, sizeof(k));
    *len = 2 + sizeof(k);
}

static void
deleter(const void *key, size_t klen, void *p)
{
    value *v = p;
    char buf[16];
    size_t len;
    make_key(v->key, buf, &len);
    ST_ASSERT_MEM_EQ(key, klen, buf, len);
    ST_ASSERT(v->check == check_of(v->key));
    ST_ASSERT_EQ(atomic_fetch_add(&v->deleted, 1), 0);
    atomic_fetch_add(&destroyed, 1);
    st_free(v);
}

static void
verify(st_cache_handle *h, uint64_t k)
{
    value *v = st_cache_value(h);
    ST_ASSERT(v->key == k);
    ST_ASSERT(v->check == check_of(k));
    ST_ASSERT_EQ(atomic_load(&v->deleted), 0);
}

typedef struct held {
    st_cache_handle *h;
    uint64_t key;
} held;

static void *
worker(void *arg)
{
    st_rng rng;
    st_rng_seed(&rng, seed + (uint64_t)(uintptr_t)arg);
    held hs[MAX_HELD];
    int nheld = 0;
    for (long i = 0; i < ops_per_thread; i++) {
        uint64_t k = st_rng_uniform(&rng, NKEYS);
        char kb[16];
        size_t klen;
        make_key(k, kb, &klen);
        int op = (int)st_rng_uniform(&rng, 100);
        if (op < 30) {
            value *v = st_malloc(sizeof(*v));
            ST_ASSERT(v != NULL);
            v->key = k;
            v->check = check_of(k);
            atomic_init(&v->deleted, 0);
            atomic_fetch_add(&created, 1);
            size_t charge = 1 + st_rng_uniform(&rng, MAX_CHARGE);
            st_cache_handle *h = NULL;
            bool hold = nheld < MAX_HELD && st_rng_uniform(&rng, 4) == 0;
            ST_ASSERT_OK(st_cache_insert(cache, kb, klen, v, charge, deleter, ST_CACHE_LOW,
                                         hold ? &h : NULL));
            if (hold) {
                verify(h, k);
                hs[nheld++] = (held){h, k};
            }
        } else if (op < 80) {
            /* the prefetch reads the slot table without the lock while inserts grow it */
            st_cache_prefetch(cache, kb, klen);
            st_cache_handle *h = st_cache_lookup(cache, kb, klen);
            if (h) {
                verify(h, k);
                if (nheld < MAX_HELD && st_rng_uniform(&rng, 3) == 0)
                    hs[nheld++] = (held){h, k};
                else
                    st_cache_release(cache, h);
            }
        } else if (op < 90) {
            st_cache_erase(cache, kb, klen);
        } else if (nheld > 0) {
            int j = (int)st_rng_uniform(&rng, (uint64_t)nheld);
            verify(hs[j].h, hs[j].key);
            st_cache_release(cache, hs[j].h);
            hs[j] = hs[--nheld];
        }
        /* Each shard is read under its lock, so the sum is bounded by the capacity plus what
         * all threads can hold at once (pinned may be read at other instants). */
        size_t usage = st_cache_usage(cache);
        ST_ASSERT(usage <= (size_t)CAPACITY + (size_t)NTHREADS * MAX_HELD * MAX_CHARGE);
        for (int j = 0; j < nheld; j++)
            verify(hs[j].h, hs[j].key);
    }
    for (int j = 0; j < nheld; j++)
        st_cache_release(cache, hs[j].h);
    return NULL;
}

static void
run(int shard_bits)
{
    atomic_store(&created, 0);
    atomic_store(&destroyed, 0);
    ST_ASSERT_OK(st_cache_new(CAPACITY, shard_bits, &cache));
    pthread_t t[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        ST_ASSERT(pthread_create(&t[i], NULL, worker, (void *)i) == 0);
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    /* quiescent: nothing held, so usage is within capacity exactly */
    ST_ASSERT_EQ(st_cache_pinned(cache), 0);
    ST_ASSERT(st_cache_usage(cache) <= CAPACITY);
    uint64_t hits, misses;
    st_cache_stats(cache, &hits, &misses);
    ST_ASSERT(hits + misses > 0);
    ST_ASSERT(atomic_load(&destroyed) <= atomic_load(&created));
    st_cache_free(cache);
    cache = NULL;
    ST_ASSERT_EQ(atomic_load(&destroyed), atomic_load(&created));
}

static void
test_concurrent_one_shard(void)
{
    run(0);
}

static void
test_concurrent_sharded(void)
{
    run(3);
}

int
main(void)
{
    seed = st_test_seed();
    ops_per_thread = (long)(20000 * st_test_scale());
    if (ops_per_thread < 1000)
        ops_per_thread = 1000;
    ST_RUN(test_concurrent_one_shard);
    ST_RUN(test_concurrent_sharded);
    return st_test_done();
}
