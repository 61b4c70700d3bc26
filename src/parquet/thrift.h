/* SPDX-License-Identifier: Apache-2.0 */
/*
 * thrift.h -- the Thrift compact protocol, as much as Parquet metadata needs.
 *
 * Writer: appends to an st_buf; the first allocation failure is sticky in w->rc and later calls
 * are no-ops, so encoders check the status once at the end.
 *
 * Reader: a bounds-checked cursor over untrusted bytes. Every length and list size is checked
 * against the remaining input, nesting is limited to ST_THRIFT_MAX_DEPTH, and the first error is
 * sticky (r->err != 0, r->err_off = offset of the offending byte relative to r->start). After an
 * error every read returns 0 and loops terminate. Unknown fields are skipped with
 * st_thrift_skip. Borrowed binaries point into the input buffer.
 *
 * Thread safety: a writer/reader object is used by one thread.
 */
#ifndef ST_PARQUET_THRIFT_H
#define ST_PARQUET_THRIFT_H

#include "util/buf.h"

#include <stddef.h>
#include <stdint.h>

/* Compact protocol wire types. */
enum {
    ST_TT_STOP = 0,
    ST_TT_TRUE = 1,
    ST_TT_FALSE = 2,
    ST_TT_I8 = 3,
    ST_TT_I16 = 4,
    ST_TT_I32 = 5,
    ST_TT_I64 = 6,
    ST_TT_DOUBLE = 7,
    ST_TT_BINARY = 8,
    ST_TT_LIST = 9,
    ST_TT_SET = 10,
    ST_TT_MAP = 11,
    ST_TT_STRUCT = 12,
    ST_TT_UUID = 13
};

#define ST_THRIFT_MAX_DEPTH 32

typedef struct st_thrift_writer {
    st_buf *out;
    int rc;    /* STRATA_OK or the first error (NOMEM, or INTERNAL for misuse) */
    int depth; /* struct nesting */
    int16_t last[ST_THRIFT_MAX_DEPTH + 1];
} st_thrift_writer;

void st_thrift_writer_init(st_thrift_writer *w, st_buf *out);
/* Field headers + values of struct fields. */
void st_thrift_write_i32(st_thrift_writer *w, int16_t id, int32_t v);
void st_thrift_write_i64(st_thrift_writer *w, int16_t id, int64_t v);
void st_thrift_write_i16(st_thrift_writer *w, int16_t id, int16_t v);
void st_thrift_write_i8(st_thrift_writer *w, int16_t id, int8_t v);
void st_thrift_write_bool(st_thrift_writer *w, int16_t id, int v);
void st_thrift_write_binary(st_thrift_writer *w, int16_t id, const void *p, size_t n);
void st_thrift_write_string(st_thrift_writer *w, int16_t id, const char *s);
/* Begin a struct-valued field (id > 0) or a struct list element (id == 0); end with _end. */
void st_thrift_struct_begin(st_thrift_writer *w, int16_t id);
void st_thrift_struct_end(st_thrift_writer *w);
/* A list-valued field header: n elements of wire type etype follow (written with _elem_*). */
void st_thrift_list_begin(st_thrift_writer *w, int16_t id, int etype, size_t n);
void st_thrift_elem_i32(st_thrift_writer *w, int32_t v);
void st_thrift_elem_i64(st_thrift_writer *w, int64_t v);
void st_thrift_elem_binary(st_thrift_writer *w, const void *p, size_t n);
void st_thrift_elem_bool(st_thrift_writer *w, int v);
/* The STOP of the outermost struct (top-level structs are not opened with struct_begin). */
void st_thrift_write_stop(st_thrift_writer *w);

typedef struct st_thrift_reader {
    const uint8_t *start, *p, *end;
    int depth;
    int err;        /* 0 or 1 */
    size_t err_off; /* offset of the error from start */
    const char *err_what;
} st_thrift_reader;

void st_thrift_reader_init(st_thrift_reader *r, const void *p, size_t n);
/* Mark an error at the current position (keeps the first one); returns 0. */
int st_thrift_fail(st_thrift_reader *r, const char *what);
/*
 * st_thrift_next_field --
 *     Read the next field header of the struct being decoded. Returns 1 with *id and *type set,
 *     0 at the STOP byte or on error. *last holds the previous field id (start at 0).
 */
int st_thrift_next_field(st_thrift_reader *r, int16_t *last, int16_t *id, int *type);
/* Values take the wire type: a mismatching type is skipped and 0 returned with *ok == 0
 * (callers treat the field as absent). Integers: i8/i16/i32/i64. */
int64_t st_thrift_read_int(st_thrift_reader *r, int type, int *ok);
int st_thrift_read_bool(st_thrift_reader *r, int type, int *ok); /* field bool */
/* Binary: borrowed pointer into the input. */
const uint8_t *st_thrift_read_binary(st_thrift_reader *r, uint32_t *len);
/* List/set header: element type and count (count <= remaining bytes). 0 on error. */
int st_thrift_read_list(st_thrift_reader *r, int *etype, uint32_t *n);
/* Enter/leave a nested struct (depth check). */
int st_thrift_struct_enter(st_thrift_reader *r);
void st_thrift_struct_leave(st_thrift_reader *r);
/* Skip a value of wire type type (a struct field value, or a list element when elem != 0). */
void st_thrift_skip(st_thrift_reader *r, int type);
void st_thrift_skip_elem(st_thrift_reader *r, int type);

static inline size_t
st_thrift_pos(const st_thrift_reader *r)
{
    return (size_t)(r->p - r->start);
}

#endif
