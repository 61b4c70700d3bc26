/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strata_repair over a matrix of damage (issue 12): a damaged WAL header, a damaged record in
 * the middle of a WAL, a damaged table data page, a damaged table footer, a damaged table that
 * holds tombstones, a foreign table whose keys are not sorted and a foreign table with an empty
 * key. Each case ends with a database that opens with default options, holds every row repair
 * could salvage, never shows a deleted key again unless the report named a range holding it,
 * and the right result: STRATA_OK when nothing was lost, STRATA_DATALOSS otherwise.
 */
#include "foreign_pq.h"
#include "st_test.h"
#include "test_fs.h"
#include "util/alloc.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define NKEYS 2000

/* The model: key i holds value i or was deleted. */
typedef struct model {
    int deleted[NKEYS];
    int present[NKEYS]; /* written at all */
} model;

static size_t
key_of(int i, char *k)
{
    return (size_t)sprintf(k, "k%05d", i);
}

static size_t
val_of(int i, char *v)
{
    return (size_t)sprintf(v, "value-%05d-some-padding-to-fill-pages", i);
}

static strata_options
opts(void)
{
    strata_options o;
    strata_options_init(&o);
    o.page_size = 1024; /* many pages per table */
    o.compression = STRATA_COMPRESSION_NONE;
    return o;
}

static void
put_range(strata_db *db, model *m, int from, int to)
{
    for (int i = from; i < to; i++) {
        char k[16], v[64];
        size_t kl = key_of(i, k), vl = val_of(i, v);
        ST_ASSERT_OK(strata_put(db, NULL, k, kl, v, vl));
        m->present[i] = 1;
        m->deleted[i] = 0;
    }
}

/* The newest file of dir ending in suffix (names are zero-padded numbers). */
static char *
newest(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    ST_ASSERT(d != NULL);
    char best[256] = "";
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), s = strlen(suffix);
        if (n > s && strcmp(e->d_name + n - s, suffix) == 0 &&
            (strlen(e->d_name) > strlen(best) ||
             (strlen(e->d_name) == strlen(best) && strcmp(e->d_name, best) > 0)))
            snprintf(best, sizeof(best), "%s", e->d_name);
    }
    closedir(d);
    ST_ASSERT(best[0] != 0);
    char *p = st_malloc(strlen(dir) + strlen(best) + 2);
    sprintf(p, "%s/%s", dir, best);
    return p;
}

static long
fsize(const char *path)
{
    struct stat st;
    ST_ASSERT(stat(path, &st) == 0);
    return (long)st.st_size;
}

/* 1 when key k lies in a range the report lists ("  keys [LO .. HI] (" or "  every key"). */
static int
reported(const char *report, const char *k)
{
    for (const char *p = report; (p = strstr(p, "\n  ")) != NULL; p++) {
        if (strncmp(p + 3, "every key", 9) == 0)
            return 1;
        char lo[128], hi[128];
        if (sscanf(p + 3, "keys [%127s .. %127[^]]]", lo, hi) == 2 &&
            (strcmp(lo, "(first)") == 0 || strcmp(lo, k) <= 0) &&
            (strcmp(hi, "(last)") == 0 || strcmp(k, hi) <= 0))
            return 1;
    }
    return 0;
}

/*
 * Open with default options and compare with the model: a present key has its value unless a
 * reported range holds it, a deleted key stays deleted unless a reported range holds it.
 * Returns how many keys differ from the model.
 */
static int
check_db(const char *dir, const model *m, const char *report)
{
    strata_options o = opts();
    strata_db *db = NULL;
    int rc = strata_open(dir, &o, &db);
    if (rc != STRATA_OK)
        ST_FAIL("open after repair: %s (%s)\n%s", strata_errstr(rc), strata_errmsg(NULL), report);
    int differ = 0;
    for (int i = 0; i < NKEYS; i++) {
        char k[16], want[64];
        size_t kl = key_of(i, k), wl = val_of(i, want);
        void *v = NULL;
        size_t vl = 0;
        rc = strata_get(db, NULL, k, kl, &v, &vl);
        ST_ASSERT(rc == STRATA_OK || rc == STRATA_NOTFOUND);
        int same = m->present[i] && !m->deleted[i]
                       ? rc == STRATA_OK && vl == wl && memcmp(v, want, wl) == 0
                       : rc == STRATA_NOTFOUND;
        strata_free(v);
        if (!same) {
            differ++;
            if (!reported(report, k))
                ST_FAIL("key %s: %s after repair, and no reported range holds it\n%s", k,
                        rc == STRATA_OK ? "a value" : "not found", report);
        }
    }
    /* a full scan works too */
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(db, NULL, &it));
    for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it))
        ;
    ST_ASSERT_OK(strata_iter_status(it));
    strata_iter_close(it);
    ST_ASSERT_OK(strata_close(db));
    return differ;
}

/* Run repair, expecting `want`; returns the report (owned by the caller). */
static char *
repair(const char *dir, int want)
{
    char *report = NULL;
    int rc = strata_repair(dir, NULL, &report);
    ST_ASSERT(report != NULL);
    if (rc != want)
        ST_FAIL("strata_repair returned %s, expected %s (%s)\n%s", strata_errstr(rc),
                strata_errstr(want), strata_errmsg(NULL), report);
    return report;
}

static int
lost_has(const char *dir, const char *path)
{
    char p[4096];
    snprintf(p, sizeof(p), "%s/lost/%s", dir, strrchr(path, '/') + 1);
    struct stat st;
    return stat(p, &st) == 0;
}

/* ---- write-ahead logs ------------------------------------------------------------------------ */

/* NKEYS puts, one record each, left in the WAL (no flush). */
static strata_db *
wal_db(const char *dir, model *m)
{
    strata_options o = opts();
    o.write_buffer_size = 64u << 20;
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(dir, &o, &db));
    put_range(db, m, 0, NKEYS);
    return db;
}

static void
test_wal_header(void)
{
    char *dir = st_test_tmpdir("salvage_wal_header");
    char *copy = st_test_tmpdir("salvage_wal_header_copy");
    model m = {{0}, {0}};
    ST_ASSERT_OK(strata_close(wal_db(dir, &m)));
    char *wal = newest(dir, ".wal");
    ST_ASSERT(fsize(wal) > 40000);
    st_test_flip_byte(wal, 29); /* the header checksum */
    strata_options o = opts();
    strata_db *db = NULL;
    ST_ASSERT_RC(strata_open(dir, &o, &db), STRATA_CORRUPT);
    /* the API's skip mode copes with the damaged header and loses nothing */
    st_test_copy_dir(dir, copy);
    o.wal_recovery_mode = STRATA_WAL_RECOVERY_SKIP_CORRUPT;
    ST_ASSERT_OK(strata_open(copy, &o, &db));
    ST_ASSERT_OK(strata_close(db));
    ST_ASSERT_EQ(check_db(copy, &m, ""), 0);
    /* repair rewrites the log: nothing lost, STRATA_OK */
    char *report = repair(dir, STRATA_OK);
    ST_ASSERT(strstr(report, "header") != NULL);
    ST_ASSERT(lost_has(dir, wal));
    ST_ASSERT_EQ(check_db(dir, &m, report), 0);
    strata_free(report);
    st_free(wal);
    st_test_rmrf(copy);
    st_test_rmrf(dir);
    st_free(copy);
    st_free(dir);
}

static void
test_wal_mid_record(void)
{
    char *dir = st_test_tmpdir("salvage_wal_mid");
    model m = {{0}, {0}};
    ST_ASSERT_OK(strata_close(wal_db(dir, &m)));
    char *wal = newest(dir, ".wal");
    st_test_flip_byte(wal, 40000); /* block 1 */
    strata_options o = opts();
    strata_db *db = NULL;
    ST_ASSERT_RC(strata_open(dir, &o, &db), STRATA_CORRUPT);
    char *report = repair(dir, STRATA_DATALOSS);
    ST_ASSERT(strstr(report, "every key") != NULL);
    int differ = check_db(dir, &m, report);
    /* one 32 KiB block at most: the records before and after it are all there */
    ST_ASSERT(differ > 0 && differ < NKEYS / 2);
    strata_options o2 = opts();
    ST_ASSERT_OK(strata_open(dir, &o2, &db));
    void *v = NULL;
    size_t vl;
    ST_ASSERT_OK(strata_get(db, NULL, "k00000", 6, &v, &vl)); /* block 0 */
    strata_free(v);
    ST_ASSERT_OK(strata_get(db, NULL, "k01999", 6, &v, &vl)); /* after the damaged block */
    strata_free(v);
    ST_ASSERT_OK(strata_close(db));
    strata_free(report);
    st_free(wal);
    st_test_rmrf(dir);
    st_free(dir);
}

/* ---- tables ---------------------------------------------------------------------------------- */

/* Two tables: keys [0, NKEYS/2) and [NKEYS/2, NKEYS). */
static void
two_tables(const char *dir, model *m)
{
    strata_options o = opts();
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(dir, &o, &db));
    put_range(db, m, 0, NKEYS / 2);
    ST_ASSERT_OK(strata_flush(db));
    put_range(db, m, NKEYS / 2, NKEYS);
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_close(db));
}

static void
test_table_data_page(void)
{
    char *dir = st_test_tmpdir("salvage_table_page");
    model m = {{0}, {0}};
    two_tables(dir, &m);
    char *t = newest(dir, ".parquet");
    st_test_flip_byte(t, fsize(t) / 3);
    char *report = repair(dir, STRATA_DATALOSS);
    ST_ASSERT(strstr(report, "salvaged") != NULL && strstr(report, "keys [") != NULL);
    ST_ASSERT(lost_has(dir, t));
    int differ = check_db(dir, &m, report);
    ST_ASSERT(differ > 0 && differ < NKEYS / 4); /* a page or so, not the table */
    ST_ASSERT_OK(strata_check(dir, NULL));
    strata_free(report);
    st_free(t);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_table_footer(void)
{
    char *dir = st_test_tmpdir("salvage_table_footer");
    model m = {{0}, {0}};
    two_tables(dir, &m);
    char *t = newest(dir, ".parquet");
    st_test_flip_byte(t, fsize(t) - 6); /* the footer length */
    char *report = repair(dir, STRATA_DATALOSS);
    char want[64];
    snprintf(want, sizeof(want), "keys [k%05d .. k%05d]", NKEYS / 2, NKEYS - 1);
    if (!strstr(report, want)) /* the range the old manifest recorded */
        ST_FAIL("'%s' not in the report\n%s", want, report);
    ST_ASSERT(lost_has(dir, t));
    ST_ASSERT_EQ(check_db(dir, &m, report), NKEYS / 2);
    strata_free(report);
    st_free(t);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_table_with_tombstones(void)
{
    char *dir = st_test_tmpdir("salvage_tombstones");
    model m = {{0}, {0}};
    strata_options o = opts();
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(dir, &o, &db));
    put_range(db, &m, 0, NKEYS);
    ST_ASSERT_OK(strata_flush(db));
    for (int i = 0; i < NKEYS; i += 2) {
        char k[16];
        ST_ASSERT_OK(strata_delete(db, NULL, k, key_of(i, k)));
        m.deleted[i] = 1;
    }
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_close(db));
    char *t = newest(dir, ".parquet"); /* the tombstones */
    st_test_flip_byte(t, fsize(t) / 4);
    char *report = repair(dir, STRATA_DATALOSS);
    int differ = check_db(dir, &m, report); /* resurrected keys only inside reported ranges */
    ST_ASSERT(differ > 0 && differ < NKEYS / 4);
    strata_free(report);
    st_free(t);
    st_test_rmrf(dir);
    st_free(dir);
}

/* ---- foreign tables -------------------------------------------------------------------------- */

static void
foreign_case(const char *name, const st_test_row *rows, int n, const char *rule)
{
    char *dir = st_test_tmpdir(name);
    model m = {{0}, {0}};
    two_tables(dir, &m);
    char path[4096];
    snprintf(path, sizeof(path), "%s/000100.parquet", dir);
    st_test_write_foreign(path, rows, n);
    char *report = repair(dir, STRATA_DATALOSS);
    if (!strstr(report, "REJECTED") || !strstr(report, rule))
        ST_FAIL("the report does not reject 000100.parquet for '%s'\n%s", rule, report);
    ST_ASSERT(lost_has(dir, path));
    ST_ASSERT_EQ(check_db(dir, &m, report), 0);
    /* none of its keys was adopted */
    strata_db *db = NULL;
    strata_options o = opts();
    ST_ASSERT_OK(strata_open(dir, &o, &db));
    for (int i = 0; i < n; i++) {
        void *v = NULL;
        size_t vl;
        if (rows[i].key[0])
            ST_ASSERT_RC(strata_get(db, NULL, rows[i].key, strlen(rows[i].key), &v, &vl),
                         STRATA_NOTFOUND);
    }
    ST_ASSERT_OK(strata_close(db));
    strata_free(report);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_foreign_unsorted(void)
{
    static const st_test_row rows[4] = {
        {"x1", 5, 1, "a"}, {"x3", 4, 1, "b"}, {"x2", 3, 1, "c"}, {"x4", 2, 1, "d"}};
    foreign_case("salvage_foreign_unsorted", rows, 4, "row 2 (row group 0 row 2) is out of order");
}

static void
test_foreign_empty_key(void)
{
    static const st_test_row rows[3] = {{"", 5, 1, "a"}, {"x1", 4, 1, "b"}, {"x2", 3, 1, "c"}};
    foreign_case("salvage_foreign_empty", rows, 3, "row 0: key of 0 bytes");
}

int
main(void)
{
    ST_RUN(test_wal_header);
    ST_RUN(test_wal_mid_record);
    ST_RUN(test_table_data_page);
    ST_RUN(test_table_footer);
    ST_RUN(test_table_with_tombstones);
    ST_RUN(test_foreign_unsorted);
    ST_RUN(test_foreign_empty_key);
    return st_test_done();
}
