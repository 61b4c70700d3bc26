/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading Parquet files strata did not write (src/sst over src/parquet): a file shaped like
 * DuckDB's output -- OPTIONAL columns without nulls, a dictionary page + v2 RLE_DICTIONARY data
 * page, v1 PLAIN pages, mixed codecs per chunk, no page index, no bloom filter, no strata.*
 * metadata -- is assembled page by page here and must read back exactly.
 */
#include "foreign_pq.h"
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/page.h"
#include "parquet/parquet.h"
#include "sst/sst.h"
#include "st_test.h"
#include "util/alloc.h"

#include <stdio.h>
#include <string.h>

static st_buf file;

/* Append a framed page; returns its offset. v2 pages are framed by hand (levels uncompressed). */
static int64_t
put_page(st_pq_compressor *comp, st_pq_page_header *h, const st_buf *levels, const st_buf *vals)
{
    st_buf payload = {0}, scratch = {0};
    int64_t off = (int64_t)file.len;
    size_t hl;
    if (h->type == ST_PQ_DATA_PAGE_V2) {
        st_buf stored = {0};
        ST_ASSERT_OK(st_buf_append(&stored, levels->data, levels->len));
        ST_ASSERT_OK(st_pq_compress(comp, vals->data, vals->len, &stored));
        h->def_len = (int32_t)levels->len;
        h->uncompressed_size = (int32_t)(levels->len + vals->len);
        h->compressed_size = (int32_t)stored.len;
        h->has_crc = 0; /* like DuckDB: no page CRC */
        ST_ASSERT_OK(st_pq_encode_page_header(&file, h));
        ST_ASSERT_OK(st_buf_append(&file, stored.data, stored.len));
        st_buf_free(&stored);
    } else {
        if (levels && levels->len) {
            ST_ASSERT_OK(st_buf_put_fixed32(&payload, (uint32_t)levels->len));
            ST_ASSERT_OK(st_buf_append(&payload, levels->data, levels->len));
        }
        ST_ASSERT_OK(st_buf_append(&payload, vals->data, vals->len));
        ST_ASSERT_OK(st_pq_page_frame(comp, h, payload.data, payload.len, &scratch, &file, &hl));
    }
    st_buf_free(&payload);
    st_buf_free(&scratch);
    return off;
}

static void
plain_bytes(st_buf *b, const char *const *v, size_t n)
{
    st_buf_clear(b);
    for (size_t i = 0; i < n; i++) {
        ST_ASSERT_OK(st_buf_put_fixed32(b, (uint32_t)strlen(v[i])));
        ST_ASSERT_OK(st_buf_append(b, v[i], strlen(v[i])));
    }
}

static void
levels(st_buf *b, const uint32_t *d, size_t n)
{
    st_buf_clear(b);
    ST_ASSERT_OK(st_pq_rle_encode(b, d, n, 1));
}

static void
fill_meta(st_pq_column_chunk *cc, int type, int codec, const char *name, int64_t start,
          int64_t dict, int64_t data)
{
    memset(cc, 0, sizeof(*cc));
    cc->meta.type = type;
    cc->meta.codec = codec;
    cc->meta.encodings = (1u << ST_PQ_PLAIN) | (1u << ST_PQ_RLE) | (1u << ST_PQ_RLE_DICTIONARY);
    cc->meta.path = (st_pq_bytes){(const uint8_t *)name, (uint32_t)strlen(name)};
    cc->meta.num_values = 3;
    cc->meta.total_compressed_size = (int64_t)file.len - start;
    cc->meta.total_uncompressed_size = (int64_t)file.len - start;
    cc->meta.dictionary_page_offset = dict;
    cc->meta.data_page_offset = data;
    cc->meta.bloom_offset = -1;
    cc->offset_index_offset = cc->column_index_offset = -1;
}

static void
build_file(const char *path)
{
    st_pq_compressor none, snappy, zstd, lz4;
    ST_ASSERT_OK(st_pq_compressor_init(&none, ST_PQ_UNCOMPRESSED, 0));
    ST_ASSERT_OK(st_pq_compressor_init(&lz4, ST_PQ_LZ4_RAW, 0));
    ST_ASSERT_OK(st_pq_compressor_init(&snappy, ST_PQ_SNAPPY, 0));
    ST_ASSERT_OK(st_pq_compressor_init(&zstd, ST_PQ_ZSTD, 3));
    st_buf lv = {0}, vals = {0};
    st_pq_column_chunk cols[4];
    st_pq_page_header h;
    ST_ASSERT_OK(st_buf_append(&file, "PAR1", 4));
    static const uint32_t all[3] = {1, 1, 1}, onenull[3] = {1, 0, 1}, idx[3] = {0, 1, 2};

    /* key: OPTIONAL, dictionary page + v2 RLE_DICTIONARY page, snappy */
    static const char *const keys[3] = {"a", "b\xff", "c"};
    plain_bytes(&vals, keys, 3);
    memset(&h, 0, sizeof(h));
    h.type = ST_PQ_DICTIONARY_PAGE;
    h.dict_num_values = 3;
    h.dict_encoding = ST_PQ_PLAIN_DICTIONARY;
    int64_t dict = put_page(&snappy, &h, NULL, &vals);
    levels(&lv, all, 3);
    st_buf_clear(&vals);
    ST_ASSERT_OK(st_buf_put_u8(&vals, 2));
    ST_ASSERT_OK(st_pq_rle_encode(&vals, idx, 3, 2));
    memset(&h, 0, sizeof(h));
    h.type = ST_PQ_DATA_PAGE_V2;
    h.num_values = h.num_rows = 3;
    h.encoding = ST_PQ_RLE_DICTIONARY;
    h.is_compressed = 1;
    int64_t data = put_page(&snappy, &h, &lv, &vals);
    fill_meta(&cols[0], ST_PQ_BYTE_ARRAY, ST_PQ_SNAPPY, "key", dict, dict, data);
    cols[0].meta.has_stats = 1;
    cols[0].meta.stats =
        (st_pq_stats){{(const uint8_t *)"a", 1}, {(const uint8_t *)"c", 1}, 0, 1, 1, 1, 1, 1};

    /* value: OPTIONAL v1 PLAIN with a null, zstd */
    static const char *const v[2] = {"va", "vc"};
    int64_t start = (int64_t)file.len;
    levels(&lv, onenull, 3);
    plain_bytes(&vals, v, 2);
    memset(&h, 0, sizeof(h));
    h.type = ST_PQ_DATA_PAGE;
    h.num_values = 3;
    h.encoding = ST_PQ_PLAIN;
    put_page(&zstd, &h, &lv, &vals);
    fill_meta(&cols[1], ST_PQ_BYTE_ARRAY, ST_PQ_ZSTD, "value", start, -1, start);

    /* seqno: OPTIONAL INT64 v1 PLAIN, lz4_raw; kind: REQUIRED INT32 DELTA_BINARY_PACKED, none */
    start = (int64_t)file.len;
    levels(&lv, all, 3);
    st_buf_clear(&vals);
    for (int i = 0; i < 3; i++)
        ST_ASSERT_OK(st_buf_put_fixed64(&vals, (uint64_t)(30 - i)));
    memset(&h, 0, sizeof(h));
    h.type = ST_PQ_DATA_PAGE;
    h.num_values = 3;
    h.encoding = ST_PQ_PLAIN;
    put_page(&lz4, &h, &lv, &vals);
    fill_meta(&cols[2], ST_PQ_INT64, ST_PQ_LZ4_RAW, "seqno", start, -1, start);
    start = (int64_t)file.len;
    int64_t kinds[3] = {1, 0, 1};
    st_buf_clear(&vals);
    ST_ASSERT_OK(st_pq_dbp_encode(&vals, kinds, 3, 1));
    h.encoding = ST_PQ_DELTA_BINARY_PACKED;
    put_page(&none, &h, NULL, &vals);
    fill_meta(&cols[3], ST_PQ_INT32, ST_PQ_UNCOMPRESSED, "kind", start, -1, start);

    /* footer: column order value, seqno, key, kind (readers map by name) */
    st_pq_column_chunk ordered[4] = {cols[1], cols[2], cols[0], cols[3]};
    st_pq_schema_elem schema[5] = {
        {-1, -1, {(const uint8_t *)"duckdb_schema", 13}, 4, -1, -1},
        {ST_PQ_BYTE_ARRAY, ST_PQ_OPTIONAL, {(const uint8_t *)"value", 5}, -1, -1, -1},
        {ST_PQ_INT64, ST_PQ_OPTIONAL, {(const uint8_t *)"seqno", 5}, -1, -1, -1},
        {ST_PQ_BYTE_ARRAY, ST_PQ_OPTIONAL, {(const uint8_t *)"key", 3}, -1, -1, -1},
        {ST_PQ_INT32, ST_PQ_REQUIRED, {(const uint8_t *)"kind", 4}, -1, -1, -1}};
    st_pq_row_group rg = {ordered, 4, 100, 3, 4, -1, -1, NULL, 0};
    uint8_t orders[4] = {1, 1, 1, 1};
    st_pq_kv kv = {{(const uint8_t *)"writer", 6}, {(const uint8_t *)"hand", 4}, 1};
    st_pq_file_meta fm = {2, schema, 5, 3, &rg, 1, &kv, 1, {(const uint8_t *)"test", 4}, orders, 4};
    size_t before = file.len;
    ST_ASSERT_OK(st_pq_encode_file_meta(&file, &fm));
    ST_ASSERT_OK(st_buf_put_fixed32(&file, (uint32_t)(file.len - before)));
    ST_ASSERT_OK(st_buf_append(&file, "PAR1", 4));
    FILE *f = fopen(path, "wb");
    ST_ASSERT(f && fwrite(file.data, 1, file.len, f) == file.len && fclose(f) == 0);
    st_pq_compressor_free(&zstd);
    st_pq_compressor_free(&lz4);
    st_buf_free(&lv);
    st_buf_free(&vals);
}

static void
test_foreign_file(void)
{
    char *dir = st_test_tmpdir("sst_foreign");
    char *path = st_path_join(dir, "duck.parquet");
    build_file(path);
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), path, NULL, &r));
    const st_sst_meta *m = st_sst_reader_meta(r);
    ST_ASSERT_EQ(m->entries, 3);
    ST_ASSERT_MEM_EQ(m->smallest, m->smallest_len, "a", 1);
    ST_ASSERT_MEM_EQ(m->largest, m->largest_len, "c", 1);
    ST_ASSERT(strcmp(st_sst_meta_prop(m, "writer"), "hand") == 0);
    /* scan */
    static const char *const keys[3] = {"a", "b\xff", "c"};
    st_iter *it = NULL;
    ST_ASSERT_OK(st_sst_reader_iter(r, NULL, 0, NULL, 0, 1, &it));
    int i = 0;
    for (st_iter_seek_first(it); it->valid; st_iter_next(it), i++) {
        ST_ASSERT_MEM_EQ(it->key, it->klen, keys[i], strlen(keys[i]));
        ST_ASSERT_EQ(it->seq, 30 - i);
        ST_ASSERT_EQ(it->kind, i == 1 ? ST_KIND_DELETE : ST_KIND_PUT);
    }
    ST_ASSERT_OK(it->status);
    ST_ASSERT_EQ(i, 3);
    st_iter_close(it);
    /* gets */
    st_buf v = {0};
    int kind;
    uint64_t seq;
    ST_ASSERT_OK(st_sst_reader_get(r, (const uint8_t *)"c", 1, ST_SEQ_MAX, ST_SST_ITER_FILL_CACHE,
                                   &kind, &v, &seq));
    ST_ASSERT_MEM_EQ(v.data, v.len, "vc", 2);
    ST_ASSERT_EQ(seq, 28);
    ST_ASSERT_OK(st_sst_reader_get(r, (const uint8_t *)"b\xff", 2, ST_SEQ_MAX,
                                   ST_SST_ITER_FILL_CACHE, &kind, &v, &seq));
    ST_ASSERT_EQ(kind, ST_KIND_DELETE);
    ST_ASSERT_EQ(v.len, 0);
    ST_ASSERT_RC(
        st_sst_reader_get(r, (const uint8_t *)"c", 1, 27, ST_SST_ITER_FILL_CACHE, &kind, &v, &seq),
        STRATA_NOTFOUND);
    ST_ASSERT_RC(st_sst_reader_get(r, (const uint8_t *)"bb", 2, ST_SEQ_MAX, ST_SST_ITER_FILL_CACHE,
                                   &kind, &v, &seq),
                 STRATA_NOTFOUND);
    st_buf_free(&v);
    st_sst_reader_unref(r);
    st_buf rep = {0};
    ST_ASSERT_OK(st_sst_verify(st_env_posix(), path, &rep));
    st_buf_free(&rep);
    st_free(path);
    st_test_rmrf(dir);
    st_free(dir);
    st_buf_free(&file);
}

/* Issue 12 finding 4: a foreign table is validated completely, and a rejected one names the
 * rule it breaks and the row. */
static void
test_foreign_rules(void)
{
    char *dir = st_test_tmpdir("sst_foreign_rules");
    char *path = st_path_join(dir, "bad.parquet");
    static const struct {
        st_test_row rows[3];
        const char *want; /* in the verify error */
    } cases[] = {
        {{{"a", 3, 1, "x"}, {"c", 2, 1, "y"}, {"b", 1, 1, "z"}},
         "row 2 (row group 0 row 2) is out of order"},
        {{{"", 3, 1, "x"}, {"b", 2, 1, "y"}, {"c", 1, 1, "z"}}, "row 0: key of 0 bytes"},
        {{{"a", 3, 1, "x"}, {"b", 2, 7, "y"}, {"c", 1, 1, "z"}}, "row 1: kind 7 is neither"},
        {{{"a", 3, 1, "x"}, {"b", -1, 1, "y"}, {"c", 1, 1, "z"}}, "row 1: seqno -1 is outside"},
        {{{"a", 3, 1, "x"}, {"b", 2, 1, NULL}, {"c", 1, 1, "z"}}, "row 1: put with a NULL value"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        st_test_write_foreign(path, cases[i].rows, 3);
        st_sst_reader *r = NULL;
        ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), path, NULL, &r));
        ST_ASSERT(st_sst_reader_meta(r)->foreign);
        st_sst_reader_unref(r);
        ST_ASSERT_RC(st_sst_verify(st_env_posix(), path, NULL), STRATA_CORRUPT);
        if (!strstr(st_errmsg(), cases[i].want))
            ST_FAIL("case %zu: '%s' not in '%s'", i, cases[i].want, st_errmsg());
    }
    /* a valid one passes, tombstone (kind 0, NULL value) included */
    static const st_test_row good[3] = {{"a", 3, 1, "x"}, {"b", 2, 0, NULL}, {"c", 1, 1, ""}};
    st_test_write_foreign(path, good, 3);
    ST_ASSERT_OK(st_sst_verify(st_env_posix(), path, NULL));
    st_free(path);
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_foreign_file);
    ST_RUN(test_foreign_rules);
    return st_test_done();
}
