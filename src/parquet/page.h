/* SPDX-License-Identifier: Apache-2.0 */
/*
 * page.h -- decoding one Parquet page (v1/v2 data pages, dictionary pages) of a flat column
 * into row-indexed arrays, and framing pages for writing.
 *
 * A decoded st_pq_page is immutable and self-contained (one owner; the sst layer stores it in
 * the page cache, so it may be read by many threads once built). Errors: STRATA_CORRUPT for
 * malformed bytes (CRC mismatch, bad levels/values, size mismatches), STRATA_NOTSUP for valid
 * Parquet outside the supported profile, STRATA_NOMEM. The message names `what` and the file
 * offset of the page.
 */
#ifndef ST_PARQUET_PAGE_H
#define ST_PARQUET_PAGE_H

#include "parquet/codec.h"
#include "parquet/parquet.h"

#include <stddef.h>
#include <stdint.h>

/* Upper bound on values in one page and on a page's uncompressed size. */
#define ST_PQ_MAX_PAGE_VALUES ((size_t)1 << 24)
#define ST_PQ_MAX_PAGE_BYTES ((size_t)1 << 30)

typedef struct st_pq_column_desc {
    int type;       /* ST_PQ_BYTE_ARRAY, ST_PQ_INT32 or ST_PQ_INT64 */
    int max_def;    /* 0 (REQUIRED) or 1 (OPTIONAL) */
    int codec;      /* chunk codec */
    int verify_crc; /* check PageHeader.crc when present */
} st_pq_column_desc;

/*
 * A decoded page is one allocation (this struct followed by its offsets / integers / nulls) plus,
 * for byte arrays, one data buffer (for PLAIN pages: the decompressed page itself with the length
 * prefixes squeezed out; for DELTA pages: the reconstructed values back to back). mem is the
 * true heap size of both, for cache charging.
 */
typedef struct st_pq_page {
    uint32_t n;     /* values (= rows for a flat column) */
    int type;       /* physical type */
    uint8_t *nulls; /* n bytes, 1 = null; NULL when the page has no null */
    int64_t *ints;  /* INT32/INT64: n values (0 where null) */
    uint32_t *offs; /* BYTE_ARRAY: n + 1 offsets into data (equal for nulls), offs[0] = 0 */
    uint8_t *data;  /* BYTE_ARRAY bytes (owned; NULL when there are none) */
    size_t mem;     /* bytes allocated, for cache charging */
    size_t unread;  /* PLAIN BYTE_ARRAY: payload bytes after the last value (0 when well formed;
                       more shows a page header whose value count is too small) */
} st_pq_page;

void st_pq_page_free(st_pq_page *pg); /* NULL is a no-op */

/*
 * st_pq_page_decode --
 *     Decode the payload of a page whose header is h (payload = the h->compressed_size bytes
 *     after the header, stored form). dict is the chunk's decoded dictionary page (required for
 *     dictionary-encoded data pages, else may be NULL). Dictionary pages decode to a page of
 *     dict_num_values values. `what` and off (file offset of the page header) go into messages.
 */
int st_pq_page_decode(const st_pq_column_desc *c, const st_pq_page_header *h,
                      const uint8_t *payload, const st_pq_page *dict, const char *what,
                      uint64_t off, st_pq_page **out);

/*
 * A value reader: values of one stored page (a v1 data page of a flat BYTE_ARRAY column in PLAIN
 * encoding) read without decoding the page. Open checks the CRC (as st_pq_page_decode), then
 * decompresses into buf only as far as row `row` likely needs (LZ4_RAW; other codecs whole) and
 * decodes the definition levels; get walks the length prefixes to a row (forward from the last
 * row asked for, else from the start), decompressing the rest on demand. buf and payload are
 * borrowed and must outlive the reader; values returned point into them and stay valid until the
 * reader is opened again on buf. No close: the reader owns nothing.
 */
typedef struct st_pq_value_reader {
    st_pq_column_desc c;
    uint32_t n; /* rows */
    const uint8_t *payload;
    size_t clen, ulen;
    st_buf *buf;
    const uint8_t *d;     /* the decompressed page (buf->data, or payload when uncompressed) */
    size_t have;          /* valid bytes of d */
    const uint8_t *nulls; /* per row, 1 = null; NULL when REQUIRED */
    size_t start;         /* offset of the first value in d */
    uint32_t row;         /* the walk: row `row`'s value starts at pos */
    size_t pos;
    const char *what;
    uint64_t off;
} st_pq_value_reader;

/* *handled = 0 (and nothing read) when the page is not of the form above. CORRUPT, NOMEM. */
int st_pq_value_reader_open(st_pq_value_reader *vr, const st_pq_column_desc *c,
                            const st_pq_page_header *h, const uint8_t *payload, uint32_t row,
                            st_buf *buf, const char *what, uint64_t off, int *handled);
/* The value of row (< the page's rows): *v / *vlen, or *is_null. CORRUPT, NOMEM. */
int st_pq_value_reader_get(st_pq_value_reader *vr, uint32_t row, const uint8_t **v, size_t *vlen,
                           int *is_null);

/*
 * st_pq_page_const_int --
 *     A page of n copies of `value` (type ST_PQ_INT32 or ST_PQ_INT64, no nulls), decoded from
 *     nothing: for a column whose every value the caller already knows. INVALID, NOMEM.
 */
int st_pq_page_const_int(int type, size_t n, int64_t value, st_pq_page **out);

/*
 * st_pq_page_frame --
 *     Build a v1 data page from its uncompressed payload: compress it into scratch, fill
 *     h->uncompressed_size / compressed_size / crc, then append the header and the stored bytes
 *     to out. *header_len receives the header size. h->type etc. are set by the caller.
 */
int st_pq_page_frame(st_pq_compressor *comp, st_pq_page_header *h, const uint8_t *payload, size_t n,
                     st_buf *scratch, st_buf *out, size_t *header_len);

#endif
