/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rangedel.c -- range deletes through the whole database, for both memtable kinds:
 * arguments, batches, gets and iterators (both directions, seeks, bounds and prefixes) over
 * tombstones in memtables and tables, snapshots older than a range delete, compaction dropping
 * the covered data and then the tombstone (and keeping both while older data or a snapshot
 * needs them), reopen, read-only open, checkpoint and repair. Every view is compared with the
 * st_model oracle.
 */
#include "db_check.h"
#include "st_test.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int memtable_kind;

static strata_db *
open_db(const char *dir)
{
    strata_options o = st_dbc_opts(64 * 1024);
    o.memtable_kind = memtable_kind;
    return st_dbc_open(dir, &o);
}

static size_t
key(unsigned i, char *buf)
{
    return (size_t)snprintf(buf, 16, "key%06u", i);
}

/* Put keys [0, n) (value "v<i>") into db and model. */
static void
fill(strata_db *db, st_model *m, unsigned n)
{
    char k[16], v[16];
    for (unsigned i = 0; i < n; i++) {
        size_t kl = key(i, k), vl = (size_t)snprintf(v, sizeof(v), "v%u", i);
        ST_ASSERT_OK(strata_put(db, NULL, k, kl, v, vl));
        st_model_put(m, k, kl, v, vl);
    }
}

static void
del_range(strata_db *db, st_model *m, unsigned a, unsigned b)
{
    char ka[16], kb[16];
    size_t al = key(a, ka), bl = key(b, kb);
    ST_ASSERT_OK(strata_delete_range(db, NULL, ka, al, kb, bl));
    if (m)
        st_model_delete_range(m, ka, al, kb, bl);
}

static void
check(strata_db *db, const strata_snapshot *snap, const st_model *m, st_rng *rng)
{
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.snapshot = snap;
    st_dbc_check_all_gets(db, &ro, m);
    st_dbc_check_iter(db, &ro, m, rng, 30);
    /* a bounded and a prefix iterator: keys 0001xx and [000150, 000420) */
    st_model *slice = st_model_new();
    for (size_t i = 0; i < st_model_count(m); i++) {
        const void *k, *v;
        size_t kl, vl;
        st_model_at(m, i, &k, &kl, &v, &vl);
        if (kl == 9 && memcmp(k, "key0001", 7) == 0)
            st_model_put(slice, k, kl, v, vl);
    }
    ro.prefix = "key0001";
    ro.prefix_len = 7;
    st_dbc_check_iter(db, &ro, slice, rng, 10);
    st_model_clear(slice);
    for (size_t i = 0; i < st_model_count(m); i++) {
        const void *k, *v;
        size_t kl, vl;
        st_model_at(m, i, &k, &kl, &v, &vl);
        if (st_model_keycmp(k, kl, "key000150", 9) >= 0 &&
            st_model_keycmp(k, kl, "key000420", 9) < 0)
            st_model_put(slice, k, kl, v, vl);
    }
    ro.prefix = NULL;
    ro.prefix_len = 0;
    ro.lower_bound = "key000150";
    ro.lower_bound_len = 9;
    ro.upper_bound = "key000420";
    ro.upper_bound_len = 9;
    st_dbc_check_iter(db, &ro, slice, rng, 10);
    st_model_free(slice);
}

static void
test_arguments(void)
{
    char *dir = st_test_tmpdir("rdel_args");
    strata_db *db = open_db(dir);
    ST_ASSERT_RC(strata_delete_range(db, NULL, "b", 1, "a", 1), STRATA_INVALID);
    ST_ASSERT(strstr(strata_errmsg(db), "not before end") != NULL);
    ST_ASSERT_RC(strata_delete_range(db, NULL, "a", 1, "a", 1), STRATA_INVALID);
    ST_ASSERT_RC(strata_delete_range(db, NULL, "", 0, "a", 1), STRATA_INVALID);
    ST_ASSERT_RC(strata_delete_range(db, NULL, NULL, 1, "a", 1), STRATA_INVALID);
    char *big = st_calloc(1, STRATA_MAX_KEY_SIZE + 1);
    ST_ASSERT(big != NULL);
    ST_ASSERT_RC(strata_delete_range(db, NULL, "a", 1, big, STRATA_MAX_KEY_SIZE + 1),
                 STRATA_INVALID);
    memset(big, 0xff, STRATA_MAX_KEY_SIZE);
    ST_ASSERT_OK(strata_delete_range(db, NULL, "a", 1, big, STRATA_MAX_KEY_SIZE));
    st_free(big);
    ST_ASSERT_RC(strata_delete_range(NULL, NULL, "a", 1, "b", 1), STRATA_INVALID);
    strata_batch *b = strata_batch_new();
    ST_ASSERT_RC(strata_batch_delete_range(b, "b", 1, "a", 1), STRATA_INVALID);
    ST_ASSERT_RC(strata_batch_delete_range(NULL, "a", 1, "b", 1), STRATA_INVALID);
    ST_ASSERT_EQ(strata_batch_count(b), 0);
    strata_batch_free(b);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

/* In a batch, a range delete removes the keys put before it and not those put after it. */
static void
test_batch_order(void)
{
    char *dir = st_test_tmpdir("rdel_batch");
    strata_db *db = open_db(dir);
    strata_batch *b = strata_batch_new();
    ST_ASSERT_OK(strata_batch_put(b, "a", 1, "1", 1));
    ST_ASSERT_OK(strata_batch_put(b, "b", 1, "2", 1));
    ST_ASSERT_OK(strata_batch_delete_range(b, "a", 1, "c", 1));
    ST_ASSERT_OK(strata_batch_put(b, "b", 1, "3", 1));
    ST_ASSERT_EQ(strata_batch_count(b), 4);
    ST_ASSERT_OK(strata_write(db, NULL, b));
    strata_batch_free(b);
    void *v;
    size_t vl;
    ST_ASSERT_RC(strata_get(db, NULL, "a", 1, &v, &vl), STRATA_NOTFOUND);
    ST_ASSERT_OK(strata_get(db, NULL, "b", 1, &v, &vl));
    ST_ASSERT_MEM_EQ(v, vl, "3", 1);
    strata_free(v);
    ST_ASSERT_OK(strata_close(db));
    db = open_db(dir); /* the same after WAL replay */
    ST_ASSERT_RC(strata_get(db, NULL, "a", 1, &v, &vl), STRATA_NOTFOUND);
    ST_ASSERT_OK(strata_get(db, NULL, "b", 1, &v, &vl));
    ST_ASSERT_MEM_EQ(v, vl, "3", 1);
    strata_free(v);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

/* Tombstones in the memtable and in tables, overlapping, with newer puts inside; snapshots
 * taken before each of them; flush, compaction with a snapshot held, full compaction. */
static void
test_views_and_compaction(void)
{
    char *dir = st_test_tmpdir("rdel_views");
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    strata_db *db = open_db(dir);
    st_model *m = st_model_new();
    fill(db, m, 600);
    ST_ASSERT_OK(strata_flush(db));
    const strata_snapshot *s0 = strata_snapshot_get(db);
    st_model *m0 = st_model_clone(m);
    del_range(db, m, 100, 300); /* in the memtable, over flushed data */
    check(db, NULL, m, &rng);
    check(db, s0, m0, &rng);
    char k[16];
    size_t kl = key(200, k);
    ST_ASSERT_OK(strata_put(db, NULL, k, kl, "new", 3)); /* a newer put inside the range */
    st_model_put(m, k, kl, "new", 3);
    ST_ASSERT_OK(strata_flush(db)); /* the tombstone goes into a table */
    const strata_snapshot *s1 = strata_snapshot_get(db);
    st_model *m1 = st_model_clone(m);
    del_range(db, m, 250, 450); /* overlaps the first */
    del_range(db, m, 0, 5);
    check(db, NULL, m, &rng);
    check(db, s1, m1, &rng);
    check(db, s0, m0, &rng);
    ST_ASSERT_OK(strata_flush(db));
    check(db, NULL, m, &rng);
    /* compaction with the snapshots held keeps what they see */
    ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0));
    check(db, NULL, m, &rng);
    check(db, s0, m0, &rng);
    check(db, s1, m1, &rng);
    ST_ASSERT(st_dbc_stats(db).table_entries > st_model_count(m));
    strata_snapshot_release(db, s0);
    strata_snapshot_release(db, s1);
    /* without snapshots a full compaction drops the covered data and the tombstones */
    ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0));
    check(db, NULL, m, &rng);
    ST_ASSERT_EQ(st_dbc_stats(db).table_entries, st_model_count(m));
    ST_ASSERT_OK(strata_close(db));
    db = open_db(dir);
    check(db, NULL, m, &rng);
    ST_ASSERT_OK(strata_close(db));
    st_model_free(m);
    st_model_free(m0);
    st_model_free(m1);
    st_test_rmrf(dir);
    st_free(dir);
}

/* A compaction that leaves older data beside its inputs keeps the tombstone (else the older
 * data would come back); a full one then drops it with the covered data. */
static void
test_partial_compaction_keeps_tombstone(void)
{
    char *dir = st_test_tmpdir("rdel_partial");
    st_rng rng;
    st_rng_seed(&rng, st_test_seed() + 1);
    strata_db *db = open_db(dir);
    st_model *m = st_model_new();
    fill(db, m, 400); /* table A: keys 0..399 */
    ST_ASSERT_OK(strata_flush(db));
    char k[16];
    for (unsigned i = 1000; i <= 1100; i++) { /* table B: keys 1000..1100 and the tombstone */
        size_t kl = key(i, k);
        ST_ASSERT_OK(strata_put(db, NULL, k, kl, "b", 1));
        st_model_put(m, k, kl, "b", 1);
    }
    del_range(db, m, 50, 350);
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_EQ(st_dbc_stats(db).table_entries, 400 + 101 + 1);
    check(db, NULL, m, &rng);
    /* B's key range covers its tombstone, A's does not reach 1000: compacting [1000, 1100]
     * rewrites B alone, which must keep the tombstone over A's keys 50..349 */
    char a[16], b[16];
    size_t al = key(1000, a), bl = key(1100, b);
    ST_ASSERT_OK(strata_compact_range(db, a, al, b, bl));
    check(db, NULL, m, &rng);
    ST_ASSERT_EQ(st_dbc_stats(db).table_entries, 400 + 101 + 1);
    ST_ASSERT_OK(strata_close(db));
    db = open_db(dir);
    check(db, NULL, m, &rng);
    ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0));
    check(db, NULL, m, &rng);
    ST_ASSERT_EQ(st_dbc_stats(db).table_entries,
                 st_model_count(m)); /* covered keys and tombstone gone */
    ST_ASSERT_OK(strata_close(db));
    st_model_free(m);
    st_test_rmrf(dir);
    st_free(dir);
}

/* Reverse iteration and direction changes across deleted ranges (tables and memtable). */
static void
test_reverse_and_direction_changes(void)
{
    char *dir = st_test_tmpdir("rdel_rev");
    st_rng rng;
    st_rng_seed(&rng, st_test_seed() + 2);
    strata_db *db = open_db(dir);
    st_model *m = st_model_new();
    fill(db, m, 500);
    ST_ASSERT_OK(strata_flush(db));
    for (unsigned a = 10; a < 500; a += 60)
        del_range(db, m, a, a + 40); /* every 60 keys, 40 deleted */
    ST_ASSERT_OK(strata_flush(db));
    del_range(db, m, 0, 3);
    del_range(db, m, 495, 500);
    strata_iter *it;
    ST_ASSERT_OK(strata_iter_open(db, NULL, &it));
    long n = (long)st_model_count(m);
    long i = n - 1;
    for (strata_iter_seek_last(it); strata_iter_valid(it); strata_iter_prev(it), i--)
        st_dbc_check_at(it, m, i, "reverse walk");
    ST_ASSERT_EQ(i, -1);
    /* zig-zag: next, prev, next at every position of a walk */
    i = 0;
    for (strata_iter_seek_first(it); strata_iter_valid(it); i++) {
        st_dbc_check_at(it, m, i, "zig-zag");
        strata_iter_next(it);
        if (!strata_iter_valid(it))
            break;
        strata_iter_prev(it);
        st_dbc_check_at(it, m, i, "zig-zag back");
        strata_iter_next(it);
    }
    ST_ASSERT_EQ(i + 1, n);
    /* seeks into deleted ranges land past them (forward) or before them (backward) */
    char k[16];
    size_t kl = key(20, k);
    strata_iter_seek(it, k, kl);
    st_dbc_check_at(it, m, (long)st_model_lower_bound(m, k, kl), "seek into a deleted range");
    strata_iter_seek_for_prev(it, k, kl);
    st_dbc_check_at(it, m, st_model_seek_for_prev(m, k, kl), "seek_for_prev into a deleted range");
    ST_ASSERT_OK(strata_iter_status(it));
    strata_iter_close(it);
    check(db, NULL, m, &rng);
    ST_ASSERT_OK(strata_close(db));
    st_model_free(m);
    st_test_rmrf(dir);
    st_free(dir);
}

/* Reopen (WAL replay), read-only open, checkpoint and repair keep range deletes. */
static void
test_durability_paths(void)
{
    char *dir = st_test_tmpdir("rdel_dur");
    st_rng rng;
    st_rng_seed(&rng, st_test_seed() + 3);
    strata_db *db = open_db(dir);
    st_model *m = st_model_new();
    fill(db, m, 300);
    ST_ASSERT_OK(strata_flush(db));
    del_range(db, m, 20, 80); /* flushed below */
    ST_ASSERT_OK(strata_flush(db));
    del_range(db, m, 150, 160); /* only in the WAL */
    char *ck = st_test_tmpdir("rdel_ckpt");
    st_test_rmrf(ck);
    ST_ASSERT_OK(strata_checkpoint(db, ck));
    del_range(db, m, 200, 210);
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = 1;
    ST_ASSERT_OK(strata_put(db, &wo, "zz", 2, "z", 1));
    st_model_put(m, "zz", 2, "z", 1);
    ST_ASSERT_OK(strata_close(db));
    strata_options o = st_dbc_opts(64 * 1024);
    o.memtable_kind = memtable_kind;
    o.read_only = 1;
    db = st_dbc_open(dir, &o);
    check(db, NULL, m, &rng);
    ST_ASSERT_OK(strata_close(db));
    /* the checkpoint: its state before the last range delete and put */
    db = st_dbc_open(ck, &o);
    st_model *mc = st_model_clone(m);
    st_model_delete(mc, "zz", 2);
    char k[16];
    for (unsigned i = 200; i < 210; i++) {
        char v[16];
        size_t kl = key(i, k), vl = (size_t)snprintf(v, sizeof(v), "v%u", i);
        st_model_put(mc, k, kl, v, vl);
    }
    check(db, NULL, mc, &rng);
    ST_ASSERT_OK(strata_close(db));
    /* repair of an intact database keeps every range tombstone */
    char *report = NULL;
    ST_ASSERT_OK(strata_repair(dir, NULL, &report));
    strata_free(report);
    ST_ASSERT_OK(strata_check(dir, &report));
    strata_free(report);
    db = open_db(dir);
    check(db, NULL, m, &rng);
    ST_ASSERT_OK(strata_close(db));
    st_model_free(m);
    st_model_free(mc);
    st_test_rmrf(ck);
    st_free(ck);
    st_test_rmrf(dir);
    st_free(dir);
}

/* Repair of a damaged table keeps its (intact) range tombstone: the older table's keys it
 * deleted stay deleted. footer = 0: a point page is damaged (salvage through the page index);
 * 1: the footer length is, so the table's pages are walked. */
static void
salvage_keeps_range_tombstone(int footer)
{
    char *dir = st_test_tmpdir("rdel_salvage");
    strata_db *db = open_db(dir);
    st_model *m = st_model_new();
    fill(db, m, 300); /* table A */
    ST_ASSERT_OK(strata_flush(db));
    char k[16];
    for (unsigned i = 1000; i < 1300; i++) { /* table B: puts and the tombstone */
        size_t kl = key(i, k);
        ST_ASSERT_OK(strata_put(db, NULL, k, kl, "b", 1));
    }
    del_range(db, m, 0, 100);
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_EQ(st_dbc_stats(db).tables, 2);
    char *tables = NULL;
    ST_ASSERT_OK(strata_property(db, "strata.tables", &tables));
    ST_ASSERT_OK(strata_close(db));
    /* the newest table is listed first; damage its first data page */
    char name[32];
    ST_ASSERT(sscanf(tables, "%31s", name) == 1);
    strata_free(tables);
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat stt;
    ST_ASSERT(stat(path, &stt) == 0);
    st_test_flip_byte(path, footer ? (long)stt.st_size - 6 : 40);
    char *report = NULL;
    int rc = strata_repair(dir, NULL, &report);
    if (!footer)
        ST_ASSERT_EQ(rc, STRATA_DATALOSS); /* rows of the damaged page are lost */
    else
        ST_ASSERT(rc == STRATA_OK || rc == STRATA_DATALOSS);
    if (getenv("RDEL_SHOW"))
        fprintf(stderr, "%s\n", report);
    if (footer && !strstr(report, "walking"))
        ST_FAIL("the pages were not walked:\n%s", report);
    strata_free(report);
    db = open_db(dir);
    void *v;
    size_t vl;
    for (unsigned i = 0; i < 300; i++) {
        size_t kl = key(i, k);
        rc = strata_get(db, NULL, k, kl, &v, &vl);
        ST_ASSERT_RC(rc, i < 100 ? STRATA_NOTFOUND : STRATA_OK);
        if (rc == STRATA_OK)
            strata_free(v);
    }
    ST_ASSERT_OK(strata_close(db));
    st_model_free(m);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_salvage_keeps_range_tombstone(void)
{
    salvage_keeps_range_tombstone(0);
    salvage_keeps_range_tombstone(1);
}

/*
 * Iterators move to the current tables at their seeks (db_iter.c): one opened before range
 * deletes still shows the deleted keys after they were flushed and fully compacted, and one
 * opened after them still hides the keys once a compaction has dropped the tombstone and the
 * data under it. Neither holds a user snapshot.
 */
static void
test_open_iterators_across_compactions(void)
{
    char *dir = st_test_tmpdir("rdel_iter_refresh");
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    strata_db *db = open_db(dir);
    st_model *m = st_model_new();
    fill(db, m, 600);
    ST_ASSERT_OK(strata_flush(db));
    strata_iter *before = NULL, *after = NULL;
    ST_ASSERT_OK(strata_iter_open(db, NULL, &before));
    st_model *m_before = st_model_clone(m);
    del_range(db, m, 100, 300);
    ST_ASSERT_OK(strata_iter_open(db, NULL, &after));
    st_model *m_after = st_model_clone(m);
    del_range(db, m, 250, 450);
    st_dbc_check_open_iter(before, m_before, &rng, 20);
    st_dbc_check_open_iter(after, m_after, &rng, 20);
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0));
    st_dbc_check_open_iter(before, m_before, &rng, 20);
    st_dbc_check_open_iter(after, m_after, &rng, 20);
    strata_iter_close(before);
    strata_iter_close(after);
    /* with no reader left, a full compaction drops every covered entry */
    ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0));
    ST_ASSERT_EQ(st_dbc_stats(db).table_entries, st_model_count(m));
    ST_ASSERT_OK(strata_close(db));
    st_model_free(m);
    st_model_free(m_before);
    st_model_free(m_after);
    st_test_rmrf(dir);
    st_free(dir);
}

#define BOTH(fn)                                                                                   \
    static void fn##_skiplist(void)                                                                \
    {                                                                                              \
        memtable_kind = STRATA_MEMTABLE_SKIPLIST;                                                  \
        fn();                                                                                      \
    }                                                                                              \
    static void fn##_trie(void)                                                                    \
    {                                                                                              \
        memtable_kind = STRATA_MEMTABLE_TRIE;                                                      \
        fn();                                                                                      \
    }

BOTH(test_batch_order)
BOTH(test_views_and_compaction)
BOTH(test_partial_compaction_keeps_tombstone)
BOTH(test_reverse_and_direction_changes)
BOTH(test_durability_paths)
BOTH(test_salvage_keeps_range_tombstone)
BOTH(test_open_iterators_across_compactions)

int
main(void)
{
    ST_RUN(test_arguments);
    ST_RUN(test_batch_order_skiplist);
    ST_RUN(test_batch_order_trie);
    ST_RUN(test_views_and_compaction_skiplist);
    ST_RUN(test_views_and_compaction_trie);
    ST_RUN(test_partial_compaction_keeps_tombstone_skiplist);
    ST_RUN(test_partial_compaction_keeps_tombstone_trie);
    ST_RUN(test_reverse_and_direction_changes_skiplist);
    ST_RUN(test_reverse_and_direction_changes_trie);
    ST_RUN(test_durability_paths_skiplist);
    ST_RUN(test_durability_paths_trie);
    ST_RUN(test_salvage_keeps_range_tombstone_skiplist);
    ST_RUN(test_salvage_keeps_range_tombstone_trie);
    ST_RUN(test_open_iterators_across_compactions_skiplist);
    ST_RUN(test_open_iterators_across_compactions_trie);
    return st_test_done();
}
