/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rangedel_iter.h -- an internal iterator that hides the entries of its child that range
 * tombstones delete, skipping a covered range with one seek rather than stepping over it.
 *
 * An entry (key, seq) is deleted when a tombstone of the set with seq <= snap covers key and is
 * newer than seq (iter/rangedel.h). Hiding exactly those entries is what a reader at snap must
 * see: if a version is deleted, every older version of its key is too.
 *
 * Skipping: on a deleted entry, the child's bound oracle tells the largest seq of the child's
 * entries in a key interval around it (a table's max_seq and key range, a memtable's newest
 * put or delete). When that is below the covering tombstone's seq, everything of the child in
 * the fragment and the interval is deleted too, and one seek goes past it (forward: to the
 * fragment's end or just past the interval; backward: before its start). Otherwise the child
 * steps to its next entry.
 *
 * Lifetime: the iterator owns child and arg (arg_free, may be NULL) and holds a reference on
 * set. Single-threaded like every st_iter.
 */
#ifndef ST_ITER_RANGEDEL_ITER_H
#define ST_ITER_RANGEDEL_ITER_H

#include "iter/iter.h"
#include "iter/rangedel.h"

typedef struct st_rdel_bound {
    uint64_t max_seq;       /* no entry of the child in [lo, hi] is newer */
    const uint8_t *lo, *hi; /* inclusive; NULL = unbounded */
    size_t lolen, hilen;
} st_rdel_bound;

typedef void (*st_rdel_bound_fn)(void *arg, const uint8_t *key, size_t klen, st_rdel_bound *out);

/* NULL on NOMEM (child closed, arg freed). */
st_iter *st_rdel_filter_iter_new(st_iter *child, st_rdel_set *set, uint64_t snap,
                                 st_rdel_bound_fn bound, void *arg, void (*arg_free)(void *));

#endif
