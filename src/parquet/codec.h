/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.h -- page compression (ZSTD, LZ4_RAW, SNAPPY, none) with the Parquet codec ids, and the
 * split block bloom filter. Codec LZ4 (the deprecated Hadoop-framed one) is read, never written.
 *
 * A compressor keeps a reusable ZSTD context: one per writer, single-threaded. Decompression is
 * thread-safe (a per-thread ZSTD context is kept and freed at thread exit).
 */
#ifndef ST_PARQUET_CODEC_H
#define ST_PARQUET_CODEC_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct st_pq_compressor {
    int codec; /* ST_PQ_UNCOMPRESSED / ST_PQ_SNAPPY / ST_PQ_ZSTD / ST_PQ_LZ4_RAW */
    int level;
    void *zctx; /* ZSTD_CCtx, created lazily */
} st_pq_compressor;

/* 1 when st_pq_decompress can read pages of this Parquet codec id, else 0. */
int st_pq_codec_readable(int codec);
/* codec: a Parquet codec id this module writes; others (and LZ4) give STRATA_NOTSUP. level: zstd
 * only. */
int st_pq_compressor_init(st_pq_compressor *c, int codec, int level);
void st_pq_compressor_free(st_pq_compressor *c);
/* Append the compressed form of src to out. */
int st_pq_compress(st_pq_compressor *c, const uint8_t *src, size_t n, st_buf *out);
/* Decompress exactly dst_len bytes; any size mismatch or codec error is STRATA_CORRUPT. */
int st_pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len);

/*
 * Decompress at least the first min(want, dst_len) bytes of a page of dst_len bytes into dst
 * (capacity dst_len); *got = how many are valid. Only LZ4_RAW stops early (its sequences can be
 * decoded up to any point); the other codecs decompress everything (*got = dst_len). Errors as
 * st_pq_decompress; damage after the decoded prefix may go unnoticed (the page CRC covers it).
 */
int st_pq_decompress_prefix(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len,
                            size_t want, size_t *got);

/* ---- split block bloom filter (Parquet BloomFilter.md) -------------------------------------- */
#define ST_PQ_BLOOM_MIN_BYTES 32u
#define ST_PQ_BLOOM_MAX_BYTES (128u * 1024u * 1024u)

/* Bitset size for ndv distinct values at bits_per_key: a power of two in [32, 128 MiB]. */
size_t st_pq_bloom_bytes(uint64_t ndv, int bits_per_key);
uint64_t st_pq_bloom_hash(const void *p, size_t n); /* XXH64 seed 0 */
/* nbytes: a multiple of 32. */
void st_pq_bloom_insert(uint8_t *bits, size_t nbytes, uint64_t hash);
int st_pq_bloom_check(const uint8_t *bits, size_t nbytes, uint64_t hash);

#endif
