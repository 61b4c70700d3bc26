/* SPDX-License-Identifier: Apache-2.0 */
/*
 * encoding.h -- Parquet value encodings: RLE/bit-packed hybrid, DELTA_BINARY_PACKED,
 * DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and PLAIN byte arrays.
 *
 * Encoders append to an st_buf (STRATA_OK / STRATA_NOMEM). Decoders read untrusted bytes
 * [p, p + len), never read outside them, and return STRATA_CORRUPT (detail message names the
 * encoding; callers prefix file/offset) when the input is short, malformed or does not hold
 * exactly the expected number of values. Pure functions, thread-safe.
 */
#ifndef ST_PARQUET_ENCODING_H
#define ST_PARQUET_ENCODING_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

/* RLE/bit-packed hybrid without length prefix; values must fit in bit_width (0..32) bits. */
int st_pq_rle_encode(st_buf *out, const uint32_t *vals, size_t n, int bit_width);
/* Decode exactly n values; *used (optional) = bytes consumed. */
int st_pq_rle_decode(const uint8_t *p, size_t len, int bit_width, uint32_t *out, size_t n,
                     size_t *used);

/*
 * DELTA_BINARY_PACKED (block 128, 4 miniblocks). is32 != 0: INT32 semantics (values are taken
 * modulo 2^32 and deltas wrap at 32 bits).
 */
int st_pq_dbp_encode(st_buf *out, const int64_t *vals, size_t n, int is32);
/* The same bytes for n copies of v, without an array of them. */
int st_pq_dbp_encode_const(st_buf *out, int64_t v, size_t n, int is32);
/* Decode; the header's total count must equal n. *used = bytes consumed. */
int st_pq_dbp_decode(const uint8_t *p, size_t len, int is32, int64_t *out, size_t n, size_t *used);
/* The value count announced by a DELTA_BINARY_PACKED header (for sizing). */
int st_pq_dbp_peek_count(const uint8_t *p, size_t len, uint64_t *count);

/*
 * Byte-array decoders: append the n values' bytes to data and set offs[i] = offset of value i
 * in data->data (offs has n + 1 entries, offs[n] = end). enc is PLAIN, DELTA_LENGTH_BYTE_ARRAY
 * or DELTA_BYTE_ARRAY. Decoded size is limited to ST_PQ_MAX_DECODED bytes.
 */
#define ST_PQ_MAX_DECODED ((size_t)1 << 30)
int st_pq_decode_byte_array(int enc, const uint8_t *p, size_t len, size_t n, st_buf *data,
                            uint32_t *offs);

/* Bit-pack n values of width bits (0..64), LSB first, appended to out (padded to a byte). */
int st_pq_bitpack(st_buf *out, const uint64_t *vals, size_t n, int width);

#endif
