/* SPDX-License-Identifier: Apache-2.0 */
/*
 * iter.h -- the internal iterator interface shared by memtables, tables and merging.
 *
 * An internal iterator walks *entries*: (user key, sequence number, kind, value), ordered by
 * user key ascending (bytewise) and, for equal keys, by sequence number descending, so the newest
 * version of a key comes first. Every version is visible here (deleted and shadowed ones too); the
 * database iterator (db/db_iter.c) hides what the user must not see.
 *
 * The current entry is exposed as plain fields of st_iter (no virtual call per access). The
 * pointers are borrowed from the iterator and stay valid until the next move or close.
 *
 * Errors are sticky: an iterator that hits an error becomes invalid with status != STRATA_OK and
 * stays so until closed. Moves on an invalid iterator (other than seeks) are no-ops.
 *
 * Thread safety: one thread at a time per iterator.
 */
#ifndef ST_ITER_ITER_H
#define ST_ITER_ITER_H

#include "util/coding.h"
#include "util/status.h"

#include <stddef.h>
#include <stdint.h>

/* Entry kinds. ON-DISK VALUES (WAL, tables): DO NOT CHANGE. A range delete (key = begin,
 * value = end, exclusive) never travels through an st_iter: memtables and tables keep range
 * tombstones apart (iter/rangedel.h); the kind exists in WAL batches and table rows. */
enum { ST_KIND_DELETE = 0, ST_KIND_PUT = 1, ST_KIND_RANGE_DELETE = 2 };

/* Sequence numbers use 56 bits; ST_SEQ_MAX sees everything. */
#define ST_SEQ_MAX ((UINT64_C(1) << 56) - 1)

typedef struct st_iter st_iter;

typedef struct st_iter_ops {
    void (*seek_first)(st_iter *it);
    void (*seek_last)(st_iter *it);
    /* First entry >= (key, seq) in entry order; seq = ST_SEQ_MAX means the first version of
     * the first key >= key. */
    void (*seek)(st_iter *it, const uint8_t *key, size_t klen, uint64_t seq);
    /* Last entry <= (key, seq); seq = 0 means the last version of the last key <= key. */
    void (*seek_for_prev)(st_iter *it, const uint8_t *key, size_t klen, uint64_t seq);
    void (*next)(st_iter *it);
    void (*prev)(st_iter *it);
    void (*close)(st_iter *it); /* frees the iterator */
    /* Materialise val/vlen of the current entry when lazy_val is set (NULL when an iterator
     * never sets lazy_val). Returns STRATA_OK or the (sticky) error. */
    int (*value)(st_iter *it);
    /* Optional (NULL: nothing to do): a seek to key follows at once. Start fetching the memory
     * that seek will touch, so that the merging iterator's children wait for their cache misses
     * together instead of one after another. Never fails (the seek reports errors). */
    void (*prefetch)(st_iter *it, const uint8_t *key, size_t klen);
} st_iter_ops;

struct st_iter {
    const st_iter_ops *ops;
    int valid;  /* 1 when positioned on an entry */
    int status; /* STRATA_OK or the sticky error */
    /* The current entry (meaningful only when valid). */
    const uint8_t *key;
    size_t klen;
    const uint8_t *val;
    size_t vlen;
    uint64_t seq;
    int kind;
    /* 1: val/vlen are not loaded yet (a table page that only st_iter_value decodes, so seeks
     * and merges that never return this entry's value skip decompressing it). */
    int lazy_val;
};

/* Entry order: key ascending, then seq descending. */
static inline int
st_entry_cmp(const uint8_t *ka, size_t la, uint64_t sa, const uint8_t *kb, size_t lb, uint64_t sb)
{
    int c = st_bytes_cmp(ka, la, kb, lb);
    if (c != 0)
        return c;
    return sa > sb ? -1 : (sa < sb ? 1 : 0);
}

static inline void
st_iter_seek_first(st_iter *it)
{
    it->ops->seek_first(it);
}
static inline void
st_iter_seek_last(st_iter *it)
{
    it->ops->seek_last(it);
}
static inline void
st_iter_seek(st_iter *it, const uint8_t *key, size_t klen, uint64_t seq)
{
    it->ops->seek(it, key, klen, seq);
}
static inline void
st_iter_prefetch(st_iter *it, const uint8_t *key, size_t klen)
{
    if (it->ops->prefetch)
        it->ops->prefetch(it, key, klen);
}
static inline void
st_iter_seek_for_prev(st_iter *it, const uint8_t *key, size_t klen, uint64_t seq)
{
    it->ops->seek_for_prev(it, key, klen, seq);
}
static inline void
st_iter_next(st_iter *it)
{
    it->ops->next(it);
}
static inline void
st_iter_prev(st_iter *it)
{
    it->ops->prev(it);
}
/* Publish src's current entry (borrowed pointers, lazy_val included) as dst's. */
static inline void
st_iter_copy_entry(st_iter *dst, const st_iter *src)
{
    dst->key = src->key;
    dst->klen = src->klen;
    dst->val = src->val;
    dst->vlen = src->vlen;
    dst->seq = src->seq;
    dst->kind = src->kind;
    dst->lazy_val = src->lazy_val;
}

/* Make it->val/vlen valid for the current entry (a no-op unless lazy_val). */
static inline int
st_iter_value(st_iter *it)
{
    return it->lazy_val ? it->ops->value(it) : STRATA_OK;
}

/*
 * The value method of an iterator `it` that publishes the entry of its child `child` (a merge's
 * top child, a run's open table, a filter's input): materialise child's value into it; an error
 * invalidates it and becomes its sticky status.
 */
static inline int
st_iter_value_from(st_iter *it, st_iter *child)
{
    if (!it->valid || !it->lazy_val)
        return it->status;
    int rc = st_iter_value(child);
    if (rc != STRATA_OK) {
        it->valid = 0;
        if (it->status == STRATA_OK)
            it->status = rc;
        return rc;
    }
    it->val = child->val;
    it->vlen = child->vlen;
    it->lazy_val = 0;
    return STRATA_OK;
}

static inline void
st_iter_close(st_iter *it)
{
    if (it)
        it->ops->close(it);
}

/* Close its[0..n) (the array itself stays the caller's): a half-built child list on error. */
static inline void
st_iters_close(st_iter **its, size_t n)
{
    for (size_t i = 0; i < n; i++)
        st_iter_close(its[i]);
}

/*
 * st_merge_iter_new --
 *     An iterator over the union of n children (taking ownership of them and of the array
 *     contents; the array itself is copied). Children are merged in entry order; equal entries
 *     (same key and seq) are all returned, child 0 first. The first child error becomes the merge
 *     iterator's status. Returns NULL on NOMEM (the children are closed).
 */
st_iter *st_merge_iter_new(st_iter **children, size_t n);

/* An always-invalid iterator carrying status rc (STRATA_OK for an empty one). NULL on NOMEM. */
st_iter *st_error_iter_new(int rc);

#endif
