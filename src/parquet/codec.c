/* SPDX-License-Identifier: Apache-2.0 */
/* codec.c -- page compression and the split block bloom filter. */
#include "parquet/codec.h"

#include "parquet/parquet.h"
#include "util/coding.h"
#include "util/status.h"

#include <pthread.h>
#include <snappy-c.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

int
st_pq_compressor_init(st_pq_compressor *c, int codec, int level)
{
    c->codec = codec;
    c->level = level;
    c->zctx = NULL;
    if (codec != ST_PQ_UNCOMPRESSED && codec != ST_PQ_SNAPPY && codec != ST_PQ_ZSTD)
        return st_err(STRATA_NOTSUP, "unsupported compression codec %d", codec);
    return STRATA_OK;
}

void
st_pq_compressor_free(st_pq_compressor *c)
{
    if (c->zctx)
        ZSTD_freeCCtx(c->zctx);
    c->zctx = NULL;
}

int
st_pq_compress(st_pq_compressor *c, const uint8_t *src, size_t n, st_buf *out)
{
    switch (c->codec) {
    case ST_PQ_UNCOMPRESSED:
        return st_buf_append(out, src, n);
    case ST_PQ_SNAPPY: {
        size_t cap = snappy_max_compressed_length(n);
        ST_RET(st_buf_reserve(out, cap));
        if (snappy_compress((const char *)src, n, (char *)out->data + out->len, &cap) != SNAPPY_OK)
            return st_err(STRATA_INTERNAL, "snappy_compress failed");
        out->len += cap;
        return STRATA_OK;
    }
    case ST_PQ_ZSTD: {
        if (!c->zctx && !(c->zctx = ZSTD_createCCtx()))
            return st_err(STRATA_NOMEM, "ZSTD_createCCtx");
        size_t cap = ZSTD_compressBound(n);
        ST_RET(st_buf_reserve(out, cap));
        size_t r = ZSTD_compressCCtx(c->zctx, out->data + out->len, cap, src, n, c->level);
        if (ZSTD_isError(r))
            return st_err(STRATA_INTERNAL, "zstd compress: %s", ZSTD_getErrorName(r));
        out->len += r;
        return STRATA_OK;
    }
    default:
        return st_err(STRATA_NOTSUP, "unsupported compression codec %d", c->codec);
    }
}

static pthread_key_t dctx_key;
static pthread_once_t dctx_once = PTHREAD_ONCE_INIT;
static int dctx_key_ok;

static void
free_dctx(void *p)
{
    ZSTD_freeDCtx(p);
}

static void
make_key(void)
{
    dctx_key_ok = pthread_key_create(&dctx_key, free_dctx) == 0;
}

static ZSTD_DCtx *
thread_dctx(int *owned)
{
    pthread_once(&dctx_once, make_key);
    *owned = 0;
    if (dctx_key_ok) {
        ZSTD_DCtx *d = pthread_getspecific(dctx_key);
        if (d)
            return d;
        d = ZSTD_createDCtx();
        if (d && pthread_setspecific(dctx_key, d) == 0)
            return d;
        if (d)
            ZSTD_freeDCtx(d);
    }
    *owned = 1;
    return ZSTD_createDCtx();
}

int
st_pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len)
{
    switch (codec) {
    case ST_PQ_UNCOMPRESSED:
        if (n != dst_len)
            return st_err(STRATA_CORRUPT, "uncompressed page: size %zu != %zu", n, dst_len);
        if (n)
            memcpy(dst, src, n);
        return STRATA_OK;
    case ST_PQ_SNAPPY: {
        size_t len = 0;
        if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK || len != dst_len)
            return st_err(STRATA_CORRUPT, "snappy page: bad uncompressed length");
        if (snappy_uncompress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK ||
            len != dst_len)
            return st_err(STRATA_CORRUPT, "snappy page: decompression failed");
        return STRATA_OK;
    }
    case ST_PQ_ZSTD: {
        unsigned long long fs = ZSTD_getFrameContentSize(src, n);
        if (fs != ZSTD_CONTENTSIZE_UNKNOWN && fs != dst_len)
            return st_err(STRATA_CORRUPT, "zstd page: frame size %llu != %zu", fs, dst_len);
        int owned;
        ZSTD_DCtx *d = thread_dctx(&owned);
        if (!d)
            return st_err(STRATA_NOMEM, "ZSTD_createDCtx");
        size_t r = ZSTD_decompressDCtx(d, dst, dst_len, src, n);
        if (owned)
            ZSTD_freeDCtx(d);
        if (ZSTD_isError(r) || r != dst_len)
            return st_err(STRATA_CORRUPT, "zstd page: %s",
                          ZSTD_isError(r) ? ZSTD_getErrorName(r) : "short output");
        return STRATA_OK;
    }
    default:
        return st_err(STRATA_NOTSUP, "unsupported compression codec %d", codec);
    }
}

/* ---- bloom ---------------------------------------------------------------------------------- */

static const uint32_t SALT[8] = {0x47b6137bu, 0x44974d91u, 0x8824ad5bu, 0xa2b7289du,
                                 0x705495c7u, 0x2df1424bu, 0x9efc4947u, 0x5c6bfb31u};

size_t
st_pq_bloom_bytes(uint64_t ndv, int bits_per_key)
{
    double bits = (double)ndv * (bits_per_key > 0 ? bits_per_key : 0);
    size_t want = (size_t)(bits / 8.0 + 0.999);
    size_t n = ST_PQ_BLOOM_MIN_BYTES;
    while (n < want && n < ST_PQ_BLOOM_MAX_BYTES)
        n <<= 1;
    return n;
}

uint64_t
st_pq_bloom_hash(const void *p, size_t n)
{
    return XXH64(p, n, 0);
}

void
st_pq_bloom_insert(uint8_t *bits, size_t nbytes, uint64_t h)
{
    uint64_t z = nbytes / 32;
    uint32_t blk = (uint32_t)(((h >> 32) * z) >> 32);
    uint32_t x = (uint32_t)h;
    uint8_t *b = bits + (size_t)blk * 32;
    for (int i = 0; i < 8; i++) {
        uint32_t w = st_get_fixed32(b + 4 * i);
        w |= 1u << ((uint32_t)(x * SALT[i]) >> 27);
        st_put_fixed32(b + 4 * i, w);
    }
}

int
st_pq_bloom_check(const uint8_t *bits, size_t nbytes, uint64_t h)
{
    uint64_t z = nbytes / 32;
    if (z == 0)
        return 1;
    uint32_t blk = (uint32_t)(((h >> 32) * z) >> 32);
    uint32_t x = (uint32_t)h;
    const uint8_t *b = bits + (size_t)blk * 32;
    for (int i = 0; i < 8; i++) {
        uint32_t w = st_get_fixed32(b + 4 * i);
        if (!(w & (1u << ((uint32_t)(x * SALT[i]) >> 27))))
            return 0;
    }
    return 1;
}
