/* SPDX-License-Identifier: Apache-2.0 */
#include "util/buf.h"

#include "util/alloc.h"
#include "util/status.h"

#include <string.h>

void
st_buf_init(st_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
}

void
st_buf_free(st_buf *b)
{
    st_free(b->data);
    st_buf_init(b);
}

int
st_buf_reserve(st_buf *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len)
        return st_err(STRATA_NOMEM, "buffer size overflow");
    size_t need = b->len + extra;
    if (need <= b->cap)
        return STRATA_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    uint8_t *d = st_realloc(b->data, cap);
    if (!d)
        return st_err(STRATA_NOMEM, "out of memory growing a buffer to %zu bytes", cap);
    b->data = d;
    b->cap = cap;
    return STRATA_OK;
}

int
st_buf_append(st_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return STRATA_OK;
    ST_RET(st_buf_reserve(b, n));
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return STRATA_OK;
}

int
st_buf_put_u8(st_buf *b, uint8_t v)
{
    return st_buf_append(b, &v, 1);
}

int
st_buf_put_fixed32(st_buf *b, uint32_t v)
{
    uint8_t t[4];
    st_put_fixed32(t, v);
    return st_buf_append(b, t, 4);
}

int
st_buf_put_fixed64(st_buf *b, uint64_t v)
{
    uint8_t t[8];
    st_put_fixed64(t, v);
    return st_buf_append(b, t, 8);
}

int
st_buf_put_varint64(st_buf *b, uint64_t v)
{
    uint8_t t[ST_MAX_VARINT64];
    return st_buf_append(b, t, (size_t)(st_put_varint64(t, v) - t));
}

int
st_buf_put_lenprefixed(st_buf *b, const void *p, size_t n)
{
    ST_RET(st_buf_put_varint64(b, n));
    return st_buf_append(b, p, n);
}

int
st_buf_resize(st_buf *b, size_t len)
{
    if (len > b->len) {
        ST_RET(st_buf_reserve(b, len - b->len));
        memset(b->data + b->len, 0, len - b->len);
    }
    b->len = len;
    return STRATA_OK;
}

uint8_t *
st_buf_detach(st_buf *b, size_t *len)
{
    uint8_t *d = b->data;
    if (len)
        *len = b->len;
    st_buf_init(b);
    return d;
}
