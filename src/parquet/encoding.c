/* SPDX-License-Identifier: Apache-2.0 */
/* encoding.c -- RLE hybrid, delta and plain encodings (Parquet Encodings.md). */
#include "parquet/encoding.h"

#include "parquet/parquet.h"
#include "util/alloc.h"
#include "util/coding.h"
#include "util/status.h"

#include <string.h>

static int
corrupt(const char *what)
{
    return st_err(STRATA_CORRUPT, "malformed %s data", what);
}

/* ---- bit packing ---------------------------------------------------------------------------- */

int
st_pq_bitpack(st_buf *out, const uint64_t *vals, size_t n, int width)
{
    size_t bytes = (n * (size_t)width + 7) / 8;
    ST_RET(st_buf_reserve(out, bytes + 8));
    uint8_t *o = out->data + out->len;
    uint64_t acc = 0;
    int nbits = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t v = vals[i];
        int w = width;
        while (w > 0) {
            int take = w > 32 ? 32 : w;
            uint64_t part = v & ((UINT64_C(1) << take) - 1);
            acc |= part << nbits;
            nbits += take;
            v = take == 64 ? 0 : v >> take;
            w -= take;
            while (nbits >= 8) {
                *o++ = (uint8_t)acc;
                acc >>= 8;
                nbits -= 8;
            }
        }
    }
    if (nbits > 0)
        *o++ = (uint8_t)acc;
    out->len = (size_t)(o - out->data);
    return STRATA_OK;
}

/* Value i of width bits from the packed bytes p (nbytes long), one byte at a time. */
static uint64_t
get_bits_slow(const uint8_t *p, size_t i, int width)
{
    uint64_t v = 0;
    size_t bit = i * (size_t)width;
    for (int got = 0; got < width; got++, bit++)
        v |= (uint64_t)((p[bit >> 3] >> (bit & 7)) & 1) << got;
    return v;
}

/* Unpack n values of width bits from p (caller checked n*width/8 bytes are available). */
static void
bitunpack(const uint8_t *p, size_t n, int width, uint64_t *vals)
{
    size_t i = 0;
    if (width == 0) {
        memset(vals, 0, n * sizeof(*vals));
        return;
    }
    if (width <= 56) {
        /* one unaligned 64-bit little-endian load per value; values in the last 8 bytes load
         * from a zero-padded copy of them (a DELTA_BINARY_PACKED miniblock of 32 narrow values
         * is only a few bytes, so this is most values, not a rare tail) */
        size_t nbytes = (n * (size_t)width + 7) / 8, tstart = nbytes > 8 ? nbytes - 8 : 0;
        uint8_t tail[16] = {0};
        if (nbytes > tstart)
            memcpy(tail, p + tstart, nbytes - tstart);
        uint64_t mask = (UINT64_C(1) << width) - 1;
        for (; i < n; i++) {
            size_t bit = i * (size_t)width, byte = bit >> 3;
            const uint8_t *src = byte + 8 <= nbytes ? p + byte : tail + (byte - tstart);
            vals[i] = (st_get_fixed64(src) >> (bit & 7)) & mask;
        }
        return;
    }
    for (; i < n; i++)
        vals[i] = get_bits_slow(p, i, width);
}

/* ---- RLE / bit-packed hybrid ---------------------------------------------------------------- */

static size_t
run_length(const uint32_t *v, size_t i, size_t n)
{
    size_t j = i + 1;
    while (j < n && v[j] == v[i])
        j++;
    return j - i;
}

int
st_pq_rle_encode(st_buf *out, const uint32_t *vals, size_t n, int bw)
{
    size_t vbytes = ((size_t)bw + 7) / 8;
    size_t i = 0;
    uint64_t grp[8];
    while (i < n) {
        size_t run = run_length(vals, i, n);
        if (run >= 8) {
            ST_RET(st_buf_put_varint64(out, (uint64_t)run << 1));
            uint8_t vb[4];
            st_put_fixed32(vb, vals[i]);
            ST_RET(st_buf_append(out, vb, vbytes));
            i += run;
            continue;
        }
        size_t start = i, groups = 0;
        while (i < n && (groups == 0 || run_length(vals, i, n) < 8)) {
            i += 8;
            groups++;
        }
        if (i > n)
            i = n;
        ST_RET(st_buf_put_varint64(out, ((uint64_t)groups << 1) | 1));
        for (size_t g = 0; g < groups; g++) {
            for (size_t k = 0; k < 8; k++) {
                size_t idx = start + g * 8 + k;
                grp[k] = idx < n ? vals[idx] : 0;
            }
            ST_RET(st_pq_bitpack(out, grp, 8, bw));
        }
    }
    return STRATA_OK;
}

int
st_pq_rle_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n, size_t *used)
{
    const uint8_t *q = p, *end = p + len;
    size_t got = 0, vbytes = ((size_t)bw + 7) / 8;
    uint64_t tmp[8];
    if (bw < 0 || bw > 32)
        return corrupt("RLE (bit width)");
    while (got < n) {
        uint64_t h;
        q = st_get_varint64(q, end, &h);
        if (!q)
            return corrupt("RLE (run header)");
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups == 0 || groups > (uint64_t)(end - q) + 1)
                return corrupt("RLE (bit-packed run)");
            size_t bytes = (size_t)groups * (size_t)bw;
            if (bytes > (size_t)(end - q))
                return corrupt("RLE (bit-packed run truncated)");
            for (uint64_t g = 0; g < groups; g++) {
                bitunpack(q + g * (size_t)bw, 8, bw, tmp);
                for (int k = 0; k < 8 && got < n; k++)
                    out[got++] = (uint32_t)tmp[k];
            }
            q += bytes;
        } else {
            uint64_t run = h >> 1;
            if (run == 0 || vbytes > (size_t)(end - q))
                return corrupt("RLE (repeated run)");
            uint32_t v = 0;
            for (size_t k = 0; k < vbytes; k++)
                v |= (uint32_t)q[k] << (8 * k);
            q += vbytes;
            if (bw < 32 && (v >> bw) != 0)
                return corrupt("RLE (value wider than bit width)");
            size_t take = run < n - got ? (size_t)run : n - got;
            for (size_t k = 0; k < take; k++)
                out[got++] = v;
        }
    }
    if (used)
        *used = (size_t)(q - p);
    return STRATA_OK;
}

/* ---- DELTA_BINARY_PACKED -------------------------------------------------------------------- */

#define DBP_BLOCK 128
#define DBP_MINIBLOCKS 4
#define DBP_MB_VALUES (DBP_BLOCK / DBP_MINIBLOCKS)
/* Miniblocks up to this many values are unpacked on the stack (strata writes 32). */
#define DBP_STACK_VALUES 256

static int
bits_needed(uint64_t v)
{
    int b = 0;
    while (v) {
        b++;
        v >>= 1;
    }
    return b;
}

int
st_pq_dbp_encode(st_buf *out, const int64_t *vals, size_t n, int is32)
{
    int64_t first = n ? (is32 ? (int64_t)(int32_t)vals[0] : vals[0]) : 0;
    ST_RET(st_buf_put_varint64(out, DBP_BLOCK));
    ST_RET(st_buf_put_varint64(out, DBP_MINIBLOCKS));
    ST_RET(st_buf_put_varint64(out, n));
    ST_RET(st_buf_put_varint64(out, st_zigzag64(first)));
    uint64_t d[DBP_BLOCK];
    for (size_t i = 1; i < n; i += DBP_BLOCK) {
        size_t cnt = n - i < DBP_BLOCK ? n - i : DBP_BLOCK;
        int64_t mind = INT64_MAX;
        int64_t delta[DBP_BLOCK];
        for (size_t k = 0; k < cnt; k++) {
            uint64_t a = (uint64_t)vals[i + k], b = (uint64_t)vals[i + k - 1];
            delta[k] = is32 ? (int64_t)(int32_t)(uint32_t)(a - b) : (int64_t)(a - b);
            if (delta[k] < mind)
                mind = delta[k];
        }
        ST_RET(st_buf_put_varint64(out, st_zigzag64(mind)));
        uint8_t widths[DBP_MINIBLOCKS] = {0};
        for (size_t k = 0; k < DBP_BLOCK; k++) {
            d[k] = k < cnt ? (uint64_t)delta[k] - (uint64_t)mind : 0;
            if (is32)
                d[k] &= 0xffffffffu;
        }
        for (int m = 0; m < DBP_MINIBLOCKS; m++) {
            uint64_t orv = 0;
            for (size_t k = (size_t)m * DBP_MB_VALUES; k < (size_t)(m + 1) * DBP_MB_VALUES; k++)
                orv |= d[k];
            widths[m] = (uint8_t)bits_needed(orv);
        }
        ST_RET(st_buf_append(out, widths, DBP_MINIBLOCKS));
        for (int m = 0; m < DBP_MINIBLOCKS && (size_t)m * DBP_MB_VALUES < cnt; m++)
            ST_RET(st_pq_bitpack(out, d + (size_t)m * DBP_MB_VALUES, DBP_MB_VALUES, widths[m]));
    }
    return STRATA_OK;
}

int
st_pq_dbp_encode_const(st_buf *out, int64_t v, size_t n, int is32)
{
    /* every delta is 0: each block is a min delta of 0 and four miniblock widths of 0, with no
     * packed bits (what st_pq_dbp_encode writes for the same values) */
    static const uint8_t zero_block[1 + DBP_MINIBLOCKS];
    ST_RET(st_buf_put_varint64(out, DBP_BLOCK));
    ST_RET(st_buf_put_varint64(out, DBP_MINIBLOCKS));
    ST_RET(st_buf_put_varint64(out, n));
    ST_RET(st_buf_put_varint64(out, st_zigzag64(n ? (is32 ? (int64_t)(int32_t)v : v) : 0)));
    for (size_t i = 1; i < n; i += DBP_BLOCK)
        ST_RET(st_buf_append(out, zero_block, sizeof(zero_block)));
    return STRATA_OK;
}

typedef struct dbp_hdr {
    uint64_t block, mbs, total;
    int64_t first;
} dbp_hdr;

static const uint8_t *
dbp_header(const uint8_t *p, const uint8_t *end, dbp_hdr *h)
{
    uint64_t z;
    if (!(p = st_get_varint64(p, end, &h->block)) || !(p = st_get_varint64(p, end, &h->mbs)) ||
        !(p = st_get_varint64(p, end, &h->total)) || !(p = st_get_varint64(p, end, &z)))
        return NULL;
    h->first = st_unzigzag64(z);
    if (h->block == 0 || h->block % 128 != 0 || h->block > (1u << 16) || h->mbs == 0 ||
        h->block % h->mbs != 0 || (h->block / h->mbs) % 32 != 0)
        return NULL;
    return p;
}

int
st_pq_dbp_peek_count(const uint8_t *p, size_t len, uint64_t *count)
{
    dbp_hdr h;
    if (!dbp_header(p, p + len, &h))
        return corrupt("DELTA_BINARY_PACKED (header)");
    *count = h.total;
    return STRATA_OK;
}

int
st_pq_dbp_decode(const uint8_t *p, size_t len, int is32, int64_t *out, size_t n, size_t *used)
{
    const uint8_t *q, *end = p + len;
    dbp_hdr h;
    if (!(q = dbp_header(p, end, &h)))
        return corrupt("DELTA_BINARY_PACKED (header)");
    if (h.total != n)
        return corrupt("DELTA_BINARY_PACKED (value count)");
    int64_t prev = is32 ? (int64_t)(int32_t)h.first : h.first;
    if (is32 && h.first != prev)
        return corrupt("DELTA_BINARY_PACKED (first value)");
    size_t got = 0;
    if (n > 0)
        out[got++] = prev;
    size_t per_mb = (size_t)(h.block / h.mbs);
    uint64_t stack_tmp[DBP_STACK_VALUES], *tmp = per_mb <= DBP_STACK_VALUES ? stack_tmp : NULL;
    int rc = STRATA_OK;
    while (got < n) {
        uint64_t z;
        if (!(q = st_get_varint64(q, end, &z))) {
            rc = corrupt("DELTA_BINARY_PACKED (block header)");
            break;
        }
        uint64_t mind = (uint64_t)st_unzigzag64(z);
        if (h.mbs > (uint64_t)(end - q)) {
            rc = corrupt("DELTA_BINARY_PACKED (bit widths)");
            break;
        }
        const uint8_t *widths = q;
        q += h.mbs;
        if (!tmp && !(tmp = st_malloc(per_mb * sizeof(uint64_t)))) {
            rc = st_err(STRATA_NOMEM, "decoding DELTA_BINARY_PACKED");
            break;
        }
        for (uint64_t m = 0; m < h.mbs && got < n; m++) {
            int w = widths[m];
            if (w > (is32 ? 32 : 64)) {
                rc = corrupt("DELTA_BINARY_PACKED (bit width)");
                break;
            }
            size_t bytes = per_mb * (size_t)w / 8;
            if (bytes > (size_t)(end - q)) {
                rc = corrupt("DELTA_BINARY_PACKED (miniblock truncated)");
                break;
            }
            bitunpack(q, per_mb, w, tmp);
            q += bytes;
            for (size_t k = 0; k < per_mb && got < n; k++) {
                uint64_t v = (uint64_t)prev + mind + tmp[k];
                prev = is32 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v;
                out[got++] = prev;
            }
        }
        if (rc != STRATA_OK)
            break;
    }
    if (tmp != stack_tmp)
        st_free(tmp);
    if (rc == STRATA_OK && used)
        *used = (size_t)(q - p);
    return rc;
}

/* ---- byte arrays ---------------------------------------------------------------------------- */

/* Length arrays of up to this many values live on the caller's stack. */
#define LEN_STACK 256

/* n int64 lengths: the stack array when it is large enough, else the heap. */
static int
alloc_lengths(size_t n, int64_t *stack, int64_t **out)
{
    *out = n <= LEN_STACK ? stack : st_malloc(n * sizeof(int64_t));
    return *out ? STRATA_OK : st_err(STRATA_NOMEM, "decoding byte arrays");
}

static void
free_lengths(int64_t *p, const int64_t *stack)
{
    if (p != stack)
        st_free(p);
}

static int
decode_plain(const uint8_t *p, size_t len, size_t n, st_buf *data, uint32_t *offs)
{
    const uint8_t *q = p, *end = p + len;
    size_t base = data->len;
    if (n > len / 4)
        return corrupt("PLAIN BYTE_ARRAY (more values than bytes)");
    ST_RET(st_buf_reserve(data, len));
    for (size_t i = 0; i < n; i++) {
        if ((size_t)(end - q) < 4)
            return corrupt("PLAIN BYTE_ARRAY (length truncated)");
        uint32_t l = st_get_fixed32(q);
        q += 4;
        if (l > (size_t)(end - q))
            return corrupt("PLAIN BYTE_ARRAY (value truncated)");
        offs[i] = (uint32_t)(data->len - base);
        if (l)
            memcpy(data->data + data->len, q, l); /* total <= len: reserved above */
        data->len += l;
        q += l;
    }
    offs[n] = (uint32_t)(data->len - base);
    return STRATA_OK;
}

static int
decode_dlba(const uint8_t *p, size_t len, size_t n, st_buf *data, uint32_t *offs)
{
    int64_t stack[LEN_STACK], *lens;
    size_t used = 0, base = data->len;
    ST_RET(alloc_lengths(n, stack, &lens));
    int rc = st_pq_dbp_decode(p, len, 1, lens, n, &used);
    const uint8_t *q = p + used, *end = p + len;
    if (rc == STRATA_OK)
        rc = st_buf_reserve(data, len - used);
    for (size_t i = 0; rc == STRATA_OK && i < n; i++) {
        if (lens[i] < 0 || (uint64_t)lens[i] > (uint64_t)(end - q)) {
            rc = corrupt("DELTA_LENGTH_BYTE_ARRAY (value truncated)");
            break;
        }
        offs[i] = (uint32_t)(data->len - base);
        rc = st_buf_append(data, q, (size_t)lens[i]);
        q += lens[i];
    }
    offs[n] = (uint32_t)(data->len - base);
    free_lengths(lens, stack);
    return rc;
}

/* Spare output bytes of a DELTA_BYTE_ARRAY decode, so short copies can move 16 bytes. */
#define DBA_SLACK 32

static int
decode_dba(const uint8_t *p, size_t len, size_t n, st_buf *data, uint32_t *offs)
{
    int64_t pstack[LEN_STACK], sstack[LEN_STACK], *pre, *suf = NULL;
    size_t used = 0, used2 = 0, base = data->len;
    ST_RET(alloc_lengths(n, pstack, &pre));
    int rc = alloc_lengths(n, sstack, &suf);
    if (rc == STRATA_OK)
        rc = st_pq_dbp_decode(p, len, 1, pre, n, &used);
    if (rc == STRATA_OK)
        rc = st_pq_dbp_decode(p + used, len - used, 1, suf, n, &used2);
    const uint8_t *q = p + used + used2, *end = p + len;
    size_t prevlen = 0, total = 0, suffixes = 0;
    /* validate all lengths and size the output once */
    for (size_t i = 0; rc == STRATA_OK && i < n; i++) {
        size_t l = (size_t)pre[i] + (size_t)suf[i];
        if (pre[i] < 0 || suf[i] < 0 || (size_t)pre[i] > prevlen ||
            (uint64_t)suf[i] > (uint64_t)(end - q) - suffixes)
            rc = corrupt("DELTA_BYTE_ARRAY (prefix or suffix length)");
        else if ((total += l) > ST_PQ_MAX_DECODED)
            rc = corrupt("DELTA_BYTE_ARRAY (decoded size too large)");
        suffixes += (size_t)suf[i];
        prevlen = l;
    }
    if (rc == STRATA_OK)
        rc = st_buf_reserve(data, total + DBA_SLACK);
    if (rc == STRATA_OK) {
        uint8_t *o = data->data + data->len, *prev = o;
        for (size_t i = 0; i < n; i++) {
            size_t pl = (size_t)pre[i], sl = (size_t)suf[i];
            offs[i] = (uint32_t)((size_t)(o - data->data) - base);
            /* short copies as fixed 16-byte moves (the output has DBA_SLACK spare bytes; a
             * suffix only when 16 input bytes remain): a libc call per key was 4% of seeks */
            uint8_t t[16];
            if (pl <= 16) {
                memcpy(t, prev, 16); /* prev is the previous value, pl <= its length */
                memcpy(o, t, 16);
            } else {
                memcpy(o, prev, pl);
            }
            if (sl <= 16 && (size_t)(end - q) >= 16)
                memcpy(o + pl, q, 16);
            else if (sl)
                memcpy(o + pl, q, sl);
            prev = o;
            o += pl + sl;
            q += sl;
        }
        data->len = (size_t)(o - data->data);
    }
    offs[n] = (uint32_t)(data->len - base);
    free_lengths(pre, pstack);
    if (suf)
        free_lengths(suf, sstack);
    return rc;
}

int
st_pq_decode_byte_array(int enc, const uint8_t *p, size_t len, size_t n, st_buf *data,
                        uint32_t *offs)
{
    if (len > ST_PQ_MAX_DECODED || data->len > ST_PQ_MAX_DECODED)
        return corrupt("byte array (page too large)");
    switch (enc) {
    case ST_PQ_PLAIN:
        return decode_plain(p, len, n, data, offs);
    case ST_PQ_DELTA_LENGTH_BYTE_ARRAY:
        return decode_dlba(p, len, n, data, offs);
    case ST_PQ_DELTA_BYTE_ARRAY:
        return decode_dba(p, len, n, data, offs);
    default:
        return st_err(STRATA_NOTSUP, "unsupported BYTE_ARRAY encoding %d", enc);
    }
}
