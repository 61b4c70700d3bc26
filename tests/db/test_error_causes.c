/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Errors that name their cause (issue 12, findings 6 and 7):
 *   - after a background flush hits a full disk, writes return STRATA_READONLY whose message
 *     names the first background error's code and message ("read-only after background error:
 *     NOSPC: ...");
 *   - reversed ranges (an iterator with lower > upper bound, strata_compact_range("z", "a"))
 *     are STRATA_INVALID;
 *   - opening a database under a missing parent directory is an I/O error naming the path, not
 *     STRATA_NOTFOUND ("key not found").
 */
#include "db/db.h"
#include "fault_env.h"
#include "st_test.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static void
test_readonly_names_background_error(void)
{
    char *dir = st_test_tmpdir("errors_readonly");
    st_fault_env *fe = st_fault_env_new(st_env_posix());
    ST_ASSERT(fe != NULL);
    strata_options o;
    strata_options_init(&o);
    strata_db *db = NULL;
    ST_ASSERT_OK(st_db_open_env(dir, &o, st_fault_env_env(fe), &db));
    for (int i = 0; i < 100; i++) {
        char k[16];
        int n = snprintf(k, sizeof(k), "k%03d", i);
        ST_ASSERT_OK(strata_put(db, NULL, k, (size_t)n, "v", 1));
    }
    /* the disk fills up: every later disk-changing operation fails with ENOSPC */
    st_fault_env_fail(fe, ST_FAULT_WRITES, 1, ENOSPC, ST_FAULT_PERSISTENT);
    int rc = strata_flush(db);
    ST_ASSERT(rc != STRATA_OK);
    rc = strata_put(db, NULL, "x", 1, "v", 1);
    ST_ASSERT_EQ(rc, STRATA_READONLY);
    const char *msg = strata_errmsg(db);
    if (!strstr(msg, "read-only after background error: NOSPC: "))
        ST_FAIL("READONLY message does not name the background error: %s", msg);
    st_fault_env_disarm(fe);
    strata_close(db);
    st_fault_env_free(fe);
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_reversed_ranges_invalid(void)
{
    char *dir = st_test_tmpdir("errors_ranges");
    strata_db *db = NULL;
    ST_ASSERT_OK(strata_open(dir, NULL, &db));
    ST_ASSERT_OK(strata_put(db, NULL, "m", 1, "v", 1));
    ST_ASSERT_RC(strata_compact_range(db, "z", 1, "a", 1), STRATA_INVALID);
    ST_ASSERT(strstr(strata_errmsg(db), "begin") != NULL);
    ST_ASSERT_OK(strata_compact_range(db, "a", 1, "a", 1)); /* one key: fine */
    strata_read_options ro;
    strata_read_options_init(&ro);
    ro.lower_bound = "z";
    ro.lower_bound_len = 1;
    ro.upper_bound = "a";
    ro.upper_bound_len = 1;
    strata_iter *it = NULL;
    ST_ASSERT_RC(strata_iter_open(db, &ro, &it), STRATA_INVALID);
    ST_ASSERT(it == NULL);
    ro.upper_bound = "z"; /* empty but not reversed */
    ST_ASSERT_OK(strata_iter_open(db, &ro, &it));
    strata_iter_seek_first(it);
    ST_ASSERT(!strata_iter_valid(it));
    strata_iter_close(it);
    ST_ASSERT_OK(strata_close(db));
    st_test_rmrf(dir);
    st_free(dir);
}

static void
test_missing_parent_is_ioerr(void)
{
    char *dir = st_test_tmpdir("errors_parent");
    char path[4096];
    snprintf(path, sizeof(path), "%s/no/such/parent/db", dir);
    strata_db *db = NULL;
    int rc = strata_open(path, NULL, &db);
    ST_ASSERT_EQ(rc, STRATA_IOERR);
    ST_ASSERT(db == NULL);
    if (!strstr(strata_errmsg(NULL), path) || !strstr(strata_errmsg(NULL), "parent"))
        ST_FAIL("message does not name the missing parent: %s", strata_errmsg(NULL));
    st_test_rmrf(dir);
    st_free(dir);
}

int
main(void)
{
    ST_RUN(test_readonly_names_background_error);
    ST_RUN(test_reversed_ranges_invalid);
    ST_RUN(test_missing_parent_is_ioerr);
    return st_test_done();
}
