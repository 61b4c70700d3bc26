/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strata_repair over a matrix of damage (issue 12): a damaged WAL header, a damaged record in
 * the middle of a WAL, a damaged table data page, a damaged table footer, a damaged table that
 * holds tombstones, a foreign table whose keys are not sorted and a foreign table with an empty
 * key; and tables whose footer cannot be read, salvaged by walking their pages: footer length
 * flipped, FileMetaData flipped, file cut in the page index or the footer, in every codec, a
 * tombstone table without footer, a table of many row groups cut in the middle of a data page,
 * and cuts at many offsets. Each case ends with a database that opens with default options,
 * holds every row repair could salvage, never shows a deleted key again unless the report named
 * a range holding it, and the right result: STRATA_OK when nothing was lost, STRATA_DATALOSS
 * otherwise.
 */
#include "foreign_pq.h"
#include "sst/sst_internal.h"
#include "st_test.h"
#include "test_fs.h"
#include "util/alloc.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
two_tables_codec(const char *dir, model *m, int compression)
{
    strata_options o = opts();
    o.compression = compression;
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(dir, &o, &db));
    put_range(db, m, 0, NKEYS / 2);
    ST_ASSERT_OK(strata_flush(db));
    put_range(db, m, NKEYS / 2, NKEYS);
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_close(db));
}

static void
two_tables(const char *dir, model *m)
{
    two_tables_codec(dir, m, STRATA_COMPRESSION_NONE);
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

/* Where table t's page index starts (after its last data page) and where its FileMetaData
 * starts. */
static void
table_offsets(const char *t, long *index, long *footer)
{
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), t, NULL, &r));
    *index = (long)r->rgs[r->nrgs - 1].chunk_end[ST_SST_COL_KIND];
    st_sst_reader_unref(r);
    FILE *f = fopen(t, "rb");
    uint8_t tail[8];
    ST_ASSERT(f && fseek(f, -8, SEEK_END) == 0 && fread(tail, 1, 8, f) == 8 && fclose(f) == 0);
    *footer =
        fsize(t) - 8 - (long)(tail[0] | tail[1] << 8 | tail[2] << 16 | (uint32_t)tail[3] << 24);
    ST_ASSERT(*index > 4 && *index < *footer);
}

static void
cut(const char *path, long n)
{
    ST_ASSERT(truncate(path, n) == 0);
}

/* Damage to a table's footer (none of it touches a data page). */
enum { FLIP_FOOTER_LEN, FLIP_META, CUT_INDEX, CUT_META, CUT_AFTER_INDEX };

static void
damage_footer(const char *t, int how)
{
    long index, footer;
    table_offsets(t, &index, &footer);
    if (how == FLIP_FOOTER_LEN)
        st_test_flip_byte(t, fsize(t) - 6);
    else if (how == FLIP_META)
        st_test_flip_byte(t, footer);
    else if (how == CUT_INDEX)
        cut(t, (index + footer) / 2);
    else if (how == CUT_META)
        cut(t, footer + (fsize(t) - footer) / 3);
    else
        cut(t, index + 10);
}

/* Puts of every key, flushed; then deletes of every step-th key, flushed (step 0: none). */
static void
puts_then_deletes(const char *dir, model *m, int compression, int step)
{
    strata_options o = opts();
    o.compression = compression;
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(dir, &o, &db));
    put_range(db, m, 0, NKEYS);
    ST_ASSERT_OK(strata_flush(db));
    for (int i = 0; step && i < NKEYS; i += step) {
        char k[16];
        ST_ASSERT_OK(strata_delete(db, NULL, k, key_of(i, k)));
        m->deleted[i] = 1;
    }
    if (step)
        ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_close(db));
}

/*
 * The newest table's footer damaged (`how`) in a database made by puts_then_deletes (step 0:
 * two tables of puts): repair walks its pages, every row comes back (so no key differs from the
 * model, deleted keys included), the original goes to lost/, the result is `want` and the
 * report holds `text` (may be NULL).
 */
static void
footer_case(const char *name, int how, int compression, int step, int want, const char *text)
{
    char *dir = st_test_tmpdir(name);
    model m = {{0}, {0}};
    if (step)
        puts_then_deletes(dir, &m, compression, step);
    else
        two_tables_codec(dir, &m, compression);
    char *t = newest(dir, ".parquet");
    damage_footer(t, how);
    char *report = repair(dir, want);
    ST_ASSERT(strstr(report, "footer unreadable") != NULL);
    ST_ASSERT(strstr(report, "by walking its pages") != NULL);
    if (text && !strstr(report, text))
        ST_FAIL("'%s' not in the report\n%s", text, report);
    ST_ASSERT(lost_has(dir, t));
    ST_ASSERT_EQ(check_db(dir, &m, report), 0);
    ST_ASSERT_OK(strata_check(dir, NULL));
    strata_free(report);
    st_free(t);
    st_test_rmrf(dir);
    st_free(dir);
}

/* The footer length flipped, a flipped byte at the start of the FileMetaData: every row comes
 * back, and the footer's own pairs (still there) confirm that nothing was lost. */
static void
test_table_footer(void)
{
    footer_case("salvage_table_footer", FLIP_FOOTER_LEN, STRATA_COMPRESSION_NONE, 0, STRATA_OK,
                NULL);
    footer_case("salvage_footer_meta", FLIP_META, STRATA_COMPRESSION_NONE, 0, STRATA_OK, NULL);
}

/* The file cut in the page index, then in the FileMetaData: every row comes back, but with the
 * footer gone nothing says the table ended there, so the range after its last key is reported
 * (bounded by the old manifest's range for the table). */
static void
test_footer_truncated(void)
{
    char want[64];
    snprintf(want, sizeof(want), "keys [k%05d .. k%05d]", NKEYS - 1, NKEYS - 1);
    footer_case("salvage_footer_cut", CUT_INDEX, STRATA_COMPRESSION_NONE, 0, STRATA_DATALOSS, want);
    footer_case("salvage_footer_cut", CUT_META, STRATA_COMPRESSION_NONE, 0, STRATA_DATALOSS, want);
}

/* Tables of every codec strata writes, cut right after their last data page. */
static void
test_footer_lost_codecs(void)
{
    static const int codecs[4] = {STRATA_COMPRESSION_ZSTD, STRATA_COMPRESSION_LZ4,
                                  STRATA_COMPRESSION_NONE, STRATA_COMPRESSION_SNAPPY};
    for (int c = 0; c < 4; c++)
        footer_case("salvage_footer_codec", CUT_AFTER_INDEX, codecs[c], NKEYS + 1, STRATA_DATALOSS,
                    "salvaged 1 row(s) by walking its pages");
}

/* A table of tombstones whose footer is lost: its tombstones are salvaged, so the deleted keys
 * stay deleted (before, the whole table was lost and they came back). */
static void
test_tombstones_footer_lost(void)
{
    footer_case("salvage_tombstones_footer", CUT_META, STRATA_COMPRESSION_NONE, 2, STRATA_DATALOSS,
                "salvaged 1000 row(s) by walking its pages");
}

/* A compaction's leftover input whose footer cannot be read (a crash between the manifest
 * edit and the removal of the inputs, then damage): the output's strata-replaces names it, so
 * it is removed, not salvaged (its rows could bring back what the compaction dropped), and
 * nothing is lost. */
static void
test_unreadable_leftover_input(void)
{
    char *dir = st_test_tmpdir("salvage_leftover");
    model m = {{0}, {0}};
    two_tables(dir, &m);
    char *t = newest(dir, ".parquet");
    st_buf saved = {0};
    ST_ASSERT_OK(st_env_read_file(st_env_posix(), t, &saved));
    strata_options o = opts();
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(dir, &o, &db));
    ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0));
    ST_ASSERT_OK(strata_close(db));
    ST_ASSERT(access(t, F_OK) != 0); /* the compaction removed its input */
    st_test_write_file(t, saved.data, saved.len / 2);
    st_buf_free(&saved);
    char *report = repair(dir, STRATA_OK);
    char want[300];
    snprintf(want, sizeof(want), "%s: replaced by compaction output", strrchr(t, '/') + 1);
    if (!strstr(report, want))
        ST_FAIL("'%s' not in the report\n%s", want, report);
    ST_ASSERT_EQ(check_db(dir, &m, report), 0);
    strata_free(report);
    st_free(t);
    st_test_rmrf(dir);
    st_free(dir);
}

/* A table of many row groups (built with a small row_group_size) cut in the middle of a data
 * page of a later row group: the row groups before the cut come back. */
static void
test_many_row_groups_cut(void)
{
    char *dir = st_test_tmpdir("salvage_row_groups");
    model m = {{0}, {0}};
    strata_options o = opts();
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(dir, &o, &db));
    ST_ASSERT_OK(strata_close(db));
    char t[4096];
    snprintf(t, sizeof(t), "%s/000050.parquet", dir);
    st_sst_options so;
    st_sst_options_init(&so);
    so.page_size = 512;
    so.row_group_size = 8000;
    so.compression = STRATA_COMPRESSION_LZ4;
    st_sst_builder *b = NULL;
    ST_ASSERT_OK(st_sst_builder_new(st_env_posix(), t, &so, &b));
    for (int i = 0; i < NKEYS; i++) {
        char k[16], v[64];
        size_t kl = key_of(i, k), vl = val_of(i, v);
        st_sst_builder_add(b, (const uint8_t *)k, kl, (uint64_t)i + 1, ST_KIND_PUT,
                           (const uint8_t *)v, vl);
        m.present[i] = 1;
    }
    ST_ASSERT_OK(st_sst_builder_finish(b, NULL));
    st_sst_reader *r = NULL;
    ST_ASSERT_OK(st_sst_reader_open(st_env_posix(), t, NULL, &r));
    ST_ASSERT(r->nrgs >= 4);
    uint32_t g = r->nrgs / 2;
    int64_t before = 0;
    for (uint32_t i = 0; i < g; i++)
        before += r->rgs[i].num_rows;
    const st_pq_offset_index *oi = &r->rgs[g].oi[ST_SST_COL_VALUE];
    long at =
        (long)(oi->pages[oi->npages / 2].offset + oi->pages[oi->npages / 2].compressed_size / 2);
    st_sst_reader_unref(r);
    cut(t, at);
    char *report = repair(dir, STRATA_DATALOSS);
    ST_ASSERT(strstr(report, "by walking its pages") != NULL);
    int differ = check_db(dir, &m, report);
    ST_ASSERT(differ > 0 && differ <= NKEYS - (int)before);
    /* every key of the row groups before the cut is there */
    ST_ASSERT_OK(strata_open(dir, &o, &db));
    for (int i = 0; i < (int)before; i++) {
        char k[16];
        void *v = NULL;
        size_t vl;
        ST_ASSERT_OK(strata_get(db, NULL, k, key_of(i, k), &v, &vl));
        strata_free(v);
    }
    ST_ASSERT_OK(strata_close(db));
    strata_free(report);
    st_test_rmrf(dir);
    st_free(dir);
}

/* A table cut at many offsets (puts, or the tombstones that delete a third of them): repair
 * never fails, never shows a wrong value or a deleted key outside a reported range, and
 * returns STRATA_DATALOSS whenever the database differs from what was written. */
static void
test_truncation_sweep(void)
{
    char *pristine = st_test_tmpdir("salvage_sweep_pristine");
    char *dir = st_test_tmpdir("salvage_sweep");
    model m = {{0}, {0}};
    puts_then_deletes(pristine, &m, STRATA_COMPRESSION_NONE, 3);
    char *tomb = newest(pristine, ".parquet");
    char name[64];
    snprintf(name, sizeof(name), "%s", strrchr(tomb, '/') + 1);
    unsigned long num = strtoul(name, NULL, 10);
    for (int round = 0; round < 24; round++) {
        st_test_rmrf(dir);
        st_test_copy_dir(pristine, dir);
        char t[4096];
        /* even rounds: the puts table (numbered below the tombstones), odd: the tombstones */
        if (round % 2) {
            snprintf(t, sizeof(t), "%s/%s", dir, name);
        } else {
            DIR *d = opendir(dir);
            struct dirent *e;
            t[0] = 0;
            while ((e = readdir(d)) != NULL)
                if (strstr(e->d_name, ".parquet") && strtoul(e->d_name, NULL, 10) != num)
                    snprintf(t, sizeof(t), "%s/%s", dir, e->d_name);
            closedir(d);
            ST_ASSERT(t[0] != 0);
        }
        long len = fsize(t);
        cut(t, 4 + (len - 4) * (round / 2) / 12 + round % 5);
        char *report = NULL;
        int rc = strata_repair(dir, NULL, &report);
        if (rc != STRATA_OK && rc != STRATA_DATALOSS)
            ST_FAIL("repair: %s (%s)\n%s", strata_errstr(rc), strata_errmsg(NULL), report);
        int differ = check_db(dir, &m, report);
        if (differ > 0 && rc != STRATA_DATALOSS)
            ST_FAIL("%d keys differ but repair returned STRATA_OK\n%s", differ, report);
        strata_free(report);
    }
    st_free(tomb);
    st_test_rmrf(dir);
    st_test_rmrf(pristine);
    st_free(dir);
    st_free(pristine);
}

static void
test_table_with_tombstones(void)
{
    char *dir = st_test_tmpdir("salvage_tombstones");
    model m = {{0}, {0}};
    puts_then_deletes(dir, &m, STRATA_COMPRESSION_NONE, 2);
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
    ST_RUN(test_footer_truncated);
    ST_RUN(test_footer_lost_codecs);
    ST_RUN(test_tombstones_footer_lost);
    ST_RUN(test_many_row_groups_cut);
    ST_RUN(test_unreadable_leftover_input);
    ST_RUN(test_truncation_sweep);
    ST_RUN(test_table_with_tombstones);
    ST_RUN(test_foreign_unsorted);
    ST_RUN(test_foreign_empty_key);
    return st_test_done();
}
