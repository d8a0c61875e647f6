/* SPDX-License-Identifier: MIT
 * Open-addressing string map (SipHash-1-3 keyed by a per-process seed, linear
 * probing) in an arena. Pure.
 */
#include "workers/core/strmap.h"

#include <string.h>

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
