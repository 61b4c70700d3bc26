/* SPDX-License-Identifier: Apache-2.0 */
/* thrift.c -- Thrift compact protocol writer and bounds-checked reader. */
#include "parquet/thrift.h"

#include "util/coding.h"
#include "util/status.h"

#include <string.h>

/* ---- writer --------------------------------------------------------------------------------- */

void
st_thrift_writer_init(st_thrift_writer *w, st_buf *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
}

static void
put_byte(st_thrift_writer *w, uint8_t b)
{
    if (w->rc == STRATA_OK)
        w->rc = st_buf_put_u8(w->out, b);
}

static void
put_varint(st_thrift_writer *w, uint64_t v)
{
    if (w->rc == STRATA_OK)
        w->rc = st_buf_put_varint64(w->out, v);
}

static void
field_header(st_thrift_writer *w, int16_t id, int type)
{
    int16_t last = w->last[w->depth];
    int delta = id - last;
    if (delta > 0 && delta <= 15) {
        put_byte(w, (uint8_t)((delta << 4) | type));
    } else {
        put_byte(w, (uint8_t)type);
        put_varint(w, st_zigzag64(id));
    }
    w->last[w->depth] = id;
}

void
st_thrift_write_i32(st_thrift_writer *w, int16_t id, int32_t v)
{
    field_header(w, id, ST_TT_I32);
    put_varint(w, st_zigzag64(v));
}

void
st_thrift_write_i64(st_thrift_writer *w, int16_t id, int64_t v)
{
    field_header(w, id, ST_TT_I64);
    put_varint(w, st_zigzag64(v));
}

void
st_thrift_write_i16(st_thrift_writer *w, int16_t id, int16_t v)
{
    field_header(w, id, ST_TT_I16);
    put_varint(w, st_zigzag64(v));
}

void
st_thrift_write_i8(st_thrift_writer *w, int16_t id, int8_t v)
{
    field_header(w, id, ST_TT_I8);
    put_byte(w, (uint8_t)v);
}

void
st_thrift_write_bool(st_thrift_writer *w, int16_t id, int v)
{
    field_header(w, id, v ? ST_TT_TRUE : ST_TT_FALSE);
}

void
st_thrift_write_binary(st_thrift_writer *w, int16_t id, const void *p, size_t n)
{
    field_header(w, id, ST_TT_BINARY);
    st_thrift_elem_binary(w, p, n);
}

void
st_thrift_write_string(st_thrift_writer *w, int16_t id, const char *s)
{
    st_thrift_write_binary(w, id, s, strlen(s));
}

void
st_thrift_struct_begin(st_thrift_writer *w, int16_t id)
{
    if (id > 0)
        field_header(w, id, ST_TT_STRUCT);
    if (w->depth >= ST_THRIFT_MAX_DEPTH) {
        if (w->rc == STRATA_OK)
            w->rc = st_err(STRATA_INTERNAL, "thrift writer: nesting too deep");
        return;
    }
    w->last[++w->depth] = 0;
}

void
st_thrift_struct_end(st_thrift_writer *w)
{
    put_byte(w, 0);
    if (w->depth > 0)
        w->depth--;
}

void
st_thrift_write_stop(st_thrift_writer *w)
{
    put_byte(w, 0);
}

void
st_thrift_list_begin(st_thrift_writer *w, int16_t id, int etype, size_t n)
{
    field_header(w, id, ST_TT_LIST);
    if (n <= 14) {
        put_byte(w, (uint8_t)((n << 4) | (size_t)etype));
    } else {
        put_byte(w, (uint8_t)(0xf0 | etype));
        put_varint(w, n);
    }
}

void
st_thrift_elem_i32(st_thrift_writer *w, int32_t v)
{
    put_varint(w, st_zigzag64(v));
}

void
st_thrift_elem_i64(st_thrift_writer *w, int64_t v)
{
    put_varint(w, st_zigzag64(v));
}

void
st_thrift_elem_binary(st_thrift_writer *w, const void *p, size_t n)
{
    put_varint(w, n);
    if (w->rc == STRATA_OK && n)
        w->rc = st_buf_append(w->out, p, n);
}

void
st_thrift_elem_bool(st_thrift_writer *w, int v)
{
    put_byte(w, v ? 1 : 2);
}

/* ---- reader --------------------------------------------------------------------------------- */

void
st_thrift_reader_init(st_thrift_reader *r, const void *p, size_t n)
{
    memset(r, 0, sizeof(*r));
    r->start = r->p = p;
    r->end = r->start + n;
}

int
st_thrift_fail(st_thrift_reader *r, const char *what)
{
    if (!r->err) {
        r->err = 1;
        r->err_off = (size_t)(r->p - r->start);
        r->err_what = what;
    }
    r->p = r->end;
    return 0;
}

static uint64_t
read_varint(st_thrift_reader *r)
{
    uint64_t v = 0;
    if (r->err)
        return 0;
    const uint8_t *q = st_get_varint64(r->p, r->end, &v);
    if (!q) {
        st_thrift_fail(r, "bad varint");
        return 0;
    }
    r->p = q;
    return v;
}

static int
read_byte(st_thrift_reader *r, uint8_t *b)
{
    if (r->err || r->p >= r->end)
        return st_thrift_fail(r, "truncated");
    *b = *r->p++;
    return 1;
}

int
st_thrift_next_field(st_thrift_reader *r, int16_t *last, int16_t *id, int *type)
{
    uint8_t b;
    if (!read_byte(r, &b))
        return 0;
    if (b == 0)
        return 0;
    *type = b & 0x0f;
    int delta = b >> 4;
    if (delta) {
        *id = (int16_t)(*last + delta);
    } else {
        int64_t v = st_unzigzag64(read_varint(r));
        if (v < INT16_MIN || v > INT16_MAX)
            return st_thrift_fail(r, "bad field id");
        *id = (int16_t)v;
    }
    if (r->err)
        return 0;
    if (*type == ST_TT_STOP || *type > ST_TT_UUID)
        return st_thrift_fail(r, "bad field type");
    *last = *id;
    return 1;
}

int64_t
st_thrift_read_int(st_thrift_reader *r, int type, int *ok)
{
    uint8_t b;
    *ok = 0;
    switch (type) {
    case ST_TT_I8:
        if (!read_byte(r, &b))
            return 0;
        *ok = 1;
        return (int8_t)b;
    case ST_TT_I16:
    case ST_TT_I32:
    case ST_TT_I64: {
        int64_t v = st_unzigzag64(read_varint(r));
        if (r->err)
            return 0;
        if ((type == ST_TT_I16 && (v < INT16_MIN || v > INT16_MAX)) ||
            (type == ST_TT_I32 && (v < INT32_MIN || v > INT32_MAX)))
            return st_thrift_fail(r, "integer out of range");
        *ok = 1;
        return v;
    }
    default:
        st_thrift_skip(r, type);
        return 0;
    }
}

int
st_thrift_read_bool(st_thrift_reader *r, int type, int *ok)
{
    *ok = 0;
    if (type == ST_TT_TRUE || type == ST_TT_FALSE) {
        *ok = 1;
        return type == ST_TT_TRUE;
    }
    st_thrift_skip(r, type);
    return 0;
}

const uint8_t *
st_thrift_read_binary(st_thrift_reader *r, uint32_t *len)
{
    uint64_t n = read_varint(r);
    *len = 0;
    if (r->err)
        return NULL;
    if (n > (uint64_t)(r->end - r->p)) {
        st_thrift_fail(r, "binary longer than input");
        return NULL;
    }
    const uint8_t *p = r->p;
    r->p += n;
    *len = (uint32_t)n;
    return p;
}

int
st_thrift_read_list(st_thrift_reader *r, int *etype, uint32_t *n)
{
    uint8_t b;
    *n = 0;
    if (!read_byte(r, &b))
        return 0;
    uint64_t size = b >> 4;
    *etype = b & 0x0f;
    if (size == 15)
        size = read_varint(r);
    if (r->err)
        return 0;
    if (*etype == ST_TT_STOP || *etype > ST_TT_UUID)
        return st_thrift_fail(r, "bad list element type");
    /* Every element takes at least one byte. */
    if (size > (uint64_t)(r->end - r->p))
        return st_thrift_fail(r, "list longer than input");
    *n = (uint32_t)size;
    return 1;
}

int
st_thrift_struct_enter(st_thrift_reader *r)
{
    if (r->err)
        return 0;
    if (r->depth >= ST_THRIFT_MAX_DEPTH)
        return st_thrift_fail(r, "nesting too deep");
    r->depth++;
    return 1;
}

void
st_thrift_struct_leave(st_thrift_reader *r)
{
    if (r->depth > 0)
        r->depth--;
}

static void
skip_n(st_thrift_reader *r, size_t n)
{
    if (r->err)
        return;
    if (n > (size_t)(r->end - r->p)) {
        st_thrift_fail(r, "truncated");
        return;
    }
    r->p += n;
}

static void
skip_value(st_thrift_reader *r, int type, int elem)
{
    uint32_t n;
    int et;
    if (r->err)
        return;
    switch (type) {
    case ST_TT_TRUE:
    case ST_TT_FALSE:
        if (elem)
            skip_n(r, 1);
        break;
    case ST_TT_I8:
        skip_n(r, 1);
        break;
    case ST_TT_I16:
    case ST_TT_I32:
    case ST_TT_I64:
        read_varint(r);
        break;
    case ST_TT_DOUBLE:
        skip_n(r, 8);
        break;
    case ST_TT_UUID:
        skip_n(r, 16);
        break;
    case ST_TT_BINARY:
        st_thrift_read_binary(r, &n);
        break;
    case ST_TT_LIST:
    case ST_TT_SET:
        if (!st_thrift_struct_enter(r))
            break;
        if (st_thrift_read_list(r, &et, &n))
            for (uint32_t i = 0; i < n && !r->err; i++)
                skip_value(r, et, 1);
        st_thrift_struct_leave(r);
        break;
    case ST_TT_MAP: {
        uint64_t cnt = read_varint(r);
        uint8_t kv = 0;
        if (r->err || cnt == 0)
            break;
        if (cnt > (uint64_t)(r->end - r->p)) {
            st_thrift_fail(r, "map longer than input");
            break;
        }
        if (!read_byte(r, &kv) || !st_thrift_struct_enter(r))
            break;
        for (uint64_t i = 0; i < cnt && !r->err; i++) {
            skip_value(r, kv >> 4, 1);
            skip_value(r, kv & 15, 1);
        }
        st_thrift_struct_leave(r);
        break;
    }
    case ST_TT_STRUCT: {
        int16_t last = 0, id;
        int t;
        if (!st_thrift_struct_enter(r))
            break;
        while (st_thrift_next_field(r, &last, &id, &t))
            skip_value(r, t, 0);
        st_thrift_struct_leave(r);
        break;
    }
    default:
        st_thrift_fail(r, "bad type");
    }
}

void
st_thrift_skip(st_thrift_reader *r, int type)
{
    skip_value(r, type, 0);
}

void
st_thrift_skip_elem(st_thrift_reader *r, int type)
{
    skip_value(r, type, 1);
}
