/* SPDX-License-Identifier: MIT
 * SipHash-c-d, 64-bit output (https://www.aumasson.jp/siphash/siphash.pdf). Pure. */
#include "base/shop_siphash.h"

#include <string.h>

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)                                                                                  \
    do {                                                                                                          \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                                                 \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                                                    \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                                                    \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                                                 \
    } while (0)

/* Little-endian load of the n < 8 bytes of the tail. */
static inline uint64_t load_le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

uint64_t shop_siphash(int c, int d, struct shop_hash_seed seed, const void *msg, size_t len)
{
    const unsigned char *p = msg;
    uint64_t v0 = 0x736f6d6570736575ULL ^ seed.k0, v1 = 0x646f72616e646f6dULL ^ seed.k1;
    uint64_t v2 = 0x6c7967656e657261ULL ^ seed.k0, v3 = 0x7465646279746573ULL ^ seed.k1;
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m;
        memcpy(&m, p + i, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        m = __builtin_bswap64(m);
#endif
        v3 ^= m;
        for (int r = 0; r < c; r++)
            SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    uint64_t last = ((uint64_t)len << 56) | load_le(p + whole, len % 8);
    v3 ^= last;
    for (int r = 0; r < c; r++)
        SIPROUND(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    for (int r = 0; r < d; r++)
        SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}
