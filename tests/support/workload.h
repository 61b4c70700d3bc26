/* SPDX-License-Identifier: Apache-2.0 */
/*
 * workload.h -- a deterministic write workload for crash and fault tests, and the check that a
 * recovered database holds exactly the acknowledged operations (plus, all-or-nothing, the one
 * that was in flight).
 *
 * Operation `id` of a workload with `seed` is a pure function of (seed, id): a single put, a
 * single delete, a range delete of 1..8 consecutive keys (one range tombstone), or an atomic
 * batch of 2..8 distinct keys. Several writer threads use lanes
 * (disjoint key ranges, see st_wl_lane_id) so that each thread's sequence stays checkable. Every
 * value names the operation that wrote it ("op=<id>/<j>/" plus padding), so a recovered value shows
 * which write it came from and a partly visible batch is detected.
 *
 * Header-only (static inline) because it calls strata_* and the support library is linked after
 * libstrata. Memory: nothing is retained. Thread safety: none needed (pure functions plus the
 * caller's db/model).
 */
#ifndef ST_TEST_WORKLOAD_H
#define ST_TEST_WORKLOAD_H

#include "db_check.h"
#include "model.h"
#include "st_test.h"
#include "util/random.h"

#define ST_WL_KEYS 2000u
/* Lanes: independent operation sequences on disjoint keys (one per writer thread). Operation
 * `seq` of lane `l` has id (l << ST_WL_LANE_SHIFT) | seq and uses keys l*ST_WL_KEYS + k. */
#define ST_WL_LANE_SHIFT 40
#define ST_WL_MAX_LANES 8
#define ST_WL_MAX_N 8
#define ST_WL_VALUE_MAX 320

enum { ST_WL_PUT = 0, ST_WL_DELETE = 1, ST_WL_BATCH = 2, ST_WL_RANGE = 3 };

typedef struct st_wl_op {
    int kind;
    int n;                     /* entries (1 for PUT/DELETE; the keys a RANGE deletes) */
    unsigned key[ST_WL_MAX_N]; /* key numbers, distinct within a batch */
    int is_del[ST_WL_MAX_N];   /* entry j is a delete */
} st_wl_op;

static inline void
st_wl_gen(uint64_t seed, uint64_t id, st_wl_op *op)
{
    st_rng r;
    st_rng_seed(&r, seed * 0x9e3779b97f4a7c15ull + id);
    uint64_t c = st_rng_uniform(&r, 10);
    op->kind = c < 5 ? ST_WL_PUT : c < 6 ? ST_WL_DELETE : c < 7 ? ST_WL_RANGE : ST_WL_BATCH;
    op->n = op->kind == ST_WL_BATCH ? 2 + (int)st_rng_uniform(&r, ST_WL_MAX_N - 1) : 1;
    if (op->kind == ST_WL_RANGE) {
        /* keys k .. k+n-1 of the lane: [key(k), key(k+n)) holds exactly them (fixed width) */
        op->n = 1 + (int)st_rng_uniform(&r, ST_WL_MAX_N);
        unsigned k = (unsigned)st_rng_uniform(&r, ST_WL_KEYS - (unsigned)op->n);
        for (int j = 0; j < op->n; j++) {
            op->key[j] = k + (unsigned)j + (unsigned)(id >> ST_WL_LANE_SHIFT) * ST_WL_KEYS;
            op->is_del[j] = 1;
        }
        return;
    }
    for (int j = 0; j < op->n; j++) {
        unsigned k;
        int dup;
        do {
            k = (unsigned)st_rng_uniform(&r, ST_WL_KEYS);
            dup = 0;
            for (int i = 0; i < j; i++)
                dup |= op->key[i] == k;
        } while (dup);
        op->key[j] = k + (unsigned)(id >> ST_WL_LANE_SHIFT) * ST_WL_KEYS;
        op->is_del[j] =
            op->kind == ST_WL_DELETE || (op->kind == ST_WL_BATCH && st_rng_uniform(&r, 5) == 0);
    }
}

static inline uint64_t
st_wl_lane_id(unsigned lane, uint64_t seq)
{
    return ((uint64_t)lane << ST_WL_LANE_SHIFT) | seq;
}

static inline size_t
st_wl_key(unsigned k, char *buf)
{
    return (size_t)snprintf(buf, 16, "k%06u", k);
}

static inline size_t
st_wl_value(uint64_t id, int j, char *buf)
{
    int n = snprintf(buf, ST_WL_VALUE_MAX, "op=%llu/%d/", (unsigned long long)id, j);
    size_t pad = (size_t)((id * 31u + (uint64_t)j * 7u) % 200u);
    memset(buf + n, 'a' + (int)(id % 26u), pad);
    return (size_t)n + pad;
}

/* Apply operation id to the database; returns the strata rc. */
static inline int
st_wl_apply_db(strata_db *db, const strata_write_options *wo, uint64_t seed, uint64_t id)
{
    st_wl_op op;
    st_wl_gen(seed, id, &op);
    char k[16], v[ST_WL_VALUE_MAX];
    size_t kl, vl;
    if (op.kind == ST_WL_RANGE) {
        char e[16];
        kl = st_wl_key(op.key[0], k);
        size_t el = st_wl_key(op.key[op.n - 1] + 1, e);
        return strata_delete_range(db, wo, k, kl, e, el);
    }
    if (op.kind != ST_WL_BATCH) {
        kl = st_wl_key(op.key[0], k);
        if (op.is_del[0])
            return strata_delete(db, wo, k, kl);
        vl = st_wl_value(id, 0, v);
        return strata_put(db, wo, k, kl, v, vl);
    }
    strata_batch *b = strata_batch_new();
    if (!b)
        return STRATA_NOMEM;
    int rc = STRATA_OK;
    for (int j = 0; j < op.n && rc == STRATA_OK; j++) {
        kl = st_wl_key(op.key[j], k);
        if (op.is_del[j]) {
            rc = strata_batch_delete(b, k, kl);
        } else {
            vl = st_wl_value(id, j, v);
            rc = strata_batch_put(b, k, kl, v, vl);
        }
    }
    if (rc == STRATA_OK)
        rc = strata_write(db, wo, b);
    strata_batch_free(b);
    return rc;
}

static inline void
st_wl_apply_model(st_model *m, uint64_t seed, uint64_t id)
{
    st_wl_op op;
    st_wl_gen(seed, id, &op);
    char k[16], v[ST_WL_VALUE_MAX];
    for (int j = 0; j < op.n; j++) {
        size_t kl = st_wl_key(op.key[j], k);
        if (op.is_del[j]) {
            st_model_delete(m, k, kl);
        } else {
            size_t vl = st_wl_value(id, j, v);
            st_model_put(m, k, kl, v, vl);
        }
    }
}

/* 1 if (key, value) is exactly what some operation of the workload wrote (no garbage). */
static inline int
st_wl_value_ok(uint64_t seed, const void *key, size_t klen, const void *val, size_t vlen)
{
    char tmp[48];
    size_t n = vlen < sizeof(tmp) - 1 ? vlen : sizeof(tmp) - 1;
    memcpy(tmp, val, n);
    tmp[n] = '\0';
    unsigned long long id;
    int j;
    if (sscanf(tmp, "op=%llu/%d/", &id, &j) != 2 || j < 0 || j >= ST_WL_MAX_N)
        return 0;
    st_wl_op op;
    st_wl_gen(seed, id, &op);
    char k[16], v[ST_WL_VALUE_MAX];
    if (j >= op.n || op.is_del[j])
        return 0;
    size_t kl = st_wl_key(op.key[j], k), vl = st_wl_value(id, j, v);
    return kl == klen && memcmp(k, key, kl) == 0 && vl == vlen && memcmp(v, val, vl) == 0;
}

/* 1 if the db's current value of key (NULL = absent) equals the model's. */
static inline int
st_wl_matches(const st_model *m, const char *k, size_t kl, const void *v, size_t vl, int present)
{
    const void *mv;
    size_t mvl;
    int mp = st_model_get(m, k, kl, &mv, &mvl);
    if (mp != present)
        return 0;
    return !present || (vl == mvl && memcmp(v, mv, vl) == 0);
}

/*
 * st_wl_resolve --
 *     `m` holds the effect of every acknowledged operation. Operation `inflight` (none when
 *     UINT64_MAX) may or may not have been applied, but atomically. Decide which from the
 *     database, fail the test on a partial or foreign state, and update `m` to match. Returns 1
 *     when the in-flight operation was found applied.
 */
static inline int
st_wl_resolve(strata_db *db, st_model *m, uint64_t seed, uint64_t inflight)
{
    if (inflight == UINT64_MAX)
        return 0;
    st_model *with = st_model_clone(m);
    st_wl_apply_model(with, seed, inflight);
    st_wl_op op;
    st_wl_gen(seed, inflight, &op);
    int seen_with = 0, seen_without = 0;
    for (int j = 0; j < op.n; j++) {
        char k[16];
        size_t kl = st_wl_key(op.key[j], k);
        void *v = NULL;
        size_t vl = 0;
        int rc = strata_get(db, NULL, k, kl, &v, &vl);
        if (rc != STRATA_OK && rc != STRATA_NOTFOUND)
            ST_FAIL("get %s: %s (%s)", k, strata_errstr(rc), strata_errmsg(db));
        int present = rc == STRATA_OK;
        int w = st_wl_matches(with, k, kl, v, vl, present);
        int wo = st_wl_matches(m, k, kl, v, vl, present);
        strata_free(v);
        if (!w && !wo)
            ST_FAIL("key %s of in-flight op %llx holds a value from neither before nor after it", k,
                    (unsigned long long)inflight);
        seen_with += w && !wo;
        seen_without += wo && !w;
    }
    if (seen_with && seen_without)
        ST_FAIL("in-flight batch %llx is partly visible (%d keys applied, %d not)",
                (unsigned long long)inflight, seen_with, seen_without);
    if (seen_with)
        st_wl_apply_model(m, seed, inflight);
    st_model_free(with);
    return seen_with > 0;
}

/*
 * st_wl_verify / st_wl_verify_lanes --
 *     Resolve the in-flight operation(s) (st_wl_resolve; one per lane, on disjoint keys), then
 *     compare full scans and random seeks with `m`. Return how many in-flight operations were
 *     found applied.
 */
static inline int
st_wl_verify_lanes(strata_db *db, st_model *m, uint64_t seed, const uint64_t *inflight, int nlanes,
                   st_rng *rng)
{
    int applied = 0;
    for (int l = 0; l < nlanes; l++)
        applied += st_wl_resolve(db, m, seed, inflight[l]);
    strata_read_options ro;
    strata_read_options_init(&ro);
    st_dbc_check_iter(db, &ro, m, rng, 20);
    return applied;
}

static inline int
st_wl_verify(strata_db *db, st_model *m, uint64_t seed, uint64_t inflight, st_rng *rng)
{
    return st_wl_verify_lanes(db, m, seed, &inflight, 1, rng);
}

#endif
