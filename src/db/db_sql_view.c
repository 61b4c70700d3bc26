/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_sql_view.c -- the SQL script (strata.sql of a checkpoint, property "strata.sql-view") that
 * defines the views kv_versions and kv over a version's Parquet tables. The resolution rule it
 * encodes is documented in doc/analytics.md; keep the two in step.
 */
#include "db/db_impl.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
cmp_fnum(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int
put_str(st_buf *out, const char *s)
{
    return st_buf_append(out, s, strlen(s));
}

static const char *const HEADER =
    "-- strata.sql: views over exactly the tables of this strata database (doc/analytics.md).\n"
    "-- Table paths are relative to this file's directory: run it from there, e.g.\n"
    "--   cd CHECKPOINT && duckdb -c \".read strata.sql\" -c \"select count(*) from kv\"\n"
    "-- kv_versions: every stored row (key, value, seqno, kind; kind 1 = put, 0 = delete,\n"
    "--   2 = range delete of the keys in [key, value)).\n"
    "-- kv: per key, the put or delete row with the highest seqno, kept only when it is a put\n"
    "--   that no newer range delete covers.\n";

static const char *const EMPTY_VERSIONS =
    "CREATE OR REPLACE VIEW kv_versions AS\n"
    "  SELECT CAST(NULL AS BLOB) AS key, CAST(NULL AS BLOB) AS value,\n"
    "         CAST(NULL AS BIGINT) AS seqno, CAST(NULL AS INTEGER) AS kind\n"
    "  WHERE false;\n";

static const char *const KV =
    "CREATE OR REPLACE VIEW kv AS\n"
    "  SELECT key, value FROM (\n"
    "    SELECT key, value, seqno, kind,\n"
    "           row_number() OVER (PARTITION BY key ORDER BY seqno DESC) AS version_rank\n"
    "    FROM kv_versions WHERE kind IN (0, 1)) AS newest\n"
    "  WHERE version_rank = 1 AND kind = 1\n"
    "    AND NOT EXISTS (SELECT 1 FROM kv_versions AS rd\n"
    "                    WHERE rd.kind = 2 AND rd.key <= newest.key AND newest.key < rd.value\n"
    "                      AND rd.seqno > newest.seqno);\n";

int
st_db_sql_view(const st_version *v, st_buf *out)
{
    uint64_t *fnums = st_calloc(v->n ? v->n : 1, sizeof(*fnums));
    if (!fnums)
        return st_err(STRATA_NOMEM, "out of memory writing the SQL view");
    uint64_t seq = 0;
    for (size_t i = 0; i < v->n; i++) {
        fnums[i] = v->t[i]->m.fnum;
        if (v->t[i]->m.max_seq > seq)
            seq = v->t[i]->m.max_seq;
    }
    qsort(fnums, v->n, sizeof(*fnums), cmp_fnum);
    char line[128];
    int rc = put_str(out, HEADER);
    snprintf(line, sizeof(line), "-- %zu tables, newest sequence number %" PRIu64 ".\n", v->n, seq);
    if (rc == STRATA_OK)
        rc = put_str(out, line);
    if (rc == STRATA_OK && v->n == 0)
        rc = put_str(out, EMPTY_VERSIONS);
    if (rc == STRATA_OK && v->n > 0)
        rc = put_str(out, "CREATE OR REPLACE VIEW kv_versions AS\n"
                          "  SELECT key, value, seqno, kind FROM read_parquet([");
    for (size_t i = 0; rc == STRATA_OK && i < v->n; i++) {
        snprintf(line, sizeof(line), "%s\n    '%06" PRIu64 ".parquet'", i ? "," : "", fnums[i]);
        rc = put_str(out, line);
    }
    if (rc == STRATA_OK && v->n > 0)
        rc = put_str(out, "]);\n");
    if (rc == STRATA_OK)
        rc = put_str(out, KV);
    st_free(fnums);
    return rc;
}
