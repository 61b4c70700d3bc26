/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_lsm_concurrency.c -- readers, iterators and snapshots while flushes and compactions change
 * the version underneath (label: concurrency; runs under TSan).
 *
 * 64 KiB memtables and 64 KiB compaction outputs (lsm_util.h) make the memtable rotate every few
 * rounds; a maintenance thread adds strata_flush and strata_compact_range calls (full and random
 * ranges).
 *
 * Writers: writer w owns KPW keys "k<j>-w<w>" (interleaved with the other writers' keys, so every
 * table holds all writers) and a progress key "p-w<w>". Round r is ONE batch that sets the
 * progress key to r and, for each j, puts value(w, r, j) or deletes the key when gone(w, r, j).
 * So any consistent view shows, per writer, exactly the state after some round R: key j present
 * with value(w, R, j) iff !gone(w, R, j).
 *
 * Readers, in turns:
 *   - iterator: open, wait a little (versions change), scan forwards (the view must be one round
 *     per writer, never older than what this reader saw before), scan backwards (must be the
 *     exact reverse), seek to every collected key (lands on it);
 *   - snapshot: take one, read every key with gets (a consistent view), wait, then an iterator
 *     on the same snapshot must show the identical view;
 * At the end every writer's last round is visible, also after a reopen; strata_check passes.
 * Runs with the default 2 background threads / 4 immutable memtables, and with 1 / 1 (every
 * rotation stalls the writers while the only worker may be busy compacting).
 * Sized by st_test_scale().
 *
 * test_wait_idle_settles: on a disk whose file removals are slow, strata_wait_idle returns only
 * when no background work is running or due: the table set then stays as it is.
 *
 * test_reads_during_slow_rotation: gets go on while memtable rotation waits for the disk.
 */
#include "db/db.h"
#include "db_check.h"
#include "fault_env.h"
#include "lsm_util.h"
#include "st_test.h"
#include "util/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#define NW 4
#define NR 3
#define KPW 40
#define VMAX 200
#define NKEYS (NW * (KPW + 1))

typedef struct shared {
    strata_db *db;
    long rounds;
    atomic_int writers_left;
    atomic_long iter_views, snap_views, flushes, compactions;
} shared;

static int
gone(int w, long r, int j)
{
    uint64_t x =
        (uint64_t)r * 0x9e3779b97f4a7c15ull ^ (uint64_t)(w * 131 + j) * 0xbf58476d1ce4e5b9ull;
    x ^= x >> 29;
    return x % 4 == 0;
}

static size_t
key_of(int w, int j, char *buf)
{
    return (size_t)(j < 0 ? snprintf(buf, 16, "p-w%d", w) : snprintf(buf, 16, "k%04d-w%d", j, w));
}

static size_t
val_of(int w, long r, int j, char *buf)
{
    int n = snprintf(buf, 48, "w%dr%ldj%d|", w, r, j);
    size_t pad = 40 + (size_t)((r * 7 + j * 13 + w) % 120);
    for (size_t i = 0; i < pad; i++)
        buf[n + (int)i] = (char)('a' + (r + (long)i * (j + 3)) % 26);
    return (size_t)n + pad;
}

static void
micro_pause(long us)
{
    struct timespec ts = {0, us * 1000};
    nanosleep(&ts, NULL);
}

/* ---- views ------------------------------------------------------------------------------- */

typedef struct view {
    int n;
    char key[NKEYS][16];
    size_t klen[NKEYS];
    char val[NKEYS][VMAX];
    size_t vlen[NKEYS];
} view;

static void
view_add(view *v, const void *k, size_t kl, const void *val, size_t vl)
{
    if (v->n >= NKEYS || kl >= 16 || vl > VMAX)
        ST_FAIL("unexpected entry (view has %d entries, key %zu bytes, value %zu bytes)", v->n, kl,
                vl);
    memcpy(v->key[v->n], k, kl);
    v->klen[v->n] = kl;
    memcpy(v->val[v->n], val, vl);
    v->vlen[v->n] = vl;
    v->n++;
}

static int
view_find(const view *v, const char *k, size_t kl)
{
    for (int i = 0; i < v->n; i++)
        if (v->klen[i] == kl && memcmp(v->key[i], k, kl) == 0)
            return i;
    return -1;
}

/* The view must be the state after one round R[w] per writer, R[w] >= seen[w]; updates seen.
 * Returns the rounds in R. */
static void
view_check(const view *v, long *seen, const char *what)
{
    for (int i = 1; i < v->n; i++)
        if (st_model_keycmp(v->key[i - 1], v->klen[i - 1], v->key[i], v->klen[i]) >= 0)
            ST_FAIL("%s: keys out of order at %d", what, i);
    int accounted = 0;
    char k[16], want[VMAX];
    for (int w = 0; w < NW; w++) {
        size_t kl = key_of(w, -1, k);
        int p = view_find(v, k, kl);
        long r = -1;
        if (p >= 0) {
            char tmp[48];
            size_t n = v->vlen[p] < 47 ? v->vlen[p] : 47;
            memcpy(tmp, v->val[p], n);
            tmp[n] = '\0';
            int vw, vj;
            if (sscanf(tmp, "w%dr%ldj%d|", &vw, &r, &vj) != 3 || vw != w || vj != -1)
                ST_FAIL("%s: malformed progress value of writer %d", what, w);
            accounted++;
        }
        if (r < seen[w])
            ST_FAIL("%s: writer %d went back from round %ld to %ld", what, w, seen[w], r);
        seen[w] = r;
        if (p >= 0) {
            size_t wl = val_of(w, r, -1, want);
            ST_ASSERT_MEM_EQ(v->val[p], v->vlen[p], want, wl);
        }
        for (int j = 0; j < KPW; j++) {
            kl = key_of(w, j, k);
            int at = view_find(v, k, kl);
            int expect = r >= 0 && !gone(w, r, j);
            if ((at >= 0) != expect)
                ST_FAIL("%s: key %s is %s, but writer %d's round %ld %s it", what, k,
                        at >= 0 ? "present" : "absent", w, r, expect ? "put" : "deleted");
            if (at >= 0) {
                size_t wl = val_of(w, r, j, want);
                if (v->vlen[at] != wl || memcmp(v->val[at], want, wl) != 0)
                    ST_FAIL("%s: key %s does not hold round %ld's value (torn batch?)", what, k, r);
                accounted++;
            }
        }
    }
    if (accounted != v->n)
        ST_FAIL("%s: %d entries that no writer wrote", what, v->n - accounted);
}

static void
view_from_iter(strata_iter *it, view *v)
{
    v->n = 0;
    for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it)) {
        size_t kl, vl;
        const void *k = strata_iter_key(it, &kl);
        const void *val = strata_iter_value(it, &vl);
        view_add(v, k, kl, val, vl);
    }
    ST_ASSERT_OK(strata_iter_status(it));
}

static void
view_from_gets(strata_db *db, const strata_read_options *ro, view *v)
{
    /* in key order, so that the view compares like an iterator's */
    v->n = 0;
    char k[16];
    for (int j = 0; j <= KPW; j++)
        for (int w = 0; w < NW; w++) {
            size_t kl = key_of(w, j == KPW ? -1 : j, k);
            void *val = NULL;
            size_t vl = 0;
            int rc = strata_get(db, ro, k, kl, &val, &vl);
            if (rc == STRATA_OK)
                view_add(v, k, kl, val, vl);
            else
                ST_ASSERT_RC(rc, STRATA_NOTFOUND);
            strata_free(val);
        }
}

static void
view_equal(const view *a, const view *b, const char *what)
{
    if (a->n != b->n)
        ST_FAIL("%s: %d entries, then %d", what, a->n, b->n);
    for (int i = 0; i < a->n; i++) {
        ST_ASSERT_MEM_EQ(a->key[i], a->klen[i], b->key[i], b->klen[i]);
        ST_ASSERT_MEM_EQ(a->val[i], a->vlen[i], b->val[i], b->vlen[i]);
    }
}

/* ---- threads ----------------------------------------------------------------------------- */

static void *
writer_main(void *arg)
{
    shared *sh = ((void **)arg)[0];
    int w = (int)(intptr_t)((void **)arg)[1];
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = w < 2;
    strata_batch *b = strata_batch_new();
    ST_ASSERT(b != NULL);
    char k[16], v[VMAX];
    for (long r = 0; r < sh->rounds; r++) {
        strata_batch_clear(b);
        for (int j = -1; j < KPW; j++) {
            size_t kl = key_of(w, j, k);
            if (j >= 0 && gone(w, r, j)) {
                ST_ASSERT_OK(strata_batch_delete(b, k, kl));
            } else {
                size_t vl = val_of(w, r, j, v);
                ST_ASSERT_OK(strata_batch_put(b, k, kl, v, vl));
            }
        }
        ST_ASSERT_OK(strata_write(sh->db, &wo, b));
    }
    strata_batch_free(b);
    atomic_fetch_sub(&sh->writers_left, 1);
    return NULL;
}

typedef struct reader {
    shared *sh;
    uint64_t seed;
    view a, b; /* scratch */
} reader;

static void
iter_turn(reader *rd, st_rng *rng, long *seen)
{
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(rd->sh->db, NULL, &it));
    micro_pause((long)st_rng_uniform(rng, 2000)); /* flushes/compactions happen meanwhile */
    view_from_iter(it, &rd->a);
    view_check(&rd->a, seen, "iterator");
    /* backwards: the exact reverse */
    int i = rd->a.n - 1;
    for (strata_iter_seek_last(it); strata_iter_valid(it); strata_iter_prev(it), i--) {
        size_t kl, vl;
        const void *k = strata_iter_key(it, &kl);
        const void *v = strata_iter_value(it, &vl);
        ST_ASSERT(i >= 0);
        ST_ASSERT_MEM_EQ(k, kl, rd->a.key[i], rd->a.klen[i]);
        ST_ASSERT_MEM_EQ(v, vl, rd->a.val[i], rd->a.vlen[i]);
    }
    ST_ASSERT_OK(strata_iter_status(it));
    ST_ASSERT_EQ(i, -1);
    micro_pause((long)st_rng_uniform(rng, 500));
    for (int s = 0; s < rd->a.n; s += 1 + (int)st_rng_uniform(rng, 8)) {
        strata_iter_seek(it, rd->a.key[s], rd->a.klen[s]);
        ST_ASSERT(strata_iter_valid(it));
        size_t kl;
        const void *k = strata_iter_key(it, &kl);
        ST_ASSERT_MEM_EQ(k, kl, rd->a.key[s], rd->a.klen[s]);
    }
    strata_iter_close(it);
    atomic_fetch_add(&rd->sh->iter_views, 1);
}

static void
snapshot_turn(reader *rd, st_rng *rng, long *seen)
{
    const strata_snapshot *snap = strata_snapshot_get(rd->sh->db);
    ST_ASSERT(snap != NULL);
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.snapshot = snap;
    view_from_gets(rd->sh->db, &ro, &rd->a);
    view_check(&rd->a, seen, "snapshot gets");
    micro_pause((long)st_rng_uniform(rng, 3000));
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(rd->sh->db, &ro, &it));
    view_from_iter(it, &rd->b);
    strata_iter_close(it);
    view_equal(&rd->a, &rd->b, "the same snapshot read twice, versions apart");
    strata_snapshot_release(rd->sh->db, snap);
    atomic_fetch_add(&rd->sh->snap_views, 1);
}

static void *
reader_main(void *arg)
{
    reader *rd = arg;
    st_rng rng;
    st_rng_seed(&rng, rd->seed);
    long seen[NW];
    for (int w = 0; w < NW; w++)
        seen[w] = -1;
    while (atomic_load(&rd->sh->writers_left) > 0) {
        if (st_rng_uniform(&rng, 2))
            iter_turn(rd, &rng, seen);
        else
            snapshot_turn(rd, &rng, seen);
    }
    return NULL;
}

static void *
maint_main(void *arg)
{
    shared *sh = arg;
    st_rng rng;
    st_rng_seed(&rng, st_test_seed() + 77);
    for (long i = 0; atomic_load(&sh->writers_left) > 0; i++) {
        if (i % 3 == 2) {
            char a[16], z[16];
            int ja = (int)st_rng_uniform(&rng, KPW), jz = ja + (int)st_rng_uniform(&rng, KPW);
            size_t al = key_of(0, ja, a), zl = key_of(NW - 1, jz, z);
            int full = i % 9 == 8;
            ST_ASSERT_OK(full ? strata_compact_range(sh->db, NULL, 0, NULL, 0)
                              : strata_compact_range(sh->db, a, al, z, zl));
            atomic_fetch_add(&sh->compactions, 1);
        } else {
            ST_ASSERT_OK(strata_flush(sh->db));
            atomic_fetch_add(&sh->flushes, 1);
        }
        micro_pause(1000 + (long)st_rng_uniform(&rng, 4000));
    }
    return NULL;
}

static void
expect_final(strata_db *db, long rounds)
{
    long want[NW], seen[NW];
    for (int w = 0; w < NW; w++) {
        want[w] = rounds - 1;
        seen[w] = rounds - 1;
    }
    view *v = malloc(sizeof(*v));
    ST_ASSERT(v != NULL);
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(db, NULL, &it));
    view_from_iter(it, v);
    strata_iter_close(it);
    view_check(v, seen, "final scan");
    view_from_gets(db, NULL, v);
    view_check(v, seen, "final gets");
    for (int w = 0; w < NW; w++)
        ST_ASSERT_EQ(seen[w], want[w]);
    free(v);
}

static void
run(int background_threads, int max_imm)
{
    char *dir = st_test_tmpdir("lsm_conc");
    strata_options o = st_lsm_opts();
    o.background_threads = background_threads;
    o.max_immutable_memtables = max_imm;
    shared sh;
    memset(&sh, 0, sizeof(sh));
    sh.db = st_dbc_open(dir, &o);
    sh.rounds = (long)(800 * st_test_scale());
    if (sh.rounds < 40)
        sh.rounds = 40;
    atomic_init(&sh.writers_left, NW);
    pthread_t wt[NW], rt[NR], mt;
    void *wargs[NW][2];
    reader *rds = calloc(NR, sizeof(*rds));
    ST_ASSERT(rds != NULL);
    for (int w = 0; w < NW; w++) {
        wargs[w][0] = &sh;
        wargs[w][1] = (void *)(intptr_t)w;
        ST_ASSERT(pthread_create(&wt[w], NULL, writer_main, wargs[w]) == 0);
    }
    for (int r = 0; r < NR; r++) {
        rds[r].sh = &sh;
        rds[r].seed = st_test_seed() + (uint64_t)r;
        ST_ASSERT(pthread_create(&rt[r], NULL, reader_main, &rds[r]) == 0);
    }
    ST_ASSERT(pthread_create(&mt, NULL, maint_main, &sh) == 0);
    for (int w = 0; w < NW; w++)
        ST_ASSERT(pthread_join(wt[w], NULL) == 0);
    for (int r = 0; r < NR; r++)
        ST_ASSERT(pthread_join(rt[r], NULL) == 0);
    ST_ASSERT(pthread_join(mt, NULL) == 0);
    free(rds);
    ST_ASSERT_OK(strata_wait_idle(sh.db));
    char *stats = NULL;
    ST_ASSERT_OK(strata_property(sh.db, "strata.stats", &stats));
    long bg_flushes = 0, bg_compactions = 0;
    const char *f = strstr(stats, "flushes: ");
    const char *c = strstr(stats, "compactions: ");
    ST_ASSERT(f && sscanf(f, "flushes: %ld", &bg_flushes) == 1);
    ST_ASSERT(c && sscanf(c, "compactions: %ld", &bg_compactions) == 1);
    strata_free(stats);
    fprintf(stderr,
            "%d worker(s), %d immutable: %ld rounds x %d writers; %ld iterator views, %ld snapshot "
            "views; %ld flushes, %ld "
            "compactions (maintenance thread asked for %ld flushes, %ld compact_range)\n",
            background_threads, max_imm, sh.rounds, NW, atomic_load(&sh.iter_views),
            atomic_load(&sh.snap_views), bg_flushes, bg_compactions, atomic_load(&sh.flushes),
            atomic_load(&sh.compactions));
    ST_ASSERT(bg_flushes > 2 && bg_compactions > 0);
    expect_final(sh.db, sh.rounds);
    ST_ASSERT_OK(strata_close(sh.db));
    sh.db = st_dbc_open(dir, &o);
    expect_final(sh.db, sh.rounds);
    ST_ASSERT_OK(strata_close(sh.db));
    st_lsm_check_ok(dir, 0);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_readers_during_flushes_and_compactions(void)
{
    run(2, 4);
}

/* One background thread shared by flushes and compactions, one immutable memtable: writers
 * stall on every rotation while a compaction may hold the only worker. */
static void
test_one_worker_one_immutable(void)
{
    run(1, 1);
}

/* What strata_wait_idle promises is settled: the table list (returned, strata_free it) and the
 * compaction count. */
static char *
settled_state(strata_db *db, uint64_t *compactions)
{
    char *tables = NULL;
    ST_ASSERT_OK(strata_property(db, "strata.tables", &tables));
    strata_stats st;
    strata_stats_init(&st);
    ST_ASSERT_OK(strata_get_stats(db, &st));
    *compactions = st.compactions;
    return tables;
}

static void
test_wait_idle_settles(void)
{
    char *dir = st_test_tmpdir("lsm_idle");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    /* a removal (of a compaction's inputs, of a flushed log) takes 20 ms: a worker between
     * two compactions is slow to take the next one */
    st_fault_env_set_delay(fe, ST_FAULT_REMOVE, 20000);
    strata_options o = st_lsm_opts();
    strata_db *db = NULL;
    ST_ASSERT_OK(st_db_open_env(dir, &o, st_fault_env_env(fe), &db));
    char val[VMAX];
    memset(val, 'v', sizeof(val));
    int rounds = 3, compacted = 0;
    for (int r = 0; r < rounds; r++) {
        /* several memtables of keys spread over the whole range: flushes that overlap */
        strata_batch *b = strata_batch_new();
        ST_ASSERT(b != NULL);
        for (int i = 0; i < 10000; i++) {
            char k[32];
            int kl = snprintf(k, sizeof(k), "idle%05d", (i * 7919 + r * 131) % 50000);
            ST_ASSERT_OK(strata_batch_put(b, k, (size_t)kl, val, sizeof(val)));
            if (i % 100 == 99) {
                ST_ASSERT_OK(strata_write(db, NULL, b));
                strata_batch_clear(b);
            }
        }
        strata_batch_free(b);
        ST_ASSERT_OK(strata_wait_idle(db));
        uint64_t c0, c1;
        char *before = settled_state(db, &c0);
        st_test_sleep_micros(150000);
        char *after = settled_state(db, &c1);
        if (c0 != c1 || strcmp(before, after) != 0)
            ST_FAIL("round %d: background work went on after strata_wait_idle returned:\n"
                    "%llu compactions and these tables then:\n%s\n%llu and these 150 ms "
                    "later:\n%s",
                    r, (unsigned long long)c0, before, (unsigned long long)c1, after);
        compacted = c1 > 0;
        strata_free(before);
        strata_free(after);
    }
    ST_ASSERT(compacted); /* the rounds did make compactions run */
    ST_ASSERT_OK(strata_close(db));
    st_fault_env_free(fe);
    st_lsm_check_ok(dir, 0);
    st_test_rmrf(dir);
    st_free(dir);
}

/* ---- rotation's disk work is not under the database mutex -------------------------------- */

typedef struct held_io {
    atomic_long gets;   /* reads the reader has completed */
    atomic_int stop;    /* the reader stops */
    atomic_int held;    /* rotation operations held until reads went on */
    atomic_int starved; /* held operations during which no read completed within the limit */
    strata_db *db;
} held_io;

/* The fault env's hook: hold the rotation's WAL sync and directory sync until the reader has
 * completed 3 more gets (5 s at most). Reads wait behind the operation only if the database
 * mutex is held across it. */
static void
hold_until_reads(void *arg, unsigned kind, const char *path)
{
    held_io *h = arg;
    size_t n = path ? strlen(path) : 0;
    if (kind == ST_FAULT_SYNC && (n < 4 || strcmp(path + n - 4, ".wal") != 0))
        return; /* only the log's sync (manifests and tables sync outside any rotation) */
    atomic_fetch_add(&h->held, 1);
    if (atomic_load(&h->starved))
        return; /* already failed: do not slow the rest of the test down */
    long start = atomic_load(&h->gets);
    int waited = 0;
    while (atomic_load(&h->gets) < start + 3 && waited < 5000) {
        st_test_sleep_micros(1000);
        waited++;
    }
    if (atomic_load(&h->gets) < start + 3)
        atomic_fetch_add(&h->starved, 1);
}

static void *
rotation_reader(void *arg)
{
    held_io *h = arg;
    while (!atomic_load(&h->stop)) {
        void *v = NULL;
        size_t vl = 0;
        int rc = strata_get(h->db, NULL, "reader-key", 10, &v, &vl);
        if (rc != STRATA_OK || vl != 5 || memcmp(v, "value", 5) != 0)
            atomic_fetch_add(&h->starved, 1000); /* a wrong answer: fails below */
        strata_free(v);
        atomic_fetch_add(&h->gets, 1);
    }
    return NULL;
}

/*
 * test_reads_during_slow_rotation --
 *     Memtable rotation syncs the old log, creates the next one and syncs the directory: slow on
 *     a slow disk. The fault env holds each of those operations until a concurrent reader has
 *     completed three gets: with the disk work under the database mutex the reader cannot (a
 *     get pins the memtables under it) and the held operation gives up after 5 s, failing here.
 */
static void
test_reads_during_slow_rotation(void)
{
    char *dir = st_test_tmpdir("lsm_rotate");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    strata_options o = st_lsm_opts();
    held_io h;
    memset(&h, 0, sizeof(h));
    ST_ASSERT_OK(st_db_open_env(dir, &o, st_fault_env_env(fe), &h.db));
    ST_ASSERT_OK(strata_put(h.db, NULL, "reader-key", 10, "value", 5));
    st_fault_env_set_hook(fe, ST_FAULT_SYNC | ST_FAULT_SYNC_DIR, hold_until_reads, &h);
    pthread_t rd;
    ST_ASSERT(pthread_create(&rd, NULL, rotation_reader, &h) == 0);
    char val[VMAX];
    memset(val, 'r', sizeof(val));
    strata_stats st;
    uint64_t rotations = 0;
    /* non-sync writes: the log is synced only by rotation */
    for (int i = 0; rotations < 4 && i < 200000; i++) {
        char k[32];
        int kl = snprintf(k, sizeof(k), "rot%07d", i);
        ST_ASSERT_OK(strata_put(h.db, NULL, k, (size_t)kl, val, sizeof(val)));
        if (i % 500 == 499) {
            strata_stats_init(&st);
            ST_ASSERT_OK(strata_get_stats(h.db, &st));
            rotations = st.flushes + st.immutable_memtables;
        }
    }
    atomic_store(&h.stop, 1);
    pthread_join(rd, NULL);
    st_fault_env_set_hook(fe, 0, NULL, NULL);
    ST_ASSERT(rotations >= 4);
    ST_ASSERT(atomic_load(&h.held) >= 4); /* the hook did hold rotation I/O */
    if (atomic_load(&h.starved))
        ST_FAIL("reads waited behind rotation disk I/O (%d of %d held operations; >= 1000: a "
                "wrong value)",
                atomic_load(&h.starved), atomic_load(&h.held));
    ST_ASSERT_OK(strata_close(h.db));
    st_fault_env_free(fe);
    st_lsm_check_ok(dir, 0);
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_readers_during_flushes_and_compactions);
    ST_RUN(test_one_worker_one_immutable);
    ST_RUN(test_wait_idle_settles);
    ST_RUN(test_reads_during_slow_rotation);
    return st_test_done();
}
