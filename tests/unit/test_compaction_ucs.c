/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_compaction_ucs.c -- the Unified Compaction Strategy picker: levels, overlap sets,
 * triggers, candidate choice, the input cap, shard counts and boundaries, prefix stripping,
 * allocation failures, and a randomized flush/compact simulation per strategy (T4, L10, N).
 */
#include "compaction/ucs.h"
#include "st_test.h"
#include "util/alloc.h"
#include "util/random.h"

#define MIB (1024ull * 1024ull)
#define TWO64 18446744073709551616.0

/* ---- helpers -------------------------------------------------------------------------------- */

/* A table over 8-byte big-endian keys [lo, hi]; the key bytes live in the struct. */
typedef struct tt {
    st_ucs_table t;
    uint8_t lo[8], hi[8];
} tt;

static void
put_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t
get_be64_padded(const uint8_t *p, size_t len)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++)
        v = (v << 8) | (i < len ? p[i] : 0);
    return v;
}

/* Fix up the key pointers (call after the array holding the tt has stopped moving). */
static void
tt_link(tt *x, size_t n, st_ucs_table *out)
{
    for (size_t i = 0; i < n; i++) {
        x[i].t.smallest = x[i].lo;
        x[i].t.smallest_len = 8;
        x[i].t.largest = x[i].hi;
        x[i].t.largest_len = 8;
        out[i] = x[i].t;
    }
}

static tt
mk(uint64_t id, uint64_t size, uint64_t lo, uint64_t hi, uint64_t seq)
{
    tt x;
    memset(&x, 0, sizeof(x));
    x.t.id = id;
    x.t.size = size;
    x.t.min_seq = seq;
    x.t.max_seq = seq;
    put_be64(x.lo, lo);
    put_be64(x.hi, hi);
    return x;
}

/* A table over string keys (borrowed). */
static st_ucs_table
mks(uint64_t id, uint64_t size, const char *lo, const char *hi, uint64_t seq)
{
    st_ucs_table t;
    memset(&t, 0, sizeof(t));
    t.id = id;
    t.size = size;
    t.min_seq = t.max_seq = seq;
    t.smallest = (const uint8_t *)lo;
    t.smallest_len = strlen(lo);
    t.largest = (const uint8_t *)hi;
    t.largest_len = strlen(hi);
    return t;
}

static st_ucs_options
opts(int w, uint64_t m)
{
    st_ucs_options o;
    st_ucs_options_init(&o);
    o.scaling[0] = w;
    o.nscaling = 1;
    o.flush_size = m;
    return o;
}

static int
has_input(const st_ucs_pick *p, size_t idx)
{
    for (size_t i = 0; i < p->ninputs; i++)
        if (p->inputs[i] == idx)
            return 1;
    return 0;
}

/* ---- options, fan-out, levels ---------------------------------------------------------------- */

static void
test_options(void)
{
    st_ucs_options o;
    st_ucs_pick p;
    st_ucs_options_init(&o);
    ST_ASSERT_EQ(o.nscaling, 1);
    ST_ASSERT_EQ(o.scaling[0], 2);
    ST_ASSERT_EQ(o.base_shards, 4);
    ST_ASSERT_EQ(o.max_inputs, 32);
    ST_ASSERT_EQ(o.fragment_inputs, 4);
    ST_ASSERT_EQ(o.max_input_bytes, 0);
    ST_ASSERT(o.growth > 0.33 && o.growth < 0.34);
    /* T4, L10, N */
    o.scaling[0] = 2;
    ST_ASSERT_EQ(st_ucs_fanout(&o, 0), 4);
    ST_ASSERT_EQ(st_ucs_threshold(&o, 0), 4);
    o.scaling[0] = -8;
    ST_ASSERT_EQ(st_ucs_fanout(&o, 3), 10);
    ST_ASSERT_EQ(st_ucs_threshold(&o, 3), 2);
    o.scaling[0] = 0;
    ST_ASSERT_EQ(st_ucs_fanout(&o, 0), 2);
    ST_ASSERT_EQ(st_ucs_threshold(&o, 0), 2);
    /* per-level list, the last repeating: T4 at level 0, L10 above */
    o.scaling[0] = 2;
    o.scaling[1] = -8;
    o.nscaling = 2;
    ST_ASSERT_EQ(st_ucs_fanout(&o, 0), 4);
    ST_ASSERT_EQ(st_ucs_fanout(&o, 1), 10);
    ST_ASSERT_EQ(st_ucs_fanout(&o, 7), 10);
    ST_ASSERT_EQ(st_ucs_threshold(&o, 7), 2);
    /* E(d): d below m is one shard; then d / S; never above the target size */
    st_ucs_options_init(&o);
    o.flush_size = MIB;
    o.target_size = 64 * MIB;
    ST_ASSERT(st_ucs_expected_size(&o, 0.5 * MIB) == 0.5 * MIB);
    ST_ASSERT(st_ucs_expected_size(&o, 3.0 * MIB) == 1.5 * MIB);   /* S = 2 */
    ST_ASSERT(st_ucs_expected_size(&o, 40.0 * MIB) == 10.0 * MIB); /* S = b = 4 */
    ST_ASSERT(st_ucs_expected_size(&o, 1e15) == 64.0 * MIB);

    /* bad options, one field at a time */
    for (int bad = 0; bad < 6; bad++) {
        st_ucs_options_init(&o);
        switch (bad) {
        case 0:
            o.base_shards = 3;
            break;
        case 1:
            o.nscaling = 0;
            break;
        case 2:
            o.growth = 1.5;
            break;
        case 3:
            o.max_inputs = 1;
            break;
        case 4:
            o.flush_size = 0;
            break;
        default:
            o.scaling[0] = 200;
            break;
        }
        ST_ASSERT_RC(st_ucs_pick_compaction(&o, NULL, 0, &p), STRATA_INVALID);
    }
    st_ucs_options_init(&o);
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, NULL, 3, &p), STRATA_INVALID);
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, NULL, 0, &p), STRATA_NOTFOUND);
    ST_ASSERT_EQ(p.ninputs, 0);
}

/* Level boundaries as densities, for hand-picked values on both sides of each boundary. */
static void
test_level_of(void)
{
    const uint64_t m = MIB;
    st_ucs_options t4 = opts(2, m), l10 = opts(-8, m), n = opts(0, m), mix = opts(2, m);
    ST_ASSERT_EQ(st_ucs_level_of(&t4, 0), 0);
    ST_ASSERT_EQ(st_ucs_level_of(&t4, 0.5 * m), 0);
    ST_ASSERT_EQ(st_ucs_level_of(&t4, 3.99 * m), 0);
    ST_ASSERT_EQ(st_ucs_level_of(&t4, 4.0 * m), 1);
    ST_ASSERT_EQ(st_ucs_level_of(&t4, 15.9 * m), 1);
    ST_ASSERT_EQ(st_ucs_level_of(&t4, 16.0 * m), 2);
    ST_ASSERT_EQ(st_ucs_level_of(&t4, 64.0 * m), 3);
    ST_ASSERT_EQ(st_ucs_level_of(&l10, 9.99 * m), 0);
    ST_ASSERT_EQ(st_ucs_level_of(&l10, 10.0 * m), 1);
    ST_ASSERT_EQ(st_ucs_level_of(&l10, 99.0 * m), 1);
    ST_ASSERT_EQ(st_ucs_level_of(&l10, 100.0 * m), 2);
    ST_ASSERT_EQ(st_ucs_level_of(&n, 1.99 * m), 0);
    ST_ASSERT_EQ(st_ucs_level_of(&n, 2.0 * m), 1);
    ST_ASSERT_EQ(st_ucs_level_of(&n, 4.0 * m), 2);
    ST_ASSERT_EQ(st_ucs_level_of(&n, 8.0 * m), 3);
    /* T4 at level 0, L10 above: level 1 = [4m, 40m), level 2 = [40m, 400m) */
    mix.scaling[1] = -8;
    mix.nscaling = 2;
    ST_ASSERT_EQ(st_ucs_level_of(&mix, 39.0 * m), 1);
    ST_ASSERT_EQ(st_ucs_level_of(&mix, 40.0 * m), 2);
    ST_ASSERT_EQ(st_ucs_level_of(&mix, 399.0 * m), 2);
    ST_ASSERT_EQ(st_ucs_level_of(&mix, 400.0 * m), 3);
}

/* Hand-built tables at known densities: a quarter-span table (positions [q, 2q) with q = 2^62,
 * v = 1/4 exactly) of size s has density 4s. One full-span anchor fixes the key space (its
 * common prefix is empty because its keys differ in the first bit). */
static void
check_levels(int w, const double *dens, const int *want, size_t k)
{
    const uint64_t m = MIB, q = 1ull << 62;
    st_ucs_options o = opts(w, m);
    tt x[16];
    st_ucs_table t[16];
    st_ucs_level_stats ls[16];
    size_t counts[16] = {0}, nl = 0, tot = 0, maxl = 0;
    x[0] = mk(100, m / 4, 0, UINT64_MAX, 1); /* density ~m/4: level 0 */
    counts[0]++;
    for (size_t i = 0; i < k; i++) {
        /* put each in its own quarter slot, shifted so tables of one level do not overlap */
        uint64_t lo = q * (i % 3) + (i / 3);
        x[i + 1] = mk(i, (uint64_t)(dens[i] * (double)m / 4.0), lo, lo + q, 2 + i);
        counts[want[i]]++;
        if ((size_t)want[i] > maxl)
            maxl = (size_t)want[i];
    }
    tt_link(x, k + 1, t);
    ST_ASSERT_OK(st_ucs_stats(&o, t, k + 1, ls, 16, &nl, &tot));
    ST_ASSERT_EQ(nl, maxl + 1);
    for (size_t l = 0; l < nl; l++) {
        ST_ASSERT_EQ(ls[l].level, l);
        ST_ASSERT_EQ(ls[l].tables, counts[l]);
        ST_ASSERT_EQ(ls[l].fanout, st_ucs_fanout(&o, (int)l));
    }
}

static void
test_levels_hand_built(void)
{
    /* T4 (W=2): [0,4m) [4m,16m) [16m,64m) [64m,256m) */
    static const double t4d[] = {1.0, 3.5, 4.0, 12.0, 16.0, 63.0, 64.0, 200.0};
    static const int t4l[] = {0, 0, 1, 1, 2, 2, 3, 3};
    /* L10 (W=-8): [0,10m) [10m,100m) [100m,1000m) */
    static const double l10d[] = {2.0, 9.0, 10.0, 50.0, 100.0, 999.0, 1000.0};
    static const int l10l[] = {0, 0, 1, 1, 2, 2, 3};
    /* N (W=0): [0,2m) [2m,4m) [4m,8m) ... */
    static const double nd[] = {1.0, 2.0, 3.0, 4.0, 7.0, 8.0, 16.0, 32.0};
    static const int nl[] = {0, 1, 1, 2, 2, 3, 4, 5};
    check_levels(2, t4d, t4l, sizeof(t4d) / sizeof(t4d[0]));
    check_levels(-8, l10d, l10l, sizeof(l10d) / sizeof(l10d[0]));
    check_levels(0, nd, nl, sizeof(nd) / sizeof(nd[0]));
}

/* ---- overlap sets ---------------------------------------------------------------------------- */

/* The doc's example: A[0-3], B[2-7], C[6-9], D[1-8] give {A,B,D} and {B,C,D}. */
static void
test_overlap_sets_doc_example(void)
{
    st_ucs_table t[4];
    size_t *mem = NULL, *st = NULL, ns = 0;
    t[0] = mks(0, 10, "0", "3", 1); /* A */
    t[1] = mks(1, 10, "2", "7", 2); /* B */
    t[2] = mks(2, 10, "6", "9", 3); /* C */
    t[3] = mks(3, 10, "1", "8", 4); /* D */
    ST_ASSERT_OK(st_ucs_overlap_sets(t, 4, &mem, &st, &ns));
    ST_ASSERT_EQ(ns, 2);
    /* set 0 = {A, B, D}, set 1 = {B, C, D} (order inside a set is not specified) */
    {
        int seen0[4] = {0}, seen1[4] = {0};
        ST_ASSERT_EQ(st[1] - st[0], 3);
        ST_ASSERT_EQ(st[2] - st[1], 3);
        for (size_t i = st[0]; i < st[1]; i++)
            seen0[mem[i]]++;
        for (size_t i = st[1]; i < st[2]; i++)
            seen1[mem[i]]++;
        ST_ASSERT(seen0[0] == 1 && seen0[1] == 1 && seen0[3] == 1 && seen0[2] == 0);
        ST_ASSERT(seen1[1] == 1 && seen1[2] == 1 && seen1[3] == 1 && seen1[0] == 0);
    }
    st_free(mem);
    st_free(st);

    /* The same tables as one level: T3 (t = 3) triggers; the bucket is both sets transitively
     * (all four tables), the overlap 3. T4 does not trigger: no key is in four tables. */
    {
        st_ucs_options o = opts(1, MIB);
        st_ucs_pick p;
        ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 4, &p));
        ST_ASSERT_EQ(p.ninputs, 4);
        ST_ASSERT_EQ(p.overlap, 3);
        ST_ASSERT_EQ(p.level, 0);
        ST_ASSERT_EQ(p.reason, ST_UCS_REASON_OVERLAP);
        st_ucs_pick_free(&p);
        o = opts(2, MIB);
        ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 4, &p), STRATA_NOTFOUND);
    }
}

/* Brute force against the sweep on random intervals: every overlapping pair shares a set, no set
 * holds a non-overlapping pair, and the largest set is the largest point overlap. */
static void
test_overlap_sets_random(void)
{
    st_rng r;
    st_rng_seed(&r, st_test_seed());
    for (int round = 0; round < 200; round++) {
        size_t n = 1 + (size_t)st_rng_uniform(&r, 30), *mem, *st, ns, maxset = 0, maxpt = 0;
        tt x[30];
        st_ucs_table t[30];
        for (size_t i = 0; i < n; i++) {
            uint64_t a = st_rng_uniform(&r, 100), b = st_rng_uniform(&r, 100);
            x[i] = mk(i, 1, a < b ? a : b, a < b ? b : a, i);
        }
        tt_link(x, n, t);
        ST_ASSERT_OK(st_ucs_overlap_sets(t, n, &mem, &st, &ns));
        for (size_t i = 0; i < n; i++)
            for (size_t j = i + 1; j < n; j++) {
                uint64_t li = get_be64_padded(x[i].lo, 8), hi_ = get_be64_padded(x[i].hi, 8);
                uint64_t lj = get_be64_padded(x[j].lo, 8), hj = get_be64_padded(x[j].hi, 8);
                int overlap = li <= hj && lj <= hi_, shared = 0;
                for (size_t s = 0; s < ns && !shared; s++) {
                    int a = 0, b = 0;
                    for (size_t k = st[s]; k < st[s + 1]; k++) {
                        a |= mem[k] == i;
                        b |= mem[k] == j;
                    }
                    shared = a && b;
                }
                ST_ASSERT_EQ(shared, overlap);
            }
        for (size_t s = 0; s < ns; s++)
            if (st[s + 1] - st[s] > maxset)
                maxset = st[s + 1] - st[s];
        for (uint64_t p = 0; p < 100; p++) {
            size_t c = 0;
            for (size_t i = 0; i < n; i++)
                c += get_be64_padded(x[i].lo, 8) <= p && p <= get_be64_padded(x[i].hi, 8);
            if (c > maxpt)
                maxpt = c;
        }
        ST_ASSERT_EQ(maxset, maxpt);
        st_free(mem);
        st_free(st);
    }
}

/* ---- triggers -------------------------------------------------------------------------------- */

/* k full-span level-0 tables (size m/2: density ~m/2), newest last. */
static void
full_span(tt *x, st_ucs_table *t, size_t k, uint64_t m)
{
    for (size_t i = 0; i < k; i++)
        x[i] = mk(i + 1, m / 2, 0x10 + i, UINT64_MAX - i, 10 + i);
    tt_link(x, k, t);
}

static void
test_tiered_trigger_at_threshold(void)
{
    st_ucs_options o = opts(2, MIB); /* T4 */
    tt x[8];
    st_ucs_table t[8];
    st_ucs_pick p;
    full_span(x, t, 3, MIB);
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 3, &p), STRATA_NOTFOUND);
    full_span(x, t, 4, MIB);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 4, &p));
    ST_ASSERT_EQ(p.ninputs, 4);
    ST_ASSERT_EQ(p.level, 0);
    ST_ASSERT_EQ(p.overlap, 4);
    for (size_t i = 0; i < 4; i++)
        ST_ASSERT_EQ(p.inputs[i], i); /* oldest first */
    ST_ASSERT_EQ(p.input_bytes, 4 * (MIB / 2));
    st_ucs_pick_free(&p);
    st_ucs_pick_free(&p); /* harmless */

    /* T8 (W=6) needs 8 */
    o = opts(6, MIB);
    full_span(x, t, 7, MIB);
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 7, &p), STRATA_NOTFOUND);
    full_span(x, t, 8, MIB);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 8, &p));
    ST_ASSERT_EQ(p.ninputs, 8);
    st_ucs_pick_free(&p);

    /* Count is not the overlap trigger: four disjoint tables at one level (each m/2 over 1/8
     * of the space: density 4m, level 1, E = 4m / 4 shards = m, so no fragments) never
     * compact. */
    o = opts(2, MIB);
    for (size_t i = 0; i < 4; i++)
        x[i] = mk(i, MIB / 2, (1ull << 62) * i, (1ull << 62) * i + (1ull << 61), i);
    tt_link(x, 4, t);
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 4, &p), STRATA_NOTFOUND);
    /* At m/8 each (density m, level 0, E = m) they are fragments, and four of them merge into
     * one table; with the fragment trigger off they stay. */
    for (size_t i = 0; i < 4; i++)
        t[i].size = MIB / 8;
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 4, &p));
    ST_ASSERT_EQ(p.reason, ST_UCS_REASON_FRAGMENTS);
    ST_ASSERT_EQ(p.ninputs, 4);
    ST_ASSERT_EQ(p.nbounds, 0);
    st_ucs_pick_free(&p);
    o.fragment_inputs = 0;
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 4, &p), STRATA_NOTFOUND);
}

static void
test_leveled_trigger_at_two(void)
{
    st_ucs_options o = opts(-8, MIB); /* L10 */
    tt x[2];
    st_ucs_table t[2];
    st_ucs_pick p;
    full_span(x, t, 1, MIB);
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 1, &p), STRATA_NOTFOUND); /* never a singleton */
    full_span(x, t, 2, MIB);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 2, &p));
    ST_ASSERT_EQ(p.ninputs, 2);
    ST_ASSERT_EQ(p.overlap, 2);
    st_ucs_pick_free(&p);
    /* N (W=0) also triggers at 2 */
    o = opts(0, MIB);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 2, &p));
    ST_ASSERT_EQ(p.ninputs, 2);
    st_ucs_pick_free(&p);
}

/* The read trigger lowers every level's threshold: T4's three overlapping tables stay until
 * reads are due, then merge; a lone table never; 1 is refused. */
static void
test_read_threshold(void)
{
    st_ucs_options o = opts(2, MIB); /* T4 */
    tt x[3];
    st_ucs_table t[3];
    st_ucs_pick p;
    full_span(x, t, 3, MIB);
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 3, &p), STRATA_NOTFOUND);
    o.read_threshold = 2;
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 3, &p));
    ST_ASSERT_EQ(p.ninputs, 3);
    ST_ASSERT_EQ(p.reason, ST_UCS_REASON_OVERLAP);
    st_ucs_pick_free(&p);
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 1, &p), STRATA_NOTFOUND);
    o.read_threshold = 1;
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 3, &p), STRATA_INVALID);
}

static void
test_compacting_excluded(void)
{
    st_ucs_options o = opts(2, MIB);
    tt x[5];
    st_ucs_table t[5];
    st_ucs_pick p;
    full_span(x, t, 5, MIB);
    t[1].compacting = 1;
    t[3].compacting = 1;
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 5, &p), STRATA_NOTFOUND); /* 3 eligible < 4 */
    t[3].compacting = 0;
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 5, &p));
    ST_ASSERT_EQ(p.ninputs, 4);
    ST_ASSERT(!has_input(&p, 1));
    st_ucs_pick_free(&p);
}

static void
test_cap_takes_oldest(void)
{
    static const uint64_t seqs[6] = {50, 10, 40, 20, 60, 30};
    st_ucs_options o = opts(2, MIB);
    tt x[6];
    st_ucs_table t[6];
    st_ucs_pick p;
    full_span(x, t, 6, MIB);
    for (size_t i = 0; i < 6; i++) {
        t[i].max_seq = seqs[i];
        t[i].min_seq = seqs[i] - 5;
    }
    o.max_inputs = 3;
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 6, &p));
    ST_ASSERT_EQ(p.ninputs, 3);
    ST_ASSERT_EQ(p.overlap, 6);
    /* seq 10, 20, 30 are tables 1, 3, 5, in that order */
    ST_ASSERT_EQ(p.inputs[0], 1);
    ST_ASSERT_EQ(p.inputs[1], 3);
    ST_ASSERT_EQ(p.inputs[2], 5);
    ST_ASSERT_EQ(p.input_bytes, 3 * (MIB / 2));
    st_ucs_pick_free(&p);
}

/* Highest overlap wins; equal overlap goes to the lowest level. */
static void
test_choice_between_levels(void)
{
    const uint64_t m = MIB, q = 1ull << 62;
    st_ucs_options o = opts(2, m);
    tt x[10];
    st_ucs_table t[10];
    st_ucs_pick p;
    size_t n = 0;
    /* level 0: four full-span tables (overlap 4) */
    for (size_t i = 0; i < 4; i++, n++)
        x[n] = mk(n, m / 2, i, UINT64_MAX - i, n);
    /* level 1: five quarter-span tables of size 2m (density 8m) in [q, 2q] (overlap 5) */
    for (size_t i = 0; i < 5; i++, n++)
        x[n] = mk(n, 2 * m, q + i, 2 * q + i, n);
    tt_link(x, n, t);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, n, &p));
    ST_ASSERT_EQ(p.level, 1);
    ST_ASSERT_EQ(p.overlap, 5);
    ST_ASSERT_EQ(p.ninputs, 5);
    for (size_t i = 4; i < 9; i++)
        ST_ASSERT(has_input(&p, i));
    st_ucs_pick_free(&p);
    /* drop one level-1 table: 4 vs 4, the lower level wins */
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, n - 1, &p));
    ST_ASSERT_EQ(p.level, 0);
    ST_ASSERT_EQ(p.overlap, 4);
    for (size_t i = 0; i < 4; i++)
        ST_ASSERT(has_input(&p, i));
    st_ucs_pick_free(&p);
}

/* Transitive buckets: a chain of level-0 tables where only one point reaches the threshold still
 * takes every table linked through shared sets; a disjoint group stays out. In the first layout
 * the triggering set is the first one and the bucket grows to the right, in the mirrored second
 * layout it is the last one and the bucket grows to the left. */
static void
test_bucket_transitive(void)
{
    static const char *const chains[2][6][2] = {
        /* {0,1,2} at "b".."c", {1,3}, {3,4}, {5} */
        {{"a", "c"}, {"b", "e"}, {"b", "d"}, {"e", "g"}, {"g", "h"}, {"x", "z"}},
        /* {5}, {4,3}, {3,1}, {1,2,0} at "r".."s" */
        {{"r", "u"}, {"p", "s"}, {"q", "s"}, {"n", "p"}, {"m", "n"}, {"a", "b"}},
    };
    st_ucs_options o = opts(1, MIB); /* T3 */
    st_ucs_table t[6];
    st_ucs_pick p;
    for (size_t c = 0; c < 2; c++) {
        for (size_t i = 0; i < 6; i++)
            t[i] = mks(i, 10, chains[c][i][0], chains[c][i][1], 1 + i);
        ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 6, &p));
        ST_ASSERT_EQ(p.overlap, 3);
        ST_ASSERT_EQ(p.ninputs, 5);
        ST_ASSERT(!has_input(&p, 5));
        st_ucs_pick_free(&p);
    }
}

/* ---- shards ---------------------------------------------------------------------------------- */

static void
test_shard_count(void)
{
    st_ucs_options o;
    st_ucs_options_init(&o);
    /* The worked example (t = 100 MiB, b = 4; m small so the basic scheme applies, lambda = 0). */
    o.target_size = 100 * MIB;
    o.base_shards = 4;
    o.flush_size = MIB;
    o.growth = 0;
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 200.0 * MIB), 4);   /* 200 < t*b = 400 */
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 1200.0 * MIB), 16); /* 2^round(log2 3) * 4 */
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 399.0 * MIB), 4);
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 400.0 * MIB), 4);   /* log2 1 = 0 */
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 1100.0 * MIB), 8);  /* log2 2.75 = 1.46 -> 1 */
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 6400.0 * MIB), 64); /* log2 16 = 4 */
    /* lambda = 1/3: 1200 -> (2/3) log2 3 = 1.06 -> 1 -> 8 shards (75 MiB -> 150 MiB each) */
    o.growth = 1.0 / 3.0;
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 1200.0 * MIB), 8);
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 6400.0 * MIB), 32); /* (2/3) 4 = 2.67 -> 3 */
    /* lambda = 1: always b above t*b */
    o.growth = 1.0;
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 1e15), 4);
    /* full scheme with m = 100 MiB, t = 1 GiB, b = 4 */
    o.growth = 1.0 / 3.0;
    o.flush_size = 100 * MIB;
    o.target_size = 1024 * MIB;
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 50.0 * MIB), 1);  /* d < m */
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 150.0 * MIB), 1); /* 2^floor(log2 1.5) */
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 200.0 * MIB), 2);
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 399.0 * MIB), 2);
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 400.0 * MIB), 4); /* d >= m*b: b */
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 4095.0 * MIB), 4);
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 65536.0 * MIB), 32); /* 16x t*b: (2/3) 4 -> 3 */
    /* b = 1 */
    o.base_shards = 1;
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 150.0 * MIB), 1);
    ST_ASSERT_EQ(st_ucs_shard_count(&o, 1024.0 * MIB), 1);
}

/* The worked example as a pick: six 50 MiB tables inside the second quarter of the key space give
 * d = 1200 MiB -> 16 shards; boundaries 5/16, 6/16, 7/16 fall inside -> outputs of 75 MiB. */
static void
test_shard_bounds_worked_example(void)
{
    const uint64_t q = 1ull << 62;
    st_ucs_options o;
    tt x[8];
    st_ucs_table t[8];
    st_ucs_pick p;
    st_ucs_options_init(&o);
    o.target_size = 100 * MIB;
    o.flush_size = MIB;
    o.growth = 0;
    for (size_t i = 0; i < 6; i++)
        x[i] = mk(i, 50 * MIB, q, 2 * q - 1, 1 + i);
    /* other quarters hold a table each, so the key space is the whole space (no prefix) */
    x[6] = mk(6, 50 * MIB, 0, q - 1, 7);
    x[7] = mk(7, 50 * MIB, 3 * q, UINT64_MAX, 8);
    tt_link(x, 8, t);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 8, &p));
    ST_ASSERT_EQ(p.ninputs, 6);
    ST_ASSERT_EQ(p.overlap, 6);
    ST_ASSERT(!has_input(&p, 6) && !has_input(&p, 7));
    ST_ASSERT_EQ(p.shards, 16);
    ST_ASSERT(p.density > 1199.0 * MIB && p.density < 1201.0 * MIB);
    ST_ASSERT_EQ(p.nbounds, 3);
    for (size_t i = 0; i < 3; i++) {
        uint8_t want = (uint8_t)(0x50 + 0x10 * i); /* k/16 -> first nibble k, rest zero */
        ST_ASSERT_MEM_EQ(p.bounds[i], p.bound_lens[i], &want, 1);
    }
    st_ucs_pick_free(&p);

    /* lambda = 1/3: 8 shards -> one boundary at 6/16 = 3/8 */
    o.growth = 1.0 / 3.0;
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 8, &p));
    ST_ASSERT_EQ(p.shards, 8);
    ST_ASSERT_EQ(p.nbounds, 1);
    {
        uint8_t want = 0x60;
        ST_ASSERT_MEM_EQ(p.bounds[0], p.bound_lens[0], &want, 1);
    }
    st_ucs_pick_free(&p);

    /* A 200 MiB flush over the whole space: 4 shards of about 50 MiB, bounds 1/4, 2/4, 3/4. */
    {
        uint8_t **b, lo[8], hi[8];
        size_t *bl, nb;
        uint64_t s;
        o.growth = 0;
        put_be64(lo, 0);
        put_be64(hi, UINT64_MAX);
        ST_ASSERT_OK(st_ucs_output_bounds(&o, t, 8, 200 * MIB, lo, 8, hi, 8, &b, &bl, &nb, &s));
        ST_ASSERT_EQ(s, 4);
        ST_ASSERT_EQ(nb, 3);
        for (size_t i = 0; i < 3; i++) {
            uint8_t want = (uint8_t)(0x40 * (i + 1));
            ST_ASSERT_MEM_EQ(b[i], bl[i], &want, 1);
        }
        st_ucs_bounds_free(b, bl, nb);
        /* with m = flush size (the full scheme), a flush is not split: d < m*b */
        o.flush_size = 200 * MIB;
        ST_ASSERT_OK(st_ucs_output_bounds(&o, t, 8, 200 * MIB, lo, 8, hi, 8, &b, &bl, &nb, &s));
        ST_ASSERT_EQ(s, 1);
        ST_ASSERT_EQ(nb, 0);
        st_ucs_bounds_free(b, bl, nb);
    }
}

/* Prefix-heavy keys: "user/000100" .. "user/000900" share "user/000" plus the 4 bits 0011 of
 * '1' (0x31) and '9' (0x39), 68 bits. Positions start after them, so a table over the whole live
 * range has v ~ (0x9 - 0x1) / 16 = 1/2 rather than ~0, and lands on level 0. Boundary k/4 is the
 * prefix followed by the bits of k/4: 1/4 -> 0011 0100 = '4', 2/4 -> 0011 1000 = '8',
 * 3/4 -> 0011 1100 = '<' which is above "user/000900" (so not inside). */
static void
test_prefix_stripping(void)
{
    st_ucs_options o = opts(2, MIB);
    st_ucs_table t[5];
    st_ucs_level_stats ls[4];
    st_ucs_pick p;
    size_t nl, tot;
    o.target_size = 64 * MIB;
    for (size_t i = 0; i < 4; i++)
        t[i] = mks(i, MIB, "user/000100", "user/000900", 1 + i);
    ST_ASSERT_OK(st_ucs_stats(&o, t, 4, ls, 4, &nl, &tot));
    ST_ASSERT_EQ(nl, 1); /* density ~2m: level 0 */
    ST_ASSERT_EQ(ls[0].tables, 4);
    ST_ASSERT_EQ(ls[0].max_overlap, 4);
    ST_ASSERT_EQ(tot, 4);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 4, &p));
    ST_ASSERT_EQ(p.ninputs, 4);
    ST_ASSERT_EQ(p.shards, 4); /* d ~ 8m: m*b <= d < t*b */
    ST_ASSERT_EQ(p.nbounds, 2);
    ST_ASSERT_MEM_EQ(p.bounds[0], p.bound_lens[0], "user/0004", 9);
    ST_ASSERT_MEM_EQ(p.bounds[1], p.bound_lens[1], "user/0008", 9);
    st_ucs_pick_free(&p);

    /* A narrow table among them is dense: "user/000100".."user/000101" differ by 1 in the byte
     * that follows the prefix nibble and two more bytes (bits 4+8+8 = 20 of the position): it
     * spans 2^-20 of the stripped space and lands far above level 0. */
    t[4] = mks(4, MIB, "user/000100", "user/000101", 5);
    ST_ASSERT_OK(st_ucs_stats(&o, t, 5, ls, 4, &nl, &tot));
    ST_ASSERT(nl > 1);
    ST_ASSERT_EQ(ls[0].tables, 4);
    ST_ASSERT_EQ(tot, 5);
}

/* Independent reference for the position mapping: bit-by-bit over zero-padded keys. */
static int
ref_bit(const uint8_t *k, size_t len, size_t bit)
{
    return bit / 8 < len ? (k[bit / 8] >> (7 - bit % 8)) & 1 : 0;
}

static uint64_t
ref_pos(const uint8_t *k, size_t len, size_t pbits)
{
    uint64_t v = 0;
    for (size_t i = 0; i < 64; i++)
        v = (v << 1) | (uint64_t)ref_bit(k, len, pbits + i);
    return v;
}

static int
ref_cmp(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
    size_t c = al < bl ? al : bl;
    int r = c ? memcmp(a, b, c) : 0;
    return r ? r : (al < bl ? -1 : al > bl);
}

/* Bounds and the key order agree exactly: for random keys in [lo, hi], key >= bound[i] iff the
 * key's position (the 64 bits after the common bit prefix of lo and hi, zero padded) is >= the
 * bound's position, and each bound's position is a multiple of 2^64 / S. Keys of varying length
 * with a shared byte prefix exercise the padding and the bit-level prefix. */
static void
test_bound_contract_random(void)
{
    st_rng r;
    st_ucs_options o = opts(2, MIB);
    size_t checked = 0;
    st_rng_seed(&r, st_test_seed() + 1);
    o.growth = 0;
    o.target_size = MIB;
    for (int round = 0; round < 200; round++) {
        uint8_t lo[12], hi[12], key[12], tmp[12];
        size_t pl = (size_t)st_rng_uniform(&r, 4), lol = pl + 1 + (size_t)st_rng_uniform(&r, 8);
        size_t hil = pl + 1 + (size_t)st_rng_uniform(&r, 8), pbits = 0, sbits = 0;
        uint8_t **b;
        size_t *bl, nb;
        uint64_t s, plo, phi;
        for (size_t i = 0; i < 12; i++)
            lo[i] = hi[i] = (uint8_t)st_rng_next(&r);
        for (size_t i = pl; i < 12; i++)
            hi[i] = (uint8_t)(st_rng_next(&r) & (round % 2 ? 0xFF : 0x0F)); /* long prefixes */
        if (ref_cmp(lo, lol, hi, hil) > 0) {
            size_t tl = lol;
            memcpy(tmp, lo, 12);
            memcpy(lo, hi, 12);
            memcpy(hi, tmp, 12);
            lol = hil;
            hil = tl;
        }
        while (pbits < 96 && ref_bit(lo, lol, pbits) == ref_bit(hi, hil, pbits))
            pbits++;
        plo = ref_pos(lo, lol, pbits);
        phi = ref_pos(hi, hil, pbits);
        if (pbits >= 96 || plo == phi)
            continue; /* equal ends (up to padding): nothing to split */
        ST_ASSERT_OK(
            st_ucs_output_bounds(&o, NULL, 0, 64 * MIB, lo, lol, hi, hil, &b, &bl, &nb, &s));
        while ((1ull << sbits) < s)
            sbits++;
        ST_ASSERT(s >= 4);
        ST_ASSERT(nb > 0); /* the top bit differs: 1/2 is inside */
        for (size_t i = 0; i < nb; i++) {
            uint64_t bp = ref_pos(b[i], bl[i], pbits);
            ST_ASSERT(ref_cmp(b[i], bl[i], lo, lol) > 0);
            ST_ASSERT(ref_cmp(b[i], bl[i], hi, hil) <= 0);
            ST_ASSERT(bl[i] > 0 && b[i][bl[i] - 1] != 0); /* trimmed */
            ST_ASSERT((bp & ((~0ull) >> sbits)) == 0);    /* a multiple of 2^64 / S */
            ST_ASSERT(bp > plo && bp <= phi);             /* inside */
            for (size_t k = 0; k < pbits; k++)            /* starts with the prefix */
                ST_ASSERT_EQ(ref_bit(b[i], bl[i], k), ref_bit(lo, lol, k));
            if (i) {
                ST_ASSERT(ref_cmp(b[i - 1], bl[i - 1], b[i], bl[i]) < 0);
                ST_ASSERT_EQ(bp, ref_pos(b[i - 1], bl[i - 1], pbits) + ((~0ull >> sbits) + 1));
            }
        }
        for (int j = 0; j < 100; j++) {
            size_t kl = pl + 1 + (size_t)st_rng_uniform(&r, 12 - pl); /* <= 12 */
            uint64_t kp;
            memcpy(key, (j % 2) ? lo : hi, 12);
            /* keep a random-length piece of an end, then randomise the rest */
            for (size_t i = pl + (size_t)st_rng_uniform(&r, 12 - pl); i < 12; i++)
                key[i] = (uint8_t)st_rng_next(&r);
            if (ref_cmp(key, kl, lo, lol) < 0 || ref_cmp(key, kl, hi, hil) > 0)
                continue;
            kp = ref_pos(key, kl, pbits);
            for (size_t i = 0; i < nb; i++)
                ST_ASSERT_EQ(ref_cmp(key, kl, b[i], bl[i]) >= 0, kp >= ref_pos(b[i], bl[i], pbits));
            checked++;
        }
        st_ucs_bounds_free(b, bl, nb);
    }
    ST_ASSERT(checked > 1000);
}

/* ---- fragments ------------------------------------------------------------------------------ */

/* What a database with default options passes for small data: T4, m at its 64 KiB floor, the
 * default 64 MiB target. */
static st_ucs_options
small_db_opts(void)
{
    st_ucs_options o = opts(2, 64 * 1024);
    o.target_size = 64 * MIB;
    return o;
}

/* A pick over t[0..n) has `want` inputs (0: nothing is due). */
static void
expect_inputs(const st_ucs_options *o, const st_ucs_table *t, size_t n, size_t want)
{
    st_ucs_pick p;
    int rc = st_ucs_pick_compaction(o, t, n, &p);
    if (want == 0) {
        ST_ASSERT_RC(rc, STRATA_NOTFOUND);
        return;
    }
    ST_ASSERT_OK(rc);
    ST_ASSERT_EQ(p.ninputs, want);
    st_ucs_pick_free(&p);
}

/* Many one-key tables at disjoint keys (one `strata put` per process): each is a fragment (its
 * density is that of a table over 2^-40 of the key space, where UCS would write target-size
 * tables), so runs of them merge into one table, key-adjacent, oldest first, no bounds. */
static void
test_fragments_many_tiny_disjoint(void)
{
    st_ucs_options o = small_db_opts();
    tt x[100];
    st_ucs_table t[100];
    st_ucs_pick p;
    st_ucs_level_stats ls[64];
    size_t nl, tot, frags = 0;
    for (size_t i = 0; i < 100; i++) /* key order = index order; seq descending with the key */
        x[i] = mk(i, 1000, (i + 1) * (1ull << 56), (i + 1) * (1ull << 56), 1000 - i);
    tt_link(x, 100, t);
    ST_ASSERT_OK(st_ucs_stats(&o, t, 100, ls, 64, &nl, &tot));
    for (size_t l = 0; l < nl; l++)
        frags += ls[l].fragments;
    ST_ASSERT_EQ(frags, 100);
    ST_ASSERT_EQ(tot, 1);
    /* the leftmost max_inputs of them */
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 100, &p));
    ST_ASSERT_EQ(p.reason, ST_UCS_REASON_FRAGMENTS);
    ST_ASSERT_EQ(p.ninputs, 32);
    ST_ASSERT_EQ(p.nbounds, 0);
    ST_ASSERT_EQ(p.shards, 1);
    ST_ASSERT_EQ(p.overlap, 0);
    ST_ASSERT_EQ(p.input_bytes, 32 * 1000);
    for (size_t i = 0; i < 32; i++)
        ST_ASSERT_EQ(p.inputs[i], 31 - i); /* oldest (largest index) first */
    st_ucs_pick_free(&p);
    /* F - 1 fragments stay; F (of one size: balanced) merge */
    expect_inputs(&o, t, 3, 0);
    expect_inputs(&o, t, 4, 4);
    /* compacting tables are skipped: 0, 3, 4 remain, fewer than F */
    t[1].compacting = t[2].compacting = 1;
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 5, &p), STRATA_NOTFOUND);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 6, &p)); /* 0, 3, 4, 5 */
    ST_ASSERT_EQ(p.ninputs, 4);
    ST_ASSERT(has_input(&p, 0) && has_input(&p, 5) && !has_input(&p, 1) && !has_input(&p, 2));
    st_ucs_pick_free(&p);
    t[1].compacting = t[2].compacting = 0;
    /* a byte limit shortens the run, and below F fragments' worth there is no pick */
    o.max_input_bytes = 5500;
    expect_inputs(&o, t, 100, 5);
    o.max_input_bytes = 3999;
    expect_inputs(&o, t, 100, 0);
    o.max_input_bytes = 0;
    /* F = 2 merges pairs, never one table alone; F = 0 turns the trigger off */
    o.fragment_inputs = 2;
    expect_inputs(&o, t, 1, 0);
    expect_inputs(&o, t, 2, 2);
    o.fragment_inputs = 0;
    expect_inputs(&o, t, 100, 0);
    /* F above max_inputs is used as max_inputs */
    o.fragment_inputs = 64;
    expect_inputs(&o, t, 100, 32);
    o.fragment_inputs = 1;
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 100, &p), STRATA_INVALID);
    o.fragment_inputs = 1025;
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 100, &p), STRATA_INVALID);
}

/* Balance: a fragment that has grown is not rewritten for a few small newcomers; they wait for
 * F of their own size. Fragments that never balance (doubling sizes) merge anyway once 2F exist,
 * so fewer than 2F remain. */
static void
test_fragments_balanced(void)
{
    st_ucs_options o = small_db_opts();
    tt x[8];
    st_ucs_table t[8];
    st_ucs_pick p;
    /* one-key fragments: 40000 bytes, then 1000-byte ones */
    for (size_t i = 0; i < 8; i++)
        x[i] = mk(i, i == 0 ? 40000 : 1000, (i + 1) << 20, (i + 1) << 20, 1 + i);
    tt_link(x, 8, t);
    expect_inputs(&o, t, 4, 0); /* 40000 > 3 x 1000 */
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 5, &p));
    ST_ASSERT_EQ(p.ninputs, 4);
    ST_ASSERT(!has_input(&p, 0));
    st_ucs_pick_free(&p);
    /* 1000, 2000, 4000, ...: every run has its largest above the sum of the others; at 2F
     * fragments the run that removes tables for the fewest bytes each goes: the first F */
    for (size_t i = 0; i < 8; i++)
        t[i].size = 1000ull << i;
    expect_inputs(&o, t, 7, 0);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 8, &p));
    ST_ASSERT_EQ(p.reason, ST_UCS_REASON_FRAGMENTS);
    ST_ASSERT_EQ(p.ninputs, 4);
    ST_ASSERT_EQ(p.input_bytes, 15000);
    st_ucs_pick_free(&p);
}

/* Overlap: fragments that share keys are the overlap trigger's (below its threshold, they wait);
 * a chain in which each overlaps the next (late writes into the previous range) never reaches
 * the overlap threshold, so at 2F fragments they merge anyway. */
static void
test_fragments_overlapping(void)
{
    st_ucs_options o = small_db_opts();
    tt x[8];
    st_ucs_table t[8];
    st_ucs_pick p;
    for (size_t i = 0; i < 8; i++) /* [i, i + 1.5] in units of 2^40: depth 2 */
        x[i] = mk(i, 1000, i << 40, (i << 40) + (3ull << 39), 1 + i);
    tt_link(x, 8, t);
    expect_inputs(&o, t, 7, 0);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 8, &p));
    ST_ASSERT_EQ(p.reason, ST_UCS_REASON_FRAGMENTS);
    ST_ASSERT_EQ(p.ninputs, 8); /* equal sizes: the longest run is the cheapest per table */
    st_ucs_pick_free(&p);
    /* the last four moved to single keys of their own: a disjoint run goes first, and it may
     * start with the chain's last table (the rest of the chain overlaps) */
    for (size_t i = 4; i < 8; i++)
        x[i] = mk(i, 1000, (100 + i) << 40, (100 + i) << 40, 1 + i);
    tt_link(x, 8, t);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 8, &p));
    ST_ASSERT_EQ(p.ninputs, 5);
    for (size_t i = 0; i < 8; i++)
        ST_ASSERT_EQ(has_input(&p, i), i >= 3);
    st_ucs_pick_free(&p);
}

/* Sequential tables: spans in proportion to their bytes, so every table has about the same
 * density. Six tables of t/2 (not fragments: E = t) are left alone; the five t/64 tables
 * written after them are fragments and merge. */
static void
test_fragments_sequential(void)
{
    const uint64_t t_size = 64 * MIB, big = 1ull << 40, small = big / 32;
    st_ucs_options o = opts(2, MIB);
    tt x[11];
    st_ucs_table t[11];
    st_ucs_pick p;
    size_t n = 0;
    uint64_t at = 0;
    o.target_size = t_size;
    for (size_t i = 0; i < 6; i++, n++, at += big)
        x[n] = mk(n, t_size / 2, at, at + big - 1, 1 + n);
    for (size_t i = 0; i < 5; i++, n++, at += small)
        x[n] = mk(n, t_size / 64, at, at + small - 1, 1 + n);
    tt_link(x, n, t);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, n, &p));
    ST_ASSERT_EQ(p.reason, ST_UCS_REASON_FRAGMENTS);
    ST_ASSERT_EQ(p.ninputs, 5);
    for (size_t i = 0; i < 5; i++)
        ST_ASSERT_EQ(p.inputs[i], 6 + i);
    ST_ASSERT_EQ(p.input_bytes, 5 * (t_size / 64));
    st_ucs_pick_free(&p);
    /* the big tables alone, or with three small ones: nothing to do */
    expect_inputs(&o, t, 6, 0);
    expect_inputs(&o, t, 9, 0);
}

/* Mixed sizes: fragments separated in key order by tables that are not fragments still form one
 * run (the others are skipped, never taken); the run stops at target_size bytes; an overlap
 * trigger comes first. */
static void
test_fragments_mixed_sizes(void)
{
    const uint64_t t_size = 64 * MIB, unit = 1ull << 52;
    /* B f f B f f f B: B = t over one unit, f = t/6 over a single key */
    static const int is_big[8] = {1, 0, 0, 1, 0, 0, 0, 1};
    st_ucs_options o = opts(2, MIB);
    tt x[14];
    st_ucs_table t[14];
    st_ucs_pick p;
    size_t n = 0;
    o.target_size = t_size;
    for (size_t i = 0; i < 8; i++, n++) {
        uint64_t lo = (i + 1) * unit;
        x[n] = is_big[i] ? mk(n, t_size, lo, lo + unit - 1, 1 + n)
                         : mk(n, t_size / 6, lo + 7, lo + 7, 1 + n);
    }
    tt_link(x, n, t);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, n, &p));
    ST_ASSERT_EQ(p.reason, ST_UCS_REASON_FRAGMENTS);
    ST_ASSERT_EQ(p.ninputs, 5);
    for (size_t i = 0; i < 8; i++)
        ST_ASSERT_EQ(has_input(&p, i), !is_big[i]);
    st_ucs_pick_free(&p);
    /* two more fragments: 7 of t/6 do not fit in t, the leftmost 6 do */
    for (size_t i = 0; i < 2; i++, n++)
        x[n] = mk(n, t_size / 6, (9 + i) * unit, (9 + i) * unit, 1 + n);
    tt_link(x, n, t);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, n, &p));
    ST_ASSERT_EQ(p.ninputs, 6);
    ST_ASSERT(p.input_bytes <= t_size);
    ST_ASSERT(!has_input(&p, 9));
    st_ucs_pick_free(&p);
    /* four full-span level-0 tables: the overlap trigger wins */
    for (size_t i = 0; i < 4; i++, n++)
        x[n] = mk(n, MIB / 2, i, UINT64_MAX - i, 1 + n);
    tt_link(x, n, t);
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, n, &p));
    ST_ASSERT_EQ(p.reason, ST_UCS_REASON_OVERLAP);
    ST_ASSERT_EQ(p.ninputs, 4);
    st_ucs_pick_free(&p);
    /* a byte limit: the bucket (4 x m/2 = 2 MiB) fits in 2 MiB; in 1 MiB neither it nor any
     * F fragments (t/6 each) fit */
    o.max_input_bytes = 2 * MIB;
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, n, &p));
    ST_ASSERT_EQ(p.reason, ST_UCS_REASON_OVERLAP);
    st_ucs_pick_free(&p);
    o.max_input_bytes = MIB;
    expect_inputs(&o, t, n, 0);
}

/* ---- tombstones, stats, allocation failures -------------------------------------------------- */

static void
test_tombstone_trigger(void)
{
    st_ucs_options o = opts(2, MIB);
    st_ucs_table t[2];
    st_ucs_pick p;
    o.tombstone_ratio = 0.2;
    t[0] = mks(0, MIB, "a", "m", 10);
    t[0].entries = 100;
    t[0].tombstones = 30;
    t[1] = mks(1, MIB, "n", "z", 5); /* older, disjoint */
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 2, &p));
    ST_ASSERT_EQ(p.reason, ST_UCS_REASON_TOMBSTONES);
    ST_ASSERT_EQ(p.ninputs, 1);
    ST_ASSERT_EQ(p.inputs[0], 0);
    st_ucs_pick_free(&p);
    /* an older overlapping table blocks it (its data may be shadowed by the tombstones) */
    t[1] = mks(1, MIB, "k", "z", 5);
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 2, &p), STRATA_NOTFOUND);
    /* a newer overlapping table does not */
    t[1].min_seq = t[1].max_seq = 20;
    ST_ASSERT_OK(st_ucs_pick_compaction(&o, t, 2, &p));
    ST_ASSERT_EQ(p.inputs[0], 0);
    st_ucs_pick_free(&p);
    /* below the ratio, or the trigger disabled */
    t[0].tombstones = 10;
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 2, &p), STRATA_NOTFOUND);
    t[0].tombstones = 30;
    o.tombstone_ratio = 0;
    ST_ASSERT_RC(st_ucs_pick_compaction(&o, t, 2, &p), STRATA_NOTFOUND);
}

static void
test_stats_basic(void)
{
    st_ucs_options o = opts(2, MIB);
    tt x[6];
    st_ucs_table t[6];
    st_ucs_level_stats ls[8];
    size_t nl = 99, tot = 99;
    ST_ASSERT_OK(st_ucs_stats(&o, NULL, 0, ls, 8, &nl, &tot));
    ST_ASSERT_EQ(nl, 0);
    ST_ASSERT_EQ(tot, 0);
    full_span(x, t, 3, MIB);
    /* a level-2 table (quarter span, density 16m) and a level-1 one */
    x[3] = mk(3, 4 * MIB, 1ull << 62, 1ull << 63, 20);
    x[4] = mk(4, 2 * MIB, 0, 1ull << 62, 21);
    x[5] = mk(5, 2 * MIB, 3ull << 62, UINT64_MAX, 22);
    tt_link(x, 6, t);
    t[0].compacting = 1; /* still counted by stats */
    ST_ASSERT_OK(st_ucs_stats(&o, t, 6, ls, 8, &nl, &tot));
    ST_ASSERT_EQ(nl, 3);
    ST_ASSERT_EQ(ls[0].tables, 3);
    ST_ASSERT_EQ(ls[0].bytes, 3 * (MIB / 2));
    ST_ASSERT_EQ(ls[0].max_overlap, 3);
    ST_ASSERT_EQ(ls[1].tables, 2);
    ST_ASSERT_EQ(ls[1].max_overlap, 1);
    ST_ASSERT_EQ(ls[2].tables, 1);
    ST_ASSERT_EQ(ls[2].threshold, 4);
    /* x[4] ends at 2^62 where x[3] begins: a point in 4 tables + 3 full-span = 5 */
    ST_ASSERT_EQ(tot, 5);
    /* truncated */
    ST_ASSERT_OK(st_ucs_stats(&o, t, 6, ls, 1, &nl, &tot));
    ST_ASSERT_EQ(nl, 1);
    ST_ASSERT_EQ(ls[0].tables, 3);
    ST_ASSERT_RC(st_ucs_stats(&o, t, 6, NULL, 1, &nl, &tot), STRATA_INVALID);
}

static void
test_nomem(void)
{
    st_ucs_options o;
    tt x[8];
    st_ucs_table t[8];
    st_ucs_pick p;
    st_ucs_level_stats ls[4];
    size_t nl, tot, *mem, *st, ns;
    int ok = 0;
    st_ucs_options_init(&o);
    o.flush_size = MIB;
    o.target_size = MIB;
    full_span(x, t, 8, MIB);
    for (long i = 0; i < 200 && !ok; i++) {
        int rc;
        st_alloc_fail_after(i);
        rc = st_ucs_pick_compaction(&o, t, 8, &p);
        st_alloc_fail_after(-1);
        if (rc == STRATA_OK) {
            ST_ASSERT(p.nbounds > 0);
            st_ucs_pick_free(&p);
            ok = 1;
        } else {
            ST_ASSERT_EQ(rc, STRATA_NOMEM);
            ST_ASSERT(p.inputs == NULL && p.bounds == NULL && p.ninputs == 0);
        }
    }
    ST_ASSERT(ok);
    st_alloc_fail_after(0);
    ST_ASSERT_RC(st_ucs_stats(&o, t, 8, ls, 4, &nl, &tot), STRATA_NOMEM);
    ST_ASSERT_RC(st_ucs_overlap_sets(t, 8, &mem, &st, &ns), STRATA_NOMEM);
    st_alloc_fail_after(-1);
}

/* ---- simulation ------------------------------------------------------------------------------ */

/* Tables over positions = 8-byte keys; flushes of size m over random spans of at least half of
 * the space (so the key space never has a common prefix); compactions replace their inputs with
 * outputs of the summed size split at the pick's bounds, in proportion to the key span (uniform
 * data, no overwrites). */
typedef struct sim {
    tt *x;
    size_t n, cap;
    uint64_t next_id, seq;
    uint64_t flushed, written; /* bytes */
    double ra_sum;
    size_t ra_samples, ra_max, picks, fragment_picks;
} sim;

static void
sim_add(sim *s, uint64_t size, uint64_t lo, uint64_t hi, uint64_t min_seq, uint64_t max_seq)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 64;
        s->x = realloc(s->x, s->cap * sizeof(*s->x));
        ST_ASSERT(s->x != NULL);
    }
    s->x[s->n] = mk(s->next_id++, size, lo, hi, 0);
    s->x[s->n].t.min_seq = min_seq;
    s->x[s->n].t.max_seq = max_seq;
    s->n++;
}

static st_ucs_table *
sim_tables(sim *s)
{
    st_ucs_table *t = malloc((s->n ? s->n : 1) * sizeof(*t));
    ST_ASSERT(t != NULL);
    tt_link(s->x, s->n, t);
    return t;
}

/* Apply a pick made over s->x[0..n) (indexes still valid): outputs appended, inputs removed. */
static void
sim_apply(sim *s, const st_ucs_pick *p)
{
    uint64_t lo = UINT64_MAX, hi = 0, total = 0, mins = UINT64_MAX, maxs = 0, done = 0;
    char *dead = calloc(s->n, 1);
    size_t w = 0, nprev = s->n;
    ST_ASSERT(dead != NULL);
    for (size_t i = 0; i < p->ninputs; i++) {
        tt *x = &s->x[p->inputs[i]];
        uint64_t a = get_be64_padded(x->lo, 8), b = get_be64_padded(x->hi, 8);
        ST_ASSERT(!dead[p->inputs[i]]); /* no table twice in one pick */
        dead[p->inputs[i]] = 1;
        lo = a < lo ? a : lo;
        hi = b > hi ? b : hi;
        total += x->t.size;
        mins = x->t.min_seq < mins ? x->t.min_seq : mins;
        maxs = x->t.max_seq > maxs ? x->t.max_seq : maxs;
    }
    ST_ASSERT_EQ(total, p->input_bytes);
    s->written += total;
    /* pieces [lo, b1), [b1, b2), ..., [bk, hi]; bounds are 1-byte-or-longer prefixes of
     * positions (no key-space prefix here) */
    {
        uint64_t start = lo;
        double span = (double)(hi - lo) + 1.0;
        for (size_t i = 0; i <= p->nbounds; i++) {
            uint64_t end =
                         i < p->nbounds ? get_be64_padded(p->bounds[i], p->bound_lens[i]) - 1 : hi,
                     size;
            ST_ASSERT(end >= start);
            ST_ASSERT(end <= hi);
            size = i < p->nbounds ? (uint64_t)((double)total * ((double)(end - start) + 1) / span)
                                  : total - done;
            done += size;
            sim_add(s, size, start, end, mins, maxs);
            start = end + 1;
        }
    }
    for (size_t i = 0; i < s->n; i++)
        if (i >= nprev || !dead[i])
            s->x[w++] = s->x[i];
    s->n = w;
    free(dead);
}

static size_t
sim_levels(const st_ucs_options *o, sim *s, st_ucs_level_stats *ls, size_t *tot)
{
    st_ucs_table *t = sim_tables(s);
    size_t nl;
    ST_ASSERT_OK(st_ucs_stats(o, t, s->n, ls, 64, &nl, tot));
    free(t);
    return nl;
}

/* floor(log_f(x)) for a uniform fan-out f, by repeated multiplication */
static int
floor_log(double x, int f)
{
    int l = 0;
    for (double p = f; p <= x; p *= f)
        l++;
    return l;
}

/* Apply picks until none is due. Picks are made two at a time, as two workers would: the second
 * sees the first's inputs as compacting and must not take any of them. Every pick but a
 * tombstone pick has at least two inputs (no one-table rewrite with nothing to merge); a
 * fragment merge has no bounds and at most target_size bytes. */
static void
sim_settle(const st_ucs_options *o, sim *s)
{
    for (;;) {
        st_ucs_table *t = sim_tables(s);
        st_ucs_pick p1, p2;
        int rc = st_ucs_pick_compaction(o, t, s->n, &p1), rc2;
        if (rc == STRATA_NOTFOUND) {
            free(t);
            break;
        }
        ST_ASSERT_OK(rc);
        ST_ASSERT(p1.ninputs >= 2 && p1.ninputs <= (size_t)o->max_inputs);
        if (p1.reason == ST_UCS_REASON_FRAGMENTS) {
            ST_ASSERT_EQ(p1.nbounds, 0);
            ST_ASSERT(p1.input_bytes <= o->target_size);
            s->fragment_picks++;
        }
        for (size_t i = 0; i < p1.ninputs; i++)
            t[p1.inputs[i]].compacting = 1;
        rc2 = st_ucs_pick_compaction(o, t, s->n, &p2);
        ST_ASSERT(rc2 == STRATA_OK || rc2 == STRATA_NOTFOUND);
        if (rc2 == STRATA_OK) {
            ST_ASSERT(p2.ninputs >= 2);
            for (size_t i = 0; i < p2.ninputs; i++)
                ST_ASSERT(!t[p2.inputs[i]].compacting);
            s->fragment_picks += p2.reason == ST_UCS_REASON_FRAGMENTS;
        }
        free(t);
        if (rc2 == STRATA_OK) {
            /* p1's inputs are untouched by p2: record their ids, apply p2, find them again */
            uint64_t ids[64];
            size_t k = p1.ninputs;
            ST_ASSERT(k <= 64);
            for (size_t i = 0; i < k; i++)
                ids[i] = s->x[p1.inputs[i]].t.id;
            sim_apply(s, &p2);
            for (size_t i = 0; i < k; i++) {
                size_t j = 0;
                while (j < s->n && s->x[j].t.id != ids[i])
                    j++;
                ST_ASSERT(j < s->n);
                p1.inputs[i] = j;
            }
            s->picks++;
            st_ucs_pick_free(&p2);
        }
        sim_apply(s, &p1);
        s->picks++;
        st_ucs_pick_free(&p1);
    }
}

/* The settled-state guarantees (doc/compaction.md section 4): every level's overlap is below its
 * threshold, the overlap of all levels is at most B = sum (t_l - 1), at most 2F - 1 fragments
 * remain, and level l holds at most (t_l - 1) F sigma_l other tables, sigma_l = max(S(d), d / t)
 * at the level's top density d. Returns the number of levels; *tot gets the total overlap. */
static size_t
sim_check_settled(const st_ucs_options *o, sim *s, size_t *tot)
{
    st_ucs_level_stats ls[64];
    size_t nl = sim_levels(o, s, ls, tot), bound = 0, frags = 0;
    double top = (double)o->flush_size;
    for (size_t l = 0; l < nl; l++) {
        double sigma, cap;
        ST_ASSERT(ls[l].max_overlap < (size_t)ls[l].threshold);
        bound += (size_t)ls[l].threshold - 1;
        frags += ls[l].fragments;
        top *= ls[l].fanout;
        sigma = (double)st_ucs_shard_count(o, top);
        if (top / (double)o->target_size > sigma)
            sigma = top / (double)o->target_size;
        cap = (double)(ls[l].threshold - 1) * o->fragment_inputs * sigma;
        ST_ASSERT((double)(ls[l].tables - ls[l].fragments) <= cap);
    }
    ST_ASSERT(*tot <= bound);
    if (o->fragment_inputs)
        ST_ASSERT(frags < 2 * (size_t)o->fragment_inputs);
    return nl;
}

static void
simulate(const char *name, int w, uint64_t seed, double *wa_out)
{
    const uint64_t m = MIB;
    st_ucs_options o;
    st_rng r;
    sim s;
    size_t flushes = (size_t)(1500 * st_test_scale()), nl = 0, tot = 0, maxnl = 0;
    int f;
    memset(&s, 0, sizeof(s));
    st_rng_seed(&r, seed);
    st_ucs_options_init(&o);
    o.scaling[0] = w;
    o.flush_size = m;
    o.target_size = 4 * m;
    o.base_shards = 4;
    o.growth = 1.0 / 3.0;
    o.max_inputs = 32;
    f = st_ucs_fanout(&o, 0);
    if (flushes < 200)
        flushes = 200;
    for (size_t fl = 0; fl < flushes; fl++) {
        uint64_t width = (1ull << 63) + st_rng_uniform(&r, 1ull << 63);
        uint64_t lo = st_rng_uniform(&r, UINT64_MAX - width);
        s.seq++;
        sim_add(&s, m, lo, lo + width, s.seq, s.seq);
        s.flushed += m;
        s.written += m;
        sim_settle(&o, &s);
        nl = sim_check_settled(&o, &s, &tot);
        s.ra_sum += (double)tot;
        s.ra_samples++;
        if (tot > s.ra_max)
            s.ra_max = tot;
        if (nl > maxnl)
            maxnl = nl;
    }
    {
        uint64_t bytes = 0;
        double wa = (double)s.written / (double)s.flushed;
        int lf = floor_log((double)s.flushed / (double)m, f);
        for (size_t i = 0; i < s.n; i++)
            bytes += s.x[i].t.size;
        ST_ASSERT_EQ(bytes, s.flushed); /* sizes are conserved */
        fprintf(stderr,
                "  %-3s (W=%d f=%d t=%d) %zu flushes: WA %.2f, RA mean %.2f max %zu tables/read, "
                "%zu levels (log_f(D/m) = %d), %zu tables, %zu compactions (%zu fragment "
                "merges)\n",
                name, w, f, st_ucs_threshold(&o, 0), flushes, wa, s.ra_sum / (double)s.ra_samples,
                s.ra_max, nl, lf, s.n, s.picks, s.fragment_picks);
        /* levels grow like log_f(D/m): the top level holds at most all data in one run */
        ST_ASSERT((int)nl <= lf + 2);
        ST_ASSERT((int)nl >= lf - 1);
        /* each byte is rewritten at most a bounded number of times per level */
        ST_ASSERT(wa >= 1.0);
        ST_ASSERT(wa <= (double)(nl + 1) * (double)f);
        /* tiered: about one rewrite per level; leveled: several per level */
        if (w > 0)
            ST_ASSERT(wa <= (double)nl + 2.0);
        if (w < 0)
            ST_ASSERT(wa >= (double)nl);
        *wa_out = wa;
    }
    free(s.x);
}

static void
test_simulation(void)
{
    uint64_t seed = st_test_seed();
    double wa_t4, wa_l10, wa_n;
    simulate("T4", 2, seed, &wa_t4);
    simulate("L10", -8, seed, &wa_l10);
    simulate("N", 0, seed, &wa_n);
    /* leveled pays more write amplification than tiered */
    ST_ASSERT(wa_l10 > wa_t4);
}

/* ---- workload shapes that never overlap ----------------------------------------------------- */

enum { SHAPE_SEQUENTIAL, SHAPE_POINTS, SHAPE_MIXED };

typedef struct shape_result {
    size_t tables, max_tables, compactions, fragment_merges;
    double wa;
} shape_result;

/* Flush number fl of a shape: sequential flushes of m over consecutive key ranges; one-key
 * tables of 1100 bytes at random keys (one `strata put` per process); or a mix of wide flushes
 * of m, sequential runs of m/8 and one-key tables. */
static void
shape_flush(int shape, size_t fl, uint64_t m, st_rng *r, sim *s)
{
    const uint64_t chunk = 1ull << 40;
    uint64_t size = m, lo, hi;
    int kind = shape == SHAPE_SEQUENTIAL ? 0 : shape == SHAPE_POINTS ? 1 : (int)(fl % 4);
    if (kind == 0) { /* sequential */
        lo = (uint64_t)fl * chunk;
        hi = lo + chunk - 1;
        size = shape == SHAPE_MIXED ? m / 8 : m;
    } else if (kind == 1) { /* one key */
        lo = hi = st_rng_next(r);
        size = 1100;
    } else { /* wide */
        uint64_t width = (1ull << 63) + st_rng_uniform(r, 1ull << 63);
        lo = st_rng_uniform(r, UINT64_MAX - width);
        hi = lo + width;
    }
    s->seq++;
    sim_add(s, size, lo, hi, s->seq, s->seq);
    s->flushed += size;
    s->written += size;
}

static void
simulate_shape(const char *name, int shape, const st_ucs_options *o, size_t flushes, uint64_t seed,
               shape_result *res)
{
    st_rng r;
    sim s;
    size_t tot;
    memset(&s, 0, sizeof(s));
    memset(res, 0, sizeof(*res));
    st_rng_seed(&r, seed);
    for (size_t fl = 0; fl < flushes; fl++) {
        shape_flush(shape, fl, o->flush_size, &r, &s);
        sim_settle(o, &s);
        if (o->fragment_inputs)
            sim_check_settled(o, &s, &tot);
        if (s.n > res->max_tables)
            res->max_tables = s.n;
    }
    res->tables = s.n;
    res->compactions = s.picks;
    res->fragment_merges = s.fragment_picks;
    res->wa = (double)s.written / (double)s.flushed;
    fprintf(stderr,
            "  %-22s %zu flushes, F=%d: WA %.2f, %zu tables (max %zu), %zu compactions (%zu "
            "fragment merges)\n",
            name, flushes, o->fragment_inputs, res->wa, res->tables, res->max_tables,
            res->compactions, res->fragment_merges);
    free(s.x);
}

/* Sequential inserts: every flush is key-disjoint from the rest, so overlap never triggers.
 * Without fragments the table count is the flush count. With them, flushes smaller than
 * target/F are merged with their neighbours F at a time until they reach a size the model
 * leaves alone; tables of target/F or more are never rewritten. */
static void
test_shape_sequential(void)
{
    st_ucs_options o = opts(2, MIB / 16);
    shape_result with, without, big;
    size_t n = 400;
    o.target_size = 4 * MIB; /* flushes of t/64 */
    simulate_shape("sequential, m = t/64", SHAPE_SEQUENTIAL, &o, n, 1, &with);
    o.fragment_inputs = 0;
    simulate_shape("sequential, m = t/64", SHAPE_SEQUENTIAL, &o, n, 1, &without);
    ST_ASSERT_EQ(without.tables, n); /* the problem: one table per flush, forever */
    ST_ASSERT_EQ(without.compactions, 0);
    /* D = 400 m = 6.25 t: at most F - 1 fragments plus tables of at least E / F >= t / (4 F) */
    ST_ASSERT(with.tables <= 3 + 6.25 * 4 * 4 * 1.5);
    ST_ASSERT(with.max_tables <= with.tables + 8);
    /* a fragment is rewritten when F of its size have gathered (balanced runs), so a flush is
     * rewritten at most log_F(t / m) = 3 times (2.98 - 1 in all: E reaches t only at D = t b) */
    ST_ASSERT(with.wa <= 4.0);
    ST_ASSERT(with.compactions == with.fragment_merges); /* nothing ever overlaps */
    /* flushes of t/4 or more (the defaults: 64 MiB buffer, 64 MiB target) are left alone */
    o = opts(2, MIB);
    o.target_size = 4 * MIB;
    simulate_shape("sequential, m = t/4", SHAPE_SEQUENTIAL, &o, n, 1, &big);
    ST_ASSERT_EQ(big.compactions, 0);
    ST_ASSERT(big.wa == 1.0);
}

/* One-key tables at random keys (the `strata put` per process case), with the parameters a
 * database sees there (small_db_opts). */
static void
test_shape_points(void)
{
    st_ucs_options o = small_db_opts();
    shape_result with, without;
    uint64_t seed = st_test_seed();
    /* 11 to 17 tables at most over 800 runs; the simulation keeps every byte, where real
     * merges of one-row tables shrink to a fraction (test_cli_sessions checks 16 on disk) */
    for (uint64_t i = 0; i < 20; i++) {
        simulate_shape("one-key tables", SHAPE_POINTS, &o, 500, seed + i, &with);
        ST_ASSERT(with.max_tables <= 20);
    }
    o.fragment_inputs = 0;
    simulate_shape("one-key tables", SHAPE_POINTS, &o, 500, seed, &without);
    ST_ASSERT_EQ(without.tables, 500);
}

/* Wide flushes, sequential runs and one-key tables interleaved. */
static void
test_shape_mixed(void)
{
    st_ucs_options o = opts(2, MIB);
    shape_result res, without;
    o.target_size = 4 * MIB;
    o.growth = 1.0 / 3.0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        simulate_shape("mixed", SHAPE_MIXED, &o, 800, seed, &res);
        ST_ASSERT(res.fragment_merges > 0);
        ST_ASSERT(res.wa < 10.0);
    }
    /* without fragments the sequential runs and one-key tables stay */
    o.fragment_inputs = 0;
    simulate_shape("mixed", SHAPE_MIXED, &o, 800, 3, &without);
    ST_ASSERT(without.tables > 8 * res.tables);
}

int
main(void)
{
    ST_RUN(test_options);
    ST_RUN(test_level_of);
    ST_RUN(test_levels_hand_built);
    ST_RUN(test_overlap_sets_doc_example);
    ST_RUN(test_overlap_sets_random);
    ST_RUN(test_tiered_trigger_at_threshold);
    ST_RUN(test_leveled_trigger_at_two);
    ST_RUN(test_read_threshold);
    ST_RUN(test_compacting_excluded);
    ST_RUN(test_cap_takes_oldest);
    ST_RUN(test_choice_between_levels);
    ST_RUN(test_bucket_transitive);
    ST_RUN(test_fragments_many_tiny_disjoint);
    ST_RUN(test_fragments_balanced);
    ST_RUN(test_fragments_overlapping);
    ST_RUN(test_fragments_sequential);
    ST_RUN(test_fragments_mixed_sizes);
    ST_RUN(test_shard_count);
    ST_RUN(test_shard_bounds_worked_example);
    ST_RUN(test_prefix_stripping);
    ST_RUN(test_bound_contract_random);
    ST_RUN(test_tombstone_trigger);
    ST_RUN(test_stats_basic);
    ST_RUN(test_nomem);
    ST_RUN(test_simulation);
    ST_RUN(test_shape_sequential);
    ST_RUN(test_shape_points);
    ST_RUN(test_shape_mixed);
    return st_test_done();
}
