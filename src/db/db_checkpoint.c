/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_checkpoint.c -- strata_checkpoint: a consistent copy of an open database in a new
 * directory, built in "<dir>.tmp" and renamed into place when complete (doc/design.md,
 * "Checkpoints").
 *
 * Order of work, each step durable before the next:
 *   1. flush the memtables (writers keep going into the next memtable);
 *   2. pin the current version under mu: its tables cannot be deleted while we hold it;
 *   3. hard-link (or copy and sync) each table into <dir>.tmp;
 *   4. write strata.sql, LOCK, then a manifest naming exactly those tables and CURRENT;
 *   5. sync <dir>.tmp, rename it to <dir>, sync the parent directory.
 * A crash before 5 leaves <dir> absent (or empty) and a <dir>.tmp that the next checkpoint to
 * <dir> removes; the source is only touched by the flush, which is crash-safe on its own.
 */
#include "db/db_impl.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Parent directory of path ("." when it has none), in a new string. */
static char *
parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return st_strdup(".");
    if (slash == path)
        return st_strdup("/");
    size_t n = (size_t)(slash - path);
    char *p = st_malloc(n + 1);
    if (p) {
        memcpy(p, path, n);
        p[n] = '\0';
    }
    return p;
}

/* INVALID unless dir is absent or an empty directory; *exists tells which. */
static int
check_target(st_env *env, const char *dir, int *exists)
{
    ST_RET(env->exists(env, dir, exists));
    if (!*exists)
        return STRATA_OK;
    char **names = NULL;
    size_t count = 0;
    int rc = env->list(env, dir, &names, &count);
    st_env_free_list(names, count);
    if (rc != STRATA_OK)
        return st_err(STRATA_INVALID, "checkpoint directory %s exists and is not a directory", dir);
    if (count > 0)
        return st_err(STRATA_INVALID,
                      "checkpoint directory %s already exists and is not empty (%zu entries); "
                      "choose a new directory",
                      dir, count);
    return STRATA_OK;
}

/* Remove a leftover <dir>.tmp of an interrupted checkpoint: its strata files, then it. */
static int
remove_leftover(st_env *env, const char *tmp)
{
    int exists = 0;
    ST_RET(env->exists(env, tmp, &exists));
    if (!exists)
        return STRATA_OK;
    char **names = NULL;
    size_t count = 0;
    ST_RET(env->list(env, tmp, &names, &count));
    int rc = STRATA_OK;
    for (size_t i = 0; rc == STRATA_OK && i < count; i++) {
        uint64_t num;
        if (st_file_parse(names[i], &num) == ST_FILE_OTHER) {
            rc = st_err(STRATA_INVALID,
                        "%s (left by an interrupted checkpoint) holds %s, which strata did not "
                        "write: remove it by hand",
                        tmp, names[i]);
            break;
        }
        char *p = st_path_join(tmp, names[i]);
        rc = p ? env->remove(env, p) : st_err(STRATA_NOMEM, "out of memory");
        st_free(p);
    }
    st_env_free_list(names, count);
    if (rc == STRATA_OK)
        rc = env->rmdir(env, tmp);
    return rc;
}

/* Steps 3 and 4 into tmp: the tables of v, strata.sql, LOCK, manifest and CURRENT. */
static int
fill_dir(strata_db *db, st_version *v, const char *tmp)
{
    st_env *env = db->env;
    st_manifest_state state;
    memset(&state, 0, sizeof(state));
    st_manifest *m = NULL;
    st_buf sql;
    st_buf_init(&sql);
    int rc = STRATA_OK;
    uint64_t number = 0;
    if (v->n && !(state.tables = st_calloc(v->n, sizeof(*state.tables)))) {
        rc = st_err(STRATA_NOMEM, "out of memory taking a checkpoint");
        goto err;
    }
    for (size_t i = 0; i < v->n; i++) {
        const st_table_meta *t = &v->t[i]->m;
        char *from = st_file_path(db->path, ST_FILE_TABLE, t->fnum),
             *to = st_file_path(tmp, ST_FILE_TABLE, t->fnum);
        rc = from && to ? st_env_link_or_copy(env, from, to)
                        : st_err(STRATA_NOMEM, "out of memory taking a checkpoint");
        st_free(from);
        st_free(to);
        if (rc != STRATA_OK)
            goto err;
        ST_ERR(st_table_meta_copy(&state.tables[state.ntables], t));
        state.ntables++;
        if (t->max_seq > state.last_seq)
            state.last_seq = t->max_seq;
        if (t->fnum >= state.next_file)
            state.next_file = t->fnum + 1;
    }
    /* the tables' largest max_seq is only a floor: a compaction may have dropped the newest
     * entries (tombstones with nothing under them), and the copy must not claim an older state */
    if (v->last_seq > state.last_seq)
        state.last_seq = v->last_seq;
    if (state.next_file == 0)
        state.next_file = 1;
    ST_ERR(st_db_sql_view(v, &sql));
    ST_ERR(st_env_write_file_atomic(env, tmp, ST_FILE_SQL_VIEW_NAME, sql.data, sql.len));
    ST_ERR(st_env_write_file_atomic(env, tmp, ST_FILE_LOCK_NAME, "", 0));
    /* the manifest and CURRENT last: before CURRENT exists, tmp does not open as a database */
    number = state.next_file++;
    state.log_number = state.next_file; /* no log: replay nothing */
    ST_ERR(st_manifest_create(env, tmp, number, &state, &m));
    ST_ERR(env->sync_dir(env, tmp));
err:
    st_manifest_close(m);
    st_manifest_state_free(&state);
    st_buf_free(&sql);
    return rc;
}

int
strata_checkpoint(strata_db *db, const char *dir)
{
    ST_RET(st_db_check(db));
    if (!dir || !*dir)
        return st_err(STRATA_INVALID, "strata_checkpoint: dir is NULL or empty");
    st_env *env = db->env;
    int exists = 0;
    ST_RET(check_target(env, dir, &exists));

    size_t dl = strlen(dir);
    char *tmp = st_malloc(dl + 5), *parent = parent_dir(dir);
    st_version *v = NULL;
    int rc = STRATA_OK;
    if (!tmp || !parent) {
        rc = st_err(STRATA_NOMEM, "out of memory taking a checkpoint");
        goto err;
    }
    memcpy(tmp, dir, dl);
    memcpy(tmp + dl, ".tmp", 5);
    ST_ERR(remove_leftover(env, tmp));

    /* 1. flush (a read-only handle cannot: it is fine only when there is nothing to flush) */
    if (db->opts.read_only) {
        pthread_mutex_lock(&db->mu);
        uint64_t unflushed = st_memtable_entries(db->mem);
        pthread_mutex_unlock(&db->mu);
        if (unflushed > 0) {
            rc = st_err(STRATA_READONLY,
                        "%s was opened read-only and its logs hold %" PRIu64
                        " unflushed entries: checkpoint it from a writable handle",
                        db->path, unflushed);
            goto err;
        }
    } else {
        ST_ERR(st_db_flush_now(db));
    }
    /* 2. pin */
    pthread_mutex_lock(&db->mu);
    v = db->current;
    st_version_ref(v);
    pthread_mutex_unlock(&db->mu);
    /* 3, 4 */
    ST_ERR(env->mkdir(env, tmp));
    ST_ERR(fill_dir(db, v, tmp));
    /* 5. rename (over an empty dir, which rename(2) allows) and make it durable */
    ST_ERR(env->rename(env, tmp, dir));
    ST_ERR(env->sync_dir(env, parent));
err:
    if (rc != STRATA_OK && tmp && rc != STRATA_INVALID) {
        char saved[ST_ERRMSG_MAX];
        memcpy(saved, st_errmsg(), sizeof(saved));
        remove_leftover(env, tmp); /* best effort; the next checkpoint retries */
        st_err(rc, "%s", saved);
    }
    st_version_unref(v);
    st_free(tmp);
    st_free(parent);
    if (rc != STRATA_OK && rc != STRATA_INVALID)
        st_err_prefix(rc, "checkpoint of %s to %s: ", db->path, dir);
    return rc;
}
