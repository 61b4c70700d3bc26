/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_install.c -- installing versions: a flush's or a compaction's edit is made durable in the
 * manifest (rolled to a fresh one past MANIFEST_ROLL_BYTES), then the new version replaces the
 * current one and the tables it drops are marked obsolete (their files go with their last
 * reference). Also the UCS view of a version that installation, scheduling and statistics share:
 * the picker's options and table list, the per-level summary and the read overlap.
 */
#include "db/db_impl.h"
#include "util/alloc.h"

#include <string.h>

#define MANIFEST_ROLL_BYTES (64u << 20)

/* Floor of UCS's m. m is also the smallest table the picker shards outputs into; below 64 KiB a
 * table's fixed costs (footer, descriptor, mapping) would be a sizeable part of it. */
#define UCS_MIN_FLUSH_SIZE (64u << 10)

/* Read-triggered compaction: once seeks and scans have positioned in more than one sorted run
 * this many times per READ_DEBT_BYTES of tables (at least READ_DEBT_MIN times), the picker is
 * asked to merge any level's overlapping runs (read_threshold 2). LevelDB's seek compaction
 * allows one wasted seek per 16 KiB of a file: merging that much data costs about one seek. */
#define READ_DEBT_BYTES (16u << 10)

#define READ_DEBT_MIN 1024u

void
st_db_ucs_options(strata_db *db, st_ucs_options *u)
{
    st_ucs_options_init(u);
    u->nscaling = db->opts.ucs_scaling_count;
    for (int i = 0; i < u->nscaling; i++)
        u->scaling[i] = db->opts.ucs_scaling[i];
    u->base_shards = db->opts.ucs_base_shards;
    u->target_size = db->opts.target_file_size;
    uint64_t flushes = atomic_load(&db->stats.flushes);
    uint64_t fb = atomic_load(&db->stats.flush_bytes);
    /* m: the observed average flush output, else a guess from the write buffer */
    u->flush_size = flushes ? fb / flushes : db->opts.write_buffer_size / 2;
    if (u->flush_size < UCS_MIN_FLUSH_SIZE)
        u->flush_size = UCS_MIN_FLUSH_SIZE;
}

/* Describe v's tables for the picker (keys borrowed from v). REQUIRES mu. */
st_ucs_table *
st_db_ucs_tables(st_version *v)
{
    st_ucs_table *a = st_calloc(v->n ? v->n : 1, sizeof(*a));
    if (!a)
        return NULL;
    for (size_t i = 0; i < v->n; i++) {
        const st_table *t = v->t[i];
        a[i].id = t->m.fnum;
        a[i].size = t->m.file_size;
        a[i].min_seq = t->m.min_seq;
        a[i].max_seq = t->m.max_seq;
        a[i].smallest = t->m.smallest;
        a[i].smallest_len = t->m.smallest_len;
        a[i].largest = t->m.largest;
        a[i].largest_len = t->m.largest_len;
        a[i].compacting = t->compacting;
        a[i].entries = t->m.entries;
        a[i].tombstones = t->m.tombstones;
    }
    return a;
}

int
st_db_level_stats(strata_db *db, st_version *v, st_ucs_level_stats *levels, size_t max,
                  size_t *nlevels, size_t *overlap)
{
    st_ucs_options u;
    pthread_mutex_lock(&db->mu);
    st_db_ucs_options(db, &u);
    st_ucs_table *a = st_db_ucs_tables(v);
    pthread_mutex_unlock(&db->mu);
    if (!a)
        return st_err(STRATA_NOMEM, "out of memory");
    int rc = st_ucs_stats(&u, a, v->n, levels, max, nlevels, overlap);
    st_free(a);
    return rc;
}

void
st_db_update_overlap(strata_db *db)
{
    st_ucs_options u;
    st_db_ucs_options(db, &u);
    st_ucs_table *a = st_db_ucs_tables(db->current);
    size_t nlevels = 0, overlap = db->current->n;
    if (a && st_ucs_stats(&u, a, db->current->n, NULL, 0, &nlevels, &overlap) != STRATA_OK)
        overlap = db->current->n;
    db->read_overlap = overlap;
    db->bg_recheck = 1; /* a new version: some compaction may be due */
    st_free(a);
    uint64_t limit = db->current->bytes / READ_DEBT_BYTES;
    atomic_store(&db->read_debt_limit, limit > READ_DEBT_MIN ? limit : READ_DEBT_MIN);
}

/* Build the full manifest state of version v (for a manifest roll). REQUIRES manifest_mu. */
static int
state_of(strata_db *db, st_version *v, st_manifest_state *s)
{
    memset(s, 0, sizeof(*s));
    s->tables = st_calloc(v->n ? v->n : 1, sizeof(*s->tables));
    if (!s->tables)
        return st_err(STRATA_NOMEM, "out of memory");
    for (size_t i = 0; i < v->n; i++) {
        ST_RET(st_table_meta_copy(&s->tables[i], &v->t[i]->m));
        s->ntables++;
    }
    pthread_mutex_lock(&db->mu);
    s->log_number = db->imm_log && db->nimm ? db->imm_log[0] : db->log_number;
    s->next_file = db->next_file;
    s->last_seq = atomic_load(&db->last_seq);
    pthread_mutex_unlock(&db->mu);
    return STRATA_OK;
}

/* Start a new manifest holding the state of v, switch CURRENT, drop the old one. */
static int
roll_manifest(strata_db *db, st_version *v)
{
    st_manifest_state s;
    int rc = state_of(db, v, &s);
    uint64_t number = st_db_alloc_file_number(db);
    st_manifest *nm = NULL;
    if (rc == STRATA_OK) {
        s.next_file = number + 1 > s.next_file ? number + 1 : s.next_file;
        rc = st_manifest_create(db->env, db->path, number, &s, &nm);
    }
    st_manifest_state_free(&s);
    if (rc != STRATA_OK)
        return rc;
    char *old = st_file_path(db->path, ST_FILE_MANIFEST, st_manifest_number(db->manifest));
    st_manifest_close(db->manifest);
    db->manifest = nm;
    if (old)
        db->env->remove(db->env, old); /* best effort: removed at the next open otherwise */
    st_free(old);
    return STRATA_OK;
}

static int
is_removed(const st_version_edit *e, uint64_t fnum)
{
    for (size_t i = 0; i < e->nremoved; i++)
        if (e->removed[i] == fnum)
            return 1;
    return 0;
}

int
st_db_log_and_apply(strata_db *db, st_version_edit *e)
{
    int rc = STRATA_OK;
    st_table **added = st_calloc(e->nadded ? e->nadded : 1, sizeof(*added));
    st_table **list = NULL;
    st_version *nv = NULL, *old = NULL, *cur = NULL;
    size_t nlist = 0;
    if (!added)
        return st_err(STRATA_NOMEM, "out of memory");
    pthread_mutex_lock(&db->manifest_mu);
    for (size_t i = 0; i < e->nadded && rc == STRATA_OK; i++)
        rc = st_table_open(&db->tctx, &e->added[i], &added[i]);
    if (rc != STRATA_OK) {
        /* not logged anywhere yet: the new files can go */
        for (size_t i = 0; i < e->nadded; i++)
            st_db_remove_file(db, e->added[i].fnum, ST_FILE_TABLE);
        goto err;
    }
    pthread_mutex_lock(&db->mu);
    e->has_next_file = 1;
    e->next_file = db->next_file;
    cur = db->current;
    list = st_calloc(cur->n + e->nadded + 1, sizeof(*list));
    if (list) {
        for (size_t i = 0; i < cur->n; i++)
            if (!is_removed(e, cur->t[i]->m.fnum))
                list[nlist++] = cur->t[i];
        for (size_t i = 0; i < e->nadded; i++)
            list[nlist++] = added[i];
    }
    pthread_mutex_unlock(&db->mu);
    if (!list) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    ST_ERR(st_version_new(list, nlist, &nv));
    nv->last_seq = cur->last_seq; /* stable: versions are installed under manifest_mu */
    if (e->has_last_seq && e->last_seq > nv->last_seq)
        nv->last_seq = e->last_seq;
    /* From here on the edit may become durable even if a call fails (a record written whose
     * sync failed): the new files must stay; the next open removes them if they are not live. */
    rc = st_manifest_append(db->manifest, e);
    if (rc != STRATA_OK) {
        /* The manifest may end in a partial record: refuse further changes. */
        pthread_mutex_lock(&db->mu);
        st_db_set_bg_error(db, rc);
        pthread_mutex_unlock(&db->mu);
        goto err;
    }
    if (st_manifest_size(db->manifest) > MANIFEST_ROLL_BYTES &&
        (rc = roll_manifest(db, nv)) != STRATA_OK) {
        pthread_mutex_lock(&db->mu);
        st_db_set_bg_error(db, rc);
        pthread_mutex_unlock(&db->mu);
        goto err;
    }
    pthread_mutex_lock(&db->mu);
    old = db->current;
    for (size_t i = 0; i < old->n; i++)
        if (is_removed(e, old->t[i]->m.fnum))
            atomic_store(&old->t[i]->obsolete, 1);
    db->current = nv;
    nv = NULL;
    st_db_sources_changed(db);
    st_db_update_overlap(db);
    pthread_cond_broadcast(&db->bg_cv);
    pthread_mutex_unlock(&db->mu);
err:
    pthread_mutex_unlock(&db->manifest_mu);
    st_version_unref(old);
    st_version_unref(nv);
    for (size_t i = 0; i < e->nadded; i++)
        st_table_unref(added[i]); /* the version holds its own references */
    st_free(added);
    st_free(list);
    return rc;
}
