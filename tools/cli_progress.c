/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli_progress.c -- the progress line of long commands (load, compact, check, repair): entries
 * and bytes done, their rates and the elapsed time, redrawn in place on stderr at most four times
 * a second. Only when stderr is a terminal and --quiet is not given; otherwise every call is a
 * no-op, so output captured by scripts never contains it. See cli.h.
 */
#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REDRAW_SECONDS 0.25

double
cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "12.3 MiB" style size into buf. */
static void
human_bytes(char *buf, size_t n, double bytes)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (bytes >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        bytes /= 1024.0;
        u++;
    }
    snprintf(buf, n, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
}

/* Draw the line now (the caller holds p->mu when a ticker runs). */
static void
draw(cli_progress *p, double t)
{
    double secs = t - p->start;
    char line[256], size[32], rate[32];
    int n = snprintf(line, sizeof(line), "%s", p->what);
    if (p->flags & CLI_PROGRESS_ENTRIES)
        n += snprintf(line + n, sizeof(line) - (size_t)n, ": %llu %s (%.0f/s)", p->entries,
                      p->unit ? p->unit : "entries", secs > 0 ? (double)p->entries / secs : 0.0);
    if ((p->flags & CLI_PROGRESS_BYTES) && n < (int)sizeof(line)) {
        human_bytes(size, sizeof(size), (double)p->bytes);
        human_bytes(rate, sizeof(rate), secs > 0 ? (double)p->bytes / secs : 0.0);
        n += snprintf(line + n, sizeof(line) - (size_t)n, "%s %s (%s/s)",
                      (p->flags & CLI_PROGRESS_ENTRIES) ? "," : ":", size, rate);
    }
    if (n < (int)sizeof(line))
        snprintf(line + n, sizeof(line) - (size_t)n, "%s %.1f s", p->flags ? "," : ":", secs);
    /* \r: back to the line start; ESC[K: erase what a longer earlier line left. */
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->shown = 1;
    p->last = t;
}

void
cli_progress_begin(cli_progress *p, const cli_ctx *c, const char *what, unsigned flags)
{
    memset(p, 0, sizeof(*p));
    p->what = what;
    p->flags = flags;
    p->on = !c->quiet && isatty(STDERR_FILENO);
    p->start = p->last = cli_now();
}

void
cli_progress_update(cli_progress *p, unsigned long long entries, unsigned long long bytes)
{
    p->entries = entries;
    p->bytes = bytes;
    if (!p->on)
        return;
    double t = cli_now();
    if (t - p->last >= REDRAW_SECONDS)
        draw(p, t);
}

void
cli_progress_break(cli_progress *p)
{
    if (p->on && p->shown)
        fputc('\n', stderr);
    p->shown = 0;
}

void
cli_progress_end(cli_progress *p)
{
    if (!p->on)
        return;
    draw(p, cli_now());
    cli_progress_break(p);
    p->on = 0;
}

/* ---- a ticker thread for calls that block ------------------------------------------------- */

typedef struct ticker {
    cli_progress *p;
    void (*poll)(cli_progress *p, void *arg);
    void *arg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
} ticker;

static void *
ticker_main(void *v)
{
    ticker *k = v;
    pthread_mutex_lock(&k->mu);
    while (!k->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        long ns = until.tv_nsec + (long)(REDRAW_SECONDS * 1e9);
        until.tv_sec += ns / 1000000000L;
        until.tv_nsec = ns % 1000000000L;
        int rc = 0;
        while (!k->stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&k->cv, &k->mu, &until);
        if (k->stop)
            break;
        if (k->poll != NULL)
            k->poll(k->p, k->arg);
        draw(k->p, cli_now());
    }
    pthread_mutex_unlock(&k->mu);
    return NULL;
}

int
cli_progress_run(cli_progress *p, int (*work)(void *), void *work_arg,
                 void (*poll)(cli_progress *p, void *arg), void *poll_arg)
{
    if (!p->on)
        return work(work_arg);
    ticker k = {.p = p, .poll = poll, .arg = poll_arg, .stop = 0};
    pthread_mutex_init(&k.mu, NULL);
    pthread_cond_init(&k.cv, NULL);
    pthread_t th;
    int started = pthread_create(&th, NULL, ticker_main, &k) == 0;
    /* The work runs on this thread, so its error message (thread-local) stays readable here. */
    int rc = work(work_arg);
    if (started) {
        pthread_mutex_lock(&k.mu);
        k.stop = 1;
        pthread_cond_signal(&k.cv);
        pthread_mutex_unlock(&k.mu);
        pthread_join(th, NULL);
    }
    pthread_cond_destroy(&k.cv);
    pthread_mutex_destroy(&k.mu);
    if (poll != NULL)
        poll(p, poll_arg);
    return rc;
}
