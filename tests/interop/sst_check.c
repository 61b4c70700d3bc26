/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_check -- opens a Parquet file with strata's table reader and prints what strata sees, one
 * JSON object per line, for strata_reads_duckdb.mjs to compare with what it gave DuckDB:
 *
 *   {"meta": {"entries": "N", "smallest_key": hex, "largest_key": hex, "min_seqno": "S",
 *             "max_seqno": "S"}}
 *   {"row": [key hex, value hex | null (tombstone), "seqno", kind]}     forward iteration
 *   {"rrow": [...]}                                                    backward iteration
 *   {"get": key hex, "snap": "S", "found": true, "row": [...]} / {..., "found": false}
 *   {"range": [lower hex, upper hex], "count": N, "first": row | null, "last": row | null}
 *
 * The probe file holds one request per line: "<key hex> [snapshot seqno]" looks the key up with
 * st_sst_reader_get (default snapshot: all), "range <lower hex> <upper hex>" iterates the entries
 * with lower <= key < upper. Any error is printed to stderr and exits 1.
 *
 * usage: sst_check <file.parquet> <probe keys file>
 */
#include "cache/cache.h"
#include "env/env.h"
#include "iter/iter.h"
#include "sst/sst.h"
#include "util/buf.h"
#include "util/status.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
die(const char *what, int rc)
{
    fprintf(stderr, "sst_check: %s: %s (%s)\n", what, strata_errstr(rc), st_errmsg());
    exit(1);
}

static void
put_hex(const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        putchar(digits[p[i] >> 4]);
        putchar(digits[p[i] & 15]);
    }
    putchar('"');
}

static void
put_row(const uint8_t *k, size_t klen, const uint8_t *v, size_t vlen, uint64_t seq, int kind)
{
    putchar('[');
    put_hex(k, klen);
    putchar(',');
    if (kind == ST_KIND_DELETE)
        fputs("null", stdout);
    else
        put_hex(v, vlen);
    printf(",\"%llu\",%d]", (unsigned long long)seq, kind);
}

/* Decodes a whitespace-terminated hex token into out (cap bytes); returns its byte length or -1
 * and advances *s past the token. */
static long
unhex(const char **s, uint8_t *out, size_t cap)
{
    const char *p = *s;
    size_t n = 0;
    while (*p == ' ')
        p++;
    while (isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1])) {
        unsigned v;
        if (n == cap || sscanf(p, "%2x", &v) != 1)
            return -1;
        out[n++] = (uint8_t)v;
        p += 2;
    }
    if (*p && *p != ' ')
        return -1;
    *s = p;
    return (long)n;
}

/* Iterates [lo, hi) and prints the count and the first and last entries. */
static void
print_range(st_sst_reader *r, const uint8_t *lo, size_t llen, const uint8_t *hi, size_t hlen)
{
    st_iter *it;
    int rc = st_sst_reader_iter(r, lo, llen, hi, hlen, 0, &it);
    if (rc != STRATA_OK)
        die("st_sst_reader_iter (range)", rc);
    fputs("{\"range\":[", stdout);
    put_hex(lo, llen);
    putchar(',');
    put_hex(hi, hlen);
    unsigned long long count = 0;
    fputs("],\"first\":", stdout);
    st_iter_seek_first(it);
    if (!it->valid)
        fputs("null", stdout);
    for (; it->valid; st_iter_next(it)) {
        if (count++ == 0)
            put_row(it->key, it->klen, it->val, it->vlen, it->seq, it->kind);
    }
    if (it->status != STRATA_OK)
        die("range iteration", it->status);
    fputs(",\"last\":", stdout);
    st_iter_seek_last(it);
    if (it->valid)
        put_row(it->key, it->klen, it->val, it->vlen, it->seq, it->kind);
    else
        fputs("null", stdout);
    if (it->status != STRATA_OK)
        die("range seek_last", it->status);
    printf(",\"count\":%llu}\n", count);
    st_iter_close(it);
}

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: sst_check <file.parquet> <probe keys file>\n");
        return 2;
    }
    st_env *env = st_env_posix();
    st_cache *cache;
    int rc = st_cache_new((size_t)8 << 20, -1, &cache);
    if (rc != STRATA_OK)
        die("st_cache_new", rc);
    st_sst_reader *r;
    rc = st_sst_reader_open(env, argv[1], cache, &r);
    if (rc != STRATA_OK)
        die("st_sst_reader_open", rc);

    const st_sst_meta *m = st_sst_reader_meta(r);
    printf("{\"meta\":{\"entries\":\"%llu\",\"smallest_key\":", (unsigned long long)m->entries);
    put_hex(m->smallest, m->smallest ? m->smallest_len : 0);
    printf(",\"largest_key\":");
    put_hex(m->largest, m->largest ? m->largest_len : 0);
    printf(",\"min_seqno\":\"%llu\",\"max_seqno\":\"%llu\"}}\n", (unsigned long long)m->min_seq,
           (unsigned long long)m->max_seq);

    st_iter *it;
    rc = st_sst_reader_iter(r, NULL, 0, NULL, 0, 1, &it);
    if (rc != STRATA_OK)
        die("st_sst_reader_iter", rc);
    for (st_iter_seek_first(it); it->valid; st_iter_next(it)) {
        fputs("{\"row\":", stdout);
        put_row(it->key, it->klen, it->val, it->vlen, it->seq, it->kind);
        fputs("}\n", stdout);
    }
    if (it->status != STRATA_OK)
        die("forward iteration", it->status);
    for (st_iter_seek_last(it); it->valid; st_iter_prev(it)) {
        fputs("{\"rrow\":", stdout);
        put_row(it->key, it->klen, it->val, it->vlen, it->seq, it->kind);
        fputs("}\n", stdout);
    }
    if (it->status != STRATA_OK)
        die("backward iteration", it->status);
    st_iter_close(it);

    FILE *pf = fopen(argv[2], "r");
    if (!pf) {
        perror(argv[2]);
        return 1;
    }
    static char line[4 * 65536 + 64];
    static uint8_t key[65536 + 8], hi[65536 + 8];
    st_buf val;
    st_buf_init(&val);
    while (fgets(line, sizeof(line), pf)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = 0;
        if (n == 0)
            continue;
        const char *p = line;
        if (strncmp(line, "range ", 6) == 0) {
            p += 6;
            long llen = unhex(&p, key, sizeof(key));
            long hlen = llen < 0 ? -1 : unhex(&p, hi, sizeof(hi));
            if (hlen < 0 || *p) {
                fprintf(stderr, "sst_check: bad probe line '%s'\n", line);
                return 1;
            }
            print_range(r, key, (size_t)llen, hi, (size_t)hlen);
            continue;
        }
        long klen = unhex(&p, key, sizeof(key));
        unsigned long long snap = ST_SEQ_MAX;
        char *end = NULL;
        if (klen > 0 && *p)
            snap = strtoull(p, &end, 10);
        if (klen <= 0 || (end && *end)) {
            fprintf(stderr, "sst_check: bad probe line '%s'\n", line);
            return 1;
        }
        int kind = -1;
        uint64_t seq = 0;
        rc = st_sst_reader_get(r, key, (size_t)klen, snap, ST_SST_ITER_FILL_CACHE, &kind, &val,
                               &seq);
        fputs("{\"get\":", stdout);
        put_hex(key, (size_t)klen);
        printf(",\"snap\":\"%llu\",", snap);
        if (rc == STRATA_OK) {
            fputs("\"found\":true,\"row\":", stdout);
            put_row(key, (size_t)klen, val.data, val.len, seq, kind);
            fputs("}\n", stdout);
        } else if (rc == STRATA_NOTFOUND) {
            fputs("\"found\":false}\n", stdout);
        } else {
            fflush(stdout);
            die(line, rc);
        }
    }
    fclose(pf);
    st_buf_free(&val);
    st_sst_reader_unref(r);
    st_cache_free(cache);
    if (fflush(stdout) != 0)
        return 1;
    return 0;
}
