/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of src/parquet: thrift compact codec, metadata, encodings, codecs, bloom, pages. */
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/page.h"
#include "parquet/page_walk.h"
#include "parquet/parquet.h"
#include "parquet/thrift.h"
#include "st_test.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/random.h"
#include "util/status.h"

#include <string.h>

#define ST_ASSERT_BYTES(p, n, ...)                                                                 \
    do {                                                                                           \
        static const uint8_t want_[] = {__VA_ARGS__};                                              \
        ST_ASSERT_MEM_EQ(p, n, want_, sizeof(want_));                                              \
    } while (0)
#define BYTES(...) ((const uint8_t[]){__VA_ARGS__}), sizeof((const uint8_t[]){__VA_ARGS__})

/* ---- thrift + metadata ---------------------------------------------------------------------- */

/* Both decoders on the same bytes: same return code, same header, same length. */
static void
same_page_header(const uint8_t *p, size_t n)
{
    st_pq_page_header a, g;
    size_t ua = 0, ug = 0;
    int ra = st_pq_decode_page_header(p, n, "t", 0, &a, &ua);
    int rg = st_pq_decode_page_header_generic(p, n, "t", 0, &g, &ug);
    ST_ASSERT_EQ(ra, rg);
    if (ra != STRATA_OK)
        return;
    ST_ASSERT_EQ(ua, ug);
    ST_ASSERT_EQ(a.type, g.type);
    ST_ASSERT_EQ(a.uncompressed_size, g.uncompressed_size);
    ST_ASSERT_EQ(a.compressed_size, g.compressed_size);
    ST_ASSERT_EQ(a.has_crc, g.has_crc);
    ST_ASSERT_EQ(a.crc, g.crc);
    ST_ASSERT_EQ(a.num_values, g.num_values);
    ST_ASSERT_EQ(a.num_nulls, g.num_nulls);
    ST_ASSERT_EQ(a.num_rows, g.num_rows);
    ST_ASSERT_EQ(a.encoding, g.encoding);
    ST_ASSERT_EQ(a.def_len, g.def_len);
    ST_ASSERT_EQ(a.rep_len, g.rep_len);
    ST_ASSERT_EQ(a.is_compressed, g.is_compressed);
    ST_ASSERT_EQ(a.has_stats, g.has_stats);
    ST_ASSERT_EQ(a.dict_num_values, g.dict_num_values);
    ST_ASSERT_EQ(a.dict_encoding, g.dict_encoding);
}

/*
 * The page header shortcut against the table-driven decoder: headers of every page type, with
 * and without crc and statistics, extreme field values, every truncation and every single-byte
 * change of each.
 */
static void
test_page_header_fast_path(void)
{
    static const int32_t vals[] = {0,     1,       63,        64, 8191,     8192,
                                   65535, 1 << 20, INT32_MAX, -1, INT32_MIN};
    st_rng rng;
    st_rng_seed(&rng, 77);
    st_buf b = {0};
    for (int i = 0; i < 400; i++) {
        st_pq_page_header h;
        memset(&h, 0, sizeof(h));
        int t = (int)(st_rng_next(&rng) % 4);
        h.type = t == 3   ? ST_PQ_DATA_PAGE
                 : t == 1 ? ST_PQ_DICTIONARY_PAGE
                 : t == 2 ? ST_PQ_DATA_PAGE_V2
                          : ST_PQ_DATA_PAGE;
        h.uncompressed_size = vals[st_rng_next(&rng) % 11];
        h.compressed_size = vals[st_rng_next(&rng) % 11];
        h.has_crc = (uint8_t)(st_rng_next(&rng) & 1);
        h.crc = (uint32_t)st_rng_next(&rng);
        h.num_values = vals[st_rng_next(&rng) % 11];
        h.num_rows = h.num_nulls = 0;
        h.encoding = (int)(st_rng_next(&rng) % 10);
        h.dict_num_values = vals[st_rng_next(&rng) % 11];
        if (st_rng_next(&rng) % 4 == 0) {
            h.has_stats = 1;
            h.stats.null_count = 0;
            h.stats.has_null_count = 1;
        }
        st_buf_clear(&b);
        ST_ASSERT_OK(st_pq_encode_page_header(&b, &h));
        same_page_header(b.data, b.len);
        for (size_t n = 0; n < b.len; n++)
            same_page_header(b.data, n);
        for (size_t k = 0; k < b.len; k++) {
            uint8_t keep = b.data[k];
            b.data[k] = (uint8_t)st_rng_next(&rng);
            same_page_header(b.data, b.len);
            b.data[k] = keep;
        }
    }
    st_buf_free(&b);
}

static void
test_thrift_vectors(void)
{
    /* Worked bytes from the project's Parquet notes (cross-checked with other writers). */
    st_buf b = {0};
    st_pq_page_header h;
    memset(&h, 0, sizeof(h));
    h.type = ST_PQ_DATA_PAGE;
    h.uncompressed_size = 100;
    h.compressed_size = 60;
    h.num_values = 10;
    h.encoding = ST_PQ_PLAIN;
    ST_ASSERT_OK(st_pq_encode_page_header(&b, &h));
    ST_ASSERT_BYTES(b.data, b.len, 0x15, 0x00, 0x15, 0xc8, 0x01, 0x15, 0x78, 0x2c, 0x15, 0x14, 0x15,
                    0x00, 0x15, 0x06, 0x15, 0x06, 0x00, 0x00);
    st_buf_clear(&b);
    h.crc = 0xffffffffu;
    h.has_crc = 1;
    ST_ASSERT_OK(st_pq_encode_page_header(&b, &h));
    ST_ASSERT_BYTES(b.data, 10, 0x15, 0x00, 0x15, 0xc8, 0x01, 0x15, 0x78, 0x15, 0x01, 0x1c);
    st_pq_page_header d;
    size_t used = 0;
    ST_ASSERT_OK(st_pq_decode_page_header(b.data, b.len, "t", 0, &d, &used));
    ST_ASSERT_EQ(used, b.len);
    ST_ASSERT_EQ(d.crc, 0xffffffffu);
    ST_ASSERT_EQ(d.num_values, 10);
    ST_ASSERT_EQ(d.uncompressed_size, 100);
    st_buf_clear(&b);
    ST_ASSERT_OK(st_pq_encode_bloom_header(&b, 32));
    ST_ASSERT_BYTES(b.data, b.len, 0x15, 0x40, 0x1c, 0x1c, 0x00, 0x00, 0x1c, 0x1c, 0x00, 0x00, 0x1c,
                    0x1c, 0x00, 0x00, 0x00);
    st_pq_bloom_header bh;
    ST_ASSERT_OK(st_pq_decode_bloom_header(b.data, b.len, "t", 0, &bh, &used));
    ST_ASSERT_EQ(bh.num_bytes, 32);
    ST_ASSERT(bh.supported);
    ST_ASSERT_EQ(used, 15);
    st_buf_free(&b);
}

static st_pq_file_meta
sample_meta(st_pq_schema_elem *schema, st_pq_row_group *rgs, st_pq_column_chunk *cols, st_pq_kv *kv,
            uint8_t *orders)
{
    static const char *names[] = {"schema", "key", "value"};
    for (int i = 0; i < 3; i++) {
        schema[i] = (st_pq_schema_elem){i ? ST_PQ_BYTE_ARRAY : -1,
                                        i ? (i == 2 ? ST_PQ_OPTIONAL : ST_PQ_REQUIRED) : -1,
                                        {(const uint8_t *)names[i], (uint32_t)strlen(names[i])},
                                        i ? -1 : 2,
                                        -1,
                                        -1};
    }
    for (int g = 0; g < 2; g++) {
        for (int c = 0; c < 2; c++) {
            st_pq_column_chunk *cc = &cols[g * 2 + c];
            memset(cc, 0, sizeof(*cc));
            cc->meta.type = ST_PQ_BYTE_ARRAY;
            cc->meta.codec = ST_PQ_ZSTD;
            cc->meta.encodings = (1u << ST_PQ_DELTA_BYTE_ARRAY) | (1u << ST_PQ_RLE);
            cc->meta.path = (st_pq_bytes){(const uint8_t *)names[1 + c], 3};
            cc->meta.num_values = 1000 + g;
            cc->meta.total_uncompressed_size = 5000000000LL + c;
            cc->meta.total_compressed_size = 123456 + c;
            cc->meta.data_page_offset = 4 + 1000 * (g * 2 + c);
            cc->meta.dictionary_page_offset = c ? 3 : -1;
            cc->meta.has_stats = 1;
            cc->meta.stats.has_min = cc->meta.stats.has_max = 1;
            cc->meta.stats.has_null_count = 1;
            cc->meta.stats.null_count = c;
            cc->meta.stats.min = (st_pq_bytes){(const uint8_t *)"\x00\xff", 2};
            cc->meta.stats.max = (st_pq_bytes){(const uint8_t *)"zz", 2};
            cc->meta.stats.min_exact = 1;
            cc->meta.bloom_offset = c ? -1 : 777;
            cc->meta.bloom_length = c ? -1 : 48;
            cc->offset_index_offset = 9000 + c;
            cc->offset_index_length = 30;
            cc->column_index_offset = c ? -1 : 8000;
            cc->column_index_length = c ? -1 : 40;
        }
        rgs[g] = (st_pq_row_group){&cols[g * 2], 2, 10, 1000 + g, 4, 20, g, NULL, 0};
    }
    kv[0] = (st_pq_kv){{(const uint8_t *)"a", 1}, {(const uint8_t *)"b", 1}, 1};
    kv[1] = (st_pq_kv){{(const uint8_t *)"nov", 3}, {NULL, 0}, 0};
    orders[0] = orders[1] = 1;
    st_pq_file_meta m = {1, schema, 3, 2001, rgs, 2, kv, 2, {(const uint8_t *)"me", 2}, orders, 2};
    return m;
}

static void
test_file_meta_roundtrip(void)
{
    st_pq_schema_elem schema[3];
    st_pq_row_group rgs[2];
    st_pq_column_chunk cols[4];
    st_pq_kv kv[2];
    uint8_t orders[2];
    st_pq_file_meta m = sample_meta(schema, rgs, cols, kv, orders);
    st_buf b = {0};
    ST_ASSERT_OK(st_pq_encode_file_meta(&b, &m));
    st_arena *a = st_arena_new(0);
    st_pq_file_meta d;
    ST_ASSERT_OK(st_pq_decode_file_meta(b.data, b.len, a, "t", 0, &d));
    ST_ASSERT_EQ(d.version, 1);
    ST_ASSERT_EQ(d.num_rows, 2001);
    ST_ASSERT_EQ(d.nschema, 3);
    ST_ASSERT_EQ(d.schema[0].num_children, 2);
    ST_ASSERT_EQ(d.schema[2].repetition, ST_PQ_OPTIONAL);
    ST_ASSERT_MEM_EQ(d.schema[1].name.p, d.schema[1].name.len, "key", 3);
    ST_ASSERT_EQ(d.nrow_groups, 2);
    ST_ASSERT_EQ(d.row_groups[1].num_rows, 1001);
    ST_ASSERT_EQ(d.row_groups[1].ordinal, 1);
    ST_ASSERT_EQ(d.row_groups[1].ncolumns, 2);
    for (int i = 0; i < 4; i++) {
        const st_pq_column_chunk *x = &d.row_groups[i / 2].columns[i % 2], *y = &cols[i];
        ST_ASSERT_EQ(x->meta.total_uncompressed_size, y->meta.total_uncompressed_size);
        ST_ASSERT_EQ(x->meta.encodings, y->meta.encodings);
        ST_ASSERT_EQ(x->meta.dictionary_page_offset, y->meta.dictionary_page_offset);
        ST_ASSERT_EQ(x->meta.bloom_offset, y->meta.bloom_offset);
        ST_ASSERT_EQ(x->meta.bloom_length, y->meta.bloom_length);
        ST_ASSERT_EQ(x->column_index_offset, y->column_index_offset);
        ST_ASSERT_EQ(x->offset_index_length, y->offset_index_length);
        ST_ASSERT_EQ(x->meta.stats.null_count, y->meta.stats.null_count);
        ST_ASSERT_MEM_EQ(x->meta.stats.min.p, x->meta.stats.min.len, "\x00\xff", 2);
        ST_ASSERT_EQ(x->meta.stats.min_exact, 1);
        ST_ASSERT_EQ(x->meta.stats.max_exact, 0);
    }
    ST_ASSERT_EQ(d.nkv, 2);
    ST_ASSERT(d.kv[0].has_value && !d.kv[1].has_value);
    ST_ASSERT_EQ(d.ncolumn_orders, 2);
    ST_ASSERT(d.column_orders[0] == 1 && d.column_orders[1] == 1);
    ST_ASSERT_MEM_EQ(d.created_by.p, d.created_by.len, "me", 2);
    /* every truncation fails cleanly */
    for (size_t n = 0; n < b.len; n++)
        ST_ASSERT_RC(st_pq_decode_file_meta(b.data, n, a, "t", 100, &d), STRATA_CORRUPT);
    ST_ASSERT(strstr(st_errmsg(), "t: malformed footer") != NULL);
    st_arena_free(a);
    st_buf_free(&b);
}

static void
test_thrift_unknown_fields(void)
{
    /* A page header with unknown fields of every wire type, incl. long-form ids. */
    st_buf b = {0};
    st_thrift_writer w;
    st_thrift_writer_init(&w, &b);
    st_thrift_write_i32(&w, 1, ST_PQ_DATA_PAGE);
    st_thrift_write_i32(&w, 2, 7);
    st_thrift_write_i32(&w, 3, 5);
    st_thrift_struct_begin(&w, 5);
    st_thrift_write_i32(&w, 1, 3);
    st_thrift_write_i32(&w, 2, ST_PQ_PLAIN);
    st_thrift_write_i32(&w, 3, ST_PQ_RLE);
    st_thrift_write_i32(&w, 4, ST_PQ_RLE);
    st_thrift_write_binary(&w, 40, "skip me", 7);
    st_thrift_struct_end(&w);
    st_thrift_write_bool(&w, 6, 1);
    st_thrift_write_i64(&w, 100, -5);
    st_thrift_struct_begin(&w, 32767);
    st_thrift_list_begin(&w, 1, ST_TT_I32, 20);
    for (int i = 0; i < 20; i++)
        st_thrift_elem_i32(&w, i * 1000);
    st_thrift_list_begin(&w, 2, ST_TT_TRUE, 2);
    st_thrift_elem_bool(&w, 1);
    st_thrift_elem_bool(&w, 0);
    st_thrift_write_i8(&w, 3, -1);
    st_thrift_write_i16(&w, 4, 300);
    st_thrift_struct_end(&w);
    st_thrift_write_stop(&w);
    /* hand-written: map<i32,binary> {1:"x"}, double, uuid appended as unknown fields */
    b.len--;                                                                   /* drop the STOP */
    const uint8_t extra[] = {0x0b, 0xd0, 0x0f, 0x01, 0x58, 0x02, 0x01, 'x',    /* id 1000 map */
                             0x17, 1,    2,    3,    4,    5,    6,    7,   8, /* id 1001 double */
                             0x1d, 0,    1,    2,    3,    4,    5,    6,   7,
                             8,    9,    10,   11,   12,   13,   14,   15,  0x00};
    ST_ASSERT_OK(w.rc);
    ST_ASSERT_OK(st_buf_append(&b, extra, sizeof(extra)));
    st_pq_page_header h;
    size_t used;
    ST_ASSERT_OK(st_pq_decode_page_header(b.data, b.len, "t", 0, &h, &used));
    ST_ASSERT_EQ(used, b.len);
    ST_ASSERT_EQ(h.num_values, 3);
    ST_ASSERT_EQ(h.uncompressed_size, 7);
    ST_ASSERT_EQ(h.compressed_size, 5);
    for (size_t n = 0; n < b.len; n++)
        ST_ASSERT_RC(st_pq_decode_page_header(b.data, n, "t", 0, &h, &used), STRATA_CORRUPT);
    /* a required field with the wrong wire type is "missing" */
    ST_ASSERT_RC(st_pq_decode_page_header(BYTES(0x16, 0x00, 0x15, 0x02, 0x15, 0x02, 0x00), "t", 0,
                                          &h, &used),
                 STRATA_CORRUPT);
    /* deep nesting is refused, not recursed into */
    st_buf_clear(&b);
    for (int i = 0; i < 5000; i++)
        ST_ASSERT_OK(st_buf_put_u8(&b, 0x1c));
    ST_ASSERT_RC(st_pq_decode_page_header(b.data, b.len, "t", 0, &h, &used), STRATA_CORRUPT);
    /* a list announcing more elements than bytes */
    ST_ASSERT_RC(st_pq_decode_page_header(BYTES(0x19, 0xf5, 0xff, 0xff, 0xff, 0x0f, 0x00), "t", 0,
                                          &h, &used),
                 STRATA_CORRUPT);
    st_buf_free(&b);
}

static void
test_index_roundtrip(void)
{
    st_pq_page_location locs[3] = {{4, 100, 0}, {104, 90, 17}, {194, 5000000, 40}};
    st_pq_offset_index oi = {locs, 3}, oi2;
    st_buf b = {0};
    st_arena *a = st_arena_new(0);
    ST_ASSERT_OK(st_pq_encode_offset_index(&b, &oi));
    ST_ASSERT_OK(st_pq_decode_offset_index(b.data, b.len, a, "t", 0, &oi2));
    ST_ASSERT_EQ(oi2.npages, 3);
    for (int i = 0; i < 3; i++) {
        ST_ASSERT_EQ(oi2.pages[i].offset, locs[i].offset);
        ST_ASSERT_EQ(oi2.pages[i].compressed_size, locs[i].compressed_size);
        ST_ASSERT_EQ(oi2.pages[i].first_row, locs[i].first_row);
    }
    for (size_t n = 0; n < b.len; n++)
        ST_ASSERT_RC(st_pq_decode_offset_index(b.data, n, a, "t", 0, &oi2), STRATA_CORRUPT);
    uint8_t nulls[3] = {0, 1, 0};
    st_pq_bytes mins[3] = {{(const uint8_t *)"a", 1}, {NULL, 0}, {(const uint8_t *)"c", 1}};
    st_pq_bytes maxs[3] = {{(const uint8_t *)"b", 1}, {NULL, 0}, {(const uint8_t *)"d\xff", 2}};
    int64_t nc[3] = {0, 5, 1};
    st_pq_column_index ci = {nulls, mins, maxs, nc, 3, ST_PQ_ASCENDING}, ci2;
    st_buf_clear(&b);
    ST_ASSERT_OK(st_pq_encode_column_index(&b, &ci));
    ST_ASSERT_OK(st_pq_decode_column_index(b.data, b.len, a, "t", 0, &ci2));
    ST_ASSERT_EQ(ci2.npages, 3);
    ST_ASSERT_EQ(ci2.boundary_order, ST_PQ_ASCENDING);
    ST_ASSERT(ci2.null_pages[1] == 1 && ci2.null_pages[0] == 0);
    ST_ASSERT_MEM_EQ(ci2.maxs[2].p, ci2.maxs[2].len, "d\xff", 2);
    ST_ASSERT_EQ(ci2.null_counts[1], 5);
    for (size_t n = 0; n < b.len; n++)
        ST_ASSERT_RC(st_pq_decode_column_index(b.data, n, a, "t", 0, &ci2), STRATA_CORRUPT);
    st_arena_free(a);
    st_buf_free(&b);
}

/* ---- encodings ------------------------------------------------------------------------------ */

static void
test_rle(void)
{
    st_buf b = {0};
    uint32_t ten[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    ST_ASSERT_OK(st_pq_rle_encode(&b, ten, 10, 1));
    ST_ASSERT_BYTES(b.data, b.len, 0x14, 0x01);
    st_buf_clear(&b);
    uint32_t bp[8] = {1, 0, 1, 1, 0, 0, 0, 1};
    ST_ASSERT_OK(st_pq_rle_encode(&b, bp, 8, 1));
    ST_ASSERT_BYTES(b.data, b.len, 0x03, 0x8d);
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    uint32_t *v = st_malloc(5000 * sizeof(uint32_t)), *out = st_malloc(5000 * sizeof(uint32_t));
    for (int round = 0; round < 200; round++) {
        int bw = (int)st_rng_uniform(&rng, 33);
        size_t n = st_rng_uniform(&rng, 5000);
        uint64_t mask = bw == 32 ? 0xffffffffu : ((1u << bw) - 1);
        uint32_t cur = 0;
        for (size_t i = 0; i < n; i++) {
            if (st_rng_uniform(&rng, 4) == 0)
                cur = (uint32_t)(st_rng_next(&rng) & mask);
            v[i] = st_rng_uniform(&rng, 2) ? cur : (uint32_t)(st_rng_next(&rng) & mask);
        }
        st_buf_clear(&b);
        ST_ASSERT_OK(st_pq_rle_encode(&b, v, n, bw));
        size_t used = 0;
        ST_ASSERT_OK(st_pq_rle_decode(b.data, b.len, bw, out, n, &used));
        ST_ASSERT_EQ(used, b.len);
        ST_ASSERT(n == 0 || memcmp(v, out, n * sizeof(uint32_t)) == 0);
        if (n > 0 && bw > 0)
            ST_ASSERT_RC(st_pq_rle_decode(b.data, b.len - 1, bw, out, n, NULL), STRATA_CORRUPT);
    }
    /* zero-length repeated run and values wider than the bit width are rejected */
    ST_ASSERT_RC(st_pq_rle_decode(BYTES(0x00, 0x01), 1, out, 1, NULL), STRATA_CORRUPT);
    ST_ASSERT_RC(st_pq_rle_decode(BYTES(0x02, 0x02), 1, out, 1, NULL), STRATA_CORRUPT);
    st_free(v);
    st_free(out);
    st_buf_free(&b);
}

static void
test_delta_binary_packed(void)
{
    st_buf b = {0};
    int64_t a[] = {1, 2, 3, 4, 5};
    ST_ASSERT_OK(st_pq_dbp_encode(&b, a, 5, 1));
    ST_ASSERT_BYTES(b.data, b.len, 0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00);
    st_buf_clear(&b);
    int64_t c[] = {7, 5, 3, 1, 2, 3, 4, 5};
    ST_ASSERT_OK(st_pq_dbp_encode(&b, c, 8, 0));
    ST_ASSERT_BYTES(b.data, b.len, 0x80, 0x01, 0x04, 0x08, 0x0e, 0x03, 0x02, 0x00, 0x00, 0x00, 0xc0,
                    0x3f, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00);
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    size_t sizes[] = {0, 1, 2, 31, 32, 33, 127, 128, 129, 130, 257, 1000};
    int64_t *v = st_malloc(1000 * sizeof(int64_t)), *out = st_malloc(1000 * sizeof(int64_t));
    for (int round = 0; round < 120; round++) {
        size_t n = sizes[round % 12];
        int is32 = round % 2;
        int shape = (round / 24) % 5;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = st_rng_next(&rng);
            int64_t x = shape == 0   ? (int64_t)r
                        : shape == 1 ? (int64_t)(i * 3)
                        : shape == 2 ? (i % 2 ? INT64_MAX : INT64_MIN)
                        : shape == 3 ? 42
                                     : (int64_t)(r % 100) - 50;
            v[i] = is32 ? (int64_t)(int32_t)x : x;
        }
        st_buf_clear(&b);
        ST_ASSERT_OK(st_pq_dbp_encode(&b, v, n, is32));
        size_t used = 0;
        ST_ASSERT_OK(st_pq_dbp_decode(b.data, b.len, is32, out, n, &used));
        ST_ASSERT_EQ(used, b.len);
        ST_ASSERT(n == 0 || memcmp(v, out, n * sizeof(int64_t)) == 0);
        for (size_t t = 0; t < b.len; t++) {
            int rc = st_pq_dbp_decode(b.data, t, is32, out, n, NULL);
            ST_ASSERT(rc == STRATA_CORRUPT);
        }
        if (n > 0)
            ST_ASSERT_RC(st_pq_dbp_decode(b.data, b.len, is32, out, n - 1, NULL), STRATA_CORRUPT);
        if (shape == 3) { /* a constant run: the dedicated encoder writes the same bytes */
            st_buf cb = {0};
            ST_ASSERT_OK(st_pq_dbp_encode_const(&cb, 42, n, is32));
            ST_ASSERT_EQ(cb.len, b.len);
            ST_ASSERT(memcmp(cb.data, b.data, b.len) == 0);
            st_buf_free(&cb);
        }
    }
    /* constants at the ends of the ranges, and long runs */
    int64_t consts[] = {0, -1, 2, INT64_MIN, INT64_MAX};
    size_t lens[] = {1, 129, 1000};
    for (size_t ci = 0; ci < sizeof(consts) / sizeof(consts[0]); ci++) {
        for (size_t li = 0; li < 3; li++) {
            for (int is32 = 0; is32 < 2; is32++) {
                int64_t x = is32 ? (int64_t)(int32_t)consts[ci] : consts[ci];
                for (size_t i = 0; i < lens[li]; i++)
                    v[i] = x;
                st_buf cb = {0};
                st_buf_clear(&b);
                ST_ASSERT_OK(st_pq_dbp_encode(&b, v, lens[li], is32));
                ST_ASSERT_OK(st_pq_dbp_encode_const(&cb, x, lens[li], is32));
                ST_ASSERT_EQ(cb.len, b.len);
                ST_ASSERT(memcmp(cb.data, b.data, b.len) == 0);
                ST_ASSERT_OK(st_pq_dbp_decode(cb.data, cb.len, is32, out, lens[li], NULL));
                ST_ASSERT(out[lens[li] - 1] == x && out[0] == x);
                st_buf_free(&cb);
            }
        }
    }
    /* bad block sizes */
    ST_ASSERT_RC(st_pq_dbp_decode(BYTES(0x81, 0x01, 0x04, 0x00, 0x00), 0, out, 0, NULL),
                 STRATA_CORRUPT);
    ST_ASSERT_RC(st_pq_dbp_decode(BYTES(0x80, 0x01, 0x03, 0x00, 0x00), 0, out, 0, NULL),
                 STRATA_CORRUPT);
    st_free(v);
    st_free(out);
    st_buf_free(&b);
}

static void
check_values(const st_buf *data, const uint32_t *offs, const char *const *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ST_ASSERT_MEM_EQ(data->data + offs[i], offs[i + 1] - offs[i], want[i], strlen(want[i]));
}

static void
test_byte_arrays(void)
{
    const char *words[] = {"axis", "axle", "babble", "babyhood"};
    /* DELTA_BYTE_ARRAY vector from the notes */
    const uint8_t dba[] = {0x80, 0x01, 0x04, 0x04, 0x00, 0x03, 0x03, 0x00, 0x00, 0x00, 0x44,
                           0x01, 0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                           0x80, 0x01, 0x04, 0x04, 0x08, 0x03, 0x03, 0x00, 0x00, 0x00, 0x70,
                           0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                           'a',  'x',  'i',  's',  'l',  'e',  'b',  'a',  'b',  'b',  'l',
                           'e',  'y',  'h',  'o',  'o',  'd'};
    st_buf data = {0};
    uint32_t offs[5];
    ST_ASSERT_OK(st_pq_decode_byte_array(ST_PQ_DELTA_BYTE_ARRAY, dba, sizeof(dba), 4, &data, offs));
    check_values(&data, offs, words, 4);
    for (size_t t = 0; t < sizeof(dba); t++) {
        st_buf_clear(&data);
        ST_ASSERT_RC(st_pq_decode_byte_array(ST_PQ_DELTA_BYTE_ARRAY, dba, t, 4, &data, offs),
                     STRATA_CORRUPT);
    }
    /* prefix longer than the previous value */
    uint8_t bad[sizeof(dba)];
    memcpy(bad, dba, sizeof(dba));
    bad[4] = 0x02; /* first prefix = 1 */
    st_buf_clear(&data);
    ST_ASSERT_RC(st_pq_decode_byte_array(ST_PQ_DELTA_BYTE_ARRAY, bad, sizeof(bad), 4, &data, offs),
                 STRATA_CORRUPT);
    /* DELTA_LENGTH_BYTE_ARRAY and PLAIN built independently */
    st_buf enc = {0};
    int64_t lens[4];
    for (int i = 0; i < 4; i++)
        lens[i] = (int64_t)strlen(words[i]);
    ST_ASSERT_OK(st_pq_dbp_encode(&enc, lens, 4, 1));
    for (int i = 0; i < 4; i++)
        ST_ASSERT_OK(st_buf_append(&enc, words[i], strlen(words[i])));
    st_buf_clear(&data);
    ST_ASSERT_OK(
        st_pq_decode_byte_array(ST_PQ_DELTA_LENGTH_BYTE_ARRAY, enc.data, enc.len, 4, &data, offs));
    check_values(&data, offs, words, 4);
    st_buf_clear(&data);
    ST_ASSERT_RC(st_pq_decode_byte_array(ST_PQ_DELTA_LENGTH_BYTE_ARRAY, enc.data, enc.len - 1, 4,
                                         &data, offs),
                 STRATA_CORRUPT);
    st_buf_clear(&enc);
    for (int i = 0; i < 4; i++) {
        ST_ASSERT_OK(st_buf_put_fixed32(&enc, (uint32_t)strlen(words[i])));
        ST_ASSERT_OK(st_buf_append(&enc, words[i], strlen(words[i])));
    }
    st_buf_clear(&data);
    ST_ASSERT_OK(st_pq_decode_byte_array(ST_PQ_PLAIN, enc.data, enc.len, 4, &data, offs));
    check_values(&data, offs, words, 4);
    for (size_t t = 0; t < enc.len; t++) {
        st_buf_clear(&data);
        ST_ASSERT_RC(st_pq_decode_byte_array(ST_PQ_PLAIN, enc.data, t, 4, &data, offs),
                     STRATA_CORRUPT);
    }
    ST_ASSERT_RC(st_pq_decode_byte_array(ST_PQ_RLE, enc.data, enc.len, 4, &data, offs),
                 STRATA_NOTSUP);
    st_buf_free(&enc);
    st_buf_free(&data);
}

/* ---- codecs and bloom ----------------------------------------------------------------------- */

static void
test_codecs(void)
{
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    size_t n = 100000;
    uint8_t *src = st_malloc(n), *dst = st_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        src[i] = i < n / 2 ? (uint8_t)(i % 7) : (uint8_t)st_rng_next(&rng);
    int codecs[] = {ST_PQ_UNCOMPRESSED, ST_PQ_SNAPPY, ST_PQ_ZSTD, ST_PQ_LZ4_RAW};
    for (int c = 0; c < 4; c++) {
        ST_ASSERT(st_pq_codec_readable(codecs[c]));
        st_pq_compressor comp;
        ST_ASSERT_OK(st_pq_compressor_init(&comp, codecs[c], 3));
        size_t lens[] = {0, 1, 1000, n};
        for (int k = 0; k < 4; k++) {
            st_buf out = {0};
            ST_ASSERT_OK(st_pq_compress(&comp, src, lens[k], &out));
            if (c > 0 && lens[k] == n)
                ST_ASSERT(out.len < n); /* the first half is compressible */
            ST_ASSERT_OK(st_pq_decompress(codecs[c], out.data, out.len, dst, lens[k]));
            ST_ASSERT(lens[k] == 0 || memcmp(src, dst, lens[k]) == 0);
            ST_ASSERT_RC(st_pq_decompress(codecs[c], out.data, out.len, dst, lens[k] + 1),
                         STRATA_CORRUPT);
            if (out.len > 2 && c > 0) {
                int rc = st_pq_decompress(codecs[c], out.data, out.len / 2, dst, lens[k]);
                ST_ASSERT(rc == STRATA_CORRUPT);
            }
            st_buf_free(&out);
        }
        st_pq_compressor_free(&comp);
    }
    st_pq_compressor bad;
    ST_ASSERT_RC(st_pq_compressor_init(&bad, ST_PQ_LZ4, 0), STRATA_NOTSUP); /* read-only */
    ST_ASSERT(strstr(st_errmsg(), "LZ4_RAW") != NULL);
    ST_ASSERT_RC(st_pq_compressor_init(&bad, ST_PQ_GZIP, 0), STRATA_NOTSUP);
    ST_ASSERT_RC(st_pq_decompress(ST_PQ_GZIP, src, 10, dst, 10), STRATA_NOTSUP);
    ST_ASSERT(!st_pq_codec_readable(ST_PQ_GZIP) && st_pq_codec_readable(ST_PQ_LZ4));
    st_free(src);
    st_free(dst);
}

/* Decompress src (copied to an exact-size heap block, so that ASan sees any overread) as codec
 * into an exact-size heap block of dst_len bytes; out (may be NULL) receives a copy on success. */
static int
decompress_exact(int codec, const uint8_t *src, size_t n, size_t dst_len, uint8_t *out)
{
    uint8_t *in = st_malloc(n ? n : 1), *dst = st_malloc(dst_len ? dst_len : 1);
    ST_ASSERT(in != NULL && dst != NULL);
    if (n)
        memcpy(in, src, n);
    int rc = st_pq_decompress(codec, in, n, dst, dst_len);
    if (rc == STRATA_OK && out && dst_len)
        memcpy(out, dst, dst_len);
    st_free(in);
    st_free(dst);
    return rc;
}

/* Hadoop framing of codec LZ4 around LZ4_RAW blocks of src cut at the given lengths. */
static void
hadoop_frame(const uint8_t *src, const size_t *cuts, int ncuts, st_buf *out)
{
    st_pq_compressor comp;
    ST_ASSERT_OK(st_pq_compressor_init(&comp, ST_PQ_LZ4_RAW, 0));
    size_t off = 0;
    for (int i = 0; i < ncuts; i++) {
        st_buf blk = {0};
        ST_ASSERT_OK(st_pq_compress(&comp, src + off, cuts[i], &blk));
        uint8_t hdr[8];
        st_put_be64(hdr, (uint64_t)cuts[i] << 32 | blk.len);
        ST_ASSERT_OK(st_buf_append(out, hdr, 8));
        ST_ASSERT_OK(st_buf_append(out, blk.data, blk.len));
        st_buf_free(&blk);
        off += cuts[i];
    }
    st_pq_compressor_free(&comp);
}

static void
test_lz4(void)
{
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    /* A bare block by hand: token 0x30 = three literals and no match. */
    uint8_t got[64];
    ST_ASSERT_OK(decompress_exact(ST_PQ_LZ4_RAW, BYTES(0x30, 'a', 'b', 'c'), 3, got));
    ST_ASSERT_MEM_EQ(got, 3, "abc", 3);
    ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4_RAW, BYTES(0x30, 'a', 'b', 'c'), 2, got),
                 STRATA_CORRUPT);
    ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4_RAW, BYTES(0x30, 'a', 'b', 'c'), 4, got),
                 STRATA_CORRUPT);
    ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4_RAW, BYTES(0x40, 'a', 'b', 'c'), 3, got),
                 STRATA_CORRUPT); /* four literals announced, three present */
    ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4_RAW, NULL, 0, 0, got), STRATA_CORRUPT);
    /* a match whose offset points before the output start */
    ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4_RAW,
                                  BYTES(0x14, 'a', 0x09, 0x00, 0x50, 'b', 'c', 'd', 'e', 'f'), 14,
                                  got),
                 STRATA_CORRUPT);
    ST_ASSERT(strstr(st_errmsg(), "lz4_raw") != NULL);

    size_t n = 70000;
    uint8_t *src = st_malloc(n), *out = st_malloc(n);
    for (size_t i = 0; i < n; i++)
        src[i] = i < n / 2 ? (uint8_t)(i / 64 % 5) : (uint8_t)st_rng_next(&rng);
    st_pq_compressor comp;
    ST_ASSERT_OK(st_pq_compressor_init(&comp, ST_PQ_LZ4_RAW, 0));
    st_buf z = {0};
    ST_ASSERT_OK(st_pq_compress(&comp, src, n, &z));
    ST_ASSERT(z.len < n);
    ST_ASSERT_OK(decompress_exact(ST_PQ_LZ4_RAW, z.data, z.len, n, out));
    ST_ASSERT(memcmp(out, src, n) == 0);
    /* every truncation and a wrong output size fail */
    for (size_t t = 0; t < z.len; t += 1 + t / 8)
        ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4_RAW, z.data, t, n, NULL), STRATA_CORRUPT);
    ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4_RAW, z.data, z.len, n - 1, NULL), STRATA_CORRUPT);
    ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4_RAW, z.data, z.len, n + 1, NULL), STRATA_CORRUPT);
    /* damaged bytes: the block has no checksum, so a flip may still decode (the page CRC catches
     * that), but never to another size and never outside the buffers */
    for (int k = 0; k < 2000; k++) {
        st_buf d = {0};
        ST_ASSERT_OK(st_buf_append(&d, z.data, z.len));
        for (int f = 0; f <= k % 3; f++)
            d.data[st_rng_uniform(&rng, d.len)] ^= (uint8_t)(1 + st_rng_uniform(&rng, 255));
        int rc = decompress_exact(ST_PQ_LZ4_RAW, d.data, d.len, n, NULL);
        ST_ASSERT(rc == STRATA_OK || rc == STRATA_CORRUPT);
        st_buf_free(&d);
    }
    for (int k = 0; k < 200; k++) {
        uint8_t junk[256];
        size_t jl = 1 + st_rng_uniform(&rng, sizeof(junk));
        for (size_t i = 0; i < jl; i++)
            junk[i] = (uint8_t)st_rng_next(&rng);
        int rc = decompress_exact(ST_PQ_LZ4_RAW, junk, jl, 1000, NULL);
        ST_ASSERT(rc == STRATA_OK || rc == STRATA_CORRUPT);
        rc = decompress_exact(ST_PQ_LZ4, junk, jl, 1000, NULL);
        ST_ASSERT(rc == STRATA_OK || rc == STRATA_CORRUPT);
    }

    /* codec LZ4: Hadoop framing with one or several blocks, else a bare block (older writers) */
    size_t one[] = {n}, three[] = {1000, 0, n - 1000} /* an empty block between */,
           halves[] = {n / 2, n - n / 2};
    const size_t *cuts[] = {one, three, halves};
    int ncuts[] = {1, 3, 2};
    for (int i = 0; i < 3; i++) {
        st_buf h = {0};
        hadoop_frame(src, cuts[i], ncuts[i], &h);
        memset(out, 0, n);
        ST_ASSERT_OK(decompress_exact(ST_PQ_LZ4, h.data, h.len, n, out));
        ST_ASSERT(memcmp(out, src, n) == 0);
        ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4, h.data, h.len, n - 1, NULL), STRATA_CORRUPT);
        ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4, h.data, h.len - 1, n, NULL), STRATA_CORRUPT);
        /* a block header claiming more input than there is */
        h.data[7] = 0xff;
        h.data[6] = 0xff;
        ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4, h.data, h.len, n, NULL), STRATA_CORRUPT);
        st_buf_free(&h);
    }
    memset(out, 0, n);
    ST_ASSERT_OK(decompress_exact(ST_PQ_LZ4, z.data, z.len, n, out)); /* bare block */
    ST_ASSERT(memcmp(out, src, n) == 0);
    ST_ASSERT_RC(decompress_exact(ST_PQ_LZ4, z.data, z.len - 1, n, NULL), STRATA_CORRUPT);
    ST_ASSERT(strstr(st_errmsg(), "lz4") != NULL);
    st_buf_free(&z);
    st_pq_compressor_free(&comp);
    st_free(src);
    st_free(out);
}

static void
test_bloom(void)
{
    /* parquet-mr/Spark fixture: "a0".."a9" in a one-block filter */
    uint8_t bits[32] = {0};
    for (int i = 0; i < 10; i++) {
        char k[3] = {'a', (char)('0' + i), 0};
        st_pq_bloom_insert(bits, 32, st_pq_bloom_hash(k, 2));
    }
    ST_ASSERT_BYTES(bits, 32, 0xc8, 0x01, 0x50, 0x14, 0x40, 0x44, 0x08, 0x6d, 0x06, 0x25, 0x04,
                    0x43, 0x90, 0x50, 0x60, 0x20, 0x08, 0x84, 0x2b, 0x21, 0x00, 0x05, 0x63, 0x41,
                    0x02, 0x00, 0xe0, 0x2c, 0x40, 0x4e, 0x60, 0x04);
    ST_ASSERT(st_pq_bloom_hash("", 0) == 17241709254077376921ull);
    ST_ASSERT_EQ(st_pq_bloom_bytes(0, 10), 32);
    ST_ASSERT_EQ(st_pq_bloom_bytes(1000, 10), 2048);
    ST_ASSERT_EQ(st_pq_bloom_bytes(UINT64_C(1) << 40, 10), ST_PQ_BLOOM_MAX_BYTES);
    size_t nk = 20000, nb = st_pq_bloom_bytes(nk, 10);
    ST_ASSERT(nb % 32 == 0 && (nb & (nb - 1)) == 0);
    uint8_t *f = st_calloc(1, nb);
    for (uint64_t i = 0; i < nk; i++) {
        uint64_t k = i * 2;
        st_pq_bloom_insert(f, nb, st_pq_bloom_hash(&k, 8));
    }
    size_t fp = 0, probes = 100000;
    for (uint64_t i = 0; i < nk; i++) {
        uint64_t k = i * 2;
        ST_ASSERT(st_pq_bloom_check(f, nb, st_pq_bloom_hash(&k, 8)));
    }
    for (uint64_t i = 0; i < probes; i++) {
        uint64_t k = i * 2 + 1;
        fp += (size_t)st_pq_bloom_check(f, nb, st_pq_bloom_hash(&k, 8));
    }
    /* 10 bits/key rounded up to a power of two: expected well under 2% */
    double rate = (double)fp / (double)probes;
    fprintf(stderr, "bloom: %zu bytes for %zu keys, fpp %.4f\n", nb, nk, rate);
    ST_ASSERT(rate < 0.02);
    ST_ASSERT(fp > 0); /* a filter that never says "maybe" for absent keys is suspicious */
    st_free(f);
}

/* ---- pages ---------------------------------------------------------------------------------- */

static void
test_page_v1_roundtrip(void)
{
    /* an OPTIONAL BYTE_ARRAY v1 page: levels + PLAIN values, zstd, CRC */
    st_buf payload = {0}, scratch = {0}, out = {0};
    uint32_t defs[5] = {1, 0, 1, 1, 0};
    const char *vals[3] = {"one", "", "three"};
    ST_ASSERT_OK(st_buf_put_fixed32(&payload, 0));
    ST_ASSERT_OK(st_pq_rle_encode(&payload, defs, 5, 1));
    st_put_fixed32(payload.data, (uint32_t)(payload.len - 4));
    for (int i = 0; i < 3; i++) {
        ST_ASSERT_OK(st_buf_put_fixed32(&payload, (uint32_t)strlen(vals[i])));
        ST_ASSERT_OK(st_buf_append(&payload, vals[i], strlen(vals[i])));
    }
    st_pq_compressor comp;
    ST_ASSERT_OK(st_pq_compressor_init(&comp, ST_PQ_ZSTD, 1));
    st_pq_page_header h;
    memset(&h, 0, sizeof(h));
    h.type = ST_PQ_DATA_PAGE;
    h.num_values = 5;
    h.encoding = ST_PQ_PLAIN;
    size_t hlen = 0;
    ST_ASSERT_OK(st_pq_page_frame(&comp, &h, payload.data, payload.len, &scratch, &out, &hlen));
    st_pq_page_header d;
    size_t used;
    ST_ASSERT_OK(st_pq_decode_page_header(out.data, out.len, "t", 0, &d, &used));
    ST_ASSERT_EQ(used, hlen);
    ST_ASSERT_EQ(d.crc, st_crc32_ieee(0, out.data + hlen, out.len - hlen));
    st_pq_column_desc desc = {ST_PQ_BYTE_ARRAY, 1, ST_PQ_ZSTD, 1};
    st_pq_page *pg = NULL;
    ST_ASSERT_OK(st_pq_page_decode(&desc, &d, out.data + hlen, NULL, "t", 0, &pg));
    ST_ASSERT_EQ(pg->n, 5);
    ST_ASSERT(pg->nulls && pg->nulls[1] && pg->nulls[4] && !pg->nulls[0]);
    ST_ASSERT_MEM_EQ(pg->data + pg->offs[3], pg->offs[4] - pg->offs[3], "three", 5);
    ST_ASSERT_EQ(pg->offs[2] - pg->offs[1], 0);
    st_pq_page_free(pg);
    /* every single-byte flip of the stored bytes is caught by the CRC */
    for (size_t i = hlen; i < out.len; i++) {
        out.data[i] ^= 0x40;
        ST_ASSERT_RC(st_pq_page_decode(&desc, &d, out.data + hlen, NULL, "t", 0, &pg),
                     STRATA_CORRUPT);
        ST_ASSERT(strstr(st_errmsg(), "checksum") != NULL);
        out.data[i] ^= 0x40;
    }
    st_pq_compressor_free(&comp);
    st_buf_free(&payload);
    st_buf_free(&scratch);
    st_buf_free(&out);
}

/* One value through a fresh value reader (what a point lookup does). */
static int
value_at(const st_pq_column_desc *c, const st_pq_page_header *h, const uint8_t *payload,
         uint32_t row, st_buf *buf, int *handled, const uint8_t **v, size_t *vlen, int *is_null)
{
    st_pq_value_reader vr;
    ST_RET(st_pq_value_reader_open(&vr, c, h, payload, row, buf, "t", 0, handled));
    return *handled ? st_pq_value_reader_get(&vr, row, v, vlen, is_null) : STRATA_OK;
}

/*
 * st_pq_value_reader against st_pq_page_decode: every row of random OPTIONAL and REQUIRED PLAIN
 * pages (nulls, empty and large values) under every codec, then damage and unsupported forms.
 */
static void
test_page_value_at(void)
{
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    const int codecs[] = {ST_PQ_UNCOMPRESSED, ST_PQ_SNAPPY, ST_PQ_ZSTD, ST_PQ_LZ4_RAW};
    st_buf payload = {0}, scratch = {0}, out = {0}, valbuf = {0};
    uint8_t big[3000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i % 7 == 0 ? st_rng_uniform(&rng, 256) : 'a' + i % 3);
    for (int round = 0; round < 40; round++) {
        int codec = codecs[round % 4], optional = (round / 4) % 2;
        uint32_t n = 1 + (uint32_t)st_rng_uniform(&rng, round < 8 ? 5 : 1500);
        uint32_t *defs = st_malloc(n * sizeof(uint32_t));
        ST_ASSERT(defs != NULL);
        for (uint32_t i = 0; i < n; i++)
            defs[i] = !optional || st_rng_uniform(&rng, 5) != 0;
        st_buf_clear(&payload);
        if (optional) {
            ST_ASSERT_OK(st_buf_put_fixed32(&payload, 0));
            ST_ASSERT_OK(st_pq_rle_encode(&payload, defs, n, 1));
            st_put_fixed32(payload.data, (uint32_t)(payload.len - 4));
        }
        for (uint32_t i = 0; i < n; i++) {
            if (!defs[i])
                continue;
            size_t l = st_rng_uniform(&rng, 10) == 0 ? st_rng_uniform(&rng, sizeof(big))
                                                     : st_rng_uniform(&rng, 120);
            ST_ASSERT_OK(st_buf_put_fixed32(&payload, (uint32_t)l));
            ST_ASSERT_OK(st_buf_append(&payload, big + (i * 13) % (sizeof(big) - l + 1), l));
        }
        st_pq_compressor comp;
        ST_ASSERT_OK(st_pq_compressor_init(&comp, codec, 1));
        st_pq_page_header h, d;
        memset(&h, 0, sizeof(h));
        h.type = ST_PQ_DATA_PAGE;
        h.num_values = (int32_t)n;
        h.encoding = ST_PQ_PLAIN;
        size_t hlen = 0, used;
        st_buf_clear(&out);
        ST_ASSERT_OK(st_pq_page_frame(&comp, &h, payload.data, payload.len, &scratch, &out, &hlen));
        ST_ASSERT_OK(st_pq_decode_page_header(out.data, out.len, "t", 0, &d, &used));
        st_pq_column_desc desc = {ST_PQ_BYTE_ARRAY, optional, codec, 1};
        st_pq_page *pg = NULL;
        ST_ASSERT_OK(st_pq_page_decode(&desc, &d, out.data + hlen, NULL, "t", 0, &pg));
        for (uint32_t row = 0; row < n; row++) {
            int handled = 0, isnull = -1;
            const uint8_t *v = NULL;
            size_t vl = 99;
            ST_ASSERT_OK(
                value_at(&desc, &d, out.data + hlen, row, &valbuf, &handled, &v, &vl, &isnull));
            ST_ASSERT(handled);
            ST_ASSERT_EQ(isnull, pg->nulls ? pg->nulls[row] : 0);
            if (!isnull)
                ST_ASSERT_MEM_EQ(v, vl, pg->data + pg->offs[row],
                                 pg->offs[row + 1] - pg->offs[row]);
        }
        /* one reader, rows in order and then at random (forward and backward walks) */
        st_pq_value_reader vr;
        int vh = 0;
        ST_ASSERT_OK(
            st_pq_value_reader_open(&vr, &desc, &d, out.data + hlen, 0, &valbuf, "t", 0, &vh));
        ST_ASSERT(vh);
        for (uint32_t k = 0; k < 2 * n; k++) {
            uint32_t row = k < n ? k : (uint32_t)st_rng_uniform(&rng, n);
            int isnull = -1;
            const uint8_t *v = NULL;
            size_t vl = 99;
            ST_ASSERT_OK(st_pq_value_reader_get(&vr, row, &v, &vl, &isnull));
            ST_ASSERT_EQ(isnull, pg->nulls ? pg->nulls[row] : 0);
            if (!isnull)
                ST_ASSERT_MEM_EQ(v, vl, pg->data + pg->offs[row],
                                 pg->offs[row + 1] - pg->offs[row]);
        }
        st_pq_page_free(pg);
        /* a flipped stored byte: the CRC catches it before any value is read */
        out.data[hlen + st_rng_uniform(&rng, out.len - hlen)] ^= 0x10;
        int handled = 0, isnull;
        const uint8_t *v;
        size_t vl;
        ST_ASSERT_RC(
            value_at(&desc, &d, out.data + hlen, n - 1, &valbuf, &handled, &v, &vl, &isnull),
            STRATA_CORRUPT);
        ST_ASSERT(strstr(st_errmsg(), "checksum") != NULL);
        /* without the CRC, a length prefix pointing past the page is CORRUPT, never an overrun */
        if (codec == ST_PQ_UNCOMPRESSED && !optional) {
            st_pq_column_desc nocrc = desc;
            nocrc.verify_crc = 0;
            memset(out.data + hlen, 0xff, 4);
            ST_ASSERT_RC(
                value_at(&nocrc, &d, out.data + hlen, n - 1, &valbuf, &handled, &v, &vl, &isnull),
                STRATA_CORRUPT);
        }
        /* other forms are left to the page decoder */
        st_pq_page_header other = d;
        other.encoding = ST_PQ_DELTA_BYTE_ARRAY;
        ST_ASSERT_OK(
            value_at(&desc, &other, out.data + hlen, 0, &valbuf, &handled, &v, &vl, &isnull));
        ST_ASSERT(!handled);
        st_pq_compressor_free(&comp);
        st_free(defs);
    }
    st_buf_free(&payload);
    st_buf_free(&scratch);
    st_buf_free(&out);
    st_buf_free(&valbuf);
}

static void
test_page_v2_dictionary(void)
{
    /* What other writers (DuckDB) produce: dictionary page + v2 RLE_DICTIONARY data page. */
    st_buf dict = {0}, data = {0};
    const char *entries[2] = {"x", "yy"};
    for (int i = 0; i < 2; i++) {
        ST_ASSERT_OK(st_buf_put_fixed32(&dict, (uint32_t)strlen(entries[i])));
        ST_ASSERT_OK(st_buf_append(&dict, entries[i], strlen(entries[i])));
    }
    st_pq_page_header dh;
    memset(&dh, 0, sizeof(dh));
    dh.type = ST_PQ_DICTIONARY_PAGE;
    dh.uncompressed_size = dh.compressed_size = (int32_t)dict.len;
    dh.dict_num_values = 2;
    dh.dict_encoding = ST_PQ_PLAIN;
    st_pq_column_desc desc = {ST_PQ_BYTE_ARRAY, 1, ST_PQ_UNCOMPRESSED, 1};
    st_pq_page *dp = NULL, *pg = NULL;
    ST_ASSERT_OK(st_pq_page_decode(&desc, &dh, dict.data, NULL, "t", 0, &dp));
    ST_ASSERT_EQ(dp->n, 2);
    /* v2: def levels (no length prefix) [1,0,1,1], then bit width + indices [1,0,1] */
    uint32_t defs[4] = {1, 0, 1, 1}, idx[3] = {1, 0, 1};
    ST_ASSERT_OK(st_pq_rle_encode(&data, defs, 4, 1));
    int32_t deflen = (int32_t)data.len;
    ST_ASSERT_OK(st_buf_put_u8(&data, 1));
    ST_ASSERT_OK(st_pq_rle_encode(&data, idx, 3, 1));
    st_pq_page_header h;
    memset(&h, 0, sizeof(h));
    h.type = ST_PQ_DATA_PAGE_V2;
    h.uncompressed_size = h.compressed_size = (int32_t)data.len;
    h.num_values = h.num_rows = 4;
    h.num_nulls = 1;
    h.encoding = ST_PQ_RLE_DICTIONARY;
    h.def_len = deflen;
    h.is_compressed = 0;
    ST_ASSERT_OK(st_pq_page_decode(&desc, &h, data.data, dp, "t", 0, &pg));
    ST_ASSERT_EQ(pg->n, 4);
    const char *want[4] = {"yy", "", "x", "yy"};
    check_values(&(st_buf){pg->data, 0, 0}, pg->offs, want, 4);
    ST_ASSERT(pg->nulls[1] && !pg->nulls[0]);
    st_pq_page_free(pg);
    /* without the dictionary, or with a wrong null count, decoding fails cleanly */
    ST_ASSERT_RC(st_pq_page_decode(&desc, &h, data.data, NULL, "t", 0, &pg), STRATA_CORRUPT);
    h.num_nulls = 2;
    ST_ASSERT_RC(st_pq_page_decode(&desc, &h, data.data, dp, "t", 0, &pg), STRATA_CORRUPT);
    h.num_nulls = 1;
    idx[2] = 1;
    /* an index beyond the dictionary */
    st_buf_clear(&data);
    ST_ASSERT_OK(st_pq_rle_encode(&data, defs, 4, 1));
    uint32_t badidx[3] = {3, 0, 1};
    ST_ASSERT_OK(st_buf_put_u8(&data, 2));
    ST_ASSERT_OK(st_pq_rle_encode(&data, badidx, 3, 2));
    h.uncompressed_size = h.compressed_size = (int32_t)data.len;
    ST_ASSERT_RC(st_pq_page_decode(&desc, &h, data.data, dp, "t", 0, &pg), STRATA_CORRUPT);
    st_pq_page_free(dp);
    st_buf_free(&dict);
    st_buf_free(&data);
}

/* ---- page walk without a footer ------------------------------------------------------------- */

typedef struct walked {
    const uint8_t *base;
    int kind[16];
    uint64_t off[16], end[16];
    int n;
} walked;

static int
record_item(void *arg, const st_pq_walk_item *it)
{
    walked *w = arg;
    ST_ASSERT(w->n < 16);
    w->kind[w->n] = it->kind;
    w->off[w->n] = it->off;
    w->end[w->n++] = it->end;
    if (it->kind != ST_PQ_WALK_GAP) /* the payload is the stored bytes before the end */
        ST_ASSERT(it->payload + it->h.compressed_size == w->base + it->end);
    return STRATA_OK;
}

/* "PAR1" + three framed pages (payloads of 40, 50, 60 bytes) + 30 bytes of trailer. */
static void
walk_file(st_buf *out, uint64_t *pages)
{
    st_buf scratch = {0}, payload = {0};
    st_pq_compressor comp;
    ST_ASSERT_OK(st_pq_compressor_init(&comp, ST_PQ_UNCOMPRESSED, 0));
    st_buf_clear(out);
    ST_ASSERT_OK(st_buf_append(out, "PAR1", 4));
    for (int p = 0; p < 3; p++) {
        st_pq_page_header h;
        memset(&h, 0, sizeof(h));
        h.type = ST_PQ_DATA_PAGE;
        h.num_values = 10 + p;
        h.encoding = ST_PQ_PLAIN;
        st_buf_clear(&payload);
        for (int i = 0; i < 40 + 10 * p; i++)
            ST_ASSERT_OK(st_buf_put_u8(&payload, (uint8_t)(i * 7 + p)));
        size_t hlen;
        pages[p] = out->len;
        ST_ASSERT_OK(st_pq_page_frame(&comp, &h, payload.data, payload.len, &scratch, out, &hlen));
    }
    pages[3] = out->len;
    for (int i = 0; i < 30; i++)
        ST_ASSERT_OK(st_buf_put_u8(out, (uint8_t)(0xa0 + i)));
    st_pq_compressor_free(&comp);
    st_buf_free(&scratch);
    st_buf_free(&payload);
}

static void
test_page_walk(void)
{
    st_buf f = {0};
    uint64_t pg[4];
    walk_file(&f, pg);
    /* intact: three pages, then the trailer as a gap */
    walked w = {f.data, {0}, {0}, {0}, 0};
    ST_ASSERT_OK(st_pq_page_walk(f.data, f.len, 4, 1, record_item, &w));
    ST_ASSERT_EQ(w.n, 4);
    for (int i = 0; i < 3; i++) {
        ST_ASSERT_EQ(w.kind[i], ST_PQ_WALK_PAGE);
        ST_ASSERT_EQ(w.off[i], pg[i]);
        ST_ASSERT_EQ(w.end[i], pg[i + 1]);
    }
    ST_ASSERT(w.kind[3] == ST_PQ_WALK_GAP && w.off[3] == pg[3] && w.end[3] == f.len);
    /* a damaged payload: that page is BAD_CRC, the next one is found right after it */
    f.data[pg[1] + 30] ^= 1;
    memset(&w, 0, sizeof(w));
    w.base = f.data;
    ST_ASSERT_OK(st_pq_page_walk(f.data, f.len, 4, 1, record_item, &w));
    ST_ASSERT(w.n == 4 && w.kind[1] == ST_PQ_WALK_BAD_CRC && w.kind[2] == ST_PQ_WALK_PAGE &&
              w.off[2] == pg[2]);
    f.data[pg[1] + 30] ^= 1;
    /* a damaged header (a stop byte where its first field was): a gap up to the next page that
     * verifies */
    f.data[pg[0]] = 0x00;
    memset(&w, 0, sizeof(w));
    w.base = f.data;
    ST_ASSERT_OK(st_pq_page_walk(f.data, f.len, 4, 1, record_item, &w));
    ST_ASSERT(w.n == 4 && w.kind[0] == ST_PQ_WALK_GAP && w.off[0] == 4 && w.end[0] == pg[1] &&
              w.kind[1] == ST_PQ_WALK_PAGE && w.off[1] == pg[1]);
    f.data[pg[0]] = 0x15;
    /* a damaged header whose stored size spans the next page exactly (it ends where page 2
     * starts): the verified page inside that span shows the size is wrong; a gap up to it */
    {
        st_pq_page_header h;
        size_t hlen;
        ST_ASSERT_OK(
            st_pq_decode_page_header(f.data + pg[0], f.len - pg[0], "t", pg[0], &h, &hlen));
        h.compressed_size = (int32_t)(pg[2] - pg[0] - hlen);
        st_buf g = {0};
        ST_ASSERT_OK(st_buf_append(&g, f.data, pg[0]));
        ST_ASSERT_OK(st_pq_encode_page_header(&g, &h));
        uint64_t d = g.len - pg[0] - hlen; /* the header may have grown */
        ST_ASSERT_OK(st_buf_append(&g, f.data + pg[0] + hlen, f.len - pg[0] - hlen));
        memset(&w, 0, sizeof(w));
        w.base = g.data;
        ST_ASSERT_OK(st_pq_page_walk(g.data, g.len, 4, 1, record_item, &w));
        ST_ASSERT(w.n == 4 && w.kind[0] == ST_PQ_WALK_GAP && w.off[0] == 4 &&
                  w.end[0] == pg[1] + d && w.kind[1] == ST_PQ_WALK_PAGE && w.off[1] == pg[1] + d &&
                  w.kind[2] == ST_PQ_WALK_PAGE && w.off[2] == pg[2] + d);
        st_buf_free(&g);
    }
    /* truncated in the middle of the last page: it is a gap */
    memset(&w, 0, sizeof(w));
    w.base = f.data;
    ST_ASSERT_OK(st_pq_page_walk(f.data, pg[2] + 20, 4, 1, record_item, &w));
    ST_ASSERT(w.n == 3 && w.kind[1] == ST_PQ_WALK_PAGE && w.kind[2] == ST_PQ_WALK_GAP &&
              w.off[2] == pg[2] && w.end[2] == pg[2] + 20);
    /* random bytes: never a page, one gap */
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    for (size_t i = 4; i < f.len; i++)
        f.data[i] = (uint8_t)st_rng_next(&rng);
    memset(&w, 0, sizeof(w));
    w.base = f.data;
    ST_ASSERT_OK(st_pq_page_walk(f.data, f.len, 4, 1, record_item, &w));
    ST_ASSERT(w.n == 1 && w.kind[0] == ST_PQ_WALK_GAP && w.end[0] == f.len);
    st_buf_free(&f);
}

int
main(void)
{
    ST_RUN(test_thrift_vectors);
    ST_RUN(test_page_header_fast_path);
    ST_RUN(test_file_meta_roundtrip);
    ST_RUN(test_thrift_unknown_fields);
    ST_RUN(test_index_roundtrip);
    ST_RUN(test_rle);
    ST_RUN(test_delta_binary_packed);
    ST_RUN(test_byte_arrays);
    ST_RUN(test_codecs);
    ST_RUN(test_lz4);
    ST_RUN(test_bloom);
    ST_RUN(test_page_v1_roundtrip);
    ST_RUN(test_page_v2_dictionary);
    ST_RUN(test_page_value_at);
    ST_RUN(test_page_walk);
    return st_test_done();
}
