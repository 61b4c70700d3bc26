/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rangedel.h -- range tombstones and the fragmented list that answers coverage queries.
 *
 * A range tombstone (st_rdel) deletes every version with a lower sequence number of every key in
 * [begin, end) (begin inclusive, end exclusive, bytewise order). Tombstones may overlap. A
 * st_rdel_set is the immutable, fragmented form of a collection of them: the key space is cut at
 * every begin and end into non-overlapping, sorted fragments, each carrying the sequence numbers
 * (descending) of the tombstones covering it. "Which tombstones cover key k" is then one binary
 * search over the fragments, and "the newest covering one visible at snapshot s" a second one
 * over that fragment's sequence numbers.
 *
 * A set also keeps the tombstones themselves (raw), sorted by begin ascending then seq
 * descending: flushes and compactions write those, not the fragments.
 *
 * Lifetime: a set owns copies of every key; st_rdel_set_build returns it with one reference and
 * the last st_rdel_set_unref frees it. Pointers into a set (fragments, raw tombstones, keys) are
 * valid while the caller holds a reference. Immutable after build: any number of threads may
 * query one set at once.
 */
#ifndef ST_ITER_RANGEDEL_H
#define ST_ITER_RANGEDEL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct st_rdel {
    const uint8_t *begin; /* inclusive */
    size_t blen;
    const uint8_t *end; /* exclusive */
    size_t elen;
    uint64_t seq;
} st_rdel;

typedef struct st_rdel_frag {
    const uint8_t *start; /* inclusive */
    size_t slen;
    const uint8_t *end; /* exclusive */
    size_t elen;
    const uint64_t *seqs; /* the covering tombstones' sequence numbers, descending */
    size_t nseq;
} st_rdel_frag;

typedef struct st_rdel_set {
    _Atomic long refs;
    st_rdel *raw; /* begin asc, seq desc */
    size_t nraw;
    st_rdel_frag *frags; /* ascending, non-overlapping */
    size_t nfrags;
    uint64_t max_seq; /* newest tombstone (0 when empty) */
    uint8_t *keys;    /* backing bytes of every key */
    uint64_t *seqs;   /* backing array of the fragments' seqs */
} st_rdel_set;

/*
 * st_rdel_set_build --
 *     A set of the tombstones t[0..n) whose seq <= snap (ST_SEQ_MAX: all), ignoring empty ranges
 *     (begin >= end). Keys are copied; t may be freed afterwards. NOMEM only.
 */
int st_rdel_set_build(const st_rdel *t, size_t n, uint64_t snap, st_rdel_set **out);
/* The same over the raw tombstones of sets[0..n) (NULL entries are skipped). */
int st_rdel_set_merge(st_rdel_set *const *sets, size_t n, uint64_t snap, st_rdel_set **out);

void st_rdel_set_ref(st_rdel_set *s);
void st_rdel_set_unref(st_rdel_set *s); /* NULL is a no-op */

/* The fragment holding key, or NULL when no tombstone covers key. */
const st_rdel_frag *st_rdel_set_find(const st_rdel_set *s, const uint8_t *key, size_t klen);
/* Index of the first fragment whose end is > key (s->nfrags when none). */
size_t st_rdel_set_lower(const st_rdel_set *s, const uint8_t *key, size_t klen);

/* How many of frag's tombstones are newer than seq (they are seqs[0..n)). */
size_t st_rdel_frag_newer(const st_rdel_frag *f, uint64_t seq);
/* The newest seq <= snap among frag's tombstones, 0 when none. */
uint64_t st_rdel_frag_cover(const st_rdel_frag *f, uint64_t snap);

/* The newest seq <= snap of the tombstones covering key; 0 when none (NULL s: 0). */
uint64_t st_rdel_set_cover(const st_rdel_set *s, const uint8_t *key, size_t klen, uint64_t snap);

#endif
