/* SPDX-License-Identifier: Apache-2.0 */
/* batch.c -- strata_batch_* and the batch encoding (see batch.h). */
#include "db/batch.h"

#include "iter/iter.h"
#include "util/alloc.h"
#include "util/status.h"

#include <string.h>

int
st_check_kv(const void *key, size_t klen, const void *val, size_t vlen, int is_put)
{
    if (key == NULL && klen > 0)
        return st_err(STRATA_INVALID, "key pointer is NULL");
    if (klen == 0)
        return st_err(STRATA_INVALID, "empty key (keys are 1..%u bytes)", STRATA_MAX_KEY_SIZE);
    if (klen > STRATA_MAX_KEY_SIZE)
        return st_err(STRATA_INVALID, "key of %zu bytes exceeds STRATA_MAX_KEY_SIZE (%u)", klen,
                      STRATA_MAX_KEY_SIZE);
    if (is_put) {
        if (val == NULL && vlen > 0)
            return st_err(STRATA_INVALID, "value pointer is NULL");
        if (vlen > STRATA_MAX_VALUE_SIZE)
            return st_err(STRATA_INVALID, "value of %zu bytes exceeds STRATA_MAX_VALUE_SIZE (%u)",
                          vlen, STRATA_MAX_VALUE_SIZE);
    }
    return STRATA_OK;
}

int
st_check_range(const void *begin, size_t blen, const void *end, size_t elen)
{
    ST_RET(st_check_kv(begin, blen, NULL, 0, 0));
    ST_RET(st_check_kv(end, elen, NULL, 0, 0));
    if (st_bytes_cmp(begin, blen, end, elen) >= 0)
        return st_err(STRATA_INVALID,
                      "range delete: begin (%zu bytes) is not before end (%zu bytes): the range "
                      "[begin, end) is empty or reversed",
                      blen, elen);
    return STRATA_OK;
}

int
st_batch_init(strata_batch *b)
{
    st_buf_init(&b->rep);
    b->count = 0;
    b->kv_bytes = 0;
    return st_buf_resize(&b->rep, ST_BATCH_HEADER);
}

void
st_batch_release(strata_batch *b)
{
    st_buf_free(&b->rep);
}

uint8_t *
st_batch_encode_entry(uint8_t *p, int kind, const void *key, size_t klen, const void *val,
                      size_t vlen)
{
    *p++ = (uint8_t)kind;
    p = st_put_varint64(p, klen);
    memcpy(p, key, klen);
    p += klen;
    if (kind != ST_KIND_DELETE) {
        p = st_put_varint64(p, vlen);
        if (vlen)
            memcpy(p, val, vlen);
        p += vlen;
    }
    return p;
}

strata_batch *
strata_batch_new(void)
{
    strata_batch *b = st_calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    if (st_batch_init(b) != STRATA_OK) {
        st_free(b);
        return NULL;
    }
    return b;
}

static int
add_entry(strata_batch *b, int kind, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (!b)
        return st_err(STRATA_INVALID, "batch is NULL");
    if (kind == ST_KIND_RANGE_DELETE)
        ST_RET(st_check_range(key, klen, val, vlen));
    else
        ST_RET(st_check_kv(key, klen, val, vlen, kind == ST_KIND_PUT));
    if (b->count == UINT32_MAX)
        return st_err(STRATA_INVALID, "batch has too many entries");
    ST_RET(st_buf_reserve(&b->rep, st_batch_entry_max(kind, klen, vlen)));
    /* cannot fail after the reserve */
    uint8_t *p = st_batch_encode_entry(b->rep.data + b->rep.len, kind, key, klen, val, vlen);
    b->rep.len = (size_t)(p - b->rep.data);
    b->count++;
    b->kv_bytes += klen + (kind != ST_KIND_DELETE ? vlen : 0);
    return STRATA_OK;
}

int
strata_batch_put(strata_batch *b, const void *key, size_t klen, const void *val, size_t vlen)
{
    return add_entry(b, ST_KIND_PUT, key, klen, val, vlen);
}

int
strata_batch_delete(strata_batch *b, const void *key, size_t klen)
{
    return add_entry(b, ST_KIND_DELETE, key, klen, NULL, 0);
}

int
strata_batch_delete_range(strata_batch *b, const void *begin, size_t blen, const void *end,
                          size_t elen)
{
    return add_entry(b, ST_KIND_RANGE_DELETE, begin, blen, end, elen);
}

void
strata_batch_clear(strata_batch *b)
{
    if (!b)
        return;
    b->rep.len = ST_BATCH_HEADER;
    b->count = 0;
    b->kv_bytes = 0;
}

size_t
strata_batch_count(const strata_batch *b)
{
    return b ? b->count : 0;
}

void
strata_batch_free(strata_batch *b)
{
    if (!b)
        return;
    st_batch_release(b);
    st_free(b);
}

int
st_batch_append(strata_batch *dst, const strata_batch *src)
{
    if ((uint64_t)dst->count + src->count > UINT32_MAX)
        return st_err(STRATA_INVALID, "commit group has too many entries");
    ST_RET(
        st_buf_append(&dst->rep, src->rep.data + ST_BATCH_HEADER, src->rep.len - ST_BATCH_HEADER));
    dst->count += src->count;
    dst->kv_bytes += src->kv_bytes;
    return STRATA_OK;
}

int
st_batch_iterate(const uint8_t *rep, size_t len, st_batch_visit_fn fn, void *arg,
                 uint64_t *first_seq, uint32_t *count_out, const char *what)
{
    if (len < ST_BATCH_HEADER)
        return st_err(STRATA_CORRUPT, "%s: write batch too short (%zu bytes)", what, len);
    uint64_t seq = st_get_fixed64(rep);
    uint32_t count = st_get_fixed32(rep + 8);
    if (first_seq)
        *first_seq = seq;
    if (count_out)
        *count_out = count;
    if (seq == 0 || seq > ST_SEQ_MAX || (uint64_t)count > ST_SEQ_MAX - seq)
        return st_err(STRATA_CORRUPT, "%s: write batch sequence %llu out of range", what,
                      (unsigned long long)seq);
    const uint8_t *p = rep + ST_BATCH_HEADER, *end = rep + len;
    uint32_t n = 0;
    while (p < end) {
        int kind = *p++;
        uint64_t klen, vlen = 0;
        const uint8_t *key, *val = NULL;
        if (kind != ST_KIND_PUT && kind != ST_KIND_DELETE && kind != ST_KIND_RANGE_DELETE)
            return st_err(STRATA_CORRUPT, "%s: write batch entry %u has unknown kind %d", what, n,
                          kind);
        p = st_get_varint64(p, end, &klen);
        if (!p || klen == 0 || klen > STRATA_MAX_KEY_SIZE || klen > (uint64_t)(end - p))
            return st_err(STRATA_CORRUPT, "%s: write batch entry %u has a bad key length", what, n);
        key = p;
        p += klen;
        if (kind != ST_KIND_DELETE) {
            uint64_t max = kind == ST_KIND_PUT ? STRATA_MAX_VALUE_SIZE : STRATA_MAX_KEY_SIZE;
            p = st_get_varint64(p, end, &vlen);
            if (!p || vlen > max || vlen > (uint64_t)(end - p))
                return st_err(STRATA_CORRUPT, "%s: write batch entry %u has a bad value length",
                              what, n);
            val = p;
            p += vlen;
            if (kind == ST_KIND_RANGE_DELETE && st_bytes_cmp(key, klen, val, vlen) >= 0)
                return st_err(STRATA_CORRUPT,
                              "%s: write batch entry %u is a range delete whose begin is not "
                              "before its end",
                              what, n);
        }
        if (n >= count)
            return st_err(STRATA_CORRUPT, "%s: write batch holds more entries than its count %u",
                          what, count);
        if (fn)
            ST_RET(fn(arg, seq + n, kind, key, (size_t)klen, val, (size_t)vlen));
        n++;
    }
    if (n != count)
        return st_err(STRATA_CORRUPT, "%s: write batch count %u but %u entries", what, count, n);
    return STRATA_OK;
}
