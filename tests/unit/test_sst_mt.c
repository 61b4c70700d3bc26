/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Concurrency test of src/sst: one reader shared by several threads doing point lookups and
 * iterator scans at once, with a small page cache (constant eviction) and without a cache.
 * Every answer is checked against the keys the table was built from.
 */
#include "cache/cache.h"
#include "sst/sst.h"
#include "st_test.h"
#include "util/alloc.h"
#include "util/random.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define NKEYS 3000
#define NTHREADS 4

static st_sst_reader *reader;
static uint64_t seed0;

static void
make_key(int i, char *k)
{
    snprintf(k, 32, "k%07d", i * 3);
}

static void
make_val(int i, char *v)
{
    snprintf(v, 64, "value-%d-%d", i, i * 31);
}

static void *
worker(void *arg)
{
    st_rng rng;
    st_rng_seed(&rng, seed0 + (uint64_t)(uintptr_t)arg);
    st_buf v = {0};
    char k[32], want[64];
    int failures = 0;
    for (int t = 0; t < 600 * st_test_scale(); t++) {
        int i = (int)st_rng_uniform(&rng, NKEYS);
        make_key(i, k);
        if (st_rng_uniform(&rng, 20) == 0) {
            /* a short scan from k */
            st_iter *it = NULL;
            if (st_sst_reader_iter(reader, NULL, 0, NULL, 0, (int)(t & 1), &it) != STRATA_OK)
                return (void *)1;
            st_iter_seek(it, (const uint8_t *)k, strlen(k), ST_SEQ_MAX);
            for (int j = i; j < i + 50 && j < NKEYS; j++, st_iter_next(it)) {
                char kk[32];
                make_key(j, kk);
                if (!it->valid || it->klen != strlen(kk) || memcmp(it->key, kk, it->klen) != 0)
                    failures++;
            }
            if (it->status != STRATA_OK)
                failures++;
            st_iter_close(it);
            continue;
        }
        uint64_t seq = 0;
        int kind = -1;
        if (st_sst_reader_get(reader, (const uint8_t *)k, strlen(k), ST_SEQ_MAX,
                              ST_SST_ITER_FILL_CACHE, &kind, &v, &seq) != STRATA_OK) {
            failures++;
            continue;
        }
        make_val(i, want);
        if (seq != (uint64_t)i + 1 || kind != ST_KIND_PUT || v.len != strlen(want) ||
            memcmp(v.data, want, v.len) != 0)
            failures++;
        k[strlen(k) - 1] = 'x'; /* absent */
        if (st_sst_reader_get(reader, (const uint8_t *)k, strlen(k), ST_SEQ_MAX,
                              ST_SST_ITER_FILL_CACHE, NULL, &v, NULL) != STRATA_NOTFOUND)
            failures++;
    }
    st_buf_free(&v);
    return (void *)(uintptr_t)failures;
}

static void
run_threads(st_cache *cache, const char *path)
{
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), path, cache, &reader));
    pthread_t th[NTHREADS];
    for (uintptr_t i = 0; i < NTHREADS; i++)
        ST_ASSERT(pthread_create(&th[i], NULL, worker, (void *)i) == 0);
    uintptr_t failures = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        ST_ASSERT(pthread_join(th[i], &r) == 0);
        failures += (uintptr_t)r;
    }
    ST_ASSERT_EQ(failures, 0);
    st_sst_reader_unref(reader);
}

static void
test_shared_reader(void)
{
    seed0 = st_test_seed();
    char *dir = st_test_tmpdir("sst_mt");
    char *path = st_path_join(dir, "mt.parquet");
    st_sst_options o;
    st_sst_options_init(&o);
    o.page_size = 512;
    o.row_group_size = 16384;
    st_sst_builder *b = NULL;
    ST_ASSERT_OK(st_sst_builder_new(st_env_posix(), path, &o, &b));
    char k[32], v[64];
    for (int i = 0; i < NKEYS; i++) {
        make_key(i, k);
        make_val(i, v);
        st_sst_builder_add(b, (const uint8_t *)k, strlen(k), (uint64_t)i + 1, ST_KIND_PUT,
                           (const uint8_t *)v, strlen(v));
    }
    ST_ASSERT_OK(st_sst_builder_finish(b, NULL));
    st_cache *cache = NULL;
    ST_ASSERT_OK(st_cache_new(64 * 1024, 2, &cache));
    run_threads(cache, path);
    ST_ASSERT_EQ(st_cache_pinned(cache), 0);
    run_threads(NULL, path);
    st_cache_free(cache);
    st_free(path);
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_shared_reader);
    return st_test_done();
}
