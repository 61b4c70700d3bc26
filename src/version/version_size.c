/* SPDX-License-Identifier: Apache-2.0 */
/* version_size.c -- the approximate bytes of a version's tables holding a key range. */
#include "version/version.h"

int
st_version_approximate_size(st_version *v, const uint8_t *lower, size_t llen, const uint8_t *upper,
                            size_t ulen, uint64_t *bytes)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < v->n; i++) {
        st_table *t = v->t[i];
        const st_table_meta *m = &t->m;
        if ((upper && st_bytes_cmp(m->smallest, m->smallest_len, upper, ulen) >= 0) ||
            (lower && st_bytes_cmp(m->largest, m->largest_len, lower, llen) < 0))
            continue;
        if ((!lower || st_bytes_cmp(m->smallest, m->smallest_len, lower, llen) >= 0) &&
            (!upper || st_bytes_cmp(m->largest, m->largest_len, upper, ulen) < 0)) {
            sum += m->file_size;
            continue;
        }
        st_sst_reader *rd;
        ST_RET(st_table_reader(t, &rd));
        uint64_t b = 0;
        int rc = st_sst_reader_approximate_size(rd, lower, llen, upper, ulen, &b);
        st_sst_reader_unref(rd);
        ST_RET(rc);
        sum += b;
    }
    *bytes = sum;
    return STRATA_OK;
}
