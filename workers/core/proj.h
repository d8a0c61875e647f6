/* SPDX-License-Identifier: MIT
 * The projector's pure core: turns one batch of decoded events into a plan, a
 * short list of fixed SQL statements whose parameters are PostgreSQL array
 * literals, to be run in one transaction by the shell. Nothing here runs SQL.
 *
 * Per batch the shell does:
 *   1. shop_proj_mark_unapplied  -> which records are new (first occurrence of each id)
 *      shop_proj_build_applied_insert -> insert their ids into applied_events; should the
 *                                  key refuse one (applied before), roll back and use
 *      shop_proj_build_dedup     -> which of the batch's ids applied_events already holds,
 *                                  then mark_unapplied with those and insert again
 *   2. shop_proj_build_order_read-> status and lines of the orders the new events touch
 *      shop_proj_fold_known_order for each row it returned
 *   3. shop_proj_fold_event      for each new event, in batch order
 *      shop_proj_fold_offset     for each partition of the batch
 *   4. shop_proj_plan_build      -> the statements, offsets last; then COMMIT.
 * The fold semantics are written down in docs/projections.md.
 */
#ifndef SHOP_PROJ_H
#define SHOP_PROJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/shop_arena.h"
#include "base/shop_err.h"
#include "shopstream/v1/events.pb-c.h"
#include "workers/core/strmap.h"

#define SHOP_SQL_PARAMS_MAX 12
#define SHOP_PLAN_STMTS_MAX 16

/** One statement: fixed SQL text and text-format parameters (array literals in the arena).
 *  A COPY ... FROM STDIN statement has no parameters and carries its rows in copy_data. */
struct shop_sql_stmt {
    const char *name;   /* short label for logs and tests, e.g. "cart_add" */
    const char *sql;
    int n_params;
    const char *params[SHOP_SQL_PARAMS_MAX];
    const char *copy_data;   /* COPY text-format rows, or NULL for a plain statement */
    size_t copy_len;
};

struct shop_plan {
    int n;
    struct shop_sql_stmt stmts[SHOP_PLAN_STMTS_MAX];
};

/** One consumed record. ev is NULL for a record that went to the dead-letter topic. */
struct shop_proj_record {
    const Shopstream__V1__Event *ev;
    const char *topic;
    int32_t partition;
    int64_t offset;
};

/** Outcome of folding one event. */
enum shop_proj_outcome {
    SHOP_PROJ_APPLIED = 0,
    SHOP_PROJ_NO_PROJECTION,   /* e.g. browse.search_performed: nothing to project */
    SHOP_PROJ_REJECTED,        /* an order transition the state machine forbids */
    SHOP_PROJ_ORPHAN,          /* an order event for an order that was never placed */
    SHOP_PROJ_DUPLICATE_ORDER, /* order.placed for an order id that already exists */
    SHOP_PROJ_OVERFLOW         /* a stock or purchases sum would leave int64: the fold is
                                * unchanged and the record goes to the dead-letter topic */
};

struct shop_proj_stats {
    size_t applied, no_projection, rejected, orphan, duplicate_order, overflow;
};

/** Order statuses, in the order the happy path visits them. */
enum shop_order_status {
    SHOP_ORDER_NONE = 0,
    SHOP_ORDER_PLACED,
    SHOP_ORDER_PAID,
    SHOP_ORDER_SHIPPED,
    SHOP_ORDER_DELIVERED,
    SHOP_ORDER_CANCELLED
};

const char *shop_order_status_name(enum shop_order_status s);
/** Inverse of shop_order_status_name; SHOP_ORDER_NONE when unknown. */
enum shop_order_status shop_order_status_parse(const char *s);
/** Whether an order in status from may move to status to: forward along
 *  placed -> paid -> shipped -> delivered (skipping allowed), cancelled from placed or
 *  paid only; never backwards, never out of delivered or cancelled. */
bool shop_order_transition_ok(enum shop_order_status from, enum shop_order_status to);

/** Statement 1a: inserts the ids of the records marked in is_new into applied_events for
 *  projector group (a plain insert: the primary key fails it if any id was applied
 *  before, or by another transaction meanwhile; the batch is then redone with 1b).
 *  Returns the number of ids; 0 means there is nothing to run. */
size_t shop_proj_build_applied_insert(const char *group, const struct shop_proj_record *recs, const bool *is_new,
                                      size_t n, struct shop_arena *arena, struct shop_sql_stmt *out);

/** Statement 1b: reads which of the batch's event ids (first occurrence of each; DLQ
 *  records skipped) applied_events already holds for projector group.
 *  Returns the number of ids; 0 means there is nothing to run. */
size_t shop_proj_build_dedup(const char *group, const struct shop_proj_record *recs, size_t n,
                             struct shop_arena *arena, struct shop_sql_stmt *out);

/** Sets is_new[i] for the first record carrying each id that is not among applied_ids
 *  (none before 1a; as 1b returned them before a retry); DLQ records are never new.
 *  Returns how many are new. */
size_t shop_proj_mark_unapplied(const struct shop_proj_record *recs, size_t n, const char *const *applied_ids,
                                size_t n_applied, struct shop_arena *arena, bool *is_new);

/** Statement 2: reads (order_id, status, product_id, quantity) of the existing orders
 *  that new order events name, locking the order rows. Returns the number of order
 *  ids; 0 means there is nothing to read. */
size_t shop_proj_build_order_read(const struct shop_proj_record *recs, const bool *is_new, size_t n,
                                  struct shop_arena *arena, struct shop_sql_stmt *out);

struct shop_proj_fold;

/** A fold living in arena, its maps hashing with the all-zero seed (tests, benches). */
struct shop_proj_fold *shop_proj_fold_new(struct shop_arena *arena);
/** A fold whose maps, keyed by client-chosen ids, hash with seed (see strmap.h). */
struct shop_proj_fold *shop_proj_fold_new_seeded(struct shop_arena *arena, struct shop_hash_seed seed);

/** Feeds one row of the order read; product_id is NULL for an order without lines.
 *  Strings are copied into the arena. */
void shop_proj_fold_known_order(struct shop_proj_fold *f, const char *order_id, const char *status,
                                const char *product_id, int64_t quantity);

/** Folds one new, validated event. ev must outlive the plan. Sums are checked: an
 *  event whose stock or purchases effect would overflow int64 changes nothing and
 *  returns SHOP_PROJ_OVERFLOW (the caller dead-letters it). */
enum shop_proj_outcome shop_proj_fold_event(struct shop_proj_fold *f, const Shopstream__V1__Event *ev);

/** Records that partition (topic, partition) was consumed up to next_offset (exclusive).
 *  The highest value per partition wins. topic must outlive the plan. */
void shop_proj_fold_offset(struct shop_proj_fold *f, const char *topic, int32_t partition,
                           int64_t next_offset);

const struct shop_proj_stats *shop_proj_fold_stats(const struct shop_proj_fold *f);

/** Appends the effect statements and, last, the consumer_offsets upsert to plan.
 *  Statements with nothing to do are left out. now_ms stamps consumer_offsets. */
int shop_proj_plan_build(const struct shop_proj_fold *f, const char *group, int64_t now_ms,
                         struct shop_plan *plan, struct shop_err *err);

/* The fixed SQL texts, exported so tests can name them. */
extern const char SHOP_PROJ_SQL_DEDUP[];
extern const char SHOP_PROJ_SQL_APPLIED_INSERT[];
extern const char SHOP_PROJ_SQL_ORDER_READ[];
extern const char SHOP_PROJ_SQL_PRODUCTS_UPSERT[];
extern const char SHOP_PROJ_SQL_CART_CLEAR[];
extern const char SHOP_PROJ_SQL_CART_DELETE[];
extern const char SHOP_PROJ_SQL_CART_SET[];
extern const char SHOP_PROJ_SQL_CART_ADD[];
extern const char SHOP_PROJ_SQL_CARTS_TOUCH[];
extern const char SHOP_PROJ_SQL_ORDERS_INSERT[];
extern const char SHOP_PROJ_SQL_ORDER_LINES_COPY[];
extern const char SHOP_PROJ_SQL_ORDERS_UPDATE[];
extern const char SHOP_PROJ_SQL_ORDER_HISTORY[];
extern const char SHOP_PROJ_SQL_OFFSETS[];
extern const char SHOP_PROJ_SQL_OFFSETS_READ[];

#endif
