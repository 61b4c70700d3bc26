/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_opsapi.c -- the operational API: numeric statistics (strata_get_stats), prefix
 * iteration, the read options verify_checksums and fill_cache, and strata_approximate_size.
 */
#include "db/db_impl.h"
#include "db_check.h"
#include "st_test.h"
#include "util/alloc.h"

#include <inttypes.h>

static void
put_kv(strata_db *db, const char *k, size_t kl, const char *v)
{
    ST_ASSERT_OK(strata_put(db, NULL, k, kl, v, strlen(v)));
}

/* ---- statistics ------------------------------------------------------------------------- */

static void
test_stats(void)
{
    char *dir = st_test_tmpdir("ops_stats");
    strata_options o = st_dbc_opts(64 * 1024);
    strata_db *db = st_dbc_open(dir, &o);
    strata_stats s;
    strata_stats_init(&s);
    ST_ASSERT_OK(strata_get_stats(db, &s));
    ST_ASSERT_EQ(s.struct_size, sizeof(s));
    ST_ASSERT_EQ(s.sequence, 0);
    ST_ASSERT_EQ(s.tables, 0);
    ST_ASSERT_EQ(s.cache_capacity, 256 * 1024);
    ST_ASSERT_EQ(s.background_error, STRATA_OK);
    char key[16];
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof(key), "key%04d", i);
        put_kv(db, key, strlen(key), "value");
    }
    ST_ASSERT_OK(strata_delete(db, NULL, "key0000", 7));
    void *v;
    size_t vl;
    ST_ASSERT_OK(strata_get(db, NULL, "key0001", 7, &v, &vl));
    strata_free(v);
    ST_ASSERT_RC(strata_get(db, NULL, "key0000", 7, &v, &vl), STRATA_NOTFOUND);
    strata_stats_init(&s);
    ST_ASSERT_OK(strata_get_stats(db, &s));
    ST_ASSERT_EQ(s.sequence, 101);
    ST_ASSERT_EQ(s.write_batches, 101);
    ST_ASSERT_EQ(s.user_bytes, 100 * (7 + 5) + 7);
    ST_ASSERT_EQ(s.memtable_entries, 101);
    ST_ASSERT(s.memtable_bytes > 0);
    ST_ASSERT(s.wal_bytes > 0 && s.wal_records > 0 && s.wal_number > 0);
    ST_ASSERT_EQ(s.gets, 2);
    ST_ASSERT_EQ(s.gets_found, 1);
    ST_ASSERT_OK(strata_flush(db));
    strata_iter *it;
    ST_ASSERT_OK(strata_iter_open(db, NULL, &it));
    const strata_snapshot *snap = strata_snapshot_get(db);
    strata_stats_init(&s);
    ST_ASSERT_OK(strata_get_stats(db, &s));
    ST_ASSERT_EQ(s.flushes, 1);
    ST_ASSERT(s.flush_bytes > 0);
    ST_ASSERT_EQ(s.tables, 1);
    ST_ASSERT_EQ(s.sorted_runs, 1);
    ST_ASSERT_EQ(s.table_entries, 100); /* the flush drops the put shadowed by the delete */
    ST_ASSERT_EQ(s.table_tombstones, 1);
    ST_ASSERT_EQ(s.memtable_entries, 0);
    ST_ASSERT_EQ(s.open_iterators, 1);
    ST_ASSERT_EQ(s.open_snapshots, 1);
    ST_ASSERT_EQ(s.table_cache_limit, 1000);
    ST_ASSERT(s.write_amplification > 0.0);
    ST_ASSERT_EQ(s.write_amplification, (double)s.flush_bytes / (double)s.user_bytes);
    /* the text property shows the same figures */
    char *text = NULL;
    ST_ASSERT_OK(strata_property(db, "strata.stats", &text));
    char want[128];
    snprintf(want, sizeof(want), "tables: 1, %" PRIu64 " bytes, 100 entries (1 tombstones)",
             s.table_bytes);
    ST_ASSERT(strstr(text, want) != NULL);
    ST_ASSERT(strstr(text, "sequence: 101\n") != NULL);
    strata_free(text);
    strata_iter_close(it);
    strata_snapshot_release(db, snap);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

/* ---- prefix iteration --------------------------------------------------------------------- */

/* Keys in both directions, joined by ',' into out. */
static void
scan(strata_db *db, const strata_read_options *ro, int backward, char *out, size_t cap)
{
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(db, ro, &it));
    out[0] = '\0';
    if (backward)
        strata_iter_seek_last(it);
    else
        strata_iter_seek_first(it);
    while (strata_iter_valid(it)) {
        size_t kl;
        const char *k = strata_iter_key(it, &kl);
        size_t used = strlen(out);
        snprintf(out + used, cap - used, "%s%.*s", used ? "," : "", (int)kl, k);
        if (backward)
            strata_iter_prev(it);
        else
            strata_iter_next(it);
    }
    ST_ASSERT_OK(strata_iter_status(it));
    strata_iter_close(it);
}

/* The key the iterator is on after seek (dir 1) / seek_for_prev (dir -1) to k, or "-". */
static void
seek_to(strata_db *db, const strata_read_options *ro, int dir, const char *k, size_t kl,
        const char *want)
{
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(db, ro, &it));
    if (dir > 0)
        strata_iter_seek(it, k, kl);
    else
        strata_iter_seek_for_prev(it, k, kl);
    char got[64] = "-";
    if (strata_iter_valid(it)) {
        size_t n;
        const char *p = strata_iter_key(it, &n);
        snprintf(got, sizeof(got), "%.*s", (int)n, p);
    }
    if (strcmp(got, want) != 0)
        ST_FAIL("seek %d to %.*s: got %s, want %s", dir, (int)kl, k, got, want);
    strata_iter_close(it);
}

static void
check_prefix(strata_db *db)
{
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.prefix = "ab";
    ro.prefix_len = 2;
    char got[256];
    scan(db, &ro, 0, got, sizeof(got));
    ST_ASSERT(strcmp(got, "ab,abc,abd") == 0);
    scan(db, &ro, 1, got, sizeof(got));
    ST_ASSERT(strcmp(got, "abd,abc,ab") == 0);
    seek_to(db, &ro, 1, "a", 1, "ab");      /* clamped up into the prefix */
    seek_to(db, &ro, 1, "abc", 3, "abc");   /* inside */
    seek_to(db, &ro, 1, "abz", 3, "-");     /* past the prefix */
    seek_to(db, &ro, -1, "b", 1, "abd");    /* clamped down into the prefix */
    seek_to(db, &ro, -1, "abcz", 4, "abc"); /* inside */
    seek_to(db, &ro, -1, "aa", 2, "-");     /* before the prefix */
    /* combined with bounds: the narrower wins */
    ro.lower_bound = "abc";
    ro.lower_bound_len = 3;
    ro.upper_bound = "b";
    ro.upper_bound_len = 1;
    scan(db, &ro, 0, got, sizeof(got));
    ST_ASSERT(strcmp(got, "abc,abd") == 0);
    scan(db, &ro, 1, got, sizeof(got));
    ST_ASSERT(strcmp(got, "abd,abc") == 0);
    ro.upper_bound = "abd";
    ro.upper_bound_len = 3;
    scan(db, &ro, 0, got, sizeof(got));
    ST_ASSERT(strcmp(got, "abc") == 0);
    /* a prefix with no keys */
    strata_read_options_init(&ro);
    ro.prefix = "zz";
    ro.prefix_len = 2;
    scan(db, &ro, 0, got, sizeof(got));
    ST_ASSERT(strcmp(got, "") == 0);
    scan(db, &ro, 1, got, sizeof(got));
    ST_ASSERT(strcmp(got, "") == 0);
    /* trailing 0xff bytes: the successor of "a\xff" is "b"; all-0xff has no upper bound */
    ro.prefix = "a\xff";
    ro.prefix_len = 2;
    scan(db, &ro, 0, got, sizeof(got));
    ST_ASSERT(strcmp(got, "a\xff,a\xff\xff,a\xff\xff\x01") == 0);
    scan(db, &ro, 1, got, sizeof(got));
    ST_ASSERT(strcmp(got, "a\xff\xff\x01,a\xff\xff,a\xff") == 0);
    ro.prefix = "\xff\xff";
    ro.prefix_len = 2;
    scan(db, &ro, 0, got, sizeof(got));
    ST_ASSERT(strcmp(got, "\xff\xff,\xff\xff\xff") == 0);
    scan(db, &ro, 1, got, sizeof(got));
    ST_ASSERT(strcmp(got, "\xff\xff\xff,\xff\xff") == 0);
    /* without a prefix every key */
    strata_read_options_init(&ro);
    scan(db, &ro, 0, got, sizeof(got));
    ST_ASSERT(strcmp(got, "a,ab,abc,abd,ac,a\xff,a\xff\xff,a\xff\xff\x01,b,\xfe\xff,\xff,\xff\xff,"
                          "\xff\xff\xff") == 0);
    /* NULL prefix with a length is misuse */
    ro.prefix_len = 1;
    strata_iter *it = (strata_iter *)1;
    ST_ASSERT_RC(strata_iter_open(db, &ro, &it), STRATA_INVALID);
    ST_ASSERT(it == NULL);
}

static void
test_prefix(void)
{
    char *dir = st_test_tmpdir("ops_prefix");
    strata_options o = st_dbc_opts(64 * 1024);
    strata_db *db = st_dbc_open(dir, &o);
    static const char *keys[] = {"a",        "ab",           "abc",       "abd",           "ac",
                                 "b",        "a\xff",        "a\xff\xff", "a\xff\xff\x01", "\xff",
                                 "\xff\xff", "\xff\xff\xff", "\xfe\xff"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
        put_kv(db, keys[i], strlen(keys[i]), "v");
    put_kv(db, "abe", 3, "v");
    ST_ASSERT_OK(strata_delete(db, NULL, "abe", 3)); /* a tombstone inside the prefix */
    check_prefix(db);                                /* memtable */
    ST_ASSERT_OK(strata_flush(db));
    check_prefix(db); /* table */
    put_kv(db, "abe", 3, "v");
    ST_ASSERT_OK(strata_delete(db, NULL, "abe", 3));
    check_prefix(db); /* both */
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_stats);
    ST_RUN(test_prefix);
    return st_test_done();
}
