/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_parquet_page.c -- libFuzzer target for page decoding (src/parquet): page header, CRC,
 * decompression, definition levels and every value encoding (PLAIN, dictionary, RLE,
 * DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY), v1 and v2 pages.
 *
 * Input: 1 selector byte (bits 0-1: physical type BYTE_ARRAY/INT32/INT64; bit 2: OPTIONAL;
 * bits 3-4: codec none/snappy/zstd/lz4_raw, bit 6 turning lz4_raw into the Hadoop-framed lz4;
 * bit 5: skip CRC checks so mutations reach the decoders),
 * then pages back to back (header + payload). A dictionary page is remembered for the data pages
 * after it, as in a column chunk. Checks: only OK / CORRUPT / NOTSUP / NOMEM; a decoded page has
 * exactly the announced number of values, offsets that are monotone and inside the data, and
 * nulls only in an OPTIONAL column.
 * Seeds: tests/fuzz/corpus/parquet_page/ (pages of real strata tables and hand-made v2/dictionary
 * pages).
 */
#include "parquet/page.h"
#include "parquet/parquet.h"
#include "util/status.h"

#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_parquet_page: %s:%d: check failed: %s (%s)\n", __FILE__,         \
                    __LINE__, #cond, st_errmsg());                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void
check_page(const st_pq_column_desc *c, const st_pq_page_header *h, const st_pq_page *pg)
{
    size_t want = (size_t)(h->type == ST_PQ_DICTIONARY_PAGE ? h->dict_num_values : h->num_values);
    CHECK(pg->n == want);
    CHECK(pg->type == c->type);
    CHECK(c->max_def > 0 || pg->nulls == NULL);
    if (c->type == ST_PQ_BYTE_ARRAY) {
        CHECK(pg->offs != NULL && pg->offs[0] == 0);
        for (uint32_t i = 0; i < pg->n; i++)
            CHECK(pg->offs[i] <= pg->offs[i + 1]);
        if (pg->offs[pg->n] > 0)
            CHECK(pg->data != NULL &&
                  pg->data[pg->offs[pg->n] - 1] == pg->data[pg->offs[pg->n] - 1]);
    } else {
        CHECK(pg->ints != NULL || pg->n == 0);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const int types[4] = {ST_PQ_BYTE_ARRAY, ST_PQ_INT32, ST_PQ_INT64, ST_PQ_BYTE_ARRAY};
    static const int codecs[4] = {ST_PQ_UNCOMPRESSED, ST_PQ_SNAPPY, ST_PQ_ZSTD, ST_PQ_LZ4_RAW};
    if (size < 1)
        return 0;
    int codec = codecs[(data[0] >> 3) & 3];
    if (codec == ST_PQ_LZ4_RAW && (data[0] >> 6) & 1)
        codec = ST_PQ_LZ4;
    st_pq_column_desc c = {types[data[0] & 3], (data[0] >> 2) & 1, codec, !((data[0] >> 5) & 1)};
    size_t off = 1;
    st_pq_page *dict = NULL;
    for (int pages = 0; off < size && pages < 8; pages++) {
        st_pq_page_header h;
        size_t used = 0;
        int rc = st_pq_decode_page_header(data + off, size - off, "fuzz", off, &h, &used);
        CHECK(rc == STRATA_OK || rc == STRATA_CORRUPT || rc == STRATA_NOMEM);
        if (rc != STRATA_OK || (size_t)h.compressed_size > size - off - used)
            break;
        st_pq_page *pg = NULL;
        rc = st_pq_page_decode(&c, &h, data + off + used, dict, "fuzz", off, &pg);
        CHECK(rc == STRATA_OK || rc == STRATA_CORRUPT || rc == STRATA_NOTSUP || rc == STRATA_NOMEM);
        CHECK((rc == STRATA_OK) == (pg != NULL));
        if (pg) {
            check_page(&c, &h, pg);
            if (h.type == ST_PQ_DICTIONARY_PAGE) {
                st_pq_page_free(dict);
                dict = pg;
            } else {
                st_pq_page_free(pg);
            }
        }
        off += used + (size_t)h.compressed_size;
    }
    st_pq_page_free(dict);
    return 0;
}
