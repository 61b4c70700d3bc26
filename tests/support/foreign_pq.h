/* SPDX-License-Identifier: Apache-2.0 */
/*
 * foreign_pq.h -- write a minimal "foreign" Parquet table (header-only test helper): strata's
 * schema (key, value OPTIONAL, seqno, kind), one row group, one PLAIN v1 uncompressed page per
 * column, true key min/max statistics and no strata.* metadata, with rows exactly as given --
 * unsorted, empty keys, bad kinds or seqnos and NULL put values included -- so tests can check
 * what the reader and strata_repair make of files other tools wrote. Links the parquet layer.
 */
#ifndef ST_TEST_FOREIGN_PQ_H
#define ST_TEST_FOREIGN_PQ_H

#include "parquet/encoding.h"
#include "parquet/page.h"
#include "parquet/parquet.h"
#include "st_test.h"
#include "util/buf.h"

#include <stdio.h>
#include <string.h>

typedef struct st_test_row {
    const char *key; /* NUL-terminated ("" = the empty key) */
    int64_t seq, kind;
    const char *val; /* NULL = a null value */
} st_test_row;

static inline void
st_test_foreign_chunk(st_buf *f, st_pq_column_chunk *cc, int type, const char *name,
                      const st_buf *payload, int32_t n)
{
    st_pq_compressor none;
    ST_ASSERT_OK(st_pq_compressor_init(&none, ST_PQ_UNCOMPRESSED, 0));
    st_pq_page_header h;
    memset(&h, 0, sizeof(h));
    h.type = ST_PQ_DATA_PAGE;
    h.num_values = n;
    h.encoding = ST_PQ_PLAIN;
    int64_t start = (int64_t)f->len;
    st_buf scratch = {0};
    size_t hl;
    ST_ASSERT_OK(st_pq_page_frame(&none, &h, payload->data, payload->len, &scratch, f, &hl));
    st_buf_free(&scratch);
    st_pq_compressor_free(&none);
    memset(cc, 0, sizeof(*cc));
    cc->meta.type = type;
    cc->meta.codec = ST_PQ_UNCOMPRESSED;
    cc->meta.encodings = (1u << ST_PQ_PLAIN) | (1u << ST_PQ_RLE);
    cc->meta.path = (st_pq_bytes){(const uint8_t *)name, (uint32_t)strlen(name)};
    cc->meta.num_values = n;
    cc->meta.total_compressed_size = cc->meta.total_uncompressed_size = (int64_t)f->len - start;
    cc->meta.dictionary_page_offset = -1;
    cc->meta.data_page_offset = start;
    cc->meta.bloom_offset = -1;
    cc->offset_index_offset = cc->column_index_offset = -1;
}

/* Write rows[0..n) (n >= 1) to path as a foreign table. */
static inline void
st_test_write_foreign(const char *path, const st_test_row *rows, int32_t n)
{
    st_buf f = {0}, p = {0};
    st_pq_column_chunk cols[4];
    ST_ASSERT_OK(st_buf_append(&f, "PAR1", 4));
    int lo = 0, hi = 0;
    for (int32_t i = 0; i < n; i++) {
        ST_ASSERT_OK(st_buf_put_fixed32(&p, (uint32_t)strlen(rows[i].key)));
        ST_ASSERT_OK(st_buf_append(&p, rows[i].key, strlen(rows[i].key)));
        lo = strcmp(rows[i].key, rows[lo].key) < 0 ? i : lo;
        hi = strcmp(rows[i].key, rows[hi].key) > 0 ? i : hi;
    }
    st_test_foreign_chunk(&f, &cols[0], ST_PQ_BYTE_ARRAY, "key", &p, n);
    cols[0].meta.has_stats = 1;
    cols[0].meta.stats = (st_pq_stats){{(const uint8_t *)rows[lo].key, strlen(rows[lo].key)},
                                       {(const uint8_t *)rows[hi].key, strlen(rows[hi].key)},
                                       0,
                                       1,
                                       1,
                                       1,
                                       1,
                                       1};
    /* value: definition levels (RLE, bit width 1, with a 4-byte length) then the values */
    st_buf_clear(&p);
    uint32_t def[256];
    ST_ASSERT(n <= 256);
    for (int32_t i = 0; i < n; i++)
        def[i] = rows[i].val != NULL;
    st_buf lv = {0};
    ST_ASSERT_OK(st_pq_rle_encode(&lv, def, (size_t)n, 1));
    ST_ASSERT_OK(st_buf_put_fixed32(&p, (uint32_t)lv.len));
    ST_ASSERT_OK(st_buf_append(&p, lv.data, lv.len));
    st_buf_free(&lv);
    for (int32_t i = 0; i < n; i++)
        if (rows[i].val) {
            ST_ASSERT_OK(st_buf_put_fixed32(&p, (uint32_t)strlen(rows[i].val)));
            ST_ASSERT_OK(st_buf_append(&p, rows[i].val, strlen(rows[i].val)));
        }
    st_test_foreign_chunk(&f, &cols[1], ST_PQ_BYTE_ARRAY, "value", &p, n);
    st_buf_clear(&p);
    for (int32_t i = 0; i < n; i++)
        ST_ASSERT_OK(st_buf_put_fixed64(&p, (uint64_t)rows[i].seq));
    st_test_foreign_chunk(&f, &cols[2], ST_PQ_INT64, "seqno", &p, n);
    st_buf_clear(&p);
    for (int32_t i = 0; i < n; i++)
        ST_ASSERT_OK(st_buf_put_fixed32(&p, (uint32_t)rows[i].kind));
    st_test_foreign_chunk(&f, &cols[3], ST_PQ_INT32, "kind", &p, n);
    st_pq_schema_elem schema[5] = {
        {-1, -1, {(const uint8_t *)"schema", 6}, 4, -1, -1},
        {ST_PQ_BYTE_ARRAY, ST_PQ_REQUIRED, {(const uint8_t *)"key", 3}, -1, -1, -1},
        {ST_PQ_BYTE_ARRAY, ST_PQ_OPTIONAL, {(const uint8_t *)"value", 5}, -1, -1, -1},
        {ST_PQ_INT64, ST_PQ_REQUIRED, {(const uint8_t *)"seqno", 5}, -1, -1, -1},
        {ST_PQ_INT32, ST_PQ_REQUIRED, {(const uint8_t *)"kind", 4}, -1, -1, -1}};
    st_pq_row_group rg = {cols, 4, (int64_t)f.len, n, 4, -1, -1, NULL, 0};
    uint8_t orders[4] = {1, 1, 1, 1};
    st_pq_file_meta fm = {2,      schema, 5, n, &rg, 1, NULL, 0, {(const uint8_t *)"test", 4},
                          orders, 4};
    size_t before = f.len;
    ST_ASSERT_OK(st_pq_encode_file_meta(&f, &fm));
    ST_ASSERT_OK(st_buf_put_fixed32(&f, (uint32_t)(f.len - before)));
    ST_ASSERT_OK(st_buf_append(&f, "PAR1", 4));
    FILE *fp = fopen(path, "wb");
    ST_ASSERT(fp && fwrite(f.data, 1, f.len, fp) == f.len && fclose(fp) == 0);
    st_buf_free(&f);
    st_buf_free(&p);
}

#endif
