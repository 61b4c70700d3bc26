/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_check.h -- assertions comparing a strata database against an st_model oracle, shared by
 * the db/, crash/ and fault/ tests.
 *
 * Header-only (static inline) on purpose: the support library is linked after libstrata, so
 * out-of-line support code could not call back into strata_* from a static link.
 * Every function fails the test (ST_FAIL, exit 1) on a mismatch, naming the key.
 * Thread safety: as the strata calls they make (a db may be shared; iterators are local).
 */
#ifndef ST_TEST_DB_CHECK_H
#define ST_TEST_DB_CHECK_H

#include "model.h"
#include "st_test.h"
#include "util/random.h"

#include <ctype.h>

/* Printable rendering of a key for failure messages (static buffer: single-threaded use). */
static inline const char *
st_dbc_show(const void *key, size_t klen)
{
    static _Thread_local char out[96];
    const unsigned char *k = key;
    size_t o = 0;
    for (size_t i = 0; i < klen && o + 5 < sizeof(out); i++) {
        if (isprint(k[i]) && k[i] != '\\')
            out[o++] = (char)k[i];
        else
            o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", k[i]);
    }
    out[o] = '\0';
    return out;
}

/* strata_get of one key must agree with the model. */
static inline void
st_dbc_check_get(strata_db *db, const strata_read_options *ro, const st_model *m, const void *key,
                 size_t klen)
{
    void *v = (void *)1;
    size_t vlen = 7;
    int rc = strata_get(db, ro, key, klen, &v, &vlen);
    const void *mv = NULL;
    size_t mvlen = 0;
    if (st_model_get(m, key, klen, &mv, &mvlen)) {
        if (rc != STRATA_OK)
            ST_FAIL("get %s: %s, expected a %zu-byte value (%s)", st_dbc_show(key, klen),
                    strata_errstr(rc), mvlen, strata_errmsg(db));
        if (v == NULL)
            ST_FAIL("get %s: OK with a NULL value", st_dbc_show(key, klen));
        if (vlen != mvlen || (vlen && memcmp(v, mv, vlen) != 0))
            ST_FAIL("get %s: wrong value (%zu bytes, expected %zu)", st_dbc_show(key, klen), vlen,
                    mvlen);
        strata_free(v);
    } else {
        if (rc != STRATA_NOTFOUND)
            ST_FAIL("get %s: %s, expected NOTFOUND (%s)", st_dbc_show(key, klen), strata_errstr(rc),
                    rc ? strata_errmsg(db) : "");
        if (v != NULL || vlen != 0)
            ST_FAIL("get %s: out-parameters not cleared on NOTFOUND", st_dbc_show(key, klen));
    }
}

/* The iterator must be at model entry i (or invalid when i is out of [0, count)). */
static inline void
st_dbc_check_at(strata_iter *it, const st_model *m, long i, const char *what)
{
    if (i < 0 || (size_t)i >= st_model_count(m)) {
        if (strata_iter_valid(it)) {
            size_t kl;
            const void *k = strata_iter_key(it, &kl);
            ST_FAIL("%s: iterator valid at %s, expected the end", what, st_dbc_show(k, kl));
        }
        int st = strata_iter_status(it);
        if (st != STRATA_OK)
            ST_FAIL("%s: iterator status %s", what, strata_errstr(st));
        return;
    }
    const void *mk, *mv;
    size_t mkl, mvl;
    st_model_at(m, (size_t)i, &mk, &mkl, &mv, &mvl);
    if (!strata_iter_valid(it))
        ST_FAIL("%s: iterator invalid (status %s), expected %s", what,
                strata_errstr(strata_iter_status(it)), st_dbc_show(mk, mkl));
    size_t kl = 0, vl = 0;
    const void *k = strata_iter_key(it, &kl);
    const void *v = strata_iter_value(it, &vl);
    if (kl != mkl || memcmp(k, mk, kl) != 0) {
        char want[96];
        snprintf(want, sizeof(want), "%s", st_dbc_show(mk, mkl));
        ST_FAIL("%s: iterator at %s, expected %s", what, st_dbc_show(k, kl), want);
    }
    if (vl != mvl || (vl && memcmp(v, mv, vl) != 0))
        ST_FAIL("%s: value of %s differs (%zu bytes, expected %zu)", what, st_dbc_show(k, kl), vl,
                mvl);
}

/*
 * st_dbc_check_iter / st_dbc_check_open_iter --
 *     Full forward and backward scans of an iterator opened with `ro` must equal the model,
 *     then `nseeks` random seeks / seek_for_prev (keys drawn from the model and random
 *     neighbours) followed by a few next/prev steps. The _open_ variant checks an iterator the
 *     caller opened earlier (and still owns).
 */
static inline void
st_dbc_check_open_iter(strata_iter *it, const st_model *m, st_rng *rng, int nseeks)
{
    long n = (long)st_model_count(m);
    strata_iter_seek_first(it);
    for (long i = 0; i < n; i++) {
        st_dbc_check_at(it, m, i, "forward scan");
        strata_iter_next(it);
    }
    st_dbc_check_at(it, m, n, "forward scan end");
    strata_iter_seek_last(it);
    for (long i = n - 1; i >= 0; i--) {
        st_dbc_check_at(it, m, i, "backward scan");
        strata_iter_prev(it);
    }
    st_dbc_check_at(it, m, -1, "backward scan end");
    for (int s = 0; s < nseeks; s++) {
        unsigned char key[64];
        size_t klen;
        if (n > 0 && st_rng_uniform(rng, 2) == 0) {
            const void *k;
            st_model_at(m, st_rng_uniform(rng, (uint64_t)n), &k, &klen, NULL, NULL);
            if (klen > sizeof(key) - 1)
                klen = sizeof(key) - 1;
            memcpy(key, k, klen);
            switch (st_rng_uniform(rng, 3)) {
            case 0:
                break;
            case 1:
                key[klen++] = (unsigned char)st_rng_uniform(rng, 256);
                break;
            default:
                key[klen - 1] = (unsigned char)(key[klen - 1] + 1);
                break;
            }
        } else {
            klen = 1 + st_rng_uniform(rng, 12);
            for (size_t j = 0; j < klen; j++)
                key[j] = (unsigned char)st_rng_uniform(rng, 256);
        }
        long pos;
        if (st_rng_uniform(rng, 2) == 0) {
            strata_iter_seek(it, key, klen);
            pos = (long)st_model_lower_bound(m, key, klen);
            st_dbc_check_at(it, m, pos, "seek");
        } else {
            strata_iter_seek_for_prev(it, key, klen);
            pos = st_model_seek_for_prev(m, key, klen);
            st_dbc_check_at(it, m, pos, "seek_for_prev");
        }
        int steps = (int)st_rng_uniform(rng, 4);
        for (int j = 0; j < steps && pos >= 0 && pos < n; j++) {
            if (st_rng_uniform(rng, 2)) {
                strata_iter_next(it);
                pos++;
                st_dbc_check_at(it, m, pos, "next after seek");
            } else {
                strata_iter_prev(it);
                pos--;
                st_dbc_check_at(it, m, pos, "prev after seek");
            }
        }
    }
}

static inline void
st_dbc_check_iter(strata_db *db, const strata_read_options *ro, const st_model *m, st_rng *rng,
                  int nseeks)
{
    strata_iter *it = NULL;
    int rc = strata_iter_open(db, ro, &it);
    if (rc != STRATA_OK)
        ST_FAIL("iter_open: %s (%s)", strata_errstr(rc), strata_errmsg(db));
    st_dbc_check_open_iter(it, m, rng, nseeks);
    strata_iter_close(it);
}

/* Every model key must be readable with its value (point lookups). */
static inline void
st_dbc_check_all_gets(strata_db *db, const strata_read_options *ro, const st_model *m)
{
    for (size_t i = 0; i < st_model_count(m); i++) {
        const void *k;
        size_t kl;
        st_model_at(m, i, &k, &kl, NULL, NULL);
        st_dbc_check_get(db, ro, m, k, kl);
    }
}

/* Default options with test-sized memory: write buffers of `write_buffer` bytes (small ones make
 * flushes frequent) and a 256 KiB block cache. */
static inline strata_options
st_dbc_opts(size_t write_buffer)
{
    strata_options o;
    strata_options_init(&o);
    o.write_buffer_size = write_buffer;
    o.block_cache_size = 256 * 1024;
    return o;
}

/* The database's statistics, or fail the test. */
static inline strata_stats
st_dbc_stats(strata_db *db)
{
    strata_stats s;
    strata_stats_init(&s);
    ST_ASSERT_OK(strata_get_stats(db, &s));
    return s;
}

/* Open or fail the test. */
static inline strata_db *
st_dbc_open(const char *path, const strata_options *o)
{
    strata_db *db = NULL;
    int rc = strata_open(path, o, &db);
    if (rc != STRATA_OK)
        ST_FAIL("strata_open %s: %s (%s)", path, strata_errstr(rc), strata_errmsg(NULL));
    return db;
}

#endif
