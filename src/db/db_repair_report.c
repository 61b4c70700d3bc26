/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_repair_report.c -- what strata_repair and strata_check share: the report they build (with
 * lost key ranges written readably), the database lock they take, and quarantining a damaged
 * file. Calls nothing else in src/db.
 */
#include "db/db_repair.h"
#include "util/alloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- report ---------------------------------------------------------------------------------- */

static void
vrep(st_buf *b, const char *fmt, va_list ap)
{
    char tmp[1024];
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    if (n > 0)
        st_buf_append(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void
st_rep(st_repair_report *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vrep(&r->b, fmt, ap);
    va_end(ap);
}

/* A key as text: printable ASCII as itself (backslash doubled), other bytes \xNN; long keys are
 * cut after 64 bytes with "...". */
static void
put_key(st_buf *b, const uint8_t *k, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n && i < 64; i++) {
        uint8_t c = k[i];
        if (c == '\\')
            st_buf_append(b, "\\\\", 2);
        else if (c >= 0x20 && c < 0x7f)
            st_buf_append(b, &c, 1);
        else {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            st_buf_append(b, e, 4);
        }
    }
    if (n > 64)
        st_buf_append(b, "...", 3);
}

void
st_rep_lost(st_repair_report *r, const uint8_t *lo, size_t lolen, const uint8_t *hi, size_t hilen,
            const char *where, const char *why)
{
    st_buf *b = &r->lost;
    if (!lo && !hi) {
        st_buf_append(b, "  every key", 11);
    } else {
        st_buf_append(b, "  keys [", 8);
        if (lo)
            put_key(b, lo, lolen);
        else
            st_buf_append(b, "(first)", 7);
        st_buf_append(b, " .. ", 4);
        if (hi)
            put_key(b, hi, hilen);
        else
            st_buf_append(b, "(last)", 6);
        st_buf_append(b, "]", 1);
    }
    char tmp[ST_ERRMSG_MAX + 300];
    int n = snprintf(tmp, sizeof(tmp), " (%s: %s)\n", where, why);
    if (n > 0)
        st_buf_append(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
    r->nlost++;
}

void
st_rep_finish(st_repair_report *r, char **out)
{
    if (r->nlost > 0) {
        st_rep(r,
               "DATA MAY BE LOST in %d key range(s): writes to, or deletes of, these keys may be "
               "missing, so a deleted key there may show an older value again:\n",
               r->nlost);
        st_buf_append(&r->b, r->lost.data, r->lost.len);
    }
    if (out) {
        *out = NULL;
        if (st_buf_put_u8(&r->b, 0) == STRATA_OK)
            *out = (char *)st_buf_detach(&r->b, NULL);
    }
    st_buf_free(&r->b);
    st_buf_free(&r->lost);
}

/* ---- lock, quarantine ------------------------------------------------------------------------ */

int
st_repair_lock(st_env *env, const char *path, st_file **lock)
{
    int exists = 0;
    ST_RET(env->exists(env, path, &exists));
    if (!exists)
        return st_err(STRATA_NOTFOUND, "database %s does not exist", path);
    char *lp = st_file_path(path, ST_FILE_LOCK, 0);
    if (!lp)
        return st_err(STRATA_NOMEM, "out of memory");
    int rc = env->lock(env, lp, lock);
    st_free(lp);
    return rc;
}

void
st_repair_quarantine(st_env *env, const char *dir, const char *name, st_repair_report *r)
{
    char *src = st_path_join(dir, name);
    char *lost = st_path_join(dir, "lost");
    char *dst = lost ? st_path_join(lost, name) : NULL;
    int rc = dst && src ? env->mkdir(env, lost) : st_err(STRATA_NOMEM, "out of memory");
    if (rc == STRATA_OK)
        rc = env->rename(env, src, dst);
    if (rc == STRATA_OK)
        st_rep(r, "%s: moved to lost/\n", name);
    else
        st_rep(r, "%s: could not be moved to lost/: %s: %s\n", name, strata_errstr(rc),
               st_errmsg());
    st_free(dst);
    st_free(lost);
    st_free(src);
}
