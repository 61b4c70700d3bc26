/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rangedel_concurrency.c -- range deletes while readers, flushes and compactions run
 * (label concurrency: also run under ThreadSanitizer). A writer commits rounds, each one atomic
 * batch: a range delete of every key of its lane, then puts of 8 keys (a random subset of 64)
 * holding the round number. Readers check through snapshots, iterators (both directions) and
 * gets that every view shows exactly one round of one lane: 8 keys, one value. A third thread
 * flushes and compacts. Small write buffers make the range tombstones move through memtables,
 * immutable memtables and tables while they are read.
 */
#include "db_check.h"
#include "st_test.h"
#include "util/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define KEYS 64
#define PER_ROUND 8

static strata_db *db;
static _Atomic int stop;
static _Atomic long rounds_done, views_checked;

static size_t
key(unsigned i, char *buf)
{
    return (size_t)snprintf(buf, 16, "lane/%03u", i);
}

static void *
writer(void *arg)
{
    st_rng rng;
    st_rng_seed(&rng, (uint64_t)(uintptr_t)arg);
    strata_batch *b = strata_batch_new();
    ST_ASSERT(b != NULL);
    for (long r = 1; !atomic_load(&stop); r++) {
        strata_batch_clear(b);
        ST_ASSERT_OK(strata_batch_delete_range(b, "lane/", 5, "lane0", 5));
        int used[KEYS] = {0};
        char v[24];
        size_t vl = (size_t)snprintf(v, sizeof(v), "round %ld", r);
        for (int n = 0; n < PER_ROUND;) {
            unsigned i = (unsigned)st_rng_uniform(&rng, KEYS);
            if (used[i])
                continue;
            used[i] = 1;
            n++;
            char k[16];
            size_t kl = key(i, k);
            ST_ASSERT_OK(strata_batch_put(b, k, kl, v, vl));
        }
        ST_ASSERT_OK(strata_write(db, NULL, b));
        atomic_fetch_add(&rounds_done, 1);
    }
    strata_batch_free(b);
    return NULL;
}

/* One consistent view: PER_ROUND keys, all with the same value. */
static void
check_view(const strata_snapshot *snap, int reverse)
{
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.snapshot = snap;
    ro.prefix = "lane/";
    ro.prefix_len = 5;
    strata_iter *it;
    ST_ASSERT_OK(strata_iter_open(db, &ro, &it));
    int n = 0;
    char first[24] = "";
    if (reverse)
        strata_iter_seek_last(it);
    else
        strata_iter_seek_first(it);
    while (strata_iter_valid(it)) {
        size_t vl;
        const char *v = strata_iter_value(it, &vl);
        if (n == 0)
            snprintf(first, sizeof(first), "%.*s", (int)vl, v);
        else if (strlen(first) != vl || memcmp(first, v, vl) != 0)
            ST_FAIL("a view mixes rounds: '%s' and '%.*s'", first, (int)vl, v);
        n++;
        if (reverse)
            strata_iter_prev(it);
        else
            strata_iter_next(it);
    }
    ST_ASSERT_OK(strata_iter_status(it));
    strata_iter_close(it);
    if (n != 0 && n != PER_ROUND)
        ST_FAIL("a view holds %d keys, not %d", n, PER_ROUND);
    if (snap && n) {
        /* gets through the same snapshot agree with the scan */
        ro.prefix = NULL;
        ro.prefix_len = 0;
        int found = 0;
        for (unsigned i = 0; i < KEYS; i++) {
            char k[16];
            size_t kl = key(i, k);
            void *v;
            size_t vl;
            int rc = strata_get(db, &ro, k, kl, &v, &vl);
            if (rc == STRATA_NOTFOUND)
                continue;
            ST_ASSERT_OK(rc);
            if (strlen(first) != vl || memcmp(first, v, vl) != 0)
                ST_FAIL("get through the snapshot: '%.*s', the scan saw '%s'", (int)vl,
                        (const char *)v, first);
            strata_free(v);
            found++;
        }
        ST_ASSERT_EQ(found, PER_ROUND);
    }
    atomic_fetch_add(&views_checked, 1);
}

static void *
reader(void *arg)
{
    int reverse = (int)(uintptr_t)arg;
    while (!atomic_load(&stop)) {
        const strata_snapshot *s = strata_snapshot_get(db);
        ST_ASSERT(s != NULL);
        check_view(s, reverse);
        strata_snapshot_release(db, s);
        check_view(NULL, !reverse);
    }
    return NULL;
}

static void *
maintainer(void *arg)
{
    (void)arg;
    for (int i = 0; !atomic_load(&stop); i++) {
        ST_ASSERT_OK(i % 3 == 2 ? strata_compact_range(db, NULL, 0, NULL, 0) : strata_flush(db));
        st_test_sleep_micros(2000);
    }
    return NULL;
}

static void
run(int memtable)
{
    char *dir = st_test_tmpdir("rdel_conc");
    strata_options o = st_dbc_opts(64 * 1024);
    o.memtable_kind = memtable;
    db = st_dbc_open(dir, &o);
    atomic_store(&stop, 0);
    atomic_store(&rounds_done, 0);
    atomic_store(&views_checked, 0);
    pthread_t w, r1, r2, m;
    pthread_create(&w, NULL, writer, (void *)(uintptr_t)st_test_seed());
    pthread_create(&r1, NULL, reader, (void *)0);
    pthread_create(&r2, NULL, reader, (void *)1);
    pthread_create(&m, NULL, maintainer, NULL);
    long want = (long)(2000 * st_test_scale());
    while (atomic_load(&rounds_done) < (want < 100 ? 100 : want) ||
           atomic_load(&views_checked) < 50)
        st_test_sleep_micros(10000);
    atomic_store(&stop, 1);
    pthread_join(w, NULL);
    pthread_join(r1, NULL);
    pthread_join(r2, NULL);
    pthread_join(m, NULL);
    fprintf(stderr, "memtable %d: %ld rounds, %ld views checked\n", memtable,
            atomic_load(&rounds_done), atomic_load(&views_checked));
    check_view(NULL, 0);
    ST_ASSERT_OK(strata_close(db));
    db = st_dbc_open(dir, &o);
    check_view(NULL, 1);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_skiplist(void)
{
    run(STRATA_MEMTABLE_SKIPLIST);
}

static void
test_trie(void)
{
    run(STRATA_MEMTABLE_TRIE);
}

int
main(void)
{
    ST_RUN(test_skiplist);
    ST_RUN(test_trie);
    return st_test_done();
}
