/* SPDX-License-Identifier: Apache-2.0 */
/* rangedel.c -- the fragmented range tombstone list (see rangedel.h). */
#include "iter/rangedel.h"

#include "iter/iter.h"
#include "util/alloc.h"
#include "util/coding.h"
#include "util/status.h"

#include <stdlib.h>
#include <string.h>

typedef struct keyref {
    const uint8_t *p;
    size_t n;
} keyref;

static int
keyref_cmp(const void *a, const void *b)
{
    const keyref *x = a, *y = b;
    return st_bytes_cmp(x->p, x->n, y->p, y->n);
}

static int
raw_cmp(const void *a, const void *b)
{
    const st_rdel *x = a, *y = b;
    int c = st_bytes_cmp(x->begin, x->blen, y->begin, y->blen);
    if (c != 0)
        return c;
    if (x->seq != y->seq)
        return x->seq > y->seq ? -1 : 1;
    return st_bytes_cmp(x->end, x->elen, y->end, y->elen);
}

static int
seq_desc(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x > y ? -1 : (x < y ? 1 : 0);
}

/* Index of key in the sorted, distinct bounds (it is there). */
static size_t
bound_index(const keyref *b, size_t n, const uint8_t *key, size_t klen)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st_bytes_cmp(b[mid].p, b[mid].n, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void
st_rdel_set_ref(st_rdel_set *s)
{
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
}

static void
set_free(st_rdel_set *s)
{
    st_free(s->raw);
    st_free(s->frags);
    st_free(s->keys);
    st_free(s->seqs);
    st_free(s);
}

void
st_rdel_set_unref(st_rdel_set *s)
{
    if (s && atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1)
        set_free(s);
}

/* Fragment s->raw into s->frags (s->raw sorted, non-empty ranges). */
static int
fragment(st_rdel_set *s)
{
    size_t m = s->nraw, nb = 0, nint, total = 0;
    int rc = STRATA_OK;
    keyref *b = st_malloc((2 * m + 1) * sizeof(*b));
    size_t *bi = st_malloc((2 * m + 1) * sizeof(*bi));
    size_t *cnt = st_calloc(2 * m + 1, sizeof(*cnt));
    if (!b || !bi || !cnt) {
        rc = st_err(STRATA_NOMEM, "out of memory fragmenting %zu range tombstones", m);
        goto out;
    }
    for (size_t i = 0; i < m; i++) {
        b[nb++] = (keyref){s->raw[i].begin, s->raw[i].blen};
        b[nb++] = (keyref){s->raw[i].end, s->raw[i].elen};
    }
    qsort(b, nb, sizeof(*b), keyref_cmp);
    {
        size_t u = 0;
        for (size_t i = 0; i < nb; i++)
            if (u == 0 || keyref_cmp(&b[u - 1], &b[i]) != 0)
                b[u++] = b[i];
        nb = u;
    }
    nint = nb ? nb - 1 : 0; /* elementary interval j = [b[j], b[j+1]) */
    /* cnt[j]: tombstones covering interval j (difference array, then prefix sums) */
    for (size_t i = 0; i < m; i++) {
        size_t lo = bound_index(b, nb, s->raw[i].begin, s->raw[i].blen);
        size_t hi = bound_index(b, nb, s->raw[i].end, s->raw[i].elen);
        bi[2 * i] = lo;
        bi[2 * i + 1] = hi;
        cnt[lo]++;
        cnt[hi]--;
    }
    for (size_t j = 1; j < nint; j++)
        cnt[j] += cnt[j - 1];
    for (size_t j = 0; j < nint; j++)
        total += cnt[j];
    s->seqs = st_malloc((total ? total : 1) * sizeof(*s->seqs));
    s->frags = st_malloc((nint ? nint : 1) * sizeof(*s->frags));
    if (!s->seqs || !s->frags) {
        rc = st_err(STRATA_NOMEM, "out of memory fragmenting %zu range tombstones", m);
        goto out;
    }
    {
        /* cnt becomes each interval's offset in seqs; bi's lo is reused as a fill cursor */
        size_t off = 0;
        for (size_t j = 0; j < nint; j++) {
            size_t c = cnt[j];
            cnt[j] = off;
            off += c;
        }
        cnt[nint] = off;
        size_t *fill = st_calloc(nint ? nint : 1, sizeof(*fill));
        if (!fill) {
            rc = st_err(STRATA_NOMEM, "out of memory fragmenting %zu range tombstones", m);
            goto out;
        }
        for (size_t i = 0; i < m; i++)
            for (size_t j = bi[2 * i]; j < bi[2 * i + 1]; j++)
                s->seqs[cnt[j] + fill[j]++] = s->raw[i].seq;
        st_free(fill);
    }
    s->nfrags = 0;
    for (size_t j = 0; j < nint; j++) {
        size_t n = cnt[j + 1] - cnt[j];
        if (n == 0)
            continue;
        uint64_t *q = s->seqs + cnt[j];
        qsort(q, n, sizeof(*q), seq_desc);
        st_rdel_frag *prev = s->nfrags ? &s->frags[s->nfrags - 1] : NULL;
        if (prev && prev->end == b[j].p && prev->nseq == n &&
            memcmp(prev->seqs, q, n * sizeof(*q)) == 0) {
            prev->end = b[j + 1].p; /* same tombstones: extend */
            prev->elen = b[j + 1].n;
            continue;
        }
        s->frags[s->nfrags++] = (st_rdel_frag){b[j].p, b[j].n, b[j + 1].p, b[j + 1].n, q, n};
    }
out:
    st_free(b);
    st_free(bi);
    st_free(cnt);
    return rc;
}

int
st_rdel_set_build(const st_rdel *t, size_t n, uint64_t snap, st_rdel_set **out)
{
    *out = NULL;
    st_rdel_set *s = st_calloc(1, sizeof(*s));
    if (!s)
        return st_err(STRATA_NOMEM, "out of memory building a range tombstone list");
    atomic_init(&s->refs, 1);
    size_t m = 0, bytes = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i].seq <= snap && st_bytes_cmp(t[i].begin, t[i].blen, t[i].end, t[i].elen) < 0) {
            m++;
            bytes += t[i].blen + t[i].elen;
        }
    s->raw = st_malloc((m ? m : 1) * sizeof(*s->raw));
    s->keys = st_malloc(bytes ? bytes : 1);
    if (!s->raw || !s->keys) {
        set_free(s);
        return st_err(STRATA_NOMEM, "out of memory building a range tombstone list");
    }
    uint8_t *p = s->keys;
    for (size_t i = 0; i < n; i++) {
        if (t[i].seq > snap || st_bytes_cmp(t[i].begin, t[i].blen, t[i].end, t[i].elen) >= 0)
            continue;
        st_rdel *r = &s->raw[s->nraw++];
        memcpy(p, t[i].begin, t[i].blen);
        r->begin = p;
        r->blen = t[i].blen;
        p += t[i].blen;
        memcpy(p, t[i].end, t[i].elen);
        r->end = p;
        r->elen = t[i].elen;
        p += t[i].elen;
        r->seq = t[i].seq;
        if (r->seq > s->max_seq)
            s->max_seq = r->seq;
    }
    qsort(s->raw, s->nraw, sizeof(*s->raw), raw_cmp);
    int rc = fragment(s);
    if (rc != STRATA_OK) {
        set_free(s);
        return rc;
    }
    *out = s;
    return STRATA_OK;
}

int
st_rdel_set_merge(st_rdel_set *const *sets, size_t n, uint64_t snap, st_rdel_set **out)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += sets[i] ? sets[i]->nraw : 0;
    st_rdel *all = st_malloc((total ? total : 1) * sizeof(*all));
    if (!all)
        return st_err(STRATA_NOMEM, "out of memory merging %zu range tombstones", total);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; sets[i] && j < sets[i]->nraw; j++)
            all[k++] = sets[i]->raw[j];
    int rc = st_rdel_set_build(all, k, snap, out);
    st_free(all);
    return rc;
}

size_t
st_rdel_set_lower(const st_rdel_set *s, const uint8_t *key, size_t klen)
{
    size_t lo = 0, hi = s->nfrags;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st_bytes_cmp(s->frags[mid].end, s->frags[mid].elen, key, klen) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const st_rdel_frag *
st_rdel_set_find(const st_rdel_set *s, const uint8_t *key, size_t klen)
{
    size_t i = st_rdel_set_lower(s, key, klen);
    if (i == s->nfrags)
        return NULL;
    const st_rdel_frag *f = &s->frags[i];
    return st_bytes_cmp(f->start, f->slen, key, klen) <= 0 ? f : NULL;
}

size_t
st_rdel_frag_newer(const st_rdel_frag *f, uint64_t seq)
{
    /* seqs descending: the index of the first one <= seq */
    size_t lo = 0, hi = f->nseq;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (f->seqs[mid] > seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t
st_rdel_frag_cover(const st_rdel_frag *f, uint64_t snap)
{
    size_t i = st_rdel_frag_newer(f, snap);
    return i < f->nseq ? f->seqs[i] : 0;
}

uint64_t
st_rdel_set_cover(const st_rdel_set *s, const uint8_t *key, size_t klen, uint64_t snap)
{
    if (!s || s->nfrags == 0)
        return 0;
    const st_rdel_frag *f = st_rdel_set_find(s, key, klen);
    return f ? st_rdel_frag_cover(f, snap) : 0;
}
