/* SPDX-License-Identifier: Apache-2.0 */
/* cli_cmds.c -- the put, get, del, scan, stats, flush, compact and property commands. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const cli_opt cli_scan_opts[] = {
    {"from", "K", "first key of the range (inclusive)"},
    {"to", "K", "end of the range (exclusive)"},
    {"prefix", "P", "only keys that start with P"},
    {"limit", "N", "print at most N entries"},
    {"reverse", NULL, "iterate from the end of the range backwards"},
    {NULL, NULL, NULL},
};

const cli_opt cli_compact_opts[] = {
    {"from", "K", "first key of the range (inclusive; default: the first key)"},
    {"to", "K", "last key of the range (inclusive; default: the last key)"},
    {NULL, NULL, NULL},
};

const cli_opt cli_stats_opts[] = {
    {"json", NULL, "print the numbers as one JSON object"},
    {"prometheus", NULL, "print the numbers in the Prometheus text format"},
    {NULL, NULL, NULL},
};

const cli_opt cli_property_opts[] = {
    {"list", NULL, "list the property names instead of printing one"},
    {NULL, NULL, NULL},
};

/* Every name strata_property() accepts (include/strata/strata.h). */
static const struct {
    const char *name, *help;
} properties[] = {
    {"strata.stats", "summary for people (what 'strata stats' prints)"},
    {"strata.tables", "one line per table: file, size, entries, tombstones, sequences, keys"},
    {"strata.memtable-bytes", "bytes in the active and immutable memtables"},
    {"strata.sequence", "the last sequence number written"},
    {"strata.wal-bytes", "bytes in the current write-ahead log"},
    {"strata.sql-view",
     "SQL defining the views kv and kv_versions (what 'strata sql-view' prints)"},
};

/* Bytewise key order: memcmp, a shorter prefix first (the library's order). */
static int
keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r != 0)
        return r;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Decode the optional key flag `name` into *out (NULL when the flag is absent). */
static int
key_flag(const cli_ctx *c, const char *name, unsigned char **out, size_t *len)
{
    const char *text = cli_optval(c, name);
    *out = NULL;
    *len = 0;
    if (text == NULL)
        return CLI_EXIT_OK;
    char what[32];
    snprintf(what, sizeof(what), "--%s key", name);
    return cli_key_arg(c, what, text, out, len);
}

/* put (argv: DB KEY VALUE) or del (argv: DB KEY). */
static int
write_one(cli_ctx *c, int is_del)
{
    unsigned char *key = NULL, *val = NULL;
    size_t klen = 0, vlen = 0;
    int rc = cli_key_arg(c, "KEY", c->argv[1], &key, &klen);
    if (rc == CLI_EXIT_OK && !is_del)
        rc = cli_value_arg(c, "VALUE", c->argv[2], &val, &vlen);
    if (rc == CLI_EXIT_OK)
        rc = cli_open_db(c);
    if (rc == CLI_EXIT_OK) {
        strata_write_options w;
        cli_write_options(c, &w);
        int src = is_del ? strata_delete(c->db, &w, key, klen)
                         : strata_put(c->db, &w, key, klen, val, vlen);
        if (src != STRATA_OK)
            rc = cli_dberr(c, src, is_del ? "del" : "put");
    }
    free(key);
    free(val);
    return rc;
}

int
cli_cmd_put(cli_ctx *c)
{
    return write_one(c, 0);
}

int
cli_cmd_del(cli_ctx *c)
{
    return write_one(c, 1);
}

/* del-range (argv: DB FROM TO): one range tombstone for [FROM, TO). */
int
cli_cmd_del_range(cli_ctx *c)
{
    unsigned char *from = NULL, *to = NULL;
    size_t flen = 0, tlen = 0;
    int rc = cli_key_arg(c, "FROM", c->argv[1], &from, &flen);
    if (rc == CLI_EXIT_OK)
        rc = cli_key_arg(c, "TO", c->argv[2], &to, &tlen);
    if (rc == CLI_EXIT_OK)
        rc = cli_open_db(c);
    if (rc == CLI_EXIT_OK) {
        strata_write_options w;
        cli_write_options(c, &w);
        int src = strata_delete_range(c->db, &w, from, flen, to, tlen);
        if (src != STRATA_OK)
            rc = cli_dberr(c, src, "del-range");
    }
    free(from);
    free(to);
    return rc;
}

int
cli_cmd_get(cli_ctx *c)
{
    unsigned char *key = NULL;
    size_t klen = 0;
    int rc = cli_key_arg(c, "KEY", c->argv[1], &key, &klen);
    if (rc == CLI_EXIT_OK)
        rc = cli_open_db(c);
    if (rc != CLI_EXIT_OK) {
        free(key);
        return rc;
    }
    void *val = NULL;
    size_t vlen = 0;
    int src = strata_get(c->db, NULL, key, klen, &val, &vlen);
    if (src == STRATA_NOTFOUND) {
        rc = cli_fail(c, CLI_EXIT_NOTFOUND, "key not found: %s", c->argv[1]);
    } else if (src != STRATA_OK) {
        rc = cli_dberr(c, src, "get");
    } else {
        if (cli_print_bytes(stdout, c->hex, val, vlen) == 0)
            fputc('\n', stdout);
        rc = cli_finish_output(c, 0);
    }
    strata_free(val);
    free(key);
    return rc;
}

/*
 * prefix_end --
 *     The smallest key greater than every key starting with p[0..n): drop trailing 0xff bytes
 *     and increment the last remaining one. Returns its length (0: no such key, the range is
 *     open-ended; p all 0xff). Writes into `out` (n bytes).
 */
static size_t
prefix_end(const unsigned char *p, size_t n, unsigned char *out)
{
    while (n > 0 && p[n - 1] == 0xff)
        n--;
    if (n == 0)
        return 0;
    memcpy(out, p, n);
    out[n - 1]++;
    return n;
}

typedef struct scan_range {
    unsigned char *from, *to, *prefix, *pend;
    size_t from_len, to_len, prefix_len, pend_len;
    const unsigned char *lo, *hi; /* effective bounds (NULL = open) */
    size_t lo_len, hi_len;
} scan_range;

static int
scan_range_init(const cli_ctx *c, scan_range *r)
{
    memset(r, 0, sizeof(*r));
    int rc = key_flag(c, "from", &r->from, &r->from_len);
    if (rc == CLI_EXIT_OK)
        rc = key_flag(c, "to", &r->to, &r->to_len);
    if (rc == CLI_EXIT_OK)
        rc = key_flag(c, "prefix", &r->prefix, &r->prefix_len);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (r->from && r->to && keycmp(r->from, r->from_len, r->to, r->to_len) > 0)
        return cli_usage(c, "--from is after --to (a reversed range)");
    r->lo = r->from;
    r->lo_len = r->from_len;
    r->hi = r->to;
    r->hi_len = r->to_len;
    if (r->prefix == NULL)
        return CLI_EXIT_OK;
    if (r->lo == NULL || keycmp(r->prefix, r->prefix_len, r->lo, r->lo_len) > 0) {
        r->lo = r->prefix;
        r->lo_len = r->prefix_len;
    }
    r->pend = malloc(r->prefix_len);
    if (r->pend == NULL)
        return cli_fail(c, CLI_EXIT_DBERR, "out of memory");
    r->pend_len = prefix_end(r->prefix, r->prefix_len, r->pend);
    if (r->pend_len > 0 && (r->hi == NULL || keycmp(r->pend, r->pend_len, r->hi, r->hi_len) < 0)) {
        r->hi = r->pend;
        r->hi_len = r->pend_len;
    }
    if (r->lo && r->hi &&
        keycmp(r->lo, r->lo_len, r->hi, r->hi_len) > 0) { /* disjoint: empty range */
        r->hi = r->lo;
        r->hi_len = r->lo_len;
    }
    return CLI_EXIT_OK;
}

static void
scan_range_free(scan_range *r)
{
    free(r->from);
    free(r->to);
    free(r->prefix);
    free(r->pend);
}

/* Print the entries of `it` in [r->lo, r->hi) forward or backward, at most `limit`. Returns 0,
 * or the errno of a failed write to stdout (the caller reports it). */
static int
scan_print(const cli_ctx *c, strata_iter *it, const scan_range *r, int reverse,
           unsigned long long limit)
{
    size_t klen = 0, vlen = 0;
    const void *k;
    if (!reverse) {
        if (r->lo != NULL)
            strata_iter_seek(it, r->lo, r->lo_len);
        else
            strata_iter_seek_first(it);
    } else if (r->hi != NULL) {
        strata_iter_seek_for_prev(it, r->hi, r->hi_len);
        if (strata_iter_valid(it)) {
            k = strata_iter_key(it, &klen);
            if (keycmp(k, klen, r->hi, r->hi_len) >= 0)
                strata_iter_prev(it);
        }
    } else {
        strata_iter_seek_last(it);
    }
    for (unsigned long long n = 0; n < limit && strata_iter_valid(it); n++) {
        k = strata_iter_key(it, &klen);
        if (!reverse && r->hi != NULL && keycmp(k, klen, r->hi, r->hi_len) >= 0)
            break;
        if (reverse && r->lo != NULL && keycmp(k, klen, r->lo, r->lo_len) < 0)
            break;
        const void *v = strata_iter_value(it, &vlen);
        if (cli_print_bytes(stdout, c->hex, k, klen) != 0 || fputc('\t', stdout) == EOF ||
            cli_print_bytes(stdout, c->hex, v, vlen) != 0 || fputc('\n', stdout) == EOF)
            return errno ? errno : EIO;
        if (reverse)
            strata_iter_prev(it);
        else
            strata_iter_next(it);
    }
    return 0;
}

int
cli_cmd_scan(cli_ctx *c)
{
    unsigned long long limit = ~0ULL;
    const char *lim = cli_optval(c, "limit");
    int rc = lim != NULL ? cli_parse_count(c, "limit", lim, &limit) : CLI_EXIT_OK;
    if (rc != CLI_EXIT_OK)
        return rc;
    scan_range r;
    rc = scan_range_init(c, &r);
    if (rc == CLI_EXIT_OK)
        rc = cli_open_db(c);
    if (rc != CLI_EXIT_OK) {
        scan_range_free(&r);
        return rc;
    }
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.lower_bound = r.lo;
    ro.lower_bound_len = r.lo_len;
    ro.upper_bound = r.hi;
    ro.upper_bound_len = r.hi_len;
    strata_iter *it = NULL;
    int src = strata_iter_open(c->db, &ro, &it);
    if (src != STRATA_OK) {
        rc = cli_dberr(c, src, "opening an iterator");
    } else {
        int wr = scan_print(c, it, &r, cli_optval(c, "reverse") != NULL, limit);
        src = strata_iter_status(it);
        if (src != STRATA_OK)
            rc = cli_dberr(c, src, "scan");
        else
            rc = cli_finish_output(c, wr);
    }
    strata_iter_close(it);
    scan_range_free(&r);
    return rc;
}

static int
print_property(cli_ctx *c, const char *name)
{
    char *text = NULL;
    int rc = cli_open_db(c);
    if (rc != CLI_EXIT_OK)
        return rc;
    int src = strata_property(c->db, name, &text);
    if (src == STRATA_INVALID)
        return cli_fail(c, CLI_EXIT_USAGE,
                        "unknown property '%s' ('strata property DB --list' lists the names)",
                        name);
    if (src != STRATA_OK)
        return cli_dberr(c, src, name);
    size_t n = strlen(text);
    fputs(text, stdout);
    if (n == 0 || text[n - 1] != '\n')
        fputc('\n', stdout);
    strata_free(text);
    return cli_finish_output(c, 0);
}

int
cli_cmd_stats(cli_ctx *c)
{
    int json = cli_optval(c, "json") != NULL, prom = cli_optval(c, "prometheus") != NULL;
    if (json && prom)
        return cli_usage(c, "--json and --prometheus exclude each other");
    if (!json && !prom)
        return print_property(c, "strata.stats");
    int rc = cli_open_db(c);
    if (rc != CLI_EXIT_OK)
        return rc;
    cli_stats st;
    rc = cli_stats_read(c, &st);
    if (rc != CLI_EXIT_OK)
        return rc;
    if (json)
        cli_stats_print_json(stdout, &st);
    else
        cli_stats_print_prometheus(stdout, &st);
    return cli_finish_output(c, 0);
}

int
cli_cmd_property(cli_ctx *c)
{
    if (cli_optval(c, "list") != NULL) {
        if (c->argc > 1)
            return cli_usage(c, "give either NAME or --list");
        for (size_t i = 0; i < sizeof(properties) / sizeof(properties[0]); i++)
            printf("%-24s %s\n", properties[i].name, properties[i].help);
        return cli_finish_output(c, 0);
    }
    if (c->argc < 2)
        return cli_usage(c, "missing NAME (or --list for the names)");
    return print_property(c, c->argv[1]);
}

int
cli_cmd_flush(cli_ctx *c)
{
    int rc = cli_open_db(c);
    if (rc != CLI_EXIT_OK)
        return rc;
    int src = strata_flush(c->db);
    return src == STRATA_OK ? CLI_EXIT_OK : cli_dberr(c, src, "flush");
}

typedef struct compact_job {
    cli_ctx *c;
    const unsigned char *from, *to;
    size_t flen, tlen;
    unsigned long long done0, bytes0; /* compactions and bytes written before it started */
} compact_job;

static int
compact_work(void *arg)
{
    compact_job *j = arg;
    return strata_compact_range(j->c->db, j->from, j->flen, j->to, j->tlen);
}

/* Compactions finished and table bytes they wrote so far (the ticker's thread: reads only). */
static void
compact_counts(cli_ctx *c, unsigned long long *done, unsigned long long *bytes)
{
    strata_stats st;
    strata_stats_init(&st);
    *done = *bytes = 0;
    if (strata_get_stats(c->db, &st) != STRATA_OK)
        return;
    *done = st.compactions;
    *bytes = st.compaction_bytes_out;
}

static void
compact_poll(cli_progress *p, void *arg)
{
    compact_job *j = arg;
    unsigned long long done, bytes;
    compact_counts(j->c, &done, &bytes);
    p->entries = done - (done >= j->done0 ? j->done0 : done);
    p->bytes = bytes - (bytes >= j->bytes0 ? j->bytes0 : bytes);
}

int
cli_cmd_compact(cli_ctx *c)
{
    unsigned char *from = NULL, *to = NULL;
    size_t flen = 0, tlen = 0;
    int rc = key_flag(c, "from", &from, &flen);
    if (rc == CLI_EXIT_OK)
        rc = key_flag(c, "to", &to, &tlen);
    if (rc == CLI_EXIT_OK && from && to && keycmp(from, flen, to, tlen) > 0)
        rc = cli_usage(c, "--from is after --to (a reversed range)");
    if (rc == CLI_EXIT_OK)
        rc = cli_open_db(c);
    if (rc == CLI_EXIT_OK) {
        compact_job j = {c, from, to, flen, tlen, 0, 0};
        cli_progress p;
        cli_progress_begin(&p, c, "compacting", CLI_PROGRESS_ENTRIES | CLI_PROGRESS_BYTES);
        p.unit = "compactions done";
        if (p.on)
            compact_counts(c, &j.done0, &j.bytes0);
        int src = cli_progress_run(&p, compact_work, &j, compact_poll, &j);
        cli_progress_end(&p);
        if (src != STRATA_OK)
            rc = cli_dberr(c, src, "compact");
    }
    free(from);
    free(to);
    return rc;
}
