/* SPDX-License-Identifier: Apache-2.0 */
/*
 * db_options.c -- the versioned public structs: taking a caller's struct of any released layout
 * (struct_size) into this library's current one.
 *
 * Each struct has a list of layouts, oldest first, each given by the end of its last field. A
 * caller built against a layout passes struct_size = sizeof(that layout), that is the end
 * rounded up to the struct's alignment, and only the bytes up to that layout's last field are
 * read. Layouts with the same sizeof cannot be told apart; the OLDEST of them is assumed, so a
 * field a newer layout placed in an older layout's tail padding is never read from a struct of
 * that size (where an older caller may have left garbage): it takes its default. That is the
 * case of max_open_files, which sits in the tail padding of the 0.1.0 strata_options (on LP64).
 *
 * Adding a field: append it to the struct in strata.h and its end to the matching *_ends list
 * below. The current layout's sizeof must differ from every older one (else its new fields would
 * never be read from a struct of that size): when a new field would fit in the tail padding,
 * add a `reserved` field with it. tests/db/test_abi.c checks both.
 */
#include "db/db_impl.h"

#include <stdalign.h>
#include <stdio.h>
#include <string.h>

/* the full-size functions themselves (strata.h routes calls to the sized ones) */
#undef strata_options_init
#undef strata_read_options_init
#undef strata_write_options_init

void
strata_options_init(strata_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof(*o));
    o->struct_size = sizeof(*o);
    o->create_if_missing = 1;
    o->memtable_kind = STRATA_MEMTABLE_TRIE;
    o->write_buffer_size = 16u << 20;
    o->max_immutable_memtables = 4;
    o->wal_recovery_mode = STRATA_WAL_RECOVERY_TOLERATE_TAIL;
    o->compression = STRATA_COMPRESSION_LZ4;
    o->compression_level = 1;
    o->block_cache_size = 32u << 20;
    o->bloom_bits_per_key = 10;
    o->page_size = 4u << 10;
    o->bottommost_page_size = 8u << 10;
    o->target_file_size = 64u << 20;
    o->background_threads = 2;
    o->ucs_scaling[0] = 2;
    o->ucs_scaling_count = 1;
    o->ucs_base_shards = 4;
    o->max_open_files = 1000;
    o->bottommost_compression = STRATA_COMPRESSION_LZ4;
}

void
strata_read_options_init(strata_read_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof(*o));
    o->struct_size = sizeof(*o);
    o->verify_checksums = 1;
    o->fill_cache = 1;
}

void
strata_write_options_init(strata_write_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof(*o));
    o->struct_size = sizeof(*o);
}

#define END(type, field) (offsetof(type, field) + sizeof(((type *)0)->field))
#define ROUND_UP(n, a) (((n) + (a)-1) / (a) * (a))

static const size_t options_ends[] = {
    END(strata_options, ucs_base_shards),        /* 0.1.0 */
    END(strata_options, max_open_files),         /* sorted runs and the table cache */
    END(strata_options, bottommost_compression), /* the bottommost codec (now LZ4) */
    END(strata_options, reserved_),              /* read-only open (+ reserved_ padding) */
    END(strata_options, bottommost_page_size),   /* 4 KiB pages above, 8 KiB at the bottom */
    END(strata_options, memory_budget)           /* one memory budget */
};
static const size_t read_options_ends[] = {
    END(strata_read_options, upper_bound_len), /* 0.1.0 */
    END(strata_read_options, prefix_len)       /* prefix iteration */
};
static const size_t write_options_ends[] = {
    END(strata_write_options, disable_wal) /* 0.1.0 */
};
static const size_t stats_ends[] = {END(strata_stats, reserved), /* first release */
                                    END(strata_stats, read_compactions),
                                    END(strata_stats, cache_pinned)};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Bytes of a caller's struct of struct_size n to read (or fill): the end of the last field of
 * the oldest layout whose sizeof is n (the newest for 0 or the current sizeof); 0 when n is no
 * released layout's size. */
static size_t
layout_bytes(size_t n, const size_t *ends, size_t nends, size_t align, size_t full)
{
    if (n == 0 || n == full)
        return ends[nends - 1];
    for (size_t i = 0; i < nends; i++)
        if (ROUND_UP(ends[i], align) == n)
            return ends[i];
    return 0;
}

size_t
st_db_layouts(int which, const size_t **ends, size_t *align)
{
    switch (which) {
    case 0:
        *ends = options_ends;
        *align = alignof(strata_options);
        return NELEM(options_ends);
    case 1:
        *ends = read_options_ends;
        *align = alignof(strata_read_options);
        return NELEM(read_options_ends);
    case 2:
        *ends = write_options_ends;
        *align = alignof(strata_write_options);
        return NELEM(write_options_ends);
    default:
        *ends = stats_ends;
        *align = alignof(strata_stats);
        return NELEM(stats_ends);
    }
}

static int
bad_size(const char *what, size_t n, const size_t *ends, size_t nends, size_t align)
{
    char list[128];
    size_t used = 0;
    list[0] = '\0';
    for (size_t i = 0; i < nends && used < sizeof(list); i++) {
        int k = snprintf(list + used, sizeof(list) - used, "%s%zu", i ? ", " : "",
                         ROUND_UP(ends[i], align));
        if (k < 0)
            break;
        used += (size_t)k;
    }
    return st_err(STRATA_INVALID,
                  "%s.struct_size is %zu, this library accepts the sizes of its released layouts "
                  "(%s; 0 = the newest): initialise the struct with its *_init function",
                  what, n, list);
}

/* *dst (defaults already set by the caller) overlaid with the fields of *src's layout. */
static int
take(void *dst, const void *src, size_t n, const size_t *ends, size_t nends, size_t align,
     size_t full, const char *what)
{
    size_t bytes = layout_bytes(n, ends, nends, align, full);
    if (bytes == 0)
        return bad_size(what, n, ends, nends, align);
    /* struct_size itself is the first field: keep the library's value */
    memcpy((char *)dst + sizeof(size_t), (const char *)src + sizeof(size_t),
           bytes - sizeof(size_t));
    return STRATA_OK;
}

int
st_db_options_from_user(const strata_options *o, strata_options *out)
{
    strata_options_init(out);
    return take(out, o, o->struct_size, options_ends, NELEM(options_ends), alignof(strata_options),
                sizeof(*out), "strata_options");
}

int
st_db_read_options_from_user(const strata_read_options *o, strata_read_options *out)
{
    strata_read_options_init(out);
    if (!o)
        return STRATA_OK;
    return take(out, o, o->struct_size, read_options_ends, NELEM(read_options_ends),
                alignof(strata_read_options), sizeof(*out), "strata_read_options");
}

int
st_db_write_options_from_user(const strata_write_options *o, strata_write_options *out)
{
    strata_write_options_init(out);
    if (!o)
        return STRATA_OK;
    return take(out, o, o->struct_size, write_options_ends, NELEM(write_options_ends),
                alignof(strata_write_options), sizeof(*out), "strata_write_options");
}

int
st_db_stats_to_user(const strata_stats *s, strata_stats *out)
{
    size_t n = out->struct_size;
    size_t bytes = n == 0           ? 0
                   : n > sizeof(*s) ? sizeof(*s)
                                    : layout_bytes(n, stats_ends, NELEM(stats_ends),
                                                   alignof(strata_stats), sizeof(*s));
    if (bytes == 0)
        return bad_size("strata_stats", n, stats_ends, NELEM(stats_ends), alignof(strata_stats));
    if (n > sizeof(*s)) /* a newer caller: the fields this library does not know read 0 */
        memset((char *)out + sizeof(*s), 0, n - sizeof(*s));
    memcpy((char *)out + sizeof(size_t), (const char *)s + sizeof(size_t), bytes - sizeof(size_t));
    out->struct_size = bytes;
    return STRATA_OK;
}

/* ---- the sized *_init functions ------------------------------------------------------------ */

/* Write the first `size` bytes of the defaults `full` (fsize bytes) to o, zeros past fsize, and
 * struct_size = size. */
static void
init_into(void *o, const void *full, size_t fsize, size_t size)
{
    if (!o || size < sizeof(size_t))
        return;
    memcpy(o, full, size < fsize ? size : fsize);
    if (size > fsize)
        memset((char *)o + fsize, 0, size - fsize);
    memcpy(o, &size, sizeof(size));
}

/* name##_sized: the defaults of the full-size function `name` (in parentheses: not the macro of
 * strata.h) written into the caller's struct of `size` bytes. */
#define SIZED_INIT(name, type)                                                                     \
    void name##_sized(type *o, size_t size)                                                        \
    {                                                                                              \
        type d;                                                                                    \
        (name)(&d);                                                                                \
        init_into(o, &d, sizeof(d), size);                                                         \
    }

SIZED_INIT(strata_options_init, strata_options)
SIZED_INIT(strata_read_options_init, strata_read_options)
SIZED_INIT(strata_write_options_init, strata_write_options)

void
strata_stats_init_sized(strata_stats *s, size_t size)
{
    strata_stats d;
    memset(&d, 0, sizeof(d));
    init_into(s, &d, sizeof(d), size);
}
