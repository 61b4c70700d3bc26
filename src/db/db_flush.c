/* SPDX-License-Identifier: Apache-2.0 */
/* db_flush.c -- memtable rotation, flushes and backpressure. */
#include "db/db_impl.h"

int
st_db_make_room(strata_db *db, int force)
{
    (void)db;
    (void)force;
    return STRATA_OK;
}

int
strata_flush(strata_db *db)
{
    ST_RET(st_db_check(db));
    return st_err(STRATA_NOTSUP, "strata_flush: tables are not available in this build yet");
}

int
strata_compact_range(strata_db *db, const void *begin, size_t blen, const void *end, size_t elen)
{
    (void)begin;
    (void)blen;
    (void)end;
    (void)elen;
    ST_RET(st_db_check(db));
    return st_err(STRATA_NOTSUP,
                  "strata_compact_range: tables are not available in this build yet");
}

int
strata_wait_idle(strata_db *db)
{
    return st_db_check(db);
}
