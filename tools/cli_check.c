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

int
cli_cmd_check(cli_ctx *c)
{
    if (c->argv[0][0] == '\0')
        return cli_usage(c, "empty database path");
    char *report = NULL;
    int rc = strata_check(c->argv[0], &report);
    return finish(c, rc, report, "checking");
}

int
cli_cmd_repair(cli_ctx *c)
{
    if (c->argv[0][0] == '\0')
        return cli_usage(c, "empty database path");
    char *report = NULL;
    int rc = strata_repair(c->argv[0], NULL, &report);
    return finish(c, rc, report, "repairing");
}
