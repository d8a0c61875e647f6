/* SPDX-License-Identifier: MIT
 * The fold's data, shared by proj_fold.c (which fills it) and proj_plan.c (which
 * turns it into statements). Pure. Everything lives in the fold's arena.
 */
#ifndef SHOP_PROJ_INTERNAL_H
#define SHOP_PROJ_INTERNAL_H

#include "workers/core/proj.h"
#include "workers/core/strmap.h"

/* Net effect on one products row. */
struct proj_product {
    const char *product_id;
    bool has_catalog;          /* a product_upserted was folded: catalog fields are set */
    const char *name, *category, *currency;
    bool has_price;
    int64_t price_minor;
    bool stock_abs;            /* stock is an absolute value, else a delta */
    int64_t stock;
    int64_t views, purchases;  /* deltas */
    int64_t updated_at_ms;
};

enum proj_line_mode { LINE_REL, LINE_ABS };

/* Net effect on one cart_items row: "relative +quantity" or "absolute quantity"
 * (0 = delete). fresh: the line went through zero in this batch, so the row that
 * existed before the batch (and its price) must be deleted first. */
struct proj_cart_line {
    const char *user_id, *product_id;
    enum proj_line_mode mode;
    int64_t quantity;
    bool fresh;
    bool has_price;
    int64_t price_minor;
    const char *currency;
    int64_t updated_at_ms;
    struct proj_cart_line *next_of_user;
};

struct proj_cart_user {
    const char *user_id;
    bool cleared;              /* delete every line of the user before the line effects */
    int64_t updated_at_ms;
    struct proj_cart_line *lines;
};

struct proj_order_line {
    const char *product_id;
    int64_t quantity;
    int64_t unit_price_minor;
    const char *currency;
};

struct proj_order {
    const char *order_id;
    const char *user_id;
    bool placed_here;          /* created by this batch: insert, else update */
    enum shop_order_status status_before, status;
    int64_t total_minor;
    const char *currency;
    int64_t placed_at_ms, updated_at_ms;
    struct proj_order_line *lines;
    size_t n_lines, cap_lines;
};

struct proj_history {
    const char *order_id;
    enum shop_order_status status;
    int64_t at_ms;
    const char *event_id;
};

struct proj_offset {
    const char *topic;
    int32_t partition;
    int64_t next_offset;
};

struct shop_proj_fold {
    struct shop_arena *arena;
    struct shop_strmap products, lines, users, orders, offsets;
    struct proj_history *history;
    size_t n_history, cap_history;
    struct shop_proj_stats stats;
};

#endif
