/* SPDX-License-Identifier: Apache-2.0 */
/*
 * random.h -- small fast PRNG (xoshiro256**, seeded through splitmix64). Not thread-safe: give
 * each thread its own st_rng. Used by the skiplist (node heights), tests and the benchmark.
 */
#ifndef ST_UTIL_RANDOM_H
#define ST_UTIL_RANDOM_H

#include <stdint.h>

typedef struct st_rng {
    uint64_t s[4];
} st_rng;

static inline uint64_t
st_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void
st_rng_seed(st_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = st_splitmix64(&seed);
}

static inline uint64_t
st_rng_next(st_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform in [0, n); n > 0. */
static inline uint64_t
st_rng_uniform(st_rng *r, uint64_t n)
{
    return st_rng_next(r) % n;
}

#endif
