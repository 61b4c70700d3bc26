/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_ops.c -- model-based libFuzzer target: the input is a sequence of operations on one
 * database over the fault env (tests/support/fault_env.h), checked against an in-memory model
 * (tests/support/model.h) after every read and every crash.
 *
 * Input: byte 0 picks the options (memtable kind, compression, bloom filter, UCS scaling); then
 * each operation is one opcode byte followed by its argument bytes (missing bytes read as 0; the
 * run ends with the input or after FZ_MAX_OPS operations):
 *   put k v         key k % 24 (small key space: overwrites), value of length v (bit 7: 1-8
 *                   KiB, so the 64 KiB memtables flush), sync when bit 6 of v;
 *   delete k        sync when bit 6 of k;
 *   batch n ...     1-4 puts/deletes written atomically, then a sync flag byte (an entry
 *                   whose value byte is 0xff is a range delete of keys [k, k + 1..4));
 *   delete_range k n  one range tombstone over keys k .. k + n % 6 (sync when bit 6 of n);
 *   flush / compact_range a b (reversed ranges must give STRATA_INVALID and change nothing);
 *   snapshot s      take (up to 2 held, each with a copy of the model) or release;
 *   get k           checked against the model, and through each held snapshot;
 *   scan f a b      bounded iterator scan, forward or backward, optionally over a snapshot;
 *   seek f k d      seek or seek_for_prev to a key (or just after it), then up to 8 next/prev
 *                   steps in the directions of the bits of d, optionally over a snapshot;
 *   reopen          clean close + open: nothing may be lost;
 *   kill            process kill (every file operation fails from now on, so the disk keeps
 *                   exactly what was written): nothing acknowledged may be lost;
 *   crash m         power loss (st_fault_env_crash, mode m % 3: exact, torn, sectors).
 * Checks: every call returns OK (or NOTFOUND from get) while the env is healthy; gets and scans
 * equal the model; after a power loss the database equals the model at some point between the
 * last durable point (a sync write, a flush, a compaction, a clean reopen or a kill) and the last
 * acknowledged write -- synced writes survive, unsynced ones are lost only as a suffix -- and the
 * model continues from there; after a clean reopen or a kill it equals the model exactly; at the
 * end the closed database passes strata_check.
 * Directory: $ST_TEST_TMPDIR, else /dev/shm (tmpfs: fast), else /tmp; fsyncs are skipped (every
 * power loss is simulated). Background threads make runs not fully deterministic; the checks do
 * not depend on their timing.
 * Seeds: tests/fuzz/corpus/ops/ (hand-made sequences: reads, flushes and compactions, kills,
 * power losses in each mode, with snapshots held and background flushes running).
 */
#include "db/db.h"
#include "fault_env.h"
#include "model.h"
#include "st_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FZ_MAX_OPS 300
#define FZ_KEYS 24
#define FZ_SNAPS 2

#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_ops: %s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, " (op %d, last error: %s)\n", fz.op, strata_errmsg(NULL));             \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

enum {
    OP_PUT,
    OP_PUT2,
    OP_PUT3,
    OP_DELETE,
    OP_BATCH,
    OP_FLUSH,
    OP_COMPACT,
    OP_SNAPSHOT,
    OP_GET,
    OP_SCAN,
    OP_SCAN2,
    OP_REOPEN,
    OP_KILL,
    OP_CRASH,
    OP_SEEK,
    OP_SEEK2,
    OP_DELETE_RANGE,
    OP_COUNT
};

/* One acknowledged write since the last durable point: its puts, deletes and range deletes. */
typedef struct fz_mut {
    uint8_t key;
    uint8_t end; /* range delete (del == 2): keys [key, end), end <= FZ_KEYS */
    int del;     /* 1: delete, 2: range delete */
    size_t vlen;
    uint32_t tag;
} fz_mut;

typedef struct fz_write {
    fz_mut m[4];
    int n;
} fz_write;

static struct {
    const uint8_t *p, *end;
    int op;
    char *dir;
    st_fault_env *fe;
    strata_options opts;
    strata_db *db;
    st_model *cur;                /* every acknowledged write */
    st_model *base;               /* the state at the last durable point */
    fz_write pending[FZ_MAX_OPS]; /* acknowledged since base, in order */
    int npending;
    const strata_snapshot *snap[FZ_SNAPS];
    st_model *snap_model[FZ_SNAPS];
    uint32_t tag;
    char *vbuf;
    int trace; /* ST_FUZZ_TRACE set: print each operation */
} fz;

static uint8_t
next_byte(void)
{
    return fz.p < fz.end ? *fz.p++ : 0;
}

static size_t
key_of(uint8_t k, char *out)
{
    return (size_t)snprintf(out, 8, "k%02u", (unsigned)(k % FZ_KEYS));
}

/* The end key of a range ending before key number e (e may be FZ_KEYS: past every key). Keys
 * are fixed-width, so [key_of(a), end_of(b)) holds exactly the keys a .. b-1. */
static size_t
end_of(uint8_t e, char *out)
{
    return (size_t)snprintf(out, 8, "k%02u", (unsigned)e);
}

/* A range delete of 1..n keys from k (clamped to the key space). */
static fz_mut
range_mut(uint8_t k, unsigned n)
{
    unsigned a = k % FZ_KEYS, b = a + 1 + n;
    return (fz_mut){.key = (uint8_t)a, .end = (uint8_t)(b > FZ_KEYS ? FZ_KEYS : b), .del = 2};
}

/* The value of write `tag`: its tag then filler, so values of different writes differ. */
static const char *
value_of(uint32_t tag, size_t vlen)
{
    for (size_t i = 0; i < vlen; i++)
        fz.vbuf[i] = (char)('a' + (tag + i) % 26);
    memcpy(fz.vbuf, &tag, vlen < sizeof(tag) ? vlen : sizeof(tag));
    return fz.vbuf;
}

static size_t
vlen_of(uint8_t v)
{
    return v & 0x80 ? 1024u * (1u + (v & 7u)) : (size_t)(v & 31u);
}

static void
model_apply(st_model *m, const fz_write *w)
{
    for (int i = 0; i < w->n; i++) {
        char k[8], e[8];
        size_t kl = key_of(w->m[i].key, k);
        if (w->m[i].del == 2)
            st_model_delete_range(m, k, kl, e, end_of(w->m[i].end, e));
        else if (w->m[i].del)
            st_model_delete(m, k, kl);
        else
            st_model_put(m, k, kl, value_of(w->m[i].tag, w->m[i].vlen), w->m[i].vlen);
    }
}

/* Everything acknowledged is durable now. */
static void
durable_point(void)
{
    st_model_free(fz.base);
    fz.base = st_model_clone(fz.cur);
    fz.npending = 0;
}

static void
acked(const fz_write *w, int sync)
{
    model_apply(fz.cur, w);
    FZ_CHECK(fz.npending < FZ_MAX_OPS, "pending writes");
    if (sync) {
        durable_point();
        return;
    }
    fz.pending[fz.npending++] = *w;
}

static int
write_one(const fz_write *w, int sync, int batch)
{
    strata_write_options wo;
    strata_write_options_init(&wo);
    wo.sync = sync;
    char k[8], e[8];
    if (!batch) {
        size_t kl = key_of(w->m[0].key, k);
        if (w->m[0].del == 2)
            return strata_delete_range(fz.db, &wo, k, kl, e, end_of(w->m[0].end, e));
        if (w->m[0].del)
            return strata_delete(fz.db, &wo, k, kl);
        return strata_put(fz.db, &wo, k, kl, value_of(w->m[0].tag, w->m[0].vlen), w->m[0].vlen);
    }
    strata_batch *b = strata_batch_new();
    FZ_CHECK(b != NULL, "batch_new");
    for (int i = 0; i < w->n; i++) {
        size_t kl = key_of(w->m[i].key, k);
        int rc = w->m[i].del == 2 ? strata_batch_delete_range(b, k, kl, e, end_of(w->m[i].end, e))
                 : w->m[i].del    ? strata_batch_delete(b, k, kl)
                                  : strata_batch_put(b, k, kl, value_of(w->m[i].tag, w->m[i].vlen),
                                                     w->m[i].vlen);
        FZ_CHECK(rc == STRATA_OK, "batch entry: %s", strata_errstr(rc));
    }
    int rc = strata_write(fz.db, &wo, b);
    strata_batch_free(b);
    return rc;
}

/* ---- checks against a model --------------------------------------------------------------- */

static void
check_get(const strata_snapshot *snap, const st_model *m, uint8_t key)
{
    char k[8];
    size_t kl = key_of(key, k);
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.snapshot = snap;
    void *v = NULL;
    size_t vl = 0;
    int rc = strata_get(fz.db, &ro, k, kl, &v, &vl);
    const void *mv;
    size_t mvl;
    if (st_model_get(m, k, kl, &mv, &mvl)) {
        FZ_CHECK(rc == STRATA_OK, "get %s%s: %s, expected a %zu-byte value", k,
                 snap ? " (snapshot)" : "", strata_errstr(rc), mvl);
        FZ_CHECK(vl == mvl && (vl == 0 || memcmp(v, mv, vl) == 0),
                 "get %s%s: wrong value (%zu bytes, expected %zu)", k, snap ? " (snapshot)" : "",
                 vl, mvl);
    } else {
        FZ_CHECK(rc == STRATA_NOTFOUND, "get %s%s: %s, expected NOTFOUND", k,
                 snap ? " (snapshot)" : "", strata_errstr(rc));
    }
    strata_free(v);
}

/* Bounded scan [lo, hi) forward or backward; must visit exactly the model's entries. */
static void
check_scan(const strata_snapshot *snap, const st_model *m, int backward, int lo, int hi)
{
    char lk[8], hk[8];
    size_t ll = lo >= 0 ? key_of((uint8_t)lo, lk) : 0, hl = hi >= 0 ? key_of((uint8_t)hi, hk) : 0;
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.snapshot = snap;
    if (lo >= 0) {
        ro.lower_bound = lk;
        ro.lower_bound_len = ll;
    }
    if (hi >= 0) {
        ro.upper_bound = hk;
        ro.upper_bound_len = hl;
    }
    size_t first = lo >= 0 ? st_model_lower_bound(m, lk, ll) : 0;
    size_t last = hi >= 0 ? st_model_lower_bound(m, hk, hl) : st_model_count(m); /* exclusive */
    if (last < first)
        last = first;
    strata_iter *it = NULL;
    int rc = strata_iter_open(fz.db, &ro, &it);
    if (lo >= 0 && hi >= 0 && st_model_keycmp(lk, ll, hk, hl) > 0) {
        FZ_CHECK(rc == STRATA_INVALID, "iter_open with reversed bounds: %s", strata_errstr(rc));
        return;
    }
    FZ_CHECK(rc == STRATA_OK, "iter_open: %s", strata_errstr(rc));
    if (backward)
        strata_iter_seek_last(it);
    else
        strata_iter_seek_first(it);
    size_t n = 0, want = last - first;
    for (; strata_iter_valid(it); n++) {
        FZ_CHECK(n < want, "scan %s [%d, %d): more entries than the model's %zu",
                 backward ? "backward" : "forward", lo, hi, want);
        size_t i = backward ? last - 1 - n : first + n;
        const void *mk, *mv;
        size_t mkl, mvl, kl, vl;
        st_model_at(m, i, &mk, &mkl, &mv, &mvl);
        const void *k = strata_iter_key(it, &kl);
        const void *v = strata_iter_value(it, &vl);
        FZ_CHECK(kl == mkl && memcmp(k, mk, kl) == 0, "scan %s entry %zu: key %.*s, expected %.*s",
                 backward ? "backward" : "forward", n, (int)kl, (const char *)k, (int)mkl,
                 (const char *)mk);
        FZ_CHECK(vl == mvl && (vl == 0 || memcmp(v, mv, vl) == 0),
                 "scan entry %.*s: wrong value (%zu bytes, expected %zu)", (int)kl, (const char *)k,
                 vl, mvl);
        if (backward)
            strata_iter_prev(it);
        else
            strata_iter_next(it);
    }
    FZ_CHECK(strata_iter_status(it) == STRATA_OK, "scan status %s",
             strata_errstr(strata_iter_status(it)));
    FZ_CHECK(n == want, "scan %s [%d, %d): %zu entries, the model has %zu",
             backward ? "backward" : "forward", lo, hi, n, want);
    strata_iter_close(it);
}

/* The iterator is at model entry i, or invalid when i is outside [0, count). */
static void
check_at(strata_iter *it, const st_model *m, long i, const char *what)
{
    if (i < 0 || (size_t)i >= st_model_count(m)) {
        FZ_CHECK(!strata_iter_valid(it), "%s: iterator valid, expected the end", what);
        FZ_CHECK(strata_iter_status(it) == STRATA_OK, "%s: status %s", what,
                 strata_errstr(strata_iter_status(it)));
        return;
    }
    FZ_CHECK(strata_iter_valid(it), "%s: iterator invalid (%s), expected entry %ld", what,
             strata_errstr(strata_iter_status(it)), i);
    const void *mk, *mv;
    size_t mkl, mvl, kl, vl;
    st_model_at(m, (size_t)i, &mk, &mkl, &mv, &mvl);
    const void *k = strata_iter_key(it, &kl);
    const void *v = strata_iter_value(it, &vl);
    FZ_CHECK(kl == mkl && memcmp(k, mk, kl) == 0, "%s: key %.*s, expected %.*s", what, (int)kl,
             (const char *)k, (int)mkl, (const char *)mk);
    FZ_CHECK(vl == mvl && (vl == 0 || memcmp(v, mv, vl) == 0),
             "%s: key %.*s: wrong value (%zu bytes, expected %zu)", what, (int)kl, (const char *)k,
             vl, mvl);
}

/* seek (or seek_for_prev) to key `key` (bit 7: just after it), then up to 8 next/prev steps
 * (bits of dirs: 1 next, 0 prev), direction changes included. */
static void
check_seek(const strata_snapshot *snap, const st_model *m, int for_prev, uint8_t key, uint8_t dirs)
{
    char k[8];
    size_t kl = key_of(key, k);
    if (key & 0x80)
        k[kl++] = 'x';
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.snapshot = snap;
    strata_iter *it = NULL;
    int rc = strata_iter_open(fz.db, &ro, &it);
    FZ_CHECK(rc == STRATA_OK, "iter_open: %s", strata_errstr(rc));
    long i;
    if (for_prev) {
        strata_iter_seek_for_prev(it, k, kl);
        i = st_model_seek_for_prev(m, k, kl);
    } else {
        strata_iter_seek(it, k, kl);
        i = (long)st_model_lower_bound(m, k, kl);
    }
    check_at(it, m, i, for_prev ? "seek_for_prev" : "seek");
    for (int step = 0; step < 8 && strata_iter_valid(it); step++) {
        if (dirs >> step & 1) {
            strata_iter_next(it);
            i++;
        } else {
            strata_iter_prev(it);
            i--;
        }
        check_at(it, m, i, dirs >> step & 1 ? "next after a seek" : "prev after a seek");
    }
    strata_iter_close(it);
}

static void
check_all(const strata_snapshot *snap, const st_model *m)
{
    for (uint8_t k = 0; k < FZ_KEYS; k++)
        check_get(snap, m, k);
    check_scan(snap, m, 0, -1, -1);
    check_scan(snap, m, 1, -1, -1);
}

/* The database's whole content equals m (no failure: 0 when different). */
static int
equals(const st_model *m)
{
    strata_iter *it = NULL;
    int rc = strata_iter_open(fz.db, NULL, &it);
    FZ_CHECK(rc == STRATA_OK, "iter_open: %s", strata_errstr(rc));
    size_t i = 0;
    int same = 1;
    for (strata_iter_seek_first(it); same && strata_iter_valid(it); strata_iter_next(it), i++) {
        const void *mk, *mv;
        size_t mkl, mvl, kl, vl;
        if (i >= st_model_count(m)) {
            same = 0;
            break;
        }
        st_model_at(m, i, &mk, &mkl, &mv, &mvl);
        const void *k = strata_iter_key(it, &kl);
        const void *v = strata_iter_value(it, &vl);
        same = kl == mkl && memcmp(k, mk, kl) == 0 && vl == mvl && (!vl || !memcmp(v, mv, vl));
    }
    FZ_CHECK(strata_iter_status(it) == STRATA_OK, "scan status %s",
             strata_errstr(strata_iter_status(it)));
    strata_iter_close(it);
    return same && i == st_model_count(m);
}

/* ---- lifecycle ------------------------------------------------------------------------------ */

static void
release_snapshots(void)
{
    for (int i = 0; i < FZ_SNAPS; i++) {
        if (fz.snap[i])
            strata_snapshot_release(fz.db, fz.snap[i]);
        st_model_free(fz.snap_model[i]);
        fz.snap[i] = NULL;
        fz.snap_model[i] = NULL;
    }
}

static void
open_db(void)
{
    int rc = st_db_open_env(fz.dir, &fz.opts, st_fault_env_env(fz.fe), &fz.db);
    FZ_CHECK(rc == STRATA_OK, "open: %s", strata_errstr(rc));
}

/* How the database goes down: 0 clean close, 1 process kill, 2.. power loss in mode m - 2. */
static void
go_down(int how, uint64_t seed)
{
    release_snapshots();
    if (how == 0) {
        int rc = strata_close(fz.db);
        FZ_CHECK(rc == STRATA_OK, "close: %s", strata_errstr(rc));
        fz.db = NULL;
        return;
    }
    if (how == 1) /* the process dies: nothing more reaches the disk, nothing written is lost */
        st_fault_env_fail(fz.fe, ST_FAULT_ALL, 1, EIO, ST_FAULT_PERSISTENT);
    else
        FZ_CHECK(st_fault_env_crash(fz.fe, how - 2, seed) == STRATA_OK, "crash");
    int rc = strata_close(fz.db); /* errors expected, but never INTERNAL or BUSY */
    FZ_CHECK(rc != STRATA_INTERNAL && rc != STRATA_BUSY, "close after a crash: %s",
             strata_errstr(rc));
    fz.db = NULL;
    st_fault_env_reset(fz.fe);
}

static void
reopen(int how, uint64_t seed)
{
    go_down(how, seed);
    open_db();
    if (how < 2) {
        FZ_CHECK(equals(fz.cur), "after a %s the database differs from the acknowledged writes",
                 how ? "process kill" : "clean reopen");
    } else {
        /* some prefix of the writes since the last durable point survived */
        st_model *m = st_model_clone(fz.base);
        int k = 0;
        while (!equals(m)) {
            FZ_CHECK(k < fz.npending,
                     "after a power loss (mode %d) the database is no state between the last "
                     "durable point and the last acknowledged write (%d writes since it)",
                     how - 2, fz.npending);
            model_apply(m, &fz.pending[k++]);
        }
        if (fz.trace)
            fprintf(stderr, "fuzz_ops: power loss (mode %d) kept %d of %d unsynced writes\n",
                    how - 2, k, fz.npending);
        st_model_free(fz.cur);
        fz.cur = m;
    }
    durable_point();
    check_all(NULL, fz.cur);
}

static void
setup_once(void)
{
    if (fz.fe)
        return;
    const char *base = getenv("ST_TEST_TMPDIR");
    struct stat st;
    if (!base || !*base)
        base = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    mkdir(base, 0755);
    char buf[4096];
    snprintf(buf, sizeof(buf), "%s/fuzz_ops.%d", base, (int)getpid());
    fz.dir = strdup(buf);
    fz.fe = st_fault_env_new(st_env_posix());
    fz.vbuf = malloc(8192);
    if (!fz.dir || !fz.fe || !fz.vbuf)
        abort();
    st_fault_env_skip_real_sync(fz.fe, 1);
    fz.trace = getenv("ST_FUZZ_TRACE") != NULL;
}

static void
do_op(uint8_t opcode)
{
    fz_write w = {.n = 0};
    uint8_t a, b;
    if (fz.trace)
        fprintf(stderr, "fuzz_ops: op %d: opcode %d (%d pending)\n", fz.op, opcode % OP_COUNT,
                fz.npending);
    switch (opcode % OP_COUNT) {
    case OP_PUT:
    case OP_PUT2:
    case OP_PUT3:
        a = next_byte();
        b = next_byte();
        w.m[0] = (fz_mut){.key = a, .vlen = vlen_of(b), .tag = ++fz.tag};
        w.n = 1;
        FZ_CHECK(write_one(&w, b >> 6 & 1, 0) == STRATA_OK, "put");
        acked(&w, b >> 6 & 1);
        break;
    case OP_DELETE:
        a = next_byte();
        w.m[0] = (fz_mut){.key = a, .del = 1};
        w.n = 1;
        FZ_CHECK(write_one(&w, a >> 6 & 1, 0) == STRATA_OK, "delete");
        acked(&w, a >> 6 & 1);
        break;
    case OP_BATCH:
        w.n = 1 + next_byte() % 4;
        for (int i = 0; i < w.n; i++) {
            a = next_byte();
            b = next_byte();
            w.m[i] = b == 0xff
                         ? range_mut(a, a % 4)
                         : (fz_mut){.key = a, .del = b == 0, .vlen = vlen_of(b), .tag = ++fz.tag};
        }
        a = next_byte() & 1;
        FZ_CHECK(write_one(&w, a, 1) == STRATA_OK, "batch write");
        acked(&w, a);
        break;
    case OP_DELETE_RANGE:
        a = next_byte();
        b = next_byte();
        w.m[0] = range_mut(a, b % 6);
        w.n = 1;
        FZ_CHECK(write_one(&w, b >> 6 & 1, 0) == STRATA_OK, "delete_range");
        acked(&w, b >> 6 & 1);
        break;
    case OP_FLUSH:
        FZ_CHECK(strata_flush(fz.db) == STRATA_OK, "flush");
        durable_point();
        break;
    case OP_COMPACT: {
        a = next_byte();
        b = next_byte();
        char ak[8], bk[8];
        size_t al = key_of(a, ak), bl = key_of(b, bk);
        int open_lo = a >= 0xf0, open_hi = b >= 0xf0;
        int rc = strata_compact_range(fz.db, open_lo ? NULL : ak, open_lo ? 0 : al,
                                      open_hi ? NULL : bk, open_hi ? 0 : bl);
        if (!open_lo && !open_hi && st_model_keycmp(ak, al, bk, bl) > 0) {
            FZ_CHECK(rc == STRATA_INVALID, "compact_range(%s, %s) reversed: %s", ak, bk,
                     strata_errstr(rc));
        } else {
            FZ_CHECK(rc == STRATA_OK, "compact_range: %s", strata_errstr(rc));
            durable_point(); /* the memtables were flushed */
        }
        break;
    }
    case OP_SNAPSHOT:
        a = next_byte() % FZ_SNAPS;
        if (fz.snap[a]) {
            check_all(fz.snap[a], fz.snap_model[a]);
            strata_snapshot_release(fz.db, fz.snap[a]);
            st_model_free(fz.snap_model[a]);
            fz.snap[a] = NULL;
            fz.snap_model[a] = NULL;
        } else {
            fz.snap[a] = strata_snapshot_get(fz.db);
            FZ_CHECK(fz.snap[a] != NULL, "snapshot_get");
            fz.snap_model[a] = st_model_clone(fz.cur);
        }
        break;
    case OP_GET:
        a = next_byte();
        check_get(NULL, fz.cur, a);
        for (int i = 0; i < FZ_SNAPS; i++)
            if (fz.snap[i])
                check_get(fz.snap[i], fz.snap_model[i], a);
        break;
    case OP_SCAN:
    case OP_SCAN2:
    case OP_SEEK:
    case OP_SEEK2: {
        uint8_t f = next_byte(); /* bit 0: backward / seek_for_prev; bits 1-2: which snapshot */
        a = next_byte();
        b = next_byte();
        int sn = f >> 1 & 3;
        const strata_snapshot *snap = sn < FZ_SNAPS ? fz.snap[sn] : NULL;
        const st_model *m = snap ? fz.snap_model[sn] : fz.cur;
        if (opcode % OP_COUNT >= OP_SEEK)
            check_seek(snap, m, f & 1, a, b);
        else
            check_scan(snap, m, f & 1, a >= 0xc0 ? -1 : a % FZ_KEYS, b >= 0xc0 ? -1 : b % FZ_KEYS);
        break;
    }
    case OP_REOPEN:
        reopen(0, 0);
        break;
    case OP_KILL:
        reopen(1, 0);
        break;
    case OP_CRASH:
        a = next_byte();
        reopen(2 + a % 3, a * 0x9e3779b97f4a7c15ull + (uint64_t)fz.op);
        break;
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    setup_once();
    fz.p = data;
    fz.end = data + size;
    fz.op = -1;
    fz.tag = 0;
    fz.npending = 0;
    st_test_rmrf(fz.dir);
    st_fault_env_reset(fz.fe);
    uint8_t cfg = next_byte();
    strata_options_init(&fz.opts);
    fz.opts.write_buffer_size = 64u << 10;
    fz.opts.target_file_size = 64u << 10;
    fz.opts.block_cache_size = 256u << 10;
    fz.opts.background_threads = 1;
    fz.opts.max_open_files = 8;
    fz.opts.memtable_kind = cfg & 1 ? STRATA_MEMTABLE_SKIPLIST : STRATA_MEMTABLE_TRIE;
    static const int codecs[] = {STRATA_COMPRESSION_LZ4, STRATA_COMPRESSION_NONE,
                                 STRATA_COMPRESSION_ZSTD, STRATA_COMPRESSION_LZ4};
    fz.opts.compression = codecs[cfg >> 1 & 3];
    fz.opts.bloom_bits_per_key = cfg & 8 ? 0 : 10;
    fz.opts.ucs_scaling[0] = cfg & 16 ? -2 : 2; /* leveled or tiered */
    fz.cur = st_model_new();
    fz.base = st_model_new();
    open_db();
    for (fz.op = 0; fz.op < FZ_MAX_OPS && fz.p < fz.end; fz.op++)
        do_op(next_byte());
    reopen(0, 0); /* a final clean reopen loses nothing */
    release_snapshots();
    FZ_CHECK(strata_close(fz.db) == STRATA_OK, "final close");
    fz.db = NULL;
    char *report = NULL; /* and the closed database is consistent */
    int rc = strata_check(fz.dir, &report);
    FZ_CHECK(rc == STRATA_OK, "strata_check: %s\n%s", strata_errstr(rc),
             report ? report : "(no report)");
    strata_free(report);
    st_model_free(fz.cur);
    st_model_free(fz.base);
    fz.cur = fz.base = NULL;
    st_test_rmrf(fz.dir);
    return 0;
}
