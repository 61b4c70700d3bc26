/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine_rocksdb.c -- strata-bench adapter for RocksDB through its C API (<rocksdb/c.h>).
 * Settings: defaults (leveled compaction, 64 MiB memtable, 2 background jobs) plus a 10-bit full
 * bloom filter, an LRU block cache of --cache_size when given, snappy compression, sync writes
 * only when asked.
 */
#include "bench.h"

#include <rocksdb/c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BENCH_ROCKSDB_VERSION
#define BENCH_ROCKSDB_VERSION "?"
#endif

typedef struct rdb {
    rocksdb_t *db;
    rocksdb_options_t *opts;
    rocksdb_block_based_table_options_t *topts;
    rocksdb_cache_t *cache;
    rocksdb_readoptions_t *ropts;
    rocksdb_writeoptions_t *wopts;
    rocksdb_writeoptions_t *wopts_sync;
} rdb;

/* Takes ownership of a RocksDB error string; returns -1 when there was one. */
static int
rdb_check(char *err, const char *what)
{
    if (err == NULL) {
        return 0;
    }
    bench_set_error("rocksdb %s: %s", what, err);
    rocksdb_free(err);
    return -1;
}

static void
rdb_close(void *h)
{
    rdb *d = h;
    if (d == NULL) {
        return;
    }
    if (d->db != NULL) {
        rocksdb_close(d->db);
    }
    if (d->opts != NULL) {
        rocksdb_options_destroy(d->opts);
    }
    if (d->topts != NULL) {
        rocksdb_block_based_options_destroy(d->topts); /* also drops the filter policy */
    }
    if (d->cache != NULL) {
        rocksdb_cache_destroy(d->cache);
    }
    if (d->ropts != NULL) {
        rocksdb_readoptions_destroy(d->ropts);
    }
    if (d->wopts != NULL) {
        rocksdb_writeoptions_destroy(d->wopts);
    }
    if (d->wopts_sync != NULL) {
        rocksdb_writeoptions_destroy(d->wopts_sync);
    }
    free(d);
}

static int
rdb_open(const char *dir, const bench_engine_config *cfg, void **out)
{
    rdb *d = calloc(1, sizeof *d);
    if (d == NULL) {
        bench_set_error("rocksdb: out of memory");
        return -1;
    }
    d->opts = rocksdb_options_create();
    rocksdb_options_set_create_if_missing(d->opts, 1);
    rocksdb_options_set_compression(d->opts, rocksdb_snappy_compression);
    d->topts = rocksdb_block_based_options_create();
    rocksdb_block_based_options_set_filter_policy(
        d->topts, rocksdb_filterpolicy_create_bloom_full((double)cfg->bloom_bits));
    if (cfg->cache_size > 0) {
        d->cache = rocksdb_cache_create_lru(cfg->cache_size);
        rocksdb_block_based_options_set_block_cache(d->topts, d->cache);
    }
    rocksdb_options_set_block_based_table_factory(d->opts, d->topts);
    if (cfg->write_buffer > 0) {
        rocksdb_options_set_write_buffer_size(d->opts, cfg->write_buffer);
    }
    d->ropts = rocksdb_readoptions_create();
    d->wopts = rocksdb_writeoptions_create();
    d->wopts_sync = rocksdb_writeoptions_create();
    rocksdb_writeoptions_set_sync(d->wopts_sync, 1);
    char *err = NULL;
    d->db = rocksdb_open(d->opts, dir, &err);
    if (rdb_check(err, "open") != 0) {
        rdb_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

static int
rdb_put(void *h, const char *k, size_t kl, const char *v, size_t vl, int sync)
{
    rdb *d = h;
    char *err = NULL;
    rocksdb_put(d->db, sync ? d->wopts_sync : d->wopts, k, kl, v, vl, &err);
    return rdb_check(err, "put");
}

static int
rdb_get(void *h, const char *k, size_t kl, char *buf, size_t cap, size_t *vl)
{
    rdb *d = h;
    char *err = NULL;
    size_t n = 0;
    char *v = rocksdb_get(d->db, d->ropts, k, kl, &n, &err);
    if (rdb_check(err, "get") != 0) {
        return -1;
    }
    if (v == NULL) {
        return 1;
    }
    *vl = n;
    memcpy(buf, v, n < cap ? n : cap);
    rocksdb_free(v);
    return 0;
}

static int
rdb_del(void *h, const char *k, size_t kl, int sync)
{
    rdb *d = h;
    char *err = NULL;
    rocksdb_delete(d->db, sync ? d->wopts_sync : d->wopts, k, kl, &err);
    return rdb_check(err, "delete");
}

static int
rdb_del_range(void *h, const char *b, size_t bl, const char *e, size_t el, int sync)
{
    rdb *d = h;
    char *err = NULL;
    rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
    rocksdb_writebatch_delete_range(wb, b, bl, e, el);
    rocksdb_write(d->db, sync ? d->wopts_sync : d->wopts, wb, &err);
    rocksdb_writebatch_destroy(wb);
    return rdb_check(err, "delete range");
}

static void *
rdb_batch_new(void)
{
    return rocksdb_writebatch_create();
}

static int
rdb_batch_put(void *b, const char *k, size_t kl, const char *v, size_t vl)
{
    rocksdb_writebatch_put(b, k, kl, v, vl);
    return 0;
}

static void
rdb_batch_clear(void *b)
{
    rocksdb_writebatch_clear(b);
}

static void
rdb_batch_free(void *b)
{
    rocksdb_writebatch_destroy(b);
}

static int
rdb_write(void *h, void *b, int sync)
{
    rdb *d = h;
    char *err = NULL;
    rocksdb_write(d->db, sync ? d->wopts_sync : d->wopts, b, &err);
    return rdb_check(err, "write");
}

static void *
rdb_iter_new(void *h)
{
    rdb *d = h;
    return rocksdb_create_iterator(d->db, d->ropts);
}

static void
rdb_iter_seek_first(void *it)
{
    rocksdb_iter_seek_to_first(it);
}

static void
rdb_iter_seek(void *it, const char *k, size_t kl)
{
    rocksdb_iter_seek(it, k, kl);
}

static int
rdb_iter_valid(void *it)
{
    return rocksdb_iter_valid(it) != 0;
}

static void
rdb_iter_next(void *it)
{
    rocksdb_iter_next(it);
}

static const char *
rdb_iter_key(void *it, size_t *kl)
{
    return rocksdb_iter_key(it, kl);
}

static const char *
rdb_iter_value(void *it, size_t *vl)
{
    return rocksdb_iter_value(it, vl);
}

static int
rdb_iter_status(void *it)
{
    char *err = NULL;
    rocksdb_iter_get_error(it, &err);
    return rdb_check(err, "iterator");
}

static void
rdb_iter_free(void *it)
{
    rocksdb_iter_destroy(it);
}

static int
rdb_flush(void *h)
{
    rdb *d = h;
    char *err = NULL;
    rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
    rocksdb_flushoptions_set_wait(fo, 1);
    rocksdb_flush(d->db, fo, &err);
    rocksdb_flushoptions_destroy(fo);
    return rdb_check(err, "flush");
}

static int
rdb_compact(void *h)
{
    rdb *d = h;
    rocksdb_compact_range(d->db, NULL, 0, NULL, 0);
    return 0;
}

static char *
rdb_stats(void *h)
{
    rdb *d = h;
    return rocksdb_property_value(d->db, "rocksdb.stats");
}

static const char *
rdb_describe(void)
{
    return "RocksDB " BENCH_ROCKSDB_VERSION ", snappy, full bloom, defaults";
}

const bench_engine_ops bench_engine_rocksdb = {
    .name = "rocksdb",
    .open = rdb_open,
    .close = rdb_close,
    .put = rdb_put,
    .get = rdb_get,
    .del = rdb_del,
    .del_range = rdb_del_range,
    .batch_new = rdb_batch_new,
    .batch_put = rdb_batch_put,
    .batch_clear = rdb_batch_clear,
    .batch_free = rdb_batch_free,
    .write = rdb_write,
    .iter_new = rdb_iter_new,
    .iter_seek_first = rdb_iter_seek_first,
    .iter_seek = rdb_iter_seek,
    .iter_valid = rdb_iter_valid,
    .iter_next = rdb_iter_next,
    .iter_key = rdb_iter_key,
    .iter_value = rdb_iter_value,
    .iter_status = rdb_iter_status,
    .iter_free = rdb_iter_free,
    .flush = rdb_flush,
    .compact = rdb_compact,
    .stats = rdb_stats,
    .describe = rdb_describe,
};
