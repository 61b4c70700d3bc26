/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_gen -- writes a set of strata tables (st_sst_builder) for the independent-reader interop
 * tests and a manifest.json describing exactly what was written: for every table its options and
 * every row (key and value as hex, seqno as a decimal string, kind), plus keys that are absent.
 * The expectations come from the generator's own inputs; nothing is read back through strata.
 *
 * Tables: every codec (none / snappy / zstd / lz4) over the same data, empty values and tombstones,
 * keys with NUL and 0xFF bytes and a 64 KiB key, extreme sequence numbers, 1 MiB values, many
 * pages and several row groups, no bloom filter, caller footer pairs, and an empty table.
 *
 * usage: sst_gen <output dir>
 */
#include "env/env.h"
#include "iter/iter.h"
#include "sst/sst.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/coding.h"
#include "util/random.h"
#include "util/status.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct row {
    uint8_t *key;
    size_t klen;
    uint8_t *val; /* NULL for tombstones */
    size_t vlen;
    uint64_t seq;
    int kind;
} row;

typedef struct table {
    const char *name;
    int compression;
    size_t page_size;      /* 0 = default */
    size_t row_group_size; /* 0 = default */
    int bloom_bits;        /* -1 = default */
    int min_row_groups, min_pages;
    const char *meta[4][2]; /* caller footer pairs, NULL-terminated */
    row *rows;
    size_t nrows, cap;
    row *absent; /* only key/klen used */
    size_t nabsent, abscap;
} table;

static st_rng rng;

static void *
xmalloc(size_t n)
{
    void *p = st_malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "sst_gen: out of memory\n");
        exit(1);
    }
    return p;
}

static uint8_t *
dup_bytes(const void *p, size_t n)
{
    uint8_t *d = xmalloc(n);
    if (n)
        memcpy(d, p, n);
    return d;
}

/* Appends one zeroed slot to a growable row array. */
static row *
push_row(row **arr, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 64;
        *arr = st_realloc(*arr, *cap * sizeof(row));
        if (!*arr) {
            fprintf(stderr, "sst_gen: out of memory\n");
            exit(1);
        }
    }
    row *r = &(*arr)[(*n)++];
    memset(r, 0, sizeof(*r));
    return r;
}

static void
add_row(table *t, const void *key, size_t klen, uint64_t seq, int kind, const void *val,
        size_t vlen)
{
    row *r = push_row(&t->rows, &t->nrows, &t->cap);
    r->key = dup_bytes(key, klen);
    r->klen = klen;
    r->seq = seq;
    r->kind = kind;
    r->val = kind == ST_KIND_PUT ? dup_bytes(val, vlen) : NULL;
    r->vlen = kind == ST_KIND_PUT ? vlen : 0;
}

static void
add_absent(table *t, const void *key, size_t klen)
{
    row *r = push_row(&t->absent, &t->nabsent, &t->abscap);
    r->key = dup_bytes(key, klen);
    r->klen = klen;
}

static int
row_cmp(const void *a, const void *b)
{
    const row *x = a, *y = b;
    return st_entry_cmp(x->key, x->klen, x->seq, y->key, y->klen, y->seq);
}

/* Sorts into entry order and drops duplicate (key, seq) pairs (keeping the first). */
static void
sort_rows(table *t)
{
    if (t->nrows > 1)
        qsort(t->rows, t->nrows, sizeof(row), row_cmp);
    size_t w = 0;
    for (size_t i = 0; i < t->nrows; i++) {
        if (w > 0 && row_cmp(&t->rows[w - 1], &t->rows[i]) == 0) {
            st_free(t->rows[i].key);
            st_free(t->rows[i].val);
            continue;
        }
        t->rows[w++] = t->rows[i];
    }
    t->nrows = w;
}

static int
has_key(const table *t, const uint8_t *key, size_t klen)
{
    size_t lo = 0, hi = t->nrows;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = st_bytes_cmp(t->rows[mid].key, t->rows[mid].klen, key, klen);
        if (c == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Keys certainly not in t: present keys with a suffix, printable and random binary ones. */
static void
make_absent(table *t, size_t n)
{
    uint8_t buf[64];
    for (size_t i = 0; i < n; i++) {
        size_t len;
        switch (i % 3) {
        case 0:
            if (t->nrows) {
                const row *r = &t->rows[st_rng_uniform(&rng, t->nrows)];
                len = r->klen < 40 ? r->klen : 40;
                memcpy(buf, r->key, len);
                buf[len++] = '~';
                buf[len++] = (uint8_t)('a' + i % 26);
                break;
            }
            /* fallthrough */
        case 1:
            len = (size_t)snprintf((char *)buf, sizeof(buf), "absent-%06zu-%llu", i,
                                   (unsigned long long)st_rng_uniform(&rng, 1000000));
            break;
        default:
            len = 8 + st_rng_uniform(&rng, 8);
            for (size_t j = 0; j < len; j++)
                buf[j] = (uint8_t)st_rng_next(&rng);
        }
        if (!has_key(t, buf, len))
            add_absent(t, buf, len);
    }
}

/* Compressible pseudo-text of length n. */
static void
fill_text(uint8_t *p, size_t n)
{
    static const char *words[] = {"alpha ", "beta ", "gamma ", "delta ", "parquet ", "strata "};
    size_t i = 0;
    while (i < n) {
        const char *w = words[st_rng_uniform(&rng, 6)];
        for (size_t j = 0; w[j] && i < n; j++)
            p[i++] = (uint8_t)w[j];
    }
}

static void
fill_random(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)st_rng_next(&rng);
}

/* The data shared by the four codec tables: ~3000 keys, 1-3 versions, some tombstones. */
static void
gen_common(table *t)
{
    uint8_t key[64], val[300];
    uint64_t seq = 1000;
    for (unsigned i = 0; i < 3000; i++) {
        size_t klen = (size_t)snprintf((char *)key, sizeof(key), "key%08u", i * 7);
        if (i % 10 == 3) { /* some keys end in binary bytes */
            key[klen++] = 0x00;
            key[klen++] = (uint8_t)(0xf0 + i % 16);
        }
        int versions = 1 + (int)st_rng_uniform(&rng, 3);
        for (int v = 0; v < versions; v++) {
            int del = st_rng_uniform(&rng, 8) == 0;
            size_t vlen = st_rng_uniform(&rng, 300);
            if (i % 2)
                fill_text(val, vlen);
            else
                fill_random(val, vlen);
            add_row(t, key, klen, seq++, del ? ST_KIND_DELETE : ST_KIND_PUT, val, vlen);
        }
    }
}

static void
gen_edge(table *t)
{
    static const uint8_t k00[] = {0x00}, k0000[] = {0x00, 0x00}, k0001[] = {0x00, 0x01},
                         ka0b[] = {'a', 0x00, 'b'}, ka[] = {'a'}, kaff[] = {'a', 0xff},
                         kff[] = {0xff}, kffff[] = {0xff, 0xff, 0xff, 0xff},
                         kmix[] = {0xff, 0x00, 0xff, 0x00}, k7f[] = {0x7f, 0x80};
    const struct {
        const uint8_t *k;
        size_t n;
    } keys[] = {{k00, 1},  {k0000, 2}, {k0001, 2}, {ka0b, 3}, {ka, 1},
                {kaff, 2}, {kff, 1},   {kffff, 4}, {kmix, 4}, {k7f, 2}};
    uint8_t val[64];
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        /* newest first is irrelevant: rows are sorted before writing */
        add_row(t, keys[i].k, keys[i].n, 100 + i, ST_KIND_PUT, "", 0); /* empty value */
        fill_random(val, 1 + i);
        add_row(t, keys[i].k, keys[i].n, 200 + i, ST_KIND_PUT, val, 1 + i);
        if (i % 2)
            add_row(t, keys[i].k, keys[i].n, 300 + i, ST_KIND_DELETE, NULL, 0);
    }
    /* extreme sequence numbers and a tombstone-only key */
    add_row(t, "seq", 3, 0, ST_KIND_PUT, "zero", 4);
    add_row(t, "seq", 3, ST_SEQ_MAX, ST_KIND_PUT, "max", 3);
    add_row(t, "seq", 3, ST_SEQ_MAX - 1, ST_KIND_DELETE, NULL, 0);
    add_row(t, "tomb", 4, 7, ST_KIND_DELETE, NULL, 0);
    /* value bytes that look like NULs and 0xFF runs, value > 64 bytes (truncated statistics) */
    uint8_t big[200];
    memset(big, 0xff, sizeof(big));
    add_row(t, "vff", 3, 9, ST_KIND_PUT, big, sizeof(big));
    memset(big, 0x00, sizeof(big));
    add_row(t, "v00", 3, 9, ST_KIND_PUT, big, sizeof(big));
    /* the largest key strata allows (64 KiB) */
    size_t kmax = STRATA_MAX_KEY_SIZE;
    uint8_t *huge = xmalloc(kmax);
    memset(huge, 'K', kmax);
    huge[kmax - 1] = 0x00;
    add_row(t, huge, kmax, 11, ST_KIND_PUT, "huge key", 8);
    st_free(huge);
}

static void
gen_big_values(table *t, int n_big)
{
    size_t mib = (size_t)1 << 20;
    uint8_t *val = xmalloc(mib);
    char key[32];
    for (int i = 0; i < n_big + 4; i++) {
        size_t klen = (size_t)snprintf(key, sizeof(key), "big%02d", i);
        size_t vlen = i < n_big ? mib : (size_t)(i * 17);
        if (i % 2)
            fill_text(val, vlen);
        else
            fill_random(val, vlen);
        add_row(t, key, klen, 50 + (uint64_t)i, ST_KIND_PUT, val, vlen);
    }
    add_row(t, "big00", 5, 10, ST_KIND_DELETE, NULL, 0); /* an older tombstone under a big value */
    st_free(val);
}

static void
gen_many_pages(table *t)
{
    uint8_t key[64], val[64];
    uint64_t seq = (uint64_t)1 << 40;
    for (unsigned i = 0; i < 20000; i++) {
        size_t klen = (size_t)snprintf((char *)key, sizeof(key), "row/%010u/%s", i * 3,
                                       i % 3 ? "x" : "longer-suffix");
        size_t vlen = 20 + st_rng_uniform(&rng, 40);
        fill_text(val, vlen);
        int del = i % 11 == 0;
        add_row(t, key, klen, seq--, del ? ST_KIND_DELETE : ST_KIND_PUT, val, vlen);
        if (i % 97 == 0) /* an older version */
            add_row(t, key, klen, seq - 500000, ST_KIND_PUT, val, vlen / 2);
    }
}

static void
gen_small(table *t)
{
    char key[32];
    for (unsigned i = 0; i < 500; i++) {
        size_t klen = (size_t)snprintf(key, sizeof(key), "nb%05u", i);
        add_row(t, key, klen, 1 + i, ST_KIND_PUT, key, klen);
    }
}

/* ---- writing ------------------------------------------------------------------------------- */

static void
die(const char *what, int rc)
{
    fprintf(stderr, "sst_gen: %s: %s (%s)\n", what, strata_errstr(rc), st_errmsg());
    exit(1);
}

static void
write_table(st_env *env, const char *dir, table *t)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s.parquet", dir, t->name);
    st_sst_options o;
    st_sst_options_init(&o);
    o.compression = t->compression;
    if (t->page_size)
        o.page_size = t->page_size;
    if (t->row_group_size)
        o.row_group_size = t->row_group_size;
    if (t->bloom_bits >= 0)
        o.bloom_bits_per_key = t->bloom_bits;
    st_sst_builder *b;
    int rc = st_sst_builder_new(env, path, &o, &b);
    if (rc != STRATA_OK)
        die(path, rc);
    for (int i = 0; i < 4 && t->meta[i][0]; i++) {
        rc = st_sst_builder_set_meta(b, t->meta[i][0], t->meta[i][1]);
        if (rc != STRATA_OK)
            die("st_sst_builder_set_meta", rc);
    }
    for (size_t i = 0; i < t->nrows; i++) {
        const row *r = &t->rows[i];
        st_sst_builder_add(b, r->key, r->klen, r->seq, r->kind, r->val, r->vlen);
    }
    rc = st_sst_builder_finish(b, NULL);
    if (rc != STRATA_OK)
        die(path, rc);
}

/* ---- manifest ------------------------------------------------------------------------------ */

static void
put_hex(FILE *f, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        fputc(digits[p[i] >> 4], f);
        fputc(digits[p[i] & 15], f);
    }
    fputc('"', f);
}

/* JSON string of plain text (the names and footer pairs used here need no escapes but these). */
static void
put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static const char *
codec_name(int c)
{
    return c == STRATA_COMPRESSION_NONE     ? "none"
           : c == STRATA_COMPRESSION_SNAPPY ? "snappy"
           : c == STRATA_COMPRESSION_LZ4    ? "lz4"
                                            : "zstd";
}

static void
write_manifest(const char *dir, table *ts, size_t n, uint64_t t0, uint64_t t1)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/manifest.json", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fprintf(f, "{\"generator\": \"sst_gen\", \"strata_version\": \"%s\",\n", STRATA_VERSION_STRING);
    fprintf(f, " \"created_us_min\": \"%llu\", \"created_us_max\": \"%llu\",\n \"tables\": [\n",
            (unsigned long long)t0, (unsigned long long)t1);
    for (size_t i = 0; i < n; i++) {
        table *t = &ts[i];
        fprintf(f, "  {\"name\": \"%s\", \"file\": \"%s.parquet\", \"codec\": \"%s\",\n", t->name,
                t->name, codec_name(t->compression));
        fprintf(f, "   \"page_size\": %zu, \"row_group_size\": %zu, \"bloom_bits_per_key\": %d,\n",
                t->page_size, t->row_group_size, t->bloom_bits < 0 ? 10 : t->bloom_bits);
        fprintf(f, "   \"min_row_groups\": %d, \"min_pages\": %d,\n   \"user_meta\": {",
                t->min_row_groups, t->min_pages);
        for (int m = 0; m < 4 && t->meta[m][0]; m++) {
            fprintf(f, "%s", m ? ", " : "");
            put_str(f, t->meta[m][0]);
            fprintf(f, ": ");
            put_str(f, t->meta[m][1]);
        }
        fprintf(f, "},\n   \"absent\": [");
        for (size_t a = 0; a < t->nabsent; a++) {
            fprintf(f, "%s", a ? ", " : "");
            put_hex(f, t->absent[a].key, t->absent[a].klen);
        }
        fprintf(f, "],\n   \"rows\": [");
        for (size_t r = 0; r < t->nrows; r++) {
            const row *x = &t->rows[r];
            fprintf(f, "%s\n    [", r ? "," : "");
            put_hex(f, x->key, x->klen);
            fprintf(f, ", ");
            if (x->kind == ST_KIND_PUT)
                put_hex(f, x->val, x->vlen);
            else
                fprintf(f, "null");
            fprintf(f, ", \"%llu\", %d]", (unsigned long long)x->seq, x->kind);
        }
        fprintf(f, "]}%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, " ]}\n");
    if (fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: sst_gen <output dir>\n");
        return 2;
    }
    const char *dir = argv[1];
    st_env *env = st_env_posix();
    int rc = env->mkdir(env, dir);
    if (rc != STRATA_OK)
        die(dir, rc);
    st_rng_seed(&rng, 20261122);

    enum { NT = 14 };
    static table ts[NT] = {
        {.name = "codec_none", .compression = STRATA_COMPRESSION_NONE, .bloom_bits = -1},
        {.name = "codec_snappy", .compression = STRATA_COMPRESSION_SNAPPY, .bloom_bits = -1},
        {.name = "codec_zstd",
         .compression = STRATA_COMPRESSION_ZSTD,
         .bloom_bits = -1,
         .meta = {{"app.owner", "interop-test"}, {"app.note", "caf\xc3\xa9 \"quoted\""}}},
        {.name = "codec_lz4", .compression = STRATA_COMPRESSION_LZ4, .bloom_bits = -1},
        {.name = "edge_keys_values", .compression = STRATA_COMPRESSION_ZSTD, .bloom_bits = -1},
        {.name = "edge_keys_values_lz4", .compression = STRATA_COMPRESSION_LZ4, .bloom_bits = -1},
        {.name = "big_values_zstd", .compression = STRATA_COMPRESSION_ZSTD, .bloom_bits = -1},
        {.name = "big_values_snappy", .compression = STRATA_COMPRESSION_SNAPPY, .bloom_bits = -1},
        {.name = "big_values_lz4", .compression = STRATA_COMPRESSION_LZ4, .bloom_bits = -1},
        {.name = "many_pages_groups",
         .compression = STRATA_COMPRESSION_ZSTD,
         .page_size = 1024,
         .row_group_size = 256 * 1024,
         .bloom_bits = -1,
         .min_row_groups = 3,
         .min_pages = 100},
        {.name = "many_pages_lz4",
         .compression = STRATA_COMPRESSION_LZ4,
         .page_size = 1024,
         .row_group_size = 256 * 1024,
         .bloom_bits = -1,
         .min_row_groups = 3,
         .min_pages = 100},
        {.name = "many_pages_none",
         .compression = STRATA_COMPRESSION_NONE,
         .page_size = 512,
         .row_group_size = 128 * 1024,
         .bloom_bits = 16,
         .min_row_groups = 3,
         .min_pages = 100},
        {.name = "no_bloom", .compression = STRATA_COMPRESSION_SNAPPY, .bloom_bits = 0},
        {.name = "empty", .compression = STRATA_COMPRESSION_ZSTD, .bloom_bits = -1},
    };
    for (int i = 0; i < 4; i++) { /* identical rows under every codec */
        st_rng_seed(&rng, 42);
        gen_common(&ts[i]);
    }
    gen_edge(&ts[4]);
    gen_edge(&ts[5]);
    gen_big_values(&ts[6], 3);
    gen_big_values(&ts[7], 2);
    gen_big_values(&ts[8], 2);
    gen_many_pages(&ts[9]);
    gen_many_pages(&ts[10]);
    gen_many_pages(&ts[11]);
    gen_small(&ts[12]);
    for (int i = 0; i < NT; i++) {
        if (ts[i].min_row_groups == 0)
            ts[i].min_row_groups = ts[i].nrows ? 1 : 0;
        if (ts[i].min_pages == 0)
            ts[i].min_pages = ts[i].nrows ? 1 : 0;
        sort_rows(&ts[i]);
        make_absent(&ts[i], 300);
    }

    uint64_t t0 = st_wall_micros();
    for (int i = 0; i < NT; i++)
        write_table(env, dir, &ts[i]);
    uint64_t t1 = st_wall_micros();
    write_manifest(dir, ts, NT, t0, t1);

    size_t total = 0;
    for (int i = 0; i < NT; i++) {
        total += ts[i].nrows;
        for (size_t r = 0; r < ts[i].nrows; r++) {
            st_free(ts[i].rows[r].key);
            st_free(ts[i].rows[r].val);
        }
        for (size_t a = 0; a < ts[i].nabsent; a++)
            st_free(ts[i].absent[a].key);
        st_free(ts[i].rows);
        st_free(ts[i].absent);
    }
    printf("sst_gen: wrote %d tables (%zu rows) and manifest.json to %s\n", NT, total, dir);
    return 0;
}
