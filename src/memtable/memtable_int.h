/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memtable_int.h -- constructors of the two memtable representations, used only by memtable.c.
 *
 * Each returns a memtable whose common header (struct st_memtable) is fully initialised with one
 * reference, or STRATA_NOMEM (nothing allocated). The representation's ops->destroy frees it.
 * Thread safety and lifetime are those of memtable.h.
 */
#ifndef ST_MEMTABLE_MEMTABLE_INT_H
#define ST_MEMTABLE_MEMTABLE_INT_H

#include "memtable/memtable.h"
#include "util/arena.h"

#include <stdatomic.h>
#include <stddef.h>

int st_memtable_skiplist_new(size_t expected_bytes, st_memtable **out); /* skiplist.c */
int st_memtable_trie_new(size_t expected_bytes, st_memtable **out);     /* trie.c */

/* Initialise the common header (used by both constructors). */
void st_memtable_init_header(st_memtable *mt, const st_memtable_ops *ops, int kind);

/*
 * st_memtable_arena --
 *     The common start of the arena-backed representations (embedded first): the header plus
 *     the arena holding every entry. st_memtable_arena_init creates the arena and initialises
 *     the header (NOMEM: nothing allocated); `self` is the size of the enclosing struct, which
 *     must be allocated with st_malloc/st_calloc. The memory and destroy ops below serve both.
 *
 *     Memory accounting counts the bytes handed out by st_memtable_arena_alloc (rounded to the
 *     arena's 8-byte alignment) plus the struct, not the arena's reservation: the arena reserves
 *     1 MiB blocks, so an empty memtable would otherwise look 1 MiB big and a small write buffer
 *     (64 KiB is allowed) would rotate after every write. The unused tail of the current block
 *     is the only memory not counted. `used` is written by the one writer, read by any thread.
 */
typedef struct st_memtable_arena {
    st_memtable base;
    st_arena *arena;
    size_t self;         /* sizeof the enclosing representation struct */
    _Atomic size_t used; /* bytes allocated through st_memtable_arena_alloc */
} st_memtable_arena;

int st_memtable_arena_init(st_memtable_arena *m, const st_memtable_ops *ops, int kind, size_t self);
size_t st_memtable_arena_memory(const st_memtable *mt); /* used bytes + the struct */
void st_memtable_arena_destroy(st_memtable *mt);        /* frees the arena and the struct */

/* n bytes (8-aligned) from the arena, counted in `used`. NULL on NOMEM. Writer only. */
static inline void *
st_memtable_arena_alloc(st_memtable_arena *m, size_t n)
{
    void *p = st_arena_alloc(m->arena, n);
    if (p) {
        size_t u = atomic_load_explicit(&m->used, memory_order_relaxed);
        atomic_store_explicit(&m->used, u + ((n + 7) & ~(size_t)7), memory_order_relaxed);
    }
    return p;
}

#endif
