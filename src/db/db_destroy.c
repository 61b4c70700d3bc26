/* SPDX-License-Identifier: Apache-2.0 */
/* db_destroy.c -- strata_destroy: remove a closed database's files, and nothing else. */
#include "db/db_impl.h"
#include "util/alloc.h"

#include <string.h>

static int
destroy_env(st_env *env, const char *path)
{
    int exists = 0;
    ST_RET(env->exists(env, path, &exists));
    if (!exists)
        return STRATA_OK;
    char *lockpath = st_file_path(path, ST_FILE_LOCK, 0);
    if (!lockpath)
        return st_err(STRATA_NOMEM, "out of memory");
    st_file *lock = NULL;
    /* hold the lock while removing, so no one opens the database half-removed */
    int rc = env->lock(env, lockpath, &lock);
    st_free(lockpath);
    if (rc != STRATA_OK)
        return rc;
    char **names = NULL;
    size_t count = 0, kept = 0;
    rc = env->list(env, path, &names, &count);
    /* LOCK last: CURRENT goes before the tables, so a crash midway leaves no database that
     * opens with tables missing */
    for (int pass = 0; rc == STRATA_OK && pass < 3; pass++) {
        for (size_t i = 0; rc == STRATA_OK && i < count; i++) {
            uint64_t num;
            st_file_kind kind = st_file_parse(names[i], &num);
            int own = kind != ST_FILE_OTHER;
            int is_lock = kind == ST_FILE_LOCK;
            int is_current = kind == ST_FILE_CURRENT;
            if (!own) {
                kept += pass == 0;
                continue;
            }
            if ((pass == 0) != is_current || (pass == 2) != is_lock)
                continue;
            char *p = st_path_join(path, names[i]);
            rc = p ? env->remove(env, p) : st_err(STRATA_NOMEM, "out of memory");
            st_free(p);
        }
        if (rc == STRATA_OK && pass == 0)
            rc = env->sync_dir(env, path);
    }
    st_env_free_list(names, count);
    st_file_close(lock);
    if (rc == STRATA_OK && kept == 0)
        rc = env->rmdir(env, path);
    return rc;
}

int
strata_destroy(const char *path, const strata_options *opts)
{
    (void)opts;
    if (!path || !*path)
        return st_err(STRATA_INVALID, "strata_destroy: path is NULL or empty");
    int rc = destroy_env(st_env_posix(), path);
    if (rc != STRATA_OK && rc != STRATA_BUSY)
        st_err_prefix(rc, "destroying %s: ", path);
    return rc;
}
