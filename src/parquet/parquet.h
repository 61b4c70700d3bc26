/* SPDX-License-Identifier: Apache-2.0 */
/*
 * parquet.h -- Parquet metadata structures and their Thrift compact encoders/decoders.
 *
 * This module knows nothing about strata's database: it is a small codec for the subset of the
 * Parquet format described in doc/format_sst.md (the Apache Parquet specification is the rest). Its
 * extern names use the short module prefix st_pq_ (st_thrift_ for the protocol layer).
 *
 * Decoded structures borrow: binary fields (names, statistics, key/value metadata) point into
 * the input buffer, which must outlive them; arrays are allocated from the st_arena passed to the
 * decoder and freed with it. Decoders skip unknown fields, check every length against the input,
 * enforce IDL-required fields and return STRATA_CORRUPT with "<what> at offset N" in the detail
 * message (N = base_off + position, so callers pass the file offset of the bytes), NOMEM when the
 * arena fails. Encoders append to an st_buf and return STRATA_OK or STRATA_NOMEM.
 *
 * Thread safety: none needed (pure functions over caller-owned memory).
 */
#ifndef ST_PARQUET_PARQUET_H
#define ST_PARQUET_PARQUET_H

#include "util/arena.h"
#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Physical types */
enum {
    ST_PQ_BOOLEAN = 0,
    ST_PQ_INT32 = 1,
    ST_PQ_INT64 = 2,
    ST_PQ_INT96 = 3,
    ST_PQ_FLOAT = 4,
    ST_PQ_DOUBLE = 5,
    ST_PQ_BYTE_ARRAY = 6,
    ST_PQ_FIXED_LEN_BYTE_ARRAY = 7
};
/* Repetition */
enum { ST_PQ_REQUIRED = 0, ST_PQ_OPTIONAL = 1, ST_PQ_REPEATED = 2 };
/* Encodings */
enum {
    ST_PQ_PLAIN = 0,
    ST_PQ_PLAIN_DICTIONARY = 2,
    ST_PQ_RLE = 3,
    ST_PQ_BIT_PACKED = 4,
    ST_PQ_DELTA_BINARY_PACKED = 5,
    ST_PQ_DELTA_LENGTH_BYTE_ARRAY = 6,
    ST_PQ_DELTA_BYTE_ARRAY = 7,
    ST_PQ_RLE_DICTIONARY = 8
};
/* Codecs (CompressionCodec) */
enum {
    ST_PQ_UNCOMPRESSED = 0,
    ST_PQ_SNAPPY = 1,
    ST_PQ_GZIP = 2,
    ST_PQ_LZ4 = 5, /* deprecated Hadoop-framed LZ4: read only */
    ST_PQ_ZSTD = 6,
    ST_PQ_LZ4_RAW = 7
};
/* Page types */
enum {
    ST_PQ_DATA_PAGE = 0,
    ST_PQ_INDEX_PAGE = 1,
    ST_PQ_DICTIONARY_PAGE = 2,
    ST_PQ_DATA_PAGE_V2 = 3
};
/* BoundaryOrder */
enum { ST_PQ_UNORDERED = 0, ST_PQ_ASCENDING = 1, ST_PQ_DESCENDING = 2 };

typedef struct st_pq_bytes {
    const uint8_t *p;
    uint32_t len;
} st_pq_bytes;

typedef struct st_pq_stats {
    st_pq_bytes min, max; /* min_value / max_value (legacy min/max are ignored on read) */
    int64_t null_count;
    uint8_t has_min, has_max, has_null_count;
    uint8_t min_exact, max_exact; /* written as is_*_value_exact */
} st_pq_stats;

typedef struct st_pq_schema_elem {
    int type;       /* -1 for groups */
    int repetition; /* -1 absent (root) */
    st_pq_bytes name;
    int num_children;   /* -1 absent */
    int converted_type; /* -1 absent */
    int type_length;    /* -1 absent */
} st_pq_schema_elem;

typedef struct st_pq_column_meta {
    int type;
    int codec;
    uint32_t encodings; /* bit (1 << enc) for each encoding listed (enc < 32) */
    st_pq_bytes path;   /* last element of path_in_schema (flat schemas) */
    int64_t num_values;
    int64_t total_uncompressed_size;
    int64_t total_compressed_size;
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* -1 = absent (0 is treated as absent on read) */
    st_pq_stats stats;
    uint8_t has_stats;
    int64_t bloom_offset; /* -1 = absent */
    int32_t bloom_length; /* -1 = absent */
} st_pq_column_meta;

typedef struct st_pq_column_chunk {
    st_pq_column_meta meta;
    int64_t offset_index_offset; /* -1 = absent */
    int32_t offset_index_length;
    int64_t column_index_offset; /* -1 = absent */
    int32_t column_index_length;
} st_pq_column_chunk;

typedef struct st_pq_sorting_column {
    int32_t column_idx;
    int descending, nulls_first;
} st_pq_sorting_column;

typedef struct st_pq_row_group {
    st_pq_column_chunk *columns;
    uint32_t ncolumns;
    int64_t total_byte_size;
    int64_t num_rows;
    int64_t file_offset;           /* -1 = absent */
    int64_t total_compressed_size; /* -1 = absent */
    int ordinal;                   /* -1 = absent */
    st_pq_sorting_column *sorting;
    uint32_t nsorting;
} st_pq_row_group;

typedef struct st_pq_kv {
    st_pq_bytes key, value;
    uint8_t has_value;
} st_pq_kv;

typedef struct st_pq_file_meta {
    int32_t version;
    st_pq_schema_elem *schema;
    uint32_t nschema;
    int64_t num_rows;
    st_pq_row_group *row_groups;
    uint32_t nrow_groups;
    st_pq_kv *kv;
    uint32_t nkv;
    st_pq_bytes created_by; /* len 0 = absent */
    uint8_t *column_orders; /* 1 = TYPE_ORDER, 0 = other/unknown; NULL when absent */
    uint32_t ncolumn_orders;
} st_pq_file_meta;

typedef struct st_pq_page_header {
    int type;
    int32_t uncompressed_size, compressed_size;
    uint32_t crc;
    uint8_t has_crc;
    /* data page v1 / v2 */
    int32_t num_values, num_nulls, num_rows; /* v1: num_nulls = num_rows = -1 */
    int encoding;
    int32_t def_len, rep_len; /* v2 only */
    int is_compressed;        /* v2: default 1 */
    st_pq_stats stats;
    uint8_t has_stats;
    /* dictionary page */
    int32_t dict_num_values;
    int dict_encoding;
} st_pq_page_header;

typedef struct st_pq_page_location {
    int64_t offset;
    int32_t compressed_size; /* header + payload */
    int64_t first_row;
} st_pq_page_location;

typedef struct st_pq_offset_index {
    st_pq_page_location *pages;
    uint32_t npages;
} st_pq_offset_index;

typedef struct st_pq_column_index {
    uint8_t *null_pages;
    st_pq_bytes *mins, *maxs;
    int64_t *null_counts; /* NULL when absent */
    uint32_t npages;
    int boundary_order;
} st_pq_column_index;

typedef struct st_pq_bloom_header {
    int32_t num_bytes;
    int supported; /* BLOCK + XXHASH + UNCOMPRESSED */
} st_pq_bloom_header;

/* Encoders (append to out). */
int st_pq_encode_file_meta(st_buf *out, const st_pq_file_meta *m);
int st_pq_encode_page_header(st_buf *out, const st_pq_page_header *h);
int st_pq_encode_offset_index(st_buf *out, const st_pq_offset_index *oi);
int st_pq_encode_column_index(st_buf *out, const st_pq_column_index *ci);
int st_pq_encode_bloom_header(st_buf *out, int32_t num_bytes);

/*
 * Decoders. `what` names the source for messages (a file path), base_off is the file offset of
 * p. *used (optional) receives the number of bytes consumed (page headers are followed by data).
 */
int st_pq_decode_file_meta(const uint8_t *p, size_t n, st_arena *a, const char *what,
                           uint64_t base_off, st_pq_file_meta *out);
int st_pq_decode_page_header(const uint8_t *p, size_t n, const char *what, uint64_t base_off,
                             st_pq_page_header *out, size_t *used);
/* The table-driven page header decoder alone. st_pq_decode_page_header takes a shortcut for
 * plain v1 data page headers and gives exactly this function's result; tests compare the two. */
int st_pq_decode_page_header_generic(const uint8_t *p, size_t n, const char *what,
                                     uint64_t base_off, st_pq_page_header *out, size_t *used);
int st_pq_decode_offset_index(const uint8_t *p, size_t n, st_arena *a, const char *what,
                              uint64_t base_off, st_pq_offset_index *out);
int st_pq_decode_column_index(const uint8_t *p, size_t n, st_arena *a, const char *what,
                              uint64_t base_off, st_pq_column_index *out);
int st_pq_decode_bloom_header(const uint8_t *p, size_t n, const char *what, uint64_t base_off,
                              st_pq_bloom_header *out, size_t *used);

#endif
