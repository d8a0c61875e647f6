/* SPDX-License-Identifier: MIT
 * xoshiro256** (Blackman & Vigna 2018) with splitmix64 seeding. Pure.
 */
#include "ml/ml_rand.h"

uint64_t shop_ml_splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void shop_ml_rand_init(struct shop_ml_rand *r, uint64_t seed)
{
    /* splitmix64 never yields four zero words, the one state xoshiro cannot leave. */
    for (int i = 0; i < 4; i++)
        r->s[i] = shop_ml_splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t shop_ml_rand_u64(struct shop_ml_rand *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double shop_ml_rand_unit(struct shop_ml_rand *r)
{
    return (double)(shop_ml_rand_u64(r) >> 11) * 0x1.0p-53;
}

uint64_t shop_ml_rand_below(struct shop_ml_rand *r, uint64_t n)
{
    /* Rejection keeps small n unbiased: drop draws from the incomplete last block. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = shop_ml_rand_u64(r);
    while (x >= limit);
    return x % n;
}
