/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sst_salvage.h -- the pieces shared by the two salvages of a damaged table (internal to
 * src/sst): through the footer's page index (sst_salvage.c) and, when the footer cannot be
 * read, by walking the file's pages (sst_salvage_walk.c).
 *
 * Both hand every row they could read, in file order, to a sink (sst_salvage_sink.c), which
 * applies the row rules and the entry order, passes the rows that obey them to ops->entry and
 * gathers the rows that were not salvaged into runs reported to ops->lost with the tightest key
 * bounds known: the run's own keys where its key pages survived, else the salvaged keys around
 * it, else the bounds given at init (NULL: open).
 *
 * Range tombstones (kind 2, key = begin, value = end) follow every put and delete of a table,
 * in their own order (doc/format_sst.md): the sink switches to them at the first kind 2 row,
 * restarting the order; a put or delete after that is lost. A lost range tombstone may have
 * deleted keys anywhere up to its end, so its run reaches the table's upper bound.
 */
#ifndef ST_SST_SST_SALVAGE_H
#define ST_SST_SST_SALVAGE_H

#include "sst/sst.h"
#include "util/status.h"

typedef struct st_sst_sink {
    const st_sst_salvage_ops *ops;
    const uint8_t *lo_bound, *hi_bound; /* the table's key bounds, NULL when unknown */
    size_t lo_bound_len, hi_bound_len;
    st_buf first, prev; /* the first and the last salvaged row's key */
    uint64_t prevseq;
    int have_prev;
    /* the pending run of lost rows */
    uint64_t lost; /* rows known to be lost */
    int more;      /* an unknown number of further rows may be lost */
    int lo_open;   /* no lower bound known: the run starts before every salvaged key */
    st_buf lo, hi;
    int hi_known;   /* hi holds the key of the run's last row */
    int ranges;     /* salvaging range tombstones (after the first kind 2 row) */
    int run_ranges; /* the pending run lost range tombstones: its keys reach hi_bound */
    char why[ST_ERRMSG_MAX];
    /* totals */
    uint64_t rows, lost_rows;
    int lost_more;
} st_sst_sink;

/* lo/hi (may be NULL) bound the keys of the table; they must outlive the sink. */
void st_sst_sink_init(st_sst_sink *s, const st_sst_salvage_ops *ops, const uint8_t *lo,
                      size_t lolen, const uint8_t *hi, size_t hilen);
void st_sst_sink_free(st_sst_sink *s);

/*
 * A row whose four pages were read: salvaged when it obeys the row rules and follows the last
 * salvaged row in entry order, else lost with the rule it breaks. val is ignored when is_null.
 * Returns NOMEM or ops->entry's error.
 */
int st_sst_sink_row(st_sst_sink *s, const uint8_t *key, size_t klen, int64_t seq, int64_t kind,
                    const uint8_t *val, size_t vlen, int is_null);
/* A row that could not be read; key (NULL when unknown) is its key; why at most
 * ST_ERRMSG_MAX - 1 characters are kept. */
int st_sst_sink_lose(st_sst_sink *s, const uint8_t *key, size_t klen, const char *why);
/* An unknown number of rows (maybe none) between the last row and the next could not be read. */
int st_sst_sink_lose_unknown(st_sst_sink *s, const char *why);
/* Report the pending run of lost rows (at the end of the table). */
void st_sst_sink_finish(st_sst_sink *s);

/*
 * st_sst_salvage_walk --
 *     Salvage the table at path without its footer (sst_salvage_walk.c). Same contract as
 *     st_sst_salvage; the lost bounds at the table's ends are open (NULL).
 */
int st_sst_salvage_walk(st_env *env, const char *path, const st_sst_salvage_ops *ops);

/* The footer path of st_sst_salvage, over an open reader (sst_salvage.c). */
int st_sst_salvage_footer(st_sst_reader *r, const st_sst_salvage_ops *ops);

#endif
