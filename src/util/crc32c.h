/* SPDX-License-Identifier: Apache-2.0 */
/*
 * crc32c.h -- CRC-32C (Castagnoli), hardware-accelerated with SSE4.2 when the CPU has it
 * (checked once at run time), with a portable slicing-by-8 table fallback.
 *
 * Stored checksums are masked (LevelDB's rotation + constant) so that a CRC computed over data
 * that itself embeds CRCs does not degenerate.
 */
#ifndef ST_UTIL_CRC32C_H
#define ST_UTIL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Extend crc (0 to start) with n bytes at p. */
uint32_t st_crc32c_extend(uint32_t crc, const void *p, size_t n);

static inline uint32_t
st_crc32c(const void *p, size_t n)
{
    return st_crc32c_extend(0, p, n);
}

/* The portable table path, whatever the CPU (tests compare it with the hardware path). */
uint32_t st_crc32c_portable(uint32_t crc, const void *p, size_t n);

/* 1 when the hardware path is in use (for tests and the stats line). */
int st_crc32c_hw(void);

#define ST_CRC_MASK_DELTA 0xa282ead8u

static inline uint32_t
st_crc_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + ST_CRC_MASK_DELTA;
}

static inline uint32_t
st_crc_unmask(uint32_t masked)
{
    uint32_t rot = masked - ST_CRC_MASK_DELTA;
    return (rot >> 17) | (rot << 15);
}

/* Plain CRC-32 (zlib polynomial), as Parquet page headers use. */
uint32_t st_crc32_ieee(uint32_t crc, const void *p, size_t n);

#endif
