/* SPDX-License-Identifier: Apache-2.0 */
/*
 * page_value.c -- one value of a stored page, without decoding the page.
 *
 * A point lookup needs one row of a value page. Decoding the page builds an offsets array for
 * every row and copies every value out of the decompressed bytes; this reads only what the row
 * needs: the definition levels up to the row, then the PLAIN length prefixes up to the row's
 * value, in a buffer decompressed only as far as that value (LZ4_RAW stops early).
 */
#include "parquet/encoding.h"
#include "parquet/page.h"
#include "util/alloc.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/status.h"

#include <string.h>

/* Definition levels decoded on the stack up to this many rows; longer prefixes are allocated. */
#define LEVEL_STACK 1024

/*
 * Walks the definition levels of rows [0, row]: *vidx = non-null values before row, *is_null for
 * row itself. p/len: the RLE/bit-packed hybrid levels (bit width 1).
 */
static int
walk_levels(const uint8_t *p, size_t len, uint32_t row, size_t *vidx, int *is_null)
{
    uint32_t stack[LEVEL_STACK];
    size_t n = (size_t)row + 1;
    uint32_t *lv = n <= LEVEL_STACK ? stack : st_malloc(n * sizeof(uint32_t));
    if (!lv)
        return st_err(STRATA_NOMEM, "decoding levels");
    int rc = st_pq_rle_decode(p, len, 1, lv, n, NULL);
    size_t nn = 0;
    for (size_t i = 0; rc == STRATA_OK && i < row; i++)
        nn += lv[i] != 0;
    if (rc == STRATA_OK) {
        *vidx = nn;
        *is_null = lv[row] == 0;
    }
    if (lv != stack)
        st_free(lv);
    return rc;
}

/* Bytes to decompress first for the value of row `row` of n: its share of the page, plus slack. */
static size_t
first_guess(size_t ulen, uint32_t row, size_t n)
{
    size_t share = (size_t)((double)ulen * (double)(row + 1) / (double)n);
    size_t want = share + share / 8 + 512;
    return want < ulen ? want : ulen;
}

int
st_pq_page_value_at(const st_pq_column_desc *c, const st_pq_page_header *h, const uint8_t *payload,
                    uint32_t row, st_buf *scratch, const char *what, uint64_t off, int *handled,
                    const uint8_t **v, size_t *vlen, int *is_null)
{
    *handled = 0;
    size_t n = (size_t)h->num_values;
    if (c->type != ST_PQ_BYTE_ARRAY || h->type != ST_PQ_DATA_PAGE || h->encoding != ST_PQ_PLAIN ||
        c->max_def > 1 || row >= n || n > ST_PQ_MAX_PAGE_VALUES ||
        (size_t)h->uncompressed_size > ST_PQ_MAX_PAGE_BYTES || h->compressed_size < 0)
        return STRATA_OK; /* not this form (or malformed): the caller decodes the page */
    *handled = 1;
    size_t ulen = (size_t)h->uncompressed_size, clen = (size_t)h->compressed_size;
    const uint8_t *d = payload; /* the decompressed page: have valid bytes of ulen */
    size_t have = ulen, pos = 0, vidx = (size_t)row;
    int rc = STRATA_OK;
    if (c->verify_crc && h->has_crc && st_crc32_ieee(0, payload, clen) != h->crc) {
        rc = st_err(STRATA_CORRUPT, "checksum mismatch");
        goto out;
    }
    if (c->codec == ST_PQ_UNCOMPRESSED) {
        if (clen != ulen) {
            rc = st_err(STRATA_CORRUPT, "uncompressed page size mismatch");
            goto out;
        }
    } else {
        st_buf_clear(scratch);
        if ((rc = st_buf_reserve(scratch, ulen + 1)) != STRATA_OK)
            goto out;
        rc = st_pq_decompress_prefix(c->codec, payload, clen, scratch->data, ulen,
                                     first_guess(ulen, row, n), &have);
        if (rc != STRATA_OK)
            goto out;
        d = scratch->data;
    }
    /* levels (OPTIONAL columns): a 4-byte length, then the hybrid runs */
    *is_null = 0;
    if (c->max_def == 1) {
        size_t llen;
        if (have < 4 || (llen = st_get_fixed32(d)) > ulen - 4) {
            rc = st_err(STRATA_CORRUPT, "bad definition level length");
            goto out;
        }
        if (4 + llen > have) { /* the levels alone outgrew the guess */
            rc = st_pq_decompress(c->codec, payload, clen, scratch->data, ulen);
            have = ulen;
            if (rc != STRATA_OK)
                goto out;
        }
        if ((rc = walk_levels(d + 4, llen, row, &vidx, is_null)) != STRATA_OK)
            goto out;
        pos = 4 + llen;
        if (*is_null) {
            *v = NULL;
            *vlen = 0;
            goto out;
        }
    }
    /* PLAIN: skip vidx length-prefixed values, then take one */
    for (size_t i = 0;;) {
        if (pos + 4 > have || (i == vidx && pos + 4 + st_get_fixed32(d + pos) > have)) {
            if (have == ulen) {
                rc = st_err(STRATA_CORRUPT, "malformed PLAIN BYTE_ARRAY data (value truncated)");
                goto out;
            }
            rc = st_pq_decompress(c->codec, payload, clen, scratch->data, ulen);
            have = ulen;
            if (rc != STRATA_OK)
                goto out;
            continue; /* the same value again, with the whole page */
        }
        size_t l = st_get_fixed32(d + pos);
        if (i == vidx) {
            *v = d + pos + 4;
            *vlen = l;
            break;
        }
        if (l > ulen - pos - 4) {
            rc = st_err(STRATA_CORRUPT, "malformed PLAIN BYTE_ARRAY data (value truncated)");
            goto out;
        }
        pos += 4 + l;
        i++;
    }
out:
    if (rc != STRATA_OK)
        return st_err_prefix(rc, "%s: page at offset %llu: ", what, (unsigned long long)off);
    return STRATA_OK;
}
