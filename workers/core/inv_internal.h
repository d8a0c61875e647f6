/* SPDX-License-Identifier: MIT
 * The inventory fold's data, shared by inv_fold.c (which fills it) and inv_plan.c
 * (which turns it into statements). Pure. Everything lives in the fold's arena.
 */
#ifndef SHOP_INV_INTERNAL_H
#define SHOP_INV_INTERNAL_H

#include "workers/core/inv.h"
#include "workers/core/strmap.h"

/* One product's stock as the batch leaves it. Values are absolute: the row was locked
 * (or did not exist) when the batch read it. */
struct inv_product {
    const char *product_id;
    bool stored;               /* the row existed when the batch locked it */
    bool dirty;                /* the batch changed it: write it */
    int64_t on_hand, reserved;
    bool has_threshold;
    int64_t threshold;
    bool has_price;
    int64_t price_minor;
    const char *currency;
    int64_t at_ms;
};

/* The units of one product an order holds. */
struct inv_hold_line {
    const char *product_id;
    int64_t quantity;
};

struct inv_order {
    const char *order_id, *user_id;
    bool stored;               /* read from inventory_orders, else placed by this batch */
    bool dirty;
    bool hold_changed;         /* a stored order's reservation state moved */
    enum shop_order_status status;
    enum shop_inv_hold hold;
    enum shop_inv_reason reason;
    const char *placed_event_id;
    int64_t placed_at_ms, updated_at_ms;
    struct inv_hold_line *lines;
    size_t n_lines, cap_lines;
};

struct inv_offset {
    const char *topic;
    int32_t partition;
    int64_t next_offset;
};

struct shop_inv_fold {
    struct shop_arena *arena;
    struct shop_hash_seed seed;
    int64_t default_threshold;
    struct shop_strmap products, orders, offsets;
    struct shop_inv_outcome *outcomes;
    size_t n_outcomes, cap_outcomes;
    struct shop_inv_refused *refusals;
    size_t n_refusals, cap_refusals;
    struct shop_inv_stats stats;
};

/* Grows an arena array of elem-sized items to hold one more (the old block is
 * abandoned until the arena resets). */
void *inv_grow(struct shop_arena *arena, void *items, size_t n, size_t *cap, size_t elem);

#endif
