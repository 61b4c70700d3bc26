/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_repair.c -- strata_repair (rebuild the manifest from table footers) and strata_check
 * (verify every file without changing anything). Both work on a closed database and take its
 * LOCK for their duration.
 */
#include "db/db_impl.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct report {
    st_buf b;
    int problems;
} report;

static void ST_PRINTF(2, 3) rep(report *r, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        st_buf_append(&r->b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static int
finish_report(report *r, char **out)
{
    if (out) {
        *out = NULL;
        if (st_buf_put_u8(&r->b, 0) == STRATA_OK)
            *out = (char *)st_buf_detach(&r->b, NULL);
    }
    st_buf_free(&r->b);
    return STRATA_OK;
}

static int
lock_db(st_env *env, const char *path, st_file **lock)
{
    int exists = 0;
    ST_RET(env->exists(env, path, &exists));
    if (!exists)
        return st_err(STRATA_NOTFOUND, "database %s does not exist", path);
    char *lp = st_path_join(path, "LOCK");
    if (!lp)
        return st_err(STRATA_NOMEM, "out of memory");
    int rc = env->lock(env, lp, lock);
    st_free(lp);
    return rc;
}

typedef struct found_table {
    uint64_t num;
    const char *name; /* borrowed from the directory listing */
    st_sst_reader *reader;
    uint64_t superseded_by; /* a compaction output that replaces it (0 = none) */
} found_table;

/* Record the whole-file checksum of an adopted table, once every page of it verifies; a table
 * that does not is kept (its readable rows stay reachable) but reported, without a checksum. */
static void
adopt_checksum(st_env *env, const char *dir, const char *name, st_table_meta *tm, report *r)
{
    char *tp = st_path_join(dir, name);
    uint64_t size = 0;
    int rc = tp ? st_sst_verify(env, tp, NULL) : st_err(STRATA_NOMEM, "out of memory");
    if (rc == STRATA_OK)
        rc = st_env_file_crc32c(env, tp, &size, &tm->file_crc);
    if (rc == STRATA_OK && size != tm->file_size)
        rc = st_err(STRATA_CORRUPT, "%s changed size while being read", name);
    tm->has_file_crc = rc == STRATA_OK;
    if (rc != STRATA_OK) {
        r->problems++;
        rep(r, "%s: PROBLEM: %s: %s (kept without a file checksum)\n", name, strata_errstr(rc),
            st_errmsg());
    }
    st_free(tp);
}

int
strata_repair(const char *path, const strata_options *opts, char **out)
{
    (void)opts;
    if (out)
        *out = NULL;
    if (!path)
        return st_err(STRATA_INVALID, "strata_repair: path is NULL");
    st_env *env = st_env_posix();
    st_file *lock = NULL;
    ST_RET(lock_db(env, path, &lock));
    report r = {{NULL, 0, 0}, 0};
    char **names = NULL;
    size_t count = 0;
    st_manifest_state state;
    memset(&state, 0, sizeof(state));
    st_manifest *m = NULL;
    uint64_t max_num = 0, max_wal = 0;
    found_table *found = NULL;
    size_t nfound = 0;
    int rc = env->list(env, path, &names, &count);
    if (rc != STRATA_OK)
        goto err;
    state.tables = st_calloc(count ? count : 1, sizeof(*state.tables));
    if (!state.tables) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        if ((st_db_parse_numbered(names[i], ".wal", &num) ||
             st_db_parse_numbered(names[i], ".parquet", &num) ||
             (strncmp(names[i], "MANIFEST-", 9) == 0 &&
              st_db_parse_numbered(names[i] + 9, "", &num))) &&
            num > max_num)
            max_num = num;
    }
    /* Pass 1: read every table's footer. Pass 2: keep those no readable compaction output
     * replaces (a crash between a compaction's manifest edit and the removal of its inputs
     * leaves inputs behind; adopting them could resurrect deleted keys). */
    found = st_calloc(count ? count : 1, sizeof(*found));
    if (!found) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        if (!st_db_parse_numbered(names[i], ".parquet", &num))
            continue;
        char *tp = st_path_join(path, names[i]);
        st_sst_reader *sr = NULL;
        int trc = tp ? st_sst_reader_open(env, tp, NULL, &sr) : STRATA_NOMEM;
        if (trc == STRATA_OK) {
            found[nfound].num = num;
            found[nfound].name = names[i];
            found[nfound].reader = sr;
            nfound++;
        } else if (tp) {
            r.problems++;
            rep(&r, "%s: unreadable (%s: %s): moved to lost/\n", names[i], strata_errstr(trc),
                st_errmsg());
            char *lost = st_path_join(path, "lost");
            char *dst = NULL;
            if (lost && env->mkdir(env, lost) == STRATA_OK && (dst = st_path_join(lost, names[i])))
                env->rename(env, tp, dst);
            st_free(dst);
            st_free(lost);
        }
        st_free(tp);
    }
    for (size_t i = 0; i < nfound; i++) {
        const st_sst_meta *sm = st_sst_reader_meta(found[i].reader);
        const char *w = st_sst_meta_prop(sm, "strata-max-wal");
        uint64_t wn = w ? strtoull(w, NULL, 10) : 0;
        if (wn > max_wal)
            max_wal = wn;
        const char *rp = st_sst_meta_prop(sm, "strata-replaces");
        while (rp && *rp) {
            char *endp;
            uint64_t victim = strtoull(rp, &endp, 10);
            if (endp == rp)
                break;
            for (size_t j = 0; j < nfound; j++)
                if (found[j].num == victim && j != i)
                    found[j].superseded_by = found[i].num;
            rp = *endp == ',' ? endp + 1 : endp;
        }
    }
    for (size_t i = 0; i < nfound; i++) {
        const st_sst_meta *sm = st_sst_reader_meta(found[i].reader);
        if (found[i].superseded_by) {
            rep(&r, "%s: replaced by compaction output %06" PRIu64 ": removed\n", found[i].name,
                found[i].superseded_by);
            char *tp = st_path_join(path, found[i].name);
            if (tp)
                env->remove(env, tp);
            st_free(tp);
        } else if (sm->entries == 0) {
            rep(&r, "%s: empty table, ignored\n", found[i].name);
        } else if (st_table_meta_from_sst(&state.tables[state.ntables], found[i].num, sm) ==
                   STRATA_OK) {
            st_table_meta *tm = &state.tables[state.ntables++];
            rep(&r,
                "%s: %" PRIu64 " entries, seq %" PRIu64 "..%" PRIu64 ", %" PRIu64 " bytes: kept\n",
                found[i].name, tm->entries, tm->min_seq, tm->max_seq, tm->file_size);
            adopt_checksum(env, path, found[i].name, tm, &r);
            if (tm->max_seq > state.last_seq)
                state.last_seq = tm->max_seq;
        }
    }
    /* logs up to the newest one a table's data came from were flushed (flushes go in log
     * order); replaying them could bring back data a later compaction dropped */
    state.log_number = max_wal + 1;
    state.next_file = max_num + 2;
    rc = st_manifest_create(env, path, max_num + 1, &state, &m);
    if (rc != STRATA_OK)
        goto err;
    rep(&r,
        "wrote MANIFEST-%06" PRIu64 " with %zu tables, last sequence %" PRIu64
        "; write-ahead logs will be replayed at the next open\n",
        max_num + 1, state.ntables, state.last_seq);
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        if (strncmp(names[i], "MANIFEST-", 9) == 0 &&
            st_db_parse_numbered(names[i] + 9, "", &num) && num != max_num + 1) {
            char *p = st_path_join(path, names[i]);
            if (p && env->remove(env, p) == STRATA_OK)
                rep(&r, "removed old %s\n", names[i]);
            st_free(p);
        }
    }
err:
    if (rc != STRATA_OK)
        rep(&r, "repair failed: %s: %s\n", strata_errstr(rc), st_errmsg());
    for (size_t i = 0; i < nfound; i++)
        st_sst_reader_unref(found[i].reader);
    st_free(found);
    st_manifest_close(m);
    st_manifest_state_free(&state);
    st_env_free_list(names, count);
    st_file_close(lock);
    finish_report(&r, out);
    return rc;
}

/* ---- check ------------------------------------------------------------------------------ */

typedef struct wal_check {
    report *r;
    const char *name;
} wal_check;

static void
wal_damage(void *arg, const char *path, uint64_t offset, uint64_t bytes, const char *reason)
{
    wal_check *c = arg;
    (void)path;
    rep(c->r, "%s: %" PRIu64 " bytes at offset %" PRIu64 " unreadable: %s\n", c->name, bytes,
        offset, reason);
}

static void
check_wal(st_env *env, const char *dir, const char *name, report *r)
{
    char *p = st_path_join(dir, name);
    st_wal_reader *wr = NULL;
    wal_check c = {r, name};
    uint64_t records = 0, entries = 0;
    int rc = p ? st_wal_reader_open(env, p, STRATA_WAL_RECOVERY_TOLERATE_TAIL, wal_damage, &c, &wr)
               : STRATA_NOMEM;
    while (rc == STRATA_OK) {
        const uint8_t *rec;
        size_t n;
        rc = st_wal_reader_next(wr, &rec, &n);
        if (rc != STRATA_OK)
            break;
        uint32_t cnt = 0;
        rc = st_batch_iterate(rec, n, NULL, NULL, NULL, &cnt, name);
        records++;
        entries += cnt;
    }
    if (rc == STRATA_NOTFOUND) {
        rep(r, "%s: ok, %" PRIu64 " records, %" PRIu64 " entries%s\n", name, records, entries,
            wr && st_wal_reader_dropped(wr) ? " (torn tail: normal after a crash)" : "");
    } else {
        r->problems++;
        rep(r, "%s: PROBLEM: %s: %s\n", name, strata_errstr(rc), st_errmsg());
    }
    st_wal_reader_close(wr);
    st_free(p);
}

int
strata_check(const char *path, char **out)
{
    if (out)
        *out = NULL;
    if (!path)
        return st_err(STRATA_INVALID, "strata_check: path is NULL");
    st_env *env = st_env_posix();
    st_file *lock = NULL;
    ST_RET(lock_db(env, path, &lock));
    report r = {{NULL, 0, 0}, 0};
    st_manifest_state state;
    char **names = NULL;
    size_t count = 0;
    int rc = st_manifest_recover(env, path, &state);
    if (rc == STRATA_OK) {
        rep(&r,
            "MANIFEST-%06" PRIu64 ": ok, %zu tables, log_number %" PRIu64 ", last sequence %" PRIu64
            "\n",
            state.manifest_number, state.ntables, state.log_number, state.last_seq);
    } else if (rc == STRATA_NOTFOUND) {
        rep(&r, "CURRENT: absent (a database that never flushed, or a lost manifest)\n");
        memset(&state, 0, sizeof(state));
    } else {
        r.problems++;
        rep(&r, "manifest: PROBLEM: %s: %s\n", strata_errstr(rc), st_errmsg());
        memset(&state, 0, sizeof(state));
    }
    rc = env->list(env, path, &names, &count);
    if (rc != STRATA_OK)
        goto err;
    for (size_t i = 0; i < state.ntables; i++) {
        const st_table_meta *tm = &state.tables[i];
        char *tp = st_table_path(path, tm->fnum);
        st_buf tr;
        st_buf_init(&tr);
        int trc = tp ? STRATA_OK : st_err(STRATA_NOMEM, "out of memory");
        const char *name = tp ? strrchr(tp, '/') + 1 : "?";
        if (trc == STRATA_OK && tm->has_file_crc) {
            /* every byte, footer included: the page and index checksums inside the file leave
             * parts of the Thrift metadata uncovered */
            uint64_t size = 0;
            uint32_t crc = 0;
            trc = st_env_file_crc32c(env, tp, &size, &crc);
            if (trc == STRATA_OK && (size != tm->file_size || crc != tm->file_crc))
                trc = st_err(STRATA_CORRUPT,
                             "file checksum mismatch: %" PRIu64 " bytes with CRC-32C %08x, the "
                             "manifest recorded %" PRIu64 " bytes with %08x",
                             size, (unsigned)crc, tm->file_size, (unsigned)tm->file_crc);
        }
        if (trc == STRATA_OK)
            trc = st_sst_verify(env, tp, &tr);
        if (trc == STRATA_OK) {
            st_sst_reader *sr = NULL;
            trc = st_sst_reader_open(env, tp, NULL, &sr);
            if (trc == STRATA_OK) {
                const st_sst_meta *sm = st_sst_reader_meta(sr);
                if (sm->file_size != tm->file_size || sm->entries != tm->entries ||
                    sm->min_seq != tm->min_seq || sm->max_seq != tm->max_seq)
                    trc = st_err(STRATA_CORRUPT, "footer disagrees with the manifest");
                st_sst_reader_unref(sr);
            }
        }
        if (trc == STRATA_OK) {
            rep(&r, "%s: ok, %" PRIu64 " entries, %" PRIu64 " bytes%s\n", name, tm->entries,
                tm->file_size, tm->has_file_crc ? ", file checksum ok" : "");
        } else {
            r.problems++;
            rep(&r, "%s: PROBLEM: %s: %s\n", name, strata_errstr(trc), st_errmsg());
        }
        st_buf_free(&tr);
        st_free(tp);
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        if (st_db_parse_numbered(names[i], ".wal", &num) && num >= state.log_number) {
            check_wal(env, path, names[i], &r);
        } else if (st_db_parse_numbered(names[i], ".parquet", &num)) {
            int live = 0;
            for (size_t j = 0; j < state.ntables; j++)
                live |= state.tables[j].fnum == num;
            if (!live)
                rep(&r, "%s: not in the manifest (left by a crash; removed at the next open)\n",
                    names[i]);
        }
    }
    rep(&r, "%d problem(s) found\n", r.problems);
    rc = r.problems ? st_err(STRATA_CORRUPT, "%d problem(s) found in %s", r.problems, path)
                    : STRATA_OK;
err:
    st_manifest_state_free(&state);
    st_env_free_list(names, count);
    st_file_close(lock);
    finish_report(&r, out);
    return rc;
}
