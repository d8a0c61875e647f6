/* SPDX-License-Identifier: MIT
 * A string-keyed hash map in an arena, remembering insertion order so that
 * plans come out in the order keys were first seen (deterministic, testable).
 * Pure. Keys are borrowed, not copied; entries are never removed.
 *
 * Keys are client-chosen (product, user, order and event ids), so the hash is keyed
 * (SipHash-1-3) by a seed the shell draws from a random source at start: without it
 * anyone who can publish events could pick ids that all land in one probe chain and
 * make every batch quadratic (hash flooding).
 */
#ifndef SHOP_STRMAP_H
#define SHOP_STRMAP_H

#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "base/shop_siphash.h"

struct shop_strmap {
    struct shop_arena *arena;
    struct shop_hash_seed seed;
    const char **keys;
    void **vals;
    size_t cap;     /* power of two */
    size_t n;
    void **order;   /* values in insertion order */
    size_t order_cap;
};

/** A map hashing with the process's default seed: all zero (tests, benches) unless the
 *  shell set one with shop_strmap_seed_default. For maps whose builders are not handed a
 *  seed (the dedup id sets of proj_sql.c). */
void shop_strmap_init(struct shop_strmap *m, struct shop_arena *arena);
/** Sets the default seed; the worker calls it once at start, before any map exists. */
void shop_strmap_seed_default(struct shop_hash_seed seed);
/** A map hashing with seed; the shell passes one random seed per process. */
void shop_strmap_init_seeded(struct shop_strmap *m, struct shop_arena *arena, struct shop_hash_seed seed);
/** The value stored under key, or NULL. */
void *shop_strmap_get(const struct shop_strmap *m, const char *key);
/** Stores val under key, which must not be present yet. */
void shop_strmap_put(struct shop_strmap *m, const char *key, void *val);

#endif
