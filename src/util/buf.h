/* SPDX-License-Identifier: Apache-2.0 */
/*
 * buf.h -- growable byte buffer. Appends return STRATA_OK or STRATA_NOMEM; on NOMEM the buffer
 * keeps its old contents. A zero-initialised st_buf is empty and valid.
 */
#ifndef ST_UTIL_BUF_H
#define ST_UTIL_BUF_H

#include "util/coding.h"

#include <stddef.h>
#include <stdint.h>

typedef struct st_buf {
    uint8_t *data; /* owned; NULL when cap == 0 */
    size_t len;    /* bytes used */
    size_t cap;    /* bytes allocated */
} st_buf;

void st_buf_init(st_buf *b);
void st_buf_free(st_buf *b); /* releases memory; the buffer is empty and reusable after */
int st_buf_reserve(st_buf *b, size_t extra); /* ensure len + extra <= cap */
int st_buf_append(st_buf *b, const void *p, size_t n);
int st_buf_put_u8(st_buf *b, uint8_t v);
int st_buf_put_fixed32(st_buf *b, uint32_t v);
int st_buf_put_fixed64(st_buf *b, uint64_t v);
int st_buf_put_varint64(st_buf *b, uint64_t v);
/* varint length followed by the bytes */
int st_buf_put_lenprefixed(st_buf *b, const void *p, size_t n);
int st_buf_resize(st_buf *b, size_t len); /* grow (new bytes zeroed) or shrink */

static inline void
st_buf_clear(st_buf *b)
{
    b->len = 0;
}

/* Take ownership of the data (NULL if empty); the buffer becomes empty. */
uint8_t *st_buf_detach(st_buf *b, size_t *len);

#endif
