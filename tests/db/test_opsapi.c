/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_opsapi.c -- the operational API: numeric statistics (strata_get_stats), prefix
 * iteration, the read options verify_checksums and fill_cache, and strata_approximate_size.
 */
#include "db/db_impl.h"
#include "db_check.h"
#include "fault_env.h"
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
    /* the default budget: the cache's share and two memtables; the active one is charged */
    ST_ASSERT_EQ(s.memory_budget, 256 * 1024 + 2 * 64 * 1024);
    ST_ASSERT_EQ(s.memtable_charge, 64 * 1024);
    ST_ASSERT_EQ(s.cache_capacity, s.memory_budget - s.memtable_charge);
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

/* ---- read options: fill_cache and verify_checksums --------------------------------------- */

static void
get_with(strata_db *db, const strata_read_options *ro, const char *key, int want)
{
    void *v = NULL;
    size_t vl;
    ST_ASSERT_RC(strata_get(db, ro, key, strlen(key), &v, &vl), want);
    strata_free(v);
}

static void
test_fill_cache(void)
{
    char *dir = st_test_tmpdir("ops_fill");
    strata_options o = st_dbc_opts(1 << 20);
    strata_db *db = st_dbc_open(dir, &o);
    char key[16], val[64];
    memset(val, 'v', sizeof(val) - 1);
    val[sizeof(val) - 1] = '\0';
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "k%05d", i);
        put_kv(db, key, strlen(key), val);
    }
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_close(db));
    db = st_dbc_open(dir, &o); /* an empty cache */
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.fill_cache = 0;
    get_with(db, &ro, "k00000", STRATA_OK); /* opens the table (its index is charged once) */
    uint64_t base = st_dbc_stats(db).cache_bytes;
    for (int i = 0; i < 2000; i += 97) {
        snprintf(key, sizeof(key), "k%05d", i);
        get_with(db, &ro, key, STRATA_OK);
    }
    get_with(db, &ro, "k99999", STRATA_NOTFOUND);
    ST_ASSERT_EQ(st_dbc_stats(db).cache_bytes, base);
    strata_iter *it;
    ST_ASSERT_OK(strata_iter_open(db, &ro, &it));
    int n = 0;
    for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it))
        n++;
    ST_ASSERT_EQ(n, 2000);
    strata_iter_close(it);
    ST_ASSERT_EQ(st_dbc_stats(db).cache_bytes, base);
    /* the default fills it */
    get_with(db, NULL, "k01000", STRATA_OK);
    ST_ASSERT(st_dbc_stats(db).cache_bytes > base);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

/* Misses of one round of gets of every 50th of the first 1000 keys. */
static uint64_t
hot_round(strata_db *db)
{
    char key[16];
    uint64_t before = st_dbc_stats(db).cache_misses;
    for (int i = 0; i < 1000; i += 50) {
        snprintf(key, sizeof(key), "k%05d", i);
        get_with(db, NULL, key, STRATA_OK);
    }
    return st_dbc_stats(db).cache_misses - before;
}

/*
 * A scan of a table much bigger than the cache (fill_cache on) does not push out what point
 * lookups keep reusing: once the cache is full, pages it reads through its read-ahead window
 * are cached only when admitted, so the hot lookups miss no more after it than before.
 */
static void
test_scan_keeps_hot_pages(void)
{
    char *dir = st_test_tmpdir("ops_scan_hot");
    strata_options o = st_dbc_opts(8 << 20);
    o.block_cache_size = 2 << 20; /* a third of the table's decoded pages */
    strata_db *db = st_dbc_open(dir, &o);
    char key[16], val[200];
    for (int i = 0; i < 30000; i++) {
        snprintf(key, sizeof(key), "k%05d", i);
        snprintf(val, sizeof(val), "%0190d", i * 7919);
        put_kv(db, key, strlen(key), val);
    }
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_wait_idle(db));
    /* a value page a lookup could read lazily is admitted at its ninth request
     * (ST_SST_ADMIT_LAZY refusals) */
    for (int r = 0; r < 10; r++)
        hot_round(db);
    uint64_t steady = hot_round(db);
    ST_ASSERT_EQ(steady, 0); /* the hot pages are cached */
    strata_iter *it;
    ST_ASSERT_OK(strata_iter_open(db, NULL, &it));
    int n = 0;
    for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it))
        n++;
    ST_ASSERT_EQ(n, 30000);
    strata_iter_close(it);
    ST_ASSERT_EQ(hot_round(db), steady); /* (it was 27 misses when scans cached every page) */
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

/* Flip one byte of the first occurrence of pat in the table files of dir; 1 when found. */
static int
damage_tables(const char *dir, const char *pat)
{
    int found = 0;
    for (int num = 1; num < 64 && !found; num++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%06d.parquet", dir, num);
        FILE *f = fopen(path, "r+b");
        if (!f)
            continue;
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        char *buf = malloc((size_t)size);
        ST_ASSERT(buf != NULL);
        fseek(f, 0, SEEK_SET);
        ST_ASSERT_EQ(fread(buf, 1, (size_t)size, f), (size_t)size);
        size_t pl = strlen(pat);
        for (long i = 0; i + (long)pl <= size; i++)
            if (memcmp(buf + i, pat, pl) == 0) {
                fseek(f, i + 3, SEEK_SET);
                fputc('W', f);
                found = 1;
                break;
            }
        free(buf);
        fclose(f);
    }
    return found;
}

static void
test_verify_checksums(void)
{
    char *dir = st_test_tmpdir("ops_verify");
    strata_options o = st_dbc_opts(1 << 20);
    o.compression = STRATA_COMPRESSION_NONE; /* the value bytes are in the file as written */
    strata_db *db = st_dbc_open(dir, &o);
    put_kv(db, "a", 1, "first");
    put_kv(db, "k", 1, "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV-marker");
    put_kv(db, "z", 1, "last");
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_close(db));
    ST_ASSERT(damage_tables(dir, "VVVVVVVVVVVVVVVVVVVVVVVVVVVVVVVV-marker"));
    db = st_dbc_open(dir, &o);
    strata_read_options ro;
    strata_read_options_init(&ro);
    for (int round = 0; round < 2; round++) {
        /* checked (the default): the damaged page is refused */
        get_with(db, NULL, "k", STRATA_CORRUPT);
        ST_ASSERT(strstr(strata_errmsg(db), "checksum") != NULL);
        /* unchecked: the damaged bytes are returned as they are */
        ro.verify_checksums = 0;
        void *v = NULL;
        size_t vl = 0;
        ST_ASSERT_OK(strata_get(db, &ro, "k", 1, &v, &vl));
        ST_ASSERT_EQ(vl, 39);
        ST_ASSERT(memcmp(v, "VVVWVVVV", 8) == 0);
        strata_free(v);
        strata_iter *it;
        ST_ASSERT_OK(strata_iter_open(db, &ro, &it));
        int n = 0;
        for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it))
            n++;
        ST_ASSERT_OK(strata_iter_status(it));
        ST_ASSERT_EQ(n, 3);
        strata_iter_close(it);
        /* ... and did not put the unchecked page in the cache: checked reads still fail */
        ro.verify_checksums = 1;
        ST_ASSERT_OK(strata_iter_open(db, &ro, &it));
        for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it))
            (void)strata_iter_value(it, NULL);
        ST_ASSERT_RC(strata_iter_status(it), STRATA_CORRUPT);
        strata_iter_close(it);
    }
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

/* ---- approximate sizes -------------------------------------------------------------------- */

static uint64_t
approx(strata_db *db, const char *b, const char *e)
{
    uint64_t n = 12345;
    ST_ASSERT_OK(strata_approximate_size(db, b, b ? strlen(b) : 0, e, e ? strlen(e) : 0, &n));
    return n;
}

/* |got - want| <= tol * total */
static void
near(uint64_t got, double want, double tol, uint64_t total, const char *what)
{
    double d = (double)got - want;
    if (d < 0)
        d = -d;
    if (d > tol * (double)total)
        ST_FAIL("%s: %" PRIu64 " bytes, want %.0f +- %.0f", what, got, want, tol * (double)total);
}

static void
check_sizes(strata_db *db, const char *what)
{
    uint64_t total = st_dbc_stats(db).table_bytes;
    ST_ASSERT(total > 1000000);
    ST_ASSERT_EQ(approx(db, NULL, NULL), total);
    ST_ASSERT_EQ(approx(db, "a", "z"), total);
    near(approx(db, NULL, "k010000"), total / 2.0, 0.05, total, what);
    near(approx(db, "k010000", NULL), total / 2.0, 0.05, total, what);
    near(approx(db, "k005000", "k010000"), total / 4.0, 0.05, total, what);
    near(approx(db, "k012000", "k013000"), total / 20.0, 0.03, total, what);
    near(approx(db, "k010000", "k010000"), 0, 0.02, total, what); /* empty range */
    ST_ASSERT_EQ(approx(db, "z", NULL), 0);
    ST_ASSERT_EQ(approx(db, NULL, "a"), 0);
    ST_ASSERT_EQ(approx(db, "k020000", "k030000"), 0); /* past the last key */
}

static void
test_approximate_size(void)
{
    char *dir = st_test_tmpdir("ops_size");
    strata_options o = st_dbc_opts(1 << 20); /* a few dozen tables after the load */
    strata_db *db = st_dbc_open(dir, &o);
    uint64_t n = 99;
    ST_ASSERT_OK(strata_approximate_size(db, NULL, 0, NULL, 0, &n));
    ST_ASSERT_EQ(n, 0); /* nothing in tables yet */
    char key[16], val[200];
    uint32_t x = 12345;
    for (int i = 0; i < 20000; i++) {
        for (size_t j = 0; j < sizeof(val); j++) { /* incompressible values */
            x = x * 1103515245u + 12345u;
            val[j] = (char)(x >> 24);
        }
        snprintf(key, sizeof(key), "k%06d", i);
        ST_ASSERT_OK(strata_put(db, NULL, key, strlen(key), val, sizeof(val)));
    }
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_wait_idle(db));
    check_sizes(db, "flushed tables");
    ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0));
    check_sizes(db, "compacted");
    /* memtable data is not counted */
    uint64_t before = approx(db, NULL, NULL);
    ST_ASSERT_OK(strata_put(db, NULL, "k999999", 7, val, sizeof(val)));
    ST_ASSERT_EQ(approx(db, NULL, NULL), before);
    /* misuse */
    ST_ASSERT_RC(strata_approximate_size(db, NULL, 0, NULL, 0, NULL), STRATA_INVALID);
    ST_ASSERT_RC(strata_approximate_size(db, NULL, 3, NULL, 0, &n), STRATA_INVALID);
    ST_ASSERT_RC(strata_approximate_size(NULL, NULL, 0, NULL, 0, &n), STRATA_INVALID);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

/* Samples of a database under writes with a tight memory budget. */
static void
check_budget(strata_db *db, size_t budget, size_t wbs, uint64_t *max_imm)
{
    strata_stats s = st_dbc_stats(db);
    ST_ASSERT_EQ(s.memory_budget, budget);
    if (s.immutable_memtables > *max_imm)
        *max_imm = s.immutable_memtables;
    /* memtables stay within seven eighths (an active one may pass write_buffer_size by one
     * commit group); the cache keeps at least an eighth */
    ST_ASSERT(s.memtable_charge <= budget - budget / 8 + wbs / 4);
    ST_ASSERT(s.cache_capacity >= budget / 8);
    ST_ASSERT(s.cache_capacity <= budget);
    ST_ASSERT(s.cache_bytes <= s.cache_capacity + s.cache_pinned);
}

/*
 * test_memory_budget --
 *     memory_budget bounds the memtables and the cache together: with room for the active
 *     memtable and one immutable one, writes never queue a second (they wait for the flush) and
 *     never fail; the cache gets what the memtables leave and, once writes stop and the
 *     memtables are flushed, all of it but the active memtable's charge. A budget too small for
 *     two memtables is refused.
 */
static void
test_memory_budget(void)
{
    char *dir = st_test_tmpdir("ops_budget");
    const size_t wbs = 64 * 1024, budget = 200 * 1024;
    strata_options o = st_dbc_opts(wbs);
    o.memory_budget = st_db_memory_budget_min(wbs) - 1;
    strata_db *db = NULL;
    ST_ASSERT_RC(strata_open(dir, &o, &db), STRATA_INVALID);
    ST_ASSERT(strstr(strata_errmsg(NULL), "memory_budget") != NULL);
    o.memory_budget = budget;
    /* a slow disk: flushes fall behind the writers, who would queue max_immutable_memtables
     * (4) without the budget */
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    st_fault_env_set_delay(fe, ST_FAULT_SYNC | ST_FAULT_SYNC_DIR, 5000);
    ST_ASSERT_OK(st_db_open_env(dir, &o, st_fault_env_env(fe), &db));
    char key[32], val[200];
    memset(val, 'b', sizeof(val));
    uint64_t max_imm = 0;
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof(key), "budget%08d", (i * 7919) % 20000);
        ST_ASSERT_OK(strata_put(db, NULL, key, strlen(key), val, sizeof(val)));
        if (i % 50 == 0)
            check_budget(db, budget, wbs, &max_imm);
    }
    /* 200 KiB - 25 KiB leaves room for two 64 KiB memtables, not three */
    ST_ASSERT_EQ(max_imm, 1);
    ST_ASSERT(st_dbc_stats(db).stalls > 0);
    ST_ASSERT_OK(strata_flush(db));
    ST_ASSERT_OK(strata_wait_idle(db));
    for (int i = 0; i < 20000; i += 7) { /* fill the cache */
        snprintf(key, sizeof(key), "budget%08d", i);
        void *v;
        size_t vl;
        ST_ASSERT_OK(strata_get(db, NULL, key, strlen(key), &v, &vl));
        strata_free(v);
    }
    check_budget(db, budget, wbs, &max_imm);
    strata_stats s = st_dbc_stats(db);
    ST_ASSERT_EQ(s.immutable_memtables, 0);
    ST_ASSERT_EQ(s.cache_capacity, budget - s.memtable_charge);
    ST_ASSERT(s.cache_bytes > 0);
    char *text = NULL;
    ST_ASSERT_OK(strata_property(db, "strata.stats", &text));
    ST_ASSERT(strstr(text, "memory: budget 204800 bytes") != NULL);
    strata_free(text);
    ST_ASSERT_OK(strata_close(db));
    st_fault_env_free(fe);
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_memory_budget);
    ST_RUN(test_stats);
    ST_RUN(test_prefix);
    ST_RUN(test_fill_cache);
    ST_RUN(test_scan_keeps_hot_pages);
    ST_RUN(test_verify_checksums);
    ST_RUN(test_approximate_size);
    return st_test_done();
}
