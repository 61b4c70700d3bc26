/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_check.c -- strata_check: verify every file of a closed database without changing anything
 * (CURRENT and the manifest, every live write-ahead log record, every table page and the
 * agreement of tables and manifest). Takes the database LOCK for its duration.
 */
#include "db/db_repair.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <string.h>

typedef struct wal_check {
    st_repair_report *r;
    const char *name;
} wal_check;

static void
wal_damage(void *arg, const char *path, uint64_t offset, uint64_t bytes, const char *reason)
{
    wal_check *c = arg;
    (void)path;
    st_rep(c->r, "%s: %" PRIu64 " bytes at offset %" PRIu64 " unreadable: %s\n", c->name, bytes,
           offset, reason);
}

static void
check_wal(st_env *env, const char *dir, const char *name, st_repair_report *r)
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
        st_rep(r, "%s: ok, %" PRIu64 " records, %" PRIu64 " entries%s\n", name, records, entries,
               wr && st_wal_reader_dropped(wr) ? " (torn tail: normal after a crash)" : "");
    } else {
        r->problems++;
        st_rep(r, "%s: PROBLEM: %s: %s\n", name, strata_errstr(rc), st_errmsg());
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
    ST_RET(st_repair_lock(env, path, &lock));
    st_repair_report r;
    memset(&r, 0, sizeof(r));
    st_manifest_state state;
    char **names = NULL;
    size_t count = 0;
    int rc = st_manifest_recover(env, path, &state);
    if (rc == STRATA_OK) {
        st_rep(&r,
               "MANIFEST-%06" PRIu64 ": ok, %zu tables, log_number %" PRIu64
               ", last sequence %" PRIu64 "\n",
               state.manifest_number, state.ntables, state.log_number, state.last_seq);
    } else if (rc == STRATA_NOTFOUND) {
        st_rep(&r, "CURRENT: absent (a database that never flushed, or a lost manifest)\n");
        memset(&state, 0, sizeof(state));
    } else {
        r.problems++;
        st_rep(&r, "manifest: PROBLEM: %s: %s\n", strata_errstr(rc), st_errmsg());
        memset(&state, 0, sizeof(state));
    }
    rc = env->list(env, path, &names, &count);
    if (rc != STRATA_OK)
        goto err;
    for (size_t i = 0; i < state.ntables; i++) {
        const st_table_meta *tm = &state.tables[i];
        char *tp = st_file_path(path, ST_FILE_TABLE, tm->fnum);
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
            st_rep(&r, "%s: ok, %" PRIu64 " entries, %" PRIu64 " bytes%s\n", name, tm->entries,
                   tm->file_size, tm->has_file_crc ? ", file checksum ok" : "");
        } else {
            r.problems++;
            st_rep(&r, "%s: PROBLEM: %s: %s\n", name, strata_errstr(trc), st_errmsg());
        }
        st_buf_free(&tr);
        st_free(tp);
    }
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        if (st_file_parse(names[i], &num) == ST_FILE_WAL && num >= state.log_number) {
            check_wal(env, path, names[i], &r);
        } else if (st_file_parse(names[i], &num) == ST_FILE_TABLE) {
            int live = 0;
            for (size_t j = 0; j < state.ntables; j++)
                live |= state.tables[j].fnum == num;
            if (!live)
                st_rep(&r, "%s: not in the manifest (left by a crash; removed at the next open)\n",
                       names[i]);
        }
    }
    st_rep(&r, "%d problem(s) found\n", r.problems);
    rc = r.problems ? st_err(STRATA_CORRUPT, "%d problem(s) found in %s", r.problems, path)
                    : STRATA_OK;
err:
    st_manifest_state_free(&state);
    st_env_free_list(names, count);
    st_file_close(lock);
    st_rep_finish(&r, out);
    return rc;
}
