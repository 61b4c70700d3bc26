/* SPDX-License-Identifier: Apache-2.0 */
/* util.c -- strata-bench helpers: error messages, histogram, PRNG, value generator, clock. */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static _Thread_local char g_error[512];

void
bench_set_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_error, sizeof g_error, fmt, ap);
    va_end(ap);
}

const char *
bench_last_error(void)
{
    return g_error;
}

uint64_t
bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- histogram ------------------------------------------------------------------------------ */

/* Values below BENCH_HIST_SUB get one bucket each; above, bucket = (exponent, top mantissa bits).
 */
static unsigned
hist_index(uint64_t v)
{
    if (v < BENCH_HIST_SUB) {
        return (unsigned)v;
    }
    unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= 5 */
    unsigned shift = msb - 5u;                         /* log2(BENCH_HIST_SUB) == 5 */
    unsigned sub = (unsigned)(v >> shift) - BENCH_HIST_SUB;
    unsigned idx = (shift + 1u) * BENCH_HIST_SUB + sub;
    return idx < BENCH_HIST_BUCKETS ? idx : BENCH_HIST_BUCKETS - 1;
}

/* Lower and upper bound (exclusive) of the values that fall in bucket idx. */
static void
hist_bounds(unsigned idx, double *lo, double *hi)
{
    if (idx < BENCH_HIST_SUB) {
        *lo = idx;
        *hi = idx + 1.0;
        return;
    }
    unsigned shift = idx / BENCH_HIST_SUB - 1u;
    unsigned sub = idx % BENCH_HIST_SUB;
    *lo = ldexp((double)(BENCH_HIST_SUB + sub), (int)shift);
    *hi = ldexp((double)(BENCH_HIST_SUB + sub + 1), (int)shift);
}

void
bench_hist_clear(bench_hist *h)
{
    memset(h, 0, sizeof *h);
}

void
bench_hist_add(bench_hist *h, uint64_t ns)
{
    h->count++;
    h->sum_ns += ns;
    if (ns > h->max_ns) {
        h->max_ns = ns;
    }
    h->buckets[hist_index(ns)]++;
}

void
bench_hist_merge(bench_hist *dst, const bench_hist *src)
{
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    if (src->max_ns > dst->max_ns) {
        dst->max_ns = src->max_ns;
    }
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        dst->buckets[i] += src->buckets[i];
    }
}

double
bench_hist_percentile(const bench_hist *h, double q)
{
    if (h->count == 0) {
        return 0.0;
    }
    double want = q * (double)h->count;
    double seen = 0.0;
    for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
        if (h->buckets[i] == 0) {
            continue;
        }
        double next = seen + (double)h->buckets[i];
        if (next >= want) {
            double lo, hi;
            hist_bounds(i, &lo, &hi);
            /* Interpolate linearly inside the bucket, never beyond the largest sample. */
            double v = lo + (hi - lo) * ((want - seen) / (double)h->buckets[i]);
            return v > (double)h->max_ns ? (double)h->max_ns : v;
        }
        seen = next;
    }
    return (double)h->max_ns;
}

/* ---- PRNG ---------------------------------------------------------------------------------- */

uint64_t
bench_rng_next(bench_rng *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t
bench_rng_uniform(bench_rng *r, uint64_t n)
{
    /* Lemire's multiply-shift; the tiny bias is irrelevant for a benchmark. */
    return (uint64_t)(((unsigned __int128)bench_rng_next(r) * n) >> 64);
}

/* ---- value generator ---------------------------------------------------------------------- */

#define VALUEGEN_SIZE (1u << 20)
#define VALUEGEN_PIECE 100u

int
bench_valuegen_init(bench_valuegen *g, uint64_t seed, double ratio, size_t min_len)
{
    size_t size = VALUEGEN_SIZE;
    while (size < 4 * min_len) {
        size *= 2;
    }
    g->data = malloc(size);
    g->size = size;
    if (g->data == NULL) {
        bench_set_error("out of memory for the %zu-byte value buffer", size);
        return -1;
    }
    bench_rng r = {seed ^ 0x5a17ull};
    size_t raw = (size_t)(ratio * VALUEGEN_PIECE);
    if (raw < 1) {
        raw = 1;
    }
    for (size_t pos = 0; pos < size; pos += VALUEGEN_PIECE) {
        size_t piece = size - pos < VALUEGEN_PIECE ? size - pos : VALUEGEN_PIECE;
        char *p = g->data + pos;
        for (size_t i = 0; i < raw && i < piece; i++) {
            p[i] = (char)(' ' + bench_rng_uniform(&r, 95));
        }
        for (size_t i = raw; i < piece; i++) {
            p[i] = p[i % raw];
        }
    }
    return 0;
}

void
bench_valuegen_free(bench_valuegen *g)
{
    free(g->data);
    g->data = NULL;
}

const char *
bench_valuegen_value(const bench_valuegen *g, uint64_t k, size_t len)
{
    /* Consecutive key numbers get adjacent, non-overlapping windows (like db_bench's sliding
     * position), so neighbouring values in a table do not repeat each other. */
    size_t span = g->size - len;
    return g->data + (size_t)((k * (uint64_t)len) % span);
}

int
bench_parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || s[0] == '-') {
        return -1;
    }
    *out = v;
    return 0;
}
