/* SPDX-License-Identifier: MIT
 * The inventory role's pure core: folds one batch of new catalog and order events into
 * the stock, reservations and outcomes of the products and orders it touches, and
 * plans the statements that write them. Nothing here runs SQL or reads a clock.
 * Invariant: no product's reserved exceeds its on_hand, and an order reserves every
 * line or none (docs/inventory.md).
 *
 * Per batch the shell does (after the dedup of the projector's applied_events):
 *   1. shop_inv_build_order_read   -> the orders new order events name, locked in
 *      shop_inv_fold_known_order      order_id order, one call per row
 *   2. shop_inv_build_stock_lock   -> the products the batch touches, locked in
 *      shop_inv_fold_known_product    product_id order, one call per row
 *   3. shop_inv_fold_event         for each new event, in batch order
 *      shop_inv_fold_offset        for each record
 *   4. shop_inv_plan_build         -> the writes, the outbox rows and the offsets last.
 */
#ifndef SHOP_INV_H
#define SHOP_INV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"
#include "shopstream/v1/events.pb-c.h"
#include "workers/core/order_life.h"
#include "workers/core/proj.h"
#include "workers/core/strmap.h"

/** What folding one event did. */
enum shop_inv_result {
    SHOP_INV_APPLIED = 0,
    SHOP_INV_IGNORED,    /* nothing for the inventory (browse, cart, ...) */
    SHOP_INV_REFUSED,    /* not applied, recorded with order_life's reason */
    SHOP_INV_OVERFLOW    /* on_hand would leave int64: nothing changed, dead-letter it */
};

/** Why an order.placed was rejected (the order's one outcome then is "rejected"). */
enum shop_inv_reason {
    SHOP_INV_REASON_NONE = 0,
    SHOP_INV_UNKNOWN_PRODUCT,   /* the catalog never priced a product */
    SHOP_INV_PRICE_MISMATCH,    /* a shopper's line price differs from the catalog's */
    SHOP_INV_OUT_OF_STOCK       /* fewer available units than the order asks for */
};

/** The kinds of outcome event, published on the inventory topic. */
enum shop_inv_kind {
    SHOP_INV_RESERVED = 0,
    SHOP_INV_REJECTED,
    SHOP_INV_RELEASED,
    SHOP_INV_COMMITTED,
    SHOP_INV_LOW_STOCK,
    SHOP_INV_KIND_COUNT
};

/** The units an order holds (inventory_reservations.state, one for all its lines). */
enum shop_inv_hold {
    SHOP_INV_HOLD_NONE = 0,     /* rejected: holds nothing */
    SHOP_INV_HOLD_HELD,
    SHOP_INV_HOLD_RELEASED,
    SHOP_INV_HOLD_COMMITTED
};

const char *shop_inv_reason_name(enum shop_inv_reason r);
/** "inventory.reserved", ... : the outcome's event type. */
const char *shop_inv_kind_type(enum shop_inv_kind k);
const char *shop_inv_hold_name(enum shop_inv_hold h);
enum shop_inv_hold shop_inv_hold_parse(const char *s);

/** One line of an outcome: the order's units of a product (reserved, released,
 *  committed), or a short line of a rejection with what the product has. */
struct shop_inv_line {
    const char *product_id;
    int64_t requested;          /* units of the product in the order, lines summed */
    int64_t available;          /* at the decision; 0 for an unknown product */
    bool has_price;             /* the catalog's price is known */
    int64_t price_minor;
    const char *currency;
};

/** One outcome event decided by the fold. Strings live in the fold's arena. */
struct shop_inv_outcome {
    enum shop_inv_kind kind;
    char event_id[37];          /* UUID v5, deterministic (shop_inv_outcome_id) */
    const Shopstream__V1__Event *cause;   /* the event that decided it */
    const char *key;            /* Kafka key: the order id, or the product id (low stock) */
    const char *order_id;       /* NULL for low stock */
    const char *user_id;        /* the order's owner; NULL for low stock */
    enum shop_inv_reason reason;
    struct shop_inv_line *lines;
    size_t n_lines;
    /* low stock: the product after the event */
    int64_t on_hand, reserved, available, threshold;
};

/** One refused event, for inventory_refused and the stats. */
struct shop_inv_refused {
    const Shopstream__V1__Event *ev;
    const char *order_id;
    const char *reason;         /* SHOP_REFUSE_* of order_life.h */
};

struct shop_inv_stats {
    size_t applied, ignored, refused, overflow, reserved, rejected, released, committed, low_stock;
    int64_t shortfall;          /* units a catalog count or delta wanted below the reserved units */
};

/** The deterministic id of an outcome: UUID v5 (SHA-1, libuuid) in Shopstream's inventory
 *  namespace of "<type>/<order id>" (per order one of each kind) or, for low stock,
 *  "<type>/<cause event id>/<product id>". Writes 36 characters and a NUL to out. */
void shop_inv_outcome_id(enum shop_inv_kind kind, const char *order_id, const char *cause_id,
                         const char *product_id, char out[37]);

struct shop_inv_fold;

/** A fold in arena. default_threshold is SHOPSTREAM_INVENTORY_LOW_STOCK: a product whose
 *  row has no low_stock_threshold is low below it. */
struct shop_inv_fold *shop_inv_fold_new(struct shop_arena *arena, struct shop_hash_seed seed,
                                        int64_t default_threshold);

/** Statement 1: order_id, user_id, status, hold, product_id, quantity of the stored orders
 *  that new order events name, locked (FOR UPDATE) in order_id order. Returns the
 *  number of ids; 0 means nothing to read. */
size_t shop_inv_build_order_read(const struct shop_proj_record *recs, const bool *is_new, size_t n,
                                 struct shop_arena *arena, struct shop_sql_stmt *out);
/** Feeds one row of statement 1; product_id is NULL for an order holding nothing.
 *  Strings are copied. SHOP_EINVAL when a status or hold is not one the schema allows. */
int shop_inv_fold_known_order(struct shop_inv_fold *f, const char *order_id, const char *user_id,
                              const char *status, const char *hold, const char *product_id, int64_t quantity);

/** Statement 2: the stock rows of every product the new events touch (catalog products,
 *  the lines of new orders, what known orders hold), locked in product_id order so that
 *  instances never deadlock. Call after every row of statement 1. Returns the number
 *  of products; 0 means nothing to lock. */
size_t shop_inv_build_stock_lock(struct shop_inv_fold *f, const struct shop_proj_record *recs, const bool *is_new,
                                 size_t n, struct shop_sql_stmt *out);
/** Feeds one row of statement 2. has_threshold/has_price false for NULL columns. Copied. */
void shop_inv_fold_known_product(struct shop_inv_fold *f, const char *product_id, int64_t on_hand,
                                 int64_t reserved, bool has_threshold, int64_t threshold, bool has_price,
                                 int64_t price_minor, const char *currency, int64_t at_ms);

/** Folds one new, validated event; ev must outlive the plan. */
enum shop_inv_result shop_inv_fold_event(struct shop_inv_fold *f, const Shopstream__V1__Event *ev);
/** Records that (topic, partition) was consumed up to next_offset (exclusive). */
void shop_inv_fold_offset(struct shop_inv_fold *f, const char *topic, int32_t partition, int64_t next_offset);

const struct shop_inv_stats *shop_inv_fold_stats(const struct shop_inv_fold *f);
/** The outcomes decided so far, in decision order. */
const struct shop_inv_outcome *shop_inv_fold_outcomes(const struct shop_inv_fold *f, size_t *n);
/** The refused events so far, in batch order. */
const struct shop_inv_refused *shop_inv_fold_refusals(const struct shop_inv_fold *f, size_t *n);

/** A product's state in the fold (tests, the bench's cross-check); NULL if untouched. */
struct shop_inv_stock {
    int64_t on_hand, reserved;
    bool has_price;
    int64_t price_minor;
};
bool shop_inv_fold_stock(const struct shop_inv_fold *f, const char *product_id, struct shop_inv_stock *out);
/** An order's state in the fold; false if the fold does not know it. */
bool shop_inv_fold_order(const struct shop_inv_fold *f, const char *order_id, enum shop_order_status *status,
                         enum shop_inv_hold *hold);

/** Appends the writes (stock, orders, reservations, refusals, outbox) and, last, the
 *  consumer_offsets upsert. group names the consumer group; topic is the inventory
 *  topic's full name; now_ms stamps bookkeeping columns only. */
int shop_inv_plan_build(const struct shop_inv_fold *f, const char *group, const char *topic, int64_t now_ms,
                        struct shop_plan *plan, struct shop_err *err);

/** Serializes an outcome as a shopstream.v1.Event into arena (*out, *len). */
int shop_inv_outcome_encode(const struct shop_inv_outcome *oc, struct shop_arena *arena, uint8_t **out,
                            size_t *len, struct shop_err *err);

extern const char SHOP_INV_SQL_ORDER_READ[];
extern const char SHOP_INV_SQL_STOCK_LOCK[];
extern const char SHOP_INV_SQL_STOCK_UPSERT[];
extern const char SHOP_INV_SQL_ORDERS_INSERT[];
extern const char SHOP_INV_SQL_ORDERS_UPDATE[];
extern const char SHOP_INV_SQL_RESERVATIONS_INSERT[];
extern const char SHOP_INV_SQL_RESERVATIONS_UPDATE[];
extern const char SHOP_INV_SQL_REFUSED_INSERT[];
extern const char SHOP_INV_SQL_OUTBOX_INSERT[];
extern const char SHOP_INV_SQL_RELAY_LOCK[];
extern const char SHOP_INV_SQL_OUTBOX_READ[];
extern const char SHOP_INV_SQL_OUTBOX_DELETE[];
/** $1 the cap: the rows waiting, counted up to the cap (the outbox depth metric). */
extern const char SHOP_INV_SQL_OUTBOX_COUNT[];

#endif
