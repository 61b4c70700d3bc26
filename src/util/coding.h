/* SPDX-License-Identifier: Apache-2.0 */
/*
 * coding.h -- explicit little-endian fixed-width integers and LEB128 varints.
 *
 * Every on-disk integer goes through these helpers; no struct is ever memcpy'd to disk.
 * Decoders take the end of the input and return NULL (varint) when the input is truncated or
 * the varint is longer than its type allows, so they are safe on untrusted bytes.
 */
#ifndef ST_UTIL_CODING_H
#define ST_UTIL_CODING_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ST_MAX_VARINT32 5
#define ST_MAX_VARINT64 10

static inline void
st_put_fixed16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static inline void
st_put_fixed32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline void
st_put_fixed64(uint8_t *p, uint64_t v)
{
    st_put_fixed32(p, (uint32_t)v);
    st_put_fixed32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t
st_get_fixed16(const uint8_t *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t
st_get_fixed32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t
st_get_fixed64(const uint8_t *p)
{
    return (uint64_t)st_get_fixed32(p) | ((uint64_t)st_get_fixed32(p + 4) << 32);
}

/* Big-endian 64-bit (used where byte order must sort like the integer). */
static inline void
st_put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static inline uint64_t
st_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Write v as a varint at p (room for ST_MAX_VARINT64 bytes); returns the byte after it. */
static inline uint8_t *
st_put_varint64(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline uint8_t *
st_put_varint32(uint8_t *p, uint32_t v)
{
    return st_put_varint64(p, v);
}

static inline size_t
st_varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* Decode a varint from [p, end); NULL when truncated or overlong. */
static inline const uint8_t *
st_get_varint64(const uint8_t *p, const uint8_t *end, uint64_t *v)
{
    uint64_t result = 0;
    for (unsigned shift = 0; shift <= 63 && p < end; shift += 7) {
        uint64_t byte = *p++;
        if (shift == 63 && byte > 1)
            return NULL;
        result |= (byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *v = result;
            return p;
        }
    }
    return NULL;
}

static inline const uint8_t *
st_get_varint32(const uint8_t *p, const uint8_t *end, uint32_t *v)
{
    uint64_t w;
    const uint8_t *q = st_get_varint64(p, end, &w);
    if (q == NULL || w > UINT32_MAX)
        return NULL;
    *v = (uint32_t)w;
    return q;
}

/* Zigzag mapping for signed varints (Thrift compact, delta encodings). */
static inline uint64_t
st_zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t
st_unzigzag64(uint64_t v)
{
    return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Bytewise comparison of two byte strings; shorter prefix sorts first. Compares 8 bytes at a
 * time as big-endian words (this is on every memtable, table and merge comparison). */
static inline int
st_bytes_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
    const uint8_t *x = a, *y = b;
    size_t n = alen < blen ? alen : blen, i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t u, v;
        memcpy(&u, x + i, 8);
        memcpy(&v, y + i, 8);
        if (u != v) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            u = __builtin_bswap64(u);
            v = __builtin_bswap64(v);
#else
            u = st_get_be64(x + i);
            v = st_get_be64(y + i);
#endif
            return u < v ? -1 : 1;
        }
    }
    for (; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

#endif
