/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workloads.c -- the workloads of strata-bench and the body of one engine's child process.
 *
 * Key space: key number k in [0, num) is the 16-byte decimal "%016llu" (db_bench's format), or for
 * the prefix workloads "user/%010llu/profile/field/%06llu" (user k / 100, field k % 100): long
 * prefixes shared by neighbours. The value of key k is a pure function of k (see
 * bench_valuegen_value), so every read checks what it gets back. A one-byte-per-key table
 * `present` tracks which keys the database must hold; reads fail the run when the engine
 * disagrees with it.
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

enum { SPACE_NORMAL = 0, SPACE_PREFIX = 1 };
#define KEY_CAP 64
#define PREFIX_FANOUT 100 /* keys per "user/..." prefix */

/* ---- key formatting ------------------------------------------------------------------------ */

static void
put_digits(char *p, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

static size_t
make_key(char *buf, int space, uint64_t k)
{
    if (space == SPACE_NORMAL) {
        put_digits(buf, k, 16);
        return 16;
    }
    static const char tmpl[] = "user/0000000000/profile/field/000000";
    memcpy(buf, tmpl, sizeof tmpl - 1);
    put_digits(buf + 5, k / PREFIX_FANOUT, 10);
    put_digits(buf + 30, k % PREFIX_FANOUT, 6);
    return sizeof tmpl - 1;
}

/* The scan prefix of user u: "user/%010llu/". */
static size_t
make_user_prefix(char *buf, uint64_t u)
{
    memcpy(buf, "user/", 5);
    put_digits(buf + 5, u, 10);
    buf[15] = '/';
    return 16;
}

/* A key that is never written: the normal key plus a '.', sorting just after it. */
static size_t
make_missing_key(char *buf, uint64_t k)
{
    put_digits(buf, k, 16);
    buf[16] = '.';
    return 17;
}

/* ---- a random permutation of [0, n) without memory: 4-round Feistel + cycle walking ------- */

typedef struct bench_perm {
    uint64_t n;
    unsigned half;
    uint64_t mask;
    uint64_t keys[4];
} bench_perm;

static void
perm_init(bench_perm *p, uint64_t n, uint64_t seed)
{
    unsigned bits = 2;
    while (bits < 64 && (1ull << bits) < n) {
        bits++;
    }
    bits += bits & 1u;
    p->n = n;
    p->half = bits / 2;
    p->mask = (1ull << p->half) - 1;
    bench_rng r = {seed ^ 0xfe15e1ull};
    for (int i = 0; i < 4; i++) {
        p->keys[i] = bench_rng_next(&r);
    }
}

static uint64_t
perm_apply(const bench_perm *p, uint64_t x)
{
    do {
        uint64_t l = x >> p->half, r = x & p->mask;
        for (int i = 0; i < 4; i++) {
            bench_rng m = {r ^ p->keys[i]};
            uint64_t f = bench_rng_next(&m) & p->mask;
            uint64_t nl = r;
            r = l ^ f;
            l = nl;
        }
        x = (l << p->half) | r;
    } while (x >= p->n);
    return x;
}

/* ---- context and workers ------------------------------------------------------------------- */

typedef struct bench_ctx {
    const bench_config *cfg;
    const bench_engine_ops *ops;
    const char *dir;
    void *db;
    int space;       /* key space of the data in db */
    int opened_with; /* prefix_keys the db was opened with */
    _Atomic uint8_t *present;
    bench_valuegen gen;
    bench_perm perm;
    atomic_uint_fast64_t progress;
    atomic_int stop;
    uint64_t total; /* operations expected from the current workload (progress bar) */
    uint64_t start_ns, last_draw_ns;
    const char *wname;
} bench_ctx;

struct workload;

typedef struct worker {
    bench_ctx *ctx;
    const struct workload *w;
    int tid, nthreads;
    uint64_t begin, end; /* this thread's share of the workload's operation indexes */
    bench_rng rng;
    void *batch;
    int batched;
    bench_hist hist;
    uint64_t ops, found, bytes, written;
    int failed;
    char error[256];
    pthread_t th;
} worker;

enum { KEYS_SEQ, KEYS_PERM, KEYS_UNIFORM };

typedef struct workload {
    const char *name;
    int fresh;  /* starts from an empty database */
    int space;  /* key space it reads or writes (-1: any) */
    int writer; /* readwhilewriting: one extra writer thread */
    uint64_t (*count)(const bench_ctx *);
    int (*run)(worker *);
    int keys; /* write workloads: KEYS_* order of the keys written */
    int sync; /* write workloads: sync every write */
} workload;

static int fail(worker *wk, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(worker *wk, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(wk->error, sizeof wk->error, fmt, ap);
    va_end(ap);
    wk->failed = 1;
    return -1;
}

static int
fail_engine(worker *wk, const char *what)
{
    return fail(wk, "%s failed: %s", what, bench_last_error());
}

static void
draw_progress(bench_ctx *c, uint64_t now)
{
    uint64_t done = atomic_load_explicit(&c->progress, memory_order_relaxed);
    double frac = c->total ? (double)done / (double)c->total : 0.0;
    if (frac > 1.0) {
        frac = 1.0;
    }
    char bar[31];
    int fill = (int)(frac * 30.0);
    for (int i = 0; i < 30; i++) {
        bar[i] = i < fill ? '#' : '.';
    }
    bar[30] = '\0';
    double secs = (double)(now - c->start_ns) / 1e9;
    fprintf(stderr, "\r%-8s %-16s [%s] %3d%% %10.0f ops/s ", c->ops->name, c->wname, bar,
            (int)(frac * 100.0), secs > 0 ? (double)done / secs : 0.0);
    fflush(stderr);
    c->last_draw_ns = now;
}

/* Count n more operations done; thread 0 redraws the progress bar every 100 ms. */
static void
progress(worker *wk, uint64_t n, uint64_t now)
{
    bench_ctx *c = wk->ctx;
    atomic_fetch_add_explicit(&c->progress, n, memory_order_relaxed);
    if (c->cfg->progress && wk->tid == 0 && now - c->last_draw_ns > 100000000ull) {
        draw_progress(c, now);
    }
}

/*
 * Latency is sampled: one operation in LATENCY_SAMPLE is timed. Reading the clock around every
 * operation costs two clock reads (~50 ns here), as much as a whole step of a scan, and would
 * shrink every engine's throughput by a fixed amount; db_bench does not time each operation
 * either unless asked for a histogram. A fixed stride over the operations keeps the sampled
 * distribution unbiased.
 */
#define LATENCY_SAMPLE 16

/* Start of an operation: its start time if this one is sampled, else 0. */
static uint64_t
op_start(const worker *wk)
{
    return wk->ops % LATENCY_SAMPLE == 0 ? bench_now_ns() : 0;
}

/* Book-keeping after each operation: its latency when sampled, progress every 256 operations. */
static void
tick(worker *wk, uint64_t t0)
{
    uint64_t now = t0 != 0 ? bench_now_ns() : 0;
    if (t0 != 0) {
        bench_hist_add(&wk->hist, now - t0);
    }
    wk->ops++;
    if ((wk->ops & 255) == 0) {
        progress(wk, 256, now != 0 ? now : bench_now_ns());
    }
}

/* ---- write helpers ------------------------------------------------------------------------- */

static int
flush_batch(worker *wk, int sync)
{
    if (wk->batched == 0) {
        return 0;
    }
    bench_ctx *c = wk->ctx;
    uint64_t t0 = bench_now_ns();
    if (c->ops->write(c->db, wk->batch, sync) != 0) {
        return fail_engine(wk, "write batch");
    }
    uint64_t now = bench_now_ns();
    bench_hist_add(&wk->hist, now - t0);
    progress(wk, (uint64_t)wk->batched, now);
    c->ops->batch_clear(wk->batch);
    wk->batched = 0;
    return 0;
}

/* Put key k of `space` (or queue it in the thread's batch) and mark it present. */
static int
write_key(worker *wk, int space, uint64_t k, int sync)
{
    bench_ctx *c = wk->ctx;
    char key[KEY_CAP];
    size_t kl = make_key(key, space, k);
    size_t vl = c->cfg->value_size;
    const char *v = bench_valuegen_value(&c->gen, k, vl);
    uint64_t t0 = op_start(wk);
    if (c->cfg->batch_size <= 1) {
        if (c->ops->put(c->db, key, kl, v, vl, sync) != 0) {
            return fail_engine(wk, "put");
        }
        tick(wk, t0);
    } else {
        if (c->ops->batch_put(wk->batch, key, kl, v, vl) != 0) {
            return fail_engine(wk, "batch put");
        }
        wk->batched++;
        wk->ops++;
        if (wk->batched >= c->cfg->batch_size && flush_batch(wk, sync) != 0) {
            return -1;
        }
    }
    atomic_store_explicit(&c->present[k], 1, memory_order_relaxed);
    wk->bytes += kl + vl;
    wk->written += kl + vl;
    return 0;
}

/* ---- write workloads ----------------------------------------------------------------------- */

static uint64_t
count_num(const bench_ctx *c)
{
    return c->cfg->num;
}

static uint64_t
count_reads(const bench_ctx *c)
{
    return c->cfg->reads;
}

static uint64_t
count_sync(const bench_ctx *c)
{
    return c->cfg->sync_num;
}

static uint64_t
count_one(const bench_ctx *c)
{
    return 1;
}

/* The key written by operation i of a write workload. */
static uint64_t
write_key_number(worker *wk, uint64_t i)
{
    switch (wk->w->keys) {
    case KEYS_SEQ:
        return i;
    case KEYS_PERM:
        return perm_apply(&wk->ctx->perm, i);
    default:
        return bench_rng_uniform(&wk->rng, wk->ctx->cfg->num);
    }
}

/* fillseq, fillrandom, overwrite, fillsync, prefixfill: the key order and sync flag come from
 * the workload table. */
static int
run_write(worker *wk)
{
    int sync = wk->w->sync;
    for (uint64_t i = wk->begin; i < wk->end; i++) {
        if (write_key(wk, wk->w->space, write_key_number(wk, i), sync) != 0) {
            return -1;
        }
    }
    return flush_batch(wk, sync);
}

/* Delete key k (timed) and mark it absent. */
static int
delete_key(worker *wk, uint64_t k)
{
    bench_ctx *c = wk->ctx;
    char key[KEY_CAP];
    size_t kl = make_key(key, SPACE_NORMAL, k);
    uint64_t t0 = op_start(wk);
    if (c->ops->del(c->db, key, kl, 0) != 0) {
        return fail_engine(wk, "delete");
    }
    tick(wk, t0);
    atomic_store_explicit(&c->present[k], 0, memory_order_relaxed);
    wk->bytes += kl;
    wk->written += kl;
    return 0;
}

static int
run_deleterandom(worker *wk)
{
    for (uint64_t i = wk->begin; i < wk->end; i++) {
        if (delete_key(wk, bench_rng_uniform(&wk->rng, wk->ctx->cfg->num)) != 0) {
            return -1;
        }
    }
    return 0;
}

/* deletemid, deletemidrange: the middle 80% of the keys, [num/10, num - num/10), deleted one by
 * one or with one range delete; the reads that follow show what each leaves behind. */
static uint64_t
count_mid(const bench_ctx *c)
{
    return c->cfg->num - 2 * (c->cfg->num / 10);
}

static int
run_deletemid(worker *wk)
{
    for (uint64_t i = wk->begin; i < wk->end; i++) {
        if (delete_key(wk, wk->ctx->cfg->num / 10 + i) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
run_deletemidrange(worker *wk)
{
    bench_ctx *c = wk->ctx;
    if (wk->begin == wk->end) {
        return 0;
    }
    if (c->ops->del_range == NULL) {
        return fail(wk, "deletemidrange: %s has no range delete", c->ops->name);
    }
    uint64_t lo = c->cfg->num / 10, hi = c->cfg->num - c->cfg->num / 10;
    char b[KEY_CAP], e[KEY_CAP];
    size_t bl = make_key(b, SPACE_NORMAL, lo), el = make_key(e, SPACE_NORMAL, hi);
    uint64_t t0 = op_start(wk);
    if (c->ops->del_range(c->db, b, bl, e, el, 0) != 0) {
        return fail_engine(wk, "delete range");
    }
    tick(wk, t0);
    for (uint64_t k = lo; k < hi; k++) {
        atomic_store_explicit(&c->present[k], 0, memory_order_relaxed);
    }
    wk->bytes += bl + el;
    wk->written += bl + el;
    return 0;
}

/* One timed call of a maintenance operation (flush, compact) on the whole database. */
static int
run_admin(worker *wk, int (*fn)(void *), const char *what)
{
    uint64_t t0 = op_start(wk);
    if (fn(wk->ctx->db) != 0) {
        return fail_engine(wk, what);
    }
    tick(wk, t0);
    return 0;
}

static int
run_flush(worker *wk)
{
    return run_admin(wk, wk->ctx->ops->flush, "flush");
}

static int
run_compact(worker *wk)
{
    return run_admin(wk, wk->ctx->ops->compact, "compact");
}

/* ---- read workloads ------------------------------------------------------------------------ */

static int
expected_present(const bench_ctx *c, int space, uint64_t k)
{
    return c->space == space && atomic_load_explicit(&c->present[k], memory_order_relaxed);
}

/* Look key k of `space` up and check the answer against `present` and the value generator. */
static int
read_key(worker *wk, int space, uint64_t k)
{
    bench_ctx *c = wk->ctx;
    char key[KEY_CAP], val[256];
    size_t kl = make_key(key, space, k), vl = 0;
    size_t want = c->cfg->value_size;
    uint64_t t0 = op_start(wk);
    int rc = c->ops->get(c->db, key, kl, val, sizeof val, &vl);
    if (rc < 0) {
        return fail_engine(wk, "get");
    }
    tick(wk, t0);
    int expect = expected_present(c, space, k);
    if ((rc == 0) != expect) {
        return fail(wk, "get %.*s: %s, but the key was %s", (int)kl, key,
                    rc == 0 ? "found" : "not found",
                    expect ? "written" : "never written or deleted");
    }
    if (rc == 0) {
        size_t cmp = want < sizeof val ? want : sizeof val;
        if (vl != want || memcmp(val, bench_valuegen_value(&c->gen, k, want), cmp) != 0) {
            return fail(wk, "get %.*s: wrong value (%zu bytes, expected %zu)", (int)kl, key, vl,
                        want);
        }
        wk->found++;
        wk->bytes += kl + vl;
    }
    return 0;
}

static int
run_readrandom(worker *wk)
{
    for (uint64_t i = wk->begin; i < wk->end && !wk->failed; i++) {
        if (read_key(wk, wk->w->space, bench_rng_uniform(&wk->rng, wk->ctx->cfg->num)) != 0) {
            return -1;
        }
    }
    return 0;
}

static int
run_readmissing(worker *wk)
{
    bench_ctx *c = wk->ctx;
    char key[KEY_CAP], val[256];
    for (uint64_t i = wk->begin; i < wk->end; i++) {
        size_t kl = make_missing_key(key, bench_rng_uniform(&wk->rng, c->cfg->num)), vl = 0;
        uint64_t t0 = op_start(wk);
        int rc = c->ops->get(c->db, key, kl, val, sizeof val, &vl);
        if (rc < 0) {
            return fail_engine(wk, "get");
        }
        tick(wk, t0);
        if (rc == 0) {
            return fail(wk, "readmissing: found %.*s, which was never written", (int)kl, key);
        }
    }
    return 0;
}

static uint64_t
count_present(const bench_ctx *c, uint64_t from, uint64_t to)
{
    uint64_t n = 0;
    for (uint64_t k = from; k < to; k++) {
        n += atomic_load_explicit(&c->present[k], memory_order_relaxed);
    }
    return n;
}

static uint64_t
count_readseq(const bench_ctx *c)
{
    return count_present(c, 0, c->cfg->num) * (uint64_t)c->cfg->threads;
}

static int
iter_fail(worker *wk, void *it, const char *what)
{
    bench_ctx *c = wk->ctx;
    if (c->ops->iter_status(it) != 0) {
        fail_engine(wk, what);
    }
    c->ops->iter_free(it);
    return wk->failed ? -1 : 0;
}

/* Every thread scans the whole database; the count must match the keys written. */
static int
run_readseq(worker *wk)
{
    bench_ctx *c = wk->ctx;
    void *it = c->ops->iter_new(c->db);
    if (it == NULL) {
        return fail_engine(wk, "iterator");
    }
    char prev[KEY_CAP];
    size_t prevl = 0;
    uint64_t t0 = op_start(wk);
    for (c->ops->iter_seek_first(it); c->ops->iter_valid(it); c->ops->iter_next(it)) {
        size_t kl, vl;
        const char *k = c->ops->iter_key(it, &kl);
        c->ops->iter_value(it, &vl);
        if (kl > KEY_CAP || vl != c->cfg->value_size) {
            fail(wk, "readseq: entry %llu has a %zu-byte key and a %zu-byte value",
                 (unsigned long long)wk->ops, kl, vl);
            break;
        }
        size_t m = kl < prevl ? kl : prevl;
        int cmp = memcmp(prev, k, m);
        if (wk->ops > 0 && (cmp > 0 || (cmp == 0 && prevl >= kl))) {
            fail(wk, "readseq: keys out of order at entry %llu", (unsigned long long)wk->ops);
            break;
        }
        memcpy(prev, k, kl);
        prevl = kl;
        wk->found++;
        wk->bytes += kl + vl;
        tick(wk, t0);
        t0 = op_start(wk);
    }
    if (iter_fail(wk, it, "readseq iterator") != 0) {
        return -1;
    }
    uint64_t expect = count_present(c, 0, c->cfg->num);
    if (wk->found != expect) {
        return fail(wk, "readseq: scanned %llu entries, expected %llu",
                    (unsigned long long)wk->found, (unsigned long long)expect);
    }
    return 0;
}

static int
run_seekrandom(worker *wk)
{
    bench_ctx *c = wk->ctx;
    void *it = c->ops->iter_new(c->db);
    if (it == NULL) {
        return fail_engine(wk, "iterator");
    }
    char key[KEY_CAP];
    for (uint64_t i = wk->begin; i < wk->end && !wk->failed; i++) {
        uint64_t k = bench_rng_uniform(&wk->rng, c->cfg->num);
        size_t kl = make_key(key, SPACE_NORMAL, k);
        int expect = expected_present(c, SPACE_NORMAL, k);
        uint64_t t0 = op_start(wk);
        c->ops->iter_seek(it, key, kl);
        int exact = 0;
        if (c->ops->iter_valid(it)) {
            size_t gl;
            const char *got = c->ops->iter_key(it, &gl);
            exact = gl == kl && memcmp(got, key, kl) == 0;
            for (int n = 0; n < c->cfg->seek_nexts && c->ops->iter_valid(it); n++) {
                size_t vl;
                c->ops->iter_key(it, &gl);
                c->ops->iter_value(it, &vl);
                wk->bytes += gl + vl;
                c->ops->iter_next(it);
            }
        }
        tick(wk, t0);
        if (exact != expect) {
            fail(wk, "seek %.*s: %s the key, but it was %s", (int)kl, key,
                 exact ? "landed on" : "did not land on", expect ? "written" : "not written");
        }
        wk->found += (uint64_t)exact;
    }
    return iter_fail(wk, it, "seekrandom iterator");
}

/* Seek to a random "user/%010llu/" prefix and read all its entries. */
static int
run_prefixscan(worker *wk)
{
    bench_ctx *c = wk->ctx;
    void *it = c->ops->iter_new(c->db);
    if (it == NULL) {
        return fail_engine(wk, "iterator");
    }
    uint64_t users = (c->cfg->num + PREFIX_FANOUT - 1) / PREFIX_FANOUT;
    char pfx[KEY_CAP];
    for (uint64_t i = wk->begin; i < wk->end && !wk->failed; i++) {
        uint64_t u = bench_rng_uniform(&wk->rng, users);
        size_t pl = make_user_prefix(pfx, u);
        uint64_t got = 0, t0 = op_start(wk);
        for (c->ops->iter_seek(it, pfx, pl); c->ops->iter_valid(it); c->ops->iter_next(it)) {
            size_t kl, vl;
            const char *k = c->ops->iter_key(it, &kl);
            if (kl < pl || memcmp(k, pfx, pl) != 0) {
                break;
            }
            c->ops->iter_value(it, &vl);
            wk->bytes += kl + vl;
            got++;
        }
        tick(wk, t0);
        uint64_t hi = (u + 1) * PREFIX_FANOUT < c->cfg->num ? (u + 1) * PREFIX_FANOUT : c->cfg->num;
        uint64_t expect = c->space == SPACE_PREFIX ? count_present(c, u * PREFIX_FANOUT, hi) : 0;
        if (got != expect) {
            fail(wk, "prefixscan %.*s: %llu entries, expected %llu", (int)pl, pfx,
                 (unsigned long long)got, (unsigned long long)expect);
        }
        wk->found += got;
    }
    return iter_fail(wk, it, "prefixscan iterator");
}

/* The extra thread of readwhilewriting: overwrite present keys until the readers are done. */
static void *
writer_main(void *arg)
{
    worker *wk = arg;
    bench_ctx *c = wk->ctx;
    while (!atomic_load(&c->stop)) {
        uint64_t k = bench_rng_uniform(&wk->rng, c->cfg->num);
        if (!expected_present(c, SPACE_NORMAL, k)) {
            continue;
        }
        char key[KEY_CAP];
        size_t kl = make_key(key, SPACE_NORMAL, k), vl = c->cfg->value_size;
        if (c->ops->put(c->db, key, kl, bench_valuegen_value(&c->gen, k, vl), vl, 0) != 0) {
            fail_engine(wk, "put (writer)");
            break;
        }
        wk->written += kl + vl;
    }
    return NULL;
}

/* ---- the workload table -------------------------------------------------------------------- */

static const workload g_workloads[] = {
    {"fillseq", 1, SPACE_NORMAL, 0, count_num, run_write, KEYS_SEQ, 0},
    {"fillrandom", 1, SPACE_NORMAL, 0, count_num, run_write, KEYS_PERM, 0},
    {"overwrite", 0, SPACE_NORMAL, 0, count_num, run_write, KEYS_UNIFORM, 0},
    {"readrandom", 0, SPACE_NORMAL, 0, count_reads, run_readrandom, 0, 0},
    {"readmissing", 0, SPACE_NORMAL, 0, count_reads, run_readmissing, 0, 0},
    {"readseq", 0, -1, 0, count_readseq, run_readseq, 0, 0},
    {"seekrandom", 0, SPACE_NORMAL, 0, count_reads, run_seekrandom, 0, 0},
    {"deleterandom", 0, SPACE_NORMAL, 0, count_num, run_deleterandom, 0, 0},
    {"deletemid", 0, SPACE_NORMAL, 0, count_mid, run_deletemid, 0, 0},
    {"deletemidrange", 0, SPACE_NORMAL, 0, count_one, run_deletemidrange, 0, 0},
    {"readwhilewriting", 0, SPACE_NORMAL, 1, count_reads, run_readrandom, 0, 0},
    {"fillsync", 1, SPACE_NORMAL, 0, count_sync, run_write, KEYS_PERM, 1},
    {"compact", 0, -1, 0, count_one, run_compact, 0, 0},
    {"flush", 0, -1, 0, count_one, run_flush, 0, 0},
    {"prefixfill", 1, SPACE_PREFIX, 0, count_num, run_write, KEYS_PERM, 0},
    {"prefixread", 0, SPACE_PREFIX, 0, count_reads, run_readrandom, 0, 0},
    {"prefixscan", 0, SPACE_PREFIX, 0, count_reads, run_prefixscan, 0, 0},
};
#define NWORKLOADS (sizeof g_workloads / sizeof g_workloads[0])

static const workload *
find_workload(const char *name)
{
    for (size_t i = 0; i < NWORKLOADS; i++) {
        if (strcmp(g_workloads[i].name, name) == 0) {
            return &g_workloads[i];
        }
    }
    return NULL;
}

int
bench_workload_known(const char *name)
{
    return find_workload(name) != NULL;
}

/* Write workloads of one key space may only run on data of that key space. */
static int
is_write_workload(const workload *w)
{
    return (w->run == run_write && !w->fresh) || w->run == run_deleterandom ||
           w->run == run_deletemid || w->run == run_deletemidrange;
}

/* ---- measuring ----------------------------------------------------------------------------- */

/* write_bytes (bytes this process caused to be sent to storage) and wchar (bytes passed to write
 * calls) of /proc/self/io; 0 when unreadable. */
typedef struct io_counters {
    int ok;
    uint64_t write_bytes, wchar;
} io_counters;

static io_counters
io_read(void)
{
    io_counters io = {0, 0, 0};
    FILE *f = fopen("/proc/self/io", "r");
    if (f == NULL) {
        return io;
    }
    char line[128];
    while (fgets(line, sizeof line, f) != NULL) {
        unsigned long long v;
        if (sscanf(line, "write_bytes: %llu", &v) == 1) {
            io.write_bytes = v;
            io.ok = 1;
        } else if (sscanf(line, "wchar: %llu", &v) == 1) {
            io.wchar = v;
        }
    }
    fclose(f);
    return io;
}

/* Bytes written to storage between two readings: write_bytes when the kernel accounts it for
 * this file system, else wchar. -1 when /proc/self/io is not available. */
static int64_t
io_written(const io_counters *a, const io_counters *b)
{
    if (!a->ok || !b->ok) {
        return -1;
    }
    if (b->write_bytes > a->write_bytes) {
        return (int64_t)(b->write_bytes - a->write_bytes);
    }
    return (int64_t)(b->wchar - a->wchar);
}

static double
cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static uint64_t
peak_rss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (uint64_t)ru.ru_maxrss;
}

static void *
worker_main(void *arg)
{
    worker *wk = arg;
    wk->w->run(wk);
    return NULL;
}

static int
open_db(bench_ctx *c, int prefix)
{
    bench_engine_config ecfg = c->cfg->engine;
    ecfg.prefix_keys = prefix;
    if (c->ops->open(c->dir, &ecfg, &c->db) != 0) {
        c->db = NULL;
        return -1;
    }
    c->opened_with = prefix;
    return 0;
}

static void
close_db(bench_ctx *c)
{
    if (c->db != NULL) {
        c->ops->close(c->db);
        c->db = NULL;
    }
}

/* Prepare the database a workload needs: a fresh one for fills, else the current one. */
static int
prepare_db(bench_ctx *c, const workload *w, char *err, size_t errlen)
{
    if (w->fresh) {
        close_db(c);
        if (bench_remove_tree(c->dir) != 0) {
            snprintf(err, errlen, "%s", bench_last_error());
            return -1;
        }
        memset((void *)c->present, 0, c->cfg->num);
        c->space = w->space;
    } else if (is_write_workload(w) && c->space != w->space) {
        snprintf(err, errlen, "%s needs data from fillseq/fillrandom, not prefix keys", w->name);
        return -1;
    }
    if (c->db == NULL && open_db(c, c->space == SPACE_PREFIX) != 0) {
        snprintf(err, errlen, "open: %s", bench_last_error());
        return -1;
    }
    return 0;
}

static void
run_workload(bench_ctx *c, const workload *w, bench_result *r)
{
    const bench_config *cfg = c->cfg;
    int nt = cfg->threads < 1 ? 1 : cfg->threads;
    if (w->count == count_one) {
        nt = 1;
    }
    uint64_t total = w->count(c);
    int nw = nt + (w->writer ? 1 : 0);
    worker *wks = calloc((size_t)nw, sizeof *wks);
    if (wks == NULL) {
        r->failed = 1;
        snprintf(r->error, sizeof r->error, "out of memory for %d workers", nw);
        return;
    }
    /* readseq: every thread scans everything; the others split the operation range. */
    uint64_t share_total = w->run == run_readseq ? 0 : total;
    for (int i = 0; i < nw; i++) {
        worker *wk = &wks[i];
        wk->ctx = c;
        wk->w = w;
        wk->tid = i;
        wk->nthreads = nt;
        wk->begin = share_total * (uint64_t)i / (uint64_t)nt;
        wk->end = share_total * (uint64_t)(i + 1) / (uint64_t)nt;
        wk->rng.s =
            cfg->seed * 0x100000001b3ull + (uint64_t)i * 7919u + (uint64_t)(w - g_workloads);
        if (cfg->batch_size > 1) {
            wk->batch = c->ops->batch_new();
        }
    }
    c->total = total;
    c->wname = w->name;
    bench_rss_start();
    atomic_store(&c->progress, 0);
    atomic_store(&c->stop, 0);

    double cpu0 = cpu_seconds();
    io_counters io0 = io_read();
    uint64_t size0 = bench_dir_size(c->dir);
    c->start_ns = c->last_draw_ns = bench_now_ns();
    if (w->writer) {
        pthread_create(&wks[nt].th, NULL, writer_main, &wks[nt]);
    }
    if (nt == 1) {
        w->run(&wks[0]);
    } else {
        for (int i = 0; i < nt; i++) {
            pthread_create(&wks[i].th, NULL, worker_main, &wks[i]);
        }
        for (int i = 0; i < nt; i++) {
            pthread_join(wks[i].th, NULL);
        }
    }
    uint64_t t1 = bench_now_ns();
    if (w->writer) {
        atomic_store(&c->stop, 1);
        pthread_join(wks[nt].th, NULL);
    }
    double cpu1 = cpu_seconds();
    io_counters io1 = io_read();
    if (cfg->progress) {
        fputs("\r\033[K", stderr);
        fflush(stderr);
    }

    bench_hist h;
    bench_hist_clear(&h);
    for (int i = 0; i < nw; i++) {
        worker *wk = &wks[i];
        if (i < nt) {
            bench_hist_merge(&h, &wk->hist);
            r->ops += wk->ops;
            r->found += wk->found;
            r->bytes += wk->bytes;
        }
        r->user_write_bytes += wk->written;
        if (wk->failed && !r->failed) {
            r->failed = 1;
            snprintf(r->error, sizeof r->error, "%s", wk->error);
        }
        if (wk->batch != NULL) {
            c->ops->batch_free(wk->batch);
        }
    }
    free(wks);
    r->threads = nt;
    r->secs = (double)(t1 - c->start_ns) / 1e9;
    r->cpu_secs = cpu1 - cpu0;
    r->p50_us = bench_hist_percentile(&h, 0.50) / 1e3;
    r->p99_us = bench_hist_percentile(&h, 0.99) / 1e3;
    r->p999_us = bench_hist_percentile(&h, 0.999) / 1e3;
    r->avg_us = h.count ? (double)h.sum_ns / (double)h.count / 1e3 : 0.0;
    r->disk_size = bench_dir_size(c->dir);
    int64_t written = io_written(&io0, &io1);
    if (written >= 0) {
        r->disk_write_bytes = (uint64_t)written;
    } else if (r->disk_size > size0) {
        r->disk_write_bytes = r->disk_size - size0; /* no /proc/self/io: growth of the files */
    }
    r->peak_rss_kb = peak_rss_kb();
    bench_rss_peak(&r->peak_anon_kb, &r->peak_file_kb);
}

int
bench_run_engine(const bench_config *cfg, const bench_engine_ops *ops, const char *dir, int out,
                 int rep)
{
    bench_ctx c;
    memset(&c, 0, sizeof c);
    c.cfg = cfg;
    c.ops = ops;
    c.dir = dir;
    c.space = SPACE_NORMAL;
    c.present = calloc(cfg->num ? cfg->num : 1, 1);
    perm_init(&c.perm, cfg->num ? cfg->num : 1, cfg->seed);
    int rc = 0;
    if (c.present == NULL ||
        bench_valuegen_init(&c.gen, cfg->seed, cfg->compression_ratio, cfg->value_size) != 0) {
        fprintf(stderr, "%s: out of memory\n", ops->name);
        free((void *)c.present);
        return 1;
    }
    for (int i = 0; i < cfg->nworkloads && rc == 0; i++) {
        const workload *w = find_workload(cfg->workloads[i]);
        bench_result r;
        memset(&r, 0, sizeof r);
        snprintf(r.engine, sizeof r.engine, "%s", ops->name);
        snprintf(r.workload, sizeof r.workload, "%s", cfg->labels[i]);
        r.rep = rep;
        if (w == NULL) {
            r.failed = 1;
            snprintf(r.error, sizeof r.error, "unknown workload");
        } else if (prepare_db(&c, w, r.error, sizeof r.error) != 0) {
            r.failed = 1;
        } else {
            run_workload(&c, w, &r);
        }
        if (r.failed) {
            rc = 1;
        }
        if (cfg->print_stats && c.db != NULL) {
            char *st = ops->stats(c.db);
            printf("---- %s statistics after %s ----\n%s\n", ops->name, r.workload,
                   st != NULL ? st : bench_last_error());
            fflush(stdout);
            free(st);
        }
        if (write(out, &r, sizeof r) != (ssize_t)sizeof r) {
            fprintf(stderr, "%s: cannot send results: %s\n", ops->name, strerror(errno));
            rc = 1;
        }
    }
    close_db(&c);
    bench_valuegen_free(&c.gen);
    free((void *)c.present);
    return rc;
}

/* ---- file system helpers ------------------------------------------------------------------- */

static uint64_t
dir_size_at(int dfd)
{
    DIR *d = fdopendir(dfd);
    if (d == NULL) {
        close(dfd);
        return 0;
    }
    uint64_t total = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            continue; /* deleted meanwhile by a background compaction */
        }
        if (S_ISDIR(st.st_mode)) {
            int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY);
            if (sub >= 0) {
                total += dir_size_at(sub);
            }
        } else if (S_ISREG(st.st_mode)) {
            total += (uint64_t)st.st_size;
        }
    }
    closedir(d);
    return total;
}

uint64_t
bench_dir_size(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY);
    return fd < 0 ? 0 : dir_size_at(fd);
}

static int
remove_at(int parent, const char *name)
{
    if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) {
        return 0;
    }
    if (errno != EISDIR && errno != EPERM) {
        bench_set_error("cannot remove %s: %s", name, strerror(errno));
        return -1;
    }
    int fd = openat(parent, name, O_RDONLY | O_DIRECTORY);
    DIR *d = fd < 0 ? NULL : fdopendir(fd);
    if (d == NULL) {
        bench_set_error("cannot open directory %s: %s", name, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            rc = remove_at(dirfd(d), e->d_name);
        }
    }
    closedir(d);
    if (rc == 0 && unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT) {
        bench_set_error("cannot remove directory %s: %s", name, strerror(errno));
        rc = -1;
    }
    return rc;
}

int
bench_remove_tree(const char *path)
{
    return remove_at(AT_FDCWD, path);
}

double
bench_fsync_rate(const char *dir, double seconds)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/fsync-probe.tmp", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        bench_set_error("cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    char block[4096];
    memset(block, 'x', sizeof block);
    uint64_t t0 = bench_now_ns(), limit = (uint64_t)(seconds * 1e9), n = 0;
    double rate = -1;
    for (;;) {
        if (write(fd, block, sizeof block) != (ssize_t)sizeof block || fdatasync(fd) != 0) {
            bench_set_error("write+fdatasync on %s: %s", path, strerror(errno));
            break;
        }
        n++;
        uint64_t el = bench_now_ns() - t0;
        if (el >= limit || n >= 100000) {
            rate = (double)n / ((double)el / 1e9);
            break;
        }
    }
    close(fd);
    unlink(path);
    return rate;
}
