/* SPDX-License-Identifier: Apache-2.0 */
/* cli_checkpoint.c -- the checkpoint, sql-view and destroy commands. */
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int
cli_cmd_checkpoint(cli_ctx *c)
{
    const char *dir = c->argv[1];
    if (dir[0] == '\0')
        return cli_usage(c, "empty checkpoint directory");
    int rc = cli_open_db(c);
    if (rc != CLI_EXIT_OK)
        return rc;
    int src = strata_checkpoint(c->db, dir);
    if (src != STRATA_OK)
        return cli_dberr(c, src, "checkpoint");
    /* the sequence number is the checkpoint's own (open it to ask) */
    strata_options o;
    strata_options_init(&o);
    o.read_only = 1;
    strata_db *ck = NULL;
    char *seq = NULL;
    src = strata_open(dir, &o, &ck);
    if (src == STRATA_OK)
        src = strata_property(ck, "strata.sequence", &seq);
    int wr = 0;
    if (src == STRATA_OK && printf("checkpoint %s: sequence %s\n", dir, seq) < 0)
        wr = errno;
    strata_free(seq);
    if (ck)
        strata_close(ck);
    return src == STRATA_OK ? cli_finish_output(c, wr)
                            : cli_dberr(c, src, "opening the new checkpoint");
}

int
cli_cmd_sql_view(cli_ctx *c)
{
    int rc = cli_open_db(c);
    if (rc != CLI_EXIT_OK)
        return rc;
    char *sql = NULL;
    int src = strata_property(c->db, "strata.sql-view", &sql);
    if (src != STRATA_OK)
        return cli_dberr(c, src, "sql-view");
    int wr = fputs(sql, stdout) == EOF ? errno : 0;
    strata_free(sql);
    return cli_finish_output(c, wr);
}

int
cli_cmd_destroy(cli_ctx *c)
{
    if (c->argv[0][0] == '\0')
        return cli_usage(c, "empty database path");
    int src = strata_destroy(c->argv[0], NULL);
    return src == STRATA_OK ? CLI_EXIT_OK : cli_dberr(c, src, "destroy");
}
