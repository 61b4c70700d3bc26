/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memtable_base.c -- what every memtable representation (skiplist.c, trie.c) builds on: the
 * common header, the arena-backed allocation and memory count, and the reference count whose
 * last release frees the range tombstones and destroys the representation.
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
    st_arena_prefault(m->arena); /* filled to the end before the memtable is switched */
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
