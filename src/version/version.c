/* SPDX-License-Identifier: Apache-2.0 */
/* version.c -- reference-counted tables and versions, and reads over a version. */
#include "version/version.h"

#include "util/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *
st_table_path(const char *dir, uint64_t fnum)
{
    char name[64];
    snprintf(name, sizeof(name), "%06" PRIu64 ".parquet", fnum);
    return st_path_join(dir, name);
}

int
st_table_open(const st_table_ctx *ctx, const st_table_meta *m, st_table **out)
{
    *out = NULL;
    st_table *t = st_calloc(1, sizeof(*t));
    char *path = st_table_path(ctx->dir, m->fnum);
    int rc = STRATA_OK;
    if (!t || !path) {
        rc = st_err(STRATA_NOMEM, "out of memory opening a table");
        goto err;
    }
    ST_ERR(st_table_meta_copy(&t->m, m));
    rc = st_sst_reader_open(ctx->env, path, ctx->cache, &t->reader);
    if (rc == STRATA_NOTFOUND)
        rc = st_err(STRATA_CORRUPT, "table %s is listed in the manifest but missing", path);
    else if (rc == STRATA_NOTSUP)
        /* this database wrote the file: an unknown format inside it means damage */
        rc = st_err_prefix(STRATA_CORRUPT, "table %s is damaged: ", path);
    if (rc != STRATA_OK)
        goto err;
    {
        const st_sst_meta *sm = st_sst_reader_meta(t->reader);
        if (sm->file_size != m->file_size || sm->entries != m->entries ||
            st_bytes_cmp(sm->smallest, sm->smallest_len, m->smallest, m->smallest_len) != 0 ||
            st_bytes_cmp(sm->largest, sm->largest_len, m->largest, m->largest_len) != 0) {
            rc = st_err(STRATA_CORRUPT,
                        "table %s does not match the manifest (size %" PRIu64 " vs %" PRIu64
                        ", entries %" PRIu64 " vs %" PRIu64 ")",
                        path, sm->file_size, m->file_size, sm->entries, m->entries);
            goto err;
        }
    }
    atomic_init(&t->refs, 1);
    t->ctx = ctx;
    *out = t;
    t = NULL;
err:
    if (t) {
        if (t->reader)
            st_sst_reader_unref(t->reader);
        st_table_meta_free(&t->m);
        st_free(t);
    }
    st_free(path);
    return rc;
}

void
st_table_ref(st_table *t)
{
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

void
st_table_unref(st_table *t)
{
    if (!t || atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
        return;
    st_sst_reader_unref(t->reader);
    if (atomic_load(&t->obsolete)) {
        char *path = st_table_path(t->ctx->dir, t->m.fnum);
        if (path) {
            char saved[ST_ERRMSG_MAX];
            snprintf(saved, sizeof(saved), "%s", st_errmsg());
            /* Best effort: a file that cannot be removed now is removed at the next open. */
            t->ctx->env->remove(t->ctx->env, path);
            st_err(STRATA_OK, "%s", saved);
        }
        st_free(path);
    }
    st_table_meta_free(&t->m);
    st_free(t);
}

static int
by_max_seq_desc(const void *a, const void *b)
{
    const st_table *x = *(st_table *const *)a, *y = *(st_table *const *)b;
    if (x->m.max_seq != y->m.max_seq)
        return x->m.max_seq > y->m.max_seq ? -1 : 1;
    return x->m.fnum > y->m.fnum ? -1 : (x->m.fnum < y->m.fnum);
}

int
st_version_new(st_table *const *t, size_t n, st_version **out)
{
    *out = NULL;
    st_version *v = st_calloc(1, sizeof(*v));
    st_table **arr = st_calloc(n ? n : 1, sizeof(*arr));
    if (!v || !arr) {
        st_free(v);
        st_free(arr);
        return st_err(STRATA_NOMEM, "out of memory building a version");
    }
    for (size_t i = 0; i < n; i++) {
        arr[i] = t[i];
        st_table_ref(t[i]);
        v->bytes += t[i]->m.file_size;
    }
    qsort(arr, n, sizeof(*arr), by_max_seq_desc);
    v->t = arr;
    v->n = n;
    atomic_init(&v->refs, 1);
    *out = v;
    return STRATA_OK;
}

void
st_version_ref(st_version *v)
{
    atomic_fetch_add_explicit(&v->refs, 1, memory_order_relaxed);
}

void
st_version_unref(st_version *v)
{
    if (!v || atomic_fetch_sub_explicit(&v->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < v->n; i++)
        st_table_unref(v->t[i]);
    st_free(v->t);
    st_free(v);
}

static int
key_in_range(const st_table *t, const uint8_t *key, size_t klen)
{
    return st_bytes_cmp(key, klen, t->m.smallest, t->m.smallest_len) >= 0 &&
           st_bytes_cmp(key, klen, t->m.largest, t->m.largest_len) <= 0;
}

int
st_version_get(st_version *v, const uint8_t *key, size_t klen, uint64_t snap, int *kind,
               st_buf *val, uint64_t *seq)
{
    /* Tables are ordered by max_seq descending. Once a version with sequence s is found, a
     * table whose max_seq is below s cannot hold anything newer: stop there. */
    int found = 0;
    uint64_t best = 0;
    st_buf tmp;
    st_buf_init(&tmp);
    int rc = STRATA_OK;
    for (size_t i = 0; i < v->n; i++) {
        st_table *t = v->t[i];
        if (found && t->m.max_seq < best)
            break;
        if (t->m.min_seq > snap || !key_in_range(t, key, klen))
            continue;
        int k;
        uint64_t s;
        st_buf_clear(&tmp);
        rc = st_sst_reader_get(t->reader, key, klen, snap, &k, &tmp, &s);
        if (rc == STRATA_NOTFOUND) {
            rc = STRATA_OK;
            continue;
        }
        if (rc != STRATA_OK)
            break;
        if (!found || s > best) {
            found = 1;
            best = s;
            *kind = k;
            *seq = s;
            st_buf tswap = *val;
            *val = tmp;
            tmp = tswap;
        }
    }
    st_buf_free(&tmp);
    if (rc != STRATA_OK)
        return rc;
    return found ? STRATA_OK : STRATA_NOTFOUND;
}

int
st_version_iters(st_version *v, const uint8_t *lower, size_t llen, const uint8_t *upper,
                 size_t ulen, int fill_cache, st_iter ***its, size_t *n)
{
    *its = NULL;
    *n = 0;
    st_iter **arr = st_calloc(v->n ? v->n : 1, sizeof(*arr));
    if (!arr)
        return st_err(STRATA_NOMEM, "out of memory");
    size_t k = 0;
    int rc = STRATA_OK;
    for (size_t i = 0; i < v->n; i++) {
        st_table *t = v->t[i];
        if (upper && st_bytes_cmp(t->m.smallest, t->m.smallest_len, upper, ulen) >= 0)
            continue;
        if (lower && st_bytes_cmp(t->m.largest, t->m.largest_len, lower, llen) < 0)
            continue;
        rc = st_sst_reader_iter(t->reader, lower, llen, upper, ulen, fill_cache, &arr[k]);
        if (rc != STRATA_OK)
            break;
        k++;
    }
    if (rc != STRATA_OK) {
        for (size_t i = 0; i < k; i++)
            st_iter_close(arr[i]);
        st_free(arr);
        return rc;
    }
    *its = arr;
    *n = k;
    return STRATA_OK;
}
