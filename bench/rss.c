/* SPDX-License-Identifier: Apache-2.0 */
/* rss.c -- peak anonymous / file-backed resident memory of the bench process (bench.h). */
#include "bench.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static _Atomic uint64_t peak_anon, peak_file;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Current RssAnon and RssFile in KiB; 0 when /proc/self/status cannot be read. */
static void
sample(uint64_t *anon, uint64_t *file)
{
    *anon = *file = 0;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return;
    }
    char line[256];
    unsigned long long v;
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "RssAnon: %llu kB", &v) == 1) {
            *anon = v;
        } else if (sscanf(line, "RssFile: %llu kB", &v) == 1) {
            *file = v;
        }
    }
    fclose(f);
}

static void
raise_to(_Atomic uint64_t *peak, uint64_t v)
{
    uint64_t cur = atomic_load(peak);
    while (v > cur && !atomic_compare_exchange_weak(peak, &cur, v)) {
    }
}

static void
update(void)
{
    uint64_t a, f;
    sample(&a, &f);
    raise_to(&peak_anon, a);
    raise_to(&peak_file, f);
}

static void *
sampler(void *arg)
{
    (void)arg;
    const struct timespec tick = {0, 10 * 1000 * 1000};
    for (;;) {
        update();
        nanosleep(&tick, NULL);
    }
    return NULL;
}

static void
start_thread(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, sampler, NULL) == 0) {
        pthread_detach(t);
    }
}

void
bench_rss_start(void)
{
    uint64_t a, f;
    sample(&a, &f);
    atomic_store(&peak_anon, a);
    atomic_store(&peak_file, f);
    pthread_once(&once, start_thread);
}

void
bench_rss_peak(uint64_t *anon_kb, uint64_t *file_kb)
{
    update(); /* the end of a short workload may fall between two ticks */
    *anon_kb = atomic_load(&peak_anon);
    *file_kb = atomic_load(&peak_file);
}
