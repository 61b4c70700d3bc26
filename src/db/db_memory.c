/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_memory.c -- one memory budget (strata_options.memory_budget) for the memtables and the
 * block cache together.
 *
 * Every memtable in the queue (the active one and the immutable ones) is charged
 * write_buffer_size from its start, or its actual memory (arena, index and key filter,
 * st_memtable_memory) once that is larger. The block cache -- decoded pages, and the bloom
 * filters and page indexes of open tables, which it holds pinned -- gets the rest of the
 * budget, and never less than an eighth of it: a rotation that would charge the memtables more
 * than seven eighths waits for a flush instead (st_db_rotations_left; writes slow down, then
 * stop, they never fail). When writes stop, the flushed memtables' share goes back to the
 * cache, so a database that is only read has nearly the whole budget for pages.
 */
#include "db/db_impl.h"
#include "util/alloc.h"
#include "util/clock.h"

/* The cache keeps at least budget / CACHE_FLOOR_DIV. */
#define CACHE_FLOOR_DIV 8

/* Freed memory goes back to the system at most this often: the allocator's walk holds its
 * locks, and memory given back must be faulted in again when reused (every call after each
 * flush cost fillrandom with 4 MiB memtables 17% of its throughput). */
#define RETURN_FREE_MICROS 1000000u

void
st_db_return_free(strata_db *db)
{
    uint64_t now = st_now_micros(), last = atomic_load(&db->returned_free_us);
    if (now - last < RETURN_FREE_MICROS ||
        !atomic_compare_exchange_strong(&db->returned_free_us, &last, now))
        return;
    st_alloc_return_free();
}

size_t
st_db_cache_floor(size_t budget)
{
    return budget / CACHE_FLOOR_DIV;
}

size_t
st_db_memory_budget(const strata_options *o)
{
    if (o->memory_budget)
        return o->memory_budget;
    size_t min = st_db_memory_budget_min(o->write_buffer_size);
    size_t b = o->block_cache_size + 2 * o->write_buffer_size;
    return b > min ? b : min;
}

size_t
st_db_memory_budget_min(size_t write_buffer_size)
{
    /* two memtables within seven eighths */
    return (2 * write_buffer_size * CACHE_FLOOR_DIV + CACHE_FLOOR_DIV - 2) / (CACHE_FLOOR_DIV - 1);
}

static size_t
charge_of(const strata_db *db, const st_memtable *m)
{
    size_t used = st_memtable_memory(m);
    return used > db->opts.write_buffer_size ? used : db->opts.write_buffer_size;
}

size_t
st_db_memtable_charge(const strata_db *db)
{
    size_t c = charge_of(db, db->mem);
    for (size_t i = 0; i < db->nimm; i++)
        c += charge_of(db, db->imm[i]);
    return c;
}

int
st_db_rotations_left(const strata_db *db)
{
    int left = db->opts.max_immutable_memtables - (int)db->nimm;
    if (db->nimm == 0)
        return left; /* one immutable memtable always fits (st_db_memory_budget_min) */
    size_t limit = db->budget - st_db_cache_floor(db->budget);
    size_t charge = st_db_memtable_charge(db);
    size_t fit = charge >= limit ? 0 : (limit - charge) / db->opts.write_buffer_size;
    return fit < (size_t)left ? (int)fit : left;
}

void
st_db_fit_cache(strata_db *db)
{
    pthread_mutex_lock(&db->budget_mu); /* callers may race: the last to set sees the latest */
    pthread_mutex_lock(&db->mu);
    size_t charge = st_db_memtable_charge(db);
    pthread_mutex_unlock(&db->mu);
    size_t floor = st_db_cache_floor(db->budget);
    size_t cap = db->budget > charge + floor ? db->budget - charge : floor;
    if (cap != st_cache_capacity(db->cache))
        st_cache_set_capacity(db->cache, cap);
    pthread_mutex_unlock(&db->budget_mu);
}
