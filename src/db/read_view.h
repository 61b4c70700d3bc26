/* SPDX-License-Identifier: Apache-2.0 */
/*
 * read_view.h -- the set of sources a read sees, pinned for its duration.
 */
#ifndef ST_DB_READ_VIEW_H
#define ST_DB_READ_VIEW_H

#include "db/db_impl.h"

typedef struct st_read_view {
    st_memtable *mem[66]; /* active first, then immutables newest first */
    size_t nmem;
    struct st_version *version; /* pinned table set (NULL when none) */
    uint64_t seq;               /* visibility limit */
    uint64_t gen;               /* db->view_gen when pinned */
} st_read_view;

int st_view_pin(strata_db *db, const strata_read_options *ro, st_read_view *v);
/* Pin the current sources with visibility limit seq (UINT64_MAX: the last published sequence
 * number, read in the critical section that pins). With s non-NULL, also link s into the
 * snapshot list at seq (s->seq is set), in the same critical section: from then on no flush or
 * compaction drops a version that seq sees. */
void st_view_pin_at(strata_db *db, uint64_t seq, strata_snapshot *s, st_read_view *v);
void st_view_unpin(strata_db *db, st_read_view *v);
/* Undo st_view_pin_at with snapshot s: unpin v and unlink s (takes mu briefly). */
void st_view_unpin_at(strata_db *db, strata_snapshot *s, st_read_view *v);

/* Table side of the view (db_tables.c). REQUIRES mu for pin. */
void st_view_pin_tables(strata_db *db, st_read_view *v);
void st_view_unpin_tables(strata_db *db, st_read_view *v);
/* The table read flags (sst/sst.h ST_SST_*) of read options ro. */
int st_view_read_flags(const strata_read_options *ro);
/* Look key up in the pinned tables: OK with a malloc'ed copy, or NOTFOUND. */
int st_view_get_tables(strata_db *db, st_read_view *v, const strata_read_options *ro,
                       const void *key, size_t klen, void **val, size_t *vlen);
/* The same, also giving the found version's sequence number (seq may be NULL). */
int st_view_get_tables_seq(strata_db *db, st_read_view *v, const strata_read_options *ro,
                           const void *key, size_t klen, void **val, size_t *vlen, uint64_t *seq);
/* Append one iterator per table source to its[] (capacity cap); returns how many via *n. */
int st_view_table_iters(strata_db *db, st_read_view *v, const strata_read_options *ro,
                        st_iter ***its, size_t *n);

#endif
