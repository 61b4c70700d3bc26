/* SPDX-License-Identifier: Apache-2.0 */
/*
 * strata_cli.c -- main() of the `strata` command-line tool: flag parsing, the command table,
 * help texts, opening the database around a command and mapping results to exit codes.
 * See cli.h for the layout and doc/cli.md for the user documentation.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static int cli_cmd_help(cli_ctx *c);

/* ---- the command table: one row per command ------------------------------------------------ */
static const cli_cmd commands[] = {
    {"put", "DB KEY VALUE", "store VALUE under KEY", NULL, 3, 3, CLI_NEEDS_DB | CLI_CREATES, NULL,
     cli_cmd_put},
    {"get", "DB KEY", "print the value of KEY (exit 1 when absent)",
     "Prints the value followed by a newline. When KEY is absent, prints a message on stderr and\n"
     "exits with status 1.",
     2, 2, CLI_NEEDS_DB, NULL, cli_cmd_get},
    {"del", "DB KEY", "delete KEY (deleting an absent key is not an error)", NULL, 2, 2,
     CLI_NEEDS_DB | CLI_CREATES, NULL, cli_cmd_del},
    {"del-range", "DB FROM TO", "delete every key in [FROM, TO) with one range tombstone",
     "Deletes every key k with FROM <= k < TO (bytewise) as one small write, however many keys\n"
     "the range holds. Keys written later are not affected. FROM must sort before TO (else\n"
     "exit status 3, the database refusing the empty range). Deleting a range that holds no\n"
     "key is not an error.",
     3, 3, CLI_NEEDS_DB | CLI_CREATES, NULL, cli_cmd_del_range},
    {"scan", "DB [--from K] [--to K] [--prefix P] [--limit N] [--reverse]",
     "print key<TAB>value lines in key order",
     "Prints one key<TAB>value line per entry in [--from, --to). --prefix P restricts the range\n"
     "to keys starting with P (intersected with --from/--to). --reverse walks the range from its\n"
     "end backwards; --limit N stops after N lines.",
     1, 1, CLI_NEEDS_DB, cli_scan_opts, cli_cmd_scan},
    {"load", "DB [FILE|-] [--batch N] [--strict]", "write key<TAB>value lines from FILE or stdin",
     "Reads key<TAB>value lines (the format scan prints) from FILE, or stdin when FILE is\n"
     "absent or '-', and writes them in atomic batches of --batch lines (default 1000).\n"
     "Blank lines are ignored. A malformed line (no TAB, a second TAB, a bad escape or hex\n"
     "digit, an empty or oversized key) is reported with its line number and skipped; load then\n"
     "writes everything else and exits with status 2. With --strict the first malformed line\n"
     "stops the load (all lines before it are written) with status 2. A progress line (entries,\n"
     "bytes, rates, elapsed time) is shown on stderr when it is a terminal, unless --quiet;\n"
     "the final count and rate are printed on stdout.",
     1, 2, CLI_NEEDS_DB | CLI_CREATES, cli_load_opts, cli_cmd_load},
    {"stats", "DB [--json|--prometheus]", "print the database statistics",
     "Prints the strata.stats property (text for people). --json prints its numbers as one JSON\n"
     "object, --prometheus in the Prometheus text exposition format (counters end in _total;\n"
     "times are in seconds).",
     1, 1, CLI_NEEDS_DB, cli_stats_opts, cli_cmd_stats},
    {"flush", "DB", "flush the memtables to tables", NULL, 1, 1, CLI_NEEDS_DB, NULL, cli_cmd_flush},
    {"compact", "DB [--from K] [--to K]", "compact the key range [--from, --to] (default: all)",
     "Shows a progress line (compactions done, bytes written, elapsed time) when stderr is a\n"
     "terminal.",
     1, 1, CLI_NEEDS_DB, cli_compact_opts, cli_cmd_compact},
    {"property", "DB NAME | DB --list", "print a database property",
     "Prints the text of the property NAME. --list prints every name with a description.", 1, 2,
     CLI_NEEDS_DB, cli_property_opts, cli_cmd_property},
    {"check", "DB", "verify every file of a closed database (exit 3 when damaged)",
     "Runs strata_check on the closed database DB: CURRENT and every manifest record, every\n"
     "write-ahead log record, every table page checksum and structure, and that the manifest\n"
     "and the tables agree. Prints the report (one line per file) on stdout; exits 0 when\n"
     "everything is consistent, else 3 with the problem count on stderr. Changes nothing.\n"
     "Shows the elapsed time when stderr is a terminal.",
     1, 1, CLI_NEEDS_DB, NULL, cli_cmd_check},
    {"repair", "DB", "make a damaged database open again, salvaging what can be read",
     "Runs strata_repair on the closed database DB: rebuilds the manifest from the tables,\n"
     "verifies every table completely and rebuilds a damaged one from every row whose pages\n"
     "still pass their checksums (tombstones included); rejects a foreign Parquet file whose\n"
     "rows break a rule (naming the rule and the row); rewrites the readable records of\n"
     "damaged write-ahead logs into a new log; moves replaced originals to DB/lost/. Prints\n"
     "the report on stdout, ending with every key range whose writes or deletes may have been\n"
     "lost. Exit 0 when nothing was lost, 4 when the database was repaired but data may have\n"
     "been lost (a deleted key in a listed range may show an older value again), 3 on failure.\n"
     "Shows the elapsed time when stderr is a terminal.",
     1, 1, CLI_NEEDS_DB, NULL, cli_cmd_repair},
    {"checkpoint", "DB DIR", "write a consistent copy of DB (with strata.sql) into the new DIR",
     "Runs strata_checkpoint: flushes the memtables, hard-links (or copies) the current tables\n"
     "into DIR and writes a manifest for exactly them, so DIR opens as an ordinary database\n"
     "holding DB's state at one sequence number (printed). DIR must not exist or be empty.\n"
     "DIR/strata.sql defines the SQL views kv and kv_versions over its tables (see sql-view).\n"
     "A program checkpoints its open database with strata_checkpoint while writing to it.",
     2, 2, CLI_NEEDS_DB, NULL, cli_cmd_checkpoint},
    {"sql-view", "DIR", "print SQL defining the views kv and kv_versions over DIR's tables",
     "Opens DIR read-only and prints the script of strata.sql (doc/analytics.md): plain SQL\n"
     "for DuckDB defining kv(key, value), the newest live version of each key, and\n"
     "kv_versions(key, value, seqno, kind), every stored row. Table paths are relative to DIR,\n"
     "so run the script with DIR as the working directory. Only the tables are read: writes\n"
     "still in DIR's write-ahead logs are not in the views (checkpoints have none).",
     1, 1, CLI_NEEDS_DB | CLI_READ_ONLY, NULL, cli_cmd_sql_view},
    {"destroy", "DB", "remove a closed database's files (others are left alone)",
     "Runs strata_destroy: removes DB's tables, logs, manifests, CURRENT, LOCK and strata.sql,\n"
     "then DB itself when nothing else is left in it. Refused while DB is open.",
     1, 1, CLI_NEEDS_DB, NULL, cli_cmd_destroy},
    {"sst", "FILE [--rows] [--limit N]", "show the metadata or the rows of one table file",
     "Decodes the Parquet footer of FILE (a table, NNNNNN.parquet) and prints the file size,\n"
     "created_by, the schema, each row group (rows, sizes) and each column chunk in it (codec,\n"
     "encodings, compressed/uncompressed bytes, pages, statistics min/max, bloom filter,\n"
     "column index and offset index), then the footer key-value metadata. With --rows, prints\n"
     "the rows instead: key<TAB>seqno<TAB>kind<TAB>value, kind being put or del, in table\n"
     "order (key ascending, newest first), then the range tombstones as\n"
     "begin<TAB>seqno<TAB>del-range<TAB>end. A file that is not Parquet or is damaged is\n"
     "reported with exit status 3. Works on a file directly; no database is opened.",
     1, 1, 0, cli_sst_opts, cli_cmd_sst},
    {"help", "[COMMAND]", "show help for a command", NULL, 0, 1, 0, NULL, cli_cmd_help},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Global flags, accepted before or after the command. */
enum {
    G_HEX,
    G_SYNC,
    G_MEMTABLE,
    G_COMPRESSION,
    G_BOTTOMMOST,
    G_MEMORY,
    G_QUIET,
    G_WAL_RECOVERY,
    G_READ_ONLY,
    G_HELP,
    G_VERSION,
    G_COUNT
};
static const cli_opt global_opts[] = {
    [G_HEX] = {"hex", NULL, "keys and values are given and printed as hex digits"},
    [G_SYNC] = {"sync", NULL, "fsync the write-ahead log before each write returns"},
    [G_MEMTABLE] = {"memtable", "skiplist|trie", "memtable kind used while the DB is open"},
    [G_COMPRESSION] = {"compression", "CODEC", "lz4|zstd|snappy|none for flushes (default lz4)"},
    [G_BOTTOMMOST] = {"bottommost-compression", "CODEC",
                      "lz4|zstd|snappy|none for full compactions (default lz4)"},
    [G_MEMORY] = {"memory-budget", "SIZE",
                  "memtables + cache, bytes or with K, M, G (default 64M)"},
    [G_QUIET] = {"quiet", NULL, "no progress line on the terminal (load, compact, check, repair)"},
    [G_WAL_RECOVERY] = {"wal-recovery", "MODE",
                        "tolerate-tail|strict|skip-corrupt: damaged logs at open"},
    [G_READ_ONLY] = {"read-only", NULL,
                     "open the database read-only: shared lock, nothing written (reads only)"},
    [G_HELP] = {"help", NULL, "show help (also -h)"},
    [G_VERSION] = {"version", NULL, "print the version"},
};

static const cli_cmd *
find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* ---- reporting ------------------------------------------------------------------------------ */

static void
vreport(const cli_ctx *c, const char *fmt, va_list ap)
{
    if (c != NULL && c->cmd != NULL)
        fprintf(stderr, "strata %s: ", c->cmd->name);
    else
        fputs("strata: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int
cli_usage(const cli_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c, fmt, ap);
    va_end(ap);
    if (c != NULL && c->cmd != NULL)
        fprintf(stderr, "usage: strata %s %s\nTry 'strata %s --help' for more information.\n",
                c->cmd->name, c->cmd->synopsis, c->cmd->name);
    else
        fputs("Try 'strata --help' for more information.\n", stderr);
    return CLI_EXIT_USAGE;
}

int
cli_fail(const cli_ctx *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport(c, fmt, ap);
    va_end(ap);
    return code;
}

int
cli_dberr(const cli_ctx *c, int rc, const char *what)
{
    const char *msg = strata_errmsg(c->db);
    return cli_fail(c, CLI_EXIT_DBERR, "%s: %s%s%s", what, strata_errstr(rc), *msg ? ": " : "",
                    msg);
}

const char *
cli_optval(const cli_ctx *c, const char *name)
{
    if (c->cmd == NULL || c->cmd->opts == NULL)
        return NULL;
    for (int i = 0; i < CLI_MAX_OPTS && c->cmd->opts[i].name != NULL; i++)
        if (strcmp(c->cmd->opts[i].name, name) == 0)
            return c->optval[i];
    return NULL;
}

int
cli_parse_count(const cli_ctx *c, const char *flag, const char *text, unsigned long long *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0)
        return cli_usage(c, "--%s wants a non-negative integer, not '%s'", flag, text);
    *out = v;
    return CLI_EXIT_OK;
}

void
cli_write_options(const cli_ctx *c, strata_write_options *w)
{
    strata_write_options_init(w);
    w->sync = c->sync;
}

int
cli_finish_output(const cli_ctx *c, int write_errno)
{
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout) || write_errno != 0) {
        int err = write_errno != 0 ? write_errno : errno;
        if (err == EPIPE)
            return CLI_EXIT_OK; /* the reader went away (scan | head): not our failure */
        return cli_fail(c, CLI_EXIT_DBERR, "writing the output: %s",
                        err ? strerror(err) : "stream error");
    }
    return CLI_EXIT_OK;
}

/* ---- help ----------------------------------------------------------------------------------- */

static void
print_opts(FILE *f, const cli_opt *opts, size_t n)
{
    for (size_t i = 0; i < n && opts[i].name != NULL; i++) {
        char left[64];
        snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        fprintf(f, "  %-32s %s\n", left, opts[i].help);
    }
}

static void
print_main_help(FILE *f)
{
    fprintf(f, "usage: strata [global flags] COMMAND [ARGS...]\n\n"
               "Inspect and modify a strata database from the shell.\n\nCommands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nGlobal flags (before or after the command):\n");
    print_opts(f, global_opts, G_COUNT);
    fprintf(f,
            "\nWithout --hex, keys and values are text in which \\t \\n \\\\ and \\xNN stand for\n"
            "TAB, newline, backslash and any byte; output uses the same escapes.\n"
            "Exit status: 0 ok, 1 key not found (get), 2 usage error or malformed input,\n"
            "3 database or I/O error, 4 repair finished but data may have been lost.\n"
            "'strata COMMAND --help' describes one command.\n");
}

static void
print_cmd_help(FILE *f, const cli_cmd *cmd)
{
    fprintf(f, "usage: strata %s %s\n\n%s.\n", cmd->name, cmd->synopsis, cmd->summary);
    if (cmd->details != NULL)
        fprintf(f, "\n%s\n", cmd->details);
    if (cmd->opts != NULL) {
        fprintf(f, "\nOptions:\n");
        print_opts(f, cmd->opts, CLI_MAX_OPTS);
    }
    fprintf(f, "\nGlobal flags:\n");
    print_opts(f, global_opts, G_COUNT);
}

static int
cli_cmd_help(cli_ctx *c)
{
    if (c->argc == 0) {
        print_main_help(stdout);
        return cli_finish_output(c, 0);
    }
    const cli_cmd *cmd = find_command(c->argv[0]);
    if (cmd == NULL)
        return cli_usage(c, "unknown command '%s'", c->argv[0]);
    print_cmd_help(stdout, cmd);
    return cli_finish_output(c, 0);
}

/* ---- flag parsing --------------------------------------------------------------------------- */

static int
find_opt(const cli_opt *opts, size_t max, const char *name, size_t len)
{
    for (size_t i = 0; opts != NULL && i < max && opts[i].name != NULL; i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static int
set_global(cli_ctx *c, int id, const char *val, int *help, int *version)
{
    switch (id) {
    case G_HEX:
        c->hex = 1;
        break;
    case G_SYNC:
        c->sync = 1;
        break;
    case G_QUIET:
        c->quiet = 1;
        break;
    case G_READ_ONLY:
        c->read_only = 1;
        break;
    case G_HELP:
        *help = 1;
        break;
    case G_VERSION:
        *version = 1;
        break;
    case G_MEMTABLE:
        if (strcmp(val, "skiplist") == 0)
            c->memtable = STRATA_MEMTABLE_SKIPLIST;
        else if (strcmp(val, "trie") == 0)
            c->memtable = STRATA_MEMTABLE_TRIE;
        else
            return cli_usage(c, "--memtable wants skiplist or trie, not '%s'", val);
        break;
    case G_MEMORY: {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(val, &end, 10);
        int shift = 0;
        if (end && *end && !end[1])
            shift = *end == 'K' || *end == 'k'   ? 10
                    : *end == 'M' || *end == 'm' ? 20
                    : *end == 'G' || *end == 'g' ? 30
                                                 : -1;
        if (val[0] < '0' || val[0] > '9' || errno != 0 || shift < 0 || (end && *end && end[1]) ||
            v == 0 || v > (SIZE_MAX >> shift))
            return cli_usage(c,
                             "--memory-budget wants a positive size (bytes, or with K, M, G), "
                             "not '%s'",
                             val);
        c->memory_budget = (size_t)v << shift;
        break;
    }
    case G_WAL_RECOVERY: {
        static const char *const modes[] = {[STRATA_WAL_RECOVERY_TOLERATE_TAIL] = "tolerate-tail",
                                            [STRATA_WAL_RECOVERY_STRICT] = "strict",
                                            [STRATA_WAL_RECOVERY_SKIP_CORRUPT] = "skip-corrupt"};
        c->wal_recovery = -1;
        for (int i = 0; i < (int)(sizeof(modes) / sizeof(modes[0])); i++)
            if (strcmp(val, modes[i]) == 0)
                c->wal_recovery = i;
        if (c->wal_recovery < 0)
            return cli_usage(c,
                             "--wal-recovery wants tolerate-tail, strict or skip-corrupt, not "
                             "'%s'",
                             val);
        break;
    }
    case G_COMPRESSION:
    case G_BOTTOMMOST: {
        static const char *const names[] = {[STRATA_COMPRESSION_NONE] = "none",
                                            [STRATA_COMPRESSION_SNAPPY] = "snappy",
                                            [STRATA_COMPRESSION_ZSTD] = "zstd",
                                            [STRATA_COMPRESSION_LZ4] = "lz4"};
        int codec = -1;
        for (int i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
            if (strcmp(val, names[i]) == 0)
                codec = i;
        if (codec < 0)
            return cli_usage(c, "--%s wants lz4, zstd, snappy or none, not '%s'",
                             global_opts[id].name, val);
        *(id == G_COMPRESSION ? &c->compression : &c->bottommost) = codec;
        break;
    }
    default:
        break;
    }
    return CLI_EXIT_OK;
}

/*
 * parse_args --
 *     Split argv into global flags, the command, its flags and positional arguments. Flags may
 *     stand anywhere; "--" ends flag parsing; "--name=value" and "--name value" are both
 *     accepted. Positional arguments are collected into c->argv (a malloc'ed array).
 */
static int
parse_args(cli_ctx *c, int argc, char **argv, int *help, int *version)
{
    int dashdash = 0;
    c->argv = malloc(sizeof(char *) * (size_t)(argc > 0 ? argc : 1));
    if (c->argv == NULL)
        return cli_fail(c, CLI_EXIT_DBERR, "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (dashdash || a[0] != '-' || a[1] == '\0') {
            if (c->cmd == NULL) {
                c->cmd = find_command(a);
                if (c->cmd == NULL)
                    return cli_usage(c, "unknown command '%s'", a);
            } else {
                c->argv[c->argc++] = argv[i];
            }
            continue;
        }
        if (strcmp(a, "--") == 0) {
            dashdash = 1;
            continue;
        }
        if (strcmp(a, "-h") == 0) {
            *help = 1;
            continue;
        }
        if (a[1] != '-')
            return cli_usage(c, "unknown flag '%s' (put '--' before arguments that start with '-')",
                             a);
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const cli_opt *spec = NULL;
        int g = find_opt(global_opts, G_COUNT, name, len);
        int k = g < 0 && c->cmd != NULL ? find_opt(c->cmd->opts, CLI_MAX_OPTS, name, len) : -1;
        if (g >= 0)
            spec = &global_opts[g];
        else if (k >= 0)
            spec = &c->cmd->opts[k];
        else if (c->cmd == NULL)
            return cli_usage(c, "unknown flag '--%.*s' (command flags go after the command)",
                             (int)len, name);
        else
            return cli_usage(c, "unknown flag '--%.*s'", (int)len, name);
        const char *val = "";
        if (spec->arg == NULL && eq != NULL)
            return cli_usage(c, "flag --%s takes no value", spec->name);
        if (spec->arg != NULL) {
            if (eq != NULL)
                val = eq + 1;
            else if (i + 1 < argc)
                val = argv[++i];
            else
                return cli_usage(c, "flag --%s needs a value (%s)", spec->name, spec->arg);
        }
        if (g >= 0) {
            int rc = set_global(c, g, val, help, version);
            if (rc != CLI_EXIT_OK)
                return rc;
        } else {
            c->optval[k] = val;
        }
    }
    return CLI_EXIT_OK;
}

/* ---- opening the database ------------------------------------------------------------------- */

int
cli_open_db(cli_ctx *c)
{
    const char *path = c->argv[0];
    if (c->db != NULL)
        return CLI_EXIT_OK;
    if (path[0] == '\0')
        return cli_usage(c, "empty database path");
    strata_options o;
    strata_options_init(&o);
    o.read_only = c->read_only || (c->cmd->flags & CLI_READ_ONLY) != 0;
    o.create_if_missing = (c->cmd->flags & CLI_CREATES) != 0 && !o.read_only;
    if (c->memtable >= 0)
        o.memtable_kind = c->memtable;
    if (c->compression >= 0)
        o.compression = c->compression;
    if (c->bottommost >= 0)
        o.bottommost_compression = c->bottommost;
    if (c->wal_recovery >= 0)
        o.wal_recovery_mode = c->wal_recovery;
    if (c->memory_budget) {
        o.memory_budget = c->memory_budget;
        /* a small budget: memtables small enough for two of them and the cache's eighth */
        if (o.write_buffer_size > c->memory_budget / 16 * 7 &&
            c->memory_budget / 16 * 7 >= (64u << 10))
            o.write_buffer_size = c->memory_budget / 16 * 7;
    }
    int rc = strata_open(path, &o, &c->db);
    if (rc == STRATA_OK)
        return CLI_EXIT_OK;
    c->db = NULL;
    const char *msg = strata_errmsg(NULL);
    if (rc == STRATA_NOTFOUND && !o.create_if_missing)
        return cli_fail(c, CLI_EXIT_DBERR, "cannot open database '%s': it does not exist%s%s", path,
                        *msg ? ": " : "", msg);
    if (rc == STRATA_BUSY)
        return cli_fail(c, CLI_EXIT_DBERR,
                        "cannot open database '%s': %s%s%s\n"
                        "(another process, or another handle, holds the database lock; "
                        "retry when it has finished)",
                        path, strata_errstr(rc), *msg ? ": " : "", msg);
    return cli_fail(c, CLI_EXIT_DBERR, "cannot open database '%s': %s%s%s", path, strata_errstr(rc),
                    *msg ? ": " : "", msg);
}

int
main(int argc, char **argv)
{
    /* A closed pipe shows up as EPIPE from stdio (scan | head) rather than killing us before
     * the database is closed. */
    signal(SIGPIPE, SIG_IGN);

    cli_ctx c;
    memset(&c, 0, sizeof(c));
    c.memtable = -1;
    c.compression = -1;
    c.bottommost = -1;
    c.wal_recovery = -1;
    int help = 0, version = 0;
    int rc = parse_args(&c, argc, argv, &help, &version);
    if (rc == CLI_EXIT_OK) {
        if (version) {
            printf("strata %s (library %s)\n", STRATA_VERSION_STRING,
                   strata_version(NULL, NULL, NULL));
            rc = cli_finish_output(&c, 0);
        } else if (c.cmd == NULL) {
            print_main_help(help ? stdout : stderr);
            rc = help ? cli_finish_output(&c, 0) : CLI_EXIT_USAGE;
        } else if (help) {
            print_cmd_help(stdout, c.cmd);
            rc = cli_finish_output(&c, 0);
        } else if (c.argc < c.cmd->min_args) {
            rc = cli_usage(&c, "missing arguments");
        } else if (c.cmd->max_args >= 0 && c.argc > c.cmd->max_args) {
            rc = cli_usage(&c, "too many arguments ('%s' is extra)", c.argv[c.cmd->max_args]);
        } else {
            rc = c.cmd->run(&c);
            if (c.db != NULL) {
                int crc = strata_close(c.db);
                c.db = NULL;
                if (crc != STRATA_OK && rc == CLI_EXIT_OK)
                    rc = cli_dberr(&c, crc, "closing the database");
            }
        }
    }
    free(c.argv);
    return rc;
}
