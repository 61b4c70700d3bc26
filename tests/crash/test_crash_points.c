/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_crash_points.c -- a power loss at every file operation of a workload.
 *
 * For n = 1, 2, ...: every file operation from the n-th on fails (the machine died there), the
 * workload of tests/support/fault_run.h (open, sync writes, two flushes, a full compaction,
 * gets, close) runs into it, then st_fault_env_crash() drops whatever was not durable (exactly
 * for odd n, with torn tails for even n). The database must reopen over the real env with every
 * write acknowledged before the crash present and the one in flight all-or-nothing. This covers
 * crashes inside creation, recovery, WAL appends, flushes, manifest updates and compactions
 * deterministically, complementing the randomly timed kills of test_crash.
 */
#include "fault_run.h"

#include <errno.h>

static void
test_crash_at_every_op(void)
{
    st_fr_sweep("power loss at op n", ST_FAULT_ALL, EIO, ST_FAULT_PERSISTENT, 1);
}

int
main(void)
{
    ST_RUN(test_crash_at_every_op);
    return st_test_done();
}
