/* SPDX-License-Identifier: MIT
 * SipHash (Aumasson & Bernstein): the keyed hash of every table keyed by what a client
 * chose (the worker's fold maps, the edge's rate-limit buckets), so that nobody who
 * does not know the process's random seed can aim keys at one slot. Pure.
 */
#ifndef SHOP_SIPHASH_H
#define SHOP_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/** The 128-bit SipHash key. All zero is a valid key, for tests and benches only. */
struct shop_hash_seed {
    uint64_t k0, k1;
};

/** SipHash with c compression and d finalisation rounds of msg[0..len) under seed, 64-bit
 *  output (SipHash-2-4 is the reference; hash tables on the hot path use 1-3). */
uint64_t shop_siphash(int c, int d, struct shop_hash_seed seed, const void *msg, size_t len);

/** SipHash-2-4 under the key (k0, k1). */
static inline uint64_t shop_siphash24(uint64_t k0, uint64_t k1, const void *msg, size_t len)
{
    return shop_siphash(2, 4, (struct shop_hash_seed){k0, k1}, msg, len);
}

#endif
