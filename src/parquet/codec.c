/* SPDX-License-Identifier: Apache-2.0 */
/* codec.c -- page compression and the split block bloom filter. */
#include "parquet/codec.h"

#include "parquet/parquet.h"
#include "util/coding.h"
#include "util/status.h"

#include <limits.h>
#include <lz4.h>
#include <pthread.h>
#include <snappy-c.h>
#include <string.h>
#include <xxhash.h>
#include <zstd.h>

int
st_pq_codec_readable(int codec)
{
    return codec == ST_PQ_UNCOMPRESSED || codec == ST_PQ_SNAPPY || codec == ST_PQ_ZSTD ||
           codec == ST_PQ_LZ4_RAW || codec == ST_PQ_LZ4;
}

int
st_pq_compressor_init(st_pq_compressor *c, int codec, int level)
{
    c->codec = codec;
    c->level = level;
    c->zctx = NULL;
    if (codec == ST_PQ_LZ4)
        return st_err(STRATA_NOTSUP, "compression codec LZ4 (Hadoop framing, deprecated) is "
                                     "read-only: write LZ4_RAW instead");
    if (!st_pq_codec_readable(codec))
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
    case ST_PQ_LZ4_RAW: {
        if (n > LZ4_MAX_INPUT_SIZE)
            return st_err(STRATA_INVALID, "lz4: page of %zu bytes exceeds LZ4_MAX_INPUT_SIZE", n);
        int cap = LZ4_compressBound((int)n);
        ST_RET(st_buf_reserve(out, (size_t)cap));
        int r = LZ4_compress_default((const char *)src, (char *)out->data + out->len, (int)n, cap);
        if (r <= 0)
            return st_err(STRATA_INTERNAL, "LZ4_compress_default failed on %zu bytes", n);
        out->len += (size_t)r;
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

/* One LZ4 block of exactly dst_len bytes: 0, or -1 when the block is damaged or decodes to another
 * size. LZ4_decompress_safe reads only src[0, n) and writes only dst[0, dst_len). */
static int
lz4_block(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len)
{
    if (n > INT_MAX || dst_len > INT_MAX)
        return -1;
    int r = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)dst_len);
    return r >= 0 && (size_t)r == dst_len ? 0 : -1;
}

/* Codec LZ4 as Hadoop writes it: blocks of [uncompressed size, compressed size] (big-endian
 * 32-bit each) followed by that many bytes of one LZ4 block. 0 when src is such a sequence that
 * fills exactly dst_len bytes, else -1. */
static int
lz4_hadoop(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len)
{
    size_t i = 0, o = 0;
    while (n - i >= 8) {
        uint64_t h = st_get_be64(src + i);
        size_t ulen = (size_t)(h >> 32), clen = (size_t)(uint32_t)h;
        i += 8;
        if (clen > n - i || ulen > dst_len - o || lz4_block(src + i, clen, dst + o, ulen) != 0)
            return -1;
        i += clen;
        o += ulen;
    }
    return i == n && o == dst_len ? 0 : -1;
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
    case ST_PQ_LZ4_RAW:
        if (lz4_block(src, n, dst, dst_len) != 0)
            return st_err(STRATA_CORRUPT, "lz4_raw page: damaged block or not %zu bytes", dst_len);
        return STRATA_OK;
    case ST_PQ_LZ4:
        /* Like Arrow: the Hadoop framing, else a bare block (what older writers produced). */
        if (lz4_hadoop(src, n, dst, dst_len) != 0 && lz4_block(src, n, dst, dst_len) != 0)
            return st_err(STRATA_CORRUPT,
                          "lz4 page: neither Hadoop-framed nor a bare block of "
                          "%zu bytes",
                          dst_len);
        return STRATA_OK;
    default:
        return st_err(STRATA_NOTSUP, "unsupported compression codec %d", codec);
    }
}

int
st_pq_decompress_prefix(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                        size_t want, size_t *got)
{
    *got = 0;
    if (codec != ST_PQ_LZ4_RAW || want >= dst_len) {
        ST_RET(st_pq_decompress(codec, src, n, dst, dst_len));
        *got = dst_len;
        return STRATA_OK;
    }
    /* LZ4 stops at the first sequence that reaches want; it never writes past dst_len */
    if (n > INT_MAX || dst_len > INT_MAX)
        return st_err(STRATA_CORRUPT, "lz4_raw page: too large");
    int r = LZ4_decompress_safe_partial((const char *)src, (char *)dst, (int)n, (int)want,
                                        (int)dst_len);
    if (r < 0 || (size_t)r < want)
        return st_err(STRATA_CORRUPT, "lz4_raw page: damaged block or shorter than %zu bytes",
                      want);
    *got = (size_t)r;
    return STRATA_OK;
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
