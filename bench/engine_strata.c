/* SPDX-License-Identifier: Apache-2.0 */
/*
 * engine_strata.c -- strata-bench adapter for strata through its public API (<strata/strata.h>).
 * Settings: strata's defaults (LZ4 tables, UCS compaction, 16 MiB memtables, a 64 MiB memory
 * budget of which the block cache gets 32 MiB while writing) plus --bloom_bits, a block cache of
 * --cache_size and memtables of --write_buffer_size when given, the trie memtable for prefix
 * workloads, sync writes only when asked.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <strata/strata.h>
#include <string.h>

typedef struct sdb {
    strata_db *db;
    strata_write_options wopts;
    strata_write_options wopts_sync;
} sdb;

static int
sdb_check(int rc, const char *what)
{
    if (rc == STRATA_OK) {
        return 0;
    }
    bench_set_error("strata %s: %s: %s", what, strata_errstr(rc), strata_errmsg(NULL));
    return -1;
}

static void
sdb_close(void *h)
{
    sdb *d = h;
    if (d == NULL) {
        return;
    }
    if (d->db != NULL) {
        int rc = strata_close(d->db);
        if (rc != STRATA_OK) {
            fprintf(stderr, "strata close: %s: %s\n", strata_errstr(rc), strata_errmsg(NULL));
        }
    }
    free(d);
}

static int
sdb_open(const char *dir, const bench_engine_config *cfg, void **out)
{
    sdb *d = calloc(1, sizeof *d);
    if (d == NULL) {
        bench_set_error("strata: out of memory");
        return -1;
    }
    strata_options o;
    strata_options_init(&o);
    o.create_if_missing = 1;
    o.bloom_bits_per_key = cfg->bloom_bits;
    if (cfg->cache_size > 0) {
        o.block_cache_size = cfg->cache_size;
    }
    if (cfg->write_buffer > 0) {
        o.write_buffer_size = cfg->write_buffer;
    }
    if (cfg->prefix_keys) {
        o.memtable_kind = STRATA_MEMTABLE_TRIE;
    }
    strata_write_options_init(&d->wopts);
    strata_write_options_init(&d->wopts_sync);
    d->wopts_sync.sync = 1;
    if (sdb_check(strata_open(dir, &o, &d->db), "open") != 0) {
        free(d);
        return -1;
    }
    *out = d;
    return 0;
}

static int
sdb_put(void *h, const char *k, size_t kl, const char *v, size_t vl, int sync)
{
    sdb *d = h;
    return sdb_check(strata_put(d->db, sync ? &d->wopts_sync : &d->wopts, k, kl, v, vl), "put");
}

static int
sdb_get(void *h, const char *k, size_t kl, char *buf, size_t cap, size_t *vl)
{
    sdb *d = h;
    void *v = NULL;
    size_t n = 0;
    int rc = strata_get(d->db, NULL, k, kl, &v, &n);
    if (rc == STRATA_NOTFOUND) {
        return 1;
    }
    if (sdb_check(rc, "get") != 0) {
        return -1;
    }
    *vl = n;
    memcpy(buf, v, n < cap ? n : cap);
    strata_free(v);
    return 0;
}

static int
sdb_del(void *h, const char *k, size_t kl, int sync)
{
    sdb *d = h;
    return sdb_check(strata_delete(d->db, sync ? &d->wopts_sync : &d->wopts, k, kl), "delete");
}

static int
sdb_del_range(void *h, const char *b, size_t bl, const char *e, size_t el, int sync)
{
    sdb *d = h;
    return sdb_check(strata_delete_range(d->db, sync ? &d->wopts_sync : &d->wopts, b, bl, e, el),
                     "delete range");
}

static void *
sdb_batch_new(void)
{
    return strata_batch_new();
}

static int
sdb_batch_put(void *b, const char *k, size_t kl, const char *v, size_t vl)
{
    return sdb_check(strata_batch_put(b, k, kl, v, vl), "batch_put");
}

static void
sdb_batch_clear(void *b)
{
    strata_batch_clear(b);
}

static void
sdb_batch_free(void *b)
{
    strata_batch_free(b);
}

static int
sdb_write(void *h, void *b, int sync)
{
    sdb *d = h;
    return sdb_check(strata_write(d->db, sync ? &d->wopts_sync : &d->wopts, b), "write");
}

static void *
sdb_iter_new(void *h)
{
    sdb *d = h;
    strata_iter *it = NULL;
    if (sdb_check(strata_iter_open(d->db, NULL, &it), "iter_open") != 0) {
        return NULL;
    }
    return it;
}

static void
sdb_iter_seek_first(void *it)
{
    strata_iter_seek_first(it);
}

static void
sdb_iter_seek(void *it, const char *k, size_t kl)
{
    strata_iter_seek(it, k, kl);
}

static int
sdb_iter_valid(void *it)
{
    return strata_iter_valid(it) != 0;
}

static void
sdb_iter_next(void *it)
{
    strata_iter_next(it);
}

static const char *
sdb_iter_key(void *it, size_t *kl)
{
    return strata_iter_key(it, kl);
}

static const char *
sdb_iter_value(void *it, size_t *vl)
{
    return strata_iter_value(it, vl);
}

static int
sdb_iter_status(void *it)
{
    return sdb_check(strata_iter_status(it), "iterator");
}

static void
sdb_iter_free(void *it)
{
    strata_iter_close(it);
}

static int
sdb_flush(void *h)
{
    sdb *d = h;
    return sdb_check(strata_flush(d->db), "flush");
}

static int
sdb_compact(void *h)
{
    sdb *d = h;
    return sdb_check(strata_compact_range(d->db, NULL, 0, NULL, 0), "compact_range");
}

static char *
sdb_stats(void *h)
{
    sdb *d = h;
    char *text = NULL;
    if (sdb_check(strata_property(d->db, "strata.stats", &text), "property") != 0) {
        return NULL;
    }
    char *copy = strdup(text); /* the caller frees with free(), strata's with strata_free() */
    strata_free(text);
    return copy;
}

static const char *
sdb_describe(void)
{
    static char buf[96];
    snprintf(buf, sizeof buf, "strata %s, lz4, bloom, defaults", strata_version(NULL, NULL, NULL));
    return buf;
}

const bench_engine_ops bench_engine_strata = {
    .name = "strata",
    .open = sdb_open,
    .close = sdb_close,
    .put = sdb_put,
    .get = sdb_get,
    .del = sdb_del,
    .del_range = sdb_del_range,
    .batch_new = sdb_batch_new,
    .batch_put = sdb_batch_put,
    .batch_clear = sdb_batch_clear,
    .batch_free = sdb_batch_free,
    .write = sdb_write,
    .iter_new = sdb_iter_new,
    .iter_seek_first = sdb_iter_seek_first,
    .iter_seek = sdb_iter_seek,
    .iter_valid = sdb_iter_valid,
    .iter_next = sdb_iter_next,
    .iter_key = sdb_iter_key,
    .iter_value = sdb_iter_value,
    .iter_status = sdb_iter_status,
    .iter_free = sdb_iter_free,
    .flush = sdb_flush,
    .compact = sdb_compact,
    .stats = sdb_stats,
    .describe = sdb_describe,
};
