/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_parquet_meta.c -- libFuzzer target for the table-driven Thrift metadata decoder
 * (src/parquet/meta_decode.c, thrift_desc.c).
 *
 * Input: 1 selector byte (value % 5: FileMetaData, PageHeader, OffsetIndex, ColumnIndex,
 * BloomFilterHeader), then the Thrift compact bytes. Checks: only OK / CORRUPT / NOTSUP / NOMEM,
 * a detail message on failure; a decoded page header reports at most the input as used and,
 * re-encoded, decodes to the same header; a decoded footer re-encodes and decodes to the same
 * counts; an offset index round-trips.
 * Seeds: tests/fuzz/corpus/parquet_meta/ (headers and footers made by strata's encoders).
 */
#include "parquet/parquet.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_parquet_meta: %s:%d: check failed: %s (%s)\n", __FILE__,         \
                    __LINE__, #cond, st_errmsg());                                                 \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static void
check_rc(int rc)
{
    CHECK(rc == STRATA_OK || rc == STRATA_CORRUPT || rc == STRATA_NOTSUP || rc == STRATA_NOMEM);
    CHECK(rc == STRATA_OK || st_errmsg()[0] != '\0');
}

static void
page_header(const uint8_t *p, size_t n)
{
    st_pq_page_header h, h2;
    size_t used = 0;
    int rc = st_pq_decode_page_header(p, n, "fuzz", 0, &h, &used);
    check_rc(rc);
    if (rc != STRATA_OK)
        return;
    CHECK(used <= n);
    if (h.type != ST_PQ_DATA_PAGE && h.type != ST_PQ_DICTIONARY_PAGE &&
        h.type != ST_PQ_DATA_PAGE_V2)
        return;
    st_buf b;
    st_buf_init(&b);
    if (st_pq_encode_page_header(&b, &h) == STRATA_OK) {
        CHECK(st_pq_decode_page_header(b.data, b.len, "again", 0, &h2, &used) == STRATA_OK);
        CHECK(used == b.len);
        CHECK(h2.type == h.type && h2.compressed_size == h.compressed_size &&
              h2.uncompressed_size == h.uncompressed_size && h2.has_crc == h.has_crc);
        if (h.type == ST_PQ_DICTIONARY_PAGE)
            CHECK(h2.dict_num_values == h.dict_num_values);
        else
            CHECK(h2.num_values == h.num_values && h2.has_stats == h.has_stats);
    }
    st_buf_free(&b);
}

static void
file_meta(const uint8_t *p, size_t n, st_arena *a)
{
    st_pq_file_meta m, m2;
    int rc = st_pq_decode_file_meta(p, n, a, "fuzz", 0, &m);
    check_rc(rc);
    if (rc != STRATA_OK)
        return;
    st_buf b;
    st_buf_init(&b);
    if (st_pq_encode_file_meta(&b, &m) == STRATA_OK) {
        CHECK(st_pq_decode_file_meta(b.data, b.len, a, "again", 0, &m2) == STRATA_OK);
        CHECK(m2.nschema == m.nschema && m2.nrow_groups == m.nrow_groups &&
              m2.num_rows == m.num_rows && m2.nkv == m.nkv);
        for (uint32_t g = 0; g < m.nrow_groups; g++)
            CHECK(m2.row_groups[g].ncolumns == m.row_groups[g].ncolumns &&
                  m2.row_groups[g].num_rows == m.row_groups[g].num_rows);
    }
    st_buf_free(&b);
}

static void
offset_index(const uint8_t *p, size_t n, st_arena *a)
{
    st_pq_offset_index oi, oi2;
    int rc = st_pq_decode_offset_index(p, n, a, "fuzz", 0, &oi);
    check_rc(rc);
    if (rc != STRATA_OK)
        return;
    st_buf b;
    st_buf_init(&b);
    if (st_pq_encode_offset_index(&b, &oi) == STRATA_OK) {
        CHECK(st_pq_decode_offset_index(b.data, b.len, a, "again", 0, &oi2) == STRATA_OK);
        CHECK(oi2.npages == oi.npages);
        for (uint32_t i = 0; i < oi.npages; i++)
            CHECK(memcmp(&oi2.pages[i], &oi.pages[i], sizeof(oi.pages[i])) == 0);
    }
    st_buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    st_arena *a = st_arena_new(4096);
    if (!a)
        return 0;
    switch (data[0] % 5) {
    case 0:
        file_meta(p, n, a);
        break;
    case 1:
        page_header(p, n);
        break;
    case 2:
        offset_index(p, n, a);
        break;
    case 3: {
        st_pq_column_index ci;
        check_rc(st_pq_decode_column_index(p, n, a, "fuzz", 0, &ci));
        break;
    }
    default: {
        st_pq_bloom_header h;
        size_t used = 0;
        int rc = st_pq_decode_bloom_header(p, n, "fuzz", 0, &h, &used);
        check_rc(rc);
        CHECK(rc != STRATA_OK || used <= n);
        break;
    }
    }
    st_arena_free(a);
    return 0;
}
