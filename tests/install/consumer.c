/* SPDX-License-Identifier: Apache-2.0 */
/*
 * consumer.c -- a program built against an installed strata (scripts/check-install.sh through
 * pkg-config and the CMake package, scripts/check-deb.sh against the Debian package): opens the
 * database in argv[1], writes and reads one key, prints the library version. Exit 0 on success.
 */
#include <stdio.h>
#include <strata/strata.h>
#include <string.h>

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: consumer DB\n");
        return 2;
    }
    strata_db *db;
    int rc = strata_open(argv[1], NULL, &db);
    if (rc != STRATA_OK) {
        fprintf(stderr, "open: %s: %s\n", strata_errstr(rc), strata_errmsg(NULL));
        return 1;
    }
    void *v = NULL;
    size_t n = 0;
    if (strata_put(db, NULL, "k", 1, "v", 1) != STRATA_OK ||
        strata_get(db, NULL, "k", 1, &v, &n) != STRATA_OK || n != 1 || memcmp(v, "v", 1) != 0) {
        fprintf(stderr, "put/get failed: %s\n", strata_errmsg(db));
        strata_free(v);
        strata_close(db);
        return 1;
    }
    strata_free(v);
    if (strcmp(strata_version(NULL, NULL, NULL), STRATA_VERSION_STRING) != 0) {
        fprintf(stderr, "header %s but library %s\n", STRATA_VERSION_STRING,
                strata_version(NULL, NULL, NULL));
        strata_close(db);
        return 1;
    }
    printf("installed strata %s works\n", strata_version(NULL, NULL, NULL));
    return strata_close(db) == STRATA_OK ? 0 : 1;
}
