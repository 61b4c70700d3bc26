/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_iter_rangedel.c -- the fragmented range tombstone list (iter/rangedel.h) and the filter
 * iterator over it (iter/rangedel_iter.h): fragments, coverage at every snapshot against a
 * brute-force oracle over random overlapping tombstones, and the filter hiding exactly the
 * deleted entries of a child in both directions while seeking past covered ranges.
 */
#include "iter/rangedel.h"
#include "iter/rangedel_iter.h"
#include "st_test.h"
#include "util/alloc.h"
#include "util/coding.h"
#include "util/random.h"

#include <stdio.h>
#include <string.h>

static st_rdel
rd(const char *b, const char *e, uint64_t seq)
{
    return (st_rdel){(const uint8_t *)b, strlen(b), (const uint8_t *)e, strlen(e), seq};
}

static uint64_t
cover(const st_rdel_set *s, const char *k, uint64_t snap)
{
    return st_rdel_set_cover(s, (const uint8_t *)k, strlen(k), snap);
}

static void
test_fragments(void)
{
    /* [b, f)@5, [d, h)@9, [d, e)@3, an empty [x, x)@7 and a reversed [z, y)@8 */
    st_rdel t[] = {rd("b", "f", 5), rd("d", "h", 9), rd("d", "e", 3), rd("x", "x", 7),
                   rd("z", "y", 8)};
    st_rdel_set *s;
    ST_ASSERT_OK(st_rdel_set_build(t, 5, ST_SEQ_MAX, &s));
    ST_ASSERT_EQ(s->nraw, 3);
    ST_ASSERT_EQ(s->max_seq, 9);
    /* raw sorted by begin, then seq descending */
    ST_ASSERT_MEM_EQ(s->raw[0].begin, s->raw[0].blen, "b", 1);
    ST_ASSERT_EQ(s->raw[1].seq, 9);
    ST_ASSERT_EQ(s->raw[2].seq, 3);
    /* fragments: [b,d){5} [d,e){9,5,3} [e,f){9,5} [f,h){9} */
    ST_ASSERT_EQ(s->nfrags, 4);
    static const char *starts[] = {"b", "d", "e", "f"}, *ends[] = {"d", "e", "f", "h"};
    static const size_t nseq[] = {1, 3, 2, 1};
    for (size_t i = 0; i < 4; i++) {
        ST_ASSERT_MEM_EQ(s->frags[i].start, s->frags[i].slen, starts[i], 1);
        ST_ASSERT_MEM_EQ(s->frags[i].end, s->frags[i].elen, ends[i], 1);
        ST_ASSERT_EQ(s->frags[i].nseq, nseq[i]);
        for (size_t j = 1; j < s->frags[i].nseq; j++)
            ST_ASSERT(s->frags[i].seqs[j - 1] > s->frags[i].seqs[j]);
    }
    ST_ASSERT_EQ(cover(s, "a", ST_SEQ_MAX), 0);
    ST_ASSERT_EQ(cover(s, "b", ST_SEQ_MAX), 5);
    ST_ASSERT_EQ(cover(s, "c\xff", ST_SEQ_MAX), 5);
    ST_ASSERT_EQ(cover(s, "d", ST_SEQ_MAX), 9);
    ST_ASSERT_EQ(cover(s, "d", 8), 5);
    ST_ASSERT_EQ(cover(s, "d", 4), 3);
    ST_ASSERT_EQ(cover(s, "d", 2), 0);
    ST_ASSERT_EQ(cover(s, "gzz", ST_SEQ_MAX), 9);
    ST_ASSERT_EQ(cover(s, "h", ST_SEQ_MAX), 0); /* end is exclusive */
    ST_ASSERT_EQ(cover(s, "x", ST_SEQ_MAX), 0);
    ST_ASSERT_EQ(cover(NULL, "d", ST_SEQ_MAX), 0);
    /* a snapshot build keeps only the visible tombstones */
    st_rdel_set *s8;
    ST_ASSERT_OK(st_rdel_set_build(t, 5, 8, &s8));
    ST_ASSERT_EQ(s8->nraw, 2);
    ST_ASSERT_EQ(cover(s8, "g", ST_SEQ_MAX), 0);
    ST_ASSERT_EQ(cover(s8, "d", ST_SEQ_MAX), 5);
    /* merge of two sets equals a build of their union */
    st_rdel_set *parts[] = {s, s8}, *m;
    ST_ASSERT_OK(st_rdel_set_merge(parts, 2, ST_SEQ_MAX, &m));
    ST_ASSERT_EQ(m->nraw, 5);
    ST_ASSERT_EQ(cover(m, "d", 4), 3);
    st_rdel_set_unref(m);
    st_rdel_set_unref(s8);
    st_rdel_set_unref(s);
    /* an empty set */
    ST_ASSERT_OK(st_rdel_set_build(NULL, 0, ST_SEQ_MAX, &s));
    ST_ASSERT_EQ(s->nfrags, 0);
    ST_ASSERT_EQ(cover(s, "a", ST_SEQ_MAX), 0);
    st_rdel_set_unref(s);
}

/* Keys of the random tests: 1..3 bytes over {a, b, c, d}. */
static size_t
rkey(st_rng *r, uint8_t *k)
{
    size_t n = 1 + st_rng_uniform(r, 3);
    for (size_t i = 0; i < n; i++)
        k[i] = (uint8_t)('a' + st_rng_uniform(r, 4));
    return n;
}

static void
test_random_against_oracle(void)
{
    st_rng r;
    st_rng_seed(&r, st_test_seed());
    for (int round = 0; round < 200; round++) {
        size_t n = st_rng_uniform(&r, 30);
        uint8_t keys[64][8]; /* 8 bytes: gcc -O2 -Warray-bounds misreads st_bytes_cmp on 3 */
        st_rdel t[32];
        for (size_t i = 0; i < n; i++) {
            size_t bl = rkey(&r, keys[2 * i]), el = rkey(&r, keys[2 * i + 1]);
            t[i] = (st_rdel){keys[2 * i], bl, keys[2 * i + 1], el, 1 + st_rng_uniform(&r, 50)};
        }
        st_rdel_set *s;
        ST_ASSERT_OK(st_rdel_set_build(t, n, ST_SEQ_MAX, &s));
        /* fragments are sorted, non-overlapping and non-empty */
        for (size_t i = 0; i < s->nfrags; i++) {
            const st_rdel_frag *f = &s->frags[i];
            ST_ASSERT(st_bytes_cmp(f->start, f->slen, f->end, f->elen) < 0);
            if (i > 0)
                ST_ASSERT(st_bytes_cmp(s->frags[i - 1].end, s->frags[i - 1].elen, f->start,
                                       f->slen) <= 0);
        }
        for (int q = 0; q < 100; q++) {
            uint8_t k[8];
            size_t kl = rkey(&r, k);
            uint64_t snap = st_rng_uniform(&r, 4) ? 1 + st_rng_uniform(&r, 55) : ST_SEQ_MAX;
            uint64_t want = 0;
            for (size_t i = 0; i < n; i++)
                if (t[i].seq <= snap && t[i].seq > want &&
                    st_bytes_cmp(t[i].begin, t[i].blen, k, kl) <= 0 &&
                    st_bytes_cmp(k, kl, t[i].end, t[i].elen) < 0)
                    want = t[i].seq;
            ST_ASSERT_EQ(st_rdel_set_cover(s, k, kl, snap), want);
        }
        st_rdel_set_unref(s);
    }
}

/* ---- the filter iterator over a vector child ---------------------------------------------- */

typedef struct vent {
    char key[4];
    uint64_t seq;
} vent;

typedef struct vec_iter {
    st_iter base;
    const vent *v;
    size_t n;
    long pos;
    int *moves; /* every positioning call counts one */
} vec_iter;

static void
vi_pub(vec_iter *it)
{
    it->base.valid = it->pos >= 0 && (size_t)it->pos < it->n;
    if (it->base.valid) {
        const vent *e = &it->v[it->pos];
        it->base.key = (const uint8_t *)e->key;
        it->base.klen = strlen(e->key);
        it->base.seq = e->seq;
        it->base.kind = ST_KIND_PUT;
        it->base.val = (const uint8_t *)"";
        it->base.vlen = 0;
    }
    (*it->moves)++;
}

static int
vi_cmp(const vent *e, const uint8_t *k, size_t kl, uint64_t seq)
{
    return st_entry_cmp((const uint8_t *)e->key, strlen(e->key), e->seq, k, kl, seq);
}

static void
vi_first(st_iter *b)
{
    vec_iter *it = (vec_iter *)b;
    it->pos = 0;
    vi_pub(it);
}
static void
vi_last(st_iter *b)
{
    vec_iter *it = (vec_iter *)b;
    it->pos = (long)it->n - 1;
    vi_pub(it);
}
static void
vi_seek(st_iter *b, const uint8_t *k, size_t kl, uint64_t seq)
{
    vec_iter *it = (vec_iter *)b;
    it->pos = 0;
    while ((size_t)it->pos < it->n && vi_cmp(&it->v[it->pos], k, kl, seq) < 0)
        it->pos++;
    vi_pub(it);
}
static void
vi_seek_for_prev(st_iter *b, const uint8_t *k, size_t kl, uint64_t seq)
{
    vec_iter *it = (vec_iter *)b;
    it->pos = (long)it->n - 1;
    while (it->pos >= 0 && vi_cmp(&it->v[it->pos], k, kl, seq) > 0)
        it->pos--;
    vi_pub(it);
}
static void
vi_next(st_iter *b)
{
    vec_iter *it = (vec_iter *)b;
    it->pos++;
    vi_pub(it);
}
static void
vi_prev(st_iter *b)
{
    vec_iter *it = (vec_iter *)b;
    it->pos--;
    vi_pub(it);
}
static void
vi_close(st_iter *b)
{
    st_free(b);
}
static const st_iter_ops vec_ops = {vi_first, vi_last, vi_seek, vi_seek_for_prev, vi_next, vi_prev,
                                    vi_close, NULL,    NULL};

static uint64_t child_max_seq;

static void
const_bound(void *arg, const uint8_t *key, size_t klen, st_rdel_bound *out)
{
    (void)arg;
    (void)key;
    (void)klen;
    *out = (st_rdel_bound){child_max_seq, NULL, NULL, 0, 0};
}

static void
test_filter_iter(void)
{
    /* 26 x 20 keys "xy" at seq 10, "m*" also at seq 30; tombstone [c, w)@20 */
    static vent v[26 * 20 + 20];
    size_t n = 0;
    for (int a = 0; a < 26; a++)
        for (int b = 0; b < 20; b++) {
            if (a == 'm' - 'a') {
                snprintf(v[n].key, sizeof(v[n].key), "%c%c", 'a' + a, 'a' + b);
                v[n++].seq = 30;
            }
            snprintf(v[n].key, sizeof(v[n].key), "%c%c", 'a' + a, 'a' + b);
            v[n++].seq = 10;
        }
    st_rdel t[] = {rd("c", "w", 20)};
    st_rdel_set *s;
    ST_ASSERT_OK(st_rdel_set_build(t, 1, ST_SEQ_MAX, &s));
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: the child has newer entries (m*@30): it must step; pass 1: an older child */
        child_max_seq = pass == 0 ? 30 : 10;
        size_t nv = pass == 0 ? n : 0;
        static vent older[26 * 20];
        if (pass == 1) {
            for (size_t i = 0; i < n; i++)
                if (v[i].seq == 10)
                    older[nv++] = v[i];
        }
        int moves = 0;
        vec_iter *c = st_calloc(1, sizeof(*c));
        ST_ASSERT(c != NULL);
        c->base.ops = &vec_ops;
        c->v = pass == 0 ? v : older;
        c->n = nv;
        c->moves = &moves;
        st_iter *f = st_rdel_filter_iter_new(&c->base, s, 100, const_bound, NULL, NULL);
        ST_ASSERT(f != NULL);
        /* visible: a*, b* (40), m*@30 (pass 0: 20), w*..z* (80) */
        size_t want = pass == 0 ? 140 : 120, got = 0;
        for (st_iter_seek_first(f); f->valid; st_iter_next(f)) {
            ST_ASSERT(f->key[0] < 'c' || f->key[0] >= 'w' || f->seq == 30);
            got++;
        }
        ST_ASSERT_EQ(got, want);
        if (pass == 1)
            ST_ASSERT(moves < 130); /* one seek skipped the 360 covered entries */
        got = 0;
        for (st_iter_seek_last(f); f->valid; st_iter_prev(f))
            got++;
        ST_ASSERT_EQ(got, want);
        /* seeks into the covered range land after it (before it, backwards) */
        st_iter_seek(f, (const uint8_t *)"d", 1, ST_SEQ_MAX);
        ST_ASSERT(f->valid);
        ST_ASSERT(pass == 0 ? f->key[0] == 'm' : f->key[0] == 'w');
        st_iter_seek_for_prev(f, (const uint8_t *)"k", 1, 0);
        ST_ASSERT(f->valid && f->key[0] == 'b' && f->key[1] == 't');
        /* a snapshot older than the tombstone sees everything */
        st_iter_close(f);
        c = st_calloc(1, sizeof(*c));
        ST_ASSERT(c != NULL);
        c->base.ops = &vec_ops;
        c->v = pass == 0 ? v : older;
        c->n = nv;
        c->moves = &moves;
        f = st_rdel_filter_iter_new(&c->base, s, 15, const_bound, NULL, NULL);
        got = 0;
        for (st_iter_seek_first(f); f->valid; st_iter_next(f))
            got += f->seq <= 15;
        ST_ASSERT_EQ(got, 26 * 20);
        st_iter_close(f);
    }
    st_rdel_set_unref(s);
}

int
main(void)
{
    ST_RUN(test_fragments);
    ST_RUN(test_random_against_oracle);
    ST_RUN(test_filter_iter);
    return st_test_done();
}
