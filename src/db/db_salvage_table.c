/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_salvage_table.c -- repair's salvage of one damaged table (st_repair_salvage_table): every
 * row st_sst_salvage can still read, through the footer or, when the footer cannot be read, by
 * walking the pages, tombstones included (so deleted keys stay deleted), goes into a new table;
 * every run of rows it could not read becomes a lost key range of the report, its open ends
 * narrowed to the key range the old manifest recorded for the table.
 */
#include "db/db_repair.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

typedef struct salvage_ctx {
    st_sst_builder *b;
    st_repair_report *r;
    const char *name;
    const st_table_meta *old; /* the table in the old manifest, or NULL */
    uint64_t lost_rows;
    int lost_more;
} salvage_ctx;

static int
on_entry(void *arg, const uint8_t *key, size_t klen, uint64_t seq, int kind, const uint8_t *val,
         size_t vlen)
{
    salvage_ctx *c = arg;
    if (kind == ST_KIND_RANGE_DELETE) /* kept: the ranges it deleted stay deleted */
        return st_sst_builder_add_range_del(c->b, key, klen, val, vlen, seq);
    st_sst_builder_add(c->b, key, klen, seq, kind, val, vlen);
    return st_sst_builder_status(c->b);
}

static void
on_lost(void *arg, const uint8_t *lo, size_t lolen, const uint8_t *hi, size_t hilen, uint64_t rows,
        int more, const char *why)
{
    salvage_ctx *c = arg;
    char what[ST_ERRMSG_MAX + 64];
    if (rows == 0)
        snprintf(what, sizeof(what), "an unknown number of unreadable rows: %s", why);
    else
        snprintf(what, sizeof(what), "%" PRIu64 " unreadable row(s)%s: %s", rows,
                 more ? " and maybe more" : "", why);
    c->lost_rows += rows;
    c->lost_more |= more;
    if (!lo && c->old) {
        lo = c->old->smallest;
        lolen = c->old->smallest_len;
    }
    if (!hi && c->old) {
        hi = c->old->largest;
        hilen = c->old->largest_len;
    }
    st_rep_lost(c->r, lo, lolen, hi, hilen, c->name, what);
}

/* Copy the original's footer pairs (orig NULL: unreadable), adding orig_num to
 * strata-replaces. */
static int
copy_props(st_sst_builder *b, const st_sst_meta *orig, uint64_t orig_num)
{
    char num[24];
    snprintf(num, sizeof(num), "%" PRIu64, orig_num);
    const char *rp = orig ? st_sst_meta_prop(orig, "strata-replaces") : NULL;
    for (size_t i = 0; orig && i < orig->nprops; i++)
        if (strcmp(orig->props[i].key, "strata-replaces") != 0)
            ST_RET(st_sst_builder_set_meta(b, orig->props[i].key, orig->props[i].value));
    size_t n = (rp ? strlen(rp) + 1 : 0) + strlen(num) + 1;
    char *v = st_malloc(n);
    if (!v)
        return st_err(STRATA_NOMEM, "out of memory");
    snprintf(v, n, "%s%s%s", rp ? rp : "", rp ? "," : "", num);
    int rc = st_sst_builder_set_meta(b, "strata-replaces", v);
    st_free(v);
    return rc;
}

int
st_repair_salvage_table(st_env *env, const char *dir, const char *name, uint64_t orig_num,
                        uint64_t new_num, const st_table_meta *old, st_repair_report *r,
                        st_sst_meta *out, int *built)
{
    *built = 0;
    char *src = st_path_join(dir, name);
    char *dst = st_file_path(dir, ST_FILE_TABLE, new_num);
    st_sst_reader *orig = NULL;
    salvage_ctx c = {NULL, r, name, old, 0, 0};
    int walked = 0;
    int rc = src && dst ? STRATA_OK : st_err(STRATA_NOMEM, "out of memory");
    if (rc == STRATA_OK && (rc = st_sst_reader_open(env, src, NULL, &orig)) != STRATA_NOMEM)
        rc = STRATA_OK; /* an unreadable footer has no pairs to keep */
    if (rc == STRATA_OK)
        rc = st_sst_builder_new(env, dst, NULL, &c.b);
    if (rc == STRATA_OK)
        rc = copy_props(c.b, orig ? st_sst_reader_meta(orig) : NULL, orig_num);
    if (rc == STRATA_OK) {
        st_sst_salvage_ops ops = {on_entry, on_lost, &c};
        rc = st_sst_salvage(env, src, &ops, &walked);
    }
    uint64_t rows = c.b ? st_sst_builder_entries(c.b) : 0;
    if (rc == STRATA_OK && rows > 0) {
        rc = st_sst_builder_finish(c.b, out);
        c.b = NULL;
        if (rc == STRATA_OK)
            rc = env->sync_dir(env, dir);
        *built = rc == STRATA_OK;
    }
    st_sst_builder_abandon(c.b);
    if (rc == STRATA_OK)
        st_rep(r, "%s: salvaged %" PRIu64 " row(s)%s%s%s, lost %" PRIu64 "%s\n", name, rows,
               walked ? " by walking its pages" : "", rows ? " into " : "",
               rows ? strrchr(dst, '/') + 1 : "", c.lost_rows, c.lost_more ? " (maybe more)" : "");
    st_sst_reader_unref(orig);
    st_free(dst);
    st_free(src);
    return rc;
}
