/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_stats.c -- the database's numeric statistics (strata_get_stats), also the numbers of the
 * strata.stats property text (db.c).
 */
#include "db/db_impl.h"

#include <string.h>

#undef strata_stats_init /* the full-size function itself */

void
strata_stats_init(strata_stats *s)
{
    if (!s)
        return;
    memset(s, 0, sizeof(*s));
    s->struct_size = sizeof(*s);
}

void
st_db_collect_stats(strata_db *db, strata_stats *out)
{
    st_db_stats *st = &db->stats;
    strata_stats_init(out);
    pthread_mutex_lock(&db->mu);
    out->memtable_bytes = st_memtable_memory(db->mem);
    out->memtable_entries = st_memtable_entries(db->mem);
    out->immutable_memtables = db->nimm;
    out->memory_budget = db->budget;
    out->memtable_charge = st_db_memtable_charge(db);
    for (size_t i = 0; i < db->nimm; i++)
        out->immutable_memtable_bytes += st_memtable_memory(db->imm[i]);
    out->wal_number = db->log_number;
    out->wal_bytes = db->wal ? st_wal_writer_size(db->wal) : 0;
    out->background_error = db->bg_error;
    out->running_flushes = db->flushing ? 1 : 0;
    out->running_compactions = (uint64_t)db->compacting;
    st_version *v = db->current;
    if (v)
        st_version_ref(v);
    pthread_mutex_unlock(&db->mu);

    out->sequence = atomic_load(&db->last_seq);
    out->wal_records = atomic_load(&st->wal_records);
    out->wal_syncs = atomic_load(&st->wal_syncs);
    out->commit_groups = atomic_load(&st->groups);
    out->write_batches = atomic_load(&st->batches);
    out->user_bytes = atomic_load(&st->user_bytes);
    out->gets = atomic_load(&st->gets);
    out->gets_found = atomic_load(&st->get_hits);
    out->recovered_records = st->recovered_records;
    out->recovered_entries = st->recovered_entries;
    out->recovery_dropped_bytes = st->recovery_dropped_bytes;
    out->recovery_micros = st->recovery_micros;
    out->open_iterators = (uint64_t)atomic_load(&db->open_iters);
    out->open_snapshots = (uint64_t)atomic_load(&db->open_snapshots);

    if (v) {
        out->tables = v->n;
        out->table_bytes = v->bytes;
        for (size_t i = 0; i < v->n; i++) {
            out->table_entries += v->t[i]->m.entries;
            out->table_tombstones += v->t[i]->m.tombstones;
        }
        out->sorted_runs = v->nruns;
        st_ucs_level_stats lv[ST_UCS_MAX_LEVELS];
        size_t nl = 0, overlap = 0;
        if (st_db_level_stats(db, v, lv, ST_UCS_MAX_LEVELS, &nl, &overlap) == STRATA_OK)
            out->level_overlap = overlap;
        st_version_unref(v);
    }
    size_t open, limit;
    st_table_cache_stats(db->tctx.tc, &open, &limit, &out->table_cache_opens,
                         &out->table_cache_evictions);
    out->table_cache_open = open;
    out->table_cache_limit = limit;

    out->flushes = atomic_load(&st->flushes);
    out->flush_bytes = atomic_load(&st->flush_bytes);
    out->flush_micros = atomic_load(&st->flush_micros);
    out->compactions = atomic_load(&st->compactions);
    out->read_compactions = atomic_load(&st->read_compactions);
    out->compaction_bytes_in = atomic_load(&st->compact_bytes_in);
    out->compaction_bytes_out = atomic_load(&st->compact_bytes_out);
    out->compaction_micros = atomic_load(&st->compact_micros);
    out->write_amplification =
        out->user_bytes
            ? (double)(out->flush_bytes + out->compaction_bytes_out) / (double)out->user_bytes
            : 0.0;
    out->stalls = atomic_load(&st->stalls);
    out->slowdowns = atomic_load(&st->slowdowns);
    out->stall_micros = atomic_load(&st->stall_micros);
    if (db->cache) {
        st_cache_stats(db->cache, &out->cache_hits, &out->cache_misses);
        out->cache_bytes = st_cache_usage(db->cache);
        out->cache_capacity = st_cache_capacity(db->cache);
        out->cache_pinned = st_cache_pinned(db->cache);
    }
}

int
strata_get_stats(strata_db *db, strata_stats *out)
{
    ST_RET(st_db_check(db));
    if (!out)
        return st_err(STRATA_INVALID, "strata_get_stats: out is NULL");
    strata_stats s;
    st_db_collect_stats(db, &s);
    return st_db_stats_to_user(&s, out);
}
