/* SPDX-License-Identifier: Apache-2.0 */
/* db_size.c -- strata_approximate_size: the table bytes of a key range. */
#include "db/db_impl.h"

int
strata_approximate_size(strata_db *db, const void *begin, size_t blen, const void *end, size_t elen,
                        uint64_t *bytes)
{
    if (bytes)
        *bytes = 0;
    ST_RET(st_db_check(db));
    if (!bytes)
        return st_err(STRATA_INVALID, "strata_approximate_size: bytes is NULL");
    if ((!begin && blen) || (!end && elen))
        return st_err(STRATA_INVALID,
                      "strata_approximate_size: a bound is NULL but its length is not 0");
    pthread_mutex_lock(&db->mu);
    st_version *v = db->current;
    if (v)
        st_version_ref(v);
    pthread_mutex_unlock(&db->mu);
    if (!v)
        return STRATA_OK;
    uint64_t b = 0;
    int rc = st_version_approximate_size(v, begin, blen, end, elen, &b);
    st_version_unref(v);
    if (rc == STRATA_OK)
        *bytes = b;
    return rc;
}
