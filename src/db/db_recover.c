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

/* Parse "NNNNNN<suffix>" into *num; 1 on success. */
static int
parse_numbered(const char *name, const char *suffix, uint64_t *num)
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

int
st_db_recover(strata_db *db)
{
    char **names = NULL;
    size_t count = 0;
    ST_RET(db->env->list(db->env, db->path, &names, &count));
    uint64_t *logs = st_calloc(count ? count : 1, sizeof(*logs));
    size_t nlogs = 0;
    int rc = STRATA_OK;
    replay_ctx ctx = {db, 0};
    uint64_t max_seq = 0;
    if (!logs) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        size_t len = strlen(names[i]);
        if (len > 4 && strcmp(names[i] + len - 4, ".tmp") == 0) {
            /* a half-written file from a crash: never live, remove it */
            char *p = st_path_join(db->path, names[i]);
            if (p)
                db->env->remove(db->env, p);
            st_free(p);
            continue;
        }
        if (parse_numbered(names[i], ".wal", &num))
            logs[nlogs++] = num;
        if ((parse_numbered(names[i], ".wal", &num) ||
             parse_numbered(names[i], ".parquet", &num)) &&
            num >= db->next_file)
            db->next_file = num + 1;
    }
    qsort(logs, nlogs, sizeof(*logs), cmp_u64);
    for (size_t i = 0; i < nlogs && rc == STRATA_OK; i++)
        rc = replay_log(db, logs[i], &ctx, &max_seq);
    if (rc != STRATA_OK)
        goto err;
    db->stats.recovery_dropped_bytes = ctx.dropped;
    db->alloc_seq = max_seq;
    atomic_store(&db->last_seq, max_seq);
    rc = st_db_new_wal(db);
err:
    st_free(logs);
    st_env_free_list(names, count);
    return rc;
}
