/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arena.h -- bump allocator for memtables.
 *
 * Memory is carved from large blocks and released all at once by st_arena_free. Allocation is
 * single-threaded (the memtable's one writer); st_arena_memory may be read from any thread.
 * Allocations are never moved, so pointers into the arena stay valid for readers without locks.
 */
#ifndef ST_UTIL_ARENA_H
#define ST_UTIL_ARENA_H

#include <stddef.h>

typedef struct st_arena st_arena;

/* New arena whose blocks are block_size bytes (0 = 1 MiB). NULL on NOMEM. */
st_arena *st_arena_new(size_t block_size);

/* Prefault every block allocated from now on (st_prefault): for an arena that is filled to its
 * last byte, like a memtable's, one system call per block instead of a page fault per page.
 * Not for arenas whose last block stays mostly empty: its pages would become resident. */
void st_arena_prefault(st_arena *a);

/* n bytes aligned to 8 (or `align`, a power of two <= 4096). NULL on NOMEM. */
void *st_arena_alloc(st_arena *a, size_t n);
void *st_arena_alloc_aligned(st_arena *a, size_t n, size_t align);

/* Bytes reserved from the system (blocks plus bookkeeping). Safe from any thread. */
size_t st_arena_memory(const st_arena *a);

void st_arena_free(st_arena *a); /* NULL is a no-op */

#endif
