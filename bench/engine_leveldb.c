/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine_leveldb.c -- strata-bench adapter for LevelDB through its C API (<leveldb/c.h>).
 * Settings: defaults plus a 10-bit bloom filter, an LRU cache of --cache_size when given,
 * snappy compression (LevelDB's default), sync writes only when asked.
 */
#include "bench.h"

#include <leveldb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ldb {
    leveldb_t *db;
    leveldb_options_t *opts;
    leveldb_filterpolicy_t *bloom;
    leveldb_cache_t *cache;
    leveldb_readoptions_t *ropts;
    leveldb_writeoptions_t *wopts;
    leveldb_writeoptions_t *wopts_sync;
} ldb;

/* Takes ownership of a LevelDB error string; returns -1 when there was one. */
static int
ldb_check(char *err, const char *what)
{
    if (err == NULL) {
        return 0;
    }
    bench_set_error("leveldb %s: %s", what, err);
    leveldb_free(err);
    return -1;
}

static void
ldb_close(void *h)
{
    ldb *d = h;
    if (d == NULL) {
        return;
    }
    if (d->db != NULL) {
        leveldb_close(d->db);
    }
    if (d->opts != NULL) {
        leveldb_options_destroy(d->opts);
    }
    if (d->bloom != NULL) {
        leveldb_filterpolicy_destroy(d->bloom);
    }
    if (d->cache != NULL) {
        leveldb_cache_destroy(d->cache);
    }
    if (d->ropts != NULL) {
        leveldb_readoptions_destroy(d->ropts);
    }
    if (d->wopts != NULL) {
        leveldb_writeoptions_destroy(d->wopts);
    }
    if (d->wopts_sync != NULL) {
        leveldb_writeoptions_destroy(d->wopts_sync);
    }
    free(d);
}

static int
ldb_open(const char *dir, const bench_engine_config *cfg, void **out)
{
    ldb *d = calloc(1, sizeof *d);
    if (d == NULL) {
        bench_set_error("leveldb: out of memory");
        return -1;
    }
    d->opts = leveldb_options_create();
    leveldb_options_set_create_if_missing(d->opts, 1);
    d->bloom = leveldb_filterpolicy_create_bloom(cfg->bloom_bits);
    leveldb_options_set_filter_policy(d->opts, d->bloom);
    leveldb_options_set_compression(d->opts, leveldb_snappy_compression);
    if (cfg->cache_size > 0) {
        d->cache = leveldb_cache_create_lru(cfg->cache_size);
        leveldb_options_set_cache(d->opts, d->cache);
    }
    if (cfg->write_buffer > 0) {
        leveldb_options_set_write_buffer_size(d->opts, cfg->write_buffer);
    }
    d->ropts = leveldb_readoptions_create();
    d->wopts = leveldb_writeoptions_create();
    d->wopts_sync = leveldb_writeoptions_create();
    leveldb_writeoptions_set_sync(d->wopts_sync, 1);
    char *err = NULL;
    d->db = leveldb_open(d->opts, dir, &err);
    if (ldb_check(err, "open") != 0) {
        ldb_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

static int
ldb_put(void *h, const char *k, size_t kl, const char *v, size_t vl, int sync)
{
    ldb *d = h;
    char *err = NULL;
    leveldb_put(d->db, sync ? d->wopts_sync : d->wopts, k, kl, v, vl, &err);
    return ldb_check(err, "put");
}

static int
ldb_get(void *h, const char *k, size_t kl, char *buf, size_t cap, size_t *vl)
{
    ldb *d = h;
    char *err = NULL;
    size_t n = 0;
    char *v = leveldb_get(d->db, d->ropts, k, kl, &n, &err);
    if (ldb_check(err, "get") != 0) {
        return -1;
    }
    if (v == NULL) {
        return 1;
    }
    *vl = n;
    memcpy(buf, v, n < cap ? n : cap);
    leveldb_free(v);
    return 0;
}

static int
ldb_del(void *h, const char *k, size_t kl, int sync)
{
    ldb *d = h;
    char *err = NULL;
    leveldb_delete(d->db, sync ? d->wopts_sync : d->wopts, k, kl, &err);
    return ldb_check(err, "delete");
}

static void *
ldb_batch_new(void)
{
    return leveldb_writebatch_create();
}

static int
ldb_batch_put(void *b, const char *k, size_t kl, const char *v, size_t vl)
{
    leveldb_writebatch_put(b, k, kl, v, vl);
    return 0;
}

static void
ldb_batch_clear(void *b)
{
    leveldb_writebatch_clear(b);
}

static void
ldb_batch_free(void *b)
{
    leveldb_writebatch_destroy(b);
}

static int
ldb_write(void *h, void *b, int sync)
{
    ldb *d = h;
    char *err = NULL;
    leveldb_write(d->db, sync ? d->wopts_sync : d->wopts, b, &err);
    return ldb_check(err, "write");
}

static void *
ldb_iter_new(void *h)
{
    ldb *d = h;
    return leveldb_create_iterator(d->db, d->ropts);
}

static void
ldb_iter_seek_first(void *it)
{
    leveldb_iter_seek_to_first(it);
}

static void
ldb_iter_seek(void *it, const char *k, size_t kl)
{
    leveldb_iter_seek(it, k, kl);
}

static int
ldb_iter_valid(void *it)
{
    return leveldb_iter_valid(it) != 0;
}

static void
ldb_iter_next(void *it)
{
    leveldb_iter_next(it);
}

static const char *
ldb_iter_key(void *it, size_t *kl)
{
    return leveldb_iter_key(it, kl);
}

static const char *
ldb_iter_value(void *it, size_t *vl)
{
    return leveldb_iter_value(it, vl);
}

static int
ldb_iter_status(void *it)
{
    char *err = NULL;
    leveldb_iter_get_error(it, &err);
    return ldb_check(err, "iterator");
}

static void
ldb_iter_free(void *it)
{
    leveldb_iter_destroy(it);
}

static int
ldb_flush(void *h)
{
    /* LevelDB has no flush call; compacting an empty range forces the memtable out. */
    ldb *d = h;
    leveldb_compact_range(d->db, "", 0, "", 0);
    return 0;
}

static int
ldb_compact(void *h)
{
    ldb *d = h;
    leveldb_compact_range(d->db, NULL, 0, NULL, 0);
    return 0;
}

static char *
ldb_stats(void *h)
{
    ldb *d = h;
    return leveldb_property_value(d->db, "leveldb.stats");
}

static const char *
ldb_describe(void)
{
    static char buf[96];
    snprintf(buf, sizeof buf, "LevelDB %d.%d, snappy, bloom, defaults", leveldb_major_version(),
             leveldb_minor_version());
    return buf;
}

const bench_engine_ops bench_engine_leveldb = {
    .name = "leveldb",
    .open = ldb_open,
    .close = ldb_close,
    .put = ldb_put,
    .get = ldb_get,
    .del = ldb_del,
    .batch_new = ldb_batch_new,
    .batch_put = ldb_batch_put,
    .batch_clear = ldb_batch_clear,
    .batch_free = ldb_batch_free,
    .write = ldb_write,
    .iter_new = ldb_iter_new,
    .iter_seek_first = ldb_iter_seek_first,
    .iter_seek = ldb_iter_seek,
    .iter_valid = ldb_iter_valid,
    .iter_next = ldb_iter_next,
    .iter_key = ldb_iter_key,
    .iter_value = ldb_iter_value,
    .iter_status = ldb_iter_status,
    .iter_free = ldb_iter_free,
    .flush = ldb_flush,
    .compact = ldb_compact,
    .stats = ldb_stats,
    .describe = ldb_describe,
};
