/* SPDX-License-Identifier: Apache-2.0 */
/* table.c -- reference-counted tables of a version and access to their readers. */
#include "util/alloc.h"
#include "version/filename.h"
#include "version/version.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Open m's file and check its footer against m. */
static int
open_reader(const st_table_ctx *ctx, const st_table_meta *m, st_sst_reader **out)
{
    *out = NULL;
    char *path = st_file_path(ctx->dir, ST_FILE_TABLE, m->fnum);
    if (!path)
        return st_err(STRATA_NOMEM, "out of memory opening a table");
    st_sst_reader *r = NULL;
    int rc = st_sst_reader_open(ctx->env, path, ctx->cache, &r);
    if (rc == STRATA_NOTFOUND)
        rc = st_err(STRATA_CORRUPT, "table %s is listed in the manifest but missing", path);
    else if (rc == STRATA_NOTSUP)
        /* this database wrote the file: an unknown format inside it means damage */
        rc = st_err_prefix(STRATA_CORRUPT, "table %s is damaged: ", path);
    if (rc == STRATA_OK) {
        const st_sst_meta *sm = st_sst_reader_meta(r);
        if (sm->file_size != m->file_size || sm->entries != m->entries ||
            st_bytes_cmp(sm->smallest, sm->smallest_len, m->smallest, m->smallest_len) != 0 ||
            st_bytes_cmp(sm->largest, sm->largest_len, m->largest, m->largest_len) != 0) {
            rc = st_err(STRATA_CORRUPT,
                        "table %s does not match the manifest (size %" PRIu64 " vs %" PRIu64
                        ", entries %" PRIu64 " vs %" PRIu64 ")",
                        path, sm->file_size, m->file_size, sm->entries, m->entries);
            st_sst_reader_unref(r);
            r = NULL;
        }
    }
    st_free(path);
    *out = r;
    return rc;
}

int
st_table_open(const st_table_ctx *ctx, const st_table_meta *m, st_table **out)
{
    *out = NULL;
    st_table *t = st_calloc(1, sizeof(*t));
    if (!t)
        return st_err(STRATA_NOMEM, "out of memory opening a table");
    int rc = st_table_meta_copy(&t->m, m);
    st_sst_reader *r = NULL;
    if (rc == STRATA_OK)
        rc = open_reader(ctx, &t->m, &r);
    if (rc != STRATA_OK) {
        st_table_meta_free(&t->m);
        st_free(t);
        return rc;
    }
    atomic_init(&t->refs, 1);
    t->ctx = ctx;
    t->range_dels = st_sst_reader_meta(r)->range_tombstones;
    st_table_cache_attach(t, r);
    *out = t;
    return STRATA_OK;
}

int
st_table_reader(st_table *t, st_sst_reader **out)
{
    st_sst_reader *r = st_table_cache_peek(t);
    if (!r) {
        ST_RET(open_reader(t->ctx, &t->m, &r));
        st_sst_reader_ref(r); /* the caller's; the cache keeps the opening one */
        st_table_cache_attach(t, r);
    }
    *out = r;
    return STRATA_OK;
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
    st_table_cache_detach(t);
    if (atomic_load(&t->obsolete)) {
        char *path = st_file_path(t->ctx->dir, ST_FILE_TABLE, t->m.fnum);
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
