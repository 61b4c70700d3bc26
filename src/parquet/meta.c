/* SPDX-License-Identifier: Apache-2.0 */
/* meta.c -- Parquet metadata structs <-> Thrift compact bytes. */
#include "parquet/parquet.h"
#include "parquet/thrift.h"
#include "util/status.h"

#include <string.h>

/* ---- encoders ------------------------------------------------------------------------------- */

static void
enc_stats(st_thrift_writer *w, int16_t id, const st_pq_stats *s)
{
    st_thrift_struct_begin(w, id);
    if (s->has_null_count)
        st_thrift_write_i64(w, 3, s->null_count);
    if (s->has_max)
        st_thrift_write_binary(w, 5, s->max.p, s->max.len);
    if (s->has_min)
        st_thrift_write_binary(w, 6, s->min.p, s->min.len);
    if (s->has_max)
        st_thrift_write_bool(w, 7, s->max_exact);
    if (s->has_min)
        st_thrift_write_bool(w, 8, s->min_exact);
    st_thrift_struct_end(w);
}

/* An empty-struct union member: `id: {}` inside a struct field `outer`. */
static void
enc_union_empty(st_thrift_writer *w, int16_t outer, int16_t member)
{
    st_thrift_struct_begin(w, outer);
    st_thrift_struct_begin(w, member);
    st_thrift_struct_end(w);
    st_thrift_struct_end(w);
}

static int
popcount32(uint32_t v)
{
    int n = 0;
    for (; v; v &= v - 1)
        n++;
    return n;
}

static void
enc_column_meta(st_thrift_writer *w, const st_pq_column_meta *m)
{
    st_thrift_struct_begin(w, 3);
    st_thrift_write_i32(w, 1, m->type);
    st_thrift_list_begin(w, 2, ST_TT_I32, (size_t)popcount32(m->encodings));
    for (int e = 0; e < 32; e++)
        if (m->encodings & (1u << e))
            st_thrift_elem_i32(w, e);
    st_thrift_list_begin(w, 3, ST_TT_BINARY, 1);
    st_thrift_elem_binary(w, m->path.p, m->path.len);
    st_thrift_write_i32(w, 4, m->codec);
    st_thrift_write_i64(w, 5, m->num_values);
    st_thrift_write_i64(w, 6, m->total_uncompressed_size);
    st_thrift_write_i64(w, 7, m->total_compressed_size);
    st_thrift_write_i64(w, 9, m->data_page_offset);
    if (m->dictionary_page_offset > 0)
        st_thrift_write_i64(w, 11, m->dictionary_page_offset);
    if (m->has_stats)
        enc_stats(w, 12, &m->stats);
    if (m->bloom_offset >= 0) {
        st_thrift_write_i64(w, 14, m->bloom_offset);
        st_thrift_write_i32(w, 15, m->bloom_length);
    }
    st_thrift_struct_end(w);
}

int
st_pq_encode_file_meta(st_buf *out, const st_pq_file_meta *m)
{
    st_thrift_writer w;
    st_thrift_writer_init(&w, out);
    st_thrift_write_i32(&w, 1, m->version);
    st_thrift_list_begin(&w, 2, ST_TT_STRUCT, m->nschema);
    for (uint32_t i = 0; i < m->nschema; i++) {
        const st_pq_schema_elem *s = &m->schema[i];
        st_thrift_struct_begin(&w, 0);
        if (s->type >= 0)
            st_thrift_write_i32(&w, 1, s->type);
        if (s->type_length >= 0)
            st_thrift_write_i32(&w, 2, s->type_length);
        if (s->repetition >= 0)
            st_thrift_write_i32(&w, 3, s->repetition);
        st_thrift_write_binary(&w, 4, s->name.p, s->name.len);
        if (s->num_children >= 0)
            st_thrift_write_i32(&w, 5, s->num_children);
        if (s->converted_type >= 0)
            st_thrift_write_i32(&w, 6, s->converted_type);
        st_thrift_struct_end(&w);
    }
    st_thrift_write_i64(&w, 3, m->num_rows);
    st_thrift_list_begin(&w, 4, ST_TT_STRUCT, m->nrow_groups);
    for (uint32_t g = 0; g < m->nrow_groups; g++) {
        const st_pq_row_group *rg = &m->row_groups[g];
        st_thrift_struct_begin(&w, 0);
        st_thrift_list_begin(&w, 1, ST_TT_STRUCT, rg->ncolumns);
        for (uint32_t c = 0; c < rg->ncolumns; c++) {
            const st_pq_column_chunk *cc = &rg->columns[c];
            st_thrift_struct_begin(&w, 0);
            st_thrift_write_i64(&w, 2, 0);
            enc_column_meta(&w, &cc->meta);
            if (cc->offset_index_offset >= 0) {
                st_thrift_write_i64(&w, 4, cc->offset_index_offset);
                st_thrift_write_i32(&w, 5, cc->offset_index_length);
            }
            if (cc->column_index_offset >= 0) {
                st_thrift_write_i64(&w, 6, cc->column_index_offset);
                st_thrift_write_i32(&w, 7, cc->column_index_length);
            }
            st_thrift_struct_end(&w);
        }
        st_thrift_write_i64(&w, 2, rg->total_byte_size);
        st_thrift_write_i64(&w, 3, rg->num_rows);
        if (rg->nsorting) {
            st_thrift_list_begin(&w, 4, ST_TT_STRUCT, rg->nsorting);
            for (uint32_t i = 0; i < rg->nsorting; i++) {
                st_thrift_struct_begin(&w, 0);
                st_thrift_write_i32(&w, 1, rg->sorting[i].column_idx);
                st_thrift_write_bool(&w, 2, rg->sorting[i].descending);
                st_thrift_write_bool(&w, 3, rg->sorting[i].nulls_first);
                st_thrift_struct_end(&w);
            }
        }
        if (rg->file_offset >= 0)
            st_thrift_write_i64(&w, 5, rg->file_offset);
        if (rg->total_compressed_size >= 0)
            st_thrift_write_i64(&w, 6, rg->total_compressed_size);
        if (rg->ordinal >= 0 && rg->ordinal <= INT16_MAX)
            st_thrift_write_i16(&w, 7, (int16_t)rg->ordinal);
        st_thrift_struct_end(&w);
    }
    if (m->nkv) {
        st_thrift_list_begin(&w, 5, ST_TT_STRUCT, m->nkv);
        for (uint32_t i = 0; i < m->nkv; i++) {
            st_thrift_struct_begin(&w, 0);
            st_thrift_write_binary(&w, 1, m->kv[i].key.p, m->kv[i].key.len);
            if (m->kv[i].has_value)
                st_thrift_write_binary(&w, 2, m->kv[i].value.p, m->kv[i].value.len);
            st_thrift_struct_end(&w);
        }
    }
    if (m->created_by.len)
        st_thrift_write_binary(&w, 6, m->created_by.p, m->created_by.len);
    if (m->column_orders) {
        st_thrift_list_begin(&w, 7, ST_TT_STRUCT, m->ncolumn_orders);
        for (uint32_t i = 0; i < m->ncolumn_orders; i++) {
            st_thrift_struct_begin(&w, 0);
            st_thrift_struct_begin(&w, 1);
            st_thrift_struct_end(&w);
            st_thrift_struct_end(&w);
        }
    }
    st_thrift_write_stop(&w);
    return w.rc;
}

int
st_pq_encode_page_header(st_buf *out, const st_pq_page_header *h)
{
    st_thrift_writer w;
    st_thrift_writer_init(&w, out);
    st_thrift_write_i32(&w, 1, h->type);
    st_thrift_write_i32(&w, 2, h->uncompressed_size);
    st_thrift_write_i32(&w, 3, h->compressed_size);
    if (h->has_crc)
        st_thrift_write_i32(&w, 4, (int32_t)h->crc);
    if (h->type == ST_PQ_DATA_PAGE) {
        st_thrift_struct_begin(&w, 5);
        st_thrift_write_i32(&w, 1, h->num_values);
        st_thrift_write_i32(&w, 2, h->encoding);
        st_thrift_write_i32(&w, 3, ST_PQ_RLE);
        st_thrift_write_i32(&w, 4, ST_PQ_RLE);
        if (h->has_stats)
            enc_stats(&w, 5, &h->stats);
        st_thrift_struct_end(&w);
    } else if (h->type == ST_PQ_DICTIONARY_PAGE) {
        st_thrift_struct_begin(&w, 7);
        st_thrift_write_i32(&w, 1, h->dict_num_values);
        st_thrift_write_i32(&w, 2, h->dict_encoding);
        st_thrift_struct_end(&w);
    } else if (h->type == ST_PQ_DATA_PAGE_V2) {
        st_thrift_struct_begin(&w, 8);
        st_thrift_write_i32(&w, 1, h->num_values);
        st_thrift_write_i32(&w, 2, h->num_nulls);
        st_thrift_write_i32(&w, 3, h->num_rows);
        st_thrift_write_i32(&w, 4, h->encoding);
        st_thrift_write_i32(&w, 5, h->def_len);
        st_thrift_write_i32(&w, 6, h->rep_len);
        st_thrift_write_bool(&w, 7, h->is_compressed);
        if (h->has_stats)
            enc_stats(&w, 8, &h->stats);
        st_thrift_struct_end(&w);
    }
    st_thrift_write_stop(&w);
    return w.rc;
}

int
st_pq_encode_offset_index(st_buf *out, const st_pq_offset_index *oi)
{
    st_thrift_writer w;
    st_thrift_writer_init(&w, out);
    st_thrift_list_begin(&w, 1, ST_TT_STRUCT, oi->npages);
    for (uint32_t i = 0; i < oi->npages; i++) {
        st_thrift_struct_begin(&w, 0);
        st_thrift_write_i64(&w, 1, oi->pages[i].offset);
        st_thrift_write_i32(&w, 2, oi->pages[i].compressed_size);
        st_thrift_write_i64(&w, 3, oi->pages[i].first_row);
        st_thrift_struct_end(&w);
    }
    st_thrift_write_stop(&w);
    return w.rc;
}

int
st_pq_encode_column_index(st_buf *out, const st_pq_column_index *ci)
{
    st_thrift_writer w;
    st_thrift_writer_init(&w, out);
    st_thrift_list_begin(&w, 1, ST_TT_TRUE, ci->npages);
    for (uint32_t i = 0; i < ci->npages; i++)
        st_thrift_elem_bool(&w, ci->null_pages[i]);
    st_thrift_list_begin(&w, 2, ST_TT_BINARY, ci->npages);
    for (uint32_t i = 0; i < ci->npages; i++)
        st_thrift_elem_binary(&w, ci->mins[i].p, ci->mins[i].len);
    st_thrift_list_begin(&w, 3, ST_TT_BINARY, ci->npages);
    for (uint32_t i = 0; i < ci->npages; i++)
        st_thrift_elem_binary(&w, ci->maxs[i].p, ci->maxs[i].len);
    st_thrift_write_i32(&w, 4, ci->boundary_order);
    if (ci->null_counts) {
        st_thrift_list_begin(&w, 5, ST_TT_I64, ci->npages);
        for (uint32_t i = 0; i < ci->npages; i++)
            st_thrift_elem_i64(&w, ci->null_counts[i]);
    }
    st_thrift_write_stop(&w);
    return w.rc;
}

int
st_pq_encode_bloom_header(st_buf *out, int32_t num_bytes)
{
    st_thrift_writer w;
    st_thrift_writer_init(&w, out);
    st_thrift_write_i32(&w, 1, num_bytes);
    enc_union_empty(&w, 2, 1);
    enc_union_empty(&w, 3, 1);
    enc_union_empty(&w, 4, 1);
    st_thrift_write_stop(&w);
    return w.rc;
}

/* ---- decoders ------------------------------------------------------------------------------- */

/* Decoder context: the thrift cursor plus an arena and NOMEM flag. */
typedef struct dec {
    st_thrift_reader r;
    st_arena *a;
    int nomem;
} dec;

static void *
dalloc(dec *d, size_t n)
{
    if (n == 0)
        n = 1;
    void *p = st_arena_alloc(d->a, n);
    if (!p) {
        d->nomem = 1;
        st_thrift_fail(&d->r, "out of memory");
        return NULL;
    }
    memset(p, 0, n);
    return p;
}

/* Read an integer field of the expected wire type; wrong type = skipped, *got stays 0. */
static int64_t get_int(dec *d, int type, int want, int *got);

/* Optional integer fields: *dst is written only when the field has the expected wire type. */
static int
opt_int(dec *d, int type, int want, int64_t *v)
{
    int got = 0;
    *v = get_int(d, type, want, &got);
    return got;
}

#define OPT_INT_FN(name, wire, ctype)                                                              \
    static int name(dec *d, int type, ctype *dst)                                                  \
    {                                                                                              \
        int64_t v;                                                                                 \
        int got = opt_int(d, type, wire, &v);                                                      \
        if (got)                                                                                   \
            *dst = (ctype)v;                                                                       \
        return got;                                                                                \
    }
OPT_INT_FN(opt_i16, ST_TT_I16, int)
OPT_INT_FN(opt_i32, ST_TT_I32, int32_t)
OPT_INT_FN(opt_i64, ST_TT_I64, int64_t)

static int64_t
get_int(dec *d, int type, int want, int *got)
{
    int ok = 0;
    if (type != want) {
        st_thrift_skip(&d->r, type);
        return 0;
    }
    int64_t v = st_thrift_read_int(&d->r, type, &ok);
    if (ok)
        *got = 1;
    return v;
}

static int
get_bin(dec *d, int type, st_pq_bytes *b)
{
    if (type != ST_TT_BINARY) {
        st_thrift_skip(&d->r, type);
        return 0;
    }
    b->p = st_thrift_read_binary(&d->r, &b->len);
    return b->p != NULL;
}

static int
get_bool(dec *d, int type, int *got)
{
    int ok = 0;
    int v = st_thrift_read_bool(&d->r, type, &ok);
    if (ok)
        *got = 1;
    return v;
}

/* Begin a nested struct value (field of type STRUCT); 0 if the type is wrong (skipped). */
static int
enter(dec *d, int type)
{
    if (type != ST_TT_STRUCT) {
        st_thrift_skip(&d->r, type);
        return 0;
    }
    return st_thrift_struct_enter(&d->r);
}

static void
dec_stats(dec *d, st_pq_stats *s)
{
    int16_t last = 0, id;
    int t, got = 0;
    memset(s, 0, sizeof(*s));
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        got = 0;
        switch (id) {
        case 3:
            s->null_count = get_int(d, t, ST_TT_I64, &got);
            s->has_null_count = got ? 1 : 0;
            break;
        case 5:
            s->has_max = get_bin(d, t, &s->max) ? 1 : 0;
            break;
        case 6:
            s->has_min = get_bin(d, t, &s->min) ? 1 : 0;
            break;
        case 7:
            s->max_exact = get_bool(d, t, &got) ? 1 : 0;
            break;
        case 8:
            s->min_exact = get_bool(d, t, &got) ? 1 : 0;
            break;
        default:
            st_thrift_skip(&d->r, t);
        }
    }
    st_thrift_struct_leave(&d->r);
}

/* Decode a list of structs: calls fn for each element (already entered). */
typedef void (*elem_fn)(dec *d, void *arr, uint32_t i);

static void *
dec_struct_list(dec *d, int type, size_t elem_size, uint32_t *count, elem_fn fn)
{
    int et;
    uint32_t n;
    *count = 0;
    if (type != ST_TT_LIST) {
        st_thrift_skip(&d->r, type);
        return NULL;
    }
    if (!st_thrift_read_list(&d->r, &et, &n))
        return NULL;
    if (et != ST_TT_STRUCT) {
        for (uint32_t i = 0; i < n && !d->r.err; i++)
            st_thrift_skip_elem(&d->r, et);
        st_thrift_fail(&d->r, "list of wrong element type");
        return NULL;
    }
    uint8_t *arr = dalloc(d, elem_size * n);
    if (!arr)
        return NULL;
    for (uint32_t i = 0; i < n && !d->r.err; i++) {
        if (!st_thrift_struct_enter(&d->r))
            break;
        fn(d, arr, i);
    }
    if (d->r.err)
        return NULL;
    *count = n;
    return arr;
}

static void
dec_schema_elem(dec *d, void *arr, uint32_t i)
{
    st_pq_schema_elem *s = &((st_pq_schema_elem *)arr)[i];
    int16_t last = 0, id;
    int t, got_name = 0;
    s->type = s->repetition = s->num_children = s->converted_type = s->type_length = -1;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        switch (id) {
        case 1:
            (void)opt_i32(d, t, &s->type);
            break;
        case 2:
            (void)opt_i32(d, t, &s->type_length);
            break;
        case 3:
            (void)opt_i32(d, t, &s->repetition);
            break;
        case 4:
            got_name = get_bin(d, t, &s->name);
            break;
        case 5:
            (void)opt_i32(d, t, &s->num_children);
            break;
        case 6:
            (void)opt_i32(d, t, &s->converted_type);
            break;
        default:
            st_thrift_skip(&d->r, t);
        }
    }
    if (!d->r.err && !got_name)
        st_thrift_fail(&d->r, "SchemaElement.name missing");
    st_thrift_struct_leave(&d->r);
}

static void
dec_column_meta(dec *d, st_pq_column_meta *m)
{
    int16_t last = 0, id;
    int t, et;
    unsigned seen = 0;
    uint32_t n;
    m->dictionary_page_offset = -1;
    m->bloom_offset = -1;
    m->bloom_length = -1;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        int got = 0;
        int64_t v = 0;
        switch (id) {
        case 1:
        case 4:
            got = opt_i32(d, t, &*(id == 1 ? &m->type : &m->codec));
            break;
        case 2:
            if (t != ST_TT_LIST) {
                st_thrift_skip(&d->r, t);
                break;
            }
            if (!st_thrift_read_list(&d->r, &et, &n))
                break;
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
            got = !d->r.err;
            break;
        case 3:
            if (t != ST_TT_LIST) {
                st_thrift_skip(&d->r, t);
                break;
            }
            if (!st_thrift_read_list(&d->r, &et, &n))
                break;
            for (uint32_t i = 0; i < n && !d->r.err; i++) {
                if (et == ST_TT_BINARY)
                    m->path.p = st_thrift_read_binary(&d->r, &m->path.len);
                else
                    st_thrift_skip_elem(&d->r, et);
            }
            got = !d->r.err;
            break;
        case 5:
            m->num_values = get_int(d, t, ST_TT_I64, &got);
            break;
        case 6:
            m->total_uncompressed_size = get_int(d, t, ST_TT_I64, &got);
            break;
        case 7:
            m->total_compressed_size = get_int(d, t, ST_TT_I64, &got);
            break;
        case 9:
            m->data_page_offset = get_int(d, t, ST_TT_I64, &got);
            break;
        case 11:
            v = get_int(d, t, ST_TT_I64, &got);
            if (got && v > 0)
                m->dictionary_page_offset = v;
            break;
        case 12:
            if (enter(d, t)) {
                dec_stats(d, &m->stats);
                m->has_stats = 1;
            }
            break;
        case 14:
            got = opt_i64(d, t, &m->bloom_offset);
            break;
        case 15:
            got = opt_i32(d, t, &m->bloom_length);
            break;
        default:
            st_thrift_skip(&d->r, t);
        }
        if (got && id < 32)
            seen |= 1u << id;
    }
    const unsigned required =
        (1u << 1) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 9);
    if (!d->r.err && (seen & required) != required)
        st_thrift_fail(&d->r, "ColumnMetaData: required field missing");
    st_thrift_struct_leave(&d->r);
}

static void
dec_column_chunk(dec *d, void *arr, uint32_t i)
{
    st_pq_column_chunk *c = &((st_pq_column_chunk *)arr)[i];
    int16_t last = 0, id;
    int t, have_meta = 0;
    c->offset_index_offset = c->column_index_offset = -1;
    c->offset_index_length = c->column_index_length = -1;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        switch (id) {
        case 1:
            st_thrift_skip(&d->r, t);
            st_thrift_fail(&d->r, "ColumnChunk.file_path (external data) not supported");
            break;
        case 3:
            if (enter(d, t)) {
                dec_column_meta(d, &c->meta);
                have_meta = 1;
            }
            break;
        case 4:
            (void)opt_i64(d, t, &c->offset_index_offset);
            break;
        case 5:
            (void)opt_i32(d, t, &c->offset_index_length);
            break;
        case 6:
            (void)opt_i64(d, t, &c->column_index_offset);
            break;
        case 7:
            (void)opt_i32(d, t, &c->column_index_length);
            break;
        default:
            st_thrift_skip(&d->r, t);
        }
    }
    if (!d->r.err && !have_meta)
        st_thrift_fail(&d->r, "ColumnChunk.meta_data missing");
    st_thrift_struct_leave(&d->r);
}

static void
dec_sorting(dec *d, void *arr, uint32_t i)
{
    st_pq_sorting_column *s = &((st_pq_sorting_column *)arr)[i];
    int16_t last = 0, id;
    int t, got = 0;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        if (id == 1)
            s->column_idx = (int32_t)get_int(d, t, ST_TT_I32, &got);
        else if (id == 2)
            s->descending = get_bool(d, t, &got);
        else if (id == 3)
            s->nulls_first = get_bool(d, t, &got);
        else
            st_thrift_skip(&d->r, t);
    }
    st_thrift_struct_leave(&d->r);
}

static void
dec_row_group(dec *d, void *arr, uint32_t i)
{
    st_pq_row_group *g = &((st_pq_row_group *)arr)[i];
    int16_t last = 0, id;
    int t;
    unsigned seen = 0;
    g->file_offset = g->total_compressed_size = -1;
    g->ordinal = -1;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        int got = 0;
        switch (id) {
        case 1:
            g->columns =
                dec_struct_list(d, t, sizeof(st_pq_column_chunk), &g->ncolumns, dec_column_chunk);
            got = !d->r.err;
            break;
        case 2:
            g->total_byte_size = get_int(d, t, ST_TT_I64, &got);
            break;
        case 3:
            g->num_rows = get_int(d, t, ST_TT_I64, &got);
            break;
        case 4:
            g->sorting =
                dec_struct_list(d, t, sizeof(st_pq_sorting_column), &g->nsorting, dec_sorting);
            break;
        case 5:
            got = opt_i64(d, t, &g->file_offset);
            break;
        case 6:
            got = opt_i64(d, t, &g->total_compressed_size);
            break;
        case 7:
            got = opt_i16(d, t, &g->ordinal);
            break;
        default:
            st_thrift_skip(&d->r, t);
        }
        if (got && id < 32)
            seen |= 1u << id;
    }
    const unsigned required = (1u << 1) | (1u << 2) | (1u << 3);
    if (!d->r.err && (seen & required) != required)
        st_thrift_fail(&d->r, "RowGroup: required field missing");
    st_thrift_struct_leave(&d->r);
}

static void
dec_kv(dec *d, void *arr, uint32_t i)
{
    st_pq_kv *kv = &((st_pq_kv *)arr)[i];
    int16_t last = 0, id;
    int t, got_key = 0;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        if (id == 1)
            got_key = get_bin(d, t, &kv->key);
        else if (id == 2)
            kv->has_value = get_bin(d, t, &kv->value);
        else
            st_thrift_skip(&d->r, t);
    }
    if (!d->r.err && !got_key)
        st_thrift_fail(&d->r, "KeyValue.key missing");
    st_thrift_struct_leave(&d->r);
}

static void
dec_column_order(dec *d, void *arr, uint32_t i)
{
    uint8_t *o = &((uint8_t *)arr)[i];
    int16_t last = 0, id;
    int t;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        if (id == 1 && t == ST_TT_STRUCT)
            *o = 1;
        st_thrift_skip(&d->r, t);
    }
    st_thrift_struct_leave(&d->r);
}

static int
finish(dec *d, const char *what, const char *type, uint64_t base_off)
{
    if (d->nomem)
        return st_err(STRATA_NOMEM, "%s: out of memory decoding %s", what, type);
    if (d->r.err)
        return st_err(STRATA_CORRUPT, "%s: malformed %s (%s) at offset %llu", what, type,
                      d->r.err_what, (unsigned long long)(base_off + d->r.err_off));
    return STRATA_OK;
}

int
st_pq_decode_file_meta(const uint8_t *p, size_t n, st_arena *a, const char *what, uint64_t base_off,
                       st_pq_file_meta *m)
{
    dec d = {.a = a};
    int16_t last = 0, id;
    int t;
    unsigned seen = 0;
    memset(m, 0, sizeof(*m));
    st_thrift_reader_init(&d.r, p, n);
    while (st_thrift_next_field(&d.r, &last, &id, &t)) {
        int got = 0;
        switch (id) {
        case 1:
            m->version = (int32_t)get_int(&d, t, ST_TT_I32, &got);
            break;
        case 2:
            m->schema =
                dec_struct_list(&d, t, sizeof(st_pq_schema_elem), &m->nschema, dec_schema_elem);
            got = !d.r.err;
            break;
        case 3:
            m->num_rows = get_int(&d, t, ST_TT_I64, &got);
            break;
        case 4:
            m->row_groups =
                dec_struct_list(&d, t, sizeof(st_pq_row_group), &m->nrow_groups, dec_row_group);
            got = !d.r.err;
            break;
        case 5:
            m->kv = dec_struct_list(&d, t, sizeof(st_pq_kv), &m->nkv, dec_kv);
            break;
        case 6:
            get_bin(&d, t, &m->created_by);
            break;
        case 7:
            m->column_orders = dec_struct_list(&d, t, 1, &m->ncolumn_orders, dec_column_order);
            break;
        default:
            st_thrift_skip(&d.r, t);
        }
        if (got && id < 32)
            seen |= 1u << id;
    }
    const unsigned required = (1u << 1) | (1u << 2) | (1u << 3) | (1u << 4);
    if (!d.r.err && (seen & required) != required)
        st_thrift_fail(&d.r, "FileMetaData: required field missing");
    return finish(&d, what, "footer", base_off);
}

static void
dec_data_page_header(dec *d, st_pq_page_header *h, int v2)
{
    int16_t last = 0, id;
    int t;
    unsigned seen = 0;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        int got = 0;
        int64_t v = 0;
        if (v2 && id == 7) {
            h->is_compressed = get_bool(d, t, &got);
            continue;
        }
        if ((!v2 && id == 5) || (v2 && id == 8)) {
            if (enter(d, t)) {
                dec_stats(d, &h->stats);
                h->has_stats = 1;
            }
            continue;
        }
        if (id >= 1 && id <= (v2 ? 6 : 4))
            v = get_int(d, t, ST_TT_I32, &got);
        else
            st_thrift_skip(&d->r, t);
        if (!got)
            continue;
        seen |= 1u << id;
        int32_t v32 = (int32_t)v;
        if (id == 1)
            h->num_values = v32;
        else if (!v2 && id == 2)
            h->encoding = v32;
        else if (v2 && id == 2)
            h->num_nulls = v32;
        else if (v2 && id == 3)
            h->num_rows = v32;
        else if (v2 && id == 4)
            h->encoding = v32;
        else if (v2 && id == 5)
            h->def_len = v32;
        else if (v2 && id == 6)
            h->rep_len = v32;
    }
    unsigned required = v2 ? 0x7e : 0x1e;
    if (!d->r.err && (seen & required) != required)
        st_thrift_fail(&d->r, "DataPageHeader: required field missing");
    if (!d->r.err && (h->num_values < 0 || h->def_len < 0 || h->rep_len < 0 ||
                      (v2 && (h->num_nulls < 0 || h->num_rows < 0))))
        st_thrift_fail(&d->r, "DataPageHeader: negative count");
    st_thrift_struct_leave(&d->r);
}

static void
dec_dict_page_header(dec *d, st_pq_page_header *h)
{
    int16_t last = 0, id;
    int t;
    unsigned seen = 0;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        int got = 0;
        if (id == 1)
            h->dict_num_values = (int32_t)get_int(d, t, ST_TT_I32, &got);
        else if (id == 2)
            h->dict_encoding = (int)get_int(d, t, ST_TT_I32, &got);
        else
            st_thrift_skip(&d->r, t);
        if (got)
            seen |= 1u << id;
    }
    if (!d->r.err && (seen & 6) != 6)
        st_thrift_fail(&d->r, "DictionaryPageHeader: required field missing");
    if (!d->r.err && h->dict_num_values < 0)
        st_thrift_fail(&d->r, "DictionaryPageHeader: negative count");
    st_thrift_struct_leave(&d->r);
}

int
st_pq_decode_page_header(const uint8_t *p, size_t n, const char *what, uint64_t base_off,
                         st_pq_page_header *h, size_t *used)
{
    dec d = {0};
    int16_t last = 0, id;
    int t, have_sub = 0;
    unsigned seen = 0;
    memset(h, 0, sizeof(*h));
    h->num_nulls = h->num_rows = -1;
    h->is_compressed = 1;
    st_thrift_reader_init(&d.r, p, n);
    while (st_thrift_next_field(&d.r, &last, &id, &t)) {
        int got = 0;
        int64_t v = 0;
        switch (id) {
        case 1:
        case 2:
        case 3:
        case 4:
            v = get_int(&d, t, ST_TT_I32, &got);
            if (!got)
                break;
            seen |= 1u << id;
            if (id == 1)
                h->type = (int)v;
            else if (id == 2)
                h->uncompressed_size = (int32_t)v;
            else if (id == 3)
                h->compressed_size = (int32_t)v;
            else {
                h->crc = (uint32_t)(int32_t)v;
                h->has_crc = 1;
            }
            break;
        case 5:
        case 8:
            if (enter(&d, t)) {
                dec_data_page_header(&d, h, id == 8);
                have_sub |= id == 5 ? 1 : 4;
            }
            break;
        case 7:
            if (enter(&d, t)) {
                dec_dict_page_header(&d, h);
                have_sub |= 2;
            }
            break;
        default:
            st_thrift_skip(&d.r, t);
        }
    }
    if (!d.r.err && (seen & 0xe) != 0xe)
        st_thrift_fail(&d.r, "PageHeader: required field missing");
    if (!d.r.err && (h->uncompressed_size < 0 || h->compressed_size < 0))
        st_thrift_fail(&d.r, "PageHeader: negative size");
    if (!d.r.err && ((h->type == ST_PQ_DATA_PAGE && !(have_sub & 1)) ||
                     (h->type == ST_PQ_DICTIONARY_PAGE && !(have_sub & 2)) ||
                     (h->type == ST_PQ_DATA_PAGE_V2 && !(have_sub & 4))))
        st_thrift_fail(&d.r, "PageHeader: page type header missing");
    if (used)
        *used = st_thrift_pos(&d.r);
    return finish(&d, what, "page header", base_off);
}

static void
dec_page_location(dec *d, void *arr, uint32_t i)
{
    st_pq_page_location *l = &((st_pq_page_location *)arr)[i];
    int16_t last = 0, id;
    int t;
    unsigned seen = 0;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        int got = 0;
        if (id == 1)
            l->offset = get_int(d, t, ST_TT_I64, &got);
        else if (id == 2)
            l->compressed_size = (int32_t)get_int(d, t, ST_TT_I32, &got);
        else if (id == 3)
            l->first_row = get_int(d, t, ST_TT_I64, &got);
        else
            st_thrift_skip(&d->r, t);
        if (got)
            seen |= 1u << id;
    }
    if (!d->r.err && seen != 0xe)
        st_thrift_fail(&d->r, "PageLocation: required field missing");
    st_thrift_struct_leave(&d->r);
}

int
st_pq_decode_offset_index(const uint8_t *p, size_t n, st_arena *a, const char *what,
                          uint64_t base_off, st_pq_offset_index *oi)
{
    dec d = {.a = a};
    int16_t last = 0, id;
    int t, got = 0;
    memset(oi, 0, sizeof(*oi));
    st_thrift_reader_init(&d.r, p, n);
    while (st_thrift_next_field(&d.r, &last, &id, &t)) {
        if (id == 1) {
            oi->pages =
                dec_struct_list(&d, t, sizeof(st_pq_page_location), &oi->npages, dec_page_location);
            got = !d.r.err;
        } else {
            st_thrift_skip(&d.r, t);
        }
    }
    if (!d.r.err && !got)
        st_thrift_fail(&d.r, "OffsetIndex.page_locations missing");
    return finish(&d, what, "offset index", base_off);
}

/* A list<binary> into an arena array; n must equal *expect when *expect != UINT32_MAX. */
static st_pq_bytes *
dec_bin_list(dec *d, int type, uint32_t *count)
{
    int et;
    uint32_t n;
    if (type != ST_TT_LIST) {
        st_thrift_skip(&d->r, type);
        return NULL;
    }
    if (!st_thrift_read_list(&d->r, &et, &n))
        return NULL;
    if (et != ST_TT_BINARY) {
        st_thrift_fail(&d->r, "list<binary> of wrong element type");
        return NULL;
    }
    st_pq_bytes *arr = dalloc(d, sizeof(*arr) * n);
    for (uint32_t i = 0; arr && i < n && !d->r.err; i++)
        arr[i].p = st_thrift_read_binary(&d->r, &arr[i].len);
    *count = n;
    return d->r.err ? NULL : arr;
}

int
st_pq_decode_column_index(const uint8_t *p, size_t n, st_arena *a, const char *what,
                          uint64_t base_off, st_pq_column_index *ci)
{
    dec d = {.a = a};
    int16_t last = 0, id;
    int t, et;
    unsigned seen = 0;
    uint32_t nn = 0, nmin = 0, nmax = 0, nnc = 0, cnt;
    memset(ci, 0, sizeof(*ci));
    st_thrift_reader_init(&d.r, p, n);
    while (st_thrift_next_field(&d.r, &last, &id, &t)) {
        int got = 0;
        switch (id) {
        case 1:
            if (t != ST_TT_LIST || !st_thrift_read_list(&d.r, &et, &cnt)) {
                st_thrift_fail(&d.r, "ColumnIndex.null_pages");
                break;
            }
            if (et != ST_TT_TRUE && et != ST_TT_FALSE) {
                st_thrift_fail(&d.r, "ColumnIndex.null_pages element type");
                break;
            }
            ci->null_pages = dalloc(&d, cnt);
            for (uint32_t i = 0; ci->null_pages && i < cnt && !d.r.err; i++) {
                if (d.r.p >= d.r.end) {
                    st_thrift_fail(&d.r, "truncated");
                    break;
                }
                ci->null_pages[i] = *d.r.p++ == 1;
            }
            nn = cnt;
            got = !d.r.err;
            break;
        case 2:
            ci->mins = dec_bin_list(&d, t, &nmin);
            got = ci->mins != NULL;
            break;
        case 3:
            ci->maxs = dec_bin_list(&d, t, &nmax);
            got = ci->maxs != NULL;
            break;
        case 4:
            ci->boundary_order = (int)get_int(&d, t, ST_TT_I32, &got);
            break;
        case 5:
            if (t != ST_TT_LIST || !st_thrift_read_list(&d.r, &et, &cnt) || et != ST_TT_I64) {
                st_thrift_fail(&d.r, "ColumnIndex.null_counts");
                break;
            }
            ci->null_counts = dalloc(&d, sizeof(int64_t) * cnt);
            for (uint32_t i = 0; ci->null_counts && i < cnt && !d.r.err; i++) {
                int ok = 0;
                ci->null_counts[i] = st_thrift_read_int(&d.r, ST_TT_I64, &ok);
            }
            nnc = cnt;
            break;
        default:
            st_thrift_skip(&d.r, t);
        }
        if (got)
            seen |= 1u << id;
    }
    if (!d.r.err && seen != 0x1e)
        st_thrift_fail(&d.r, "ColumnIndex: required field missing");
    if (!d.r.err && (nmin != nn || nmax != nn || (ci->null_counts && nnc != nn)))
        st_thrift_fail(&d.r, "ColumnIndex: list lengths differ");
    ci->npages = nn;
    return finish(&d, what, "column index", base_off);
}

static void
dec_union_is_member1(dec *d, int type, int *ok)
{
    int16_t last = 0, id;
    int t;
    *ok = 0;
    if (!enter(d, type))
        return;
    while (st_thrift_next_field(&d->r, &last, &id, &t)) {
        if (id == 1 && t == ST_TT_STRUCT)
            *ok = 1;
        st_thrift_skip(&d->r, t);
    }
    st_thrift_struct_leave(&d->r);
}

int
st_pq_decode_bloom_header(const uint8_t *p, size_t n, const char *what, uint64_t base_off,
                          st_pq_bloom_header *h, size_t *used)
{
    dec d = {0};
    int16_t last = 0, id;
    int t, ok[5] = {0};
    unsigned seen = 0;
    memset(h, 0, sizeof(*h));
    st_thrift_reader_init(&d.r, p, n);
    while (st_thrift_next_field(&d.r, &last, &id, &t)) {
        int got = 0;
        if (id == 1) {
            h->num_bytes = (int32_t)get_int(&d, t, ST_TT_I32, &got);
        } else if (id >= 2 && id <= 4) {
            dec_union_is_member1(&d, t, &ok[id]);
            got = 1;
        } else {
            st_thrift_skip(&d.r, t);
        }
        if (got)
            seen |= 1u << id;
    }
    if (!d.r.err && seen != 0x1e)
        st_thrift_fail(&d.r, "BloomFilterHeader: required field missing");
    if (!d.r.err && h->num_bytes < 0)
        st_thrift_fail(&d.r, "BloomFilterHeader: negative size");
    h->supported = ok[2] && ok[3] && ok[4];
    if (used)
        *used = st_thrift_pos(&d.r);
    return finish(&d, what, "bloom filter header", base_off);
}
