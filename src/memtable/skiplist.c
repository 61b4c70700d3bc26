/* SPDX-License-Identifier: Apache-2.0 */
/*
 * skiplist.c -- ST_MEMTABLE_SKIPLIST: a skiplist over an arena with lock-free readers.
 *
 * Layout: every entry is ONE arena allocation (a node):
 *     seqkind (8: seq << 8 | kind), klen|height (4), vlen (4), next[height] (8 each), key, value
 * Nodes are ordered by st_entry_cmp (key ascending, seq descending) and never move or change
 * once linked, so readers may hold pointers into them while they hold a memtable reference.
 *
 * Concurrency (as LevelDB's skiplist.h): one writer (memtable.h requires add to be serialised),
 * readers without locks. The writer fills a node completely, sets its own next pointers with
 * relaxed stores, then links it level by level from the bottom with RELEASE stores into the
 * predecessors' next pointers. Readers load next pointers with ACQUIRE, so a reader that reaches
 * a node sees all of its contents. The list height is read relaxed: a reader that sees the new
 * height before the head's new pointers just finds NULL there and drops a level.
 *
 * Sequential-insert fast path: the writer keeps a "splice" -- for every level the predecessor
 * and successor of the last inserted node. Brackets nest (a higher level's bracket contains the
 * lower ones), so if the new entry falls inside the level-0 bracket, it falls inside every
 * bracket and can be linked without any search. Ascending inserts (a bulk load, WAL replay of
 * increasing keys) therefore cost O(1) comparisons. Otherwise a normal top-down search runs and
 * refreshes the splice.
 *
 * Point-lookup index: every node is also on a hash chain (bucket = XXH3 of the key). The index
 * grows with the data instead of being reserved up front: it is a few generations of bucket
 * arrays, each SL_GEN_GROWTH times the size of the one before (the first SL_GEN0_BUCKETS). A node
 * goes on a chain of the newest generation; once that holds SL_GEN_LOAD nodes per bucket the
 * writer adds a bigger one (publishing the count with a RELEASE store), and older generations
 * keep their nodes. The writer prepends a filled node to its chain with a RELEASE store of the
 * bucket head; readers follow the chains of every generation with ACQUIRE loads. Chains hold
 * every version of every key in the bucket, so a get is exact for any snapshot: it returns the
 * matching node with the highest seq <= the snapshot, in O(generations + chain length) instead
 * of O(log n) cache misses down the towers. The arrays live in the arena, so
 * st_memtable_memory counts them.
 *
 * Heights are random with branching factor 4 (P = 1/4), capped at SL_MAX_HEIGHT = 12, which
 * keeps search cost logarithmic up to ~16M entries; average 1.33 pointers per node.
 */
#include "memtable/memtable_int.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/random.h"
#include "util/status.h"

#include <stdatomic.h>
#include <string.h>
#include <xxhash.h>

#define SL_MAX_HEIGHT 12
/* Hash index generations (see the header comment): 1024, 8192, ... buckets; a generation is
 * full at two nodes per bucket. Eight reach 2^31 buckets; the last one then takes every node. */
#define SL_GEN0_BUCKETS 1024u
#define SL_GEN_GROWTH 8u
#define SL_GEN_LOAD 2u
#define SL_MAX_GENS 8

typedef struct sl_node sl_node;
struct sl_node {
    uint64_t seqkind; /* seq << 8 | kind */
    uint32_t klen;    /* key length | height << SL_KLEN_BITS */
    uint32_t vlen;
    sl_node *hnext;            /* next node on this hash chain (set before the node is published) */
    _Atomic(sl_node *) next[]; /* [height], then key bytes, then value bytes */
};

typedef struct skiplist {
    st_memtable_arena m;    /* header + arena (memtable_int.h) */
    sl_node *head;          /* height SL_MAX_HEIGHT, no entry */
    _Atomic int max_height; /* levels in use (>= 1) */
    st_rng rng;             /* writer only */
    /* Writer-only splice: prev[i] < last inserted <= ... < next[i] at every level. */
    sl_node *sp_prev[SL_MAX_HEIGHT];
    sl_node *sp_next[SL_MAX_HEIGHT];
    /* point-lookup hash chains (see the header comment): generations [0, ngens) */
    struct sl_gen {
        _Atomic(sl_node *) *buckets;
        size_t mask;
    } gens[SL_MAX_GENS];
    _Atomic int ngens;
    size_t gen_nodes; /* writer only: nodes on the newest generation's chains */
} skiplist;

/* ---- node access ------------------------------------------------------------------------ */

/* A node does not store a separate height field: klen <= 64 KiB, so the height lives in the top
 * 8 bits of the klen word (readers need it to find the key behind the tower). */
#define SL_KLEN_BITS 24
#define SL_KLEN_MASK ((1u << SL_KLEN_BITS) - 1)

static inline int
node_height(const sl_node *n)
{
    return (int)(n->klen >> SL_KLEN_BITS);
}

static inline size_t
node_klen(const sl_node *n)
{
    return n->klen & SL_KLEN_MASK;
}

static inline const uint8_t *
nkey(const sl_node *n)
{
    return (const uint8_t *)&n->next[node_height(n)];
}

static inline const uint8_t *
nval(const sl_node *n)
{
    return nkey(n) + node_klen(n);
}

static inline uint64_t
nseq(const sl_node *n)
{
    return n->seqkind >> 8;
}

static inline sl_node *
load_next(const sl_node *n, int level)
{
    return atomic_load_explicit(&((sl_node *)n)->next[level], memory_order_acquire);
}

/* Entry order of node n against (key, seq): <0, 0, >0. The head is never compared. */
static inline int
node_cmp(const sl_node *n, const uint8_t *key, size_t klen, uint64_t seq)
{
    return st_entry_cmp(nkey(n), node_klen(n), nseq(n), key, klen, seq);
}

/* ---- search ----------------------------------------------------------------------------- */

/* First node >= (key, seq), or NULL. */
static sl_node *
find_ge(const skiplist *sl, const uint8_t *key, size_t klen, uint64_t seq)
{
    const sl_node *x = sl->head;
    int level = atomic_load_explicit(&((skiplist *)sl)->max_height, memory_order_relaxed) - 1;
    const sl_node *known_ge = NULL; /* last node found >= target: no need to compare again */
    for (;;) {
        sl_node *nx = load_next(x, level);
        if (nx && nx != known_ge && node_cmp(nx, key, klen, seq) < 0) {
            x = nx;
        } else if (level == 0) {
            return nx;
        } else {
            known_ge = nx;
            level--;
        }
    }
}

/* Last node < (key, seq) (strict) or <= (key, seq) (or_equal); NULL when that is the head. */
static sl_node *
find_lt(const skiplist *sl, const uint8_t *key, size_t klen, uint64_t seq, int or_equal)
{
    const sl_node *x = sl->head;
    int level = atomic_load_explicit(&((skiplist *)sl)->max_height, memory_order_relaxed) - 1;
    for (;;) {
        sl_node *nx = load_next(x, level);
        int c = nx ? node_cmp(nx, key, klen, seq) : 1;
        if (c < 0 || (c == 0 && or_equal)) {
            x = nx;
        } else if (level == 0) {
            return x == sl->head ? NULL : (sl_node *)x;
        } else {
            level--;
        }
    }
}

/* Last node of the list, or NULL. */
static sl_node *
find_last(const skiplist *sl)
{
    const sl_node *x = sl->head;
    int level = atomic_load_explicit(&((skiplist *)sl)->max_height, memory_order_relaxed) - 1;
    for (;;) {
        sl_node *nx = load_next(x, level);
        if (nx) {
            x = nx;
        } else if (level == 0) {
            return x == sl->head ? NULL : (sl_node *)x;
        } else {
            level--;
        }
    }
}

/* ---- insert (single writer) ------------------------------------------------------------- */

static int
random_height(skiplist *sl)
{
    uint64_t r = st_rng_next(&sl->rng);
    int h = 1;
    while (h < SL_MAX_HEIGHT && (r & 3) == 0) {
        h++;
        r >>= 2;
    }
    return h;
}

/* Recompute the splice for (key, seq) by a top-down search from the highest level in use. */
static void
splice_search(skiplist *sl, const uint8_t *key, size_t klen, uint64_t seq)
{
    int top = atomic_load_explicit(&sl->max_height, memory_order_relaxed);
    for (int i = top; i < SL_MAX_HEIGHT; i++) {
        sl->sp_prev[i] = sl->head;
        sl->sp_next[i] = NULL;
    }
    sl_node *x = sl->head, *known_ge = NULL;
    for (int level = top - 1; level >= 0; level--) {
        sl_node *nx = atomic_load_explicit(&x->next[level], memory_order_relaxed);
        while (nx && nx != known_ge && node_cmp(nx, key, klen, seq) < 0) {
            x = nx;
            nx = atomic_load_explicit(&x->next[level], memory_order_relaxed);
        }
        sl->sp_prev[level] = x;
        sl->sp_next[level] = nx;
        known_ge = nx;
    }
}

/* Add a hash index generation of nb buckets (writer only; published with a release store). */
static int
add_gen(skiplist *sl, size_t nb)
{
    int ng = atomic_load_explicit(&sl->ngens, memory_order_relaxed);
    _Atomic(sl_node *) *b = st_memtable_arena_alloc(&sl->m, nb * sizeof(*b));
    if (!b)
        return STRATA_NOMEM;
    for (size_t i = 0; i < nb; i++)
        atomic_init(&b[i], NULL);
    sl->gens[ng].buckets = b;
    sl->gens[ng].mask = nb - 1;
    sl->gen_nodes = 0;
    atomic_store_explicit(&sl->ngens, ng + 1, memory_order_release);
    return STRATA_OK;
}

static int
sl_add(st_memtable *mt, uint64_t seq, int kind, const uint8_t *key, size_t klen, const uint8_t *val,
       size_t vlen)
{
    skiplist *sl = (skiplist *)mt;
    int h = random_height(sl);
    sl_node *n = st_memtable_arena_alloc(&sl->m, sizeof(sl_node) + (size_t)h * sizeof(sl_node *) +
                                                     klen + vlen);
    if (!n)
        return st_err(STRATA_NOMEM, "memtable: out of memory adding a %zu-byte entry", klen + vlen);
    n->seqkind = seq << 8 | (uint64_t)kind;
    n->klen = (uint32_t)klen | (uint32_t)h << SL_KLEN_BITS;
    n->vlen = (uint32_t)vlen;
    uint8_t *kp = (uint8_t *)&n->next[h];
    if (klen)
        memcpy(kp, key, klen);
    if (vlen)
        memcpy(kp + klen, val, vlen);

    /* Fast path: the new entry lies in the level-0 bracket of the previous insert. */
    sl_node *p0 = sl->sp_prev[0], *n0 = sl->sp_next[0];
    int in_bracket = (p0 == sl->head || node_cmp(p0, key, klen, seq) < 0) &&
                     (n0 == NULL || node_cmp(n0, key, klen, seq) > 0);
    if (!in_bracket)
        splice_search(sl, key, klen, seq);

    int top = atomic_load_explicit(&sl->max_height, memory_order_relaxed);
    if (h > top) /* splice levels >= top are (head, NULL) already */
        atomic_store_explicit(&sl->max_height, h, memory_order_relaxed);
    for (int i = 0; i < h; i++) {
        atomic_store_explicit(&n->next[i], sl->sp_next[i], memory_order_relaxed);
        atomic_store_explicit(&sl->sp_prev[i]->next[i], n, memory_order_release);
        sl->sp_prev[i] = n; /* the splice now brackets the new node */
    }
    int ng = atomic_load_explicit(&sl->ngens, memory_order_relaxed);
    if (sl->gen_nodes >= SL_GEN_LOAD * (sl->gens[ng - 1].mask + 1) && ng < SL_MAX_GENS &&
        add_gen(sl, (sl->gens[ng - 1].mask + 1) * SL_GEN_GROWTH) == STRATA_OK)
        ng++; /* NOMEM: the full generation takes the node (longer chains, still exact) */
    struct sl_gen *g = &sl->gens[ng - 1];
    _Atomic(sl_node *) *b = &g->buckets[XXH3_64bits(key, klen) & g->mask];
    n->hnext = atomic_load_explicit(b, memory_order_relaxed);
    atomic_store_explicit(b, n, memory_order_release);
    sl->gen_nodes++;
    return STRATA_OK;
}

/* ---- point lookup ----------------------------------------------------------------------- */

static int
sl_get(st_memtable *mt, const uint8_t *key, size_t klen, uint64_t snap_seq, int *kind,
       const uint8_t **val, size_t *vlen, uint64_t *seq)
{
    skiplist *sl = (skiplist *)mt;
    const sl_node *n = NULL;
    uint64_t best = 0, h = XXH3_64bits(key, klen);
    int ng = atomic_load_explicit(&sl->ngens, memory_order_acquire);
    for (int g = ng - 1; g >= 0; g--)
        for (const sl_node *c = atomic_load_explicit(&sl->gens[g].buckets[h & sl->gens[g].mask],
                                                     memory_order_acquire);
             c; c = c->hnext) {
            uint64_t s = nseq(c);
            if (s <= snap_seq && (!n || s > best) && node_klen(c) == klen &&
                memcmp(nkey(c), key, klen) == 0) {
                n = c;
                best = s;
            }
        }
    if (!n)
        return STRATA_NOTFOUND;
    *kind = (int)(n->seqkind & 0xff);
    *val = nval(n);
    *vlen = n->vlen;
    *seq = nseq(n);
    return STRATA_OK;
}

/* ---- iterator --------------------------------------------------------------------------- */

typedef struct sl_iter {
    st_iter base;
    skiplist *sl;
    const sl_node *node; /* current node when base.valid */
} sl_iter;

static void
it_set(sl_iter *it, const sl_node *n)
{
    st_iter *b = &it->base;
    it->node = n;
    b->valid = n != NULL;
    if (!n)
        return;
    b->key = nkey(n);
    b->klen = node_klen(n);
    b->val = b->key + b->klen;
    b->vlen = n->vlen;
    b->seq = nseq(n);
    b->kind = (int)(n->seqkind & 0xff);
}

static void
it_seek_first(st_iter *b)
{
    sl_iter *it = (sl_iter *)b;
    it_set(it, load_next(it->sl->head, 0));
}

static void
it_seek_last(st_iter *b)
{
    sl_iter *it = (sl_iter *)b;
    it_set(it, find_last(it->sl));
}

static void
it_seek(st_iter *b, const uint8_t *key, size_t klen, uint64_t seq)
{
    sl_iter *it = (sl_iter *)b;
    it_set(it, find_ge(it->sl, key, klen, seq));
}

static void
it_seek_for_prev(st_iter *b, const uint8_t *key, size_t klen, uint64_t seq)
{
    sl_iter *it = (sl_iter *)b;
    it_set(it, find_lt(it->sl, key, klen, seq, 1));
}

static void
it_next(st_iter *b)
{
    sl_iter *it = (sl_iter *)b;
    if (b->valid)
        it_set(it, load_next(it->node, 0));
}

static void
it_prev(st_iter *b)
{
    sl_iter *it = (sl_iter *)b;
    if (b->valid)
        it_set(it, find_lt(it->sl, b->key, b->klen, b->seq, 0));
}

static void
it_close(st_iter *b)
{
    sl_iter *it = (sl_iter *)b;
    st_memtable_unref(&it->sl->m.base);
    st_free(it);
}

static const st_iter_ops sl_iter_ops = {
    .seek_first = it_seek_first,
    .seek_last = it_seek_last,
    .seek = it_seek,
    .seek_for_prev = it_seek_for_prev,
    .next = it_next,
    .prev = it_prev,
    .close = it_close,
};

static st_iter *
sl_iter_new(st_memtable *mt)
{
    sl_iter *it = st_calloc(1, sizeof(*it));
    if (!it) {
        st_err(STRATA_NOMEM, "memtable: out of memory for an iterator");
        return NULL;
    }
    it->base.ops = &sl_iter_ops;
    it->base.status = STRATA_OK;
    it->sl = (skiplist *)mt;
    st_memtable_ref(mt);
    return &it->base;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

static const st_memtable_ops sl_ops = {
    .add = sl_add,
    .get = sl_get,
    .iter = sl_iter_new,
    .memory = st_memtable_arena_memory,
    .destroy = st_memtable_arena_destroy,
};

int
st_memtable_skiplist_new(size_t expected_bytes, st_memtable **out)
{
    *out = NULL;
    skiplist *sl = st_calloc(1, sizeof(*sl));
    if (!sl)
        return st_err(STRATA_NOMEM, "memtable: out of memory creating a skiplist");
    int rc = st_memtable_arena_init(&sl->m, &sl_ops, ST_MEMTABLE_SKIPLIST, sizeof(*sl));
    if (rc != STRATA_OK) {
        st_free(sl);
        return rc;
    }
    sl->head = st_memtable_arena_alloc(&sl->m, sizeof(sl_node) + SL_MAX_HEIGHT * sizeof(sl_node *));
    if (!sl->head) {
        st_memtable_arena_destroy(&sl->m.base);
        return st_err(STRATA_NOMEM, "memtable: out of memory creating a skiplist");
    }
    (void)expected_bytes; /* the index grows with the data */
    atomic_init(&sl->ngens, 0);
    if (add_gen(sl, SL_GEN0_BUCKETS) != STRATA_OK) {
        st_memtable_arena_destroy(&sl->m.base);
        return st_err(STRATA_NOMEM, "memtable: out of memory creating a skiplist");
    }
    memset(sl->head, 0, sizeof(sl_node));
    for (int i = 0; i < SL_MAX_HEIGHT; i++) {
        atomic_init(&sl->head->next[i], NULL);
        sl->sp_prev[i] = sl->head;
        sl->sp_next[i] = NULL;
    }
    atomic_init(&sl->max_height, 1);
    st_rng_seed(&sl->rng, 0x5eed5eedULL); /* fixed: the shape is reproducible */
    *out = &sl->m.base;
    return STRATA_OK;
}
