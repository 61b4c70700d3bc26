/* SPDX-License-Identifier: Apache-2.0 */
/*
 * page_walk.h -- finding the pages of a Parquet file without its footer (for salvage).
 *
 * st_pq_page_walk reads the bytes of a file as the sequence of pages a writer put there: from
 * `start` (4, after "PAR1") it decodes a PageHeader, checks the page CRC over the stored bytes
 * after it and steps over them to the next header. Where no page can be found (damaged or
 * truncated bytes, or the bloom filters, page indexes and footer after the last page) it scans
 * forward byte by byte for the next header whose CRC verifies, and reports the bytes it skipped
 * as a gap. It knows nothing about what the pages hold; the caller interprets them.
 *
 * Thread safety: none needed (a pure function over caller-owned memory).
 */
#ifndef ST_PARQUET_PAGE_WALK_H
#define ST_PARQUET_PAGE_WALK_H

#include "parquet/parquet.h"

#include <stddef.h>
#include <stdint.h>

enum {
    /* A header that decodes, followed by its compressed_size stored bytes; their CRC matched
     * (verified = 1), or the header has none (verified = 0: only when pages without CRC are
     * accepted). */
    ST_PQ_WALK_PAGE = 0,
    /* A header that decodes whose stored bytes fail their CRC, but the next page starts
     * exactly where the header says this one ends and no page whose CRC verifies starts inside
     * the span it claims: the payload is damaged, the header (page type, encoding, value
     * count) is probably right. Otherwise the span is reported as a gap. */
    ST_PQ_WALK_BAD_CRC = 1,
    /* Bytes [off, end) where no page could be found. */
    ST_PQ_WALK_GAP = 2
};

typedef struct st_pq_walk_item {
    int kind;
    uint64_t off;           /* header offset (gap: first byte) */
    uint64_t end;           /* offset after the page's stored bytes (gap: after its last byte) */
    st_pq_page_header h;    /* PAGE, BAD_CRC */
    const uint8_t *payload; /* PAGE, BAD_CRC: the h.compressed_size stored bytes */
    int verified;           /* PAGE: the CRC was present and matched */
} st_pq_walk_item;

/* Called for every item in file order; a non-OK return stops the walk with that code. */
typedef int (*st_pq_walk_fn)(void *arg, const st_pq_walk_item *it);

/*
 * st_pq_page_walk --
 *     Walk the n bytes at p (a whole file) from offset start to the end, calling fn for each
 *     page and gap. require_crc: a header without a CRC counts as no page (pages found by
 *     scanning after a gap always need a matching CRC). Returns STRATA_OK or fn's error.
 */
int st_pq_page_walk(const uint8_t *p, size_t n, size_t start, int require_crc, st_pq_walk_fn fn,
                    void *arg);

#endif
