/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memtable.h -- the in-memory write buffer, one interface over two representations:
 *   ST_MEMTABLE_SKIPLIST  a lock-free-read skiplist over an arena (skiplist.c)
 *   ST_MEMTABLE_TRIE      a trie storing shared key prefixes once (trie.c)
 *
 * A memtable holds entries (user key, seq, kind, value) in entry order (iter/iter.h): key
 * ascending, seq descending. Entries are never removed or changed; the whole memtable is freed
 * when its last reference goes.
 *
 * Concurrency: one writer at a time (the caller serialises st_memtable_add, e.g. the group-commit
 * leader), any number of concurrent readers (get, iterators) without locks. A reader sees each
 * entry either completely or not at all.
 *
 * Lifetime: st_memtable_new returns a memtable with one reference. Every iterator holds its own
 * reference. Values returned by get and by iterators point into the memtable's memory and stay
 * valid while the caller holds a reference. An iterator's key pointer follows iter/iter.h: valid
 * until the iterator's next move (the trie rebuilds keys in the iterator's own buffer).
 */
#ifndef ST_MEMTABLE_MEMTABLE_H
#define ST_MEMTABLE_MEMTABLE_H

#include "iter/iter.h"
#include "iter/rangedel.h"

#include <stddef.h>
#include <stdint.h>

enum { ST_MEMTABLE_SKIPLIST = 0, ST_MEMTABLE_TRIE = 1 }; /* == STRATA_MEMTABLE_* */

typedef struct st_memtable st_memtable;

/* Implementation vtable: each representation provides one (skiplist.c, trie.c). */
typedef struct st_memtable_ops {
    int (*add)(st_memtable *mt, uint64_t seq, int kind, const uint8_t *key, size_t klen,
               const uint8_t *val, size_t vlen);
    int (*get)(st_memtable *mt, const uint8_t *key, size_t klen, uint64_t snap_seq, int *kind,
               const uint8_t **val, size_t *vlen, uint64_t *seq);
    st_iter *(*iter)(st_memtable *mt); /* the iterator must call st_memtable_ref/unref */
    size_t (*memory)(const st_memtable *mt);
    void (*destroy)(st_memtable *mt);
} st_memtable_ops;

/* Common header of every representation (embedded first). */
struct st_memtable {
    const st_memtable_ops *ops;
    int kind;                 /* ST_MEMTABLE_* */
    _Atomic long refs;        /* freed at 0 */
    _Atomic uint64_t entries; /* entries added */
    _Atomic uint64_t deletes; /* tombstones added */
    /* Range tombstones (memtable/rangedel.c): their number, published after each is stored,
     * and their store, created by the first one (NULL until then). */
    _Atomic uint64_t range_dels;
    struct st_mem_rdels *_Atomic rdels;
    /* The newest seq of a put or delete, noted by the writer once per batch
     * (st_memtable_note_seq): iterators skip a deleted range of the memtable in one seek when
     * it is older than the range tombstone. */
    _Atomic uint64_t max_point_seq;
};

/* New empty memtable of `kind` with one reference. INVALID for an unknown kind, NOMEM. */
int st_memtable_new(int kind, st_memtable **out);
/* The same, sized for about expected_bytes of entries (0 = small): the skiplist sizes its
 * point-lookup hash index from it, the trie its key filter (memtable/keyfilter.h). */
int st_memtable_new_sized(int kind, size_t expected_bytes, st_memtable **out);

void st_memtable_ref(st_memtable *mt);
void st_memtable_unref(st_memtable *mt); /* NULL is a no-op */

/*
 * st_memtable_add --
 *     Add one entry (kind ST_KIND_PUT or ST_KIND_DELETE; val ignored for deletes). Sequence
 *     numbers are unique per entry. REQUIRES: no concurrent add. Errors: NOMEM (the memtable is
 *     unchanged).
 */
int st_memtable_add(st_memtable *mt, uint64_t seq, int kind, const void *key, size_t klen,
                    const void *val, size_t vlen);

/*
 * st_memtable_get --
 *     Newest entry for key with seq <= snap_seq. STRATA_OK with *kind (PUT or DELETE), *val,
 *     *vlen (borrowed, see Lifetime) and *seq; STRATA_NOTFOUND when the memtable has no such
 *     entry.
 */
int st_memtable_get(st_memtable *mt, const void *key, size_t klen, uint64_t snap_seq, int *kind,
                    const uint8_t **val, size_t *vlen, uint64_t *seq);

/* Iterator over every entry (all versions); holds a reference. NULL on NOMEM. */
st_iter *st_memtable_iter(st_memtable *mt);

/*
 * Range tombstones (memtable/rangedel.c), kept beside the entries so that point inserts and the
 * representations' lookups are untouched: a memtable without any pays one counter load per read.
 *
 * st_memtable_add_range_del --
 *     Add the tombstone [begin, end) at seq (REQUIRES: begin < end, keys of 1..64 KiB, no
 *     concurrent add). It counts as one entry. Errors: INVALID, NOMEM (the memtable unchanged).
 */
int st_memtable_add_range_del(st_memtable *mt, uint64_t seq, const void *begin, size_t blen,
                              const void *end, size_t elen);
/* Note that puts or deletes up to seq were added (writer; once per batch is enough). */
void st_memtable_note_seq(st_memtable *mt, uint64_t seq);
uint64_t st_memtable_max_point_seq(const st_memtable *mt);
/* Range tombstones added so far (acquire: a reader that sees n also sees the first n). */
uint64_t st_memtable_range_dels(const st_memtable *mt);
/*
 * st_memtable_range_del_set --
 *     *out = the fragmented set of every range tombstone of mt (iter/rangedel.h) with a new
 *     reference for the caller (st_rdel_set_unref), or NULL when mt has none. The set is built
 *     once per change and shared by readers. Any thread. Errors: NOMEM.
 */
int st_memtable_range_del_set(st_memtable *mt, st_rdel_set **out);
/* Free the range tombstone store (memtable destruction; memtable.c). */
void st_memtable_range_dels_free(st_memtable *mt);
/* Bytes held by the range tombstone store. */
size_t st_memtable_range_del_bytes(const st_memtable *mt);

/* Approximate bytes used (for flush triggers). Any thread. */
size_t st_memtable_memory(const st_memtable *mt);
uint64_t st_memtable_entries(const st_memtable *mt);

#endif
