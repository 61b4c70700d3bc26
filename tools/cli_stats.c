/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_stats.c -- the numbers of strata_get_stats as named metrics (cli_stats), for
 * `strata stats --json/--prometheus` (printed by cli_stats_fmt.c) and the compaction progress.
 *
 * tests/cli/test_stats_formats.py checks that every metric named here is produced with the value
 * the database really has.
 */
#include "cli.h"

#include <stddef.h>
#include <string.h>

typedef struct stat_field {
    const char *name; /* metric name without the "strata_" prefix */
    const char *help;
    int counter;   /* 1: only grows while the database is open; 0: a gauge */
    size_t off;    /* offset of the uint64_t (or, for write amplification, double) field */
    double scale;  /* factor to the metric's unit (microseconds to seconds) */
    int is_double; /* the field is a double */
} stat_field;

#define F(field) offsetof(strata_stats, field)
#define C(n, h, f)                                                                                 \
    {                                                                                              \
        n, h, 1, F(f), 1.0, 0                                                                      \
    }
#define G(n, h, f)                                                                                 \
    {                                                                                              \
        n, h, 0, F(f), 1.0, 0                                                                      \
    }
#define US(n, h, f, counter)                                                                       \
    {                                                                                              \
        n, h, counter, F(f), 1e-6, 0                                                               \
    } /* microseconds as seconds */

static const stat_field fields[] = {
    G("sequence", "last sequence number written", sequence),
    G("memtable_bytes", "bytes in the active memtable", memtable_bytes),
    G("memtable_entries", "entries in the active memtable", memtable_entries),
    G("immutable_memtables", "memtables waiting to be flushed", immutable_memtables),
    G("immutable_memtable_bytes", "bytes in the memtables waiting to be flushed",
      immutable_memtable_bytes),
    G("wal_number", "file number of the current write-ahead log", wal_number),
    G("wal_bytes", "bytes in the current write-ahead log", wal_bytes),
    C("wal_records_total", "write-ahead log records written", wal_records),
    C("wal_syncs_total", "write-ahead log fsyncs", wal_syncs),
    C("commit_groups_total", "commit groups (writers sharing one WAL write)", commit_groups),
    C("write_batches_total", "write batches committed", write_batches),
    C("user_bytes_total", "key and value bytes written by users", user_bytes),
    C("gets_total", "point lookups", gets),
    C("gets_found_total", "point lookups that found the key", gets_found),
    G("recovered_records", "WAL records replayed by the last open", recovered_records),
    G("recovered_entries", "entries replayed by the last open", recovered_entries),
    G("recovery_dropped_bytes", "bytes of damaged WAL tail dropped by the last open",
      recovery_dropped_bytes),
    US("recovery_seconds", "time the last open spent replaying logs", recovery_micros, 0),
    G("open_iterators", "iterators open", open_iterators),
    G("open_snapshots", "snapshots held", open_snapshots),
    G("running_flushes", "flushes running", running_flushes),
    G("running_compactions", "compactions running", running_compactions),
    G("tables", "live tables", tables),
    G("table_bytes", "bytes in live tables", table_bytes),
    G("table_entries", "entries in live tables (tombstones included)", table_entries),
    G("table_tombstones", "tombstones in live tables", table_tombstones),
    G("sorted_runs", "sorted runs (the read amplification of a point read)", sorted_runs),
    G("table_cache_open", "tables open in the table cache", table_cache_open),
    G("table_cache_limit", "most tables kept open (0: no limit)", table_cache_limit),
    C("table_cache_opens_total", "table opens", table_cache_opens),
    C("table_cache_evictions_total", "tables closed to stay under the limit",
      table_cache_evictions),
    G("level_overlap", "total overlap of the compaction levels", level_overlap),
    C("flushes_total", "memtable flushes", flushes),
    C("flush_bytes_total", "table bytes written by flushes", flush_bytes),
    US("flush_seconds_total", "time spent flushing", flush_micros, 1),
    C("compactions_total", "compactions", compactions),
    C("compaction_bytes_in_total", "table bytes read by compactions", compaction_bytes_in),
    C("compaction_bytes_out_total", "table bytes written by compactions", compaction_bytes_out),
    US("compaction_seconds_total", "time spent compacting", compaction_micros, 1),
    {"write_amplification", "table bytes written per user byte", 0, F(write_amplification), 1.0, 1},
    C("stalls_total", "writes stopped until a flush or compaction finished", stalls),
    C("slowdowns_total", "writes slowed down", slowdowns),
    US("stall_seconds_total", "time writers spent stalled", stall_micros, 1),
    G("cache_bytes", "bytes in the page cache", cache_bytes),
    G("cache_capacity_bytes", "capacity of the page cache", cache_capacity),
    C("cache_hits_total", "page cache hits", cache_hits),
    C("cache_misses_total", "page cache misses", cache_misses),
};
#define NFIELDS (sizeof(fields) / sizeof(fields[0]))

void
cli_stats_from(const strata_stats *s, const char *path, cli_stats *st)
{
    memset(st, 0, sizeof(*st));
    snprintf(st->version, sizeof(st->version), "%s", strata_version(NULL, NULL, NULL));
    snprintf(st->path, sizeof(st->path), "%s", path);
    for (size_t i = 0; i < NFIELDS && st->n < CLI_MAX_METRICS; i++) {
        const stat_field *f = &fields[i];
        const char *p = (const char *)s + f->off;
        double v;
        if (f->is_double) {
            memcpy(&v, p, sizeof(v));
        } else {
            uint64_t u;
            memcpy(&u, p, sizeof(u));
            v = (double)u;
        }
        st->m[st->n++] = (cli_metric){f->name, f->help, f->counter, v * f->scale};
    }
    if (s->background_error != STRATA_OK)
        snprintf(st->bg_error, sizeof(st->bg_error), "%s", strata_errstr(s->background_error));
}

int
cli_stats_read(cli_ctx *c, cli_stats *st)
{
    strata_stats s;
    strata_stats_init(&s);
    int src = strata_get_stats(c->db, &s);
    if (src != STRATA_OK)
        return cli_dberr(c, src, "statistics");
    cli_stats_from(&s, c->argv[0], st);
    return CLI_EXIT_OK;
}
