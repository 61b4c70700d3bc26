/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db.c -- public entry points: argument checks, handle lifecycle, writes, reads, flush and
 * compaction requests, snapshots, properties. Behind them: the write path is db_write.c,
 * recovery db_recover.c, reads db_read.c, iterators db_iter.c, background work db_sched.c.
 */
#include "db/db_impl.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/crc32c.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *
strata_version(int *major, int *minor, int *patch)
{
    if (major)
        *major = STRATA_VERSION_MAJOR;
    if (minor)
        *minor = STRATA_VERSION_MINOR;
    if (patch)
        *patch = STRATA_VERSION_PATCH;
    return STRATA_VERSION_STRING;
}

const char *
strata_errmsg(strata_db *db)
{
    (void)db;
    return st_errmsg();
}

void
strata_free(void *p)
{
    st_free(p);
}

static int
valid_compression(int c)
{
    return c >= STRATA_COMPRESSION_NONE && c <= STRATA_COMPRESSION_LZ4;
}

static int
check_options(const strata_options *o)
{
    if (o->memtable_kind != STRATA_MEMTABLE_SKIPLIST && o->memtable_kind != STRATA_MEMTABLE_TRIE)
        return st_err(STRATA_INVALID, "unknown memtable_kind %d", o->memtable_kind);
    if (o->write_buffer_size < (64u << 10) || o->write_buffer_size > ((size_t)1 << 34))
        return st_err(STRATA_INVALID, "write_buffer_size %zu outside [64 KiB, 16 GiB]",
                      o->write_buffer_size);
    if (o->max_immutable_memtables < 1 || o->max_immutable_memtables > 64)
        return st_err(STRATA_INVALID, "max_immutable_memtables %d outside [1, 64]",
                      o->max_immutable_memtables);
    if (o->wal_recovery_mode < STRATA_WAL_RECOVERY_TOLERATE_TAIL ||
        o->wal_recovery_mode > STRATA_WAL_RECOVERY_SKIP_CORRUPT)
        return st_err(STRATA_INVALID, "unknown wal_recovery_mode %d", o->wal_recovery_mode);
    if (!valid_compression(o->compression))
        return st_err(STRATA_INVALID, "unknown compression %d", o->compression);
    if (!valid_compression(o->bottommost_compression))
        return st_err(STRATA_INVALID, "unknown bottommost_compression %d",
                      o->bottommost_compression);
    if (o->bloom_bits_per_key < 0 || o->bloom_bits_per_key > 64)
        return st_err(STRATA_INVALID, "bloom_bits_per_key %d outside [0, 64]",
                      o->bloom_bits_per_key);
    if (o->page_size < 512 || o->page_size > (16u << 20))
        return st_err(STRATA_INVALID, "page_size %zu outside [512 B, 16 MiB]", o->page_size);
    if (o->bottommost_page_size &&
        (o->bottommost_page_size < 512 || o->bottommost_page_size > (16u << 20)))
        return st_err(STRATA_INVALID, "bottommost_page_size %zu outside [512 B, 16 MiB] (or 0)",
                      o->bottommost_page_size);
    if (o->target_file_size < (64u << 10))
        return st_err(STRATA_INVALID, "target_file_size %zu below 64 KiB", o->target_file_size);
    if (o->background_threads < 1 || o->background_threads > 64)
        return st_err(STRATA_INVALID, "background_threads %d outside [1, 64]",
                      o->background_threads);
    if (o->ucs_scaling_count < 1 || o->ucs_scaling_count > 8)
        return st_err(STRATA_INVALID, "ucs_scaling_count %d outside [1, 8]", o->ucs_scaling_count);
    for (int i = 0; i < o->ucs_scaling_count; i++)
        if (o->ucs_scaling[i] < -64 || o->ucs_scaling[i] > 64)
            return st_err(STRATA_INVALID, "ucs_scaling[%d] = %d outside [-64, 64]", i,
                          o->ucs_scaling[i]);
    if (o->ucs_base_shards < 1 || o->ucs_base_shards > 1024 ||
        (o->ucs_base_shards & (o->ucs_base_shards - 1)))
        return st_err(STRATA_INVALID, "ucs_base_shards %d must be a power of two in [1, 1024]",
                      o->ucs_base_shards);
    if (o->memory_budget && o->memory_budget < st_db_memory_budget_min(o->write_buffer_size))
        return st_err(STRATA_INVALID,
                      "memory_budget %zu below %zu: it must hold two memtables of "
                      "write_buffer_size %zu and an eighth for the cache (16/7 x "
                      "write_buffer_size)",
                      o->memory_budget, st_db_memory_budget_min(o->write_buffer_size),
                      o->write_buffer_size);
    if (o->max_open_files < 0)
        return st_err(STRATA_INVALID, "max_open_files %d is negative (0 = no limit)",
                      o->max_open_files);
    return STRATA_OK;
}

static void
db_free(strata_db *db)
{
    if (!db)
        return;
    if (db->workers)
        st_db_stop_workers(db);
    st_manifest_close(db->manifest);
    st_version_unref(db->current);
    st_wal_writer_close(db->wal);
    for (size_t i = 0; i < db->nimm; i++)
        st_memtable_unref(db->imm[i]);
    st_free(db->imm);
    st_free(db->imm_log);
    st_memtable_unref(db->mem);
    st_cache_free(db->cache);
    st_table_cache_free(db->tctx.tc);
    pthread_cond_destroy(&db->bg_cv);
    pthread_mutex_destroy(&db->manifest_mu);
    pthread_mutex_destroy(&db->budget_mu);
    st_batch_release(&db->group);
    st_file_close(db->lock);
    pthread_mutex_destroy(&db->mu);
    st_free(db->path);
    atomic_store(&db->magic, ST_DB_DEAD);
    st_free(db);
}

int
st_db_open_env(const char *path, const strata_options *opts, st_env *env, strata_db **out)
{
    if (!out)
        return st_err(STRATA_INVALID, "strata_open: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return st_err(STRATA_INVALID, "strata_open: path is NULL or empty");
    strata_options given;
    if (opts)
        ST_RET(st_db_options_from_user(opts, &given));
    else
        strata_options_init(&given);
    opts = &given;
    ST_RET(check_options(opts));

    int rc = STRATA_OK, exists = 0;
    char *lockpath = NULL;
    uint64_t t0 = st_now_micros();
    strata_db *db = st_calloc(1, sizeof(*db));
    if (!db)
        return st_err(STRATA_NOMEM, "out of memory opening %s", path);
    pthread_mutex_init(&db->mu, NULL);
    pthread_mutex_init(&db->manifest_mu, NULL);
    pthread_mutex_init(&db->budget_mu, NULL);
    pthread_cond_init(&db->bg_cv, NULL);
    db->env = env;
    db->opts = *opts;
    db->snapshots.next = db->snapshots.prev = &db->snapshots;
    db->next_file = 1;
    if (!(db->path = st_strdup(path))) {
        rc = st_err(STRATA_NOMEM, "out of memory opening %s", path);
        goto err;
    }
    ST_ERR(st_batch_init(&db->group));
    db->imm = st_calloc((size_t)opts->max_immutable_memtables + 1, sizeof(*db->imm));
    db->imm_log = st_calloc((size_t)opts->max_immutable_memtables + 1, sizeof(*db->imm_log));
    if (!db->imm || !db->imm_log) {
        rc = st_err(STRATA_NOMEM, "out of memory opening %s", path);
        goto err;
    }
    /* created at the whole budget, sharded for the smallest capacity it may get, then sized
     * to what the memtables leave (st_db_fit_cache) */
    db->budget = st_db_memory_budget(opts);
    ST_ERR(st_cache_new(db->budget, st_cache_auto_shard_bits(st_db_cache_floor(db->budget)),
                        &db->cache));
    db->tctx.env = env;
    db->tctx.dir = db->path;
    db->tctx.cache = db->cache;
    ST_ERR(st_table_cache_new((size_t)opts->max_open_files, &db->tctx.tc));

    ST_ERR(env->exists(env, path, &exists));
    if (!exists && opts->read_only) {
        rc = st_err(STRATA_NOTFOUND, "database %s does not exist (opened read-only)", path);
        goto err;
    }
    if (!exists && !opts->create_if_missing) {
        rc = st_err(STRATA_NOTFOUND, "database %s does not exist (create_if_missing is 0)", path);
        goto err;
    }
    if (exists && opts->error_if_exists) {
        rc = st_err(STRATA_INVALID, "database %s already exists (error_if_exists is 1)", path);
        goto err;
    }
    if (!exists && (rc = env->mkdir(env, path)) != STRATA_OK) {
        /* ENOENT here means a missing parent directory: not "key not found" */
        if (rc == STRATA_NOTFOUND)
            rc = st_err(STRATA_IOERR,
                        "cannot create database directory %s: its parent directory does not "
                        "exist (%s)",
                        path, st_errmsg());
        goto err;
    }
    lockpath = st_file_path(path, ST_FILE_LOCK, 0);
    if (!lockpath) {
        rc = st_err(STRATA_NOMEM, "out of memory opening %s", path);
        goto err;
    }
    if (opts->read_only) {
        /* shared, and only when a writer ever made LOCK (a copy on read-only media may not
         * have one) */
        rc = env->version >= 2 && env->lock_shared ? env->lock_shared(env, lockpath, &db->lock)
                                                   : STRATA_OK;
        if (rc == STRATA_NOTFOUND)
            rc = STRATA_OK;
    } else {
        rc = env->lock(env, lockpath, &db->lock);
    }
    st_free(lockpath);
    if (rc != STRATA_OK)
        goto err;

    ST_ERR(st_memtable_new_sized(opts->memtable_kind, opts->write_buffer_size, &db->mem));
    if (opts->read_only) {
        ST_ERR(st_db_recover_read_only(db));
    } else {
        ST_ERR(st_db_recover(db));
    }
    db->stats.recovery_micros = st_now_micros() - t0;
    st_db_fit_cache(db);
    if (!opts->read_only)
        ST_ERR(st_db_start_workers(db));
    atomic_store(&db->magic, ST_DB_MAGIC);
    *out = db;
    return STRATA_OK;
err:
    if (rc != STRATA_NOTFOUND && rc != STRATA_BUSY)
        st_err_prefix(rc, "opening %s: ", path);
    db_free(db);
    return rc;
}

int
strata_open(const char *path, const strata_options *opts, strata_db **out)
{
    return st_db_open_env(path, opts, st_env_posix(), out);
}

int
strata_close(strata_db *db)
{
    ST_RET(st_db_check(db));
    long iters = atomic_load(&db->open_iters), snaps = atomic_load(&db->open_snapshots);
    if (iters > 0 || snaps > 0)
        return st_err(STRATA_BUSY,
                      "strata_close: %ld iterator(s) and %ld snapshot(s) are still open; close "
                      "and release them first",
                      iters, snaps);
    int rc = STRATA_OK;
    pthread_mutex_lock(&db->mu);
    if (db->writers_head)
        rc = st_err(STRATA_BUSY, "strata_close: writes are still in progress");
    pthread_mutex_unlock(&db->mu);
    if (rc != STRATA_OK)
        return rc;
    if (atomic_load(&db->unlogged) && db->bg_error == STRATA_OK) {
        /* writes made with disable_wal live only in memory: make them durable now */
        rc = strata_flush(db);
        if (rc != STRATA_OK)
            st_err_prefix(rc, "strata_close: flushing writes made without the WAL: ");
    }
    int flush_rc = rc;
    atomic_store(&db->magic, ST_DB_DEAD);
    st_db_stop_workers(db); /* a running flush completes; queued memtables stay in their WALs */
    if (db->wal && db->bg_error == STRATA_OK)
        rc = st_wal_writer_sync(db->wal);
    if (flush_rc != STRATA_OK)
        rc = flush_rc;
    int crc = st_wal_writer_close(db->wal);
    db->wal = NULL;
    if (rc == STRATA_OK)
        rc = crc;
    if (rc == STRATA_OK && !db->opts.read_only)
        st_db_compact_before_close(db); /* keeps short sessions from piling up tables */
    db_free(db);
    return rc;
}

/* ---- writes ---------------------------------------------------------------------------- */

static int
write_one(strata_db *db, const strata_write_options *wo, int kind, const void *key, size_t klen,
          const void *val, size_t vlen)
{
    ST_RET(st_db_check(db));
    if (kind == ST_KIND_RANGE_DELETE)
        ST_RET(st_check_range(key, klen, val, vlen));
    else
        ST_RET(st_check_kv(key, klen, val, vlen, kind == ST_KIND_PUT));
    strata_batch b;
    uint8_t small[512];
    size_t need = ST_BATCH_HEADER + st_batch_entry_max(kind, klen, vlen);
    if (need <= sizeof(small)) {
        /* the common small write: encode on the stack, no allocation */
        uint8_t *end = st_batch_encode_entry(small + ST_BATCH_HEADER, kind, key, klen, val, vlen);
        b.rep.data = small;
        b.rep.len = (size_t)(end - small);
        b.rep.cap = sizeof(small);
        b.count = 1;
        b.kv_bytes = klen + (kind != ST_KIND_DELETE ? vlen : 0);
        return st_db_write(db, wo, &b); /* borrows b; nothing to free */
    }
    ST_RET(st_batch_init(&b));
    int rc = kind == ST_KIND_PUT      ? strata_batch_put(&b, key, klen, val, vlen)
             : kind == ST_KIND_DELETE ? strata_batch_delete(&b, key, klen)
                                      : strata_batch_delete_range(&b, key, klen, val, vlen);
    if (rc == STRATA_OK)
        rc = st_db_write(db, wo, &b);
    st_batch_release(&b);
    return rc;
}

int
strata_put(strata_db *db, const strata_write_options *wo, const void *key, size_t klen,
           const void *val, size_t vlen)
{
    return write_one(db, wo, ST_KIND_PUT, key, klen, val, vlen);
}

int
strata_delete(strata_db *db, const strata_write_options *wo, const void *key, size_t klen)
{
    return write_one(db, wo, ST_KIND_DELETE, key, klen, NULL, 0);
}

int
strata_delete_range(strata_db *db, const strata_write_options *wo, const void *begin, size_t blen,
                    const void *end, size_t elen)
{
    return write_one(db, wo, ST_KIND_RANGE_DELETE, begin, blen, end, elen);
}

int
strata_write(strata_db *db, const strata_write_options *wo, strata_batch *b)
{
    ST_RET(st_db_check(db));
    if (!b)
        return st_err(STRATA_INVALID, "strata_write: batch is NULL");
    if (b->count == 0)
        return STRATA_OK;
    return st_db_write(db, wo, b);
}

/* ---- reads ----------------------------------------------------------------------------- */

int
strata_get(strata_db *db, const strata_read_options *ro, const void *key, size_t klen, void **val,
           size_t *vlen)
{
    if (val)
        *val = NULL;
    if (vlen)
        *vlen = 0;
    ST_RET(st_db_check(db));
    if (!val || !vlen)
        return st_err(STRATA_INVALID, "strata_get: val and vlen must not be NULL");
    ST_RET(st_check_kv(key, klen, NULL, 0, 0));
    strata_read_options given;
    ST_RET(st_db_read_options_from_user(ro, &given));
    return st_db_get(db, &given, key, klen, val, vlen);
}

int
strata_iter_open(strata_db *db, const strata_read_options *ro, strata_iter **out)
{
    if (out)
        *out = NULL;
    ST_RET(st_db_check(db));
    if (!out)
        return st_err(STRATA_INVALID, "strata_iter_open: out is NULL");
    strata_read_options given;
    ST_RET(st_db_read_options_from_user(ro, &given));
    return st_db_iter_open(db, &given, out);
}

/* ---- flush and compaction ---------------------------------------------------------------- */

int
strata_flush(strata_db *db)
{
    ST_RET(st_db_check(db));
    return st_db_flush_all(db);
}

int
strata_wait_idle(strata_db *db)
{
    ST_RET(st_db_check(db));
    return st_db_wait_idle(db);
}

int
strata_compact_range(strata_db *db, const void *begin, size_t blen, const void *end, size_t elen)
{
    ST_RET(st_db_check(db));
    if ((!begin && blen) || (!end && elen))
        return st_err(STRATA_INVALID, "strata_compact_range: NULL bound with a non-zero length");
    if (begin && end && st_bytes_cmp(begin, blen, end, elen) > 0)
        return st_err(STRATA_INVALID, "strata_compact_range: begin is after end (reversed range)");
    /* Like RocksDB's exclusive manual compaction: background workers start no compaction
     * while this one flushes and merges, and running ones stop early (each would hold inputs
     * this one waits for, to rewrite them anyway); flushes go on. */
    pthread_mutex_lock(&db->mu);
    db->manual++;
    atomic_fetch_or(&db->cancel_bg, 2);
    pthread_mutex_unlock(&db->mu);
    int rc = st_db_flush_all(db);
    if (rc == STRATA_OK)
        rc = st_db_compact_range(db, begin, blen, end, elen);
    pthread_mutex_lock(&db->mu);
    if (--db->manual == 0)
        atomic_fetch_and(&db->cancel_bg, ~2);
    db->bg_recheck = 1; /* what waited may be due now */
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

/* ---- snapshots ------------------------------------------------------------------------- */

const strata_snapshot *
strata_snapshot_get(strata_db *db)
{
    if (st_db_check(db) != STRATA_OK)
        return NULL;
    strata_snapshot *s = st_calloc(1, sizeof(*s));
    if (!s) {
        st_err(STRATA_NOMEM, "out of memory taking a snapshot");
        return NULL;
    }
    s->db = db;
    pthread_mutex_lock(&db->mu);
    s->seq = atomic_load_explicit(&db->last_seq, memory_order_acquire);
    st_db_snapshot_link(db, s);
    pthread_mutex_unlock(&db->mu);
    atomic_fetch_add(&db->open_snapshots, 1);
    return s;
}

void
strata_snapshot_release(strata_db *db, const strata_snapshot *snap)
{
    if (st_db_check(db) != STRATA_OK || !snap)
        return;
    strata_snapshot *s = (strata_snapshot *)snap;
    if (s->db != db)
        return;
    pthread_mutex_lock(&db->mu);
    st_db_snapshot_unlink(s);
    pthread_mutex_unlock(&db->mu);
    atomic_fetch_sub(&db->open_snapshots, 1);
    st_free(s);
}

uint64_t
strata_snapshot_sequence(const strata_snapshot *snap)
{
    return snap ? snap->seq : 0;
}

/* ---- properties ------------------------------------------------------------------------ */

typedef struct strbuf {
    st_buf b;
    int rc;
} strbuf;

static void ST_PRINTF(2, 3) sb_printf(strbuf *s, const char *fmt, ...)
{
    if (s->rc != STRATA_OK)
        return;
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    s->rc = st_buf_append(&s->b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void
stats_text(strata_db *db, strbuf *s)
{
    strata_stats x;
    st_db_collect_stats(db, &x);
    sb_printf(s, "strata %s  path %s\n", STRATA_VERSION_STRING, db->path);
    sb_printf(s, "sequence: %" PRIu64 "\n", x.sequence);
    sb_printf(s,
              "memtable: %s, %" PRIu64 " bytes, %" PRIu64 " entries; immutable: %" PRIu64
              " (%" PRIu64 " bytes)\n",
              db->opts.memtable_kind == STRATA_MEMTABLE_TRIE ? "trie" : "skiplist",
              x.memtable_bytes, x.memtable_entries, x.immutable_memtables,
              x.immutable_memtable_bytes);
    sb_printf(s,
              "wal: %06" PRIu64 ".wal, %" PRIu64 " bytes; records %" PRIu64 ", syncs %" PRIu64
              ", commit groups %" PRIu64 "\n",
              x.wal_number, x.wal_bytes, x.wal_records, x.wal_syncs, x.commit_groups);
    sb_printf(s,
              "writes: %" PRIu64 " batches in %" PRIu64 " commit groups, %" PRIu64 " user bytes\n",
              x.write_batches, x.commit_groups, x.user_bytes);
    sb_printf(s, "reads: gets %" PRIu64 ", found %" PRIu64 "\n", x.gets, x.gets_found);
    sb_printf(s,
              "recovery: %" PRIu64 " records, %" PRIu64 " entries, %" PRIu64
              " bytes dropped, %.1f ms\n",
              x.recovered_records, x.recovered_entries, x.recovery_dropped_bytes,
              (double)x.recovery_micros / 1000.0);
    sb_printf(s, "open: %" PRIu64 " iterators, %" PRIu64 " snapshots; crc32c hardware: %s\n",
              x.open_iterators, x.open_snapshots, st_crc32c_hw() ? "yes" : "no");
    sb_printf(s, "background: %" PRIu64 " flush, %" PRIu64 " compactions running\n",
              x.running_flushes, x.running_compactions);
    st_version *v = NULL;
    pthread_mutex_lock(&db->mu);
    v = db->current;
    if (v)
        st_version_ref(v);
    pthread_mutex_unlock(&db->mu);
    if (v) {
        /* the tables line from the same version as the runs and levels below */
        uint64_t entries = 0, tombs = 0;
        for (size_t i = 0; i < v->n; i++) {
            entries += v->t[i]->m.entries;
            tombs += v->t[i]->m.tombstones;
        }
        sb_printf(s,
                  "tables: %zu, %" PRIu64 " bytes, %" PRIu64 " entries (%" PRIu64 " tombstones)\n",
                  v->n, v->bytes, entries, tombs);
        st_ucs_level_stats lv[ST_UCS_MAX_LEVELS];
        size_t nl = 0, overlap = 0;
        sb_printf(s,
                  "sorted runs: %zu (read amplification: a point read consults at most %zu "
                  "tables, a seek positions in at most %zu)\n",
                  v->nruns, v->nruns, v->nruns);
        for (size_t i = 0; i < v->nruns && i < 16; i++)
            sb_printf(s,
                      "  run %-2zu %5zu tables %12" PRIu64 " bytes  seq %" PRIu64 "..%" PRIu64 "\n",
                      i, v->runs[i].n, v->runs[i].bytes, v->runs[i].min_seq, v->runs[i].max_seq);
        if (v->nruns > 16)
            sb_printf(s, "  ... %zu more runs\n", v->nruns - 16);
        sb_printf(s,
                  "table cache: %" PRIu64 " open (limit %" PRIu64 "%s), %" PRIu64 " opens, %" PRIu64
                  " evictions\n",
                  x.table_cache_open, x.table_cache_limit, x.table_cache_limit ? "" : " = none",
                  x.table_cache_opens, x.table_cache_evictions);
        if (st_db_level_stats(db, v, lv, ST_UCS_MAX_LEVELS, &nl, &overlap) == STRATA_OK) {
            sb_printf(s, "levels (UCS): total overlap %zu\n", overlap);
            for (size_t i = 0; i < nl; i++)
                if (lv[i].tables > 0)
                    sb_printf(s,
                              "  L%-2d %4zu tables %12" PRIu64 " bytes  overlap %zu (trigger %d)"
                              "  fan-out %d  fragments %zu\n",
                              lv[i].level, lv[i].tables, lv[i].bytes, lv[i].max_overlap,
                              lv[i].threshold, lv[i].fanout, lv[i].fragments);
        }
        st_version_unref(v);
    }
    sb_printf(s,
              "flushes: %" PRIu64 ", %" PRIu64 " bytes, %.1f ms; compactions: %" PRIu64 ", %" PRIu64
              " bytes in, %" PRIu64 " bytes out, %.1f ms (%" PRIu64 " triggered by reads)\n",
              x.flushes, x.flush_bytes, (double)x.flush_micros / 1000.0, x.compactions,
              x.compaction_bytes_in, x.compaction_bytes_out, (double)x.compaction_micros / 1000.0,
              x.read_compactions);
    sb_printf(s, "write amplification: %.2f (table bytes written / user bytes)\n",
              x.write_amplification);
    sb_printf(s, "stalls: %" PRIu64 " stops, %" PRIu64 " slowdowns, %.1f ms\n", x.stalls,
              x.slowdowns, (double)x.stall_micros / 1000.0);
    if (db->cache) {
        sb_printf(s,
                  "memory: budget %" PRIu64 " bytes = memtables %" PRIu64 " (charged; %" PRIu64
                  " active + %" PRIu64 " immutable in use) + cache %" PRIu64 "\n",
                  x.memory_budget, x.memtable_charge, x.memtable_bytes, x.immutable_memtable_bytes,
                  x.cache_capacity);
        sb_printf(s,
                  "cache: %" PRIu64 " / %" PRIu64 " bytes (%" PRIu64 " pinned), %" PRIu64
                  " hits, %" PRIu64 " misses\n",
                  x.cache_bytes, x.cache_capacity, x.cache_pinned, x.cache_hits, x.cache_misses);
    }
    if (x.background_error != STRATA_OK) {
        pthread_mutex_lock(&db->mu);
        sb_printf(s, "background error: %s (%s)\n", strata_errstr(x.background_error),
                  db->bg_errmsg);
        pthread_mutex_unlock(&db->mu);
    }
}

static void
hex_into(strbuf *s, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_printf(s, "%02x", p[i]);
}

static void
tables_text(strata_db *db, strbuf *s)
{
    pthread_mutex_lock(&db->mu);
    st_version *v = db->current;
    st_version_ref(v);
    pthread_mutex_unlock(&db->mu);
    for (size_t i = 0; i < v->n; i++) {
        const st_table_meta *m = &v->t[i]->m;
        sb_printf(s,
                  "%06" PRIu64 ".parquet size=%" PRIu64 " entries=%" PRIu64 " tombstones=%" PRIu64
                  " seq=%" PRIu64 "..%" PRIu64 " keys=",
                  m->fnum, m->file_size, m->entries, m->tombstones, m->min_seq, m->max_seq);
        hex_into(s, m->smallest, m->smallest_len);
        sb_printf(s, "..");
        hex_into(s, m->largest, m->largest_len);
        sb_printf(s, "\n");
    }
    st_version_unref(v);
}

int
strata_property(strata_db *db, const char *name, char **out)
{
    if (out)
        *out = NULL;
    ST_RET(st_db_check(db));
    if (!name || !out)
        return st_err(STRATA_INVALID, "strata_property: name and out must not be NULL");
    strbuf s = {{NULL, 0, 0}, STRATA_OK};
    if (strcmp(name, "strata.stats") == 0) {
        stats_text(db, &s);
    } else if (strcmp(name, "strata.memtable-bytes") == 0) {
        pthread_mutex_lock(&db->mu);
        size_t n = st_memtable_memory(db->mem);
        for (size_t i = 0; i < db->nimm; i++)
            n += st_memtable_memory(db->imm[i]);
        pthread_mutex_unlock(&db->mu);
        sb_printf(&s, "%zu", n);
    } else if (strcmp(name, "strata.sequence") == 0) {
        sb_printf(&s, "%" PRIu64, atomic_load(&db->last_seq));
    } else if (strcmp(name, "strata.wal-bytes") == 0) {
        pthread_mutex_lock(&db->mu);
        uint64_t n = db->wal ? st_wal_writer_size(db->wal) : 0;
        pthread_mutex_unlock(&db->mu);
        sb_printf(&s, "%" PRIu64, n);
    } else if (strcmp(name, "strata.tables") == 0) {
        tables_text(db, &s);
    } else if (strcmp(name, "strata.sql-view") == 0) {
        pthread_mutex_lock(&db->mu);
        st_version *v = db->current;
        st_version_ref(v);
        pthread_mutex_unlock(&db->mu);
        s.rc = st_db_sql_view(v, &s.b);
        st_version_unref(v);
    } else {
        return st_err(STRATA_INVALID, "unknown property \"%s\"", name);
    }
    if (s.rc == STRATA_OK)
        s.rc = st_buf_put_u8(&s.b, 0);
    if (s.rc != STRATA_OK) {
        st_buf_free(&s.b);
        return s.rc;
    }
    *out = (char *)st_buf_detach(&s.b, NULL);
    return STRATA_OK;
}
