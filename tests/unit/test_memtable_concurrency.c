/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Concurrency test of src/memtable (label `concurrency`, run under TSan): one writer adds
 * entries while reader threads do gets, full forward/backward scans and partial scans from
 * random seeks, without locks. Readers check that the entries they see are in strict entry order
 * and intact (each value is derived from key+seq), and that a get never returns a newer entry
 * than its snapshot. Both representations.
 */
#include "memtable/memtable.h"
#include "st_test.h"
#include "test_memtable_support.h"
#include "util/random.h"

#include <pthread.h>
#include <stdatomic.h>

#define N_READERS 3

typedef struct shared {
    st_memtable *mt;
    size_t n;                  /* entries the writer adds */
    _Atomic uint64_t last_seq; /* highest seq fully added (seqs are 1..n in order) */
    _Atomic int done;
    uint64_t seed;
    _Atomic uint64_t reader_entries; /* entries seen by readers (a sanity total) */
} shared;

/* Writer key i: 4..12 bytes, clustered prefixes, NUL and 0xFF bytes included. */
static size_t
key_for(st_rng *r, uint8_t *key)
{
    static const uint8_t alpha[] = {0x00, 'a', 'b', 'c', 0xff};
    size_t klen = 4 + (size_t)st_rng_uniform(r, 9);
    for (size_t j = 0; j < klen; j++)
        key[j] = alpha[st_rng_uniform(r, sizeof(alpha))];
    return klen;
}

static int
entry_ok(const st_iter *it)
{
    if (it->kind == ST_KIND_DELETE)
        return it->vlen == 0 && it->seq % 7 == 0;
    return it->kind == ST_KIND_PUT && st_mt_value_ok(it->key, it->klen, it->seq, it->val, it->vlen);
}

static void *
writer_main(void *arg)
{
    shared *sh = arg;
    st_rng r;
    st_rng_seed(&r, sh->seed);
    for (size_t i = 1; i <= sh->n; i++) {
        uint8_t key[16], val[ST_MT_MAX_DERIVED_VLEN];
        size_t klen = key_for(&r, key);
        int kind = i % 7 == 0 ? ST_KIND_DELETE : ST_KIND_PUT;
        size_t vlen = kind == ST_KIND_PUT ? st_mt_fill_value(val, key, klen, i) : 0;
        ST_ASSERT_OK(st_memtable_add(sh->mt, i, kind, key, klen, val, vlen));
        atomic_store_explicit(&sh->last_seq, i, memory_order_release);
    }
    atomic_store(&sh->done, 1);
    return NULL;
}

/* Walk forward or backward for up to `steps` entries, checking order and integrity. */
static uint64_t
walk(st_iter *it, int forward, size_t steps)
{
    uint8_t prev_key[16];
    size_t prev_klen = 0;
    uint64_t prev_seq = 0, count = 0;
    for (; it->valid && count < steps; count++) {
        ST_ASSERT(it->klen <= sizeof(prev_key));
        ST_ASSERT(entry_ok(it));
        if (count > 0) {
            int c = st_entry_cmp(prev_key, prev_klen, prev_seq, it->key, it->klen, it->seq);
            ST_ASSERT(forward ? c < 0 : c > 0);
        }
        memcpy(prev_key, it->key, it->klen);
        prev_klen = it->klen;
        prev_seq = it->seq;
        if (forward)
            st_iter_next(it);
        else
            st_iter_prev(it);
    }
    ST_ASSERT_OK(it->status);
    return count;
}

static void *
reader_main(void *arg)
{
    shared *sh = arg;
    st_rng r, keys;
    st_rng_seed(&r, sh->seed ^ (uint64_t)(uintptr_t)&r);
    uint64_t seen = 0;
    /* keep reading while the writer runs, and for a few rounds after (so a fast writer still
     * leaves the readers something to check) */
    for (int after = 0; after < 20; after += atomic_load(&sh->done)) {
        uint64_t lo = atomic_load_explicit(&sh->last_seq, memory_order_acquire);
        /* gets of keys the writer has certainly added: replay its key stream */
        st_rng_seed(&keys, sh->seed);
        uint64_t target = lo ? 1 + st_rng_uniform(&r, lo) : 0;
        uint8_t key[16];
        size_t klen = 0;
        for (uint64_t i = 1; i <= target; i++)
            klen = key_for(&keys, key);
        if (target) {
            int kind;
            const uint8_t *v;
            size_t vlen;
            uint64_t seq;
            /* at snapshot `target` the newest version of that key is target itself */
            ST_ASSERT_OK(st_memtable_get(sh->mt, key, klen, target, &kind, &v, &vlen, &seq));
            ST_ASSERT_EQ(seq, target);
            if (kind == ST_KIND_PUT)
                ST_ASSERT(st_mt_value_ok(key, klen, seq, v, vlen));
            /* at the latest snapshot: some version >= target */
            ST_ASSERT_OK(st_memtable_get(sh->mt, key, klen, ST_SEQ_MAX, &kind, &v, &vlen, &seq));
            ST_ASSERT(seq >= target);
        }
        st_iter *it = st_memtable_iter(sh->mt);
        ST_ASSERT(it != NULL);
        switch (st_rng_uniform(&r, 4)) {
        case 0: /* full forward scan sees at least everything added before it started */
            st_iter_seek_first(it);
            ST_ASSERT(walk(it, 1, SIZE_MAX) >= lo);
            break;
        case 1:
            st_iter_seek_last(it);
            ST_ASSERT(walk(it, 0, SIZE_MAX) >= lo);
            break;
        case 2:
            if (target) {
                st_iter_seek(it, key, klen, ST_SEQ_MAX);
                ST_ASSERT(it->valid); /* the key exists */
                seen += walk(it, 1, 200);
            }
            break;
        default:
            if (target) {
                st_iter_seek_for_prev(it, key, klen, 0);
                ST_ASSERT(it->valid);
                ST_ASSERT_MEM_EQ(it->key, it->klen, key, klen);
                seen += walk(it, 0, 200);
            }
            break;
        }
        st_iter_close(it);
    }
    atomic_fetch_add(&sh->reader_entries, seen);
    return NULL;
}

static void
test_one_writer_many_readers(void)
{
    for (size_t k = 0; k < ST_MT_NKINDS; k++) {
        shared sh;
        memset(&sh, 0, sizeof(sh));
        sh.n = (size_t)(20000 * st_test_scale());
        sh.seed = st_test_seed() + k;
        ST_ASSERT_OK(st_memtable_new(st_mt_kinds[k], &sh.mt));
        pthread_t w, rd[N_READERS];
        for (int i = 0; i < N_READERS; i++)
            ST_ASSERT(pthread_create(&rd[i], NULL, reader_main, &sh) == 0);
        ST_ASSERT(pthread_create(&w, NULL, writer_main, &sh) == 0);
        ST_ASSERT(pthread_join(w, NULL) == 0);
        for (int i = 0; i < N_READERS; i++)
            ST_ASSERT(pthread_join(rd[i], NULL) == 0);
        /* quiescent: everything is there, in order */
        st_iter *it = st_memtable_iter(sh.mt);
        ST_ASSERT(it != NULL);
        st_iter_seek_first(it);
        ST_ASSERT_EQ(walk(it, 1, SIZE_MAX), sh.n);
        st_iter_close(it);
        ST_ASSERT_EQ(st_memtable_entries(sh.mt), sh.n);
        fprintf(stderr, "  kind %d: readers checked %llu entries in partial scans\n",
                st_mt_kinds[k], (unsigned long long)atomic_load(&sh.reader_entries));
        st_memtable_unref(sh.mt);
    }
}

int
main(void)
{
    ST_RUN(test_one_writer_many_readers);
    return st_test_done();
}
