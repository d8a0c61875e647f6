/* SPDX-License-Identifier: MIT
 * The fold's data, shared by proj_fold.c (which fills it) and proj_plan.c (which
 * turns it into statements). Pure. Everything lives in the fold's arena.
 */
#ifndef SHOP_PROJ_INTERNAL_H
#define SHOP_PROJ_INTERNAL_H

#include "workers/core/proj.h"
#include "workers/core/strmap.h"

/* Net effect on one products row. Stock is the inventory worker's (inventory_stock). */
struct proj_product {
    const char *product_id;
    bool has_catalog;          /* a product_upserted was folded: catalog fields are set */
    const char *name, *category, *currency;
    bool has_price;
    int64_t price_minor;
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
    const char *user_id;       /* the owner: who placed it */
    bool placed_here;          /* created by this batch: insert, else update */
    bool changed;              /* an existing order took a step: update */
    enum shop_order_status status_before, status;
    const char *rejection;     /* orders.rejection JSON, set when it moved to rejected here */
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

/* Where an order step came from: a record of this batch or a parked decision. */
struct proj_src {
    const char *event_id, *type, *user_id, *actor_role, *topic;
    int32_t partition;
    int64_t offset;
    int64_t at_ms;
};

/* A refused order event, for refused_events. */
struct proj_refusal {
    struct proj_src src;
    const char *order_id;
    const char *reason;
    enum shop_order_status status;   /* the order's when refused */
};

/* A decision waiting for its order's placement. stored: read from order_decisions_pending
 * (delete it once resolved); else consumed in this batch (insert it unless resolved). */
struct proj_parked {
    struct proj_src src;
    const char *order_id;
    enum shop_order_step step;
    const char *rejection;
    bool stored, resolved;
    struct proj_parked *next_of_order;
};

struct proj_offset {
    const char *topic;
    int32_t partition;
    int64_t next_offset;
};

struct shop_proj_fold {
    struct shop_arena *arena;
    struct shop_strmap products, lines, users, orders, offsets, parked;  /* parked: first of an order */
    struct proj_history *history;
    size_t n_history, cap_history;
    struct proj_refusal *refusals;
    size_t n_refusals, cap_refusals;
    struct proj_parked **parked_all;   /* in arrival order */
    const char *gated;                 /* order_gate ids to delete (array literal), or NULL */
    size_t n_parked, cap_parked;
    struct shop_proj_stats stats;
};

/* The order an order or inventory event names; NULL for any other event. */
const char *proj_order_id_of(const Shopstream__V1__Event *ev);

#endif
