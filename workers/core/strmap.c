/* SPDX-License-Identifier: MIT
 * Open-addressing string map (SipHash-1-3 keyed by a per-process seed, linear
 * probing) in an arena. Pure.
 */
#include "workers/core/strmap.h"

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

static inline size_t hash(const struct shop_strmap *m, const char *s)
{
    return (size_t)shop_siphash(1, 3, m->seed, s, strlen(s));
}

void shop_strmap_init_seeded(struct shop_strmap *m, struct shop_arena *arena, struct shop_hash_seed seed)
{
    m->arena = arena;
    m->seed = seed;
    m->cap = 64;
    m->n = 0;
    m->keys = shop_arena_alloc(arena, m->cap * sizeof(*m->keys));
    m->vals = shop_arena_alloc(arena, m->cap * sizeof(*m->vals));
    m->order_cap = 32;
    m->order = shop_arena_alloc(arena, m->order_cap * sizeof(*m->order));
}

/* Set once by the shell before the first map is built (and before any thread). */
static struct shop_hash_seed default_seed;

void shop_strmap_seed_default(struct shop_hash_seed seed)
{
    default_seed = seed;
}

void shop_strmap_init(struct shop_strmap *m, struct shop_arena *arena)
{
    shop_strmap_init_seeded(m, arena, default_seed);
}

static size_t slot_of(const struct shop_strmap *m, const char **keys, size_t cap, const char *key)
{
    size_t i = hash(m, key) & (cap - 1);
    while (keys[i] != NULL && strcmp(keys[i], key) != 0)
        i = (i + 1) & (cap - 1);
    return i;
}

void *shop_strmap_get(const struct shop_strmap *m, const char *key)
{
    size_t i = slot_of(m, m->keys, m->cap, key);
    return m->keys[i] == NULL ? NULL : m->vals[i];
}

static void grow(struct shop_strmap *m)
{
    size_t cap = m->cap * 2;
    const char **keys = shop_arena_alloc(m->arena, cap * sizeof(*keys));
    void **vals = shop_arena_alloc(m->arena, cap * sizeof(*vals));
    for (size_t i = 0; i < m->cap; i++) {
        if (m->keys[i] == NULL)
            continue;
        size_t j = slot_of(m, keys, cap, m->keys[i]);
        keys[j] = m->keys[i];
        vals[j] = m->vals[i];
    }
    m->keys = keys;
    m->vals = vals;
    m->cap = cap;
}

void shop_strmap_put(struct shop_strmap *m, const char *key, void *val)
{
    if (2 * (m->n + 1) > m->cap)   /* keep the load factor at most 1/2 */
        grow(m);
    size_t i = slot_of(m, m->keys, m->cap, key);
    m->keys[i] = key;
    m->vals[i] = val;
    if (m->n == m->order_cap) {
        void **order = shop_arena_alloc(m->arena, 2 * m->order_cap * sizeof(*order));
        memcpy(order, m->order, m->n * sizeof(*order));
        m->order = order;
        m->order_cap *= 2;
    }
    m->order[m->n++] = val;
}
