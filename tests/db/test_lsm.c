/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_lsm.c -- the LSM machinery end to end with 64 KiB memtables and 64 KiB compaction outputs,
 * so that flushes and compactions happen all the time:
 *
 *   - flushes produce Parquet tables that "strata.tables" lists and that exist on disk;
 *   - data spread over the active memtable, immutable memtables and many tables reads like the
 *     model (gets, forward/backward scans, seeks, bounds); snapshots and iterators taken before
 *     flushes and compactions keep their view;
 *   - deletes shadow older table data; a compaction keeps tombstones (and the values under them)
 *     while a snapshot needs them and drops them afterwards;
 *   - strata_compact_range over everything leaves fewer, disjoint tables holding exactly the live
 *     keys; a partial range compaction keeps the data intact;
 *   - a reopen recovers exactly; obsolete files (old WALs, old manifests, tables compacted away,
 *     stray *.tmp) are gone; strata_check passes;
 *   - repair after losing CURRENT and every MANIFEST recovers everything;
 *   - a byte-flipped table is reported by strata_check (STRATA_CORRUPT naming the file), and a
 *     flip that check does not report must not change what reads return.
 *
 * Randomised with st_test_seed() (ST_SEED=<n> replays a run); sizes scale with st_test_scale().
 */
#include "db_check.h"
#include "lsm_util.h"
#include "model.h"
#include "parquet/parquet.h"
#include "sst/sst_internal.h"
#include "st_test.h"
#include "test_fs.h"
#include "util/alloc.h"
#include "util/random.h"

#include <unistd.h>

#define VAL_MAX 300

typedef struct lsm_ctx {
    strata_db *db;
    st_model *m;
    st_rng rng;
    uint64_t gen; /* bumps with every write so values differ per write */
    unsigned keyspace;
} lsm_ctx;

/* Memtable kind, compression (bottommost: the default ZSTD) and UCS scaling of the databases of
 * this file (varied by the _trie and codec tests). */
static int memtable_kind = STRATA_MEMTABLE_SKIPLIST, compression = STRATA_COMPRESSION_LZ4;
static int ucs_scaling = 2;
static size_t page_size, bottommost_page_size; /* 0: the defaults */
static int bottommost_zstd;                    /* 1: bottommost_compression ZSTD */

static strata_options
opts(void)
{
    strata_options o = st_lsm_opts();
    o.memtable_kind = memtable_kind;
    o.compression = compression;
    o.ucs_scaling[0] = ucs_scaling;
    if (page_size)
        o.page_size = page_size;
    if (bottommost_page_size)
        o.bottommost_page_size = bottommost_page_size;
    if (bottommost_zstd)
        o.bottommost_compression = STRATA_COMPRESSION_ZSTD;
    return o;
}

static size_t
key_of(unsigned i, char *buf)
{
    return (size_t)snprintf(buf, 16, "key%07u", i);
}

/* Incompressible value for (key i, write gen): table sizes follow the data volume. */
static size_t
val_of(unsigned i, uint64_t gen, unsigned char *buf)
{
    st_rng r;
    st_rng_seed(&r, gen * 1000003u + i);
    size_t n = (size_t)st_rng_uniform(&r, VAL_MAX + 1);
    for (size_t j = 0; j < n; j++)
        buf[j] = (unsigned char)st_rng_next(&r);
    return n;
}

/* Random puts (70%), deletes (20%) and batches (10%) over the key space, mirrored in the model. */
static void
do_ops(lsm_ctx *c, long nops)
{
    strata_batch *b = strata_batch_new();
    ST_ASSERT(b != NULL);
    char k[16];
    unsigned char v[VAL_MAX];
    for (long op = 0; op < nops; op++) {
        uint64_t what = st_rng_uniform(&c->rng, 10);
        int n = what == 9 ? 2 + (int)st_rng_uniform(&c->rng, 20) : 1;
        strata_batch_clear(b);
        for (int j = 0; j < n; j++) {
            unsigned i = (unsigned)st_rng_uniform(&c->rng, c->keyspace);
            size_t kl = key_of(i, k);
            int del = what >= 7 && (what < 9 || st_rng_uniform(&c->rng, 4) == 0);
            uint64_t g = ++c->gen;
            if (del) {
                ST_ASSERT_OK(strata_batch_delete(b, k, kl));
                st_model_delete(c->m, k, kl);
            } else {
                size_t vl = val_of(i, g, v);
                ST_ASSERT_OK(strata_batch_put(b, k, kl, v, vl));
                st_model_put(c->m, k, kl, v, vl);
            }
        }
        ST_ASSERT_OK(strata_write(c->db, NULL, b));
    }
    strata_batch_free(b);
}

/* Everything the model says, through gets (present and absent keys), scans, seeks and bounds. */
static void
verify(lsm_ctx *c, const strata_snapshot *snap, const st_model *m)
{
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.snapshot = snap;
    st_dbc_check_all_gets(c->db, &ro, m);
    char k[16];
    for (int s = 0; s < 200; s++) {
        size_t kl = key_of((unsigned)st_rng_uniform(&c->rng, c->keyspace + 10), k);
        st_dbc_check_get(c->db, &ro, m, k, kl);
    }
    st_dbc_check_iter(c->db, &ro, m, &c->rng, 60);
    char lo[16], hi[16];
    for (int s = 0; s < 4; s++) {
        unsigned a = (unsigned)st_rng_uniform(&c->rng, c->keyspace);
        unsigned z = a + (unsigned)st_rng_uniform(&c->rng, c->keyspace / 3 + 1);
        size_t lol = key_of(a, lo), hil = key_of(z, hi);
        st_lsm_check_bounded(c->db, snap, m, s == 1 ? NULL : lo, lol, s == 2 ? NULL : hi, hil);
    }
}

static lsm_ctx
ctx_open(const char *dir, unsigned keyspace, uint64_t seed)
{
    lsm_ctx c;
    memset(&c, 0, sizeof(c));
    strata_options o = opts();
    c.db = st_dbc_open(dir, &o);
    c.m = st_model_new();
    st_rng_seed(&c.rng, seed);
    c.keyspace = keyspace;
    return c;
}

static void
reopen(lsm_ctx *c, const char *dir)
{
    ST_ASSERT_OK(strata_close(c->db));
    strata_options o = opts();
    c->db = st_dbc_open(dir, &o);
}

/* Reopen, compare, close, strata_check, clean up. */
static void
finish(lsm_ctx *c, char *dir)
{
    reopen(c, dir);
    verify(c, NULL, c->m);
    ST_ASSERT_OK(strata_close(c->db));
    st_lsm_check_ok(dir, 0);
    st_model_free(c->m);
    st_test_rmrf(dir);
    st_free(dir);
}

static long
scaled(long n)
{
    long v = (long)((double)n * st_test_scale());
    return v < n / 8 ? n / 8 : v;
}

/* ---- flushes produce tables ----------------------------------------------------------------- */

static void
test_flush_produces_tables(void)
{
    char *dir = st_test_tmpdir("lsm_flush");
    lsm_ctx c = ctx_open(dir, 3000, st_test_seed());
    ST_ASSERT_EQ(st_lsm_table_count(c.db), 0);
    do_ops(&c, 1500); /* ~230 KB of values: several automatic flushes */
    ST_ASSERT_OK(strata_flush(c.db));
    ST_ASSERT_OK(strata_wait_idle(c.db));
    size_t n;
    st_lsm_table *t = st_lsm_tables(c.db, &n);
    ST_ASSERT(n >= 3);
    for (size_t i = 0; i < n; i++) {
        char p[512];
        st_lsm_table_path(dir, t[i].fnum, p, sizeof(p));
        long long sz = st_lsm_file_size(p);
        if (sz < 0)
            ST_FAIL("table %s listed by strata.tables does not exist", p);
        ST_ASSERT_EQ(sz, (long long)t[i].size);
        /* a Parquet file: PAR1 at both ends */
        FILE *f = fopen(p, "rb");
        char head[4], tail[4];
        ST_ASSERT(f && fread(head, 1, 4, f) == 4 && fseek(f, -4, SEEK_END) == 0 &&
                  fread(tail, 1, 4, f) == 4);
        fclose(f);
        ST_ASSERT(memcmp(head, "PAR1", 4) == 0 && memcmp(tail, "PAR1", 4) == 0);
        ST_ASSERT(t[i].entries > 0 && t[i].min_seq <= t[i].max_seq);
        ST_ASSERT(strcmp(t[i].smallest, t[i].largest) <= 0);
    }
    /* every live entry is in some table (the memtable is empty after the flush) */
    ST_ASSERT(st_lsm_sum(t, n, 0) >= st_model_count(c.m));
    free(t);
    verify(&c, NULL, c.m);
    ST_ASSERT_OK(strata_close(c.db));
    /* after close, exactly the manifest's tables are on disk */
    char *rep = st_lsm_check_ok(dir, 1);
    size_t nfiles;
    free(st_lsm_files(dir, ".parquet", &nfiles));
    if (strstr(rep, "not in the manifest"))
        ST_FAIL("tables left on disk that the manifest does not list after close:\n%s", rep);
    size_t ok_lines = 0;
    for (const char *p = rep; (p = strstr(p, ".parquet: ok")) != NULL; p++)
        ok_lines++;
    ST_ASSERT_EQ(ok_lines, nfiles);
    strata_free(rep);
    st_model_free(c.m);
    st_test_rmrf(dir);
    st_free(dir);
}

/* ---- reads across memtables and many tables; snapshots and iterators keep their view -------- */

static void
test_reads_snapshots_iterators(void)
{
    char *dir = st_test_tmpdir("lsm_reads");
    lsm_ctx c = ctx_open(dir, 4000, st_test_seed() + 1);
    enum { NSNAP = 3 };
    const strata_snapshot *snaps[NSNAP] = {NULL};
    st_model *snap_models[NSNAP] = {NULL};
    strata_iter *old_it = NULL;
    st_model *it_model = NULL;
    long per_phase = scaled(1200);
    size_t max_tables = 0;
    for (int phase = 0; phase < 7; phase++) {
        do_ops(&c, per_phase);
        if (phase < NSNAP) {
            snaps[phase] = strata_snapshot_get(c.db);
            ST_ASSERT(snaps[phase] != NULL);
            snap_models[phase] = st_model_clone(c.m);
        }
        if (phase == 1) {
            ST_ASSERT_OK(strata_iter_open(c.db, NULL, &old_it));
            it_model = st_model_clone(c.m);
        }
        if (phase == 3)
            ST_ASSERT_OK(strata_compact_range(c.db, NULL, 0, NULL, 0));
        if (phase == 5) {
            char a[16], z[16];
            size_t al = key_of(c.keyspace / 4, a), zl = key_of(c.keyspace / 2, z);
            ST_ASSERT_OK(strata_compact_range(c.db, a, al, z, zl));
        }
        /* reads while data sits in the memtables and in the tables */
        size_t nt = st_lsm_table_count(c.db);
        max_tables = nt > max_tables ? nt : max_tables;
        verify(&c, NULL, c.m);
        for (int s = 0; s < NSNAP; s++)
            if (snaps[s])
                verify(&c, snaps[s], snap_models[s]);
        if (old_it)
            st_dbc_check_open_iter(old_it, it_model, &c.rng, 10);
    }
    ST_ASSERT(max_tables >= 3);
    strata_iter_close(old_it);
    st_model_free(it_model);
    for (int s = 0; s < NSNAP; s++) {
        strata_snapshot_release(c.db, snaps[s]);
        st_model_free(snap_models[s]);
    }
    /* reopen recovers exactly (memtable contents come back from the WAL) */
    finish(&c, dir);
}

/* The same with the trie memtable and snappy tables. */
/*
 * An iterator moves to the current sources at each seek, at its own sequence number: after a
 * full compaction that rewrote every table it was opened over (and dropped the versions it shows
 * but nothing newer needs, were it not for its place in the snapshot list), a seek releases the
 * obsolete tables, and everything it shows is still its point in time, forward and backward,
 * also when the seek key points into the iterator itself. It holds no user snapshot: the caller's
 * snapshot it was opened at is released before the compaction.
 */
static void
test_iterator_moves_to_fresh_sources(void)
{
    char *dir = st_test_tmpdir("lsm_iter_fresh");
    lsm_ctx c = ctx_open(dir, 3000, st_test_seed() + 11);
    do_ops(&c, scaled(3000));
    ST_ASSERT_OK(strata_flush(c.db));
    const strata_snapshot *snap = strata_snapshot_get(c.db);
    ST_ASSERT(snap != NULL);
    st_model *at_snap = st_model_clone(c.m);
    do_ops(&c, scaled(600)); /* newer than the snapshot: the iterator must not show these */
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.snapshot = snap;
    strata_iter *it = NULL, *plain = NULL;
    ST_ASSERT_OK(strata_iter_open(c.db, &ro, &it));
    ST_ASSERT_OK(strata_iter_open(c.db, NULL, &plain));
    st_model *at_open = st_model_clone(c.m);
    strata_snapshot_release(c.db, snap);
    ST_ASSERT(st_lsm_table_count(c.db) >= 2);
    /* overwrite and delete much of it, then rewrite every table */
    do_ops(&c, scaled(3000));
    ST_ASSERT_OK(strata_compact_range(c.db, NULL, 0, NULL, 0));
    ST_ASSERT_OK(strata_wait_idle(c.db));
    size_t live = st_lsm_table_count(c.db);
    /* table files on disk: the iterators still hold the old tables */
    ST_ASSERT(st_lsm_count_named(dir, "", ".parquet") > live);
    /* seek with the iterator's own key: the refresh must not read it after closing its source */
    strata_iter_seek_first(plain);
    ST_ASSERT(strata_iter_valid(plain));
    size_t kl;
    const void *k = strata_iter_key(plain, &kl);
    do_ops(&c, scaled(300));
    ST_ASSERT_OK(strata_flush(c.db));
    strata_iter_seek(plain, k, kl);
    st_dbc_check_at(plain, at_open, 0, "iterator after a seek to its own key");
    st_dbc_check_open_iter(plain, at_open, &c.rng, 20);
    st_dbc_check_open_iter(it, at_snap, &c.rng, 20);
    ST_ASSERT_OK(strata_compact_range(c.db, NULL, 0, NULL, 0));
    ST_ASSERT_OK(strata_wait_idle(c.db));
    strata_iter_seek_last(it);
    strata_iter_seek_last(plain);
    /* obsolete tables released */
    ST_ASSERT_EQ(st_lsm_count_named(dir, "", ".parquet"), st_lsm_table_count(c.db));
    st_dbc_check_open_iter(plain, at_open, &c.rng, 20);
    st_dbc_check_open_iter(it, at_snap, &c.rng, 20);
    strata_iter_close(it);
    strata_iter_close(plain);
    st_model_free(at_open);
    st_model_free(at_snap);
    finish(&c, dir);
}

static void
test_reads_snapshots_iterators_trie_snappy(void)
{
    memtable_kind = STRATA_MEMTABLE_TRIE;
    compression = STRATA_COMPRESSION_SNAPPY;
    test_reads_snapshots_iterators();
    memtable_kind = STRATA_MEMTABLE_SKIPLIST;
    compression = STRATA_COMPRESSION_LZ4;
}

/* ---- tombstones, snapshots and compaction --------------------------------------------------- */

/* Compact everything until no table outside the compaction can be left over (a background
 * compaction may hold some tables when strata_compact_range picks its inputs). */
static void
compact_all(strata_db *db, int (*done)(strata_db *))
{
    for (int round = 0; round < 20; round++) {
        ST_ASSERT_OK(strata_wait_idle(db));
        ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0));
        ST_ASSERT_OK(strata_wait_idle(db));
        if (done(db))
            return;
    }
    size_t n;
    st_lsm_table *t = st_lsm_tables(db, &n);
    ST_FAIL("20 full compactions did not reach the expected state (%zu tables, %llu entries, %llu "
            "tombstones)",
            n, st_lsm_sum(t, n, 0), st_lsm_sum(t, n, 1));
}

static size_t expect_entries; /* for the done() predicates below */

static int
no_tombstones_exact(strata_db *db)
{
    size_t n;
    st_lsm_table *t = st_lsm_tables(db, &n);
    int ok =
        st_lsm_sum(t, n, 1) == 0 && st_lsm_sum(t, n, 0) == expect_entries && st_lsm_disjoint(t, n);
    free(t);
    return ok;
}

static int
disjoint(strata_db *db)
{
    size_t n;
    st_lsm_table *t = st_lsm_tables(db, &n);
    int ok = st_lsm_disjoint(t, n);
    free(t);
    return ok;
}

/* Rows of db's live tables: how many have sequence number 0 and how many do not. */
static void
count_table_seqs(strata_db *db, const char *dir, size_t *zero, size_t *nonzero)
{
    *zero = *nonzero = 0;
    size_t nt;
    st_lsm_table *t = st_lsm_tables(db, &nt);
    for (size_t i = 0; i < nt; i++) {
        char path[512];
        st_sst_reader *r = NULL;
        ST_ASSERT_OK(st_sst_reader_open(
            st_env_posix(), st_lsm_table_path(dir, t[i].fnum, path, sizeof(path)), NULL, &r));
        st_iter *it = NULL;
        ST_ASSERT_OK(st_sst_reader_iter(r, NULL, 0, NULL, 0, 0, &it));
        for (st_iter_seek_first(it); it->valid; st_iter_next(it))
            ++*(it->seq == 0 ? zero : nonzero);
        ST_ASSERT_OK(it->status);
        st_iter_close(it);
        st_sst_reader_unref(r);
    }
    free(t);
}

/* Every table's footer says its rows all have sequence number 0. */
static int
all_tables_zero(strata_db *db)
{
    size_t n;
    st_lsm_table *t = st_lsm_tables(db, &n);
    int ok = n > 0;
    for (size_t i = 0; i < n; i++)
        ok &= t[i].min_seq == 0 && t[i].max_seq == 0;
    free(t);
    return ok;
}

/*
 * A compaction at the bottom writes sequence number 0 for the puts every snapshot sees, and
 * only for those: versions newer than a live snapshot, and tombstones it needs, keep theirs.
 * Reads see the same data at every point in time, reopen included, and writes after it win.
 */
static void
test_bottom_sequence_zero(void)
{
    char *dir = st_test_tmpdir("lsm_seq0");
    lsm_ctx c = ctx_open(dir, 500, st_test_seed() + 7);
    char k[16];
    unsigned char v[VAL_MAX];
    for (unsigned i = 0; i < 500; i++) {
        size_t kl = key_of(i, k), vl = val_of(i, ++c.gen, v);
        ST_ASSERT_OK(strata_put(c.db, NULL, k, kl, v, vl));
        st_model_put(c.m, k, kl, v, vl);
    }
    for (unsigned i = 0; i < 100; i++) { /* a second version of keys 0..99 */
        size_t kl = key_of(i, k), vl = val_of(i, ++c.gen, v);
        ST_ASSERT_OK(strata_put(c.db, NULL, k, kl, v, vl));
        st_model_put(c.m, k, kl, v, vl);
    }
    ST_ASSERT_OK(strata_flush(c.db));
    const strata_snapshot *snap = strata_snapshot_get(c.db);
    st_model *at_snap = st_model_clone(c.m);
    for (unsigned i = 100; i < 150; i++) { /* newer than the snapshot: 50 puts, 10 deletes */
        size_t kl = key_of(i, k), vl = val_of(i, ++c.gen, v);
        ST_ASSERT_OK(strata_put(c.db, NULL, k, kl, v, vl));
        st_model_put(c.m, k, kl, v, vl);
    }
    for (unsigned i = 150; i < 160; i++) {
        size_t kl = key_of(i, k);
        ST_ASSERT_OK(strata_delete(c.db, NULL, k, kl));
        st_model_delete(c.m, k, kl);
    }
    ST_ASSERT_OK(strata_flush(c.db));
    compact_all(c.db, disjoint);
    size_t zero, nonzero;
    count_table_seqs(c.db, dir, &zero, &nonzero);
    ST_ASSERT_EQ(zero, 500);   /* each key's newest version the snapshot sees */
    ST_ASSERT_EQ(nonzero, 60); /* what only newer readers see */
    verify(&c, NULL, c.m);
    verify(&c, snap, at_snap);
    strata_snapshot_release(c.db, snap);
    compact_all(c.db, all_tables_zero);
    count_table_seqs(c.db, dir, &zero, &nonzero);
    ST_ASSERT_EQ(zero, 490);
    ST_ASSERT_EQ(nonzero, 0);
    uint64_t seq = st_dbc_stats(c.db).sequence;
    verify(&c, NULL, c.m);
    reopen(&c, dir);
    ST_ASSERT_EQ(st_dbc_stats(c.db).sequence, seq); /* the log of sequence numbers goes on */
    verify(&c, NULL, c.m);
    for (unsigned i = 0; i < 500; i += 7) { /* newer writes beat the zeroed versions */
        size_t kl = key_of(i, k), vl = val_of(i, ++c.gen, v);
        ST_ASSERT_OK(strata_put(c.db, NULL, k, kl, v, vl));
        st_model_put(c.m, k, kl, v, vl);
    }
    verify(&c, NULL, c.m);
    ST_ASSERT_OK(strata_flush(c.db));
    verify(&c, NULL, c.m);
    compact_all(c.db, all_tables_zero);
    verify(&c, NULL, c.m);
    st_model_free(at_snap);
    finish(&c, dir);
}

static void
test_tombstones_and_snapshots(void)
{
    char *dir = st_test_tmpdir("lsm_tomb");
    lsm_ctx c = ctx_open(dir, 0, st_test_seed() + 2);
    unsigned nkeys = (unsigned)scaled(3000);
    c.keyspace = nkeys;
    char k[16];
    unsigned char v[VAL_MAX];
    for (unsigned i = 0; i < nkeys; i++) {
        size_t kl = key_of(i, k), vl = val_of(i, ++c.gen, v);
        ST_ASSERT_OK(strata_put(c.db, NULL, k, kl, v, vl));
        st_model_put(c.m, k, kl, v, vl);
    }
    ST_ASSERT_OK(strata_flush(c.db));
    const strata_snapshot *before = strata_snapshot_get(c.db);
    ST_ASSERT(before != NULL);
    st_model *before_m = st_model_clone(c.m);
    /* delete every other key: the tombstones shadow values that live in older tables */
    unsigned deleted = 0;
    for (unsigned i = 0; i < nkeys; i += 2, deleted++) {
        size_t kl = key_of(i, k);
        ST_ASSERT_OK(strata_delete(c.db, NULL, k, kl));
        st_model_delete(c.m, k, kl);
    }
    verify(&c, NULL, c.m); /* tombstones in the memtable over table data */
    ST_ASSERT_OK(strata_flush(c.db));
    verify(&c, NULL, c.m); /* tombstones in tables over older tables */
    verify(&c, before, before_m);
    /* a full compaction must keep the tombstones and the values under them for the snapshot */
    compact_all(c.db, disjoint);
    size_t n;
    st_lsm_table *t = st_lsm_tables(c.db, &n);
    ST_ASSERT(st_lsm_sum(t, n, 1) >= deleted);
    ST_ASSERT(st_lsm_sum(t, n, 0) >= (unsigned long long)nkeys + deleted);
    free(t);
    verify(&c, before, before_m);
    verify(&c, NULL, c.m);
    /* without the snapshot the next full compaction drops them: only the live keys remain */
    strata_snapshot_release(c.db, before);
    expect_entries = st_model_count(c.m);
    compact_all(c.db, no_tombstones_exact);
    verify(&c, NULL, c.m);
    reopen(&c, dir);
    verify(&c, NULL, c.m);
    ST_ASSERT_OK(strata_close(c.db));
    st_lsm_check_ok(dir, 0);
    st_model_free(before_m);
    st_model_free(c.m);
    st_test_rmrf(dir);
    st_free(dir);
}

/* ---- compact_range ------------------------------------------------------------------------- */

static void
test_compact_range(void)
{
    char *dir = st_test_tmpdir("lsm_compact");
    lsm_ctx c = ctx_open(dir, 2500, st_test_seed() + 3);
    /* many small overlapping flushes */
    for (int f = 0; f < 12; f++) {
        do_ops(&c, scaled(150));
        ST_ASSERT_OK(strata_flush(c.db));
    }
    ST_ASSERT_OK(strata_wait_idle(c.db));
    size_t before = st_lsm_table_count(c.db);
    verify(&c, NULL, c.m);
    /* a partial range first */
    char a[16], z[16];
    size_t al = key_of(500, a), zl = key_of(1500, z);
    ST_ASSERT_OK(strata_compact_range(c.db, a, al, z, zl));
    verify(&c, NULL, c.m);
    do_ops(&c, scaled(300)); /* some of it stays in the memtable */
    compact_all(c.db, disjoint);
    size_t n;
    st_lsm_table *t = st_lsm_tables(c.db, &n);
    fprintf(stderr, "compact_range: %zu tables before, %zu after (disjoint)\n", before, n);
    ST_ASSERT(n < before);
    ST_ASSERT(n >= 1);
    /* no snapshots: exactly one entry per live key, no tombstones */
    ST_ASSERT_EQ(st_lsm_sum(t, n, 0), st_model_count(c.m));
    ST_ASSERT_EQ(st_lsm_sum(t, n, 1), 0);
    for (size_t i = 0; i < n; i++) /* outputs near target_file_size, none far above it */
        ST_ASSERT(t[i].size < 4 * ST_LSM_BUFFER);
    free(t);
    verify(&c, NULL, c.m);
    finish(&c, dir);
}

/* Put keys [0, n) step `step` with values of vlen bytes tagged `gen`, in the model too. */
static void
put_keys(lsm_ctx *c, unsigned n, unsigned step, size_t vlen, int gen)
{
    char k[16], v[256];
    for (unsigned i = 0; i < n; i += step) {
        size_t kl = key_of(i, k);
        memset(v, 'a' + gen % 26, vlen);
        int tag = snprintf(v, vlen, "v%u.%d", i, gen);
        ST_ASSERT(tag > 0 && (size_t)tag < vlen);
        ST_ASSERT_OK(strata_put(c->db, NULL, k, kl, v, vlen));
        st_model_put(c->m, k, kl, v, vlen);
    }
}

/* Seek to present keys and get missing ones (each positions in, or consults, every run) until
 * read-triggered compactions leave one sorted run or five rounds have passed; *st: the stats
 * after. A round charges 2 * 1500 * (runs - 1), more than the 1024 floor. */
static void
read_until_one_run(lsm_ctx *c, strata_stats *st)
{
    char k[16];
    for (int round = 0; round < 5 && st->sorted_runs > 1; round++) {
        uint64_t before = st->read_compactions;
        strata_iter *it = NULL;
        ST_ASSERT_OK(strata_iter_open(c->db, NULL, &it));
        for (int i = 0; i < 1500; i++) {
            unsigned key = (unsigned)st_rng_uniform(&c->rng, c->keyspace);
            size_t kl = key_of(key, k);
            strata_iter_seek(it, k, kl);
            ST_ASSERT(strata_iter_valid(it));
            kl = key_of(key + c->keyspace, k);
            void *v = NULL;
            size_t vl = 0;
            ST_ASSERT_RC(strata_get(c->db, NULL, k, kl, &v, &vl), STRATA_NOTFOUND);
        }
        strata_iter_close(it);
        for (int w = 0; w < 100; w++) { /* the worker picks it up asynchronously */
            ST_ASSERT_OK(strata_wait_idle(c->db));
            ST_ASSERT_OK(strata_get_stats(c->db, st));
            if (st->read_compactions > before && st->running_compactions == 0)
                break;
            st_test_sleep_micros(10000);
        }
    }
}

/* Reads that consult several sorted runs make a read-triggered compaction due. Three flushes
 * of the same keys (one level, below T4's trigger of 4) stay three runs until reads have paid
 * for them, then become one. Then runs in two levels (a large run and a small flush over the
 * same keys), which no level's overlap merges: once a whole debt has built up with nothing
 * flushed, they are merged into one as well. Every entry is checked against the model. */
static void
test_read_triggered_compaction(void)
{
    char *dir = st_test_tmpdir("lsm_readcompact");
    lsm_ctx c = ctx_open(dir, 1000, st_test_seed() + 11);
    for (int f = 0; f < 3; f++) {
        put_keys(&c, c.keyspace, 1, 16, f);
        ST_ASSERT_OK(strata_flush(c.db));
    }
    ST_ASSERT_OK(strata_wait_idle(c.db));
    strata_stats st;
    strata_stats_init(&st);
    ST_ASSERT_OK(strata_get_stats(c.db, &st));
    ST_ASSERT_EQ(st.sorted_runs, 3);
    ST_ASSERT_EQ(st.read_compactions, 0);
    read_until_one_run(&c, &st);
    fprintf(stderr, "read-triggered, one level: 3 runs -> %llu, %llu compaction(s)\n",
            (unsigned long long)st.sorted_runs, (unsigned long long)st.read_compactions);
    ST_ASSERT(st.read_compactions >= 1);
    ST_ASSERT_EQ(st.sorted_runs, 1);
    verify(&c, NULL, c.m);

    put_keys(&c, c.keyspace, 1, 200, 3); /* ~200 KiB: key-disjoint tables of one run */
    ST_ASSERT_OK(strata_flush(c.db));
    ST_ASSERT_OK(strata_wait_idle(c.db));
    put_keys(&c, c.keyspace, 100, 200, 4); /* 10 keys over the whole range */
    ST_ASSERT_OK(strata_flush(c.db));
    ST_ASSERT_OK(strata_wait_idle(c.db));
    ST_ASSERT_OK(strata_get_stats(c.db, &st));
    uint64_t runs = st.sorted_runs, rc0 = st.read_compactions;
    ST_ASSERT(runs >= 2);
    read_until_one_run(&c, &st);
    fprintf(stderr, "read-triggered, two levels: %llu runs -> %llu, %llu compaction(s)\n",
            (unsigned long long)runs, (unsigned long long)st.sorted_runs,
            (unsigned long long)(st.read_compactions - rc0));
    ST_ASSERT(st.read_compactions > rc0);
    ST_ASSERT_EQ(st.sorted_runs, 1);
    verify(&c, NULL, c.m);
    finish(&c, dir);
}

/*
 * strata_compact_range called while background compactions run (no wait_idle first) must still
 * compact the whole range: one sorted run holding exactly the live entries. It used to skip the
 * tables a background compaction held, leaving that compaction's output beside its own.
 */
static void
test_compact_range_during_background_compactions(void)
{
    char *dir = st_test_tmpdir("lsm_compact_bg");
    lsm_ctx c = ctx_open(dir, 3000, st_test_seed() + 8);
    long busy_rounds = 0, rounds = scaled(12);
    for (long r = 0; r < rounds; r++) {
        do_ops(&c, scaled(2500)); /* many flushes: compactions are running when this returns */
        char *stats = NULL;
        ST_ASSERT_OK(strata_property(c.db, "strata.stats", &stats));
        busy_rounds += strstr(stats, " 0 compactions running") == NULL;
        strata_free(stats);
        ST_ASSERT_OK(strata_compact_range(c.db, NULL, 0, NULL, 0));
        ST_ASSERT_OK(strata_wait_idle(c.db));
        size_t n;
        st_lsm_table *t = st_lsm_tables(c.db, &n);
        if (!st_lsm_disjoint(t, n) || st_lsm_sum(t, n, 0) != st_model_count(c.m) ||
            st_lsm_sum(t, n, 1) != 0)
            ST_FAIL("round %ld: after compact_range: %zu tables, disjoint %d, %llu entries for "
                    "%zu live keys, %llu tombstones",
                    r, n, st_lsm_disjoint(t, n), st_lsm_sum(t, n, 0), st_model_count(c.m),
                    st_lsm_sum(t, n, 1));
        free(t);
    }
    fprintf(stderr,
            "compact_range during background work: %ld rounds, %ld with compactions "
            "running at the call\n",
            rounds, busy_rounds);
    verify(&c, NULL, c.m);
    finish(&c, dir);
}

/* ---- codecs: flushes and upper compactions `compression`, bottommost ones their own ---------- */

/* The codec of table fnum's value chunks (key chunks agree or are UNCOMPRESSED); *flush: its footer
 * says a memtable flush wrote it (strata-job=flush), else a compaction did. */
static int
table_codec(const char *dir, unsigned long long fnum, int *flush, int64_t *rows, int64_t *pages)
{
    char p[512];
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(
        st_sst_reader_open(st_env_posix(), st_lsm_table_path(dir, fnum, p, sizeof(p)), NULL, &r));
    ST_ASSERT(r->nrgs >= 1);
    int codec = r->rgs[0].cm[ST_SST_COL_VALUE]->codec;
    for (uint32_t g = 0; g < r->nrgs; g++) {
        /* key chunks use the codec unless it did not shrink their first page */
        int kc = r->rgs[g].cm[ST_SST_COL_KEY]->codec;
        ST_ASSERT(kc == codec || kc == ST_PQ_UNCOMPRESSED);
        ST_ASSERT_EQ(r->rgs[g].cm[ST_SST_COL_VALUE]->codec, codec);
        ST_ASSERT_EQ(r->rgs[g].cm[ST_SST_COL_SEQNO]->codec, ST_PQ_UNCOMPRESSED);
    }
    *rows = *pages = 0;
    for (uint32_t g = 0; g < r->nrgs; g++) {
        *rows += r->rgs[g].num_rows;
        *pages += r->rgs[g].oi[ST_SST_COL_KEY].npages;
    }
    const char *job = st_sst_meta_prop(&r->meta, "strata-job");
    ST_ASSERT(job != NULL);
    *flush = strcmp(job, "flush") == 0;
    st_sst_reader_unref(r);
    return codec;
}

/* Rows and pages of the tables expect_new_codecs found, by codec (LZ4_RAW above, ZSTD at the
 * bottom): their page sizes differ. */
static int64_t rows_lz4, pages_lz4, rows_zstd, pages_zstd;

/* Every table of db not in old[0..nold) was written by a flush (want_flush) or a compaction with
 * codec `want`; returns how many there are. */
static size_t
expect_new_codecs(strata_db *db, const char *dir, const st_lsm_table *old, size_t nold,
                  int want_flush, int want)
{
    size_t n, fresh = 0;
    st_lsm_table *t = st_lsm_tables(db, &n);
    for (size_t i = 0; i < n; i++) {
        int known = 0, flush;
        for (size_t j = 0; j < nold; j++)
            known |= old[j].fnum == t[i].fnum;
        if (known)
            continue;
        int64_t rows, pages;
        int codec = table_codec(dir, t[i].fnum, &flush, &rows, &pages);
        rows_lz4 += codec == ST_PQ_LZ4_RAW ? rows : 0;
        pages_lz4 += codec == ST_PQ_LZ4_RAW ? pages : 0;
        rows_zstd += codec == ST_PQ_ZSTD ? rows : 0;
        pages_zstd += codec == ST_PQ_ZSTD ? pages : 0;
        if (flush != want_flush || codec != want)
            ST_FAIL("table %llu: written by %s with codec %d, expected %s with codec %d", t[i].fnum,
                    flush ? "a flush" : "a compaction", codec,
                    want_flush ? "a flush" : "a compaction", want);
        fresh++;
    }
    free(t);
    return fresh;
}

static void
test_codec_profile(void)
{
    char *dir = st_test_tmpdir("lsm_codecs");
    ucs_scaling = 64; /* a threshold of 66 tables: no background compaction in this test */
    page_size = 1024; /* and 4x bigger pages at the bottom */
    bottommost_page_size = 4096;
    bottommost_zstd = 1; /* the default is LZ4 for both: a different codec shows which is which */
    rows_lz4 = pages_lz4 = rows_zstd = pages_zstd = 0;
    lsm_ctx c = ctx_open(dir, 2000, st_test_seed() + 11);
    for (int f = 0; f < 4; f++) {
        do_ops(&c, 400);
        ST_ASSERT_OK(strata_flush(c.db));
    }
    ST_ASSERT_OK(strata_wait_idle(c.db));
    ST_ASSERT(expect_new_codecs(c.db, dir, NULL, 0, 1, ST_PQ_LZ4_RAW) >= 4);
    /* a full compaction: nothing older remains under its outputs */
    ST_ASSERT_OK(strata_compact_range(c.db, NULL, 0, NULL, 0));
    size_t nbase;
    ST_ASSERT(expect_new_codecs(c.db, dir, NULL, 0, 0, ST_PQ_ZSTD) >= 2);
    st_lsm_table *base = st_lsm_tables(c.db, &nbase);
    /* newer data all over the key space, then a compaction of the low keys only: its inputs are
     * the new tables and the base tables holding low keys, and the other base tables, older,
     * overlap the outputs' key range (the new tables'), so the outputs are not bottommost */
    char lo[16], hi[16], hexhi[32];
    size_t lol = key_of(0, lo), hil = key_of(100, hi);
    for (size_t i = 0; i < hil; i++)
        snprintf(hexhi + 2 * i, 3, "%02x", (unsigned char)hi[i]);
    int out = 0; /* some base table holds only keys above the range */
    for (size_t i = 0; i < nbase; i++)
        out |= strcmp(base[i].smallest, hexhi) > 0;
    ST_ASSERT(out);
    do_ops(&c, 400);
    ST_ASSERT_OK(strata_flush(c.db));
    ST_ASSERT(expect_new_codecs(c.db, dir, base, nbase, 1, ST_PQ_LZ4_RAW) >= 1);
    size_t nmid;
    st_lsm_table *mid = st_lsm_tables(c.db, &nmid);
    ST_ASSERT_OK(strata_compact_range(c.db, lo, lol, hi, hil));
    ST_ASSERT(expect_new_codecs(c.db, dir, mid, nmid, 0, ST_PQ_LZ4_RAW) >= 1);
    verify(&c, NULL, c.m);
    /* and a full compaction makes everything ZSTD again */
    ST_ASSERT_OK(strata_compact_range(c.db, NULL, 0, NULL, 0));
    ST_ASSERT(expect_new_codecs(c.db, dir, NULL, 0, 0, ST_PQ_ZSTD) >= 2);
    /* the bottommost tables were cut at bottommost_page_size, 4x page_size: their pages hold
     * more than twice as many rows on average (a table's last page may be short) */
    ST_ASSERT(pages_lz4 > 0 && pages_zstd > 0);
    ST_ASSERT((double)rows_zstd / (double)pages_zstd > 2.0 * (double)rows_lz4 / (double)pages_lz4);
    free(base);
    free(mid);
    finish(&c, dir);
    ucs_scaling = 2;
    page_size = bottommost_page_size = 0;
    bottommost_zstd = 0;
}

/* Copy table file `fnum` of from_dir to table file `to_fnum` of to_dir. */
static void
copy_table(const char *from_dir, unsigned long long fnum, const char *to_dir,
           unsigned long long to_fnum)
{
    char src[512], dst[512], buf[8192];
    st_lsm_table_path(from_dir, fnum, src, sizeof(src));
    st_lsm_table_path(to_dir, to_fnum, dst, sizeof(dst));
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    ST_ASSERT(in && out);
    size_t got;
    while ((got = fread(buf, 1, sizeof(buf), in)) > 0)
        ST_ASSERT(fwrite(buf, 1, got, out) == got);
    fclose(in);
    fclose(out);
}

static void
remove_manifests(const char *dir)
{
    char **names = NULL;
    size_t count = 0;
    char p[512];
    ST_ASSERT_OK(st_env_posix()->list(st_env_posix(), dir, &names, &count));
    for (size_t i = 0; i < count; i++)
        if (strncmp(names[i], "MANIFEST-", 9) == 0 || strcmp(names[i], "CURRENT") == 0) {
            snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
            ST_ASSERT(unlink(p) == 0);
        }
    st_env_free_list(names, count);
}

/* ---- odd entries through flushes and compactions --------------------------------------------- */

static void
test_odd_entries_and_edges(void)
{
    char *dir = st_test_tmpdir("lsm_edges");
    lsm_ctx c = ctx_open(dir, 1000, st_test_seed() + 8);
    /* maintenance on an empty database */
    ST_ASSERT_OK(strata_flush(c.db));
    ST_ASSERT_OK(strata_compact_range(c.db, NULL, 0, NULL, 0));
    ST_ASSERT_OK(strata_wait_idle(c.db));
    ST_ASSERT_EQ(st_lsm_table_count(c.db), 0);
    ST_ASSERT_RC(strata_compact_range(c.db, NULL, 3, NULL, 0), STRATA_INVALID);
    /* a memtable of deletes only */
    char k[16];
    for (unsigned i = 0; i < 50; i++) {
        size_t kl = key_of(i, k);
        ST_ASSERT_OK(strata_delete(c.db, NULL, k, kl));
    }
    ST_ASSERT_OK(strata_flush(c.db));
    verify(&c, NULL, c.m);
    /* empty values, a value far above target_file_size, keys with NULs / 0xff / 4 KiB */
    ST_ASSERT_OK(strata_put(c.db, NULL, "e0", 2, "", 0));
    st_model_put(c.m, "e0", 2, "", 0);
    size_t big = 1u << 20;
    unsigned char *bv = malloc(big);
    ST_ASSERT(bv != NULL);
    for (size_t i = 0; i < big; i++)
        bv[i] = (unsigned char)(i * 7 + (i >> 9));
    ST_ASSERT_OK(strata_put(c.db, NULL, "huge", 4, bv, big));
    st_model_put(c.m, "huge", 4, bv, big);
    free(bv);
    const char nul_key[] = {'n', 0, 0, 'x'}, ff_key[] = {(char)0xff, (char)0xff, 0};
    ST_ASSERT_OK(strata_put(c.db, NULL, nul_key, sizeof(nul_key), "nul", 3));
    st_model_put(c.m, nul_key, sizeof(nul_key), "nul", 3);
    ST_ASSERT_OK(strata_put(c.db, NULL, ff_key, sizeof(ff_key), "ff", 2));
    st_model_put(c.m, ff_key, sizeof(ff_key), "ff", 2);
    char *long_key = malloc(4096);
    ST_ASSERT(long_key != NULL);
    memset(long_key, 'L', 4096);
    ST_ASSERT_OK(strata_put(c.db, NULL, long_key, 4096, "long", 4));
    st_model_put(c.m, long_key, 4096, "long", 4);
    do_ops(&c, scaled(1500));
    ST_ASSERT_OK(strata_flush(c.db));
    verify(&c, NULL, c.m);
    /* a reversed range compacts nothing (or is refused) and changes no data */
    char a[16], z[16];
    size_t al = key_of(900, a), zl = key_of(100, z);
    int rc = strata_compact_range(c.db, a, al, z, zl);
    if (rc != STRATA_OK)
        ST_ASSERT_RC(rc, STRATA_INVALID);
    ST_ASSERT_OK(strata_compact_range(c.db, NULL, 0, NULL, 0));
    ST_ASSERT_OK(strata_wait_idle(c.db));
    verify(&c, NULL, c.m);
    void *v = NULL;
    size_t vl = 7;
    ST_ASSERT_OK(strata_get(c.db, NULL, "e0", 2, &v, &vl));
    ST_ASSERT(v != NULL && vl == 0);
    strata_free(v);
    free(long_key);
    finish(&c, dir);
}

/* ---- reopen removes obsolete files ---------------------------------------------------------- */

static void
touch(const char *dir, const char *name, const char *content)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    ST_ASSERT(f != NULL);
    fputs(content, f);
    fclose(f);
}

static unsigned long long
active_wal(strata_db *db)
{
    char *s = NULL;
    ST_ASSERT_OK(strata_property(db, "strata.stats", &s));
    const char *w = strstr(s, "\nwal: ");
    unsigned long long num = 0;
    ST_ASSERT(w && sscanf(w, "\nwal: %llu.wal", &num) == 1);
    strata_free(s);
    return num;
}

static void
expect_clean_dir(const char *dir, strata_db *db)
{
    /* reads may have made a compaction due: its outputs are .tmp files until installed */
    ST_ASSERT_OK(strata_wait_idle(db));
    /* one manifest, named by CURRENT */
    ST_ASSERT_EQ(st_lsm_count_named(dir, "MANIFEST-", ""), 1);
    ST_ASSERT_EQ(st_lsm_count_named(dir, "", ".tmp"), 0);
    char p[512], cur[64] = {0};
    snprintf(p, sizeof(p), "%s/CURRENT", dir);
    FILE *f = fopen(p, "rb");
    ST_ASSERT(f && fgets(cur, sizeof(cur), f));
    fclose(f);
    ST_ASSERT(strncmp(cur, "MANIFEST-", 9) == 0 && cur[strlen(cur) - 1] == '\n');
    cur[strlen(cur) - 1] = '\0';
    ST_ASSERT_EQ(st_lsm_count_named(dir, cur, ""), 1);
    /* the WALs left are the active one and those of queued memtables (none right after open) */
    size_t nw;
    uint64_t *w = st_lsm_files(dir, ".wal", &nw);
    unsigned long long act = active_wal(db);
    for (size_t i = 0; i < nw; i++)
        if (w[i] < act)
            ST_FAIL("%06llu.wal is below the active log %06llu after open",
                    (unsigned long long)w[i], act);
    free(w);
    /* every table file is live (background compactions may add outputs; they are live too once
     * listed, so compare against the list after the fact) */
    size_t nt, nf;
    ST_ASSERT_OK(strata_wait_idle(db));
    st_lsm_table *t = st_lsm_tables(db, &nt);
    uint64_t *files = st_lsm_files(dir, ".parquet", &nf);
    for (size_t i = 0; i < nt; i++) {
        int found = 0;
        for (size_t j = 0; j < nf; j++)
            found |= files[j] == t[i].fnum;
        if (!found)
            ST_FAIL("live table %06llu.parquet missing on disk", t[i].fnum);
    }
    free(files);
    free(t);
}

static void
test_reopen_removes_obsolete_files(void)
{
    char *dir = st_test_tmpdir("lsm_obsolete");
    lsm_ctx c = ctx_open(dir, 3000, st_test_seed() + 4);
    size_t first_n;
    for (int round = 0; round < 3; round++) {
        do_ops(&c, scaled(800));
        ST_ASSERT_OK(strata_flush(c.db));
        if (round == 1)
            ST_ASSERT_OK(strata_compact_range(c.db, NULL, 0, NULL, 0));
        do_ops(&c, 40); /* unflushed, in the WAL */
        reopen(&c, dir);
        verify(&c, NULL, c.m);
        expect_clean_dir(dir, c.db);
    }
    /* tables of an earlier version: compacted away, they must be gone */
    ST_ASSERT_OK(strata_wait_idle(c.db));
    st_lsm_table *old = st_lsm_tables(c.db, &first_n);
    compact_all(c.db, disjoint);
    size_t n;
    st_lsm_table *now = st_lsm_tables(c.db, &n);
    /* plant files the next open must remove: a stray temporary, a WAL below log_number, an old
     * manifest, an orphan table (a copy of a live one under a number the manifest lacks) */
    ST_ASSERT_OK(strata_close(c.db));
    touch(dir, "000123.parquet.tmp", "partial");
    touch(dir, "000000.wal", "stale");
    touch(dir, "MANIFEST-000000", "old");
    char src[512], dst[512];
    copy_table(dir, now[0].fnum, dir, 999990);
    st_lsm_table_path(dir, 999990, dst, sizeof(dst));
    strata_options o = opts();
    c.db = st_dbc_open(dir, &o);
    verify(&c, NULL, c.m);
    expect_clean_dir(dir, c.db);
    ST_ASSERT(st_lsm_file_size(dst) < 0);
    for (size_t i = 0; i < first_n; i++) {
        int live = 0;
        for (size_t j = 0; j < n; j++)
            live |= now[j].fnum == old[i].fnum;
        st_lsm_table_path(dir, old[i].fnum, src, sizeof(src));
        if (!live && st_lsm_file_size(src) >= 0)
            ST_FAIL("table %s was compacted away but is still on disk", src);
    }
    free(old);
    free(now);
    ST_ASSERT_OK(strata_close(c.db));
    st_lsm_check_ok(dir, 0);
    st_model_free(c.m);
    st_test_rmrf(dir);
    st_free(dir);
}

/* ---- repair ---------------------------------------------------------------------------------- */

static int
count_substr(const char *s, const char *sub)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, sub)) != NULL; p += strlen(sub))
        n++;
    return n;
}

static void
test_repair_lost_manifest(void)
{
    char *dir = st_test_tmpdir("lsm_repair");
    lsm_ctx c = ctx_open(dir, 3000, st_test_seed() + 5);
    do_ops(&c, scaled(2000));
    ST_ASSERT_OK(strata_flush(c.db));
    do_ops(&c, scaled(600)); /* partly only in WALs */
    ST_ASSERT_OK(strata_close(c.db));
    st_lsm_check_ok(dir, 0);
    /* lose CURRENT and every manifest */
    remove_manifests(dir);
    ST_ASSERT_EQ(st_lsm_count_named(dir, "MANIFEST-", ""), 0);
    char *report = NULL;
    int rc = strata_repair(dir, NULL, &report);
    if (rc != STRATA_OK)
        ST_FAIL("strata_repair: %s (%s)\n%s", strata_errstr(rc), strata_errmsg(NULL),
                report ? report : "");
    ST_ASSERT(report && strstr(report, "kept") && strstr(report, "wrote MANIFEST-"));
    int kept = count_substr(report, ": kept\n");
    strata_free(report);
    /* repair verified every adopted table and recorded its whole-file checksum */
    ST_ASSERT_OK(strata_check(dir, &report));
    ST_ASSERT_EQ(count_substr(report, ", file checksum ok\n"), kept);
    strata_free(report);
    strata_options o = opts();
    c.db = st_dbc_open(dir, &o);
    verify(&c, NULL, c.m);
    do_ops(&c, 200); /* and it keeps working */
    finish(&c, dir);
}

/*
 * A compaction that dropped a bottom-most tombstone removes its input tables one by one. A crash
 * after the table holding the tombstone is gone but before the one holding the older value is
 * leaves that older table on disk. Normal recovery removes it (not in the manifest); a repair
 * (manifest lost) must not bring the deleted key back from it either: compaction outputs name the
 * tables they replace (strata-replaces), and repair drops those.
 */
static void
test_repair_after_partial_input_deletion(void)
{
    char *dir = st_test_tmpdir("lsm_partial");
    char *side = st_test_tmpdir("lsm_partial_side");
    lsm_ctx c = ctx_open(dir, 500, st_test_seed() + 7);
    do_ops(&c, 400);
    char x[16];
    size_t xl = key_of(c.keyspace + 1, x);
    ST_ASSERT_OK(strata_put(c.db, NULL, x, xl, "old", 3));
    ST_ASSERT_OK(strata_flush(c.db));
    ST_ASSERT_OK(strata_wait_idle(c.db));
    size_t n1;
    st_lsm_table *t1 = st_lsm_tables(c.db, &n1);
    for (size_t i = 0; i < n1; i++)
        copy_table(dir, t1[i].fnum, side, t1[i].fnum);
    ST_ASSERT_OK(strata_delete(c.db, NULL, x, xl));
    ST_ASSERT_OK(strata_flush(c.db));
    compact_all(c.db, disjoint);
    void *v = NULL;
    size_t vl = 0;
    ST_ASSERT_RC(strata_get(c.db, NULL, x, xl, &v, &vl), STRATA_NOTFOUND);
    ST_ASSERT_OK(strata_close(c.db));
    /* the crash left the older tables (deletion of the newer ones had happened) */
    for (size_t i = 0; i < n1; i++)
        copy_table(side, t1[i].fnum, dir, t1[i].fnum);
    remove_manifests(dir);
    char *report = NULL;
    ST_ASSERT_OK(strata_repair(dir, NULL, &report));
    strata_free(report);
    strata_options o = opts();
    c.db = st_dbc_open(dir, &o);
    int rc = strata_get(c.db, NULL, x, xl, &v, &vl);
    if (rc != STRATA_NOTFOUND)
        ST_FAIL("repair resurrected deleted key %s from a compacted-away table (%s, %zu bytes)", x,
                strata_errstr(rc), vl);
    ST_ASSERT_OK(strata_close(c.db));
    free(t1);
    st_model_free(c.m);
    st_test_rmrf(side);
    st_test_rmrf(dir);
    st_free(side);
    st_free(dir);
}

/* ---- a damaged table ----------------------------------------------------------------------- */

/* After a flip that strata_check did not report, every read must still give the model's data
 * (or fail cleanly with CORRUPT); a flip it did report may make reads fail, never lie. */
static void
read_after_flip(const char *dir, const st_model *m, st_rng *rng, int reported, long off)
{
    strata_options o = opts();
    strata_db *db = NULL;
    int rc = strata_open(dir, &o, &db);
    if (rc != STRATA_OK) {
        if (!reported || rc != STRATA_CORRUPT)
            ST_FAIL("flip at %ld (check %s): open returned %s (%s)", off,
                    reported ? "CORRUPT" : "OK", strata_errstr(rc), strata_errmsg(NULL));
        return;
    }
    if (!reported) {
        strata_read_options ro;
        strata_read_options_init(&ro);
        st_dbc_check_iter(db, &ro, m, rng, 10);
        st_dbc_check_all_gets(db, &ro, m);
    } else {
        strata_iter *it = NULL;
        ST_ASSERT_OK(strata_iter_open(db, NULL, &it));
        long i = 0;
        for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it), i++)
            st_dbc_check_at(it, m, i, "scan of a damaged database");
        rc = strata_iter_status(it);
        if (rc != STRATA_OK && rc != STRATA_CORRUPT)
            ST_FAIL("flip at %ld: scan ended with %s", off, strata_errstr(rc));
        if (rc == STRATA_OK)
            ST_ASSERT_EQ(i, (long)st_model_count(m));
        strata_iter_close(it);
    }
    ST_ASSERT_OK(strata_close(db));
}

static void
test_corrupt_table(void)
{
    char *tmpl = st_test_tmpdir("lsm_corrupt_tmpl");
    char *dir = st_test_tmpdir("lsm_corrupt");
    lsm_ctx c = ctx_open(tmpl, 2000, st_test_seed() + 6);
    do_ops(&c, 1200);
    ST_ASSERT_OK(strata_flush(c.db));
    ST_ASSERT_OK(strata_wait_idle(c.db));
    size_t n;
    st_lsm_table *t = st_lsm_tables(c.db, &n);
    ST_ASSERT(n >= 1);
    unsigned long long victim = t[n / 2].fnum;
    free(t);
    ST_ASSERT_OK(strata_close(c.db));
    char name[32], path[512];
    snprintf(name, sizeof(name), "%06llu.parquet", victim);
    st_lsm_table_path(dir, victim, path, sizeof(path));
    st_test_copy_dir(tmpl, dir);
    long long size = st_lsm_file_size(path);
    ST_ASSERT(size > 1024);
    /* the middle of the data pages: must be reported, naming the file */
    long musts[] = {(long)(size / 4), (long)(size / 3), (long)(size / 2)};
    for (size_t i = 0; i < sizeof(musts) / sizeof(musts[0]); i++) {
        st_test_copy_dir(tmpl, dir);
        st_lsm_flip(path, musts[i], 0x20);
        char *report = NULL;
        int rc = strata_check(dir, &report);
        if (rc != STRATA_CORRUPT || !report || !strstr(report, name) ||
            !strstr(strstr(report, name), "PROBLEM"))
            ST_FAIL("flip at %ld of %s (%lld bytes): strata_check returned %s; report:\n%s",
                    musts[i], name, size, strata_errstr(rc), report ? report : "(none)");
        ST_ASSERT(strstr(strata_errmsg(NULL), dir) != NULL);
        strata_free(report);
        read_after_flip(dir, c.m, &c.rng, 1, musts[i]);
    }
    /* a sampled sweep over the whole file: the manifest holds the table's whole-file checksum,
     * so every flip, footer included, must be reported; reads then fail cleanly or are right */
    int samples = (int)scaled(48), reported = 0;
    for (int s = 0; s < samples; s++) {
        long off = s < 8 ? (long)(size - 1 - s) : (long)st_rng_uniform(&c.rng, (uint64_t)size);
        st_test_copy_dir(tmpl, dir);
        st_lsm_flip(path, off, 1 << st_rng_uniform(&c.rng, 8));
        int rc = strata_check(dir, NULL);
        if (rc != STRATA_OK && rc != STRATA_CORRUPT)
            ST_FAIL("flip at %ld: strata_check returned %s", off, strata_errstr(rc));
        reported += rc == STRATA_CORRUPT;
        read_after_flip(dir, c.m, &c.rng, rc == STRATA_CORRUPT, off);
    }
    fprintf(stderr, "byte flips in %s: %d of %d sampled flips reported by strata_check\n", name,
            reported, samples);
    ST_ASSERT_EQ(reported, samples);
    st_model_free(c.m);
    st_test_rmrf(dir);
    st_test_rmrf(tmpl);
    st_free(dir);
    st_free(tmpl);
}

int
main(void)
{
    ST_RUN(test_flush_produces_tables);
    ST_RUN(test_reads_snapshots_iterators);
    ST_RUN(test_reads_snapshots_iterators_trie_snappy);
    ST_RUN(test_iterator_moves_to_fresh_sources);
    ST_RUN(test_tombstones_and_snapshots);
    ST_RUN(test_bottom_sequence_zero);
    ST_RUN(test_compact_range);
    ST_RUN(test_read_triggered_compaction);
    ST_RUN(test_odd_entries_and_edges);
    ST_RUN(test_reopen_removes_obsolete_files);
    ST_RUN(test_repair_lost_manifest);
    ST_RUN(test_corrupt_table);
    ST_RUN(test_compact_range_during_background_compactions);
    ST_RUN(test_repair_after_partial_input_deletion);
    ST_RUN(test_codec_profile);
    return st_test_done();
}
