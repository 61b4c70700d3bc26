/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench.h -- shared declarations of strata-bench: the engine vtable every adapter implements,
 * the run configuration, the latency histogram and the compressible value generator.
 *
 * strata-bench is a program, not library code: it uses plain POSIX calls and malloc, and only the
 * public APIs of the engines it drives (<strata/strata.h>, <leveldb/c.h>, <rocksdb/c.h>).
 */
#ifndef STRATA_BENCH_BENCH_H
#define STRATA_BENCH_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------------------------
 * Engine configuration: the same for every engine of one run (equal settings, equal memory).
 * ------------------------------------------------------------------------------------------- */
typedef struct bench_engine_config {
    size_t cache_size;   /* block cache bytes; 0 = the engine's own default */
    int bloom_bits;      /* bloom filter bits per key (10) */
    int prefix_keys;     /* 1: the workload uses long shared prefixes (strata: trie memtable) */
    size_t write_buffer; /* memtable bytes; 0 = the engine's own default */
} bench_engine_config;

/*
 * bench_engine_ops -- one adapter per engine (engine_strata.c, engine_leveldb.c,
 * engine_rocksdb.c). Every function returning int returns 0 on success and -1 on failure after
 * recording a message with bench_set_error(); get returns 1 when the key is absent.
 * Handles (`db`, batches, iterators) are opaque adapter objects. A db handle is used by several
 * threads at once (all three engines are thread-safe); batches and iterators by one thread.
 * Iterator key/value pointers are borrowed and valid until the next move or iter_free.
 */
typedef struct bench_engine_ops {
    const char *name;
    int (*open)(const char *dir, const bench_engine_config *cfg, void **db);
    void (*close)(void *db);
    int (*put)(void *db, const char *k, size_t kl, const char *v, size_t vl, int sync);
    /* On 0 *vl is the value's length and its first min(*vl, cap) bytes are copied to buf. */
    int (*get)(void *db, const char *k, size_t kl, char *buf, size_t cap, size_t *vl);
    int (*del)(void *db, const char *k, size_t kl, int sync);
    /* Delete every key in [b, e) with one range delete; NULL when the engine has none. */
    int (*del_range)(void *db, const char *b, size_t bl, const char *e, size_t el, int sync);
    void *(*batch_new)(void);
    int (*batch_put)(void *b, const char *k, size_t kl, const char *v, size_t vl);
    void (*batch_clear)(void *b);
    void (*batch_free)(void *b);
    int (*write)(void *db, void *b, int sync);
    void *(*iter_new)(void *db); /* NULL on failure (message set) */
    void (*iter_seek_first)(void *it);
    void (*iter_seek)(void *it, const char *k, size_t kl);
    int (*iter_valid)(void *it);
    void (*iter_next)(void *it);
    const char *(*iter_key)(void *it, size_t *kl);
    const char *(*iter_value)(void *it, size_t *vl);
    int (*iter_status)(void *it); /* 0, or -1 with the message set */
    void (*iter_free)(void *it);
    int (*flush)(void *db);   /* memtable to disk, waiting for it */
    int (*compact)(void *db); /* whole key range, waiting for it */
    /* The engine's own statistics text ("leveldb.stats", "rocksdb.stats", "strata.stats") as a
     * malloc'ed string the caller free()s; NULL when unavailable. */
    char *(*stats)(void *db);
    /* A short one-line description of the engine's settings and version (static storage). */
    const char *(*describe)(void);
} bench_engine_ops;

/* The adapters compiled into this binary, in --engines order; NULL-terminated. */
extern const bench_engine_ops *const bench_engines[];
extern const bench_engine_ops bench_engine_leveldb;
extern const bench_engine_ops bench_engine_rocksdb;
#ifdef BENCH_WITH_STRATA
extern const bench_engine_ops bench_engine_strata;
#endif

/* Parse a decimal unsigned 64-bit number (the whole string); 0 on success, -1 otherwise. */
int bench_parse_u64(const char *s, uint64_t *out);

/* bench_set_error -- record the calling thread's failure message (printf-style).
 * bench_last_error -- read it back (thread-local, never NULL). */
void bench_set_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *bench_last_error(void);

/* ---------------------------------------------------------------------------------------------
 * Latency histogram: log-linear buckets (32 per power of two, <= ~3% relative error) over
 * nanoseconds. One per thread, merged at the end. Not thread-safe.
 * ------------------------------------------------------------------------------------------- */
#define BENCH_HIST_SUB 32
#define BENCH_HIST_BUCKETS (64 * BENCH_HIST_SUB)
typedef struct bench_hist {
    uint64_t count;
    uint64_t sum_ns;
    uint64_t max_ns;
    uint64_t buckets[BENCH_HIST_BUCKETS];
} bench_hist;

void bench_hist_clear(bench_hist *h);
void bench_hist_add(bench_hist *h, uint64_t ns);
void bench_hist_merge(bench_hist *dst, const bench_hist *src);
/* The value below which fraction q (0..1) of the samples lie, in nanoseconds (0 when empty). */
double bench_hist_percentile(const bench_hist *h, double q);

/* ---------------------------------------------------------------------------------------------
 * Randomness and data: a small deterministic PRNG and db_bench's idea of a value generator.
 * ------------------------------------------------------------------------------------------- */
typedef struct bench_rng {
    uint64_t s;
} bench_rng;
uint64_t bench_rng_next(bench_rng *r);                /* splitmix64 */
uint64_t bench_rng_uniform(bench_rng *r, uint64_t n); /* 0..n-1; n > 0 */

/*
 * bench_valuegen -- a 1 MiB buffer made of 100-byte pieces, each `ratio` random printable bytes
 * repeated to fill the piece, so any value cut from it compresses to about `ratio` of its size.
 * value_for(k) returns a borrowed pointer to `len` bytes that are a pure function of the key
 * number, so readers can check what they get back. Immutable after init: thread-safe.
 */
typedef struct bench_valuegen {
    char *data;
    size_t size;
} bench_valuegen;
int bench_valuegen_init(bench_valuegen *g, uint64_t seed, double ratio, size_t min_len);
void bench_valuegen_free(bench_valuegen *g);
const char *bench_valuegen_value(const bench_valuegen *g, uint64_t k, size_t len);

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

/* ---------------------------------------------------------------------------------------------
 * A run: the command line, the per-engine child process and the results it sends back.
 * ------------------------------------------------------------------------------------------- */
#define BENCH_MAX_WORKLOADS 32

typedef struct bench_config {
    uint64_t num;             /* keys in the data set (--num) */
    uint64_t reads;           /* read operations (--reads); defaults to num */
    uint64_t sync_num;        /* operations of fillsync (--sync_num); defaults to num / 100 */
    size_t value_size;        /* --value_size (100) */
    double compression_ratio; /* of the generated values (0.5) */
    int threads;              /* --threads (1) */
    int batch_size;           /* entries per write batch (1 = plain puts) */
    int seek_nexts;           /* entries read after each seek of seekrandom (1) */
    uint64_t seed;            /* --seed */
    int progress;             /* draw a progress bar on stderr */
    int print_stats;          /* print the engine's statistics after every workload */
    int nworkloads;
    const char *workloads[BENCH_MAX_WORKLOADS];
    char labels[BENCH_MAX_WORKLOADS][24]; /* result names: "readrandom", "readrandom#2", ... */
    bench_engine_config engine;           /* cache size, bloom bits, write buffer */
} bench_config;

/* One measured workload on one engine; a fixed-size record so a child can write() it whole. */
typedef struct bench_result {
    char engine[16];
    char workload[24];
    int rep;    /* 1-based repetition; 0 = the median over repetitions */
    int failed; /* 1: the engine failed or a built-in correctness check did */
    char error[256];
    int threads;
    uint64_t ops;              /* operations done */
    uint64_t found;            /* reads that found their key / entries a scan returned */
    uint64_t bytes;            /* user bytes moved (keys + values) */
    uint64_t user_write_bytes; /* keys + values written by the workload */
    uint64_t disk_write_bytes; /* bytes the process sent to storage meanwhile */
    uint64_t disk_size;        /* bytes in the database directory afterwards */
    uint64_t peak_rss_kb;      /* ru_maxrss of the engine's process so far */
    uint64_t peak_anon_kb;     /* peak RssAnon during the workload (heap, memtables, caches) */
    uint64_t peak_file_kb;     /* peak RssFile during the workload (mapped tables, binaries) */
    double secs;               /* wall time */
    double cpu_secs;           /* user + system time of the engine's process (all its threads) */
    double p50_us, p99_us, p999_us, avg_us;
} bench_result;

/*
 * Peak anonymous and file-backed resident memory of this process, sampled from /proc/self/status
 * (RssAnon, RssFile) every 10 ms by a background thread: ru_maxrss alone mixes heap with mapped
 * table files, which the OS can drop at any time. start() begins a new measurement window (and
 * the thread on first use); peak() reads the maxima since then. Both report 0 where /proc is
 * missing.
 */
void bench_rss_start(void);
void bench_rss_peak(uint64_t *anon_kb, uint64_t *file_kb);

/* 1 when `name` is a workload strata-bench knows. */
int bench_workload_known(const char *name);

/*
 * bench_run_engine -- body of one engine's child process: opens `ops` in directory `dir` (which
 * must not exist yet) and runs cfg's workloads in order, writing one bench_result per workload to
 * file descriptor `out`. Returns the process exit code: 0 when every workload and every
 * correctness check passed, 1 otherwise (the failing result carries the message).
 */
int bench_run_engine(const bench_config *cfg, const bench_engine_ops *ops, const char *dir, int out,
                     int rep);

/* Raw fsync rate of the file system holding `dir`: 4 KiB write + fdatasync per iteration, for
 * about `seconds`. Returns operations per second, or -1 on error (message set). */
double bench_fsync_rate(const char *dir, double seconds);

/* Bytes in regular files below `path` (recursive); 0 when it does not exist. */
uint64_t bench_dir_size(const char *path);
/* rm -rf `path`; 0 on success or when absent, -1 with a message otherwise. */
int bench_remove_tree(const char *path);

#endif /* STRATA_BENCH_BENCH_H */
