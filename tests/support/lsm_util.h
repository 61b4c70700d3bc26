/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lsm_util.h -- helpers for the LSM tests (tests/{db,crash,fault}/test_*lsm*.c): options that
 * make flushes and compactions constant, the table list of "strata.tables", directory listings
 * by kind, byte flips, strata_check, and bounded iterator checks against an st_model.
 *
 * Header-only (static inline) because it calls strata_* and the support library is linked after
 * libstrata. Every function fails the test (ST_FAIL, exit 1) on an unexpected error.
 * Memory: arrays returned are malloc'ed and owned by the caller (free()).
 * Thread safety: as the strata calls they make; no shared state.
 */
#ifndef ST_TEST_LSM_UTIL_H
#define ST_TEST_LSM_UTIL_H

#include "db_check.h"
#include "env/env.h"
#include "model.h"
#include "st_test.h"
#include "util/random.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define ST_LSM_BUFFER (64u * 1024u) /* write_buffer_size and target_file_size */

/* Test-sized options: 64 KiB memtables and 64 KiB compaction outputs, and a table cache of 8
 * readers, so reads and compactions keep reopening tables the cache closed. */
static inline strata_options
st_lsm_opts(void)
{
    strata_options o = st_dbc_opts(ST_LSM_BUFFER);
    o.target_file_size = ST_LSM_BUFFER;
    o.max_open_files = 8;
    return o;
}

/* One line of "strata.tables". Keys are kept as the property's lowercase hex. */
typedef struct st_lsm_table {
    unsigned long long fnum, size, entries, tombstones, min_seq, max_seq;
    char smallest[2 * 64 + 1], largest[2 * 64 + 1];
} st_lsm_table;

/* Parse "strata.tables" into a malloc'ed array (*n entries; may be NULL when empty). */
static inline st_lsm_table *
st_lsm_tables(strata_db *db, size_t *n)
{
    char *text = NULL;
    int rc = strata_property(db, "strata.tables", &text);
    if (rc != STRATA_OK)
        ST_FAIL("strata.tables: %s (%s)", strata_errstr(rc), strata_errmsg(db));
    size_t cap = 16, count = 0;
    st_lsm_table *t = malloc(cap * sizeof(*t));
    ST_ASSERT(t != NULL);
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (count == cap) {
            cap *= 2;
            t = realloc(t, cap * sizeof(*t));
            ST_ASSERT(t != NULL);
        }
        st_lsm_table *e = &t[count];
        if (sscanf(line,
                   "%llu.parquet size=%llu entries=%llu tombstones=%llu seq=%llu..%llu "
                   "keys=%128[0-9a-f]..%128[0-9a-f]",
                   &e->fnum, &e->size, &e->entries, &e->tombstones, &e->min_seq, &e->max_seq,
                   e->smallest, e->largest) != 8)
            ST_FAIL("unparsable strata.tables line: %s", line);
        count++;
        line = nl ? nl + 1 : NULL;
    }
    strata_free(text);
    *n = count;
    return t;
}

static inline size_t
st_lsm_table_count(strata_db *db)
{
    size_t n;
    free(st_lsm_tables(db, &n));
    return n;
}

/* Total entries (tombstones == 0) or tombstones (tombstones == 1) over a table list. */
static inline unsigned long long
st_lsm_sum(const st_lsm_table *t, size_t n, int tombstones)
{
    unsigned long long s = 0;
    for (size_t i = 0; i < n; i++)
        s += tombstones ? t[i].tombstones : t[i].entries;
    return s;
}

/* 1 when the tables' key ranges are pairwise disjoint (hex of equal-width keys compares like the
 * keys only when one is not a prefix of the other; callers use fixed-width keys). */
static inline int
st_lsm_disjoint(const st_lsm_table *t, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++)
            if (i != j && strcmp(t[i].smallest, t[j].largest) <= 0 &&
                strcmp(t[j].smallest, t[i].largest) <= 0)
                return 0;
    return 1;
}

/* Numbers of the files in dir named <digits><suffix> (malloc'ed, *n of them). */
static inline uint64_t *
st_lsm_files(const char *dir, const char *suffix, size_t *n)
{
    char **names = NULL;
    size_t count = 0;
    if (st_env_posix()->list(st_env_posix(), dir, &names, &count) != STRATA_OK)
        ST_FAIL("cannot list %s", dir);
    uint64_t *out = malloc((count + 1) * sizeof(*out));
    ST_ASSERT(out != NULL);
    size_t k = 0, sl = strlen(suffix);
    for (size_t i = 0; i < count; i++) {
        size_t l = strlen(names[i]);
        if (l <= sl || strcmp(names[i] + l - sl, suffix) != 0)
            continue;
        char *end = NULL;
        unsigned long long v = strtoull(names[i], &end, 10);
        if (end == names[i] + l - sl)
            out[k++] = v;
    }
    st_env_free_list(names, count);
    *n = k;
    return out;
}

/* Number of directory entries whose name starts with `prefix` and ends with `suffix`. */
static inline size_t
st_lsm_count_named(const char *dir, const char *prefix, const char *suffix)
{
    char **names = NULL;
    size_t count = 0, k = 0;
    if (st_env_posix()->list(st_env_posix(), dir, &names, &count) != STRATA_OK)
        ST_FAIL("cannot list %s", dir);
    for (size_t i = 0; i < count; i++) {
        size_t l = strlen(names[i]), pl = strlen(prefix), sl = strlen(suffix);
        k += l >= pl + sl && strncmp(names[i], prefix, pl) == 0 &&
             strcmp(names[i] + l - sl, suffix) == 0;
    }
    st_env_free_list(names, count);
    return k;
}

/* Path of table fnum in dir, in buf. */
static inline const char *
st_lsm_table_path(const char *dir, unsigned long long fnum, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%06llu.parquet", dir, fnum);
    return buf;
}

/* XOR the byte at `off` of `path` with `mask`. */
static inline void
st_lsm_flip(const char *path, long off, int mask)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        ST_FAIL("open %s: %s", path, strerror(errno));
    ST_ASSERT(fseek(f, off, SEEK_SET) == 0);
    int c = fgetc(f);
    ST_ASSERT(c != EOF && fseek(f, off, SEEK_SET) == 0);
    fputc(c ^ mask, f);
    fclose(f);
}

static inline long long
st_lsm_file_size(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    return (long long)st.st_size;
}

/* strata_check of a closed database must pass; returns its report (strata_free it) or NULL when
 * report is not wanted (want_report == 0). */
static inline char *
st_lsm_check_ok(const char *dir, int want_report)
{
    char *report = NULL;
    int rc = strata_check(dir, &report);
    if (rc != STRATA_OK)
        ST_FAIL("strata_check %s: %s (%s)\n%s", dir, strata_errstr(rc), strata_errmsg(NULL),
                report ? report : "(no report)");
    ST_ASSERT(report != NULL && strstr(report, "0 problem(s) found") != NULL);
    if (!want_report) {
        strata_free(report);
        return NULL;
    }
    return report;
}

/*
 * st_lsm_check_bounded --
 *     An iterator with bounds [lo, hi) (either may be NULL) must show exactly the model's keys in
 *     that range, forwards and backwards, and seeks outside the bounds must clamp to them.
 */
static inline void
st_lsm_check_bounded(strata_db *db, const strata_snapshot *snap, const st_model *m, const void *lo,
                     size_t lol, const void *hi, size_t hil)
{
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.snapshot = snap;
    ro.lower_bound = lo;
    ro.lower_bound_len = lo ? lol : 0;
    ro.upper_bound = hi;
    ro.upper_bound_len = hi ? hil : 0;
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(db, &ro, &it));
    long first = lo ? (long)st_model_lower_bound(m, lo, lol) : 0;
    long end = hi ? (long)st_model_lower_bound(m, hi, hil) : (long)st_model_count(m);
    if (end < first)
        end = first;
    strata_iter_seek_first(it);
    for (long i = first; i < end; i++) {
        st_dbc_check_at(it, m, i, "bounded forward scan");
        strata_iter_next(it);
    }
    if (strata_iter_valid(it))
        ST_FAIL("bounded forward scan goes past the upper bound");
    ST_ASSERT_OK(strata_iter_status(it));
    strata_iter_seek_last(it);
    for (long i = end - 1; i >= first; i--) {
        st_dbc_check_at(it, m, i, "bounded backward scan");
        strata_iter_prev(it);
    }
    if (strata_iter_valid(it))
        ST_FAIL("bounded backward scan goes past the lower bound");
    /* a seek below the lower bound lands on the first key in range */
    strata_iter_seek(it, "\0", 1);
    if (first < end)
        st_dbc_check_at(it, m, first, "seek below the lower bound");
    else
        ST_ASSERT(!strata_iter_valid(it));
    strata_iter_close(it);
}

#endif
