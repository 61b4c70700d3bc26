/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_repair.h -- pieces shared by strata_repair (db_repair.c), its salvage of tables
 * (db_salvage_table.c) and of write-ahead logs (db_salvage_wal.c), and strata_check
 * (db_check.c): the text report, the database lock, quarantine in lost/.
 *
 * The report has two parts: the running text (one or more lines per file) and the list of key
 * ranges whose writes or deletes may have been lost, printed at its end. A repair that added
 * any such range returns STRATA_DATALOSS.
 *
 * Thread safety: none needed; repair and check run on one thread with the database locked.
 */
#ifndef ST_DB_DB_REPAIR_H
#define ST_DB_DB_REPAIR_H

#include "db/db_impl.h"

typedef struct st_repair_report {
    st_buf b;    /* the report text */
    st_buf lost; /* one line per key range that may have lost data */
    int problems;
    int nlost; /* lines in lost */
} st_repair_report;

/* Append printf-style text to the report (truncated at 1 KiB per call). */
void st_rep(st_repair_report *r, const char *fmt, ...) ST_PRINTF(2, 3);

/*
 * st_rep_lost --
 *     Record that writes to, or deletes of, keys in [lo, hi] may have been lost (so a deleted
 *     key there may show an older value again). lo/hi NULL: that end is open; both NULL: every
 *     key. `where` and `why` (NUL-terminated) say which file and what happened.
 */
void st_rep_lost(st_repair_report *r, const uint8_t *lo, size_t lolen, const uint8_t *hi,
                 size_t hilen, const char *where, const char *why);

/* Append the lost-range summary to the text, hand the text to *out (may be NULL; malloc'ed,
 * the caller frees it with strata_free) and free the report. */
void st_rep_finish(st_repair_report *r, char **out);

/* Take the LOCK of the closed database at path (NOTFOUND when it does not exist). */
int st_repair_lock(st_env *env, const char *path, st_file **lock);

/* Move dir/name to dir/lost/name (best effort; reported either way). */
void st_repair_quarantine(st_env *env, const char *dir, const char *name, st_repair_report *r);

/*
 * st_repair_salvage_table --
 *     Rebuild the damaged table dir/name (number orig_num) as table new_num from every row
 *     st_sst_salvage can read (through its footer, or by walking its pages when the footer
 *     cannot be read), keeping its footer pairs (strata-max-wal, strata-replaces) when the
 *     footer reads and naming it in strata-replaces; record every lost range (its unknown ends
 *     bounded by old, the table's entry in the old manifest, when not NULL). *built is 1 when a
 *     table with at least one row was written (its summary in *out, freed by the caller with
 *     st_sst_meta_free). The original is left in place for the caller to quarantine.
 */
int st_repair_salvage_table(st_env *env, const char *dir, const char *name, uint64_t orig_num,
                            uint64_t new_num, const st_table_meta *old, st_repair_report *r,
                            st_sst_meta *out, int *built);

/*
 * st_repair_salvage_wals --
 *     Check every write-ahead log numbered >= min_log in dir. When all read cleanly (a torn
 *     tail is normal) nothing changes. Otherwise every record of those logs that still verifies
 *     and decodes is rewritten, in order, into one new log numbered *next_file (then
 *     incremented), made durable, and the originals are quarantined in lost/; each dropped
 *     region is recorded as a loss of unknown keys.
 */
int st_repair_salvage_wals(st_env *env, const char *dir, uint64_t min_log, uint64_t *next_file,
                           st_repair_report *r);

#endif
