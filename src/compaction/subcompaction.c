/* SPDX-License-Identifier: Apache-2.0 */
/*
 * subcompaction.c -- running the parts of one compaction at once: each part is a job over a
 * key range of the inputs, on a thread of its own.
 */
#include "compaction/compaction.h"
#include "util/alloc.h"

#include <pthread.h>
#include <string.h>

typedef struct part {
    st_compact_job *job;
    int rc;
    char msg[ST_ERRMSG_MAX]; /* the failure's message, from the part's own thread */
} part;

static void *
part_main(void *arg)
{
    part *p = arg;
    p->rc = st_compact_run(p->job);
    if (p->rc != STRATA_OK)
        memcpy(p->msg, st_errmsg(), sizeof(p->msg));
    return NULL;
}

/* Remove the (durable) outputs of a job that succeeded, for a compaction that failed. */
static void
remove_outputs(st_compact_job *job)
{
    for (size_t i = 0; i < job->noutputs; i++)
        st_compact_remove_table(job, job->outputs[i].fnum);
    st_compact_job_free(job);
}

int
st_compact_run_parts(st_compact_job *jobs, size_t n)
{
    part *ps = st_calloc(n ? n : 1, sizeof(*ps));
    pthread_t *th = st_calloc(n ? n : 1, sizeof(*th));
    int *started = st_calloc(n ? n : 1, sizeof(*started));
    int rc = ps && th && started ? STRATA_OK : st_err(STRATA_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        ps[i].job = &jobs[i];
        ps[i].rc = rc;
        if (rc == STRATA_OK && i > 0)
            started[i] = pthread_create(&th[i], NULL, part_main, &ps[i]) == 0;
    }
    /* a part whose thread could not start runs here, after the first */
    for (size_t i = 0; i < n && rc == STRATA_OK; i++)
        if (i == 0 || !started[i])
            part_main(&ps[i]);
    for (size_t i = 1; i < n; i++)
        if (started && started[i])
            pthread_join(th[i], NULL);
    int first = -1;
    for (size_t i = 0; i < n && rc == STRATA_OK; i++)
        if (ps[i].rc != STRATA_OK && first < 0)
            first = (int)i;
    if (rc == STRATA_OK && first >= 0) {
        for (size_t i = 0; i < n; i++) /* a failed part removed its own outputs */
            if (ps[i].rc == STRATA_OK)
                remove_outputs(&jobs[i]);
        rc = st_err(ps[first].rc, "%s", ps[first].msg);
    }
    if (rc != STRATA_OK)
        for (size_t i = 0; i < n; i++) { /* parts that never ran still own their input */
            st_iter_close(jobs[i].input);
            jobs[i].input = NULL;
        }
    st_free(ps);
    st_free(th);
    st_free(started);
    return rc;
}
