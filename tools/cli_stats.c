/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_stats.c -- the numbers of the strata.stats property as named metrics (cli_stats), for
 * `strata stats --json/--prometheus` (printed by cli_stats_fmt.c) and the compaction progress.
 *
 * strata.stats is a text of "topic: numbers and words" lines (src/db/db.c, stats_text). Each
 * topic line below lists the metrics its numbers stand for, in order; a number is a run of digits
 * (with an optional fraction) that does not continue a word, so "crc32c" and "000012.wal" are
 * read right. Indented detail lines (runs, levels) are not metrics. A topic that is missing, or
 * has fewer numbers than expected, leaves its metrics out: tests/cli/test_stats_formats.py
 * checks that every metric named here is produced, so a change of the text shows up there.
 */
#include "cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

typedef struct stat_field {
    const char *name; /* metric name without the "strata_" prefix; NULL: skip this number */
    const char *help; /* NULL ends a topic's list */
    int counter;      /* 1: only grows while the database is open; 0: a gauge */
    double scale;
} stat_field;

#define MAX_FIELDS 7

typedef struct stat_topic {
    const char *prefix; /* the line starts with it */
    stat_field f[MAX_FIELDS];
} stat_topic;

#define C(n, h)                                                                                    \
    {                                                                                              \
        n, h, 1, 1.0                                                                               \
    }
#define G(n, h)                                                                                    \
    {                                                                                              \
        n, h, 0, 1.0                                                                               \
    }
#define MS(n, h)                                                                                   \
    {                                                                                              \
        n, h, 1, 0.001                                                                             \
    } /* milliseconds in the text, seconds as a metric */
#define SKIP                                                                                       \
    {                                                                                              \
        NULL, "", 0, 1.0                                                                           \
    } /* a number that repeats another metric */

static const stat_topic topics[] = {
    {"sequence:", {G("sequence", "last sequence number written")}},
    {"memtable:",
     {G("memtable_bytes", "bytes in the active memtable"),
      G("memtable_entries", "entries in the active memtable"),
      G("immutable_memtables", "memtables waiting to be flushed"),
      G("immutable_memtable_bytes", "bytes in the memtables waiting to be flushed")}},
    {"wal:",
     {G("wal_number", "file number of the current write-ahead log"),
      G("wal_bytes", "bytes in the current write-ahead log"),
      C("wal_records_total", "write-ahead log records written"),
      C("wal_syncs_total", "write-ahead log fsyncs"),
      C("commit_groups_total", "commit groups (writers sharing one WAL write)")}},
    {"writes:",
     {C("write_batches_total", "write batches committed"), SKIP,
      C("user_bytes_total", "key and value bytes written by users")}},
    {"reads:",
     {C("gets_total", "point lookups"), C("gets_found_total", "point lookups that found the key")}},
    {"recovery:",
     {G("recovered_records", "WAL records replayed by the last open"),
      G("recovered_entries", "entries replayed by the last open"),
      G("recovery_dropped_bytes", "bytes of damaged WAL tail dropped by the last open"),
      {"recovery_seconds", "time the last open spent replaying logs", 0, 0.001}}},
    {"open:", {G("open_iterators", "iterators open"), G("open_snapshots", "snapshots held")}},
    {"background:",
     {G("running_flushes", "flushes running"), G("running_compactions", "compactions running")}},
    {"tables:",
     {G("tables", "live tables"), G("table_bytes", "bytes in live tables"),
      G("table_entries", "entries in live tables (tombstones included)"),
      G("table_tombstones", "tombstones in live tables")}},
    {"sorted runs:", {G("sorted_runs", "sorted runs (the read amplification of a point read)")}},
    {"table cache:",
     {G("table_cache_open", "tables open in the table cache"),
      G("table_cache_limit", "most tables kept open (0: no limit)"),
      C("table_cache_opens_total", "table opens"),
      C("table_cache_evictions_total", "tables closed to stay under the limit")}},
    {"levels (UCS):", {G("level_overlap", "total overlap of the compaction levels")}},
    {"flushes:",
     {C("flushes_total", "memtable flushes"),
      C("flush_bytes_total", "table bytes written by flushes"),
      MS("flush_seconds_total", "time spent flushing"), C("compactions_total", "compactions"),
      C("compaction_bytes_in_total", "table bytes read by compactions"),
      C("compaction_bytes_out_total", "table bytes written by compactions"),
      MS("compaction_seconds_total", "time spent compacting")}},
    {"write amplification:", {G("write_amplification", "table bytes written per user byte")}},
    {"stalls:",
     {C("stalls_total", "writes stopped until a flush or compaction finished"),
      C("slowdowns_total", "writes slowed down"),
      MS("stall_seconds_total", "time writers spent stalled")}},
    {"cache:",
     {G("cache_bytes", "bytes in the page cache"),
      G("cache_capacity_bytes", "capacity of the page cache"),
      C("cache_hits_total", "page cache hits"), C("cache_misses_total", "page cache misses")}},
};
#define NTOPICS (sizeof(topics) / sizeof(topics[0]))

/* The numbers of one line, in order; returns how many (at most max). */
static size_t
line_numbers(const char *s, const char *end, double *out, size_t max)
{
    size_t n = 0;
    for (const char *q = s; q < end && n < max; q++) {
        if (!isdigit((unsigned char)*q))
            continue;
        if (q > s && (isalnum((unsigned char)q[-1]) || q[-1] == '.' || q[-1] == '_')) {
            while (q + 1 < end && (isalnum((unsigned char)q[1]) || q[1] == '.'))
                q++; /* the rest of a word like crc32c */
            continue;
        }
        char *stop = NULL;
        out[n++] = strtod(q, &stop);
        q = stop - 1;
    }
    return n;
}

static void
add_metric(cli_stats *st, const stat_field *f, double v)
{
    if (st->n < CLI_MAX_METRICS)
        st->m[st->n++] = (cli_metric){f->name, f->help, f->counter, v * f->scale};
}

/* The first line: "strata VERSION  path PATH". */
static void
parse_header(cli_stats *st, const char *line, size_t len)
{
    const char *p = memchr(line, ' ', len);
    const char *path = NULL;
    for (size_t i = 0; i + 6 <= len; i++)
        if (memcmp(line + i, "  path ", 7) == 0) {
            path = line + i + 7;
            break;
        }
    if (p == NULL || strncmp(line, "strata ", 7) != 0)
        return;
    size_t vlen = strcspn(p + 1, " \n");
    snprintf(st->version, sizeof(st->version), "%.*s", (int)vlen, p + 1);
    if (path != NULL)
        snprintf(st->path, sizeof(st->path), "%.*s", (int)(line + len - path), path);
}

void
cli_stats_parse(const char *text, cli_stats *st)
{
    memset(st, 0, sizeof(*st));
    const char *s = text;
    while (*s != '\0') {
        const char *end = strchr(s, '\n');
        if (end == NULL)
            end = s + strlen(s);
        size_t len = (size_t)(end - s);
        if (s == text)
            parse_header(st, s, len);
        else if (len > 18 && memcmp(s, "background error: ", 18) == 0)
            snprintf(st->bg_error, sizeof(st->bg_error), "%.*s", (int)(len - 18), s + 18);
        for (size_t t = 0; t < NTOPICS; t++) {
            size_t pl = strlen(topics[t].prefix);
            if (len < pl || memcmp(s, topics[t].prefix, pl) != 0)
                continue;
            double v[MAX_FIELDS];
            size_t got = line_numbers(s + pl, end, v, MAX_FIELDS);
            for (size_t i = 0; i < MAX_FIELDS && i < got && topics[t].f[i].help != NULL; i++)
                if (topics[t].f[i].name != NULL)
                    add_metric(st, &topics[t].f[i], v[i]);
            break;
        }
        s = *end ? end + 1 : end;
    }
}

int
cli_stats_read(cli_ctx *c, cli_stats *st)
{
    char *text = NULL;
    int src = strata_property(c->db, "strata.stats", &text);
    if (src != STRATA_OK)
        return cli_dberr(c, src, "strata.stats");
    cli_stats_parse(text, st);
    strata_free(text);
    return CLI_EXIT_OK;
}

const cli_metric *
cli_stats_find(const cli_stats *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->m[i].name, name) == 0)
            return &st->m[i];
    return NULL;
}
