/* SPDX-License-Identifier: MIT
 * A string-keyed hash map in an arena, remembering insertion order so that
 * plans come out in the order keys were first seen (deterministic, testable).
 * Pure. Keys are borrowed, not copied; entries are never removed.
 */
#ifndef SHOP_STRMAP_H
#define SHOP_STRMAP_H

#include <stddef.h>

#include "base/shop_arena.h"

struct shop_strmap {
    struct shop_arena *arena;
    const char **keys;
    void **vals;
    size_t cap;     /* power of two */
    size_t n;
    void **order;   /* values in insertion order */
    size_t order_cap;
};

void shop_strmap_init(struct shop_strmap *m, struct shop_arena *arena);
/** The value stored under key, or NULL. */
void *shop_strmap_get(const struct shop_strmap *m, const char *key);
/** Stores val under key, which must not be present yet. */
void shop_strmap_put(struct shop_strmap *m, const char *key, void *val);

#endif
