/* SPDX-License-Identifier: Apache-2.0 */
#include "util/arena.h"

#include "util/alloc.h"

#include <stdatomic.h>
#include <stdint.h>

typedef struct block {
    struct block *next;
    size_t size;
    /* data follows, aligned to 16 */
} block;

#define HDR ((sizeof(block) + 15) & ~(size_t)15)

struct st_arena {
    size_t block_size;
    block *blocks;
    int prefault; /* st_arena_prefault */
    uint8_t *ptr; /* next free byte of the current block */
    size_t left;  /* bytes left in the current block */
    atomic_size_t memory;
};

st_arena *
st_arena_new(size_t block_size)
{
    st_arena *a = st_calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->block_size = block_size ? block_size : (1u << 20);
    atomic_init(&a->memory, sizeof(*a));
    return a;
}

static block *
new_block(st_arena *a, size_t size)
{
    block *b = st_malloc(HDR + size);
    if (!b)
        return NULL;
    if (a->prefault)
        st_prefault((uint8_t *)b + HDR, size);
    b->size = size;
    b->next = a->blocks;
    a->blocks = b;
    atomic_fetch_add_explicit(&a->memory, HDR + size, memory_order_relaxed);
    return b;
}

void
st_arena_prefault(st_arena *a)
{
    a->prefault = 1;
}

void *
st_arena_alloc_aligned(st_arena *a, size_t n, size_t align)
{
    uintptr_t p = (uintptr_t)a->ptr;
    size_t pad = (align - (p & (align - 1))) & (align - 1);
    if (a->ptr && n + pad <= a->left) {
        a->ptr += pad + n;
        a->left -= pad + n;
        return (void *)(p + pad);
    }
    if (n + align > a->block_size / 4) {
        /* Large allocation: its own block, keep the current block for small ones. */
        block *b = new_block(a, n + align);
        if (!b)
            return NULL;
        uintptr_t q = (uintptr_t)b + HDR;
        return (void *)((q + align - 1) & ~(uintptr_t)(align - 1));
    }
    block *b = new_block(a, a->block_size);
    if (!b)
        return NULL;
    a->ptr = (uint8_t *)b + HDR;
    a->left = a->block_size;
    return st_arena_alloc_aligned(a, n, align);
}

void *
st_arena_alloc(st_arena *a, size_t n)
{
    return st_arena_alloc_aligned(a, n, 8);
}

size_t
st_arena_memory(const st_arena *a)
{
    return atomic_load_explicit(&((st_arena *)a)->memory, memory_order_relaxed);
}

void
st_arena_free(st_arena *a)
{
    if (!a)
        return;
    block *b = a->blocks;
    while (b) {
        block *n = b->next;
        st_free(b);
        b = n;
    }
    st_free(a);
}
