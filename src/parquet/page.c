/* SPDX-License-Identifier: Apache-2.0 */
/* page.c -- page decoding and framing. */
#include "parquet/page.h"

#include "parquet/encoding.h"
#include "util/alloc.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/status.h"

#include <string.h>

void
st_pq_page_free(st_pq_page *pg)
{
    if (!pg)
        return;
    st_free(pg->data);
    st_free(pg);
}

int
st_pq_page_frame(st_pq_compressor *comp, st_pq_page_header *h, const uint8_t *payload, size_t n,
                 st_buf *scratch, st_buf *out, size_t *header_len)
{
    if (n > (size_t)INT32_MAX)
        return st_err(STRATA_INVALID, "page of %zu bytes is too large for Parquet", n);
    st_buf_clear(scratch);
    ST_RET(st_pq_compress(comp, payload, n, scratch));
    if (scratch->len > (size_t)INT32_MAX)
        return st_err(STRATA_INVALID, "compressed page of %zu bytes too large", scratch->len);
    h->uncompressed_size = (int32_t)n;
    h->compressed_size = (int32_t)scratch->len;
    h->crc = st_crc32_ieee(0, scratch->data, scratch->len);
    h->has_crc = 1;
    size_t before = out->len;
    ST_RET(st_pq_encode_page_header(out, h));
    *header_len = out->len - before;
    return st_buf_append(out, scratch->data, scratch->len);
}

/* Temporary arrays of up to this many elements live on the stack. */
#define PAGE_STACK 512

/*
 * One allocation for the page: the struct, then n + 1 offsets (byte arrays) or n integers, then
 * (max_def > 0) n null flags whose address is returned in *null_space.
 */
static st_pq_page *
page_alloc(int type, size_t n, int max_def, uint8_t **null_space)
{
    size_t head = (sizeof(st_pq_page) + 7) & ~(size_t)7;
    size_t arr = type == ST_PQ_BYTE_ARRAY ? (n + 1) * sizeof(uint32_t) : n * sizeof(int64_t);
    size_t total = head + arr + (max_def > 0 ? n : 0);
    st_pq_page *pg = st_malloc(total);
    if (!pg)
        return NULL;
    memset(pg, 0, sizeof(*pg));
    uint8_t *base = (uint8_t *)pg + head;
    if (type == ST_PQ_BYTE_ARRAY)
        pg->offs = (uint32_t *)(void *)base;
    else
        pg->ints = (int64_t *)(void *)base;
    *null_space = base + arr;
    pg->n = (uint32_t)n;
    pg->type = type;
    pg->mem = total;
    return pg;
}

int
st_pq_page_const_int(int type, size_t n, int64_t value, st_pq_page **out)
{
    uint8_t *nulls;
    *out = NULL;
    if ((type != ST_PQ_INT32 && type != ST_PQ_INT64) || n > ST_PQ_MAX_PAGE_VALUES)
        return st_err(STRATA_INVALID, "constant page: type %d, %zu values", type, n);
    st_pq_page *pg = page_alloc(type, n, 0, &nulls);
    if (!pg)
        return st_err(STRATA_NOMEM, "constant page of %zu values", n);
    for (size_t i = 0; i < n; i++)
        pg->ints[i] = value;
    *out = pg;
    return STRATA_OK;
}

/* Dictionary indices of nvals values (bit width byte + RLE hybrid) into idx, checked. */
static int
decode_dict_indices(const uint8_t *p, size_t len, size_t nvals, const st_pq_page *dict,
                    uint32_t *idx)
{
    if (!dict)
        return st_err(STRATA_CORRUPT, "dictionary-encoded page without dictionary page");
    if (len < 1 || p[0] > 32)
        return st_err(STRATA_CORRUPT, "bad dictionary index bit width");
    ST_RET(st_pq_rle_decode(p + 1, len - 1, p[0], idx, nvals, NULL));
    for (size_t i = 0; i < nvals; i++)
        if (idx[i] >= dict->n)
            return st_err(STRATA_CORRUPT, "dictionary index %u out of range", idx[i]);
    return STRATA_OK;
}

/*
 * PLAIN byte arrays, row by row (nulls skip a row without consuming a value): the values are
 * copied back to back into dst without their length prefixes. dst may be the buffer holding p
 * itself (at or before p): every value moves down by at least its 4-byte prefix.
 */
static int
plain_rows(const uint8_t *p, size_t len, size_t nvals, st_pq_page *pg, const uint8_t *nulls,
           uint8_t *dst)
{
    const uint8_t *q = p, *end = p + len;
    size_t o = 0, v = 0;
    if (nvals > len / 4)
        return st_err(STRATA_CORRUPT, "malformed PLAIN BYTE_ARRAY data (more values than bytes)");
    for (size_t r = 0; r < pg->n; r++) {
        pg->offs[r] = (uint32_t)o;
        if (nulls && nulls[r])
            continue;
        if ((size_t)(end - q) < 4)
            return st_err(STRATA_CORRUPT, "malformed PLAIN BYTE_ARRAY data (length truncated)");
        uint32_t l = st_get_fixed32(q);
        q += 4;
        if (l > (size_t)(end - q))
            return st_err(STRATA_CORRUPT, "malformed PLAIN BYTE_ARRAY data (value truncated)");
        if (l)
            memmove(dst + o, q, l);
        o += l;
        q += l;
        v++;
    }
    pg->offs[pg->n] = (uint32_t)o;
    pg->unread = (size_t)(end - q);
    return v == nvals ? STRATA_OK
                      : st_err(STRATA_CORRUPT, "malformed PLAIN BYTE_ARRAY data (value count)");
}

/* Spread nvals per-value offsets vo over the page's rows (nulls repeat the offset). */
static void
spread_offsets(st_pq_page *pg, const uint8_t *nulls, const uint32_t *vo)
{
    for (size_t r = 0, v = 0; r <= pg->n; r++) {
        pg->offs[r] = vo[v];
        if (r < pg->n && !(nulls && nulls[r]))
            v++;
    }
}

/*
 * Byte-array values. own (may be NULL) is a heap buffer of own_cap bytes holding p that the
 * page may take over as its data (PLAIN); *taken is set when it did.
 */
static int
decode_bytes(int enc, const uint8_t *p, size_t len, size_t nvals, const st_pq_page *dict,
             st_pq_page *pg, const uint8_t *nulls, uint8_t *own, size_t own_cap, int *taken)
{
    uint32_t stack[PAGE_STACK], *tmp = NULL;
    size_t n = pg->n;
    int rc = STRATA_OK;
    st_buf data = {0};
    *taken = 0;
    if (enc == ST_PQ_PLAIN) {
        uint8_t *dst = own ? own : st_malloc(len + 1);
        if (!dst)
            return st_err(STRATA_NOMEM, "decoding page");
        rc = plain_rows(p, len, nvals, pg, nulls, dst);
        if (rc == STRATA_OK && own) {
            *taken = 1;
        } else if (rc != STRATA_OK && !own) {
            st_free(dst);
            dst = NULL;
        }
        if (rc == STRATA_OK) {
            pg->data = dst;
            pg->mem += own ? own_cap : len + 1;
        }
        return rc;
    }
    /* per-value offsets (or dictionary indices) when they differ from per-row ones */
    int need_tmp = enc == ST_PQ_PLAIN_DICTIONARY || enc == ST_PQ_RLE_DICTIONARY || nvals != n;
    if (need_tmp) {
        tmp = nvals + 1 <= PAGE_STACK ? stack : st_malloc((nvals + 1) * sizeof(uint32_t));
        if (!tmp)
            return st_err(STRATA_NOMEM, "decoding page");
    }
    uint32_t *vo = need_tmp ? tmp : pg->offs;
    if (enc == ST_PQ_PLAIN_DICTIONARY || enc == ST_PQ_RLE_DICTIONARY) {
        rc = decode_dict_indices(p, len, nvals, dict, tmp);
        size_t total = 0;
        for (size_t i = 0; rc == STRATA_OK && i < nvals; i++)
            total += dict->offs[tmp[i] + 1] - dict->offs[tmp[i]];
        if (rc == STRATA_OK && total > ST_PQ_MAX_DECODED)
            rc = st_err(STRATA_CORRUPT, "dictionary page expands too much");
        if (rc == STRATA_OK)
            rc = st_buf_reserve(&data, total + 1);
        for (size_t i = 0; rc == STRATA_OK && i < nvals; i++) {
            size_t a = dict->offs[tmp[i]], b = dict->offs[tmp[i] + 1];
            tmp[i] = (uint32_t)data.len; /* index i is consumed: reuse the slot as offset */
            memcpy(data.data + data.len, dict->data + a, b - a);
            data.len += b - a;
        }
        if (rc == STRATA_OK)
            tmp[nvals] = (uint32_t)data.len;
    } else {
        rc = st_pq_decode_byte_array(enc, p, len, nvals, &data, vo);
    }
    if (rc == STRATA_OK) {
        if (need_tmp)
            spread_offsets(pg, nulls, vo);
        pg->mem += data.cap;
        pg->data = data.data;
        data.data = NULL;
    }
    if (tmp != stack)
        st_free(tmp);
    st_buf_free(&data);
    return rc;
}

/* Integer values (PLAIN, DELTA_BINARY_PACKED or dictionary) spread over the rows. */
static int
decode_ints(const st_pq_column_desc *c, int enc, const uint8_t *p, size_t len, size_t nvals,
            const st_pq_page *dict, st_pq_page *pg, const uint8_t *nulls)
{
    int64_t stack[PAGE_STACK], *iv = pg->ints;
    uint32_t *idx = NULL;
    size_t n = pg->n;
    int is32 = c->type == ST_PQ_INT32, rc = STRATA_OK;
    if (nvals != n &&
        !(iv = nvals <= PAGE_STACK ? stack : st_malloc((nvals ? nvals : 1) * sizeof(int64_t))))
        return st_err(STRATA_NOMEM, "decoding page");
    if (enc == ST_PQ_PLAIN_DICTIONARY || enc == ST_PQ_RLE_DICTIONARY) {
        if (!(idx = st_malloc((nvals ? nvals : 1) * sizeof(uint32_t))))
            rc = st_err(STRATA_NOMEM, "decoding page");
        if (rc == STRATA_OK)
            rc = decode_dict_indices(p, len, nvals, dict, idx);
        for (size_t i = 0; rc == STRATA_OK && i < nvals; i++)
            iv[i] = dict->ints[idx[i]];
        st_free(idx);
    } else if (enc == ST_PQ_PLAIN) {
        size_t w = is32 ? 4 : 8;
        if (len / w < nvals)
            rc = st_err(STRATA_CORRUPT, "PLAIN integers truncated");
        for (size_t i = 0; rc == STRATA_OK && i < nvals; i++)
            iv[i] = is32 ? (int64_t)(int32_t)st_get_fixed32(p + 4 * i)
                         : (int64_t)st_get_fixed64(p + 8 * i);
    } else if (enc == ST_PQ_DELTA_BINARY_PACKED) {
        rc = st_pq_dbp_decode(p, len, is32, iv, nvals, NULL);
    } else {
        rc = st_err(STRATA_NOTSUP, "unsupported integer encoding %d", enc);
    }
    if (rc == STRATA_OK && iv != pg->ints)
        for (size_t r = 0, v = 0; r < n; r++)
            pg->ints[r] = nulls && nulls[r] ? 0 : iv[v++];
    if (iv != pg->ints && iv != stack)
        st_free(iv);
    return rc;
}

/* Definition levels -> null flags in space (pg->nulls = space when any); *nvals = non-nulls. */
static int
decode_levels(const uint8_t *p, size_t len, st_pq_page *pg, uint8_t *space, size_t *nvals)
{
    size_t n = pg->n;
    uint32_t stack[PAGE_STACK];
    uint32_t *lv = n <= PAGE_STACK ? stack : st_malloc((n ? n : 1) * sizeof(uint32_t));
    if (!lv)
        return st_err(STRATA_NOMEM, "decoding levels");
    int rc = st_pq_rle_decode(p, len, 1, lv, n, NULL);
    size_t nn = 0;
    for (size_t i = 0; rc == STRATA_OK && i < n; i++) {
        space[i] = lv[i] == 0;
        nn += space[i];
    }
    if (nn)
        pg->nulls = space;
    *nvals = n - nn;
    if (lv != stack)
        st_free(lv);
    return rc;
}

int
st_pq_page_decode(const st_pq_column_desc *c, const st_pq_page_header *h, const uint8_t *payload,
                  const st_pq_page *dict, const char *what, uint64_t off, st_pq_page **out)
{
    *out = NULL;
    if (c->type != ST_PQ_BYTE_ARRAY && c->type != ST_PQ_INT32 && c->type != ST_PQ_INT64)
        return st_err(STRATA_NOTSUP, "%s: page at offset %llu: unsupported physical type %d", what,
                      (unsigned long long)off, c->type);
    if (c->verify_crc && h->has_crc &&
        st_crc32_ieee(0, payload, (size_t)h->compressed_size) != h->crc)
        return st_err(STRATA_CORRUPT, "%s: page at offset %llu: checksum mismatch", what,
                      (unsigned long long)off);
    if ((size_t)h->uncompressed_size > ST_PQ_MAX_PAGE_BYTES)
        return st_err(STRATA_CORRUPT, "%s: page at offset %llu: size %d too large", what,
                      (unsigned long long)off, h->uncompressed_size);
    int dictpage = h->type == ST_PQ_DICTIONARY_PAGE;
    size_t n = (size_t)(dictpage ? h->dict_num_values : h->num_values);
    if (n > ST_PQ_MAX_PAGE_VALUES ||
        (h->type != ST_PQ_DATA_PAGE && !dictpage && h->type != ST_PQ_DATA_PAGE_V2))
        return st_err(STRATA_CORRUPT, "%s: page at offset %llu: bad type or value count", what,
                      (unsigned long long)off);

    uint8_t *null_space = NULL;
    st_pq_page *pg = page_alloc(c->type, n, dictpage ? 0 : c->max_def, &null_space);
    uint8_t *raw = NULL;
    int rc = STRATA_OK, enc, taken = 0;
    size_t ulen = (size_t)h->uncompressed_size, clen = (size_t)h->compressed_size, rawcap = 0;
    const uint8_t *vals = NULL;
    size_t vlen = 0, nvals = n, lv = 0;
    const uint8_t *levels = NULL;
    size_t levels_len = 0;
    if (!pg)
        return st_err(STRATA_NOMEM, "decoding page");

    if (h->type == ST_PQ_DATA_PAGE_V2) {
        lv = (size_t)h->def_len + (size_t)h->rep_len;
        if (lv > clen || lv > ulen || h->rep_len != 0 || (c->max_def == 0 && h->def_len != 0) ||
            (size_t)h->num_rows != n) {
            rc = st_err(STRATA_CORRUPT, "bad v2 level sizes");
            goto out;
        }
        levels = payload;
        levels_len = (size_t)h->def_len;
        if (h->is_compressed && c->codec != ST_PQ_UNCOMPRESSED) {
            rawcap = ulen - lv + 1;
            if (!(raw = st_malloc(rawcap))) {
                rc = st_err(STRATA_NOMEM, "decoding page");
                goto out;
            }
            rc = st_pq_decompress(c->codec, payload + lv, clen - lv, raw, ulen - lv);
            vals = raw;
        } else {
            if (clen != ulen) {
                rc = st_err(STRATA_CORRUPT, "uncompressed v2 page size mismatch");
                goto out;
            }
            vals = payload + lv;
        }
        vlen = ulen - lv;
    } else {
        if (c->codec != ST_PQ_UNCOMPRESSED) {
            rawcap = ulen + 1;
            if (!(raw = st_malloc(rawcap))) {
                rc = st_err(STRATA_NOMEM, "decoding page");
                goto out;
            }
            rc = st_pq_decompress(c->codec, payload, clen, raw, ulen);
            vals = raw;
        } else if (clen != ulen) {
            rc = st_err(STRATA_CORRUPT, "uncompressed page size mismatch");
            goto out;
        } else {
            vals = payload;
        }
        vlen = ulen;
        if (!dictpage && c->max_def > 0 && rc == STRATA_OK) {
            if (vlen < 4 || st_get_fixed32(vals) > vlen - 4) {
                rc = st_err(STRATA_CORRUPT, "bad definition level length");
                goto out;
            }
            levels = vals + 4;
            levels_len = st_get_fixed32(vals);
            vals += 4 + levels_len;
            vlen -= 4 + levels_len;
        }
    }
    if (rc != STRATA_OK)
        goto out;
    if (!dictpage && c->max_def > 0) {
        rc = decode_levels(levels, levels_len, pg, null_space, &nvals);
        if (rc == STRATA_OK && h->type == ST_PQ_DATA_PAGE_V2 && (size_t)h->num_nulls != n - nvals)
            rc = st_err(STRATA_CORRUPT, "v2 num_nulls disagrees with levels");
        if (rc != STRATA_OK)
            goto out;
    }
    enc = dictpage ? ST_PQ_PLAIN : h->encoding;
    if (dictpage && h->dict_encoding != ST_PQ_PLAIN && h->dict_encoding != ST_PQ_PLAIN_DICTIONARY) {
        rc = st_err(STRATA_NOTSUP, "dictionary page encoding %d", h->dict_encoding);
        goto out;
    }
    if (c->type == ST_PQ_BYTE_ARRAY)
        rc = decode_bytes(enc, vals, vlen, nvals, dictpage ? NULL : dict, pg, pg->nulls, raw,
                          rawcap, &taken);
    else
        rc = decode_ints(c, enc, vals, vlen, nvals, dictpage ? NULL : dict, pg, pg->nulls);
out:
    if (!taken)
        st_free(raw);
    if (rc != STRATA_OK) {
        st_pq_page_free(pg);
        return st_err_prefix(rc, "%s: page at offset %llu: ", what, (unsigned long long)off);
    }
    *out = pg;
    return STRATA_OK;
}
