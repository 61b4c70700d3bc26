/* SPDX-License-Identifier: Apache-2.0 */
/*
 * thrift_desc.h -- table-driven decoding of Thrift compact structs.
 *
 * A struct is described by a table of field descriptors (field id, kind, expected wire type,
 * destination offset, presence flag, required flag, nested struct or handler). One generic
 * decoder, st_tdec_struct, walks the fields of the input, looks each id up in the table and
 * stores its value; it keeps the reader's guarantees (bounds checks, nesting limit, sticky first
 * error) and adds the struct-level rules:
 *   - unknown field ids are skipped;
 *   - a field whose wire type differs from the expected one is skipped and counts as absent;
 *   - a required field that is absent is an error naming it ("PageHeader.type missing");
 *   - a struct's optional check function runs last (ranges, consistency between fields).
 * Lists of structs are allocated from the decoder's arena (NOMEM is reported as such).
 *
 * Thread safety: descriptors are immutable; a decoder is used by one thread.
 */
#ifndef ST_PARQUET_THRIFT_DESC_H
#define ST_PARQUET_THRIFT_DESC_H

#include "parquet/thrift.h"
#include "util/arena.h"

#include <stddef.h>
#include <stdint.h>

/* Decoder: the thrift cursor plus an arena (NULL when nothing is allocated) and a NOMEM flag. */
typedef struct st_tdec {
    st_thrift_reader r;
    st_arena *a;
    int nomem;
} st_tdec;

enum {
    ST_TF_INT,    /* integer of wire type `wire` (I16/I32/I64) stored in `size` bytes (0: none) */
    ST_TF_BOOL,   /* bool stored in `size` bytes (1: uint8_t, 4: int) */
    ST_TF_BIN,    /* binary stored as an st_pq_bytes (borrowed from the input) */
    ST_TF_STRUCT, /* nested struct `sub` decoded at obj + off (off 0: into the same object) */
    ST_TF_LIST,   /* list of `sub` structs: array pointer at off, uint32_t count at count_off */
    ST_TF_FN      /* custom handler `fn` */
};

#define ST_TF_NONE 0xffffu /* no presence flag */

typedef struct st_tfield st_tfield;
typedef struct st_tstruct st_tstruct;

/* A custom field handler: consume the value of wire type `type`; return 1 when the field counts
 * as present. */
typedef int (*st_tfield_fn)(st_tdec *d, int type, void *obj);

struct st_tfield {
    int16_t id;
    uint8_t kind;
    uint8_t wire;          /* ST_TF_INT: the expected wire type */
    uint8_t size;          /* ST_TF_INT: destination bytes, 4 or 8 (0: dropped); BOOL: 1 or 4 */
    uint8_t required;      /* absent: error `missing` */
    uint16_t off;          /* destination offset in the object */
    uint16_t has_off;      /* offset of a uint8_t set to 1 when present, or ST_TF_NONE */
    uint16_t count_off;    /* ST_TF_LIST: offset of the uint32_t element count */
    const st_tstruct *sub; /* ST_TF_STRUCT / ST_TF_LIST: the nested (element) struct */
    st_tfield_fn fn;       /* ST_TF_FN */
    const char *missing;   /* static message for an absent required field */
};

struct st_tstruct {
    const st_tfield *f;
    uint32_t n;                                          /* fields (at most 32) */
    size_t size;                                         /* object size (list elements) */
    void (*init)(void *obj);                             /* before the fields, or NULL */
    void (*check)(st_tdec *d, void *obj, uint32_t seen); /* after; seen bit i: field i present */
};

/* Decode the fields of one struct (already entered, or the top level) into obj, up to its STOP. */
void st_tdec_struct(st_tdec *d, const st_tstruct *s, void *obj);
/* Zeroed arena memory (n may be 0); NULL with the NOMEM error set. */
void *st_tdec_alloc(st_tdec *d, size_t n);
/* The status of a finished decode: NOMEM, or CORRUPT "<what>: malformed <type> (<reason>) at
 * offset <base_off + error offset>", or OK. */
int st_tdec_finish(st_tdec *d, const char *what, const char *type, uint64_t base_off);

#endif
