/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of src/memtable, every one run for both representations (skiplist and trie):
 * ordering with NUL/0xFF bytes, versions and snapshot gets, tombstones and empty values, the
 * iterator against a sorted-array model, identical sequences across kinds, allocation failure,
 * memory accounting (and a printed bytes/entry and insert-rate report).
 */
#include "memtable/keyfilter.h"
#include "memtable/memtable.h"
#include "st_test.h"
#include "test_memtable_support.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/random.h"

#include <stdatomic.h>

/* ---- a sorted-array model ------------------------------------------------------------- */

typedef struct m_entry {
    uint8_t key[16];
    size_t klen;
    uint64_t seq;
    int kind;
    uint8_t val[ST_MT_MAX_DERIVED_VLEN];
    size_t vlen;
} m_entry;

static int
m_cmp(const void *a, const void *b)
{
    const m_entry *x = a, *y = b;
    return st_entry_cmp(x->key, x->klen, x->seq, y->key, y->klen, y->seq);
}

/* Index of the first model entry >= (key, seq) (n when none). */
static size_t
m_lower(const m_entry *m, size_t n, const uint8_t *key, size_t klen, uint64_t seq)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st_entry_cmp(m[mid].key, m[mid].klen, m[mid].seq, key, klen, seq) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first model entry > (key, seq). */
static size_t
m_upper(const m_entry *m, size_t n, const uint8_t *key, size_t klen, uint64_t seq)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st_entry_cmp(m[mid].key, m[mid].klen, m[mid].seq, key, klen, seq) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
assert_at(const st_iter *it, const m_entry *e)
{
    ST_ASSERT(it->valid);
    ST_ASSERT_OK(it->status);
    ST_ASSERT_MEM_EQ(it->key, it->klen, e->key, e->klen);
    ST_ASSERT_EQ(it->seq, e->seq);
    ST_ASSERT_EQ(it->kind, e->kind);
    ST_ASSERT_MEM_EQ(it->val, it->vlen, e->val, e->vlen);
}

/* Iterator position idx in the model (idx == n or (size_t)-1 means invalid). */
static void
assert_pos(const st_iter *it, const m_entry *m, size_t n, size_t idx)
{
    if (idx >= n) {
        ST_ASSERT(!it->valid);
        ST_ASSERT_OK(it->status);
    } else {
        assert_at(it, &m[idx]);
    }
}

static void
assert_full_scan(st_memtable *mt, const m_entry *m, size_t n)
{
    st_iter *it = st_memtable_iter(mt);
    ST_ASSERT(it != NULL);
    size_t i = 0;
    for (st_iter_seek_first(it); it->valid; st_iter_next(it))
        assert_at(it, &m[i++]);
    ST_ASSERT_EQ(i, n);
    ST_ASSERT_OK(it->status);
    i = n;
    for (st_iter_seek_last(it); it->valid; st_iter_prev(it))
        assert_at(it, &m[--i]);
    ST_ASSERT_EQ(i, 0);
    st_iter_close(it);
}

static st_memtable *
new_mt(int kind)
{
    st_memtable *mt = NULL;
    ST_ASSERT_OK(st_memtable_new(kind, &mt));
    ST_ASSERT(mt != NULL);
    ST_ASSERT_EQ(st_memtable_entries(mt), 0);
    return mt;
}

static void
add_model(st_memtable *mt, const m_entry *e)
{
    ST_ASSERT_OK(st_memtable_add(mt, e->seq, e->kind, e->key, e->klen, e->val, e->vlen));
}

/* ---- tests ---------------------------------------------------------------------------- */

static void
test_bad_args(void)
{
    st_memtable *mt = (st_memtable *)1;
    ST_ASSERT_RC(st_memtable_new(7, &mt), STRATA_INVALID);
    ST_ASSERT(mt == NULL);
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        mt = new_mt(st_mt_kinds[k]);
        ST_ASSERT_RC(st_memtable_add(mt, 1, 9, "a", 1, "", 0), STRATA_INVALID);
        ST_ASSERT_RC(st_memtable_add(mt, ST_SEQ_MAX + 1, ST_KIND_PUT, "a", 1, "", 0),
                     STRATA_INVALID);
        ST_ASSERT_EQ(st_memtable_entries(mt), 0);
        st_memtable_unref(mt);
    }
    st_memtable_unref(NULL);
}

/* Keys with embedded NULs and 0xFF bytes, inserted out of order; expected order written out
 * by hand (bytewise, a prefix before its extensions). */
static void
test_binary_key_order(void)
{
    static const struct {
        const char *k;
        size_t n;
    } want[] = {{"", 0},       {"\0", 1},     {"\0\0", 2},      {"\0\xff", 2},      {"\x01", 1},
                {"a", 1},      {"a\0", 2},    {"a\0\0", 3},     {"a\0b", 3},        {"ab", 2},
                {"ab\xff", 3}, {"a\xff", 2},  {"a\xff\xff", 3}, {"b", 1},           {"\xfe\xff", 2},
                {"\xff", 1},   {"\xff\0", 2}, {"\xff\xff", 2},  {"\xff\xff\xff", 3}};
    size_t n = sizeof(want) / sizeof(want[0]);
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        st_memtable *mt = new_mt(st_mt_kinds[k]);
        /* insert in a scrambled order: index i*7 mod n (n is prime: 19) */
        for (size_t i = 0; i < n; i++) {
            size_t j = (i * 7) % n;
            ST_ASSERT_OK(st_memtable_add(mt, 100 + j, ST_KIND_PUT, want[j].k, want[j].n, "v", 1));
        }
        ST_ASSERT_EQ(st_memtable_entries(mt), n);
        st_iter *it = st_memtable_iter(mt);
        ST_ASSERT(it != NULL);
        size_t i = 0;
        for (st_iter_seek_first(it); it->valid; st_iter_next(it), i++) {
            ST_ASSERT(i < n);
            ST_ASSERT_MEM_EQ(it->key, it->klen, want[i].k, want[i].n);
            ST_ASSERT_EQ(it->seq, 100 + i);
        }
        ST_ASSERT_EQ(i, n);
        for (st_iter_seek_last(it); it->valid; st_iter_prev(it)) {
            i--;
            ST_ASSERT_MEM_EQ(it->key, it->klen, want[i].k, want[i].n);
        }
        ST_ASSERT_EQ(i, 0);
        /* every key is found by get, with its own seq */
        for (i = 0; i < n; i++) {
            int kind;
            const uint8_t *v;
            size_t vlen;
            uint64_t seq;
            ST_ASSERT_OK(
                st_memtable_get(mt, want[i].k, want[i].n, ST_SEQ_MAX, &kind, &v, &vlen, &seq));
            ST_ASSERT_EQ(seq, 100 + i);
            ST_ASSERT_MEM_EQ(v, vlen, "v", 1);
        }
        ST_ASSERT_RC(st_memtable_get(mt, "a\0\0\0", 4, ST_SEQ_MAX, &(int){0},
                                     &(const uint8_t *){NULL}, &(size_t){0}, &(uint64_t){0}),
                     STRATA_NOTFOUND);
        ST_ASSERT_RC(st_memtable_get(mt, "\xff\xff\xff\xff", 4, ST_SEQ_MAX, &(int){0},
                                     &(const uint8_t *){NULL}, &(size_t){0}, &(uint64_t){0}),
                     STRATA_NOTFOUND);
        st_iter_close(it);
        st_memtable_unref(mt);
    }
}

/* Versions of one key, tombstones, empty values; get at every snapshot in range. */
static void
test_versions_and_snapshots(void)
{
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        st_memtable *mt = new_mt(st_mt_kinds[k]);
        /* "k": put v5 @5, delete @10, put "" @15, put v20 @20 (inserted out of seq order) */
        ST_ASSERT_OK(st_memtable_add(mt, 15, ST_KIND_PUT, "k", 1, "", 0));
        ST_ASSERT_OK(st_memtable_add(mt, 5, ST_KIND_PUT, "k", 1, "v5", 2));
        ST_ASSERT_OK(st_memtable_add(mt, 20, ST_KIND_PUT, "k", 1, "v20", 3));
        ST_ASSERT_OK(st_memtable_add(mt, 10, ST_KIND_DELETE, "k", 1, "ignored", 7));
        ST_ASSERT_OK(st_memtable_add(mt, 12, ST_KIND_PUT, "j", 1, "j12", 3));
        ST_ASSERT_OK(st_memtable_add(mt, 3, ST_KIND_PUT, "kk", 2, "kk3", 3));
        ST_ASSERT_EQ(st_memtable_entries(mt), 6);
        ST_ASSERT_EQ(atomic_load(&mt->deletes), 1);
        for (uint64_t snap = 0; snap <= 25; snap++) {
            int kind = -1;
            const uint8_t *v = NULL;
            size_t vlen = 99;
            uint64_t seq = 0;
            int rc = st_memtable_get(mt, "k", 1, snap, &kind, &v, &vlen, &seq);
            if (snap < 5) {
                ST_ASSERT_RC(rc, STRATA_NOTFOUND);
                continue;
            }
            ST_ASSERT_OK(rc);
            if (snap < 10) {
                ST_ASSERT_EQ(seq, 5);
                ST_ASSERT_EQ(kind, ST_KIND_PUT);
                ST_ASSERT_MEM_EQ(v, vlen, "v5", 2);
            } else if (snap < 15) {
                ST_ASSERT_EQ(seq, 10);
                ST_ASSERT_EQ(kind, ST_KIND_DELETE);
                ST_ASSERT_EQ(vlen, 0);
            } else if (snap < 20) {
                ST_ASSERT_EQ(seq, 15);
                ST_ASSERT_EQ(kind, ST_KIND_PUT);
                ST_ASSERT_EQ(vlen, 0);
            } else {
                ST_ASSERT_EQ(seq, 20);
                ST_ASSERT_MEM_EQ(v, vlen, "v20", 3);
            }
        }
        /* neighbours and absent keys */
        int kind;
        const uint8_t *v;
        size_t vlen;
        uint64_t seq;
        ST_ASSERT_RC(st_memtable_get(mt, "j", 1, 11, &kind, &v, &vlen, &seq), STRATA_NOTFOUND);
        ST_ASSERT_OK(st_memtable_get(mt, "kk", 2, 3, &kind, &v, &vlen, &seq));
        ST_ASSERT_MEM_EQ(v, vlen, "kk3", 3);
        ST_ASSERT_RC(st_memtable_get(mt, "", 0, ST_SEQ_MAX, &kind, &v, &vlen, &seq),
                     STRATA_NOTFOUND);
        ST_ASSERT_RC(st_memtable_get(mt, "l", 1, ST_SEQ_MAX, &kind, &v, &vlen, &seq),
                     STRATA_NOTFOUND);

        /* iterator: j@12, k@20, k@15, k@10, k@5, kk@3; seeks inside the version run */
        st_iter *it = st_memtable_iter(mt);
        ST_ASSERT(it != NULL);
        static const uint64_t order[] = {12, 20, 15, 10, 5, 3};
        size_t i = 0;
        for (st_iter_seek_first(it); it->valid; st_iter_next(it))
            ST_ASSERT_EQ(it->seq, order[i++]);
        ST_ASSERT_EQ(i, 6);
        st_iter_seek(it, (const uint8_t *)"k", 1, 17);
        ST_ASSERT(it->valid && it->seq == 15);
        st_iter_seek(it, (const uint8_t *)"k", 1, ST_SEQ_MAX);
        ST_ASSERT(it->valid && it->seq == 20);
        st_iter_seek(it, (const uint8_t *)"k", 1, 4);
        ST_ASSERT(it->valid && it->seq == 3 && it->klen == 2);
        st_iter_seek_for_prev(it, (const uint8_t *)"k", 1, 17);
        ST_ASSERT(it->valid && it->seq == 20);
        st_iter_seek_for_prev(it, (const uint8_t *)"k", 1, 0);
        ST_ASSERT(it->valid && it->seq == 5);
        st_iter_prev(it);
        ST_ASSERT(it->valid && it->seq == 10 && it->kind == ST_KIND_DELETE && it->vlen == 0);
        st_iter_seek_for_prev(it, (const uint8_t *)"k", 1, ST_SEQ_MAX);
        ST_ASSERT(it->valid && it->seq == 12);
        st_iter_prev(it);
        ST_ASSERT(!it->valid);
        st_iter_next(it); /* no-op on an invalid iterator */
        ST_ASSERT(!it->valid);
        st_iter_seek(it, (const uint8_t *)"kk", 2, 2);
        ST_ASSERT(!it->valid);
        ST_ASSERT_OK(it->status);
        /* the iterator holds its own reference: drop ours first */
        st_memtable_unref(mt);
        st_iter_seek_last(it);
        ST_ASSERT(it->valid && it->seq == 3);
        st_iter_close(it);
    }
}

/* Random entries over a small alphabet (many shared prefixes, NUL/0xFF, duplicates with
 * different seqs) with seqs inserted in random order. */
static m_entry *
random_entries(st_rng *r, size_t n)
{
    static const uint8_t alpha[] = {0x00, 0x01, 'a', 'b', 0x7f, 0xfe, 0xff};
    m_entry *m = st_calloc(n, sizeof(*m));
    ST_ASSERT(m != NULL);
    uint64_t *seqs = st_malloc(n * sizeof(*seqs));
    ST_ASSERT(seqs != NULL);
    for (size_t i = 0; i < n; i++)
        seqs[i] = i + 1;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)st_rng_uniform(r, i);
        uint64_t t = seqs[i - 1];
        seqs[i - 1] = seqs[j];
        seqs[j] = t;
    }
    for (size_t i = 0; i < n; i++) {
        m_entry *e = &m[i];
        e->klen = (size_t)st_rng_uniform(r, 9);
        for (size_t j = 0; j < e->klen; j++)
            e->key[j] = alpha[st_rng_uniform(r, sizeof(alpha))];
        e->seq = seqs[i];
        e->kind = st_rng_uniform(r, 5) == 0 ? ST_KIND_DELETE : ST_KIND_PUT;
        e->vlen = e->kind == ST_KIND_PUT ? st_mt_fill_value(e->val, e->key, e->klen, e->seq) : 0;
    }
    st_free(seqs);
    return m;
}

static void
random_target(st_rng *r, uint8_t *key, size_t *klen, uint64_t *seq, size_t n)
{
    static const uint8_t alpha[] = {0x00, 0x01, 'a', 'b', 'c', 0x7f, 0xfe, 0xff};
    *klen = (size_t)st_rng_uniform(r, 10);
    for (size_t j = 0; j < *klen; j++)
        key[j] = alpha[st_rng_uniform(r, sizeof(alpha))];
    uint64_t c = st_rng_uniform(r, 4);
    *seq = c == 0 ? ST_SEQ_MAX : c == 1 ? 0 : st_rng_uniform(r, n + 2);
}

static void
test_random_against_model(void)
{
    uint64_t seed = st_test_seed();
    size_t n = (size_t)(5000 * st_test_scale());
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        st_rng r;
        st_rng_seed(&r, seed);
        m_entry *m = random_entries(&r, n);
        st_memtable *mt = new_mt(st_mt_kinds[k]);
        size_t raw = 0;
        for (size_t i = 0; i < n; i++) {
            add_model(mt, &m[i]);
            raw += m[i].vlen + 8; /* the value and seq are stored per entry in any form */
        }
        ST_ASSERT_EQ(st_memtable_entries(mt), n);
        ST_ASSERT(st_memtable_memory(mt) >= raw);
        qsort(m, n, sizeof(*m), m_cmp);
        assert_full_scan(mt, m, n);

        st_iter *it = st_memtable_iter(mt);
        ST_ASSERT(it != NULL);
        for (int round = 0; round < 3000; round++) {
            uint8_t key[16];
            size_t klen;
            uint64_t seq;
            random_target(&r, key, &klen, &seq, n);
            size_t idx;
            if (st_rng_uniform(&r, 2)) {
                st_iter_seek(it, key, klen, seq);
                idx = m_lower(m, n, key, klen, seq);
            } else {
                st_iter_seek_for_prev(it, key, klen, seq);
                idx = m_upper(m, n, key, klen, seq);
                idx = idx == 0 ? (size_t)-1 : idx - 1;
            }
            assert_pos(it, m, n, idx);
            /* a short random walk from there */
            for (int s = 0; s < 6 && idx < n; s++) {
                if (st_rng_uniform(&r, 2)) {
                    st_iter_next(it);
                    idx++;
                } else {
                    st_iter_prev(it);
                    idx = idx == 0 ? (size_t)-1 : idx - 1;
                }
                assert_pos(it, m, n, idx);
            }
            /* get(key, seq): the newest version <= seq of exactly this key */
            int kind;
            const uint8_t *v;
            size_t vlen;
            uint64_t gseq;
            int rc = st_memtable_get(mt, key, klen, seq, &kind, &v, &vlen, &gseq);
            size_t g = m_lower(m, n, key, klen, seq);
            if (g < n && st_bytes_cmp(m[g].key, m[g].klen, key, klen) == 0) {
                ST_ASSERT_OK(rc);
                ST_ASSERT_EQ(gseq, m[g].seq);
                ST_ASSERT_EQ(kind, m[g].kind);
                ST_ASSERT_MEM_EQ(v, vlen, m[g].val, m[g].vlen);
            } else {
                ST_ASSERT_RC(rc, STRATA_NOTFOUND);
            }
        }
        /* get of every stored entry at its own seq returns exactly it */
        for (size_t i = 0; i < n; i++) {
            int kind;
            const uint8_t *v;
            size_t vlen;
            uint64_t gseq;
            ST_ASSERT_OK(
                st_memtable_get(mt, m[i].key, m[i].klen, m[i].seq, &kind, &v, &vlen, &gseq));
            ST_ASSERT_EQ(gseq, m[i].seq);
        }
        st_iter_close(it);
        st_memtable_unref(mt);
        st_free(m);
    }
}

/* The same inserts give the same entry sequence in every representation, in both directions. */
static void
test_kinds_identical(void)
{
    if (ST_MT_NKINDS < 2)
        return;
    st_rng r;
    st_rng_seed(&r, st_test_seed() + 1);
    size_t n = (size_t)(4000 * st_test_scale());
    m_entry *m = random_entries(&r, n);
    st_memtable *mt[ST_MT_NKINDS];
    st_iter *it[ST_MT_NKINDS];
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        mt[k] = new_mt(st_mt_kinds[k]);
        for (size_t i = 0; i < n; i++)
            add_model(mt[k], &m[i]);
        it[k] = st_memtable_iter(mt[k]);
        ST_ASSERT(it[k] != NULL);
        st_iter_seek_first(it[k]);
    }
    size_t count = 0;
    for (;;) {
        for (size_t k = 1; k < ST_MT_NKINDS; k++) {
            ST_ASSERT_EQ(it[k]->valid, it[0]->valid);
            if (it[0]->valid) {
                ST_ASSERT_MEM_EQ(it[k]->key, it[k]->klen, it[0]->key, it[0]->klen);
                ST_ASSERT_EQ(it[k]->seq, it[0]->seq);
                ST_ASSERT_EQ(it[k]->kind, it[0]->kind);
                ST_ASSERT_MEM_EQ(it[k]->val, it[k]->vlen, it[0]->val, it[0]->vlen);
            }
        }
        if (!it[0]->valid)
            break;
        count++;
        for (size_t k = 0; k < ST_MT_NKINDS; k++)
            st_iter_next(it[k]);
    }
    ST_ASSERT_EQ(count, n);
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        st_iter_close(it[k]);
        st_memtable_unref(mt[k]);
    }
    st_free(m);
}

/* Allocation failure: creation fails cleanly at every allocation; adds that need a new arena
 * block fail with NOMEM and leave the memtable exactly as before. */
static void
test_nomem(void)
{
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        for (long f = 0; f < 8; f++) {
            st_memtable *mt = (st_memtable *)1;
            st_alloc_fail_after(f);
            int rc = st_memtable_new(st_mt_kinds[k], &mt);
            st_alloc_fail_after(-1);
            if (rc == STRATA_OK) {
                st_memtable_unref(mt);
                break;
            }
            ST_ASSERT_RC(rc, STRATA_NOMEM);
            ST_ASSERT(mt == NULL);
        }

        st_rng r;
        st_rng_seed(&r, st_test_seed() + 2);
        size_t cap = 60000;
        m_entry *m = random_entries(&r, cap);
        st_memtable *mt = new_mt(st_mt_kinds[k]);
        size_t n = 0;
        for (; n < 100; n++)
            add_model(mt, &m[n]);
        /* With no allocation allowed, adds succeed from the arena's current block until one
         * needs a new block (the hot path does not call malloc), then fail with NOMEM. */
        st_alloc_fail_after(0);
        int rc = STRATA_OK;
        for (; n < cap; n++) {
            rc = st_memtable_add(mt, m[n].seq, m[n].kind, m[n].key, m[n].klen, m[n].val, m[n].vlen);
            if (rc != STRATA_OK)
                break;
        }
        ST_ASSERT(st_memtable_iter(mt) == NULL); /* the iterator cannot be allocated either */
        st_alloc_fail_after(-1);
        ST_ASSERT_RC(rc, STRATA_NOMEM);
        ST_ASSERT(n > 100); /* some adds were served without malloc */
        ST_ASSERT_EQ(st_memtable_entries(mt), n);
        /* a large value needs its own block: fails too, memtable unchanged */
        static uint8_t big[400 << 10];
        st_alloc_fail_after(0);
        ST_ASSERT_RC(st_memtable_add(mt, cap + 10, ST_KIND_PUT, "big", 3, big, sizeof(big)),
                     STRATA_NOMEM);
        st_alloc_fail_after(-1);
        ST_ASSERT_EQ(st_memtable_entries(mt), n);
        /* the failed entries are absent, the rest are intact; adding afterwards works */
        m_entry *sorted = st_malloc(n * sizeof(*sorted));
        ST_ASSERT(sorted != NULL);
        memcpy(sorted, m, n * sizeof(*sorted));
        qsort(sorted, n, sizeof(*sorted), m_cmp);
        assert_full_scan(mt, sorted, n);
        add_model(mt, &m[n]);
        ST_ASSERT_EQ(st_memtable_entries(mt), n + 1);
        int kind;
        const uint8_t *v;
        size_t vlen;
        uint64_t seq;
        ST_ASSERT_OK(st_memtable_get(mt, m[n].key, m[n].klen, m[n].seq, &kind, &v, &vlen, &seq));
        ST_ASSERT_EQ(seq, m[n].seq);
        st_free(sorted);
        st_free(m);
        st_memtable_unref(mt);
    }
}

/* Deep and long keys: a chain "a", "aa", ... (one trie level per key, so the iterator's frame
 * stack must grow) and keys up to STRATA_MAX_KEY_SIZE sharing long prefixes. Checked against
 * an order computed independently: for the chain, length order IS entry order. */
static void
test_deep_and_long_keys(void)
{
    size_t depth = 300;
    uint8_t *key = st_malloc(STRATA_MAX_KEY_SIZE);
    ST_ASSERT(key != NULL);
    memset(key, 'a', STRATA_MAX_KEY_SIZE);
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        st_memtable *mt = new_mt(st_mt_kinds[k]);
        /* inserted longest first, so every insert splits a path */
        for (size_t i = depth; i >= 1; i--)
            ST_ASSERT_OK(st_memtable_add(mt, i, ST_KIND_PUT, key, i, key, i % 7));
        /* long keys: "aaa...a" + 'b' + tail, lengths up to the maximum */
        size_t longs[] = {1000, 4096, 40000, STRATA_MAX_KEY_SIZE};
        for (size_t j = 0; j < 4; j++) {
            key[depth] = 'b';
            ST_ASSERT_OK(st_memtable_add(mt, 1000 + j, ST_KIND_PUT, key, longs[j], "L", 1));
            key[depth] = 'a';
        }
        st_iter *it = st_memtable_iter(mt);
        ST_ASSERT(it != NULL);
        size_t i = 0;
        for (st_iter_seek_first(it); it->valid && i < depth; st_iter_next(it)) {
            i++;
            ST_ASSERT_EQ(it->klen, i);
            ST_ASSERT_EQ(it->seq, i);
            ST_ASSERT_MEM_EQ(it->key, it->klen, key, i);
            ST_ASSERT_EQ(it->vlen, i % 7);
        }
        ST_ASSERT_EQ(i, depth);
        /* "a"*300 + "b" + "a"... sorts after "a"*300 and increases with length */
        for (size_t j = 0; j < 4; j++, st_iter_next(it)) {
            ST_ASSERT(it->valid);
            ST_ASSERT_EQ(it->klen, longs[j]);
            ST_ASSERT_EQ(it->seq, 1000 + j);
            ST_ASSERT(it->key[depth] == 'b' && it->key[longs[j] - 1] == 'a');
        }
        ST_ASSERT(!it->valid);
        /* backward from the end through the chain */
        st_iter_seek_last(it);
        ST_ASSERT(it->valid && it->klen == STRATA_MAX_KEY_SIZE);
        for (size_t j = 0; j < 4; j++)
            st_iter_prev(it);
        for (i = depth; i >= 1; i--, st_iter_prev(it))
            ST_ASSERT(it->valid && it->klen == i);
        ST_ASSERT(!it->valid);
        /* seeks into the middle of the chain and get of a long key */
        st_iter_seek(it, key, 150, ST_SEQ_MAX);
        ST_ASSERT(it->valid && it->klen == 150);
        st_iter_seek_for_prev(it, key, 150, ST_SEQ_MAX);
        ST_ASSERT(it->valid && it->klen == 149);
        key[depth] = 'b';
        int kind;
        const uint8_t *v;
        size_t vlen;
        uint64_t seq;
        ST_ASSERT_OK(st_memtable_get(mt, key, 40000, ST_SEQ_MAX, &kind, &v, &vlen, &seq));
        ST_ASSERT_EQ(seq, 1002);
        ST_ASSERT_RC(st_memtable_get(mt, key, 40001, ST_SEQ_MAX, &kind, &v, &vlen, &seq),
                     STRATA_NOTFOUND);
        key[depth] = 'a';
        /* an iterator that cannot grow its buffers fails with a sticky NOMEM, never a crash
         * (the trie's frame stack and key buffer grow on deep/long keys; a skiplist iterator
         * allocates nothing after creation and simply succeeds) */
        st_iter_close(it);
        it = st_memtable_iter(mt);
        ST_ASSERT(it != NULL);
        st_alloc_fail_after(0);
        st_iter_seek_last(it);
        st_alloc_fail_after(-1);
        if (st_mt_kinds[k] == ST_MEMTABLE_TRIE) {
            ST_ASSERT_RC(it->status, STRATA_NOMEM);
            ST_ASSERT(!it->valid);
            st_iter_seek_first(it); /* sticky */
            ST_ASSERT(!it->valid);
            ST_ASSERT_RC(it->status, STRATA_NOMEM);
        } else {
            ST_ASSERT_OK(it->status);
            ST_ASSERT(it->valid && it->klen == STRATA_MAX_KEY_SIZE);
        }
        st_iter_close(it);
        st_memtable_unref(mt);
    }
    st_free(key);
}

/* Memory accounting: small when empty (the smallest write buffer is 64 KiB, so an empty
 * memtable must not look full), grows with every add by at least the bytes stored. */
static void
test_memory_accounting(void)
{
    static uint8_t big[400 << 10];
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        st_memtable *mt = new_mt(st_mt_kinds[k]);
        size_t m0 = st_memtable_memory(mt);
        ST_ASSERT(m0 > 0 && m0 < (64u << 10) / 4);
        ST_ASSERT_OK(st_memtable_add(mt, 1, ST_KIND_PUT, "key", 3, big, 1000));
        size_t m1 = st_memtable_memory(mt);
        ST_ASSERT(m1 >= m0 + 1000 + 8);
        ST_ASSERT_OK(st_memtable_add(mt, 2, ST_KIND_PUT, "key", 3, big, sizeof(big)));
        size_t m2 = st_memtable_memory(mt);
        ST_ASSERT(m2 >= m1 + sizeof(big));
        ST_ASSERT_OK(st_memtable_add(mt, 3, ST_KIND_DELETE, "key", 3, NULL, 0));
        size_t prev = st_memtable_memory(mt);
        ST_ASSERT(prev > m2); /* a tombstone costs something too */
        for (size_t i = 0; i < 5000; i++) {
            char key[32];
            size_t kl = (size_t)snprintf(key, sizeof(key), "k%zu", i * 7919 % 5000);
            ST_ASSERT_OK(st_memtable_add(mt, 10 + i, ST_KIND_PUT, key, kl, "v", 1));
            size_t now = st_memtable_memory(mt);
            ST_ASSERT(now > prev);
            prev = now;
        }
        st_memtable_unref(mt);
    }
}

/* Report workloads: keys with short and long shared prefixes in ascending order, and random
 * 16-byte keys. Keys are generated up front so only the memtable is timed. */
enum { W_PROFILE, W_LONG_PREFIX, W_RANDOM, W_COUNT };
static const char *const w_names[] = {"user/NNNNNN/profile/<field> (ascending)",
                                      "org/acme-corporation/region/eu-west-1/user/NNNNNN/"
                                      "profile/<field> (ascending)",
                                      "random 16-byte keys"};
#define W_KEY_MAX 80

static size_t
report_key(int w, size_t i, st_rng *r, uint8_t *buf)
{
    static const char *fields[] = {"address", "avatar", "created", "email", "name", "phone"};
    switch (w) {
    case W_PROFILE:
        return (size_t)snprintf((char *)buf, W_KEY_MAX, "user/%06zu/profile/%s", i / 6,
                                fields[i % 6]);
    case W_LONG_PREFIX:
        return (size_t)snprintf((char *)buf, W_KEY_MAX,
                                "org/acme-corporation/region/eu-west-1/user/%06zu/profile/%s",
                                i / 6, fields[i % 6]);
    default:
        st_put_be64(buf, st_rng_next(r));
        st_put_be64(buf + 8, i);
        return 16;
    }
}

/* Memory grows with the data and bounds it; prints bytes/entry and single-thread insert and get
 * rates per workload and representation (a report, not a threshold). */
static void
test_memory_report(void)
{
    /* bytes/entry = memory() / entries: allocated bytes including all structure (memory()
     * does not count the unused tail of the arena's current block) */
    size_t n = (size_t)(100000 * st_test_scale());
    uint8_t *keys = st_malloc(n * W_KEY_MAX);
    size_t *klens = st_malloc(n * sizeof(size_t));
    ST_ASSERT(keys && klens);
    for (int w = 0; w < W_COUNT; w++) {
        st_rng r;
        st_rng_seed(&r, 42);
        size_t raw = 0;
        for (size_t i = 0; i < n; i++) {
            klens[i] = report_key(w, i, &r, keys + i * W_KEY_MAX);
            raw += klens[i] + 8;
        }
        fprintf(stderr, "  %s: %zu entries, raw key+value %.1f bytes/entry\n", w_names[w], n,
                (double)raw / (double)n);
        for (size_t k = 0; k < ST_MT_NKINDS; k++) {
            st_memtable *mt = new_mt(st_mt_kinds[k]);
            size_t before = st_memtable_memory(mt);
            uint64_t t0 = st_now_micros();
            for (size_t i = 0; i < n; i++)
                ST_ASSERT_OK(st_memtable_add(mt, i + 1, ST_KIND_PUT, keys + i * W_KEY_MAX, klens[i],
                                             "12345678", 8));
            uint64_t t1 = st_now_micros();
            for (size_t i = 0; i < n; i++) {
                size_t j = (i * 7919) % n; /* scattered order */
                int kind;
                const uint8_t *v;
                size_t vlen;
                uint64_t seq;
                ST_ASSERT_OK(st_memtable_get(mt, keys + j * W_KEY_MAX, klens[j], ST_SEQ_MAX, &kind,
                                             &v, &vlen, &seq));
                ST_ASSERT_EQ(seq, j + 1);
            }
            uint64_t t2 = st_now_micros();
            size_t after = st_memtable_memory(mt);
            ST_ASSERT(after > before);
            ST_ASSERT(after >= raw / 4); /* covers the data (a trie stores prefixes once) */
            ST_ASSERT_EQ(st_memtable_entries(mt), n);
            fprintf(stderr, "    %-8s %6.1f bytes/entry, insert %5.2f M/s, get %5.2f M/s\n",
                    st_mt_kinds[k] == ST_MEMTABLE_TRIE ? "trie" : "skiplist",
                    (double)after / (double)n, (double)n / (double)(t1 - t0 + 1),
                    (double)n / (double)(t2 - t1 + 1));
            st_memtable_unref(mt);
        }
    }
    st_free(keys);
    st_free(klens);
}

/* The key filter never loses a key, and rejects most absent keys when sized for the data. */
static void
test_keyfilter(void)
{
    enum { N = 20000 };
    st_keyfilter f;
    ST_ASSERT_OK(st_keyfilter_init(&f, (size_t)N * 64));        /* ~8 bits per key */
    ST_ASSERT_EQ(st_keyfilter_memory(&f), (size_t)N / 64 * 64); /* whole 64-byte blocks */
    char k[32];
    for (int i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "key-%08d", i * 2);
        st_keyfilter_add(&f, (const uint8_t *)k, (size_t)n);
    }
    int fp = 0;
    for (int i = 0; i < N; i++) {
        int n = snprintf(k, sizeof k, "key-%08d", i * 2);
        ST_ASSERT_EQ(st_keyfilter_may_contain(&f, (const uint8_t *)k, (size_t)n), 1);
        n = snprintf(k, sizeof k, "key-%08d", i * 2 + 1);
        fp += st_keyfilter_may_contain(&f, (const uint8_t *)k, (size_t)n);
    }
    ST_ASSERT(fp < N / 20); /* a few percent expected */
    ST_ASSERT(fp > 0);      /* a filter this small is not exact */
    st_keyfilter_free(&f);
    /* unsized: no filter, every key may be present */
    ST_ASSERT_OK(st_keyfilter_init(&f, 0));
    ST_ASSERT_EQ(st_keyfilter_memory(&f), 0);
    ST_ASSERT_EQ(st_keyfilter_may_contain(&f, (const uint8_t *)"x", 1), 1);
    st_keyfilter_free(&f);
    /* a sized trie answers lookups of present and absent keys exactly, and counts the filter */
    st_memtable *mt;
    ST_ASSERT_OK(st_memtable_new_sized(ST_MEMTABLE_TRIE, (size_t)1 << 20, &mt));
    ST_ASSERT(st_memtable_memory(mt) >= ((size_t)1 << 20) / 64);
    for (int i = 0; i < 1000; i++) {
        int n = snprintf(k, sizeof k, "k%d", i * 3);
        ST_ASSERT_OK(st_memtable_add(mt, (uint64_t)i + 1, ST_KIND_PUT, k, (size_t)n, "v", 1));
    }
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(k, sizeof k, "k%d", i);
        int kind;
        const uint8_t *v;
        size_t vl;
        uint64_t seq;
        int rc = st_memtable_get(mt, k, (size_t)n, ST_SEQ_MAX, &kind, &v, &vl, &seq);
        ST_ASSERT_EQ(rc, i % 3 == 0 ? STRATA_OK : STRATA_NOTFOUND);
    }
    st_memtable_unref(mt);
}

/*
 * test_index_grows_with_data --
 *     A memtable sized for 1 GiB reserves nothing for it: its memory starts small and grows with
 *     the entries (the skiplist's hash index is added in generations). Every version of keys
 *     written across many index generations stays visible to gets at every snapshot.
 */
static void
test_index_grows_with_data(void)
{
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        st_memtable *mt = NULL;
        ST_ASSERT_OK(st_memtable_new_sized(st_mt_kinds[k], (size_t)1 << 30, &mt));
        size_t m0 = st_memtable_memory(mt);
        /* the trie's key filter is sized from the expected bytes (1/64 of them, capped);
         * nothing else may be reserved */
        ST_ASSERT(m0 <= (64u << 10) + (((size_t)1 << 30) / 64 > (16u << 20)
                                           ? (16u << 20)
                                           : ((size_t)1 << 30) / 64));
        const int n = 60000;
        char key[32];
        for (int round = 0; round < 2; round++)
            for (int i = 0; i < n; i++) {
                size_t kl = (size_t)snprintf(key, sizeof(key), "g%06d", i * 7919 % n);
                uint64_t seq = (uint64_t)round * n + (uint64_t)i + 1;
                ST_ASSERT_OK(st_memtable_add(mt, seq, ST_KIND_PUT, key, kl, &round, 1));
            }
        /* 120000 nodes: 1024 x 2 + 8192 x 2 + 65536 x 2 fills three generations */
        for (int i = 0; i < n; i += 7) {
            size_t kl = (size_t)snprintf(key, sizeof(key), "g%06d", i * 7919 % n);
            int kind;
            const uint8_t *v;
            size_t vl;
            uint64_t seq;
            ST_ASSERT_OK(st_memtable_get(mt, key, kl, UINT64_MAX >> 8, &kind, &v, &vl, &seq));
            ST_ASSERT_EQ(seq, (uint64_t)n + (uint64_t)i + 1); /* round 1's version */
            ST_ASSERT_OK(st_memtable_get(mt, key, kl, (uint64_t)n, &kind, &v, &vl, &seq));
            ST_ASSERT_EQ(seq, (uint64_t)i + 1); /* round 0's, at a snapshot between them */
            ST_ASSERT_RC(st_memtable_get(mt, key, kl, (uint64_t)i, &kind, &v, &vl, &seq),
                         STRATA_NOTFOUND);
        }
        ST_ASSERT(st_memtable_memory(mt) > m0 + 120000u * 16);
        st_memtable_unref(mt);
    }
}

int
main(void)
{
    ST_RUN(test_index_grows_with_data);
    ST_RUN(test_bad_args);
    ST_RUN(test_keyfilter);
    ST_RUN(test_binary_key_order);
    ST_RUN(test_versions_and_snapshots);
    ST_RUN(test_random_against_model);
    ST_RUN(test_kinds_identical);
    ST_RUN(test_nomem);
    ST_RUN(test_deep_and_long_keys);
    ST_RUN(test_memory_accounting);
    ST_RUN(test_memory_report);
    return st_test_done();
}
