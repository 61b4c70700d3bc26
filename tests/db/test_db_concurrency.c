/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_db_concurrency.c -- many threads on one database (label: concurrency; runs under TSan).
 *
 * Writers: each owns K keys "w<w>-k<j>" and repeatedly writes a batch setting all of them to
 * "<w>:<round>" (+ padding), then a single put of its progress key "p<w>" = round. Writers 0 and
 * 1 write with sync=1, so concurrent syncs exercise group commit. A maintenance thread flushes
 * (and every 4th time compacts everything) from time to time (64 KiB write buffers flush on their
 * own too). Readers: snapshots (gets under the snapshot), iterators (full scans) and plain gets.
 * Every view must show each writer's K keys at one round (batches are atomic), the progress key may
 * not be ahead of the batch it follows, and the rounds one reader sees never go back (snapshots,
 * iterators and reads are monotonic). At the end every last write is present, also after a
 * reopen. Sized by st_test_scale().
 */
#include "db_check.h"
#include "st_test.h"
#include "util/alloc.h"

#include <pthread.h>
#include <stdatomic.h>

#define NWRITERS 4
#define NREADERS 3
#define KPERW 5
#define PAD 120

typedef struct shared {
    strata_db *db;
    long rounds;
    atomic_int writers_left;
    atomic_long reads, snapshots, scans, flushes;
} shared;

typedef struct wctx {
    shared *sh;
    int w;
} wctx;

static size_t
wkey(int w, int j, char *buf)
{
    return (size_t)(j < 0 ? snprintf(buf, 16, "p%02d", w) : snprintf(buf, 16, "w%02d-k%02d", w, j));
}

static size_t
wval(int w, long round, char *buf)
{
    int n = snprintf(buf, 32, "%d:%08ld|", w, round);
    memset(buf + n, 'a' + w, PAD);
    return (size_t)n + PAD;
}

/* Round encoded in a value of writer w (fails the test on a malformed value). */
static long
parse_round(int w, const void *v, size_t vl)
{
    char tmp[32];
    size_t n = vl < sizeof(tmp) - 1 ? vl : sizeof(tmp) - 1;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    int vw = -1;
    long round = -1;
    if (sscanf(tmp, "%d:%ld|", &vw, &round) != 2 || vw != w || round < 0)
        ST_FAIL("malformed value for writer %d: %.*s", w, (int)n, tmp);
    char want[32 + PAD];
    size_t wl = wval(w, round, want);
    if (wl != vl || memcmp(want, v, vl) != 0)
        ST_FAIL("value of writer %d round %ld is damaged", w, round);
    return round;
}

static void *
writer_main(void *arg)
{
    wctx *c = arg;
    shared *sh = c->sh;
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = c->w < 2;
    strata_batch *b = strata_batch_new();
    ST_ASSERT(b != NULL);
    char k[16], v[32 + PAD];
    for (long r = 0; r < sh->rounds; r++) {
        strata_batch_clear(b);
        size_t vl = wval(c->w, r, v);
        for (int j = 0; j < KPERW; j++) {
            size_t kl = wkey(c->w, j, k);
            ST_ASSERT_OK(strata_batch_put(b, k, kl, v, vl));
        }
        ST_ASSERT_OK(strata_write(sh->db, &wo, b));
        size_t kl = wkey(c->w, -1, k);
        ST_ASSERT_OK(strata_put(sh->db, &wo, k, kl, v, vl));
    }
    strata_batch_free(b);
    atomic_fetch_sub(&sh->writers_left, 1);
    return NULL;
}

/* Read writer w's keys (and its progress key) under ro; returns the batch round, -1 if none
 * yet; checks that the batch is complete and progress <= batch round. */
static long
read_writer(strata_db *db, const strata_read_options *ro, int w)
{
    long round = -2;
    char k[16];
    for (int j = 0; j < KPERW; j++) {
        size_t kl = wkey(w, j, k);
        void *v = NULL;
        size_t vl = 0;
        int rc = strata_get(db, ro, k, kl, &v, &vl);
        long r = -1;
        if (rc == STRATA_OK)
            r = parse_round(w, v, vl);
        else
            ST_ASSERT_RC(rc, STRATA_NOTFOUND);
        strata_free(v);
        if (round != -2 && r != round)
            ST_FAIL("snapshot shows writer %d's batch torn: key %d at round %ld, key 0 at %ld", w,
                    j, r, round);
        round = r;
    }
    size_t kl = wkey(w, -1, k);
    void *v = NULL;
    size_t vl = 0;
    int rc = strata_get(db, ro, k, kl, &v, &vl);
    if (rc == STRATA_OK) {
        long p = parse_round(w, v, vl);
        if (p > round)
            ST_FAIL("writer %d: progress key at round %ld but its batch only at %ld", w, p, round);
    } else {
        ST_ASSERT_RC(rc, STRATA_NOTFOUND);
    }
    strata_free(v);
    return round;
}

static void
monotonic(long *seen, int w, long now, const char *what)
{
    if (now < seen[w])
        ST_FAIL("%s went back in time: writer %d round %ld after %ld", what, w, now, seen[w]);
    seen[w] = now;
}

/* Full scan: every writer's keys at one round. */
static void
scan_check(strata_db *db, long *seen)
{
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(db, NULL, &it));
    long rounds[NWRITERS];
    int count[NWRITERS] = {0};
    for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it)) {
        size_t kl, vl;
        const char *k = strata_iter_key(it, &kl);
        const void *v = strata_iter_value(it, &vl);
        if (k[0] != 'w')
            continue;
        int w = (k[1] - '0') * 10 + (k[2] - '0');
        ST_ASSERT(w >= 0 && w < NWRITERS);
        long r = parse_round(w, v, vl);
        if (count[w] && r != rounds[w])
            ST_FAIL("iterator shows writer %d's batch torn (rounds %ld and %ld)", w, r, rounds[w]);
        rounds[w] = r;
        count[w]++;
    }
    ST_ASSERT_OK(strata_iter_status(it));
    strata_iter_close(it);
    for (int w = 0; w < NWRITERS; w++) {
        if (count[w] != 0 && count[w] != KPERW)
            ST_FAIL("iterator shows %d of writer %d's %d keys", count[w], w, KPERW);
        monotonic(seen, w, count[w] ? rounds[w] : -1, "iterator");
    }
}

static void *
reader_main(void *arg)
{
    wctx *c = arg;
    shared *sh = c->sh;
    long snap_seen[NWRITERS], scan_seen[NWRITERS], get_seen[NWRITERS];
    for (int w = 0; w < NWRITERS; w++)
        snap_seen[w] = scan_seen[w] = get_seen[w] = -1;
    uint64_t last_seq = 0;
    for (long i = 0; atomic_load(&sh->writers_left) > 0 || i < 3; i++) {
        switch ((i + c->w) % 3) {
        case 0: {
            const strata_snapshot *s = strata_snapshot_get(sh->db);
            ST_ASSERT(s != NULL);
            uint64_t seq = strata_snapshot_sequence(s);
            ST_ASSERT(seq >= last_seq);
            last_seq = seq;
            strata_read_options ro;
            strata_read_options_init(&ro);
            ro.snapshot = s;
            for (int w = 0; w < NWRITERS; w++)
                monotonic(snap_seen, w, read_writer(sh->db, &ro, w), "snapshot");
            strata_snapshot_release(sh->db, s);
            atomic_fetch_add(&sh->snapshots, 1);
            break;
        }
        case 1:
            scan_check(sh->db, scan_seen);
            atomic_fetch_add(&sh->scans, 1);
            break;
        default:
            for (int w = 0; w < NWRITERS; w++) {
                char k[16];
                size_t kl = wkey(w, (int)(i % KPERW), k);
                void *v = NULL;
                size_t vl = 0;
                int rc = strata_get(sh->db, NULL, k, kl, &v, &vl);
                long r = -1;
                if (rc == STRATA_OK)
                    r = parse_round(w, v, vl);
                else
                    ST_ASSERT_RC(rc, STRATA_NOTFOUND);
                strata_free(v);
                /* a plain get of any of w's keys can't be older than one seen before: every
                 * key of w moves together */
                monotonic(get_seen, w, r, "get");
            }
            atomic_fetch_add(&sh->reads, 1);
            break;
        }
    }
    return NULL;
}

static void *
flusher_main(void *arg)
{
    shared *sh = arg;
    int can_flush = 1;
    for (int i = 0; atomic_load(&sh->writers_left) > 0 && can_flush; i++) {
        int rc = i % 4 == 3 ? strata_compact_range(sh->db, NULL, 0, NULL, 0) : strata_flush(sh->db);
        if (rc == STRATA_NOTSUP) {
            can_flush = 0;
        } else {
            ST_ASSERT_OK(rc);
            atomic_fetch_add(&sh->flushes, 1);
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void
check_final(strata_db *db, long rounds)
{
    strata_read_options ro;
    strata_read_options_init(&ro);
    for (int w = 0; w < NWRITERS; w++)
        ST_ASSERT_EQ(read_writer(db, &ro, w), rounds - 1);
}

static void
test_concurrent_readers_writers(void)
{
    char *dir = st_test_tmpdir("db_conc");
    strata_options o;
    strata_options_init(&o);
    o.write_buffer_size = 64 * 1024;
    o.block_cache_size = 512 * 1024;
    shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.db = st_dbc_open(dir, &o);
    sh.rounds = (long)(1500 * st_test_scale());
    if (sh.rounds < 50)
        sh.rounds = 50;
    atomic_init(&sh.writers_left, NWRITERS);
    pthread_t wt[NWRITERS], rt[NREADERS], ft;
    wctx wc[NWRITERS], rc[NREADERS];
    for (int i = 0; i < NWRITERS; i++) {
        wc[i] = (wctx){&sh, i};
        ST_ASSERT(pthread_create(&wt[i], NULL, writer_main, &wc[i]) == 0);
    }
    for (int i = 0; i < NREADERS; i++) {
        rc[i] = (wctx){&sh, i};
        ST_ASSERT(pthread_create(&rt[i], NULL, reader_main, &rc[i]) == 0);
    }
    ST_ASSERT(pthread_create(&ft, NULL, flusher_main, &sh) == 0);
    for (int i = 0; i < NWRITERS; i++)
        ST_ASSERT(pthread_join(wt[i], NULL) == 0);
    for (int i = 0; i < NREADERS; i++)
        ST_ASSERT(pthread_join(rt[i], NULL) == 0);
    ST_ASSERT(pthread_join(ft, NULL) == 0);
    fprintf(stderr,
            "%d writers x %ld rounds; readers did %ld snapshot checks, %ld scans, %ld get "
            "rounds; %ld explicit flushes/compactions\n",
            NWRITERS, sh.rounds, atomic_load(&sh.snapshots), atomic_load(&sh.scans),
            atomic_load(&sh.reads), atomic_load(&sh.flushes));
    check_final(sh.db, sh.rounds);
    ST_ASSERT_OK(strata_close(sh.db));
    strata_db *db = st_dbc_open(dir, &o);
    check_final(db, sh.rounds);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

/* Many threads doing sync single puts of disjoint keys at once (group commit): all present. */
static void *
sync_putter(void *arg)
{
    wctx *c = arg;
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = 1;
    char k[32], v[32];
    for (long i = 0; i < c->sh->rounds; i++) {
        snprintf(k, sizeof(k), "t%02d-%06ld", c->w, i);
        snprintf(v, sizeof(v), "%ld", i * 7 + c->w);
        ST_ASSERT_OK(strata_put(c->sh->db, &wo, k, strlen(k), v, strlen(v)));
    }
    return NULL;
}

static void
test_group_commit(void)
{
    enum { NT = 8 };
    char *dir = st_test_tmpdir("db_gc");
    strata_options o;
    strata_options_init(&o);
    shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.db = st_dbc_open(dir, &o);
    sh.rounds = (long)(200 * st_test_scale());
    if (sh.rounds < 20)
        sh.rounds = 20;
    pthread_t th[NT];
    wctx c[NT];
    for (int i = 0; i < NT; i++) {
        c[i] = (wctx){&sh, i};
        ST_ASSERT(pthread_create(&th[i], NULL, sync_putter, &c[i]) == 0);
    }
    for (int i = 0; i < NT; i++)
        ST_ASSERT(pthread_join(th[i], NULL) == 0);
    for (int pass = 0; pass < 2; pass++) {
        st_model *m = st_model_new();
        char k[32], v[32];
        for (int t = 0; t < NT; t++) {
            for (long i = 0; i < sh.rounds; i++) {
                snprintf(k, sizeof(k), "t%02d-%06ld", t, i);
                snprintf(v, sizeof(v), "%ld", i * 7 + t);
                st_model_put(m, k, strlen(k), v, strlen(v));
            }
        }
        st_rng rng;
        st_rng_seed(&rng, st_test_seed());
        st_dbc_check_iter(sh.db, NULL, m, &rng, 50);
        st_model_free(m);
        ST_ASSERT_OK(strata_close(sh.db));
        if (pass == 0)
            sh.db = st_dbc_open(dir, &o);
    }
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_concurrent_readers_writers);
    ST_RUN(test_group_commit);
    return st_test_done();
}
