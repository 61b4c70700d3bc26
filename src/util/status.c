/* SPDX-License-Identifier: Apache-2.0 */
#include "util/status.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char errbuf[ST_ERRMSG_MAX];

static const char *const rc_text[STRATA_RC_COUNT] = {
    "STRATA_OK: success",
    "STRATA_NOTFOUND: key not found",
    "STRATA_INVALID: invalid argument or misuse",
    "STRATA_IOERR: I/O error",
    "STRATA_CORRUPT: data corruption detected",
    "STRATA_NOMEM: out of memory",
    "STRATA_NOSPC: no space left on device",
    "STRATA_BUSY: database is locked or busy",
    "STRATA_READONLY: writes refused (read-only handle, or after a background error)",
    "STRATA_NOTSUP: operation or format not supported",
    "STRATA_INTERNAL: internal error",
    "STRATA_DATALOSS: repaired, but data may have been lost",
};

const char *
strata_errstr(int rc)
{
    if (rc < 0 || rc >= STRATA_RC_COUNT)
        return "STRATA_?: unknown return code";
    return rc_text[rc];
}

static void
vset(const char *fmt, va_list ap)
{
    vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
}

int
st_err(int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vset(fmt, ap);
    va_end(ap);
    return rc;
}

/* Append to errbuf at *n, truncating silently. */
static void
appendf(size_t *n, const char *fmt, ...)
{
    if (*n >= sizeof(errbuf) - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(errbuf + *n, sizeof(errbuf) - *n, fmt, ap);
    va_end(ap);
    if (w > 0)
        *n += (size_t)w < sizeof(errbuf) - *n ? (size_t)w : sizeof(errbuf) - 1 - *n;
}

int
st_err_errno(int errnum, const char *fmt, ...)
{
    char what[ST_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    int rc;
    switch (errnum) {
    case ENOSPC:
    case EDQUOT:
        rc = STRATA_NOSPC;
        break;
    case ENOMEM:
        rc = STRATA_NOMEM;
        break;
    case ENOENT:
        rc = STRATA_NOTFOUND;
        break;
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        rc = STRATA_BUSY;
        break;
    default:
        rc = STRATA_IOERR;
        break;
    }
    size_t n = strlen(what);
    memcpy(errbuf, what, n + 1);
    appendf(&n, ": %s", strerror(errnum));
    return rc;
}

int
st_err_prefix(int rc, const char *fmt, ...)
{
    char old[ST_ERRMSG_MAX];
    char pre[ST_ERRMSG_MAX];
    memcpy(old, errbuf, sizeof(old));
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof(pre), fmt, ap);
    va_end(ap);
    size_t n = strlen(pre);
    memcpy(errbuf, pre, n + 1);
    appendf(&n, "%s", old);
    return rc;
}

const char *
st_errmsg(void)
{
    return errbuf;
}

void
st_err_clear(void)
{
    errbuf[0] = '\0';
}
