/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_basic.c -- focused tests of the db layer's own logic: the user iterator over many
 * versions and tombstones in both directions, snapshots, bounds, group commit from threads,
 * reopen. (The wider API, randomized, crash and fault suites live beside this file.)
 */
#include "st_test.h"
#include "util/alloc.h"
#include "util/random.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* A tiny model: keys "k%03d" 0..N-1 with a value or absent. */
#define N 60
typedef struct model {
    int present[N];
    char val[N][32];
} model;

static void
key_of(int i, char *k)
{
    snprintf(k, 8, "k%03d", i);
}

static void
check_scan(strata_db *db, const strata_read_options *ro, const model *m, int lo, int hi)
{
    strata_iter *it;
    ST_ASSERT_OK(strata_iter_open(db, ro, &it));
    /* forward */
    int i = lo;
    for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it)) {
        while (i < hi && !m->present[i])
            i++;
        ST_ASSERT(i < hi);
        char k[8];
        key_of(i, k);
        size_t kl, vl;
        const void *kp = strata_iter_key(it, &kl), *vp = strata_iter_value(it, &vl);
        ST_ASSERT_MEM_EQ(kp, kl, k, strlen(k));
        ST_ASSERT_MEM_EQ(vp, vl, m->val[i], strlen(m->val[i]));
        i++;
    }
    while (i < hi && !m->present[i])
        i++;
    ST_ASSERT_EQ(i, hi);
    /* backward */
    i = hi - 1;
    for (strata_iter_seek_last(it); strata_iter_valid(it); strata_iter_prev(it)) {
        while (i >= lo && !m->present[i])
            i--;
        ST_ASSERT(i >= lo);
        char k[8];
        key_of(i, k);
        size_t kl;
        const void *kp = strata_iter_key(it, &kl);
        ST_ASSERT_MEM_EQ(kp, kl, k, strlen(k));
        i--;
    }
    while (i >= lo && !m->present[i])
        i--;
    ST_ASSERT(i < lo);
    /* zig-zag: next then prev returns to the same key, from every position */
    for (int j = lo; j < hi; j++) {
        char k[8];
        key_of(j, k);
        strata_iter_seek(it, k, strlen(k));
        if (!strata_iter_valid(it))
            continue;
        size_t kl1, kl2;
        const void *k1 = strata_iter_key(it, &kl1);
        char save[16];
        memcpy(save, k1, kl1);
        strata_iter_next(it);
        if (strata_iter_valid(it)) {
            strata_iter_prev(it);
            ST_ASSERT(strata_iter_valid(it));
            const void *k2 = strata_iter_key(it, &kl2);
            ST_ASSERT_MEM_EQ(k2, kl2, save, kl1);
        }
        strata_iter_seek_for_prev(it, k, strlen(k));
        if (strata_iter_valid(it)) {
            const void *k3 = strata_iter_key(it, &kl2);
            ST_ASSERT(memcmp(k3, k, 4) <= 0);
            memcpy(save, k3, kl2);
            kl1 = kl2;
            strata_iter_prev(it);
            if (strata_iter_valid(it)) {
                strata_iter_next(it);
                ST_ASSERT(strata_iter_valid(it));
                const void *k4 = strata_iter_key(it, &kl2);
                ST_ASSERT_MEM_EQ(k4, kl2, save, kl1);
            }
        }
    }
    ST_ASSERT_OK(strata_iter_status(it));
    strata_iter_close(it);
}

static void
test_versions_and_snapshots(void)
{
    char *dir = st_test_tmpdir("db_basic_versions");
    strata_db *db;
    ST_ASSERT_OK(strata_open(dir, NULL, &db));
    model m;
    memset(&m, 0, sizeof(m));
    st_rng r;
    st_rng_seed(&r, st_test_seed());
    model snapm[4];
    const strata_snapshot *snaps[4];
    int ns = 0;
    for (int round = 0; round < 2000; round++) {
        int i = (int)st_rng_uniform(&r, N);
        char k[8];
        key_of(i, k);
        if (st_rng_uniform(&r, 3) == 0) {
            ST_ASSERT_OK(strata_delete(db, NULL, k, strlen(k)));
            m.present[i] = 0;
        } else {
            snprintf(m.val[i], sizeof(m.val[i]), "v%d", round);
            ST_ASSERT_OK(strata_put(db, NULL, k, strlen(k), m.val[i], strlen(m.val[i])));
            m.present[i] = 1;
        }
        if (round % 500 == 250 && ns < 4) {
            snapm[ns] = m;
            snaps[ns++] = strata_snapshot_get(db);
        }
    }
    check_scan(db, NULL, &m, 0, N);
    for (int s = 0; s < ns; s++) {
        strata_read_options ro;
        strata_read_options_init(&ro);
        ro.snapshot = snaps[s];
        check_scan(db, &ro, &snapm[s], 0, N);
        for (int i = 0; i < N; i++) {
            char k[8];
            key_of(i, k);
            void *v;
            size_t vl;
            int rc = strata_get(db, &ro, k, strlen(k), &v, &vl);
            if (snapm[s].present[i]) {
                ST_ASSERT_OK(rc);
                ST_ASSERT_MEM_EQ(v, vl, snapm[s].val[i], strlen(snapm[s].val[i]));
                strata_free(v);
            } else {
                ST_ASSERT_RC(rc, STRATA_NOTFOUND);
                ST_ASSERT(v == NULL);
            }
        }
    }
    /* bounds [k010, k040) */
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.lower_bound = "k010";
    ro.lower_bound_len = 4;
    ro.upper_bound = "k040";
    ro.upper_bound_len = 4;
    check_scan(db, &ro, &m, 10, 40);
    ST_ASSERT_RC(strata_close(db), STRATA_BUSY); /* snapshots still held */
    for (int s = 0; s < ns; s++)
        strata_snapshot_release(db, snaps[s]);
    ST_ASSERT_OK(strata_close(db));
    /* reopen: same state */
    ST_ASSERT_OK(strata_open(dir, NULL, &db));
    check_scan(db, NULL, &m, 0, N);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

typedef struct wctx {
    strata_db *db;
    int id;
} wctx;

static void *
writer(void *arg)
{
    wctx *c = arg;
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = c->id % 2;
    for (int i = 0; i < 300; i++) {
        char k[32], v[32];
        snprintf(k, sizeof(k), "t%d-%05d", c->id, i);
        snprintf(v, sizeof(v), "%d", i * c->id);
        if (strata_put(c->db, &wo, k, strlen(k), v, strlen(v)) != STRATA_OK)
            return (void *)1;
    }
    return NULL;
}

static void
test_group_commit_threads(void)
{
    char *dir = st_test_tmpdir("db_basic_group");
    strata_db *db;
    ST_ASSERT_OK(strata_open(dir, NULL, &db));
    pthread_t th[4];
    wctx c[4];
    for (int t = 0; t < 4; t++) {
        c[t].db = db;
        c[t].id = t + 1;
        pthread_create(&th[t], NULL, writer, &c[t]);
    }
    for (int t = 0; t < 4; t++) {
        void *ret;
        pthread_join(th[t], &ret);
        ST_ASSERT(ret == NULL);
    }
    ST_ASSERT_OK(strata_close(db));
    ST_ASSERT_OK(strata_open(dir, NULL, &db));
    for (int t = 1; t <= 4; t++)
        for (int i = 0; i < 300; i++) {
            char k[32], v[32];
            snprintf(k, sizeof(k), "t%d-%05d", t, i);
            snprintf(v, sizeof(v), "%d", i * t);
            void *got;
            size_t gl;
            ST_ASSERT_OK(strata_get(db, NULL, k, strlen(k), &got, &gl));
            ST_ASSERT_MEM_EQ(got, gl, v, strlen(v));
            strata_free(got);
        }
    char *seq;
    ST_ASSERT_OK(strata_property(db, "strata.sequence", &seq));
    ST_ASSERT_EQ(strtoull(seq, NULL, 10), 1200);
    strata_free(seq);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_versions_and_snapshots);
    ST_RUN(test_group_commit_threads);
    return st_test_done();
}
