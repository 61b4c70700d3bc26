/* SPDX-License-Identifier: Apache-2.0 */
/*
 * status.h -- return codes and the thread-local detail message.
 *
 * Internal code returns the public STRATA_* codes. A function that fails sets the detail message
 * with st_err() at the point where the failure is understood best (it knows the file, offset,
 * errno) and returns the code; callers propagate the code unchanged. st_err() returns its rc so
 * `return st_err(STRATA_IOERR, "write %s: %s", path, strerror(e));` is the common idiom.
 *
 * Thread safety: the message buffer is thread-local.
 */
#ifndef ST_UTIL_STATUS_H
#define ST_UTIL_STATUS_H

#include "strata/strata.h"

#include <stddef.h>

#if defined(__GNUC__)
#define ST_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define ST_WUR __attribute__((warn_unused_result))
#else
#define ST_PRINTF(a, b)
#define ST_WUR
#endif

/* Maximum detail message length including the NUL. */
#define ST_ERRMSG_MAX 512

/*
 * st_err --
 *     Set this thread's detail message (printf format) and return rc unchanged.
 */
int st_err(int rc, const char *fmt, ...) ST_PRINTF(2, 3);

/*
 * st_err_errno --
 *     Map an errno to a code (ENOSPC/EDQUOT -> NOSPC, ENOMEM -> NOMEM, ENOENT -> NOTFOUND,
 *     EWOULDBLOCK/EAGAIN -> BUSY, others -> IOERR), set "<what>: <strerror>" as the message
 *     and return the code.
 */
int st_err_errno(int errnum, const char *fmt, ...) ST_PRINTF(2, 3);

/* Prefix the current message with more context ("opening db: " + old message); returns rc. */
int st_err_prefix(int rc, const char *fmt, ...) ST_PRINTF(2, 3);

/* This thread's detail message (never NULL). */
const char *st_errmsg(void);

/* Clear this thread's detail message. */
void st_err_clear(void);

/* Propagation helpers: the only control-flow macros. ST_ERR requires `int rc` and a label `err`. */
#define ST_RET(expr)                                                                               \
    do {                                                                                           \
        int st_ret_rc_ = (expr);                                                                   \
        if (st_ret_rc_ != STRATA_OK)                                                               \
            return st_ret_rc_;                                                                     \
    } while (0)
#define ST_ERR(expr)                                                                               \
    do {                                                                                           \
        rc = (expr);                                                                               \
        if (rc != STRATA_OK)                                                                       \
            goto err;                                                                              \
    } while (0)

#endif
