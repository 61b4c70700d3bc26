/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_abi.c -- callers built against an older strata.h: every versioned struct is passed with
 * the struct_size of an older layout, in a heap block of exactly that size (so AddressSanitizer
 * reports any read or write past it), and the fields the older layout lacks take their defaults.
 */
#include "db/db_impl.h"
#include "db_check.h"
#include "st_test.h"
#include "util/alloc.h"

#include <stdalign.h>
#include <stddef.h>

/* strata_options as the 0.1.0 header declared it (through ucs_base_shards). */
typedef struct options_v1 {
    size_t struct_size;
    int create_if_missing, error_if_exists, memtable_kind;
    size_t write_buffer_size;
    int max_immutable_memtables, wal_recovery_mode, compression, compression_level;
    size_t block_cache_size;
    int bloom_bits_per_key;
    size_t page_size, target_file_size;
    int background_threads;
    int ucs_scaling[8];
    int ucs_scaling_count, ucs_base_shards;
} options_v1;

/* strata_read_options of 0.1.0 (before prefix). */
typedef struct read_options_v1 {
    size_t struct_size;
    const strata_snapshot *snapshot;
    int verify_checksums, fill_cache;
    const void *lower_bound;
    size_t lower_bound_len;
    const void *upper_bound;
    size_t upper_bound_len;
} read_options_v1;

typedef struct write_options_v1 {
    size_t struct_size;
    int sync, disable_wal;
} write_options_v1;

static void *
exact(size_t n, int fill)
{
    void *p = malloc(n); /* plain malloc: exactly n bytes for ASan */
    ST_ASSERT(p != NULL);
    memset(p, fill, n);
    return p;
}

static void
test_layout_lists(void)
{
    /* the older copies above have the offsets of the current struct */
    ST_ASSERT_EQ(offsetof(options_v1, ucs_base_shards), offsetof(strata_options, ucs_base_shards));
    ST_ASSERT_EQ(offsetof(options_v1, page_size), offsetof(strata_options, page_size));
    ST_ASSERT_EQ(offsetof(read_options_v1, upper_bound_len),
                 offsetof(strata_read_options, upper_bound_len));
    /* each list ends at the current struct's last field, and the current sizeof differs from
     * every older layout's (else the newest fields could never be read) */
    size_t sizes[4] = {sizeof(strata_options), sizeof(strata_read_options),
                       sizeof(strata_write_options), sizeof(strata_stats)};
    size_t lasts[4] = {offsetof(strata_options, memory_budget) + sizeof(size_t),
                       offsetof(strata_read_options, prefix_len) + sizeof(size_t),
                       offsetof(strata_write_options, disable_wal) + sizeof(int),
                       offsetof(strata_stats, cache_pinned) + sizeof(uint64_t)};
    for (int w = 0; w < 4; w++) {
        const size_t *ends;
        size_t align, n = st_db_layouts(w, &ends, &align);
        ST_ASSERT(n >= 1);
        ST_ASSERT_EQ(ends[n - 1], lasts[w]);
        for (size_t i = 0; i + 1 < n; i++) {
            ST_ASSERT(ends[i] < ends[i + 1]);
            ST_ASSERT((ends[i] + align - 1) / align * align != sizes[w]);
        }
    }
    ST_ASSERT_EQ(sizeof(options_v1), offsetof(strata_options, bottommost_compression));
    ST_ASSERT_EQ(sizeof(read_options_v1), offsetof(strata_read_options, prefix));
}

static void
test_old_options(void)
{
    char *dir = st_test_tmpdir("abi_options");
    /* 0.1.0 layout; its tail padding (where max_open_files now is) holds garbage */
    options_v1 *o = exact(sizeof(options_v1), 0x5a);
    strata_options d = st_dbc_opts(64 * 1024);
    memcpy(o, &d, offsetof(options_v1, ucs_base_shards) + sizeof(int));
    o->struct_size = sizeof(*o);
    o->bloom_bits_per_key = 7;
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(dir, (const strata_options *)o, &db));
    ST_ASSERT_EQ(db->opts.bloom_bits_per_key, 7);
    ST_ASSERT_EQ(db->opts.write_buffer_size, 64 * 1024);
    ST_ASSERT_EQ(db->opts.max_open_files, 1000); /* default, not the padding */
    ST_ASSERT_EQ(db->opts.bottommost_compression, STRATA_COMPRESSION_LZ4);
    strata_stats st;
    strata_stats_init(&st);
    ST_ASSERT_OK(strata_get_stats(db, &st));
    ST_ASSERT_EQ(st.table_cache_limit, 1000);
    ST_ASSERT_OK(strata_close(db));
    free(o);

    /* the layout before read_only: its tail padding, where read_only now is, holds garbage */
    size_t n2 = (offsetof(strata_options, read_only) + 7) / 8 * 8;
    ST_ASSERT(n2 < sizeof(strata_options));
    strata_options *o2 = exact(n2, 0x5a);
    memcpy(o2, &d, offsetof(strata_options, read_only));
    o2->struct_size = n2;
    ST_ASSERT_OK(strata_open(dir, o2, &db));
    ST_ASSERT_EQ(db->opts.read_only, 0); /* default, not the padding: the database is writable */
    ST_ASSERT_EQ(db->opts.bottommost_page_size, 8u << 10);
    ST_ASSERT_OK(strata_put(db, NULL, "k", 1, "v", 1));
    ST_ASSERT_OK(strata_close(db));
    free(o2);

    /* the layout before bottommost_page_size (read_only + reserved_): it takes its default */
    size_t n3 = offsetof(strata_options, bottommost_page_size);
    strata_options *o3 = exact(n3, 0x5a);
    memcpy(o3, &d, n3);
    o3->struct_size = n3;
    o3->page_size = 2048;
    ST_ASSERT_OK(strata_open(dir, o3, &db));
    ST_ASSERT_EQ(db->opts.page_size, 2048);
    ST_ASSERT_EQ(db->opts.bottommost_page_size, 8u << 10);
    ST_ASSERT_OK(strata_close(db));
    free(o3);

    /* a size that is no released layout is refused, naming struct_size */
    strata_options bad = st_dbc_opts(64 * 1024);
    bad.struct_size = offsetof(strata_options, max_open_files) + 2;
    ST_ASSERT_RC(strata_open(dir, &bad, &db), STRATA_INVALID);
    ST_ASSERT(strstr(strata_errmsg(NULL), "struct_size") != NULL);
    bad.struct_size = sizeof(bad) + 8;
    ST_ASSERT_RC(strata_open(dir, &bad, &db), STRATA_INVALID);
    /* the current layout reads every field */
    strata_options cur = st_dbc_opts(64 * 1024);
    cur.max_open_files = 3;
    cur.bottommost_compression = STRATA_COMPRESSION_NONE;
    cur.bottommost_page_size = 100; /* below the 512-byte minimum */
    ST_ASSERT_RC(strata_open(dir, &cur, &db), STRATA_INVALID);
    ST_ASSERT(strstr(strata_errmsg(NULL), "bottommost_page_size") != NULL);
    cur.bottommost_page_size = 16384;
    db = st_dbc_open(dir, &cur);
    ST_ASSERT_EQ(db->opts.max_open_files, 3);
    ST_ASSERT_EQ(db->opts.bottommost_compression, STRATA_COMPRESSION_NONE);
    ST_ASSERT_EQ(db->opts.bottommost_page_size, 16384);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_old_read_write_options(void)
{
    char *dir = st_test_tmpdir("abi_rw");
    strata_options o = st_dbc_opts(64 * 1024);
    strata_db *db = st_dbc_open(dir, &o);
    write_options_v1 *wo = exact(sizeof(*wo), 0);
    wo->struct_size = sizeof(*wo);
    wo->sync = 1;
    ST_ASSERT_OK(strata_put(db, (const strata_write_options *)wo, "ab", 2, "1", 1));
    ST_ASSERT_OK(strata_put(db, (const strata_write_options *)wo, "b", 1, "2", 1));
    wo->struct_size = 12; /* no layout has this size */
    ST_ASSERT_RC(strata_put(db, (const strata_write_options *)wo, "c", 1, "3", 1), STRATA_INVALID);
    free(wo);

    read_options_v1 *ro = exact(sizeof(*ro), 0);
    ro->struct_size = sizeof(*ro);
    ro->verify_checksums = 1;
    ro->fill_cache = 1;
    void *v = NULL;
    size_t vl = 0;
    ST_ASSERT_OK(strata_get(db, (const strata_read_options *)ro, "ab", 2, &v, &vl));
    strata_free(v);
    /* an iterator: no prefix (the old layout has none), bounds honoured */
    ro->lower_bound = "a";
    ro->lower_bound_len = 1;
    strata_iter *it = NULL;
    ST_ASSERT_OK(strata_iter_open(db, (const strata_read_options *)ro, &it));
    int n = 0;
    for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it))
        n++;
    ST_ASSERT_EQ(n, 2);
    strata_iter_close(it);
    ro->struct_size = sizeof(*ro) + 4;
    ST_ASSERT_RC(strata_iter_open(db, (const strata_read_options *)ro, &it), STRATA_INVALID);
    ST_ASSERT_RC(strata_get(db, (const strata_read_options *)ro, "ab", 2, &v, &vl), STRATA_INVALID);
    free(ro);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_stats_sizes(void)
{
    char *dir = st_test_tmpdir("abi_stats");
    strata_options o = st_dbc_opts(64 * 1024);
    strata_db *db = st_dbc_open(dir, &o);
    ST_ASSERT_OK(strata_put(db, NULL, "k", 1, "v", 1));
    /* a newer caller's bigger struct: the fields this library does not know read 0 */
    size_t big = sizeof(strata_stats) + 16;
    strata_stats *s = exact(big, 0xab);
    s->struct_size = big;
    ST_ASSERT_OK(strata_get_stats(db, s));
    ST_ASSERT_EQ(s->struct_size, sizeof(strata_stats));
    ST_ASSERT_EQ(s->sequence, 1);
    ST_ASSERT_EQ(s->write_batches, 1);
    for (size_t i = sizeof(strata_stats); i < big; i++)
        ST_ASSERT_EQ(((unsigned char *)s)[i], 0);
    free(s);
    /* exactly this size on the heap */
    s = exact(sizeof(*s), 0xab);
    strata_stats_init(s);
    ST_ASSERT_OK(strata_get_stats(db, s));
    ST_ASSERT_EQ(s->reserved, 0);
    /* sizes that are no layout, and 0, are refused without writing */
    s->struct_size = 24;
    s->sequence = 77;
    ST_ASSERT_RC(strata_get_stats(db, s), STRATA_INVALID);
    ST_ASSERT_EQ(s->sequence, 77);
    s->struct_size = 0;
    ST_ASSERT_RC(strata_get_stats(db, s), STRATA_INVALID);
    ST_ASSERT_RC(strata_get_stats(db, NULL), STRATA_INVALID);
    ST_ASSERT_RC(strata_get_stats(NULL, s), STRATA_INVALID);
    free(s);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

/* What a program built against an older header does: the *_init macros pass that header's
 * sizeof, and the library writes no further. */
static void
test_sized_init(void)
{
    options_v1 *o = exact(sizeof(options_v1), 0x5a);
    strata_options_init_sized((strata_options *)o, sizeof(*o));
    ST_ASSERT_EQ(o->struct_size, sizeof(*o));
    ST_ASSERT_EQ(o->create_if_missing, 1);
    ST_ASSERT_EQ(o->memtable_kind, STRATA_MEMTABLE_TRIE);
    ST_ASSERT_EQ(o->bloom_bits_per_key, 10);
    ST_ASSERT_EQ(o->ucs_base_shards, 4);
    free(o);
    read_options_v1 *ro = exact(sizeof(read_options_v1), 0x5a);
    strata_read_options_init_sized((strata_read_options *)ro, sizeof(*ro));
    ST_ASSERT_EQ(ro->struct_size, sizeof(*ro));
    ST_ASSERT(ro->snapshot == NULL && ro->lower_bound == NULL && ro->upper_bound == NULL);
    ST_ASSERT_EQ(ro->verify_checksums, 1);
    ST_ASSERT_EQ(ro->fill_cache, 1);
    free(ro);
    write_options_v1 *wo = exact(sizeof(write_options_v1), 0x5a);
    strata_write_options_init_sized((strata_write_options *)wo, sizeof(*wo));
    ST_ASSERT_EQ(wo->struct_size, sizeof(*wo));
    ST_ASSERT_EQ(wo->sync, 0);
    free(wo);
    /* a newer program's larger struct: zeros past the fields this library knows */
    size_t big = sizeof(strata_read_options) + 24;
    unsigned char *b = exact(big, 0x5a);
    strata_read_options_init_sized((strata_read_options *)b, big);
    ST_ASSERT_EQ(((strata_read_options *)b)->struct_size, big);
    for (size_t i = sizeof(strata_read_options); i < big; i++)
        ST_ASSERT_EQ(b[i], 0);
    free(b);
    strata_stats *st = exact(sizeof(strata_stats), 0x5a);
    strata_stats_init_sized(st, sizeof(*st));
    ST_ASSERT_EQ(st->struct_size, sizeof(*st));
    ST_ASSERT_EQ(st->sequence, 0);
    free(st);
    /* the macros pass this header's sizeof; NULL and tiny sizes are no-ops */
    strata_options cur;
    memset(&cur, 0x5a, sizeof(cur));
    strata_options_init(&cur);
    ST_ASSERT_EQ(cur.struct_size, sizeof(cur));
    ST_ASSERT_EQ(cur.bottommost_compression, STRATA_COMPRESSION_LZ4);
    strata_options_init(NULL);
    strata_stats_init_sized(NULL, sizeof(strata_stats));
    size_t tiny = 0x5a5a;
    strata_options_init_sized((strata_options *)&tiny, 4);
    ST_ASSERT_EQ(tiny, 0x5a5a);
}

int
main(void)
{
    ST_RUN(test_layout_lists);
    ST_RUN(test_old_options);
    ST_RUN(test_old_read_write_options);
    ST_RUN(test_stats_sizes);
    ST_RUN(test_sized_init);
    return st_test_done();
}
