/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_check.c -- `strata check DB` (strata_check) and `strata repair DB` (strata_repair).
 *
 * Both work on a closed database: they never call cli_open_db(); the library takes the database
 * lock itself for the duration (BUSY when another process has it open). The library's report is
 * printed on stdout in every case (also when the call fails), the failure on stderr.
 */
#include "cli.h"

#include <errno.h>
#include <string.h>

/* Print the report (adding a final newline when missing) and map rc to an exit code. */
static int
finish(cli_ctx *c, int rc, char *report, const char *what)
{
    const char *path = c->argv[0];
    int wrc = 0;
    if (report != NULL && report[0] != '\0') {
        size_t n = strlen(report);
        if (fputs(report, stdout) == EOF || (report[n - 1] != '\n' && fputc('\n', stdout) == EOF))
            wrc = EIO;
    }
    strata_free(report);
    int orc = cli_finish_output(c, wrc);
    if (rc == STRATA_OK)
        return orc;
    if (rc == STRATA_DATALOSS) {
        cli_fail(c, CLI_EXIT_DATALOSS, "%s '%s': %s: %s", what, path, strata_errstr(rc),
                 strata_errmsg(NULL));
        return orc != CLI_EXIT_OK ? orc : CLI_EXIT_DATALOSS;
    }
    const char *msg = strata_errmsg(NULL);
    if (rc == STRATA_BUSY)
        return cli_fail(c, CLI_EXIT_DBERR,
                        "%s '%s': %s%s%s\n(the database is open in another process; close it "
                        "first: %s works on a closed database)",
                        what, path, strata_errstr(rc), *msg ? ": " : "", msg, c->cmd->name);
    if (rc == STRATA_NOTFOUND)
        return cli_fail(c, CLI_EXIT_DBERR, "%s '%s': it does not exist%s%s", what, path,
                        *msg ? ": " : "", msg);
    return cli_fail(c, CLI_EXIT_DBERR, "%s '%s': %s%s%s", what, path, strata_errstr(rc),
                    *msg ? ": " : "", msg);
}

typedef struct closed_job {
    const char *path;
    int repair;
    char *report;
} closed_job;

static int
closed_work(void *arg)
{
    closed_job *j = arg;
    return j->repair ? strata_repair(j->path, NULL, &j->report) : strata_check(j->path, &j->report);
}

/* check or repair the closed database argv[0], with the elapsed time on a terminal. */
static int
run_closed(cli_ctx *c, int repair)
{
    if (c->argv[0][0] == '\0')
        return cli_usage(c, "empty database path");
    closed_job j = {c->argv[0], repair, NULL};
    cli_progress p;
    cli_progress_begin(&p, c, repair ? "repairing" : "checking", 0);
    int rc = cli_progress_run(&p, closed_work, &j, NULL, NULL);
    cli_progress_end(&p);
    return finish(c, rc, j.report, repair ? "repairing" : "checking");
}

int
cli_cmd_check(cli_ctx *c)
{
    return run_closed(c, 0);
}

int
cli_cmd_repair(cli_ctx *c)
{
    return run_closed(c, 1);
}
