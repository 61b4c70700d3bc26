/* SPDX-License-Identifier: Apache-2.0 */
/* model.c -- sorted-array oracle (see model.h). */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct model_ent {
    unsigned char *key, *val;
    size_t klen, vlen;
} model_ent;

struct st_model {
    model_ent *v;
    size_t n, cap;
};

static void *
xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) {
        fprintf(stderr, "model: out of memory\n");
        abort();
    }
    return p;
}

static unsigned char *
xdup(const void *p, size_t n)
{
    unsigned char *d = xmalloc(n);
    if (n)
        memcpy(d, p, n);
    return d;
}

int
st_model_keycmp(const void *a, size_t alen, const void *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

st_model *
st_model_new(void)
{
    st_model *m = xmalloc(sizeof(*m));
    memset(m, 0, sizeof(*m));
    return m;
}

void
st_model_clear(st_model *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->v[i].key);
        free(m->v[i].val);
    }
    m->n = 0;
}

void
st_model_free(st_model *m)
{
    if (!m)
        return;
    st_model_clear(m);
    free(m->v);
    free(m);
}

st_model *
st_model_clone(const st_model *m)
{
    st_model *c = st_model_new();
    c->cap = m->n ? m->n : 1;
    c->v = xmalloc(c->cap * sizeof(*c->v));
    for (size_t i = 0; i < m->n; i++) {
        c->v[i].key = xdup(m->v[i].key, m->v[i].klen);
        c->v[i].klen = m->v[i].klen;
        c->v[i].val = xdup(m->v[i].val, m->v[i].vlen);
        c->v[i].vlen = m->v[i].vlen;
    }
    c->n = m->n;
    return c;
}

size_t
st_model_lower_bound(const st_model *m, const void *key, size_t klen)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st_model_keycmp(m->v[mid].key, m->v[mid].klen, key, klen) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int
find(const st_model *m, const void *key, size_t klen, size_t *pos)
{
    *pos = st_model_lower_bound(m, key, klen);
    return *pos < m->n && st_model_keycmp(m->v[*pos].key, m->v[*pos].klen, key, klen) == 0;
}

long
st_model_seek_for_prev(const st_model *m, const void *key, size_t klen)
{
    size_t pos;
    if (find(m, key, klen, &pos))
        return (long)pos;
    return (long)pos - 1;
}

void
st_model_put(st_model *m, const void *key, size_t klen, const void *val, size_t vlen)
{
    size_t pos;
    if (find(m, key, klen, &pos)) {
        free(m->v[pos].val);
        m->v[pos].val = xdup(val, vlen);
        m->v[pos].vlen = vlen;
        return;
    }
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        model_ent *nv = realloc(m->v, ncap * sizeof(*nv));
        if (!nv) {
            fprintf(stderr, "model: out of memory\n");
            abort();
        }
        m->v = nv;
        m->cap = ncap;
    }
    memmove(&m->v[pos + 1], &m->v[pos], (m->n - pos) * sizeof(*m->v));
    m->v[pos].key = xdup(key, klen);
    m->v[pos].klen = klen;
    m->v[pos].val = xdup(val, vlen);
    m->v[pos].vlen = vlen;
    m->n++;
}

void
st_model_delete(st_model *m, const void *key, size_t klen)
{
    size_t pos;
    if (!find(m, key, klen, &pos))
        return;
    free(m->v[pos].key);
    free(m->v[pos].val);
    memmove(&m->v[pos], &m->v[pos + 1], (m->n - pos - 1) * sizeof(*m->v));
    m->n--;
}

void
st_model_delete_range(st_model *m, const void *begin, size_t blen, const void *end, size_t elen)
{
    size_t lo = st_model_lower_bound(m, begin, blen), hi = st_model_lower_bound(m, end, elen);
    if (hi <= lo)
        return;
    for (size_t i = lo; i < hi; i++) {
        free(m->v[i].key);
        free(m->v[i].val);
    }
    memmove(&m->v[lo], &m->v[hi], (m->n - hi) * sizeof(*m->v));
    m->n -= hi - lo;
}

int
st_model_get(const st_model *m, const void *key, size_t klen, const void **val, size_t *vlen)
{
    size_t pos;
    if (!find(m, key, klen, &pos))
        return 0;
    *val = m->v[pos].val;
    *vlen = m->v[pos].vlen;
    return 1;
}

size_t
st_model_count(const st_model *m)
{
    return m->n;
}

void
st_model_at(const st_model *m, size_t i, const void **key, size_t *klen, const void **val,
            size_t *vlen)
{
    *key = m->v[i].key;
    *klen = m->v[i].klen;
    if (val)
        *val = m->v[i].val;
    if (vlen)
        *vlen = m->v[i].vlen;
}
