/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_salvage_wal.c -- repair's salvage of damaged write-ahead logs (st_repair_salvage_wals).
 *
 * Logs that read cleanly are left for the next open to replay. When one is damaged (header,
 * mid-log record, or a record that verifies but does not decode as a write batch), the next
 * open would fail on it, so every record of every live log that still verifies and decodes is
 * copied, in log order, into one new log numbered after all of them (recovery replays logs in
 * number order and skips records whose sequence numbers it has seen, so the copy must come
 * last and hold them all), the copy is made durable, and the originals go to lost/. What a
 * damaged record held cannot be known: each dropped region is a loss of unknown keys.
 */
#include "db/db_repair.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct wal_pass {
    st_repair_report *r; /* NULL: only classify */
    const char *name;
    int damaged; /* mid-log damage, a damaged header or an undecodable record */
} wal_pass;

static void
on_damage(void *arg, const char *path, uint64_t offset, uint64_t bytes, const char *reason)
{
    wal_pass *p = arg;
    (void)path;
    if (!p->r)
        return;
    char why[400];
    snprintf(why, sizeof(why), "%" PRIu64 " bytes at offset %" PRIu64 " dropped: %s", bytes, offset,
             reason);
    st_rep(p->r, "%s: %s\n", p->name, why);
    /* a damaged header alone loses nothing: records after it that verify are all kept */
    if (!(offset == 0 && bytes == ST_WAL_FILE_HEADER_SIZE))
        st_rep_lost(p->r, NULL, 0, NULL, 0, p->name, why);
}

/*
 * Read one log in `mode`; with `w`, copy every record that decodes into it. Sets p->damaged
 * when the log cannot be replayed as it is. Returns NOMEM or a write error of w; damage is not
 * an error.
 */
static int
read_log(st_env *env, const char *dir, int mode, st_wal_writer *w, wal_pass *p)
{
    char *path = st_path_join(dir, p->name);
    if (!path)
        return st_err(STRATA_NOMEM, "out of memory");
    st_wal_reader *rd = NULL;
    int rc = st_wal_reader_open(env, path, mode, on_damage, p, &rd);
    if (rc == STRATA_OK && mode == STRATA_WAL_RECOVERY_SKIP_CORRUPT && st_wal_reader_dropped(rd))
        p->damaged = 1; /* a damaged header, reported already */
    while (rc == STRATA_OK) {
        const uint8_t *rec;
        size_t n;
        uint32_t cnt = 0;
        rc = st_wal_reader_next(rd, &rec, &n);
        if (rc != STRATA_OK)
            break;
        if (st_batch_iterate(rec, n, NULL, NULL, NULL, &cnt, p->name) != STRATA_OK) {
            p->damaged = 1;
            if (p->r) {
                st_rep(p->r, "%s: a record that does not decode dropped: %s\n", p->name,
                       st_errmsg());
                st_rep_lost(p->r, NULL, 0, NULL, 0, p->name, "a record that does not decode");
            }
            continue;
        }
        if (w)
            rc = st_wal_writer_add(w, rec, n);
    }
    if (rc == STRATA_NOTFOUND) {
        rc = STRATA_OK;
    } else if (rc == STRATA_CORRUPT || rc == STRATA_NOTSUP) {
        p->damaged = 1;
        rc = STRATA_OK;
        if (p->r) { /* not even salvage could read it */
            st_rep(p->r, "%s: unreadable: %s\n", p->name, st_errmsg());
            st_rep_lost(p->r, NULL, 0, NULL, 0, p->name, "unreadable write-ahead log");
        }
    } else if (rc == STRATA_IOERR && !w) {
        p->damaged = 1;
        rc = STRATA_OK;
    }
    st_wal_reader_close(rd);
    st_free(path);
    return rc;
}

static int
cmp_name(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t lx = strlen(x), ly = strlen(y); /* zero-padded numbers: longer is larger */
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

/* Copy every readable record of logs[0..nlogs) into a new log; quarantine the originals. */
static int
rewrite_logs(st_env *env, const char *dir, char **logs, size_t nlogs, uint64_t *next_file,
             st_repair_report *r)
{
    uint64_t num = (*next_file)++;
    char *path = st_file_path(dir, ST_FILE_WAL, num);
    st_wal_writer *w = NULL;
    int rc = path ? st_wal_writer_open(env, path, num, &w) : st_err(STRATA_NOMEM, "out of memory");
    r->problems++;
    for (size_t i = 0; i < nlogs && rc == STRATA_OK; i++) {
        wal_pass p = {r, logs[i], 0};
        rc = read_log(env, dir, STRATA_WAL_RECOVERY_SKIP_CORRUPT, w, &p);
    }
    if (rc == STRATA_OK)
        rc = st_wal_writer_sync(w);
    if (rc == STRATA_OK)
        rc = env->sync_dir(env, dir);
    st_wal_writer_close(w);
    if (rc == STRATA_OK) {
        char name[ST_FILE_NAME_MAX];
        st_rep(r, "%s: every readable record of the damaged logs, rewritten in order\n",
               st_file_name(ST_FILE_WAL, num, name, sizeof(name)));
        for (size_t i = 0; i < nlogs; i++)
            st_repair_quarantine(env, dir, logs[i], r);
    } else if (path) {
        env->remove(env, path);
    }
    st_free(path);
    return rc;
}

int
st_repair_salvage_wals(st_env *env, const char *dir, uint64_t min_log, uint64_t *next_file,
                       st_repair_report *r)
{
    char **names = NULL, **logs = NULL;
    size_t count = 0, nlogs = 0;
    ST_RET(env->list(env, dir, &names, &count));
    int rc = STRATA_OK, damaged = 0;
    if (!(logs = st_calloc(count ? count : 1, sizeof(*logs))))
        rc = st_err(STRATA_NOMEM, "out of memory");
    for (size_t i = 0; logs && i < count; i++) {
        uint64_t num;
        if (st_file_parse(names[i], &num) == ST_FILE_WAL && num >= min_log)
            logs[nlogs++] = names[i];
    }
    qsort(logs, nlogs, sizeof(*logs), cmp_name); /* log number order */
    for (size_t i = 0; i < nlogs && rc == STRATA_OK; i++) {
        wal_pass p = {NULL, logs[i], 0};
        rc = read_log(env, dir, STRATA_WAL_RECOVERY_TOLERATE_TAIL, NULL, &p);
        damaged |= p.damaged;
    }
    if (rc == STRATA_OK && damaged)
        rc = rewrite_logs(env, dir, logs, nlogs, next_file, r);
    st_free(logs);
    st_env_free_list(names, count);
    return rc;
}
