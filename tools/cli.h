/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h -- shared pieces of the `strata` command-line tool (tools/).
 *
 * The tool links only the public API (strata/strata.h), except `sst` (cli_sst.c), which uses the
 * internal sst and parquet layers (src/sst/sst.h, src/parquet/parquet.h) to show a table's
 * insides. Its layout:
 *   strata_cli.c  main(): global and per-command flag parsing, the command table, help, opening
 *                 and closing the database around a command, exit codes.
 *   cli_text.c    the key/value text encodings (hex, and the backslash escapes of plain mode).
 *   cli_cmds.c    put, get, del, scan, stats, flush, compact, property.
 *   cli_load.c    load.
 *   cli_check.c   check, repair (closed databases: they do not use cli_open_db).
 *   cli_progress.c  the progress line of long commands on a terminal.
 *   cli_stats.c   the numbers of strata_get_stats as named metrics.
 *   cli_stats_fmt.c  those metrics as JSON or Prometheus text (stats --json/--prometheus).
 *   cli_sst.c     sst (one table file, no database).
 *   cli_checkpoint.c  checkpoint, sql-view, destroy.
 *
 * Adding a command: write `int cli_cmd_x(cli_ctx *c)` (return a CLI_EXIT_* code), optionally a
 * `cli_opt` array of its own flags, and add one row to the table in strata_cli.c. A command that
 * works on a database validates its arguments first (usage errors never touch the database),
 * then calls cli_open_db(); main() closes the handle after the command returns.
 *
 * Ownership: a cli_ctx is built and owned by main(); commands borrow it for their run. Byte
 * buffers returned by the decoders are malloc'ed and owned by the caller (free()).
 * Thread safety: the tool is single-threaded, except the progress ticker of cli_progress_run(),
 * which only draws the progress line (and calls its poll function) while a command waits.
 * Errors: helpers that report a problem print one line on stderr ("strata CMD: ...") and return
 * the exit code to use, so a command can `return cli_usage(c, ...)`.
 */
#ifndef STRATA_TOOLS_CLI_H
#define STRATA_TOOLS_CLI_H

#include "strata/strata.h"

#include <stddef.h>
#include <stdio.h>

/* Exit codes of the tool. */
enum {
    CLI_EXIT_OK = 0,       /* success */
    CLI_EXIT_NOTFOUND = 1, /* get: the key is absent */
    CLI_EXIT_USAGE = 2,    /* bad command line or malformed input */
    CLI_EXIT_DBERR = 3,    /* the database (or an output/input file) reported an error */
    CLI_EXIT_DATALOSS = 4  /* repair: the database was repaired, but data may have been lost */
};

/* One flag a command accepts beyond the global ones ("--name" or "--name=VALUE"). */
typedef struct cli_opt {
    const char *name; /* without the leading "--"; NULL ends an array */
    const char *arg;  /* metavariable for help ("K", "N"), NULL for a flag without value */
    const char *help; /* one-line description */
} cli_opt;

#define CLI_MAX_OPTS 16 /* flags per command */

typedef struct cli_cmd cli_cmd;

/* Everything a command needs: parsed flags, positional arguments, the open database. */
typedef struct cli_ctx {
    const cli_cmd *cmd;
    int argc;    /* positional arguments after the command name (DB first when it has one) */
    char **argv; /* borrowed from main's argv */
    const char *optval[CLI_MAX_OPTS]; /* value per cmd->opts index; "" for a set flag */
    int hex;                          /* --hex: keys and values are hex text */
    int sync;                         /* --sync: synchronous writes */
    int memtable;                     /* STRATA_MEMTABLE_* or -1 for the library default */
    int compression;                  /* STRATA_COMPRESSION_* or -1 for the library default */
    int bottommost;                   /* the same for bottommost_compression */
    size_t memory_budget;             /* --memory-budget, or 0 for the library default */
    int quiet;                        /* --quiet: no progress line */
    int wal_recovery;                 /* STRATA_WAL_RECOVERY_* or -1 for the library default */
    int read_only;                    /* --read-only: open with strata_options.read_only */
    strata_db *db; /* set by cli_open_db() (path argv[0]); closed by main() after run() */
} cli_ctx;

/* cli_cmd.flags */
enum {
    CLI_NEEDS_DB = 1, /* argv[0] is a database directory (documentation; see cli_open_db) */
    CLI_CREATES = 2,  /* create the database when missing (commands that write) */
    CLI_READ_ONLY = 4 /* always open the database read-only */
};

struct cli_cmd {
    const char *name;
    const char *synopsis; /* arguments after the name, e.g. "DB KEY VALUE" */
    const char *summary;  /* one line for `strata --help` */
    const char *details;  /* paragraph(s) for `strata CMD --help`, may be NULL */
    int min_args;         /* positional arguments, DB included */
    int max_args;         /* -1: unlimited */
    int flags;            /* CLI_NEEDS_DB | CLI_CREATES */
    const cli_opt *opts;  /* NULL-terminated, or NULL */
    int (*run)(cli_ctx *c);
};

/* ---- strata_cli.c: reporting and flag access --------------------------------------------- */

/*
 * cli_open_db --
 *     Open the database at argv[0] with the global flags (creating it only for CLI_CREATES
 *     commands) into c->db; a no-op when already open. CLI_EXIT_OK, or CLI_EXIT_DBERR after
 *     reporting (BUSY explains that another process holds the lock).
 */
int cli_open_db(cli_ctx *c);
/* Value of the command flag `name` ("" for a set flag without value), NULL when not given. */
const char *cli_optval(const cli_ctx *c, const char *name);
/* Print "strata CMD: <msg>" and the command's usage line on stderr; returns CLI_EXIT_USAGE. */
int cli_usage(const cli_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "strata CMD: <msg>" on stderr; returns `code`. */
int cli_fail(const cli_ctx *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Report a library failure: "strata CMD: <what>: <strata_errstr(rc)>: <strata_errmsg>";
 * returns CLI_EXIT_DBERR. */
int cli_dberr(const cli_ctx *c, int rc, const char *what);
/* Parse a non-negative decimal integer flag value; CLI_EXIT_OK or a usage error. */
int cli_parse_count(const cli_ctx *c, const char *flag, const char *text, unsigned long long *out);
/* Write options honouring --sync. */
void cli_write_options(const cli_ctx *c, strata_write_options *w);
/* Flush stdout; on failure (or a non-zero `write_errno` from an earlier failed write) report it
 * and return CLI_EXIT_DBERR. EPIPE (the reader went away) is silent and CLI_EXIT_OK. */
int cli_finish_output(const cli_ctx *c, int write_errno);

/* ---- cli_text.c: key and value text ------------------------------------------------------- */

/*
 * cli_decode --
 *     Turn the text form of a key or value into bytes: hex digits when `hex` (even count, either
 *     case), else the escaped form (backslash escapes \t \n \\ \xNN; every other byte literal).
 *     On success *out is a malloc'ed buffer (never NULL, owned by the caller) of *outlen bytes
 *     and 0 is returned; on bad text -1 with a static reason in *why. No size checks.
 */
int cli_decode(int hex, const char *text, size_t len, unsigned char **out, size_t *outlen,
               const char **why);

/* Write bytes in their text form (hex, or escaped: \t \n \\ and \xNN for bytes outside
 * 0x20..0x7e). Returns 0 or -1 on a stream error (errno set). */
int cli_print_bytes(FILE *f, int hex, const void *p, size_t n);

/*
 * cli_key_arg / cli_value_arg --
 *     Decode a command-line key (1..STRATA_MAX_KEY_SIZE bytes) or value
 *     (0..STRATA_MAX_VALUE_SIZE). `what` names the argument in messages. CLI_EXIT_OK with a
 *     malloc'ed *out, or a usage error already reported.
 */
int cli_key_arg(const cli_ctx *c, const char *what, const char *text, unsigned char **out,
                size_t *outlen);
int cli_value_arg(const cli_ctx *c, const char *what, const char *text, unsigned char **out,
                  size_t *outlen);

/* Checks shared by arguments and load lines: NULL when acceptable, else a static reason. */
const char *cli_check_key(size_t klen);
const char *cli_check_value(size_t vlen);

/* ---- cli_progress.c: the progress line -------------------------------------------------- */

/* cli_progress.flags: what the line shows besides the elapsed time. */
enum { CLI_PROGRESS_ENTRIES = 1, CLI_PROGRESS_BYTES = 2 };

typedef struct cli_progress {
    const char *what; /* "loading", "compacting", ... (static) */
    const char *unit; /* what the entries count ("entries" when NULL; static) */
    unsigned flags;   /* CLI_PROGRESS_* */
    int on;           /* stderr is a terminal and --quiet is not given */
    int shown;        /* a line is on the terminal and needs its newline */
    double start, last;
    unsigned long long entries, bytes; /* done so far */
} cli_progress;

/* Monotonic seconds. */
double cli_now(void);
/* Start timing `what`; the line is drawn only when stderr is a terminal and not c->quiet. */
void cli_progress_begin(cli_progress *p, const cli_ctx *c, const char *what, unsigned flags);
/* Record the counts done so far; redraws when the last draw is a quarter second old. */
void cli_progress_update(cli_progress *p, unsigned long long entries, unsigned long long bytes);
/* End the line on the terminal so a message can follow on a line of its own. */
void cli_progress_break(cli_progress *p);
/* Draw the final counts and end the line; the progress is off afterwards. */
void cli_progress_end(cli_progress *p);
/*
 * cli_progress_run --
 *     Return work(work_arg), run on this thread while a ticker thread redraws the line every
 *     quarter second, first calling poll(p, poll_arg) (may be NULL) to refresh p->entries and
 *     p->bytes (it must only read thread-safe state, e.g. strata_property). Without a terminal,
 *     just work(work_arg). poll is called once more after the work.
 */
int cli_progress_run(cli_progress *p, int (*work)(void *), void *work_arg,
                     void (*poll)(cli_progress *p, void *arg), void *poll_arg);

/* ---- cli_stats.c / cli_stats_fmt.c: strata_get_stats as metrics -------------------------------
 */

typedef struct cli_metric {
    const char *name; /* static, without the "strata_" prefix; counters end in _total */
    const char *help; /* static, one line */
    int counter;      /* 1: counter, 0: gauge */
    double value;
} cli_metric;

#define CLI_MAX_METRICS 64

typedef struct cli_stats {
    cli_metric m[CLI_MAX_METRICS];
    size_t n;
    char version[32];
    char path[4096];
    char bg_error[512]; /* "" when there is no background error */
} cli_stats;

/* The metrics of s (of the database at path) into *st. */
void cli_stats_from(const strata_stats *s, const char *path, cli_stats *st);
/* Read the statistics of the open c->db into *st: CLI_EXIT_OK or a reported database error. */
int cli_stats_read(cli_ctx *c, cli_stats *st);
void cli_stats_print_json(FILE *f, const cli_stats *st);
void cli_stats_print_prometheus(FILE *f, const cli_stats *st);

/* ---- commands ----------------------------------------------------------------------------- */
int cli_cmd_put(cli_ctx *c);
int cli_cmd_get(cli_ctx *c);
int cli_cmd_del(cli_ctx *c);
int cli_cmd_del_range(cli_ctx *c);
int cli_cmd_scan(cli_ctx *c);
int cli_cmd_stats(cli_ctx *c);
int cli_cmd_flush(cli_ctx *c);
int cli_cmd_compact(cli_ctx *c);
int cli_cmd_property(cli_ctx *c);
int cli_cmd_load(cli_ctx *c);
int cli_cmd_check(cli_ctx *c);
int cli_cmd_repair(cli_ctx *c);
int cli_cmd_sst(cli_ctx *c);
int cli_cmd_checkpoint(cli_ctx *c);
int cli_cmd_sql_view(cli_ctx *c);
int cli_cmd_destroy(cli_ctx *c);

extern const cli_opt cli_scan_opts[];
extern const cli_opt cli_compact_opts[];
extern const cli_opt cli_stats_opts[];
extern const cli_opt cli_property_opts[];
extern const cli_opt cli_load_opts[];
extern const cli_opt cli_sst_opts[];

#endif
