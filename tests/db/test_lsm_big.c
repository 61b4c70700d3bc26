/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_lsm_big.c -- a big load through the whole LSM: 5,000,000 x st_test_scale() entries of
 * 16-byte keys and 100-byte values, default options except an 8 MiB write buffer, written in
 * random key order with 1000-entry batches, then reopened and fully verified:
 *   - a full forward scan must return exactly the written keys (strictly ascending, every key
 *     decodes to an index < N whose key and value it must equal, and there are N of them);
 *   - sampled gets of present keys return their values; absent keys are NOTFOUND.
 * Key i = big-endian mix(i) || big-endian i, with mix a bijection of 64-bit integers, so the
 * scan can check membership without an in-memory copy of the key set.
 * Prints the fill, scan and get rates (informational; nothing is asserted about time).
 */
#include "lsm_util.h"
#include "st_test.h"
#include "util/alloc.h"
#include "util/clock.h"

#define KEY_LEN 16
#define VAL_LEN 100
#define BATCH 1000

/* splitmix64's finalizer: a bijection of 64-bit integers. */
static uint64_t
mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static void
put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)v;
}

static uint64_t
get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void
key_of(uint64_t i, unsigned char *k)
{
    put_be64(k, mix(i));
    put_be64(k + 8, i);
}

/* 16 varying bytes, then text that repeats (compresses partly, like real values). */
static void
val_of(uint64_t i, unsigned char *v)
{
    put_be64(v, mix(i ^ 0x5555));
    put_be64(v + 8, mix(i + 1));
    int n = snprintf((char *)v + 16, VAL_LEN - 16, "value of entry %llu ", (unsigned long long)i);
    for (int j = 16 + n; j < VAL_LEN; j++)
        v[j] = (unsigned char)('a' + (j + (int)(i % 7)) % 26);
}

static double
seconds_since(uint64_t t0)
{
    return (double)(st_now_micros() - t0) / 1e6;
}

static strata_options
big_opts(void)
{
    strata_options o;
    strata_options_init(&o);
    o.write_buffer_size = 8u << 20;
    return o;
}

static void
test_big_fill_reopen_verify(void)
{
    char *dir = st_test_tmpdir("lsm_big");
    uint64_t n = (uint64_t)(5000000.0 * st_test_scale());
    if (n < 10000)
        n = 10000;
    uint64_t seed = st_test_seed();
    strata_options o = big_opts();
    strata_db *db = st_dbc_open(dir, &o);
    strata_batch *b = strata_batch_new();
    ST_ASSERT(b != NULL);
    unsigned char k[KEY_LEN], v[VAL_LEN];
    /* random order: visit i = (start + step * t) mod n with step coprime to n */
    uint64_t step = (mix(seed) % n) | 1, start = mix(seed + 1) % n;
    while (step > 1) {
        uint64_t a = n, c = step;
        while (c) {
            uint64_t t = a % c;
            a = c;
            c = t;
        }
        if (a == 1)
            break;
        step += 2;
    }
    uint64_t t0 = st_now_micros();
    for (uint64_t t = 0; t < n; t++) {
        uint64_t i = (start + (uint64_t)((unsigned __int128)step * t % n)) % n;
        key_of(i, k);
        val_of(i, v);
        ST_ASSERT_OK(strata_batch_put(b, k, KEY_LEN, v, VAL_LEN));
        if (strata_batch_count(b) == BATCH || t + 1 == n) {
            ST_ASSERT_OK(strata_write(db, NULL, b));
            strata_batch_clear(b);
        }
    }
    double fill = seconds_since(t0);
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_wait_idle(db));
    double settle = seconds_since(t0);
    size_t ntables = st_lsm_table_count(db);
    strata_batch_free(b);
    ST_ASSERT_OK(strata_close(db));
    fprintf(stderr,
            "fill: %llu entries in %.1f s = %.0f entries/s (%.1f MB/s of key+value); with the "
            "final flush and compactions settled %.1f s; %zu tables\n",
            (unsigned long long)n, fill, (double)n / fill,
            (double)n * (KEY_LEN + VAL_LEN) / fill / 1e6, settle, ntables);

    t0 = st_now_micros();
    db = st_dbc_open(dir, &o);
    double open_s = seconds_since(t0);
    /* full scan */
    t0 = st_now_micros();
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(db, NULL, &it));
    uint64_t count = 0;
    unsigned char prev[KEY_LEN], want[VAL_LEN];
    for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it), count++) {
        size_t kl, vl;
        const unsigned char *ik = strata_iter_key(it, &kl);
        const unsigned char *iv = strata_iter_value(it, &vl);
        if (kl != KEY_LEN)
            ST_FAIL("entry %llu: key of %zu bytes", (unsigned long long)count, kl);
        uint64_t i = get_be64(ik + 8);
        if (i >= n || get_be64(ik) != mix(i))
            ST_FAIL("entry %llu: a key that was never written", (unsigned long long)count);
        if (count > 0 && memcmp(prev, ik, KEY_LEN) >= 0)
            ST_FAIL("entry %llu: keys not strictly ascending", (unsigned long long)count);
        memcpy(prev, ik, KEY_LEN);
        val_of(i, want);
        if (vl != VAL_LEN || memcmp(iv, want, VAL_LEN) != 0)
            ST_FAIL("entry %llu (index %llu): wrong value", (unsigned long long)count,
                    (unsigned long long)i);
    }
    ST_ASSERT_OK(strata_iter_status(it));
    strata_iter_close(it);
    double scan = seconds_since(t0);
    ST_ASSERT_EQ(count, n);
    /* sampled gets */
    st_rng rng;
    st_rng_seed(&rng, seed);
    uint64_t ngets = n / 25 < 200000 ? n / 25 : 200000;
    t0 = st_now_micros();
    for (uint64_t g = 0; g < ngets; g++) {
        uint64_t i = st_rng_uniform(&rng, n);
        key_of(i, k);
        void *got = NULL;
        size_t gl = 0;
        int rc = strata_get(db, NULL, k, KEY_LEN, &got, &gl);
        if (rc != STRATA_OK)
            ST_FAIL("get of entry %llu: %s (%s)", (unsigned long long)i, strata_errstr(rc),
                    strata_errmsg(db));
        val_of(i, want);
        ST_ASSERT_MEM_EQ(got, gl, want, VAL_LEN);
        strata_free(got);
    }
    double gets = seconds_since(t0);
    for (int g = 0; g < 1000; g++) { /* absent: right index, wrong prefix; and past the end */
        uint64_t i = st_rng_uniform(&rng, n);
        key_of(g % 2 ? i : n + i, k);
        if (g % 2)
            k[0] ^= 1;
        void *got = NULL;
        size_t gl = 0;
        ST_ASSERT_RC(strata_get(db, NULL, k, KEY_LEN, &got, &gl), STRATA_NOTFOUND);
    }
    ST_ASSERT_OK(strata_close(db));
    fprintf(stderr,
            "reopen %.2f s; full scan: %llu entries in %.1f s = %.0f entries/s; %llu random "
            "gets in %.1f s = %.0f gets/s\n",
            open_s, (unsigned long long)count, scan, (double)count / scan,
            (unsigned long long)ngets, gets, (double)ngets / gets);
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_big_fill_reopen_verify);
    return st_test_done();
}
