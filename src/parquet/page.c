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
    st_free(pg->nulls);
    st_free(pg->ints);
    st_free(pg->offs);
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

/* Decode n non-null values of the page's encoding into pg (row positions given by rowmap). */
static int
decode_values(const st_pq_column_desc *c, int enc, const uint8_t *p, size_t len, size_t nvals,
              const st_pq_page *dict, st_pq_page *pg, const uint8_t *nulls)
{
    size_t n = pg->n;
    int is32 = c->type == ST_PQ_INT32;
    int rc = STRATA_OK;
    uint32_t *idx = NULL;
    int64_t *iv = NULL;
    size_t *vo = NULL;
    st_buf data = {0};

    if (enc == ST_PQ_PLAIN_DICTIONARY || enc == ST_PQ_RLE_DICTIONARY) {
        if (!dict)
            return st_err(STRATA_CORRUPT, "dictionary-encoded page without dictionary page");
        if (len < 1 || p[0] > 32)
            return st_err(STRATA_CORRUPT, "bad dictionary index bit width");
        if (!(idx = st_malloc((nvals ? nvals : 1) * sizeof(uint32_t))))
            return st_err(STRATA_NOMEM, "decoding page");
        rc = st_pq_rle_decode(p + 1, len - 1, p[0], idx, nvals, NULL);
        for (size_t i = 0; rc == STRATA_OK && i < nvals; i++)
            if (idx[i] >= dict->n)
                rc = st_err(STRATA_CORRUPT, "dictionary index %u out of range", idx[i]);
    }
    if (rc != STRATA_OK)
        goto out;

    if (c->type == ST_PQ_BYTE_ARRAY) {
        if (!(vo = st_malloc((nvals + 1) * sizeof(size_t))) ||
            !(pg->offs = st_malloc((n + 1) * sizeof(size_t)))) {
            rc = st_err(STRATA_NOMEM, "decoding page");
            goto out;
        }
        if (idx) {
            size_t total = 0;
            for (size_t i = 0; i < nvals; i++)
                total += dict->offs[idx[i] + 1] - dict->offs[idx[i]];
            if (total > ST_PQ_MAX_DECODED) {
                rc = st_err(STRATA_CORRUPT, "dictionary page expands too much");
                goto out;
            }
            if ((rc = st_buf_reserve(&data, total)) != STRATA_OK)
                goto out;
            for (size_t i = 0; i < nvals; i++) {
                size_t a = dict->offs[idx[i]], b = dict->offs[idx[i] + 1];
                vo[i] = data.len;
                memcpy(data.data + data.len, dict->data + a, b - a);
                data.len += b - a;
            }
            vo[nvals] = data.len;
        } else {
            rc = st_pq_decode_byte_array(enc, p, len, nvals, &data, vo);
            if (rc != STRATA_OK)
                goto out;
        }
        for (size_t r = 0, v = 0; r <= n; r++) {
            pg->offs[r] = vo[v];
            if (r < n && !(nulls && nulls[r]))
                v++;
        }
        pg->mem += (n + 1) * sizeof(size_t) + data.len;
        pg->data = st_buf_detach(&data, &len);
    } else {
        if (!(iv = st_malloc((nvals ? nvals : 1) * sizeof(int64_t))) ||
            !(pg->ints = st_calloc(n ? n : 1, sizeof(int64_t)))) {
            rc = st_err(STRATA_NOMEM, "decoding page");
            goto out;
        }
        if (idx) {
            for (size_t i = 0; i < nvals; i++)
                iv[i] = dict->ints[idx[i]];
        } else if (enc == ST_PQ_PLAIN) {
            size_t w = is32 ? 4 : 8;
            if (len / w < nvals) {
                rc = st_err(STRATA_CORRUPT, "PLAIN integers truncated");
                goto out;
            }
            for (size_t i = 0; i < nvals; i++)
                iv[i] = is32 ? (int64_t)(int32_t)st_get_fixed32(p + 4 * i)
                             : (int64_t)st_get_fixed64(p + 8 * i);
        } else if (enc == ST_PQ_DELTA_BINARY_PACKED) {
            if ((rc = st_pq_dbp_decode(p, len, is32, iv, nvals, NULL)) != STRATA_OK)
                goto out;
        } else {
            rc = st_err(STRATA_NOTSUP, "unsupported integer encoding %d", enc);
            goto out;
        }
        for (size_t r = 0, v = 0; r < n; r++)
            if (!(nulls && nulls[r]))
                pg->ints[r] = iv[v++];
        pg->mem += n * sizeof(int64_t);
    }
out:
    st_free(idx);
    st_free(iv);
    st_free(vo);
    st_buf_free(&data);
    return rc;
}

/* Definition levels -> nulls array; returns the number of non-null values in *nvals. */
static int
decode_levels(const uint8_t *p, size_t len, st_pq_page *pg, size_t *nvals)
{
    size_t n = pg->n;
    uint32_t *lv = st_malloc((n ? n : 1) * sizeof(uint32_t));
    if (!lv)
        return st_err(STRATA_NOMEM, "decoding levels");
    int rc = st_pq_rle_decode(p, len, 1, lv, n, NULL);
    size_t nn = 0;
    for (size_t i = 0; rc == STRATA_OK && i < n; i++)
        nn += lv[i] == 0;
    if (rc == STRATA_OK && nn) {
        if (!(pg->nulls = st_malloc(n)))
            rc = st_err(STRATA_NOMEM, "decoding levels");
        for (size_t i = 0; rc == STRATA_OK && i < n; i++)
            pg->nulls[i] = lv[i] == 0;
        pg->mem += n;
    }
    *nvals = n - nn;
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

    st_pq_page *pg = st_calloc(1, sizeof(*pg));
    uint8_t *raw = NULL;
    int rc = STRATA_OK, enc;
    size_t ulen = (size_t)h->uncompressed_size, clen = (size_t)h->compressed_size;
    const uint8_t *vals = NULL;
    size_t vlen = 0, nvals = n, lv = 0;
    const uint8_t *levels = NULL;
    size_t levels_len = 0;
    if (!pg)
        return st_err(STRATA_NOMEM, "decoding page");
    pg->n = (uint32_t)n;
    pg->type = c->type;
    pg->mem = sizeof(*pg);

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
            if (!(raw = st_malloc(ulen - lv + 1))) {
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
            if (!(raw = st_malloc(ulen + 1))) {
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
        rc = decode_levels(levels, levels_len, pg, &nvals);
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
    rc = decode_values(c, enc, vals, vlen, nvals, dictpage ? NULL : dict, pg, pg->nulls);
out:
    st_free(raw);
    if (rc != STRATA_OK) {
        st_pq_page_free(pg);
        return st_err_prefix(rc, "%s: page at offset %llu: ", what, (unsigned long long)off);
    }
    *out = pg;
    return STRATA_OK;
}
