/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keyfilter.h -- a fixed-size blocked bloom filter over a memtable's keys, so that a point
 * lookup of a key the memtable does not hold (most lookups, once data lives in tables) costs one
 * cache line instead of a walk down the memtable's index.
 *
 * Concurrency: one writer (the memtable's), any number of lock-free readers. The writer adds a
 * key before it publishes the key's entry with a release store, so a reader that can see the
 * entry through an acquire load also sees the key's bits (bits are set with relaxed atomic stores
 * and never cleared). Readers may see bits of keys not yet published: false positives only.
 */
#ifndef ST_MEMTABLE_KEYFILTER_H
#define ST_MEMTABLE_KEYFILTER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct st_keyfilter {
    _Atomic uint64_t *words; /* nblocks * 8 words (64-byte blocks); NULL: no filter */
    uint64_t nblocks;
} st_keyfilter;

/* Size the filter for `bytes` of memtable (about one byte of filter per 64 bytes, capped);
 * bytes == 0 leaves it empty (every key "may be present"). STRATA_OK or STRATA_NOMEM. */
int st_keyfilter_init(st_keyfilter *f, size_t bytes);
void st_keyfilter_free(st_keyfilter *f);
size_t st_keyfilter_memory(const st_keyfilter *f); /* bytes allocated */

void st_keyfilter_add(st_keyfilter *f, const uint8_t *key, size_t klen); /* writer only */
/* 0 when key was certainly never added; 1 when it may have been. */
int st_keyfilter_may_contain(const st_keyfilter *f, const uint8_t *key, size_t klen);

#endif
