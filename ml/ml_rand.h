/* SPDX-License-Identifier: MIT
 * Caller-seeded PRNG for ml/: xoshiro256** seeded through splitmix64. Pure; the
 * state lives in the caller's struct, so runs are reproducible and there are no globals.
 */
#ifndef SHOP_ML_RAND_H
#define SHOP_ML_RAND_H

#include <stdint.h>

struct shop_ml_rand {
    uint64_t s[4];
};

/** Seeds r from one 64-bit value (any value, including 0, gives a valid state). */
void shop_ml_rand_init(struct shop_ml_rand *r, uint64_t seed);
/** Next 64 uniformly random bits. */
uint64_t shop_ml_rand_u64(struct shop_ml_rand *r);
/** Uniform double in [0, 1) with 53 random bits. */
double shop_ml_rand_unit(struct shop_ml_rand *r);
/** Uniform integer in [0, n) without modulo bias; n must be > 0. */
uint64_t shop_ml_rand_below(struct shop_ml_rand *r, uint64_t n);
/** One splitmix64 step: advances *state and returns a well-mixed value. */
uint64_t shop_ml_splitmix64(uint64_t *state);

#endif
