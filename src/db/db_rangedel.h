/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_rangedel.h -- reads of a view that holds range tombstones (db_rangedel.c).
 */
#ifndef ST_DB_DB_RANGEDEL_H
#define ST_DB_DB_RANGEDEL_H

#include "db/read_view.h"

/* 1 when a memtable or a table of the view holds a range tombstone (a few counter loads). */
int st_view_has_range_dels(const st_read_view *v);

/* strata_get over such a view: OK with a malloc'ed copy of the value, NOTFOUND, or an error. */
int st_db_get_ranged(strata_db *db, st_read_view *v, const strata_read_options *ro, const void *key,
                     size_t klen, void **val, size_t *vlen);

/* Every internal iterator of the view (memtables, then one per sorted run), each wrapped in a
 * range tombstone filter; *its is a new st_malloc'ed array of *n iterators owned by the caller.
 * ro's bounds must outlive the iterators. */
int st_db_range_del_iters(strata_db *db, st_read_view *v, const strata_read_options *ro,
                          st_iter ***its, size_t *n);

#endif
