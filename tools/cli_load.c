/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_load.c -- `strata load DB [FILE|-]`: key<TAB>value lines written in atomic batches.
 *
 * Malformed lines are reported as "FILE:LINE: reason" and skipped (exit status 2 at the end), or
 * stop the load with --strict after writing every line before them. See doc/cli.md.
 */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const cli_opt cli_load_opts[] = {
    {"batch", "N", "lines per atomic batch write (default 1000)"},
    {"strict", NULL, "stop at the first malformed line (exit 2)"},
    {NULL, NULL, NULL},
};

/* A batch is also written once it holds this many key+value bytes, to bound memory. */
#define LOAD_BATCH_BYTES (8u * 1024u * 1024u)

typedef struct load_state {
    cli_ctx *c;
    const char *name; /* input name for messages */
    strata_batch *batch;
    strata_write_options wopts;
    size_t pending_bytes;
    unsigned long long loaded;  /* records written (committed batches) */
    unsigned long long skipped; /* malformed lines */
    unsigned long long bytes;   /* input bytes read */
    cli_progress progress;
    int db_failed; /* a batch write failed: nothing more is written */
} load_state;

static double
rate(unsigned long long n, double secs)
{
    return secs > 0 ? (double)n / secs : 0.0;
}

/* Write the pending batch. CLI_EXIT_OK or the reported database error. */
static int
commit(load_state *s)
{
    size_t n = strata_batch_count(s->batch);
    if (n == 0)
        return CLI_EXIT_OK;
    int src = strata_write(s->c->db, &s->wopts, s->batch);
    if (src != STRATA_OK) {
        s->db_failed = 1;
        cli_progress_break(&s->progress);
        return cli_dberr(s->c, src, "writing a batch");
    }
    s->loaded += n;
    strata_batch_clear(s->batch);
    s->pending_bytes = 0;
    cli_progress_update(&s->progress, s->loaded, s->bytes);
    return CLI_EXIT_OK;
}

/*
 * parse_line --
 *     Decode "key<TAB>value" (without the newline) into a new key and value. NULL on success,
 *     else a static reason.
 */
static const char *
parse_line(const cli_ctx *c, const char *line, size_t len, unsigned char **key, size_t *klen,
           unsigned char **val, size_t *vlen)
{
    const char *tab = memchr(line, '\t', len);
    if (tab == NULL)
        return "no TAB between key and value";
    size_t kt = (size_t)(tab - line);
    if (memchr(tab + 1, '\t', len - kt - 1) != NULL)
        return "more than one TAB (write \\t for a TAB inside a key or value)";
    const char *why = NULL;
    if (cli_decode(c->hex, line, kt, key, klen, &why) != 0)
        return why;
    if ((why = cli_check_key(*klen)) != NULL ||
        cli_decode(c->hex, tab + 1, len - kt - 1, val, vlen, &why) != 0 ||
        (why = cli_check_value(*vlen)) != NULL) {
        free(*key);
        free(*val);
        *key = *val = NULL;
        return why;
    }
    return NULL;
}

/* Read and write every line of `f`. CLI_EXIT_OK, or the first fatal error's exit code. */
static int
load_stream(load_state *s, FILE *f, unsigned long long batch_lines, int strict)
{
    char *line = NULL;
    size_t cap = 0;
    unsigned long long lineno = 0;
    ssize_t got;
    int rc = CLI_EXIT_OK;
    errno = 0;
    while (rc == CLI_EXIT_OK && (got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        s->bytes += (unsigned long long)got;
        size_t len = (size_t)got;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (len == 0)
            continue;
        unsigned char *key = NULL, *val = NULL;
        size_t klen = 0, vlen = 0;
        const char *why = parse_line(s->c, line, len, &key, &klen, &val, &vlen);
        if (why != NULL) {
            s->skipped++;
            cli_progress_break(&s->progress);
            cli_fail(s->c, CLI_EXIT_USAGE, "%s:%llu: %s%s", s->name, lineno, why,
                     strict ? "" : " (line skipped)");
            if (strict)
                rc = CLI_EXIT_USAGE;
            continue;
        }
        int src = strata_batch_put(s->batch, key, klen, val, vlen);
        free(key);
        free(val);
        if (src != STRATA_OK) {
            s->db_failed = 1;
            cli_progress_break(&s->progress);
            rc = cli_dberr(s->c, src, "adding to a batch");
            break;
        }
        s->pending_bytes += klen + vlen;
        if (strata_batch_count(s->batch) >= batch_lines || s->pending_bytes >= LOAD_BATCH_BYTES)
            rc = commit(s);
    }
    if (rc == CLI_EXIT_OK && ferror(f)) {
        cli_progress_break(&s->progress);
        rc = cli_fail(s->c, CLI_EXIT_DBERR, "reading %s: %s", s->name,
                      errno ? strerror(errno) : "read error");
    }
    free(line);
    return rc;
}

int
cli_cmd_load(cli_ctx *c)
{
    unsigned long long batch_lines = 1000;
    const char *bl = cli_optval(c, "batch");
    if (bl != NULL) {
        int rc = cli_parse_count(c, "batch", bl, &batch_lines);
        if (rc != CLI_EXIT_OK)
            return rc;
        if (batch_lines == 0)
            return cli_usage(c, "--batch must be at least 1");
    }
    int strict = cli_optval(c, "strict") != NULL;
    const char *path = c->argc > 1 ? c->argv[1] : "-";
    int use_stdin = strcmp(path, "-") == 0;

    load_state s;
    memset(&s, 0, sizeof(s));
    s.c = c;
    s.name = use_stdin ? "<stdin>" : path;
    cli_write_options(c, &s.wopts);
    /* Open the database (held until main() closes it) before the input, so a slow or blocking
     * input (a fifo) never races another process for the lock. */
    int rc = cli_open_db(c);
    if (rc != CLI_EXIT_OK)
        return rc;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (f == NULL)
        return cli_fail(c, CLI_EXIT_DBERR, "cannot open %s: %s", path, strerror(errno));
    s.batch = strata_batch_new();
    if (s.batch == NULL) {
        if (!use_stdin)
            fclose(f);
        return cli_fail(c, CLI_EXIT_DBERR, "out of memory");
    }
    cli_progress_begin(&s.progress, c, "loading", CLI_PROGRESS_ENTRIES | CLI_PROGRESS_BYTES);

    rc = load_stream(&s, f, batch_lines, strict);
    /* Lines before a --strict stop or a read error are written too. */
    if (!s.db_failed) {
        int crc = commit(&s);
        if (crc != CLI_EXIT_OK)
            rc = crc;
    }
    if (!use_stdin)
        fclose(f);
    strata_batch_free(s.batch);
    cli_progress_end(&s.progress);

    double secs = cli_now() - s.progress.start;
    printf("loaded %llu records in %.3f s (%.0f records/s)", s.loaded, secs, rate(s.loaded, secs));
    if (s.skipped > 0)
        printf(", %llu malformed line%s %s", s.skipped, s.skipped == 1 ? "" : "s",
               strict ? "(stopped)" : "skipped");
    putchar('\n');
    int orc = cli_finish_output(c, 0);
    if (rc == CLI_EXIT_OK && s.skipped > 0)
        rc = CLI_EXIT_USAGE;
    return rc != CLI_EXIT_OK ? rc : orc;
}
