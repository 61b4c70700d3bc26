/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_format.h -- constants shared by the sst builder, reader and verifier (internal to
 * src/sst). The format itself is described in doc/format_sst.md.
 */
#ifndef ST_SST_SST_FORMAT_H
#define ST_SST_SST_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define ST_SST_FORMAT_VERSION 1
/* The version of a table holding range tombstones (its last row group, doc/format_sst.md). */
#define ST_SST_FORMAT_VERSION_RANGE 2
#define ST_SST_NCOLS 4
enum { ST_SST_COL_KEY = 0, ST_SST_COL_VALUE = 1, ST_SST_COL_SEQNO = 2, ST_SST_COL_KIND = 3 };

/*
 * Pages of all columns are cut at the same rows once the page's row bytes reach page_size: per
 * row 4 + key length + 4 + value length (the PLAIN/DELTA framing) + this estimate of the seqno,
 * kind and level bytes.
 */
#define ST_SST_ROW_EXTRA 4

/*
 * Statistics / column index bounds for values are truncated to ST_SST_STAT_SHORT bytes (they
 * are repeated in every page header and ColumnIndex entry); an upper bound whose short prefix is
 * all 0xFF uses up to ST_SST_STAT_TRUNC bytes, and none exists past that.
 */
#define ST_SST_STAT_SHORT 16
#define ST_SST_STAT_TRUNC 64

/* Footer keys. */
#define ST_SST_KV_PREFIX "strata."
#define ST_SST_KV_VERSION "strata.format_version"
#define ST_SST_KV_SMALLEST "strata.smallest_key"
#define ST_SST_KV_LARGEST "strata.largest_key"
#define ST_SST_KV_MIN_SEQ "strata.min_seqno"
#define ST_SST_KV_MAX_SEQ "strata.max_seqno"
#define ST_SST_KV_ENTRIES "strata.entries"
#define ST_SST_KV_TOMBSTONES "strata.tombstones"
#define ST_SST_KV_CREATED "strata.created_us"
/* Rows of kind 2 (range tombstones), all in the last row group; absent = 0. */
#define ST_SST_KV_RANGE_TOMBSTONES "strata.range_tombstones"
/* CRC-32C of the bytes [index_offset, footer start): bloom filters + page indexes. */
#define ST_SST_KV_INDEX_OFF "strata.index_offset"
#define ST_SST_KV_INDEX_CRC "strata.index_crc32c"

extern const char *const st_sst_col_names[ST_SST_NCOLS];

/* Lowercase hex of n bytes into out (2n + 1 bytes, NUL-terminated). */
void st_sst_hex(const uint8_t *p, size_t n, char *out);
/* Parse lowercase/uppercase hex; returns -1 on bad input, else the byte count (out has room
 * for n / 2 bytes). */
long st_sst_unhex(const uint8_t *p, size_t n, uint8_t *out);

#endif
