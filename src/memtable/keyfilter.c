/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keyfilter.c -- blocked bloom filter of a memtable's keys (see keyfilter.h).
 *
 * Each key maps to one 64-byte block (the high half of its 64-bit hash) and sets ST_KF_PROBES
 * bits in it by double hashing (bit i = the top nine bits of a + i * b, from the low half and a
 * scrambled high half). With about eight bits per key the false-positive rate is a few percent,
 * and a probe reads a single cache line.
 */
#include "memtable/keyfilter.h"

#include "util/alloc.h"
#include "util/status.h"

#include <xxhash.h>

#define ST_KF_PROBES 5
#define ST_KF_BYTES_PER_FILTER_BYTE 64
#define ST_KF_MAX_BYTES ((size_t)64 << 20)

int
st_keyfilter_init(st_keyfilter *f, size_t bytes)
{
    f->words = NULL;
    f->nblocks = 0;
    if (bytes == 0)
        return STRATA_OK;
    size_t fbytes = bytes / ST_KF_BYTES_PER_FILTER_BYTE;
    if (fbytes > ST_KF_MAX_BYTES)
        fbytes = ST_KF_MAX_BYTES;
    uint64_t nblocks = fbytes / 64 ? fbytes / 64 : 1;
    f->words = st_calloc(nblocks * 8, sizeof(*f->words));
    if (!f->words)
        return st_err(STRATA_NOMEM, "memtable: out of memory for a %llu-byte key filter",
                      (unsigned long long)(nblocks * 64));
    f->nblocks = nblocks;
    return STRATA_OK;
}

void
st_keyfilter_free(st_keyfilter *f)
{
    st_free(f->words);
    f->words = NULL;
    f->nblocks = 0;
}

size_t
st_keyfilter_memory(const st_keyfilter *f)
{
    return (size_t)f->nblocks * 64;
}

/* The key's block and the two hashes of its probes. */
static _Atomic uint64_t *
block_of(const st_keyfilter *f, const uint8_t *key, size_t klen, uint32_t *a, uint32_t *b)
{
    uint64_t h = XXH3_64bits(key, klen);
    *a = (uint32_t)h;
    *b = ((uint32_t)(h >> 32) * 0x9E3779B9u) | 1u;
    /* multiply-shift: the high half spread over [0, nblocks) without a division */
    uint64_t blk = ((h >> 32) * f->nblocks) >> 32;
    return f->words + blk * 8;
}

void
st_keyfilter_add(st_keyfilter *f, const uint8_t *key, size_t klen)
{
    if (!f->words)
        return;
    uint32_t a, b;
    _Atomic uint64_t *w = block_of(f, key, klen, &a, &b);
    /* one writer: a relaxed load and store per word, no locked read-modify-write (the masks
     * are gathered first, so each of the block's eight words is written at most once) */
    uint64_t m[8] = {0};
    for (int i = 0; i < ST_KF_PROBES; i++, a += b) {
        unsigned bit = a >> 23;
        m[bit >> 6] |= (uint64_t)1 << (bit & 63);
    }
    for (int j = 0; j < 8; j++)
        if (m[j])
            atomic_store_explicit(&w[j], atomic_load_explicit(&w[j], memory_order_relaxed) | m[j],
                                  memory_order_relaxed);
}

int
st_keyfilter_may_contain(const st_keyfilter *f, const uint8_t *key, size_t klen)
{
    if (!f->words)
        return 1;
    uint32_t a, b;
    _Atomic uint64_t *w = block_of(f, key, klen, &a, &b);
    for (int i = 0; i < ST_KF_PROBES; i++, a += b) {
        unsigned bit = a >> 23;
        if (!(atomic_load_explicit(&w[bit >> 6], memory_order_relaxed) &
              ((uint64_t)1 << (bit & 63))))
            return 0;
    }
    return 1;
}
