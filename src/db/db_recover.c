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

int
st_db_parse_numbered(const char *name, const char *suffix, uint64_t *num)
{
    size_t n = strlen(name), s = strlen(suffix);
    if (n <= s || strcmp(name + n - s, suffix) != 0)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n - s; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(name[i] - '0');
    }
    *num = v;
    return 1;
}

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
    char *path = st_db_file_path(db, num, ".wal");
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

int
st_db_new_wal(strata_db *db)
{
    uint64_t num = db->next_file++;
    char *path = st_db_file_path(db, num, ".wal");
    if (!path)
        return st_err(STRATA_NOMEM, "out of memory");
    st_wal_writer *w = NULL;
    int rc = st_wal_writer_open(db->env, path, num, &w);
    st_free(path);
    if (rc == STRATA_OK)
        rc = db->env->sync_dir(db->env, db->path);
    if (rc != STRATA_OK) {
        st_wal_writer_close(w);
        return rc;
    }
    st_wal_writer_close(db->wal);
    db->wal = w;
    db->log_number = num;
    return STRATA_OK;
}

/* Classify a directory entry; returns 1 for files strata owns. */
static int
classify(const char *name, uint64_t *num, int *kind)
{
    if (st_db_parse_numbered(name, ".wal", num)) {
        *kind = 'w';
        return 1;
    }
    if (st_db_parse_numbered(name, ".parquet", num)) {
        *kind = 't';
        return 1;
    }
    if (strncmp(name, "MANIFEST-", 9) == 0 && st_db_parse_numbered(name + 9, "", num)) {
        *kind = 'm';
        return 1;
    }
    size_t len = strlen(name);
    if (len > 4 && strcmp(name + len - 4, ".tmp") == 0) {
        *kind = 'x';
        *num = 0;
        return 1;
    }
    return 0;
}

static int
in_version(const st_version *v, uint64_t fnum)
{
    for (size_t i = 0; i < v->n; i++)
        if (v->t[i]->m.fnum == fnum)
            return 1;
    return 0;
}

void
st_db_remove_obsolete_files(strata_db *db)
{
    char **names = NULL;
    size_t count = 0;
    char saved[ST_ERRMSG_MAX];
    memcpy(saved, st_errmsg(), sizeof(saved));
    uint64_t min_log = db->nimm ? db->imm_log[0] : db->log_number;
    if (db->env->list(db->env, db->path, &names, &count) != STRATA_OK)
        goto out;
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        int kind, drop = 0;
        if (!classify(names[i], &num, &kind))
            continue;
        switch (kind) {
        case 'w':
            drop = num < min_log;
            break;
        case 't':
            drop = !in_version(db->current, num);
            break;
        case 'm':
            drop = num != st_manifest_number(db->manifest);
            break;
        default:
            drop = 1;
            break;
        }
        if (drop) {
            char *p = st_path_join(db->path, names[i]);
            if (p)
                db->env->remove(db->env, p); /* best effort; retried at the next open */
            st_free(p);
        }
    }
out:
    st_env_free_list(names, count);
    st_err(STRATA_OK, "%s", saved);
}

int
st_db_recover(strata_db *db)
{
    char **names = NULL;
    size_t count = 0;
    uint64_t *logs = NULL;
    size_t nlogs = 0;
    st_table **tables = NULL;
    size_t ntables = 0;
    st_manifest_state state;
    memset(&state, 0, sizeof(state));
    replay_ctx ctx = {db, 0};
    uint64_t max_seq = 0, manifest_num = 0;
    st_compact_job job;
    memset(&job, 0, sizeof(job));

    int rc = st_manifest_recover(db->env, db->path, &state);
    if (rc == STRATA_NOTFOUND) {
        /* no CURRENT: a new database (or one with only logs): replay every log */
        memset(&state, 0, sizeof(state));
        rc = STRATA_OK;
    }
    if (rc != STRATA_OK)
        return rc;
    ST_ERR(db->env->list(db->env, db->path, &names, &count));
    if (!(logs = st_calloc(count ? count : 1, sizeof(*logs))) ||
        !(tables = st_calloc(state.ntables + 2, sizeof(*tables)))) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    db->next_file = state.next_file > db->next_file ? state.next_file : db->next_file;
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        int kind;
        if (!classify(names[i], &num, &kind))
            continue;
        if (kind == 'w' && num >= state.log_number)
            logs[nlogs++] = num;
        if (num >= db->next_file)
            db->next_file = num + 1;
    }
    for (size_t i = 0; i < state.ntables; i++) {
        rc = st_table_open(&db->tctx, &state.tables[i], &tables[ntables]);
        if (rc != STRATA_OK) {
            st_err_prefix(rc, "%s", "(run strata repair to rebuild the manifest) ");
            goto err;
        }
        ntables++;
    }
    qsort(logs, nlogs, sizeof(*logs), cmp_u64);
    for (size_t i = 0; i < nlogs && rc == STRATA_OK; i++)
        rc = replay_log(db, logs[i], &ctx, &max_seq);
    if (rc != STRATA_OK)
        goto err;
    db->stats.recovery_dropped_bytes = ctx.dropped + state.dropped_bytes;
    if (state.last_seq > max_seq)
        max_seq = state.last_seq;
    db->alloc_seq = max_seq;
    atomic_store(&db->last_seq, max_seq);

    /* Write what the logs held to a table, so that they can go. */
    if (st_memtable_entries(db->mem) > 0) {
        st_memtable *fresh = NULL;
        ST_ERR(st_db_write_level0(db, db->mem, nlogs ? logs[nlogs - 1] : 0, &job));
        ST_ERR(st_memtable_new_sized(db->opts.memtable_kind, db->opts.write_buffer_size, &fresh));
        st_memtable_unref(db->mem);
        db->mem = fresh;
        st_table_meta *grown =
            st_realloc(state.tables, (state.ntables + job.noutputs) * sizeof(*grown));
        if (!grown) {
            rc = st_err(STRATA_NOMEM, "out of memory");
            goto err;
        }
        state.tables = grown;
        for (size_t i = 0; i < job.noutputs; i++) {
            state.tables[state.ntables] = job.outputs[i];
            memset(&job.outputs[i], 0, sizeof(job.outputs[i]));
            state.ntables++;
            ST_ERR(st_table_open(&db->tctx, &state.tables[state.ntables - 1], &tables[ntables]));
            ntables++;
        }
    }
    ST_ERR(st_db_new_wal(db));
    manifest_num = db->next_file++;
    state.log_number = db->log_number;
    state.next_file = db->next_file;
    state.last_seq = max_seq;
    ST_ERR(st_manifest_create(db->env, db->path, manifest_num, &state, &db->manifest));
    ST_ERR(st_version_new(tables, ntables, &db->current));
    st_db_update_overlap(db);
    st_db_remove_obsolete_files(db);
err:
    if (rc != STRATA_OK)
        for (size_t i = 0; i < job.noutputs; i++) {
            char *p = st_db_file_path(db, job.outputs[i].fnum, ".parquet");
            if (p)
                db->env->remove(db->env, p);
            st_free(p);
        }
    st_compact_job_free(&job);
    for (size_t i = 0; i < ntables; i++)
        st_table_unref(tables[i]);
    st_free(tables);
    st_manifest_state_free(&state);
    st_free(logs);
    st_env_free_list(names, count);
    return rc;
}
