/* SPDX-License-Identifier: Apache-2.0 */
/* page_walk.c -- the pages of a Parquet file found without its footer (page_walk.h). */
#include "parquet/page_walk.h"

#include "util/crc32c.h"
#include "util/status.h"

#include <string.h>

/* A header at off that decodes and whose stored bytes lie within the input. */
static int
header_at(const uint8_t *p, size_t n, size_t off, st_pq_page_header *h, size_t *hlen)
{
    if (off >= n ||
        st_pq_decode_page_header(p + off, n - off, "page walk", off, h, hlen) != STRATA_OK)
        return 0;
    return (size_t)h->compressed_size <= n - off - *hlen;
}

static int
crc_ok(const uint8_t *p, size_t off, const st_pq_page_header *h, size_t hlen)
{
    return h->has_crc && st_crc32_ieee(0, p + off + hlen, (size_t)h->compressed_size) == h->crc;
}

/*
 * A page whose CRC verifies starts at off. Writers put PageHeader.type (field 1, i32, a value
 * 0..3) first, so its compact encoding starts with 0x15 and a zigzag varint 0, 2, 4 or 6: the
 * scan decodes a header only there.
 */
static int
verified_at(const uint8_t *p, size_t n, size_t off, st_pq_page_header *h, size_t *hlen)
{
    if (off + 2 > n || p[off] != 0x15 || p[off + 1] > 6 || (p[off + 1] & 1))
        return 0;
    return header_at(p, n, off, h, hlen) && crc_ok(p, off, h, *hlen);
}

/*
 * A page whose CRC verifies starts in [from, to). A damaged page's stored size can be wrong
 * and still end exactly where a later page starts (stepping over a whole page in between):
 * a verified page inside the span it claims shows that its header lies.
 */
static int
verified_within(const uint8_t *p, size_t n, size_t from, size_t to)
{
    st_pq_page_header h;
    size_t hlen;
    for (size_t at = from; at < to; at++)
        if (verified_at(p, n, at, &h, &hlen))
            return 1;
    return 0;
}

int
st_pq_page_walk(const uint8_t *p, size_t n, size_t start, int require_crc, st_pq_walk_fn fn,
                void *arg)
{
    size_t off = start;
    while (off < n) {
        st_pq_walk_item it;
        size_t hlen = 0;
        memset(&it, 0, sizeof(it));
        if (header_at(p, n, off, &it.h, &hlen) && (it.h.has_crc || !require_crc)) {
            size_t end = off + hlen + (size_t)it.h.compressed_size;
            st_pq_page_header next;
            size_t nlen;
            it.off = off;
            it.end = end;
            it.payload = p + off + hlen;
            if (!it.h.has_crc || crc_ok(p, off, &it.h, hlen)) {
                it.kind = ST_PQ_WALK_PAGE;
                it.verified = it.h.has_crc;
            } else if (end < n && verified_at(p, n, end, &next, &nlen) &&
                       !verified_within(p, n, off + 1, end)) {
                it.kind = ST_PQ_WALK_BAD_CRC;
            } else {
                it.kind = -1; /* the header's sizes are not to be trusted either */
            }
            if (it.kind >= 0) {
                ST_RET(fn(arg, &it));
                off = end;
                continue;
            }
        }
        /* no page here: scan for the next one whose CRC verifies */
        size_t at = off + 1;
        while (at < n && !verified_at(p, n, at, &it.h, &hlen))
            at++;
        memset(&it, 0, sizeof(it));
        it.kind = ST_PQ_WALK_GAP;
        it.off = off;
        it.end = at;
        ST_RET(fn(arg, &it));
        off = at;
    }
    st_err_clear();
    return STRATA_OK;
}
