/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ucs.c -- the Unified Compaction Strategy picker. See ucs.h for the contract and
 * doc/compaction.md for the model.
 *
 * Everything here is computed from scratch on every call from the table array: positions (after
 * stripping the common bit prefix of all live keys), densities, levels, fragments, overlap sets,
 * buckets, and the output shard boundaries. No libm: log2 is computed by hand (the module does not
 * link -lm).
 */
#include "compaction/ucs.h"

#include "util/alloc.h"
#include "util/status.h"

#include <stdlib.h>
#include <string.h>

#define MIB (1024ull * 1024ull)

void
st_ucs_options_init(st_ucs_options *o)
{
    memset(o, 0, sizeof(*o));
    o->scaling[0] = 2; /* T4 */
    o->nscaling = 1;
    o->base_shards = 4;
    o->flush_size = 64 * MIB;
    o->target_size = 64 * MIB;
    o->growth = 0.333;
    o->max_inputs = 32;
    o->fragment_inputs = 4;
    o->max_input_bytes = 0;
    o->tombstone_ratio = 0;
    o->read_threshold = 0;
}

static int
validate(const st_ucs_options *o)
{
    if (!o)
        return st_err(STRATA_INVALID, "ucs: NULL options");
    if (o->nscaling < 1 || o->nscaling > 8)
        return st_err(STRATA_INVALID, "ucs: nscaling %d outside 1..8", o->nscaling);
    for (int i = 0; i < o->nscaling; i++)
        if (o->scaling[i] < -126 || o->scaling[i] > 126)
            return st_err(STRATA_INVALID, "ucs: scaling[%d] = %d outside -126..126", i,
                          o->scaling[i]);
    if (o->base_shards < 1 || o->base_shards > (1 << 20) ||
        (o->base_shards & (o->base_shards - 1)) != 0)
        return st_err(STRATA_INVALID, "ucs: base_shards %d is not a power of two in 1..2^20",
                      o->base_shards);
    if (o->flush_size == 0 || o->target_size == 0)
        return st_err(STRATA_INVALID, "ucs: flush_size and target_size must be > 0");
    if (!(o->growth >= 0.0 && o->growth <= 1.0))
        return st_err(STRATA_INVALID, "ucs: growth %g outside [0, 1]", o->growth);
    if (o->max_inputs < 2)
        return st_err(STRATA_INVALID, "ucs: max_inputs %d < 2", o->max_inputs);
    if (o->fragment_inputs != 0 && (o->fragment_inputs < 2 || o->fragment_inputs > 1024))
        return st_err(STRATA_INVALID, "ucs: fragment_inputs %d is neither 0 nor in 2..1024",
                      o->fragment_inputs);
    if (!(o->tombstone_ratio >= 0.0))
        return st_err(STRATA_INVALID, "ucs: tombstone_ratio %g < 0", o->tombstone_ratio);
    if (o->read_threshold != 0 && (o->read_threshold < 2 || o->read_threshold > 126))
        return st_err(STRATA_INVALID, "ucs: read_threshold %d is neither 0 nor in 2..126",
                      o->read_threshold);
    return STRATA_OK;
}

static int
scaling_of(const st_ucs_options *o, int level)
{
    return o->scaling[level < o->nscaling ? level : o->nscaling - 1];
}

int
st_ucs_fanout(const st_ucs_options *o, int level)
{
    int w = scaling_of(o, level);
    return w < 0 ? 2 - w : 2 + w;
}

int
st_ucs_threshold(const st_ucs_options *o, int level)
{
    int w = scaling_of(o, level);
    return w < 0 ? 2 : 2 + w;
}

int
st_ucs_level_of(const st_ucs_options *o, double density)
{
    double limit = (double)o->flush_size;
    for (int level = 0; level < ST_UCS_MAX_LEVELS - 1; level++) {
        limit *= st_ucs_fanout(o, level);
        if (density < limit)
            return level;
    }
    return ST_UCS_MAX_LEVELS - 1;
}

/* log2(x) for x > 0, to about 1e-9, without libm. */
static double
ucs_log2(double x)
{
    double r = 0, bit = 1;
    if (!(x > 0))
        return -1e300;
    while (x >= 2) {
        x /= 2;
        r += 1;
    }
    while (x < 1) {
        x *= 2;
        r -= 1;
    }
    for (int i = 0; i < 32; i++) { /* x in [1, 2): square to read the next fraction bit */
        bit /= 2;
        x *= x;
        if (x >= 2) {
            x /= 2;
            r += bit;
        }
    }
    return r;
}

/* log2 of the shard count for density d (full scheme, ucs.h). */
static int
shard_bits(const st_ucs_options *o, double d)
{
    double m = (double)o->flush_size, t = (double)o->target_size, b = o->base_shards;
    int bbits = 0, bits;
    while ((1 << bbits) < o->base_shards)
        bbits++;
    if (!(d >= m)) /* also catches NaN */
        return 0;
    if (d < m * b) {
        double r = d / m;
        bits = 0;
        while (r >= 2) {
            r /= 2;
            bits++;
        }
        return bits; /* < bbits since d / m < b */
    }
    if (d < t * b)
        return bbits;
    double e = (1.0 - o->growth) * ucs_log2(d / (t * b)) + 0.5; /* >= 0.5 */
    if (e > ST_UCS_MAX_SHARD_BITS)
        return ST_UCS_MAX_SHARD_BITS;
    bits = (int)e + bbits; /* (int) of a positive number = floor */
    return bits > ST_UCS_MAX_SHARD_BITS ? ST_UCS_MAX_SHARD_BITS : bits;
}

uint64_t
st_ucs_shard_count(const st_ucs_options *o, double density)
{
    return 1ull << shard_bits(o, density);
}

double
st_ucs_expected_size(const st_ucs_options *o, double density)
{
    double e = density / (double)(1ull << shard_bits(o, density));
    return e < (double)o->target_size ? e : (double)o->target_size;
}

/* ---- key positions ---------------------------------------------------------------------- */

static int
key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

static uint8_t
byte_at(const uint8_t *k, size_t len, size_t i)
{
    return i < len ? k[i] : 0;
}

/* The 64 bits of the zero-padded key that start at bit offset `bit`. */
static uint64_t
bits_at(const uint8_t *k, size_t len, size_t bit)
{
    size_t b = bit / 8;
    unsigned s = (unsigned)(bit % 8);
    uint64_t v = 0;
    for (size_t j = 0; j < 8; j++)
        v = (v << 8) | byte_at(k, len, b + j);
    if (s)
        v = (v << s) | (uint64_t)(byte_at(k, len, b + 8) >> (8 - s));
    return v;
}

/* The key space: the common bit prefix of the zero-padded smallest and largest live keys. */
typedef struct ucs_space {
    const uint8_t *lo; /* the smallest live key (its first pbits bits are the prefix) */
    size_t lolen;
    size_t pbits;
} ucs_space;

static void
space_init(ucs_space *sp, const uint8_t *lo, size_t lolen, const uint8_t *hi, size_t hilen)
{
    size_t n = lolen > hilen ? lolen : hilen, i;
    sp->lo = lo;
    sp->lolen = lolen;
    for (i = 0; i < n; i++) {
        uint8_t x = byte_at(lo, lolen, i) ^ byte_at(hi, hilen, i);
        if (x) {
            size_t lead = 0;
            while (!(x & 0x80)) {
                x = (uint8_t)(x << 1);
                lead++;
            }
            sp->pbits = i * 8 + lead;
            return;
        }
    }
    sp->pbits = n * 8;
}

static uint64_t
space_pos(const ucs_space *sp, const uint8_t *k, size_t len)
{
    return bits_at(k, len, sp->pbits);
}

/* The shortest key whose position is x: prefix bits, then x, trailing zero bytes trimmed. Every
 * key of the space compares >= it exactly when its position is >= x. x != 0. */
static int
space_key(const ucs_space *sp, uint64_t x, uint8_t **out, size_t *outlen)
{
    size_t nbytes = (sp->pbits + 64 + 7) / 8;
    uint8_t *k = st_calloc(nbytes, 1);
    if (!k)
        return st_err(STRATA_NOMEM, "ucs: allocating a %zu-byte shard boundary", nbytes);
    for (size_t i = 0; i < sp->pbits / 8; i++)
        k[i] = byte_at(sp->lo, sp->lolen, i);
    if (sp->pbits % 8) {
        unsigned keep = (unsigned)(sp->pbits % 8);
        k[sp->pbits / 8] =
            (uint8_t)(byte_at(sp->lo, sp->lolen, sp->pbits / 8) & (uint8_t)(0xFF << (8 - keep)));
    }
    for (unsigned i = 0; i < 64; i++)
        if ((x >> (63 - i)) & 1) {
            size_t bit = sp->pbits + i;
            k[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
        }
    while (nbytes > 1 && k[nbytes - 1] == 0)
        nbytes--;
    *out = k;
    *outlen = nbytes;
    return STRATA_OK;
}

void
st_ucs_bounds_free(uint8_t **bounds, size_t *bound_lens, size_t nbounds)
{
    if (bounds)
        for (size_t i = 0; i < nbounds; i++)
            st_free(bounds[i]);
    st_free(bounds);
    st_free(bound_lens);
}

/* Boundaries k / 2^bits inside positions (plo, phi]. */
static int
space_bounds(const ucs_space *sp, int bits, uint64_t plo, uint64_t phi, uint8_t ***bounds,
             size_t **lens, size_t *nbounds)
{
    int rc = STRATA_OK;
    uint64_t k0, k1;
    size_t n = 0, cap;
    *bounds = NULL;
    *lens = NULL;
    *nbounds = 0;
    if (bits == 0 || phi <= plo)
        return STRATA_OK;
    k0 = (plo >> (64 - bits)) + 1;
    k1 = phi >> (64 - bits);
    if (k1 < k0)
        return STRATA_OK;
    cap = (size_t)(k1 - k0 + 1);
    *bounds = st_calloc(cap, sizeof(**bounds));
    *lens = st_calloc(cap, sizeof(**lens));
    if (!*bounds || !*lens) {
        rc = st_err(STRATA_NOMEM, "ucs: allocating %zu shard boundaries", cap);
        goto err;
    }
    for (uint64_t k = k0; k <= k1; k++, n++)
        ST_ERR(space_key(sp, k << (64 - bits), &(*bounds)[n], &(*lens)[n]));
    *nbounds = n;
    return STRATA_OK;
err:
    st_ucs_bounds_free(*bounds, *lens, n);
    *bounds = NULL;
    *lens = NULL;
    return rc;
}

/* ---- per-table view ----------------------------------------------------------------------- */

typedef struct ucs_item {
    size_t idx; /* into the caller's array */
    const st_ucs_table *t;
    uint64_t plo, phi;
    double density;
    int level;
    int fragment;   /* smaller than E(density) / fragment_inputs */
    unsigned stamp; /* membership marks for set intersections */
} ucs_item;

typedef struct ucs_view {
    ucs_item *items;
    size_t n;
    ucs_space sp;
    ucs_item **order; /* view_order's selection, sorted */
    size_t norder;
} ucs_view;

static double
span_of(uint64_t plo, uint64_t phi)
{
    double v = (double)(phi - plo) / 18446744073709551616.0;
    return v < ST_UCS_MIN_SPAN ? ST_UCS_MIN_SPAN : v;
}

/* Build the view of the valid tables (largest >= smallest, keys present); extra_lo/hi (may be
 * NULL) widen the key space. */
static int
view_build(const st_ucs_options *o, const st_ucs_table *t, size_t n, const uint8_t *extra_lo,
           size_t extra_lolen, const uint8_t *extra_hi, size_t extra_hilen, ucs_view *v)
{
    const uint8_t *glo = extra_lo, *ghi = extra_hi;
    size_t glolen = extra_lolen, ghilen = extra_hilen;
    memset(v, 0, sizeof(*v));
    if (n && !t)
        return st_err(STRATA_INVALID, "ucs: NULL table array with n = %zu", n);
    v->items = st_calloc(n ? n : 1, sizeof(*v->items));
    v->order = st_calloc(n ? n : 1, sizeof(*v->order));
    if (!v->items || !v->order) {
        st_free(v->items);
        st_free(v->order);
        return st_err(STRATA_NOMEM, "ucs: allocating the view of %zu tables", n);
    }
    for (size_t i = 0; i < n; i++) {
        const st_ucs_table *x = &t[i];
        if ((x->smallest_len && !x->smallest) || (x->largest_len && !x->largest) ||
            key_cmp(x->smallest, x->smallest_len, x->largest, x->largest_len) > 0)
            continue;
        v->items[v->n].idx = i;
        v->items[v->n].t = x;
        v->n++;
        if (!glo || key_cmp(x->smallest, x->smallest_len, glo, glolen) < 0) {
            glo = x->smallest;
            glolen = x->smallest_len;
        }
        if (!ghi || key_cmp(x->largest, x->largest_len, ghi, ghilen) > 0) {
            ghi = x->largest;
            ghilen = x->largest_len;
        }
    }
    space_init(&v->sp, glo, glo ? glolen : 0, ghi, ghi ? ghilen : 0);
    for (size_t i = 0; i < v->n; i++) {
        ucs_item *it = &v->items[i];
        it->plo = space_pos(&v->sp, it->t->smallest, it->t->smallest_len);
        it->phi = space_pos(&v->sp, it->t->largest, it->t->largest_len);
        it->density = (double)it->t->size / span_of(it->plo, it->phi);
        it->level = st_ucs_level_of(o, it->density);
        it->fragment = o->fragment_inputs > 0 && (double)it->t->size * o->fragment_inputs <
                                                     st_ucs_expected_size(o, it->density);
    }
    return STRATA_OK;
}

static void
view_free(ucs_view *v)
{
    st_free(v->items);
    st_free(v->order);
    memset(v, 0, sizeof(*v));
}

/* Key order: smallest key, then largest key, then index. */
static int
item_key_cmp(const ucs_item *x, const ucs_item *y)
{
    int c = key_cmp(x->t->smallest, x->t->smallest_len, y->t->smallest, y->t->smallest_len);
    if (c)
        return c;
    c = key_cmp(x->t->largest, x->t->largest_len, y->t->largest, y->t->largest_len);
    if (c)
        return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int
cmp_smallest(const void *a, const void *b)
{
    return item_key_cmp(*(const ucs_item *const *)a, *(const ucs_item *const *)b);
}

/* Order for the sweep: level, then key order. */
static int
cmp_level_smallest(const void *a, const void *b)
{
    const ucs_item *x = *(const ucs_item *const *)a, *y = *(const ucs_item *const *)b;
    if (x->level != y->level)
        return x->level < y->level ? -1 : 1;
    return item_key_cmp(x, y);
}

/* Select the items (without the compacting ones if skip_compacting; all on level 0 if flat)
 * into v->order, sorted by cmp_level_smallest. */
static void
view_order(ucs_view *v, int skip_compacting, int flat)
{
    v->norder = 0;
    for (size_t i = 0; i < v->n; i++) {
        if (flat)
            v->items[i].level = 0;
        if (!skip_compacting || !v->items[i].t->compacting)
            v->order[v->norder++] = &v->items[i];
    }
    qsort(v->order, v->norder, sizeof(*v->order), cmp_level_smallest);
}

/* Oldest first: max_seq, then min_seq, then id, then index. */
static int
cmp_age(const void *a, const void *b)
{
    const ucs_item *x = *(const ucs_item *const *)a, *y = *(const ucs_item *const *)b;
    if (x->t->max_seq != y->t->max_seq)
        return x->t->max_seq < y->t->max_seq ? -1 : 1;
    if (x->t->min_seq != y->t->min_seq)
        return x->t->min_seq < y->t->min_seq ? -1 : 1;
    if (x->t->id != y->t->id)
        return x->t->id < y->t->id ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* ---- overlap sets ------------------------------------------------------------------------- */

/* The minimal list of overlap sets of items sorted by smallest key (UCS section "overlap
 * sets"): a sweep in key order with a min-heap of the active tables by largest key. A set is
 * emitted whenever a table ends after tables were added since the last emission, so sets are
 * maximal, contiguous in key order, and every overlapping pair shares one. */
typedef struct ucs_sets {
    ucs_item **members; /* concatenated sets */
    size_t nmembers, cap;
    size_t *start; /* set i is members[start[i] .. start[i+1]) */
    size_t nsets, scap;
    size_t max; /* the largest set */
} ucs_sets;

static void
sets_free(ucs_sets *s)
{
    st_free(s->members);
    st_free(s->start);
    memset(s, 0, sizeof(*s));
}

static int
heap_less(const ucs_item *a, const ucs_item *b)
{
    return key_cmp(a->t->largest, a->t->largest_len, b->t->largest, b->t->largest_len) < 0;
}

static void
heap_push(ucs_item **h, size_t *n, ucs_item *x)
{
    size_t i = (*n)++;
    while (i > 0 && heap_less(x, h[(i - 1) / 2])) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = x;
}

static void
heap_pop(ucs_item **h, size_t *n)
{
    ucs_item *x = h[--*n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n)
            break;
        if (c + 1 < *n && heap_less(h[c + 1], h[c]))
            c++;
        if (!heap_less(h[c], x))
            break;
        h[i] = h[c];
        i = c;
    }
    if (*n)
        h[i] = x;
}

/* Append the active tables as one set (only when `store`; the size always counts). */
static int
sets_emit(ucs_sets *s, ucs_item **active, size_t nactive, int store)
{
    if (nactive > s->max)
        s->max = nactive;
    if (!store)
        return STRATA_OK;
    if (s->nmembers + nactive > s->cap) {
        size_t cap = s->cap ? s->cap : 16;
        while (cap < s->nmembers + nactive)
            cap *= 2;
        ucs_item **m = st_realloc(s->members, cap * sizeof(*m));
        if (!m)
            return st_err(STRATA_NOMEM, "ucs: growing overlap sets to %zu members", cap);
        s->members = m;
        s->cap = cap;
    }
    if (s->nsets + 2 > s->scap) {
        size_t cap = s->scap ? 2 * s->scap : 16;
        size_t *st = st_realloc(s->start, cap * sizeof(*st));
        if (!st)
            return st_err(STRATA_NOMEM, "ucs: growing overlap sets to %zu sets", cap);
        s->start = st;
        s->scap = cap;
    }
    memcpy(s->members + s->nmembers, active, nactive * sizeof(*active));
    s->start[s->nsets++] = s->nmembers;
    s->nmembers += nactive;
    s->start[s->nsets] = s->nmembers;
    return STRATA_OK;
}

static int
overlap_sets(ucs_item **sorted, size_t k, int store, ucs_sets *s)
{
    int rc = STRATA_OK, added = 0;
    size_t nheap = 0;
    ucs_item **heap;
    memset(s, 0, sizeof(*s));
    heap = st_calloc(k ? k : 1, sizeof(*heap));
    if (!heap)
        return st_err(STRATA_NOMEM, "ucs: allocating a sweep heap of %zu", k);
    for (size_t i = 0; i < k; i++) {
        ucs_item *x = sorted[i];
        while (nheap && key_cmp(heap[0]->t->largest, heap[0]->t->largest_len, x->t->smallest,
                                x->t->smallest_len) < 0) {
            if (added) {
                ST_ERR(sets_emit(s, heap, nheap, store));
                added = 0;
            }
            heap_pop(heap, &nheap);
        }
        heap_push(heap, &nheap, x);
        added = 1;
    }
    if (added)
        ST_ERR(sets_emit(s, heap, nheap, store));
    st_free(heap);
    return STRATA_OK;
err:
    st_free(heap);
    sets_free(s);
    return rc;
}

/* Whether sets i and j share a table (stamps are scratch). */
static int
sets_share(const ucs_sets *s, size_t i, size_t j, unsigned *stamp)
{
    unsigned g = ++*stamp;
    for (size_t a = s->start[i]; a < s->start[i + 1]; a++)
        s->members[a]->stamp = g;
    for (size_t a = s->start[j]; a < s->start[j + 1]; a++)
        if (s->members[a]->stamp == g)
            return 1;
    return 0;
}

/* ---- picking ------------------------------------------------------------------------------ */

typedef struct ucs_best {
    ucs_item **members; /* the bucket's tables (deduplicated) */
    size_t n;
    size_t overlap;
    int level;
    int found;
} ucs_best;

/* Scan one level's overlap sets for buckets and keep the best in *best. */
static int
scan_level(const st_ucs_options *o, const ucs_sets *s, int level, unsigned *stamp, ucs_best *best)
{
    size_t thr = (size_t)st_ucs_threshold(o, level);
    if (o->read_threshold && (size_t)o->read_threshold < thr)
        thr = (size_t)o->read_threshold;
    for (size_t i = 0; i < s->nsets; i++) {
        size_t lo = i, hi = i, ov = 0;
        if (s->start[i + 1] - s->start[i] < thr)
            continue;
        while (lo > 0 && sets_share(s, lo - 1, lo, stamp))
            lo--;
        while (hi + 1 < s->nsets && sets_share(s, hi, hi + 1, stamp))
            hi++;
        for (size_t j = lo; j <= hi; j++)
            if (s->start[j + 1] - s->start[j] > ov)
                ov = s->start[j + 1] - s->start[j];
        /* Highest overlap wins; levels are scanned upwards and key order left to right, so a
         * strict comparison sends ties to the lowest level, then the leftmost bucket. */
        if (!best->found || ov > best->overlap) {
            unsigned g = ++*stamp;
            size_t n = 0;
            uint64_t bytes = 0;
            for (size_t a = s->start[lo]; a < s->start[hi + 1]; a++)
                if (s->members[a]->stamp != g) {
                    s->members[a]->stamp = g;
                    bytes += s->members[a]->t->size;
                    n++;
                }
            if (o->max_input_bytes && bytes > o->max_input_bytes) {
                i = hi;
                continue;
            }
            ucs_item **m = st_realloc(best->members, n * sizeof(*m));
            if (!m)
                return st_err(STRATA_NOMEM, "ucs: allocating a bucket of %zu tables", n);
            best->members = m;
            g = ++*stamp;
            n = 0;
            for (size_t a = s->start[lo]; a < s->start[hi + 1]; a++)
                if (s->members[a]->stamp != g) {
                    s->members[a]->stamp = g;
                    m[n++] = s->members[a];
                }
            best->n = n;
            best->overlap = ov;
            best->level = level;
            best->found = 1;
        }
        i = hi;
    }
    return STRATA_OK;
}

/* Tombstone trigger: the non-compacting table with the highest tombstone ratio above the
 * option that overlaps no table holding older data. */
static ucs_item *
tombstone_candidate(const st_ucs_options *o, const ucs_view *v)
{
    ucs_item *best = NULL;
    double best_ratio = 0;
    if (o->tombstone_ratio <= 0)
        return NULL;
    for (size_t i = 0; i < v->n; i++) {
        ucs_item *x = &v->items[i];
        double ratio;
        int blocked = 0;
        if (x->t->compacting || x->t->entries == 0 || x->t->tombstones == 0)
            continue;
        ratio = (double)x->t->tombstones / (double)x->t->entries;
        if (ratio < o->tombstone_ratio || (best && ratio <= best_ratio) ||
            (o->max_input_bytes && x->t->size > o->max_input_bytes))
            continue;
        for (size_t j = 0; j < v->n && !blocked; j++) {
            const st_ucs_table *y = v->items[j].t;
            if (j == i || y->min_seq >= x->t->max_seq)
                continue;
            blocked =
                key_cmp(y->smallest, y->smallest_len, x->t->largest, x->t->largest_len) <= 0 &&
                key_cmp(x->t->smallest, x->t->smallest_len, y->largest, y->largest_len) <= 0;
        }
        if (!blocked) {
            best = x;
            best_ratio = ratio;
        }
    }
    return best;
}

/* The run of fragments to merge. A *first-choice* run is pairwise key-disjoint (tables that
 * overlap are the overlap trigger's to merge) and balanced (its largest table at most the sum of
 * the others, so a fragment that has grown is not rewritten for a few small newcomers); longer
 * runs win, then fewer bytes. A *fallback* run may be anything; the fewest bytes per table it
 * removes win, then longer runs. Ties go to the leftmost. */
typedef struct frag_run {
    int fallback;
    size_t start, len;
    uint64_t bytes;
} frag_run;

static int
run_better(const frag_run *r, size_t len, uint64_t bytes)
{
    if (r->len == 0)
        return 1;
    if (r->fallback) { /* bytes / (len - 1) < r->bytes / (r->len - 1), in integers */
        double a = (double)bytes * (double)(r->len - 1), b = (double)r->bytes * (double)(len - 1);
        if (a != b)
            return a < b;
    }
    return len > r->len || (len == r->len && bytes < r->bytes);
}

/* Offer the runs starting at v->order[i] (key order) of at least need and at most cap tables and
 * at most limit bytes to *best. */
static void
fragment_runs_at(const ucs_view *v, size_t i, size_t need, size_t cap, uint64_t limit,
                 frag_run *best)
{
    uint64_t bytes = 0, big = 0;
    const ucs_item *end = NULL; /* the run's table with the largest key so far */
    for (size_t j = i; j < v->norder && j - i < cap && v->order[j]->t->size <= limit - bytes; j++) {
        const ucs_item *x = v->order[j];
        if (!best->fallback && end &&
            key_cmp(x->t->smallest, x->t->smallest_len, end->t->largest, end->t->largest_len) <= 0)
            return;
        if (!end ||
            key_cmp(x->t->largest, x->t->largest_len, end->t->largest, end->t->largest_len) > 0)
            end = x;
        bytes += x->t->size;
        big = x->t->size > big ? x->t->size : big;
        if (j + 1 - i >= need && (best->fallback || big <= bytes - big) &&
            run_better(best, j + 1 - i, bytes)) {
            best->start = i;
            best->len = j + 1 - i;
            best->bytes = bytes;
        }
    }
}

/* Fragment trigger: among the non-compacting fragments in key order, a first-choice run of at
 * least F' = min(F, max_inputs) of them; once 2 F' fragments exist and there is none, a fallback
 * run. At most max_inputs tables and min(target_size, max_input_bytes) bytes. Any F' fragments
 * fit in target_size bytes (each is below target_size / F), so a settled tree holds fewer than
 * 2 F' fragments unless max_input_bytes is set. Returns the run's length (0: none) and leaves it
 * in v->order[*start ..]. */
static size_t
fragment_run(const st_ucs_options *o, ucs_view *v, size_t *start)
{
    size_t need = (size_t)o->fragment_inputs, cap = (size_t)o->max_inputs;
    uint64_t limit = o->target_size;
    frag_run best = {0, 0, 0, 0};
    if (need == 0)
        return 0;
    if (need > cap)
        need = cap;
    if (o->max_input_bytes && o->max_input_bytes < limit)
        limit = o->max_input_bytes;
    v->norder = 0;
    for (size_t i = 0; i < v->n; i++)
        if (v->items[i].fragment && !v->items[i].t->compacting)
            v->order[v->norder++] = &v->items[i];
    if (v->norder < need)
        return 0;
    qsort(v->order, v->norder, sizeof(*v->order), cmp_smallest);
    for (best.fallback = 0; best.fallback < 2 && best.len == 0; best.fallback++) {
        if (best.fallback && v->norder < 2 * need)
            break;
        for (size_t i = 0; i + need <= v->norder; i++)
            fragment_runs_at(v, i, need, cap, limit, &best);
    }
    *start = best.start;
    return best.len;
}

void
st_ucs_pick_free(st_ucs_pick *p)
{
    if (!p)
        return;
    st_free(p->inputs);
    st_ucs_bounds_free(p->bounds, p->bound_lens, p->nbounds);
    memset(p, 0, sizeof(*p));
}

/* Fill out from the chosen tables (sorted oldest first, already capped); shard = 0 writes one
 * output (no bounds, shards = 1). */
static int
fill_pick(const st_ucs_options *o, const ucs_view *v, ucs_item **sel, size_t n, int shard,
          st_ucs_pick *out)
{
    uint64_t plo = UINT64_MAX, phi = 0, bytes = 0;
    int bits;
    out->inputs = st_calloc(n, sizeof(*out->inputs));
    if (!out->inputs)
        return st_err(STRATA_NOMEM, "ucs: allocating %zu pick inputs", n);
    out->ninputs = n;
    for (size_t i = 0; i < n; i++) {
        out->inputs[i] = sel[i]->idx;
        bytes += sel[i]->t->size;
        if (sel[i]->plo < plo)
            plo = sel[i]->plo;
        if (sel[i]->phi > phi)
            phi = sel[i]->phi;
    }
    out->input_bytes = bytes;
    out->density = (double)bytes / span_of(plo, phi);
    bits = shard ? shard_bits(o, out->density) : 0;
    out->shards = 1ull << bits;
    return space_bounds(&v->sp, bits, plo, phi, &out->bounds, &out->bound_lens, &out->nbounds);
}

int
st_ucs_pick_compaction(const st_ucs_options *o, const st_ucs_table *t, size_t n, st_ucs_pick *out)
{
    int rc;
    ucs_view v;
    ucs_best best;
    ucs_sets s;
    unsigned stamp = 0;
    size_t nrun, start = 0;
    memset(&best, 0, sizeof(best));
    memset(&s, 0, sizeof(s));
    if (!out)
        return st_err(STRATA_INVALID, "ucs: NULL pick");
    memset(out, 0, sizeof(*out));
    ST_RET(validate(o));
    ST_RET(view_build(o, t, n, NULL, 0, NULL, 0, &v));
    view_order(&v, 1, 0);
    for (size_t i = 0; i < v.norder;) {
        size_t j = i;
        while (j < v.norder && v.order[j]->level == v.order[i]->level)
            j++;
        if (j - i >= 2) {
            ST_ERR(overlap_sets(v.order + i, j - i, 1, &s));
            ST_ERR(scan_level(o, &s, v.order[i]->level, &stamp, &best));
            sets_free(&s);
        }
        i = j;
    }
    if (best.found) {
        size_t cap = (size_t)o->max_inputs;
        qsort(best.members, best.n, sizeof(*best.members), cmp_age);
        out->level = best.level;
        out->overlap = best.overlap;
        out->reason = ST_UCS_REASON_OVERLAP;
        ST_ERR(fill_pick(o, &v, best.members, best.n < cap ? best.n : cap, 1, out));
    } else if ((nrun = fragment_run(o, &v, &start)) > 0) {
        qsort(v.order + start, nrun, sizeof(*v.order), cmp_age);
        out->reason = ST_UCS_REASON_FRAGMENTS;
        ST_ERR(fill_pick(o, &v, v.order + start, nrun, 0, out));
        out->level = st_ucs_level_of(o, out->density);
    } else {
        ucs_item *x = tombstone_candidate(o, &v);
        if (!x) {
            rc = STRATA_NOTFOUND;
            goto err;
        }
        out->level = x->level;
        out->overlap = 1;
        out->reason = ST_UCS_REASON_TOMBSTONES;
        ST_ERR(fill_pick(o, &v, &x, 1, 1, out));
    }
    st_free(best.members);
    view_free(&v);
    return STRATA_OK;
err:
    sets_free(&s);
    st_free(best.members);
    view_free(&v);
    st_ucs_pick_free(out);
    return rc;
}

/* ---- stats -------------------------------------------------------------------------------- */

int
st_ucs_stats(const st_ucs_options *o, const st_ucs_table *t, size_t n, st_ucs_level_stats *levels,
             size_t max_levels, size_t *nlevels, size_t *total_overlap)
{
    int rc;
    ucs_view v;
    ucs_sets s;
    size_t nl = 0;
    if (!nlevels || !total_overlap || (max_levels && !levels))
        return st_err(STRATA_INVALID, "ucs: NULL stats output");
    *nlevels = 0;
    *total_overlap = 0;
    ST_RET(validate(o));
    ST_RET(view_build(o, t, n, NULL, 0, NULL, 0, &v));
    view_order(&v, 0, 0);
    if (v.norder)
        nl = (size_t)v.order[v.norder - 1]->level + 1;
    for (size_t l = 0; l < nl && l < max_levels; l++) {
        memset(&levels[l], 0, sizeof(levels[l]));
        levels[l].level = (int)l;
        levels[l].fanout = st_ucs_fanout(o, (int)l);
        levels[l].threshold = st_ucs_threshold(o, (int)l);
    }
    for (size_t i = 0; i < v.norder;) {
        size_t j = i, l = (size_t)v.order[i]->level;
        while (j < v.norder && v.order[j]->level == v.order[i]->level)
            j++;
        if (l < max_levels) {
            ST_ERR(overlap_sets(v.order + i, j - i, 0, &s));
            levels[l].max_overlap = s.max;
            levels[l].tables = j - i;
            uint64_t bytes = 0;
            for (size_t a = 0; a < j - i; a++) {
                bytes += v.order[i + a]->t->size;
                levels[l].fragments += (size_t)v.order[i + a]->fragment;
            }
            levels[l].bytes = bytes;
        }
        i = j;
    }
    view_order(&v, 0, 1); /* all levels at once, in key order */
    ST_ERR(overlap_sets(v.order, v.norder, 0, &s));
    *total_overlap = s.max;
    *nlevels = nl < max_levels ? nl : max_levels;
    view_free(&v);
    return STRATA_OK;
err:
    view_free(&v);
    return rc;
}

int
st_ucs_output_bounds(const st_ucs_options *o, const st_ucs_table *t, size_t n, uint64_t size,
                     const uint8_t *smallest, size_t smallest_len, const uint8_t *largest,
                     size_t largest_len, uint8_t ***bounds, size_t **bound_lens, size_t *nbounds,
                     uint64_t *shards)
{
    int rc, bits;
    ucs_view v;
    uint64_t plo, phi;
    if (!bounds || !bound_lens || !nbounds || !shards)
        return st_err(STRATA_INVALID, "ucs: NULL bounds output");
    *bounds = NULL;
    *bound_lens = NULL;
    *nbounds = 0;
    *shards = 1;
    ST_RET(validate(o));
    if ((smallest_len && !smallest) || (largest_len && !largest) ||
        key_cmp(smallest, smallest_len, largest, largest_len) > 0)
        return st_err(STRATA_INVALID, "ucs: bad output range or table array");
    ST_RET(view_build(o, t, n, smallest, smallest_len, largest, largest_len, &v));
    plo = space_pos(&v.sp, smallest, smallest_len);
    phi = space_pos(&v.sp, largest, largest_len);
    bits = shard_bits(o, (double)size / span_of(plo, phi));
    *shards = 1ull << bits;
    rc = space_bounds(&v.sp, bits, plo, phi, bounds, bound_lens, nbounds);
    view_free(&v);
    return rc;
}

int
st_ucs_overlap_sets(const st_ucs_table *t, size_t n, size_t **members, size_t **starts,
                    size_t *nsets)
{
    int rc;
    st_ucs_options o;
    ucs_view v;
    ucs_sets s;
    if (!members || !starts || !nsets)
        return st_err(STRATA_INVALID, "ucs: NULL overlap-set output");
    *members = NULL;
    *starts = NULL;
    *nsets = 0;
    st_ucs_options_init(&o);
    ST_RET(view_build(&o, t, n, NULL, 0, NULL, 0, &v));
    view_order(&v, 0, 1);
    ST_ERR(overlap_sets(v.order, v.norder, 1, &s));
    *members = st_calloc(s.nmembers ? s.nmembers : 1, sizeof(**members));
    *starts = st_calloc(s.nsets + 1, sizeof(**starts));
    if (!*members || !*starts) {
        rc = st_err(STRATA_NOMEM, "ucs: allocating %zu overlap sets", s.nsets);
        goto err;
    }
    for (size_t i = 0; i < s.nmembers; i++)
        (*members)[i] = s.members[i]->idx;
    for (size_t i = 0; i <= s.nsets && s.nsets; i++)
        (*starts)[i] = s.start[i];
    *nsets = s.nsets;
    sets_free(&s);
    view_free(&v);
    return STRATA_OK;
err:
    st_free(*members);
    st_free(*starts);
    *members = NULL;
    *starts = NULL;
    sets_free(&s);
    view_free(&v);
    return rc;
}
