/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_memtable_support.h -- helpers shared by the memtable tests (header-only, static).
 *
 * Values are derived from (key, seq), so any reader can verify that an entry it finds is intact
 * without a model: st_mt_fill_value writes the value for (key, seq), st_mt_value_ok checks one.
 */
#ifndef TEST_MEMTABLE_SUPPORT_H
#define TEST_MEMTABLE_SUPPORT_H

#include "memtable/memtable.h"

#include <stddef.h>
#include <stdint.h>

/* Every test runs once per representation. */
static const int st_mt_kinds[] = {ST_MEMTABLE_SKIPLIST, ST_MEMTABLE_TRIE};
#define ST_MT_NKINDS (sizeof(st_mt_kinds) / sizeof(st_mt_kinds[0]))

#define ST_MT_MAX_DERIVED_VLEN 40

static inline uint64_t
st_mt_hash(const uint8_t *key, size_t klen, uint64_t seq)
{
    uint64_t h = 0xcbf29ce484222325ull ^ seq * 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < klen; i++)
        h = (h ^ key[i]) * 0x100000001b3ull;
    h ^= h >> 29;
    return h * 0xbf58476d1ce4e5b9ull;
}

/* Write the value for (key, seq) into buf (>= ST_MT_MAX_DERIVED_VLEN bytes); returns its length
 * (0 for some entries, so empty values are covered). */
static inline size_t
st_mt_fill_value(uint8_t *buf, const uint8_t *key, size_t klen, uint64_t seq)
{
    uint64_t h = st_mt_hash(key, klen, seq);
    size_t n = (size_t)(h % (ST_MT_MAX_DERIVED_VLEN + 1));
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)((h >> ((i % 8) * 8)) + i);
    return n;
}

static inline int
st_mt_value_ok(const uint8_t *key, size_t klen, uint64_t seq, const uint8_t *val, size_t vlen)
{
    uint8_t want[ST_MT_MAX_DERIVED_VLEN];
    size_t n = st_mt_fill_value(want, key, klen, seq);
    if (n != vlen)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (val[i] != want[i])
            return 0;
    return 1;
}

#endif
