/* SPDX-License-Identifier: Apache-2.0 */
/*
 * demo.c -- the README's main demonstration, using only the public API:
 * write a data set, close, reopen (recovery), read every key back by point lookup and by a full
 * scan, and print what happened and how fast.
 *
 *   strata-demo [DIR] [--num N]
 */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <strata/strata.h>
#include <string.h>
#include <time.h>

static double
now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, int rc)
{
    fprintf(stderr, "strata-demo: %s: %s (%s)\n", what, strata_errstr(rc), strata_errmsg(NULL));
    exit(1);
}

static void
make_key(char *k, uint64_t i)
{
    snprintf(k, 17, "%016" PRIx64,
             (uint64_t)(i * 0x9e3779b97f4a7c15ull)); /* 16 bytes, scattered order */
}

static void
make_value(char *v, uint64_t i)
{
    /* 100 bytes that compress to about half: 50 pseudo-random bytes, then a repeat */
    uint64_t x = i + 1;
    for (int j = 0; j < 50; j++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v[j] = (char)('a' + x % 26);
    }
    memcpy(v + 50, v, 50);
}

static void
rmrf_db(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "strata-demo: could not clear %s\n", dir);
}

int
main(int argc, char **argv)
{
    const char *dir = "/tmp/strata-demo";
    uint64_t num = 1000000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--num") && i + 1 < argc)
            num = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--help")) {
            printf("usage: strata-demo [DIR] [--num N]\n");
            return 0;
        } else
            dir = argv[i];
    }
    if (strchr(dir, '\'')) {
        fprintf(stderr, "strata-demo: directory name must not contain a quote\n");
        return 2;
    }
    rmrf_db(dir);
    printf("strata %s demo: %" PRIu64 " entries (16-byte keys, 100-byte values) in %s\n",
           strata_version(NULL, NULL, NULL), num, dir);

    strata_db *db;
    int rc = strata_open(dir, NULL, &db);
    if (rc)
        die("open", rc);
    char k[17], v[100];
    double t = now();
    strata_batch *b = strata_batch_new();
    for (uint64_t i = 0; i < num; i++) {
        make_key(k, i);
        make_value(v, i);
        if ((rc = strata_batch_put(b, k, 16, v, 100)))
            die("batch_put", rc);
        if (strata_batch_count(b) == 1000 || i + 1 == num) {
            if ((rc = strata_write(db, NULL, b)))
                die("write", rc);
            strata_batch_clear(b);
        }
    }
    strata_batch_free(b);
    double dt = now() - t;
    printf("  wrote   %10" PRIu64 " entries in %6.2f s  %9.0f ops/s  %6.1f MB/s\n", num, dt,
           (double)num / dt, (double)num * 116 / dt / 1e6);
    t = now();
    if ((rc = strata_close(db)))
        die("close", rc);
    if ((rc = strata_open(dir, NULL, &db)))
        die("reopen", rc);
    printf("  reopened (close + recovery) in %6.2f s\n", now() - t);

    t = now();
    uint64_t found = 0;
    for (uint64_t i = 0; i < num; i++) {
        make_key(k, i);
        make_value(v, i);
        void *val;
        size_t vlen;
        rc = strata_get(db, NULL, k, 16, &val, &vlen);
        if (rc == STRATA_OK) {
            if (vlen == 100 && memcmp(val, v, 100) == 0)
                found++;
            strata_free(val);
        } else if (rc != STRATA_NOTFOUND) {
            die("get", rc);
        }
    }
    dt = now() - t;
    printf("  read    %10" PRIu64 " entries in %6.2f s  %9.0f ops/s  (%" PRIu64 " correct)\n", num,
           dt, (double)num / dt, found);

    t = now();
    strata_iter *it;
    if ((rc = strata_iter_open(db, NULL, &it)))
        die("iter_open", rc);
    uint64_t scanned = 0;
    for (strata_iter_seek_first(it); strata_iter_valid(it); strata_iter_next(it))
        scanned++;
    if ((rc = strata_iter_status(it)))
        die("scan", rc);
    strata_iter_close(it);
    dt = now() - t;
    printf("  scanned %10" PRIu64 " entries in %6.2f s  %9.0f entries/s\n", scanned, dt,
           (double)scanned / dt);

    char *stats;
    if (strata_property(db, "strata.stats", &stats) == STRATA_OK) {
        printf("\n%s", stats);
        strata_free(stats);
    }
    if ((rc = strata_close(db)))
        die("close", rc);
    if (found != num || scanned != num) {
        fprintf(stderr,
                "strata-demo: DATA MISMATCH: found %" PRIu64 ", scanned %" PRIu64 " of %" PRIu64
                "\n",
                found, scanned, num);
        return 1;
    }
    printf("\nall %" PRIu64 " entries verified after restart.\n", num);
    return 0;
}
