/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memtable.c -- the representation-independent part of the memtable: construction by kind,
 * reference counting, entry counters and the thin wrappers around the ops vtable.
 */
#include "memtable/memtable.h"

#include "memtable/memtable_int.h"
#include "util/alloc.h"
#include "util/status.h"

#include <stdatomic.h>

void
st_memtable_init_header(st_memtable *mt, const st_memtable_ops *ops, int kind)
{
    mt->ops = ops;
    mt->kind = kind;
    atomic_init(&mt->refs, 1);
    atomic_init(&mt->entries, 0);
    atomic_init(&mt->deletes, 0);
    atomic_init(&mt->range_dels, 0);
    atomic_init(&mt->rdels, NULL);
    atomic_init(&mt->max_point_seq, 0);
}

int
st_memtable_arena_init(st_memtable_arena *m, const st_memtable_ops *ops, int kind, size_t self)
{
    m->arena = st_arena_new(0);
    if (!m->arena)
        return st_err(STRATA_NOMEM, "memtable: out of memory creating an arena");
    m->self = self;
    atomic_init(&m->used, 0);
    st_memtable_init_header(&m->base, ops, kind);
    return STRATA_OK;
}

size_t
st_memtable_arena_memory(const st_memtable *mt)
{
    const st_memtable_arena *m = (const st_memtable_arena *)mt;
    return m->self + atomic_load_explicit(&((st_memtable_arena *)m)->used, memory_order_relaxed);
}

void
st_memtable_arena_destroy(st_memtable *mt)
{
    st_memtable_arena *m = (st_memtable_arena *)mt;
    st_arena_free(m->arena);
    st_free(m);
}

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

void
st_memtable_ref(st_memtable *mt)
{
    atomic_fetch_add_explicit(&mt->refs, 1, memory_order_relaxed);
}

void
st_memtable_unref(st_memtable *mt)
{
    if (!mt)
        return;
    /* acq_rel: every access made under an earlier reference happens before destroy. */
    if (atomic_fetch_sub_explicit(&mt->refs, 1, memory_order_acq_rel) == 1) {
        st_memtable_range_dels_free(mt);
        mt->ops->destroy(mt);
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
