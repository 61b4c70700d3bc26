/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_stats_fmt.c -- `strata stats --json` (one JSON object) and `--prometheus` (the Prometheus
 * text exposition format, version 0.0.4) from the metrics of cli_stats.c.
 */
#include "cli.h"

#include <math.h>

/* Numbers as JSON and Prometheus both read them: integers exactly, fractions to 15 digits. */
static void
put_number(FILE *f, double v)
{
    if (!isfinite(v))
        v = 0;
    fprintf(f, "%.15g", v);
}

/* A JSON string, or a Prometheus label value (same escapes for \\ " and newline). */
static void
put_quoted(FILE *f, const char *s, int json)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 && json)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void
cli_stats_print_json(FILE *f, const cli_stats *st)
{
    fputs("{\n  \"version\": ", f);
    put_quoted(f, st->version, 1);
    fputs(",\n  \"path\": ", f);
    put_quoted(f, st->path, 1);
    for (size_t i = 0; i < st->n; i++) {
        fprintf(f, ",\n  \"%s\": ", st->m[i].name);
        put_number(f, st->m[i].value);
    }
    fputs(",\n  \"background_error\": ", f);
    if (st->bg_error[0] != '\0')
        put_quoted(f, st->bg_error, 1);
    else
        fputs("null", f);
    fputs("\n}\n", f);
}

void
cli_stats_print_prometheus(FILE *f, const cli_stats *st)
{
    fputs("# HELP strata_info strata version and database path\n# TYPE strata_info gauge\n"
          "strata_info{version=",
          f);
    put_quoted(f, st->version, 0);
    fputs(",path=", f);
    put_quoted(f, st->path, 0);
    fputs("} 1\n", f);
    for (size_t i = 0; i < st->n; i++) {
        const cli_metric *m = &st->m[i];
        fprintf(f, "# HELP strata_%s %s\n# TYPE strata_%s %s\nstrata_%s ", m->name, m->help,
                m->name, m->counter ? "counter" : "gauge", m->name);
        put_number(f, m->value);
        fputc('\n', f);
    }
    fprintf(f,
            "# HELP strata_background_error 1 when a background error made the database "
            "read-only\n# TYPE strata_background_error gauge\nstrata_background_error %d\n",
            st->bg_error[0] != '\0');
}
