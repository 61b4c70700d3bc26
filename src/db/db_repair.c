/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_repair.c -- strata_repair: rebuild the manifest of a closed database from its tables'
 * footers, salvaging what damaged tables (footer readable or not) and logs still hold
 * (db_salvage_table.c, db_salvage_wal.c), and report honestly what may have been lost
 * (db_repair.h).
 */
#include "db/db_repair.h"

#include "util/alloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- repair ---------------------------------------------------------------------------------- */

typedef struct found_table {
    uint64_t num;
    const char *name;       /* borrowed from the directory listing */
    st_sst_reader *reader;  /* NULL when the footer cannot be read */
    char *why;              /* then: why (st_strdup'ed; NULL when out of memory) */
    int open_rc;            /* and the code of st_sst_reader_open */
    uint64_t superseded_by; /* a compaction output that replaces it (0 = none) */
} found_table;

/* Record the whole-file checksum of an adopted table (verified completely before). */
static int
adopt_checksum(st_env *env, const char *dir, st_table_meta *tm)
{
    char *tp = st_file_path(dir, ST_FILE_TABLE, tm->fnum);
    uint64_t size = 0;
    int rc = tp ? st_env_file_crc32c(env, tp, &size, &tm->file_crc)
                : st_err(STRATA_NOMEM, "out of memory");
    if (rc == STRATA_OK && size != tm->file_size)
        rc = st_err(STRATA_CORRUPT, "%s changed size while being read", tp);
    tm->has_file_crc = rc == STRATA_OK;
    st_free(tp);
    return rc;
}

/* Add the table fnum (summary sm) to state; it was verified completely. */
static int
adopt(st_env *env, const char *dir, st_manifest_state *state, uint64_t fnum, const st_sst_meta *sm,
      st_repair_report *r)
{
    st_table_meta *tm = &state->tables[state->ntables];
    ST_RET(st_table_meta_from_sst(tm, fnum, sm));
    state->ntables++;
    st_rep(r,
           "%06" PRIu64 ".parquet: %" PRIu64 " entries, seq %" PRIu64 "..%" PRIu64 ", %" PRIu64
           " bytes: kept\n",
           fnum, tm->entries, tm->min_seq, tm->max_seq, tm->file_size);
    if (tm->max_seq > state->last_seq)
        state->last_seq = tm->max_seq;
    return adopt_checksum(env, dir, tm);
}

/* The key range the old manifest (if it could be read) recorded for table num. */
static const st_table_meta *
old_range(const st_manifest_state *old, uint64_t num)
{
    for (size_t i = 0; i < old->ntables; i++)
        if (old->tables[i].fnum == num)
            return &old->tables[i];
    return NULL;
}

/* A table whose footer cannot be read: all of it is lost. */
static void
lose_unreadable(st_env *env, const char *dir, const char *name, uint64_t num, int rc,
                const st_manifest_state *old, st_repair_report *r)
{
    char why[ST_ERRMSG_MAX + 64];
    snprintf(why, sizeof(why), "unreadable table: %s: %s", strata_errstr(rc), st_errmsg());
    r->problems++;
    st_rep(r, "%s: %s\n", name, why);
    const st_table_meta *tm = old_range(old, num);
    if (tm)
        st_rep_lost(r, tm->smallest, tm->smallest_len, tm->largest, tm->largest_len, name, why);
    else
        st_rep_lost(r, NULL, 0, NULL, 0, name,
                    "unreadable table, key range unknown (not in a readable manifest)");
    st_repair_quarantine(env, dir, name, r);
}

/* Salvage table f into a new table and adopt it when it holds rows. */
static int
salvage_and_adopt(st_env *env, const char *dir, const found_table *f, uint64_t *next_num,
                  st_manifest_state *state, const st_manifest_state *old, st_repair_report *r)
{
    uint64_t num = (*next_num)++;
    st_sst_meta out;
    memset(&out, 0, sizeof(out));
    int built = 0;
    int rc = st_repair_salvage_table(env, dir, f->name, f->num, num, old_range(old, f->num), r,
                                     &out, &built);
    if (rc == STRATA_OK && built)
        rc = adopt(env, dir, state, num, &out, r);
    st_sst_meta_free(&out);
    return rc;
}

/* A table whose footer cannot be read: salvage what its pages still hold. */
static int
repair_unreadable(st_env *env, const char *dir, found_table *f, uint64_t *next_num,
                  st_manifest_state *state, const st_manifest_state *old, st_repair_report *r)
{
    st_rep(r, "%s: footer unreadable: %s: %s: salvaging every page that passes its checksum\n",
           f->name, strata_errstr(f->open_rc), f->why ? f->why : "");
    int rc = salvage_and_adopt(env, dir, f, next_num, state, old, r);
    if (rc == STRATA_CORRUPT || rc == STRATA_NOTSUP) { /* nothing could be walked: all lost */
        lose_unreadable(env, dir, f->name, f->num, rc, old, r);
        return STRATA_OK;
    }
    r->problems++;
    if (rc == STRATA_OK)
        st_repair_quarantine(env, dir, f->name, r);
    return rc;
}

/* A table that failed verification: reject a foreign one, salvage one of ours. */
static int
repair_table(st_env *env, const char *dir, found_table *f, uint64_t *next_num,
             st_manifest_state *state, const st_manifest_state *old, st_repair_report *r)
{
    const st_sst_meta *sm = st_sst_reader_meta(f->reader);
    char why[ST_ERRMSG_MAX + 64];
    snprintf(why, sizeof(why), "%s", st_errmsg());
    r->problems++;
    if (sm->foreign) {
        st_rep(r, "%s: foreign table REJECTED: %s\n", f->name, why);
        st_rep_lost(r, sm->smallest, sm->smallest_len, sm->largest, sm->largest_len, f->name,
                    "foreign table not adopted (key range per its statistics)");
        st_repair_quarantine(env, dir, f->name, r);
        return STRATA_OK;
    }
    st_rep(r, "%s: damaged: %s: salvaging every readable row\n", f->name, why);
    int rc = salvage_and_adopt(env, dir, f, next_num, state, old, r);
    if (rc == STRATA_OK)
        st_repair_quarantine(env, dir, f->name, r);
    return rc;
}

static void
scan_numbers(char **names, size_t count, uint64_t *max_num)
{
    for (size_t i = 0; i < count; i++) {
        uint64_t num; /* 0 for the kinds without a number */
        st_file_parse(names[i], &num);
        if (num > *max_num)
            *max_num = num;
    }
}

/* Mark tables (readable or not) a readable compaction output replaces (strata-replaces); note
 * the newest WAL a readable table's data came from (strata-max-wal). */
static void
find_superseded(found_table *found, size_t nfound, uint64_t *max_wal)
{
    for (size_t i = 0; i < nfound; i++) {
        if (!found[i].reader)
            continue;
        const st_sst_meta *sm = st_sst_reader_meta(found[i].reader);
        const char *w = st_sst_meta_prop(sm, "strata-max-wal");
        uint64_t wn = w ? strtoull(w, NULL, 10) : 0;
        if (wn > *max_wal)
            *max_wal = wn;
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
    ST_RET(st_repair_lock(env, path, &lock));
    st_repair_report r;
    memset(&r, 0, sizeof(r));
    char **names = NULL;
    size_t count = 0;
    st_manifest_state state, old;
    memset(&state, 0, sizeof(state));
    memset(&old, 0, sizeof(old));
    st_manifest *m = NULL;
    uint64_t max_num = 0, max_wal = 0, next_num = 0, manifest_num = 0;
    found_table *found = NULL;
    size_t nfound = 0;
    /* the old manifest, when readable, knows the key ranges of tables that are not */
    if (st_manifest_recover(env, path, &old) != STRATA_OK)
        memset(&old, 0, sizeof(old));
    int rc = env->list(env, path, &names, &count);
    if (rc != STRATA_OK)
        goto err;
    state.tables = st_calloc(count ? count : 1, sizeof(*state.tables));
    found = st_calloc(count ? count : 1, sizeof(*found));
    if (!state.tables || !found) {
        rc = st_err(STRATA_NOMEM, "out of memory");
        goto err;
    }
    scan_numbers(names, count, &max_num);
    next_num = max_num + 1;
    /* Pass 1: read every table's footer. Pass 2: keep those no readable compaction output
     * replaces (a crash between a compaction's manifest edit and the removal of its inputs
     * leaves inputs behind; adopting them could resurrect deleted keys). */
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        if (st_file_parse(names[i], &num) != ST_FILE_TABLE)
            continue;
        char *tp = st_path_join(path, names[i]);
        st_sst_reader *sr = NULL;
        int trc = tp ? st_sst_reader_open(env, tp, NULL, &sr) : STRATA_NOMEM;
        st_free(tp);
        if (trc == STRATA_NOMEM) {
            rc = trc;
            goto err;
        }
        found[nfound++] = (found_table){num, names[i], sr, NULL, trc, 0};
        if (trc != STRATA_OK)
            found[nfound - 1].why = st_strdup(st_errmsg());
    }
    find_superseded(found, nfound, &max_wal);
    for (size_t i = 0; i < nfound && rc == STRATA_OK; i++) {
        const st_sst_meta *sm = found[i].reader ? st_sst_reader_meta(found[i].reader) : NULL;
        char *tp = st_path_join(path, found[i].name);
        if (!tp) {
            rc = st_err(STRATA_NOMEM, "out of memory");
        } else if (found[i].superseded_by) {
            st_rep(&r, "%s: replaced by compaction output %06" PRIu64 ": removed\n", found[i].name,
                   found[i].superseded_by);
            env->remove(env, tp);
        } else if (!sm) {
            rc = repair_unreadable(env, path, &found[i], &next_num, &state, &old, &r);
        } else if (sm->entries == 0) {
            st_rep(&r, "%s: empty table, ignored\n", found[i].name);
        } else if (st_sst_verify(env, tp, NULL) == STRATA_OK) {
            rc = adopt(env, path, &state, found[i].num, sm, &r);
        } else {
            rc = repair_table(env, path, &found[i], &next_num, &state, &old, &r);
        }
        st_free(tp);
    }
    if (rc != STRATA_OK)
        goto err;
    /* logs up to the newest one a table's data came from were flushed (flushes go in log
     * order); replaying them could bring back data a later compaction dropped */
    state.log_number = max_wal + 1;
    rc = st_repair_salvage_wals(env, path, state.log_number, &next_num, &r);
    if (rc != STRATA_OK)
        goto err;
    manifest_num = next_num++;
    state.next_file = next_num;
    rc = st_manifest_create(env, path, manifest_num, &state, &m);
    if (rc != STRATA_OK)
        goto err;
    st_rep(&r,
           "wrote MANIFEST-%06" PRIu64 " with %zu tables, last sequence %" PRIu64
           "; write-ahead logs will be replayed at the next open\n",
           manifest_num, state.ntables, state.last_seq);
    for (size_t i = 0; i < count; i++) {
        uint64_t num;
        if (st_file_parse(names[i], &num) == ST_FILE_MANIFEST && num != manifest_num) {
            char *p = st_path_join(path, names[i]);
            if (p && env->remove(env, p) == STRATA_OK)
                st_rep(&r, "removed old %s\n", names[i]);
            st_free(p);
        }
    }
    if (r.nlost > 0)
        rc = st_err(STRATA_DATALOSS,
                    "repair of %s finished, but data may be lost in %d key range(s) (see the "
                    "report)",
                    path, r.nlost);
err:
    if (rc != STRATA_OK && rc != STRATA_DATALOSS)
        st_rep(&r, "repair failed: %s: %s\n", strata_errstr(rc), st_errmsg());
    for (size_t i = 0; i < nfound; i++) {
        st_sst_reader_unref(found[i].reader);
        st_free(found[i].why);
    }
    st_free(found);
    st_manifest_close(m);
    st_manifest_state_free(&state);
    st_manifest_state_free(&old);
    st_env_free_list(names, count);
    st_file_close(lock);
    char saved[ST_ERRMSG_MAX];
    snprintf(saved, sizeof(saved), "%s", st_errmsg());
    st_rep_finish(&r, out);
    if (rc != STRATA_OK)
        st_err(rc, "%s", saved);
    return rc;
}
