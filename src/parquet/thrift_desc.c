/* SPDX-License-Identifier: Apache-2.0 */
/* thrift_desc.c -- the generic table-driven Thrift struct decoder (thrift_desc.h). */
#include "parquet/thrift_desc.h"

#include "parquet/parquet.h"
#include "util/coding.h"
#include "util/status.h"

#include <string.h>

void *
st_tdec_alloc(st_tdec *d, size_t n)
{
    void *p = d->a ? st_arena_alloc(d->a, n ? n : 1) : NULL;
    if (!p) {
        d->nomem = 1;
        st_thrift_fail(&d->r, "out of memory");
        return NULL;
    }
    memset(p, 0, n ? n : 1);
    return p;
}

/* Fast paths of the reader for the hot path (page headers): a short-form field header, and
 * STOP, and an i32/i64 varint of up to 5 bytes below 2^32; anything else goes to the general
 * functions. */
static inline int
next_field(st_thrift_reader *r, int16_t *last, int16_t *id, int *type)
{
    if (!r->err && r->p < r->end) {
        uint8_t b = *r->p;
        int t = b & 0x0f, delta = b >> 4;
        if (b == 0) { /* STOP */
            r->p++;
            return 0;
        }
        if (delta && t <= ST_TT_UUID) {
            r->p++;
            *type = t;
            *id = (int16_t)(*last + delta);
            *last = *id;
            return 1;
        }
    }
    return st_thrift_next_field(r, last, id, type);
}

static inline int
read_int(st_thrift_reader *r, int type, int64_t *v)
{
    const uint8_t *p = r->p;
    if ((type == ST_TT_I32 || type == ST_TT_I64) && !r->err && r->end - p >= 5) {
        uint64_t x = 0;
        int n = 0;
        while (n < 4 && (p[n] & 0x80))
            x |= (uint64_t)(p[n] & 0x7fu) << (7 * n), n++;
        if (n < 4 || p[4] < 0x10) { /* at most 5 bytes and below 2^32: in range for i32 */
            x |= (uint64_t)p[n] << (7 * n);
            r->p = p + n + 1;
            *v = st_unzigzag64(x);
            return 1;
        }
    }
    int ok = 0;
    *v = st_thrift_read_int(r, type, &ok);
    return ok;
}

/* A list of `sub` structs into a new arena array; 1 when decoded without error. */
static int
dec_list(st_tdec *d, const st_tfield *f, int type, uint8_t *obj)
{
    int et;
    uint32_t n;
    if (type != ST_TT_LIST) {
        st_thrift_skip(&d->r, type);
        return !d->r.err;
    }
    if (!st_thrift_read_list(&d->r, &et, &n))
        return 0;
    if (et != ST_TT_STRUCT) {
        for (uint32_t i = 0; i < n && !d->r.err; i++)
            st_thrift_skip_elem(&d->r, et);
        st_thrift_fail(&d->r, "list of wrong element type");
        return 0;
    }
    uint8_t *arr = st_tdec_alloc(d, f->sub->size * n);
    if (!arr)
        return 0;
    for (uint32_t i = 0; i < n && !d->r.err; i++) {
        if (!st_thrift_struct_enter(&d->r))
            break;
        st_tdec_struct(d, f->sub, arr + (size_t)i * f->sub->size);
        st_thrift_struct_leave(&d->r);
    }
    if (d->r.err)
        return 0;
    memcpy(obj + f->off, &arr, sizeof(arr));
    memcpy(obj + f->count_off, &n, sizeof(n));
    return 1;
}

/* Decode one field's value (wire type `type`) per its descriptor; 1 when present. */
static int
dec_field(st_tdec *d, const st_tfield *f, int type, uint8_t *obj)
{
    int ok = 0;
    switch (f->kind) {
    case ST_TF_INT: {
        if (type != f->wire) {
            st_thrift_skip(&d->r, type);
            return 0;
        }
        int64_t v = st_thrift_read_int(&d->r, type, &ok);
        if (ok && f->size == 8) {
            memcpy(obj + f->off, &v, 8);
        } else if (ok && f->size == 4) {
            int32_t v32 = (int32_t)v;
            memcpy(obj + f->off, &v32, 4);
        }
        return ok;
    }
    case ST_TF_BOOL: {
        int v = st_thrift_read_bool(&d->r, type, &ok);
        if (f->size == 1)
            obj[f->off] = (uint8_t)v;
        else
            memcpy(obj + f->off, &v, sizeof(v));
        return ok;
    }
    case ST_TF_BIN: {
        if (type != ST_TT_BINARY) {
            st_thrift_skip(&d->r, type);
            return 0;
        }
        st_pq_bytes *b = (st_pq_bytes *)(void *)(obj + f->off);
        b->p = st_thrift_read_binary(&d->r, &b->len);
        return b->p != NULL;
    }
    case ST_TF_STRUCT:
        if (type != ST_TT_STRUCT) {
            st_thrift_skip(&d->r, type);
            return 0;
        }
        if (!st_thrift_struct_enter(&d->r))
            return 0;
        st_tdec_struct(d, f->sub, obj + f->off);
        st_thrift_struct_leave(&d->r);
        return 1;
    case ST_TF_LIST:
        return dec_list(d, f, type, obj);
    default:
        return f->fn(d, type, obj);
    }
}

void
st_tdec_struct(st_tdec *d, const st_tstruct *s, void *obj_)
{
    uint8_t *obj = obj_;
    int16_t last = 0, id;
    int t;
    uint32_t seen = 0, next = 0;
    if (s->init)
        s->init(obj);
    while (next_field(&d->r, &last, &id, &t)) {
        /* writers emit fields in id order: try the one after the previous match first */
        uint32_t i = next;
        if (i >= s->n || s->f[i].id != id)
            for (i = 0; i < s->n && s->f[i].id != id; i++)
                ;
        if (i == s->n) { /* unknown field */
            st_thrift_skip(&d->r, t);
            continue;
        }
        next = i + 1;
        const st_tfield *f = &s->f[i];
        if (f->kind == ST_TF_INT && t == f->wire) { /* the common case, inline */
            int64_t v;
            if (!read_int(&d->r, t, &v))
                continue;
            if (f->size == 8) {
                memcpy(obj + f->off, &v, 8);
            } else if (f->size == 4) {
                int32_t v32 = (int32_t)v;
                memcpy(obj + f->off, &v32, 4);
            }
        } else if (!dec_field(d, f, t, obj)) {
            continue;
        }
        seen |= 1u << i;
        if (f->has_off != ST_TF_NONE)
            obj[f->has_off] = 1;
    }
    uint32_t required = 0;
    for (uint32_t i = 0; i < s->n; i++)
        required |= (uint32_t)s->f[i].required << i;
    if ((seen & required) != required && !d->r.err) {
        uint32_t i = 0;
        while (!(required & ~seen & (1u << i)))
            i++;
        st_thrift_fail(&d->r, s->f[i].missing);
    }
    if (!d->r.err && s->check)
        s->check(d, obj, seen);
}

int
st_tdec_finish(st_tdec *d, const char *what, const char *type, uint64_t base_off)
{
    if (d->nomem)
        return st_err(STRATA_NOMEM, "%s: out of memory decoding %s", what, type);
    if (d->r.err)
        return st_err(STRATA_CORRUPT, "%s: malformed %s (%s) at offset %llu", what, type,
                      d->r.err_what, (unsigned long long)(base_off + d->r.err_off));
    return STRATA_OK;
}
