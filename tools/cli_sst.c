/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_sst.c -- `strata sst FILE [--rows] [--limit N]`: the metadata or the rows of one table.
 *
 * Internal-API territory (see cli.h): the metadata view reads the file through the st_env layer
 * and decodes its Parquet footer, page indexes, bloom filter headers and page headers with the
 * parquet codec (parquet/parquet.h) itself, without the sst reader, so that it shows what is in
 * any Parquet file, also one the reader would refuse. --rows walks the table with the sst
 * reader's iterator (sst/sst.h). Damaged structures are reported, never trusted: the decoders
 * check every length against the bytes read, and every offset is checked against the file.
 */
#include "cli.h"
#include "env/env.h"
#include "parquet/parquet.h"
#include "sst/sst.h"
#include "util/alloc.h"
#include "util/arena.h"
#include "util/coding.h"
#include "util/crc32c.h"
#include "util/status.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

const cli_opt cli_sst_opts[] = {
    {"rows", NULL, "print the rows (key<TAB>seqno<TAB>kind<TAB>value) instead of the metadata"},
    {"limit", "N", "with --rows: print at most N rows"},
    {NULL, NULL, NULL},
};

/* Largest page header the page walk reads (headers hold statistics, so they can be big). */
#define SST_MAX_PAGE_HEADER (16u << 20)

typedef struct sst_file {
    const char *path;
    st_file *f;
    uint64_t size;
    uint64_t footer_off; /* first byte of the FileMetaData */
    uint32_t footer_len;
    st_arena *arena; /* the footer bytes and everything decoded from them */
    st_pq_file_meta fm;
    int problems; /* damaged structures found while printing */
} sst_file;

/* ---- names of Parquet enum values ------------------------------------------------------------ */

static const char *
type_name(int t)
{
    static const char *const names[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                        "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return t >= 0 && t < (int)(sizeof(names) / sizeof(names[0])) ? names[t] : "?";
}

static const char *
codec_name(int codec)
{
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                        "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return codec >= 0 && codec < (int)(sizeof(names) / sizeof(names[0])) ? names[codec] : NULL;
}

static const char *
encoding_name(int e)
{
    static const char *const names[] = {
        "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
        "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return e >= 0 && e < (int)(sizeof(names) / sizeof(names[0])) ? names[e] : NULL;
}

static const char *
repetition_name(int r)
{
    return r == ST_PQ_REQUIRED   ? "REQUIRED"
           : r == ST_PQ_OPTIONAL ? "OPTIONAL"
           : r == ST_PQ_REPEATED ? "REPEATED"
                                 : "-";
}

static const char *
boundary_name(int b)
{
    return b == ST_PQ_ASCENDING ? "ascending" : b == ST_PQ_DESCENDING ? "descending" : "unordered";
}

/* ---- reading the file ------------------------------------------------------------------------ */

static void
sst_close(sst_file *s)
{
    st_file_close(s->f);
    st_arena_free(s->arena);
    s->f = NULL;
    s->arena = NULL;
}

/* Read [off, off + n) (inside the file) into arena memory. */
static int
read_region(sst_file *s, int64_t off, int64_t n, const char *what, uint8_t **out)
{
    if (off < 0 || n <= 0 || (uint64_t)off > s->size || (uint64_t)n > s->size - (uint64_t)off)
        return st_err(STRATA_CORRUPT, "%s: %s out of range (offset %" PRId64 ", %" PRId64 " bytes)",
                      s->path, what, off, n);
    uint8_t *p = st_arena_alloc(s->arena, (size_t)n);
    if (p == NULL)
        return st_err(STRATA_NOMEM, "%s: %s: out of memory", s->path, what);
    int rc = st_file_read_exact(s->f, (uint64_t)off, p, (size_t)n);
    if (rc == STRATA_OK)
        *out = p;
    return rc;
}

/* Open the file, check both magic numbers and decode the footer into s->fm. */
static int
sst_load(sst_file *s)
{
    st_env *env = st_env_posix();
    uint8_t head[4], tail[8], *footer = NULL;
    s->arena = st_arena_new(64 * 1024);
    if (s->arena == NULL)
        return st_err(STRATA_NOMEM, "%s: out of memory", s->path);
    int rc = env->open(env, s->path, ST_OPEN_READ, &s->f);
    if (rc == STRATA_OK)
        rc = st_file_size(s->f, &s->size);
    if (rc != STRATA_OK)
        return rc;
    if (s->size < 12)
        return st_err(STRATA_CORRUPT, "%s: not a Parquet file: %" PRIu64 " bytes is too short",
                      s->path, s->size);
    if ((rc = st_file_read_exact(s->f, 0, head, sizeof(head))) != STRATA_OK ||
        (rc = st_file_read_exact(s->f, s->size - 8, tail, sizeof(tail))) != STRATA_OK)
        return rc;
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return st_err(STRATA_NOTSUP, "%s: an encrypted Parquet file (footer magic PARE)", s->path);
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0)
        return st_err(STRATA_CORRUPT, "%s: not a Parquet file: no PAR1 magic at its %s", s->path,
                      memcmp(head, "PAR1", 4) != 0 ? "start" : "end");
    s->footer_len = st_get_fixed32(tail);
    if ((uint64_t)s->footer_len + 12 > s->size)
        return st_err(STRATA_CORRUPT,
                      "%s: footer length %" PRIu32 " exceeds the file (offset %" PRIu64 ")",
                      s->path, s->footer_len, s->size - 8);
    s->footer_off = s->size - 8 - s->footer_len;
    if (s->footer_len == 0)
        return st_err(STRATA_CORRUPT, "%s: empty footer (offset %" PRIu64 ")", s->path,
                      s->size - 8);
    rc = read_region(s, (int64_t)s->footer_off, s->footer_len, "footer", &footer);
    if (rc == STRATA_OK)
        rc =
            st_pq_decode_file_meta(footer, s->footer_len, s->arena, s->path, s->footer_off, &s->fm);
    return rc;
}

/* Print "DAMAGED: <detail>" for a structure that could not be read, and count it. */
static void
damaged(sst_file *s, int rc)
{
    s->problems++;
    printf("DAMAGED (%s: %s)\n", strata_errstr(rc), st_errmsg());
}

/* ---- the metadata view ----------------------------------------------------------------------- */

/* Count a chunk's pages by walking their headers from start to end. */
static int
count_pages(sst_file *s, int64_t start, int64_t end, uint64_t *data, uint64_t *dict,
            uint64_t *other)
{
    uint8_t small[4096], *big = NULL;
    int rc = STRATA_OK;
    *data = *dict = *other = 0;
    for (int64_t off = start; off < end && rc == STRATA_OK;) {
        st_pq_page_header h;
        size_t hlen = 0, want = sizeof(small);
        uint8_t *hb = small;
        if ((int64_t)want > end - off)
            want = (size_t)(end - off);
        for (;;) {
            rc = st_file_read_exact(s->f, (uint64_t)off, hb, want);
            if (rc == STRATA_OK)
                rc = st_pq_decode_page_header(hb, want, s->path, (uint64_t)off, &h, &hlen);
            /* CORRUPT may just mean the header is longer than what was read: read more. */
            if (rc != STRATA_CORRUPT || (int64_t)want >= end - off || want >= SST_MAX_PAGE_HEADER)
                break;
            want = (int64_t)want * 16 < end - off ? want * 16 : (size_t)(end - off);
            uint8_t *nb = st_realloc(big, want);
            if (nb == NULL) {
                rc = st_err(STRATA_NOMEM, "%s: page walk: out of memory", s->path);
                break;
            }
            hb = big = nb;
        }
        if (rc != STRATA_OK)
            break;
        if (h.compressed_size < 0 || (int64_t)hlen + h.compressed_size > end - off) {
            rc = st_err(STRATA_CORRUPT, "%s: page overruns its column chunk (offset %" PRId64 ")",
                        s->path, off);
            break;
        }
        if (h.type == ST_PQ_DATA_PAGE || h.type == ST_PQ_DATA_PAGE_V2)
            (*data)++;
        else if (h.type == ST_PQ_DICTIONARY_PAGE)
            (*dict)++;
        else
            (*other)++;
        off += (int64_t)hlen + h.compressed_size;
    }
    st_free(big);
    return rc;
}

/* A statistics value: integers of INT32/INT64 columns in decimal, other bytes as key text. */
static void
print_stat(const cli_ctx *c, int type, st_pq_bytes b)
{
    if (type == ST_PQ_INT64 && b.len == 8)
        printf("%" PRId64, (int64_t)st_get_fixed64(b.p));
    else if (type == ST_PQ_INT32 && b.len == 4)
        printf("%" PRId32, (int32_t)st_get_fixed32(b.p));
    else
        cli_print_bytes(stdout, c->hex, b.p, b.len);
    putchar('\n');
}

static void
print_pages(sst_file *s, const st_pq_column_meta *m)
{
    int64_t start = m->data_page_offset;
    if (m->dictionary_page_offset > 0 && m->dictionary_page_offset < start)
        start = m->dictionary_page_offset;
    printf("      pages: ");
    if (start < 4 || m->total_compressed_size < 0 ||
        (uint64_t)start + (uint64_t)m->total_compressed_size > s->footer_off) {
        damaged(s, st_err(STRATA_CORRUPT,
                          "%s: column chunk at offset %" PRId64 " (%" PRId64
                          " bytes) lies outside the data",
                          s->path, start, m->total_compressed_size));
        return;
    }
    uint64_t data = 0, dict = 0, other = 0;
    int rc = count_pages(s, start, start + m->total_compressed_size, &data, &dict, &other);
    if (rc != STRATA_OK) {
        damaged(s, rc);
        return;
    }
    printf("%" PRIu64 " data", data);
    if (dict > 0)
        printf(", %" PRIu64 " dictionary", dict);
    if (other > 0)
        printf(", %" PRIu64 " other", other);
    printf(" (chunk at offset %" PRId64 ")\n", start);
}

static void
print_bloom(sst_file *s, const st_pq_column_meta *m)
{
    printf("      bloom filter: ");
    if (m->bloom_offset < 0) {
        printf("absent\n");
        return;
    }
    int64_t len = m->bloom_length > 0 ? m->bloom_length : 256;
    if ((uint64_t)m->bloom_offset < s->size && (uint64_t)len > s->size - (uint64_t)m->bloom_offset)
        len = (int64_t)(s->size - (uint64_t)m->bloom_offset);
    uint8_t *p = NULL;
    st_pq_bloom_header bh;
    size_t used = 0;
    int rc = read_region(s, m->bloom_offset, len, "bloom filter", &p);
    if (rc == STRATA_OK)
        rc = st_pq_decode_bloom_header(p, (size_t)len, s->path, (uint64_t)m->bloom_offset, &bh,
                                       &used);
    if (rc != STRATA_OK) {
        damaged(s, rc);
        return;
    }
    printf("present (%" PRId32 "-byte %s bitset at offset %" PRId64 ")\n", bh.num_bytes,
           bh.supported ? "split-block" : "unsupported", m->bloom_offset);
}

static void
print_indexes(sst_file *s, const st_pq_column_chunk *cc)
{
    uint8_t *p = NULL;
    int rc;
    printf("      column index: ");
    if (cc->column_index_offset < 0 || cc->column_index_length <= 0) {
        printf("absent\n");
    } else {
        st_pq_column_index ci;
        rc = read_region(s, cc->column_index_offset, cc->column_index_length, "column index", &p);
        if (rc == STRATA_OK)
            rc = st_pq_decode_column_index(p, (size_t)cc->column_index_length, s->arena, s->path,
                                           (uint64_t)cc->column_index_offset, &ci);
        if (rc == STRATA_OK)
            printf("present (%" PRIu32 " page%s, %s, at offset %" PRId64 ")\n", ci.npages,
                   ci.npages == 1 ? "" : "s", boundary_name(ci.boundary_order),
                   cc->column_index_offset);
        else
            damaged(s, rc);
    }
    printf("      offset index: ");
    if (cc->offset_index_offset < 0 || cc->offset_index_length <= 0) {
        printf("absent\n");
    } else {
        st_pq_offset_index oi;
        rc = read_region(s, cc->offset_index_offset, cc->offset_index_length, "offset index", &p);
        if (rc == STRATA_OK)
            rc = st_pq_decode_offset_index(p, (size_t)cc->offset_index_length, s->arena, s->path,
                                           (uint64_t)cc->offset_index_offset, &oi);
        if (rc == STRATA_OK)
            printf("present (%" PRIu32 " page%s, at offset %" PRId64 ")\n", oi.npages,
                   oi.npages == 1 ? "" : "s", cc->offset_index_offset);
        else
            damaged(s, rc);
    }
}

static void
print_column(const cli_ctx *c, sst_file *s, const st_pq_row_group *rg, uint32_t i)
{
    const st_pq_column_chunk *cc = &rg->columns[i];
    const st_pq_column_meta *m = &cc->meta;
    /* The leaf's name from the schema (flat schemas), else the chunk's path_in_schema. */
    st_pq_bytes name = s->fm.nschema == rg->ncolumns + 1 ? s->fm.schema[i + 1].name : m->path;
    printf("    column %" PRIu32 " ", i);
    cli_print_bytes(stdout, 0, name.p, name.len);
    printf(" (%s)\n", type_name(m->type));
    const char *codec = codec_name(m->codec);
    if (codec != NULL)
        printf("      codec: %s\n", codec);
    else
        printf("      codec: unknown (%d)\n", m->codec);
    printf("      encodings:");
    for (int e = 0; e < 32; e++)
        if (m->encodings & (1u << e)) {
            const char *en = encoding_name(e);
            if (en != NULL)
                printf(" %s", en);
            else
                printf(" %d", e);
        }
    printf("\n      values: %" PRId64 "\n", m->num_values);
    printf("      compressed: %" PRId64 " bytes\n      uncompressed: %" PRId64 " bytes\n",
           m->total_compressed_size, m->total_uncompressed_size);
    print_pages(s, m);
    if (m->has_stats && m->stats.has_min) {
        printf("      min: ");
        print_stat(c, m->type, m->stats.min);
    }
    if (m->has_stats && m->stats.has_max) {
        printf("      max: ");
        print_stat(c, m->type, m->stats.max);
    }
    if (m->has_stats && m->stats.has_null_count)
        printf("      nulls: %" PRId64 "\n", m->stats.null_count);
    if (!m->has_stats || (!m->stats.has_min && !m->stats.has_max))
        printf("      statistics: absent\n");
    print_bloom(s, m);
    print_indexes(s, cc);
}

/* The decimal value of footer pair `key`: 1 found, 0 absent, -1 not a number. */
static int
kv_number(const st_pq_file_meta *fm, const char *key, uint64_t *v)
{
    size_t n = strlen(key);
    for (uint32_t i = 0; i < fm->nkv; i++) {
        const st_pq_kv *kv = &fm->kv[i];
        if (kv->key.len != n || memcmp(kv->key.p, key, n) != 0 || !kv->has_value)
            continue;
        uint64_t x = 0;
        if (kv->value.len == 0 || kv->value.len > 19)
            return -1;
        for (uint32_t j = 0; j < kv->value.len; j++) {
            if (kv->value.p[j] < '0' || kv->value.p[j] > '9')
                return -1;
            x = x * 10 + (uint64_t)(kv->value.p[j] - '0');
        }
        *v = x;
        return 1;
    }
    return 0;
}

/* strata's tables checksum the bytes between strata.index_offset and the footer (bloom filters
 * and page indexes) with CRC-32C in strata.index_crc32c. */
static void
print_index_crc(sst_file *s)
{
    uint64_t off = 0, crc = 0;
    int a = kv_number(&s->fm, "strata.index_offset", &off);
    int b = kv_number(&s->fm, "strata.index_crc32c", &crc);
    if (a == 0 && b == 0)
        return;
    printf("index checksum: ");
    uint8_t *p = NULL;
    if (a < 0 || b < 0 || a == 0 || b == 0 || off < 4 || off >= s->footer_off || crc > UINT32_MAX) {
        damaged(s, st_err(STRATA_CORRUPT, "%s: bad strata.index_offset / strata.index_crc32c",
                          s->path));
        return;
    }
    int rc = read_region(s, (int64_t)off, (int64_t)(s->footer_off - off), "index region", &p);
    if (rc != STRATA_OK) {
        damaged(s, rc);
        return;
    }
    uint32_t got = st_crc32c(p, (size_t)(s->footer_off - off));
    if (got != (uint32_t)crc)
        damaged(s, st_err(STRATA_CORRUPT,
                          "%s: CRC-32C of bytes %" PRIu64 "..%" PRIu64 " is %" PRIu32
                          ", the footer says %" PRIu64,
                          s->path, off, s->footer_off, got, crc));
    else
        printf("ok (CRC-32C of bytes %" PRIu64 "..%" PRIu64 ")\n", off, s->footer_off);
}

static void
print_meta(const cli_ctx *c, sst_file *s)
{
    const st_pq_file_meta *fm = &s->fm;
    printf("file: %s\n", s->path);
    printf("size: %" PRIu64 " bytes\n", s->size);
    printf("footer: %" PRIu32 " bytes at offset %" PRIu64 "\n", s->footer_len, s->footer_off);
    printf("parquet version: %" PRId32 "\n", fm->version);
    printf("created_by: ");
    if (fm->created_by.len > 0)
        cli_print_bytes(stdout, 0, fm->created_by.p, fm->created_by.len);
    else
        printf("(absent)");
    printf("\nrows: %" PRId64 "\n", fm->num_rows);
    printf("schema:");
    for (uint32_t i = 1; i < fm->nschema; i++) {
        printf(i > 1 ? ", " : " ");
        cli_print_bytes(stdout, 0, fm->schema[i].name.p, fm->schema[i].name.len);
        printf(" %s %s", fm->schema[i].type >= 0 ? type_name(fm->schema[i].type) : "group",
               repetition_name(fm->schema[i].repetition));
    }
    printf("\nrow groups: %" PRIu32 "\n", fm->nrow_groups);
    for (uint32_t g = 0; g < fm->nrow_groups; g++) {
        const st_pq_row_group *rg = &fm->row_groups[g];
        printf("  row group %" PRIu32 ": %" PRId64 " rows, %" PRId64 " bytes uncompressed", g,
               rg->num_rows, rg->total_byte_size);
        if (rg->total_compressed_size >= 0)
            printf(", %" PRId64 " bytes compressed", rg->total_compressed_size);
        if (rg->file_offset >= 0)
            printf(", at offset %" PRId64, rg->file_offset);
        putchar('\n');
        for (uint32_t i = 0; i < rg->ncolumns; i++)
            print_column(c, s, rg, i);
    }
    printf("metadata: %" PRIu32 " pairs\n", fm->nkv);
    for (uint32_t i = 0; i < fm->nkv; i++) {
        printf("  ");
        cli_print_bytes(stdout, 0, fm->kv[i].key.p, fm->kv[i].key.len);
        if (fm->kv[i].has_value) {
            printf(": ");
            cli_print_bytes(stdout, 0, fm->kv[i].value.p, fm->kv[i].value.len);
        } else {
            printf(" (no value)");
        }
        putchar('\n');
    }
    print_index_crc(s);
}

/* Report a failure to open or decode the file: "<what> FILE: CODE: detail". */
static int
sst_fail(const cli_ctx *c, int rc, const char *what)
{
    if (rc == STRATA_NOTFOUND) /* strata_errstr says "key not found" */
        return cli_fail(c, CLI_EXIT_DBERR, "%s %s: no such file", what, c->argv[0]);
    return cli_fail(c, CLI_EXIT_DBERR, "%s %s: %s: %s", what, c->argv[0], strata_errstr(rc),
                    st_errmsg());
}

/* ---- the rows view --------------------------------------------------------------------------- */

/* Print up to `limit` rows through the sst reader's iterator. CLI_EXIT_* code. */
static int
print_rows(cli_ctx *c, unsigned long long limit)
{
    const char *path = c->argv[0];
    st_sst_reader *r = NULL;
    st_iter *it = NULL;
    int rc = st_sst_reader_open(st_env_posix(), path, NULL, &r);
    if (rc == STRATA_OK)
        rc = st_sst_reader_iter(r, NULL, 0, NULL, 0, 0, &it);
    if (rc != STRATA_OK) {
        st_sst_reader_unref(r);
        return sst_fail(c, rc, "cannot read the rows of");
    }
    int wr = 0;
    st_iter_seek_first(it);
    for (unsigned long long n = 0; n < limit && it->valid && wr == 0; n++) {
        if (cli_print_bytes(stdout, c->hex, it->key, it->klen) != 0 ||
            printf("\t%" PRIu64 "\t%s\t", it->seq, it->kind == ST_KIND_DELETE ? "del" : "put") <
                0 ||
            cli_print_bytes(stdout, c->hex, it->val, it->vlen) != 0 || fputc('\n', stdout) == EOF)
            wr = errno ? errno : EIO;
        st_iter_next(it);
    }
    rc = it->status;
    st_iter_close(it);
    /* then the range tombstones (the last row group): begin<TAB>seqno<TAB>del-range<TAB>end */
    const st_rdel_set *rd = st_sst_reader_range_dels(r);
    for (size_t i = 0; rc == STRATA_OK && rd && i < rd->nraw && wr == 0; i++) {
        const st_rdel *t = &rd->raw[i];
        if (cli_print_bytes(stdout, c->hex, t->begin, t->blen) != 0 ||
            printf("\t%" PRIu64 "\tdel-range\t", t->seq) < 0 ||
            cli_print_bytes(stdout, c->hex, t->end, t->elen) != 0 || fputc('\n', stdout) == EOF)
            wr = errno ? errno : EIO;
    }
    st_sst_reader_unref(r);
    if (rc != STRATA_OK) {
        int orc = cli_finish_output(c, wr);
        (void)orc;
        return cli_fail(c, CLI_EXIT_DBERR, "reading the rows of %s: %s: %s", path,
                        strata_errstr(rc), st_errmsg());
    }
    return cli_finish_output(c, wr);
}

int
cli_cmd_sst(cli_ctx *c)
{
    unsigned long long limit = ~0ULL;
    const char *lim = cli_optval(c, "limit");
    int rows = cli_optval(c, "rows") != NULL;
    if (lim != NULL) {
        if (!rows)
            return cli_usage(c, "--limit applies to --rows only");
        int rc = cli_parse_count(c, "limit", lim, &limit);
        if (rc != CLI_EXIT_OK)
            return rc;
    }
    if (c->argv[0][0] == '\0')
        return cli_usage(c, "empty file name");
    if (rows)
        return print_rows(c, limit);

    sst_file s;
    memset(&s, 0, sizeof(s));
    s.path = c->argv[0];
    int rc = sst_load(&s);
    if (rc != STRATA_OK) {
        sst_close(&s);
        return sst_fail(c, rc, "cannot read");
    }
    print_meta(c, &s);
    int problems = s.problems;
    sst_close(&s);
    int orc = cli_finish_output(c, 0);
    if (problems > 0)
        return cli_fail(c, CLI_EXIT_DBERR, "%s: %d damaged structure%s (marked DAMAGED above)",
                        c->argv[0], problems, problems == 1 ? "" : "s");
    return orc;
}
