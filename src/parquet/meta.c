/* SPDX-License-Identifier: Apache-2.0 */
/* meta.c -- Parquet metadata structs -> Thrift compact bytes (decoding: meta_decode.c). */
#include "parquet/parquet.h"
#include "parquet/thrift.h"
#include "util/status.h"

#include <string.h>

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
