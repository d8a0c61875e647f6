/* SPDX-License-Identifier: MIT
 * The projector's pure core: turns one batch of decoded events into a plan, a
 * short list of fixed SQL statements whose parameters are PostgreSQL array
 * literals, to be run in one transaction by the shell. Nothing here runs SQL.
 *
 * Per batch the shell does:
 *   1. shop_proj_mark_unapplied  -> the candidates (first occurrence of each id)
 *      shop_proj_build_applied_insert -> look them up within the dedup window, insert the
 *                                  rest into applied_events, return the ones found; then
 *                                  mark_unapplied with those. Should the key refuse one
 *                                  (a copy in the same bucket), roll back, redo with
 *                                  probe_own.
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
#include "workers/core/order_life.h"
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

/** Whether an order in status from may move to status to: forward along
 *  placed -> paid -> shipped -> delivered (skipping allowed), cancelled from placed or
 *  paid only; never backwards, never out of delivered or cancelled. */
bool shop_order_transition_ok(enum shop_order_status from, enum shop_order_status to);

/** The dedup window (docs/projections.md, "Dedup window"). */
struct shop_proj_dedup {
    const char *projector;   /* applied_events.projector: the group's applied_projectors.id, as text */
    int64_t bucket_ms;       /* applied_events_layout.bucket_ms: width of one partition */
    int64_t window_ms;       /* retries received this close to the first copy are applied once */
    bool probe_own;          /* also look the ids up in the batch's own bucket (after a key conflict) */
};

/** How much earlier than its first copy a retry may have been received (clock skew
 *  between edge replicas) and still be found: 5 minutes, as the validator's skew. */
#define SHOP_PROJ_DEDUP_SKEW_MS INT64_C(300000)

/** received_at_ms / bucket_ms, the partition key of applied_events (kept below INT32_MAX). */
int32_t shop_proj_bucket(int64_t received_at_ms, int64_t bucket_ms);

/** Statement 1: looks up the ids of the records marked in is_new in every bucket from
 *  window_ms before their receipt times to SHOP_PROJ_DEDUP_SKEW_MS (at most window_ms)
 *  after them (but the batch's own bucket unless
 *  probe_own, where the key decides), inserts those it does not find with their
 *  buckets, and returns the ids it found (applied before). A copy in the own bucket
 *  fails it with a unique violation; the batch is then redone with probe_own.
 *  Returns the number of ids; 0 means there is nothing to run. */
size_t shop_proj_build_applied_insert(const struct shop_proj_dedup *d, const struct shop_proj_record *recs,
                                      const bool *is_new, size_t n, struct shop_arena *arena,
                                      struct shop_sql_stmt *out);

/** Which applied_events partitions a projector keeps, from mark_ms (the newest receipt
 *  time it applied) and now_ms (its clock, which caps mark_ms): buckets from..to must
 *  exist, buckets before drop_before are dropped. A retry received up to grace_ms
 *  before mark and within window_ms of its first copy still finds it. */
struct shop_proj_dedup_span {
    int32_t from, to, drop_before;
};
void shop_proj_dedup_span(int64_t mark_ms, int64_t now_ms, int64_t bucket_ms, int64_t window_ms,
                          int64_t grace_ms, struct shop_proj_dedup_span *out);

/** Sets is_new[i] for the first record carrying each id that is not among applied_ids
 *  (none for the candidates; then as statement 1 returned them); DLQ records are never new.
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
extern const char SHOP_PROJ_SQL_APPLIED_INSERT[];
extern const char SHOP_PROJ_SQL_DEDUP_MAINTAIN[];
extern const char SHOP_PROJ_SQL_DEDUP_LAYOUT[];
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
