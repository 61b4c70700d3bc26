/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Corruption tests of src/sst: truncated files at many lengths and flipped bytes in pages, page
 * headers, bloom filters, page indexes and the footer must give a clean error (STRATA_CORRUPT,
 * or NOTSUP for a footer that now describes something unsupported), never a crash or a wrong
 * answer from a damaged page. Tables in ZSTD and in LZ4_RAW.
 */
#include "fault_env.h"
#include "parquet/parquet.h"
#include "sst/sst.h"
#include "sst/sst_internal.h"
#include "st_test.h"
#include "test_fs.h"
#include "util/alloc.h"
#include "util/random.h"

#include <stdio.h>
#include <string.h>

static char *dir, *orig, *bad;
static st_buf file;
static uint64_t nentries;

static void
setup(int compression)
{
    st_buf_free(&file);
    st_sst_options o;
    st_sst_options_init(&o);
    o.compression = compression;
    o.page_size = 256;
    o.row_group_size = 8192;
    st_sst_builder *b = NULL;
    ST_ASSERT_OK(st_sst_builder_new(st_env_posix(), orig, &o, &b));
    ST_ASSERT_OK(st_sst_builder_set_meta(b, "owner", "corrupt-test"));
    char key[32], val[64];
    for (int i = 0; i < 600; i++) {
        snprintf(key, sizeof(key), "key%06d", i * 7);
        snprintf(val, sizeof(val), "value-%d-%d", i, i * i);
        st_sst_builder_add(b, (const uint8_t *)key, strlen(key), 1000 + (uint64_t)i,
                           i % 9 ? ST_KIND_PUT : ST_KIND_DELETE, (const uint8_t *)val, strlen(val));
    }
    st_sst_meta m;
    ST_ASSERT_OK(st_sst_builder_finish(b, &m));
    nentries = m.entries;
    st_sst_meta_free(&m);
    ST_ASSERT_OK(st_env_read_file(st_env_posix(), orig, &file));
}

/* The env the damaged copies are read through: posix (the reader decodes pages from a mapping
 * of the file), then the fault env with no fault armed (no map: every read goes through
 * read_at), so both read paths meet every kind of damage. */
static st_env *env_under_test;

/* Scans r with flags; returns the iterator's status. */
static int
scan_status(st_sst_reader *r, int flags)
{
    st_iter *it = NULL;
    ST_ASSERT_OK(st_sst_reader_iter(r, NULL, 0, NULL, 0, flags, &it));
    for (st_iter_seek_first(it); it->valid; st_iter_next(it))
        ;
    int rc = it->status;
    st_iter_close(it);
    return rc;
}

/* Open + verify + full scan + some gets of the damaged copy: every outcome must be clean. */
static int
exercise(int *scan_rc)
{
    st_sst_reader *r = NULL;
    int rc = st_sst_reader_open(env_under_test, bad, NULL, &r);
    *scan_rc = rc;
    if (rc != STRATA_OK) {
        ST_ASSERT(rc == STRATA_CORRUPT || rc == STRATA_NOTSUP);
        ST_ASSERT(strstr(st_errmsg(), "bad.parquet") != NULL);
        return rc;
    }
    int vrc = st_sst_verify(env_under_test, bad, NULL);
    ST_ASSERT(vrc == STRATA_OK || vrc == STRATA_CORRUPT || vrc == STRATA_NOTSUP);
    /* twice on the same reader: a page whose check failed is not taken as checked (a mapped
     * table's pages are checked on their first read only) */
    *scan_rc = scan_status(r, 0);
    ST_ASSERT(*scan_rc == STRATA_OK || *scan_rc == STRATA_CORRUPT || *scan_rc == STRATA_NOTSUP);
    ST_ASSERT_RC(scan_status(r, 0), *scan_rc);
    st_buf v = {0};
    char key[32];
    for (int i = 0; i < 600; i += 37) {
        snprintf(key, sizeof(key), "key%06d", i * 7);
        int grc = st_sst_reader_get(r, (const uint8_t *)key, strlen(key), ST_SEQ_MAX,
                                    ST_SST_ITER_FILL_CACHE, NULL, &v, NULL);
        ST_ASSERT(grc == STRATA_OK || grc == STRATA_NOTFOUND || grc == STRATA_CORRUPT ||
                  grc == STRATA_NOTSUP);
    }
    st_buf_free(&v);
    st_sst_reader_unref(r);
    return vrc;
}

static void
test_truncation(void)
{
    size_t len = file.len, step = len / 300 + 1;
    for (size_t n = 0; n < len; n += (n < 64 || n > len - 300) ? 1 : step) {
        st_test_write_file(bad, file.data, n);
        st_sst_reader *r = NULL;
        ST_ASSERT_RC(st_sst_reader_open(env_under_test, bad, NULL, &r), STRATA_CORRUPT);
        ST_ASSERT_RC(st_sst_verify(env_under_test, bad, NULL), STRATA_CORRUPT);
    }
}

/* Byte ranges of every page payload (CRC-protected) and header, from the intact file. */
typedef struct range {
    uint64_t off, len;
} range;

static size_t
page_ranges(range *payload, range *header, size_t cap)
{
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), orig, NULL, &r));
    size_t n = 0;
    for (uint32_t g = 0; g < r->nrgs; g++) {
        for (int c = 0; c < ST_SST_NCOLS; c++) {
            for (uint32_t i = 0; i < r->rgs[g].oi[c].npages && n < cap; i++) {
                const st_pq_page_location *l = &r->rgs[g].oi[c].pages[i];
                st_pq_page_header h;
                size_t hl = 0;
                ST_ASSERT_OK(st_pq_decode_page_header(file.data + l->offset,
                                                      (size_t)l->compressed_size, "x", 0, &h, &hl));
                header[n] = (range){(uint64_t)l->offset, hl};
                payload[n++] = (range){(uint64_t)l->offset + hl, (uint64_t)h.compressed_size};
            }
        }
    }
    ST_ASSERT(r->nrgs >= 2);
    st_sst_reader_unref(r);
    return n;
}

static void
test_page_flips(void)
{
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    range pay[4096], hdr[4096];
    size_t n = page_ranges(pay, hdr, 4096);
    ST_ASSERT(n > 20);
    for (int t = 0; t < 150; t++) {
        size_t p = st_rng_uniform(&rng, n);
        uint64_t off = pay[p].off + st_rng_uniform(&rng, pay[p].len);
        uint8_t mask = (uint8_t)(1u << st_rng_uniform(&rng, 8));
        file.data[off] ^= mask;
        st_test_write_file(bad, file.data, file.len);
        file.data[off] ^= mask;
        int scan_rc;
        /* a damaged page payload is always detected: by verify and by the scan that reads it */
        ST_ASSERT_RC(exercise(&scan_rc), STRATA_CORRUPT);
        ST_ASSERT_RC(scan_rc, STRATA_CORRUPT);
        ST_ASSERT(strstr(st_errmsg(), "bad.parquet") != NULL);
    }
    for (int t = 0; t < 150; t++) {
        size_t p = st_rng_uniform(&rng, n);
        uint64_t off = hdr[p].off + st_rng_uniform(&rng, hdr[p].len);
        uint8_t mask = (uint8_t)(1u + st_rng_uniform(&rng, 255));
        file.data[off] ^= mask;
        st_test_write_file(bad, file.data, file.len);
        file.data[off] ^= mask;
        int scan_rc;
        exercise(&scan_rc); /* page header bytes have no checksum (strata check has the file CRC):
                               must stay clean */
    }
}

/*
 * A mapped table's page is checked on its first read; ST_SST_CHECK_ALWAYS (compaction inputs)
 * checks again. Damage written into the file under an open reader, after every page was read
 * once, must still be found by such a read. The table is uncompressed and the damage is in a
 * value's last byte, so only the CRC can find it.
 */
static void
test_recheck_always(void)
{
    setup(STRATA_COMPRESSION_NONE);
    st_test_write_file(bad, file.data, file.len);
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), bad, NULL, &r));
    ST_ASSERT(r->map != NULL);
    const st_pq_page_location *l = &r->rgs[0].oi[ST_SST_COL_VALUE].pages[0];
    st_pq_page_header h;
    size_t hl = 0;
    ST_ASSERT_OK(st_pq_decode_page_header(file.data + l->offset, (size_t)l->compressed_size, "x", 0,
                                          &h, &hl));
    uint64_t off = (uint64_t)l->offset + hl + (uint64_t)h.compressed_size - 1;
    ST_ASSERT_OK(scan_status(r, 0));
    ST_ASSERT_OK(scan_status(r, ST_SST_CHECK_ALWAYS));
    /* flip the low bit of that byte in place (the same inode, so the mapping sees it) */
    FILE *f = fopen(bad, "r+b");
    ST_ASSERT(f != NULL);
    uint8_t byte = file.data[off] ^ 0x01;
    ST_ASSERT(fseek(f, (long)off, SEEK_SET) == 0);
    ST_ASSERT(fwrite(&byte, 1, 1, f) == 1);
    ST_ASSERT(fclose(f) == 0);
    ST_ASSERT_RC(scan_status(r, ST_SST_CHECK_ALWAYS), STRATA_CORRUPT);
    ST_ASSERT(strstr(st_errmsg(), "bad.parquet") != NULL);
    st_sst_reader_unref(r);
    /* a new open checks the page on its first read */
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), bad, NULL, &r));
    ST_ASSERT_RC(scan_status(r, 0), STRATA_CORRUPT);
    st_sst_reader_unref(r);
}

static void
test_tail_flips(void)
{
    /* Everything after the last data page: bloom filters, page indexes, footer, magic. */
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), orig, NULL, &r));
    uint64_t index_off = 0;
    for (uint32_t g = 0; g < r->nrgs; g++)
        if (r->rgs[g].bloom)
            index_off = index_off ? index_off : (uint64_t)r->rgs[g].cm[0]->bloom_offset;
    ST_ASSERT(index_off > 0);
    uint32_t flen = st_get_fixed32(file.data + file.len - 8);
    uint64_t footer = file.len - 8 - flen;
    st_sst_reader_unref(r);
    st_rng rng;
    st_rng_seed(&rng, st_test_seed() + 1);
    size_t detected = 0, tries = 0;
    for (uint64_t off = index_off; off < file.len; off++) {
        /* a sample of the index and footer bytes, every byte of the 8-byte tail */
        if (off < file.len - 8 && st_rng_uniform(&rng, 6) != 0)
            continue;
        uint8_t mask = (uint8_t)(1u << st_rng_uniform(&rng, 8));
        file.data[off] ^= mask;
        st_test_write_file(bad, file.data, file.len);
        file.data[off] ^= mask;
        int scan_rc, rc = exercise(&scan_rc);
        tries++;
        if (off < footer)
            ST_ASSERT_RC(rc, STRATA_CORRUPT); /* blooms + page indexes are checksummed */
        detected += rc != STRATA_OK;
    }
    fprintf(stderr, "tail flips: %zu of %zu detected\n", detected, tries);
    ST_ASSERT(detected > tries / 2);
}

static void
test_garbage(void)
{
    /* A Parquet-shaped file whose footer is random bytes; and a non-Parquet file. */
    st_rng rng;
    st_rng_seed(&rng, st_test_seed() + 2);
    uint8_t buf[300];
    for (int t = 0; t < 300; t++) {
        size_t n = 12 + st_rng_uniform(&rng, sizeof(buf) - 12);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)st_rng_next(&rng);
        memcpy(buf, "PAR1", 4);
        memcpy(buf + n - 4, "PAR1", 4);
        st_put_fixed32(buf + n - 8, (uint32_t)st_rng_uniform(&rng, n));
        st_test_write_file(bad, buf, n);
        int scan_rc;
        ST_ASSERT(exercise(&scan_rc) != STRATA_OK);
    }
    st_test_write_file(bad, (const uint8_t *)"hello, world, not parquet", 25);
    st_sst_reader *r = NULL;
    ST_ASSERT_RC(st_sst_reader_open(env_under_test, bad, NULL, &r), STRATA_CORRUPT);
    ST_ASSERT_RC(st_sst_reader_open(st_env_posix(), "/nonexistent/x.parquet", NULL, &r),
                 STRATA_NOTFOUND);
    /* the intact file still verifies */
    st_buf rep = {0};
    ST_ASSERT_OK(st_sst_verify(st_env_posix(), orig, &rep));
    ST_ASSERT(rep.len > 0);
    char want[64];
    snprintf(want, sizeof(want), "entries: %llu", (unsigned long long)nentries);
    ST_ASSERT_OK(st_buf_put_u8(&rep, 0));
    ST_ASSERT(strstr((const char *)rep.data, want) != NULL);
    st_buf_free(&rep);
}

int
main(void)
{
    dir = st_test_tmpdir("sst_corrupt");
    orig = st_path_join(dir, "orig.parquet");
    bad = st_path_join(dir, "bad.parquet");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    st_env *envs[2] = {st_env_posix(), fe ? st_fault_env_env(fe) : NULL};
    /* ZSTD (the sst default) through both read paths, then LZ4_RAW through the mapped one */
    for (int e = 0; e < 3; e++) {
        setup(e < 2 ? STRATA_COMPRESSION_ZSTD : STRATA_COMPRESSION_LZ4);
        env_under_test = envs[e % 2];
        fprintf(stderr, "-- %s tables, reading through %s\n", e < 2 ? "zstd" : "lz4",
                e % 2 == 0 ? "the posix env (mapped)" : "read_at");
        ST_ASSERT(env_under_test != NULL);
        ST_RUN(test_truncation);
        ST_RUN(test_page_flips);
        ST_RUN(test_tail_flips);
        ST_RUN(test_garbage);
    }
    ST_RUN(test_recheck_always);
    st_fault_env_free(fe);
    st_buf_free(&file);
    st_test_rmrf(dir);
    st_free(dir);
    st_free(orig);
    st_free(bad);
    return st_test_done();
}
