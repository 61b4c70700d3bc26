/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_version.c -- sorted runs of a version (partition, binary search, gets, run iterators)
 * and the bounded table cache (eviction, reopening, iterators on evicted tables).
 */
#include "fault_env.h"
#include "st_test.h"
#include "util/alloc.h"
#include "version/filename.h"
#include "version/version.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

typedef struct fixture {
    char *dir;
    st_cache *cache;
    st_table_ctx ctx;
    uint64_t next_fnum;
} fixture;

static void
fx_init(fixture *f, const char *name, size_t max_open)
{
    memset(f, 0, sizeof(*f));
    f->dir = st_test_tmpdir(name);
    ST_ASSERT_OK(st_cache_new(1u << 20, -1, &f->cache));
    ST_ASSERT_OK(st_table_cache_new(max_open, &f->ctx.tc));
    f->ctx.env = st_env_posix();
    f->ctx.dir = f->dir;
    f->ctx.cache = f->cache;
    f->next_fnum = 1;
}

/* Tables written through a fault env that skips the real fsyncs (10,000 tables stay fast). */
static st_fault_env *
fx_fast_env(fixture *f)
{
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    st_fault_env_skip_real_sync(fe, 1);
    f->ctx.env = st_fault_env_env(fe);
    return fe;
}

static void
fx_free(fixture *f)
{
    st_table_cache_free(f->ctx.tc);
    st_cache_free(f->cache);
    st_test_rmrf(f->dir);
    free(f->dir);
}

static void
key_of(int k, char *buf)
{
    snprintf(buf, 16, "k%06d", k);
}

/* A table holding keys [from, to) step `step`, each with seq base + key, value "v<seq>";
 * deletes when del. */
static st_table *
make_table(fixture *f, int from, int to, int step, uint64_t base, int del)
{
    uint64_t fnum = f->next_fnum++;
    char *path = st_file_path(f->dir, ST_FILE_TABLE, fnum);
    st_sst_builder *b;
    ST_ASSERT_OK(st_sst_builder_new(f->ctx.env, path, NULL, &b));
    for (int k = from; k < to; k += step) {
        char key[16], val[32];
        key_of(k, key);
        int vl = snprintf(val, sizeof(val), "v%llu", (unsigned long long)(base + (uint64_t)k));
        st_sst_builder_add(b, (const uint8_t *)key, strlen(key), base + (uint64_t)k,
                           del ? ST_KIND_DELETE : ST_KIND_PUT, (const uint8_t *)val, (size_t)vl);
    }
    st_sst_meta sm;
    ST_ASSERT_OK(st_sst_builder_finish(b, &sm));
    st_table_meta m;
    memset(&m, 0, sizeof(m));
    m.fnum = fnum;
    m.file_size = sm.file_size;
    m.entries = sm.entries;
    m.tombstones = sm.tombstones;
    m.min_seq = sm.min_seq;
    m.max_seq = sm.max_seq;
    m.smallest = sm.smallest;
    m.smallest_len = sm.smallest_len;
    m.largest = sm.largest;
    m.largest_len = sm.largest_len;
    st_table *t;
    ST_ASSERT_OK(st_table_open(&f->ctx, &m, &t));
    st_sst_meta_free(&sm);
    st_free(path);
    return t;
}

static st_version *
make_version(st_table **t, size_t n)
{
    st_version *v;
    ST_ASSERT_OK(st_version_new(t, n, &v));
    for (size_t i = 0; i < n; i++)
        st_table_unref(t[i]); /* the version holds them */
    return v;
}

/* Expect key k to read as value "v<seq>" (seq > 0), or absent (seq == 0), at snapshot snap. */
static void
expect_get(st_version *v, int k, uint64_t snap, uint64_t want_seq, int want_kind)
{
    char key[16];
    key_of(k, key);
    st_buf val;
    st_buf_init(&val);
    int kind = -1;
    uint64_t seq = 0;
    int rc = st_version_get(v, (const uint8_t *)key, strlen(key), snap, 1, &kind, &val, &seq, NULL);
    if (want_seq == 0) {
        if (rc != STRATA_NOTFOUND)
            ST_FAIL("key %d: expected not found, got %s seq %llu", k, strata_errstr(rc),
                    (unsigned long long)seq);
    } else {
        ST_ASSERT_OK(rc);
        if (seq != want_seq || kind != want_kind)
            ST_FAIL("key %d: seq %llu kind %d, expected seq %llu kind %d", k,
                    (unsigned long long)seq, kind, (unsigned long long)want_seq, want_kind);
        if (kind == ST_KIND_PUT) {
            char w[32];
            int wl = snprintf(w, sizeof(w), "v%llu", (unsigned long long)want_seq);
            ST_ASSERT_MEM_EQ(val.data, val.len, w, (size_t)wl);
        }
    }
    st_buf_free(&val);
}

static void
test_partition(void)
{
    fixture f;
    fx_init(&f, "version_partition", 0);
    st_version *v = make_version(NULL, 0);
    ST_ASSERT_EQ(v->nruns, 0);
    expect_get(v, 1, ST_SEQ_MAX, 0, 0);
    st_version_unref(v);

    /* one compaction's shards: disjoint -> one run; a flush over everything -> a second run;
     * a table starting exactly at another's last key overlaps it -> cannot share its run */
    st_table *t[6];
    t[0] = make_table(&f, 0, 100, 1, 1000, 0);
    t[1] = make_table(&f, 100, 200, 1, 1000, 0);
    t[2] = make_table(&f, 300, 400, 1, 1000, 0);
    t[3] = make_table(&f, 0, 400, 7, 5000, 0);
    t[4] = make_table(&f, 399, 450, 1, 9000, 0);
    t[5] = make_table(&f, 500, 501, 1, 9500, 0);
    v = make_version(t, 6);
    ST_ASSERT_EQ(v->n, 6);
    size_t total = 0;
    for (size_t r = 0; r < v->nruns; r++) {
        const st_run *run = &v->runs[r];
        total += run->n;
        for (size_t i = 1; i < run->n; i++) /* ascending and disjoint */
            ST_ASSERT(st_bytes_cmp(run->t[i - 1]->m.largest, run->t[i - 1]->m.largest_len,
                                   run->t[i]->m.smallest, run->t[i]->m.smallest_len) < 0);
        if (r > 0)
            ST_ASSERT(v->runs[r - 1].max_seq >= run->max_seq);
    }
    ST_ASSERT_EQ(total, 6);
    /* deepest overlap: key 399 lies in t[2], t[3] and t[4] */
    ST_ASSERT_EQ(v->nruns, 3);

    /* binary search at the boundaries of the first run holding t[0] */
    const st_run *big = NULL;
    for (size_t r = 0; r < v->nruns; r++)
        if (v->runs[r].n >= 3)
            big = &v->runs[r];
    ST_ASSERT(big != NULL);
    char key[16];
    key_of(0, key);
    ST_ASSERT_EQ(st_run_find(big, (const uint8_t *)"a", 1), 0);
    ST_ASSERT_EQ(st_run_find(big, (const uint8_t *)key, strlen(key)), 0);
    key_of(99, key);
    ST_ASSERT_EQ(st_run_find(big, (const uint8_t *)key, strlen(key)), 0);
    key_of(100, key);
    ST_ASSERT_EQ(st_run_find(big, (const uint8_t *)key, strlen(key)), 1);
    key_of(250, key); /* in the gap: the next table, whose range does not hold it */
    ST_ASSERT_EQ(st_run_find(big, (const uint8_t *)key, strlen(key)), 2);
    ST_ASSERT_EQ(st_run_find(big, (const uint8_t *)"z", 1), big->n);

    /* gets: newest version across runs, snapshots, gaps */
    expect_get(v, 5, ST_SEQ_MAX, 1005, ST_KIND_PUT);
    expect_get(v, 7, ST_SEQ_MAX, 5007, ST_KIND_PUT);
    expect_get(v, 7, 5006, 1007, ST_KIND_PUT);
    expect_get(v, 7, 999, 0, 0);
    expect_get(v, 399, ST_SEQ_MAX, 9399, ST_KIND_PUT);
    expect_get(v, 399, 9398, 5399, ST_KIND_PUT);
    expect_get(v, 250, ST_SEQ_MAX, 0, 0);
    expect_get(v, 252, ST_SEQ_MAX, 5252, ST_KIND_PUT);
    expect_get(v, 500, ST_SEQ_MAX, 10000, ST_KIND_PUT);
    expect_get(v, 501, ST_SEQ_MAX, 0, 0);
    st_version_unref(v);
    fx_free(&f);
}

/* Collect the merged keys of all run iterators over [lo, hi) forward, then backward. */
static void
check_iters(st_version *v, int lo, int hi, const int *want, size_t nwant)
{
    char lk[16], hk[16];
    key_of(lo, lk);
    key_of(hi, hk);
    st_iter **its;
    size_t n;
    ST_ASSERT_OK(st_version_iters(v, (const uint8_t *)lk, strlen(lk), (const uint8_t *)hk,
                                  strlen(hk), 1, &its, &n));
    ST_ASSERT(n <= v->nruns);
    st_iter *m = st_merge_iter_new(its, n);
    st_free(its);
    ST_ASSERT(m != NULL);
    size_t got = 0;
    for (st_iter_seek_first(m); m->valid; st_iter_next(m)) {
        ST_ASSERT(got < nwant);
        char key[16];
        key_of(want[got], key);
        ST_ASSERT_MEM_EQ(m->key, m->klen, key, strlen(key));
        got++;
    }
    ST_ASSERT_OK(m->status);
    ST_ASSERT_EQ(got, nwant);
    for (st_iter_seek_last(m); m->valid; st_iter_prev(m)) {
        ST_ASSERT(got > 0);
        got--;
        char key[16];
        key_of(want[got], key);
        ST_ASSERT_MEM_EQ(m->key, m->klen, key, strlen(key));
    }
    ST_ASSERT_OK(m->status);
    ST_ASSERT_EQ(got, 0);
    st_iter_close(m);
}

static void
test_run_iter(void)
{
    fixture f;
    fx_init(&f, "version_run_iter", 0);
    /* one run of 5 tables with gaps (keys 0..9, 20..29, 40..49, ...); an empty-range probe */
    st_table *t[5];
    for (int i = 0; i < 5; i++)
        t[i] = make_table(&f, i * 20, i * 20 + 10, 1, 100, 0);
    st_version *v = make_version(t, 5);
    ST_ASSERT_EQ(v->nruns, 1);
    ST_ASSERT_EQ(v->runs[0].n, 5);

    int want[64];
    size_t nw = 0;
    for (int k = 5; k < 45; k++)
        if (k % 20 < 10)
            want[nw++] = k;
    check_iters(v, 5, 45, want, nw);
    check_iters(v, 10, 20, want, 0); /* a gap between two tables */

    /* seeks inside one run iterator: into a gap, past the end, seek_for_prev into a gap */
    st_iter *it;
    ST_ASSERT_OK(st_run_iter_new(v, 0, NULL, 0, NULL, 0, 1, &it));
    char key[16];
    key_of(15, key);
    st_iter_seek(it, (const uint8_t *)key, strlen(key), ST_SEQ_MAX);
    ST_ASSERT(it->valid);
    key_of(20, key);
    ST_ASSERT_MEM_EQ(it->key, it->klen, key, strlen(key));
    key_of(15, key);
    st_iter_seek_for_prev(it, (const uint8_t *)key, strlen(key), 0);
    ST_ASSERT(it->valid);
    key_of(9, key);
    ST_ASSERT_MEM_EQ(it->key, it->klen, key, strlen(key));
    st_iter_next(it); /* crosses into the next table */
    ST_ASSERT(it->valid);
    key_of(20, key);
    ST_ASSERT_MEM_EQ(it->key, it->klen, key, strlen(key));
    st_iter_prev(it);
    st_iter_prev(it);
    ST_ASSERT(it->valid);
    key_of(8, key);
    ST_ASSERT_MEM_EQ(it->key, it->klen, key, strlen(key));
    key_of(95, key);
    st_iter_seek(it, (const uint8_t *)key, strlen(key), ST_SEQ_MAX);
    ST_ASSERT(!it->valid);
    ST_ASSERT_OK(it->status);
    st_iter_seek_for_prev(it, (const uint8_t *)"a", 1, 0);
    ST_ASSERT(!it->valid);
    ST_ASSERT_OK(it->status);
    st_iter_close(it);
    st_version_unref(v);
    fx_free(&f);
}

static void
test_table_cache_bound(void)
{
    fixture f;
    const size_t limit = 4;
    fx_init(&f, "version_table_cache", limit);
    enum { N = 60 };
    st_table *t[N];
    for (int i = 0; i < N; i++)
        t[i] = make_table(&f, i * 10, i * 10 + 10, 1, 100, 0);
    st_version *v = make_version(t, N);
    size_t open, lim;
    uint64_t opens, evictions;
    st_table_cache_stats(f.ctx.tc, &open, &lim, &opens, &evictions);
    ST_ASSERT(open <= limit);
    ST_ASSERT_EQ(lim, limit);
    ST_ASSERT_EQ(opens, N);

    /* an iterator positioned in a table keeps reading it after the cache closed it */
    st_iter *it;
    ST_ASSERT_OK(st_run_iter_new(v, 0, NULL, 0, NULL, 0, 1, &it));
    st_iter_seek_first(it);
    ST_ASSERT(it->valid);
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < N * 10; k += 3)
            expect_get(v, k, ST_SEQ_MAX, 100 + (uint64_t)k, ST_KIND_PUT);
    st_table_cache_stats(f.ctx.tc, &open, &lim, &opens, &evictions);
    ST_ASSERT(open <= limit);
    ST_ASSERT(evictions > 0);
    int k = 0;
    for (; it->valid; st_iter_next(it), k++) {
        char key[16];
        key_of(k, key);
        ST_ASSERT_MEM_EQ(it->key, it->klen, key, strlen(key));
    }
    ST_ASSERT_OK(it->status);
    ST_ASSERT_EQ(k, N * 10);
    st_iter_close(it);
    st_version_unref(v);
    st_table_cache_stats(f.ctx.tc, &open, &lim, &opens, &evictions);
    ST_ASSERT_EQ(open, 0);
    fx_free(&f);
}

static void
test_table_cache_reopen_error(void)
{
    /* a table closed by the cache whose file vanished: the read fails cleanly with CORRUPT */
    fixture f;
    fx_init(&f, "version_table_cache_err", 1);
    st_table *t[2];
    t[0] = make_table(&f, 0, 10, 1, 100, 0);
    t[1] = make_table(&f, 10, 20, 1, 100, 0); /* evicts t[0]'s reader */
    char *p = st_file_path(f.dir, ST_FILE_TABLE, t[0]->m.fnum);
    ST_ASSERT_EQ(remove(p), 0);
    st_free(p);
    st_version *v = make_version(t, 2);
    char key[16];
    key_of(3, key);
    st_buf val;
    st_buf_init(&val);
    int kind;
    uint64_t seq;
    ST_ASSERT_RC(st_version_get(v, (const uint8_t *)key, strlen(key), ST_SEQ_MAX, 1, &kind, &val,
                                &seq, NULL),
                 STRATA_CORRUPT);
    st_buf_free(&val);
    expect_get(v, 13, ST_SEQ_MAX, 113, ST_KIND_PUT);
    st_version_unref(v);
    fx_free(&f);
}

static void
test_table_cache_10000(void)
{
    /* 10,000 one-row tables (one run) behind a limit of 64 open readers */
    fixture f;
    fx_init(&f, "version_table_cache_10k", 64);
    st_fault_env *fe = fx_fast_env(&f);
    int n = (int)(10000 * st_test_scale());
    if (n < 500)
        n = 500;
    st_table **t = st_malloc((size_t)n * sizeof(*t));
    ST_ASSERT(t != NULL);
    for (int i = 0; i < n; i++)
        t[i] = make_table(&f, i, i + 1, 1, 7, 0);
    st_version *v = make_version(t, (size_t)n);
    st_free(t);
    ST_ASSERT_EQ(v->nruns, 1);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < 2000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % (uint64_t)n);
        expect_get(v, k, ST_SEQ_MAX, 7 + (uint64_t)k, ST_KIND_PUT);
    }
    expect_get(v, n, ST_SEQ_MAX, 0, 0);
    /* a full scan walks every table, reopening each */
    st_iter *it;
    ST_ASSERT_OK(st_run_iter_new(v, 0, NULL, 0, NULL, 0, 0, &it));
    int k = 0;
    for (st_iter_seek_first(it); it->valid; st_iter_next(it), k++) {
        char key[16];
        key_of(k, key);
        ST_ASSERT_MEM_EQ(it->key, it->klen, key, strlen(key));
    }
    ST_ASSERT_OK(it->status);
    ST_ASSERT_EQ(k, n);
    st_iter_close(it);
    size_t open, lim;
    uint64_t opens, evictions;
    st_table_cache_stats(f.ctx.tc, &open, &lim, &opens, &evictions);
    ST_ASSERT(open <= 64);
    ST_ASSERT(opens >= (uint64_t)n + 2000 - 64);
    st_version_unref(v);
    fx_free(&f);
    st_fault_env_free(fe);
}

/* Gets and iterators from several threads while a cache of 3 readers keeps evicting (the
 * concurrency label runs this under TSan in CI). */
typedef struct mt_arg {
    st_version *v;
    int id, ntables;
} mt_arg;

static void *
mt_worker(void *p)
{
    mt_arg *a = p;
    uint64_t x = 88172645463325252ull + (uint64_t)a->id;
    for (int i = 0; i < 400; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int k = (int)(x % (uint64_t)(a->ntables * 10));
        if (i % 8 == 0) {
            st_iter *it;
            ST_ASSERT_OK(st_run_iter_new(a->v, 0, NULL, 0, NULL, 0, i % 16 == 0, &it));
            char key[16];
            key_of(k, key);
            st_iter_seek(it, (const uint8_t *)key, strlen(key), ST_SEQ_MAX);
            for (int j = 0; j < 25 && it->valid; j++) {
                key_of(k + j, key);
                ST_ASSERT_MEM_EQ(it->key, it->klen, key, strlen(key));
                st_iter_next(it);
            }
            ST_ASSERT_OK(it->status);
            st_iter_close(it);
        } else {
            expect_get(a->v, k, ST_SEQ_MAX, 100 + (uint64_t)k, ST_KIND_PUT);
        }
    }
    return NULL;
}

static void
test_table_cache_threads(void)
{
    fixture f;
    fx_init(&f, "version_table_cache_mt", 3);
    enum { N = 24, T = 4 };
    st_table *t[N];
    for (int i = 0; i < N; i++)
        t[i] = make_table(&f, i * 10, i * 10 + 10, 1, 100, 0);
    st_version *v = make_version(t, N);
    pthread_t th[T];
    mt_arg a[T];
    for (int i = 0; i < T; i++) {
        a[i] = (mt_arg){v, i, N};
        ST_ASSERT_EQ(pthread_create(&th[i], NULL, mt_worker, &a[i]), 0);
    }
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    size_t open, lim;
    uint64_t opens, evictions;
    st_table_cache_stats(f.ctx.tc, &open, &lim, &opens, &evictions);
    ST_ASSERT(open <= 3);
    ST_ASSERT(evictions > 0);
    st_version_unref(v);
    fx_free(&f);
}

/* Every kind's name parses back to its kind and number; near misses are not strata's. */
static void
test_file_names(void)
{
    static const st_file_kind numbered[] = {ST_FILE_WAL, ST_FILE_TABLE, ST_FILE_MANIFEST};
    static const uint64_t nums[] = {0, 7, 999999, 1000000, UINT64_MAX};
    char name[ST_FILE_NAME_MAX], tmp[ST_FILE_NAME_MAX + 8];
    uint64_t num;
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
            st_file_name(numbered[k], nums[i], name, sizeof(name));
            ST_ASSERT(strlen(name) >= 6);
            ST_ASSERT_EQ(st_file_parse(name, &num), numbered[k]);
            ST_ASSERT_EQ(num, nums[i]);
            snprintf(tmp, sizeof(tmp), "%s%s", name, ST_FILE_TEMP_SUFFIX);
            ST_ASSERT_EQ(st_file_parse(tmp, &num), ST_FILE_TEMP);
            ST_ASSERT_EQ(num, 0);
        }
    st_file_name(ST_FILE_TABLE, 12, name, sizeof(name));
    ST_ASSERT(strcmp(name, "000012.parquet") == 0);
    st_file_name(ST_FILE_WAL, 3, name, sizeof(name));
    ST_ASSERT(strcmp(name, "000003.wal") == 0);
    st_file_name(ST_FILE_MANIFEST, 5, name, sizeof(name));
    ST_ASSERT(strcmp(name, "MANIFEST-000005") == 0);
    ST_ASSERT_EQ(st_file_parse("CURRENT", &num), ST_FILE_CURRENT);
    ST_ASSERT_EQ(st_file_parse("LOCK", &num), ST_FILE_LOCK);
    ST_ASSERT_EQ(st_file_parse("strata.sql", &num), ST_FILE_SQL_VIEW);
    ST_ASSERT_EQ(st_file_parse("CURRENT.tmp", &num), ST_FILE_TEMP);
    static const char *const foreign[] = {"",
                                          ".wal",
                                          "x12.wal",
                                          "12.wal.bak",
                                          "12.parquet2",
                                          "MANIFEST-",
                                          "MANIFEST-12x",
                                          "manifest-000001",
                                          "CURRENTLY",
                                          "notes.tmp",
                                          ".tmp",
                                          "99999999999999999999.wal",
                                          "1-2.parquet",
                                          "LOCK.tmp.tmp"};
    for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
        num = 42;
        ST_ASSERT_EQ(st_file_parse(foreign[i], &num), ST_FILE_OTHER);
        ST_ASSERT_EQ(num, 0);
    }
    char *p = st_file_path("/db", ST_FILE_LOCK, 0);
    ST_ASSERT(strcmp(p, "/db/LOCK") == 0);
    st_free(p);
}

int
main(void)
{
    ST_RUN(test_file_names);
    ST_RUN(test_partition);
    ST_RUN(test_run_iter);
    ST_RUN(test_table_cache_bound);
    ST_RUN(test_table_cache_reopen_error);
    ST_RUN(test_table_cache_threads);
    ST_RUN(test_table_cache_10000);
    return st_test_done();
}
