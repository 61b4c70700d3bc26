/* SPDX-License-Identifier: Apache-2.0 */
/*
 * trie.c -- ST_MEMTABLE_TRIE: a path-compressed byte trie over an arena with lock-free readers
 * (after the design of Apache Cassandra's InMemoryTrie; doc/design.md, Memtables).
 *
 * Shape. A node stands for one key prefix. Its incoming edge is one transition byte (held in the
 * parent's child table) followed by the node's compressed path: bytes that every key below it
 * shares. Each child slot also holds a path offset: the node's first `off` stored path bytes are
 * skipped, which lets a path split reuse the lower node instead of copying it. A node may hold
 * versions (entries whose key is exactly its prefix) and children. Entry order falls out of a
 * depth-first walk: a node's versions (kept newest first, i.e. seq descending) come before its
 * children, children in ascending byte order -- exactly st_entry_cmp.
 *
 * Node layout (one arena allocation; the flags say which optional words exist, in this order):
 *     meta (4: plen << 8 | flags), vlen (4: inline value length)
 *     [kids   T_KIDS  : atomic pointer to the child table]
 *     [vers   T_LIST  : atomic pointer to a version list, seq descending]
 *     [seqkind T_INLINE: the node's single version, stored inline]
 *     path[plen], [inline value[vlen]]
 * A key with a single version (the common case) is therefore one allocation of 16 bytes plus its
 * distinct suffix and value: no key copy, no per-version list node.
 *
 * Child tables: sparse ones (capacity 2, 6, 16, 48) hold unsorted (byte, child) pairs appended in
 * place and published by a RELEASE store of the count; readers scan for the smallest byte above
 * (or the largest below) the current one. Beyond 48 children a dense 256-slot table indexed by
 * byte replaces it. Growing a table copies it and publishes the copy with one release store into
 * the node's kids word.
 *
 * Concurrency (one writer, readers without locks): nothing a reader can reach is ever modified
 * except through a single release store at an attachment point -- a child slot, a sparse
 * table's count, a node's kids word, a version-list head or next pointer (slot bytes and
 * offsets are written before the store that publishes them and never change). Structural
 * changes build a new node and swap it into the parent's slot (copy-on-write):
 *   - splitting a compressed path (a new branch node takes the slot; the old node hangs below
 *     it unchanged, seen through a larger slot offset),
 *   - a leaf gaining its first child (copy with a kids word),
 *   - an inline version becoming a list (copy with a vers word),
 *   - a branch node gaining its first version (copy with an inline version),
 *   - a short node whose child table grows (copied right after the new table, so that a
 *     descent finds node and table in neighbouring cache lines).
 * Old nodes stay valid in the arena: a reader inside one sees a consistent, slightly older
 * state. Readers use ACQUIRE loads on every attachment point. Nothing is freed before the
 * memtable is destroyed. Every allocation of an add happens before its publishing store, so an
 * allocation failure leaves the trie unchanged (the arena may keep some unused bytes).
 *
 * Iterators keep a stack of (node, key length, transition byte) frames and rebuild the key in
 * their own buffer: the key pointer of a trie iterator is valid until the next move (iter.h's
 * contract); values point into the memtable.
 */
#include "memtable/keyfilter.h"
#include "memtable/memtable_int.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/status.h"

#include <stdatomic.h>
#include <string.h>

enum { T_KIDS = 1, T_LIST = 2, T_INLINE = 4 };

/* Child table capacities: sparse 2 -> 6 -> 16 -> 48, then dense. Most branch nodes made by a
 * path split have exactly two children, so the smallest class is 2 (32 bytes). */
#define SPARSE_SMALL 2
#define DENSE 256
/* Path + inline value bytes up to which a node is copied next to its child table when the
 * table grows (add_child). */
#define NEAR_KIDS_MAX 48

static unsigned
next_cap(unsigned cap)
{
    return cap == 2 ? 6 : cap == 6 ? 16 : cap == 16 ? 48 : DENSE;
}

typedef struct tnode {
    uint32_t meta; /* plen << 8 | flags */
    uint32_t vlen; /* T_INLINE: value length */
    /* optional words, path and inline value follow (see the file comment) */
} tnode;

typedef struct tver tver;
struct tver {
    _Atomic(tver *) next; /* older version */
    uint64_t seqkind;     /* seq << 8 | kind */
    uint32_t vlen;
    uint8_t val[];
};

typedef struct tkids {
    uint16_t cap;       /* sparse capacity (see next_cap) or DENSE */
    _Atomic uint16_t n; /* children published (sparse); children present (dense) */
    uint32_t pad;
    _Atomic(tnode *) kid[]; /* cap slots; sparse tables then hold byte[cap] */
} tkids;

typedef struct trie {
    st_memtable_arena m; /* header + arena (memtable_int.h) */
    tnode *root;         /* T_KIDS | T_LIST, empty path; never replaced */
    st_keyfilter kf;     /* every added key, for lookups of absent keys */
} trie;

/* A version to store (from an add or copied from an inline one). */
typedef struct tentry {
    uint64_t seqkind;
    const uint8_t *val;
    uint32_t vlen;
} tentry;

/* ---- node access ------------------------------------------------------------------------ */

static inline unsigned
nflags(const tnode *n)
{
    return n->meta & 0xff;
}

static inline size_t
nplen(const tnode *n)
{
    return n->meta >> 8;
}

static inline size_t
nwords(unsigned flags)
{
    return (size_t)((flags & T_KIDS) != 0) + ((flags & T_LIST) != 0) + ((flags & T_INLINE) != 0);
}

static inline uint8_t *
nword(const tnode *n, int which)
{
    /* which: 0 kids, 1 vers, 2 seqkind; present words are packed in that order */
    unsigned f = nflags(n);
    size_t off = sizeof(tnode);
    if (which > 0 && (f & T_KIDS))
        off += 8;
    if (which > 1 && (f & T_LIST))
        off += 8;
    return (uint8_t *)n + off;
}

static inline _Atomic(tkids *) *
nkids_slot(const tnode *n)
{
    return (_Atomic(tkids *) *)nword(n, 0);
}

static inline _Atomic(tver *) *
nvers_slot(const tnode *n)
{
    return (_Atomic(tver *) *)nword(n, 1);
}

static inline uint64_t
ninline_seqkind(const tnode *n)
{
    uint64_t v;
    memcpy(&v, nword(n, 2), 8);
    return v;
}

static inline const uint8_t *
npath(const tnode *n)
{
    return (const uint8_t *)n + sizeof(tnode) + 8 * nwords(nflags(n));
}

static inline const uint8_t *
ninline_val(const tnode *n)
{
    return npath(n) + nplen(n);
}

static inline tkids *
nkids(const tnode *n)
{
    if (!(nflags(n) & T_KIDS))
        return NULL;
    return atomic_load_explicit(nkids_slot(n), memory_order_acquire);
}

static inline tver *
nvers(const tnode *n)
{
    return atomic_load_explicit(nvers_slot(n), memory_order_acquire);
}

/* Per-slot path offsets (all tables), then the slot bytes (sparse tables). */
static inline uint16_t *
koffs(tkids *k)
{
    return (uint16_t *)&k->kid[k->cap];
}

static inline uint8_t *
kbytes(tkids *k)
{
    return (uint8_t *)(koffs(k) + k->cap);
}

static inline size_t
kids_size(unsigned cap)
{
    return sizeof(tkids) + cap * (sizeof(tnode *) + sizeof(uint16_t)) + (cap == DENSE ? 0 : cap);
}

/* ---- child tables (readers) ------------------------------------------------------------- */

/* The child slot for byte c (and its path offset), or NULL. */
static _Atomic(tnode *) *
kids_find(tkids *k, int c, unsigned *off)
{
    if (!k)
        return NULL;
    if (k->cap == DENSE) {
        if (!atomic_load_explicit(&k->kid[c], memory_order_acquire))
            return NULL;
        *off = koffs(k)[c];
        return &k->kid[c];
    }
    unsigned n = atomic_load_explicit(&k->n, memory_order_acquire);
    const uint8_t *b = kbytes(k);
    for (unsigned i = 0; i < n; i++) {
        if (b[i] == c) {
            *off = koffs(k)[i];
            return &k->kid[i];
        }
    }
    return NULL;
}

/* The child with the smallest byte > after (dir > 0) or the largest byte < after (dir < 0);
 * NULL when there is none. *c receives its byte. */
static tnode *
kids_step(tkids *k, int after, int dir, int *c, unsigned *off)
{
    if (!k)
        return NULL;
    if (k->cap == DENSE) {
        for (int b = after + dir; b >= 0 && b < DENSE; b += dir) {
            tnode *x = atomic_load_explicit(&k->kid[b], memory_order_acquire);
            if (x) {
                *c = b;
                *off = koffs(k)[b];
                return x;
            }
        }
        return NULL;
    }
    unsigned n = atomic_load_explicit(&k->n, memory_order_acquire);
    const uint8_t *b = kbytes(k);
    int best = -1;
    for (unsigned i = 0; i < n; i++) {
        int x = b[i];
        if ((dir > 0 ? x > after : x < after) &&
            (best < 0 || (dir > 0 ? x < b[best] : x > b[best])))
            best = (int)i;
    }
    if (best < 0)
        return NULL;
    *c = b[best];
    *off = koffs(k)[best];
    return atomic_load_explicit(&k->kid[best], memory_order_acquire);
}

/* ---- versions (readers) ----------------------------------------------------------------- */

/* A node's versions are either its inline one (v == NULL) or list elements. "pos" below is a
 * (node, tver) pair; has_first etc. report whether the position exists. */

static int
ver_first(const tnode *n, const tver **v)
{
    unsigned f = nflags(n);
    if (f & T_INLINE) {
        *v = NULL;
        return 1;
    }
    if (f & T_LIST) {
        *v = nvers(n);
        return *v != NULL;
    }
    return 0;
}

static int
ver_next(const tnode *n, const tver **v)
{
    if (!(nflags(n) & T_LIST))
        return 0;
    *v = atomic_load_explicit(&((tver *)*v)->next, memory_order_acquire);
    return *v != NULL;
}

static int
ver_last(const tnode *n, const tver **v)
{
    if (!ver_first(n, v))
        return 0;
    const tver *x = *v;
    while (ver_next(n, &x))
        *v = x;
    return 1;
}

/* The version before *v in node n (list order), if any. */
static int
ver_prev(const tnode *n, const tver **v)
{
    if (!(nflags(n) & T_LIST))
        return 0;
    const tver *x = nvers(n);
    if (x == *v)
        return 0;
    for (;;) {
        const tver *nx = atomic_load_explicit(&((tver *)x)->next, memory_order_acquire);
        if (nx == *v) {
            *v = x;
            return 1;
        }
        x = nx;
    }
}

static inline uint64_t
ver_seqkind(const tnode *n, const tver *v)
{
    return v ? v->seqkind : ninline_seqkind(n);
}

static void
ver_value(const tnode *n, const tver *v, const uint8_t **val, size_t *vlen)
{
    if (v) {
        *val = v->val;
        *vlen = v->vlen;
    } else {
        *val = ninline_val(n);
        *vlen = n->vlen;
    }
}

/* ---- writer ----------------------------------------------------------------------------- */

static int
nomem(size_t klen)
{
    return st_err(STRATA_NOMEM, "memtable (trie): out of memory adding a %zu-byte key", klen);
}

static tnode *
node_make(trie *t, unsigned flags, const uint8_t *path, size_t plen, tkids *kids, tver *vers,
          const tentry *inl)
{
    size_t vlen = (flags & T_INLINE) ? inl->vlen : 0;
    tnode *n = st_memtable_arena_alloc(&t->m, sizeof(tnode) + 8 * nwords(flags) + plen + vlen);
    if (!n)
        return NULL;
    n->meta = (uint32_t)(plen << 8 | flags);
    n->vlen = (uint32_t)vlen;
    if (flags & T_KIDS)
        atomic_init(nkids_slot(n), kids);
    if (flags & T_LIST)
        atomic_init(nvers_slot(n), vers);
    if (flags & T_INLINE)
        memcpy(nword(n, 2), &inl->seqkind, 8);
    uint8_t *p = (uint8_t *)npath(n);
    if (plen)
        memcpy(p, path, plen);
    if (vlen)
        memcpy(p + plen, inl->val, vlen);
    return n;
}

/* A copy of n (same stored path) with `flags`; words present in both are copied, new words come
 * from kids/vers/inl, and a non-NULL kids replaces n's child table. */
static tnode *
node_copy(trie *t, const tnode *n, unsigned flags, tkids *kids, tver *vers, const tentry *inl)
{
    unsigned f = nflags(n);
    tentry old;
    if ((f & T_KIDS & flags) && !kids)
        kids = atomic_load_explicit(nkids_slot(n), memory_order_relaxed);
    if (f & T_LIST & flags)
        vers = atomic_load_explicit(nvers_slot(n), memory_order_relaxed);
    if (f & T_INLINE & flags) {
        old.seqkind = ninline_seqkind(n);
        old.val = ninline_val(n);
        old.vlen = n->vlen;
        inl = &old;
    }
    return node_make(t, flags, npath(n), nplen(n), kids, vers, inl);
}

static tver *
ver_make(trie *t, const tentry *e)
{
    tver *v = st_memtable_arena_alloc(&t->m, sizeof(tver) + e->vlen);
    if (!v)
        return NULL;
    atomic_init(&v->next, NULL);
    v->seqkind = e->seqkind;
    v->vlen = e->vlen;
    if (e->vlen)
        memcpy(v->val, e->val, e->vlen);
    return v;
}

/* A new table of capacity cap holding the children of old (may be NULL) plus (c, child, off). */
static tkids *
kids_make(trie *t, tkids *old, unsigned cap, int c, tnode *child, unsigned off)
{
    size_t sz = kids_size(cap);
    tkids *k = st_memtable_arena_alloc(&t->m, sz);
    if (!k)
        return NULL;
    memset(k, 0, sz);
    k->cap = (uint16_t)cap;
    unsigned n = 0;
    if (old) {
        unsigned on = atomic_load_explicit(&old->n, memory_order_relaxed);
        for (unsigned i = 0; i < old->cap; i++) {
            if (old->cap != DENSE && i >= on)
                break;
            tnode *x = atomic_load_explicit(&old->kid[i], memory_order_relaxed);
            int b = old->cap == DENSE ? (int)i : kbytes(old)[i];
            if (!x)
                continue;
            unsigned j = cap == DENSE ? (unsigned)b : n;
            atomic_init(&k->kid[j], x);
            koffs(k)[j] = koffs(old)[i];
            if (cap != DENSE)
                kbytes(k)[j] = (uint8_t)b;
            n++;
        }
    }
    unsigned j = cap == DENSE ? (unsigned)c : n;
    atomic_init(&k->kid[j], child);
    koffs(k)[j] = (uint16_t)off;
    if (cap != DENSE)
        kbytes(k)[j] = (uint8_t)c;
    atomic_init(&k->n, (uint16_t)(n + 1));
    return k;
}

/* Add child (byte c, absent) to node n held in slot (NULL for the root). */
static int
add_child(trie *t, tnode *n, _Atomic(tnode *) *slot, int c, tnode *child, size_t klen)
{
    if (!(nflags(n) & T_KIDS)) {
        tkids *k = kids_make(t, NULL, SPARSE_SMALL, c, child, 0);
        tnode *cp = k ? node_copy(t, n, nflags(n) | T_KIDS, k, NULL, NULL) : NULL;
        if (!cp)
            return nomem(klen);
        atomic_store_explicit(slot, cp, memory_order_release);
        return STRATA_OK;
    }
    tkids *k = atomic_load_explicit(nkids_slot(n), memory_order_relaxed);
    if (!k) { /* only the root starts with an empty kids word */
        k = kids_make(t, NULL, SPARSE_SMALL, c, child, 0);
        if (!k)
            return nomem(klen);
        atomic_store_explicit(nkids_slot(n), k, memory_order_release);
        return STRATA_OK;
    }
    unsigned cnt = atomic_load_explicit(&k->n, memory_order_relaxed);
    if (k->cap == DENSE) {
        atomic_store_explicit(&k->n, (uint16_t)(cnt + 1), memory_order_relaxed);
        koffs(k)[c] = 0;
        atomic_store_explicit(&k->kid[c], child, memory_order_release);
        return STRATA_OK;
    }
    if (cnt < k->cap) {
        kbytes(k)[cnt] = (uint8_t)c;
        koffs(k)[cnt] = 0;
        atomic_store_explicit(&k->kid[cnt], child, memory_order_relaxed);
        atomic_store_explicit(&k->n, (uint16_t)(cnt + 1), memory_order_release);
        return STRATA_OK;
    }
    tkids *nk = kids_make(t, k, next_cap(k->cap), c, child, 0);
    if (!nk)
        return nomem(klen);
    /* A small node moves next to its grown table (copy-on-write into its parent's slot): a
     * descent reads the node, then the table, and apart they were two cold cache lines per
     * level. The root stays; so do nodes carrying a long path or inline value. */
    if (slot && nplen(n) + n->vlen <= NEAR_KIDS_MAX) {
        tnode *cp = node_copy(t, n, nflags(n), nk, NULL, NULL);
        if (!cp)
            return nomem(klen);
        atomic_store_explicit(slot, cp, memory_order_release);
        return STRATA_OK;
    }
    atomic_store_explicit(nkids_slot(n), nk, memory_order_release);
    return STRATA_OK;
}

/* Insert version e into node n held in slot (NULL for the root). */
static int
add_version(trie *t, tnode *n, _Atomic(tnode *) *slot, const tentry *e, size_t klen)
{
    unsigned f = nflags(n);
    uint64_t seq = e->seqkind >> 8;
    if (f & T_LIST) {
        tver *v = ver_make(t, e);
        if (!v)
            return nomem(klen);
        _Atomic(tver *) *link = nvers_slot(n);
        tver *x = atomic_load_explicit(link, memory_order_relaxed);
        while (x && (x->seqkind >> 8) > seq) {
            link = &x->next;
            x = atomic_load_explicit(link, memory_order_relaxed);
        }
        atomic_init(&v->next, x);
        atomic_store_explicit(link, v, memory_order_release);
        return STRATA_OK;
    }
    tnode *cp;
    if (f & T_INLINE) {
        /* second version: move both into a list on a copy of the node */
        tentry old = {ninline_seqkind(n), ninline_val(n), n->vlen};
        tver *a = ver_make(t, e), *b = ver_make(t, &old);
        if (!a || !b)
            return nomem(klen);
        if ((old.seqkind >> 8) > seq) {
            tver *tmp = a;
            a = b;
            b = tmp;
        }
        atomic_init(&a->next, b);
        cp = node_copy(t, n, (f & ~(unsigned)T_INLINE) | T_LIST, NULL, a, NULL);
    } else {
        cp = node_copy(t, n, f | T_INLINE, NULL, NULL, e);
    }
    if (!cp)
        return nomem(klen);
    atomic_store_explicit(slot, cp, memory_order_release);
    return STRATA_OK;
}

static int
tr_add(st_memtable *mt, uint64_t seq, int kind, const uint8_t *key, size_t klen, const uint8_t *val,
       size_t vlen)
{
    trie *t = (trie *)mt;
    tentry e = {seq << 8 | (uint64_t)kind, val, (uint32_t)vlen};
    tnode *n = t->root;
    st_keyfilter_add(&t->kf, key, klen); /* before the entry is published */
    _Atomic(tnode *) *slot = NULL;
    size_t d = 0;
    for (;;) {
        if (d == klen)
            return add_version(t, n, slot, &e, klen);
        int c = key[d];
        unsigned off = 0;
        _Atomic(tnode *) *cs = kids_find(nkids(n), c, &off);
        if (!cs) {
            tnode *leaf = node_make(t, T_INLINE, key + d + 1, klen - d - 1, NULL, NULL, &e);
            if (!leaf)
                return nomem(klen);
            return add_child(t, n, slot, c, leaf, klen);
        }
        tnode *ch = atomic_load_explicit(cs, memory_order_relaxed);
        const uint8_t *p = npath(ch) + off, *rest = key + d + 1;
        size_t plen = nplen(ch) - off, rlen = klen - d - 1, m = 0;
        while (m < plen && m < rlen && p[m] == rest[m])
            m++;
        if (m == plen) {
            n = ch;
            slot = cs;
            d += 1 + plen;
            continue;
        }
        /*
         * Split ch's path after m bytes: a branch node br takes ch's slot; its children are
         * p[m] -> ch itself, seen with a larger offset (ch is not copied), and, unless the key
         * ends at br, rest[m] -> a new leaf. The slot's offset cannot change, so br stores ch's
         * path bytes up to the split point (its first `off` bytes stay unused).
         */
        tkids *k = kids_make(t, NULL, SPARSE_SMALL, p[m], ch, off + (unsigned)m + 1);
        if (!k)
            return nomem(klen);
        /* br right after its child table in the arena (a descent reads one, then the other),
         * the new leaf after both; nothing is visible before the store into cs */
        tnode *br;
        if (m == rlen) {
            br = node_make(t, T_KIDS | T_INLINE, npath(ch), off + m, k, NULL, &e);
        } else {
            br = node_make(t, T_KIDS, npath(ch), off + m, k, NULL, NULL);
            tnode *leaf =
                br ? node_make(t, T_INLINE, rest + m + 1, rlen - m - 1, NULL, NULL, &e) : NULL;
            if (!leaf)
                return nomem(klen);
            kbytes(k)[1] = rest[m];
            koffs(k)[1] = 0;
            atomic_init(&k->kid[1], leaf);
            atomic_init(&k->n, 2);
        }
        if (!br)
            return nomem(klen);
        atomic_store_explicit(cs, br, memory_order_release);
        return STRATA_OK;
    }
}

/* ---- point lookup ----------------------------------------------------------------------- */

/* The node whose key is exactly key, or NULL. */
static const tnode *
find_node(const trie *t, const uint8_t *key, size_t klen)
{
    const tnode *n = t->root;
    size_t d = 0;
    while (d < klen) {
        unsigned off = 0;
        _Atomic(tnode *) *cs = kids_find(nkids(n), key[d], &off);
        if (!cs)
            return NULL;
        n = atomic_load_explicit(cs, memory_order_acquire);
        size_t plen = nplen(n) - off;
        if (klen - d - 1 < plen || (plen && memcmp(npath(n) + off, key + d + 1, plen) != 0))
            return NULL;
        d += 1 + plen;
    }
    return n;
}

static int
tr_get(st_memtable *mt, const uint8_t *key, size_t klen, uint64_t snap_seq, int *kind,
       const uint8_t **val, size_t *vlen, uint64_t *seq)
{
    const trie *t = (const trie *)mt;
    if (!st_keyfilter_may_contain(&t->kf, key, klen))
        return STRATA_NOTFOUND;
    const tnode *n = find_node(t, key, klen);
    const tver *v;
    if (!n || !ver_first(n, &v))
        return STRATA_NOTFOUND;
    do {
        uint64_t sk = ver_seqkind(n, v);
        if ((sk >> 8) <= snap_seq) {
            *kind = (int)(sk & 0xff);
            *seq = sk >> 8;
            ver_value(n, v, val, vlen);
            return STRATA_OK;
        }
    } while (ver_next(n, &v));
    return STRATA_NOTFOUND;
}

/* ---- iterator --------------------------------------------------------------------------- */

typedef struct tframe {
    const tnode *n;
    size_t kend; /* key length including this node's path */
    int byte;    /* transition byte of the child in the next frame */
} tframe;

typedef struct tr_iter {
    st_iter base;
    trie *t;
    tframe *st; /* st[0] is the root */
    size_t depth, scap;
    uint8_t *kbuf;
    size_t kcap;
    const tver *v; /* current version of st[depth-1].n (NULL: its inline one) */
} tr_iter;

#define BEFORE_ALL (-1) /* fwd: consider children from the first */
#define ENTER (-2)      /* fwd: the node's versions, then its children */
#define AFTER_ALL DENSE /* bwd: consider children from the last, then the versions */

static void
it_fail(tr_iter *it)
{
    it->base.valid = 0;
    it->base.status = st_err(STRATA_NOMEM, "memtable (trie): out of memory in an iterator");
}

static void
it_reset(tr_iter *it)
{
    it->depth = 1;
    it->st[0].n = it->t->root;
    it->st[0].kend = 0;
    it->st[0].byte = -1;
}

/* Push child ch reached through byte c from the top frame. 0 on NOMEM (status set). */
static int
it_push(tr_iter *it, int c, const tnode *ch, unsigned off)
{
    if (it->depth == it->scap) {
        tframe *s = st_realloc(it->st, 2 * it->scap * sizeof(*s));
        if (!s)
            return it_fail(it), 0;
        it->st = s;
        it->scap *= 2;
    }
    size_t start = it->st[it->depth - 1].kend, plen = nplen(ch) - off, end = start + 1 + plen;
    if (end > it->kcap) {
        size_t cap = it->kcap * 2 > end ? it->kcap * 2 : end;
        uint8_t *k = st_realloc(it->kbuf, cap);
        if (!k)
            return it_fail(it), 0;
        it->kbuf = k;
        it->kcap = cap;
    }
    it->kbuf[start] = (uint8_t)c;
    if (plen)
        memcpy(it->kbuf + start + 1, npath(ch) + off, plen);
    it->st[it->depth - 1].byte = c;
    it->st[it->depth].n = ch;
    it->st[it->depth].kend = end;
    it->st[it->depth].byte = -1;
    it->depth++;
    return 1;
}

/* Position on version v of the top node. */
static void
it_set(tr_iter *it, const tver *v)
{
    st_iter *b = &it->base;
    const tnode *n = it->st[it->depth - 1].n;
    uint64_t sk = ver_seqkind(n, v);
    it->v = v;
    b->valid = 1;
    b->key = it->kbuf;
    b->klen = it->st[it->depth - 1].kend;
    b->seq = sk >> 8;
    b->kind = (int)(sk & 0xff);
    ver_value(n, v, &b->val, &b->vlen);
}

/* Pop the top frame; *b becomes the byte through which it was reached. 0 (and invalid) when the
 * top frame is the root. */
static int
it_pop(tr_iter *it, int *b)
{
    if (it->depth == 1) {
        it->base.valid = 0;
        return 0;
    }
    it->depth--;
    *b = it->st[it->depth - 1].byte;
    return 1;
}

/*
 * it_walk --
 *     Forward (dir > 0): move to the first entry at or after a point in the top node -- its
 *     versions then all children (b == ENTER), or its children with bytes > b. Backward
 *     (dir < 0): the mirror -- the last entry among its children with bytes < b (AFTER_ALL: all
 *     of them), then its versions. Climbs up when the node is exhausted.
 */
static void
it_walk(tr_iter *it, int b, int dir)
{
    for (;;) {
        const tnode *n = it->st[it->depth - 1].n;
        const tver *v;
        if (dir > 0 && b == ENTER) {
            if (ver_first(n, &v)) {
                it_set(it, v);
                return;
            }
            b = BEFORE_ALL;
        }
        int c, c2;
        unsigned off = 0, off2;
        tkids *k = nkids(n);
        const tnode *ch = kids_step(k, b, dir, &c, &off);
        if (ch) {
            /* An in-order walk of a trie built from random keys meets its nodes in no memory
             * order: fetch the next sibling while this child's subtree is walked (perf of a
             * flush put a third of the flushing thread in it_push and it_walk, on node loads). */
            const tnode *sib = kids_step(k, c, dir, &c2, &off2);
            if (sib) { /* with its path and inline value: a 100-byte value spans three lines */
                __builtin_prefetch(sib);
                __builtin_prefetch((const char *)sib + 64);
                __builtin_prefetch((const char *)sib + 128);
            }
            if (!it_push(it, c, ch, off))
                return;
            b = dir > 0 ? ENTER : AFTER_ALL;
            continue;
        }
        if (dir < 0 && ver_last(n, &v)) {
            it_set(it, v);
            return;
        }
        if (!it_pop(it, &b))
            return;
    }
}

/* The last entry before everything in the top node's subtree. */
static void
it_before_top(tr_iter *it)
{
    int b;
    if (it_pop(it, &b))
        it_walk(it, b, -1);
}

static void
it_seek_first(st_iter *b)
{
    tr_iter *it = (tr_iter *)b;
    if (b->status != STRATA_OK)
        return;
    it_reset(it);
    it_walk(it, ENTER, 1);
}

static void
it_seek_last(st_iter *b)
{
    tr_iter *it = (tr_iter *)b;
    if (b->status != STRATA_OK)
        return;
    it_reset(it);
    it_walk(it, AFTER_ALL, -1);
}

/*
 * Walk down along key. Returns 1 with the top node's key == key, or 0 after positioning the
 * iterator itself (forward: first entry > everything < key's subtree; backward: mirror) when
 * the key leaves the trie.
 */
static int
it_descend(tr_iter *it, const uint8_t *key, size_t klen, int forward)
{
    it_reset(it);
    size_t d = 0;
    while (d < klen) {
        const tnode *n = it->st[it->depth - 1].n;
        int c = key[d];
        unsigned off = 0;
        _Atomic(tnode *) *cs = kids_find(nkids(n), c, &off);
        if (!cs) {
            /* no child c: the entries around key are the children on either side of c */
            if (forward)
                it_walk(it, c, 1);
            else
                it_walk(it, c, -1);
            return 0;
        }
        const tnode *ch = atomic_load_explicit(cs, memory_order_acquire);
        const uint8_t *p = npath(ch) + off, *rest = key + d + 1;
        size_t plen = nplen(ch) - off, rlen = klen - d - 1, m = 0;
        while (m < plen && m < rlen && p[m] == rest[m])
            m++;
        if (m == plen) {
            if (!it_push(it, c, ch, off))
                return 0;
            d += 1 + plen;
            continue;
        }
        if (m == rlen || rest[m] < p[m]) {
            /* key sorts before the whole subtree of ch */
            if (!forward) {
                it_walk(it, c, -1);
            } else if (it_push(it, c, ch, off)) {
                it_walk(it, ENTER, 1);
            }
        } else {
            /* key sorts after the whole subtree of ch */
            if (forward) {
                it_walk(it, c, 1);
            } else if (it_push(it, c, ch, off)) {
                it_walk(it, AFTER_ALL, -1);
            }
        }
        return 0;
    }
    return 1;
}

static void
it_seek(st_iter *b, const uint8_t *key, size_t klen, uint64_t seq)
{
    tr_iter *it = (tr_iter *)b;
    if (b->status != STRATA_OK || !it_descend(it, key, klen, 1))
        return;
    /* first version with seq <= target, else the node's children */
    const tnode *n = it->st[it->depth - 1].n;
    const tver *v;
    if (ver_first(n, &v)) {
        do {
            if ((ver_seqkind(n, v) >> 8) <= seq) {
                it_set(it, v);
                return;
            }
        } while (ver_next(n, &v));
    }
    it_walk(it, BEFORE_ALL, 1);
}

static void
it_seek_for_prev(st_iter *b, const uint8_t *key, size_t klen, uint64_t seq)
{
    tr_iter *it = (tr_iter *)b;
    if (b->status != STRATA_OK || !it_descend(it, key, klen, 0))
        return;
    /* last version with seq >= target, else everything before this node */
    const tnode *n = it->st[it->depth - 1].n;
    const tver *v, *last = NULL;
    int found = 0;
    if (ver_first(n, &v)) {
        do {
            if ((ver_seqkind(n, v) >> 8) < seq)
                break;
            last = v;
            found = 1;
        } while (ver_next(n, &v));
    }
    if (found)
        it_set(it, last);
    else
        it_before_top(it);
}

static void
it_next(st_iter *b)
{
    tr_iter *it = (tr_iter *)b;
    if (!b->valid)
        return;
    const tnode *n = it->st[it->depth - 1].n;
    const tver *v = it->v;
    if (ver_next(n, &v))
        it_set(it, v);
    else
        it_walk(it, BEFORE_ALL, 1);
}

static void
it_prev(st_iter *b)
{
    tr_iter *it = (tr_iter *)b;
    if (!b->valid)
        return;
    const tnode *n = it->st[it->depth - 1].n;
    const tver *v = it->v;
    if (ver_prev(n, &v))
        it_set(it, v);
    else
        it_before_top(it);
}

static void
it_close(st_iter *b)
{
    tr_iter *it = (tr_iter *)b;
    st_memtable_unref(&it->t->m.base);
    st_free(it->st);
    st_free(it->kbuf);
    st_free(it);
}

static const st_iter_ops tr_iter_ops = {
    .seek_first = it_seek_first,
    .seek_last = it_seek_last,
    .seek = it_seek,
    .seek_for_prev = it_seek_for_prev,
    .next = it_next,
    .prev = it_prev,
    .close = it_close,
};

static st_iter *
tr_iter_new(st_memtable *mt)
{
    tr_iter *it = st_calloc(1, sizeof(*it));
    if (!it)
        goto nomem;
    it->scap = 16;
    it->kcap = 64;
    it->st = st_malloc(it->scap * sizeof(*it->st));
    it->kbuf = st_malloc(it->kcap);
    if (!it->st || !it->kbuf) {
        st_free(it->st);
        st_free(it->kbuf);
        st_free(it);
        goto nomem;
    }
    it->base.ops = &tr_iter_ops;
    it->base.status = STRATA_OK;
    it->t = (trie *)mt;
    it_reset(it);
    st_memtable_ref(mt);
    return &it->base;
nomem:
    st_err(STRATA_NOMEM, "memtable (trie): out of memory for an iterator");
    return NULL;
}

/* ---- lifecycle -------------------------------------------------------------------------- */

/* The arena's bytes plus the key filter's (reserved at creation, about 1/64 of the write
 * buffer). */
static size_t
tr_memory(const st_memtable *mt)
{
    return st_memtable_arena_memory(mt) + st_keyfilter_memory(&((const trie *)mt)->kf);
}

static void
tr_destroy(st_memtable *mt)
{
    st_keyfilter_free(&((trie *)mt)->kf);
    st_memtable_arena_destroy(mt);
}

static const st_memtable_ops tr_ops = {
    .add = tr_add,
    .get = tr_get,
    .iter = tr_iter_new,
    .memory = tr_memory,
    .destroy = tr_destroy,
};

int
st_memtable_trie_new(size_t expected_bytes, st_memtable **out)
{
    *out = NULL;
    trie *t = st_calloc(1, sizeof(*t));
    if (!t)
        return st_err(STRATA_NOMEM, "memtable: out of memory creating a trie");
    int rc = st_memtable_arena_init(&t->m, &tr_ops, ST_MEMTABLE_TRIE, sizeof(*t));
    if (rc != STRATA_OK) {
        st_free(t);
        return rc;
    }
    t->root = node_make(t, T_KIDS | T_LIST, NULL, 0, NULL, NULL, NULL);
    if (!t->root) {
        st_memtable_arena_destroy(&t->m.base);
        return st_err(STRATA_NOMEM, "memtable: out of memory creating a trie");
    }
    rc = st_keyfilter_init(&t->kf, expected_bytes);
    if (rc != STRATA_OK) {
        st_memtable_arena_destroy(&t->m.base);
        return rc;
    }
    *out = &t->m.base;
    return STRATA_OK;
}
