/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_compact_parts_mt.c -- a manual compaction merged in key-range parts, each on a thread of
 * its own (db_compact.c plan_parts, compaction/subcompaction.c), while a reader thread reads
 * (label: concurrency; runs under TSan).
 *
 * With outputs of unbounded size one part writes one table, so two or more tables mean the parts
 * ran (on a machine with more than one core). The tables must be key-disjoint, hold every live
 * key once, be of about even sizes, and read back as the model.
 */
#include "db_check.h"
#include "lsm_util.h"
#include "model.h"
#include "st_test.h"
#include "util/alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define KEYSPACE 200000u
#define PUTS 120000u /* about 25 MiB of values that do not compress: 8 MiB or more per part */
#define VLEN 200

typedef struct reader {
    strata_db *db;
    _Atomic int stop;
    long gets;
} reader;

/* Gets of random keys until told to stop: a key is found or not, never an error. */
static void *
reader_main(void *arg)
{
    reader *rd = arg;
    st_rng rng;
    st_rng_seed(&rng, st_test_seed() + 5);
    char k[16];
    while (!atomic_load(&rd->stop)) {
        int kl = snprintf(k, sizeof(k), "key%07u", (unsigned)st_rng_uniform(&rng, KEYSPACE));
        void *v = NULL;
        size_t vl = 0;
        int rc = strata_get(rd->db, NULL, k, (size_t)kl, &v, &vl);
        ST_ASSERT(rc == STRATA_OK || rc == STRATA_NOTFOUND);
        ST_ASSERT(rc != STRATA_OK || vl == VLEN);
        strata_free(v);
        rd->gets++;
    }
    return NULL;
}

static void
test_compact_range_in_parts(void)
{
    char *dir = st_test_tmpdir("compact_parts");
    strata_options o = st_dbc_opts(4u << 20);
    o.target_file_size = 1u << 30;
    strata_db *db = st_dbc_open(dir, &o);
    st_model *m = st_model_new();
    st_rng rng;
    st_rng_seed(&rng, st_test_seed() + 21);
    char k[16], v[VLEN];
    for (unsigned i = 0; i < PUTS; i++) {
        int kl = snprintf(k, sizeof(k), "key%07u", (unsigned)st_rng_uniform(&rng, KEYSPACE));
        for (size_t j = 0; j < sizeof(v); j++)
            v[j] = (char)st_rng_next(&rng);
        ST_ASSERT_OK(strata_put(db, NULL, k, (size_t)kl, v, sizeof(v)));
        st_model_put(m, k, (size_t)kl, v, sizeof(v));
    }
    reader rd = {.db = db};
    pthread_t th;
    ST_ASSERT(pthread_create(&th, NULL, reader_main, &rd) == 0);
    ST_ASSERT_OK(strata_compact_range(db, NULL, 0, NULL, 0));
    atomic_store(&rd.stop, 1);
    pthread_join(th, NULL);
    size_t n;
    st_lsm_table *t = st_lsm_tables(db, &n);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    fprintf(stderr, "compact_range in parts: %zu tables, %ld cores, %ld gets meanwhile\n", n, cpus,
            rd.gets);
    ST_ASSERT(st_lsm_disjoint(t, n));
    ST_ASSERT_EQ(st_lsm_sum(t, n, 0), st_model_count(m));
    ST_ASSERT(n >= 1 && n <= 4);
    if (cpus > 1)
        ST_ASSERT(n >= 2);
    /* the cuts divide the input bytes over all inputs, not one table's keys: every part gets at
     * least half of an even share */
    unsigned long long total = 0;
    for (size_t i = 0; i < n; i++)
        total += t[i].size;
    for (size_t i = 0; i < n; i++)
        if (t[i].size < total / n / 2)
            ST_FAIL("part %zu wrote %llu of %llu bytes in %zu parts", i, t[i].size, total, n);
    free(t);
    st_dbc_check_all_gets(db, NULL, m);
    st_dbc_check_iter(db, NULL, m, &rng, 200);
    ST_ASSERT_OK(strata_close(db));
    db = st_dbc_open(dir, &o);
    st_dbc_check_iter(db, NULL, m, &rng, 200);
    ST_ASSERT_OK(strata_close(db));
    st_model_free(m);
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_compact_range_in_parts);
    return st_test_done();
}
