/* SPDX-License-Identifier: Apache-2.0 */
/*
 * page_value.c -- values of a stored page, read without decoding the page (see page.h).
 *
 * A point lookup needs one row of a value page, a seek one or two. Decoding the page builds an
 * offsets array for every row and copies every value out of the decompressed bytes; a value
 * reader instead walks the PLAIN length prefixes up to the rows asked for, in a buffer
 * decompressed only as far as they need (LZ4_RAW stops early; the rest on demand).
 */
#include "parquet/encoding.h"
#include "parquet/page.h"
#include "util/alloc.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/status.h"

#include <string.h>

/* Definition levels decoded on the stack up to this many rows. */
#define LEVEL_STACK 1024

/* Bytes to decompress first for the value of row `row` of n: its share of the page, plus slack. */
static size_t
first_guess(size_t ulen, uint32_t row, size_t n)
{
    size_t share = (size_t)((double)ulen * (double)(row + 1) / (double)n);
    size_t want = share + share / 8 + 512;
    return want < ulen ? want : ulen;
}

static int
fail(const st_pq_value_reader *vr, int rc)
{
    return st_err_prefix(rc, "%s: page at offset %llu: ", vr->what, (unsigned long long)vr->off);
}

/* Make the whole page valid in the buffer. */
static int
decompress_all(st_pq_value_reader *vr)
{
    if (vr->have == vr->ulen)
        return STRATA_OK;
    int rc = st_pq_decompress(vr->c.codec, vr->payload, vr->clen, vr->buf->data, vr->ulen);
    if (rc != STRATA_OK)
        return fail(vr, rc);
    vr->have = vr->ulen;
    return STRATA_OK;
}

int
st_pq_value_reader_open(st_pq_value_reader *vr, const st_pq_column_desc *c,
                        const st_pq_page_header *h, const uint8_t *payload, uint32_t row,
                        st_buf *buf, const char *what, uint64_t off, int *handled)
{
    memset(vr, 0, sizeof(*vr));
    *handled = 0;
    size_t n = (size_t)h->num_values;
    if (c->type != ST_PQ_BYTE_ARRAY || h->type != ST_PQ_DATA_PAGE || h->encoding != ST_PQ_PLAIN ||
        c->max_def > 1 || n == 0 || n > ST_PQ_MAX_PAGE_VALUES ||
        (size_t)h->uncompressed_size > ST_PQ_MAX_PAGE_BYTES || h->compressed_size < 0)
        return STRATA_OK; /* not this form (or malformed): the caller decodes the page */
    *handled = 1;
    vr->c = *c;
    vr->n = (uint32_t)n;
    vr->payload = payload;
    vr->buf = buf;
    vr->ulen = (size_t)h->uncompressed_size;
    vr->clen = (size_t)h->compressed_size;
    vr->what = what;
    vr->off = off;
    if (c->verify_crc && h->has_crc && st_crc32_ieee(0, payload, vr->clen) != h->crc)
        return fail(vr, st_err(STRATA_CORRUPT, "checksum mismatch"));
    /* buffer: the decompressed page, then one null flag per row */
    st_buf_clear(buf);
    if (st_buf_reserve(buf, vr->ulen + 1 + n) != STRATA_OK)
        return fail(vr, STRATA_NOMEM);
    if (c->codec == ST_PQ_UNCOMPRESSED) {
        if (vr->clen != vr->ulen)
            return fail(vr, st_err(STRATA_CORRUPT, "uncompressed page size mismatch"));
        vr->d = payload;
        vr->have = vr->ulen;
    } else {
        vr->d = buf->data;
        int rc = st_pq_decompress_prefix(c->codec, payload, vr->clen, buf->data, vr->ulen,
                                         first_guess(vr->ulen, row < n ? row : 0, n), &vr->have);
        if (rc != STRATA_OK)
            return fail(vr, rc);
    }
    /* definition levels (OPTIONAL): a 4-byte length, then the hybrid runs, decoded once */
    if (c->max_def == 1) {
        size_t llen;
        if (vr->have < 4 || (llen = st_get_fixed32(vr->d)) > vr->ulen - 4)
            return fail(vr, st_err(STRATA_CORRUPT, "bad definition level length"));
        if (4 + llen > vr->have)
            ST_RET(decompress_all(vr));
        uint32_t stack[LEVEL_STACK];
        uint32_t *lv = n <= LEVEL_STACK ? stack : st_malloc(n * sizeof(uint32_t));
        if (!lv)
            return fail(vr, st_err(STRATA_NOMEM, "decoding levels"));
        int rc = st_pq_rle_decode(vr->d + 4, llen, 1, lv, n, NULL);
        uint8_t *nulls = buf->data + vr->ulen + 1;
        for (size_t i = 0; rc == STRATA_OK && i < n; i++)
            nulls[i] = lv[i] == 0;
        if (lv != stack)
            st_free(lv);
        if (rc != STRATA_OK)
            return fail(vr, rc);
        vr->nulls = nulls;
        vr->start = 4 + llen;
    }
    vr->pos = vr->start;
    return STRATA_OK;
}

int
st_pq_value_reader_get(st_pq_value_reader *vr, uint32_t row, const uint8_t **v, size_t *vlen,
                       int *is_null)
{
    if (row >= vr->n)
        return st_err(STRATA_INVALID, "row %u of a page of %u", row, vr->n);
    if (row < vr->row) { /* backwards: walk again from the first value */
        vr->row = 0;
        vr->pos = vr->start;
    }
    /* invariant: the value (or null) of row vr->row starts at vr->pos */
    for (;;) {
        int null = vr->nulls && vr->nulls[vr->row];
        size_t l = 0;
        if (!null) {
            if (vr->pos + 4 > vr->have ||
                (vr->row == row && vr->pos + 4 + st_get_fixed32(vr->d + vr->pos) > vr->have)) {
                if (vr->have == vr->ulen)
                    return fail(vr, st_err(STRATA_CORRUPT,
                                           "malformed PLAIN BYTE_ARRAY data (value truncated)"));
                ST_RET(decompress_all(vr));
                continue; /* the same row again, with the whole page */
            }
            l = st_get_fixed32(vr->d + vr->pos);
            if (l > vr->ulen - vr->pos - 4)
                return fail(vr, st_err(STRATA_CORRUPT,
                                       "malformed PLAIN BYTE_ARRAY data (value truncated)"));
        }
        if (vr->row == row) {
            *is_null = null;
            *v = null ? NULL : vr->d + vr->pos + 4;
            *vlen = l;
            return STRATA_OK;
        }
        if (!null)
            vr->pos += 4 + l;
        vr->row++;
    }
}
