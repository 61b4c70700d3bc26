/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memtable.c -- the memtable's public face: construction by kind, entry counters and the thin
 * wrappers around the ops vtable. What every representation shares (the header, the arena and
 * the reference count) is memtable_base.c.
 */
#include "memtable/memtable.h"

#include "memtable/memtable_int.h"
#include "util/alloc.h"
#include "util/status.h"

#include <stdatomic.h>

int
st_memtable_new(int kind, st_memtable **out)
{
    return st_memtable_new_sized(kind, 0, out);
}

int
st_memtable_new_sized(int kind, size_t expected_bytes, st_memtable **out)
{
    *out = NULL;
    switch (kind) {
    case ST_MEMTABLE_SKIPLIST:
        return st_memtable_skiplist_new(expected_bytes, out);
    case ST_MEMTABLE_TRIE:
        return st_memtable_trie_new(expected_bytes, out);
    default:
        return st_err(STRATA_INVALID, "memtable: unknown kind %d", kind);
    }
}

int
st_memtable_add(st_memtable *mt, uint64_t seq, int kind, const void *key, size_t klen,
                const void *val, size_t vlen)
{
    /* Defensive limits (the db layer validates first); both representations rely on them. */
    if (kind != ST_KIND_PUT && kind != ST_KIND_DELETE)
        return st_err(STRATA_INVALID, "memtable add: bad entry kind %d", kind);
    if (klen > STRATA_MAX_KEY_SIZE || seq > ST_SEQ_MAX)
        return st_err(STRATA_INVALID, "memtable add: key length %zu or seq %llu out of range", klen,
                      (unsigned long long)seq);
    if (kind == ST_KIND_DELETE) {
        val = NULL;
        vlen = 0;
    } else if (vlen > STRATA_MAX_VALUE_SIZE) {
        return st_err(STRATA_INVALID, "memtable add: value length %zu too large", vlen);
    }
    int rc = mt->ops->add(mt, seq, kind, key, klen, val, vlen);
    if (rc != STRATA_OK)
        return rc;
    atomic_fetch_add_explicit(&mt->entries, 1, memory_order_relaxed);
    if (kind == ST_KIND_DELETE)
        atomic_fetch_add_explicit(&mt->deletes, 1, memory_order_relaxed);
    return STRATA_OK;
}

int
st_memtable_get(st_memtable *mt, const void *key, size_t klen, uint64_t snap_seq, int *kind,
                const uint8_t **val, size_t *vlen, uint64_t *seq)
{
    return mt->ops->get(mt, key, klen, snap_seq, kind, val, vlen, seq);
}

st_iter *
st_memtable_iter(st_memtable *mt)
{
    return mt->ops->iter(mt);
}

size_t
st_memtable_memory(const st_memtable *mt)
{
    return mt->ops->memory(mt) + st_memtable_range_del_bytes(mt);
}

uint64_t
st_memtable_entries(const st_memtable *mt)
{
    return atomic_load_explicit(&((st_memtable *)mt)->entries, memory_order_relaxed);
}
