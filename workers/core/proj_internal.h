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
    int sale;                  /* net change of "reached paid" in this batch: -1, 0 or +1 */
    int64_t paid_at_ms;        /* the payment's occurred_at when sale is +1 */
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

/* Net effect on one user_activity row: counters and the span of occurred_at seen. */
struct proj_activity {
    const char *user_id;
    int64_t views, searches, cart_adds, orders;
    int64_t first_ms, last_ms;
};

/* Net effect on one product_daily row's views. */
struct proj_product_day {
    const char *product_id;
    int32_t day;                /* UTC days since 1970-01-01 */
    int64_t views;
};

/* Net effect on one funnel_daily row of a stage the fold sees (viewed, carted, placed;
 * paid is resolved in SQL from the orders' sale changes). */
struct proj_funnel {
    const char *stage, *user_id;
    int32_t day;
    int64_t n;
};

struct proj_offset {
    const char *topic;
    int32_t partition;
    int64_t next_offset;
};

struct shop_proj_fold {
    struct shop_arena *arena;
    struct shop_strmap products, lines, users, orders, offsets, parked;  /* parked: first of an order */
    struct shop_strmap activity, product_days, funnel;                   /* 0009_analytics.sql */
    struct proj_history *history;
    size_t n_history, cap_history;
    struct proj_refusal *refusals;
    size_t n_refusals, cap_refusals;
    struct proj_parked **parked_all;   /* in arrival order */
    const char *gated;                 /* order_gate ids to delete (array literal), or NULL */
    size_t n_parked, cap_parked;
    struct shop_proj_stats stats;
};

/* The UTC day of an epoch-milliseconds time: days since 1970-01-01, rounded down. */
int32_t proj_utc_day(int64_t ms);

/* proj_analytics.c: notes an applied browse, cart or placement event in the activity,
 * daily views and funnel; notes an order's move to next (paid reached or left). */
void proj_activity_note(struct shop_proj_fold *f, const Shopstream__V1__Event *ev);
void proj_sale_note(struct proj_order *o, enum shop_order_status next, int64_t at_ms);
/* The statements that run before products_upsert (locks, category moves) and after the
 * order history (sales, activity, daily views, funnel). */
void proj_analytics_plan_before(const struct shop_proj_fold *f, struct shop_plan *plan);
void proj_analytics_plan_after(const struct shop_proj_fold *f, struct shop_plan *plan);

/* The order an order or inventory event names; NULL for any other event. */
const char *proj_order_id_of(const Shopstream__V1__Event *ev);

#endif
