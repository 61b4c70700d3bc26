/* SPDX-License-Identifier: Apache-2.0 */
/* sst_builder.c -- writes one sorted table as a Parquet file (doc/format_sst.md). */
#include "parquet/codec.h"
#include "parquet/encoding.h"
#include "parquet/page.h"
#include "parquet/parquet.h"
#include "sst/sst.h"
#include "sst/sst_format.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/coding.h"
#include "util/crc32c.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const st_sst_col_names[ST_SST_NCOLS] = {"key", "value", "seqno", "kind"};

void
st_sst_hex(const uint8_t *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = 0;
}

static int
hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long
st_sst_unhex(const uint8_t *p, size_t n, uint8_t *out)
{
    if (n % 2)
        return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int a = hexval(p[2 * i]), b = hexval(p[2 * i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i] = (uint8_t)(a << 4 | b);
    }
    return (long)(n / 2);
}

void
st_sst_options_init(st_sst_options *o)
{
    o->compression = STRATA_COMPRESSION_ZSTD;
    o->compression_level = 1;
    o->page_size = 8192;
    o->row_group_size = 16u << 20;
    o->bloom_bits_per_key = 10;
}

void
st_sst_meta_free(st_sst_meta *m)
{
    if (!m)
        return;
    st_free(m->smallest);
    st_free(m->largest);
    for (size_t i = 0; i < m->nprops; i++) {
        st_free(m->props[i].key);
        st_free(m->props[i].value);
    }
    st_free(m->props);
    memset(m, 0, sizeof(*m));
}

const char *
st_sst_meta_prop(const st_sst_meta *m, const char *key)
{
    for (size_t i = 0; i < m->nprops; i++)
        if (strcmp(m->props[i].key, key) == 0)
            return m->props[i].value;
    return NULL;
}

/* ---- builder state -------------------------------------------------------------------------- */

/* One page's bounds, as stored in page headers and the ColumnIndex. */
typedef struct bound {
    st_buf min, max;
    int has, null_page, min_exact, max_exact;
    int64_t null_count;
} bound;

/* Per column of the open row group. */
typedef struct colstate {
    st_buf pages; /* framed pages of this chunk (not of the value column: streamed) */
    st_buf locs;  /* st_pq_page_location, offsets relative to the chunk start (absolute for the
                     value column) */
    int64_t start, bytes; /* value column: file offset of its first page, bytes written */
    bound *pb;            /* per page bounds */
    size_t npb, cappb;
    bound chunk;          /* chunk statistics */
    int64_t uncompressed; /* incl. headers */
    int unbounded;        /* some value max could not be truncated: no chunk max */
    /* seqno and kind: CONST_PENDING while every row of the row group so far held cval (no page
     * written yet: the chunk may become a single page, see int_column_page) */
    int cstate;
    int64_t cval;
} colstate;

enum { CONST_NONE, CONST_PENDING, CONST_BROKEN };

/* A finished row group, kept until the footer is written. */
typedef struct rginfo {
    st_pq_row_group rg;
    st_pq_column_chunk cols[ST_SST_NCOLS];
    st_pq_offset_index oi[ST_SST_NCOLS];
    st_buf ci[ST_SST_NCOLS]; /* encoded ColumnIndex (empty = none) */
    st_buf stats;            /* backing bytes of the chunk statistics */
    uint8_t *bloom;
    size_t bloom_len;
} rginfo;

struct st_sst_builder {
    st_env *env;
    char *path, *tmp;
    st_file *file;
    st_sst_options opt;
    int rc;
    st_pq_compressor comp;  /* key and value pages */
    st_pq_compressor plain; /* seqno and kind pages: always UNCOMPRESSED (see col_codec) */
    int codec;
    int key_codec;      /* the key chunk's codec in the open row group; -1 until its first page */
    st_buf probe;       /* the first key page compressed, while deciding key_codec */
    uint64_t off;       /* bytes written to the file */
    uint64_t index_off; /* start of the bloom filters + page indexes */
    uint32_t index_crc; /* CRC-32C of everything written since index_off */
    uint32_t file_crc;  /* CRC-32C of every byte written so far */

    /* current page */
    st_buf kprefix, ksuflen, ksuffix; /* int64 arrays + suffix bytes (DELTA_BYTE_ARRAY) */
    st_buf prevkey;                   /* previous key in this page */
    st_buf vals;                      /* PLAIN values */
    st_buf defs;                      /* uint32 definition levels */
    st_buf seqs, kinds;               /* int64 arrays */
    size_t page_rows, page_kbytes, page_vbytes;
    st_buf pfirst;     /* first key of the page */
    st_buf vmin, vmax; /* 65-byte prefixes of the page's value min/max */
    int vhas;
    int64_t smin, smax, kmin, kmax, page_nulls;

    /* current row group */
    colstate col[ST_SST_NCOLS];
    size_t rg_rows, rg_bytes;
    st_buf rgfirst;  /* first key of the row group */
    st_buf rghashes; /* uint64 XXH64 of distinct keys */

    /* whole file */
    rginfo *rgs;
    size_t nrgs, caprgs;
    st_buf lastkey;
    uint64_t lastseq;
    uint64_t entries, tombstones, min_seq, max_seq; /* entries: every row, range rows included */
    st_buf smallest;
    /* range tombstones (kind 2), buffered until finish writes them as the last row group */
    st_rdel *rd;
    size_t nrd, caprd;
    uint64_t range_rows;
    int rdel_phase; /* writing the range tombstone row group */
    st_pq_kv *props;
    size_t nprops;

    st_buf scratch, payload;
    st_buf vout; /* value pages not yet appended to the file (up to VALUE_OUT bytes) */
};

/* Value page bytes gathered before one append: a system call per page cost 6% more CPU in a
 * batched fill than appending whole chunks. */
#define VALUE_OUT (1u << 20)

static int
fail(st_sst_builder *b, int rc)
{
    if (b->rc == STRATA_OK)
        b->rc = rc;
    return b->rc;
}

static void
bound_free(bound *x)
{
    st_buf_free(&x->min);
    st_buf_free(&x->max);
}

static void
colstate_free(colstate *c)
{
    st_buf_free(&c->pages);
    st_buf_free(&c->locs);
    for (size_t i = 0; i < c->npb; i++)
        bound_free(&c->pb[i]);
    st_free(c->pb);
    bound_free(&c->chunk);
    memset(c, 0, sizeof(*c));
}

static void
builder_free(st_sst_builder *b)
{
    for (size_t i = 0; i < b->nrd; i++)
        st_free((void *)b->rd[i].begin);
    st_free(b->rd);
    st_buf *bufs[] = {&b->kprefix, &b->ksuflen, &b->ksuffix,  &b->prevkey, &b->vals,
                      &b->defs,    &b->seqs,    &b->kinds,    &b->pfirst,  &b->vmin,
                      &b->vmax,    &b->rgfirst, &b->rghashes, &b->lastkey, &b->smallest,
                      &b->scratch, &b->payload, &b->probe,    &b->vout};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
        st_buf_free(bufs[i]);
    for (int c = 0; c < ST_SST_NCOLS; c++)
        colstate_free(&b->col[c]);
    for (size_t g = 0; g < b->nrgs; g++) {
        rginfo *ri = &b->rgs[g];
        for (int c = 0; c < ST_SST_NCOLS; c++) {
            st_free(ri->oi[c].pages);
            st_buf_free(&ri->ci[c]);
        }
        st_buf_free(&ri->stats);
        st_free(ri->bloom);
    }
    st_free(b->rgs);
    for (size_t i = 0; i < b->nprops; i++) {
        st_free((void *)b->props[i].key.p);
        st_free((void *)b->props[i].value.p);
    }
    st_free(b->props);
    st_pq_compressor_free(&b->comp);
    st_pq_compressor_free(&b->plain);
    st_free(b->path);
    st_free(b->tmp);
    st_free(b);
}

/* Every byte of the file goes through here: it advances off and the whole-file checksum. */
static int
out_append(st_sst_builder *b, const void *p, size_t n)
{
    ST_RET(st_file_append(b->file, p, n));
    b->off += n;
    b->file_crc = st_crc32c_extend(b->file_crc, p, n);
    return STRATA_OK;
}

int
st_sst_builder_new(st_env *env, const char *path, const st_sst_options *o, st_sst_builder **out)
{
    *out = NULL;
    st_sst_builder *b = st_calloc(1, sizeof(*b));
    if (!b)
        return st_err(STRATA_NOMEM, "sst builder %s", path);
    b->env = env;
    if (o)
        b->opt = *o;
    else
        st_sst_options_init(&b->opt);
    if (b->opt.page_size == 0)
        b->opt.page_size = 8192;
    if (b->opt.row_group_size == 0)
        b->opt.row_group_size = 16u << 20;
    b->codec = b->opt.compression == STRATA_COMPRESSION_ZSTD     ? ST_PQ_ZSTD
               : b->opt.compression == STRATA_COMPRESSION_LZ4    ? ST_PQ_LZ4_RAW
               : b->opt.compression == STRATA_COMPRESSION_SNAPPY ? ST_PQ_SNAPPY
               : b->opt.compression == STRATA_COMPRESSION_NONE   ? ST_PQ_UNCOMPRESSED
                                                                 : -1;
    b->min_seq = UINT64_MAX;
    b->key_codec = -1;
    int rc;
    size_t n = strlen(path);
    if (b->codec < 0) {
        rc = st_err(STRATA_INVALID, "sst builder %s: unknown compression %d", path,
                    b->opt.compression);
        goto err;
    }
    ST_ERR(st_pq_compressor_init(&b->comp, b->codec,
                                 b->opt.compression_level ? b->opt.compression_level : 1));
    ST_ERR(st_pq_compressor_init(&b->plain, ST_PQ_UNCOMPRESSED, 0));
    b->path = st_strdup(path);
    b->tmp = st_malloc(n + 5);
    if (!b->path || !b->tmp) {
        rc = st_err(STRATA_NOMEM, "sst builder %s", path);
        goto err;
    }
    memcpy(b->tmp, path, n);
    memcpy(b->tmp + n, ".tmp", 5);
    ST_ERR(env->open(env, b->tmp, ST_OPEN_WRITE | ST_OPEN_CREATE | ST_OPEN_TRUNC, &b->file));
    rc = out_append(b, "PAR1", 4);
    if (rc != STRATA_OK) {
        st_file_close(b->file);
        env->remove(env, b->tmp);
        goto err;
    }
    *out = b;
    return STRATA_OK;
err:
    builder_free(b);
    return rc;
}

static int
valid_utf8(const char *s)
{
    const uint8_t *p = (const uint8_t *)s;
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p >> 5) == 6 ? 1 : (*p >> 4) == 14 ? 2 : (*p >> 3) == 30 ? 3 : -1;
        if (n < 0)
            return 0;
        p++;
        for (int i = 0; i < n; i++, p++)
            if ((*p >> 6) != 2)
                return 0;
    }
    return 1;
}

int
st_sst_builder_set_meta(st_sst_builder *b, const char *key, const char *value)
{
    if (!key || !value || !*key || strncmp(key, ST_SST_KV_PREFIX, strlen(ST_SST_KV_PREFIX)) == 0 ||
        !valid_utf8(key) || !valid_utf8(value))
        return st_err(STRATA_INVALID, "sst builder %s: bad metadata key or value", b->path);
    st_pq_kv *np = st_realloc(b->props, (b->nprops + 1) * sizeof(*np));
    if (!np)
        return st_err(STRATA_NOMEM, "sst builder metadata");
    b->props = np;
    char *k = st_strdup(key), *v = st_strdup(value);
    if (!k || !v) {
        st_free(k);
        st_free(v);
        return st_err(STRATA_NOMEM, "sst builder metadata");
    }
    st_pq_kv *kv = &b->props[b->nprops++];
    memset(kv, 0, sizeof(*kv));
    kv->key = (st_pq_bytes){(const uint8_t *)k, (uint32_t)strlen(k)};
    kv->value = (st_pq_bytes){(const uint8_t *)v, (uint32_t)strlen(v)};
    kv->has_value = 1;
    return STRATA_OK;
}

int
st_sst_builder_status(const st_sst_builder *b)
{
    return b->rc;
}

uint64_t
st_sst_builder_entries(const st_sst_builder *b)
{
    return b->entries + b->nrd;
}

uint64_t
st_sst_builder_estimated_size(const st_sst_builder *b)
{
    uint64_t n = b->off + b->vout.len + b->page_kbytes + b->page_vbytes + b->page_rows * 2;
    for (int c = 0; c < ST_SST_NCOLS; c++)
        n += b->col[c].pages.len;
    return n;
}

/* ---- bounds -----------------------------------------------------------------------------------
 */

static int
set_bytes(st_buf *dst, const void *p, size_t n)
{
    st_buf_clear(dst);
    return st_buf_append(dst, p, n);
}

/* Upper bound of the first n bytes of p cut to at most lim bytes: 0 when impossible (all 0xFF). */
static size_t
bound_len(const uint8_t *p, size_t n, size_t lim)
{
    if (n <= lim)
        return n;
    size_t m = lim;
    while (m > 0 && p[m - 1] == 0xff)
        m--;
    return m;
}

/*
 * Truncated upper bound of a (prefix of a) value: ST_SST_STAT_SHORT bytes, or up to
 * ST_SST_STAT_TRUNC when the short prefix is all 0xFF; 0 when impossible (64 x 0xFF).
 */
static int
trunc_max(const uint8_t *p, size_t n, st_buf *out, int *exact)
{
    size_t lim = ST_SST_STAT_SHORT, m = bound_len(p, n, lim);
    if (m == 0 && n > 0) {
        lim = ST_SST_STAT_TRUNC;
        m = bound_len(p, n, lim);
    }
    if (n <= lim) {
        *exact = 1;
        return set_bytes(out, p, n) == STRATA_OK ? 1 : -1;
    }
    if (m == 0)
        return 0;
    if (set_bytes(out, p, m) != STRATA_OK)
        return -1;
    out->data[m - 1]++;
    *exact = 0;
    return 1;
}

static int64_t
get_i64(const st_buf *b, size_t i)
{
    int64_t v;
    memcpy(&v, b->data + i * 8, 8);
    return v;
}

static int
put_i64(st_buf *b, int64_t v)
{
    ST_RET(st_buf_reserve(b, 8));
    memcpy(b->data + b->len, &v, 8);
    b->len += 8;
    return STRATA_OK;
}

static void
int_bytes(int col, int64_t v, uint8_t out[8], size_t *n)
{
    if (col == ST_SST_COL_KIND) {
        st_put_fixed32(out, (uint32_t)(int32_t)v);
        *n = 4;
    } else {
        st_put_fixed64(out, (uint64_t)v);
        *n = 8;
    }
}

/* The integer stored in a 4- or 8-byte little-endian statistics value. */
static int64_t
stat_int(const st_buf *v)
{
    return v->len == 4 ? (int64_t)(int32_t)st_get_fixed32(v->data)
                       : (int64_t)st_get_fixed64(v->data);
}

/* Order of two statistics values: bytewise, or as 4/8-byte integers. */
static int
bound_cmp(const st_buf *a, const st_buf *b, int is_bytes)
{
    if (is_bytes)
        return st_bytes_cmp(a->data, a->len, b->data, b->len);
    int64_t x = stat_int(a), y = stat_int(b);
    return x < y ? -1 : x > y;
}

/* Keep page bound x for column c's ColumnIndex. */
static int
record_page_bound(colstate *c, const bound *x)
{
    if (c->npb == c->cappb) {
        size_t nc = c->cappb ? c->cappb * 2 : 16;
        bound *np = st_realloc(c->pb, nc * sizeof(*np));
        if (!np)
            return st_err(STRATA_NOMEM, "sst page bounds");
        c->pb = np;
        c->cappb = nc;
    }
    bound *d = &c->pb[c->npb++];
    memset(d, 0, sizeof(*d));
    d->has = x->has;
    d->null_page = x->null_page;
    d->null_count = x->null_count;
    d->min_exact = x->min_exact;
    d->max_exact = x->max_exact;
    ST_RET(st_buf_append(&d->min, x->min.data, x->min.len));
    return st_buf_append(&d->max, x->max.data, x->max.len);
}

/* Merge the page bound x into column c's chunk statistics and, for the key column (the only one
 * with a ColumnIndex, see flush_row_group), record it. */
static int
add_page_bound(colstate *c, const bound *x, int is_bytes, int record)
{
    if (record)
        ST_RET(record_page_bound(c, x));
    bound *ch = &c->chunk;
    ch->null_count += x->null_count;
    if (!x->has)
        return STRATA_OK;
    int lt = !ch->has || bound_cmp(&x->min, &ch->min, is_bytes) < 0;
    int gt = !ch->has || bound_cmp(&x->max, &ch->max, is_bytes) > 0;
    if (lt) {
        ST_RET(set_bytes(&ch->min, x->min.data, x->min.len));
        ch->min_exact = x->min_exact;
    }
    if (gt) {
        ST_RET(set_bytes(&ch->max, x->max.data, x->max.len));
        ch->max_exact = x->max_exact;
    }
    ch->has = 1;
    return STRATA_OK;
}

static void
bound_to_stats(const bound *x, st_pq_stats *s)
{
    memset(s, 0, sizeof(*s));
    s->has_null_count = 1;
    s->null_count = x->null_count;
    if (x->has) {
        s->has_min = s->has_max = 1;
        s->min = (st_pq_bytes){x->min.data, (uint32_t)x->min.len};
        s->max = (st_pq_bytes){x->max.data, (uint32_t)x->max.len};
        s->min_exact = (unsigned)x->min_exact;
        s->max_exact = (unsigned)x->max_exact;
    }
}

/* ---- pages ---------------------------------------------------------------------------------- */

/*
 * The codec of column c. seqno and kind pages are bit-packed integers that general-purpose
 * compression does not shrink (it grew them in measurements), so they are stored UNCOMPRESSED
 * whatever the table's codec: a point lookup then decompresses two pages, not four.
 */
static int
col_codec(const st_sst_builder *b, int c)
{
    if (c == ST_SST_COL_KEY)
        return b->key_codec >= 0 ? b->key_codec : b->codec;
    return c == ST_SST_COL_VALUE ? b->codec : ST_PQ_UNCOMPRESSED;
}

/*
 * Key pages are DELTA_BYTE_ARRAY: shared prefixes are already gone, and what is left (random
 * suffixes, counters) often does not compress. The first key page of each row group decides:
 * when the codec saves less than 1/8 of it, the row group's key chunk is stored UNCOMPRESSED,
 * so seeks and lookups, which decode key pages in every sorted run, skip a useless
 * decompression (and its pass over the bytes). Parquet sets the codec per column chunk, so
 * readers need nothing special.
 */
static int
decide_key_codec(st_sst_builder *b)
{
    if (b->key_codec >= 0)
        return STRATA_OK;
    b->key_codec = b->codec;
    if (b->codec == ST_PQ_UNCOMPRESSED || b->payload.len < 64)
        return STRATA_OK;
    st_buf_clear(&b->probe);
    ST_RET(st_pq_compress(&b->comp, b->payload.data, b->payload.len, &b->probe));
    if (b->probe.len > b->payload.len - b->payload.len / 8)
        b->key_codec = ST_PQ_UNCOMPRESSED;
    return STRATA_OK;
}

/* Append the value pages gathered in vout. */
static int
flush_values(st_sst_builder *b)
{
    if (b->vout.len)
        ST_RET(out_append(b, b->vout.data, b->vout.len));
    st_buf_clear(&b->vout);
    return STRATA_OK;
}

static int
emit_page(st_sst_builder *b, int c, int encoding, int32_t nvals, size_t first_row, const bound *x,
          int is_bytes)
{
    colstate *cs = &b->col[c];
    st_pq_page_header h;
    memset(&h, 0, sizeof(h));
    h.type = ST_PQ_DATA_PAGE;
    h.num_values = nvals;
    h.encoding = encoding;
    /* no statistics in the page header: the key's ColumnIndex holds its pages' bounds, and
     * strata keeps no per-page bounds of the other columns (flush_row_group) */
    /* The value chunk, most of a row group's bytes, goes to the file page by page: a row group
     * writes it first, then the other chunks, which are held until the row group ends (a
     * chunk's pages must be contiguous). Holding the value chunk too took up to a row group's
     * compressed values per builder (~9 MB at 16 MiB row groups), grown by doubling. */
    int streamed = c == ST_SST_COL_VALUE;
    st_buf *out = streamed ? &b->vout : &cs->pages;
    st_pq_page_location loc;
    loc.offset = streamed ? (int64_t)(b->off + b->vout.len) : (int64_t)cs->pages.len;
    loc.first_row = (int64_t)first_row;
    size_t hlen = 0, before = out->len;
    if (c == ST_SST_COL_KEY)
        ST_RET(decide_key_codec(b));
    ST_RET(st_pq_page_frame(col_codec(b, c) == ST_PQ_UNCOMPRESSED ? &b->plain : &b->comp, &h,
                            b->payload.data, b->payload.len, &b->scratch, out, &hlen));
    loc.compressed_size = (int32_t)(out->len - before);
    if (streamed) {
        if (cs->locs.len == 0)
            cs->start = loc.offset;
        cs->bytes += loc.compressed_size;
        if (out->len >= VALUE_OUT)
            ST_RET(flush_values(b));
    }
    cs->uncompressed += (int64_t)(hlen + b->payload.len);
    ST_RET(st_buf_append(&cs->locs, &loc, sizeof(loc)));
    return add_page_bound(cs, x, is_bytes, c == ST_SST_COL_KEY);
}

/* An integer page of `rows` rows from row `first` of the row group: vals, or rows copies of cval
 * when vals is NULL. */
static int
int_page(st_sst_builder *b, int c, const int64_t *vals, int64_t cval, size_t rows, size_t first,
         int64_t mn, int64_t mx)
{
    bound x;
    memset(&x, 0, sizeof(x));
    uint8_t tmp[8];
    size_t n;
    int rc;
    st_buf_clear(&b->payload);
    if (vals)
        ST_ERR(st_pq_dbp_encode(&b->payload, vals, rows, c == ST_SST_COL_KIND));
    else
        ST_ERR(st_pq_dbp_encode_const(&b->payload, cval, rows, c == ST_SST_COL_KIND));
    x.has = 1;
    x.min_exact = x.max_exact = 1;
    int_bytes(c, mn, tmp, &n);
    ST_ERR(st_buf_append(&x.min, tmp, n));
    int_bytes(c, mx, tmp, &n);
    ST_ERR(st_buf_append(&x.max, tmp, n));
    rc = emit_page(b, c, ST_PQ_DELTA_BINARY_PACKED, (int32_t)rows, first, &x, 0);
err:
    bound_free(&x);
    return rc;
}

/*
 * The seqno or kind page of the open page's rows (values vals, bounds mn..mx). While every row
 * of the row group holds one value, no page is written: flush_row_group then writes the chunk
 * as one page, which readers never need to read (the chunk statistics give every row's value;
 * doc/format_sst.md "Constant columns"). The first page that differs writes the pages held
 * back, cut at the key column's rows, then itself.
 */
static int
int_column_page(st_sst_builder *b, int c, const st_buf *vals, int64_t mn, int64_t mx)
{
    colstate *cs = &b->col[c];
    if (cs->cstate != CONST_BROKEN && mn == mx && (cs->cstate == CONST_NONE || mn == cs->cval)) {
        cs->cstate = CONST_PENDING;
        cs->cval = mn;
        return STRATA_OK;
    }
    if (cs->cstate == CONST_PENDING) {
        /* the key column has this page's location already (flush_page writes it first) */
        const st_pq_page_location *kl = (const void *)b->col[ST_SST_COL_KEY].locs.data;
        size_t nk = b->col[ST_SST_COL_KEY].locs.len / sizeof(*kl);
        for (size_t i = 0; i + 1 < nk; i++)
            ST_RET(int_page(b, c, NULL, cs->cval, (size_t)(kl[i + 1].first_row - kl[i].first_row),
                            (size_t)kl[i].first_row, cs->cval, cs->cval));
    }
    cs->cstate = CONST_BROKEN;
    return int_page(b, c, (const int64_t *)(const void *)vals->data, 0, b->page_rows, b->rg_rows,
                    mn, mx);
}

static int
flush_page(st_sst_builder *b)
{
    if (b->page_rows == 0)
        return STRATA_OK;
    int rc;
    bound x;
    memset(&x, 0, sizeof(x));
    /* key: DELTA_BYTE_ARRAY = DBP(prefix lengths) DBP(suffix lengths) suffixes */
    st_buf_clear(&b->payload);
    ST_ERR(st_pq_dbp_encode(&b->payload, (const int64_t *)(const void *)b->kprefix.data,
                            b->page_rows, 1));
    ST_ERR(st_pq_dbp_encode(&b->payload, (const int64_t *)(const void *)b->ksuflen.data,
                            b->page_rows, 1));
    ST_ERR(st_buf_append(&b->payload, b->ksuffix.data, b->ksuffix.len));
    x.has = 1;
    x.min_exact = x.max_exact = 1;
    ST_ERR(st_buf_append(&x.min, b->pfirst.data, b->pfirst.len));
    ST_ERR(st_buf_append(&x.max, b->prevkey.data, b->prevkey.len));
    ST_ERR(emit_page(b, ST_SST_COL_KEY, ST_PQ_DELTA_BYTE_ARRAY, (int32_t)b->page_rows, b->rg_rows,
                     &x, 1));

    /* value: v1 page = u32 len + RLE def levels + PLAIN values */
    st_buf_clear(&b->payload);
    ST_ERR(st_buf_put_fixed32(&b->payload, 0));
    ST_ERR(st_pq_rle_encode(&b->payload, (const uint32_t *)(const void *)b->defs.data, b->page_rows,
                            1));
    st_put_fixed32(b->payload.data, (uint32_t)(b->payload.len - 4));
    ST_ERR(st_buf_append(&b->payload, b->vals.data, b->vals.len));
    bound_free(&x);
    memset(&x, 0, sizeof(x));
    x.null_count = b->page_nulls;
    x.null_page = (size_t)b->page_nulls == b->page_rows;
    if (b->vhas) {
        x.has = 1;
        x.min_exact = b->vmin.len <= ST_SST_STAT_SHORT;
        ST_ERR(st_buf_append(&x.min, b->vmin.data,
                             b->vmin.len < ST_SST_STAT_SHORT ? b->vmin.len : ST_SST_STAT_SHORT));
        int t = trunc_max(b->vmax.data, b->vmax.len, &x.max, &x.max_exact);
        if (t < 0) {
            rc = st_err(STRATA_NOMEM, "sst builder");
            goto err;
        }
        if (t == 0) {
            /* No short upper bound exists: the chunk statistics get no max. */
            b->col[ST_SST_COL_VALUE].unbounded = 1;
            x.has = 0;
        }
    }
    ST_ERR(emit_page(b, ST_SST_COL_VALUE, ST_PQ_PLAIN, (int32_t)b->page_rows, b->rg_rows, &x, 1));
    ST_ERR(int_column_page(b, ST_SST_COL_SEQNO, &b->seqs, b->smin, b->smax));
    ST_ERR(int_column_page(b, ST_SST_COL_KIND, &b->kinds, b->kmin, b->kmax));

    b->rg_rows += b->page_rows;
    b->page_rows = b->page_kbytes = b->page_vbytes = 0;
    b->page_nulls = 0;
    b->vhas = 0;
    {
        st_buf *clr[] = {&b->kprefix, &b->ksuflen, &b->ksuffix, &b->prevkey, &b->vals,
                         &b->defs,    &b->seqs,    &b->kinds,   &b->pfirst};
        for (size_t i = 0; i < sizeof(clr) / sizeof(clr[0]); i++)
            st_buf_clear(clr[i]);
    }
err:
    bound_free(&x);
    return rc;
}

/* ---- row groups ----------------------------------------------------------------------------- */

static int
encode_column_index(const colstate *cs, int c, st_buf *out)
{
    st_pq_column_index ci;
    memset(&ci, 0, sizeof(ci));
    size_t n = cs->npb;
    int rc = STRATA_OK, asc = 1;
    const bound *prev = NULL;
    ci.npages = (uint32_t)n;
    ci.null_pages = st_calloc(n ? n : 1, 1);
    ci.mins = st_calloc(n ? n : 1, sizeof(st_pq_bytes));
    ci.maxs = st_calloc(n ? n : 1, sizeof(st_pq_bytes));
    ci.null_counts = st_calloc(n ? n : 1, sizeof(int64_t));
    if (!ci.null_pages || !ci.mins || !ci.maxs || !ci.null_counts) {
        rc = st_err(STRATA_NOMEM, "sst column index");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        const bound *x = &cs->pb[i];
        ci.null_pages[i] = (uint8_t)x->null_page;
        ci.null_counts[i] = x->null_count;
        if (x->has) {
            ci.mins[i] = (st_pq_bytes){x->min.data, (uint32_t)x->min.len};
            ci.maxs[i] = (st_pq_bytes){x->max.data, (uint32_t)x->max.len};
            if (prev) {
                int isb = c == ST_SST_COL_KEY || c == ST_SST_COL_VALUE;
                asc &= bound_cmp(&prev->min, &x->min, isb) <= 0 &&
                       bound_cmp(&prev->max, &x->max, isb) <= 0;
            }
            prev = x;
        }
    }
    ci.boundary_order = asc ? ST_PQ_ASCENDING : ST_PQ_UNORDERED;
    rc = st_pq_encode_column_index(out, &ci);
out:
    st_free(ci.null_pages);
    st_free(ci.mins);
    st_free(ci.maxs);
    st_free(ci.null_counts);
    return rc;
}

static const int col_types[ST_SST_NCOLS] = {ST_PQ_BYTE_ARRAY, ST_PQ_BYTE_ARRAY, ST_PQ_INT64,
                                            ST_PQ_INT32};

static int
flush_row_group(st_sst_builder *b)
{
    ST_RET(flush_page(b));
    if (b->rg_rows == 0)
        return STRATA_OK;
    for (int c = ST_SST_COL_SEQNO; c <= ST_SST_COL_KIND; c++) {
        colstate *cs = &b->col[c];
        if (cs->cstate == CONST_PENDING)
            ST_RET(int_page(b, c, NULL, cs->cval, b->rg_rows, 0, cs->cval, cs->cval));
    }
    if (b->nrgs == b->caprgs) {
        size_t nc = b->caprgs ? b->caprgs * 2 : 8;
        rginfo *np = st_realloc(b->rgs, nc * sizeof(*np));
        if (!np)
            return st_err(STRATA_NOMEM, "sst row groups");
        b->rgs = np;
        b->caprgs = nc;
    }
    rginfo *ri = &b->rgs[b->nrgs++];
    memset(ri, 0, sizeof(*ri));
    static const int encs[ST_SST_NCOLS] = {ST_PQ_DELTA_BYTE_ARRAY, ST_PQ_PLAIN,
                                           ST_PQ_DELTA_BINARY_PACKED, ST_PQ_DELTA_BINARY_PACKED};
    /* the value chunk is already written (emit_page): the row group starts with it */
    ST_RET(flush_values(b));
    int64_t rg_start = b->col[ST_SST_COL_VALUE].start, total_c = 0, total_u = 0;
    /* Statistics bytes: copy all chunk bounds into one buffer, then point into it. */
    size_t statlen = 0;
    for (int c = 0; c < ST_SST_NCOLS; c++)
        statlen += b->col[c].chunk.min.len + b->col[c].chunk.max.len;
    ST_RET(st_buf_reserve(&ri->stats, statlen + 1));
    for (int c = 0; c < ST_SST_NCOLS; c++) {
        colstate *cs = &b->col[c];
        st_pq_column_chunk *cc = &ri->cols[c];
        int streamed = c == ST_SST_COL_VALUE;
        int64_t start = streamed ? cs->start : (int64_t)b->off;
        if (!streamed) {
            ST_RET(out_append(b, cs->pages.data, cs->pages.len));
            cs->bytes = (int64_t)cs->pages.len;
        }
        size_t np = cs->locs.len / sizeof(st_pq_page_location);
        ri->oi[c].pages = st_malloc((np ? np : 1) * sizeof(st_pq_page_location));
        if (!ri->oi[c].pages)
            return st_err(STRATA_NOMEM, "sst offset index");
        memcpy(ri->oi[c].pages, cs->locs.data, cs->locs.len);
        ri->oi[c].npages = (uint32_t)np;
        for (size_t i = 0; i < np && !streamed; i++)
            ri->oi[c].pages[i].offset += start;
        /* A ColumnIndex for the key column only: the reader searches its page maxima, and SQL
         * engines prune pages by key ranges. strata never reads per-page bounds of the value,
         * seqno and kind columns (values are opaque to it; a seqno or kind page's bounds span
         * whatever keys the page holds), and they were 6% of a compacted table with 4 KiB
         * pages (doc/format_sst.md). Their chunk statistics stay. */
        if (c == ST_SST_COL_KEY)
            ST_RET(encode_column_index(cs, c, &ri->ci[c]));
        st_pq_column_meta *m = &cc->meta;
        m->type = col_types[c];
        m->codec = col_codec(b, c);
        m->encodings = (1u << encs[c]) | (1u << ST_PQ_RLE);
        m->path = (st_pq_bytes){(const uint8_t *)st_sst_col_names[c],
                                (uint32_t)strlen(st_sst_col_names[c])};
        m->num_values = (int64_t)b->rg_rows;
        m->total_uncompressed_size = cs->uncompressed;
        m->total_compressed_size = cs->bytes;
        m->data_page_offset = start;
        m->dictionary_page_offset = -1;
        m->bloom_offset = -1;
        m->has_stats = 1;
        bound ch = cs->chunk;
        if (c == ST_SST_COL_VALUE && cs->unbounded)
            ch.has = 0;
        bound_to_stats(&ch, &m->stats);
        if (ch.has) {
            uint8_t *p = ri->stats.data + ri->stats.len;
            if (ch.min.len)
                memcpy(p, ch.min.data, ch.min.len);
            if (ch.max.len)
                memcpy(p + ch.min.len, ch.max.data, ch.max.len);
            m->stats.min.p = p;
            m->stats.max.p = p + ch.min.len;
            ri->stats.len += ch.min.len + ch.max.len;
        }
        total_c += m->total_compressed_size;
        total_u += m->total_uncompressed_size;
    }
    ri->rg.ncolumns = ST_SST_NCOLS;
    ri->rg.columns = ri->cols;
    ri->rg.num_rows = (int64_t)b->rg_rows;
    ri->rg.total_byte_size = total_u;
    ri->rg.total_compressed_size = total_c;
    ri->rg.file_offset = rg_start;
    ri->rg.ordinal = (int)(b->nrgs - 1);
    /* bloom filter over the distinct keys of this row group (none for range tombstones: point
     * lookups never read their row group) */
    size_t nh = b->rghashes.len / 8;
    if (b->opt.bloom_bits_per_key > 0 && !b->rdel_phase) {
        ri->bloom_len = st_pq_bloom_bytes(nh, b->opt.bloom_bits_per_key);
        if (!(ri->bloom = st_calloc(1, ri->bloom_len)))
            return st_err(STRATA_NOMEM, "sst bloom filter");
        for (size_t i = 0; i < nh; i++)
            st_pq_bloom_insert(ri->bloom, ri->bloom_len, (uint64_t)get_i64(&b->rghashes, i));
    }
    for (int c = 0; c < ST_SST_NCOLS; c++)
        colstate_free(&b->col[c]);
    b->rg_rows = b->rg_bytes = 0;
    b->key_codec = -1;
    st_buf_clear(&b->rghashes);
    return STRATA_OK;
}

/* ---- add ------------------------------------------------------------------------------------ */

static int
value_bound_update(st_sst_builder *b, const uint8_t *v, size_t vlen)
{
    size_t n = vlen < ST_SST_STAT_TRUNC + 1 ? vlen : ST_SST_STAT_TRUNC + 1;
    if (!b->vhas) {
        b->vhas = 1;
        ST_RET(set_bytes(&b->vmin, v, n));
        return set_bytes(&b->vmax, v, n);
    }
    if (st_bytes_cmp(v, n, b->vmin.data, b->vmin.len) < 0)
        ST_RET(set_bytes(&b->vmin, v, n));
    if (st_bytes_cmp(v, n, b->vmax.data, b->vmax.len) > 0)
        ST_RET(set_bytes(&b->vmax, v, n));
    return STRATA_OK;
}

static int put_row(st_sst_builder *b, const uint8_t *key, size_t klen, uint64_t seq, int kind,
                   const uint8_t *val, size_t vlen, int newkey);

static int
add_entry(st_sst_builder *b, const uint8_t *key, size_t klen, uint64_t seq, int kind,
          const uint8_t *val, size_t vlen)
{
    if (klen == 0 || klen > STRATA_MAX_KEY_SIZE ||
        (kind != ST_KIND_PUT && kind != ST_KIND_DELETE) || seq > ST_SEQ_MAX ||
        vlen > STRATA_MAX_VALUE_SIZE)
        return st_err(STRATA_INVALID, "sst builder %s: bad entry (klen %zu, kind %d)", b->path,
                      klen, kind);
    int newkey = 1;
    if (b->entries && b->rdel_phase)
        return st_err(STRATA_INTERNAL, "sst builder %s: entry added after finish", b->path);
    if (b->entries) {
        int c = st_entry_cmp(key, klen, seq, b->lastkey.data, b->lastkey.len, b->lastseq);
        if (c <= 0)
            return st_err(STRATA_INVALID, "sst builder %s: entries out of order at entry %llu",
                          b->path, (unsigned long long)b->entries);
        newkey = st_bytes_cmp(key, klen, b->lastkey.data, b->lastkey.len) != 0;
    }
    if (kind == ST_KIND_DELETE)
        vlen = 0;
    if (newkey && b->rg_rows + b->page_rows > 0 && b->rg_bytes >= b->opt.row_group_size)
        ST_RET(flush_row_group(b));
    return put_row(b, key, klen, seq, kind, val, vlen, newkey);
}

/* Append one row to the open page and row group (order and limits already checked). */
static int
put_row(st_sst_builder *b, const uint8_t *key, size_t klen, uint64_t seq, int kind,
        const uint8_t *val, size_t vlen, int newkey)
{
    /* All four columns are cut at the same rows once the page's row bytes reach page_size. */
    if (b->page_rows > 0 &&
        (b->page_kbytes + b->page_vbytes + b->page_rows * ST_SST_ROW_EXTRA >= b->opt.page_size ||
         b->page_vbytes + vlen > (size_t)INT32_MAX / 2))
        ST_RET(flush_page(b));

    /* key (prefix against the previous key of this page) */
    size_t pre = 0;
    if (b->page_rows) {
        size_t m = klen < b->prevkey.len ? klen : b->prevkey.len;
        while (pre < m && key[pre] == b->prevkey.data[pre])
            pre++;
    } else {
        ST_RET(set_bytes(&b->pfirst, key, klen));
    }
    ST_RET(put_i64(&b->kprefix, (int64_t)pre));
    ST_RET(put_i64(&b->ksuflen, (int64_t)(klen - pre)));
    ST_RET(st_buf_append(&b->ksuffix, key + pre, klen - pre));
    ST_RET(set_bytes(&b->prevkey, key, klen));
    /* value (a range tombstone's is its end key) */
    uint32_t def = kind != ST_KIND_DELETE;
    ST_RET(st_buf_append(&b->defs, &def, sizeof(def)));
    if (def) {
        ST_RET(st_buf_put_fixed32(&b->vals, (uint32_t)vlen));
        ST_RET(st_buf_append(&b->vals, val, vlen));
        ST_RET(value_bound_update(b, val, vlen));
    } else {
        b->page_nulls++;
        b->tombstones++;
    }
    ST_RET(put_i64(&b->seqs, (int64_t)seq));
    ST_RET(put_i64(&b->kinds, kind));
    if (b->page_rows == 0) {
        b->smin = b->smax = (int64_t)seq;
        b->kmin = b->kmax = kind;
    } else {
        b->smin = (int64_t)seq < b->smin ? (int64_t)seq : b->smin;
        b->smax = (int64_t)seq > b->smax ? (int64_t)seq : b->smax;
        b->kmin = kind < b->kmin ? kind : b->kmin;
        b->kmax = kind > b->kmax ? kind : b->kmax;
    }
    if (!b->rdel_phase) {
        if (newkey)
            ST_RET(put_i64(&b->rghashes, (int64_t)st_pq_bloom_hash(key, klen)));
        if (b->entries == 0)
            ST_RET(set_bytes(&b->smallest, key, klen));
        if (newkey)
            ST_RET(set_bytes(&b->lastkey, key, klen));
        b->lastseq = seq;
    } else {
        b->range_rows++;
    }
    b->page_rows++;
    b->page_kbytes += klen + 4;
    b->page_vbytes += vlen + 4;
    b->rg_bytes += klen + vlen + 16;
    b->entries++;
    b->min_seq = seq < b->min_seq ? seq : b->min_seq;
    b->max_seq = seq > b->max_seq ? seq : b->max_seq;
    return STRATA_OK;
}

void
st_sst_builder_add(st_sst_builder *b, const uint8_t *key, size_t klen, uint64_t seq, int kind,
                   const uint8_t *val, size_t vlen)
{
    if (b->rc != STRATA_OK)
        return;
    int rc = add_entry(b, key, klen, seq, kind, val, vlen);
    if (rc != STRATA_OK)
        fail(b, rc);
}

int
st_sst_builder_add_range_del(st_sst_builder *b, const uint8_t *begin, size_t blen,
                             const uint8_t *end, size_t elen, uint64_t seq)
{
    if (b->rc != STRATA_OK)
        return b->rc;
    if (blen == 0 || elen == 0 || blen > STRATA_MAX_KEY_SIZE || elen > STRATA_MAX_KEY_SIZE ||
        seq > ST_SEQ_MAX || st_bytes_cmp(begin, blen, end, elen) >= 0)
        return fail(b, st_err(STRATA_INVALID, "sst builder %s: bad range tombstone (seq %llu)",
                              b->path, (unsigned long long)seq));
    if (b->nrd == b->caprd) {
        size_t nc = b->caprd ? 2 * b->caprd : 8;
        st_rdel *nv = st_realloc(b->rd, nc * sizeof(*nv));
        if (!nv)
            return fail(b, st_err(STRATA_NOMEM, "sst range tombstones"));
        b->rd = nv;
        b->caprd = nc;
    }
    uint8_t *k = st_malloc(blen + elen);
    if (!k)
        return fail(b, st_err(STRATA_NOMEM, "sst range tombstones"));
    memcpy(k, begin, blen);
    memcpy(k + blen, end, elen);
    b->rd[b->nrd++] = (st_rdel){k, blen, k + blen, elen, seq};
    return STRATA_OK;
}

static int
rd_cmp(const void *x, const void *y)
{
    const st_rdel *a = x, *c = y;
    return st_entry_cmp(a->begin, a->blen, a->seq, c->begin, c->blen, c->seq);
}

/* The range tombstones as the last row group (doc/format_sst.md), after every point row; the
 * table's key bounds grow to cover them. */
static int
write_range_dels(st_sst_builder *b)
{
    if (b->nrd == 0)
        return STRATA_OK;
    qsort(b->rd, b->nrd, sizeof(*b->rd), rd_cmp);
    for (size_t i = 1; i < b->nrd; i++)
        if (rd_cmp(&b->rd[i - 1], &b->rd[i]) == 0)
            return st_err(STRATA_INVALID, "sst builder %s: two range tombstones at one seqno",
                          b->path);
    ST_RET(flush_row_group(b));
    int had_points = b->entries > 0;
    b->rdel_phase = 1;
    for (size_t i = 0; i < b->nrd; i++) {
        const st_rdel *t = &b->rd[i];
        ST_RET(put_row(b, t->begin, t->blen, t->seq, ST_KIND_RANGE_DELETE, t->end, t->elen, 1));
        if (!had_points && i == 0)
            ST_RET(set_bytes(&b->smallest, t->begin, t->blen));
        else if (st_bytes_cmp(t->begin, t->blen, b->smallest.data, b->smallest.len) < 0)
            ST_RET(set_bytes(&b->smallest, t->begin, t->blen));
        if ((!had_points && i == 0) ||
            st_bytes_cmp(t->end, t->elen, b->lastkey.data, b->lastkey.len) > 0)
            ST_RET(set_bytes(&b->lastkey, t->end, t->elen));
    }
    return flush_row_group(b);
}

/* ---- finish --------------------------------------------------------------------------------- */

static int
write_bytes(st_sst_builder *b, const void *p, size_t n)
{
    ST_RET(out_append(b, p, n));
    b->index_crc = st_crc32c_extend(b->index_crc, p, n);
    return STRATA_OK;
}

static int
write_buf(st_sst_builder *b, const st_buf *x)
{
    return write_bytes(b, x->data, x->len);
}

/* The footer pairs: strata.* first, then the caller's. Strings live in `strings`. */
static int
build_kv(st_sst_builder *b, uint64_t created, st_pq_kv **out, size_t *nout, char **strings)
{
    enum { NK = 11 };
    size_t hexlen = 2 * (b->smallest.len + b->lastkey.len) + 2;
    char *s = st_malloc(hexlen + NK * 24);
    st_pq_kv *kv = st_calloc(NK + b->nprops, sizeof(*kv));
    if (!s || !kv) {
        st_free(s);
        st_free(kv);
        return st_err(STRATA_NOMEM, "sst footer");
    }
    const char *keys[NK] = {ST_SST_KV_VERSION,    ST_SST_KV_SMALLEST,        ST_SST_KV_LARGEST,
                            ST_SST_KV_MIN_SEQ,    ST_SST_KV_MAX_SEQ,         ST_SST_KV_ENTRIES,
                            ST_SST_KV_TOMBSTONES, ST_SST_KV_CREATED,         ST_SST_KV_INDEX_OFF,
                            ST_SST_KV_INDEX_CRC,  ST_SST_KV_RANGE_TOMBSTONES};
    /* Tables without range tombstones keep version 1 and the footer of earlier releases, so
     * that older readers still open them; a table holding some is version 2 (older readers
     * refuse it with NOTSUP instead of misreading its last row group). */
    size_t nk = b->range_rows ? NK : NK - 1;
    uint64_t nums[NK] = {b->range_rows ? ST_SST_FORMAT_VERSION_RANGE : ST_SST_FORMAT_VERSION,
                         0,
                         0,
                         b->entries ? b->min_seq : 0,
                         b->max_seq,
                         b->entries,
                         b->tombstones,
                         created,
                         b->index_off,
                         b->index_crc,
                         b->range_rows};
    char *p = s;
    for (size_t i = 0; i < nk; i++) {
        char *v = p;
        if (i == 1)
            st_sst_hex(b->smallest.data, b->entries ? b->smallest.len : 0, p);
        else if (i == 2)
            st_sst_hex(b->lastkey.data, b->entries ? b->lastkey.len : 0, p);
        else
            snprintf(p, 24, "%" PRIu64, nums[i]);
        p += strlen(p) + 1;
        kv[i].key = (st_pq_bytes){(const uint8_t *)keys[i], (uint32_t)strlen(keys[i])};
        kv[i].value = (st_pq_bytes){(const uint8_t *)v, (uint32_t)strlen(v)};
        kv[i].has_value = 1;
    }
    for (size_t i = 0; i < b->nprops; i++)
        kv[nk + i] = b->props[i];
    *out = kv;
    *nout = nk + b->nprops;
    *strings = s;
    return STRATA_OK;
}

static int
write_indexes(st_sst_builder *b)
{
    int rc = STRATA_OK;
    st_buf x = {0};
    b->index_off = b->off;
    b->index_crc = 0;
    /* bloom filters */
    for (size_t g = 0; g < b->nrgs; g++) {
        rginfo *ri = &b->rgs[g];
        if (!ri->bloom)
            continue;
        st_buf_clear(&x);
        ST_ERR(st_pq_encode_bloom_header(&x, (int32_t)ri->bloom_len));
        ri->cols[ST_SST_COL_KEY].meta.bloom_offset = (int64_t)b->off;
        ri->cols[ST_SST_COL_KEY].meta.bloom_length = (int32_t)(x.len + ri->bloom_len);
        ST_ERR(write_buf(b, &x));
        ST_ERR(write_bytes(b, ri->bloom, ri->bloom_len));
    }
    /* column indexes, then offset indexes */
    for (size_t g = 0; g < b->nrgs; g++) {
        for (int c = 0; c < ST_SST_NCOLS; c++) {
            st_pq_column_chunk *cc = &b->rgs[g].cols[c];
            cc->column_index_offset = -1;
            if (b->rgs[g].ci[c].len == 0)
                continue;
            cc->column_index_offset = (int64_t)b->off;
            cc->column_index_length = (int32_t)b->rgs[g].ci[c].len;
            ST_ERR(write_buf(b, &b->rgs[g].ci[c]));
        }
    }
    for (size_t g = 0; g < b->nrgs; g++) {
        for (int c = 0; c < ST_SST_NCOLS; c++) {
            st_pq_column_chunk *cc = &b->rgs[g].cols[c];
            st_buf_clear(&x);
            ST_ERR(st_pq_encode_offset_index(&x, &b->rgs[g].oi[c]));
            cc->offset_index_offset = (int64_t)b->off;
            cc->offset_index_length = (int32_t)x.len;
            ST_ERR(write_buf(b, &x));
        }
    }
err:
    st_buf_free(&x);
    return rc;
}

static int
write_footer(st_sst_builder *b, uint64_t created)
{
    static const char created_by[] = "strata version " STRATA_VERSION_STRING " (build strata)";
    static st_pq_sorting_column sorting = {0, 0, 0};
    uint8_t orders[ST_SST_NCOLS] = {1, 1, 1, 1};
    st_pq_schema_elem schema[1 + ST_SST_NCOLS];
    st_buf x = {0};
    st_pq_kv *kv = NULL;
    char *strings = NULL;
    size_t nkv = 0, flen;
    st_pq_row_group *rgs = st_calloc(b->nrgs ? b->nrgs : 1, sizeof(*rgs));
    st_pq_file_meta fm;
    int rc;
    if (!rgs)
        return st_err(STRATA_NOMEM, "sst footer");
    schema[0] = (st_pq_schema_elem){-1, -1, {(const uint8_t *)"schema", 6}, ST_SST_NCOLS, -1, -1};
    for (int c = 0; c < ST_SST_NCOLS; c++)
        schema[1 + c] = (st_pq_schema_elem){
            col_types[c],
            c == ST_SST_COL_VALUE ? ST_PQ_OPTIONAL : ST_PQ_REQUIRED,
            {(const uint8_t *)st_sst_col_names[c], (uint32_t)strlen(st_sst_col_names[c])},
            -1,
            -1,
            -1};
    for (size_t g = 0; g < b->nrgs; g++) {
        rgs[g] = b->rgs[g].rg;
        rgs[g].columns = b->rgs[g].cols;
        rgs[g].sorting = &sorting;
        rgs[g].nsorting = 1;
    }
    ST_ERR(build_kv(b, created, &kv, &nkv, &strings));
    memset(&fm, 0, sizeof(fm));
    fm.version = 1;
    fm.schema = schema;
    fm.nschema = 1 + ST_SST_NCOLS;
    fm.num_rows = (int64_t)b->entries;
    fm.row_groups = rgs;
    fm.nrow_groups = (uint32_t)b->nrgs;
    fm.kv = kv;
    fm.nkv = (uint32_t)nkv;
    fm.created_by = (st_pq_bytes){(const uint8_t *)created_by, sizeof(created_by) - 1};
    fm.column_orders = orders;
    fm.ncolumn_orders = ST_SST_NCOLS;
    ST_ERR(st_pq_encode_file_meta(&x, &fm));
    flen = x.len;
    ST_ERR(st_buf_put_fixed32(&x, (uint32_t)flen));
    ST_ERR(st_buf_append(&x, "PAR1", 4));
    ST_ERR(write_buf(b, &x));
err:
    st_buf_free(&x);
    st_free(rgs);
    st_free(kv);
    st_free(strings);
    return rc;
}

static int
fill_meta(st_sst_builder *b, uint64_t created, st_sst_meta *m)
{
    memset(m, 0, sizeof(*m));
    m->file_size = b->off;
    m->file_crc32c = b->file_crc;
    m->has_file_crc32c = 1;
    m->entries = b->entries;
    m->tombstones = b->tombstones;
    m->range_tombstones = b->range_rows;
    m->min_seq = b->entries ? b->min_seq : 0;
    m->max_seq = b->max_seq;
    m->created_us = created;
    if (b->entries) {
        m->smallest = st_memdup(b->smallest.data, b->smallest.len);
        m->largest = st_memdup(b->lastkey.data, b->lastkey.len);
        m->smallest_len = b->smallest.len;
        m->largest_len = b->lastkey.len;
        if (!m->smallest || !m->largest)
            goto nomem;
    }
    if (b->nprops && !(m->props = st_calloc(b->nprops, sizeof(*m->props))))
        goto nomem;
    for (size_t i = 0; i < b->nprops; i++) {
        m->nprops++;
        m->props[i].key = st_strdup((const char *)b->props[i].key.p);
        m->props[i].value = st_strdup((const char *)b->props[i].value.p);
        if (!m->props[i].key || !m->props[i].value)
            goto nomem;
    }
    return STRATA_OK;
nomem:
    st_sst_meta_free(m);
    return st_err(STRATA_NOMEM, "sst meta");
}

int
st_sst_builder_finish(st_sst_builder *b, st_sst_meta *meta_out)
{
    int rc = b->rc;
    uint64_t created = st_wall_micros();
    if (meta_out)
        memset(meta_out, 0, sizeof(*meta_out));
    if (rc == STRATA_OK)
        rc = flush_row_group(b);
    if (rc == STRATA_OK)
        rc = write_range_dels(b);
    if (rc == STRATA_OK)
        rc = write_indexes(b);
    if (rc == STRATA_OK)
        rc = write_footer(b, created);
    if (rc == STRATA_OK)
        rc = st_file_sync(b->file);
    int crc = st_file_close(b->file);
    b->file = NULL;
    if (rc == STRATA_OK)
        rc = crc;
    if (rc == STRATA_OK)
        rc = b->env->rename(b->env, b->tmp, b->path);
    if (rc != STRATA_OK) {
        b->env->remove(b->env, b->tmp);
    } else if (meta_out) {
        rc = fill_meta(b, created, meta_out);
    }
    builder_free(b);
    return rc;
}

void
st_sst_builder_abandon(st_sst_builder *b)
{
    if (!b)
        return;
    st_file_close(b->file);
    b->env->remove(b->env, b->tmp);
    builder_free(b);
}
