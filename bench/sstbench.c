/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sstbench.c -- strata-sstbench: the table layer alone (src/sst/sst.h) against LevelDB's and
 * RocksDB's tables on the same data (doc/bench.md, "Table-level benchmark (strata-sstbench)").
 *
 * Data: N keys "%016llu" of i in ascending order, values of --value_size bytes made of
 * value_size/2 random printable bytes followed by a repeat of them (so they compress to about
 * half), a pure function of i so every read is checked. Figures per engine:
 *   build   strata: st_sst_builder_new/add/finish of one table (bloom 10 bits, fsync) per codec
 *           of --compression (default zstd, level 1; a list such as zstd,lz4,snappy,none
 *           builds and measures one table per codec).
 *           LevelDB/RocksDB: the N puts go in key order into an empty database whose memtable
 *           holds them all (not timed); the figure is the time of CompactRange over everything,
 *           i.e. memtable flush + compaction merge into their bottom level (snappy, bloom 10).
 *   size    strata: the .parquet file; LevelDB/RocksDB: the sum of their *.ldb / *.sst files.
 *   warm    --reads random gets of existing keys with a --cache_size block cache (default
 *           64 MiB) after one untimed pass of other random gets to warm it.
 *   cold    the same gets with no block cache: strata cache NULL, RocksDB no_block_cache,
 *           LevelDB an LRU cache of capacity 0 plus fill_cache=false (LevelDB always has some
 *           block cache). Bloom filters and indexes stay in memory in every engine, and the OS
 *           page cache still holds the files: this measures decoding, not disk reads.
 *   scan    one full iterator pass (fill_cache off), entries/s.
 * --engines=strata,leveldb,rocksdb (default all three) chooses the engines.
 * Any lookup that misses or returns wrong bytes, or a scan count != N, makes the exit status 1.
 */
#include "bench.h"
#include "cache/cache.h"
#include "env/env.h"
#include "iter/iter.h"
#include "sst/sst.h"
#include "strata/strata.h"
#include "util/buf.h"
#include "util/status.h"

#include <dirent.h>
#include <errno.h>
#include <leveldb/c.h>
#include <rocksdb/c.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_LEN 16
#define MAX_CODECS 4

typedef struct cfg {
    uint64_t num;
    uint64_t reads;
    size_t value_size;
    size_t cache_size;
    char dir[512];
    int codecs[MAX_CODECS]; /* STRATA_COMPRESSION_* of the strata tables, in order */
    int ncodecs;
    int strata, leveldb, rocksdb; /* engines to run */
} cfg;

static const char *const codec_names[] = {[STRATA_COMPRESSION_NONE] = "none",
                                          [STRATA_COMPRESSION_SNAPPY] = "snappy",
                                          [STRATA_COMPRESSION_ZSTD] = "zstd",
                                          [STRATA_COMPRESSION_LZ4] = "lz4"};
#define NCODEC_NAMES (int)(sizeof(codec_names) / sizeof(codec_names[0]))

/* What one engine measured; a negative figure means "not measured". */
typedef struct result {
    const char *name;
    int ran;
    double build_s;
    uint64_t file_bytes;
    double warm_ops, warm_p50_us;
    double cold_ops, cold_p50_us;
    double scan_ops;
} result;

static int g_failed; /* set by any verification failure */

static void fail(const char *engine, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
fail(const char *engine, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "sstbench: %s: ", engine);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    g_failed = 1;
}

static void
make_key(uint64_t i, char *k)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%016llu", (unsigned long long)i);
    memcpy(k, tmp, KEY_LEN);
}

/* The value of key i: half random printable bytes, then a repeat of them. */
static void
make_value(uint64_t i, size_t len, char *v)
{
    /* Seed from a hash of i: seeds i*step would make key i+1's stream key i's shifted by one. */
    bench_rng h = {i ^ 0x5EED5EED5EED5EEDull};
    bench_rng r = {bench_rng_next(&h)};
    size_t half = (len + 1) / 2;
    for (size_t j = 0; j < half; j++) {
        v[j] = (char)(' ' + bench_rng_uniform(&r, 95));
    }
    for (size_t j = half; j < len; j++) {
        v[j] = v[j - half];
    }
}

/* ---- the timed random-get loop, shared by every engine ----------------------------------- */

/* One lookup: 0 when found with exactly the expected bytes, 1 when not found, -1 on error. */
typedef int (*get_fn)(void *ctx, const char *key, const char *want, size_t wlen);

static int
run_gets(const cfg *c, uint64_t seed, get_fn get, void *ctx, const char *engine, double *ops,
         double *p50_us)
{
    bench_hist *h = calloc(1, sizeof *h);
    char *want = malloc(c->value_size);
    if (h == NULL || want == NULL) {
        free(h);
        free(want);
        fail(engine, "%s", "out of memory");
        return -1;
    }
    bench_rng r = {seed};
    char key[KEY_LEN];
    uint64_t bad = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t n = 0; n < c->reads; n++) {
        uint64_t i = bench_rng_uniform(&r, c->num);
        make_key(i, key);
        make_value(i, c->value_size, want);
        uint64_t s = bench_now_ns();
        int rc = get(ctx, key, want, c->value_size);
        bench_hist_add(h, bench_now_ns() - s);
        if (rc != 0) {
            bad++;
        }
    }
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    if (ops != NULL) {
        *ops = (double)c->reads / secs;
    }
    if (p50_us != NULL) {
        *p50_us = bench_hist_percentile(h, 0.5) / 1000.0;
    }
    free(h);
    free(want);
    if (bad != 0) {
        char msg[64];
        snprintf(msg, sizeof msg, "%llu", (unsigned long long)bad);
        fail(engine, "%s gets missed or returned wrong bytes", msg);
        return -1;
    }
    return 0;
}

/* Warm with one untimed pass, then measure with a different key sequence. */
static int
run_warm_and_measure(const cfg *c, get_fn get, void *ctx, const char *engine, double *ops,
                     double *p50_us)
{
    if (run_gets(c, 1001, get, ctx, engine, NULL, NULL) != 0) {
        return -1;
    }
    return run_gets(c, 2002, get, ctx, engine, ops, p50_us);
}

/* Check one scanned entry against the expected key number; returns 0 when it matches. */
static int
check_entry(const cfg *c, uint64_t n, const char *k, size_t kl, const char *v, size_t vl,
            char *want)
{
    char key[KEY_LEN];
    if (n >= c->num || kl != KEY_LEN || vl != c->value_size) {
        return -1;
    }
    make_key(n, key);
    make_value(n, c->value_size, want);
    return memcmp(k, key, KEY_LEN) != 0 || memcmp(v, want, vl) != 0 ? -1 : 0;
}

static void
report_scan(const cfg *c, const char *engine, uint64_t n, uint64_t bad, uint64_t t0, double *ops)
{
    *ops = (double)n / ((double)(bench_now_ns() - t0) / 1e9);
    if (n != c->num || bad != 0) {
        char msg[96];
        snprintf(msg, sizeof msg, "%llu entries (%llu wrong)", (unsigned long long)n,
                 (unsigned long long)bad);
        fail(engine, "scan saw %s", msg);
    }
}

/* Sum of the sizes of files in dir whose names end in suffix. */
static uint64_t
files_size(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    uint64_t total = 0;
    if (d == NULL) {
        return 0;
    }
    size_t sl = strlen(suffix);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t nl = strlen(e->d_name);
        if (nl < sl || strcmp(e->d_name + nl - sl, suffix) != 0) {
            continue;
        }
        char p[1024];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &st) == 0) {
            total += (uint64_t)st.st_size;
        }
    }
    closedir(d);
    return total;
}

/* ---- strata -------------------------------------------------------------------------------- */

typedef struct strata_ctx {
    st_sst_reader *r;
    st_buf val;
} strata_ctx;

static int
sst_get(void *ctx, const char *key, const char *want, size_t wlen)
{
    strata_ctx *s = ctx;
    int kind = 0;
    int rc = st_sst_reader_get(s->r, (const uint8_t *)key, KEY_LEN, UINT64_MAX,
                               ST_SST_ITER_FILL_CACHE, &kind, &s->val, NULL);
    if (rc == STRATA_NOTFOUND) {
        return 1;
    }
    if (rc != STRATA_OK || kind != ST_KIND_PUT || s->val.len != wlen ||
        memcmp(s->val.data, want, wlen) != 0) {
        return -1;
    }
    return 0;
}

static void
strata_fail(const char *what, int rc)
{
    char msg[600];
    snprintf(msg, sizeof msg, "%s: rc %d: %s", what, rc, st_errmsg());
    fail("strata", "%s", msg);
}

static void
bench_strata(const cfg *c, int codec, result *res)
{
    st_env *env = st_env_posix();
    char path[600];
    snprintf(path, sizeof path, "%s/strata-%s.parquet", c->dir, codec_names[codec]);
    char key[KEY_LEN];
    char *val = malloc(c->value_size);
    st_sst_builder *b = NULL;
    st_cache *cache = NULL;
    strata_ctx s = {0};
    st_sst_options o;
    st_iter *it = NULL;
    uint64_t t0 = 0, n = 0, bad = 0;
    int rc;
    st_buf_init(&s.val);
    static const char *const names[] = {[STRATA_COMPRESSION_NONE] = "strata none",
                                        [STRATA_COMPRESSION_SNAPPY] = "strata snappy",
                                        [STRATA_COMPRESSION_ZSTD] = "strata zstd",
                                        [STRATA_COMPRESSION_LZ4] = "strata lz4"};
    res->name = c->ncodecs == 1 ? "strata" : names[codec];
    if (val == NULL) {
        fail("strata", "%s", "out of memory");
        return;
    }

    st_sst_options_init(&o);
    o.compression = codec;
    t0 = bench_now_ns();
    rc = st_sst_builder_new(env, path, &o, &b);
    if (rc != STRATA_OK) {
        strata_fail("builder_new", rc);
        goto out;
    }
    for (uint64_t i = 0; i < c->num; i++) {
        make_key(i, key);
        make_value(i, c->value_size, val);
        st_sst_builder_add(b, (const uint8_t *)key, KEY_LEN, 1, ST_KIND_PUT, (const uint8_t *)val,
                           c->value_size);
    }
    rc = st_sst_builder_finish(b, NULL);
    if (rc != STRATA_OK) {
        strata_fail("builder_finish", rc);
        goto out;
    }
    res->build_s = (double)(bench_now_ns() - t0) / 1e9;
    struct stat st;
    res->file_bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;

    /* Warm: a shared cache of cache_size. */
    rc = st_cache_new(c->cache_size, -1, &cache);
    if (rc == STRATA_OK) {
        rc = st_sst_reader_open(env, path, cache, &s.r);
    }
    if (rc != STRATA_OK) {
        strata_fail("open (warm)", rc);
        goto out;
    }
    if (run_warm_and_measure(c, sst_get, &s, "strata", &res->warm_ops, &res->warm_p50_us) != 0) {
        goto out;
    }

    /* Scan. */
    rc = st_sst_reader_iter(s.r, NULL, 0, NULL, 0, 0, &it);
    if (rc != STRATA_OK) {
        strata_fail("iter", rc);
        goto out;
    }
    t0 = bench_now_ns();
    for (st_iter_seek_first(it); it->valid; st_iter_next(it)) {
        if (check_entry(c, n, (const char *)it->key, it->klen, (const char *)it->val, it->vlen,
                        val) != 0) {
            bad++;
        }
        n++;
    }
    report_scan(c, "strata", n, bad, t0, &res->scan_ops);
    if (it->status != STRATA_OK) {
        strata_fail("scan", it->status);
    }
    st_iter_close(it);
    st_sst_reader_unref(s.r);
    s.r = NULL;

    /* Cold: no cache at all. */
    rc = st_sst_reader_open(env, path, NULL, &s.r);
    if (rc != STRATA_OK) {
        strata_fail("open (cold)", rc);
        goto out;
    }
    if (run_gets(c, 3003, sst_get, &s, "strata", &res->cold_ops, &res->cold_p50_us) != 0) {
        goto out;
    }
    res->ran = 1;
out:
    st_sst_reader_unref(s.r);
    st_cache_free(cache);
    st_buf_free(&s.val);
    free(val);
}

/* ---- LevelDB and RocksDB: one driver over small adapters ------------------------------------- */

/*
 * kv_engine -- what the driver needs from a key-value store. open() with cache_size 0 means "no
 * block cache" (cold); iter_new() returns an iterator that does not fill the cache.
 */
typedef struct kv_engine {
    const char *name;   /* for messages and the directory name */
    const char *suffix; /* table file names end in this */
    int (*open)(void *ctx, const cfg *c, const char *dir, size_t cache_size);
    void (*close)(void *ctx);
    int (*put)(void *ctx, const char *key, const char *val, size_t vlen);
    void (*compact)(void *ctx);
    get_fn get;
    void *(*iter_new)(void *ctx);
    void (*iter_first)(void *it);
    int (*iter_valid)(void *it);
    void (*iter_next)(void *it);
    void (*iter_entry)(void *it, const char **k, size_t *kl, const char **v, size_t *vl);
    void (*iter_free)(void *it);
} kv_engine;

/* A memtable that holds all N puts, so the compaction step is the only table building. */
static size_t
write_buffer_for(const cfg *c)
{
    size_t raw = (size_t)c->num * (KEY_LEN + c->value_size);
    size_t wb = 2 * raw + (1u << 20);
    return wb < ((size_t)64 << 20) ? ((size_t)64 << 20) : wb;
}

static void
bench_kv(const cfg *c, const kv_engine *e, void *ctx, result *res)
{
    char dir[600];
    char key[KEY_LEN];
    char *val = malloc(c->value_size);
    uint64_t t0, n = 0, bad = 0;
    void *it;
    snprintf(dir, sizeof dir, "%s/%s", c->dir, e->name);
    if (val == NULL) {
        fail(e->name, "out of memory");
        return;
    }
    if (e->open(ctx, c, dir, c->cache_size) != 0) {
        goto out;
    }
    for (uint64_t i = 0; i < c->num; i++) {
        make_key(i, key);
        make_value(i, c->value_size, val);
        if (e->put(ctx, key, val, c->value_size) != 0) {
            goto out;
        }
    }
    t0 = bench_now_ns();
    e->compact(ctx);
    res->build_s = (double)(bench_now_ns() - t0) / 1e9;
    res->file_bytes = files_size(dir, e->suffix);

    if (run_warm_and_measure(c, e->get, ctx, e->name, &res->warm_ops, &res->warm_p50_us) != 0) {
        goto out;
    }
    it = e->iter_new(ctx);
    t0 = bench_now_ns();
    for (e->iter_first(it); e->iter_valid(it); e->iter_next(it)) {
        const char *k, *v;
        size_t kl, vl;
        e->iter_entry(it, &k, &kl, &v, &vl);
        if (check_entry(c, n, k, kl, v, vl, val) != 0) {
            bad++;
        }
        n++;
    }
    report_scan(c, e->name, n, bad, t0, &res->scan_ops);
    e->iter_free(it);

    /* Cold: reopen without a block cache. */
    e->close(ctx);
    if (e->open(ctx, c, dir, 0) != 0) {
        goto out;
    }
    if (run_gets(c, 3003, e->get, ctx, e->name, &res->cold_ops, &res->cold_p50_us) != 0) {
        goto out;
    }
    res->ran = 1;
out:
    e->close(ctx);
    free(val);
}

/* Takes ownership of an error string from either library; returns -1 when there was one. */
static int
kv_check(const char *engine, const char *what, char *err)
{
    if (err == NULL) {
        return 0;
    }
    fail(engine, "%s: %s", what, err);
    free(err); /* both C APIs allocate error strings with malloc */
    return -1;
}

/* LevelDB: snappy, bloom 10, default block size; cold = an LRU cache of capacity 0 (LevelDB
 * always has a block cache) plus fill_cache off. */
typedef struct ldb_ctx {
    leveldb_t *db;
    leveldb_options_t *opts;
    leveldb_cache_t *cache;
    leveldb_filterpolicy_t *bloom;
    leveldb_readoptions_t *ro;
    leveldb_readoptions_t *ro_nofill;
    leveldb_writeoptions_t *wo;
} ldb_ctx;

static void
ldb_close(void *ctx)
{
    ldb_ctx *l = ctx;
    if (l->db != NULL) {
        leveldb_close(l->db);
    }
    if (l->opts != NULL) {
        leveldb_options_destroy(l->opts);
        leveldb_cache_destroy(l->cache);
        leveldb_filterpolicy_destroy(l->bloom);
        leveldb_readoptions_destroy(l->ro);
        leveldb_readoptions_destroy(l->ro_nofill);
        leveldb_writeoptions_destroy(l->wo);
    }
    memset(l, 0, sizeof *l);
}

static int
ldb_open(void *ctx, const cfg *c, const char *dir, size_t cache_size)
{
    ldb_ctx *l = ctx;
    char *err = NULL;
    l->opts = leveldb_options_create();
    l->bloom = leveldb_filterpolicy_create_bloom(10);
    l->cache = leveldb_cache_create_lru(cache_size);
    l->ro = leveldb_readoptions_create();
    l->ro_nofill = leveldb_readoptions_create();
    l->wo = leveldb_writeoptions_create();
    leveldb_options_set_create_if_missing(l->opts, 1);
    leveldb_options_set_filter_policy(l->opts, l->bloom);
    leveldb_options_set_cache(l->opts, l->cache);
    leveldb_options_set_compression(l->opts, leveldb_snappy_compression);
    leveldb_options_set_write_buffer_size(l->opts, write_buffer_for(c));
    leveldb_readoptions_set_fill_cache(l->ro_nofill, 0);
    if (cache_size == 0) {
        leveldb_readoptions_set_fill_cache(l->ro, 0);
    }
    l->db = leveldb_open(l->opts, dir, &err);
    return kv_check("leveldb", "open", err);
}

static int
ldb_put(void *ctx, const char *key, const char *val, size_t vlen)
{
    ldb_ctx *l = ctx;
    char *err = NULL;
    leveldb_put(l->db, l->wo, key, KEY_LEN, val, vlen, &err);
    return kv_check("leveldb", "put", err);
}

static void
ldb_compact(void *ctx)
{
    leveldb_compact_range(((ldb_ctx *)ctx)->db, NULL, 0, NULL, 0);
}

/* Both libraries return a malloc'd copy (or NULL) and a malloc'd error string. */
static int
kv_check_get(char *v, size_t vl, char *err, const char *want, size_t wlen)
{
    int rc = err != NULL ? -1 : v == NULL ? 1 : (vl == wlen && memcmp(v, want, wlen) == 0 ? 0 : -1);
    free(err);
    free(v);
    return rc;
}

static int
ldb_get(void *ctx, const char *key, const char *want, size_t wlen)
{
    ldb_ctx *l = ctx;
    char *err = NULL;
    size_t vl = 0;
    char *v = leveldb_get(l->db, l->ro, key, KEY_LEN, &vl, &err);
    return kv_check_get(v, vl, err, want, wlen);
}

static void *
ldb_iter_new(void *ctx)
{
    ldb_ctx *l = ctx;
    return leveldb_create_iterator(l->db, l->ro_nofill);
}

static void
ldb_iter_first(void *it)
{
    leveldb_iter_seek_to_first(it);
}

static int
ldb_iter_valid(void *it)
{
    return leveldb_iter_valid(it);
}

static void
ldb_iter_next(void *it)
{
    leveldb_iter_next(it);
}

static void
ldb_iter_entry(void *it, const char **k, size_t *kl, const char **v, size_t *vl)
{
    *k = leveldb_iter_key(it, kl);
    *v = leveldb_iter_value(it, vl);
}

static void
ldb_iter_free(void *it)
{
    leveldb_iter_destroy(it);
}

static const kv_engine kv_leveldb = {"leveldb",      ".ldb",         ldb_open,      ldb_close,
                                     ldb_put,        ldb_compact,    ldb_get,       ldb_iter_new,
                                     ldb_iter_first, ldb_iter_valid, ldb_iter_next, ldb_iter_entry,
                                     ldb_iter_free};

/* RocksDB: snappy, full bloom 10, default block size, WAL off for the (untimed) load; cold =
 * no_block_cache. */
typedef struct rdb_ctx {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *topts;
    rocksdb_cache_t *cache;
    rocksdb_readoptions_t *ro;
    rocksdb_readoptions_t *ro_nofill;
    rocksdb_writeoptions_t *wo;
} rdb_ctx;

static void
rdb_close(void *ctx)
{
    rdb_ctx *r = ctx;
    if (r->db != NULL) {
        rocksdb_close(r->db);
    }
    if (r->opts != NULL) {
        rocksdb_options_destroy(r->opts);
        rocksdb_block_based_options_destroy(r->topts); /* also drops the filter policy */
        rocksdb_readoptions_destroy(r->ro);
        rocksdb_readoptions_destroy(r->ro_nofill);
        rocksdb_writeoptions_destroy(r->wo);
    }
    if (r->cache != NULL) {
        rocksdb_cache_destroy(r->cache);
    }
    memset(r, 0, sizeof *r);
}

static int
rdb_open(void *ctx, const cfg *c, const char *dir, size_t cache_size)
{
    rdb_ctx *r = ctx;
    char *err = NULL;
    r->opts = rocksdb_options_create();
    r->topts = rocksdb_block_based_options_create();
    r->ro = rocksdb_readoptions_create();
    r->ro_nofill = rocksdb_readoptions_create();
    r->wo = rocksdb_writeoptions_create();
    rocksdb_options_set_create_if_missing(r->opts, 1);
    rocksdb_options_set_compression(r->opts, rocksdb_snappy_compression);
    rocksdb_options_set_write_buffer_size(r->opts, write_buffer_for(c));
    rocksdb_block_based_options_set_filter_policy(r->topts,
                                                  rocksdb_filterpolicy_create_bloom_full(10.0));
    if (cache_size > 0) {
        r->cache = rocksdb_cache_create_lru(cache_size);
        rocksdb_block_based_options_set_block_cache(r->topts, r->cache);
    } else {
        rocksdb_block_based_options_set_no_block_cache(r->topts, 1);
    }
    rocksdb_options_set_block_based_table_factory(r->opts, r->topts);
    rocksdb_readoptions_set_fill_cache(r->ro_nofill, 0);
    rocksdb_writeoptions_disable_WAL(r->wo, 1);
    r->db = rocksdb_open(r->opts, dir, &err);
    return kv_check("rocksdb", "open", err);
}

static int
rdb_put(void *ctx, const char *key, const char *val, size_t vlen)
{
    rdb_ctx *r = ctx;
    char *err = NULL;
    rocksdb_put(r->db, r->wo, key, KEY_LEN, val, vlen, &err);
    return kv_check("rocksdb", "put", err);
}

static void
rdb_compact(void *ctx)
{
    rocksdb_compact_range(((rdb_ctx *)ctx)->db, NULL, 0, NULL, 0);
}

static int
rdb_get(void *ctx, const char *key, const char *want, size_t wlen)
{
    rdb_ctx *r = ctx;
    char *err = NULL;
    size_t vl = 0;
    char *v = rocksdb_get(r->db, r->ro, key, KEY_LEN, &vl, &err);
    return kv_check_get(v, vl, err, want, wlen);
}

static void *
rdb_iter_new(void *ctx)
{
    rdb_ctx *r = ctx;
    return rocksdb_create_iterator(r->db, r->ro_nofill);
}

static void
rdb_iter_first(void *it)
{
    rocksdb_iter_seek_to_first(it);
}

static int
rdb_iter_valid(void *it)
{
    return rocksdb_iter_valid(it);
}

static void
rdb_iter_next(void *it)
{
    rocksdb_iter_next(it);
}

static void
rdb_iter_entry(void *it, const char **k, size_t *kl, const char **v, size_t *vl)
{
    *k = rocksdb_iter_key(it, kl);
    *v = rocksdb_iter_value(it, vl);
}

static void
rdb_iter_free(void *it)
{
    rocksdb_iter_destroy(it);
}

static const kv_engine kv_rocksdb = {"rocksdb",      ".sst",         rdb_open,      rdb_close,
                                     rdb_put,        rdb_compact,    rdb_get,       rdb_iter_new,
                                     rdb_iter_first, rdb_iter_valid, rdb_iter_next, rdb_iter_entry,
                                     rdb_iter_free};

/* Remove what a run leaves in c->dir (also the leftovers of an interrupted run). */
static void
cleanup(const cfg *c)
{
    char p[600];
    char *err = NULL;
    for (int i = 0; i < NCODEC_NAMES; i++) {
        snprintf(p, sizeof p, "%s/strata-%s.parquet", c->dir, codec_names[i]);
        unlink(p);
        snprintf(p, sizeof p, "%s/strata-%s.parquet.tmp", c->dir, codec_names[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/leveldb", c->dir);
    leveldb_options_t *lo = leveldb_options_create();
    leveldb_destroy_db(lo, p, &err);
    leveldb_free(err);
    leveldb_options_destroy(lo);
    err = NULL;
    snprintf(p, sizeof p, "%s/rocksdb", c->dir);
    rocksdb_options_t *ro = rocksdb_options_create();
    rocksdb_destroy_db(ro, p, &err);
    rocksdb_free(err);
    rocksdb_options_destroy(ro);
}

/* ---- main ---------------------------------------------------------------------------------- */

static void
usage(void)
{
    fprintf(stderr, "usage: strata-sstbench [--num=N] [--value_size=100] [--reads=N] "
                    "[--cache_size=BYTES] [--dir=D]\n"
                    "       [--compression=zstd|lz4|snappy|none[,...]] "
                    "[--engines=strata,leveldb,rocksdb]\n");
}

/* The next comma-separated word of *s (advanced past it) into w; 0 at the end. */
static int
next_word(const char **s, char *w, size_t cap)
{
    size_t n = strcspn(*s, ",");
    if (**s == '\0' || n == 0 || n >= cap) {
        return 0;
    }
    memcpy(w, *s, n);
    w[n] = '\0';
    *s += n + ((*s)[n] == ',');
    return 1;
}

static int
parse_codecs(const char *s, cfg *c)
{
    char w[16];
    c->ncodecs = 0;
    while (next_word(&s, w, sizeof w)) {
        int found = -1;
        for (int i = 0; i < NCODEC_NAMES; i++) {
            if (strcmp(w, codec_names[i]) == 0) {
                found = i;
            }
        }
        if (found < 0 || c->ncodecs == MAX_CODECS) {
            return -1;
        }
        c->codecs[c->ncodecs++] = found;
    }
    return c->ncodecs > 0 && *s == '\0' ? 0 : -1;
}

static int
parse_engines(const char *s, cfg *c)
{
    char w[16];
    c->strata = c->leveldb = c->rocksdb = 0;
    while (next_word(&s, w, sizeof w)) {
        int *e = strcmp(w, "strata") == 0    ? &c->strata
                 : strcmp(w, "leveldb") == 0 ? &c->leveldb
                 : strcmp(w, "rocksdb") == 0 ? &c->rocksdb
                                             : NULL;
        if (e == NULL) {
            return -1;
        }
        *e = 1;
    }
    return (c->strata || c->leveldb || c->rocksdb) && *s == '\0' ? 0 : -1;
}

static int
parse_args(int argc, char **argv, cfg *c, int *reads_given, int *dir_given)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v = 0;
        if (strncmp(a, "--num=", 6) == 0 && bench_parse_u64(a + 6, &v) == 0 && v > 0) {
            c->num = v;
        } else if (strncmp(a, "--reads=", 8) == 0 && bench_parse_u64(a + 8, &v) == 0 && v > 0) {
            c->reads = v;
            *reads_given = 1;
        } else if (strncmp(a, "--value_size=", 13) == 0 && bench_parse_u64(a + 13, &v) == 0 &&
                   v > 0 && v <= (1u << 20)) {
            c->value_size = (size_t)v;
        } else if (strncmp(a, "--cache_size=", 13) == 0 && bench_parse_u64(a + 13, &v) == 0 &&
                   v > 0) {
            c->cache_size = (size_t)v;
        } else if (strncmp(a, "--compression=", 14) == 0) {
            if (parse_codecs(a + 14, c) != 0) {
                return -1;
            }
        } else if (strncmp(a, "--engines=", 10) == 0) {
            if (parse_engines(a + 10, c) != 0) {
                return -1;
            }
        } else if (strncmp(a, "--dir=", 6) == 0 && strlen(a + 6) > 0 &&
                   strlen(a + 6) < sizeof c->dir) {
            snprintf(c->dir, sizeof c->dir, "%s", a + 6);
            *dir_given = 1;
        } else {
            return -1;
        }
    }
    return 0;
}

static void
print_results(const cfg *c, const result *rs, size_t n)
{
    double raw = (double)c->num * (double)(KEY_LEN + c->value_size);
    printf("\n%-28s", "");
    for (size_t i = 0; i < n; i++) {
        printf(" %14s", rs[i].name);
    }
    /* the ratio columns: one strata table against both other engines */
    int ratios = n == 3 && c->strata && c->ncodecs == 1 && c->leveldb && c->rocksdb;
    printf(ratios ? " %12s %12s\n" : "\n", "strata/LDB", "strata/RDB");
    const char *labels[] = {"build MB/s (input)", "build seconds",   "file MB",
                            "file size / raw",    "warm gets/s",     "warm get p50 us",
                            "cold gets/s",        "cold get p50 us", "scan entries/s"};
    for (size_t row = 0; row < sizeof labels / sizeof labels[0]; row++) {
        double v[MAX_CODECS + 2] = {0};
        printf("%-28s", labels[row]);
        for (size_t i = 0; i < n; i++) {
            const result *r = &rs[i];
            double x = 0;
            switch (row) {
            case 0:
                x = raw / 1e6 / r->build_s;
                break;
            case 1:
                x = r->build_s;
                break;
            case 2:
                x = (double)r->file_bytes / 1e6;
                break;
            case 3:
                x = (double)r->file_bytes / raw;
                break;
            case 4:
                x = r->warm_ops;
                break;
            case 5:
                x = r->warm_p50_us;
                break;
            case 6:
                x = r->cold_ops;
                break;
            case 7:
                x = r->cold_p50_us;
                break;
            default:
                x = r->scan_ops;
                break;
            }
            v[i] = x;
            if (!r->ran) {
                printf(" %14s", "failed");
            } else if (x >= 1000) {
                printf(" %14.0f", x);
            } else {
                printf(" %14.3f", x);
            }
        }
        if (ratios && rs[0].ran && rs[1].ran && rs[2].ran && v[1] > 0 && v[2] > 0) {
            printf(" %11.2fx %11.2fx", v[0] / v[1], v[2] > 0 ? v[0] / v[2] : 0.0);
        }
        printf("\n");
    }
}

int
main(int argc, char **argv)
{
    cfg c = {.num = 1000000,
             .reads = 0,
             .value_size = 100,
             .cache_size = (size_t)64 << 20,
             .codecs = {STRATA_COMPRESSION_ZSTD},
             .ncodecs = 1,
             .strata = 1,
             .leveldb = 1,
             .rocksdb = 1};
    int reads_given = 0, dir_given = 0;
    if (parse_args(argc, argv, &c, &reads_given, &dir_given) != 0) {
        usage();
        return 2;
    }
    if (!reads_given) {
        c.reads = c.num;
    }
    if (!dir_given) {
        const char *tmp = getenv("TMPDIR");
        snprintf(c.dir, sizeof c.dir, "%s/strata-sstbench-%ld", tmp != NULL ? tmp : "/tmp",
                 (long)getpid());
    }
    if (mkdir(c.dir, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "sstbench: cannot create %s: %s\n", c.dir, strerror(errno));
        return 1;
    }
    double raw = (double)c.num * (double)(KEY_LEN + c.value_size);
    printf("strata-sstbench: %llu entries, %d-byte keys, %zu-byte values (half random, "
           "compress ~2x), raw %.1f MB; %llu random gets per pass; block cache %zu MiB; dir %s\n",
           (unsigned long long)c.num, KEY_LEN, c.value_size, raw / 1e6, (unsigned long long)c.reads,
           c.cache_size >> 20, c.dir);
    printf("strata %s: one table per codec (", strata_version(NULL, NULL, NULL));
    for (int i = 0; i < c.ncodecs; i++) {
        printf("%s%s", i ? ", " : "", codec_names[c.codecs[i]]);
    }
    printf("), st_sst defaults otherwise (zstd level 1, bloom 10 bits/key, 8 KiB pages)\n");
    if (c.leveldb || c.rocksdb) {
        printf("LevelDB %d.%d, RocksDB %s: snappy, bloom 10 bits/key, default block size, sync "
               "off\n",
               leveldb_major_version(), leveldb_minor_version(), BENCH_ROCKSDB_VERSION);
    }
    fflush(stdout);
    cleanup(&c);

    result rs[MAX_CODECS + 2];
    size_t nr = 0;
    memset(rs, 0, sizeof rs);
    for (int i = 0; c.strata && i < c.ncodecs; i++) {
        bench_strata(&c, c.codecs[i], &rs[nr++]);
        fflush(stdout);
    }
    ldb_ctx l;
    rdb_ctx r;
    memset(&l, 0, sizeof l);
    memset(&r, 0, sizeof r);
    if (c.leveldb) {
        rs[nr].name = "LevelDB";
        bench_kv(&c, &kv_leveldb, &l, &rs[nr++]);
    }
    if (c.rocksdb) {
        rs[nr].name = "RocksDB";
        bench_kv(&c, &kv_rocksdb, &r, &rs[nr++]);
    }
    print_results(&c, rs, nr);
    printf(
        "\nWhat each figure measures:\n"
        "  build     strata: st_sst_builder_new/add/finish of one table from sorted input (incl. "
        "fsync).\n"
        "            LevelDB/RocksDB: puts in key order into a memtable that holds all of them "
        "(untimed),\n"
        "            then CompactRange over everything (timed): memtable flush + compaction "
        "merge into\n"
        "            their bottom level, i.e. more than their TableBuilder alone. MB/s = key+value "
        "bytes / time.\n"
        "  file      strata: the .parquet file; LevelDB: sum of *.ldb; RocksDB: sum of *.sst.\n"
        "  warm      random gets of existing keys, block cache %zu MiB warmed by one untimed "
        "pass\n"
        "            (decoded key+value data is ~%.0f MB: %s).\n"
        "  cold      the same with no block cache: strata cache NULL, RocksDB no_block_cache, "
        "LevelDB\n"
        "            an LRU cache of capacity 0 + fill_cache off. Bloom filters and indexes stay "
        "in memory\n"
        "            and the OS page cache holds the files: this is decode cost, not disk reads.\n"
        "  scan      one full iterator pass (fill_cache off), entries/s.\n"
        "  Every get and scanned entry is checked against the expected bytes.\n",
        c.cache_size >> 20, raw / 1e6,
        raw > (double)c.cache_size ? "the cache holds only part of it" : "all of it fits");
    cleanup(&c);
    if (!dir_given) {
        rmdir(c.dir);
    }
    if (g_failed) {
        fprintf(stderr, "sstbench: verification FAILED\n");
        return 1;
    }
    return 0;
}
