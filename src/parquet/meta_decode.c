/* SPDX-License-Identifier: Apache-2.0 */
/*
 * meta_decode.c -- Thrift compact bytes -> Parquet metadata structs, as field descriptor tables
 * for the generic decoder of thrift_desc.h (one table per Thrift struct; irregular fields have
 * small handlers).
 */
#include "parquet/parquet.h"
#include "parquet/thrift_desc.h"
#include "util/status.h"

#include <stddef.h>
#include <string.h>

#define MEMBER_SIZE(T, m) ((uint8_t)sizeof(((T *)0)->m))
#define MISSING(S, name) S "." name " missing"

/* Field descriptors: (struct name, C type, id, Thrift field name, member, required). */
#define F_INT(S, T, id_, name, wire_, m, req)                                                      \
    {                                                                                              \
        .id = id_, .kind = ST_TF_INT, .wire = wire_, .size = MEMBER_SIZE(T, m), .required = req,   \
        .off = offsetof(T, m), .has_off = ST_TF_NONE, .missing = MISSING(S, name)                  \
    }
#define F_INT_HAS(S, T, id_, name, wire_, m, has)                                                  \
    {                                                                                              \
        .id = id_, .kind = ST_TF_INT, .wire = wire_, .size = MEMBER_SIZE(T, m),                    \
        .off = offsetof(T, m), .has_off = offsetof(T, has), .missing = MISSING(S, name)            \
    }
#define F_INT_DROP(S, id_, name, wire_)                                                            \
    {                                                                                              \
        .id = id_, .kind = ST_TF_INT, .wire = wire_, .required = 1, .has_off = ST_TF_NONE,         \
        .missing = MISSING(S, name)                                                                \
    }
#define F_BOOL(S, T, id_, name, m)                                                                 \
    {                                                                                              \
        .id = id_, .kind = ST_TF_BOOL, .size = MEMBER_SIZE(T, m), .off = offsetof(T, m),           \
        .has_off = ST_TF_NONE, .missing = MISSING(S, name)                                         \
    }
#define F_BIN(S, T, id_, name, m, req, has)                                                        \
    {                                                                                              \
        .id = id_, .kind = ST_TF_BIN, .required = req, .off = offsetof(T, m), .has_off = has,      \
        .missing = MISSING(S, name)                                                                \
    }
#define F_STRUCT(S, T, id_, name, m, sub_, has)                                                    \
    {                                                                                              \
        .id = id_, .kind = ST_TF_STRUCT, .off = offsetof(T, m), .has_off = has, .sub = sub_,       \
        .missing = MISSING(S, name)                                                                \
    }
#define F_LIST(S, T, id_, name, m, count, sub_, req)                                               \
    {                                                                                              \
        .id = id_, .kind = ST_TF_LIST, .required = req, .off = offsetof(T, m),                     \
        .has_off = ST_TF_NONE, .count_off = offsetof(T, count), .sub = sub_,                       \
        .missing = MISSING(S, name)                                                                \
    }
#define F_FN(S, id_, name, fn_, req)                                                               \
    {                                                                                              \
        .id = id_, .kind = ST_TF_FN, .required = req, .has_off = ST_TF_NONE, .fn = fn_,            \
        .missing = MISSING(S, name)                                                                \
    }
#define NFIELDS(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))
#define STRUCT_DESC(fields, T, init_, check_)                                                      \
    {                                                                                              \
        .f = fields, .n = NFIELDS(fields), .size = sizeof(T), .init = init_, .check = check_       \
    }

/* ---- Statistics -------------------------------------------------------------------------- */

static void
init_stats(void *obj)
{
    memset(obj, 0, sizeof(st_pq_stats));
}

static const st_tfield stats_fields[] = {
    F_INT_HAS("Statistics", st_pq_stats, 3, "null_count", ST_TT_I64, null_count, has_null_count),
    F_BIN("Statistics", st_pq_stats, 5, "max_value", max, 0, offsetof(st_pq_stats, has_max)),
    F_BIN("Statistics", st_pq_stats, 6, "min_value", min, 0, offsetof(st_pq_stats, has_min)),
    F_BOOL("Statistics", st_pq_stats, 7, "is_max_value_exact", max_exact),
    F_BOOL("Statistics", st_pq_stats, 8, "is_min_value_exact", min_exact),
};
static const st_tstruct stats_desc = STRUCT_DESC(stats_fields, st_pq_stats, init_stats, NULL);

/* ---- FileMetaData ------------------------------------------------------------------------ */

static void
init_schema_elem(void *obj)
{
    st_pq_schema_elem *s = obj;
    s->type = s->repetition = s->num_children = s->converted_type = s->type_length = -1;
}

#define SE "SchemaElement"
static const st_tfield schema_elem_fields[] = {
    F_INT(SE, st_pq_schema_elem, 1, "type", ST_TT_I32, type, 0),
    F_INT(SE, st_pq_schema_elem, 2, "type_length", ST_TT_I32, type_length, 0),
    F_INT(SE, st_pq_schema_elem, 3, "repetition_type", ST_TT_I32, repetition, 0),
    F_BIN(SE, st_pq_schema_elem, 4, "name", name, 1, ST_TF_NONE),
    F_INT(SE, st_pq_schema_elem, 5, "num_children", ST_TT_I32, num_children, 0),
    F_INT(SE, st_pq_schema_elem, 6, "converted_type", ST_TT_I32, converted_type, 0),
};
static const st_tstruct schema_elem_desc =
    STRUCT_DESC(schema_elem_fields, st_pq_schema_elem, init_schema_elem, NULL);

/* The header of a list field: 0 when the value is not a list (skipped) or on error. */
static int
list_header(st_tdec *d, int type, int *et, uint32_t *n)
{
    if (type != ST_TT_LIST) {
        st_thrift_skip(&d->r, type);
        return 0;
    }
    return st_thrift_read_list(&d->r, et, n);
}

/* ColumnMetaData.encodings: list<i32> into a bit set (values outside 0..31 are ignored). */
static int
dec_encodings(st_tdec *d, int type, void *obj)
{
    st_pq_column_meta *m = obj;
    int et;
    uint32_t n;
    if (!list_header(d, type, &et, &n))
        return 0;
    for (uint32_t i = 0; i < n && !d->r.err; i++) {
        int ok = 0;
        if (et != ST_TT_I32) {
            st_thrift_skip_elem(&d->r, et);
            continue;
        }
        int64_t e = st_thrift_read_int(&d->r, et, &ok);
        if (ok && e >= 0 && e < 32)
            m->encodings |= 1u << e;
    }
    return !d->r.err;
}

/* ColumnMetaData.path_in_schema: list<binary>, the last element kept (flat schemas). */
static int
dec_path(st_tdec *d, int type, void *obj)
{
    st_pq_column_meta *m = obj;
    int et;
    uint32_t n;
    if (!list_header(d, type, &et, &n))
        return 0;
    for (uint32_t i = 0; i < n && !d->r.err; i++) {
        if (et == ST_TT_BINARY)
            m->path.p = st_thrift_read_binary(&d->r, &m->path.len);
        else
            st_thrift_skip_elem(&d->r, et);
    }
    return !d->r.err;
}

/* ColumnMetaData.dictionary_page_offset: 0 counts as absent. */
static int
dec_dict_offset(st_tdec *d, int type, void *obj)
{
    st_pq_column_meta *m = obj;
    int ok = 0;
    if (type != ST_TT_I64) {
        st_thrift_skip(&d->r, type);
        return 0;
    }
    int64_t v = st_thrift_read_int(&d->r, type, &ok);
    if (ok && v > 0)
        m->dictionary_page_offset = v;
    return ok;
}

static void
init_column_meta(void *obj)
{
    st_pq_column_meta *m = obj;
    m->dictionary_page_offset = -1;
    m->bloom_offset = -1;
    m->bloom_length = -1;
}

#define CM "ColumnMetaData"
static const st_tfield column_meta_fields[] = {
    F_INT(CM, st_pq_column_meta, 1, "type", ST_TT_I32, type, 1),
    F_FN(CM, 2, "encodings", dec_encodings, 1),
    F_FN(CM, 3, "path_in_schema", dec_path, 0),
    F_INT(CM, st_pq_column_meta, 4, "codec", ST_TT_I32, codec, 1),
    F_INT(CM, st_pq_column_meta, 5, "num_values", ST_TT_I64, num_values, 1),
    F_INT(CM, st_pq_column_meta, 6, "total_uncompressed_size", ST_TT_I64, total_uncompressed_size,
          1),
    F_INT(CM, st_pq_column_meta, 7, "total_compressed_size", ST_TT_I64, total_compressed_size, 1),
    F_INT(CM, st_pq_column_meta, 9, "data_page_offset", ST_TT_I64, data_page_offset, 1),
    F_FN(CM, 11, "dictionary_page_offset", dec_dict_offset, 0),
    F_STRUCT(CM, st_pq_column_meta, 12, "statistics", stats, &stats_desc,
             offsetof(st_pq_column_meta, has_stats)),
    F_INT(CM, st_pq_column_meta, 14, "bloom_filter_offset", ST_TT_I64, bloom_offset, 0),
    F_INT(CM, st_pq_column_meta, 15, "bloom_filter_length", ST_TT_I32, bloom_length, 0),
};
static const st_tstruct column_meta_desc =
    STRUCT_DESC(column_meta_fields, st_pq_column_meta, init_column_meta, NULL);

static int
dec_file_path(st_tdec *d, int type, void *obj)
{
    (void)obj;
    st_thrift_skip(&d->r, type);
    st_thrift_fail(&d->r, "ColumnChunk.file_path (external data) not supported");
    return 0;
}

static void
init_column_chunk(void *obj)
{
    st_pq_column_chunk *c = obj;
    c->offset_index_offset = c->column_index_offset = -1;
    c->offset_index_length = c->column_index_length = -1;
}

#define CC "ColumnChunk"
static const st_tfield column_chunk_fields[] = {
    F_FN(CC, 1, "file_path", dec_file_path, 0),
    F_STRUCT(CC, st_pq_column_chunk, 3, "meta_data", meta, &column_meta_desc, ST_TF_NONE),
    F_INT(CC, st_pq_column_chunk, 4, "offset_index_offset", ST_TT_I64, offset_index_offset, 0),
    F_INT(CC, st_pq_column_chunk, 5, "offset_index_length", ST_TT_I32, offset_index_length, 0),
    F_INT(CC, st_pq_column_chunk, 6, "column_index_offset", ST_TT_I64, column_index_offset, 0),
    F_INT(CC, st_pq_column_chunk, 7, "column_index_length", ST_TT_I32, column_index_length, 0),
};
/* meta_data is required (it is optional in the Thrift IDL, but strata reads no file without) */
static void
check_column_chunk(st_tdec *d, void *obj, uint32_t seen)
{
    (void)obj;
    if (!(seen & (1u << 1)))
        st_thrift_fail(&d->r, "ColumnChunk.meta_data missing");
}
static const st_tstruct column_chunk_desc =
    STRUCT_DESC(column_chunk_fields, st_pq_column_chunk, init_column_chunk, check_column_chunk);

#define SC "SortingColumn"
static const st_tfield sorting_fields[] = {
    F_INT(SC, st_pq_sorting_column, 1, "column_idx", ST_TT_I32, column_idx, 0),
    F_BOOL(SC, st_pq_sorting_column, 2, "descending", descending),
    F_BOOL(SC, st_pq_sorting_column, 3, "nulls_first", nulls_first),
};
static const st_tstruct sorting_desc =
    STRUCT_DESC(sorting_fields, st_pq_sorting_column, NULL, NULL);

static void
init_row_group(void *obj)
{
    st_pq_row_group *g = obj;
    g->file_offset = g->total_compressed_size = -1;
    g->ordinal = -1;
}

#define RG "RowGroup"
static const st_tfield row_group_fields[] = {
    F_LIST(RG, st_pq_row_group, 1, "columns", columns, ncolumns, &column_chunk_desc, 1),
    F_INT(RG, st_pq_row_group, 2, "total_byte_size", ST_TT_I64, total_byte_size, 1),
    F_INT(RG, st_pq_row_group, 3, "num_rows", ST_TT_I64, num_rows, 1),
    F_LIST(RG, st_pq_row_group, 4, "sorting_columns", sorting, nsorting, &sorting_desc, 0),
    F_INT(RG, st_pq_row_group, 5, "file_offset", ST_TT_I64, file_offset, 0),
    F_INT(RG, st_pq_row_group, 6, "total_compressed_size", ST_TT_I64, total_compressed_size, 0),
    F_INT(RG, st_pq_row_group, 7, "ordinal", ST_TT_I16, ordinal, 0),
};
static const st_tstruct row_group_desc =
    STRUCT_DESC(row_group_fields, st_pq_row_group, init_row_group, NULL);

static const st_tfield kv_fields[] = {
    F_BIN("KeyValue", st_pq_kv, 1, "key", key, 1, ST_TF_NONE),
    F_BIN("KeyValue", st_pq_kv, 2, "value", value, 0, offsetof(st_pq_kv, has_value)),
};
static const st_tstruct kv_desc = STRUCT_DESC(kv_fields, st_pq_kv, NULL, NULL);

/* ColumnOrder (a union): 1 when its member is TYPE_ORDER (field 1, an empty struct). */
static int
dec_type_order(st_tdec *d, int type, void *obj)
{
    if (type == ST_TT_STRUCT)
        *(uint8_t *)obj = 1;
    st_thrift_skip(&d->r, type);
    return 1;
}

static const st_tfield column_order_fields[] = {
    F_FN("ColumnOrder", 1, "TYPE_ORDER", dec_type_order, 0),
};
static const st_tstruct column_order_desc = {
    .f = column_order_fields, .n = NFIELDS(column_order_fields), .size = 1};

#define FM "FileMetaData"
static const st_tfield file_meta_fields[] = {
    F_INT(FM, st_pq_file_meta, 1, "version", ST_TT_I32, version, 1),
    F_LIST(FM, st_pq_file_meta, 2, "schema", schema, nschema, &schema_elem_desc, 1),
    F_INT(FM, st_pq_file_meta, 3, "num_rows", ST_TT_I64, num_rows, 1),
    F_LIST(FM, st_pq_file_meta, 4, "row_groups", row_groups, nrow_groups, &row_group_desc, 1),
    F_LIST(FM, st_pq_file_meta, 5, "key_value_metadata", kv, nkv, &kv_desc, 0),
    F_BIN(FM, st_pq_file_meta, 6, "created_by", created_by, 0, ST_TF_NONE),
    F_LIST(FM, st_pq_file_meta, 7, "column_orders", column_orders, ncolumn_orders,
           &column_order_desc, 0),
};
static const st_tstruct file_meta_desc = STRUCT_DESC(file_meta_fields, st_pq_file_meta, NULL, NULL);

int
st_pq_decode_file_meta(const uint8_t *p, size_t n, st_arena *a, const char *what, uint64_t base_off,
                       st_pq_file_meta *m)
{
    st_tdec d = {.a = a};
    memset(m, 0, sizeof(*m));
    st_thrift_reader_init(&d.r, p, n);
    st_tdec_struct(&d, &file_meta_desc, m);
    return st_tdec_finish(&d, what, "footer", base_off);
}

/* ---- PageHeader (the read hot path) ------------------------------------------------------ */

static void
check_data_page(st_tdec *d, void *obj, uint32_t seen)
{
    st_pq_page_header *h = obj;
    (void)seen;
    if (h->num_values < 0 || h->def_len < 0 || h->rep_len < 0)
        st_thrift_fail(&d->r, "DataPageHeader: negative count");
}

#define DP "DataPageHeader"
static const st_tfield data_page_fields[] = {
    F_INT(DP, st_pq_page_header, 1, "num_values", ST_TT_I32, num_values, 1),
    F_INT(DP, st_pq_page_header, 2, "encoding", ST_TT_I32, encoding, 1),
    F_INT_DROP(DP, 3, "definition_level_encoding", ST_TT_I32),
    F_INT_DROP(DP, 4, "repetition_level_encoding", ST_TT_I32),
    F_STRUCT(DP, st_pq_page_header, 5, "statistics", stats, &stats_desc,
             offsetof(st_pq_page_header, has_stats)),
};
static const st_tstruct data_page_desc =
    STRUCT_DESC(data_page_fields, st_pq_page_header, NULL, check_data_page);

static void
check_data_page_v2(st_tdec *d, void *obj, uint32_t seen)
{
    st_pq_page_header *h = obj;
    check_data_page(d, obj, seen);
    if (!d->r.err && (h->num_nulls < 0 || h->num_rows < 0))
        st_thrift_fail(&d->r, "DataPageHeader: negative count");
}

#define DP2 "DataPageHeaderV2"
static const st_tfield data_page_v2_fields[] = {
    F_INT(DP2, st_pq_page_header, 1, "num_values", ST_TT_I32, num_values, 1),
    F_INT(DP2, st_pq_page_header, 2, "num_nulls", ST_TT_I32, num_nulls, 1),
    F_INT(DP2, st_pq_page_header, 3, "num_rows", ST_TT_I32, num_rows, 1),
    F_INT(DP2, st_pq_page_header, 4, "encoding", ST_TT_I32, encoding, 1),
    F_INT(DP2, st_pq_page_header, 5, "definition_levels_byte_length", ST_TT_I32, def_len, 1),
    F_INT(DP2, st_pq_page_header, 6, "repetition_levels_byte_length", ST_TT_I32, rep_len, 1),
    F_BOOL(DP2, st_pq_page_header, 7, "is_compressed", is_compressed),
    F_STRUCT(DP2, st_pq_page_header, 8, "statistics", stats, &stats_desc,
             offsetof(st_pq_page_header, has_stats)),
};
static const st_tstruct data_page_v2_desc =
    STRUCT_DESC(data_page_v2_fields, st_pq_page_header, NULL, check_data_page_v2);

static void
check_dict_page(st_tdec *d, void *obj, uint32_t seen)
{
    (void)seen;
    if (((st_pq_page_header *)obj)->dict_num_values < 0)
        st_thrift_fail(&d->r, "DictionaryPageHeader: negative count");
}

#define DIP "DictionaryPageHeader"
static const st_tfield dict_page_fields[] = {
    F_INT(DIP, st_pq_page_header, 1, "num_values", ST_TT_I32, dict_num_values, 1),
    F_INT(DIP, st_pq_page_header, 2, "encoding", ST_TT_I32, dict_encoding, 1),
};
static const st_tstruct dict_page_desc =
    STRUCT_DESC(dict_page_fields, st_pq_page_header, NULL, check_dict_page);

/* Field indexes of the page type headers in page_header_fields. */
enum { PH_DATA = 4, PH_DICT = 5, PH_DATA_V2 = 6 };

static void
check_page_header(st_tdec *d, void *obj, uint32_t seen)
{
    st_pq_page_header *h = obj;
    if (h->uncompressed_size < 0 || h->compressed_size < 0)
        st_thrift_fail(&d->r, "PageHeader: negative size");
    else if ((h->type == ST_PQ_DATA_PAGE && !(seen & (1u << PH_DATA))) ||
             (h->type == ST_PQ_DICTIONARY_PAGE && !(seen & (1u << PH_DICT))) ||
             (h->type == ST_PQ_DATA_PAGE_V2 && !(seen & (1u << PH_DATA_V2))))
        st_thrift_fail(&d->r, "PageHeader: page type header missing");
}

/* The sub-headers decode into the page header itself (offset 0). */
#define PH "PageHeader"
static const st_tfield page_header_fields[] = {
    F_INT(PH, st_pq_page_header, 1, "type", ST_TT_I32, type, 1),
    F_INT(PH, st_pq_page_header, 2, "uncompressed_page_size", ST_TT_I32, uncompressed_size, 1),
    F_INT(PH, st_pq_page_header, 3, "compressed_page_size", ST_TT_I32, compressed_size, 1),
    F_INT_HAS(PH, st_pq_page_header, 4, "crc", ST_TT_I32, crc, has_crc),
    {.id = 5, .kind = ST_TF_STRUCT, .has_off = ST_TF_NONE, .sub = &data_page_desc},
    {.id = 7, .kind = ST_TF_STRUCT, .has_off = ST_TF_NONE, .sub = &dict_page_desc},
    {.id = 8, .kind = ST_TF_STRUCT, .has_off = ST_TF_NONE, .sub = &data_page_v2_desc},
};
static const st_tstruct page_header_desc =
    STRUCT_DESC(page_header_fields, st_pq_page_header, NULL, check_page_header);

/*
 * The common case without the table-driven decoder (a page read decodes one header per column,
 * and the generic walk was 13% of a seek's samples): a v1 data page header laid out exactly as
 * writers emit it -- fields 1, 2, 3, optional 4 (crc), then 5 = DataPageHeader with fields 1..4
 * and no statistics, each i32 in canonical order. Anything else (another page type, statistics,
 * other field order, a varint that does not fit 32 bits, truncation) returns 0 and the generic
 * decoder, which accepts and checks every layout, decides. On 1 the header obeys the same checks
 * the generic decoder applies.
 */
static int
fast_i32(const uint8_t **pp, const uint8_t *end, uint8_t field_byte, int32_t *out)
{
    const uint8_t *p = *pp;
    if (p >= end || *p++ != field_byte)
        return 0;
    uint64_t v = 0;
    for (unsigned s = 0; s < 35 && p < end; s += 7) {
        uint8_t b = *p++;
        v |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) {
            if (v > 0xffffffffu)
                return 0;
            uint32_t u = (uint32_t)v;
            *out = (int32_t)((u >> 1) ^ (0u - (u & 1)));
            *pp = p;
            return 1;
        }
    }
    return 0;
}

static int
fast_data_page_header(const uint8_t *p, size_t n, st_pq_page_header *h, size_t *used)
{
    const uint8_t *s = p, *end = p + n;
    int32_t type, crc, dle, rle;
    /* compact protocol field headers: delta 1, type i32 (5) = 0x15; struct (12) = 0x?c */
    if (!fast_i32(&p, end, 0x15, &type) || type != ST_PQ_DATA_PAGE ||
        !fast_i32(&p, end, 0x15, &h->uncompressed_size) ||
        !fast_i32(&p, end, 0x15, &h->compressed_size) || p >= end)
        return 0;
    if (*p == 0x15) {
        if (!fast_i32(&p, end, 0x15, &crc) || p >= end || *p != 0x1c)
            return 0;
        h->crc = (uint32_t)crc;
        h->has_crc = 1;
    } else if (*p != 0x2c) {
        return 0;
    }
    p++;
    if (!fast_i32(&p, end, 0x15, &h->num_values) || !fast_i32(&p, end, 0x15, &h->encoding) ||
        !fast_i32(&p, end, 0x15, &dle) || !fast_i32(&p, end, 0x15, &rle) || end - p < 2 ||
        p[0] != 0 || p[1] != 0)
        return 0;
    if (h->uncompressed_size < 0 || h->compressed_size < 0 || h->num_values < 0)
        return 0; /* the generic decoder names the problem */
    h->type = ST_PQ_DATA_PAGE;
    if (used)
        *used = (size_t)(p + 2 - s);
    return 1;
}

int
st_pq_decode_page_header(const uint8_t *p, size_t n, const char *what, uint64_t base_off,
                         st_pq_page_header *h, size_t *used)
{
    memset(h, 0, sizeof(*h));
    h->num_nulls = h->num_rows = -1;
    h->is_compressed = 1;
    if (fast_data_page_header(p, n, h, used))
        return STRATA_OK;
    return st_pq_decode_page_header_generic(p, n, what, base_off, h, used);
}

int
st_pq_decode_page_header_generic(const uint8_t *p, size_t n, const char *what, uint64_t base_off,
                                 st_pq_page_header *h, size_t *used)
{
    st_tdec d = {.a = NULL};
    memset(h, 0, sizeof(*h));
    h->num_nulls = h->num_rows = -1;
    h->is_compressed = 1;
    st_thrift_reader_init(&d.r, p, n);
    st_tdec_struct(&d, &page_header_desc, h);
    if (used)
        *used = st_thrift_pos(&d.r);
    return st_tdec_finish(&d, what, "page header", base_off);
}

/* ---- OffsetIndex ------------------------------------------------------------------------- */

#define PL "PageLocation"
static const st_tfield page_location_fields[] = {
    F_INT(PL, st_pq_page_location, 1, "offset", ST_TT_I64, offset, 1),
    F_INT(PL, st_pq_page_location, 2, "compressed_page_size", ST_TT_I32, compressed_size, 1),
    F_INT(PL, st_pq_page_location, 3, "first_row_index", ST_TT_I64, first_row, 1),
};
static const st_tstruct page_location_desc =
    STRUCT_DESC(page_location_fields, st_pq_page_location, NULL, NULL);

static const st_tfield offset_index_fields[] = {
    F_LIST("OffsetIndex", st_pq_offset_index, 1, "page_locations", pages, npages,
           &page_location_desc, 1),
};
static const st_tstruct offset_index_desc =
    STRUCT_DESC(offset_index_fields, st_pq_offset_index, NULL, NULL);

int
st_pq_decode_offset_index(const uint8_t *p, size_t n, st_arena *a, const char *what,
                          uint64_t base_off, st_pq_offset_index *oi)
{
    st_tdec d = {.a = a};
    memset(oi, 0, sizeof(*oi));
    st_thrift_reader_init(&d.r, p, n);
    st_tdec_struct(&d, &offset_index_desc, oi);
    return st_tdec_finish(&d, what, "offset index", base_off);
}

/* ---- ColumnIndex ------------------------------------------------------------------------- */

/* The column index plus the list lengths its check compares. */
typedef struct ci_dec {
    st_pq_column_index ci;
    uint32_t nmin, nmax, nnc;
} ci_dec;

static int
dec_null_pages(st_tdec *d, int type, void *obj)
{
    ci_dec *c = obj;
    int et;
    uint32_t cnt;
    if (type != ST_TT_LIST || !st_thrift_read_list(&d->r, &et, &cnt))
        return st_thrift_fail(&d->r, "ColumnIndex.null_pages");
    if (et != ST_TT_TRUE && et != ST_TT_FALSE)
        return st_thrift_fail(&d->r, "ColumnIndex.null_pages element type");
    c->ci.null_pages = st_tdec_alloc(d, cnt);
    for (uint32_t i = 0; c->ci.null_pages && i < cnt && !d->r.err; i++) {
        if (d->r.p >= d->r.end)
            return st_thrift_fail(&d->r, "truncated");
        c->ci.null_pages[i] = *d->r.p++ == 1;
    }
    c->ci.npages = cnt;
    return !d->r.err;
}

/* A list<binary> into an arena array. */
static st_pq_bytes *
dec_bin_list(st_tdec *d, int type, uint32_t *count)
{
    int et;
    uint32_t n;
    if (!list_header(d, type, &et, &n))
        return NULL;
    if (et != ST_TT_BINARY) {
        st_thrift_fail(&d->r, "list<binary> of wrong element type");
        return NULL;
    }
    st_pq_bytes *arr = st_tdec_alloc(d, sizeof(*arr) * n);
    for (uint32_t i = 0; arr && i < n && !d->r.err; i++)
        arr[i].p = st_thrift_read_binary(&d->r, &arr[i].len);
    *count = n;
    return d->r.err ? NULL : arr;
}

static int
dec_mins(st_tdec *d, int type, void *obj)
{
    ci_dec *c = obj;
    c->ci.mins = dec_bin_list(d, type, &c->nmin);
    return c->ci.mins != NULL;
}

static int
dec_maxs(st_tdec *d, int type, void *obj)
{
    ci_dec *c = obj;
    c->ci.maxs = dec_bin_list(d, type, &c->nmax);
    return c->ci.maxs != NULL;
}

static int
dec_null_counts(st_tdec *d, int type, void *obj)
{
    ci_dec *c = obj;
    int et;
    uint32_t cnt;
    if (type != ST_TT_LIST || !st_thrift_read_list(&d->r, &et, &cnt) || et != ST_TT_I64)
        return st_thrift_fail(&d->r, "ColumnIndex.null_counts");
    c->ci.null_counts = st_tdec_alloc(d, sizeof(int64_t) * cnt);
    for (uint32_t i = 0; c->ci.null_counts && i < cnt && !d->r.err; i++) {
        int ok = 0;
        c->ci.null_counts[i] = st_thrift_read_int(&d->r, ST_TT_I64, &ok);
    }
    c->nnc = cnt;
    return 0; /* optional */
}

static void
check_column_index(st_tdec *d, void *obj, uint32_t seen)
{
    ci_dec *c = obj;
    (void)seen;
    uint32_t nn = c->ci.npages;
    if (c->nmin != nn || c->nmax != nn || (c->ci.null_counts && c->nnc != nn))
        st_thrift_fail(&d->r, "ColumnIndex: list lengths differ");
}

#define CI "ColumnIndex"
static const st_tfield column_index_fields[] = {
    F_FN(CI, 1, "null_pages", dec_null_pages, 1),
    F_FN(CI, 2, "min_values", dec_mins, 1),
    F_FN(CI, 3, "max_values", dec_maxs, 1),
    F_INT(CI, ci_dec, 4, "boundary_order", ST_TT_I32, ci.boundary_order, 1),
    F_FN(CI, 5, "null_counts", dec_null_counts, 0),
};
static const st_tstruct column_index_desc =
    STRUCT_DESC(column_index_fields, ci_dec, NULL, check_column_index);

int
st_pq_decode_column_index(const uint8_t *p, size_t n, st_arena *a, const char *what,
                          uint64_t base_off, st_pq_column_index *ci)
{
    st_tdec d = {.a = a};
    ci_dec c;
    memset(&c, 0, sizeof(c));
    st_thrift_reader_init(&d.r, p, n);
    st_tdec_struct(&d, &column_index_desc, &c);
    *ci = c.ci;
    return st_tdec_finish(&d, what, "column index", base_off);
}

/* ---- BloomFilterHeader ------------------------------------------------------------------- */

/* The header plus whether each union (algorithm, hash, compression) is its member 1. */
typedef struct bloom_dec {
    st_pq_bloom_header h;
    uint8_t member1[5]; /* by field id */
} bloom_dec;

/* A union whose only accepted member is field 1 (BLOCK / XXHASH / UNCOMPRESSED). */
static const st_tfield union_fields[] = {
    F_FN("BloomFilterHeader", 1, "member", dec_type_order, 0),
};
static const st_tstruct union_desc = {.f = union_fields, .n = NFIELDS(union_fields), .size = 1};

/* Union field `id` of the header: present whatever its wire type (a non-struct is just not a
 * supported member). */
static int
dec_union(st_tdec *d, int type, bloom_dec *b, int id)
{
    if (type != ST_TT_STRUCT) {
        st_thrift_skip(&d->r, type);
        return 1;
    }
    if (st_thrift_struct_enter(&d->r)) {
        st_tdec_struct(d, &union_desc, &b->member1[id]);
        st_thrift_struct_leave(&d->r);
    }
    return 1;
}

#define UNION_FN(name, id)                                                                         \
    static int name(st_tdec *d, int type, void *obj)                                               \
    {                                                                                              \
        return dec_union(d, type, obj, id);                                                        \
    }
UNION_FN(dec_algorithm, 2)
UNION_FN(dec_hash, 3)
UNION_FN(dec_compression, 4)

#define BH "BloomFilterHeader"
static const st_tfield bloom_fields[] = {
    F_INT(BH, bloom_dec, 1, "numBytes", ST_TT_I32, h.num_bytes, 1),
    F_FN(BH, 2, "algorithm", dec_algorithm, 1),
    F_FN(BH, 3, "hash", dec_hash, 1),
    F_FN(BH, 4, "compression", dec_compression, 1),
};

static void
check_bloom(st_tdec *d, void *obj, uint32_t seen)
{
    bloom_dec *b = obj;
    (void)seen;
    if (b->h.num_bytes < 0)
        st_thrift_fail(&d->r, "BloomFilterHeader: negative size");
}
static const st_tstruct bloom_desc = STRUCT_DESC(bloom_fields, bloom_dec, NULL, check_bloom);

int
st_pq_decode_bloom_header(const uint8_t *p, size_t n, const char *what, uint64_t base_off,
                          st_pq_bloom_header *h, size_t *used)
{
    st_tdec d = {.a = NULL};
    bloom_dec b;
    memset(&b, 0, sizeof(b));
    st_thrift_reader_init(&d.r, p, n);
    st_tdec_struct(&d, &bloom_desc, &b);
    b.h.supported = b.member1[2] && b.member1[3] && b.member1[4];
    *h = b.h;
    if (used)
        *used = st_thrift_pos(&d.r);
    return st_tdec_finish(&d, what, "bloom filter header", base_off);
}
