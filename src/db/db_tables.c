/* SPDX-License-Identifier: Apache-2.0 */
/* db_tables.c -- the table side of a read view. */
#include "db/read_view.h"

void
st_view_pin_tables(strata_db *db, st_read_view *v)
{
    (void)db;
    v->version = NULL;
}

void
st_view_unpin_tables(strata_db *db, st_read_view *v)
{
    (void)db;
    v->version = NULL;
}

int
st_view_get_tables(strata_db *db, st_read_view *v, const strata_read_options *ro, const void *key,
                   size_t klen, void **val, size_t *vlen)
{
    (void)db;
    (void)v;
    (void)ro;
    (void)key;
    (void)klen;
    (void)val;
    (void)vlen;
    return STRATA_NOTFOUND;
}

int
st_view_table_iters(strata_db *db, st_read_view *v, const strata_read_options *ro, st_iter ***its,
                    size_t *n)
{
    (void)db;
    (void)v;
    (void)ro;
    *its = NULL;
    *n = 0;
    return STRATA_OK;
}
