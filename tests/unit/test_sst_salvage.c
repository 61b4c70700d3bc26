/* SPDX-License-Identifier: Apache-2.0 */
/*
 * st_sst_salvage on tables whose footer cannot be read (salvage by walking the pages) and on
 * tables damaged anywhere: footer cut in the index or in the FileMetaData, footer length and
 * FileMetaData bytes flipped, cuts at many offsets, flipped page bytes, in every codec strata
 * writes, with tombstones and many row groups. Every salvaged row must be a row of the original
 * table (key, seqno, kind and value), in entry order; every original row not salvaged must lie
 * in a reported lost range; whenever rows are missing a loss is reported. The LZ4 tables are
 * also built with constant columns (a single seqno and kind page per row group, see
 * doc/format_sst.md "Constant columns"): puts only, and puts at seqno 0 only.
 */
#include "fault_env.h"
#include "parquet/parquet.h"
#include "sst/sst.h"
#include "sst/sst_internal.h"
#include "st_test.h"
#include "test_fs.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/coding.h"
#include "util/random.h"

#include <stdio.h>
#include <string.h>

#define NROWS 900

typedef struct row {
    char key[16], val[96];
    uint64_t seq;
    int kind;
} row;

static row rows[NROWS];
static int nrows;
static char *dir, *orig, *bad;
static st_buf file;
static st_env *env_under_test;

enum { ROWS_MIXED, ROWS_PUTS, ROWS_BOTTOM };

/* Rows in entry order. ROWS_MIXED: some keys with two versions, every seventh newest version a
 * delete; ROWS_PUTS: one put per key (the kind column is constant); ROWS_BOTTOM: the same at
 * seqno 0 (both integer columns are). */
static void
make_rows(int shape)
{
    nrows = 0;
    for (int i = 0; nrows < NROWS - 1; i++) {
        int versions = shape == ROWS_MIXED && i % 5 == 0 ? 2 : 1;
        for (int v = 0; v < versions; v++) {
            row *r = &rows[nrows];
            snprintf(r->key, sizeof(r->key), "key%06d", i * 3);
            r->seq = shape == ROWS_BOTTOM ? 0 : 100000 - (uint64_t)i * 4 - (uint64_t)v;
            r->kind = shape == ROWS_MIXED && v == 0 && i % 7 == 3 ? ST_KIND_DELETE : ST_KIND_PUT;
            int pad = i % 60;
            snprintf(r->val, sizeof(r->val), "value-%d-%.*s", i, pad,
                     "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij");
            if (r->kind == ST_KIND_DELETE)
                r->val[0] = 0;
            nrows++;
        }
    }
}

static void
build(int compression, size_t row_group_size)
{
    st_sst_options o;
    st_sst_options_init(&o);
    o.compression = compression;
    o.page_size = 512;
    o.row_group_size = row_group_size;
    st_sst_builder *b = NULL;
    ST_ASSERT_OK(st_sst_builder_new(st_env_posix(), orig, &o, &b));
    ST_ASSERT_OK(st_sst_builder_set_meta(b, "owner", "salvage-test"));
    for (int i = 0; i < nrows; i++)
        st_sst_builder_add(b, (const uint8_t *)rows[i].key, strlen(rows[i].key), rows[i].seq,
                           rows[i].kind, (const uint8_t *)rows[i].val, strlen(rows[i].val));
    ST_ASSERT_OK(st_sst_builder_finish(b, NULL));
    st_buf_free(&file);
    ST_ASSERT_OK(st_env_read_file(st_env_posix(), orig, &file));
}

/* ---- one salvage and its checks ------------------------------------------------------------ */

#define MAXLOST 256
typedef struct result {
    int got[NROWS]; /* salvaged */
    int n, last;
    uint64_t lost;
    int more, nlost;
    struct {
        char lo[32], hi[32];
        int lo_open, hi_open;
    } ranges[MAXLOST];
    int walked;
} result;

static int
on_entry(void *arg, const uint8_t *key, size_t klen, uint64_t seq, int kind, const uint8_t *val,
         size_t vlen)
{
    result *res = arg;
    int i = res->last + 1;
    while (i < nrows && !(strlen(rows[i].key) == klen && memcmp(rows[i].key, key, klen) == 0 &&
                          rows[i].seq == seq))
        i++;
    if (i >= nrows)
        ST_FAIL("salvaged row %.*s seq %llu is not in the table after row %d", (int)klen,
                (const char *)key, (unsigned long long)seq, res->last);
    ST_ASSERT_EQ(kind, rows[i].kind);
    if (kind == ST_KIND_PUT)
        ST_ASSERT_MEM_EQ(val, vlen, rows[i].val, strlen(rows[i].val));
    res->got[i] = 1;
    res->last = i;
    res->n++;
    return STRATA_OK;
}

static void
on_lost(void *arg, const uint8_t *lo, size_t lolen, const uint8_t *hi, size_t hilen, uint64_t nlost,
        int more, const char *why)
{
    result *res = arg;
    ST_ASSERT(nlost > 0 || more);
    ST_ASSERT(why && why[0]);
    ST_ASSERT(res->nlost < MAXLOST);
    ST_ASSERT(lolen < 32 && hilen < 32);
    res->lost += nlost;
    res->more |= more;
    if (lo && hi)
        ST_ASSERT(st_bytes_cmp(lo, lolen, hi, hilen) <= 0);
    int k = res->nlost++;
    res->ranges[k].lo_open = !lo;
    res->ranges[k].hi_open = !hi;
    snprintf(res->ranges[k].lo, 32, "%.*s", (int)lolen, lo ? (const char *)lo : "");
    snprintf(res->ranges[k].hi, 32, "%.*s", (int)hilen, hi ? (const char *)hi : "");
}

/* Salvage `bad`; check the rules of the file comment; return the result. */
static void
salvage(result *res)
{
    memset(res, 0, sizeof(*res));
    res->last = -1;
    st_sst_salvage_ops ops = {on_entry, on_lost, res};
    int rc = st_sst_salvage(env_under_test, bad, &ops, &res->walked);
    ST_ASSERT_OK(rc);
    if (res->n < nrows)
        ST_ASSERT(res->nlost > 0);
    for (int i = 0; i < nrows; i++) {
        if (res->got[i])
            continue;
        int in = 0;
        for (int k = 0; k < res->nlost && !in; k++)
            in = (res->ranges[k].lo_open || strcmp(res->ranges[k].lo, rows[i].key) <= 0) &&
                 (res->ranges[k].hi_open || strcmp(rows[i].key, res->ranges[k].hi) <= 0);
        if (!in)
            ST_FAIL("row %d (%s) was not salvaged and no lost range holds it", i, rows[i].key);
    }
}

/* The footer's offset, and the start of the bloom filters + page indexes. */
static void
tail_offsets(uint64_t *footer, uint64_t *index)
{
    uint32_t flen = st_get_fixed32(file.data + file.len - 8);
    *footer = file.len - 8 - flen;
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), orig, NULL, &r));
    const st_sst_rg *last = &r->rgs[r->nrgs - 1];
    *index = (uint64_t)last->chunk_end[ST_SST_COL_KIND];
    st_sst_reader_unref(r);
    ST_ASSERT(*index < *footer);
}

/* ---- tests ------------------------------------------------------------------------------------
 */

/* The footer cut off (in the index, in the FileMetaData), its length flipped, its magic gone:
 * every row comes back by walking the pages. */
static void
test_footer_lost(void)
{
    uint64_t footer, index;
    tail_offsets(&footer, &index);
    result res;
    uint64_t cuts[4] = {index + (footer - index) / 2, footer + 3, (footer + file.len) / 2,
                        file.len - 2};
    for (int c = 0; c < 4; c++) {
        st_test_write_file(bad, file.data, (size_t)cuts[c]);
        salvage(&res);
        ST_ASSERT(res.walked);
        ST_ASSERT_EQ(res.n, nrows);
        /* the rows are all there, but without the footer's counts that cannot be known (a cut
         * that spares the footer's strata.* pairs confirms it) */
        if (cuts[c] < footer + 3 + 10)
            ST_ASSERT(res.more);
    }
    /* footer length flipped: the footer's own pairs confirm nothing was lost */
    file.data[file.len - 6] ^= 0x21;
    st_test_write_file(bad, file.data, file.len);
    file.data[file.len - 6] ^= 0x21;
    salvage(&res);
    ST_ASSERT(res.walked && res.n == nrows && res.nlost == 0);
    /* trailing magic gone */
    file.data[file.len - 1] ^= 0xff;
    st_test_write_file(bad, file.data, file.len);
    file.data[file.len - 1] ^= 0xff;
    salvage(&res);
    ST_ASSERT(res.walked && res.n == nrows && res.nlost == 0);
    /* a flipped byte at the start of the FileMetaData */
    file.data[footer] ^= 0xff;
    st_test_write_file(bad, file.data, file.len);
    file.data[footer] ^= 0xff;
    salvage(&res);
    ST_ASSERT(res.walked && res.n == nrows);
    /* a flipped byte in the page index: the footer reads, the index checksum fails */
    file.data[index + (footer - index) / 3] ^= 0x08;
    st_test_write_file(bad, file.data, file.len);
    file.data[index + (footer - index) / 3] ^= 0x08;
    salvage(&res);
    ST_ASSERT(res.walked && res.n == nrows && res.nlost == 0);
}

/* Flipped bytes in the FileMetaData, one at a time: whatever the reader makes of them, nothing
 * is invented and every row comes back (the pages are intact). */
static void
test_footer_flips(void)
{
    uint64_t footer, index;
    tail_offsets(&footer, &index);
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    int walked = 0;
    for (int t = 0; t < 60; t++) {
        uint64_t off = footer + st_rng_uniform(&rng, file.len - footer);
        uint8_t mask = (uint8_t)(1u + st_rng_uniform(&rng, 255));
        file.data[off] ^= mask;
        st_test_write_file(bad, file.data, file.len);
        file.data[off] ^= mask;
        result res;
        salvage(&res);
        ST_ASSERT_EQ(res.n, nrows);
        walked += res.walked;
    }
    ST_ASSERT(walked > 0);
}

/* Rows of the row groups before the page number `page` of column `col` in row group g. */
static int
rows_before(const st_sst_reader *r, uint32_t g)
{
    int64_t n = 0;
    for (uint32_t i = 0; i < g; i++)
        n += r->rgs[i].num_rows;
    return (int)n;
}

/* Cut in the middle of a data page of every column of a later row group: the row groups before
 * it come back whole, the rest is reported lost. */
static void
test_cut_mid_page(void)
{
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), orig, NULL, &r));
    ST_ASSERT(r->nrgs >= 3);
    uint32_t g = r->nrgs / 2;
    for (int c = 0; c < ST_SST_NCOLS; c++) {
        const st_pq_offset_index *oi = &r->rgs[g].oi[c];
        const st_pq_page_location *l = &oi->pages[oi->npages / 2];
        st_test_write_file(bad, file.data, (size_t)(l->offset + l->compressed_size / 2));
        result res;
        salvage(&res);
        ST_ASSERT(res.walked && res.more);
        int before = rows_before(r, g);
        ST_ASSERT(res.n >= before && res.n < nrows);
        for (int i = 0; i < before; i++)
            ST_ASSERT(res.got[i]);
        /* cut in the kind chunk: the rows of the kind pages before the cut come back too (none
         * when the chunk is a single page: a constant column) */
        if (c == ST_SST_COL_KIND && oi->npages > 1)
            ST_ASSERT(res.n > before);
    }
    st_sst_reader_unref(r);
}

/* A cut at many offsets, with and without the page reader's map: no crash, nothing invented,
 * losses reported; the rows of row groups wholly before the cut come back. */
static void
test_truncation_sweep(void)
{
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), orig, NULL, &r));
    size_t len = file.len, step = len / 150 + 1;
    for (size_t n = 0; n<len; n += n> len - 200 ? 7 : step) {
        st_test_write_file(bad, file.data, n);
        result res;
        salvage(&res);
        int whole = 0;
        for (uint32_t g = 0; g < r->nrgs; g++)
            if ((size_t)r->rgs[g].chunk_end[ST_SST_COL_KIND] <= n)
                whole = rows_before(r, g + 1);
        ST_ASSERT(res.n >= whole);
    }
    st_sst_reader_unref(r);
}

/* The footer cut off and bytes flipped in the pages (payloads and headers): nothing invented,
 * every missing row in a reported range. One damaged payload loses exactly its page's rows. */
static void
test_page_damage_without_footer(void)
{
    uint64_t footer, index;
    tail_offsets(&footer, &index);
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), orig, NULL, &r));
    /* one value page payload of row group 1 */
    const st_pq_offset_index *oi = &r->rgs[1].oi[ST_SST_COL_VALUE];
    const st_pq_page_location *l = &oi->pages[0];
    int64_t page_rows = oi->npages > 1 ? oi->pages[1].first_row : r->rgs[1].num_rows;
    uint64_t off = (uint64_t)l->offset + (uint64_t)l->compressed_size - 3;
    file.data[off] ^= 0x10;
    st_test_write_file(bad, file.data, (size_t)footer);
    file.data[off] ^= 0x10;
    result res;
    salvage(&res);
    ST_ASSERT_EQ(res.n, nrows - (int)page_rows);
    ST_ASSERT_EQ(res.lost, (uint64_t)page_rows);
    st_sst_reader_unref(r);
    st_rng rng;
    st_rng_seed(&rng, st_test_seed() + 7);
    for (int t = 0; t < 80; t++) {
        int flips = 1 + (int)st_rng_uniform(&rng, 3);
        uint64_t offs[3];
        uint8_t masks[3];
        for (int i = 0; i < flips; i++) {
            offs[i] = 4 + st_rng_uniform(&rng, index - 4);
            masks[i] = (uint8_t)(1u + st_rng_uniform(&rng, 255));
            file.data[offs[i]] ^= masks[i];
        }
        st_test_write_file(bad, file.data, (size_t)(t % 2 ? footer : file.len - 5));
        for (int i = flips - 1; i >= 0; i--)
            file.data[offs[i]] ^= masks[i];
        salvage(&res); /* the checks of the file comment */
    }
}

/*
 * Tables of earlier releases have each row group's key chunk before its value chunk: the page
 * walk salvages them too (the file rebuilt in that order, without a footer), and a cut in the
 * middle keeps the row groups before it.
 */
static void
test_key_first_layout(void)
{
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), orig, NULL, &r));
    ST_ASSERT(r->nrgs >= 3);
    st_buf old = {0};
    ST_ASSERT_OK(st_buf_append(&old, "PAR1", 4));
    size_t mid = 0;
    for (uint32_t g = 0; g < r->nrgs; g++) {
        const st_sst_rg *rg = &r->rgs[g];
        /* strata writes the value chunk first */
        ST_ASSERT(rg->cm[ST_SST_COL_VALUE]->data_page_offset <
                  rg->cm[ST_SST_COL_KEY]->data_page_offset);
        static const int order[] = {ST_SST_COL_KEY, ST_SST_COL_VALUE, ST_SST_COL_SEQNO,
                                    ST_SST_COL_KIND};
        for (int i = 0; i < ST_SST_NCOLS; i++) {
            int c = order[i];
            int64_t start = rg->cm[c]->data_page_offset;
            ST_ASSERT_OK(
                st_buf_append(&old, file.data + start, (size_t)(rg->chunk_end[c] - start)));
        }
        if (g == r->nrgs / 2)
            mid = old.len;
    }
    st_test_write_file(bad, old.data, old.len);
    result res;
    salvage(&res);
    ST_ASSERT(res.walked);
    ST_ASSERT_EQ(res.n, nrows);
    st_test_write_file(bad, old.data, mid + 10); /* into the next row group's key chunk */
    salvage(&res);
    ST_ASSERT(res.walked && res.n >= rows_before(r, r->nrgs / 2 + 1) && res.n < nrows);
    st_buf_free(&old);
    st_sst_reader_unref(r);
}

/*
 * A damaged page of a constant seqno or kind column (its chunk statistics give every row's
 * value): with the footer, nothing is lost; without it, its row group's rows are lost (and
 * reported), the others come back.
 */
static void
test_constant_page_damage(void)
{
    uint64_t footer, index;
    tail_offsets(&footer, &index);
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), orig, NULL, &r));
    ST_ASSERT(r->nrgs >= 3);
    for (int c = ST_SST_COL_SEQNO; c <= ST_SST_COL_KIND; c++) {
        const st_sst_rg *rg = &r->rgs[1];
        if (!rg->known[c])
            continue;
        ST_ASSERT_EQ(rg->oi[c].npages, 1);
        const st_pq_page_location *l = &rg->oi[c].pages[0];
        uint64_t off = (uint64_t)l->offset + (uint64_t)l->compressed_size - 1;
        file.data[off] ^= 0x04;
        st_test_write_file(bad, file.data, file.len);
        result res;
        salvage(&res);
        ST_ASSERT(!res.walked);
        ST_ASSERT_EQ(res.n, nrows);
        ST_ASSERT_EQ(res.nlost, 0);
        st_test_write_file(bad, file.data, (size_t)footer);
        file.data[off] ^= 0x04;
        salvage(&res);
        ST_ASSERT(res.walked);
        ST_ASSERT_EQ(res.n, nrows - (int)rg->num_rows);
        for (int i = rows_before(r, 1); i < rows_before(r, 2); i++)
            ST_ASSERT(!res.got[i]);
    }
    st_sst_reader_unref(r);
}

/*
 * A page header whose value count is wrong while its payload still passes the CRC (the CRC
 * covers only the payload), in the last row group with the footer gone: the integer run there
 * is anchored only at its start, so nothing after the lying page can be lined up from it.
 * Every salvaged row must still be right, and exactly the rows that cannot be placed are lost:
 * for a seqno page every row of the row group (its kind pages follow the lying page), for a
 * kind page the rows from that page on, for a value page that page's rows alone (its run is
 * anchored at both ends). A constant column's single page is not among them.
 */
static void
test_header_count_lies(void)
{
    uint64_t footer, index;
    tail_offsets(&footer, &index);
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), orig, NULL, &r));
    const st_sst_rg *rg = &r->rgs[r->nrgs - 1];
    int64_t rg_first = (int64_t)nrows - rg->num_rows;
    static const int cols[] = {ST_SST_COL_VALUE, ST_SST_COL_SEQNO, ST_SST_COL_KIND};
    for (int ci = 0; ci < 3; ci++) {
        const st_pq_offset_index *oi = &rg->oi[cols[ci]];
        if (cols[ci] != ST_SST_COL_VALUE && rg->known[cols[ci]])
            continue;
        ST_ASSERT(oi->npages >= 3);
        const st_pq_page_location *l = &oi->pages[1];
        int64_t page_rows = oi->pages[2].first_row - l->first_row;
        for (int delta = -1; delta <= 1; delta += 2) {
            st_pq_page_header h;
            size_t hlen;
            ST_ASSERT_OK(st_pq_decode_page_header(file.data + l->offset, file.len - l->offset, "t",
                                                  (uint64_t)l->offset, &h, &hlen));
            ST_ASSERT_EQ(h.num_values, page_rows);
            h.num_values += delta;
            st_buf g = {0};
            ST_ASSERT_OK(st_buf_append(&g, file.data, (size_t)l->offset));
            ST_ASSERT_OK(st_pq_encode_page_header(&g, &h));
            size_t rest = (size_t)index - (size_t)l->offset - hlen; /* up to the page indexes */
            ST_ASSERT_OK(st_buf_append(&g, file.data + l->offset + hlen, rest));
            st_test_write_file(bad, g.data, g.len);
            st_buf_free(&g);
            result res;
            salvage(&res); /* nothing invented */
            int64_t from = cols[ci] == ST_SST_COL_SEQNO ? 0 : l->first_row;
            int64_t lost = cols[ci] == ST_SST_COL_VALUE ? page_rows : rg->num_rows - from;
            ST_ASSERT_EQ(res.n, nrows - (int)lost);
            for (int64_t i = rg_first + from; i < rg_first + from + lost; i++)
                ST_ASSERT(!res.got[i]);
        }
    }
    st_sst_reader_unref(r);
}

/* A footer that reads but lies: it names LZ4_RAW as the codec of every value chunk, whose
 * pages are ZSTD. Through the footer every row is lost; the page walk, which finds each page's
 * codec itself, salvages them all and is used. */
static void
test_footer_lies(void)
{
    uint64_t footer, index;
    tail_offsets(&footer, &index);
    st_arena *a = st_arena_new(4096);
    st_pq_file_meta fm;
    size_t flen = file.len - 8 - (size_t)footer;
    ST_ASSERT_OK(st_pq_decode_file_meta(file.data + footer, flen, a, "t", footer, &fm));
    for (uint32_t g = 0; g < fm.nrow_groups; g++) {
        ST_ASSERT_EQ(fm.row_groups[g].columns[ST_SST_COL_VALUE].meta.codec, ST_PQ_ZSTD);
        fm.row_groups[g].columns[ST_SST_COL_VALUE].meta.codec = ST_PQ_LZ4_RAW;
    }
    st_buf out = {0};
    ST_ASSERT_OK(st_buf_append(&out, file.data, (size_t)footer));
    ST_ASSERT_OK(st_pq_encode_file_meta(&out, &fm));
    ST_ASSERT_OK(st_buf_put_fixed32(&out, (uint32_t)(out.len - footer)));
    ST_ASSERT_OK(st_buf_append(&out, "PAR1", 4));
    st_test_write_file(bad, out.data, out.len);
    st_buf_free(&out);
    st_arena_free(a);
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(env_under_test, bad, NULL, &r)); /* the footer reads */
    st_sst_reader_unref(r);
    result res;
    salvage(&res);
    ST_ASSERT(res.walked);
    ST_ASSERT_EQ(res.n, nrows);
    ST_ASSERT_EQ(res.nlost, 0); /* the footer's pairs are intact */
}

/* Garbage and tiny files: nothing salvaged, a loss reported, no crash. */
static void
test_garbage(void)
{
    st_rng rng;
    st_rng_seed(&rng, st_test_seed() + 3);
    uint8_t buf[2000];
    for (int t = 0; t < 50; t++) {
        size_t n = st_rng_uniform(&rng, sizeof(buf));
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)st_rng_next(&rng);
        if (n >= 4)
            memcpy(buf, "PAR1", 4);
        st_test_write_file(bad, buf, n);
        result res;
        salvage(&res);
        ST_ASSERT(res.n == 0 && res.nlost == 1 && res.more);
    }
}

int
main(void)
{
    dir = st_test_tmpdir("sst_salvage");
    orig = st_path_join(dir, "orig.parquet");
    bad = st_path_join(dir, "bad.parquet");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    static const struct {
        int codec;
        const char *name;
    } codecs[] = {{STRATA_COMPRESSION_ZSTD, "zstd"},
                  {STRATA_COMPRESSION_LZ4, "lz4"},
                  {STRATA_COMPRESSION_NONE, "none"},
                  {STRATA_COMPRESSION_SNAPPY, "snappy"}};
    static const char *shapes[] = {"mixed", "puts", "bottom"};
    for (int c = 0; c < 4 + 2; c++) {
        int shape = c < 4 ? ROWS_MIXED : c - 3, codec = c < 4 ? c : 1; /* then LZ4 */
        make_rows(shape);
        for (int e = 0; e < (c == 0 ? 2 : 1); e++) {
            env_under_test = e == 0 ? st_env_posix() : st_fault_env_env(fe);
            fprintf(stderr, "-- %s tables of %s rows, reading through %s\n", codecs[codec].name,
                    shapes[shape], e == 0 ? "the posix env (mapped)" : "read_at");
            build(codecs[codec].codec, 6000); /* many row groups */
            ST_RUN(test_footer_lost);
            ST_RUN(test_footer_flips);
            ST_RUN(test_cut_mid_page);
            ST_RUN(test_truncation_sweep);
            ST_RUN(test_page_damage_without_footer);
            ST_RUN(test_header_count_lies);
            if (codecs[codec].codec == STRATA_COMPRESSION_ZSTD)
                ST_RUN(test_footer_lies);
            if (shape != ROWS_MIXED)
                ST_RUN(test_constant_page_damage);
            ST_RUN(test_key_first_layout);
        }
    }
    env_under_test = st_env_posix();
    ST_RUN(test_garbage);
    st_fault_env_free(fe);
    st_buf_free(&file);
    st_test_rmrf(dir);
    st_free(bad);
    st_free(orig);
    st_free(dir);
    return st_test_done();
}
