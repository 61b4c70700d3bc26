/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_recover.c -- open-time recovery: find the write-ahead logs, replay them in order into the
 * memtable, restore sequence and file numbers, and start a fresh log.
 */
#include "db/db_impl.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct replay_ctx {
    strata_db *db;
    uint64_t dropped;
} replay_ctx;

static void
on_damage(void *arg, const char *path, uint64_t offset, uint64_t bytes, const char *reason)
{
    replay_ctx *c = arg;
    c->dropped += bytes;
    fprintf(stderr, "strata: recovery of %s dropped %" PRIu64 " bytes at offset %" PRIu64 ": %s\n",
            path, bytes, offset, reason);
}

static int
replay_log(strata_db *db, uint64_t num, replay_ctx *ctx, uint64_t *max_seq)
{
    char *path = st_file_path(db->path, ST_FILE_WAL, num);
    if (!path)
        return st_err(STRATA_NOMEM, "out of memory");
    st_wal_reader *r = NULL;
    int rc = st_wal_reader_open(db->env, path, db->opts.wal_recovery_mode, on_damage, ctx, &r);
    if (rc == STRATA_OK && st_wal_reader_log_number(r) != num && st_wal_reader_log_number(r) != 0)
        rc = st_err(STRATA_CORRUPT,
                    "%s: the log's header says it is log %" PRIu64 ", not %" PRIu64
                    " (renamed or copied file?)",
                    path, st_wal_reader_log_number(r), num);
    while (rc == STRATA_OK) {
        const uint8_t *rec;
        size_t n;
        rc = st_wal_reader_next(r, &rec, &n);
        if (rc != STRATA_OK)
            break;
        uint64_t seq;
        uint32_t count;
        char what[300];
        snprintf(what, sizeof(what), "%s", path);
        rc = st_batch_iterate(rec, n, NULL, NULL, &seq, &count, what);
        if (rc == STRATA_OK && seq + count - 1 > *max_seq) {
            rc = st_db_apply_batch(db->mem, rec, n, what);
            if (rc == STRATA_OK)
                *max_seq = seq + count - 1;
        }
        db->stats.recovered_records++;
        db->stats.recovered_entries += count;
    }
    if (rc == STRATA_NOTFOUND)
        rc = STRATA_OK;
    st_wal_reader_close(r);
    st_free(path);
    return rc;
}

static int
in_version(const void *v_, uint64_t fnum)
{
    const st_version *v = v_;
    for (size_t i = 0; i < v->n; i++)
        if (v->t[i]->m.fnum == fnum)
            return 1;
    return 0;
}

static int
in_state(const void *s_, uint64_t fnum)
{
    const st_manifest_state *s = s_;
    for (size_t i = 0; i < s->ntables; i++)
        if (s->tables[i].fnum == fnum)
            return 1;
    return 0;
}

/* Remove (best effort) the files of names[] that are not needed: logs below min_log, tables for
 * which live(arg, number) is 0, manifests other than `manifest`, temporary files. Removed names
 * are emptied. */
static void
remove_unneeded(strata_db *db, char **names, size_t count, uint64_t min_log, uint64_t manifest,
                int (*live)(const void *arg, uint64_t fnum), const void *arg)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        int drop = 0;
        switch (st_file_parse(names[i], &num)) {
        case ST_FILE_WAL:
            drop = num < min_log;
            break;
        case ST_FILE_TABLE:
            drop = !live(arg, num);
            break;
        case ST_FILE_MANIFEST:
            drop = num != manifest;
            break;
        case ST_FILE_TEMP:
            drop = 1;
            break;
        default: /* CURRENT, LOCK, and files strata does not own */
            break;
        }
        if (drop) {
            char *p = st_path_join(db->path, names[i]);
            if (p)
                db->env->remove(db->env, p); /* best effort; retried at the next open */
            st_free(p);
            names[i][0] = '\0';
        }
    }
}

void
st_db_remove_obsolete_files(strata_db *db)
{
    char **names = NULL;
    size_t count = 0;
    char saved[ST_ERRMSG_MAX];
    memcpy(saved, st_errmsg(), sizeof(saved));
    uint64_t min_log = db->nimm ? db->imm_log[0] : db->log_number;
    if (db->env->list(db->env, db->path, &names, &count) == STRATA_OK)
        remove_unneeded(db, names, count, min_log, st_manifest_number(db->manifest), in_version,
                        db->current);
    st_env_free_list(names, count);
    st_err(STRATA_OK, "%s", saved);
}

/* A growable list of the tables of the version being recovered. */
typedef struct table_list {
    st_table **t;
    size_t n, cap;
} table_list;

static int
table_list_open(strata_db *db, table_list *l, const st_table_meta *m)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? 2 * l->cap : 16;
        st_table **t = st_realloc(l->t, ncap * sizeof(*t));
        if (!t)
            return st_err(STRATA_NOMEM, "out of memory");
        l->t = t;
        l->cap = ncap;
    }
    ST_RET(st_table_open(&db->tctx, m, &l->t[l->n]));
    l->n++;
    return STRATA_OK;
}

/*
 * flush_log --
 *     Make the replayed contents of log `num` durable in a table and log them in the manifest
 *     with the log number advanced to `log_after`, then delete the log. One step of recovery:
 *     a crash before the manifest edit is durable replays the log again (its table, not in the
 *     manifest, is removed at the next open); a crash after it skips the log (whose file is
 *     then removed as obsolete). Either way nothing is lost or applied twice. num 0: no log.
 */
static int
flush_log(strata_db *db, uint64_t num, uint64_t log_after, uint64_t last_seq, table_list *tables)
{
    st_compact_job job;
    memset(&job, 0, sizeof(job));
    st_version_edit e;
    st_edit_init(&e);
    int rc = STRATA_OK;
    char *path = NULL;
    if (st_memtable_entries(db->mem) > 0) {
        st_memtable *fresh = NULL;
        ST_ERR(st_db_write_level0(db, db->mem, num, &job));
        ST_ERR(st_memtable_new_sized(db->opts.memtable_kind, db->opts.write_buffer_size, &fresh));
        st_memtable_unref(db->mem);
        db->mem = fresh;
        for (size_t i = 0; i < job.noutputs; i++)
            ST_ERR(st_edit_add_table(&e, &job.outputs[i]));
    }
    e.has_log_number = e.has_next_file = e.has_last_seq = 1;
    e.log_number = log_after;
    e.last_seq = last_seq;
    e.next_file = db->next_file;
    /* From here on the edit may be durable even if the append fails (a record written whose
     * sync failed): the new tables must stay; the next open removes them if they are not live. */
    rc = st_manifest_append(db->manifest, &e);
    for (size_t i = 0; i < job.noutputs; i++) {
        if (rc == STRATA_OK)
            rc = table_list_open(db, tables, &job.outputs[i]);
        job.outputs[i].fnum = 0; /* not removed below */
    }
    if (rc != STRATA_OK)
        goto err;
    path = num ? st_file_path(db->path, ST_FILE_WAL, num) : NULL;
    if (path)
        db->env->remove(db->env, path); /* best effort: obsolete now, removed at the next open */
    st_free(path);
err:
    if (rc != STRATA_OK)
        for (size_t i = 0; i < job.noutputs; i++) {
            if (!job.outputs[i].fnum)
                continue;
            char *p = st_file_path(db->path, ST_FILE_TABLE, job.outputs[i].fnum);
            if (p)
                db->env->remove(db->env, p);
            st_free(p);
        }
    st_compact_job_free(&job);
    st_edit_free(&e);
    return rc;
}

/*
 * st_db_recover --
 *     Open-time recovery within bounded space: a new manifest takes over the recovered state
 *     first; then each log is replayed on its own, written to a table, logged in the manifest
 *     and deleted before the next one is read, so recovery needs free space for about one log's
 *     table, not for all logs at once.
 */
/* What recovery starts from: the manifest's state, the directory listing, the logs to replay
 * (ascending) and the manifest's tables, opened. Released with recovery_free. */
typedef struct recovery {
    st_manifest_state state;
    char **names;
    size_t count;
    uint64_t *logs;
    size_t nlogs;
    table_list tables;
} recovery;

static void
recovery_free(recovery *r)
{
    for (size_t i = 0; i < r->tables.n; i++)
        st_table_unref(r->tables.t[i]);
    st_free(r->tables.t);
    st_manifest_state_free(&r->state);
    st_free(r->logs);
    st_env_free_list(r->names, r->count);
}

static int
recovery_load(strata_db *db, recovery *r)
{
    memset(r, 0, sizeof(*r));
    int rc = st_manifest_recover(db->env, db->path, &r->state);
    if (rc == STRATA_NOTFOUND) {
        /* no CURRENT: a new database (or one with only logs): replay every log */
        memset(&r->state, 0, sizeof(r->state));
        rc = STRATA_OK;
    }
    if (rc != STRATA_OK)
        return rc;
    ST_RET(db->env->list(db->env, db->path, &r->names, &r->count));
    if (!(r->logs = st_calloc(r->count ? r->count : 1, sizeof(*r->logs))))
        return st_err(STRATA_NOMEM, "out of memory");
    db->next_file = r->state.next_file > db->next_file ? r->state.next_file : db->next_file;
    for (size_t i = 0; i < r->count; i++) {
        uint64_t num; /* 0 for the kinds without a number */
        st_file_kind kind = st_file_parse(r->names[i], &num);
        if (kind == ST_FILE_WAL && num >= r->state.log_number)
            r->logs[r->nlogs++] = num;
        if (num >= db->next_file)
            db->next_file = num + 1;
    }
    qsort(r->logs, r->nlogs, sizeof(*r->logs), cmp_u64);
    for (size_t i = 0; i < r->state.ntables; i++) {
        rc = table_list_open(db, &r->tables, &r->state.tables[i]);
        if (rc != STRATA_OK)
            return st_err_prefix(rc, "%s", "(run strata repair to rebuild the manifest) ");
    }
    return STRATA_OK;
}

/* Publish the recovered sequence number and table set. */
static int
recovery_install(strata_db *db, recovery *r, uint64_t max_seq)
{
    db->alloc_seq = max_seq;
    atomic_store(&db->last_seq, max_seq);
    ST_RET(st_version_new(r->tables.t, r->tables.n, &db->current));
    db->current->last_seq = max_seq;
    st_db_update_overlap(db);
    return STRATA_OK;
}

int
st_db_recover_read_only(strata_db *db)
{
    recovery r;
    replay_ctx ctx = {db, 0};
    uint64_t replayed = 0;
    int rc = recovery_load(db, &r);
    for (size_t i = 0; rc == STRATA_OK && i < r.nlogs; i++)
        rc = replay_log(db, r.logs[i], &ctx, &replayed);
    db->stats.recovery_dropped_bytes = ctx.dropped + r.state.dropped_bytes;
    if (rc == STRATA_OK)
        rc = recovery_install(db, &r, replayed > r.state.last_seq ? replayed : r.state.last_seq);
    recovery_free(&r);
    return rc;
}

int
st_db_recover(strata_db *db)
{
    recovery r;
    replay_ctx ctx = {db, 0};
    uint64_t max_seq = 0, replayed = 0; /* replayed: newest sequence number read from a log */
    uint64_t manifest_num = 0;
    int rc = recovery_load(db, &r);
    uint64_t *logs = r.logs;
    size_t nlogs = r.nlogs;
    table_list *tables = &r.tables;
    if (rc != STRATA_OK)
        goto err;
    /* Before anything is written: free the space of what no durable state refers to (tables of
     * a flush or compaction cut short, old logs and manifests, temporary files). */
    remove_unneeded(db, r.names, r.count, r.state.log_number, r.state.manifest_number, in_state,
                    &r.state);

    /* The new manifest holds the recovered state before any log is flushed. */
    manifest_num = db->next_file++;
    r.state.next_file = db->next_file;
    ST_ERR(st_manifest_create(db->env, db->path, manifest_num, &r.state, &db->manifest));
    max_seq = r.state.last_seq;
    for (size_t i = 0; i < nlogs; i++) {
        ST_ERR(replay_log(db, logs[i], &ctx, &replayed));
        if (replayed > max_seq)
            max_seq = replayed;
        if (i + 1 < nlogs)
            ST_ERR(flush_log(db, logs[i], logs[i + 1], max_seq, tables));
        else
            break;
    }
    /* The last log is flushed with the log number advanced to a fresh log. */
    ST_ERR(st_db_new_wal(db));
    ST_ERR(flush_log(db, nlogs ? logs[nlogs - 1] : 0, db->log_number, max_seq, tables));
    db->stats.recovery_dropped_bytes = ctx.dropped + r.state.dropped_bytes;
    ST_ERR(recovery_install(db, &r, max_seq));
    st_db_remove_obsolete_files(db);
err:
    recovery_free(&r);
    return rc;
}
