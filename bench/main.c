/* SPDX-License-Identifier: Apache-2.0 */
/*
 * main.c -- strata-bench: the same workloads on strata, LevelDB and RocksDB in one run.
 *
 * The parent parses db_bench-style options, then for each repetition and engine forks a child
 * that runs every workload on a fresh directory and sends one fixed-size bench_result per workload
 * back over a pipe. The parent prints results as they arrive, then a side-by-side table (medians
 * over repetitions, ratios against the best peer), and writes CSV / markdown when asked.
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const bench_engine_ops *const bench_engines[] = {
#ifdef BENCH_WITH_STRATA
    &bench_engine_strata,
#endif
    &bench_engine_leveldb, &bench_engine_rocksdb, NULL};

#define MAX_ENGINES 8
#define DEFAULT_WORKLOADS                                                                          \
    "fillseq,fillrandom,overwrite,readrandom,readmissing,readseq,seekrandom,deleterandom,"         \
    "readwhilewriting,fillsync,compact"
#define DEMO_WORKLOADS "fillseq,fillrandom,readrandom,readseq,seekrandom"

typedef struct options {
    bench_config cfg;
    int nengines;
    const bench_engine_ops *engines[MAX_ENGINES];
    char *workload_list; /* owns the strings cfg.workloads point into */
    const char *db;
    const char *csv;
    const char *markdown;
    int repeat;
    int keep_db;
    double fsync_seconds;
    int reads_set, sync_set;
} options;

static void
usage(FILE *f)
{
    fprintf(f, "usage: strata-bench [--demo] [--option=value ...]\n"
               "  --benchmarks=LIST      comma-separated workloads, run in order (default:\n"
               "                         " DEFAULT_WORKLOADS ")\n"
               "                         also: flush, prefixfill, prefixread, prefixscan,\n"
               "                         deletemid (the middle 80%% of the keys, one by one),\n"
               "                         deletemidrange (the same keys, one range delete;\n"
               "                         strata and rocksdb)\n"
               "  --engines=LIST         engines to compare (default: all built in:");
    for (int i = 0; bench_engines[i] != NULL; i++) {
        fprintf(f, " %s", bench_engines[i]->name);
    }
    fprintf(f,
            ")\n"
            "  --num=N                keys in the data set (1000000)\n"
            "  --reads=N              read operations (default: num)\n"
            "  --sync_num=N           writes of fillsync (default: num/100, at least 100)\n"
            "  --value_size=N         value bytes (100); keys are 16 bytes\n"
            "  --compression_ratio=R  compressibility of the values (0.5)\n"
            "  --threads=N            client threads; operations are split between them (1)\n"
            "  --batch_size=N         entries per write batch (1: plain puts)\n"
            "  --seek_nexts=N         entries read after each seek of seekrandom (1)\n"
            "  --cache_size=BYTES     block cache of every engine, e.g. 8M (default: each "
            "engine's own)\n"
            "  --write_buffer_size=BYTES memtable size of every engine (default: each engine's "
            "own)\n"
            "  --bloom_bits=N         bloom filter bits per key, every engine (10)\n"
            "  --db=DIR               where the databases go (default: $TMPDIR/strata-bench-PID)\n"
            "  --keep_db              keep the databases afterwards\n"
            "  --repeat=N             repetitions; tables show medians (1)\n"
            "  --csv=FILE             write every result and the medians as CSV\n"
            "  --markdown=FILE        write the median table as markdown\n"
            "  --seed=N               random seed (301)\n"
            "  --progress=0|1         progress bar on stderr (default: when it is a terminal)\n"
            "  --stats=0|1            print each engine's own statistics after every workload\n"
            "  --fsync_seconds=S      duration of the raw fsync-rate probe before fillsync (1)\n"
            "  --demo                 the quick-start comparison: --num=200000\n"
            "                         --write_buffer_size=4M --benchmarks=" DEMO_WORKLOADS "\n"
            "                         (later options override these)\n");
}

/* A byte count with an optional binary suffix: 8M, 8MB, 8MiB, 64k, 1G. */
static int
parse_size(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || v < 0) {
        return -1;
    }
    double mult = 1;
    switch (*end) {
    case 'k':
    case 'K':
        mult = 1024.0;
        end++;
        break;
    case 'm':
    case 'M':
        mult = 1024.0 * 1024.0;
        end++;
        break;
    case 'g':
    case 'G':
        mult = 1024.0 * 1024.0 * 1024.0;
        end++;
        break;
    default:
        break;
    }
    if (strcmp(end, "") != 0 && strcmp(end, "B") != 0 && strcmp(end, "iB") != 0) {
        return -1;
    }
    *out = (uint64_t)(v * mult);
    return 0;
}

static const bench_engine_ops *
find_engine(const char *name)
{
    for (int i = 0; bench_engines[i] != NULL; i++) {
        if (strcmp(bench_engines[i]->name, name) == 0) {
            return bench_engines[i];
        }
    }
    return NULL;
}

static int
set_engines(options *o, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    o->nengines = 0;
    for (char *t = strtok_r(copy, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        const bench_engine_ops *e = find_engine(t);
        if (e == NULL) {
            fprintf(stderr, "strata-bench: unknown or not built engine '%s'\n", t);
            free(copy);
            return -1;
        }
        if (o->nengines == MAX_ENGINES) {
            fprintf(stderr, "strata-bench: too many engines\n");
            free(copy);
            return -1;
        }
        o->engines[o->nengines++] = e;
    }
    free(copy);
    return o->nengines > 0 ? 0 : -1;
}

static int
set_workloads(options *o, const char *list)
{
    free(o->workload_list);
    o->workload_list = strdup(list);
    o->cfg.nworkloads = 0;
    char *save = NULL;
    for (char *t = strtok_r(o->workload_list, ",", &save); t != NULL;
         t = strtok_r(NULL, ",", &save)) {
        if (!bench_workload_known(t)) {
            fprintf(stderr, "strata-bench: unknown benchmark '%s'\n", t);
            return -1;
        }
        if (o->cfg.nworkloads == BENCH_MAX_WORKLOADS) {
            fprintf(stderr, "strata-bench: too many benchmarks\n");
            return -1;
        }
        int seen = 0;
        for (int k = 0; k < o->cfg.nworkloads; k++) {
            seen += strcmp(o->cfg.workloads[k], t) == 0;
        }
        char *label = o->cfg.labels[o->cfg.nworkloads];
        if (seen > 0) {
            snprintf(label, sizeof o->cfg.labels[0], "%s#%d", t, seen + 1);
        } else {
            snprintf(label, sizeof o->cfg.labels[0], "%s", t);
        }
        o->cfg.workloads[o->cfg.nworkloads++] = t;
    }
    return o->cfg.nworkloads > 0 ? 0 : -1;
}

/* Returns 0 to run, 1 after --help, -1 on a bad option. */
static int
parse_args(options *o, int argc, char **argv)
{
    bench_config *c = &o->cfg;
    c->num = 1000000;
    c->value_size = 100;
    c->compression_ratio = 0.5;
    c->threads = 1;
    c->batch_size = 1;
    c->seek_nexts = 1;
    c->seed = 301;
    c->progress = isatty(STDERR_FILENO);
    c->engine.bloom_bits = 10;
    o->repeat = 1;
    o->fsync_seconds = 1.0;
    if (set_workloads(o, DEFAULT_WORKLOADS) != 0) {
        return -1;
    }
    for (int i = 0; bench_engines[i] != NULL && i < MAX_ENGINES; i++) {
        o->engines[o->nengines++] = bench_engines[i];
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *eq = strchr(a, '=');
        const char *v = eq ? eq + 1 : "";
        size_t nl = eq ? (size_t)(eq - a) : strlen(a);
        uint64_t u = 0;
        int bad = 0;
#define IS(name) (nl == strlen(name) && strncmp(a, name, nl) == 0)
        if (IS("--help") || IS("-h")) {
            usage(stdout);
            return 1;
        } else if (IS("--demo")) {
            c->num = 200000;
            c->engine.write_buffer = 4u << 20; /* so every engine reads from tables */
            bad = set_workloads(o, DEMO_WORKLOADS);
        } else if (IS("--keep_db")) {
            o->keep_db = 1;
        } else if (eq == NULL) {
            bad = 1;
        } else if (IS("--benchmarks")) {
            bad = set_workloads(o, v);
        } else if (IS("--engines")) {
            bad = set_engines(o, v);
        } else if (IS("--num")) {
            bad = bench_parse_u64(v, &c->num) || c->num == 0;
        } else if (IS("--reads")) {
            bad = bench_parse_u64(v, &c->reads);
            o->reads_set = 1;
        } else if (IS("--sync_num")) {
            bad = bench_parse_u64(v, &c->sync_num);
            o->sync_set = 1;
        } else if (IS("--value_size")) {
            bad = bench_parse_u64(v, &u) || u == 0 || u > (64u << 20);
            c->value_size = (size_t)u;
        } else if (IS("--compression_ratio")) {
            c->compression_ratio = atof(v);
            bad = c->compression_ratio <= 0 || c->compression_ratio > 1;
        } else if (IS("--threads")) {
            bad = bench_parse_u64(v, &u) || u == 0 || u > 256;
            c->threads = (int)u;
        } else if (IS("--batch_size")) {
            bad = bench_parse_u64(v, &u) || u == 0 || u > 1000000;
            c->batch_size = (int)u;
        } else if (IS("--seek_nexts")) {
            bad = bench_parse_u64(v, &u) || u > 1000000;
            c->seek_nexts = (int)u;
        } else if (IS("--cache_size")) {
            bad = parse_size(v, &u);
            c->engine.cache_size = (size_t)u;
        } else if (IS("--write_buffer_size")) {
            bad = parse_size(v, &u);
            c->engine.write_buffer = (size_t)u;
        } else if (IS("--bloom_bits")) {
            bad = bench_parse_u64(v, &u) || u > 64;
            c->engine.bloom_bits = (int)u;
        } else if (IS("--db")) {
            o->db = v;
        } else if (IS("--csv")) {
            o->csv = v;
        } else if (IS("--markdown")) {
            o->markdown = v;
        } else if (IS("--seed")) {
            bad = bench_parse_u64(v, &c->seed);
        } else if (IS("--repeat")) {
            bad = bench_parse_u64(v, &u) || u == 0 || u > 100;
            o->repeat = (int)u;
        } else if (IS("--stats")) {
            c->print_stats = atoi(v) != 0;
        } else if (IS("--progress")) {
            c->progress = atoi(v) != 0;
        } else if (IS("--fsync_seconds")) {
            o->fsync_seconds = atof(v);
        } else {
            bad = 1;
        }
#undef IS
        if (bad) {
            fprintf(stderr, "strata-bench: bad option '%s' (see --help)\n", a);
            return -1;
        }
    }
    if (!o->reads_set) {
        c->reads = c->num;
    }
    if (!o->sync_set) {
        c->sync_num = c->num / 100 < 100 ? 100 : c->num / 100;
    }
    if (c->sync_num > c->num) {
        c->sync_num = c->num;
    }
    return 0;
}

/* ---- results ------------------------------------------------------------------------------- */

typedef struct results {
    bench_result *r;
    size_t n, cap;
} results;

static int
results_add(results *rs, const bench_result *r)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        bench_result *p = realloc(rs->r, cap * sizeof *p);
        if (p == NULL) {
            return -1;
        }
        rs->r = p;
        rs->cap = cap;
    }
    rs->r[rs->n++] = *r;
    return 0;
}

static double
ops_per_sec(const bench_result *r)
{
    return r->secs > 0 ? (double)r->ops / r->secs : 0.0;
}

static double
mb_per_sec(const bench_result *r)
{
    return r->secs > 0 ? (double)r->bytes / 1048576.0 / r->secs : 0.0;
}

static double
write_amp(const bench_result *r)
{
    return r->user_write_bytes ? (double)r->disk_write_bytes / (double)r->user_write_bytes : 0.0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

/* The median over repetitions of every numeric field of engine e, workload w (rep = 0). */
static int
median_result(const results *rs, const char *engine, const char *workload, bench_result *out)
{
    const bench_result *m[128];
    int n = 0;
    for (size_t i = 0; i < rs->n && n < 128; i++) {
        if (strcmp(rs->r[i].engine, engine) == 0 && strcmp(rs->r[i].workload, workload) == 0) {
            m[n++] = &rs->r[i];
        }
    }
    if (n == 0) {
        return -1;
    }
    *out = *m[0];
    out->rep = 0;
    double v[128];
#define MED(field, type)                                                                           \
    do {                                                                                           \
        for (int i_ = 0; i_ < n; i_++) {                                                           \
            v[i_] = (double)m[i_]->field;                                                          \
        }                                                                                          \
        out->field = (type)median(v, n);                                                           \
    } while (0)
    MED(ops, uint64_t);
    MED(found, uint64_t);
    MED(bytes, uint64_t);
    MED(user_write_bytes, uint64_t);
    MED(disk_write_bytes, uint64_t);
    MED(disk_size, uint64_t);
    MED(peak_rss_kb, uint64_t);
    MED(peak_anon_kb, uint64_t);
    MED(peak_file_kb, uint64_t);
    MED(secs, double);
    MED(cpu_secs, double);
    MED(p50_us, double);
    MED(p99_us, double);
    MED(p999_us, double);
    MED(avg_us, double);
#undef MED
    /* Throughput is the median of the per-repetition rates, not ops / median(secs). */
    for (int i = 0; i < n; i++) {
        v[i] = ops_per_sec(m[i]);
        if (m[i]->failed && !out->failed) {
            out->failed = 1;
            memcpy(out->error, m[i]->error, sizeof out->error);
        }
    }
    double rate = median(v, n);
    if (rate > 0) {
        out->secs = (double)out->ops / rate;
    }
    return 0;
}

/* ops/s of `r` divided by the best other engine's on the same workload; 0 when none. */
static double
vs_best_peer(const bench_result *meds, int n, const bench_result *r)
{
    double best = 0;
    for (int i = 0; i < n; i++) {
        const bench_result *p = &meds[i];
        if (p != r && !p->failed && strcmp(p->workload, r->workload) == 0 &&
            strcmp(p->engine, r->engine) != 0 && ops_per_sec(p) > best) {
            best = ops_per_sec(p);
        }
    }
    return best > 0 && !r->failed ? ops_per_sec(r) / best : 0.0;
}

static void
fmt_us(char *buf, size_t n, double us)
{
    if (us >= 100.0) {
        snprintf(buf, n, "%.0f", us);
    } else if (us >= 10.0) {
        snprintf(buf, n, "%.1f", us);
    } else {
        snprintf(buf, n, "%.2f", us);
    }
}

/* Formats the columns shared by the terminal table and the markdown table. */
typedef struct row_text {
    char ops[32], mbs[32], p50[32], p99[32], p999[32], cpu[32], wamp[32], disk[32], anon[32],
        file[32], ratio[32];
} row_text;

static void
row_format(row_text *t, const bench_result *meds, int n, const bench_result *r)
{
    snprintf(t->ops, sizeof t->ops, ops_per_sec(r) < 100 ? "%.2f" : "%.0f", ops_per_sec(r));
    snprintf(t->mbs, sizeof t->mbs, "%.1f", mb_per_sec(r));
    fmt_us(t->p50, sizeof t->p50, r->p50_us);
    fmt_us(t->p99, sizeof t->p99, r->p99_us);
    fmt_us(t->p999, sizeof t->p999, r->p999_us);
    snprintf(t->cpu, sizeof t->cpu, "%.2f", r->cpu_secs);
    if (r->user_write_bytes > 0) {
        snprintf(t->wamp, sizeof t->wamp, "%.2f", write_amp(r));
    } else {
        snprintf(t->wamp, sizeof t->wamp, "-");
    }
    snprintf(t->disk, sizeof t->disk, "%.1f", (double)r->disk_size / 1048576.0);
    snprintf(t->anon, sizeof t->anon, "%.1f", (double)r->peak_anon_kb / 1024.0);
    snprintf(t->file, sizeof t->file, "%.1f", (double)r->peak_file_kb / 1024.0);
    double ratio = vs_best_peer(meds, n, r);
    if (ratio > 0) {
        snprintf(t->ratio, sizeof t->ratio, "%.2fx", ratio);
    } else {
        snprintf(t->ratio, sizeof t->ratio, "-");
    }
}

/* One line per engine: the geometric mean of its "vs peer" ratios over the workloads where it
 * and at least one peer succeeded. */
static void
print_geomeans(FILE *f, const options *o, const bench_result *meds, int n, const char *prefix)
{
    for (int e = 0; e < o->nengines && o->nengines > 1; e++) {
        double logsum = 0;
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (strcmp(meds[i].engine, o->engines[e]->name) != 0) {
                continue;
            }
            double ratio = vs_best_peer(meds, n, &meds[i]);
            if (ratio > 0) {
                logsum += log(ratio);
                k++;
            }
        }
        if (k > 0) {
            fprintf(f, "%s%s vs best peer, geometric mean over %d workloads: %.2fx\n", prefix,
                    o->engines[e]->name, k, exp(logsum / k));
        }
    }
}

static void
print_table(FILE *f, const bench_result *meds, int n, int repeat)
{
    fprintf(f, "\n%s\n", repeat > 1 ? "Medians over the repetitions:" : "Results:");
    fprintf(f, "%-16s %-8s %10s %7s %8s %8s %8s %7s %6s %8s %7s %7s %8s\n", "workload", "engine",
            "ops/s", "MB/s", "p50 us", "p99 us", "p99.9us", "CPU s", "W-amp", "disk MB", "anon MB",
            "file MB", "vs peer");
    const char *last = "";
    for (int i = 0; i < n; i++) {
        const bench_result *r = &meds[i];
        const char *wname = strcmp(r->workload, last) == 0 ? "" : r->workload;
        last = r->workload;
        if (r->failed) {
            fprintf(f, "%-16s %-8s FAILED: %s\n", wname, r->engine, r->error);
            continue;
        }
        row_text t;
        row_format(&t, meds, n, r);
        fprintf(f, "%-16s %-8s %10s %7s %8s %8s %8s %7s %6s %8s %7s %7s %8s\n", wname, r->engine,
                t.ops, t.mbs, t.p50, t.p99, t.p999, t.cpu, t.wamp, t.disk, t.anon, t.file, t.ratio);
    }
    fprintf(f, "vs peer = ops/s divided by the best other engine's ops/s on the same workload.\n"
               "anon MB / file MB = peak anonymous / file-backed (mapped files) resident memory "
               "during the workload.\n");
}

static int
close_report(FILE *f, const char *path)
{
    if (fclose(f) != 0) {
        fprintf(stderr, "strata-bench: error writing %s\n", path);
        return -1;
    }
    return 0;
}

static void
csv_row(FILE *f, const bench_config *c, const bench_result *r)
{
    char rep[16];
    if (r->rep == 0) {
        snprintf(rep, sizeof rep, "median");
    } else {
        snprintf(rep, sizeof rep, "%d", r->rep);
    }
    fprintf(f,
            "%s,%s,%s,%d,%llu,%zu,%zu,%llu,%llu,%.6f,%.1f,%.3f,%.3f,%.3f,%.3f,%.3f,%.3f,%llu,%llu,"
            "%.3f,%llu,%llu,%llu,%llu,%s\n",
            rep, r->engine, r->workload, r->threads, (unsigned long long)c->num, c->value_size,
            c->engine.cache_size, (unsigned long long)r->ops, (unsigned long long)r->found, r->secs,
            ops_per_sec(r), mb_per_sec(r), r->p50_us, r->p99_us, r->p999_us, r->avg_us, r->cpu_secs,
            (unsigned long long)r->user_write_bytes, (unsigned long long)r->disk_write_bytes,
            write_amp(r), (unsigned long long)r->disk_size, (unsigned long long)r->peak_rss_kb,
            (unsigned long long)r->peak_anon_kb, (unsigned long long)r->peak_file_kb,
            r->failed ? "FAILED" : "ok");
}

static int
write_csv(const char *path, const bench_config *c, const results *rs, const bench_result *meds,
          int nmeds, double fsync_rate)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "strata-bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    fprintf(f, "rep,engine,workload,threads,num,value_size,cache_size,ops,found,seconds,"
               "ops_per_sec,mb_per_sec,p50_us,p99_us,p999_us,avg_us,cpu_seconds,"
               "user_write_bytes,disk_write_bytes,write_amp,disk_bytes,peak_rss_kb,peak_anon_kb,"
               "peak_file_kb,status\n");
    for (size_t i = 0; i < rs->n; i++) {
        csv_row(f, c, &rs->r[i]);
    }
    for (int i = 0; i < nmeds; i++) {
        csv_row(f, c, &meds[i]);
    }
    if (fsync_rate > 0) {
        fprintf(f, "median,machine,fsync4k,1,0,4096,0,0,0,0,%.1f,0,0,0,0,0,0,0,0,0,0,0,0,0,ok\n",
                fsync_rate);
    }
    return close_report(f, path);
}

static void
describe_run(FILE *f, const options *o, const char *line_prefix)
{
    const bench_config *c = &o->cfg;
    struct utsname u;
    if (uname(&u) != 0) {
        memset(&u, 0, sizeof u);
    }
    char cache[48], wbuf[48];
    if (c->engine.cache_size) {
        snprintf(cache, sizeof cache, "%zu MiB", c->engine.cache_size >> 20);
    } else {
        snprintf(cache, sizeof cache, "engine defaults");
    }
    if (c->engine.write_buffer) {
        snprintf(wbuf, sizeof wbuf, "%zu MiB", c->engine.write_buffer >> 20);
    } else {
        snprintf(wbuf, sizeof wbuf, "engine defaults");
    }
    fprintf(f,
            "%snum=%llu reads=%llu value_size=%zu (compression ratio %.2f) key_size=16 "
            "threads=%d batch_size=%d\n"
            "%scache=%s write_buffer=%s bloom_bits=%d repeat=%d seed=%llu\n"
            "%smachine: %s %s, %ld cores\n",
            line_prefix, (unsigned long long)c->num, (unsigned long long)c->reads, c->value_size,
            c->compression_ratio, c->threads, c->batch_size, line_prefix, cache, wbuf,
            c->engine.bloom_bits, o->repeat, (unsigned long long)c->seed, line_prefix, u.sysname,
            u.release, sysconf(_SC_NPROCESSORS_ONLN));
    for (int i = 0; i < o->nengines; i++) {
        fprintf(f, "%s%-8s %s\n", line_prefix, o->engines[i]->name, o->engines[i]->describe());
    }
}

static int
write_markdown(const char *path, const options *o, const bench_result *meds, int n,
               double fsync_rate)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "strata-bench: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    time_t now = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    fprintf(f, "Measured %s by `strata-bench` (median of %d run%s):\n\n```\n", date, o->repeat,
            o->repeat > 1 ? "s" : "");
    describe_run(f, o, "");
    if (fsync_rate > 0) {
        fprintf(f, "raw fsync rate (4 KiB append + fdatasync): %.0f/s\n", fsync_rate);
    }
    fprintf(f, "```\n\n");
    fprintf(f, "| workload | engine | ops/s | MB/s | p50 µs | p99 µs | p99.9 µs | CPU s | W-amp "
               "| disk MB | anon MB | file MB | vs best peer |\n");
    fprintf(f, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (int i = 0; i < n; i++) {
        const bench_result *r = &meds[i];
        if (r->failed) {
            fprintf(f, "| %s | %s | FAILED | | | | | | | | | | |\n", r->workload, r->engine);
            continue;
        }
        row_text t;
        row_format(&t, meds, n, r);
        fprintf(f, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
                r->workload, r->engine, t.ops, t.mbs, t.p50, t.p99, t.p999, t.cpu, t.wamp, t.disk,
                t.anon, t.file, t.ratio);
    }
    fprintf(f, "\n");
    print_geomeans(f, o, meds, n, "- ");
    return close_report(f, path);
}

/* ---- running ------------------------------------------------------------------------------- */

static void
print_live(const bench_result *r)
{
    if (r->failed) {
        printf("%-8s %-16s FAILED: %s\n", r->engine, r->workload, r->error);
    } else {
        char p50[32], p99[32];
        fmt_us(p50, sizeof p50, r->p50_us);
        fmt_us(p99, sizeof p99, r->p99_us);
        printf("%-8s %-16s %10.0f ops/s %7.1f MB/s  p50 %7s us  p99 %7s us  %7.2f s", r->engine,
               r->workload, ops_per_sec(r), mb_per_sec(r), p50, p99, r->secs);
        if (r->found != r->ops && r->found > 0) {
            printf("  (%llu found)", (unsigned long long)r->found);
        }
        printf("\n");
    }
    fflush(stdout);
}

/* Fork one child for engine e; collect its results. Returns 0 when it succeeded. */
static int
run_child(const options *o, const bench_engine_ops *e, const char *dir, int rep, results *rs)
{
    if (bench_remove_tree(dir) != 0) {
        fprintf(stderr, "strata-bench: %s\n", bench_last_error());
        return -1;
    }
    int p[2];
    if (pipe(p) != 0) {
        fprintf(stderr, "strata-bench: pipe: %s\n", strerror(errno));
        return -1;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "strata-bench: fork: %s\n", strerror(errno));
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        close(p[0]);
        int rc = bench_run_engine(&o->cfg, e, dir, p[1], rep);
        close(p[1]);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    close(p[1]);
    int failed = 0;
    bench_result r;
    for (;;) {
        size_t got = 0;
        while (got < sizeof r) {
            ssize_t k = read(p[0], (char *)&r + got, sizeof r - got);
            if (k < 0 && errno == EINTR) {
                continue;
            }
            if (k <= 0) {
                break;
            }
            got += (size_t)k;
        }
        if (got < sizeof r) {
            break;
        }
        print_live(&r);
        failed |= r.failed;
        if (results_add(rs, &r) != 0) {
            fprintf(stderr, "strata-bench: out of memory\n");
            failed = 1;
        }
    }
    close(p[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "strata-bench: %s crashed with signal %d\n", e->name, WTERMSIG(status));
        failed = 1;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        fprintf(stderr, "strata-bench: %s exited with status %d\n", e->name, WEXITSTATUS(status));
        failed = 1;
    }
    return failed ? -1 : 0;
}

int
main(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    int prc = parse_args(&o, argc, argv);
    if (prc != 0) {
        free(o.workload_list);
        return prc > 0 ? 0 : 2;
    }
    char root[4096];
    int own_root = o.db == NULL;
    if (own_root) {
        const char *tmp = getenv("TMPDIR");
        snprintf(root, sizeof root, "%s/strata-bench-%ld", tmp && *tmp ? tmp : "/tmp",
                 (long)getpid());
    } else {
        snprintf(root, sizeof root, "%s", o.db);
    }
    if (mkdir(root, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "strata-bench: cannot create %s: %s\n", root, strerror(errno));
        return 2;
    }
    printf("strata-bench: databases under %s\n", root);
    describe_run(stdout, &o, "  ");

    double fsync_rate = -1;
    for (int i = 0; i < o.cfg.nworkloads; i++) {
        if (strcmp(o.cfg.workloads[i], "fillsync") == 0 && o.fsync_seconds > 0) {
            fsync_rate = bench_fsync_rate(root, o.fsync_seconds);
            if (fsync_rate < 0) {
                fprintf(stderr, "strata-bench: fsync probe: %s\n", bench_last_error());
            } else {
                printf("  raw fsync rate (4 KiB append + fdatasync): %.0f/s\n", fsync_rate);
            }
            break;
        }
    }

    results rs = {0};
    int failed = 0;
    for (int rep = 1; rep <= o.repeat; rep++) {
        if (o.repeat > 1) {
            printf("-- repetition %d of %d\n", rep, o.repeat);
        }
        for (int e = 0; e < o.nengines; e++) {
            char dir[4200];
            snprintf(dir, sizeof dir, "%s/%s", root, o.engines[e]->name);
            if (run_child(&o, o.engines[e], dir, rep, &rs) != 0) {
                failed = 1;
            }
            if (!o.keep_db && bench_remove_tree(dir) != 0) {
                fprintf(stderr, "strata-bench: %s\n", bench_last_error());
            }
        }
    }

    /* Medians, workload-major so the table groups engines side by side. */
    int cap = o.cfg.nworkloads * o.nengines, nmeds = 0;
    bench_result *meds = calloc((size_t)(cap ? cap : 1), sizeof *meds);
    for (int w = 0; meds != NULL && w < o.cfg.nworkloads; w++) {
        for (int e = 0; e < o.nengines; e++) {
            if (median_result(&rs, o.engines[e]->name, o.cfg.labels[w], &meds[nmeds]) == 0) {
                nmeds++;
            }
        }
    }
    if (meds != NULL) {
        print_table(stdout, meds, nmeds, o.repeat);
        print_geomeans(stdout, &o, meds, nmeds, "");
        if (fsync_rate > 0) {
            printf("raw fsync rate of this machine (4 KiB append + fdatasync): %.0f/s\n",
                   fsync_rate);
        }
    }
    if (o.csv != NULL && write_csv(o.csv, &o.cfg, &rs, meds, nmeds, fsync_rate) != 0) {
        failed = 1;
    }
    if (o.markdown != NULL && meds != NULL &&
        write_markdown(o.markdown, &o, meds, nmeds, fsync_rate) != 0) {
        failed = 1;
    }
    if (own_root && !o.keep_db) {
        rmdir(root);
    }
    free(meds);
    free(rs.r);
    free(o.workload_list);
    if (failed) {
        fprintf(stderr, "strata-bench: FAILED (see above)\n");
    }
    return failed ? 1 : 0;
}
