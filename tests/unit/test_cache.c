/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of src/cache: the sharded CLOCK cache. */
#include "cache/cache.h"
#include "st_test.h"
#include "util/alloc.h"
#include "util/random.h"

/* Values are heap ints; the test deleter counts calls per value and checks the key it gets. */
#define MAX_VALS 4096
static int deleted[MAX_VALS];
static int total_deleted;

static void
reset_deleted(void)
{
    memset(deleted, 0, sizeof(deleted));
    total_deleted = 0;
}

static void
make_key(int k, char *buf, size_t *len)
{
    *len = (size_t)snprintf(buf, 32, "key-%d", k);
}

static void
test_deleter(const void *key, size_t klen, void *value)
{
    int *v = value;
    ST_ASSERT(*v >= 0 && *v < MAX_VALS);
    /* value id encodes key * 10 + version, so the key handed back must match */
    char buf[32];
    size_t len;
    make_key(*v / 10, buf, &len);
    ST_ASSERT_MEM_EQ(key, klen, buf, len);
    deleted[*v]++;
    total_deleted++;
    st_free(v);
}

static int *
new_val(int k, int version)
{
    int *v = st_malloc(sizeof(int));
    ST_ASSERT(v != NULL);
    *v = k * 10 + version;
    return v;
}

static int
insert_pri(st_cache *c, int k, int version, size_t charge, int pri)
{
    char buf[32];
    size_t len;
    make_key(k, buf, &len);
    return st_cache_insert(c, buf, len, new_val(k, version), charge, test_deleter, pri, NULL);
}

static int
insert(st_cache *c, int k, int version, size_t charge)
{
    return insert_pri(c, k, version, charge, ST_CACHE_LOW);
}

/* Value id under key k, or -1 when absent (the handle is released again). */
static int
lookup(st_cache *c, int k)
{
    char buf[32];
    size_t len;
    make_key(k, buf, &len);
    st_cache_handle *h = st_cache_lookup(c, buf, len);
    if (!h)
        return -1;
    int v = *(int *)st_cache_value(h);
    st_cache_release(c, h);
    return v;
}

static st_cache_handle *
lookup_pinned(st_cache *c, int k)
{
    char buf[32];
    size_t len;
    make_key(k, buf, &len);
    return st_cache_lookup(c, buf, len);
}

static void
erase(st_cache *c, int k)
{
    char buf[32];
    size_t len;
    make_key(k, buf, &len);
    st_cache_erase(c, buf, len);
}

static void
test_insert_lookup_erase(void)
{
    reset_deleted();
    st_cache *c;
    ST_ASSERT_OK(st_cache_new(1000, 0, &c));
    ST_ASSERT_EQ(st_cache_capacity(c), 1000);
    ST_ASSERT_EQ(lookup(c, 1), -1);
    ST_ASSERT_OK(insert(c, 1, 0, 10));
    ST_ASSERT_OK(insert(c, 2, 0, 20));
    ST_ASSERT_EQ(lookup(c, 1), 10);
    ST_ASSERT_EQ(lookup(c, 2), 20);
    ST_ASSERT_EQ(lookup(c, 3), -1);
    ST_ASSERT_EQ(st_cache_usage(c), 30);
    ST_ASSERT_EQ(st_cache_pinned(c), 0);
    uint64_t hits, misses;
    st_cache_stats(c, &hits, &misses);
    ST_ASSERT_EQ(hits, 2);
    ST_ASSERT_EQ(misses, 2);
    /* a probe counts its hit, not its miss */
    char pk[32];
    size_t pl;
    make_key(3, pk, &pl);
    ST_ASSERT(st_cache_probe(c, pk, pl) == NULL);
    make_key(2, pk, &pl);
    st_cache_handle *ph = st_cache_probe(c, pk, pl);
    ST_ASSERT(ph != NULL);
    st_cache_release(c, ph);
    st_cache_stats(c, &hits, &misses);
    ST_ASSERT_EQ(hits, 3);
    ST_ASSERT_EQ(misses, 2);

    erase(c, 1);
    ST_ASSERT_EQ(deleted[10], 1);
    ST_ASSERT_EQ(lookup(c, 1), -1);
    ST_ASSERT_EQ(st_cache_usage(c), 20);
    erase(c, 1); /* erasing an absent key is a no-op */
    ST_ASSERT_EQ(total_deleted, 1);

    /* keys are byte strings: embedded NULs and a prefix are distinct keys */
    const char k1[] = {'a', 0, 'b'}, k2[] = {'a', 0, 'c'};
    int *v1 = st_malloc(sizeof(int)), *v2 = st_malloc(sizeof(int));
    ST_ASSERT_OK(st_cache_insert(c, k1, 3, v1, 1, NULL, ST_CACHE_LOW, NULL));
    ST_ASSERT_OK(st_cache_insert(c, k2, 3, v2, 1, NULL, ST_CACHE_LOW, NULL));
    st_cache_handle *h1 = st_cache_lookup(c, k1, 3), *h2 = st_cache_lookup(c, k2, 3);
    ST_ASSERT(h1 && h2 && st_cache_value(h1) == v1 && st_cache_value(h2) == v2);
    ST_ASSERT(st_cache_lookup(c, k1, 2) == NULL);
    st_cache_release(c, h1);
    st_cache_release(c, h2);
    st_cache_erase(c, k1, 3);
    st_cache_erase(c, k2, 3);
    st_free(v1);
    st_free(v2);

    st_cache_free(c);
    ST_ASSERT_EQ(deleted[20], 1);
    ST_ASSERT_EQ(total_deleted, 2);
    st_cache_free(NULL);
}

static void
test_replace(void)
{
    reset_deleted();
    st_cache *c;
    ST_ASSERT_OK(st_cache_new(1000, 0, &c));
    ST_ASSERT_OK(insert(c, 5, 1, 10));
    ST_ASSERT_OK(insert(c, 5, 2, 30));
    ST_ASSERT_EQ(deleted[51], 1); /* unreferenced old value freed at once */
    ST_ASSERT_EQ(lookup(c, 5), 52);
    ST_ASSERT_EQ(st_cache_usage(c), 30);

    /* replacing a referenced entry: the old value lives until its handle goes */
    st_cache_handle *h = lookup_pinned(c, 5);
    ST_ASSERT_EQ(st_cache_pinned(c), 30);
    ST_ASSERT_OK(insert(c, 5, 3, 7));
    ST_ASSERT_EQ(deleted[52], 0);
    ST_ASSERT_EQ(*(int *)st_cache_value(h), 52);
    ST_ASSERT_EQ(lookup(c, 5), 53);
    ST_ASSERT_EQ(st_cache_usage(c), 7);
    ST_ASSERT_EQ(st_cache_pinned(c), 30);
    st_cache_release(c, h);
    ST_ASSERT_EQ(deleted[52], 1);
    ST_ASSERT_EQ(st_cache_pinned(c), 0);

    /* insert returning a pinned handle */
    ST_ASSERT_OK(st_cache_insert(c, "key-6", 5, new_val(6, 0), 4, test_deleter, ST_CACHE_LOW, &h));
    ST_ASSERT_EQ(*(int *)st_cache_value(h), 60);
    ST_ASSERT_EQ(st_cache_pinned(c), 4);
    erase(c, 6);
    ST_ASSERT_EQ(deleted[60], 0);
    ST_ASSERT_EQ(lookup(c, 6), -1);
    ST_ASSERT_EQ(st_cache_usage(c), 7);
    ST_ASSERT_EQ(st_cache_pinned(c), 4); /* still held */
    st_cache_release(c, h);
    ST_ASSERT_EQ(deleted[60], 1);
    ST_ASSERT_EQ(st_cache_pinned(c), 0);
    st_cache_free(c);
    ST_ASSERT_EQ(deleted[53], 1);
    ST_ASSERT_EQ(total_deleted, 4);
}

static void
test_eviction_order(void)
{
    reset_deleted();
    st_cache *c;
    ST_ASSERT_OK(st_cache_new(100, 0, &c));
    for (int k = 0; k < 10; k++)
        ST_ASSERT_OK(insert(c, k, 0, 10));
    ST_ASSERT_EQ(st_cache_usage(c), 100);
    ST_ASSERT_EQ(total_deleted, 0);
    /* touch 0 and 1: now 2 is the least recently used */
    ST_ASSERT_EQ(lookup(c, 0), 0);
    ST_ASSERT_EQ(lookup(c, 1), 10);
    ST_ASSERT_OK(insert(c, 10, 0, 10));
    ST_ASSERT_EQ(deleted[20], 1);
    ST_ASSERT_EQ(total_deleted, 1);
    ST_ASSERT_OK(insert(c, 11, 0, 25)); /* needs 3 more victims: 3, 4, 5 */
    ST_ASSERT_EQ(deleted[30], 1);
    ST_ASSERT_EQ(deleted[40], 1);
    ST_ASSERT_EQ(deleted[50], 1);
    ST_ASSERT_EQ(total_deleted, 4);
    ST_ASSERT_EQ(st_cache_usage(c), 95);
    ST_ASSERT_EQ(lookup(c, 0), 0);
    ST_ASSERT_EQ(lookup(c, 1), 10);
    ST_ASSERT_EQ(lookup(c, 2), -1);
    ST_ASSERT_EQ(lookup(c, 6), 60);
    /* an entry larger than the whole cache is dropped at once; the hand evicts what was not
     * accessed since its last pass (7..11) before it reaches the newcomer, and keeps 0, 1, 6 */
    ST_ASSERT_OK(insert(c, 12, 0, 1000));
    ST_ASSERT_EQ(deleted[120], 1);
    ST_ASSERT_EQ(st_cache_usage(c), 30);
    ST_ASSERT_EQ(total_deleted, 10);
    ST_ASSERT_EQ(lookup(c, 6), 60);
    ST_ASSERT_EQ(lookup(c, 7), -1);
    st_cache_free(c);
    ST_ASSERT_EQ(total_deleted, 13);
    for (int k = 0; k <= 12; k++)
        ST_ASSERT_EQ(deleted[k * 10], 1);
}

/* Against a reference model: random ops on one shard, usage and membership must agree. */
static void
test_charge_accounting(void)
{
    reset_deleted();
    enum { NK = 64, CAP = 500 };
    st_cache *c;
    ST_ASSERT_OK(st_cache_new(CAP, 0, &c));
    st_rng rng;
    st_rng_seed(&rng, st_test_seed());
    /* model: CLOCK order as a list of keys (index 0 = head), charge and referenced bit per key */
    int order[NK], n = 0;
    size_t charge[NK];
    int version[NK], refd[NK];
    memset(version, 0, sizeof(version));
    for (int step = 0; step < 5000; step++) {
        int k = (int)st_rng_uniform(&rng, NK);
        int op = (int)st_rng_uniform(&rng, 10);
        int pos = -1;
        for (int i = 0; i < n; i++)
            if (order[i] == k)
                pos = i;
        if (op < 4) { /* insert / replace: a new, unreferenced entry at the head */
            version[k] = (version[k] + 1) % 10;
            size_t ch = 1 + st_rng_uniform(&rng, 60);
            ST_ASSERT_OK(insert(c, k, version[k], ch));
            if (pos >= 0) {
                memmove(&order[pos], &order[pos + 1], (size_t)(n - pos - 1) * sizeof(int));
                n--;
            }
            memmove(&order[1], &order[0], (size_t)n * sizeof(int));
            order[0] = k;
            n++;
            charge[k] = ch;
            refd[k] = 0;
            size_t used = 0;
            for (int i = 0; i < n; i++)
                used += charge[order[i]];
            while (used > CAP) { /* the hand at the tail: second chance, else evict */
                int t = order[n - 1];
                if (refd[t]) {
                    refd[t] = 0;
                    memmove(&order[1], &order[0], (size_t)(n - 1) * sizeof(int));
                    order[0] = t;
                    continue;
                }
                used -= charge[t];
                n--;
            }
        } else if (op < 5) {
            erase(c, k);
            if (pos >= 0) {
                memmove(&order[pos], &order[pos + 1], (size_t)(n - pos - 1) * sizeof(int));
                n--;
            }
        } else { /* a hit marks the entry, it does not move it */
            int got = lookup(c, k);
            if (pos < 0) {
                ST_ASSERT_EQ(got, -1);
            } else {
                ST_ASSERT_EQ(got, k * 10 + version[k]);
                refd[k] = 1;
            }
        }
        size_t used = 0;
        for (int i = 0; i < n; i++)
            used += charge[order[i]];
        ST_ASSERT_EQ(st_cache_usage(c), used);
        ST_ASSERT(used <= CAP);
    }
    st_cache_free(c);
}

static void
test_pinned_survive_eviction(void)
{
    reset_deleted();
    st_cache *c;
    ST_ASSERT_OK(st_cache_new(50, 0, &c));
    ST_ASSERT_OK(insert(c, 1, 0, 20));
    ST_ASSERT_OK(insert(c, 2, 0, 20));
    st_cache_handle *h1 = lookup_pinned(c, 1);
    st_cache_handle *h2 = lookup_pinned(c, 2);
    ST_ASSERT(h1 && h2);
    ST_ASSERT_EQ(st_cache_pinned(c), 40);
    /* flood the cache: pinned entries stay resident and keep counting in usage */
    for (int k = 10; k < 60; k++) {
        ST_ASSERT_OK(insert(c, k, 0, 20));
        ST_ASSERT(st_cache_usage(c) <= st_cache_capacity(c) + st_cache_pinned(c));
    }
    ST_ASSERT_EQ(deleted[10], 0);
    ST_ASSERT_EQ(deleted[20], 0);
    ST_ASSERT_EQ(*(int *)st_cache_value(h1), 10);
    ST_ASSERT_EQ(lookup(c, 1), 10);
    ST_ASSERT_EQ(lookup(c, 2), 20);
    ST_ASSERT_EQ(st_cache_usage(c), 40); /* each unpinned newcomer was its own victim */
    ST_ASSERT_EQ(total_deleted, 50);
    /* a second handle on the same entry: freed only after both go, and only when evicted */
    st_cache_handle *h1b = lookup_pinned(c, 1);
    ST_ASSERT(h1b == h1);
    ST_ASSERT_EQ(st_cache_pinned(c), 40);
    st_cache_release(c, h1);
    ST_ASSERT_EQ(st_cache_pinned(c), 40);
    erase(c, 1);
    ST_ASSERT_EQ(deleted[10], 0);
    st_cache_release(c, h1b);
    ST_ASSERT_EQ(deleted[10], 1);
    st_cache_release(c, h2);
    ST_ASSERT_EQ(st_cache_pinned(c), 0);
    ST_ASSERT_EQ(deleted[20], 0); /* unpinned but still fits: kept */
    ST_ASSERT_OK(insert(c, 70, 0, 40));
    ST_ASSERT_EQ(deleted[20], 0);  /* referenced since the hand passed: a second chance */
    ST_ASSERT_EQ(deleted[700], 1); /* the unreferenced newcomer goes instead */
    ST_ASSERT_OK(insert(c, 71, 0, 40));
    ST_ASSERT_EQ(deleted[20], 1); /* no access since its second chance: now it goes */
    ST_ASSERT_EQ(lookup(c, 71), 710);
    st_cache_free(c);
    ST_ASSERT_EQ(total_deleted, 54);
}

static void
test_capacity_zero(void)
{
    reset_deleted();
    st_cache *c;
    ST_ASSERT_OK(st_cache_new(0, -1, &c));
    ST_ASSERT_OK(insert(c, 1, 0, 5));
    ST_ASSERT_EQ(deleted[10], 1);
    ST_ASSERT_EQ(lookup(c, 1), -1);
    st_cache_handle *h;
    ST_ASSERT_OK(st_cache_insert(c, "key-2", 5, new_val(2, 0), 5, test_deleter, ST_CACHE_LOW, &h));
    ST_ASSERT_EQ(*(int *)st_cache_value(h), 20);
    ST_ASSERT_EQ(st_cache_usage(c), 5);
    ST_ASSERT_EQ(st_cache_pinned(c), 5);
    st_cache_handle *h2 = lookup_pinned(c, 2); /* resident while pinned */
    ST_ASSERT(h2 == h);
    st_cache_release(c, h2);
    ST_ASSERT_EQ(deleted[20], 0);
    st_cache_release(c, h);
    ST_ASSERT_EQ(deleted[20], 1);
    ST_ASSERT_EQ(st_cache_usage(c), 0);
    ST_ASSERT_EQ(st_cache_pinned(c), 0);
    ST_ASSERT_EQ(lookup(c, 2), -1);
    st_cache_free(c);
    ST_ASSERT_EQ(total_deleted, 2);
}

/* Many shards: every key findable, usage sums over shards, free deletes every entry once. */
static void
test_sharded(void)
{
    reset_deleted();
    st_cache *c;
    ST_ASSERT_OK(st_cache_new((size_t)1 << 20, 4, &c));
    for (int k = 0; k < 300; k++)
        ST_ASSERT_OK(insert(c, k, k % 10, 100));
    ST_ASSERT_EQ(st_cache_usage(c), 300 * 100);
    for (int k = 0; k < 300; k++)
        ST_ASSERT_EQ(lookup(c, k), k * 10 + k % 10);
    st_cache_free(c);
    ST_ASSERT_EQ(total_deleted, 300);
    for (int k = 0; k < 300; k++)
        ST_ASSERT_EQ(deleted[k * 10 + k % 10], 1);
    ST_ASSERT_RC(st_cache_new(10, 40, &c), STRATA_INVALID);
    ST_ASSERT(c == NULL);
}

static void
test_new_id(void)
{
    st_cache *a, *b;
    ST_ASSERT_OK(st_cache_new(10, 0, &a));
    ST_ASSERT_OK(st_cache_new(10, 0, &b));
    enum { N = 1000 };
    static uint64_t ids[2 * N];
    for (int i = 0; i < N; i++) {
        ids[2 * i] = st_cache_new_id(a);
        ids[2 * i + 1] = st_cache_new_id(b);
    }
    for (int i = 0; i < 2 * N; i++) {
        ST_ASSERT(ids[i] != 0);
        for (int j = 0; j < i; j++)
            ST_ASSERT(ids[i] != ids[j]);
    }
    st_cache_free(a);
    st_cache_free(b);
}

static void
test_nomem(void)
{
    reset_deleted();
    st_cache *c;
    ST_ASSERT_OK(st_cache_new(1000, 0, &c));
    int *v = new_val(3, 0);
    st_cache_handle *h = (st_cache_handle *)&h; /* must be reset to NULL */
    st_alloc_fail_after(0);
    int rc = st_cache_insert(c, "key-3", 5, v, 10, test_deleter, ST_CACHE_LOW, &h);
    st_alloc_fail_after(-1);
    ST_ASSERT_RC(rc, STRATA_NOMEM);
    ST_ASSERT(h == NULL);
    ST_ASSERT_EQ(deleted[30], 1);
    ST_ASSERT_EQ(st_cache_usage(c), 0);
    ST_ASSERT_EQ(lookup(c, 3), -1);
    /* st_cache_new under every allocation failure point: clean NOMEM, no leak (ASan) */
    for (long n = 0;; n++) {
        st_cache *c2 = NULL;
        st_alloc_fail_after(n);
        rc = st_cache_new(1 << 24, 3, &c2);
        st_alloc_fail_after(-1);
        if (rc == STRATA_OK) {
            st_cache_free(c2);
            break;
        }
        ST_ASSERT_RC(rc, STRATA_NOMEM);
        ST_ASSERT(c2 == NULL);
    }
    /* failing table growth is not an error: inserts keep working */
    for (int k = 0; k < 40; k++) {
        st_alloc_fail_after(2); /* value and entry succeed, a resize would fail */
        rc = insert(c, k, 1, 1);
        st_alloc_fail_after(-1);
        ST_ASSERT_OK(rc);
    }
    for (int k = 0; k < 40; k++)
        ST_ASSERT_EQ(lookup(c, k), k * 10 + 1);
    st_cache_free(c);
    ST_ASSERT_EQ(total_deleted, 41);
}

/*
 * Low-priority entries go first; high-priority ones keep three quarters of the capacity against
 * any stream of low-priority inserts, and beyond that share they age out like the others.
 */
static void
test_priorities(void)
{
    reset_deleted();
    st_cache *c;
    ST_ASSERT_OK(st_cache_new(100, 0, &c));
    for (int k = 0; k < 6; k++) /* 60 bytes of high priority, then a stream of low */
        ST_ASSERT_OK(insert_pri(c, k, 0, 10, ST_CACHE_HIGH));
    for (int k = 10; k < 60; k++)
        ST_ASSERT_OK(insert(c, k, 0, 10));
    ST_ASSERT_EQ(st_cache_usage(c), 100);
    for (int k = 0; k < 6; k++)
        ST_ASSERT_EQ(lookup(c, k), k * 10);
    for (int k = 10; k < 56; k++) /* the oldest low entries made room */
        ST_ASSERT_EQ(lookup(c, k), -1);
    for (int k = 56; k < 60; k++)
        ST_ASSERT_EQ(lookup(c, k), k * 10);
    /* more high-priority entries: past 75 bytes a high entry goes while low entries remain.
     * 0..5 are referenced (looked up above), 6 is not: the hand gives 0..5 a second chance
     * and takes 6; the next one then takes 0, whose mark the hand cleared. */
    ST_ASSERT_OK(insert_pri(c, 6, 0, 10, ST_CACHE_HIGH)); /* high 70: a low entry goes */
    ST_ASSERT_OK(insert_pri(c, 7, 0, 10, ST_CACHE_HIGH)); /* high 80 > 75: a high one goes */
    ST_ASSERT_EQ(lookup(c, 6), -1);
    for (int k = 1; k < 8; k++)
        ST_ASSERT_EQ(lookup(c, k), k == 6 ? -1 : k * 10);
    ST_ASSERT_OK(insert_pri(c, 6, 1, 10, ST_CACHE_HIGH)); /* again 80 > 75: 0 goes */
    ST_ASSERT_EQ(lookup(c, 0), -1);
    for (int k = 1; k < 8; k++)
        ST_ASSERT_EQ(lookup(c, k), k * 10 + (k == 6));
    ST_ASSERT_EQ(lookup(c, 56), -1);
    for (int k = 57; k < 60; k++)
        ST_ASSERT_EQ(lookup(c, k), k * 10);
    /* without low entries, high ones use the whole capacity */
    for (int k = 57; k < 60; k++)
        erase(c, k);
    for (int k = 8; k < 11; k++)
        ST_ASSERT_OK(insert_pri(c, k, 0, 10, ST_CACHE_HIGH));
    ST_ASSERT_EQ(st_cache_usage(c), 100);
    for (int k = 1; k < 11; k++)
        ST_ASSERT_EQ(lookup(c, k), k * 10 + (k == 6));
    st_cache_free(c);
    ST_ASSERT_EQ(total_deleted, 50 + 12); /* every value freed once: 50 low, 12 high */
}

static int
admit_n(st_cache *c, int k, size_t charge, int pri, unsigned refusals)
{
    char buf[32];
    size_t len;
    make_key(k, buf, &len);
    return st_cache_admit(c, buf, len, charge, pri, refusals, 1);
}

static int
admit(st_cache *c, int k, size_t charge, int pri)
{
    return admit_n(c, k, charge, pri, ST_CACHE_ADMIT_REUSED);
}

/*
 * Admission: a key is let in when it fits beyond the slack (an eighth of the capacity) or when it
 * was refused three times while remembered; a stream of keys asked for once is never let in; a
 * high-priority key is let in while the high-priority entries stay within their share.
 */
static void
test_admission(void)
{
    reset_deleted();
    st_cache *c;
    ST_ASSERT_OK(st_cache_new(800, 0, &c));
    ST_ASSERT_EQ(admit(c, 1, 10, ST_CACHE_LOW), 1); /* empty: room */
    for (int k = 0; k < 68; k++) /* 680 of 800 bytes: 120 free, the slack is 100 */
        ST_ASSERT_OK(insert(c, k, 0, 10));
    ST_ASSERT_EQ(admit(c, 100, 20, ST_CACHE_LOW), 1); /* 680 + 20 + 100 <= 800 */
    ST_ASSERT_EQ(admit(c, 101, 30, ST_CACHE_LOW), 0); /* 680 + 30 + 100 > 800 */
    for (int k = 68; k < 80; k++)
        ST_ASSERT_OK(insert(c, k, 0, 10)); /* full */
    /* refused three times, admitted the fourth, and forgotten after that */
    for (int i = 0; i < 3; i++)
        ST_ASSERT_EQ(admit(c, 200, 10, ST_CACHE_LOW), 0);
    ST_ASSERT_EQ(admit(c, 200, 10, ST_CACHE_LOW), 1);
    ST_ASSERT_EQ(admit(c, 200, 10, ST_CACHE_LOW), 0);
    /* a caller asking for more refusals: refused eight times, admitted the ninth */
    for (int i = 0; i < 8; i++)
        ST_ASSERT_EQ(admit_n(c, 201, 10, ST_CACHE_LOW, 8), 0);
    ST_ASSERT_EQ(admit_n(c, 201, 10, ST_CACHE_LOW, 8), 1);
    ST_ASSERT_EQ(admit_n(c, 201, 10, ST_CACHE_LOW, ST_CACHE_ADMIT_MAX + 5), 0);
    /* keys asked for once or twice each are never admitted */
    int admitted = 0;
    for (int round = 0; round < 2; round++)
        for (int k = 1000; k < 1400; k++)
            admitted += admit(c, k, 10, ST_CACHE_LOW);
    ST_ASSERT_EQ(admitted, 0);
    /* high priority: room while the high share (600 of 800) holds it, whatever the low usage */
    ST_ASSERT_EQ(admit(c, 300, 10, ST_CACHE_HIGH), 1);
    for (int k = 80; k < 139; k++) /* 590 bytes of high-priority entries */
        ST_ASSERT_OK(insert_pri(c, k, 0, 10, ST_CACHE_HIGH));
    ST_ASSERT_EQ(admit(c, 301, 10, ST_CACHE_HIGH), 1); /* 600 */
    ST_ASSERT_EQ(admit(c, 302, 20, ST_CACHE_HIGH), 0); /* 610 > 600 */
    ST_ASSERT_EQ(admit(c, 303, 10, ST_CACHE_LOW), 0);  /* the cache is full */
    st_cache_free(c);
    /* when_room = 0: an entry that fits is still refused until reused */
    ST_ASSERT_OK(st_cache_new(800, 0, &c));
    char buf[32];
    size_t len;
    make_key(400, buf, &len);
    for (int i = 0; i < 3; i++)
        ST_ASSERT_EQ(st_cache_admit(c, buf, len, 10, ST_CACHE_LOW, 3, 0), 0);
    ST_ASSERT_EQ(st_cache_admit(c, buf, len, 10, ST_CACHE_LOW, 3, 0), 1);
    ST_ASSERT_EQ(st_cache_admit(c, buf, len, 10, ST_CACHE_LOW, 3, 1), 1); /* room */
    st_cache_free(c);
}

/* Shrinking evicts at once (pinned entries stay until released); growing lets more in. */
static void
test_set_capacity(void)
{
    reset_deleted();
    st_cache *c;
    ST_ASSERT_OK(st_cache_new(100, 0, &c));
    for (int k = 0; k < 10; k++)
        ST_ASSERT_OK(insert(c, k, 0, 10));
    st_cache_handle *h = lookup_pinned(c, 9);
    ST_ASSERT(h != NULL);
    st_cache_set_capacity(c, 30);
    ST_ASSERT_EQ(st_cache_capacity(c), 30);
    ST_ASSERT(st_cache_usage(c) <= 30);
    ST_ASSERT(total_deleted >= 7);
    ST_ASSERT_EQ(lookup(c, 9), 90); /* pinned: kept */
    st_cache_set_capacity(c, 0);
    ST_ASSERT_EQ(st_cache_usage(c), 10); /* only the pinned entry is left */
    st_cache_release(c, h);
    ST_ASSERT_EQ(st_cache_usage(c), 0);
    ST_ASSERT_EQ(total_deleted, 10);
    st_cache_set_capacity(c, 200);
    for (int k = 10; k < 30; k++)
        ST_ASSERT_OK(insert(c, k, 0, 10));
    ST_ASSERT_EQ(st_cache_usage(c), 200);
    ST_ASSERT_EQ(total_deleted, 10);
    st_cache_free(c);

    /* sharded: the shard capacities follow and add up to the new total */
    reset_deleted();
    ST_ASSERT_OK(st_cache_new(64u << 20, -1, &c));
    for (int k = 0; k < 400; k++)
        ST_ASSERT_OK(insert(c, k, 0, 8192));
    ST_ASSERT_EQ(total_deleted, 0);
    st_cache_set_capacity(c, 1u << 20);
    ST_ASSERT(st_cache_usage(c) <= (1u << 20));
    ST_ASSERT(st_cache_usage(c) >= (1u << 20) / 2);
    st_cache_free(c);
}

int
main(void)
{
    ST_RUN(test_set_capacity);
    ST_RUN(test_insert_lookup_erase);
    ST_RUN(test_replace);
    ST_RUN(test_eviction_order);
    ST_RUN(test_charge_accounting);
    ST_RUN(test_pinned_survive_eviction);
    ST_RUN(test_capacity_zero);
    ST_RUN(test_sharded);
    ST_RUN(test_new_id);
    ST_RUN(test_nomem);
    ST_RUN(test_priorities);
    ST_RUN(test_admission);
    return st_test_done();
}
