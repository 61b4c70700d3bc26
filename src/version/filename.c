/* SPDX-License-Identifier: Apache-2.0 */
/* filename.c -- names of the files of a database directory (filename.h). */
#include "version/filename.h"

#include "env/env.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define WAL_SUFFIX ".wal"
#define TABLE_SUFFIX ".parquet"
#define MANIFEST_PREFIX "MANIFEST-"

/* The kinds with a fixed name. */
static const struct {
    const char *name;
    st_file_kind kind;
} fixed[] = {{ST_FILE_CURRENT_NAME, ST_FILE_CURRENT},
             {ST_FILE_LOCK_NAME, ST_FILE_LOCK},
             {ST_FILE_SQL_VIEW_NAME, ST_FILE_SQL_VIEW}};
#define NFIXED (sizeof(fixed) / sizeof(fixed[0]))

/* "<digits><suffix>" over name[0..n): 1 with *num set, else 0. */
static int
parse_numbered(const char *name, size_t n, const char *suffix, uint64_t *num)
{
    size_t s = strlen(suffix);
    if (n <= s || memcmp(name + n - s, suffix, s) != 0)
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n - s; i++) {
        if (name[i] < '0' || name[i] > '9')
            return 0;
        uint64_t d = (uint64_t)(name[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return 0; /* does not fit in 64 bits */
        v = v * 10 + d;
    }
    *num = v;
    return 1;
}

static st_file_kind
parse_stem(const char *name, size_t n, uint64_t *num)
{
    size_t mp = strlen(MANIFEST_PREFIX);
    *num = 0;
    if (parse_numbered(name, n, WAL_SUFFIX, num))
        return ST_FILE_WAL;
    if (parse_numbered(name, n, TABLE_SUFFIX, num))
        return ST_FILE_TABLE;
    if (n > mp && memcmp(name, MANIFEST_PREFIX, mp) == 0 &&
        parse_numbered(name + mp, n - mp, "", num))
        return ST_FILE_MANIFEST;
    for (size_t i = 0; i < NFIXED; i++)
        if (strlen(fixed[i].name) == n && memcmp(name, fixed[i].name, n) == 0)
            return fixed[i].kind;
    return ST_FILE_OTHER; /* *num is still 0: parse_numbered sets it only on success */
}

st_file_kind
st_file_parse(const char *name, uint64_t *num)
{
    size_t n = strlen(name), t = strlen(ST_FILE_TEMP_SUFFIX);
    if (n > t && strcmp(name + n - t, ST_FILE_TEMP_SUFFIX) == 0) {
        uint64_t ignored;
        *num = 0;
        return parse_stem(name, n - t, &ignored) != ST_FILE_OTHER ? ST_FILE_TEMP : ST_FILE_OTHER;
    }
    return parse_stem(name, n, num);
}

char *
st_file_name(st_file_kind kind, uint64_t num, char *buf, size_t n)
{
    switch (kind) {
    case ST_FILE_WAL:
        snprintf(buf, n, "%06" PRIu64 WAL_SUFFIX, num);
        break;
    case ST_FILE_TABLE:
        snprintf(buf, n, "%06" PRIu64 TABLE_SUFFIX, num);
        break;
    case ST_FILE_MANIFEST:
        snprintf(buf, n, MANIFEST_PREFIX "%06" PRIu64, num);
        break;
    default:
        if (n)
            buf[0] = '\0';
        for (size_t i = 0; i < NFIXED; i++)
            if (fixed[i].kind == kind)
                snprintf(buf, n, "%s", fixed[i].name);
        break;
    }
    return buf;
}

char *
st_file_path(const char *dir, st_file_kind kind, uint64_t num)
{
    char name[ST_FILE_NAME_MAX];
    return st_path_join(dir, st_file_name(kind, num, name, sizeof(name)));
}
