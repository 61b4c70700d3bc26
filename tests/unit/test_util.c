/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of src/util: coding, crc32c, arena, buf, status. */
#include "st_test.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/buf.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/random.h"
#include "util/status.h"

#include <errno.h>
#include <string.h>
#ifdef __linux__
#include <sys/mman.h>
#include <unistd.h>
#endif

static void
test_fixed(void)
{
    uint8_t b[8];
    st_put_fixed32(b, 0x04030201u);
    ST_ASSERT(b[0] == 1 && b[1] == 2 && b[2] == 3 && b[3] == 4);
    ST_ASSERT_EQ(st_get_fixed32(b), 0x04030201u);
    uint64_t vals[] = {0, 1, 0xff, 0x100, UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        st_put_fixed64(b, vals[i]);
        ST_ASSERT(st_get_fixed64(b) == vals[i]);
        st_put_be64(b, vals[i]);
        ST_ASSERT(st_get_be64(b) == vals[i]);
    }
    st_put_be64(b, 0x0102030405060708ull);
    ST_ASSERT(b[0] == 1 && b[7] == 8);
}

static void
test_varint(void)
{
    uint8_t b[ST_MAX_VARINT64 + 2];
    for (int shift = 0; shift < 64; shift++) {
        uint64_t vs[3] = {(uint64_t)1 << shift, ((uint64_t)1 << shift) - 1,
                          ((uint64_t)1 << shift) + 1};
        for (int j = 0; j < 3; j++) {
            uint8_t *e = st_put_varint64(b, vs[j]);
            ST_ASSERT_EQ((size_t)(e - b), st_varint_len(vs[j]));
            uint64_t got = 0;
            const uint8_t *d = st_get_varint64(b, e, &got);
            ST_ASSERT(d == e);
            ST_ASSERT(got == vs[j]);
            /* every truncation fails cleanly */
            for (uint8_t *t = b; t < e; t++)
                ST_ASSERT(st_get_varint64(b, t, &got) == NULL);
        }
    }
    uint8_t *e = st_put_varint64(b, UINT64_MAX);
    ST_ASSERT_EQ(e - b, 10);
    /* overlong: 11 continuation bytes, or a 10th byte > 1 */
    memset(b, 0xff, sizeof(b));
    uint64_t v;
    ST_ASSERT(st_get_varint64(b, b + sizeof(b), &v) == NULL);
    memset(b, 0x80, 9);
    b[9] = 0x02;
    ST_ASSERT(st_get_varint64(b, b + 10, &v) == NULL);
    uint32_t v32;
    e = st_put_varint64(b, (uint64_t)UINT32_MAX + 1);
    ST_ASSERT(st_get_varint32(b, e, &v32) == NULL);
    e = st_put_varint32(b, UINT32_MAX);
    ST_ASSERT(st_get_varint32(b, e, &v32) == e && v32 == UINT32_MAX);
    for (int64_t s = -1000; s <= 1000; s++)
        ST_ASSERT(st_unzigzag64(st_zigzag64(s)) == s);
    ST_ASSERT(st_unzigzag64(st_zigzag64(INT64_MIN)) == INT64_MIN);
    ST_ASSERT(st_zigzag64(-1) == 1 && st_zigzag64(1) == 2);
}

static void
test_bytes_cmp(void)
{
    ST_ASSERT(st_bytes_cmp("a", 1, "b", 1) < 0);
    ST_ASSERT(st_bytes_cmp("a", 1, "a\0", 2) < 0);
    ST_ASSERT(st_bytes_cmp("\xff", 1, "\x01", 1) > 0);
    ST_ASSERT(st_bytes_cmp("", 0, "", 0) == 0);
    ST_ASSERT(st_bytes_cmp(NULL, 0, "x", 1) < 0);
}

static void
test_crc32c(void)
{
    /* RFC 3720 B.4 test vectors */
    uint8_t buf[32];
    memset(buf, 0, 32);
    ST_ASSERT_EQ(st_crc32c(buf, 32), 0x8a9136aau);
    memset(buf, 0xff, 32);
    ST_ASSERT_EQ(st_crc32c(buf, 32), 0x62a8ab43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    ST_ASSERT_EQ(st_crc32c(buf, 32), 0x46dd794eu);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)(31 - i);
    ST_ASSERT_EQ(st_crc32c(buf, 32), 0x113fdb5cu);
    ST_ASSERT_EQ(st_crc32c("123456789", 9), 0xe3069283u);
    /* extend == whole; portable == hardware on random data at every alignment */
    st_rng r;
    st_rng_seed(&r, 42);
    uint8_t big[4096 + 16];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)st_rng_next(&r);
    for (size_t off = 0; off < 16; off++) {
        for (size_t n = 0; n < 300; n += 7) {
            uint32_t whole = st_crc32c(big + off, n);
            ST_ASSERT_EQ(st_crc32c_portable(0, big + off, n), whole);
            uint32_t part =
                st_crc32c_extend(st_crc32c(big + off, n / 3), big + off + n / 3, n - n / 3);
            ST_ASSERT_EQ(part, whole);
        }
    }
    uint32_t c = st_crc32c("hello", 5);
    ST_ASSERT(st_crc_mask(c) != c);
    ST_ASSERT_EQ(st_crc_unmask(st_crc_mask(c)), c);
    ST_ASSERT_EQ(st_crc32_ieee(0, "123456789", 9), 0xcbf43926u);
    fprintf(stderr, "crc32c hardware: %d\n", st_crc32c_hw());
}

static void
test_arena(void)
{
    st_arena *a = st_arena_new(4096);
    ST_ASSERT(a != NULL);
    size_t before = st_arena_memory(a);
    char *ptrs[1000];
    for (int i = 0; i < 1000; i++) {
        size_t n = (size_t)(i % 97) + 1;
        ptrs[i] = st_arena_alloc(a, n);
        ST_ASSERT(ptrs[i] != NULL);
        ST_ASSERT(((uintptr_t)ptrs[i] & 7) == 0);
        memset(ptrs[i], i & 0xff, n);
    }
    for (int i = 0; i < 1000; i++)
        ST_ASSERT((unsigned char)ptrs[i][0] == (i & 0xff));
    void *big = st_arena_alloc(a, 100000);
    ST_ASSERT(big != NULL);
    memset(big, 1, 100000);
    void *al = st_arena_alloc_aligned(a, 10, 64);
    ST_ASSERT(((uintptr_t)al & 63) == 0);
    ST_ASSERT(st_arena_memory(a) > before + 100000);
    st_arena_free(a);
    st_arena_free(NULL);
}

static void
test_buf_and_alloc_failure(void)
{
    st_buf b;
    st_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        ST_ASSERT_OK(st_buf_put_varint64(&b, (uint64_t)i * 1000));
    const uint8_t *p = b.data, *end = b.data + b.len;
    for (int i = 0; i < 1000; i++) {
        uint64_t v;
        p = st_get_varint64(p, end, &v);
        ST_ASSERT(p && v == (uint64_t)i * 1000);
    }
    ST_ASSERT(p == end);
    st_buf_clear(&b);
    ST_ASSERT_OK(st_buf_put_lenprefixed(&b, "abc", 3));
    ST_ASSERT_EQ(b.len, 4);
    /* NOMEM keeps contents */
    st_alloc_fail_after(0);
    int rc = st_buf_reserve(&b, 1u << 20);
    st_alloc_fail_after(-1);
    ST_ASSERT_EQ(rc, STRATA_NOMEM);
    ST_ASSERT(strstr(st_errmsg(), "out of memory") != NULL);
    ST_ASSERT_EQ(b.len, 4);
    ST_ASSERT(memcmp(b.data + 1, "abc", 3) == 0);
    st_buf_free(&b);
    void *z = st_malloc(0); /* a zero-byte request still returns a freeable pointer */
    ST_ASSERT(z != NULL);
    st_free(z);
}

/*
 * st_prefault makes the whole pages inside a range present without changing a byte: contents
 * survive a prefault of an unaligned range, odd and empty ranges are harmless, and (where the
 * kernel has MADV_POPULATE_WRITE) a fresh anonymous mapping is resident afterwards.
 */
static void
test_prefault(void)
{
    size_t n = 3 * 65536 + 123;
    unsigned char *p = st_malloc(n);
    ST_ASSERT(p != NULL);
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(i * 131 + 7);
    st_prefault(p + 17, n - 40);
    st_prefault(p + 5, 3);
    st_prefault(p, 0);
    for (size_t i = 0; i < n; i++)
        ST_ASSERT_EQ(p[i], (unsigned char)(i * 131 + 7));
    st_free(p);
#if defined(__linux__) && defined(MADV_POPULATE_WRITE)
    long page = sysconf(_SC_PAGESIZE);
    size_t len = 64 * (size_t)page;
    unsigned char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ST_ASSERT(m != MAP_FAILED);
    if (madvise(m, (size_t)page, MADV_POPULATE_WRITE) != 0 && errno == EINVAL) {
        munmap(m, len); /* a kernel before 5.14: st_prefault is a no-op there */
        return;
    }
    /* from the middle of the first page to the middle of the last: the 62 whole pages between */
    st_prefault(m + page + page / 2, len - 2 * (size_t)page);
    unsigned char vec[64];
    ST_ASSERT_EQ(mincore(m, len, vec), 0);
    size_t resident = 0;
    for (int i = 2; i < 63; i++)
        resident += vec[i] & 1;
    ST_ASSERT_EQ(resident, (size_t)61);
    for (size_t i = 0; i < len; i++)
        ST_ASSERT_EQ(m[i], 0);
    munmap(m, len);
#endif
}

static void
test_status(void)
{
    for (int rc = 0; rc < STRATA_RC_COUNT; rc++)
        ST_ASSERT(strncmp(strata_errstr(rc), "STRATA_", 7) == 0);
    ST_ASSERT(strstr(strata_errstr(-1), "unknown") != NULL);
    ST_ASSERT(strstr(strata_errstr(STRATA_RC_COUNT), "unknown") != NULL);
    ST_ASSERT_EQ(st_err(STRATA_CORRUPT, "x %d", 5), STRATA_CORRUPT);
    ST_ASSERT(strcmp(st_errmsg(), "x 5") == 0);
    ST_ASSERT_EQ(st_err_prefix(STRATA_CORRUPT, "ctx: "), STRATA_CORRUPT);
    ST_ASSERT(strcmp(st_errmsg(), "ctx: x 5") == 0);
    ST_ASSERT_EQ(st_err_errno(28 /* ENOSPC */, "write f"), STRATA_NOSPC);
    ST_ASSERT(strncmp(st_errmsg(), "write f: ", 9) == 0);
    ST_ASSERT_EQ(st_err_errno(5 /* EIO */, "w"), STRATA_IOERR);
    st_err_clear();
    ST_ASSERT(st_errmsg()[0] == '\0');
}

int
main(void)
{
    ST_RUN(test_fixed);
    ST_RUN(test_varint);
    ST_RUN(test_bytes_cmp);
    ST_RUN(test_crc32c);
    ST_RUN(test_arena);
    ST_RUN(test_buf_and_alloc_failure);
    ST_RUN(test_status);
    ST_RUN(test_prefault);
    return st_test_done();
}
