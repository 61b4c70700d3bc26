/* SPDX-License-Identifier: Apache-2.0 */
/*
 * filename.h -- the name of every kind of file strata keeps in a database directory.
 *
 *   NNNNNN.wal        write-ahead log number N (doc/format_wal.md)
 *   NNNNNN.parquet    table number N (doc/format_sst.md)
 *   MANIFEST-NNNNNN   manifest number N (doc/format_manifest.md)
 *   CURRENT           names the live manifest
 *   LOCK              held by the process that has the database open
 *   strata.sql        SQL views over a checkpoint's tables (doc/analytics.md)
 *   any of those + ".tmp"   a file being written, renamed into place when complete
 *
 * Numbers come from one counter (the manifest's next_file), so no two files share one; names
 * are padded to at least six digits. Nothing else in the tree spells these names out.
 */
#ifndef ST_VERSION_FILENAME_H
#define ST_VERSION_FILENAME_H

#include <stddef.h>
#include <stdint.h>

typedef enum st_file_kind {
    ST_FILE_OTHER = 0, /* not a name strata writes */
    ST_FILE_WAL,
    ST_FILE_TABLE,
    ST_FILE_MANIFEST,
    ST_FILE_CURRENT,
    ST_FILE_LOCK,
    ST_FILE_SQL_VIEW,
    ST_FILE_TEMP /* one of the above with ".tmp" appended */
} st_file_kind;

#define ST_FILE_CURRENT_NAME "CURRENT"
#define ST_FILE_LOCK_NAME "LOCK"
#define ST_FILE_SQL_VIEW_NAME "strata.sql"
#define ST_FILE_TEMP_SUFFIX ".tmp"

/* Room for any name st_file_name makes, with ST_FILE_TEMP_SUFFIX appended. */
#define ST_FILE_NAME_MAX 48

/* The kind of directory entry `name`; *num is set to its number for the numbered kinds (WAL,
 * TABLE, MANIFEST) and to 0 otherwise. */
st_file_kind st_file_parse(const char *name, uint64_t *num);

/* Write the name of file `num` of `kind` into buf (n bytes, at least ST_FILE_NAME_MAX) and
 * return buf. Kinds without a number ignore num; TEMP and OTHER give "". */
char *st_file_name(st_file_kind kind, uint64_t num, char *buf, size_t n);

/* "dir/<name>" as a new string the caller frees with st_free; NULL when out of memory. */
char *st_file_path(const char *dir, st_file_kind kind, uint64_t num);

#endif
