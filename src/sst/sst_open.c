/* SPDX-License-Identifier: Apache-2.0 */
/* sst_open.c -- opening a table: footer, schema, page index, bloom filters, table meta. */
#include "parquet/codec.h"
#include "sst/sst_internal.h"
#include "util/alloc.h"
#include "util/coding.h"
#include "util/crc32c.h"

#include <stdlib.h>
#include <string.h>

static int
corrupt(st_sst_reader *r, const char *what, long long off)
{
    return st_err(STRATA_CORRUPT, "%s: %s (offset %lld)", r->path, what, off);
}

/* [off, off + n) lies inside the file after its magic, else CORRUPT naming what. */
static int
check_region(st_sst_reader *r, int64_t off, int64_t n, const char *what)
{
    if (off < 4 || n <= 0 || (uint64_t)off + (uint64_t)n > r->file_size)
        return corrupt(r, what, off);
    return STRATA_OK;
}

/* Read [off, off + n) into arena memory. */
static int
read_region(st_sst_reader *r, int64_t off, int64_t n, const char *what, uint8_t **out)
{
    ST_RET(check_region(r, off, n, what));
    uint8_t *p = st_arena_alloc(r->arena, (size_t)n);
    if (!p)
        return st_err(STRATA_NOMEM, "%s: %s", r->path, what);
    ST_RET(st_file_read_exact(r->file, (uint64_t)off, p, (size_t)n));
    *out = p;
    return STRATA_OK;
}

/* Bytes [off, off + n) of the file, not kept: *p points into the mapping, or into *tmp, a
 * buffer they were read into (the caller frees it; NULL when mapped). */
static int
region_view(st_sst_reader *r, int64_t off, int64_t n, const char *what, const uint8_t **p,
            uint8_t **tmp)
{
    *tmp = NULL;
    ST_RET(check_region(r, off, n, what));
    if (r->map) {
        *p = r->map + off;
        return STRATA_OK;
    }
    if (!(*tmp = st_malloc((size_t)n)))
        return st_err(STRATA_NOMEM, "%s: %s", r->path, what);
    int rc = st_file_read_exact(r->file, (uint64_t)off, *tmp, (size_t)n);
    if (rc != STRATA_OK) {
        st_free(*tmp);
        *tmp = NULL;
        return rc;
    }
    *p = *tmp;
    return STRATA_OK;
}

/*
 * Decode a column chunk's OffsetIndex into the arena. Its encoded bytes are not kept: they are
 * read from the mapping, or into a buffer freed at once (they were 17% of an open table's
 * memory at 10M entries).
 */
static int
load_offset_index(st_sst_reader *r, const st_pq_column_chunk *cc, st_pq_offset_index *out)
{
    int64_t off = cc->offset_index_offset, n = cc->offset_index_length;
    const uint8_t *p = NULL;
    uint8_t *tmp = NULL;
    ST_RET(region_view(r, off, n, "offset index out of range", &p, &tmp));
    int rc = st_pq_decode_offset_index(p, (size_t)n, r->arena, r->path, (uint64_t)off, out);
    st_free(tmp);
    return rc;
}

/*
 * The key ColumnIndex of row group rg: only its page maxima are kept, copied into the arena
 * (the page search and the size estimates use nothing else). The encoded bytes, which the
 * decoded bounds pointed into, the minima and the null counts are decoded from the mapping or
 * a buffer and dropped (a compacted 1M database: what its open tables pin in the cache's budget
 * fell from 4.24 to 3.49 MB). rg->has_kci when every page has bounds.
 */
static int
load_key_index(st_sst_reader *r, const st_pq_column_chunk *kc, st_sst_rg *rg)
{
    int64_t off = kc->column_index_offset, n = kc->column_index_length;
    const uint8_t *p = NULL;
    uint8_t *tmp = NULL;
    ST_RET(region_view(r, off, n, "column index out of range", &p, &tmp));
    st_arena *a = st_arena_new((size_t)n * 4 + 4096);
    st_pq_column_index ci;
    int rc = a ? st_pq_decode_column_index(p, (size_t)n, a, r->path, (uint64_t)off, &ci)
               : st_err(STRATA_NOMEM, "%s: column index", r->path);
    if (rc == STRATA_OK && ci.npages != rg->oi[0].npages)
        rc = corrupt(r, "column index and offset index disagree", off);
    int usable = rc == STRATA_OK;
    size_t bytes = 0;
    for (uint32_t i = 0; usable && i < ci.npages; i++) {
        usable = !ci.null_pages[i];
        bytes += ci.maxs[i].len;
    }
    if (usable) {
        st_pq_bytes *maxs = st_arena_alloc(r->arena, (ci.npages ? ci.npages : 1) * sizeof(*maxs));
        uint8_t *at = st_arena_alloc(r->arena, bytes ? bytes : 1);
        if (!maxs || !at) {
            rc = st_err(STRATA_NOMEM, "open %s", r->path);
        } else {
            for (uint32_t i = 0; i < ci.npages; i++) {
                if (ci.maxs[i].len)
                    memcpy(at, ci.maxs[i].p, ci.maxs[i].len);
                maxs[i] = (st_pq_bytes){at, ci.maxs[i].len};
                at += ci.maxs[i].len;
            }
            memset(&rg->kci, 0, sizeof(rg->kci));
            rg->kci.maxs = maxs;
            rg->kci.npages = ci.npages;
            rg->kci.boundary_order = ci.boundary_order;
            rg->has_kci = 1;
        }
    }
    st_arena_free(a);
    st_free(tmp);
    return rc;
}

/* Map strata's four columns to leaves of the file's schema. */
static int
map_schema(st_sst_reader *r, int leaf_of[ST_SST_NCOLS], int max_def[ST_SST_NCOLS])
{
    const st_pq_file_meta *fm = &r->fm;
    if (fm->nschema < 2 || fm->schema[0].num_children != (int)fm->nschema - 1)
        return st_err(STRATA_NOTSUP, "%s: not a flat Parquet schema", r->path);
    for (int c = 0; c < ST_SST_NCOLS; c++)
        leaf_of[c] = -1;
    for (uint32_t i = 1; i < fm->nschema; i++) {
        const st_pq_schema_elem *s = &fm->schema[i];
        if (s->num_children > 0 || s->type < 0)
            return st_err(STRATA_NOTSUP, "%s: nested Parquet schema", r->path);
        for (int c = 0; c < ST_SST_NCOLS; c++)
            if (s->name.len == strlen(st_sst_col_names[c]) &&
                memcmp(s->name.p, st_sst_col_names[c], s->name.len) == 0)
                leaf_of[c] = (int)i - 1;
    }
    static const int want[ST_SST_NCOLS] = {ST_PQ_BYTE_ARRAY, ST_PQ_BYTE_ARRAY, ST_PQ_INT64, -1};
    for (int c = 0; c < ST_SST_NCOLS; c++) {
        if (leaf_of[c] < 0)
            return st_err(STRATA_NOTSUP, "%s: no column '%s'", r->path, st_sst_col_names[c]);
        const st_pq_schema_elem *s = &fm->schema[leaf_of[c] + 1];
        int ok =
            want[c] >= 0 ? s->type == want[c] : (s->type == ST_PQ_INT32 || s->type == ST_PQ_INT64);
        if (!ok || s->repetition == ST_PQ_REPEATED)
            return st_err(STRATA_NOTSUP, "%s: column '%s' has an unsupported type", r->path,
                          st_sst_col_names[c]);
        max_def[c] = s->repetition == ST_PQ_OPTIONAL ? 1 : 0;
    }
    return STRATA_OK;
}

/* Build page locations for a chunk without an OffsetIndex by walking its page headers. */
static int
walk_pages(st_sst_reader *r, uint32_t g, int c, int64_t start)
{
    st_sst_rg *rg = &r->rgs[g];
    size_t cap = 16, n = 0;
    st_pq_page_location *locs = st_malloc(cap * sizeof(*locs));
    int64_t off = start, rows = 0;
    uint8_t buf[4096];
    int rc = STRATA_OK;
    if (!locs)
        return st_err(STRATA_NOMEM, "%s: page walk", r->path);
    while (off < rg->chunk_end[c] && rc == STRATA_OK) {
        st_pq_page_header h;
        size_t hlen = 0, want = sizeof(buf);
        uint8_t *hb = buf, *big = NULL;
        if ((int64_t)want > rg->chunk_end[c] - off)
            want = (size_t)(rg->chunk_end[c] - off);
        for (;;) {
            rc = st_file_read_exact(r->file, (uint64_t)off, hb, want);
            if (rc == STRATA_OK)
                rc = st_pq_decode_page_header(hb, want, r->path, (uint64_t)off, &h, &hlen);
            if (rc != STRATA_CORRUPT || (int64_t)want >= rg->chunk_end[c] - off ||
                want >= (1u << 24))
                break;
            want = want * 16 < (size_t)(rg->chunk_end[c] - off) ? want * 16
                                                                : (size_t)(rg->chunk_end[c] - off);
            uint8_t *nb = st_realloc(big, want);
            if (!nb) {
                rc = st_err(STRATA_NOMEM, "%s: page walk", r->path);
                break;
            }
            hb = big = nb;
        }
        st_free(big);
        if (rc != STRATA_OK)
            break;
        int64_t total = (int64_t)hlen + h.compressed_size;
        if (total > rg->chunk_end[c] - off) {
            rc = corrupt(r, "page overruns its column chunk", off);
            break;
        }
        if (h.type == ST_PQ_DICTIONARY_PAGE) {
            if (n > 0 || (rg->dict_off[c] >= 0 && rg->dict_off[c] != off))
                rc = corrupt(r, "dictionary page after data pages", off);
            rg->dict_off[c] = off;
        } else if (h.type == ST_PQ_DATA_PAGE || h.type == ST_PQ_DATA_PAGE_V2) {
            int64_t nrows = h.type == ST_PQ_DATA_PAGE_V2 ? h.num_rows : h.num_values;
            if (nrows <= 0) {
                off += total;
                continue;
            }
            if (n == cap) {
                st_pq_page_location *nl = st_realloc(locs, 2 * cap * sizeof(*nl));
                if (!nl) {
                    rc = st_err(STRATA_NOMEM, "%s: page walk", r->path);
                    break;
                }
                locs = nl;
                cap *= 2;
            }
            locs[n++] = (st_pq_page_location){off, (int32_t)total, rows};
            rows += nrows;
        }
        off += total;
    }
    if (rc == STRATA_OK && rows != rg->num_rows)
        rc = corrupt(r, "column chunk rows differ from the row group", start);
    if (rc == STRATA_OK) {
        rg->oi[c].pages = st_arena_alloc(r->arena, (n ? n : 1) * sizeof(*locs));
        if (!rg->oi[c].pages)
            rc = st_err(STRATA_NOMEM, "%s: page walk", r->path);
        else
            memcpy(rg->oi[c].pages, locs, n * sizeof(*locs));
        rg->oi[c].npages = (uint32_t)n;
    }
    st_free(locs);
    return rc;
}

static int
check_offset_index(st_sst_reader *r, const st_sst_rg *rg, int c, int64_t start)
{
    const st_pq_offset_index *oi = &rg->oi[c];
    for (uint32_t i = 0; i < oi->npages; i++) {
        const st_pq_page_location *l = &oi->pages[i];
        if (l->offset < start || l->compressed_size <= 0 ||
            l->offset + l->compressed_size > rg->chunk_end[c] ||
            (i == 0 ? l->first_row != 0 : l->first_row <= oi->pages[i - 1].first_row) ||
            l->first_row >= rg->num_rows)
            return corrupt(r, "bad offset index entry", l->offset);
    }
    if (rg->num_rows > 0 && oi->npages == 0)
        return corrupt(r, "empty offset index", start);
    return STRATA_OK;
}

/*
 * Length of the prefix every key of row group rg starts with: the common prefix of its key
 * bounds, kept only when every page maximum of the ColumnIndex starts with it too (a foreign
 * file may truncate its statistics). Keys like db_bench's zero-padded decimals share their
 * first ten bytes, which made the page search's 8-byte prefixes all equal.
 */
static uint32_t
common_prefix(const st_sst_rg *rg)
{
    if (!rg->has_kbounds)
        return 0;
    size_t n = rg->kmin.len < rg->kmax.len ? rg->kmin.len : rg->kmax.len, s = 0;
    while (s < n && rg->kmin.p[s] == rg->kmax.p[s])
        s++;
    for (uint32_t i = 0; i < rg->kci.npages && s > 0; i++)
        if (rg->kci.maxs[i].len < s || memcmp(rg->kci.maxs[i].p, rg->kmin.p, s) != 0)
            return 0;
    return (uint32_t)s;
}

static int
load_row_group(st_sst_reader *r, uint32_t g, const int leaf_of[], const int max_def[])
{
    const st_pq_row_group *prg = &r->fm.row_groups[g];
    st_sst_rg *rg = &r->rgs[g];
    if (prg->ncolumns != r->fm.nschema - 1 || prg->num_rows < 0)
        return corrupt(r, "row group with wrong column count", (long long)g);
    rg->num_rows = prg->num_rows;
    for (int c = 0; c < ST_SST_NCOLS; c++) {
        const st_pq_column_chunk *cc = &prg->columns[leaf_of[c]];
        const st_pq_column_meta *m = &cc->meta;
        rg->cm[c] = m;
        rg->desc[c] = (st_pq_column_desc){m->type, max_def[c], m->codec, 1};
        int64_t start = m->data_page_offset;
        rg->dict_off[c] = -1;
        if (m->dictionary_page_offset > 0 && m->dictionary_page_offset < start) {
            start = m->dictionary_page_offset;
            rg->dict_off[c] = start;
        }
        if (m->type != r->fm.schema[leaf_of[c] + 1].type || m->num_values != prg->num_rows ||
            start < 4 || m->total_compressed_size < 0 ||
            (uint64_t)start + (uint64_t)m->total_compressed_size > r->file_size)
            return corrupt(r, "bad column chunk metadata", start);
        if (!st_pq_codec_readable(m->codec))
            return st_err(STRATA_NOTSUP,
                          "%s: unsupported codec %d (readable: UNCOMPRESSED, SNAPPY, ZSTD, "
                          "LZ4_RAW, LZ4)",
                          r->path, m->codec);
        rg->chunk_end[c] = start + m->total_compressed_size;
        if (cc->offset_index_offset >= 0 && cc->offset_index_length > 0) {
            ST_RET(load_offset_index(r, cc, &rg->oi[c]));
        } else {
            ST_RET(walk_pages(r, g, c, start));
        }
        ST_RET(check_offset_index(r, rg, c, start));
    }
    /* key column: statistics, ColumnIndex, bloom filter */
    const st_pq_column_chunk *kc = &prg->columns[leaf_of[ST_SST_COL_KEY]];
    const st_pq_column_meta *km = &kc->meta;
    int trusted = r->fm.column_orders && (uint32_t)leaf_of[0] < r->fm.ncolumn_orders &&
                  r->fm.column_orders[leaf_of[0]] == 1;
    if (trusted && km->has_stats && km->stats.has_min && km->stats.has_max) {
        rg->kmin = km->stats.min;
        rg->kmax = km->stats.max;
        rg->has_kbounds = 1;
    }
    if (trusted && kc->column_index_offset >= 0 && kc->column_index_length > 0) {
        ST_RET(load_key_index(r, kc, rg));
        if (rg->has_kci) {
            uint32_t n = rg->kci.npages;
            if (!(rg->kmax_pfx = st_arena_alloc(r->arena, (n ? n : 1) * sizeof(uint64_t))))
                return st_err(STRATA_NOMEM, "open %s", r->path);
            rg->pfx_skip = common_prefix(rg);
            for (uint32_t i = 0; i < n; i++)
                rg->kmax_pfx[i] = st_sst_key_prefix(rg->kci.maxs[i].p + rg->pfx_skip,
                                                    rg->kci.maxs[i].len - rg->pfx_skip);
            rg->ntop = (n + ST_SST_TOP_BLOCK - 1) / ST_SST_TOP_BLOCK;
            if (!(rg->kmax_top = st_arena_alloc(r->arena, (n ? rg->ntop : 1) * sizeof(uint64_t))))
                return st_err(STRATA_NOMEM, "open %s", r->path);
            for (uint32_t j = 0; j < rg->ntop; j++) {
                uint32_t last = (j + 1) * ST_SST_TOP_BLOCK - 1;
                rg->kmax_top[j] = rg->kmax_pfx[last < n ? last : n - 1];
            }
        }
    }
    for (int c = 0; c < ST_SST_NCOLS && r->map; c++) {
        size_t words = (rg->oi[c].npages + 63) / 64 + 1;
        if (!(rg->checked[c] = st_arena_alloc(r->arena, words * sizeof(uint64_t))))
            return st_err(STRATA_NOMEM, "open %s", r->path);
        for (size_t w = 0; w < words; w++)
            atomic_init(&rg->checked[c][w], 0);
    }
    if (km->bloom_offset > 0) {
        int64_t off = km->bloom_offset;
        int64_t len = km->bloom_length > 0 ? km->bloom_length
                      : (int64_t)(r->file_size - (uint64_t)off) < 256
                          ? (int64_t)(r->file_size - (uint64_t)off)
                          : 256;
        uint8_t *p;
        size_t used = 0;
        st_pq_bloom_header bh;
        ST_RET(read_region(r, off, len, "bloom filter out of range", &p));
        ST_RET(st_pq_decode_bloom_header(p, (size_t)len, r->path, (uint64_t)off, &bh, &used));
        if (bh.supported && bh.num_bytes >= 32 && bh.num_bytes % 32 == 0) {
            if (km->bloom_length > 0) {
                if ((int64_t)used + bh.num_bytes != len)
                    return corrupt(r, "bloom filter length mismatch", off);
                rg->bloom = p + used;
            } else {
                ST_RET(read_region(r, off + (int64_t)used, bh.num_bytes,
                                   "bloom filter out of range", &p));
                rg->bloom = p;
            }
            rg->bloom_len = (size_t)bh.num_bytes;
        } else if (bh.supported) {
            return corrupt(r, "bad bloom filter size", off);
        }
    }
    return STRATA_OK;
}

static const st_pq_kv *
find_kv(const st_pq_file_meta *fm, const char *key)
{
    size_t n = strlen(key);
    for (uint32_t i = 0; i < fm->nkv; i++)
        if (fm->kv[i].key.len == n && memcmp(fm->kv[i].key.p, key, n) == 0 && fm->kv[i].has_value)
            return &fm->kv[i];
    return NULL;
}

static int
kv_u64(st_sst_reader *r, const char *key, uint64_t *v)
{
    const st_pq_kv *kv = find_kv(&r->fm, key);
    if (!kv)
        return 0;
    uint64_t x = 0;
    if (kv->value.len == 0 || kv->value.len > 20)
        return corrupt(r, "bad numeric footer metadata", 0) ? -1 : 0;
    for (uint32_t i = 0; i < kv->value.len; i++) {
        uint8_t d = kv->value.p[i];
        if (d < '0' || d > '9' || x > (UINT64_MAX - 9) / 10)
            return corrupt(r, "bad numeric footer metadata", 0) ? -1 : 0;
        x = x * 10 + (d - '0');
    }
    *v = x;
    return 1;
}

static int
kv_key(st_sst_reader *r, const char *key, uint8_t **out, size_t *len)
{
    const st_pq_kv *kv = find_kv(&r->fm, key);
    if (!kv)
        return STRATA_NOTFOUND;
    *out = st_malloc(kv->value.len / 2 + 1);
    if (!*out)
        return st_err(STRATA_NOMEM, "%s: meta", r->path);
    long n = st_sst_unhex(kv->value.p, kv->value.len, *out);
    if (n < 0)
        return corrupt(r, "bad hex key in footer metadata", 0);
    *len = (size_t)n;
    return STRATA_OK;
}

static int
copy_bytes(st_pq_bytes b, uint8_t **out, size_t *len)
{
    *out = st_memdup(b.p, b.len);
    *len = b.len;
    return *out ? STRATA_OK : st_err(STRATA_NOMEM, "sst meta");
}

/* min/max seqno of a foreign file from the seqno chunk statistics (else 0 .. ST_SEQ_MAX). */
static void
seq_from_stats(st_sst_reader *r)
{
    st_sst_meta *m = &r->meta;
    m->min_seq = 0;
    m->max_seq = ST_SEQ_MAX;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (uint32_t g = 0; g < r->nrgs; g++) {
        const st_pq_column_meta *sm = r->rgs[g].cm[ST_SST_COL_SEQNO];
        if (!sm->has_stats || !sm->stats.has_min || !sm->stats.has_max || sm->stats.min.len != 8 ||
            sm->stats.max.len != 8)
            return;
        int64_t a = (int64_t)st_get_fixed64(sm->stats.min.p);
        int64_t b = (int64_t)st_get_fixed64(sm->stats.max.p);
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
    }
    if (r->nrgs && lo >= 0 && hi >= lo) {
        m->min_seq = (uint64_t)lo;
        m->max_seq = (uint64_t)hi;
    }
}

/*
 * Per row group of strata's own files: the seqno and kind chunks whose statistics say every row
 * holds one value (the writer makes them a single page, doc/format_sst.md "Constant columns"),
 * then whether the pages of the other columns are aligned.
 */
static void
settle_columns(st_sst_reader *r)
{
    for (uint32_t g = 0; g < r->nrgs; g++) {
        st_sst_rg *rg = &r->rgs[g];
        for (int c = ST_SST_COL_SEQNO; c <= ST_SST_COL_KIND && r->strata_meta; c++) {
            const st_pq_column_meta *m = rg->cm[c];
            uint32_t w = c == ST_SST_COL_SEQNO ? 8 : 4;
            if (!m->has_stats || !m->stats.has_min || !m->stats.has_max || m->stats.min.len != w ||
                m->stats.max.len != w || memcmp(m->stats.min.p, m->stats.max.p, w) != 0 ||
                (m->stats.has_null_count && m->stats.null_count != 0))
                continue;
            rg->known[c] = 1;
            rg->known_val[c] = w == 8 ? (int64_t)st_get_fixed64(m->stats.min.p)
                                      : (int64_t)(int32_t)st_get_fixed32(m->stats.min.p);
        }
        rg->aligned = 1;
        for (int c = 1; c < ST_SST_NCOLS; c++) {
            if (rg->known[c])
                continue;
            if (rg->oi[c].npages != rg->oi[0].npages)
                rg->aligned = 0;
            for (uint32_t i = 0; rg->aligned && i < rg->oi[0].npages; i++)
                if (rg->oi[c].pages[i].first_row != rg->oi[0].pages[i].first_row)
                    rg->aligned = 0;
        }
    }
}

static int
build_meta(st_sst_reader *r)
{
    st_sst_meta *m = &r->meta;
    const st_pq_file_meta *fm = &r->fm;
    uint64_t v;
    int rc;
    m->file_size = r->file_size;
    m->entries = (uint64_t)(fm->num_rows < 0 ? 0 : fm->num_rows);
    int64_t rows = 0;
    for (uint32_t g = 0; g < r->nrgs; g++)
        rows += r->rgs[g].num_rows;
    if (rows != fm->num_rows)
        return corrupt(r, "row count differs from the sum of the row groups", 0);
    if ((rc = kv_u64(r, ST_SST_KV_VERSION, &v)) < 0)
        return STRATA_CORRUPT;
    if (rc == 1 && v != ST_SST_FORMAT_VERSION && v != ST_SST_FORMAT_VERSION_RANGE)
        return st_err(STRATA_NOTSUP, "%s: table format version %llu", r->path,
                      (unsigned long long)v);
    if ((rc = kv_u64(r, ST_SST_KV_RANGE_TOMBSTONES, &m->range_tombstones)) < 0)
        return STRATA_CORRUPT;
    const char *nums[] = {ST_SST_KV_ENTRIES, ST_SST_KV_TOMBSTONES, ST_SST_KV_MIN_SEQ,
                          ST_SST_KV_MAX_SEQ, ST_SST_KV_CREATED};
    uint64_t *dst[] = {&v, &m->tombstones, &m->min_seq, &m->max_seq, &m->created_us};
    for (int i = 0; i < 5; i++) {
        if ((rc = kv_u64(r, nums[i], dst[i])) < 0)
            return STRATA_CORRUPT;
        if (i == 1) {
            r->strata_meta = rc == 1;
            m->foreign = rc != 1;
        }
        if (i == 0 && rc == 1 && v != m->entries)
            return corrupt(r, "strata.entries differs from the row count", 0);
    }
    if (m->entries > 0) {
        rc = kv_key(r, ST_SST_KV_SMALLEST, &m->smallest, &m->smallest_len);
        if (rc == STRATA_OK)
            rc = kv_key(r, ST_SST_KV_LARGEST, &m->largest, &m->largest_len);
        if (rc == STRATA_NOTFOUND) {
            /* foreign file: derive from the key chunk statistics */
            st_free(m->smallest);
            st_free(m->largest);
            m->smallest = m->largest = NULL;
            if (r->nrgs == 0 || !r->rgs[0].has_kbounds || !r->rgs[r->nrgs - 1].has_kbounds)
                return st_err(STRATA_NOTSUP, "%s: no key statistics", r->path);
            ST_RET(copy_bytes(r->rgs[0].kmin, &m->smallest, &m->smallest_len));
            rc = copy_bytes(r->rgs[r->nrgs - 1].kmax, &m->largest, &m->largest_len);
            if (!find_kv(fm, ST_SST_KV_MAX_SEQ))
                seq_from_stats(r);
        }
        if (rc != STRATA_OK)
            return rc;
        if (st_bytes_cmp(m->smallest, m->smallest_len, m->largest, m->largest_len) > 0)
            return corrupt(r, "smallest key > largest key", 0);
    }
    /* caller pairs: every non-strata.* pair */
    for (uint32_t i = 0; i < fm->nkv; i++) {
        const st_pq_kv *kv = &fm->kv[i];
        if (kv->key.len >= 7 && memcmp(kv->key.p, ST_SST_KV_PREFIX, 7) == 0)
            continue;
        st_sst_prop *np = st_realloc(m->props, (m->nprops + 1) * sizeof(*np));
        if (!np)
            return st_err(STRATA_NOMEM, "%s: meta", r->path);
        m->props = np;
        st_sst_prop *p = &m->props[m->nprops];
        p->key = st_malloc(kv->key.len + 1);
        p->value = st_malloc(kv->value.len + 1);
        if (!p->key || !p->value) {
            st_free(p->key);
            st_free(p->value);
            return st_err(STRATA_NOMEM, "%s: meta", r->path);
        }
        if (kv->key.len) /* an empty string may have no bytes behind it */
            memcpy(p->key, kv->key.p, kv->key.len);
        p->key[kv->key.len] = 0;
        if (kv->value.len)
            memcpy(p->value, kv->value.p, kv->value.len);
        p->value[kv->value.len] = 0;
        m->nprops++;
    }
    return STRATA_OK;
}

static void
reader_free(st_sst_reader *r)
{
    st_rdel_set_unref(r->rdels);
    if (r->meta_handle)
        st_cache_release(r->cache, r->meta_handle);
    st_file_close(r->file);
    st_arena_free(r->arena);
    st_free(r->rgs);
    st_sst_meta_free(&r->meta);
    st_free(r->path);
    st_free(r);
}

static void
meta_deleter(const void *key, size_t klen, void *value)
{
    (void)key;
    (void)klen;
    (void)value;
}

/* strata's files checksum their bloom filters and page indexes (they precede the footer). */
static int
check_index_crc(st_sst_reader *r, uint64_t foff)
{
    uint64_t off = 0, crc = 0;
    int a = kv_u64(r, ST_SST_KV_INDEX_OFF, &off), b = kv_u64(r, ST_SST_KV_INDEX_CRC, &crc);
    if (a < 0 || b < 0)
        return STRATA_CORRUPT;
    if (a == 0 || b == 0)
        return STRATA_OK; /* another writer's file */
    if (off < 4 || off > foff || crc > UINT32_MAX)
        return corrupt(r, "bad index range in footer metadata", (long long)off);
    size_t n = (size_t)(foff - off);
    uint8_t *buf = st_malloc(n ? n : 1);
    if (!buf)
        return st_err(STRATA_NOMEM, "%s: index check", r->path);
    int rc = st_file_read_exact(r->file, off, buf, n);
    if (rc == STRATA_OK && st_crc32c(buf, n) != (uint32_t)crc)
        rc = corrupt(r, "bloom filter / page index checksum mismatch", (long long)off);
    st_free(buf);
    return rc;
}

static int
reader_load(st_sst_reader *r, int flags)
{
    const char *path = r->path;
    uint8_t tail[8], head[4], *footer;
    int leaf_of[ST_SST_NCOLS], max_def[ST_SST_NCOLS];
    ST_RET(r->env->open(r->env, path, ST_OPEN_READ, &r->file));
    ST_RET(st_file_size(r->file, &r->file_size));
    if (r->file_size < 12)
        return corrupt(r, "file too short for Parquet", (long long)r->file_size);
    {
        /* pages are then decoded straight from the mapping: no read system call, copy or
         * buffer per page. Envs without map (fault injection) keep every read on read_at. */
        const uint8_t *base = NULL;
        uint64_t len = 0;
        if (st_file_map(r->file, &base, &len) == STRATA_OK && len == r->file_size)
            r->map = base;
        st_err_clear();
    }
    ST_RET(st_file_read_exact(r->file, r->file_size - 8, tail, 8));
    ST_RET(st_file_read_exact(r->file, 0, head, 4));
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return st_err(STRATA_NOTSUP, "%s: encrypted Parquet file", path);
    if (memcmp(tail + 4, "PAR1", 4) != 0 || memcmp(head, "PAR1", 4) != 0)
        return corrupt(r, "bad Parquet magic", (long long)r->file_size - 4);
    uint32_t flen = st_get_fixed32(tail);
    if ((uint64_t)flen + 12 > r->file_size)
        return corrupt(r, "bad footer length", (long long)r->file_size - 8);
    uint64_t foff = r->file_size - 8 - flen;
    ST_RET(read_region(r, (int64_t)foff, flen, "footer", &footer));
    ST_RET(st_pq_decode_file_meta(footer, flen, r->arena, path, foff, &r->fm));
    if (r->fm.version != 1 && r->fm.version != 2)
        return st_err(STRATA_NOTSUP, "%s: Parquet version %d", path, r->fm.version);
    ST_RET(map_schema(r, leaf_of, max_def));
    ST_RET(check_index_crc(r, foff));
    r->nrgs = r->fm.nrow_groups;
    r->rgs = st_calloc(r->nrgs ? r->nrgs : 1, sizeof(*r->rgs));
    if (!r->rgs)
        return st_err(STRATA_NOMEM, "open %s", path);
    for (uint32_t g = 0; g < r->nrgs; g++)
        ST_RET(load_row_group(r, g, leaf_of, max_def));
    ST_RET(build_meta(r));
    settle_columns(r);
    if (r->meta.range_tombstones > 0) {
        /* the last row group holds them: take it out of the point index */
        if (!r->strata_meta || r->nrgs == 0 ||
            (uint64_t)r->rgs[r->nrgs - 1].num_rows != r->meta.range_tombstones)
            return corrupt(r, "strata.range_tombstones differs from the last row group's rows", 0);
        r->rdel_rg = --r->nrgs;
        if (!(flags & ST_SST_OPEN_RAW))
            ST_RET(st_sst_range_dels_load(r));
    }
    if (r->cache) {
        uint8_t key[17];
        r->cache_id = st_cache_new_id(r->cache);
        st_put_fixed64(key, r->cache_id);
        memset(key + 8, 0xff, 9);
        ST_RET(st_cache_insert(r->cache, key, sizeof(key), r, st_arena_memory(r->arena),
                               meta_deleter, ST_CACHE_HIGH, &r->meta_handle));
    }
    return STRATA_OK;
}

int
st_sst_reader_open(st_env *env, const char *path, st_cache *cache, st_sst_reader **out)
{
    return st_sst_reader_open_flags(env, path, cache, 0, out);
}

int
st_sst_reader_open_flags(st_env *env, const char *path, st_cache *cache, int flags,
                         st_sst_reader **out)
{
    *out = NULL;
    st_sst_reader *r = st_calloc(1, sizeof(*r));
    if (!r)
        return st_err(STRATA_NOMEM, "open %s", path);
    atomic_init(&r->refs, 1);
    r->env = env;
    r->cache = cache;
    r->path = st_strdup(path);
    r->arena = st_arena_new(64 * 1024);
    int rc = !r->path || !r->arena ? st_err(STRATA_NOMEM, "open %s", path) : reader_load(r, flags);
    if (rc != STRATA_OK) {
        reader_free(r);
        return rc;
    }
    *out = r;
    return STRATA_OK;
}

const st_sst_meta *
st_sst_reader_meta(const st_sst_reader *r)
{
    return &r->meta;
}

void
st_sst_reader_ref(st_sst_reader *r)
{
    atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
}

void
st_sst_reader_unref(st_sst_reader *r)
{
    if (!r)
        return;
    if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (r->meta_handle) {
        uint8_t key[17];
        st_put_fixed64(key, r->cache_id);
        memset(key + 8, 0xff, 9);
        st_cache_release(r->cache, r->meta_handle);
        r->meta_handle = NULL;
        st_cache_erase(r->cache, key, sizeof(key));
    }
    reader_free(r);
}
