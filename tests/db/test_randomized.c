/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_randomized.c -- random operation sequences (put, delete, range delete, batch, get, iterate,
 * bounded iterate, long-lived iterators, snapshot, flush, range compaction, reopen) checked
 * against the
 * st_model oracle, over an options matrix (memtable skiplist/trie x compression none/zstd, 64 KiB
 * write buffers so flushes happen often). Seeded by st_test_seed() (replay with ST_SEED=<n>), sized
 * by st_test_scale().
 */
#include "db_check.h"
#include "st_test.h"
#include "util/alloc.h"

#define MAX_SNAPS 4

typedef struct rt_state {
    st_rng rng;
    strata_db *db;
    st_model *model;
    const strata_snapshot *snaps[MAX_SNAPS];
    st_model *snap_models[MAX_SNAPS];
    unsigned char **pool; /* candidate keys */
    size_t *pool_len;
    size_t npool;
    strata_iter *held;    /* a long-lived iterator, or NULL */
    st_model *held_model; /* the state it must show */
    int can_flush;
    long stats[10];
} rt_state;

enum { S_PUT, S_DEL, S_BATCH, S_GET, S_ITER, S_SNAP, S_FLUSH, S_REOPEN, S_COMPACT, S_RDEL };

/* Keys over a tiny alphabet (including NUL and 0xff) so that prefixes, embedded NULs and
 * equal-prefix runs are common; a few long keys. */
static void
make_pool(rt_state *s, size_t n)
{
    static const unsigned char alpha[] = {0x00, 'a', 'b', 'c', 0xff};
    s->pool = st_malloc(n * sizeof(*s->pool));
    s->pool_len = st_malloc(n * sizeof(*s->pool_len));
    ST_ASSERT(s->pool && s->pool_len);
    for (size_t i = 0; i < n; i++) {
        size_t len = 1 + st_rng_uniform(&s->rng, 10);
        if (st_rng_uniform(&s->rng, 50) == 0)
            len = 100 + st_rng_uniform(&s->rng, 2000);
        s->pool[i] = st_malloc(len);
        ST_ASSERT(s->pool[i]);
        for (size_t j = 0; j < len; j++)
            s->pool[i][j] = alpha[st_rng_uniform(&s->rng, sizeof(alpha))];
        s->pool_len[i] = len;
    }
    s->npool = n;
}

static void
free_pool(rt_state *s)
{
    for (size_t i = 0; i < s->npool; i++)
        st_free(s->pool[i]);
    st_free(s->pool);
    st_free(s->pool_len);
}

static size_t
pick_key(rt_state *s, const unsigned char **k)
{
    size_t i = st_rng_uniform(&s->rng, s->npool);
    *k = s->pool[i];
    return s->pool_len[i];
}

/* A random value of 0..~300 bytes (sometimes a few KiB) in buf; returns its length. */
static size_t
make_value(rt_state *s, unsigned char *buf, size_t cap)
{
    size_t len = st_rng_uniform(&s->rng, 300);
    if (st_rng_uniform(&s->rng, 20) == 0)
        len = st_rng_uniform(&s->rng, cap);
    if (st_rng_uniform(&s->rng, 10) == 0)
        len = 0;
    uint64_t x = st_rng_next(&s->rng);
    for (size_t i = 0; i < len; i++)
        buf[i] = (unsigned char)((x >> ((i % 8) * 8)) + i);
    return len;
}

/* A random range [*b, *e) of pool keys, begin < end: narrow mostly (a shared prefix), sometimes
 * wide. Returns 0 when the two picks are equal. */
static int
pick_range(rt_state *s, const unsigned char **b, size_t *bl, const unsigned char **e, size_t *el)
{
    *bl = pick_key(s, b);
    *el = pick_key(s, e);
    if (st_rng_uniform(&s->rng, 3) != 0 && *bl > 0) {
        /* [the first two bytes of k, k): narrow, keys sharing a short prefix */
        *e = *b;
        *el = *bl > 2 ? 2 : *bl;
    }
    int c = st_model_keycmp(*b, *bl, *e, *el);
    if (c > 0) {
        const unsigned char *t = *b;
        size_t tl = *bl;
        *b = *e, *bl = *el, *e = t, *el = tl;
    }
    return c != 0;
}

static void
close_held(rt_state *s)
{
    strata_iter_close(s->held);
    st_model_free(s->held_model);
    s->held = NULL;
    s->held_model = NULL;
}

static void
release_snaps(rt_state *s)
{
    close_held(s);
    for (int i = 0; i < MAX_SNAPS; i++) {
        if (s->snaps[i]) {
            strata_snapshot_release(s->db, s->snaps[i]);
            st_model_free(s->snap_models[i]);
            s->snaps[i] = NULL;
            s->snap_models[i] = NULL;
        }
    }
}

/* Iterate with random bounds; compare against the slice [lo, hi) of the model. */
static void
check_bounded(rt_state *s, const strata_read_options *base, const st_model *m)
{
    const unsigned char *lo, *hi;
    size_t lol = pick_key(s, &lo), hil = pick_key(s, &hi);
    if (st_model_keycmp(lo, lol, hi, hil) > 0) {
        const unsigned char *t = lo;
        size_t tl = lol;
        lo = hi;
        lol = hil;
        hi = t;
        hil = tl;
    }
    int use_lo = st_rng_uniform(&s->rng, 4) != 0, use_hi = st_rng_uniform(&s->rng, 4) != 0;
    st_model *slice = st_model_new();
    size_t from = use_lo ? st_model_lower_bound(m, lo, lol) : 0;
    size_t to = use_hi ? st_model_lower_bound(m, hi, hil) : st_model_count(m);
    for (size_t i = from; i < to; i++) {
        const void *k, *v;
        size_t kl, vl;
        st_model_at(m, i, &k, &kl, &v, &vl);
        st_model_put(slice, k, kl, v, vl);
    }
    strata_read_options ro = *base;
    if (use_lo) {
        ro.lower_bound = lo;
        ro.lower_bound_len = lol;
    }
    if (use_hi) {
        ro.upper_bound = hi;
        ro.upper_bound_len = hil;
    }
    st_dbc_check_iter(s->db, &ro, slice, &s->rng, 10);
    st_model_free(slice);
}

static void
reopen(rt_state *s, const char *dir, const strata_options *o)
{
    release_snaps(s);
    ST_ASSERT_OK(strata_close(s->db));
    s->db = st_dbc_open(dir, o);
    strata_read_options ro;
    strata_read_options_init(&ro);
    st_dbc_check_iter(s->db, &ro, s->model, &s->rng, 20);
    st_dbc_check_all_gets(s->db, NULL, s->model);
}

static void
do_batch(rt_state *s, unsigned char *vbuf, size_t vcap)
{
    strata_batch *b = strata_batch_new();
    ST_ASSERT(b != NULL);
    int n = 1 + (int)st_rng_uniform(&s->rng, 20);
    /* apply to a copy first: the batch is atomic, so the model changes only on success */
    st_model *next = st_model_clone(s->model);
    for (int i = 0; i < n; i++) {
        const unsigned char *k;
        size_t kl = pick_key(s, &k);
        const unsigned char *rb, *re;
        size_t bl, el;
        if (st_rng_uniform(&s->rng, 10) == 0 && pick_range(s, &rb, &bl, &re, &el)) {
            ST_ASSERT_OK(strata_batch_delete_range(b, rb, bl, re, el));
            st_model_delete_range(next, rb, bl, re, el);
        } else if (st_rng_uniform(&s->rng, 4) == 0) {
            ST_ASSERT_OK(strata_batch_delete(b, k, kl));
            st_model_delete(next, k, kl);
        } else {
            size_t vl = make_value(s, vbuf, vcap);
            ST_ASSERT_OK(strata_batch_put(b, k, kl, vbuf, vl));
            st_model_put(next, k, kl, vbuf, vl);
        }
    }
    ST_ASSERT_EQ(strata_batch_count(b), n);
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = st_rng_uniform(&s->rng, 8) == 0;
    ST_ASSERT_OK(strata_write(s->db, &wo, b));
    strata_batch_free(b);
    st_model_free(s->model);
    s->model = next;
}

static void
do_snapshot_op(rt_state *s)
{
    int i = (int)st_rng_uniform(&s->rng, MAX_SNAPS);
    if (!s->snaps[i]) {
        s->snaps[i] = strata_snapshot_get(s->db);
        ST_ASSERT(s->snaps[i] != NULL);
        s->snap_models[i] = st_model_clone(s->model);
        return;
    }
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.snapshot = s->snaps[i];
    for (int j = 0; j < 10; j++) {
        const unsigned char *k;
        size_t kl = pick_key(s, &k);
        st_dbc_check_get(s->db, &ro, s->snap_models[i], k, kl);
    }
    if (st_rng_uniform(&s->rng, 2))
        st_dbc_check_iter(s->db, &ro, s->snap_models[i], &s->rng, 10);
    else
        check_bounded(s, &ro, s->snap_models[i]);
    if (st_rng_uniform(&s->rng, 2)) {
        strata_snapshot_release(s->db, s->snaps[i]);
        st_model_free(s->snap_models[i]);
        s->snaps[i] = NULL;
        s->snap_models[i] = NULL;
    }
}

static int max_open_files = 1000; /* of the next run_config */

static void
run_config(const char *name, int memtable, int compression, uint64_t seed, long nops)
{
    fprintf(stderr, "config %s: memtable=%d compression=%d max_open_files=%d ops=%ld\n", name,
            memtable, compression, max_open_files, nops);
    char *dir = st_test_tmpdir("rand");
    strata_options o;
    strata_options_init(&o);
    o.memtable_kind = memtable;
    o.compression = o.bottommost_compression = compression; /* every table the same codec */
    o.write_buffer_size = 64 * 1024;
    o.block_cache_size = 256 * 1024;
    o.page_size = 1024;
    o.target_file_size = 256 * 1024;
    o.max_open_files = max_open_files;
    rt_state s;
    memset(&s, 0, sizeof(s));
    st_rng_seed(&s.rng, seed);
    int rc = strata_open(dir, &o, &s.db);
    if (memtable == STRATA_MEMTABLE_TRIE && (rc == STRATA_INVALID || rc == STRATA_NOTSUP)) {
        fprintf(stderr, "note: config %s skipped: trie memtable not available (%s: %s)\n", name,
                strata_errstr(rc), strata_errmsg(NULL));
        st_test_rmrf(dir);
        st_free(dir);
        return;
    }
    if (rc != STRATA_OK)
        ST_FAIL("open %s: %s (%s)", dir, strata_errstr(rc), strata_errmsg(NULL));
    s.model = st_model_new();
    make_pool(&s, 300 + st_rng_uniform(&s.rng, 300));
    s.can_flush = 1;
    size_t vcap = 8192;
    unsigned char *vbuf = st_malloc(vcap);
    ST_ASSERT(vbuf != NULL);
    for (long op = 0; op < nops; op++) {
        uint64_t r = st_rng_uniform(&s.rng, 1000);
        const unsigned char *k;
        size_t kl = pick_key(&s, &k);
        const unsigned char *rb, *re;
        size_t bl, el;
        if (r < 25 && pick_range(&s, &rb, &bl, &re, &el)) {
            ST_ASSERT_OK(strata_delete_range(s.db, NULL, rb, bl, re, el));
            st_model_delete_range(s.model, rb, bl, re, el);
            s.stats[S_RDEL]++;
        } else if (r < 400) {
            size_t vl = make_value(&s, vbuf, vcap);
            ST_ASSERT_OK(strata_put(s.db, NULL, k, kl, vbuf, vl));
            st_model_put(s.model, k, kl, vbuf, vl);
            s.stats[S_PUT]++;
        } else if (r < 550) {
            ST_ASSERT_OK(strata_delete(s.db, NULL, k, kl));
            st_model_delete(s.model, k, kl);
            s.stats[S_DEL]++;
        } else if (r < 650) {
            do_batch(&s, vbuf, vcap);
            s.stats[S_BATCH]++;
        } else if (r < 900) {
            st_dbc_check_get(s.db, NULL, s.model, k, kl);
            s.stats[S_GET]++;
        } else if (r < 925) {
            strata_read_options ro;
            strata_read_options_init(&ro);
            if (s.held) {
                /* an iterator opened many operations ago still shows its point in time */
                st_dbc_check_open_iter(s.held, s.held_model, &s.rng, 10);
                close_held(&s);
            } else if (st_rng_uniform(&s.rng, 3) == 0) {
                ST_ASSERT_OK(strata_iter_open(s.db, &ro, &s.held));
                s.held_model = st_model_clone(s.model);
            } else if (st_rng_uniform(&s.rng, 2)) {
                st_dbc_check_iter(s.db, &ro, s.model, &s.rng, 10);
            } else {
                check_bounded(&s, &ro, s.model);
            }
            s.stats[S_ITER]++;
        } else if (r < 985) {
            do_snapshot_op(&s);
            s.stats[S_SNAP]++;
        } else if (r < 995) {
            if (s.can_flush) {
                if (st_rng_uniform(&s.rng, 3) == 0) {
                    /* compact a random range (either end may be open) */
                    const unsigned char *lo, *hi;
                    size_t lol = pick_key(&s, &lo), hil = pick_key(&s, &hi);
                    if (st_model_keycmp(lo, lol, hi, hil) > 0) {
                        const unsigned char *t = lo;
                        size_t tl = lol;
                        lo = hi, lol = hil, hi = t, hil = tl;
                    }
                    int open_lo = st_rng_uniform(&s.rng, 4) == 0;
                    int open_hi = st_rng_uniform(&s.rng, 4) == 0;
                    rc = strata_compact_range(s.db, open_lo ? NULL : lo, open_lo ? 0 : lol,
                                              open_hi ? NULL : hi, open_hi ? 0 : hil);
                    s.stats[S_COMPACT]++;
                } else {
                    rc = strata_flush(s.db);
                    s.stats[S_FLUSH]++;
                }
                if (rc == STRATA_NOTSUP) {
                    fprintf(stderr, "note: flush/compaction NOTSUP; none explicitly\n");
                    s.can_flush = 0;
                } else {
                    ST_ASSERT_OK(rc);
                }
            }
        } else {
            reopen(&s, dir, &o);
            s.stats[S_REOPEN]++;
        }
    }
    strata_read_options ro;
    strata_read_options_init(&ro);
    st_dbc_check_iter(s.db, &ro, s.model, &s.rng, 50);
    reopen(&s, dir, &o);
    ST_ASSERT_OK(strata_close(s.db));
    fprintf(stderr,
            "config %s: %ld puts %ld deletes %ld range deletes %ld batches %ld gets %ld scans %ld "
            "snapshot ops %ld flushes %ld compactions %ld reopens, %zu keys at the end\n",
            name, s.stats[S_PUT], s.stats[S_DEL], s.stats[S_RDEL], s.stats[S_BATCH], s.stats[S_GET],
            s.stats[S_ITER], s.stats[S_SNAP], s.stats[S_FLUSH], s.stats[S_COMPACT],
            s.stats[S_REOPEN] + 1, st_model_count(s.model));
    st_free(vbuf);
    free_pool(&s);
    st_model_free(s.model);
    st_test_rmrf(dir);
    st_free(dir);
}

static long
nops(void)
{
    long n = (long)(8000 * st_test_scale());
    return n < 200 ? 200 : n;
}

static void
test_skiplist_none(void)
{
    run_config("skiplist/none", STRATA_MEMTABLE_SKIPLIST, STRATA_COMPRESSION_NONE, st_test_seed(),
               nops());
}

static void
test_skiplist_zstd(void)
{
    run_config("skiplist/zstd", STRATA_MEMTABLE_SKIPLIST, STRATA_COMPRESSION_ZSTD,
               st_test_seed() + 1, nops());
}

static void
test_trie_none(void)
{
    run_config("trie/none", STRATA_MEMTABLE_TRIE, STRATA_COMPRESSION_NONE, st_test_seed() + 2,
               nops());
}

static void
test_trie_zstd(void)
{
    run_config("trie/zstd", STRATA_MEMTABLE_TRIE, STRATA_COMPRESSION_ZSTD, st_test_seed() + 3,
               nops());
}

static void
test_skiplist_two_open_files(void)
{
    /* every read and compaction reopens tables the cache of 2 readers just closed */
    max_open_files = 2;
    run_config("skiplist/zstd/2 open files", STRATA_MEMTABLE_SKIPLIST, STRATA_COMPRESSION_ZSTD,
               st_test_seed() + 4, nops());
    max_open_files = 1000;
}

int
main(void)
{
    ST_RUN(test_skiplist_two_open_files);
    ST_RUN(test_skiplist_none);
    ST_RUN(test_skiplist_zstd);
    ST_RUN(test_trie_none);
    ST_RUN(test_trie_zstd);
    return st_test_done();
}
